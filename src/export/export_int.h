/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the export module: indicators held, values, sids, renderers. */
#ifndef CAIRN_EXPORT_INT_H
#define CAIRN_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/export.h"
#include "cairn/values.h"

/* What an indicator is for the export. */
enum ent_kind {
    ENT_VALUES,   /* a STIX pattern that is a list of values ORed */
    ENT_PARTIAL,  /* a STIX pattern no list of values expresses */
    ENT_YARA,     /* pattern_type yara */
    ENT_OTHER,    /* another pattern_type */
    ENT_REVOKED,
    ENT_INVALID,  /* no pattern, a pattern that does not parse */
};

/* One value of an indicator: type and normalised text. */
struct xval {
    uint8_t type; /* enum cairn_ioc_type; CAIRN_IOC_IPV4/6 may be CIDR */
    bool listed;  /* on one of the export's warninglists */
    uint32_t off; /* into the entry's text */
    uint32_t len;
};

/* The latest version of one indicator, with what the format needs. */
struct entry {
    char id[64];
    struct cairn_time version; /* modified, else created */
    uint64_t ver_hash;         /* of the version text: rev raised on change */
    bool has_until;
    struct cairn_time until;
    uint8_t kind; /* enum ent_kind */
    char *name;   /* may be NULL */
    char *why;    /* ENT_PARTIAL, ENT_OTHER, ENT_INVALID, yara refused */
    char *text;   /* values' text */
    struct xval *vals;
    uint32_t n_vals;
    char *rules;   /* ENT_YARA: the rules renamed (for the yara format) */
    char *imports; /* ENT_YARA: its import lines */
    char *json;    /* the object's JSON (stix format only) */
    size_t json_len;
    char *valid_until_text; /* as written, for csv and misp; may be NULL */
    /* what cairn_score_indicator reads of the object, when the export
     * scores (min_score, csv); NULL otherwise */
    json_t *score_obj;
    uint32_t n_listed; /* values with `listed` */
};

/* Sids of rules by key (indicator id and rule), with their rev. */
struct sid_rec {
    uint64_t key;
    uint64_t ver;
    uint32_t sid;
    uint32_t rev;
};

struct sidmap {
    struct sid_rec *recs; /* open addressing; key 0 is empty */
    size_t cap, n;
    uint32_t next;
    uint64_t serial;
    bool dirty;
};

struct cairn_export {
    struct cairn_export_opts o; /* strings copied below */
    char **collections;
    char **types;
    char *state_path, *source, *zone;
    bool type_ok[CAIRN_IOC_TYPE_COUNT + 1]; /* [COUNT]: yara */
    bool any_type;
    struct entry **ents; /* in the order first read */
    size_t n_ents, cap_ents;
    uint32_t *map; /* id hash -> index + 1 */
    size_t map_cap;
    struct cairn_time *added; /* per collection: last date_added read */
    bool *have_added;
    struct sidmap sids;
};

uint64_t cairn__export_hash(const void *p, size_t len, uint64_t seed);

/* Parse one indicator object's JSON into a new entry. */
int cairn__export_entry_new(const struct cairn_export *ex, const char *json,
                            size_t len, struct entry **out);
void cairn__export_entry_free(struct entry *e);

/* The filter: values, and whole indicators (types, warninglists). */
bool cairn__export_keep_value(const struct cairn_export *ex,
                              const struct entry *e, const struct xval *v);
bool cairn__export_keep_entry(const struct cairn_export *ex,
                              const struct entry *e);
/* Whether the export scores its indicators (min_score, or csv). */
bool cairn__export_scores(const struct cairn_export *ex);
/* The score of `e` as of `now` (0..100), or -1 when it has none. */
int cairn__export_score(const struct cairn_export *ex, const struct entry *e,
                        const struct cairn_time *now);

/* Sid map: load, look up (assigning), save. */
int cairn__export_sids_load(struct sidmap *m, const char *path,
                            struct cairn_diag *diag);
int cairn__export_sids_parse(struct sidmap *m, const char *text, size_t len,
                             struct cairn_diag *diag);
int cairn__export_sids_get(struct sidmap *m, uint64_t key, uint64_t ver,
                           uint32_t *sid, uint32_t *rev);
int cairn__export_sids_save(const struct sidmap *m, const char *path);
void cairn__export_sids_free(struct sidmap *m);

/* JSON string (quotes included) into `b`. */
int cairn__export_json_str(struct cairn_buf *b, const char *s, size_t len);

/* Compile YARA source with libyara: 0, or CAIRN_EINVALID with `why`. */
int cairn__export_yara_compile(const char *src, char *why, size_t why_len);

#endif
