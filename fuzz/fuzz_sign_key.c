/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: key and trust files (headers, then a PEM block;
 * docs/signing.md). What parses is exported and read back to the same
 * fingerprint, name and identity, and goes into a trust set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cairn_sign_key *k = NULL, *back = NULL;
    struct cairn_trust *t = NULL;
    struct cairn_diag d;
    char *text = NULL;
    char line[1200];

    cairn_diag_clear(&d);
    int rc = cairn_sign_key_parse((const char *)data, size, "fuzz.key", &k, &d);
    if (rc == CAIRN_EINVAL) {
        if (d.message[0] == '\0')
            abort(); /* every refusal says why */
        cairn_diag_format(&d, line, sizeof line);
    }
    if (rc < 0)
        goto out;
    if (cairn_sign_key_export(k, &text) < 0)
        goto out;
    if (cairn_sign_key_parse(text, strlen(text), "export", &back, &d) < 0 ||
        cairn_sign_key_is_private(back) ||
        strcmp(cairn_sign_key_fingerprint(k),
               cairn_sign_key_fingerprint(back)) != 0 ||
        !same(cairn_sign_key_name(k), cairn_sign_key_name(back)) ||
        !same(cairn_sign_key_identity(k), cairn_sign_key_identity(back)))
        abort(); /* an exported key reads back as itself */
    if (cairn_trust_new(&t) == 0 && cairn_trust_add_key(t, k) == 0 &&
        cairn_trust_add_key(t, back) == 0 && cairn_trust_count(t) != 1)
        abort(); /* one key, once */
out:
    cairn_trust_free(t);
    cairn_free(text);
    cairn_sign_key_free(back);
    cairn_sign_key_free(k);
    return 0;
}
