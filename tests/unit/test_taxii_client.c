/* SPDX-License-Identifier: Apache-2.0 */
/* The TAXII client, pull and push against a real handler and injected faults.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/cairn.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

#define C1 "11111111-1111-4111-8111-111111111111" /* remote: indicators */
#define C2 "22222222-2222-4222-8222-222222222222" /* remote: sightings */
#define L1 "33333333-3333-4333-8333-333333333333" /* local: into */
#define L2 "44444444-4444-4444-8444-444444444444" /* local: from */

/* ---- a small HTTP server: the real handler, or a scripted fault ------------
 */

/* What to answer instead of the handler, once per request, in order. */
struct fault {
    int status;               /* 0: let the handler answer (after delay) */
    const char *content_type; /* NULL: the TAXII media type */
    const char *body;         /* NULL: a TAXII error resource */
    const char *retry_after;  /* Retry-After header, or NULL */
    unsigned delay_ms;        /* wait before answering */
    bool truncate;            /* announce more bytes than are sent */
};

#define FAULTS_MAX 16

/* A scripted peer's answer: status 200, the TAXII media type. */
struct peer_reply {
    char *body; /* malloc'd */
    size_t len;
    char headers[512]; /* extra header lines, each ending in \r\n */
    unsigned delay_ms; /* wait before answering */
};

struct srv {
    int fd;
    unsigned port;
    char base[64];
    pthread_t thread;
    bool stop;
    pthread_mutex_t lock;
    struct fault faults[FAULTS_MAX];
    size_t n_faults, next_fault;
    bool repeat_last; /* the last fault answers every later request */
    unsigned long requests;
    char last_target[2048];
    struct cairn_taxii *taxii;
    struct cairn_store *store;
    /* A scripted peer for GET .../objects/ (NULL: the handler answers). */
    bool (*peer)(const char *path, const char *query, struct peer_reply *out);
};

static struct srv srv;

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void answer(int fd, int status, const char *ctype, const char *body,
                   size_t len, size_t announced, const char *extra)
{
    char head[2048];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n%s%s%s%s\r\n",
                     status, announced, ctype ? "Content-Type: " : "",
                     ctype ? ctype : "", ctype ? "\r\n" : "", extra);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

/* The value of header `name` in the head `h`, copied to `out`. */
static void get_header(const char *h, const char *name, char *out, size_t len)
{
    size_t nlen = strlen(name);
    out[0] = '\0';
    for (const char *p = strstr(h, "\r\n"); p != NULL;
         p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nlen) == 0 && p[2 + nlen] == ':') {
            const char *v = p + 3 + nlen;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r\n");
            if (vlen >= len)
                vlen = len - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return;
        }
    }
}

