/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the archive's catalogue file (footer, meta, blocks and
 * their records) over arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"
#include "archive/catalogue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cat_file f;
    struct cat_recs r = {0};
    char why[256];
    /* A copy: the reader must stay inside `size` bytes exactly. */
    uint8_t *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (cairn__cat_open(copy, size, &f, why, sizeof why) == 0) {
        uint64_t total = 0;
        for (uint64_t b = 0; b < f.n_blocks; b++) {
            if (cairn__cat_block(&f, b, &r, why, sizeof why) < 0)
                continue;
            for (uint32_t i = 0; i < r.n; i++) {
                char *v = malloc((size_t)r.v[i].len + 1);
                if (v == NULL)
                    break;
                cairn__cat_key(r.v[i].type, r.text + r.v[i].off, r.v[i].len,
                               v);
                free(v);
                total += r.v[i].count;
            }
        }
        (void)total;
        cairn__cat_recs_free(&r);
        cairn__cat_close(&f);
    }
    free(copy);
    return 0;
}
