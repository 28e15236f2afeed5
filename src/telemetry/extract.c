/* SPDX-License-Identifier: Apache-2.0 */
/* Free-text extractor and value typing: addresses, domains, URLs, hashes. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "telemetry/telemetry_int.h"

#if defined(CAIRN_TELE_X86_SIMD)
#include <immintrin.h>
#endif

/* Character classes, one table lookup per byte in the hot loops. */
enum {
    C_DIGIT = 1,
    C_HEX = 2,
    C_ALPHA = 4,
    C_HOST = 8,    /* letters, digits, '.', '-' */
    C_LOCAL = 16,  /* email local part: host characters and _ % + */
    C_URLEND = 32, /* ends a URL: space, controls, quotes, <>`{}|\^ */
    C_V6 = 64,     /* hex digits, ':', '.' */
    C_CTRL = 128,  /* control bytes that plain text does not carry */
};

static const unsigned char cls[256] = {
    160, 160, 160, 160, 160, 160, 160, 160, 160, 32,  32,  32,  32, 32,  160,
    160, 160, 160, 160, 160, 160, 160, 160, 160, 160, 160, 160, 32, 160, 160,
    160, 160, 32,  0,   32,  0,   0,   16,  0,   32,  0,   0,   0,  16,  0,
    24,  88,  0,   91,  91,  91,  91,  91,  91,  91,  91,  91,  91, 64,  0,
    32,  0,   32,  0,   0,   94,  94,  94,  94,  94,  94,  28,  28, 28,  28,
    28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28, 28,  28,
    28,  0,   32,  0,   32,  16,  32,  94,  94,  94,  94,  94,  94, 28,  28,
    28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28,  28, 28,  28,
    28,  28,  28,  32,  32,  32,  0,   160, 0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  0,   0,
    0,
};

#define IS(c, k) ((cls[(unsigned char)(c)] & (k)) != 0)

#if defined(__SSE2__)
/* Bytes of x in [lo, hi], as a mask. */
static inline __m128i in_range(__m128i x, char lo, char hi)
{
    __m128i t =
        _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - (unsigned char)lo)));
    return _mm_cmplt_epi8(t, _mm_set1_epi8((char)(-128 + (hi - lo) + 1)));
}
#endif

#if defined(__SSE2__)
/* A bit per byte of x equal to c. */
static inline unsigned eq_mask(__m128i x, char c)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
}
#endif

/*
 * The first of '/', '?' or '#' in [p, end) (or end): where a URL's
 * authority ends; *at is the last '@' before it, or NULL, and *colon the
 * first ':' after that '@' (after p without one) and before the end, or
 * NULL. `lo` <= p: the bytes from lo on may be read (a last block of 16
 * ends at `end` and starts before p, its first bits dropped).
 */
static const char *authority_end(const char *lo, const char *p,
                                 const char *end, const char **at,
                                 const char **colon)
{
    const char *last_at = NULL, *first_colon = NULL;
#if defined(__SSE2__)
    for (;;) {
        const char *q = p;
        unsigned skip = 0;
        if (end - p < 16) {
            if (end - lo < 16 || p >= end)
                break;
            q = end - 16;
            skip = (unsigned)(p - q);
        }
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned from = 0xFFFFu << skip & 0xFFFFu;
        unsigned stop =
            (eq_mask(x, '/') | eq_mask(x, '?') | eq_mask(x, '#')) & from;
        unsigned keep = stop != 0 ? (1u << __builtin_ctz(stop)) - 1 : 0xFFFFu;
        unsigned ats = eq_mask(x, '@') & from & keep;
        unsigned cols = eq_mask(x, ':') & from & keep;
        if (ats != 0) {
            unsigned hi = 31u - (unsigned)__builtin_clz(ats);
            last_at = q + hi;
            cols &= ~((2u << hi) - 1);
            first_colon = cols != 0 ? q + __builtin_ctz(cols) : NULL;
        } else if (first_colon == NULL && cols != 0) {
            first_colon = q + __builtin_ctz(cols);
        }
        if (stop != 0) {
            *at = last_at;
            *colon = first_colon;
            return q + __builtin_ctz(stop);
        }
        if (q != p)
            break; /* the last block: nothing stops it */
        p += 16;
        if (p >= end)
            break;
    }
    if (end - p < 16 && end - lo >= 16)
        p = end; /* the last block covered the rest */
#else
    (void)lo;
#endif
    for (; p < end && *p != '/' && *p != '?' && *p != '#'; p++) {
        if (*p == '@') {
            last_at = p;
            first_colon = NULL;
        } else if (*p == ':' && first_colon == NULL) {
            first_colon = p;
        }
    }
    *at = last_at;
    *colon = first_colon;
    return p;
}

/* ---- shapes -------------------------------------------------------------- */

bool cairn__tele_is_ipv4(const char *s, size_t len)
{
    return cairn_ipv4_parse(s, len, NULL);
}

