/* SPDX-License-Identifier: Apache-2.0 */
/* Validation under allocation failure: errors, never crashes or leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cairn/stix.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void count(const struct cairn_diag *d, void *ud)
{
    (void)d;
    (*(size_t *)ud)++;
}

/* Fail the Nth allocation for N = 0, 1, 2, ... until validation succeeds. */
static void fail_each_allocation(const char *path)
{
    size_t len;
    char *buf = read_file(path, &len);
    long start = cairn_alloc_live();
    size_t findings = 0;
    struct cairn_validate_opts opts = {.cb = count, .ud = &findings};
    long n;
    for (n = 0; n < 100000; n++) {
        struct cairn_validate_stats stats = {0, 0, 0};
        cairn_alloc_fail_after(n);
        int rc = cairn_stix_validate_buffer(buf, len, &opts, &stats);
        cairn_alloc_fail_after(-1);
        assert_int_equal(cairn_alloc_live(), start);
        if (rc == 0)
            break;
        /* Out of memory, or a finding made of a failed parse: never more. */
        if (rc != CAIRN_ENOMEM && rc != CAIRN_EPARSE)
            fail_msg("%s: failing allocation %ld gave %d", path, n, rc);
    }
    assert_true(n > 10); /* the document did need memory */
    assert_true(n < 100000);
    free(buf);
}

static void test_examples_under_failure(void **state)
{
    (void)state;
    fail_each_allocation(CAIRN_EXAMPLES "/stix/c2-infrastructure.json");
    fail_each_allocation(CAIRN_EXAMPLES "/stix/phishing-email.json");
    fail_each_allocation(CAIRN_EXAMPLES "/stix/markings-and-analysis.json");
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_under_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
