/* SPDX-License-Identifier: Apache-2.0 */
/* Values: refanging, type detection, URL normalisation, address parsing. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "values/values_int.h"

static const char *const type_names[CAIRN_IOC_TYPE_COUNT] = {
    [CAIRN_IOC_UNKNOWN] = "unknown",   [CAIRN_IOC_DOMAIN] = "domain",
    [CAIRN_IOC_IPV4] = "ipv4",         [CAIRN_IOC_IPV6] = "ipv6",
    [CAIRN_IOC_URL] = "url",           [CAIRN_IOC_EMAIL] = "email",
    [CAIRN_IOC_MD5] = "md5",           [CAIRN_IOC_SHA1] = "sha1",
    [CAIRN_IOC_SHA256] = "sha256",     [CAIRN_IOC_SHA512] = "sha512",
    [CAIRN_IOC_FILENAME] = "filename", [CAIRN_IOC_REGKEY] = "regkey",
    [CAIRN_IOC_STRING] = "string",
};

const char *cairn_ioc_type_name(enum cairn_ioc_type type)
{
    if ((unsigned)type >= CAIRN_IOC_TYPE_COUNT)
        return "unknown";
    return type_names[type];
}

static char lower_c(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

void cairn__hunt_lower(const char *s, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        out[i] = lower_c(s[i]);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

static bool prefix_ci(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower_c(s[i]) != p[i])
            return false;
    return true;
}

/* Bracketed forms and what they stand for; longest first where they clash. */
static const struct {
    const char *from;
    char to;
} defangs[] = {
    {"[.]", '.'},   {"(.)", '.'},  {"{.}", '.'}, {"[dot]", '.'}, {"(dot)", '.'},
    {"{dot}", '.'}, {"[:]", ':'},  {"[@]", '@'}, {"(@)", '@'},   {"[at]", '@'},
    {"(at)", '@'},  {"{at}", '@'}, {"[/]", '/'},
};

/* Whether "://" (perhaps defanged, perhaps after an 's') follows `at`. */
static bool scheme_follows(const char *s, size_t len, size_t at)
{
    if (at < len && (s[at] == 's' || s[at] == 'S'))
        at++;
    return prefix_ci(s + at, len - at, "://") ||
           prefix_ci(s + at, len - at, "[:]//") ||
           prefix_ci(s + at, len - at, "[://]");
}

