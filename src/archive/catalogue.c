/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue: every distinct value of the archive, stored on disk. */
#include <dirent.h>
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

/* Records to add; sorted, `order` lists them by key, each key once. */
struct ents {
    struct cat_ent *v;
    size_t n, cap;
    char *text;
    size_t text_len, text_cap;
    uint32_t *order; /* after ents_sort: n_order indexes into v */
    size_t n_order;
};

static void ents_free(struct ents *e)
{
    cairn_free(e->v);
    cairn_free(e->text);
    cairn_free(e->order);
    memset(e, 0, sizeof *e);
}

static void ents_clear(struct ents *e)
{
    e->n = 0;
    e->text_len = 0;
    e->n_order = 0;
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

/*
 * A record for the sort: 8 key bytes from some position, big-endian and
 * zero-padded (the type and the first 7 at first), in an order
 * consistent with key_cmp (a short key sorts first, as in key_cmp); and
 * where its key is, so that ties read the text and not the record.
 */
struct skey {
    uint64_t pre;
    uint64_t off;
    uint32_t len;
    uint32_t idx;
};

static _Thread_local const char *sort_text;
static _Thread_local const struct cat_ent *sort_v;

static int cmp_skey(const void *x, const void *y)
{
    const struct skey *a = x, *b = y;
    const struct cat_ent *ea = &sort_v[a->idx], *eb = &sort_v[b->idx];
    return key_cmp(ea->type, sort_text + a->off, a->len, eb->type,
                   sort_text + b->off, b->len);
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

/* Key bytes [at, at + 8) of a key, zero-padded, big-endian. */
static uint64_t key_word(const struct skey *x, size_t at)
{
    const uint8_t *p = (const uint8_t *)sort_text + x->off;
    uint64_t w = 0;
    if (at + 8 <= x->len) {
        for (unsigned b = 0; b < 8; b++)
            w = w << 8 | p[at + b];
        return w;
    }
    for (unsigned b = 0; b < 8; b++)
        w |= (uint64_t)(at + b < x->len ? p[at + b] : 0) << (56 - 8 * b);
    return w;
}

/*
 * `k` is sorted by the key bytes before `at` (all equal within a run of
 * equal `pre`); order each run of equal ones from the first byte at
 * which its keys differ, by 8 bytes from there (a radix sort again), 8
 * times at most, then by key.
 */
static void sort_ties(struct skey *k, struct skey *t, size_t n, size_t at,
                      unsigned depth)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].pre == k[i].pre)
            j++;
        size_t m = j - i;
        if (m > 1 && (m < 32 || depth >= 8)) {
            qsort(k + i, m, sizeof *k, cmp_skey);
        } else if (m > 1) {
            /* the bytes from `at` that all of the run share */
            const uint8_t *f = (const uint8_t *)sort_text + k[i].off;
            size_t lcp = k[i].len > at ? k[i].len - at : 0;
            for (size_t x = i + 1; x < j && lcp > 0; x++) {
                const uint8_t *p = (const uint8_t *)sort_text + k[x].off;
                if (x + 16 < j)
                    __builtin_prefetch(sort_text + k[x + 16].off + at);
                size_t l = k[x].len > at ? k[x].len - at : 0, c = 0;
                if (l < lcp)
                    lcp = l;
                while (c < lcp && p[at + c] == f[at + c])
                    c++;
                lcp = c;
            }
            for (size_t x = i; x < j; x++) {
                if (x + 16 < j)
                    __builtin_prefetch(sort_text + k[x + 16].off + at + lcp);
                k[x].pre = key_word(&k[x], at + lcp);
            }
            struct skey *kk = k + i, *tt = t + i;
            radix(&kk, &tt, m);
            if (kk != k + i)
                memcpy(k + i, kk, m * sizeof *k);
            sort_ties(k + i, t + i, m, at + lcp + 8, depth + 1);
        }
        i = j;
    }
}

/* Sort (a radix sort of the prefixes, then the ties by key) into
 * e->order, the records of one key merged into the first. */
static int ents_sort(struct ents *e)
{
    struct skey *k = NULL, *t = NULL;
    size_t n = e->n;

    e->n_order = 0;
    if (n == 0)
        return 0;
    k = cairn_malloc(n * sizeof *k);
    t = cairn_malloc(n * sizeof *t);
    cairn_free(e->order);
    e->order = cairn_malloc(n * sizeof *e->order);
    if (k == NULL || t == NULL || e->order == NULL) {
        cairn_free(k);
        cairn_free(t);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cat_ent *x = &e->v[i];
        const uint8_t *p = (const uint8_t *)e->text + x->off;
        uint64_t pre = (uint64_t)x->type << 56;
        for (unsigned b = 0; b < 7 && b < x->len; b++)
            pre |= (uint64_t)p[b] << (48 - 8 * b);
        k[i] = (struct skey){pre, x->off, x->len, (uint32_t)i};
    }
    radix(&k, &t, n);
    sort_text = e->text;
    sort_v = e->v;
    sort_ties(k, t, n, 7, 0);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct skey *x = &k[i], *y = i > 0 ? &k[i - 1] : NULL;
        if (i + 16 < n)
            __builtin_prefetch(e->text + k[i + 16].off);
        if (y != NULL && y->len == x->len &&
            memcmp(e->text + y->off, e->text + x->off, x->len) == 0 &&
            e->v[y->idx].type == e->v[x->idx].type)
            merge_into(&e->v[e->order[m - 1]], &e->v[x->idx]);
        else
            e->order[m++] = x->idx;
    }
    e->n_order = m;
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
/* ---- runs read as one ---------------------------------------------------------- */

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

