/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exports keep each indicator's rendered part: a rewrite after changes
 * (new versions, revocations, new indicators, an expiry) must be the file
 * a fresh export of the same objects writes. Also: the in-place JSON
 * reading accepts what jansson accepts, and the fast path for simple
 * patterns gives what the parser gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cairn/analysis.h"
#include "cairn/export.h"
#include "cairn/store.h"
#include "export/export_int.h"

static char *ind(char *buf, size_t cap, const char *id, const char *modified,
                 const char *pattern, const char *extra)
{
    snprintf(buf, cap,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":"
             "\"indicator--%s\",\"created\":\"2026-01-01T00:00:00.000Z\","
             "\"modified\":\"%s\",\"name\":\"n %s\",\"pattern\":\"%s\","
             "\"pattern_type\":\"stix\",\"valid_from\":"
             "\"2026-01-01T00:00:00Z\"%s}",
             id, modified, id, pattern, extra);
    return buf;
}

#define ID(n) "0000000" #n "-0000-4000-8000-00000000000" #n

static void add(struct cairn_export *ex, const char *json)
{
    assert_int_equal(cairn_export_add_json(ex, json, strlen(json)), 0);
}

static void objects(struct cairn_export *ex, bool first, bool changes)
{
    char b[1024];
    const char *t1 = "2026-01-01T00:00:00.000Z", *t2 = "2026-02-01T00:00:00.000Z";
    if (first) {
        add(ex, ind(b, sizeof b, ID(1), t1, "[domain-name:value = 'x.example']", ""));
        add(ex, ind(b, sizeof b, ID(2), t1,
                    "[domain-name:value = 'x.example' OR ipv4-addr:value = '192.0.2.1']", ""));
        add(ex, ind(b, sizeof b, ID(3), t1, "[url:value = 'http://u.example/a']", ""));
        add(ex, ind(b, sizeof b, ID(4), t1, "[domain-name:value = 'y.example']",
                    ",\"valid_until\":\"2026-06-01T00:00:00Z\""));
        add(ex, ind(b, sizeof b, ID(5), t1,
                    "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']", ""));
        add(ex, ind(b, sizeof b, ID(6), t1, "[email-addr:value = 'a@z.example']", ""));
        add(ex, ind(b, sizeof b, ID(7), t1,
                    "[domain-name:value = 'p.example' AND domain-name:value = 'q.example']", ""));
    }
    if (changes) {
        /* 1 revoked, 3 a new value, 8 new, an older version of 5 ignored */
        add(ex, ind(b, sizeof b, ID(1), t2, "[domain-name:value = 'x.example']",
                    ",\"revoked\":true"));
        add(ex, ind(b, sizeof b, ID(3), t2, "[url:value = 'http://u.example/b']", ""));
        add(ex, ind(b, sizeof b, ID(8), t2, "[domain-name:value = 'z.example']", ""));
        add(ex, ind(b, sizeof b, ID(5), "2025-01-01T00:00:00.000Z",
                    "[file:hashes.MD5 = 'ffffffffffffffffffffffffffffffff']", ""));
    }
}

/* The file with what changes from run to run masked: serial, bundle id. */
static void mask(struct cairn_buf *b)
{
    char *p = strstr(b->data, "hostmaster.localhost. ");
    if (p != NULL)
        for (p += 22; *p >= '0' && *p <= '9'; p++)
            *p = 'N';
    p = strstr(b->data, "\"bundle--");
    if (p != NULL)
        memset(p + 9, 'B', 36);
}

static void render(struct cairn_export *ex, const char *when,
                   struct cairn_buf *out, struct cairn_export_stats *st)
{
    struct cairn_time now;
    assert_int_equal(cairn_time_parse(when, strlen(when), true, &now), 0);
    cairn_buf_init(out, (size_t)1 << 24);
    assert_int_equal(cairn_export_render(ex, &now, out, st, NULL, NULL), 0);
    assert_int_equal(cairn_buf_putc(out, '\0'), 0);
    mask(out);
}

