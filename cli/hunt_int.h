/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt` internals shared by its files: hit output and YARA rules. */
#ifndef CAIRN_CLI_HUNT_INT_H
#define CAIRN_CLI_HUNT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/cairn.h"
#include "cairn/hunt.h"

/* How hits are printed on standard output. */
enum hunt_format {
    HUNT_OUT_NONE,  /* --stix: only the sighting bundle at the end */
    HUNT_OUT_TABLE, /* a terminal: aligned columns for a person */
    HUNT_OUT_TEXT,  /* a pipe: one tab-separated line per hit */
    HUNT_OUT_JSONL, /* --jsonl: one JSON object per hit */
};

/* One hit as printed: everything the formats need, borrowed. */
struct hunt_out_hit {
    const char *indicator_id;
    const char *name; /* may be NULL */
    enum cairn_ioc_type type;
    const char *type_name; /* instead of the type's own name, or NULL */
    const char *value;
    size_t value_len;
    const char *file;
    uint64_t line;     /* 0: a file hunted whole (--files) */
    uint64_t offset;   /* byte offset of the event or of the YARA match */
    const char *field; /* may be NULL */
    bool has_ts;
    struct cairn_time ts;
};

/* Append the hit in `fmt` (one line, with its newline) to `out`. */
int hunt_format_hit(enum hunt_format fmt, const struct hunt_out_hit *hit,
                    struct cairn_buf *out);

/* The column heads of the table format, with a newline. */
int hunt_format_table_header(struct cairn_buf *out);

/*
 * YARA indicators compiled once: a rule that does not compile is reported
 * (through `report`, with its indicator id and the compiler's message) and
 * left out. Each indicator's rules live in a namespace named by its id, so
 * two indicators may use the same rule names.
 */
struct hunt_yara;

typedef void (*hunt_yara_report_cb)(const char *indicator_id,
                                    const char *message, void *ud);

/* *out NULL when the set holds no YARA indicator. Returns 0 or CAIRN_E*. */
int hunt_yara_new(const struct cairn_hunt_set *set, hunt_yara_report_cb report,
                  void *ud, struct hunt_yara **out);
void hunt_yara_free(struct hunt_yara *y);
/* Number of indicators whose rules compiled. */
size_t hunt_yara_count(const struct hunt_yara *y);

/* One matching rule: the indicator, the rule name, the first match. */
struct hunt_yara_match {
    const char *indicator_id;
    const char *indicator_name; /* may be NULL */
    const char *rule;
    uint64_t offset;
};

typedef void (*hunt_yara_match_cb)(const struct hunt_yara_match *m, void *ud);

/*
 * Scan the file at `path` with every compiled rule; `cb` once per matching
 * rule. Returns 0, or CAIRN_EIO with `err` (may be NULL) holding YARA's
 * reason.
 */
int hunt_yara_scan_file(struct hunt_yara *y, const char *path,
                        hunt_yara_match_cb cb, void *ud, char *err,
                        size_t err_len);

#endif
