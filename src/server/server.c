/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP adapter: libmicrohttpd in, cairn_taxii_handle, responses out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>

#include "cairn/base.h"
#include "cairn/server.h"

/* Longest request line URI we keep for the handler and the log. */
#define URI_MAX 16384 /* over the TAXII layer's path + query limits */
/* PEM files are small; a bigger one is the wrong file. */
#define PEM_MAX (1024 * 1024)
/* Queued jobs past this run on the request thread: back-pressure. */
#define JOBQ_MAX 64
/* Bytes of an oversized chunked body read (and dropped) before the 413;
 * past this the connection is closed instead. */
#define DISCARD_MAX ((size_t)64 << 20)
/* Most a body's announced length makes us allocate before it arrives. */
#define RESERVE_MAX          ((int64_t)16 << 20)
#define LISTEN_BACKLOG       512
#define CONNECTION_TIMEOUT_S 60
#define CONNECTION_MEMORY    (256 * 1024)
/* Open connections at once by default; past it new ones are closed at
 * accept. Idle ones cost a socket and CONNECTION_MEMORY at most. */
#define CONNECTION_LIMIT 4096
/* And from one client address (configurable: behind a proxy every
 * client has the proxy's). */
#define PER_ADDRESS_LIMIT 64
/* File descriptors kept for the store, the log, TLS files and jobs. */
#define FD_RESERVE 128
#define HEADER_TIMEOUT_S 30
#define BODY_TIMEOUT_S   300
/* How long wrong credentials wait for their answer. */
#define TARPIT_MS 1000
/* Connections the reaper resumes per sweep. */
#define WAKE_MAX 256
/* Password checks waiting for an auth thread; past it, 503. */
#define AUTHQ_MAX 1024

/* ---- store handles -------------------------------------------------- */

/*
 * A struct cairn_store is single-threaded, so each request borrows a
 * handle for its duration and gives it back; handles are opened on demand
 * and kept, so there are never more than threads + job threads of them.
 */
struct pool {
    pthread_mutex_t mu;
    struct cairn_store **free;
    size_t n_free;
    size_t cap;
    char *url;
    struct cairn_store_opts opts;
    bool has_opts;
    char shown[1024]; /* url for logs: no password */
};

static struct cairn_store *pool_get(struct pool *p)
{
    struct cairn_store *s = NULL;

    pthread_mutex_lock(&p->mu);
    if (p->n_free > 0)
        s = p->free[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    if (s != NULL)
        return s;
    int rc = cairn_store_open(p->url, p->has_opts ? &p->opts : NULL, &s);
    if (rc != 0) {
        cairn_log(CAIRN_LOG_ERROR, "cannot open the store %s: %s",
                  p->shown, cairn_strerror(rc));
        return NULL;
    }
    return s;
}

static void pool_put(struct pool *p, struct cairn_store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->n_free < p->cap) {
        p->free[p->n_free++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    cairn_store_close(s); /* more handles than threads: not needed */
}

/* ---- jobs ------------------------------------------------------------- */

struct job_node {
    struct cairn_taxii_job *job;
    struct job_node *next;
};

struct jobq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job_node *head;
    struct job_node *tail;
    size_t n;
    bool stopping;
    pthread_t *threads;
    unsigned n_threads;
};

/* ---- password checks ---------------------------------------------------- */

struct conn;

/*
 * A password check waiting for an auth thread: the connection it holds
 * suspended, or none for a background refresh of a cached credential.
 */
struct auth_task {
    struct conn *c;
    struct MHD_Connection *mc;
    char *authorization;
    char client[INET6_ADDRSTRLEN];
    struct auth_task *next;
};

struct authq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct auth_task *head;
    struct auth_task *tail;
    size_t n;
    bool stopping;
    pthread_t *threads;
    unsigned n_threads;
};

/* A budget of log lines: a flood must not fill the disk. */
struct quiet {
    pthread_mutex_t mu;
    double tokens;
    int64_t at_ms;
    unsigned long dropped;
};

/* ---- the server --------------------------------------------------------- */

struct cairn_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    uint16_t port;
    char url[320];
    struct cairn_taxii *taxii;
    struct cairn_export_service *exports; /* borrowed; may be NULL */
    struct cairn_console *console; /* NULL: the console is off */
    bool tls;
    struct pool pool;
    bool pool_ready;
    struct jobq jobs;
    bool jobs_ready;
    struct authq auth;
    bool auth_ready;
    char *log_path;
    int log_fd; /* 2 for standard error; dup2 swaps the file under it */
    char *tls_cert;
    char *tls_key;
    size_t tls_key_len;
    unsigned grace_ms;
    atomic_long in_flight;
    /* Request bodies held in memory, and the most allowed. */
    atomic_size_t body_used;
    size_t body_budget;
    /* Every open connection, for the deadlines' reaper. */
    pthread_mutex_t conns_mu;
    pthread_cond_t reaper_cv;
    struct conn *conns;
    bool reaper_stop;
    bool reaper_ready;
    pthread_t reaper;
    int64_t header_ms;
    int64_t body_ms;
    /* Log lines of refused logins, and libmicrohttpd's complaints: each
     * with a budget, and a count of what it dropped. */
    struct quiet quiet_access;
    struct quiet quiet_http;
};

/* Run one job to its end on a handle of its own. */
static void job_finish(struct cairn_server *srv, struct cairn_taxii_job *job)
{
    struct cairn_store *store = pool_get(&srv->pool);

    if (store == NULL) {
        cairn_log(CAIRN_LOG_ERROR, "a POST's objects were not written: no "
                                   "store handle");
    } else {
        int rc = cairn_taxii_job_run(job, store);
        if (rc != 0)
            cairn_log(CAIRN_LOG_ERROR, "writing a POST's objects: %s",
                      cairn_strerror(rc));
    }
    pool_put(&srv->pool, store);
    cairn_taxii_job_free(job);
}

static void *job_worker(void *arg)
{
    struct cairn_server *srv = arg;
    struct jobq *q = &srv->jobs;

    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->head == NULL && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        struct job_node *node = q->head;
        if (node != NULL) {
            q->head = node->next;
            if (q->head == NULL)
                q->tail = NULL;
            q->n--;
        }
        pthread_mutex_unlock(&q->mu);
        /* Stopping drains the queue first: a 202 promised the write. */
        if (node == NULL)
            break;
        job_finish(srv, node->job);
        cairn_free(node);
    }
    return NULL;
}

static void job_submit(struct cairn_server *srv, struct cairn_taxii_job *job)
{
    struct jobq *q = &srv->jobs;
    struct job_node *node = cairn_malloc(sizeof *node);
    bool queued = false;

    if (node != NULL) {
        node->job = job;
        node->next = NULL;
        pthread_mutex_lock(&q->mu);
        if (q->n < JOBQ_MAX && !q->stopping) {
            if (q->tail != NULL)
                q->tail->next = node;
            else
                q->head = node;
            q->tail = node;
            q->n++;
            queued = true;
            pthread_cond_signal(&q->cv);
        }
        pthread_mutex_unlock(&q->mu);
    }
    if (!queued) {
        /* A full queue slows the writers down instead of growing. */
        cairn_free(node);
        job_finish(srv, job);
    }
}

/* ---- access log ------------------------------------------------------------
 */

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                0640);
}

void cairn_server_peer_ran(struct cairn_server *srv, const char *name, int rc,
                           const char *error)
{
    if (srv != NULL)
        cairn_console_peer_ran(srv->console, name, rc, error);
}

int cairn_server_reopen_log(struct cairn_server *srv)
{
    if (srv == NULL || srv->log_path == NULL)
        return 0;
    int fd = open_log(srv->log_path);
    if (fd < 0) {
        cairn_log(CAIRN_LOG_ERROR, "cannot reopen the log %s: %s",
                  srv->log_path, strerror(errno));
        return CAIRN_EIO;
    }
    /* dup2 swaps the file atomically: a concurrent line goes to one. */
    int rc = dup2(fd, srv->log_fd) < 0 ? CAIRN_EIO : 0;
    close(fd);
    return rc;
}

