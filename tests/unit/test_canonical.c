/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 canonical JSON: ordering, numbers, strings, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

/* Canonical form of `json` text; fails the test on any error. */
static void expect_canon(const char *json, size_t flags, const char *want)
{
    json_error_t err;
    json_t *v =
        json_loads(json, flags | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == NULL)
        fail_msg("cannot load %s: %s", json, err.text);
    char *out = NULL;
    size_t len = 0;
    int rc = cairn_json_canonical(v, &out, &len);
    json_decref(v);
    if (rc != 0)
        fail_msg("%s: rc %d", json, rc);
    if (strcmp(out, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", json, out, want);
    assert_int_equal(len, strlen(want));
    cairn_free(out);
}

static void test_rfc8785_example(void **state)
{
    (void)state;
    /* RFC 8785 section 3.2.2: the input and its canonical form. */
    expect_canon("{\n"
                 "  \"numbers\": [333333333.33333329, 1E30, 4.50,\n"
                 "              2e-3, 0.000000000000000000000000001],\n"
                 "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022"
                 "\\u005c\\\\\\\"\\/\",\n"
                 "  \"literals\": [null, true, false]\n"
                 "}",
                 0,
                 "{\"literals\":[null,true,false],"
                 "\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                 "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

static void test_rfc8785_sorting(void **state)
{
    (void)state;
    /* RFC 8785 section 3.2.3: members sort by UTF-16 code units. */
    expect_canon("{\n"
                 "  \"\\u20ac\": \"Euro Sign\",\n"
                 "  \"\\r\": \"Carriage Return\",\n"
                 "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
                 "  \"1\": \"One\",\n"
                 "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
                 "  \"\\u0080\": \"Control\",\n"
                 "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
                 "}",
                 0,
                 "{\"\\r\":\"Carriage Return\","
                 "\"1\":\"One\","
                 "\"\xc2\x80\":\"Control\","
                 "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                 "\"\xe2\x82\xac\":\"Euro Sign\","
                 "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                 "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

static void test_sorting(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"{\"b\":1,\"a\":2,\"c\":{\"z\":[{\"y\":1,\"x\":2}],\"a\":null}}",
         "{\"a\":2,\"b\":1,\"c\":{\"a\":null,\"z\":[{\"x\":2,\"y\":1}]}}"},
        /* A key sorts before every key it is a prefix of. */
        {"{\"ab\":1,\"a\":2,\"\":3,\"b\":4,\"aa\":5}",
         "{\"\":3,\"a\":2,\"aa\":5,\"ab\":1,\"b\":4}"},
        /* U+10000 and up (surrogates, 0xD800-) sort before U+E000-U+FFFF,
         * the reverse of UTF-8 byte order. */
        {"{\"\\ue000\":1,\"\\ud800\\udc00\":2,\"\\uffff\":3,\"\\ud7ff\":4}",
         "{\"\xed\x9f\xbf\":4,\"\xf0\x90\x80\x80\":2,\"\xee\x80\x80\":1,"
         "\"\xef\xbf\xbf\":3}"},
        {"{\"Z\":1,\"a\":2,\"A\":3,\"_\":4}",
         "{\"A\":3,\"Z\":1,\"_\":4,\"a\":2}"},
        {"{}", "{}"},
        {"[]", "[]"},
        {"[{},[],[[]],{\"a\":{}}]", "[{},[],[[]],{\"a\":{}}]"},
        {" [ true , false , null ] ", "[true,false,null]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_canon(cases[i].in, 0, cases[i].want);
}

/* RFC 8785 appendix B: IEEE 754 bit patterns and their JCS form. */
static const struct {
    uint64_t bits;
    const char *want;
} number_cases[] = {
    {0x0000000000000000, "0"},
    {0x8000000000000000, "0"},
    {0x0000000000000001, "5e-324"},
    {0x8000000000000001, "-5e-324"},
    {0x7fefffffffffffff, "1.7976931348623157e+308"},
    {0xffefffffffffffff, "-1.7976931348623157e+308"},
    {0x4340000000000000, "9007199254740992"},
    {0xc340000000000000, "-9007199254740992"},
    {0x4430000000000000, "295147905179352830000"},
    {0x44b52d02c7e14af5, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6, "1e+23"},
    {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4e, "999999999999999700000"},
    {0x444b1ae4d6e2ef4f, "999999999999999900000"},
    {0x444b1ae4d6e2ef50, "1e+21"},
    {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8d, "0.000001"},
    {0x41b3de4355555553, "333333333.3333332"},
    {0x41b3de4355555554, "333333333.33333325"},
    {0x41b3de4355555555, "333333333.3333333"},
    {0x41b3de4355555556, "333333333.3333334"},
    {0x41b3de4355555557, "333333333.33333343"},
    {0xbecbf647612f3696, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959, "1424953923781206.2"},
    /* Not from the RFC (checked against node): powers of two, where the
     * nearest 16-digit decimal does not read back but its neighbour does. */
    {0x3e70000000000000, "5.960464477539063e-8"},
    {0x3d30000000000000, "5.684341886080802e-14"},
    {0x4580000000000000, "6.189700196426902e+26"},
    {0x0060000000000000, "7.120236347223045e-307"},
};

static void test_numbers_bit_patterns(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof number_cases / sizeof number_cases[0]; i++) {
        double d;
        memcpy(&d, &number_cases[i].bits, sizeof d);
        json_t *v = json_real(d);
        assert_non_null(v);
        char *out = NULL;
        assert_int_equal(cairn_json_canonical(v, &out, NULL), 0);
        if (strcmp(out, number_cases[i].want) != 0)
            fail_msg("%016llx: got %s, want %s",
                     (unsigned long long)number_cases[i].bits, out,
                     number_cases[i].want);
        cairn_free(out);
        json_decref(v);
    }
}

static void test_numbers_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"1e30", "1e+30"},
        {"4.50", "4.5"},
        {"2e-3", "0.002"},
        {"0.000001", "0.000001"},
        {"1e-7", "1e-7"},
        {"0.0000012", "0.0000012"},
        {"1.5e-7", "1.5e-7"},
        {"-0.0", "0"},
        {"-0", "0"},
        {"100", "100"},
        {"1e2", "100"},
        {"-1", "-1"},
        {"1e21", "1e+21"},
        {"0.1", "0.1"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"9007199254740993", "9007199254740992"},
        /* Integers are doubles to JCS; past 2^53 they lose digits. */
        {"9223372036854775807", "9223372036854776000"},
        {"-9223372036854775808", "-9223372036854776000"},
        {"1.0", "1"},
        {"2.5E+3", "2500"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_canon(cases[i].in, 0, cases[i].want);
    /* Too big for a 64-bit integer: read as doubles. */
    expect_canon("[18446744073709551616,123456789012345678901,"
                 "12345678901234567890123]",
                 JSON_DECODE_INT_AS_REAL,
                 "[18446744073709552000,123456789012345680000,"
                 "1.2345678901234568e+22]");
}

static void test_strings(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        /* The short escapes, lower-case \u00xx for the other controls. */
        {"\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\""},
        {"\"\\u0000\\u0001\\u001f\\u000B\"",
         "\"\\u0000\\u0001\\u001f\\u000b\""},
        /* Everything else as it is: DEL, solidus, non-ASCII. */
        {"\"\\u007f\\/\\u00e9\\ud83d\\ude00 \"",
         "\"\x7f/\xc3\xa9\xf0\x9f\x98\x80 \""},
        {"\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\""},
        {"\"\"", "\"\""},
        {"{\"\\n\\u0001\":\"\\u001e\"}", "{\"\\n\\u0001\":\"\\u001e\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_canon(cases[i].in, 0, cases[i].want);
}

/*
 * Strings are scanned a word at a time: each byte that must be escaped
 * (or is not ASCII) is found wherever it falls, before, inside or after
 * a word, and the bytes around it are copied as they are.
 */
static void test_strings_every_offset(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *canon;
    } specials[] = {
        {"\"", "\\\""},
        {"\\", "\\\\"},
        {"\n", "\\n"},
        {"\x01", "\\u0001"},
        {"\x1f", "\\u001f"},
        {"\x7f", "\x7f"},
        {"\xc3\xa9", "\xc3\xa9"},
        {" ", " "},
        {"!", "!"},
        {"#", "#"},
        {"[", "["},
        {"]", "]"},
    };
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++)
        for (size_t len = 0; len <= 24; len++)
            for (size_t at = 0; at <= len; at++) {
                char raw[64], want[64];
                size_t r = 0, w = 0;
                want[w++] = '"';
                for (size_t i = 0; i <= len; i++) {
                    if (i == at) {
                        size_t a = strlen(specials[k].raw);
                        size_t c = strlen(specials[k].canon);
                        memcpy(raw + r, specials[k].raw, a);
                        memcpy(want + w, specials[k].canon, c);
                        r += a;
                        w += c;
                    }
                    if (i < len) {
                        raw[r++] = (char)('a' + i % 26);
                        want[w++] = (char)('a' + i % 26);
                    }
                }
                want[w++] = '"';
                want[w] = '\0';
                json_t *v = json_stringn(raw, r);
                assert_non_null(v);
                char *out = NULL;
                size_t n = 0;
                assert_int_equal(cairn_json_canonical(v, &out, &n), 0);
                if (strcmp(out, want) != 0)
                    fail_msg("special %zu at %zu of %zu:\n got  %s\n want %s",
                             k, at, len, out, want);
                assert_int_equal(n, w);
                cairn_free(out);
                json_decref(v);
            }
}

/*
 * Member order past the few members sorted in place, and keys that share
 * a prefix or differ only past their first non-ASCII character.
 */
static void test_many_members(void **state)
{
    (void)state;
    json_t *o = json_object();
    char want[4096];
    size_t w = 0;
    /* 40 keys "k00".."k39" added backwards, then prefixes of each other. */
    for (int i = 39; i >= 0; i--) {
        char key[8];
        snprintf(key, sizeof key, "k%02d", i);
        assert_int_equal(json_object_set_new(o, key, json_integer(i)), 0);
    }
    assert_int_equal(json_object_set_new(o, "k", json_true()), 0);
    assert_int_equal(json_object_set_new(o, "k0", json_false()), 0);
    w +=
        (size_t)snprintf(want + w, sizeof want - w, "{\"k\":true,\"k0\":false");
    for (int i = 0; i < 40; i++)
        w += (size_t)snprintf(want + w, sizeof want - w, ",\"k%02d\":%d", i, i);
    want[w++] = '}';
    want[w] = '\0';
    char *out = NULL;
    assert_int_equal(cairn_json_canonical(o, &out, NULL), 0);
    assert_string_equal(out, want);
    cairn_free(out);
    json_decref(o);

    /* Past a shared non-ASCII prefix: U+E000 after U+10000 (UTF-16). */
    expect_canon("{\"\\u00e9\\ue000\":1,\"\\u00e9\\ud800\\udc00\":2,"
                 "\"\\u00e9a\":3,\"\\u00e9\":4}",
                 0,
                 "{\"\xc3\xa9\":4,\"\xc3\xa9"
                 "a\":3,"
                 "\"\xc3\xa9\xf0\x90\x80\x80\":2,"
                 "\"\xc3\xa9\xee\x80\x80\":1}");
}

static void test_embedded_nul(void **state)
{
    (void)state;
    json_t *obj = json_object();
    assert_int_equal(json_object_setn_new(obj, "a\0b", 3, json_true()), 0);
    assert_int_equal(json_object_set_new(obj, "a", json_stringn("x\0y", 3)), 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(cairn_json_canonical(obj, &out, &len), 0);
    assert_string_equal(out, "{\"a\":\"x\\u0000y\",\"a\\u0000b\":true}");
    assert_int_equal(len, strlen(out));
    cairn_free(out);
    json_decref(obj);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* Byte strings jansson's checked setters refuse; ours must too. */
    static const char *bad[] = {
        "\xff",         "\xc0\xaf",         "\xe0\x80\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
        "a\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *s = json_stringn_nocheck(bad[i], strlen(bad[i]));
        char *out = (char *)"untouched";
        assert_int_equal(cairn_json_canonical(s, &out, NULL), CAIRN_EINVAL);
        assert_null(out);
        json_decref(s);

        json_t *o = json_object();
        json_object_set_new_nocheck(o, bad[i], json_null());
        assert_int_equal(cairn_json_canonical(o, &out, NULL), CAIRN_EINVAL);
        json_decref(o);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    json_t *root = json_array();
    json_t *cur = root;
    for (int i = 0; i < 3000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    char *out = NULL;
    assert_int_equal(cairn_json_canonical(root, &out, NULL), CAIRN_ETOOBIG);
    assert_null(out);
    json_decref(root);

    /* A value that contains itself does not recurse forever. */
    json_t *a = json_array();
    json_t *b = json_object();
    assert_int_equal(json_array_append(a, b), 0);
    assert_int_equal(json_object_set(b, "a", a), 0);
    assert_int_equal(cairn_json_canonical(a, &out, NULL), CAIRN_ETOOBIG);
    assert_null(out);
    json_object_clear(b);
    json_decref(b);
    json_decref(a);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"z\":[1,2.5,\"long string to make the buffer "
                           "grow more than once or twice\"],\"a\":{\"b\":"
                           "[true,false,null],\"c\":\"\\u0001\"}}",
                           0, NULL);
    assert_non_null(v);
    char *want = NULL;
    assert_int_equal(cairn_json_canonical(v, &want, NULL), 0);

    long base = cairn_alloc_live();
    bool done = false;
    for (long n = 0; n < 1000 && !done; n++) {
        char *out = NULL;
        cairn_alloc_fail_after(n);
        int rc = cairn_json_canonical(v, &out, NULL);
        cairn_alloc_fail_after(-1);
        if (rc == 0) {
            assert_string_equal(out, want);
            cairn_free(out);
            done = true;
        } else {
            assert_int_equal(rc, CAIRN_ENOMEM);
            assert_null(out);
        }
        assert_int_equal(cairn_alloc_live(), base);
    }
    assert_true(done);
    cairn_free(want);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_example),
        cmocka_unit_test(test_rfc8785_sorting),
        cmocka_unit_test(test_sorting),
        cmocka_unit_test(test_numbers_bit_patterns),
        cmocka_unit_test(test_numbers_text),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_strings_every_offset),
        cmocka_unit_test(test_many_members),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
