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

#ifdef __cplusplus
}
#endif

#endif
