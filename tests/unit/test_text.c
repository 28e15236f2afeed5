/* SPDX-License-Identifier: Apache-2.0 */
/* The base layer's text helpers: UTF-8, hex, base64, IPv4, CSV fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

/* ---- UTF-8 --------------------------------------------------------------- */

struct utf8_case {
    const char *bytes;
    size_t len;
    size_t want_len; /* of the first character; 0: not UTF-8 */
    uint32_t want_cp;
};

#define U(s, n, cp) {s, sizeof s - 1, n, cp}

static const struct utf8_case utf8_cases[] = {
    U("A", 1, 0x41),
    U("\x7f", 1, 0x7f),
    {"\0", 1, 1, 0},                       /* NUL is a character */
    U("\xc2\x80", 2, 0x80),                /* lowest two-byte */
    U("\xdf\xbf", 2, 0x7ff),
    U("\xe0\xa0\x80", 3, 0x800),           /* lowest three-byte */
    U("\xed\x9f\xbf", 3, 0xd7ff),          /* just below the surrogates */
    U("\xee\x80\x80", 3, 0xe000),          /* just above them */
    U("\xef\xbf\xbf", 3, 0xffff),
    U("\xf0\x90\x80\x80", 4, 0x10000),     /* lowest four-byte */
    U("\xf4\x8f\xbf\xbf", 4, 0x10ffff),    /* the last code point */
    U("\xc3\xa9tail", 2, 0xe9),            /* only the first character */
    /* overlong forms */
    U("\xc0\x80", 0, 0),
    U("\xc1\xbf", 0, 0),
    U("\xe0\x80\x80", 0, 0),
    U("\xe0\x9f\xbf", 0, 0),
    U("\xf0\x80\x80\x80", 0, 0),
    U("\xf0\x8f\xbf\xbf", 0, 0),
    /* surrogates, high and low */
    U("\xed\xa0\x80", 0, 0),
    U("\xed\xbf\xbf", 0, 0),
    /* past U+10FFFF */
    U("\xf4\x90\x80\x80", 0, 0),
    U("\xf5\x80\x80\x80", 0, 0),
    U("\xf7\xbf\xbf\xbf", 0, 0),
    U("\xf8\x88\x80\x80\x80", 0, 0),
    U("\xff", 0, 0),
    /* truncated sequences and bad continuation bytes */
    U("\xc3", 0, 0),
    U("\xe2\x82", 0, 0),
    U("\xf0\x9f\x98", 0, 0),
    U("\xc3(", 0, 0),
    U("\xe2\x28\xa1", 0, 0),
    U("\xf0\x9f\x98\x28", 0, 0),
    U("\x80", 0, 0),                       /* a lone continuation byte */
    {"", 0, 0, 0},
};

static void test_utf8_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        const struct utf8_case *c = &utf8_cases[i];
        uint32_t cp = 0xdeadbeef;
        size_t n = cairn_utf8_decode(c->bytes, c->len, &cp);
        if (n != c->want_len)
            fail_msg("case %zu: length %zu, want %zu", i, n, c->want_len);
        assert_int_equal(cairn_utf8_len(c->bytes, c->len), c->want_len);
        if (n > 0)
            assert_int_equal(cp, c->want_cp);
        else
            assert_int_equal(cp, 0xdeadbeef); /* untouched */
        /* A whole string of exactly this character is valid iff it is. */
        if (c->len > 0 && n == c->len)
            assert_true(cairn_utf8_valid(c->bytes, c->len));
        if (c->len > 0 && n == 0)
            assert_false(cairn_utf8_valid(c->bytes, c->len));
    }
}

static void test_utf8_strings(void **state)
{
    (void)state;
    assert_true(cairn_utf8_valid("", 0));
    assert_true(cairn_utf8_valid("plain ascii", 11));
    assert_true(
        cairn_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_true(cairn_utf8_valid("a\0b", 3));
    /* One bad byte anywhere, or a character cut at the end. */
    assert_false(cairn_utf8_valid("abc\xff", 4));
    assert_false(cairn_utf8_valid("\xc3\xa9\xc3", 3));
    assert_false(cairn_utf8_valid("ok \xed\xa0\x80 ok", 9));
    /* The length bounds the read: the valid prefix of a longer buffer. */
    assert_true(cairn_utf8_valid("\xc3\xa9\xc3", 2));
}

static void test_utf8_encode(void **state)
{
    (void)state;
    static const uint32_t cps[] = {0,      0x41,   0x7f,    0x80,    0x7ff,
                                   0x800,  0xd7ff, 0xe000,  0xfffd,  0xffff,
                                   0x10000, 0x1f600, 0x10ffff};
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        char out[4];
        uint32_t back = 0;
        size_t n = cairn_utf8_encode(cps[i], out);
        size_t want = cps[i] < 0x80 ? 1 : cps[i] < 0x800 ? 2
                                        : cps[i] < 0x10000 ? 3 : 4;
        assert_int_equal(n, want);
        assert_int_equal(cairn_utf8_decode(out, n, &back), n);
        assert_int_equal(back, cps[i]);
    }
    char out[4];
    assert_int_equal(cairn_utf8_encode(0x20ac, out), 3);
    assert_memory_equal(out, "\xe2\x82\xac", 3);
}

