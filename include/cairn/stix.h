/* SPDX-License-Identifier: Apache-2.0 */
/* STIX 2.1 objects over JSON: read, validate, identify, version, mark. */
#ifndef CAIRN_STIX_H
#define CAIRN_STIX_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"

/*
 * Ownership: a STIX object is a jansson json_t. Objects passed in are
 * borrowed and never modified. Objects handed out through an out-parameter
 * carry one reference that belongs to the caller (json_decref). Readers
 * borrow the buffer they read from: it must outlive the reader.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* Longest STIX identifier cairn accepts: a 250-byte type, "--", a UUID. */
#define CAIRN_STIX_ID_MAX (250 + 2 + 36 + 1)

/* Default cap on the bytes of one object in a document: 16 MiB. */
#define CAIRN_STIX_MAX_OBJECT_LEN ((size_t)16 << 20)

/* ---- reading JSON ------------------------------------------------------ */

/*
 * Parse one JSON value from `buf`: strict UTF-8, no duplicate keys, no NUL
 * characters, nesting bounded. On failure returns CAIRN_EPARSE and fills
 * `diag` (when not NULL) with the offset, line, column and the reason.
 */
int cairn_json_parse(const char *buf, size_t len, json_t **out,
                     struct cairn_diag *diag);

/*
 * Streams the objects of a STIX document held in memory, one at a time, so
 * a bundle of any size is read with the memory of its largest object. The
 * document is either a bundle ({"type": "bundle", "objects": [...]}) or a
 * single object, which is then the only one returned.
 */
struct cairn_bundle_reader;

/* `max_object_len` caps one object's bytes; 0 means the default. */
int cairn_bundle_reader_new(const char *buf, size_t len,
                            size_t max_object_len,
                            struct cairn_bundle_reader **out);
void cairn_bundle_reader_free(struct cairn_bundle_reader *r);

/*
 * Read the next object. Returns 1 with *out set (the caller owns it) and
 * *index_out its position in "objects" (-1 for a lone object); 0 at the end
 * of the document; a negative code with `diag` filled when the document is
 * malformed or an object is over the cap. After an error the reader is
 * done: every further call returns the same error.
 */
int cairn_bundle_reader_next(struct cairn_bundle_reader *r, json_t **out,
                             long *index_out, struct cairn_diag *diag);

/*
 * Where the object the last successful cairn_bundle_reader_next returned
 * lies in the buffer: the offset of its first byte and its length, so a
 * caller can keep the text exactly as received. Zero before the first.
 */
void cairn_bundle_reader_span(const struct cairn_bundle_reader *r,
                              size_t *offset, size_t *len);

/*
 * Whether the document is a bundle, and (after the last object has been
 * read) its members other than "objects", such as "type" and "id". The
 * header is borrowed from the reader. NULL for a lone object.
 */
bool cairn_bundle_reader_is_bundle(const struct cairn_bundle_reader *r);
const json_t *cairn_bundle_reader_header(const struct cairn_bundle_reader *r);

/*
 * A reader of the "objects" list of any JSON object, such as a TAXII
 * envelope ({"more": ..., "next": ..., "objects": [...]}), whatever its
 * "type" member says: never a lone object. A document without "objects"
 * has no objects. cairn_bundle_reader_is_bundle is true, and the header
 * holds the other members once the end is reached. The other functions
 * above work on it unchanged.
 */
int cairn_envelope_reader_new(const char *buf, size_t len,
                              size_t max_object_len,
                              struct cairn_bundle_reader **out);

/* ---- validation --------------------------------------------------------- */

/*
 * Checks the text of an indicator's "pattern" whose "pattern_type" is
 * "stix": 0 when it is a valid STIX pattern, else a negative code
 * (CAIRN_EPARSE, CAIRN_EINVALID, CAIRN_ETOOBIG, CAIRN_ENOMEM) with `diag`
 * holding the parser's message, rule and its offset, line and column in
 * the pattern. The pattern module is above this one, so validation takes
 * its checker from the caller: cairn_pattern_checker (cairn/pattern.h).
 * It returns 0 (valid), 1 (valid, with a warning in `diag`) or a negative
 * code (`diag` says what is wrong).
 */
typedef int (*cairn_pattern_check_cb)(const char *text, size_t len,
                                      struct cairn_diag *diag, void *ud);

struct cairn_validate_opts {
    const char *file;      /* name to put in findings; may be NULL */
    bool strict;           /* report warnings as errors */
    size_t max_object_len; /* 0: CAIRN_STIX_MAX_OBJECT_LEN */
    cairn_diag_cb cb;      /* receives every finding; may be NULL */
    void *ud;
    /* Indicators' STIX patterns are parsed with it; NULL: not parsed. */
    cairn_pattern_check_cb check_pattern;
    void *check_pattern_ud;
};

