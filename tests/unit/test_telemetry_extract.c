/* SPDX-License-Identifier: Apache-2.0 */
/* The free-text extractor and shape typing, as a table of cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"
#include "cairn/telemetry.h"
#include "telemetry/telemetry_int.h"

/* Text in, and every value it must yield, "type:value" joined by spaces. */
struct extract_case {
    const char *text;
    const char *want;
};

static const struct extract_case extract_cases[] = {
    /* IPv4: four octets in range, no leading zeros, whole tokens. */
    {"connect to 192.0.2.1 now", "ipv4:192.0.2.1"},
    {"src=10.0.0.1:443 dst=255.255.255.255",
     "ipv4:10.0.0.1 ipv4:255.255.255.255"},
    {"999.1.1.1", ""},
    {"1.2.3", ""},
    {"1.2.3.4.5", ""},
    {"256.0.0.1 and 01.2.3.4", ""},
    {"version 1.2.3.4a", ""},
    {"(0.0.0.0)", "ipv4:0.0.0.0"},
    /* IPv6. */
    {"from 2001:db8::1 port 22", "ipv6:2001:db8::1"},
    {"[fe80::1ff:fe23:4567:890a]:80", "ipv6:fe80::1ff:fe23:4567:890a"},
    {"::ffff:192.0.2.128", "ipv6:::ffff:192.0.2.128"},
    {"2001:db8:0:0:1:0:0:1", "ipv6:2001:db8:0:0:1:0:0:1"},
    {"at 10:00:00 mac 00:1a:2b:3c:4d:5e", ""},
    {"std::string Foo::bar", ""},
    /* URLs: schemes, ports, paths, queries; trailing punctuation off. */
    {"see http://evil.example.com/a/b?c=d&e=f.",
     "url:http://evil.example.com/a/b?c=d&e=f domain:evil.example.com"},
    {"https://user:pw@host.example.org:8443/x",
     "url:https://user:pw@host.example.org:8443/x domain:host.example.org"},
    {"(ftp://192.0.2.5/pub)", "url:ftp://192.0.2.5/pub ipv4:192.0.2.5"},
    {"\"http://[2001:db8::2]:8080/\"",
     "url:http://[2001:db8::2]:8080/ ipv6:2001:db8::2"},
    {"url=http://a.example.net/p(1)",
     "url:http://a.example.net/p(1) domain:a.example.net"},
    {"http:// nothing", ""},
    /* Email addresses. */
    {"from=<alice.smith+tag@mail.example.com>",
     "email:alice.smith+tag@mail.example.com"},
    {"bob_jones@example.org, carol@example.co.uk",
     "email:bob_jones@example.org email:carol@example.co.uk"},
    {"user@localhost", ""},
    {"@example.com", "domain:example.com"},
    /* Domains: labels, a letters-only TLD, at least one dot. */
    {"lookup 7sbvaemscs0mc925tb99.appsync-api.us-west-2.avsvmcloud.com.",
     "domain:7sbvaemscs0mc925tb99.appsync-api.us-west-2.avsvmcloud.com"},
    {"localhost example a.b", ""},
    {"xn--bcher-kva.example", "domain:xn--bcher-kva.example"},
    {"host-.example.com -x.example.com", "domain:x.example.com"},
    {"setup.exe", "domain:setup.exe"},
    {"nginx/1.18.0", ""},
    /* Digests: exact hex runs bounded by non-hex. */
    {"md5 d41d8cd98f00b204e9800998ecf8427e",
     "md5:d41d8cd98f00b204e9800998ecf8427e"},
    {"sha1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709;",
     "sha1:DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"},
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d1"
     "3c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
     "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    /* 33 and 31 hex digits, and a 32-digit run inside a longer one. */
    {"d41d8cd98f00b204e9800998ecf8427e0 1d41d8cd98f00b204e9800998ecf842", ""},
    {"0d41d8cd98f00b204e9800998ecf8427ea", ""},
    {"d41d8cd98f00b204e9800998ecf8427e.bin",
     "domain:d41d8cd98f00b204e9800998ecf8427e.bin "
     "md5:d41d8cd98f00b204e9800998ecf8427e"},
    {"g41d8cd98f00b204e9800998ecf8427e", ""},
    /* Host runs, URL ends and authorities longer than the 16 bytes the
     * fast paths take at a time, and every byte that ends a URL. */
    {"at averyveryverylonghostname-with-dashes.sub-domain.example.org.",
     "domain:averyveryverylonghostname-with-dashes.sub-domain.example.org"},
    {"x http://averyveryverylonghostname.example.com/some/long/path?q=1 y",
     "url:http://averyveryverylonghostname.example.com/some/long/path?q=1 "
     "domain:averyveryverylonghostname.example.com"},
    {"https://averylongusername:secretpassword@files.example.org:8443/x",
     "url:https://averylongusername:secretpassword@files.example.org:8443/x "
     "domain:files.example.org"},
    {"http://host.example.com/a/long/path@notuser.example.net",
     "url:http://host.example.com/a/long/path@notuser.example.net "
     "domain:host.example.com"},
    {"(see http://a.example.net/path/to/page(1)) and http://b.example.net/"
     "long/path/page).",
     "url:http://a.example.net/path/to/page(1)) domain:a.example.net "
     "url:http://b.example.net/long/path/page domain:b.example.net"},
    {"http://c.example.net/0123456789abcdef\tz",
     "url:http://c.example.net/0123456789abcdef domain:c.example.net"},
    {"http://c.example.net/0123456789abcdef\"z http://c.example.net/"
     "0123456789abcdef<z http://c.example.net/0123456789abcdef|z",
     "url:http://c.example.net/0123456789abcdef domain:c.example.net "
     "url:http://c.example.net/0123456789abcdef domain:c.example.net "
     "url:http://c.example.net/0123456789abcdef domain:c.example.net"},
    {"http://d.example.net/0123456789abcdef^z http://d.example.net/"
     "0123456789abcdef`z http://d.example.net/0123456789abcdef{z",
     "url:http://d.example.net/0123456789abcdef domain:d.example.net "
     "url:http://d.example.net/0123456789abcdef domain:d.example.net "
     "url:http://d.example.net/0123456789abcdef domain:d.example.net"},
    {"http://e.example.net/0123456789abcdef}z http://e.example.net/"
     "0123456789abcdef\\z http://e.example.net/0123456789abcdef\x7fz "
     "http://e.example.net/0123456789abcdef'z",
     "url:http://e.example.net/0123456789abcdef domain:e.example.net "
     "url:http://e.example.net/0123456789abcdef domain:e.example.net "
     "url:http://e.example.net/0123456789abcdef domain:e.example.net "
     "url:http://e.example.net/0123456789abcdef domain:e.example.net"},
    {"http://f.example.net/caf\xc3\xa9-0123456789abcdef/x y",
     "url:http://f.example.net/caf\xc3\xa9-0123456789abcdef/x "
     "domain:f.example.net"},
    /* Words passed over whole, and what ends one: a ':' (IPv6 of one to
     * five hex digits first, a URL's scheme), '_' and '+' that go on
     * into an email's local part, a '.' anywhere in it. */
    {"TCP_MISS/304 70401 GET - HIER_NONE/- text/html", ""},
    {"x fe80::1 abcd:ef01::2 abcde:1::2 abcdef:1::2 y",
     "ipv6:fe80::1 ipv6:abcd:ef01::2"},
    {"w=:: ::1 a::1 -::2", "ipv6:::1 ipv6:a::1"},
    {"first_last+tag@example.com TCP_MISS@x", "email:first_last+tag@example.com"},
    {"abcdefghijklmnopqrstuvwxyz0123456789abcdef.example.org",
     "domain:abcdefghijklmnopqrstuvwxyz0123456789abcdef.example.org"},
    /* Domains of 16 to 64 bytes and beyond, with the rules at the edges
     * of the 16-byte pieces they are checked in. */
    {"abcdefghijklmn.co abcdefghijklm-.co abcdefghijklmn.c0 "
     "a.bcdefghijklmnopq",
     "domain:abcdefghijklmn.co domain:a.bcdefghijklmnopq"},
    {"aaaaaaaaaaaaaaa.-bbbbbbbbbbbbbb.com aaaaaaaaaaaaaaaa..bbbbbbbbbbbb.com",
     ""},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.xn--p1ai "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.xn--p1ai",
     "domain:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
     "xn--p1ai "
     "domain:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
     "xn--p1ai"},
    {"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com "
     "x.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com",
     ""},
    /* A last label of digits is no TLD. */
    {"1607904000.017 host.123 ab.12 12.34.56 example.c0m a.b.c9", ""},
    /* Mixed syslog line. */
    {"Dec 14 10:00:00 fw kernel: DROP SRC=203.0.113.50 DST=10.0.0.15",
     "ipv4:203.0.113.50 ipv4:10.0.0.15"},
    /* Ends found in a value's last 16 bytes (a URL's end, its authority,
     * '@' and ':' there, '(' before a final ')', a host run). */
    {"x http://a.example.com/abcdefgh\"tail",
     "url:http://a.example.com/abcdefgh domain:a.example.com"},
    {"go http://a.example.com/ab(c) now",
     "url:http://a.example.com/ab(c) domain:a.example.com"},
    {"(see http://x.example.org/wiki/Foo_(bar))",
     "url:http://x.example.org/wiki/Foo_(bar)) domain:x.example.org"},
    {"(see http://x.example.org/wiki/Foo_bar)",
     "url:http://x.example.org/wiki/Foo_bar domain:x.example.org"},
    {"http://user:pass@h.example.net:8080",
     "url:http://user:pass@h.example.net:8080 domain:h.example.net"},
    {"http://averyveryverylonguser:pw@host.example.com:99",
     "url:http://averyveryverylonguser:pw@host.example.com:99 domain:host.example.com"},
    {"http://u@v@w.example.io:1/",
     "url:http://u@v@w.example.io:1/ domain:w.example.io"},
    {"at http://longer-host-name.example.com:8080?q",
     "url:http://longer-host-name.example.com:8080?q domain:longer-host-name.example.com"},
    {"ftp://[2001:db8::7]:21",
     "url:ftp://[2001:db8::7]:21 ipv6:2001:db8::7"},
    {"http://host.example.com/path.html.",
     "url:http://host.example.com/path.html domain:host.example.com"},
    {"http://host.example.com/p;q,",
     "url:http://host.example.com/p;q domain:host.example.com"},
    {"abcdefghijklmnopq.example.com",
     "domain:abcdefghijklmnopq.example.com"},
    {"ab.example.com!",
     "domain:ab.example.com"},
    {"see https://www.example.co.uk/a<b",
     "url:https://www.example.co.uk/a domain:www.example.co.uk"},
    {"http://a:b:c@d.example.org/",
     "url:http://a:b:c@d.example.org/ domain:d.example.org"},
    {"http://1.2.3.4:8/abcdefghij",
     "url:http://1.2.3.4:8/abcdefghij ipv4:1.2.3.4"},
    {"", ""},
};

