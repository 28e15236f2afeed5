/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the indicator set: the compiled tables, hashing, normalisation. */
#ifndef CAIRN_HUNT_INT_H
#define CAIRN_HUNT_INT_H

#include <string.h>

#include <hs/hs.h>

#include "cairn/hunt.h"

/*
 * How it fits together: src/values refangs, detects and normalises values;
 * set.c (the builder) turns list lines and STIX patterns into "keys" (one
 * indexed value each, pointing at an indicator and one of its comparisons,
 * an "atom"), index_hash.c compiles the keys into one open-addressing table
 * with a Bloom filter in front and the regexes into one Vectorscan
 * database; matcher.c looks event fields up; sightings.c aggregates hits.
 */

#define HUNT_NONE UINT32_MAX

/* Longest URL that is normalised and looked up (bytes). */
#define HUNT_URL_MAX CAIRN_VALUE_URL_MAX

/* Most comparisons one AND/qualified indicator may index (a bit mask). */
#define HUNT_MAX_ATOMS 64
/* Longest formula program of one indicator. */
#define HUNT_MAX_PROG 255

/* Formula program ops; 0..63 push whether that atom was hit. */
enum {
    PROG_TRUE = 64, /* a comparison no event field answers */
    PROG_AND = 65,
    PROG_OR = 66,
    PROG_LEAF = 67, /* end of one observation: a true value is a hit */
};

/* One indexed value. Key bytes live in the set's text arena. */
struct hkey {
    uint32_t off;
    uint32_t len;
    uint32_t ind;  /* indicator index */
    uint32_t next; /* next key with the same bytes and type, or HUNT_NONE */
    uint8_t type;  /* enum cairn_ioc_type */
    uint8_t atom;
};

/* A LIKE or MATCHES comparison, compiled into the Vectorscan database. */
struct hregex {
    uint32_t ind;
    uint8_t type;
    uint8_t atom;
};

enum {
    IND_LIST = 1,    /* from a plain list: id derived from type and name */
    IND_CONFIRM = 2, /* hits are candidates */
    IND_FORMULA = 4, /* hit when its program says so, not on any key */
    IND_DUP = 8,     /* while building: a repeated list entry, to drop */
};

struct hind {
    uint32_t name_off; /* HUNT_NONE: no name */
    uint32_t name_len;
    uint32_t id;    /* STIX: index into uuids; list: unused */
    uint32_t extra; /* index into extras, or HUNT_NONE */
    uint8_t type;   /* list: the value's type */
    uint8_t flags;
};

struct hextra {
    uint32_t prog_off; /* in progs */
    uint32_t prog_len;
    uint32_t pat_off; /* pattern text in the arena, for confirmation */
    uint32_t pat_len;
};

struct hyara {
    uint8_t uuid[16];
    uint32_t name_off, name_len;
    uint32_t rules_off, rules_len;
};

struct cairn_hunt_set {
    char *text; /* arena of every string */
    size_t text_len;
    struct hkey *keys;
    size_t n_keys;
    struct hind *inds;
    size_t n_inds;
    uint8_t (*uuids)[16];
    size_t n_uuids;
    struct hextra *extras;
    size_t n_extras;
    uint8_t *progs;
    size_t progs_len;
    struct hregex *regexes;
    size_t n_regexes;
    struct hyara *yara;
    size_t n_yara;

    /* the hash table: (fingerprint << 32) | (key index + 1); 0 is empty */
    uint64_t *slots;
    uint64_t slot_mask;
    uint64_t *bloom;
    uint64_t bloom_mask;
    unsigned bloom_shift;
    void *slots_mem, *bloom_mem; /* what to free (the tables are aligned) */

