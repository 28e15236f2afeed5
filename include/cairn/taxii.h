/* SPDX-License-Identifier: Apache-2.0 */
/* TAXII 2.1 without sockets: a request goes in, a response comes out. */
#ifndef CAIRN_TAXII_H
#define CAIRN_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/sign.h"
#include "cairn/stix.h"
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
#define CAIRN_STIX_MEDIA  "application/stix+json;version=2.1"

/* What the server says about itself; strings are copied by _new. */
struct cairn_taxii_config {
    const char *title;            /* discovery title; NULL: "cairn" */
    const char *description;      /* may be NULL */
    const char *contact;          /* may be NULL */
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
    /* Bytes of objects on one page of GET objects (and rows read for any
     * object endpoint): past it the page ends with more=true and next; a
     * page always holds one object. 0: 32 MiB; at most 128 MiB. */
    size_t page_bytes;
    /* [collection ID] signature rules for POST (cairn_peers_collection_rule);
     * NULL: none. Borrowed for the handler's lifetime. */
    const struct cairn_peers *signing;
    /* [server] sign: what this node creates (the response loop's
     * sightings) is signed with it before it is stored, through an ingest
     * session's hook (cairn_sign_gate_hook with .signer); NULL: unsigned. */
    const struct cairn_sign_key *signer;
    /* [analysis] scores (warninglists, confidences, decay) of the lookup
     * and sightings endpoints; NULL: the defaults. Borrowed. */
    const struct cairn_score_opts *score;
};

struct cairn_taxii;
struct cairn_score_opts;

int cairn_taxii_new(const struct cairn_taxii_config *cfg,
                    struct cairn_taxii **out);
void cairn_taxii_free(struct cairn_taxii *t);
/* The config's signer ([server] sign): the key that signs what the node
 * creates itself, for the layers above (the console); NULL: none. */
const struct cairn_sign_key *cairn_taxii_signer(const struct cairn_taxii *t);

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
    /* Who the caller authenticated already (cairn_taxii_auth_begin and
     * _check); NULL: the handler authenticates `authorization` itself. */
    const char *user;
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

/*
 * The largest body a request for `path` (without the query) may send, to
 * be asked before a byte of it is read: max_content_length, or the API
 * root's own limit when the path is under a root that sets a smaller one.
 * A path that names no root, or a root that cannot be read from `store`,
 * gets max_content_length; the handler answers such requests itself.
 */
size_t cairn_taxii_body_limit(const struct cairn_taxii *t,
                              struct cairn_store *store, const char *path);

/*
 * Who sends a request, as cairn_taxii_handle would decide it, so that the
 * adapter can refuse a body before reading it: 0 with `user` filled;
 * CAIRN_EPERM for no, malformed or wrong credentials (answer 401);
 * CAIRN_ETOOBIG when too many password checks run already (answer 503
 * with Retry-After); another code when the store failed. A verified
 * password is cached, so the handler's own check that follows is cheap.
 */
int cairn_taxii_authenticate(struct cairn_taxii *t, struct cairn_store *store,
                             const char *authorization,
                             char user[CAIRN_STORE_NAME_MAX + 1]);

/*
 * Authentication in two steps, so that a slow password check never runs
 * on a thread that serves other clients. `client` is the client's address
 * (NULL: unknown), whose failed checks are throttled like a user's.
 * cairn_taxii_auth_begin is quick: 0 with `user` filled (an API token, as
 * "Bearer KEY" or "Token KEY", or a cached password; `*refresh` set when
 * that password should be verified again with cairn_taxii_auth_check
 * while the request goes on), CAIRN_EPERM (answer 401: none, malformed,
 * unknown token, or a password that failed a moment ago), CAIRN_EBUSY
 * (answer 429: too many failed checks from this address or for this user
 * lately; credentials that verified before are never throttled),
 * CAIRN_TAXII_AUTH_SLOW (a password must be checked: call
 * cairn_taxii_auth_check elsewhere), or a store failure.
 * cairn_taxii_auth_check does the slow check: 0, CAIRN_EPERM, CAIRN_EBUSY,
 * CAIRN_ETOOBIG (too many checks at once: 503), or a store failure. Its
 * outcome is remembered: success for credential_cache_seconds, failure
 * for a few seconds.
 */
