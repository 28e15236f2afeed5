/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP adapter: TAXII 2.1 over libmicrohttpd, with TLS and access log. */
#ifndef CAIRN_SERVER_H
#define CAIRN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/error.h"
#include "cairn/export.h"
#include "cairn/console.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

/*
 * Ownership: the configuration and every string it points to are borrowed
 * by cairn_server_new and copied where they are needed later. A struct
 * cairn_server owns its listening socket, its threads, the store handles
 * it opens (one per request thread and job worker, never shared) and its
 * log file; cairn_server_free stops it gracefully and releases them all.
 * A struct cairn_server_ini owns its strings until _release. Signals are
 * the program's business: the server neither installs handlers nor
 * changes the signal mask; block SIGTERM, SIGINT and SIGHUP before
 * cairn_server_new so that its threads inherit the mask.
 */

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_SERVER_DEFAULT_PORT   6543
#define CAIRN_SERVER_DEFAULT_LISTEN "127.0.0.1:6543"

struct cairn_server_config {
    /* "127.0.0.1:6543", "[::1]:6543", "localhost:6543"; port 0 picks a
     * free port (see cairn_server_port). NULL: the default above. */
    const char *listen;
    /* Store to open, as for cairn_store_open; one handle per thread. */
    const char *store_url;
    const struct cairn_store_opts *store_opts; /* may be NULL */
    /* PEM certificate (chain) and private key: both or neither. */
    const char *tls_cert;
    const char *tls_key;
    /* Allow a non-loopback address without TLS. */
    bool insecure;
    /* Access log file, appended to; NULL: standard error. */
    const char *log_path;
    /* Request threads; 0: twice the processors, at least 4, at most 64. */
    unsigned threads;
    /* Threads that finish large POSTs after their 202; 0: 2. */
    unsigned job_threads;
    /* How long cairn_server_free waits for requests in flight; 0: 30000. */
    unsigned grace_ms;
    /* Base URL clients reach the server at (behind a proxy, say); NULL:
     * derived from the listen address, the bound port and TLS. It is
     * taxii.base_url unless that is set. */
    const char *public_url;
    /* Open connections at once; 0: 4096. Never more than the open-files
     * limit allows: the server raises its soft limit to the hard one. */
    unsigned connection_limit;
    /* Open connections from one client address; 0: 64;
     * CAIRN_SERVER_NO_LIMIT: none (behind a proxy, whose address every
     * client shares). */
    unsigned per_address_limit;
    /* Seconds a client has to send a request line and its headers
     * (counted from the connection or the previous answer, whatever it
     * sends meanwhile); 0: 30. */
    unsigned header_timeout;
    /* Seconds a client has to send a request's body; 0: 300. */
    unsigned body_timeout;
    /* Bytes of request bodies held in memory at once, over all requests;
     * past it a POST is answered 503. 0: 4 x max_content_length, at least
     * 256 MiB. */
    size_t body_budget;
    /* Threads checking passwords (scrypt); 0: half the processors, 1 to
     * 4. Requests with a password not yet verified wait off the request
     * threads meanwhile. */
    unsigned auth_threads;
    struct cairn_taxii_config taxii;
    /* Exports served at /export/NAME (borrowed; outlives the server);
     * NULL: none. */
    struct cairn_export_service *exports;
    /* The web console under /ui/ (docs/console.md), on unless this is
     * set ([console] enabled = no). */
    bool console_off;
    struct cairn_console_config console;
};

#define CAIRN_SERVER_NO_LIMIT ((unsigned)-1)

struct cairn_server;

/*
 * Bind the listen address and start serving in background threads; on
 * return the server accepts connections. Refuses (CAIRN_EPERM) a
 * non-loopback address without TLS unless cfg->insecure. Errors:
 * CAIRN_EINVAL (malformed listen address, only one of cert and key),
 * CAIRN_EIO (cannot bind, read the TLS files or open the log or the
 * store), CAIRN_ENOMEM. `diag` (may be NULL) gets a message naming the
 * option or file at fault.
 */
int cairn_server_new(const struct cairn_server_config *cfg,
                     struct cairn_server **out, struct cairn_diag *diag);

/* The port the server listens on (the one picked when asked for 0). */
uint16_t cairn_server_port(const struct cairn_server *srv);