/* Copy `s` for a log line: no blanks, quotes or control bytes. */
static size_t log_clean(char *dst, size_t cap, const char *s)
{
    size_t n = 0;

    for (; s != NULL && *s != '\0' && n + 1 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        dst[n++] = (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
                       ? '?'
                       : (char)ch;
    }
    dst[n] = '\0';
    return n;
}

/* ---- connections and requests ------------------------------------------- */

/* Where a connection is, for the deadlines. */
enum phase {
    PH_HEADERS, /* waiting for a request line and headers */
    PH_BODY,    /* receiving a body */
    PH_WORK,    /* ours: checking, answering, or suspended */
};

/*
 * One per TCP connection, reused by its requests (HTTP/1.1 handles one at
 * a time); freed when libmicrohttpd closes the connection, so a request
 * that never reached the handler leaks nothing.
 */
struct conn {
    struct cairn_server *srv;
    char addr[INET6_ADDRSTRLEN];
    struct conn *prev, *next; /* srv->conns, under conns_mu */
    int fd;
    enum phase phase; /* under conns_mu */
    int64_t phase_ms;
    bool reaped;
    bool active; /* between the URI callback and completion */
    bool started;
    bool has_body;
    bool expect_continue;
    bool too_big;
    bool refused;      /* not authenticated: the body is dropped */
    bool decided;      /* resp holds the answer, decided before the body */
    bool uri_too_long; /* the URI was over URI_MAX: answer 414 */
    bool have_resp;
    bool auth_pending; /* suspended for a password check */
    bool auth_log;     /* a refused login, for the log's rate limit */
    bool tarpit;       /* suspended until tarpit_ms (under conns_mu) */
    int64_t tarpit_ms;
    struct MHD_Connection *mc;
    char *uri;
    char method[16];
    struct timespec start;
    int64_t content_length;
    size_t body_limit; /* max_content_length for this request's path */
    int auth_rc;       /* why a refused request was refused */
    char user[CAIRN_STORE_NAME_MAX + 1];
    size_t received;   /* body bytes received, kept or not */
    size_t discarded;  /* body bytes dropped past the limit */
    size_t held;       /* bytes of srv->body_budget this request holds */
    struct cairn_buf body;
    struct cairn_taxii_response resp;
    bool console;      /* a request for the web console under /ui/ */
    bool console_auth; /* its password check is done (auth_rc, user) */
    bool have_cresp;
    struct cairn_console_response cresp;
    int status;
    size_t bytes;
    char errbody[384]; /* responses the adapter makes itself */
    struct cairn_export_content xct; /* GET /export/NAME: held, not copied */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_phase(struct conn *c, enum phase ph)
{
    pthread_mutex_lock(&c->srv->conns_mu);
    c->phase = ph;
    c->phase_ms = mono_ms();
    pthread_mutex_unlock(&c->srv->conns_mu);
}

/* Take `n` bytes of the server's body budget; false when spent. */
static bool budget_take(struct conn *c, size_t n)
{
    struct cairn_server *srv = c->srv;
    size_t used = atomic_load(&srv->body_used);

    do {
        if (n > srv->body_budget || used > srv->body_budget - n)
            return false;
    } while (!atomic_compare_exchange_weak(&srv->body_used, &used, used + n));
    c->held += n;
    return true;
}

static void budget_give_back(struct conn *c)
{
    if (c->held > 0)
        atomic_fetch_sub(&c->srv->body_used, c->held);
    c->held = 0;
}

static void conn_addr(struct conn *c, struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(c->addr, sizeof c->addr, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->addr,
                  sizeof c->addr);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  c->addr, sizeof c->addr);
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void log_write(struct cairn_server *srv, const char *line, size_t len)
{
    ssize_t w;

    /* One write per line: O_APPEND keeps concurrent lines whole. */
    do {
        w = write(srv->log_fd, line, len);
    } while (w < 0 && errno == EINTR);
}

/*
 * Whether a refused login may have its line: a flood of wrong passwords
 * would otherwise fill the disk. QUIET_RATE lines a second on average,
 * QUIET_BURST at once; what is dropped is counted in the next line.
 */
#define QUIET_RATE  20.0
#define QUIET_BURST 200.0

static bool quiet_allow(struct quiet *q, unsigned long *dropped)
{
    int64_t now = mono_ms();
    bool ok;

    pthread_mutex_lock(&q->mu);
    q->tokens += (double)(now - q->at_ms) * QUIET_RATE / 1e3;
    if (q->tokens > QUIET_BURST)
        q->tokens = QUIET_BURST;
    q->at_ms = now;
    ok = q->tokens >= 1.0;
    *dropped = 0;
    if (ok) {
        q->tokens -= 1.0;
        *dropped = q->dropped;
        q->dropped = 0;
    } else {
        q->dropped++;
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

static void quiet_init(struct quiet *q)
{
    pthread_mutex_init(&q->mu, NULL);
    q->tokens = QUIET_BURST;
    q->at_ms = mono_ms();
}

static void log_request(struct conn *c)
{
    struct cairn_server *srv = c->srv;
    char line[1536];
    char when[40];
    char user[CAIRN_STORE_NAME_MAX + 1];
    char method[sizeof c->method];
    char uri[1024];
    struct cairn_time now = cairn_time_now(3);
    unsigned long dropped = 0;

    if (c->auth_log && !quiet_allow(&srv->quiet_access, &dropped))
        return;
    if (cairn_time_format(&now, 3, when, sizeof when) < 0)
        snprintf(when, sizeof when, "-");
    if (dropped > 0) {
        int m = snprintf(line, sizeof line,
                         "%s - - \"-\" - 0 0 (%lu lines of refused logins "
                         "not logged)\n",
                         when, dropped);
        if (m > 0 && (size_t)m < sizeof line)
            log_write(srv, line, (size_t)m);
    }
    log_clean(user, sizeof user,
              c->have_cresp ? c->cresp.user
              : c->have_resp ? c->resp.user
                             : "");
    log_clean(method, sizeof method, c->method);
    log_clean(uri, sizeof uri, c->uri);
    int n =
        snprintf(line, sizeof line, "%s %s %s \"%s %s\" %d %zu %.3f\n", when,
                 c->addr, user[0] ? user : "-", method[0] ? method : "-",
                 uri[0] ? uri : "-", c->status, c->bytes, ms_since(&c->start));
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    line[len - 1] = '\n';
    log_write(srv, line, len);
}

/* The request is over (answered, or the client went away). */
static void request_end(struct conn *c)
{
    if (!c->active)
        return;
    log_request(c);
    /* objects stored: the exports look now rather than at their poll */
    if (c->have_resp && c->resp.status == 202 &&
        strcmp(c->method, "POST") == 0)
        cairn_export_service_poke(c->srv->exports);
    if (c->have_resp)
        cairn_taxii_response_release(&c->resp);
    memset(&c->resp, 0, sizeof c->resp);
    c->have_resp = false;
    cairn_export_content_release(&c->xct);
    if (c->have_cresp)
        cairn_console_response_release(&c->cresp);
    memset(&c->cresp, 0, sizeof c->cresp);
    c->have_cresp = false;
    cairn_buf_release(&c->body);
    budget_give_back(c);
    cairn_free(c->uri);
    c->uri = NULL;
    c->active = false;
    set_phase(c, PH_HEADERS); /* the next request's headers, on keep-alive */
    atomic_fetch_sub(&c->srv->in_flight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *mc,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct cairn_server *srv = cls;
    struct conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        c = cairn_calloc(1, sizeof *c);
        if (c != NULL) {
            const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
            c->srv = srv;
            c->fd = ci != NULL ? ci->connect_fd : -1;
            conn_addr(c, mc);
            c->phase = PH_HEADERS;
            c->phase_ms = mono_ms();
            pthread_mutex_lock(&srv->conns_mu);
            c->next = srv->conns;
            if (srv->conns != NULL)
                srv->conns->prev = c;
            srv->conns = c;
            pthread_mutex_unlock(&srv->conns_mu);
        }
        *socket_context = c;
        return;
    }
    if (c != NULL) {
        request_end(c);
        /* Off the list before libmicrohttpd closes the socket: the reaper
         * never shuts down a descriptor that was reused. */
        pthread_mutex_lock(&srv->conns_mu);
        if (c->prev != NULL)
            c->prev->next = c->next;
        else
            srv->conns = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&srv->conns_mu);
        cairn_free(c);
        *socket_context = NULL;
    }
}

/*
 * The deadlines libmicrohttpd does not keep: its timeout counts idle time
 * only, so a client sending a byte now and then would hold a connection
 * for ever. Past header_timeout waiting for headers, or body_timeout
 * receiving a body, the connection is shut down; libmicrohttpd then sees
 * it closed and frees it.
 */
static void *reaper_run(void *arg)
{
    struct cairn_server *srv = arg;

    pthread_mutex_lock(&srv->conns_mu);
    for (bool last = false; !last;) {
        last = srv->reaper_stop; /* the last sweep resumes every tarpit */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!last)
            pthread_cond_timedwait(&srv->reaper_cv, &srv->conns_mu, &until);
        int64_t now = mono_ms();
        unsigned slow = 0;
        struct MHD_Connection *wake[WAKE_MAX];
        size_t n_wake = 0;
        for (struct conn *c = srv->conns; c != NULL; c = c->next) {
            if (c->tarpit && (now >= c->tarpit_ms || srv->reaper_stop) &&
                n_wake < WAKE_MAX) {
                /* Resumed outside the lock: a suspended connection stays
                 * until it is resumed, so the pointer holds. */
                c->tarpit = false;
                wake[n_wake++] = c->mc;
                continue;
            }
            int64_t limit = c->phase == PH_HEADERS ? srv->header_ms
                            : c->phase == PH_BODY  ? srv->body_ms
                                                   : -1;
            if (c->reaped || limit < 0 || now - c->phase_ms <= limit ||
                c->fd < 0)
                continue;
            (void)shutdown(c->fd, SHUT_RDWR);
            c->reaped = true;
            slow++;
        }
        if (n_wake > 0) {
            pthread_mutex_unlock(&srv->conns_mu);
            for (size_t i = 0; i < n_wake; i++)
                MHD_resume_connection(wake[i]);
            pthread_mutex_lock(&srv->conns_mu);
            if (last && n_wake == WAKE_MAX)
                last = false; /* more to resume: sweep again */
        }
        if (slow > 0 && !srv->reaper_stop) {
            pthread_mutex_unlock(&srv->conns_mu);
            cairn_log(CAIRN_LOG_WARN,
                      "http: closed %u connection%s too slow to send a "
                      "request",
                      slow, slow == 1 ? "" : "s");
            pthread_mutex_lock(&srv->conns_mu);
        }
    }
    pthread_mutex_unlock(&srv->conns_mu);
    return NULL;
}

/*
 * libmicrohttpd's first look at a request, with the URI as sent: the raw
 * query string is kept for the TAXII layer, which decodes it itself.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
    struct cairn_server *srv = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct conn *c = ci != NULL ? ci->socket_context : NULL;

    if (c == NULL)
        return NULL;
    request_end(c); /* a request the completion callback never saw */
    c->started = false;
    c->has_body = false;
    c->expect_continue = false;
    c->too_big = false;
    c->refused = false;
    c->decided = false;
    c->console = false;
    c->console_auth = false;
    c->auth_pending = false;
    c->auth_log = false;
    c->auth_rc = 0;
    c->user[0] = '\0';
    c->received = 0;
    c->discarded = 0;
    c->status = 0;
    c->bytes = 0;
    c->method[0] = '\0';
    c->content_length = -1;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    /*
     * Never cut a URI that routes a request: a cut query could drop a
     * filter and widen a DELETE. An over-long one is answered 414.
     */
    size_t uri_len = strnlen(uri, URI_MAX + 1);
    c->uri_too_long = uri_len > URI_MAX;
    c->uri = cairn_strndup(uri, c->uri_too_long ? URI_MAX : uri_len);
    c->active = true;
    atomic_fetch_add(&srv->in_flight, 1);
    return c;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn *c = *req_cls;

    (void)cls;
    (void)mc;
    (void)toe;
    if (c != NULL)
        request_end(c);
    *req_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct cairn_server *srv = cls;
    char msg[512];
    unsigned long dropped;

    /* One line per closed connection, under attack: a budget. */
    if (!quiet_allow(&srv->quiet_http, &dropped))
        return;
    if (dropped > 0)
        cairn_log(CAIRN_LOG_WARN, "http: %lu messages not logged", dropped);
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cairn_log(CAIRN_LOG_WARN, "http: %s", msg);
}

/* -1 when absent or not a plain decimal number. */
static int64_t parse_content_length(const char *v)
{
    int64_t n = 0;

    if (v == NULL || *v == '\0')
        return -1;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (INT64_MAX - 9) / 10)
            return INT64_MAX; /* absurd, but certainly too big */
        n = n * 10 + (*v - '0');
    }
    return *v == '\0' ? n : -1;
}

