/* SPDX-License-Identifier: Apache-2.0 */
/* The web console: routing, sessions, log-in and log-out, the page frame. */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "console/console_int.h"

#define IDLE_DEFAULT   3600
#define MAX_DEFAULT    43200
#define UPLOAD_DEFAULT ((size_t)16 << 20)
#define UPLOAD_MAX     ((size_t)256 << 20)
#define COOKIE         "cairn_session"
#define LOGIN_COOKIE   "cairn_login"

static const char CSP[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* `n` random bytes as 2n hex digits and a NUL. */
static int random_hex(char *out, size_t n)
{
    unsigned char raw[64];
    static const char hex[] = "0123456789abcdef";
    if (n > sizeof raw || RAND_bytes(raw, (int)n) != 1)
        return CAIRN_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * n] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

static void session_key(const char *id, unsigned char key[32])
{
    SHA256((const unsigned char *)id, strlen(id), key);
}

int cairn_console_new(const struct cairn_console_config *cfg,
                      struct cairn_taxii *taxii, struct cairn_console **out)
{
    *out = NULL;
    if (taxii == NULL)
        return CAIRN_EINVAL;
    struct cairn_console *con = cairn_calloc(1, sizeof *con);
    if (con == NULL)
        return CAIRN_ENOMEM;
    con->taxii = taxii;
    con->idle_seconds = cfg != NULL && cfg->idle_seconds ? cfg->idle_seconds
                                                         : IDLE_DEFAULT;
    con->max_seconds =
        cfg != NULL && cfg->max_seconds ? cfg->max_seconds : MAX_DEFAULT;
    con->max_upload =
        cfg != NULL && cfg->max_upload ? cfg->max_upload : UPLOAD_DEFAULT;
    if (con->max_upload > UPLOAD_MAX)
        con->max_upload = UPLOAD_MAX;
    con->peers = cfg != NULL ? cfg->peers : NULL;
    if (con->peers != NULL && con->peers->n > 0) {
        con->peer_state = cairn_calloc(con->peers->n, sizeof *con->peer_state);
        if (con->peer_state == NULL) {
            cairn_free(con);
            return CAIRN_ENOMEM;
        }
        for (size_t i = 0; i < con->peers->n; i++)
            snprintf(con->peer_state[i].name, sizeof con->peer_state[i].name,
                     "%s", con->peers->peers[i].name);
    }
    if (cfg != NULL && cfg->archive_dir != NULL &&
        (con->archive_dir = cairn_strdup(cfg->archive_dir)) == NULL) {
        cairn_free(con->peer_state);
        cairn_free(con);
        return CAIRN_ENOMEM;
    }
    pthread_mutex_init(&con->lock, NULL);
    *out = con;
    return 0;
}

void cairn_console_free(struct cairn_console *con)
{
    if (con == NULL)
        return;
    pthread_mutex_destroy(&con->lock);
    OPENSSL_cleanse(con->sessions, sizeof con->sessions);
    cairn_free(con->peer_state);
    cairn_free(con->archive_dir);
    cairn_free(con);
}

bool cairn_console_path(const char *path)
{
    return path != NULL && strncmp(path, "/ui", 3) == 0 &&
           (path[3] == '\0' || path[3] == '/');
}

size_t cairn_console_body_limit(const struct cairn_console *con)
{
    /* An upload, its multipart framing and the other fields. */
    return con->max_upload + 64 * 1024;
}

void cairn_console_peer_ran(struct cairn_console *con, const char *name,
                            int rc, const char *error)
{
    if (con == NULL || name == NULL)
        return;
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; con->peers != NULL && i < con->peers->n; i++) {
        struct console_peer_state *p = &con->peer_state[i];
        if (strcmp(p->name, name) != 0)
            continue;
        p->ran = true;
        p->rc = rc;
        p->at = cairn_time_now(0);
        snprintf(p->error, sizeof p->error, "%s",
                 error != NULL && rc != 0 ? error : "");
    }
    pthread_mutex_unlock(&con->lock);
}

void cairn_console_response_release(struct cairn_console_response *resp)
{
    if (resp == NULL)
        return;
    cairn_free(resp->body);
    resp->body = NULL;
    if (resp->authorization != NULL) {
        OPENSSL_cleanse(resp->authorization, strlen(resp->authorization));
        cairn_free(resp->authorization);
        resp->authorization = NULL;
    }
}

/* ---- sessions ------------------------------------------------------------ */

