/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the base layer's UTF-8, base64, IPv4 and CSV readers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    /* UTF-8: walking character by character agrees with the whole check,
     * and each character encodes back to the same bytes. */
    bool whole = cairn_utf8_valid(s, size), walk = true;
    for (size_t i = 0; i < size;) {
        uint32_t cp;
        size_t n = cairn_utf8_decode(s + i, size - i, &cp);
        if (n == 0) {
            walk = false;
            i++;
            continue;
        }
        char back[4];
        if (cairn_utf8_encode(cp, back) != n || memcmp(back, s + i, n) != 0)
            abort();
        i += n;
    }
    if (whole != walk)
        abort();

    /* base64: the count matches what a check alone gives. */
    uint8_t *out = malloc(size / 4 * 3 + 1);
    size_t n1 = 0, n2 = 0;
    if (out == NULL)
        return 0;
    int rc1 = cairn_base64_decode(s, size, out, &n1);
    int rc2 = cairn_base64_decode(s, size, NULL, &n2);
    free(out);
    if (rc1 != rc2 || (rc1 == 0 && (n1 != n2 || n1 > size / 4 * 3)))
        abort();

    uint32_t a;
    (void)cairn_ipv4_parse(s, size, &a);

    /* CSV: every field lies inside the input and the position advances. */
    for (unsigned flags = 0; flags < 4; flags++) {
        size_t pos = 0;
        for (int k = 0; k < 100000; k++) {
            struct cairn_csv_field f;
            size_t before = pos;
            int sep = cairn_csv_field(s, size, &pos, flags, &f);
            if (sep < 0)
                break;
            if (f.s < s || f.s + f.len > s + size || f.tail < s ||
                f.tail + f.tail_len > s + size || pos > size)
                abort();
            char *u = malloc(f.len + 1);
            if (u == NULL)
                break;
            if (cairn_csv_unquote(f.s, f.len, u) > f.len)
                abort();
            free(u);
            if (pos >= size || (pos == before && sep == '\n'))
                break;
        }
    }
    return 0;
}
