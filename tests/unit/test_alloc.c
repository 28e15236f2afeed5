/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator: failure injection, live count, jansson routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

static void test_fail_after(void **state)
{
    (void)state;
    for (long n = 0; n < 5; n++) {
        void *p[6] = {NULL};
        cairn_alloc_fail_after(n);
        /* Calls 0..n-1 succeed, call n (counting from 0) fails. */
        for (long i = 0; i < n; i++) {
            p[i] = cairn_malloc(8);
            assert_non_null(p[i]);
        }
        assert_null(cairn_malloc(8));
        cairn_alloc_fail_after(-1);
        p[n] = cairn_malloc(8);
        assert_non_null(p[n]);
        for (long i = 0; i <= n; i++)
            cairn_free(p[i]);
    }
}

static void test_every_entry_point_fails(void **state)
{
    (void)state;
    void *keep = cairn_malloc(4);
    assert_non_null(keep);
    cairn_alloc_fail_after(0);
    assert_null(cairn_malloc(1));
    assert_null(cairn_calloc(2, 8));
    assert_null(cairn_strdup("x"));
    assert_null(cairn_strndup("xy", 1));
    assert_null(cairn_realloc(NULL, 8));
    /* A failed realloc leaves the old block alone. */
    assert_null(cairn_realloc(keep, 64));
    cairn_alloc_fail_after(-1);
    memcpy(keep, "abc", 4);
    keep = cairn_realloc(keep, 64);
    assert_non_null(keep);
    assert_string_equal(keep, "abc");
    cairn_free(keep);
}

static void test_live_count(void **state)
{
    (void)state;
    long base = cairn_alloc_live();
    void *a = cairn_malloc(10);
    void *b = cairn_calloc(3, 4);
    char *c = cairn_strdup("text");
    char *d = cairn_strndup("text", 2);
    assert_int_equal(cairn_alloc_live(), base + 4);
    assert_string_equal(d, "te");
    a = cairn_realloc(a, 1000); /* moving a block is not a new one */
    assert_int_equal(cairn_alloc_live(), base + 4);
    cairn_free(a);
    cairn_free(b);
    cairn_free(c);
    cairn_free(d);
    cairn_free(NULL);
    assert_int_equal(cairn_alloc_live(), base);
}

static void test_jansson_routed(void **state)
{
    (void)state;
    long base = cairn_alloc_live();
    json_t *v = json_loads("{\"a\":[1,2,3],\"b\":\"text\"}", 0, NULL);
    assert_non_null(v);
    assert_true(cairn_alloc_live() > base);
    json_decref(v);
    assert_int_equal(cairn_alloc_live(), base);

    /* Failures injected here reach jansson, which reports them. */
    cairn_alloc_fail_after(0);
    assert_null(json_object());
    assert_null(json_loads("[1]", 0, NULL));
    cairn_alloc_fail_after(-1);
    assert_int_equal(cairn_alloc_live(), base);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_after),
        cmocka_unit_test(test_every_entry_point_fails),
        cmocka_unit_test(test_live_count),
        cmocka_unit_test(test_jansson_routed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
