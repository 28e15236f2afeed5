/* SPDX-License-Identifier: Apache-2.0 */
/* Feed converters: MISP, mapped CSV, lists and FireEye CSV into valid STIX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/feed.h"
#include "cairn/hunt.h"
#include "cairn/pattern.h"
#include "cairn/stix.h"
#include "feed/feed_int.h"

#define DATA      CAIRN_TEST_DATA "/feed"
#define EV1       "5f9a2c1e-7b3d-4c8a-9e10-2a4b6c8d0e11"
#define EV2       "6a0b3d2f-8c4e-4d9b-8f21-3b5c7d9e1f22"
#define EV3       "7b1c4e3a-9d5f-4eac-a032-4c6d8eaf2a33"
#define TLP_AMBER "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
#define TLP_RED   "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
#define TLP_CLEAR "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
#define TLP_GREEN "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

/* What a conversion produced: the objects and the findings. */
struct out {
    json_t *objs;
    char reports[32][400];
    size_t n_reports;
};

static void on_invalid(const struct cairn_diag *d, void *ud)
{
    char line[800];
    (void)ud;
    if (d->severity != CAIRN_SEV_ERROR)
        return;
    cairn_diag_format(d, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

/*
 * Every object handed out must pass the validator with no error, and an
 * indicator's pattern must parse: checked here, independently of feed.c.
 */
static int emit(const json_t *obj, void *ud)
{
    struct out *o = ud;
    struct cairn_validate_stats st = {0};
    struct cairn_validate_opts vo = {.cb = on_invalid};

    assert_int_equal(cairn_stix_validate_object(obj, "", &vo, &st), 0);
    assert_int_equal(st.errors, 0);
    const char *pat = json_string_value(json_object_get(obj, "pattern"));
    if (pat != NULL) {
        struct cairn_pattern *p = NULL;
        assert_int_equal(cairn_pattern_parse(pat, strlen(pat), NULL, &p, NULL),
                         0);
        cairn_pattern_free(p);
    }
    /* Each id once. */
    size_t i;
    json_t *prev;
    json_array_foreach(o->objs, i, prev)
    {
        assert_string_not_equal(cairn_stix_id(prev), cairn_stix_id(obj));
    }
    assert_int_equal(json_array_append(o->objs, (json_t *)obj), 0);
    return 0;
}

static void on_report(const struct cairn_diag *d, void *ud)
{
    struct out *o = ud;
    if (o->n_reports < 32)
        cairn_diag_format(d, o->reports[o->n_reports++], 400);
}

static const struct cairn_time fixed_now = {.sec = 1700000000};

static struct cairn_feed *feed_new(struct out *o, const char *identity,
                                   enum cairn_tlp tlp)
{
    struct cairn_feed *f = NULL;
    struct cairn_feed_opts fo = {
        .emit = emit,
        .emit_ud = o,
        .report = on_report,
        .report_ud = o,
        .tlp = tlp,
        .identity = identity,
        .now = &fixed_now,
    };
    memset(o, 0, sizeof *o);
    o->objs = json_array();
    assert_non_null(o->objs);
    assert_int_equal(cairn_feed_new(&fo, &f), 0);
    return f;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, fp);
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

static const json_t *by_id(const struct out *o, const char *id)
{
    size_t i;
    json_t *x;
    json_array_foreach(o->objs, i, x)
    {
        if (strcmp(cairn_stix_id(x), id) == 0)
            return x;
    }
    return NULL;
}

static const json_t *by_pattern(const struct out *o, const char *pattern)
{
    size_t i;
    json_t *x;
    json_array_foreach(o->objs, i, x)
    {
        const char *p = json_string_value(json_object_get(x, "pattern"));
        if (p != NULL && strcmp(p, pattern) == 0)
            return x;
    }
    return NULL;
}

static size_t count_type(const struct out *o, const char *type)
{
    size_t i, n = 0;
    json_t *x;
    json_array_foreach(o->objs, i, x)
    {
        n += strcmp(cairn_stix_type(x), type) == 0;
    }
    return n;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The id the converter must give a MISP attribute or event. */
static void misp_id(const char *type, const char *uuid, char *out)
{
    assert_int_equal(cairn__feed_id(type, FEED_NAMESPACE, uuid, strlen(uuid), out), 0);
}

static const char *marking(const json_t *o)
{
    return json_string_value(
        json_array_get(json_object_get(o, "object_marking_refs"), 0));
}

static bool has_report(const struct out *o, const char *needle)
{
    for (size_t i = 0; i < o->n_reports; i++) {
        if (strstr(o->reports[i], needle) != NULL)
            return true;
    }
    return false;
}

static void release(struct out *o, struct cairn_feed *f)
{
    cairn_feed_free(f);
    json_decref(o->objs);
}

/* ---- MISP ------------------------------------------------------------------
 */

static void misp_event_mapping(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_NONE);
    struct cairn_feed_stats st;
    char id[CAIRN_STIX_ID_MAX], report[CAIRN_STIX_ID_MAX];
    size_t len;
    char *buf = slurp(DATA "/misp/" EV1 ".json", &len);

    assert_int_equal(cairn_feed_misp_event(f, buf, len, "ev1.json"), 0);
    cairn_feed_get_stats(f, &st);
    /* "text" and "size-in-bytes" have no mapping: reported, not dropped. */
    assert_int_equal(st.skipped, 2);
    assert_true(has_report(&o, "event " EV1 ", attribute "
                               "a1000001-0000-4000-8000-00000000000e: type "
                               "'text' has no STIX mapping"));
    assert_true(has_report(&o, "a1000001-0000-4000-8000-000000000012"));
    assert_int_equal(st.reports, 1);

    /* The creator organisation, referenced by every SDO. */
    misp_id("identity", "55f6ea5e-2c60-40e5-964f-47a8950d210f", id);
    const json_t *org = by_id(&o, id);
    assert_non_null(org);
    assert_string_equal(str(org, "name"), "CIRCL");

    /* A to_ids domain: its id derives from the attribute uuid. */
    misp_id("indicator", "a1000001-0000-4000-8000-000000000001", id);
    const json_t *ind = by_id(&o, id);
    assert_non_null(ind);
    assert_string_equal(str(ind, "pattern"),
                        "[domain-name:value = 'evil.example.com']");
    assert_string_equal(str(ind, "description"), "C2 domain");
    assert_string_equal(str(ind, "valid_from"), "2020-10-25T16:22:00.000Z");
    assert_string_equal(str(ind, "modified"), "2020-10-25T16:22:00.000Z");
    assert_string_equal(str(ind, "created"), "2020-10-20T00:00:00.000Z");
    assert_string_equal(str(ind, "created_by_ref"), cairn_stix_id(org));
    assert_string_equal(marking(ind), TLP_AMBER);
    /* Tags are labels, except TLP tags, which are markings. */
    json_t *labels = json_object_get(ind, "labels");
    assert_int_equal(json_array_size(labels), 2);
    assert_string_equal(json_string_value(json_array_get(labels, 0)),
                        "misp-galaxy:threat-actor=\"APT 28\"");

    /* Quotes and backslashes escaped inside pattern strings. */
    assert_non_null(by_pattern(
        &o, "[url:value = 'http://evil.example.com/it\\'s\\\\here']"));
    assert_non_null(by_pattern(
        &o, "[windows-registry-key:key = "
            "'HKLM\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion"
            "\\\\Run\\\\updater']"));
    assert_non_null(
        by_pattern(&o, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"));
    assert_non_null(by_pattern(
        &o, "[file:name = 'invoice.exe' AND file:hashes.'SHA-256' = "
            "'5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
            "']"));
    assert_non_null(by_pattern(&o, "[domain-name:value = 'relay.example.net' "
                                   "OR ipv4-addr:value = '192.0.2.44']"));
    assert_non_null(by_pattern(
        &o, "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']"));
    assert_non_null(
        by_pattern(&o, "[email-addr:value = 'phisher@example.org']"));
    /* Attributes of MISP objects convert too. */
    assert_non_null(by_pattern(&o, "[file:name = 'dropper.js']"));

    /* An attribute's own TLP tag wins over the event's. */
    const json_t *secret =
        by_pattern(&o, "[domain-name:value = 'secret.example.com']");
    assert_non_null(secret);
    assert_string_equal(marking(secret), TLP_RED);

    /* Not for detection: an observed-data over a deterministic SCO. */
    misp_id("observed-data", "a1000001-0000-4000-8000-00000000000b", id);
    const json_t *od = by_id(&o, id);
    assert_non_null(od);
    const char *sco_id = json_string_value(
        json_array_get(json_object_get(od, "object_refs"), 0));
    json_t *sco = json_pack("{s:s,s:s}", "type", "domain-name", "value",
                            "mail.example.org");
    char want[CAIRN_STIX_ID_MAX];
    assert_int_equal(cairn_stix_sco_id(sco, want), 0);
    json_decref(sco);
    assert_string_equal(sco_id, want);
    assert_non_null(by_id(&o, want));
    assert_string_equal(str(od, "first_observed"), "2020-10-25T16:22:00.000Z");

    /* The event is a report referring to everything converted. */
    misp_id("report", EV1, report);
    const json_t *rep = by_id(&o, report);
    assert_non_null(rep);
    assert_string_equal(str(rep, "name"), "Phishing wave with 'quoted' lure");
    assert_string_equal(str(rep, "published"), "2020-10-20T00:00:00.000Z");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(rep, "report_types"), 0)),
                        "threat-report");
    assert_string_equal(marking(rep), TLP_AMBER);
    json_t *refs = json_object_get(rep, "object_refs");
    /* Everything but the identity and the report itself. */
    assert_int_equal(json_array_size(refs), json_array_size(o.objs) - 2);
    /* The link attribute is a reference of the report. */
    json_t *ext = json_object_get(rep, "external_references");
    assert_int_equal(json_array_size(ext), 2);
    assert_string_equal(str(json_array_get(ext, 1), "url"),
                        "https://blog.example.org/phishing-wave");
    free(buf);
    release(&o, f);
}

static void misp_tlp_white_and_composites(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_RED);
    struct cairn_feed_stats st;
    char id[CAIRN_STIX_ID_MAX];
    size_t len;
    char *buf = slurp(DATA "/misp/" EV2 ".json", &len);

    assert_int_equal(cairn_feed_misp_event(f, buf, len, "ev2.json"), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.skipped, 0);
    /* tlp:white is TLP 2.0 CLEAR, and beats the --tlp default. */
    size_t i;
    json_t *x;
    json_array_foreach(o.objs, i, x)
    {
        if (strcmp(cairn_stix_type(x), "identity") != 0)
            assert_string_equal(marking(x), TLP_CLEAR);
    }
    /* A deleted attribute is not converted. */
    misp_id("indicator", "a2000002-0000-4000-8000-000000000007", id);
    assert_null(by_id(&o, id));
    assert_non_null(
        by_pattern(&o, "[ipv6-addr:value ISSUBSET '2001:db8:1::/48']"));
    assert_non_null(by_pattern(&o, "[mutex:name = 'Global\\\\scanner_mtx']"));
    /* domain|ip seen: the domain resolves to the address. */
    misp_id("observed-data", "a2000002-0000-4000-8000-000000000003", id);
    const json_t *od = by_id(&o, id);
    assert_non_null(od);
    assert_string_equal(str(od, "first_observed"), "2021-02-27T10:00:00.000Z");
    assert_string_equal(str(od, "last_observed"), "2021-02-28T18:30:00.000Z");
    json_t *refs = json_object_get(od, "object_refs");
    assert_int_equal(json_array_size(refs), 2);
    const json_t *dom = by_id(&o, json_string_value(json_array_get(refs, 0)));
    assert_non_null(dom);
    assert_string_equal(str(dom, "value"), "scan.example.net");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(dom, "resolves_to_refs"), 0)),
                        json_string_value(json_array_get(refs, 1)));
    /* AS64500 is the number 64500. */
    assert_int_equal(count_type(&o, "autonomous-system"), 1);
    free(buf);
    release(&o, f);
}