static bool session_live(const struct cairn_console *con,
                         const struct console_session *s, int64_t now)
{
    return s->used && now - s->last < (int64_t)con->idle_seconds &&
           now - s->created < (int64_t)con->max_seconds;
}

/* The session of cookie id `id`: its user and CSRF token copied out. */
static bool session_find(struct cairn_console *con, const char *id,
                         char user[CAIRN_STORE_NAME_MAX + 1],
                         char csrf[CONSOLE_TOKEN_HEX + 1])
{
    unsigned char key[32];
    bool found = false;
    int64_t now = mono_s();
    if (strlen(id) != CONSOLE_TOKEN_HEX)
        return false;
    session_key(id, key);
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; i < CONSOLE_SESSIONS; i++) {
        struct console_session *s = &con->sessions[i];
        if (!s->used || CRYPTO_memcmp(s->key, key, sizeof key) != 0)
            continue;
        if (session_live(con, s, now)) {
            s->last = now;
            memcpy(user, s->user, sizeof s->user);
            memcpy(csrf, s->csrf, sizeof s->csrf);
            found = true;
        } else {
            memset(s, 0, sizeof *s);
        }
        break;
    }
    pthread_mutex_unlock(&con->lock);
    return found;
}

static void session_drop(struct cairn_console *con, const char *id)
{
    unsigned char key[32];
    if (strlen(id) != CONSOLE_TOKEN_HEX)
        return;
    session_key(id, key);
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; i < CONSOLE_SESSIONS; i++) {
        struct console_session *s = &con->sessions[i];
        if (s->used && CRYPTO_memcmp(s->key, key, sizeof key) == 0)
            memset(s, 0, sizeof *s);
    }
    pthread_mutex_unlock(&con->lock);
}

/* A new session for `user`: its cookie id goes to `id`. */
static int session_new(struct cairn_console *con, const char *user,
                       char id[CONSOLE_TOKEN_HEX + 1])
{
    struct console_session fresh = {.used = true};
    int rc = random_hex(id, CONSOLE_TOKEN_HEX / 2);
    if (rc == 0)
        rc = random_hex(fresh.csrf, CONSOLE_TOKEN_HEX / 2);
    if (rc < 0)
        return rc;
    session_key(id, fresh.key);
    snprintf(fresh.user, sizeof fresh.user, "%s", user);
    fresh.created = fresh.last = mono_s();
    pthread_mutex_lock(&con->lock);
    /* A free or dead slot, else the one idle longest. */
    size_t pick = 0;
    for (size_t i = 0; i < CONSOLE_SESSIONS; i++) {
        struct console_session *s = &con->sessions[i];
        if (!session_live(con, s, fresh.last)) {
            pick = i;
            break;
        }
        if (s->last < con->sessions[pick].last)
            pick = i;
    }
    con->sessions[pick] = fresh;
    pthread_mutex_unlock(&con->lock);
    OPENSSL_cleanse(&fresh, sizeof fresh);
    return 0;
}

/* ---- responses ------------------------------------------------------------ */

static void header(struct cairn_console_response *resp, const char *name,
                   const char *value)
{
    if (resp->n_headers >= CAIRN_CONSOLE_HEADERS_MAX)
        return;
    struct cairn_console_header *h = &resp->headers[resp->n_headers++];
    h->name = name;
    snprintf(h->value, sizeof h->value, "%s", value);
}

static void set_cookie(const struct console_view *v, const char *name,
                       const char *value, bool clear)
{
    /* The browser drops it when the session ends at the latest (the
     * server forgets it sooner when idle). */
    char c[300];
    snprintf(c, sizeof c,
             "%s=%s; Path=/ui/; HttpOnly; SameSite=Strict%s; Max-Age=%u", name,
             clear ? "" : value, v->req->tls ? "; Secure" : "",
             clear ? 0u : v->con->max_seconds);
    header(v->resp, "Set-Cookie", c);
}

static void redirect(struct console_view *v, const char *to)
{
    v->resp->status = 303;
    header(v->resp, "Location", to);
}

