/* SPDX-License-Identifier: Apache-2.0 */
/* The store interface: argument checks, object reading, secrets, dispatch. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cairn/values.h"
#include "store/store_int.h"

/* ---- small helpers ------------------------------------------------------- */

int64_t cairn__store_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cairn__store_next_added(int64_t last)
{
    int64_t now = cairn__store_now_us();
    /* A clock that stalls or steps back must not reorder date_added. */
    return now > last ? now : last + 1;
}

struct cairn_time cairn__store_us_time(int64_t us)
{
    struct cairn_time t;
    int64_t sec = us / 1000000, rem = us % 1000000;
    if (rem < 0) {
        rem += 1000000;
        sec--;
    }
    t.sec = sec;
    t.nsec = (int32_t)(rem * 1000);
    t.digits = 6;
    return t;
}

void cairn__store_us_vkey(int64_t us, char out[32])
{
    struct cairn_time t = cairn__store_us_time(us);
    if (cairn_time_format(&t, 9, out, 32) < 0)
        out[0] = '\0';
}

int64_t cairn__store_id_hash(const char *id)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211u;
    return (int64_t)h;
}

bool cairn__store_in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

int cairn__store_same_content(const char *json, size_t len,
                              const struct store_obj *o)
{
    if (len == o->json_len && memcmp(json, o->json, len) == 0)
        return 1;
    /* Same members in another order or layout is the same object. */
    json_error_t e1, e2;
    json_t *old = json_loadb(json, len, 0, &e1);
    json_t *cur = old ? json_loadb(o->json, o->json_len, 0, &e2) : NULL;
    int same = old != NULL && cur != NULL && json_equal(old, cur);
    if ((old == NULL && json_error_code(&e1) == json_error_out_of_memory) ||
        (old != NULL && cur == NULL &&
         json_error_code(&e2) == json_error_out_of_memory))
        same = CAIRN_ENOMEM;
    json_decref(old);
    json_decref(cur);
    return same;
}

