/* SPDX-License-Identifier: Apache-2.0 */
/* The telemetry archive: a node's history of events, indexed by value. */
#ifndef CAIRN_ARCHIVE_H
#define CAIRN_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/hunt.h"
#include "cairn/telemetry.h"
#include "cairn/values.h"

/*
 * An archive lives in a directory (by default DATA/archive): append-only,
 * time-partitioned segments of events, compressed with zstd, each with an
 * index from every observable value in it to its events, and a catalogue
 * of the distinct values of the whole archive (first seen, last seen,
 * count). Sealed segments are immutable and carry checksums.
 *
 * Threads: one struct cairn_archive may be used by several threads at
 * once. Adds are serialised inside; hunts run beside them and see the
 * sealed segments and whatever of the open one was committed when the
 * hunt started. One process writes an archive at a time: a second
 * writer's open fails with CAIRN_EBUSY and a message naming the holder.
 *
 * Ownership: arguments are borrowed for the call; events and hits handed
 * to callbacks are valid for the call only. Every _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

struct cairn_archive;

struct cairn_archive_opts {
    bool read_only;         /* hunts, stats and checks only; no lock taken */
    uint64_t keep_seconds;  /* drop segments older than this; 0: keep all */
    uint64_t max_size;      /* drop the oldest segments past this many bytes
                               on disk; 0: no bound */
    uint64_t segment_events; /* events per segment at most; 0: 1,048,576 */
    cairn_hunt_msg_cb on_msg; /* warnings (a corrupt segment skipped, ...) */
    void *ud;
};

/*
 * Open (creating it unless read_only) the archive in `dir`. An open
 * segment left by a crash is recovered: events past its last commit are
 * dropped, never half-kept. CAIRN_EIO, CAIRN_EBUSY (another writer),
 * CAIRN_EPARSE (not an archive, or a newer format), CAIRN_ENOMEM; `diag`
 * (may be NULL) says why.
 */
int cairn_archive_open(const char *dir, const struct cairn_archive_opts *opts,
                       struct cairn_archive **out, struct cairn_diag *diag);

/* Commit what was added and close. */
void cairn_archive_free(struct cairn_archive *a);

/* ---- adding events -------------------------------------------------------- */

/*
 * Called once per event newly archived, after it was committed (durable),
 * from the thread that added it; `event_id` is unique in the archive. The
 * response loop hunts each new event here (live hunting). A negative
 * return is reported and does not undo the add.
 */
typedef int (*cairn_archive_event_cb)(const struct cairn_hunt_event *ev,
                                      const char *sensor, uint64_t event_id,
                                      void *ud);

struct cairn_archive_add_opts {
    const char *sensor; /* recorded with every event; NULL: the host name */
    /* Readers' options, as for `cairn hunt` (format, limits, on_diag). */
    struct cairn_telemetry_opts telemetry;
    cairn_archive_event_cb on_event; /* may be NULL */
    void *ud;
};

struct cairn_archive_add_stats {
    uint64_t inputs;     /* files and streams read */
    uint64_t duplicates; /* inputs skipped: the same content was added */
    uint64_t bytes;      /* bytes read (decompressed) */
    uint64_t lines;      /* lines read */
    uint64_t malformed;  /* lines skipped as malformed */
    uint64_t events;     /* events archived */
    uint64_t damaged;    /* inputs not read to their end (unreadable,
                            binary, truncated); in a directory each is
                            reported through telemetry.on_diag and the
                            walk goes on */
    double catalogue_seconds; /* CPU time spent updating the catalogue of
                                 distinct values as segments were sealed */
};

/*
 * Archive every event of `path` (a file, gzip or zstd, a directory walked
 * in name order, or "-" for standard input) with the readers of `cairn
 * hunt`. Content already archived (the same bytes) adds nothing and is
 * counted in stats->duplicates. When this returns 0 every event counted
 * is committed. CAIRN_EIO (with the disk full: nothing half-written
 * stays), CAIRN_EPARSE (a truncated compressed file: the complete lines
 * before the damage are kept), CAIRN_ENOMEM. `stats` adds up over calls.
 */
int cairn_archive_add_path(struct cairn_archive *a, const char *path,
                           const struct cairn_archive_add_opts *opts,
                           struct cairn_archive_add_stats *stats,
                           struct cairn_diag *diag);

/* The same for `len` bytes in memory called `name`. */
int cairn_archive_add_mem(struct cairn_archive *a, const void *data,
                          size_t len, const char *name,
                          const struct cairn_archive_add_opts *opts,
                          struct cairn_archive_add_stats *stats,
                          struct cairn_diag *diag);

/*
 * Following a growing log (the `watch =` of `[archive]`). Each poll
 * archives the complete lines appended since the last one; a rotated file
 * (new inode) is finished and the new one read from its start; a
 * truncated one is read again from its start; a deleted one is waited
 * for. The position is kept in the archive, so a restart goes on where
 * the last commit was, adding nothing twice.
 */
struct cairn_archive_follow;

