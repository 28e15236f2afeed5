/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: TAXII query strings and percent-decoding. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cairn/base.h"
#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *q = (const char *)data;
    struct cairn__taxii_filter f;
    memset(&f, 0, sizeof f);
    char err[256];
    int rc = cairn__taxii_query_parse(q, size, &f, err, sizeof err);
    /* Whatever was accepted stays within the store's bounds. */
    if (rc == 0 && (f.n_ids > CAIRN_STORE_FILTER_MAX ||
                    f.n_types > CAIRN_STORE_FILTER_MAX ||
                    f.n_spec_versions > CAIRN_STORE_FILTER_MAX ||
                    f.n_version_times > CAIRN_STORE_FILTER_MAX ||
                    f.limit > CAIRN_STORE_LIMIT_MAX))
        __builtin_trap();
    if (rc != 0 && memchr(err, '\0', sizeof err) == NULL)
        __builtin_trap();
    cairn__taxii_filter_free(&f);

    /* Decoding never grows the text and never lets a control through. */
    if (size <= 4096) {
        char out[4097];
        size_t n = 0;
        if (cairn__taxii_pct_decode(q, size, true, out, &n) == 0) {
            if (n > size)
                __builtin_trap();
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)out[i] < 0x20)
                    __builtin_trap();
        }
    }
    return 0;
}
