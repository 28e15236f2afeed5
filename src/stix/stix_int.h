/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the STIX module: the table-driven validator's types and helpers. */
#ifndef CAIRN_STIX_INT_H
#define CAIRN_STIX_INT_H

#include <stdarg.h>

#include "cairn/stix.h"

/*
 * How validation works: every object type is described by a struct
 * type_spec, a table of property specs plus an optional function for the
 * rules that tie several properties together. validate.c checks the
 * common properties, looks the type up (types.c: cairn__stix_type_lookup), walks
 * its property table, reports unknown properties that break the naming
 * rules, then calls the type's `rules` function. Adding a type is adding a
 * table; nothing in validate.c changes.
 */

/* What a property's value must be. */
enum prop_kind {
    P_STRING,       /* any JSON string */
    P_BOOL,
    P_INT,          /* JSON integer within [min, max] */
    P_FLOAT,        /* any JSON number within [min, max] */
    P_TIMESTAMP,    /* STIX timestamp string */
    P_ID,           /* identifier; `values` = allowed types (NULL: any) */
    P_VOCAB,        /* string from an open vocabulary: other values warn */
    P_ENUM,         /* string from a closed enumeration: others are errors */
    P_HEX,          /* string of hex digits, even length */
    P_BINARY,       /* base64 string */
    P_URL,          /* absolute URL string */
    P_HASHES,       /* hashes dictionary (algorithm -> value) */
    P_DICT,         /* any JSON object with valid key names */
    P_OBJECT,       /* JSON object checked by `check` */
    P_ANY,          /* anything; checked by `check` when set */
    P_LIST_STRING,  /* non-empty list of strings */
    P_LIST_ID,      /* non-empty list of identifiers (`values` as P_ID) */
    P_LIST_VOCAB,   /* non-empty list of P_VOCAB */
    P_LIST_ENUM,    /* non-empty list of P_ENUM */
    P_LIST_OBJECT,  /* non-empty list of objects, each given to `check` */
    P_KILL_CHAIN,   /* non-empty list of kill-chain-phase */
};

/* Flags of a property spec. */
#define PF_REQUIRED 0x1u   /* the property must be present */
#define PF_NONEMPTY 0x2u   /* strings must not be "" */
#define PF_DEPRECATED 0x4u /* present: warning that it is deprecated */

struct vctx;

/*
 * A property: its name, kind and flags; `values` is a NULL-terminated
 * list (vocabulary, enumeration, or the allowed types of an identifier);
 * `min`/`max` bound integers and floats when min < max; `check` is called
 * after the kind's own checks passed (for P_LIST_OBJECT once per element)
 * with the context's path pointing at the value.
 */
struct prop_spec {
    const char *name;
    enum prop_kind kind;
    unsigned flags;
    const char *const *values;
    double min, max;
    void (*check)(struct vctx *v, const json_t *value);
};

struct type_spec {
    const char *type;
    enum cairn_stix_kind kind;
    const struct prop_spec *props; /* ends with an entry whose name is NULL */
    /* SCOs: the id-contributing properties (NULL-terminated), or NULL. */
    const char *const *id_props;
    /* Rules across properties; called after the property checks. */
    void (*rules)(struct vctx *v, const json_t *obj);
};

/* The validation context: where we are and where findings go. */
struct vctx {
    const struct cairn_validate_opts *opts;
    struct cairn_validate_stats *stats;
    const char *object_id; /* id of the object being checked, may be "" */
    char path[256];        /* current JSON path */
    size_t path_len;
    bool truncated;        /* path did not fit */
    unsigned custom;       /* inside a custom property: errors are warnings */
};

/*
 * Report a finding at the current path (plus `.prop` when prop is not
 * NULL). `rule` is the stable rule name; warnings become errors with
 * opts->strict.
 */
