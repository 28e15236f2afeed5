/* SPDX-License-Identifier: Apache-2.0 */
/* The TAXII handler, driven by the exchange files in tests/data/taxii/. */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "cairn/stix.h"
#include "cairn/taxii.h"
#include "taxii/taxii_int.h"

/*
 * Every file runs against a fresh in-memory store holding this fixture:
 * API roots api1 and api2, collections C1 and C2 in api1 and C3 in api2,
 * and users with these rights (password: the name with "-pw" appended).
 */
#define C1 "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
#define C2 "52892447-4d7e-4f70-b94d-d7f22742ff63"
#define C3 "64993447-4d7e-4f70-b94d-d7f22742ff64"

static const struct {
    const char *user;
    const char *coll;
    unsigned rights;
} fixture_rights[] = {
    {"alice", C1, CAIRN_STORE_READ | CAIRN_STORE_WRITE},
    {"alice", C2, CAIRN_STORE_READ | CAIRN_STORE_WRITE},
    {"alice", C3, CAIRN_STORE_READ | CAIRN_STORE_WRITE},
    {"reader", C1, CAIRN_STORE_READ},
    {"writer", C1, CAIRN_STORE_WRITE},
    {"writer", C2, CAIRN_STORE_WRITE},
};
static const char *const fixture_users[] = {"alice", "reader", "writer",
                                            "nobody"};

/* One server for all files: the credential cache spares scrypt runs. */
static struct cairn_taxii *server;
static unsigned long verify_calls;

static int counting_verify(struct cairn_store *s, const char *name,
                           const char *password)
{
    verify_calls++;
    return cairn_store_user_verify(s, name, password);
}

/*
 * Password hashing is slow on purpose, so the users and API roots are made
 * once; each file or test gets the collections afresh (deleting one drops
 * its objects and rights) and so starts from the same state.
 */
static struct cairn_store *shared;

static void make_collection(struct cairn_store *s, const char *id,
                            const char *root, const char *title,
                            const char *description, const char *alias)
{
    struct cairn_store_collection c = {0};
    snprintf(c.id, sizeof c.id, "%s", id);
    c.api_root = (char *)root;
    c.title = (char *)title;
    c.description = (char *)description;
    c.alias = (char *)alias;
    int rc = cairn_store_collection_delete(s, id);
    assert_true(rc == 0 || rc == CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_create(s, &c, NULL), 0);
}

static struct cairn_store *fixture_store(void)
{
    struct cairn_store *s = shared;
    if (s == NULL) {
        assert_int_equal(cairn_store_open("memory:", NULL, &s), 0);
        struct cairn_store_api_root r1 = {.name = "api1",
                                          .title = "Main root",
                                          .description = "Where members share",
                                          .max_content_length = 0};
        struct cairn_store_api_root r2 = {
            .name = "api2", .title = "Small root", .max_content_length = 2000};
        assert_int_equal(cairn_store_api_root_put(s, &r1), 0);
        assert_int_equal(cairn_store_api_root_put(s, &r2), 0);
        for (size_t i = 0; i < sizeof fixture_users / sizeof *fixture_users;
             i++) {
            char pw[64];
            snprintf(pw, sizeof pw, "%s-pw", fixture_users[i]);
            assert_int_equal(cairn_store_user_add(s, fixture_users[i], pw), 0);
        }
        shared = s;
    }
    make_collection(s, C1, "api1", "Indicators", "Shared indicators",
                    "indicators");
    make_collection(s, C2, "api1", "Drop box", NULL, NULL);
    make_collection(s, C3, "api2", "Other root", NULL, NULL);
    for (size_t i = 0; i < sizeof fixture_rights / sizeof *fixture_rights; i++)
        assert_int_equal(cairn_store_grant(s, fixture_rights[i].user,
                                           fixture_rights[i].coll,
                                           fixture_rights[i].rights),
                         0);
    return s;
}

/* ---- small helpers ----------------------------------------------------------
 */

static char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    struct cairn_buf b;
    cairn_buf_init(&b, (size_t)64 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(cairn_buf_append(&b, chunk, n), 0);
    fclose(f);
    assert_int_equal(cairn_buf_reserve(&b, 1), 0);
    return cairn_buf_steal(&b, len_out);
}

static void b64(const char *in, char *out, size_t out_len)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(in), o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        assert_true(o + 5 < out_len);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < len ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static void basic_header(const char *user, const char *pw, char *out,
                         size_t out_len)
{
    char plain[256], enc[400];
    char dflt[64];
    /* Test users and passwords are short; a cut one is a broken test. */
    if (pw == NULL) {
        assert_true(snprintf(dflt, sizeof dflt, "%s-pw", user) <
                    (int)sizeof dflt);
        pw = dflt;
    }
    assert_true(snprintf(plain, sizeof plain, "%s:%s", user, pw) <
                (int)sizeof plain);
    b64(plain, enc, sizeof enc);
    assert_true(snprintf(out, out_len, "Basic %s", enc) < (int)out_len);
}

static const char *header_of(const struct cairn_taxii_response *r,
                             const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- structural JSON comparison -------------------------------------------
 */

/*
 * `want` against `got`: strings "<uuid>", "<timestamp>", "<string>" and
 * "<any>" match any value of that kind; an object with the member
 * "...": true allows members it does not list. Writes where they differ.
 */
static bool json_match(const json_t *want, const json_t *got, char *where,
                       size_t where_len, const char *path)
{
    if (json_is_string(want)) {
        const char *w = json_string_value(want);
        if (strcmp(w, "<any>") == 0)
            return got != NULL;
        if (strcmp(w, "<string>") == 0 && json_is_string(got))
            return true;
        if (strcmp(w, "<uuid>") == 0 && json_is_string(got))
            return cairn_uuid_check(json_string_value(got),
                                    json_string_length(got), false, NULL);
        if (strcmp(w, "<timestamp>") == 0 && json_is_string(got)) {
            struct cairn_time t;
            return cairn_time_parse(json_string_value(got),
                                    json_string_length(got), true, &t) == 0;
        }
    }
    if (json_is_object(want)) {
        if (!json_is_object(got)) {
            snprintf(where, where_len, "%s: not an object", path);
            return false;
        }
        bool open = json_is_true(json_object_get(want, "..."));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            if (strcmp(k, "...") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            json_t *g = json_object_get(got, k);
            if (g == NULL) {
                snprintf(where, where_len, "%s: missing", sub);
                return false;
            }
            if (!json_match(v, g, where, where_len, sub))
                return false;
        }
        if (!open)
            json_object_foreach((json_t *)got, k, v)
            {
                if (json_object_get(want, k) == NULL) {
                    snprintf(where, where_len, "%s.%s: not expected", path, k);
                    return false;
                }
            }
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) ||
            json_array_size(got) != json_array_size(want)) {
            snprintf(where, where_len, "%s: list of %zu expected", path,
                     json_array_size(want));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (!json_match(json_array_get(want, i), json_array_get(got, i),
                            where, where_len, sub))
                return false;
        }
        return true;
    }
    if (!json_equal((json_t *)want, (json_t *)got)) {
        snprintf(where, where_len, "%s: different value", path);
        return false;
    }
    return true;
}

