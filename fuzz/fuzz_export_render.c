/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: one indicator (JSON) rendered in every export format, with
 * and without warninglists and a minimum score. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_time now = {.sec = 1796600000};

    static struct cairn_warninglists *wl;
    static const char list[] =
        "{\"name\":\"l\",\"type\":\"hostname\",\"list\":[\"example.com\"]}";
    static const char cidr[] =
        "{\"name\":\"c\",\"type\":\"cidr\",\"list\":[\"192.0.2.0/24\"]}";

    if (size > 1 << 16)
        return 0;
    if (wl == NULL &&
        (cairn_warninglists_new(&wl) != 0 ||
         cairn_warninglists_add(wl, list, strlen(list), "l", NULL, NULL) != 0 ||
         cairn_warninglists_add(wl, cidr, strlen(cidr), "c", NULL, NULL) != 0))
        abort();
    for (int f = 0; f < 2 * CAIRN_EXPORT_FORMAT_COUNT; f++) {
        struct cairn_export_opts o = {
            .format = (enum cairn_export_format)(f % CAIRN_EXPORT_FORMAT_COUNT)};
        if (f >= CAIRN_EXPORT_FORMAT_COUNT) {
            o.warninglists = wl;
            o.min_score = 30;
        }
        struct cairn_export *ex = NULL;
        struct cairn_buf out;
        struct cairn_export_stats st;
        if (cairn_export_new(&o, &ex, NULL) != 0)
            abort();
        int rc = cairn_export_add_json(ex, (const char *)data, size);
        if (rc != 0 && rc != CAIRN_EINVAL && rc != CAIRN_ENOMEM)
            abort();
        cairn_buf_init(&out, (size_t)16 << 20);
        rc = cairn_export_render(ex, &now, &out, &st, NULL, NULL);
        /* one indicator at most: written, left out, or counted as neither */
        if (rc == 0 && st.indicators > 1)
            abort();
        if (rc != 0 && rc != CAIRN_ENOMEM && rc != CAIRN_ETOOBIG)
            abort();
        cairn_buf_release(&out);
        cairn_export_free(ex);
    }
    return 0;
}