void cairn__v_error(struct vctx *v, const char *prop, const char *rule,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void cairn__v_warn(struct vctx *v, const char *prop, const char *rule,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Path stack: push returns a mark that pop restores. */
size_t cairn__v_push_key(struct vctx *v, const char *key);
size_t cairn__v_push_index(struct vctx *v, size_t index);
void cairn__v_pop(struct vctx *v, size_t mark);

/*
 * Check `value` against `spec` at the current path (the caller has pushed
 * the property name). Used by validate.c for tables, and by `check`
 * functions for nested structures (an extension's properties, a MIME part).
 */
void cairn__v_check_prop(struct vctx *v, const struct prop_spec *spec,
                  const json_t *value);

/*
 * Check every member of `obj` against the NULL-terminated table `props`:
 * required ones present, present ones well-typed; members not in the table
 * are passed to cairn__v_check_custom_name unless `closed` is true, in which case
 * they are errors.
 */
void cairn__v_check_props(struct vctx *v, const json_t *obj,
                   const struct prop_spec *props, bool closed);

/* Custom property names: a-z, 0-9, '_', 3 to 250 characters. */
void cairn__v_check_custom_name(struct vctx *v, const char *name);

/* Helpers for rules functions. */
bool cairn__v_get_time(const json_t *obj, const char *key, struct cairn_time *out);
/* Error when a is after b (both present and valid): "`ka` must not be later than `kb`". */
void cairn__v_time_order(struct vctx *v, const json_t *obj, const char *ka,
                  const char *kb, bool strictly_before);
/* Error unless at least one of the NULL-terminated keys is present. */
void cairn__v_require_one_of(struct vctx *v, const json_t *obj,
                      const char *const *keys);

/* Type tables: sdo.c, sco.c and meta.c each define theirs. */
extern const struct type_spec *const cairn__stix_sdo_types[];  /* NULL-terminated */
extern const struct type_spec *const cairn__stix_sco_types[];  /* NULL-terminated */
extern const struct type_spec *const cairn__stix_meta_types[]; /* NULL-terminated */
const struct type_spec *cairn__stix_type_lookup(const char *type);

/* Shared vocabularies (vocab.c), NULL-terminated. */
extern const char *const cairn__stix_hash_algorithms[];

/* ---- additions (validate.c / vocab.c); nothing above changes ---------- */

/*
 * Every STIX 2.1 vocabulary (stix_vocab_*: open) and enumeration (stix_enum_*:
 * closed),
 * NULL-terminated, named after the specification's section 10 and 6.
 */
extern const char *const cairn__stix_vocab_account_type[];
extern const char *const cairn__stix_vocab_attack_motivation[];
extern const char *const cairn__stix_vocab_attack_resource_level[];
extern const char *const cairn__stix_enum_encryption_algorithm[];
extern const char *const cairn__stix_enum_extension_type[];
extern const char *const cairn__stix_vocab_grouping_context[];
extern const char *const cairn__stix_vocab_identity_class[];
extern const char *const cairn__stix_vocab_implementation_language[];
extern const char *const cairn__stix_vocab_indicator_type[];
extern const char *const cairn__stix_vocab_industry_sector[];
extern const char *const cairn__stix_vocab_infrastructure_type[];
extern const char *const cairn__stix_vocab_malware_result[];
extern const char *const cairn__stix_vocab_malware_capabilities[];
extern const char *const cairn__stix_vocab_malware_type[];
extern const char *const cairn__stix_enum_network_socket_address_family[];
extern const char *const cairn__stix_enum_network_socket_type[];
extern const char *const cairn__stix_enum_opinion[];
extern const char *const cairn__stix_vocab_pattern_type[];
extern const char *const cairn__stix_vocab_processor_architecture[];
extern const char *const cairn__stix_vocab_region[];
extern const char *const cairn__stix_vocab_report_type[];
extern const char *const cairn__stix_vocab_threat_actor_type[];
extern const char *const cairn__stix_vocab_threat_actor_role[];
extern const char *const cairn__stix_vocab_threat_actor_sophistication[];
extern const char *const cairn__stix_vocab_tool_type[];
extern const char *const cairn__stix_enum_windows_integrity_level[];
extern const char *const cairn__stix_vocab_windows_pebinary_type[];
extern const char *const cairn__stix_enum_windows_registry_datatype[];
extern const char *const cairn__stix_enum_windows_service_start_type[];
extern const char *const cairn__stix_enum_windows_service_type[];
extern const char *const cairn__stix_enum_windows_service_status[];

/*
 * The specification's name of a vocabulary list above ("malware-type-ov"),
 * for messages; NULL for a list that is not one of them.
 */
const char *cairn__stix_vocab_name(const char *const *values);

/* Whether `s` is in the NULL-terminated list. */
bool cairn__stix_in_list(const char *const *list, const char *s);

/*
 * Predefined extension names ("archive-ext", ...) of an SCO type, as a
 * NULL-terminated list, or NULL when the type has none.
 */
const char *const *cairn__stix_predefined_extensions(const char *type);

/*
 * Type names: a-z, 0-9 and '-', 3 to 250 bytes, starting with a letter,
 * without "--".
 */
bool cairn__stix_type_name_ok(const char *s, size_t len);

/*
 * Line and column (1-based, columns in bytes) of byte `offset` of `buf`.
 */
void cairn__stix_line_col(const char *buf, size_t len, size_t offset,
                   unsigned *line, unsigned *column);

/*
 * Turn jansson's error into `diag` (rule "json-syntax"); `base` is the
 * offset in `buf` (the whole document) where jansson started reading.
 * Returns CAIRN_EPARSE, or CAIRN_ENOMEM when jansson ran out of memory.
 */
int cairn__stix_json_error_diag(const json_error_t *err, const char *buf,
                         size_t len, size_t base, struct cairn_diag *diag);

/* The TLP 2.0 extension's id (extension-definition--60a3c5c5-...). */
#define STIX_TLP2_EXTENSION                                                  \
    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

/*
 * Whether `marking_id` is a fixed TLP marking: returns 1 (TLP 1.0) or 2
 * (TLP 2.0) and sets *level ("white", "amber+strict", ...), else 0.
 */
int cairn__stix_tlp_lookup(const char *marking_id, const char **level);

/*
 * Parse one JSON value (any type) at the start of `buf` quickly, with the
 * rules of JSON_REJECT_DUPLICATES and no NUL; sets *used to the bytes read.
 * NULL when the input is anything but plain and valid: then parse it
 * with jansson, which reports the error. Always NULL when the environment
 * holds CAIRN_JSON_FAST=0 (docs/validate.md).
 */
json_t *cairn__stix_json_fast(const char *buf, size_t len, size_t *used);

/* Parse a JSON string holding a STIX timestamp; false if it is not one. */
bool cairn__stix_time_of(const json_t *value, struct cairn_time *out);

#endif