bool cairn__tele_is_ipv6(const char *s, size_t len)
{
    char tmp[64];
    if (len < 2 || len >= sizeof tmp || memchr(s, ':', len) == NULL)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    unsigned char addr[16];
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

bool cairn__tele_is_domain(const char *s, size_t len)
{
    if (len < 4 || len > 253 || s[0] == '.' || s[0] == '-')
        return false;
    /* A last label of digits is no TLD ("1607904000.017"): say so early. */
    size_t e = len;
    while (e > 0 && IS(s[e - 1], C_DIGIT))
        e--;
    if (e < len && (e == 0 || s[e - 1] == '.'))
        return false;
    if (len <= 64) {
        /* A bit per byte, no branch per byte; then the rules below as
         * bit tests (a label of 64 bytes cannot fit in 64 with a TLD). */
        uint64_t dots = 0, hy = 0, na = 0, bad = 0;
#if defined(__SSE2__)
        if (len >= 16) {
            /* 16 bytes at a time, the last load ending at s[len - 1] */
            for (size_t k = 0; k < len; k += 16) {
                size_t at = k + 16 <= len ? k : len - 16;
                __m128i x =
                    _mm_loadu_si128((const __m128i *)(const void *)(s + at));
                __m128i al =
                    in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
                __m128i dg = in_range(x, '0', '9');
                __m128i dt = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
                __m128i h = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
                unsigned host = (unsigned)_mm_movemask_epi8(
                    _mm_or_si128(_mm_or_si128(al, dg), _mm_or_si128(dt, h)));
                dots |= (uint64_t)(unsigned)_mm_movemask_epi8(dt) << at;
                hy |= (uint64_t)(unsigned)_mm_movemask_epi8(h) << at;
                na |= (uint64_t)(~(unsigned)_mm_movemask_epi8(al) & 0xFFFFu)
                      << at;
                bad |= (uint64_t)(~host & 0xFFFFu) << at;
            }
        } else
#endif
        {
            for (size_t i = 0; i < len; i++) {
                unsigned char k = cls[(unsigned char)s[i]];
                bad |= (uint64_t)!(k & C_HOST) << i;
                dots |= (uint64_t)(s[i] == '.') << i;
                hy |= (uint64_t)(s[i] == '-') << i;
                na |= (uint64_t)!(k & C_ALPHA) << i;
            }
        }
        if (bad != 0 || dots == 0)
            return false;
        uint64_t starts = dots << 1 | 1, ends = dots >> 1 | 1ULL << (len - 1);
        if ((dots & starts) != 0 || (hy & (starts | ends)) != 0)
            return false;
        size_t last = 64 - (size_t)__builtin_clzll(dots);
        size_t lab = len - last;
        if (lab < 2)
            return false;
        uint64_t in_last = (~0ULL >> (64 - len)) & ~((1ULL << last) - 1);
        return (na & in_last) == 0 ||
               (lab > 4 && strncasecmp(s + last, "xn--", 4) == 0);
    }
    /* One pass: label lengths, hyphen placement, a letters-only TLD. */
    size_t lab = 0, labels = 1, last = 0;
    bool alpha = true;
    char prev = '.';
    for (size_t i = 0; i < len; i++) {
        unsigned char k = cls[(unsigned char)s[i]];
        char c = s[i];
        if (c == '.') {
            if (lab == 0 || prev == '-')
                return false;
            labels++;
            lab = 0;
            alpha = true;
            last = i + 1;
        } else {
            if (!(k & C_HOST) || (lab == 0 && c == '-') || ++lab > 63)
                return false;
            if (!(k & C_ALPHA))
                alpha = false;
        }
        prev = c;
    }
    if (labels < 2 || lab < 2 || prev == '-')
        return false;
    /* The last label is a TLD: letters, or an IDN "xn--" label. */
    return alpha || (lab > 4 && strncasecmp(s + last, "xn--", 4) == 0);
}

bool cairn__tele_is_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (at == NULL || at == s || at - s > 64)
        return false;
    for (const char *p = s; p < at; p++)
        if (!IS(*p, C_LOCAL))
            return false;
    if (s[0] == '.' || at[-1] == '.')
        return false;
    return cairn__tele_is_domain(at + 1, len - (size_t)(at + 1 - s));
}

/* Length of a URL scheme ending at s[len] ("http"), 0 when not one. */
static bool is_scheme(const char *s, size_t len)
{
    if (len == 0 || len > 32 || !IS(s[0], C_ALPHA))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!IS(s[i], C_ALPHA | C_DIGIT) && s[i] != '+' && s[i] != '-' &&
            s[i] != '.')
            return false;
    return true;
}

/* cairn__tele_url_host once its "://" is found at `sep` after a scheme. */
static bool url_host_after(const char *url, size_t len, const char *sep,
                           const char **host, size_t *host_len)
{
    const char *p = sep + 3, *end = url + len;
    /* The authority ends at the first '/', '?' or '#'. */
    const char *at, *colon;
    const char *auth_end = authority_end(url, p, end, &at, &colon);
    if (at != NULL)
        p = at + 1;
    const char *h = p, *he;
    if (p < auth_end && *p == '[') {
        h = p + 1;
        he = h;
        while (he < auth_end && *he != ']')
            he++;
        if (he == auth_end)
            return false;
    } else {
        /* up to the first ':' after the userinfo */
        he = colon != NULL ? colon : auth_end;
    }
    if (he == h)
        return false;
    *host = h;
    *host_len = (size_t)(he - h);
    return true;
}

bool cairn__tele_url_host(const char *url, size_t len, const char **host,
                   size_t *host_len)
{
    const char *sep = len >= 3 ? memmem(url, len, "://", 3) : NULL;
    if (sep == NULL || !is_scheme(url, (size_t)(sep - url)))
        return false;
    return url_host_after(url, len, sep, host, host_len);
}

bool cairn__tele_is_url(const char *s, size_t len)
{
    const char *h;
    size_t hl;
    if (!cairn__tele_url_host(s, len, &h, &hl))
        return false;
    for (size_t i = 0; i < len; i++)
        if (IS(s[i], C_URLEND))
            return false;
    return true;
}

enum cairn_ioc_type cairn__tele_hash_type(const char *s, size_t len)
{
    if (len != 32 && len != 40 && len != 64 && len != 128)
        return CAIRN_IOC_UNKNOWN;
    for (size_t i = 0; i < len; i++)
        if (!IS(s[i], C_HEX))
            return CAIRN_IOC_UNKNOWN;
    switch (len) {
    case 32:
        return CAIRN_IOC_MD5;
    case 40:
        return CAIRN_IOC_SHA1;
    case 64:
        return CAIRN_IOC_SHA256;
    default:
        return CAIRN_IOC_SHA512;
    }
}

/* An IP address or a domain: the type of a host name by its shape. */
static enum cairn_ioc_type host_type(const char *s, size_t len)
{
    if (len > 0 && IS(s[0], C_DIGIT) && cairn__tele_is_ipv4(s, len))
        return CAIRN_IOC_IPV4;
    bool colon = false;
    for (size_t i = 0; i < len; i++) /* host names are short: no call */
        colon |= s[i] == ':';
    if (colon)
        return cairn__tele_is_ipv6(s, len) ? CAIRN_IOC_IPV6 : CAIRN_IOC_UNKNOWN;
    return cairn__tele_is_domain(s, len) ? CAIRN_IOC_DOMAIN : CAIRN_IOC_UNKNOWN;
}

