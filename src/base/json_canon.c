/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/base.h"

/*
 * Bounds: jansson's own parser nests at most 2048 deep, and nothing cairn
 * canonicalises (an object, a bundle) comes near 1 GiB. The depth limit
 * also stops a hand-built value that contains itself.
 */
#define CANON_MAX_DEPTH 2048
#define CANON_MAX_LEN   ((size_t)1 << 30)

/*
 * Walks a UTF-8 string as UTF-16 code units. JCS sorts by those, which
 * differs from UTF-8 byte order: U+10000 and up become surrogates
 * (0xD800-0xDBFF) and so sort before U+E000-U+FFFF.
 */
struct u16_iter {
    const unsigned char *s;
    size_t len;
    size_t i;
    unsigned pending; /* low surrogate still to come, or 0 */
};

/* The next code unit, or -1 at the end. */
static long u16_next(struct u16_iter *it)
{
    if (it->pending != 0) {
        long u = (long)it->pending;
        it->pending = 0;
        return u;
    }
    if (it->i >= it->len)
        return -1;
    uint32_t u32 = 0;
    size_t adv = cairn_utf8_decode(it->s + it->i, it->len - it->i, &u32);
    long cp = (long)u32;
    if (adv == 0) {
        /* Invalid input is refused when written; any order will do here. */
        cp = it->s[it->i];
        adv = 1;
    }
    it->i += adv;
    if (cp < 0x10000)
        return cp;
    cp -= 0x10000;
    it->pending = 0xdc00 + (unsigned)(cp & 0x3ff);
    return 0xd800 + (cp >> 10);
}

struct member {
    const char *key;
    size_t key_len;
    json_t *value;
};

static int member_cmp(const void *pa, const void *pb)
{
    const struct member *a = pa;
    const struct member *b = pb;
    struct u16_iter ia = {(const unsigned char *)a->key, a->key_len, 0, 0};
    struct u16_iter ib = {(const unsigned char *)b->key, b->key_len, 0, 0};
    for (;;) {
        long ua = u16_next(&ia);
        long ub = u16_next(&ib);
        if (ua != ub)
            return ua < ub ? -1 : 1;
        if (ua < 0)
            return 0;
    }
}

static int put_string(struct cairn_buf *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the bytes not yet copied */
    size_t i = 0;
    int rc = cairn_buf_putc(b, '"');

    while (rc == 0 && i < len) {
        unsigned c = s[i];
        char esc = 0;
        if (c >= 0x80) {
            size_t adv = cairn_utf8_len(s + i, len - i);
            if (adv == 0)
                return CAIRN_EINVAL;
            i += adv;
            continue;
        }
        switch (c) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        default:
            if (c >= 0x20) {
                i++;
                continue;
            }
        }
        rc = cairn_buf_append(b, s + run, i - run);
        if (rc == 0 && esc != 0) {
            char e[2] = {'\\', esc};
            rc = cairn_buf_append(b, e, 2);
        } else if (rc == 0) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            rc = cairn_buf_append(b, e, 6);
        }
        i++;
        run = i;
    }
    if (rc == 0)
        rc = cairn_buf_append(b, s + run, i - run);
    if (rc == 0)
        rc = cairn_buf_putc(b, '"');
    return rc;
}

/*
 * The shortest decimal digits that read back as `a` (> 0, finite), as an
 * integer mantissa and a power of ten. printf and strtod are correctly
 * rounded in glibc; the mantissa form keeps the locale's radix out of it.
 */
static void shortest(double a, unsigned long long *mant, int *exp10)
{
    for (int p = 1; p <= 17; p++) {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, a);
        unsigned long long m = 0;
        const char *q = tmp;
        for (; *q != '\0' && *q != 'e'; q++) {
            if (*q >= '0' && *q <= '9')
                m = m * 10 + (unsigned long long)(*q - '0');
        }
        int e = (int)strtol(q + 1, NULL, 10) - (p - 1);
        /*
         * The nearest p-digit number may miss while a neighbour hits where
         * the gap to the next double differs on each side (powers of two).
         */
        unsigned long long cands[3] = {m, m + 1, m - 1};
        for (int k = 0; k < 3; k++) {
            if (cands[k] == 0)
                continue;
            snprintf(tmp, sizeof tmp, "%llue%d", cands[k], e);
            if (strtod(tmp, NULL) == a) {
                *mant = cands[k];
                *exp10 = e;
                return;
            }
        }
    }
    /* 17 digits always round-trip; not reached. */
    *mant = 0;
    *exp10 = 0;
}

/*
 * ECMAScript Number::toString(10) of a finite double into out (at least
 * 32 bytes); -0 prints as 0. Returns the length.
 */
