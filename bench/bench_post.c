/* SPDX-License-Identifier: Apache-2.0 */
/* POSTs TAXII envelopes from several keep-alive clients and waits for them. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cairn/cairn.h"

/*
 * Usage: bench_post URL BASIC_AUTH CLIENTS FILE...
 * URL is a collection's objects URL (.../collections/ID/objects/). CLIENTS
 * threads, each with one keep-alive connection, POST the files (one
 * envelope each); then one connection polls every status resource until it
 * is complete. Prints seconds until the last POST was answered, seconds
 * until the last status was complete, objects (sum of total_count),
 * successes and failures. A curl and a jq process per request would time
 * process start-up rather than the server.
 */

#define TAXII_TYPE "application/taxii+json;version=2.1"
#define FILE_MAX   ((size_t)256 << 20)
/* A status of 5,000 objects is ~600 KB. */
#define RESP_MAX      ((size_t)64 << 20)
#define CLIENTS_MAX   256
#define ID_MAX        128
#define STATUS_WAIT_S 600.0
#define POLL_NS       10000000L

/* The members of a status resource this program reads. */
struct status {
    char id[ID_MAX];
    bool complete;
    long long total, success, failure;
};

struct job {
    const char *url;
    const char *auth_header;
    char **files;
    struct cairn_buf *bodies;
    struct status *st;
    size_t n;
    atomic_size_t next;
    atomic_bool failed;
};

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    /* A short count makes curl fail the transfer with CURLE_WRITE_ERROR. */
    return cairn_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static int read_file(const char *path, struct cairn_buf *b)
{
    char chunk[65536];
    size_t got;
    int rc = 0;
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        fprintf(stderr, "bench_post: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (cairn_buf_append(b, chunk, got) != 0) {
            fprintf(stderr, "bench_post: %s: too large\n", path);
            rc = -1;
            goto out;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "bench_post: %s: read error\n", path);
        rc = -1;
    }
out:
    fclose(f);
    return rc;
}

/* ---- a scan of the status resource's top-level members ------------------
 * The counts come before the per-object lists, so a scan that stops once it
 * has them reads a few hundred bytes instead of parsing ~600 KB per poll.
 */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at the opening quote; returns the byte after the closing one or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Any JSON value; returns the byte after it or NULL. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    while (p < end) {
        char ch = *p;
        if (ch == '"') {
            p = skip_string(p, end);
            if (p == NULL || depth == 0)
                return p;
            continue;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0)
                return p; /* the end of a scalar in its container */
            if (--depth == 0)
                return p + 1;
        } else if (depth == 0 && (ch == ',' || ch == ' ' || ch == '\t' ||
                                  ch == '\n' || ch == '\r')) {
            return p;
        }
        p++;
    }
    return NULL;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
    return klen == strlen(want) && memcmp(k, want, klen) == 0;
}

/* A string without escapes into `out`. */
static int get_string(const char *v, const char *end, char *out, size_t size)
{
    if (*v != '"')
        return -1;
    const char *close = skip_string(v, end);
    if (close == NULL)
        return -1;
    size_t len = (size_t)(close - v) - 2;
    if (len >= size || memchr(v + 1, '\\', len) != NULL)
        return -1;
    memcpy(out, v + 1, len);
    out[len] = '\0';
    return 0;
}

static int get_count(const char *v, const char *end, long long *out)
{
    char num[24];
    size_t len = 0;

    while (v + len < end && len < sizeof num - 1 && v[len] >= '0' &&
           v[len] <= '9')
        len++;
    if (len == 0 || len >= sizeof num - 1)
        return -1;
    memcpy(num, v, len);
    num[len] = '\0';
    errno = 0;
    *out = strtoll(num, NULL, 10);
    return errno == 0 ? 0 : -1;
}

enum { F_ID = 1, F_STATUS = 2, F_TOTAL = 4, F_SUCCESS = 8, F_FAILURE = 16 };
#define F_ALL 31