/* The same feed twice gives the very same objects. */
static void misp_reimport_is_identical(void **state)
{
    (void)state;
    struct out a, b;
    struct cairn_feed *fa = feed_new(&a, NULL, CAIRN_TLP_NONE);
    assert_int_equal(cairn_feed_misp_dir(fa, DATA "/misp"), 0);
    struct cairn_feed *fb = feed_new(&b, NULL, CAIRN_TLP_NONE);
    assert_int_equal(cairn_feed_misp_dir(fb, DATA "/misp"), 0);
    assert_true(json_array_size(a.objs) > 30);
    assert_true(json_equal(a.objs, b.objs));

    struct cairn_feed_stats st;
    cairn_feed_get_stats(fa, &st);
    assert_int_equal(st.reports, 3);
    assert_int_equal(st.skipped, 3); /* text, size-in-bytes, btc */
    assert_true(has_report(&a, "event " EV3 ", attribute "
                               "a3000003-0000-4000-8000-000000000004: type "
                               "'btc'"));
    /* Two events of one organisation: one identity. */
    assert_int_equal(count_type(&a, "identity"), 2);
    release(&a, fa);
    release(&b, fb);
}

/* A feed's files from elsewhere (a web server): serve DATA/misp's, named
 * "web:NAME", refusing the file `refuse` if set. */
