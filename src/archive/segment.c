/* SPDX-License-Identifier: Apache-2.0 */
/* Segments: events and their value index written once, read back checked. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "archive/archive_int.h"
#include "archive/codec.h"

#define ZSTD_LEVEL      3
#define MAX_BLOCK_RAW   ((uint64_t)64 << 20) /* decoded bytes of one block */
#define MAX_VALUE_LEN   ((size_t)1 << 24)
#define MAX_NAMES       ((uint64_t)1 << 24)

uint32_t cairn__seg_crc(const void *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const Bytef *b = p;

    /* zlib takes a uInt length: feed it in pieces. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, b, n);
        b += n;
        len -= n;
    }
    return (uint32_t)c;
}

uint32_t cairn__seg_sum(uint32_t version, const void *p, size_t len)
{
    if (version >= 3)
        return (uint32_t)XXH3_64bits(len > 0 ? p : "", len);
    return cairn__seg_crc(p, len);
}

uint32_t cairn__seg_block_events(uint32_t version)
{
    return version >= 3 ? SEG_BLOCK_EVENTS : SEG_BLOCK_EVENTS_V2;
}

void cairn__seg_huge(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    /* A segment's tables are large and touched at random: backed by huge
     * pages they take ~500 times fewer page faults and far fewer TLB
     * misses. Advice only; where the kernel says no, nothing changes. */
    if (p == NULL || len < SEG_HUGE_MIN)
        return;
    uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
    uintptr_t b = ((uintptr_t)p + len) & ~(pg - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

void *cairn__seg_grow(void *p, size_t used, size_t len)
{
    if (len < SEG_HUGE_MIN)
        return cairn_realloc(p, len);
    /* Advised before the copy, which then faults huge pages in. */
    uint8_t *q = cairn_malloc(len);
    if (q == NULL)
        return NULL;
    cairn__seg_huge(q, len);
    if (used > 0)
        memcpy(q, p, used);
    cairn_free(p);
    return q;
}

/* ---- growable bytes -------------------------------------------------------- */

struct vec {
    uint8_t *p;
    size_t len, cap;
};

static int vec_reserve(struct vec *v, size_t more)
{
    if (v->cap - v->len >= more)
        return 0;
    size_t cap = v->cap ? v->cap : 256;
    while (cap - v->len < more) {
        if (cap > SIZE_MAX / 2)
            return CAIRN_ENOMEM;
        cap *= 2;
    }
    uint8_t *p = cairn__seg_grow(v->p, v->len, cap);
    if (p == NULL)
        return CAIRN_ENOMEM;
    v->p = p;
    v->cap = cap;
    return 0;
}

static int vec_put(struct vec *v, const void *p, size_t len)
{
    if (vec_reserve(v, len) < 0)
        return CAIRN_ENOMEM;
    if (len > 0)
        memcpy(v->p + v->len, p, len);
    v->len += len;
    return 0;
}

/* Room for 10 bytes must have been reserved. */
static inline void put_varint_fast(struct vec *v, uint64_t x)
{
    v->len = (size_t)(put_varint_at(v->p + v->len, x) - v->p);
}

static int put_varint(struct vec *v, uint64_t x)
{
    if (vec_reserve(v, 10) < 0)
        return CAIRN_ENOMEM;
    put_varint_fast(v, x);
    return 0;
}

static int put_time(struct vec *v, const struct cairn_time *t)
{
    if (vec_reserve(v, 21) < 0)
        return CAIRN_ENOMEM;
    put_varint_fast(v, zz(t->sec));
    put_varint_fast(v, (uint64_t)(uint32_t)t->nsec);
    v->p[v->len++] = (uint8_t)t->digits;
    return 0;
}

static void get_time(struct cur *c, struct cairn_time *t)
{
    t->sec = unzz(get_varint(c));
    uint64_t ns = get_varint(c);
    uint8_t d = get_byte(c);
    if (ns >= 1000000000u || d > 9)
        c->bad = true;
    t->nsec = (int32_t)(ns % 1000000000u);
    t->digits = (int8_t)(d > 9 ? 9 : d);
}

/* ---- a table of distinct strings --------------------------------------- */

/* Per distinct value: its time range (counts come from the postings). */
struct vtime {
    struct cairn_time first, last;
    bool has_ts;
};

struct strmap {
    uint32_t *slots; /* id + 1; 0 empty */
    size_t mask;
    struct entry {
        uint64_t hash;
        uint64_t off;
        uint32_t len;
        uint8_t type;
        /* kept beside the hash that a look-up reads anyway: one cache
         * miss per value of an event, not two */
        struct vtime vt;
    } *v;
    size_t n, cap;
    struct vec text;
};

static inline uint64_t hash_bytes(const void *p, size_t len, uint8_t type)
{
    /* FNV-1a over 8-byte words, then a final mix: fast and good enough for
     * a table whose keys an attacker cannot steer into one slot cheaply
     * (collisions cost time, never correctness). */
    const uint8_t *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)type << 56) ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, len - i);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

static int strmap_grow(struct strmap *m)
{
    size_t n = m->mask ? (m->mask + 1) * 2 : 1024;
    uint32_t *slots = cairn_calloc(n, sizeof *slots);
    if (slots == NULL)
        return CAIRN_ENOMEM;
    cairn__seg_huge(slots, n * sizeof *slots);
    for (size_t i = 0; i < m->n; i++) {
        size_t k = m->v[i].hash & (n - 1);
        while (slots[k] != 0)
            k = (k + 1) & (n - 1);
        slots[k] = (uint32_t)i + 1;
    }
    cairn_free(m->slots);
    m->slots = slots;
    m->mask = n - 1;
    return 0;
}

/* The id of (type, s) whose hash_bytes is h, added when new; -1 (out of
 * memory) otherwise. */
static int64_t strmap_id_h(struct strmap *m, uint8_t type, const char *s,
                           size_t len, uint64_t h, bool *added)
{
    *added = false;
    if ((m->n + 1) * 2 > m->mask + 1 && strmap_grow(m) < 0)
        return -1;
    size_t k = h & m->mask;
    for (;;) {
        uint32_t id = m->slots[k];
        if (id == 0)
            break;
        const struct entry *e = &m->v[id - 1];
        if (e->hash == h && e->len == len && e->type == type &&
            memcmp(m->text.p + e->off, s, len) == 0)
            return id - 1;
        k = (k + 1) & m->mask;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        struct entry *v = cairn__seg_grow(m->v, m->n * sizeof *v,
                                          cap * sizeof *v);
        if (v == NULL)
            return -1;
        m->v = v;
        m->cap = cap;
    }
    if (m->n >= UINT32_MAX - 1)
        return -1;
    uint64_t off = m->text.len;
    if (vec_put(&m->text, s, len) < 0)
        return -1;
    m->v[m->n] = (struct entry){
        .hash = h, .off = off, .len = (uint32_t)len, .type = type};
    m->slots[k] = (uint32_t)m->n + 1;
    *added = true;
    return (int64_t)m->n++;
}

static int64_t strmap_id(struct strmap *m, uint8_t type, const char *s,
                         size_t len, bool *added)
{
    return strmap_id_h(m, type, s, len, hash_bytes(s, len, type), added);
}

static void strmap_reset(struct strmap *m)
{
    if (m->slots != NULL)
        memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
    m->n = 0;
    m->text.len = 0;
}

static void strmap_release(struct strmap *m)
{
    cairn_free(m->slots);
    cairn_free(m->v);
    cairn_free(m->text.p);
    memset(m, 0, sizeof *m);
}

/* ---- the writer ---------------------------------------------------------- */

struct u32vec {
    uint32_t *p;
    size_t n, cap;
};

