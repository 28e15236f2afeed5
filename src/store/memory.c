/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory backend of the store, for tests: same semantics as SQLite. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/*
 * Everything lives in plain arrays behind one mutex. Objects of a
 * collection are kept in date_added order (appends only; a delete marks
 * the row dead), and a hash table from object id to its live versions
 * answers "first", "last" and "is this version stored" without a scan.
 */

struct m_obj {
    int64_t added;
    bool dead;
    char *id, *type, *spec_version, *created, *modified, *json;
    size_t json_len;
    char vkey[32];
    int64_t *keys; /* sorted: the index keys (a scan finds them) */
    size_t n_keys;
    bool has_sight; /* a sighting: its summary, strings owned */
    struct store_sight sight;
    char *flag_list, *flag_value; /* its warninglist flag, or NULL */
};

struct m_versions {
    char *id; /* NULL: empty slot */
    struct m_obj **v;
    size_t n, alloc;
};

struct m_coll {
    struct cairn_store_collection c;
    int64_t last_added;
    int default_tlp;
    struct m_obj **rows;
    size_t n, alloc;
    struct m_versions *map;
    size_t map_size, map_used; /* size is a power of two */
};

struct m_item {
    struct cairn_store_result r;
    int kind; /* 0 success, 1 failure, 2 pending */
};

struct m_status {
    char id[CAIRN_UUID_STRLEN];
    char *collection, *user;
    int64_t request_us, total, success, failure;
    struct m_item *items;
    size_t n, alloc;
};

struct m_pair {
    char *a, *b;   /* user and hash, token hash and user, user and collection */
    unsigned bits; /* rights; for users, 1 when a community member */
    char *identity; /* users: the STIX identity they act for, or NULL */
    bool admin;     /* users: an administrator of the console */
    bool identities; /* users: entitled to the identities of sightings */
};

struct m_store {
    struct cairn_store base;
    pthread_mutex_t lock;
    struct cairn_store_api_root *roots;
    size_t n_roots;
    struct m_coll **colls;
    size_t n_colls;
    struct m_status **statuses;
    size_t n_statuses;
    struct m_pair *users, *tokens, *rights;
    size_t n_users, n_tokens, n_rights;
    struct m_pair *states; /* named state: name and value */
    size_t n_states;
    struct m_pair *marks; /* collection, "ID VERSION", the mark (identity) */
    size_t n_marks;
};

static struct m_store *ms(struct cairn_store *s)
{
    return (struct m_store *)s;
}

/*
 * Grow the array whose pointer is at `arrp` (of `size`-byte elements) to
 * hold one more. The pointer is read and written with memcpy, so this works
 * for any element type without breaking aliasing rules.
 */
static int grow(void *arrp, size_t *alloc, size_t n, size_t size)
{
    if (n < *alloc)
        return 0;
    void *old;
    memcpy(&old, arrp, sizeof old);
    size_t na = *alloc ? *alloc * 2 : 8;
    void *q = cairn_realloc(old, na * size);
    if (q == NULL)
        return CAIRN_ENOMEM;
    memcpy(arrp, &q, sizeof q);
    *alloc = na;
    return 0;
}

/* A heap copy of NULL-able `s`; sets *rc on failure. */
static char *dup(const char *s, int *rc)
{
    if (s == NULL)
        return NULL;
    char *p = cairn_strdup(s);
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

static void obj_free(struct m_obj *o)
{
    if (o == NULL)
        return;
    cairn_free(o->id);
    cairn_free(o->type);
    cairn_free(o->spec_version);
    cairn_free(o->created);
    cairn_free(o->modified);
    cairn_free(o->json);
    cairn_free(o->keys);
    cairn_free((char *)o->sight.of_ref);
    cairn_free((char *)o->sight.orgs);
    cairn_free((char *)o->sight.first);
    cairn_free((char *)o->sight.last);
    cairn_free(o->flag_list);
    cairn_free(o->flag_value);
    cairn_free(o);
}

static void coll_free(struct m_coll *c)
{
    if (c == NULL)
        return;
    cairn__store_collection_clear(&c->c);
    for (size_t i = 0; i < c->n; i++)
        obj_free(c->rows[i]);
    cairn_free(c->rows);
    for (size_t i = 0; i < c->map_size; i++) {
        cairn_free(c->map[i].id);
        cairn_free(c->map[i].v);
    }
    cairn_free(c->map);
    cairn_free(c);
}

static void status_free(struct m_status *st)
{
    if (st == NULL)
        return;
    cairn_free(st->collection);
    cairn_free(st->user);
    cairn_free(st->items);
    cairn_free(st);
}

static void pairs_free(struct m_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cairn_free(p[i].a);
        cairn_free(p[i].b);
        cairn_free(p[i].identity);
    }
    cairn_free(p);
}

static void m_close(struct cairn_store *base)
{
    struct m_store *s = ms(base);
    cairn_store_api_root_list_free(s->roots, s->n_roots);
    for (size_t i = 0; i < s->n_colls; i++)
        coll_free(s->colls[i]);
    cairn_free(s->colls);
    for (size_t i = 0; i < s->n_statuses; i++)
        status_free(s->statuses[i]);
    cairn_free(s->statuses);
    pairs_free(s->users, s->n_users);
    pairs_free(s->tokens, s->n_tokens);
    pairs_free(s->rights, s->n_rights);
    pairs_free(s->states, s->n_states);
    pairs_free(s->marks, s->n_marks);
    pthread_mutex_destroy(&s->lock);
    cairn_free(s);
}

static const struct store_ops memory_ops;

int cairn__store_memory_open(const struct cairn_store_opts *opts,
                             struct cairn_store **out)
{
    (void)opts;
    struct m_store *s = cairn_calloc(1, sizeof *s);
    if (s == NULL)
        return CAIRN_ENOMEM;
    s->base.ops = &memory_ops;
    pthread_mutex_init(&s->lock, NULL);
    *out = &s->base;
    return 0;
}

