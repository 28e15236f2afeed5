/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: parse, check and print a pattern; printing must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/pattern.h"
#include "pattern/pattern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_pattern *p = NULL, *q = NULL;
    struct cairn_diag diag;
    if (cairn_pattern_parse((const char *)data, size, NULL, &p, &diag) != 0)
        return 0;
    (void)cairn_pattern_check_names(p, &diag);
    char *text = NULL;
    size_t len = 0;
    if (cairn_pattern_print(p, &text, &len) == 0) {
        /* The canonical text must parse back to the same tree. */
        if (cairn_pattern_parse(text, len, NULL, &q, &diag) != 0 ||
            !cairn__pat_ast_equal(p->root, q->root))
            abort();
    }
    cairn_free(text);
    cairn_pattern_free(q);
    cairn_pattern_free(p);
    return 0;
}