enum cairn_ioc_type cairn_telemetry_classify(const char *value, size_t len)
{
    if (value == NULL || len == 0)
        return CAIRN_IOC_UNKNOWN;
    enum cairn_ioc_type t = host_type(value, len);
    if (t != CAIRN_IOC_UNKNOWN)
        return t;
    if (cairn__tele_is_url(value, len))
        return CAIRN_IOC_URL;
    if (memchr(value, '@', len) != NULL)
        return cairn__tele_is_email(value, len) ? CAIRN_IOC_EMAIL : CAIRN_IOC_UNKNOWN;
    return cairn__tele_hash_type(value, len);
}

/* ---- the extractor --------------------------------------------------------
 */

typedef int (*emit_fn)(void *ud, enum cairn_ioc_type type, const char *v,
                       size_t len);


/* An IPv6 address starting at s[i]; its end in *end, or false. */
static bool scan_ipv6(const char *s, size_t len, size_t i, size_t *end)
{
    /* A group has at most 4 hex digits, so a ':' must come early. */
    size_t j = i, colons = 0, hex = 0;
    bool dbl = false;
    while (j < len && IS(s[j], C_V6) && j - i <= 45) {
        if (s[j] == ':') {
            colons++;
            if (j + 1 < len && s[j + 1] == ':')
                dbl = true;
        } else if (IS(s[j], C_HEX)) {
            hex++;
        }
        j++;
    }
    if (colons < 2 || hex == 0 || (colons < 7 && !dbl))
        return false;
    /* A trailing ':' or '.' is punctuation, not part of the address. */
    while (j > i && (s[j - 1] == '.' || (s[j - 1] == ':' && s[j - 2] != ':')))
        j--;
    if (!cairn__tele_is_ipv6(s + i, j - i))
        return false;
    *end = j;
    return true;
}

/*
 * The host url_host_after found: without brackets it ends at the first
 * ':', so it holds none (host_type's test for one is left out).
 */
static int emit_host(emit_fn emit, void *ud, const char *h, size_t n)
{
    enum cairn_ioc_type t;
    if (h[-1] == '[')
        t = host_type(h, n);
    else if (n > 0 && IS(h[0], C_DIGIT) && cairn__tele_is_ipv4(h, n))
        t = CAIRN_IOC_IPV4;
    else
        t = cairn__tele_is_domain(h, n) ? CAIRN_IOC_DOMAIN : CAIRN_IOC_UNKNOWN;
    return t != CAIRN_IOC_UNKNOWN ? emit(ud, t, h, n) : 0;
}

/* The end of a URL whose "://" is at s[j]; 0 if none. */
static size_t scan_url(const char *s, size_t len, size_t j)
{
    size_t k = j + 3, parens = 0;
#if defined(__SSE2__)
    /* C_URLEND sixteen bytes at a time: controls, space, "'<>\\^`{|};
     * the last block ends at s[len - 1], its bytes before k dropped */
    while (k < len && len >= 16) {
        size_t q = k + 16 <= len ? k : len - 16;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + q));
        unsigned stop =
            (unsigned)_mm_movemask_epi8(in_range(x, 0, ' ')) |
            eq_mask(x, '"') | eq_mask(x, '\'') | eq_mask(x, '<') |
            eq_mask(x, '>') | eq_mask(x, '\\') | eq_mask(x, '^') |
            eq_mask(x, '`') | eq_mask(x, '{') | eq_mask(x, '|') |
            eq_mask(x, '}') | eq_mask(x, 0x7f);
        unsigned open = eq_mask(x, '(');
        stop >>= k - q;
        open >>= k - q;
        if (stop != 0) {
            unsigned n = (unsigned)__builtin_ctz(stop);
            parens += (open & ((1u << n) - 1)) != 0;
            k += n;
            goto end;
        }
        parens += open != 0;
        k = q + 16;
    }
#endif
    while (k < len && !IS(s[k], C_URLEND)) {
        if (s[k] == '(')
            parens++;
        k++;
    }
#if defined(__SSE2__)
end:
#endif
    /* Sentence punctuation after a URL is not part of it. */
    while (k > j + 3) {
        char c = s[k - 1];
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
            c == '?' || c == ']' || (c == ')' && parens == 0))
            k--;
        else
            break;
    }
    return k > j + 3 ? k : 0;
}

/*
 * The end of the run of host characters (C_HOST) from s[j]; *dot is set
 * when the run holds a '.'. Sixteen bytes at a time while they are there
 * (no byte past s[len] is read).
 */
static inline size_t host_run(const char *s, size_t len, size_t j, bool *dot)
{
#if defined(__SSE2__)
    /* the last block ends at s[len - 1], its bytes before j dropped */
    while (j < len && len >= 16) {
        size_t q = j + 16 <= len ? j : len - 16;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + q));
        __m128i al = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
        __m128i dg = in_range(x, '0', '9');
        __m128i dt = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
        __m128i hy = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
        unsigned host = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(al, dg), _mm_or_si128(dt, hy)));
        unsigned dots = (unsigned)_mm_movemask_epi8(dt) >> (j - q);
        unsigned stop = (~host & 0xFFFFu) >> (j - q);
        if (stop != 0) {
            unsigned n = (unsigned)__builtin_ctz(stop);
            *dot |= (dots & ((1u << n) - 1)) != 0;
            return j + n;
        }
        *dot |= dots != 0;
        j = q + 16;
    }
#endif
    while (j < len && IS(s[j], C_HOST)) {
        *dot |= s[j] == '.';
        j++;
    }
    return j;
}

/*
 * The first byte at or after s[i] that may start or continue a value:
 * letters, digits, '.', '-', ':' (C_HOST | C_V6); len when none. Sixteen
 * bytes at a time: the bytes between values (spaces, quotes, slashes,
 * '_', '=') are passed over without a branch each.
 */
