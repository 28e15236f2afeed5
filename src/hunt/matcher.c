/* SPDX-License-Identifier: Apache-2.0 */
/* The matcher: per-thread lookups of event fields in a compiled set. */
#include <stddef.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hunt/hunt_int.h"

/* Formula indicators touched by one event, and hits already reported. */
#define MAX_PENDING 1024
#define MAX_DONE    256
#define ID_CACHE    64
/* Look-ups queued before their Bloom filter words are read. */
#define MAX_PROBES 32
/*
 * A Bloom filter up to this size stays in the CPU cache: its words are
 * read at once, without the queue (and the table looked up at once for
 * the few values that pass).
 */
#define DIRECT_BLOOM_BYTES ((size_t)256 << 10)

/*
 * One queued look-up. The hashes of an event's values are computed first
 * and their Bloom filter words prefetched, so that the cache misses of a
 * large set overlap instead of following one another.
 */
struct probe {
    uint64_t h;
    const char *key; /* NULL: the key is kb */
    const char *value;
    uint32_t klen;
    uint32_t vlen;
    uint32_t field;
    uint8_t type;
    bool maybe;
    uint8_t kb[17];
};

struct pending {
    uint32_t ind;
    uint8_t type;
    uint64_t mask;
    size_t field;
    const char *value;
    size_t len;
};

struct done {
    uint32_t ind;
    const char *value;
    size_t len;
};

/* What a callback receives; cairn_hunt_hit_get_detail finds the rest. */
struct hit_ext {
    struct cairn_hunt_hit hit;
    struct cairn_hunt_hit_detail detail;
};

struct cairn_hunt_matcher {
    const struct cairn_hunt_set *set;
    hs_scratch_t *scratch;
    char url[HUNT_URL_MAX + 2];
    /* the event being matched */
    const struct cairn_hunt_event *ev;
    cairn_hunt_hit_cb cb;
    void *ud;
    int hits;
    bool partial; /* formula indicators hit on any comparison */
    size_t field;
    /* the value being scanned by Vectorscan */
    const char *re_value;
    size_t re_len;
    uint32_t re_accept; /* bit per enum cairn_ioc_type */
    enum cairn_ioc_type re_type;
    struct pending pend[MAX_PENDING];
    size_t n_pend;
    struct done done[MAX_DONE];
    size_t n_done;
    struct probe probes[MAX_PROBES];
    size_t n_probes;
    bool direct; /* the set's Bloom filter is small: no queue */
    /* the host of the last URL field, looked up with it: the extractor
     * gives it again as the next field, to be looked up only once */
    const char *url_host;
    size_t url_host_len;
    size_t url_field;
    struct {
        uint32_t ind;
        char id[CAIRN_HUNT_ID_MAX];
    } ids[ID_CACHE];
};

int cairn_hunt_matcher_new(const struct cairn_hunt_set *set,
                           struct cairn_hunt_matcher **out)
{
    *out = NULL;
    if (set == NULL)
        return CAIRN_EINVAL;
    struct cairn_hunt_matcher *m = cairn_calloc(1, sizeof *m);
    if (m == NULL)
        return CAIRN_ENOMEM;
    m->set = set;
    m->direct = (set->bloom_mask + 1) * sizeof *set->bloom <=
                DIRECT_BLOOM_BYTES;
    for (size_t i = 0; i < ID_CACHE; i++)
        m->ids[i].ind = HUNT_NONE;
    if (set->db != NULL &&
        hs_alloc_scratch(set->db, &m->scratch) != HS_SUCCESS) {
        cairn_free(m);
        return CAIRN_ENOMEM;
    }
    *out = m;
    return 0;
}

void cairn_hunt_matcher_free(struct cairn_hunt_matcher *m)
{
    if (m == NULL)
        return;
    hs_free_scratch(m->scratch);
    cairn_free(m);
}

void cairn__hunt_matcher_queue(struct cairn_hunt_matcher *m)
{
    m->direct = false;
}

void cairn_hunt_matcher_set_partial(struct cairn_hunt_matcher *m,
                                    bool partial)
{
    m->partial = partial;
}

