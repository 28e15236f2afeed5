/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the TAXII module: query filters, credentials, envelopes, output. */
#ifndef CAIRN_TAXII_INT_H
#define CAIRN_TAXII_INT_H

#include <pthread.h>

#include "cairn/stix.h"
#include "cairn/taxii.h"

/* Longest raw path and query string a request may carry (else 414). */
#define TAXII_PATH_MAX  2048
#define TAXII_QUERY_MAX 8192
/* Page size when the client names no limit; larger limits are capped. */
#define TAXII_LIMIT_DEFAULT 1000
#define TAXII_LIMIT_MAX     CAIRN_STORE_LIMIT_MAX
/* Verified Basic credentials remembered at once. */
#define TAXII_CRED_CACHE 256
/* Longest "next" cursor accepted from a client. */
#define TAXII_NEXT_MAX 128

/* ---- query filters (query.c) ------------------------------------------- */

/*
 * The TAXII filters of one query string. Strings point into `arena`, which
 * the filter owns; release everything with cairn__taxii_filter_free. The
 * `has_*` flags say which single-valued parameters were given.
 */
struct cairn__taxii_filter {
    struct cairn_arena *arena;
    bool has_added_after;
    struct cairn_time added_after;
    size_t limit; /* 0: not given */
    const char *next;
    const char *ids[CAIRN_STORE_FILTER_MAX];
    size_t n_ids;
    const char *types[CAIRN_STORE_FILTER_MAX];
    size_t n_types;
    unsigned versions; /* CAIRN_STORE_VERSION_* bits */
    struct cairn_time version_times[CAIRN_STORE_FILTER_MAX];
    size_t n_version_times;
    const char *spec_versions[CAIRN_STORE_FILTER_MAX];
    size_t n_spec_versions;
};

/*
 * Parse a raw query string (without '?'; NULL or "" is no filter) into
 * `f`, which the caller zeroes first. Unknown parameters are ignored. On a
 * malformed or over-long value returns CAIRN_EINVAL (CAIRN_ETOOBIG for
 * more than CAIRN_STORE_FILTER_MAX values) with a sentence naming the
 * parameter in `err`; CAIRN_ENOMEM. `f` must be freed in every case.
 */
int cairn__taxii_query_parse(const char *query, size_t len,
                             struct cairn__taxii_filter *f, char *err,
                             size_t err_len);
void cairn__taxii_filter_free(struct cairn__taxii_filter *f);

/*
 * Percent-decode `len` bytes of `s` into `out` (at least len + 1 bytes),
 * NUL-terminated; with `plus` true '+' is a space (query strings).
 * CAIRN_EINVAL for a bad escape or a decoded NUL or control character.
 */
int cairn__taxii_pct_decode(const char *s, size_t len, bool plus, char *out,
                            size_t *out_len);

/* ---- the server -----------------------------------------------------------
 */

struct cred_entry {
    unsigned char key[32]; /* SHA-256 of the Authorization value */
    char user[CAIRN_STORE_NAME_MAX + 1];
    int64_t expires;    /* monotonic seconds; 0: free slot */
    int64_t checked;    /* when the password was last verified */
    int64_t good_until; /* known good: never throttled until then */
    int64_t refreshing; /* when a check again was asked for, or 0 */
};

/* Wrong Basic credentials remembered at once, and for how long. */
#define TAXII_FAIL_CACHE   256
#define TAXII_FAIL_SECONDS 10
/* A credential that verified once is exempt from throttling this long. */
#define TAXII_GOOD_SECONDS 86400

struct fail_entry {
    unsigned char key[32]; /* SHA-256 of the Authorization value */
    int64_t expires;       /* monotonic seconds; 0: free slot */
};

/*
 * Password checks allowed per client address and per user name: a bucket
 * of TAXII_THROTTLE_BURST that refills one check every
 * TAXII_THROTTLE_REFILL_S seconds. A check takes one, a success gives it
 * back, so only failures use the bucket up.
 */
#define TAXII_THROTTLE_SLOTS    512
#define TAXII_THROTTLE_BURST    10
#define TAXII_THROTTLE_REFILL_S 6
#define TAXII_THROTTLE_KEY      64

struct throttle_entry {
    char key[TAXII_THROTTLE_KEY]; /* "a:ADDRESS" or "u:NAME"; "" free */
    double tokens;
    int64_t at_ms; /* when tokens was last brought up to date */
};

/* Most password checks that ever run at once (verify_max is at most it). */
#define TAXII_VERIFY_MAX 4

/* A password check running now, which identical requests wait for. */
struct verify_slot {
    unsigned char key[32]; /* SHA-256 of the Authorization value */
    bool busy;
    uint64_t seq;      /* which check holds the slot */
    uint64_t done_seq; /* the last check finished here, with rc */
    int rc;
};

/* Checks a name and password; cairn_store_user_verify unless replaced. */
typedef int (*cairn__taxii_verify_fn)(struct cairn_store *s, const char *name,
                                      const char *password);

