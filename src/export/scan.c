/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The members of one JSON object, read in place: what an export needs of
 * a stored indicator (a few strings) without building a tree. It accepts
 * what jansson's json_loadb(JSON_ALLOW_NUL) accepts as an object (the
 * fuzz target fuzz_export_json compares the two), and allocates nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SCAN_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct scan {
    const char *p, *end;
    unsigned depth;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
                             *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned long v;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    return n;
}

/* A string at s->p (on the quote): its contents, and whether it has \. */
static bool string(struct scan *s, const char **v, size_t *len, bool *esc)
{
    const char *p = s->p + 1;
    *esc = false;
    while (p < s->end) {
#ifdef __SSE2__
        /* 16 plain bytes at a time: none a quote, a backslash, a control
         * character or a byte of a UTF-8 sequence (signed: below 0x20) */
        while (s->end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            unsigned bits = (unsigned)_mm_movemask_epi8(m);
            if (bits != 0) {
                p += __builtin_ctz(bits);
                break;
            }
            p += 16;
        }
        if (p >= s->end)
            break;
#endif
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *v = s->p + 1;
            *len = (size_t)(p - (s->p + 1));
            s->p = p + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            *esc = true;
            if (p + 1 >= s->end)
                return false;
            char e = p[1];
            if (e == 'u') {
                if (s->end - p < 6)
                    return false;
                long u = hex4(p + 2);
                if (u < 0)
                    return false;
                p += 6;
                if (u >= 0xdc00 && u <= 0xdfff)
                    return false;
                if (u >= 0xd800 && u <= 0xdbff) {
                    if (s->end - p < 6 || p[0] != '\\' || p[1] != 'u')
                        return false;
                    long l = hex4(p + 2);
                    if (l < 0xdc00 || l > 0xdfff)
                        return false;
                    p += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return false;
            p += 2;
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_seq((const unsigned char *)p,
                            (const unsigned char *)s->end);
        if (n == 0)
            return false;
        p += n;
    }
    return false;
}

/* A number as jansson reads it: integers must fit in 64 bits, reals must
 * not overflow a double. */
static bool number(struct scan *s)
{
    const char *p = s->p, *start = p;
    bool real = false;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return false;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return false;
    }
    if (p < s->end && *p == '.') {
        real = true;
        p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return false;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return false;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    char tmp[64];
    size_t n = (size_t)(p - start);
    s->p = p;
    if (!real) {
        /* 19 digits always fit; more only when the value does */
        size_t digits = n - (start[0] == '-');
        if (digits < 19)
            return true;
        if (n >= sizeof tmp)
            return false;
        memcpy(tmp, start, n);
        tmp[n] = '\0';
        errno = 0;
        (void)strtoll(tmp, NULL, 10);
        return errno != ERANGE;
    }
    char *big = n >= sizeof tmp ? cairn_malloc(n + 1) : tmp;
    if (big == NULL)
        return false;
    memcpy(big, start, n);
    big[n] = '\0';
    errno = 0;
    double d = strtod(big, NULL);
    bool ok = !(errno == ERANGE && (d > 1.0 || d < -1.0));
    if (big != tmp)
        cairn_free(big);
    return ok;
}

static bool value(struct scan *s, char *kind);

/* Whether a key's escaped text holds \u0000: jansson refuses a NUL byte
 * in a key, even with JSON_ALLOW_NUL. */
static bool key_has_nul(const char *k, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (k[i] != '\\')
            continue;
        if (k[i + 1] == 'u' && i + 6 <= len && hex4(k + i + 2) == 0)
            return true;
        i++; /* the escaped character: \\ is not the start of another */
    }
    return false;
}

static bool container(struct scan *s, char close)
{
    if (++s->depth > SCAN_MAX_DEPTH)
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        char k;
        if (close == '}') {
            const char *kv;
            size_t kl;
            bool ke;
            if (s->p >= s->end || *s->p != '"' || !string(s, &kv, &kl, &ke) ||
                (ke && key_has_nul(kv, kl)))
                return false;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            ws(s);
        }
        if (!value(s, &k))
            return false;
        ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == close) {
            s->p++;
            s->depth--;
            return true;
        }
        if (*s->p != ',')
            return false;
        s->p++;
        ws(s);
    }
}

static bool word(struct scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* One value at s->p (not a blank): skipped, with its kind. */
static bool value(struct scan *s, char *kind)
{
    /* jansson counts every value in its depth, not only containers */
    if (s->p >= s->end || s->depth >= SCAN_MAX_DEPTH)
        return false;
    switch (*s->p) {
    case '"': {
        const char *v;
        size_t l;
        bool e;
        *kind = 's';
        return string(s, &v, &l, &e);
    }
    case '{':
        *kind = 'o';
        return container(s, '}');
    case '[':
        *kind = 'a';
        return container(s, ']');
    case 't':
        *kind = 't';
        return word(s, "true", 4);
    case 'f':
        *kind = 'f';
        return word(s, "false", 5);
    case 'n':
        *kind = '0';
        return word(s, "null", 4);
    default:
        *kind = 'n';
        return number(s);
    }
}

int cairn__export_json_scan(const char *json, size_t len,
                            cairn__export_member_cb cb, void *ud)
{
    struct scan s = {json, json + len, 1};
    int rc;

    ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return CAIRN_EINVAL;
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
        goto end;
    }
    for (;;) {
        struct cairn__export_member m;
        if (s.p >= s.end || *s.p != '"' ||
            !string(&s, &m.key, &m.key_len, &m.key_esc) ||
            (m.key_esc && key_has_nul(m.key, m.key_len)))
            return CAIRN_EINVAL;
        ws(&s);
        if (s.p >= s.end || *s.p != ':')
            return CAIRN_EINVAL;
        s.p++;
        ws(&s);
        const char *v0 = s.p;
        if (s.p < s.end && *s.p == '"') {
            m.kind = 's';
            if (!string(&s, &m.v, &m.v_len, &m.v_esc))
                return CAIRN_EINVAL;
        } else {
            if (!value(&s, &m.kind))
                return CAIRN_EINVAL;
            m.v = v0;
            m.v_len = (size_t)(s.p - v0);
            m.v_esc = false;
        }
        rc = cb(&m, ud);
        if (rc != 0)
            return rc;
        ws(&s);
        if (s.p >= s.end)
            return CAIRN_EINVAL;
        if (*s.p == '}') {
            s.p++;
            break;
        }
        if (*s.p != ',')
            return CAIRN_EINVAL;
        s.p++;
        ws(&s);
    }
end:
    ws(&s);
    return s.p == s.end ? 0 : CAIRN_EINVAL;
}

static size_t put_utf8(char *o, unsigned long u)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xc0 | u >> 6);
        o[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xe0 | u >> 12);
        o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        o[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | u >> 18);
    o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
    o[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

size_t cairn__export_json_unescape(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            const char *bs = memchr(s + i, '\\', len - i);
            size_t run = (size_t)((bs != NULL ? bs : s + len) - (s + i));
            memmove(out + o, s + i, run);
            o += run;
            i += run;
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned long u = (unsigned long)hex4(s + i);
            i += 4;
            if (u >= 0xd800 && u <= 0xdbff) {
                unsigned long l = (unsigned long)hex4(s + i + 2);
                i += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
            }
            o += put_utf8(out + o, u);
            break;
        }
        default:
            out[o++] = e;
            break;
        }
    }
    return o;
}
