/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The probe index of a segment (format 2): what a retro-hunt looks its
 * indicators up in, so that it reads the values it may hit, not all.
 *
 * Every distinct value gives the keys the matcher of `cairn hunt` could
 * look it up under (its domain and every parent domain, its normalised
 * URL, a URL's or e-mail address's host, its exact text as each type its
 * shape allows); an address goes into a sorted array instead, which a
 * CIDR block is a range of. The index only narrows: every value found is
 * matched again by the real matcher, so that a collision costs time,
 * never a false hit, while a value the matcher would hit is always found.
 */
#include <stdlib.h>
#include <string.h>

#include "archive/archive_int.h"

/* ---- the key hash (on disk: never change it) ------------------------------ */

static inline uint64_t load_le64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t lower64(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t low7 = w & (ones * 0x7f);
    uint64_t ge_a = low7 + ones * (0x80 - 'A');
    uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1);
    uint64_t upper = ge_a & ~gt_z & ~w & (ones * 0x80);
    return w | (upper >> 2);
}

static bool caseless(enum cairn_ioc_type t)
{
    return t == CAIRN_IOC_DOMAIN || t == CAIRN_IOC_EMAIL ||
           t == CAIRN_IOC_MD5 || t == CAIRN_IOC_SHA1 ||
           t == CAIRN_IOC_SHA256 || t == CAIRN_IOC_SHA512 ||
           t == CAIRN_IOC_REGKEY;
}

uint64_t cairn__seg_key_hash(enum cairn_ioc_type t, const char *s, size_t len)
{
    bool fold = caseless(t);
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)t << 56) ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = load_le64(s + i);
        if (fold)
            w = lower64(w);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t k = 0; i + k < len; k++)
        w |= (uint64_t)(uint8_t)s[i + k] << (8 * k);
    if (fold)
        w = lower64(w);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

/* ---- the keys of one value ------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 4096;
    void *q = cairn__seg_grow(*p, *cap * size, c * size);
    if (q == NULL)
        return CAIRN_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static void add_hash(struct seg_keys *k, enum cairn_ioc_type t, const char *s,
                     size_t len)
{
    if (len == 0 || k->err < 0)
        return;
    if (grow((void **)&k->pairs, &k->cap_pairs, k->n_pairs,
             sizeof *k->pairs) < 0) {
        k->err = CAIRN_ENOMEM;
        return;
    }
    k->pairs[k->n_pairs++] =
        (struct seg_pair){cairn__seg_key_hash(t, s, len), k->vid};
}

static void add_v4(struct seg_keys *k, uint32_t a)
{
    if (k->err < 0)
        return;
    if (grow((void **)&k->v4, &k->cap_v4, k->n_v4, sizeof *k->v4) < 0) {
        k->err = CAIRN_ENOMEM;
        return;
    }
    k->v4[k->n_v4++] = (uint64_t)a << 32 | k->vid;
}

static void add_v6(struct seg_keys *k, const uint8_t a[16])
{
    if (k->err < 0)
        return;
    if (grow((void **)&k->v6, &k->cap_v6, k->n_v6, sizeof *k->v6) < 0) {
        k->err = CAIRN_ENOMEM;
        return;
    }
    struct seg_v6 *e = &k->v6[k->n_v6++];
    memcpy(e->a, a, 16);
    e->vid = k->vid;
    e->pad = 0;
}

/* The domain and each parent (the matcher's suffix look-ups). */
static void domain_keys(struct seg_keys *k, const char *v, size_t len)
{
    if (len > 0 && v[len - 1] == '.')
        len--;
    size_t p = 0;
    while (p < len) {
        add_hash(k, CAIRN_IOC_DOMAIN, v + p, len - p);
        const char *dot = memchr(v + p, '.', len - p);
        if (dot == NULL)
            break;
        p = (size_t)(dot - v) + 1;
    }
}

/* An address in text (the matcher's lookup_ip); false when it is not one. */
static bool ip_keys(struct seg_keys *k, const char *v, size_t len)
{
    uint32_t a4;
    uint8_t a[16];
    if (cairn_ipv4_parse(v, len, &a4)) {
        add_v4(k, a4);
        return true;
    }
    if (len >= 2 && memchr(v, ':', len) != NULL &&
        cairn__hunt_parse_ipv6(v, len, a)) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0)
            add_v4(k, (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
                          (uint32_t)a[14] << 8 | a[15]);
        add_v6(k, a);
        return true;
    }
    return false;
}

