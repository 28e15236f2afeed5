/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable byte buffers. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cairn/base.h"

/* First allocation; small enough for keys, large enough to skip tiny steps. */
#define BUF_MIN_ALLOC 64

void cairn_buf_init(struct cairn_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void cairn_buf_release(struct cairn_buf *b)
{
    if (b == NULL)
        return;
    cairn_free(b->data);
    cairn_buf_init(b, b->cap);
}

void cairn_buf_reset(struct cairn_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int cairn_buf_reserve(struct cairn_buf *b, size_t more)
{
    /* The cap counts content bytes; the NUL comes on top of it. */
    size_t cap = b->cap < SIZE_MAX ? b->cap : SIZE_MAX - 1;
    if (more > cap || b->len > cap - more)
        return CAIRN_ETOOBIG;
    size_t need = b->len + more + 1;
    if (need <= b->alloc)
        return 0;

    size_t want = b->alloc < BUF_MIN_ALLOC / 2 ? BUF_MIN_ALLOC : b->alloc;
    while (want < need && want <= SIZE_MAX / 2)
        want *= 2;
    if (want < need)
        want = need;
    /* Never hold more than the cap allows, so a capped buffer stays small. */
    if (want > cap + 1)
        want = cap + 1;

    char *p = cairn_realloc(b->data, want);
    if (p == NULL)
        return CAIRN_ENOMEM;
    if (b->data == NULL)
        p[0] = '\0';
    b->data = p;
    b->alloc = want;
    return 0;
}

int cairn_buf_append(struct cairn_buf *b, const void *p, size_t len)
{
    int rc = cairn_buf_reserve(b, len);
    if (rc < 0)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int cairn_buf_puts(struct cairn_buf *b, const char *s)
{
    return cairn_buf_append(b, s, strlen(s));
}

int cairn_buf_putc(struct cairn_buf *b, char c)
{
    return cairn_buf_append(b, &c, 1);
}

int cairn_buf_printf(struct cairn_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc = CAIRN_EINTERNAL;

    /* Try the spare room first; most calls fit and format only once. */
    if (b->data != NULL && b->alloc > b->len) {
        size_t room = b->alloc - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            rc = CAIRN_EINVAL;
            goto out;
        }
        if ((size_t)n < room && (size_t)n <= b->cap - b->len) {
            b->len += (size_t)n;
            return 0;
        }
    }

    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rc = CAIRN_EINVAL;
        goto out;
    }
    rc = cairn_buf_reserve(b, (size_t)n);
    if (rc < 0)
        goto out;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;

out:
    /* A failed first try may have written past len: cut it off again. */
    if (b->data != NULL)
        b->data[b->len] = '\0';
    return rc;
}

char *cairn_buf_steal(struct cairn_buf *b, size_t *len_out)
{
    char *p = b->data;
    size_t len = b->len;

    /* Callers expect a string, even from a buffer that never grew. */
    if (p == NULL) {
        p = cairn_strndup("", 0);
        len = 0;
    }
    if (len_out != NULL)
        *len_out = p != NULL ? len : 0;
    if (p != NULL)
        cairn_buf_init(b, b->cap);
    return p;
}
