/* SPDX-License-Identifier: Apache-2.0 */
/* Hits aggregated per indicator into STIX 2.1 sighting objects. */
#include <stdio.h>
#include <string.h>

#include "cairn/stix.h"
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
};

struct cairn_hunt_sightings {
    char *name;
    char identity[CAIRN_STIX_ID_MAX];
    struct srec *recs;
    size_t n, alloc;
    uint32_t *table; /* record index + 1; 0 is empty */
    size_t table_cap;
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

int cairn_hunt_sightings_add(struct cairn_hunt_sightings *s,
                             const struct cairn_hunt_hit *hit)
{
    if (s == NULL || hit == NULL || hit->indicator_id == NULL)
        return CAIRN_EINVAL;
    if ((s->n + 1) * 2 > s->table_cap) {
        int rc = rehash(s);
        if (rc != 0)
            return rc;
    }
    size_t j = id_hash(hit->indicator_id) & (s->table_cap - 1);
    struct srec *r = NULL;
    for (; s->table[j] != 0; j = (j + 1) & (s->table_cap - 1)) {
        struct srec *c = &s->recs[s->table[j] - 1];
        if (strcmp(c->id, hit->indicator_id) == 0) {
            r = c;
            break;
        }
    }
    if (r == NULL) {
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
        char *id = cairn_strdup(hit->indicator_id);
        if (id == NULL)
            return CAIRN_ENOMEM;
        r = &s->recs[s->n];
        *r = (struct srec){.id = id};
        s->table[j] = (uint32_t)++s->n;
    }
    const struct cairn_hunt_event *ev = hit->event;
    struct cairn_time t;
    bool has_ts = ev != NULL && ev->has_ts;
    if (has_ts)
        t = ev->ts;
    else
        t = cairn_time_now(3);
    if (r->count < UINT64_MAX)
        r->count++;
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
    rc = CAIRN_ENOMEM;
    o = json_object();
    if (o == NULL)
        goto out;
    if ((rc = set_str(o, "type", "identity")) != 0 ||
        (rc = set_str(o, "spec_version", "2.1")) != 0 ||
        (rc = set_str(o, "id", s->identity)) != 0 ||
        (rc = set_time(o, "created", &now, 3)) != 0 ||
        (rc = set_time(o, "modified", &now, 3)) != 0 ||
        (rc = set_str(o, "name", s->name)) != 0 ||
        (rc = set_str(o, "identity_class", "organization")) != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    if (json_array_append_new(objects, o) != 0) {
        o = NULL;
        goto out;
    }
    o = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const struct srec *r = &s->recs[i];
        rc = cairn_uuid4(uuid);
        if (rc != 0)
            goto out;
        snprintf(id, sizeof id, "sighting--%s", uuid);
        rc = CAIRN_ENOMEM;
        o = json_object();
        json_t *where = json_array();
        if (o == NULL || where == NULL ||
            json_array_append_new(where, json_string(s->identity)) != 0 ||
            json_object_set_new(o, "where_sighted_refs", where) != 0) {
            json_decref(where);
            goto out;
        }
        if ((rc = set_str(o, "type", "sighting")) != 0 ||
            (rc = set_str(o, "spec_version", "2.1")) != 0 ||
            (rc = set_str(o, "id", id)) != 0 ||
            (rc = set_time(o, "created", &now, 3)) != 0 ||
            (rc = set_time(o, "modified", &now, 3)) != 0 ||
            (rc = set_str(o, "sighting_of_ref", r->id)) != 0 ||
            (rc = set_time(o, "first_seen", &r->first, -1)) != 0 ||
            (rc = set_time(o, "last_seen", &r->last, -1)) != 0)
            goto out;
        rc = CAIRN_ENOMEM;
        uint64_t c = r->count > COUNT_MAX ? COUNT_MAX : r->count;
        if (json_object_set_new(o, "count", json_integer((json_int_t)c)) != 0)
            goto out;
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
