/* SPDX-License-Identifier: Apache-2.0 */
/* Observations for matching: observed-data and SCOs, with an id index. */
#include <string.h>

#include "pattern/obs_int.h"

int cairn_observations_new(struct cairn_observation_set **out)
{
    *out = cairn_calloc(1, sizeof **out);
    return *out ? 0 : CAIRN_ENOMEM;
}

void cairn_observations_free(struct cairn_observation_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n_docs; i++)
        json_decref(set->docs[i]);
    cairn_free(set->docs);
    cairn_free(set->obs);
    cairn_free(set->roots);
    cairn_free(set->index);
    cairn_free(set);
}

static int grow(void **p, size_t *alloc, size_t need, size_t size)
{
    if (need <= *alloc)
        return 0;
    size_t n = *alloc ? *alloc * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = cairn_realloc(*p, n * size);
    if (q == NULL)
        return CAIRN_ENOMEM;
    *p = q;
    *alloc = n;
    return 0;
}

static int keep_doc(struct cairn_observation_set *set, json_t *doc)
{
    int rc = grow((void **)&set->docs, &set->alloc_docs, set->n_docs + 1,
                  sizeof *set->docs);
    if (rc != 0)
        return rc;
    set->docs[set->n_docs++] = json_incref(doc);
    return 0;
}

static struct obs *new_obs(struct cairn_observation_set *set)
{
    if (grow((void **)&set->obs, &set->alloc_obs, set->n + 1,
             sizeof *set->obs) != 0)
        return NULL;
    struct obs *o = &set->obs[set->n++];
    memset(o, 0, sizeof *o);
    return o;
}

static bool is_sco(const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL || strcmp(type, "observed-data") == 0 ||
        strcmp(type, "bundle") == 0)
        return false;
    /* SDOs, SROs and meta objects all carry "created"; SCOs never do. */
    return json_object_get(obj, "created") == NULL;
}

static void diag_at(struct cairn_diag *diag, const json_t *obj,
                    const char *path, const char *msg)
{
    if (diag == NULL)
        return;
    cairn_diag_set(diag, CAIRN_SEV_ERROR, "observation", "%s", msg);
    const char *id = json_string_value(json_object_get(obj, "id"));
    snprintf(diag->object_id, sizeof diag->object_id, "%s", id ? id : "");
    snprintf(diag->path, sizeof diag->path, "%s", path);
}

static int add_observed_data(struct cairn_observation_set *set, json_t *od,
                             const char *path, struct cairn_diag *diag)
{
    struct obs *o = new_obs(set);
    if (o == NULL)
        return CAIRN_ENOMEM;
    o->obj = od;
    o->id = json_string_value(json_object_get(od, "id"));
    const char *f = json_string_value(json_object_get(od, "first_observed"));
    const char *l = json_string_value(json_object_get(od, "last_observed"));
    json_t *num = json_object_get(od, "number_observed");
    if (f == NULL || l == NULL ||
        cairn_time_parse(f, strlen(f), true, &o->first) != 0 ||
        cairn_time_parse(l, strlen(l), true, &o->last) != 0) {
        set->n--;
        diag_at(diag, od, path,
                "observed-data needs first_observed and last_observed "
                "timestamps");
        return CAIRN_EINVALID;
    }
    if (cairn_time_cmp(&o->first, &o->last) > 0) {
        set->n--;
        diag_at(diag, od, path, "last_observed is before first_observed");
        return CAIRN_EINVALID;
    }
    if (!json_is_integer(num) || json_integer_value(num) < 1 ||
        json_integer_value(num) > 999999999) {
        set->n--;
        diag_at(diag, od, path,
                "number_observed must be an integer from 1 to 999999999");
        return CAIRN_EINVALID;
    }
    o->timed = true;
    o->count = (uint64_t)json_integer_value(num);
    json_t *refs = json_object_get(od, "object_refs");
    json_t *objs = json_object_get(od, "objects");
    if (json_is_array(refs)) {
        o->refs = refs;
    } else if (json_is_object(objs)) {
        o->embedded = objs;
    } else {
        set->n--;
        diag_at(diag, od, path,
                "observed-data needs object_refs (or the deprecated objects)");
        return CAIRN_EINVALID;
    }
    set->sealed = false;
    return 0;
}

