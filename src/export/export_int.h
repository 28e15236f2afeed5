/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the export module: indicators held, values, sids, renderers. */
#ifndef CAIRN_EXPORT_INT_H
#define CAIRN_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * One indicator's part of the file, rendered once (when the version is
 * read) and kept, so that a rewrite copies it: pieces of text, each with
 * what the assembly does with it (RPZ: written once per owner name; CSV:
 * the score, which changes with time, goes after it; MISP and STIX:
 * separated by commas).
 */
struct piece {
    uint64_t key;     /* RPZ owner name (0: none) */
    uint32_t len;
    uint32_t entries : 24; /* entries (lines, rules, records) it holds */
    uint32_t flags : 8;    /* PIECE_* */
};

enum {
    PIECE_LEAD = 1,  /* written only before another piece of the entry */
    PIECE_SCORE = 2, /* CSV: ",SCORE" follows */
    PIECE_ITEM = 4,  /* MISP, STIX: a list item (comma before all but one) */
};

/* What the rendered part of an indicator is. */
enum {
    CLS_FILTERED = 1, /* the types leave nothing */
    CLS_LISTED,       /* every value is on a warninglist */
    CLS_WHOLE_NO,     /* the format cannot express it at all */
    CLS_RENDERED,     /* pieces (maybe none: then unsupported) */
};

struct rendered {
    size_t blk; /* bytes of the block */
    uint8_t cls;
    bool partial;
    uint32_t n_pieces;
    uint32_t listed_values; /* values left out as warninglisted */
    uint32_t n_listed_why;  /* the first n_why are about listed values */
    uint32_t n_why;
    size_t text_len;
    size_t why_len;
    struct piece *pieces; /* these point into the same block */
    char *text;
    char *why; /* n_why sentences, each NUL-ended */
    char *imports; /* YARA: the entry's import lines */
};

/* What only some indicators or formats need of an entry (its `x`). */
struct entry_x {
    const char *why;    /* ENT_PARTIAL, ENT_OTHER, ENT_INVALID, yara refused */
    const char *rules;   /* ENT_YARA: the rules renamed (yara format) */
    const char *imports; /* ENT_YARA: its import lines */
    const char *json;    /* the object's JSON (stix format only) */
    size_t json_len;
    struct cairn_time until;      /* with the entry's has_until */
    const char *valid_until_text; /* as written, for csv; may be NULL */
    /* what cairn_score_indicator reads, when the export scores (min_score,
     * csv); NULL otherwise */
    const char *pattern, *pattern_type, *valid_from, *created;
    size_t pattern_len;
    int confidence; /* -1: none or not an integer */
    /* the score, kept for SCORE_KEEP_S (it moves by days) */
    bool has_score;
    int score;
    int64_t score_at;
};

/*
 * The latest version of one indicator, with what the format needs. One
 * allocation: the strings follow the struct. What most indicators of most
 * formats do without is in `x` (NULL when none of it is), so that a
 * million entries touch as little memory as they can.
 */
struct entry {
    uint32_t blk;   /* bytes of the block */
    uint32_t n_vals;
    uint64_t idh; /* hash of the id */
    struct cairn_time version; /* modified, else created */
    uint64_t ver_hash;         /* of the version text: rev raised on change */
    uint32_t n_listed; /* values with `listed` */
    uint8_t kind;      /* enum ent_kind */
    bool has_until;    /* x->until */
    bool revoked;
    bool simple; /* its pattern was read by simple_walk (export.c) */
    char id[64];
    const char *name;   /* may be NULL */
    const char *text;   /* values' text */
    struct xval *vals;
    struct entry_x *x;
    struct rendered *r; /* NULL until rendered */
};

static inline const char *ent_why(const struct entry *e)
{
    return e->x != NULL ? e->x->why : NULL;
}

static inline const char *ent_rules(const struct entry *e)
{
    return e->x != NULL ? e->x->rules : NULL;
}

static inline const char *ent_imports(const struct entry *e)
{
    return e->x != NULL ? e->x->imports : NULL;
}

static inline const char *ent_valid_until_text(const struct entry *e)
{
    return e->x != NULL ? e->x->valid_until_text : NULL;
}

/* The highest sid given (a state file's are below it). */
#define EXPORT_SID_MAX 2000000000u

/* Sids of rules by key (indicator id and rule), with their rev. */
struct sid_rec {
    uint64_t key;
    uint64_t ver;
    uint32_t sid;
    uint32_t rev;
};