/* An error resource the adapter writes itself (500, 413, 400, ...). */
static void own_error(struct conn *c, int status, const char *title)
{
    cairn_taxii_response_release(&c->resp);
    memset(&c->resp, 0, sizeof c->resp);
    int n =
        snprintf(c->errbody, sizeof c->errbody,
                 "{\"title\":\"%s\",\"http_status\":\"%d\"}", title, status);
    c->resp.status = status;
    c->resp.content_type = CAIRN_TAXII_MEDIA;
    c->resp.body = NULL;
    c->resp.body_len = n > 0 ? (size_t)n : 0;
    c->have_resp = true;
}

/* Add a header to a response the adapter made itself. */
static void add_header(struct conn *c, const char *name, const char *value)
{
    if (c->resp.n_headers >= CAIRN_TAXII_HEADERS_MAX)
        return;
    struct cairn_taxii_header *h = &c->resp.headers[c->resp.n_headers++];
    h->name = name;
    snprintf(h->value, sizeof h->value, "%s", value);
}

/* The request as the TAXII layer sees it; `*path` is the caller's. */
static void make_request(struct conn *c, struct MHD_Connection *mc,
                         char **path, struct cairn_taxii_request *req)
{
    const char *uri = c->uri != NULL ? c->uri : "/";
    const char *q = strchr(uri, '?');

    *path = cairn_strndup(uri, q != NULL ? (size_t)(q - uri) : strlen(uri));
    *req = (struct cairn_taxii_request){
        .method = c->method,
        .path = *path,
        .query = q != NULL ? q + 1 : NULL,
        .accept = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_ACCEPT),
        .content_type = MHD_lookup_connection_value(
            mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .authorization = MHD_lookup_connection_value(
            mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = c->too_big || c->refused ? NULL : c->body.data,
        .body_len = c->too_big || c->refused ? 0 : c->body.len,
        .content_length = c->content_length,
        .user = c->auth_rc == 0 && !c->refused ? c->user : NULL,
    };
}

/* Answers for a request that was not let in (c->auth_rc). */
static void refusal(struct conn *c)
{
    if (c->auth_rc == CAIRN_EBUSY) {
        own_error(c, 429, "Too many failed logins from this address or "
                          "for this user; retry later, or use an API token");
        add_header(c, "Retry-After", "60");
    } else if (c->auth_rc == CAIRN_ETOOBIG) {
        own_error(c, 503, "Too many password checks are waiting; retry in "
                          "a second, or use an API token");
        add_header(c, "Retry-After", "1");
    } else {
        own_error(c, 500, "Internal server error");
    }
}

/* Queue c->resp (or the adapter's own error body) as the answer. */
static enum MHD_Result send_resp(struct conn *c, struct MHD_Connection *mc,
                                 bool close_after)
{
    const char *body = c->resp.body != NULL ? c->resp.body : c->errbody;
    size_t len =
        c->resp.body != NULL || c->resp.body_len > 0 ? c->resp.body_len : 0;
    enum MHD_Result ret = MHD_NO;
    struct MHD_Response *r = NULL;

    if (c->xct.ref_ != NULL && len > 0) {
        /* an export's file: sent from its descriptor (a duplicate, which
         * the response closes; it reads at offsets) */
        int fd = dup(c->xct.fd);
        if (fd < 0)
            return MHD_NO;
        r = MHD_create_response_from_fd(len, fd);
        if (r == NULL)
            close(fd);
    } else {
        /* The body stays in c->resp until the completion callback. */
        r = MHD_create_response_from_buffer(
            len, (void *)(uintptr_t)(len > 0 ? body : ""),
            MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL)
        return MHD_NO;
    if (c->resp.content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                c->resp.content_type);
    for (size_t i = 0; i < c->resp.n_headers && i < CAIRN_TAXII_HEADERS_MAX;
         i++) {
        if (c->resp.headers[i].name != NULL)
            MHD_add_response_header(r, c->resp.headers[i].name,
                                    c->resp.headers[i].value);
    }
    if (close_after)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    c->status = c->resp.status;
    c->bytes = len;
    c->auth_log = c->refused && (c->status == 401 || c->status == 429 ||
                                 c->status == 503);
    set_phase(c, PH_WORK);
    ret = MHD_queue_response(mc, (unsigned)c->resp.status, r);
    MHD_destroy_response(r);
    return ret;
}

/*
 * GET /export/NAME: the export's latest rewrite, for a user who may read
 * every collection it is made of; 304 when If-None-Match names its ETag.
 */
static void serve_export(struct conn *c, struct MHD_Connection *mc,
                         const char *name)
{
    struct cairn_server *srv = c->srv;
    const char *const *colls = NULL;
    size_t n = 0;
    char etag[40];

    if (c->refused) {
        own_error(c, 401, "Authentication required");
        add_header(c, "WWW-Authenticate", "Basic realm=\"cairn\"");
        return;
    }
    if (strcmp(c->method, "GET") != 0 && strcmp(c->method, "HEAD") != 0) {
        own_error(c, 405, "Method Not Allowed");
        add_header(c, "Allow", "GET, HEAD");
        return;
    }
    if (cairn_export_service_get(srv->exports, name, NULL, &colls, &n) != 0) {
        own_error(c, 404, "No such export");
        return;
    }
    struct cairn_store *store = pool_get(&srv->pool);
    if (store == NULL) {
        own_error(c, 503, "The store is unavailable");
        return;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned bits = 0;
        rc = cairn_store_rights(store, c->user, colls[i], &bits);
        if (rc == 0 && (bits & CAIRN_STORE_READ) == 0)
            rc = CAIRN_EPERM;
    }
    pool_put(&srv->pool, store);
    if (rc == CAIRN_EPERM) {
        own_error(c, 403, "You may not read every collection of this export");
        return;
    }
    if (rc != 0) {
        own_error(c, 503, "The store is unavailable");
        return;
    }
    const char *inm = MHD_lookup_connection_value(
        mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (inm != NULL &&
        cairn_export_service_etag(srv->exports, name, etag) == 0 &&
        (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)) {
        cairn_taxii_response_release(&c->resp);
        memset(&c->resp, 0, sizeof c->resp);
        c->resp.status = 304;
        c->have_resp = true;
        add_header(c, "ETag", etag);
        return;
    }
    /* the rewrite itself, held until the request ends: no copy */
    cairn_export_content_release(&c->xct);
    if (cairn_export_service_get(srv->exports, name, &c->xct, NULL, NULL) !=
        0) {
        own_error(c, 404, "No such export");
        return;
    }
    cairn_taxii_response_release(&c->resp);
    memset(&c->resp, 0, sizeof c->resp);
    c->resp.status = 200;
    c->resp.content_type = c->xct.media;
    c->resp.body_len = c->xct.len;
    c->have_resp = true;
    add_header(c, "ETag", c->xct.etag);
    add_header(c, "Cache-Control", "no-cache");
}

/* ---- the web console ------------------------------------------------------- */

static bool auth_submit(struct cairn_server *srv, struct conn *c,
                        struct MHD_Connection *mc, const char *authorization,
                        const char *client);

/* Queue the console's answer in c->cresp. */
static enum MHD_Result console_send(struct conn *c, struct MHD_Connection *mc)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        c->cresp.body_len,
        (void *)(uintptr_t)(c->cresp.body != NULL ? c->cresp.body : ""),
        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    if (c->cresp.content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                c->cresp.content_type);
    for (size_t i = 0; i < c->cresp.n_headers; i++)
        MHD_add_response_header(r, c->cresp.headers[i].name,
                                c->cresp.headers[i].value);
    c->status = c->cresp.status;
    c->bytes = c->cresp.body_len;
    c->auth_log = c->status == 401 || c->status == 429;
    set_phase(c, PH_WORK);
    enum MHD_Result ret = MHD_queue_response(mc, (unsigned)c->status, r);
    MHD_destroy_response(r);
    return ret;
}

/*
 * A console request: its own sessions, so no Authorization; a log-in's
 * password is checked by the auth threads as Basic's is, the connection
 * suspended meanwhile, and the console asked again with the outcome.
 */
static enum MHD_Result console_respond(struct conn *c,
                                       struct MHD_Connection *mc)
{
    struct cairn_server *srv = c->srv;
    const char *uri = c->uri != NULL ? c->uri : "/";
    const char *q = strchr(uri, '?');
    char *path =
        cairn_strndup(uri, q != NULL ? (size_t)(q - uri) : strlen(uri));
    struct cairn_store *store = path != NULL ? pool_get(&srv->pool) : NULL;
    struct cairn_console_request req = {
        .method = c->method,
        .path = path,
        .query = q != NULL ? q + 1 : NULL,
        .cookie = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_COOKIE),
        .content_type = MHD_lookup_connection_value(
            mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = c->body.data,
        .body_len = c->body.len,
        .client = c->addr,
        .tls = srv->tls,
        .auth_done = c->console_auth,
        .auth_rc = c->auth_rc,
        .auth_user = c->user,
    };
    if (c->have_cresp)
        cairn_console_response_release(&c->cresp);
    int rc = store != NULL
                 ? cairn_console_handle(srv->console, store, &req, &c->cresp)
                 : CAIRN_EIO;
    pool_put(&srv->pool, store);
    cairn_free(path);
    if (rc != 0) {
        own_error(c, rc == CAIRN_EIO ? 503 : 500,
                  rc == CAIRN_EIO ? "The store is unavailable"
                                  : "Internal server error");
        return send_resp(c, mc, false);
    }
    c->have_cresp = true;
    if (c->cresp.status == 0) {
        /* A password to check, off this thread. */
        c->console_auth = true;
        if (c->cresp.authorization != NULL &&
            auth_submit(srv, c, mc, c->cresp.authorization, c->addr))
            return MHD_YES; /* on_request is called again once resumed */
        c->auth_rc = CAIRN_ETOOBIG;
        return console_respond(c, mc);
    }
    snprintf(c->user, sizeof c->user, "%s", c->cresp.user);
    return console_send(c, mc);
}

/* Answer the request now: hand it to the TAXII layer and queue the reply. */
static enum MHD_Result respond(struct conn *c, struct MHD_Connection *mc)
{
    struct cairn_server *srv = c->srv;
    struct cairn_taxii_request req;
    char *path = NULL;
    struct cairn_store *store = NULL;
    enum MHD_Result ret;

    if (c->decided)
        return send_resp(c, mc, false);
    if (c->console && !c->too_big)
        return console_respond(c, mc);
    make_request(c, mc, &path, &req);
    memset(&c->resp, 0, sizeof c->resp);
    if (path == NULL) {
        own_error(c, 500, "Out of memory");
        goto send;
    }
    if (c->uri_too_long) {
        own_error(c, 414, "URI Too Long");
        goto send;
    }
    if (c->too_big && req.content_length < 0)
        req.content_length = (int64_t)c->received;
    if (c->refused && c->auth_rc != CAIRN_EPERM) {
        refusal(c);
        goto send;
    }
    if (srv->exports != NULL && strncmp(path, "/export/", 8) == 0) {
        serve_export(c, mc, path + 8);
        goto send;
    }
    /* Known wrong: the handler's 401 without a second password check. */
    if (c->refused)
        req.authorization = NULL;
    store = pool_get(&srv->pool);
    if (store == NULL) {
        own_error(c, 503, "The store is unavailable");
        goto send;
    }
    int rc = cairn_taxii_handle(srv->taxii, store, &req, &c->resp);
    pool_put(&srv->pool, store);
    c->have_resp = true;
    if (rc != 0) {
        own_error(c, 500, "Internal server error");
        goto send;
    }
    /* Refusals that reveal nothing stand; anything else is the 413. */
    if (c->too_big && c->resp.status != 401 && c->resp.status != 403 &&
        c->resp.status != 404 && c->resp.status != 413)
        own_error(c, 413, "Request body too large");
    if (c->resp.job != NULL) {
        struct cairn_taxii_job *job = c->resp.job;
        c->resp.job = NULL;
        job_submit(srv, job);
    }
send:
    ret = send_resp(c, mc, false);
    cairn_free(path);
    return ret;
}

/* ---- HTTP framing -------------------------------------------------------- */

struct framing {
    unsigned content_length;
    unsigned transfer_encoding;
    unsigned authorization;
    bool te_not_chunked;
    bool nul;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, size_t key_size,
                                      const char *value, size_t value_size)
{
    struct framing *f = cls;

    (void)kind;
    if (key == NULL)
        return MHD_YES;
    if (strlen(key) != key_size ||
        (value != NULL && strlen(value) != value_size))
        f->nul = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->content_length++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        f->authorization++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        if (value == NULL || strcasecmp(value, "chunked") != 0)
            f->te_not_chunked = true;
    }
    return MHD_YES;
}

/*
 * Headers that a proxy in front could read differently from
 * libmicrohttpd, which would let a request be smuggled past it: NULL when
 * the framing is unambiguous, else what is wrong.
 */
static const char *framing_error(struct MHD_Connection *mc)
{
    struct framing f = {0};

    MHD_get_connection_values_n(mc, MHD_HEADER_KIND, framing_header, &f);
    if (f.nul)
        return "Bad Request: a header holds a NUL byte";
    if (f.content_length > 1)
        return "Bad Request: more than one Content-Length";
    if (f.content_length > 0 && f.transfer_encoding > 0)
        return "Bad Request: both Content-Length and Transfer-Encoding";
    if (f.transfer_encoding > 1 || f.te_not_chunked)
        return "Bad Request: the only Transfer-Encoding accepted is chunked";
    if (f.authorization > 1)
        return "Bad Request: more than one Authorization header";
    return NULL;
}

/* ---- deciding before the body -------------------------------------------- */

/*
 * The body limit of the request for `uri`: the server's max_content_length
 * or its API root's smaller one, known before the body is read.
 */
static size_t body_limit(struct cairn_server *srv, const char *uri)
{
    const char *q = strchr(uri, '?');
    char *path =
        cairn_strndup(uri, q != NULL ? (size_t)(q - uri) : strlen(uri));
    struct cairn_store *store = path != NULL ? pool_get(&srv->pool) : NULL;
    size_t limit = cairn_taxii_body_limit(srv->taxii, store, path);
    pool_put(&srv->pool, store);
    cairn_free(path);
    return limit;
}

/*
 * An answer decided before the body: sent now to a client waiting for
 * "100 Continue" (it then sends no body). Others send their body anyway:
 * answering before it is read would close the connection on unread data,
 * and the reset can destroy the answer before the client reads it; their
 * body is read and dropped instead (never kept), then answered.
 */
static enum MHD_Result answer_early(struct conn *c, struct MHD_Connection *mc)
{
    if (c->expect_continue || !c->has_body)
        return respond(c, mc);
    return MHD_YES;
}

/*
 * The client is known (or refused): decide from the headers alone whether
 * its body is wanted. Only a POST to an objects endpoint by a writer gets
 * it read, and only within the server's budget for bodies.
 */
static enum MHD_Result after_auth(struct conn *c, struct MHD_Connection *mc)
{
    struct cairn_server *srv = c->srv;

    set_phase(c, c->has_body ? PH_BODY : PH_WORK);
    if (c->auth_rc != 0) {
        c->refused = true;
        return answer_early(c, mc);
    }
    if (!c->has_body)
        return MHD_YES;
    /* Refused before a byte of the body is read (or 100-continued). */
    if (c->content_length > 0 && (uint64_t)c->content_length > c->body_limit) {
        c->too_big = true;
        return respond(c, mc);
    }
    struct cairn_taxii_request req;
    char *path = NULL;
    make_request(c, mc, &path, &req);
    req.body = NULL;
    req.body_len = 0;
    /* An export takes no body: answered (405) without reading it. */
    if (srv->exports != NULL && path != NULL &&
        strncmp(path, "/export/", 8) == 0) {
        serve_export(c, mc, path + 8);
        cairn_free(path);
        c->decided = true;
        return answer_early(c, mc);
    }
    struct cairn_store *store = path != NULL ? pool_get(&srv->pool) : NULL;
    int rc = store != NULL
                 ? cairn_taxii_preflight(srv->taxii, store, &req, &c->resp)
                 : CAIRN_EIO;
    pool_put(&srv->pool, store);
    cairn_free(path);
    c->have_resp = true;
    if (rc == 1) {
        cairn_taxii_response_release(&c->resp);
        memset(&c->resp, 0, sizeof c->resp);
        c->have_resp = false;
        /* Announced sizes are a hint, not a promise: reserve some. */
        size_t want = c->content_length > 0
                          ? (size_t)(c->content_length < RESERVE_MAX
                                         ? c->content_length
                                         : RESERVE_MAX)
                          : 0;
        if (c->content_length > 0 &&
            !budget_take(c, (size_t)c->content_length)) {
            own_error(c, 503, "The server holds as many uploads as it "
                              "can; retry later");
            add_header(c, "Retry-After", "5");
            c->decided = true;
            return answer_early(c, mc);
        }
        if (want > 0 && cairn_buf_reserve(&c->body, want) != 0)
            return MHD_NO;
        return MHD_YES;
    }
    if (rc < 0)
        own_error(c, rc == CAIRN_EIO ? 503 : 500,
                  rc == CAIRN_EIO ? "The store is unavailable"
                                  : "Internal server error");
    c->decided = true;
    return answer_early(c, mc);
}

/* ---- password checks off the request threads ---------------------------- */

static bool auth_submit(struct cairn_server *srv, struct conn *c,
                        struct MHD_Connection *mc, const char *authorization,
                        const char *client)
{
    struct authq *q = &srv->auth;
    struct auth_task *task = cairn_calloc(1, sizeof *task);
    bool queued = false;

    if (task == NULL)
        return false;
    task->c = c;
    task->mc = mc;
    task->authorization = cairn_strdup(authorization);
    snprintf(task->client, sizeof task->client, "%s", client);
    if (task->authorization != NULL) {
        pthread_mutex_lock(&q->mu);
        if (q->n < AUTHQ_MAX && !q->stopping) {
            if (q->tail != NULL)
                q->tail->next = task;
            else
                q->head = task;
            q->tail = task;
            q->n++;
            queued = true;
            if (c != NULL) {
                /* Suspended under the queue's lock: no thread resumes it
                 * before it is. */
                c->auth_pending = true;
                set_phase(c, PH_WORK);
                MHD_suspend_connection(mc);
            }
            pthread_cond_signal(&q->cv);
        }
        pthread_mutex_unlock(&q->mu);
    }
    if (!queued) {
        cairn_free(task->authorization);
        cairn_free(task);
    }
    return queued;
}

static void *auth_worker(void *arg)
{
    struct cairn_server *srv = arg;
    struct authq *q = &srv->auth;

    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->head == NULL && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        struct auth_task *task = q->head;
        bool stopping = q->stopping;
        if (task != NULL) {
            q->head = task->next;
            if (q->head == NULL)
                q->tail = NULL;
            q->n--;
        }
        pthread_mutex_unlock(&q->mu);
        if (task == NULL)
            break;
        char user[CAIRN_STORE_NAME_MAX + 1] = "";
        int rc = CAIRN_ETOOBIG; /* stopping: come back later */
        if (!stopping) {
            struct cairn_store *store = pool_get(&srv->pool);
            rc = store != NULL ? cairn_taxii_auth_check(srv->taxii, store,
                                                        task->authorization,
                                                        task->client, user)
                               : CAIRN_EIO;
            pool_put(&srv->pool, store);
        }
        if (task->c != NULL) {
            task->c->auth_rc = rc;
            snprintf(task->c->user, sizeof task->c->user, "%s", user);
            MHD_resume_connection(task->mc);
        }
        explicit_bzero(task->authorization, strlen(task->authorization));
        cairn_free(task->authorization);
        cairn_free(task);
    }
    return NULL;
}

