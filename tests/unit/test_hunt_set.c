/* SPDX-License-Identifier: Apache-2.0 */
/* The indicator set: type detection, URLs, matching cases, skips, ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/hunt.h"
#include "cairn/pattern.h"
#include "cairn/stix.h"
#include "cairn/telemetry.h"
#include "hunt/hunt_int.h"

#define DATA CAIRN_TEST_DATA "/hunt/"

static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t len = 0, alloc = 0;
    for (;;) {
        if (len + 4096 + 1 > alloc) {
            alloc = alloc ? alloc * 2 : 8192;
            buf = realloc(buf, alloc);
            assert_non_null(buf);
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out != NULL)
        *len_out = len;
    return buf;
}

/* Split `buf` in place into lines; returns their count. */
static size_t lines_of(char *buf, char ***out)
{
    size_t n = 0, alloc = 64;
    char **v = malloc(alloc * sizeof *v);
    assert_non_null(v);
    for (char *p = buf; *p != '\0';) {
        char *nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (n == alloc) {
            alloc *= 2;
            v = realloc(v, alloc * sizeof *v);
            assert_non_null(v);
        }
        v[n++] = p;
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    *out = v;
    return n;
}

static enum cairn_ioc_type type_by_name(const char *name)
{
    for (int t = 0; t < CAIRN_IOC_TYPE_COUNT; t++)
        if (strcmp(cairn_ioc_type_name((enum cairn_ioc_type)t), name) == 0)
            return (enum cairn_ioc_type)t;
    fail_msg("unknown type name '%s'", name);
    return CAIRN_IOC_UNKNOWN;
}

/* ---- tables ------------------------------------------------------------- */

static void test_detect_table(void **state)
{
    (void)state;
    char *buf = slurp(DATA "detect.txt", NULL);
    char **lines;
    size_t n = lines_of(buf, &lines), cases = 0;
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i][0] == '#' || lines[i][0] == '\0')
            continue;
        char *in = lines[i];
        char *tab1 = strchr(in, '\t');
        assert_non_null(tab1);
        *tab1 = '\0';
        char *type = tab1 + 1;
        char *tab2 = strchr(type, '\t');
        assert_non_null(tab2);
        *tab2 = '\0';
        char *want = tab2 + 1;
        char out[9000];
        size_t ol = 0;
        enum cairn_ioc_type t =
            cairn_hunt_detect(in, strlen(in), out, sizeof out, &ol);
        cases++;
        bool ok = t == type_by_name(type) &&
                  (strcmp(want, "-") == 0 ||
                   (ol == strlen(want) && memcmp(out, want, ol) == 0));
        if (!ok) {
            fprintf(
                stderr, "detect.txt:%zu: '%s': got %s '%.*s', want %s '%s'\n",
                i + 1, in, cairn_ioc_type_name(t), (int)ol, out, type, want);
            failures++;
        }
    }
    assert_true(cases >= 40);
    assert_int_equal(failures, 0);
    free(lines);
    free(buf);
}

static void test_url_table(void **state)
{
    (void)state;
    char *buf = slurp(DATA "url.txt", NULL);
    char **lines;
    size_t n = lines_of(buf, &lines), cases = 0;
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i][0] == '#' || lines[i][0] == '\0')
            continue;
        char *tab = strchr(lines[i], '\t');
        assert_non_null(tab);
        *tab = '\0';
        char out[512];
        int r = cairn_hunt_url_normalize(lines[i], strlen(lines[i]), out,
                                         sizeof out);
        cases++;
        if (r < 0 || (size_t)r != strlen(tab + 1) ||
            memcmp(out, tab + 1, (size_t)r) != 0) {
            fprintf(stderr, "url.txt:%zu: '%s' gave '%.*s', want '%s'\n", i + 1,
                    lines[i], r < 0 ? 0 : r, out, tab + 1);
            failures++;
        }
    }
    assert_true(cases >= 15);
    assert_int_equal(failures, 0);
    /* a buffer that is too small is an error, not an overrun */
    char small[8];
    assert_int_equal(cairn_hunt_url_normalize("http://example.com/", 19, small,
                                              sizeof small),
                     CAIRN_ETOOBIG);
    free(lines);
    free(buf);
}

