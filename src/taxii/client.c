/* SPDX-License-Identifier: Apache-2.0 */
/* The TAXII 2.1 client: HTTP over libcurl, retries, checked responses. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "cairn/stix.h"
#include "cairn/taxii.h"
#include "taxii/client_int.h"

#define DEF_CONNECT_MS      10000u
#define DEF_TIMEOUT_MS      120000u
#define DEF_MAX_RESPONSE    ((size_t)256 << 20)
#define DEF_ATTEMPTS        4u
#define DEF_BACKOFF_MS      500u
#define DEF_BACKOFF_MAX_MS  30000u
#define DEF_RETRY_AFTER_MAX 300000u
#define DEF_POLL_MS         1000u
#define DEF_POLL_TIMEOUT_MS 300000u
/*
 * A transfer slower than LOW_SPEED_BYTES a second for LOW_SPEED_SECS is
 * given up (and retried as a timeout is): a server that drips a byte now
 * and then must not hold a run for the whole timeout.
 */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_SECS  30L
/* Longest URL the client builds; TAXII servers refuse far shorter ones. */
#define URL_MAX 8192

struct cairn_taxii_client {
    CURL *curl;
    char *user;
    char *password;
    char *auth_header; /* "Authorization: Bearer ..." or NULL */
    char *cacert;
    char *cert;
    char *key;
    unsigned connect_ms, timeout_ms, attempts, backoff_ms, backoff_max_ms;
    unsigned retry_after_max_ms, poll_ms, poll_timeout_ms;
    size_t max_response;
    bool (*cancelled)(void *ud);
    void *cancel_ud;
    unsigned long requests, retries;
    char err[512];
    atomic_bool aborted; /* cairn__taxii_client_abort: from another thread */
    int64_t deadline;    /* monotonic ms; 0: none */
    const char *canned;  /* cairn__taxii_client_canned, or NULL */
    size_t canned_len;
};

/* What one HTTP exchange brought back. */
struct reply {
    bool any_type; /* set by the caller: a file, any media type, as it is */
    long status;
    struct cairn_buf body;
    bool too_big;
    char content_type[128];
    char retry_after[64];
    char added_first[48];
    char added_last[48];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void set_error(struct cairn_taxii_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct cairn_taxii_client *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    /* The text may quote a server: keep it on one printable line. */
    for (char *p = c->err; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
}

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return 0;
    *out = cairn_strdup(s);
    return *out == NULL ? CAIRN_ENOMEM : 0;
}

void cairn_taxii_client_free(struct cairn_taxii_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    if (c->password != NULL)
        explicit_bzero(c->password, strlen(c->password));
    if (c->auth_header != NULL)
        explicit_bzero(c->auth_header, strlen(c->auth_header));
    cairn_free(c->user);
    cairn_free(c->password);
    cairn_free(c->auth_header);
    cairn_free(c->cacert);
    cairn_free(c->cert);
    cairn_free(c->key);
    cairn_free(c);
}

static unsigned or_default(unsigned v, unsigned def)
{
    return v != 0 ? v : def;
}

int cairn_taxii_client_new(const struct cairn_taxii_client_opts *opts,
                           struct cairn_taxii_client **out)
{
    static const struct cairn_taxii_client_opts none = {0};
    struct cairn_taxii_client *c = NULL;
    int rc = CAIRN_EINTERNAL;

