/* SPDX-License-Identifier: Apache-2.0 */
/* Observable values: what kind of value a string is, and events of them. */
#ifndef CAIRN_VALUES_H
#define CAIRN_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/base.h"

/*
 * Ownership: arguments are borrowed for the call; results are written to
 * buffers the caller provides. Used by the telemetry readers (which find
 * values), the indicator set (which indexes them) and the feeds (which
 * type the values of a list).
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- observable values -------------------------------------------------- */

/* The kinds of value an indicator names and telemetry carries. */
enum cairn_ioc_type {
    CAIRN_IOC_UNKNOWN = 0,
    CAIRN_IOC_DOMAIN, /* domain-name:value; matches subdomains too */
    CAIRN_IOC_IPV4,   /* address or CIDR */
    CAIRN_IOC_IPV6,   /* address or CIDR */
    CAIRN_IOC_URL,
    CAIRN_IOC_EMAIL,
    CAIRN_IOC_MD5,
    CAIRN_IOC_SHA1,
    CAIRN_IOC_SHA256,
    CAIRN_IOC_SHA512,
    CAIRN_IOC_FILENAME, /* file:name */
    CAIRN_IOC_REGKEY,   /* windows-registry-key:key */
    CAIRN_IOC_STRING,   /* an untyped string value (JSON logs, free text) */
    CAIRN_IOC_TYPE_COUNT
};

/* "domain", "ipv4", ... as used in --jsonl output and list files. */
const char *cairn_ioc_type_name(enum cairn_ioc_type type);

/*
 * One value found in one event, typed by the reader that found it (the
 * field it came from, or the shape of a free-text token). `value` points
 * into the reader's buffer and is valid until the next event.
 */
struct cairn_hunt_field {
    enum cairn_ioc_type type;
    const char *value;
    size_t len;
    const char
        *name; /* the field it came from ("query", "id.resp_h"), or NULL */
};

/* One event of telemetry: its values, where it is, and when it happened. */
struct cairn_hunt_event {
    const struct cairn_hunt_field *fields;
    size_t n_fields;
    const char *file; /* source name ("-" for standard input) */
    uint64_t line;    /* 1-based line number; 0 for files hunted whole */
    uint64_t offset;  /* byte offset of the event in the (decoded) input */
    bool has_ts;
    struct cairn_time ts;
};

/* ---- typing and normalising --------------------------------------------- */

/*
 * The type a value has by its shape alone (the rules of list files), after
 * refanging; CAIRN_IOC_UNKNOWN if none. `out`/`out_len` (may be NULL)
 * receive the normalised value (lower case, URL normalised, CIDR kept),
 * which needs at most `len` + 2 bytes; `cap` bounds it.
 */
enum cairn_ioc_type cairn_hunt_detect(const char *s, size_t len, char *out,
                                      size_t cap, size_t *out_len);

/*
 * Normalise a URL for comparison: scheme and host in lower case, the
 * default port dropped, %XX of unreserved characters decoded and other
 * %xx in upper case, an empty path written "/". Returns the length, or
 * CAIRN_ETOOBIG when `cap` is too small (len + 2 always suffices).
 */
int cairn_hunt_url_normalize(const char *url, size_t len, char *out,
                             size_t cap);

/* Longest URL that is normalised and looked up (bytes). */
#define CAIRN_VALUE_URL_MAX 8190

/* ---- for the modules above (library-internal: cairn__) -------------------
 *
 * Address parsing and the pieces of detection that the indicator set and
 * its matcher use on their own. Not for programs outside the library.
 */

/*
 * Undo defanging ("[.]", "(.)", "[dot]", "hxxp", "[:]", "[@]", "[at]")
 * and trim blanks; writes at most `cap` bytes, returns the length, or -1
 * when it does not fit.
 */
long cairn__hunt_refang(const char *s, size_t len, char *out, size_t cap);

