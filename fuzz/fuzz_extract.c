/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the free-text extractor; what it finds must classify alike. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/telemetry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_hunt_field f[256];
    const char *text = (const char *)data;
    size_t n = cairn_telemetry_extract(text, size, f, 256);
    if (n > 256)
        n = 256;
    for (size_t i = 0; i < n; i++) {
        if (f[i].len == 0 || f[i].value < text ||
            f[i].value + f[i].len > text + size)
            abort();
        /* A value found in text has the type its shape alone gives. */
        if (cairn_telemetry_classify(f[i].value, f[i].len) != f[i].type)
            abort();
    }
    (void)cairn_telemetry_classify(text, size);
    return 0;
}
