/* SPDX-License-Identifier: Apache-2.0 */
/* The TAXII 2.1 request handler: routing, media types, rights, endpoints. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "taxii/taxii_int.h"

/* Deepest path the routes use: root/collections/id/objects/oid/versions. */
#define MAX_SEGMENTS 6

enum route {
    R_DISCOVERY,
    R_API_ROOT,
    R_STATUS,
    R_COLLECTIONS,
    R_COLLECTION,
    R_MANIFEST,
    R_OBJECTS,
    R_OBJECT,
    R_VERSIONS,
};

enum method {
    M_GET = 1,
    M_POST = 2,
    M_DELETE = 4,
    M_OTHER = 8,
};

/* What one request is about, decoded from its path. */
struct target {
    enum route route;
    char *seg[MAX_SEGMENTS]; /* decoded segments, in one allocation */
    size_t n;
    char *mem;
};

/* ---- the server object ------------------------------------------------- */

static int dup_or_null(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = cairn_strdup(s);
    return *out != NULL ? 0 : CAIRN_ENOMEM;
}

int cairn_taxii_new(const struct cairn_taxii_config *cfg,
                    struct cairn_taxii **out)
{
    static const struct cairn_taxii_config none = {0};
    int rc = CAIRN_ENOMEM;
    *out = NULL;
    if (cfg == NULL)
        cfg = &none;
    struct cairn_taxii *t = cairn_calloc(1, sizeof *t);
    if (t == NULL)
        return CAIRN_ENOMEM;
    if (RAND_bytes(t->cred_secret, sizeof t->cred_secret) != 1) {
        cairn_free(t);
        return CAIRN_ENOMEM;
    }
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        cairn_free(t);
        return CAIRN_ENOMEM;
    }
    if (pthread_cond_init(&t->verify_cv, NULL) != 0) {
        pthread_mutex_destroy(&t->lock);
        cairn_free(t);
        return CAIRN_ENOMEM;
    }
    if (dup_or_null(cfg->title ? cfg->title : "cairn", &t->title) < 0 ||
        dup_or_null(cfg->description, &t->description) < 0 ||
        dup_or_null(cfg->contact, &t->contact) < 0 ||
        dup_or_null(cfg->default_api_root, &t->default_api_root) < 0 ||
        dup_or_null(cfg->base_url ? cfg->base_url : "", &t->base_url) < 0)
        goto out;
    /* "https://host/" + "/" + name would double the slash. */
    size_t bl = strlen(t->base_url);
    while (bl > 0 && t->base_url[bl - 1] == '/')
        t->base_url[--bl] = '\0';
    t->max_content_length =
        cfg->max_content_length ? cfg->max_content_length : (size_t)100 << 20;
    t->sync_object_limit =
        cfg->sync_object_limit ? cfg->sync_object_limit : 1000;
    t->page_bytes = cfg->page_bytes ? cfg->page_bytes : TAXII_PAGE_BYTES;
    if (t->page_bytes > TAXII_PAGE_BYTES_MAX)
        t->page_bytes = TAXII_PAGE_BYTES_MAX;
    t->cred_seconds =
        cfg->credential_cache_seconds ? cfg->credential_cache_seconds : 300;
    t->signing = cfg->signing;
    t->signer = cfg->signer;
    t->score = cfg->score;
    t->verify = cairn_store_user_verify;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    t->verify_max = cores < 1                  ? 1
                    : cores > TAXII_VERIFY_MAX ? TAXII_VERIFY_MAX
                                               : (unsigned)cores;
    *out = t;
    t = NULL;
    rc = 0;
out:
    cairn_taxii_free(t);
    return rc;
}

void cairn_taxii_free(struct cairn_taxii *t)
{
    if (t == NULL)
        return;
    cairn_free(t->title);
    cairn_free(t->description);
    cairn_free(t->contact);
    cairn_free(t->default_api_root);
    cairn_free(t->base_url);
    pthread_cond_destroy(&t->verify_cv);
    pthread_mutex_destroy(&t->lock);
    OPENSSL_cleanse(t->cred_secret, sizeof t->cred_secret);
    cairn_free(t);
}

const struct cairn_sign_key *cairn_taxii_signer(const struct cairn_taxii *t)
{
    return t != NULL ? t->signer : NULL;
}

int cairn_taxii_body_allowed(const struct cairn_taxii *t,
                             int64_t content_length)
{
    if (content_length > 0 && (uint64_t)content_length > t->max_content_length)
        return CAIRN_ETOOBIG;
    return 0;
}

void cairn_taxii_response_release(struct cairn_taxii_response *resp)
{
    if (resp == NULL)
        return;
    cairn_free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    cairn_taxii_job_free(resp->job);
    resp->job = NULL;
}

/* ---- request parsing ---------------------------------------------------- */

static enum method method_of(const char *m)
{
    if (m == NULL)
        return M_OTHER;
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    if (strcmp(m, "DELETE") == 0)
        return M_DELETE;
    return M_OTHER;
}

/*
 * Split the path into decoded segments. Returns 0 (route found), 404 or
 * 400 as an HTTP status. Every TAXII URL ends in '/'; a path without it is
 * not a TAXII URL and gets 404, as the specification's URL templates say.
 */
