/* SPDX-License-Identifier: Apache-2.0 */
/* Hunting: indicators compiled into a set, matched against telemetry. */
#ifndef CAIRN_HUNT_H
#define CAIRN_HUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/telemetry.h"
#include "cairn/values.h"

/*
 * Ownership: arguments are borrowed for the call. A compiled indicator set
 * is immutable and shared by every thread; each thread matches with its
 * own struct cairn_hunt_matcher. Hits handed to a callback are valid for
 * the call only. Every _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* One indicator matched one value of one event. */
struct cairn_hunt_hit {
    const char *indicator_id; /* STIX id of the indicator */
    const char
        *indicator_name; /* its name, or the list file's entry; may be NULL */
    enum cairn_ioc_type type;
    const char *value; /* the matched value as it appears in the event */
    size_t value_len;
    const struct cairn_hunt_event *event;
};

typedef void (*cairn_hunt_hit_cb)(const struct cairn_hunt_hit *hit, void *ud);

/* ---- building an indicator set ------------------------------------------ */

struct cairn_hunt_builder;
struct cairn_hunt_set;
struct cairn_hunt_matcher;

/* Returned by the _add functions when an input was reported and skipped. */
#define CAIRN_HUNT_SKIPPED 1

/* Room for "indicator--" and a UUID, with the NUL. */
#define CAIRN_HUNT_ID_MAX 64

enum cairn_hunt_skip_reason {
    CAIRN_HUNT_SKIP_REVOKED,     /* "revoked": true */
    CAIRN_HUNT_SKIP_EXPIRED,     /* valid_until at or before the reference */
    CAIRN_HUNT_SKIP_UNSUPPORTED, /* valid, but cannot be hunted (see text) */
    CAIRN_HUNT_SKIP_INVALID,     /* not an indicator, bad pattern, bad line */
    CAIRN_HUNT_SKIP_WARNINGLISTED, /* a value is on a warninglist */
};

/*
 * An indicator or list line that will not be hunted, and why. `message` is
 * a sentence a person can act on ("pattern_type 'sigma' is not
 * supported"). `indicator_id` is NULL for list lines; `source` and `line`
 * are the list's name and 1-based line number (NULL and 0 for STIX).
 */
struct cairn_hunt_skip {
    enum cairn_hunt_skip_reason reason;
    const char *indicator_id;
    const char *source;
    uint64_t line;
    const char *message;
};

typedef void (*cairn_hunt_skip_cb)(const struct cairn_hunt_skip *skip,
                                   void *ud);

struct cairn_hunt_builder_opts {
    /* valid_until is compared with this; NULL: the time of _builder_new */
    const struct cairn_time *now;
    /* called for every skipped indicator or list line; may be NULL */
    cairn_hunt_skip_cb skip_cb;
    void *ud;
    /*
     * Known false positives (cairn/values.h; may be NULL): an indicator
     * with a value on a list, or a list line whose value is, is skipped
     * with CAIRN_HUNT_SKIP_WARNINGLISTED and the list's name.
     */
    const struct cairn_warninglists *warninglists;
};

/*
 * The value type a pattern comparison on OBJECT_TYPE:PATH is hunted as
 * (domain-name:value is CAIRN_IOC_DOMAIN, file:hashes.MD5 CAIRN_IOC_MD5,
 * ...): the indicator set's own table, for the exports. CAIRN_IOC_STRING
 * for network-traffic's dst_ref.value and src_ref.value (an address or a
 * domain, by its shape); CAIRN_IOC_UNKNOWN when it is not hunted.
 */
enum cairn_ioc_type cairn_hunt_property_type(const char *object_type,
                                             const char *path);

/* `opts` may be NULL. CAIRN_ENOMEM. */
int cairn_hunt_builder_new(const struct cairn_hunt_builder_opts *opts,
                           struct cairn_hunt_builder **out);
void cairn_hunt_builder_free(struct cairn_hunt_builder *b);

/*
 * Add one STIX indicator (borrowed). pattern_type "stix": its pattern is
 * indexed (see docs/hunting.md, "Indicators"); "yara": kept aside for file
 * hunting (cairn_hunt_set_yara). Returns 0 when added, CAIRN_HUNT_SKIPPED
 * when revoked, expired, not huntable or malformed (reported through the
 * skip callback and `diag`, which may be NULL), CAIRN_ENOMEM, or
 * CAIRN_ETOOBIG past 2^31 values or 4 GiB of text.
 */
int cairn_hunt_builder_add_indicator(struct cairn_hunt_builder *b,
                                     const json_t *indicator,
                                     struct cairn_diag *diag);

