/* SPDX-License-Identifier: Apache-2.0 */
/* What every telemetry reader fuzz target does, for one forced format. */
#ifndef CAIRN_FUZZ_READER_H
#define CAIRN_FUZZ_READER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Read all of `data` as `format`; abort on any broken promise. */
static int fuzz_reader(const uint8_t *data, size_t size,
                       enum cairn_telemetry_format format)
{
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.format = format;
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

#endif