/*
 * Wrong credentials known at once (a password that failed a moment ago,
 * a throttled one, an unknown token) are answered after TARPIT_MS, the
 * connection suspended meanwhile: a flood of them then costs the server
 * a few answers a second per connection instead of as many as it can
 * send, and other clients keep the request threads.
 */
static enum MHD_Result tarpit(struct conn *c, struct MHD_Connection *mc)
{
    struct cairn_server *srv = c->srv;

    /*
     * Registered before the suspension, so that a stop never misses it;
     * the reaper resumes it only TARPIT_MS later, or when the server
     * stops, which waits for the requests in flight first.
     */
    pthread_mutex_lock(&srv->conns_mu);
    bool stopping = srv->reaper_stop || !srv->reaper_ready;
    if (!stopping) {
        c->mc = mc;
        c->tarpit_ms = mono_ms() + TARPIT_MS;
        c->tarpit = true;
        c->phase = PH_WORK;
        c->phase_ms = mono_ms();
    }
    pthread_mutex_unlock(&srv->conns_mu);
    if (stopping) /* nobody would resume it */
        return after_auth(c, mc);
    c->auth_pending = true;
    MHD_suspend_connection(mc);
    return MHD_YES; /* on_request is called again once resumed */
}

/* Who sends the request, without ever waiting for a password check. */
static enum MHD_Result authenticate(struct conn *c, struct MHD_Connection *mc)
{
    struct cairn_server *srv = c->srv;
    const char *auth = MHD_lookup_connection_value(
        mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    bool refresh = false;
    struct cairn_store *store = pool_get(&srv->pool);
    int rc = store != NULL
                 ? cairn_taxii_auth_begin(srv->taxii, store, auth, c->addr,
                                          c->user, &refresh)
                 : CAIRN_EIO;

    pool_put(&srv->pool, store);
    if (rc == CAIRN_TAXII_AUTH_SLOW) {
        if (auth_submit(srv, c, mc, auth, c->addr))
            return MHD_YES; /* on_request is called again once resumed */
        rc = CAIRN_ETOOBIG;
    }
    if (rc == 0 && refresh)
        (void)auth_submit(srv, NULL, NULL, auth, c->addr);
    c->auth_rc = rc;
    if (auth != NULL && (rc == CAIRN_EPERM || rc == CAIRN_EBUSY))
        return tarpit(c, mc);
    return after_auth(c, mc);
}

/*
 * A console request's body (a form, an upload) is read for everyone: the
 * session that may use it is checked with the body, within the console's
 * limit and the server's budget for bodies.
 */
static enum MHD_Result console_start(struct conn *c, struct MHD_Connection *mc)
{
    c->auth_rc = 0;
    c->body_limit = cairn_console_body_limit(c->srv->console);
    set_phase(c, c->has_body ? PH_BODY : PH_WORK);
    if (!c->has_body)
        return MHD_YES;
    if (c->content_length > 0 && (uint64_t)c->content_length > c->body_limit) {
        c->too_big = true;
        own_error(c, 413, "Request body too large");
        c->decided = true;
        return answer_early(c, mc);
    }
    if (c->content_length > 0 && !budget_take(c, (size_t)c->content_length)) {
        own_error(c, 503, "The server holds as many uploads as it can; "
                          "retry later");
        add_header(c, "Retry-After", "5");
        c->decided = true;
        return answer_early(c, mc);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_len, void **req_cls)
{
    struct cairn_server *srv = cls;
    struct conn *c = *req_cls;

    (void)url;
    (void)version;
    if (c == NULL || c->uri == NULL)
        return MHD_NO; /* out of memory at the start: drop the connection */
    if (!c->started) {
        c->started = true;
        snprintf(c->method, sizeof c->method, "%s", method);
        const char *bad = framing_error(mc);
        if (bad != NULL) {
            own_error(c, 400, bad);
            c->decided = true;
            return send_resp(c, mc, true);
        }
        c->content_length = parse_content_length(MHD_lookup_connection_value(
            mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH));
        cairn_buf_init(&c->body, SIZE_MAX / 2);
        c->has_body =
            c->content_length > 0 ||
            MHD_lookup_connection_value(
                mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
        const char *expect = MHD_lookup_connection_value(
            mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        c->expect_continue =
            expect != NULL && strcasecmp(expect, "100-continue") == 0;
        if (srv->console != NULL) {
            const char *qm = strchr(c->uri, '?');
            char *path = cairn_strndup(
                c->uri, qm != NULL ? (size_t)(qm - c->uri) : strlen(c->uri));
            c->console = path != NULL && cairn_console_path(path);
            cairn_free(path);
        }
        if (c->console)
            return console_start(c, mc);
        c->body_limit = c->has_body ? body_limit(srv, c->uri) : 0;
        return authenticate(c, mc);
    }
    if (c->auth_pending) {
        /* Called again after a password check resumed the connection. */
        c->auth_pending = false;
        if (c->console)
            return console_respond(c, mc);
        return after_auth(c, mc);
    }
    if (*upload_len > 0) {
        size_t n = *upload_len;
        *upload_len = 0;
        c->received += n;
        if (c->refused || c->decided) {
            /* Dropped up to the server's limit, so that its sender still
             * gets its answer rather than a closed connection. */
            c->discarded += n;
            return cairn_taxii_body_allowed(srv->taxii,
                                            (int64_t)c->discarded) == 0
                       ? MHD_YES
                       : MHD_NO;
        }
        if (!c->too_big && c->body.len + n > c->body_limit) {
            /* Past the limit (a chunked body): keep nothing more, and
             * count only what is dropped from now on against DISCARD_MAX,
             * so that the 413 is still answered. */
            c->too_big = true;
            cairn_buf_release(&c->body);
        }
        if (c->too_big) {
            c->discarded += n;
            return c->discarded <= DISCARD_MAX ? MHD_YES : MHD_NO;
        }
        if (c->body.len + n > c->held && !budget_take(c, n)) {
            /* A chunked body the budget cannot hold. */
            cairn_buf_release(&c->body);
            own_error(c, 503, "The server holds as many uploads as it "
                              "can; retry later");
            add_header(c, "Retry-After", "5");
            c->decided = true;
            c->discarded += n;
            return MHD_YES;
        }
        if (cairn_buf_append(&c->body, upload, n) != 0)
            return MHD_NO;
        return MHD_YES;
    }
    return respond(c, mc);
}

/* ---- listening ----------------------------------------------------------- */

static int diag_fail(struct cairn_diag *diag, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int diag_fail(struct cairn_diag *diag, int rc, const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    if (diag != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        cairn_diag_clear(diag);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "server", "%s", msg);
    }
    return rc;
}

struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
    bool loopback;
    bool wildcard;
    char host[INET6_ADDRSTRLEN + 2];
};

/* "127.0.0.1:6543", "[::1]:6543", "localhost:6543", "0.0.0.0:443". */
static int parse_listen(const char *text, struct listen_addr *la,
                        uint16_t *port, struct cairn_diag *diag)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon;
    const char *h = text;
    size_t hlen;

    memset(la, 0, sizeof *la);
    if (text[0] == '[') {
        const char *close_br = strchr(text, ']');
        if (close_br == NULL || close_br[1] != ':')
            goto bad;
        h = text + 1;
        hlen = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || memchr(text, ':', (size_t)(colon - text)))
            goto bad; /* no port, or an IPv6 address without brackets */
        hlen = (size_t)(colon - text);
    }
    if (hlen == 0 || hlen >= sizeof host)
        goto bad;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p))
        goto bad;
    long n = strtol(p, NULL, 10);
    if (n > 65535)
        goto bad;
    *port = (uint16_t)n;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");

    struct sockaddr_in *v4 = (struct sockaddr_in *)&la->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&la->ss;
    if (text[0] != '[' && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(*port);
        la->len = sizeof *v4;
        la->family = AF_INET;
        la->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        la->wildcard = v4->sin_addr.s_addr == htonl(INADDR_ANY);
    } else if (text[0] == '[' &&
               inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(*port);
        la->len = sizeof *v6;
        la->family = AF_INET6;
        la->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
                       (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) &&
                        v6->sin6_addr.s6_addr[12] == 127);
        la->wildcard = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
    } else {
        goto bad;
    }
    snprintf(la->host, sizeof la->host, "%s", host);
    return 0;