/*
 * Add one line of a plain list: one value, its type detected (IPv4/IPv6
 * address or CIDR, domain, URL, email, MD5/SHA-1/SHA-256/SHA-512), also in
 * defanged form ("evil[.]com", "hxxp://", "1.2.3[.]4", "[@]"). A trailing
 * "\r\n" is ignored. Blank lines and lines starting with '#' return 0
 * and add nothing. The entry's indicator id is "indicator--" and the
 * UUIDv5 of "TYPE:VALUE" (cairn_ioc_type_name, normalised value), its
 * name the value. CAIRN_HUNT_SKIPPED when the value is not recognised.
 */
int cairn_hunt_builder_add_list_line(struct cairn_hunt_builder *b,
                                     const char *line, size_t len,
                                     const char *source, uint64_t lineno,
                                     struct cairn_diag *diag);

/* Every line of a list held in memory; returns 0 or a negative error. */
int cairn_hunt_builder_add_list(struct cairn_hunt_builder *b, const char *buf,
                                size_t len, const char *source,
                                struct cairn_diag *diag);

/*
 * Compile what was added into an immutable set. The builder may be freed
 * right after. CAIRN_ENOMEM, CAIRN_EINTERNAL when Vectorscan refuses the
 * combined regular expressions (each was checked when added).
 */
int cairn_hunt_builder_build(struct cairn_hunt_builder *b,
                             struct cairn_hunt_set **out);

/* ---- the compiled set --------------------------------------------------- */

void cairn_hunt_set_free(struct cairn_hunt_set *set);

struct cairn_hunt_set_stats {
    size_t indicators; /* hunted indicators (STIX and list) */
    size_t values;     /* indexed values (exact, CIDR, regex) */
    size_t by_type[CAIRN_IOC_TYPE_COUNT]; /* values per type */
    size_t regexes;            /* LIKE and MATCHES through Vectorscan */
    size_t needs_confirmation; /* indicators whose hits are candidates */
    size_t yara;               /* yara-pattern indicators kept aside */
    size_t skipped;            /* reported and not hunted */
    size_t memory;             /* bytes held by the set */
    size_t duplicates;         /* plain-list entries dropped: the same type and
                                  value as an earlier entry (the same id) */
};

void cairn_hunt_set_get_stats(const struct cairn_hunt_set *set,
                              struct cairn_hunt_set_stats *out);

/* One hunted indicator, by index (0 .. stats.indicators - 1). */
struct cairn_hunt_indicator_info {
    char id[CAIRN_HUNT_ID_MAX];
    const char *name;    /* may be NULL; valid while the set lives */
    const char *pattern; /* STIX pattern text when needs_confirmation */
    bool from_list;
    /*
     * Hits are candidates only: the pattern has several observations,
     * qualifiers, or comparisons that no event field can answer; confirm
     * them with the pattern evaluator over the events collected.
     */
    bool needs_confirmation;
    /*
     * Its hits depend on several comparisons of one event together (AND,
     * OR within an observation): an event must be matched whole, not one
     * value at a time.
     */
    bool formula;
};

/* CAIRN_ENOTFOUND when `index` is out of range. */
int cairn_hunt_set_indicator(const struct cairn_hunt_set *set, size_t index,
                             struct cairn_hunt_indicator_info *out);

/*
 * The values a set looks up (one per indexed comparison), for indexes
 * kept elsewhere that must find every value the matcher would (the
 * archive's). `key` is the value as the set stores it: domains, e-mail
 * addresses, hashes and registry keys in lower case (a domain without its
 * final dot), URLs normalised, an IPv4 address as its text; an IPv4 CIDR
 * block of prefix below 32 as 5 bytes (the prefix length, then the masked
 * address, most significant byte first); an IPv6 address or block as 17
 * bytes (the prefix length, then the masked address). LIKE and MATCHES
 * comparisons are not keys (cairn_hunt_set_stats.regexes counts them).
 */
struct cairn_hunt_key {
    enum cairn_ioc_type type;
    const uint8_t *key; /* valid while the set lives */
    size_t len;
};

size_t cairn_hunt_set_key_count(const struct cairn_hunt_set *set);
/* CAIRN_ENOTFOUND when `index` is out of range. */
int cairn_hunt_set_key(const struct cairn_hunt_set *set, size_t index,
                       struct cairn_hunt_key *out);

/* Indicators with pattern_type "yara", for file hunting through libyara. */
struct cairn_hunt_yara_rule {
    char id[CAIRN_HUNT_ID_MAX];
    const char *name;  /* may be NULL */
    const char *rules; /* the pattern: YARA source text */
    size_t rules_len;
};