/* ---- running exchanges
 * ------------------------------------------------------- */

struct run {
    const char *file;
    struct cairn_store *store;
    struct cairn_taxii *t;
    char tokens[4][CAIRN_STORE_TOKEN_LEN];
    json_t *prev;          /* the previous response's body */
    char as[400];          /* default Authorization, "" for none */
    char kept_name[8][32]; /* "! keep NAME MEMBER" values */
    char kept[8][256];
    size_t n_kept;
    unsigned line;
    unsigned exchanges;
};

static const char *token_for(struct run *r, const char *user)
{
    for (size_t i = 0; i < sizeof fixture_users / sizeof *fixture_users; i++)
        if (strcmp(fixture_users[i], user) == 0) {
            if (r->tokens[i][0] == '\0')
                assert_int_equal(
                    cairn_store_token_new(r->store, user, r->tokens[i]), 0);
            return r->tokens[i];
        }
    fail_msg("%s:%u: unknown user %s", r->file, r->line, user);
    return NULL;
}

static const char *find_kept(const struct run *r, const char *name)
{
    for (size_t i = 0; i < r->n_kept; i++)
        if (strcmp(r->kept_name[i], name) == 0)
            return r->kept[i];
    return NULL;
}

/*
 * Expand ${C1} ${C2} ${C3}, ${basic:USER[:PASSWORD]}, ${bearer:USER} and
 * ${prev.MEMBER} (a string member of the previous response).
 */
static void expand(struct run *r, const char *in, struct cairn_buf *out)
{
    cairn_buf_reset(out);
    while (*in != '\0') {
        const char *open = strstr(in, "${");
        if (open == NULL) {
            assert_int_equal(cairn_buf_puts(out, in), 0);
            return;
        }
        assert_int_equal(cairn_buf_append(out, in, (size_t)(open - in)), 0);
        const char *close = strchr(open, '}');
        if (close == NULL)
            fail_msg("%s:%u: unterminated ${", r->file, r->line);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(close - open - 2), open + 2);
        char val[512];
        if (strcmp(name, "C1") == 0)
            snprintf(val, sizeof val, "%s", C1);
        else if (strcmp(name, "C2") == 0)
            snprintf(val, sizeof val, "%s", C2);
        else if (strcmp(name, "C3") == 0)
            snprintf(val, sizeof val, "%s", C3);
        else if (find_kept(r, name) != NULL)
            snprintf(val, sizeof val, "%s", find_kept(r, name));
        else if (strncmp(name, "basic:", 6) == 0) {
            char *colon = strchr(name + 6, ':');
            if (colon != NULL)
                *colon = '\0';
            basic_header(name + 6, colon ? colon + 1 : NULL, val, sizeof val);
        } else if (strncmp(name, "bearer:", 7) == 0)
            snprintf(val, sizeof val, "Bearer %s", token_for(r, name + 7));
        else if (strncmp(name, "prev.", 5) == 0) {
            json_t *v = json_object_get(r->prev, name + 5);
            if (!json_is_string(v))
                fail_msg("%s:%u: previous response has no string %s", r->file,
                         r->line, name + 5);
            snprintf(val, sizeof val, "%s", json_string_value(v));
        } else
            fail_msg("%s:%u: unknown variable %s", r->file, r->line, name);
        assert_int_equal(cairn_buf_puts(out, val), 0);
        in = close + 1;
    }
}

struct exchange {
    char method[16];
    struct cairn_buf path, query, accept, ctype, auth, body;
    bool has_accept, has_ctype, has_auth, has_query;
    int status;
    char want_headers[8][200];
    size_t n_want_headers;
    struct cairn_buf want_body;
    unsigned line;
};

static void exchange_init(struct exchange *x)
{
    memset(x, 0, sizeof *x);
    struct cairn_buf *bufs[] = {&x->path, &x->query, &x->accept,   &x->ctype,
                                &x->auth, &x->body,  &x->want_body};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        cairn_buf_init(bufs[i], (size_t)16 << 20);
}

static void exchange_release(struct exchange *x)
{
    struct cairn_buf *bufs[] = {&x->path, &x->query, &x->accept,   &x->ctype,
                                &x->auth, &x->body,  &x->want_body};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        cairn_buf_release(bufs[i]);
}

static void check_header(struct run *r, const struct exchange *x,
                         const struct cairn_taxii_response *resp,
                         const char *spec)
{
    if (spec[0] == '!') {
        if (header_of(resp, spec + 1) != NULL)
            fail_msg("%s:%u: header %s should be absent", r->file, x->line,
                     spec + 1);
        return;
    }
    const char *colon = strchr(spec, ':');
    assert_non_null(colon);
    char name[100];
    snprintf(name, sizeof name, "%.*s", (int)(colon - spec), spec);
    const char *want = colon + 1;
    while (*want == ' ')
        want++;
    const char *got = strcasecmp(name, "Content-Type") == 0
                          ? resp->content_type
                          : header_of(resp, name);
    if (got == NULL)
        fail_msg("%s:%u: header %s missing", r->file, x->line, name);
    if (strcmp(want, "<timestamp>") == 0) {
        struct cairn_time t;
        if (cairn_time_parse(got, strlen(got), true, &t) != 0)
            fail_msg("%s:%u: header %s: %s is no timestamp", r->file, x->line,
                     name, got);
        return;
    }
    if (strcmp(want, got) != 0)
        fail_msg("%s:%u: header %s is \"%s\", want \"%s\"", r->file, x->line,
                 name, got, want);
}