/* The security headers every answer carries, and the body. */
static int finish(struct console_view *v, bool cacheable)
{
    struct cairn_console_response *resp = v->resp;
    header(resp, "Content-Security-Policy", CSP);
    header(resp, "X-Frame-Options", "DENY");
    header(resp, "X-Content-Type-Options", "nosniff");
    header(resp, "Referrer-Policy", "no-referrer");
    header(resp, "Cache-Control",
           cacheable ? "public, max-age=3600" : "no-store");
    if (resp->content_type == NULL && v->b.len > 0)
        resp->content_type = "text/html; charset=utf-8";
    if (v->b.len > 0) {
        size_t len = 0;
        resp->body = cairn_buf_steal(&v->b, &len);
        if (resp->body == NULL)
            return CAIRN_ENOMEM;
        resp->body_len = len;
    }
    return 0;
}

/* ---- the page frame --------------------------------------------------------- */

int cairn__console_csrf_field(struct console_view *v)
{
    return cairn_buf_printf(&v->b,
                            "<input type=\"hidden\" name=\"csrf\" "
                            "value=\"%s\">",
                            v->csrf);
}

int cairn__console_page_begin(struct console_view *v, const char *title)
{
    struct cairn_buf *b = &v->b;
    int rc = cairn_buf_puts(
        b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, "
           "initial-scale=1\"><title>");
    if (rc == 0)
        rc = cairn__console_escs(b, title);
    if (rc == 0)
        rc = cairn_buf_puts(
            b, " · cairn</title><link rel=\"icon\" "
               "href=\"/ui/static/favicon.svg\"><link rel=\"stylesheet\" "
               "href=\"/ui/static/console.css\"><script "
               "src=\"/ui/static/console.js\" defer></script></head><body>"
               "<a class=\"skip\" href=\"#main\">Skip to content</a>");
    if (rc == 0 && v->user[0] != '\0') {
        rc = cairn_buf_puts(
            b, "<header><nav aria-label=\"Main\"><a class=\"brand\" "
               "href=\"/ui/\">cairn</a><a href=\"/ui/\">Dashboard</a>"
               "<a href=\"/ui/search\">Search</a>"
               "<a href=\"/ui/sightings\">Sightings</a>"
               "<a href=\"/ui/hunt\">Hunt</a>"
               "<a href=\"/ui/import\">Import</a>");
        if (rc == 0 && v->admin)
            rc = cairn_buf_puts(b, "<a href=\"/ui/admin\">Admin</a>");
        if (rc == 0)
            rc = cairn_buf_puts(
                b, "</nav><form class=\"quick\" method=\"get\" "
                   "action=\"/ui/search\" role=\"search\"><label "
                   "for=\"quick-q\" class=\"vh\">Search a value or STIX "
                   "id</label><input id=\"quick-q\" name=\"q\" type=\"search\" "
                   "placeholder=\"value or STIX id\"></form>"
                   "<form class=\"logout\" method=\"post\" "
                   "action=\"/ui/logout\">");
        if (rc == 0)
            rc = cairn__console_csrf_field(v);
        if (rc == 0)
            rc = cairn_buf_puts(b, "<span class=\"who\">");
        if (rc == 0)
            rc = cairn__console_escs(b, v->user);
        if (rc == 0)
            rc = cairn_buf_puts(b, "</span><button type=\"submit\" "
                                   "id=\"logout\">Log out</button></form>"
                                   "</header>");
    }
    if (rc == 0)
        rc = cairn_buf_puts(b, "<main id=\"main\"><h1>");
    if (rc == 0)
        rc = cairn__console_escs(b, title);
    if (rc == 0)
        rc = cairn_buf_puts(b, "</h1>");
    return rc;
}

int cairn__console_page_end(struct console_view *v)
{
    return cairn_buf_puts(&v->b, "</main></body></html>\n");
}

int cairn__console_error_page(struct console_view *v, int status,
                              const char *message)
{
    cairn_buf_reset(&v->b);
    v->resp->status = status;
    int rc = cairn__console_page_begin(
        v, status == 404   ? "Not found"
           : status == 403 ? "Forbidden"
           : status == 400 ? "Bad request"
           : status == 413 ? "Too large"
                           : "Error");
    if (rc == 0)
        rc = cairn_buf_puts(&v->b, "<p class=\"error\" role=\"alert\">");
    if (rc == 0)
        rc = cairn__console_escs(&v->b, message);
    if (rc == 0)
        rc = cairn_buf_puts(&v->b, "</p>");
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}

/* ---- rights ---------------------------------------------------------------- */

bool cairn__console_visible(const struct console_view *v,
                            const struct console_coll *c,
                            const struct cairn_store_row *row)
{
    return (c->rights & CAIRN_STORE_READ) != 0 && row->json != NULL &&
           row->json_len > 0 &&
           cairn_share_allowed_text(row->json, row->json_len, c->tlp_default,
                                    &v->reader);
}