#define CAIRN_TAXII_AUTH_SLOW 1
int cairn_taxii_auth_begin(struct cairn_taxii *t, struct cairn_store *store,
                           const char *authorization, const char *client,
                           char user[CAIRN_STORE_NAME_MAX + 1], bool *refresh);
int cairn_taxii_auth_check(struct cairn_taxii *t, struct cairn_store *store,
                           const char *authorization, const char *client,
                           char user[CAIRN_STORE_NAME_MAX + 1]);

/*
 * Before reading the body of a request (`req` without it, `req->user`
 * authenticated): 1 when its body is wanted, that is a POST to an objects
 * endpoint by a user who may write there; otherwise 0 with `resp` filled
 * with the answer, decided from the method, path and headers alone (405,
 * 404, 403, 415, or the answer to a request that needs no body), so that
 * the body is dropped unread. Negative on failure (CAIRN_ENOMEM).
 */
int cairn_taxii_preflight(struct cairn_taxii *t, struct cairn_store *store,
                          const struct cairn_taxii_request *req,
                          struct cairn_taxii_response *resp);

/* Finish a job on `store`; then free it with cairn_taxii_job_free. */
int cairn_taxii_job_run(struct cairn_taxii_job *job, struct cairn_store *store);

/*
 * Add the objects of a STIX document (a bundle, or a single object) held
 * in memory to `collection` as a POST of them does: each validated, the
 * collection's signature policy ([collection ID] signatures, trust)
 * applied, the rest stored as the bytes they came in; no status. `cb`
 * (NULL: the log) hears of each object the policy refuses or marks;
 * `counts` (may be NULL) gets the outcomes. The web console's import
 * comes in here. CAIRN_EINVAL with a sentence in `err` (may be NULL)
 * for a document that is not well-formed or holds no object; the
 * store's errors; CAIRN_ENOMEM.
 */
int cairn_taxii_add_objects(struct cairn_taxii *t, struct cairn_store *s,
                            const char *collection, const char *doc,
                            size_t len, cairn_diag_cb cb, void *ud,
                            struct cairn_ingest_counts *counts, char *err,
                            size_t err_len);
void cairn_taxii_job_free(struct cairn_taxii_job *job);

/* Free the body (and a job not taken); the struct itself is the caller's. */
void cairn_taxii_response_release(struct cairn_taxii_response *resp);

/* ---- client ------------------------------------------------------------ */

/*
 * A TAXII 2.1 client over libcurl (src/taxii/client.c). Ownership: the
 * options and their strings are copied by _new. JSON and pages handed out
 * belong to the caller. A client is used by one thread at a time; it keeps
 * its connections open between requests.
 *
 * Every request is retried on network errors, timeouts (including a
 * transfer under 1 KiB/s for 30 s), 408, 429 and 5xx,
 * with exponential backoff and jitter (429 and 503 wait at least what
 * Retry-After asks, up to retry_after_max_ms), then fails with CAIRN_EIO.
 * Other outcomes are not retried: 401 and 403 are CAIRN_EPERM, 404
 * CAIRN_ENOTFOUND, 413 or a response over max_response_len CAIRN_ETOOBIG,
 * any other 4xx CAIRN_EIO; a response that is not
 * application/taxii+json;version=2.1 or not a JSON object is CAIRN_EPARSE
 * (a body that fails to parse is retried first, as it may be truncated).
 * After a failure cairn_taxii_client_error() says what happened, naming
 * the URL and the server's own error title and description.
 */
struct cairn_taxii_client;