long cairn__hunt_refang(const char *s, size_t len, char *out, size_t cap)
{
    while (len > 0 && is_blank(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_blank(s[len - 1]))
        len--;
    size_t o = 0, i = 0;
    /* hxxp://, hXXps://, fxp:// at the start; "hxxpfoo.com" stays */
    if ((prefix_ci(s, len, "hxxp") || prefix_ci(s, len, "fxp")) &&
        scheme_follows(s, len, s[0] == 'f' || s[0] == 'F' ? 3 : 4)) {
        size_t n = s[0] == 'f' || s[0] == 'F' ? 3 : 4;
        if (cap < n)
            return -1;
        memcpy(out, n == 3 ? "ftp" : "http", n);
        o = n;
        i = n;
    }
    while (i < len) {
        char c = s[i];
        if (c != '[' && c != '(' && c != '{') {
            /* a run without brackets, which is most values, in one copy */
            size_t j = i + 1;
            while (j < len && s[j] != '[' && s[j] != '(' && s[j] != '{')
                j++;
            if (j - i > cap - o)
                return -1;
            memcpy(out + o, s + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        if (prefix_ci(s + i, len - i, "[://]")) {
            if (o + 3 > cap)
                return -1;
            memcpy(out + o, "://", 3);
            o += 3;
            i += 5;
            continue;
        }
        {
            bool done = false;
            for (size_t k = 0; k < sizeof defangs / sizeof defangs[0]; k++) {
                if (prefix_ci(s + i, len - i, defangs[k].from)) {
                    c = defangs[k].to;
                    i += strlen(defangs[k].from);
                    done = true;
                    break;
                }
            }
            if (!done)
                i++;
        }
        if (o >= cap)
            return -1;
        out[o++] = c;
    }
    return (long)o;
}

bool cairn__hunt_parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    uint32_t a;
    if (!cairn_ipv4_parse(s, len, &a))
        return false;
    for (int k = 0; k < 4; k++)
        out[k] = (uint8_t)(a >> (24 - 8 * k));
    return true;
}

/*
 * The plain form of an IPv6 address: hex groups of one to four digits and
 * at most one "::". 1 when parsed, 0 when it is something else (embedded
 * IPv4, stray characters, a bad group): then inet_pton decides.
 */
static int ipv6_plain(const char *s, size_t len, uint8_t out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':') {
        if (s[1] != ':')
            return 0;
        gap = 0;
        i = 2;
        if (i == len)
            goto done;
    }
    for (;;) {
        unsigned v = 0;
        size_t start = i;
        while (i < len && i - start < 5) {
            char c = s[i];
            int h = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (h < 0)
                break;
            v = v * 16 + (unsigned)h;
            i++;
        }
        if (i == start || i - start > 4 || n == 8)
            return 0;
        g[n++] = (uint16_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return 0;
            gap = n;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return 0; /* a single ':' at the end */
        }
    }
done:
    if (gap < 0 ? n != 8 : n > 7)
        return 0;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : n - gap;
    for (int k = 0; k < n - tail; k++) {
        out[2 * k] = (uint8_t)(g[k] >> 8);
        out[2 * k + 1] = (uint8_t)g[k];
    }
    for (int k = 0; k < tail; k++) {
        int at = 8 - tail + k;
        out[2 * at] = (uint8_t)(g[n - tail + k] >> 8);
        out[2 * at + 1] = (uint8_t)g[n - tail + k];
    }
    return 1;
}

bool cairn__hunt_parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    char buf[64];
    const char *pct = memchr(s, '%', len);
    if (pct != NULL)
        len = (size_t)(pct - s);
    if (len < 2 || len >= sizeof buf || memchr(s, ':', len) == NULL)
        return false;
    if (ipv6_plain(s, len, out))
        return true;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

size_t cairn__hunt_v4_text(uint32_t a, char out[16])
{
    size_t o = 0;
    for (int part = 3; part >= 0; part--) {
        unsigned v = (a >> (8 * part)) & 0xFF;
        if (v >= 100)
            out[o++] = (char)('0' + v / 100);
        if (v >= 10)
            out[o++] = (char)('0' + v / 10 % 10);
        out[o++] = (char)('0' + v % 10);
        if (part > 0)
            out[o++] = '.';
    }
    return o;
}

static void mask_addr(uint8_t *addr, size_t n, unsigned prefix)
{
    for (size_t i = 0; i < n; i++) {
        unsigned bits = prefix >= 8 * (i + 1) ? 8
                        : prefix > 8 * i      ? prefix - 8 * (unsigned)i
                                              : 0;
        addr[i] &= (uint8_t)(0xFF00u >> bits);
    }
}

bool cairn__hunt_parse_cidr(const char *s, size_t len, int *family, uint8_t addr[16],
                     unsigned *prefix)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    long p = -1;
    if (slash != NULL) {
        size_t dl = len - alen - 1;
        if (dl == 0 || dl > 3 || (slash[1] == '0' && dl > 1))
            return false;
        p = 0;
        for (size_t i = 0; i < dl; i++) {
            char c = slash[1 + i];
            if (c < '0' || c > '9')
                return false;
            p = p * 10 + (c - '0');
        }
    }
    memset(addr, 0, 16);
    if (cairn__hunt_parse_ipv4(s, alen, addr)) {
        if (p > 32)
            return false;
        *family = 4;
        *prefix = p < 0 ? 32 : (unsigned)p;
        mask_addr(addr, 4, *prefix);
        return true;
    }
    if (cairn__hunt_parse_ipv6(s, alen, addr)) {
        if (p > 128)
            return false;
        *family = 6;
        *prefix = p < 0 ? 128 : (unsigned)p;
        mask_addr(addr, 16, *prefix);
        return true;
    }
    return false;
}

/* Characters of a host name label: 1 a digit, 2 anything else allowed
 * (bytes from 0x80 on, UTF-8, are allowed too). */
