/* SPDX-License-Identifier: Apache-2.0 */
/* The exact-value index: one open-addressing table and a Bloom filter. */
#include <stdint.h>
#include <sys/mman.h>

#include "hunt/hunt_int.h"

#define HUGE_PAGE ((size_t)2 << 20)

/*
 * `len` zeroed bytes for a table the matcher probes at random. A table of
 * megabytes is put on 2 MiB boundaries and offered huge pages: with 4 KiB
 * pages nearly every probe of a large set would also miss the TLB (and a
 * page walk is dear in a virtual machine). *mem is what to free.
 */
static void *table_alloc(size_t len, void **mem)
{
    if (len < HUGE_PAGE) {
        *mem = cairn_calloc(1, len);
        return *mem;
    }
    *mem = cairn_malloc(len + HUGE_PAGE);
    if (*mem == NULL)
        return NULL;
    uintptr_t a =
        ((uintptr_t)*mem + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)a, len, MADV_HUGEPAGE);
#endif
    /* zeroed after the advice, so that the first touch gets huge pages */
    memset((void *)a, 0, len);
    return (void *)a;
}

uint64_t cairn__hunt_key_hash(enum cairn_ioc_type t, const char *key, size_t len,
                       unsigned *labels_out)
{
    unsigned labels = 0;
    uint64_t h;
    if (labels_out != NULL)
        *labels_out = 0;
    if (t == CAIRN_IOC_IPV4 && len == 5) {
        /* a prefix: one multiply chain, not a byte-string hash */
        const uint8_t *b = (const uint8_t *)key;
        return hunt_v4_hash(b[0], (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
                                      (uint32_t)b[3] << 8 | b[4]);
    }
    if (t == CAIRN_IOC_IPV4)
        return hunt_v4_text_hash(key, len); /* one address, as text */
    if (t != CAIRN_IOC_DOMAIN)
        return hunt_hash(key, len, hunt_seed(t), hunt_caseless(t));
    /*
     * Domains hash label by label from the right, so that a lookup gets
     * the hash of every parent domain on its way to the full name.
     */
    h = hunt_seed(t);
    size_t end = len;
    for (size_t i = len; i > 0; i--) {
        if (key[i - 1] == '.') {
            h = hunt_domain_step(h, key, len, i, end);
            labels++;
            end = i - 1;
        }
    }
    h = hunt_domain_step(h, key, len, 0, end);
    labels++;
    if (labels_out != NULL)
        *labels_out = labels;
    return h;
}

static bool key_equal(const struct cairn_hunt_set *set, const struct hkey *k,
                      enum cairn_ioc_type t, const char *s, size_t len)
{
    if (k->type != t || k->len != len)
        return false;
    const char *a = set->text + k->off;
    if (!hunt_caseless(t))
        return memcmp(a, s, len) == 0;
    /* stored keys are lower case already */
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (a[i] != c)
            return false;
    }
    return true;
}

uint32_t cairn__hunt_index_find_slot(const struct cairn_hunt_set *set, uint64_t h,
                              enum cairn_ioc_type t, const char *key,
                              size_t len)
{
    uint64_t fp = h >> 32;
    for (uint64_t i = h & set->slot_mask;; i = (i + 1) & set->slot_mask) {
        uint64_t s = set->slots[i];
        if (s == 0)
            return HUNT_NONE;
        if ((s >> 32) != fp)
            continue;
        uint32_t k = (uint32_t)s - 1;
        if (key_equal(set, &set->keys[k], t, key, len))
            return k;
    }
}

uint32_t cairn__hunt_index_find(const struct cairn_hunt_set *set, uint64_t h,
                         enum cairn_ioc_type t, const char *key, size_t len)
{
    if (!hunt_bloom_maybe(set, h))
        return HUNT_NONE;
    return cairn__hunt_index_find_slot(set, h, t, key, len);
}

/* Whether key `n`, equal to the keys chained from `head`, repeats a list
 * entry among them: the same type and normalised value, hence the same id. */
static bool list_repeat(const struct cairn_hunt_set *set, uint32_t head,
                        const struct hkey *k)
{
    const struct hind *b = &set->inds[k->ind];
    if (!(b->flags & IND_LIST))
        return false;
    for (uint32_t j = head; j != HUNT_NONE; j = set->keys[j].next) {
        const struct hind *a = &set->inds[set->keys[j].ind];
        if ((a->flags & IND_LIST) && a->type == b->type &&
            a->name_len == b->name_len &&
            memcmp(set->text + a->name_off, set->text + b->name_off,
                   b->name_len) == 0)
            return true;
    }
    return false;
}

/* Put key `n` with hash `h` in the table; true when it is a repeat. */
static bool insert(struct cairn_hunt_set *set, size_t n, uint64_t h)
{
    struct hkey *k = &set->keys[n];
    const char *s = set->text + k->off;
    uint64_t b = h * HUNT_K1;
    set->bloom[(b >> set->bloom_shift) & set->bloom_mask] |=
        (1ULL << (b & 63)) | (1ULL << ((b >> 6) & 63)) |
        (1ULL << ((b >> 12) & 63));
    uint64_t fp = h >> 32;
    for (uint64_t i = h & set->slot_mask;; i = (i + 1) & set->slot_mask) {
        uint64_t sl = set->slots[i];
        if (sl == 0) {
            set->slots[i] = fp << 32 | (uint64_t)(n + 1);
            return false;
        }
        if ((sl >> 32) != fp)
            continue;
        uint32_t hi = (uint32_t)sl - 1;
        struct hkey *head = &set->keys[hi];
        if (key_equal(set, head, k->type, s, k->len)) {
            if (list_repeat(set, hi, k))
                return true;
            /* same value again: chain it behind the first */
            k->next = head->next;
            head->next = (uint32_t)n;
            return false;
        }
    }
}