static void url_keys(struct seg_keys *k, const char *v, size_t len)
{
    size_t hs = 0, he = 0;
    const char *host;
    size_t hl;
    bool parts = cairn__hunt_url_norm_host(v, len, &hs, &he);
    if (len <= CAIRN_VALUE_URL_MAX) {
        int n = cairn_hunt_url_normalize(v, len, k->url, sizeof k->url);
        if (n > 0)
            add_hash(k, CAIRN_IOC_URL, k->url, (size_t)n);
    }
    bool got;
    if (parts && he > hs && v[hs] != '[' &&
        memchr(v + hs, ':', he - hs) == NULL) {
        host = v + hs;
        hl = he - hs;
        got = true;
    } else {
        got = cairn__hunt_url_host(v, len, &host, &hl);
    }
    if (got && !ip_keys(k, host, hl))
        domain_keys(k, host, hl);
}

static void email_keys(struct seg_keys *k, const char *v, size_t len)
{
    const char *at = memrchr(v, '@', len);
    add_hash(k, CAIRN_IOC_EMAIL, v, len);
    if (at != NULL)
        domain_keys(k, at + 1, len - (size_t)(at + 1 - v));
}

void cairn__seg_value_keys(struct seg_keys *k, enum cairn_ioc_type t,
                           const char *v, size_t len, uint32_t vid)
{
    k->vid = vid;
    if (v == NULL || len == 0)
        return;
    switch (t) {
    case CAIRN_IOC_DOMAIN:
        domain_keys(k, v, len);
        return;
    case CAIRN_IOC_IPV4:
    case CAIRN_IOC_IPV6:
        ip_keys(k, v, len);
        return;
    case CAIRN_IOC_URL:
        url_keys(k, v, len);
        return;
    case CAIRN_IOC_EMAIL:
        email_keys(k, v, len);
        return;
    case CAIRN_IOC_MD5:
    case CAIRN_IOC_SHA1:
    case CAIRN_IOC_SHA256:
    case CAIRN_IOC_SHA512: {
        enum cairn_ioc_type h = cairn__hunt_hash_type(len);
        if (h != CAIRN_IOC_UNKNOWN)
            add_hash(k, h, v, len);
        return;
    }
    case CAIRN_IOC_FILENAME:
    case CAIRN_IOC_REGKEY:
        add_hash(k, t, v, len);
        return;
    case CAIRN_IOC_STRING:
        break;
    default:
        return;
    }
    /* an untyped string: every type its shape allows (match_field) */
    add_hash(k, CAIRN_IOC_FILENAME, v, len);
    add_hash(k, CAIRN_IOC_REGKEY, v, len);
    if (len >= 4 && memmem(v, len, "://", 3) != NULL) {
        url_keys(k, v, len);
    } else if (memchr(v, '@', len) != NULL) {
        email_keys(k, v, len);
    } else if (cairn__hunt_hash_type(len) != CAIRN_IOC_UNKNOWN &&
               cairn__hunt_is_hex(v, len)) {
        add_hash(k, cairn__hunt_hash_type(len), v, len);
    } else if (ip_keys(k, v, len)) {
        /* an address */
    } else if (memchr(v, '.', len) != NULL) {
        domain_keys(k, v, len);
    }
}

void cairn__seg_keys_release(struct seg_keys *k)
{
    cairn_free(k->pairs);
    cairn_free(k->v4);
    cairn_free(k->v6);
    memset(k, 0, sizeof *k);
}

/* ---- building the sections -------------------------------------------------- */

static void put32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static void put64(uint8_t *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)p[i] << (8 * i);
    return x;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

static int cmp_pair(const void *x, const void *y)
{
    const struct seg_pair *a = x, *b = y;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return a->vid < b->vid ? -1 : a->vid > b->vid;
}