struct cairn_validate_stats {
    size_t objects;
    size_t errors;
    size_t warnings;
};

/*
 * Check one object against every rule of STIX 2.1 that binds a producer:
 * common properties, the object's own properties, vocabularies and
 * cross-property rules. `path` is the object's JSON path in its document
 * ("objects[3]", or "" for a lone object) and prefixes every finding's
 * path. Findings go to opts->cb and are counted in `stats` (added to, not
 * reset). Returns 0 when there was no error, CAIRN_EINVALID otherwise.
 */
int cairn_stix_validate_object(const json_t *obj, const char *path,
                               const struct cairn_validate_opts *opts,
                               struct cairn_validate_stats *stats);

/*
 * Check a whole document held in memory: a bundle (its own properties and
 * every object) or a single object. Returns 0 when valid, CAIRN_EINVALID
 * when any error was found, CAIRN_EPARSE when the JSON itself is malformed
 * (reported as a finding too), or another negative code.
 */
int cairn_stix_validate_buffer(const char *buf, size_t len,
                               const struct cairn_validate_opts *opts,
                               struct cairn_validate_stats *stats);

/* ---- identity and versions --------------------------------------------- */

/* The object's "type" and "id", or NULL when missing or not strings. */
const char *cairn_stix_type(const json_t *obj);
const char *cairn_stix_id(const json_t *obj);

/*
 * Whether `id` is "<type>--<RFC 4122 UUID>" with a valid type name; with
 * `type` not NULL, the type part must be exactly `type`.
 */
bool cairn_stix_id_check(const char *id, const char *type);

/* Object category by type name. */
enum cairn_stix_kind {
    CAIRN_STIX_UNKNOWN = 0, /* not a type of STIX 2.1 (custom or wrong) */
    CAIRN_STIX_SDO,
    CAIRN_STIX_SRO,
    CAIRN_STIX_SCO,
    CAIRN_STIX_META, /* marking-definition, language-content, extension-def */
    CAIRN_STIX_BUNDLE,
};
enum cairn_stix_kind cairn_stix_kind_of(const char *type);

/*
 * The deterministic id of an SCO: "<type>--" and the UUIDv5 of the
 * canonical JSON of its id-contributing properties in the STIX namespace
 * (00abedb4-aa42-466c-9c01-fed23315a9b7), or a random UUIDv4 when it has
 * none of them. CAIRN_EINVAL when `obj` is not an SCO.
 */
int cairn_stix_sco_id(const json_t *obj, char out[CAIRN_STIX_ID_MAX]);

/*
 * The version of an object is its "modified" timestamp; objects without
 * one (SCOs, marking definitions) have a single version. Returns -1, 0 or 1
 * as `a` is older than, the same version as, or newer than `b` (same id
 * assumed). Unparsable timestamps order before every valid one.
 */
int cairn_stix_version_cmp(const json_t *a, const json_t *b);

/* The object's "modified" (else "created") time; CAIRN_ENOTFOUND if none. */
int cairn_stix_version_time(const json_t *obj, struct cairn_time *out);

/* ---- writing ------------------------------------------------------------- */

/*
 * Serialise an object or bundle as compact JSON (pretty = false) or with
 * two-space indents, members in the order they were read. The result is
 * NUL-terminated and freed with cairn_free.
 */
int cairn_stix_serialize(const json_t *obj, bool pretty, char **out,
                         size_t *len_out);

/* A new empty bundle with a random id: {"type","id","objects":[]}. */
int cairn_bundle_new(json_t **out);

/* ---- TLP 2.0 markings ------------------------------------------------------ */

enum cairn_tlp {
    CAIRN_TLP_NONE = 0, /* not a TLP marking */
    CAIRN_TLP_CLEAR,    /* TLP 1.0 WHITE maps here */
    CAIRN_TLP_GREEN,
    CAIRN_TLP_AMBER,
    CAIRN_TLP_AMBER_STRICT,
    CAIRN_TLP_RED,
};

/* The TLP level a marking-definition id stands for (TLP 2.0 and 1.0 ids). */
enum cairn_tlp cairn_tlp_of_marking(const char *marking_id);
/* "TLP:CLEAR", ..., or NULL for CAIRN_TLP_NONE. */
const char *cairn_tlp_name(enum cairn_tlp tlp);
/* The TLP 2.0 marking-definition id of a level, NULL for CAIRN_TLP_NONE. */
const char *cairn_tlp_marking_id(enum cairn_tlp tlp);
/*
 * A level by name: clear (or white), green, amber, amber+strict or red, in
 * any case, with or without "TLP:"; CAIRN_TLP_NONE for anything else.
 */
enum cairn_tlp cairn_tlp_from_name(const char *name);

#ifdef __cplusplus
}
#endif

#endif