/* Drop the repeated list entries, renumbering keys and indicators. */
static int drop_repeats(struct cairn_hunt_set *set)
{
    uint32_t *ind_to = cairn_malloc((set->n_inds + 1) * sizeof *ind_to);
    uint32_t *key_to = cairn_malloc((set->n_keys + 1) * sizeof *key_to);
    if (ind_to == NULL || key_to == NULL) {
        cairn_free(ind_to);
        cairn_free(key_to);
        return CAIRN_ENOMEM;
    }
    size_t ni = 0;
    for (size_t i = 0; i < set->n_inds; i++) {
        if (set->inds[i].flags & IND_DUP) {
            ind_to[i] = HUNT_NONE;
            set->duplicates++;
            continue;
        }
        ind_to[i] = (uint32_t)ni;
        set->inds[ni++] = set->inds[i];
    }
    set->n_inds = ni;
    size_t nk = 0;
    for (size_t i = 0; i < set->n_keys; i++) {
        struct hkey k = set->keys[i];
        if (ind_to[k.ind] == HUNT_NONE) {
            /* a list entry has one key: it was not put in the table */
            key_to[i] = HUNT_NONE;
            set->count[k.type]--;
            continue;
        }
        k.ind = ind_to[k.ind];
        key_to[i] = (uint32_t)nk;
        set->keys[nk++] = k;
    }
    set->n_keys = nk;
    for (size_t i = 0; i < nk; i++)
        if (set->keys[i].next != HUNT_NONE)
            set->keys[i].next = key_to[set->keys[i].next];
    for (uint64_t i = 0; i <= set->slot_mask; i++) {
        uint64_t sl = set->slots[i];
        if (sl != 0)
            set->slots[i] = (sl & ~0xFFFFFFFFULL) |
                            (uint64_t)(key_to[(uint32_t)sl - 1] + 1);
    }
    for (size_t i = 0; i < set->n_regexes; i++)
        set->regexes[i].ind = ind_to[set->regexes[i].ind];
    cairn_free(ind_to);
    cairn_free(key_to);
    return 0;
}

/* Keys hashed, and their table lines prefetched, before they go in. */
#define BUILD_BATCH 16

int cairn__hunt_index_build(struct cairn_hunt_set *set)
{
    size_t cap = 16;
    while (cap < set->n_keys * 2)
        cap <<= 1;
    /* about 16 bits of filter per key: a few percent false positives */
    size_t words = 4;
    while (words * 4 < set->n_keys)
        words <<= 1;
    set->slots = table_alloc(cap * sizeof *set->slots, &set->slots_mem);
    set->bloom = table_alloc(words * sizeof *set->bloom, &set->bloom_mem);
    if (set->slots == NULL || set->bloom == NULL)
        return CAIRN_ENOMEM;
    set->slot_mask = cap - 1;
    set->bloom_mask = words - 1;
    set->bloom_shift = 40;

    size_t repeats = 0;
    uint64_t hs[BUILD_BATCH];
    for (size_t base = 0; base < set->n_keys; base += BUILD_BATCH) {
        size_t m = set->n_keys - base;
        if (m > BUILD_BATCH)
            m = BUILD_BATCH;
        for (size_t j = 0; j < m; j++) {
            const struct hkey *k = &set->keys[base + j];
            unsigned labels = 0;
            uint64_t h =
                cairn__hunt_key_hash(k->type, set->text + k->off, k->len, &labels);
            if (k->type == CAIRN_IOC_DOMAIN) {
                unsigned l = labels > 63 ? 63 : labels;
                set->domain_labels |= 1ULL << l;
                if (l > set->domain_max_labels)
                    set->domain_max_labels = l;
            }
            __builtin_prefetch(&set->slots[h & set->slot_mask], 1);
            __builtin_prefetch(hunt_bloom_word(set, h), 1);
            hs[j] = h;
        }
        for (size_t j = 0; j < m; j++) {
            if (insert(set, base + j, hs[j])) {
                set->inds[set->keys[base + j].ind].flags |= IND_DUP;
                repeats++;
            }
        }
    }
    return repeats > 0 ? drop_repeats(set) : 0;
}

int cairn__hunt_regex_compile(struct cairn_hunt_set *set, const char *const *exprs,
                       const unsigned *flags, struct cairn_diag *diag)
{
    hs_compile_error_t *err = NULL;
    unsigned *ids = NULL;
    int rc = CAIRN_EINTERNAL;

    if (set->n_regexes == 0)
        return 0;
    ids = cairn_malloc(set->n_regexes * sizeof *ids);
    if (ids == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < set->n_regexes; i++)
        ids[i] = (unsigned)i;
    if (hs_compile_multi(exprs, flags, ids, (unsigned)set->n_regexes,
                         HS_MODE_BLOCK, NULL, &set->db, &err) != HS_SUCCESS) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "hunt-regex",
                       "Vectorscan cannot compile the regular expressions: %s",
                       err != NULL && err->message ? err->message : "?");
        set->db = NULL;
        goto out;
    }
    rc = 0;
out:
    hs_free_compile_error(err);
    cairn_free(ids);
    return rc;
}
