/* SPDX-License-Identifier: Apache-2.0 */
/* UUID v4 and v5 generation and the text-form check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

#define STIX_NS "00abedb4-aa42-466c-9c01-fed23315a9b7"

static bool all_lower(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s >= 'A' && *s <= 'F')
            return false;
    }
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_uuid4(void **state)
{
    (void)state;
    enum { N = 1000 };
    char(*ids)[CAIRN_UUID_STRLEN] = malloc(N * CAIRN_UUID_STRLEN);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        int version = -1;
        assert_int_equal(cairn_uuid4(ids[i]), 0);
        assert_int_equal(strlen(ids[i]), 36);
        assert_true(all_lower(ids[i]));
        assert_true(cairn_uuid_check(ids[i], 36, true, &version));
        assert_int_equal(version, 4);
        assert_int_equal(ids[i][14], '4');
        assert_non_null(strchr("89ab", ids[i][19]));
    }
    /* 122 random bits: any repeat in 1000 draws means a broken source. */
    qsort(ids, N, CAIRN_UUID_STRLEN, cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

/* Expected values computed with Python's uuid.uuid5. */
static const struct {
    const char *ns;
    const char *name;
    const char *want;
} v5_cases[] = {
    /* The example in the Python uuid documentation. */
    {"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org",
     "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
    /* STIX 2.1 deterministic SCO ids: canonical JSON of the id contributing
     * properties in the STIX namespace. */
    {STIX_NS, "{\"value\":\"198.51.100.3\"}",
     "28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
    {STIX_NS, "{\"value\":\"john@example.com\"}",
     "7165e2a9-671f-585d-b1e1-ca59c671d934"},
    {STIX_NS, "{\"value\":\"example.com\"}",
     "bedb4899-d24b-5401-bc86-8f6b4cc18ec7"},
    {STIX_NS,
     "{\"hashes\":{\"SHA-256\":\"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8"
     "915476f5e4bfbac681db\"}}",
     "b91bcf06-0d11-5a89-9c3a-8d4279aefe56"},
    /* Names are bytes: UTF-8 goes in as it is. */
    {STIX_NS, "{\"value\":\"\xe2\x82\xac\"}",
     "aac84f5d-ad49-58d6-add8-edf74dcca9fe"},
    {STIX_NS, "", "541cb4a8-fbf0-5832-816e-d17fd10b36c4"},
    /* The namespace may be written in upper case. */
    {"00ABEDB4-AA42-466C-9C01-FED23315A9B7", "{\"value\":\"198.51.100.3\"}",
     "28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
};

static void test_uuid5_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v5_cases / sizeof v5_cases[0]; i++) {
        char out[CAIRN_UUID_STRLEN];
        int version = -1;
        assert_int_equal(cairn_uuid5(v5_cases[i].ns, v5_cases[i].name,
                                     strlen(v5_cases[i].name), out),
                         0);
        assert_string_equal(out, v5_cases[i].want);
        assert_true(cairn_uuid_check(out, 36, true, &version));
        assert_int_equal(version, 5);
    }
}

static void test_uuid5_bounded_name(void **state)
{
    (void)state;
    char out[CAIRN_UUID_STRLEN];
    /* Only name_len bytes are hashed, not up to a NUL. */
    const char *name = "{\"value\":\"198.51.100.3\"}trailing";
    assert_int_equal(cairn_uuid5(STIX_NS, name, 24, out), 0);
    assert_string_equal(out, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
}

static void test_uuid5_bad_namespace(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "00abedb4-aa42-466c-9c01-fed23315a9b",
        "00abedb4-aa42-466c-9c01-fed23315a9b7a",
        "00abedb4aa42-466c-9c01-fed23315a9b7-",
        "00abedb4-aa42-466c-9c01-fed23315a9bg",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[CAIRN_UUID_STRLEN] = "x";
        assert_int_equal(cairn_uuid5(bad[i], "a", 1, out), CAIRN_EINVAL);
        assert_string_equal(out, "");
    }
}

static const struct {
    const char *text;
    bool any;     /* accepted without the RFC 4122 check */
    bool rfc4122; /* accepted with it */
    int version;
} check_cases[] = {
    {"6ba7b810-9dad-11d1-80b4-00c04fd430c8", true, true, 1},
    {"886313e1-3b8a-5372-9b90-0c9aee199e5d", true, true, 5},
    {"44af6c39-c09b-49c5-9de2-394224b04982", true, true, 4},
    {"44AF6C39-C09B-49C5-9DE2-394224B04982", true, true, 4},
    {"44af6c39-c09b-49c5-ade2-394224b04982", true, true, 4},
    {"44af6c39-c09b-49c5-bde2-394224b04982", true, true, 4},
    {"44af6c39-c09b-49c5-Bde2-394224b04982", true, true, 4},
    /* Variants other than RFC 4122's (0xxx NCS, 110x Microsoft). */
    {"44af6c39-c09b-49c5-7de2-394224b04982", true, false, 4},
    {"44af6c39-c09b-49c5-cde2-394224b04982", true, false, 4},
    {"00000000-0000-0000-0000-000000000000", true, false, 0},
    /* Not a UUID at all. */
    {"44af6c39-c09b-49c5-9de2-394224b0498", false, false, 0},
    {"44af6c39-c09b-49c5-9de2-394224b049822", false, false, 0},
    {"44af6c39c09b-49c5-9de2-394224b04982-", false, false, 0},
    {"44af6c39-c09b-49c5-9de2_394224b04982", false, false, 0},
    {"44af6c39-c09b-49c5-9de2-394224b0498g", false, false, 0},
    {"{44af6c39-c09b-49c5-9de2-394224b0498}", false, false, 0},
    {"44af6c39 c09b 49c5 9de2 394224b04982", false, false, 0},
    {"", false, false, 0},
};

static void test_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
        const char *s = check_cases[i].text;
        int version = -1;
        bool any = cairn_uuid_check(s, strlen(s), false, &version);
        if (any != check_cases[i].any)
            fail_msg("%s: check = %d", s, any);
        if (any)
            assert_int_equal(version, check_cases[i].version);
        if (cairn_uuid_check(s, strlen(s), true, NULL) !=
            check_cases[i].rfc4122)
            fail_msg("%s: rfc4122 check wrong", s);
    }
    /* Only `len` bytes are looked at. */
    const char *id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8 and more";
    assert_true(cairn_uuid_check(id, 36, true, NULL));
    assert_false(cairn_uuid_check(id, 37, true, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid4),
        cmocka_unit_test(test_uuid5_vectors),
        cmocka_unit_test(test_uuid5_bounded_name),
        cmocka_unit_test(test_uuid5_bad_namespace),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