static const unsigned char label_class[128] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['-'] = 2, ['_'] = 2, ['a'] = 2, ['b'] = 2,
    ['c'] = 2, ['d'] = 2, ['e'] = 2, ['f'] = 2, ['g'] = 2, ['h'] = 2, ['i'] = 2,
    ['j'] = 2, ['k'] = 2, ['l'] = 2, ['m'] = 2, ['n'] = 2, ['o'] = 2, ['p'] = 2,
    ['q'] = 2, ['r'] = 2, ['s'] = 2, ['t'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2,
    ['x'] = 2, ['y'] = 2, ['z'] = 2, ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2,
    ['E'] = 2, ['F'] = 2, ['G'] = 2, ['H'] = 2, ['I'] = 2, ['J'] = 2, ['K'] = 2,
    ['L'] = 2, ['M'] = 2, ['N'] = 2, ['O'] = 2, ['P'] = 2, ['Q'] = 2, ['R'] = 2,
    ['S'] = 2, ['T'] = 2, ['U'] = 2, ['V'] = 2, ['W'] = 2, ['X'] = 2, ['Y'] = 2,
    ['Z'] = 2,
};

bool cairn__hunt_is_domain(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len < 3 || len > 253)
        return false;
    size_t label = 0, labels = 1;
    bool alpha_tld = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            labels++;
            label = 0;
            alpha_tld = false;
            continue;
        }
        unsigned k = c >= 0x80 ? 2 : label_class[c];
        if (k == 0 || ++label > 63)
            return false;
        if (k == 2)
            alpha_tld = true;
    }
    /* "1.2.3" is not a domain; the last label needs a non-digit */
    return label > 0 && labels >= 2 && alpha_tld;
}

bool cairn__hunt_is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    return len > 0;
}

enum cairn_ioc_type cairn__hunt_hash_type(size_t len)
{
    switch (len) {
    case 32:
        return CAIRN_IOC_MD5;
    case 40:
        return CAIRN_IOC_SHA1;
    case 64:
        return CAIRN_IOC_SHA256;
    case 128:
        return CAIRN_IOC_SHA512;
    default:
        return CAIRN_IOC_UNKNOWN;
    }
}

/* Length of "scheme://" at the start of `s`, or 0. */
static size_t scheme_len(const char *s, size_t len)
{
    size_t i = 0;
    /* the usual two, without the search below */
    if (len >= 8 && memcmp(s, "http", 4) == 0) {
        if (memcmp(s + 4, "://", 3) == 0)
            return 7;
        if (s[4] == 's' && memcmp(s + 5, "://", 3) == 0)
            return 8;
    }
    /* most values have no ':' among their first 35 bytes: no scheme */
    if (memchr(s, ':', len < 35 ? len : 35) == NULL)
        return 0;
    while (i < len && i < 32 &&
           ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
            (i > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
                       s[i] == '-' || s[i] == '.'))))
        i++;
    if (i == 0 || i + 3 > len || memcmp(s + i, "://", 3) != 0)
        return 0;
    return i + 3;
}

