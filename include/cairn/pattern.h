/* SPDX-License-Identifier: Apache-2.0 */
/* STIX 2.1 patterns: parse, check, print, and match against observations. */
#ifndef CAIRN_PATTERN_H
#define CAIRN_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"

/*
 * Ownership: a struct cairn_pattern owns its syntax tree (one arena) and its
 * compiled regular expressions; once parsed it is immutable, and any number
 * of threads may match it at the same time, each with its own scratch. An
 * observation set holds one reference to every JSON document added to it
 * and borrows nothing else; it is read-only while being matched, so threads
 * may share it too. Strings handed in are borrowed for the call only.
 * Everything handed out through an out-parameter belongs to the caller and
 * is released with the matching _free or _release; each accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- parsing ------------------------------------------------------------- */

/* Defaults of the limits below. */
#define CAIRN_PATTERN_MAX_LEN         ((size_t)64 << 10)
#define CAIRN_PATTERN_MAX_DEPTH       256u
#define CAIRN_PATTERN_MAX_COMPARISONS 4096u

struct cairn_pattern_opts {
    size_t max_len;           /* bytes of pattern text; 0: the default */
    unsigned max_depth;       /* nesting of ( [ and operators; 0: default */
    unsigned max_comparisons; /* comparison expressions; 0: the default */
};

struct cairn_pattern;

/*
 * Parse and check `len` bytes of pattern text (`opts` may be NULL). On
 * success *out is the compiled pattern. A syntax error returns
 * CAIRN_EPARSE, a pattern that is well-formed but breaks a rule (a bad
 * type name, START after STOP, a regex that does not compile, ...)
 * CAIRN_EINVALID, a pattern over a limit CAIRN_ETOOBIG; `diag` (may be
 * NULL) then has line, column, offset, a rule name and a message such as
 * "expected ']' to close the observation, found 'AND'".
 */
int cairn_pattern_parse(const char *text, size_t len,
                        const struct cairn_pattern_opts *opts,
                        struct cairn_pattern **out, struct cairn_diag *diag);
void cairn_pattern_free(struct cairn_pattern *p);

/*
 * Whether every object type and first property name of `p` follows the
 * STIX naming rules (types: lowercase letters, digits and inner hyphens;
 * properties: lowercase letters, digits and '_'). The pattern grammar
 * accepts more (custom types such as "x_whatever", quoted names), and so
 * does cairn_pattern_parse; strict validation warns with this. Returns
 * true when all names follow the rules; otherwise false, with `diag` (may
 * be NULL) set to a warning naming the first one and its line and column.
 */
bool cairn_pattern_check_names(const struct cairn_pattern *p,
                               struct cairn_diag *diag);

/*
 * The checker STIX validation lends from this module (a
 * cairn_pattern_check_cb of cairn/stix.h, for the check_pattern member
 * of struct cairn_validate_opts): parses `len` bytes with the default
 * limits and returns what cairn_pattern_parse returns, with `diag`
 * filled on failure; 1 when the pattern parses but uses object types or
 * properties outside STIX's naming rules (cairn_pattern_check_names: a
 * warning, in `diag`). `ud` is unused.
 */
int cairn_pattern_checker(const char *text, size_t len,
                          struct cairn_diag *diag, void *ud);

/*
 * The canonical text of a pattern: single spaces, no redundant
 * parentheses, escapes and literals in one spelling. Parsing the result
 * gives the same tree. Free *out with cairn_free.
 */
int cairn_pattern_print(const struct cairn_pattern *p, char **out,
                        size_t *len_out);

/* Number of comparison and observation expressions in the pattern. */
size_t cairn_pattern_comparison_count(const struct cairn_pattern *p);
size_t cairn_pattern_observation_count(const struct cairn_pattern *p);

/* ---- observations -------------------------------------------------------- */

/*
 * A set of observations: each is one observed-data object (with its
 * first_observed, last_observed and number_observed) and the SCOs it refers
 * to through object_refs, or through the deprecated embedded "objects"
 * dictionary; or one SCO with a time given by the caller.
 */
