/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: CSV (mapped and FireEye) and plain lists into indicators. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/feed.h"

static int emit(const json_t *obj, void *ud)
{
    (void)ud;
    /* what is handed out has an id and a pattern */
    if (cairn_stix_id(obj) == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cairn_time now = {.sec = 1700000000};
    struct cairn_feed *f = NULL;
    struct cairn_feed_csv_map *map = NULL;
    struct cairn_feed_opts fo = {
        .emit = emit, .tlp = CAIRN_TLP_GREEN, .identity = "fuzz", .now = &now};
    const char *text = (const char *)data;

    if (size > 1 << 20)
        return 0;
    cairn_alloc_init();
    if (cairn_feed_new(&fo, &f) != 0)
        return 0;
    /* the same bytes as every kind of input */
    if (cairn_feed_csv_map_parse("value=value,type=type,name=name,"
                                 "description=description,valid_from="
                                 "valid_from,valid_until=valid_until,"
                                 "labels=labels",
                                 &map, NULL) == 0) {
        if (cairn_feed_csv(f, text, size, "fuzz.csv", map) > 0)
            abort();
    }
    if (cairn_feed_list(f, text, size, "fuzz.txt") > 0 ||
        cairn_feed_fireeye(f, text, size, "fuzz-fe.csv") > 0)
        abort();
    /* and the first line as a mapping, for the mapping parser */
    const char *nl = memchr(text, '\n', size);
    size_t l = nl != NULL ? (size_t)(nl - text) : size;
    char spec[256];
    if (l < sizeof spec && memchr(text, '\0', l) == NULL) {
        struct cairn_feed_csv_map *m2 = NULL;
        memcpy(spec, text, l);
        spec[l] = '\0';
        if (cairn_feed_csv_map_parse(spec, &m2, NULL) == 0)
            cairn_feed_csv(f, text, size, "fuzz2.csv", m2);
        cairn_feed_csv_map_free(m2);
    }
    cairn_feed_csv_map_free(map);
    cairn_feed_free(f);
    return 0;
}