struct fetch_ud {
    const char *refuse;
    unsigned calls;
};

static int fetch_misp(void *ud, const char *name, char *where, size_t where_len,
                      char **buf, size_t *len, char *why, size_t why_len)
{
    struct fetch_ud *u = ud;
    char path[512];
    u->calls++;
    snprintf(where, where_len, "web:%s", name);
    if (u->refuse != NULL && strcmp(name, u->refuse) == 0) {
        snprintf(why, why_len, "HTTP 404");
        return CAIRN_ENOTFOUND;
    }
    snprintf(path, sizeof path, "%s/misp/%s", DATA, name);
    char *raw = slurp(path, len);
    *buf = cairn_strndup(raw, *len);
    free(raw);
    return *buf != NULL ? 0 : CAIRN_ENOMEM;
}

static void misp_feed_fetched(void **state)
{
    (void)state;
    struct out a, b, c;
    struct cairn_feed *fa = feed_new(&a, NULL, CAIRN_TLP_NONE);
    struct cairn_feed *fb = feed_new(&b, NULL, CAIRN_TLP_NONE);
    struct fetch_ud u = {0};
    /* Fetched or read from the directory: the same objects. */
    assert_int_equal(cairn_feed_misp_dir(fa, DATA "/misp"), 0);
    assert_int_equal(cairn_feed_misp_feed(fb, fetch_misp, &u), 0);
    assert_int_equal(u.calls, 4); /* the manifest and three events */
    assert_true(json_equal(a.objs, b.objs));

    /* An event that cannot be fetched is skipped, named by its URL. */
    struct cairn_feed *fc = feed_new(&c, NULL, CAIRN_TLP_NONE);
    struct cairn_feed_stats st;
    u = (struct fetch_ud){.refuse = EV3 ".json"};
    assert_int_equal(cairn_feed_misp_feed(fc, fetch_misp, &u), 0);
    assert_true(
        has_report(&c, "web:" EV3 ".json: error: cannot read: HTTP 404"));
    cairn_feed_get_stats(fc, &st);
    assert_int_equal(st.skipped, 3); /* text, size-in-bytes, and EV3 */
    assert_true(json_array_size(c.objs) < json_array_size(a.objs));
    release(&c, fc);

    /* No manifest: CAIRN_EIO, reported with its name. */
    fc = feed_new(&c, NULL, CAIRN_TLP_NONE);
    u = (struct fetch_ud){.refuse = "manifest.json"};
    assert_int_equal(cairn_feed_misp_feed(fc, fetch_misp, &u), CAIRN_EIO);
    assert_true(has_report(&c, "web:manifest.json: error: cannot read"));
    assert_int_equal(u.calls, 1);
    release(&a, fa);
    release(&b, fb);
    release(&c, fc);
}