static int parse_path(const char *path, struct target *tg)
{
    memset(tg, 0, sizeof *tg);
    size_t len = strlen(path);
    if (len < 2 || path[0] != '/' || path[len - 1] != '/')
        return 404;
    tg->mem = cairn_malloc(len + 1);
    if (tg->mem == NULL)
        return 500;
    char *o = tg->mem;
    size_t pos = 1;
    while (pos < len) {
        size_t end = pos;
        while (path[end] != '/')
            end++;
        if (end == pos || tg->n == MAX_SEGMENTS)
            return 404;
        size_t dl = 0;
        if (cairn__taxii_pct_decode(path + pos, end - pos, false, o, &dl) < 0 ||
            dl == 0)
            return 400;
        tg->seg[tg->n++] = o;
        o += dl + 1;
        pos = end + 1;
    }
    const char *a = tg->n > 1 ? tg->seg[1] : "";
    const char *c = tg->n > 3 ? tg->seg[3] : "";
    switch (tg->n) {
    case 1:
        tg->route =
            strcmp(tg->seg[0], "taxii2") == 0 ? R_DISCOVERY : R_API_ROOT;
        return 0;
    case 2:
        if (strcmp(a, "collections") != 0)
            return 404;
        tg->route = R_COLLECTIONS;
        return 0;
    case 3:
        if (strcmp(a, "status") == 0)
            tg->route = R_STATUS;
        else if (strcmp(a, "collections") == 0)
            tg->route = R_COLLECTION;
        else
            return 404;
        return 0;
    case 4:
        if (strcmp(a, "collections") != 0)
            return 404;
        if (strcmp(c, "manifest") == 0)
            tg->route = R_MANIFEST;
        else if (strcmp(c, "objects") == 0)
            tg->route = R_OBJECTS;
        else
            return 404;
        return 0;
    case 5:
        if (strcmp(a, "collections") != 0 || strcmp(c, "objects") != 0)
            return 404;
        tg->route = R_OBJECT;
        return 0;
    case 6:
        if (strcmp(a, "collections") != 0 || strcmp(c, "objects") != 0 ||
            strcmp(tg->seg[5], "versions") != 0)
            return 404;
        tg->route = R_VERSIONS;
        return 0;
    default:
        return 404;
    }
}

size_t cairn_taxii_body_limit(const struct cairn_taxii *t,
                              struct cairn_store *store, const char *path)
{
    size_t limit = t->max_content_length;
    struct target tg = {0};
    struct cairn_store_api_root *root = NULL;
    if (path != NULL && store != NULL && parse_path(path, &tg) == 0 &&
        tg.route != R_DISCOVERY &&
        cairn_store_api_root_get(store, tg.seg[0], &root) == 0 &&
        root->max_content_length > 0 &&
        (uint64_t)root->max_content_length < limit)
        limit = (size_t)root->max_content_length;
    cairn_store_api_root_free(root);
    cairn_free(tg.mem);
    return limit;
}

static unsigned allowed_methods(enum route r)
{
    switch (r) {
    case R_OBJECTS:
        return M_GET | M_POST;
    case R_OBJECT:
        return M_GET | M_DELETE;
    default:
        return M_GET;
    }
}

static const char *allow_text(unsigned m)
{
    if (m == (M_GET | M_POST))
        return "GET, POST";
    if (m == (M_GET | M_DELETE))
        return "GET, DELETE";
    return "GET";
}

/* Trim spaces and tabs from both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool token_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/*
 * One media type or range with its parameters, [s, e). `kind` gets 1 for
 * a TAXII or STIX type whose version (if any) is 2.1, 2 for a wildcard, 0
 * otherwise; `q_zero` whether the client said q=0 (not acceptable).
 */
static int media_kind(const char *s, const char *e, bool *q_zero)
{
    const char *semi = s;
    while (semi < e && *semi != ';')
        semi++;
    const char *ts = s, *te = semi;
    trim(&ts, &te);
    int kind = 0;
    bool taxii_or_stix = false;
    if (token_is(ts, te, "application/taxii+json") ||
        token_is(ts, te, "application/stix+json")) {
        kind = 1;
        taxii_or_stix = true;
    } else if (token_is(ts, te, "*/*") || token_is(ts, te, "application/*")) {
        kind = 2;
    }
    *q_zero = false;
    const char *p = semi;
    while (p < e) {
        p++; /* past ';' */
        const char *pe = p;
        while (pe < e && *pe != ';')
            pe++;
        const char *eq = p;
        while (eq < pe && *eq != '=')
            eq++;
        const char *ks = p, *ke = eq;
        trim(&ks, &ke);
        const char *vs = eq < pe ? eq + 1 : pe, *ve = pe;
        trim(&vs, &ve);
        if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"')
            vs++, ve--;
        if (token_is(ks, ke, "version") && taxii_or_stix &&
            !token_is(vs, ve, "2.1"))
            kind = 0;
        if (token_is(ks, ke, "q")) {
            bool zero = vs < ve && *vs == '0';
            for (const char *z = vs + 1; zero && z < ve; z++)
                if (*z != '.' && *z != '0')
                    zero = false;
            *q_zero = zero;
        }
        p = pe;
    }
    return kind;
}

/*
 * Whether the client takes TAXII 2.1 JSON. No Accept header means any
 * type (RFC 9110), and so do wildcards.
 */
static bool accept_ok(const char *accept)
{
    if (accept == NULL)
        return true;
    const char *s = accept;
    bool empty = true;
    while (*s != '\0') {
        const char *e = s;
        while (*e != '\0' && *e != ',')
            e++;
        const char *ts = s, *te = e;
        trim(&ts, &te);
        if (te > ts) {
            empty = false;
            bool q_zero;
            if (media_kind(ts, te, &q_zero) != 0 && !q_zero)
                return true;
        }
        s = *e == ',' ? e + 1 : e;
    }
    return empty;
}

static bool content_type_ok(const char *ct)
{
    if (ct == NULL)
        return false;
    const char *e = ct + strlen(ct);
    bool q_zero;
    return media_kind(ct, e, &q_zero) == 1;
}

