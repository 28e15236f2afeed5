/* SPDX-License-Identifier: Apache-2.0 */
/* Exports for sensors: Zeek intel, Suricata, Snort, RPZ, YARA, CSV, MISP. */
#ifndef CAIRN_EXPORT_H
#define CAIRN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/store.h"
#include "cairn/values.h"

/*
 * Ownership: arguments are borrowed for the call; a struct cairn_export
 * copies its options (but for the warninglists, borrowed). An export keeps the indicators of its collections
 * in memory (what its format needs of each), so that after the first
 * full read only the objects added since are read again
 * (cairn_export_update), and a rewrite costs the rendering alone. One
 * thread uses an export at a time. Every _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

enum cairn_export_format {
    CAIRN_EXPORT_ZEEK,     /* "zeek-intel": Zeek intel framework file */
    CAIRN_EXPORT_SURICATA, /* "suricata": Suricata rules */
    CAIRN_EXPORT_SNORT,    /* "snort": Snort 2.9 rules */
    CAIRN_EXPORT_RPZ,      /* "rpz": DNS response policy zone */
    CAIRN_EXPORT_YARA,     /* "yara": the rules of yara indicators */
    CAIRN_EXPORT_CSV,      /* "csv": one value a row */
    CAIRN_EXPORT_MISP,     /* "misp": one MISP event (JSON) */
    CAIRN_EXPORT_STIX,     /* "stix": a STIX 2.1 bundle */
    CAIRN_EXPORT_FORMAT_COUNT
};

/* The format named `name`; CAIRN_EINVAL when there is none. */
int cairn_export_format_parse(const char *name, enum cairn_export_format *out);
const char *cairn_export_format_name(enum cairn_export_format f);
/* The media type an HTTP server gives the format's file. */
const char *cairn_export_format_media(enum cairn_export_format f);

/*
 * What an export holds. `types` names value types (cairn_ioc_type_name:
 * "domain", "ipv4", ..., "yara" for the rules of yara indicators); none:
 * every type. Values of other types are left out (counted as filtered).
 * Values on one of `warninglists` are left out (counted apart) unless
 * `include_warninglisted`; indicators whose score (cairn_score_indicator,
 * the analysis module's) is below `min_score` are left out too. One place
 * decides all this: the filter in src/export/export.c.
 */
struct cairn_export_opts {
    enum cairn_export_format format;
    const char *const *collections; /* store collection ids */
    size_t n_collections;
    const char *const *types;
    size_t n_types;
    /*
     * The state kept between rewrites: Suricata and Snort sids (one per
     * rule, the same for the same indicator and value, rev raised when
     * the indicator changes) and the RPZ serial. NULL: nothing is kept
     * (sids counted from CAIRN_EXPORT_SID_BASE in order, the serial from
     * the clock).
     */
    const char *state_path;
    const char *source; /* Zeek meta.source, MISP org; NULL: "cairn" */
    const char *zone;   /* RPZ zone origin; NULL: "rpz.cairn." */
    /*
     * Known false positives (may be NULL: none). Borrowed, not copied: the
     * set must outlive the export. Values on a list are left out of the
     * file, and lower the score, unless include_warninglisted (they are
     * then written, and still lower the score).
     */
    const struct cairn_warninglists *warninglists;
    bool include_warninglisted;
    /*
     * Leave out indicators scoring below this (0..100; 0: none). The
     * score is the confidence (default CAIRN_SCORE_DEFAULT_CONFIDENCE) and
     * its decay, a quarter for a warninglisted value; sightings are not
     * counted (an export reads indicators only). The CSV format writes it.
     */
    int min_score;
    /*
     * A one-shot export (cairn export): each indicator's part is rendered
     * straight into the file and not kept, so a rewrite renders every
     * indicator again. Less memory and a faster first file; a server's
     * exports keep their parts (false).
     */
    bool once;
};

#define CAIRN_EXPORT_SID_BASE 1000000u

struct cairn_export;

/*
 * A new export (empty until updated). CAIRN_EINVAL for a format out of
 * range or a type name not known, CAIRN_ENOMEM, CAIRN_EINVALID when the
 * state file is malformed (`diag`, may be NULL, names its line).
 */
int cairn_export_new(const struct cairn_export_opts *opts,
                     struct cairn_export **out, struct cairn_diag *diag);
void cairn_export_free(struct cairn_export *ex);

/*
 * Read the indicators added to the export's collections since the last
 * call (every one the first time; the latest version of each id, over
 * all the collections). `changed` (may be NULL) is set when anything was
 * read. CAIRN_ENOTFOUND (a collection is gone), or the store's error.
 */