/* One run being read: the next block to decode, and the record at. */
struct cat_cur {
    const struct cat_file *f;
    uint64_t b;
    uint32_t i;
    struct cat_recs r;
};

/* Several runs (each sorted, each key once) read as one, in key order,
 * the records of one key merged: what one catalogue of all their
 * segments would hold. */
struct cat_iter {
    struct cat_cur *c;
    size_t n;
    struct cat_ent e; /* the current record; its key in `key` */
    struct vec key;
};

static int iter_init(struct cat_iter *it, const struct cat_file *const *fs,
                     size_t n)
{
    memset(it, 0, sizeof *it);
    it->c = cairn_calloc(n + 1, sizeof *it->c);
    if (it->c == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        it->c[i].f = fs[i];
    it->n = n;
    return 0;
}

static void iter_free(struct cat_iter *it)
{
    if (it->c != NULL)
        for (size_t i = 0; i < it->n; i++)
            cairn__cat_recs_free(&it->c[i].r);
    cairn_free(it->c);
    cairn_free(it->key.p);
    memset(it, 0, sizeof *it);
}

static int cur_fill(struct cat_cur *c, char *why, size_t why_len)
{
    while (c->i == c->r.n && c->b < c->f->n_blocks) {
        int rc = cairn__cat_block(c->f, c->b++, &c->r, why, why_len);
        c->i = 0;
        if (rc < 0) {
            c->r.n = 0;
            return rc;
        }
    }
    return 0;
}

static int cur_cmp(const struct cat_cur *c, uint8_t type, const char *k,
                   size_t len)
{
    const struct cat_ent *e = &c->r.v[c->i];
    return key_cmp(e->type, c->r.text + e->off, e->len, type, k, len);
}

/* Every run at its first key not less than (type, key). */
static int iter_seek(struct cat_iter *it, uint8_t type, const char *key,
                     size_t len, char *why, size_t why_len)
{
    for (size_t j = 0; j < it->n; j++) {
        struct cat_cur *c = &it->c[j];
        int64_t b = find_block(c->f, type, key, len);
        c->b = b < 0 ? 0 : (uint64_t)b;
        c->r.n = 0;
        c->i = 0;
        int rc = cur_fill(c, why, why_len);
        while (rc == 0 && c->i < c->r.n && cur_cmp(c, type, key, len) < 0) {
            c->i++;
            rc = cur_fill(c, why, why_len);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The next record into it->e and it->key: 1; 0 at the end; or < 0. */
static int iter_next(struct cat_iter *it, char *why, size_t why_len)
{
    struct cat_cur *min = NULL;
    for (size_t j = 0; j < it->n; j++) {
        struct cat_cur *c = &it->c[j];
        int rc = cur_fill(c, why, why_len);
        if (rc < 0)
            return rc;
        if (c->i == c->r.n)
            continue;
        if (min == NULL) {
            min = c;
            continue;
        }
        const struct cat_ent *m = &min->r.v[min->i];
        if (cur_cmp(c, m->type, min->r.text + m->off, m->len) < 0)
            min = c;
    }
    if (min == NULL)
        return 0;
    const struct cat_ent *m = &min->r.v[min->i];
    it->key.len = 0;
    if (vec_reserve(&it->key, (size_t)m->len + 1) < 0)
        return CAIRN_ENOMEM;
    if (m->len > 0)
        memcpy(it->key.p, min->r.text + m->off, m->len);
    it->key.len = m->len;
    it->e = *m;
    it->e.off = 0;
    for (size_t j = 0; j < it->n; j++) {
        struct cat_cur *c = &it->c[j];
        if (c == min) {
            c->i++;
            continue;
        }
        if (c->i == c->r.n ||
            cur_cmp(c, it->e.type, (const char *)it->key.p, it->e.len) != 0)
            continue;
        merge_into(&it->e, &c->r.v[c->i]);
        c->i++;
    }
    return 1;
}

/*
 * Write to `fd` the merge of `old` (may be NULL) with the sorted records
 * `add` (may be NULL), covering `segs`.
 */
static int fold(struct cat_iter *old, const struct ents *add,
                const uint64_t *segs, size_t n_segs, int fd, char *why,
                size_t why_len)
{
    struct cat_writer w;
    size_t k = 0, n_add = add != NULL ? add->n_order : 0;
    int rc = writer_init(&w, fd);
    int ro = 0;

    if (rc < 0)
        goto out;
    if (old != NULL)
        ro = iter_next(old, why, why_len);
    for (;;) {
        if (ro < 0) {
            rc = ro;
            goto out;
        }
        const struct cat_ent *o = ro == 1 ? &old->e : NULL;
        const char *okey = o != NULL ? (const char *)old->key.p : NULL;
        /* the records and keys are read in an order of their own: ask
         * for them ahead (a record 32 ahead, its key 16 ahead) */
        if (k + 32 < n_add)
            __builtin_prefetch(&add->v[add->order[k + 32]]);
        if (k + 16 < n_add)
            __builtin_prefetch(add->text + add->v[add->order[k + 16]].off);
        const struct cat_ent *a = k < n_add ? &add->v[add->order[k]] : NULL;
        if (o == NULL && a == NULL)
            break;
        int c = o == NULL   ? 1
                : a == NULL ? -1
                            : key_cmp(o->type, okey, o->len, a->type,
                                      add->text + a->off, a->len);
        if (c < 0) {
            rc = writer_add(&w, o, okey);
            ro = rc < 0 ? rc : iter_next(old, why, why_len);
        } else if (c > 0) {
            rc = writer_add(&w, a, add->text + a->off);
            k++;
        } else {
            struct cat_ent m = *o;
            merge_into(&m, a);
            rc = writer_add(&w, &m, okey);
            ro = rc < 0 ? rc : iter_next(old, why, why_len);
            k++;
        }
        if (rc < 0)
            goto out;
    }
    rc = writer_finish(&w, segs, n_segs);
out:
    if (rc == CAIRN_EIO)
        snprintf(why, why_len, "cannot write: %s", strerror(errno));
    writer_release(&w);
    return rc;
}

/* ---- the archive's catalogue ------------------------------------------------ */

/*
 * The stored catalogue is a set of runs, files catalogue.GEN (and
 * "catalogue", generation 0, as written before runs): each a catalogue
 * file of its own covering some segments. A seal writes a run of the new
 * segment's values alone; runs of about the same size are then merged
 * (MERGE_RUNS at a time), so that each value is rewritten a few times over
 * the archive's life rather than at every seal. A run written by a merge
 * or a rebuild has a higher generation than those it replaces, which are
 * removed after it is renamed in place: a run overlapping (in segments) a
 * run of a higher generation is left over from a crash, and ignored.
 */
#define MERGE_RUNS 4

struct cat_run {
    uint8_t *map;
    size_t len;
    struct cat_file f;
    uint64_t gen;
};

/* The runs mapped, shared by the hunts using them. */
struct arch_catalogue {
    unsigned refs;
    struct cat_run *runs; /* ordered by their segments */
    size_t n_runs;
    uint64_t *segs; /* the segments covered, ascending */
    size_t n_segs;
    uint64_t values; /* distinct, when counted */
    bool counted;
    uint64_t max_gen; /* of every run file seen */
    uint64_t generation;
    bool exact; /* covers exactly the segments of that generation */
    bool own;   /* built for this process */
    char *last; /* the last lookup's value, for cairn_archive_lookup */
};

static void cat_unref(struct arch_catalogue *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->n_runs; i++) {
        cairn__cat_close(&c->runs[i].f);
        if (c->runs[i].map != NULL)
            munmap(c->runs[i].map, c->runs[i].len);
    }
    cairn_free(c->runs);
    cairn_free(c->segs);
    cairn_free(c->last);
    cairn_free(c);
}

/* An iterator over runs [lo, hi) of c. */
static int cat_iter(struct cat_iter *it, const struct arch_catalogue *c,
                    size_t lo, size_t hi)
{
    const struct cat_file **fs = cairn_calloc(hi - lo + 1, sizeof *fs);
    if (fs == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = lo; i < hi; i++)
        fs[i - lo] = &c->runs[i].f;
    int rc = iter_init(it, fs, hi - lo);
    cairn_free(fs);
    return rc;
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

static void run_name(uint64_t gen, char *buf, size_t len)
{
    if (gen == 0)
        snprintf(buf, len, "%s", CAT_FILE);
    else
        snprintf(buf, len, CAT_FILE ".%llu", (unsigned long long)gen);
}

/* The generation of a run's file name; false if it names none. */
static bool run_gen(const char *n, uint64_t *gen)
{
    size_t l = strlen(CAT_FILE);
    if (strncmp(n, CAT_FILE, l) != 0)
        return false;
    if (n[l] == '\0') {
        *gen = 0;
        return true;
    }
    if (n[l] != '.' || n[l + 1] < '1' || n[l + 1] > '9' ||
        strlen(n + l + 1) > 18)
        return false;
    uint64_t g = 0;
    for (const char *p = n + l + 1; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        g = g * 10 + (uint64_t)(*p - '0');
    }
    *gen = g;
    return true;
}

static int cmp_u64_desc(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a > b ? -1 : a < b;
}

/* The generations of the run files in the archive, highest first. */
static int list_runs(const struct cairn_archive *a, uint64_t **out,
                     size_t *n_out)
{
    DIR *d = opendir(a->dir);
    struct dirent *de;
    size_t n = 0, cap = 0;
    uint64_t *g = NULL;

    *out = NULL;
    *n_out = 0;
    if (d == NULL)
        return CAIRN_EIO;
    while ((de = readdir(d)) != NULL) {
        uint64_t gen;
        if (!run_gen(de->d_name, &gen))
            continue;
        if (grow_to((void **)&g, &cap, n + 1, sizeof *g) < 0) {
            closedir(d);
            cairn_free(g);
            return CAIRN_ENOMEM;
        }
        g[n++] = gen;
    }
    closedir(d);
    if (n > 0)
        qsort(g, n, sizeof *g, cmp_u64_desc);
    *out = g;
    *n_out = n;
    return 0;
}

/* Map an open file as a run of `c`. */
static int add_run(struct arch_catalogue *c, int fd, uint64_t gen,
                   char *why, size_t why_len)
{
    struct stat st;
    struct cat_run *r;

    if (fstat(fd, &st) < 0)
        return damaged(why, why_len, strerror(errno));
    if ((uint64_t)st.st_size < CAT_HEADER_LEN + CAT_FOOTER_LEN ||
        (uint64_t)st.st_size > SIZE_MAX / 2)
        return damaged(why, why_len, "too short to be a catalogue");
    r = cairn_realloc(c->runs, (c->n_runs + 1) * sizeof *c->runs);
    if (r == NULL)
        return CAIRN_ENOMEM;
    c->runs = r;
    r = &c->runs[c->n_runs];
    memset(r, 0, sizeof *r);
    r->gen = gen;
    r->len = (size_t)st.st_size;
    void *p = mmap(NULL, r->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return damaged(why, why_len, strerror(errno));
    r->map = p;
    int rc = cairn__cat_open(r->map, r->len, &r->f, why, why_len);
    if (rc < 0) {
        munmap(r->map, r->len);
        return rc;
    }
    c->n_runs++;
    return 0;
}

static int cmp_run(const void *x, const void *y)
{
    const struct cat_run *a = x, *b = y;
    uint64_t sa = a->f.n_segs > 0 ? a->f.segs[0] : 0;
    uint64_t sb = b->f.n_segs > 0 ? b->f.segs[0] : 0;
    return sa < sb ? -1 : sa > sb;
}

/* Order the runs by their segments; the union of their segments. */
static int finish_runs(struct arch_catalogue *c, char *why, size_t why_len)
{
    size_t n = 0;
    if (c->n_runs > 1)
        qsort(c->runs, c->n_runs, sizeof *c->runs, cmp_run);
    for (size_t i = 0; i < c->n_runs; i++)
        n += c->runs[i].f.n_segs;
    c->segs = cairn_malloc((n + 1) * sizeof *c->segs);
    if (c->segs == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < c->n_runs; i++)
        for (uint64_t j = 0; j < c->runs[i].f.n_segs; j++) {
            uint64_t s = c->runs[i].f.segs[j];
            if (c->n_segs > 0 && c->segs[c->n_segs - 1] >= s)
                return damaged(why, why_len, "runs overlap");
            c->segs[c->n_segs++] = s;
        }
    c->counted = c->n_runs <= 1;
    c->values = c->n_runs == 1 ? c->runs[0].f.values : 0;
    return 0;
}

/* Map an open file as a catalogue of one run. */
static int map_fd(int fd, struct arch_catalogue **out, char *why,
                  size_t why_len)
{
    struct arch_catalogue *c = cairn_calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (c == NULL)
        return CAIRN_ENOMEM;
    c->refs = 1;
    rc = add_run(c, fd, 0, why, why_len);
    if (rc == 0)
        rc = finish_runs(c, why, why_len);
    if (rc < 0) {
        cat_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

static bool overlaps(const struct cat_file *x, const struct cat_file *y)
{
    if (x->n_segs == 0 || y->n_segs == 0)
        return false;
    return x->segs[0] <= y->segs[y->n_segs - 1] &&
           y->segs[0] <= x->segs[x->n_segs - 1];
}

/*
 * One listing's runs, as load_runs says; CAIRN_EBUSY when a listed run
 * was removed before it was opened (a writer's merge in between).
 */
static int load_listed_runs(struct cairn_archive *a, bool tidy,
                            struct arch_catalogue **out, char *why,
                            size_t why_len)
{
    struct arch_catalogue *c = NULL;
    uint64_t *gens = NULL;
    size_t n = 0;
    char name[32], path[PATH_MAX], w[200];
    int rc;

    *out = NULL;
    rc = list_runs(a, &gens, &n);
    if (rc < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return rc;
    }
    if (n == 0) {
        snprintf(why, why_len, CAT_FILE ": missing");
        cairn_free(gens);
        return CAIRN_ENOTFOUND;
    }
    c = cairn_calloc(1, sizeof *c);
    if (c == NULL) {
        cairn_free(gens);
        return CAIRN_ENOMEM;
    }
    c->refs = 1;
    c->max_gen = gens[0];
    for (size_t i = 0; i < n; i++) {
        run_name(gens[i], name, sizeof name);
        cat_path(a, name, path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) {
                /* a merge replaced it: its successor is not listed */
                snprintf(why, why_len, "%s: removed while read", name);
                rc = CAIRN_EBUSY;
                goto out;
            }
            snprintf(why, why_len, "%s: %s", name, strerror(errno));
            rc = CAIRN_EIO;
            goto out;
        }
        rc = add_run(c, fd, gens[i], w, sizeof w);
        close(fd);
        if (rc < 0) {
            if (rc == CAIRN_EPARSE)
                snprintf(why, why_len, "%s: %s", name, w);
            goto out;
        }
        /* higher generations first: a run overlapping one of them, or
         * empty under one, was replaced */
        struct cat_run *r = &c->runs[c->n_runs - 1];
        bool stale = r->f.n_segs == 0 && c->n_runs > 1;
        for (size_t j = 0; j + 1 < c->n_runs && !stale; j++)
            stale = overlaps(&c->runs[j].f, &r->f) ||
                    c->runs[j].f.n_segs == 0;
        if (!stale)
            continue;
        cairn__cat_close(&r->f);
        munmap(r->map, r->len);
        c->n_runs--;
        if (tidy)
            unlink(path);
    }
    if (c->n_runs == 0) {
        snprintf(why, why_len, CAT_FILE ": missing");
        rc = CAIRN_ENOTFOUND;
        goto out;
    }
    rc = finish_runs(c, why, why_len);
out:
    cairn_free(gens);
    if (rc < 0) {
        cat_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

/*
 * The stored runs: CAIRN_ENOTFOUND when there are none; CAIRN_EPARSE
 * with `why` naming the damaged file. Runs left over from a crash are
 * ignored (removed with `tidy`, by a writer). A writer changes the runs
 * only by renaming a new one in and then removing those it replaces, so
 * a listing whose every run opens is whole: when one is gone, list again.
 */
#define LOAD_RUNS_TRIES 8

static int load_runs(struct cairn_archive *a, bool tidy,
                     struct arch_catalogue **out, char *why, size_t why_len)
{
    int rc = CAIRN_EBUSY;
    for (int i = 0; i < LOAD_RUNS_TRIES && rc == CAIRN_EBUSY; i++)
        rc = load_listed_runs(a, tidy, out, why, why_len);
    return rc;
}

/* The checksum of every block of every run (a writer's open). */
static int verify_blocks(const struct arch_catalogue *c, char *why,
                         size_t why_len)
{
    char name[32];
    for (size_t i = 0; i < c->n_runs; i++) {
        const struct cat_file *f = &c->runs[i].f;
        for (uint64_t b = 0; b < f->n_blocks; b++) {
            const struct cat_block *k = &f->blocks[b];
            if (cairn__seg_crc(f->data + k->off, k->len) == k->crc)
                continue;
            run_name(c->runs[i].gen, name, sizeof name);
            snprintf(why, why_len, "%s: a block's checksum mismatch", name);
            return CAIRN_EPARSE;
        }
    }
    return 0;
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

static bool same_segs(const struct arch_catalogue *c, const uint64_t *s,
                      size_t n)
{
    return c->n_segs == n &&
           (n == 0 || memcmp(c->segs, s, n * sizeof *s) == 0);
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
        struct cat_iter it = {0};
        if (prev != NULL)
            rc = cat_iter(&it, prev, 0, prev->n_runs);
        if (rc == 0)
            rc = fold(prev != NULL ? &it : NULL, &e, covered, *n_covered,
                      other, why, sizeof why);
        iter_free(&it);
        cat_unref(prev);
        prev = NULL;
        if (rc < 0)
            break;
        written = true;
        ents_clear(&e);
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

/* Make the file at `tmp` (open as fd) the run of generation `gen`. */
static int install(struct cairn_archive *a, int fd, const char *tmp,
                   uint64_t gen)
{
    char name[64], path[PATH_MAX];
    run_name(gen, name, sizeof name);
    cat_path(a, name, path, sizeof path);
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

/* Remove the run files of the generations in [gens, gens + n) but `keep`. */
static void remove_runs(struct cairn_archive *a, const uint64_t *gens,
                        size_t n, uint64_t keep)
{
    char name[64], path[PATH_MAX];
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (gens[i] == keep)
            continue;
        run_name(gens[i], name, sizeof name);
        cat_path(a, name, path, sizeof path);
        any |= unlink(path) == 0;
    }
    if (any)
        cairn__archive_fsync_dir(a->dir);
}

/* Forget the mapped catalogue (a new one was written). Under cat_mu. */
static void drop_cached(struct cairn_archive *a)
{
    cat_unref(a->cat);
    a->cat = NULL;
}

/* Rebuild the stored catalogue from every segment: one run, the others
 * removed. Under add_mu. */
static int rebuild(struct cairn_archive *a)
{
    struct arch_seg *segs = NULL;
    uint64_t *covered = NULL, *gens = NULL;
    size_t n = 0, n_cov = 0, n_gens = 0;
    char tmp[PATH_MAX], tmp2[PATH_MAX];
    int fd = -1, fd2 = -1, out_fd = -1;
    int rc = cairn__archive_snapshot(a, &segs, &n);

    if (rc == 0)
        rc = list_runs(a, &gens, &n_gens);
    if (rc < 0)
        goto out;
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
    uint64_t gen = n_gens > 0 ? gens[0] + 1 : 1;
    if (rc == 0)
        rc = install(a, out_fd, out_fd == fd ? tmp : tmp2, gen);
    if (rc == 0)
        remove_runs(a, gens, n_gens, gen);
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
    cairn_free(gens);
    cairn_free(segs);
    return rc;
}

int cairn__archive_catalogue_open(struct cairn_archive *a)
{
    struct arch_catalogue *c = NULL;
    struct arch_seg *segs = NULL;
    uint64_t *good = NULL;
    size_t n = 0, n_good = 0;
    char why[256] = "";
    int rc;

    if (a->o.read_only)
        return 0;
    rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc == 0)
        rc = good_segs(segs, n, &good, &n_good);
    cairn_free(segs);
    if (rc < 0)
        return rc;
    rc = load_runs(a, true, &c, why, sizeof why);
    if (rc == 0)
        rc = verify_blocks(c, why, sizeof why);
    bool ok = rc == 0 && same_segs(c, good, n_good);
    cat_unref(c);
    cairn_free(good);
    if (ok || (rc == CAIRN_ENOTFOUND && n_good == 0))
        return 0;
    if (rc == CAIRN_ENOMEM)
        return rc;
    cairn__archive_say(a, CAIRN_SEV_WARNING,
                       "%s/%s; rebuilding it from the segments", a->dir,
                       rc < 0 ? why
                              : CAT_FILE ": does not cover the segments of "
                                         "the journal (an interrupted add "
                                         "or prune)");
    rc = rebuild(a);
    return rc == CAIRN_ENOMEM ? rc : 0;
}

/* A run's level: its size in powers of MERGE_RUNS. */
static unsigned level(uint64_t values)
{
    unsigned l = 0;
    while (values >= MERGE_RUNS) {
        values /= MERGE_RUNS;
        l++;
    }
    return l;
}

/*
 * Merge the newest runs while MERGE_RUNS of them are of one level, or
 * the one before the newest is of a lower level (smaller) than it. So
 * levels do not grow from the oldest run to the newest, at most
 * MERGE_RUNS - 1 runs are of one level, and a value is rewritten about
 * once per level.
 */
static int compact(struct cairn_archive *a, char *why, size_t why_len)
{
    char tmp[PATH_MAX];
    int rc = 0;

    cat_path(a, CAT_TMP, tmp, sizeof tmp);
    for (unsigned round = 0; round < 128; round++) {
        struct arch_catalogue *c = NULL;
        struct cat_iter it = {0};
        uint64_t *gens = NULL;
        int fd = -1;
        rc = load_runs(a, true, &c, why, why_len);
        if (rc < 0)
            return rc;
        size_t n = c->n_runs, j = n;
        if (n >= MERGE_RUNS) {
            unsigned l = level(c->runs[n - 1].f.values);
            j = n - MERGE_RUNS;
            for (size_t i = j; i < n && j < n; i++)
                if (level(c->runs[i].f.values) != l)
                    j = n;
        }
        if (j == n && n >= 2 &&
            level(c->runs[n - 2].f.values) < level(c->runs[n - 1].f.values))
            j = n - 2;
        if (j == n) {
            cat_unref(c);
            return 0;
        }
        /* runs j.. into one; their segments follow one another */
        const uint64_t *segs = c->segs;
        size_t from = 0, n_segs = 0;
        for (size_t i = 0; i < j; i++)
            from += c->runs[i].f.n_segs;
        for (size_t i = j; i < n; i++)
            n_segs += c->runs[i].f.n_segs;
        gens = cairn_malloc((n - j) * sizeof *gens);
        rc = gens == NULL ? CAIRN_ENOMEM : cat_iter(&it, c, j, n);
        if (rc == 0) {
            for (size_t i = j; i < n; i++)
                gens[i - j] = c->runs[i].gen;
            fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) {
                snprintf(why, why_len, "%s", strerror(errno));
                rc = CAIRN_EIO;
            }
        }
        if (rc == 0)
            rc = fold(&it, NULL, segs + from, n_segs, fd, why, why_len);
        if (rc == 0)
            rc = install(a, fd, tmp, c->max_gen + 1);
        else
            unlink(tmp);
        if (rc == 0)
            remove_runs(a, gens, n - j, c->max_gen + 1);
        if (fd >= 0)
            close(fd);
        iter_free(&it);
        cairn_free(gens);
        cat_unref(c);
        if (rc < 0)
            return rc;
    }
    return rc;
}

void cairn__archive_catalogue_sealed(struct cairn_archive *a, uint64_t seq,
                                     const uint8_t *data, size_t len)
{
    struct arch_catalogue *old = NULL;
    struct ents e = {0};
    uint64_t gen = 1;
    char why[256] = "", tmp[PATH_MAX], path[PATH_MAX];
    int fd = -1, rc;
    double t0 = cpu_now();

    cat_path(a, CAT_TMP, tmp, sizeof tmp);
    cat_path(a, CAT_FILE, path, sizeof path);
    rc = load_runs(a, true, &old, why, sizeof why);
    if (rc == CAIRN_ENOTFOUND) {
        /* the first segment; or the catalogue was lost: all of them */
        struct arch_seg *all = NULL;
        size_t n = 0;
        bool only = cairn__archive_snapshot(a, &all, &n) == 0 && n == 1;
        cairn_free(all);
        if (!only)
            goto rebuild;
        uint64_t *gens = NULL;
        size_t n_gens = 0;
        if (list_runs(a, &gens, &n_gens) == 0 && n_gens > 0)
            gen = gens[0] + 1;
        cairn_free(gens);
        why[0] = '\0';
        rc = 0;
    } else if (rc < 0) {
        goto rebuild;
    } else {
        gen = old->max_gen + 1;
    }
    if (old != NULL && old->n_segs > 0 && old->segs[old->n_segs - 1] >= seq)
        goto rebuild; /* a seq reused after a crash: start again */
    cat_unref(old);
    old = NULL;
    /* the new segment's values, as a run of their own */
    rc = ents_add_segment(&e, data, len, seq, why, sizeof why);
    if (rc == 0)
        rc = ents_sort(&e);
    if (rc < 0)
        goto fail;
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, sizeof why, "%s", strerror(errno));
        rc = CAIRN_EIO;
        goto fail;
    }
    rc = fold(NULL, &e, &seq, 1, fd, why, sizeof why);
    if (rc < 0)
        goto fail;
    ents_free(&e);
    rc = install(a, fd, tmp, gen);
    if (rc < 0)
        goto done;
    rc = compact(a, why, sizeof why);
    if (rc == CAIRN_EPARSE)
        goto rebuild; /* a run is damaged */
    if (rc < 0)
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s: runs not merged (%s); they are at the next "
                           "seal",
                           path, why[0] ? why : cairn_strerror(rc));
    goto done;
rebuild:
    if (why[0] != '\0')
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s/%s; rebuilding it from the segments", a->dir,
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
 * caller looking at segs), or one built for this process (always with
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
    rc = own ? CAIRN_EPARSE : load_runs(a, false, &c, why, sizeof why);
    if (own)
        snprintf(why, sizeof why, CAT_FILE ": damaged");
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc == 0 && (same_segs(c, good, n_good) || !exact)) {
        c->exact = same_segs(c, good, n_good);
        goto keep;
    }
    cat_unref(c);
    c = NULL;
    /* out of date (a crash, or a writer at work) or damaged */
    if (n_good > 0 || rc != CAIRN_ENOTFOUND)
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s/%s; using one built from the segments (the "
                           "next add rebuilds it)",
                           a->dir, rc < 0 ? why : CAT_FILE ": out of date");
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
    uint64_t *gens = NULL, sum = 0;
    size_t n = 0;
    char name[64], path[PATH_MAX];
    struct stat st;
    if (list_runs(a, &gens, &n) < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        run_name(gens[i], name, sizeof name);
        cat_path(a, name, path, sizeof path);
        if (stat(path, &st) == 0)
            sum += (uint64_t)st.st_size;
    }
    cairn_free(gens);
    return sum;
}

static void say_damaged(struct cairn_archive *a, const char *why)
{
    cairn__archive_say(a, CAIRN_SEV_WARNING,
                       "%s/" CAT_FILE ": %s (see cairn archive check)", a->dir,
                       why);
}

/* The distinct values of c's runs (a pass over them when several). */
static int count_values(struct arch_catalogue *c, char *why, size_t why_len)
{
    struct cat_iter it = {0};
    uint64_t n = 0;
    int rc;
    if (c->counted)
        return 0;
    rc = cat_iter(&it, c, 0, c->n_runs);
    while (rc == 0 && (rc = iter_next(&it, why, why_len)) == 1) {
        n++;
        rc = 0;
    }
    iter_free(&it);
    if (rc < 0)
        return rc;
    c->values = n;
    c->counted = true;
    return 0;
}

int cairn__archive_catalogue_count(struct cairn_archive *a, uint64_t *out)
{
    struct arch_catalogue *c = NULL;
    char why[256];
    pthread_mutex_lock(&a->cat_mu);
    int rc = cat_get(a, true, false, &c);
    if (rc == 0)
        rc = count_values(c, why, sizeof why);
    if (rc == CAIRN_EPARSE && !c->own) {
        say_damaged(a, why);
        cat_unref(c);
        c = NULL;
        rc = cat_get(a, true, true, &c);
        if (rc == 0)
            rc = count_values(c, why, sizeof why);
    }
    *out = rc == 0 ? c->values : 0;
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    return rc;
}

void cairn__archive_catalogue_free(struct cairn_archive *a)
{
    drop_cached(a);
}

static void to_value(const struct cat_iter *it, char *buf,
                     struct cairn_archive_value *out)
{
    const struct cat_ent *e = &it->e;
    cairn__cat_key(e->type, (const char *)it->key.p, e->len, buf);
    *out = (struct cairn_archive_value){
        .type = (enum cairn_ioc_type)e->type,
        .value = buf,
        .len = e->len,
        .count = e->count,
        .first_seen = {.sec = e->has_ts ? e->first : 0},
        .last_seen = {.sec = e->has_ts ? e->last : 0},
    };
}

/* The first record at or after (type, key) into it: 1, 0 (none), < 0. */
static int seek_first(struct arch_catalogue *c, struct cat_iter *it,
                      uint8_t type, const char *key, size_t len, char *why,
                      size_t why_len)
{
    iter_free(it);
    int rc = cat_iter(it, c, 0, c->n_runs);
    if (rc == 0)
        rc = iter_seek(it, type, key, len, why, why_len);
    if (rc == 0)
        rc = iter_next(it, why, why_len);
    return rc;
}

int cairn_archive_lookup(struct cairn_archive *a, enum cairn_ioc_type type,
                         const char *value, size_t len,
                         struct cairn_archive_value *out)
{
    struct arch_catalogue *c = NULL;
    struct cat_iter it = {0};
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
    rc = seek_first(c, &it, (uint8_t)type, key, len, why, sizeof why);
    if (rc == CAIRN_EPARSE && !c->own) {
        say_damaged(a, why);
        cat_unref(c);
        c = NULL;
        rc = cat_get(a, true, true, &c);
        if (rc < 0)
            goto out;
        rc = seek_first(c, &it, (uint8_t)type, key, len, why, sizeof why);
    }
    if (rc <= 0)
        goto out;
    rc = 0;
    if (key_cmp(it.e.type, (const char *)it.key.p, it.e.len, (uint8_t)type,
                key, len) != 0)
        goto out;
    cairn_free(c->last);
    c->last = cairn_malloc((size_t)it.e.len + 1);
    if (c->last == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    to_value(&it, c->last, out);
    c->last[it.e.len] = '\0';
    rc = 1;
out:
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    iter_free(&it);
    cairn_free(key);
    return rc;
}

int cairn_archive_lookup_under(struct cairn_archive *a, const char *domain,
                               size_t len, cairn_archive_value_cb cb,
                               void *ud)
{
    struct arch_catalogue *c = NULL;
    struct cat_iter it = {0};
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
    rc = seek_first(c, &it, CAIRN_IOC_DOMAIN, key, len, why, sizeof why);
    for (;;) {
        if (rc == CAIRN_EPARSE && !c->own && found == 0) {
            /* damaged: again, over one built from the segments */
            say_damaged(a, why);
            cat_unref(c);
            c = NULL;
            rc = cat_get(a, true, true, &c);
            if (rc < 0)
                goto out;
            rc = seek_first(c, &it, CAIRN_IOC_DOMAIN, key, len, why,
                            sizeof why);
            continue;
        }
        if (rc <= 0)
            break;
        const struct cat_ent *e = &it.e;
        const char *k = (const char *)it.key.p;
        if (e->type != CAIRN_IOC_DOMAIN || e->len < len ||
            memcmp(k, key, len) != 0)
            break;
        if (e->len == len || k[len] == '.') {
            /* not "com.example2" under "com.example" */
            if (grow_to((void **)&buf, &buf_cap, (size_t)e->len + 1, 1) < 0) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            struct cairn_archive_value v;
            to_value(&it, buf, &v);
            buf[e->len] = '\0';
            found++;
            rc = cb(&v, ud);
            if (rc < 0)
                goto out;
        }
        rc = iter_next(&it, why, sizeof why);
    }
    if (rc >= 0)
        rc = found;
out:
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    iter_free(&it);
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
    struct cat_iter it = {0};
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
    rc = cat_iter(&it, c, 0, c->n_runs);
    while (rc == 0 && (rc = iter_next(&it, why, sizeof why)) == 1) {
        const struct cat_ent *e = &it.e;
        rc = 0;
        ++*values;
        /* whole seconds: first is rounded down, last too (the last
         * event is before last + 1) */
        if ((o->has_since || o->has_until) &&
            (!e->has_ts || (o->has_since && e->last < o->since.sec) ||
             (o->has_until && e->first > o->until.sec)))
            continue;
        if (grow_to((void **)&buf, &buf_cap, (size_t)e->len + 1, 1) < 0) {
            rc = CAIRN_ENOMEM;
            break;
        }
        cairn__cat_key(e->type, (const char *)it.key.p, e->len, buf);
        rc = cb(m, (enum cairn_ioc_type)e->type, buf, e->len, e->seg_lo,
                e->seg_hi, ud);
    }
    if (rc == CAIRN_EPARSE) {
        say_damaged(a, why);
        rc = 1; /* the segments are scanned instead */
    }
    if (rc != 0)
        goto out;
    *covered = cairn_malloc((c->n_segs + 1) * sizeof **covered);
    if (*covered == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (c->n_segs > 0)
        memcpy(*covered, c->segs, c->n_segs * sizeof **covered);
    *n_covered = c->n_segs;
    rc = 0;
out:
    pthread_mutex_lock(&a->cat_mu);
    cat_unref(c);
    pthread_mutex_unlock(&a->cat_mu);
    iter_free(&it);
    cairn_free(buf);
    return rc;
}

/* ---- check ----------------------------------------------------------------- */

static bool same_ent(const struct cat_iter *x, const struct cat_iter *y)
{
    const struct cat_ent *a = &x->e, *b = &y->e;
    return a->type == b->type && a->len == b->len &&
           (a->len == 0 || memcmp(x->key.p, y->key.p, a->len) == 0) &&
           a->count == b->count && a->has_ts == b->has_ts &&
           (!a->has_ts || (a->first == b->first && a->last == b->last)) &&
           a->seg_lo == b->seg_lo && a->seg_hi == b->seg_hi;
}

/* Whether two catalogues hold the same records; `why` says where not. */
static int compare(const struct arch_catalogue *x,
                   const struct arch_catalogue *y, char *why, size_t why_len)
{
    struct cat_iter ix = {0}, iy = {0};
    uint64_t seen = 0;
    int rc = cat_iter(&ix, x, 0, x->n_runs);
    if (rc == 0)
        rc = cat_iter(&iy, y, 0, y->n_runs);
    while (rc == 0) {
        int rx = iter_next(&ix, why, why_len);
        int ry = rx < 0 ? 0 : iter_next(&iy, why, why_len);
        if (rx < 0 || ry < 0) {
            rc = rx < 0 ? rx : ry;
            break;
        }
        if (rx == 0 && ry == 0)
            break;
        if (rx != ry) {
            snprintf(why, why_len,
                     "holds %s values than the segments (rebuilt by the "
                     "next add or prune)",
                     rx == 0 ? "fewer" : "more");
            rc = 1;
            break;
        }
        if (!same_ent(&ix, &iy)) {
            snprintf(why, why_len,
                     "value %llu differs from the segments' (rebuilt by the "
                     "next add or prune)",
                     (unsigned long long)seen);
            rc = 1;
            break;
        }
        seen++;
    }
    iter_free(&ix);
    iter_free(&iy);
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
    rc = load_runs(a, false, &stored, why, sizeof why);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc == CAIRN_ENOTFOUND && n_good == 0) {
        rc = 0;
        goto out;
    }
    if (rc < 0) {
        problems++;
        cairn__archive_say(a, CAIRN_SEV_ERROR,
                           "%s/%s (rebuilt by the next add or prune)", a->dir,
                           why);
        rc = 0;
        goto out;
    }
    if (!same_segs(stored, good, n_good)) {
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
    rc = compare(stored, built, why, sizeof why);
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