static void colls_free(struct console_view *v)
{
    for (size_t i = 0; i < v->n_colls; i++) {
        cairn_free(v->colls[i].api_root);
        cairn_free(v->colls[i].title);
    }
    cairn_free(v->colls);
    v->colls = NULL;
    v->n_colls = 0;
}

/* The collections the user may read or write, as TAXII lists them. */
static int load_user(struct console_view *v)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n_roots = 0;
    int rc = cairn_store_user_share_get(v->s, v->user, &v->share);
    if (rc == 0)
        rc = cairn_store_user_admin_get(v->s, v->user, &v->admin);
    if (rc < 0)
        return rc;
    v->reader = (struct cairn_share_reader){.identity = v->share.identity,
                                            .member = v->share.member};
    rc = cairn_store_api_root_list(v->s, &roots, &n_roots);
    for (size_t r = 0; rc == 0 && r < n_roots; r++) {
        struct cairn_store_collection *list = NULL;
        size_t n = 0;
        rc = cairn_store_collection_list(v->s, roots[r].name, &list, &n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            unsigned bits = 0;
            rc = cairn_store_rights(v->s, v->user, list[i].id, &bits);
            bits &= CAIRN_STORE_READ | CAIRN_STORE_WRITE;
            if (rc < 0 || bits == 0)
                continue;
            struct console_coll *grown =
                cairn_realloc(v->colls, (v->n_colls + 1) * sizeof *grown);
            if (grown == NULL) {
                rc = CAIRN_ENOMEM;
                break;
            }
            v->colls = grown;
            struct console_coll *c = &v->colls[v->n_colls];
            memset(c, 0, sizeof *c);
            memcpy(c->id, list[i].id, sizeof c->id);
            c->rights = bits;
            c->api_root = cairn_strdup(roots[r].name);
            c->title = cairn_strdup(list[i].title ? list[i].title : "");
            v->n_colls++;
            if (c->api_root == NULL || c->title == NULL)
                rc = CAIRN_ENOMEM;
            if (rc == 0)
                rc = cairn_store_collection_tlp_get(v->s, c->id,
                                                    &c->tlp_default);
        }
        cairn_store_collection_list_free(list, n);
    }
    cairn_store_api_root_list_free(roots, n_roots);
    return rc;
}

/* ---- the latest rows --------------------------------------------------------- */

static int64_t time_us(const struct cairn_time *t)
{
    return t->sec * 1000000 + t->nsec / 1000;
}

static struct cairn_time us_time(int64_t us)
{
    struct cairn_time t = {.sec = us / 1000000,
                           .nsec = (int32_t)(us % 1000000) * 1000,
                           .digits = 6};
    return t;
}

/* How many of the rows after `after` there are, up to `want`; *more. */
static int count_after(struct cairn_store *s, const char *id,
                       const char *type, int64_t after, size_t want,
                       unsigned versions, size_t *n, bool *more)
{
    struct cairn_store_page *p = NULL;
    struct cairn_time t = us_time(after);
    const char *types[1] = {type};
    struct cairn_store_query q = {.collection = id,
                                  .added_after = after >= 0 ? &t : NULL,
                                  .types = type ? types : NULL,
                                  .n_types = type ? 1 : 0,
                                  .versions = versions,
                                  .limit = want};
    int rc = cairn_store_query(s, &q, &p);
    if (rc == 0) {
        *n = p->n;
        *more = p->more;
    }
    cairn_store_page_free(p);
    return rc;
}

/*
 * The date_added (µs) of the newest row of collection `id`, by bisection
 * over added_after with reads of one or two rows; -1 when it is empty.
 */
static int newest_us(struct cairn_store *s, const char *id, unsigned versions,
                     int64_t *out)
{
    size_t n = 0;
    bool more = false;
    int64_t lo = -1; /* rows after lo: some; after hi: none */
    struct cairn_time now = cairn_time_now(6);
    int64_t hi = time_us(&now) + (int64_t)86400 * 1000000;
    int rc = count_after(s, id, NULL, lo, 1, versions, &n, &more);
    if (rc == 0 && n == 0)
        hi = lo;
    while (rc == 0 && hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        rc = count_after(s, id, NULL, mid, 1, versions, &n, &more);
        if (rc == 0 && n > 0)
            lo = mid;
        else
            hi = mid;
    }
    *out = hi;
    return rc;
}