static void serve_one(int fd)
{
    static char head[65536];
    size_t hlen = 0;
    char *end = NULL;

    while (hlen < sizeof head - 1) {
        ssize_t n = recv(fd, head + hlen, sizeof head - 1 - hlen, 0);
        if (n <= 0)
            return;
        hlen += (size_t)n;
        head[hlen] = '\0';
        if ((end = strstr(head, "\r\n\r\n")) != NULL)
            break;
    }
    if (end == NULL)
        return;
    size_t head_len = (size_t)(end - head) + 4;
    char clen[32], auth[512], accept[256], ctype[256];
    get_header(head, "Content-Length", clen, sizeof clen);
    get_header(head, "Authorization", auth, sizeof auth);
    get_header(head, "Accept", accept, sizeof accept);
    get_header(head, "Content-Type", ctype, sizeof ctype);
    size_t blen = clen[0] ? strtoul(clen, NULL, 10) : 0;
    char *body = malloc(blen + 1);
    assert_non_null(body);
    size_t have = hlen - head_len;
    if (have > blen)
        have = blen;
    memcpy(body, head + head_len, have);
    while (have < blen) {
        ssize_t n = recv(fd, body + have, blen - have, 0);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    body[have] = '\0';

    char method[16], target[2048];
    if (sscanf(head, "%15s %2047s", method, target) != 2) {
        free(body);
        return;
    }
    struct fault f = {0};
    pthread_mutex_lock(&srv.lock);
    srv.requests++;
    snprintf(srv.last_target, sizeof srv.last_target, "%s", target);
    if (srv.next_fault < srv.n_faults)
        f = srv.faults[srv.next_fault++];
    else if (srv.repeat_last && srv.n_faults > 0)
        f = srv.faults[srv.n_faults - 1];
    bool (*peer)(const char *, const char *, struct peer_reply *) = srv.peer;
    pthread_mutex_unlock(&srv.lock);

    char *qm = strchr(target, '?');
    if (f.status == 0 && peer != NULL && strcmp(method, "GET") == 0 &&
        strstr(target, "/objects/") != NULL) {
        struct peer_reply pr = {0};
        char path[2048];
        snprintf(path, sizeof path, "%.*s",
                 (int)(qm ? (size_t)(qm - target) : strlen(target)), target);
        if (peer(path, qm ? qm + 1 : "", &pr)) {
            if (pr.delay_ms > 0) {
                struct timespec ts = {pr.delay_ms / 1000,
                                      (long)(pr.delay_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
            answer(fd, 200, CAIRN_TAXII_MEDIA, pr.body, pr.len, pr.len,
                   pr.headers);
            free(pr.body);
            free(body);
            return;
        }
    }

    if (f.delay_ms > 0) {
        struct timespec ts = {f.delay_ms / 1000,
                              (long)(f.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (f.status != 0) {
        char extra[128] = "";
        char err[256];
        const char *b = f.body;
        if (b == NULL) {
            snprintf(err, sizeof err,
                     "{\"title\":\"Injected\",\"description\":\"fault "
                     "%d\",\"http_status\":\"%d\"}",
                     f.status, f.status);
            b = err;
        }
        if (f.retry_after != NULL)
            snprintf(extra, sizeof extra, "Retry-After: %s\r\n", f.retry_after);
        size_t len = strlen(b);
        answer(fd, f.status,
               f.content_type ? f.content_type : CAIRN_TAXII_MEDIA, b, len,
               f.truncate ? len + 100 : len, extra);
        free(body);
        return;
    }

    char *q = strchr(target, '?');
    if (q != NULL)
        *q++ = '\0';
    struct cairn_taxii_request req = {
        .method = method,
        .path = target,
        .query = q,
        .accept = accept[0] ? accept : NULL,
        .content_type = ctype[0] ? ctype : NULL,
        .authorization = auth[0] ? auth : NULL,
        .body = body,
        .body_len = have,
        .content_length = (int64_t)blen,
    };
    struct cairn_taxii_response resp = {0};
    assert_int_equal(cairn_taxii_handle(srv.taxii, srv.store, &req, &resp), 0);
    char extra[1024] = "";
    size_t elen = 0;
    for (size_t i = 0; i < resp.n_headers; i++)
        elen +=
            (size_t)snprintf(extra + elen, sizeof extra - elen, "%s: %s\r\n",
                             resp.headers[i].name, resp.headers[i].value);
    struct cairn_taxii_job *job = resp.job;
    resp.job = NULL;
    answer(fd, resp.status, resp.content_type, resp.body ? resp.body : "",
           resp.body_len, resp.body_len, extra);
    /* As the server's job threads would, after the 202 went out. */
    if (job != NULL) {
        assert_int_equal(cairn_taxii_job_run(job, srv.store), 0);
        cairn_taxii_job_free(job);
    }
    cairn_taxii_response_release(&resp);
    free(body);
}

static void *srv_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd p = {.fd = srv.fd, .events = POLLIN};
        pthread_mutex_lock(&srv.lock);
        bool stop = srv.stop;
        pthread_mutex_unlock(&srv.lock);
        if (stop)
            break;
        if (poll(&p, 1, 20) <= 0)
            continue;
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(c);
        close(c);
    }
    return NULL;
}

/* Script the next answers; `repeat` makes the last one permanent. */
static void set_faults(const struct fault *f, size_t n, bool repeat)
{
    pthread_mutex_lock(&srv.lock);
    assert_true(n <= FAULTS_MAX);
    if (n > 0)
        memcpy(srv.faults, f, n * sizeof *f);
    srv.n_faults = n;
    srv.next_fault = 0;
    srv.repeat_last = repeat;
    srv.requests = 0;
    pthread_mutex_unlock(&srv.lock);
}

static unsigned long served(void)
{
    pthread_mutex_lock(&srv.lock);
    unsigned long n = srv.requests;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

/* ---- objects ----------------------------------------------------------------
 */

static char *indicator(unsigned i)
{
    static char buf[600];
    snprintf(buf, sizeof buf,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
             "\"indicator--00000000-0000-4000-8000-%012u\",\"created\":\"2024-"
             "01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\","
             "\"name\":\"ioc %u\",\"pattern\":\"[ipv4-addr:value = "
             "'10.0.%u.%u']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-"
             "01-01T00:00:00Z\"}",
             i, i, i / 256, i % 256);
    return buf;
}

static char *sighting(unsigned i)
{
    static char buf[600];
    snprintf(buf, sizeof buf,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":"
             "\"sighting--00000000-0000-4000-8000-%012u\",\"created\":\"2024-"
             "02-01T00:00:00.000Z\",\"modified\":\"2024-02-01T00:00:00.000Z\","
             "\"sighting_of_ref\":\"indicator--00000000-0000-4000-8000-"
             "%012u\",\"count\":1}",
             i, i);
    return buf;
}

/* An indicator with no pattern: the store takes it, validation does not. */
static char *broken(unsigned i)
{
    static char buf[400];
    snprintf(buf, sizeof buf,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
             "\"indicator--99999999-0000-4000-8000-%012u\",\"created\":\"2024-"
             "01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\"}",
             i);
    return buf;
}

static void put(struct cairn_store *s, const char *coll, const char *json)
{
    json_t *obj = NULL;
    struct cairn_store_result r;
    assert_int_equal(cairn_json_parse(json, strlen(json), &obj, NULL), 0);
    struct cairn_store_object_in in = {
        .obj = obj, .json = json, .json_len = strlen(json)};
    assert_int_equal(cairn_store_put_objects(s, coll, &in, 1, NULL, &r), 0);
    assert_int_not_equal(r.outcome, CAIRN_STORE_FAILED);
    json_decref(obj);
}

/* Every version in a collection, counted. */
static size_t count(struct cairn_store *s, const char *coll, const char *type)
{
    struct cairn_store_page *page = NULL;
    const char *types[1] = {type};
    struct cairn_store_query q = {.collection = coll,
                                  .types = types,
                                  .n_types = type ? 1 : 0,
                                  .versions = CAIRN_STORE_VERSION_ALL,
                                  .limit = CAIRN_STORE_LIMIT_MAX};
    assert_int_equal(cairn_store_query(s, &q, &page), 0);
    size_t n = page->n;
    assert_false(page->more);
    cairn_store_page_free(page);
    return n;
}

/* ---- fixture
 * ------------------------------------------------------------------
 */

static struct cairn_store *local;
static char state_dir[PATH_MAX];

static void make_collection(struct cairn_store *s, const char *id,
                            const char *title, const char *alias)
{
    struct cairn_store_collection c = {0};
    snprintf(c.id, sizeof c.id, "%s", id);
    c.api_root = "api1";
    c.title = (char *)title;
    c.alias = (char *)alias;
    int rc = cairn_store_collection_delete(s, id);
    assert_true(rc == 0 || rc == CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_create(s, &c, NULL), 0);
}

static void rm_files(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
    assert_int_equal(system(cmd), 0);
}

/* No progress of any flow: the files and a new local store, with empty
 * collections L1 and L2 (the progress lives in the store). */
static void rm_state(void)
{
    rm_files();
    cairn_store_close(local);
    assert_int_equal(cairn_store_open("memory:", NULL, &local), 0);
    struct cairn_store_api_root r = {
        .name = "api1", .title = "Hub", .max_content_length = 0};
    assert_int_equal(cairn_store_api_root_put(local, &r), 0);
    make_collection(local, L1, "Into", NULL);
    make_collection(local, L2, "From", NULL);
}

/* Fresh collections on both sides, no scripted faults, no progress. */
static int reset(void **state)
{
    (void)state;
    make_collection(srv.store, C1, "Indicators", "indicators");
    make_collection(srv.store, C2, "Sightings", NULL);
    assert_int_equal(cairn_store_grant(srv.store, "member", C1,
                                       CAIRN_STORE_READ | CAIRN_STORE_WRITE),
                     0);
    assert_int_equal(cairn_store_grant(srv.store, "member", C2,
                                       CAIRN_STORE_READ | CAIRN_STORE_WRITE),
                     0);
    set_faults(NULL, 0, false);
    pthread_mutex_lock(&srv.lock);
    srv.peer = NULL;
    pthread_mutex_unlock(&srv.lock);
    rm_state();
    return 0;
}

static int setup_all(void **state)
{
    (void)state;
    cairn_alloc_init();
    cairn_log_set_level(CAIRN_LOG_ERROR);
    char top[256];
    snprintf(top, sizeof top, "/tmp/cairn-client-test-%d", (int)getpid());
    assert_int_equal(mkdir(top, 0700), 0);
    snprintf(state_dir, sizeof state_dir, "%s/peers", top);

    assert_int_equal(cairn_store_open("memory:", NULL, &srv.store), 0);
    struct cairn_store_api_root r = {
        .name = "api1", .title = "Hub", .max_content_length = 0};
    assert_int_equal(cairn_store_api_root_put(srv.store, &r), 0);
    assert_int_equal(cairn_store_user_add(srv.store, "member", "member-pw"), 0);
    assert_int_equal(cairn_store_open("memory:", NULL, &local), 0);
    assert_int_equal(cairn_store_api_root_put(local, &r), 0);

    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(srv.fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(srv.fd, 16), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(srv.fd, (struct sockaddr *)&a, &alen), 0);
    srv.port = ntohs(a.sin_port);
    snprintf(srv.base, sizeof srv.base, "http://127.0.0.1:%u", srv.port);

    /* Small synchronous limit: larger POSTs go through a pending status. */
    struct cairn_taxii_config cfg = {.default_api_root = "api1",
                                     .base_url = srv.base,
                                     .sync_object_limit = 5};
    assert_int_equal(cairn_taxii_new(&cfg, &srv.taxii), 0);
    pthread_mutex_init(&srv.lock, NULL);
    assert_int_equal(pthread_create(&srv.thread, NULL, srv_main, NULL), 0);
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    pthread_mutex_lock(&srv.lock);
    srv.stop = true;
    pthread_mutex_unlock(&srv.lock);
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    cairn_taxii_free(srv.taxii);
    cairn_store_close(srv.store);
    cairn_store_close(local);
    rm_files();
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "/tmp/cairn-client-test-%d", (int)getpid());
    rmdir(dir);
    return 0;
}

/* A client with fast retries, so that failure paths take milliseconds. */
static struct cairn_taxii_client *
client_with(const char *user, const char *password, const char *token)
{
    struct cairn_taxii_client_opts o = {
        .user = user,
        .password = password,
        .token = token,
        /* Generous: a wrong password costs the test server a full scrypt,
         * which a loaded machine may take seconds over, and a client that
         * timed out would retry, counting as a second request. */
        .connect_timeout_ms = 30000,
        .timeout_ms = 60000,
        .max_attempts = 3,
        .backoff_ms = 2,
        .backoff_max_ms = 10,
        .retry_after_max_ms = 250,
        .poll_ms = 5,
        .poll_timeout_ms = 5000,
    };
    struct cairn_taxii_client *c = NULL;
    assert_int_equal(cairn_taxii_client_new(&o, &c), 0);
    return c;
}

static struct cairn_taxii_client *client(void)
{
    return client_with("member", "member-pw", NULL);
}

static char *url(const char *path)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s%s", srv.base, path);
    return buf;
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the client against the real handler ----------------------------------
 */

static void test_discovery_to_api_root(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    char *root = NULL;
    json_t *info = NULL;

    assert_int_equal(
        cairn_taxii_client_api_root(c, url("/taxii2/"), &root, &info), 0);
    assert_string_equal(root, url("/api1/"));
    assert_string_equal(json_string_value(json_object_get(info, "title")),
                        "Hub");
    json_decref(info);
    cairn_free(root);

    /* An API root URL is taken as it is, with or without its slash. */
    assert_int_equal(cairn_taxii_client_api_root(c, url("/api1"), &root, NULL),
                     0);
    assert_string_equal(root, url("/api1/"));
    cairn_free(root);

    json_t *cols = NULL;
    assert_int_equal(cairn_taxii_client_collections(c, url("/api1/"), &cols),
                     0);
    assert_int_equal(json_array_size(cols), 2);
    json_decref(cols);
    cairn_taxii_client_free(c);
}

static void test_relative_and_ambiguous_discovery(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    char *root = NULL;

    /* A relative api_roots entry resolves against the discovery URL. */
    struct fault rel = {.status = 200, .body = "{\"api_roots\":[\"/api1/\"]}"};
    set_faults(&rel, 1, false);
    assert_int_equal(
        cairn_taxii_client_api_root(c, url("/taxii2/"), &root, NULL), 0);
    assert_string_equal(root, url("/api1/"));
    cairn_free(root);

    struct fault two = {
        .status = 200,
        .body = "{\"api_roots\":[\"http://a/x/\",\"http://a/y/\"]}"};
    set_faults(&two, 1, false);
    assert_int_equal(
        cairn_taxii_client_api_root(c, url("/taxii2/"), &root, NULL),
        CAIRN_ENOTFOUND);
    assert_null(root);
    assert_non_null(strstr(cairn_taxii_client_error(c), "no default"));

    struct fault neither = {.status = 200, .body = "{\"title\":\"x\"}"};
    set_faults(&neither, 1, false);
    assert_int_equal(
        cairn_taxii_client_api_root(c, url("/taxii2/"), &root, NULL),
        CAIRN_EPARSE);
    cairn_taxii_client_free(c);
}

static void test_paging_versions_manifest(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 7; i++)
        put(srv.store, C1, indicator(i));
    struct cairn_taxii_client *c = client();
    struct cairn_taxii_page p;
    struct cairn_taxii_get q = {.limit = 3};

    assert_int_equal(cairn_taxii_client_objects(c, url("/api1/"), C1, &q, &p),
                     0);
    assert_int_equal(json_array_size(p.items), 3);
    assert_true(p.more);
    assert_true(p.has_added);
    assert_true(p.next[0] != '\0');
    char next[CAIRN_TAXII_NEXT_MAX];
    memcpy(next, p.next, sizeof next);
    cairn_taxii_page_release(&p);

    q.next = next;
    assert_int_equal(cairn_taxii_client_objects(c, url("/api1/"), C1, &q, &p),
                     0);
    assert_int_equal(json_array_size(p.items), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(p.items, 0), "id")),
        "indicator--00000000-0000-4000-8000-000000000003");
    cairn_taxii_page_release(&p);

    /* The query string carries the filters, escaped. */
    struct cairn_taxii_get m = {.added_after = "2000-01-01T00:00:00+00:00",
                                .match_type = "indicator"};
    assert_int_equal(cairn_taxii_client_manifest(c, url("/api1/"), C1, &m, &p),
                     0);
    assert_int_equal(json_array_size(p.items), 7);
    assert_non_null(strstr(srv.last_target, "added_after=2000-01-01T00%3A00%"
                                            "3A00%2B00%3A00"));
    assert_non_null(strstr(srv.last_target, "match[type]=indicator"));
    cairn_taxii_page_release(&p);

    const char *id = "indicator--00000000-0000-4000-8000-000000000004";
    assert_int_equal(
        cairn_taxii_client_versions(c, url("/api1/"), C1, id, NULL, &p), 0);
    assert_int_equal(json_array_size(p.items), 1);
    assert_string_equal(json_string_value(json_array_get(p.items, 0)),
                        "2024-01-01T00:00:00.000Z");
    cairn_taxii_page_release(&p);
    assert_int_equal(
        cairn_taxii_client_object(c, url("/api1/"), C1, id, NULL, &p), 0);
    assert_int_equal(json_array_size(p.items), 1);
    cairn_taxii_page_release(&p);
    assert_int_equal(cairn_taxii_client_object(
                         c, url("/api1/"), C1,
                         "indicator--00000000-0000-4000-8000-000000000099",
                         NULL, &p),
                     CAIRN_ENOTFOUND);
    cairn_taxii_client_free(c);
}

static void test_add_polls_pending_status(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    char env[8192] = "{\"objects\":[";
    size_t len = strlen(env);
    for (unsigned i = 0; i < 12; i++)
        len += (size_t)snprintf(env + len, sizeof env - len, "%s%s",
                                i ? "," : "", indicator(100 + i));
    len += (size_t)snprintf(env + len, sizeof env - len, "]}");
    json_t *st = NULL;

    /* 12 objects > sync_object_limit 5: answered pending, then polled. */
    assert_int_equal(
        cairn_taxii_client_add(c, url("/api1/"), C1, env, len, &st), 0);
    assert_string_equal(json_string_value(json_object_get(st, "status")),
                        "complete");
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     12);
    assert_true(served() >= 2); /* the POST and at least one status GET */
    json_decref(st);
    assert_int_equal(count(srv.store, C1, NULL), 12);
    cairn_taxii_client_free(c);
}

static void test_auth(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client_with("member", "wrong", NULL);
    json_t *doc = NULL;

    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc),
                     CAIRN_EPERM);
    assert_null(doc);
    assert_int_equal(served(), 1); /* a 401 is not retried */
    assert_non_null(strstr(cairn_taxii_client_error(c), "HTTP 401"));
    assert_non_null(strstr(cairn_taxii_client_error(c), "credentials"));
    cairn_taxii_client_free(c);

    char token[CAIRN_STORE_TOKEN_LEN];
    assert_int_equal(cairn_store_token_new(srv.store, "member", token), 0);
    c = client_with(NULL, NULL, token);
    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc), 0);
    json_decref(doc);
    cairn_taxii_client_free(c);

    struct cairn_taxii_client_opts both = {.user = "a", .token = "b"};
    assert_int_equal(cairn_taxii_client_new(&both, &c), CAIRN_EINVAL);
}