static void render(const char *text, char *out, size_t cap)
{
    struct cairn_hunt_field f[32];
    size_t n = cairn_telemetry_extract(text, strlen(text), f, 32);
    assert_true(n <= 32);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w =
            snprintf(out + used, cap - used, "%s%s:%.*s", i ? " " : "",
                     cairn_ioc_type_name(f[i].type), (int)f[i].len, f[i].value);
        assert_true(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
        /* Values point into the text. */
        assert_true(f[i].value >= text &&
                    f[i].value + f[i].len <= text + strlen(text));
    }
}

static void test_extract_table(void **state)
{
    (void)state;
    int failed = 0;
    for (size_t i = 0; i < sizeof extract_cases / sizeof extract_cases[0];
         i++) {
        char got[1024];
        render(extract_cases[i].text, got, sizeof got);
        if (strcmp(got, extract_cases[i].want) != 0) {
            print_error("extract(\"%s\"):\n  got  \"%s\"\n  want \"%s\"\n",
                        extract_cases[i].text, got, extract_cases[i].want);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* The word-by-word pass gives the whole line's fields at every level. */
static void same_by_words(const char *text, size_t len)
{
    struct cairn_hunt_field want[64], got[64];
    size_t n = cairn_telemetry_extract(text, len, want, 64);
    if (n > 64)
        n = 64;
    cairn__tele_simd_cap(-1);
    for (int level = cairn__tele_simd_level(); level >= 0; level--) {
        size_t m = cairn__tele_extract_words(text, len, level, got, 64);
        if (m > 64)
            m = 64;
        bool same = m == n;
        for (size_t i = 0; same && i < n; i++)
            same = got[i].type == want[i].type &&
                   got[i].value == want[i].value && got[i].len == want[i].len;
        if (!same) {
            print_error("level %d: %zu fields by words, %zu in \"%.*s\"\n",
                        level, m, n, (int)len, text);
            fail();
        }
    }
}

static void test_extract_words(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof extract_cases / sizeof extract_cases[0]; i++)
        same_by_words(extract_cases[i].text, strlen(extract_cases[i].text));
    /* Lines of pieces that make and break values, of every length to 300
     * bytes, with the spaces on every byte of the 64-byte blocks. */
    static const char *const pieces[] = {
        " ", "  ", "\t", "a", "Zq9", ".", "..", ":", "::", "@", "-", "_",
        "/", "%", "+", "(", ")", "\"", "'", "<", ">", "http://", "HTTPS://",
        "hxxp://", "www.example.com", "203.0.113.5", "10.1.2", "2001:db8::1",
        "fe80::1%eth0", "user.name+tag@mail.example.org", "@x.io",
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709", "1607904000.017",
        "TCP_MISS/200", "HIER_DIRECT/203.0.113.52", "image/png", "0123456789",
        "abcdefghijklmnopqrstuvwxyz012345", "xn--bcher-kva.example", ",",
        "?q=1&b=a.b", "#frag", "[::1]:443", "a.b", "-.", "0x",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    char line[400];
    uint32_t x = 12345;
    for (int k = 0; k < 20000; k++) {
        size_t len = 0, target = (size_t)k % 300;
        while (len < target) {
            x = x * 1103515245u + 12345u;
            const char *p = pieces[(x >> 16) % np];
            size_t pl = strlen(p);
            if (len + pl > target)
                pl = target - len;
            memcpy(line + len, p, pl);
            len += pl;
        }
        same_by_words(line, len);
    }
    cairn__tele_simd_cap(-1);
}

static void test_extract_max(void **state)
{
    (void)state;
    const char *text = "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4";
    struct cairn_hunt_field f[2];
    /* The count is all there are; only `max` are stored. */
    assert_int_equal(cairn_telemetry_extract(text, strlen(text), f, 2), 4);
    assert_memory_equal(f[1].value, "2.2.2.2", 7);
    assert_int_equal(cairn_telemetry_extract(text, strlen(text), NULL, 0), 4);
    /* No NUL needed: the length bounds the scan. */
    assert_int_equal(cairn_telemetry_extract("10.0.0.1x", 8, f, 2), 1);
}

struct classify_case {
    const char *value;
    enum cairn_ioc_type type;
};

static const struct classify_case classify_cases[] = {
    {"192.0.2.1", CAIRN_IOC_IPV4},
    {"2001:db8::1", CAIRN_IOC_IPV6},
    {"example.com", CAIRN_IOC_DOMAIN},
    {"http://example.com/x", CAIRN_IOC_URL},
    {"a@example.com", CAIRN_IOC_EMAIL},
    {"d41d8cd98f00b204e9800998ecf8427e", CAIRN_IOC_MD5},
    {"da39a3ee5e6b4b0d3255bfef95601890afd80709", CAIRN_IOC_SHA1},
    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     CAIRN_IOC_SHA256},
    {"999.1.1.1", CAIRN_IOC_UNKNOWN},
    {"hello world", CAIRN_IOC_UNKNOWN},
    {"http://exa mple.com/", CAIRN_IOC_UNKNOWN},
    {"", CAIRN_IOC_UNKNOWN},
};

static void test_classify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
         i++) {
        const char *v = classify_cases[i].value;
        if (cairn_telemetry_classify(v, strlen(v)) != classify_cases[i].type) {
            print_error("classify(\"%s\")\n", v);
            fail();
        }
    }
}

