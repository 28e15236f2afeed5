/* SPDX-License-Identifier: Apache-2.0 */
/* DNS analysers: what malware hid in the names it looked up, decoded. */
#ifndef CAIRN_ANALYSIS_H
#define CAIRN_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/values.h"

/*
 * Ownership: names, events and options are borrowed for the call; an
 * analyser copies what it keeps. Findings and bundles handed out belong to
 * the caller (json_decref). An analyser belongs to one thread. Every _free
 * accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- one DNS lookup, as any telemetry gives it ------------------------- */

enum cairn_dns_answer_type {
    CAIRN_DNS_A,
    CAIRN_DNS_AAAA,
    CAIRN_DNS_CNAME,
};

struct cairn_dns_answer {
    enum cairn_dns_answer_type type;
    const char *value; /* dotted quad, IPv6 text, or a host name */
    size_t len;
};

struct cairn_dns_name {
    const char *name; /* the name looked up, any case, no trailing dot */
    size_t len;
    bool has_ts;
    struct cairn_time ts;
    const struct cairn_dns_answer *answers; /* may be NULL when unknown */
    size_t n_answers;
};

/* ---- the analyser interface ---------------------------------------------- */

struct cairn_analyser;

/* A column of the table `cairn analyse` prints: a key of each finding. */
struct cairn_analyser_column {
    const char *key;    /* member of a finding's JSON object */
    const char *header; /* column title */
};

struct cairn_analyser_info {
    const char *name;    /* "sunburst" */
    const char *summary; /* one line for --help */
    const struct cairn_analyser_column *columns;
    size_t n_columns;
};

/* The analysers cairn has, in the order --help lists them. */
size_t cairn_analyser_list(const struct cairn_analyser_info *const **out);

/* A new analyser by name; CAIRN_ENOTFOUND for a name not in the list. */
int cairn_analyser_new(const char *name, struct cairn_analyser **out);
void cairn_analyser_free(struct cairn_analyser *a);
const struct cairn_analyser_info *
cairn_analyser_info(const struct cairn_analyser *a);

/*
 * Feed one lookup. Names the analyser does not care about are counted and
 * ignored; a name it cannot decode is counted, never an error. Returns 0
 * or CAIRN_ENOMEM.
 */
int cairn_analyser_add_name(struct cairn_analyser *a,
                            const struct cairn_dns_name *name);

/*
 * Feed one telemetry event (struct cairn_hunt_event from any reader):
 * every domain field is a looked-up name, except fields named "answers",
 * "answer", "rdata" or "response", whose addresses and host names are the
 * answers to the event's names (Zeek's dns.log, and JSON logs that use
 * those keys). The event's time is the lookups' time.
 */
int cairn_analyser_add_event(struct cairn_analyser *a,
                             const struct cairn_hunt_event *ev);

/* What the analyser has seen. */
struct cairn_analyser_stats {
    uint64_t names;       /* names fed */
    uint64_t relevant;    /* names under the analyser's domains */
    uint64_t decoded;     /* of those, names that decoded */
    uint64_t undecodable; /* of those, names that did not */
    uint64_t findings;    /* findings so far (victims, for SUNBURST) */
};

void cairn_analyser_get_stats(const struct cairn_analyser *a,
                              struct cairn_analyser_stats *out);

/*
 * The findings as a JSON array of objects, newest activity first (keys per
 * analyser; docs/analysers.md). CAIRN_ENOMEM.
 */
int cairn_analyser_findings(const struct cairn_analyser *a, json_t **out);

/* How findings are written as STIX. */
struct cairn_analyser_stix_opts {
    /* Marking of the identities the analyser names (victims);
     * NULL: TLP:RED. */
    const char *victim_marking_ref;
    /* The indicator the sightings are of (an id the receiver holds, such
     * as the hub's SUNBURST indicator); NULL: the analyser writes one. */
    const char *indicator_ref;
    /* created_by_ref of every object written; NULL: none. */
    const char *created_by_ref;
    /* The timestamp written as created/modified; NULL: now. */
    const struct cairn_time *now;
};

/*
 * The findings as a STIX 2.1 bundle: for SUNBURST, an identity per victim
 * domain (marked as opts says), the SUNBURST indicator unless
 * opts->indicator_ref names one, and one sighting of it per victim with its
 * evidence as observed-data. CAIRN_ENOMEM.
 */
int cairn_analyser_stix(const struct cairn_analyser *a,
                        const struct cairn_analyser_stix_opts *opts,
                        json_t **out);