    /* cheap rejects before hashing */
    uint64_t domain_labels; /* bit n: some domain key has n labels (63: more) */
    unsigned domain_max_labels; /* most labels of a domain key; 63: more */
    uint64_t v4_prefixes;       /* bit n: some IPv4 key has prefix n (0..32) */
    uint64_t v6_prefixes[3];
    /* bit n: some IPv6 key starts with the 16 bits n; all of them set when
     * a key has a prefix shorter than 16 */
    uint64_t v6_first[1024];
    /*
     * v4_cidr16[a >> 16], bit p: some IPv4 key of prefix p (0..31) covers
     * that /16 (NULL without such keys), so that an address is looked up
     * only under the prefix lengths that can match it.
     */
    uint32_t *v4_cidr16;
    /*
     * IPv6 keys of prefix 32 or longer: bit hunt_v6_top_bit(first 32
     * bits) of v6_top is set for each (NULL without such keys). An
     * address whose bit is clear looks up only the shorter prefixes.
     */
    uint64_t *v6_top;
    uint32_t v6_top_mask; /* bits in v6_top, less one */
    /*
     * URL keys: bit (hunt_hash of the host, folded) & url_host_mask of
     * url_hosts is set for the host of each (see cairn__hunt_url_norm_host),
     * so that a URL whose host no key has is not normalised. NULL: no URL
     * keys, or one without a host (then every URL is looked up).
     */
    uint64_t *url_hosts;
    uint64_t url_host_mask;
    /*
     * Domain keys: bit (the hash of its last two labels, as the label
     * chain has it) & dom2_mask of dom2 is set for each, so that a name
     * whose last two labels no key has is not looked up further (a log's
     * names share few such suffixes: these bits stay in the cache). NULL:
     * no domain keys, or one of a single label.
     */
    uint64_t *dom2;
    uint64_t dom2_mask;
    size_t count[CAIRN_IOC_TYPE_COUNT];       /* keys per type */
    size_t regex_count[CAIRN_IOC_TYPE_COUNT]; /* regexes per type */
    size_t max_len[CAIRN_IOC_TYPE_COUNT];     /* longest key per type */

    hs_database_t *db; /* NULL without regexes */

    size_t skipped;
    size_t needs_confirmation;
    size_t duplicates; /* list entries dropped as repeats */
};

/* ---- hashing (index_hash.c) ---------------------------------------------- */

static inline uint64_t hunt_load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t hunt_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define HUNT_K1 0xa0761d6478bd642fULL
#define HUNT_K2 0xe7037ed1a0b428dbULL
#define HUNT_K3 0x8ebc6af09c88c6e3ULL

/* ASCII upper case to lower case in eight bytes at once. */
static inline uint64_t hunt_lower64(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t low7 = w & (ones * 0x7f);
    uint64_t ge_a = low7 + ones * (0x80 - 'A');
    uint64_t gt_z = low7 + ones * (0x80 - 'Z' - 1);
    uint64_t upper = ge_a & ~gt_z & ~w & (ones * 0x80);
    return w | (upper >> 2);
}

/* Hash `len` bytes, folding ASCII case when `fold`. */
static inline uint64_t hunt_hash(const void *data, size_t len, uint64_t seed,
                                 bool fold)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ ((uint64_t)len * HUNT_K1);
    while (len >= 8) {
        uint64_t w = hunt_load64(p);
        if (fold)
            w = hunt_lower64(w);
        h = hunt_mix(h ^ w, HUNT_K2);
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        if (fold)
            w = hunt_lower64(w);
        h = hunt_mix(h ^ w ^ ((uint64_t)len << 59), HUNT_K2);
    }
    return hunt_mix(h, HUNT_K3);
}

static inline uint64_t hunt_seed(enum cairn_ioc_type t)
{
    return HUNT_K3 * ((uint64_t)t + 1);
}

/*
 * Bytes [a, b) of `s` (at most 8; `s` has `n` readable bytes) as one
 * lower-cased little-endian word, zero-padded. A label near either end of
 * the name is loaded as a whole word that ends (or starts) inside the
 * name and shifted, so no byte outside [0, n) is read and most labels
 * cost one load.
 */
static inline uint64_t hunt_label_word(const char *s, size_t n, size_t a,
                                       size_t b)
{
    size_t k = b - a;
    uint64_t w = 0;
    if (k == 0)
        return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (b >= 8)
        w = hunt_load64(s + b - 8) >> (8 * (8 - k));
    else if (n - a >= 8)
        w = hunt_load64(s + a) & (~0ULL >> (8 * (8 - k)));
    else
        memcpy(&w, s + a, k);
#else
    for (size_t i = 0; i < k; i++)
        w |= (uint64_t)(uint8_t)s[a + i] << (8 * i);
    (void)n;
#endif
    return hunt_lower64(w);
}

/*
 * Chain step of the domain hash: one more label, [a, b) of `s` (`n`
 * readable bytes), folded into the hash of the labels to its right. The
 * label's length picks the multiplier, so "ab" and "ab\0" differ.
 */
static inline uint64_t hunt_domain_step(uint64_t h, const char *s, size_t n,
                                        size_t a, size_t b)
{
    uint64_t k = HUNT_K1 ^ ((uint64_t)(b - a) << 1);
    while (b - a > 8) {
        uint64_t w;
        memcpy(&w, s + a, 8);
        h = hunt_mix(h ^ hunt_lower64(w), HUNT_K2);
        a += 8;
    }
    return hunt_mix(h ^ hunt_label_word(s, n, a, b), k);
}

/*
 * Hash of a single IPv4 address key, kept as its dotted-decimal text (7 to
 * 15 bytes): a log's address is then looked up without parsing it, since a
 * valid address has only this one spelling (no leading zeros).
 */
