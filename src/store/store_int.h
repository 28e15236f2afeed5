/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the store: the backend ops table and the helpers backends share. */
#ifndef CAIRN_STORE_INT_H
#define CAIRN_STORE_INT_H

#include "cairn/store.h"

/*
 * store.c does everything that does not depend on where data lives: it
 * reads the objects (id, type, versions, text), hashes passwords and
 * tokens, encodes cursors and checks arguments. A backend only keeps and
 * finds rows, through the ops below, with the same semantics everywhere;
 * tests/unit/test_store.c runs one suite over each backend to hold them to
 * it. Timestamps cross this boundary as canonical text with nine fraction
 * digits ("2016-01-01T00:00:00.000000000Z"), which sorts like time, and
 * date_added as integer microseconds since the epoch.
 */

/*
 * What one sighting version tells the report (docs/analysis.md), read
 * from it once when it is written: the object it sighted, the
 * organisations (where_sighted_refs, else created_by_ref) joined by
 * spaces ("" when none; an id holding a space or control character is
 * left out), whether it calls that a false positive, its count (1 when
 * absent), first_seen as written (NULL when absent) and its last time
 * (last_seen, else modified, else created; NULL when none).
 */
struct store_sight {
    const char *of_ref;
    const char *orgs;
    bool fp;
    int64_t count;
    const char *first;
    const char *last;
};

/* One object ready to be stored. */
struct store_obj {
    const char *id;
    int64_t idh; /* cairn__store_id_hash(id), read with the rest */
    const char *type;
    const char *spec_version;
    const char *created;     /* NULL when absent */
    const char *modified;    /* NULL when absent */
    const char *version;     /* modified, else created, as written; or NULL */
    char vkey[32];           /* canonical version; "" = use date_added */
    struct cairn_time vtime; /* the same as a time; valid when vkey[0] */
    const char *json;
    size_t json_len;
    bool failed; /* set by store.c: skip, the result is already filled */
    /* The object's index keys (cairn_value_object_keys), distinct; a
     * backend with keys_find stores them with the row, in the same
     * transaction; one without ignores them. */
    const int64_t *keys;
    size_t n_keys;
    /* A sighting with a sighting_of_ref: its summary, which a backend
     * with sightings_scan stores with the row; NULL otherwise. */
    const struct store_sight *sight;
    /* An object flagged as on a warninglist (cairn_store_batch_flag): the
     * list's name and the value, stored with the row; NULL otherwise. */
    const char *flag_list;
    const char *flag_value;
};

/* A query with its cursor decoded and lists checked. */
struct store_q {
    const struct cairn_store_query *q;
    int64_t after_us;  /* rows with date_added > after_us; INT64_MIN: all */
    char (*vkeys)[32]; /* canonical version_times */
    size_t n_vkeys;
    unsigned versions; /* LAST/FIRST/ALL bits, never 0 unless vkeys */
    size_t limit;      /* rows wanted; the backend returns up to limit+1 */
};

/* Receives rows in date_added order; returns 0 or a negative code. */
struct store_row_sink {
    int (*row)(void *ud, const struct cairn_store_row *row, int64_t added_us);
    void *ud;
};

/*
 * One candidate of an index probe: the row (json set) and the id of its
 * collection. Returns 0 to go on, 1 to stop, or a negative error.
 */
struct store_hit_sink {
    int (*hit)(void *ud, const char *collection,
               const struct cairn_store_row *row);
    void *ud;
};

/*
 * One stored sighting summary, as sightings_scan hands it out: the
 * collection's id, the sighting's id hash and version (vsec, vns) and the
 * summary; `row` (with json) only when asked for, else NULL.
 */
struct store_sight_row {
    const char *collection;
    int64_t idh, vsec, vns;
    struct store_sight sight;
    const struct cairn_store_row *row;
    /* A backend keeping the summaries parsed (SQLite) sets `parsed` and
     * these instead of sight.orgs, .first and .last: the organisations,
     * the numbers of the names (of_n: sight.of_ref's; > 0, the same for
     * the same name throughout one scan) and the times. */
    bool parsed;
    uint32_t of_n;
    const char *const *orgs;
    const uint32_t *org_ns;
    size_t n_orgs;
    bool has_first, has_last;
    struct cairn_time first, last;
};

struct store_sight_sink {
    int (*row)(void *ud, const struct store_sight_row *r);
    void *ud;
};

/* A stored user's hash and a stored token's owner travel as strings. */
struct store_ops {
    const char *name;
    void (*close)(struct cairn_store *s);
    int (*schema_version)(struct cairn_store *s, int *out);

