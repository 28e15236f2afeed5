/* SPDX-License-Identifier: Apache-2.0 */
/* The response loop hears of indicators this process stores: the store's
 * in-process notice, and a retro-hunt that does not wait for the poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/archive.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

/* Generous bound of every wait for the loop (it takes milliseconds). */
#define WAIT_MS 120000

static char *tmpdir(void)
{
    char t[] = "/tmp/cairn-test-loop-XXXXXX";
    char *d = mkdtemp(t);
    assert_non_null(d);
    return strdup(d);
}

static void rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_root(struct cairn_store *s)
{
    struct cairn_store_api_root root = {"api1", "API one", NULL, 0};
    assert_int_equal(cairn_store_api_root_put(s, &root), 0);
}

static void make_coll(struct cairn_store *s, const char *title,
                      char id[CAIRN_UUID_STRLEN])
{
    char api_root[] = "api1", name[64];
    snprintf(name, sizeof name, "%s", title);
    struct cairn_store_collection c = {.api_root = api_root, .title = name};
    id[0] = '\0';
    assert_int_equal(cairn_store_collection_create(s, &c, id), 0);
}

/* Store the indicator `uuid` for the domain `name`; its outcome. */
static enum cairn_store_outcome put_indicator(struct cairn_store *s,
                                              const char *coll,
                                              const char *uuid,
                                              const char *name)
{
    char text[600];
    json_t *obj = NULL;
    int n = snprintf(text, sizeof text,
                     "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                     "\"id\":\"indicator--%s\","
                     "\"created\":\"2021-01-01T00:00:00.000Z\","
                     "\"modified\":\"2021-01-01T00:00:00.000Z\","
                     "\"valid_from\":\"2020-01-01T00:00:00Z\","
                     "\"pattern_type\":\"stix\","
                     "\"pattern\":\"[domain-name:value = '%s']\"}",
                     uuid, name);
    assert_true(n > 0 && (size_t)n < sizeof text);
    assert_int_equal(cairn_json_parse(text, (size_t)n, &obj, NULL), 0);
    struct cairn_store_object_in in = {obj, text, (size_t)n};
    struct cairn_store_result r;
    assert_int_equal(cairn_store_put_objects(s, coll, &in, 1, NULL, &r), 0);
    json_decref(obj);
    return r.outcome;
}

/* ---- the store's notice ------------------------------------------------- */

struct heard {
    char coll[CAIRN_UUID_STRLEN];
    size_t calls, n;
};

static void on_added(const char *collection, size_t n, void *ud)
{
    struct heard *h = ud;
    snprintf(h->coll, sizeof h->coll, "%s", collection);
    h->calls++;
    h->n += n;
}

static void test_store_listen(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512], coll[CAIRN_UUID_STRLEN];
    struct cairn_store *a = NULL, *b = NULL;
    struct heard h = {0};

    snprintf(path, sizeof path, "%s/cairn.db", dir);
    assert_int_equal(cairn_store_open(path, NULL, &a), 0);
    make_root(a);
    make_coll(a, "indicators", coll);
    /* Another handle of the process writes: the listener hears it. */
    assert_int_equal(cairn_store_open(path, NULL, &b), 0);
    assert_int_equal(cairn_store_listen(on_added, &h), 0);
    assert_int_equal(put_indicator(b, coll,
                                   "0d4f3c1e-1111-4aaa-8bbb-000000000001",
                                   "a.bad.example"),
                     CAIRN_STORE_STORED);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.coll, coll);
    /* The same version again stores nothing: not heard. */
    assert_int_equal(put_indicator(a, coll,
                                   "0d4f3c1e-1111-4aaa-8bbb-000000000001",
                                   "a.bad.example"),
                     CAIRN_STORE_EXISTED);
    assert_int_equal(h.calls, 1);
    /* Gone: not called again. */
    cairn_store_unlisten(on_added, &h);
    assert_int_equal(put_indicator(a, coll,
                                   "0d4f3c1e-1111-4aaa-8bbb-000000000002",
                                   "b.bad.example"),
                     CAIRN_STORE_STORED);
    assert_int_equal(h.calls, 1);
    /* Bounded, and each place is given back. */
    struct heard many[17];
    int rc = 0;
    size_t k = 0;
    for (; k < 17 && rc == 0; k++)
        rc = cairn_store_listen(on_added, &many[k]);
    assert_int_equal(rc, CAIRN_EBUSY);
    for (size_t i = 0; i + 1 < k; i++)
        cairn_store_unlisten(on_added, &many[i]);
    assert_int_equal(cairn_store_listen(NULL, NULL), CAIRN_EINVAL);
    assert_int_equal(cairn_store_listen(on_added, &h), 0);
    cairn_store_unlisten(on_added, &h);
    cairn_store_close(a);
    cairn_store_close(b);
    rmtree(dir);
    free(dir);
}