struct cairn_observation_set;

int cairn_observations_new(struct cairn_observation_set **out);
void cairn_observations_free(struct cairn_observation_set *set);

/*
 * Add the observations of one JSON document: a bundle, a single object, or
 * an array of those. Every observed-data object becomes an observation. A
 * document with no observed-data at all makes each of its SCOs an
 * observation of its own, without a time. References resolve to any object
 * of any document of the set. CAIRN_EINVALID (with `diag`) when an
 * observed-data object lacks valid times or number_observed, or a reference
 * of object_refs is not in the set once `cairn_observations_seal` runs.
 */
int cairn_observations_add_json(struct cairn_observation_set *set, json_t *doc,
                                struct cairn_diag *diag);

/*
 * Add one SCO as an observation seen `count` times between `first` and
 * `last` (both NULL: no time; then WITHIN, START/STOP and FOLLOWEDBY never
 * hold for it). References in `sco` resolve like those of documents.
 */
int cairn_observations_add_sco(struct cairn_observation_set *set, json_t *sco,
                               const struct cairn_time *first,
                               const struct cairn_time *last, uint64_t count);

/*
 * Index the set for matching; call after the last add and before matching
 * (further adds need another seal). CAIRN_EINVALID with `diag` when an
 * object_refs entry names an object that is not in the set.
 */
int cairn_observations_seal(struct cairn_observation_set *set,
                            struct cairn_diag *diag);

size_t cairn_observations_count(const struct cairn_observation_set *set);
/* The observed-data (or SCO) id of observation `i`, or NULL. */
const char *cairn_observations_id(const struct cairn_observation_set *set,
                                  size_t i);

/* ---- matching ------------------------------------------------------------ */

/*
 * Per-thread working memory for matching: regex match data and room for
 * partial matches. Create one per thread and reuse it across calls.
 */
struct cairn_pattern_scratch;

int cairn_pattern_scratch_new(struct cairn_pattern_scratch **out);
void cairn_pattern_scratch_free(struct cairn_pattern_scratch *s);

struct cairn_match_result {
    bool matched;
    /*
     * The search for combinations of observations (AND, FOLLOWEDBY,
     * REPEATS between observations) is bounded; `truncated` is set when a
     * bound was reached, in which case a "no match" may be a miss and the
     * list of observations may be incomplete. See docs/patterns.md.
     */
    bool truncated;
    size_t *indexes; /* observations used by the matches found, ascending */
    size_t n_indexes;
    /*
     * Property values compared with a timestamp literal (t'...') that are
     * strings but not STIX timestamps: such a comparison is false whatever
     * the operator and NOT (as for a missing property), and the data is
     * probably wrong, so callers report it. `first_invalid` is the
     * observation of the first one.
     */
    size_t n_invalid;
    size_t first_invalid;
};

/*
 * Match a pattern against a sealed set. `scratch` may be NULL (one is made
 * for the call). Fills `result`, whose memory the caller releases with
 * cairn_match_result_release. CAIRN_EINVAL if the set is not sealed,
 * CAIRN_ENOMEM.
 */
int cairn_pattern_match(const struct cairn_pattern *p,
                        const struct cairn_observation_set *set,
                        struct cairn_pattern_scratch *scratch,
                        struct cairn_match_result *result);
void cairn_match_result_release(struct cairn_match_result *result);

/*
 * Whether the comparison expression of a pattern that is one observation
 * expression with no qualifier ("[...]") holds for observation `i`: the
 * cheap test a hunter runs per event. CAIRN_EUNSUPPORTED for any other
 * pattern; otherwise 1 or 0.
 */
int cairn_pattern_test_one(const struct cairn_pattern *p,
                           const struct cairn_observation_set *set, size_t i,
                           struct cairn_pattern_scratch *scratch);

/* ---- walking the tree ------------------------------------------------------
 */

