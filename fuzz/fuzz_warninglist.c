/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a warninglist (list.json), then matching values on it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/values.h"

static void on_err(void *ud, const char *file, const char *where,
                   const char *msg)
{
    (void)ud;
    /* every report names the file, a place and a message */
    if (file == NULL || where == NULL || msg == NULL || msg[0] == '\0')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const probes[] = {
        "10.1.2.3", "192.0.2.0/25", "::1", "2001:db8::1/64",
        "x.cdn.example", "https://a.example.org/x", "user@mail.example",
        "d41d8cd98f00b204e9800998ecf8427e", "a.exe", "",
    };
    struct cairn_warninglists *w = NULL;
    const char *text = (const char *)data;

    if (size > 1 << 16 || cairn_warninglists_new(&w) != 0)
        return 0;
    int rc = cairn_warninglists_add(w, text, size, "fuzz", on_err, NULL);
    if (rc == 0 && cairn_warninglists_count(w) != 1)
        abort();
    for (int t = CAIRN_IOC_UNKNOWN; t <= CAIRN_VALUE_ADDR; t++) {
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
            (void)cairn_warninglists_match(w, t, probes[i], strlen(probes[i]));
        /* the input itself as a value of each type */
        (void)cairn_warninglists_match(w, t, text, size < 4096 ? size : 4096);
    }
    cairn_warninglists_free(w);
    return 0;
}