static int u32_push(struct u32vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4096;
        uint32_t *p = cairn__seg_grow(v->p, v->n * sizeof *p,
                                      cap * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = x;
    return 0;
}

struct seg_writer {
    ZSTD_CCtx *cctx;
    struct strmap values, names;
    struct u32vec ev_vals; /* value ids of every event, in order */
    struct u32vec ev_ends; /* where each event's ids end in ev_vals */
    struct vec block;      /* the block being filled, decoded */
    uint32_t block_events;
    struct vec blocks;     /* compressed blocks */
    struct seg_block *dir;
    size_t n_dir, cap_dir;
    uint64_t events, raw_bytes;
    bool has_range;
    struct cairn_time first, last;
    /* the previous event of the block, for deltas */
    uint64_t prev_line, prev_off;
    int64_t prev_sec;
};

int cairn__seg_writer_new(struct seg_writer **out)
{
    struct seg_writer *w = cairn_calloc(1, sizeof *w);

    *out = NULL;
    if (w == NULL)
        return CAIRN_ENOMEM;
    w->cctx = ZSTD_createCCtx();
    if (w->cctx == NULL) {
        cairn_free(w);
        return CAIRN_ENOMEM;
    }
    *out = w;
    return 0;
}

void cairn__seg_writer_free(struct seg_writer *w)
{
    if (w == NULL)
        return;
    ZSTD_freeCCtx(w->cctx);
    strmap_release(&w->values);
    strmap_release(&w->names);
    cairn_free(w->ev_vals.p);
    cairn_free(w->ev_ends.p);
    cairn_free(w->block.p);
    cairn_free(w->blocks.p);
    cairn_free(w->dir);
    cairn_free(w);
}

void cairn__seg_writer_reset(struct seg_writer *w)
{
    strmap_reset(&w->values);
    strmap_reset(&w->names);
    w->ev_vals.n = 0;
    w->ev_ends.n = 0;
    w->block.len = 0;
    w->block_events = 0;
    w->blocks.len = 0;
    w->n_dir = 0;
    w->events = 0;
    w->raw_bytes = 0;
    w->has_range = false;
}

uint64_t cairn__seg_writer_events(const struct seg_writer *w)
{
    return w->events;
}

size_t cairn__seg_writer_memory(const struct seg_writer *w)
{
    return w->values.text.len + w->values.n * (sizeof(struct entry) + 8) +
           (w->ev_vals.n + w->ev_ends.n) * 4 + w->blocks.len + w->block.len;
}

void cairn__seg_writer_add_raw(struct seg_writer *w, uint64_t bytes)
{
    w->raw_bytes += bytes;
}

static int compress_into(ZSTD_CCtx *cctx, struct vec *out, const void *src,
                         size_t len, uint64_t *stored)
{
    size_t bound = ZSTD_compressBound(len);
    if (vec_reserve(out, bound) < 0)
        return CAIRN_ENOMEM;
    size_t n = ZSTD_compressCCtx(cctx, out->p + out->len, bound, src, len,
                                 ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return CAIRN_EINTERNAL;
    out->len += n;
    *stored = n;
    return 0;
}

static int flush_block(struct seg_writer *w)
{
    if (w->block_events == 0)
        return 0;
    if (w->n_dir == w->cap_dir) {
        size_t cap = w->cap_dir ? w->cap_dir * 2 : 64;
        struct seg_block *d = cairn_realloc(w->dir, cap * sizeof *d);
        if (d == NULL)
            return CAIRN_ENOMEM;
        w->dir = d;
        w->cap_dir = cap;
    }
    uint64_t off = w->blocks.len, stored = 0;
    int rc = compress_into(w->cctx, &w->blocks, w->block.p, w->block.len,
                           &stored);
    if (rc < 0)
        return rc;
    w->dir[w->n_dir++] = (struct seg_block){
        .off = off, /* relative to the first block until finish */
        .len = stored,
        .raw_len = w->block.len,
        .events = w->block_events,
        .crc = cairn__seg_sum(SEG_VERSION, w->blocks.p + off, stored),
    };
    w->block.len = 0;
    w->block_events = 0;
    return 0;
}

#define PREFETCH_FIELDS 32

static int64_t name_id(struct seg_writer *w, const char *s)
{
    bool added;
    return strmap_id(&w->names, 0, s, strlen(s), &added);
}

int cairn__seg_writer_add(struct seg_writer *w,
                          const struct cairn_hunt_event *ev,
                          const char *sensor)
{
    int64_t src = name_id(w, ev->file ? ev->file : "-");
    int64_t sen = name_id(w, sensor ? sensor : "");
    size_t nf = ev->n_fields < SEG_MAX_FIELDS ? ev->n_fields : SEG_MAX_FIELDS;

    if (src < 0 || sen < 0)
        return CAIRN_ENOMEM;
    if (vec_reserve(&w->block, 80) < 0)
        return CAIRN_ENOMEM;
    struct vec *b = &w->block;
    bool first = w->block_events == 0;
    put_varint_fast(b, (uint64_t)src);
    put_varint_fast(b, (uint64_t)sen);
    put_varint_fast(b, zz((int64_t)(ev->line - (first ? 0 : w->prev_line))));
    put_varint_fast(b,
                    zz((int64_t)(ev->offset - (first ? 0 : w->prev_off))));
    b->p[b->len++] = ev->has_ts ? 1 : 0;
    if (ev->has_ts) {
        put_varint_fast(b, zz(ev->ts.sec - (first ? 0 : w->prev_sec)));
        put_varint_fast(b, (uint64_t)(uint32_t)ev->ts.nsec);
        b->p[b->len++] = (uint8_t)ev->ts.digits;
        w->prev_sec = ev->ts.sec;
        if (!w->has_range || cairn_time_cmp(&ev->ts, &w->first) < 0)
            w->first = ev->ts;
        if (!w->has_range || cairn_time_cmp(&ev->ts, &w->last) > 0)
            w->last = ev->ts;
        w->has_range = true;
    } else if (first) {
        w->prev_sec = 0;
    }
    w->prev_line = ev->line;
    w->prev_off = ev->offset;
    put_varint_fast(b, nf);
    /* The values' hashes first, their slots fetched ahead: a large table's
     * probes then miss the cache together rather than one after another. */
    uint64_t hs[PREFETCH_FIELDS];
    for (size_t i = 0; i < nf && i < PREFETCH_FIELDS; i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        if (f->len >= MAX_VALUE_LEN)
            return CAIRN_ETOOBIG;
        hs[i] = hash_bytes(f->value ? f->value : "", f->len, (uint8_t)f->type);
        if (w->values.slots != NULL)
            __builtin_prefetch(&w->values.slots[hs[i] & w->values.mask]);
    }
    for (size_t i = 0; i < nf; i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        bool added;
        if (f->len >= MAX_VALUE_LEN)
            return CAIRN_ETOOBIG;
        int64_t nid = f->name ? name_id(w, f->name) : -1;
        const char *val = f->value ? f->value : "";
        uint64_t h = i < PREFETCH_FIELDS ? hs[i]
                                         : hash_bytes(val, f->len,
                                                      (uint8_t)f->type);
        int64_t vid = strmap_id_h(&w->values, (uint8_t)f->type, val, f->len,
                                  h, &added);
        if (vid < 0 || (f->name && nid < 0))
            return CAIRN_ENOMEM;
        if (added) {
            w->values.v[vid].vt = (struct vtime){.has_ts = ev->has_ts,
                                                 .first = ev->ts,
                                                 .last = ev->ts};
        } else if (ev->has_ts) {
            struct vtime *t = &w->values.v[vid].vt;
            if (!t->has_ts) {
                *t = (struct vtime){.has_ts = true,
                                    .first = ev->ts,
                                    .last = ev->ts};
            } else {
                if (cairn_time_cmp(&ev->ts, &t->first) < 0)
                    t->first = ev->ts;
                if (cairn_time_cmp(&ev->ts, &t->last) > 0)
                    t->last = ev->ts;
            }
        }
        if (vec_reserve(b, 20) < 0 || u32_push(&w->ev_vals, (uint32_t)vid) < 0)
            return CAIRN_ENOMEM;
        put_varint_fast(b, (uint64_t)(nid + 1));
        put_varint_fast(b, (uint64_t)vid);
    }
    if (u32_push(&w->ev_ends, (uint32_t)w->ev_vals.n) < 0)
        return CAIRN_ENOMEM;
    w->events++;
    if (++w->block_events == SEG_BLOCK_EVENTS)
        return flush_block(w);
    return 0;
}

static int add_section(struct seg_writer *w, struct vec *file,
                       const struct vec *raw, struct seg_section *sec)
{
    uint64_t stored = 0;
    sec->off = file->len;
    sec->raw_len = raw->len;
    int rc = compress_into(w->cctx, file, raw->p, raw->len, &stored);
    if (rc < 0)
        return rc;
    sec->len = stored;
    sec->crc = cairn__seg_sum(SEG_VERSION, file->p + sec->off, stored);
    return 0;
}

/* The postings: per value its count, time range and events (deltas). */
static int build_postings(struct seg_writer *w, struct vec *out,
                          uint64_t *fields, uint64_t *pst)
{
    size_t nv = w->values.n;
    uint32_t *count = cairn_calloc(nv + 1, sizeof *count);
    uint32_t *last = cairn_malloc((nv + 1) * sizeof *last);
    uint32_t *ids = NULL;
    uint64_t *start = NULL;
    int rc = CAIRN_ENOMEM;

    if (count == NULL || last == NULL)
        goto out;
    memset(last, 0xff, (nv + 1) * sizeof *last);
    /* An event lists a value once, however many fields hold it. */
    uint64_t total = 0;
    size_t k = 0;
    for (uint32_t e = 0; e < w->ev_ends.n; e++) {
        for (; k < w->ev_ends.p[e]; k++) {
            uint32_t v = w->ev_vals.p[k];
            if (last[v] != e) {
                last[v] = e;
                count[v]++;
                total++;
            }
        }
    }
    start = cairn_malloc((nv + 1) * sizeof *start);
    ids = cairn_malloc((total + 1) * sizeof *ids);
    if (start == NULL || ids == NULL)
        goto out;
    uint64_t pos = 0;
    for (size_t v = 0; v < nv; v++) {
        start[v] = pos;
        pos += count[v];
    }
    memset(last, 0xff, (nv + 1) * sizeof *last);
    uint64_t *fill = start; /* advanced as filled, restored below */
    k = 0;
    for (uint32_t e = 0; e < w->ev_ends.n; e++) {
        for (; k < w->ev_ends.p[e]; k++) {
            uint32_t v = w->ev_vals.p[k];
            if (last[v] != e) {
                last[v] = e;
                ids[fill[v]++] = e;
            }
        }
    }
    if (vec_reserve(out, (size_t)total * 3 + nv * 32) < 0)
        goto out;
    for (size_t v = 0; v < nv; v++) {
        uint64_t from = fill[v] - count[v];
        const struct vtime *t = &w->values.v[v].vt;
        if (vec_reserve(out, 10 + 1 + 42 + (size_t)count[v] * 5) < 0)
            goto out;
        pst[v] = out->len;
        put_varint_fast(out, count[v]);
        out->p[out->len++] = t->has_ts ? 1 : 0;
        if (t->has_ts && (put_time(out, &t->first) < 0 ||
                          put_time(out, &t->last) < 0))
            goto out;
        uint32_t prev = 0;
        for (uint64_t i = from; i < fill[v]; i++) {
            put_varint_fast(out, ids[i] - prev);
            prev = ids[i];
        }
    }
    pst[nv] = out->len;
    *fields = total;
    rc = 0;
out:
    cairn_free(count);
    cairn_free(last);
    cairn_free(start);
    cairn_free(ids);
    return rc;
}

/* The values and their postings, SEG_CHUNK_VALUES at a time; `sec` is
 * the chunk directory. */
static int add_chunks(struct seg_writer *w, struct vec *file,
                      const struct vec *postings, const uint64_t *pst,
                      struct seg_section *sec)
{
    struct vec chunk = {0}, dir = {0};
    int rc = CAIRN_ENOMEM;
    size_t nv = w->values.n;

    for (size_t c = 0; c < nv; c += SEG_CHUNK_VALUES) {
        size_t end = c + SEG_CHUNK_VALUES < nv ? c + SEG_CHUNK_VALUES : nv;
        chunk.len = 0;
        /* the values, then their postings: each compresses better so */
        for (size_t i = c; i < end; i++) {
            const struct entry *e = &w->values.v[i];
            if (vec_reserve(&chunk, 11 + e->len) < 0)
                goto out;
            chunk.p[chunk.len++] = e->type;
            put_varint_fast(&chunk, e->len);
            memcpy(chunk.p + chunk.len, w->values.text.p + e->off, e->len);
            chunk.len += e->len;
        }
        if (vec_put(&chunk, postings->p + pst[c],
                    (size_t)(pst[end] - pst[c])) < 0)
            goto out;
        uint64_t off = file->len, stored = 0;
        rc = compress_into(w->cctx, file, chunk.p, chunk.len, &stored);
        if (rc < 0)
            goto out;
        rc = CAIRN_ENOMEM;
        if (vec_reserve(&dir, 50) < 0)
            goto out;
        put_varint_fast(&dir, off);
        put_varint_fast(&dir, stored);
        put_varint_fast(&dir, chunk.len);
        put_varint_fast(&dir,
                        cairn__seg_sum(SEG_VERSION, file->p + off, stored));
    }
    rc = add_section(w, file, &dir, sec);
out:
    cairn_free(chunk.p);
    cairn_free(dir.p);
    return rc;
}

uint64_t cairn__seg_page_table_len(uint64_t len)
{
    return (len + SEG_PAGE - 1) / SEG_PAGE * 4;
}

/* A probe section stored as it is read, then (format 4) the checksum of
 * each of its pages; the section's checksum is that of the table. */
static int add_stored(struct vec *file, const uint8_t *p, size_t len,
                      struct seg_section *sec)
{
    size_t tl = (size_t)cairn__seg_page_table_len(len);

    sec->off = file->len;
    if (vec_reserve(file, len + tl) < 0 || vec_put(file, p, len) < 0)
        return CAIRN_ENOMEM;
    uint8_t *t = file->p + file->len;
    for (size_t o = 0; o < len; o += SEG_PAGE, t += 4)
        put_u32(t, cairn__seg_sum(SEG_VERSION, p + o,
                                  len - o < SEG_PAGE ? len - o : SEG_PAGE));
    sec->crc = cairn__seg_sum(SEG_VERSION, file->p + file->len, tl);
    file->len += tl;
    sec->len = len + tl;
    sec->raw_len = len;
    return 0;
}

/* The probe index of the writer's values. */
static int probe_sections(const struct strmap *values, uint8_t **keys,
                          size_t *kl, uint8_t **addrs, size_t *al)
{
    struct seg_keys *k = cairn_calloc(1, sizeof *k);
    int rc;

    if (k == NULL)
        return CAIRN_ENOMEM;
    if (values->n >= 0x80000000u) {
        cairn_free(k);
        return CAIRN_ETOOBIG;
    }
    for (size_t i = 0; i < values->n && k->err == 0; i++) {
        const struct entry *e = &values->v[i];
        cairn__seg_value_keys(k, (enum cairn_ioc_type)e->type,
                              (const char *)values->text.p + e->off, e->len,
                              (uint32_t)i);
    }
    rc = cairn__seg_keys_build(k, keys, kl, addrs, al);
    cairn__seg_keys_release(k);
    cairn_free(k);
    return rc;
}

static int add_probe(struct seg_writer *w, struct vec *file,
                     struct seg_section *ks, struct seg_section *as)
{
    uint8_t *keys = NULL, *addrs = NULL;
    size_t kl = 0, al = 0;
    int rc = probe_sections(&w->values, &keys, &kl, &addrs, &al);

    if (rc == 0)
        rc = add_stored(file, keys, kl, ks);
    if (rc == 0)
        rc = add_stored(file, addrs, al, as);
    cairn_free(keys);
    cairn_free(addrs);
    return rc;
}

int cairn__seg_writer_finish(struct seg_writer *w, uint8_t **out, size_t *len)
{
    struct vec file = {0}, raw = {0};
    struct seg_footer f = {0};
    uint64_t *pst = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    rc = flush_block(w);
    if (rc < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    /* Room for the whole file at once, not grown by copies: the values
     * and postings compress to less than their text and two words per
     * posting; the probe index takes about 24 bytes per value. What is
     * not written is never touched, so costs no memory. */
    if (vec_reserve(&file, SEG_HEADER_LEN + w->blocks.len + 4096 +
                               ZSTD_compressBound(w->values.text.len) +
                               w->values.n * 48 + w->ev_vals.n * 8) < 0)
        goto out;
    memcpy(file.p, SEG_MAGIC, 8);
    put_u32(file.p + 8, SEG_VERSION);
    put_u32(file.p + 12, 0);
    file.len = SEG_HEADER_LEN;
    if (vec_put(&file, w->blocks.p, w->blocks.len) < 0)
        goto out;

    /* names */
    if (put_varint(&raw, w->names.n) < 0)
        goto out;
    for (size_t i = 0; i < w->names.n; i++) {
        const struct entry *e = &w->names.v[i];
        if (put_varint(&raw, e->len) < 0 ||
            vec_put(&raw, w->names.text.p + e->off, e->len) < 0)
            goto out;
    }
    if ((rc = add_section(w, &file, &raw, &f.sec[SEC_NAMES])) < 0)
        goto out;
    /* postings, then the values with theirs in chunks */
    rc = CAIRN_ENOMEM;
    raw.len = 0;
    pst = cairn_malloc((w->values.n + 1) * sizeof *pst);
    if (pst == NULL)
        goto out;
    if ((rc = build_postings(w, &raw, &f.fields, pst)) < 0)
        goto out;
    rc = add_chunks(w, &file, &raw, pst, &f.sec[SEC_VALUES]);
    if (rc < 0)
        goto out;
    raw.len = 0;
    if ((rc = add_section(w, &file, &raw, &f.sec[SEC_POSTINGS])) < 0)
        goto out;
    /* block directory */
    rc = CAIRN_ENOMEM;
    raw.len = 0;
    for (size_t i = 0; i < w->n_dir; i++) {
        const struct seg_block *d = &w->dir[i];
        if (vec_reserve(&raw, 60) < 0)
            goto out;
        put_varint_fast(&raw, d->off + SEG_HEADER_LEN);
        put_varint_fast(&raw, d->len);
        put_varint_fast(&raw, d->raw_len);
        put_varint_fast(&raw, d->events);
        put_varint_fast(&raw, d->crc);
    }
    if ((rc = add_section(w, &file, &raw, &f.sec[SEC_BLOCKS])) < 0)
        goto out;
    /* the probe index, stored as it is read */
    if ((rc = add_probe(w, &file, &f.sec[SEC_KEYS], &f.sec[SEC_ADDRS])) < 0)
        goto out;

    /* footer */
    rc = CAIRN_ENOMEM;
    f.events = w->events;
    f.values = w->values.n;
    f.n_blocks = w->n_dir;
    f.raw_bytes = w->raw_bytes;
    f.has_range = w->has_range;
    f.first = w->first;
    f.last = w->last;
    if (vec_reserve(&file, SEG_FOOTER_LEN) < 0)
        goto out;
    uint8_t *p = file.p + file.len;
    memset(p, 0, SEG_FOOTER_LEN);
    memcpy(p, SEG_FOOT_MAGIC, 8);
    put_u32(p + 8, SEG_VERSION);
    uint8_t *q = p + 16;
    put_u64(q, f.events), q += 8;
    put_u64(q, f.values), q += 8;
    put_u64(q, f.n_blocks), q += 8;
    put_u64(q, f.raw_bytes), q += 8;
    put_u64(q, f.fields), q += 8;
    *q++ = f.has_range ? 1 : 0;
    put_u64(q, (uint64_t)f.first.sec), q += 8;
    put_u32(q, (uint32_t)f.first.nsec), q += 4;
    put_u64(q, (uint64_t)f.last.sec), q += 8;
    put_u32(q, (uint32_t)f.last.nsec), q += 4;
    for (int i = 0; i < SEC_COUNT; i++) {
        put_u64(q, f.sec[i].off), q += 8;
        put_u64(q, f.sec[i].len), q += 8;
        put_u64(q, f.sec[i].raw_len), q += 8;
        put_u32(q, f.sec[i].crc), q += 4;
    }
    put_u32(p + 12, cairn__seg_sum(SEG_VERSION, p + 16, SEG_FOOTER_LEN - 16));
    file.len += SEG_FOOTER_LEN;
    *out = file.p;
    *len = file.len;
    file.p = NULL;
    rc = 0;
out:
    cairn_free(file.p);
    cairn_free(raw.p);
    cairn_free(pst);
    return rc;
}

/* ---- the reader ---------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int
damaged(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && why_len > 0) {
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return CAIRN_EPARSE;
}

/* Check and decode one section into a new buffer of raw_len bytes. */
static int read_section(const struct seg_reader *r,
                        const struct seg_section *s, const char *what,
                        uint8_t **out, char *why, size_t why_len)
{
    const uint8_t *data = r->data;
    size_t len = r->len;

    *out = NULL;
    if (s->off < SEG_HEADER_LEN || s->off > len || s->len > len - s->off ||
        s->raw_len > SEG_MAX_SECTION)
        return damaged(why, why_len, "%s section out of bounds", what);
    if (cairn__seg_sum(r->foot.version, data + s->off, s->len) != s->crc)
        return damaged(why, why_len, "%s section: checksum mismatch", what);
    uint8_t *buf = cairn_malloc(s->raw_len + 1);
    if (buf == NULL)
        return CAIRN_ENOMEM;
    size_t n = ZSTD_decompressDCtx(r->dctx, buf, s->raw_len, data + s->off,
                                   s->len);
    if (ZSTD_isError(n) || n != s->raw_len) {
        cairn_free(buf);
        return damaged(why, why_len, "%s section does not decompress", what);
    }
    *out = buf;
    return 0;
}

size_t cairn__seg_footer_len(uint32_t version)
{
    switch (version) {
    case 1:
        return SEG_FOOTER_LEN_V1;
    case 2:
    case 3:
    case 4:
        return SEG_FOOTER_LEN;
    default:
        return 0;
    }
}

/* The footer of a segment of format `version` (from its header). */
static int parse_footer(const uint8_t *p, uint32_t version,
                        struct seg_footer *f, char *why, size_t why_len)
{
    size_t flen = cairn__seg_footer_len(version);
    int nsec = version == 1 ? SEC_COUNT_V1 : SEC_COUNT;

    memset(f, 0, sizeof *f);
    if (memcmp(p, SEG_FOOT_MAGIC, 8) != 0)
        return damaged(why, why_len, "no footer (a torn segment)");
    if (get_u32(p + 8) != version)
        return damaged(why, why_len, "footer: format %u is not known",
                       get_u32(p + 8));
    if (get_u32(p + 12) != cairn__seg_sum(version, p + 16, flen - 16))
        return damaged(why, why_len, "footer: checksum mismatch");
    f->version = version;
    const uint8_t *q = p + 16;
    f->events = get_u64(q), q += 8;
    f->values = get_u64(q), q += 8;
    f->n_blocks = get_u64(q), q += 8;
    f->raw_bytes = get_u64(q), q += 8;
    f->fields = get_u64(q), q += 8;
    f->has_range = *q++ != 0;
    f->first.sec = (int64_t)get_u64(q), q += 8;
    f->first.nsec = (int32_t)(get_u32(q) % 1000000000u), q += 4;
    f->last.sec = (int64_t)get_u64(q), q += 8;
    f->last.nsec = (int32_t)(get_u32(q) % 1000000000u), q += 4;
    f->first.digits = f->last.digits = 9;
    for (int i = 0; i < nsec; i++) {
        f->sec[i].off = get_u64(q), q += 8;
        f->sec[i].len = get_u64(q), q += 8;
        f->sec[i].raw_len = get_u64(q), q += 8;
        f->sec[i].crc = get_u32(q), q += 4;
    }
    if (f->events > SEG_MAX_EVENTS ||
        f->values > f->fields + 1 ||
        f->n_blocks != (f->events + cairn__seg_block_events(version) - 1) /
                           cairn__seg_block_events(version))
        return damaged(why, why_len, "footer: impossible counts");
    return 0;
}

int cairn__seg_footer(const uint8_t *buf, size_t len, struct seg_footer *f)
{
    char why[8];
    if (len < SEG_HEADER_LEN || memcmp(buf, SEG_MAGIC, 8) != 0)
        return CAIRN_EPARSE;
    uint32_t version = get_u32(buf + 8);
    size_t flen = cairn__seg_footer_len(version);
    if (flen == 0 || len != SEG_HEADER_LEN + flen)
        return CAIRN_EPARSE;
    return parse_footer(buf + SEG_HEADER_LEN, version, f, why, sizeof why);
}

/* Format 2: the chunk directory (in the VALUES section). */
static int open_chunks(struct seg_reader *r, char *why, size_t why_len)
{
    const struct seg_footer *f = &r->foot;
    uint8_t *raw = NULL;
    uint64_t n = (f->values + SEG_CHUNK_VALUES - 1) / SEG_CHUNK_VALUES;
    int rc = read_section(r, &f->sec[SEC_VALUES], "value chunks", &raw, why,
                          why_len);

    if (rc < 0)
        return rc;
    if (n > f->sec[SEC_VALUES].raw_len) {
        cairn_free(raw);
        return damaged(why, why_len, "value chunks: bad count");
    }
    r->chunks = cairn_calloc(n + 1, sizeof *r->chunks);
    if (r->chunks == NULL) {
        cairn_free(raw);
        return CAIRN_ENOMEM;
    }
    struct cur c = {raw, raw + f->sec[SEC_VALUES].raw_len, false};
    for (uint64_t i = 0; i < n; i++) {
        struct seg_block *b = &r->chunks[i];
        b->off = get_varint(&c);
        b->len = get_varint(&c);
        b->raw_len = get_varint(&c);
        uint64_t crc = get_varint(&c);
        b->crc = (uint32_t)crc;
        b->events = (uint32_t)(i + 1 < n ? SEG_CHUNK_VALUES
                                         : f->values - i * SEG_CHUNK_VALUES);
        if (c.bad || b->off < SEG_HEADER_LEN || b->off > r->len ||
            b->len > r->len - b->off || b->raw_len > MAX_BLOCK_RAW ||
            crc > UINT32_MAX) {
            cairn_free(raw);
            return damaged(why, why_len, "value chunks: bad entry %llu",
                           (unsigned long long)i);
        }
    }
    bool trailing = c.p != c.end;
    cairn_free(raw);
    if (trailing)
        return damaged(why, why_len, "value chunks: trailing bytes");
    r->n_chunks = n;
    return 0;
}

uint64_t cairn__seg_chunks(const struct seg_reader *r)
{
    return r->n_chunks;
}

void cairn__seg_chunk_free(struct seg_chunk *c)
{
    if (c == NULL)
        return;
    cairn_free(c->raw);
    cairn_free(c->types);
    cairn_free(c->offs);
    cairn_free(c->lens);
    cairn_free(c->post);
    cairn_free(c->post_end);
    memset(c, 0, sizeof *c);
}

/* Skip one posting record; false when damaged. */
static bool skip_posting(struct cur *c, uint64_t events)
{
    uint64_t cnt = get_varint(c);
    uint8_t has = get_byte(c);
    struct cairn_time t;
    if (has) {
        get_time(c, &t);
        get_time(c, &t);
    }
    if (cnt == 0 || cnt > events)
        c->bad = true;
    for (uint64_t k = 0; k < cnt && !c->bad; k++)
        get_varint(c);
    return !c->bad;
}

int cairn__seg_chunk(const struct seg_reader *r, uint64_t chunk,
                     struct seg_chunk *out, char *why, size_t why_len)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (chunk >= r->n_chunks)
        return damaged(why, why_len, "no value chunk %llu",
                       (unsigned long long)chunk);
    const struct seg_block *b = &r->chunks[chunk];
    if (cairn__seg_sum(r->foot.version, r->data + b->off, b->len) != b->crc)
        return damaged(why, why_len, "value chunk %llu: checksum mismatch",
                       (unsigned long long)chunk);
    uint32_t n = b->events;
    out->raw = cairn_malloc(b->raw_len + 1);
    out->types = cairn_malloc(n + 1);
    out->offs = cairn_malloc((n + 1) * sizeof *out->offs);
    out->lens = cairn_malloc((n + 1) * sizeof *out->lens);
    out->post = cairn_malloc((n + 1) * sizeof *out->post);
    out->post_end = cairn_malloc((n + 1) * sizeof *out->post_end);
    if (out->raw == NULL || out->types == NULL || out->offs == NULL ||
        out->lens == NULL || out->post == NULL || out->post_end == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    size_t got = ZSTD_decompressDCtx(r->dctx, out->raw, b->raw_len,
                                     r->data + b->off, b->len);
    if (ZSTD_isError(got) || got != b->raw_len) {
        rc = damaged(why, why_len, "value chunk %llu does not decompress",
                     (unsigned long long)chunk);
        goto fail;
    }
    struct cur c = {out->raw, out->raw + b->raw_len, false};
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t = get_byte(&c);
        uint64_t l = get_varint(&c);
        const uint8_t *s = get_bytes(&c, l);
        if (c.bad || t >= CAIRN_IOC_TYPE_COUNT) {
            rc = damaged(why, why_len, "value chunk %llu: bad value %u",
                         (unsigned long long)chunk, i);
            goto fail;
        }
        out->types[i] = t;
        out->offs[i] = (uint32_t)(s - out->raw);
        out->lens[i] = (uint32_t)l;
    }
    for (uint32_t i = 0; i < n; i++) {
        out->post[i] = (uint32_t)(c.p - out->raw);
        if (!skip_posting(&c, r->foot.events)) {
            rc = damaged(why, why_len, "value chunk %llu: bad postings of %u",
                         (unsigned long long)chunk, i);
            goto fail;
        }
        out->post_end[i] = (uint32_t)(c.p - out->raw);
    }
    if (c.p != c.end) {
        rc = damaged(why, why_len, "value chunk %llu: trailing bytes",
                     (unsigned long long)chunk);
        goto fail;
    }
    out->first = chunk * SEG_CHUNK_VALUES;
    out->n = n;
    return 0;
fail:
    cairn__seg_chunk_free(out);
    return rc;
}

static int parse_posting(const uint8_t *p, const uint8_t *end,
                         struct seg_posting *out)
{
    struct cur c = {p, end, false};
    out->count = get_varint(&c);
    out->has_ts = get_byte(&c) != 0;
    if (out->has_ts) {
        get_time(&c, &out->first);
        get_time(&c, &out->last);
    }
    out->ids = c.p;
    out->end = c.end;
    return c.bad ? CAIRN_EPARSE : 0;
}

int cairn__seg_chunk_posting(const struct seg_chunk *c, uint32_t i,
                             struct seg_posting *out)
{
    if (i >= c->n)
        return CAIRN_EINVAL;
    return parse_posting(c->raw + c->post[i], c->raw + c->post_end[i], out);
}

int cairn__seg_pages_check(const struct seg_pages *pg, const uint8_t *p,
                           uint64_t len)
{
    if (pg->ok == NULL)
        return 0;
    if (p < pg->base || (uint64_t)(p - pg->base) > pg->len ||
        len > pg->len - (uint64_t)(p - pg->base))
        return CAIRN_EPARSE;
    if (len == 0)
        return 0;
    uint64_t off = (uint64_t)(p - pg->base);
    for (uint64_t k = off / SEG_PAGE; k <= (off + len - 1) / SEG_PAGE; k++) {
        if (pg->ok[k / 8] & (1u << (k % 8)))
            continue;
        uint64_t from = k * SEG_PAGE;
        uint64_t n = pg->len - from < SEG_PAGE ? pg->len - from : SEG_PAGE;
        if (cairn__seg_sum(4, pg->base + from, (size_t)n) !=
            get_u32(pg->sums + k * 4))
            return CAIRN_EPARSE;
        pg->ok[k / 8] |= (uint8_t)(1u << (k % 8));
    }
    return 0;
}

/* A section stored as it is read: bounds and checksum (format 4: of its
 * page table, and with `pages` of every page). */
static int check_stored(const struct seg_reader *r,
                        const struct seg_section *s, const char *what,
                        bool verify, bool pages, char *why, size_t why_len)
{
    const uint8_t *data = r->data;
    size_t len = r->len;
    uint32_t v = r->foot.version;

    if (s->off < SEG_HEADER_LEN || s->off > len || s->len > len - s->off ||
        (v < 4 && s->raw_len != s->len) ||
        (v >= 4 && (s->raw_len > s->len ||
                    s->len - s->raw_len !=
                        cairn__seg_page_table_len(s->raw_len))))
        return damaged(why, why_len, "%s section out of bounds", what);
    if (!verify)
        return 0;
    if (v < 4)
        return cairn__seg_sum(v, data + s->off, s->len) != s->crc
                   ? damaged(why, why_len, "%s section: checksum mismatch",
                             what)
                   : 0;
    const uint8_t *t = data + s->off + s->raw_len;
    if (cairn__seg_sum(v, t, (size_t)(s->len - s->raw_len)) != s->crc)
        return damaged(why, why_len, "%s section: checksum mismatch (pages)",
                       what);
    for (uint64_t o = 0; pages && o < s->raw_len; o += SEG_PAGE, t += 4) {
        uint64_t n = s->raw_len - o < SEG_PAGE ? s->raw_len - o : SEG_PAGE;
        if (cairn__seg_sum(v, data + s->off + o, (size_t)n) != get_u32(t))
            return damaged(why, why_len,
                           "%s section: checksum mismatch in page %llu",
                           what, (unsigned long long)(o / SEG_PAGE));
    }
    return 0;
}

int cairn__seg_probe_span(const struct seg_reader *r, uint64_t *off,
                          uint64_t *len)
{
    const struct seg_footer *f = &r->foot;
    const struct seg_section *k = &f->sec[SEC_KEYS], *ad = &f->sec[SEC_ADDRS];

    if (f->version < 2 ||
        check_stored(r, k, "keys", false, false, NULL, 0) < 0 ||
        check_stored(r, ad, "addresses", false, false, NULL, 0) < 0)
        return CAIRN_EPARSE;
    uint64_t lo = k->off < ad->off ? k->off : ad->off;
    uint64_t hi = k->off + k->len > ad->off + ad->len ? k->off + k->len
                                                      : ad->off + ad->len;
    *off = lo;
    *len = hi - lo;
    return 0;
}

void cairn__seg_probe_close(struct seg_probe *p)
{
    if (p == NULL)
        return;
    cairn_free(p->ok_mem);
    memset(p, 0, sizeof *p);
}

int cairn__seg_probe_in(const struct seg_reader *r, const uint8_t *span,
                        uint64_t span_off, uint64_t span_len,
                        enum seg_verify how, struct seg_probe *p, char *why,
                        size_t why_len)
{
    const struct seg_footer *f = &r->foot;
    const struct seg_section *k = &f->sec[SEC_KEYS], *ad = &f->sec[SEC_ADDRS];
    bool lazy = how == SEG_VERIFY_USED && f->version >= 4;
    bool all = how == SEG_VERIFY_ALL || (how == SEG_VERIFY_USED && !lazy);
    int rc;

    memset(p, 0, sizeof *p);
    if (f->version < 2)
        return damaged(why, why_len, "format 1 has no probe index");
    if ((rc = check_stored(r, k, "keys", false, false, why, why_len)) < 0 ||
        (rc = check_stored(r, ad, "addresses", false, false, why, why_len)) <
            0)
        return rc;
    if (k->off < span_off || k->off + k->len > span_off + span_len ||
        ad->off < span_off || ad->off + ad->len > span_off + span_len)
        return damaged(why, why_len, "probe index: outside the bytes read");
    const uint8_t *kp = span + (k->off - span_off);
    const uint8_t *ap = span + (ad->off - span_off);
    if (f->version < 4) {
        if (all && cairn__seg_sum(f->version, kp, k->len) != k->crc)
            return damaged(why, why_len, "keys section: checksum mismatch");
        if (all && cairn__seg_sum(f->version, ap, ad->len) != ad->crc)
            return damaged(why, why_len,
                           "addresses section: checksum mismatch");
        if (cairn__seg_probe_open(kp, k->len, ap, ad->len, f->values, p) < 0)
            return damaged(why, why_len, "probe index: bad layout");
        return 0;
    }
    /* format 4: the page tables (small) now, the pages as read or all */
    if (how != SEG_VERIFY_NONE) {
        const uint8_t *t[2] = {kp + k->raw_len, ap + ad->raw_len};
        const struct seg_section *sec[2] = {k, ad};
        const uint8_t *base[2] = {kp, ap};
        static const char *const what[2] = {"keys", "addresses"};
        for (int i = 0; i < 2; i++) {
            const struct seg_section *s = sec[i];
            if (cairn__seg_sum(f->version, t[i],
                               (size_t)(s->len - s->raw_len)) != s->crc)
                return damaged(why, why_len,
                               "%s section: checksum mismatch (pages)",
                               what[i]);
            for (uint64_t o = 0; all && o < s->raw_len; o += SEG_PAGE) {
                uint64_t n = s->raw_len - o < SEG_PAGE ? s->raw_len - o
                                                       : SEG_PAGE;
                if (cairn__seg_sum(f->version, base[i] + o, (size_t)n) !=
                    get_u32(t[i] + o / SEG_PAGE * 4))
                    return damaged(why, why_len,
                                   "%s section: checksum mismatch in page "
                                   "%llu",
                                   what[i],
                                   (unsigned long long)(o / SEG_PAGE));
            }
        }
    }
    struct seg_pages kpg = {kp, kp + k->raw_len, k->raw_len, NULL};
    struct seg_pages apg = {ap, ap + ad->raw_len, ad->raw_len, NULL};
    uint8_t *ok = NULL;
    if (lazy) {
        uint64_t kb = (k->raw_len / SEG_PAGE + 8) / 8,
                 ab = (ad->raw_len / SEG_PAGE + 8) / 8;
        ok = cairn_calloc((size_t)(kb + ab), 1);
        if (ok == NULL)
            return CAIRN_ENOMEM;
        kpg.ok = ok;
        apg.ok = ok + kb;
        if (cairn__seg_pages_check(&kpg, kp,
                                   k->raw_len < SEG_KEYS_HEAD ? k->raw_len
                                                              : SEG_KEYS_HEAD) <
            0) {
            cairn_free(ok);
            return damaged(why, why_len,
                           "keys section: checksum mismatch in page 0");
        }
        if (cairn__seg_pages_check(&apg, ap,
                                   ad->raw_len < SEG_ADDRS_HEAD
                                       ? ad->raw_len
                                       : SEG_ADDRS_HEAD) < 0) {
            cairn_free(ok);
            return damaged(why, why_len,
                           "addresses section: checksum mismatch in page 0");
        }
    }
    if (cairn__seg_probe_open(kp, k->raw_len, ap, ad->raw_len, f->values,
                              p) < 0) {
        cairn_free(ok);
        return damaged(why, why_len, "probe index: bad layout");
    }
    p->kp = kpg;
    p->ap = apg;
    p->ok_mem = ok;
    return 0;
}

int cairn__seg_probe(const struct seg_reader *r, enum seg_verify how,
                     struct seg_probe *p, char *why, size_t why_len)
{
    return cairn__seg_probe_in(r, r->data, 0, r->len, how, p, why, why_len);
}

int cairn__seg_open(const uint8_t *data, size_t len, struct seg_reader *r,
                    char *why, size_t why_len)
{
    uint8_t *raw = NULL;
    int rc;

    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    if (len < SEG_HEADER_LEN + SEG_FOOTER_LEN_V1 ||
        memcmp(data, SEG_MAGIC, 8) != 0)
        return damaged(why, why_len, "not a segment (bad header)");
    uint32_t version = get_u32(data + 8);
    size_t flen = cairn__seg_footer_len(version);
    if (flen == 0)
        return damaged(why, why_len, "segment format %u is not known",
                       version);
    if (len < SEG_HEADER_LEN + flen)
        return damaged(why, why_len, "not a segment (too short)");
    if (get_u32(data + 12) != 0)
        return damaged(why, why_len, "header: reserved bytes are not zero");
    rc = parse_footer(data + len - flen, version, &r->foot, why, why_len);
    if (rc < 0)
        return rc;
    struct seg_footer *f = &r->foot;
    r->block_events = cairn__seg_block_events(version);
    r->dctx = ZSTD_createDCtx();
    if (r->dctx == NULL)
        return CAIRN_ENOMEM;
    /* names */
    rc = read_section(r, &f->sec[SEC_NAMES], "names", &raw, why, why_len);
    if (rc < 0)
        goto fail;
    r->names_raw = raw;
    struct cur c = {raw, raw + f->sec[SEC_NAMES].raw_len, false};
    uint64_t n = get_varint(&c);
    if (c.bad || n > MAX_NAMES || n > f->sec[SEC_NAMES].raw_len) {
        rc = damaged(why, why_len, "names section: bad count");
        goto fail;
    }
    r->names = cairn_calloc(n + 1, sizeof *r->names);
    r->name_lens = cairn_calloc(n + 1, sizeof *r->name_lens);
    if (r->names == NULL || r->name_lens == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    /* Each name is made a C string in place: its length byte(s) before
     * it are shifted out by copying into a fresh buffer. */
    uint8_t *text = cairn_malloc(f->sec[SEC_NAMES].raw_len + n + 1);
    if (text == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    size_t tpos = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t l = get_varint(&c);
        const uint8_t *s = get_bytes(&c, l);
        if (c.bad || memchr(s, '\0', l) != NULL) {
            cairn_free(text);
            rc = damaged(why, why_len, "names section: bad name %llu",
                         (unsigned long long)i);
            goto fail;
        }
        memcpy(text + tpos, s, l);
        text[tpos + l] = '\0';
        r->names[i] = (char *)text + tpos;
        r->name_lens[i] = (uint32_t)l;
        tpos += l + 1;
    }
    cairn_free(r->names_raw);
    r->names_raw = text;
    r->n_names = n;

    /* block directory */
    rc = read_section(r, &f->sec[SEC_BLOCKS], "block directory", &raw, why,
                      why_len);
    if (rc < 0)
        goto fail;
    r->blocks = cairn_calloc(f->n_blocks + 1, sizeof *r->blocks);
    if (r->blocks == NULL) {
        cairn_free(raw);
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    c = (struct cur){raw, raw + f->sec[SEC_BLOCKS].raw_len, false};
    uint64_t total = 0;
    for (uint64_t i = 0; i < f->n_blocks; i++) {
        struct seg_block *b = &r->blocks[i];
        b->off = get_varint(&c);
        b->len = get_varint(&c);
        b->raw_len = get_varint(&c);
        uint64_t ev = get_varint(&c), crc = get_varint(&c);
        b->events = (uint32_t)ev;
        b->crc = (uint32_t)crc;
        total += ev;
        if (c.bad || b->off < SEG_HEADER_LEN || b->off > len ||
            b->len > len - b->off || b->raw_len > MAX_BLOCK_RAW ||
            ev == 0 || ev > r->block_events || crc > UINT32_MAX ||
            (i + 1 < f->n_blocks && ev != r->block_events)) {
            cairn_free(raw);
            rc = damaged(why, why_len, "block directory: bad entry %llu",
                         (unsigned long long)i);
            goto fail;
        }
    }
    cairn_free(raw);
    if (total != f->events) {
        rc = damaged(why, why_len, "block directory: %llu events, footer %llu",
                     (unsigned long long)total,
                     (unsigned long long)f->events);
        goto fail;
    }
    if (f->version >= 2 && (rc = open_chunks(r, why, why_len)) < 0)
        goto fail;
    return 0;
fail:
    cairn__seg_close(r);
    return rc;
}

void cairn__seg_close(struct seg_reader *r)
{
    if (r == NULL)
        return;
    cairn_free(r->blocks);
    cairn_free(r->chunks);
    r->chunks = NULL;
    r->n_chunks = 0;
    cairn_free(r->names);
    cairn_free(r->name_lens);
    cairn_free(r->names_raw);
    ZSTD_freeDCtx(r->dctx);
    r->dctx = NULL;
    r->blocks = NULL;
    r->names = NULL;
    r->name_lens = NULL;
    r->names_raw = NULL;
}

/* Format 2: every chunk decoded, values and postings laid out as in 1. */
static int values_v2(struct seg_reader *r, struct seg_values *out, char *why,
                     size_t why_len)
{
    uint64_t n = r->foot.values, text_len = 0, post_len = 0;
    struct seg_chunk c;
    int rc = CAIRN_ENOMEM;

    for (uint64_t i = 0; i < r->n_chunks; i++)
        text_len += r->chunks[i].raw_len;
    post_len = text_len;
    out->types = cairn_malloc(n + 1);
    out->offs = cairn_malloc((n + 1) * sizeof *out->offs);
    out->lens = cairn_malloc((n + 1) * sizeof *out->lens);
    out->text = cairn_malloc(text_len + 1);
    out->postings = cairn_malloc(post_len + 1);
    out->post_off = cairn_malloc((n + 1) * sizeof *out->post_off);
    if (out->types == NULL || out->offs == NULL || out->lens == NULL ||
        out->text == NULL || out->postings == NULL || out->post_off == NULL)
        goto fail;
    uint64_t tp = 0, pp = 0, v = 0;
    for (uint64_t k = 0; k < r->n_chunks; k++) {
        rc = cairn__seg_chunk(r, k, &c, why, why_len);
        if (rc < 0)
            goto fail;
        for (uint32_t i = 0; i < c.n; i++, v++) {
            out->types[v] = c.types[i];
            out->offs[v] = tp;
            out->lens[v] = c.lens[i];
            memcpy(out->text + tp, c.raw + c.offs[i], c.lens[i]);
            tp += c.lens[i];
            size_t pl = c.post_end[i] - c.post[i];
            out->post_off[v] = pp;
            memcpy(out->postings + pp, c.raw + c.post[i], pl);
            pp += pl;
        }
        cairn__seg_chunk_free(&c);
    }
    out->post_off[n] = pp;
    out->postings_len = pp;
    out->n = n;
    return 0;
fail:
    cairn__seg_values_free(out);
    return rc;
}

int cairn__seg_values(struct seg_reader *r, bool postings,
                      struct seg_values *out, char *why, size_t why_len)
{
    const struct seg_footer *f = &r->foot;
    uint8_t *raw = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (f->version >= 2)
        return values_v2(r, out, why, why_len);
    rc = read_section(r, &f->sec[SEC_VALUES], "values", &raw,
                      why, why_len);
    if (rc < 0)
        return rc;
    uint64_t n = f->values;
    if (n > f->sec[SEC_VALUES].raw_len) {
        cairn_free(raw);
        return damaged(why, why_len, "values section: bad count");
    }
    out->types = cairn_malloc(n + 1);
    out->offs = cairn_malloc((n + 1) * sizeof *out->offs);
    out->lens = cairn_malloc((n + 1) * sizeof *out->lens);
    if (out->types == NULL || out->offs == NULL || out->lens == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    /* The values stay where they were decoded: no copy. */
    struct cur c = {raw, raw + f->sec[SEC_VALUES].raw_len, false};
    for (uint64_t i = 0; i < n; i++) {
        uint8_t t = get_byte(&c);
        uint64_t l = get_varint(&c);
        const uint8_t *s = get_bytes(&c, l);
        if (c.bad || t >= CAIRN_IOC_TYPE_COUNT || l > UINT32_MAX) {
            rc = damaged(why, why_len, "values section: bad value %llu",
                         (unsigned long long)i);
            goto fail;
        }
        out->types[i] = t;
        out->offs[i] = (uint64_t)(s - raw);
        out->lens[i] = (uint32_t)l;
    }
    out->n = n;
    if (c.p != c.end) {
        rc = damaged(why, why_len, "values section: trailing bytes");
        goto fail;
    }
    out->text = (char *)raw;
    raw = NULL;
    if (!postings)
        return 0;
    rc = cairn__seg_values_postings(r, out, why, why_len);
    if (rc < 0)
        goto fail;
    return 0;
fail:
    cairn_free(raw);
    cairn__seg_values_free(out);
    return rc;
}

int cairn__seg_values_postings(struct seg_reader *r, struct seg_values *out,
                               char *why, size_t why_len)
{
    const struct seg_footer *f = &r->foot;
    uint64_t n = out->n;
    int rc;

    if (out->post_off != NULL)
        return 0;
    rc = read_section(r, &f->sec[SEC_POSTINGS], "postings",
                      &out->postings, why, why_len);
    if (rc < 0)
        goto fail;
    out->postings_len = f->sec[SEC_POSTINGS].raw_len;
    out->post_off = cairn_malloc((n + 1) * sizeof *out->post_off);
    if (out->post_off == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    struct cur c = {out->postings, out->postings + out->postings_len, false};
    for (uint64_t i = 0; i < n; i++) {
        out->post_off[i] = (uint64_t)(c.p - out->postings);
        uint64_t cnt = get_varint(&c);
        uint8_t has = get_byte(&c);
        struct cairn_time t;
        if (has) {
            get_time(&c, &t);
            get_time(&c, &t);
        }
        if (cnt == 0 || cnt > f->events)
            c.bad = true;
        for (uint64_t k = 0; k < cnt && !c.bad; k++)
            get_varint(&c);
        if (c.bad) {
            rc = damaged(why, why_len, "postings section: bad entry %llu",
                         (unsigned long long)i);
            goto fail;
        }
    }
    out->post_off[n] = (uint64_t)(c.p - out->postings);
    return 0;
fail:
    cairn_free(out->postings);
    cairn_free(out->post_off);
    out->postings = NULL;
    out->post_off = NULL;
    out->postings_len = 0;
    return rc;
}

void cairn__seg_values_free(struct seg_values *v)
{
    if (v == NULL)
        return;
    cairn_free(v->types);
    cairn_free(v->offs);
    cairn_free(v->lens);
    cairn_free(v->text);
    cairn_free(v->postings);
    cairn_free(v->post_off);
    memset(v, 0, sizeof *v);
}

int cairn__seg_posting(const struct seg_values *v, uint64_t value,
                       struct seg_posting *out)
{
    if (v->post_off == NULL || value >= v->n)
        return CAIRN_EINVAL;
    return parse_posting(v->postings + v->post_off[value],
                         v->postings + v->post_off[value + 1], out);
}

bool cairn__seg_posting_next(struct seg_posting *p, uint64_t *prev)
{
    struct cur c = {p->ids, p->end, false};
    if (p->ids >= p->end)
        return false;
    uint64_t d = get_varint(&c);
    if (c.bad)
        return false;
    p->ids = c.p;
    *prev += d;
    return true;
}

int cairn__seg_block(const struct seg_reader *r, uint64_t block,
                     const struct seg_values *v, struct seg_block_events *out,
                     char *why, size_t why_len)
{
    return cairn__seg_block_upto(r, block, v, UINT32_MAX, out, why, why_len);
}

int cairn__seg_block_upto(const struct seg_reader *r, uint64_t block,
                          const struct seg_values *v, uint32_t upto,
                          struct seg_block_events *out, char *why,
                          size_t why_len)
{
    const struct seg_block *b;
    uint8_t *raw = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if (block >= r->foot.n_blocks)
        return damaged(why, why_len, "no block %llu",
                       (unsigned long long)block);
    b = &r->blocks[block];
    if (cairn__seg_sum(r->foot.version, r->data + b->off, b->len) != b->crc)
        return damaged(why, why_len, "block %llu: checksum mismatch",
                       (unsigned long long)block);
    raw = cairn_malloc(b->raw_len + 1);
    out->events = cairn_calloc(b->events, sizeof *out->events);
    if (raw == NULL || out->events == NULL) {
        rc = CAIRN_ENOMEM;
        goto fail;
    }
    size_t n = ZSTD_decompressDCtx(r->dctx, raw, b->raw_len,
                                   r->data + b->off, b->len);
    if (ZSTD_isError(n) || n != b->raw_len) {
        rc = damaged(why, why_len, "block %llu does not decompress",
                     (unsigned long long)block);
        goto fail;
    }
    out->first = block * r->block_events;
    out->n = upto < b->events ? upto + 1 : b->events;
    struct cur c = {raw, raw + b->raw_len, false};
    size_t cap = 0;
    uint64_t line = 0, off = 0;
    int64_t sec = 0;
    for (uint32_t i = 0; i < out->n && !c.bad; i++) {
        struct seg_event *e = &out->events[i];
        e->source = (uint32_t)get_varint(&c);
        e->sensor = (uint32_t)get_varint(&c);
        line += (uint64_t)unzz(get_varint(&c));
        off += (uint64_t)unzz(get_varint(&c));
        e->line = line;
        e->offset = off;
        e->has_ts = get_byte(&c) != 0;
        if (e->has_ts) {
            sec += unzz(get_varint(&c));
            uint64_t ns = get_varint(&c);
            uint8_t d = get_byte(&c);
            if (ns >= 1000000000u || d > 9)
                c.bad = true;
            e->ts = (struct cairn_time){sec, (int32_t)(ns % 1000000000u),
                                        (int8_t)(d > 9 ? 9 : d)};
        }
        uint64_t nf = get_varint(&c);
        if (e->source >= r->n_names || e->sensor >= r->n_names ||
            nf > SEG_MAX_FIELDS) {
            c.bad = true;
            break;
        }
        e->n_fields = (uint32_t)nf;
        e->field_off = out->n_fields;
        if (out->n_fields + nf > cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            while (ncap < out->n_fields + nf)
                ncap *= 2;
            struct seg_field *fv =
                cairn_realloc(out->fields, ncap * sizeof *fv);
            if (fv == NULL) {
                rc = CAIRN_ENOMEM;
                goto fail;
            }
            out->fields = fv;
            cap = ncap;
        }
        for (uint64_t k = 0; k < nf; k++) {
            struct seg_field *fd = &out->fields[out->n_fields++];
            uint64_t name = get_varint(&c);
            fd->value = get_varint(&c);
            fd->name = (uint32_t)name;
            if (name > r->n_names || (v != NULL && fd->value >= v->n) ||
                fd->value >= r->foot.values)
                c.bad = true;
        }
    }
    if (c.bad || (out->n == b->events && c.p != c.end)) {
        rc = damaged(why, why_len, "block %llu: bad event",
                     (unsigned long long)block);
        goto fail;
    }
    cairn_free(raw);
    return 0;
fail:
    cairn_free(raw);
    cairn__seg_block_free(out);
    return rc;
}

void cairn__seg_block_free(struct seg_block_events *b)
{
    if (b == NULL)
        return;
    cairn_free(b->events);
    cairn_free(b->fields);
    memset(b, 0, sizeof *b);
}

const char *cairn__seg_event(const struct seg_reader *r,
                             const struct seg_values *v,
                             const struct seg_block_events *b, uint32_t i,
                             struct cairn_hunt_field *fields,
                             struct cairn_hunt_event *ev)
{
    const struct seg_event *e = &b->events[i];

    for (uint32_t k = 0; k < e->n_fields; k++) {
        const struct seg_field *fd = &b->fields[e->field_off + k];
        fields[k] = (struct cairn_hunt_field){
            .type = (enum cairn_ioc_type)v->types[fd->value],
            .value = v->text + v->offs[fd->value],
            .len = v->lens[fd->value],
            .name = fd->name ? r->names[fd->name - 1] : NULL,
        };
    }
    *ev = (struct cairn_hunt_event){
        .fields = fields,
        .n_fields = e->n_fields,
        .file = r->names[e->source],
        .line = e->line,
        .offset = e->offset,
        .has_ts = e->has_ts,
        .ts = e->ts,
    };
    return r->names[e->sensor];
}

/* The probe index must be exactly the one the values give. */
static int verify_probe(const struct seg_reader *r, const struct seg_values *v,
                        char *why, size_t why_len)
{
    struct seg_probe p;
    struct seg_keys *k = cairn_calloc(1, sizeof *k);
    uint8_t *keys = NULL, *addrs = NULL;
    size_t kl = 0, al = 0;
    int rc;

    if (k == NULL)
        return CAIRN_ENOMEM;
    rc = cairn__seg_probe(r, SEG_VERIFY_ALL, &p, why, why_len);
    if (rc < 0)
        goto out;
    cairn__seg_probe_close(&p);
    for (uint64_t i = 0; i < v->n && k->err == 0; i++)
        cairn__seg_value_keys(k, (enum cairn_ioc_type)v->types[i],
                              v->text + v->offs[i], v->lens[i], (uint32_t)i);
    rc = cairn__seg_keys_build(k, &keys, &kl, &addrs, &al);
    if (rc < 0)
        goto out;
    const struct seg_section *ks = &r->foot.sec[SEC_KEYS],
                             *as = &r->foot.sec[SEC_ADDRS];
    if (kl != ks->raw_len || memcmp(keys, r->data + ks->off, kl) != 0 ||
        al != as->raw_len || memcmp(addrs, r->data + as->off, al) != 0)
        rc = damaged(why, why_len,
                     "probe index does not match the values");
out:
    cairn_free(keys);
    cairn_free(addrs);
    cairn__seg_keys_release(k);
    cairn_free(k);
    return rc;
}

int cairn__seg_verify(struct seg_reader *r, char *why, size_t why_len)
{
    struct seg_values v;
    struct seg_block_events b;
    uint64_t *seen = NULL;
    int rc = cairn__seg_values(r, true, &v, why, why_len);

    if (rc < 0)
        return rc;
    /* Every event's values must list it, and every posting must be one. */
    uint64_t pairs = 0;
    seen = cairn_calloc(v.n + 1, sizeof *seen);
    uint64_t *cursor = cairn_calloc(v.n + 1, sizeof *cursor);
    struct seg_posting *post = cairn_calloc(v.n + 1, sizeof *post);
    if (seen == NULL || cursor == NULL || post == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < v.n; i++) {
        if (cairn__seg_posting(&v, i, &post[i]) < 0) {
            rc = damaged(why, why_len, "postings of value %llu unreadable",
                         (unsigned long long)i);
            goto out;
        }
    }
    for (uint64_t bl = 0; bl < r->foot.n_blocks; bl++) {
        rc = cairn__seg_block(r, bl, &v, &b, why, why_len);
        if (rc < 0)
            goto out;
        for (uint32_t i = 0; i < b.n; i++) {
            uint64_t id = b.first + i;
            const struct seg_event *e = &b.events[i];
            for (uint32_t k = 0; k < e->n_fields; k++) {
                uint64_t val = b.fields[e->field_off + k].value;
                if (seen[val] == id + 1)
                    continue;
                seen[val] = id + 1;
                pairs++;
                uint64_t prev = cursor[val] == 0 ? 0 : cursor[val] - 1;
                if (!cairn__seg_posting_next(&post[val], &prev) ||
                    prev != id) {
                    cairn__seg_block_free(&b);
                    rc = damaged(why, why_len,
                                 "index: value %llu does not list event %llu",
                                 (unsigned long long)val,
                                 (unsigned long long)id);
                    goto out;
                }
                cursor[val] = id + 1;
            }
        }
        cairn__seg_block_free(&b);
    }
    for (uint64_t i = 0; i < v.n; i++) {
        uint64_t prev = 0;
        if (cairn__seg_posting_next(&post[i], &prev) || cursor[i] == 0) {
            rc = damaged(why, why_len, "index: value %llu lists extra events",
                         (unsigned long long)i);
            goto out;
        }
    }
    if (pairs != r->foot.fields) {
        rc = damaged(why, why_len, "index: %llu postings, footer says %llu",
                     (unsigned long long)pairs,
                     (unsigned long long)r->foot.fields);
        goto out;
    }
    if (r->foot.version >= 2 && (rc = verify_probe(r, &v, why, why_len)) < 0)
        goto out;
    rc = 0;
out:
    cairn_free(seen);
    cairn_free(cursor);
    cairn_free(post);
    cairn__seg_values_free(&v);
    return rc;
}
