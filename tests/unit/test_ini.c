/* SPDX-License-Identifier: Apache-2.0 */
/* The shared INI reader: lines, first error, long lines, relative paths. */
#include <errno.h>
#include <limits.h>
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
#include <ini.h>

#include "cairn/base.h"

/* inih's line buffer, less the newline and the NUL. */
#define MAX_LINE (INI_MAX_LINE - 2)

static char root[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* What the callback saw, and the values it kept. */
struct seen {
    char log[1024];
    char *str;  /* key "str" */
    char *path; /* key "path" */
};

/*
 * Logs "[SECTION] NAME=VALUE @LINE/SECTION_LINE;" for each entry. Keys
 * "bad" fail with the value as message, "oom" returns CAIRN_ENOMEM without
 * a message, "str" and "path" go through cairn_ini_string.
 */
static int record(struct cairn_ini *ini, const char *section, const char *name,
                  const char *value, void *ud)
{
    struct seen *s = ud;
    size_t len = strlen(s->log);

    snprintf(s->log + len, sizeof s->log - len, "[%s] %s=%s @%u/%u;", section,
             name, value, ini->line, ini->section_line);
    if (strcmp(name, "bad") == 0)
        return cairn_ini_fail(ini, "bad: %s", value);
    if (strcmp(name, "oom") == 0)
        return CAIRN_ENOMEM;
    if (strcmp(name, "str") == 0)
        return cairn_ini_string(ini, &s->str, section, name, value, false);
    if (strcmp(name, "path") == 0)
        return cairn_ini_string(ini, &s->path, section, name, value, true);
    return 0;
}

/* One file: what it holds, how it is read, and what must come of it. */
struct parse_case {
    const char *text;
    int rc;
    unsigned line;       /* in the diag when rc is CAIRN_EINVAL */
    const char *message; /* the diag's, exactly */
    const char *log;     /* every entry the callback saw, in order */
};

static const struct parse_case cases[] = {
    /* Comments and blank lines count; the error names the line it is on. */
    {"[a]\n; note\n\n# note\nx = 1\nbad = two\n", CAIRN_EINVAL, 6, "bad: two",
     "[a] x=1 @5/1;[a] bad=two @6/1;"},
    /* The first error wins, and the callback hears no more after it. */
    {"bad = one\n[b]\nbad = two\ny = 3\n", CAIRN_EINVAL, 1, "bad: one",
     "[] bad=one @1/0;"},
    /* ... and inih's own complaints after it do not replace it. */
    {"[a]\nbad = one\nno equals sign\n[b\n", CAIRN_EINVAL, 2, "bad: one",
     "[a] bad=one @2/1;"},
    /* A line inih cannot read, or a section header left open. */
    {"[a]\nx = 1\nno equals sign\ny = 2\n", CAIRN_EINVAL, 3,
     "expected [section] or key = value", "[a] x=1 @2/1;[a] y=2 @4/1;"},
    {"[a\nx = 1\n", CAIRN_EINVAL, 1, "expected [section] or key = value",
     "[] x=1 @2/1;"},
    /* Keys indented under their section are keys, not continuations. */
    {"[a]\n    x = 1\n\ty = 2\n  ; note\n", 0, 0, NULL,
     "[a] x=1 @2/1;[a] y=2 @3/1;"},
    {"  [b]\n  x = 1\n", 0, 0, NULL, "[b] x=1 @2/1;"},
    /* The line of the last header, to tell [a] [a] from one [a]. */
    {"[a]\nx = 1\n[a]\ny = 2\n", 0, 0, NULL, "[a] x=1 @2/1;[a] y=2 @4/3;"},
    /* An error without a message is still the parse's error. */
    {"[a]\noom = 1\nbad = 2\n", CAIRN_ENOMEM, 0, NULL, "[a] oom=1 @2/1;"},
    /* cairn_ini_string: twice, empty. */
    {"[s]\nstr = a\nstr = b\n", CAIRN_EINVAL, 3, "[s] str is given twice",
     "[s] str=a @2/1;[s] str=b @3/1;"},
    {"[s]\nstr =\n", CAIRN_EINVAL, 2, "[s] str is empty", "[s] str= @2/1;"},
    /* Empty file, only comments: nothing to say. */
    {"", 0, 0, NULL, ""},
    {"; a\n\n", 0, 0, NULL, ""},
};

static void check_case(const struct parse_case *c, const char *path)
{
    struct seen s = {0};
    struct cairn_diag d;
    struct cairn_ini ini;

    cairn_diag_clear(&d);
    write_file(path, c->text);
    int rc = cairn_ini_parse(&ini, path, record, &s, &d);
    assert_int_equal(rc, c->rc);
    assert_int_equal(ini.rc, c->rc);
    assert_string_equal(s.log, c->log);
    if (c->message != NULL) {
        assert_string_equal(d.message, c->message);
        assert_string_equal(d.file, path);
        assert_int_equal(d.line, c->line);
        assert_string_equal(d.rule, "config");
        assert_int_equal(d.severity, CAIRN_SEV_ERROR);
    } else {
        assert_string_equal(d.message, "");
    }
    cairn_free(s.str);
    cairn_free(s.path);
}

static void test_cases(void **state)
{
    (void)state;
    char path[512];
    long live = cairn_alloc_live();

    snprintf(path, sizeof path, "%s/case.ini", root);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        print_message("case %zu\n", i);
        check_case(&cases[i], path);
    }
    assert_int_equal(cairn_alloc_live(), live);
}

