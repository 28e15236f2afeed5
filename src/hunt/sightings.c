/* SPDX-License-Identifier: Apache-2.0 */
/* Hits aggregated per indicator into STIX 2.1 sighting objects. */
#include <stdio.h>
#include <string.h>

#include "cairn/stix.h"
#include "cairn/store.h"
#include "hunt/hunt_int.h"

/* Namespace of identity ids derived from a name (a fixed random UUID). */
#define IDENTITY_NAMESPACE "86032b0c-a25e-4291-9629-920717bb7b26"
/* STIX caps sighting.count at this. */
#define COUNT_MAX      999999999ULL
#define MAX_INDICATORS ((size_t)1 << 26)

struct srec {
    char *id;
    uint64_t count;
    bool has_ts;
    struct cairn_time first, last;
    /* Stable sightings: a version is owed (count or times moved), and the
     * created and modified of the last version written or resumed. */
    bool dirty;
    bool has_created;
    struct cairn_time created, modified;
};

struct cairn_hunt_sightings {
    char *name;
    char identity[CAIRN_STIX_ID_MAX];
    struct srec *recs;
    size_t n, alloc;
    uint32_t *table; /* record index + 1; 0 is empty */
    size_t table_cap;
    bool stable;           /* ids derived from identity and indicator */
    bool identity_written; /* stable: the identity is stored already */
    bool has_identity_created;
    struct cairn_time identity_created;
};