static int parse_status(const char *body, size_t len, struct status *st)
{
    const char *end = body + len;
    const char *p = skip_ws(body, end);
    char word[16];
    unsigned found = 0;

    if (p >= end || *p++ != '{')
        return -1;
    while (found != F_ALL) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return -1;
        const char *k = p + 1;
        p = skip_string(p, end);
        if (p == NULL)
            return -1;
        size_t klen = (size_t)(p - k) - 1;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
            return -1;
        p = skip_ws(p, end);
        if (p >= end)
            return -1;
        int rc = 0;
        if (key_is(k, klen, "id")) {
            rc = get_string(p, end, st->id, sizeof st->id);
            found |= F_ID;
        } else if (key_is(k, klen, "status")) {
            rc = get_string(p, end, word, sizeof word);
            st->complete = rc == 0 && strcmp(word, "complete") == 0;
            if (rc == 0 && !st->complete && strcmp(word, "pending") != 0)
                rc = -1;
            found |= F_STATUS;
        } else if (key_is(k, klen, "total_count")) {
            rc = get_count(p, end, &st->total);
            found |= F_TOTAL;
        } else if (key_is(k, klen, "success_count")) {
            rc = get_count(p, end, &st->success);
            found |= F_SUCCESS;
        } else if (key_is(k, klen, "failure_count")) {
            rc = get_count(p, end, &st->failure);
            found |= F_FAILURE;
        }
        if (rc < 0)
            return -1;
        if (found == F_ALL)
            break;
        p = skip_value(p, end);
        if (p == NULL)
            return -1;
        p = skip_ws(p, end);
        if (p >= end || *p == '}')
            return -1; /* the object ended without every member */
        if (*p++ != ',')
            return -1;
    }
    return st->id[0] != '\0' ? 0 : -1;
}

/* ---- HTTP ----------------------------------------------------------------
 */

static CURL *handle(struct curl_slist *headers, struct cairn_buf *resp)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return NULL;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    return c;
}

/* One request on `c`; its body into `resp`, parsed into `st`. */
static int exchange(CURL *c, const char *what, struct cairn_buf *resp,
                    struct status *st)
{
    long code = 0;

    cairn_buf_reset(resp);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        fprintf(stderr, "bench_post: %s: %s\n", what,
                cc == CURLE_WRITE_ERROR ? "response too large"
                                        : curl_easy_strerror(cc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 && code != 201 && code != 202) {
        fprintf(stderr, "bench_post: %s: HTTP %ld: %.300s\n", what, code,
                resp->data != NULL ? resp->data : "");
        return -1;
    }
    memset(st, 0, sizeof *st);
    if (resp->data == NULL || parse_status(resp->data, resp->len, st) < 0) {
        fprintf(stderr, "bench_post: %s: not a status resource: %.300s\n", what,
                resp->data != NULL ? resp->data : "");
        return -1;
    }
    return 0;
}

static struct curl_slist *headers(const char *auth_header, bool post)
{
    struct curl_slist *h = NULL, *t;
    const char *lines[] = {
        auth_header, "Accept: " TAXII_TYPE,
        /* 1.5 MB bodies: no wait for a "100 Continue" first. */
        post ? "Content-Type: " TAXII_TYPE : NULL, post ? "Expect:" : NULL};

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (lines[i] == NULL)
            continue;
        t = curl_slist_append(h, lines[i]);
        if (t == NULL) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = t;
    }
    return h;
}

static void *client(void *arg)
{
    struct job *j = arg;
    struct cairn_buf resp;
    cairn_buf_init(&resp, RESP_MAX);
    struct curl_slist *h = headers(j->auth_header, true);
    CURL *c = h != NULL ? handle(h, &resp) : NULL;
    if (c == NULL) {
        fprintf(stderr, "bench_post: cannot set up a curl handle\n");
        atomic_store(&j->failed, true);
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    while (!atomic_load(&j->failed)) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            break;
        char what[600];
        snprintf(what, sizeof what, "POST %s", j->files[i]);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->bodies[i].data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)j->bodies[i].len);
        if (exchange(c, what, &resp, &j->st[i]) < 0)
            atomic_store(&j->failed, true);
    }
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    cairn_buf_release(&resp);
    return NULL;
}

