/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the pattern cases in tests/data/patterns (format described below). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/pattern.h"
#include "pattern/pattern_int.h"

/*
 * A block is a run of non-blank lines:
 *
 *   pattern: TEXT            the pattern (required, first)
 *   valid                    it must parse and check
 *   canonical: TEXT          it must parse and print as TEXT
 *   error: L:C: MESSAGE      it must fail with this position and message
 *   strict: L:C: MESSAGE     it parses, and cairn_pattern_check_names warns
 *                            so ("strict: ok": it does not warn)
 *   obs: t=S[..E] [n=K] JSON one observed-data seen from 2020-01-01T00:00:00Z
 *                            plus S (to plus E) seconds, K times, about the
 *                            SCOs of the JSON array; ids are filled in
 *   observations: JSON       a whole document instead (bundle or array)
 *   expect: match [I...]     it matches; with numbers, exactly those
 *                            observations (1-based) are reported
 *   expect: nomatch
 *   expect: invalid          the observations must be rejected
 *
 * Lines starting with '#' are comments. Every valid pattern is also
 * printed and parsed again; the trees must be equal.
 */

#define MAX_OBS 64

struct block {
    int line;
    char *pattern;
    bool valid;
    char *canonical;
    char *error;
    char *strict;
    char *obs[MAX_OBS];
    int n_obs;
    char *observations;
    char *expect;
};

static int failures;
static int cases;

static void failf(const struct block *b, const char *file, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

static void failf(const struct block *b, const char *file, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, b->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n    pattern: %s\n", b->pattern ? b->pattern : "");
    failures++;
}

static void base_time(double off, char *buf, size_t len)
{
    struct cairn_time t = {1577836800 + (int64_t)off, 0, 0};
    double frac = off - (double)(int64_t)off;
    if (frac > 0) {
        t.nsec = (int32_t)(frac * 1e9 + 0.5);
        t.digits = 3;
    }
    cairn_time_format(&t, -1, buf, len);
}

/* Build a bundle from the obs: lines. */
static json_t *build_bundle(const struct block *b, const char *file)
{
    json_t *objs = json_array();
    for (int i = 0; i < b->n_obs; i++) {
        const char *s = b->obs[i];
        double t0 = 0, t1;
        long count = 1;
        int used = 0;
        char *end;
        if (strncmp(s, "t=", 2) != 0) {
            failf(b, file, "bad obs line: %s", s);
            json_decref(objs);
            return NULL;
        }
        /* "S..E": strtod would read "S." as a number, so cut at "..". */
        char num[64];
        size_t nl = strcspn(s + 2, " ");
        snprintf(num, sizeof num, "%.*s", (int)nl, s + 2);
        char *dots = strstr(num, "..");
        if (dots != NULL)
            *dots = '\0';
        t0 = strtod(num, &end);
        t1 = dots != NULL ? strtod(dots + 2, &end) : t0;
        s += 2 + nl;
        if (sscanf(s, " n=%ld%n", &count, &used) == 1)
            s += used;
        json_error_t err;
        json_t *scos = json_loads(s, 0, &err);
        if (!json_is_array(scos)) {
            failf(b, file, "obs JSON: %s", err.text);
            json_decref(scos);
            json_decref(objs);
            return NULL;
        }
        json_t *refs = json_array();
        size_t k;
        json_t *sco;
        json_array_foreach(scos, k, sco)
        {
            if (json_object_get(sco, "id") == NULL) {
                char id[128];
                snprintf(id, sizeof id, "%s--00000000-0000-4000-8000-%06d%06zu",
                         json_string_value(json_object_get(sco, "type")), i + 1,
                         k);
                json_object_set_new(sco, "id", json_string(id));
            }
            json_array_append(refs, json_object_get(sco, "id"));
            json_array_append(objs, sco);
        }
        json_decref(scos);
        char f[40], l[40], id[80];
        base_time(t0, f, sizeof f);
        base_time(t1, l, sizeof l);
        snprintf(id, sizeof id, "observed-data--00000000-0000-4000-8000-%012d",
                 i + 1);
        json_t *od = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o}", "type",
                               "observed-data", "spec_version", "2.1", "id", id,
                               "created", "2020-01-01T00:00:00Z", "modified",
                               "2020-01-01T00:00:00Z", "first_observed", f,
                               "last_observed", l, "number_observed",
                               (json_int_t)count, "object_refs", refs);
        json_array_append_new(objs, od);
    }
    return json_pack("{s:s,s:s,s:o}", "type", "bundle", "id",
                     "bundle--00000000-0000-4000-8000-000000000000", "objects",
                     objs);
}

