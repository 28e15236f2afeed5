/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 parsing, formatting and comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

/* Which parser modes accept a case. */
enum mode { NONE, BOTH, LOOSE };

struct parse_case {
    const char *text;
    int ok; /* BOTH, LOOSE (non-STIX only) or NONE */
    int64_t sec;
    int32_t nsec;
    int digits;
};

static const struct parse_case parse_cases[] = {
    {"1970-01-01T00:00:00Z", BOTH, 0, 0, 0},
    {"2016-04-06T20:03:00.000Z", BOTH, 1459972980, 0, 3},
    {"2016-05-12T08:17:27.000123Z", BOTH, 1463041047, 123000, 6},
    {"2020-12-13T23:59:59.5Z", BOTH, 1607903999, 500000000, 1},
    {"1969-12-31T23:59:59Z", BOTH, -1, 0, 0},
    {"0000-01-01T00:00:00Z", BOTH, -62167219200, 0, 0},
    {"9999-12-31T23:59:59.999999999Z", BOTH, 253402300799, 999999999, 9},
    /* Leap years: every 4th, not every 100th, but every 400th. */
    {"2024-02-29T00:00:00Z", BOTH, 1709164800, 0, 0},
    {"2000-02-29T12:00:00Z", BOTH, 951825600, 0, 0},
    {"1900-02-29T00:00:00Z", NONE, 0, 0, 0},
    {"2023-02-29T00:00:00Z", NONE, 0, 0, 0},
    {"2100-02-29T00:00:00Z", NONE, 0, 0, 0},
    {"2400-02-29T00:00:00Z", BOTH, 13574563200, 0, 0},
    /* Month lengths. */
    {"2021-04-30T00:00:00Z", BOTH, 1619740800, 0, 0},
    {"2021-04-31T00:00:00Z", NONE, 0, 0, 0},
    {"2021-06-31T00:00:00Z", NONE, 0, 0, 0},
    {"2021-09-31T00:00:00Z", NONE, 0, 0, 0},
    {"2021-11-31T00:00:00Z", NONE, 0, 0, 0},
    {"2021-12-31T00:00:00Z", BOTH, 1640908800, 0, 0},
    {"2021-13-01T00:00:00Z", NONE, 0, 0, 0},
    {"2021-00-01T00:00:00Z", NONE, 0, 0, 0},
    {"2021-01-00T00:00:00Z", NONE, 0, 0, 0},
    {"2021-01-32T00:00:00Z", NONE, 0, 0, 0},
    /* Clock fields; second 60 folds into the next second. */
    {"2021-01-01T24:00:00Z", NONE, 0, 0, 0},
    {"2021-01-01T23:60:00Z", NONE, 0, 0, 0},
    {"2016-12-31T23:59:60Z", BOTH, 1483228800, 0, 0},
    {"2016-12-31T23:59:60.25Z", BOTH, 1483228800, 250000000, 2},
    {"2016-12-31T23:59:61Z", NONE, 0, 0, 0},
    /* Fractions of 1 to 12 digits; past 9 they are truncated. */
    {"2020-01-01T00:00:00.1Z", BOTH, 1577836800, 100000000, 1},
    {"2020-01-01T00:00:00.12Z", BOTH, 1577836800, 120000000, 2},
    {"2020-01-01T00:00:00.1234Z", BOTH, 1577836800, 123400000, 4},
    {"2020-01-01T00:00:00.12345Z", BOTH, 1577836800, 123450000, 5},
    {"2020-01-01T00:00:00.1234567Z", BOTH, 1577836800, 123456700, 7},
    {"2020-01-01T00:00:00.12345678Z", BOTH, 1577836800, 123456780, 8},
    {"2020-01-01T00:00:00.1234567891Z", BOTH, 1577836800, 123456789, 9},
    {"2020-01-01T00:00:00.123456789999Z", BOTH, 1577836800, 123456789, 9},
    {"2020-01-01T00:00:00.Z", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00,5Z", NONE, 0, 0, 0},
    /* Case of T and Z, and offsets: only outside STIX mode. */
    {"2020-01-01t00:00:00Z", LOOSE, 1577836800, 0, 0},
    {"2020-01-01T00:00:00z", LOOSE, 1577836800, 0, 0},
    {"2020-01-01T02:00:00+02:00", LOOSE, 1577836800, 0, 0},
    {"2019-12-31T19:30:00.5-04:30", LOOSE, 1577836800, 500000000, 1},
    {"2020-01-01T00:00:00-00:00", LOOSE, 1577836800, 0, 0},
    {"2020-01-01T00:00:00+24:00", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00+01:60", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00+0100", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00+01", NONE, 0, 0, 0},
    {"2020-01-01 00:00:00Z", NONE, 0, 0, 0},
    /* Shape. */
    {"2020-01-01T00:00:00", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00ZZ", NONE, 0, 0, 0},
    {"2020-01-01T00:00:00Z ", NONE, 0, 0, 0},
    {" 2020-01-01T00:00:00Z", NONE, 0, 0, 0},
    {"2020-01-01", NONE, 0, 0, 0},
    {"", NONE, 0, 0, 0},
    {"20-01-01T00:00:00Z", NONE, 0, 0, 0},
    {"02020-01-01T00:00:00Z", NONE, 0, 0, 0},
    {"2020-1-01T00:00:00Z", NONE, 0, 0, 0},
    {"2020-01-01T0:00:00Z", NONE, 0, 0, 0},
    {"2020-01-01T00:00:0Z", NONE, 0, 0, 0},
    {"2020/01/01T00:00:00Z", NONE, 0, 0, 0},
    {"2020-01-01T00-00-00Z", NONE, 0, 0, 0},
    {"+020-01-01T00:00:00Z", NONE, 0, 0, 0},
    {"2020-0a-01T00:00:00Z", NONE, 0, 0, 0},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        for (int stix = 0; stix <= 1; stix++) {
            bool want = c->ok == BOTH || (c->ok == LOOSE && !stix);
            struct cairn_time t = {42, 43, 4};
            int rc = cairn_time_parse(c->text, strlen(c->text), stix, &t);
            if (want != (rc == 0))
                fail_msg("\"%s\" stix=%d: rc %d", c->text, stix, rc);
            if (!want) {
                assert_int_equal(rc, CAIRN_EINVAL);
                /* A failed parse leaves the output alone. */
                assert_int_equal(t.sec, 42);
                assert_int_equal(t.nsec, 43);
                assert_int_equal(t.digits, 4);
                continue;
            }
            if (t.sec != c->sec || t.nsec != c->nsec || t.digits != c->digits)
                fail_msg("\"%s\": got %lld.%09d/%d", c->text, (long long)t.sec,
                         t.nsec, t.digits);
        }
    }
}

static void test_parse_length_bounded(void **state)
{
    (void)state;
    struct cairn_time t;
    /* Not NUL-terminated after the Z: only `len` bytes count. */
    const char text[] = "2021-03-04T05:06:07.890Zjunk";
    assert_int_equal(cairn_time_parse(text, 24, true, &t), 0);
    assert_int_equal(t.sec, 1614834367);
    assert_int_equal(t.nsec, 890000000);
    assert_int_equal(cairn_time_parse(text, sizeof text - 1, true, &t),
                     CAIRN_EINVAL);
    /* Cut before the end: the Z is missing. */
    assert_int_equal(cairn_time_parse(text, 23, true, &t), CAIRN_EINVAL);
    /* An embedded NUL is not a digit. */
    const char nul[] = "2021-03-04T05:06:07\0Z";
    assert_int_equal(cairn_time_parse(nul, sizeof nul - 1, true, &t),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_time_parse(text, 0, false, &t), CAIRN_EINVAL);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char *texts[] = {
        "1970-01-01T00:00:00Z",           "2016-04-06T20:03:00.000Z",
        "2016-05-12T08:17:27.000123Z",    "1999-12-31T23:59:59.9Z",
        "0000-01-01T00:00:00Z",           "0001-03-01T00:00:00.5Z",
        "1600-02-29T11:22:33.123456789Z", "9999-12-31T23:59:59.999999999Z",
        "2024-02-29T00:00:00.10Z",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct cairn_time t;
        char buf[31];
        assert_int_equal(cairn_time_parse(texts[i], strlen(texts[i]), true, &t),
                         0);
        int n = cairn_time_format(&t, -1, buf, sizeof buf);
        assert_int_equal(n, (int)strlen(texts[i]));
        assert_string_equal(buf, texts[i]);
    }
}

static void test_format_digits(void **state)
{
    (void)state;
    struct cairn_time t = {1607903999, 123456789, 9};
    char buf[31];
    static const struct {
        int digits;
        const char *want;
    } cases[] = {
        {0, "2020-12-13T23:59:59Z"},
        {1, "2020-12-13T23:59:59.1Z"},
        {3, "2020-12-13T23:59:59.123Z"},
        {6, "2020-12-13T23:59:59.123456Z"},
        {9, "2020-12-13T23:59:59.123456789Z"},
        {-1, "2020-12-13T23:59:59.123456789Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = cairn_time_format(&t, cases[i].digits, buf, sizeof buf);
        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
    }
    /* Digits past the precision are zeros; fewer truncate, never round. */
    struct cairn_time ms = {0, 999500000, 4};
    assert_int_equal(cairn_time_format(&ms, 6, buf, sizeof buf), 27);
    assert_string_equal(buf, "1970-01-01T00:00:00.999500Z");
    assert_int_equal(cairn_time_format(&ms, 3, buf, sizeof buf), 24);
    assert_string_equal(buf, "1970-01-01T00:00:00.999Z");
    struct cairn_time neg = {-1, 250000000, 2};
    assert_int_equal(cairn_time_format(&neg, -1, buf, sizeof buf), 23);
    assert_string_equal(buf, "1969-12-31T23:59:59.25Z");
}

static void test_format_limits(void **state)
{
    (void)state;
    struct cairn_time t = {0, 0, 3};
    char buf[31];
    /* 24 characters and the NUL. */
    assert_int_equal(cairn_time_format(&t, 3, buf, 24), CAIRN_ETOOBIG);
    assert_int_equal(cairn_time_format(&t, 3, buf, 25), 24);
    assert_int_equal(cairn_time_format(&t, 10, buf, sizeof buf), CAIRN_EINVAL);
    struct cairn_time bad_ns = {0, 1000000000, 0};
    assert_int_equal(cairn_time_format(&bad_ns, 0, buf, sizeof buf),
                     CAIRN_EINVAL);
    /* Beyond four year digits there is no STIX form. */
    struct cairn_time far = {253402300800, 0, 0};
    assert_int_equal(cairn_time_format(&far, 0, buf, sizeof buf), CAIRN_EINVAL);
    struct cairn_time early = {-62167219201, 0, 0};
    assert_int_equal(cairn_time_format(&early, 0, buf, sizeof buf),
                     CAIRN_EINVAL);
}

static void test_cmp(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int want;
    } cases[] = {
        {"2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000Z", 0},
        {"2020-01-01T00:00:00.1Z", "2020-01-01T00:00:00.100000Z", 0},
        {"2020-01-01T00:00:00.001Z", "2020-01-01T00:00:00Z", 1},
        {"2019-12-31T23:59:59.999999999Z", "2020-01-01T00:00:00Z", -1},
        {"2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59.5Z", "1970-01-01T00:00:00Z", -1},
        {"2020-01-01T00:00:01Z", "2020-01-01T00:00:00.999Z", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cairn_time a, b;
        assert_int_equal(
            cairn_time_parse(cases[i].a, strlen(cases[i].a), true, &a), 0);
        assert_int_equal(
            cairn_time_parse(cases[i].b, strlen(cases[i].b), true, &b), 0);
        assert_int_equal(cairn_time_cmp(&a, &b), cases[i].want);
        assert_int_equal(cairn_time_cmp(&b, &a), -cases[i].want);
    }
}

static void test_now(void **state)
{
    (void)state;
    char buf[31];
    struct cairn_time ms = cairn_time_now(3);
    struct cairn_time us = cairn_time_now(6);
    assert_int_equal(ms.digits, 3);
    assert_int_equal(us.digits, 6);
    assert_int_equal(ms.nsec % 1000000, 0);
    assert_int_equal(us.nsec % 1000, 0);
    /* After 2025-01-01 and not going backwards between two calls. */
    assert_true(ms.sec > 1735689600);
    assert_true(cairn_time_cmp(&ms, &us) <= 0);

    /* What now() gives parses back to the same instant. */
    assert_int_equal(cairn_time_format(&us, -1, buf, sizeof buf), 27);
    struct cairn_time back;
    assert_int_equal(cairn_time_parse(buf, strlen(buf), true, &back), 0);
    assert_int_equal(cairn_time_cmp(&back, &us), 0);
    assert_int_equal(back.digits, 6);

    struct cairn_time s = cairn_time_now(0);
    assert_int_equal(s.nsec, 0);
    assert_int_equal(cairn_time_format(&s, -1, buf, sizeof buf), 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_length_bounded),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_digits),
        cmocka_unit_test(test_format_limits),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
