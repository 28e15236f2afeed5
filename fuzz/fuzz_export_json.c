/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the export's in-place JSON reading against jansson (the
 * same texts refused as objects), and an indicator's values read with the
 * fast path for simple patterns against the parser's (the same CSV).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cairn/export.h"
#include "export/export_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int render(struct cairn_export *ex, struct cairn_buf *out)
{
    struct cairn_time now = {.sec = 1796600000};
    struct cairn_export_stats st;
    cairn_buf_init(out, (size_t)16 << 20);
    return cairn_export_render(ex, &now, out, &st, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV};
    struct cairn_export *fast = NULL, *slow = NULL;

    if (size > 1 << 16)
        return 0;
    if (cairn_export_new(&o, &fast, NULL) != 0 ||
        cairn_export_new(&o, &slow, NULL) != 0)
        abort();
    slow->no_fast_path = true;
    int rc = cairn_export_add_json(fast, (const char *)data, size);
    int rc2 = cairn_export_add_json(slow, (const char *)data, size);
    if (rc != rc2)
        abort();
    json_t *j = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (rc != CAIRN_ENOMEM && (rc == CAIRN_EINVAL) != !json_is_object(j))
        abort();
    json_decref(j);
    if (rc == 0) {
        struct cairn_buf a, b;
        int ra = render(fast, &a), rb = render(slow, &b);
        if (ra == 0 && rb == 0 &&
            (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data, a.len))))
            abort();
        cairn_buf_release(&a);
        cairn_buf_release(&b);
    }
    cairn_export_free(fast);
    cairn_export_free(slow);
    return 0;
}