/* Findings about broken MISP input: file, line and column, or the uuid. */
static void misp_bad_input(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_NONE);
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(DATA "/bad/event-malformed.json", &len);

    assert_int_equal(cairn_feed_misp_event(f, buf, len, "broken.json"),
                     CAIRN_EPARSE);
    assert_true(has_report(&o, "broken.json:3:25: error:"));
    free(buf);

    assert_int_equal(cairn_feed_misp_dir(f, DATA "/bad/nomanifest"), CAIRN_EIO);
    assert_true(has_report(&o, "nomanifest/manifest.json: error: cannot read"));
    assert_int_equal(cairn_feed_misp_dir(f, DATA "/bad/manifest-broken"),
                     CAIRN_EPARSE);

    cairn_feed_get_stats(f, &st);
    size_t before = st.skipped;
    assert_int_equal(cairn_feed_misp_dir(f, DATA "/bad/manifest-gaps"), 0);
    cairn_feed_get_stats(f, &st);
    /* Missing event, a key that is not a uuid, a malformed event. */
    assert_int_equal(st.skipped - before, 3);
    assert_true(has_report(&o, "'../../../../etc/passwd' is not an event "
                               "uuid"));
    assert_true(has_report(
        &o, "9d3e6a5c-1f7b-4a0c-8254-6e8fa0c14c55.json: error: cannot read"));
    assert_int_equal(st.reports, 1);

    /* JSON that is not an event. */
    const char *notev = "{\"response\": []}";
    assert_int_equal(cairn_feed_misp_event(f, notev, strlen(notev), "x"),
                     CAIRN_EPARSE);
    release(&o, f);
}

