/* SPDX-License-Identifier: Apache-2.0 */
/* Zeek TSV logs: the #fields header, typed columns, fast column splitting. */
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hunt/telemetry_int.h"

void tele_header_clear(struct cairn_telemetry_reader *r)
{
    cairn_free(r->col_names);
    cairn_free(r->cols);
    cairn_free(r->col_kind);
    cairn_free(r->col_vector);
    cairn_free(r->col_addr);
    cairn_free(r->tabs);
    r->col_names = NULL;
    r->cols = NULL;
    r->col_kind = r->col_vector = r->col_addr = NULL;
    r->tabs = NULL;
    r->n_cols = 0;
    r->have_header = false;
    r->host_col = r->uri_col = r->port_col = -1;
}

static bool name_is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

int tele_header_set(struct cairn_telemetry_reader *r, const char *const *names,
                    const size_t *lens, size_t n)
{
    tele_header_clear(r);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i] + 1;
    r->col_names = cairn_malloc(total + 1);
    r->cols = cairn_calloc(n + 1, sizeof *r->cols);
    r->col_kind = cairn_calloc(n + 1, 1);
    r->col_vector = cairn_calloc(n + 1, 1);
    r->col_addr = cairn_calloc(n + 1, 1);
    r->tabs = cairn_calloc(n + 2, sizeof *r->tabs);
    if (r->col_names == NULL || r->cols == NULL || r->col_kind == NULL ||
        r->col_vector == NULL || r->col_addr == NULL || r->tabs == NULL) {
        tele_header_clear(r);
        return CAIRN_ENOMEM;
    }
    char *p = r->col_names;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, names[i], lens[i]);
        p[lens[i]] = '\0';
        r->cols[i] = p;
        p += lens[i] + 1;
        enum tele_kind k = tele_key_kind(r->cols[i], lens[i]);
        r->col_kind[i] = (unsigned char)k;
        if (r->host_col < 0 &&
            (name_is(r->cols[i], "host") || name_is(r->cols[i], "hostname") ||
             name_is(r->cols[i], "http_host") ||
             name_is(r->cols[i], "cs-host") ||
             name_is(r->cols[i], "request_host")))
            r->host_col = (long)i;
        if (r->uri_col < 0 && k == TK_URI)
            r->uri_col = (long)i;
        if (r->port_col < 0 && (name_is(r->cols[i], "id.resp_p") ||
                                name_is(r->cols[i], "dest_port") ||
                                name_is(r->cols[i], "dst_port")))
            r->port_col = (long)i;
    }
    r->n_cols = n;
    r->have_header = true;
    return 0;
}

/*
 * Column starts of a line: pos[0] = 0, pos[k] just past the k-th
 * separator. Returns the number of columns, or max + 1 when there are
 * more than max (pos has room for max + 1 entries).
 */
static size_t split_columns(const char *s, size_t len, char sep, size_t *pos,
                            size_t max)
{
    size_t n = 1, i = 0;
    pos[0] = 0;
#if defined(__SSE2__)
    const __m128i vsep = _mm_set1_epi8(sep);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vsep));
        while (m != 0) {
            if (n > max)
                return max + 1;
            pos[n++] = i + (size_t)__builtin_ctz(m) + 1;
            m &= m - 1;
        }
    }
#endif
    for (; i < len; i++) {
        if (s[i] == sep) {
            if (n > max)
                return max + 1;
            pos[n++] = i + 1;
        }
    }
    return n;
}

/* "\x09" and friends in header values; returns the decoded character. */
static char unescape_char(const char *v, size_t len)
{
    if (len == 4 && v[0] == '\\' && v[1] == 'x') {
        unsigned x = 0;
        for (int i = 2; i < 4; i++) {
            char c = v[i];
            x = x * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                           : 0);
        }
        return (char)x;
    }
    return len > 0 ? v[0] : '\t';
}