/* ---- output helpers -------------------------------------------------------
 */

static int put_str(struct cairn_buf *b, const char *s)
{
    return cairn__taxii_json_str(b, s, strlen(s));
}

/* `,"key":"value"` (or without the comma when `first`). */
static int put_member(struct cairn_buf *b, bool first, const char *key,
                      const char *value)
{
    int rc;
    if (!first && (rc = cairn_buf_putc(b, ',')) < 0)
        return rc;
    if ((rc = put_str(b, key)) < 0 || (rc = cairn_buf_putc(b, ':')) < 0)
        return rc;
    return put_str(b, value);
}

static int put_time(struct cairn_buf *b, const struct cairn_time *t)
{
    char ts[40];
    int n = cairn_time_format(t, 6, ts, sizeof ts);
    if (n < 0)
        return n;
    return put_str(b, ts);
}

/* "<base>/<name>/" with the name percent-encoded where needed. */
static int put_root_url(struct cairn_buf *b, const struct cairn_taxii *t,
                        const char *name)
{
    struct cairn_buf u;
    cairn_buf_init(&u, 8192);
    int rc = cairn_buf_puts(&u, t->base_url);
    if (rc == 0)
        rc = cairn_buf_putc(&u, '/');
    for (const unsigned char *p = (const unsigned char *)name;
         rc == 0 && *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                     *p == '.' || *p == '~';
        rc = plain ? cairn_buf_putc(&u, (char)*p)
                   : cairn_buf_printf(&u, "%%%02X", *p);
    }
    if (rc == 0)
        rc = cairn_buf_putc(&u, '/');
    if (rc == 0)
        rc = cairn__taxii_json_str(b, u.data, u.len);
    cairn_buf_release(&u);
    return rc;
}

/* ---- per-request context --------------------------------------------------
 */

struct ctx {
    struct cairn_taxii *t;
    struct cairn_store *s;
    const struct cairn_taxii_request *req;
    struct cairn_taxii_response *resp;
    struct target tg;
    const char *user;
    struct cairn_store_api_root *root;
    struct cairn_store_collection *coll;
    unsigned rights;
};

/* A store failure the client cannot fix. */
static int store_error(struct ctx *c, int rc)
{
    if (rc == CAIRN_ENOMEM)
        return rc;
    cairn_log(CAIRN_LOG_ERROR, "taxii: store: %s", cairn_strerror(rc));
    return cairn__taxii_store_error(c->resp, rc);
}

static int not_found(struct ctx *c, const char *what)
{
    return cairn__taxii_error(c->resp, 404, "%s", what);
}

/* Load the API root named by the first segment; 0 or an answered error. */
static int load_root(struct ctx *c, bool *answered)
{
    *answered = false;
    int rc = cairn_store_api_root_get(c->s, c->tg.seg[0], &c->root);
    if (rc == CAIRN_ENOTFOUND) {
        *answered = true;
        return not_found(c, "there is no such API root");
    }
    if (rc < 0) {
        *answered = true;
        return store_error(c, rc);
    }
    return 0;
}

/* The limit on bodies for this root: the server's or the root's, lower. */
static size_t root_max(const struct ctx *c)
{
    size_t m = c->t->max_content_length;
    if (c->root != NULL && c->root->max_content_length > 0 &&
        (uint64_t)c->root->max_content_length < m)
        m = (size_t)c->root->max_content_length;
    return m;
}

/*
 * Load the collection of segment 2 in the root and the user's rights on
 * it. A collection the user can neither read nor write does not exist for
 * them: 404, so that its existence does not leak.
 */
static int load_collection(struct ctx *c, bool *answered)
{
    int rc = load_root(c, answered);
    if (rc < 0 || *answered)
        return rc;
    *answered = true;
    rc = cairn_store_collection_resolve(c->s, c->root->name, c->tg.seg[2],
                                        &c->coll);
    if (rc == CAIRN_ENOTFOUND)
        return not_found(c, "there is no such collection");
    if (rc < 0)
        return store_error(c, rc);
    rc = cairn_store_rights(c->s, c->user, c->coll->id, &c->rights);
    if (rc < 0)
        return store_error(c, rc);
    if ((c->rights & (CAIRN_STORE_READ | CAIRN_STORE_WRITE)) == 0)
        return not_found(c, "there is no such collection");
    *answered = false;
    return 0;
}

static int need_read(struct ctx *c, bool *answered)
{
    *answered = (c->rights & CAIRN_STORE_READ) == 0;
    if (*answered)
        return cairn__taxii_error(c->resp, 403,
                                  "you may not read this collection");
    return 0;
}

/* ---- endpoints ------------------------------------------------------------
 */

static int discovery(struct ctx *c)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n = 0;
    int rc = cairn_store_api_root_list(c->s, &roots, &n);
    if (rc < 0)
        return store_error(c, rc);
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = cairn_buf_putc(&b, '{');
    if (rc == 0)
        rc = put_member(&b, true, "title", c->t->title);
    if (rc == 0 && c->t->description != NULL)
        rc = put_member(&b, false, "description", c->t->description);
    if (rc == 0 && c->t->contact != NULL)
        rc = put_member(&b, false, "contact", c->t->contact);
    if (rc == 0 && c->t->default_api_root != NULL) {
        rc = cairn_buf_puts(&b, ",\"default\":");
        if (rc == 0)
            rc = put_root_url(&b, c->t, c->t->default_api_root);
    }
    if (rc == 0 && n > 0) {
        rc = cairn_buf_puts(&b, ",\"api_roots\":[");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (i > 0)
                rc = cairn_buf_putc(&b, ',');
            if (rc == 0)
                rc = put_root_url(&b, c->t, roots[i].name);
        }
        if (rc == 0)
            rc = cairn_buf_putc(&b, ']');
    }
    if (rc == 0)
        rc = cairn_buf_putc(&b, '}');
    cairn_store_api_root_list_free(roots, n);
    if (rc < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(c->resp, 200, &b);
    return 0;
}