struct cairn_taxii_client_opts {
    const char *user;            /* HTTP Basic user; NULL: no Basic auth */
    const char *password;        /* its password */
    const char *token;           /* Bearer token; exclusive with user */
    const char *cacert;          /* PEM CA file; NULL: the system's CAs */
    const char *cert;            /* PEM client certificate (mutual TLS) */
    const char *key;             /* its private key; NULL: in the cert file */
    unsigned connect_timeout_ms; /* 0: 10000 */
    unsigned timeout_ms;         /* one whole exchange; 0: 120000 */
    size_t max_response_len;     /* 0: 256 MiB */
    unsigned max_attempts;       /* tries per request; 0: 4 */
    unsigned backoff_ms;         /* first retry delay; 0: 500 */
    unsigned backoff_max_ms;     /* 0: 30000 */
    unsigned retry_after_max_ms; /* 0: 300000 */
    unsigned poll_ms;            /* status polling interval; 0: 1000 */
    unsigned poll_timeout_ms;    /* give up on a pending status; 0: 300000 */
    /* Asked during waits and transfers; true ends the request with
     * CAIRN_EIO ("cancelled"). May be NULL. */
    bool (*cancelled)(void *ud);
    void *cancel_ud;
};

/* CAIRN_EINVAL for both user and token, CAIRN_ENOMEM, CAIRN_EIO (curl). */
int cairn_taxii_client_new(const struct cairn_taxii_client_opts *opts,
                           struct cairn_taxii_client **out);
void cairn_taxii_client_free(struct cairn_taxii_client *c);

/* The message of the last failure ("" after a success); never NULL. */
const char *cairn_taxii_client_error(const struct cairn_taxii_client *c);

/* Requests made and retries among them, for statistics and tests. */
void cairn_taxii_client_counters(const struct cairn_taxii_client *c,
                                 unsigned long *requests,
                                 unsigned long *retries);

/*
 * Read a password or token from the first line of file `path` (at most
 * 4096 bytes; the line end is dropped) into *out, freed by the caller with
 * cairn_free. CAIRN_EIO (unreadable), CAIRN_EINVAL (empty), CAIRN_ETOOBIG.
 */
int cairn_taxii_secret_read(const char *path, char **out);

/* GET any TAXII resource at `url`: a JSON object into *out. */
int cairn_taxii_client_get(struct cairn_taxii_client *c, const char *url,
                           json_t **out);

/*
 * GET any file at `url` (a MISP feed's manifest or event, a CSV list):
 * its bytes, whatever their media type, into *body (NUL-terminated, the
 * caller frees with cairn_free) and *len, and its Content-Type into
 * `media_type` ("" when none; may be NULL). Retries, TLS, credentials and
 * the max_response_len bound are those of every request; redirects are not
 * followed (an HTTP 3xx is CAIRN_EIO, naming the status).
 */
int cairn_taxii_client_fetch(struct cairn_taxii_client *c, const char *url,
                             char **body, size_t *len, char *media_type,
                             size_t media_type_len);

/*
 * Resolve `url`, a discovery URL or an API root URL (told apart by
 * fetching it: discovery has "api_roots"), to the API root URL (ending in
 * '/', caller frees with cairn_free) and its resource (may be NULL).
 * Discovery's "default" is used, else its only API root. CAIRN_ENOTFOUND
 * when there is no usable root, CAIRN_EPARSE when the URL serves neither.
 */
int cairn_taxii_client_api_root(struct cairn_taxii_client *c, const char *url,
                                char **root_url_out, json_t **root_out);

/* The "collections" array of an API root (empty when none); caller's. */
int cairn_taxii_client_collections(struct cairn_taxii_client *c,
                                   const char *root_url, json_t **out);

/* Filters of the object endpoints; NULL or 0 fields are left out. */
struct cairn_taxii_get {
    const char *added_after; /* RFC 3339 */
    size_t limit;
    const char *next;
    const char *match_id; /* comma-separated lists */
    const char *match_type;
    const char *match_version; /* "all", "first", "last" or timestamps */
    const char *match_spec_version;
};

#define CAIRN_TAXII_NEXT_MAX 1024