/* One object of a document: an observed-data, an SCO, or something else. */
static int scan_object(struct cairn_observation_set *set, json_t *obj,
                       const char *path, bool standalone,
                       struct cairn_diag *diag)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type != NULL && strcmp(type, "observed-data") == 0)
        return add_observed_data(set, obj, path, diag);
    if (standalone && is_sco(obj)) {
        struct obs *o = new_obs(set);
        if (o == NULL)
            return CAIRN_ENOMEM;
        o->obj = obj;
        o->id = json_string_value(json_object_get(obj, "id"));
        o->count = 1;
        o->self = true;
    }
    return 0;
}

static bool has_observed_data(const json_t *doc)
{
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v) if (has_observed_data(v)) return true;
        return false;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type == NULL)
        return false;
    if (strcmp(type, "observed-data") == 0)
        return true;
    if (strcmp(type, "bundle") == 0)
        return has_observed_data(json_object_get(doc, "objects"));
    return false;
}

static int scan(struct cairn_observation_set *set, json_t *doc,
                const char *path, bool standalone, int depth,
                struct cairn_diag *diag)
{
    char sub[256];
    if (depth > 2)
        return 0; /* arrays of bundles of objects, nothing deeper */
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v)
        {
            /* Paths are at most "[n].objects[n]" deep: they always fit. */
            if (snprintf(sub, sizeof sub, "%s[%zu]", path, i) >=
                (int)sizeof sub)
                return CAIRN_EINTERNAL;
            int rc = scan(set, v, sub, standalone, depth + 1, diag);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(doc))
        return 0;
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type != NULL && strcmp(type, "bundle") == 0) {
        json_t *objs = json_object_get(doc, "objects");
        if (!json_is_array(objs))
            return 0;
        size_t i;
        json_t *v;
        json_array_foreach(objs, i, v)
        {
            if (snprintf(sub, sizeof sub, "%s%sobjects[%zu]", path,
                         path[0] ? "." : "", i) >= (int)sizeof sub)
                return CAIRN_EINTERNAL;
            int rc = scan_object(set, v, sub, standalone, diag);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    return scan_object(set, doc, path, standalone, diag);
}

int cairn_observations_add_json(struct cairn_observation_set *set, json_t *doc,
                                struct cairn_diag *diag)
{
    if (set == NULL || doc == NULL)
        return CAIRN_EINVAL;
    size_t before = set->n;
    int rc = keep_doc(set, doc);
    if (rc != 0)
        return rc;
    rc = scan(set, doc, "", !has_observed_data(doc), 0, diag);
    if (rc != 0)
        set->n = before;
    set->sealed = false;
    return rc;
}

int cairn_observations_add_sco(struct cairn_observation_set *set, json_t *sco,
                               const struct cairn_time *first,
                               const struct cairn_time *last, uint64_t count)
{
    if (set == NULL || !json_is_object(sco) || count == 0 ||
        (first == NULL) != (last == NULL))
        return CAIRN_EINVAL;
    int rc = keep_doc(set, sco);
    if (rc != 0)
        return rc;
    struct obs *o = new_obs(set);
    if (o == NULL)
        return CAIRN_ENOMEM;
    o->obj = sco;
    o->id = json_string_value(json_object_get(sco, "id"));
    o->count = count;
    o->self = true;
    if (first != NULL) {
        o->timed = true;
        o->first = *first;
        o->last = *last;
        if (cairn_time_cmp(first, last) > 0) {
            set->n--;
            return CAIRN_EINVAL;
        }
    }
    set->sealed = false;
    return 0;
}

/* ---- id index: open addressing over borrowed id strings ---------------------
 */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void index_put(struct cairn_observation_set *set, const json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (id == NULL)
        return;
    size_t mask = set->index_size - 1;
    for (size_t i = hash_str(id) & mask;; i = (i + 1) & mask) {
        if (set->index[i].obj == NULL) {
            set->index[i].obj = obj;
            set->index[i].id = id;
            set->index_used++;
            return;
        }
        if (strcmp(set->index[i].id, id) == 0)
            return; /* first one wins */
    }
}

const json_t *cairn__obs_lookup(const struct cairn_observation_set *set,
                         const char *id)
{
    if (set->index_size == 0 || id == NULL)
        return NULL;
    size_t mask = set->index_size - 1;
    for (size_t i = hash_str(id) & mask;; i = (i + 1) & mask) {
        if (set->index[i].obj == NULL)
            return NULL;
        if (strcmp(set->index[i].id, id) == 0)
            return set->index[i].obj;
    }
}

static size_t count_objects(const json_t *doc, int depth)
{
    if (depth > 2)
        return 0;
    if (json_is_array(doc)) {
        size_t n = 0, i;
        json_t *v;
        json_array_foreach(doc, i, v) n += count_objects(v, depth + 1);
        return n;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type != NULL && strcmp(type, "bundle") == 0)
        return json_array_size(json_object_get(doc, "objects"));
    return json_is_object(doc) ? 1 : 0;
}

static void index_doc(struct cairn_observation_set *set, const json_t *doc,
                      int depth)
{
    if (depth > 2)
        return;
    if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v) index_doc(set, v, depth + 1);
        return;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type != NULL && strcmp(type, "bundle") == 0) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(doc, "objects"), i, v)
            index_put(set, v);
        return;
    }
    if (json_is_object(doc))
        index_put(set, doc);
}