bad:
    return diag_fail(diag, CAIRN_EINVAL,
                     "listen address '%s' is not ADDRESS:PORT, such as "
                     "127.0.0.1:6543 or [::1]:6543 (an IP address or "
                     "localhost; a port from 0 to 65535)",
                     text);
}

static int bind_listen(struct listen_addr *la, const char *text, int *fd_out,
                       uint16_t *port, struct cairn_diag *diag)
{
    int one = 1;
    int fd = socket(la->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return diag_fail(diag, CAIRN_EIO, "cannot listen on %s: %s", text,
                         strerror(errno));
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (la->family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&la->ss, la->len) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        int e = errno;
        close(fd);
        return diag_fail(
            diag, CAIRN_EIO, "cannot listen on %s: %s%s", text, strerror(e),
            e == EADDRINUSE ? " (is another server running?)" : "");
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0) {
        if (bound.ss_family == AF_INET)
            *port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        else if (bound.ss_family == AF_INET6)
            *port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    }
    *fd_out = fd;
    return 0;
}

/* A whole PEM file as a NUL-terminated string (what MHD wants). */
static int read_pem(const char *path, const char *what, char **out,
                    size_t *len_out, struct cairn_diag *diag)
{
    struct cairn_buf b;
    char chunk[4096];
    int rc = CAIRN_EIO;
    FILE *f = fopen(path, "re");

    cairn_buf_init(&b, PEM_MAX);
    if (f == NULL) {
        rc = diag_fail(diag, CAIRN_EIO, "%s %s: %s", what, path,
                       strerror(errno));
        goto out;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (cairn_buf_append(&b, chunk, n) != 0) {
            rc = diag_fail(diag, CAIRN_EIO,
                           "%s %s: larger than 1M; not a "
                           "PEM file?",
                           what, path);
            goto out;
        }
    }
    if (ferror(f) || b.len == 0 || strstr(b.data, "-----BEGIN ") == NULL) {
        rc = diag_fail(diag, CAIRN_EIO, "%s %s: not a PEM file", what, path);
        goto out;
    }
    *out = cairn_buf_steal(&b, len_out);
    rc = *out != NULL ? 0 : CAIRN_ENOMEM;
out:
    explicit_bzero(chunk, sizeof chunk);
    if (b.data != NULL)
        explicit_bzero(b.data, b.len);
    cairn_buf_release(&b);
    if (f != NULL)
        fclose(f);
    return rc;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 2)
        n = 2;
    n *= 2;
    return n > 64 ? 64 : (unsigned)n;
}

