/* SPDX-License-Identifier: Apache-2.0 */
/* Sightings across members: who sighted what, with a privacy threshold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"
#include "cairn/store.h"

/* Identities listed per indicator for an entitled reader. */
#define IDENTITIES_MAX 100
#define PAGE           5000

struct coll_count {
    char *collection;
    uint64_t sightings;
};

struct period {
    int64_t day; /* the period's first day, days since 1970-01-01 */
    uint64_t sightings;
};

struct entry {
    struct period *periods; /* with o->by */
    size_t n_periods;
    char *id; /* the indicator (or other object) sighted */
    size_t id_len;
    uint64_t h; /* mix(fnv(id)) */
    uint64_t fp_bits; /* the first ORG_BITS organisations seen (fp) */
    uint64_t count, orgs, fp_orgs;
    struct cairn_time first, last;
    bool has_first, has_last;
    struct coll_count *colls;
    size_t n_colls;
    char **idents;
    uint64_t *ident_counts; /* the sightings of each of idents */
    size_t n_idents;
};

/*
 * What every sighting counted updates, one cache line per entry, apart
 * from the rest: 10,000 of them fit in a core's cache where whole entries
 * do not. Copied into the entries once the sightings are read (finalise).
 */
struct hot {
    uint64_t org_bits;
    uint64_t count;
    struct cairn_time first, last; /* sec INT64_MAX / INT64_MIN: none */
    uint64_t coll_n; /* the sightings of collection `coll` */
    uint32_t coll;   /* the first collection seen, interned, + 1; 0: none */
    uint32_t orgs;
};

/* Organisations numbered as first seen: the first ORG_BITS are counted in
 * each entry's bits, not in the pair table (a cache miss per sighting). */
#define ORG_BITS  64
#define ORG_SLOTS 128

struct org_slot {
    uint64_t h;
    char *name; /* NULL: empty */
    size_t len;
    unsigned bit;
};

struct agg {
    enum cairn_report_by by;
    struct org_slot orgs[ORG_SLOTS];
    unsigned n_orgs;
    struct entry *v;
    struct hot *hot; /* beside v, as many */
    size_t n, alloc;
    char **cnames; /* the collections seen, interned */
    size_t n_cnames, last_c;
    size_t *slots; /* index + 1; 0 empty */
    size_t n_slots;
    uint64_t *pairs; /* (entry, organisation) hashes seen; 0 empty */
    size_t n_pairs, pair_slots;
    bool keep_idents;
    /* by the numbers a store gives names (cairn_store_sighting's of_n,
     * org_ns), so that a name is hashed once: an entry's index + 1, and an
     * organisation's bit + 2 (1: no bit); 0 not seen yet */
    uint32_t *by_n;
    size_t n_by_n;
    uint8_t *org_by_n;
    size_t n_org_by_n;
};

/* Room for index n in a zeroed array of `size`-byte elements. */
static int room(void *arrp, size_t *len, size_t n, size_t size)
{
    if (n < *len)
        return 0;
    if (n >= ((size_t)1 << 31))
        return CAIRN_ETOOBIG;
    size_t nl = *len ? *len : 1024;
    while (nl <= n)
        nl *= 2;
    void *old;
    memcpy(&old, arrp, sizeof old);
    char *p = cairn_realloc(old, nl * size);
    if (p == NULL)
        return CAIRN_ENOMEM;
    memset(p + *len * size, 0, (nl - *len) * size);
    memcpy(arrp, &p, sizeof p);
    *len = nl;
    return 0;
}