static int count_emit(const json_t *obj, void *ud)
{
    (void)obj;
    (*(size_t *)ud)++;
    return 0;
}

enum conv { C_MISP, C_CSV, C_LIST, C_FIREEYE };

static int convert(struct cairn_feed *f, enum conv c, const char *buf,
                   size_t len)
{
    struct cairn_feed_csv_map *m = NULL;
    int rc;

    switch (c) {
    case C_MISP:
        return cairn_feed_misp_event(f, buf, len, "ev.json");
    case C_CSV:
        rc = cairn_feed_csv_map_parse("value=Indicator,type=Kind,labels=Tags,"
                                      "valid_from=First Seen",
                                      &m, NULL);
        if (rc == 0)
            rc = cairn_feed_csv(f, buf, len, "iocs.csv", m);
        cairn_feed_csv_map_free(m);
        return rc;
    case C_LIST:
        return cairn_feed_list(f, buf, len, "list.txt");
    default:
        return cairn_feed_fireeye(f, buf, len, "nbis.csv");
    }
}

/* Out of memory at every step: an error, never a crash or a leak. */
static void allocation_failures(void **state)
{
    (void)state;
    static const struct {
        enum conv conv;
        const char *path;
    } inputs[] = {
        {C_MISP, DATA "/misp/" EV1 ".json"},
        {C_CSV, DATA "/iocs.csv"},
        {C_LIST, DATA "/list.txt"},
        {C_FIREEYE,
         CAIRN_EXAMPLES "/sunburst-fireeye/Indicator_Release_NBIs.csv"},
    };
    for (size_t in = 0; in < sizeof inputs / sizeof inputs[0]; in++) {
        size_t len;
        char *buf = slurp(inputs[in].path, &len);
        long base = cairn_alloc_live();
        int rc = CAIRN_ENOMEM;
        size_t emitted = 0;

        for (long n = 0; rc == CAIRN_ENOMEM && n < 100000; n += 3) {
            struct cairn_feed *f = NULL;
            struct cairn_feed_opts fo = {.emit = count_emit,
                                         .emit_ud = &emitted,
                                         .identity = "Example CERT"};
            emitted = 0;
            cairn_alloc_fail_after(n);
            rc = cairn_feed_new(&fo, &f);
            if (rc == 0)
                rc = convert(f, inputs[in].conv, buf, len);
            cairn_alloc_fail_after(-1);
            cairn_feed_free(f);
            /*
             * jansson reports some allocation failures inside its parser
             * as syntax errors, so a failed MISP parse may say EPARSE.
             */
            assert_true(rc == 0 || rc == CAIRN_ENOMEM ||
                        (inputs[in].conv == C_MISP && rc == CAIRN_EPARSE));
            if (rc == CAIRN_EPARSE)
                rc = CAIRN_ENOMEM;
            assert_int_equal(cairn_alloc_live(), base);
        }
        assert_int_equal(rc, 0);
        assert_true(emitted > 5);
        free(buf);
    }
}

/* ---- CSV -------------------------------------------------------------------
 */

static void csv_map_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        const char *message;
    } cases[] = {
        {"type=Kind", "value=COLUMN is required"},
        {"value=a,colour=b", "unknown key 'colour'"},
        {"value=a,value=b", "'value' is mapped twice"},
        {"value", "'value' is not KEY=COLUMN"},
        {"value=", "'value=' is not KEY=COLUMN"},
        {"=x", "'=x' is not KEY=COLUMN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cairn_feed_csv_map *m = NULL;
        struct cairn_diag d;
        cairn_diag_clear(&d);
        assert_int_equal(cairn_feed_csv_map_parse(cases[i].spec, &m, &d),
                         CAIRN_EINVAL);
        assert_null(m);
        assert_non_null(strstr(d.message, cases[i].message));
    }
}

static struct cairn_feed_csv_map *map_of(const char *spec)
{
    struct cairn_feed_csv_map *m = NULL;
    assert_int_equal(cairn_feed_csv_map_parse(spec, &m, NULL), 0);
    return m;
}