static void run_match(const struct block *b, const char *file,
                      const struct cairn_pattern *p)
{
    json_t *doc;
    if (b->observations != NULL) {
        json_error_t err;
        doc = json_loads(b->observations, 0, &err);
        if (doc == NULL) {
            failf(b, file, "observations JSON: %s", err.text);
            return;
        }
    } else {
        doc = build_bundle(b, file);
        if (doc == NULL)
            return;
    }
    struct cairn_observation_set *set = NULL;
    struct cairn_diag diag;
    cairn_diag_clear(&diag);
    int rc = cairn_observations_new(&set);
    if (rc == 0)
        rc = cairn_observations_add_json(set, doc, &diag);
    if (rc == 0)
        rc = cairn_observations_seal(set, &diag);
    json_decref(doc);
    if (rc != 0) {
        if (strncmp(b->expect, "invalid", 7) != 0)
            failf(b, file, "observations rejected: %s", diag.message);
        cairn_observations_free(set);
        return;
    }
    if (strncmp(b->expect, "invalid", 7) == 0) {
        failf(b, file, "observations accepted, expected them rejected");
        cairn_observations_free(set);
        return;
    }
    struct cairn_match_result res;
    rc = cairn_pattern_match(p, set, NULL, &res);
    if (rc != 0) {
        failf(b, file, "match failed: %s", cairn_strerror(rc));
        cairn_observations_free(set);
        return;
    }
    bool want = strncmp(b->expect, "match", 5) == 0;
    if (res.matched != want) {
        failf(b, file, "expected %s, got %s", b->expect,
              res.matched ? "match" : "nomatch");
    } else if (want) {
        /* Optional exact list of observation numbers. */
        char got[512] = "", exp[512] = "";
        size_t gl = 0;
        for (size_t i = 0; i < res.n_indexes && gl < sizeof got - 16; i++)
            gl += (size_t)snprintf(got + gl, sizeof got - gl, " %zu",
                                   res.indexes[i] + 1);
        const char *list = b->expect + 5;
        size_t el = 0;
        for (;;) {
            char *end;
            long v = strtol(list, &end, 10);
            if (end == list)
                break;
            el += (size_t)snprintf(exp + el, sizeof exp - el, " %ld", v);
            list = end;
        }
        if (el > 0 && strcmp(got, exp) != 0)
            failf(b, file, "matched observations [%s ] , expected [%s ]", got,
                  exp);
    }
    cairn_match_result_release(&res);
    cairn_observations_free(set);
}