/* ---- hex ----------------------------------------------------------------- */

static void test_hex_digit(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        assert_int_equal(cairn_hex_digit(c), want);
    }
    /* Either case, the same value; the letters after f are not digits. */
    assert_int_equal(cairn_hex_digit('b'), cairn_hex_digit('B'));
    assert_int_equal(cairn_hex_digit('g'), -1);
    assert_int_equal(cairn_hex_digit('G'), -1);
    assert_int_equal(cairn_hex_digit((unsigned char)'\xe6'), -1);
    assert_int_equal(cairn_hex_digit(-1), -1);
}

/* ---- base64 -------------------------------------------------------------- */

struct b64_case {
    const char *text;
    const char *want; /* NULL: not base64 */
    size_t want_len;
};

static const struct b64_case b64_cases[] = {
    {"", "", 0},
    {"Zg==", "f", 1},
    {"Zm8=", "fo", 2},
    {"Zm9v", "foo", 3},
    {"Zm9vYg==", "foob", 4},
    {"Zm9vYmE=", "fooba", 5},
    {"Zm9vYmFy", "foobar", 6},
    {"+/+/", "\xfb\xff\xbf", 3},
    {"AAAA", "\0\0\0", 3},
    /* Only the standard alphabet, padded, without blanks. */
    {"Zm9", NULL, 0},
    {"Zg", NULL, 0},
    {"Zm9v\n", NULL, 0},
    {"Zm 9", NULL, 0},
    {" Zm9v", NULL, 0},
    {"Zm9v YmFy", NULL, 0},
    {"-_-_", NULL, 0},
    {"Zm9*", NULL, 0},
    /* '=' only at the very end, at most two of them. */
    {"Z===", NULL, 0},
    {"====", NULL, 0},
    {"Zg=a", NULL, 0},
    {"Zg==Zm9v", NULL, 0},
    {"Zm=v", NULL, 0},
};

static void test_base64(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof b64_cases / sizeof b64_cases[0]; i++) {
        const struct b64_case *c = &b64_cases[i];
        uint8_t out[16];
        size_t n = 99;
        int rc = cairn_base64_decode(c->text, strlen(c->text), out, &n);
        if (c->want == NULL) {
            if (rc != CAIRN_EINVAL)
                fail_msg("case %zu (%s): accepted", i, c->text);
            /* Checking only gives the same answer. */
            assert_int_equal(cairn_base64_decode(c->text, strlen(c->text),
                                                 NULL, NULL),
                             CAIRN_EINVAL);
            continue;
        }
        if (rc != 0)
            fail_msg("case %zu (%s): refused", i, c->text);
        assert_int_equal(n, c->want_len);
        assert_memory_equal(out, c->want, n);
        n = 99;
        assert_int_equal(
            cairn_base64_decode(c->text, strlen(c->text), NULL, &n), 0);
        assert_int_equal(n, c->want_len);
    }
}

/* ---- IPv4 ---------------------------------------------------------------- */

static void test_ipv4(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        uint32_t want;
    } cases[] = {
        {"0.0.0.0", true, 0},
        {"1.2.3.4", true, 0x01020304},
        {"10.0.0.1", true, 0x0a000001},
        {"255.255.255.255", true, 0xffffffff},
        {"192.168.100.200", true, 0xc0a864c8},
        /* leading zeros are octal to some parsers: refused */
        {"01.2.3.4", false, 0},
        {"1.2.3.04", false, 0},
        {"1.2.003.4", false, 0},
        {"00.0.0.0", false, 0},
        /* out of range */
        {"256.0.0.1", false, 0},
        {"1.2.3.999", false, 0},
        {"1.2.3.1000", false, 0},
        {"1234.1.1.1", false, 0},
        /* wrong shape */
        {"1.2.3", false, 0},
        {"1.2.3.4.5", false, 0},
        {"1..2.3", false, 0},
        {".1.2.3.4", false, 0},
        {"1.2.3.", false, 0},
        {"a.b.c.d", false, 0},
        {"1.2.3.-4", false, 0},
        {"", false, 0},
        /* trailing or leading garbage */
        {"1.2.3.4 ", false, 0},
        {" 1.2.3.4", false, 0},
        {"1.2.3.4/24", false, 0},
        {"1.2.3.4x", false, 0},
        {"1.2.3.4:80", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t a = 0x5a5a5a5a;
        bool ok = cairn_ipv4_parse(cases[i].text, strlen(cases[i].text), &a);
        if (ok != cases[i].ok)
            fail_msg("case %zu (%s): %s", i, cases[i].text,
                     ok ? "accepted" : "refused");
        if (ok)
            assert_int_equal(a, cases[i].want);
        assert_int_equal(
            cairn_ipv4_parse(cases[i].text, strlen(cases[i].text), NULL), ok);
    }
    /* The length bounds the read: a prefix of a longer text. */
    uint32_t a = 0;
    assert_true(cairn_ipv4_parse("10.1.2.3,next", 8, &a));
    assert_int_equal(a, 0x0a010203);
}