    *out = NULL;
    if (opts == NULL)
        opts = &none;
    if (opts->token != NULL && opts->user != NULL) {
        rc = CAIRN_EINVAL;
        goto out;
    }
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK) {
        rc = CAIRN_EIO;
        goto out;
    }
    c = cairn_calloc(1, sizeof *c);
    if (c == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    c->connect_ms = or_default(opts->connect_timeout_ms, DEF_CONNECT_MS);
    c->timeout_ms = or_default(opts->timeout_ms, DEF_TIMEOUT_MS);
    c->attempts = or_default(opts->max_attempts, DEF_ATTEMPTS);
    c->backoff_ms = or_default(opts->backoff_ms, DEF_BACKOFF_MS);
    c->backoff_max_ms = or_default(opts->backoff_max_ms, DEF_BACKOFF_MAX_MS);
    c->retry_after_max_ms =
        or_default(opts->retry_after_max_ms, DEF_RETRY_AFTER_MAX);
    c->poll_ms = or_default(opts->poll_ms, DEF_POLL_MS);
    c->poll_timeout_ms = or_default(opts->poll_timeout_ms, DEF_POLL_TIMEOUT_MS);
    c->max_response =
        opts->max_response_len != 0 ? opts->max_response_len : DEF_MAX_RESPONSE;
    c->cancelled = opts->cancelled;
    c->cancel_ud = opts->cancel_ud;
    if ((rc = dup_opt(opts->user, &c->user)) < 0 ||
        (rc = dup_opt(
             opts->user != NULL && opts->password == NULL ? "" : opts->password,
             &c->password)) < 0 ||
        (rc = dup_opt(opts->cacert, &c->cacert)) < 0 ||
        (rc = dup_opt(opts->cert, &c->cert)) < 0 ||
        (rc = dup_opt(opts->key, &c->key)) < 0)
        goto out;
    if (opts->token != NULL) {
        size_t len = strlen("Authorization: Bearer ") + strlen(opts->token) + 1;
        c->auth_header = cairn_malloc(len);
        if (c->auth_header == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        snprintf(c->auth_header, len, "Authorization: Bearer %s", opts->token);
    }
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    cairn_taxii_client_free(c);
    return rc;
}

const char *cairn_taxii_client_error(const struct cairn_taxii_client *c)
{
    return c != NULL ? c->err : "";
}

void cairn_taxii_client_counters(const struct cairn_taxii_client *c,
                                 unsigned long *requests,
                                 unsigned long *retries)
{
    if (requests != NULL)
        *requests = c->requests;
    if (retries != NULL)
        *retries = c->retries;
}

/* ---- one exchange ---------------------------------------------------------
 */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;

    if (cairn_buf_append(&r->body, p, len) < 0) {
        r->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

/* Copy a header's value, trimmed, if `line` is that header. */
static bool header_value(const char *line, size_t len, const char *name,
                         char *out, size_t out_len)
{
    size_t nlen = strlen(name);

    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
        return false;
    const char *v = line + nlen + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                       end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    if (vlen >= out_len)
        vlen = out_len - 1; /* a longer value is wrong anyway */
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n;

    /* A new response (after a 100 Continue, say) starts afresh. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->content_type[0] = r->retry_after[0] = '\0';
        r->added_first[0] = r->added_last[0] = '\0';
        return len;
    }
    if (!header_value(p, len, "Content-Type", r->content_type,
                      sizeof r->content_type) &&
        !header_value(p, len, "Retry-After", r->retry_after,
                      sizeof r->retry_after) &&
        !header_value(p, len, "X-TAXII-Date-Added-First", r->added_first,
                      sizeof r->added_first))
        header_value(p, len, "X-TAXII-Date-Added-Last", r->added_last,
                     sizeof r->added_last);
    return len;
}

int64_t cairn__taxii_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool past_deadline(const struct cairn_taxii_client *c)
{
    return c->deadline != 0 && cairn__taxii_now_ms() >= c->deadline;
}

/* Whether the request in progress must end now. */
static bool must_stop(struct cairn_taxii_client *c)
{
    return atomic_load(&c->aborted) ||
           (c->cancelled != NULL && c->cancelled(c->cancel_ud)) ||
           past_deadline(c);
}

/* Why must_stop stopped a request, for the error message. */
static const char *stop_reason(const struct cairn_taxii_client *c)
{
    return past_deadline(c) ? "stopped at the run's deadline" : "cancelled";
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
    struct cairn_taxii_client *c = ud;

    (void)dt, (void)dn, (void)ut, (void)un;
    return must_stop(c) ? 1 : 0;
}

/* A canned response (cairn__taxii_client_canned) through the callbacks. */
static CURLcode canned_exchange(struct cairn_taxii_client *c, struct reply *r)
{
    const char *p = c->canned, *end = c->canned + c->canned_len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char line[1024];

    if (nl == NULL)
        return CURLE_GOT_NOTHING;
    r->status = 0;
    for (const char *q = p;
         q < nl && *q >= '0' && *q <= '9' && r->status < 1000; q++)
        r->status = r->status * 10 + (*q - '0');
    p = nl + 1;
    while (p < end && *p != '\n') {
        nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        on_header(line, 1, len, r);
        p = nl != NULL ? nl + 1 : end;
    }
    if (p < end)
        p++; /* the empty line */
    if (p < end && on_body((char *)p, 1, (size_t)(end - p), r) == 0)
        return CURLE_WRITE_ERROR;
    return CURLE_OK;
}

static CURLcode exchange(struct cairn_taxii_client *c, const char *method,
                         const char *url, const char *body, size_t len,
                         struct reply *r)
{
    struct curl_slist *hdrs = NULL, *h;
    CURL *k = c->curl;
    CURLcode cc;

    cairn_buf_reset(&r->body);
    r->status = 0;
    r->too_big = false;
    r->content_type[0] = r->retry_after[0] = '\0';
    r->added_first[0] = r->added_last[0] = '\0';

    h = curl_slist_append(hdrs, r->any_type ? "Accept: */*"
                                            : "Accept: " CAIRN_TAXII_MEDIA);
    if (h == NULL)
        return CURLE_OUT_OF_MEMORY;
    hdrs = h;
    /* No "Expect: 100-continue" round trip before a POST body. */
    if ((h = curl_slist_append(hdrs, "Expect:")) == NULL)
        goto nomem;
    hdrs = h;
    if (body != NULL) {
        if ((h = curl_slist_append(hdrs, "Content-Type: " CAIRN_TAXII_MEDIA)) ==
            NULL)
            goto nomem;
        hdrs = h;
    }
    if (c->auth_header != NULL) {
        if ((h = curl_slist_append(hdrs, c->auth_header)) == NULL)
            goto nomem;
        hdrs = h;
    }

    if (c->canned != NULL) {
        c->requests++;
        curl_slist_free_all(hdrs);
        return canned_exchange(c, r);
    }
    long timeout = (long)c->timeout_ms;
    if (c->deadline != 0) {
        int64_t left = c->deadline - cairn__taxii_now_ms();
        if (left < timeout)
            timeout = left > 1 ? (long)left : 1;
    }
    curl_easy_reset(k);
    curl_easy_setopt(k, CURLOPT_URL, url);
    curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    /* Credentials must not follow a redirect to another host. */
    curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_ms);
    curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(k, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(k, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_SECS);
    curl_easy_setopt(k, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(k, CURLOPT_USERAGENT, "cairn/" CAIRN_VERSION_STRING);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(k, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->cacert != NULL)
        curl_easy_setopt(k, CURLOPT_CAINFO, c->cacert);
    if (c->cert != NULL)
        curl_easy_setopt(k, CURLOPT_SSLCERT, c->cert);
    if (c->key != NULL)
        curl_easy_setopt(k, CURLOPT_SSLKEY, c->key);
    if (c->user != NULL) {
        curl_easy_setopt(k, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(k, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(k, CURLOPT_PASSWORD, c->password);
    }
    if (body != NULL) {
        curl_easy_setopt(k, CURLOPT_POST, 1L);
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    }
    c->requests++;
    cc = curl_easy_perform(k);
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    return cc;
nomem:
    curl_slist_free_all(hdrs);
    return CURLE_OUT_OF_MEMORY;
}

/* ---- waiting ---------------------------------------------------------------
 */

static int64_t now_ms(void)
{
    return cairn__taxii_now_ms();
}

/* Sleep `ms`, in slices so that cancellation is noticed; false if it is. */
static bool wait_ms(struct cairn_taxii_client *c, unsigned ms)
{
    int64_t end = now_ms() + ms;

    for (;;) {
        if (must_stop(c))
            return false;
        int64_t left = end - now_ms();
        if (left <= 0)
            return true;
        if (left > 50)
            left = 50;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/*
 * Delay before retry `attempt` (1 for the first retry): exponential, capped,
 * with "equal jitter" (half fixed, half random) so that clients that failed
 * together do not come back together, yet each waits a sensible minimum.
 */
static unsigned backoff(const struct cairn_taxii_client *c, unsigned attempt)
{
    uint64_t d = c->backoff_ms;

    for (unsigned i = 1; i < attempt && d < c->backoff_max_ms; i++)
        d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
        rnd = (uint32_t)now_ms() * 2654435761u;
    uint64_t half = d / 2;
    return (unsigned)(half + (half > 0 ? rnd % (half + 1) : 0));
}

/* Retry-After in ms (seconds or an HTTP date), or 0 when absent or bad. */
static unsigned retry_after_ms(const struct cairn_taxii_client *c,
                               const char *v)
{
    uint64_t ms = 0;

    if (v[0] == '\0')
        return 0;
    if (strspn(v, "0123456789") == strlen(v)) {
        errno = 0;
        unsigned long long s = strtoull(v, NULL, 10);
        ms = errno != 0 || s > UINT32_MAX ? UINT64_MAX : s * 1000ull;
    } else {
        time_t when = curl_getdate(v, NULL);
        time_t now = time(NULL);
        if (when < 0)
            return 0;
        ms = when > now ? (uint64_t)(when - now) * 1000ull : 0;
    }
    return ms > c->retry_after_max_ms ? c->retry_after_max_ms : (unsigned)ms;
}

/* ---- checked requests -------------------------------------------------------
 */

/* The server's error resource as "title: description", when it sent one. */
static void server_says(const struct reply *r, char *out, size_t len)
{
    json_t *j = NULL;

    out[0] = '\0';
    if (r->body.len == 0 ||
        cairn_json_parse(r->body.data, r->body.len, &j, NULL) < 0)
        return;
    const char *title = json_string_value(json_object_get(j, "title"));
    const char *desc = json_string_value(json_object_get(j, "description"));
    if (title != NULL || desc != NULL)
        snprintf(out, len, " (%.100s%s%.200s)", title ? title : "",
                 title && desc ? ": " : "", desc ? desc : "");
    json_decref(j);
}

/* Whether a Content-Type is TAXII 2.1 JSON (parameters in any order). */
static bool taxii_media(const char *ct)
{
    const char *base = "application/taxii+json";
    size_t blen = strlen(base);
    bool version_ok = true;

    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, base, blen) != 0)
        return false;
    const char *p = ct + blen;
    while (*p == ' ')
        p++;
    if (*p != '\0' && *p != ';')
        return false;
    while (*p == ';') {
        p++;
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ";");
        const char *eq = memchr(p, '=', n);
        if (eq != NULL && (size_t)(eq - p) == 7 &&
            strncasecmp(p, "version", 7) == 0) {
            const char *v = eq + 1;
            size_t vlen = n - 8;
            while (vlen > 0 && v[vlen - 1] == ' ')
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            version_ok = vlen == 3 && memcmp(v, "2.1", 3) == 0;
        }
        p += n;
    }
    return version_ok;
}

static bool transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return true;
    default:
        return false;
    }
}

static bool transient_status(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/*
 * One request with retries. On success *out is the response's JSON object
 * and `r` holds its headers. `expect` is the success status (200 or 202).
 * With `raw`, the body is read into it as an envelope instead, and *out
 * stays NULL.
 */
static int request_ex(struct cairn_taxii_client *c, const char *method,
                      const char *url, const char *body, size_t len,
                      long expect, struct reply *r, json_t **out,
                      struct taxii_raw_page *raw, size_t max_items)
{
    char why[400] = "";
    int rc = CAIRN_EIO;

    *out = NULL;
    c->err[0] = '\0';
    for (unsigned attempt = 1;; attempt++) {
        struct cairn_diag diag;
        unsigned delay = 0;
        bool retry = false;

        CURLcode cc = exchange(c, method, url, body, len, r);
        if (cc == CURLE_ABORTED_BY_CALLBACK) {
            set_error(c, "%s %s: %s", method, url, stop_reason(c));
            return CAIRN_EIO;
        }
        if (cc == CURLE_OUT_OF_MEMORY) {
            set_error(c, "%s %s: out of memory", method, url);
            return CAIRN_ENOMEM;
        }
        if (cc != CURLE_OK && past_deadline(c)) {
            set_error(c, "%s %s: %s", method, url, stop_reason(c));
            return CAIRN_EIO;
        }
        if (r->too_big) {
            set_error(c, "%s %s: the response is larger than %zu bytes", method,
                      url, c->max_response);
            return CAIRN_ETOOBIG;
        }
        if (cc != CURLE_OK) {
            snprintf(why, sizeof why, "%s", curl_easy_strerror(cc));
            if (!transient_curl(cc)) {
                set_error(c, "%s %s: %s", method, url, why);
                return cc == CURLE_URL_MALFORMAT ||
                               cc == CURLE_UNSUPPORTED_PROTOCOL
                           ? CAIRN_EINVAL
                           : CAIRN_EIO;
            }
            retry = true;
            rc = CAIRN_EIO;
        } else if (r->status != expect) {
            char said[320];
            server_says(r, said, sizeof said);
            snprintf(why, sizeof why, "HTTP %ld%s", r->status, said);
            if (!transient_status(r->status)) {
                if (r->status == 401)
                    set_error(c,
                              "%s %s: %s: the server did not accept the "
                              "credentials (user and password, or token)",
                              method, url, why);
                else if (r->status == 403)
                    set_error(c, "%s %s: %s: not allowed for this user", method,
                              url, why);
                else
                    set_error(c, "%s %s: %s", method, url, why);
                if (r->status == 401 || r->status == 403)
                    return CAIRN_EPERM;
                if (r->status == 404)
                    return CAIRN_ENOTFOUND;
                if (r->status == 413)
                    return CAIRN_ETOOBIG;
                return CAIRN_EIO;
            }
            retry = true;
            rc = CAIRN_EIO;
            delay = retry_after_ms(c, r->retry_after);
        } else if (r->any_type) {
            return 0;
        } else if (!taxii_media(r->content_type)) {
            set_error(
                c, "%s %s: the response is '%.100s', not " CAIRN_TAXII_MEDIA,
                method, url, r->content_type[0] ? r->content_type : "untyped");
            return CAIRN_EPARSE;
        } else if (raw != NULL &&
                   (rc = cairn__taxii_envelope_read(raw, r->body.data,
                                                    r->body.len, max_items,
                                                    &diag)) < 0 &&
                   rc != CAIRN_EPARSE) {
            /* Whole JSON, but not a page (or over a limit): final. */
            set_error(c, "%s %s: not a TAXII page: %.300s", method, url,
                      diag.message);
            return rc == CAIRN_ENOMEM    ? rc
                   : rc == CAIRN_ETOOBIG ? rc
                                         : CAIRN_EPARSE;
        } else if (raw != NULL ? rc < 0
                               : cairn_json_parse(r->body.data, r->body.len,
                                                  out, &diag) < 0) {
            /* Often a body cut short: worth another try. */
            snprintf(why, sizeof why,
                     "malformed JSON in the response at line %u, column %u: "
                     "%.200s",
                     diag.line, diag.column, diag.message);
            retry = true;
            rc = CAIRN_EPARSE;
        } else if (raw == NULL && !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            set_error(c, "%s %s: the response is JSON but not an object",
                      method, url);
            return CAIRN_EPARSE;
        } else {
            return 0;
        }
        if (!retry || attempt >= c->attempts) {
            set_error(c, "%s %s: %s; gave up after %u attempt%s", method, url,
                      why, attempt, attempt == 1 ? "" : "s");
            return rc;
        }
        unsigned b = backoff(c, attempt);
        if (delay < b)
            delay = b;
        c->retries++;
        if (!wait_ms(c, delay)) {
            set_error(c, "%s %s: %s", method, url, stop_reason(c));
            return CAIRN_EIO;
        }
    }
}

static int request(struct cairn_taxii_client *c, const char *method,
                   const char *url, const char *body, size_t len, long expect,
                   struct reply *r, json_t **out)
{
    return request_ex(c, method, url, body, len, expect, r, out, NULL, 0);
}

static int get_json(struct cairn_taxii_client *c, const char *url,
                    struct reply *r, json_t **out)
{
    return request(c, "GET", url, NULL, 0, 200, r, out);
}

int cairn_taxii_client_get(struct cairn_taxii_client *c, const char *url,
                           json_t **out)
{
    struct reply r = {0};

    cairn_buf_init(&r.body, c->max_response);
    int rc = get_json(c, url, &r, out);
    cairn_buf_release(&r.body);
    return rc;
}

int cairn_taxii_client_fetch(struct cairn_taxii_client *c, const char *url,
                             char **body, size_t *len, char *media_type,
                             size_t media_type_len)
{
    struct reply r = {.any_type = true};
    json_t *none = NULL;

    *body = NULL;
    *len = 0;
    if (media_type != NULL && media_type_len > 0)
        media_type[0] = '\0';
    cairn_buf_init(&r.body, c->max_response);
    int rc = request_ex(c, "GET", url, NULL, 0, 200, &r, &none, NULL, 0);
    if (rc == 0 && (*body = cairn_buf_steal(&r.body, len)) == NULL) {
        set_error(c, "GET %s: out of memory", url);
        rc = CAIRN_ENOMEM;
    }
    if (rc == 0 && media_type != NULL && media_type_len > 0)
        snprintf(media_type, media_type_len, "%s", r.content_type);
    cairn_buf_release(&r.body);
    return rc;
}

/* ---- URLs ------------------------------------------------------------------
 */

/* `base` with exactly one '/' at the end, into `b`. */
static int put_dir(struct cairn_buf *b, const char *base)
{
    size_t len = strlen(base);

    while (len > 0 && base[len - 1] == '/')
        len--;
    if (cairn_buf_append(b, base, len) < 0 || cairn_buf_putc(b, '/') < 0)
        return CAIRN_ETOOBIG;
    return 0;
}

/* A path segment or query value, percent-encoded (RFC 3986 unreserved). */
static int put_escaped(struct cairn_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
                     *p == '_' || *p == '~';
        int rc = plain ? cairn_buf_putc(b, (char)*p)
                       : cairn_buf_printf(b, "%%%02X", *p);
        if (rc < 0)
            return CAIRN_ETOOBIG;
    }
    return 0;
}

static int put_param(struct cairn_buf *b, bool *first, const char *name,
                     const char *value)
{
    if (value == NULL)
        return 0;
    if (cairn_buf_putc(b, *first ? '?' : '&') < 0 ||
        cairn_buf_puts(b, name) < 0 || cairn_buf_putc(b, '=') < 0)
        return CAIRN_ETOOBIG;
    *first = false;
    return put_escaped(b, value);
}

/*
 * ROOT/collections/COLL/WHAT with the filters of `q`: WHAT is "objects/",
 * "manifest/", "objects/ID/" or "objects/ID/versions/".
 */
static int object_url(struct cairn_buf *b, const char *root,
                      const char *collection, const char *what,
                      const char *object_id, const char *tail,
                      const struct cairn_taxii_get *q)
{
    bool first = true;
    char limit[32];
    int rc;

    if ((rc = put_dir(b, root)) < 0 ||
        (rc = cairn_buf_puts(b, "collections/")) < 0 ||
        (rc = put_escaped(b, collection)) < 0 ||
        (rc = cairn_buf_putc(b, '/')) < 0 || (rc = cairn_buf_puts(b, what)) < 0)
        return CAIRN_ETOOBIG;
    if (object_id != NULL && ((rc = put_escaped(b, object_id)) < 0 ||
                              (rc = cairn_buf_putc(b, '/')) < 0 ||
                              (rc = cairn_buf_puts(b, tail)) < 0))
        return CAIRN_ETOOBIG;
    if (q == NULL)
        return 0;
    snprintf(limit, sizeof limit, "%zu", q->limit);
    if ((rc = put_param(b, &first, "added_after", q->added_after)) < 0 ||
        (rc = put_param(b, &first, "limit", q->limit ? limit : NULL)) < 0 ||
        (rc = put_param(b, &first, "next", q->next)) < 0 ||
        (rc = put_param(b, &first, "match[id]", q->match_id)) < 0 ||
        (rc = put_param(b, &first, "match[type]", q->match_type)) < 0 ||
        (rc = put_param(b, &first, "match[version]", q->match_version)) < 0 ||
        (rc = put_param(b, &first, "match[spec_version]",
                        q->match_spec_version)) < 0)
        return CAIRN_ETOOBIG;
    return 0;
}

/* ---- resources -------------------------------------------------------------
 */

/* Resolve `ref` (absolute or relative) against `base` with curl's parser. */
static int resolve(const char *base, const char *ref, char **out)
{
    CURLU *u = curl_url();
    char *s = NULL;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (u == NULL)
        return CAIRN_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        goto out;
    struct cairn_buf b;
    cairn_buf_init(&b, URL_MAX);
    if (put_dir(&b, s) < 0) {
        cairn_buf_release(&b);
        rc = CAIRN_ETOOBIG;
        goto out;
    }
    *out = cairn_buf_steal(&b, NULL);
    rc = *out != NULL ? 0 : CAIRN_ENOMEM;
out:
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}

int cairn_taxii_client_api_root(struct cairn_taxii_client *c, const char *url,
                                char **root_url_out, json_t **root_out)
{
    json_t *doc = NULL, *root = NULL;
    char *root_url = NULL, *given = NULL;
    int rc;

    *root_url_out = NULL;
    if (root_out != NULL)
        *root_out = NULL;
    /* TAXII URLs end in '/'; a URL typed without it is meant with it. */
    rc = resolve(url, url, &given);
    if (rc < 0) {
        set_error(c, "'%.300s' is not a URL", url);
        goto out;
    }
    url = given;
    rc = cairn_taxii_client_get(c, url, &doc);
    if (rc < 0)
        goto out;
    json_t *roots = json_object_get(doc, "api_roots");
    if (roots == NULL && json_is_array(json_object_get(doc, "versions"))) {
        /* It is an API root already. */
        rc = resolve(url, url, &root_url);
        root = doc;
        doc = NULL;
        goto done;
    }
    if (roots != NULL && !json_is_array(roots)) {
        set_error(c, "GET %s: api_roots is not a list", url);
        rc = CAIRN_EPARSE;
        goto out;
    }
    if (roots == NULL) {
        set_error(c,
                  "%s is neither a TAXII discovery URL (no api_roots) nor "
                  "an API root (no versions)",
                  url);
        rc = CAIRN_EPARSE;
        goto out;
    }
    const char *pick = json_string_value(json_object_get(doc, "default"));
    if (pick == NULL && json_array_size(roots) == 1)
        pick = json_string_value(json_array_get(roots, 0));
    if (pick == NULL) {
        set_error(c,
                  "%s lists %zu API roots and names no default; give the "
                  "URL of one of them",
                  url, json_array_size(roots));
        rc = CAIRN_ENOTFOUND;
        goto out;
    }
    rc = resolve(url, pick, &root_url);
    if (rc < 0) {
        set_error(c, "%s: the API root '%.200s' is not a URL", url, pick);
        goto out;
    }
    rc = cairn_taxii_client_get(c, root_url, &root);
    if (rc < 0)
        goto out;
done:
    if (rc < 0)
        goto out;
    *root_url_out = root_url;
    root_url = NULL;
    if (root_out != NULL) {
        *root_out = root;
        root = NULL;
    }
out:
    json_decref(doc);
    json_decref(root);
    cairn_free(root_url);
    cairn_free(given);
    return rc;
}

int cairn_taxii_client_collections(struct cairn_taxii_client *c,
                                   const char *root_url, json_t **out)
{
    struct cairn_buf u;
    json_t *doc = NULL;
    int rc;

    *out = NULL;
    cairn_buf_init(&u, URL_MAX);
    if ((rc = put_dir(&u, root_url)) < 0 ||
        (rc = cairn_buf_puts(&u, "collections/")) < 0)
        goto out;
    rc = cairn_taxii_client_get(c, u.data, &doc);
    if (rc < 0)
        goto out;
    json_t *list = json_object_get(doc, "collections");
    if (list != NULL && !json_is_array(list)) {
        set_error(c, "GET %s: collections is not a list", u.data);
        rc = CAIRN_EPARSE;
        goto out;
    }
    *out = list != NULL ? json_incref(list) : json_array();
    rc = *out != NULL ? 0 : CAIRN_ENOMEM;
out:
    json_decref(doc);
    cairn_buf_release(&u);
    return rc;
}

void cairn_taxii_page_release(struct cairn_taxii_page *page)
{
    if (page == NULL)
        return;
    json_decref(page->body);
    memset(page, 0, sizeof *page);
}

/* Check and unpack a page; `key` names its item list. */
static int fill_page(struct cairn_taxii_client *c, const char *url,
                     const char *key, json_t *doc, const struct reply *r,
                     struct cairn_taxii_page *out)
{
    json_t *items = json_object_get(doc, key);
    json_t *more = json_object_get(doc, "more");
    json_t *next = json_object_get(doc, "next");

    if ((items != NULL && !json_is_array(items)) ||
        (more != NULL && !json_is_boolean(more)) ||
        (next != NULL && !json_is_string(next))) {
        set_error(c,
                  "GET %s: not a TAXII page ('%s', 'more' or 'next' has "
                  "the wrong type)",
                  url, key);
        return CAIRN_EPARSE;
    }
    if (next != NULL && json_string_length(next) >= sizeof out->next) {
        set_error(c, "GET %s: 'next' is longer than %zu bytes", url,
                  sizeof out->next - 1);
        return CAIRN_EPARSE;
    }
    if (items == NULL) {
        items = json_array();
        if (items == NULL || json_object_set_new(doc, key, items) < 0)
            return CAIRN_ENOMEM;
    }
    out->body = doc;
    out->items = items;
    out->more = json_is_true(more);
    if (next != NULL)
        memcpy(out->next, json_string_value(next),
               json_string_length(next) + 1);
    if (r->added_first[0] != '\0' && r->added_last[0] != '\0') {
        if (cairn_time_parse(r->added_first, strlen(r->added_first), false,
                             &out->added_first) < 0 ||
            cairn_time_parse(r->added_last, strlen(r->added_last), false,
                             &out->added_last) < 0) {
            set_error(c,
                      "GET %s: X-TAXII-Date-Added-First/-Last is not a "
                      "timestamp",
                      url);
            return CAIRN_EPARSE;
        }
        out->has_added = true;
    }
    return 0;
}

static int get_page(struct cairn_taxii_client *c, const char *root,
                    const char *collection, const char *what,
                    const char *object_id, const char *tail, const char *key,
                    const struct cairn_taxii_get *q,
                    struct cairn_taxii_page *out)
{
    struct cairn_buf u;
    struct reply r = {0};
    json_t *doc = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    cairn_buf_init(&u, URL_MAX);
    cairn_buf_init(&r.body, c->max_response);
    rc = object_url(&u, root, collection, what, object_id, tail, q);
    if (rc < 0) {
        set_error(c, "%s: the request URL would be over %d bytes", root,
                  URL_MAX);
        goto out;
    }
    rc = get_json(c, u.data, &r, &doc);
    if (rc < 0)
        goto out;
    rc = fill_page(c, u.data, key, doc, &r, out);
    if (rc == 0)
        doc = NULL; /* the page has it */
    else
        memset(out, 0, sizeof *out);
out:
    json_decref(doc);
    cairn_buf_release(&r.body);
    cairn_buf_release(&u);
    return rc;
}

int cairn_taxii_client_objects(struct cairn_taxii_client *c,
                               const char *root_url, const char *collection,
                               const struct cairn_taxii_get *q,
                               struct cairn_taxii_page *out)
{
    return get_page(c, root_url, collection, "objects/", NULL, NULL, "objects",
                    q, out);
}

/* ---- pages kept as received (client_int.h) ------------------------------ */

void cairn__taxii_client_abort(struct cairn_taxii_client *c, bool abort)
{
    atomic_store(&c->aborted, abort);
}

void cairn__taxii_client_deadline(struct cairn_taxii_client *c,
                                  int64_t deadline_ms)
{
    c->deadline = deadline_ms;
}

void cairn__taxii_client_canned(struct cairn_taxii_client *c,
                                const char *response, size_t len)
{
    c->canned = response;
    c->canned_len = response != NULL ? len : 0;
}

void cairn__taxii_raw_page_clear(struct taxii_raw_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        json_decref(p->objs[i]);
    p->n = 0;
    p->n_refused = 0;
    p->more = p->has_added = false;
    p->next[0] = '\0';
}

void cairn__taxii_raw_page_release(struct taxii_raw_page *p)
{
    if (p == NULL)
        return;
    cairn__taxii_raw_page_clear(p);
    cairn_buf_release(&p->body);
    cairn_free(p->objs);
    cairn_free(p->off);
    cairn_free(p->len);
    cairn_free(p->refused);
    memset(p, 0, sizeof *p);
}

static int raw_grow(struct taxii_raw_page *p)
{
    size_t cap = p->cap ? p->cap * 2 : 1024;
    json_t **objs = cairn_realloc(p->objs, cap * sizeof *objs);
    if (objs == NULL)
        return CAIRN_ENOMEM;
    p->objs = objs;
    size_t *off = cairn_realloc(p->off, cap * sizeof *off);
    if (off == NULL)
        return CAIRN_ENOMEM;
    p->off = off;
    size_t *len = cairn_realloc(p->len, cap * sizeof *len);
    if (len == NULL)
        return CAIRN_ENOMEM;
    p->len = len;
    p->cap = cap;
    return 0;
}

static int envelope_fail(struct cairn_diag *d, int rc, const char *msg)
{
    cairn_diag_clear(d);
    d->severity = CAIRN_SEV_ERROR;
    snprintf(d->message, sizeof d->message, "%s", msg);
    return rc;
}

/*
 * Keep element `index` out of the page: an object over the size every
 * other path takes (one 20 MB object posted at a peer must not stop
 * every pull of its page), or a bundle, whose objects would otherwise be
 * stored as one and escape their own markings.
 */
static int refuse(struct taxii_raw_page *p, size_t index, const json_t *obj,
                  size_t len)
{
    bool bundle = len <= CAIRN_STIX_MAX_OBJECT_LEN;
    const char *id = json_string_value(json_object_get(obj, "id"));

    if (p->n_refused == p->refused_cap) {
        size_t cap = p->refused_cap ? p->refused_cap * 2 : 8;
        struct taxii_refused *r = cairn_realloc(p->refused, cap * sizeof *r);
        if (r == NULL)
            return CAIRN_ENOMEM;
        p->refused = r;
        p->refused_cap = cap;
    }
    struct taxii_refused *r = &p->refused[p->n_refused++];
    r->index = index;
    snprintf(r->id, sizeof r->id, "%s", id != NULL ? id : "");
    /* An id is printed by the caller: keep it one printable line. */
    for (char *c = r->id; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    r->rule = bundle ? "bundle" : "too-big";
    if (bundle)
        snprintf(r->message, sizeof r->message,
                 "objects[%zu]: a bundle is not a STIX object; post its "
                 "objects",
                 index);
    else
        snprintf(r->message, sizeof r->message,
                 "objects[%zu]: %zu bytes, more than the %zu an object may "
                 "have; skipped",
                 index, len, CAIRN_STIX_MAX_OBJECT_LEN);
    return 0;
}

static bool is_bundle(const json_t *obj)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    return type != NULL && strcmp(type, "bundle") == 0;
}

int cairn__taxii_envelope_read(struct taxii_raw_page *p, const char *data,
                               size_t len, size_t max_items,
                               struct cairn_diag *d)
{
    struct cairn_bundle_reader *rd = NULL;
    json_t *obj = NULL;
    long index = -1;
    int rc;

    cairn__taxii_raw_page_clear(p);
    cairn_diag_clear(d);
    /* No element is cut by the reader (none can be longer than the body):
     * those over the object limit are refused one by one below. */
    rc = cairn_envelope_reader_new(data, len, len > 0 ? len : 1, &rd);
    if (rc < 0)
        return envelope_fail(d, rc, "out of memory");
    while ((rc = cairn_bundle_reader_next(rd, &obj, &index, d)) > 0) {
        size_t off = 0, olen = 0;
        cairn_bundle_reader_span(rd, &off, &olen);
        if (p->n + p->n_refused >= max_items) {
            json_decref(obj);
            rc = envelope_fail(d, CAIRN_ETOOBIG, "too many objects");
            goto out;
        }
        if (olen > CAIRN_STIX_MAX_OBJECT_LEN || is_bundle(obj)) {
            rc = refuse(p, index >= 0 ? (size_t)index : 0, obj, olen);
            json_decref(obj);
            if (rc < 0) {
                envelope_fail(d, rc, "out of memory");
                goto out;
            }
            continue;
        }
        if (p->n == p->cap && (rc = raw_grow(p)) < 0) {
            json_decref(obj);
            envelope_fail(d, rc, "out of memory");
            goto out;
        }
        p->off[p->n] = off;
        p->len[p->n] = olen;
        p->objs[p->n++] = obj;
    }
    if (rc < 0)
        goto out;
    const json_t *hdr = cairn_bundle_reader_header(rd);
    json_t *more = json_object_get(hdr, "more");
    json_t *next = json_object_get(hdr, "next");
    if ((more != NULL && !json_is_boolean(more)) ||
        (next != NULL && !json_is_string(next))) {
        rc = envelope_fail(d, CAIRN_EINVALID,
                           "'more' or 'next' has the wrong type");
        goto out;
    }
    if (next != NULL && json_string_length(next) >= sizeof p->next) {
        rc = envelope_fail(d, CAIRN_EINVALID, "'next' is too long");
        goto out;
    }
    p->more = json_is_true(more);
    if (next != NULL)
        memcpy(p->next, json_string_value(next), json_string_length(next) + 1);
    rc = 0;
out:
    cairn_bundle_reader_free(rd);
    if (rc < 0)
        cairn__taxii_raw_page_clear(p);
    return rc;
}

int cairn__taxii_client_objects_raw(struct cairn_taxii_client *c, const char *root_url,
                             const char *collection,
                             const struct cairn_taxii_get *q, size_t max_items,
                             struct taxii_raw_page *out)
{
    struct cairn_buf u;
    struct reply r = {0};
    json_t *unused = NULL;
    int rc;

    /*
     * The previous page's objects are freed only once this body is in
     * (cairn__taxii_envelope_read), just before the new ones are built: the
     * small blocks go straight back into use instead of being consolidated by
     * a large allocation in between (curl's, the reader's), which took
     * a tenth of the pull's time.
     */
    if (out->body.data == NULL)
        cairn_buf_init(&out->body, c->max_response);
    /* The reply fills the page's buffer, kept from page to page. */
    r.body = out->body;
    cairn_buf_init(&u, URL_MAX);
    rc = object_url(&u, root_url, collection, "objects/", NULL, NULL, q);
    if (rc < 0) {
        set_error(c, "%s: the request URL would be over %d bytes", root_url,
                  URL_MAX);
        goto out;
    }
    rc =
        request_ex(c, "GET", u.data, NULL, 0, 200, &r, &unused, out, max_items);
    if (rc < 0)
        goto out;
    if (r.added_first[0] != '\0' && r.added_last[0] != '\0') {
        if (cairn_time_parse(r.added_first, strlen(r.added_first), false,
                             &out->added_first) < 0 ||
            cairn_time_parse(r.added_last, strlen(r.added_last), false,
                             &out->added_last) < 0) {
            set_error(c,
                      "GET %s: X-TAXII-Date-Added-First/-Last is not a "
                      "timestamp",
                      u.data);
            rc = CAIRN_EPARSE;
            goto out;
        }
        out->has_added = true;
    }
out:
    out->body = r.body;
    if (rc < 0)
        cairn__taxii_raw_page_clear(out);
    cairn_buf_release(&u);
    return rc;
}

int cairn_taxii_client_manifest(struct cairn_taxii_client *c,
                                const char *root_url, const char *collection,
                                const struct cairn_taxii_get *q,
                                struct cairn_taxii_page *out)
{
    return get_page(c, root_url, collection, "manifest/", NULL, NULL, "objects",
                    q, out);
}

int cairn_taxii_client_object(struct cairn_taxii_client *c,
                              const char *root_url, const char *collection,
                              const char *object_id,
                              const struct cairn_taxii_get *q,
                              struct cairn_taxii_page *out)
{
    return get_page(c, root_url, collection, "objects/", object_id, "",
                    "objects", q, out);
}

int cairn_taxii_client_versions(struct cairn_taxii_client *c,
                                const char *root_url, const char *collection,
                                const char *object_id,
                                const struct cairn_taxii_get *q,
                                struct cairn_taxii_page *out)
{
    return get_page(c, root_url, collection, "objects/", object_id, "versions/",
                    "versions", q, out);
}

/* ---- adding objects
 * ----------------------------------------------------------
 */

/* A status resource as the specification shapes it; false otherwise. */
static bool status_ok(const json_t *st)
{
    json_t *id = json_object_get(st, "id");
    json_t *status = json_object_get(st, "status");

    return json_is_string(id) && json_string_length(id) > 0 &&
           json_string_length(id) <= 128 && json_is_string(status) &&
           json_is_integer(json_object_get(st, "total_count"));
}

int cairn_taxii_client_add(struct cairn_taxii_client *c, const char *root_url,
                           const char *collection, const char *envelope,
                           size_t len, json_t **status_out)
{
    struct cairn_buf u;
    struct reply r = {0};
    json_t *st = NULL;
    int rc;

    if (status_out != NULL)
        *status_out = NULL;
    cairn_buf_init(&u, URL_MAX);
    cairn_buf_init(&r.body, c->max_response);
    if ((rc = put_dir(&u, root_url)) < 0 ||
        (rc = cairn_buf_puts(&u, "collections/")) < 0 ||
        (rc = put_escaped(&u, collection)) < 0 ||
        (rc = cairn_buf_puts(&u, "/objects/")) < 0) {
        set_error(c, "%s: the request URL would be over %d bytes", root_url,
                  URL_MAX);
        goto out;
    }
    rc = request(c, "POST", u.data, envelope, len, 202, &r, &st);
    if (rc < 0)
        goto out;
    int64_t deadline = now_ms() + c->poll_timeout_ms;
    for (;;) {
        if (!status_ok(st)) {
            set_error(c, "%s: the answer is not a TAXII status resource",
                      u.data);
            rc = CAIRN_EPARSE;
            goto out;
        }
        if (strcmp(json_string_value(json_object_get(st, "status")),
                   "complete") == 0)
            break;
        if (now_ms() >= deadline) {
            set_error(c,
                      "%s: status %s still pending after %u ms; the objects "
                      "will be sent again next time",
                      u.data, json_string_value(json_object_get(st, "id")),
                      c->poll_timeout_ms);
            rc = CAIRN_EIO;
            goto out;
        }
        if (!wait_ms(c, c->poll_ms)) {
            set_error(c, "%s: %s", u.data, stop_reason(c));
            rc = CAIRN_EIO;
            goto out;
        }
        struct cairn_buf su;
        cairn_buf_init(&su, URL_MAX);
        if (put_dir(&su, root_url) < 0 || cairn_buf_puts(&su, "status/") < 0 ||
            put_escaped(&su, json_string_value(json_object_get(st, "id"))) <
                0 ||
            cairn_buf_putc(&su, '/') < 0) {
            cairn_buf_release(&su);
            rc = CAIRN_ETOOBIG;
            goto out;
        }
        json_decref(st);
        st = NULL;
        rc = get_json(c, su.data, &r, &st);
        cairn_buf_release(&su);
        if (rc < 0)
            goto out;
    }
    if (status_out != NULL) {
        *status_out = st;
        st = NULL;
    }
    rc = 0;
out:
    json_decref(st);
    cairn_buf_release(&r.body);
    cairn_buf_release(&u);
    return rc;
}

/* ---- secrets ----------------------------------------------------------------
 */

#define SECRET_MAX 4096

int cairn_taxii_secret_read(const char *path, char **out)
{
    char buf[SECRET_MAX + 2];
    FILE *f = NULL;
    int rc = CAIRN_EIO;

    *out = NULL;
    f = fopen(path, "re");
    if (f == NULL)
        goto out;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    if (ferror(f))
        goto out;
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    if (len > SECRET_MAX) {
        rc = CAIRN_ETOOBIG;
        goto out;
    }
    if (len == 0) {
        rc = CAIRN_EINVAL;
        goto out;
    }
    *out = cairn_strndup(buf, len);
    rc = *out != NULL ? 0 : CAIRN_ENOMEM;
out:
    explicit_bzero(buf, sizeof buf);
    if (f != NULL)
        fclose(f);
    return rc;
}
