/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing files for `--files`: known digests, walking, links, errors. */
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

#include "cairn/base.h"
#include "cairn/telemetry.h"

struct seen {
    int n;
    char name[8][64];
    char md5[8][33], sha1[8][41], sha256[8][65];
    char file[8][512];
};

static int collect(const struct cairn_hunt_event *ev, void *ud)
{
    struct seen *s = ud;
    if (s->n >= 8)
        return CAIRN_ETOOBIG;
    int i = s->n++;
    assert_int_equal(ev->line, 0);
    assert_int_equal(ev->offset, 0);
    assert_int_equal(ev->n_fields, 4);
    for (size_t k = 0; k < ev->n_fields; k++) {
        const struct cairn_hunt_field *f = &ev->fields[k];
        char *dst = f->type == CAIRN_IOC_MD5      ? s->md5[i]
                    : f->type == CAIRN_IOC_SHA1   ? s->sha1[i]
                    : f->type == CAIRN_IOC_SHA256 ? s->sha256[i]
                                                  : s->name[i];
        assert_true(f->type == CAIRN_IOC_MD5 || f->type == CAIRN_IOC_SHA1 ||
                    f->type == CAIRN_IOC_SHA256 ||
                    f->type == CAIRN_IOC_FILENAME);
        snprintf(dst, 65, "%.*s", (int)f->len, f->value);
    }
    snprintf(s->file[i], sizeof s->file[i], "%s", ev->file);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static char root[256];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/cairn-files-XXXXXX");
    if (mkdtemp(root) == NULL)
        return -1;
    char p[512];
    snprintf(p, sizeof p, "%s/b-empty", root);
    write_file(p, "");
    snprintf(p, sizeof p, "%s/a-abc.txt", root);
    write_file(p, "abc");
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sub/c-abc", root);
    write_file(p, "abc");
    /* Links are not followed, to files or to directories. */
    snprintf(p, sizeof p, "%s/link-to-abc", root);
    if (symlink("a-abc.txt", p) != 0)
        return -1;
    snprintf(p, sizeof p, "%s/sub/loop", root);
    if (symlink("..", p) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_walk(void **state)
{
    (void)state;
    struct seen s;
    memset(&s, 0, sizeof s);
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_hash_files(root, NULL, collect, &s, &diag),
                     0);
    assert_int_equal(s.n, 3);
    /* Sorted by name: a-abc.txt, b-empty, sub/c-abc. */
    assert_string_equal(s.name[0], "a-abc.txt");
    assert_string_equal(s.md5[0], "900150983cd24fb0d6963f7d28e17f72");
    assert_string_equal(s.sha1[0], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_string_equal(
        s.sha256[0],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_string_equal(s.name[1], "b-empty");
    assert_string_equal(s.md5[1], "d41d8cd98f00b204e9800998ecf8427e");
    assert_string_equal(s.sha1[1], "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_string_equal(
        s.sha256[1],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(s.name[2], "c-abc");
    assert_string_equal(s.md5[2], s.md5[0]);
    char want[512];
    snprintf(want, sizeof want, "%s/sub/c-abc", root);
    assert_string_equal(s.file[2], want);
}

static void test_single_file(void **state)
{
    (void)state;
    struct seen s;
    memset(&s, 0, sizeof s);
    char p[512];
    snprintf(p, sizeof p, "%s/a-abc.txt", root);
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_hash_files(p, NULL, collect, &s, &diag),
                     0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.file[0], p);
}

static int stop_at_first(const struct cairn_hunt_event *ev, void *ud)
{
    (void)ev;
    (*(int *)ud)++;
    return CAIRN_EPERM;
}

static void test_errors(void **state)
{
    (void)state;
    struct seen s;
    memset(&s, 0, sizeof s);
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_hash_files("/nonexistent/cairn", NULL,
                                                collect, &s, &diag),
                     CAIRN_EIO);
    assert_string_equal(diag.file, "/nonexistent/cairn");
    assert_int_equal(s.n, 0);
    /* A callback's error stops the walk and comes back. */
    int calls = 0;
    assert_int_equal(
        cairn_telemetry_hash_files(root, NULL, stop_at_first, &calls, &diag),
        CAIRN_EPERM);
    assert_int_equal(calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_single_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