static uint64_t fnv(const char *s, size_t len, uint64_t h)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* FNV-1a's low bits vary little between ids that differ in their last
 * digits: mixed (MurmurHash3's finaliser) before they pick a slot. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static int grow_entries(struct agg *a)
{
    if (a->n * 2 >= a->n_slots) {
        size_t ns = a->n_slots ? a->n_slots * 2 : 1024;
        size_t *sl = cairn_calloc(ns, sizeof *sl);
        if (sl == NULL)
            return CAIRN_ENOMEM;
        for (size_t i = 0; i < a->n; i++) {
            size_t j = (size_t)a->v[i].h & (ns - 1);
            while (sl[j] != 0)
                j = (j + 1) & (ns - 1);
            sl[j] = i + 1;
        }
        cairn_free(a->slots);
        a->slots = sl;
        a->n_slots = ns;
    }
    if (a->n == a->alloc) {
        size_t na = a->alloc ? a->alloc * 2 : 256;
        struct entry *p = cairn_realloc(a->v, na * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        a->v = p;
        struct hot *h = cairn_realloc(a->hot, na * sizeof *h);
        if (h == NULL)
            return CAIRN_ENOMEM;
        a->hot = h;
        a->alloc = na;
    }
    return 0;
}

static int find_entry(struct agg *a, const char *id, size_t len,
                      struct entry **out)
{
    int rc = grow_entries(a);
    if (rc < 0)
        return rc;
    uint64_t h = mix(fnv(id, len, 14695981039346656037ull));
    size_t j = (size_t)h & (a->n_slots - 1);
    while (a->slots[j] != 0) {
        struct entry *e = &a->v[a->slots[j] - 1];
        if (e->h == h && e->id_len == len && memcmp(e->id, id, len) == 0) {
            *out = e;
            return 0;
        }
        j = (j + 1) & (a->n_slots - 1);
    }
    struct entry *e = &a->v[a->n];
    memset(e, 0, sizeof *e);
    struct hot *ht = &a->hot[a->n];
    memset(ht, 0, sizeof *ht);
    ht->first.sec = INT64_MAX;
    ht->last.sec = INT64_MIN;
    e->id = cairn_strndup(id, len);
    if (e->id == NULL)
        return CAIRN_ENOMEM;
    e->id_len = len;
    e->h = h;
    a->slots[j] = ++a->n;
    *out = e;
    return 0;
}

/* Whether the pair (entry, organisation) is new. */
static int pair_new(struct agg *a, uint64_t h, bool *fresh)
{
    if (h == 0)
        h = 1;
    if (a->n_pairs * 2 >= a->pair_slots) {
        size_t ns = a->pair_slots ? a->pair_slots * 2 : 4096;
        uint64_t *p = cairn_calloc(ns, sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        for (size_t i = 0; i < a->pair_slots; i++) {
            if (a->pairs[i] == 0)
                continue;
            size_t j = (size_t)a->pairs[i] & (ns - 1);
            while (p[j] != 0)
                j = (j + 1) & (ns - 1);
            p[j] = a->pairs[i];
        }
        cairn_free(a->pairs);
        a->pairs = p;
        a->pair_slots = ns;
    }
    size_t j = (size_t)h & (a->pair_slots - 1);
    while (a->pairs[j] != 0) {
        if (a->pairs[j] == h) {
            *fresh = false;
            return 0;
        }
        j = (j + 1) & (a->pair_slots - 1);
    }
    a->pairs[j] = h;
    a->n_pairs++;
    *fresh = true;
    return 0;
}

/* The bit of organisation `org`, numbering it if there is room; -1 when
 * the bits are all taken by others; CAIRN_ENOMEM. */
static int org_bit(struct agg *a, const char *org, size_t len)
{
    uint64_t h = mix(fnv(org, len, 14695981039346656037ull));
    size_t j = (size_t)h & (ORG_SLOTS - 1);
    while (a->orgs[j].name != NULL) {
        struct org_slot *o = &a->orgs[j];
        if (o->h == h && o->len == len && memcmp(o->name, org, len) == 0)
            return (int)o->bit;
        j = (j + 1) & (ORG_SLOTS - 1);
    }
    if (a->n_orgs == ORG_BITS)
        return -1;
    a->orgs[j].name = cairn_strndup(org, len);
    if (a->orgs[j].name == NULL)
        return CAIRN_ENOMEM;
    a->orgs[j].h = h;
    a->orgs[j].len = len;
    a->orgs[j].bit = a->n_orgs;
    return (int)a->n_orgs++;
}

/* The sightings of organisation `org` in its entry, when the identities
 * are kept: `n` more for a name already listed. */
static void ident_count(struct entry *e, const char *org, size_t len,
                        uint64_t n)
{
    for (size_t i = 0; i < e->n_idents; i++)
        if (strncmp(e->idents[i], org, len) == 0 && e->idents[i][len] == '\0') {
            e->ident_counts[i] += n;
            return;
        }
}

/* org_bit, remembered by the organisation's number when it has one. */
static int org_bit_n(struct agg *a, uint32_t num, const char *org, size_t len)
{
    if (num == 0)
        return org_bit(a, org, len);
    if (num < a->n_org_by_n && a->org_by_n[num] != 0)
        return (int)a->org_by_n[num] - 2;
    int rc = room(&a->org_by_n, &a->n_org_by_n, num, sizeof *a->org_by_n);
    int bit = rc < 0 ? rc : org_bit(a, org, len);
    if (bit >= -1)
        a->org_by_n[num] = (uint8_t)(bit + 2);
    return bit;
}

static int add_org(struct agg *a, struct entry *e, struct hot *h,
                   const char *org, size_t len, uint32_t num, bool fp,
                   uint64_t n)
{
    bool fresh;
    int rc = org_bit_n(a, num, org, len);
    if (rc >= 0) {
        uint64_t *bits = fp ? &e->fp_bits : &h->org_bits;
        uint64_t m = (uint64_t)1 << rc;
        fresh = (*bits & m) == 0;
        *bits |= m;
        rc = 0;
    } else if (rc == -1) {
        uint64_t ph = mix(fnv(org, len, e->h ^ (fp ? 7 : 3)));
        rc = pair_new(a, ph, &fresh);
    }
    if (rc < 0)
        return rc;
    if (!fresh) {
        if (!fp && a->keep_idents)
            ident_count(e, org, len, n);
        return 0;
    }
    if (fp) {
        e->fp_orgs++;
        return 0;
    }
    h->orgs++;
    if (!a->keep_idents || e->n_idents >= IDENTITIES_MAX)
        return 0;
    char **p = cairn_realloc(e->idents, (e->n_idents + 1) * sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    e->idents = p;
    uint64_t *c =
        cairn_realloc(e->ident_counts, (e->n_idents + 1) * sizeof *c);
    if (c == NULL)
        return CAIRN_ENOMEM;
    e->ident_counts = c;
    p[e->n_idents] = cairn_strndup(org, len);
    if (p[e->n_idents] == NULL)
        return CAIRN_ENOMEM;
    c[e->n_idents++] = n;
    return 0;
}

static bool get_time(const json_t *o, const char *k, struct cairn_time *t)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) &&
           cairn_time_parse(json_string_value(v), json_string_length(v), true,
                            t) == 0;
}

/* The first day of the period holding `t`. */
static int64_t period_of(enum cairn_report_by by, const struct cairn_time *t)
{
    int64_t day = t->sec >= 0 ? t->sec / 86400 : -((-t->sec + 86399) / 86400);
    if (by != CAIRN_REPORT_BY_WEEK)
        return day;
    /* 1970-01-01 was a Thursday: Monday is day -3 of its week */
    int64_t w = day + 3;
    w = w >= 0 ? w / 7 : -((-w + 6) / 7);
    return w * 7 - 3;
}

static int period_add(struct entry *e, int64_t day, uint64_t n)
{
    for (size_t i = e->n_periods; i-- > 0;)
        if (e->periods[i].day == day) {
            e->periods[i].sightings += n;
            return 0;
        }
    if (e->n_periods >= 100000)
        return 0; /* bounded: a century of days */
    struct period *p =
        cairn_realloc(e->periods, (e->n_periods + 1) * sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    e->periods = p;
    p[e->n_periods].day = day;
    p[e->n_periods++].sightings = n;
    return 0;
}

/* The number of collection `c` among those seen. */
static int intern(struct agg *a, const char *c, uint32_t *out)
{
    if (a->last_c < a->n_cnames && strcmp(a->cnames[a->last_c], c) == 0) {
        *out = (uint32_t)a->last_c;
        return 0;
    }
    for (size_t i = 0; i < a->n_cnames; i++)
        if (strcmp(a->cnames[i], c) == 0) {
            *out = (uint32_t)(a->last_c = i);
            return 0;
        }
    if (a->n_cnames >= UINT32_MAX - 1)
        return CAIRN_ETOOBIG;
    char **p = cairn_realloc(a->cnames, (a->n_cnames + 1) * sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    a->cnames = p;
    p[a->n_cnames] = cairn_strndup(c, strlen(c));
    if (p[a->n_cnames] == NULL)
        return CAIRN_ENOMEM;
    *out = (uint32_t)(a->last_c = a->n_cnames++);
    return 0;
}

/* The sightings of a collection other than the entry's first. */
static int coll_add(struct entry *e, const char *collection, uint64_t n)
{
    for (size_t i = 0; i < e->n_colls; i++)
        if (strcmp(e->colls[i].collection, collection) == 0) {
            e->colls[i].sightings += n;
            return 0;
        }
    struct coll_count *p =
        cairn_realloc(e->colls, (e->n_colls + 1) * sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    e->colls = p;
    p[e->n_colls].collection = cairn_strndup(collection, strlen(collection));
    if (p[e->n_colls].collection == NULL)
        return CAIRN_ENOMEM;
    p[e->n_colls++].sightings = n;
    return 0;
}

/* Count one sighting (the newest version of it) into its entry. */
static int summary_add(struct agg *a, const struct cairn_store_sighting *sg,
                       const struct cairn_time *since)
{
    if (since != NULL &&
        (!sg->has_last || cairn_time_cmp(&sg->last, since) < 0))
        return 0;
    size_t idx;
    int rc = 0;
    if (sg->of_n != 0 && sg->of_n < a->n_by_n && a->by_n[sg->of_n] != 0) {
        idx = a->by_n[sg->of_n] - 1;
    } else {
        struct entry *found = NULL;
        rc = find_entry(a, sg->sighting_of_ref, strlen(sg->sighting_of_ref),
                        &found);
        if (rc == 0 && sg->of_n != 0)
            rc = room(&a->by_n, &a->n_by_n, sg->of_n, sizeof *a->by_n);
        if (rc < 0)
            return rc;
        idx = (size_t)(found - a->v);
        if (sg->of_n != 0)
            a->by_n[sg->of_n] = (uint32_t)idx + 1;
    }
    struct entry *e = &a->v[idx];
    struct hot *h = &a->hot[idx];
    bool fp = sg->false_positive;
    uint64_t n = sg->count;
    if (!fp) {
        h->count += n;
        if (sg->has_first && cairn_time_cmp(&sg->first, &h->first) < 0)
            h->first = sg->first;
        if (sg->has_last && cairn_time_cmp(&sg->last, &h->last) > 0)
            h->last = sg->last;
        if (a->by != CAIRN_REPORT_BY_NONE && sg->has_last)
            rc = period_add(e, period_of(a->by, &sg->last), n);
        if (rc < 0)
            return rc;
    }
    /* a pseudonym counts as one organisation of its own */
    for (size_t i = 0; rc == 0 && i < sg->n_orgs; i++)
        rc = add_org(a, e, h, sg->orgs[i], strlen(sg->orgs[i]),
                     sg->org_ns != NULL ? sg->org_ns[i] : 0, fp, n);
    if (rc < 0 || fp)
        return rc;
    uint32_t c;
    rc = intern(a, sg->collection, &c);
    if (rc < 0)
        return rc;
    if (h->coll == 0) {
        h->coll = c + 1;
        h->coll_n = n;
    } else if (h->coll == c + 1) {
        h->coll_n += n;
    } else {
        rc = coll_add(e, sg->collection, n);
    }
    return rc;
}

/* The counts kept apart while reading, into their entries. */
static int finalise(struct agg *a)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->n; i++) {
        struct entry *e = &a->v[i];
        const struct hot *h = &a->hot[i];
        e->count = h->count;
        e->orgs = h->orgs;
        e->has_first = h->first.sec != INT64_MAX;
        e->first = h->first;
        e->has_last = h->last.sec != INT64_MIN;
        e->last = h->last;
        if (h->coll != 0)
            rc = coll_add(e, a->cnames[h->coll - 1], h->coll_n);
    }
    return rc;
}

/* The same from a sighting's JSON, for a store without summaries. */
static int sightings_add(struct agg *a, const char *collection,
                         const json_t *sg, const struct cairn_time *since)
{
    const json_t *of = json_object_get(sg, "sighting_of_ref");
    if (!json_is_string(of))
        return 0;
    const char *orgs[CAIRN_STORE_SIGHTING_ORGS_MAX];
    struct cairn_store_sighting s = {
        .collection = collection,
        .sighting_of_ref = json_string_value(of),
        .orgs = orgs,
        .false_positive =
            json_is_true(json_object_get(sg, "x_cairn_false_positive")),
        .count = 1,
    };
    s.has_first = get_time(sg, "first_seen", &s.first);
    s.has_last = get_time(sg, "last_seen", &s.last);
    if (!s.has_last)
        s.has_last = get_time(sg, "modified", &s.last) ||
                     get_time(sg, "created", &s.last);
    if (!s.has_first && s.has_last) {
        s.first = s.last;
        s.has_first = true;
    }
    const json_t *cnt = json_object_get(sg, "count");
    if (json_is_integer(cnt) && json_integer_value(cnt) >= 0)
        s.count = (uint64_t)json_integer_value(cnt);
    const json_t *where = json_object_get(sg, "where_sighted_refs");
    size_t i;
    const json_t *w;
    bool any = false;
    json_array_foreach(where, i, w)
    {
        if (json_is_string(w)) {
            any = true;
            if (s.n_orgs < CAIRN_STORE_SIGHTING_ORGS_MAX)
                orgs[s.n_orgs++] = json_string_value(w);
        }
    }
    const json_t *by = json_object_get(sg, "created_by_ref");
    if (!any && json_is_string(by))
        orgs[s.n_orgs++] = json_string_value(by);
    return summary_add(a, &s, since);
}

static void agg_clear(struct agg *a)
{
    for (size_t i = 0; i < a->n; i++) {
        struct entry *e = &a->v[i];
        cairn_free(e->id);
        for (size_t j = 0; j < e->n_colls; j++)
            cairn_free(e->colls[j].collection);
        cairn_free(e->colls);
        for (size_t j = 0; j < e->n_idents; j++)
            cairn_free(e->idents[j]);
        cairn_free(e->idents);
        cairn_free(e->ident_counts);
        cairn_free(e->periods);
    }
    cairn_free(a->v);
    cairn_free(a->hot);
    for (size_t i = 0; i < a->n_cnames; i++)
        cairn_free(a->cnames[i]);
    cairn_free(a->cnames);
    cairn_free(a->slots);
    cairn_free(a->pairs);
    cairn_free(a->by_n);
    cairn_free(a->org_by_n);
    for (size_t i = 0; i < ORG_SLOTS; i++)
        cairn_free(a->orgs[i].name);
}

/* ---- reading the store ---------------------------------------------------- */

static int scan_collection(struct cairn_store *s, const char *coll,
                           const struct cairn_report_opts *o, struct agg *a)
{
    static const char *const types[] = {"sighting"};
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    int rc = 0;
    for (;;) {
        struct cairn_store_query q = {
            .collection = coll,
            .types = types,
            .n_types = 1,
            .limit = PAGE,
            .next = next[0] ? next : NULL,
            .with_json = true,
        };
        struct cairn_store_page *page = NULL;
        rc = cairn_store_query(s, &q, &page);
        if (rc < 0)
            return rc;
        for (size_t i = 0; rc == 0 && i < page->n; i++) {
            const struct cairn_store_row *row = &page->rows[i];
            if (o->visible != NULL && !o->visible(o->visible_ud, coll, row))
                continue;
            json_error_t je;
            json_t *sg = json_loadb(row->json, row->json_len, 0, &je);
            if (sg == NULL)
                continue;
            rc = sightings_add(a, coll, sg, o->since);
            json_decref(sg);
        }
        bool more = page->more;
        if (more)
            memcpy(next, page->next, sizeof next);
        cairn_store_page_free(page);
        if (rc < 0 || !more)
            return rc;
    }
}

static bool has_coll(const struct entry *e, const char *c)
{
    for (size_t i = 0; i < e->n_colls; i++)
        if (strcmp(e->colls[i].collection, c) == 0)
            return true;
    return false;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/*
 * The newest version of the objects of order[from..to) (at most
 * CAIRN_STORE_FILTER_MAX), parsed, into objs (NULL: none visible): from
 * the first collection, in the order of their ids, that holds one the
 * reader may see. One query per collection for them all, not one per
 * object: each is a read transaction of its own.
 */
static int fetch_batch(struct cairn_store *s, char *const *colls,
                       size_t n_colls, struct entry *const *order,
                       size_t from, size_t to,
                       const struct cairn_report_opts *o, json_t **objs)
{
    for (size_t c = 0; c < n_colls; c++) {
        const char *ids[CAIRN_STORE_FILTER_MAX];
        size_t at[CAIRN_STORE_FILTER_MAX], n = 0;
        for (size_t i = from; i < to && n < CAIRN_STORE_FILTER_MAX; i++)
            if (objs[i] == NULL && has_coll(order[i], colls[c])) {
                ids[n] = order[i]->id;
                at[n++] = i;
            }
        char next[CAIRN_STORE_CURSOR_LEN] = "";
        while (n > 0) {
            struct cairn_store_query q = {.collection = colls[c],
                                          .ids = ids,
                                          .n_ids = n,
                                          .limit = n,
                                          .next = next[0] ? next : NULL,
                                          .with_json = true};
            struct cairn_store_page *page = NULL;
            int rc = cairn_store_query(s, &q, &page);
            if (rc == CAIRN_ENOMEM)
                return rc;
            if (rc < 0)
                break;
            for (size_t r = 0; r < page->n; r++) {
                const struct cairn_store_row *row = &page->rows[r];
                size_t k = 0;
                while (k < n && strcmp(ids[k], row->id) != 0)
                    k++;
                if (k == n || objs[at[k]] != NULL ||
                    (o->visible != NULL &&
                     !o->visible(o->visible_ud, colls[c], row)))
                    continue;
                json_error_t je;
                objs[at[k]] = json_loadb(row->json, row->json_len, 0, &je);
            }
            bool more = page->more;
            if (more)
                memcpy(next, page->next, sizeof next);
            cairn_store_page_free(page);
            if (!more)
                break;
        }
    }
    return 0;
}

static int cmp_last(const void *x, const void *y)
{
    const struct entry *a = *(const struct entry *const *)x;
    const struct entry *b = *(const struct entry *const *)y;
    if (a->has_last != b->has_last)
        return a->has_last ? -1 : 1;
    int c = a->has_last ? cairn_time_cmp(&b->last, &a->last) : 0;
    return c != 0 ? c : strcmp(a->id, b->id);
}

static int put(json_t *o, const char *k, json_t *v)
{
    return v != NULL && json_object_set_new(o, k, v) == 0 ? 0 : CAIRN_ENOMEM;
}

static json_t *time_json(const struct cairn_time *t)
{
    char buf[40];
    if (cairn_time_format(t, -1, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

static int cmp_coll(const void *x, const void *y)
{
    return strcmp(((const struct coll_count *)x)->collection,
                  ((const struct coll_count *)y)->collection);
}

static int cmp_period(const void *x, const void *y)
{
    int64_t a = ((const struct period *)x)->day;
    int64_t b = ((const struct period *)y)->day;
    return a < b ? -1 : a > b;
}

static int periods_json(const struct entry *e, json_t *j)
{
    json_t *arr = json_array();
    int rc = arr == NULL ? CAIRN_ENOMEM : 0;
    if (e->n_periods > 1)
        qsort(e->periods, e->n_periods, sizeof *e->periods, cmp_period);
    for (size_t i = 0; rc == 0 && i < e->n_periods; i++) {
        struct cairn_time t = {.sec = e->periods[i].day * 86400};
        char day[40];
        if (cairn_time_format(&t, 0, day, sizeof day) < 0)
            continue;
        day[10] = '\0'; /* the date */
        json_t *p = json_pack("{s:s, s:I}", "start", day, "sightings",
                              (json_int_t)e->periods[i].sightings);
        rc = p != NULL && json_array_append_new(arr, p) == 0 ? 0
                                                            : CAIRN_ENOMEM;
    }
    if (rc == 0)
        return put(j, "periods", arr);
    json_decref(arr);
    return rc;
}

static int entry_json(const struct entry *e, const json_t *obj,
                      const struct cairn_report_opts *o, unsigned k,
                      json_t **out)
{
    json_t *j = json_object(), *colls = json_array();
    int rc = j == NULL || colls == NULL ? CAIRN_ENOMEM : 0;
    /* collections in the order of their ids, whatever order was read */
    if (e->n_colls > 1)
        qsort(e->colls, e->n_colls, sizeof *e->colls, cmp_coll);
    char fewer[40];
    snprintf(fewer, sizeof fewer, "fewer than %u", k);
    if (rc == 0)
        rc = put(j, "id", json_string(e->id));
    if (rc == 0 && obj != NULL) {
        static const char *const keep[] = {"type", "name", "pattern"};
        for (size_t i = 0; rc == 0 && i < 3; i++) {
            json_t *v = json_object_get(obj, keep[i]);
            if (v != NULL)
                rc = json_object_set(j, keep[i], v) == 0 ? 0 : CAIRN_ENOMEM;
        }
    }
    bool exact = o->identities || e->orgs >= k;
    if (rc == 0)
        rc = put(j, "organisations", exact ? json_integer((json_int_t)e->orgs)
                                            : json_string(fewer));
    if (rc == 0)
        rc = put(j, "sightings", json_integer((json_int_t)e->count));
    if (rc == 0 && e->has_first)
        rc = put(j, "first_seen", time_json(&e->first));
    if (rc == 0 && e->has_last)
        rc = put(j, "last_seen", time_json(&e->last));
    if (rc == 0 && e->fp_orgs > 0)
        rc = put(j, "false_positive_organisations",
                 o->identities || e->fp_orgs >= k
                     ? json_integer((json_int_t)e->fp_orgs)
                     : json_string(fewer));
    for (size_t i = 0; rc == 0 && i < e->n_colls; i++) {
        json_t *c = json_object();
        rc = c == NULL ? CAIRN_ENOMEM : 0;
        if (rc == 0)
            rc = put(c, "collection", json_string(e->colls[i].collection));
        if (rc == 0)
            rc = put(c, "sightings",
                     json_integer((json_int_t)e->colls[i].sightings));
        if (rc == 0)
            rc = json_array_append_new(colls, c) == 0 ? 0 : CAIRN_ENOMEM;
        else
            json_decref(c);
    }
    if (rc == 0) {
        rc = put(j, "collections", colls);
        colls = NULL;
    }
    if (rc == 0 && o->by != CAIRN_REPORT_BY_NONE)
        rc = periods_json(e, j);
    if (rc == 0 && o->identities) {
        json_t *ids = json_array();
        rc = ids == NULL ? CAIRN_ENOMEM : 0;
        for (size_t i = 0; rc == 0 && i < e->n_idents; i++)
            rc = json_array_append_new(ids, json_string(e->idents[i])) == 0
                     ? 0
                     : CAIRN_ENOMEM;
        if (rc == 0)
            rc = put(j, "identities", ids);
        else
            json_decref(ids);
        /* the sightings of each of them, in the same order */
        json_t *per = rc == 0 ? json_array() : NULL;
        rc = rc == 0 && per == NULL ? CAIRN_ENOMEM : rc;
        for (size_t i = 0; rc == 0 && i < e->n_idents; i++)
            rc = json_array_append_new(
                     per, json_integer((json_int_t)e->ident_counts[i])) == 0
                     ? 0
                     : CAIRN_ENOMEM;
        if (rc == 0)
            rc = put(j, "identity_sightings", per);
        else
            json_decref(per);
    }
    if (rc == 0 && obj != NULL &&
        strcmp(json_string_value(json_object_get(obj, "type")) != NULL
                   ? json_string_value(json_object_get(obj, "type"))
                   : "",
               "indicator") == 0) {
        struct cairn_score_sightings sg = {
            .orgs = e->orgs,
            .fp_orgs = e->fp_orgs,
            .count = e->count,
            .has_last_seen = e->has_last,
            .last_seen = e->last,
        };
        int sc = cairn_score_indicator(obj, &sg, &o->score, NULL);
        if (sc >= 0)
            rc = put(j, "score", json_integer(sc));
    }
    json_decref(colls);
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return 0;
}

/* ---- the sightings of one object, through the index (o->of) ------------- */

struct of_row {
    char *collection;
    char *id;
    struct cairn_time added;
    json_t *obj;
};

struct of_ctx {
    const struct cairn_report_opts *o;
    struct of_row *v;
    size_t n;
};

static int of_hit(void *ud, const char *collection,
                  const struct cairn_store_row *row)
{
    struct of_ctx *x = ud;
    const struct cairn_report_opts *o = x->o;
    if (row->type == NULL || strcmp(row->type, "sighting") != 0)
        return 0;
    bool listed = o->n_collections == 0;
    for (size_t i = 0; !listed && i < o->n_collections; i++)
        listed = strcmp(o->collections[i], collection) == 0;
    if (!listed ||
        (o->visible != NULL && !o->visible(o->visible_ud, collection, row)))
        return 0;
    /* the newest version of each sighting in each collection */
    struct of_row *r = NULL;
    for (size_t i = 0; r == NULL && i < x->n; i++)
        if (strcmp(x->v[i].id, row->id) == 0 &&
            strcmp(x->v[i].collection, collection) == 0)
            r = &x->v[i];
    if (r != NULL && cairn_time_cmp(&r->added, &row->date_added) >= 0)
        return 0;
    json_error_t je;
    json_t *obj = json_loadb(row->json, row->json_len, 0, &je);
    if (obj == NULL)
        return 0;
    if (r == NULL) {
        struct of_row *g = cairn_realloc(x->v, (x->n + 1) * sizeof *g);
        if (g == NULL) {
            json_decref(obj);
            return CAIRN_ENOMEM;
        }
        x->v = g;
        r = &g[x->n];
        memset(r, 0, sizeof *r);
        r->collection = cairn_strndup(collection, strlen(collection));
        r->id = cairn_strndup(row->id, strlen(row->id));
        x->n++;
        if (r->collection == NULL || r->id == NULL) {
            json_decref(obj);
            return CAIRN_ENOMEM;
        }
    }
    json_decref(r->obj);
    r->obj = obj;
    r->added = row->date_added;
    return 0;
}

static int scan_of(struct cairn_store *s, const struct cairn_report_opts *o,
                   struct agg *a)
{
    struct of_ctx x = {.o = o};
    int rc = cairn_store_find_key(s, cairn_value_ref_key(o->of, strlen(o->of)),
                                  of_hit, &x);
    for (size_t i = 0; i < x.n; i++) {
        const json_t *ofr = json_object_get(x.v[i].obj, "sighting_of_ref");
        if (rc == 0 && json_is_string(ofr) &&
            strcmp(json_string_value(ofr), o->of) == 0)
            rc = sightings_add(a, x.v[i].collection, x.v[i].obj, o->since);
        json_decref(x.v[i].obj);
        cairn_free(x.v[i].collection);
        cairn_free(x.v[i].id);
    }
    cairn_free(x.v);
    return rc;
}

/* ---- from the store's sighting summaries -----------------------------------
 */

struct sum_ctx {
    const struct cairn_report_opts *o;
    struct agg *a;
};

static int sum_hit(void *ud, const struct cairn_store_sighting *sg)
{
    struct sum_ctx *x = ud;
    const struct cairn_report_opts *o = x->o;
    if (o->n_collections > 0) {
        bool listed = false;
        for (size_t i = 0; !listed && i < o->n_collections; i++)
            listed = strcmp(o->collections[i], sg->collection) == 0;
        if (!listed)
            return 0;
    }
    if (o->visible != NULL &&
        (sg->row == NULL ||
         !o->visible(o->visible_ud, sg->collection, sg->row)))
        return 0;
    return summary_add(x->a, sg, o->since);
}

/* 0, or CAIRN_EUNSUPPORTED for a store without summaries. */
static int scan_summaries(struct cairn_store *s,
                          const struct cairn_report_opts *o, struct agg *a)
{
    struct sum_ctx x = {.o = o, .a = a};
    struct cairn_store_sightings_query q = {.of = o->of,
                                            .with_json = o->visible != NULL};
    return cairn_store_sightings(s, &q, sum_hit, &x);
}

int cairn_report_sightings(struct cairn_store *s,
                           const struct cairn_report_opts *o, json_t **out)
{
    static const struct cairn_report_opts dflt = {0};
    struct agg a = {0};
    struct cairn_store_api_root *roots = NULL;
    size_t n_roots = 0;
    struct entry **order = NULL;
    json_t **objs = NULL; /* each of order's objects, parsed */
    char **csorted = NULL; /* the collections seen, in the order of ids */
    json_t *res = NULL, *list = NULL;
    int rc = 0;

    if (out == NULL || s == NULL)
        return CAIRN_EINVAL;
    *out = NULL;
    if (o == NULL)
        o = &dflt;
    unsigned k = o->threshold > 0 ? o->threshold : CAIRN_REPORT_THRESHOLD;
    a.keep_idents = o->identities;
    a.by = o->by;
    /* the store's summaries; else every sighting read */
    rc = scan_summaries(s, o, &a);
    if (rc != CAIRN_EUNSUPPORTED) {
        for (size_t i = 0; rc == 0 && i < o->n_collections; i++) {
            struct cairn_store_collection *c = NULL; /* it must exist */
            rc = cairn_store_collection_get(s, NULL, o->collections[i], &c);
            cairn_store_collection_free(c);
        }
    } else if (o->of != NULL) {
        rc = scan_of(s, o, &a);
    } else if (o->n_collections > 0) {
        rc = 0;
        for (size_t i = 0; rc == 0 && i < o->n_collections; i++)
            rc = scan_collection(s, o->collections[i], o, &a);
    } else {
        rc = cairn_store_api_root_list(s, &roots, &n_roots);
        for (size_t r = 0; rc == 0 && r < n_roots; r++) {
            struct cairn_store_collection *cl = NULL;
            size_t nc = 0;
            rc = cairn_store_collection_list(s, roots[r].name, &cl, &nc);
            for (size_t i = 0; rc == 0 && i < nc; i++)
                rc = scan_collection(s, cl[i].id, o, &a);
            cairn_store_collection_list_free(cl, nc);
        }
    }
    if (rc == 0)
        rc = finalise(&a);
    if (rc < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    order = cairn_calloc(a.n ? a.n : 1, sizeof *order);
    res = json_object();
    list = json_array();
    if (order == NULL || res == NULL || list == NULL)
        goto out;
    for (size_t i = 0; i < a.n; i++)
        order[i] = &a.v[i];
    if (a.n > 1)
        qsort(order, a.n, sizeof *order, cmp_last);
    size_t limit = o->limit > 0 ? o->limit : a.n;
    objs = cairn_calloc(a.n ? a.n : 1, sizeof *objs);
    csorted = cairn_calloc(a.n_cnames ? a.n_cnames : 1, sizeof *csorted);
    if (objs == NULL || csorted == NULL)
        goto out;
    if (a.n_cnames > 0)
        memcpy(csorted, a.cnames, a.n_cnames * sizeof *csorted);
    if (a.n_cnames > 1)
        qsort(csorted, a.n_cnames, sizeof *csorted, cmp_str);
    rc = 0;
    size_t listed = 0, fetched = 0;
    for (size_t i = 0; rc == 0 && i < a.n && listed < limit; i++) {
        if (i == fetched) {
            fetched = i + CAIRN_STORE_FILTER_MAX < a.n
                          ? i + CAIRN_STORE_FILTER_MAX
                          : a.n;
            rc = fetch_batch(s, csorted, a.n_cnames, order, i, fetched, o,
                             objs);
            if (rc < 0)
                break;
        }
        json_t *e = NULL;
        rc = entry_json(order[i], objs[i], o, k, &e);
        if (rc < 0)
            break;
        if (o->min_score > 0) {
            json_t *sc = json_object_get(e, "score");
            if (!json_is_integer(sc) || json_integer_value(sc) < o->min_score) {
                json_decref(e);
                continue;
            }
        }
        rc = json_array_append_new(list, e) == 0 ? 0 : CAIRN_ENOMEM;
        listed++;
    }
    if (rc == 0)
        rc = put(res, "threshold", json_integer(k));
    if (rc == 0 && o->by != CAIRN_REPORT_BY_NONE)
        rc = put(res, "by", json_string(o->by == CAIRN_REPORT_BY_DAY ? "day"
                                                                    : "week"));
    if (rc == 0) {
        rc = put(res, "indicators", list);
        list = NULL;
    }
    if (rc == 0) {
        *out = res;
        res = NULL;
    }
out:
    json_decref(res);
    json_decref(list);
    for (size_t i = 0; objs != NULL && i < a.n; i++)
        json_decref(objs[i]);
    cairn_free(objs);
    cairn_free(csorted);
    cairn_free(order);
    agg_clear(&a);
    cairn_store_api_root_list_free(roots, n_roots);
    return rc;
}

bool cairn_report_entitled(struct cairn_store *s, const char *user)
{
    bool on = false;
    if (s == NULL || user == NULL ||
        cairn_store_user_identities_get(s, user, &on) < 0)
        return false;
    return on;
}

int cairn_report_by_parse(const char *s, enum cairn_report_by *out)
{
    if (s == NULL || out == NULL)
        return CAIRN_EINVAL;
    if (strcmp(s, "day") == 0)
        *out = CAIRN_REPORT_BY_DAY;
    else if (strcmp(s, "week") == 0)
        *out = CAIRN_REPORT_BY_WEEK;
    else
        return CAIRN_EINVAL;
    return 0;
}
