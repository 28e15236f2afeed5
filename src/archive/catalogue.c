/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue: every distinct value of the archive, stored on disk. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "archive/archive_priv.h"
#include "archive/catalogue.h"
#include "archive/codec.h"

/*
 * The catalogue is a pure function of the segments it covers (listed in
 * it): each value's count, first and last time are those of the union of
 * the segments' own value tables. A sealed segment is folded in by one
 * streaming merge of the old file with the segment's values, sorted; a
 * dropped segment makes it be rebuilt from the segments left, since a
 * first or last time cannot be taken back by subtraction. See
 * docs/archive.md, "The catalogue".
 */

#define CAT_FILE     "catalogue"
#define CAT_TMP      "tmp-catalogue"
#define ZSTD_LEVEL   1
#define BLOCK_RAW    ((size_t)256 << 10) /* a block is closed past this */
#define BLOCK_TEXT   ((size_t)16 << 20)
#define BATCH_VALUES ((size_t)4 << 20) /* values sorted at once in a rebuild */

/* ---- bytes ----------------------------------------------------------------- */

struct vec {
    uint8_t *p;
    size_t len, cap;
};

static int vec_reserve(struct vec *v, size_t more)
{
    if (v->cap - v->len >= more)
        return 0;
    size_t cap = v->cap ? v->cap : 4096;
    while (cap - v->len < more) {
        if (cap > SIZE_MAX / 2)
            return CAIRN_ENOMEM;
        cap *= 2;
    }
    uint8_t *p = cairn_realloc(v->p, cap);
    if (p == NULL)
        return CAIRN_ENOMEM;
    v->p = p;
    v->cap = cap;
    return 0;
}

/* Room for 10 bytes must have been reserved. */
static void put_varint(struct vec *v, uint64_t x)
{
    v->len = (size_t)(put_varint_at(v->p + v->len, x) - v->p);
}

static int damaged(char *why, size_t why_len, const char *what)
{
    snprintf(why, why_len, "%s", what);
    return CAIRN_EPARSE;
}

/* ---- keys ------------------------------------------------------------------ */

void cairn__cat_key(uint8_t type, const char *v, size_t len, char *out)
{
    if (len == 0)
        return;
    if (type != CAIRN_IOC_DOMAIN) {
        if (len > 0)
            memcpy(out, v, len);
        return;
    }
    /* the labels in reverse order: its own inverse */
    size_t end = len, o = 0;
    for (;;) {
        size_t start = end;
        while (start > 0 && v[start - 1] != '.')
            start--;
        memcpy(out + o, v + start, end - start);
        o += end - start;
        if (start == 0)
            break;
        out[o++] = '.';
        end = start - 1;
    }
}

static int key_cmp(uint8_t ta, const char *a, size_t la, uint8_t tb,
                   const char *b, size_t lb)
{
    if (ta != tb)
        return ta < tb ? -1 : 1;
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c != 0)
        return c;
    return la < lb ? -1 : la > lb;
}

/* ---- reading ----------------------------------------------------------------- */

void cairn__cat_close(struct cat_file *f)
{
    if (f == NULL)
        return;
    cairn_free(f->blocks);
    cairn_free(f->segs);
    memset(f, 0, sizeof *f);
}

int cairn__cat_open(const uint8_t *data, size_t len, struct cat_file *f,
                    char *why, size_t why_len)
{
    memset(f, 0, sizeof *f);
    if (len < CAT_HEADER_LEN + CAT_FOOTER_LEN ||
        memcmp(data, CAT_MAGIC, 8) != 0)
        return damaged(why, why_len, "not a catalogue (bad header)");
    if (get_u32(data + 8) != CAT_VERSION)
        return damaged(why, why_len, "a catalogue of an unknown version");
    const uint8_t *ft = data + len - CAT_FOOTER_LEN;
    if (memcmp(ft, CAT_FOOT_MAGIC, 8) != 0 || get_u32(ft + 8) != CAT_VERSION)
        return damaged(why, why_len, "footer missing (a torn catalogue)");
    if (get_u32(ft + 12) != cairn__seg_crc(ft + 16, CAT_FOOTER_LEN - 16))
        return damaged(why, why_len, "footer checksum mismatch");
    uint64_t values = get_u64(ft + 16), moff = get_u64(ft + 24),
             mlen = get_u64(ft + 32);
    uint32_t mcrc = get_u32(ft + 40);
    uint64_t body_end = len - CAT_FOOTER_LEN;
    if (moff < CAT_HEADER_LEN || moff > body_end || mlen > body_end - moff)
        return damaged(why, why_len, "meta section out of the file");
    if (cairn__seg_crc(data + moff, mlen) != mcrc)
        return damaged(why, why_len, "meta section checksum mismatch");
    struct cur c = {data + moff, data + moff + mlen, false};
    uint64_t nb = get_varint(&c);
    /* each block takes at least 8 bytes of meta */
    if (c.bad || nb > mlen / 8 + 1)
        return damaged(why, why_len, "meta section: bad block count");
    f->blocks = cairn_calloc(nb + 1, sizeof *f->blocks);
    if (f->blocks == NULL)
        return CAIRN_ENOMEM;
    uint64_t total = 0, at = CAT_HEADER_LEN;
    for (uint64_t i = 0; i < nb; i++) {
        struct cat_block *b = &f->blocks[i];
        b->off = at;
        b->len = get_varint(&c);
        b->raw_len = get_varint(&c);
        uint64_t n = get_varint(&c);
        const uint8_t *crc = get_bytes(&c, 4);
        b->type = get_byte(&c);
        uint64_t kl = get_varint(&c);
        b->key = get_bytes(&c, kl);
        if (c.bad || b->len > moff - at || b->raw_len > CAT_MAX_RAW ||
            n == 0 || n > CAT_BLOCK_VALUES || kl > CAT_MAX_KEY ||
            b->type >= CAIRN_IOC_TYPE_COUNT) {
            cairn__cat_close(f);
            return damaged(why, why_len, "meta section: bad block entry");
        }
        b->crc = get_u32(crc);
        b->n = (uint32_t)n;
        b->key_len = (uint32_t)kl;
        if (i > 0 && key_cmp(f->blocks[i - 1].type,
                             (const char *)f->blocks[i - 1].key,
                             f->blocks[i - 1].key_len, b->type,
                             (const char *)b->key, b->key_len) >= 0) {
            cairn__cat_close(f);
            return damaged(why, why_len, "meta section: blocks out of order");
        }
        at += b->len;
        total += n;
    }
    if (at != moff || total != values) {
        cairn__cat_close(f);
        return damaged(why, why_len, "meta section: blocks do not add up");
    }
    uint64_t ns = get_varint(&c);
    if (c.bad || ns > mlen) {
        cairn__cat_close(f);
        return damaged(why, why_len, "meta section: bad segment count");
    }
    f->segs = cairn_calloc(ns + 1, sizeof *f->segs);
    if (f->segs == NULL) {
        cairn__cat_close(f);
        return CAIRN_ENOMEM;
    }
    uint64_t prev = 0;
    for (uint64_t i = 0; i < ns; i++) {
        uint64_t d = get_varint(&c);
        if (c.bad || (i > 0 && d == 0) || d > UINT64_MAX - prev) {
            cairn__cat_close(f);
            return damaged(why, why_len, "meta section: bad segment list");
        }
        prev += d;
        f->segs[i] = prev;
    }
    if (c.p != c.end) {
        cairn__cat_close(f);
        return damaged(why, why_len, "meta section: trailing bytes");
    }
    f->data = data;
    f->len = len;
    f->values = values;
    f->n_blocks = nb;
    f->n_segs = ns;
    return 0;
}