/* ---- SUNBURST, one label at a time -------------------------------------- */

enum cairn_sunburst_kind {
    CAIRN_SUNBURST_NONE = 0,    /* not under *.appsync-api.REGION.avsvmcloud */
    CAIRN_SUNBURST_UNDECODABLE, /* under it, but not an encoded label */
    CAIRN_SUNBURST_DOMAIN,      /* carries a chunk of the AD domain */
    CAIRN_SUNBURST_NEXT,        /* NextString beacon */
    CAIRN_SUNBURST_NEXT_EX,     /* NextStringEx: with the products' status */
};

#define CAIRN_SUNBURST_FINAL_SEQ 35
#define CAIRN_SUNBURST_CHUNK_MAX 16

struct cairn_sunburst_label {
    enum cairn_sunburst_kind kind;
    uint8_t guid[8];   /* the victim's id */
    int region;        /* 0..3: eu-west-1, us-west-2, us-east-1, us-east-2 */
    bool region_ok;    /* region is the one the guid selects */
    /* CAIRN_SUNBURST_DOMAIN */
    int seq;           /* 0..34, or CAIRN_SUNBURST_FINAL_SEQ */
    char chunk[CAIRN_SUNBURST_CHUNK_MAX + 1]; /* encoded, marker removed */
    size_t chunk_len;
    /* CAIRN_SUNBURST_NEXT and _NEXT_EX */
    int64_t when;      /* Unix seconds: 2010-01-01 + 30 min steps */
    bool stage2;       /* the "ext" flag: the implant is in stage 2 */
    uint16_t services; /* _NEXT_EX: the status bitmap of 8 products */
};

/*
 * Decode one looked-up name (any case, an optional trailing dot). Returns
 * the kind (also in out->kind); never fails.
 */
enum cairn_sunburst_kind
cairn_sunburst_decode_label(const char *name, size_t len,
                            struct cairn_sunburst_label *out);

/*
 * Decode an assembled domain encoding (the chunks joined in order): "00"
 * and base32, or the substitution cipher. Writes at most `cap` - 1 bytes
 * and a NUL to `out`; returns the length, or CAIRN_EINVAL when the text
 * is not a valid encoding (a character outside the alphabet, a dangling
 * escape), or CAIRN_ETOOBIG when `cap` is too small.
 */
int cairn_sunburst_decode_domain(const char *enc, size_t len, char *out,
                                 size_t cap);

/* The state an A/AAAA answer puts the implant in (docs/analysers.md). */
enum cairn_sunburst_state {
    CAIRN_SUNBURST_STATE_UNKNOWN = 0, /* no answer seen */
    CAIRN_SUNBURST_STATE_CONTINUE,    /* keep beaconing */
    CAIRN_SUNBURST_STATE_TERMINATE,   /* stop (local ranges, kill switch) */
    CAIRN_SUNBURST_STATE_STAGE2,      /* chosen: HTTP C2 next */
};

/* "unknown", "continue", "terminate", "stage2" */
const char *cairn_sunburst_state_name(enum cairn_sunburst_state s);

/* The state one answer (an address or, for a CNAME, stage 2) means. */
enum cairn_sunburst_state
cairn_sunburst_answer_state(const struct cairn_dns_answer *answer);

/* ---- correlation: lookups and neighbourhoods (docs/analysis.md) ---------- */

struct cairn_store;
struct cairn_store_row;
struct cairn_score_opts;

/* Most objects a lookup lists per value (and per kind of neighbour). */
#define CAIRN_LOOKUP_LIMIT 1000

struct cairn_lookup_opts {
    /*
     * Whether the reader may see `row` of `collection` (rights, sharing
     * rules); NULL: every object. Called while the store is being read:
     * it must not use the store. What it refuses is not counted, listed
     * or hinted at anywhere in the answer.
     */
    bool (*visible)(void *ud, const char *collection,
                    const struct cairn_store_row *row);
    void *visible_ud;
    size_t limit; /* 0: CAIRN_LOOKUP_LIMIT */
    /*
     * Scores (may be NULL: none): each indicator matched gets `score`
     * from the sightings of it the answer lists; and the answer names the
     * warninglists the value is on (`warninglists`).
     */
    const struct cairn_score_opts *score;
    /*
     * A domain's lookup also lists, under `under`, the objects carrying a
     * name under it (cairn_lookup_under) that `matches` does not list.
     */
    bool under;
};

