/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the free-text extractor; what it finds must classify alike,
 * and the word-by-word pass of text lines must find the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/telemetry.h"
#include "telemetry/telemetry_int.h"

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
    /* every SIMD level of the word pass: the same fields in the same order */
    struct cairn_hunt_field g[256];
    for (int level = cairn__tele_simd_level(); level >= 0; level--) {
        size_t m = cairn__tele_extract_words(text, size, level, g, 256);
        if (m > 256)
            m = 256;
        if (m != n)
            abort();
        for (size_t i = 0; i < n; i++)
            if (g[i].type != f[i].type || g[i].value != f[i].value ||
                g[i].len != f[i].len)
                abort();
    }
    return 0;
}