/* Comparison operators, as written (NOT is the `negated` flag). */
enum cairn_pattern_op {
    CAIRN_PATTERN_OP_EQ,
    CAIRN_PATTERN_OP_NE,
    CAIRN_PATTERN_OP_LT,
    CAIRN_PATTERN_OP_LE,
    CAIRN_PATTERN_OP_GT,
    CAIRN_PATTERN_OP_GE,
    CAIRN_PATTERN_OP_IN,
    CAIRN_PATTERN_OP_LIKE,
    CAIRN_PATTERN_OP_MATCHES,
    CAIRN_PATTERN_OP_ISSUBSET,
    CAIRN_PATTERN_OP_ISSUPERSET,
    CAIRN_PATTERN_OP_EXISTS,
};

enum cairn_pattern_lit_kind {
    CAIRN_PATTERN_LIT_INT,
    CAIRN_PATTERN_LIT_FLOAT,
    CAIRN_PATTERN_LIT_STRING,
    CAIRN_PATTERN_LIT_BOOL,
    CAIRN_PATTERN_LIT_BINARY,
    CAIRN_PATTERN_LIT_HEX,
    CAIRN_PATTERN_LIT_TIME,
};

/* A literal; `s` (string: UTF-8; binary, hex: the bytes) is not NUL-ended. */
struct cairn_pattern_literal {
    enum cairn_pattern_lit_kind kind;
    const char *s;
    size_t len;
    int64_t i;
    double f;
    bool b;
    struct cairn_time t;
};

/*
 * The nodes of a pattern in postfix order. A comparison pushes its truth;
 * AND/OR pop two and push one; OBSERVATION closes one "[...]" (pops the
 * comparison value, pushes an observation); OBS_AND, OBS_OR and FOLLOWEDBY
 * pop two observations and push one; the qualifiers WITHIN, REPEATS and
 * START/STOP pop one and push one.
 */
enum cairn_pattern_node {
    CAIRN_PATTERN_NODE_CMP,
    CAIRN_PATTERN_NODE_AND,
    CAIRN_PATTERN_NODE_OR,
    CAIRN_PATTERN_NODE_OBSERVATION,
    CAIRN_PATTERN_NODE_OBS_AND,
    CAIRN_PATTERN_NODE_OBS_OR,
    CAIRN_PATTERN_NODE_FOLLOWEDBY,
    CAIRN_PATTERN_NODE_WITHIN,
    CAIRN_PATTERN_NODE_REPEATS,
    CAIRN_PATTERN_NODE_STARTSTOP,
};

/*
 * One node as seen by a walk. For CAIRN_PATTERN_NODE_CMP: `object_type`
 * ("domain-name"), `path` (the property path after the colon, NUL-ended:
 * keys joined by '.', a key holding '.', '[' or '\'' written in single
 * quotes, list steps as "[2]" or "[*]", e.g. "hashes.SHA-256",
 * "dst_ref.value"), the operator, NOT, and `n_literals` literals (several
 * for IN, none for EXISTS) read with cairn_pattern_walk_literal. Strings
 * are valid during the callback only.
 */
struct cairn_pattern_walk_item {
    enum cairn_pattern_node node;
    const char *object_type;
    const char *path;
    enum cairn_pattern_op op;
    bool negated;
    size_t n_literals;
    const void *internal_; /* for cairn_pattern_walk_literal */
};

/* Return 0 to go on; any other value stops the walk and is returned. */
typedef int (*cairn_pattern_walk_cb)(const struct cairn_pattern_walk_item *it,
                                     void *ud);

/*
 * Call `cb` for every node of `p` in postfix order (see above). Returns 0,
 * the callback's non-zero value, or CAIRN_ETOOBIG when a property path
 * does not fit in 1024 bytes. Allocates nothing.
 */
int cairn_pattern_walk(const struct cairn_pattern *p, cairn_pattern_walk_cb cb,
                       void *ud);

/* Literal `i` (< it->n_literals) of a comparison item; false if none. */
bool cairn_pattern_walk_literal(const struct cairn_pattern_walk_item *it,
                                size_t i, struct cairn_pattern_literal *out);

#ifdef __cplusplus
}
#endif

#endif