/* ---- CSV ----------------------------------------------------------------- */

/*
 * Split `in` into records of fields with `flags`, each field written as
 * [text] with "" decoded and the tail after a closing quote appended, and
 * each record ended by '|'; or "ERROR" / "UNCLOSED" at the first error.
 */
static void split(const char *in, unsigned flags, char *out, size_t cap)
{
    size_t len = strlen(in), pos = 0, o = 0;
    out[0] = '\0';
    for (;;) {
        struct cairn_csv_field f;
        int sep = cairn_csv_field(in, len, &pos, flags, &f);
        if (sep < 0) {
            assert_int_equal(sep, CAIRN_EPARSE);
            snprintf(out + o, cap - o, "%s", f.unclosed ? "UNCLOSED" : "ERROR");
            return;
        }
        char cell[256];
        size_t n = f.escaped ? cairn_csv_unquote(f.s, f.len, cell)
                             : (memcpy(cell, f.s, f.len), f.len);
        memcpy(cell + n, f.tail, f.tail_len);
        n += f.tail_len;
        o += (size_t)snprintf(out + o, cap - o, "[%.*s]", (int)n, cell);
        if (sep == '\n')
            o += (size_t)snprintf(out + o, cap - o, "|");
        if (pos >= len && sep == '\n')
            break;
    }
}

static void test_csv(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        unsigned flags;
        const char *want;
    } cases[] = {
        {"", 0, "[]|"},
        {"a,b,c", 0, "[a][b][c]|"},
        {"a,,c", 0, "[a][][c]|"},
        {"a,", 0, "[a][]|"},
        {",", 0, "[][]|"},
        {"a,b\nc,d\n", 0, "[a][b]|[c][d]|"},
        {"a,b\r\nc,d\r\n", 0, "[a][b]|[c][d]|"},
        {"a,b\r", 0, "[a][b]|"},
        /* a lone CR inside a line is text */
        {"a\rb,c", 0, "[a\rb][c]|"},
        /* quotes: commas, escaped quotes, line breaks inside */
        {"\"a,b\",c", 0, "[a,b][c]|"},
        {"\"say \"\"hi\"\"\",x", 0, "[say \"hi\"][x]|"},
        {"\"\"\"\"", 0, "[\"]|"},
        {"\"\"", 0, "[]|"},
        {"\"two\nlines\",x\ny", 0, "[two\nlines][x]|[y]|"},
        {"\"a\"b,c", 0, "[ab][c]|"},
        {"a\"b,c", 0, "[a\"b][c]|"},
        {"\"open,x\n", 0, "UNCLOSED"},
        {"\"a\"\"", 0, "UNCLOSED"},
        /* one line: no record breaks, text after a quote refused */
        {"a,b\nc", CAIRN_CSV_LINE, "[a][b\nc]|"},
        {"a,b\r", CAIRN_CSV_LINE, "[a][b\r]|"},
        {"\"a\"b,c", CAIRN_CSV_LINE | CAIRN_CSV_STRICT, "ERROR"},
        {"\"a\" ,c", CAIRN_CSV_LINE | CAIRN_CSV_STRICT, "ERROR"},
        {"\"a\",\"b\"\"c\"", CAIRN_CSV_LINE | CAIRN_CSV_STRICT,
         "[a][b\"c]|"},
        {"x,\"a,b", CAIRN_CSV_LINE | CAIRN_CSV_STRICT, "[x]UNCLOSED"},
        {"a,b,", CAIRN_CSV_LINE | CAIRN_CSV_STRICT, "[a][b][]|"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[512];
        split(cases[i].in, cases[i].flags, got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
    }
}

/* Fields point into the input unless they need decoding. */
static void test_csv_zero_copy(void **state)
{
    (void)state;
    const char *in = "plain,\"quoted\",\"with \"\"q\"\"\"";
    size_t len = strlen(in), pos = 0;
    struct cairn_csv_field f;
    assert_int_equal(cairn_csv_field(in, len, &pos, CAIRN_CSV_LINE, &f), ',');
    assert_ptr_equal(f.s, in);
    assert_int_equal(f.len, 5);
    assert_false(f.quoted);
    assert_int_equal(cairn_csv_field(in, len, &pos, CAIRN_CSV_LINE, &f), ',');
    assert_ptr_equal(f.s, in + 7);
    assert_int_equal(f.len, 6);
    assert_true(f.quoted);
    assert_false(f.escaped);
    assert_int_equal(cairn_csv_field(in, len, &pos, CAIRN_CSV_LINE, &f),
                     '\n');
    assert_true(f.escaped);
    assert_int_equal(pos, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_characters),
        cmocka_unit_test(test_utf8_strings),
        cmocka_unit_test(test_utf8_encode),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_zero_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