static void run_exchange(struct run *r, struct exchange *x)
{
    struct cairn_taxii_request req = {
        .method = x->method,
        .path = x->path.data ? x->path.data : "",
        .query = x->has_query ? x->query.data : NULL,
        .accept = x->has_accept ? x->accept.data : NULL,
        .content_type = x->has_ctype ? x->ctype.data : NULL,
        .authorization = x->has_auth ? x->auth.data : (r->as[0] ? r->as : NULL),
        .body = x->body.data,
        .body_len = x->body.len,
        .content_length = -1,
    };
    struct cairn_taxii_response resp;
    assert_int_equal(cairn_taxii_handle(r->t, r->store, &req, &resp), 0);
    if (resp.job != NULL) {
        assert_int_equal(cairn_taxii_job_run(resp.job, r->store), 0);
    }
    json_t *got = NULL;
    if (resp.body != NULL) {
        struct cairn_diag d;
        if (cairn_json_parse(resp.body, resp.body_len, &got, &d) != 0)
            fail_msg("%s:%u: response is not JSON: %s", r->file, x->line,
                     resp.body);
        if (strcmp(resp.content_type, CAIRN_TAXII_MEDIA) != 0)
            fail_msg("%s:%u: content type %s", r->file, x->line,
                     resp.content_type);
    }
    if (resp.status != x->status)
        fail_msg("%s:%u: status %d, want %d; body %s", r->file, x->line,
                 resp.status, x->status, resp.body ? resp.body : "");
    /* Every error is an error resource whose http_status matches. */
    if (resp.status >= 400) {
        char code[16];
        snprintf(code, sizeof code, "%d", resp.status);
        json_t *hs = json_object_get(got, "http_status");
        if (!json_is_string(hs) || strcmp(json_string_value(hs), code) != 0 ||
            !json_is_string(json_object_get(got, "title")))
            fail_msg("%s:%u: not an error resource for %d: %s", r->file,
                     x->line, resp.status, resp.body ? resp.body : "");
    }
    for (size_t i = 0; i < x->n_want_headers; i++)
        check_header(r, x, &resp, x->want_headers[i]);
    if (x->want_body.len > 0) {
        json_t *want = NULL;
        struct cairn_diag d;
        if (cairn_json_parse(x->want_body.data, x->want_body.len, &want, &d) !=
            0)
            fail_msg("%s:%u: expected body is not JSON: %s", r->file, x->line,
                     d.message);
        char where[600] = "";
        if (!json_match(want, got, where, sizeof where, "$"))
            fail_msg("%s:%u: body differs at %s:\n%s", r->file, x->line, where,
                     resp.body ? resp.body : "(none)");
        json_decref(want);
    }
    json_decref(r->prev);
    r->prev = got;
    cairn_taxii_response_release(&resp);
    r->exchanges++;
}

/*
 * The format, one exchange after another:
 *   > METHOD /path?query        the request line
 *   > Header: value             request headers (Accept, Content-Type,
 *                               Authorization)
 *   (a blank line, then the request body, if any)
 *   < STATUS                    the expected status
 *   < Header: value             an expected header ("<timestamp>" matches
 *                               any); "< !Header" says it is absent
 *   (the expected JSON body, compared structurally, if any)
 * Lines starting with '#' are comments; "! as USER" (or "! as -") sets
 * the Authorization sent when a request names none; "! keep NAME MEMBER"
 * keeps a string member of the last response as ${NAME}.
 */
static void run_file(const char *path, const char *name)
{
    size_t len;
    char *text = read_file(path, &len);
    struct run r = {.file = name, .store = fixture_store(), .t = server};
    struct cairn_buf line;
    cairn_buf_init(&line, 1 << 20);
    struct exchange x;
    exchange_init(&x);
    enum { NONE, REQ, REQ_BODY, RESP } state = NONE;
    char *p = text;
    while (p != NULL) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        r.line++;
        const char *raw = p;
        p = nl ? nl + 1 : NULL;
        bool eof = p == NULL;
        if (raw[0] == '#')
            continue;
        bool starts_req = strncmp(raw, "> ", 2) == 0 && state != REQ;
        bool directive = raw[0] == '!';
        if ((starts_req || directive || eof) && state == RESP) {
            run_exchange(&r, &x);
            exchange_release(&x);
            exchange_init(&x);
            state = NONE;
        }
        if (directive && strncmp(raw, "! keep ", 7) == 0) {
            char var[32], member[64];
            if (sscanf(raw, "! keep %31s %63s", var, member) != 2 ||
                r.n_kept == 8)
                fail_msg("%s:%u: bad keep", name, r.line);
            json_t *v = json_object_get(r.prev, member);
            if (!json_is_string(v))
                fail_msg("%s:%u: previous response has no string %s", name,
                         r.line, member);
            snprintf(r.kept_name[r.n_kept], sizeof r.kept_name[0], "%s", var);
            snprintf(r.kept[r.n_kept++], sizeof r.kept[0], "%s",
                     json_string_value(v));
            continue;
        }
        if (directive) {
            char who[200];
            if (sscanf(raw, "! as %199s", who) != 1)
                fail_msg("%s:%u: bad directive", name, r.line);
            if (strcmp(who, "-") == 0)
                r.as[0] = '\0';
            else if (strncmp(who, "bearer:", 7) == 0)
                snprintf(r.as, sizeof r.as, "Bearer %s",
                         token_for(&r, who + 7));
            else
                basic_header(who, NULL, r.as, sizeof r.as);
            continue;
        }
        expand(&r, raw, &line);
        const char *l = line.data ? line.data : "";
        if (strncmp(l, "> ", 2) == 0 && state != REQ_BODY) {
            if (state == NONE) {
                char target[TAXII_PATH_MAX + TAXII_QUERY_MAX + 16];
                x.line = r.line;
                if (sscanf(l, "> %15s %10239s", x.method, target) != 2)
                    fail_msg("%s:%u: bad request line", name, r.line);
                char *q = strchr(target, '?');
                if (q != NULL) {
                    *q = '\0';
                    x.has_query = true;
                    assert_int_equal(cairn_buf_puts(&x.query, q + 1), 0);
                }
                assert_int_equal(cairn_buf_puts(&x.path, target), 0);
                state = REQ;
                continue;
            }
            const char *h = l + 2;
            const char *colon = strchr(h, ':');
            if (colon == NULL)
                fail_msg("%s:%u: bad header", name, r.line);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            size_t hl = (size_t)(colon - h);
            if (hl == 6 && strncasecmp(h, "Accept", 6) == 0) {
                x.has_accept = true;
                assert_int_equal(cairn_buf_puts(&x.accept, v), 0);
            } else if (hl == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
                x.has_ctype = true;
                assert_int_equal(cairn_buf_puts(&x.ctype, v), 0);
            } else if (hl == 13 && strncasecmp(h, "Authorization", 13) == 0) {
                x.has_auth = true;
                assert_int_equal(cairn_buf_puts(&x.auth, v), 0);
            } else {
                fail_msg("%s:%u: unknown request header", name, r.line);
            }
            continue;
        }
        if (strncmp(l, "< ", 2) == 0 && state != RESP) {
            if (state == NONE)
                fail_msg("%s:%u: response without request", name, r.line);
            if (sscanf(l, "< %d", &x.status) != 1)
                fail_msg("%s:%u: bad status line", name, r.line);
            state = RESP;
            continue;
        }
        if (strncmp(l, "< ", 2) == 0 && state == RESP && x.want_body.len == 0) {
            assert_true(x.n_want_headers < 8);
            snprintf(x.want_headers[x.n_want_headers++],
                     sizeof x.want_headers[0], "%s", l + 2);
            continue;
        }
        if (state == REQ && l[0] == '\0') {
            state = REQ_BODY;
            continue;
        }
        if (state == REQ_BODY) {
            if (x.body.len > 0)
                assert_int_equal(cairn_buf_putc(&x.body, '\n'), 0);
            assert_int_equal(cairn_buf_puts(&x.body, l), 0);
            continue;
        }
        if (state == RESP && l[0] == '\0' && x.want_body.len == 0)
            continue;
        if (state == RESP) {
            assert_int_equal(cairn_buf_puts(&x.want_body, l), 0);
            assert_int_equal(cairn_buf_putc(&x.want_body, '\n'), 0);
            continue;
        }
        if (l[0] != '\0')
            fail_msg("%s:%u: text outside an exchange", name, r.line);
    }
    if (state != NONE && state != RESP)
        fail_msg("%s: ends inside a request", name);
    if (state == RESP)
        run_exchange(&r, &x);
    exchange_release(&x);
    assert_true(r.exchanges > 0);
    cairn_buf_release(&line);
    json_decref(r.prev);
    cairn_free(text);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_exchange_files(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/taxii", CAIRN_TEST_DATA);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 9 && strcmp(de->d_name + l - 9, ".exchange") == 0) {
            assert_true(n < 256);
            names[n++] = cairn_strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        run_file(path, names[i]);
        cairn_free(names[i]);
    }
}