/*
 * Where `value` is in the store, through the correlation index: `matches`
 * lists the newest version of each object that carries it (an indicator
 * whose pattern compares it, an SCO, an observed-data holding one), with
 * `matched`, the value as it matched: a domain also finds its parent
 * domains' objects, an address the CIDR blocks that hold it, a URL its
 * host's. `related` lists the objects that refer to those (sightings,
 * reports, groupings, relationships, with `refers_to` and `via`, the
 * members that refer), and the sightings of observed-data among them.
 * `truncated` is true past the limit. `*out` is the caller's.
 * CAIRN_EINVAL (empty or over CAIRN_VALUE_URL_MAX bytes),
 * CAIRN_EUNSUPPORTED (a store without the index), the store's errors.
 */
int cairn_lookup(struct cairn_store *s, const char *value,
                 const struct cairn_lookup_opts *o, json_t **out);

/*
 * The objects carrying a name strictly under domain `domain`
 * ("a.b.example.com" for example.com), through the index's parent keys
 * (one probe, cairn_value_under_key), appended to the JSON array `out` as
 * cairn_lookup lists its matches (`matched` is `domain`; `score` with
 * o->score): the newest version of each, only of `type` (NULL: any),
 * leaving out those `skip` (an array of such entries, may be NULL) or
 * `out` already lists. Nothing for a value that is not a domain of two
 * labels or more. CAIRN_EINVAL, CAIRN_EUNSUPPORTED (no index), the
 * store's errors.
 */
int cairn_lookup_under(struct cairn_store *s, const char *domain,
                       const struct cairn_lookup_opts *o, const char *type,
                       const json_t *skip, json_t *out);

/*
 * The neighbourhood of object `id`, for the console: `objects`, its
 * newest version in each collection the reader sees (whole, under
 * "object"); `refers_to`, the objects its `*_ref(s)` name (with `via`);
 * `referred_by`, the objects that name it (sightings, relationships,
 * reports, ...). CAIRN_ENOTFOUND when the reader sees no version of it;
 * otherwise as cairn_lookup.
 */
int cairn_neighbourhood(struct cairn_store *s, const char *id,
                        const struct cairn_lookup_opts *o, json_t **out);

/* ---- scores: how much to trust an indicator today (docs/analysis.md) ---- */

/* The base of an indicator without a confidence. */
#define CAIRN_SCORE_DEFAULT_CONFIDENCE 50

/* What the sightings of one indicator say. */
struct cairn_score_sightings {
    uint64_t orgs;    /* distinct organisations that sighted it */
    uint64_t fp_orgs; /* that reported it a false positive */
    uint64_t count;   /* sightings counted */
    bool has_last_seen;
    struct cairn_time last_seen; /* the newest true sighting */
    /* the warninglist the indicator was flagged on when stored (the
     * store's flag_list), or NULL: lowers the score as the lists in force
     * do (docs/analysis.md) */
    const char *flagged;
};

/* The base of an indicator without a confidence created by `identity`. */
struct cairn_score_source {
    char *identity;
    int confidence; /* 0..100 */
};

/* The decay model of one value type (an enum cairn_ioc_type). */
struct cairn_score_decay {
    int type;
    double lifetime_days; /* > 0 */
    double speed;         /* > 0 */
};

struct cairn_score_opts {
    const struct cairn_warninglists *warninglists; /* may be NULL */
    int default_confidence;       /* 0: CAIRN_SCORE_DEFAULT_CONFIDENCE */
    const struct cairn_time *now; /* NULL: now */
    /* per source (created_by_ref): the base without a confidence */
    const struct cairn_score_source *sources;
    size_t n_sources;
    /* per value type: replaces the built-in lifetime and speed */
    const struct cairn_score_decay *decay;
    size_t n_decay;
};

/*
 * Read the score settings of [analysis] (docs/analysis.md) into `o`:
 * `sources`, "IDENTITY N, IDENTITY N, ..." (a source's default confidence,
 * N 0..100), and `decay`, "TYPE DAYS SPEED, ..." (TYPE a value type name
 * such as ipv4, domain, sha256; DAYS and SPEED positive numbers). Either
 * may be NULL or empty. What `o` held in sources and decay is replaced;
 * cairn_score_opts_clear frees them. CAIRN_EINVAL with `err` naming the
 * entry that is wrong, CAIRN_ENOMEM.
 */
int cairn_score_opts_parse(struct cairn_score_opts *o, const char *sources,
                           const char *decay, char *err, size_t err_len);
void cairn_score_opts_clear(struct cairn_score_opts *o);

