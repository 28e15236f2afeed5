/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator scores: the worked example of docs/analysis.md, and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/analysis.h"

static json_t *indicator(const char *extra)
{
    char text[1024];
    json_error_t je;
    snprintf(text, sizeof text,
             "{\"type\":\"indicator\",\"id\":\"indicator--x\",\"pattern_type\":"
             "\"stix\",\"pattern\":\"[domain-name:value = 'c2.example']\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\"%s}",
             extra);
    json_t *o = json_loads(text, 0, &je);
    assert_non_null(o);
    return o;
}

static struct cairn_time at(const char *s)
{
    struct cairn_time t;
    assert_int_equal(cairn_time_parse(s, strlen(s), true, &t), 0);
    return t;
}

/* The worked example of docs/analysis.md. */
static void test_worked_example(void **state)
{
    (void)state;
    json_t *ind = indicator(",\"confidence\":80");
    struct cairn_time now = at("2026-03-02T00:00:00Z"); /* 60 days on */
    struct cairn_score_opts o = {.now = &now};
    json_t *ex = NULL;
    /* 80 x (1 - (60/180)^(1/0.3)) = 77.95 */
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, &ex), 78);
    assert_non_null(ex);
    assert_true(json_real_value(json_object_get(ex, "lifetime_days")) == 180);
    assert_true(json_real_value(json_object_get(ex, "decay")) == 0.97);
    json_decref(ex);
    /* two organisations sighted it (+10), one called it a false positive
     * (-15): 72.95 */
    struct cairn_score_sightings sg = {.orgs = 2, .fp_orgs = 1, .count = 5};
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 73);
    /* a sighting yesterday restarts the decay: 80 + 10 - 15 */
    sg.has_last_seen = true;
    sg.last_seen = at("2026-03-01T00:00:00Z");
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 75);
    /* on a warninglist: a quarter */
    struct cairn_warninglists *w = NULL;
    static const char list[] =
        "{\"name\":\"L\",\"type\":\"hostname\",\"list\":[\"example\"]}";
    assert_int_equal(cairn_warninglists_new(&w), 0);
    assert_int_equal(cairn_warninglists_add(w, list, strlen(list), "l", NULL,
                                            NULL),
                     0);
    o.warninglists = w;
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 19);
    cairn_warninglists_free(w);
    json_decref(ind);
}

static void test_limits(void **state)
{
    (void)state;
    struct cairn_time now = at("2026-03-02T00:00:00Z");
    struct cairn_score_opts o = {.now = &now};
    /* no confidence: the default, 50 */
    json_t *ind = indicator("");
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 49);
    o.default_confidence = 70;
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 68);
    json_decref(ind);
    /* past its lifetime, past valid_until, revoked: 0, whatever sighted it */
    struct cairn_score_sightings sg = {.orgs = 10};
    struct cairn_time late = at("2026-07-01T00:00:00Z");
    o.now = &late;
    ind = indicator("");
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 0);
    json_decref(ind);
    o.now = &now;
    ind = indicator(",\"valid_until\":\"2026-02-01T00:00:00Z\"");
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 0);
    json_decref(ind);
    ind = indicator(",\"revoked\":true,\"confidence\":100");
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 0);
    json_decref(ind);
    /* never above 100; an address decays within 30 days */
    ind = indicator(",\"confidence\":100");
    sg.has_last_seen = true;
    sg.last_seen = now;
    assert_int_equal(cairn_score_indicator(ind, &sg, &o, NULL), 100);
    json_decref(ind);
    json_error_t je;
    ind = json_loads("{\"type\":\"indicator\",\"pattern_type\":\"stix\","
                     "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
                     "\"valid_from\":\"2026-01-31T00:00:00Z\"}",
                     0, &je);
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 0);
    json_decref(ind);
    assert_int_equal(cairn_score_indicator(NULL, NULL, NULL, NULL),
                     CAIRN_EINVAL);
}

/*
 * The worked example of docs/analysis.md with the [analysis] settings: a
 * source's default confidence, a decay of the indicator's type.
 */
static void test_settings(void **state)
{
    (void)state;
    json_t *ind = indicator(",\"created_by_ref\":\"identity--a\"");
    struct cairn_time now = at("2026-03-02T00:00:00Z");
    struct cairn_score_opts o = {.now = &now};
    char err[200];
    /* no confidence: the default, 50 x 0.974 */
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 49);
    assert_int_equal(cairn_score_opts_parse(&o, " identity--a 80 , identity--b 10",
                                            "ipv4 7 1, domain 90 1", err,
                                            sizeof err),
                     0);
    assert_int_equal(o.n_sources, 2);
    assert_int_equal(o.n_decay, 2);
    /* the source's 80, decayed over 90 days linearly: 80 x (1 - 60/90) */
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 27);
    /* a confidence of its own wins over the source's */
    json_object_set_new(ind, "confidence", json_integer(20));
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 7);
    /* only decay: the built-in 180 days and 0.3 for the others */
    assert_int_equal(cairn_score_opts_parse(&o, NULL, "", err, sizeof err), 0);
    assert_int_equal(o.n_sources, 0);
    assert_int_equal(cairn_score_indicator(ind, NULL, &o, NULL), 19);
    /* bad entries are named; what o held stays */
    assert_int_equal(cairn_score_opts_parse(&o, "identity--a 101", NULL, err,
                                            sizeof err),
                     CAIRN_EINVAL);
    assert_non_null(strstr(err, "source_confidence: 'identity--a 101'"));
    assert_int_equal(cairn_score_opts_parse(&o, "x 5", NULL, err, sizeof err),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_score_opts_parse(&o, NULL, "domain 90 1, bogus 1 1",
                                            err, sizeof err),
                     CAIRN_EINVAL);
    assert_non_null(strstr(err, "decay: 'bogus 1 1'"));
    assert_int_equal(cairn_score_opts_parse(&o, NULL, "domain 0 1", err,
                                            sizeof err),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_score_opts_parse(&o, NULL, "domain 9 1 2", err,
                                            sizeof err),
                     CAIRN_EINVAL);
    cairn_score_opts_clear(&o);
    cairn_score_opts_clear(NULL);
    json_decref(ind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
