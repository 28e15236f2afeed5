/* SPDX-License-Identifier: Apache-2.0 */
/* Hits aggregated into STIX sightings that pass the validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/hunt.h"
#include "cairn/stix.h"

static struct cairn_time at(const char *s)
{
    struct cairn_time t;
    assert_int_equal(cairn_time_parse(s, strlen(s), true, &t), 0);
    return t;
}

static void add(struct cairn_hunt_sightings *s, const char *id, const char *ts)
{
    struct cairn_hunt_event ev = {.file = "dns.log", .line = 1};
    if (ts != NULL) {
        ev.has_ts = true;
        ev.ts = at(ts);
    }
    struct cairn_hunt_hit hit = {.indicator_id = id,
                                 .type = CAIRN_IOC_DOMAIN,
                                 .value = "avsvmcloud.com",
                                 .value_len = 14,
                                 .event = &ev};
    assert_int_equal(cairn_hunt_sightings_add(s, &hit), 0);
}

static void on_diag(const struct cairn_diag *d, void *ud)
{
    (void)ud;
    char line[1024];
    cairn_diag_format(d, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

#define IND_A "indicator--0f0e9a3c-1c37-4d86-8a0d-5f3e3b0c6a01"
#define IND_B "indicator--0f0e9a3c-1c37-4d86-8a0d-5f3e3b0c6a02"

static const json_t *sighting_of(const json_t *bundle, const char *ind)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        const char *ref =
            json_string_value(json_object_get(o, "sighting_of_ref"));
        if (ref != NULL && strcmp(ref, ind) == 0)
            return o;
    }
    return NULL;
}

static void test_bundle_is_valid_stix(void **state)
{
    (void)state;
    struct cairn_hunt_sightings *s;
    json_t *bundle;
    assert_int_equal(cairn_hunt_sightings_new("Example Corp", NULL, &s), 0);
    add(s, IND_A, "2020-12-14T10:00:00.5Z");
    add(s, IND_A, "2020-12-13T09:00:00Z");
    add(s, IND_A, NULL); /* counts, moves nothing */
    add(s, IND_A, "2020-12-15T23:59:59.123Z");
    add(s, IND_B, NULL);
    add(s, IND_B, NULL);
    assert_int_equal(cairn_hunt_sightings_count(s), 2);
    assert_int_equal(cairn_hunt_sightings_to_bundle(s, &bundle), 0);

    /* every object passes the validator with no error */
    struct cairn_validate_opts vo = {.cb = on_diag};
    struct cairn_validate_stats st = {0};
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        assert_int_equal(cairn_stix_validate_object(o, "", &vo, &st), 0);
    }
    assert_int_equal(st.errors, 0);
    /* only the derived identity id draws a warning (UUIDv5, not v4) */
    assert_true(st.warnings <= 1);
    assert_int_equal(json_array_size(json_object_get(bundle, "objects")), 3);

    json_t *ident = json_array_get(json_object_get(bundle, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(ident, "type")),
                        "identity");
    assert_string_equal(
        json_string_value(json_object_get(ident, "identity_class")),
        "organization");
    const char *ident_id = json_string_value(json_object_get(ident, "id"));

    const json_t *a = sighting_of(bundle, IND_A);
    assert_non_null(a);
    assert_int_equal(json_integer_value(json_object_get(a, "count")), 4);
    assert_string_equal(json_string_value(json_object_get(a, "first_seen")),
                        "2020-12-13T09:00:00Z");
    assert_string_equal(json_string_value(json_object_get(a, "last_seen")),
                        "2020-12-15T23:59:59.123Z");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(a, "where_sighted_refs"), 0)),
                        ident_id);
    /* created and modified carry milliseconds */
    const char *created = json_string_value(json_object_get(a, "created"));
    assert_int_equal(strlen(created), 24);

    /* without timestamps the hunt's own clock gives the times */
    const json_t *b = sighting_of(bundle, IND_B);
    assert_non_null(b);
    assert_int_equal(json_integer_value(json_object_get(b, "count")), 2);
    struct cairn_time first =
        at(json_string_value(json_object_get(b, "first_seen")));
    struct cairn_time last =
        at(json_string_value(json_object_get(b, "last_seen")));
    struct cairn_time now = cairn_time_now(3);
    assert_true(cairn_time_cmp(&first, &last) <= 0);
    assert_true(now.sec - first.sec < 60 && now.sec >= first.sec);
    json_decref(bundle);
    cairn_hunt_sightings_free(s);
}