static int es_number(double v, char *out)
{
    size_t o = 0;

    if (!isfinite(v))
        return CAIRN_EINVAL;
    if (v == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }

    unsigned long long m;
    int e;
    shortest(fabs(v), &m, &e);
    while (m != 0 && m % 10 == 0) {
        m /= 10;
        e++;
    }
    char d[24];
    int k = snprintf(d, sizeof d, "%llu", m);
    int n = k + e; /* value = 0.d * 10^n */

    if (v < 0)
        out[o++] = '-';
    if (k <= n && n <= 21) {
        memcpy(out + o, d, (size_t)k);
        o += (size_t)k;
        for (int z = k; z < n; z++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        memcpy(out + o, d, (size_t)n);
        o += (size_t)n;
        out[o++] = '.';
        memcpy(out + o, d + n, (size_t)(k - n));
        o += (size_t)(k - n);
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int z = n; z < 0; z++)
            out[o++] = '0';
        memcpy(out + o, d, (size_t)k);
        o += (size_t)k;
    } else {
        out[o++] = d[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, d + 1, (size_t)(k - 1));
            o += (size_t)(k - 1);
        }
        int x = n - 1;
        o += (size_t)snprintf(out + o, 8, "e%c%d", x < 0 ? '-' : '+', abs(x));
    }
    out[o] = '\0';
    return (int)o;
}

/* A member left out: `key` of the object `in` (by identity), or none. */
struct omit {
    const json_t *in;
    const char *key;
};

static int put_value(struct cairn_buf *b, const json_t *v, int depth,
                     const struct omit *om);

static int put_object(struct cairn_buf *b, const json_t *obj, int depth,
                      const struct omit *om)
{
    int rc = CAIRN_EINTERNAL;
    size_t n = json_object_size(obj);
    struct member *mem = NULL;

    if (n > SIZE_MAX / sizeof *mem) {
        rc = CAIRN_ETOOBIG;
        goto out;
    }
    mem = cairn_malloc(n * sizeof *mem);
    if (mem == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    size_t i = 0;
    /* jansson's iterator wants a non-const object; it does not modify it. */
    for (void *it = json_object_iter((json_t *)obj); it != NULL && i < n;
         it = json_object_iter_next((json_t *)obj, it)) {
        mem[i].key = json_object_iter_key(it);
        mem[i].key_len = json_object_iter_key_len(it);
        mem[i].value = json_object_iter_value(it);
        if (obj == om->in && mem[i].key_len == strlen(om->key) &&
            memcmp(mem[i].key, om->key, mem[i].key_len) == 0)
            continue;
        i++;
    }
    qsort(mem, i, sizeof *mem, member_cmp);

    rc = cairn_buf_putc(b, '{');
    for (size_t j = 0; rc == 0 && j < i; j++) {
        if (j > 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = put_string(b, mem[j].key, mem[j].key_len);
        if (rc == 0)
            rc = cairn_buf_putc(b, ':');
        if (rc == 0)
            rc = put_value(b, mem[j].value, depth + 1, om);
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, '}');
out:
    cairn_free(mem);
    return rc;
}

static int put_value(struct cairn_buf *b, const json_t *v, int depth,
                     const struct omit *om)
{
    char num[40];
    int rc;

    if (v == NULL)
        return CAIRN_EINVAL;
    if (depth > CANON_MAX_DEPTH)
        return CAIRN_ETOOBIG;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(b, v, depth, om);
    case JSON_ARRAY:
        rc = cairn_buf_putc(b, '[');
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            if (i > 0)
                rc = cairn_buf_putc(b, ',');
            if (rc == 0)
                rc = put_value(b, json_array_get(v, i), depth + 1, om);
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, ']');
        return rc;
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        /*
         * JCS numbers are IEEE doubles: an integer past 2^53 prints as the
         * nearest double would in ECMAScript, e.g. 2^63-1 as
         * 9223372036854776000.
         */
        rc = es_number((double)json_integer_value(v), num);
        return rc < 0 ? rc : cairn_buf_append(b, num, (size_t)rc);
    case JSON_REAL:
        rc = es_number(json_real_value(v), num);
        return rc < 0 ? rc : cairn_buf_append(b, num, (size_t)rc);
    case JSON_TRUE:
        return cairn_buf_puts(b, "true");
    case JSON_FALSE:
        return cairn_buf_puts(b, "false");
    case JSON_NULL:
        return cairn_buf_puts(b, "null");
    }
    return CAIRN_EINVAL;
}

static int canonical(const json_t *value, const struct omit *om, char **out,
                     size_t *len_out)
{
    int rc = CAIRN_EINTERNAL;
    struct cairn_buf b;

    *out = NULL;
    if (len_out != NULL)
        *len_out = 0;
    cairn_buf_init(&b, CANON_MAX_LEN);
    /* Most objects fit; one allocation instead of a few doublings. */
    rc = cairn_buf_reserve(&b, 1024);
    if (rc == 0)
        rc = put_value(&b, value, 0, om);
    if (rc < 0)
        goto out;
    *out = cairn_buf_steal(&b, len_out);
    if (*out == NULL)
        rc = CAIRN_ENOMEM;
out:
    cairn_buf_release(&b);
    return rc;
}

int cairn_json_canonical(const json_t *value, char **out, size_t *len_out)
{
    struct omit om = {NULL, NULL};
    return canonical(value, &om, out, len_out);
}

int cairn_json_canonical_omit(const json_t *value, const json_t *in,
                              const char *key, char **out, size_t *len_out)
{
    struct omit om = {in, key};
    return canonical(value, &om, out, len_out);
}
