/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON parsing over jansson, with errors as diagnostics. */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

void cairn__stix_line_col(const char *buf, size_t len, size_t offset, unsigned *line,
                   unsigned *column)
{
    if (offset > len)
        offset = len;
    unsigned l = 1;
    size_t line_start = 0;
    const char *p = buf;
    const char *end = buf + offset;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        l++;
        line_start = (size_t)(nl - buf) + 1;
        p = nl + 1;
    }
    *line = l;
    *column = (unsigned)(offset - line_start + 1);
}

int cairn__stix_json_error_diag(const json_error_t *err, const char *buf, size_t len,
                         size_t base, struct cairn_diag *diag)
{
    enum json_error_code code = json_error_code(err);
    if (code == json_error_out_of_memory) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax", "out of memory");
        return CAIRN_ENOMEM;
    }
    if (diag == NULL)
        return CAIRN_EPARSE;

    /*
     * jansson's position is just past the byte that failed; point at that
     * byte instead, except at the end of the input.
     */
    size_t pos = err->position > 0 ? (size_t)err->position : 0;
    if (code != json_error_premature_end_of_input && pos > 0)
        pos--;
    switch (code) {
    case json_error_duplicate_key: {
        /*
         * jansson's text does not name the key reliably; it has just read
         * it, so it ends right before the position.
         */
        size_t end = base + pos, start = end;
        if (end < len && buf[end] == '"') {
            while (start > base && !(buf[start - 1] == '"' &&
                                     (start < 2 || buf[start - 2] != '\\')))
                start--;
            if (start > base)
                start--;
            pos = start - base;
        }
        if (end < len && buf[end] == '"' && start < end)
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                           "duplicate object key %.*s",
                           (int)(end - start + 1 > 100 ? 100 : end - start + 1),
                           buf + start);
        else
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                           "duplicate object key");
        break;
    }
    case json_error_invalid_utf8:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax", "invalid UTF-8");
        break;
    case json_error_stack_overflow:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                       "maximum nesting depth reached");
        break;
    case json_error_premature_end_of_input:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                       "unexpected end of input");
        break;
    case json_error_end_of_input_expected:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                       "unexpected data after the JSON value");
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax",
                       "NUL character (\\u0000) in a string");
        break;
    default:
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "json-syntax", "%s", err->text);
        break;
    }
    diag->offset = base + pos;
    cairn__stix_line_col(buf, len, base + pos, &diag->line, &diag->column);
    return CAIRN_EPARSE;
}

/*
 * A fast path for well-formed input. jansson reads through a per-byte
 * callback and manages about 90 MB/s; this parser scans strings in bulk
 * and builds the same json_t values. It is at least as strict as jansson
 * and gives up (returns NULL) on anything unusual or wrong; the caller
 * then runs jansson on the same bytes, which decides and produces the
 * diagnostics. So errors and edge cases behave exactly as jansson's.
 */
struct fast {
    const char *p, *end;
    int depth;
    char *scratch; /* decoded strings with escapes */
    size_t scratch_len;
};