    int (*api_root_put)(struct cairn_store *s,
                        const struct cairn_store_api_root *root);
    int (*api_root_get)(struct cairn_store *s, const char *name,
                        struct cairn_store_api_root **out);
    int (*api_root_list)(struct cairn_store *s,
                         struct cairn_store_api_root **out, size_t *n);

    /* c->id is a UUID already. */
    int (*collection_create)(struct cairn_store *s,
                             const struct cairn_store_collection *c);
    /* With `alias` true, `id` may also be the alias (api_root is set);
     * a collection whose id matches wins. */
    int (*collection_get)(struct cairn_store *s, const char *api_root,
                          const char *id, bool alias,
                          struct cairn_store_collection **out);
    int (*collection_list)(struct cairn_store *s, const char *api_root,
                           struct cairn_store_collection **out, size_t *n);
    int (*collection_delete)(struct cairn_store *s, const char *id);

    /*
     * Store the objects not marked failed, filling results[i] (outcome and
     * message; id and version are filled already), and the status when
     * status_id is set, in one transaction. now_us gives the clock.
     */
    int (*put_objects)(struct cairn_store *s, const char *collection,
                       struct store_obj *objs, size_t n, const char *status_id,
                       struct cairn_store_result *results);
    int (*query)(struct cairn_store *s, const struct store_q *q,
                 const struct store_row_sink *sink);
    int (*delete_objects)(struct cairn_store *s, const struct store_q *q,
                          size_t *deleted);
    /* cairn_store_scan; NULL: store.c pages through query instead */
    int (*scan)(struct cairn_store *s, const char *collection,
                const char *type, int64_t after_us, cairn_store_scan_cb cb,
                void *ud);

    int (*status_new)(struct cairn_store *s, const char *id,
                      const char *collection, const char *user,
                      int64_t request_us, int64_t total);
    int (*status_add_pending)(struct cairn_store *s, const char *id,
                              const struct cairn_store_result *items, size_t n);
    int (*status_record)(struct cairn_store *s, const char *id,
                         const struct cairn_store_result *results, size_t n);
    int (*status_get)(struct cairn_store *s, const char *id,
                      struct cairn_store_status **out);
    /* Pending outcomes become failures with `message`; `count` gets the
     * number of statuses finished. */
    int (*status_abandon_pending)(struct cairn_store *s, const char *message,
                                  size_t *count);

    int (*user_add)(struct cairn_store *s, const char *name, const char *hash);
    int (*user_set_hash)(struct cairn_store *s, const char *name,
                         const char *hash);
    int (*user_hash)(struct cairn_store *s, const char *name, char **out);
    int (*user_remove)(struct cairn_store *s, const char *name);
    int (*user_list)(struct cairn_store *s, char ***out, size_t *n);
    int (*token_add)(struct cairn_store *s, const char *hash, const char *user);
    int (*token_user)(struct cairn_store *s, const char *hash, char **out);
    int (*token_remove)(struct cairn_store *s, const char *hash);
    /* Set the bits to exactly `rights` (0 removes the grant). */
    int (*rights_set)(struct cairn_store *s, const char *user,
                      const char *collection, unsigned rights);
    int (*rights_get)(struct cairn_store *s, const char *user,
                      const char *collection, unsigned *out);
    /* Sharing attributes; arguments are checked by store.c. */
    int (*user_share_get)(struct cairn_store *s, const char *name,
                          struct cairn_store_user_share *out);
    int (*user_share_set)(struct cairn_store *s, const char *name,
                          const struct cairn_store_user_share *in);
    /* Stored versions of a collection; CAIRN_ENOTFOUND. */
    int (*collection_count)(struct cairn_store *s, const char *id,
                            size_t *out);
    /* The console's administrator flag. */
    int (*user_admin_get)(struct cairn_store *s, const char *name, bool *out);
    int (*user_admin_set)(struct cairn_store *s, const char *name, bool admin);
    int (*collection_tlp_get)(struct cairn_store *s, const char *id, int *out);
    int (*collection_tlp_set)(struct cairn_store *s, const char *id, int tlp);
    /* Marks (cairn_store_mark_put): `key` is "ID VERSION"; put writes
     * n >= 1 marks of distinct keys in one transaction, replacing; get
     * answers CAIRN_ENOTFOUND; list gives them by collection then key
     * (collection NULL: all); a collection's go with it. */
    int (*mark_put)(struct cairn_store *s, const char *collection,
                    const char *const *keys, const char *const *marks,
                    size_t n);
    int (*mark_get)(struct cairn_store *s, const char *collection,
                    const char *key, char **out);
    int (*mark_list)(struct cairn_store *s, const char *collection,
                     int (*cb)(void *ud, const char *collection,
                               const char *key, const char *mark),
                     void *ud);

