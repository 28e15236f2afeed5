/* SPDX-License-Identifier: Apache-2.0 */
/* Correlation: where a value is in the store, and an object's neighbours. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "analysis_int.h"
#include "cairn/store.h"

/* One object version a probe found, kept until the answer is built. */
struct hit {
    char *collection;
    char *id;
    char *type;
    char *version; /* may be NULL */
    int64_t added_us;
    json_t *obj;   /* parsed text */
    char *matched; /* the value as it matched (a suffix, a CIDR), or NULL */
    char *target;  /* for referrers: the id referred to */
    /* the warninglist flag stored with the version (and its value), or
     * NULL */
    char *flag_list, *flag_value;
};

struct hits {
    struct hit *v;
    size_t n, alloc;
    size_t limit;
    bool truncated;
    const struct cairn_lookup_opts *o;
    const char *matched; /* of the probe running */
    const char *target;
    int err;
};

static void hit_clear(struct hit *h)
{
    cairn_free(h->collection);
    cairn_free(h->id);
    cairn_free(h->type);
    cairn_free(h->version);
    cairn_free(h->matched);
    cairn_free(h->target);
    cairn_free(h->flag_list);
    cairn_free(h->flag_value);
    json_decref(h->obj);
}

static void hits_clear(struct hits *hs)
{
    for (size_t i = 0; i < hs->n; i++)
        hit_clear(&hs->v[i]);
    cairn_free(hs->v);
    hs->v = NULL;
    hs->n = hs->alloc = 0;
}

