/* SPDX-License-Identifier: Apache-2.0 */
/* Federation: incremental pull and push between nodes, with resumable state. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cairn/stix.h"
#include "cairn/taxii.h"
#include "taxii/client_int.h"

#define LIMIT_DEF     1000
#define MAX_BYTES_DEF ((size_t)8 << 20)
#define STATE_MAX     65536
/* Envelope overhead: {"objects":[ ... ]} and the commas. */
#define ENVELOPE_HEAD "{\"objects\":["
#define ENVELOPE_TAIL "]}"

static void say(struct cairn_sync_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct cairn_sync_result *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->error, sizeof res->error, fmt, ap);
    va_end(ap);
}

/* Report one object that was not taken, through the flow's callback. */
static void reject(const struct cairn_sync_flow *f, const char *id,
                   const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reject(const struct cairn_sync_flow *f, const char *id,
                   const char *rule, const char *fmt, ...)
{
    struct cairn_diag d;
    char msg[320];
    va_list ap;

    if (f->cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_clear(&d);
    snprintf(d.file, sizeof d.file, "%s", f->url);
    snprintf(d.object_id, sizeof d.object_id, "%s", id ? id : "");
    cairn_diag_set(&d, CAIRN_SEV_ERROR, rule, "%s", msg);
    f->cb(&d, f->ud);
}

/* ---- progress, kept in the store
 * -------------------------------------------------------------
 */

/*
 * A flow's progress lives in the store (cairn_store_state_*), under
 * "flow:<hex sha256 of the flow's identity>", so that every process that
 * shares the store (several nodes over one PostgreSQL database) goes on
 * where another stopped. Version 3 adds where the peer's objects are
 * (the API root URL and the collection's id, learnt by the first run),
 * so that a run asks for objects at once. Version 2 of the older files
 * (DATA/peers/<hex>.json, read once when the store has nothing for the
 * flow): a pull's added_after is where the next run starts, just before
 * the last date_added seen. Version 1 (no "version") held that date
 * itself, which skipped the objects that shared it.
 */
#define STATE_VERSION 3

static struct cairn_time resume_point(const struct cairn_time *t);

struct state {
    char key[80];        /* the store's name for this flow's progress */
    char path[PATH_MAX]; /* the file of earlier versions */
    char lock[PATH_MAX];
    int lock_fd;       /* held for the run; -1 when not taken */
    bool store_locked; /* the store's named lock (shared databases) */
    bool from_file;    /* loaded from `path`: removed once in the store */
    bool has;
    char added_after[40];
    /* Where the peer's objects are; has_where when known. */
    bool has_where;
    bool where_dirty; /* learnt in this run, not saved yet */
    char root_url[1024];
    char remote[CAIRN_UUID_STRLEN];
    int64_t max_content_length;
};

/* The store's key, the older file and the lock file of a flow. */
static int state_path(const struct cairn_sync_flow *f, bool push,
                      struct state *st, struct cairn_sync_result *res)
{
    unsigned char md[32];
    unsigned mdlen = 0;
    char hex[65];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    const char *parts[] = {push ? "push" : "pull", f->url, f->remote, f->local};

    for (size_t i = 0; ok && i < 4; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) == 1;
    /* A push of other types is another flow with its own progress. */
    for (size_t i = 0; ok && i < f->n_types; i++)
        ok = EVP_DigestUpdate(ctx, f->types[i], strlen(f->types[i]) + 1) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        say(res, "cannot hash the flow's name");
        return CAIRN_EINTERNAL;
    }
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(st->key, sizeof st->key, "flow:%s", hex);
    int n =
        snprintf(st->path, sizeof st->path, "%s/%s.json", f->state_dir, hex);
    int k =
        snprintf(st->lock, sizeof st->lock, "%s/.%s.lock", f->state_dir, hex);
    if (n < 0 || (size_t)n >= sizeof st->path || k < 0 ||
        (size_t)k >= sizeof st->lock) {
        say(res, "%s: path too long", f->state_dir);
        return CAIRN_EINVAL;
    }
    return 0;
}

/*
 * One run per flow at a time: two (a cron job and serve's timer, say)
 * would race on the progress. A lock file for the processes of this
 * machine, and the store's named lock for the nodes sharing a database.
 * Both die with the process.
 */
static int state_lock(struct state *st, struct cairn_store *s,
                      const struct cairn_sync_flow *f,
                      struct cairn_sync_result *res)
{
    if (mkdir(f->state_dir, 0700) < 0 && errno != EEXIST) {
        say(res, "%s: %s", f->state_dir, strerror(errno));
        return CAIRN_EIO;
    }
    st->lock_fd = open(st->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0) {
        say(res, "%s: %s", st->lock, strerror(errno));
        return CAIRN_EIO;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        say(res,
            errno == EWOULDBLOCK ? "%s: another run of this flow is in progress"
                                 : "%s: cannot lock: %s",
            st->lock, strerror(errno));
        close(st->lock_fd);
        st->lock_fd = -1;
        return CAIRN_EIO;
    }
    bool got = false;
    int rc = cairn_store_lock_try(s, st->key, &got);
    if (rc == CAIRN_EUNSUPPORTED)
        return 0; /* one process owns the store: the file lock does */
    if (rc < 0) {
        say(res, "taking the lock of this flow in the store: %s",
            cairn_strerror(rc));
        return rc;
    }
    if (!got) {
        say(res, "another run of this flow is in progress (on another node "
                 "sharing the store)");
        return CAIRN_EIO;
    }
    st->store_locked = true;
    return 0;
}

static void state_unlock(struct state *st, struct cairn_store *s)
{
    if (st->store_locked)
        (void)cairn_store_lock_release(s, st->key);
    st->store_locked = false;
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    st->lock_fd = -1;
}

/* Read the progress text `text` (from `where`) into `st`. */
static int state_parse(struct state *st, bool push, const char *text,
                       size_t len, const char *where,
                       struct cairn_sync_result *res)
{
    json_t *j = NULL;
    struct cairn_diag diag;
    int rc = CAIRN_EPARSE;

    if (cairn_json_parse(text, len, &j, &diag) < 0 || !json_is_object(j)) {
        say(res,
            "%s: the progress of this flow is damaged; %s to start this "
            "flow over",
            where,
            st->from_file ? "remove it" : "run 'cairn sync --forget' on it");
        goto out;
    }
    json_int_t version = json_integer_value(json_object_get(j, "version"));
    const char *after = json_string_value(json_object_get(j, "added_after"));
    struct cairn_time t;
    /* Version 3 may be saved before anything was pulled; earlier ones
     * always had a date. */
    if ((after == NULL && version < 3) ||
        (after != NULL &&
         (strlen(after) >= sizeof st->added_after ||
          cairn_time_parse(after, strlen(after), false, &t) < 0))) {
        say(res,
            "%s: the progress of this flow has no valid added_after; %s to "
            "start this flow over",
            where,
            st->from_file ? "remove it" : "run 'cairn sync --forget' on it");
        goto out;
    }
    if (after != NULL) {
        memcpy(st->added_after, after, strlen(after) + 1);
        if (!push && version < 2) {
            /* Fetch again what shared the last time seen: none is
             * skipped. */
            t = resume_point(&t);
            if (cairn_time_format(&t, 6, st->added_after,
                                  sizeof st->added_after) < 0) {
                say(res, "%s: added_after is out of range", where);
                goto out;
            }
        }
        st->has = true;
    }
    /* Where the objects are: only trusted when whole; else looked up. */
    const char *root = json_string_value(json_object_get(j, "root_url"));
    const char *col = json_string_value(json_object_get(j, "collection"));
    json_int_t mcl =
        json_integer_value(json_object_get(j, "max_content_length"));
    if (root != NULL && col != NULL && strlen(root) < sizeof st->root_url &&
        strlen(col) == CAIRN_UUID_STRLEN - 1 &&
        cairn_uuid_check(col, strlen(col), false, NULL) && mcl >= 0) {
        memcpy(st->root_url, root, strlen(root) + 1);
        memcpy(st->remote, col, CAIRN_UUID_STRLEN);
        st->max_content_length = mcl;
        st->has_where = true;
    }
    rc = 0;
out:
    json_decref(j);
    return rc;
}

/*
 * The flow's progress: from the store, else (once, on the first run of a
 * cairn that keeps it there) from the file earlier versions wrote.
 */
static int state_load(struct state *st, struct cairn_store *s, bool push,
                      struct cairn_sync_result *res)
{
    char buf[STATE_MAX];
    char *text = NULL;
    int rc = cairn_store_state_get(s, st->key, &text);

    st->has = false;
    st->has_where = false;
    if (rc == 0) {
        char where[sizeof st->key + 16];
        snprintf(where, sizeof where, "store: %s", st->key);
        rc = state_parse(st, push, text, strlen(text), where, res);
        cairn_free(text);
        return rc;
    }
    if (rc != CAIRN_ENOTFOUND) {
        say(res, "reading the progress of this flow (%s) from the store: %s",
            st->key, cairn_strerror(rc));
        return rc;
    }
    int fd = open(st->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0; /* never run: from the start */
        say(res, "%s: %s", st->path, strerror(errno));
        return CAIRN_EIO;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) {
        say(res, "%s: %s", st->path, strerror(errno));
        return CAIRN_EIO;
    }
    st->from_file = true;
    if ((size_t)n == sizeof buf) {
        say(res,
            "%s: the progress of this flow is damaged; remove it to start "
            "this flow over",
            st->path);
        return CAIRN_EPARSE;
    }
    /* The older files knew nothing of where the objects are. */
    rc = state_parse(st, push, buf, (size_t)n, st->path, res);
    st->has_where = false;
    return rc;
}

/*
 * Record progress (and where the peer's objects are) in the store: one
 * statement, so a crash leaves the old or the new state. `added` NULL
 * keeps the current point.
 */
static int state_save(struct state *st, struct cairn_store *s,
                      const struct cairn_sync_flow *f, bool push,
                      const struct cairn_time *added,
                      struct cairn_sync_result *res)
{
    char ts[40] = "", now[40];
    struct cairn_time t = cairn_time_now(6);
    json_t *j = NULL;
    char *text = NULL;
    int rc = CAIRN_ENOMEM;

    if ((added != NULL && cairn_time_format(added, 6, ts, sizeof ts) < 0) ||
        cairn_time_format(&t, 6, now, sizeof now) < 0) {
        say(res, "cannot format a timestamp");
        return CAIRN_EINTERNAL;
    }
    if (added == NULL && st->has)
        memcpy(ts, st->added_after, sizeof ts);
    j = json_pack("{s:i, s:s, s:s, s:s, s:s}", "version", STATE_VERSION,
                  "direction", push ? "push" : "pull", "url", f->url, "remote",
                  f->remote, "local", f->local);
    if (j == NULL ||
        (f->peer != NULL &&
         json_object_set_new(j, "peer", json_string(f->peer)) < 0) ||
        (ts[0] != '\0' &&
         json_object_set_new(j, "added_after", json_string(ts)) < 0) ||
        (st->has_where &&
         (json_object_set_new(j, "root_url", json_string(st->root_url)) < 0 ||
          json_object_set_new(j, "collection", json_string(st->remote)) < 0 ||
          json_object_set_new(j, "max_content_length",
                              json_integer(st->max_content_length)) < 0)) ||
        json_object_set_new(j, "updated", json_string(now)) < 0 ||
        (text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL) {
        say(res, "out of memory");
        goto out;
    }
    rc = cairn_store_state_set(s, st->key, text);
    if (rc < 0) {
        say(res, "saving the progress of this flow (%s) in the store: %s",
            st->key, cairn_strerror(rc));
        goto out;
    }
    if (ts[0] != '\0') {
        memcpy(st->added_after, ts, sizeof st->added_after);
        st->has = true;
    }
    st->where_dirty = false;
    if (st->from_file) {
        /* It lives in the store now; the file would only mislead. */
        if (unlink(st->path) < 0 && errno != ENOENT)
            cairn_log(CAIRN_LOG_WARN, "%s: %s (the progress is in the store "
                                      "now; the file is not read again)",
                      st->path, strerror(errno));
        st->from_file = false;
    }
    rc = 0;
out:
    json_decref(j);
    /* json_dumps allocates through jansson's functions. */
    if (text != NULL) {
        json_malloc_t m;
        json_free_t fr;
        json_get_alloc_funcs(&m, &fr);
        fr(text);
    }
    return rc;
}

int cairn_sync_state_name(const struct cairn_sync_flow *f, bool push,
                          char *out, size_t len)
{
    struct state st = {.lock_fd = -1};
    struct cairn_sync_result res;
    struct cairn_sync_flow g = *f;

    if (len > 0)
        out[0] = '\0';
    g.state_dir = f->state_dir != NULL ? f->state_dir : ".";
    int rc = state_path(&g, push, &st, &res);
    if (rc < 0)
        return rc;
    if (strlen(st.key) >= len)
        return CAIRN_ETOOBIG;
    memcpy(out, st.key, strlen(st.key) + 1);
    return 0;
}

int cairn_sync_forget(struct cairn_store *s, const struct cairn_sync_flow *f,
                      bool push)
{
    struct state st = {.lock_fd = -1};
    struct cairn_sync_result res;
    struct cairn_sync_flow g = *f;

    g.state_dir = f->state_dir != NULL ? f->state_dir : ".";
    int rc = state_path(&g, push, &st, &res);
    if (rc < 0)
        return rc;
    rc = cairn_store_state_set(s, st.key, NULL);
    if (rc < 0)
        return rc;
    if (f->state_dir != NULL && unlink(st.path) < 0 && errno != ENOENT)
        return CAIRN_EIO;
    return 0;
}

/* ---- shared steps
 * -------------------------------------------------------------
 */

/* The peer's API root, and the id of the remote collection. */
static int find_remote(struct cairn_taxii_client *c,
                       const struct cairn_sync_flow *f, char **root_url,
                       json_t **root, char id[CAIRN_UUID_STRLEN],
                       struct cairn_sync_result *res)
{
    json_t *list = NULL;
    int rc = cairn_taxii_client_api_root(c, f->url, root_url, root);

    if (rc < 0) {
        say(res, "%s", cairn_taxii_client_error(c));
        return rc;
    }
    if (cairn_uuid_check(f->remote, strlen(f->remote), false, NULL)) {
        memcpy(id, f->remote, CAIRN_UUID_STRLEN);
        return 0;
    }
    /* Not an id: an alias or title, which must name exactly one. */
    rc = cairn_taxii_client_collections(c, *root_url, &list);
    if (rc < 0) {
        say(res, "%s", cairn_taxii_client_error(c));
        return rc;
    }
    size_t found = 0;
    size_t i;
    json_t *col;
    json_array_foreach(list, i, col)
    {
        const char *cid = json_string_value(json_object_get(col, "id"));
        const char *alias = json_string_value(json_object_get(col, "alias"));
        const char *title = json_string_value(json_object_get(col, "title"));
        if (cid == NULL || strlen(cid) >= CAIRN_UUID_STRLEN ||
            !cairn_uuid_check(cid, strlen(cid), false, NULL))
            continue;
        if ((alias && strcmp(alias, f->remote) == 0) ||
            (title && strcmp(title, f->remote) == 0)) {
            if (found++ == 0)
                memcpy(id, cid, CAIRN_UUID_STRLEN);
        }
    }
    json_decref(list);
    if (found != 1) {
        say(res,
            found == 0 ? "%s: no collection with the id, alias or title "
                         "'%s' that this user can see"
                       : "%s: several collections are called '%s'; give its id",
            *root_url, f->remote);
        return found == 0 ? CAIRN_ENOTFOUND : CAIRN_EINVAL;
    }
    return 0;
}

/*
 * Where the flow's objects are: what its progress remembers (no request),
 * else looked up with find_remote and remembered (saved with the next
 * progress). `*root` gets the API root resource when it was fetched.
 * st->max_content_length is the root's limit either way (0: none).
 */
static int locate(struct cairn_taxii_client *c, const struct cairn_sync_flow *f,
                  struct state *st, char **root_url, json_t **root,
                  char id[CAIRN_UUID_STRLEN], bool *cached,
                  struct cairn_sync_result *res)
{
    *cached = false;
    cairn_free(*root_url);
    *root_url = NULL;
    json_decref(*root);
    *root = NULL;
    if (st->has_where) {
        *root_url = cairn_strdup(st->root_url);
        if (*root_url == NULL) {
            say(res, "out of memory");
            return CAIRN_ENOMEM;
        }
        memcpy(id, st->remote, CAIRN_UUID_STRLEN);
        *cached = true;
        return 0;
    }
    int rc = find_remote(c, f, root_url, root, id, res);
    if (rc < 0)
        return rc;
    json_int_t mcl =
        json_integer_value(json_object_get(*root, "max_content_length"));
    st->max_content_length = mcl > 0 ? mcl : 0;
    if (strlen(*root_url) < sizeof st->root_url) {
        memcpy(st->root_url, *root_url, strlen(*root_url) + 1);
        memcpy(st->remote, id, CAIRN_UUID_STRLEN);
        st->has_where = true;
        st->where_dirty = true;
    }
    return 0;
}

/*
 * A request to the remembered location failed in a way that a new look-up
 * may mend (the root or collection moved, the URL now serves something
 * else, the server failed): look it up again, once. Credentials refused
 * or a response too large would fail the same way.
 */
static bool relocatable(int rc)
{
    return rc == CAIRN_ENOTFOUND || rc == CAIRN_EPARSE || rc == CAIRN_EIO;
}

static int check_local(struct cairn_store *s, const struct cairn_sync_flow *f,
                       struct cairn_sync_result *res)
{
    struct cairn_store_collection *col = NULL;
    int rc = cairn_store_collection_get(s, NULL, f->local, &col);

    cairn_store_collection_free(col);
    if (rc == CAIRN_ENOTFOUND)
        say(res, "no local collection %s ('cairn collection list' shows them)",
            f->local);
    else if (rc < 0)
        say(res, "looking up the local collection %s: %s", f->local,
            cairn_strerror(rc));
    return rc;
}

static void jfree(void *p)
{
    json_malloc_t m;
    json_free_t fr;

    json_get_alloc_funcs(&m, &fr);
    fr(p);
}

/* ---- pull
 * ----------------------------------------------------------------------
 */

/* The store's refusals (validation's went to f->cb as findings). */
static void on_stored(const struct cairn_store_result *r, bool invalid,
                      void *ud)
{
    if (!invalid && r->outcome == CAIRN_STORE_FAILED)
        reject(ud, r->id, "not-stored", "not stored: %s", r->message);
}

/*
 * Validate a page's objects and commit the valid ones in one transaction
 * (cairn_ingest_*), each stored as the bytes it came in (as `cairn
 * import` and TAXII POST store them), not serialised again. Objects the
 * fetcher found valid are not checked again.
 */
static int store_page(struct cairn_store *s, const struct cairn_sync_flow *f,
                      const struct taxii_raw_page *page,
                      const unsigned char *checked,
                      const unsigned char *sig_ok,
                      struct cairn_sync_result *res)
{
    struct cairn_ingest_opts io = {
        .collection = f->local,
        .batch = page->n > 0 ? page->n : 1,
        .validate = {.file = f->url, .cb = f->cb, .ud = f->ud},
        .on_result = on_stored,
        .result_ud = (void *)f,
        .hook = f->sign_gate != NULL ? cairn_sign_gate_hook : NULL,
        .hook_ud = f->sign_gate,
    };
    struct cairn_ingest *in = NULL;
    struct cairn_ingest_counts c;
    int rc = cairn_ingest_new(s, &io, &in);

    for (size_t i = 0; rc == 0 && i < page->n; i++) {
        char where[40];
        snprintf(where, sizeof where, "objects[%zu]", i);
        res->received++;
        if (f->sign_gate != NULL)
            f->sign_gate->prevalid = sig_ok != NULL && sig_ok[i];
        rc = cairn_ingest_add(in, page->objs[i], page->body.data + page->off[i],
                              page->len[i], where,
                              checked != NULL && checked[i]
                                  ? CAIRN_INGEST_VALIDATED
                                  : 0);
    }
    if (f->sign_gate != NULL)
        f->sign_gate->prevalid = false;
    if (rc == 0)
        rc = cairn_ingest_flush(in);
    cairn_ingest_counts(in, &c);
    cairn_ingest_free(in);
    res->stored += c.stored;
    res->existed += c.existed;
    res->rejected += c.invalid + c.failed;
    if (rc < 0)
        say(res, "storing %zu objects into %s: %s", page->n, f->local,
            cairn_strerror(rc));
    return rc;
}

/* ---- paging a peer safely
 * ---------------------------------------------------------
 */

/*
 * Where a pull starts after a page whose last date_added is `t`: just
 * before it (added_after is exclusive), so that objects sharing that time
 * but not on the page are not skipped; those already here are fetched
 * again and found present. Truncated to the microseconds sent.
 */
static struct cairn_time resume_point(const struct cairn_time *t)
{
    struct cairn_time r = *t;

    r.nsec -= r.nsec % 1000;
    r.nsec -= 1000;
    if (r.nsec < 0) {
        r.nsec += 1000000000;
        r.sec--;
    }
    r.digits = 6;
    return r;
}

static uint64_t fnv(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Hashes seen in one run (open addressing; 0 marks a free slot). */
struct seen {
    uint64_t *slot;
    size_t cap, n;
};

/* 1 when `h` was not in the set (now it is), 0 when it was, or ENOMEM. */
static int seen_add(struct seen *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *slot = cairn_calloc(cap, sizeof *slot);
        if (slot == NULL)
            return CAIRN_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (s->slot[i] == 0)
                continue;
            size_t j = (size_t)(s->slot[i] & (cap - 1));
            while (slot[j] != 0)
                j = (j + 1) & (cap - 1);
            slot[j] = s->slot[i];
        }
        cairn_free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t j = (size_t)(h & (s->cap - 1));
    while (s->slot[j] != 0) {
        if (s->slot[j] == h)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = h;
    s->n++;
    return 1;
}

static void seen_release(struct seen *s)
{
    cairn_free(s->slot);
    *s = (struct seen){0};
}

/* Objects of a page (id and version) not seen before in this run. */
static int count_new(struct seen *s, const struct taxii_raw_page *p,
                     size_t *out)
{
    *out = 0;
    for (size_t i = 0; i < p->n; i++) {
        const char *id = json_string_value(json_object_get(p->objs[i], "id"));
        const char *v =
            json_string_value(json_object_get(p->objs[i], "modified"));
        uint64_t h = 0xcbf29ce484222325ull;
        /* Without an id, the object's bytes are what it is. */
        if (id == NULL)
            h = fnv(h, p->body.data + p->off[i], p->len[i]);
        else
            h = fnv(fnv(h, id, strlen(id) + 1), v ? v : "", v ? strlen(v) : 0);
        int rc = seen_add(s, h);
        if (rc < 0)
            return rc;
        *out += (size_t)rc;
    }
    return 0;
}

/* ---- pull: fetching pages
 * ---------------------------------------------------------
 */

/*
 * The next page is fetched (and parsed) by a second thread while this one
 * validates and stores the current page: the network, the peer and the
 * parse overlap the store. Two pages at most are in memory; the fetcher
 * works out the next request, and the loop still decides alone what is
 * committed and when the state moves.
 */
/*
 * A pull is three stages over SLOTS pages, each on its own thread: the
 * fetcher brings page k+2 while the checker validates and verifies page
 * k+1 and the loop stores page k. A slot goes EMPTY -> FETCHED (the
 * fetcher's) -> READY (the checker's) -> EMPTY (the loop's), in page order.
 */
#define SLOTS 3

enum slot_state { SLOT_EMPTY, SLOT_FETCHED, SLOT_READY };

struct prefetch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cairn_taxii_client *c;
    const char *root_url, *remote;
    size_t limit;
    size_t max_pages, max_objects;
    size_t fetched_pages, fetched_objects;
    char after[40];
    char next[CAIRN_TAXII_NEXT_MAX];
    uint64_t *nexts; /* hashes of the `next` values followed */
    size_t n_nexts, nexts_cap;
    struct taxii_raw_page pages[SLOTS];
    unsigned char *checked[SLOTS]; /* per object: valid (1) or to check (0) */
    size_t checked_cap[SLOTS];
    /* A pull with a signature policy: the signatures are verified by the
     * checker too, on every processor, while the fetcher brings the next
     * page and the loop stores the previous one. */
    const struct cairn_trust *sign_trust;
    bool sign_check;
    unsigned char *sig_ok[SLOTS]; /* per object: VALID (1) or to verify (0) */
    size_t sig_ok_cap[SLOTS];
    int rc[SLOTS];
    char err[SLOTS][512];
    char stuck[SLOTS][400]; /* why the page's "more" cannot be followed */
    enum slot_state state[SLOTS];
    bool fetched_all; /* the fetcher has ended */
    bool done;        /* the checker has ended: no page will be READY */
    bool stop;        /* the loop asks them to end */
};

/*
 * Whether another page follows `p`, and the request for it. A `next` is
 * followed whenever there is one (added_after stays as the run began);
 * only without it does the request move added_after, to just before the
 * page's last date_added. When "more" cannot be followed without looping
 * or skipping objects, `stuck` says why and false is returned.
 */
static bool prefetch_more(struct prefetch *pf, const struct taxii_raw_page *p,
                          char *stuck, size_t stuck_len)
{
    stuck[0] = '\0';
    if (!p->more)
        return false;
    if (p->next[0] != '\0') {
        uint64_t h = fnv(0xcbf29ce484222325ull, p->next, strlen(p->next));
        for (size_t i = 0; i < pf->n_nexts; i++) {
            if (pf->nexts[i] == h) {
                snprintf(stuck, stuck_len,
                         "the server handed out the same next ('%.80s') "
                         "twice; refusing to loop",
                         p->next);
                return false;
            }
        }
        if (pf->n_nexts == pf->nexts_cap) {
            size_t cap = pf->nexts_cap ? pf->nexts_cap * 2 : 64;
            uint64_t *n = cairn_realloc(pf->nexts, cap * sizeof *n);
            if (n == NULL) {
                snprintf(stuck, stuck_len, "out of memory");
                return false;
            }
            pf->nexts = n;
            pf->nexts_cap = cap;
        }
        pf->nexts[pf->n_nexts++] = h;
        memcpy(pf->next, p->next, sizeof pf->next);
        return true;
    }
    if (p->has_added) {
        struct cairn_time t = resume_point(&p->added_last), prev;
        char last[40] = "";
        if (pf->after[0] != '\0' &&
            cairn_time_parse(pf->after, strlen(pf->after), false, &prev) == 0 &&
            cairn_time_cmp(&t, &prev) <= 0) {
            cairn_time_format(&p->added_last, 6, last, sizeof last);
            snprintf(stuck, stuck_len,
                     "a whole page of %zu objects was added at %s and the "
                     "server gives no next to page through them; pull "
                     "again with a larger page limit",
                     p->n + p->n_refused, last);
            return false;
        }
        if (cairn_time_format(&t, 6, pf->after, sizeof pf->after) < 0) {
            snprintf(stuck, stuck_len, "cannot format a timestamp");
            return false;
        }
        pf->next[0] = '\0';
        return true;
    }
    if (p->n + p->n_refused == 0)
        snprintf(stuck, stuck_len,
                 "an empty page says there is more; refusing to loop");
    else
        snprintf(stuck, stuck_len,
                 "the page says there is more but gives neither next nor "
                 "X-TAXII-Date-Added-Last");
    return false;
}

/*
 * Validate the slot's objects on the checker, in parallel with the fetch
 * of the next page and the store of the previous one, without reporting:
 * those found invalid (or when memory runs out) are checked again by the
 * loop, which reports their findings in order.
 */
static void precheck(struct prefetch *pf, unsigned slot)
{
    const struct taxii_raw_page *p = &pf->pages[slot];
    struct cairn_validate_opts vopts = {0};

    /* Nothing of an earlier page may pass for this one's. */
    if (pf->sig_ok[slot] != NULL)
        memset(pf->sig_ok[slot], 0, pf->sig_ok_cap[slot]);

    if (p->n > pf->checked_cap[slot]) {
        cairn_free(pf->checked[slot]);
        pf->checked_cap[slot] = 0;
        pf->checked[slot] = cairn_malloc(p->n);
        if (pf->checked[slot] == NULL)
            return;
        pf->checked_cap[slot] = p->n;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct cairn_validate_stats stats = {0};
        pf->checked[slot][i] =
            json_is_object(p->objs[i]) &&
            cairn_ingest_validate(p->objs[i], "", &vopts, &stats) == 0 &&
            stats.errors == 0;
    }
    if (!pf->sign_check)
        return;
    if (p->n > pf->sig_ok_cap[slot]) {
        cairn_free(pf->sig_ok[slot]);
        pf->sig_ok_cap[slot] = 0;
        pf->sig_ok[slot] = cairn_malloc(p->n);
        if (pf->sig_ok[slot] == NULL)
            return;
        pf->sig_ok_cap[slot] = p->n;
    }
    if (cairn_sign_verify_many(p->objs, p->n, pf->sign_trust,
                               pf->sig_ok[slot], 0) < 0)
        memset(pf->sig_ok[slot], 0, p->n);
}

static void *prefetch_run(void *arg)
{
    struct prefetch *pf = arg;

    for (unsigned k = 0;; k++) {
        unsigned slot = k % SLOTS;
        pthread_mutex_lock(&pf->mu);
        while (pf->state[slot] != SLOT_EMPTY && !pf->stop)
            pthread_cond_wait(&pf->cv, &pf->mu);
        bool stop = pf->stop;
        pthread_mutex_unlock(&pf->mu);
        if (stop)
            break;
        struct cairn_taxii_get q = {
            .added_after = pf->after[0] ? pf->after : NULL,
            .limit = pf->limit,
            .next = pf->next[0] ? pf->next : NULL,
            /* Every version, so that history is copied, not just the
             * latest state of each object. */
            .match_version = "all",
        };
        char stuck[sizeof pf->stuck[0]] = "";
        int rc = cairn__taxii_client_objects_raw(
            pf->c, pf->root_url, pf->remote, &q, CAIRN_STORE_BATCH_MAX,
            &pf->pages[slot]);
        bool more =
            rc == 0 && prefetch_more(pf, &pf->pages[slot], stuck, sizeof stuck);
        if (rc == 0) {
            /* The loop stops at the same bounds, counting the same way. */
            pf->fetched_pages++;
            pf->fetched_objects +=
                pf->pages[slot].n + pf->pages[slot].n_refused;
            if (pf->fetched_pages >= pf->max_pages ||
                pf->fetched_objects >= pf->max_objects)
                more = false;
        }
        pthread_mutex_lock(&pf->mu);
        pf->rc[slot] = rc;
        snprintf(pf->err[slot], sizeof pf->err[slot], "%s",
                 rc < 0 ? cairn_taxii_client_error(pf->c) : "");
        memcpy(pf->stuck[slot], stuck, sizeof stuck);
        pf->state[slot] = SLOT_FETCHED;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        if (!more)
            break;
    }
    pthread_mutex_lock(&pf->mu);
    pf->fetched_all = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* The checker: each fetched page validated and its signatures verified
 * (precheck), while the fetcher brings the next one. */
static void *check_run(void *arg)
{
    struct prefetch *pf = arg;

    for (unsigned k = 0;; k++) {
        unsigned slot = k % SLOTS;
        pthread_mutex_lock(&pf->mu);
        while (pf->state[slot] != SLOT_FETCHED && !pf->fetched_all &&
               !pf->stop)
            pthread_cond_wait(&pf->cv, &pf->mu);
        bool have = pf->state[slot] == SLOT_FETCHED && !pf->stop;
        pthread_mutex_unlock(&pf->mu);
        if (!have)
            break;
        if (pf->rc[slot] == 0)
            precheck(pf, slot);
        pthread_mutex_lock(&pf->mu);
        pf->state[slot] = SLOT_READY;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
    }
    pthread_mutex_lock(&pf->mu);
    pf->done = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* Count and report the elements the page's reader kept out. */
static void report_refused(const struct cairn_sync_flow *f,
                           const struct taxii_raw_page *page,
                           struct cairn_sync_result *res)
{
    for (size_t i = 0; i < page->n_refused; i++) {
        const struct taxii_refused *r = &page->refused[i];
        res->received++;
        res->rejected++;
        /* Reported as invalid objects are: stderr, or serve's log. */
        reject(f, r->id[0] ? r->id : NULL, r->rule, "%s", r->message);
    }
}

static int64_t run_deadline(const struct cairn_sync_flow *f)
{
    unsigned s = f->deadline ? f->deadline : CAIRN_SYNC_DEADLINE_DEF;
    return cairn__taxii_now_ms() + (int64_t)s * 1000;
}

/* The fetcher and the checker of a pull. */
struct stages {
    pthread_t fetcher, checker;
};

/* Start both on `pf`, its slots empty; CAIRN_ENOMEM when a thread cannot
 * be started (none is left running). */
static int stages_start(struct prefetch *pf, struct stages *t)
{
    for (unsigned i = 0; i < SLOTS; i++)
        pf->state[i] = SLOT_EMPTY;
    pf->fetched_all = pf->done = pf->stop = false;
    if (pthread_create(&t->fetcher, NULL, prefetch_run, pf) != 0)
        return CAIRN_ENOMEM;
    if (pthread_create(&t->checker, NULL, check_run, pf) != 0) {
        pthread_mutex_lock(&pf->mu);
        pf->stop = true;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        cairn__taxii_client_abort(pf->c, true);
        pthread_join(t->fetcher, NULL);
        cairn__taxii_client_abort(pf->c, false);
        return CAIRN_ENOMEM;
    }
    return 0;
}

/* End both: a fetch in flight (perhaps waiting to retry) is not needed;
 * a page being checked is finished first. */
static void stages_stop(struct prefetch *pf, struct cairn_taxii_client *c,
                        struct stages *t)
{
    pthread_mutex_lock(&pf->mu);
    pf->stop = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    cairn__taxii_client_abort(c, true);
    pthread_join(t->fetcher, NULL);
    pthread_join(t->checker, NULL);
    cairn__taxii_client_abort(c, false);
}

int cairn_sync_pull(struct cairn_taxii_client *c, struct cairn_store *s,
                    const struct cairn_sync_flow *f,
                    struct cairn_sync_result *res)
{
    struct prefetch pf = {.c = c};
    struct seen seen = {0};
    struct state st = {.lock_fd = -1};
    char remote[CAIRN_UUID_STRLEN];
    char *root_url = NULL;
    json_t *root = NULL;
    bool warned = false, started = false, have_prev = false, cached = false;
    struct cairn_time prev_last = {0};
    int64_t deadline = run_deadline(f);
    struct stages threads;
    int rc;

    memset(res, 0, sizeof *res);
    pthread_mutex_init(&pf.mu, NULL);
    pthread_cond_init(&pf.cv, NULL);
    cairn__taxii_client_deadline(c, deadline);
    if ((rc = check_local(s, f, res)) < 0 ||
        (rc = state_path(f, false, &st, res)) < 0 ||
        (rc = state_lock(&st, s, f, res)) < 0 ||
        (rc = state_load(&st, s, false, res)) < 0 ||
        (rc = locate(c, f, &st, &root_url, &root, remote, &cached, res)) < 0)
        goto out;
    if (st.has)
        memcpy(pf.after, st.added_after, sizeof pf.after);
    pf.root_url = root_url;
    pf.remote = remote;
    pf.limit = f->limit ? f->limit : LIMIT_DEF;
    pf.max_pages = f->max_pages ? f->max_pages : CAIRN_SYNC_MAX_PAGES_DEF;
    pf.max_objects =
        f->max_objects ? f->max_objects : CAIRN_SYNC_MAX_OBJECTS_DEF;
    if (f->sign_gate != NULL && f->sign_gate->policy != CAIRN_SIGN_IGNORE &&
        f->sign_gate->signer == NULL) {
        pf.sign_check = true;
        pf.sign_trust = f->sign_gate->trust;
    }
    if ((rc = stages_start(&pf, &threads)) < 0) {
        say(res, "cannot start a thread");
        goto out;
    }
    started = true;
    for (unsigned k = 0;; k++) {
        unsigned slot = k % SLOTS;
        const struct taxii_raw_page *page = &pf.pages[slot];

        pthread_mutex_lock(&pf.mu);
        while (pf.state[slot] != SLOT_READY && !pf.done)
            pthread_cond_wait(&pf.cv, &pf.mu);
        bool have = pf.state[slot] == SLOT_READY;
        pthread_mutex_unlock(&pf.mu);
        if (!have) {
            /* The fetcher stopped where this loop goes on: cannot be. */
            say(res, "%s: the page fetcher ended early", root_url);
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        if (pf.rc[slot] < 0 && k == 0 && cached &&
            relocatable(pf.rc[slot]) && cairn__taxii_now_ms() < deadline) {
            /* The remembered location failed: look it up again and start
             * over, once. */
            cairn_log(CAIRN_LOG_INFO,
                      "%s: %s; looking the collection up again", f->url,
                      pf.err[slot]);
            stages_stop(&pf, c, &threads);
            started = false;
            pf.fetched_pages = pf.fetched_objects = 0;
            pf.n_nexts = 0;
            pf.next[0] = '\0';
            pf.after[0] = '\0';
            if (st.has)
                memcpy(pf.after, st.added_after, sizeof pf.after);
            st.has_where = false;
            rc = locate(c, f, &st, &root_url, &root, remote, &cached, res);
            if (rc < 0)
                goto out;
            pf.root_url = root_url;
            if ((rc = stages_start(&pf, &threads)) < 0) {
                say(res, "cannot start a thread");
                goto out;
            }
            started = true;
            k = UINT_MAX; /* the loop's k++ makes it 0: the first page */
            continue;
        }
        if (pf.rc[slot] < 0) {
            rc = pf.rc[slot];
            say(res, "%s", pf.err[slot]);
            if (cairn__taxii_now_ms() >= deadline) {
                /* The progress up to the last page is saved. */
                res->incomplete = true;
                rc = 0;
            }
            goto out;
        }
        res->pages++;
        size_t fresh = 0;
        rc = count_new(&seen, page, &fresh);
        if (rc < 0) {
            say(res, "out of memory");
            goto out;
        }
        report_refused(f, page, res);
        rc = store_page(
            s, f, page,
            pf.checked_cap[slot] >= page->n ? pf.checked[slot] : NULL,
            pf.sign_check && pf.sig_ok_cap[slot] >= page->n ? pf.sig_ok[slot]
                                                            : NULL,
            res);
        if (rc < 0)
            goto out;
        size_t n = page->n + page->n_refused;
        bool more = page->more, has_added = page->has_added;
        bool moved =
            has_added &&
            (!have_prev || cairn_time_cmp(&page->added_last, &prev_last) > 0);
        if (has_added && (n > 0 || more)) {
            /* The page is committed: only now may the state pass it, and
             * only up to just before its last date_added. */
            struct cairn_time t = resume_point(&page->added_last), cur;
            if (!st.has ||
                cairn_time_parse(st.added_after, strlen(st.added_after), false,
                                 &cur) < 0 ||
                cairn_time_cmp(&t, &cur) > 0) {
                rc = state_save(&st, s, f, false, &t, res);
                if (rc < 0)
                    goto out;
            }
        } else if (n > 0 && !warned) {
            cairn_log(CAIRN_LOG_WARN,
                      "%s: no X-TAXII-Date-Added-Last on the page; the next "
                      "pull will fetch everything again",
                      root_url);
            warned = true;
        }
        if (more && pf.stuck[slot][0] != '\0') {
            say(res, "%s: %s", root_url, pf.stuck[slot]);
            rc = CAIRN_EPARSE;
            goto out;
        }
        if (more && k > 0 && fresh == 0 && !moved) {
            say(res,
                "%s: a page brings nothing new and its "
                "X-TAXII-Date-Added-Last does not move; refusing to loop",
                root_url);
            rc = CAIRN_EPARSE;
            goto out;
        }
        if (has_added) {
            prev_last = page->added_last;
            have_prev = true;
        }
        /* Done with the page: the fetcher may fill its slot again. */
        pthread_mutex_lock(&pf.mu);
        pf.state[slot] = SLOT_EMPTY;
        pthread_cond_broadcast(&pf.cv);
        pthread_mutex_unlock(&pf.mu);
        if (!more)
            break;
        if (res->pages >= pf.max_pages || res->received >= pf.max_objects ||
            cairn__taxii_now_ms() >= deadline) {
            res->incomplete = true;
            say(res,
                "%s: stopped after %zu pages and %zu objects (%s); the next "
                "run goes on from there",
                root_url, res->pages, res->received,
                res->pages >= pf.max_pages        ? "the most pages a run takes"
                : res->received >= pf.max_objects ? "the most objects a run "
                                                    "takes"
                                                  : "the run's deadline");
            break;
        }
    }
    /* Where the objects are, learnt by this run, for the next one. */
    rc = st.where_dirty ? state_save(&st, s, f, false, NULL, res) : 0;
out:
    if (started)
        stages_stop(&pf, c, &threads);
    cairn__taxii_client_deadline(c, 0);
    pthread_cond_destroy(&pf.cv);
    pthread_mutex_destroy(&pf.mu);
    seen_release(&seen);
    cairn_free(pf.nexts);
    for (unsigned i = 0; i < SLOTS; i++) {
        cairn__taxii_raw_page_release(&pf.pages[i]);
        cairn_free(pf.checked[i]);
        cairn_free(pf.sig_ok[i]);
    }
    json_decref(root);
    cairn_free(root_url);
    state_unlock(&st, s);
    return rc;
}

/* ---- push
 * ----------------------------------------------------------------------
 */

/* Count the status resource's outcomes and report its failures. */
static void tally_status(const struct cairn_sync_flow *f, const json_t *st,
                         struct cairn_sync_result *res)
{
    json_int_t ok = json_integer_value(json_object_get(st, "success_count"));
    json_int_t bad = json_integer_value(json_object_get(st, "failure_count"));
    json_t *failures = json_object_get(st, "failures");
    size_t i;
    json_t *e;

    res->stored += ok > 0 ? (size_t)ok : 0;
    res->rejected += bad > 0 ? (size_t)bad : 0;
    json_array_foreach(failures, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        reject(f, id, "peer-refused", "refused by the peer: %.250s",
               msg ? msg : "(no reason given)");
    }
}

/* An identity object's id is in `list` (an array of such objects). */
static bool sent_before(const json_t *list, const json_t *identity)
{
    const char *id = json_string_value(json_object_get(identity, "id"));
    size_t i;
    const json_t *e;

    json_array_foreach(list, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "id"));
        if (s != NULL && id != NULL && strcmp(s, id) == 0)
            return true;
    }
    return false;
}

/*
 * The text to send for `row`: its stored JSON, or for a sighting to a
 * peer that wants it anonymised, the anonymised object preceded by the
 * pseudonym identities this envelope has not carried yet (`sent`); they
 * are appended to `fresh` for the caller to add to `sent` once the row is
 * in the envelope. `out` is reset first; an empty `out` means the row
 * goes as stored.
 */
static int outgoing(const struct cairn_sync_flow *f,
                    const struct cairn_store_row *row, const json_t *sent,
                    json_t *fresh, struct cairn_buf *out,
                    struct cairn_sync_result *res)
{
    json_t *obj = NULL, *ids = NULL;
    char *text = NULL;
    json_error_t err;
    int rc = 0;

    cairn_buf_reset(out);
    json_array_clear(fresh);
    if (f->anonymize == CAIRN_SHARE_ANON_NO || row->type == NULL ||
        strcmp(row->type, "sighting") != 0)
        return 0;
    obj = json_loadb(row->json, row->json_len, JSON_REJECT_DUPLICATES, &err);
    ids = json_array();
    if (obj == NULL || ids == NULL) {
        say(res, "reading sighting %s to anonymise it: %s", row->id,
            obj == NULL ? err.text : "out of memory");
        rc = obj == NULL ? CAIRN_EPARSE : CAIRN_ENOMEM;
        goto out;
    }
    rc = cairn_share_anonymize(obj, f->peer ? f->peer : f->url,
                               (enum cairn_share_anon)f->anonymize, ids);
    if (rc < 0) {
        say(res, "anonymising sighting %s: %s", row->id, cairn_strerror(rc));
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e)
    {
        if (sent_before(sent, e) || sent_before(fresh, e))
            continue;
        char *t = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (t == NULL || json_array_append(fresh, e) < 0 ||
            cairn_buf_puts(out, t) < 0 || cairn_buf_putc(out, ',') < 0)
            rc = CAIRN_ENOMEM;
        jfree(t);
        if (rc < 0)
            break;
    }
    if (rc == 0) {
        text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text == NULL || cairn_buf_puts(out, text) < 0)
            rc = CAIRN_ENOMEM;
    }
    if (rc < 0)
        say(res, "anonymising sighting %s: %s", row->id, cairn_strerror(rc));
out:
    jfree(text);
    json_decref(ids);
    json_decref(obj);
    return rc;
}

int cairn_sync_push(struct cairn_taxii_client *c, struct cairn_store *s,
                    const struct cairn_sync_flow *f,
                    struct cairn_sync_result *res)
{
    struct cairn_store_page *page = NULL;
    struct cairn_buf env, anon;
    struct state st = {.lock_fd = -1};
    json_t *sent = json_array(), *fresh = json_array();
    int tlp_default = 0;
    struct cairn_time after;
    char remote[CAIRN_UUID_STRLEN];
    char *root_url = NULL;
    json_t *root = NULL, *status = NULL;
    bool located = false, cached = false;
    int64_t deadline = run_deadline(f);
    size_t max_pages = f->max_pages ? f->max_pages : CAIRN_SYNC_MAX_PAGES_DEF;
    size_t max_objects =
        f->max_objects ? f->max_objects : CAIRN_SYNC_MAX_OBJECTS_DEF;
    int rc;

    memset(res, 0, sizeof *res);
    cairn__taxii_client_deadline(c, deadline);
    cairn_buf_init(&env, 0);
    cairn_buf_init(&anon, CAIRN_STIX_MAX_OBJECT_LEN * 2);
    if (sent == NULL || fresh == NULL) {
        say(res, "out of memory");
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if ((rc = check_local(s, f, res)) < 0 ||
        (rc = cairn_store_collection_tlp_get(s, f->local, &tlp_default)) < 0 ||
        (rc = state_path(f, true, &st, res)) < 0 ||
        (rc = state_lock(&st, s, f, res)) < 0 ||
        (rc = state_load(&st, s, true, res)) < 0)
        goto out;
    size_t max_bytes = f->max_bytes ? f->max_bytes : MAX_BYTES_DEF;
    size_t limit = f->limit ? f->limit : LIMIT_DEF;
    if (limit > CAIRN_STORE_LIMIT_MAX)
        limit = CAIRN_STORE_LIMIT_MAX;
    if (st.has)
        cairn_time_parse(st.added_after, strlen(st.added_after), false, &after);

    for (;;) {
        struct cairn_store_query q = {
            .collection = f->local,
            .added_after = st.has ? &after : NULL,
            .types = (const char *const *)f->types,
            .n_types = f->n_types,
            .versions = CAIRN_STORE_VERSION_ALL,
            .limit = limit,
            .with_json = true,
        };
        rc = cairn_store_query(s, &q, &page);
        if (rc < 0) {
            say(res, "reading the local collection %s: %s", f->local,
                cairn_strerror(rc));
            goto out;
        }
        if (page->n == 0)
            break;
        if (!located) {
            /* Something to send: only now is the peer asked anything. */
            rc = locate(c, f, &st, &root_url, &root, remote, &cached, res);
            if (rc < 0)
                goto out;
            located = true;
            if (st.max_content_length > 0 &&
                (uint64_t)st.max_content_length < max_bytes)
                max_bytes = (size_t)st.max_content_length;
            cairn_buf_init(&env, max_bytes);
        }
        res->received += page->n;
        for (size_t i = 0; i < page->n;) {
            size_t j = i, in_env = 0;
            cairn_buf_reset(&env);
            json_array_clear(sent);
            rc = cairn_buf_puts(&env, ENVELOPE_HEAD);
            for (; rc == 0 && j < page->n; j++) {
                const struct cairn_store_row *row = &page->rows[j];
                /* TLP 2.0: what this peer may not receive stays here. */
                enum cairn_share_verdict why = cairn_share_decide_text(
                    row->json, row->json_len, tlp_default, f->share);
                if (why != CAIRN_SHARE_ALLOW) {
                    res->withheld++;
                    res->withheld_why[why]++;
                    continue;
                }
                rc = outgoing(f, row, sent, fresh, &anon, res);
                if (rc < 0)
                    goto out;
                const char *text = anon.len ? anon.data : row->json;
                size_t tlen = anon.len ? anon.len : row->json_len;
                size_t need = tlen + 1 + strlen(ENVELOPE_TAIL);
                if (env.len + need > max_bytes) {
                    if (in_env > 0)
                        break;
                    /* Alone it is too big: it can never be sent. */
                    res->rejected++;
                    reject(f, row->id, "too-big",
                           "%zu bytes, more than the %zu an envelope to "
                           "this peer may have",
                           row->json_len, max_bytes);
                    continue;
                }
                if ((in_env > 0 && cairn_buf_putc(&env, ',') < 0) ||
                    cairn_buf_append(&env, text, tlen) < 0 ||
                    json_array_extend(sent, fresh) < 0)
                    rc = CAIRN_ETOOBIG;
                in_env++;
            }
            if (rc == 0)
                rc = cairn_buf_puts(&env, ENVELOPE_TAIL);
            if (rc < 0) {
                say(res, "building an envelope: %s", cairn_strerror(rc));
                goto out;
            }
            if (in_env > 0) {
                rc = cairn_taxii_client_add(c, root_url, remote, env.data,
                                            env.len, &status);
                if (rc < 0 && cached && relocatable(rc) &&
                    cairn__taxii_now_ms() < deadline) {
                    /* The remembered location failed: look it up again
                     * and send the envelope once more. */
                    cairn_log(CAIRN_LOG_INFO,
                              "%s: %s; looking the collection up again",
                              f->url, cairn_taxii_client_error(c));
                    st.has_where = false;
                    rc = locate(c, f, &st, &root_url, &root, remote, &cached,
                                res);
                    if (rc < 0)
                        goto out;
                    rc = cairn_taxii_client_add(c, root_url, remote, env.data,
                                                env.len, &status);
                }
                if (rc < 0) {
                    say(res, "%s", cairn_taxii_client_error(c));
                    if (cairn__taxii_now_ms() >= deadline) {
                        /* Sent again next run, from the saved state. */
                        res->incomplete = true;
                        rc = 0;
                    }
                    goto out;
                }
                res->pages++;
                tally_status(f, status, res);
                json_decref(status);
                status = NULL;
            }
            /* Acknowledged complete: the state may move past it. */
            rc = state_save(&st, s, f, true, &page->rows[j - 1].date_added,
                            res);
            if (rc < 0)
                goto out;
            after = page->rows[j - 1].date_added;
            i = j;
            if (i < page->n || page->more) {
                const char *why = NULL;
                if (res->pages >= max_pages)
                    why = "the most envelopes a run sends";
                else if (res->received - page->n + i >= max_objects)
                    why = "the most objects a run reads";
                else if (cairn__taxii_now_ms() >= deadline)
                    why = "the run's deadline";
                if (why != NULL) {
                    res->incomplete = true;
                    say(res,
                        "%s: stopped after %zu envelopes (%s); the next run "
                        "goes on from there",
                        root_url, res->pages, why);
                    rc = 0;
                    goto out;
                }
            }
        }
        bool more = page->more;
        cairn_store_page_free(page);
        page = NULL;
        if (!more)
            break;
    }
    /* Where the objects go, learnt by this run, for the next one. */
    rc = st.where_dirty ? state_save(&st, s, f, true, NULL, res) : 0;
out:
    cairn__taxii_client_deadline(c, 0);
    json_decref(sent);
    json_decref(fresh);
    cairn_buf_release(&anon);
    json_decref(status);
    cairn_store_page_free(page);
    cairn_buf_release(&env);
    json_decref(root);
    cairn_free(root_url);
    state_unlock(&st, s);
    return rc;
}

/* ---- configured peers
 * --------------------------------------------------------
 */

static void add_result(struct cairn_sync_result *total,
                       const struct cairn_sync_result *r)
{
    if (total == NULL)
        return;
    total->pages += r->pages;
    total->received += r->received;
    total->stored += r->stored;
    total->existed += r->existed;
    total->rejected += r->rejected;
    total->withheld += r->withheld;
    total->incomplete = total->incomplete || r->incomplete;
    for (int i = 0; i < CAIRN_SHARE_VERDICTS; i++)
        total->withheld_why[i] += r->withheld_why[i];
    if (total->error[0] == '\0' && r->error[0] != '\0')
        memcpy(total->error, r->error, sizeof total->error);
}

static void log_rejected(const struct cairn_diag *d, void *ud)
{
    char line[1200];

    (void)ud;
    /* Errors, and the marks of a signature check. */
    if ((d->severity == CAIRN_SEV_ERROR || strcmp(d->rule, "signature") == 0) &&
        cairn_diag_format(d, line, sizeof line) >= 0)
        cairn_log(CAIRN_LOG_WARN, "%s", line);
}

int cairn_sync_run_peer(const struct cairn_peer *peer, struct cairn_store *s,
                        const char *data_dir,
                        const struct cairn_taxii_client_opts *base,
                        struct cairn_sync_result *total)
{
    struct cairn_taxii_client_opts o = {0};
    struct cairn_taxii_client *c = NULL;
    struct cairn_sync_result r = {0};
    char state_dir[PATH_MAX];
    char *password = NULL, *token = NULL;
    int first = 0;
    int rc;

    if (base != NULL)
        o = *base;
    o.user = peer->user;
    o.cacert = peer->cacert;
    o.cert = peer->cert;
    o.key = peer->key;
    o.password = NULL;
    o.token = NULL;
    if (peer->password_file != NULL &&
        (rc = cairn_taxii_secret_read(peer->password_file, &password)) < 0) {
        say(&r, "peer %s: password_file %s: %s", peer->name,
            peer->password_file, cairn_strerror(rc));
        goto out;
    }
    if (peer->token_file != NULL &&
        (rc = cairn_taxii_secret_read(peer->token_file, &token)) < 0) {
        say(&r, "peer %s: token_file %s: %s", peer->name, peer->token_file,
            cairn_strerror(rc));
        goto out;
    }
    o.password = password;
    if (peer->user != NULL && password == NULL)
        o.password = getenv("CAIRN_PASSWORD");
    o.token = token;
    int n = snprintf(state_dir, sizeof state_dir, "%s/peers", data_dir);
    if (n < 0 || (size_t)n >= sizeof state_dir) {
        say(&r, "%s: path too long", data_dir);
        rc = CAIRN_EINVAL;
        goto out;
    }
    rc = cairn_taxii_client_new(&o, &c);
    if (rc < 0) {
        say(&r, "peer %s: %s", peer->name, cairn_strerror(rc));
        goto out;
    }
    struct cairn_share_reader reader = {
        .identity = peer->identity,
        .member = peer->member,
        .restricted = (const char *const *)peer->restricted,
        .n_restricted = peer->n_restricted};
    for (size_t i = 0; i < peer->n_flows; i++) {
        const struct cairn_peer_flow *pf = &peer->flows[i];
        struct cairn_sync_flow f = {
            .url = peer->url,
            .remote = pf->remote,
            .local = pf->local,
            .state_dir = state_dir,
            .types = (const char *const *)pf->types,
            .n_types = pf->n_types,
            .cb = log_rejected,
            .share = &reader,
            .anonymize = peer->anonymize,
            .peer = peer->name,
            .max_pages = peer->max_pages,
            .max_objects = peer->max_objects,
            .deadline = peer->deadline,
        };
        struct cairn_sign_gate gate = {
            .policy = (enum cairn_sign_policy)pf->sign_policy,
            .trust = pf->sign_trust,
            .where = peer->url,
            .cb = log_rejected,
        };
        if (!pf->push && pf->sign_policy > 0)
            f.sign_gate = &gate;
        struct cairn_sync_result fr;
        int frc = pf->push ? cairn_sync_push(c, s, &f, &fr)
                           : cairn_sync_pull(c, s, &f, &fr);
        if (frc < 0) {
            char msg[sizeof fr.error];
            snprintf(msg, sizeof msg, "%s", fr.error);
            say(&fr, "peer %s: %s %s -> %s: %s", peer->name,
                pf->push ? "push" : "pull", pf->push ? pf->local : pf->remote,
                pf->push ? pf->remote : pf->local, msg);
            cairn_log(CAIRN_LOG_ERROR, "%s", fr.error);
            if (first == 0)
                first = frc;
        } else {
            if (fr.incomplete)
                cairn_log(CAIRN_LOG_WARN, "peer %s: %s", peer->name, fr.error);
            cairn_log(CAIRN_LOG_INFO,
                      "peer %s: %s %s -> %s: %zu %s, %zu already present, "
                      "%zu rejected, %zu withheld (TLP)",
                      peer->name, pf->push ? "push" : "pull",
                      pf->push ? pf->local : pf->remote,
                      pf->push ? pf->remote : pf->local, fr.stored,
                      pf->push ? "accepted" : "new", fr.existed, fr.rejected,
                      fr.withheld);
            /* Nothing is kept back without a word of why. */
            for (int v = 1; v < CAIRN_SHARE_VERDICTS; v++)
                if (fr.withheld_why[v] > 0)
                    cairn_log(CAIRN_LOG_INFO,
                              "peer %s: push %s -> %s: %zu withheld: %s",
                              peer->name, pf->local, pf->remote,
                              fr.withheld_why[v],
                              cairn_share_verdict_text(
                                  (enum cairn_share_verdict)v));
        }
        if (f.sign_gate != NULL) {
            size_t bad = 0;
            for (int v = 1; v <= CAIRN_SIGN_OUT_OF_DATE; v++)
                bad += gate.verdicts[v];
            cairn_log(CAIRN_LOG_INFO,
                      "peer %s: pull %s -> %s: signatures (%s): %zu valid, "
                      "%zu not (%s)",
                      peer->name, pf->remote, pf->local,
                      cairn_sign_policy_name(gate.policy),
                      gate.verdicts[CAIRN_SIGN_VALID], bad,
                      gate.policy == CAIRN_SIGN_REQUIRE ? "refused"
                                                        : "stored, marked");
        }
        add_result(&r, &fr);
    }
    rc = first;
out:
    /* Flow errors were logged as they came; this is a setup error. */
    if (rc < 0 && first == 0)
        cairn_log(CAIRN_LOG_ERROR, "%s", r.error);
    add_result(total, &r);
    cairn_taxii_client_free(c);
    if (password != NULL) {
        explicit_bzero(password, strlen(password));
        cairn_free(password);
    }
    if (token != NULL) {
        explicit_bzero(token, strlen(token));
        cairn_free(token);
    }
    return rc;
}

int cairn_sync_run_all(const struct cairn_peers *peers, struct cairn_store *s,
                       const char *data_dir,
                       const struct cairn_taxii_client_opts *base,
                       struct cairn_sync_result *total)
{
    int first = 0;

    for (size_t i = 0; i < peers->n; i++) {
        int rc =
            cairn_sync_run_peer(&peers->peers[i], s, data_dir, base, total);
        if (rc < 0 && first == 0)
            first = rc;
    }
    return first;
}