void cairn__cat_recs_free(struct cat_recs *r)
{
    if (r == NULL)
        return;
    cairn_free(r->v);
    cairn_free(r->text);
    cairn_free(r->raw);
    memset(r, 0, sizeof *r);
}

static int grow_to(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = cairn_realloc(*p, c * size);
    if (q == NULL)
        return CAIRN_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}


int cairn__cat_block(const struct cat_file *f, uint64_t bi,
                     struct cat_recs *out, char *why, size_t why_len)
{
    const struct cat_block *b;
    int rc;

    out->n = 0;
    if (bi >= f->n_blocks)
        return damaged(why, why_len, "no such block");
    b = &f->blocks[bi];
    if (cairn__seg_crc(f->data + b->off, b->len) != b->crc)
        return damaged(why, why_len, "a block's checksum mismatch");
    rc = grow_to((void **)&out->raw, &out->raw_cap, b->raw_len + 1, 1);
    if (rc < 0)
        return rc;
    size_t got = ZSTD_decompress(out->raw, b->raw_len, f->data + b->off,
                                 b->len);
    if (ZSTD_isError(got) || got != b->raw_len)
        return damaged(why, why_len, "a block does not decompress");
    rc = grow_to((void **)&out->v, &out->cap, b->n, sizeof *out->v);
    if (rc < 0)
        return rc;
    struct cur c = {out->raw, out->raw + b->raw_len, false};
    size_t text = 0, prev_off = 0, prev_len = 0;
    uint8_t prev_type = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct cat_ent *e = &out->v[i];
        memset(e, 0, sizeof *e);
        e->type = get_byte(&c);
        uint64_t shared = get_varint(&c);
        uint64_t sl = get_varint(&c);
        const uint8_t *s = get_bytes(&c, sl);
        if (c.bad || e->type >= CAIRN_IOC_TYPE_COUNT || shared > prev_len ||
            sl > CAT_MAX_KEY || shared + sl > CAT_MAX_KEY ||
            text + shared + sl > CAT_MAX_TEXT)
            return damaged(why, why_len, "a block's record is malformed");
        rc = grow_to((void **)&out->text, &out->text_cap, text + shared + sl + 1,
                     1);
        if (rc < 0)
            return rc;
        if (shared > 0)
            memmove(out->text + text, out->text + prev_off, shared);
        if (sl > 0)
            memcpy(out->text + text + shared, s, sl);
        e->off = text;
        e->len = (uint32_t)(shared + sl);
        text += e->len;
        e->count = get_varint(&c);
        uint8_t flags = get_byte(&c);
        e->has_ts = flags & 1;
        if (e->has_ts) {
            e->first = unzz(get_varint(&c));
            uint64_t d = get_varint(&c);
            e->last = (int64_t)((uint64_t)e->first + d);
            if (e->last < e->first)
                c.bad = true;
        }
        e->seg_lo = get_varint(&c);
        uint64_t span = get_varint(&c);
        e->seg_hi = e->seg_lo + span;
        if (c.bad || flags > 1 || e->count == 0 || span > UINT64_MAX - e->seg_lo)
            return damaged(why, why_len, "a block's record is malformed");
        const char *k = out->text + e->off;
        if (i == 0 ? key_cmp(e->type, k, e->len, b->type,
                             (const char *)b->key, b->key_len) != 0
                   : key_cmp(prev_type, out->text + prev_off, prev_len,
                             e->type, k, e->len) >= 0)
            return damaged(why, why_len, "a block's records are out of order");
        prev_type = e->type;
        prev_off = e->off;
        prev_len = e->len;
        out->n = i + 1;
    }
    if (c.p != c.end) {
        out->n = 0;
        return damaged(why, why_len, "a block has trailing bytes");
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------- */

struct cat_writer {
    int fd;
    ZSTD_CCtx *cctx;
    struct vec raw, meta, z;
    struct vec first;     /* the block's first key */
    uint8_t first_type;
    struct vec prev;      /* the last key written */
    uint8_t prev_type;
    bool any;
    uint32_t n;
    uint64_t off, values, n_blocks;
    size_t text;
};

static void writer_release(struct cat_writer *w)
{
    ZSTD_freeCCtx(w->cctx);
    cairn_free(w->raw.p);
    cairn_free(w->meta.p);
    cairn_free(w->z.p);
    cairn_free(w->first.p);
    cairn_free(w->prev.p);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

static int writer_init(struct cat_writer *w, int fd)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->cctx = ZSTD_createCCtx();
    if (w->cctx == NULL || vec_reserve(&w->meta, 16) < 0)
        return CAIRN_ENOMEM;
    uint8_t head[CAT_HEADER_LEN] = CAT_MAGIC;
    put_u32(head + 8, CAT_VERSION);
    put_u32(head + 12, 0);
    if (cairn__archive_write_all(fd, head, sizeof head) < 0)
        return CAIRN_EIO;
    w->off = CAT_HEADER_LEN;
    return 0;
}

static int flush_block(struct cat_writer *w)
{
    if (w->n == 0)
        return 0;
    size_t bound = ZSTD_compressBound(w->raw.len);
    w->z.len = 0;
    if (vec_reserve(&w->z, bound) < 0)
        return CAIRN_ENOMEM;
    size_t n = ZSTD_compressCCtx(w->cctx, w->z.p, bound, w->raw.p, w->raw.len,
                                 ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return CAIRN_ENOMEM;
    if (cairn__archive_write_all(w->fd, w->z.p, n) < 0)
        return CAIRN_EIO;
    if (vec_reserve(&w->meta, 50 + w->first.len) < 0)
        return CAIRN_ENOMEM;
    put_varint(&w->meta, n);
    put_varint(&w->meta, w->raw.len);
    put_varint(&w->meta, w->n);
    put_u32(w->meta.p + w->meta.len, cairn__seg_crc(w->z.p, n));
    w->meta.len += 4;
    w->meta.p[w->meta.len++] = w->first_type;
    put_varint(&w->meta, w->first.len);
    if (w->first.len > 0)
        memcpy(w->meta.p + w->meta.len, w->first.p, w->first.len);
    w->meta.len += w->first.len;
    w->off += n;
    w->n_blocks++;
    w->n = 0;
    w->raw.len = 0;
    w->text = 0;
    return 0;
}


/* Add one record; records come in key order, each key once. */
static int writer_add(struct cat_writer *w, const struct cat_ent *e,
                      const char *key)
{
    if (w->n > 0 && (w->n == CAT_BLOCK_VALUES || w->raw.len >= BLOCK_RAW ||
                     w->text + e->len > BLOCK_TEXT)) {
        int rc = flush_block(w);
        if (rc < 0)
            return rc;
    }
    size_t shared = 0;
    if (w->n == 0) {
        w->first.len = 0;
        if (vec_reserve(&w->first, (size_t)e->len + 1) < 0)
            return CAIRN_ENOMEM;
        if (e->len > 0)
            memcpy(w->first.p, key, e->len);
        w->first.len = e->len;
        w->first_type = e->type;
    } else if (w->prev_type == e->type) {
        size_t m = w->prev.len < e->len ? w->prev.len : e->len;
        while (shared < m && w->prev.p[shared] == (uint8_t)key[shared])
            shared++;
    }
    if (vec_reserve(&w->raw, (size_t)e->len + 96) < 0)
        return CAIRN_ENOMEM;
    w->raw.p[w->raw.len++] = e->type;
    put_varint(&w->raw, shared);
    put_varint(&w->raw, e->len - shared);
    memcpy(w->raw.p + w->raw.len, key + shared, e->len - shared);
    w->raw.len += e->len - shared;
    put_varint(&w->raw, e->count);
    w->raw.p[w->raw.len++] = e->has_ts ? 1 : 0;
    if (e->has_ts) {
        put_varint(&w->raw, zz(e->first));
        put_varint(&w->raw, (uint64_t)e->last - (uint64_t)e->first);
    }
    put_varint(&w->raw, e->seg_lo);
    put_varint(&w->raw, e->seg_hi - e->seg_lo);
    w->prev.len = 0;
    if (vec_reserve(&w->prev, (size_t)e->len + 1) < 0)
        return CAIRN_ENOMEM;
    if (e->len > 0)
        memcpy(w->prev.p, key, e->len);
    w->prev.len = e->len;
    w->prev_type = e->type;
    w->text += e->len;
    w->n++;
    w->values++;
    return 0;
}

/* The meta and the footer; then the file is complete (not yet synced). */
static int writer_finish(struct cat_writer *w, const uint64_t *segs,
                         size_t n_segs)
{
    int rc = flush_block(w);
    if (rc < 0)
        return rc;
    /* the block count goes first: the meta is rebuilt in front of it */
    struct vec m = {0};
    if (vec_reserve(&m, 10 + w->meta.len + 10 * (n_segs + 1)) < 0)
        return CAIRN_ENOMEM;
    put_varint(&m, w->n_blocks);
    memcpy(m.p + m.len, w->meta.p, w->meta.len);
    m.len += w->meta.len;
    put_varint(&m, n_segs);
    for (size_t i = 0; i < n_segs; i++)
        put_varint(&m, segs[i] - (i > 0 ? segs[i - 1] : 0));
    uint8_t ft[CAT_FOOTER_LEN] = CAT_FOOT_MAGIC;
    put_u32(ft + 8, CAT_VERSION);
    put_u64(ft + 16, w->values);
    put_u64(ft + 24, w->off);
    put_u64(ft + 32, m.len);
    put_u32(ft + 40, cairn__seg_crc(m.p, m.len));
    put_u32(ft + 44, 0);
    put_u32(ft + 12, cairn__seg_crc(ft + 16, CAT_FOOTER_LEN - 16));
    rc = cairn__archive_write_all(w->fd, m.p, m.len) < 0 ||
                 cairn__archive_write_all(w->fd, ft, sizeof ft) < 0
             ? CAIRN_EIO
             : 0;
    cairn_free(m.p);
    return rc;
}

/* ---- values to add: from segments, sorted ------------------------------------ */

struct ents {
    struct cat_ent *v;
    size_t n, cap;
    char *text;
    size_t text_len, text_cap;
};

static void ents_free(struct ents *e)
{
    cairn_free(e->v);
    cairn_free(e->text);
    memset(e, 0, sizeof *e);
}

static _Thread_local const char *sort_text;

static int cmp_ent(const void *x, const void *y)
{
    const struct cat_ent *a = x, *b = y;
    return key_cmp(a->type, sort_text + a->off, a->len, b->type,
                   sort_text + b->off, b->len);
}

static void merge_into(struct cat_ent *d, const struct cat_ent *s)
{
    d->count += s->count;
    if (s->has_ts) {
        if (!d->has_ts || s->first < d->first)
            d->first = s->first;
        if (!d->has_ts || s->last > d->last)
            d->last = s->last;
        d->has_ts = true;
    }
    if (s->seg_lo < d->seg_lo)
        d->seg_lo = s->seg_lo;
    if (s->seg_hi > d->seg_hi)
        d->seg_hi = s->seg_hi;
}

/* A record's type and first 7 key bytes, in an order consistent with
 * key_cmp (zero bytes pad a short key: it sorts first, as in key_cmp). */
struct skey {
    uint64_t pre;
    uint32_t idx, pad;
};

static _Thread_local const struct cat_ent *sort_v;

static int cmp_skey(const void *x, const void *y)
{
    const struct skey *a = x, *b = y;
    if (a->pre != b->pre)
        return a->pre < b->pre ? -1 : 1;
    return cmp_ent(&sort_v[a->idx], &sort_v[b->idx]);
}

static void radix(struct skey **k, struct skey **t, size_t n)
{
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[(((*k)[i].pre >> shift) & 0xff) + 1]++;
        if (cnt[(((*k)[0].pre >> shift) & 0xff) + 1] == n)
            continue; /* one byte value throughout */
        for (int b = 0; b < 256; b++)
            cnt[b + 1] += cnt[b];
        for (size_t i = 0; i < n; i++)
            (*t)[cnt[((*k)[i].pre >> shift) & 0xff]++] = (*k)[i];
        struct skey *sw = *k;
        *k = *t;
        *t = sw;
    }
}

/* Key bytes [at, at + 8) of record i, zero-padded, big-endian. */
static uint64_t key_word(const struct cat_ent *x, const char *text, size_t at)
{
    const uint8_t *p = (const uint8_t *)text + x->off;
    uint64_t w = 0;
    for (unsigned b = 0; b < 8; b++)
        w |= (uint64_t)(at + b < x->len ? p[at + b] : 0) << (56 - 8 * b);
    return w;
}

/* `k` is sorted by its prefixes; order the runs of equal ones by the next
 * 8 key bytes (a radix sort again), 8 times at most, then by key. */
static void sort_ties(struct skey *k, struct skey *t, size_t n, unsigned depth)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].pre == k[i].pre)
            j++;
        size_t m = j - i;
        if (m > 1 && (m < 32 || depth >= 8)) {
            qsort(k + i, m, sizeof *k, cmp_skey);
        } else if (m > 1) {
            for (size_t x = i; x < j; x++)
                k[x].pre = key_word(&sort_v[k[x].idx], sort_text,
                                    7 + 8 * (size_t)depth);
            struct skey *kk = k + i, *tt = t + i;
            radix(&kk, &tt, m);
            if (kk != k + i)
                memcpy(k + i, kk, m * sizeof *k);
            sort_ties(k + i, t + i, m, depth + 1);
        }
        i = j;
    }
}