/* One page of objects, manifest entries or versions. */
struct cairn_taxii_page {
    json_t *body;  /* the whole response */
    json_t *items; /* borrowed from body: "objects" or "versions"; an array */
    bool more;
    char next[CAIRN_TAXII_NEXT_MAX]; /* "" when none */
    /* X-TAXII-Date-Added-First/-Last, when the server sent them. */
    bool has_added;
    struct cairn_time added_first;
    struct cairn_time added_last;
};
void cairn_taxii_page_release(struct cairn_taxii_page *page);

/*
 * GET {root}collections/{coll}/objects/ (and manifest/, objects/{id}/,
 * objects/{id}/versions/) with the filters of `q` (may be NULL). The page
 * is checked: an object body whose item list, when present, is an array,
 * "more" a boolean and "next" a string; CAIRN_EPARSE otherwise.
 */
int cairn_taxii_client_objects(struct cairn_taxii_client *c,
                               const char *root_url, const char *collection,
                               const struct cairn_taxii_get *q,
                               struct cairn_taxii_page *out);
int cairn_taxii_client_manifest(struct cairn_taxii_client *c,
                                const char *root_url, const char *collection,
                                const struct cairn_taxii_get *q,
                                struct cairn_taxii_page *out);
int cairn_taxii_client_object(struct cairn_taxii_client *c,
                              const char *root_url, const char *collection,
                              const char *object_id,
                              const struct cairn_taxii_get *q,
                              struct cairn_taxii_page *out);
int cairn_taxii_client_versions(struct cairn_taxii_client *c,
                                const char *root_url, const char *collection,
                                const char *object_id,
                                const struct cairn_taxii_get *q,
                                struct cairn_taxii_page *out);

/*
 * POST an envelope (`len` bytes of JSON) to a collection and poll its
 * status resource until it is complete (every poll_ms, for at most
 * poll_timeout_ms: then CAIRN_EIO). *status_out (may be NULL) receives
 * the final status resource. Re-sending after a lost answer is safe, as
 * TAXII servers take an identical version again as a success.
 */
int cairn_taxii_client_add(struct cairn_taxii_client *c, const char *root_url,
                           const char *collection, const char *envelope,
                           size_t len, json_t **status_out);

/* ---- federation: pull, push, peers (src/taxii/sync.c, peers.c) ---------- */

/*
 * How far a pull or push got is kept per flow in a small JSON file,
 * STATE_DIR/<sha256 of direction, URL and both collections>.json, written
 * atomically (temporary file, fsync, rename) only after the page it
 * covers was committed to the local store (pull) or acknowledged complete
 * by the server (push). An interrupted run therefore resumes where it
 * stopped: what was stored before the state was written is fetched again
 * and found identical, so nothing is lost and nothing duplicated.
 */

/* The values of enum cairn_share_verdict (sharing rules, below). */
#define CAIRN_SHARE_VERDICTS 4

/* Outcome of one pull or push. */
struct cairn_sync_result {
    size_t pages;    /* pages fetched (pull) or envelopes sent (push) */
    size_t received; /* objects seen on pages (pull) / read locally (push) */
    size_t stored;   /* new here (pull) / accepted by the peer (push) */
    size_t existed;  /* already here (pull only) */
    size_t rejected; /* invalid, conflicting, or refused by the peer */
    char error[512]; /* why the run stopped, when it returned an error,
                        or why it is incomplete */
    size_t withheld; /* push: kept back by the sharing rules */
    /* The run stopped at max_pages, max_objects or the deadline with more
     * to come; its progress is saved and the next run goes on from there. */
    bool incomplete;
    /* push: the withheld ones by reason, indexed by cairn_share_verdict */
    size_t withheld_why[CAIRN_SHARE_VERDICTS];
};