int cairn_archive_follow_new(struct cairn_archive *a, const char *path,
                             const struct cairn_archive_add_opts *opts,
                             struct cairn_archive_follow **out);
/* 0, or a negative code after a message; stats add up. */
int cairn_archive_follow_poll(struct cairn_archive_follow *f,
                              struct cairn_archive_add_stats *stats,
                              struct cairn_diag *diag);
void cairn_archive_follow_free(struct cairn_archive_follow *f);

/* ---- hunting the history ----------------------------------------------- */

/* One archived event matched by one indicator. */
struct cairn_archive_hit {
    /* As `cairn hunt` reports it: indicator, value, file, line, offset,
     * field, time. */
    const struct cairn_hunt_report *report;
    const struct cairn_hunt_hit *hit; /* for cairn_hunt_sightings_add */
    const char *sensor;
    uint64_t event_id;
};

/* A negative return stops the hunt with that code. */
typedef int (*cairn_archive_hit_cb)(const struct cairn_archive_hit *hit,
                                    void *ud);

struct cairn_archive_hunt_opts {
    const struct cairn_hunt_set *set; /* borrowed */
    bool has_since, has_until;        /* event time bounds, inclusive */
    struct cairn_time since, until;
    unsigned threads;                 /* 0: 1 */
    bool no_catalogue; /* LIKE/MATCHES over each segment's values, not the
                          catalogue (the way before it; for benchmarks) */
};

struct cairn_archive_hunt_stats {
    uint64_t segments;    /* segments searched */
    uint64_t skipped;     /* corrupt segments skipped (each reported) */
    uint64_t values;      /* distinct values looked at */
    uint64_t candidates;  /* events read back for confirmation */
    uint64_t hits;
    double seconds;
};

/*
 * Every archived event that the set matches, found through the indexes
 * and the catalogue of distinct values, not by reading every event: the
 * semantics of cairn_hunt_match_event (domain suffixes, CIDR, URLs; LIKE
 * and MATCHES over the distinct values), multi-observation patterns
 * confirmed with the evaluator over the candidate events. Hits come per
 * indicator in event order. `stats` may be NULL.
 */
int cairn_archive_hunt(struct cairn_archive *a,
                       const struct cairn_archive_hunt_opts *opts,
                       cairn_archive_hit_cb cb, void *ud,
                       struct cairn_archive_hunt_stats *stats);

/* ---- state and checks ------------------------------------------------- */

struct cairn_archive_stats {
    uint64_t events;
    uint64_t segments;
    uint64_t values;         /* distinct values in the catalogue */
    uint64_t raw_bytes;      /* bytes of the logs as read */
    uint64_t data_bytes;     /* compressed events on disk */
    uint64_t index_bytes;    /* indexes and catalogue on disk */
    bool has_range;
    struct cairn_time first, last; /* event times */
};

int cairn_archive_get_stats(struct cairn_archive *a,
                            struct cairn_archive_stats *out);

/*
 * Verify every checksum and index; each problem goes to on_msg naming the
 * segment. Returns the number of problems (0: sound) or a negative code.
 */
int cairn_archive_check(struct cairn_archive *a);

/*
 * Drop now the segments past the opts' keep_seconds and max_size (adds do
 * it after each commit): keep_seconds drops every segment whose newest
 * event is older; max_size the oldest segments while the archive is
 * larger, never the newest one. *dropped (may be NULL) gets the number.
 * CAIRN_EPERM when read-only.
 */
int cairn_archive_prune(struct cairn_archive *a, uint64_t *dropped);

/*
 * An age as `keep =` and --keep write it: a number of seconds, or with
 * the suffix s, m, h, d or w. 0, or CAIRN_EINVAL.
 */
int cairn_archive_parse_age(const char *text, uint64_t *seconds);

/* The catalogue's record of one value (passive-DNS style). */
struct cairn_archive_value {
    enum cairn_ioc_type type;
    const char *value;
    size_t len;
    uint64_t count;
    struct cairn_time first_seen, last_seen;
};

/*
 * Look one value up in the catalogue: 1 and *out filled (strings valid
 * until the next call on `a` from this thread), 0 when never seen.
 */
int cairn_archive_lookup(struct cairn_archive *a, enum cairn_ioc_type type,
                         const char *value, size_t len,
                         struct cairn_archive_value *out);

/* A negative return stops the walk with that code. */
typedef int (*cairn_archive_value_cb)(const struct cairn_archive_value *v,
                                      void *ud);

/*
 * The catalogue's record of `domain` and of every name under it, in the
 * order of their labels from the right (example.com, a.example.com,
 * b.a.example.com, b.example.com): the number of names, or a negative
 * code (the callback's, CAIRN_ENOMEM, CAIRN_EPARSE for a damaged
 * catalogue).
 */
int cairn_archive_lookup_under(struct cairn_archive *a, const char *domain,
                               size_t len, cairn_archive_value_cb cb,
                               void *ud);

#ifdef __cplusplus
}
#endif

#endif