static void set_string(char *dst, size_t cap, const char *v, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static bool is_vector_type(const char *t, size_t len)
{
    return (len > 4 && memcmp(t, "set[", 4) == 0) ||
           (len > 7 && memcmp(t, "vector[", 7) == 0);
}

static bool type_has(const char *t, size_t len, const char *what)
{
    return memmem(t, len, what, strlen(what)) != NULL;
}

/* #types: unknown columns are typed by their Zeek type. */
static void apply_types(struct cairn_telemetry_reader *r, const char *line,
                        size_t len, size_t n)
{
    for (size_t c = 0; c < r->n_cols && c < n; c++) {
        const char *t = line + r->tabs[c];
        size_t tl = (c + 1 < n ? r->tabs[c + 1] - 1 : len) - r->tabs[c];
        bool vec = is_vector_type(t, tl);
        r->col_vector[c] = vec;
        /* Zeek wrote these as addresses: no need to check their shape. */
        if ((tl == 4 && memcmp(t, "addr", 4) == 0) ||
            (vec && tl >= 5 && memcmp(t + tl - 5, "addr]", 5) == 0)) {
            r->col_kind[c] = TK_ADDR;
            continue;
        }
        if (r->col_kind[c] != TK_NONE)
            continue;
        if (type_has(t, tl, "addr") || type_has(t, tl, "subnet"))
            r->col_kind[c] = TK_HOST;
        else if (!type_has(t, tl, "string"))
            r->col_kind[c] = TK_SKIP; /* count, port, interval, bool... */
    }
}

static int header_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    if (len > 11 && memcmp(line, "#separator ", 11) == 0) {
        r->sep = unescape_char(line + 11, len - 11);
        return 0;
    }
    const char *tab = memchr(line, r->sep, len);
    if (tab == NULL)
        return 0;
    size_t klen = (size_t)(tab - line);
    const char *v = tab + 1;
    size_t vlen = len - klen - 1;
    if (klen == 14 && memcmp(line, "#set_separator", 14) == 0) {
        r->set_sep = unescape_char(v, vlen);
    } else if (klen == 12 && memcmp(line, "#empty_field", 12) == 0) {
        set_string(r->empty_field, sizeof r->empty_field, v, vlen);
        r->empty_len = strlen(r->empty_field);
    } else if (klen == 12 && memcmp(line, "#unset_field", 12) == 0) {
        set_string(r->unset_field, sizeof r->unset_field, v, vlen);
        r->unset_len = strlen(r->unset_field);
    } else if (klen == 5 && memcmp(line, "#path", 5) == 0) {
        set_string(r->zeek_path, sizeof r->zeek_path, v, vlen);
    } else if (klen == 7 && memcmp(line, "#fields", 7) == 0) {
        size_t pos[TELE_MAX_COLUMNS + 1];
        size_t n = split_columns(v, vlen, r->sep, pos, TELE_MAX_COLUMNS);
        if (n > TELE_MAX_COLUMNS) {
            tele_header_clear(r);
            tele_malformed(r, r->lineno, "malformed-line",
                           "#fields header has more than %d columns",
                           TELE_MAX_COLUMNS);
            return CAIRN_EPARSE;
        }
        const char *names[TELE_MAX_COLUMNS];
        size_t lens[TELE_MAX_COLUMNS];
        for (size_t i = 0; i < n; i++) {
            names[i] = v + pos[i];
            lens[i] = (i + 1 < n ? pos[i + 1] - 1 : vlen) - pos[i];
        }
        return tele_header_set(r, names, lens, n);
    } else if (klen == 6 && memcmp(line, "#types", 6) == 0 && r->have_header) {
        size_t n = split_columns(v, vlen, r->sep, r->tabs, r->n_cols);
        apply_types(r, v, vlen, n);
    }
    return 0;
}

static bool is_unset(const struct cairn_telemetry_reader *r, const char *v,
                     size_t len)
{
    return (len == r->unset_len && memcmp(v, r->unset_field, len) == 0) ||
           (len == r->empty_len && memcmp(v, r->empty_field, len) == 0);
}