static unsigned default_auth_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;

    return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

/*
 * The connection limit, with the open-files limit raised to allow it: the
 * soft limit goes up to the hard one, and the connections stay below it
 * with room for the store, the log and the jobs.
 */
static unsigned connection_limit(unsigned wanted)
{
    struct rlimit rl;
    unsigned limit = wanted ? wanted : CONNECTION_LIMIT;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return limit;
    rlim_t need = (rlim_t)limit + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rlim_t cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need
                         ? need
                         : rl.rlim_max;
        struct rlimit up = {cur, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            rl.rlim_cur = cur;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned fit = rl.rlim_cur > 2 * FD_RESERVE
                           ? (unsigned)(rl.rlim_cur - FD_RESERVE)
                           : (unsigned)(rl.rlim_cur / 2);
        cairn_log(CAIRN_LOG_WARN,
                  "the open-files limit (%llu) allows %u connections, not "
                  "%u; raise it (ulimit -n, LimitNOFILE=)",
                  (unsigned long long)rl.rlim_cur, fit, limit);
        limit = fit;
    }
    return limit;
}

/* Resume every connection still waiting for a password check, and stop. */
static void auth_stop(struct cairn_server *srv)
{
    if (!srv->auth_ready)
        return;
    pthread_mutex_lock(&srv->auth.mu);
    srv->auth.stopping = true;
    pthread_cond_broadcast(&srv->auth.cv);
    pthread_mutex_unlock(&srv->auth.mu);
    for (unsigned i = 0; i < srv->auth.n_threads; i++)
        pthread_join(srv->auth.threads[i], NULL);
    srv->auth.n_threads = 0;
}