void cairn_hunt_hit_get_detail(const struct cairn_hunt_hit *hit,
                               struct cairn_hunt_hit_detail *out)
{
    const struct hit_ext *x =
        (const struct hit_ext *)((const char *)hit -
                                 offsetof(struct hit_ext, hit));
    *out = x->detail;
}

static const char *indicator_id(struct cairn_hunt_matcher *m, uint32_t ind)
{
    const struct hind *h = &m->set->inds[ind];
    size_t slot = ind % ID_CACHE;
    if (m->ids[slot].ind == ind)
        return m->ids[slot].id;
    if (h->flags & IND_LIST) {
        /* derived, not stored: a SHA-1 per distinct hit, not per entry */
        if (cairn__hunt_list_id(m->set, h, m->ids[slot].id) != 0)
            return NULL;
    } else {
        cairn__hunt_format_id(m->set->uuids[h->id], m->ids[slot].id);
    }
    m->ids[slot].ind = ind;
    return m->ids[slot].id;
}

static void emit(struct cairn_hunt_matcher *m, uint32_t ind,
                 enum cairn_ioc_type type, const char *value, size_t len,
                 size_t field, bool confirm)
{
    for (size_t i = 0; i < m->n_done; i++)
        if (m->done[i].ind == ind && m->done[i].value == value &&
            m->done[i].len == len)
            return;
    if (m->n_done < MAX_DONE)
        m->done[m->n_done++] = (struct done){ind, value, len};
    const struct hind *h = &m->set->inds[ind];
    struct hit_ext x = {
        .hit =
            {
                .indicator_id = indicator_id(m, ind),
                .indicator_name = h->name_off != HUNT_NONE
                                      ? m->set->text + h->name_off
                                      : NULL,
                .type = type,
                .value = value,
                .value_len = len,
                .event = m->ev,
            },
        .detail =
            {
                .indicator = ind,
                .needs_confirmation = confirm || (h->flags & IND_CONFIRM),
                .field_name = m->ev->fields[field].name,
            },
    };
    if (x.hit.indicator_id == NULL)
        return;
    m->hits++;
    m->cb(&x.hit, m->ud);
}

/* Comparison `atom` of indicator `ind` holds for this value. */
static void on_atom(struct cairn_hunt_matcher *m, uint32_t ind, unsigned atom,
                    enum cairn_ioc_type type, const char *value, size_t len)
{
    const struct hind *h = &m->set->inds[ind];
    if (!(h->flags & IND_FORMULA)) {
        emit(m, ind, type, value, len, m->field, false);
        return;
    }
    for (size_t i = 0; i < m->n_pend; i++) {
        if (m->pend[i].ind == ind) {
            m->pend[i].mask |= 1ULL << atom;
            return;
        }
    }
    if (m->n_pend == MAX_PENDING) {
        /* too many to track: report it as a candidate rather than lose it */
        emit(m, ind, type, value, len, m->field, true);
        return;
    }
    m->pend[m->n_pend++] = (struct pending){
        ind, (uint8_t)type, 1ULL << atom, m->field, value, len,
    };
}

/* Run the queued look-ups in the order they were queued. */
static void flush(struct cairn_hunt_matcher *m)
{
    const struct cairn_hunt_set *set = m->set;
    size_t n = m->n_probes;
    if (n == 0)
        return;
    m->n_probes = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        struct probe *p = &m->probes[i];
        p->maybe = hunt_bloom_maybe(set, p->h);
        if (p->maybe) {
            __builtin_prefetch(&set->slots[p->h & set->slot_mask]);
            any = true;
        }
    }
    if (!any)
        return;
    size_t field = m->field;
    for (size_t i = 0; i < n; i++) {
        const struct probe *p = &m->probes[i];
        if (!p->maybe)
            continue;
        enum cairn_ioc_type t = (enum cairn_ioc_type)p->type;
        uint32_t k = cairn__hunt_index_find_slot(
            set, p->h, t, p->key ? p->key : (const char *)p->kb, p->klen);
        m->field = p->field;
        while (k != HUNT_NONE) {
            const struct hkey *hk = &set->keys[k];
            on_atom(m, hk->ind, hk->atom, t, p->value, p->vlen);
            k = hk->next;
        }
    }
    m->field = field;
}

