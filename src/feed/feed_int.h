/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the feed converters: the shared context and object builders. */
#ifndef CAIRN_FEED_INT_H
#define CAIRN_FEED_INT_H

#include <stdarg.h>

#include "cairn/feed.h"
#include "cairn/hunt.h"

/*
 * feed.c holds what every converter shares: the context with the ids
 * already handed out, validation before emitting, ids, times, patterns
 * and markings. misp.c reads MISP events and feed directories; csv.c
 * reads CSV (mapped and FireEye) and plain lists.
 */

/* Namespace of the ids cairn derives from feed records (fixed, random). */
#define FEED_NAMESPACE "75593a48-dcbd-4f5c-8c2f-3f46c480a7bd"
/*
 * Namespace shared with the hunt module: list entries ("TYPE:VALUE") and
 * identities named on the command line get the same ids there and here.
 */
#define FEED_LIST_NAMESPACE "86032b0c-a25e-4291-9629-920717bb7b26"

/*
 * Objects cairn derives from a name (an organisation, a malware family)
 * carry this fixed version, so that every import produces the same object
 * and a store sees a re-import as "already present", not as a conflict.
 */
#define FEED_FIXED_VERSION "1970-01-01T00:00:00.000Z"

/* Longest value or cell that is converted (bytes). */
#define FEED_VALUE_MAX 8190

/* Returned by cairn__feed_emit when the object was reported and not emitted. */
#define FEED_REJECTED 2

struct cairn_feed {
    struct cairn_feed_opts o;
    struct cairn_time now;
    json_t *seen; /* ids handed out: id -> null */
    struct cairn_feed_stats st;
    const char *input; /* the input being converted, for findings */
    unsigned line;     /* its record being converted, or 0 */
};

/* "TYPE--" and the UUIDv5 of `name` in namespace `ns`. */
int cairn__feed_id(const char *type, const char *ns, const char *name, size_t len,
            char out[CAIRN_STIX_ID_MAX]);

/*
 * Report one skipped record (counted) at `line` of the current input
 * (0: none), about `object_id` (may be NULL).
 */
void cairn__feed_skip(struct cairn_feed *f, unsigned line, const char *object_id,
               const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same, not counted: for findings about what was converted anyway. */
void cairn__feed_note(struct cairn_feed *f, enum cairn_severity sev, unsigned line,
               const char *object_id, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * Validate and hand out `obj` (consumed). 0: emitted; 1: its id was
 * handed out before; FEED_REJECTED: invalid, reported and counted as
 * skipped; or a negative error.
 */
int cairn__feed_emit(struct cairn_feed *f, json_t *obj);

/* Whether an id was handed out. */
bool cairn__feed_seen(const struct cairn_feed *f, const char *id);

/* A STIX timestamp with milliseconds into `buf` (at least 40 bytes). */
void cairn__feed_time_str(const struct cairn_time *t, char *buf, size_t len);

/*
 * A time as feeds write it: RFC 3339 (any offset), "YYYY-MM-DD HH:MM:SS",
 * "YYYY-MM-DD", or seconds since 1970. CAIRN_EINVAL otherwise.
 */
int cairn__feed_parse_time(const char *s, size_t len, struct cairn_time *out);

/* Append `s` as a pattern string literal, quotes and backslashes escaped. */
int cairn__feed_pattern_quote(struct cairn_buf *b, const char *s, size_t len);

/*
 * Append one comparison "OBJECT:PATH = 'value'" for a value of a cairn
 * type (CIDRs compare with ISSUBSET). CAIRN_EINVAL for a type with none.
 */
int cairn__feed_pattern_cmp(struct cairn_buf *b, enum cairn_ioc_type type,
                     const char *v, size_t len);

/* An SCO (new reference) for a value of a cairn type, with its id set. */
int cairn__feed_sco(enum cairn_ioc_type type, const char *v, size_t len, json_t **out);

/* Set "id" of an SCO to its deterministic id. */
int cairn__feed_sco_set_id(json_t *sco);

/* Set object_marking_refs to `tlp`, or to the default when NONE. */
int cairn__feed_mark(const struct cairn_feed *f, json_t *obj, enum cairn_tlp tlp);

/* The TLP level of a tag such as "tlp:amber" (NONE if it is not one). */
enum cairn_tlp cairn__feed_tlp_of_tag(const char *tag);

/*
 * The producer identity: opts.identity, else `fallback` (may be NULL),
 * emitted on first use. `id` is "" when there is none.
 */
int cairn__feed_producer(struct cairn_feed *f, const char *fallback,
                  char id[CAIRN_STIX_ID_MAX]);

/* An identity (organisation) with a fixed version; emitted once. */
int cairn__feed_identity(struct cairn_feed *f, const char *id, const char *name);

/* A cairn type from its name ("domain", "ipv4", "sha256", ...). */
enum cairn_ioc_type cairn__feed_type_by_name(const char *s, size_t len);

/*
 * Refang and check `v` against `type` (UNKNOWN: detect). On success the
 * normalised value is in `out` (FEED_VALUE_MAX + 3 bytes) and the type
 * returned; CAIRN_IOC_UNKNOWN when the value is not of that type.
 */
enum cairn_ioc_type cairn__feed_typed_value(enum cairn_ioc_type type, const char *v,
                                     size_t len, char *out, size_t *out_len);

/* Whether `len` bytes are UTF-8 without NUL, as JSON strings need. */
bool cairn__feed_utf8_ok(const char *s, size_t len);

/* Set a string member from `len` bytes; CAIRN_EINVAL if not UTF-8. */
int cairn__feed_set_strn(json_t *obj, const char *key, const char *s, size_t len);
int cairn__feed_set_str(json_t *obj, const char *key, const char *s);

/*
 * The detection members every indicator cairn makes carries: `pattern`
 * (`len` bytes, STIX patterning 2.1) and `valid_from`.
 */
int cairn__feed_set_pattern(json_t *obj, const char *pattern, size_t len,
                     const char *valid_from);

#endif