struct cairn_sync_flow {
    const char *url;          /* discovery or API root URL of the peer */
    const char *remote;       /* collection id, alias or title at the peer */
    const char *local;        /* local collection id */
    const char *state_dir;    /* e.g. DATA/peers; created (0700) if missing */
    const char *const *types; /* push: only these types; NULL: all */
    size_t n_types;
    size_t limit;     /* objects per page or envelope; 0: 1000 */
    size_t max_bytes; /* push: envelope bytes; 0: 8 MiB, less if the
                         API root's max_content_length is smaller */
    cairn_diag_cb cb; /* each rejected object; may be NULL */
    void *ud;
    /*
     * Push: who the peer is to the sharing rules (cairn_share_allowed);
     * NULL is a reader with no identity that is not a member, so only
     * CLEAR and GREEN objects (and unmarked ones the collection's default
     * lets everyone read) are sent.
     */
    const struct cairn_share_reader *share;
    int anonymize;    /* push: an enum cairn_share_anon for sightings */
    const char *peer; /* push: the peer's name, seed of its pseudonyms */
    /*
     * Bounds of one run, so that a peer that never stops paging cannot
     * hold it for ever: pages fetched (pull) or envelopes sent (push),
     * objects received or read, and seconds for the whole run. 0: the
     * defaults below. Reaching one ends the run with result->incomplete.
     */
    size_t max_pages;
    size_t max_objects;
    unsigned deadline;
    /* pull: signatures are checked by it before objects are stored (its
     * counts grow; its cb gets each refusal and mark); NULL: not checked */
    struct cairn_sign_gate *sign_gate;
};

#define CAIRN_SYNC_MAX_PAGES_DEF   10000
#define CAIRN_SYNC_MAX_OBJECTS_DEF 1000000
#define CAIRN_SYNC_DEADLINE_DEF    900 /* seconds */

/*
 * Copy the objects (every version) added to `remote` since the last pull
 * into `local`, page by page, following the server's `next` whenever it
 * gives one; each object is validated as `cairn validate` does and
 * invalid ones are reported and skipped, as are objects over
 * CAIRN_STIX_MAX_OBJECT_LEN and bundles sent as objects. The next run
 * starts at the last date_added seen (inclusive: objects that share it are
 * fetched again and found present), so none is lost at a page boundary.
 * Returns 0 when the run finished or stopped at a bound (result->incomplete;
 * result->rejected may be > 0), or the error that stopped it, explained
 * in result->error: CAIRN_ENOTFOUND (no such collection here or there),
 * the client's errors, CAIRN_EPARSE for a peer whose paging would loop or
 * skip objects, CAIRN_EIO for a store or state file error.
 */
int cairn_sync_pull(struct cairn_taxii_client *c, struct cairn_store *s,
                    const struct cairn_sync_flow *f,
                    struct cairn_sync_result *result);

/*
 * Send the objects added to `local` since the last push to `remote`, in
 * envelopes of at most `limit` objects and `max_bytes`, each acknowledged
 * complete before the state moves past it. Objects the peer refuses count
 * as rejected and are not sent again. Errors as for cairn_sync_pull.
 */
int cairn_sync_push(struct cairn_taxii_client *c, struct cairn_store *s,
                    const struct cairn_sync_flow *f,
                    struct cairn_sync_result *result);

/*
 * The name under which the store keeps the progress of flow `f` (a push
 * when `push`, else a pull): "flow:" and the hex SHA-256 of its direction,
 * URL, collections and types, into `out` (at least 70 bytes). Every
 * process sharing the store finds a flow's progress under the same name.
 * CAIRN_ETOOBIG, CAIRN_EINTERNAL.
 */
int cairn_sync_state_name(const struct cairn_sync_flow *f, bool push,
                          char *out, size_t len);

/*
 * Forget the progress of flow `f`: its next run starts from the beginning
 * and looks the peer's collection up again. Removes the store's entry and
 * the file earlier versions kept in f->state_dir. CAIRN_EIO, the store's
 * errors.
 */
int cairn_sync_forget(struct cairn_store *s, const struct cairn_sync_flow *f,
                      bool push);