/* ---- matching cases ----------------------------------------------------- */

struct hits {
    int n;
    int confirm;
    char last_id[CAIRN_HUNT_ID_MAX];
    /* the first hits, in order */
    struct {
        char id[CAIRN_HUNT_ID_MAX];
        const char *value;
        size_t len;
        int type;
        bool confirm;
    } seen[16];
};

static void count_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct hits *h = ud;
    struct cairn_hunt_hit_detail d;
    cairn_hunt_hit_get_detail(hit, &d);
    if (h->n < 16) {
        snprintf(h->seen[h->n].id, sizeof h->seen[0].id, "%s",
                 hit->indicator_id);
        h->seen[h->n].value = hit->value;
        h->seen[h->n].len = hit->value_len;
        h->seen[h->n].type = (int)hit->type;
        h->seen[h->n].confirm = d.needs_confirmation;
    }
    h->n++;
    h->confirm += d.needs_confirmation;
    snprintf(h->last_id, sizeof h->last_id, "%s", hit->indicator_id);
    assert_non_null(hit->value);
    assert_true(hit->value_len > 0);
}

static json_t *indicator_json(const char *pattern, int serial)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", serial);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
        "spec_version", "2.1", "id", id, "created", "2020-01-01T00:00:00.000Z",
        "modified", "2020-01-01T00:00:00.000Z", "pattern", pattern,
        "pattern_type", "stix", "valid_from", "2020-01-01T00:00:00Z");
    assert_non_null(o);
    return o;
}

/* "type value ; type value" into fields pointing into `spec`. */
static size_t parse_fields(char *spec, struct cairn_hunt_field *f, size_t max)
{
    size_t n = 0;
    char *p = spec;
    while (p != NULL && *p != '\0' && n < max) {
        char *sep = strstr(p, " ; ");
        if (sep != NULL)
            *sep = '\0';
        char *sp = strchr(p, ' ');
        assert_non_null(sp);
        *sp = '\0';
        f[n].type = type_by_name(p);
        f[n].value = sp + 1;
        f[n].len = strlen(sp + 1);
        f[n].name = "test";
        n++;
        p = sep != NULL ? sep + 3 : NULL;
    }
    return n;
}

struct block {
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    struct cairn_hunt_matcher *m;
    struct cairn_hunt_matcher *mq; /* its look-ups queued */
    int serial;
    size_t start;
};

static void block_finish(struct block *bl)
{
    if (bl->set == NULL && bl->b != NULL) {
        assert_int_equal(cairn_hunt_builder_build(bl->b, &bl->set), 0);
        assert_int_equal(cairn_hunt_matcher_new(bl->set, &bl->m), 0);
        assert_int_equal(cairn_hunt_matcher_new(bl->set, &bl->mq), 0);
        cairn__hunt_matcher_queue(bl->mq);
    }
}

/* The same hits, in the same order, as two matchers gave. */
static bool same_hits(const struct hits *a, const struct hits *b)
{
    if (a->n != b->n || a->confirm != b->confirm)
        return false;
    for (int i = 0; i < a->n && i < 16; i++)
        if (strcmp(a->seen[i].id, b->seen[i].id) != 0 ||
            a->seen[i].value != b->seen[i].value ||
            a->seen[i].len != b->seen[i].len ||
            a->seen[i].type != b->seen[i].type ||
            a->seen[i].confirm != b->seen[i].confirm)
            return false;
    return true;
}

static void block_end(struct block *bl)
{
    cairn_hunt_matcher_free(bl->m);
    cairn_hunt_matcher_free(bl->mq);
    cairn_hunt_set_free(bl->set);
    cairn_hunt_builder_free(bl->b);
    memset(bl, 0, sizeof *bl);
}

