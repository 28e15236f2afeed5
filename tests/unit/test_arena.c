/* SPDX-License-Identifier: Apache-2.0 */
/* Bump arenas: alignment, caps, strings, freeing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

static void test_alignment_and_contents(void **state)
{
    (void)state;
    struct cairn_arena *a = NULL;
    long base = cairn_alloc_live();
    assert_int_equal(cairn_arena_new(0, &a), 0);
    assert_int_equal(cairn_arena_used(a), 0);

    /* Odd sizes, across several chunks, including one oversized block. */
    static const size_t sizes[] = {1, 3, 16, 17, 100, 5000, 1, 70000, 9, 0};
    unsigned char *ptrs[200];
    size_t lens[200];
    size_t want_used = 0;
    for (size_t i = 0; i < 200; i++) {
        lens[i] = sizes[i % 10];
        ptrs[i] = cairn_arena_alloc(a, lens[i]);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], (int)i, lens[i]);
        want_used += lens[i] == 0 ? 16 : (lens[i] + 15) / 16 * 16;
    }
    assert_int_equal(cairn_arena_used(a), want_used);
    /* Nothing handed out overlaps: each block still holds its pattern. */
    for (size_t i = 0; i < 200; i++) {
        for (size_t j = 0; j < lens[i]; j++)
            assert_int_equal(ptrs[i][j], (unsigned char)i);
    }
    cairn_arena_free(a);
    cairn_arena_free(NULL);
    assert_int_equal(cairn_alloc_live(), base);
}

static void test_cap(void **state)
{
    (void)state;
    struct cairn_arena *a = NULL;
    assert_int_equal(cairn_arena_new(100, &a), 0);
    /* 16-byte units: 48 + 48 = 96, then 16 more would be 112. */
    assert_non_null(cairn_arena_alloc(a, 40));
    assert_non_null(cairn_arena_alloc(a, 33));
    assert_int_equal(cairn_arena_used(a), 96);
    assert_null(cairn_arena_alloc(a, 1));
    assert_int_equal(cairn_arena_used(a), 96);
    assert_null(cairn_arena_alloc(a, SIZE_MAX));
    assert_null(cairn_arena_alloc(a, SIZE_MAX - 8));
    cairn_arena_free(a);

    assert_int_equal(cairn_arena_new(4096, &a), 0);
    assert_null(cairn_arena_alloc(a, 4097));
    assert_non_null(cairn_arena_alloc(a, 4096));
    assert_null(cairn_arena_alloc(a, 1));
    cairn_arena_free(a);

    /* Without a cap, an impossible size fails cleanly too. */
    assert_int_equal(cairn_arena_new(0, &a), 0);
    assert_null(cairn_arena_alloc(a, SIZE_MAX));
    assert_null(cairn_arena_strndup(a, "x", SIZE_MAX));
    cairn_arena_free(a);
}

static void test_strndup(void **state)
{
    (void)state;
    struct cairn_arena *a = NULL;
    assert_int_equal(cairn_arena_new(0, &a), 0);
    char *s = cairn_arena_strndup(a, "indicator--xyz", 9);
    assert_string_equal(s, "indicator");
    char *e = cairn_arena_strndup(a, "", 0);
    assert_string_equal(e, "");
    /* Exactly len bytes are copied, NULs included. */
    char *n = cairn_arena_strndup(a, "a\0b", 3);
    assert_memory_equal(n, "a\0b", 4);
    assert_int_equal((uintptr_t)n % 16, 0);
    cairn_arena_free(a);
}

static void test_oom(void **state)
{
    (void)state;
    struct cairn_arena *a = NULL;
    long base = cairn_alloc_live();
    cairn_alloc_fail_after(0);
    assert_int_equal(cairn_arena_new(0, &a), CAIRN_ENOMEM);
    cairn_alloc_fail_after(-1);
    assert_null(a);

    assert_int_equal(cairn_arena_new(0, &a), 0);
    cairn_alloc_fail_after(0);
    assert_null(cairn_arena_alloc(a, 10));
    cairn_alloc_fail_after(-1);
    /* A failed allocation does not count as used. */
    assert_int_equal(cairn_arena_used(a), 0);
    assert_non_null(cairn_arena_alloc(a, 10));
    cairn_arena_free(a);
    assert_int_equal(cairn_alloc_live(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_contents),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_strndup),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
