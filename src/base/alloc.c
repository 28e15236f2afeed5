/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator every part of cairn (and jansson) goes through. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/base.h"

/*
 * Failure injection and the live count are for tests; in production the
 * counters cost two relaxed atomic operations per allocation.
 */
static atomic_long fail_after = -1;
static atomic_long live;

static bool should_fail(void)
{
    long n = atomic_load_explicit(&fail_after, memory_order_relaxed);
    if (n < 0)
        return false;
    if (n == 0)
        return true;
    atomic_store_explicit(&fail_after, n - 1, memory_order_relaxed);
    return false;
}

void cairn_alloc_fail_after(long n)
{
    atomic_store(&fail_after, n);
}

long cairn_alloc_live(void)
{
    return atomic_load(&live);
}

void *cairn_malloc(size_t len)
{
    if (should_fail())
        return NULL;
    void *p = malloc(len ? len : 1);
    if (p != NULL)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *cairn_calloc(size_t n, size_t len)
{
    if (should_fail())
        return NULL;
    void *p = calloc(n ? n : 1, len ? len : 1);
    if (p != NULL)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *cairn_realloc(void *p, size_t len)
{
    if (p == NULL)
        return cairn_malloc(len);
    if (should_fail())
        return NULL;
    return realloc(p, len ? len : 1);
}

void cairn_free(void *p)
{
    if (p == NULL)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    free(p);
}

char *cairn_strndup(const char *s, size_t len)
{
    char *p = cairn_malloc(len + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *cairn_strdup(const char *s)
{
    return cairn_strndup(s, strlen(s));
}

void cairn_alloc_init(void)
{
    json_set_alloc_funcs(cairn_malloc, cairn_free);
}