/* Sort (a radix sort of the prefixes, then the ties by key), and merge
 * the records of one key. */
static int ents_sort(struct ents *e)
{
    struct skey *k = NULL, *t = NULL;
    struct cat_ent *v = NULL;
    size_t n = e->n;

    if (n == 0)
        return 0;
    k = cairn_malloc(n * sizeof *k);
    t = cairn_malloc(n * sizeof *t);
    v = cairn_malloc(n * sizeof *v);
    if (k == NULL || t == NULL || v == NULL) {
        cairn_free(k);
        cairn_free(t);
        cairn_free(v);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cat_ent *x = &e->v[i];
        const uint8_t *p = (const uint8_t *)e->text + x->off;
        uint64_t pre = (uint64_t)x->type << 56;
        for (unsigned b = 0; b < 7 && b < x->len; b++)
            pre |= (uint64_t)p[b] << (48 - 8 * b);
        k[i] = (struct skey){pre, (uint32_t)i, 0};
    }
    radix(&k, &t, n);
    sort_text = e->text;
    sort_v = e->v;
    sort_ties(k, t, n, 0);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cat_ent *x = &e->v[k[i].idx];
        const struct cat_ent *y = m > 0 ? &v[m - 1] : NULL;
        if (y != NULL && y->type == x->type && y->len == x->len &&
            memcmp(e->text + y->off, e->text + x->off, x->len) == 0)
            merge_into(&v[m - 1], x);
        else
            v[m++] = *x;
    }
    cairn_free(e->v);
    e->v = v;
    e->n = m;
    e->cap = n;
    cairn_free(k);
    cairn_free(t);
    return 0;
}

