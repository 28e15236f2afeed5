/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: read and validate any document, as `cairn validate` does. */
#include <stddef.h>
#include <stdint.h>

#include "cairn/stix.h"
#include "stix/stix_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(const struct cairn_diag *diag, void *ud)
{
    char line[1024];
    (void)ud;
    /* Formatting every finding exercises the paths and messages too. */
    cairn_diag_format(diag, line, sizeof line);
}

/* The fast JSON path must agree with jansson whenever it accepts. */
static void differential(const char *data, size_t size)
{
    json_error_t err;
    size_t used = 0;
    json_t *fast = cairn__stix_json_fast(data, size, &used);
    if (fast == NULL)
        return;
    json_t *slow = json_loadb(data, size,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
                                  JSON_DISABLE_EOF_CHECK,
                              &err);
    if (slow == NULL || !json_equal(fast, slow) || used != (size_t)err.position)
        __builtin_trap();
    json_decref(fast);
    json_decref(slow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    differential((const char *)data, size);
    struct cairn_validate_stats stats = {0, 0, 0};
    struct cairn_validate_opts opts = {
        .file = "fuzz.json",
        .max_object_len = 1 << 16,
        .cb = sink,
    };
    cairn_stix_validate_buffer((const char *)data, size, &opts, &stats);
    opts.strict = true;
    opts.max_object_len = 64; /* the over-cap path */
    cairn_stix_validate_buffer((const char *)data, size, &opts, &stats);
    return 0;
}