/* ---- faults
 * -------------------------------------------------------------------
 */

/* Each case: the scripted answers, then what the client must conclude. */
struct fault_case {
    const char *name;
    struct fault faults[4];
    size_t n;
    bool repeat;
    int rc;              /* of cairn_taxii_client_get on discovery */
    unsigned long tries; /* requests the server saw */
    const char *message; /* in cairn_taxii_client_error, or NULL */
};

static const struct fault_case fault_cases[] = {
    {"503 twice then the handler",
     {{.status = 503}, {.status = 503}},
     2,
     false,
     0,
     3,
     NULL},
    {"500 forever",
     {{.status = 500}},
     1,
     true,
     CAIRN_EIO,
     3,
     "HTTP 500 (Injected: fault 500); gave up after 3 attempts"},
    {"502 and 504 then the handler",
     {{.status = 502}, {.status = 504}},
     2,
     false,
     0,
     3,
     NULL},
    {"401 is final", {{.status = 401}}, 1, true, CAIRN_EPERM, 1, "HTTP 401"},
    {"403 is final", {{.status = 403}}, 1, true, CAIRN_EPERM, 1, "not allowed"},
    {"404 is final",
     {{.status = 404}},
     1,
     true,
     CAIRN_ENOTFOUND,
     1,
     "HTTP 404"},
    {"400 is final", {{.status = 400}}, 1, true, CAIRN_EIO, 1, "HTTP 400"},
    {"truncated once",
     {{.status = 200, .body = "{\"api_roots\":[]}", .truncate = true}},
     1,
     false,
     0,
     2,
     NULL},
    {"truncated forever",
     {{.status = 200, .body = "{\"a\":1}", .truncate = true}},
     1,
     true,
     CAIRN_EIO,
     3,
     "gave up after 3 attempts"},
    {"bad JSON once",
     {{.status = 200, .body = "{\"api_roots\": [tru"}},
     1,
     false,
     0,
     2,
     NULL},
    {"bad JSON forever",
     {{.status = 200, .body = "{\"api_roots\": [tru"}},
     1,
     true,
     CAIRN_EPARSE,
     3,
     "malformed JSON"},
    {"JSON that is not an object",
     {{.status = 200, .body = "[1,2]"}},
     1,
     true,
     CAIRN_EPARSE,
     1,
     "not an object"},
    {"HTML from a proxy",
     {{.status = 200, .content_type = "text/html", .body = "<html>hi</html>"}},
     1,
     true,
     CAIRN_EPARSE,
     1,
     "'text/html', not application/taxii+json"},
    {"another TAXII version",
     {{.status = 200,
       .content_type = "application/taxii+json;version=2.0",
       .body = "{}"}},
     1,
     true,
     CAIRN_EPARSE,
     1,
     "version=2.0"},
    {"no content type",
     {{.status = 200, .content_type = "", .body = "{}"}},
     1,
     true,
     CAIRN_EPARSE,
     1,
     "untyped"},
    {"too slow forever",
     {{.status = 200, .body = "{}", .delay_ms = 3500}},
     1,
     true,
     CAIRN_EIO,
     3,
     "imeout"},
    {"slow once",
     {{.status = 200, .body = "{}", .delay_ms = 3500}},
     1,
     false,
     0,
     2,
     NULL},
};

static void test_fault_table(void **state)
{
    (void)state;
    struct cairn_taxii_client_opts o = {
        .user = "member",
        .password = "member-pw",
        .max_attempts = 3,
        .backoff_ms = 1,
        .backoff_max_ms = 4,
    };

    for (size_t i = 0; i < sizeof fault_cases / sizeof *fault_cases; i++) {
        const struct fault_case *fc = &fault_cases[i];
        struct cairn_taxii_client *c = NULL;
        json_t *doc = NULL;

        print_message("case: %s\n", fc->name);
        /* Short enough for the slow answers (3.5 s) to time out, and long
         * enough everywhere else for a loaded machine to answer. The test
         * server answers one request at a time: a retry waits for the slow
         * answer to end (0.5 s) and then has 2.5 s to be served. */
        o.timeout_ms = fc->faults[0].delay_ms > 0 ? 3000 : 60000;
        assert_int_equal(cairn_taxii_client_new(&o, &c), 0);
        set_faults(fc->faults, fc->n, fc->repeat);
        int rc = cairn_taxii_client_get(c, url("/taxii2/"), &doc);
        assert_int_equal(rc, fc->rc);
        /* A slow answer keeps the server busy after the client gave up:
         * let it finish, so that the next case starts on an idle one. */
        struct timespec ts = {0, 10 * 1000000L};
        for (int k = 0; k < 200 && served() < fc->tries; k++)
            nanosleep(&ts, NULL);
        if (fc->faults[0].delay_ms > 0) {
            unsigned ms = fc->faults[0].delay_ms + 100;
            ts.tv_sec = (time_t)(ms / 1000);
            ts.tv_nsec = (long)(ms % 1000) * 1000000L;
            nanosleep(&ts, NULL);
        }
        assert_int_equal(served(), fc->tries);
        if (rc == 0)
            assert_true(json_is_object(doc));
        else
            assert_null(doc);
        if (fc->message != NULL)
            assert_non_null(strstr(cairn_taxii_client_error(c), fc->message));
        json_decref(doc);
        cairn_taxii_client_free(c);
    }
    set_faults(NULL, 0, false);
}

static void test_retry_after_is_honoured(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    json_t *doc = NULL;
    unsigned long req = 0, retries = 0;

    /* Retry-After: 1 (s) is capped to retry_after_max_ms = 250. */
    struct fault f = {.status = 429, .retry_after = "1"};
    set_faults(&f, 1, false);
    int64_t t0 = ms_now();
    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc), 0);
    int64_t waited = ms_now() - t0;
    assert_true(waited >= 240);
    assert_true(waited < 2000);
    cairn_taxii_client_counters(c, &req, &retries);
    assert_int_equal(retries, 1);
    json_decref(doc);

    /* 503 with an HTTP date in the past: the backoff alone applies. */
    struct fault d = {.status = 503,
                      .retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"};
    set_faults(&d, 1, false);
    t0 = ms_now();
    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc), 0);
    assert_true(ms_now() - t0 < 200);
    json_decref(doc);
    cairn_taxii_client_free(c);
}