static char *dup_or_null(const char *s, int *rc)
{
    if (s == NULL)
        return NULL;
    char *p = cairn_strndup(s, strlen(s));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

static int64_t time_us(const struct cairn_time *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

/* A row for the list: the newest version of each (collection, id). */
static int on_hit(void *ud, const char *collection,
                  const struct cairn_store_row *row)
{
    struct hits *hs = ud;
    const struct cairn_lookup_opts *o = hs->o;
    if (o != NULL && o->visible != NULL &&
        !o->visible(o->visible_ud, collection, row))
        return 0;
    int64_t added = time_us(&row->date_added);
    for (size_t i = 0; i < hs->n; i++) {
        struct hit *h = &hs->v[i];
        if (strcmp(h->id, row->id) != 0 ||
            strcmp(h->collection, collection) != 0 ||
            (hs->target != NULL && h->target != NULL &&
             strcmp(h->target, hs->target) != 0))
            continue;
        if (h->added_us >= added)
            return 0;
        /* a newer version of one already listed: take its place */
        json_error_t e;
        json_t *obj = json_loadb(row->json, row->json_len, 0, &e);
        if (obj == NULL)
            return 0;
        int rc = 0;
        char *v = dup_or_null(row->version, &rc);
        char *fl = dup_or_null(row->flag_list, &rc);
        char *fv = dup_or_null(row->flag_value, &rc);
        if (rc < 0) {
            cairn_free(v);
            cairn_free(fl);
            cairn_free(fv);
            json_decref(obj);
            return rc;
        }
        json_decref(h->obj);
        h->obj = obj;
        cairn_free(h->version);
        h->version = v;
        cairn_free(h->flag_list);
        h->flag_list = fl;
        cairn_free(h->flag_value);
        h->flag_value = fv;
        h->added_us = added;
        return 0;
    }
    if (hs->n == hs->limit) {
        hs->truncated = true;
        return 1;
    }
    if (hs->n == hs->alloc) {
        size_t na = hs->alloc ? hs->alloc * 2 : 16;
        struct hit *p = cairn_realloc(hs->v, na * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        hs->v = p;
        hs->alloc = na;
    }
    json_error_t e;
    struct hit h = {.added_us = added};
    h.obj = json_loadb(row->json, row->json_len, 0, &e);
    if (h.obj == NULL)
        return 0;
    int rc = 0;
    h.collection = dup_or_null(collection, &rc);
    h.id = dup_or_null(row->id, &rc);
    h.type = dup_or_null(row->type, &rc);
    h.version = dup_or_null(row->version, &rc);
    h.matched = dup_or_null(hs->matched, &rc);
    h.target = dup_or_null(hs->target, &rc);
    h.flag_list = dup_or_null(row->flag_list, &rc);
    h.flag_value = dup_or_null(row->flag_value, &rc);
    if (rc < 0) {
        hit_clear(&h);
        return rc;
    }
    hs->v[hs->n++] = h;
    return 0;
}

static int probe(struct cairn_store *s, struct hits *hs, uint64_t key,
                 const char *matched, const char *target)
{
    if (hs->truncated)
        return 0;
    hs->matched = matched;
    hs->target = target;
    return cairn_store_find_key(s, key, on_hit, hs);
}

/* ---- probes for one value ------------------------------------------------ */

static int probe_domain(struct cairn_store *s, struct hits *hs,
                        const char *d, size_t len)
{
    /* the name itself, then each parent: x.avsvmcloud.com, avsvmcloud.com,
     * com, as the hunt matches subdomains of an indicator's domain */
    size_t i = 0;
    int rc = 0;
    while (rc == 0 && i < len) {
        uint64_t key;
        char m[256];
        if (cairn_value_key(CAIRN_IOC_DOMAIN, d + i, len - i, &key) == 0) {
            snprintf(m, sizeof m, "%.*s", (int)(len - i), d + i);
            rc = probe(s, hs, key, m, NULL);
        }
        const char *dot = memchr(d + i, '.', len - i);
        if (dot == NULL)
            break;
        i = (size_t)(dot - d) + 1;
    }
    return rc;
}

static void cidr_text(int family, const uint8_t addr[16], unsigned prefix,
                      char out[64])
{
    char a[INET6_ADDRSTRLEN];
    uint8_t m[16] = {0};
    size_t n = family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
        m[i] = addr[i] & (bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits));
    }
    if (inet_ntop(family == 4 ? AF_INET : AF_INET6, m, a, sizeof a) == NULL)
        a[0] = '\0';
    if (prefix == (family == 4 ? 32u : 128u))
        snprintf(out, 64, "%s", a);
    else
        snprintf(out, 64, "%s/%u", a, prefix);
}

static int probe_ip(struct cairn_store *s, struct hits *hs, const char *v,
                    size_t len)
{
    int family;
    uint8_t addr[16];
    unsigned prefix;
    if (!cairn__hunt_parse_cidr(v, len, &family, addr, &prefix))
        return 0;
    /* the address (or block) itself, then every block that holds it */
    int rc = 0;
    for (unsigned p = prefix + 1; rc == 0 && p-- > 0;) {
        char m[64];
        cidr_text(family, addr, p, m);
        rc = probe(s, hs, cairn_value_ip_key(family, addr, p), m, NULL);
    }
    return rc;
}

static int probe_value(struct cairn_store *s, struct hits *hs,
                       enum cairn_ioc_type t, const char *v, size_t len)
{
    uint64_t key;
    char m[CAIRN_VALUE_URL_MAX + 2];
    switch (t) {
    case CAIRN_IOC_DOMAIN:
        return probe_domain(s, hs, v, len);
    case CAIRN_IOC_IPV4:
    case CAIRN_IOC_IPV6:
        return probe_ip(s, hs, v, len);
    case CAIRN_IOC_URL: {
        int rc = 0;
        if (cairn_value_key(CAIRN_IOC_URL, v, len, &key) == 0) {
            snprintf(m, sizeof m, "%.*s", (int)len, v);
            rc = probe(s, hs, key, m, NULL);
        }
        /* and what the hunt would match of its host */
        const char *host;
        size_t hl;
        if (rc == 0 && cairn__hunt_url_host(v, len, &host, &hl) && hl > 0) {
            int family;
            uint8_t addr[16];
            unsigned prefix;
            if (cairn__hunt_parse_cidr(host, hl, &family, addr, &prefix))
                rc = probe_ip(s, hs, host, hl);
            else if (cairn__hunt_is_domain(host, hl))
                rc = probe_domain(s, hs, host, hl);
        }
        return rc;
    }
    default:
        if (cairn_value_key(t, v, len, &key) != 0)
            return 0;
        snprintf(m, sizeof m, "%.*s", (int)len, v);
        return probe(s, hs, key, m, NULL);
    }
}

/* ---- building the answer ------------------------------------------------- */

static int set_new(json_t *o, const char *k, json_t *v)
{
    return v != NULL && json_object_set_new(o, k, v) == 0 ? 0 : CAIRN_ENOMEM;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v == NULL ? 0 : set_new(o, k, json_string(v));
}

/* Copy the members worth showing of an object into `out`. */
static int summarise(json_t *out, const json_t *obj)
{
    static const char *const keep[] = {
        "name",        "pattern",     "value",       "confidence",
        "valid_from",  "valid_until", "count",       "first_seen",
        "last_seen",   "created_by_ref", "indicator_types", "labels",
        "sighting_of_ref", "where_sighted_refs", "relationship_type",
        "source_ref",  "target_ref",  "hashes",      "key",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(obj, keep[i]);
        if (v != NULL && json_object_set(out, keep[i], v) != 0)
            return CAIRN_ENOMEM;
    }
    return 0;
}

static json_t *hit_json(const struct hit *h, bool full)
{
    json_t *o = json_object();
    int rc = o == NULL ? CAIRN_ENOMEM : 0;
    struct cairn_time t = {.sec = h->added_us / 1000000,
                           .nsec = (int32_t)(h->added_us % 1000000) * 1000};
    char added[40];
    if (cairn_time_format(&t, 6, added, sizeof added) < 0)
        added[0] = '\0';
    if (rc == 0)
        rc = set_str(o, "collection", h->collection);
    if (rc == 0)
        rc = set_str(o, "id", h->id);
    if (rc == 0)
        rc = set_str(o, "type", h->type);
    if (rc == 0)
        rc = set_str(o, "version", h->version);
    if (rc == 0)
        rc = set_str(o, "date_added", added);
    if (rc == 0 && h->matched != NULL)
        rc = set_str(o, "matched", h->matched);
    if (rc == 0 && h->flag_list != NULL) {
        json_t *fj = json_pack("{s:s, s:s}", "warninglist", h->flag_list,
                               "value", h->flag_value != NULL ? h->flag_value
                                                              : "");
        rc = fj != NULL && json_object_set_new(o, "flagged", fj) == 0
                 ? 0
                 : CAIRN_ENOMEM;
    }
    if (rc == 0 && full)
        rc = json_object_set(o, "object", h->obj) == 0 ? 0 : CAIRN_ENOMEM;
    else if (rc == 0)
        rc = summarise(o, h->obj);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The names of the members of `obj` that refer to `id`, joined by ','. */
static void ref_members(const json_t *obj, const char *id, char *out,
                        size_t cap)
{
    const char *name;
    const json_t *v;
    size_t o = 0;
    out[0] = '\0';
    json_object_foreach((json_t *)obj, name, v)
    {
        size_t nl = strlen(name);
        bool hit = false;
        if (nl > 4 && strcmp(name + nl - 4, "_ref") == 0)
            hit = json_is_string(v) && strcmp(json_string_value(v), id) == 0;
        else if (nl > 5 && strcmp(name + nl - 5, "_refs") == 0 &&
                 json_is_array(v)) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e)
            {
                if (json_is_string(e) && strcmp(json_string_value(e), id) == 0)
                    hit = true;
            }
        }
        if (hit && o + nl + 2 < cap) {
            if (o > 0)
                out[o++] = ',';
            memcpy(out + o, name, nl);
            o += nl;
            out[o] = '\0';
        }
    }
}

