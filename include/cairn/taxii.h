/* SPDX-License-Identifier: Apache-2.0 */
/* TAXII 2.1 without sockets: a request goes in, a response comes out. */
#ifndef CAIRN_TAXII_H
#define CAIRN_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/store.h"

/*
 * Ownership: the request and everything it points to are borrowed for the
 * call. The response's body and job belong to the caller, released with
 * cairn_taxii_response_release(). A struct cairn_taxii is shared by all
 * threads of a server (it is immutable but for an internal, locked
 * credential cache); each thread passes its own store handle.
 */

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_TAXII_MEDIA "application/taxii+json;version=2.1"
#define CAIRN_STIX_MEDIA "application/stix+json;version=2.1"

/* What the server says about itself; strings are copied by _new. */
struct cairn_taxii_config {
    const char *title;       /* discovery title; NULL: "cairn" */
    const char *description; /* may be NULL */
    const char *contact;     /* may be NULL */
    const char *default_api_root; /* name of the default API root or NULL */
    /* Public base URL used in discovery ("https://host:port"); NULL: "" */
    const char *base_url;
    /* Bodies larger than this get 413; also the API roots' advertised
     * max_content_length unless the root sets a smaller one. 0: 100 MiB. */
    size_t max_content_length;
    /* POST bodies with more objects than this are answered 202 with a
     * pending status, and written by the response's job. 0: 1000. */
    size_t sync_object_limit;
    /* How long a verified Basic credential is cached; 0: 300 s. */
    unsigned credential_cache_seconds;
};

struct cairn_taxii;

int cairn_taxii_new(const struct cairn_taxii_config *cfg,
                    struct cairn_taxii **out);
void cairn_taxii_free(struct cairn_taxii *t);

struct cairn_taxii_request {
    const char *method;        /* "GET", "POST", "DELETE", ... */
    const char *path;          /* raw path, e.g. "/taxii2/" (no query) */
    const char *query;         /* raw query string without '?', or NULL */
    const char *accept;        /* Accept header or NULL */
    const char *content_type;  /* Content-Type header or NULL */
    const char *authorization; /* Authorization header or NULL */
    const char *body;          /* POST body (may be NULL when len is 0) */
    size_t body_len;
    /* Content-Length announced by the client, or -1; lets the adapter ask
     * for a 413 before reading the body (see cairn_taxii_body_allowed). */
    int64_t content_length;
};

#define CAIRN_TAXII_HEADERS_MAX 6

struct cairn_taxii_header {
    const char *name; /* static text */
    char value[160];
};

/*
 * Work a POST left to finish after its 202 response: the adapter runs it
 * (with cairn_taxii_job_run) on a thread with its own store handle.
 */
struct cairn_taxii_job;

struct cairn_taxii_response {
    int status;               /* HTTP status code */
    const char *content_type; /* static; NULL when there is no body */
    char *body;               /* NUL-terminated; freed by _release */
    size_t body_len;
    struct cairn_taxii_header headers[CAIRN_TAXII_HEADERS_MAX];
    size_t n_headers;
    char user[CAIRN_STORE_NAME_MAX + 1]; /* who was authenticated, or "" */
    struct cairn_taxii_job *job;         /* NULL unless work remains */
};

/*
 * Answer one request: authenticate it (HTTP Basic or Bearer token against
 * the store), check the user's rights, route it, and fill `resp`. Every
 * outcome, including malformed requests, is an HTTP response (an error
 * resource whose http_status matches); the return value is 0 unless the
 * response itself could not be built (CAIRN_ENOMEM), in which case the
 * adapter answers 500 on its own.
 */
int cairn_taxii_handle(struct cairn_taxii *t, struct cairn_store *store,
                       const struct cairn_taxii_request *req,
                       struct cairn_taxii_response *resp);

/*
 * Before reading a body: 0 when a body of `content_length` bytes may be
 * sent, CAIRN_ETOOBIG when it is over max_content_length.
 */
int cairn_taxii_body_allowed(const struct cairn_taxii *t,
                             int64_t content_length);

/* Finish a job on `store`; then free it with cairn_taxii_job_free. */
int cairn_taxii_job_run(struct cairn_taxii_job *job, struct cairn_store *store);
void cairn_taxii_job_free(struct cairn_taxii_job *job);

/* Free the body (and a job not taken); the struct itself is the caller's. */
void cairn_taxii_response_release(struct cairn_taxii_response *resp);

#ifdef __cplusplus
}
#endif

#endif