static void test_match_cases(void **state)
{
    (void)state;
    char *buf = slurp(DATA "match.txt", NULL);
    char **lines;
    size_t n = lines_of(buf, &lines);
    struct block bl = {0};
    int failures = 0, checks = 0, serial = 1;
    for (size_t i = 0; i < n; i++) {
        char *l = lines[i];
        if (l[0] == '#' || l[0] == '\0')
            continue;
        if (strncmp(l, "== ", 3) == 0) {
            block_end(&bl);
            assert_int_equal(cairn_hunt_builder_new(NULL, &bl.b), 0);
            bl.start = i + 1;
            continue;
        }
        assert_non_null(bl.b);
        if (strncmp(l, "pattern ", 8) == 0 ||
            strncmp(l, "unhuntable ", 11) == 0) {
            bool want = l[0] == 'p';
            const char *pat = strchr(l, ' ') + 1;
            json_t *ind = indicator_json(pat, serial++);
            struct cairn_diag d;
            assert_null(bl.set);
            int rc = cairn_hunt_builder_add_indicator(bl.b, ind, &d);
            json_decref(ind);
            checks++;
            if (rc != (want ? 0 : CAIRN_HUNT_SKIPPED)) {
                fprintf(stderr, "match.txt:%zu: add gave %d (%s)\n", i + 1, rc,
                        rc ? d.message : "");
                failures++;
            }
            continue;
        }
        if (strncmp(l, "list", 4) == 0) {
            const char *v = l[4] == ' ' ? l + 5 : l + 4;
            assert_null(bl.set);
            assert_true(cairn_hunt_builder_add_list_line(
                            bl.b, v, strlen(v), "match.txt", i + 1, NULL) >= 0);
            continue;
        }
        block_finish(&bl);
        char *sp = strchr(l, ' ');
        assert_non_null(sp);
        *sp = '\0';
        struct cairn_hunt_field f[8];
        size_t nf = parse_fields(sp + 1, f, 8);
        struct cairn_hunt_event ev = {
            .fields = f, .n_fields = nf, .file = "match.txt", .line = i + 1};
        struct hits h = {0};
        int r = cairn_hunt_match_event(bl.m, &ev, count_hit, &h);
        /* look-ups made at once (small sets) and queued (large ones) */
        struct hits hq = {0};
        int rq = cairn_hunt_match_event(bl.mq, &ev, count_hit, &hq);
        if (rq != r || !same_hits(&h, &hq)) {
            fprintf(stderr, "match.txt:%zu: %s %s: %d hits queued, %d not\n",
                    i + 1, l, f[0].value, rq, r);
            failures++;
        }
        checks++;
        bool ok = false;
        if (strcmp(l, "hit") == 0)
            ok = r > 0 && h.n == r && h.confirm == 0;
        else if (strcmp(l, "candidate") == 0)
            ok = r > 0 && h.confirm == h.n;
        else if (strcmp(l, "miss") == 0)
            ok = r == 0 && h.n == 0;
        else
            fail_msg("match.txt:%zu: unknown line '%s'", i + 1, l);
        if (!ok) {
            fprintf(stderr,
                    "match.txt:%zu: %s %s: %d hits, %d to confirm (rc %d)\n",
                    i + 1, l, f[0].value, h.n, h.confirm, r);
            failures++;
        }
    }
    block_end(&bl);
    assert_true(checks > 100);
    assert_int_equal(failures, 0);
    free(lines);
    free(buf);
}

/* ---- STIX indicators: skips and reasons ---------------------------------- */

struct skips {
    int n;
    char msg[16][320];
    enum cairn_hunt_skip_reason reason[16];
    char id[16][80];
};

static void on_skip(const struct cairn_hunt_skip *s, void *ud)
{
    struct skips *k = ud;
    assert_true(k->n < 16);
    snprintf(k->msg[k->n], sizeof k->msg[0], "%s", s->message);
    snprintf(k->id[k->n], sizeof k->id[0], "%s",
             s->indicator_id ? s->indicator_id : "");
    k->reason[k->n++] = s->reason;
}

