/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue: every distinct value of the archive, first and last seen. */
#include <string.h>

#include "archive/archive_priv.h"

/*
 * The catalogue is the union of the segments' value tables (each segment
 * stores its distinct values with count, first and last seen): built in
 * memory when first asked for, and again after the segments changed.
 */
struct cat_entry {
    uint64_t hash;
    uint64_t off; /* in text */
    uint32_t len;
    uint8_t type;
    uint64_t count;
    bool has_ts;
    struct cairn_time first, last;
};

struct arch_catalogue {
    struct cat_entry *v;
    size_t n, cap;
    uint32_t *slots;
    size_t mask;
    char *text;
    size_t text_len, text_cap;
    /* the last lookup's value, for cairn_archive_lookup's *out */
    char *last;
};

static uint64_t hash_of(uint8_t type, const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ type;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h ^ (h >> 31);
}

static void cat_free(struct arch_catalogue *c)
{
    if (c == NULL)
        return;
    cairn_free(c->v);
    cairn_free(c->slots);
    cairn_free(c->text);
    cairn_free(c->last);
    cairn_free(c);
}

static int grow(struct arch_catalogue *c)
{
    size_t n = c->mask ? (c->mask + 1) * 2 : 4096;
    uint32_t *slots = cairn_calloc(n, sizeof *slots);
    if (slots == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        size_t k = c->v[i].hash & (n - 1);
        while (slots[k] != 0)
            k = (k + 1) & (n - 1);
        slots[k] = (uint32_t)i + 1;
    }
    cairn_free(c->slots);
    c->slots = slots;
    c->mask = n - 1;
    return 0;
}

static struct cat_entry *find(const struct arch_catalogue *c, uint8_t type,
                              const char *s, size_t len, uint64_t h,
                              size_t *slot)
{
    size_t k = h & c->mask;
    for (;;) {
        uint32_t id = c->slots[k];
        if (id == 0)
            break;
        struct cat_entry *e = &c->v[id - 1];
        if (e->hash == h && e->type == type && e->len == len &&
            memcmp(c->text + e->off, s, len) == 0)
            return e;
        k = (k + 1) & c->mask;
    }
    if (slot != NULL)
        *slot = k;
    return NULL;
}

static int merge(struct arch_catalogue *c, uint8_t type, const char *s,
                 size_t len, const struct seg_posting *p)
{
    if ((c->n + 1) * 2 > c->mask + 1 && grow(c) < 0)
        return CAIRN_ENOMEM;
    uint64_t h = hash_of(type, s, len);
    size_t slot;
    struct cat_entry *e = find(c, type, s, len, h, &slot);
    if (e == NULL) {
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 4096;
            struct cat_entry *v = cairn_realloc(c->v, cap * sizeof *v);
            if (v == NULL)
                return CAIRN_ENOMEM;
            c->v = v;
            c->cap = cap;
        }
        if (c->n >= UINT32_MAX - 1)
            return CAIRN_ETOOBIG;
        if (c->text_len + len > c->text_cap) {
            size_t cap = c->text_cap ? c->text_cap * 2 : 65536;
            while (cap < c->text_len + len)
                cap *= 2;
            char *t = cairn_realloc(c->text, cap);
            if (t == NULL)
                return CAIRN_ENOMEM;
            c->text = t;
            c->text_cap = cap;
        }
        memcpy(c->text + c->text_len, s, len);
        e = &c->v[c->n];
        *e = (struct cat_entry){.hash = h, .off = c->text_len,
                                .len = (uint32_t)len, .type = type};
        c->text_len += len;
        c->slots[slot] = (uint32_t)++c->n;
    }
    e->count += p->count;
    if (p->has_ts) {
        if (!e->has_ts || cairn_time_cmp(&p->first, &e->first) < 0)
            e->first = p->first;
        if (!e->has_ts || cairn_time_cmp(&p->last, &e->last) > 0)
            e->last = p->last;
        e->has_ts = true;
    }
    return 0;
}

/* (Re)build the catalogue when the segments changed; under cat_mu. */
static int build(struct cairn_archive *a)
{
    struct arch_seg *segs = NULL;
    size_t n = 0;
    uint64_t gen;

    pthread_mutex_lock(&a->seg_mu);
    gen = a->generation;
    pthread_mutex_unlock(&a->seg_mu);
    if (a->cat != NULL && a->cat_generation == gen)
        return 0;
    int rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc < 0)
        return rc;
    struct arch_catalogue *c = cairn_calloc(1, sizeof *c);
    if (c == NULL || grow(c) < 0) {
        cairn_free(segs);
        cat_free(c);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < n && rc >= 0; i++) {
        struct arch_map m;
        struct seg_reader r;
        struct seg_values v;
        char why[256];
        if (segs[i].bad ||
            cairn__archive_map(a, &segs[i], &m, why, sizeof why) < 0)
            continue;
        if (cairn__seg_open(m.data, m.len, &r, why, sizeof why) == 0) {
            if (cairn__seg_values(&r, true, &v, why, sizeof why) == 0) {
                for (uint64_t k = 0; k < v.n && rc >= 0; k++) {
                    struct seg_posting p;
                    if (cairn__seg_posting(&v, k, &p) < 0)
                        continue;
                    rc = merge(c, v.types[k], v.text + v.offs[k],
                               v.lens[k], &p);
                }
                cairn__seg_values_free(&v);
            }
            cairn__seg_close(&r);
        }
        cairn__archive_unmap(&m);
    }
    cairn_free(segs);
    if (rc < 0) {
        cat_free(c);
        return rc;
    }
    cat_free(a->cat);
    a->cat = c;
    a->cat_generation = gen;
    return 0;
}

int cairn__archive_catalogue_count(struct cairn_archive *a, uint64_t *out)
{
    pthread_mutex_lock(&a->cat_mu);
    int rc = build(a);
    *out = rc == 0 ? a->cat->n : 0;
    pthread_mutex_unlock(&a->cat_mu);
    return rc;
}

void cairn__archive_catalogue_free(struct cairn_archive *a)
{
    cat_free(a->cat);
    a->cat = NULL;
}

int cairn_archive_lookup(struct cairn_archive *a, enum cairn_ioc_type type,
                         const char *value, size_t len,
                         struct cairn_archive_value *out)
{
    int rc;

    if (a == NULL || out == NULL || (value == NULL && len > 0))
        return CAIRN_EINVAL;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&a->cat_mu);
    rc = build(a);
    if (rc == 0) {
        struct arch_catalogue *c = a->cat;
        struct cat_entry *e =
            find(c, (uint8_t)type, value, len, hash_of((uint8_t)type, value, len),
                 NULL);
        if (e != NULL) {
            cairn_free(c->last);
            c->last = cairn_strndup(c->text + e->off, e->len);
            if (c->last == NULL) {
                rc = CAIRN_ENOMEM;
            } else {
                *out = (struct cairn_archive_value){
                    .type = (enum cairn_ioc_type)e->type,
                    .value = c->last,
                    .len = e->len,
                    .count = e->count,
                    .first_seen = e->first,
                    .last_seen = e->last,
                };
                rc = 1;
            }
        }
    }
    pthread_mutex_unlock(&a->cat_mu);
    return rc;
}