/* The table look-up of a value that passed the Bloom filter, at once. */
static void probe_found(struct cairn_hunt_matcher *m, uint64_t h,
                        enum cairn_ioc_type t, const char *key, size_t len,
                        const uint8_t *kb, const char *value,
                        size_t value_len)
{
    const struct cairn_hunt_set *set = m->set;
    uint32_t k = cairn__hunt_index_find_slot(
        set, h, t, key != NULL ? key : (const char *)kb, len);
    while (k != HUNT_NONE) {
        const struct hkey *hk = &set->keys[k];
        on_atom(m, hk->ind, hk->atom, t, value, value_len);
        k = hk->next;
    }
}

/* Queue a look-up; `key` NULL: the key's bytes are copied from `kb`. */
static void probe_queue(struct cairn_hunt_matcher *m, uint64_t h,
                        enum cairn_ioc_type t, const char *key, size_t len,
                        const uint8_t *kb, const char *value,
                        size_t value_len)
{
    if (m->n_probes == MAX_PROBES)
        flush(m);
    __builtin_prefetch(hunt_bloom_word(m->set, h));
    struct probe *p = &m->probes[m->n_probes++];
    p->h = h;
    p->key = key;
    p->klen = (uint32_t)len;
    p->value = value;
    p->vlen = (uint32_t)value_len;
    p->field = (uint32_t)m->field;
    p->type = (uint8_t)t;
    if (kb != NULL)
        memcpy(p->kb, kb, len);
}

/*
 * Look a key up; `key` NULL: its bytes are `kb`. With a small set
 * (m->direct) it is made at once (the queue is empty then, so the hits
 * come in the same order), the Bloom filter tested inline: most values
 * stop at it.
 */
static inline void probe(struct cairn_hunt_matcher *m, uint64_t h,
                         enum cairn_ioc_type t, const char *key, size_t len,
                         const uint8_t *kb, const char *value,
                         size_t value_len)
{
    if (!m->direct)
        probe_queue(m, h, t, key, len, kb, value, value_len);
    else if (hunt_bloom_maybe(m->set, h))
        probe_found(m, h, t, key, len, kb, value, value_len);
}

/* The label hashes of a domain longer than the fast path takes. */
static void lookup_domain_slow(struct cairn_hunt_matcher *m, const char *v,
                               size_t len, size_t full)
{
    const struct cairn_hunt_set *set = m->set;
    uint64_t h = hunt_seed(CAIRN_IOC_DOMAIN);
    size_t end = len;
    unsigned labels = 0;
    size_t max = set->max_len[CAIRN_IOC_DOMAIN];
    while (end > 0) {
        const char *dot = memrchr(v, '.', end);
        size_t start = dot != NULL ? (size_t)(dot - v) + 1 : 0;
        h = hunt_domain_step(h, v, len, start, end);
        labels++;
        if (len - start > max)
            return;
        if (set->domain_labels & (1ULL << (labels > 63 ? 63 : labels)))
            probe(m, h, CAIRN_IOC_DOMAIN, v + start, len - start, NULL, v,
                  full);
        if (dot == NULL || labels >= set->domain_max_labels)
            break;
        end = start - 1;
    }
}

static void lookup_domain(struct cairn_hunt_matcher *m, const char *v,
                          size_t len)
{
    const struct cairn_hunt_set *set = m->set;
    size_t full = len;
    if (set->count[CAIRN_IOC_DOMAIN] == 0)
        return;
    if (len > 0 && v[len - 1] == '.')
        len--;
    if (len == 0)
        return;
    if (len > 64 || set->domain_max_labels >= 63) {
        lookup_domain_slow(m, v, len, full);
        return;
    }
    /* A bit per dot: the labels are then found without a byte loop. */
    uint64_t dots = 0;
#if defined(__SSE2__)
    if (len >= 16) {
        const __m128i vdot = _mm_set1_epi8('.');
        for (size_t i = 0; i < len; i += 16) {
            size_t at = i + 16 <= len ? i : len - 16;
            __m128i x =
                _mm_loadu_si128((const __m128i *)(const void *)(v + at));
            dots |=
                (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vdot))
                << at;
        }
    } else