/*
 * The score (0..100) of indicator `ind`: its confidence (else its
 * source's default, else the default) times MISP's polynomial decay 1 - (age / lifetime)^(1 / speed)
 * with the lifetime and speed of its first value's type, the age counted
 * from valid_from or the newest sighting; 0 past valid_until or revoked;
 * plus 5 per sighting organisation (at most 20) while it has not decayed
 * away; minus 15 per organisation that called it a false positive (at
 * most 60); a quarter of that when a value is on a warninglist. With
 * `explain`, the terms as a JSON object (the caller's). `sg` and `o` may
 * be NULL. CAIRN_EINVAL (not an object), CAIRN_ENOMEM.
 */
int cairn_score_indicator(const json_t *ind,
                          const struct cairn_score_sightings *sg,
                          const struct cairn_score_opts *o, json_t **explain);

/*
 * What cairn_score_indicator reads of an indicator, already parsed (a
 * caller that holds the fields scores without a JSON object; the scores
 * are the same). Strings are as written, with their lengths; NULL when
 * absent or not a string. `values` calls `cb` with the indicator's values
 * in the order cairn_value_object_values gives them (stopping when `cb`
 * returns non-zero).
 */
struct cairn_score_fields {
    int confidence; /* 0..100; -1: absent, not an integer or out of range */
    const char *created_by_ref;
    const char *valid_from, *created, *valid_until;
    size_t valid_from_len, created_len, valid_until_len;
    bool revoked;
    int (*values)(const void *ud, cairn_value_cb cb, void *cb_ud);
    const void *values_ud;
};
/* The score of `f` as cairn_score_indicator gives it (the one both use). */
int cairn_score_fields(const struct cairn_score_fields *f,
                       const struct cairn_score_sightings *sg,
                       const struct cairn_score_opts *o, json_t **explain);

/* ---- sightings across members ------------------------------------------ */

/* The privacy threshold k by default. */
#define CAIRN_REPORT_THRESHOLD 3

/* A report's breakdown over time. */
enum cairn_report_by {
    CAIRN_REPORT_BY_NONE = 0,
    CAIRN_REPORT_BY_DAY,  /* UTC days */
    CAIRN_REPORT_BY_WEEK, /* weeks from Monday, UTC */
};

/* "day" or "week" to CAIRN_REPORT_BY_*; CAIRN_EINVAL for anything else. */
int cairn_report_by_parse(const char *s, enum cairn_report_by *out);

struct cairn_report_opts {
    const char *const *collections; /* NULL: every collection */
    size_t n_collections;
    const struct cairn_time *since; /* sightings last seen since; NULL: all */
    unsigned threshold;             /* k; 0: CAIRN_REPORT_THRESHOLD */
    /*
     * The reader is entitled to the identities: exact counts below k and
     * the organisations' ids. Otherwise a count below k is "fewer than k".
     */
    bool identities;
    /* as struct cairn_lookup_opts: what the reader may see */
    bool (*visible)(void *ud, const char *collection,
                    const struct cairn_store_row *row);
    void *visible_ud;
    struct cairn_score_opts score;
    int min_score; /* list only indicators scoring at least this; 0: all */
    size_t limit;  /* 0: all */
    /*
     * Only the sightings of this object (an indicator's id), found through
     * the correlation index instead of reading every sighting; NULL: all.
     * CAIRN_EUNSUPPORTED for a store without the index.
     */
    const char *of;
    /*
     * With DAY or WEEK, each entry's `periods`: the sightings per period
     * of their last time (`start`: the period's first day, `sightings`:
     * the sum of counts), oldest first, and the report's `by`.
     */
    enum cairn_report_by by;
};

/*
 * The objects sighted (indicators, mostly), newest sighting first:
 * `indicators`, each with `organisations` (distinct: where_sighted_refs,
 * else created_by_ref), `sightings` (the sum of counts), first_seen,
 * last_seen, per collection, `score` for indicators, and `identities`
 * for an entitled reader; `threshold`. Sightings with
 * "x_cairn_false_positive": true count apart, as
 * false_positive_organisations. CAIRN_ENOMEM, the store's errors.
 */
int cairn_report_sightings(struct cairn_store *s,
                           const struct cairn_report_opts *o, json_t **out);

/*
 * Whether user `user` is entitled to the identities behind sightings
 * (`cairn user --identities`, cairn_store_user_identities_get): what the
 * HTTP report and the console pass as `identities`. False for an unknown
 * user, a store without the flag, or on any error.
 */
bool cairn_report_entitled(struct cairn_store *s, const char *user);

#ifdef __cplusplus
}
#endif

#endif