static inline size_t next_value_byte(const char *s, size_t len, size_t i)
{
#if defined(__SSE2__)
    for (; i + 16 <= len; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i al = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
        /* '-', '.', '/', the digits and ':' are 0x2d..0x3a: less '/' */
        __m128i dg = in_range(x, '-', ':');
        __m128i sl = _mm_cmpeq_epi8(x, _mm_set1_epi8('/'));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_andnot_si128(sl, _mm_or_si128(al, dg)));
        if (m != 0)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < len && !IS(s[i], C_HOST | C_V6))
        i++;
    return i;
}

static inline __attribute__((always_inline)) int
extract(const char *s, size_t len, emit_fn emit, void *ud)
{
    size_t i = 0;
    int rc;
    while (i < len) {
        unsigned char k = cls[(unsigned char)s[i]];
        if (!(k & (C_HOST | C_V6))) {
            i = next_value_byte(s, len, i + 1);
            continue;
        }
        size_t end;
        bool boundary = i == 0 || !IS(s[i - 1], C_HOST | C_V6);
        if (!(k & C_HOST)) {
            /* a ':' ("::1"): an IPv6 address or nothing */
            if (boundary && scan_ipv6(s, len, i, &end)) {
                if ((rc = emit(ud, CAIRN_IOC_IPV6, s + i, end - i)) < 0)
                    return rc;
                i = end;
                continue;
            }
            i++;
            continue;
        }
        bool dot = false;
        size_t j = host_run(s, len, i, &dot);
        unsigned char next = j < len ? (unsigned char)s[j] : 0;
        /* Nothing can start here without a dot (address, domain), a
         * ':' after it (URL, IPv6), an email's '@' or 32 bytes (digest):
         * most words are passed over on this one test. */
        if (!dot && j - i < 32 && next != ':' && next != '@' &&
            !IS(next, C_LOCAL)) {
            /* s[j] (not ':') can be no value's first byte either */
            i = j < len ? next_value_byte(s, len, j + 1) : len;
            continue;
        }
        /* IPv6: one to five hex digits and a ':' (the run of host
         * characters ends at the ':'). */
        if (next == ':' && boundary && j - i <= 5) {
            size_t q = i;
            while (q < j && IS(s[q], C_HEX))
                q++;
            if (q == j && scan_ipv6(s, len, i, &end)) {
                if ((rc = emit(ud, CAIRN_IOC_IPV6, s + i, end - i)) < 0)
                    return rc;
                i = end;
                continue;
            }
        }
        if (len - j >= 3 && s[j] == ':' && s[j + 1] == '/' && s[j + 2] == '/' &&
            is_scheme(s + i, j - i)) {
            size_t e = scan_url(s, len, j);
            const char *h;
            size_t hl;
            /* s[i, j) is a scheme of host characters: no ':' before
             * s[j], so this "://" is the first, as the check wants */
            if (e > 0 && url_host_after(s + i, e - i, s + j, &h, &hl)) {
                if ((rc = emit(ud, CAIRN_IOC_URL, s + i, e - i)) < 0 ||
                    (rc = emit_host(emit, ud, h, hl)) < 0)
                    return rc;
                i = e;
                continue;
            }
        }
        /* An email's local part may go on past the host characters
         * ("first.last+tag@"). */
        size_t at = j;
        while (at < len && IS(s[at], C_LOCAL))
            at++;
        if (at < len && s[at] == '@' && at - j <= 64) {
            size_t ls = i;
            while (ls > 0 && IS(s[ls - 1], C_LOCAL))
                ls--;
            while (ls < at && s[ls] == '.')
                ls++;
            size_t d = at + 1, e = d;
            while (e < len && IS(s[e], C_HOST))
                e++;
            while (e > d && (s[e - 1] == '.' || s[e - 1] == '-'))
                e--;
            if (ls < at && cairn__tele_is_email(s + ls, e - ls)) {
                if ((rc = emit(ud, CAIRN_IOC_EMAIL, s + ls, e - ls)) < 0)
                    return rc;
                i = e;
                continue;
            }
        }
        size_t a = i, b = j;
        while (a < b && (s[a] == '.' || s[a] == '-'))
            a++;
        while (b > a && (s[b - 1] == '.' || s[b - 1] == '-'))
            b--;
        enum cairn_ioc_type t = CAIRN_IOC_UNKNOWN;
        if (dot && b - a >= 4) {
            if (IS(s[a], C_DIGIT) && cairn__tele_is_ipv4(s + a, b - a))
                t = CAIRN_IOC_IPV4;
            else if (cairn__tele_is_domain(s + a, b - a))
                t = CAIRN_IOC_DOMAIN;
        }
        if (t != CAIRN_IOC_UNKNOWN && (rc = emit(ud, t, s + a, b - a)) < 0)
            return rc;
        if (t != CAIRN_IOC_IPV4 && b - a >= 32) {
            /* Digests: whole hex pieces between '.' or '-', also in what
             * looked like a domain ("<md5>.bin", "sha256-<hex>"). */
            size_t p = a;
            while (p < b) {
                size_t q = p;
                while (q < b && s[q] != '.' && s[q] != '-')
                    q++;
                enum cairn_ioc_type h = cairn__tele_hash_type(s + p, q - p);
                if (h != CAIRN_IOC_UNKNOWN &&
                    (rc = emit(ud, h, s + p, q - p)) < 0)
                    return rc;
                p = q + 1;
            }
        }
        i = j;
    }
    return 0;
}

struct array_sink {
    struct cairn_hunt_field *out;
    size_t max, n;
};

static int array_emit(void *ud, enum cairn_ioc_type type, const char *v,
                      size_t len)
{
    struct array_sink *a = ud;
    if (a->n < a->max) {
        a->out[a->n].type = type;
        a->out[a->n].value = v;
        a->out[a->n].len = len;
        a->out[a->n].name = NULL;
    }
    a->n++;
    return 0;
}