static void test_identity_id(void **state)
{
    (void)state;
    struct cairn_hunt_sightings *s1, *s2;
    json_t *b1, *b2;
    /* the same name gives the same identity in every run */
    assert_int_equal(cairn_hunt_sightings_new("ACME", NULL, &s1), 0);
    assert_int_equal(cairn_hunt_sightings_new("ACME", NULL, &s2), 0);
    assert_int_equal(cairn_hunt_sightings_to_bundle(s1, &b1), 0);
    assert_int_equal(cairn_hunt_sightings_to_bundle(s2, &b2), 0);
    json_t *i1 = json_array_get(json_object_get(b1, "objects"), 0);
    json_t *i2 = json_array_get(json_object_get(b2, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(i1, "id")),
                        json_string_value(json_object_get(i2, "id")));
    json_decref(b1);
    json_decref(b2);
    cairn_hunt_sightings_free(s1);
    cairn_hunt_sightings_free(s2);

    /* a given id is used, a malformed one refused */
    assert_int_equal(
        cairn_hunt_sightings_new(
            "ACME", "identity--7f6c4d3a-2b1e-4c5d-8e9f-0a1b2c3d4e5f", &s1),
        0);
    assert_int_equal(cairn_hunt_sightings_to_bundle(s1, &b1), 0);
    i1 = json_array_get(json_object_get(b1, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(i1, "id")),
                        "identity--7f6c4d3a-2b1e-4c5d-8e9f-0a1b2c3d4e5f");
    json_decref(b1);
    cairn_hunt_sightings_free(s1);
    assert_int_equal(cairn_hunt_sightings_new("ACME", "indicator--x", &s1),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_hunt_sightings_new("", NULL, &s1), CAIRN_EINVAL);
}

/* Many indicators: the table grows and every count stays right. */
static void test_many_indicators(void **state)
{
    (void)state;
    struct cairn_hunt_sightings *s;
    char id[80];
    assert_int_equal(cairn_hunt_sightings_new("ACME", NULL, &s), 0);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d",
                     i);
            add(s, id, "2021-01-01T00:00:00Z");
        }
    assert_int_equal(cairn_hunt_sightings_count(s), 1000);
    json_t *b;
    assert_int_equal(cairn_hunt_sightings_to_bundle(s, &b), 0);
    json_t *objs = json_object_get(b, "objects");
    assert_int_equal(json_array_size(objs), 1001);
    for (size_t i = 1; i < json_array_size(objs); i++)
        assert_int_equal(json_integer_value(
                             json_object_get(json_array_get(objs, i), "count")),
                         3);
    json_decref(b);
    cairn_hunt_sightings_free(s);
}