#endif
    {
        for (size_t i = 0; i < len; i++)
            dots |= (uint64_t)(v[i] == '.') << i;
    }
    uint64_t h = hunt_seed(CAIRN_IOC_DOMAIN);
    size_t end = len;
    unsigned labels = 0;
    size_t max = set->max_len[CAIRN_IOC_DOMAIN];
    for (;;) {
        uint64_t left = end >= 64 ? dots : dots & ((1ULL << end) - 1);
        size_t start = left != 0 ? 64 - (size_t)__builtin_clzll(left) : 0;
        h = hunt_domain_step(h, v, len, start, end);
        labels++;
        if (len - start > max)
            return;
        if (labels == 2 && set->dom2 != NULL) {
            /* no key ends in these two labels: none can match */
            uint64_t bit = h & set->dom2_mask;
            if (!((set->dom2[bit >> 6] >> (bit & 63)) & 1))
                return;
        }
        if (set->domain_labels & (1ULL << labels))
            probe(m, h, CAIRN_IOC_DOMAIN, v + start, len - start, NULL, v,
                  full);
        if (left == 0 || labels >= set->domain_max_labels || start == 1)
            return;
        end = start - 1;
    }
}

/* The prefixes (but /32) of an address, longest first. */
static void lookup_v4_cidr(struct cairn_hunt_matcher *m, uint32_t addr,
                           const char *value, size_t len)
{
    /* only the prefix lengths some key of this /16 has */
    uint32_t bits = m->set->v4_cidr16 != NULL ? m->set->v4_cidr16[addr >> 16]
                                              : 0;
    while (bits != 0) {
        unsigned p = 31 - (unsigned)__builtin_clz(bits);
        bits &= ~(1u << p);
        uint32_t masked = p == 0 ? 0 : addr & (0xFFFFFFFFu << (32 - p));
        uint8_t key[5] = {(uint8_t)p, (uint8_t)(masked >> 24),
                          (uint8_t)(masked >> 16), (uint8_t)(masked >> 8),
                          (uint8_t)masked};
        probe(m, hunt_v4_hash(p, masked), CAIRN_IOC_IPV4, NULL, 5, key, value,
              len);
    }
}

static void lookup_v4(struct cairn_hunt_matcher *m, uint32_t addr,
                      const char *value, size_t len)
{
    if (m->set->v4_prefixes & (1ULL << 32)) {
        char t[16];
        size_t tl = cairn__hunt_v4_text(addr, t);
        probe(m, hunt_v4_text_hash(t, tl), CAIRN_IOC_IPV4, NULL, tl,
              (const uint8_t *)t, value, len);
    }
    lookup_v4_cidr(m, addr, value, len);
}

/* Whether a key of prefix 32 or longer may start with these 32 bits. */
static inline bool v6_top_may(const struct cairn_hunt_set *set, uint32_t top)
{
    uint32_t bit = hunt_v6_top_bit(set, top);
    return set->v6_top != NULL && ((set->v6_top[bit >> 6] >> (bit & 63)) & 1);
}

static void lookup_v6(struct cairn_hunt_matcher *m, const uint8_t a[16],
                      const char *value, size_t len)
{
    uint32_t top = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                   (uint32_t)a[2] << 8 | a[3];
    /* no key of prefix 32 or longer starts so: only the shorter ones */
    bool top_may = v6_top_may(m->set, top);
    for (int w = 2; w >= 0; w--) {
        uint64_t bits = m->set->v6_prefixes[w];
        if (!top_may)
            bits &= w == 0 ? 0xFFFFFFFFu : 0;
        while (bits != 0) {
            unsigned b = 63 - (unsigned)__builtin_clzll(bits);
            bits &= ~(1ULL << b);
            unsigned p = (unsigned)w * 64 + b;
            uint8_t key[17] = {(uint8_t)p};
            for (unsigned i = 0; i < 16; i++) {
                unsigned keep = p >= 8 * (i + 1) ? 8
                                : p > 8 * i      ? p - 8 * i
                                                 : 0;
                key[1 + i] = (uint8_t)(a[i] & (0xFF00u >> keep));
            }
            uint64_t h = hunt_hash(key, 17, hunt_seed(CAIRN_IOC_IPV6), false);
            probe(m, h, CAIRN_IOC_IPV6, NULL, 17, key, value, len);
        }
    }
}

