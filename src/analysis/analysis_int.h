/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the analysis module: the analysers' operations table. */
#ifndef CAIRN_ANALYSIS_INT_H
#define CAIRN_ANALYSIS_INT_H

#include "cairn/analysis.h"

/* One analyser's implementation; the table is in analyser.c. */
struct cairn_analyser_ops {
    const struct cairn_analyser_info *info;
    int (*new_state)(void **out);
    void (*free_state)(void *state);
    /* 1: the name was relevant and decoded, 0: relevant and undecodable,
     * CAIRN_SKIP (2): not relevant, or a negative error. */
    int (*add)(void *state, const struct cairn_dns_name *name);
    size_t (*count)(const void *state); /* findings so far */
    int (*findings)(const void *state, json_t **out);
    int (*stix)(const void *state, const struct cairn_analyser_stix_opts *o,
                json_t **out);
};

#define CAIRN_ANALYSER_SKIP 2

/* Whether the name lies under avsvmcloud.com (a trailing dot allowed). */
bool cairn__sunburst_relevant(const char *name, size_t len);

extern const struct cairn_analyser_ops cairn__sunburst_ops;

#endif