static void test_response_cap_and_bad_pages(void **state)
{
    (void)state;
    struct cairn_taxii_client_opts o = {.user = "member",
                                        .password = "member-pw",
                                        .max_response_len = 64,
                                        .backoff_ms = 1};
    struct cairn_taxii_client *c = NULL;
    json_t *doc = NULL;
    assert_int_equal(cairn_taxii_client_new(&o, &c), 0);
    static char big[400];
    memset(big, ' ', sizeof big - 3);
    big[0] = '{';
    big[sizeof big - 3] = '}';
    struct fault f = {.status = 200, .body = big};
    set_faults(&f, 1, true);
    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc),
                     CAIRN_ETOOBIG);
    assert_int_equal(served(), 1);
    cairn_taxii_client_free(c);

    c = client();
    struct cairn_taxii_page p;
    static const char *const bad[] = {
        "{\"objects\":{}}",
        "{\"objects\":[],\"more\":\"yes\"}",
        "{\"objects\":[],\"next\":7}",
    };
    for (size_t i = 0; i < 3; i++) {
        struct fault b = {.status = 200, .body = bad[i]};
        set_faults(&b, 1, false);
        assert_int_equal(
            cairn_taxii_client_objects(c, url("/api1/"), C1, NULL, &p),
            CAIRN_EPARSE);
        assert_null(p.body);
    }
    /* A status resource that is not one: the POST is not trusted. */
    struct fault s = {.status = 202, .body = "{\"status\":\"complete\"}"};
    set_faults(&s, 1, false);
    assert_int_equal(
        cairn_taxii_client_add(c, url("/api1/"), C1, "{}", 2, NULL),
        CAIRN_EPARSE);
    cairn_taxii_client_free(c);
}

/* Files of any media type, as they are; errors and retries as for TAXII. */
static void test_fetch_files(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    char *body = NULL;
    size_t len = 0;

    /* A MISP manifest served as application/json, after a 503. */
    struct fault f[] = {
        {.status = 503},
        {.status = 200,
         .content_type = "application/json",
         .body = "{\"5f1e8a56-0000-4000-8000-000000000001\": {}}"},
    };
    set_faults(f, 2, false);
    char type[64];
    assert_int_equal(cairn_taxii_client_fetch(c, url("/feed/manifest.json"),
                                              &body, &len, type, sizeof type),
                     0);
    assert_string_equal(type, "application/json");
    assert_string_equal(body, f[1].body);
    assert_int_equal(len, strlen(f[1].body));
    assert_string_equal(srv.last_target, "/feed/manifest.json");
    assert_int_equal(served(), 2);
    cairn_free(body);

    /* Not JSON at all, and no media type: still the bytes. */
    struct fault t = {.status = 200, .content_type = "", .body = "a.example\n"};
    set_faults(&t, 1, false);
    assert_int_equal(
        cairn_taxii_client_fetch(c, url("/list.txt"), &body, &len, NULL, 0), 0);
    assert_string_equal(body, "a.example\n");
    cairn_free(body);

    /* An empty file is an empty string. */
    struct fault e = {.status = 200, .content_type = "text/plain", .body = ""};
    set_faults(&e, 1, false);
    assert_int_equal(
        cairn_taxii_client_fetch(c, url("/empty"), &body, &len, NULL, 0), 0);
    assert_string_equal(body, "");
    assert_int_equal(len, 0);
    cairn_free(body);

    /* 404 is CAIRN_ENOTFOUND, with the URL in the message; a redirect is
     * not followed. */
    struct fault n = {.status = 404, .content_type = "text/html", .body = "x"};
    set_faults(&n, 1, false);
    assert_int_equal(
        cairn_taxii_client_fetch(c, url("/nope.json"), &body, &len, NULL, 0),
        CAIRN_ENOTFOUND);
    assert_null(body);
    assert_non_null(strstr(cairn_taxii_client_error(c), "/nope.json"));
    assert_non_null(strstr(cairn_taxii_client_error(c), "404"));
    struct fault r = {.status = 301, .content_type = "text/html", .body = ""};
    set_faults(&r, 1, false);
    assert_int_equal(
        cairn_taxii_client_fetch(c, url("/moved"), &body, &len, NULL, 0),
        CAIRN_EIO);
    assert_int_equal(served(), 1);
    cairn_taxii_client_free(c);

    /* The response cap holds for files too. */
    struct cairn_taxii_client_opts o = {.max_response_len = 8, .backoff_ms = 1};
    assert_int_equal(cairn_taxii_client_new(&o, &c), 0);
    struct fault b = {.status = 200,
                      .content_type = "text/plain",
                      .body = "0123456789abcdef"};
    set_faults(&b, 1, true);
    assert_int_equal(
        cairn_taxii_client_fetch(c, url("/big"), &body, &len, NULL, 0),
        CAIRN_ETOOBIG);
    assert_null(body);
    cairn_taxii_client_free(c);
}

static bool cancel_now(void *ud)
{
    return *(bool *)ud;
}

static void test_cancel_stops_waiting(void **state)
{
    (void)state;
    bool flag = true;
    struct cairn_taxii_client_opts o = {
        .backoff_ms = 30000, .cancelled = cancel_now, .cancel_ud = &flag};
    struct cairn_taxii_client *c = NULL;
    json_t *doc = NULL;
    assert_int_equal(cairn_taxii_client_new(&o, &c), 0);
    struct fault f = {.status = 503};
    set_faults(&f, 1, true);
    int64_t t0 = ms_now();
    assert_int_equal(cairn_taxii_client_get(c, url("/taxii2/"), &doc),
                     CAIRN_EIO);
    assert_true(ms_now() - t0 < 1000);
    assert_non_null(strstr(cairn_taxii_client_error(c), "cancelled"));
    cairn_taxii_client_free(c);
    set_faults(NULL, 0, false);
}

/* ---- pull and push
 * ---------------------------------------------------------------
 */

struct rejects {
    size_t n;
    char last[400];
    char all[2000]; /* every one, one a line */
};

static void on_reject(const struct cairn_diag *d, void *ud)
{
    struct rejects *r = ud;
    if (d->severity != CAIRN_SEV_ERROR)
        return;
    r->n++;
    cairn_diag_format(d, r->last, sizeof r->last);
    size_t len = strlen(r->all);
    snprintf(r->all + len, sizeof r->all - len, "%s\n", r->last);
}

static struct cairn_sync_flow pull_flow(const char *remote, struct rejects *r)
{
    return (struct cairn_sync_flow){.url = url("/taxii2/"),
                                    .remote = remote,
                                    .local = L1,
                                    .state_dir = state_dir,
                                    .limit = 10,
                                    .cb = on_reject,
                                    .ud = r};
}

static void test_pull_incremental(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 23; i++)
        put(srv.store, C1, indicator(i));
    put(srv.store, C1, broken(1));
    put(srv.store, C1, broken(2));
    struct cairn_sync_flow f = pull_flow("indicators", &rj); /* by alias */

    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.pages, 3);
    assert_int_equal(res.received, 25);
    assert_int_equal(res.stored, 23);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(rj.n >= 2, true);
    assert_non_null(strstr(rj.last, "indicator--99999999"));
    assert_int_equal(count(local, L1, NULL), 23);
    /* Pages asked for every version, not only the latest. */
    assert_non_null(strstr(srv.last_target, "match[version]=all"));

    /* Nothing new: the run starts at the last date_added seen, so the
     * last object comes again and is found present; nothing stored. */
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 1);
    assert_int_equal(res.rejected, 1); /* broken(2), added last */
    assert_int_equal(res.stored, 0);

    /* A new object and a new version of an old one. */
    put(srv.store, C1, indicator(50));
    char v2[600];
    snprintf(v2, sizeof v2, "%s", indicator(3));
    char *m = strstr(v2, "\"modified\":\"2024-01-01");
    memcpy(m + strlen("\"modified\":\""), "2024-06-01", 10);
    put(srv.store, C1, v2);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 3);
    assert_int_equal(res.stored, 2);
    assert_int_equal(count(local, L1, NULL), 25);
    cairn_taxii_client_free(c);
}

/* Objects are stored as the bytes they came in, blanks and order kept. */
static void test_pull_keeps_bytes(void **state)
{
    (void)state;
    static const char text[] =
        "{ \"id\" : \"indicator--00000000-0000-4000-8000-0000000b0001\", "
        "\"type\": \"indicator\",\n \"spec_version\": \"2.1\", \"created\": "
        "\"2024-01-01T00:00:00.000Z\", \"modified\": "
        "\"2024-01-01T00:00:00.000Z\", \"name\": \"caf\\u00e9 \\/ x\", "
        "\"pattern\": \"[ipv4-addr:value = '10.9.9.9']\", \"pattern_type\": "
        "\"stix\", \"valid_from\": \"2024-01-01T00:00:00Z\" }";
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};
    struct cairn_store_page *page = NULL;
    const char *ids[1] = {"indicator--00000000-0000-4000-8000-0000000b0001"};

    put(srv.store, C1, text);
    struct cairn_sync_flow f = pull_flow("indicators", &rj);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 1);
    struct cairn_store_query q = {.collection = L1,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_ALL,
                                  .limit = 10,
                                  .with_json = true};
    assert_int_equal(cairn_store_query(local, &q, &page), 0);
    assert_int_equal(page->n, 1);
    assert_int_equal(page->rows[0].json_len, strlen(text));
    assert_memory_equal(page->rows[0].json, text, strlen(text));
    cairn_store_page_free(page);
    cairn_taxii_client_free(c);
}

/* The progress of pull flow `f`, read whole from the store. */
static void read_state(const struct cairn_sync_flow *f, char *buf, size_t len)
{
    char name[80];
    char *v = NULL;
    assert_int_equal(cairn_sync_state_name(f, false, name, sizeof name), 0);
    assert_int_equal(cairn_store_state_get(local, name, &v), 0);
    snprintf(buf, len, "%s", v);
    cairn_free(v);
}