static json_t *referrer_json(const struct hit *h)
{
    json_t *o = hit_json(h, false);
    char via[200];
    ref_members(h->obj, h->target, via, sizeof via);
    if (o != NULL && (set_str(o, "refers_to", h->target) < 0 ||
                      set_str(o, "via", via) < 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static size_t limit_of(const struct cairn_lookup_opts *o)
{
    return o != NULL && o->limit > 0 ? o->limit : CAIRN_LOOKUP_LIMIT;
}

/* Referrers of every object in `of` (one hop) into `out`. */
static int referrers(struct cairn_store *s, const struct hits *of,
                     size_t from, struct hits *out)
{
    int rc = 0;
    for (size_t i = from; rc == 0 && i < of->n && !out->truncated; i++) {
        bool seen = false;
        for (size_t j = from; j < i && !seen; j++)
            seen = strcmp(of->v[j].id, of->v[i].id) == 0;
        if (seen)
            continue;
        const char *id = of->v[i].id;
        rc = probe(s, out, cairn_value_ref_key(id, strlen(id)), NULL, id);
    }
    return rc;
}

static bool get_time(const json_t *o, const char *k, struct cairn_time *t)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) &&
           cairn_time_parse(json_string_value(v), json_string_length(v), true,
                            t) == 0;
}

/* Whether organisation `org` was counted already among rel[0..upto). */
static bool org_seen(const struct hits *rel, size_t upto, const char *target,
                     const char *org, bool fp)
{
    for (size_t i = 0; i < upto; i++) {
        const struct hit *h = &rel->v[i];
        if (strcmp(h->type, "sighting") != 0 || h->target == NULL ||
            strcmp(h->target, target) != 0 ||
            json_is_true(json_object_get(h->obj, "x_cairn_false_positive")) !=
                fp)
            continue;
        const json_t *w = json_object_get(h->obj, "where_sighted_refs");
        size_t j;
        const json_t *e;
        json_array_foreach(w, j, e)
        {
            if (json_is_string(e) && strcmp(json_string_value(e), org) == 0)
                return true;
        }
        const char *by = json_string_value(json_object_get(h->obj, "created_by_ref"));
        if (json_array_size(w) == 0 && by != NULL && strcmp(by, org) == 0)
            return true;
    }
    return false;
}

/* The score of indicator `h` from the sightings of it in `rel`. */
static int score_of(const struct hit *h, const struct hits *rel,
                    const struct cairn_score_opts *so)
{
    struct cairn_score_sightings sg = {.flagged = h->flag_list};
    for (size_t i = 0; i < rel->n; i++) {
        const struct hit *r = &rel->v[i];
        if (strcmp(r->type, "sighting") != 0 || r->target == NULL ||
            strcmp(r->target, h->id) != 0)
            continue;
        bool fp = json_is_true(json_object_get(r->obj, "x_cairn_false_positive"));
        const json_t *w = json_object_get(r->obj, "where_sighted_refs");
        size_t j;
        const json_t *e;
        uint64_t *n = fp ? &sg.fp_orgs : &sg.orgs;
        json_array_foreach(w, j, e)
        {
            if (json_is_string(e) &&
                !org_seen(rel, i, h->id, json_string_value(e), fp))
                (*n)++;
        }
        const char *by = json_string_value(json_object_get(r->obj, "created_by_ref"));
        if (json_array_size(w) == 0 && by != NULL && !org_seen(rel, i, h->id, by, fp))
            (*n)++;
        struct cairn_time t;
        if (!fp && (get_time(r->obj, "last_seen", &t) ||
                    get_time(r->obj, "modified", &t)) &&
            (!sg.has_last_seen || cairn_time_cmp(&t, &sg.last_seen) > 0)) {
            sg.last_seen = t;
            sg.has_last_seen = true;
        }
    }
    return cairn_score_indicator(h->obj, &sg, so, NULL);
}

int cairn_lookup(struct cairn_store *s, const char *value,
                 const struct cairn_lookup_opts *o, json_t **out)
{
    char norm[CAIRN_VALUE_URL_MAX + 2];
    size_t nl = 0;
    struct hits direct = {.o = o, .limit = limit_of(o)};
    struct hits rel = {.o = o, .limit = limit_of(o)};
    json_t *res = NULL;
    int rc = CAIRN_EINTERNAL;

    if (out != NULL)
        *out = NULL;
    if (s == NULL || value == NULL || out == NULL)
        return CAIRN_EINVAL;
    size_t len = strlen(value);
    if (len == 0 || len > CAIRN_VALUE_URL_MAX)
        return CAIRN_EINVAL;
    if (!cairn_store_has_index(s))
        return CAIRN_EUNSUPPORTED;
    enum cairn_ioc_type t = cairn_hunt_detect(value, len, norm, sizeof norm,
                                              &nl);
    if (t != CAIRN_IOC_UNKNOWN) {
        rc = probe_value(s, &direct, t, norm, nl);
    } else {
        /* no shape of its own: a file name, a registry key */
        rc = probe_value(s, &direct, CAIRN_IOC_FILENAME, value, len);
        if (rc == 0)
            rc = probe_value(s, &direct, CAIRN_IOC_REGKEY, value, len);
    }
    /* who sighted, reported, grouped or related what carries the value;
     * and the sightings of observed-data found either way */
    if (rc == 0)
        rc = referrers(s, &direct, 0, &rel);
    if (rc == 0) {
        for (size_t i = 0; i < direct.n + rel.n; i++) {
            const struct hit *h = i < direct.n ? &direct.v[i]
                                               : &rel.v[i - direct.n];
            if (strcmp(h->type, "observed-data") != 0)
                continue;
            const char *id = h->id;
            rc = probe(s, &rel, cairn_value_ref_key(id, strlen(id)), NULL, id);
            if (rc < 0)
                break;
        }
    }
    if (rc < 0)
        goto out;

    rc = CAIRN_ENOMEM;
    res = json_object();
    json_t *m = json_array(), *r = json_array();
    if (res == NULL || set_str(res, "value", value) < 0 ||
        set_str(res, "type", t == CAIRN_IOC_UNKNOWN ? "string"
                                                    : cairn_ioc_type_name(t)) <
            0 ||
        set_new(res, "matches", m) < 0 || set_new(res, "related", r) < 0)
        goto out;
    for (size_t i = 0; i < direct.n; i++) {
        json_t *hj = hit_json(&direct.v[i], false);
        if (hj != NULL && o != NULL && o->score != NULL &&
            strcmp(direct.v[i].type, "indicator") == 0) {
            int sc = score_of(&direct.v[i], &rel, o->score);
            if (sc >= 0 && set_new(hj, "score", json_integer(sc)) < 0) {
                json_decref(hj);
                goto out;
            }
        }
        if (json_array_append_new(m, hj) != 0)
            goto out;
    }
    if (o != NULL && o->score != NULL && o->score->warninglists != NULL) {
        const char *wl = cairn_warninglists_match(
            o->score->warninglists, t == CAIRN_IOC_UNKNOWN ? CAIRN_IOC_FILENAME : (int)t,
            t == CAIRN_IOC_UNKNOWN ? value : norm, t == CAIRN_IOC_UNKNOWN ? len : nl);
        json_t *arr = json_array();
        if (arr == NULL)
            goto out;
        if (wl != NULL && json_array_append_new(arr, json_string(wl)) != 0) {
            json_decref(arr);
            goto out;
        }
        if (set_new(res, "warninglists", arr) < 0)
            goto out;
    }
    for (size_t i = 0; i < rel.n; i++)
        if (json_array_append_new(r, referrer_json(&rel.v[i])) != 0)
            goto out;
    if (o != NULL && o->under && t == CAIRN_IOC_DOMAIN) {
        json_t *u = json_array();
        if (set_new(res, "under", u) < 0)
            goto out;
        rc = cairn_lookup_under(s, value, o, NULL, m, u);
        if (rc < 0)
            goto out;
        rc = CAIRN_ENOMEM;
    }
    if (set_new(res, "truncated",
                json_boolean(direct.truncated || rel.truncated)) < 0)
        goto out;
    *out = res;
    res = NULL;
    rc = 0;
out:
    json_decref(res);
    hits_clear(&direct);
    hits_clear(&rel);
    return rc;
}

/* ---- names under a domain -------------------------------------------------
 */

/* Whether `list` has an entry of object `id` in `coll`. */
static bool listed_in(const json_t *list, const char *id, const char *coll)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *ei = json_string_value(json_object_get(e, "id"));
        const char *ec = json_string_value(json_object_get(e, "collection"));
        if (ei != NULL && ec != NULL && strcmp(ei, id) == 0 &&
            strcmp(ec, coll) == 0)
            return true;
    }
    return false;
}