static void run_block(const struct block *b, const char *file)
{
    if (b->pattern == NULL) {
        failf(b, file, "block without pattern:");
        return;
    }
    cases++;
    struct cairn_pattern *p = NULL;
    struct cairn_diag diag;
    cairn_diag_clear(&diag);
    int rc =
        cairn_pattern_parse(b->pattern, strlen(b->pattern), NULL, &p, &diag);
    if (b->error != NULL) {
        char got[400];
        if (rc == 0) {
            failf(b, file, "parsed, expected error %s", b->error);
        } else {
            snprintf(got, sizeof got, "%u:%u: %s", diag.line, diag.column,
                     diag.message);
            if (strcmp(got, b->error) != 0)
                failf(b, file, "error\n    got:      %s\n    expected: %s", got,
                      b->error);
        }
        cairn_pattern_free(p);
        return;
    }
    if (rc != 0) {
        failf(b, file, "failed to parse: %u:%u: %s", diag.line, diag.column,
              diag.message);
        return;
    }
    bool names_ok = cairn_pattern_check_names(p, &diag);
    if (b->strict != NULL && strcmp(b->strict, "ok") == 0) {
        if (!names_ok)
            failf(b, file, "strict naming warns: %u:%u: %s", diag.line,
                  diag.column, diag.message);
    } else if (b->strict != NULL) {
        char got[400];
        snprintf(got, sizeof got, "%u:%u: %s", diag.line, diag.column,
                 diag.message);
        if (names_ok || diag.severity != CAIRN_SEV_WARNING)
            failf(b, file, "strict naming gives no warning, expected %s",
                  b->strict);
        else if (strcmp(got, b->strict) != 0)
            failf(b, file, "strict\n    got:      %s\n    expected: %s", got,
                  b->strict);
    }
    char *text = NULL;
    size_t len = 0;
    rc = cairn_pattern_print(p, &text, &len);
    if (rc != 0) {
        failf(b, file, "print failed");
    } else {
        if (b->canonical != NULL && strcmp(text, b->canonical) != 0)
            failf(b, file, "canonical\n    got:      %s\n    expected: %s",
                  text, b->canonical);
        struct cairn_pattern *q = NULL;
        if (cairn_pattern_parse(text, len, NULL, &q, &diag) != 0)
            failf(b, file, "printed form does not parse: %s: %s", text,
                  diag.message);
        else if (!cairn__pat_ast_equal(p->root, q->root))
            failf(b, file, "printed form parses differently: %s", text);
        cairn_pattern_free(q);
    }
    cairn_free(text);
    if (b->expect != NULL)
        run_match(b, file, p);
    else if (b->n_obs > 0 || b->observations != NULL)
        failf(b, file, "observations without expect:");
    cairn_pattern_free(p);
}

static char *value_of(char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return NULL;
    line += n;
    while (*line == ' ')
        line++;
    return line;
}

static void run_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/patterns/%s", CAIRN_TEST_DATA, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    struct block b;
    char *lines[512];
    int n_lines = 0;
    memset(&b, 0, sizeof b);
    for (;;) {
        n = getline(&line, &cap, f);
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n > 0 && line[0] == '#')
            continue;
        if (n <= 0) {
            if (b.pattern != NULL || b.n_obs > 0)
                run_block(&b, name);
            for (int i = 0; i < n_lines; i++)
                free(lines[i]);
            n_lines = 0;
            memset(&b, 0, sizeof b);
            if (n < 0)
                break;
            continue;
        }
        if (n_lines == 512)
            continue;
        char *copy = strdup(line);
        assert_non_null(copy);
        lines[n_lines++] = copy;
        char *v;
        if (b.line == 0)
            b.line = lineno;
        if ((v = value_of(copy, "pattern:")) != NULL)
            b.pattern = v;
        else if ((v = value_of(copy, "canonical:")) != NULL)
            b.canonical = v;
        else if ((v = value_of(copy, "error:")) != NULL)
            b.error = v;
        else if ((v = value_of(copy, "strict:")) != NULL)
            b.strict = v;
        else if ((v = value_of(copy, "obs:")) != NULL && b.n_obs < MAX_OBS)
            b.obs[b.n_obs++] = v;
        else if ((v = value_of(copy, "observations:")) != NULL)
            b.observations = v;
        else if ((v = value_of(copy, "expect:")) != NULL)
            b.expect = v;
        else if (strcmp(copy, "valid") == 0)
            b.valid = true;
        else {
            fprintf(stderr, "%s:%d: unknown line: %s\n", name, lineno, copy);
            failures++;
        }
    }
    free(line);
    fclose(f);
}

static void test_cases(void **state)
{
    (void)state;
    static const char *const files[] = {
        "syntax.txt",
        "errors.txt",
        "compare.txt",
        "observe.txt",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        run_file(files[i]);
    fprintf(stderr, "%d pattern cases, %d failures\n", cases, failures);
    assert_true(cases >= 400);
    assert_int_equal(failures, 0);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
