/* SPDX-License-Identifier: Apache-2.0 */
/* Inside hunt jobs: YARA rules compiled once and run over files. */
#ifndef CAIRN_HUNT_JOB_INT_H
#define CAIRN_HUNT_JOB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/hunt.h"

/*
 * YARA indicators compiled once: a rule that does not compile is reported
 * (through `report`, with its indicator id and the compiler's message) and
 * left out. Each indicator's rules live in a namespace named by its id, so
 * two indicators may use the same rule names. Scanning is thread-safe.
 */
struct hunt_yara;

typedef void (*hunt_yara_report_cb)(const char *indicator_id,
                                    const char *message, void *ud);

/* *out NULL when the set holds no YARA indicator. Returns 0 or CAIRN_E*. */
int cairn__hunt_yara_new(const struct cairn_hunt_set *set,
                         hunt_yara_report_cb report, void *ud,
                         struct hunt_yara **out);
void cairn__hunt_yara_free(struct hunt_yara *y);
/* Number of indicators whose rules compiled. */
size_t cairn__hunt_yara_count(const struct hunt_yara *y);

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
int cairn__hunt_yara_scan_file(struct hunt_yara *y, const char *path,
                               hunt_yara_match_cb cb, void *ud, char *err,
                               size_t err_len);

#endif