static void write_state(const struct cairn_sync_flow *f, const char *text)
{
    char name[80];
    assert_int_equal(cairn_sync_state_name(f, false, name, sizeof name), 0);
    assert_int_equal(cairn_store_state_set(local, name, text), 0);
}

static void test_pull_interrupted_resumes(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 30; i++)
        put(srv.store, C1, indicator(i));
    struct cairn_sync_flow f = pull_flow(C1, &rj);

    /* Discovery, API root, page 1 pass; then the hub fails for good. */
    struct fault faults[] = {{0}, {0}, {0}, {.status = 503}};
    set_faults(faults, 4, true);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EIO);
    assert_non_null(strstr(res.error, "HTTP 503"));
    assert_int_equal(res.stored, 10);
    assert_int_equal(count(local, L1, NULL), 10);
    char after_one[4096];
    read_state(&f, after_one, sizeof after_one);
    assert_non_null(strstr(after_one, "\"added_after\""));
    /* Kept in the store, not in a file beside it. */
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.json 2>/dev/null", state_dir);
    FILE *p = popen(cmd, "r");
    char path[PATH_MAX + 8];
    assert_null(fgets(path, sizeof path, p));
    pclose(p);

    /* The hub is back: the pull resumes at the end of page 1. */
    set_faults(NULL, 0, false);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 21);
    assert_int_equal(res.stored, 20);
    assert_int_equal(count(local, L1, NULL), 30);

    /* Killed after committing pages but before saving the state: the
     * state is behind, the pages come again and are found identical. */
    write_state(&f, after_one);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 21);
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.existed, 21);
    assert_int_equal(count(local, L1, NULL), 30);

    /* A damaged state stops the pull with advice, not a restart. */
    write_state(&f, "{\"added_after\": 12");
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EPARSE);
    assert_non_null(strstr(res.error, "--forget"));
    /* Forgotten, the flow starts over (and finds everything present). */
    assert_int_equal(cairn_sync_forget(local, &f, false), 0);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 30);
    assert_int_equal(res.existed, 30);
    cairn_taxii_client_free(c);
}

static void test_pull_errors(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};
    struct cairn_sync_flow f = pull_flow("no such collection", &rj);

    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_ENOTFOUND);
    assert_non_null(strstr(res.error, "no such collection"));
    f = pull_flow(C1, &rj);
    f.local = "55555555-5555-4555-8555-555555555555";
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_ENOTFOUND);
    assert_non_null(strstr(res.error, "no local collection"));

    /* Two runs of one flow at once would race on its state: refused. */
    rm_state(); /* so that the one lock file is this flow's */
    f = pull_flow(C1, &rj);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    char cmd[PATH_MAX + 32], lock[PATH_MAX + 8];
    snprintf(cmd, sizeof cmd, "ls '%s'/.*.lock", state_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(fgets(lock, sizeof lock, p));
    pclose(p);
    lock[strcspn(lock, "\n")] = '\0';
    int fd = open(lock, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EIO);
    assert_non_null(strstr(res.error, "in progress"));
    close(fd);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);

    /* A page that claims more but gives no way on is not followed. */
    f = pull_flow(C1, &rj);
    /* The location is remembered: the page is the first request. */
    struct fault faults[] = {
        {.status = 200, .body = "{\"objects\":[],\"more\":true}"}};
    set_faults(faults, 1, false);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EPARSE);
    assert_non_null(strstr(res.error, "refusing to loop"));
    cairn_taxii_client_free(c);
}

/* A push is bounded per run as a pull is, and the next run goes on. */
static void test_push_bounded(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 12; i++)
        put(local, L2, sighting(i));
    struct cairn_sync_flow f = {.url = url("/taxii2/"),
                                .remote = C2,
                                .local = L2,
                                .state_dir = state_dir,
                                .limit = 5,
                                .max_pages = 1,
                                .cb = on_reject,
                                .ud = &rj};
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_true(res.incomplete);
    assert_int_equal(res.pages, 1);
    assert_int_equal(res.stored, 5);
    assert_non_null(strstr(res.error, "the most envelopes a run sends"));
    f.max_pages = 0;
    f.max_objects = 3; /* reached by the first envelope of 5 */
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_true(res.incomplete);
    assert_int_equal(res.stored, 5);
    assert_non_null(strstr(res.error, "the most objects a run reads"));
    f.max_objects = 0;
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_false(res.incomplete);
    assert_int_equal(res.stored, 2);
    assert_int_equal(count(srv.store, C2, "sighting"), 12);
    cairn_taxii_client_free(c);
}

static unsigned long requests_now(void)
{
    pthread_mutex_lock(&srv.lock);
    unsigned long n = srv.requests;
    pthread_mutex_unlock(&srv.lock);
    return n;
}

/*
 * A pull that finds nothing is one request, counted by the server: the
 * first run remembers the API root and the collection (found through
 * discovery and an alias), later runs ask only for objects. A location
 * that went stale (404) is looked up again, once. A push with nothing to
 * send asks nothing.
 */
static void test_idle_runs_one_request(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 5; i++)
        put(srv.store, C1, indicator(i));
    struct cairn_sync_flow f = pull_flow("indicators", &rj);
    unsigned long r0 = requests_now();
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 5);
    /* Discovery, the API root, its collections (the alias), one page. */
    assert_int_equal(requests_now() - r0, 4);
    char text[4096];
    read_state(&f, text, sizeof text);
    assert_non_null(strstr(text, "\"root_url\":\""));
    assert_non_null(strstr(text, "\"collection\":\"" C1 "\""));

    for (unsigned k = 0; k < 3; k++) {
        r0 = requests_now();
        assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
        assert_int_equal(res.stored, 0);
        assert_int_equal(requests_now() - r0, 1);
        assert_non_null(strstr(srv.last_target, "/api1/collections/" C1
                                                "/objects/?added_after="));
    }
    /* New objects: still no look-up. */
    put(srv.store, C1, indicator(10));
    r0 = requests_now();
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 1);
    assert_int_equal(requests_now() - r0, 1);

    /* The remembered collection answers 404: looked up again, once, and
     * the pull goes on; the run after is one request again. */
    put(srv.store, C1, indicator(11));
    struct fault gone[] = {{.status = 404}};
    set_faults(gone, 1, false);
    r0 = requests_now();
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 1);
    assert_int_equal(requests_now() - r0, 5);
    r0 = requests_now();
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(requests_now() - r0, 1);
    /* Refused credentials are not a reason to look anything up. */
    struct fault refused[] = {{.status = 401}};
    set_faults(refused, 1, false);
    r0 = requests_now();
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EPERM);
    assert_int_equal(requests_now() - r0, 1);

    /* A push with nothing to send asks the peer nothing; one with
     * something looks the collection up once, then only posts. */
    struct cairn_sync_flow p = {.url = url("/taxii2/"),
                                .remote = C2,
                                .local = L2,
                                .state_dir = state_dir,
                                .cb = on_reject,
                                .ud = &rj};
    r0 = requests_now();
    assert_int_equal(cairn_sync_push(c, local, &p, &res), 0);
    assert_int_equal(requests_now() - r0, 0);
    put(local, L2, sighting(1));
    assert_int_equal(cairn_sync_push(c, local, &p, &res), 0);
    assert_int_equal(res.stored, 1);
    assert_int_equal(cairn_sync_push(c, local, &p, &res), 0);
    assert_int_equal(res.received, 0);
    put(local, L2, sighting(2));
    r0 = requests_now();
    assert_int_equal(cairn_sync_push(c, local, &p, &res), 0);
    assert_int_equal(res.stored, 1);
    assert_int_equal(requests_now() - r0, 1); /* the POST, complete */
    cairn_taxii_client_free(c);
}

static void test_push_sightings(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 12; i++)
        put(local, L2, sighting(i));
    for (unsigned i = 0; i < 4; i++)
        put(local, L2, indicator(i));
    const char *types[] = {"sighting"};
    struct cairn_sync_flow f = {.url = url("/taxii2/"),
                                .remote = C2,
                                .local = L2,
                                .state_dir = state_dir,
                                .types = types,
                                .n_types = 1,
                                .limit = 5,
                                .cb = on_reject,
                                .ud = &rj};

    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.received, 12);
    assert_int_equal(res.stored, 12);
    assert_int_equal(res.rejected, 0);
    assert_int_equal(res.pages, 3); /* envelopes of at most 5 */
    assert_int_equal(count(srv.store, C2, "sighting"), 12);
    assert_int_equal(count(srv.store, C2, NULL), 12);

    /* Nothing new since: nothing sent. */
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.received, 0);
    assert_int_equal(res.pages, 0);

    /* One new sighting, and one the hub holds with other content. */
    put(local, L2, sighting(20));
    char other[600];
    snprintf(other, sizeof other, "%s", sighting(21));
    put(local, L2, other);
    *strstr(other, "\"count\":1") = '\0';
    strncat(other, "\"count\":2}", sizeof other - strlen(other) - 1);
    put(srv.store, C2, other);
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.received, 2);
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.rejected, 1);
    assert_non_null(strstr(rj.last, "sighting--00000000-0000-4000-8000-"
                                    "000000000021"));
    assert_non_null(strstr(rj.last, "refused by the peer"));
    cairn_taxii_client_free(c);
}