size_t cairn_telemetry_extract(const char *text, size_t len,
                               struct cairn_hunt_field *out, size_t max)
{
    struct array_sink a = {out, out != NULL ? max : 0, 0};
    if (text != NULL)
        (void)extract(text, len, array_emit, &a);
    return a.n;
}

/* ---- the token pass over a line of text ----------------------------------
 *
 * A space is no byte of any value the extractor finds and ends every run
 * it follows (host characters, IPv6, an email's parts, a URL: C_URLEND),
 * so the extractor gives for a line what it gives for each of its
 * space-separated words in turn. A word without '.', ':' or '@' and
 * shorter than a digest (32) holds none: it is passed over on two bit
 * tests, and the extractor runs on the other words alone. The bits are
 * found 64 bytes at a time.
 */

/*
 * Bits of n (at most 64) bytes at p: w[0] spaces, w[1] '.', ':' or '@',
 * w[2] bytes other than digits and '.'.
 */
static void word_bits_bytes(const char *p, size_t n, uint64_t w[3])
{
    uint64_t a = 0, b = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        char x = p[i];
        a |= (uint64_t)(x == ' ') << i;
        b |= (uint64_t)(x == '.' || x == ':' || x == '@') << i;
        c |= (uint64_t)(x != '.' && (x < '0' || x > '9')) << i;
    }
    w[0] = a;
    w[1] = b;
    w[2] = c;
}

#if defined(__SSE2__)
static void word_bits_sse2(const char *p, uint64_t w[3])
{
    uint64_t a = 0, b = 0, c = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x =
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        unsigned dot = eq_mask(x, '.');
        a |= (uint64_t)eq_mask(x, ' ') << (16 * k);
        b |= (uint64_t)(dot | eq_mask(x, ':') | eq_mask(x, '@')) << (16 * k);
        c |= (uint64_t)(~(dot | (unsigned)_mm_movemask_epi8(
                                    in_range(x, '0', '9'))) &
                        0xFFFFu)
             << (16 * k);
    }
    w[0] = a;
    w[1] = b;
    w[2] = c;
}
#endif

#if defined(CAIRN_TELE_X86_SIMD)
__attribute__((target("avx2"))) static void word_bits_avx2(const char *p,
                                                           uint64_t w[3])
{
    uint64_t a = 0, b = 0, c = 0;
    for (int k = 0; k < 2; k++) {
        __m256i x =
            _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        __m256i dot = _mm256_cmpeq_epi8(x, _mm256_set1_epi8('.'));
        __m256i v = _mm256_or_si256(
            _mm256_or_si256(dot, _mm256_cmpeq_epi8(x, _mm256_set1_epi8(':'))),
            _mm256_cmpeq_epi8(x, _mm256_set1_epi8('@')));
        /* digits: x + (0x80 - '0') below -128 + 10, signed */
        __m256i dg = _mm256_cmpgt_epi8(
            _mm256_set1_epi8((char)(-128 + 10)),
            _mm256_add_epi8(x, _mm256_set1_epi8((char)(0x80 - '0'))));
        a |= (uint64_t)(uint32_t)_mm256_movemask_epi8(
                 _mm256_cmpeq_epi8(x, _mm256_set1_epi8(' ')))
             << (32 * k);
        b |= (uint64_t)(uint32_t)_mm256_movemask_epi8(v) << (32 * k);
        c |= (uint64_t)(uint32_t)~_mm256_movemask_epi8(_mm256_or_si256(dg, dot))
             << (32 * k);
    }
    w[0] = a;
    w[1] = b;
    w[2] = c;
}

__attribute__((target("avx512f,avx512bw"))) static void
word_bits_avx512(const char *p, uint64_t w[3])
{
    __m512i x = _mm512_loadu_si512((const void *)p);
    uint64_t dot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
    w[0] = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' '));
    w[1] = dot | _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(':')) |
           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('@'));
    w[2] = ~(dot | _mm512_cmplt_epu8_mask(
                       _mm512_sub_epi8(x, _mm512_set1_epi8('0')),
                       _mm512_set1_epi8(10)));
}
#endif

/*
 * The bits of s[base, base + 64), fewer at the end: no byte past len is
 * read; a last block of a line of 64 bytes or more is the line's last 64
 * bytes, shifted.
 */
static inline void word_bits(int simd, const char *s, size_t len, size_t base,
                             uint64_t w[3])
{
    size_t shift = 0;
    if (len - base < 64) {
        if (len < 64 || simd == TELE_SIMD_NONE) {
            word_bits_bytes(s + base, len - base, w);
            return;
        }
        shift = 64 - (len - base);
        base = len - 64;
    }
    switch (simd) {
#if defined(CAIRN_TELE_X86_SIMD)
    case TELE_SIMD_VBMI2:
    case TELE_SIMD_AVX512:
        word_bits_avx512(s + base, w);
        break;
    case TELE_SIMD_AVX2:
        word_bits_avx2(s + base, w);
        break;
#endif
#if defined(__SSE2__)
    case TELE_SIMD_SSE2:
        word_bits_sse2(s + base, w);
        break;
#endif
    default:
        word_bits_bytes(s + base, 64, w);
        break;
    }
    for (int k = 0; k < 3; k++)
        w[k] >>= shift;
}

/*
 * A word of digits and dots, holding a dot, shorter than a digest: what
 * the extractor finds in it is an IPv4 address (without the dots around
 * it) or nothing (a last label of digits is no domain's).
 */
static inline int number_word(const char *s, size_t len, emit_fn emit,
                              void *ud)
{
    size_t a = 0, b = len;
    while (a < b && s[a] == '.')
        a++;
    while (b > a && s[b - 1] == '.')
        b--;
    if (b - a >= 4 && cairn__tele_is_ipv4(s + a, b - a))
        return emit(ud, CAIRN_IOC_IPV4, s + a, b - a);
    return 0;
}

/* The extractor over one word of a line. */
static inline __attribute__((always_inline)) int
extract_word(const char *s, size_t len, bool want, bool other, emit_fn emit,
             void *ud)
{
    if (len >= 32)
        return extract(s, len, emit, ud);
    if (!want)
        return 0;
    if (!other)
        return number_word(s, len, emit, ud);
    return extract(s, len, emit, ud);
}