static void test_rewrite_is_fresh(void **state)
{
    (void)state;
    static const enum cairn_export_format fs[] = {
        CAIRN_EXPORT_ZEEK, CAIRN_EXPORT_RPZ,  CAIRN_EXPORT_CSV,
        CAIRN_EXPORT_MISP, CAIRN_EXPORT_STIX,
    };
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        struct cairn_export_opts o = {.format = fs[i]};
        struct cairn_export *inc = NULL, *fresh = NULL;
        struct cairn_buf a, b, c;
        struct cairn_export_stats sa, sb, sc;
        assert_int_equal(cairn_export_new(&o, &inc, NULL), 0);
        assert_int_equal(cairn_export_new(&o, &fresh, NULL), 0);
        objects(inc, true, false);
        render(inc, "2026-03-01T00:00:00Z", &a, &sa);
        objects(inc, false, true);
        /* a compaction moves every kept part: the file stays the same */
        assert_int_equal(cairn__export_compact(inc, true), 0);
        render(inc, "2026-07-01T00:00:00Z", &b, &sb); /* 4 has expired */
        objects(fresh, true, true);
        render(fresh, "2026-07-01T00:00:00Z", &c, &sc);
        assert_string_equal(b.data, c.data);
        assert_memory_equal(&sb, &sc, sizeof sb);
        assert_int_equal(sb.revoked, 1);
        assert_int_equal(sb.expired, 1);
        if (fs[i] == CAIRN_EXPORT_RPZ) {
            /* 1 and 2 both name x.example: once in the first file, and
             * still there (from 2) once 1 is revoked */
            assert_non_null(strstr(a.data, "\nx.example CNAME"));
            assert_null(strstr(strstr(a.data, "\nx.example CNAME") + 1,
                               "\nx.example CNAME"));
            assert_non_null(strstr(b.data, "; indicator--" ID(2) "\nx.example"));
            assert_null(strstr(b.data, "y.example"));
            assert_non_null(strstr(a.data, "y.example"));
        }
        if (fs[i] == CAIRN_EXPORT_CSV) {
            assert_non_null(strstr(b.data, "http://u.example/b"));
            assert_null(strstr(b.data, "http://u.example/a"));
            assert_non_null(strstr(b.data, "0123456789abcdef"));
        }
        cairn_buf_release(&a);
        cairn_buf_release(&b);
        cairn_buf_release(&c);
        cairn_export_free(inc);
        cairn_export_free(fresh);
    }
}

/* One pattern read with and without the fast path: the same CSV. */
static void same_both_ways(const char *pattern)
{
    char b[2048];
    struct cairn_buf o1, o2;
    struct cairn_export_stats s1, s2;
    struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV};
    struct cairn_export *fast = NULL, *slow = NULL;
    assert_int_equal(cairn_export_new(&o, &fast, NULL), 0);
    assert_int_equal(cairn_export_new(&o, &slow, NULL), 0);
    slow->no_fast_path = true;
    json_t *s = json_string(pattern);
    char *enc = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    assert_non_null(enc);
    enc[strlen(enc) - 1] = '\0'; /* the quotes off: ind() puts them */
    ind(b, sizeof b, ID(1), "2026-01-01T00:00:00.000Z", enc + 1, "");
    free(enc);
    add(fast, b);
    add(slow, b);
    render(fast, "2026-01-02T00:00:00Z", &o1, &s1);
    render(slow, "2026-01-02T00:00:00Z", &o2, &s2);
    if (strcmp(o1.data, o2.data) != 0)
        fail_msg("%s:\nfast: %s\nslow: %s", pattern, o1.data, o2.data);
    assert_memory_equal(&s1, &s2, sizeof s1);
    const char *w1 = ent_why(fast->ents[0]), *w2 = ent_why(slow->ents[0]);
    assert_string_equal(w1 != NULL ? w1 : "", w2 != NULL ? w2 : "");
    cairn_buf_release(&o1);
    cairn_buf_release(&o2);
    cairn_export_free(fast);
    cairn_export_free(slow);
}