    /*
     * The correlation index (docs/analysis.md). Optional: store.c answers
     * CAIRN_EUNSUPPORTED when it is NULL. A backend that has it stores
     * every put object's `keys` with its row in put_objects' transaction
     * (and builds them for rows it already holds when it adds the index),
     * and here hands every stored row whose keys hold `key` to the sink,
     * in any order, until the sink stops. Rows a backend deleted may be
     * left in its index as long as they are never handed out; store.c
     * checks each row's keys again, so a hash collision or a stale entry
     * that points at a row now holding another object is harmless.
     */
    int (*keys_find)(struct cairn_store *s, int64_t key,
                     const struct store_hit_sink *sink);
    /* Named state: the copy in *out (CAIRN_ENOTFOUND); value NULL
     * removes the entry. Arguments are checked by store.c. */
    int (*state_get)(struct cairn_store *s, const char *name, char **out);
    int (*state_set)(struct cairn_store *s, const char *name,
                     const char *value);
    /*
     * Optional ops: a backend may leave any of these NULL, and store.c
     * answers CAIRN_EUNSUPPORTED for it. Named locks between processes
     * that share a database (PostgreSQL: one node runs a [peer]); held
     * by the handle until released, closed, or its connection is lost.
     */
    int (*lock_try)(struct cairn_store *s, const char *name, bool *got);
    int (*lock_release)(struct cairn_store *s, const char *name);
    /*
     * The sighting summaries (optional): every stored sighting version's
     * store_sight, kept with its row (a deleted row's goes with it), the
     * versions of one (collection, idh) one after the other, newest
     * first, so that store.c hands out the first of each. With `of`, at
     * least every version of each sighting (coll, idh) one of whose
     * versions sighted `of`. With `with_json`, each with its row.
     */
    int (*sightings_scan)(struct cairn_store *s, const char *of, bool with_json,
                          const struct store_sight_sink *sink);
    /* Whether a user is entitled to the identities behind sightings. */
    int (*user_identities_get)(struct cairn_store *s, const char *name,
                               bool *out);
    int (*user_identities_set)(struct cairn_store *s, const char *name,
                               bool on);
};

/* Every backend's handle starts with this. */
struct cairn_store {
    const struct store_ops *ops;
};

int cairn__store_sqlite_open(const char *path,
                             const struct cairn_store_opts *opts,
                             struct cairn_store **out);
int cairn__store_postgres_open(const char *url,
                               const struct cairn_store_opts *opts,
                               struct cairn_store **out);
int cairn__store_memory_open(const struct cairn_store_opts *opts,
                             struct cairn_store **out);

/* ---- helpers store.c gives the backends ---- */

/* The wall clock in microseconds since the epoch. */
int64_t cairn__store_now_us(void);
/* The next date_added after `last`: the clock, or last + 1 if not later. */
int64_t cairn__store_next_added(int64_t last);
/* date_added microseconds as a cairn_time with 6 digits. */
struct cairn_time cairn__store_us_time(int64_t us);
/* Canonical version key (nine digits) of a date_added. */
void cairn__store_us_vkey(int64_t us, char out[32]);
/* A 64-bit hash of an object id, for compact indexes. */
int64_t cairn__store_id_hash(const char *id);
/* Whether the list holds s (exact). */
bool cairn__store_in_list(const char *const *list, size_t n, const char *s);
/* Whether a stored row with `json` matches a new object's content: 1 yes,
 * 0 no, or CAIRN_ENOMEM (comparing other layouts parses both). */
int cairn__store_same_content(const char *json, size_t len,
                              const struct store_obj *o);
/* Set a result's message (printf-style, truncated). */
void cairn__store_result_msg(struct cairn_store_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Free the strings of the records, not the arrays. */
void cairn__store_api_root_clear(struct cairn_store_api_root *r);
void cairn__store_collection_clear(struct cairn_store_collection *c);
/*
 * The summary of sighting `obj` into `out`, its strings in `a` (a
 * backend's migration reads stored rows with it): 1 when it is a
 * sighting with a sighting_of_ref, 0 when not, CAIRN_ENOMEM.
 */
int cairn__store_sight_read(const json_t *obj, struct cairn_arena *a,
                            struct store_sight *out);
/* Append one result to a growable array; CAIRN_ENOMEM. */
int cairn__store_result_push(struct cairn_store_result **arr, size_t *n,
                             size_t *alloc, const struct cairn_store_result *r);

#endif