/* "a.b.c.d" as a number (cairn_ipv4_parse, inline in base.h). */
static inline bool parse_v4(const char *s, size_t len, uint32_t *out)
{
    return cairn_ipv4_parse(s, len, out);
}

static bool lookup_ip(struct cairn_hunt_matcher *m, const char *v, size_t len);

/*
 * Whether some prefix key covers the /16 of the address in text, from its
 * first two numbers alone: most addresses then need no parse. Anything
 * that does not start "N.N." is left to the parser.
 */
static inline bool v4_cidr_may(const struct cairn_hunt_set *set, const char *v,
                               size_t len)
{
    unsigned top = 0;
    size_t i = 0;
    for (int part = 0; part < 2; part++) {
        unsigned x = 0;
        size_t start = i;
        while (i < len && i - start < 3 && (unsigned)(v[i] - '0') <= 9) {
            x = x * 10 + (unsigned)(v[i] - '0');
            i++;
        }
        if (i == start || i >= len || v[i] != '.' || x > 255)
            return true;
        i++;
        top = top << 8 | x;
    }
    return set->v4_cidr16[top] != 0;
}

/* Whether up to 15 bytes hold a ':' (two overlapping words, no loop). */
static inline bool has_colon(const char *v, size_t len)
{
    const uint64_t ones = 0x0101010101010101ULL;
    if (len < 8)
        return memchr(v, ':', len) != NULL;
    uint64_t a = hunt_load64(v) ^ (ones * ':');
    uint64_t b = hunt_load64(v + len - 8) ^ (ones * ':');
    return (((a - ones) & ~a) | ((b - ones) & ~b)) & (ones * 0x80);
}

/*
 * Whether an IPv6 address in text may match a key, from its first group
 * alone: no key starts with those 16 bits, and it is not an IPv4-mapped
 * address (first group 0), then it need not be parsed. Anything that does
 * not start with 1 to 4 hex digits and a ':' is left to the parser.
 */
static inline bool v6_may_match(const struct cairn_hunt_set *set, const char *v,
                                size_t len)
{
    unsigned x = 0;
    size_t i = 0;
    for (; i < len && i < 4; i++) {
        unsigned c = (unsigned char)v[i];
        unsigned d = c - '0' <= 9           ? c - '0'
                     : (c | 0x20) - 'a' < 6 ? (c | 0x20) - 'a' + 10
                                            : 16;
        if (d == 16)
            break;
        x = x << 4 | d;
    }
    if (i == 0 || i == len || v[i] != ':' || x == 0)
        return true;
    if (!((set->v6_first[x >> 6] >> (x & 63)) & 1))
        return false;
    /* the second group, when it is written out: the first 32 bits */
    if (set->v6_prefixes[0] & 0xFFFFFFFFu)
        return true; /* a key shorter than 32 bits */
    unsigned y = 0;
    size_t j = i + 1;
    for (; j < len && j < i + 5; j++) {
        unsigned c = (unsigned char)v[j];
        unsigned d = c - '0' <= 9           ? c - '0'
                     : (c | 0x20) - 'a' < 6 ? (c | 0x20) - 'a' + 10
                                            : 16;
        if (d == 16)
            break;
        y = y << 4 | d;
    }
    if (j == i + 1 || j == len || v[j] != ':')
        return true;
    return v6_top_may(set, x << 16 | y);
}

/*
 * A value typed as an address: as lookup_ip, without checking an IPv4
 * address before its /32 look-up (a string that is not an address has no
 * key to match: every /32 key is a valid address's text).
 */