size_t cairn_hunt_set_yara_count(const struct cairn_hunt_set *set);
int cairn_hunt_set_yara(const struct cairn_hunt_set *set, size_t index,
                        struct cairn_hunt_yara_rule *out);

/* ---- matching ------------------------------------------------------------ */

/*
 * Per-thread matching state over a set, which must outlive it: Vectorscan
 * scratch and buffers. CAIRN_ENOMEM.
 */
int cairn_hunt_matcher_new(const struct cairn_hunt_set *set,
                           struct cairn_hunt_matcher **out);
void cairn_hunt_matcher_free(struct cairn_hunt_matcher *m);

/*
 * Look every field of `ev` up and call `cb` once per (indicator, value)
 * hit. A field is looked up as its own type; a URL also as its host
 * (domain or address), an email address also as its domain; a
 * CAIRN_IOC_STRING field as each type its shape allows. Returns the number
 * of hits, or CAIRN_EINTERNAL if Vectorscan fails. No allocation.
 */
int cairn_hunt_match_event(struct cairn_hunt_matcher *m,
                           const struct cairn_hunt_event *ev,
                           cairn_hunt_hit_cb cb, void *ud);

/*
 * With `partial` true, an indicator whose pattern combines comparisons
 * within one observation (AND) is reported as soon as any of them holds
 * for a field, not when the whole holds for the event: for finding the
 * candidate values of a catalogue one value at a time (the archive). The
 * events found must then be matched again without it.
 */
void cairn_hunt_matcher_set_partial(struct cairn_hunt_matcher *m,
                                    bool partial);

/* What a hit carries besides struct cairn_hunt_hit. */
struct cairn_hunt_hit_detail {
    size_t indicator;        /* index for cairn_hunt_set_indicator */
    bool needs_confirmation; /* see struct cairn_hunt_indicator_info */
    const char *field_name;  /* the field that matched, or NULL */
};

/*
 * Only for a hit handed to a callback by cairn_hunt_match_event, during
 * that call.
 */
void cairn_hunt_hit_get_detail(const struct cairn_hunt_hit *hit,
                               struct cairn_hunt_hit_detail *out);

/*
 * The values of `ev` as STIX cyber observables for the pattern evaluator,
 * as hunt jobs confirm multi-observation patterns with them: one object
 * per network value; the hashes and name of a file together as one file
 * object. A new array owned by the caller, or NULL when out of memory.
 */
json_t *cairn_hunt_event_scos(const struct cairn_hunt_event *ev);

/* ---- sightings ------------------------------------------------------------
 */

struct cairn_hunt_sightings;

/*
 * Aggregate hits per indicator for STIX sightings, seen by the identity
 * (an organisation) named `name`; `identity_id` may be NULL for a stable
 * id derived from the name. Not thread-safe: one thread adds.
 */
int cairn_hunt_sightings_new(const char *name, const char *identity_id,
                             struct cairn_hunt_sightings **out);
void cairn_hunt_sightings_free(struct cairn_hunt_sightings *s);

/*
 * Count one hit. Its event's timestamp moves first_seen/last_seen; hits
 * without one count, and when none of an indicator's hits had one, the
 * times are those of the hunt's own clock when the hits were added.
 */
int cairn_hunt_sightings_add(struct cairn_hunt_sightings *s,
                             const struct cairn_hunt_hit *hit);

/* Number of indicators sighted so far. */
size_t cairn_hunt_sightings_count(const struct cairn_hunt_sightings *s);

/*
 * A new bundle holding the identity and one sighting per indicator
 * (sighting_of_ref, count, first_seen, last_seen, where_sighted_refs), in
 * the order the indicators were first hit. The caller owns *out.
 */
int cairn_hunt_sightings_to_bundle(const struct cairn_hunt_sightings *s,
                                   json_t **out);

/*
 * Sightings that last (the response loop, docs/response.md): once set
 * stable, a sighting's id is derived from the identity and the indicator
 * (UUIDv5), so that one organisation's sighting of one indicator is one
 * object whose versions follow its count and times, whichever process or
 * run writes it. Call before adding hits.
 */
void cairn_hunt_sightings_set_stable(struct cairn_hunt_sightings *s);

/* The stable id of the sighting of `indicator_id` into `out`; CAIRN_ETOOBIG. */
int cairn_hunt_sightings_id(const struct cairn_hunt_sightings *s,
                            const char *indicator_id, char *out, size_t len);