/*
 * Signatures on the way in (docs/signing.md): `signatures = require |
 * check | ignore` and `trust = KEYFILE...` in a [peer NAME] section (its
 * pulls) or a [collection ID] section (POSTs into the collection, and
 * pulls into it). A pull obeys the stricter of its peer's and its
 * collection's policy and trusts the keys of both.
 */
struct cairn_sign_trust_rule {
    char collection[CAIRN_UUID_STRLEN]; /* [collection ID]; "" for a peer */
    int policy;                         /* enum cairn_sign_policy; -1 unset */
    char **trust_files;                 /* as written, relative to the file */
    size_t n_trust_files;
    struct cairn_trust *trust; /* their keys, once loaded; NULL: none */
};

/* One `pull = REMOTE -> LOCAL` or `push = LOCAL -> REMOTE [TYPE...]`. */
#define CAIRN_PEER_TYPES_MAX 16
struct cairn_peer_flow {
    bool push;
    char *remote;
    char *local;
    char *types[CAIRN_PEER_TYPES_MAX];
    size_t n_types;
    /* pull: the policy and keys it checks signatures with (peer's and
     * collection's); policy 0 (ignore) and trust NULL when none. */
    int sign_policy;
    struct cairn_trust *sign_trust;
};

/* A [peer NAME] section of the configuration file. */
struct cairn_peer {
    char *name;
    char *url;
    char *user;
    char *password_file;
    char *token_file;
    char *cacert;
    char *cert;
    char *key;
    unsigned interval; /* seconds between runs under `cairn serve` */
    struct cairn_peer_flow *flows;
    size_t n_flows;
    /* What the sharing rules know of the peer (keys identity, member,
     * anonymize); pushes to it obey them. */
    char *identity; /* STIX identity id, or NULL */
    bool member;    /* member of the sharing community */
    int anonymize;  /* enum cairn_share_anon, for its sightings */
    /* Bounds of each run of its flows (cairn_sync_flow); 0: defaults. */
    size_t max_pages;
    size_t max_objects;
    unsigned deadline;
    /* Key restricted_marking: markings that count as RED for this peer. */
    char **restricted;
    size_t n_restricted;
    struct cairn_sign_trust_rule sign; /* signatures, trust */
};

struct cairn_peers {
    struct cairn_peer *peers;
    size_t n;
    char *data; /* [server] data, relative to the file; NULL when unset */
    /* [collection ID] sections: POST's and pulls' signature policy. */
    struct cairn_sign_trust_rule *collections;
    size_t n_collections;
    /* [server] sign: the key this node signs what it creates with, as
     * written (a NAME in DATA/keys, or a file); see cairn_peers_signer. */
    char *sign;
};

/*
 * The rule of [collection `id`] in `peers`, or NULL. For POST and for the
 * response loop's ingest sessions.
 */
const struct cairn_sign_trust_rule *
cairn_peers_collection_rule(const struct cairn_peers *peers, const char *id);

/*
 * Load the key [server] sign names: NAME (no '/') is DATA_DIR/keys/NAME.key,
 * anything else a file. *out NULL when the file has no sign key. Errors of
 * cairn_sign_key_load (diag names the file), CAIRN_EINVAL for a public
 * key.
 */
int cairn_peers_signer(const struct cairn_peers *peers, const char *data_dir,
                       struct cairn_sign_key **out, struct cairn_diag *diag);

/*
 * Read the [peer NAME] sections of the INI file `path` (other sections
 * are left to their readers, but for [server] data, the data directory
 * the flows' state belongs to). Keys: url (required), user, password_file,
 * token_file, cacert, cert, key (file names relative to the file's
 * directory), interval (seconds, default 300), identity (identity--UUID),
 * member (yes/no), anonymize (pseudonym, remove or no), max_pages,
 * max_objects, deadline (seconds), and any number of pull and push lines.
 * CAIRN_EINVAL with `diag` naming file:line for a mistake, CAIRN_EIO when the
 * file cannot be read.
 */
