/* SPDX-License-Identifier: Apache-2.0 */
/* The one way into the store: validation, batches, counts and outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/store.h"

struct fx {
    struct cairn_store *s;
    char coll[CAIRN_UUID_STRLEN];
    /* what on_result saw */
    size_t invalid, stored, existed, failed;
    char last_invalid[200];
    size_t findings;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    assert_int_equal(cairn_store_open("memory:", NULL, &f.s), 0);
    struct cairn_store_api_root root = {"api1", "API one", NULL, 0};
    assert_int_equal(cairn_store_api_root_put(f.s, &root), 0);
    struct cairn_store_collection c = {.api_root = "api1", .title = "main"};
    assert_int_equal(cairn_store_collection_create(f.s, &c, f.coll), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cairn_store_close(f->s);
    return 0;
}

static void on_result(const struct cairn_store_result *r, bool invalid,
                      void *ud)
{
    struct fx *f = ud;
    if (invalid) {
        f->invalid++;
        snprintf(f->last_invalid, sizeof f->last_invalid, "%s", r->message);
    } else if (r->outcome == CAIRN_STORE_STORED) {
        f->stored++;
    } else if (r->outcome == CAIRN_STORE_EXISTED) {
        f->existed++;
    } else {
        f->failed++;
    }
}

static void on_finding(const struct cairn_diag *d, void *ud)
{
    struct fx *f = ud;
    if (d->severity == CAIRN_SEV_ERROR)
        f->findings++;
}

static json_t *indicator(int n, const char *pattern, const char *name)
{
    char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                     "indicator", "spec_version", "2.1", "id", id, "created",
                     "2024-01-01T00:00:00.000Z", "modified",
                     "2024-01-01T00:00:00.000Z", "name", name, "pattern",
                     pattern, "pattern_type", "stix", "valid_from",
                     "2024-01-01T00:00:00Z");
}

/* Valid, unparsable pattern, not an object, again, in conflict. */
static void feed_five(struct fx *f, struct cairn_ingest *in)
{
    json_t *good = indicator(1, "[ipv4-addr:value = '10.0.0.1']", "a");
    json_t *bad = indicator(2, "[ipv4-addr:value = '10.0.0.2'", "b");
    json_t *other = indicator(1, "[ipv4-addr:value = '10.0.0.1']", "changed");
    json_t *num = json_integer(7);
    (void)f;
    assert_int_equal(cairn_ingest_add(in, good, NULL, 0, "objects[0]", 0), 0);
    assert_int_equal(cairn_ingest_add(in, bad, NULL, 0, "objects[1]", 0), 0);
    assert_int_equal(cairn_ingest_add(in, num, NULL, 0, "objects[2]", 0), 0);
    assert_int_equal(cairn_ingest_add(in, good, NULL, 0, "objects[3]", 0), 0);
    assert_int_equal(cairn_ingest_flush(in), 0);
    assert_int_equal(cairn_ingest_add(in, other, NULL, 0, "objects[4]", 0), 0);
    assert_int_equal(cairn_ingest_flush(in), 0);
    json_decref(good);
    json_decref(bad);
    json_decref(other);
    json_decref(num);
}

static void check_counts(struct fx *f, struct cairn_ingest *in)
{
    struct cairn_ingest_counts c;
    cairn_ingest_counts(in, &c);
    assert_int_equal(c.received, 5);
    /* The first copy stored; the second in the same batch is the same
     * version with the same content. */
    assert_int_equal(c.stored, 1);
    assert_int_equal(c.existed, 1);
    assert_int_equal(c.invalid, 2);
    assert_int_equal(c.failed, 1);
    assert_int_equal(f->stored, 1);
    assert_int_equal(f->existed, 1);
    assert_int_equal(f->invalid, 2);
    assert_int_equal(f->failed, 1);
}

/* The pattern is parsed: an indicator whose pattern does not is refused,
 * with the path inside the object in its message. */
static void test_validates_and_counts(void **state)
{
    struct fx *f = *state;
    struct cairn_ingest *in = NULL;
    struct cairn_ingest_opts o = {
        .collection = f->coll,
        .batch = 2,
        .validate = {.cb = on_finding, .ud = f},
        .on_result = on_result,
        .result_ud = f,
    };
    assert_int_equal(cairn_ingest_new(f->s, &o, &in), 0);
    feed_five(f, in);
    check_counts(f, in);
    assert_int_equal(f->findings, 2);
    cairn_ingest_free(in);
}

static void test_background_and_status(void **state)
{
    struct fx *f = *state;
    struct cairn_ingest *in = NULL;
    char st_id[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 5, st_id), 0);
    struct cairn_ingest_opts o = {
        .collection = f->coll,
        .status_id = st_id,
        .batch = 3,
        .background = true,
        .on_result = on_result,
        .result_ud = f,
    };
    assert_int_equal(cairn_ingest_new(f->s, &o, &in), 0);
    feed_five(f, in);
    check_counts(f, in);
    cairn_ingest_free(in);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, st_id, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->success, 2);
    assert_int_equal(st->failure, 3);
    bool named = false;
    for (size_t i = 0; i < st->n_failures; i++)
        if (strncmp(st->failures[i].message, "pattern: ", 9) == 0 &&
            strcmp(st->failures[i].id,
                   "indicator--00000000-0000-4000-8000-000000000002") == 0)
            named = true;
    assert_true(named);
    cairn_store_status_free(st);
}

/* A session on a collection that is not there fails its commit. */
static void test_store_error_sticks(void **state)
{
    struct fx *f = *state;
    struct cairn_ingest *in = NULL;
    struct cairn_ingest_opts o = {
        .collection = "00000000-0000-4000-8000-00000000dead",
        .batch = 1,
    };
    json_t *good = indicator(9, "[file:name = 'x']", "x");
    assert_int_equal(cairn_ingest_new(f->s, &o, &in), 0);
    assert_int_equal(cairn_ingest_add(in, good, NULL, 0, NULL, 0),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_ingest_add(in, good, NULL, 0, NULL, 0),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_ingest_flush(in), CAIRN_ENOTFOUND);
    json_decref(good);
    cairn_ingest_free(in);
    struct cairn_ingest_opts bad = {.collection = NULL};
    assert_int_equal(cairn_ingest_new(f->s, &bad, &in), CAIRN_EINVAL);
    assert_null(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_validates_and_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_background_and_status, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_error_sticks, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