static json_int_t count_of(const json_t *o)
{
    return json_integer_value(json_object_get(o, "count"));
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/*
 * Stable sightings: one object per organisation and indicator, whatever
 * the process; a new version only when the count or times move, never
 * for a hunt run again; a restart (resume from the stored versions)
 * writes nothing unchanged and goes on after the last modified.
 */
static void test_stable_versions(void **state)
{
    (void)state;
    struct cairn_hunt_sightings *s, *again, *retro;
    json_t *b0, *b1, *b2, *b3;
    char id_a[128], id_a2[128];

    assert_int_equal(cairn_hunt_sightings_new("Member 1", NULL, &s), 0);
    cairn_hunt_sightings_set_stable(s);
    assert_int_equal(cairn_hunt_sightings_changed(s, &b0), 0);
    assert_non_null(b0); /* the identity, once */
    assert_int_equal(json_array_size(json_object_get(b0, "objects")), 1);
    assert_int_equal(cairn_hunt_sightings_changed(s, &b1), 0);
    assert_null(b1);

    /* A retro-hunt's findings widen the node's sightings. */
    assert_int_equal(cairn_hunt_sightings_new("Member 1", NULL, &retro), 0);
    add(retro, IND_A, "2020-12-01T10:00:00Z");
    add(retro, IND_A, "2020-12-02T10:00:00Z");
    assert_int_equal(cairn_hunt_sightings_merge(s, retro), 0);
    assert_int_equal(cairn_hunt_sightings_changed(s, &b1), 0);
    assert_non_null(b1);
    const json_t *v1 = sighting_of(b1, IND_A);
    assert_non_null(v1);
    assert_int_equal(count_of(v1), 2);
    assert_int_equal(cairn_hunt_sightings_id(s, IND_A, id_a, sizeof id_a), 0);
    assert_string_equal(str_of(v1, "id"), id_a);

    /* The same hunt again (after a crash): nothing is owed. */
    assert_int_equal(cairn_hunt_sightings_merge(s, retro), 0);
    assert_int_equal(cairn_hunt_sightings_changed(s, &b2), 0);
    assert_null(b2);

    /* A live hit: a new version of the same object, later modified. */
    add(s, IND_A, "2020-12-03T10:00:00Z");
    assert_int_equal(cairn_hunt_sightings_changed(s, &b2), 0);
    const json_t *v2 = sighting_of(b2, IND_A);
    assert_non_null(v2);
    assert_string_equal(str_of(v2, "id"), id_a);
    assert_string_equal(str_of(v2, "created"), str_of(v1, "created"));
    assert_true(strcmp(str_of(v2, "modified"), str_of(v1, "modified")) > 0);
    assert_int_equal(count_of(v2), 3);
    assert_string_equal(str_of(v2, "last_seen"), "2020-12-03T10:00:00Z");
    struct cairn_validate_opts vo = {.cb = on_diag};
    struct cairn_validate_stats st = {0};
    assert_int_equal(cairn_stix_validate_object(v2, "", &vo, &st), 0);
    assert_int_equal(st.errors, 0);

    /* Another process with the same name: the same id; resumed from the
     * stored versions it owes nothing, then follows the last one. */
    assert_int_equal(cairn_hunt_sightings_new("Member 1", NULL, &again), 0);
    cairn_hunt_sightings_set_stable(again);
    assert_int_equal(cairn_hunt_sightings_id(again, IND_A, id_a2, sizeof id_a2),
                     0);
    assert_string_equal(id_a, id_a2);
    assert_int_equal(cairn_hunt_sightings_resume(
                         again, json_array_get(json_object_get(b0, "objects"),
                                               0)),
                     0); /* the identity */
    assert_int_equal(cairn_hunt_sightings_resume(again, v1), 0);
    assert_int_equal(cairn_hunt_sightings_resume(again, v2), 0);
    assert_int_equal(cairn_hunt_sightings_merge(again, retro), 0);
    assert_int_equal(cairn_hunt_sightings_changed(again, &b3), 0);
    assert_null(b3);
    add(again, IND_A, "2020-12-04T10:00:00Z");
    assert_int_equal(cairn_hunt_sightings_changed(again, &b3), 0);
    const json_t *v3 = sighting_of(b3, IND_A);
    assert_int_equal(count_of(v3), 4);
    assert_string_equal(str_of(v3, "created"), str_of(v1, "created"));
    assert_true(strcmp(str_of(v3, "modified"), str_of(v2, "modified")) > 0);
    assert_int_equal(json_array_size(json_object_get(b3, "objects")), 1);

    /* Someone else's sighting is not taken up. */
    struct cairn_hunt_sightings *other;
    assert_int_equal(cairn_hunt_sightings_new("Member 2", NULL, &other), 0);
    cairn_hunt_sightings_set_stable(other);
    assert_int_equal(cairn_hunt_sightings_resume(other, v3), CAIRN_HUNT_SKIPPED);
    char id_o[128];
    assert_int_equal(cairn_hunt_sightings_id(other, IND_A, id_o, sizeof id_o),
                     0);
    assert_string_not_equal(id_o, id_a);

    /* Not stored after all: owed again. */
    cairn_hunt_sightings_unwritten(again, b3);
    json_t *b4;
    assert_int_equal(cairn_hunt_sightings_changed(again, &b4), 0);
    assert_non_null(sighting_of(b4, IND_A));
    json_decref(b4);

    json_decref(b0);
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
    cairn_hunt_sightings_free(other);
    cairn_hunt_sightings_free(again);
    cairn_hunt_sightings_free(retro);
    cairn_hunt_sightings_free(s);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle_is_valid_stix),
        cmocka_unit_test(test_identity_id),
        cmocka_unit_test(test_many_indicators),
        cmocka_unit_test(test_stable_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