static void test_push_envelope_bytes(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    for (unsigned i = 0; i < 6; i++)
        put(local, L2, indicator(i));
    /* Room for about two indicators per envelope. */
    struct cairn_sync_flow f = {.url = url("/api1/"),
                                .remote = "Indicators",
                                .local = L2,
                                .state_dir = state_dir,
                                .max_bytes = 2 * strlen(indicator(0)) + 20,
                                .cb = on_reject,
                                .ud = &rj};
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.pages, 3);
    assert_int_equal(res.stored, 6);
    assert_int_equal(count(srv.store, C1, NULL), 6);

    /* An object bigger than any envelope is reported, and passed over. */
    put(local, L2, indicator(7));
    f.max_bytes = 100;
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.pages, 0);
    assert_non_null(strstr(rj.last, "more than the 100"));
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.received, 0);

    /* The hub down for good: an error, and the state does not move. */
    put(local, L2, indicator(8));
    f.max_bytes = 0;
    struct fault faults[] = {{.status = 500}};
    set_faults(faults, 1, true);
    assert_int_equal(cairn_sync_push(c, local, &f, &res), CAIRN_EIO);
    set_faults(NULL, 0, false);
    assert_int_equal(cairn_sync_push(c, local, &f, &res), 0);
    assert_int_equal(res.received, 1);
    assert_int_equal(res.stored, 1);
    cairn_taxii_client_free(c);
}

/* ---- peers that page otherwise than cairn ----------------------------------
 */

/*
 * A scripted peer as the OASIS reference server (medallion) behaves: every
 * object of one POST gets the same date_added, so `group` objects in a row
 * share one; `next` is handed out (or not) with a page's headers; the
 * server's own page size may be smaller than the limit asked for.
 * Objects from `same_from` on get the date_added of the one before it.
 */
struct med_peer {
    unsigned n, group, same_from;
    bool give_next;
    char last_query[1024];
    unsigned requests;
};
static struct med_peer med;

static void pct_decode(const char *s, size_t len, char *out, size_t out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < out_len; i++) {
        if (s[i] == '%' && i + 2 < len + 0 + 1 && i + 2 <= len) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

/* The value of query parameter `name`, decoded, or "". */
static void query_param(const char *q, const char *name, char *out,
                        size_t out_len)
{
    size_t nlen = strlen(name);
    out[0] = '\0';
    for (const char *p = q; p != NULL && *p != '\0';) {
        size_t len = strcspn(p, "&");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            pct_decode(p + nlen + 1, len - nlen - 1, out, out_len);
            return;
        }
        p = p[len] == '&' ? p + len + 1 : NULL;
    }
}

static struct cairn_time med_date(unsigned i)
{
    if (med.same_from > 0 && i >= med.same_from)
        i = med.same_from - 1;
    struct cairn_time t = {
        .sec = 1735689600 + (int64_t)(i / med.group), .nsec = 0, .digits = 6};
    return t;
}

static bool med_peer(const char *path, const char *query,
                     struct peer_reply *out)
{
    char after[64], limit[32], next[64];
    struct cairn_time a;
    bool has_after;

    (void)path;
    snprintf(med.last_query, sizeof med.last_query, "%s", query);
    med.requests++;
    query_param(query, "added_after", after, sizeof after);
    query_param(query, "limit", limit, sizeof limit);
    query_param(query, "next", next, sizeof next);
    has_after = after[0] != '\0' &&
                cairn_time_parse(after, strlen(after), false, &a) == 0;
    unsigned lim = limit[0] ? (unsigned)strtoul(limit, NULL, 10) : 100;
    unsigned first = 0; /* the first object after added_after */
    while (has_after && first < med.n) {
        struct cairn_time d = med_date(first);
        if (cairn_time_cmp(&d, &a) > 0)
            break;
        first++;
    }
    unsigned from =
        first + (next[0] ? (unsigned)strtoul(next + 1, NULL, 10) : 0);
    unsigned to = from + lim < med.n ? from + lim : med.n;
    bool more = to < med.n;
    size_t cap = 256 + (size_t)(to - from) * 700;
    out->body = malloc(cap);
    assert_non_null(out->body);
    size_t len = (size_t)snprintf(out->body, cap, "{\"more\":%s",
                                  more ? "true" : "false");
    if (more && med.give_next)
        len += (size_t)snprintf(out->body + len, cap - len, ",\"next\":\"o%u\"",
                                to - first);
    len += (size_t)snprintf(out->body + len, cap - len, ",\"objects\":[");
    for (unsigned i = from; i < to; i++)
        len += (size_t)snprintf(out->body + len, cap - len, "%s%s",
                                i > from ? "," : "", indicator(i));
    len += (size_t)snprintf(out->body + len, cap - len, "]}");
    out->len = len;
    if (to > from) {
        char t1[40], t2[40];
        struct cairn_time d1 = med_date(from), d2 = med_date(to - 1);
        cairn_time_format(&d1, 6, t1, sizeof t1);
        cairn_time_format(&d2, 6, t2, sizeof t2);
        snprintf(out->headers, sizeof out->headers,
                 "X-TAXII-Date-Added-First: %s\r\n"
                 "X-TAXII-Date-Added-Last: %s\r\n",
                 t1, t2);
    }
    return true;
}

static void set_peer(bool (*peer)(const char *, const char *,
                                  struct peer_reply *))
{
    pthread_mutex_lock(&srv.lock);
    srv.peer = peer;
    pthread_mutex_unlock(&srv.lock);
}

/* Each case: the peer's objects and paging, what one pull must bring. */
static const struct {
    const char *name;
    unsigned n, group;
    bool give_next;
    size_t limit;
    int rc;
    size_t stored;
    const char *message;
} tie_cases[] = {
    /* Page boundaries inside groups of one date_added: `next` is used. */
    {"next, 7 objects a date, pages of 10", 25, 7, true, 10, 0, 25, NULL},
    {"next, all at one date", 40, 40, true, 10, 0, 40, NULL},
    /* Without `next`, the next page starts at the last date seen. */
    {"dates only, 7 a date, pages of 10", 25, 7, false, 10, 0, 25, NULL},
    {"dates only, 3 a date, pages of 4", 30, 3, false, 4, 0, 30, NULL},
    /* More objects at one date than a page, and no `next`: they cannot
     * be paged through; an error, never a run that seems complete. */
    {"dates only, 15 a date, pages of 10", 25, 15, false, 10, CAIRN_EPARSE, 10,
     "larger page limit"},
};

static void test_pull_ties_at_page_boundaries(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;

    set_peer(med_peer);
    for (size_t k = 0; k < sizeof tie_cases / sizeof *tie_cases; k++) {
        struct rejects rj = {0};
        print_message("case: %s\n", tie_cases[k].name);
        make_collection(local, L1, "Into", NULL);
        rm_state();
        med.n = tie_cases[k].n;
        med.group = tie_cases[k].group;
        med.give_next = tie_cases[k].give_next;
        med.same_from = 0;
        struct cairn_sync_flow f = pull_flow(C1, &rj);
        f.limit = tie_cases[k].limit;
        assert_int_equal(cairn_sync_pull(c, local, &f, &res), tie_cases[k].rc);
        assert_int_equal(res.stored, tie_cases[k].stored);
        assert_int_equal(count(local, L1, NULL), tie_cases[k].stored);
        assert_int_equal(res.rejected, 0);
        if (tie_cases[k].message != NULL)
            assert_non_null(strstr(res.error, tie_cases[k].message));
    }

    /* Objects added later with the date_added the last run ended on are
     * fetched by the next run, not skipped. */
    make_collection(local, L1, "Into", NULL);
    rm_state();
    struct rejects rj = {0};
    struct cairn_sync_flow f = pull_flow(C1, &rj);
    med = (struct med_peer){.n = 20, .group = 5, .give_next = true};
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 20);
    med.n = 23;
    med.same_from = 20;
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.existed, 5); /* 15..19 share that date */
    assert_int_equal(count(local, L1, NULL), 23);
    cairn_taxii_client_free(c);
}

/* A progress file of the version before 2 held the last date seen: the
 * objects that shared it are fetched again, not skipped. */
static void test_pull_old_state_file(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};
    struct cairn_sync_flow f = pull_flow(C1, &rj);

    set_peer(med_peer);
    med = (struct med_peer){.n = 20, .group = 5, .give_next = true};
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    /* The file earlier versions kept, and nothing in the store yet. */
    char name[80], path[PATH_MAX + 128];
    assert_int_equal(cairn_sync_state_name(&f, false, name, sizeof name), 0);
    assert_int_equal(cairn_sync_forget(local, &f, false), 0);
    snprintf(path, sizeof path, "%s/%s.json", state_dir, name + 5);
    /* As version 1 wrote it after a page ending at objects 5..9's date. */
    FILE *w = fopen(path, "w");
    assert_non_null(w);
    fputs("{\"added_after\": \"2025-01-01T00:00:01.000000Z\"}\n", w);
    fclose(w);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 15); /* 5..19 */
    assert_int_equal(res.existed, 15);
    char text[4096];
    read_state(&f, text, sizeof text);
    assert_non_null(strstr(text, "\"version\":3"));
    /* Read once: the progress lives in the store now. */
    assert_int_equal(access(path, F_OK), -1);
    cairn_taxii_client_free(c);
}

/* ---- hostile peers ---------------------------------------------------------
 */

enum hostile_kind {
    H_SAME_NEXT,    /* new objects, but always the same next */
    H_SAME_PAGE,    /* the same object, a fresh next, no date headers */
    H_STALLED_DATE, /* the same object, a fresh next, the same dates */
    H_ENDLESS,      /* a new object a page, the date 1 µs later each time */
    H_MIXED,        /* one page: valid, oversized, bundle, valid */
};

/* Enough for old code to stop on its own instead of hanging the test. */
#define HOSTILE_GIVE_UP 3000

static struct {
    enum hostile_kind kind;
    unsigned requests;
    unsigned delay_ms;
    char last_query[1024];
} hostile;

#define BIG_LEN ((size_t)17 << 20) /* over CAIRN_STIX_MAX_OBJECT_LEN */