/* Parse "a.b.c.d"; false if not exactly an IPv4 address. */
bool cairn__hunt_parse_ipv4(const char *s, size_t len, uint8_t out[4]);
/* An IPv4 address as dotted decimal (7 to 15 bytes, no NUL); the length. */
size_t cairn__hunt_v4_text(uint32_t a, char out[16]);
/* Parse an IPv6 address (no prefix, an optional %zone ignored). */
bool cairn__hunt_parse_ipv6(const char *s, size_t len, uint8_t out[16]);
/*
 * Address or CIDR; *family 4 or 6, *prefix the prefix length (32/128 when
 * none). The address is returned masked to the prefix.
 */
bool cairn__hunt_parse_cidr(const char *s, size_t len, int *family, uint8_t addr[16],
                     unsigned *prefix);

/* A host name of dot-separated labels (letters, digits, '-', '_', UTF-8). */
bool cairn__hunt_is_domain(const char *s, size_t len);
bool cairn__hunt_is_hex(const char *s, size_t len);
/* The hash type of a hex digest by its length, or CAIRN_IOC_UNKNOWN. */
enum cairn_ioc_type cairn__hunt_hash_type(size_t len);

/* The host of a URL ("[...]" stripped for IPv6), false if none. */
bool cairn__hunt_url_host(const char *url, size_t len, const char **host,
                   size_t *host_len);

/*
 * The bytes of a URL that cairn_hunt_url_normalize lower-cases as its host
 * ([*start, *end): after any user information, before any port); the
 * normalised URL's are the same bytes in lower case. False without a
 * scheme (the URL is then normalised without a host).
 */
bool cairn__hunt_url_norm_host(const char *url, size_t len, size_t *start,
                               size_t *end);

/* Lower-case ASCII copy; `out` has room for `len` bytes. */
void cairn__hunt_lower(const char *s, size_t len, char *out);

/* ---- index keys (the store's value index, lookups) ---------------------- */

/*
 * A 64-bit key for one observable value or reference, as the store's
 * correlation index keeps it (docs/analysis.md). Two spellings the hunt
 * treats as one value get one key: domains, e-mail addresses, hashes and
 * registry keys are compared without case, URLs normalised, a domain's
 * final dot dropped, and an address or CIDR block keyed by its prefix
 * length and masked address (so a lookup of an address probes each
 * prefix length with cairn_value_ip_key).
 */

/* cairn_value_path_type's answer for network-traffic:dst_ref.value: an
 * address, CIDR block or domain, whichever the literal is. */
#define CAIRN_VALUE_ADDR CAIRN_IOC_TYPE_COUNT

/*
 * The key of value `s` (`len` bytes) of `type` (an enum cairn_ioc_type,
 * or CAIRN_VALUE_ADDR). CAIRN_EINVAL when it cannot be one (an address
 * that does not parse, an empty or over-long value, an unknown type).
 */
int cairn_value_key(int type, const char *s, size_t len, uint64_t *out);
/* The key of an address or CIDR block: `prefix` bits of `addr` (4 bytes
 * for family 4, 16 for 6); bits past the prefix are ignored. */
uint64_t cairn_value_ip_key(int family, const uint8_t addr[16],
                            unsigned prefix);
/* The key of a reference to the object `id`. */
uint64_t cairn_value_ref_key(const char *id, size_t len);
/*
 * The key every domain name strictly under `domain` gets besides its own
 * (a kind of its own, never equal to a value's key): a name's parents of
 * two labels or more, the nearest 16, so that "the objects with a name
 * under example.com" is one probe. CAIRN_EINVAL for an empty, over-long
 * or one-label name.
 */
int cairn_value_under_key(const char *domain, size_t len, uint64_t *out);

/*
 * The value type a STIX pattern comparison of `path` on `obj` ("file",
 * "hashes.'SHA-256'") compares, as the hunt indexes it; CAIRN_VALUE_ADDR
 * for network-traffic's address refs; CAIRN_IOC_UNKNOWN when none.
 */
int cairn_value_path_type(const char *obj, const char *path);

