/* SPDX-License-Identifier: Apache-2.0 */
/* TAXII query strings: percent-decoding and the filter parameters. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "taxii/taxii_int.h"

int cairn__taxii_pct_decode(const char *s, size_t len, bool plus, char *out,
                            size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return CAIRN_EINVAL;
            int hi = cairn_hex_digit(s[i + 1]), lo = cairn_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return CAIRN_EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        /* Nothing a filter or a path segment names contains controls. */
        if (c < 0x20 || c == 0x7f)
            return CAIRN_EINVAL;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

void cairn__taxii_filter_free(struct cairn__taxii_filter *f)
{
    if (f == NULL)
        return;
    cairn_arena_free(f->arena);
    f->arena = NULL;
}

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return code;
}

enum param {
    P_UNKNOWN,
    P_ADDED_AFTER,
    P_LIMIT,
    P_NEXT,
    P_ID,
    P_TYPE,
    P_VERSION,
    P_SPEC_VERSION,
};

static enum param param_of(const char *key)
{
    static const struct {
        const char *name;
        enum param p;
    } names[] = {
        {"added_after", P_ADDED_AFTER},
        {"limit", P_LIMIT},
        {"next", P_NEXT},
        {"match[id]", P_ID},
        {"match[type]", P_TYPE},
        {"match[version]", P_VERSION},
        {"match[spec_version]", P_SPEC_VERSION},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i].name) == 0)
            return names[i].p;
    return P_UNKNOWN;
}

/* STIX type names: lower-case letters, digits and '-', 3 to 250 bytes. */
static bool type_ok(const char *s, size_t len)
{
    if (len < 1 || len > 250)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* "2.1": digits, a dot, digits. */
static bool spec_version_ok(const char *s, size_t len)
{
    size_t i = 0, a = 0, b = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && a < 4)
        i++, a++;
    if (i >= len || s[i] != '.')
        return false;
    i++;
    while (i < len && s[i] >= '0' && s[i] <= '9' && b < 4)
        i++, b++;
    return a > 0 && b > 0 && i == len;
}

/* "limit": a positive decimal integer; values over the cap become it. */
static int parse_limit(const char *v, size_t len, size_t *out)
{
    if (len == 0)
        return CAIRN_EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return CAIRN_EINVAL;
        if (n <= TAXII_LIMIT_MAX)
            n = n * 10 + (size_t)(v[i] - '0');
    }
    if (n == 0)
        return CAIRN_EINVAL;
    *out = n > TAXII_LIMIT_MAX ? TAXII_LIMIT_MAX : n;
    return 0;
}

/* One value of a list filter, already split at commas. */
static int add_value(struct cairn__taxii_filter *f, enum param p,
                     const char *key, const char *v, size_t len, char *err,
                     size_t err_len)
{
    if (len == 0)
        return fail(err, err_len, CAIRN_EINVAL,
                    "%s has an empty value in its list", key);
    size_t *n = NULL;
    const char **list = NULL;
    switch (p) {
    case P_ID:
        if (len >= CAIRN_STIX_ID_MAX)
            return fail(err, err_len, CAIRN_EINVAL,
                        "%s names an identifier longer than %d bytes", key,
                        CAIRN_STIX_ID_MAX - 1);
        n = &f->n_ids;
        list = f->ids;
        break;
    case P_TYPE:
        if (!type_ok(v, len))
            return fail(err, err_len, CAIRN_EINVAL,
                        "%s: \"%.*s\" is not a STIX type name", key,
                        (int)(len > 60 ? 60 : len), v);
        n = &f->n_types;
        list = f->types;
        break;
    case P_SPEC_VERSION:
        if (!spec_version_ok(v, len))
            return fail(err, err_len, CAIRN_EINVAL,
                        "%s: \"%.*s\" is not a version such as 2.1", key,
                        (int)(len > 60 ? 60 : len), v);
        n = &f->n_spec_versions;
        list = f->spec_versions;
        break;
    case P_VERSION:
        if (len == 3 && memcmp(v, "all", 3) == 0) {
            f->versions |= CAIRN_STORE_VERSION_ALL;
            return 0;
        }
        if (len == 4 && memcmp(v, "last", 4) == 0) {
            f->versions |= CAIRN_STORE_VERSION_LAST;
            return 0;
        }
        if (len == 5 && memcmp(v, "first", 5) == 0) {
            f->versions |= CAIRN_STORE_VERSION_FIRST;
            return 0;
        }
        if (f->n_version_times >= CAIRN_STORE_FILTER_MAX)
            return fail(err, err_len, CAIRN_ETOOBIG,
                        "%s has more than %d values", key,
                        CAIRN_STORE_FILTER_MAX);
        if (cairn_time_parse(v, len, false,
                             &f->version_times[f->n_version_times]) < 0)
            return fail(err, err_len, CAIRN_EINVAL,
                        "%s: \"%.*s\" is neither first, last, all nor a "
                        "timestamp",
                        key, (int)(len > 60 ? 60 : len), v);
        f->n_version_times++;
        return 0;
    default:
        return CAIRN_EINTERNAL;
    }
    if (*n >= CAIRN_STORE_FILTER_MAX)
        return fail(err, err_len, CAIRN_ETOOBIG, "%s has more than %d values",
                    key, CAIRN_STORE_FILTER_MAX);
    char *copy = cairn_arena_strndup(f->arena, v, len);
    if (copy == NULL)
        return CAIRN_ENOMEM;
    list[(*n)++] = copy;
    return 0;
}