int cairn_observations_seal(struct cairn_observation_set *set,
                            struct cairn_diag *diag)
{
    if (set == NULL)
        return CAIRN_EINVAL;
    size_t objects = 0;
    for (size_t i = 0; i < set->n_docs; i++)
        objects += count_objects(set->docs[i], 0);
    size_t size = 16;
    while (size < objects * 2 + 1)
        size *= 2;
    cairn_free(set->index);
    set->index = cairn_calloc(size, sizeof *set->index);
    if (set->index == NULL) {
        set->index_size = 0;
        return CAIRN_ENOMEM;
    }
    set->index_size = size;
    set->index_used = 0;
    for (size_t i = 0; i < set->n_docs; i++)
        index_doc(set, set->docs[i], 0);

    /* Roots of every observation, in one array. */
    size_t n_roots = 0;
    for (size_t i = 0; i < set->n; i++) {
        const struct obs *o = &set->obs[i];
        n_roots += o->self   ? 1
                   : o->refs ? json_array_size(o->refs)
                             : json_object_size(o->embedded);
    }
    cairn_free(set->roots);
    set->roots = cairn_calloc(n_roots ? n_roots : 1, sizeof *set->roots);
    if (set->roots == NULL)
        return CAIRN_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        struct obs *o = &set->obs[i];
        o->first_root = k;
        if (o->self) {
            set->roots[k++] = o->obj;
        } else if (o->refs != NULL) {
            size_t j;
            json_t *r;
            json_array_foreach(o->refs, j, r)
            {
                const json_t *t = cairn__obs_lookup(set, json_string_value(r));
                if (t == NULL) {
                    if (diag != NULL) {
                        char msg[200];
                        snprintf(msg, sizeof msg,
                                 "object_refs names %.120s, which is not in "
                                 "the input",
                                 json_string_value(r) ? json_string_value(r)
                                                      : "a non-string");
                        char path[64];
                        snprintf(path, sizeof path, "object_refs[%zu]", j);
                        diag_at(diag, o->obj, path, msg);
                    }
                    return CAIRN_EINVALID;
                }
                set->roots[k++] = t;
            }
        } else {
            const char *key;
            json_t *v;
            json_object_foreach((json_t *)o->embedded, key, v)
            {
                if (json_is_object(v))
                    set->roots[k++] = v;
            }
        }
        o->n_roots = k - o->first_root;
    }
    set->sealed = true;
    return 0;
}

size_t cairn_observations_count(const struct cairn_observation_set *set)
{
    return set ? set->n : 0;
}

const char *cairn_observations_id(const struct cairn_observation_set *set,
                                  size_t i)
{
    if (set == NULL || i >= set->n)
        return NULL;
    return set->obs[i].id;
}