int cairn__console_latest(struct cairn_store *s, const char *id,
                          const char *type, size_t want,
                          struct cairn_store_page **out)
{
    size_t n = 0, window = 4 * want;
    bool more = false;
    *out = NULL;
    int rc = count_after(s, id, type, -1, window, 0, &n, &more);
    int64_t after = -1;
    if (rc == 0 && more) {
        /*
         * Back from the newest row in steps growing fourfold (as the
         * window is four times want), so that each read is of the few
         * rows before the newest, until one holds want; when it holds
         * more than the window, bisect between it and the step before.
         * Rows after lo: more than the window; after hi: fewer than want.
         */
        int64_t newest = 0, lo = -1, hi = 0, d = 1000;
        rc = newest_us(s, id, 0, &newest);
        hi = newest;
        while (rc == 0) {
            int64_t at = newest - d > 0 ? newest - d : 0;
            rc = count_after(s, id, type, at, window, 0, &n, &more);
            if (rc == 0 && more) {
                lo = at;
                break;
            }
            if (rc == 0 && (n >= want || at == 0)) {
                after = at;
                break;
            }
            hi = at;
            d *= 4;
        }
        while (rc == 0 && lo >= 0 && hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            rc = count_after(s, id, type, mid, window, 0, &n, &more);
            if (rc == 0 && more) {
                lo = mid;
            } else if (rc == 0 && n >= want) {
                lo = mid;
                break;
            } else {
                hi = mid;
            }
        }
        if (lo >= 0)
            after = lo;
    }
    if (rc < 0)
        return rc;
    struct cairn_time t = us_time(after);
    const char *types[1] = {type};
    struct cairn_store_query q = {.collection = id,
                                  .added_after = after >= 0 ? &t : NULL,
                                  .types = type ? types : NULL,
                                  .n_types = type ? 1 : 0,
                                  .limit = window,
                                  .with_json = true,
                                  .max_bytes = (size_t)8 << 20};
    rc = cairn_store_query(s, &q, out);
    /* the latest `want` of the window (its strings live in the arena) */
    if (rc == 0 && (*out)->n > want && !(*out)->more) {
        struct cairn_store_page *p = *out;
        memmove(p->rows, p->rows + (p->n - want), want * sizeof *p->rows);
        p->n = want;
        p->added_first = p->rows[0].date_added;
    }
    return rc;
}

/* ---- object counts ------------------------------------------------------------- */

#define COUNT_FULL_EVERY 60    /* seconds between full counts */
#define COUNT_STEP_MAX   20000 /* new rows counted by reading; past it, count */

/* The newest row of collection `id` (any type, any version), if any. */
static int newest_added(struct cairn_store *s, const char *id,
                        struct cairn_time *out, bool *has)
{
    int64_t us = -1;
    int rc = newest_us(s, id, CAIRN_STORE_VERSION_ALL, &us);
    *has = rc == 0 && us >= 0;
    if (*has)
        *out = us_time(us);
    return rc;
}

/* The rows added after `*last`, up to COUNT_STEP_MAX; *last moves on;
 * *over when there were more. */
static int count_new(struct cairn_store *s, const char *id,
                     struct cairn_time *last, size_t *n, bool *over)
{
    char cursor[CAIRN_STORE_CURSOR_LEN] = "";
    int rc = 0;
    *n = 0;
    *over = false;
    for (;;) {
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {.collection = id,
                                      .added_after = last,
                                      .versions = CAIRN_STORE_VERSION_ALL,
                                      .limit = 1000,
                                      .next = cursor[0] ? cursor : NULL};
        rc = cairn_store_query(s, &q, &p);
        if (rc < 0)
            return rc;
        *n += p->n;
        if (p->n > 0)
            *last = p->added_last;
        bool more = p->more;
        if (more)
            memcpy(cursor, p->next, sizeof cursor);
        cairn_store_page_free(p);
        if (!more)
            return 0;
        if (*n >= COUNT_STEP_MAX) {
            *over = true;
            return 0;
        }
    }
}