/* Sort address << 32 | value by address, stably: two passes of 16 bits. */
static int radix_v4(uint64_t *v, size_t n)
{
    if (n < 2)
        return 0;
    uint64_t *tmp = cairn_malloc(n * sizeof *tmp);
    uint32_t *count = cairn_malloc(65537 * sizeof *count);
    if (tmp == NULL || count == NULL) {
        cairn_free(tmp);
        cairn_free(count);
        return CAIRN_ENOMEM;
    }
    for (unsigned shift = 32; shift < 64; shift += 16) {
        memset(count, 0, 65537 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((v[i] >> shift) & 0xFFFF) + 1]++;
        for (size_t b = 0; b < 65536; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i] >> shift) & 0xFFFF]++] = v[i];
        memcpy(v, tmp, n * sizeof *v);
    }
    cairn_free(tmp);
    cairn_free(count);
    return 0;
}

static int cmp_v6(const void *x, const void *y)
{
    const struct seg_v6 *a = x, *b = y;
    int c = memcmp(a->a, b->a, 16);
    if (c != 0)
        return c;
    return a->vid < b->vid ? -1 : a->vid > b->vid;
}

/* Sort within each of the buckets [start[i], start[i + 1]). */
static void sort_buckets(struct seg_pair *p, const uint32_t *start,
                         size_t n_buckets)
{
    for (size_t b = 0; b < n_buckets; b++) {
        struct seg_pair *v = p + start[b];
        size_t n = start[b + 1] - start[b];
        if (n > 24) {
            qsort(v, n, sizeof *v, cmp_pair);
            continue;
        }
        for (size_t i = 1; i < n; i++) {
            struct seg_pair x = v[i];
            size_t j = i;
            while (j > 0 && cmp_pair(&v[j - 1], &x) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
    }
}

static unsigned bits_for(size_t n)
{
    unsigned b = 0;
    while (b < SEG_KEYS_MAX_BITS && ((size_t)1 << b) * 16 < n)
        b++;
    return b;
}

static inline uint32_t bucket_of(uint64_t h, unsigned bits)
{
    return bits == 0 ? 0 : (uint32_t)(h >> (64 - bits));
}

static inline uint32_t fp_of(uint64_t h, unsigned bits)
{
    return (uint32_t)((h << bits) >> 32);
}

int cairn__seg_keys_build(struct seg_keys *k, uint8_t **keys_out,
                          size_t *keys_len, uint8_t **addrs_out,
                          size_t *addrs_len)
{
    uint8_t *keys = NULL, *addrs = NULL;
    uint32_t *start = NULL;
    struct seg_pair *sorted = NULL;
    uint32_t *over = NULL;
    uint64_t *ents = NULL;
    size_t n_over = 0, cap_over = 0, n_ents = 0;
    int rc = CAIRN_ENOMEM;

    *keys_out = *addrs_out = NULL;
    *keys_len = *addrs_len = 0;
    if (k->err < 0)
        return k->err;
    unsigned bits = bits_for(k->n_pairs);
    size_t nb = (size_t)1 << bits;
    start = cairn_calloc(nb + 1, sizeof *start);
    sorted = cairn_malloc((k->n_pairs + 1) * sizeof *sorted);
    ents = cairn_malloc((k->n_pairs + 1) * sizeof *ents);
    if (start == NULL || sorted == NULL || ents == NULL)
        goto out;
    cairn__seg_huge(sorted, (k->n_pairs + 1) * sizeof *sorted);
    cairn__seg_huge(ents, (k->n_pairs + 1) * sizeof *ents);
    /* counting sort by bucket, then each bucket by hash */
    for (size_t i = 0; i < k->n_pairs; i++)
        start[bucket_of(k->pairs[i].h, bits) + 1]++;
    for (size_t b = 0; b < nb; b++)
        start[b + 1] += start[b];
    {
        uint32_t *fill = cairn_malloc((nb + 1) * sizeof *fill);
        if (fill == NULL)
            goto out;
        memcpy(fill, start, (nb + 1) * sizeof *fill);
        for (size_t i = 0; i < k->n_pairs; i++)
            sorted[fill[bucket_of(k->pairs[i].h, bits)]++] = k->pairs[i];
        cairn_free(fill);
    }
    sort_buckets(sorted, start, nb);
    /* one entry per distinct hash; the directory counts entries */
    uint32_t *dir = cairn_calloc(nb + 1, sizeof *dir);
    if (dir == NULL)
        goto out;
    for (size_t b = 0; b < nb; b++) {
        dir[b] = (uint32_t)n_ents;
        size_t i = start[b];
        while (i < start[b + 1]) {
            size_t j = i + 1;
            size_t distinct = 1;
            while (j < start[b + 1] && sorted[j].h == sorted[i].h) {
                if (sorted[j].vid != sorted[j - 1].vid)
                    distinct++;
                j++;
            }
            uint32_t ref;
            if (distinct == 1) {
                ref = sorted[i].vid;
            } else {
                size_t need = distinct > SEG_KEYS_MAX_LIST ? 1 : distinct + 1;
                while (n_over + need > cap_over) {
                    if (grow((void **)&over, &cap_over, n_over + need,
                             sizeof *over) < 0) {
                        cairn_free(dir);
                        goto out;
                    }
                }
                if (n_over >= 0x7fffffffu) {
                    cairn_free(dir);
                    rc = CAIRN_ETOOBIG;
                    goto out;
                }
                ref = 0x80000000u | (uint32_t)n_over;
                if (distinct > SEG_KEYS_MAX_LIST) {
                    over[n_over++] = 0; /* many: the values are scanned */
                } else {
                    over[n_over++] = (uint32_t)distinct;
                    for (size_t x = i; x < j; x++)
                        if (x == i || sorted[x].vid != sorted[x - 1].vid)
                            over[n_over++] = sorted[x].vid;
                }
            }
            ents[n_ents++] = (uint64_t)fp_of(sorted[i].h, bits) << 32 | ref;
            i = j;
        }
    }
    dir[nb] = (uint32_t)n_ents;
    size_t kl = SEG_KEYS_HEAD + (nb + 1) * 4 + n_ents * 8 + n_over * 4;
    keys = cairn_malloc(kl);
    if (keys == NULL) {
        cairn_free(dir);
        goto out;
    }
    put32(keys, bits);
    put32(keys + 4, 0);
    put64(keys + 8, n_ents);
    put64(keys + 16, n_over);
    uint8_t *q = keys + SEG_KEYS_HEAD;
    for (size_t b = 0; b <= nb; b++, q += 4)
        put32(q, dir[b]);
    for (size_t i = 0; i < n_ents; i++, q += 8)
        put64(q, ents[i]);
    for (size_t i = 0; i < n_over; i++, q += 4)
        put32(q, over[i]);
    cairn_free(dir);

    /* addresses: stable radix passes over the address (the upper half);
     * the values were added in order, so (address, value) comes out */
    rc = radix_v4(k->v4, k->n_v4);
    if (rc < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    if (k->n_v6 > 1)
        qsort(k->v6, k->n_v6, sizeof *k->v6, cmp_v6);
    size_t n4 = 0, n6 = 0;
    for (size_t i = 0; i < k->n_v4; i++)
        if (i == 0 || k->v4[i] != k->v4[i - 1])
            k->v4[n4++] = k->v4[i];
    for (size_t i = 0; i < k->n_v6; i++)
        if (i == 0 || cmp_v6(&k->v6[i], &k->v6[i - 1]) != 0)
            k->v6[n6++] = k->v6[i];
    /* IPv4: blocks of SEG_V4_BLOCK entries, varint deltas, and an index of
     * each block's first address and offset */
    size_t nb4 = (n4 + SEG_V4_BLOCK - 1) / SEG_V4_BLOCK;
    size_t al = SEG_ADDRS_HEAD + nb4 * 8 + n4 * 15 + n6 * 20;
    addrs = cairn_malloc(al);
    if (addrs == NULL)
        goto out;
    put64(addrs, n4);
    put64(addrs + 8, n6);
    put64(addrs + 16, nb4);
    uint8_t *ix = addrs + SEG_ADDRS_HEAD;
    q = ix + nb4 * 8;
    uint8_t *payload = q;
    for (size_t i = 0; i < n4; i++) {
        uint32_t addr = (uint32_t)(k->v4[i] >> 32), vid = (uint32_t)k->v4[i];
        uint32_t prev = 0;
        if (i % SEG_V4_BLOCK == 0) {
            put32(ix + (i / SEG_V4_BLOCK) * 8, addr);
            put32(ix + (i / SEG_V4_BLOCK) * 8 + 4, (uint32_t)(q - payload));
        } else {
            prev = (uint32_t)(k->v4[i - 1] >> 32);
        }
        uint64_t d = addr - prev;
        while (d >= 0x80) {
            *q++ = (uint8_t)(d | 0x80);
            d >>= 7;
        }
        *q++ = (uint8_t)d;
        uint64_t x = vid;
        while (x >= 0x80) {
            *q++ = (uint8_t)(x | 0x80);
            x >>= 7;
        }
        *q++ = (uint8_t)x;
    }
    put64(addrs + 24, (uint64_t)(q - payload));
    for (size_t i = 0; i < n6; i++, q += 20) {
        memcpy(q, k->v6[i].a, 16);
        put32(q + 16, k->v6[i].vid);
    }
    al = (size_t)(q - addrs);
    *keys_out = keys;
    *keys_len = kl;
    *addrs_out = addrs;
    *addrs_len = al;
    keys = addrs = NULL;
    rc = 0;
out:
    cairn_free(keys);
    cairn_free(addrs);
    cairn_free(start);
    cairn_free(sorted);
    cairn_free(ents);
    cairn_free(over);
    return rc;
}

/* ---- reading them ----------------------------------------------------------- */

int cairn__seg_probe_open(const uint8_t *keys, size_t keys_len,
                          const uint8_t *addrs, size_t addrs_len,
                          uint64_t values, struct seg_probe *p)
{
    memset(p, 0, sizeof *p);
    if (keys_len < SEG_KEYS_HEAD || addrs_len < SEG_ADDRS_HEAD)
        return CAIRN_EPARSE;
    uint32_t bits = get32(keys);
    uint64_t n_ents = get64(keys + 8), n_over = get64(keys + 16);
    if (bits > SEG_KEYS_MAX_BITS || get32(keys + 4) != 0 ||
        n_ents > keys_len / 8 || n_over > keys_len / 4)
        return CAIRN_EPARSE;
    size_t nb = (size_t)1 << bits;
    if (SEG_KEYS_HEAD + (nb + 1) * 4 + n_ents * 8 + n_over * 4 != keys_len)
        return CAIRN_EPARSE;
    uint64_t n4 = get64(addrs), n6 = get64(addrs + 8),
             nb4 = get64(addrs + 16), pay = get64(addrs + 24);
    if (n4 > addrs_len || n6 > addrs_len / 20 ||
        nb4 != (n4 + SEG_V4_BLOCK - 1) / SEG_V4_BLOCK ||
        pay > addrs_len ||
        SEG_ADDRS_HEAD + nb4 * 8 + pay + n6 * 20 != addrs_len)
        return CAIRN_EPARSE;
    p->bits = bits;
    p->dir = keys + SEG_KEYS_HEAD;
    p->ents = p->dir + (nb + 1) * 4;
    p->over = p->ents + n_ents * 8;
    p->n_ents = n_ents;
    p->n_over = n_over;
    p->v4 = addrs + SEG_ADDRS_HEAD;
    p->n4 = n4;
    p->nb4 = nb4;
    p->v4_pay = p->v4 + nb4 * 8;
    p->v4_pay_len = pay;
    p->v6 = p->v4_pay + pay;
    p->n6 = n6;
    p->values = values;
    return 0;
}

static int emit(const struct seg_probe *p, uint32_t vid, seg_probe_cb cb,
                void *ud)
{
    if (vid >= p->values)
        return CAIRN_EPARSE;
    return cb(vid, ud);
}

int cairn__seg_probe_hash(const struct seg_probe *p, uint64_t h,
                          seg_probe_cb cb, void *ud)
{
    uint32_t b = bucket_of(h, p->bits), fp = fp_of(h, p->bits);
    if (cairn__seg_pages_check(&p->kp, p->dir + (size_t)b * 4, 8) < 0)
        return CAIRN_EPARSE;
    uint64_t from = get32(p->dir + (size_t)b * 4),
             to = get32(p->dir + (size_t)b * 4 + 4);
    if (from > to || to > p->n_ents ||
        cairn__seg_pages_check(&p->kp, p->ents + from * 8,
                               (to - from) * 8) < 0)
        return CAIRN_EPARSE;
    for (uint64_t i = from; i < to; i++) {
        uint64_t e = get64(p->ents + i * 8);
        if ((uint32_t)(e >> 32) != fp)
            continue;
        uint32_t ref = (uint32_t)e;
        int rc;
        if (!(ref & 0x80000000u)) {
            if ((rc = emit(p, ref, cb, ud)) < 0)
                return rc;
            continue;
        }
        uint64_t o = ref & 0x7fffffffu;
        if (o >= p->n_over ||
            cairn__seg_pages_check(&p->kp, p->over + o * 4, 4) < 0)
            return CAIRN_EPARSE;
        uint32_t n = get32(p->over + o * 4);
        if (n == 0)
            return SEG_PROBE_MANY;
        if (n > p->n_over - o - 1 ||
            cairn__seg_pages_check(&p->kp, p->over + (o + 1) * 4,
                                   (uint64_t)n * 4) < 0)
            return CAIRN_EPARSE;
        for (uint32_t k = 0; k < n; k++)
            if ((rc = emit(p, get32(p->over + (o + 1 + k) * 4), cb, ud)) < 0)
                return rc;
    }
    return 0;
}

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = x;
            return true;
        }
    }
    return false;
}

