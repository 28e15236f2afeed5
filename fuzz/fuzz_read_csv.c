/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the csv telemetry reader over arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.format = CAIRN_TELEMETRY_CSV;
    /* Small limits reach the long-line and field-cap paths. */
    opts.max_line = 4096;
    opts.max_fields = 64;
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_diag diag;
    if (cairn_telemetry_open_mem(data, size, "fuzz", &opts, &r, &diag) != 0)
        return 0;
    struct cairn_hunt_event ev;
    uint64_t last = 0;
    while (cairn_telemetry_next(r, &ev, &diag) == 1) {
        /* Lines only go forward; every value is readable and non-empty. */
        if (ev.line <= last || ev.n_fields == 0 || ev.n_fields > 64)
            abort();
        last = ev.line;
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < ev.n_fields; i++) {
            if (ev.fields[i].len == 0 || ev.fields[i].value == NULL)
                abort();
            for (size_t k = 0; k < ev.fields[i].len; k++)
                sink ^= (unsigned char)ev.fields[i].value[k];
        }
        (void)sink;
    }
    cairn_telemetry_free(r);
    return 0;
}