int cairn_lookup_under(struct cairn_store *s, const char *domain,
                       const struct cairn_lookup_opts *o, const char *type,
                       const json_t *skip, json_t *out)
{
    char norm[CAIRN_VALUE_URL_MAX + 2];
    size_t nl = 0;
    uint64_t key;
    if (s == NULL || domain == NULL || !json_is_array(out))
        return CAIRN_EINVAL;
    size_t len = strlen(domain);
    if (len == 0 || len > CAIRN_VALUE_URL_MAX)
        return CAIRN_EINVAL;
    if (!cairn_store_has_index(s))
        return CAIRN_EUNSUPPORTED;
    if (cairn_hunt_detect(domain, len, norm, sizeof norm, &nl) !=
            CAIRN_IOC_DOMAIN ||
        nl == 0 || nl >= sizeof norm ||
        cairn_value_under_key(norm, nl, &key) != 0)
        return 0;
    norm[nl] = '\0';
    struct hits hs = {.o = o, .limit = limit_of(o)};
    int rc = probe(s, &hs, key, norm, NULL);
    for (size_t i = 0; rc == 0 && i < hs.n; i++) {
        const struct hit *h = &hs.v[i];
        if ((type != NULL && strcmp(h->type, type) != 0) ||
            (skip != NULL && listed_in(skip, h->id, h->collection)) ||
            listed_in(out, h->id, h->collection))
            continue;
        json_t *hj = hit_json(h, false);
        if (hj != NULL && o != NULL && o->score != NULL &&
            strcmp(h->type, "indicator") == 0) {
            const struct hits none = {0};
            int sc = score_of(h, &none, o->score);
            if (sc >= 0 && set_new(hj, "score", json_integer(sc)) < 0)
                hj = NULL;
        }
        if (hj == NULL || json_array_append_new(out, hj) != 0)
            rc = CAIRN_ENOMEM;
    }
    hits_clear(&hs);
    return rc;
}