static void lookup_addr(struct cairn_hunt_matcher *m, const char *v, size_t len)
{
    if (len > 15 || has_colon(v, len)) {
        if (v6_may_match(m->set, v, len))
            lookup_ip(m, v, len); /* IPv6, or nothing */
        return;
    }
    uint64_t bits = m->set->v4_prefixes;
    if ((bits & (1ULL << 32)) && len >= 7)
        probe(m, hunt_v4_text_hash(v, len), CAIRN_IOC_IPV4, v, len, NULL, v,
              len);
    uint32_t a4;
    if ((bits & ~(1ULL << 32)) && v4_cidr_may(m->set, v, len) &&
        parse_v4(v, len, &a4))
        lookup_v4_cidr(m, a4, v, len);
}

/* An IPv4 address in text; false when it is not one. */
static inline bool lookup_v4_text(struct cairn_hunt_matcher *m, const char *v,
                                  size_t len)
{
    uint32_t a4;
    if (!parse_v4(v, len, &a4))
        return false;
    /* a valid address is spelt one way: its text is the /32 key */
    if (m->set->v4_prefixes & (1ULL << 32))
        probe(m, hunt_v4_text_hash(v, len), CAIRN_IOC_IPV4, v, len, NULL, v,
              len);
    lookup_v4_cidr(m, a4, v, len);
    return true;
}

/* An address in text; false when it is not one. */
static bool lookup_ip(struct cairn_hunt_matcher *m, const char *v, size_t len)
{
    uint8_t a[16];
    if (lookup_v4_text(m, v, len))
        return true;
    if (len >= 2 && memchr(v, ':', len) != NULL &&
        m->set->count[CAIRN_IOC_IPV6] + m->set->count[CAIRN_IOC_IPV4] > 0 &&
        cairn__hunt_parse_ipv6(v, len, a)) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
                                           0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0 && m->set->count[CAIRN_IOC_IPV4] > 0)
            lookup_v4(m,
                      (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
                          (uint32_t)a[14] << 8 | a[15],
                      v, len);
        if (m->set->count[CAIRN_IOC_IPV6] > 0)
            lookup_v6(m, a, v, len);
        return true;
    }
    return false;
}

static void lookup_exact(struct cairn_hunt_matcher *m, enum cairn_ioc_type t,
                         const char *v, size_t len)
{
    if (m->set->count[t] == 0 || len > m->set->max_len[t])
        return;
    uint64_t h = hunt_hash(v, len, hunt_seed(t), hunt_caseless(t));
    probe(m, h, t, v, len, NULL, v, len);
}

/*
 * A URL: normalised and looked up when some URL key has its host (the
 * url_hosts filter), and its host looked up as an address or a domain.
 * The host's bytes are found once for both when the authority has no
 * ':' but before a port and no '[' (what cairn__hunt_url_host would say).
 */
static void lookup_url(struct cairn_hunt_matcher *m, const char *v, size_t len)
{
    const struct cairn_hunt_set *set = m->set;
    const char *host;
    size_t hl, hs = 0, he = 0;
    bool parts = cairn__hunt_url_norm_host(v, len, &hs, &he);
    if (set->count[CAIRN_IOC_URL] > 0 && len <= HUNT_URL_MAX) {
        bool may = true;
        if (parts && set->url_hosts != NULL) {
            uint64_t bit =
                hunt_hash(v + hs, he - hs, HUNT_K2, true) & set->url_host_mask;
            may = (set->url_hosts[bit >> 6] >> (bit & 63)) & 1;
        }
        int n = may ? cairn_hunt_url_normalize(v, len, m->url, sizeof m->url)
                    : 0;
        if (n > 0 && (size_t)n <= set->max_len[CAIRN_IOC_URL]) {
            uint64_t h =
                hunt_hash(m->url, (size_t)n, hunt_seed(CAIRN_IOC_URL), false);
            probe(m, h, CAIRN_IOC_URL, m->url, (size_t)n, NULL, v, len);
            /* m->url is the key: look it up before it is overwritten */
            flush(m);
        }
    }
    bool got, plain = false;
    if (parts && he > hs && v[hs] != '[' &&
        (he - hs <= 16 ? !has_colon(v + hs, he - hs)
                       : memchr(v + hs, ':', he - hs) == NULL)) {
        host = v + hs;
        hl = he - hs;
        got = plain = true;
    } else {
        got = cairn__hunt_url_host(v, len, &host, &hl);
    }
    if (got) {
        /* without a ':' the host is an IPv4 address or a name */
        if (plain ? !lookup_v4_text(m, host, hl) : !lookup_ip(m, host, hl))
            lookup_domain(m, host, hl);
        m->url_host = host;
        m->url_host_len = hl;
        m->url_field = m->field;
    }
}