static int m_schema_version(struct cairn_store *base, int *out)
{
    (void)base;
    *out = cairn_store_schema_latest();
    return 0;
}

/* ---- API roots -------------------------------------------------------------
 */

static struct cairn_store_api_root *find_root(struct m_store *s,
                                              const char *name)
{
    for (size_t i = 0; i < s->n_roots; i++)
        if (strcmp(s->roots[i].name, name) == 0)
            return &s->roots[i];
    return NULL;
}

static int copy_root(const struct cairn_store_api_root *from,
                     struct cairn_store_api_root *to)
{
    int rc = 0;
    to->name = dup(from->name, &rc);
    to->title = dup(from->title, &rc);
    to->description = dup(from->description, &rc);
    to->max_content_length = from->max_content_length;
    if (rc < 0)
        cairn__store_api_root_clear(to);
    return rc;
}

static int m_api_root_put(struct cairn_store *base,
                          const struct cairn_store_api_root *root)
{
    struct m_store *s = ms(base);
    struct cairn_store_api_root copy = {0};
    int rc = copy_root(root, &copy);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->lock);
    struct cairn_store_api_root *old = find_root(s, root->name);
    if (old != NULL) {
        cairn__store_api_root_clear(old);
        *old = copy;
    } else {
        size_t alloc = s->n_roots;
        rc = grow(&s->roots, &alloc, s->n_roots, sizeof *s->roots);
        if (rc == 0) {
            /* Keep them sorted by name, as the SQLite backend lists them. */
            size_t at = 0;
            while (at < s->n_roots && strcmp(s->roots[at].name, copy.name) < 0)
                at++;
            memmove(&s->roots[at + 1], &s->roots[at],
                    (s->n_roots - at) * sizeof *s->roots);
            s->roots[at] = copy;
            s->n_roots++;
        } else {
            cairn__store_api_root_clear(&copy);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_api_root_get(struct cairn_store *base, const char *name,
                          struct cairn_store_api_root **out)
{
    struct m_store *s = ms(base);
    int rc = CAIRN_ENOMEM;
    struct cairn_store_api_root *r = cairn_calloc(1, sizeof *r);
    if (r == NULL)
        return rc;
    pthread_mutex_lock(&s->lock);
    struct cairn_store_api_root *found = find_root(s, name);
    rc = found ? copy_root(found, r) : CAIRN_ENOTFOUND;
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int m_api_root_list(struct cairn_store *base,
                           struct cairn_store_api_root **out, size_t *n)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct cairn_store_api_root *arr =
        cairn_calloc(s->n_roots ? s->n_roots : 1, sizeof *arr);
    size_t i = 0;
    if (arr == NULL)
        rc = CAIRN_ENOMEM;
    for (; rc == 0 && i < s->n_roots; i++)
        rc = copy_root(&s->roots[i], &arr[i]);
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_store_api_root_list_free(arr, i);
        return rc;
    }
    *out = arr;
    *n = i;
    return 0;
}

/* ---- collections -----------------------------------------------------------
 */

static struct m_coll *find_coll(struct m_store *s, const char *id)
{
    for (size_t i = 0; i < s->n_colls; i++)
        if (strcmp(s->colls[i]->c.id, id) == 0)
            return s->colls[i];
    return NULL;
}

static int copy_coll(const struct cairn_store_collection *from,
                     struct cairn_store_collection *to)
{
    int rc = 0;
    memset(to, 0, sizeof *to);
    memcpy(to->id, from->id, sizeof to->id);
    to->api_root = dup(from->api_root, &rc);
    to->title = dup(from->title, &rc);
    to->description = dup(from->description, &rc);
    to->alias = dup(from->alias, &rc);
    for (size_t i = 0; i < CAIRN_STORE_MEDIA_TYPES_MAX && from->media_types[i];
         i++)
        to->media_types[i] = dup(from->media_types[i], &rc);
    if (rc < 0)
        cairn__store_collection_clear(to);
    return rc;
}

static int m_collection_create(struct cairn_store *base,
                               const struct cairn_store_collection *c)
{
    struct m_store *s = ms(base);
    for (size_t i = 0; i < CAIRN_STORE_MEDIA_TYPES_MAX && c->media_types[i];
         i++)
        if (strchr(c->media_types[i], '\n') != NULL)
            return CAIRN_EINVAL; /* as SQLite, which joins them by lines */
    struct m_coll *mc = cairn_calloc(1, sizeof *mc);
    if (mc == NULL)
        return CAIRN_ENOMEM;
    int rc = copy_coll(c, &mc->c);
    pthread_mutex_lock(&s->lock);
    if (rc == 0 && find_root(s, c->api_root) == NULL)
        rc = CAIRN_ENOTFOUND;
    if (rc == 0 && find_coll(s, c->id) != NULL)
        rc = CAIRN_EEXIST;
    size_t alloc = s->n_colls;
    if (rc == 0)
        rc = grow(&s->colls, &alloc, s->n_colls, sizeof *s->colls);
    if (rc == 0) {
        s->colls[s->n_colls++] = mc;
        mc = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    coll_free(mc);
    return rc;
}

static int m_collection_get(struct cairn_store *base, const char *api_root,
                            const char *id, bool alias,
                            struct cairn_store_collection **out)
{
    struct m_store *s = ms(base);
    struct cairn_store_collection *c = cairn_calloc(1, sizeof *c);
    if (c == NULL)
        return CAIRN_ENOMEM;
    pthread_mutex_lock(&s->lock);
    struct m_coll *mc = find_coll(s, id);
    if (alias && (mc == NULL || strcmp(mc->c.api_root, api_root) != 0)) {
        mc = NULL;
        for (size_t i = 0; i < s->n_colls && mc == NULL; i++)
            if (s->colls[i]->c.alias != NULL &&
                strcmp(s->colls[i]->c.alias, id) == 0 &&
                strcmp(s->colls[i]->c.api_root, api_root) == 0)
                mc = s->colls[i];
    }
    int rc = CAIRN_ENOTFOUND;
    if (mc != NULL &&
        (api_root == NULL || strcmp(mc->c.api_root, api_root) == 0))
        rc = copy_coll(&mc->c, c);
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int m_collection_list(struct cairn_store *base, const char *api_root,
                             struct cairn_store_collection **out, size_t *n)
{
    struct m_store *s = ms(base);
    int rc = 0;
    size_t cnt = 0;
    pthread_mutex_lock(&s->lock);
    struct cairn_store_collection *arr =
        cairn_calloc(s->n_colls ? s->n_colls : 1, sizeof *arr);
    if (arr == NULL)
        rc = CAIRN_ENOMEM;
    for (size_t i = 0; rc == 0 && i < s->n_colls; i++) {
        if (strcmp(s->colls[i]->c.api_root, api_root) != 0)
            continue;
        rc = copy_coll(&s->colls[i]->c, &arr[cnt]);
        if (rc == 0)
            cnt++;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_store_collection_list_free(arr, cnt);
        return rc;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static int m_collection_delete(struct cairn_store *base, const char *id)
{
    struct m_store *s = ms(base);
    int rc = CAIRN_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_colls; i++) {
        if (strcmp(s->colls[i]->c.id, id) != 0)
            continue;
        coll_free(s->colls[i]);
        memmove(&s->colls[i], &s->colls[i + 1],
                (s->n_colls - i - 1) * sizeof *s->colls);
        s->n_colls--;
        rc = 0;
        break;
    }
    /* Its marks go with it, as with SQLite's cascade. */
    for (size_t i = 0; rc == 0 && i < s->n_marks;) {
        if (strcmp(s->marks[i].a, id) == 0) {
            cairn_free(s->marks[i].a);
            cairn_free(s->marks[i].b);
            cairn_free(s->marks[i].identity);
            s->marks[i] = s->marks[--s->n_marks];
        } else {
            i++;
        }
    }
    /* Rights on it go with it, as with SQLite's cascade. */
    for (size_t i = 0; rc == 0 && i < s->n_rights;) {
        if (strcmp(s->rights[i].b, id) == 0) {
            cairn_free(s->rights[i].a);
            cairn_free(s->rights[i].b);
            s->rights[i] = s->rights[--s->n_rights];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- the id -> versions map ---------------------------------------------- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot for `id`: its entry, or the empty slot where it would go. */
static struct m_versions *map_slot(struct m_coll *c, const char *id)
{
    size_t mask = c->map_size - 1;
    for (size_t i = hash_str(id) & mask;; i = (i + 1) & mask)
        if (c->map[i].id == NULL || strcmp(c->map[i].id, id) == 0)
            return &c->map[i];
}

static struct m_versions *map_find(struct m_coll *c, const char *id)
{
    if (c->map_size == 0)
        return NULL;
    struct m_versions *v = map_slot(c, id);
    return v->id ? v : NULL;
}

static int map_grow(struct m_coll *c)
{
    if (2 * (c->map_used + 1) <= c->map_size)
        return 0;
    size_t ns = c->map_size ? 2 * c->map_size : 64;
    struct m_versions *old = c->map;
    size_t old_size = c->map_size;
    c->map = cairn_calloc(ns, sizeof *c->map);
    if (c->map == NULL) {
        c->map = old;
        return CAIRN_ENOMEM;
    }
    c->map_size = ns;
    for (size_t i = 0; i < old_size; i++)
        if (old[i].id != NULL)
            *map_slot(c, old[i].id) = old[i];
    cairn_free(old);
    return 0;
}

static int map_add(struct m_coll *c, struct m_obj *o)
{
    int rc = map_grow(c);
    if (rc < 0)
        return rc;
    struct m_versions *v = map_slot(c, o->id);
    if (v->id == NULL) {
        v->id = cairn_strdup(o->id);
        if (v->id == NULL)
            return CAIRN_ENOMEM;
        c->map_used++;
    }
    rc = grow(&v->v, &v->alloc, v->n, sizeof *v->v);
    if (rc == 0)
        v->v[v->n++] = o;
    return rc;
}

static void map_remove(struct m_coll *c, struct m_obj *o)
{
    struct m_versions *v = map_find(c, o->id);
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        if (v->v[i] == o) {
            v->v[i] = v->v[--v->n];
            return;
        }
    }
}

/* ---- objects ----------------------------------------------------------------
 */

static int put_one(struct m_coll *c, struct store_obj *o,
                   struct cairn_store_result *r)
{
    struct m_versions *v = map_find(c, o->id);
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        struct m_obj *old = v->v[i];
        if (strcmp(old->vkey, o->vkey) != 0)
            continue;
        int same = cairn__store_same_content(old->json, old->json_len, o);
        if (same < 0)
            return same;
        if (same) {
            r->outcome = CAIRN_STORE_EXISTED;
        } else {
            r->outcome = CAIRN_STORE_FAILED;
            cairn__store_result_msg(r, "%s", CAIRN_STORE_CONFLICT_MSG);
        }
        return 0;
    }
    int rc = 0;
    struct m_obj *m = cairn_calloc(1, sizeof *m);
    if (m == NULL)
        return CAIRN_ENOMEM;
    m->id = dup(o->id, &rc);
    m->type = dup(o->type, &rc);
    m->spec_version = dup(o->spec_version, &rc);
    m->created = dup(o->created, &rc);
    m->modified = dup(o->modified, &rc);
    m->json = cairn_strndup(o->json, o->json_len);
    if (m->json == NULL)
        rc = CAIRN_ENOMEM;
    m->json_len = o->json_len;
    memcpy(m->vkey, o->vkey, sizeof m->vkey);
    m->flag_list = dup(o->flag_list, &rc);
    m->flag_value = dup(o->flag_list != NULL ? o->flag_value : NULL, &rc);
    if (o->sight != NULL) {
        m->has_sight = true;
        m->sight = *o->sight;
        m->sight.of_ref = dup(o->sight->of_ref, &rc);
        m->sight.orgs = dup(o->sight->orgs, &rc);
        m->sight.first = dup(o->sight->first, &rc);
        m->sight.last = dup(o->sight->last, &rc);
    }
    if (o->n_keys > 0) {
        m->keys = cairn_malloc(o->n_keys * sizeof *m->keys);
        if (m->keys == NULL)
            rc = CAIRN_ENOMEM;
        else
            memcpy(m->keys, o->keys, o->n_keys * sizeof *m->keys);
        m->n_keys = o->n_keys;
    }
    if (rc == 0)
        rc = grow(&c->rows, &c->alloc, c->n, sizeof *c->rows);
    if (rc == 0)
        rc = map_add(c, m);
    if (rc < 0) {
        obj_free(m);
        return rc;
    }
    m->added = cairn__store_next_added(c->last_added);
    c->last_added = m->added;
    c->rows[c->n++] = m;
    r->outcome = CAIRN_STORE_STORED;
    return 0;
}

static struct m_status *find_status(struct m_store *s, const char *id)
{
    for (size_t i = 0; i < s->n_statuses; i++)
        if (strcmp(s->statuses[i]->id, id) == 0)
            return s->statuses[i];
    return NULL;
}

static int status_room(struct m_status *st, size_t adding)
{
    if (st == NULL)
        return CAIRN_ENOTFOUND;
    int64_t room = st->total - st->success - st->failure;
    return (int64_t)adding > room ? CAIRN_EINVAL : 0;
}

static int status_items(struct m_status *st,
                        const struct cairn_store_result *res, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int kind = res[i].outcome == CAIRN_STORE_FAILED ? 1 : 0;
        struct m_item *it = NULL;
        for (size_t k = 0; k < st->n; k++) {
            if (st->items[k].kind == 2 &&
                strcmp(st->items[k].r.id, res[i].id) == 0 &&
                strcmp(st->items[k].r.version, res[i].version) == 0) {
                it = &st->items[k];
                break;
            }
        }
        if (it == NULL) {
            if (grow(&st->items, &st->alloc, st->n, sizeof *st->items) < 0)
                return CAIRN_ENOMEM;
            it = &st->items[st->n++];
        }
        it->r = res[i];
        it->kind = kind;
        if (kind)
            st->failure++;
        else
            st->success++;
    }
    return 0;
}

static int m_put_objects(struct cairn_store *base, const char *collection,
                         struct store_obj *objs, size_t n,
                         const char *status_id, struct cairn_store_result *res)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, collection);
    struct m_status *st = status_id ? find_status(s, status_id) : NULL;
    if (c == NULL)
        rc = CAIRN_ENOTFOUND;
    else if (status_id != NULL)
        rc = status_room(st, n);
    size_t first_row = c ? c->n : 0;
    int64_t first_last = c ? c->last_added : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!objs[i].failed)
            rc = put_one(c, &objs[i], &res[i]);
    size_t items_before = st ? st->n : 0;
    int64_t ok = st ? st->success : 0, bad = st ? st->failure : 0;
    if (rc == 0 && st != NULL)
        rc = status_items(st, res, n);
    if (rc < 0 && c != NULL) {
        /* All or nothing, as a transaction would be. */
        while (c->n > first_row) {
            struct m_obj *o = c->rows[--c->n];
            map_remove(c, o);
            obj_free(o);
        }
        c->last_added = first_last;
        if (st != NULL) {
            st->n = items_before; /* pendings turned are not restored */
            st->success = ok;
            st->failure = bad;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static bool has_key(const struct m_obj *o, int64_t key)
{
    size_t lo = 0, hi = o->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)o->keys[mid] < (uint64_t)key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n_keys && o->keys[lo] == key;
}

/* A scan: the memory backend is for tests and small stores. */
static int m_keys_find(struct cairn_store *base, int64_t key,
                       const struct store_hit_sink *sink)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t ci = 0; rc == 0 && ci < s->n_colls; ci++) {
        struct m_coll *c = s->colls[ci];
        for (size_t i = 0; rc == 0 && i < c->n; i++) {
            const struct m_obj *o = c->rows[i];
            if (o->dead || !has_key(o, key))
                continue;
            struct cairn_store_row row = {
                .id = o->id,
                .type = o->type,
                .spec_version = o->spec_version,
                .created = o->created,
                .modified = o->modified,
                .version = o->modified ? o->modified : o->created,
                .date_added = cairn__store_us_time(o->added),
                .json = o->json,
                .json_len = o->json_len,
                .flag_list = o->flag_list,
                .flag_value = o->flag_value,
            };
            rc = sink->hit(sink->ud, c->c.id, &row);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc > 0 ? 0 : rc;
}

/* Whether `o` is the newest live version of its id with a summary. */
static bool newest_sight(struct m_coll *c, const struct m_obj *o)
{
    struct m_versions *v = map_find(c, o->id);
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        const struct m_obj *x = v->v[i];
        if (x != o && !x->dead && x->has_sight && strcmp(x->vkey, o->vkey) > 0)
            return false;
    }
    return true;
}

/* A scan, as the index's: the memory backend is for tests. Only the
 * newest version of each sighting is handed out. */
static int m_sightings_scan(struct cairn_store *base, const char *of,
                            bool with_json, const struct store_sight_sink *sink)
{
    struct m_store *s = ms(base);
    int rc = 0;
    (void)of; /* store.c filters: every sighting is "at least" */
    pthread_mutex_lock(&s->lock);
    for (size_t ci = 0; rc == 0 && ci < s->n_colls; ci++) {
        struct m_coll *c = s->colls[ci];
        for (size_t i = 0; rc == 0 && i < c->n; i++) {
            const struct m_obj *o = c->rows[i];
            if (o->dead || !o->has_sight || !newest_sight(c, o))
                continue;
            struct cairn_store_row row = {
                .id = o->id,
                .type = o->type,
                .spec_version = o->spec_version,
                .created = o->created,
                .modified = o->modified,
                .version = o->modified ? o->modified : o->created,
                .date_added = cairn__store_us_time(o->added),
                .json = o->json,
                .json_len = o->json_len,
            };
            struct store_sight_row r = {
                .collection = c->c.id,
                .idh = (int64_t)i,
                .sight = o->sight,
                .row = with_json ? &row : NULL,
            };
            rc = sink->row(sink->ud, &r);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc > 0 ? 0 : rc;
}

/* Whether `o` passes the filters of `q` (other than added_after). */
static bool matches(struct m_coll *c, const struct store_q *q,
                    const struct m_obj *o)
{
    const struct cairn_store_query *u = q->q;
    if (u->n_ids && !cairn__store_in_list(u->ids, u->n_ids, o->id))
        return false;
    if (u->n_types && !cairn__store_in_list(u->types, u->n_types, o->type))
        return false;
    if (u->n_spec_versions &&
        !cairn__store_in_list(u->spec_versions, u->n_spec_versions,
                              o->spec_version))
        return false;
    if (q->versions & CAIRN_STORE_VERSION_ALL)
        return true;
    for (size_t i = 0; i < q->n_vkeys; i++)
        if (strcmp(q->vkeys[i], o->vkey) == 0)
            return true;
    if (!(q->versions & (CAIRN_STORE_VERSION_LAST | CAIRN_STORE_VERSION_FIRST)))
        return false;
    bool newer = false, older = false;
    struct m_versions *v = map_find(c, o->id);
    for (size_t i = 0; v != NULL && i < v->n; i++) {
        const struct m_obj *x = v->v[i];
        if (u->n_spec_versions &&
            !cairn__store_in_list(u->spec_versions, u->n_spec_versions,
                                  x->spec_version))
            continue;
        int cmp = strcmp(x->vkey, o->vkey);
        newer |= cmp > 0;
        older |= cmp < 0;
    }
    return ((q->versions & CAIRN_STORE_VERSION_LAST) && !newer) ||
           ((q->versions & CAIRN_STORE_VERSION_FIRST) && !older);
}

/* Index of the first row added after `us`. */
static size_t first_after(const struct m_coll *c, int64_t us)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->rows[mid]->added <= us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int m_query(struct cairn_store *base, const struct store_q *q,
                   const struct store_row_sink *sink)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, q->q->collection);
    if (c == NULL)
        rc = CAIRN_ENOTFOUND;
    size_t sent = 0;
    for (size_t i = c ? first_after(c, q->after_us) : 0;
         rc == 0 && c != NULL && i < c->n && sent <= q->limit; i++) {
        const struct m_obj *o = c->rows[i];
        if (o->dead || !matches(c, q, o))
            continue;
        struct cairn_store_row row = {
            .id = o->id,
            .type = o->type,
            .spec_version = o->spec_version,
            .created = o->created,
            .modified = o->modified,
            .version = o->modified ? o->modified : o->created,
            .json = q->q->with_json ? o->json : NULL,
            .json_len = q->q->with_json ? o->json_len : 0,
        };
        rc = sink->row(sink->ud, &row, o->added);
        sent++;
    }
    pthread_mutex_unlock(&s->lock);
    return rc > 0 ? 0 : rc;
}

static int m_delete_objects(struct cairn_store *base, const struct store_q *q,
                            size_t *deleted)
{
    struct m_store *s = ms(base);
    int rc = 0;
    size_t cnt = 0;
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, q->q->collection);
    struct m_obj **doomed = NULL;
    if (c == NULL)
        rc = CAIRN_ENOTFOUND;
    else if (c->n > 0 && (doomed = cairn_calloc(c->n, sizeof *doomed)) == NULL)
        rc = CAIRN_ENOMEM;
    /* Decide first, then delete: "last" must see the versions as they were. */
    for (size_t i = c ? first_after(c, q->after_us) : 0;
         rc == 0 && c != NULL && i < c->n; i++)
        if (!c->rows[i]->dead && matches(c, q, c->rows[i]))
            doomed[cnt++] = c->rows[i];
    for (size_t i = 0; i < cnt; i++) {
        doomed[i]->dead = true;
        map_remove(c, doomed[i]);
    }
    pthread_mutex_unlock(&s->lock);
    cairn_free(doomed);
    *deleted = cnt;
    return rc;
}

/* ---- status resources ------------------------------------------------------
 */

static int m_status_new(struct cairn_store *base, const char *id,
                        const char *collection, const char *user,
                        int64_t request_us, int64_t total)
{
    struct m_store *s = ms(base);
    int rc = 0;
    struct m_status *st = cairn_calloc(1, sizeof *st);
    if (st == NULL)
        return CAIRN_ENOMEM;
    snprintf(st->id, sizeof st->id, "%s", id);
    st->collection = dup(collection, &rc);
    st->user = dup(user, &rc);
    st->request_us = request_us;
    st->total = total;
    pthread_mutex_lock(&s->lock);
    if (rc == 0 && find_coll(s, collection) == NULL)
        rc = CAIRN_ENOTFOUND;
    size_t alloc = s->n_statuses;
    if (rc == 0)
        rc = grow(&s->statuses, &alloc, s->n_statuses, sizeof *s->statuses);
    if (rc == 0) {
        s->statuses[s->n_statuses++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    status_free(st);
    return rc;
}

static int m_status_add_pending(struct cairn_store *base, const char *id,
                                const struct cairn_store_result *items,
                                size_t n)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_status *st = find_status(s, id);
    if (st == NULL)
        rc = CAIRN_ENOTFOUND;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = grow(&st->items, &st->alloc, st->n, sizeof *st->items);
        if (rc == 0) {
            struct m_item *it = &st->items[st->n++];
            memset(it, 0, sizeof *it);
            memcpy(it->r.id, items[i].id, sizeof it->r.id);
            memcpy(it->r.version, items[i].version, sizeof it->r.version);
            it->kind = 2;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_status_record(struct cairn_store *base, const char *id,
                           const struct cairn_store_result *results, size_t n)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_status *st = find_status(s, id);
    int rc = status_room(st, n);
    if (rc == 0)
        rc = status_items(st, results, n);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_status_abandon_pending(struct cairn_store *base,
                                    const char *message, size_t *count)
{
    struct m_store *s = ms(base);
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n_statuses; i++) {
        struct m_status *st = s->statuses[i];
        if (st->success + st->failure >= st->total)
            continue;
        for (size_t k = 0; k < st->n; k++) {
            if (st->items[k].kind != 2)
                continue;
            st->items[k].kind = 1;
            st->items[k].r.outcome = CAIRN_STORE_FAILED;
            snprintf(st->items[k].r.message, sizeof st->items[k].r.message,
                     "%s", message);
        }
        st->failure = st->total - st->success;
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    *count = n;
    return 0;
}

static int m_status_get(struct cairn_store *base, const char *id,
                        struct cairn_store_status **out)
{
    struct m_store *s = ms(base);
    struct cairn_store_status *o = cairn_calloc(1, sizeof *o);
    if (o == NULL)
        return CAIRN_ENOMEM;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_status *st = find_status(s, id);
    if (st == NULL)
        rc = CAIRN_ENOTFOUND;
    size_t alloc[3] = {0, 0, 0};
    if (rc == 0) {
        memcpy(o->id, st->id, sizeof o->id);
        o->collection = dup(st->collection, &rc);
        o->user = dup(st->user, &rc);
        o->request_timestamp = cairn__store_us_time(st->request_us);
        o->total = st->total;
        o->success = st->success;
        o->failure = st->failure;
    }
    for (size_t i = 0; rc == 0 && i < st->n; i++) {
        struct cairn_store_result r = st->items[i].r;
        r.outcome =
            st->items[i].kind == 1 ? CAIRN_STORE_FAILED : CAIRN_STORE_STORED;
        if (st->items[i].kind == 0)
            rc = cairn__store_result_push(&o->successes, &o->n_successes,
                                          &alloc[0], &r);
        else if (st->items[i].kind == 1)
            rc = cairn__store_result_push(&o->failures, &o->n_failures,
                                          &alloc[1], &r);
        else
            rc = cairn__store_result_push(&o->pendings, &o->n_pendings,
                                          &alloc[2], &r);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_store_status_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* ---- users, tokens, rights ------------------------------------------------
 */

static struct m_pair *find_pair(struct m_pair *p, size_t n, const char *a,
                                const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].a, a) == 0 && (b == NULL || strcmp(p[i].b, b) == 0))
            return &p[i];
    return NULL;
}

static int add_pair(struct m_pair **arr, size_t *n, const char *a,
                    const char *b, unsigned bits)
{
    size_t alloc = *n;
    int rc = grow(arr, &alloc, *n, sizeof **arr);
    if (rc < 0)
        return rc;
    struct m_pair *p = &(*arr)[*n];
    p->a = dup(a, &rc);
    p->b = dup(b, &rc);
    p->bits = bits;
    p->identity = NULL;
    p->admin = false;
    p->identities = false;
    if (rc < 0) {
        cairn_free(p->a);
        cairn_free(p->b);
        return rc;
    }
    (*n)++;
    return 0;
}

/* Remove every pair whose a (which = 0) or b (which = 1) is `key`. */
static size_t drop_pairs(struct m_pair *arr, size_t *n, int which,
                         const char *key)
{
    size_t dropped = 0;
    for (size_t i = 0; i < *n;) {
        if (strcmp(which ? arr[i].b : arr[i].a, key) == 0) {
            cairn_free(arr[i].a);
            cairn_free(arr[i].b);
            cairn_free(arr[i].identity);
            arr[i] = arr[--*n];
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

static int m_user_add(struct cairn_store *base, const char *name,
                      const char *hash)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    int rc = find_pair(s->users, s->n_users, name, NULL)
                 ? CAIRN_EEXIST
                 : add_pair(&s->users, &s->n_users, name, hash, 0);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_user_set_hash(struct cairn_store *base, const char *name,
                           const char *hash)
{
    struct m_store *s = ms(base);
    char *copy = cairn_strdup(hash);
    if (copy == NULL)
        return CAIRN_ENOMEM;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->users, s->n_users, name, NULL);
    if (p != NULL) {
        cairn_free(p->b);
        p->b = copy;
        copy = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    cairn_free(copy);
    return p ? 0 : CAIRN_ENOTFOUND;
}

/* A copy of the b of the pair with a == key; CAIRN_ENOTFOUND. */
static int pair_b(struct m_store *s, struct m_pair *arr, size_t n,
                  const char *key, char **out)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(arr, n, key, NULL);
    if (p == NULL)
        rc = CAIRN_ENOTFOUND;
    else
        *out = dup(p->b, &rc);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_user_hash(struct cairn_store *base, const char *name, char **out)
{
    struct m_store *s = ms(base);
    return pair_b(s, s->users, s->n_users, name, out);
}

static int m_user_remove(struct cairn_store *base, const char *name)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    size_t n = drop_pairs(s->users, &s->n_users, 0, name);
    drop_pairs(s->tokens, &s->n_tokens, 1, name);
    drop_pairs(s->rights, &s->n_rights, 0, name);
    pthread_mutex_unlock(&s->lock);
    return n ? 0 : CAIRN_ENOTFOUND;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int m_user_list(struct cairn_store *base, char ***out, size_t *n)
{
    struct m_store *s = ms(base);
    int rc = 0;
    size_t i = 0;
    pthread_mutex_lock(&s->lock);
    char **arr = cairn_calloc(s->n_users ? s->n_users : 1, sizeof *arr);
    if (arr == NULL)
        rc = CAIRN_ENOMEM;
    for (; rc == 0 && i < s->n_users; i++)
        arr[i] = dup(s->users[i].a, &rc);
    pthread_mutex_unlock(&s->lock);
    if (rc < 0) {
        cairn_store_name_list_free(arr, i);
        return rc;
    }
    qsort(arr, i, sizeof *arr, cmp_names);
    *out = arr;
    *n = i;
    return 0;
}

static int m_token_add(struct cairn_store *base, const char *hash,
                       const char *user)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    int rc = find_pair(s->users, s->n_users, user, NULL)
                 ? add_pair(&s->tokens, &s->n_tokens, hash, user, 0)
                 : CAIRN_ENOTFOUND;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_token_user(struct cairn_store *base, const char *hash, char **out)
{
    struct m_store *s = ms(base);
    return pair_b(s, s->tokens, s->n_tokens, hash, out);
}

static int m_token_remove(struct cairn_store *base, const char *hash)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    size_t n = drop_pairs(s->tokens, &s->n_tokens, 0, hash);
    pthread_mutex_unlock(&s->lock);
    return n ? 0 : CAIRN_ENOTFOUND;
}

static int m_rights_set(struct cairn_store *base, const char *user,
                        const char *collection, unsigned rights)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (find_pair(s->users, s->n_users, user, NULL) == NULL ||
        find_coll(s, collection) == NULL)
        rc = CAIRN_ENOTFOUND;
    struct m_pair *p = find_pair(s->rights, s->n_rights, user, collection);
    if (rc == 0 && p != NULL && rights != 0) {
        p->bits = rights;
    } else if (rc == 0 && p != NULL) {
        cairn_free(p->a);
        cairn_free(p->b);
        *p = s->rights[--s->n_rights];
    } else if (rc == 0 && rights != 0) {
        rc = add_pair(&s->rights, &s->n_rights, user, collection, rights);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_rights_get(struct cairn_store *base, const char *user,
                        const char *collection, unsigned *out)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->rights, s->n_rights, user, collection);
    *out = p ? p->bits : 0;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static int m_user_share_get(struct cairn_store *base, const char *name,
                            struct cairn_store_user_share *out)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->users, s->n_users, name, NULL);
    if (p != NULL) {
        if (p->identity != NULL)
            snprintf(out->identity, sizeof out->identity, "%s", p->identity);
        out->member = p->bits != 0;
    }
    pthread_mutex_unlock(&s->lock);
    return p ? 0 : CAIRN_ENOTFOUND;
}

static int m_collection_count(struct cairn_store *base, const char *id,
                              size_t *out)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, id);
    for (size_t i = 0; c != NULL && i < c->n; i++)
        *out += c->rows[i]->dead ? 0 : 1;
    pthread_mutex_unlock(&s->lock);
    return c ? 0 : CAIRN_ENOTFOUND;
}

/* Read (`out`) or write (`in`) the flag at `field` of user `name`. */
static int user_flag(struct cairn_store *base, const char *name, size_t field,
                     bool *out, const bool *in)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->users, s->n_users, name, NULL);
    if (p != NULL) {
        bool *flag = (bool *)((char *)p + field);
        if (out != NULL)
            *out = *flag;
        if (in != NULL)
            *flag = *in;
    }
    pthread_mutex_unlock(&s->lock);
    return p ? 0 : CAIRN_ENOTFOUND;
}