/* The base URL, e.g. "http://127.0.0.1:6543" (no trailing slash). */
const char *cairn_server_url(const struct cairn_server *srv);

/*
 * Reopen the access log file under its name (after logrotate moved it),
 * safe to call while requests are served. A no-op when logging to
 * standard error. CAIRN_EIO when it cannot be opened (the old file stays
 * in use).
 */
int cairn_server_reopen_log(struct cairn_server *srv);

/*
 * Tell the web console how a run of peer `name` went (0 or the error, and
 * its message), for its dashboard. A no-op when the console is off.
 */
void cairn_server_peer_ran(struct cairn_server *srv, const char *name, int rc,
                           const char *error);

/*
 * Stop gracefully: stop accepting, let the requests in flight finish (up
 * to grace_ms), run every queued job to the end, close the store handles
 * and the log. Accepts NULL.
 */
void cairn_server_free(struct cairn_server *srv);

/* ---- configuration file ---------------------------------------------- */

/*
 * The INI file `cairn serve --config` reads. Keys left out stay NULL, 0 or
 * -1 (for insecure), so that command-line flags and defaults can fill them.
 *
 *   [server] listen, data, tls_cert, tls_key, insecure, log, threads,
 *            public_url, connection_limit, per_address_limit,
 *            header_timeout, body_timeout, body_budget
 *   [taxii]  title, description, contact, default_api_root,
 *            max_content_length, page_bytes, credential_cache_seconds
 *   [analysis] warninglists, default_confidence, source_confidence,
 *            decay (docs/analysis.md)
 *   [hunt]   indicators (collection ids, any number), sightings, org
 *   [archive] dir, watch (any number), keep, max_size
 * (the response loop, docs/response.md)
 *   [console] enabled
 *   [store]  url (postgresql://...; in place of [server] data)
 */
/* Longest credential_cache_seconds accepted: one day. */
#define CAIRN_SERVER_CRED_CACHE_MAX 86400
struct cairn_server_ini {
    char *listen;
    char *data;
    char *tls_cert;
    char *tls_key;
    int insecure; /* -1 unset, 0 false, 1 true */
    char *log;
    unsigned threads;
    char *public_url;
    char *title;
    char *description;
    char *contact;
    char *default_api_root;
    size_t max_content_length;
    size_t page_bytes;                 /* 0: unset (32 MiB) */
    unsigned credential_cache_seconds; /* 0: unset (300 s) */
    unsigned connection_limit;         /* 0: unset */
    unsigned per_address_limit; /* 0: unset; CAIRN_SERVER_NO_LIMIT: none */
    unsigned header_timeout;    /* 0: unset */
    unsigned body_timeout;      /* 0: unset */
    size_t body_budget;         /* 0: unset */
    char *warninglists; /* [analysis] warninglists: a file or directory */
    /* [analysis] scores: default_confidence (0: unset), and the
     * source_confidence and decay lists (cairn_score_opts_parse) */
    int default_confidence;
    char *source_confidence;
    char *decay;
    /* [hunt]: the response loop runs when indicators are named. */
    char **hunt_indicators; /* collection ids */
    size_t n_hunt_indicators;
    char *hunt_sightings; /* collection id; NULL: sightings not stored */
    char *hunt_org;       /* NULL: the host name */
    /* [archive] */
    char *archive_dir; /* NULL: DATA/archive */
    char **archive_watch;
    size_t n_archive_watch;
    uint64_t archive_keep;     /* seconds; 0: unset (keep all) */
    uint64_t archive_max_size; /* bytes; 0: unset (no bound) */
    int console_enabled;        /* [console] enabled: -1 unset, 0 no, 1 yes */
    char *store_url; /* [store] url: a PostgreSQL URL, or NULL */
};

/*
 * Read `path` into `out` (cleared first). An unknown section or key, or a
 * malformed value, is CAIRN_EINVAL with `diag` naming file:line; an
 * unreadable file CAIRN_EIO. Relative file names in the file (data,
 * tls_cert, tls_key, log) are taken relative to the file's directory.
 */
int cairn_server_ini_load(const char *path, struct cairn_server_ini *out,
                          struct cairn_diag *diag);
void cairn_server_ini_release(struct cairn_server_ini *ini);

#ifdef __cplusplus
}
#endif

#endif