/*
 * Whether this field is the host of the URL field before it, as the
 * extractor gives it: the URL's look-ups have already probed every key it
 * can match (an address's, or a domain's label suffixes), with this very
 * value, so its hits would be the same and dropped as repeats.
 */
static inline bool is_url_host(const struct cairn_hunt_matcher *m,
                               const char *v, size_t len)
{
    return v == m->url_host && len == m->url_host_len &&
           m->field == m->url_field + 1;
}

static void lookup_email(struct cairn_hunt_matcher *m, const char *v,
                         size_t len)
{
    const char *at = memrchr(v, '@', len);
    lookup_exact(m, CAIRN_IOC_EMAIL, v, len);
    if (at != NULL)
        lookup_domain(m, at + 1, len - (size_t)(at + 1 - v));
}

static int on_regex(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *ctx)
{
    struct cairn_hunt_matcher *m = ctx;
    (void)from;
    (void)to;
    (void)flags;
    const struct hregex *r = &m->set->regexes[id];
    if (m->re_accept & (1u << r->type))
        on_atom(m, r->ind, r->atom, m->re_type, m->re_value, m->re_len);
    return 0;
}

/* Run the regexes over a value taken as one of the types in `accept`. */
static int scan(struct cairn_hunt_matcher *m, const char *v, size_t len,
                enum cairn_ioc_type type, uint32_t accept)
{
    const struct cairn_hunt_set *set = m->set;
    bool any = false;
    if (set->db == NULL || len > UINT32_MAX)
        return 0;
    for (int t = 0; t < CAIRN_IOC_TYPE_COUNT; t++)
        if ((accept & (1u << t)) && set->regex_count[t] > 0)
            any = true;
    if (!any)
        return 0;
    /* regex hits come after the look-ups of the same value, as before */
    flush(m);
    m->re_value = v;
    m->re_len = len;
    m->re_type = type;
    m->re_accept = accept;
    if (hs_scan(set->db, v, (unsigned)len, 0, m->scratch, on_regex, m) !=
        HS_SUCCESS)
        return CAIRN_EINTERNAL;
    return 0;
}

#define BIT(t) (1u << (t))
/* network-traffic references match addresses and domains */
#define ADDR_BITS (BIT(CAIRN_IOC_STRING))

static bool has(const char *v, size_t len, const char *needle)
{
    return memmem(v, len, needle, strlen(needle)) != NULL;
}

