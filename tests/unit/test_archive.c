/* SPDX-License-Identifier: Apache-2.0 */
/* The telemetry archive: adds, duplicates, hunts, the catalogue, following
 * growing logs (growth, rotation, truncation, restart), damage. */
#include <fcntl.h>
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

#include "cairn/archive.h"
#include "cairn/hunt.h"

static const char zeek_head[] =
    "#separator \\x09\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\n";

static char *tmpdir(void)
{
    char t[] = "/tmp/cairn-test-archive-XXXXXX";
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

static void write_file(const char *path, const char *mode, const char *text)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* "ts\tuid\t10.0.0.1\t53000\t10.0.0.53\t53\tQUERY\n" */
static void dns_line(char *buf, size_t len, unsigned sec, const char *q)
{
    snprintf(buf, len, "16079%05u.0\tC%u\t10.0.0.1\t53000\t10.0.0.53\t53\t%s\n",
             sec, sec, q);
}

static struct cairn_hunt_set *build(const char *source)
{
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    assert_int_equal(cairn_hunt_builder_new(NULL, &b), 0);
    assert_int_equal(cairn_hunt_builder_add_source(b, source, strlen(source),
                                                   "iocs", NULL, NULL),
                     0);
    assert_int_equal(cairn_hunt_builder_build(b, &set), 0);
    cairn_hunt_builder_free(b);
    return set;
}

struct hits {
    char text[4096];
    size_t len;
    unsigned n;
};

static int on_hit(const struct cairn_archive_hit *h, void *ud)
{
    struct hits *s = ud;
    int k = snprintf(s->text + s->len, sizeof s->text - s->len,
                     "%s:%llu %.*s %s\n", h->report->file,
                     (unsigned long long)h->report->line,
                     (int)h->report->value_len, h->report->value, h->sensor);
    assert_true(k > 0 && (size_t)k < sizeof s->text - s->len);
    s->len += (size_t)k;
    s->n++;
    return 0;
}

static unsigned hunt(struct cairn_archive *a, const char *iocs,
                     struct hits *out)
{
    struct cairn_hunt_set *set = build(iocs);
    struct cairn_archive_hunt_opts ho = {.set = set};
    memset(out, 0, sizeof *out);
    assert_int_equal(cairn_archive_hunt(a, &ho, on_hit, out, NULL), 0);
    cairn_hunt_set_free(set);
    return out->n;
}

static unsigned warnings;
static void on_msg(enum cairn_severity sev, const char *text, void *ud)
{
    (void)sev;
    (void)ud;
    (void)text;
    warnings++;
}

static struct cairn_archive *open_dir(const char *dir)
{
    struct cairn_archive *a = NULL;
    struct cairn_archive_opts o = {.on_msg = on_msg};
    struct cairn_diag d;
    assert_int_equal(cairn_archive_open(dir, &o, &a, &d), 0);
    return a;
}

static void add_twice_adds_nothing(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char log[8192], line[256];
    struct cairn_archive_add_opts ao = {.sensor = "s1"};
    struct cairn_archive_add_stats st = {0};
    struct cairn_archive_stats as;
    struct hits h;

    cairn_telemetry_opts_init(&ao.telemetry);
    snprintf(log, sizeof log, "%s", zeek_head);
    for (unsigned i = 0; i < 20; i++) {
        dns_line(line, sizeof line, i,
                 i == 7 ? "a.b.avsvmcloud.com" : "www.example.org");
        strncat(log, line, sizeof log - strlen(log) - 1);
    }
    struct cairn_archive *a = open_dir(dir);
    assert_int_equal(
        cairn_archive_add_mem(a, log, strlen(log), "dns.log", &ao, &st, NULL),
        0);
    assert_int_equal(st.events, 20);
    assert_int_equal(
        cairn_archive_add_mem(a, log, strlen(log), "again", &ao, &st, NULL),
        0);
    assert_int_equal(st.events, 20);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(cairn_archive_get_stats(a, &as), 0);
    assert_int_equal(as.events, 20);
    assert_int_equal(as.values >= 3, 1);

    /* Domain suffix semantics, as cairn hunt: the near miss is no hit. */
    assert_int_equal(hunt(a, "avsvmcloud.com\n", &h), 1);
    assert_non_null(strstr(h.text, "dns.log:11 a.b.avsvmcloud.com s1"));
    assert_int_equal(hunt(a, "vsvmcloud.com\n", &h), 0);

    /* The catalogue: first and last seen, count. */
    struct cairn_archive_value v;
    assert_int_equal(cairn_archive_lookup(a, CAIRN_IOC_DOMAIN,
                                          "www.example.org", 15, &v),
                     1);
    assert_int_equal(v.count, 19);
    assert_true(v.first_seen.sec < v.last_seen.sec);
    assert_int_equal(
        cairn_archive_lookup(a, CAIRN_IOC_DOMAIN, "nowhere.example", 15, &v),
        0);
    assert_int_equal(cairn_archive_check(a), 0);
    cairn_archive_free(a);

    /* Reopened: the same, and the content is still known. */
    a = open_dir(dir);
    memset(&st, 0, sizeof st);
    assert_int_equal(
        cairn_archive_add_mem(a, log, strlen(log), "dns.log", &ao, &st, NULL),
        0);
    assert_int_equal(st.events, 0);
    assert_int_equal(hunt(a, "avsvmcloud.com\n", &h), 1);
    cairn_archive_free(a);
    rmtree(dir);
    free(dir);
}

static void follow_grows_rotates_truncates(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[600], old[620], line[256];
    struct cairn_archive_add_opts ao = {.sensor = "f1"};
    struct cairn_archive_add_stats st = {0};
    struct cairn_archive_follow *f;
    struct cairn_diag d;
    struct hits h;

    cairn_telemetry_opts_init(&ao.telemetry);
    /* A long path: the journal's record of the position stays short. */
    char sub[400];
    snprintf(sub, sizeof sub, "%s/%0200d", dir, 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof path, "%s/dns.log", sub);
    snprintf(old, sizeof old, "%s/dns.log.1", sub);
    struct cairn_archive *a = open_dir(dir);
    assert_int_equal(cairn_archive_follow_new(a, path, &ao, &f), 0);
    /* Not there yet: waited for. */
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 0);

    write_file(path, "w", zeek_head);
    dns_line(line, sizeof line, 1, "one.example");
    write_file(path, "a", line);
    /* Half a line: not archived until it ends. */
    write_file(path, "a", "1607900002.0\tC2\t10.0.0.1\t5");
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 1);
    write_file(path, "a", "3000\t10.0.0.53\t53\ttwo.example\n");
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 2);
    /* The second piece is read with the file's #fields header, and its
     * line numbers are the file's. */
    assert_int_equal(hunt(a, "two.example\n", &h), 1);
    assert_non_null(strstr(h.text, "dns.log:5 two.example f1"));

    /* Rotation: the old file's tail is finished, the new one read. */
    dns_line(line, sizeof line, 3, "three.example");
    write_file(path, "a", line);
    assert_int_equal(rename(path, old), 0);
    write_file(path, "w", zeek_head);
    dns_line(line, sizeof line, 4, "four.example");
    write_file(path, "a", line);
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 4);
    assert_int_equal(hunt(a, "three.example\nfour.example\n", &h), 2);

    /* Truncation: read again from the start. */
    write_file(path, "w", zeek_head);
    dns_line(line, sizeof line, 5, "five.example");
    write_file(path, "a", line);
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 5);
    cairn_archive_follow_free(f);
    cairn_archive_free(a);

    /* A restart goes on where the last commit was: nothing twice. */
    a = open_dir(dir);
    memset(&st, 0, sizeof st);
    assert_int_equal(cairn_archive_follow_new(a, path, &ao, &f), 0);
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 0);
    dns_line(line, sizeof line, 6, "six.example");
    write_file(path, "a", line);
    assert_int_equal(cairn_archive_follow_poll(f, &st, &d), 0);
    assert_int_equal(st.events, 1);
    assert_int_equal(hunt(a, "one.example\ntwo.example\nthree.example\n"
                                "four.example\nfive.example\nsix.example\n",
                             &h),
                     6);
    assert_non_null(strstr(h.text, "dns.log:5 six.example f1"));
    assert_int_equal(cairn_archive_check(a), 0);
    cairn_archive_follow_free(f);
    cairn_archive_free(a);
    rmtree(dir);
    free(dir);
}