int cairn_export_update(struct cairn_export *ex, struct cairn_store *s,
                        bool *changed);

/*
 * Add one object's JSON text as if read from a collection (tests, and
 * programs without a store). Objects other than indicators are ignored.
 * CAIRN_EINVAL when the text is not a JSON object; CAIRN_ENOMEM.
 */
int cairn_export_add_json(struct cairn_export *ex, const char *json,
                          size_t len);

/* Drop everything read (the next update reads the collections whole). */
void cairn_export_reset(struct cairn_export *ex);

struct cairn_export_stats {
    size_t indicators;  /* latest versions read */
    size_t exported;    /* indicators with something in the output */
    size_t entries;     /* lines, rules or records written */
    size_t revoked;     /* left out: revoked */
    size_t expired;     /* left out: valid_until passed */
    size_t unsupported; /* left out: the format cannot express them */
    size_t partial;     /* written without some of their values */
    size_t filtered;    /* left out by the filter (types) */
    size_t warninglisted; /* left out: every value on a warninglist */
    size_t low_score;     /* left out: score below min_score */
    size_t warninglisted_values; /* values left out (on a warninglist) */
};

/*
 * An indicator the format cannot express (or only in part: some of its
 * values), with a sentence saying why. Valid during the call.
 */
typedef void (*cairn_export_skip_cb)(const char *indicator_id,
                                     const char *why, void *ud);

/*
 * Render the file into `out` (appended) as of time `now` (NULL: the
 * clock), fill `stats` (may be NULL), and call `skip` (may be NULL) for
 * each indicator left out as unsupported. Saves the state file when the
 * options name one (written atomically). The YARA file is compiled with
 * libyara before it is handed out. CAIRN_ENOMEM, CAIRN_EIO (the state
 * file), CAIRN_EINTERNAL (libyara refused the assembled rules).
 */
int cairn_export_render(struct cairn_export *ex, const struct cairn_time *now,
                        struct cairn_buf *out, struct cairn_export_stats *stats,
                        cairn_export_skip_cb skip, void *ud);

/*
 * Render the file as cairn_export_render does, but straight into file
 * descriptor `fd` in large writes (the file is never held whole in
 * memory; YARA's is, to be compiled). `file` (may be NULL) receives its
 * length and a hash of its bytes (an ETag); its fd is left -1.
 * CAIRN_EIO when a write fails, else as cairn_export_render.
 */
struct cairn_export_file {
    int fd;        /* open for reading; the caller closes it; -1: none */
    size_t len;    /* bytes written */
    uint64_t hash; /* of the bytes written: 64-bit, not cryptographic */
};
int cairn_export_render_fd(struct cairn_export *ex,
                           const struct cairn_time *now, int fd,
                           struct cairn_export_file *file,
                           struct cairn_export_stats *stats,
                           cairn_export_skip_cb skip, void *ud);

/*
 * Render the file straight into `path`, atomically (a temporary file in
 * the same directory, fsync, rename), or with `path` NULL into an
 * anonymous file in memory. `file` (may be NULL) receives a descriptor
 * open for reading on the new file (the caller closes it; it stays
 * readable after a later rewrite replaces the name), its length and hash.
 * CAIRN_EIO, else as cairn_export_render.
 */
int cairn_export_write(struct cairn_export *ex, const struct cairn_time *now,
                       const char *path, struct cairn_export_file *file,
                       struct cairn_export_stats *stats,
                       cairn_export_skip_cb skip, void *ud);

/*
 * The earliest valid_until still ahead of `now` among the indicators
 * held: the time a rewrite should leave one out. False when none.
 */
bool cairn_export_next_expiry(const struct cairn_export *ex,
                              const struct cairn_time *now,
                              struct cairn_time *out);

/*
 * Write `len` bytes to `path` atomically: a temporary file in the same
 * directory, fsync, rename. CAIRN_EIO.
 */
int cairn_export_write_file(const char *path, const void *data, size_t len);

/* ---- the state file (sids, serial) ------------------------------------ */

/*
 * Parse a state file's text: lines "serial N" and "sid SID REV KEY VER"
 * (KEY and VER 16 hex digits), '#' comments. For the fuzzer and tests:
 * 0, or CAIRN_EINVALID with `diag` naming the line. Calls nothing back.
 */
int cairn_export_state_check(const char *text, size_t len,
                             struct cairn_diag *diag);

/*
 * Rename the rules of one YARA source so that their names cannot clash
 * with another indicator's: every rule declared in it, and every
 * reference to one, gets `prefix` in front. "import" lines are taken out
 * and listed in `imports` (appended, one a line); "include" is refused.
 * 0, or CAIRN_EINVALID with `why` (cap `why_len`) saying what is wrong.
 */
