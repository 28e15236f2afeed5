/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the export state file (sids and RPZ serial). */
#include <stdint.h>
#include <stdlib.h>

#include "cairn/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_diag d;

    if (size > 1 << 20)
        return 0;
    cairn_diag_clear(&d);
    int rc = cairn_export_state_check((const char *)data, size, &d);
    /* a refusal names its line */
    if (rc == CAIRN_EINVALID && (d.line == 0 || d.message[0] == '\0'))
        abort();
    if (rc != 0 && rc != CAIRN_EINVALID && rc != CAIRN_ENOMEM)
        abort();
    return 0;
}
