/* SPDX-License-Identifier: Apache-2.0 */
/* The web console: analysts' pages under /ui/, without sockets. */
#ifndef CAIRN_CONSOLE_H
#define CAIRN_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

/*
 * Ownership: the configuration and the request are borrowed for the call
 * (strings the console keeps are copied). A response's body and
 * authorization belong to the caller, released with
 * cairn_console_response_release. A struct cairn_console is shared by all
 * threads of a server: its sessions are guarded by a lock inside; each
 * thread passes its own store handle. Log-in uses the TAXII handler's
 * password checks (cairn_taxii_auth_begin and _check), so that the same
 * hashes and the same throttles apply to the console and to Basic.
 */

#ifdef __cplusplus
extern "C" {
#endif

struct cairn_console_config {
    /* Seconds a session lives without a request; 0: 3600. */
    unsigned idle_seconds;
    /* Seconds a session lives at most; 0: 43200 (12 hours). */
    unsigned max_seconds;
    /* Largest upload (bundle, log) a form may carry; 0: 16 MiB. */
    size_t max_upload;
    /* Peers shown on the dashboard and the admin page; may be NULL,
     * borrowed for the console's life. */
    const struct cairn_peers *peers;
    /* The telemetry archive whose state the dashboard shows (opened read
     * only, as `cairn archive stats` does); NULL: none. Copied. */
    const char *archive_dir;
};

struct cairn_console;

/* `taxii` is borrowed and must outlive the console. CAIRN_ENOMEM. */
int cairn_console_new(const struct cairn_console_config *cfg,
                      struct cairn_taxii *taxii, struct cairn_console **out);
void cairn_console_free(struct cairn_console *con);

/* Whether `path` (without the query) is the console's: /ui or /ui/... */
bool cairn_console_path(const char *path);

/* The most bytes of a request body the console reads. */
size_t cairn_console_body_limit(const struct cairn_console *con);

struct cairn_console_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* raw path, e.g. "/ui/search" */
    const char *query;        /* raw query without '?', or NULL */
    const char *cookie;       /* Cookie header or NULL */
    const char *content_type; /* Content-Type header or NULL */
    const char *body;         /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *client; /* the client's address, for the throttles */
    bool tls;           /* the connection is TLS: cookies are Secure */
    /*
     * Set by the adapter when it calls again after the password check the
     * console asked for (response status 0): the outcome of
     * cairn_taxii_auth_check and the user it named.
     */
    bool auth_done;
    int auth_rc;
    const char *auth_user;
};

#define CAIRN_CONSOLE_HEADERS_MAX 10

struct cairn_console_header {
    const char *name; /* static text */
    char value[320];
};

struct cairn_console_response {
    /*
     * The HTTP status; 0 means a password must be checked first: run
     * cairn_taxii_auth_check(taxii, store, authorization, client, user)
     * off the request thread, then call cairn_console_handle again with
     * the same request and auth_done, auth_rc and auth_user set.
     */
    int status;
    const char *content_type; /* static; NULL when there is no body */
    char *body;               /* freed by _release */
    size_t body_len;
    struct cairn_console_header headers[CAIRN_CONSOLE_HEADERS_MAX];
    size_t n_headers;
    char user[CAIRN_STORE_NAME_MAX + 1]; /* who the session is, or "" */
    char *authorization;                 /* status 0: what to check */
};

/*
 * Answer one request under /ui/: sessions, log-in and log-out, the pages
 * and their forms, the embedded assets. Every outcome is an HTTP response
 * (a page saying what went wrong); the return value is 0 unless the
 * response could not be built (CAIRN_ENOMEM): the adapter answers 500.
 */
int cairn_console_handle(struct cairn_console *con, struct cairn_store *store,
                         const struct cairn_console_request *req,
                         struct cairn_console_response *resp);

/* Free the body and authorization; the struct itself is the caller's. */
void cairn_console_response_release(struct cairn_console_response *resp);

/*
 * Record the outcome of a run of peer `name` (0 or an error code, and the
 * result's message), shown on the dashboard as its last sync and last
 * error. Safe from any thread.
 */
void cairn_console_peer_ran(struct cairn_console *con, const char *name,
                            int rc, const char *error);

#ifdef __cplusplus
}
#endif

#endif