static void test_fast_path(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "[domain-name:value = 'A.Example.COM.']",
        "[domain-name:value='a.example']",
        "  [ domain-name:value  =  'a.example'  ]  ",
        "[ipv4-addr:value = '10.0.0.0/8' OR ipv4-addr:value = '10.1.2.3']",
        "[ipv6-addr:value = '2001:DB8::1']",
        "[ipv4-addr:value = 'not-an-ip']",
        "[file:hashes.MD5 = '0123456789ABCDEF0123456789ABCDEF']",
        "[file:hashes.'SHA-256' = 'abc']",
        "[file:hashes.SHA-1 = '0123456789abcdef0123456789abcdef01234567']",
        "[file:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']",
        "[file:name = 'a b.exe']",
        "[url:value = 'HTTP://X.Example:80/a%7e']",
        "[email-addr:value = 'A@B.Example']",
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Run']",
        "[domain-name:value = 'a' AND domain-name:value = 'b']",
        "[domain-name:value = 'a'] OR [domain-name:value = 'b']",
        "[x-custom:value = 'x']",
        "[domain-name:value = 'a\\'b']",
        "[domain-name:value == 'a.example']",
        "[domain-name:value != 'a.example']",
        "[domain-name:value = 'a.example' or domain-name:value = 'b']",
        "[domain-name:value = 'a.example' OR]",
        "[network-traffic:dst_ref.value = '192.0.2.9']",
        "[network-traffic:dst_ref.value = 'c2.example']",
        "[domain-name:value = '']",
        "[domain-name:value = 'caf\xc3\xa9.example']",
        "[domain-name:value = 'a.example'] /* c */",
        "[domain-name:value = 'a.example']x",
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        same_both_ways(pats[i]);
}

/*
 * The score column of a CSV export is cairn_score_indicator's on the
 * stored object (fast path or not; a value on a warninglist too): the
 * decay of the first value's type shows after twenty days.
 */