int cairn_hunt_sightings_new(const char *name, const char *identity_id,
                             struct cairn_hunt_sightings **out)
{
    struct cairn_hunt_sightings *s = NULL;
    char uuid[CAIRN_UUID_STRLEN];
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (name == NULL || name[0] == '\0' ||
        (identity_id != NULL && !cairn_stix_id_check(identity_id, "identity")))
        goto out;
    rc = CAIRN_ENOMEM;
    s = cairn_calloc(1, sizeof *s);
    if (s == NULL || (s->name = cairn_strdup(name)) == NULL)
        goto out;
    if (identity_id != NULL) {
        snprintf(s->identity, sizeof s->identity, "%s", identity_id);
    } else {
        /* the same organisation name gives the same identity every run */
        rc = cairn_uuid5(IDENTITY_NAMESPACE, name, strlen(name), uuid);
        if (rc != 0)
            goto out;
        snprintf(s->identity, sizeof s->identity, "identity--%s", uuid);
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    cairn_hunt_sightings_free(s);
    return rc;
}

void cairn_hunt_sightings_free(struct cairn_hunt_sightings *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        cairn_free(s->recs[i].id);
    cairn_free(s->recs);
    cairn_free(s->table);
    cairn_free(s->name);
    cairn_free(s);
}

static uint64_t id_hash(const char *id)
{
    return hunt_hash(id, strlen(id), HUNT_K2, false);
}

static int rehash(struct cairn_hunt_sightings *s)
{
    size_t cap = s->table_cap ? s->table_cap * 2 : 64;
    uint32_t *t = cairn_calloc(cap, sizeof *t);
    if (t == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = id_hash(s->recs[i].id) & (cap - 1);
        while (t[j] != 0)
            j = (j + 1) & (cap - 1);
        t[j] = (uint32_t)i + 1;
    }
    cairn_free(s->table);
    s->table = t;
    s->table_cap = cap;
    return 0;
}

/* The record of `id`, made when `create`; *out NULL when absent. */
static int find_rec(struct cairn_hunt_sightings *s, const char *id,
                    bool create, struct srec **out)
{
    *out = NULL;
    if ((s->n + 1) * 2 > s->table_cap) {
        int rc = rehash(s);
        if (rc != 0)
            return rc;
    }
    size_t j = id_hash(id) & (s->table_cap - 1);
    for (; s->table[j] != 0; j = (j + 1) & (s->table_cap - 1)) {
        struct srec *c = &s->recs[s->table[j] - 1];
        if (strcmp(c->id, id) == 0) {
            *out = c;
            return 0;
        }
    }
    if (!create)
        return 0;
    if (s->n >= MAX_INDICATORS)
        return CAIRN_ETOOBIG;
    if (s->n == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 16;
        struct srec *nr = cairn_realloc(s->recs, na * sizeof *nr);
        if (nr == NULL)
            return CAIRN_ENOMEM;
        s->recs = nr;
        s->alloc = na;
    }
    char *copy = cairn_strdup(id);
    if (copy == NULL)
        return CAIRN_ENOMEM;
    struct srec *r = &s->recs[s->n];
    *r = (struct srec){.id = copy};
    s->table[j] = (uint32_t)++s->n;
    *out = r;
    return 0;
}

int cairn_hunt_sightings_add(struct cairn_hunt_sightings *s,
                             const struct cairn_hunt_hit *hit)
{
    struct srec *r = NULL;

    if (s == NULL || hit == NULL || hit->indicator_id == NULL)
        return CAIRN_EINVAL;
    int rc = find_rec(s, hit->indicator_id, true, &r);
    if (rc != 0)
        return rc;
    const struct cairn_hunt_event *ev = hit->event;
    struct cairn_time t;
    bool has_ts = ev != NULL && ev->has_ts;
    if (has_ts)
        t = ev->ts;
    else
        t = cairn_time_now(3);
    if (r->count < UINT64_MAX)
        r->count++;
    r->dirty = true;
    /* event times win over the hunt's clock; the clock only fills in */
    if (has_ts && !r->has_ts) {
        r->has_ts = true;
        r->first = r->last = t;
    } else if (has_ts || (!r->has_ts && r->count > 1)) {
        if (cairn_time_cmp(&t, &r->first) < 0)
            r->first = t;
        if (cairn_time_cmp(&t, &r->last) > 0)
            r->last = t;
    } else if (!r->has_ts) {
        r->first = r->last = t;
    }
    return 0;
}

size_t cairn_hunt_sightings_count(const struct cairn_hunt_sightings *s)
{
    return s != NULL ? s->n : 0;
}

static int set_time(json_t *o, const char *key, const struct cairn_time *t,
                    int digits)
{
    char buf[40];
    if (cairn_time_format(t, digits, buf, sizeof buf) < 0)
        return CAIRN_EINVAL;
    return json_object_set_new(o, key, json_string(buf)) == 0 ? 0
                                                              : CAIRN_ENOMEM;
}

static int set_str(json_t *o, const char *key, const char *v)
{
    return json_object_set_new(o, key, json_string(v)) == 0 ? 0 : CAIRN_ENOMEM;
}

/* The identity object of `s`. */
static int identity_object(const struct cairn_hunt_sightings *s,
                           const struct cairn_time *created, json_t **out)
{
    json_t *o = json_object();
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    if (o == NULL)
        return rc;
    if ((rc = set_str(o, "type", "identity")) != 0 ||
        (rc = set_str(o, "spec_version", "2.1")) != 0 ||
        (rc = set_str(o, "id", s->identity)) != 0 ||
        (rc = set_time(o, "created", created, 3)) != 0 ||
        (rc = set_time(o, "modified", created, 3)) != 0 ||
        (rc = set_str(o, "name", s->name)) != 0 ||
        (rc = set_str(o, "identity_class", "organization")) != 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* One sighting object of record `r`, with id `id`. */
static int sighting_object(const struct cairn_hunt_sightings *s,
                           const struct srec *r, const char *id,
                           const struct cairn_time *created,
                           const struct cairn_time *modified, json_t **out)
{
    json_t *o = json_object();
    json_t *where = json_array();
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    if (o == NULL || where == NULL ||
        json_array_append_new(where, json_string(s->identity)) != 0 ||
        json_object_set_new(o, "where_sighted_refs", where) != 0) {
        json_decref(where);
        goto out;
    }
    if ((rc = set_str(o, "type", "sighting")) != 0 ||
        (rc = set_str(o, "spec_version", "2.1")) != 0 ||
        (rc = set_str(o, "id", id)) != 0 ||
        (rc = set_time(o, "created", created, 3)) != 0 ||
        (rc = set_time(o, "modified", modified, 3)) != 0 ||
        (rc = set_str(o, "sighting_of_ref", r->id)) != 0 ||
        (rc = set_time(o, "first_seen", &r->first, -1)) != 0 ||
        (rc = set_time(o, "last_seen", &r->last, -1)) != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    uint64_t c = r->count > COUNT_MAX ? COUNT_MAX : r->count;
    if (json_object_set_new(o, "count", json_integer((json_int_t)c)) != 0)
        goto out;
    *out = o;
    o = NULL;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

int cairn_hunt_sightings_to_bundle(const struct cairn_hunt_sightings *s,
                                   json_t **out)
{
    json_t *bundle = NULL, *o = NULL;
    char uuid[CAIRN_UUID_STRLEN], id[64];
    struct cairn_time now = cairn_time_now(3);
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (s == NULL)
        goto out;
    rc = cairn_bundle_new(&bundle);
    if (rc != 0)
        goto out;
    json_t *objects = json_object_get(bundle, "objects");
    if ((rc = identity_object(s, &now, &o)) != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    if (json_array_append_new(objects, o) != 0) {
        o = NULL;
        goto out;
    }
    o = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct srec *r = &s->recs[i];
        if (s->stable) {
            rc = cairn_hunt_sightings_id(s, r->id, id, sizeof id);
        } else {
            rc = cairn_uuid4(uuid);
            snprintf(id, sizeof id, "sighting--%s", uuid);
        }
        if (rc != 0 ||
            (rc = sighting_object(s, r, id, &now, &now, &o)) != 0)
            goto out;
        rc = CAIRN_ENOMEM;
        if (json_array_append_new(objects, o) != 0) {
            o = NULL;
            goto out;
        }
        o = NULL;
    }
    *out = bundle;
    bundle = NULL;
    rc = 0;
out:
    json_decref(o);
    json_decref(bundle);
    return rc;
}

/* ---- sightings that last ------------------------------------------------- */

void cairn_hunt_sightings_set_stable(struct cairn_hunt_sightings *s)
{
    if (s != NULL)
        s->stable = true;
}

int cairn_hunt_sightings_id(const struct cairn_hunt_sightings *s,
                            const char *indicator_id, char *out, size_t len)
{
    char name[CAIRN_STIX_ID_MAX * 2 + 2];
    char uuid[CAIRN_UUID_STRLEN];

    int n = snprintf(name, sizeof name, "%s\n%s", s->identity, indicator_id);
    if (n < 0 || (size_t)n >= sizeof name)
        return CAIRN_EINVAL;
    int rc = cairn_uuid5(IDENTITY_NAMESPACE, name, (size_t)n, uuid);
    if (rc != 0)
        return rc;
    n = snprintf(out, len, "sighting--%s", uuid);
    return n > 0 && (size_t)n < len ? 0 : CAIRN_ETOOBIG;
}

static bool get_time(const json_t *o, const char *key, struct cairn_time *out)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL && cairn_time_parse(v, strlen(v), true, out) == 0;
}

static void widen(struct srec *r, const struct cairn_time *first,
                  const struct cairn_time *last, uint64_t count)
{
    if (count > r->count) {
        r->count = count;
        r->dirty = true;
    }
    if (!r->has_ts || cairn_time_cmp(first, &r->first) < 0) {
        r->first = *first;
        r->dirty = true;
    }
    if (!r->has_ts || cairn_time_cmp(last, &r->last) > 0) {
        r->last = *last;
        r->dirty = true;
    }
    r->has_ts = true;
}

int cairn_hunt_sightings_resume(struct cairn_hunt_sightings *s,
                                const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *id = json_string_value(json_object_get(obj, "id"));
    struct cairn_time created, modified, first, last;
    char want[CAIRN_STIX_ID_MAX];
    struct srec *r = NULL;

    if (s == NULL || !s->stable || type == NULL || id == NULL)
        return CAIRN_EINVAL;
    if (!get_time(obj, "created", &created))
        return CAIRN_HUNT_SKIPPED;
    if (strcmp(type, "identity") == 0) {
        if (strcmp(id, s->identity) != 0)
            return CAIRN_HUNT_SKIPPED;
        s->identity_written = true;
        s->has_identity_created = true;
        s->identity_created = created;
        return 0;
    }
    const char *of = json_string_value(json_object_get(obj, "sighting_of_ref"));
    json_int_t count = json_integer_value(json_object_get(obj, "count"));
    if (strcmp(type, "sighting") != 0 || of == NULL ||
        cairn_hunt_sightings_id(s, of, want, sizeof want) != 0 ||
        strcmp(want, id) != 0 || !get_time(obj, "modified", &modified) ||
        !get_time(obj, "first_seen", &first) ||
        !get_time(obj, "last_seen", &last) || count < 0)
        return CAIRN_HUNT_SKIPPED;
    int rc = find_rec(s, of, true, &r);
    if (rc != 0)
        return rc;
    widen(r, &first, &last, (uint64_t)count);
    /* A version is owed only for what goes past the stored one. */
    r->dirty = r->count != (uint64_t)count ||
               cairn_time_cmp(&r->first, &first) != 0 ||
               cairn_time_cmp(&r->last, &last) != 0;
    if (!r->has_created || cairn_time_cmp(&modified, &r->modified) > 0) {
        r->has_created = true;
        r->created = created;
        r->modified = modified;
    }
    return 0;
}

int cairn_hunt_sightings_merge(struct cairn_hunt_sightings *dst,
                               const struct cairn_hunt_sightings *src)
{
    if (dst == NULL || src == NULL)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < src->n; i++) {
        const struct srec *from = &src->recs[i];
        struct srec *r = NULL;
        int rc = find_rec(dst, from->id, true, &r);
        if (rc != 0)
            return rc;
        widen(r, &from->first, &from->last, from->count);
    }
    return 0;
}

/* The modified of the next version of `r`: now, or just after the last. */
static struct cairn_time next_modified(const struct srec *r,
                                       const struct cairn_time *now)
{
    struct cairn_time m = *now;

    if (r->has_created && cairn_time_cmp(&m, &r->modified) <= 0) {
        m = r->modified;
        m.nsec = (m.nsec / 1000000 + 1) * 1000000;
        if (m.nsec >= 1000000000) {
            m.sec++;
            m.nsec -= 1000000000;
        }
        m.digits = 3;
    }
    return m;
}

int cairn_hunt_sightings_changed(struct cairn_hunt_sightings *s, json_t **out)
{
    json_t *bundle = NULL, *o = NULL;
    struct cairn_time now = cairn_time_now(3);
    char id[CAIRN_STIX_ID_MAX];
    size_t n = 0;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (s == NULL || !s->stable)
        goto out;
    for (size_t i = 0; i < s->n; i++)
        n += s->recs[i].dirty;
    rc = 0;
    if (n == 0 && s->identity_written)
        goto out;
    if ((rc = cairn_bundle_new(&bundle)) != 0)
        goto out;
    json_t *objects = json_object_get(bundle, "objects");
    if (!s->identity_written) {
        if (!s->has_identity_created) {
            s->identity_created = now;
            s->has_identity_created = true;
        }
        if ((rc = identity_object(s, &s->identity_created, &o)) != 0)
            goto out;
        rc = CAIRN_ENOMEM;
        if (json_array_append_new(objects, o) != 0) {
            o = NULL;
            goto out;
        }
        o = NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct srec *r = &s->recs[i];
        if (!r->dirty)
            continue;
        struct cairn_time created = r->has_created ? r->created : now;
        struct cairn_time modified = next_modified(r, &now);
        if ((rc = cairn_hunt_sightings_id(s, r->id, id, sizeof id)) != 0 ||
            (rc = sighting_object(s, r, id, &created, &modified, &o)) != 0)
            goto out;
        rc = CAIRN_ENOMEM;
        if (json_array_append_new(objects, o) != 0) {
            o = NULL;
            goto out;
        }
        o = NULL;
    }
    /* Handed out: the caller stores them (or calls _unwritten). */
    s->identity_written = true;
    for (size_t i = 0; i < s->n; i++) {
        struct srec *r = &s->recs[i];
        if (!r->dirty)
            continue;
        r->modified = next_modified(r, &now);
        if (!r->has_created)
            r->created = now;
        r->has_created = true;
        r->dirty = false;
    }
    *out = bundle;
    bundle = NULL;
    rc = 0;
out:
    json_decref(o);
    json_decref(bundle);
    return rc;
}

bool cairn_hunt_sightings_owed(const struct cairn_hunt_sightings *s)
{
    if (s == NULL || !s->stable)
        return false;
    if (!s->identity_written)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (s->recs[i].dirty)
            return true;
    return false;
}

void cairn_hunt_sightings_unwritten(struct cairn_hunt_sightings *s,
                                    const json_t *bundle)
{
    const json_t *objs = json_object_get(bundle, "objects");
    size_t i;
    const json_t *o;

    if (s == NULL)
        return;
    json_array_foreach(objs, i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *of = json_string_value(json_object_get(o, "sighting_of_ref"));
        struct srec *r = NULL;
        if (type != NULL && strcmp(type, "identity") == 0)
            s->identity_written = false;
        else if (of != NULL && find_rec(s, of, false, &r) == 0 && r != NULL)
            r->dirty = true;
    }
}

int cairn_hunt_sightings_store(struct cairn_store *s,
                               const struct cairn_ingest_opts *io,
                               const json_t *bundle,
                               struct cairn_ingest_counts *c)
{
    const json_t *objs = json_object_get(bundle, "objects");
    size_t n = json_array_size(objs);
    struct cairn_ingest_opts o = *io;
    struct cairn_ingest *in = NULL;

    o.batch = n < CAIRN_STORE_BATCH_MAX ? n : CAIRN_STORE_BATCH_MAX;
    int rc = cairn_ingest_new(s, &o, &in);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_ingest_add(in, json_array_get(objs, i), NULL, 0, NULL, 0);
    if (rc == 0)
        rc = cairn_ingest_flush(in);
    cairn_ingest_counts(in, c);
    cairn_ingest_free(in);
    return rc;
}