/* The authority of a URL: [start, end) after "scheme://". */
static size_t authority_end(const char *s, size_t len, size_t start)
{
    size_t i = start;
    while (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#')
        i++;
    return i;
}

bool cairn__hunt_url_host(const char *url, size_t len, const char **host,
                   size_t *host_len)
{
    size_t sl = scheme_len(url, len);
    if (sl == 0)
        return false;
    size_t end = authority_end(url, len, sl);
    size_t h = sl;
    for (size_t i = sl; i < end; i++)
        if (url[i] == '@')
            h = i + 1;
    size_t e;
    if (h < end && url[h] == '[') {
        const char *rb = memchr(url + h, ']', end - h);
        if (rb == NULL)
            return false;
        *host = url + h + 1;
        *host_len = (size_t)(rb - (url + h + 1));
        return *host_len > 0;
    }
    e = h;
    while (e < end && url[e] != ':')
        e++;
    *host = url + h;
    *host_len = e - h;
    return e > h;
}

static int hexval(char c)
{
    return cairn_hex_digit(c);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Bounded output: a write past `cap` is dropped and remembered. */
struct writer {
    char *out;
    size_t cap, o;
    bool over;
};

static void put(struct writer *w, char c)
{
    if (w->o >= w->cap) {
        w->over = true;
        return;
    }
    w->out[w->o++] = c;
}

bool cairn__hunt_url_norm_host(const char *url, size_t len, size_t *start,
                               size_t *end)
{
    size_t sl = scheme_len(url, len);
    if (sl == 0)
        return false;
    /*
     * One pass over the authority (up to '/', '?' or '#'): the last '@'
     * (the host follows it), the last ':' and the last ']'. The port is
     * after the last ':' at or after the host's start unless a ']' comes
     * later, as cairn_hunt_url_normalize has it.
     */
    size_t h = sl, colon = 0, rb = 0, k = sl;
    bool has_colon = false, has_rb = false;
#if defined(__SSE2__)
    for (; k + 16 <= len; k += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(url + k));
#define EQ(c) ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c))))
        unsigned stop = EQ('/') | EQ('?') | EQ('#');
        unsigned keep = stop != 0 ? (1u << __builtin_ctz(stop)) - 1 : 0xFFFFu;
        unsigned ats = EQ('@') & keep, cols = EQ(':') & keep,
                 rbs = EQ(']') & keep;
#undef EQ
        if (ats != 0)
            h = k + 32 - (size_t)__builtin_clz(ats);
        if (cols != 0) {
            colon = k + 31 - (size_t)__builtin_clz(cols);
            has_colon = true;
        }
        if (rbs != 0) {
            rb = k + 31 - (size_t)__builtin_clz(rbs);
            has_rb = true;
        }
        if (stop != 0) {
            k += (size_t)__builtin_ctz(stop);
            goto done;
        }
    }
#endif
    for (; k < len; k++) {
        char c = url[k];
        if (c == '/' || c == '?' || c == '#')
            break;
        if (c == '@') {
            h = k + 1;
        } else if (c == ':') {
            colon = k;
            has_colon = true;
        } else if (c == ']') {
            rb = k;
            has_rb = true;
        }
    }
#if defined(__SSE2__)
done:
#endif
    *start = h;
    *end = has_colon && colon >= h && !(has_rb && rb >= h && rb > colon)
               ? colon
               : k;
    return true;
}

int cairn_hunt_url_normalize(const char *url, size_t len, char *out, size_t cap)
{
    static const char hexd[] = "0123456789ABCDEF";
    struct writer w = {out, cap, 0, false};
    size_t sl = scheme_len(url, len);
    size_t i = 0;
    if (sl > 0) {
        for (; i < sl; i++)
            put(&w, lower_c(url[i]));
        size_t end = authority_end(url, len, sl);
        size_t h = sl;
        for (size_t k = sl; k < end; k++)
            if (url[k] == '@')
                h = k + 1;
        for (; i < h; i++) /* user information keeps its case */
            put(&w, url[i]);
        /* the port: after the last ':' that is not inside [...] */
        size_t port = end;
        for (size_t k = end; k > h; k--) {
            if (url[k - 1] == ']')
                break;
            if (url[k - 1] == ':') {
                port = k - 1;
                break;
            }
        }
        for (; i < port; i++)
            put(&w, lower_c(url[i]));
        if (port < end) {
            const char *p = url + port + 1;
            size_t pl = end - port - 1;
            const char *sch = url;
            size_t schl = sl - 3;
            bool dflt = pl == 0 ||
                        (pl == 2 && memcmp(p, "80", 2) == 0 &&
                         ((schl == 4 && prefix_ci(sch, schl, "http")) ||
                          (schl == 2 && prefix_ci(sch, schl, "ws")))) ||
                        (pl == 3 && memcmp(p, "443", 3) == 0 &&
                         ((schl == 5 && prefix_ci(sch, schl, "https")) ||
                          (schl == 3 && prefix_ci(sch, schl, "wss")))) ||
                        (pl == 2 && memcmp(p, "21", 2) == 0 && schl == 3 &&
                         prefix_ci(sch, schl, "ftp"));
            if (!dflt)
                for (size_t k = port; k < end; k++)
                    put(&w, url[k]);
        }
        i = end;
        if (i == len || url[i] != '/')
            put(&w, '/');
    }
    while (i < len) {
        char c = url[i];
        if (c == '%' && i + 2 < len && hexval(url[i + 1]) >= 0 &&
            hexval(url[i + 2]) >= 0) {
            unsigned char d =
                (unsigned char)(hexval(url[i + 1]) * 16 + hexval(url[i + 2]));
            if (unreserved(d)) {
                put(&w, (char)d);
            } else {
                put(&w, '%');
                put(&w, hexd[d >> 4]);
                put(&w, hexd[d & 15]);
            }
            i += 3;
            continue;
        }
        put(&w, c);
        i++;
    }
    if (w.over)
        return CAIRN_ETOOBIG;
    return (int)w.o;
}

static bool is_email(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (at == NULL || at == s)
        return false;
    size_t dl = len - (size_t)(at - s) - 1;
    if (memchr(at + 1, '@', dl) != NULL)
        return false;
    for (const char *p = s; p < at; p++)
        if (is_blank(*p) || *p == '/' || *p == '<' || *p == '>')
            return false;
    return cairn__hunt_is_domain(at + 1, dl);
}

enum cairn_ioc_type cairn_hunt_detect(const char *s, size_t len, char *out,
                                      size_t cap, size_t *out_len)
{
    char tmp[HUNT_URL_MAX + 2];
    char norm[HUNT_URL_MAX + 2];
    enum cairn_ioc_type t = CAIRN_IOC_UNKNOWN;
    size_t nl = 0;
    if (out_len != NULL)
        *out_len = 0;
    if (s == NULL)
        return CAIRN_IOC_UNKNOWN;
    long rl = cairn__hunt_refang(s, len, tmp, sizeof tmp - 2);
    if (rl <= 0)
        return CAIRN_IOC_UNKNOWN;
    size_t n = (size_t)rl;
    int family;
    unsigned prefix;
    uint8_t addr[16];

    if (scheme_len(tmp, n) > 0) {
        const char *h;
        size_t hl;
        bool space = false;
        for (size_t i = 0; i < n; i++)
            space |= is_blank(tmp[i]);
        if (space || !cairn__hunt_url_host(tmp, n, &h, &hl))
            return CAIRN_IOC_UNKNOWN;
        int r = cairn_hunt_url_normalize(tmp, n, norm, sizeof norm);
        if (r < 0)
            return CAIRN_IOC_UNKNOWN;
        nl = (size_t)r;
        t = CAIRN_IOC_URL;
    } else if (cairn__hunt_is_hex(tmp, n) && cairn__hunt_hash_type(n) != CAIRN_IOC_UNKNOWN) {
        t = cairn__hunt_hash_type(n);
        cairn__hunt_lower(tmp, n, norm);
        nl = n;
    } else if (cairn__hunt_parse_cidr(tmp, n, &family, addr, &prefix)) {
        t = family == 4 ? CAIRN_IOC_IPV4 : CAIRN_IOC_IPV6;
        /* inet_ntop's text (for IPv4 the same as cairn__hunt_v4_text's) */
        if (family == 4) {
            nl =
                cairn__hunt_v4_text((uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
                                 (uint32_t)addr[2] << 8 | addr[3],
                             norm);
        } else {
            if (inet_ntop(AF_INET6, addr, norm, INET6_ADDRSTRLEN) == NULL)
                return CAIRN_IOC_UNKNOWN;
            nl = strlen(norm);
        }
        if (prefix != (family == 4 ? 32u : 128u)) {
            char d[4];
            size_t k = 0;
            do {
                d[k++] = (char)('0' + prefix % 10);
                prefix /= 10;
            } while (prefix > 0 && k < sizeof d);
            norm[nl++] = '/';
            while (k > 0)
                norm[nl++] = d[--k];
        }
    } else if (is_email(tmp, n)) {
        t = CAIRN_IOC_EMAIL;
        cairn__hunt_lower(tmp, n, norm);
        nl = n;
        if (norm[nl - 1] == '.')
            nl--;
    } else if (cairn__hunt_is_domain(tmp, n)) {
        t = CAIRN_IOC_DOMAIN;
        cairn__hunt_lower(tmp, n, norm);
        nl = n;
        if (norm[nl - 1] == '.')
            nl--;
    } else {
        return CAIRN_IOC_UNKNOWN;
    }
    if (out != NULL) {
        if (nl > cap)
            return CAIRN_IOC_UNKNOWN;
        memcpy(out, norm, nl);
    }
    if (out_len != NULL)
        *out_len = nl;
    return t;
}
