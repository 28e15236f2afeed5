/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming bundle reader and strict JSON parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stix.h"
#include "stix/stix_int.h"

/* Everything a read of a whole document produced. */
struct result {
    int rc;          /* 0, or the error that stopped the reader */
    size_t count;    /* objects returned */
    long indexes[8]; /* their indexes */
    char types[8][32];
    bool is_bundle;
    char header_id[64];
    struct cairn_diag diag;
};

static void read_all(const char *doc, size_t len, size_t max,
                     struct result *res)
{
    struct cairn_bundle_reader *r = NULL;
    memset(res, 0, sizeof *res);
    assert_int_equal(cairn_bundle_reader_new(doc, len, max, &r), 0);
    for (;;) {
        json_t *obj = NULL;
        long index = 99;
        int rc = cairn_bundle_reader_next(r, &obj, &index, &res->diag);
        if (rc <= 0) {
            res->rc = rc;
            break;
        }
        if (res->count < 8) {
            res->indexes[res->count] = index;
            const char *t = json_string_value(json_object_get(obj, "type"));
            snprintf(res->types[res->count], 32, "%s", t ? t : "");
        }
        res->count++;
        json_decref(obj);
    }
    if (res->rc < 0) {
        /* After an error the reader keeps returning it. */
        json_t *obj = NULL;
        struct cairn_diag again;
        assert_int_equal(cairn_bundle_reader_next(r, &obj, NULL, &again),
                         res->rc);
        assert_null(obj);
        assert_string_equal(again.message, res->diag.message);
    }
    res->is_bundle = cairn_bundle_reader_is_bundle(r);
    const json_t *hdr = cairn_bundle_reader_header(r);
    const char *id = json_string_value(json_object_get(hdr, "id"));
    snprintf(res->header_id, sizeof res->header_id, "%s", id ? id : "");
    if (res->rc == 0 && res->is_bundle)
        assert_null(json_object_get(hdr, "objects"));
    cairn_bundle_reader_free(r);
}

static void read_str(const char *doc, size_t max, struct result *res)
{
    read_all(doc, strlen(doc), max, res);
}

static void test_member_orders(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":"
        "[{\"type\":\"a\"},{\"type\":\"b\"}]}",
        "{\"objects\":[{\"type\":\"a\"},{\"type\":\"b\"}],"
        "\"id\":\"bundle--1\",\"type\":\"bundle\"}",
        "{\"id\":\"bundle--1\",\"objects\":[{\"type\":\"a\"},"
        "{\"type\":\"b\"}],\"type\":\"bundle\"}",
        " \n{ \"id\" : \"bundle--1\" ,\n \"type\" : \"bundle\" , \"objects\""
        " : [ {\"type\":\"a\"} ,\n {\"type\":\"b\"} ] } \n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct result res;
        read_str(docs[i], 0, &res);
        assert_int_equal(res.rc, 0);
        assert_true(res.is_bundle);
        assert_int_equal(res.count, 2);
        assert_int_equal(res.indexes[0], 0);
        assert_int_equal(res.indexes[1], 1);
        assert_string_equal(res.types[0], "a");
        assert_string_equal(res.types[1], "b");
        assert_string_equal(res.header_id, "bundle--1");
    }
}

static void test_lone_object(void **state)
{
    (void)state;
    struct result res;
    /* An observed-data of STIX 2.0 has an "objects" dictionary. */
    read_str("{\"objects\":{\"0\":{\"type\":\"file\"}},\"type\":"
             "\"observed-data\",\"id\":\"x\"}",
             0, &res);
    assert_int_equal(res.rc, 0);
    assert_false(res.is_bundle);
    assert_int_equal(res.count, 1);
    assert_int_equal(res.indexes[0], -1);
    assert_string_equal(res.types[0], "observed-data");
    assert_string_equal(res.header_id, "");

    read_str("{\"type\":\"indicator\",\"objects\":[1,2]}", 0, &res);
    assert_int_equal(res.rc, 0);
    assert_false(res.is_bundle);
    assert_int_equal(res.count, 1);

    read_str("{}", 0, &res);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.types[0], "");
}

