/* SPDX-License-Identifier: Apache-2.0 */
/* Hunt jobs: sources in memory, logs in memory and on disk, hits, sightings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/hunt.h"
#include "cairn/stix.h"

/* What the callbacks saw: hits as "FILE:LINE VALUE NAME" lines, in order. */
struct seen {
    struct cairn_buf out;  /* what reached the output callback */
    struct cairn_buf msgs; /* messages, one a line */
    unsigned skipped;
};

static int on_hit(const struct cairn_hunt_report *r, struct cairn_buf *out,
                  void *ud)
{
    (void)ud;
    return cairn_buf_printf(out, "%s:%llu %.*s %s %s\n", r->file,
                            (unsigned long long)r->line, (int)r->value_len,
                            r->value, r->name ? r->name : "-",
                            r->field ? r->field : "-");
}

static int on_output(const char *data, size_t len, void *ud)
{
    struct seen *s = ud;
    return cairn_buf_append(&s->out, data, len);
}

static void on_msg(enum cairn_severity sev, const char *text, void *ud)
{
    struct seen *s = ud;
    (void)sev;
    assert_int_equal(cairn_buf_printf(&s->msgs, "%s\n", text), 0);
}

static void on_skip(const struct cairn_hunt_skip *sk, void *ud)
{
    struct seen *s = ud;
    (void)sk;
    s->skipped++;
}

static struct cairn_hunt_set *build(const char *source, struct seen *s)
{
    struct cairn_hunt_builder_opts bo = {.skip_cb = on_skip, .ud = s};
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    assert_int_equal(cairn_hunt_builder_new(&bo, &b), 0);
    assert_int_equal(cairn_hunt_builder_add_source(b, source, strlen(source),
                                                   "iocs", on_msg, s),
                     0);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    return set;
}

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof *s);
    cairn_buf_init(&s->out, 1 << 20);
    cairn_buf_init(&s->msgs, 1 << 20);
}

static void seen_release(struct seen *s)
{
    cairn_buf_release(&s->out);
    cairn_buf_release(&s->msgs);
}

/* Output of one run over `logs`, with `threads`, NUL-terminated. */
static void run_job(const struct cairn_hunt_set *set, unsigned threads,
                    const struct cairn_hunt_input *logs, size_t n_logs,
                    const char *const *dirs, size_t n_dirs,
                    struct cairn_hunt_sightings *sightings, struct seen *s,
                    struct cairn_hunt_job_stats *st)
{
    struct cairn_hunt_job_opts jo = {
        .set = set,
        .files = n_dirs > 0,
        .threads = threads,
        .sightings = sightings,
        .on_hit = on_hit,
        .on_output = on_output,
        .on_msg = on_msg,
        .on_skip = on_skip,
        .ud = s,
    };
    struct cairn_hunt_job *job;
    cairn_telemetry_opts_init(&jo.telemetry);
    assert_int_equal(cairn_hunt_job_new(&jo, &job), 0);
    assert_int_equal(cairn_hunt_job_run(job, logs, n_logs, dirs, n_dirs, st),
                     0);
    /* A job runs once. */
    assert_int_equal(cairn_hunt_job_run(job, logs, n_logs, dirs, n_dirs, NULL),
                     CAIRN_EINVAL);
    cairn_hunt_job_free(job);
    assert_int_equal(cairn_buf_putc(&s->out, '\0'), 0);
}

static const char LOG_A[] = "query evil.example from 10.1.2.3\n"
                            "nothing here\n"
                            "again evil.example and evil.example\n";
static const char LOG_B[] = "x.evil.example\n";

/* A plain list and two logs in memory: hits in input order, one per
 * indicator and value within an event, and the sightings they make. */
static void test_list_over_memory_logs(void **state)
{
    (void)state;
    struct seen s;
    struct cairn_hunt_job_stats st;
    struct cairn_hunt_sightings *sg;
    json_t *bundle;
    seen_init(&s);
    struct cairn_hunt_set *set =
        build("# iocs\nevil[.]example\n10.0.0.0/8\n", &s);
    struct cairn_hunt_input logs[] = {
        {.path = "a.log", .data = LOG_A, .len = strlen(LOG_A)},
        {.path = "b.log", .data = LOG_B, .len = strlen(LOG_B)},
    };
    assert_int_equal(cairn_hunt_sightings_new("Example Corp", NULL, &sg), 0);
    run_job(set, 2, logs, 2, NULL, 0, sg, &s, &st);
    assert_string_equal(s.out.data, "a.log:1 evil.example evil.example -\n"
                                    "a.log:1 10.1.2.3 10.0.0.0/8 -\n"
                                    "a.log:3 evil.example evil.example -\n"
                                    "b.log:1 x.evil.example evil.example -\n");
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.logs, 2);
    assert_int_equal(st.parts, 2);
    assert_int_equal(st.files, 0);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.lines, 4);
    assert_int_equal(st.bytes, strlen(LOG_A) + strlen(LOG_B));

    /* Two indicators sighted: evil.example three times, the CIDR once. */
    assert_int_equal(cairn_hunt_sightings_count(sg), 2);
    assert_int_equal(cairn_hunt_sightings_to_bundle(sg, &bundle), 0);
    size_t i, counts = 0, sightings = 0;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        const char *type = json_string_value(json_object_get(o, "type"));
        if (strcmp(type, "sighting") != 0)
            continue;
        sightings++;
        counts += (size_t)json_integer_value(json_object_get(o, "count"));
    }
    assert_int_equal(sightings, 2);
    assert_int_equal(counts, 4);
    json_decref(bundle);
    cairn_hunt_sightings_free(sg);
    cairn_hunt_set_free(set);
    seen_release(&s);
}