static int ents_push(struct ents *e, uint8_t type, const char *v, uint32_t l,
                     const struct seg_posting *p, uint64_t seq)
{
    if (l > CAT_MAX_KEY || p->count == 0)
        return 0; /* never written so: not a value of the catalogue */
    if (grow_to((void **)&e->v, &e->cap, e->n + 1, sizeof *e->v) < 0 ||
        grow_to((void **)&e->text, &e->text_cap, e->text_len + l + 1, 1) < 0)
        return CAIRN_ENOMEM;
    cairn__cat_key(type, v, l, e->text + e->text_len);
    /* times in whole seconds (as printed): first and last rounded down */
    struct cairn_time last = p->last;
    if (p->has_ts && cairn_time_cmp(&last, &p->first) < 0)
        last = p->first; /* never written so; kept readable */
    e->v[e->n++] = (struct cat_ent){
        .off = e->text_len,
        .len = l,
        .type = type,
        .has_ts = p->has_ts,
        .count = p->count,
        .first = p->has_ts ? p->first.sec : 0,
        .last = p->has_ts ? last.sec : 0,
        .seg_lo = seq,
        .seg_hi = seq,
    };
    e->text_len += l;
    return 0;
}

/* The values of one segment (from its own table), appended to `e`. */
static int ents_add_segment(struct ents *e, const uint8_t *data, size_t len,
                            uint64_t seq, char *why, size_t why_len)
{
    struct seg_reader r;
    struct seg_posting p;
    int rc = cairn__seg_open(data, len, &r, why, why_len);
    if (rc < 0)
        return rc;
    if (grow_to((void **)&e->v, &e->cap, e->n + r.foot.values + 1,
                sizeof *e->v) < 0) {
        cairn__seg_close(&r);
        return CAIRN_ENOMEM;
    }
    if (r.foot.version >= 2) {
        /* chunk by chunk, nothing copied but the keys */
        uint64_t n = cairn__seg_chunks(&r);
        for (uint64_t k = 0; k < n && rc == 0; k++) {
            struct seg_chunk c;
            rc = cairn__seg_chunk(&r, k, &c, why, why_len);
            for (uint32_t i = 0; rc == 0 && i < c.n; i++) {
                if (cairn__seg_chunk_posting(&c, i, &p) < 0)
                    rc = damaged(why, why_len,
                                 "a value's postings are unreadable");
                else
                    rc = ents_push(e, c.types[i],
                                   (const char *)c.raw + c.offs[i], c.lens[i],
                                   &p, seq);
            }
            cairn__seg_chunk_free(&c); /* zeroed on a failure */
        }
        cairn__seg_close(&r);
        return rc;
    }
    struct seg_values v;
    rc = cairn__seg_values(&r, true, &v, why, why_len);
    if (rc < 0) {
        cairn__seg_close(&r);
        return rc;
    }
    for (uint64_t i = 0; i < v.n && rc == 0; i++) {
        if (cairn__seg_posting(&v, i, &p) < 0)
            rc = damaged(why, why_len, "a value's postings are unreadable");
        else
            rc = ents_push(e, v.types[i], v.text + v.offs[i], v.lens[i], &p,
                           seq);
    }
    cairn__seg_values_free(&v);
    cairn__seg_close(&r);
    return rc;
}

/*
 * Write to `fd` the merge of `old` (may be NULL) with the sorted records
 * `add`, covering `segs`.
 */
static int fold(const struct cat_file *old, const struct ents *add,
                const uint64_t *segs, size_t n_segs, int fd, char *why,
                size_t why_len)
{
    struct cat_writer w;
    struct cat_recs r = {0};
    uint64_t b = 0;
    uint32_t i = 0;
    size_t k = 0;
    int rc = writer_init(&w, fd);

    if (rc < 0)
        goto out;
    for (;;) {
        if (old != NULL && i == r.n && b < old->n_blocks) {
            rc = cairn__cat_block(old, b++, &r, why, why_len);
            if (rc < 0)
                goto out;
            i = 0;
            continue;
        }
        const struct cat_ent *o = old != NULL && i < r.n ? &r.v[i] : NULL;
        const struct cat_ent *a = k < add->n ? &add->v[k] : NULL;
        if (o == NULL && a == NULL)
            break;
        int c = o == NULL   ? 1
                : a == NULL ? -1
                            : key_cmp(o->type, r.text + o->off, o->len,
                                      a->type, add->text + a->off, a->len);
        if (c < 0) {
            rc = writer_add(&w, o, r.text + o->off);
            i++;
        } else if (c > 0) {
            rc = writer_add(&w, a, add->text + a->off);
            k++;
        } else {
            struct cat_ent m = *o;
            merge_into(&m, a);
            rc = writer_add(&w, &m, r.text + o->off);
            i++;
            k++;
        }
        if (rc < 0)
            goto out;
    }
    rc = writer_finish(&w, segs, n_segs);
out:
    if (rc == CAIRN_EIO)
        snprintf(why, why_len, "cannot write: %s", strerror(errno));
    cairn__cat_recs_free(&r);
    writer_release(&w);
    return rc;
}

/* ---- the archive's catalogue ------------------------------------------------ */

/* A catalogue file mapped, shared by the hunts using it. */
struct arch_catalogue {
    unsigned refs;
    uint8_t *map;
    size_t len;
    struct cat_file f;
    uint64_t generation;
    bool exact; /* covers exactly the segments of that generation */
    bool own;   /* built for this process */
    char *last; /* the last lookup's value, for cairn_archive_lookup */
};