static void test_key_table(void **state)
{
    (void)state;
    assert_true(cairn__tele_key_table_sorted());
    assert_int_equal(cairn__tele_key_kind("QueryName", 9), TK_HOST);
    assert_int_equal(cairn__tele_key_kind("id.resp_h", 9), TK_HOST);
    assert_int_equal(cairn__tele_key_kind("SHA256", 6), TK_HASH);
    assert_int_equal(cairn__tele_key_kind("@timestamp", 10), TK_TS);
    assert_int_equal(cairn__tele_key_kind("whatever", 8), TK_NONE);
}

static void test_timestamps(void **state)
{
    (void)state;
    struct cairn_time t;
    assert_true(cairn__tele_parse_line_ts("Nov 27 10:00:00 h x", 19, 2020, &t));
    assert_int_equal(t.sec, 1606471200);
    assert_true(cairn__tele_parse_line_ts("Nov  7 10:00:00 h x", 19, 2021, &t));
    assert_int_equal(t.sec, 1636279200);
    assert_true(cairn__tele_parse_line_ts("2020-12-14T10:00:00.5+01:00 x", 29, 0, &t));
    assert_int_equal(t.sec, 1607936400);
    assert_int_equal(t.nsec, 500000000);
    assert_true(cairn__tele_parse_line_ts("1606780800.123 1 x", 18, 0, &t));
    assert_int_equal(t.sec, 1606780800);
    assert_int_equal(t.nsec, 123000000);
    assert_int_equal(t.digits, 3);
    /* squid's own form has a fast path: the same as the general one */
    assert_true(cairn__tele_parse_line_ts("1606780800.009\t1", 16, 0, &t));
    assert_int_equal(t.sec, 1606780800);
    assert_int_equal(t.nsec, 9000000);
    assert_true(cairn__tele_parse_line_ts("1606780800.1234 x", 17, 0, &t));
    assert_int_equal(t.nsec, 123400000);
    assert_int_equal(t.digits, 4);
    assert_true(cairn__tele_parse_line_ts("160678080.123 x", 15, 0, &t));
    assert_int_equal(t.sec, 160678080);
    assert_false(cairn__tele_parse_line_ts("0606780800.123 x", 16, 0, &t));
    assert_false(cairn__tele_parse_line_ts("16067808x0.123 x", 16, 0, &t));
    assert_true(
        cairn__tele_parse_line_ts("<13>1 2020-12-14T10:00:00Z host", 31, 0, &t));
    assert_int_equal(t.sec, 1607940000);
    const char *clf = "1.2.3.4 - - [14/Dec/2020:10:00:00 +0000] \"GET /\"";
    assert_true(cairn__tele_parse_line_ts(clf, strlen(clf), 0, &t));
    assert_int_equal(t.sec, 1607940000);
    assert_false(cairn__tele_parse_line_ts("Feb 30 10:00:00 x", 17, 2021, &t));
    assert_false(cairn__tele_parse_line_ts("hello world", 11, 2021, &t));
    assert_false(cairn__tele_parse_line_ts("192.168.100.200 x", 17, 2021, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_table),
        cmocka_unit_test(test_extract_words),
        cmocka_unit_test(test_extract_max),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