/* A pattern of two observations is confirmed by the evaluator: its hits
 * come after every input, and only when both observations were seen. */
static void test_confirmed_pattern(void **state)
{
    (void)state;
    static const char bundle[] =
        "{\"type\":\"bundle\",\"id\":\"bundle--0f0e9a3c-1c37-4d86-8a0d-"
        "5f3e3b0c6a00\",\"objects\":[{\"type\":\"indicator\",\"spec_version\":"
        "\"2.1\",\"id\":\"indicator--0f0e9a3c-1c37-4d86-8a0d-5f3e3b0c6a01\","
        "\"created\":\"2020-12-13T00:00:00Z\",\"modified\":\"2020-12-13T00:"
        "00:00Z\",\"name\":\"pair\",\"pattern_type\":\"stix\",\"valid_from\":"
        "\"2020-12-13T00:00:00Z\",\"pattern\":\"[domain-name:value = "
        "'c2.example'] AND [ipv4-addr:value = '198.51.100.7']\"}]}";
    static const char both[] = "dns c2.example\nconn 198.51.100.7\n";
    static const char one[] = "dns c2.example\n";
    struct seen s;
    struct cairn_hunt_job_stats st;
    seen_init(&s);
    struct cairn_hunt_set *set = build(bundle, &s);
    struct cairn_hunt_input logs[] = {
        {.path = "both.log", .data = both, .len = strlen(both)},
    };
    run_job(set, 1, logs, 1, NULL, 0, NULL, &s, &st);
    assert_string_equal(s.out.data, "both.log:1 c2.example pair -\n"
                                    "both.log:2 198.51.100.7 pair -\n");
    assert_int_equal(st.hits, 2);
    seen_release(&s);

    seen_init(&s);
    logs[0] = (struct cairn_hunt_input){
        .path = "one.log", .data = one, .len = strlen(one)};
    run_job(set, 1, logs, 1, NULL, 0, NULL, &s, &st);
    assert_string_equal(s.out.data, "");
    assert_int_equal(st.hits, 0);
    cairn_hunt_set_free(set);
    seen_release(&s);
}

/* Sources that cannot be read are refused with a message naming them. */
static void test_bad_sources(void **state)
{
    (void)state;
    struct seen s;
    struct cairn_hunt_builder *b;
    seen_init(&s);
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    static const char broken[] = "[{\"type\": \"indicator\",]";
    assert_true(cairn_hunt_builder_add_source(b, broken, strlen(broken),
                                              "broken.json", on_msg, &s) < 0);
    assert_int_equal(cairn_buf_putc(&s.msgs, '\0'), 0);
    assert_non_null(strstr(s.msgs.data, "broken.json:1:"));
    cairn_hunt_builder_free(b);
    seen_release(&s);
}

/* A path that cannot be read is an error; the other inputs are read. */
static void test_missing_log(void **state)
{
    (void)state;
    struct seen s;
    struct cairn_hunt_job_stats st;
    seen_init(&s);
    struct cairn_hunt_set *set = build("evil.example\n", &s);
    struct cairn_hunt_input logs[] = {
        {.path = "/nonexistent/cairn-test.log"},
        {.path = "b.log", .data = LOG_B, .len = strlen(LOG_B)},
    };
    run_job(set, 2, logs, 2, NULL, 0, NULL, &s, &st);
    assert_string_equal(s.out.data, "b.log:1 x.evil.example evil.example -\n");
    assert_int_equal(st.errors, 1);
    assert_int_equal(cairn_buf_putc(&s.msgs, '\0'), 0);
    assert_non_null(strstr(s.msgs.data, "/nonexistent/cairn-test.log"));
    cairn_hunt_set_free(set);
    seen_release(&s);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* --files over several threads: the same hits, in the order of the walk. */
static void test_files_threads(void **state)
{
    (void)state;
    char root[] = "/tmp/cairn-test-hunt-job.XXXXXX";
    char path[512];
    assert_non_null(mkdtemp(root));
    for (int i = 0; i < 40; i++) {
        snprintf(path, sizeof path, "%s/f%02d", root, i);
        write_file(path, i % 7 == 3 ? "evil\n" : "good\n");
    }
    /* The MD5 of "evil\n": files 3, 10, 17, 24, 31 and 38. */
    struct seen s1, s4;
    struct cairn_hunt_job_stats st1, st4;
    seen_init(&s1);
    seen_init(&s4);
    struct cairn_hunt_set *set =
        build("78b9861f74e15d7d0f077ba22421b8e4\n", &s1);
    const char *dirs[] = {root};
    run_job(set, 1, NULL, 0, dirs, 1, NULL, &s1, &st1);
    run_job(set, 4, NULL, 0, dirs, 1, NULL, &s4, &st4);
    assert_int_equal(st1.files, 40);
    assert_int_equal(st4.files, 40);
    assert_int_equal(st1.errors, 0);
    assert_int_equal(st4.errors, 0);
    assert_int_equal(st1.hits, 6);
    assert_int_equal(st1.hits, st4.hits);
    assert_string_equal(s1.out.data, s4.out.data);
    for (int i = 0; i < 40; i++) {
        snprintf(path, sizeof path, "%s/f%02d", root, i);
        unlink(path);
    }
    rmdir(root);
    cairn_hunt_set_free(set);
    seen_release(&s1);
    seen_release(&s4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_over_memory_logs),
        cmocka_unit_test(test_confirmed_pattern),
        cmocka_unit_test(test_bad_sources),
        cmocka_unit_test(test_missing_log),
        cmocka_unit_test(test_files_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
