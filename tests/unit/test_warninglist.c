/* SPDX-License-Identifier: Apache-2.0 */
/* Warninglists: MISP's list.json, each match type, malformed lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "cairn/values.h"

struct errs {
    char text[4096];
    int n;
};

static void on_err(void *ud, const char *file, const char *where,
                   const char *msg)
{
    struct errs *e = ud;
    size_t l = strlen(e->text);
    snprintf(e->text + l, sizeof e->text - l, "%s: %s: %s\n", file, where,
             msg);
    e->n++;
}

static const char *m(const struct cairn_warninglists *w, int type,
                     const char *v)
{
    return cairn_warninglists_match(w, type, v, strlen(v));
}

static void test_shipped_lists(void **state)
{
    (void)state;
    struct cairn_warninglists *w = NULL;
    struct errs e = {{0}, 0};
    size_t loaded = 0;
    assert_int_equal(cairn_warninglists_new(&w), 0);
    assert_int_equal(cairn_warninglists_load(w, CAIRN_EXAMPLES "/warninglists",
                                             on_err, &e, &loaded),
                     0);
    assert_int_equal(e.n, 0);
    assert_int_equal(loaded, 4);
    /* cidr: an address, a block inside, IPv6 */
    assert_string_equal(m(w, CAIRN_IOC_IPV4, "10.1.2.3"),
                        "RFC 1918 private address space");
    assert_string_equal(m(w, CAIRN_IOC_IPV4, "192.168.4.0/24"),
                        "RFC 1918 private address space");
    assert_null(m(w, CAIRN_IOC_IPV4, "192.0.0.0/8")); /* wider than any */
    assert_string_equal(m(w, CAIRN_IOC_IPV4, "8.8.8.8"),
                        "Public DNS resolvers");
    assert_null(m(w, CAIRN_IOC_IPV4, "8.8.8.9"));
    assert_string_equal(m(w, CAIRN_IOC_IPV6, "2001:DB8::5"),
                        "Special-purpose address ranges");
    assert_null(m(w, CAIRN_IOC_IPV4, "93.184.216.34"));
    /* hostname: the name or under it, in a URL too, any case */
    assert_string_equal(m(w, CAIRN_IOC_DOMAIN, "d1.CloudFront.net."),
                        "CDN host names");
    assert_string_equal(m(w, CAIRN_IOC_URL, "https://x.fastly.net:443/a"),
                        "CDN host names");
    assert_null(m(w, CAIRN_IOC_DOMAIN, "notcloudfront.net"));
    assert_null(m(w, CAIRN_IOC_DOMAIN, "evil.example"));
    /* matching_attributes: a CDN list says nothing about hashes */
    assert_null(m(w, CAIRN_IOC_FILENAME, "cloudfront.net"));
    cairn_warninglists_free(w);
}

static void test_types(void **state)
{
    (void)state;
    static const char s[] =
        "{\"name\":\"S\",\"type\":\"string\",\"list\":[\"Evil.Example\"]}";
    static const char sub[] =
        "{\"name\":\"Sub\",\"type\":\"substring\",\"list\":[\"tracker\"]}";
    static const char re[] =
        "{\"name\":\"Re\",\"type\":\"regex\",\"matching_attributes\":"
        "[\"url\"],\"list\":[\"/^https?://[a-z]+\\\\.example\\\\.org//i\"]}";
    struct cairn_warninglists *w = NULL;
    assert_int_equal(cairn_warninglists_new(&w), 0);
    assert_int_equal(cairn_warninglists_add(w, s, strlen(s), "s", NULL, NULL),
                     0);
    assert_int_equal(
        cairn_warninglists_add(w, sub, strlen(sub), "sub", NULL, NULL), 0);
    assert_int_equal(cairn_warninglists_add(w, re, strlen(re), "re", NULL, NULL),
                     0);
    assert_int_equal(cairn_warninglists_count(w), 3);
    assert_string_equal(m(w, CAIRN_IOC_DOMAIN, "evil.example"), "S");
    assert_null(m(w, CAIRN_IOC_DOMAIN, "x.evil.example")); /* string: equal */
    assert_string_equal(m(w, CAIRN_IOC_DOMAIN, "ads.TRACKER.example"), "Sub");
    assert_string_equal(m(w, CAIRN_IOC_URL, "HTTPS://www.example.org/x"), "Re");
    assert_null(m(w, CAIRN_IOC_DOMAIN, "www.example.org")); /* url only */
    assert_null(m(w, CAIRN_IOC_URL, "https://www.example.com/"));
    cairn_warninglists_free(w);
}

