/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: renaming one indicator's YARA rules apart. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_buf out, imports;
    char why[200] = "";

    if (size > 1 << 20)
        return 0;
    cairn_buf_init(&out, (size_t)16 << 20);
    cairn_buf_init(&imports, (size_t)1 << 20);
    int rc = cairn_export_yara_rename((const char *)data, size, "cairn_x_",
                                      &out, &imports, why, sizeof why);
    /* a refusal says why; a success writes at least the input's rules */
    if (rc == CAIRN_EINVALID && why[0] == '\0')
        abort();
    if (rc == 0 && out.len == 0)
        abort();
    if (rc != 0 && rc != CAIRN_EINVALID && rc != CAIRN_ENOMEM &&
        rc != CAIRN_ETOOBIG)
        abort();
    cairn_buf_release(&out);
    cairn_buf_release(&imports);
    return 0;
}
