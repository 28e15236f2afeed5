/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values. */
#include <math.h>
#include <stdint.h>
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

/* The order of two keys by UTF-16 code units, decoding every character. */
static int member_cmp_u16(const struct member *a, const struct member *b)
{
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

/*
 * The same order, quicker for the usual keys: after a common prefix of
 * bytes (whole characters, in UTF-8), two ASCII bytes compare as their
 * code units do, and a key that ends first sorts first. Only a
 * difference at a non-ASCII byte needs the characters decoded.
 */
static int member_cmp(const void *pa, const void *pb)
{
    const struct member *a = pa;
    const struct member *b = pb;
    const unsigned char *x = (const unsigned char *)a->key;
    const unsigned char *y = (const unsigned char *)b->key;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    size_t i = 0;

    while (i < n && x[i] == y[i])
        i++;
    if (i == n)
        return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
    if (x[i] < 0x80 && y[i] < 0x80)
        return x[i] < y[i] ? -1 : 1;
    return member_cmp_u16(a, b);
}

/*
 * The length of the leading run of `s` that a string copies as it is:
 * ASCII other than controls, '"' and '\\'. Eight bytes at a time: a word
 * with none of those is skipped whole (the tests are exact about whether
 * a word holds one, not where), and the word that does is walked.
 */
static size_t plain_run(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, bs;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        bs = w ^ (ones * '\\');
        if (((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
              ((bs - ones) & ~bs)) &
             high) != 0)
            break;
    }
    while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* One byte: without a call when the room is there (cairn_buf_reserve's
 * terms: within the cap, and a NUL after it). */
static int put_byte(struct cairn_buf *b, char c)
{
    if (b->len < b->cap && b->len + 2 <= b->alloc) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return cairn_buf_putc(b, c);
}

static int put_string(struct cairn_buf *b, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the bytes not yet copied */
    size_t i = plain_run(s, len);
    int rc = len < SIZE_MAX - 2 ? cairn_buf_reserve(b, len + 2) : CAIRN_ETOOBIG;

    if (rc == 0 && i == len) {
        /* Nothing to escape, the usual string: one copy. */
        char *d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, s, len);
        d[len + 1] = '"';
        b->len += len + 2;
        b->data[b->len] = '\0';
        return 0;
    }
    if (rc == 0)
        rc = put_byte(b, '"');

    while (rc == 0 && i < len) {
        i += plain_run(s + i, len - i);
        if (i >= len)
            break;
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
            break;
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

/* 2^53: every integer up to it in magnitude is a double exactly. */
#define SAFE_INT ((json_int_t)1 << 53)

/* The decimal digits of `v` (|v| <= 2^53) into out; the length. */
static int int_digits(json_int_t v, char *out)
{
    char d[24];
    size_t k = 0, o = 0;
    unsigned long long u =
        v < 0 ? (unsigned long long)-v : (unsigned long long)v;

    do {
        d[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        out[o++] = '-';
    while (k > 0)
        out[o++] = d[--k];
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

/* Objects up to this many members are sorted on the stack. */
#define MEMBERS_ON_STACK 32

static int put_object(struct cairn_buf *b, const json_t *obj, int depth,
                      const struct omit *om)
{
    int rc = CAIRN_EINTERNAL;
    size_t n = json_object_size(obj);
    struct member stack[MEMBERS_ON_STACK];
    struct member *mem = stack;

    if (n > MEMBERS_ON_STACK) {
        if (n > SIZE_MAX / sizeof *mem) {
            rc = CAIRN_ETOOBIG;
            goto out;
        }
        mem = cairn_malloc(n * sizeof *mem);
        if (mem == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
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
    if (i > MEMBERS_ON_STACK) {
        qsort(mem, i, sizeof *mem, member_cmp);
    } else {
        /* An object's few members: insertion sort, no calls through a
         * pointer. */
        for (size_t j = 1; j < i; j++) {
            struct member m = mem[j];
            size_t k = j;
            for (; k > 0 && member_cmp(&mem[k - 1], &m) > 0; k--)
                mem[k] = mem[k - 1];
            mem[k] = m;
        }
    }

    rc = put_byte(b, '{');
    for (size_t j = 0; rc == 0 && j < i; j++) {
        if (j > 0)
            rc = put_byte(b, ',');
        if (rc == 0)
            rc = put_string(b, mem[j].key, mem[j].key_len);
        if (rc == 0)
            rc = put_byte(b, ':');
        if (rc == 0)
            rc = put_value(b, mem[j].value, depth + 1, om);
    }
    if (rc == 0)
        rc = put_byte(b, '}');
out:
    if (mem != stack)
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
        rc = put_byte(b, '[');
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            if (i > 0)
                rc = put_byte(b, ',');
            if (rc == 0)
                rc = put_value(b, json_array_get(v, i), depth + 1, om);
        }
        if (rc == 0)
            rc = put_byte(b, ']');
        return rc;
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        /*
         * JCS numbers are IEEE doubles: an integer past 2^53 prints as the
         * nearest double would in ECMAScript, e.g. 2^63-1 as
         * 9223372036854776000. Up to 2^53 it is exact, and prints as its
         * digits.
         */
        if (json_integer_value(v) >= -SAFE_INT &&
            json_integer_value(v) <= SAFE_INT)
            rc = int_digits(json_integer_value(v), num);
        else
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