static int m_user_admin_get(struct cairn_store *base, const char *name,
                            bool *out)
{
    return user_flag(base, name, offsetof(struct m_pair, admin), out, NULL);
}

static int m_user_admin_set(struct cairn_store *base, const char *name,
                            bool admin)
{
    return user_flag(base, name, offsetof(struct m_pair, admin), NULL, &admin);
}

static int m_user_identities_get(struct cairn_store *base, const char *name,
                                 bool *out)
{
    return user_flag(base, name, offsetof(struct m_pair, identities), out,
                     NULL);
}

static int m_user_identities_set(struct cairn_store *base, const char *name,
                                 bool on)
{
    return user_flag(base, name, offsetof(struct m_pair, identities), NULL,
                     &on);
}

static int m_state_get(struct cairn_store *base, const char *name,
                       char **out)
{
    struct m_store *s = ms(base);
    int rc = CAIRN_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->states, s->n_states, name, NULL);
    if (p != NULL) {
        rc = 0;
        *out = dup(p->b, &rc);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_state_set(struct cairn_store *base, const char *name,
                       const char *value)
{
    struct m_store *s = ms(base);
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->states, s->n_states, name, NULL);
    if (value == NULL) {
        if (p != NULL) {
            cairn_free(p->a);
            cairn_free(p->b);
            *p = s->states[--s->n_states];
        }
    } else if (p != NULL) {
        char *v = dup(value, &rc);
        if (rc == 0) {
            cairn_free(p->b);
            p->b = v;
        }
    } else {
        rc = add_pair(&s->states, &s->n_states, name, value, 0);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int m_user_share_set(struct cairn_store *base, const char *name,
                            const struct cairn_store_user_share *in)
{
    struct m_store *s = ms(base);
    char *copy = NULL;
    if (in->identity[0] != '\0' && (copy = cairn_strdup(in->identity)) == NULL)
        return CAIRN_ENOMEM;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->users, s->n_users, name, NULL);
    if (p != NULL) {
        cairn_free(p->identity);
        p->identity = copy;
        p->bits = in->member ? 1 : 0;
        copy = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    cairn_free(copy);
    return p ? 0 : CAIRN_ENOTFOUND;
}

static int m_collection_tlp_get(struct cairn_store *base, const char *id,
                                int *out)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, id);
    if (c != NULL)
        *out = c->default_tlp;
    pthread_mutex_unlock(&s->lock);
    return c ? 0 : CAIRN_ENOTFOUND;
}