/* Receives one key; a non-zero return stops the walk and is returned. */
typedef int (*cairn_value_key_cb)(void *ud, uint64_t key);

/*
 * Call `cb` with every key of `obj` (a parsed STIX object, a json_t
 * object): the values of an indicator's STIX pattern (non-negated =, IN
 * and ISSUBSET on the properties the hunt compares), an SCO's value,
 * name, key or hashes, those of the SCOs inside an observed-data's
 * `objects`, and a reference key for each id in a `*_ref` or `*_refs`
 * member (created_by_ref and object_marking_refs excepted). A key may
 * come more than once. Returns 0, the callback's value, or CAIRN_EINVAL.
 */
struct json_t;
int cairn_value_object_keys(const struct json_t *obj, cairn_value_key_cb cb,
                            void *ud);

/* ---- warninglists: known false positives (docs/analysis.md) ------------- */

/*
 * MISP's warninglist format: one list per list.json, an object with
 * "name", "type" (string, substring, hostname, cidr or regex; string when
 * absent), "list" (the entries) and optionally "matching_attributes" (MISP
 * attribute types: domain, hostname, ip-src, ip-dst, url, email, md5,
 * sha1, sha256, ...: the value types the list applies to; all when absent).
 * A set is read-only once loaded and may be shared between threads.
 */
struct cairn_warninglists;

/* One problem found while loading: the file, where in it ("list[3]",
 * "type", "line 2", or "" for the file as a whole) and what is wrong. */
typedef void (*cairn_warninglist_err_cb)(void *ud, const char *file,
                                         const char *where, const char *msg);

int cairn_warninglists_new(struct cairn_warninglists **out);
void cairn_warninglists_free(struct cairn_warninglists *w);
/* Lists loaded. */
size_t cairn_warninglists_count(const struct cairn_warninglists *w);
/*
 * Add the list in `text` (`len` bytes of list.json; `file` names it in
 * reports). A bad entry is reported to `cb` (may be NULL) and skipped;
 * the rest of the list loads. CAIRN_EINVAL (reported) when the text is
 * not a list at all: not JSON, no name, an unknown type, no "list" array.
 */
int cairn_warninglists_add(struct cairn_warninglists *w, const char *text,
                           size_t len, const char *file,
                           cairn_warninglist_err_cb cb, void *ud);
/*
 * Load `path`: a list.json file, or a directory holding list.json,
 * NAME.json files and NAME/list.json (MISP's lists/ layout), in name
 * order. A file that fails is reported and the others still load; the
 * first such error is returned (CAIRN_EINVAL, CAIRN_EIO) after all are
 * tried. `loaded` (may be NULL) gets the lists added.
 */
int cairn_warninglists_load(struct cairn_warninglists *w, const char *path,
                            cairn_warninglist_err_cb cb, void *ud,
                            size_t *loaded);
/*
 * The name of the first list `s` (`len` bytes, of `type`, an enum
 * cairn_ioc_type) is on, or NULL. string: equal (without case; a URL's or
 * e-mail address's host too); substring: holds the entry; hostname: the
 * domain, or a URL's or address's host, is the entry or under it; cidr:
 * the address or block lies in the entry's block; regex: POSIX extended
 * expression ("/re/i" as MISP writes them) found in the value.
 */
const char *cairn_warninglists_match(const struct cairn_warninglists *w,
                                     int type, const char *s, size_t len);

/*
 * Receives one observable value of an object: its type (enum
 * cairn_ioc_type, or CAIRN_VALUE_ADDR) and text; non-zero stops the walk.
 */
typedef int (*cairn_value_cb)(void *ud, int type, const char *s, size_t len);
/*
 * Call `cb` with every observable value of `obj` that
 * cairn_value_object_keys indexes (references excepted).
 */
int cairn_value_object_values(const struct json_t *obj, cairn_value_cb cb,
                              void *ud);

#ifdef __cplusplus
}
#endif

#endif