/* ---- the permission table -------------------------------------------------
 */

static const char post_body[] =
    "{\"objects\":[{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--00000000-0000-4000-8000-0000000000aa\","
    "\"created\":\"2020-12-13T00:00:00.000Z\","
    "\"modified\":\"2020-12-13T00:00:00.000Z\","
    "\"pattern\":\"[domain-name:value = 'avsvmcloud.com']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2020-12-13T00:00:00Z\"}]}";

static int table_request(struct run *r, const char *who, const char *method,
                         const char *path)
{
    char auth[400] = "";
    if (strcmp(who, "badpass") == 0)
        basic_header("alice", "wrong", auth, sizeof auth);
    else if (strcmp(who, "badtoken") == 0)
        snprintf(auth, sizeof auth, "Bearer %064d", 0);
    else if (strncmp(who, "token:", 6) == 0)
        snprintf(auth, sizeof auth, "Bearer %s", token_for(r, who + 6));
    else if (strcmp(who, "anonymous") != 0)
        basic_header(who, NULL, auth, sizeof auth);
    struct cairn_buf p;
    cairn_buf_init(&p, 4096);
    expand(r, path, &p);
    bool post = strcmp(method, "POST") == 0;
    struct cairn_taxii_request req = {
        .method = method,
        .path = p.data,
        .accept = CAIRN_TAXII_MEDIA,
        .content_type = post ? CAIRN_TAXII_MEDIA : NULL,
        .authorization = auth[0] ? auth : NULL,
        .body = post ? post_body : NULL,
        .body_len = post ? strlen(post_body) : 0,
        .content_length = -1,
    };
    struct cairn_taxii_response resp;
    assert_int_equal(cairn_taxii_handle(r->t, r->store, &req, &resp), 0);
    int status = resp.status;
    if (status == 401)
        assert_string_equal(header_of(&resp, "WWW-Authenticate"),
                            "Basic realm=\"cairn\"");
    else
        assert_string_equal(resp.user,
                            strncmp(who, "token:", 6) == 0 ? who + 6 : who);
    cairn_taxii_response_release(&resp);
    cairn_buf_release(&p);
    return status;
}

static void test_permission_table(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/taxii/permissions.table", CAIRN_TEST_DATA);
    size_t len;
    char *text = read_file(path, &len);
    struct run r = {
        .file = "permissions.table", .store = fixture_store(), .t = server};
    /* The object the table's object endpoints name, and a status. */
    assert_int_equal(
        table_request(&r, "alice", "POST", "/api1/collections/${C1}/objects/"),
        202);
    unsigned rows = 0;
    for (char *p = text; p != NULL && *p != '\0';) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        r.line++;
        char who[64], method[16], target[1024];
        int want;
        if (p[0] != '#' &&
            sscanf(p, "%63s %15s %1023s %d", who, method, target, &want) == 4) {
            int got = table_request(&r, who, method, target);
            if (got != want)
                fail_msg("permissions.table:%u: %s %s %s: %d, want %d", r.line,
                         who, method, target, got, want);
            rows++;
        }
        p = nl ? nl + 1 : NULL;
    }
    assert_true(rows >= 40);
    cairn_free(text);
}

/* ---- what does not fit in a data file
 * ---------------------------------------- */

static int post_n(struct cairn_taxii *t, struct cairn_store *s, size_t first,
                  size_t n, struct cairn_taxii_response *resp)
{
    struct cairn_buf b;
    cairn_buf_init(&b, (size_t)64 << 20);
    assert_int_equal(cairn_buf_puts(&b, "{\"objects\":["), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            cairn_buf_printf(
                &b,
                "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                "\"id\":\"indicator--00000000-0000-4000-8000-%012zu\","
                "\"created\":\"2021-01-01T00:00:00.000Z\","
                "\"modified\":\"2021-01-01T00:00:00.000Z\","
                "\"pattern\":\"[ipv4-addr:value = '10.0.0.1']\","
                "\"pattern_type\":\"stix\","
                "\"valid_from\":\"2021-01-01T00:00:00Z\"}",
                i ? "," : "", first + i),
            0);
    assert_int_equal(cairn_buf_puts(&b, "]}"), 0);
    char auth[400];
    basic_header("alice", NULL, auth, sizeof auth);
    struct cairn_taxii_request req = {
        .method = "POST",
        .path = "/api1/collections/" C1 "/objects/",
        .content_type = CAIRN_TAXII_MEDIA,
        .authorization = auth,
        .body = b.data,
        .body_len = b.len,
        .content_length = (int64_t)b.len,
    };
    assert_int_equal(cairn_taxii_handle(t, s, &req, resp), 0);
    cairn_buf_release(&b);
    return resp->status;
}

static json_t *get_json(struct cairn_taxii *t, struct cairn_store *s,
                        const char *path, const char *query,
                        struct cairn_taxii_response *resp)
{
    char auth[400];
    basic_header("reader", NULL, auth, sizeof auth);
    struct cairn_taxii_request req = {
        .method = "GET",
        .path = path,
        .query = query,
        .accept = CAIRN_TAXII_MEDIA,
        .authorization = auth,
        .content_length = -1,
    };
    assert_int_equal(cairn_taxii_handle(t, s, &req, resp), 0);
    assert_int_equal(resp->status, 200);
    json_t *j = NULL;
    assert_int_equal(cairn_json_parse(resp->body, resp->body_len, &j, NULL), 0);
    return j;
}