/* "x = 1", then a line of `len` bytes that is a comment or `key = ...`. */
static void write_long(const char *path, size_t len, const char *key,
                       const char *after)
{
    char text[2048];
    size_t at = (size_t)snprintf(text, sizeof text, "[a]\nx = 1\n%s", key);
    assert_true(len >= strlen(key) && at + len + 64 < sizeof text);
    for (size_t i = strlen(key); i < len; i++)
        text[at++] = 'v';
    snprintf(text + at, sizeof text - at, "\n%s", after);
    write_file(path, text);
}

static void test_long_lines(void **state)
{
    (void)state;
    char path[512], want[64], log[512];
    struct cairn_diag d;
    struct cairn_ini ini;
    struct seen s = {0};

    snprintf(path, sizeof path, "%s/long.ini", root);
    snprintf(want, sizeof want, "line longer than %d bytes", MAX_LINE);

    /* As long as inih takes: read whole, line numbers go on. */
    write_long(path, MAX_LINE, "y = ", "bad = here\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EINVAL);
    assert_string_equal(d.message, "bad: here");
    assert_int_equal(d.line, 4);
    char v[INI_MAX_LINE];
    memset(v, 'v', MAX_LINE - 4);
    v[MAX_LINE - 4] = '\0';
    snprintf(log, sizeof log, "[a] x=1 @2/1;[a] y=%s @3/1;[a] bad=here @4/1;",
             v);
    assert_string_equal(s.log, log);

    /* One byte more, on a key's line: that line, and not split. */
    memset(&s, 0, sizeof s);
    write_long(path, MAX_LINE + 1, "y = ", "z = 2\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EINVAL);
    assert_string_equal(d.message, want);
    assert_int_equal(d.line, 3);
    assert_string_equal(d.file, path);
    assert_string_equal(s.log, "[a] x=1 @2/1;");

    /* A long comment is still a long line, even with nothing after it. */
    write_long(path, 500, "; ", "");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EINVAL);
    assert_string_equal(d.message, want);
    assert_int_equal(d.line, 3);

    /* One with only a header after it is still named. */
    write_long(path, MAX_LINE + 1, "; ", "[b]\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EINVAL);
    assert_string_equal(d.message, want);
    assert_int_equal(d.line, 3);
}

static void test_paths(void **state)
{
    (void)state;
    char path[512], want[600], cwd[PATH_MAX];
    struct cairn_diag d;
    struct cairn_ini ini;
    struct seen s = {0};

    /* Relative to the file's directory, not to the working directory. */
    snprintf(path, sizeof path, "%s/paths.ini", root);
    write_file(path, "[a]\npath = sub/x.pem\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), 0);
    snprintf(want, sizeof want, "%s/sub/x.pem", root);
    assert_string_equal(s.path, want);
    assert_int_equal(ini.dir_len, strlen(root) + 1);
    cairn_free(s.path);

    /* An absolute one is kept as it is. */
    memset(&s, 0, sizeof s);
    write_file(path, "[a]\npath = /etc/cairn/x.pem\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), 0);
    assert_string_equal(s.path, "/etc/cairn/x.pem");
    cairn_free(s.path);

    /* A file named without a directory: values stay as written. */
    memset(&s, 0, sizeof s);
    write_file(path, "[a]\npath = x.pem\nstr = y.pem\n");
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(root), 0);
    int rc = cairn_ini_parse(&ini, "paths.ini", record, &s, &d);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(ini.dir_len, 0);
    assert_string_equal(s.path, "x.pem");
    assert_string_equal(s.str, "y.pem");
    cairn_free(s.path);
    cairn_free(s.str);

    /* Plain strings are never joined to the directory. */
    memset(&s, 0, sizeof s);
    write_file(path, "[a]\nstr = x.pem\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), 0);
    assert_string_equal(s.str, "x.pem");
    cairn_free(s.str);

    /* Out of memory: no string, no leak. */
    struct cairn_ini fake = {.path = "/etc/cairn/cairn.ini", .dir_len = 11};
    char untouched = 0, *out = &untouched;
    long live = cairn_alloc_live();
    cairn_alloc_fail_after(0);
    assert_int_equal(cairn_ini_path(&fake, "x.pem", &out), CAIRN_ENOMEM);
    cairn_alloc_fail_after(-1);
    assert_null(out);
    assert_int_equal(cairn_ini_path(&fake, "x.pem", &out), 0);
    assert_string_equal(out, "/etc/cairn/x.pem");
    cairn_free(out);
    assert_int_equal(cairn_alloc_live(), live);
}

static void test_string_limits(void **state)
{
    (void)state;
    char value[CAIRN_INI_VALUE_MAX + 2];
    char *slot = NULL;
    struct cairn_diag d;
    struct cairn_ini ini = {
        .path = "/x/c.ini", .dir_len = 3, .diag = &d, .line = 7};

    /* inih's lines are shorter than the cap; callers may not be. */
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    assert_int_equal(
        cairn_ini_string(&ini, &slot, "peer a", "url", value, false),
        CAIRN_EINVAL);
    assert_null(slot);
    assert_string_equal(d.message, "[peer a] url is too long");
    assert_int_equal(d.line, 7);
    assert_string_equal(d.file, "/x/c.ini");

    ini.rc = 0;
    value[CAIRN_INI_VALUE_MAX] = '\0';
    assert_int_equal(
        cairn_ini_string(&ini, &slot, "peer a", "url", value, false), 0);
    assert_int_equal(strlen(slot), CAIRN_INI_VALUE_MAX);
    cairn_free(slot);
}

static void test_after_parse(void **state)
{
    (void)state;
    char path[512];
    struct cairn_diag d;
    struct cairn_ini ini;
    struct seen s = {0};

    /* A check of the whole file, after a clean parse: line 0. */
    snprintf(path, sizeof path, "%s/after.ini", root);
    write_file(path, "[a]\nx = 1\ny = 2\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), 0);
    assert_int_equal(ini.line, 3);
    ini.line = 0;
    assert_int_equal(cairn_ini_fail(&ini, "needs %s", "z"), CAIRN_EINVAL);
    assert_int_equal(ini.rc, CAIRN_EINVAL);
    assert_string_equal(d.message, "needs z");
    assert_int_equal(d.line, 0);
    assert_string_equal(d.file, path);

    /* After an error in the file, it does not replace that one. */
    memset(&s, 0, sizeof s);
    write_file(path, "[a]\nbad = first\n");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EINVAL);
    ini.line = 0;
    assert_int_equal(cairn_ini_fail(&ini, "second"), CAIRN_EINVAL);
    assert_string_equal(d.message, "bad: first");
    assert_int_equal(d.line, 2);

    /* Without a diag, errors are still counted. */
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, NULL),
                     CAIRN_EINVAL);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[512];
    struct cairn_diag d;
    struct cairn_ini ini;
    struct seen s = {0};

    snprintf(path, sizeof path, "%s/no-such.ini", root);
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, &d), CAIRN_EIO);
    assert_int_equal(ini.rc, CAIRN_EIO);
    assert_string_equal(d.file, path);
    assert_string_equal(d.message, strerror(ENOENT));
    assert_int_equal(d.line, 0);
    assert_string_equal(s.log, "");
    assert_int_equal(cairn_ini_parse(&ini, path, record, &s, NULL), CAIRN_EIO);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/cairn-ini-XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_after_parse),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