/* URL up to and including ".../": the API root, for its status/ resources. */
static int status_base(const char *url, char *out, size_t size)
{
    const char *tail = NULL;

    for (const char *p = url; (p = strstr(p, "/collections/")) != NULL; p++)
        tail = p;
    if (tail == NULL)
        return -1;
    int n = snprintf(out, size, "%.*sstatus/", (int)(tail + 1 - url), url);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Polls every status resource not yet complete; 0 or -1. */
static int wait_all(const char *base, const char *auth_header,
                    struct status *st, size_t n)
{
    struct cairn_buf resp;
    char url[1024];
    int rc = -1;

    cairn_buf_init(&resp, RESP_MAX);
    struct curl_slist *h = headers(auth_header, false);
    CURL *c = h != NULL ? handle(h, &resp) : NULL;
    if (c == NULL) {
        fprintf(stderr, "bench_post: cannot set up a curl handle\n");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(url, sizeof url, "%s%s/", base, st[i].id);
        if (len < 0 || (size_t)len >= sizeof url)
            goto out;
        curl_easy_setopt(c, CURLOPT_URL, url);
        double give_up = now() + STATUS_WAIT_S;
        while (!st[i].complete) {
            struct status got;
            char what[1100];
            snprintf(what, sizeof what, "GET %s", url);
            if (exchange(c, what, &resp, &got) < 0)
                goto out;
            if (strcmp(got.id, st[i].id) != 0) {
                fprintf(stderr, "bench_post: %s: the status of %s\n", url,
                        got.id);
                goto out;
            }
            st[i] = got;
            if (st[i].complete)
                break;
            if (now() > give_up) {
                fprintf(stderr, "bench_post: %s: still pending after %.0f s\n",
                        url, STATUS_WAIT_S);
                goto out;
            }
            nanosleep(&(struct timespec){.tv_nsec = POLL_NS}, NULL);
        }
    }
    rc = 0;
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    cairn_buf_release(&resp);
    return rc;
}

int main(int argc, char **argv)
{
    struct job j = {0};
    pthread_t tids[CLIENTS_MAX];
    char auth_header[1024];
    char base[1024];
    size_t started = 0;
    int rc = 1;

    if (argc < 5) {
        fprintf(stderr, "usage: bench_post URL BASIC_AUTH CLIENTS FILE...\n");
        return 2;
    }
    char *endp;
    long clients = strtol(argv[3], &endp, 10);
    if (*endp != '\0' || clients < 1 || clients > CLIENTS_MAX) {
        fprintf(stderr, "bench_post: CLIENTS must be 1 to %d\n", CLIENTS_MAX);
        return 2;
    }
    int hl = snprintf(auth_header, sizeof auth_header,
                      "Authorization: Basic %s", argv[2]);
    if (hl < 0 || (size_t)hl >= sizeof auth_header ||
        status_base(argv[1], base, sizeof base) < 0) {
        fprintf(stderr, "bench_post: URL must end in collections/ID/objects/ "
                        "(and URL and BASIC_AUTH be short)\n");
        return 2;
    }
    cairn_alloc_init();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "bench_post: curl_global_init failed\n");
        return 1;
    }
    j.url = argv[1];
    j.auth_header = auth_header;
    j.files = argv + 4;
    j.n = (size_t)argc - 4;
    j.bodies = cairn_calloc(j.n, sizeof *j.bodies);
    j.st = cairn_calloc(j.n, sizeof *j.st);
    if (j.bodies == NULL || j.st == NULL) {
        fprintf(stderr, "bench_post: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < j.n; i++) {
        cairn_buf_init(&j.bodies[i], FILE_MAX);
        if (read_file(j.files[i], &j.bodies[i]) < 0)
            goto out;
    }

    double t0 = now();
    for (; started < (size_t)clients; started++) {
        if (pthread_create(&tids[started], NULL, client, &j) != 0) {
            fprintf(stderr, "bench_post: cannot start a client thread\n");
            atomic_store(&j.failed, true);
            break;
        }
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (atomic_load(&j.failed))
        goto out;
    double posted = now() - t0;
    if (wait_all(base, auth_header, j.st, j.n) < 0)
        goto out;
    double complete = now() - t0;

    long long objects = 0, successes = 0, failures = 0;
    for (size_t i = 0; i < j.n; i++) {
        objects += j.st[i].total;
        successes += j.st[i].success;
        failures += j.st[i].failure;
    }
    printf("%.3f %.3f %lld %lld %lld\n", posted, complete, objects, successes,
           failures);
    rc = 0;
out:
    if (j.bodies != NULL) {
        for (size_t i = 0; i < j.n; i++)
            cairn_buf_release(&j.bodies[i]);
    }
    cairn_free(j.bodies);
    cairn_free(j.st);
    curl_global_cleanup();
    return rc;
}