int cairn_peers_load(const char *path, struct cairn_peers *out,
                     struct cairn_diag *diag);
void cairn_peers_release(struct cairn_peers *peers);

/*
 * Run every flow of `peer` once against `s`, state under DATA_DIR/peers.
 * `base` (may be NULL) gives timeouts and retry settings; the peer's own
 * credentials and TLS files are read here. Each flow's outcome is logged
 * with cairn_log; the counts are added to `total` (may be NULL). Returns
 * 0 when every flow finished, else the first error (the other flows
 * still run).
 */
int cairn_sync_run_peer(const struct cairn_peer *peer, struct cairn_store *s,
                        const char *data_dir,
                        const struct cairn_taxii_client_opts *base,
                        struct cairn_sync_result *total);

/* cairn_sync_run_peer for every peer, one after the other; `cairn sync`. */
int cairn_sync_run_all(const struct cairn_peers *peers, struct cairn_store *s,
                       const char *data_dir,
                       const struct cairn_taxii_client_opts *base,
                       struct cairn_sync_result *total);

/* ---- the response loop (src/taxii/loop.c, docs/response.md) ------------ */

/*
 * Under `cairn serve`, [hunt] and [archive]: the watched logs are archived
 * and each new event hunted against every current indicator of the hunted
 * collections; indicators new or changed there, whatever brought them, are
 * hunted over the archive within a poll or two; every hit widens one
 * stable sighting per indicator (cairn_hunt_sightings_set_stable), stored
 * through the ingest path as a new version when it moves. Positions are
 * kept in DATA/loop/state.json, moved on only once the hunt's sightings
 * are stored: after a crash the hunt runs again and writes nothing twice.
 */
struct cairn_loop;

/* New sighting versions were stored (`n` of them); from the loop's thread. */
typedef void (*cairn_loop_stored_cb)(size_t n, void *ud);

struct cairn_loop_opts {
    const char *store_url; /* each thread opens its own handle */
    const char *data_dir;  /* DATA: state in DATA/loop */
    const char *const *indicators; /* hunted collections' ids */
    size_t n_indicators;
    const char *sightings; /* collection for the sightings; NULL: none */
    const char *org;       /* the identity's name; NULL: the host name */
    const char *archive_dir; /* NULL: DATA/archive */
    const char *const *watch; /* logs to follow and archive */
    size_t n_watch;
    uint64_t keep_seconds; /* archive segments older are dropped; 0: none */
    uint64_t max_size;     /* archive bytes on disk; 0: no bound */
    unsigned poll_ms;      /* collections and logs; 0: 250 */
    unsigned threads;      /* of a retro-hunt; 0: 1 */
    cairn_loop_stored_cb on_stored; /* may be NULL */
    void *ud;
    /* [server] sign: the sightings are signed with it before they are
     * stored (a private key, borrowed for the loop's life); NULL: not. */
    const struct cairn_sign_key *signer;
};

/*
 * Check the collections, open the archive (its one writer: CAIRN_EBUSY
 * while another process holds it), build the set of current indicators
 * and start the threads. CAIRN_ENOTFOUND (a collection), CAIRN_EIO,
 * CAIRN_EBUSY, CAIRN_ENOMEM; `diag` (may be NULL) says which.
 */
int cairn_loop_start(const struct cairn_loop_opts *o, struct cairn_loop **out,
                     struct cairn_diag *diag);
/* Stop the threads, store the sightings owed and close. Accepts NULL. */
void cairn_loop_stop(struct cairn_loop *l);

/* ---- sharing rules on the way out (src/taxii/share.c) ------------------ */