/* Regexes are MISP's, which are PCRE: \d and lazy repeats mean what they
 * say. Nested repetitions that glibc's regcomp spelled out into gigabytes
 * (fuzz_warninglist ran out of memory) are refused as too large, named,
 * and the list's other entries stay in force. */
static void test_regex_pcre(void **state)
{
    (void)state;
    static const char re[] =
        "{\"name\":\"Pcre\",\"type\":\"regex\",\"list\":["
        "\"^cdn\\\\d+\\\\.example\\\\.net$\","
        "\"((a{1000}){1000}){1000}\","
        "\"^x.+?y$\"]}";
    struct cairn_warninglists *w = NULL;
    struct errs e = {{0}, 0};
    assert_int_equal(cairn_warninglists_new(&w), 0);
    assert_int_equal(cairn_warninglists_add(w, re, strlen(re), "p", on_err, &e),
                     0);
    assert_non_null(strstr(e.text, "p: list[1]: not a valid regex"));
    assert_string_equal(m(w, CAIRN_IOC_DOMAIN, "cdn42.example.net"), "Pcre");
    assert_null(m(w, CAIRN_IOC_DOMAIN, "cdnd.example.net"));
    assert_string_equal(m(w, CAIRN_IOC_DOMAIN, "x.example.y"), "Pcre");
    cairn_warninglists_free(w);
}

static void test_malformed(void **state)
{
    (void)state;
    struct cairn_warninglists *w = NULL;
    struct errs e = {{0}, 0};
    size_t loaded = 0;
    assert_int_equal(cairn_warninglists_new(&w), 0);
    /* the broken files are reported, naming file and entry; the others load */
    assert_int_equal(cairn_warninglists_load(w,
                                             CAIRN_TEST_DATA
                                             "/warninglists-bad",
                                             on_err, &e, &loaded),
                     CAIRN_EINVAL);
    assert_int_equal(loaded, 2);
    assert_non_null(strstr(e.text, "a-broken.json: line "));
    assert_non_null(strstr(e.text, "b-entries.json: list[1]: not a valid cidr"));
    assert_non_null(strstr(e.text, "b-entries.json: list[2]: "));
    assert_non_null(strstr(e.text, "c-type.json: type: unknown type \"bloom\""));
    assert_non_null(strstr(e.text, "d-regex.json: list[1]: not a valid regex"));
    /* the good entries of a half-good list are in force */
    assert_string_equal(m(w, CAIRN_IOC_IPV4, "192.0.2.1"), "Half good");
    assert_string_equal(m(w, CAIRN_IOC_IPV4, "10.9.9.9"), "Half good");
    assert_string_equal(m(w, CAIRN_IOC_URL, "http://abc.example.org/"),
                        "Regexes");
    e.n = 0;
    assert_int_equal(cairn_warninglists_load(w, "/nonexistent/lists", on_err,
                                             &e, NULL),
                     CAIRN_EIO);
    assert_int_equal(e.n, 1);
    cairn_warninglists_free(w);
}

static int collect(void *ud, int type, const char *s, size_t len)
{
    char *out = ud;
    size_t l = strlen(out);
    snprintf(out + l, 512 - l, "%d:%.*s;", type, (int)len, s);
    return 0;
}

static void test_object_values(void **state)
{
    (void)state;
    char out[512] = "";
    json_error_t je;
    json_t *o = json_loads(
        "{\"type\":\"indicator\",\"pattern_type\":\"stix\",\"pattern\":"
        "\"[domain-name:value = 'a.example'] OR [ipv4-addr:value = "
        "'10.0.0.1']\",\"created_by_ref\":\"identity--x\"}",
        0, &je);
    assert_non_null(o);
    assert_int_equal(cairn_value_object_values(o, collect, out), 0);
    char want[128];
    snprintf(want, sizeof want, "%d:a.example;%d:10.0.0.1;", CAIRN_IOC_DOMAIN,
             CAIRN_IOC_IPV4);
    assert_string_equal(out, want);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_lists),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_regex_pcre),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_object_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