int cairn_export_yara_rename(const char *src, size_t len, const char *prefix,
                             struct cairn_buf *out, struct cairn_buf *imports,
                             char *why, size_t why_len);

/* ---- exports of a server ------------------------------------------------ */

/* One [export NAME] section of the server's configuration file. */
struct cairn_export_def {
    char *name;
    enum cairn_export_format format;
    char **collections;
    size_t n_collections;
    char **types;
    size_t n_types;
    char *path;   /* the file rewritten; NULL: served only */
    char *state;  /* state file; NULL: PATH.state, or none without PATH */
    char *source; /* NULL: "cairn" */
    char *zone;   /* NULL: "rpz.cairn." */
    char *warninglists; /* NULL: the server's [analysis] warninglists */
    bool include_warninglisted;
    int min_score; /* 0: none */
};

struct cairn_export_defs {
    struct cairn_export_def *defs;
    size_t n;
    /*
     * The server's [analysis] warninglists, set by the server (may be
     * NULL): the lists of every export whose section names none. Borrowed:
     * they must outlive the service.
     */
    const struct cairn_warninglists *warninglists;
};

/*
 * Read the [export NAME] sections of configuration file `path` (other
 * sections are left to their readers): format (required), collection
 * (one or more, a list separated by commas or given again), type, path,
 * state, source, zone, min_score (0..100), warninglists (a path),
 * include_warninglisted (yes or no). Relative paths are taken from the
 * file's directory. CAIRN_EINVAL with `diag` naming file:line; CAIRN_EIO.
 */
int cairn_export_defs_load(const char *path, struct cairn_export_defs *out,
                           struct cairn_diag *diag);
void cairn_export_defs_release(struct cairn_export_defs *defs);

struct cairn_export_service;

/*
 * Keep each export of `defs` (copied) current from the store at
 * `store_url` (its own handle): one full read and rewrite now, then a
 * thread that looks for added objects every `poll_ms` (0: 1000) or when
 * poked (cairn_export_service_poke), reads only those (the store's
 * change feed: date_added after the last one read), and rewrites the
 * exports whose collections changed (or whose indicators expired) with
 * cairn_export_write_file from the rendered parts it keeps of every other
 * indicator. An export's `warninglists` path
 * is loaded here (a bad entry or file logged, a path with no list an
 * error); without one, defs->warninglists applies. Errors of the first
 * rewrite are returned (with `diag`); later ones are logged and tried
 * again.
 */
int cairn_export_service_new(const char *store_url,
                             const struct cairn_store_opts *store_opts,
                             const struct cairn_export_defs *defs,
                             unsigned poll_ms,
                             struct cairn_export_service **out,
                             struct cairn_diag *diag);
void cairn_export_service_free(struct cairn_export_service *svc);

/*
 * The current content of one export, as served over HTTP: the file of
 * the latest rewrite itself (no copy per request), kept open until
 * released even when a newer rewrite replaces it.
 */
struct cairn_export_content {
    /*
     * The file, open for reading, valid until
     * cairn_export_content_release: shared by every request, so read it
     * at an offset (pread, sendfile) or dup it; never close it.
     */
    int fd;
    size_t len;
    char etag[40]; /* "\"...\"", quotes included */
    const char *media; /* static */
    void *ref_;        /* internal: the reference held */
};

/*
 * A reference to export `name`'s latest rewrite (`out` NULL: none, only
 * the collections). `collections` (may be NULL) receives its collection
 * ids, valid while the service lives. Release `out` with
 * cairn_export_content_release (from any thread). CAIRN_ENOTFOUND when
 * there is no such export.
 */
int cairn_export_service_get(struct cairn_export_service *svc,
                             const char *name,
                             struct cairn_export_content *out,
                             const char *const **collections,
                             size_t *n_collections);
/* Drop the reference; `c` may be NULL or released already. */
void cairn_export_content_release(struct cairn_export_content *c);

/*
 * Look at the exports' collections now rather than at the next poll (a
 * server calls it after storing objects): a rewrite follows within a
 * moment when one of them changed. NULL: nothing.
 */
void cairn_export_service_poke(struct cairn_export_service *svc);

/* Export `name`'s ETag alone (no copy); CAIRN_ENOTFOUND. */
int cairn_export_service_etag(struct cairn_export_service *svc,
                              const char *name, char etag[40]);

/* How many rewrites export `name` had (tests wait on it); 0 if none. */
uint64_t cairn_export_service_generation(struct cairn_export_service *svc,
                                         const char *name);

#ifdef __cplusplus
}
#endif

#endif