struct slab_blk;

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
    struct slab_blk *slab; /* where entries and rendered parts live */
    size_t slab_live, slab_waste;
    uint64_t *map; /* id hash's high 32 bits << 32 | index + 1 */
    size_t map_cap;
    const char *hint_id; /* the id of the row at hand, and its hash */
    uint64_t hint_h;
    struct cairn_time *added; /* per collection: last date_added read */
    bool *have_added;
    struct sidmap sids;
    struct cairn_buf scratch; /* reused while reading and rendering */
    struct cairn_buf scratch2;
    struct cairn_buf once; /* opts.once: the rendered part at hand */
    struct xval *vw_vals; /* the values of the pattern at hand */
    size_t vw_cap;
    struct piece *pcs; /* the pieces of the entry being rendered */
    size_t pcs_cap;
    size_t last_len; /* of the last file rendered: the next one's room */
    bool no_fast_path; /* tests: every pattern through the parser */
};

uint64_t cairn__export_hash(const void *p, size_t len, uint64_t seed);

/* One member of a JSON object, as read in place (scan.c). */
struct cairn__export_member {
    const char *key; /* between the quotes, escapes as written */
    size_t key_len;
    bool key_esc;
    char kind; /* 's' string, 'n' number, 't', 'f', '0' null, 'o', 'a' */
    const char *v; /* a string's contents (escapes as written), else the text */
    size_t v_len;
    bool v_esc;
};
typedef int (*cairn__export_member_cb)(const struct cairn__export_member *m,
                                       void *ud);
/* Call `cb` with each member of the JSON object `json`: 0, CAIRN_EINVAL
 * when the text is not one JSON object, or what `cb` returned. */
int cairn__export_json_scan(const char *json, size_t len,
                            cairn__export_member_cb cb, void *ud);
/* The decoded bytes of a string the scan accepted (at most `len`). */
size_t cairn__export_json_unescape(const char *s, size_t len, char *out);

/* Parse one indicator object's JSON into a new entry. */
int cairn__export_entry_new(struct cairn_export *ex, const char *json,
                            size_t len, struct entry **out);
/* Entries and rendered parts: allocated in the export's blocks (slab.c),
 * freed by counting, compacted when more is wasted than live (force:
 * always). */
void *cairn__export_alloc(struct cairn_export *ex, size_t n);
void cairn__export_entry_free(struct cairn_export *ex, struct entry *e);
void cairn__export_rendered_free(struct cairn_export *ex, struct rendered *r);
void cairn__export_slab_free(struct cairn_export *ex);
int cairn__export_compact(struct cairn_export *ex, bool force);
/* Ask for huge pages inside [p, p+len) (fewer page faults); a hint. */
void cairn__export_hugepages(void *p, size_t len);

/* The filter: values, and whole indicators (types, warninglists). */
bool cairn__export_keep_value(const struct cairn_export *ex,
                              const struct entry *e, const struct xval *v);
bool cairn__export_keep_entry(const struct cairn_export *ex,
                              const struct entry *e);
/* Whether the export scores its indicators (min_score, or csv). */
bool cairn__export_scores(const struct cairn_export *ex);
/* The score of `e` as of `now` (0..100), or -1 when it has none. */
int cairn__export_score(const struct cairn_export *ex, struct entry *e,
                        const struct cairn_time *now);

/* Sid map: load, look up (assigning), save. */
int cairn__export_sids_load(struct sidmap *m, const char *path,
                            struct cairn_diag *diag);
int cairn__export_sids_parse(struct sidmap *m, const char *text, size_t len,
                             struct cairn_diag *diag);
/* Room for `n` sids in all (a hint: the map grows anyway). */
int cairn__export_sids_reserve(struct sidmap *m, size_t n);
int cairn__export_sids_get(struct sidmap *m, uint64_t key, uint64_t ver,
                           uint32_t *sid, uint32_t *rev);
int cairn__export_sids_save(const struct sidmap *m, const char *path);
void cairn__export_sids_free(struct sidmap *m);

/* JSON string (quotes included) into `b`. */
int cairn__export_json_str(struct cairn_buf *b, const char *s, size_t len);

/* Compile YARA source with libyara: 0, or CAIRN_EINVALID with `why`. */
int cairn__export_yara_compile(const char *src, char *why, size_t why_len);

#endif