static bool hostile_peer(const char *path, const char *query,
                         struct peer_reply *out)
{
    (void)path;
    unsigned k = hostile.requests++;
    bool more = k + 1 < HOSTILE_GIVE_UP;
    snprintf(hostile.last_query, sizeof hostile.last_query, "%s", query);
    out->delay_ms = hostile.delay_ms;
    if (hostile.kind == H_MIXED) {
        size_t cap = BIG_LEN + 4096;
        char *b = malloc(cap);
        assert_non_null(b);
        size_t len =
            (size_t)snprintf(b, cap, "{\"objects\":[%s,", indicator(1));
        const char *head =
            "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
            "\"indicator--00000000-0000-4000-8000-00000000b16b\",\"created\":"
            "\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:"
            "00.000Z\",\"pattern\":\"[ipv4-addr:value = '10.1.1.1']\","
            "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:"
            "00Z\",\"description\":\"";
        memcpy(b + len, head, strlen(head));
        len += strlen(head);
        memset(b + len, 'a', BIG_LEN);
        len += BIG_LEN;
        len += (size_t)snprintf(
            b + len, cap - len,
            "\"},{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-"
            "8000-0000000000bb\",\"objects\":[%s]},",
            sighting(7));
        len += (size_t)snprintf(b + len, cap - len, "%s]}", indicator(2));
        out->body = b;
        out->len = len;
        snprintf(out->headers, sizeof out->headers,
                 "X-TAXII-Date-Added-First: 2025-01-01T00:00:00.000000Z\r\n"
                 "X-TAXII-Date-Added-Last: 2025-01-01T00:00:00.000000Z\r\n");
        return true;
    }
    unsigned obj =
        hostile.kind == H_SAME_NEXT || hostile.kind == H_ENDLESS ? k : 0;
    char next[64];
    snprintf(next, sizeof next, "%s",
             hostile.kind == H_SAME_NEXT ? "again" : "");
    if (next[0] == '\0')
        snprintf(next, sizeof next, "p%u", k + 1);
    out->body = malloc(1024);
    assert_non_null(out->body);
    out->len = (size_t)snprintf(out->body, 1024,
                                "{\"more\":%s,\"next\":\"%s\","
                                "\"objects\":[%s]}",
                                more ? "true" : "false", next, indicator(obj));
    if (hostile.kind != H_SAME_PAGE) {
        struct cairn_time t = {
            .sec = 1735689600,
            .nsec = hostile.kind == H_STALLED_DATE ? 0 : (int32_t)(k * 1000),
            .digits = 6};
        char ts[40];
        cairn_time_format(&t, 6, ts, sizeof ts);
        snprintf(out->headers, sizeof out->headers,
                 "X-TAXII-Date-Added-First: %s\r\n"
                 "X-TAXII-Date-Added-Last: %s\r\n",
                 ts, ts);
    }
    return true;
}

static const struct {
    enum hostile_kind kind;
    const char *message;
} loop_cases[] = {
    {H_SAME_NEXT, "same next ('again') twice"},
    {H_SAME_PAGE, "brings nothing new"},
    {H_STALLED_DATE, "brings nothing new"},
};

/* A peer that would keep the pull paging for ever is stopped, saying so. */
static void test_pull_hostile_loops(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;

    set_peer(hostile_peer);
    for (size_t k = 0; k < sizeof loop_cases / sizeof *loop_cases; k++) {
        struct rejects rj = {0};
        print_message("case: %s\n", loop_cases[k].message);
        rm_state();
        hostile.kind = loop_cases[k].kind;
        hostile.requests = 0;
        hostile.delay_ms = 0;
        struct cairn_sync_flow f = pull_flow(C1, &rj);
        assert_int_equal(cairn_sync_pull(c, local, &f, &res), CAIRN_EPARSE);
        assert_non_null(strstr(res.error, loop_cases[k].message));
        /* The loop shows on the second page. The fetcher holds up to
         * three pages (src/taxii/sync.c, SLOTS) and refills the first's
         * slot once it is stored: at most four requests, however the
         * threads are scheduled. */
        assert_true(hostile.requests <= 4);
        assert_false(res.incomplete);
    }
    cairn_taxii_client_free(c);
}

/* Pages and objects per run are bounded; the next run goes on from there. */
static void test_pull_bounds_and_resume(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    set_peer(hostile_peer);
    hostile.kind = H_ENDLESS;
    hostile.requests = 0;
    hostile.delay_ms = 0;
    struct cairn_sync_flow f = pull_flow(C1, &rj);
    f.max_pages = 5;
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_true(res.incomplete);
    assert_int_equal(res.pages, 5);
    assert_int_equal(res.stored, 5);
    assert_non_null(strstr(res.error, "the most pages a run takes"));
    assert_true(hostile.requests <= 6); /* at most one fetched ahead */
    char text[4096];
    read_state(&f, text, sizeof text);
    /* Page 5's date is 4 µs past the start: the next run starts 1 µs
     * before it. */
    assert_non_null(strstr(text, "2025-01-01T00:00:00.000003Z"));

    /* The next run resumes there, bounded by objects this time. */
    hostile.requests = 0;
    f.max_pages = 0;
    f.max_objects = 3;
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_true(res.incomplete);
    assert_int_equal(res.received, 3);
    assert_non_null(strstr(res.error, "the most objects a run takes"));
    assert_non_null(strstr(hostile.last_query, "added_after=2025-01-01T00"));
    assert_non_null(strstr(hostile.last_query, "00.000003Z"));

    /* A whole run has a deadline: a slow, endless peer is left after it,
     * with its progress kept. */
    hostile.requests = 0;
    hostile.delay_ms = 100;
    f.max_objects = 0;
    f.deadline = 2;
    int rc = cairn_sync_pull(c, local, &f, &res);
    /* Ended by the deadline: after some pages (incomplete), or, on a
     * machine so loaded that it came before the first page, as an error
     * that says so. */
    if (rc == 0)
        assert_true(res.incomplete);
    else
        assert_non_null(strstr(res.error, "deadline"));
    assert_non_null(strstr(res.error, "deadline"));
    assert_true(hostile.requests < HOSTILE_GIVE_UP);
    cairn_taxii_client_free(c);
}

/*
 * One object over 16 MiB and a bundle sent as an object on a page: both
 * are skipped, counted and named; the valid objects beside them are
 * stored, and the run goes on (it used to fail on that page for ever).
 */
static void test_pull_oversized_and_bundle(void **state)
{
    (void)state;
    struct cairn_taxii_client *c = client();
    struct cairn_sync_result res;
    struct rejects rj = {0};

    set_peer(hostile_peer);
    hostile.kind = H_MIXED;
    hostile.requests = 0;
    hostile.delay_ms = 0;
    struct cairn_sync_flow f = pull_flow(C1, &rj);
    assert_int_equal(cairn_sync_pull(c, local, &f, &res), 0);
    assert_int_equal(res.received, 4);
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(count(local, L1, NULL), 2);
    assert_int_equal(count(local, L1, "bundle"), 0);
    assert_int_equal(count(local, L1, "sighting"), 0);
    assert_int_equal(rj.n, 2);
    assert_non_null(strstr(rj.all, "indicator--00000000-0000-4000-8000-"
                                   "00000000b16b"));
    assert_non_null(strstr(rj.all, "more than the 16777216"));
    assert_non_null(strstr(rj.all, "bundle--00000000-0000-4000-8000-"
                                   "0000000000bb"));
    assert_non_null(strstr(rj.all, "a bundle is not a STIX object; post its "
                                   "objects"));
    cairn_taxii_client_free(c);
}

/* ---- peers in the configuration file
 * --------------------------------------------
 */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_peers_load(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s", state_dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/cairn.ini", dir);
    write_file(path,
               "[server]\nlisten = 127.0.0.1:0\ndata = node\n"
               "[peer hub]\nurl = https://hub.example/taxii2/\n"
               "user = member-a\npassword_file = hub.pw\ncacert = /etc/ca.pem\n"
               "pull = indicators -> " L1 "\n"
               "push = " L2 " -> sightings sighting, note\n"
               "interval = 60\n"
               "identity = identity--0b7c1c8e-0b7a-4c4e-9a54-2d8e1c3a4f10\n"
               "member = yes\nanonymize = pseudonym\n"
               "max_pages = 50\nmax_objects = 5000\ndeadline = 120\n"
               "restricted_marking = marking-definition--"
               "7d1c0f5e-3f1e-4b7a-9c5d-0e6f1a2b3c4d\n"
               "restricted_marking = marking-definition--"
               "7d1c0f5e-3f1e-4b7a-9c5d-0e6f1a2b3c4e\n"
               "[taxii]\ntitle = x\n"
               "[peer other]\nurl = http://127.0.0.1:1/api1/\n"
               "token_file = t\npull = " C1 " -> " L1 "\n");
    struct cairn_peers peers;
    struct cairn_diag d;
    assert_int_equal(cairn_peers_load(path, &peers, &d), 0);
    assert_int_equal(peers.n, 2);
    struct cairn_peer *p = &peers.peers[0];
    assert_string_equal(p->name, "hub");
    assert_string_equal(p->user, "member-a");
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/hub.pw", dir);
    assert_string_equal(p->password_file, want);
    assert_string_equal(p->cacert, "/etc/ca.pem");
    assert_int_equal(p->interval, 60);
    assert_int_equal(p->n_flows, 2);
    assert_false(p->flows[0].push);
    assert_string_equal(p->flows[0].remote, "indicators");
    assert_string_equal(p->flows[0].local, L1);
    assert_true(p->flows[1].push);
    assert_string_equal(p->flows[1].local, L2);
    assert_string_equal(p->flows[1].remote, "sightings");
    assert_int_equal(p->flows[1].n_types, 2);
    assert_string_equal(p->flows[1].types[1], "note");
    assert_string_equal(p->identity,
                        "identity--0b7c1c8e-0b7a-4c4e-9a54-2d8e1c3a4f10");
    assert_true(p->member);
    assert_int_equal(p->anonymize, CAIRN_SHARE_ANON_PSEUDONYM);
    assert_int_equal(p->max_pages, 50);
    assert_int_equal(p->max_objects, 5000);
    assert_int_equal(p->deadline, 120);
    assert_int_equal(peers.peers[1].max_pages, 0);
    assert_int_equal(p->n_restricted, 2);
    assert_string_equal(p->restricted[1], "marking-definition--"
                                          "7d1c0f5e-3f1e-4b7a-9c5d-0e6f1a2b3c4e");
    assert_int_equal(peers.peers[1].n_restricted, 0);
    /* Not said: no identity, not a member, sightings as they are. */
    assert_null(peers.peers[1].identity);
    assert_false(peers.peers[1].member);
    assert_int_equal(peers.peers[1].anonymize, CAIRN_SHARE_ANON_NO);
    assert_int_equal(peers.peers[1].interval, 300);
    snprintf(want, sizeof want, "%s/node", dir);
    assert_string_equal(peers.data, want);
    cairn_peers_release(&peers);
    unlink(path);
}