static int match_field(struct cairn_hunt_matcher *m,
                       const struct cairn_hunt_field *f)
{
    const char *v = f->value;
    size_t len = f->len;
    enum cairn_ioc_type t = f->type;
    const char *host;
    size_t hl;

    if (v == NULL || len == 0)
        return 0;
    switch (t) {
    case CAIRN_IOC_DOMAIN:
        if (!is_url_host(m, v, len))
            lookup_domain(m, v, len);
        return scan(m, v, len, t, BIT(t) | ADDR_BITS);
    case CAIRN_IOC_IPV4:
    case CAIRN_IOC_IPV6:
        if (!is_url_host(m, v, len))
            lookup_addr(m, v, len);
        return scan(m, v, len, t,
                    BIT(CAIRN_IOC_IPV4) | BIT(CAIRN_IOC_IPV6) | ADDR_BITS);
    case CAIRN_IOC_URL:
        lookup_url(m, v, len);
        if (m->set->db != NULL && cairn__hunt_url_host(v, len, &host, &hl)) {
            int rc = scan(m, host, hl, CAIRN_IOC_DOMAIN,
                          BIT(CAIRN_IOC_DOMAIN) | ADDR_BITS);
            if (rc != 0)
                return rc;
        }
        return scan(m, v, len, t, BIT(t));
    case CAIRN_IOC_EMAIL:
        lookup_email(m, v, len);
        return scan(m, v, len, t, BIT(t));
    case CAIRN_IOC_MD5:
    case CAIRN_IOC_SHA1:
    case CAIRN_IOC_SHA256:
    case CAIRN_IOC_SHA512:
        /* trust the length over the reader's guess of the algorithm */
        t = cairn__hunt_hash_type(len);
        if (t == CAIRN_IOC_UNKNOWN)
            return 0;
        lookup_exact(m, t, v, len);
        return scan(m, v, len, t, BIT(t));
    case CAIRN_IOC_FILENAME:
    case CAIRN_IOC_REGKEY:
        lookup_exact(m, t, v, len);
        return scan(m, v, len, t, BIT(t));
    case CAIRN_IOC_STRING:
        break;
    default:
        return 0;
    }

    /* an untyped string: every type its shape allows */
    uint32_t accept = BIT(CAIRN_IOC_FILENAME) | BIT(CAIRN_IOC_REGKEY);
    enum cairn_ioc_type as = CAIRN_IOC_STRING;
    lookup_exact(m, CAIRN_IOC_FILENAME, v, len);
    lookup_exact(m, CAIRN_IOC_REGKEY, v, len);
    if (len >= 4 && has(v, len, "://")) {
        lookup_url(m, v, len);
        accept |= BIT(CAIRN_IOC_URL);
        as = CAIRN_IOC_URL;
    } else if (memchr(v, '@', len) != NULL) {
        lookup_email(m, v, len);
        accept |= BIT(CAIRN_IOC_EMAIL);
        as = CAIRN_IOC_EMAIL;
    } else if (cairn__hunt_hash_type(len) != CAIRN_IOC_UNKNOWN &&
               cairn__hunt_is_hex(v, len)) {
        as = cairn__hunt_hash_type(len);
        lookup_exact(m, as, v, len);
        accept |= BIT(as);
    } else if (lookup_ip(m, v, len)) {
        accept |= BIT(CAIRN_IOC_IPV4) | BIT(CAIRN_IOC_IPV6) | ADDR_BITS;
        as = memchr(v, ':', len) != NULL ? CAIRN_IOC_IPV6 : CAIRN_IOC_IPV4;
    } else if (memchr(v, '.', len) != NULL) {
        lookup_domain(m, v, len);
        accept |= BIT(CAIRN_IOC_DOMAIN) | ADDR_BITS;
        as = CAIRN_IOC_DOMAIN;
    }
    return scan(m, v, len, as, accept);
}

int cairn_hunt_match_event(struct cairn_hunt_matcher *m,
                           const struct cairn_hunt_event *ev,
                           cairn_hunt_hit_cb cb, void *ud)
{
    if (m == NULL || ev == NULL || cb == NULL ||
        (ev->fields == NULL && ev->n_fields > 0))
        return CAIRN_EINVAL;
    m->ev = ev;
    m->cb = cb;
    m->ud = ud;
    m->hits = 0;
    m->n_pend = 0;
    m->n_done = 0;
    m->n_probes = 0;
    m->url_host = NULL;
    for (size_t i = 0; i < ev->n_fields; i++) {
        m->field = i;
        int rc = match_field(m, &ev->fields[i]);
        if (rc != 0)
            return rc;
    }
    m->field = ev->n_fields;
    flush(m);
    for (size_t i = 0; i < m->n_pend; i++) {
        const struct pending *p = &m->pend[i];
        const struct hind *h = &m->set->inds[p->ind];
        const struct hextra *x = &m->set->extras[h->extra];
        if (m->partial ||
            cairn__hunt_prog_eval(m->set->progs + x->prog_off, x->prog_len,
                                  p->mask))
            emit(m, p->ind, (enum cairn_ioc_type)p->type, p->value, p->len,
                 p->field, false);
    }
    return m->hits;
}