static int one_param(struct cairn__taxii_filter *f, const char *key,
                     const char *v, size_t len, char *err, size_t err_len)
{
    enum param p = param_of(key);
    switch (p) {
    case P_UNKNOWN:
        /* The specification has servers ignore parameters they lack. */
        return 0;
    case P_ADDED_AFTER:
        if (f->has_added_after)
            return fail(err, err_len, CAIRN_EINVAL,
                        "added_after is given more than once");
        if (cairn_time_parse(v, len, false, &f->added_after) < 0)
            return fail(err, err_len, CAIRN_EINVAL,
                        "added_after is not an RFC 3339 timestamp");
        f->has_added_after = true;
        return 0;
    case P_LIMIT:
        if (f->limit != 0)
            return fail(err, err_len, CAIRN_EINVAL,
                        "limit is given more than once");
        if (parse_limit(v, len, &f->limit) < 0)
            return fail(err, err_len, CAIRN_EINVAL,
                        "limit must be a positive integer");
        return 0;
    case P_NEXT:
        if (f->next != NULL)
            return fail(err, err_len, CAIRN_EINVAL,
                        "next is given more than once");
        if (len == 0 || len > TAXII_NEXT_MAX)
            return fail(err, err_len, CAIRN_EINVAL,
                        "next is not a value this server handed out");
        f->next = cairn_arena_strndup(f->arena, v, len);
        return f->next != NULL ? 0 : CAIRN_ENOMEM;
    default:
        break;
    }
    /* List filters: comma-separated, and repeated parameters add up. */
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && v[i] != ',')
            continue;
        int rc = add_value(f, p, key, v + start, i - start, err, err_len);
        if (rc < 0)
            return rc;
        start = i + 1;
    }
    return 0;
}

int cairn__taxii_query_parse(const char *query, size_t len,
                             struct cairn__taxii_filter *f, char *err,
                             size_t err_len)
{
    if (err_len > 0)
        err[0] = '\0';
    if (query == NULL || len == 0)
        return 0;
    if (len > TAXII_QUERY_MAX)
        return fail(err, err_len, CAIRN_ETOOBIG,
                    "the query string is longer than %d bytes",
                    TAXII_QUERY_MAX);
    /* Decoded text is never longer than the raw text: one arena fits. */
    int rc = cairn_arena_new(0, &f->arena);
    if (rc < 0)
        return rc;
    char *key = cairn_arena_alloc(f->arena, len + 1);
    char *val = cairn_arena_alloc(f->arena, len + 1);
    if (key == NULL || val == NULL)
        return CAIRN_ENOMEM;

    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && query[end] != '&')
            end++;
        size_t eq = pos;
        while (eq < end && query[eq] != '=')
            eq++;
        size_t val_len = 0;
        if (end > pos) {
            if (cairn__taxii_pct_decode(query + pos, eq - pos, true, key,
                                        NULL) < 0)
                return fail(err, err_len, CAIRN_EINVAL,
                            "a query parameter name is not properly "
                            "percent-encoded");
            const char *raw = eq < end ? query + eq + 1 : query + end;
            size_t raw_len = eq < end ? end - eq - 1 : 0;
            if (cairn__taxii_pct_decode(raw, raw_len, true, val, &val_len) <
                0) {
                if (param_of(key) == P_UNKNOWN)
                    goto next;
                return fail(err, err_len, CAIRN_EINVAL,
                            "the value of %s is not properly "
                            "percent-encoded",
                            key);
            }
            rc = one_param(f, key, val, val_len, err, err_len);
            if (rc < 0)
                return rc;
        }
    next:
        pos = end + 1;
    }
    return 0;
}