/* The extractor over the words of a line that may hold values. */
static inline __attribute__((always_inline)) int
extract_words(const char *s, size_t len, int simd, emit_fn emit, void *ud)
{
    size_t word = 0; /* where the current word starts */
    bool want = false, other = false;
    int rc;
    for (size_t base = 0; base < len; base += 64) {
        uint64_t w[3];
        word_bits(simd, s, len, base, w);
        uint64_t sp = w[0];
        size_t from = word > base ? word - base : 0; /* at most 64 */
        while (sp != 0) {
            size_t e = (size_t)__builtin_ctzll(sp);
            sp &= sp - 1;
            /* e >= from: the word starts after the previous space */
            uint64_t span = ((1ULL << e) - 1) & (~0ULL << from);
            size_t end = base + e;
            if ((rc = extract_word(s + word, end - word,
                                   want || (w[1] & span) != 0,
                                   other || (w[2] & span) != 0, emit, ud)) < 0)
                return rc;
            word = end + 1;
            from = e + 1;
            want = other = false;
        }
        if (from < 64) {
            want |= (w[1] & (~0ULL << from)) != 0;
            other |= (w[2] & (~0ULL << from)) != 0;
        }
    }
    if (word < len &&
        (rc = extract_word(s + word, len - word, want, other, emit, ud)) < 0)
        return rc;
    return 0;
}

size_t cairn__tele_extract_words(const char *text, size_t len, int simd,
                                 struct cairn_hunt_field *out, size_t max)
{
    struct array_sink a = {out, out != NULL ? max : 0, 0};
    if (text != NULL)
        (void)extract_words(text, len, simd, array_emit, &a);
    return a.n;
}

/* ---- typing values by the name of their field ------------------------------
 */

struct reader_sink {
    struct cairn_telemetry_reader *r;
    const char *name;
};

static int reader_emit(void *ud, enum cairn_ioc_type type, const char *v,
                       size_t len)
{
    struct reader_sink *rs = ud;
    struct cairn_telemetry_reader *r = rs->r;
    /* the common case without a call (cairn__tele_add grows the array) */
    if (r->n_fields == r->fields_cap || len == 0)
        return cairn__tele_add(r, type, v, len, rs->name);
    struct cairn_hunt_field *f = &r->fields[r->n_fields++];
    f->type = type;
    f->value = v;
    f->len = len;
    f->name = rs->name;
    return 0;
}

int cairn__tele_add_extracted(struct cairn_telemetry_reader *r, const char *v,
                       size_t len, const char *name)
{
    struct reader_sink rs = {r, name};
    return extract(v, len, reader_emit, &rs);
}

int cairn__tele_add_extracted_words(struct cairn_telemetry_reader *r,
                                    const char *v, size_t len,
                                    const char *name)
{
    struct reader_sink rs = {r, name};
    return extract_words(v, len, r->simd, reader_emit, &rs);
}

/* A host value: "[v6]", "host:port", "evil.com." are common spellings. */
static int add_host(struct cairn_telemetry_reader *r, const char *v, size_t len,
                    const char *name)
{
    if (len > 2 && v[0] == '[') {
        const char *e = memchr(v, ']', len);
        if (e != NULL) {
            v++;
            len = (size_t)(e - v);
        }
    } else {
        const char *c = memchr(v, ':', len);
        if (c != NULL && memchr(c + 1, ':', len - (size_t)(c + 1 - v)) == NULL)
            len = (size_t)(c - v);
    }
    if (len > 1 && v[len - 1] == '.')
        len--;
    enum cairn_ioc_type t = host_type(v, len);
    if (t == CAIRN_IOC_UNKNOWN)
        return 1;
    return cairn__tele_add(r, t, v, len, name);
}

static int add_url(struct cairn_telemetry_reader *r, const char *v, size_t len,
                   const char *name)
{
    const char *h;
    size_t hl;
    if (!cairn__tele_url_host(v, len, &h, &hl))
        return 1;
    int rc = cairn__tele_add(r, CAIRN_IOC_URL, v, len, name);
    if (rc == 0) {
        enum cairn_ioc_type t = host_type(h, hl);
        if (t != CAIRN_IOC_UNKNOWN)
            rc = cairn__tele_add(r, t, h, hl, name);
    }
    return rc;
}

static bool all_digits(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!IS(v[i], C_DIGIT))
            return false;
    return true;
}

/* Whether a value may hold several values ("a b", "a;b", "a,b"). */
static bool has_space(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (v[i] == ' ' || v[i] == '\t' || v[i] == ';' || v[i] == ',' ||
            v[i] == '|')
            return true;
    return false;
}

/*
 * A host in a Zeek column: Zeek has parsed the DNS message or the header
 * already, so a cheap shape check stands in for full validation (speed
 * matters most here). Names keep their underscores (_ldap._tcp...).
 */
int cairn__tele_add_zeek_host(struct cairn_telemetry_reader *r, const char *v,
                       size_t len, const char *name)
{
    if (len > 1 && v[len - 1] == '.')
        len--;
    if (len < 2 || len > 253)
        return 0;
    unsigned char all = 0xff, any = 0;
    bool dot = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char k = cls[(unsigned char)v[i]];
        all &= k;
        any |= k;
        dot |= v[i] == '.';
    }
    if (all & C_V6) /* hex digits, ':' and '.' only */
        if (memchr(v, ':', len) != NULL)
            return cairn__tele_add(r, CAIRN_IOC_IPV6, v, len, name);
    if (!(all & C_LOCAL) || !dot || v[0] == '.' || !(any & C_ALPHA))
        return (IS(v[0], C_DIGIT) && cairn__tele_is_ipv4(v, len))
                   ? cairn__tele_add(r, CAIRN_IOC_IPV4, v, len, name)
                   : 0;
    return cairn__tele_add(r, CAIRN_IOC_DOMAIN, v, len, name);
}