static void csv_mapped(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, "Example CERT", CAIRN_TLP_GREEN);
    struct cairn_feed_csv_map *m =
        map_of("value=Indicator,type=Kind,name=Title,valid_from=First Seen,"
               "labels=Tags,description=Notes");
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(DATA "/iocs.csv", &len);

    assert_int_equal(cairn_feed_csv(f, buf, len, "iocs.csv", m), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(st.indicators, 6);
    /* The producer identity, named like the hunt's --identity. */
    char ident[CAIRN_STIX_ID_MAX];
    assert_int_equal(
        cairn__feed_id("identity", FEED_LIST_NAMESPACE, "Example CERT", 12, ident), 0);
    assert_non_null(by_id(&o, ident));

    const json_t *c2 =
        by_pattern(&o, "[domain-name:value = 'evil.example.com']");
    assert_non_null(c2);
    assert_string_equal(str(c2, "name"), "C2 domain");
    assert_string_equal(str(c2, "valid_from"), "2021-01-05T10:00:00.000Z");
    assert_string_equal(str(c2, "description"), "first stage, then \"beacon\"");
    assert_string_equal(str(c2, "created_by_ref"), ident);
    assert_string_equal(marking(c2), TLP_GREEN);
    assert_int_equal(json_array_size(json_object_get(c2, "labels")), 2);
    /* An empty type cell: detected (and refanged). */
    const json_t *gate =
        by_pattern(&o, "[url:value = 'http://evil.example.com/gate.php']");
    assert_non_null(gate);
    assert_string_equal(str(gate, "valid_from"), "2021-01-05T00:00:00.000Z");
    assert_non_null(
        by_pattern(&o, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"));
    const json_t *mail =
        by_pattern(&o, "[email-addr:value = 'phisher@example.org']");
    assert_string_equal(str(mail, "valid_from"), "2021-01-01T00:00:00.000Z");
    /* No time in the row: the converter's time. */
    const json_t *fn = by_pattern(&o, "[file:name = 'invoice.exe']");
    assert_non_null(fn);
    assert_string_equal(str(fn, "valid_from"), "2023-11-14T22:13:20.000Z");
    cairn_feed_csv_map_free(m);
    free(buf);
    release(&o, f);
}

static void csv_fixed_type_and_bad_rows(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_NONE);
    struct cairn_feed_csv_map *m = map_of("value=value,type=type");
    struct cairn_feed_csv_map *fixed = map_of("value=value,type=domain");
    struct cairn_feed_csv_map *nocol = map_of("value=ioc");
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(DATA "/bad/wrong-columns.csv", &len);

    assert_int_equal(cairn_feed_csv(f, buf, len, "wc.csv", m), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.skipped, 2);
    assert_int_equal(st.indicators, 2);
    assert_true(has_report(&o, "wc.csv:3:1: error: 1 columns where the "
                               "header has 2"));
    assert_true(has_report(&o, "wc.csv:5:1: error: 3 columns"));
    free(buf);

    buf = slurp(DATA "/bad/unterminated.csv", &len);
    assert_int_equal(cairn_feed_csv(f, buf, len, "u.csv", m), CAIRN_EPARSE);
    assert_true(has_report(&o, "u.csv:2:1: error: a quoted cell never ends"));
    free(buf);

    /* type=NAME that is no column: one type for every row. */
    const char *rows = "value\r\nexample[.]org\r\n1.2.3.4\r\n";
    assert_int_equal(cairn_feed_csv(f, rows, strlen(rows), "t.csv", fixed), 0);
    assert_non_null(by_pattern(&o, "[domain-name:value = 'example.org']"));
    assert_true(has_report(&o, "t.csv:3:1: error: '1.2.3.4' is not a value "
                               "of its type"));
    /*
     * Quoted cells may hold line breaks (later rows keep their line
     * numbers), "" is one quote, and text after a closing quote belongs
     * to the cell: "exa"mple.net is example.net.
     */
    const char *quoted = "value,note\n"
                         "\"exa\"mple.net,\"two\nlines, one cell\"\n"
                         "\"say \"\"hi\"\"\",x\n";
    assert_int_equal(
        cairn_feed_csv(f, quoted, strlen(quoted), "q.csv", fixed), 0);
    assert_non_null(by_pattern(&o, "[domain-name:value = 'example.net']"));
    assert_true(has_report(&o, "q.csv:4:1: error: 'say \"hi\"' is not a "
                               "value of its type"));
    assert_int_equal(cairn_feed_csv(f, rows, strlen(rows), "n.csv", nocol),
                     CAIRN_EPARSE);
    assert_true(has_report(&o, "n.csv:1:1: error: no column 'ioc'"));
    const char *badtype = "value,type\nexample.com,bitcoin\n";
    assert_int_equal(cairn_feed_csv(f, badtype, strlen(badtype), "b.csv", m),
                     0);
    assert_true(has_report(&o, "b.csv:2:1: error: unknown type 'bitcoin'"));
    cairn_feed_csv_map_free(m);
    cairn_feed_csv_map_free(fixed);
    cairn_feed_csv_map_free(nocol);
    release(&o, f);
}

/* ---- plain lists ------------------------------------------------------------
 */

static void list_ids(const char *line, char id[CAIRN_HUNT_ID_MAX])
{
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_hunt_indicator_info info;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    assert_int_equal(
        cairn_hunt_builder_add_list_line(b, line, strlen(line), "l", 1, NULL),
        0);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    assert_int_equal(cairn_hunt_set_indicator(set, 0, &info), 0);
    memcpy(id, info.id, CAIRN_HUNT_ID_MAX);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
}

static void list_defanged(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_AMBER);
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(DATA "/list.txt", &len);

    assert_int_equal(cairn_feed_list(f, buf, len, "list.txt"), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.indicators, 6); /* AVSVMCLOUD.COM is a repeat */
    assert_int_equal(st.skipped, 1);
    assert_true(has_report(&o, "list.txt:8:1: error: 'not a value at all'"));
    const json_t *d = by_pattern(&o, "[domain-name:value = 'avsvmcloud.com']");
    assert_non_null(d);
    assert_string_equal(marking(d), TLP_AMBER);
    /* The id a hunt gives the same list line. */
    char hid[CAIRN_HUNT_ID_MAX];
    list_ids("avsvmcloud[.]com", hid);
    assert_string_equal(cairn_stix_id(d), hid);
    const json_t *u =
        by_pattern(&o, "[url:value = 'https://freescanonline.com/index.php']");
    assert_non_null(u);
    assert_string_equal(str(u, "description"), "landing page");
    assert_non_null(by_pattern(&o, "[ipv4-addr:value = '13.59.205.66']"));
    assert_non_null(
        by_pattern(&o, "[ipv6-addr:value ISSUBSET '2001:db8::/32']"));
    assert_non_null(by_pattern(&o, "[email-addr:value = 'abuse@example.org']"));
    free(buf);
    release(&o, f);
}

