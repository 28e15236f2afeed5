/* SPDX-License-Identifier: Apache-2.0 */
/* The exact-value index: one open-addressing table and a Bloom filter. */
#include "hunt/hunt_int.h"

uint64_t hunt_key_hash(enum cairn_ioc_type t, const char *key, size_t len,
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

uint32_t hunt_index_find_slot(const struct cairn_hunt_set *set, uint64_t h,
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

uint32_t hunt_index_find(const struct cairn_hunt_set *set, uint64_t h,
                         enum cairn_ioc_type t, const char *key, size_t len)
{
    if (!hunt_bloom_maybe(set, h))
        return HUNT_NONE;
    return hunt_index_find_slot(set, h, t, key, len);
}

int hunt_index_build(struct cairn_hunt_set *set)
{
    size_t cap = 16;
    while (cap < set->n_keys * 2)
        cap <<= 1;
    /* about 16 bits of filter per key: a few percent false positives */
    size_t words = 4;
    while (words * 4 < set->n_keys)
        words <<= 1;
    set->slots = cairn_calloc(cap, sizeof *set->slots);
    set->bloom = cairn_calloc(words, sizeof *set->bloom);
    if (set->slots == NULL || set->bloom == NULL)
        return CAIRN_ENOMEM;
    set->slot_mask = cap - 1;
    set->bloom_mask = words - 1;
    set->bloom_shift = 40;

    for (size_t n = 0; n < set->n_keys; n++) {
        struct hkey *k = &set->keys[n];
        unsigned labels = 0;
        const char *s = set->text + k->off;
        uint64_t h = hunt_key_hash(k->type, s, k->len, &labels);
        if (k->type == CAIRN_IOC_DOMAIN) {
            unsigned l = labels > 63 ? 63 : labels;
            set->domain_labels |= 1ULL << l;
            if (l > set->domain_max_labels)
                set->domain_max_labels = l;
        }
        uint64_t b = h * HUNT_K1;
        set->bloom[(b >> set->bloom_shift) & set->bloom_mask] |=
            (1ULL << (b & 63)) | (1ULL << ((b >> 6) & 63)) |
            (1ULL << ((b >> 12) & 63));
        uint64_t fp = h >> 32;
        for (uint64_t i = h & set->slot_mask;; i = (i + 1) & set->slot_mask) {
            uint64_t sl = set->slots[i];
            if (sl == 0) {
                set->slots[i] = fp << 32 | (uint64_t)(n + 1);
                break;
            }
            if ((sl >> 32) != fp)
                continue;
            struct hkey *head = &set->keys[(uint32_t)sl - 1];
            if (key_equal(set, head, k->type, s, k->len)) {
                /* same value again: chain it behind the first */
                k->next = head->next;
                head->next = (uint32_t)n;
                break;
            }
        }
    }
    return 0;
}

int hunt_regex_compile(struct cairn_hunt_set *set, const char *const *exprs,
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
