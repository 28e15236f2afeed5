/* SPDX-License-Identifier: Apache-2.0 */
/* The OASIS pattern suites (tests/data/patterns/oasis) run through cairn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/pattern.h"

/*
 * Every case of tests/data/patterns/oasis/ (format: README.md there) gets
 * cairn's verdict: valid/invalid from cairn_pattern_parse, and for the
 * matcher's cases error (the pattern is refused, or the match reports
 * values it could not compare), match, match=IDS or nomatch. A verdict
 * that differs from upstream's must be listed, with cairn's verdict, in
 * known-differences.txt; the test prints the agreement and fails on any
 * other difference and on a listed one that no longer differs.
 */

#define MAX_KNOWN 64

struct known {
    char file[64];
    char *line; /* "VERDICT PATTERN" as in the case file */
    char cairn[512];
    bool used;
};

static struct known known[MAX_KNOWN];
static size_t n_known;
static int cases, agree, known_hits, failures;

static char *oasis_path(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/patterns/oasis/%s", CAIRN_TEST_DATA, name);
    return path;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static void load_known(void)
{
    FILE *f = fopen(oasis_path("known-differences.txt"), "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    struct known *k = NULL;
    while (getline(&line, &cap, f) >= 0) {
        chomp(line);
        if (strncmp(line, "file: ", 6) == 0) {
            assert_true(n_known < MAX_KNOWN);
            k = &known[n_known++];
            memset(k, 0, sizeof *k);
            snprintf(k->file, sizeof k->file, "%s", line + 6);
        } else if (k != NULL && strncmp(line, "case: ", 6) == 0) {
            k->line = strdup(line + 6);
            assert_non_null(k->line);
        } else if (k != NULL && strncmp(line, "cairn: ", 7) == 0) {
            snprintf(k->cairn, sizeof k->cairn, "%s", line + 7);
        }
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < n_known; i++)
        if (known[i].line == NULL || known[i].cairn[0] == '\0')
            fail_msg("known-differences.txt: entry %zu lacks case: or cairn:",
                     i + 1);
}

/* Observations of the current @observations, as loaded and changed. */
struct obsfile {
    char name[128];
    json_t *doc;
};

static int add_ids(const struct cairn_observation_set *set,
                   const struct cairn_match_result *res, char *out, size_t cap)
{
    /* "match=" and the sorted ids of the observations reported. */
    const char *ids[64];
    size_t n = 0;
    for (size_t i = 0; i < res->n_indexes && n < 64; i++) {
        const char *id = cairn_observations_id(set, res->indexes[i]);
        ids[n++] = id ? id : "(no id)";
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
            const char *t = ids[k];
            ids[k] = ids[k - 1];
            ids[k - 1] = t;
        }
    size_t o = (size_t)snprintf(out, cap, "match=");
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", ids[i]);
    return 0;
}

/* cairn's verdict on one case, into `out`. */
static void verdict(const char *expected, const char *pattern,
                    const struct obsfile *of, char *out, size_t cap)
{
    struct cairn_pattern *p = NULL;
    struct cairn_diag diag;
    cairn_diag_clear(&diag);
    int rc = cairn_pattern_parse(pattern, strlen(pattern), NULL, &p, &diag);
    if (strcmp(expected, "valid") == 0 || strcmp(expected, "invalid") == 0) {
        snprintf(out, cap, "%s", rc == 0 ? "valid" : "invalid");
        cairn_pattern_free(p);
        return;
    }
    if (rc != 0) {
        snprintf(out, cap, "error");
        return;
    }
    if (of->doc == NULL) {
        snprintf(out, cap, "no @observations");
        cairn_pattern_free(p);
        return;
    }
    struct cairn_observation_set *set = NULL;
    json_t *copy = json_deep_copy(of->doc);
    rc = cairn_observations_new(&set);
    if (rc == 0)
        rc = cairn_observations_add_json(set, copy, &diag);
    if (rc == 0)
        rc = cairn_observations_seal(set, &diag);
    json_decref(copy);
    if (rc != 0) {
        snprintf(out, cap, "observations refused: %s", diag.message);
        cairn_observations_free(set);
        cairn_pattern_free(p);
        return;
    }
    struct cairn_match_result res;
    rc = cairn_pattern_match(p, set, NULL, &res);
    if (rc != 0)
        snprintf(out, cap, "match failed: %s", cairn_strerror(rc));
    else if (res.n_invalid > 0)
        snprintf(out, cap, "error");
    else if (!res.matched)
        snprintf(out, cap, "nomatch");
    else if (strncmp(expected, "match=", 6) == 0)
        add_ids(set, &res, out, cap);
    else
        snprintf(out, cap, "match");
    cairn_match_result_release(&res);
    cairn_observations_free(set);
    cairn_pattern_free(p);
}

static void set_times(struct obsfile *of, const char *args, const char *file,
                      int lineno)
{
    unsigned n;
    char first[64], last[64];
    if (of->doc == NULL || sscanf(args, "%u %63s %63s", &n, first, last) != 3) {
        fprintf(stderr, "%s:%d: bad @times\n", file, lineno);
        failures++;
        return;
    }
    json_t *d = json_array_get(of->doc, n);
    json_t *objs = json_object_get(d, "objects");
    if (json_is_array(objs))
        d = json_array_get(objs, 0);
    json_object_set_new(d, "first_observed", json_string(first));
    json_object_set_new(d, "last_observed", json_string(last));
}

static void run_case(const char *file, int lineno, const char *line,
                     const struct obsfile *of)
{
    char expected[512];
    const char *sp = strchr(line, ' ');
    if (sp == NULL || (size_t)(sp - line) >= sizeof expected) {
        fprintf(stderr, "%s:%d: bad case line\n", file, lineno);
        failures++;
        return;
    }
    memcpy(expected, line, (size_t)(sp - line));
    expected[sp - line] = '\0';
    const char *pattern = sp + 1;
    char got[512];
    verdict(expected, pattern, of, got, sizeof got);
    cases++;
    struct known *k = NULL;
    for (size_t i = 0; i < n_known; i++)
        if (strcmp(known[i].file, file) == 0 &&
            strcmp(known[i].line, line) == 0)
            k = &known[i];
    if (k != NULL)
        k->used = true;
    if (strcmp(got, expected) == 0) {
        agree++;
        if (k != NULL) {
            fprintf(stderr,
                    "%s:%d: listed in known-differences.txt but agrees "
                    "now: %s\n",
                    file, lineno, line);
            failures++;
        }
        return;
    }
    if (k != NULL && strcmp(k->cairn, got) == 0) {
        known_hits++;
        return;
    }
    fprintf(stderr, "%s:%d: upstream %s, cairn %s%s%s\n    %s\n", file, lineno,
            expected, got, k ? " (known-differences.txt says " : "",
            k ? k->cairn : "", pattern);
    if (k != NULL)
        fprintf(stderr, "    (listed with another verdict)\n");
    failures++;
}

static void run_file(const char *file)
{
    FILE *f = fopen(oasis_path(file), "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    struct obsfile of;
    memset(&of, 0, sizeof of);
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        chomp(line);
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (strncmp(line, "@source ", 8) == 0)
            continue;
        if (strncmp(line, "@observations ", 14) == 0) {
            char name[256];
            snprintf(name, sizeof name, "matcher/%s", line + 14);
            json_decref(of.doc);
            json_error_t err;
            of.doc = json_load_file(oasis_path(name), 0, &err);
            if (of.doc == NULL) {
                fprintf(stderr, "%s:%d: %s: %s\n", file, lineno, name,
                        err.text);
                failures++;
            }
            continue;
        }
        if (strncmp(line, "@times ", 7) == 0) {
            set_times(&of, line + 7, file, lineno);
            continue;
        }
        run_case(file, lineno, line, &of);
    }
    json_decref(of.doc);
    free(line);
    fclose(f);
}

static void test_oasis_suites(void **state)
{
    (void)state;
    static const char *const files[] = {
        "validator.txt",
        "matcher/basic_ops.txt",
        "matcher/binary.txt",
        "matcher/comparison_exprs.txt",
        "matcher/complex.txt",
        "matcher/matching_sdos.txt",
        "matcher/multi_sdo.txt",
        "matcher/null.txt",
        "matcher/object_path_quoting.txt",
        "matcher/observation_exprs.txt",
        "matcher/temporal_qualifiers.txt",
        "matcher/timestamps.txt",
        "matcher/unicode_normalization.txt",
    };
    load_known();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        run_file(files[i]);
    for (size_t i = 0; i < n_known; i++) {
        if (!known[i].used) {
            fprintf(stderr, "known-differences.txt: no such case in %s: %s\n",
                    known[i].file, known[i].line);
            failures++;
        }
        free(known[i].line);
    }
    double pct = cases ? 100.0 * agree / cases : 0;
    fprintf(stderr,
            "OASIS pattern suites: %d cases, cairn agrees on %d (%.1f%%), "
            "%d known differences, %d unexpected\n",
            cases, agree, pct, known_hits, failures);
    assert_true(cases >= 490);
    assert_int_equal(failures, 0);
    assert_true(pct >= 97.0);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oasis_suites),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
