/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: MISP events (JSON) converted to STIX objects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/feed.h"

static int emit(const json_t *obj, void *ud)
{
    char *text = NULL;

    (*(size_t *)ud)++;
    /* what is handed out has an id and serialises */
    if (cairn_stix_id(obj) == NULL)
        abort();
    if (cairn_stix_serialize(obj, false, &text, NULL) == 0)
        cairn_free(text);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cairn_time now = {.sec = 1700000000};
    struct cairn_feed *f = NULL;
    size_t n = 0;
    struct cairn_feed_opts fo = {
        .emit = emit, .emit_ud = &n, .tlp = CAIRN_TLP_AMBER, .now = &now};

    if (size > 1 << 20)
        return 0;
    cairn_alloc_init();
    if (cairn_feed_new(&fo, &f) != 0)
        return 0;
    int rc = cairn_feed_misp_event(f, (const char *)data, size, "fuzz");
    struct cairn_feed_stats st;
    cairn_feed_get_stats(f, &st);
    if (rc > 0 || st.objects != n)
        abort();
    cairn_feed_free(f);
    return 0;
}