static void fast_ws(struct fast *f)
{
    while (f->p < f->end &&
           (*f->p == ' ' || *f->p == '\n' || *f->p == '\r' || *f->p == '\t'))
        f->p++;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = cairn_hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/*
 * '1' for the bytes that end a run of plain string content: control
 * characters, '"', '\\' and the start of UTF-8 sequences.
 */
static const char special[257] = "1111111111111111"
                                 "1111111111111111"
                                 "0010000000000000"
                                 "0000000000000000"
                                 "0000000000000000"
                                 "0000000000001000"
                                 "0000000000000000"
                                 "0000000000000000"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111"
                                 "1111111111111111";

/*
 * Decode the string at f->p (at its '"'); *out points at the bytes. No
 * result ever holds a NUL: raw control bytes and \\u0000 are refused.
 */
static bool fast_string(struct fast *f, const char **out, size_t *len)
{
    const unsigned char *s = (const unsigned char *)f->p + 1;
    const unsigned char *end = (const unsigned char *)f->end;
    const unsigned char *start = s;
    while (s < end) {
        /* Runs of plain ASCII are the common case: skip them in one go. */
        while (s < end && special[*s] == '0')
            s++;
        if (s >= end)
            break;
        unsigned char c = *s;
        if (c == '"') {
            *out = (const char *)start;
            *len = (size_t)(s - start);
            f->p = (const char *)s + 1;
            return true;
        }
        if (c == '\\')
            break;
        if (c < 0x20)
            return false;
        if (c < 0x80) {
            s++;
        } else {
            size_t n = cairn_utf8_len(s, (size_t)(end - s));
            if (n == 0)
                return false;
            s += n;
        }
    }
    if (s >= end)
        return false;

    /* Escapes: decode into the scratch buffer. */
    size_t need = (size_t)(end - start);
    if (need > f->scratch_len) {
        char *p = cairn_realloc(f->scratch, need);
        if (p == NULL)
            return false;
        f->scratch = p;
        f->scratch_len = need;
    }
    size_t o = (size_t)(s - start);
    memcpy(f->scratch, start, o);
    while (s < end) {
        unsigned char c = *s;
        if (c == '"') {
            *out = f->scratch;
            *len = o;
            f->p = (const char *)s + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c >= 0x80) {
            size_t n = cairn_utf8_len(s, (size_t)(end - s));
            if (n == 0)
                return false;
            memcpy(f->scratch + o, s, n);
            o += n;
            s += n;
            continue;
        }
        if (c != '\\') {
            f->scratch[o++] = (char)c;
            s++;
            continue;
        }
        if (end - s < 2)
            return false;
        char e = (char)s[1];
        s += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            f->scratch[o++] = e;
            continue;
        case 'b':
            f->scratch[o++] = '\b';
            continue;
        case 'f':
            f->scratch[o++] = '\f';
            continue;
        case 'n':
            f->scratch[o++] = '\n';
            continue;
        case 'r':
            f->scratch[o++] = '\r';
            continue;
        case 't':
            f->scratch[o++] = '\t';
            continue;
        case 'u':
            break;
        default:
            return false;
        }
        if (end - s < 4)
            return false;
        long cp = hex4((const char *)s);
        s += 4;
        if (cp <= 0) /* bad digits, or \u0000 */
            return false;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return false;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end - s < 6 || s[0] != '\\' || s[1] != 'u')
                return false;
            int lo = hex4((const char *)s + 2);
            if (lo < 0xdc00 || lo > 0xdfff)
                return false;
            s += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        /* A \u escape is 6 bytes and encodes to at most 4: it fits. */
        o += cairn_utf8_encode((uint32_t)cp, f->scratch + o);
    }
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static json_t *fast_number(struct fast *f)
{
    const char *s = f->p, *p = s, *end = f->end;
    bool real = false;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    if (p < end && *p == '.') {
        real = true;
        p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    /* Leave odd tails ("01", "1x") to jansson. */
    if (p < end &&
        (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
         *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return NULL;
    size_t n = (size_t)(p - s);
    f->p = p;
    if (!real) {
        bool neg = s[0] == '-';
        unsigned long long v = 0;
        for (const char *q = s + neg; q < p; q++) {
            unsigned d = (unsigned)(*q - '0');
            if (v > (ULLONG_MAX - d) / 10)
                return NULL;
            v = v * 10 + d;
        }
        /* LLONG_MIN itself is left to jansson. */
        if (v > (unsigned long long)LLONG_MAX)
            return NULL;
        return json_integer(neg ? -(json_int_t)v : (json_int_t)v);
    }
    char tmp[64];
    if (n >= sizeof tmp || localeconv()->decimal_point[0] != '.')
        return NULL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    double d = strtod(tmp, NULL);
    if (errno == ERANGE || !isfinite(d))
        return NULL;
    return json_real(d);
}

static json_t *fast_value(struct fast *f);

static json_t *fast_object(struct fast *f)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    f->p++;
    fast_ws(f);
    if (f->p < f->end && *f->p == '}') {
        f->p++;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t klen;
        if (f->p >= f->end || *f->p != '"' || !fast_string(f, &key, &klen))
            goto fail;
        if (json_object_getn(obj, key, klen) != NULL)
            goto fail;
        /* The key may live in scratch, which the value may reuse. */
        char kbuf[256];
        char *kcopy = NULL;
        if (key == f->scratch) {
            if (klen < sizeof kbuf) {
                memcpy(kbuf, key, klen);
                key = kbuf;
            } else {
                kcopy = cairn_strndup(key, klen);
                if (kcopy == NULL)
                    goto fail;
                key = kcopy;
            }
        }
        fast_ws(f);
        json_t *v = NULL;
        if (f->p < f->end && *f->p == ':') {
            f->p++;
            fast_ws(f);
            v = fast_value(f);
        }
        int rc =
            v != NULL ? json_object_setn_new_nocheck(obj, key, klen, v) : -1;
        cairn_free(kcopy);
        if (rc != 0)
            goto fail;
        fast_ws(f);
        if (f->p >= f->end)
            goto fail;
        if (*f->p == '}') {
            f->p++;
            return obj;
        }
        if (*f->p != ',')
            goto fail;
        f->p++;
        fast_ws(f);
    }
fail:
    json_decref(obj);
    return NULL;
}

static json_t *fast_array(struct fast *f)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    f->p++;
    fast_ws(f);
    if (f->p < f->end && *f->p == ']') {
        f->p++;
        return arr;
    }
    for (;;) {
        json_t *v = fast_value(f);
        if (v == NULL || json_array_append_new(arr, v) != 0)
            goto fail;
        fast_ws(f);
        if (f->p >= f->end)
            goto fail;
        if (*f->p == ']') {
            f->p++;
            return arr;
        }
        if (*f->p != ',')
            goto fail;
        f->p++;
        fast_ws(f);
    }
fail:
    json_decref(arr);
    return NULL;
}

static json_t *fast_value(struct fast *f)
{
    const char *s;
    size_t n;
    json_t *v = NULL;
    /* jansson counts every value in its depth, not only containers: a
     * value inside JSON_PARSER_MAX_DEPTH containers is over the limit */
    if (f->p >= f->end || f->depth >= JSON_PARSER_MAX_DEPTH)
        return NULL;
    switch (*f->p) {
    case '{':
    case '[':
        if (++f->depth > JSON_PARSER_MAX_DEPTH)
            return NULL;
        v = *f->p == '{' ? fast_object(f) : fast_array(f);
        f->depth--;
        return v;
    case '"':
        if (!fast_string(f, &s, &n))
            return NULL;
        return json_stringn_nocheck(s, n);
    case 't':
        if (f->end - f->p >= 4 && memcmp(f->p, "true", 4) == 0)
            v = json_true();
        n = 4;
        break;
    case 'f':
        if (f->end - f->p >= 5 && memcmp(f->p, "false", 5) == 0)
            v = json_false();
        n = 5;
        break;
    case 'n':
        if (f->end - f->p >= 4 && memcmp(f->p, "null", 4) == 0)
            v = json_null();
        n = 4;
        break;
    default:
        return fast_number(f);
    }
    if (v == NULL)
        return NULL;
    f->p += n;
    /* "truex" and the like are jansson's to reject. */
    if (f->p < f->end && ((*f->p >= 'a' && *f->p <= 'z') ||
                          (*f->p >= 'A' && *f->p <= 'Z') || is_digit(*f->p)))
        return NULL; /* true, false and null are not reference counted */
    return v;
}

/*
 * CAIRN_JSON_FAST=0 in the environment turns the fast path off, so that
 * jansson parses everything: bench/validate.sh measures both, and the
 * suite runs the validation tests once that way. Read once per process.
 */
static bool fast_enabled(void)
{
    static atomic_int state; /* 0 not read yet, 1 on, 2 off */
    int s = atomic_load_explicit(&state, memory_order_relaxed);
    if (s == 0) {
        const char *e = getenv("CAIRN_JSON_FAST");
        s = e != NULL && strcmp(e, "0") == 0 ? 2 : 1;
        atomic_store_explicit(&state, s, memory_order_relaxed);
    }
    return s == 1;
}

json_t *cairn__stix_json_fast(const char *buf, size_t len, size_t *used)
{
    if (!fast_enabled())
        return NULL;
    struct fast f = {buf, buf + len, 0, NULL, 0};
    fast_ws(&f);
    json_t *v = fast_value(&f);
    cairn_free(f.scratch);
    if (v != NULL)
        *used = (size_t)(f.p - buf);
    return v;
}

int cairn_json_parse(const char *buf, size_t len, json_t **out,
                     struct cairn_diag *diag)
{
    json_error_t err;
    *out = NULL;
    if (buf == NULL)
        return CAIRN_EINVAL;
    /*
     * jansson's parser bounds nesting itself (JSON_PARSER_MAX_DEPTH), so
     * deeply nested input is an error, not a stack overflow.
     */
    size_t used = 0;
    json_t *v = cairn__stix_json_fast(buf, len, &used);
    if (v != NULL) {
        while (used < len && (buf[used] == ' ' || buf[used] == '\n' ||
                              buf[used] == '\r' || buf[used] == '\t'))
            used++;
        if (used == len && (json_is_object(v) || json_is_array(v))) {
            *out = v;
            return 0;
        }
        json_decref(v);
    }
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (v == NULL)
        return cairn__stix_json_error_diag(&err, buf, len, 0, diag);
    *out = v;
    return 0;
}