/*
 * TLP 2.0 decides who may receive an object (docs/federation.md): CLEAR
 * and GREEN go to every reader; AMBER and AMBER+STRICT to community
 * members; RED only to the identities named on the object (its
 * created_by_ref, or an entry of its x_cairn_recipients). A named reader
 * may receive the object at any level. The object's level is the most
 * restrictive of the TLP markings in object_marking_refs and the
 * marking_ref of granular_markings. Other markings (a statement such as
 * MITRE's copyright, a custom definition) do not restrict, unless listed
 * in the reader's `restricted` (then they count as RED); a reference that
 * is not a string, or marking lists of the wrong JSON type, count as RED.
 * Objects without any restricting marking take `coll_default` (a value of
 * enum cairn_tlp; CAIRN_TLP_NONE is CLEAR).
 */
struct cairn_share_reader {
    const char *identity; /* the STIX identity it acts for; NULL or "" */
    bool member;          /* member of the sharing community */
    /* Marking-definition ids the configuration declares restrictive. */
    const char *const *restricted;
    size_t n_restricted;
};

/* The level that governs `obj` under TLP alone (never CAIRN_TLP_NONE). */
enum cairn_tlp cairn_share_level(const json_t *obj, int coll_default);

/* Whether reader `r` may receive `obj`, and if not, why. */
enum cairn_share_verdict {
    CAIRN_SHARE_ALLOW = 0,
    CAIRN_SHARE_NOT_MEMBER,   /* AMBER; the reader is no member, not named */
    CAIRN_SHARE_NOT_NAMED,    /* RED; it names others, not the reader */
    CAIRN_SHARE_NAMES_NOBODY, /* RED; it names no one: nobody may have it */
};
enum cairn_share_verdict cairn_share_decide(const json_t *obj,
                                            int coll_default,
                                            const struct cairn_share_reader *r);
/* A sentence saying why, for logs and summaries. */
const char *cairn_share_verdict_text(enum cairn_share_verdict v);

/* cairn_share_decide(...) == CAIRN_SHARE_ALLOW. */
bool cairn_share_allowed(const json_t *obj, int coll_default,
                         const struct cairn_share_reader *r);

/*
 * The same for an object as the store keeps it, JSON text of `len`
 * bytes: not parsed when it cannot hold a marking (no "marking_ref", no
 * escape) and the default lets everyone read; otherwise parsed, and text
 * that does not parse as one JSON object (without duplicate members) is
 * refused (CAIRN_SHARE_NAMES_NOBODY).
 */
enum cairn_share_verdict
cairn_share_decide_text(const char *json, size_t len, int coll_default,
                        const struct cairn_share_reader *r);
bool cairn_share_allowed_text(const char *json, size_t len, int coll_default,
                              const struct cairn_share_reader *r);

/* How sightings are anonymised when pushed to a peer. */
enum cairn_share_anon {
    CAIRN_SHARE_ANON_NO = 0,
    CAIRN_SHARE_ANON_PSEUDONYM, /* identities replaced by per-peer ones */
    CAIRN_SHARE_ANON_REMOVE,    /* created_by_ref, where_sighted_refs gone */
};

/* "identity--" and a UUID, with its NUL. */
#define CAIRN_SHARE_PSEUDONYM_LEN (10 + CAIRN_UUID_STRLEN)

/*
 * The pseudonym of identity `id` for peer `peer`: identity--UUIDv5 of the
 * peer's name and the id, the same on every run. CAIRN_EINVAL, ENOMEM.
 */
int cairn_share_pseudonym(const char *peer, const char *id,
                          char out[CAIRN_SHARE_PSEUDONYM_LEN]);

/*
 * Anonymise `obj` in place when it is a sighting (other objects are left
 * alone): with CAIRN_SHARE_ANON_REMOVE its created_by_ref and
 * where_sighted_refs are removed; with CAIRN_SHARE_ANON_PSEUDONYM every
 * identity in them is replaced by its pseudonym for `peer`, and the
 * pseudonym identity objects (name "anonymous member") that are not yet
 * in `identities` (a JSON array, may be NULL) are appended to it.
 * CAIRN_EINVAL, CAIRN_ENOMEM.
 */
int cairn_share_anonymize(json_t *obj, const char *peer,
                          enum cairn_share_anon mode, json_t *identities);

#ifdef __cplusplus
}
#endif

#endif
