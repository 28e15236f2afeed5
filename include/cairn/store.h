/* SPDX-License-Identifier: Apache-2.0 */
/* The store: API roots, collections, object versions, statuses and users. */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/stix.h"

/*
 * Ownership: arguments are borrowed for the duration of a call. Records,
 * lists and pages handed out through out-parameters belong to the caller
 * and are released with the matching _free; every _free accepts NULL.
 *
 * Threads: a struct cairn_store is used by one thread at a time. Threads
 * and processes that share a database each open their own handle; writes
 * are serialised by the database, reads never wait for writers.
 */

#ifdef __cplusplus
extern "C" {
#endif

struct cairn_store;

struct cairn_store_opts {
    /* How long a writer waits for another's write lock; 0: 10000 ms. */
    int busy_timeout_ms;
    /*
     * SQLite only. false (default): every acknowledged write is on disk
     * before the call returns (synchronous=FULL), so it survives a power
     * loss too. true: synchronous=NORMAL, which survives a crash or kill of
     * the process but may lose the last writes on power loss.
     */
    bool relaxed_sync;
    /* SQLite page cache in KiB; 0: 65536. */
    int cache_kib;
};

/*
 * Open (creating and migrating when needed) the store named by `url`:
 * "sqlite:PATH" or a plain PATH for SQLite, "postgresql://..." (or
 * "postgres://...", libpq's connection URI: sslmode and the rest as
 * query parameters) for PostgreSQL, "memory:" for a new, empty
 * in-memory store (for tests). `opts` may be NULL. Errors: CAIRN_EINVAL
 * (bad url), CAIRN_EIO (cannot open or connect, not a store, locked past
 * the busy timeout), CAIRN_EUNSUPPORTED (written by a newer cairn),
 * CAIRN_ENOMEM. A PostgreSQL store that loses its connection makes later
 * calls fail with CAIRN_EBUSY until it is back, then reconnects itself.
 */
int cairn_store_open(const char *url, const struct cairn_store_opts *opts,
                     struct cairn_store **out);
void cairn_store_close(struct cairn_store *s);

/* Whether `url` names a PostgreSQL store (postgresql:// or postgres://). */
bool cairn_store_url_is_postgres(const char *url);
/*
 * `url` fit for a log or a banner: the password of a PostgreSQL URL (in
 * the user part or a password= parameter) becomes "***". CAIRN_ETOOBIG
 * when it does not fit `len`.
 */
int cairn_store_url_redact(const char *url, char *out, size_t len);

/*
 * Named locks between the processes sharing a database: `*got` true when
 * this handle holds `name` (now, or still), false when another does. Held
 * until released, the handle closed or its connection lost (so a process
 * that dies lets another take over). CAIRN_EUNSUPPORTED for a store that
 * one process owns (SQLite, memory), CAIRN_EBUSY when the database is
 * away.
 */
int cairn_store_lock_try(struct cairn_store *s, const char *name, bool *got);
int cairn_store_lock_release(struct cairn_store *s, const char *name);

/* The schema version of the open store (the newest cairn knows, once open). */
int cairn_store_schema_version(struct cairn_store *s, int *out);
/* The newest schema version this build knows. */
int cairn_store_schema_latest(void);

/* ---- API roots ----------------------------------------------------------- */

struct cairn_store_api_root {
    char *name; /* path segment, e.g. "api1" */
    char *title;
    char *description; /* may be NULL */
    /* A smaller body limit for this root than the server's; 0: none. */
    int64_t max_content_length;
};

/* Create or replace the API root `root->name`. CAIRN_EINVAL if no name. */
int cairn_store_api_root_put(struct cairn_store *s,
                             const struct cairn_store_api_root *root);
/* CAIRN_ENOTFOUND when there is no such root. */
int cairn_store_api_root_get(struct cairn_store *s, const char *name,
                             struct cairn_store_api_root **out);
/* All roots, ordered by name; free with cairn_store_api_root_list_free. */
int cairn_store_api_root_list(struct cairn_store *s,
                              struct cairn_store_api_root **out, size_t *n);
void cairn_store_api_root_free(struct cairn_store_api_root *root);
void cairn_store_api_root_list_free(struct cairn_store_api_root *roots,
                                    size_t n);

/* ---- collections -----------------------------------------------------------
 */

/* Longest media type list a collection holds. */
#define CAIRN_STORE_MEDIA_TYPES_MAX 8

struct cairn_store_collection {
    char id[CAIRN_UUID_STRLEN];
    char *api_root;
    char *title;
    char *description;                              /* may be NULL */
    char *alias;                                    /* may be NULL */
    char *media_types[CAIRN_STORE_MEDIA_TYPES_MAX]; /* NULL-terminated */
};

/*
 * Create a collection in its API root; an empty `c->id` gets a random
 * UUID, which is written to `id_out` (may be NULL). No media types means
 * "application/stix+json;version=2.1". Errors: CAIRN_ENOTFOUND (no such
 * API root), CAIRN_EEXIST (id taken), CAIRN_EINVAL (id not a UUID).
 */
int cairn_store_collection_create(struct cairn_store *s,
                                  const struct cairn_store_collection *c,
                                  char id_out[CAIRN_UUID_STRLEN]);
/* The collection `id` of `api_root` (NULL: of any root); CAIRN_ENOTFOUND. */
int cairn_store_collection_get(struct cairn_store *s, const char *api_root,
                               const char *id,
                               struct cairn_store_collection **out);
/*
 * The collection of `api_root` named `id_or_alias` in a URL: its id, or
 * else its alias (unique per API root; `cairn collection add` sees to it).
 * CAIRN_ENOTFOUND; CAIRN_EINVAL when api_root is NULL.
 */
int cairn_store_collection_resolve(struct cairn_store *s, const char *api_root,
                                   const char *id_or_alias,
                                   struct cairn_store_collection **out);
/* The collections of `api_root`, in creation order. */
int cairn_store_collection_list(struct cairn_store *s, const char *api_root,
                                struct cairn_store_collection **out, size_t *n);
/* How many object versions collection `id` holds; CAIRN_ENOTFOUND. */
int cairn_store_collection_count(struct cairn_store *s, const char *id,
                                 size_t *out);
/* Remove a collection with all its objects and rights; CAIRN_ENOTFOUND. */
int cairn_store_collection_delete(struct cairn_store *s, const char *id);
void cairn_store_collection_free(struct cairn_store_collection *c);
void cairn_store_collection_list_free(struct cairn_store_collection *list,
                                      size_t n);

/* ---- objects ----------------------------------------------------------------
 */

/*
 * One object to store: the parsed object, and optionally its JSON text as
 * received (stored byte for byte); without it the object is serialised
 * compactly with members in their order.
 */
struct cairn_store_object_in {
    const json_t *obj;
    const char *json; /* may be NULL */
    size_t json_len;
};

enum cairn_store_outcome {
    CAIRN_STORE_STORED = 0,  /* a new version was stored */
    CAIRN_STORE_EXISTED = 1, /* this version was stored before: success */
    CAIRN_STORE_FAILED = 2,  /* not stored; see message */
};

/* Outcome of one object; also the entries of a status resource. */
struct cairn_store_result {
    enum cairn_store_outcome outcome;
    char id[256 + 40];
    char version[40]; /* the object's version timestamp as written */
    char message[200];
};

/*
 * Store `n` objects in collection `collection` in one transaction: either
 * the whole batch is stored (and then durable) or nothing is. Each object
 * gets a date_added later than every earlier one of the collection. An
 * object without a string "id", "type", or with an unparsable "created" or
 * "modified", is FAILED without failing the batch; so is a version already
 * stored with other content (the first one is kept). `results` (n entries,
 * may be NULL) receives each outcome in order. With `status_id` not NULL,
 * the outcomes are recorded in that status resource in the same
 * transaction. Errors: CAIRN_ENOTFOUND (collection or status), CAIRN_EIO,
 * CAIRN_ETOOBIG (n > CAIRN_STORE_BATCH_MAX). Puts made at the same time
 * through other handles may be committed together (group commit); each
 * still succeeds or fails as a whole, and an I/O error fails them all.
 */
#define CAIRN_STORE_BATCH_MAX 100000
/* The message of a version stored before with other content. */
#define CAIRN_STORE_CONFLICT_MSG                                               \
    "another object with this id and version is stored already"
int cairn_store_put_objects(struct cairn_store *s, const char *collection,
                            const struct cairn_store_object_in *objs, size_t n,
                            const char *status_id,
                            struct cairn_store_result *results);

/*
 * The same write, for a pipeline: a batch holds up to `cap` objects
 * (at most CAIRN_STORE_BATCH_MAX) prepared for storing. Adding an object
 * reads and copies what the store indexes (id, type, versions), so the
 * parsed object may be freed right after; its JSON text, when given, is
 * kept by reference and must stay valid until the batch is stored or
 * cleared (without it, the object is serialised into the batch). A reading
 * thread can thus fill one batch while another thread stores the last.
 * cairn_store_batch_new returns CAIRN_EINVAL for a cap of 0 or over the
 * maximum. cairn_store_batch_add returns CAIRN_ETOOBIG when the batch is
 * full, CAIRN_ENOMEM, and CAIRN_EINVAL for a batch whose clear failed; an
 * object unfit for storing is added as FAILED with its message.
 * cairn_store_put_batch stores the batch as cairn_store_put_objects does;
 * when it succeeds, cairn_store_batch_results gives the outcome of each
 * object, in the order they were added (after a failure, nothing of the
 * batch is stored, whatever the results say).
 */
struct cairn_store_batch;
int cairn_store_batch_new(size_t cap, struct cairn_store_batch **out);
void cairn_store_batch_free(struct cairn_store_batch *b);
int cairn_store_batch_add(struct cairn_store_batch *b, const json_t *obj,
                          const char *json, size_t json_len);
size_t cairn_store_batch_len(const struct cairn_store_batch *b);
/*
 * Flag the object last added to `b` as on warninglist `list` for `value`
 * (docs/analysis.md): the flag is stored with that version, never in its
 * bytes, and handed out by cairn_store_find_key (`flag_list`,
 * `flag_value`; each kept to its first 1000 bytes). CAIRN_EINVAL for an
 * empty batch or list name; CAIRN_ENOMEM.
 */
int cairn_store_batch_flag(struct cairn_store_batch *b, const char *list,
                           const char *value);
int cairn_store_put_batch(struct cairn_store *s, const char *collection,
                          struct cairn_store_batch *b, const char *status_id);
const struct cairn_store_result *
cairn_store_batch_results(const struct cairn_store_batch *b);
/* Empty the batch for reuse; CAIRN_ENOMEM. */
int cairn_store_batch_clear(struct cairn_store_batch *b);

/*
 * In-process notice of new versions: after each write through any handle
 * of this process that stored new versions in a collection, `cb` hears
 * the collection's id and how many (on the writing thread, once the write
 * is committed: a read started then sees them). Writes by other processes
 * are not heard; whoever needs them polls. A callback must be quick and
 * must neither write to a store nor call these two functions; once
 * cairn_store_unlisten has returned, it is not called again. At most 16
 * listeners at a time: CAIRN_EBUSY past that; CAIRN_EINVAL.
 */
typedef void (*cairn_store_added_cb)(const char *collection, size_t n,
                                     void *ud);
int cairn_store_listen(cairn_store_added_cb cb, void *ud);
void cairn_store_unlisten(cairn_store_added_cb cb, void *ud);

/* ---- ingest: the one way objects come in (src/store/ingest.c) ---------- */

/*
 * Every writer of objects (cairn import, cairn feed, pull, TAXII POST, the
 * hunter's sightings) goes through an ingest session: each object added is
 * validated as `cairn validate` validates it (STIX patterns parsed
 * included); the valid ones are committed to the collection in batches of
 * `batch` objects, each with cairn_store_put_batch; every outcome is
 * counted and handed to `on_result`. With `background`, a second thread
 * commits one batch while the caller fills the next (cairn import).
 *
 * Findings go to validate.cb (path and file as given); `on_result` gets
 * one call per object, always on the caller's thread (during add or
 * flush), with `invalid` true for objects validation refused (message:
 * the first error, "PATH: MESSAGE" with the path inside the object) and
 * false for the store's outcomes (STORED, EXISTED, or FAILED: a different
 * object under the same id and version, ...). With `status_id`, every
 * outcome is also recorded in that status resource.
 */
struct cairn_ingest;
struct cairn_warninglists;

typedef void (*cairn_ingest_cb)(const struct cairn_store_result *r,
                                bool invalid, void *ud);

/*
 * Called with each object validation let through, just before it is
 * batched: signing what this node creates and the signature policy
 * (cairn_sign_gate_hook, src/sign) plug in here, so that every way in
 * gets them. Returns 0 to store the object, or `*replace` when the hook
 * set it (a new object, stored serialised, which the session frees); 1 to
 * refuse it with the reason in `why` (an invalid outcome, as validation's
 * refusals are); 2 to store it marked: `why` becomes the stored version's
 * mark (cairn_store_mark_get), its bytes unchanged; or a negative error,
 * which ends the session as a store's would.
 */
typedef int (*cairn_ingest_hook_cb)(const json_t *obj, json_t **replace,
                                    char *why, size_t why_len, void *ud);

struct cairn_ingest_opts {
    const char *collection; /* the collection's id (required) */
    const char *status_id;  /* record outcomes there too; may be NULL */
    size_t batch;           /* objects per transaction; 0: 10000 */
    bool background;        /* commit on a second thread */
    /*
     * A commit that finds the store busy (CAIRN_EBUSY) is tried again up
     * to this many times, after 1, 2, 4, ... seconds; 0: not retried.
     */
    unsigned busy_retries;
    /* file, strict, cb/ud; check_pattern NULL: cairn_pattern_checker. */
    struct cairn_validate_opts validate;
    cairn_ingest_cb on_result; /* may be NULL */
    void *result_ud;
    cairn_ingest_hook_cb hook; /* may be NULL */
    void *hook_ud;
    /*
     * Known false positives (cairn/values.h; may be NULL): an indicator
     * with a value on a list is stored all the same (never dropped),
     * counted as flagged and handed to on_flag (may be NULL, gets
     * result_ud) with the value and the list's name, before its outcome.
     */
    const struct cairn_warninglists *warninglists;
    void (*on_flag)(const char *id, const char *value, const char *list,
                    void *ud);
};

struct cairn_ingest_counts {
    size_t received; /* objects added */
    size_t stored;   /* new versions */
    size_t existed;  /* identical versions stored before */
    size_t invalid;  /* refused by validation (or not a JSON object) */
    size_t failed;   /* refused by the store */
    size_t flagged;  /* valid indicators with a value on a warninglist */
};

/*
 * Start a session writing into opts->collection of `s`, which it uses
 * until freed (only its thread, with `background`). CAIRN_EINVAL (no
 * collection, batch over CAIRN_STORE_BATCH_MAX), CAIRN_ENOMEM.
 */
int cairn_ingest_new(struct cairn_store *s, const struct cairn_ingest_opts *o,
                     struct cairn_ingest **out);
/*
 * Add one object: `obj` is borrowed for the call; its JSON text `json`
 * (may be NULL: the object is serialised) is stored byte for byte and
 * must stay valid until cairn_ingest_flush returns. `path` is the
 * object's JSON path in its document ("objects[3]"; may be NULL or "").
 * Refused whatever the validator says (one rule for every writer): a
 * bundle, and JSON over CAIRN_STIX_MAX_OBJECT_LEN, which no cairn reader
 * takes. With CAIRN_INGEST_VALIDATED the caller has validated `obj` with the
 * same options and found no error (pull validates on its fetch thread).
 * A full batch is committed. Returns 0 whatever the object's fate;
 * CAIRN_ENOMEM, or the store's error when a commit failed: nothing of
 * that batch is stored, and every later call returns the same error.
 */
#define CAIRN_INGEST_VALIDATED 1u
int cairn_ingest_add(struct cairn_ingest *in, const json_t *obj,
                     const char *json, size_t json_len, const char *path,
                     unsigned flags);
/*
 * The warninglists of every session whose options name none (the server's
 * [analysis] warninglists, for POST and pull); NULL: none. Set before the
 * sessions start; the lists must outlive them. A flagged object without
 * on_flag is logged (cairn_log, info).
 */
void cairn_ingest_set_default_warninglists(const struct cairn_warninglists *w);
/* Commit what was added and wait for it; the error as for add. */
int cairn_ingest_flush(struct cairn_ingest *in);
/* The counts so far (of committed batches and refused objects). */
void cairn_ingest_counts(const struct cairn_ingest *in,
                         struct cairn_ingest_counts *out);
/* End the session; what was added since the last flush is not stored. */
void cairn_ingest_free(struct cairn_ingest *in);
/*
 * cairn_stix_validate_object with the options an ingest session uses:
 * o->check_pattern NULL means cairn_pattern_checker. For a thread that
 * validates ahead of the session (CAIRN_INGEST_VALIDATED).
 */
int cairn_ingest_validate(const json_t *obj, const char *path,
                          const struct cairn_validate_opts *o,
                          struct cairn_validate_stats *stats);

/* match[version] choices; they combine as a union with version_times. */
enum {
    CAIRN_STORE_VERSION_LAST = 1,
    CAIRN_STORE_VERSION_FIRST = 2,
    CAIRN_STORE_VERSION_ALL = 4,
};

/* Longest list in one filter, and the largest page. */
#define CAIRN_STORE_FILTER_MAX 64
#define CAIRN_STORE_LIMIT_MAX  10000

/*
 * A selection of object versions of one collection, as TAXII filters them.
 * Lists are ORed within and ANDed across. `versions` 0 with no
 * version_times means LAST, the specification's default. "first" and
 * "last" are among the versions that pass the spec_versions filter.
 * Results are ordered by date_added; at most `limit` (0 or more than
 * CAIRN_STORE_LIMIT_MAX: CAIRN_STORE_LIMIT_MAX) per page; `next` continues
 * after the page that handed it out, with the same filters.
 */
struct cairn_store_query {
    const char *collection;
    const struct cairn_time *added_after; /* NULL: from the start */
    const char *const *ids;
    size_t n_ids;
    const char *const *types;
    size_t n_types;
    unsigned versions;
    const struct cairn_time *version_times;
    size_t n_version_times;
    const char *const *spec_versions;
    size_t n_spec_versions;
    size_t limit;
    const char *next; /* cursor from a previous page, or NULL */
    bool with_json;   /* false for manifests: json is NULL in the rows */
    /*
     * Byte budget of the page's JSON (with_json): the page ends before a
     * row whose JSON would bring it over max_bytes (more and next then
     * continue from that row), but always holds at least one row, so a
     * reader pages through rows of any size. 0: no budget.
     */
    size_t max_bytes;
};

/* One object version. Strings live as long as the page. */
struct cairn_store_row {
    const char *id;
    const char *type;
    const char *spec_version;
    const char *created;          /* as in the object; may be NULL */
    const char *modified;         /* as in the object; may be NULL */
    const char *version;          /* modified, else created, else date_added */
    struct cairn_time date_added; /* microsecond precision */
    const char *json;
    size_t json_len;
    /* cairn_store_find_key only: the warninglist the version was flagged
     * on when stored (cairn_store_batch_flag) and the value; else NULL */
    const char *flag_list;
    const char *flag_value;
};

#define CAIRN_STORE_CURSOR_LEN 40

struct cairn_store_page {
    struct cairn_store_row *rows; /* NULL when n == 0 */
    size_t n;
    bool more;                         /* more rows match after this page */
    char next[CAIRN_STORE_CURSOR_LEN]; /* "" when !more */
    /* date_added of the first and last row; zero when n == 0 */
    struct cairn_time added_first;
    struct cairn_time added_last;
    struct cairn_arena *arena;
};

/*
 * One page of the versions `q` selects (objects, manifest, versions and
 * get-object endpoints all use this). Rows are read one at a time and
 * reading stops at `limit` rows or `max_bytes` of JSON, so a page's memory
 * is bounded by the budget and one row. Errors: CAIRN_ENOTFOUND (no such
 * collection), CAIRN_EINVAL (malformed cursor or filter), CAIRN_ETOOBIG (a
 * list over CAIRN_STORE_FILTER_MAX), CAIRN_EIO.
 */
int cairn_store_query(struct cairn_store *s, const struct cairn_store_query *q,
                      struct cairn_store_page **out);
void cairn_store_page_free(struct cairn_store_page *page);

/*
 * Every version of type `type` (NULL: any) in collection `collection`
 * added after `added_after` (NULL: all), in date_added order, each handed
 * to `cb` in place: one sequential read without pages or copies, for a
 * reader of a whole collection (exports). In a row, id, date_added and
 * json are set and valid during the call; the other fields may be NULL.
 * `cb` must not use the store. Stops at the first nonzero `cb` returns
 * and returns it; else 0, CAIRN_ENOTFOUND (no such collection), CAIRN_EIO.
 */
typedef int (*cairn_store_scan_cb)(const struct cairn_store_row *row,
                                   void *ud);
int cairn_store_scan(struct cairn_store *s, const char *collection,
                     const char *type, const struct cairn_time *added_after,
                     cairn_store_scan_cb cb, void *ud);

/*
 * Delete every version `q` selects (limit and next are ignored), in one
 * transaction; `deleted` (may be NULL) gets the count. A later object never
 * reuses a deleted date_added.
 */
int cairn_store_delete(struct cairn_store *s, const struct cairn_store_query *q,
                       size_t *deleted);

/* ---- status resources -------------------------------------------------------
 */

struct cairn_store_status {
    char id[CAIRN_UUID_STRLEN];
    char *collection;
    char *user; /* may be NULL */
    struct cairn_time request_timestamp;
    bool complete; /* success + failure == total */
    int64_t total, success, failure, pending;
    struct cairn_store_result *successes; /* EXISTED counts as success */
    size_t n_successes;
    struct cairn_store_result *failures;
    size_t n_failures;
    struct cairn_store_result *pendings; /* registered, no outcome yet */
    size_t n_pendings;
};

/*
 * A new status for a request of `total` objects to `collection` by `user`
 * (may be NULL), with all of them pending; its id goes to `id_out`.
 */
int cairn_store_status_new(struct cairn_store *s, const char *collection,
                           const char *user, int64_t total,
                           char id_out[CAIRN_UUID_STRLEN]);
/*
 * Name the pending objects (id and version of each `items` entry; outcome
 * and message ignored), so that they are listed as pendings until an
 * outcome is recorded for the same id and version.
 */
int cairn_store_status_add_pending(struct cairn_store *s, const char *id,
                                   const struct cairn_store_result *items,
                                   size_t n);
/*
 * Record outcomes that did not come from cairn_store_put_objects (objects
 * the caller rejected before storing them). CAIRN_ENOTFOUND, CAIRN_EINVAL
 * when more outcomes than the total would be recorded.
 */
int cairn_store_status_record(struct cairn_store *s, const char *id,
                              const struct cairn_store_result *results,
                              size_t n);
/*
 * After a crash: finish every status that still has pending objects (a
 * POST answered 202 whose job never ended). Its pending objects become
 * failures, so that success + failure == total; the ones named with
 * cairn_store_status_add_pending are listed as failures with
 * CAIRN_STORE_ABANDONED_MSG, the others are only counted. `count` (may be
 * NULL) receives how many statuses were finished. Only for a store no
 * job writes to (the server calls it at start). CAIRN_EIO.
 */
#define CAIRN_STORE_ABANDONED_MSG                                              \
    "the server stopped before writing this object; post it again"
int cairn_store_status_abandon_pending(struct cairn_store *s, size_t *count);
/* The status `id` with its lists; CAIRN_ENOTFOUND. */
int cairn_store_status_get(struct cairn_store *s, const char *id,
                           struct cairn_store_status **out);
void cairn_store_status_free(struct cairn_store_status *st);

/* ---- users, tokens, rights --------------------------------------------------
 */

#define CAIRN_STORE_NAME_MAX     128
#define CAIRN_STORE_PASSWORD_MAX 1024

/*
 * Add user `name` (1..CAIRN_STORE_NAME_MAX bytes, no control characters)
 * with `password` (at most CAIRN_STORE_PASSWORD_MAX bytes), which is kept
 * only as a salted scrypt hash. CAIRN_EEXIST, CAIRN_EINVAL.
 */
int cairn_store_user_add(struct cairn_store *s, const char *name,
                         const char *password);
/* Replace the password of an existing user; CAIRN_ENOTFOUND. */
int cairn_store_user_set_password(struct cairn_store *s, const char *name,
                                  const char *password);
/*
 * 0 when `password` is the user's, CAIRN_EPERM when it is not or there is
 * no such user (the two take the same time), another code on failure.
 */
int cairn_store_user_verify(struct cairn_store *s, const char *name,
                            const char *password);
/* Remove a user with its tokens and rights; CAIRN_ENOTFOUND. */
int cairn_store_user_remove(struct cairn_store *s, const char *name);
/* User names in order; free with cairn_store_name_list_free. */
int cairn_store_user_list(struct cairn_store *s, char ***out, size_t *n);
void cairn_store_name_list_free(char **names, size_t n);
/* The stored hash of a user's password (for tests and audits). */
int cairn_store_user_hash(struct cairn_store *s, const char *name, char **out);

/* A token is 64 hex characters (256 random bits) plus NUL. */
#define CAIRN_STORE_TOKEN_LEN 65

/*
 * A new API token for `user`, written to `token_out`; only its SHA-256 is
 * kept, so this is the one time it can be shown. CAIRN_ENOTFOUND.
 */
int cairn_store_token_new(struct cairn_store *s, const char *user,
                          char token_out[CAIRN_STORE_TOKEN_LEN]);
/* The user a token belongs to (caller frees); CAIRN_EPERM when unknown. */
int cairn_store_token_lookup(struct cairn_store *s, const char *token,
                             char **user_out);
/* Revoke a token; CAIRN_ENOTFOUND. */
int cairn_store_token_remove(struct cairn_store *s, const char *token);

enum {
    CAIRN_STORE_READ = 1,
    CAIRN_STORE_WRITE = 2,
};

/* Add the `rights` bits for `user` on `collection`; CAIRN_ENOTFOUND. */
int cairn_store_grant(struct cairn_store *s, const char *user,
                      const char *collection, unsigned rights);
/* Take the `rights` bits away (a no-op where they were not granted). */
int cairn_store_revoke(struct cairn_store *s, const char *user,
                       const char *collection, unsigned rights);
/* The bits `user` holds on `collection`: 0 when none or unknown. */
int cairn_store_rights(struct cairn_store *s, const char *user,
                       const char *collection, unsigned *out);

/* ---- sharing attributes (TLP 2.0 on the way out, docs/federation.md) ----
 */

/* Longest STIX identity id a user's sharing attributes hold. */
#define CAIRN_STORE_IDENTITY_MAX 300

/*
 * What the sharing rules need to know about a reader: the STIX identity
 * it acts for (TLP:RED objects naming it may be read) and whether it is a
 * member of the community (TLP:AMBER and AMBER+STRICT may be read).
 */
struct cairn_store_user_share {
    char identity[CAIRN_STORE_IDENTITY_MAX + 1]; /* "" when none */
    bool member;
};

/*
 * The sharing attributes of user `name` (a new user has none: "" and
 * false). CAIRN_ENOTFOUND when there is no such user.
 */
int cairn_store_user_share_get(struct cairn_store *s, const char *name,
                               struct cairn_store_user_share *out);
/*
 * Replace them. CAIRN_ENOTFOUND (no such user), CAIRN_EINVAL (an identity
 * that is not NUL-terminated within CAIRN_STORE_IDENTITY_MAX bytes or has
 * control characters).
 */
int cairn_store_user_share_set(struct cairn_store *s, const char *name,
                               const struct cairn_store_user_share *in);

/*
 * Whether user `name` administers the web console (its admin pages: users,
 * tokens, grants, peers); a new user does not. CAIRN_ENOTFOUND when there
 * is no such user.
 */
int cairn_store_user_admin_get(struct cairn_store *s, const char *name,
                               bool *out);
int cairn_store_user_admin_set(struct cairn_store *s, const char *name,
                               bool admin);

/*
 * The TLP level objects of collection `id` without a TLP marking are
 * treated as: a value of enum cairn_tlp (cairn/stix.h), 0 (none, the
 * default of a new collection) meaning they flow to every reader.
 * CAIRN_ENOTFOUND; _set also CAIRN_EINVAL for a value out of range.
 */
int cairn_store_collection_tlp_get(struct cairn_store *s, const char *id,
                                   int *out);
int cairn_store_collection_tlp_set(struct cairn_store *s, const char *id,
                                   int tlp);

/* ---- named state (the federation flows' progress) -------------------------
 */

/* Longest name and value of a named state entry. */
#define CAIRN_STORE_STATE_NAME_MAX 256
#define CAIRN_STORE_STATE_MAX      65536

/*
 * A small named text kept in the store for every process that shares it:
 * the progress of the federation flows (docs/federation.md), so that a
 * node taking over a [peer] goes on where another stopped. _get gives a
 * copy (the caller frees it with cairn_free) or CAIRN_ENOTFOUND; _set
 * replaces the value, or removes the entry when `value` is NULL.
 * CAIRN_EINVAL for an empty or over-long name or one with control
 * characters, CAIRN_ETOOBIG for a value over CAIRN_STORE_STATE_MAX bytes.
 */
int cairn_store_state_get(struct cairn_store *s, const char *name, char **out);
int cairn_store_state_set(struct cairn_store *s, const char *name,
                          const char *value);
/*
 * Marks: a side record of why an object version was stored though a check
 * found fault with it (a signature policy of `check`: "signature bad:
 * ..."), kept next to the object, never in its bytes (docs/signing.md).
 * One mark per collection, object id and version (the version as the
 * store result gives it: modified, else created, as written); _put
 * replaces the one there. _get gives the mark (the caller frees it with
 * cairn_free) or CAIRN_ENOTFOUND when the version was not marked.
 * Deleting the collection deletes its marks. CAIRN_EINVAL (an empty id
 * or version, a mark over 1000 bytes), CAIRN_ENOTFOUND (_put: no such
 * collection).
 */
int cairn_store_mark_put(struct cairn_store *s, const char *collection,
                         const char *id, const char *version,
                         const char *mark);
int cairn_store_mark_get(struct cairn_store *s, const char *collection,
                         const char *id, const char *version, char **out);

/* One mark: the object version it is beside, and its text. */
struct cairn_store_mark {
    const char *id;
    const char *version;
    const char *mark;
};

/*
 * The marks of `n` object versions of `collection` (an ingest session's
 * page) in one transaction, as n cairn_store_mark_put would write them;
 * a version given twice keeps its last mark. On an error none is written.
 * Errors as _put's; n == 0 writes nothing.
 */
int cairn_store_mark_put_many(struct cairn_store *s, const char *collection,
                              const struct cairn_store_mark *marks, size_t n);

/*
 * Receives one mark with its collection's id; the strings live for the
 * call. Return 0 to go on, 1 to stop, or a negative error.
 */
typedef int (*cairn_store_mark_cb)(void *ud, const char *collection,
                                   const struct cairn_store_mark *m);

/*
 * Every mark of `collection` (NULL: of every collection), ordered by
 * collection id, then object id and version (bytes). Returns 0, the
 * callback's error, CAIRN_ENOTFOUND (no such collection) or the store's.
 */
int cairn_store_mark_list(struct cairn_store *s, const char *collection,
                          cairn_store_mark_cb cb, void *ud);

/* ---- the correlation index (docs/analysis.md) ----------------------------
 */

/*
 * Receives one object version whose index keys hold the key looked for,
 * with the id of its collection; the row's strings (json included) live
 * for the call. Return 0 to go on, 1 to stop, or a negative error.
 */
typedef int (*cairn_store_hit_cb)(void *ud, const char *collection,
                                  const struct cairn_store_row *row);

/*
 * Every stored object version that carries the index key `key`
 * (cairn_value_key, cairn_value_ip_key, cairn_value_ref_key in
 * cairn/values.h), in every collection, in no set order. Every write
 * keeps the index current. Returns 0 (also when the callback stopped),
 * the callback's error, CAIRN_EUNSUPPORTED for a backend without the
 * index, CAIRN_EIO, CAIRN_ENOMEM. Callers filter by collection and
 * rights themselves. The callback must not use the store `s`.
 */
int cairn_store_find_key(struct cairn_store *s, uint64_t key,
                         cairn_store_hit_cb cb, void *ud);
/* Whether the store's backend keeps the index. */
bool cairn_store_has_index(struct cairn_store *s);

/* ---- sighting summaries (docs/analysis.md) --------------------------------
 */

/* Most organisations one sighting names that a summary hands out. */
#define CAIRN_STORE_SIGHTING_ORGS_MAX 256

/*
 * What one sighting says, as the store keeps it for `cairn report
 * sightings`, read once when it was written. Strings live for the call.
 */
struct cairn_store_sighting {
    const char *collection;      /* the collection's id */
    const char *sighting_of_ref; /* the object sighted */
    /* where_sighted_refs, else created_by_ref (none: 0) */
    const char *const *orgs;
    size_t n_orgs;
    bool false_positive; /* "x_cairn_false_positive": true */
    uint64_t count;      /* its count; 1 when absent */
    /* first_seen (else the last time); last_seen, else modified, else
     * created */
    bool has_first, has_last;
    struct cairn_time first, last;
    /* with_json: the sighting version itself (json included); else NULL */
    const struct cairn_store_row *row;
    /* From a backend that numbers names (SQLite), else 0 and NULL: a
     * number for sighting_of_ref and for each of orgs, over 0, the same
     * for the same name throughout one call, and small (below the number
     * of names the store knows), so that a reader can index an array. */
    uint32_t of_n;
    const uint32_t *org_ns;
};

struct cairn_store_sightings_query {
    const char *of; /* only sightings of this object; NULL: all */
    bool with_json; /* hand out each sighting's row too (slower) */
};

typedef int (*cairn_store_sighting_cb)(void *ud,
                                       const struct cairn_store_sighting *sg);

/*
 * Every stored sighting (with a sighting_of_ref), the newest version of
 * each in each collection, from the summaries the store keeps current on
 * every write (so without reading the sightings' JSON), in no set order.
 * The callback returns 0 to go on, 1 to stop, or a negative error, which
 * is returned; it must not use the store. CAIRN_EUNSUPPORTED for a
 * backend without summaries, CAIRN_EIO, CAIRN_ENOMEM.
 */
int cairn_store_sightings(struct cairn_store *s,
                          const struct cairn_store_sightings_query *q,
                          cairn_store_sighting_cb cb, void *ud);
/* Whether the store's backend keeps the sighting summaries. */
bool cairn_store_has_sightings(struct cairn_store *s);

/*
 * Whether user `name` is entitled to the identities behind sightings
 * (exact counts below the privacy threshold, the organisations' ids;
 * docs/analysis.md); a new user is not. CAIRN_ENOTFOUND when there is no
 * such user, CAIRN_EUNSUPPORTED for a backend without the flag.
 */
int cairn_store_user_identities_get(struct cairn_store *s, const char *name,
                                    bool *out);
int cairn_store_user_identities_set(struct cairn_store *s, const char *name,
                                    bool on);

#ifdef __cplusplus
}
#endif

#endif