static int api_root(struct ctx *c)
{
    bool answered;
    int rc = load_root(c, &answered);
    if (rc < 0 || answered)
        return rc;
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = cairn_buf_putc(&b, '{');
    if (rc == 0)
        rc = put_member(&b, true, "title",
                        c->root->title ? c->root->title : c->root->name);
    if (rc == 0 && c->root->description != NULL)
        rc = put_member(&b, false, "description", c->root->description);
    if (rc == 0)
        rc = cairn_buf_printf(&b,
                              ",\"versions\":[\"%s\"],"
                              "\"max_content_length\":%zu}",
                              CAIRN_TAXII_MEDIA, root_max(c));
    if (rc < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(c->resp, 200, &b);
    return 0;
}

static int collection_json(struct cairn_buf *b,
                           const struct cairn_store_collection *coll,
                           unsigned rights)
{
    int rc = cairn_buf_putc(b, '{');
    if (rc == 0)
        rc = put_member(b, true, "id", coll->id);
    if (rc == 0)
        rc = put_member(b, false, "title", coll->title ? coll->title : "");
    if (rc == 0 && coll->description != NULL)
        rc = put_member(b, false, "description", coll->description);
    if (rc == 0 && coll->alias != NULL)
        rc = put_member(b, false, "alias", coll->alias);
    if (rc == 0)
        rc = cairn_buf_printf(
            b, ",\"can_read\":%s,\"can_write\":%s,\"media_types\":[",
            rights & CAIRN_STORE_READ ? "true" : "false",
            rights & CAIRN_STORE_WRITE ? "true" : "false");
    bool any = false;
    for (size_t i = 0; rc == 0 && i < CAIRN_STORE_MEDIA_TYPES_MAX &&
                       coll->media_types[i] != NULL;
         i++) {
        if (i > 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = put_str(b, coll->media_types[i]);
        any = true;
    }
    if (rc == 0 && !any)
        rc = put_str(b, CAIRN_STIX_MEDIA);
    if (rc == 0)
        rc = cairn_buf_puts(b, "]}");
    return rc;
}

static int collections(struct ctx *c)
{
    bool answered;
    int rc = load_root(c, &answered);
    if (rc < 0 || answered)
        return rc;
    struct cairn_store_collection *list = NULL;
    size_t n = 0;
    rc = cairn_store_collection_list(c->s, c->root->name, &list, &n);
    if (rc < 0)
        return store_error(c, rc);
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = cairn_buf_putc(&b, '{');
    size_t shown = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned rights = 0;
        int r2 = cairn_store_rights(c->s, c->user, list[i].id, &rights);
        if (r2 < 0) {
            cairn_buf_release(&b);
            cairn_store_collection_list_free(list, n);
            return store_error(c, r2);
        }
        /* What the user may read or write is listed (TAXII 2.1 5.1: the
         * collections the requester has access to), so that a write-only
         * drop box is found with can_read false (docs/taxii.md). */
        if ((rights & (CAIRN_STORE_READ | CAIRN_STORE_WRITE)) == 0)
            continue;
        rc = cairn_buf_puts(&b, shown == 0 ? "\"collections\":[" : ",");
        if (rc == 0)
            rc = collection_json(&b, &list[i], rights);
        shown++;
    }
    if (rc == 0 && shown > 0)
        rc = cairn_buf_putc(&b, ']');
    if (rc == 0)
        rc = cairn_buf_putc(&b, '}');
    cairn_store_collection_list_free(list, n);
    if (rc < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(c->resp, 200, &b);
    return 0;
}

static int collection(struct ctx *c)
{
    bool answered;
    int rc = load_collection(c, &answered);
    if (rc < 0 || answered)
        return rc;
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = collection_json(&b, c->coll, c->rights);
    if (rc < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(c->resp, 200, &b);
    return 0;
}

static int status(struct ctx *c)
{
    bool answered;
    int rc = load_root(c, &answered);
    if (rc < 0 || answered)
        return rc;
    struct cairn_store_status *st = NULL;
    struct cairn_store_collection *coll = NULL;
    rc = cairn_store_status_get(c->s, c->tg.seg[2], &st);
    if (rc == CAIRN_ENOTFOUND || rc == CAIRN_EINVAL) {
        rc = not_found(c, "there is no such status resource");
        goto out;
    }
    if (rc < 0) {
        rc = store_error(c, rc);
        goto out;
    }
    /* Visible to whoever made the request, and to the collection's readers,
     * and only under the API root of its collection. */
    rc = cairn_store_collection_get(c->s, c->root->name, st->collection, &coll);
    unsigned rights = 0;
    if (rc == 0)
        rc = cairn_store_rights(c->s, c->user, st->collection, &rights);
    if (rc == CAIRN_ENOTFOUND ||
        (rc == 0 && (st->user == NULL || strcmp(st->user, c->user) != 0) &&
         (rights & CAIRN_STORE_READ) == 0)) {
        rc = not_found(c, "there is no such status resource");
        goto out;
    }
    if (rc == 0)
        rc = cairn__taxii_status_view(c->s, st, c->user, c->t->page_bytes);
    if (rc < 0) {
        rc = store_error(c, rc);
        goto out;
    }
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = cairn__taxii_status_json(&b, st);
    if (rc < 0) {
        cairn_buf_release(&b);
        goto out;
    }
    cairn__taxii_body(c->resp, 200, &b);
out:
    cairn_store_collection_free(coll);
    cairn_store_status_free(st);
    return rc;
}

/* Parse the query string; 0, or an answered 400. */
static int load_filter(struct ctx *c, struct cairn__taxii_filter *f,
                       bool *answered)
{
    char err[256];
    const char *q = c->req->query;
    *answered = false;
    int rc = cairn__taxii_query_parse(q, q ? strlen(q) : 0, f, err, sizeof err);
    if (rc == CAIRN_ENOMEM)
        return rc;
    if (rc < 0) {
        *answered = true;
        return cairn__taxii_error(c->resp, 400, "%s", err);
    }
    return 0;
}

/* The store query for the object endpoints, from the filters that apply. */
static void make_query(const struct ctx *c, const struct cairn__taxii_filter *f,
                       const char *const *object_id,
                       struct cairn_store_query *q)
{
    memset(q, 0, sizeof *q);
    q->collection = c->coll->id;
    q->added_after = f->has_added_after ? &f->added_after : NULL;
    q->spec_versions = f->spec_versions;
    q->n_spec_versions = f->n_spec_versions;
    q->limit = f->limit ? f->limit : TAXII_LIMIT_DEFAULT;
    q->next = f->next;
    q->versions = f->versions;
    q->version_times = f->version_times;
    q->n_version_times = f->n_version_times;
    if (object_id != NULL) {
        q->ids = object_id;
        q->n_ids = 1;
    } else {
        q->ids = f->ids;
        q->n_ids = f->n_ids;
        q->types = f->types;
        q->n_types = f->n_types;
    }
}

/* Answer a store query error: filters and cursors are the client's. */
static int query_error(struct ctx *c, int rc)
{
    if (rc == CAIRN_EINVAL)
        return cairn__taxii_error(c->resp, 400,
                                  "next is not a value this server handed "
                                  "out for these filters");
    if (rc == CAIRN_ETOOBIG)
        return cairn__taxii_error(c->resp, 400,
                                  "a filter has more than %d values",
                                  CAIRN_STORE_FILTER_MAX);
    if (rc == CAIRN_ENOTFOUND)
        return not_found(c, "there is no such collection");
    return store_error(c, rc);
}

/*
 * One answer of an object endpoint, gathered from one or more store pages:
 * the rows the reader may see, written as they come, and where the last
 * page examined ended (its more, next and date_added range), so that a
 * page thinned by the sharing rules still pages correctly.
 */
struct gathered {
    /* The response body being written: the list's opening and its
     * elements, comma-separated; more and next are added at the end, so
     * the page is not copied again (objects are the bulk of it). */
    struct cairn_buf items;
    size_t n;               /* rows in it */
    size_t examined;        /* rows read from the store */
    bool more;
    char next[CAIRN_STORE_CURSOR_LEN];
    bool has_first;
    struct cairn_time first; /* date_added of the first row shown */
    struct cairn_time last;  /* date_added of the last row examined */
};

/* Most rows one request reads from the store while hiding rows. */
#define SCAN_MAX ((size_t)100000)

static int item_json(struct cairn_buf *b, enum route r,
                     const struct cairn_store_row *row)
{
    int rc;
    if (r == R_VERSIONS)
        return put_str(b, row->version ? row->version : "");
    if (r != R_MANIFEST)
        return cairn_buf_append(b, row->json, row->json_len);
    rc = cairn_buf_puts(b, "{\"id\":");
    if (rc == 0)
        rc = put_str(b, row->id);
    if (rc == 0)
        rc = cairn_buf_puts(b, ",\"date_added\":");
    if (rc == 0)
        rc = put_time(b, &row->date_added);
    if (rc == 0)
        rc = cairn_buf_puts(b, ",\"version\":");
    if (rc == 0)
        rc = put_str(b, row->version ? row->version : "");
    if (rc == 0)
        rc = cairn_buf_printf(
            b, ",\"media_type\":\"application/stix+json;version=%s\"}",
            row->spec_version && strcmp(row->spec_version, "2.0") == 0 ? "2.0"
                                                                       : "2.1");
    return rc;
}

/* Add the rows of `p` that `reader` may see to `g`. */
static int gather(struct gathered *g, enum route r,
                  const struct cairn_store_page *p, int tlp_default,
                  const struct cairn_share_reader *reader)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        const struct cairn_store_row *row = &p->rows[i];
        g->examined++;
        g->last = row->date_added;
        if (row->json == NULL || row->json_len == 0 ||
            !cairn_share_allowed_text(row->json, row->json_len, tlp_default,
                                      reader))
            continue;
        if (g->n > 0)
            rc = cairn_buf_putc(&g->items, ',');
        else
            rc = cairn_buf_puts(&g->items, r == R_VERSIONS ? "{\"versions\":["
                                                           : "{\"objects\":[");
        if (rc == 0)
            rc = item_json(&g->items, r, row);
        if (!g->has_first) {
            g->first = row->date_added;
            g->has_first = true;
        }
        g->n++;
    }
    g->more = p->more;
    memcpy(g->next, p->next, sizeof g->next);
    return rc;
}

/* Close the body `g` holds: the list (if any), more and next. */
static int gathered_json(struct gathered *g)
{
    struct cairn_buf *b = &g->items;
    int rc = g->n > 0 ? cairn_buf_puts(b, "],") : cairn_buf_putc(b, '{');
    if (rc == 0)
        rc = cairn_buf_printf(b, "\"more\":%s", g->more ? "true" : "false");
    if (rc == 0 && g->more && g->next[0] != '\0') {
        rc = cairn_buf_puts(b, ",\"next\":");
        if (rc == 0)
            rc = put_str(b, g->next);
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, '}');
    return rc;
}

/*
 * X-TAXII-Date-Added-First is the first row shown; -Last the last row
 * examined, hidden or not, so that a client paging with added_after moves
 * past rows it may not see (and past a page they emptied).
 */
static void gathered_headers(struct cairn_taxii_response *resp,
                             const struct gathered *g)
{
    char ts[40];
    if (g->examined == 0)
        return;
    if (cairn_time_format(g->has_first ? &g->first : &g->last, 6, ts,
                          sizeof ts) > 0)
        cairn__taxii_header(resp, "X-TAXII-Date-Added-First", ts);
    if (cairn_time_format(&g->last, 6, ts, sizeof ts) > 0)
        cairn__taxii_header(resp, "X-TAXII-Date-Added-Last", ts);
}

/* The reader's sharing attributes and the collection's default level. */
static int load_sharing(struct ctx *c, struct cairn_store_user_share *sh,
                        int *tlp_default)
{
    int rc = cairn_store_user_share_get(c->s, c->user, sh);
    /* A token's user removed since: it shares nothing. */
    if (rc == CAIRN_ENOTFOUND) {
        memset(sh, 0, sizeof *sh);
        rc = 0;
    }
    if (rc == 0)
        rc = cairn_store_collection_tlp_get(c->s, c->coll->id, tlp_default);
    return rc;
}

/*
 * GET objects, manifest, object and versions. Rows the sharing rules hide
 * from the reader are left out; the store is asked for more until the
 * page has `limit` rows, the collection ends, SCAN_MAX rows were read, or
 * the page holds the server's page_bytes. Each store read is bounded by
 * the budget left (and one row), so no request holds more than about the
 * budget and one object, however large the stored objects are; a page
 * always has room for one object, so paging goes through any of them.
 */
static int get_page(struct ctx *c)
{
    bool answered;
    struct cairn__taxii_filter f = {0};
    struct cairn_store_page *page = NULL;
    struct gathered g = {0};
    struct cairn_store_user_share sh;
    int tlp_default = 0;
    cairn_buf_init(&g.items, TAXII_BODY_MAX);
    int rc = load_collection(c, &answered);
    if (rc < 0 || answered)
        goto out;
    if ((rc = need_read(c, &answered)) < 0 || answered)
        goto out;
    if ((rc = load_filter(c, &f, &answered)) < 0 || answered)
        goto out;
    if ((rc = load_sharing(c, &sh, &tlp_default)) < 0) {
        rc = store_error(c, rc);
        goto out;
    }
    struct cairn_share_reader reader = {.identity = sh.identity,
                                        .member = sh.member};
    enum route r = c->tg.route;
    const char *oid[1] = {r == R_OBJECT || r == R_VERSIONS ? c->tg.seg[4]
                                                           : NULL};
    struct cairn_store_query q;
    make_query(c, &f, oid[0] ? oid : NULL, &q);
    if (r == R_VERSIONS) {
        /* The versions endpoint lists every version. */
        q.versions = CAIRN_STORE_VERSION_ALL;
        q.version_times = NULL;
        q.n_version_times = 0;
    }
    /* The sharing rules read every row's markings. */
    q.with_json = true;
    size_t limit = q.limit > TAXII_LIMIT_MAX ? TAXII_LIMIT_MAX : q.limit;
    size_t budget = c->t->page_bytes;
    char cursor[CAIRN_STORE_CURSOR_LEN];
    for (;;) {
        q.limit = limit - g.n;
        q.max_bytes = g.items.len < budget ? budget - g.items.len : 1;
        rc = cairn_store_query(c->s, &q, &page);
        if (rc < 0) {
            rc = query_error(c, rc);
            goto out;
        }
        /* The store gives a read its first row whatever its size; past
         * the page's own first rows, one that does not fit waits for the
         * next page, which starts before it. */
        if (g.n > 0 && page->n > 0 && page->rows[0].json_len > q.max_bytes) {
            g.more = true;
            memcpy(g.next, cursor, sizeof g.next);
            break;
        }
        rc = gather(&g, r, page, tlp_default, &reader);
        if (rc < 0)
            break;
        cairn_store_page_free(page);
        page = NULL;
        if (!g.more || g.n >= limit || g.examined >= SCAN_MAX ||
            g.items.len >= budget)
            break;
        memcpy(cursor, g.next, sizeof cursor);
        q.next = cursor;
    }
    if (rc == 0 && (r == R_OBJECT || r == R_VERSIONS) && g.n == 0 &&
        f.next == NULL) {
        rc = not_found(c, "there is no such object, or no version of it "
                          "matches the filters");
        goto out;
    }
    if (rc == 0)
        rc = gathered_json(&g);
    if (rc == CAIRN_ETOOBIG) {
        rc = cairn__taxii_error(c->resp, 500,
                                "the page is larger than %zu bytes; ask "
                                "for a smaller limit",
                                (size_t)TAXII_BODY_MAX);
        goto out;
    }
    if (rc < 0)
        goto out;
    cairn__taxii_body(c->resp, 200, &g.items);
    gathered_headers(c->resp, &g);
out:
    cairn_buf_release(&g.items);
    cairn_store_page_free(page);
    cairn__taxii_filter_free(&f);
    return rc;
}

/* Delete the versions of `oid` at `times` (n of them); adds to *deleted. */
static int delete_versions(struct ctx *c, const char *const *oid,
                           const struct cairn_time *times, size_t n,
                           size_t *deleted)
{
    struct cairn_store_query q = {.collection = c->coll->id,
                                  .ids = oid,
                                  .n_ids = 1,
                                  .version_times = times,
                                  .n_version_times = n};
    size_t d = 0;
    int rc = cairn_store_delete(c->s, &q, &d);
    *deleted += d;
    return rc;
}

/*
 * DELETE an object: needs both rights, since deleting is a change made
 * with knowledge of what is there; a writer who cannot read gets 403.
 * Only the versions the sharing rules let the user see are deleted, each
 * by its version; when it may see none of them the answer is the 404 of
 * an object that is not there, so that DELETE does not tell hidden
 * objects apart from absent ones.
 */
static int delete_object(struct ctx *c)
{
    bool answered;
    struct cairn__taxii_filter f = {0};
    struct cairn_store_page *page = NULL;
    struct cairn_store_user_share sh;
    int tlp_default = 0;
    int rc = load_collection(c, &answered);
    if (rc < 0 || answered)
        goto out;
    if ((c->rights & (CAIRN_STORE_READ | CAIRN_STORE_WRITE)) !=
        (CAIRN_STORE_READ | CAIRN_STORE_WRITE)) {
        rc = cairn__taxii_error(c->resp, 403,
                                "deleting needs both read and write "
                                "rights on the collection");
        goto out;
    }
    if ((rc = load_filter(c, &f, &answered)) < 0 || answered)
        goto out;
    if ((rc = load_sharing(c, &sh, &tlp_default)) < 0) {
        rc = store_error(c, rc);
        goto out;
    }
    struct cairn_share_reader reader = {.identity = sh.identity,
                                        .member = sh.member};
    const char *oid[1] = {c->tg.seg[4]};
    struct cairn_store_query q;
    make_query(c, &f, oid, &q);
    q.added_after = NULL;
    q.next = NULL;
    q.limit = CAIRN_STORE_LIMIT_MAX;
    q.with_json = true;
    q.max_bytes = c->t->page_bytes;
    /* Without match[version], DELETE removes every version (spec 5.7). */
    if (f.versions == 0 && f.n_version_times == 0)
        q.versions = CAIRN_STORE_VERSION_ALL;
    struct cairn_time times[CAIRN_STORE_FILTER_MAX];
    size_t n_times = 0, deleted = 0, examined = 0;
    bool hidden = false, unversioned = false;
    char cursor[CAIRN_STORE_CURSOR_LEN];
    for (;;) {
        rc = cairn_store_query(c->s, &q, &page);
        if (rc < 0) {
            rc = query_error(c, rc);
            goto out;
        }
        for (size_t i = 0; rc == 0 && i < page->n; i++) {
            const struct cairn_store_row *row = &page->rows[i];
            examined++;
            if (row->json == NULL ||
                !cairn_share_allowed_text(row->json, row->json_len, tlp_default,
                                          &reader)) {
                hidden = true;
                continue;
            }
            if (row->modified == NULL && row->created == NULL) {
                unversioned = true; /* its one version has no time */
                continue;
            }
            if (cairn_time_parse(row->version, strlen(row->version), true,
                                 &times[n_times]) < 0)
                continue; /* not stored this way: cannot be selected */
            if (++n_times == CAIRN_STORE_FILTER_MAX) {
                rc = delete_versions(c, oid, times, n_times, &deleted);
                n_times = 0;
            }
        }
        bool more = page->more;
        memcpy(cursor, page->next, sizeof cursor);
        cairn_store_page_free(page);
        page = NULL;
        if (rc < 0 || !more || examined >= SCAN_MAX)
            break;
        q.next = cursor;
    }
    if (rc == 0 && n_times > 0)
        rc = delete_versions(c, oid, times, n_times, &deleted);
    /* An object without created and modified (an SCO) has one version,
     * selected by the request's own filters. */
    if (rc == 0 && unversioned && !hidden) {
        size_t d = 0;
        q.next = NULL;
        rc = cairn_store_delete(c->s, &q, &d);
        deleted += d;
    }
    if (rc < 0) {
        rc = query_error(c, rc);
        goto out;
    }
    if (deleted == 0) {
        rc = not_found(c, "there is no such object, or no version of it "
                          "matches the filters");
        goto out;
    }
    c->resp->status = 200;
    c->resp->content_type = NULL;
    rc = 0;
out:
    cairn_store_page_free(page);
    cairn__taxii_filter_free(&f);
    return rc;
}

static int post_objects(struct ctx *c)
{
    bool answered;
    int rc = load_collection(c, &answered);
    if (rc < 0 || answered)
        return rc;
    if ((c->rights & CAIRN_STORE_WRITE) == 0)
        return cairn__taxii_error(c->resp, 403,
                                  "you may not write to this collection");
    if (!content_type_ok(c->req->content_type))
        return cairn__taxii_error(c->resp, 415,
                                  "POST bodies must be %s (or %s)",
                                  CAIRN_TAXII_MEDIA, CAIRN_STIX_MEDIA);
    size_t max = root_max(c);
    if (c->req->body_len > max ||
        (c->req->content_length > 0 && (uint64_t)c->req->content_length > max))
        return cairn__taxii_error(c->resp, 413,
                                  "the body is larger than the API root's "
                                  "max_content_length of %zu bytes",
                                  max);
    return cairn__taxii_post(c->t, c->s, c->coll->id, c->user, c->req, c->resp);
}

static int dispatch(struct ctx *c, enum method m)
{
    switch (c->tg.route) {
    case R_DISCOVERY:
        return discovery(c);
    case R_API_ROOT:
        return api_root(c);
    case R_STATUS:
        return status(c);
    case R_COLLECTIONS:
        return collections(c);
    case R_COLLECTION:
        return collection(c);
    case R_OBJECTS:
        return m == M_POST ? post_objects(c) : get_page(c);
    case R_OBJECT:
        return m == M_DELETE ? delete_object(c) : get_page(c);
    case R_MANIFEST:
    case R_VERSIONS:
        return get_page(c);
    }
    return CAIRN_EINTERNAL;
}

/*
 * cairn's own endpoints, /ROOT/cairn/WHAT with or without a final '/'
 * (docs/analysis.md): true when `path` is one, answered, with *rc set.
 */
static bool cairn_path(struct ctx *c, const char *path, int *rc)
{
    static const char mid[] = "/cairn/";
    if (path[0] != '/')
        return false;
    const char *slash = strchr(path + 1, '/');
    if (slash == NULL || slash == path + 1 ||
        strncmp(slash, mid, sizeof mid - 1) != 0)
        return false;
    const char *what = slash + sizeof mid - 1;
    size_t wl = strcspn(what, "/");
    if (wl == 0 || wl > 32 || (what[wl] != '\0' && strcmp(what + wl, "/")))
        return false;
    char root[256], name[33];
    size_t rl = (size_t)(slash - path - 1);
    if (rl >= sizeof root)
        return false;
    memcpy(root, path + 1, rl);
    root[rl] = '\0';
    memcpy(name, what, wl);
    name[wl] = '\0';
    if (method_of(c->req->method) != M_GET) {
        cairn__taxii_header(c->resp, "Allow", "GET");
        *rc = cairn__taxii_error(c->resp, 405, "only GET is allowed here");
        return true;
    }
    c->tg.seg[0] = root;
    bool answered;
    *rc = load_root(c, &answered);
    c->tg.seg[0] = NULL;
    if (*rc < 0 || answered)
        return true;
    *rc = cairn__taxii_analysis(c->s, c->user, root, name, c->req->query,
                                c->t->score, c->resp);
    return true;
}

int cairn_taxii_handle(struct cairn_taxii *t, struct cairn_store *store,
                       const struct cairn_taxii_request *req,
                       struct cairn_taxii_response *resp)
{
    memset(resp, 0, sizeof *resp);
    struct ctx c = {.t = t, .s = store, .req = req, .resp = resp};
    int rc;
    const char *path = req->path ? req->path : "";
    if (strnlen(path, TAXII_PATH_MAX + 1) > TAXII_PATH_MAX ||
        (req->query != NULL &&
         strnlen(req->query, TAXII_QUERY_MAX + 1) > TAXII_QUERY_MAX)) {
        rc = cairn__taxii_error(resp, 414,
                                "the path or query string is too long");
        goto out;
    }

    char user[CAIRN_STORE_NAME_MAX + 1];
    if (req->user != NULL) /* authenticated by the caller */
        rc = snprintf(user, sizeof user, "%s", req->user) < 0 ? CAIRN_EPERM
                                                               : 0;
    else
        rc = cairn__taxii_authenticate(t, store, req->authorization, user);
    if (rc == CAIRN_EPERM) {
        cairn__taxii_header(resp, "WWW-Authenticate", "Basic realm=\"cairn\"");
        rc = cairn__taxii_error(resp, 401,
                                "send a user name and password (HTTP Basic) "
                                "or an API token (Bearer)");
        goto out;
    }
    if (rc == CAIRN_ETOOBIG) {
        /* Too many password checks at once: come back rather than queue. */
        cairn__taxii_header(resp, "Retry-After", "1");
        rc = cairn__taxii_error(resp, 503,
                                "too many password checks are running; "
                                "retry in a second, or use an API token");
        goto out;
    }
    if (rc < 0) {
        rc = rc == CAIRN_ENOMEM ? rc : store_error(&c, rc);
        goto out;
    }
    snprintf(resp->user, sizeof resp->user, "%s", user);
    c.user = resp->user;

    if (cairn_path(&c, path, &rc))
        goto out;

    int st = parse_path(path, &c.tg);
    if (st == 500) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (st != 0) {
        rc = cairn__taxii_error(resp, st,
                                st == 400 ? "the path is not properly "
                                            "percent-encoded"
                                          : "there is no TAXII endpoint at "
                                            "this path");
        goto out;
    }
    enum method m = method_of(req->method);
    unsigned allowed = allowed_methods(c.tg.route);
    if ((m & allowed) == 0) {
        cairn__taxii_header(resp, "Allow", allow_text(allowed));
        rc = cairn__taxii_error(resp, 405, "%s is not allowed here; use %s",
                                m == M_OTHER ? "this method" : req->method,
                                allow_text(allowed));
        goto out;
    }
    if (!accept_ok(req->accept)) {
        rc = cairn__taxii_error(resp, 406, "this server answers with %s",
                                CAIRN_TAXII_MEDIA);
        goto out;
    }
    rc = dispatch(&c, m);
out:
    cairn_free(c.tg.mem);
    cairn_store_api_root_free(c.root);
    cairn_store_collection_free(c.coll);
    if (rc < 0) {
        cairn_taxii_response_release(resp);
        resp->status = 500;
    }
    return rc < 0 ? rc : 0;
}

bool cairn__taxii_is_post_objects(const char *method, const char *path,
                                  const char **root, const char **collection,
                                  char **mem)
{
    struct target tg;
    *root = *collection = NULL;
    bool yes = path != NULL && method_of(method) == M_POST &&
               parse_path(path, &tg) == 0 && tg.route == R_OBJECTS;
    if (path != NULL && method_of(method) == M_POST)
        *mem = tg.mem;
    else
        *mem = NULL;
    if (yes) {
        *root = tg.seg[0];
        *collection = tg.seg[2];
    }
    return yes;
}