static void cat_unref(struct arch_catalogue *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    cairn__cat_close(&c->f);
    if (c->map != NULL)
        munmap(c->map, c->len);
    cairn_free(c->last);
    cairn_free(c);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cat_path(const struct cairn_archive *a, const char *name,
                     char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", a->dir, name);
}

/* Map an open file as a catalogue. */
static int map_fd(int fd, struct arch_catalogue **out, char *why,
                  size_t why_len)
{
    struct stat st;
    struct arch_catalogue *c;

    *out = NULL;
    if (fstat(fd, &st) < 0)
        return damaged(why, why_len, strerror(errno));
    if ((uint64_t)st.st_size < CAT_HEADER_LEN + CAT_FOOTER_LEN ||
        (uint64_t)st.st_size > SIZE_MAX / 2)
        return damaged(why, why_len, "too short to be a catalogue");
    c = cairn_calloc(1, sizeof *c);
    if (c == NULL)
        return CAIRN_ENOMEM;
    c->refs = 1;
    c->len = (size_t)st.st_size;
    void *p = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        cairn_free(c);
        return damaged(why, why_len, strerror(errno));
    }
    c->map = p;
    int rc = cairn__cat_open(c->map, c->len, &c->f, why, why_len);
    if (rc < 0) {
        cat_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int map_stored(struct cairn_archive *a, struct arch_catalogue **out,
                      char *why, size_t why_len)
{
    char path[PATH_MAX];
    cat_path(a, CAT_FILE, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        *out = NULL;
        return errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO;
    }
    int rc = map_fd(fd, out, why, why_len);
    close(fd);
    return rc;
}

/* The seqs of the segments that can be read, ascending. */
static int good_segs(const struct arch_seg *segs, size_t n, uint64_t **out,
                     size_t *n_out)
{
    *out = cairn_malloc((n + 1) * sizeof **out);
    *n_out = 0;
    if (*out == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!segs[i].bad)
            (*out)[(*n_out)++] = segs[i].seq;
    return 0;
}

static bool same_segs(const struct cat_file *f, const uint64_t *s, size_t n)
{
    return f->n_segs == n &&
           (n == 0 || memcmp(f->segs, s, n * sizeof *s) == 0);
}

/*
 * Build the catalogue of `segs` into `fd` (a file of the archive, or an
 * anonymous one): segments' values batch by batch, each batch sorted and
 * merged with what was built so far (in `scratch`, swapped with fd).
 * *covered gets the segments read.
 */
static int build_from(struct cairn_archive *a, const struct arch_seg *segs,
                      size_t n, int fd, int scratch, uint64_t *covered,
                      size_t *n_covered, int *out_fd)
{
    struct ents e = {0};
    struct arch_catalogue *prev = NULL;
    int cur = fd, other = scratch, rc = 0;
    bool written = false;
    char why[256];

    *n_covered = 0;
    for (size_t i = 0; i <= n && rc >= 0; i++) {
        if (i < n) {
            struct arch_map m;
            char path[PATH_MAX];
            if (segs[i].bad)
                continue;
            if (cairn__archive_map(a, &segs[i], &m, why, sizeof why) == 0) {
                rc = ents_add_segment(&e, m.data, m.len, segs[i].seq, why,
                                      sizeof why);
                cairn__archive_unmap(&m);
                if (rc == 0) {
                    covered[(*n_covered)++] = segs[i].seq;
                } else if (rc == CAIRN_EPARSE) {
                    cairn__archive_seg_path(a, segs[i].seq, path,
                                            sizeof path);
                    cairn__archive_say(a, CAIRN_SEV_WARNING,
                                       "%s: %s; left out of the catalogue "
                                       "(see cairn archive check)",
                                       path, why);
                    rc = 0;
                }
            }
            if (rc < 0 || (e.n < BATCH_VALUES && i + 1 < n))
                continue;
        } else if (written && e.n == 0) {
            break;
        }
        /* a batch: merged with what was built */
        rc = ents_sort(&e);
        if (rc < 0)
            break;
        if (ftruncate(other, 0) < 0 || lseek(other, 0, SEEK_SET) < 0) {
            rc = CAIRN_EIO;
            break;
        }
        rc = fold(prev != NULL ? &prev->f : NULL, &e, covered, *n_covered,
                  other, why, sizeof why);
        cat_unref(prev);
        prev = NULL;
        if (rc < 0)
            break;
        written = true;
        e.n = 0;
        e.text_len = 0;
        int t = cur;
        cur = other;
        other = t;
        if (i < n) {
            rc = map_fd(cur, &prev, why, sizeof why);
            if (rc < 0)
                break;
        }
    }
    cat_unref(prev);
    ents_free(&e);
    *out_fd = cur;
    return rc;
}

/* An anonymous file for a catalogue built for this process alone. */
static int anon_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cairn-catalogue-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Make the file at `tmp` (open as fd) the archive's catalogue. */
static int install(struct cairn_archive *a, int fd, const char *tmp)
{
    char path[PATH_MAX];
    cat_path(a, CAT_FILE, path, sizeof path);
    if (fsync(fd) < 0 || rename(tmp, path) < 0 ||
        cairn__archive_fsync_dir(a->dir) < 0) {
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s: cannot write: %s; the catalogue is rebuilt "
                           "when the archive is next opened",
                           path, strerror(errno));
        unlink(tmp);
        return CAIRN_EIO;
    }
    return 0;
}

/* Forget the mapped catalogue (a new one was written). Under cat_mu. */
static void drop_cached(struct cairn_archive *a)
{
    cat_unref(a->cat);
    a->cat = NULL;
}

/* Rebuild the stored catalogue from every segment. Under add_mu. */
static int rebuild(struct cairn_archive *a)
{
    struct arch_seg *segs = NULL;
    uint64_t *covered = NULL;
    size_t n = 0, n_cov = 0;
    char tmp[PATH_MAX], tmp2[PATH_MAX];
    int fd = -1, fd2 = -1, out_fd = -1;
    int rc = cairn__archive_snapshot(a, &segs, &n);

    if (rc < 0)
        return rc;
    covered = cairn_malloc((n + 1) * sizeof *covered);
    if (covered == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    cat_path(a, CAT_TMP, tmp, sizeof tmp);
    cat_path(a, CAT_TMP "-2", tmp2, sizeof tmp2);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    fd2 = open(tmp2, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fd2 < 0) {
        rc = CAIRN_EIO;
        goto out;
    }
    rc = build_from(a, segs, n, fd, fd2, covered, &n_cov, &out_fd);
    if (rc == 0)
        rc = install(a, out_fd, out_fd == fd ? tmp : tmp2);
    pthread_mutex_lock(&a->cat_mu);
    drop_cached(a);
    pthread_mutex_unlock(&a->cat_mu);
out:
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    unlink(tmp);
    unlink(tmp2);
    cairn_free(covered);
    cairn_free(segs);
    return rc;
}

int cairn__archive_catalogue_open(struct cairn_archive *a)
{
    struct arch_catalogue *c = NULL;
    struct arch_seg *segs = NULL;
    uint64_t *good = NULL;
    size_t n = 0, n_good = 0;
    char why[256] = "", path[PATH_MAX];
    int rc;

    if (a->o.read_only)
        return 0;
    rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc == 0)
        rc = good_segs(segs, n, &good, &n_good);
    cairn_free(segs);
    if (rc < 0)
        return rc;
    rc = map_stored(a, &c, why, sizeof why);
    bool ok = rc == 0 && same_segs(&c->f, good, n_good);
    cat_unref(c);
    cairn_free(good);
    if (ok || (rc == CAIRN_ENOTFOUND && n_good == 0))
        return 0;
    cat_path(a, CAT_FILE, path, sizeof path);
    cairn__archive_say(a, CAIRN_SEV_WARNING,
                       "%s: %s; rebuilding it from the segments", path,
                       rc == CAIRN_ENOTFOUND ? "missing"
                       : rc < 0              ? why
                                             : "does not cover the segments "
                                               "of the journal (an "
                                               "interrupted add or prune)");
    rc = rebuild(a);
    return rc == CAIRN_ENOMEM ? rc : 0;
}

void cairn__archive_catalogue_sealed(struct cairn_archive *a, uint64_t seq,
                                     const uint8_t *data, size_t len)
{
    struct arch_catalogue *old = NULL;
    struct ents e = {0};
    uint64_t *segs = NULL;
    char why[256] = "", tmp[PATH_MAX], path[PATH_MAX];
    int fd = -1, rc;
    double t0 = cpu_now();

    cat_path(a, CAT_TMP, tmp, sizeof tmp);
    cat_path(a, CAT_FILE, path, sizeof path);
    rc = map_stored(a, &old, why, sizeof why);
    if (rc == CAIRN_ENOTFOUND) {
        /* the first segment; or the catalogue was lost: all of them */
        struct arch_seg *all = NULL;
        size_t n = 0;
        bool only = cairn__archive_snapshot(a, &all, &n) == 0 && n == 1;
        cairn_free(all);
        if (!only)
            goto rebuild;
        rc = 0;
    } else if (rc < 0) {
        goto rebuild;
    }
    size_t n_old = old != NULL ? old->f.n_segs : 0;
    if (n_old > 0 && old->f.segs[n_old - 1] >= seq)
        goto rebuild; /* a seq reused after a crash: start again */
    segs = cairn_malloc((n_old + 1) * sizeof *segs);
    rc = segs == NULL ? CAIRN_ENOMEM
                      : ents_add_segment(&e, data, len, seq, why, sizeof why);
    if (rc < 0)
        goto fail;
    if (n_old > 0)
        memcpy(segs, old->f.segs, n_old * sizeof *segs);
    segs[n_old] = seq;
    rc = ents_sort(&e);
    if (rc < 0)
        goto fail;
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, sizeof why, "%s", strerror(errno));
        rc = CAIRN_EIO;
        goto fail;
    }
    rc = fold(old != NULL ? &old->f : NULL, &e, segs, n_old + 1, fd, why,
              sizeof why);
    if (rc == CAIRN_EPARSE) {
        close(fd);
        fd = -1;
        goto rebuild; /* the old catalogue is damaged */
    }
    if (rc < 0)
        goto fail;
    rc = install(a, fd, tmp);
    goto done;