/* ---- neighbourhood -------------------------------------------------------- */

/* Every visible latest version of object `id`, in every collection. */
static int find_object(struct cairn_store *s, const char *id, struct hits *hs)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n_roots = 0;
    int rc = cairn_store_api_root_list(s, &roots, &n_roots);
    for (size_t r = 0; rc == 0 && r < n_roots; r++) {
        struct cairn_store_collection *cols = NULL;
        size_t nc = 0;
        rc = cairn_store_collection_list(s, roots[r].name, &cols, &nc);
        for (size_t c = 0; rc == 0 && c < nc; c++) {
            const char *ids[1] = {id};
            struct cairn_store_query q = {.collection = cols[c].id,
                                          .ids = ids,
                                          .n_ids = 1,
                                          .with_json = true,
                                          .limit = 1};
            struct cairn_store_page *page = NULL;
            rc = cairn_store_query(s, &q, &page);
            if (rc == CAIRN_EINVAL) { /* not an id the store takes */
                rc = 0;
                continue;
            }
            for (size_t i = 0; rc == 0 && page != NULL && i < page->n; i++)
                rc = on_hit(hs, cols[c].id, &page->rows[i]);
            if (rc > 0)
                rc = 0;
            cairn_store_page_free(page);
        }
        cairn_store_collection_list_free(cols, nc);
    }
    cairn_store_api_root_list_free(roots, n_roots);
    return rc;
}

