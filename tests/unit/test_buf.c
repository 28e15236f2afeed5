/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/base.h"

static void test_append_and_nul(void **state)
{
    (void)state;
    struct cairn_buf b;
    cairn_buf_init(&b, 1024);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(cairn_buf_puts(&b, "hello"), 0);
    assert_int_equal(cairn_buf_putc(&b, ','), 0);
    assert_int_equal(cairn_buf_append(&b, " world!!", 6), 0);
    assert_int_equal(b.len, 12);
    assert_string_equal(b.data, "hello, world");
    /* Bytes, not strings: a NUL in the middle is kept and counted. */
    assert_int_equal(cairn_buf_append(&b, "\0x", 2), 0);
    assert_int_equal(b.len, 14);
    assert_memory_equal(b.data, "hello, world\0x", 15);
    cairn_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(b.cap, 1024);
    cairn_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 1024);
    cairn_buf_release(&b);
}

static void test_growth(void **state)
{
    (void)state;
    struct cairn_buf b;
    char want[10000];
    cairn_buf_init(&b, sizeof want);
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)('a' + i % 26);
        assert_int_equal(cairn_buf_putc(&b, want[i]), 0);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* Growth stops at the cap plus the NUL. */
    assert_true(b.alloc <= b.cap + 1);
    cairn_buf_release(&b);
}

static void test_cap(void **state)
{
    (void)state;
    struct cairn_buf b;
    cairn_buf_init(&b, 8);
    assert_int_equal(cairn_buf_puts(&b, "12345"), 0);
    char *before = b.data;
    /* Past the cap: an error, and the buffer exactly as it was. */
    assert_int_equal(cairn_buf_puts(&b, "6789"), CAIRN_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(cairn_buf_printf(&b, "%d", 6789), CAIRN_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "12345");
    assert_int_equal(cairn_buf_reserve(&b, 4), CAIRN_ETOOBIG);
    assert_int_equal(cairn_buf_reserve(&b, SIZE_MAX), CAIRN_ETOOBIG);
    assert_int_equal(cairn_buf_append(&b, "x", SIZE_MAX), CAIRN_ETOOBIG);
    assert_ptr_equal(b.data, before);
    /* Up to the cap exactly is fine. */
    assert_int_equal(cairn_buf_puts(&b, "678"), 0);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(cairn_buf_putc(&b, '9'), CAIRN_ETOOBIG);
    assert_string_equal(b.data, "12345678");
    cairn_buf_release(&b);

    /* SIZE_MAX as the cap is "no cap", without overflowing. */
    cairn_buf_init(&b, SIZE_MAX);
    assert_int_equal(cairn_buf_puts(&b, "abc"), 0);
    assert_string_equal(b.data, "abc");
    assert_int_equal(cairn_buf_reserve(&b, SIZE_MAX - 3), CAIRN_ETOOBIG);
    assert_string_equal(b.data, "abc");
    cairn_buf_release(&b);

    /* A zero cap holds only the empty string. */
    cairn_buf_init(&b, 0);
    assert_int_equal(cairn_buf_putc(&b, 'x'), CAIRN_ETOOBIG);
    assert_null(b.data);
    assert_int_equal(cairn_buf_append(&b, "", 0), 0);
    assert_string_equal(b.data, "");
    cairn_buf_release(&b);
}

static void test_printf(void **state)
{
    (void)state;
    struct cairn_buf b;
    cairn_buf_init(&b, 4096);
    assert_int_equal(cairn_buf_printf(&b, "%s-%d", "id", 42), 0);
    assert_string_equal(b.data, "id-42");
    /* Longer than the spare room: formats again after growing. */
    assert_int_equal(cairn_buf_printf(&b, "[%300d]", 7), 0);
    assert_int_equal(b.len, 5 + 302);
    assert_int_equal(b.data[5], '[');
    assert_int_equal(b.data[305], '7');
    assert_int_equal(b.data[306], ']');
    assert_int_equal(b.data[307], '\0');
    assert_int_equal(cairn_buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 307);

    /* A failed printf that first tried the spare room leaves no trace. */
    struct cairn_buf c;
    cairn_buf_init(&c, 100);
    assert_int_equal(cairn_buf_puts(&c, "abc"), 0);
    assert_int_equal(cairn_buf_printf(&c, "%200d", 1), CAIRN_ETOOBIG);
    assert_int_equal(c.len, 3);
    assert_string_equal(c.data, "abc");
    assert_int_equal(cairn_buf_printf(&c, "%97d", 1), 0);
    assert_int_equal(c.len, 100);
    cairn_buf_release(&c);
    cairn_buf_release(&b);
}

static void test_steal(void **state)
{
    (void)state;
    struct cairn_buf b;
    size_t len = 99;
    long base = cairn_alloc_live();

    cairn_buf_init(&b, 64);
    assert_int_equal(cairn_buf_puts(&b, "stolen"), 0);
    char *s = cairn_buf_steal(&b, &len);
    assert_string_equal(s, "stolen");
    assert_int_equal(len, 6);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 64);
    cairn_free(s);

    /* Never appended to: still a string the caller frees. */
    s = cairn_buf_steal(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    cairn_free(s);
    s = cairn_buf_steal(&b, NULL);
    assert_non_null(s);
    cairn_free(s);

    /* The buffer is usable after a steal. */
    assert_int_equal(cairn_buf_puts(&b, "again"), 0);
    assert_string_equal(b.data, "again");
    cairn_buf_release(&b);
    assert_int_equal(cairn_alloc_live(), base);
}

static void test_oom(void **state)
{
    (void)state;
    struct cairn_buf b;
    long base = cairn_alloc_live();
    cairn_buf_init(&b, 1 << 20);
    assert_int_equal(cairn_buf_puts(&b, "keep"), 0);
    size_t alloc = b.alloc;
    char big[512];
    memset(big, 'x', sizeof big);
    cairn_alloc_fail_after(0);
    assert_int_equal(cairn_buf_append(&b, big, sizeof big), CAIRN_ENOMEM);
    assert_int_equal(cairn_buf_printf(&b, "%512s", "y"), CAIRN_ENOMEM);
    cairn_alloc_fail_after(-1);
    assert_int_equal(b.len, 4);
    assert_int_equal(b.alloc, alloc);
    assert_string_equal(b.data, "keep");
    cairn_buf_release(&b);

    cairn_alloc_fail_after(0);
    assert_null(cairn_buf_steal(&b, NULL));
    cairn_alloc_fail_after(-1);
    assert_int_equal(cairn_alloc_live(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_nul),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