int cairn__console_count(struct console_view *v, const char *id, size_t *out)
{
    struct cairn_console *con = v->con;
    struct console_count c = {0};
    int64_t now = mono_s();
    bool known = false;
    *out = 0;
    pthread_mutex_lock(&con->lock);
    for (size_t i = 0; i < CONSOLE_COUNTS; i++)
        if (strcmp(con->counts[i].id, id) == 0) {
            c = con->counts[i];
            known = true;
        }
    pthread_mutex_unlock(&con->lock);
    int rc = 0;
    bool full = !known || now - c.full_at >= COUNT_FULL_EVERY;
    if (!full) {
        size_t n = 0;
        bool over = false;
        struct cairn_time last = c.last;
        if (c.has_last) {
            rc = count_new(v->s, id, &last, &n, &over);
        } else {
            /* empty when counted: count from the start */
            rc = count_new(v->s, id, NULL, &n, &over);
            struct cairn_time t = {0};
            bool has = false;
            if (rc == 0 && n > 0 && !over)
                rc = newest_added(v->s, id, &t, &has);
            last = t;
            c.has_last = has;
        }
        if (rc < 0)
            return rc;
        full = over;
        c.count += n;
        c.last = last;
    }
    if (full) {
        /* The newest row first: a row added meanwhile is counted by the
         * next step as well as by this count, until the next full one. */
        rc = newest_added(v->s, id, &c.last, &c.has_last);
        if (rc == 0)
            rc = cairn_store_collection_count(v->s, id, &c.count);
        if (rc < 0)
            return rc;
        c.full_at = now;
    }
    snprintf(c.id, sizeof c.id, "%s", id);
    c.used_at = now;
    pthread_mutex_lock(&con->lock);
    size_t slot = 0;
    for (size_t i = 0; i < CONSOLE_COUNTS; i++) {
        if (strcmp(con->counts[i].id, id) == 0) {
            slot = i;
            break;
        }
        if (con->counts[i].used_at < con->counts[slot].used_at)
            slot = i;
    }
    con->counts[slot] = c;
    pthread_mutex_unlock(&con->lock);
    *out = c.count;
    return 0;
}

/* ---- log-in and log-out -------------------------------------------------------- */

static int login_page(struct console_view *v, int status, const char *message)
{
    char token[CONSOLE_TOKEN_HEX + 1];
    int rc = random_hex(token, CONSOLE_TOKEN_HEX / 2);
    if (rc < 0)
        return rc;
    /* Double-submit token: a page elsewhere cannot read the cookie. */
    set_cookie(v, LOGIN_COOKIE, token, false);
    v->resp->status = status;
    v->user[0] = '\0';
    rc = cairn__console_page_begin(v, "Log in");
    if (rc == 0 && message != NULL) {
        rc = cairn_buf_puts(&v->b, "<p class=\"error\" role=\"alert\">");
        if (rc == 0)
            rc = cairn__console_escs(&v->b, message);
        if (rc == 0)
            rc = cairn_buf_puts(&v->b, "</p>");
    }
    if (rc == 0)
        rc = cairn_buf_printf(
            &v->b,
            "<form method=\"post\" action=\"/ui/login\" class=\"card\">"
            "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
            "<p><label for=\"user\">User</label><input id=\"user\" "
            "name=\"user\" autocomplete=\"username\" required autofocus></p>"
            "<p><label for=\"password\">Password</label><input "
            "id=\"password\" name=\"password\" type=\"password\" "
            "autocomplete=\"current-password\" required></p>"
            "<p><button type=\"submit\" id=\"login\">Log in</button></p>"
            "</form>",
            token);
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}