rebuild:
    if (why[0] != '\0')
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s: %s; rebuilding it from the segments", path,
                           why);
    cat_unref(old);
    old = NULL;
    rc = rebuild(a);
    goto done;
fail:
    cairn__archive_say(a, CAIRN_SEV_WARNING,
                       "%s: not updated (%s); it is rebuilt when the archive "
                       "is next opened",
                       path, why[0] ? why : cairn_strerror(rc));
    unlink(tmp);
done:
    if (fd >= 0)
        close(fd);
    cat_unref(old);
    ents_free(&e);
    cairn_free(segs);
    pthread_mutex_lock(&a->cat_mu);
    drop_cached(a);
    a->cat_cpu += cpu_now() - t0;
    pthread_mutex_unlock(&a->cat_mu);
}

void cairn__archive_catalogue_dropped(struct cairn_archive *a)
{
    double t0 = cpu_now();
    int rc = rebuild(a);
    if (rc < 0 && rc != CAIRN_EIO)
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s/" CAT_FILE ": not rebuilt after a drop (%s); "
                           "it is rebuilt when the archive is next opened",
                           a->dir, cairn_strerror(rc));
    pthread_mutex_lock(&a->cat_mu);
    a->cat_cpu += cpu_now() - t0;
    pthread_mutex_unlock(&a->cat_mu);
}

double cairn__archive_catalogue_cpu(struct cairn_archive *a)
{
    pthread_mutex_lock(&a->cat_mu);
    double s = a->cat_cpu;
    pthread_mutex_unlock(&a->cat_mu);
    return s;
}

/*
 * The catalogue for the segments of now: the stored one when it covers
 * them (exactly, with `exact`; else it may cover more or fewer, the
 * caller looking at f.segs), or one built for this process (always with
 * `own`: the stored one is damaged). Under cat_mu.
 */
static int cat_get(struct cairn_archive *a, bool exact, bool own,
                   struct arch_catalogue **out)
{
    struct arch_seg *segs = NULL;
    uint64_t *good = NULL, *covered = NULL;
    size_t n = 0, n_good = 0, n_cov = 0;
    uint64_t gen;
    char why[256] = "";
    int rc, fd = -1, fd2 = -1, out_fd = -1;

    *out = NULL;
    pthread_mutex_lock(&a->seg_mu);
    gen = a->generation;
    pthread_mutex_unlock(&a->seg_mu);
    if (a->cat != NULL && a->cat_generation == gen &&
        (a->cat->exact || !exact) && (a->cat->own || !own)) {
        a->cat->refs++;
        *out = a->cat;
        return 0;
    }
    drop_cached(a);
    rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc == 0)
        rc = good_segs(segs, n, &good, &n_good);
    if (rc < 0)
        goto out;
    struct arch_catalogue *c = NULL;
    rc = own ? CAIRN_EPARSE : map_stored(a, &c, why, sizeof why);
    if (own)
        snprintf(why, sizeof why, "damaged");
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc == 0 && (same_segs(&c->f, good, n_good) || !exact)) {
        c->exact = same_segs(&c->f, good, n_good);
        goto keep;
    }
    cat_unref(c);
    c = NULL;
    /* out of date (a crash, or a writer at work) or damaged */
    if (n_good > 0 || rc != CAIRN_ENOTFOUND)
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s/" CAT_FILE ": %s; using one built from the "
                           "segments (the next add rebuilds it)",
                           a->dir, rc == CAIRN_ENOTFOUND ? "missing"
                                   : rc < 0 ? why
                                            : "out of date");
    covered = cairn_malloc((n + 1) * sizeof *covered);
    fd = anon_file();
    fd2 = anon_file();
    if (covered == NULL || fd < 0 || fd2 < 0) {
        rc = covered == NULL ? CAIRN_ENOMEM : CAIRN_EIO;
        goto out;
    }
    rc = build_from(a, segs, n, fd, fd2, covered, &n_cov, &out_fd);
    if (rc < 0)
        goto out;
    rc = map_fd(out_fd, &c, why, sizeof why);
    if (rc < 0)
        goto out;
    c->exact = true;
    c->own = true;
