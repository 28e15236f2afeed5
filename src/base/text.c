/* SPDX-License-Identifier: Apache-2.0 */
/* Text every module reads: UTF-8, base64 and CSV fields (base.h). */
#include <string.h>

#include "cairn/base.h"

size_t cairn_utf8_decode(const void *s, size_t len, uint32_t *cp)
{
    const unsigned char *p = s;
    uint32_t v;
    size_t n;

    if (len == 0)
        return 0;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        v = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        v = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        v = p[0] & 0x07;
    } else {
        return 0; /* a continuation byte, C0, C1 (overlong) or F5 and up */
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
        (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
        return 0;
    *cp = v;
    return n;
}

size_t cairn_utf8_len(const void *s, size_t len)
{
    uint32_t cp;
    return cairn_utf8_decode(s, len, &cp);
}

bool cairn_utf8_valid(const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t i = 0;

    while (i < len) {
        /* Runs of ASCII are the common case: skip them without decoding. */
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = cairn_utf8_len(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t cairn_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int cairn_base64_decode(const char *s, size_t len, void *out, size_t *out_len)
{
    unsigned char *o = out;
    size_t n = 0;

    if (len % 4 != 0)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0) {
                return CAIRN_EINVAL; /* data after padding */
            } else if ((v[k] = b64_value(c)) < 0) {
                return CAIRN_EINVAL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if (o != NULL) {
            o[n] = (unsigned char)(w >> 16);
            if (pad < 2)
                o[n + 1] = (unsigned char)(w >> 8);
            if (pad < 1)
                o[n + 2] = (unsigned char)w;
        }
        n += (size_t)(3 - pad);
    }
    if (out_len != NULL)
        *out_len = n;
    return 0;
}

/* Where unquoted text ends: at ',' or, unless `line`, at a line break. */
static size_t plain_end(const char *s, size_t len, size_t i, bool line)
{
    if (line) {
        const char *c = i < len ? memchr(s + i, ',', len - i) : NULL;
        return c != NULL ? (size_t)(c - s) : len;
    }
    while (i < len && s[i] != ',' && s[i] != '\n' &&
           !(s[i] == '\r' && (i + 1 == len || s[i + 1] == '\n')))
        i++;
    return i;
}

int cairn_csv_field(const char *s, size_t len, size_t *pos, unsigned flags,
                    struct cairn_csv_field *f)
{
    bool line = (flags & CAIRN_CSV_LINE) != 0;
    size_t i = *pos;

    memset(f, 0, sizeof *f);
    f->tail = s + (i < len ? i : len);
    if (i < len && s[i] == '"') {
        size_t start = ++i;
        for (;;) {
            const char *q = i < len ? memchr(s + i, '"', len - i) : NULL;
            if (q == NULL) {
                f->unclosed = true;
                return CAIRN_EPARSE;
            }
            i = (size_t)(q - s) + 1;
            if (i < len && s[i] == '"') {
                f->escaped = true;
                i++;
                continue;
            }
            break;
        }
        f->quoted = true;
        f->s = s + start;
        f->len = i - 1 - start;
        size_t end = plain_end(s, len, i, line);
        if (end > i && (flags & CAIRN_CSV_STRICT))
            return CAIRN_EPARSE;
        f->tail = s + i;
        f->tail_len = end - i;
        i = end;
    } else {
        size_t end = plain_end(s, len, i, line);
        f->s = s + i;
        f->len = end - i;
        f->tail = s + end;
        i = end;
    }
    if (i < len && s[i] == ',') {
        *pos = i + 1;
        return ',';
    }
    if (!line && i < len && s[i] == '\r')
        i++;
    if (!line && i < len && s[i] == '\n')
        i++;
    *pos = i;
    return '\n';
}

size_t cairn_csv_unquote(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        out[o++] = s[i];
        if (s[i] == '"' && i + 1 < len && s[i + 1] == '"')
            i++; /* the second quote of a pair */
    }
    return o;
}
