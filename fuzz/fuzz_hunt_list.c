/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: plain-list parsing, type detection, refanging, matching. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/hunt.h"

static void on_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    (void)ud;
    /* the hit must point at a value that exists */
    volatile char c = hit->value[hit->value_len - 1];
    (void)c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_hunt_matcher *m = NULL;
    const char *text = (const char *)data;
    char out[9000];
    size_t ol;

    if (size > 1 << 16)
        return 0;
    /* detection and normalisation on the whole input as one value */
    enum cairn_ioc_type t = cairn_hunt_detect(text, size, out, sizeof out, &ol);
    if (t != CAIRN_IOC_UNKNOWN && ol > sizeof out)
        abort();
    char *u = malloc(size + 2);
    if (u != NULL) {
        int r = cairn_hunt_url_normalize(text, size, u, size + 2);
        if (r < 0 || (size_t)r > size + 1)
            abort(); /* len + 2 always suffices */
        free(u);
    }
    if (cairn_hunt_builder_new(NULL, &b) != 0)
        return 0;
    if (cairn_hunt_builder_add_list(b, text, size, "fuzz", NULL) < 0 ||
        cairn_hunt_builder_build(b, &set) != 0 ||
        cairn_hunt_matcher_new(set, &m) != 0)
        goto out;
    /* every line is then an event of one untyped field, and of each type */
    size_t i = 0;
    while (i < size) {
        const char *nl = memchr(text + i, '\n', size - i);
        size_t end = nl != NULL ? (size_t)(nl - text) : size;
        for (int ty = CAIRN_IOC_DOMAIN; ty < CAIRN_IOC_TYPE_COUNT; ty++) {
            struct cairn_hunt_field f = {(enum cairn_ioc_type)ty, text + i,
                                         end - i, NULL};
            struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
            cairn_hunt_match_event(m, &ev, on_hit, NULL);
        }
        i = end + 1;
    }
out:
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    return 0;
}
