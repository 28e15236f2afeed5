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

/*
 * Ownership: arguments are borrowed for the call. A compiled indicator set
 * is immutable and shared by every thread; each thread matches with its
 * own struct cairn_hunt_matcher. Hits handed to a callback are valid for
 * the call only. Every _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- observable values -------------------------------------------------- */

/* The kinds of value an indicator names and telemetry carries. */
enum cairn_ioc_type {
    CAIRN_IOC_UNKNOWN = 0,
    CAIRN_IOC_DOMAIN,   /* domain-name:value; matches subdomains too */
    CAIRN_IOC_IPV4,     /* address or CIDR */
    CAIRN_IOC_IPV6,     /* address or CIDR */
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
    const char *name; /* the field it came from ("query", "id.resp_h"), or NULL */
};

/* One event of telemetry: its values, where it is, and when it happened. */
struct cairn_hunt_event {
    const struct cairn_hunt_field *fields;
    size_t n_fields;
    const char *file;    /* source name ("-" for standard input) */
    uint64_t line;       /* 1-based line number; 0 for files hunted whole */
    uint64_t offset;     /* byte offset of the event in the (decoded) input */
    bool has_ts;
    struct cairn_time ts;
};

/* One indicator matched one value of one event. */
struct cairn_hunt_hit {
    const char *indicator_id;   /* STIX id of the indicator */
    const char *indicator_name; /* its name, or the list file's entry; may be NULL */
    enum cairn_ioc_type type;
    const char *value; /* the matched value as it appears in the event */
    size_t value_len;
    const struct cairn_hunt_event *event;
};

typedef void (*cairn_hunt_hit_cb)(const struct cairn_hunt_hit *hit, void *ud);

#ifdef __cplusplus
}
#endif

#endif