/* Paging a few thousand objects with next, and with added_after, sees
 * every object exactly once, in date_added order. */
static void test_paging(void **state)
{
    (void)state;
    struct cairn_store *s = fixture_store();
    struct cairn_taxii_response resp;
    enum { N = 3000 };
    for (size_t i = 0; i < N; i += 1000) {
        assert_int_equal(post_n(server, s, i, 1000, &resp), 202);
        assert_null(resp.job);
        cairn_taxii_response_release(&resp);
    }
    static const char *const limits[] = {"7", "1000", "999"};
    for (size_t li = 0; li < 3; li++) {
        unsigned char *seen = calloc(N, 1);
        char next[256] = "", query[400];
        size_t total = 0, pages = 0;
        for (;;) {
            snprintf(query, sizeof query, "limit=%s%s%s", limits[li],
                     next[0] ? "&next=" : "", next);
            json_t *j = get_json(server, s, "/api1/collections/" C1 "/objects/",
                                 query, &resp);
            json_t *objs = json_object_get(j, "objects");
            for (size_t i = 0; i < json_array_size(objs); i++) {
                const char *id = cairn_stix_id(json_array_get(objs, i));
                size_t k = (size_t)strtoul(id + strlen(id) - 12, NULL, 10);
                assert_true(k < N);
                assert_int_equal(seen[k], 0);
                seen[k] = 1;
                total++;
            }
            pages++;
            bool more = json_is_true(json_object_get(j, "more"));
            if (more)
                snprintf(next, sizeof next, "%s",
                         json_string_value(json_object_get(j, "next")));
            json_decref(j);
            cairn_taxii_response_release(&resp);
            if (!more)
                break;
            assert_true(pages < N);
        }
        assert_int_equal(total, N);
        free(seen);
    }
    /* Following X-TAXII-Date-Added-Last with added_after, on manifests. */
    unsigned char *seen = calloc(N, 1);
    char after[64] = "", query[200];
    size_t total = 0;
    for (;;) {
        snprintf(query, sizeof query, "limit=450%s%s",
                 after[0] ? "&added_after=" : "", after);
        json_t *j = get_json(server, s, "/api1/collections/" C1 "/manifest/",
                             query, &resp);
        json_t *objs = json_object_get(j, "objects");
        for (size_t i = 0; i < json_array_size(objs); i++) {
            const char *id = json_string_value(
                json_object_get(json_array_get(objs, i), "id"));
            size_t k = (size_t)strtoul(id + strlen(id) - 12, NULL, 10);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
            total++;
        }
        bool more = json_is_true(json_object_get(j, "more"));
        if (json_array_size(objs) > 0) {
            const char *last = header_of(&resp, "X-TAXII-Date-Added-Last");
            assert_non_null(last);
            snprintf(after, sizeof after, "%s", last);
        }
        json_decref(j);
        cairn_taxii_response_release(&resp);
        if (!more)
            break;
    }
    assert_int_equal(total, N);
    free(seen);
}

/* Past sync_object_limit the answer is 202 "pending" and a job finishes
 * the write; the status tells the truth before and after. */
static void test_async_job(void **state)
{
    (void)state;
    struct cairn_taxii_config cfg = {.sync_object_limit = 10};
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(&cfg, &t), 0);
    struct cairn_store *s = fixture_store();
    struct cairn_taxii_response resp;
    assert_int_equal(post_n(t, s, 0, 2500, &resp), 202);
    assert_non_null(resp.job);
    json_t *st = NULL;
    assert_int_equal(cairn_json_parse(resp.body, resp.body_len, &st, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(st, "status")),
                        "pending");
    assert_int_equal(json_integer_value(json_object_get(st, "total_count")),
                     2500);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     10);
    assert_int_equal(json_integer_value(json_object_get(st, "pending_count")),
                     2490);
    char path[200];
    snprintf(path, sizeof path, "/api1/status/%s/",
             json_string_value(json_object_get(st, "id")));
    json_decref(st);
    struct cairn_taxii_job *job = resp.job;
    resp.job = NULL;
    cairn_taxii_response_release(&resp);

    st = get_json(t, s, path, NULL, &resp);
    assert_string_equal(json_string_value(json_object_get(st, "status")),
                        "pending");
    json_decref(st);
    cairn_taxii_response_release(&resp);

    assert_int_equal(cairn_taxii_job_run(job, s), 0);
    cairn_taxii_job_free(job);
    st = get_json(t, s, path, NULL, &resp);
    assert_string_equal(json_string_value(json_object_get(st, "status")),
                        "complete");
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     2500);
    assert_int_equal(json_integer_value(json_object_get(st, "pending_count")),
                     0);
    json_decref(st);
    cairn_taxii_response_release(&resp);
    /* A response whose job was never taken frees it. */
    assert_int_equal(post_n(t, s, 5000, 20, &resp), 202);
    assert_non_null(resp.job);
    cairn_taxii_response_release(&resp);
    cairn_taxii_free(t);
}

/* Another connection, as another process would, holds the store: let go
 * after 1.5 s. */
static void *release_later(void *db)
{
    struct timespec ts = {1, 500000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    return NULL;
}

/* A job that finds the store busy waits and tries again, as its 202
 * promised the objects; it does not leave them pending. */
static void test_job_waits_out_busy_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/cairn-taxii-XXXXXX", path[64], side[80];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cairn.db", dir);
    struct cairn_store_opts o = {.busy_timeout_ms = 200};
    struct cairn_store *s = NULL;
    assert_int_equal(cairn_store_open(path, &o, &s), 0);
    struct cairn_store_api_root r = {.name = "api1", .title = "Main"};
    assert_int_equal(cairn_store_api_root_put(s, &r), 0);
    make_collection(s, C1, "api1", "Indicators", NULL, NULL);
    assert_int_equal(cairn_store_user_add(s, "alice", "alice-pw"), 0);
    assert_int_equal(
        cairn_store_grant(s, "alice", C1, CAIRN_STORE_READ | CAIRN_STORE_WRITE),
        0);
    struct cairn_taxii_config cfg = {.sync_object_limit = 10};
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(&cfg, &t), 0);
    struct cairn_taxii_response resp;
    assert_int_equal(post_n(t, s, 0, 50, &resp), 202);
    struct cairn_taxii_job *job = resp.job;
    resp.job = NULL;
    json_t *st = NULL;
    assert_int_equal(cairn_json_parse(resp.body, resp.body_len, &st, NULL), 0);
    char id[CAIRN_UUID_STRLEN];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(st, "id")));
    json_decref(st);
    cairn_taxii_response_release(&resp);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, release_later, db), 0);
    assert_int_equal(cairn_taxii_job_run(job, s), 0);
    pthread_join(th, NULL);
    sqlite3_close(db);
    cairn_taxii_job_free(job);

    struct cairn_store_status *status = NULL;
    assert_int_equal(cairn_store_status_get(s, id, &status), 0);
    assert_true(status->complete);
    assert_int_equal(status->success, 50);
    cairn_store_status_free(status);
    cairn_taxii_free(t);
    cairn_store_close(s);
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", path, sfx[i]);
        unlink(side);
    }
    rmdir(dir);
}