/* Stop the reaper, which resumes every connection in the tarpit first. */
static void reaper_stop(struct cairn_server *srv)
{
    if (!srv->reaper_ready)
        return;
    pthread_mutex_lock(&srv->conns_mu);
    srv->reaper_stop = true;
    pthread_cond_broadcast(&srv->reaper_cv);
    pthread_mutex_unlock(&srv->conns_mu);
    pthread_join(srv->reaper, NULL);
    srv->reaper_ready = false;
}

/* ---- life cycle ------------------------------------------------------- */

/*
 * Keep freed memory for the next request. By default glibc hands a
 * thread's free memory back to the kernel once 128 KiB of it collect at
 * the top of its heap, and maps each block over 128 KiB afresh: every
 * GET of a page built its rows and response, freed them, had the pages
 * unmapped (madvise, with a TLB flush on every CPU) and faulted them in
 * again for the next request -- a quarter of the server's CPU per GET.
 * A server keeps at most these thresholds of free memory per heap.
 */
static void malloc_keep(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
}

int cairn_server_new(const struct cairn_server_config *cfg,
                     struct cairn_server **out, struct cairn_diag *diag)
{
    const char *listen_text =
        cfg->listen != NULL ? cfg->listen : CAIRN_SERVER_DEFAULT_LISTEN;
    struct cairn_server *srv = NULL;
    struct listen_addr la;
    uint16_t port = 0;
    int rc = CAIRN_EINTERNAL;

