/* SPDX-License-Identifier: Apache-2.0 */
/* Bump allocator over a list of chunks, freed all at once. */
#include <stdint.h>
#include <string.h>

#include "cairn/base.h"

#define ARENA_ALIGN 16
/* Chunks start small (most parses are small) and double up to a limit. */
#define ARENA_FIRST_CHUNK ((size_t)4096)
#define ARENA_MAX_CHUNK   ((size_t)1 << 20)

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
};

struct cairn_arena {
    struct chunk *head;
    size_t cap;       /* 0: no cap */
    size_t used;      /* bytes handed out, each rounded up to ARENA_ALIGN */
    size_t next_size; /* size of the next chunk to allocate */
};

/* The header is padded so the first byte after it is aligned like malloc's. */
#define CHUNK_HDR                                                              \
    ((sizeof(struct chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static unsigned char *chunk_mem(struct chunk *c)
{
    return (unsigned char *)c + CHUNK_HDR;
}

int cairn_arena_new(size_t cap, struct cairn_arena **out)
{
    *out = NULL;
    struct cairn_arena *a = cairn_calloc(1, sizeof *a);
    if (a == NULL)
        return CAIRN_ENOMEM;
    a->cap = cap;
    a->next_size = ARENA_FIRST_CHUNK;
    *out = a;
    return 0;
}

void cairn_arena_free(struct cairn_arena *a)
{
    if (a == NULL)
        return;
    struct chunk *c = a->head;
    while (c != NULL) {
        struct chunk *next = c->next;
        cairn_free(c);
        c = next;
    }
    cairn_free(a);
}

/* Room for `len` more bytes at an aligned address in chunk `c`, or NULL. */
static void *take(struct chunk *c, size_t len)
{
    uintptr_t base = (uintptr_t)chunk_mem(c);
    uintptr_t at =
        (base + c->used + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
    size_t off = (size_t)(at - base);
    if (off > c->size || len > c->size - off)
        return NULL;
    c->used = off + len;
    return (void *)at;
}

void *cairn_arena_alloc(struct cairn_arena *a, size_t len)
{
    if (len == 0)
        len = 1;
    if (len > SIZE_MAX - 2 * ARENA_ALIGN - CHUNK_HDR)
        return NULL;
    size_t rounded = (len + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->cap != 0 && (rounded > a->cap || a->used > a->cap - rounded))
        return NULL;

    void *p = a->head != NULL ? take(a->head, rounded) : NULL;
    if (p == NULL) {
        size_t size = a->next_size;
        /* A capped arena never reserves much more than it may hand out. */
        if (a->cap != 0 && size > a->cap - a->used)
            size = a->cap - a->used;
        if (size < rounded)
            size = rounded;
        /* Slack for aligning the first allocation if malloc's is weaker. */
        struct chunk *c = cairn_malloc(CHUNK_HDR + size + ARENA_ALIGN);
        if (c == NULL)
            return NULL;
        c->size = size + ARENA_ALIGN;
        c->used = 0;
        if (a->head != NULL && rounded > a->next_size) {
            /* A one-off big block: keep filling the current chunk after it. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
            if (a->next_size < ARENA_MAX_CHUNK)
                a->next_size *= 2;
        }
        p = take(c, rounded);
    }
    a->used += rounded;
    return p;
}

char *cairn_arena_strndup(struct cairn_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = cairn_arena_alloc(a, len + 1);
    if (p == NULL)
        return NULL;
    if (len > 0)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

size_t cairn_arena_used(const struct cairn_arena *a)
{
    return a->used;
}