/*
 * A verified Basic credential is cached; a failed one too, for a few
 * seconds, so that a flood of one wrong password costs one check.
 */
static void test_credential_cache(void **state)
{
    (void)state;
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(NULL, &t), 0);
    cairn__taxii_set_verify(t, counting_verify);
    struct cairn_store *s = fixture_store();
    char good[400], bad[400];
    basic_header("reader", NULL, good, sizeof good);
    basic_header("reader", "nope", bad, sizeof bad);
    verify_calls = 0;
    for (int i = 0; i < 3; i++) {
        struct cairn_taxii_request req = {.method = "GET",
                                          .path = "/taxii2/",
                                          .authorization = good,
                                          .content_length = -1};
        struct cairn_taxii_response resp;
        assert_int_equal(cairn_taxii_handle(t, s, &req, &resp), 0);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.user, "reader");
        cairn_taxii_response_release(&resp);
    }
    assert_int_equal(verify_calls, 1);
    for (int i = 0; i < 2; i++) {
        struct cairn_taxii_request req = {.method = "GET",
                                          .path = "/taxii2/",
                                          .authorization = bad,
                                          .content_length = -1};
        struct cairn_taxii_response resp;
        assert_int_equal(cairn_taxii_handle(t, s, &req, &resp), 0);
        assert_int_equal(resp.status, 401);
        assert_string_equal(resp.user, "");
        cairn_taxii_response_release(&resp);
    }
    assert_int_equal(verify_calls, 2);
    cairn_taxii_free(t);
}

/*
 * A password check that blocks until the test releases it, so that the
 * limit on checks at once can be reached on purpose.
 */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_entered, gate_open;

static int gated_verify(struct cairn_store *s, const char *name,
                        const char *password)
{
    (void)s;
    (void)name;
    pthread_mutex_lock(&gate_mu);
    verify_calls++;
    gate_entered = true;
    pthread_cond_broadcast(&gate_cv);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    return strcmp(password, "right") == 0 ? 0 : CAIRN_EPERM;
}

struct slow_login {
    struct cairn_taxii *t;
    struct cairn_store *s;
    const char *authorization;
    int status;
};

static void *slow_login_run(void *arg)
{
    struct slow_login *l = arg;
    struct cairn_taxii_request req = {.method = "GET",
                                      .path = "/taxii2/",
                                      .authorization = l->authorization,
                                      .content_length = -1};
    struct cairn_taxii_response resp;
    if (cairn_taxii_handle(l->t, l->s, &req, &resp) == 0)
        l->status = resp.status;
    cairn_taxii_response_release(&resp);
    return NULL;
}

static int get_status(struct cairn_taxii *t, struct cairn_store *s,
                      const char *authorization,
                      struct cairn_taxii_response *resp)
{
    struct cairn_taxii_request req = {.method = "GET",
                                      .path = "/taxii2/",
                                      .authorization = authorization,
                                      .content_length = -1};
    assert_int_equal(cairn_taxii_handle(t, s, &req, resp), 0);
    return resp->status;
}

/*
 * Password checks are slow on purpose; past the limit of checks at once a
 * Basic request is answered 503 with Retry-After instead of waiting on a
 * request thread, while bearer tokens and cached credentials still work.
 */
static void test_verify_limit(void **state)
{
    (void)state;
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(NULL, &t), 0);
    cairn__taxii_set_verify(t, gated_verify);
    cairn__taxii_set_verify_max(t, 1);
    struct cairn_store *s = fixture_store();
    char slow[400], other[400], bearer[128], user[CAIRN_STORE_NAME_MAX + 1];
    char tok[CAIRN_STORE_TOKEN_LEN];
    basic_header("reader", "right", slow, sizeof slow);
    basic_header("writer", "right", other, sizeof other);
    assert_int_equal(cairn_store_token_new(s, "alice", tok), 0);
    snprintf(bearer, sizeof bearer, "Bearer %s", tok);
    verify_calls = 0;
    gate_entered = gate_open = false;

    struct slow_login l = {.t = t, .s = s, .authorization = slow};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_login_run, &l), 0);
    pthread_mutex_lock(&gate_mu);
    while (!gate_entered)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);

    /* The one check allowed is running: another password waits outside. */
    struct cairn_taxii_response resp;
    assert_int_equal(get_status(t, s, other, &resp), 503);
    assert_non_null(header_of(&resp, "Retry-After"));
    assert_string_equal(header_of(&resp, "Retry-After"), "1");
    assert_null(header_of(&resp, "WWW-Authenticate"));
    assert_string_equal(resp.user, "");
    assert_non_null(strstr(resp.body, "\"http_status\":\"503\""));
    cairn_taxii_response_release(&resp);
    assert_int_equal(cairn_taxii_authenticate(t, s, other, user),
                     CAIRN_ETOOBIG);
    /* Tokens need no password check, and refusals stay refusals. */
    assert_int_equal(get_status(t, s, bearer, &resp), 200);
    assert_string_equal(resp.user, "alice");
    cairn_taxii_response_release(&resp);
    assert_int_equal(get_status(t, s, NULL, &resp), 401);
    cairn_taxii_response_release(&resp);
    assert_int_equal(verify_calls, 1);

    /* The same credentials on another connection wait for that check. */
    struct slow_login l2 = {.t = t, .s = s, .authorization = slow};
    pthread_t th2;
    assert_int_equal(pthread_create(&th2, NULL, slow_login_run, &l2), 0);
    for (bool waiting = false; !waiting;) {
        pthread_mutex_lock(&t->lock);
        waiting = t->verify_waiting == 1;
        pthread_mutex_unlock(&t->lock);
    }

    pthread_mutex_lock(&gate_mu);
    gate_open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(pthread_join(th2, NULL), 0);
    assert_int_equal(l.status, 200);
    assert_int_equal(l2.status, 200);
    assert_int_equal(verify_calls, 1); /* one check served both */

    /* The slot is free again; a verified password is then cached. */
    assert_int_equal(cairn_taxii_authenticate(t, s, other, user), 0);
    assert_string_equal(user, "writer");
    assert_int_equal(get_status(t, s, other, &resp), 200);
    cairn_taxii_response_release(&resp);
    assert_int_equal(verify_calls, 2);
    basic_header("writer", "wrong", other, sizeof other);
    assert_int_equal(cairn_taxii_authenticate(t, s, other, user), CAIRN_EPERM);
    assert_string_equal(user, "");
    assert_int_equal(cairn_taxii_authenticate(t, s, NULL, user), CAIRN_EPERM);
    assert_int_equal(verify_calls, 3);
    cairn_taxii_free(t);
}