/* ---- FireEye
 * ------------------------------------------------------------------ */

static void fireeye_nbis(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_NONE);
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(
        CAIRN_EXAMPLES "/sunburst-fireeye/Indicator_Release_NBIs.csv", &len);

    assert_int_equal(cairn_feed_fireeye_detect(buf, len),
                     CAIRN_FEED_FIREEYE_NBIS);
    assert_int_equal(cairn_feed_fireeye(f, buf, len, "nbis.csv"), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(st.indicators, 16);
    assert_int_equal(count_type(&o, "malware"), 2); /* SUNBURST, BEACON */
    /* Rows without Associated Malware have no relationship. */
    assert_int_equal(count_type(&o, "relationship"), 12);
    const json_t *a = by_pattern(&o, "[domain-name:value = 'deftsecurity.com' "
                                     "OR ipv4-addr:value = '13.59.205.66']");
    assert_non_null(a);
    assert_string_equal(str(a, "valid_from"), "2020-02-14T03:47:49.000Z");
    assert_string_equal(str(a, "modified"), "2020-12-13T19:28:44.000Z");
    assert_non_null(by_pattern(
        &o, "[domain-name:value = "
            "'6a57jk2ba1d9keg15cbg.appsync-api.eu-west-1.avsvmcloud.com']"));
    size_t i;
    json_t *x;
    const json_t *sunburst = NULL;
    json_array_foreach(o.objs, i, x)
    {
        if (strcmp(cairn_stix_type(x), "malware") == 0 &&
            strcmp(str(x, "name"), "SUNBURST") == 0)
            sunburst = x;
    }
    assert_non_null(sunburst);
    assert_true(json_is_true(json_object_get(sunburst, "is_family")));
    bool linked = false;
    json_array_foreach(o.objs, i, x)
    {
        linked |= strcmp(cairn_stix_type(x), "relationship") == 0 &&
                  strcmp(str(x, "source_ref"), cairn_stix_id(a)) == 0 &&
                  strcmp(str(x, "target_ref"), cairn_stix_id(sunburst)) == 0 &&
                  strcmp(str(x, "relationship_type"), "indicates") == 0;
    }
    assert_true(linked);
    free(buf);
    release(&o, f);
}