struct cairn_taxii {
    char *title;
    char *description;
    char *contact;
    char *default_api_root;
    char *base_url;
    size_t max_content_length;
    size_t sync_object_limit;
    size_t page_bytes; /* byte budget of a page of objects */
    unsigned cred_seconds;
    const struct cairn_peers *signing; /* [collection] rules, borrowed */
    const struct cairn_sign_key *signer; /* [server] sign, borrowed */
    const struct cairn_score_opts *score; /* [analysis], borrowed */
    cairn__taxii_verify_fn verify;
    unsigned verifying;      /* password checks running now */
    unsigned verify_max;     /* most at once: the cores, at most 4 */
    unsigned verify_waiting; /* requests waiting for an identical check */
    uint64_t verify_seq;
    struct verify_slot slots[TAXII_VERIFY_MAX];
    pthread_cond_t verify_cv; /* a check finished */
    pthread_mutex_t lock;     /* guards creds and the fields above */
    /* keys the credential cache: a header is remembered by its HMAC
     * under this per-process secret, never by a plain hash */
    unsigned char cred_secret[32];
    struct cred_entry creds[TAXII_CRED_CACHE];
    struct fail_entry fails[TAXII_FAIL_CACHE];
    struct throttle_entry throttle[TAXII_THROTTLE_SLOTS];
};

/* Replace the password check (fuzzers avoid the slow scrypt this way). */
void cairn__taxii_set_verify(struct cairn_taxii *t, cairn__taxii_verify_fn fn);
/* Allow `n` password checks at once (tests); 1 to TAXII_VERIFY_MAX. */
void cairn__taxii_set_verify_max(struct cairn_taxii *t, unsigned n);

/* ---- authentication (auth.c) -------------------------------------------- */

/*
 * Who sent the request: 0 with `user` filled, CAIRN_EPERM when there are
 * no credentials or they are wrong, CAIRN_ETOOBIG when verify_max password
 * checks run already, another code when the store failed.
 */
int cairn__taxii_authenticate(struct cairn_taxii *t, struct cairn_store *s,
                              const char *authorization,
                              char user[CAIRN_STORE_NAME_MAX + 1]);

/* ---- routing (handler.c), for the preflight (preflight.c) ------------- */

/*
 * Whether `method` on `path` is a POST to an objects endpoint; if so
 * `root` and `collection` are its decoded API root and collection, which
 * live in `*mem` (free it with cairn_free in every case).
 */
bool cairn__taxii_is_post_objects(const char *method, const char *path,
                                  const char **root, const char **collection,
                                  char **mem);

/* ---- responses (response.c) ------------------------------------------- */

/* Cap of one response body (a page of objects at most CAIRN_STORE_LIMIT_MAX
 * rows of at most CAIRN_STIX_MAX_OBJECT_LEN would be larger; the page is cut
 * with more=true at page_bytes instead, see handler.c). */
#define TAXII_BODY_MAX ((size_t)256 << 20)
/* Objects' bytes on one page unless configured, and the most allowed: a
 * page of the largest budget and one object of the largest body ever
 * accepted (100 MiB) still fits in TAXII_BODY_MAX. */
#define TAXII_PAGE_BYTES     ((size_t)32 << 20)
#define TAXII_PAGE_BYTES_MAX ((size_t)128 << 20)

/* Append `s` (`len` bytes) as a JSON string literal, quotes included. */
int cairn__taxii_json_str(struct cairn_buf *b, const char *s, size_t len);

/* Add a header; silently dropped past CAIRN_TAXII_HEADERS_MAX. */
void cairn__taxii_header(struct cairn_taxii_response *resp, const char *name,
                         const char *value);

/*
 * Fill `resp` with a TAXII error resource for `status`; `fmt` describes
 * it. Returns 0, or CAIRN_ENOMEM.
 */
int cairn__taxii_error(struct cairn_taxii_response *resp, int status,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The error resource for a store failure `rc`: 503 with Retry-After when
 * the store was busy (CAIRN_EBUSY), else 500. Returns 0, or CAIRN_ENOMEM.
 */
int cairn__taxii_store_error(struct cairn_taxii_response *resp, int rc);

/* Move `b`'s content into `resp` as a TAXII JSON body with `status`. */
void cairn__taxii_body(struct cairn_taxii_response *resp, int status,
                       struct cairn_buf *b);

/*
 * cairn's endpoints beside TAXII's (analysis_api.c): GET
 * /ROOT/cairn/WHAT?QUERY for `user`, the root known to exist. Answers
 * 404 for an unknown WHAT. Returns 0, or CAIRN_ENOMEM.
 */
int cairn__taxii_analysis(struct cairn_store *s, const char *user,
                          const char *root, const char *what,
                          const char *query,
                          const struct cairn_score_opts *score,
                          struct cairn_taxii_response *resp);

/* ---- POST and jobs (post.c) -------------------------------------------- */

/*
 * Handle a POST of an envelope to `collection` for `user` (rights already
 * checked), with `max_len` the applicable max_content_length.
 */
int cairn__taxii_post(struct cairn_taxii *t, struct cairn_store *s,
                      const char *collection, const char *user,
                      const struct cairn_taxii_request *req,
                      struct cairn_taxii_response *resp);

/*
 * Make status `st` what user `viewer` may see of it under the sharing
 * rules: the author of the request sees its items, the collection's other
 * readers only those whose version is stored and visible to them; a
 * conflict with a stored version the viewer may not see reads as a
 * success (the version is stored), so the status does not reveal it.
 * Counts are kept (but for such conflicts). Rows are read within
 * `page_bytes` at a time. 0, CAIRN_ENOMEM, or a store error.
 */
int cairn__taxii_status_view(struct cairn_store *s,
                             struct cairn_store_status *st, const char *viewer,
                             size_t page_bytes);

/* Write the status resource `st` as TAXII JSON. */
int cairn__taxii_status_json(struct cairn_buf *b,
                             const struct cairn_store_status *st);

#endif