static int m_collection_tlp_set(struct cairn_store *base, const char *id,
                                int tlp)
{
    struct m_store *s = ms(base);
    pthread_mutex_lock(&s->lock);
    struct m_coll *c = find_coll(s, id);
    if (c != NULL)
        c->default_tlp = tlp;
    pthread_mutex_unlock(&s->lock);
    return c ? 0 : CAIRN_ENOTFOUND;
}

static int m_mark_put(struct cairn_store *base, const char *collection,
                      const char *const *keys, const char *const *marks,
                      size_t n)
{
    struct m_store *s = ms(base);
    int rc = CAIRN_ENOMEM;
    char **copies = cairn_calloc(n, sizeof *copies);
    struct m_pair **at = cairn_calloc(n, sizeof *at);
    for (size_t i = 0; copies != NULL && at != NULL && i < n; i++)
        if ((copies[i] = cairn_strdup(marks[i])) == NULL)
            goto out;
    if (copies == NULL || at == NULL)
        goto out;
    pthread_mutex_lock(&s->lock);
    size_t before = s->n_marks;
    rc = find_coll(s, collection) == NULL ? CAIRN_ENOTFOUND : 0;
    /* First every pair there, new ones added; a failure takes the new
     * ones back, so that the batch is written whole or not at all. */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (find_pair(s->marks, s->n_marks, collection, keys[i]) == NULL)
            rc = add_pair(&s->marks, &s->n_marks, collection, keys[i], 0);
    if (rc < 0) {
        for (size_t i = before; i < s->n_marks; i++) {
            cairn_free(s->marks[i].a);
            cairn_free(s->marks[i].b);
        }
        s->n_marks = before;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        at[i] = find_pair(s->marks, s->n_marks, collection, keys[i]);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cairn_free(at[i]->identity);
        at[i]->identity = copies[i];
        copies[i] = NULL;
    }
    pthread_mutex_unlock(&s->lock);
out:
    for (size_t i = 0; copies != NULL && i < n; i++)
        cairn_free(copies[i]);
    cairn_free(copies);
    cairn_free(at);
    return rc;
}