keep:
    c->generation = gen;
    a->cat = c;
    a->cat_generation = gen;
    c->refs++;
    *out = c;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    cairn_free(covered);
    cairn_free(good);
    cairn_free(segs);
    return rc;
}

uint64_t cairn__archive_catalogue_bytes(struct cairn_archive *a)
{
    char path[PATH_MAX];
    struct stat st;
    cat_path(a, CAT_FILE, path, sizeof path);
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int cairn__archive_catalogue_count(struct cairn_archive *a, uint64_t *out)
{
    struct arch_catalogue *c = NULL;
    pthread_mutex_lock(&a->cat_mu);
    int rc = cat_get(a, true, false, &c);
    *out = rc == 0 ? c->f.values : 0;
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    return rc;
}

void cairn__archive_catalogue_free(struct cairn_archive *a)
{
    drop_cached(a);
}

/* The block that would hold (type, key): the last whose first key is not
 * greater; -1 when before the first. */
static int64_t find_block(const struct cat_file *f, uint8_t type,
                          const char *key, size_t len)
{
    uint64_t lo = 0, hi = f->n_blocks;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const struct cat_block *b = &f->blocks[mid];
        if (key_cmp(b->type, (const char *)b->key, b->key_len, type, key,
                    len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int64_t)lo - 1;
}

static void to_value(const struct cat_recs *r, const struct cat_ent *e,
                     char *buf, struct cairn_archive_value *out)
{
    cairn__cat_key(e->type, r->text + e->off, e->len, buf);
    *out = (struct cairn_archive_value){
        .type = (enum cairn_ioc_type)e->type,
        .value = buf,
        .len = e->len,
        .count = e->count,
        .first_seen = {.sec = e->has_ts ? e->first : 0},
        .last_seen = {.sec = e->has_ts ? e->last : 0},
    };
}

static void say_damaged(struct cairn_archive *a, const char *why)
{
    cairn__archive_say(a, CAIRN_SEV_WARNING,
                       "%s/" CAT_FILE ": %s (see cairn archive check)", a->dir,
                       why);
}

int cairn_archive_lookup(struct cairn_archive *a, enum cairn_ioc_type type,
                         const char *value, size_t len,
                         struct cairn_archive_value *out)
{
    struct arch_catalogue *c = NULL;
    struct cat_recs r = {0};
    char *key = NULL, why[256];
    int rc;

    if (a == NULL || out == NULL || (value == NULL && len > 0) ||
        (unsigned)type >= CAIRN_IOC_TYPE_COUNT)
        return CAIRN_EINVAL;
    memset(out, 0, sizeof *out);
    if (len > CAT_MAX_KEY)
        return 0;
    key = cairn_malloc(len + 1);
    if (key == NULL)
        return CAIRN_ENOMEM;
    cairn__cat_key((uint8_t)type, value, len, key);
    pthread_mutex_lock(&a->cat_mu);
    rc = cat_get(a, true, false, &c);
    if (rc < 0)
        goto out;
    int64_t b = find_block(&c->f, (uint8_t)type, key, len);
    if (b < 0)
        goto out;
    rc = cairn__cat_block(&c->f, (uint64_t)b, &r, why, sizeof why);
    if (rc == CAIRN_EPARSE && !c->own) {
        say_damaged(a, why);
        cat_unref(c);
        c = NULL;
        rc = cat_get(a, true, true, &c);
        if (rc < 0)
            goto out;
        b = find_block(&c->f, (uint8_t)type, key, len);
        if (b < 0)
            goto out;
        rc = cairn__cat_block(&c->f, (uint64_t)b, &r, why, sizeof why);
    }
    if (rc < 0)
        goto out;
    for (uint32_t i = 0; i < r.n; i++) {
        const struct cat_ent *e = &r.v[i];
        if (key_cmp(e->type, r.text + e->off, e->len, (uint8_t)type, key,
                    len) != 0)
            continue;
        cairn_free(c->last);
        c->last = cairn_malloc((size_t)e->len + 1);
        if (c->last == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        to_value(&r, e, c->last, out);
        c->last[e->len] = '\0';
        rc = 1;
        break;
    }
out:
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    cairn__cat_recs_free(&r);
    cairn_free(key);
    return rc;
}

int cairn_archive_lookup_under(struct cairn_archive *a, const char *domain,
                               size_t len, cairn_archive_value_cb cb,
                               void *ud)
{
    struct arch_catalogue *c = NULL;
    struct cat_recs r = {0};
    char *key = NULL, *buf = NULL, why[256];
    size_t buf_cap = 0;
    int rc, found = 0;

    if (a == NULL || cb == NULL || (domain == NULL && len > 0))
        return CAIRN_EINVAL;
    while (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0 || len > CAT_MAX_KEY)
        return 0;
    key = cairn_malloc(len + 2);
    if (key == NULL)
        return CAIRN_ENOMEM;
    cairn__cat_key(CAIRN_IOC_DOMAIN, domain, len, key);
    pthread_mutex_lock(&a->cat_mu);
    rc = cat_get(a, true, false, &c);
    if (rc < 0)
        goto out;
    /* the domain, then every key starting with "domain." */
    int64_t b = find_block(&c->f, CAIRN_IOC_DOMAIN, key, len);
    for (uint64_t bi = b < 0 ? 0 : (uint64_t)b; bi < c->f.n_blocks; bi++) {
        bool past = false;
        rc = cairn__cat_block(&c->f, bi, &r, why, sizeof why);
        if (rc == CAIRN_EPARSE && !c->own && found == 0) {
            /* damaged: again, over one built from the segments */
            say_damaged(a, why);
            cat_unref(c);
            c = NULL;
            rc = cat_get(a, true, true, &c);
            if (rc < 0)
                goto out;
            b = find_block(&c->f, CAIRN_IOC_DOMAIN, key, len);
            bi = (b < 0 ? 0 : (uint64_t)b) - 1;
            continue;
        }
        if (rc < 0)
            goto out;
        for (uint32_t i = 0; i < r.n && !past; i++) {
            const struct cat_ent *e = &r.v[i];
            const char *k = r.text + e->off;
            int cmp = key_cmp(e->type, k, e->len, CAIRN_IOC_DOMAIN, key, len);
            if (cmp < 0)
                continue;
            if (e->type != CAIRN_IOC_DOMAIN || e->len < len ||
                memcmp(k, key, len) != 0) {
                past = true;
                break;
            }
            if (e->len > len && k[len] != '.')
                continue; /* "com.example2" is not under "com.example" */
            if (grow_to((void **)&buf, &buf_cap, (size_t)e->len + 1, 1) < 0) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            struct cairn_archive_value v;
            to_value(&r, e, buf, &v);
            buf[e->len] = '\0';
            found++;
            rc = cb(&v, ud);
            if (rc < 0)
                goto out;
        }
        if (past)
            break;
    }
    rc = found;
out:
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    cairn__cat_recs_free(&r);
    cairn_free(key);
    cairn_free(buf);
    return rc;
}

/* ---- the hunt's pass over the catalogue ------------------------------------ */

int cairn__archive_catalogue_match(struct cairn_archive *a,
                                   struct cairn_hunt_matcher *m,
                                   const struct cairn_archive_hunt_opts *o,
                                   arch_cat_hit_cb cb, void *ud,
                                   uint64_t **covered, size_t *n_covered,
                                   uint64_t *values)
{
    struct arch_catalogue *c = NULL;
    struct cat_recs r = {0};
    char *buf = NULL, why[256];
    size_t buf_cap = 0;
    int rc;

    *covered = NULL;
    *n_covered = 0;
    *values = 0;
    pthread_mutex_lock(&a->cat_mu);
    rc = cat_get(a, false, false, &c);
    pthread_mutex_unlock(&a->cat_mu);
    if (rc < 0)
        return rc;
    for (uint64_t bi = 0; bi < c->f.n_blocks; bi++) {
        rc = cairn__cat_block(&c->f, bi, &r, why, sizeof why);
        if (rc == CAIRN_EPARSE) {
            say_damaged(a, why);
            rc = 1; /* the segments are scanned instead */
        }
        if (rc != 0)
            goto out;
        for (uint32_t i = 0; i < r.n; i++) {
            const struct cat_ent *e = &r.v[i];
            /* whole seconds: first is rounded down, last too (the last
             * event is before last + 1) */
            if ((o->has_since || o->has_until) &&
                (!e->has_ts || (o->has_since && e->last < o->since.sec) ||
                 (o->has_until && e->first > o->until.sec)))
                continue;
            if (grow_to((void **)&buf, &buf_cap, (size_t)e->len + 1, 1) < 0) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            cairn__cat_key(e->type, r.text + e->off, e->len, buf);
            rc = cb(m, (enum cairn_ioc_type)e->type, buf, e->len, e->seg_lo,
                    e->seg_hi, ud);
            if (rc < 0)
                goto out;
        }
        *values += r.n;
    }
    *covered = cairn_malloc((c->f.n_segs + 1) * sizeof **covered);
    if (*covered == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (c->f.n_segs > 0)
        memcpy(*covered, c->f.segs, c->f.n_segs * sizeof **covered);
    *n_covered = c->f.n_segs;
    rc = 0;
out:
    pthread_mutex_lock(&a->cat_mu);
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    cairn__cat_recs_free(&r);
    cairn_free(buf);
    return rc;
}

/* ---- check ----------------------------------------------------------------- */

static bool same_ent(const struct cat_recs *ra, const struct cat_ent *a,
                     const struct cat_recs *rb, const struct cat_ent *b)
{
    return a->type == b->type && a->len == b->len &&
           memcmp(ra->text + a->off, rb->text + b->off, a->len) == 0 &&
           a->count == b->count && a->has_ts == b->has_ts &&
           (!a->has_ts || (a->first == b->first && a->last == b->last)) &&
           a->seg_lo == b->seg_lo && a->seg_hi == b->seg_hi;
}

/* Whether two catalogues hold the same records; `why` says where not. */
static int compare(const struct cat_file *x, const struct cat_file *y,
                   char *why, size_t why_len)
{
    struct cat_recs rx = {0}, ry = {0};
    uint64_t bx = 0, by = 0, seen = 0;
    uint32_t ix = 0, iy = 0;
    int rc = 0;

    if (x->values != y->values) {
        snprintf(why, why_len,
                 "holds %llu values, the segments %llu (rebuilt by the next "
                 "add or prune)",
                 (unsigned long long)x->values, (unsigned long long)y->values);
        return 1;
    }
    for (;;) {
        if (ix == rx.n && bx < x->n_blocks) {
            rc = cairn__cat_block(x, bx++, &rx, why, why_len);
            if (rc < 0)
                break;
            ix = 0;
            continue;
        }
        if (iy == ry.n && by < y->n_blocks) {
            rc = cairn__cat_block(y, by++, &ry, why, why_len);
            if (rc < 0)
                break;
            iy = 0;
            continue;
        }
        if (ix == rx.n || iy == ry.n)
            break;
        if (!same_ent(&rx, &rx.v[ix], &ry, &ry.v[iy])) {
            snprintf(why, why_len,
                     "value %llu differs from the segments' (rebuilt by the "
                     "next add or prune)",
                     (unsigned long long)seen);
            rc = 1;
            break;
        }
        ix++;
        iy++;
        seen++;
    }
    cairn__cat_recs_free(&rx);
    cairn__cat_recs_free(&ry);
    return rc;
}

int cairn__archive_catalogue_check(struct cairn_archive *a)
{
    struct arch_catalogue *stored = NULL, *built = NULL;
    struct arch_seg *segs = NULL;
    uint64_t *good = NULL, *covered = NULL;
    size_t n = 0, n_good = 0, n_cov = 0;
    char why[256] = "", path[PATH_MAX];
    int rc, fd = anon_file(), fd2 = anon_file(), out_fd = -1, problems = 0;

    cat_path(a, CAT_FILE, path, sizeof path);
    rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc == 0)
        rc = good_segs(segs, n, &good, &n_good);
    if (rc < 0)
        goto out;
    rc = map_stored(a, &stored, why, sizeof why);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc == CAIRN_ENOTFOUND && n_good == 0) {
        rc = 0;
        goto out;
    }
    if (rc < 0) {
        problems++;
        cairn__archive_say(a, CAIRN_SEV_ERROR,
                           "%s: %s (rebuilt by the next add or prune)", path,
                           rc == CAIRN_ENOTFOUND ? "missing" : why);
        rc = 0;
        goto out;
    }
    if (!same_segs(&stored->f, good, n_good)) {
        problems++;
        cairn__archive_say(a, CAIRN_SEV_ERROR,
                           "%s: does not cover the segments of the journal "
                           "(rebuilt by the next add or prune)",
                           path);
        goto out;
    }
    covered = cairn_malloc((n + 1) * sizeof *covered);
    if (covered == NULL || fd < 0 || fd2 < 0) {
        rc = covered == NULL ? CAIRN_ENOMEM : CAIRN_EIO;
        goto out;
    }
    rc = build_from(a, segs, n, fd, fd2, covered, &n_cov, &out_fd);
    if (rc == 0)
        rc = map_fd(out_fd, &built, why, sizeof why);
    if (rc < 0)
        goto out;
    rc = compare(&stored->f, &built->f, why, sizeof why);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc != 0) {
        problems++;
        cairn__archive_say(a, CAIRN_SEV_ERROR, "%s: %s", path, why);
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (fd2 >= 0)
        close(fd2);
    cat_unref(stored);
    cat_unref(built);
    cairn_free(covered);
    cairn_free(good);
    cairn_free(segs);
    return rc < 0 ? rc : problems;
}