static int login(struct console_view *v)
{
    struct cairn_console *con = v->con;
    const struct cairn_console_request *req = v->req;
    char cookie[CONSOLE_TOKEN_HEX + 1];
    char user[CAIRN_STORE_NAME_MAX + 1] = "";
    const char *name = cairn__console_form_str(&v->form, "user");
    const char *password = cairn__console_form_str(&v->form, "password");
    const char *csrf = cairn__console_form_str(&v->form, "csrf");
    struct cairn_buf cred;
    int rc;

    if (!cairn__console_cookie(req->cookie, LOGIN_COOKIE, cookie,
                               sizeof cookie) ||
        strlen(csrf) != CONSOLE_TOKEN_HEX || strlen(cookie) != strlen(csrf) ||
        CRYPTO_memcmp(cookie, csrf, strlen(csrf)) != 0)
        return login_page(v, 403,
                          "The log-in form expired; please try again.");
    if (name[0] == '\0' || strchr(name, ':') != NULL ||
        strlen(name) > CAIRN_STORE_NAME_MAX ||
        strlen(password) > CAIRN_STORE_PASSWORD_MAX)
        return login_page(v, 401, "Wrong user name or password.");
    if (req->auth_done) {
        rc = req->auth_rc;
        if (rc == 0)
            snprintf(user, sizeof user, "%s",
                     req->auth_user != NULL ? req->auth_user : "");
    } else {
        /* The credentials as Basic sends them: one check, one throttle. */
        size_t raw_len = strlen(name) + 1 + strlen(password);
        unsigned char *raw = cairn_malloc(raw_len + 1);
        char *enc = cairn_malloc(4 * (raw_len / 3 + 1) + 8);
        cairn_buf_init(&cred, 8192);
        rc = raw != NULL && enc != NULL ? 0 : CAIRN_ENOMEM;
        if (rc == 0) {
            snprintf((char *)raw, raw_len + 1, "%s:%s", name, password);
            EVP_EncodeBlock((unsigned char *)enc, raw, (int)raw_len);
            rc = cairn_buf_printf(&cred, "Basic %s", enc);
        }
        if (raw != NULL)
            OPENSSL_cleanse(raw, raw_len);
        if (enc != NULL)
            OPENSSL_cleanse(enc, strlen(enc));
        cairn_free(raw);
        cairn_free(enc);
        if (rc == 0)
            rc = cairn_buf_putc(&cred, '\0');
        bool refresh = false;
        if (rc == 0)
            rc = cairn_taxii_auth_begin(con->taxii, v->s, cred.data,
                                        req->client, user, &refresh);
        if (rc == CAIRN_TAXII_AUTH_SLOW) {
            /* Checked off the request thread; the adapter calls again. */
            v->resp->status = 0;
            v->resp->authorization = cred.data;
            return 0;
        }
        if (cred.data != NULL)
            OPENSSL_cleanse(cred.data, cred.len);
        cairn_buf_release(&cred);
    }
    if (rc == CAIRN_EBUSY)
        return login_page(v, 429,
                          "Too many failed log-ins from this address or for "
                          "this user; wait a minute and try again.");
    if (rc == CAIRN_ETOOBIG)
        return login_page(v, 503, "The server is busy checking passwords; "
                                  "try again in a second.");
    if (rc == CAIRN_EPERM)
        return login_page(v, 401, "Wrong user name or password.");
    if (rc < 0)
        return login_page(v, 500, "The store is unavailable.");
    /* A new id at every log-in, whatever the browser sent: no fixation. */
    char old[CONSOLE_TOKEN_HEX + 1];
    if (cairn__console_cookie(req->cookie, COOKIE, old, sizeof old))
        session_drop(con, old);
    char id[CONSOLE_TOKEN_HEX + 1];
    if ((rc = session_new(con, user, id)) < 0)
        return rc;
    set_cookie(v, COOKIE, id, false);
    set_cookie(v, LOGIN_COOKIE, "", true);
    OPENSSL_cleanse(id, sizeof id);
    snprintf(v->resp->user, sizeof v->resp->user, "%s", user);
    redirect(v, "/ui/");
    return 0;
}

/* ---- routing -------------------------------------------------------------------- */

static int asset(struct console_view *v, const char *name)
{
    for (size_t i = 0; i < cairn__console_n_assets; i++) {
        const struct console_asset *a = &cairn__console_assets[i];
        if (strcmp(a->name, name) != 0)
            continue;
        v->resp->status = 200;
        v->resp->content_type = a->type;
        return cairn_buf_append(&v->b, a->data, a->len);
    }
    return cairn__console_error_page(v, 404, "There is no such file.");
}

