/* SPDX-License-Identifier: Apache-2.0 */
/* Object versions: which of two versions of an object is newer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cairn/stix.h"

static json_t *obj(const char *created, const char *modified)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("indicator"));
    if (created != NULL)
        json_object_set_new(o, "created", json_string(created));
    if (modified != NULL)
        json_object_set_new(o, "modified", json_string(modified));
    return o;
}

/* Cases as data: modified of a, modified of b, expected order. */
static const struct {
    const char *a, *b;
    int cmp;
} cases[] = {
    {"2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.000Z", 0},
    {"2020-01-01T00:00:00.000Z", "2020-01-01T00:00:00.001Z", -1},
    {"2020-01-01T00:00:00.001Z", "2020-01-01T00:00:00.000Z", 1},
    /* Same instant written with other precision is the same version. */
    {"2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000000Z", 0},
    {"2020-01-01T00:00:00.000000001Z", "2020-01-01T00:00:00Z", 1},
    {"2019-12-31T23:59:59.999Z", "2020-01-01T00:00:00Z", -1},
    /* Unparsable orders before valid; two broken ones are equal. */
    {"yesterday", "2020-01-01T00:00:00Z", -1},
    {"2020-01-01T00:00:00Z", "2020-13-01T00:00:00Z", 1},
    {"bad", "worse", 0},
    /* Offsets are not STIX timestamps. */
    {"2020-01-01T00:00:00+00:00", "2000-01-01T00:00:00Z", -1},
    /* Objects without "modified" have one version. */
    {NULL, NULL, 0},
    {NULL, "2020-01-01T00:00:00Z", -1},
};

static void test_version_cmp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = obj("2000-01-01T00:00:00Z", cases[i].a);
        json_t *b = obj("2000-01-01T00:00:00Z", cases[i].b);
        int got = cairn_stix_version_cmp(a, b);
        if (got != cases[i].cmp)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].cmp);
        /* The order is antisymmetric. */
        assert_int_equal(cairn_stix_version_cmp(b, a), -cases[i].cmp);
        json_decref(a);
        json_decref(b);
    }
}

static void test_version_time(void **state)
{
    (void)state;
    struct cairn_time t;
    json_t *o = obj("2001-01-01T00:00:00Z", "2002-01-01T00:00:00.5Z");
    assert_int_equal(cairn_stix_version_time(o, &t), 0);
    assert_int_equal(t.sec, 1009843200);
    assert_int_equal(t.nsec, 500000000);
    json_decref(o);

    o = obj("2001-01-01T00:00:00Z", NULL);
    assert_int_equal(cairn_stix_version_time(o, &t), 0);
    assert_int_equal(t.sec, 978307200);
    json_decref(o);

    o = obj(NULL, NULL);
    assert_int_equal(cairn_stix_version_time(o, &t), CAIRN_ENOTFOUND);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_cmp),
        cmocka_unit_test(test_version_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