/* A password check that says yes to "right" and counts, without scrypt. */
static int quick_verify(struct cairn_store *s, const char *name,
                        const char *password)
{
    (void)s;
    (void)name;
    verify_calls++;
    return strcmp(password, "right") == 0 ? 0 : CAIRN_EPERM;
}

/*
 * Logins in two steps: tokens ("Bearer" or taxii2-client's "Token") and
 * cached passwords are known at once; a password to check is "slow".
 * Failed checks are throttled per address and per user, but never a
 * credential that verified before.
 */
static void test_auth_throttle(void **state)
{
    (void)state;
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(NULL, &t), 0);
    cairn__taxii_set_verify(t, quick_verify);
    struct cairn_store *s = fixture_store();
    char good[400], bad[400], tokh[128], user[CAIRN_STORE_NAME_MAX + 1];
    char tok[CAIRN_STORE_TOKEN_LEN];
    bool refresh;
    assert_int_equal(cairn_store_token_new(s, "alice", tok), 0);
    snprintf(tokh, sizeof tokh, "Token %s", tok);
    assert_int_equal(cairn_taxii_auth_begin(t, s, tokh, "10.0.0.1", user,
                                            &refresh),
                     0);
    assert_string_equal(user, "alice");
    snprintf(tokh, sizeof tokh, "Token nosuchtoken");
    assert_int_equal(cairn_taxii_auth_begin(t, s, tokh, "10.0.0.1", user,
                                            &refresh),
                     CAIRN_EPERM);

    verify_calls = 0;
    basic_header("reader", "right", good, sizeof good);
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.1", user,
                                            &refresh),
                     CAIRN_TAXII_AUTH_SLOW);
    assert_int_equal(cairn_taxii_auth_check(t, s, good, "10.0.0.1", user), 0);
    assert_string_equal(user, "reader");
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.1", user,
                                            &refresh),
                     0);
    assert_false(refresh);

    /* Distinct wrong passwords: the first ones are checked, then the
     * address and the user are throttled without a check. */
    int checked = 0, throttled = 0;
    for (int i = 0; i < 30; i++) {
        char pw[32];
        snprintf(pw, sizeof pw, "wrong%d", i);
        basic_header("reader", pw, bad, sizeof bad);
        int rc = cairn_taxii_auth_begin(t, s, bad, "10.0.0.2", user, &refresh);
        if (rc == CAIRN_TAXII_AUTH_SLOW)
            rc = cairn_taxii_auth_check(t, s, bad, "10.0.0.2", user);
        if (rc == CAIRN_EPERM)
            checked++;
        else if (rc == CAIRN_EBUSY)
            throttled++;
    }
    assert_int_equal(checked, TAXII_THROTTLE_BURST);
    assert_int_equal(throttled, 30 - TAXII_THROTTLE_BURST);
    assert_int_equal(verify_calls, 1 + TAXII_THROTTLE_BURST);
    /* A wrong password checked a moment ago is remembered: no check. */
    basic_header("reader", "wrong0", bad, sizeof bad);
    assert_int_equal(cairn_taxii_auth_begin(t, s, bad, "10.0.0.3", user,
                                            &refresh),
                     CAIRN_EPERM);
    /* Known good credentials still get in, from the flooded address too. */
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.2", user,
                                            &refresh),
                     0);
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++)
        t->creds[i].expires = 0; /* the cache expired */
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.2", user,
                                            &refresh),
                     CAIRN_TAXII_AUTH_SLOW);
    assert_int_equal(cairn_taxii_auth_check(t, s, good, "10.0.0.2", user), 0);
    /* Used past half its life, a cached password is verified again once,
     * while the request goes on. */
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++)
        t->creds[i].checked -= 200;
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.2", user,
                                            &refresh),
                     0);
    assert_true(refresh);
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.2", user,
                                            &refresh),
                     0);
    assert_false(refresh);
    int before = verify_calls;
    assert_int_equal(cairn_taxii_auth_check(t, s, good, "10.0.0.2", user), 0);
    assert_int_equal(verify_calls, before + 1);
    assert_int_equal(cairn_taxii_auth_check(t, s, good, "10.0.0.2", user), 0);
    assert_int_equal(verify_calls, before + 1);
    /* Another user from another address is not held up by either. */
    basic_header("writer", "right", good, sizeof good);
    assert_int_equal(cairn_taxii_auth_begin(t, s, good, "10.0.0.9", user,
                                            &refresh),
                     CAIRN_TAXII_AUTH_SLOW);
    cairn_taxii_free(t);
}

/* Bodies over max_content_length are refused before they are read. */
static void test_body_allowed(void **state)
{
    (void)state;
    struct cairn_taxii_config cfg = {.max_content_length = 1000};
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(&cfg, &t), 0);
    assert_int_equal(cairn_taxii_body_allowed(t, 1000), 0);
    assert_int_equal(cairn_taxii_body_allowed(t, -1), 0);
    assert_int_equal(cairn_taxii_body_allowed(t, 1001), CAIRN_ETOOBIG);
    cairn_taxii_free(t);
}

/* A busy store is 503 with Retry-After, which clients retry; else 500. */
static void test_store_errors(void **state)
{
    (void)state;
    struct cairn_taxii_response resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(cairn__taxii_store_error(&resp, CAIRN_EBUSY), 0);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.n_headers, 1);
    assert_string_equal(resp.headers[0].name, "Retry-After");
    assert_string_equal(resp.headers[0].value, "1");
    assert_non_null(strstr(resp.body, "\"http_status\":\"503\""));
    cairn_taxii_response_release(&resp);
    memset(&resp, 0, sizeof resp);
    assert_int_equal(cairn__taxii_store_error(&resp, CAIRN_EIO), 0);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.n_headers, 0);
    assert_non_null(strstr(resp.body, "input/output error"));
    cairn_taxii_response_release(&resp);
}