static int add_column(struct cairn_telemetry_reader *r, size_t c, const char *v,
                      size_t len)
{
    enum tele_kind kind = (enum tele_kind)r->col_kind[c];
    if (!r->col_vector[c])
        return kind == TK_HOST
                   ? tele_add_zeek_host(r, v, len, r->cols[c])
                   : tele_add_kind(r, kind, v, len, r->cols[c], false);
    while (len > 0) {
        const char *e = memchr(v, r->set_sep, len);
        size_t n = e ? (size_t)(e - v) : len;
        int rc = kind == TK_HOST
                     ? tele_add_zeek_host(r, v, n, r->cols[c])
                     : tele_add_kind(r, kind, v, n, r->cols[c], false);
        if (rc < 0)
            return rc;
        if (e == NULL)
            break;
        v = e + 1;
        len -= n + 1;
    }
    return 0;
}

/* http.log keeps the host and the path apart: join them into a URL. */
static int join_url(struct cairn_telemetry_reader *r, const char *host,
                    size_t hl, const char *port, size_t pl, const char *uri,
                    size_t ul)
{
    /* A proxy's log has the whole URL; its host is the host column. */
    if (ul > 0 && uri[0] != '/')
        return tele_is_url(uri, ul) ? tele_add(r, CAIRN_IOC_URL, uri, ul, "uri")
                                    : 0;
    if (hl == 0)
        return 0;
    bool add_port = pl > 0 && !(pl == 2 && memcmp(port, "80", 2) == 0) &&
                    memchr(host, ':', hl) == NULL && pl <= 5;
    size_t n = 7 + hl + (add_port ? 1 + pl : 0) + ul;
    char *p = tele_scratch(r, n);
    if (p == NULL)
        return 0;
    char *w = p;
    memcpy(w, "http://", 7);
    w += 7;
    memcpy(w, host, hl);
    w += hl;
    if (add_port) {
        *w++ = ':';
        memcpy(w, port, pl);
        w += pl;
    }
    memcpy(w, uri, ul);
    return tele_add(r, CAIRN_IOC_URL, p, n, "uri");
}

int tele_zeek_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    if (line[0] == '#')
        return header_line(r, line, len);
    if (!r->have_header) {
        tele_malformed(r, r->lineno, "malformed-line",
                       "Zeek data line before a #fields header");
        return CAIRN_EPARSE;
    }
    size_t *pos = r->tabs;
    size_t n = split_columns(line, len, r->sep, pos, r->n_cols);
    if (n != r->n_cols) {
        if (n > r->n_cols)
            tele_malformed(r, r->lineno, "malformed-line",
                           "more columns than the %zu of the #fields header",
                           r->n_cols);
        else
            tele_malformed(r, r->lineno, "malformed-line",
                           "%zu columns, the #fields header has %zu", n,
                           r->n_cols);
        return CAIRN_EPARSE;
    }
    pos[n] = len + 1;
    const char *host = NULL, *uri = NULL, *port = NULL;
    size_t hl = 0, ul = 0, pl = 0;
    for (size_t c = 0; c < n; c++) {
        enum tele_kind kind = (enum tele_kind)r->col_kind[c];
        if (kind == TK_SKIP && (long)c != r->port_col)
            continue;
        const char *v = line + pos[c];
        size_t vl = pos[c + 1] - 1 - pos[c];
        if (vl == 0 || is_unset(r, v, vl))
            continue;
        if ((long)c == r->port_col) {
            port = v;
            pl = vl;
            continue;
        }
        if (kind == TK_TS) {
            if (!r->has_ts)
                r->has_ts = tele_parse_epoch(v, vl, &r->ts);
            continue;
        }
        if ((long)c == r->uri_col) {
            uri = v;
            ul = vl;
            continue;
        }
        if ((long)c == r->host_col) {
            host = v;
            hl = vl;
        }
        int rc = add_column(r, c, v, vl);
        if (rc < 0)
            return rc;
    }
    if (uri != NULL)
        return join_url(r, host, hl, port, pl, uri, ul);
    return 0;
}