static void test_bundle_without_objects(void **state)
{
    (void)state;
    struct result res;
    read_str("{\"type\":\"bundle\",\"id\":\"bundle--2\"}", 0, &res);
    assert_int_equal(res.rc, 0);
    assert_true(res.is_bundle);
    assert_int_equal(res.count, 0);
    assert_string_equal(res.header_id, "bundle--2");

    read_str("{\"type\":\"bundle\",\"objects\":[]}", 0, &res);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.count, 0);
}

static void test_nested_values_and_escapes(void **state)
{
    (void)state;
    struct result res;
    read_str("{\"\\u0074ype\":\"bundle\",\"x_list\":[[1,[2]],{\"a\":\"]}\"}],"
             "\"obj\\u0065cts\":[{\"type\":\"a\",\"n\":[[[\"]\"]]],"
             "\"s\":\"\\\"},{\"},{\"type\":\"b\"}]}",
             0, &res);
    assert_int_equal(res.rc, 0);
    assert_true(res.is_bundle);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.types[1], "b");
}

static void expect_error(const char *doc, size_t len, size_t max, int rc,
                         const char *message_part, unsigned line)
{
    struct result res;
    read_all(doc, len, max, &res);
    assert_int_equal(res.rc, rc);
    if (strstr(res.diag.message, message_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", res.diag.message, message_part);
    if (line > 0)
        assert_int_equal(res.diag.line, line);
    assert_true(res.diag.column >= 1);
    assert_int_equal(res.diag.severity, CAIRN_SEV_ERROR);
    assert_true(res.diag.rule[0] != '\0');
}

static void expect_error_str(const char *doc, int rc, const char *part,
                             unsigned line)
{
    expect_error(doc, strlen(doc), 0, rc, part, line);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error_str("", CAIRN_EPARSE, "empty document", 1);
    expect_error_str(" \n\t ", CAIRN_EPARSE, "empty document", 2);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[{\"type\":\"a\"",
                     CAIRN_EPARSE, "unexpected end of input", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[{\"type\":\"a\"}",
                     CAIRN_EPARSE, "unexpected end of input", 1);
    expect_error_str("{\"type\":\"bundle\",\n\"objects\":[\n{\"id\":1,"
                     "\"id\":2}]}",
                     CAIRN_EPARSE, "duplicate object key \"id\"", 3);
    expect_error_str("{\"type\":\"bundle\",\"id\":\"a\",\"objects\":[],"
                     "\"id\":\"b\"}",
                     CAIRN_EPARSE, "duplicate object key \"id\"", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[],\"objects\":[]}",
                     CAIRN_EPARSE, "duplicate object key \"objects\"", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[{\"a\":\"\xff\"}]}",
                     CAIRN_EPARSE, "invalid UTF-8", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[{\"a\":\"\\u0000\"}]}",
                     CAIRN_EPARSE, "NUL", 1);
    expect_error("{\"type\":\"bundle\",\"objects\":[{\"a\":\"x\0y\"}]}", 40, 0,
                 CAIRN_EPARSE, "", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[]} x", CAIRN_EPARSE,
                     "unexpected data after the JSON value", 1);
    expect_error_str("{\"type\":\"indicator\"} {}", CAIRN_EPARSE,
                     "unexpected data after the JSON value", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":[{},,{}]}", CAIRN_EPARSE,
                     "", 1);
    expect_error_str("{\"type\":\"bundle\" \"objects\":[]}", CAIRN_EPARSE,
                     "expected ',' or '}'", 1);
    expect_error_str("{\"type\":\"bundle\",\"objects\":{}}", CAIRN_EINVALID,
                     "must be a list", 1);
    expect_error_str("[{\"type\":\"indicator\"}]", CAIRN_EINVALID,
                     "must be a JSON object, found an array", 1);
    expect_error_str("\"bundle\"", CAIRN_EINVALID, "found a string", 1);
    expect_error_str("nope", CAIRN_EINVALID, "found null", 1);
    expect_error_str("<xml/>", CAIRN_EPARSE, "expected '{'", 1);
}

static void test_over_cap(void **state)
{
    (void)state;
    char doc[400];
    char big[201];
    memset(big, 'a', 200);
    big[200] = '\0';
    snprintf(doc, sizeof doc,
             "{\"type\":\"bundle\",\"objects\":[{\"type\":\"small\"},"
             "{\"type\":\"%s\"}]}",
             big);
    struct result res;
    read_str(doc, 100, &res);
    assert_int_equal(res.rc, CAIRN_ETOOBIG);
    assert_int_equal(res.count, 1); /* the small one came through */
    assert_string_equal(res.diag.message, "object is larger than 100 bytes");

    /* The same document fits under the default cap. */
    read_str(doc, 0, &res);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.count, 2);

    /* A lone object over the cap. */
    snprintf(doc, sizeof doc, "{\"type\":\"%s\"}", big);
    read_str(doc, 100, &res);
    assert_int_equal(res.rc, CAIRN_ETOOBIG);
}

static char *nested(size_t depth, const char *prefix, const char *suffix)
{
    size_t plen = strlen(prefix), slen = strlen(suffix);
    char *s = malloc(plen + 2 * depth + slen + 1);
    assert_non_null(s);
    memcpy(s, prefix, plen);
    memset(s + plen, '[', depth);
    memset(s + plen + depth, ']', depth);
    memcpy(s + plen + 2 * depth, suffix, slen + 1);
    return s;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char *doc = nested(100000, "{\"type\":\"bundle\",\"objects\":[", "]}");
    expect_error_str(doc, CAIRN_EPARSE, "maximum nesting depth reached", 1);
    free(doc);

    doc = nested(100000, "{\"type\":\"indicator\",\"x\":", "}");
    expect_error_str(doc, CAIRN_EPARSE, "maximum nesting depth reached", 1);
    free(doc);

    doc = nested(100000, "", "");
    json_t *v = NULL;
    struct cairn_diag d;
    assert_int_equal(cairn_json_parse(doc, strlen(doc), &v, &d), CAIRN_EPARSE);
    assert_null(v);
    assert_string_equal(d.message, "maximum nesting depth reached");
    assert_string_equal(d.rule, "json-syntax");
    free(doc);

    /* Moderate nesting is fine. */
    doc = nested(500, "{\"type\":\"bundle\",\"objects\":[", "]}");
    struct result res;
    read_str(doc, 0, &res);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.count, 1);
    free(doc);
}

static void test_json_parse(void **state)
{
    (void)state;
    json_t *v = NULL;
    struct cairn_diag d;
    const char *ok = "{\"a\": [1, 2.5, \"\\u00e9\"]}";
    assert_int_equal(cairn_json_parse(ok, strlen(ok), &v, &d), 0);
    assert_true(json_is_object(v));
    json_decref(v);

    const char *dup = "{\n  \"id\": 1,\n  \"id\": 2\n}";
    assert_int_equal(cairn_json_parse(dup, strlen(dup), &v, &d), CAIRN_EPARSE);
    assert_string_equal(d.message, "duplicate object key \"id\"");
    assert_int_equal(d.line, 3);

    const char *trunc = "{\"a\": [1, 2";
    assert_int_equal(cairn_json_parse(trunc, strlen(trunc), &v, &d),
                     CAIRN_EPARSE);
    assert_string_equal(d.message, "unexpected end of input");

    const char *utf = "[\"\xc3\x28\"]";
    assert_int_equal(cairn_json_parse(utf, strlen(utf), &v, &d), CAIRN_EPARSE);
    assert_string_equal(d.message, "invalid UTF-8");

    const char *nul = "[\"a\\u0000b\"]";
    assert_int_equal(cairn_json_parse(nul, strlen(nul), &v, &d), CAIRN_EPARSE);
    assert_string_equal(d.message, "NUL character (\\u0000) in a string");

    assert_int_equal(cairn_json_parse("[1] 2", 5, &v, &d), CAIRN_EPARSE);
    assert_string_equal(d.message, "unexpected data after the JSON value");
    assert_int_equal(d.column, 5);

    /* A raw NUL byte inside the buffer is an error, not an end. */
    assert_int_equal(cairn_json_parse("[1]\0", 4, &v, &d), CAIRN_EPARSE);
    assert_null(v);
}

/*
 * The fast parser must never accept what jansson refuses, and must build
 * the same value when it accepts. Inputs as data, each a JSON text.
 */
static const char *const fast_cases[] = {
    "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
    "[\"\\ud83d\\ude00\", \"\\u00e9\\u20ac\", \"\\/\\b\\f\\n\\r\\t\"]",
    "[\"\\ud83d\"]",          /* lone high surrogate */
    "[\"\\ude00\"]",          /* lone low surrogate */
    "[\"\\ud83d\\u0041\"]",   /* high surrogate, no low */
    "[\"\\u0000\"]",          /* NUL */
    "{\"a\\u0000b\":1}",      /* NUL in a key */
    "[\"\xc0\xaf\"]",         /* overlong */
    "[\"\xed\xa0\x80\"]",     /* UTF-8 surrogate */
    "[\"\xf4\x90\x80\x80\"]", /* above U+10FFFF */
    "[\"\xf5\x80\x80\x80\"]",
    "[\"\xe2\x82\"]",         /* truncated sequence */
    "[\"\xf0\x9f\x98\x80\"]", /* a valid 4-byte one */
    "[\"a\tb\"]",             /* raw control character */
    "[\"\\x\"]",              /* bad escape */
    "[\"\\u12G4\"]",
    "[01]",
    "[-]",
    "[1.]",
    "[.5]",
    "[1e]",
    "[1e+]",
    "[-0]",
    "[0.5e-3]",
    "[1E400]",
    "[-1e-400]",
    "[9223372036854775807]",
    "[9223372036854775808]",
    "[-9223372036854775808]",
    "[1x]",
    "[truex]",
    "[nul]",
    "[True]",
    "[1,]",
    "[,1]",
    "{\"a\":1,}",
    "{\"a\" 1}",
    "{\"a\":}",
    "{1:2}",
    "{\"a\":1,\"a\":2}",
    "{\"a\":1,\"\\u0061\":2}",
    "{\"\":1}",
    "[] ",
    " {}",
    "[[[[]]]]",
    "{\"a\":[1,{\"b\":[2,{\"c\":3}]}]}",
    "[\"\\\"\"]",
    "[\"",
    "[",
    "",
    "tru",
    "\"abc\"",
    "12",
    "[1 2]",
    "[\"a\" \"b\"]",
};

static void test_fast_parser_matches_jansson(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fast_cases / sizeof fast_cases[0]; i++) {
        const char *text = fast_cases[i];
        size_t len = strlen(text), used = 0;
        json_error_t err;
        json_t *want = json_loadb(text, len,
                                  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
                                      JSON_DISABLE_EOF_CHECK,
                                  &err);
        json_t *got = cairn__stix_json_fast(text, len, &used);
        if (got != NULL) {
            if (want == NULL)
                fail_msg("case %zu (%s): fast parser accepted what jansson "
                         "refuses (%s)",
                         i, text, err.text);
            if (!json_equal(got, want))
                fail_msg("case %zu (%s): values differ", i, text);
            assert_int_equal(used, (size_t)err.position);
        }
        json_decref(got);
        json_decref(want);
    }
}

/*
 * CAIRN_JSON_FAST=0 turns the fast path off (ctest runs this program and
 * the validation tests once more that way): then jansson parses alone.
 */
static void test_fast_path_switch(void **state)
{
    (void)state;
    const char *e = getenv("CAIRN_JSON_FAST");
    bool off = e != NULL && strcmp(e, "0") == 0;
    size_t used = 0;
    json_t *v = cairn__stix_json_fast("[1,\"a\"]", 7, &used);
    assert_int_equal(v == NULL, off);
    json_decref(v);
    /* Either way the public parser gives the same value. */
    assert_int_equal(cairn_json_parse("[1,\"a\"]", 7, &v, NULL), 0);
    assert_int_equal(json_array_size(v), 2);
    json_decref(v);
}

/* Each object's span is exactly its text in the document, as received. */
static void test_spans(void **state)
{
    (void)state;
    static const char doc[] = "{ \"type\": \"bundle\", \"objects\": [\n"
                              "  {\"type\": \"x-a\", \"id\": \"x-a--1\", "
                              "\"n\": [1, {\"b\": \"]\"}]},\n"
                              "  { \"type\" : \"x-b\" , \"v\": -1.5e3 }\n"
                              "], \"id\": \"bundle--x\" }";
    static const char *const want[] = {
        "{\"type\": \"x-a\", \"id\": \"x-a--1\", \"n\": [1, {\"b\": \"]\"}]}",
        "{ \"type\" : \"x-b\" , \"v\": -1.5e3 }",
    };
    struct cairn_bundle_reader *r = NULL;
    assert_int_equal(cairn_bundle_reader_new(doc, sizeof doc - 1, 0, &r), 0);
    for (size_t i = 0; i < 2; i++) {
        json_t *obj = NULL;
        size_t off = 0, len = 0;
        assert_int_equal(cairn_bundle_reader_next(r, &obj, NULL, NULL), 1);
        cairn_bundle_reader_span(r, &off, &len);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(doc + off, want[i], len);
        json_decref(obj);
    }
    cairn_bundle_reader_free(r);

    static const char lone[] = "\n  {\"type\": \"indicator\"}  \n";
    assert_int_equal(cairn_bundle_reader_new(lone, sizeof lone - 1, 0, &r), 0);
    json_t *obj = NULL;
    size_t off = 0, len = 0;
    assert_int_equal(cairn_bundle_reader_next(r, &obj, NULL, NULL), 1);
    cairn_bundle_reader_span(r, &off, &len);
    assert_int_equal(off, 3);
    assert_int_equal(len, strlen("{\"type\": \"indicator\"}"));
    json_decref(obj);
    cairn_bundle_reader_free(r);
}

/* TAXII envelopes: the "objects" of any object, with their exact bytes. */
static void test_envelope(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        int rc;
        size_t count;
        const char *spans; /* the objects' texts, joined by '|' */
        const char *more;  /* the header's "more" as JSON, "" when absent */
    } cases[] = {
        {"{\"more\":true,\"next\":\"7\",\"objects\":[{\"type\":\"a\"}, "
         "{ \"type\" : \"b\" }]}",
         0, 2, "{\"type\":\"a\"}|{ \"type\" : \"b\" }", "true"},
        /* "objects" first, a "type" that is not bundle: still an envelope */
        {" {\"objects\":[{\"type\":\"a\"}],\"type\":\"x\",\"more\":false} ", 0,
         1, "{\"type\":\"a\"}", "false"},
        {"{\"type\":\"indicator\",\"objects\":[{\"type\":\"a\"}]}", 0, 1,
         "{\"type\":\"a\"}", ""},
        {"{}", 0, 0, "", ""},
        {"{\"more\":false}", 0, 0, "", "false"},
        {"{\"objects\":[]}", 0, 0, "", ""},
        /* cut short, or the list is not a list: errors, never a lone
         * object */
        {"{\"more\":true,\"objects\":[{\"type\":\"a\"},{\"ty", CAIRN_EPARSE, 1,
         "{\"type\":\"a\"}", ""},
        {"{\"objects\":{}}", CAIRN_EINVALID, 0, "", ""},
        {"{\"objects\":[{\"type\":\"a\"}]} x", CAIRN_EPARSE, 1,
         "{\"type\":\"a\"}", ""},
        {"{\"objects\":[1],\"objects\":[2]}", CAIRN_EPARSE, 1, "1", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *doc = cases[i].doc;
        struct cairn_bundle_reader *r = NULL;
        char spans[256] = "";
        size_t count = 0, used = 0;
        int rc;
        json_t *obj = NULL;

        assert_int_equal(cairn_envelope_reader_new(doc, strlen(doc), 0, &r), 0);
        while ((rc = cairn_bundle_reader_next(r, &obj, NULL, NULL)) > 0) {
            size_t off = 0, len = 0;
            cairn_bundle_reader_span(r, &off, &len);
            assert_true(off + len <= strlen(doc));
            used +=
                (size_t)snprintf(spans + used, sizeof spans - used, "%s%.*s",
                                 count ? "|" : "", (int)len, doc + off);
            count++;
            json_decref(obj);
        }
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(count, cases[i].count);
        assert_string_equal(spans, cases[i].spans);
        assert_true(cairn_bundle_reader_is_bundle(r));
        if (rc == 0) {
            json_t *more =
                json_object_get(cairn_bundle_reader_header(r), "more");
            const char *got = more == NULL          ? ""
                              : json_is_true(more)  ? "true"
                              : json_is_false(more) ? "false"
                                                    : "other";
            assert_string_equal(got, cases[i].more);
        }
        cairn_bundle_reader_free(r);
    }
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_orders),
        cmocka_unit_test(test_lone_object),
        cmocka_unit_test(test_bundle_without_objects),
        cmocka_unit_test(test_nested_values_and_escapes),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_over_cap),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_fast_parser_matches_jansson),
        cmocka_unit_test(test_fast_path_switch),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