int cairn__tele_add_kind(struct cairn_telemetry_reader *r, enum tele_kind kind,
                  const char *v, size_t len, const char *name, bool strings)
{
    int rc = 1;
    while (len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    /* "-" is how many logs write "no value". */
    if (len == 0 || (len == 1 && v[0] == '-'))
        return 0;
    switch (kind) {
    case TK_SKIP:
    case TK_TS:
        return 0;
    case TK_HOST:
        rc = add_host(r, v, len, name);
        break;
    case TK_ADDR:
        return cairn__tele_add(r,
                        memchr(v, ':', len) ? CAIRN_IOC_IPV6 : CAIRN_IOC_IPV4,
                        v, len, name);
    case TK_URI:
    case TK_URL:
        /* A relative path names nothing by itself (readers join it with
         * the event's host); keep it whole for string patterns. */
        rc = add_url(r, v, len, name);
        if (rc > 0)
            return strings ? cairn__tele_add(r, CAIRN_IOC_STRING, v, len, name) : 0;
        return rc;
    case TK_HASH: {
        enum cairn_ioc_type t = cairn__tele_hash_type(v, len);
        if (t != CAIRN_IOC_UNKNOWN)
            return cairn__tele_add(r, t, v, len, name);
        return cairn__tele_add_extracted(r, v, len, name);
    }
    case TK_FILENAME: {
        size_t b = len;
        while (b > 0 && v[b - 1] != '/' && v[b - 1] != '\\')
            b--;
        rc = cairn__tele_add(r, CAIRN_IOC_FILENAME, v + b, len - b, name);
        if (rc == 0 && b > 0 && strings)
            rc = cairn__tele_add(r, CAIRN_IOC_STRING, v, len, name);
        return rc;
    }
    case TK_EMAIL:
        if (cairn__tele_is_email(v, len))
            return cairn__tele_add(r, CAIRN_IOC_EMAIL, v, len, name);
        return cairn__tele_add_extracted(r, v, len, name);
    case TK_REGKEY:
        return cairn__tele_add(r, CAIRN_IOC_REGKEY, v, len, name);
    case TK_TEXT:
        rc = cairn__tele_add_extracted(r, v, len, name);
        if (rc == 0 && strings)
            rc = cairn__tele_add(r, CAIRN_IOC_STRING, v, len, name);
        return rc;
    case TK_NONE:
        break;
    }
    if (rc <= 0)
        return rc;
    /* Unknown name, or a value that did not fit its name: its shape. */
    enum cairn_ioc_type t = cairn_telemetry_classify(v, len);
    if (t == CAIRN_IOC_URL)
        return add_url(r, v, len, name);
    if (t != CAIRN_IOC_UNKNOWN)
        return cairn__tele_add(r, t, v, len, name);
    if (!strings || all_digits(v, len))
        return 0;
    if (has_space(v, len) && (rc = cairn__tele_add_extracted(r, v, len, name)) < 0)
        return rc;
    return cairn__tele_add(r, CAIRN_IOC_STRING, v, len, name);
}

/* ---- the name table -------------------------------------------------------
 */

struct key_entry {
    const char *name;
    enum tele_kind kind;
};

/* Sorted by name (bytewise) for bsearch; a unit test checks the order. */
static const struct key_entry key_table[] = {
    {"@timestamp", TK_TS},
    {"_time", TK_TS},
    {"addr", TK_HOST},
    {"address", TK_HOST},
    {"analyzers", TK_SKIP},
    {"answers", TK_HOST},
    {"app_proto", TK_SKIP},
    {"assigned_addr", TK_HOST},
    {"bcc", TK_EMAIL},
    {"c-ip", TK_HOST},
    {"cc", TK_EMAIL},
    {"cert_chain_fps", TK_HASH},
    {"certificate.curve", TK_SKIP},
    {"certificate.exponent", TK_SKIP},
    {"certificate.issuer", TK_SKIP},
    {"certificate.key_alg", TK_SKIP},
    {"certificate.key_type", TK_SKIP},
    {"certificate.serial", TK_SKIP},
    {"certificate.sig_alg", TK_SKIP},
    {"certificate.subject", TK_SKIP},
    {"cipher", TK_SKIP},
    {"client_addr", TK_HOST},
    {"client_cert_chain_fps", TK_HASH},
    {"client_ip", TK_HOST},
    {"client_issuer", TK_SKIP},
    {"client_subject", TK_SKIP},
    {"clientip", TK_HOST},
    {"cmdline", TK_TEXT},
    {"command_line", TK_TEXT},
    {"commandline", TK_TEXT},
    {"conn_state", TK_SKIP},
    {"conn_uids", TK_SKIP},
    {"cs(referer)", TK_URL},
    {"cs-host", TK_HOST},
    {"cs-referer", TK_URL},
    {"cs-uri", TK_URI},
    {"cs-uri-stem", TK_URI},
    {"curve", TK_SKIP},
    {"datetime", TK_TS},
    {"dest", TK_HOST},
    {"dest_addr", TK_HOST},
    {"dest_host", TK_HOST},
    {"dest_ip", TK_HOST},
    {"destination_ip", TK_HOST},
    {"destinationhostname", TK_HOST},
    {"destinationip", TK_HOST},
    {"details", TK_TEXT},
    {"dhost", TK_HOST},
    {"direction", TK_SKIP},
    {"dns_query", TK_HOST},
    {"domain", TK_HOST},
    {"dst", TK_HOST},
    {"dst_addr", TK_HOST},
    {"dst_host", TK_HOST},
    {"dst_ip", TK_HOST},
    {"dstip", TK_HOST},
    {"email", TK_EMAIL},
    {"event_time", TK_TS},
    {"event_type", TK_SKIP},
    {"eventtime", TK_TS},
    {"exe", TK_FILENAME},
    {"executable", TK_FILENAME},
    {"file", TK_FILENAME},
    {"file_hash", TK_HASH},
    {"file_name", TK_FILENAME},
    {"file_path", TK_FILENAME},
    {"filehash", TK_HASH},
    {"filename", TK_FILENAME},
    {"filepath", TK_FILENAME},
    {"fingerprint", TK_HASH},
    {"fname", TK_FILENAME},
    {"fqdn", TK_HOST},
    {"from", TK_EMAIL},
    {"fuid", TK_SKIP},
    {"hash", TK_HASH},
    {"hashes", TK_HASH},
    {"history", TK_SKIP},
    {"host", TK_HOST},
    {"hostname", TK_HOST},
    {"http_host", TK_HOST},
    {"http_refer", TK_URL},
    {"http_referer", TK_URL},
    {"id.orig_h", TK_HOST},
    {"id.resp_h", TK_HOST},
    {"image", TK_FILENAME},
    {"imageloaded", TK_FILENAME},
    {"imphash", TK_SKIP},
    {"in_iface", TK_SKIP},
    {"ip", TK_HOST},
    {"ip_address", TK_HOST},
    {"ipaddr", TK_HOST},
    {"ipaddress", TK_HOST},
    {"issuer", TK_SKIP},
    {"ja3", TK_SKIP},
    {"ja3s", TK_SKIP},
    {"key_path", TK_REGKEY},
    {"last_alert", TK_SKIP},
    {"local_ip", TK_HOST},
    {"logonguid", TK_SKIP},
    {"mail_from", TK_EMAIL},
    {"mailfrom", TK_EMAIL},
    {"md5", TK_HASH},
    {"md5sum", TK_HASH},
    {"message", TK_TEXT},
    {"method", TK_SKIP},
    {"mime_type", TK_SKIP},
    {"msg", TK_TEXT},
    {"next_protocol", TK_SKIP},
    {"orig_filenames", TK_FILENAME},
    {"orig_h", TK_HOST},
    {"orig_mime_types", TK_SKIP},
    {"originalfilename", TK_FILENAME},
    {"parentcommandline", TK_TEXT},
    {"parentimage", TK_FILENAME},
    {"parentprocessguid", TK_SKIP},
    {"process_name", TK_FILENAME},
    {"processguid", TK_SKIP},
    {"processname", TK_FILENAME},
    {"proto", TK_SKIP},
    {"qclass_name", TK_SKIP},
    {"qname", TK_HOST},
    {"qtype_name", TK_SKIP},
    {"query", TK_HOST},
    {"queryname", TK_HOST},
    {"rcode_name", TK_SKIP},
    {"rcpt_to", TK_EMAIL},
    {"rcptto", TK_EMAIL},
    {"rdata", TK_HOST},
    {"recipient", TK_EMAIL},
    {"referer", TK_URL},
    {"referrer", TK_URL},
    {"registry_key", TK_REGKEY},
    {"registrykey", TK_REGKEY},
    {"regkey", TK_REGKEY},
    {"remote_addr", TK_HOST},
    {"remote_ip", TK_HOST},
    {"remoteip", TK_HOST},
    {"reply_to", TK_EMAIL},
    {"request", TK_TEXT},
    {"request_host", TK_HOST},
    {"request_uri", TK_URI},
    {"request_url", TK_URL},
    {"requested_addr", TK_HOST},
    {"resp_filenames", TK_FILENAME},
    {"resp_h", TK_HOST},
    {"resp_mime_types", TK_SKIP},
    {"return_path", TK_EMAIL},
    {"rrname", TK_HOST},
    {"rx_hosts", TK_HOST},
    {"s-ip", TK_HOST},
    {"san.dns", TK_HOST},
    {"san.email", TK_EMAIL},
    {"san.ip", TK_HOST},
    {"san.uri", TK_URL},
    {"sender", TK_EMAIL},
    {"server_ip", TK_HOST},
    {"server_name", TK_HOST},
    {"serverip", TK_HOST},
    {"servername", TK_HOST},
    {"service", TK_SKIP},
    {"sha1", TK_HASH},
    {"sha1sum", TK_HASH},
    {"sha256", TK_HASH},
    {"sha256sum", TK_HASH},
    {"sha512", TK_HASH},
    {"shost", TK_HOST},
    {"sni", TK_HOST},
    {"source_ip", TK_HOST},
    {"sourcehostname", TK_HOST},
    {"sourceimage", TK_FILENAME},
    {"sourceip", TK_HOST},
    {"src", TK_HOST},
    {"src_addr", TK_HOST},
    {"src_host", TK_HOST},
    {"src_ip", TK_HOST},
    {"srcip", TK_HOST},
    {"ssl_history", TK_SKIP},
    {"status_msg", TK_SKIP},
    {"subject", TK_SKIP},
    {"tags", TK_SKIP},
    {"targetfilename", TK_FILENAME},
    {"targetimage", TK_FILENAME},
    {"targetobject", TK_REGKEY},
    {"time", TK_TS},
    {"timestamp", TK_TS},
    {"tls_sni", TK_HOST},
    {"to", TK_EMAIL},
    {"ts", TK_TS},
    {"tx_hosts", TK_HOST},
    {"uid", TK_SKIP},
    {"uri", TK_URI},
    {"uri_path", TK_URI},
    {"url", TK_URI},
    {"url_full", TK_URL},
    {"user_agent", TK_SKIP},
    {"user_email", TK_EMAIL},
    {"utctime", TK_TS},
    {"validation_status", TK_SKIP},
    {"version", TK_SKIP},
    {"x-forwarded-for", TK_HOST},
    {"xff", TK_HOST},
};

#define N_KEYS (sizeof key_table / sizeof key_table[0])

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct key_entry *)a)->name,
                  ((const struct key_entry *)b)->name);
}

enum tele_kind cairn__tele_key_kind(const char *name, size_t len)
{
    char low[48];
    if (len == 0 || len >= sizeof low)
        return TK_NONE;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    low[len] = '\0';
    struct key_entry want = {low, TK_NONE};
    const struct key_entry *e =
        bsearch(&want, key_table, N_KEYS, sizeof key_table[0], key_cmp);
    return e != NULL ? e->kind : TK_NONE;
}

bool cairn__tele_key_table_sorted(void)
{
    for (size_t i = 1; i < N_KEYS; i++)
        if (strcmp(key_table[i - 1].name, key_table[i].name) >= 0)
            return false;
    return true;
}