/*
 * Take up a stored version (the latest) of one of these stable sightings,
 * or of their identity: its count, times, created and modified, so that
 * the next version follows it and nothing unchanged is written again.
 * CAIRN_HUNT_SKIPPED when `obj` is not one of them; CAIRN_EINVAL when `s`
 * is not stable; CAIRN_ENOMEM.
 */
int cairn_hunt_sightings_resume(struct cairn_hunt_sightings *s,
                                const json_t *obj);

/*
 * Widen `dst` by `src` (a hunt of a whole history): each indicator's count
 * becomes the larger of the two, its first and last seen the wider span.
 */
int cairn_hunt_sightings_merge(struct cairn_hunt_sightings *dst,
                               const struct cairn_hunt_sightings *src);

/*
 * A new bundle of what is owed since the last call (the identity the first
 * time, then a new version of each stable sighting whose count or times
 * moved: same id and created, a later modified), or *out NULL when
 * nothing is. They count as written; if storing them fails, hand the
 * bundle to _unwritten so that the next call owes them again.
 */
int cairn_hunt_sightings_changed(struct cairn_hunt_sightings *s, json_t **out);
void cairn_hunt_sightings_unwritten(struct cairn_hunt_sightings *s,
                                    const json_t *bundle);
/* Whether _changed would hand anything out now (it changes nothing). */
bool cairn_hunt_sightings_owed(const struct cairn_hunt_sightings *s);

struct cairn_store;
struct cairn_ingest_opts;
struct cairn_ingest_counts;

/*
 * Store the objects of a sighting bundle through one ingest with `io` (its
 * batch set from how many there are: all in one transaction, up to
 * CAIRN_STORE_BATCH_MAX); what was stored and refused in *c.
 */
int cairn_hunt_sightings_store(struct cairn_store *s,
                               const struct cairn_ingest_opts *io,
                               const json_t *bundle,
                               struct cairn_ingest_counts *c);

/* ---- hunt jobs ------------------------------------------------------------ */

/*
 * A hunt job reads indicators into a builder from any source, then hunts
 * a set over inputs with a pool of threads: logs (files, directories
 * walked in name order, standard input, or bytes in memory; large
 * uncompressed files split in parts) and files hashed whole (--files, with
 * the YARA indicators). It drops repeated hits within one event, confirms
 * the hits of multi-observation patterns with the pattern evaluator after
 * every input has been read, hands each hit to a callback and adds it to
 * the sightings. `cairn hunt` is one caller; a server may run jobs too.
 */

struct cairn_store;
struct cairn_hunt_job;

/*
 * A message for a person, one line without its newline. Warnings
 * (malformed lines, bounds reached) may be dropped by a quiet caller;
 * errors say why an input, a source or a hit was lost.
 */
typedef void (*cairn_hunt_msg_cb)(enum cairn_severity sev, const char *text,
                                  void *ud);

/*
 * Confirming the hits of a multi-observation pattern: candidate k (0 to
 * n - 1) of one indicator gives its event's SCOs (NULL: none of its own)
 * and time (*ts NULL: none); `confirmed` is called for each candidate whose
 * SCOs the pattern used in its match.
 */
struct cairn_hunt_confirm_ops {
    json_t *(*candidate)(size_t k, const struct cairn_time **ts, void *ud);
    void (*confirmed)(size_t k, void *ud);
    cairn_hunt_msg_cb on_msg; /* why hits cannot be confirmed; may be NULL */
};

/*
 * Evaluate the pattern of indicator `indicator` of `set` over the n
 * candidates' observations. A pattern that does not parse or observations
 * that do not seal are said through on_msg, and 0 returned. Returns 0,
 * CAIRN_ENOMEM, or CAIRN_EINTERNAL when `indicator` is not in the set.
 */
int cairn_hunt_confirm(const struct cairn_hunt_set *set, size_t indicator,
                       size_t n, const struct cairn_hunt_confirm_ops *ops,
                       void *ud);

/*
 * Add the indicators of one source held in memory: a STIX bundle or
 * object, a JSON array of them (their indicator objects), or else a plain
 * list of values (cairn_hunt_builder_add_list), told apart by content.
 * `name` names it in messages. Returns 0 (skipped indicators go to the
 * builder's skip callback) or a negative code after a message.
 */
int cairn_hunt_builder_add_source(struct cairn_hunt_builder *b,
                                  const char *data, size_t len,
                                  const char *name, cairn_hunt_msg_cb msg,
                                  void *ud);

/*
 * Add the latest version of every indicator of store collection `id`.
 * CAIRN_ENOTFOUND for no such collection, or the store's error, after a
 * message; objects whose stored JSON does not parse are reported and
 * skipped.
 */
