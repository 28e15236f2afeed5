/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the signature extension (docs/signing.md), read and
 * verified as `cairn verify` and the ingest gate do, then re-signed: a
 * document (a bundle or a lone object) is verified object by object
 * against a trust set holding the test vectors' key; each object the key
 * then signs must verify as valid, and as bad once a value is changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/sign.h"
#include "cairn/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/data/sign/vector.pem: a test key, public in the tree. */
static const char vector_key[] =
    "name: vector\n"
    "identity: identity--5b8a3f4e-2c1d-4e6f-9a7b-0c1d2e3f4a5b\n"
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIHnqZxAhK4z2Vw6q7iMN6Ceo8QnEINDcjFog472+V/e8\n"
    "-----END PRIVATE KEY-----\n";

static struct cairn_sign_key *key;
static struct cairn_trust *trust;

static void setup(void)
{
    struct cairn_diag d;
    if (key != NULL)
        return;
    if (cairn_sign_key_parse(vector_key, sizeof vector_key - 1, "vector",
                             &key, &d) < 0 ||
        cairn_trust_new(&trust) < 0 || cairn_trust_add_key(trust, key) < 0)
        abort();
}

static void one(const json_t *obj)
{
    enum cairn_sign_verdict v;
    char why[400];
    struct cairn_sign_gate gate = {.policy = CAIRN_SIGN_REQUIRE,
                                   .trust = trust};
    json_t *rep = NULL;

    if (cairn_sign_verify(obj, trust, &v, why, sizeof why) < 0)
        return;
    if (v > CAIRN_SIGN_OUT_OF_DATE || why[0] == '\0')
        abort(); /* every verdict says why */
    if (cairn_sign_verify(obj, NULL, &v, NULL, 0) < 0)
        return;
    if (v == CAIRN_SIGN_VALID &&
        json_object_get(json_object_get(obj, "extensions"),
                        CAIRN_SIGN_EXTENSION) != NULL)
        abort(); /* no signature is valid without a trusted key */
    if (cairn_sign_gate_hook(obj, &rep, why, sizeof why, &gate) < 0)
        return;
    json_decref(rep);

    json_t *c = json_deep_copy(obj);
    if (c == NULL || cairn_sign_object(c, key, NULL) < 0)
        goto out;
    if (cairn_sign_verify(c, trust, &v, why, sizeof why) < 0)
        goto out;
    if (v != CAIRN_SIGN_VALID)
        abort(); /* what the key signs verifies */
    /* Any change of content is detected. */
    const json_t *old = json_object_get(c, "x_fuzz_changed");
    if (json_object_set_new(c, "x_fuzz_changed",
                            json_boolean(!json_is_true(old))) == 0 &&
        cairn_sign_verify(c, trust, &v, why, sizeof why) == 0 &&
        v != CAIRN_SIGN_BAD)
        abort();
out:
    json_decref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = NULL;
    struct cairn_diag d;

    if (size > 1 << 16)
        return 0;
    setup();
    if (cairn_json_parse((const char *)data, size, &doc, &d) < 0)
        return 0;
    const json_t *objs = json_object_get(doc, "objects");
    if (json_is_array(objs)) {
        size_t i;
        const json_t *o;
        json_array_foreach(objs, i, o)
        {
            if (i >= 64)
                break;
            one(o);
        }
    } else {
        one(doc);
    }
    json_decref(doc);
    return 0;
}