static int route(struct console_view *v)
{
    const struct cairn_console_request *req = v->req;
    const char *path = req->path;
    bool get = strcmp(req->method, "GET") == 0 ||
               strcmp(req->method, "HEAD") == 0;
    bool post = strcmp(req->method, "POST") == 0;
    int rc;

    if (strcmp(path, "/ui") == 0) {
        redirect(v, "/ui/");
        return 0;
    }
    if (strncmp(path, "/ui/static/", 11) == 0 && get)
        return asset(v, path + 11);
    if (!get && !post) {
        header(v->resp, "Allow", "GET, HEAD, POST");
        return cairn__console_error_page(v, 405,
                                         "This method is not allowed here.");
    }
    rc = cairn__console_form_parse(NULL, req->query,
                                   req->query ? strlen(req->query) : 0,
                                   &v->query);
    if (rc == CAIRN_ENOMEM)
        return rc;
    if (rc < 0)
        return cairn__console_error_page(v, 400, "The query is malformed.");
    if (post) {
        rc = cairn__console_form_parse(req->content_type, req->body,
                                       req->body_len, &v->form);
        if (rc == CAIRN_ENOMEM)
            return rc;
        if (rc < 0)
            return cairn__console_error_page(v, 400,
                                             "The form is malformed.");
    }
    if (strcmp(path, "/ui/login") == 0)
        return post ? login(v) : login_page(v, 200, NULL);

    /* Everything else needs a session. */
    char id[CONSOLE_TOKEN_HEX + 1];
    if (!cairn__console_cookie(req->cookie, COOKIE, id, sizeof id) ||
        !session_find(v->con, id, v->user, v->csrf)) {
        v->user[0] = '\0';
        if (post)
            return cairn__console_error_page(
                v, 403, "Your session has ended; log in again.");
        redirect(v, "/ui/login");
        return 0;
    }
    snprintf(v->resp->user, sizeof v->resp->user, "%s", v->user);
    if (post) {
        /* Every form that changes something carries the session's token. */
        const char *csrf = cairn__console_form_str(&v->form, "csrf");
        if (strlen(csrf) != CONSOLE_TOKEN_HEX ||
            CRYPTO_memcmp(csrf, v->csrf, CONSOLE_TOKEN_HEX) != 0)
            return cairn__console_error_page(
                v, 403,
                "This form was not sent from this session's page (no or "
                "a wrong CSRF token); reload the page and try again.");
    }
    if (strcmp(path, "/ui/logout") == 0) {
        if (!post)
            return cairn__console_error_page(v, 405, "Log out with POST.");
        session_drop(v->con, id);
        set_cookie(v, COOKIE, "", true);
        v->user[0] = '\0';
        v->resp->user[0] = '\0';
        redirect(v, "/ui/login");
        return 0;
    }
    rc = load_user(v);
    if (rc == CAIRN_ENOTFOUND) {
        /* The user was removed since: the session goes with it. */
        session_drop(v->con, id);
        set_cookie(v, COOKIE, "", true);
        redirect(v, "/ui/login");
        return 0;
    }
    if (rc < 0)
        return rc == CAIRN_ENOMEM ? rc
                                  : cairn__console_error_page(
                                        v, 503, "The store is unavailable.");
    v->resp->status = 200;
    if (strcmp(path, "/ui/") == 0 && get)
        return cairn__console_dashboard(v);
    if (strcmp(path, "/ui/search") == 0 && get)
        return cairn__console_search(v);
    if ((strcmp(path, "/ui/object") == 0 ||
         strcmp(path, "/ui/indicator") == 0) &&
        get)
        return cairn__console_object(v);
    if (strcmp(path, "/ui/sightings") == 0 && get)
        return cairn__console_sightings(v);
    if (strcmp(path, "/ui/hunt") == 0)
        return cairn__console_hunt(v);
    if (strcmp(path, "/ui/import") == 0)
        return cairn__console_import(v);
    if (strcmp(path, "/ui/admin") == 0) {
        if (!v->admin)
            return cairn__console_error_page(
                v, 403, "The admin pages are for administrators.");
        return cairn__console_admin(v);
    }
    return cairn__console_error_page(v, 404, "There is no such page.");
}

int cairn_console_handle(struct cairn_console *con, struct cairn_store *store,
                         const struct cairn_console_request *req,
                         struct cairn_console_response *resp)
{
    struct console_view v = {
        .con = con, .s = store, .req = req, .resp = resp};
    memset(resp, 0, sizeof *resp);
    cairn_buf_init(&v.b, (size_t)64 << 20);
    resp->status = 200;
    int rc = route(&v);
    if (rc == 0 && resp->status != 0) {
        if (strcmp(req->method, "HEAD") == 0)
            cairn_buf_reset(&v.b);
        rc = finish(&v, strncmp(req->path, "/ui/static/", 11) == 0 &&
                            resp->status == 200);
    }
    cairn__console_form_free(&v.query);
    if (v.form.mem != NULL)
        OPENSSL_cleanse(v.form.mem, req->body_len);
    cairn__console_form_free(&v.form);
    colls_free(&v);
    cairn_buf_release(&v.b);
    if (rc < 0)
        cairn_console_response_release(resp);
    return rc;
}