static void test_indicator_bundle(void **state)
{
    (void)state;
    size_t len;
    char *buf = slurp(DATA "indicators.json", &len);
    json_t *doc = json_loadb(buf, len, 0, NULL);
    assert_non_null(doc);
    struct cairn_time now;
    assert_int_equal(cairn_time_parse("2024-01-01T00:00:00Z", 20, true, &now),
                     0);
    struct skips k = {0};
    struct cairn_hunt_builder_opts o = {
        .now = &now, .skip_cb = on_skip, .ud = &k};
    struct cairn_hunt_builder *b;
    assert_int_equal(cairn_hunt_builder_new(&o, &b), 0);
    size_t i;
    json_t *obj;
    int skipped = 0;
    json_array_foreach(json_object_get(doc, "objects"), i, obj)
    {
        const char *expect = json_string_value(json_object_get(obj, "expect"));
        struct cairn_diag d;
        int before = k.n;
        int rc = cairn_hunt_builder_add_indicator(b, obj, &d);
        if (strcmp(expect, "indexed") == 0 || strcmp(expect, "yara") == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(k.n, before);
            continue;
        }
        skipped++;
        assert_int_equal(rc, CAIRN_HUNT_SKIPPED);
        assert_int_equal(k.n, before + 1); /* reported, never silent */
        const char *colon = strchr(expect, ':');
        size_t kind_len = colon ? (size_t)(colon - expect) : strlen(expect);
        static const char *const kinds[] = {"revoked", "expired", "unsupported",
                                            "invalid"};
        assert_int_equal(strlen(kinds[k.reason[before]]), kind_len);
        assert_memory_equal(kinds[k.reason[before]], expect, kind_len);
        if (colon != NULL && strstr(k.msg[before], colon + 1) == NULL)
            fail_msg("%s: '%s' lacks '%s'", expect, k.msg[before], colon + 1);
        assert_non_null(strstr(d.message, k.msg[before]));
        assert_string_equal(k.id[before],
                            json_string_value(json_object_get(obj, "id")));
    }
    struct cairn_hunt_set *set;
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    struct cairn_hunt_set_stats st;
    cairn_hunt_set_get_stats(set, &st);
    assert_int_equal(st.indicators, 2);
    assert_int_equal(st.skipped, (size_t)skipped);
    assert_int_equal(st.yara, 1);
    assert_int_equal(st.by_type[CAIRN_IOC_DOMAIN], 2);
    assert_true(st.memory > 0);

    struct cairn_hunt_yara_rule y;
    assert_int_equal(cairn_hunt_set_yara_count(set), 1);
    assert_int_equal(cairn_hunt_set_yara(set, 0, &y), 0);
    assert_string_equal(y.id,
                        "indicator--0f0e9a3c-1c37-4d86-8a0d-5f3e3b0c6a06");
    assert_string_equal(y.name, "yara rule");
    assert_non_null(strstr(y.rules, "rule evil"));
    assert_int_equal(cairn_hunt_set_yara(set, 1, &y), CAIRN_ENOTFOUND);

    /* the hit names the indicator by id and name */
    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    struct cairn_hunt_field f = {CAIRN_IOC_DOMAIN, "expired.example", 15, NULL};
    struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
    struct hits h = {0};
    assert_int_equal(cairn_hunt_match_event(m, &ev, count_hit, &h), 0);
    f.value = "a.valid.example";
    assert_int_equal(cairn_hunt_match_event(m, &ev, count_hit, &h), 1);
    assert_string_equal(h.last_id,
                        "indicator--0f0e9a3c-1c37-4d86-8a0d-5f3e3b0c6a04");
    struct cairn_hunt_indicator_info info;
    assert_int_equal(cairn_hunt_set_indicator(set, 1, &info), 0);
    assert_string_equal(info.name, "still valid");
    assert_false(info.from_list);
    assert_false(info.needs_confirmation);
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
    json_decref(doc);
    free(buf);
}

/* ---- lists -----------------------------------------------------------------
 */