static bool str_in(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* The ids `obj` refers to, each once, into `ids` (at most `cap`). */
static size_t outgoing(const json_t *obj, const char **ids, size_t cap)
{
    const char *name;
    const json_t *v;
    size_t n = 0;
    json_object_foreach((json_t *)obj, name, v)
    {
        size_t nl = strlen(name);
        const json_t *one = NULL;
        size_t i;
        const json_t *e;
        if (nl > 4 && strcmp(name + nl - 4, "_ref") == 0)
            one = v;
        if (one != NULL && json_is_string(one) && n < cap &&
            !str_in(ids, n, json_string_value(one)))
            ids[n++] = json_string_value(one);
        if (nl > 5 && strcmp(name + nl - 5, "_refs") == 0 && json_is_array(v))
            json_array_foreach(v, i, e)
            {
                if (json_is_string(e) && n < cap &&
                    !str_in(ids, n, json_string_value(e)))
                    ids[n++] = json_string_value(e);
            }
    }
    return n;
}

int cairn_neighbourhood(struct cairn_store *s, const char *id,
                        const struct cairn_lookup_opts *o, json_t **out)
{
    struct hits self = {.o = o, .limit = limit_of(o)};
    struct hits to = {.o = o, .limit = limit_of(o)};
    struct hits by = {.o = o, .limit = limit_of(o)};
    json_t *res = NULL;
    const char *ids[CAIRN_LOOKUP_LIMIT];
    int rc;

    if (out != NULL)
        *out = NULL;
    if (s == NULL || id == NULL || out == NULL || id[0] == '\0' ||
        strlen(id) > 300)
        return CAIRN_EINVAL;
    if (!cairn_store_has_index(s))
        return CAIRN_EUNSUPPORTED;
    rc = find_object(s, id, &self);
    if (rc == 0 && self.n == 0)
        rc = CAIRN_ENOTFOUND; /* or not visible: the same to the reader */
    if (rc < 0)
        goto out;
    /* what the object refers to, from its newest version */
    size_t newest = 0;
    for (size_t i = 1; i < self.n; i++)
        if (self.v[i].added_us > self.v[newest].added_us)
            newest = i;
    size_t n_ids = outgoing(self.v[newest].obj, ids,
                            sizeof ids / sizeof ids[0]);
    for (size_t i = 0; rc == 0 && i < n_ids && !to.truncated; i++) {
        size_t before = to.n;
        rc = find_object(s, ids[i], &to);
        for (size_t j = before; rc == 0 && j < to.n; j++) {
            to.v[j].target = cairn_strndup(ids[i], strlen(ids[i]));
            if (to.v[j].target == NULL)
                rc = CAIRN_ENOMEM;
        }
    }
    if (rc == 0)
        rc = probe(s, &by, cairn_value_ref_key(id, strlen(id)), NULL, id);
    if (rc < 0)
        goto out;

    rc = CAIRN_ENOMEM;
    json_t *objs = json_array(), *ta = json_array(), *ba = json_array();
    res = json_object();
    if (res == NULL || set_str(res, "id", id) < 0 ||
        set_new(res, "objects", objs) < 0 ||
        set_new(res, "refers_to", ta) < 0 ||
        set_new(res, "referred_by", ba) < 0)
        goto out;
    for (size_t i = 0; i < self.n; i++)
        if (json_array_append_new(objs, hit_json(&self.v[i], true)) != 0)
            goto out;
    for (size_t i = 0; i < to.n; i++) {
        json_t *e = hit_json(&to.v[i], false);
        char via[200];
        ref_members(self.v[newest].obj, to.v[i].id, via, sizeof via);
        if (e == NULL || set_str(e, "via", via) < 0 ||
            json_array_append_new(ta, e) != 0)
            goto out;
    }
    for (size_t i = 0; i < by.n; i++)
        if (json_array_append_new(ba, referrer_json(&by.v[i])) != 0)
            goto out;
    if (set_new(res, "truncated",
                json_boolean(to.truncated || by.truncated ||
                             n_ids == sizeof ids / sizeof ids[0])) < 0)
        goto out;
    *out = res;
    res = NULL;
    rc = 0;
out:
    json_decref(res);
    hits_clear(&self);
    hits_clear(&to);
    hits_clear(&by);
    return rc;
}
