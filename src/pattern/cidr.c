/* SPDX-License-Identifier: Apache-2.0 */
/* Value helpers for comparisons: CIDRs, base64 and hex, SQL LIKE. */
#include <arpa/inet.h>
#include <string.h>

#include "pattern/pattern_int.h"

bool cairn__pat_cidr_parse(const char *s, size_t len, struct cidr *out)
{
    char buf[64];
    if (s == NULL || len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash != NULL) {
        *slash = '\0';
        const char *d = slash + 1;
        if (*d == '\0' || strlen(d) > 3)
            return false;
        prefix = 0;
        for (; *d; d++) {
            if (*d < '0' || *d > '9')
                return false;
            prefix = prefix * 10 + (*d - '0');
        }
        /* "/08" is not a prefix length anyone means */
        if (slash[1] == '0' && slash[2] != '\0')
            return false;
    }
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = 4;
        if (prefix > 32)
            return false;
        out->prefix = prefix < 0 ? 32 : (unsigned)prefix;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = 6;
        if (prefix > 128)
            return false;
        out->prefix = prefix < 0 ? 128 : (unsigned)prefix;
    } else {
        return false;
    }
    return true;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool cairn__pat_cidr_within(const struct cidr *inner, const struct cidr *outer)
{
    if (inner->family != outer->family || inner->prefix < outer->prefix)
        return false;
    return prefix_equal(inner->addr, outer->addr, outer->prefix);
}

bool cairn__pat_base64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    return cairn_base64_decode(s, len, out, out_len) == 0;
}

bool cairn__pat_hex_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
    if (len % 2 != 0)
        return false;
    for (size_t i = 0; i < len; i += 2) {
        int hi = cairn_hex_digit(s[i]), lo = cairn_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return true;
}

/* Length of the UTF-8 character starting at s[0] (1 for stray bytes). */
static size_t char_len(const char *s, size_t len)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return n > len ? len : n;
}

/*
 * The classic wildcard match with one backtrack point: when a later '%'
 * is reached, earlier ones never need revisiting, so the cost is
 * O(len(pat) * len(s)) at worst and linear in the usual cases.
 */
bool cairn__pat_like(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0;
    size_t star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
        } else if (pi < plen && p[pi] == '_') {
            pi++;
            si += char_len(s + si, slen - si);
        } else if (pi < plen && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star_p != (size_t)-1) {
            pi = star_p;
            star_s += char_len(s + star_s, slen - star_s);
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < plen && p[pi] == '%')
        pi++;
    return pi == plen;
}