/* Before a body is read, its limit is the API root's when that is lower. */
static void test_body_limit(void **state)
{
    (void)state;
    struct cairn_store *s = fixture_store(); /* api2 allows 2000 bytes */
    struct cairn_taxii_config cfg = {.max_content_length = 5000};
    struct cairn_taxii *t = NULL;
    assert_int_equal(cairn_taxii_new(&cfg, &t), 0);
    assert_int_equal(
        cairn_taxii_body_limit(t, s, "/api2/collections/x/objects/"), 2000);
    assert_int_equal(cairn_taxii_body_limit(t, s, "/api2/"), 2000);
    /* api1 sets none: the server's; so do paths under no root. */
    assert_int_equal(
        cairn_taxii_body_limit(t, s, "/api1/collections/x/objects/"), 5000);
    assert_int_equal(cairn_taxii_body_limit(t, s, "/taxii2/"), 5000);
    assert_int_equal(
        cairn_taxii_body_limit(t, s, "/nosuch/collections/x/objects/"), 5000);
    assert_int_equal(cairn_taxii_body_limit(t, s, "no/path"), 5000);
    assert_int_equal(cairn_taxii_body_limit(t, s, "/api2/%zz/"), 5000);
    assert_int_equal(cairn_taxii_body_limit(t, NULL, "/api2/"), 5000);
    assert_int_equal(cairn_taxii_body_limit(t, s, NULL), 5000);
    cairn_taxii_free(t);
    /* A server limit under the root's wins. */
    cfg.max_content_length = 1000;
    assert_int_equal(cairn_taxii_new(&cfg, &t), 0);
    assert_int_equal(
        cairn_taxii_body_limit(t, s, "/api2/collections/x/objects/"), 1000);
    cairn_taxii_free(t);
}

/* Query strings as data: "QUERY<TAB>ok" or "QUERY<TAB>error TEXT". */
static void test_query_cases(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/taxii/query.cases", CAIRN_TEST_DATA);
    size_t len;
    char *text = read_file(path, &len);
    unsigned line = 0, cases = 0;
    for (char *p = text; p != NULL && *p != '\0';) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        line++;
        char *tab = strchr(p, '\t');
        if (p[0] != '#' && tab != NULL) {
            *tab = '\0';
            const char *want = tab + 1;
            struct cairn__taxii_filter f = {0};
            char err[256];
            int rc =
                cairn__taxii_query_parse(p, strlen(p), &f, err, sizeof err);
            if (strncmp(want, "ok", 2) == 0) {
                if (rc != 0)
                    fail_msg("query.cases:%u: %s: %s", line, p, err);
                /* "ok N" also checks the number of filter values. */
                unsigned n;
                if (sscanf(want, "ok %u", &n) == 1)
                    assert_int_equal(
                        f.n_ids + f.n_types + f.n_spec_versions +
                            f.n_version_times +
                            (unsigned)__builtin_popcount(f.versions),
                        n);
            } else {
                const char *sub = want + 6;
                if (rc == 0 || strstr(err, sub) == NULL)
                    fail_msg("query.cases:%u: %s: got \"%s\", want an error "
                             "with \"%s\"",
                             line, p, rc == 0 ? "ok" : err, sub);
            }
            cairn__taxii_filter_free(&f);
            cases++;
        }
        p = nl ? nl + 1 : NULL;
    }
    assert_true(cases >= 20);
    cairn_free(text);
}

/* Every allocation that can fail, failing: an answer or CAIRN_ENOMEM, and
 * nothing leaks. */
static void test_alloc_failures(void **state)
{
    (void)state;
    struct cairn_store *s = fixture_store();
    struct cairn_taxii_response resp;
    assert_int_equal(post_n(server, s, 0, 30, &resp), 202);
    cairn_taxii_response_release(&resp);
    char auth[400];
    basic_header("alice", NULL, auth, sizeof auth);
    static const struct {
        const char *path, *query;
    } gets[] = {
        {"/taxii2/", NULL},
        {"/api1/collections/", NULL},
        {"/api1/collections/" C1 "/objects/", "limit=5&match[type]=indicator"},
        {"/api1/collections/" C1 "/manifest/", "match[version]=all"},
        {"/api1/collections/" C1
         "/objects/indicator--00000000-0000-4000-8000-000000000003/versions/",
         NULL},
        {"/api1/collections/" C1 "/objects/", "limit=0"},
    };
    for (size_t g = 0; g < sizeof gets / sizeof *gets; g++) {
        struct cairn_taxii_request req = {.method = "GET",
                                          .path = gets[g].path,
                                          .query = gets[g].query,
                                          .authorization = auth,
                                          .content_length = -1};
        for (long n = 0;; n++) {
            long live = cairn_alloc_live();
            cairn_alloc_fail_after(n);
            int rc = cairn_taxii_handle(server, s, &req, &resp);
            cairn_alloc_fail_after(-1);
            assert_true(rc == 0 || rc == CAIRN_ENOMEM);
            bool done = rc == 0 && resp.status < 500;
            cairn_taxii_response_release(&resp);
            assert_int_equal(cairn_alloc_live(), live);
            if (done)
                break;
            assert_true(n < 10000);
        }
    }
    /* POST: the store may keep what it wrote, but nothing crashes. */
    struct cairn_taxii_request post = {
        .method = "POST",
        .path = "/api1/collections/" C1 "/objects/",
        .content_type = CAIRN_TAXII_MEDIA,
        .authorization = auth,
        .body = post_body,
        .body_len = strlen(post_body),
        .content_length = -1,
    };
    for (long n = 0; n < 300; n++) {
        cairn_alloc_fail_after(n);
        int rc = cairn_taxii_handle(server, s, &post, &resp);
        cairn_alloc_fail_after(-1);
        assert_true(rc == 0 || rc == CAIRN_ENOMEM);
        cairn_taxii_response_release(&resp);
    }
}

int main(void)
{
    cairn_alloc_init();
    assert_int_equal(cairn_taxii_new(
                         &(struct cairn_taxii_config){
                             .title = "cairn test",
                             .description = "A TAXII server under test",
                             .contact = "soc@example.org",
                             .default_api_root = "api1",
                             .base_url = "https://taxii.example.org",
                             .max_content_length = 1 << 20,
                         },
                         &server),
                     0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_cases),
        cmocka_unit_test(test_body_allowed),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_store_errors),
        cmocka_unit_test(test_exchange_files),
        cmocka_unit_test(test_permission_table),
        cmocka_unit_test(test_credential_cache),
        cmocka_unit_test(test_verify_limit),
        cmocka_unit_test(test_auth_throttle),
        cmocka_unit_test(test_paging),
        cmocka_unit_test(test_async_job),
        cmocka_unit_test(test_job_waits_out_busy_store),
        cmocka_unit_test(test_alloc_failures),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cairn_taxii_free(server);
    cairn_store_close(shared);
    return failed;
}