void cairn__store_result_msg(struct cairn_store_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

int cairn__store_result_push(struct cairn_store_result **arr, size_t *n,
                             size_t *alloc, const struct cairn_store_result *r)
{
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 16;
        struct cairn_store_result *p = cairn_realloc(*arr, na * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        *arr = p;
        *alloc = na;
    }
    (*arr)[(*n)++] = *r;
    return 0;
}

void cairn__store_api_root_clear(struct cairn_store_api_root *r)
{
    cairn_free(r->name);
    cairn_free(r->title);
    cairn_free(r->description);
    memset(r, 0, sizeof *r);
}

void cairn__store_collection_clear(struct cairn_store_collection *c)
{
    cairn_free(c->api_root);
    cairn_free(c->title);
    cairn_free(c->description);
    cairn_free(c->alias);
    for (size_t i = 0; i < CAIRN_STORE_MEDIA_TYPES_MAX; i++)
        cairn_free(c->media_types[i]);
    memset(c, 0, sizeof *c);
}

static void tohex(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int fromhex(const char *s, size_t len, unsigned char *out, size_t n)
{
    if (len != 2 * n)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return CAIRN_EINVAL;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

static bool name_ok(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0')
        return false;
    size_t len = strnlen(s, max + 1);
    if (len > max)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* ---- open and close ------------------------------------------------------ */

int cairn_store_open(const char *url, const struct cairn_store_opts *opts,
                     struct cairn_store **out)
{
    static const struct cairn_store_opts defaults = {0};
    if (out == NULL)
        return CAIRN_EINVAL;
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return CAIRN_EINVAL;
    if (opts == NULL)
        opts = &defaults;
    if (strcmp(url, "memory:") == 0)
        return cairn__store_memory_open(opts, out);
    if (cairn_store_url_is_postgres(url))
        return cairn__store_postgres_open(url, opts, out);
    if (strncmp(url, "sqlite:", 7) == 0)
        url += 7;
    else if (strchr(url, ':') != NULL && strchr(url, '/') == NULL)
        return CAIRN_EINVAL; /* "postgres:x" and typos are not paths */
    if (url[0] == '\0')
        return CAIRN_EINVAL;
    return cairn__store_sqlite_open(url, opts, out);
}

bool cairn_store_url_is_postgres(const char *url)
{
    return url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
                           strncmp(url, "postgres://", 11) == 0);
}

int cairn_store_url_redact(const char *url, char *out, size_t len)
{
    if (url == NULL || out == NULL || len == 0)
        return CAIRN_EINVAL;
    out[0] = '\0';
    if (!cairn_store_url_is_postgres(url)) {
        int n = snprintf(out, len, "%s", url);
        return n < 0 || (size_t)n >= len ? CAIRN_ETOOBIG : 0;
    }
    /* scheme://user:PASSWORD@host/db?...&password=PASSWORD&... */
    struct cairn_buf b;
    cairn_buf_init(&b, len > 0 ? len - 1 : 0);
    const char *rest = strstr(url, "://") + 3;
    const char *at = strchr(rest, '@');
    const char *slash = strpbrk(rest, "/?");
    int rc = cairn_buf_append(&b, url, (size_t)(rest - url));
    if (at != NULL && (slash == NULL || at < slash)) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        if (rc == 0 && colon != NULL) {
            rc = cairn_buf_append(&b, rest, (size_t)(colon - rest));
            if (rc == 0)
                rc = cairn_buf_puts(&b, ":***");
        } else if (rc == 0) {
            rc = cairn_buf_append(&b, rest, (size_t)(at - rest));
        }
        rest = at;
    }
    const char *q = strchr(rest, '?');
    if (rc == 0)
        rc = cairn_buf_append(&b, rest,
                              q ? (size_t)(q - rest) : strlen(rest));
    while (rc == 0 && q != NULL) {
        const char *next = strchr(q + 1, '&');
        size_t plen = next ? (size_t)(next - q) : strlen(q);
        if (strncmp(q + 1, "password=", 9) == 0) {
            rc = cairn_buf_append(&b, q, 1);
            if (rc == 0)
                rc = cairn_buf_puts(&b, "password=***");
        } else {
            rc = cairn_buf_append(&b, q, plen);
        }
        q = next;
    }
    if (rc == 0)
        memcpy(out, b.data ? b.data : "", b.len + 1);
    cairn_buf_release(&b);
    return rc;
}

int cairn_store_lock_try(struct cairn_store *s, const char *name, bool *got)
{
    if (got != NULL)
        *got = false;
    if (s == NULL || name == NULL || got == NULL)
        return CAIRN_EINVAL;
    if (s->ops->lock_try == NULL)
        return CAIRN_EUNSUPPORTED;
    return s->ops->lock_try(s, name, got);
}

int cairn_store_lock_release(struct cairn_store *s, const char *name)
{
    if (s == NULL || name == NULL)
        return CAIRN_EINVAL;
    if (s->ops->lock_release == NULL)
        return CAIRN_EUNSUPPORTED;
    return s->ops->lock_release(s, name);
}

void cairn_store_close(struct cairn_store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

int cairn_store_schema_version(struct cairn_store *s, int *out)
{
    if (s == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->schema_version(s, out);
}

/* ---- API roots and collections ------------------------------------------ */

int cairn_store_api_root_put(struct cairn_store *s,
                             const struct cairn_store_api_root *root)
{
    if (s == NULL || root == NULL || !name_ok(root->name, 200) ||
        root->title == NULL || root->max_content_length < 0 ||
        strchr(root->name, '/') != NULL)
        return CAIRN_EINVAL;
    return s->ops->api_root_put(s, root);
}

int cairn_store_api_root_get(struct cairn_store *s, const char *name,
                             struct cairn_store_api_root **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || name == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->api_root_get(s, name, out);
}

int cairn_store_api_root_list(struct cairn_store *s,
                              struct cairn_store_api_root **out, size_t *n)
{
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (s == NULL || out == NULL || n == NULL)
        return CAIRN_EINVAL;
    return s->ops->api_root_list(s, out, n);
}

void cairn_store_api_root_free(struct cairn_store_api_root *root)
{
    if (root == NULL)
        return;
    cairn__store_api_root_clear(root);
    cairn_free(root);
}

void cairn_store_api_root_list_free(struct cairn_store_api_root *roots,
                                    size_t n)
{
    if (roots == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        cairn__store_api_root_clear(&roots[i]);
    cairn_free(roots);
}

int cairn_store_collection_create(struct cairn_store *s,
                                  const struct cairn_store_collection *c,
                                  char id_out[CAIRN_UUID_STRLEN])
{
    if (s == NULL || c == NULL || c->api_root == NULL || c->title == NULL)
        return CAIRN_EINVAL;
    struct cairn_store_collection copy = *c;
    if (c->id[0] == '\0') {
        int rc = cairn_uuid4(copy.id);
        if (rc < 0)
            return rc;
    } else if (strnlen(c->id, CAIRN_UUID_STRLEN) != CAIRN_UUID_STRLEN - 1 ||
               !cairn_uuid_check(c->id, CAIRN_UUID_STRLEN - 1, false, NULL)) {
        return CAIRN_EINVAL;
    }
    static const char *default_type = "application/stix+json;version=2.1";
    if (c->media_types[0] == NULL)
        copy.media_types[0] = (char *)default_type;
    int rc = s->ops->collection_create(s, &copy);
    if (rc == 0 && id_out != NULL)
        memcpy(id_out, copy.id, CAIRN_UUID_STRLEN);
    return rc;
}

int cairn_store_collection_get(struct cairn_store *s, const char *api_root,
                               const char *id,
                               struct cairn_store_collection **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || id == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_get(s, api_root, id, false, out);
}

int cairn_store_collection_resolve(struct cairn_store *s, const char *api_root,
                                   const char *id_or_alias,
                                   struct cairn_store_collection **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || api_root == NULL || id_or_alias == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_get(s, api_root, id_or_alias, true, out);
}

int cairn_store_collection_list(struct cairn_store *s, const char *api_root,
                                struct cairn_store_collection **out, size_t *n)
{
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (s == NULL || api_root == NULL || out == NULL || n == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_list(s, api_root, out, n);
}

int cairn_store_collection_delete(struct cairn_store *s, const char *id)
{
    if (s == NULL || id == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_delete(s, id);
}

void cairn_store_collection_free(struct cairn_store_collection *c)
{
    if (c == NULL)
        return;
    cairn__store_collection_clear(c);
    cairn_free(c);
}

void cairn_store_collection_list_free(struct cairn_store_collection *list,
                                      size_t n)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        cairn__store_collection_clear(&list[i]);
    cairn_free(list);
}

/* ---- objects ---------------------------------------------------------------
 */

/*
 * A batch of objects read for storing. What the backends index is copied
 * out of each parsed object into `strings` when it is added (the id into
 * its result), so the parsed object can be freed at once; the JSON text is
 * the caller's, or a serialisation kept in `strings`.
 */
struct cairn_store_batch {
    size_t n;
    size_t cap;
    struct store_obj *objs;
    struct cairn_store_result *res;
    bool res_borrowed; /* the caller's array (cairn_store_put_objects) */
    struct cairn_arena *strings;
    uint64_t *kbuf; /* one object's keys while they are collected */
    size_t kn, kalloc;
};

/* Most index keys one object gets; past it the rest are not indexed. */
#define KEYS_PER_OBJECT_MAX 65536

static int collect_key(void *ud, uint64_t key)
{
    struct cairn_store_batch *b = ud;
    if (b->kn == KEYS_PER_OBJECT_MAX)
        return 0;
    if (b->kn == b->kalloc) {
        size_t na = b->kalloc ? b->kalloc * 2 : 64;
        uint64_t *p = cairn_realloc(b->kbuf, na * sizeof *p);
        if (p == NULL)
            return CAIRN_ENOMEM;
        b->kbuf = p;
        b->kalloc = na;
    }
    b->kbuf[b->kn++] = key;
    return 0;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct keys of `obj` into o->keys (in the batch's strings). */
static int object_keys(struct cairn_store_batch *b, const json_t *obj,
                       struct store_obj *o)
{
    b->kn = 0;
    int rc = cairn_value_object_keys(obj, collect_key, b);
    if (rc < 0 || b->kn == 0)
        return rc < 0 ? rc : 0;
    qsort(b->kbuf, b->kn, sizeof *b->kbuf, u64_cmp);
    size_t n = 1;
    for (size_t i = 1; i < b->kn; i++)
        if (b->kbuf[i] != b->kbuf[n - 1])
            b->kbuf[n++] = b->kbuf[i];
    int64_t *keys = cairn_arena_alloc(b->strings, n * sizeof *keys);
    if (keys == NULL)
        return CAIRN_ENOMEM;
    memcpy(keys, b->kbuf, n * sizeof *keys);
    o->keys = keys;
    o->n_keys = n;
    return 0;
}

static const char *str_member(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Whether an organisation id can be kept in a space-joined list. */
static bool org_ok(const char *v, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
            return false;
    return true;
}

static const char *arena_jstr(struct cairn_arena *a, const json_t *v, int *rc)
{
    if (!json_is_string(v))
        return NULL;
    char *p =
        cairn_arena_strndup(a, json_string_value(v), json_string_length(v));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

int cairn__store_sight_read(const json_t *obj, struct cairn_arena *a,
                            struct store_sight *out)
{
    memset(out, 0, sizeof *out);
    const char *type = str_member(obj, "type");
    const json_t *of = json_object_get(obj, "sighting_of_ref");
    if (type == NULL || strcmp(type, "sighting") != 0 || !json_is_string(of))
        return 0;
    int rc = 0;
    out->of_ref = arena_jstr(a, of, &rc);
    out->fp = json_is_true(json_object_get(obj, "x_cairn_false_positive"));
    const json_t *cnt = json_object_get(obj, "count");
    out->count = json_is_integer(cnt) && json_integer_value(cnt) >= 0
                     ? (int64_t)json_integer_value(cnt)
                     : 1;
    out->first = arena_jstr(a, json_object_get(obj, "first_seen"), &rc);
    static const char *const lasts[] = {"last_seen", "modified", "created"};
    for (size_t i = 0; out->last == NULL && i < 3; i++)
        out->last = arena_jstr(a, json_object_get(obj, lasts[i]), &rc);
    /* the organisations: where_sighted_refs, else the creator */
    size_t len = 0, i;
    const json_t *w, *where = json_object_get(obj, "where_sighted_refs");
    const json_t *by = json_object_get(obj, "created_by_ref");
    bool any = false;
    json_array_foreach(where, i, w)
    {
        if (json_is_string(w)) {
            any = true;
            if (org_ok(json_string_value(w), json_string_length(w)))
                len += json_string_length(w) + 1;
        }
    }
    if (!any && json_is_string(by) &&
        org_ok(json_string_value(by), json_string_length(by)))
        len = json_string_length(by) + 1;
    char *orgs = cairn_arena_alloc(a, len + 1);
    if (orgs == NULL)
        return CAIRN_ENOMEM;
    size_t at = 0;
    json_array_foreach(where, i, w)
    {
        if (json_is_string(w) &&
            org_ok(json_string_value(w), json_string_length(w))) {
            if (at > 0)
                orgs[at++] = ' ';
            memcpy(orgs + at, json_string_value(w), json_string_length(w));
            at += json_string_length(w);
        }
    }
    if (!any && len > 0) {
        memcpy(orgs, json_string_value(by), json_string_length(by));
        at = json_string_length(by);
    }
    orgs[at] = '\0';
    out->orgs = orgs;
    return rc < 0 ? rc : 1;
}

/* A copy of `v` in the batch's strings, or NULL for NULL. */
static const char *keep(struct cairn_store_batch *b, const char *v, int *rc)
{
    if (v == NULL)
        return NULL;
    const char *p = cairn_arena_strndup(b->strings, v, strlen(v));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

/*
 * Read what the backends index from one object into o and r. 1 when it
 * can be stored, 0 when it is unfit (r says why), CAIRN_ENOMEM.
 */
static int prepare_obj(struct cairn_store_batch *b, const json_t *obj,
                       const char *json, size_t json_len, struct store_obj *o,
                       struct cairn_store_result *r)
{
    memset(o, 0, sizeof *o);
    memset(r, 0, sizeof *r);
    if (!json_is_object(obj)) {
        cairn__store_result_msg(r, "not a JSON object");
        return 0;
    }
    const char *id = str_member(obj, "id");
    const char *type = str_member(obj, "type");
    if (id == NULL || id[0] == '\0') {
        cairn__store_result_msg(r, "the object has no \"id\" string");
        return 0;
    }
    size_t idlen = strlen(id);
    if (idlen >= sizeof r->id) {
        cairn__store_result_msg(r, "the \"id\" is too long");
        return 0;
    }
    memcpy(r->id, id, idlen + 1);
    o->id = r->id;
    o->idh = cairn__store_id_hash(id);
    if (type == NULL || type[0] == '\0') {
        cairn__store_result_msg(r, "the object has no \"type\" string");
        return 0;
    }
    const char *spec_version = str_member(obj, "spec_version");
    if (spec_version == NULL)
        spec_version = "2.1"; /* STIX 2.1 SCOs may leave it out */
    static const char *const stamps[] = {"created", "modified"};
    const char *vals[2];
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(obj, stamps[i]);
        vals[i] = json_string_value(v);
        struct cairn_time t;
        if (v != NULL &&
            (vals[i] == NULL ||
             cairn_time_parse(vals[i], strlen(vals[i]), true, &t) < 0)) {
            cairn__store_result_msg(r, "\"%s\" is not a STIX timestamp",
                                    stamps[i]);
            return 0;
        }
        if (v == NULL)
            continue;
        if (cairn_time_format(&t, 9, o->vkey, sizeof o->vkey) < 0) {
            cairn__store_result_msg(r, "\"%s\" is out of range", stamps[i]);
            return 0;
        }
        o->vtime = t;
    }
    const char *version = vals[1] ? vals[1] : vals[0];
    if (version != NULL)
        snprintf(r->version, sizeof r->version, "%s", version);
    int rc = object_keys(b, obj, o);
    if (rc < 0)
        return rc;
    if (strcmp(type, "sighting") == 0) {
        struct store_sight *sg = cairn_arena_alloc(b->strings, sizeof *sg);
        if (sg == NULL)
            return CAIRN_ENOMEM;
        rc = cairn__store_sight_read(obj, b->strings, sg);
        if (rc < 0)
            return rc;
        o->sight = rc == 1 ? sg : NULL;
        rc = 0;
    }
    o->type = keep(b, type, &rc);
    o->spec_version = keep(b, spec_version, &rc);
    o->created = keep(b, vals[0], &rc);
    o->modified = keep(b, vals[1], &rc);
    o->version = o->modified ? o->modified : o->created;
    if (json != NULL) {
        o->json = json;
        o->json_len = json_len;
    } else {
        char *dumped = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (dumped == NULL) {
            cairn__store_result_msg(r, "cannot serialise the object");
            return 0;
        }
        o->json_len = strlen(dumped);
        o->json = cairn_arena_strndup(b->strings, dumped, o->json_len);
        void (*jfree)(void *) = free;
        json_malloc_t jmalloc;
        json_get_alloc_funcs(&jmalloc, &jfree);
        jfree(dumped);
        if (o->json == NULL)
            rc = CAIRN_ENOMEM;
    }
    return rc < 0 ? rc : 1;
}

int cairn_store_batch_new(size_t cap, struct cairn_store_batch **out)
{
    if (out == NULL)
        return CAIRN_EINVAL;
    *out = NULL;
    if (cap == 0 || cap > CAIRN_STORE_BATCH_MAX)
        return CAIRN_EINVAL;
    struct cairn_store_batch *b = cairn_calloc(1, sizeof *b);
    if (b == NULL)
        return CAIRN_ENOMEM;
    b->cap = cap;
    b->objs = cairn_calloc(cap, sizeof *b->objs);
    b->res = cairn_calloc(cap, sizeof *b->res);
    if (b->objs == NULL || b->res == NULL ||
        cairn_arena_new(0, &b->strings) < 0) {
        cairn_store_batch_free(b);
        return CAIRN_ENOMEM;
    }
    *out = b;
    return 0;
}

void cairn_store_batch_free(struct cairn_store_batch *b)
{
    if (b == NULL)
        return;
    cairn_arena_free(b->strings);
    cairn_free(b->objs);
    cairn_free(b->kbuf);
    if (!b->res_borrowed)
        cairn_free(b->res);
    cairn_free(b);
}

int cairn_store_batch_clear(struct cairn_store_batch *b)
{
    if (b == NULL)
        return CAIRN_EINVAL;
    b->n = 0;
    if (cairn_arena_used(b->strings) == 0)
        return 0;
    /* A new arena rather than a reset one: the old chunks go back to
     * malloc, so one big batch does not pin its memory for good. */
    cairn_arena_free(b->strings);
    b->strings = NULL;
    return cairn_arena_new(0, &b->strings);
}

size_t cairn_store_batch_len(const struct cairn_store_batch *b)
{
    return b != NULL ? b->n : 0;
}

const struct cairn_store_result *
cairn_store_batch_results(const struct cairn_store_batch *b)
{
    return b != NULL ? b->res : NULL;
}

int cairn_store_batch_add(struct cairn_store_batch *b, const json_t *obj,
                          const char *json, size_t json_len)
{
    if (b == NULL || b->strings == NULL)
        return CAIRN_EINVAL;
    if (b->n == b->cap)
        return CAIRN_ETOOBIG;
    struct store_obj *o = &b->objs[b->n];
    struct cairn_store_result *r = &b->res[b->n];
    int rc = prepare_obj(b, obj, json, json_len, o, r);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        o->failed = true;
        r->outcome = CAIRN_STORE_FAILED;
    }
    b->n++;
    return 0;
}

/* `len` less an incomplete UTF-8 sequence at the end of s[0..len). */
static size_t utf8_whole(const char *s, size_t len)
{
    size_t i = len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
        return len;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
    return back >= need ? len : i - 1;
}

int cairn_store_batch_flag(struct cairn_store_batch *b, const char *list,
                           const char *value)
{
    if (b == NULL || b->strings == NULL || list == NULL || b->n == 0)
        return CAIRN_EINVAL;
    struct store_obj *o = &b->objs[b->n - 1];
    /* bounded: the rest of a longer name or value is left out */
    size_t ll = strnlen(list, 1000), vl = value != NULL ? strnlen(value, 1000)
                                                          : 0;
    if (ll == 0)
        return CAIRN_EINVAL;
    ll = utf8_whole(list, ll);
    vl = value != NULL ? utf8_whole(value, vl) : 0;
    o->flag_list = cairn_arena_strndup(b->strings, list, ll);
    o->flag_value = cairn_arena_strndup(b->strings, value != NULL ? value : "",
                                        vl);
    return o->flag_list != NULL && o->flag_value != NULL ? 0 : CAIRN_ENOMEM;
}

/* ---- in-process notice of new versions ---------------------------------- */

/*
 * The listeners are called with `listen_mu` held, so that one that has
 * left (cairn_store_unlisten returned) is never called again; `n_listen`
 * lets a write with no one listening skip the lock.
 */
#define LISTENERS_MAX 16

static pthread_mutex_t listen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    cairn_store_added_cb cb;
    void *ud;
} listeners[LISTENERS_MAX];
static atomic_int n_listen;

int cairn_store_listen(cairn_store_added_cb cb, void *ud)
{
    int rc = CAIRN_EBUSY;
    if (cb == NULL)
        return CAIRN_EINVAL;
    pthread_mutex_lock(&listen_mu);
    for (size_t i = 0; i < LISTENERS_MAX; i++) {
        if (listeners[i].cb == NULL) {
            listeners[i].cb = cb;
            listeners[i].ud = ud;
            atomic_fetch_add(&n_listen, 1);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&listen_mu);
    return rc;
}

void cairn_store_unlisten(cairn_store_added_cb cb, void *ud)
{
    pthread_mutex_lock(&listen_mu);
    for (size_t i = 0; i < LISTENERS_MAX; i++) {
        if (listeners[i].cb == cb && listeners[i].ud == ud) {
            listeners[i].cb = NULL;
            listeners[i].ud = NULL;
            atomic_fetch_sub(&n_listen, 1);
            break;
        }
    }
    pthread_mutex_unlock(&listen_mu);
}

/* After a write: tell the listeners how many new versions it stored. */
static void tell_listeners(const char *collection,
                           const struct cairn_store_result *res, size_t n)
{
    size_t stored = 0;
    if (atomic_load(&n_listen) == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (res[i].outcome == CAIRN_STORE_STORED)
            stored++;
    if (stored == 0)
        return;
    pthread_mutex_lock(&listen_mu);
    for (size_t i = 0; i < LISTENERS_MAX; i++)
        if (listeners[i].cb != NULL)
            listeners[i].cb(collection, stored, listeners[i].ud);
    pthread_mutex_unlock(&listen_mu);
}

int cairn_store_put_batch(struct cairn_store *s, const char *collection,
                          struct cairn_store_batch *b, const char *status_id)
{
    if (s == NULL || collection == NULL || b == NULL)
        return CAIRN_EINVAL;
    if (b->n == 0)
        return 0;
    int rc =
        s->ops->put_objects(s, collection, b->objs, b->n, status_id, b->res);
    if (rc == 0)
        tell_listeners(collection, b->res, b->n);
    return rc;
}

int cairn_store_put_objects(struct cairn_store *s, const char *collection,
                            const struct cairn_store_object_in *objs, size_t n,
                            const char *status_id,
                            struct cairn_store_result *results)
{
    if (s == NULL || collection == NULL || (objs == NULL && n > 0))
        return CAIRN_EINVAL;
    if (n > CAIRN_STORE_BATCH_MAX)
        return CAIRN_ETOOBIG;
    if (n == 0)
        return 0;

    struct cairn_store_batch *b = NULL;
    int rc = cairn_store_batch_new(n, &b);
    if (rc == 0 && results != NULL) {
        /* The outcomes go straight to the caller's array. */
        cairn_free(b->res);
        b->res = results;
        b->res_borrowed = true;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_store_batch_add(b, objs[i].obj, objs[i].json,
                                   objs[i].json_len);
    if (rc == 0)
        rc = cairn_store_put_batch(s, collection, b, status_id);
    cairn_store_batch_free(b);
    return rc;
}

/* Cursors: "c1." and the date_added (µs) of the last row handed out. */
static void cursor_encode(int64_t us, char out[CAIRN_STORE_CURSOR_LEN])
{
    snprintf(out, CAIRN_STORE_CURSOR_LEN, "c1.%016" PRIx64, (uint64_t)us);
}

static int cursor_decode(const char *s, int64_t *us)
{
    size_t len = strnlen(s, CAIRN_STORE_CURSOR_LEN);
    if (len != 19 || strncmp(s, "c1.", 3) != 0)
        return CAIRN_EINVAL;
    unsigned char b[8];
    if (fromhex(s + 3, 16, b, 8) < 0)
        return CAIRN_EINVAL;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    *us = (int64_t)v;
    return 0;
}

static int check_list(const char *const *list, size_t n)
{
    if (n > CAIRN_STORE_FILTER_MAX)
        return CAIRN_ETOOBIG;
    if (n > 0 && list == NULL)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (list[i] == NULL)
            return CAIRN_EINVAL;
    return 0;
}

/* Check `q` and decode it into `sq`; the caller frees sq->vkeys. */
static int prepare_query(const struct cairn_store_query *q, struct store_q *sq)
{
    memset(sq, 0, sizeof *sq);
    sq->q = q;
    if (q->collection == NULL)
        return CAIRN_EINVAL;
    int rc;
    if ((rc = check_list(q->ids, q->n_ids)) < 0 ||
        (rc = check_list(q->types, q->n_types)) < 0 ||
        (rc = check_list(q->spec_versions, q->n_spec_versions)) < 0)
        return rc;
    if (q->n_version_times > CAIRN_STORE_FILTER_MAX)
        return CAIRN_ETOOBIG;
    if (q->n_version_times > 0 && q->version_times == NULL)
        return CAIRN_EINVAL;
    if (q->versions &
        ~(unsigned)(CAIRN_STORE_VERSION_LAST | CAIRN_STORE_VERSION_FIRST |
                    CAIRN_STORE_VERSION_ALL))
        return CAIRN_EINVAL;
    sq->after_us = INT64_MIN;
    if (q->added_after != NULL) {
        const struct cairn_time *t = q->added_after;
        if (t->sec > INT64_MAX / 1000000 - 1 || t->sec < INT64_MIN / 1000000)
            return CAIRN_EINVAL;
        /* date_added (µs) > t exactly when it is > floor(t in µs). */
        sq->after_us = t->sec * 1000000 + t->nsec / 1000;
    }
    if (q->next != NULL && q->next[0] != '\0') {
        int64_t c;
        if ((rc = cursor_decode(q->next, &c)) < 0)
            return rc;
        if (c > sq->after_us)
            sq->after_us = c;
    }
    if (q->n_version_times > 0) {
        sq->vkeys = cairn_calloc(q->n_version_times, sizeof *sq->vkeys);
        if (sq->vkeys == NULL)
            return CAIRN_ENOMEM;
        for (size_t i = 0; i < q->n_version_times; i++)
            if (cairn_time_format(&q->version_times[i], 9, sq->vkeys[i],
                                  sizeof sq->vkeys[i]) < 0)
                return CAIRN_EINVAL;
        sq->n_vkeys = q->n_version_times;
    }
    sq->versions = q->versions;
    if (sq->versions == 0 && sq->n_vkeys == 0)
        sq->versions = CAIRN_STORE_VERSION_LAST;
    if (sq->versions & CAIRN_STORE_VERSION_ALL)
        sq->versions = CAIRN_STORE_VERSION_ALL;
    sq->limit = q->limit;
    if (sq->limit == 0 || sq->limit > CAIRN_STORE_LIMIT_MAX)
        sq->limit = CAIRN_STORE_LIMIT_MAX;
    return 0;
}

struct page_fill {
    struct cairn_store_page *page;
    size_t want;
    size_t alloc; /* rows allocated, grown as they come, up to want */
    int64_t last_us;
    size_t max_bytes; /* JSON bytes the page may hold; 0: no budget */
    size_t bytes;     /* JSON bytes it holds */
};

static const char *arena_str(struct cairn_arena *a, const char *s, int *rc)
{
    if (s == NULL)
        return NULL;
    char *p = cairn_arena_strndup(a, s, strlen(s));
    if (p == NULL)
        *rc = CAIRN_ENOMEM;
    return p;
}

static int page_row(void *ud, const struct cairn_store_row *row,
                    int64_t added_us)
{
    struct page_fill *f = ud;
    struct cairn_store_page *p = f->page;
    /* The row that does not fit is not copied: a page holds at most the
     * budget, or its one first row. */
    if (p->n == f->want || (f->max_bytes > 0 && p->n > 0 &&
                            (f->bytes >= f->max_bytes ||
                             row->json_len > f->max_bytes - f->bytes))) {
        p->more = true;
        return 1; /* enough: stop */
    }
    if (p->n == f->alloc) {
        size_t na = f->alloc ? 2 * f->alloc : 64;
        if (na > f->want)
            na = f->want;
        void *rows = cairn_realloc(p->rows, na * sizeof *p->rows);
        if (rows == NULL)
            return CAIRN_ENOMEM;
        p->rows = rows;
        f->alloc = na;
    }
    struct cairn_store_row *r = &p->rows[p->n];
    memset(r, 0, sizeof *r);
    int rc = 0;
    r->id = arena_str(p->arena, row->id, &rc);
    r->type = arena_str(p->arena, row->type, &rc);
    r->spec_version = arena_str(p->arena, row->spec_version, &rc);
    r->created = arena_str(p->arena, row->created, &rc);
    r->modified = arena_str(p->arena, row->modified, &rc);
    r->date_added = cairn__store_us_time(added_us);
    if (row->version != NULL) {
        r->version = arena_str(p->arena, row->version, &rc);
    } else {
        /* No modified, no created: the version is the date_added. */
        char buf[40];
        int len = cairn_time_format(&r->date_added, 6, buf, sizeof buf);
        r->version = cairn_arena_strndup(p->arena, buf, len > 0 ? len : 0);
        if (r->version == NULL)
            rc = CAIRN_ENOMEM;
    }
    if (row->json != NULL) {
        char *j = cairn_arena_strndup(p->arena, row->json, row->json_len);
        if (j == NULL)
            rc = CAIRN_ENOMEM;
        r->json = j;
        r->json_len = row->json_len;
        f->bytes += row->json_len;
    }
    if (rc < 0)
        return rc;
    if (p->n == 0)
        p->added_first = r->date_added;
    p->added_last = r->date_added;
    f->last_us = added_us;
    p->n++;
    return 0;
}

int cairn_store_query(struct cairn_store *s, const struct cairn_store_query *q,
                      struct cairn_store_page **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || q == NULL || out == NULL)
        return CAIRN_EINVAL;
    struct store_q sq;
    struct cairn_store_page *p = NULL;
    int rc = prepare_query(q, &sq);
    if (rc < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    p = cairn_calloc(1, sizeof *p);
    if (p == NULL || cairn_arena_new(0, &p->arena) < 0)
        goto out;
    struct page_fill f = {p, sq.limit, 0, 0, q->max_bytes, 0};
    struct store_row_sink sink = {page_row, &f};
    rc = s->ops->query(s, &sq, &sink);
    if (rc < 0)
        goto out;
    if (p->more)
        cursor_encode(f.last_us, p->next);
    *out = p;
    p = NULL;
    rc = 0;
out:
    cairn_free(sq.vkeys);
    cairn_store_page_free(p);
    return rc;
}

int cairn_store_scan(struct cairn_store *s, const char *collection,
                     const char *type, const struct cairn_time *added_after,
                     cairn_store_scan_cb cb, void *ud)
{
    if (s == NULL || collection == NULL || cb == NULL)
        return CAIRN_EINVAL;
    if (s->ops->scan != NULL) {
        int64_t after_us = INT64_MIN;
        if (added_after != NULL) {
            const struct cairn_time *t = added_after;
            if (t->sec > INT64_MAX / 1000000 - 1 ||
                t->sec < INT64_MIN / 1000000)
                return CAIRN_EINVAL;
            after_us = t->sec * 1000000 + t->nsec / 1000;
        }
        return s->ops->scan(s, collection, type, after_us, cb, ud);
    }
    /* the pages of every version, one after another */
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    for (;;) {
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {
            .collection = collection,
            .added_after = added_after,
            .types = type != NULL ? &type : NULL,
            .n_types = type != NULL ? 1 : 0,
            .versions = CAIRN_STORE_VERSION_ALL,
            .limit = CAIRN_STORE_LIMIT_MAX,
            .next = next[0] != '\0' ? next : NULL,
            .with_json = true,
        };
        int rc = cairn_store_query(s, &q, &p);
        for (size_t i = 0; rc == 0 && i < p->n; i++)
            rc = cb(&p->rows[i], ud);
        bool more = rc == 0 && p->more;
        if (more)
            memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            return rc;
    }
}

void cairn_store_page_free(struct cairn_store_page *page)
{
    if (page == NULL)
        return;
    cairn_arena_free(page->arena);
    cairn_free(page->rows);
    cairn_free(page);
}

int cairn_store_delete(struct cairn_store *s, const struct cairn_store_query *q,
                       size_t *deleted)
{
    if (deleted != NULL)
        *deleted = 0;
    if (s == NULL || q == NULL)
        return CAIRN_EINVAL;
    struct store_q sq;
    int rc = prepare_query(q, &sq);
    if (rc == 0) {
        size_t n = 0;
        rc = s->ops->delete_objects(s, &sq, &n);
        if (rc == 0 && deleted != NULL)
            *deleted = n;
    }
    cairn_free(sq.vkeys);
    return rc;
}

/* ---- status resources ------------------------------------------------------
 */

int cairn_store_status_new(struct cairn_store *s, const char *collection,
                           const char *user, int64_t total,
                           char id_out[CAIRN_UUID_STRLEN])
{
    if (s == NULL || collection == NULL || total < 0 || id_out == NULL)
        return CAIRN_EINVAL;
    char id[CAIRN_UUID_STRLEN];
    int rc = cairn_uuid4(id);
    if (rc < 0)
        return rc;
    rc = s->ops->status_new(s, id, collection, user, cairn__store_now_us(),
                            total);
    if (rc == 0)
        memcpy(id_out, id, sizeof id);
    return rc;
}

int cairn_store_status_add_pending(struct cairn_store *s, const char *id,
                                   const struct cairn_store_result *items,
                                   size_t n)
{
    if (s == NULL || id == NULL || (items == NULL && n > 0))
        return CAIRN_EINVAL;
    return s->ops->status_add_pending(s, id, items, n);
}

int cairn_store_status_record(struct cairn_store *s, const char *id,
                              const struct cairn_store_result *results,
                              size_t n)
{
    if (s == NULL || id == NULL || (results == NULL && n > 0))
        return CAIRN_EINVAL;
    return s->ops->status_record(s, id, results, n);
}

int cairn_store_status_abandon_pending(struct cairn_store *s, size_t *count)
{
    size_t n = 0;
    if (count != NULL)
        *count = 0;
    if (s == NULL)
        return CAIRN_EINVAL;
    int rc = s->ops->status_abandon_pending(s, CAIRN_STORE_ABANDONED_MSG, &n);
    if (rc == 0 && count != NULL)
        *count = n;
    return rc;
}

int cairn_store_status_get(struct cairn_store *s, const char *id,
                           struct cairn_store_status **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || id == NULL || out == NULL)
        return CAIRN_EINVAL;
    int rc = s->ops->status_get(s, id, out);
    if (rc == 0) {
        struct cairn_store_status *st = *out;
        st->pending = st->total - st->success - st->failure;
        st->complete = st->pending <= 0;
    }
    return rc;
}

void cairn_store_status_free(struct cairn_store_status *st)
{
    if (st == NULL)
        return;
    cairn_free(st->collection);
    cairn_free(st->user);
    cairn_free(st->successes);
    cairn_free(st->failures);
    cairn_free(st->pendings);
    cairn_free(st);
}

/* ---- users and tokens ------------------------------------------------------
 */

/*
 * scrypt with N = 2^15, r = 8, p = 3: one of OWASP's recommended settings,
 * 32 MiB of memory per hash, about 0.2 s on the development VM. Memory-hard,
 * so guessing on GPUs costs far more than with PBKDF2. The parameters are
 * written into each hash, so they can be raised later without breaking
 * stored ones; those read back are bounded so a tampered database cannot
 * make a login take minutes.
 */
#define SCRYPT_LOG2N  15
#define SCRYPT_R      8
#define SCRYPT_P      3
#define SALT_LEN      16
#define KEY_LEN       32
#define HASH_TEXT_MAX 160

static int scrypt_key(const char *password, const unsigned char *salt,
                      unsigned ln, unsigned r, unsigned p,
                      unsigned char key[KEY_LEN])
{
    uint64_t maxmem = (uint64_t)128 * r * ((uint64_t)1 << ln) + (1u << 20);
    maxmem += (uint64_t)128 * r * p;
    if (EVP_PBE_scrypt(password, strlen(password), salt, SALT_LEN,
                       (uint64_t)1 << ln, r, p, maxmem, key, KEY_LEN) != 1)
        return CAIRN_ENOMEM;
    return 0;
}

static int password_hash(const char *password, char out[HASH_TEXT_MAX])
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    char salt_hex[2 * SALT_LEN + 1], key_hex[2 * KEY_LEN + 1];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return CAIRN_EINTERNAL;
    int rc = scrypt_key(password, salt, SCRYPT_LOG2N, SCRYPT_R, SCRYPT_P, key);
    if (rc < 0)
        return rc;
    tohex(salt, SALT_LEN, salt_hex);
    tohex(key, KEY_LEN, key_hex);
    OPENSSL_cleanse(key, sizeof key);
    snprintf(out, HASH_TEXT_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", SCRYPT_LOG2N,
             SCRYPT_R, SCRYPT_P, salt_hex, key_hex);
    return 0;
}

/* 0 when `password` matches `stored`, CAIRN_EPERM when not. */
static int password_check(const char *password, const char *stored)
{
    unsigned ln, r, p;
    int used = 0;
    if (sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%n", &ln, &r, &p, &used) != 3 ||
        used == 0 || ln < 10 || ln > 20 || r < 1 || r > 16 || p < 1 || p > 16)
        return CAIRN_EPERM;
    const char *salt_hex = stored + used;
    const char *dollar = strchr(salt_hex, '$');
    unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    if (dollar == NULL ||
        fromhex(salt_hex, (size_t)(dollar - salt_hex), salt, SALT_LEN) < 0 ||
        fromhex(dollar + 1, strlen(dollar + 1), want, KEY_LEN) < 0)
        return CAIRN_EPERM;
    int rc = scrypt_key(password, salt, ln, r, p, got);
    if (rc < 0)
        return rc;
    rc = CRYPTO_memcmp(got, want, KEY_LEN) == 0 ? 0 : CAIRN_EPERM;
    OPENSSL_cleanse(got, sizeof got);
    return rc;
}

static bool password_ok(const char *password)
{
    return password != NULL &&
           strnlen(password, CAIRN_STORE_PASSWORD_MAX + 1) <=
               CAIRN_STORE_PASSWORD_MAX;
}

int cairn_store_user_add(struct cairn_store *s, const char *name,
                         const char *password)
{
    if (s == NULL || !name_ok(name, CAIRN_STORE_NAME_MAX) ||
        !password_ok(password))
        return CAIRN_EINVAL;
    char hash[HASH_TEXT_MAX];
    int rc = password_hash(password, hash);
    if (rc == 0)
        rc = s->ops->user_add(s, name, hash);
    return rc;
}

int cairn_store_user_set_password(struct cairn_store *s, const char *name,
                                  const char *password)
{
    if (s == NULL || name == NULL || !password_ok(password))
        return CAIRN_EINVAL;
    char hash[HASH_TEXT_MAX];
    int rc = password_hash(password, hash);
    if (rc == 0)
        rc = s->ops->user_set_hash(s, name, hash);
    return rc;
}

int cairn_store_user_verify(struct cairn_store *s, const char *name,
                            const char *password)
{
    if (s == NULL || name == NULL || password == NULL)
        return CAIRN_EINVAL;
    if (!password_ok(password))
        return CAIRN_EPERM;
    char *stored = NULL;
    int rc = s->ops->user_hash(s, name, &stored);
    if (rc == CAIRN_ENOTFOUND) {
        /* Spend the same time, so timing does not tell who exists. */
        static const char dummy[] =
            "$scrypt$ln=15,r=8,p=3$00000000000000000000000000000000$"
            "0000000000000000000000000000000000000000000000000000000000000000";
        (void)password_check(password, dummy);
        return CAIRN_EPERM;
    }
    if (rc == 0)
        rc = password_check(password, stored);
    cairn_free(stored);
    return rc;
}

int cairn_store_user_remove(struct cairn_store *s, const char *name)
{
    if (s == NULL || name == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_remove(s, name);
}

int cairn_store_user_list(struct cairn_store *s, char ***out, size_t *n)
{
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (s == NULL || out == NULL || n == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_list(s, out, n);
}

void cairn_store_name_list_free(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        cairn_free(names[i]);
    cairn_free(names);
}

int cairn_store_user_hash(struct cairn_store *s, const char *name, char **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || name == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_hash(s, name, out);
}

/* Tokens are kept as the hex SHA-256 of their text. */
static int token_digest(const char *token, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;
    if (EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32)
        return CAIRN_EINTERNAL;
    tohex(md, 32, out);
    return 0;
}

int cairn_store_token_new(struct cairn_store *s, const char *user,
                          char token_out[CAIRN_STORE_TOKEN_LEN])
{
    if (s == NULL || user == NULL || token_out == NULL)
        return CAIRN_EINVAL;
    unsigned char raw[32];
    char token[CAIRN_STORE_TOKEN_LEN], digest[65];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return CAIRN_EINTERNAL;
    tohex(raw, sizeof raw, token);
    OPENSSL_cleanse(raw, sizeof raw);
    int rc = token_digest(token, digest);
    if (rc == 0)
        rc = s->ops->token_add(s, digest, user);
    if (rc == 0)
        memcpy(token_out, token, sizeof token);
    OPENSSL_cleanse(token, sizeof token);
    return rc;
}

int cairn_store_token_lookup(struct cairn_store *s, const char *token,
                             char **user_out)
{
    if (user_out != NULL)
        *user_out = NULL;
    if (s == NULL || token == NULL || user_out == NULL)
        return CAIRN_EINVAL;
    if (strnlen(token, CAIRN_STORE_TOKEN_LEN) != CAIRN_STORE_TOKEN_LEN - 1)
        return CAIRN_EPERM;
    char digest[65];
    int rc = token_digest(token, digest);
    if (rc < 0)
        return rc;
    rc = s->ops->token_user(s, digest, user_out);
    return rc == CAIRN_ENOTFOUND ? CAIRN_EPERM : rc;
}

int cairn_store_token_remove(struct cairn_store *s, const char *token)
{
    if (s == NULL || token == NULL)
        return CAIRN_EINVAL;
    char digest[65];
    int rc = token_digest(token, digest);
    if (rc < 0)
        return rc;
    return s->ops->token_remove(s, digest);
}

/* ---- rights -----------------------------------------------------------------
 */

#define RIGHTS_MASK (CAIRN_STORE_READ | CAIRN_STORE_WRITE)

int cairn_store_grant(struct cairn_store *s, const char *user,
                      const char *collection, unsigned rights)
{
    if (s == NULL || user == NULL || collection == NULL ||
        (rights & ~(unsigned)RIGHTS_MASK))
        return CAIRN_EINVAL;
    unsigned cur = 0;
    int rc = s->ops->rights_get(s, user, collection, &cur);
    if (rc == 0)
        rc = s->ops->rights_set(s, user, collection, cur | rights);
    return rc;
}

int cairn_store_revoke(struct cairn_store *s, const char *user,
                       const char *collection, unsigned rights)
{
    if (s == NULL || user == NULL || collection == NULL ||
        (rights & ~(unsigned)RIGHTS_MASK))
        return CAIRN_EINVAL;
    unsigned cur = 0;
    int rc = s->ops->rights_get(s, user, collection, &cur);
    if (rc == 0 && (cur & rights))
        rc = s->ops->rights_set(s, user, collection, cur & ~rights);
    return rc;
}

int cairn_store_rights(struct cairn_store *s, const char *user,
                       const char *collection, unsigned *out)
{
    if (out != NULL)
        *out = 0;
    if (s == NULL || user == NULL || collection == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->rights_get(s, user, collection, out);
}

/* ---- sharing attributes -----------------------------------------------------
 */

/* enum cairn_tlp's largest value (CAIRN_TLP_RED), without including stix. */
#define TLP_MAX 5

int cairn_store_user_share_get(struct cairn_store *s, const char *name,
                               struct cairn_store_user_share *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (s == NULL || name == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_share_get(s, name, out);
}

int cairn_store_user_share_set(struct cairn_store *s, const char *name,
                               const struct cairn_store_user_share *in)
{
    if (s == NULL || name == NULL || in == NULL)
        return CAIRN_EINVAL;
    size_t len = strnlen(in->identity, sizeof in->identity);
    if (len == sizeof in->identity)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in->identity[i];
        if (ch < 0x20 || ch == 0x7f)
            return CAIRN_EINVAL;
    }
    return s->ops->user_share_set(s, name, in);
}

int cairn_store_collection_count(struct cairn_store *s, const char *id,
                                 size_t *out)
{
    if (out != NULL)
        *out = 0;
    if (s == NULL || id == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_count(s, id, out);
}

int cairn_store_user_admin_get(struct cairn_store *s, const char *name,
                               bool *out)
{
    if (out != NULL)
        *out = false;
    if (s == NULL || name == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_admin_get(s, name, out);
}

int cairn_store_user_admin_set(struct cairn_store *s, const char *name,
                               bool admin)
{
    if (s == NULL || name == NULL)
        return CAIRN_EINVAL;
    return s->ops->user_admin_set(s, name, admin);
}

int cairn_store_collection_tlp_get(struct cairn_store *s, const char *id,
                                   int *out)
{
    if (out != NULL)
        *out = 0;
    if (s == NULL || id == NULL || out == NULL)
        return CAIRN_EINVAL;
    return s->ops->collection_tlp_get(s, id, out);
}

int cairn_store_collection_tlp_set(struct cairn_store *s, const char *id,
                                   int tlp)
{
    if (s == NULL || id == NULL || tlp < 0 || tlp > TLP_MAX)
        return CAIRN_EINVAL;
    return s->ops->collection_tlp_set(s, id, tlp);
}

/* ---- named state ------------------------------------------------------------
 */

int cairn_store_state_get(struct cairn_store *s, const char *name, char **out)
{
    if (out != NULL)
        *out = NULL;
    if (s == NULL || out == NULL || !name_ok(name, CAIRN_STORE_STATE_NAME_MAX))
        return CAIRN_EINVAL;
    return s->ops->state_get(s, name, out);
}

int cairn_store_state_set(struct cairn_store *s, const char *name,
                          const char *value)
{
    if (s == NULL || !name_ok(name, CAIRN_STORE_STATE_NAME_MAX))
        return CAIRN_EINVAL;
    if (value != NULL &&
        strnlen(value, CAIRN_STORE_STATE_MAX + 1) > CAIRN_STORE_STATE_MAX)
        return CAIRN_ETOOBIG;
    return s->ops->state_set(s, name, value);
}

/* ---- marks ------------------------------------------------------------------ */

#define MARK_MAX 1000

/* "ID VERSION": neither holds a space that a STIX reader accepts. */
static int mark_key(const char *id, const char *version, char *key,
                    size_t len)
{
    if (id == NULL || version == NULL || id[0] == '\0' ||
        version[0] == '\0' || strchr(id, ' ') != NULL ||
        strchr(version, ' ') != NULL)
        return CAIRN_EINVAL;
    int n = snprintf(key, len, "%s %s", id, version);
    return n < 0 || (size_t)n >= len ? CAIRN_EINVAL : 0;
}

int cairn_store_mark_put(struct cairn_store *s, const char *collection,
                         const char *id, const char *version, const char *mark)
{
    struct cairn_store_mark m = {id, version, mark};
    return cairn_store_mark_put_many(s, collection, &m, 1);
}

/* The keys of a batch in order, each with its place: ties by place. */
struct mark_ref {
    const char *key;
    size_t at;
};

static int mark_ref_cmp(const void *pa, const void *pb)
{
    const struct mark_ref *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c != 0 ? c : (a->at > b->at) - (a->at < b->at);
}

int cairn_store_mark_put_many(struct cairn_store *s, const char *collection,
                              const struct cairn_store_mark *marks, size_t n)
{
    int rc = CAIRN_EINVAL;
    char *keys = NULL;
    struct mark_ref *refs = NULL;
    const char **k = NULL, **v = NULL;
    const size_t key_len = 400;

    if (s == NULL || collection == NULL || (n > 0 && marks == NULL))
        goto out;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    rc = CAIRN_ENOMEM;
    if (n > SIZE_MAX / key_len)
        goto out;
    keys = cairn_malloc(n * key_len);
    refs = cairn_malloc(n * sizeof *refs);
    k = cairn_malloc(n * sizeof *k);
    v = cairn_malloc(n * sizeof *v);
    if (keys == NULL || refs == NULL || k == NULL || v == NULL)
        goto out;
    rc = CAIRN_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (marks[i].mark == NULL || strlen(marks[i].mark) > MARK_MAX ||
            mark_key(marks[i].id, marks[i].version, keys + i * key_len,
                     key_len) < 0)
            goto out;
        refs[i] = (struct mark_ref){keys + i * key_len, i};
    }
    /* A version twice (an object twice in a page): its last mark. */
    qsort(refs, n, sizeof *refs, mark_ref_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(refs[i].key, refs[i + 1].key) == 0)
            continue;
        k[m] = refs[i].key;
        v[m] = marks[refs[i].at].mark;
        m++;
    }
    rc = s->ops->mark_put(s, collection, k, v, m);
out:
    cairn_free(keys);
    cairn_free(refs);
    cairn_free(k);
    cairn_free(v);
    return rc;
}

int cairn_store_mark_get(struct cairn_store *s, const char *collection,
                         const char *id, const char *version, char **out)
{
    char key[400];
    if (out != NULL)
        *out = NULL;
    if (s == NULL || collection == NULL || out == NULL ||
        mark_key(id, version, key, sizeof key) < 0)
        return CAIRN_EINVAL;
    return s->ops->mark_get(s, collection, key, out);
}

struct mark_lister {
    cairn_store_mark_cb cb;
    void *ud;
};

/* A backend's row ("ID VERSION") to the caller's mark. */
static int mark_row(void *ud, const char *collection, const char *key,
                    const char *mark)
{
    struct mark_lister *ml = ud;
    char id[400];
    const char *sp = strchr(key, ' ');
    size_t n = sp != NULL ? (size_t)(sp - key) : 0;
    if (sp == NULL || n >= sizeof id)
        return 0; /* not one cairn wrote: skipped */
    memcpy(id, key, n);
    id[n] = '\0';
    struct cairn_store_mark m = {id, sp + 1, mark};
    return ml->cb(ml->ud, collection, &m);
}

int cairn_store_mark_list(struct cairn_store *s, const char *collection,
                          cairn_store_mark_cb cb, void *ud)
{
    struct mark_lister ml = {cb, ud};
    int tlp = 0;
    if (s == NULL || cb == NULL)
        return CAIRN_EINVAL;
    if (collection != NULL) {
        int rc = cairn_store_collection_tlp_get(s, collection, &tlp);
        if (rc < 0)
            return rc;
    }
    int rc = s->ops->mark_list(s, collection, mark_row, &ml);
    return rc > 0 ? 0 : rc;
}

/* ---- the correlation index -------------------------------------------------
 */

struct find_state {
    uint64_t key;
    cairn_store_hit_cb cb;
    void *ud;
    int err;
};

static int has_key(void *ud, uint64_t key)
{
    return key == *(const uint64_t *)ud ? 1 : 0;
}

/* Whether the row's object carries the key: 1, 0, or CAIRN_ENOMEM. */
static int row_has_key(const struct cairn_store_row *row, uint64_t key)
{
    json_error_t e;
    json_t *obj = json_loadb(row->json, row->json_len, 0, &e);
    if (obj == NULL)
        return 0;
    int rc = cairn_value_object_keys(obj, has_key, &key);
    json_decref(obj);
    return rc < 0 ? rc : rc == 1;
}

static int find_hit(void *ud, const char *collection,
                    const struct cairn_store_row *row)
{
    struct find_state *f = ud;
    if (row->json == NULL)
        return 0;
    int rc = row_has_key(row, f->key);
    if (rc <= 0)
        return rc;
    rc = f->cb(f->ud, collection, row);
    if (rc < 0)
        f->err = rc;
    return rc < 0 ? rc : rc != 0;
}

int cairn_store_find_key(struct cairn_store *s, uint64_t key,
                         cairn_store_hit_cb cb, void *ud)
{
    if (s == NULL || cb == NULL)
        return CAIRN_EINVAL;
    if (s->ops->keys_find == NULL)
        return CAIRN_EUNSUPPORTED;
    struct find_state f = {.key = key, .cb = cb, .ud = ud};
    struct store_hit_sink sink = {.hit = find_hit, .ud = &f};
    int rc = s->ops->keys_find(s, (int64_t)key, &sink);
    if (f.err < 0)
        return f.err;
    return rc < 0 ? rc : 0;
}

bool cairn_store_has_index(struct cairn_store *s)
{
    return s != NULL && s->ops->keys_find != NULL;
}

/* ---- sighting summaries
 * ------------------------------------------------------
 */

struct sight_state {
    const struct cairn_store_sightings_query *q;
    cairn_store_sighting_cb cb;
    void *ud;
    /* the (collection, idh) of the last row: its newer versions came
     * first, so the rows after it with the same pair are older */
    bool have;
    char coll[CAIRN_UUID_STRLEN];
    int64_t idh;
    int err;
};

static bool parse_time(const char *v, struct cairn_time *t)
{
    return v != NULL && cairn_time_parse(v, strlen(v), true, t) == 0;
}

static int sight_row(void *ud, const struct store_sight_row *r)
{
    struct sight_state *st = ud;
    if (st->have && r->idh == st->idh && strcmp(r->collection, st->coll) == 0)
        return 0; /* an older version of the sighting just handed out */
    st->have = true;
    st->idh = r->idh;
    if (strcmp(st->coll, r->collection) != 0)
        snprintf(st->coll, sizeof st->coll, "%s", r->collection);
    const struct store_sight *h = &r->sight;
    if (h->of_ref == NULL ||
        (st->q->of != NULL && strcmp(h->of_ref, st->q->of) != 0))
        return 0;
    struct cairn_store_sighting sg = {
        .collection = r->collection,
        .sighting_of_ref = h->of_ref,
        .false_positive = h->fp,
        .count = h->count > 0 ? (uint64_t)h->count : 0,
        .row = r->row,
    };
    /* the organisations, split at spaces in a copy */
    const char *orgs[CAIRN_STORE_SIGHTING_ORGS_MAX];
    char buf[4096], *heap = NULL, *p = buf;
    if (r->parsed) {
        sg.of_n = r->of_n;
        sg.orgs = r->orgs;
        sg.org_ns = r->org_ns;
        sg.n_orgs = r->n_orgs;
        sg.has_first = r->has_first;
        sg.first = r->first;
        sg.has_last = r->has_last;
        sg.last = r->last;
    } else {
        size_t ol = h->orgs != NULL ? strlen(h->orgs) : 0, n = 0;
        if (ol >= sizeof buf) {
            p = heap = cairn_malloc(ol + 1);
            if (heap == NULL)
                return st->err = CAIRN_ENOMEM;
        }
        if (ol > 0)
            memcpy(p, h->orgs, ol);
        p[ol] = '\0';
        while (*p != '\0' && n < CAIRN_STORE_SIGHTING_ORGS_MAX) {
            orgs[n++] = p;
            char *sp = strchr(p, ' ');
            if (sp == NULL)
                break;
            *sp = '\0';
            p = sp + 1;
        }
        sg.orgs = orgs;
        sg.n_orgs = n;
        sg.has_first = parse_time(h->first, &sg.first);
        sg.has_last = parse_time(h->last, &sg.last);
    }
    if (!sg.has_first && sg.has_last) {
        sg.first = sg.last;
        sg.has_first = true;
    }
    int rc = st->cb(st->ud, &sg);
    cairn_free(heap);
    if (rc < 0)
        st->err = rc;
    return rc;
}

int cairn_store_sightings(struct cairn_store *s,
                          const struct cairn_store_sightings_query *q,
                          cairn_store_sighting_cb cb, void *ud)
{
    static const struct cairn_store_sightings_query all = {0};
    if (s == NULL || cb == NULL)
        return CAIRN_EINVAL;
    if (s->ops->sightings_scan == NULL)
        return CAIRN_EUNSUPPORTED;
    if (q == NULL)
        q = &all;
    struct sight_state st = {.q = q, .cb = cb, .ud = ud};
    struct store_sight_sink sink = {.row = sight_row, .ud = &st};
    int rc = s->ops->sightings_scan(s, q->of, q->with_json, &sink);
    if (st.err < 0)
        return st.err;
    return rc < 0 ? rc : 0;
}

bool cairn_store_has_sightings(struct cairn_store *s)
{
    return s != NULL && s->ops->sightings_scan != NULL;
}

int cairn_store_user_identities_get(struct cairn_store *s, const char *name,
                                    bool *out)
{
    if (out != NULL)
        *out = false;
    if (s == NULL || name == NULL || out == NULL)
        return CAIRN_EINVAL;
    if (s->ops->user_identities_get == NULL)
        return CAIRN_EUNSUPPORTED;
    return s->ops->user_identities_get(s, name, out);
}

int cairn_store_user_identities_set(struct cairn_store *s, const char *name,
                                    bool on)
{
    if (s == NULL || name == NULL)
        return CAIRN_EINVAL;
    if (s->ops->user_identities_set == NULL)
        return CAIRN_EUNSUPPORTED;
    return s->ops->user_identities_set(s, name, on);
}