static void fireeye_hashes(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, "Example CERT", CAIRN_TLP_CLEAR);
    struct cairn_feed_stats st;
    size_t len;
    char *buf = slurp(
        CAIRN_EXAMPLES "/sunburst-fireeye/Indicator_Release_Hashes.csv", &len);

    assert_int_equal(cairn_feed_fireeye_detect(buf, len),
                     CAIRN_FEED_FIREEYE_HASHES);
    assert_int_equal(cairn_feed_fireeye(f, buf, len, "hashes.csv"), 0);
    cairn_feed_get_stats(f, &st);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(st.indicators, 11);
    /* SUNBURST and SUPERNOVA; "Benign" and the certificate are not malware. */
    assert_int_equal(count_type(&o, "malware"), 2);
    const json_t *dll = by_pattern(
        &o, "[file:hashes.'SHA-256' = "
            "'32519b85c0b422e4656de6e6c41878e95fd95026267daab4215ee59c107d6c77'"
            " OR file:hashes.'SHA-1' = "
            "'76640508b1e7759e548771a5359eaed353bf1eec' OR file:hashes.'MD5' "
            "= 'b91ce2fa41029f6955bff20079468448']");
    assert_non_null(dll);
    assert_string_equal(str(dll, "name"),
                        "SolarWinds.Orion.Core.BusinessLayer.dll");
    assert_non_null(
        strstr(str(dll, "description"), "version 2019.4.5200.9083"));
    size_t i;
    json_t *x;
    size_t benign = 0;
    json_array_foreach(o.objs, i, x)
    {
        const char *t = json_string_value(
            json_array_get(json_object_get(x, "indicator_types"), 0));
        benign += t != NULL && strcmp(t, "benign") == 0;
        if (strcmp(cairn_stix_type(x), "identity") != 0)
            assert_string_equal(marking(x), TLP_CLEAR);
    }
    assert_int_equal(benign, 2);
    free(buf);
    release(&o, f);
}

static void fireeye_rejects_other_csv(void **state)
{
    (void)state;
    struct out o;
    struct cairn_feed *f = feed_new(&o, NULL, CAIRN_TLP_NONE);
    const char *csv = "value,type\nexample.com,domain\n";
    assert_int_equal(cairn_feed_fireeye_detect(csv, strlen(csv)),
                     CAIRN_FEED_FIREEYE_NONE);
    assert_int_equal(cairn_feed_fireeye(f, csv, strlen(csv), "x.csv"),
                     CAIRN_EPARSE);
    assert_true(has_report(&o, "not a FireEye Indicator_Release CSV"));
    release(&o, f);
}

/* ---- shared pieces
 * ------------------------------------------------------------ */

static void time_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } cases[] = {
        {"2020-06-13 09:20:41", "2020-06-13T09:20:41.000Z"},
        {"2020-06-13", "2020-06-13T00:00:00.000Z"},
        {"1603642920", "2020-10-25T16:22:00.000Z"},
        {"2021-02-27T10:00:00.000000+00:00", "2021-02-27T10:00:00.000Z"},
        {"2021-02-27T12:00:00+02:00", "2021-02-27T10:00:00.000Z"},
        {" 2020-06-13 ", "2020-06-13T00:00:00.000Z"},
        {"yesterday", NULL},
        {"2020-13-01", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cairn_time t;
        char buf[40];
        int rc = cairn__feed_parse_time(cases[i].in, strlen(cases[i].in), &t);
        if (cases[i].out == NULL) {
            assert_int_not_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, 0);
        cairn__feed_time_str(&t, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
    }
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(misp_event_mapping),
        cmocka_unit_test(misp_tlp_white_and_composites),
        cmocka_unit_test(misp_reimport_is_identical),
        cmocka_unit_test(misp_bad_input),
        cmocka_unit_test(misp_feed_fetched),
        cmocka_unit_test(allocation_failures),
        cmocka_unit_test(csv_map_errors),
        cmocka_unit_test(csv_mapped),
        cmocka_unit_test(csv_fixed_type_and_bad_rows),
        cmocka_unit_test(list_defanged),
        cmocka_unit_test(fireeye_nbis),
        cmocka_unit_test(fireeye_hashes),
        cmocka_unit_test(fireeye_rejects_other_csv),
        cmocka_unit_test(time_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