static void test_list_ids_and_reports(void **state)
{
    (void)state;
    static const char list[] = "# feed\n"
                               "evil[.]com\r\n"
                               "\n"
                               "   # indented comment\n"
                               "10.1.2.3/8  # a comment after the value\n"
                               "not a value\n"
                               "what_is_this\n"
                               "EVIL.COM\n";
    struct skips k = {0};
    struct cairn_hunt_builder_opts o = {.skip_cb = on_skip, .ud = &k};
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    assert_int_equal(cairn_hunt_builder_new(&o, &b), 0);
    assert_int_equal(
        cairn_hunt_builder_add_list(b, list, sizeof list - 1, "feed.txt", NULL),
        0);
    assert_int_equal(k.n, 2);
    assert_non_null(strstr(k.msg[0], "more than one value"));
    assert_non_null(strstr(k.msg[1], "'what_is_this' is not"));
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);

    struct cairn_hunt_indicator_info info;
    assert_int_equal(cairn_hunt_set_indicator(set, 0, &info), 0);
    assert_true(info.from_list);
    assert_string_equal(info.name, "evil.com");
    /* UUIDv5 of "domain:evil.com": stable across runs and machines */
    assert_string_equal(info.id,
                        "indicator--00db339b-4842-520a-90dd-78942fa02d7b");
    assert_int_equal(cairn_hunt_set_indicator(set, 1, &info), 0);
    assert_string_equal(info.name, "10.0.0.0/8");
    assert_string_equal(info.id,
                        "indicator--52f40a77-a320-5bf4-b305-058cb115aed1");
    /* EVIL.COM is evil[.]com again: the same id, dropped as a duplicate,
     * so that a query for it is one hit and one sighting, not two */
    assert_int_equal(cairn_hunt_set_indicator(set, 2, &info), CAIRN_ENOTFOUND);
    struct cairn_hunt_set_stats st;
    cairn_hunt_set_get_stats(set, &st);
    assert_int_equal(st.indicators, 2);
    assert_int_equal(st.duplicates, 1);

    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    struct cairn_hunt_field f = {CAIRN_IOC_IPV4, "10.9.9.9", 8, "id.resp_h"};
    struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
    struct hits h = {0};
    assert_int_equal(cairn_hunt_match_event(m, &ev, count_hit, &h), 1);
    assert_string_equal(h.last_id,
                        "indicator--52f40a77-a320-5bf4-b305-058cb115aed1");
    struct cairn_hunt_field q = {CAIRN_IOC_DOMAIN, "www.evil.com", 12, "query"};
    struct cairn_hunt_event qev = {.fields = &q, .n_fields = 1};
    struct hits qh = {0};
    assert_int_equal(cairn_hunt_match_event(m, &qev, count_hit, &qh), 1);
    assert_string_equal(qh.last_id,
                        "indicator--00db339b-4842-520a-90dd-78942fa02d7b");
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
}

/* Two fields with the same value give one hit each; one field one hit. */
static void test_hits_per_value(void **state)
{
    (void)state;
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    json_t *ind = indicator_json(
        "[domain-name:value IN ('evil.example', 'a.evil.example')]", 1);
    assert_int_equal(cairn_hunt_builder_add_indicator(b, ind, NULL), 0);
    json_decref(ind);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    struct cairn_hunt_field f[2] = {
        {CAIRN_IOC_DOMAIN, "x.a.evil.example", 16, "query"},
        {CAIRN_IOC_DOMAIN, "b.evil.example", 14, "answer"},
    };
    struct cairn_hunt_event ev = {.fields = f, .n_fields = 2};
    struct hits h = {0};
    assert_int_equal(cairn_hunt_match_event(m, &ev, count_hit, &h), 2);
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
}

/*
 * A URL in free text and its host, which the extractor gives next as a
 * field of its own: the host's look-ups are made once (with the URL), and
 * each value hits once; an address that appears twice in the line hits
 * twice (two values), a domain under a URL with a port or userinfo too;
 * a URL inside a URL's query is part of it, not a value.
 */
