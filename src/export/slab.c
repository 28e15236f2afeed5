/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where an export keeps its indicators and their rendered parts: blocks
 * of a few MiB handed out in order (a million small mallocs cost more
 * than the parsing), the space of replaced versions counted, and
 * everything copied into fresh blocks when that waste outgrows what is
 * live.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "export/export_int.h"

#define SLAB_BLOCK ((size_t)8 << 20)
#define HUGE_PAGE  ((size_t)2 << 20)

void cairn__export_hugepages(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    /* the whole 2 MiB pages inside: a page fault each, not 512 */
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (len >= 2 * HUGE_PAGE && e > a)
        (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}
#define SLAB_ALIGN 16

struct slab_blk {
    struct slab_blk *next;
    size_t used, cap;
    /* data follows, aligned */
};

#define BLK_HDR ((sizeof(struct slab_blk) + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1))

void *cairn__export_alloc(struct cairn_export *ex, size_t n)
{
    n = (n + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
    struct slab_blk *b = ex->slab;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > SLAB_BLOCK / 4 ? n : SLAB_BLOCK;
        struct slab_blk *nb = cairn_malloc(BLK_HDR + cap);
        if (nb == NULL)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        cairn__export_hugepages(nb, BLK_HDR + cap);
        if (b != NULL && cap != SLAB_BLOCK) {
            /* a big one-off: keep filling the current block after it */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            ex->slab = nb;
        }
        b = nb;
    }
    void *p = (char *)b + BLK_HDR + b->used;
    b->used += n;
    ex->slab_live += n;
    return p;
}

static size_t rounded(size_t n)
{
    return (n + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
}

void cairn__export_rendered_free(struct cairn_export *ex, struct rendered *r)
{
    if (r == NULL)
        return;
    ex->slab_live -= rounded(r->blk);
    ex->slab_waste += rounded(r->blk);
}

void cairn__export_entry_free(struct cairn_export *ex, struct entry *e)
{
    if (e == NULL)
        return;
    cairn__export_rendered_free(ex, e->r);
    ex->slab_live -= rounded(e->blk);
    ex->slab_waste += rounded(e->blk);
}

void cairn__export_slab_free(struct cairn_export *ex)
{
    struct slab_blk *b = ex->slab;
    while (b != NULL) {
        struct slab_blk *next = b->next;
        cairn_free(b);
        b = next;
    }
    ex->slab = NULL;
    ex->slab_live = ex->slab_waste = 0;
}

#define MOVE(p, d) ((p) = (p) != NULL ? (void *)((char *)(p) + (d)) : NULL)

int cairn__export_compact(struct cairn_export *ex, bool force)
{
    if (!force && (ex->slab_waste < ((size_t)32 << 20) ||
                   ex->slab_waste < ex->slab_live))
        return 0;
    struct slab_blk *old = ex->slab;
    size_t live = ex->slab_live, waste = ex->slab_waste;
    struct entry **moved = cairn_malloc((ex->n_ents + 1) * sizeof *moved);
    if (moved == NULL) {
        ex->slab = old;
        ex->slab_live = live;
        ex->slab_waste = waste;
        return CAIRN_ENOMEM;
    }
    ex->slab = NULL;
    ex->slab_live = ex->slab_waste = 0;
    for (size_t i = 0; i < ex->n_ents; i++) {
        struct entry *e = ex->ents[i];
        struct entry *n = cairn__export_alloc(ex, e->blk);
        if (n == NULL)
            goto fail;
        memcpy(n, e, e->blk);
        ptrdiff_t d = (char *)n - (char *)e;
        MOVE(n->name, d);
        MOVE(n->text, d);
        MOVE(n->vals, d);
        MOVE(n->x, d);
        if (n->x != NULL) {
            struct entry_x *x = n->x;
            MOVE(x->why, d);
            MOVE(x->rules, d);
            MOVE(x->imports, d);
            MOVE(x->json, d);
            MOVE(x->valid_until_text, d);
            MOVE(x->pattern, d);
            MOVE(x->pattern_type, d);
            MOVE(x->valid_from, d);
            MOVE(x->created, d);
        }
        if (e->r != NULL) {
            struct rendered *r = cairn__export_alloc(ex, e->r->blk);
            if (r == NULL)
                goto fail;
            memcpy(r, e->r, e->r->blk);
            d = (char *)r - (char *)e->r;
            MOVE(r->pieces, d);
            MOVE(r->text, d);
            MOVE(r->why, d);
            MOVE(r->imports, d);
            n->r = r;
        }
        moved[i] = n;
    }
    memcpy(ex->ents, moved, ex->n_ents * sizeof *moved);
    cairn_free(moved);
    while (old != NULL) {
        struct slab_blk *next = old->next;
        cairn_free(old);
        old = next;
    }
    return 0;
fail:
    /* out of memory: what was copied is dropped, the old blocks stay */
    {
        struct slab_blk *b = ex->slab;
        while (b != NULL) {
            struct slab_blk *next = b->next;
            cairn_free(b);
            b = next;
        }
    }
    ex->slab = old;
    ex->slab_live = live;
    ex->slab_waste = waste;
    cairn_free(moved);
    return CAIRN_ENOMEM;
}