static void test_scores_as_analysis(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "[ipv4-addr:value = '10.1.2.3' OR domain-name:value = 'a.example']",
        "[domain-name:value = 'a.example' OR ipv4-addr:value = '10.1.2.3']",
        "[domain-name:'value' = 'a.example' OR ipv4-addr:value = '10.1.2.3']",
        "[network-traffic:dst_ref.value = '192.0.2.9']",
        "[network-traffic:dst_ref.value = 'w.example']",
        "[file:hashes.'SHA-256' = "
        "'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef']",
        "[file:hashes.MD5 = '0123456789ABCDEF0123456789ABCDEF']",
        "[email-addr:value = 'a@b.example']",
        "[url:value = 'http://W.example/x' OR domain-name:value = 'a.example']",
        "[domain-name:value = 'W.Example.' OR ipv4-addr:value = '10.1.2.3']",
        "[ipv4-addr:value = '10.1.2.3'] OR [domain-name:value = 'a.example']",
        "[domain-name:value = 'a.example' OR ipv4-addr:value = '10.1.2.3'"
        " OR file:name = 'x.exe']",
    };
    static const char *const extras[] = {"", ",\"confidence\":80",
                                         ",\"revoked\":false"};
    static const char wl[] = "{\"name\":\"wl\",\"type\":\"hostname\","
                             "\"list\":[\"w.example\"]}";
    const char *when = "2026-01-21T00:00:00Z";
    struct cairn_time now;
    struct cairn_warninglists *w = NULL;
    assert_int_equal(cairn_time_parse(when, strlen(when), true, &now), 0);
    assert_int_equal(cairn_warninglists_new(&w), 0);
    assert_int_equal(cairn_warninglists_add(w, wl, strlen(wl), "wl", NULL,
                                            NULL),
                     0);
    for (size_t i = 0; i < 2 * sizeof pats / sizeof pats[0]; i++) {
        for (size_t k = 0; k < sizeof extras / sizeof extras[0]; k++) {
            char b[2048];
            struct cairn_buf out;
            struct cairn_export_stats st;
            struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV,
                                          .include_warninglisted = true,
                                          .warninglists = w};
            struct cairn_export *ex = NULL;
            assert_int_equal(cairn_export_new(&o, &ex, NULL), 0);
            ex->no_fast_path = i % 2 == 1;
            ind(b, sizeof b, ID(1), "2026-01-01T00:00:00.000Z", pats[i / 2],
                extras[k]);
            add(ex, b);
            render(ex, when, &out, &st);
            json_t *j = json_loads(b, 0, NULL);
            struct cairn_score_opts so = {.warninglists = w, .now = &now};
            int want = cairn_score_indicator(j, NULL, &so, NULL);
            json_decref(j);
            /* each row: type,value,id,name,score,valid_until */
            const char *row = strchr(out.data, '\n');
            assert_non_null(row);
            for (row++; *row != '\0'; row = strchr(row, '\n') + 1) {
                const char *f = row;
                for (int c = 0; c < 4; c++)
                    f = strchr(f, ',') + 1;
                if (strtol(f, NULL, 10) != want)
                    fail_msg("%s%s (%s): %.60s, not %d", pats[i / 2],
                             extras[k], i % 2 ? "parser" : "fast path", row,
                             want);
            }
            cairn_buf_release(&out);
            cairn_export_free(ex);
        }
    }
    cairn_warninglists_free(w);
}

/*
 * A first read from a store (the scan in a second thread, its rows handed
 * over in 1 MB batches) gives the file the same objects added one by one
 * give: 6,000 objects, several batches, versions later and earlier; on
 * SQLite and in memory.
 */
static void test_store_read(void **state)
{
    (void)state;
    char dir[64] = "/tmp/cairn-export-XXXXXX", url[128], coll[CAIRN_UUID_STRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/cairn.db", dir);
    const char *urls[] = {url, "memory:"};
    for (size_t u = 0; u < 2; u++) {
        struct cairn_store *s = NULL;
        struct cairn_store_api_root root = {"r", "r", NULL, 1 << 30};
        struct cairn_store_collection c = {.api_root = "r", .title = "t"};
        struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV};
        struct cairn_export *direct = NULL, *read = NULL;
        enum { N = 6000 };
        static char text[N][640];
        static struct cairn_store_object_in in[N];
        assert_int_equal(cairn_store_open(urls[u], NULL, &s), 0);
        assert_int_equal(cairn_store_api_root_put(s, &root), 0);
        assert_int_equal(cairn_store_collection_create(s, &c, coll), 0);
        assert_int_equal(cairn_export_new(&o, &direct, NULL), 0);
        for (size_t i = 0; i < N; i++) {
            char id[64], pat[128], mod[40];
            /* the last 500: new versions of the first 250, and older ones
             * of the next 250 (kept out) */
            size_t k = i < N - 500 ? i : i - (N - 500);
            snprintf(id, sizeof id, "%08zx-0000-4000-8000-000000000000", k);
            snprintf(mod, sizeof mod, "2026-0%d-01T00:00:00.000Z",
                     i < N - 500 ? 2 : k < 250 ? 3 : 1);
            snprintf(pat, sizeof pat, "[domain-name:value = 'd%zu.example']",
                     i);
            ind(text[i], sizeof text[i], id, mod, pat, "");
            add(direct, text[i]);
            in[i].json = text[i];
            in[i].json_len = strlen(text[i]);
            in[i].obj = json_loads(text[i], 0, NULL);
        }
        assert_int_equal(cairn_store_put_objects(s, coll, in, N, NULL, NULL),
                         0);
        for (size_t i = 0; i < N; i++)
            json_decref((json_t *)in[i].obj);
        const char *cl[] = {coll};
        o.collections = cl;
        o.n_collections = 1;
        assert_int_equal(cairn_export_new(&o, &read, NULL), 0);
        bool changed = false;
        assert_int_equal(cairn_export_update(read, s, &changed), 0);
        assert_true(changed);
        struct cairn_buf a, b;
        struct cairn_export_stats sa, sb;
        render(direct, "2026-03-02T00:00:00Z", &a, &sa);
        render(read, "2026-03-02T00:00:00Z", &b, &sb);
        assert_int_equal(sa.indicators, N - 500);
        assert_string_equal(a.data, b.data);
        assert_memory_equal(&sa, &sb, sizeof sa);
        cairn_buf_release(&a);
        cairn_buf_release(&b);
        cairn_export_free(direct);
        cairn_export_free(read);
        cairn_store_close(s);
    }
    char f[128];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(f, sizeof f, "%s/cairn.db%s", dir, sfx[i]);
        unlink(f);
    }
    rmdir(dir);
}