static void test_text_url_host_once(void **state)
{
    (void)state;
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    json_t *ind = indicator_json(
        "[domain-name:value = 'evil.example' OR "
        "ipv4-addr:value = '198.51.100.0/24']",
        1);
    assert_int_equal(cairn_hunt_builder_add_indicator(b, ind, NULL), 0);
    json_decref(ind);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    static const struct {
        const char *line;
        int hits;
    } cases[] = {
        {"1607904000.017 GET http://a.evil.example/x - DIRECT/192.0.2.1", 1},
        {"GET http://a.evil.example/x - HIER_DIRECT/198.51.100.7 "
         "http://198.51.100.7/y",
         3},
        {"http://u:p@b.evil.example:8080/ evil.example", 2},
        {"http://good.example/?u=http://evil.example/", 0},
        {"http://[2001:db8::1]/ http://good.example/", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cairn_hunt_field f[32];
        const char *l = cases[i].line;
        size_t n = cairn_telemetry_extract(l, strlen(l), f, 32);
        struct cairn_hunt_event ev = {.fields = f, .n_fields = n};
        struct hits h = {0};
        int r = cairn_hunt_match_event(m, &ev, count_hit, &h);
        if (r != cases[i].hits || h.n != r) {
            print_error("%s: %d hits, want %d\n", l, r, cases[i].hits);
            fail();
        }
    }
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
}

/*
 * Repeated list entries are dropped when the index is built: next to a
 * STIX indicator with the same value (which is kept: its id differs),
 * and with the indicators after them numbered as if they never were.
 */
static void test_list_repeats_among_stix(void **state)
{
    (void)state;
    static const char list[] = "evil.com\n"
                               "EVIL[.]com\n"
                               "10.0.0.1\n"
                               "evil.com\n"
                               "10.0.0.1/32\n"
                               "good.example\n";
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    json_t *ind = indicator_json("[domain-name:value = 'evil.com']", 1);
    assert_int_equal(cairn_hunt_builder_add_indicator(b, ind, NULL), 0);
    json_decref(ind);
    assert_int_equal(
        cairn_hunt_builder_add_list(b, list, sizeof list - 1, "l.txt", NULL),
        0);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);

    struct cairn_hunt_set_stats st;
    cairn_hunt_set_get_stats(set, &st);
    assert_int_equal(st.indicators, 4);
    assert_int_equal(st.values, 4);
    assert_int_equal(st.duplicates, 3);
    assert_int_equal(st.by_type[CAIRN_IOC_DOMAIN], 3);
    assert_int_equal(st.by_type[CAIRN_IOC_IPV4], 1);
    static const char *const names[] = {NULL, "evil.com", "10.0.0.1",
                                        "good.example"};
    for (size_t i = 0; i < 4; i++) {
        struct cairn_hunt_indicator_info info;
        assert_int_equal(cairn_hunt_set_indicator(set, i, &info), 0);
        assert_int_equal(info.from_list, i > 0);
        if (names[i] != NULL)
            assert_string_equal(info.name, names[i]);
    }

    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    struct cairn_hunt_field f[3] = {
        {CAIRN_IOC_DOMAIN, "www.evil.com", 12, "query"},
        {CAIRN_IOC_IPV4, "10.0.0.1", 8, "id.resp_h"},
        {CAIRN_IOC_DOMAIN, "good.example", 12, "query"},
    };
    struct cairn_hunt_event ev = {.fields = f, .n_fields = 3};
    struct hits h = {0};
    /* evil.com twice (STIX and list), 10.0.0.1 and good.example once */
    assert_int_equal(cairn_hunt_match_event(m, &ev, count_hit, &h), 4);
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
}

static void on_log_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    uint64_t *line = ud;
    *line = hit->event->line;
}

/*
 * A log file is read in place from a mapping; its last line, without a
 * newline, ending just before, at or after a page boundary (where the
 * readers' 16-byte loads run past the file's end) is still read whole.
 */
