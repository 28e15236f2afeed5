/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the archive's segment reader (footer, names, block
 * directory, values, postings, blocks, events) over arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"

static struct cairn_hunt_field fields[SEG_MAX_FIELDS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seg_reader r;
    struct seg_values v;
    char why[256];
    /* A copy: the reader must stay inside `size` bytes exactly. */
    uint8_t *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (cairn__seg_open(copy, size, &r, why, sizeof why) == 0) {
        (void)cairn__seg_verify(&r, why, sizeof why);
        if (cairn__seg_values(&r, true, &v, why, sizeof why) == 0) {
            for (uint64_t i = 0; i < v.n; i++) {
                struct seg_posting p;
                uint64_t prev = 0;
                if (cairn__seg_posting(&v, i, &p) == 0)
                    for (uint64_t k = 0;
                         k < 100000 && cairn__seg_posting_next(&p, &prev); k++)
                        ;
            }
            for (uint64_t bl = 0; bl < r.foot.n_blocks; bl++) {
                struct seg_block_events b;
                if (cairn__seg_block(&r, bl, &v, &b, why, sizeof why) < 0)
                    continue;
                for (uint32_t i = 0; i < b.n; i++) {
                    struct cairn_hunt_event ev;
                    (void)cairn__seg_event(&r, &v, &b, i, fields, &ev);
                }
                cairn__seg_block_free(&b);
            }
            cairn__seg_values_free(&v);
        }
        cairn__seg_close(&r);
    }
    free(copy);
    return 0;
}