static inline uint64_t hunt_v4_text_hash(const char *s, size_t len)
{
    uint64_t a, b;
    if (len >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
    } else {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + len - 4, 4);
        a = x;
        b = y;
    }
    return hunt_mix(hunt_mix(a ^ HUNT_K3 ^ (uint64_t)len, HUNT_K2) ^ b,
                    HUNT_K1);
}

/* Hash of an IPv4 key: the prefix length and the masked address. */
static inline uint64_t hunt_v4_hash(unsigned prefix, uint32_t masked)
{
    uint64_t x = ((uint64_t)prefix << 32 | masked) ^ HUNT_K3;
    return hunt_mix(hunt_mix(x, HUNT_K2), HUNT_K1);
}

/* The bit of v6_top that the first 32 bits of an address select. */
static inline uint32_t hunt_v6_top_bit(const struct cairn_hunt_set *set,
                                       uint32_t top)
{
    return (uint32_t)(((uint64_t)top * HUNT_K1) >> 32) & set->v6_top_mask;
}

/* Types compared without ASCII case (IP keys are binary: never folded). */
static inline bool hunt_caseless(enum cairn_ioc_type t)
{
    return t == CAIRN_IOC_DOMAIN || t == CAIRN_IOC_EMAIL ||
           t == CAIRN_IOC_MD5 || t == CAIRN_IOC_SHA1 || t == CAIRN_IOC_SHA256 ||
           t == CAIRN_IOC_SHA512 || t == CAIRN_IOC_REGKEY;
}

/* Hash of a whole stored key (domains: the label chain). */
uint64_t cairn__hunt_key_hash(enum cairn_ioc_type t, const char *key, size_t len,
                       unsigned *labels_out);

/*
 * Build the table and Bloom filter over set->keys; 0 or CAIRN_ENOMEM. A
 * list entry whose type and normalised value repeat an earlier one's
 * would have the same id: it is dropped here (keys and indicators are
 * renumbered) and counted in set->duplicates, so that an event gives one
 * hit for it, not two.
 */
int cairn__hunt_index_build(struct cairn_hunt_set *set);

/* Whether the Bloom filter may hold `h`. */
static inline bool hunt_bloom_maybe(const struct cairn_hunt_set *set,
                                    uint64_t h)
{
    uint64_t b = h * HUNT_K1;
    uint64_t w = set->bloom[(b >> set->bloom_shift) & set->bloom_mask];
    uint64_t bits = (1ULL << (b & 63)) | (1ULL << ((b >> 6) & 63)) |
                    (1ULL << ((b >> 12) & 63));
    return (w & bits) == bits;
}

/* The Bloom filter word that `h` tests (to prefetch it). */
static inline const uint64_t *hunt_bloom_word(const struct cairn_hunt_set *set,
                                              uint64_t h)
{
    return &set->bloom[((h * HUNT_K1) >> set->bloom_shift) & set->bloom_mask];
}

/* First key index with hash `h`, type `t` and these bytes, or HUNT_NONE. */
uint32_t cairn__hunt_index_find(const struct cairn_hunt_set *set, uint64_t h,
                         enum cairn_ioc_type t, const char *key, size_t len);
/* The same once the Bloom filter has said `h` may be there. */
uint32_t cairn__hunt_index_find_slot(const struct cairn_hunt_set *set, uint64_t h,
                              enum cairn_ioc_type t, const char *key,
                              size_t len);

/*
 * For tests: `m` queues its look-ups, as for a set whose Bloom filter is
 * too large for the cache, instead of making them at once (the same hits
 * in the same order either way).
 */
void cairn__hunt_matcher_queue(struct cairn_hunt_matcher *m);

/* Compile the Vectorscan database of regex patterns (NUL-ended, flags). */
int cairn__hunt_regex_compile(struct cairn_hunt_set *set, const char *const *exprs,
                       const unsigned *flags, struct cairn_diag *diag);

/* ---- indicators (set.c) ------------------------------------------------- */

/* Run a formula program with the atoms of `mask` true: does a leaf hold? */
bool cairn__hunt_prog_eval(const uint8_t *prog, size_t len, uint64_t mask);

/* "indicator--" and the UUID text of 16 bytes. */
void cairn__hunt_format_id(const uint8_t u[16], char out[CAIRN_HUNT_ID_MAX]);

/* The id of a list entry: UUIDv5 of "TYPE:VALUE". */
int cairn__hunt_list_id(const struct cairn_hunt_set *set, const struct hind *h,
                 char out[CAIRN_HUNT_ID_MAX]);

#endif