static void test_log_file_ends(void **state)
{
    (void)state;
    static const char head[] = "#separator \\x09\n"
                               "#fields\tts\tquery\n"
                               "#types\ttime\tstring\n";
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    struct cairn_hunt_matcher *m;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    assert_int_equal(
        cairn_hunt_builder_add_list_line(b, "evil.example", 12, "l", 1, NULL),
        0);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    assert_int_equal(cairn_hunt_matcher_new(set, &m), 0);
    long page = sysconf(_SC_PAGESIZE);
    assert_true(page >= 4096);
    for (long size = page - 17; size <= 2 * page + 17; size++) {
        if (size > page + 17 && size < 2 * page - 17)
            continue;
        char path[] = "/tmp/cairn-hunt-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "wb");
        assert_non_null(f);
        /* the header, filler lines of 24 to 80 bytes, and a last line of
         * 32 bytes, "TS\tx.evil.example" */
        long fill = size - ((long)sizeof head - 1) - 32;
        fputs(head, f);
        uint64_t lines = 3;
        while (fill > 0) {
            long n = fill <= 80 ? fill : fill - 60 < 24 ? fill - 24 : 60;
            fprintf(
                f, "1607904000.000000\t%.*s.com\n", (int)(n - 23),
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
            fill -= n;
            lines++;
        }
        fputs("1607904000.000000\tx.evil.example", f);
        assert_int_equal(ftell(f), size);
        assert_int_equal(fclose(f), 0);

        struct cairn_telemetry_reader *r;
        assert_int_equal(cairn_telemetry_open(path, NULL, &r, NULL), 0);
        struct cairn_hunt_event ev;
        uint64_t hit_line = 0;
        int rc;
        while ((rc = cairn_telemetry_next(r, &ev, NULL)) == 1)
            assert_true(cairn_hunt_match_event(m, &ev, on_log_hit, &hit_line) >=
                        0);
        assert_int_equal(rc, 0);
        assert_int_equal(hit_line, lines + 1);
        cairn_telemetry_free(r);
        unlink(path);
    }
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
}

/* ---- the pattern walk ------------------------------------------------------
 */

static int walk_collect(const struct cairn_pattern_walk_item *it, void *ud)
{
    char *out = ud;
    size_t o = strlen(out);
    static const char *const names[] = {"CMP",     "AND",      "OR",  "OBS",
                                        "OAND",    "OOR",      "FBY", "WITHIN",
                                        "REPEATS", "STARTSTOP"};
    if (it->node == CAIRN_PATTERN_NODE_CMP) {
        snprintf(out + o, 512 - o, "%s:%s/%d/%d/%zu ", it->object_type,
                 it->path, (int)it->op, it->negated, it->n_literals);
        struct cairn_pattern_literal lit;
        if (it->n_literals > 0 && cairn_pattern_walk_literal(it, 0, &lit) &&
            lit.kind == CAIRN_PATTERN_LIT_STRING) {
            o = strlen(out);
            snprintf(out + o, 512 - o, "'%.*s' ", (int)lit.len, lit.s);
        }
    } else {
        snprintf(out + o, 512 - o, "%s ", names[it->node]);
    }
    return 0;
}

static void test_pattern_walk(void **state)
{
    (void)state;
    static const char text[] =
        "([file:hashes.'SHA-256' = "
        "'abababababababababababababababababababababababababababababababab' "
        "AND file:name NOT IN ('x', 'y')] OR "
        "[network-traffic:dst_ref.value = '1.2.3.4']) WITHIN 5 SECONDS";
    struct cairn_pattern *p;
    assert_int_equal(cairn_pattern_parse(text, sizeof text - 1, NULL, &p, NULL),
                     0);
    char out[512] = "";
    assert_int_equal(cairn_pattern_walk(p, walk_collect, out), 0);
    assert_string_equal(out, "file:hashes.SHA-256/0/0/1 "
                             "'abababababababababababababababababababababababababababababababab' "
                             "file:name/6/1/2 'x' AND OBS "
                             "network-traffic:dst_ref.value/0/0/1 '1.2.3.4' "
                             "OBS OOR WITHIN ");
    cairn_pattern_free(p);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect_table),
        cmocka_unit_test(test_url_table),
        cmocka_unit_test(test_match_cases),
        cmocka_unit_test(test_indicator_bundle),
        cmocka_unit_test(test_list_ids_and_reports),
        cmocka_unit_test(test_hits_per_value),
        cmocka_unit_test(test_text_url_host_once),
        cmocka_unit_test(test_list_repeats_among_stix),
        cmocka_unit_test(test_log_file_ends),
        cmocka_unit_test(test_pattern_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