int cairn_hunt_builder_add_collection(struct cairn_hunt_builder *b,
                                      struct cairn_store *s, const char *id,
                                      cairn_hunt_msg_cb msg, void *ud);

/* One hit as reported by a job: everything a printer needs, borrowed. */
struct cairn_hunt_report {
    const char *indicator_id;
    const char *name; /* the indicator's name; may be NULL */
    enum cairn_ioc_type type;
    const char *type_name; /* "yara" for a YARA rule, else NULL */
    const char *value;     /* the value found, or the YARA rule's name */
    size_t value_len;
    const char *file;
    uint64_t line;     /* 0: a file hunted whole (--files) */
    uint64_t offset;   /* byte offset of the event or of the YARA match */
    const char *field; /* the field that matched, or NULL */
    bool has_ts;
    struct cairn_time ts;
};

/*
 * Called for each hit, from the worker thread reading its input (several
 * at a time). Bytes appended to `out` belong to that input and reach the
 * output callback in input order. A negative return fails the input.
 */
typedef int (*cairn_hunt_report_cb)(const struct cairn_hunt_report *hit,
                                     struct cairn_buf *out, void *ud);

/*
 * Output of the report callback, in the order of the inputs, then of
 * their lines, whatever the number of threads; hits confirmed by the
 * evaluator come last. One call at a time, from any thread. A negative
 * return is remembered (stats.output_failed).
 */
typedef int (*cairn_hunt_output_cb)(const char *data, size_t len, void *ud);

struct cairn_hunt_job_stats {
    size_t logs;          /* log inputs, directories expanded */
    size_t parts;         /* what the threads read: logs and their parts */
    size_t files;         /* files to hash whole, found under the trees */
    uint64_t bytes;       /* log bytes read (decompressed) */
    uint64_t lines;       /* log lines read */
    uint64_t malformed;   /* log lines skipped as malformed */
    uint64_t hits;        /* hits reported */
    unsigned errors;      /* inputs or hits lost (each reported) */
    bool output_failed;   /* the output callback failed */
    double scan_seconds;  /* wall time of the reading */
};

/* Called every progress_ms from the thread running the job. */
typedef void (*cairn_hunt_progress_cb)(const struct cairn_hunt_job_stats *st,
                                       void *ud);

struct cairn_hunt_job_opts {
    const struct cairn_hunt_set *set; /* borrowed; outlives the job */
    bool files; /* files will be hunted: compile the YARA indicators */
    /* Readers' options; on_diag and diag_ud are the job's own (messages
     * go to on_msg). */
    struct cairn_telemetry_opts telemetry;
    unsigned threads; /* 0: 1 */
    size_t split;     /* part size of a large log; 0: never split */
    /* Each hit counted here after it was output; may be NULL. */
    struct cairn_hunt_sightings *sightings;
    cairn_hunt_report_cb on_hit;         /* may be NULL */
    cairn_hunt_output_cb on_output;      /* may be NULL */
    cairn_hunt_msg_cb on_msg;            /* may be NULL */
    cairn_hunt_skip_cb on_skip;          /* YARA rules that do not compile */
    cairn_hunt_progress_cb on_progress;  /* may be NULL */
    unsigned progress_ms;                /* 0: 250 */
    void *ud;
};

/*
 * A job over `opts->set` (options copied). With opts->files, the YARA
 * indicators are compiled; those that do not compile go to on_skip
 * (CAIRN_HUNT_SKIP_UNSUPPORTED). CAIRN_ENOMEM.
 */
int cairn_hunt_job_new(const struct cairn_hunt_job_opts *opts,
                       struct cairn_hunt_job **out);
void cairn_hunt_job_free(struct cairn_hunt_job *job);

/* Indicators hunted in files through YARA (their rules compiled). */
size_t cairn_hunt_job_yara_count(const struct cairn_hunt_job *job);

/*
 * One log input: a path ("-" or NULL: standard input; a directory is
 * walked), or `len` bytes at `data` (borrowed for the run) called `path`.
 */
struct cairn_hunt_input {
    const char *path;
    const void *data;
    size_t len;
};

/*
 * Hunt the files under `dirs` (hashed, and YARA rules run over them),
 * then the logs, and fill *stats (may be NULL). An input that cannot be
 * read is reported, counted in stats->errors, and the others are read.
 * Returns 0, or CAIRN_ENOMEM when the job could not run at all. A job is
 * run once.
 */
int cairn_hunt_job_run(struct cairn_hunt_job *job,
                       const struct cairn_hunt_input *logs, size_t n_logs,
                       const char *const *dirs, size_t n_dirs,
                       struct cairn_hunt_job_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