    *out = NULL;
    if (diag != NULL)
        cairn_diag_clear(diag);
    malloc_keep();
    if (cfg->store_url == NULL) {
        rc = diag_fail(diag, CAIRN_EINVAL, "no store to serve");
        goto out;
    }
    rc = parse_listen(listen_text, &la, &port, diag);
    if (rc != 0)
        goto out;
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        rc = diag_fail(diag, CAIRN_EINVAL,
                       "a TLS certificate needs its key and the key its "
                       "certificate: give both tls_cert and tls_key");
        goto out;
    }
    bool tls = cfg->tls_cert != NULL;
    if (!tls && !la.loopback && !cfg->insecure) {
        rc = diag_fail(diag, CAIRN_EPERM,
                       "refusing to listen on %s without TLS: passwords and "
                       "tokens would cross the network in clear; configure "
                       "a certificate and key (--tls-cert, --tls-key) or, "
                       "behind a TLS proxy, pass --insecure",
                       listen_text);
        goto out;
    }

    srv = cairn_calloc(1, sizeof *srv);
    if (srv == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    srv->listen_fd = -1;
    srv->log_fd = STDERR_FILENO;
    srv->grace_ms = cfg->grace_ms ? cfg->grace_ms : 30000;
    atomic_init(&srv->in_flight, 0);
    atomic_init(&srv->body_used, 0);
    pthread_mutex_init(&srv->conns_mu, NULL);
    pthread_cond_init(&srv->reaper_cv, NULL);
    quiet_init(&srv->quiet_access);
    quiet_init(&srv->quiet_http);
    srv->header_ms =
        1000 * (int64_t)(cfg->header_timeout ? cfg->header_timeout
                                             : HEADER_TIMEOUT_S);
    srv->body_ms =
        1000 * (int64_t)(cfg->body_timeout ? cfg->body_timeout : BODY_TIMEOUT_S);
    size_t max_body = cfg->taxii.max_content_length
                          ? cfg->taxii.max_content_length
                          : (size_t)100 << 20;
    srv->body_budget = cfg->body_budget;
    if (srv->body_budget == 0) {
        srv->body_budget = max_body <= SIZE_MAX / 4 ? 4 * max_body : max_body;
        if (srv->body_budget < ((size_t)256 << 20))
            srv->body_budget = (size_t)256 << 20;
    }
    if (srv->body_budget < max_body)
        cairn_log(CAIRN_LOG_WARN,
                  "body_budget (%zu bytes) is below max_content_length "
                  "(%zu): larger POSTs will always be answered 503",
                  srv->body_budget, max_body);
    unsigned conn_limit = connection_limit(cfg->connection_limit);
    unsigned per_address = cfg->per_address_limit == CAIRN_SERVER_NO_LIMIT
                               ? 0
                           : cfg->per_address_limit ? cfg->per_address_limit
                                                    : PER_ADDRESS_LIMIT;
    unsigned threads = cfg->threads ? cfg->threads : default_threads();
    if (threads < 1)
        threads = 1;
    unsigned job_threads = cfg->job_threads ? cfg->job_threads : 2;

    if (tls) {
        size_t len = 0;
        rc = read_pem(cfg->tls_cert, "TLS certificate", &srv->tls_cert, &len,
                      diag);
        if (rc != 0)
            goto out;
        rc = read_pem(cfg->tls_key, "TLS key", &srv->tls_key, &srv->tls_key_len,
                      diag);
        if (rc != 0)
            goto out;
    }

    if (cfg->log_path != NULL) {
        srv->log_path = cairn_strdup(cfg->log_path);
        if (srv->log_path == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        int fd = open_log(cfg->log_path);
        if (fd < 0) {
            rc = diag_fail(diag, CAIRN_EIO, "log %s: %s", cfg->log_path,
                           strerror(errno));
            goto out;
        }
        srv->log_fd = fd;
    }

    /* The store handles, one of them opened now to fail early. */
    pthread_mutex_init(&srv->pool.mu, NULL);
    srv->pool_ready = true;
    srv->pool.cap = threads + job_threads + 4;
    srv->pool.free = cairn_calloc(srv->pool.cap, sizeof *srv->pool.free);
    srv->pool.url = cairn_strdup(cfg->store_url);
    if (srv->pool.free == NULL || srv->pool.url == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (cairn_store_url_redact(cfg->store_url, srv->pool.shown,
                               sizeof srv->pool.shown) < 0)
        snprintf(srv->pool.shown, sizeof srv->pool.shown, "(store)");
    if (cfg->store_opts != NULL) {
        srv->pool.opts = *cfg->store_opts;
        srv->pool.has_opts = true;
    }
    struct cairn_store *first = NULL;
    rc = cairn_store_open(srv->pool.url,
                          srv->pool.has_opts ? &srv->pool.opts : NULL, &first);
    if (rc != 0) {
        rc = diag_fail(diag, rc, "cannot open the store %s: %s",
                       srv->pool.shown, cairn_strerror(rc));
        goto out;
    }
    /*
     * No job runs yet: a status still pending is one whose job died with
     * an earlier server (kill -9, a crash). Its objects were never
     * acknowledged as written; say so instead of "pending" forever.
     */
    size_t abandoned = 0;
    rc = cairn_store_status_abandon_pending(first, &abandoned);
    if (rc != 0) {
        cairn_store_close(first);
        rc = diag_fail(diag, rc, "cannot finish the pending statuses in %s: %s",
                       srv->pool.shown, cairn_strerror(rc));
        goto out;
    }
    if (abandoned > 0)
        cairn_log(CAIRN_LOG_WARN,
                  "%zu status%s left pending by an earlier server finished: "
                  "its unwritten objects are failures",
                  abandoned, abandoned == 1 ? "" : "es");
    pool_put(&srv->pool, first);

    rc = bind_listen(&la, listen_text, &srv->listen_fd, &port, diag);
    if (rc != 0)
        goto out;
    srv->port = port;
    if (cfg->public_url != NULL) {
        snprintf(srv->url, sizeof srv->url, "%s", cfg->public_url);
        size_t ul = strlen(srv->url);
        while (ul > 0 && srv->url[ul - 1] == '/')
            srv->url[--ul] = '\0';
    } else {
        char host[256];
        if (la.wildcard) {
            if (gethostname(host, sizeof host) != 0)
                snprintf(host, sizeof host, "localhost");
            host[sizeof host - 1] = '\0';
        } else if (la.family == AF_INET6) {
            snprintf(host, sizeof host, "[%s]", la.host);
        } else {
            snprintf(host, sizeof host, "%s", la.host);
        }
        snprintf(srv->url, sizeof srv->url, "%s://%s:%u",
                 tls ? "https" : "http", host, (unsigned)port);
    }

    struct cairn_taxii_config tc = cfg->taxii;
    if (tc.base_url == NULL)
        tc.base_url = srv->url;
    srv->exports = cfg->exports;
    rc = cairn_taxii_new(&tc, &srv->taxii);
    if (rc != 0) {
        rc = diag_fail(diag, rc, "cannot set up the TAXII service: %s",
                       cairn_strerror(rc));
        goto out;
    }
    srv->tls = tls;
    if (!cfg->console_off) {
        struct cairn_console_config cc = cfg->console;
        rc = cairn_console_new(&cc, srv->taxii, &srv->console);
        if (rc != 0) {
            rc = diag_fail(diag, rc, "cannot set up the web console: %s",
                           cairn_strerror(rc));
            goto out;
        }
    }

    pthread_mutex_init(&srv->jobs.mu, NULL);
    pthread_cond_init(&srv->jobs.cv, NULL);
    srv->jobs_ready = true;
    srv->jobs.threads = cairn_calloc(job_threads, sizeof *srv->jobs.threads);
    if (srv->jobs.threads == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < job_threads; i++) {
        if (pthread_create(&srv->jobs.threads[i], NULL, job_worker, srv) != 0) {
            rc = diag_fail(diag, CAIRN_ENOMEM, "cannot start a job thread");
            goto out;
        }
        srv->jobs.n_threads++;
    }

    pthread_mutex_init(&srv->auth.mu, NULL);
    pthread_cond_init(&srv->auth.cv, NULL);
    srv->auth_ready = true;
    unsigned auth_threads = cfg->auth_threads ? cfg->auth_threads
                                              : default_auth_threads();
    srv->auth.threads = cairn_calloc(auth_threads, sizeof *srv->auth.threads);
    if (srv->auth.threads == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < auth_threads; i++) {
        if (pthread_create(&srv->auth.threads[i], NULL, auth_worker, srv) !=
            0) {
            rc = diag_fail(diag, CAIRN_ENOMEM, "cannot start an auth thread");
            goto out;
        }
        srv->auth.n_threads++;
    }
    if (pthread_create(&srv->reaper, NULL, reaper_run, srv) != 0) {
        rc = diag_fail(diag, CAIRN_ENOMEM, "cannot start the reaper thread");
        goto out;
    }
    srv->reaper_ready = true;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (la.family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger goes first, so that no option's complaint misses it. */
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, conn_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
        MHD_OPTION_ARRAY, tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        rc = diag_fail(diag, CAIRN_EIO,
                       tls ? "cannot start the HTTPS server: are tls_cert "
                             "and tls_key a matching PEM certificate and key?"
                           : "cannot start the HTTP server");
        goto out;
    }
    *out = srv;
    srv = NULL;
    rc = 0;
out:
    cairn_server_free(srv);
    return rc;
}

uint16_t cairn_server_port(const struct cairn_server *srv)
{
    return srv->port;
}

const char *cairn_server_url(const struct cairn_server *srv)
{
    return srv->url;
}

void cairn_server_free(struct cairn_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->daemon != NULL) {
        /* Stop accepting, then let the requests being served finish. */
        MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
        if (fd != MHD_INVALID_SOCKET) {
            close(fd);
            srv->listen_fd = -1;
        }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (atomic_load(&srv->in_flight) > 0 &&
               ms_since(&t0) < (double)srv->grace_ms) {
            struct timespec nap = {0, 10 * 1000 * 1000};
            nanosleep(&nap, NULL);
        }
        /* No connection may stay suspended past this point. */
        auth_stop(srv);
        reaper_stop(srv);
        MHD_stop_daemon(srv->daemon);
        srv->listen_fd = -1; /* closed by MHD if it was not quiesced */
    }
    auth_stop(srv);
    reaper_stop(srv);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->jobs_ready) {
        pthread_mutex_lock(&srv->jobs.mu);
        srv->jobs.stopping = true;
        pthread_cond_broadcast(&srv->jobs.cv);
        pthread_mutex_unlock(&srv->jobs.mu);
        for (unsigned i = 0; i < srv->jobs.n_threads; i++)
            pthread_join(srv->jobs.threads[i], NULL);
        cairn_free(srv->jobs.threads);
        pthread_cond_destroy(&srv->jobs.cv);
        pthread_mutex_destroy(&srv->jobs.mu);
    }
    cairn_console_free(srv->console);
    cairn_taxii_free(srv->taxii);
    if (srv->pool_ready) {
        for (size_t i = 0; i < srv->pool.n_free; i++)
            cairn_store_close(srv->pool.free[i]);
        cairn_free(srv->pool.free);
        cairn_free(srv->pool.url);
        pthread_mutex_destroy(&srv->pool.mu);
    }
    if (srv->auth_ready) {
        cairn_free(srv->auth.threads);
        pthread_cond_destroy(&srv->auth.cv);
        pthread_mutex_destroy(&srv->auth.mu);
    }
    pthread_cond_destroy(&srv->reaper_cv);
    pthread_mutex_destroy(&srv->conns_mu);
    pthread_mutex_destroy(&srv->quiet_access.mu);
    pthread_mutex_destroy(&srv->quiet_http.mu);
    if (srv->log_fd != STDERR_FILENO)
        close(srv->log_fd);
    cairn_free(srv->log_path);
    if (srv->tls_key != NULL)
        explicit_bzero(srv->tls_key, srv->tls_key_len);
    cairn_free(srv->tls_key);
    cairn_free(srv->tls_cert);
    cairn_free(srv);
}
