/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SUNBURST label decoding, domain decoding, the analyser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Each line of the input is a looked-up name; an optional second field
 * after a tab is its answer. Every name is also decoded as a domain
 * encoding. Nothing may crash, and what decodes must be consistent.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    struct cairn_analyser *a = NULL;
    if (cairn_analyser_new("sunburst", &a) != 0)
        return 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *tab = memchr(p, '\t', (size_t)(line_end - p));
        const char *name_end = tab ? tab : line_end;
        size_t len = (size_t)(name_end - p);

        struct cairn_sunburst_label l;
        enum cairn_sunburst_kind k = cairn_sunburst_decode_label(p, len, &l);
        if (k == CAIRN_SUNBURST_DOMAIN &&
            (l.chunk_len == 0 || l.chunk_len > CAIRN_SUNBURST_CHUNK_MAX ||
             strlen(l.chunk) != l.chunk_len || l.seq < 0 || l.seq > 35))
            abort();
        char out[128];
        int n = cairn_sunburst_decode_domain(p, len, out, sizeof out);
        if (n >= 0 && (size_t)n >= sizeof out)
            abort();

        struct cairn_dns_answer ans = {CAIRN_DNS_A, NULL, 0};
        if (tab != NULL) {
            ans.value = tab + 1;
            ans.len = (size_t)(line_end - tab - 1);
            (void)cairn_sunburst_answer_state(&ans);
            ans.type = CAIRN_DNS_AAAA;
            (void)cairn_sunburst_answer_state(&ans);
        }
        struct cairn_dns_name dn = {.name = p,
                                    .len = len,
                                    .answers = tab ? &ans : NULL,
                                    .n_answers = tab ? 1 : 0};
        if (cairn_analyser_add_name(a, &dn) != 0)
            abort();
        p = nl ? nl + 1 : end;
    }
    json_t *f = NULL, *b = NULL;
    if (cairn_analyser_findings(a, &f) != 0 ||
        cairn_analyser_stix(a, NULL, &b) != 0)
        abort();
    json_decref(f);
    json_decref(b);
    cairn_analyser_free(a);
    return 0;
}