int cairn__seg_probe_v4(const struct seg_probe *p, uint32_t lo, uint32_t hi,
                        seg_probe_cb cb, void *ud)
{
    if (p->nb4 == 0)
        return 0;
    /* the first block starting at lo or after, then one back (a run of
     * one address may begin in the block before) */
    uint64_t a = 0, b = p->nb4;
    while (a < b) {
        uint64_t m = a + (b - a) / 2;
        if (cairn__seg_pages_check(&p->ap, p->v4 + m * 8, 8) < 0)
            return CAIRN_EPARSE;
        if (get32(p->v4 + m * 8) < lo)
            a = m + 1;
        else
            b = m;
    }
    if (a > 0)
        a--;
    const uint8_t *end;
    for (uint64_t blk = a; blk < p->nb4; blk++) {
        if (cairn__seg_pages_check(&p->ap, p->v4 + blk * 8,
                                   blk + 1 < p->nb4 ? 16 : 8) < 0)
            return CAIRN_EPARSE;
        uint64_t off = get32(p->v4 + blk * 8 + 4);
        uint64_t n = blk + 1 < p->nb4 ? SEG_V4_BLOCK
                                      : p->n4 - blk * SEG_V4_BLOCK;
        /* the block's bytes end where the next one starts */
        uint64_t stop = blk + 1 < p->nb4 ? get32(p->v4 + blk * 8 + 12)
                                         : p->v4_pay_len;
        if (off > p->v4_pay_len || stop > p->v4_pay_len || stop < off ||
            cairn__seg_pages_check(&p->ap, p->v4_pay + off, stop - off) < 0)
            return CAIRN_EPARSE;
        end = p->v4_pay + stop;
        const uint8_t *q = p->v4_pay + off;
        uint64_t addr = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t d, vid;
            if (!varint(&q, end, &d) || !varint(&q, end, &vid) ||
                vid > UINT32_MAX)
                return CAIRN_EPARSE;
            addr += d;
            if (addr > hi)
                return 0;
            if (addr < lo)
                continue;
            int rc = emit(p, (uint32_t)vid, cb, ud);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int cairn__seg_probe_v6(const struct seg_probe *p, const uint8_t lo[16],
                        const uint8_t hi[16], seg_probe_cb cb, void *ud)
{
    uint64_t a = 0, b = p->n6;
    while (a < b) {
        uint64_t m = a + (b - a) / 2;
        if (cairn__seg_pages_check(&p->ap, p->v6 + m * 20, 20) < 0)
            return CAIRN_EPARSE;
        if (memcmp(p->v6 + m * 20, lo, 16) < 0)
            a = m + 1;
        else
            b = m;
    }
    for (; a < p->n6; a++) {
        const uint8_t *e = p->v6 + a * 20;
        if (cairn__seg_pages_check(&p->ap, e, 20) < 0)
            return CAIRN_EPARSE;
        if (memcmp(e, hi, 16) > 0)
            break;
        int rc = emit(p, get32(e + 16), cb, ud);
        if (rc < 0)
            return rc;
    }
    return 0;
}
