/* SPDX-License-Identifier: Apache-2.0 */
/* The archive's stored catalogue: keys, --under order, hunts beside seals. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive/catalogue.h"
#include "cairn/archive.h"

static const char zeek_head[] =
    "#separator \\x09\n"
    "#fields\tts\tuid\tquery\n"
    "#types\ttime\tstring\tstring\n";

static char *tmpdir(void)
{
    char t[] = "/tmp/cairn-test-catalogue-XXXXXX";
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

/* A domain's key has its labels reversed, and reversing is its own
 * inverse, so that the names under a domain are one range. */
static void keys_reverse_labels(void **state)
{
    static const char *const v[] = {"www.example.com", "com", "a..b.",
                                    ".x", "", "a.b.c.d.e"};
    static const char *const k[] = {"com.example.www", "com", ".b..a",
                                    "x.", "", "e.d.c.b.a"};
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char out[64], back[64];
        size_t len = strlen(v[i]);
        cairn__cat_key(CAIRN_IOC_DOMAIN, v[i], len, out);
        assert_memory_equal(out, k[i], len);
        cairn__cat_key(CAIRN_IOC_DOMAIN, out, len, back);
        assert_memory_equal(back, v[i], len);
        cairn__cat_key(CAIRN_IOC_URL, v[i], len, out);
        assert_memory_equal(out, v[i], len); /* only domains */
    }
}

static int add(struct cairn_archive *a, unsigned from, unsigned n,
               const char *sensor)
{
    char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", zeek_head);
    for (unsigned i = from; i < from + n; i++) {
        char name[64];
        if (i % 3 == 0)
            snprintf(name, sizeof name, "c2-%u.evil.example", i);
        else if (i % 3 == 1)
            snprintf(name, sizeof name, "host%u.benign.example", i);
        else
            snprintf(name, sizeof name, "evil.example.net");
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "16079%05u.0\tC%u\t%s\n", i, i, name);
    }
    struct cairn_archive_add_opts ao = {.sensor = sensor};
    cairn_telemetry_opts_init(&ao.telemetry);
    return cairn_archive_add_mem(a, buf, len, "dns.log", &ao, NULL, NULL);
}

struct under {
    char names[1024];
    size_t len;
    uint64_t count;
};

static int on_under(const struct cairn_archive_value *v, void *ud)
{
    struct under *u = ud;
    u->len += (size_t)snprintf(u->names + u->len, sizeof u->names - u->len,
                               "%.*s ", (int)v->len, v->value);
    u->count += v->count;
    return 0;
}

static void under_is_one_range(void **state)
{
    char *dir = tmpdir();
    struct cairn_archive *a;
    struct under u = {0};
    (void)state;

    assert_int_equal(cairn_archive_open(dir, NULL, &a, NULL), 0);
    assert_int_equal(add(a, 0, 9, "s"), 0);  /* c2-0, 3, 6 */
    assert_int_equal(add(a, 9, 6, "s"), 0);  /* c2-9, 12 */
    assert_int_equal(
        cairn_archive_lookup_under(a, "evil.example", 12, on_under, &u), 5);
    /* by labels from the right: c2-0 < c2-12 < c2-3 < c2-6 < c2-9 */
    assert_string_equal(u.names, "c2-0.evil.example c2-12.evil.example "
                                 "c2-3.evil.example c2-6.evil.example "
                                 "c2-9.evil.example ");
    assert_int_equal(u.count, 5);
    /* evil.example.net is not under evil.example, nor example.net under
     * xample.net */
    memset(&u, 0, sizeof u);
    assert_int_equal(
        cairn_archive_lookup_under(a, "xample.net", 10, on_under, &u), 0);
    assert_int_equal(
        cairn_archive_lookup_under(a, "example.net", 11, on_under, &u), 1);
    assert_string_equal(u.names, "evil.example.net ");
    assert_int_equal(u.count, 5);
    cairn_archive_free(a);
    rmtree(dir);
    free(dir);
}

/* Hunts with LIKE run beside adds that replace the catalogue. */
struct beside {
    struct cairn_archive *a;
    const struct cairn_hunt_set *set;
    int err;
    unsigned rounds;
};

static int count_hit(const struct cairn_archive_hit *h, void *ud)
{
    (void)h;
    (*(unsigned *)ud)++;
    return 0;
}

static void *hunter(void *arg)
{
    struct beside *b = arg;
    for (unsigned i = 0; i < 40 && b->err == 0; i++) {
        struct cairn_archive_hunt_opts o = {.set = b->set, .threads = 2};
        unsigned n = 0;
        b->err = cairn_archive_hunt(b->a, &o, count_hit, &n, NULL);
        b->rounds++;
    }
    return NULL;
}

static void hunts_beside_seals(void **state)
{
    static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--6c1f3c3e-0d9c-4c2e-9d55-"
        "3f6f1b1e2a01\",\"objects\":[{\"type\":\"indicator\",\"spec_version\":"
        "\"2.1\",\"id\":\"indicator--6c1f3c3e-0d9c-4c2e-9d55-3f6f1b1e2a01\","
        "\"created\":\"2020-12-14T00:00:00Z\",\"modified\":\"2020-12-14T00:00:"
        "00Z\",\"pattern\":\"[domain-name:value LIKE 'c2-1%']\",\"pattern_"
        "type\":\"stix\",\"valid_from\":\"2020-12-14T00:00:00Z\"}]}";
    char *dir = tmpdir();
    struct cairn_archive *a;
    struct cairn_hunt_builder *hb;
    struct cairn_hunt_set *set;
    struct beside b = {0};
    pthread_t t;
    (void)state;

    assert_int_equal(cairn_hunt_builder_new(NULL, &hb), 0);
    assert_int_equal(cairn_hunt_builder_add_source(hb, bundle,
                                                   strlen(bundle), "iocs",
                                                   NULL, NULL),
                     0);
    assert_int_equal(cairn_hunt_builder_build(hb, &set), 0);
    cairn_hunt_builder_free(hb);
    assert_int_equal(cairn_archive_open(dir, NULL, &a, NULL), 0);
    b.a = a;
    b.set = set;
    assert_int_equal(pthread_create(&t, NULL, hunter, &b), 0);
    for (unsigned i = 0; i < 30; i++)
        assert_int_equal(add(a, i * 20, 20, "s"), 0);
    pthread_join(t, NULL);
    assert_int_equal(b.err, 0);
    assert_true(b.rounds > 0);

    /* then: the same hits through the catalogue and by the scan */
    struct cairn_archive_hunt_opts o = {.set = set};
    struct cairn_archive_hunt_stats st;
    unsigned by_cat = 0, by_scan = 0;
    assert_int_equal(cairn_archive_hunt(a, &o, count_hit, &by_cat, &st), 0);
    o.no_catalogue = true;
    assert_int_equal(cairn_archive_hunt(a, &o, count_hit, &by_scan, NULL), 0);
    /* c2-N with N starting with 1, N = 3k < 600 */
    unsigned want = 0;
    for (unsigned i = 0; i < 600; i += 3) {
        char n[16];
        snprintf(n, sizeof n, "%u", i);
        want += n[0] == '1';
    }
    assert_int_equal(by_cat, want);
    assert_int_equal(by_scan, want);
    assert_int_equal(cairn_archive_check(a), 0);
    cairn_archive_free(a);
    cairn_hunt_set_free(set);
    rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_reverse_labels),
        cmocka_unit_test(under_is_one_range),
        cmocka_unit_test(hunts_beside_seals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