static void damage_is_found_and_skipped(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char log[4096], line[256], seg[600];
    struct cairn_archive_add_opts ao = {.sensor = "s"};
    struct hits h;

    cairn_telemetry_opts_init(&ao.telemetry);
    struct cairn_archive *a = open_dir(dir);
    for (unsigned k = 0; k < 2; k++) {
        snprintf(log, sizeof log, "%s", zeek_head);
        dns_line(line, sizeof line, k, k ? "b.evil.example" : "a.evil.example");
        strncat(log, line, sizeof log - strlen(log) - 1);
        assert_int_equal(cairn_archive_add_mem(a, log, strlen(log), "x", &ao,
                                               NULL, NULL),
                         0);
    }
    assert_int_equal(hunt(a, "evil.example\n", &h), 2);
    cairn_archive_free(a);

    /* Flip a byte in the middle of the first segment. */
    snprintf(seg, sizeof seg, "%s/000000000001.seg", dir);
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, sb.st_size / 2), 1);
    c ^= 0x55;
    assert_int_equal(pwrite(fd, &c, 1, sb.st_size / 2), 1);
    close(fd);

    a = open_dir(dir);
    warnings = 0;
    assert_true(cairn_archive_check(a) >= 1);
    assert_true(warnings >= 1);
    warnings = 0;
    assert_int_equal(hunt(a, "evil.example\n", &h), 1);
    assert_non_null(strstr(h.text, "b.evil.example"));
    assert_true(warnings >= 1);
    cairn_archive_free(a);
    rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_twice_adds_nothing),
        cmocka_unit_test(follow_grows_rotates_truncates),
        cmocka_unit_test(damage_is_found_and_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