struct m_mark_row {
    char *coll, *key, *mark;
};

static int m_mark_row_cmp(const void *pa, const void *pb)
{
    const struct m_mark_row *a = pa, *b = pb;
    int c = strcmp(a->coll, b->coll);
    return c != 0 ? c : strcmp(a->key, b->key);
}

static int m_mark_list(struct cairn_store *base, const char *collection,
                       int (*cb)(void *ud, const char *collection,
                                 const char *key, const char *mark),
                       void *ud)
{
    struct m_store *s = ms(base);
    struct m_mark_row *rows = NULL;
    size_t n = 0;
    int rc = 0;
    /* Copied out, so that the callback runs without the lock. */
    pthread_mutex_lock(&s->lock);
    if (s->n_marks > 0) {
        rows = cairn_calloc(s->n_marks, sizeof *rows);
        if (rows == NULL)
            rc = CAIRN_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < s->n_marks; i++) {
        const struct m_pair *p = &s->marks[i];
        if (collection != NULL && strcmp(p->a, collection) != 0)
            continue;
        rows[n].coll = dup(p->a, &rc);
        rows[n].key = dup(p->b, &rc);
        rows[n].mark = dup(p->identity, &rc);
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == 0 && n > 0)
        qsort(rows, n, sizeof *rows, m_mark_row_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cb(ud, rows[i].coll, rows[i].key, rows[i].mark);
    for (size_t i = 0; i < n; i++) {
        cairn_free(rows[i].coll);
        cairn_free(rows[i].key);
        cairn_free(rows[i].mark);
    }
    cairn_free(rows);
    return rc;
}

static int m_mark_get(struct cairn_store *base, const char *collection,
                      const char *key, char **out)
{
    struct m_store *s = ms(base);
    int rc = CAIRN_ENOTFOUND;
    pthread_mutex_lock(&s->lock);
    struct m_pair *p = find_pair(s->marks, s->n_marks, collection, key);
    if (p != NULL)
        rc = (*out = cairn_strdup(p->identity)) != NULL ? 0 : CAIRN_ENOMEM;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static const struct store_ops memory_ops = {
    .name = "memory",
    .close = m_close,
    .schema_version = m_schema_version,
    .api_root_put = m_api_root_put,
    .api_root_get = m_api_root_get,
    .api_root_list = m_api_root_list,
    .collection_create = m_collection_create,
    .collection_get = m_collection_get,
    .collection_list = m_collection_list,
    .collection_delete = m_collection_delete,
    .put_objects = m_put_objects,
    .keys_find = m_keys_find,
    .query = m_query,
    .delete_objects = m_delete_objects,
    .status_new = m_status_new,
    .status_add_pending = m_status_add_pending,
    .status_record = m_status_record,
    .status_get = m_status_get,
    .status_abandon_pending = m_status_abandon_pending,
    .user_add = m_user_add,
    .user_set_hash = m_user_set_hash,
    .user_hash = m_user_hash,
    .user_remove = m_user_remove,
    .user_list = m_user_list,
    .token_add = m_token_add,
    .token_user = m_token_user,
    .token_remove = m_token_remove,
    .rights_set = m_rights_set,
    .rights_get = m_rights_get,
    .user_share_get = m_user_share_get,
    .user_share_set = m_user_share_set,
    .user_admin_get = m_user_admin_get,
    .collection_count = m_collection_count,
    .user_admin_set = m_user_admin_set,
    .sightings_scan = m_sightings_scan,
    .user_identities_get = m_user_identities_get,
    .user_identities_set = m_user_identities_set,
    .state_get = m_state_get,
    .state_set = m_state_set,
    .collection_tlp_get = m_collection_tlp_get,
    .mark_put = m_mark_put,
    .mark_get = m_mark_get,
    .mark_list = m_mark_list,
    .collection_tlp_set = m_collection_tlp_set,
};