/* cairn_export_add_json refuses (CAIRN_EINVAL) exactly what json_loadb
 * refuses as an object, and reads the strings as it does. */
static void test_json_as_jansson(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        " { } ",
        "{\"a\":1,}",
        "{\"a\":1} x",
        "{\"a\":01}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":1e999}",
        "{\"a\":1e-999}",
        "{\"a\":99999999999999999999}",
        "{\"a\":-9223372036854775808}",
        "{\"a\":9223372036854775808}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud83d\\ude00\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",
        "{\"a\":\"\xe2\x82\xac\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":[1,{\"b\":[true,false,null]}]}",
        "{\"a\":[1,]}",
        "{\"a\" 1}",
        "{\"a\":tru}",
        "[1]",
        "\"s\"",
        "{\"a\":1}{",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV};
        struct cairn_export *ex = NULL;
        json_error_t je;
        json_t *j = json_loadb(texts[i], strlen(texts[i]), JSON_ALLOW_NUL, &je);
        assert_int_equal(cairn_export_new(&o, &ex, NULL), 0);
        int rc = cairn_export_add_json(ex, texts[i], strlen(texts[i]));
        if ((rc == CAIRN_EINVAL) != !json_is_object(j))
            fail_msg("'%s': jansson %s, export %d", texts[i],
                     json_is_object(j) ? "accepts" : "refuses", rc);
        json_decref(j);
        cairn_export_free(ex);
    }
    /* escapes, in keys and values, decoded as jansson decodes them */
    const char *t =
        "{\"type\":\"indicator\",\"\\u0069d\":\"indicator--" ID(1) "\","
        "\"created\":\"2026-01-01T00:00:00Z\",\"name\":\"a\\\"b\\u00e9\\n\","
        "\"pattern\":\"[domain-name:value = 'a\\u002eexample']\","
        "\"pattern_type\":\"stix\",\"name\":\"last \\/ wins\"}";
    struct cairn_export_opts o = {.format = CAIRN_EXPORT_CSV};
    struct cairn_export *ex = NULL;
    struct cairn_buf out;
    struct cairn_export_stats st;
    assert_int_equal(cairn_export_new(&o, &ex, NULL), 0);
    add(ex, t);
    render(ex, "2026-01-02T00:00:00Z", &out, &st);
    assert_int_equal(st.entries, 1);
    assert_non_null(strstr(out.data, "domain,a.example,indicator--" ID(1)
                                     ",last / wins,"));
    cairn_buf_release(&out);
    cairn_export_free(ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite_is_fresh),
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_scores_as_analysis),
        cmocka_unit_test(test_store_read),
        cmocka_unit_test(test_json_as_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