/* ---- the loop ------------------------------------------------------------ */

/* Whether a sighting of indicator `uuid` is stored in `coll`. */
static bool sighted(struct cairn_store *s, const char *coll, const char *uuid)
{
    static const char *const types[] = {"sighting"};
    struct cairn_store_page *page = NULL;
    struct cairn_store_query q = {
        .collection = coll,
        .types = types,
        .n_types = 1,
        .limit = CAIRN_STORE_LIMIT_MAX,
        .with_json = true,
    };
    bool found = false;
    assert_int_equal(cairn_store_query(s, &q, &page), 0);
    for (size_t i = 0; i < page->n && !found; i++)
        found = strstr(page->rows[i].json, uuid) != NULL;
    cairn_store_page_free(page);
    return found;
}

static bool wait_sighted(struct cairn_store *s, const char *coll,
                         const char *uuid)
{
    for (long waited = 0; waited < WAIT_MS; waited += 10) {
        if (sighted(s, coll, uuid))
            return true;
        sleep_ms(10);
    }
    return sighted(s, coll, uuid);
}

/*
 * With a poll interval of an hour, an indicator stored by this process
 * after the loop's first poll is still hunted at once: the store's
 * notice wakes the loop. (The old loop waited for its next poll.)
 */
static void test_loop_hears_new_indicator(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512], adir[512], ind[CAIRN_UUID_STRLEN],
        sight[CAIRN_UUID_STRLEN];
    struct cairn_store *s = NULL;
    struct cairn_archive *a = NULL;
    static const char log[] =
        "#separator \\x09\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
        "query\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\n"
        "1607900000.0\tC1\t10.0.0.1\t53000\t10.0.0.53\t53\tfirst.bad.example\n"
        "1607900001.0\tC2\t10.0.0.1\t53000\t10.0.0.53\t53\tbenign.example\n"
        "1607900002.0\tC3\t10.0.0.1\t53000\t10.0.0.53\t53\tlater.bad.example\n";
    const char *first = "0d4f3c1e-2222-4aaa-8bbb-000000000001";
    const char *later = "0d4f3c1e-2222-4aaa-8bbb-000000000002";

    snprintf(path, sizeof path, "%s/cairn.db", dir);
    snprintf(adir, sizeof adir, "%s/archive", dir);
    assert_int_equal(cairn_archive_open(adir, NULL, &a, NULL), 0);
    assert_int_equal(
        cairn_archive_add_mem(a, log, sizeof log - 1, "dns.log", NULL, NULL,
                              NULL),
        0);
    cairn_archive_free(a);

    assert_int_equal(cairn_store_open(path, NULL, &s), 0);
    make_root(s);
    make_coll(s, "indicators", ind);
    make_coll(s, "sightings", sight);
    assert_int_equal(put_indicator(s, ind, first, "first.bad.example"),
                     CAIRN_STORE_STORED);

    const char *const colls[] = {ind};
    struct cairn_loop_opts lo = {
        .store_url = path,
        .data_dir = dir,
        .indicators = colls,
        .n_indicators = 1,
        .sightings = sight,
        .org = "test",
        .poll_ms = 3600 * 1000, /* an hour: only a wake-up can help */
    };
    struct cairn_loop *l = NULL;
    struct cairn_diag diag;
    cairn_diag_clear(&diag);
    assert_int_equal(cairn_loop_start(&lo, &l, &diag), 0);
    /* The first poll found the first indicator; the loop now waits. */
    assert_true(wait_sighted(s, sight, first));
    assert_false(sighted(s, sight, later));
    assert_int_equal(put_indicator(s, ind, later, "later.bad.example"),
                     CAIRN_STORE_STORED);
    assert_true(wait_sighted(s, sight, later));
    cairn_loop_stop(l);
    /* Stopped: the loop has left the store's listeners. */
    assert_int_equal(put_indicator(s, ind,
                                   "0d4f3c1e-2222-4aaa-8bbb-000000000003",
                                   "benign.example"),
                     CAIRN_STORE_STORED);
    cairn_store_close(s);
    rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_listen),
        cmocka_unit_test(test_loop_hears_new_indicator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