/* A mistake, the line it is on (0: the file as a whole), what is said. */
static const struct {
    const char *text;
    unsigned line;
    const char *message;
} bad_peers[] = {
    {"[peer a]\npull = x -> y\n", 0, "has no url"},
    {"[peer a]\nurl = http://h/\n", 0, "no pull or push line"},
    {"[peer a]\nurl = http://h/\npull = x y\n", 3, "expected pull = REMOTE"},
    {"[peer a]\nurl = http://h/\npull = x -> \n", 3, "expected pull"},
    {"[peer a]\nurl = http://h/\npull = x -> y sighting\n", 3,
     "pull takes no types"},
    {"[peer a]\nurl = http://h/\npush = x -> y Bad_Type\n", 3,
     "not a STIX type"},
    {"[peer a]\nurl = http://h/\nurl = http://i/\n", 3, "given twice"},
    {"[peer a]\nurl = http://h/\npull = x -> y\ncolour = red\n", 4,
     "unknown key 'colour'"},
    {"[peer a]\nurl = h\npull = x -> y\ninterval = 0\n", 4, "interval"},
    {"[peer a]\nurl = h\npull = x -> y\ninterval = 5s\n", 4, "interval"},
    {"[peer a]\nurl = h\npull = x -> y\n[peer a]\nurl = h\n", 5,
     "appears twice"},
    {"[peer a]\nurl = h\npull = x -> y\n[server]\nx=1\n[peer a]\nurl = h\n", 7,
     "appears twice"},
    {"[peer]\nurl = h\n", 2, "needs a name"},
    {"[peer a]\nurl = h\nuser = u\ntoken_file = t\npull = x -> y\n", 0,
     "exclude each other"},
    {"[peer a]\nurl = h\npassword_file = p\npull = x -> y\n", 0,
     "needs a user"},
    {"[peer a]\nurl = h\nkey = k\npull = x -> y\n", 0, "key needs a cert"},
    {"[peer a]\nurl = h\nthis line has no equals sign\n", 3,
     "expected [section]"},
    {"[peer a]\nurl = h\npull = x -> y\nidentity = hub\n", 4,
     "not identity--UUID"},
    {"[peer a]\nurl = h\npull = x -> y\nmember = maybe\n", 4, "not yes or no"},
    {"[peer a]\nurl = h\nmember = yes\nmember = no\npull = x -> y\n", 4,
     "member is given twice"},
    {"[peer a]\nurl = h\npull = x -> y\nanonymize = hash\n", 4,
     "not pseudonym, remove or no"},
    {"[peer a]\nurl = h\nanonymize = no\nanonymize = remove\n", 4,
     "anonymize is given twice"},
    {"[peer a]\nurl = h\npull = x -> y\nmax_pages = 0\n", 4,
     "max_pages: '0' is not a number from 1"},
    {"[peer a]\nurl = h\npull = x -> y\nmax_objects = many\n", 4,
     "max_objects: 'many'"},
    {"[peer a]\nurl = h\npull = x -> y\ndeadline = 1h\n", 4,
     "deadline: '1h' is not a number from 1 to 1000000000 (seconds)"},
    {"[peer a]\nurl = h\ndeadline = 60\ndeadline = 60\n", 4,
     "deadline is given twice"},
    {"[peer a]\nurl = h\npull = x -> y\nrestricted_marking = statement\n", 4,
     "not marking-definition--UUID"},
};

static void test_peers_mistakes(void **state)
{
    (void)state;
    char path[PATH_MAX + 16];
    mkdir(state_dir, 0700);
    snprintf(path, sizeof path, "%s/bad.ini", state_dir);
    for (size_t i = 0; i < sizeof bad_peers / sizeof *bad_peers; i++) {
        struct cairn_peers peers;
        struct cairn_diag d;
        print_message("case %zu: %s\n", i, bad_peers[i].message);
        write_file(path, bad_peers[i].text);
        assert_int_equal(cairn_peers_load(path, &peers, &d), CAIRN_EINVAL);
        assert_int_equal(peers.n, 0);
        assert_non_null(strstr(d.message, bad_peers[i].message));
        assert_int_equal(d.line, bad_peers[i].line);
        assert_string_equal(d.file, path);
    }
    struct cairn_peers peers;
    struct cairn_diag d;
    unlink(path);
    assert_int_equal(cairn_peers_load(path, &peers, &d), CAIRN_EIO);
}

static void test_sync_run_all(void **state)
{
    (void)state;
    char pw[PATH_MAX + 16], ini[PATH_MAX + 16], text[2048];
    mkdir(state_dir, 0700);
    snprintf(pw, sizeof pw, "%s/hub.pw", state_dir);
    snprintf(ini, sizeof ini, "%s/sync.ini", state_dir);
    write_file(pw, "member-pw\n");
    snprintf(text, sizeof text,
             "[peer hub]\nurl = %s/taxii2/\nuser = member\n"
             "password_file = hub.pw\n"
             "pull = indicators -> " L1 "\npush = " L2 " -> " C2 " sighting\n",
             srv.base);
    write_file(ini, text);
    for (unsigned i = 0; i < 3; i++)
        put(srv.store, C1, indicator(i));
    put(local, L2, sighting(1));
    put(local, L2, indicator(9)); /* not a sighting: stays */

    struct cairn_peers peers;
    struct cairn_diag d;
    assert_int_equal(cairn_peers_load(ini, &peers, &d), 0);
    struct cairn_taxii_client_opts base = {.backoff_ms = 1, .poll_ms = 5};
    struct cairn_sync_result total = {0};
    char data[PATH_MAX + 8];
    snprintf(data, sizeof data, "%s/..", state_dir);
    assert_int_equal(cairn_sync_run_all(&peers, local, data, &base, &total), 0);
    assert_int_equal(total.stored, 3 + 1);
    assert_int_equal(count(local, L1, NULL), 3);
    assert_int_equal(count(srv.store, C2, NULL), 1);

    /* A wrong password: the run reports the error, nothing moves. */
    write_file(pw, "not-it\n");
    memset(&total, 0, sizeof total);
    put(srv.store, C1, indicator(40));
    assert_int_equal(cairn_sync_run_all(&peers, local, data, &base, &total),
                     CAIRN_EPERM);
    assert_non_null(strstr(total.error, "peer hub: pull"));
    assert_non_null(strstr(total.error, "HTTP 401"));
    assert_int_equal(count(local, L1, NULL), 3);
    cairn_peers_release(&peers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_discovery_to_api_root, reset),
        cmocka_unit_test_setup(test_idle_runs_one_request, reset),
        cmocka_unit_test_setup(test_relative_and_ambiguous_discovery, reset),
        cmocka_unit_test_setup(test_paging_versions_manifest, reset),
        cmocka_unit_test_setup(test_add_polls_pending_status, reset),
        cmocka_unit_test_setup(test_auth, reset),
        cmocka_unit_test_setup(test_fault_table, reset),
        cmocka_unit_test_setup(test_retry_after_is_honoured, reset),
        cmocka_unit_test_setup(test_response_cap_and_bad_pages, reset),
        cmocka_unit_test_setup(test_fetch_files, reset),
        cmocka_unit_test_setup(test_cancel_stops_waiting, reset),
        cmocka_unit_test_setup(test_pull_incremental, reset),
        cmocka_unit_test_setup(test_pull_keeps_bytes, reset),
        cmocka_unit_test_setup(test_pull_interrupted_resumes, reset),
        cmocka_unit_test_setup(test_pull_errors, reset),
        cmocka_unit_test_setup(test_pull_ties_at_page_boundaries, reset),
        cmocka_unit_test_setup(test_pull_old_state_file, reset),
        cmocka_unit_test_setup(test_pull_hostile_loops, reset),
        cmocka_unit_test_setup(test_pull_bounds_and_resume, reset),
        cmocka_unit_test_setup(test_pull_oversized_and_bundle, reset),
        cmocka_unit_test_setup(test_push_sightings, reset),
        cmocka_unit_test_setup(test_push_bounded, reset),
        cmocka_unit_test_setup(test_push_envelope_bytes, reset),
        cmocka_unit_test_setup(test_peers_load, reset),
        cmocka_unit_test_setup(test_peers_mistakes, reset),
        cmocka_unit_test_setup(test_sync_run_all, reset),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
