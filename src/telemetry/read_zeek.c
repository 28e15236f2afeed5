/* SPDX-License-Identifier: Apache-2.0 */
/* Zeek TSV logs: the #fields header, typed columns, fast column splitting. */
#include <stdio.h>
#include <string.h>

#include "telemetry/telemetry_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(CAIRN_TELE_X86_SIMD)
#include <immintrin.h>
#endif

void cairn__tele_header_clear(struct cairn_telemetry_reader *r)
{
    /* Shared tables belong to the reader they came from. */
    if (!r->head_shared) {
        cairn_free(r->col_names);
        cairn_free(r->cols);
        cairn_free(r->col_kind);
        cairn_free(r->col_vector);
        cairn_free(r->col_addr);
        cairn_free(r->col_act);
        cairn_free(r->act_cols);
    }
    r->head_shared = false;
    cairn_free(r->tabs);
    r->col_act = NULL;
    r->act_cols = NULL;
    r->n_act = 0;
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

/* Extra entries of r->tabs: the fast scan writes separators four at a time. */
#define TABS_SLACK 8

/* Room for the column starts of a line of n columns, and the slack. */
static size_t *tabs_new(size_t n)
{
    return cairn_calloc(n + 2 + TABS_SLACK, sizeof(size_t));
}

/* What a Zeek data column is for (r->col_act). */
enum {
    ACT_SKIP = 0,
    ACT_PORT,    /* the server port, for joining URLs */
    ACT_TS,      /* the event's time */
    ACT_URI,     /* http.log's uri, joined with the host */
    ACT_ADDR,    /* an addr column: an address by construction */
    ACT_HOST,    /* one host name or address */
    ACT_VHOST,   /* a set or vector of host names or addresses */
    ACT_GENERIC, /* anything else: add_column */
};

/* Host characters (the classes cairn__tele_add_zeek_host uses). */
enum {
    H_DIGIT = 1,
    H_ALPHA = 2,
    H_LOCAL = 4, /* letters, digits, '.', '-', '_', '%', '+' */
    H_V6 = 8,    /* hex digits, ':', '.' */
    H_DOT = 16,
    H_COLON = 32,
};

static void plan_columns(struct cairn_telemetry_reader *r)
{
    for (unsigned c = 0; c < 256; c++) {
        unsigned char k = 0;
        bool digit = c >= '0' && c <= '9';
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (digit)
            k |= H_DIGIT;
        if (alpha)
            k |= H_ALPHA;
        if (digit || alpha || c == '.' || c == '-' || c == '_' || c == '%' ||
            c == '+')
            k |= H_LOCAL;
        if (hex || c == ':' || c == '.')
            k |= H_V6;
        if (c == '.')
            k |= H_DOT;
        if (c == ':')
            k |= H_COLON;
        r->hcls[c] = k;
    }
    r->n_act = 0;
    for (size_t c = 0; c < r->n_cols; c++) {
        enum tele_kind kind = (enum tele_kind)r->col_kind[c];
        unsigned char a;
        if ((long)c == r->port_col)
            a = r->uri_col >= 0 ? ACT_PORT : ACT_SKIP;
        else if (kind == TK_SKIP)
            a = ACT_SKIP;
        else if (kind == TK_TS)
            a = ACT_TS;
        else if ((long)c == r->uri_col)
            a = ACT_URI;
        else if ((long)c == r->host_col)
            a = ACT_GENERIC;
        else if (r->col_vector[c])
            a = kind == TK_HOST ? ACT_VHOST : ACT_GENERIC;
        else
            a = kind == TK_HOST   ? ACT_HOST
                : kind == TK_ADDR ? ACT_ADDR
                                  : ACT_GENERIC;
        r->col_act[c] = a;
        if (a != ACT_SKIP)
            r->act_cols[r->n_act++] = (uint32_t)c;
    }
}

int cairn__tele_header_set(struct cairn_telemetry_reader *r, const char *const *names,
                    const size_t *lens, size_t n)
{
    cairn__tele_header_clear(r);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i] + 1;
    r->col_names = cairn_malloc(total + 1);
    r->cols = cairn_calloc(n + 1, sizeof *r->cols);
    r->col_kind = cairn_calloc(n + 1, 1);
    r->col_vector = cairn_calloc(n + 1, 1);
    r->col_addr = cairn_calloc(n + 1, 1);
    /* room for the separators the fast scan stores past the last one */
    r->tabs = tabs_new(n);
    r->col_act = cairn_calloc(n + 1, 1);
    r->act_cols = cairn_calloc(n + 1, sizeof *r->act_cols);
    if (r->col_names == NULL || r->cols == NULL || r->col_kind == NULL ||
        r->col_vector == NULL || r->col_addr == NULL || r->tabs == NULL ||
        r->col_act == NULL || r->act_cols == NULL) {
        cairn__tele_header_clear(r);
        return CAIRN_ENOMEM;
    }
    char *p = r->col_names;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, names[i], lens[i]);
        p[lens[i]] = '\0';
        r->cols[i] = p;
        p += lens[i] + 1;
        enum tele_kind k = cairn__tele_key_kind(r->cols[i], lens[i]);
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
    plan_columns(r);
    return 0;
}

int cairn__tele_header_share(struct cairn_telemetry_reader *r,
                             const struct cairn_telemetry_reader *head)
{
    cairn__tele_header_clear(r);
    r->sep = head->sep;
    r->set_sep = head->set_sep;
    memcpy(r->empty_field, head->empty_field, sizeof r->empty_field);
    memcpy(r->unset_field, head->unset_field, sizeof r->unset_field);
    r->empty_len = head->empty_len;
    r->unset_len = head->unset_len;
    memcpy(r->zeek_path, head->zeek_path, sizeof r->zeek_path);
    if (!head->have_header)
        return 0;
    r->tabs = tabs_new(head->n_cols);
    if (r->tabs == NULL)
        return CAIRN_ENOMEM;
    r->col_names = head->col_names;
    r->cols = head->cols;
    r->col_kind = head->col_kind;
    r->col_vector = head->col_vector;
    r->col_addr = head->col_addr;
    r->col_act = head->col_act;
    r->act_cols = head->act_cols;
    r->n_act = head->n_act;
    r->n_cols = head->n_cols;
    r->host_col = head->host_col;
    r->uri_col = head->uri_col;
    r->port_col = head->port_col;
    memcpy(r->hcls, head->hcls, sizeof r->hcls);
    r->have_header = true;
    r->head_shared = true;
    return 0;
}

/* Copies of shared column tables, before a #types line changes them. */
static int header_own(struct cairn_telemetry_reader *r)
{
    if (!r->head_shared)
        return 0;
    size_t n = r->n_cols;
    const char *names[TELE_MAX_COLUMNS];
    size_t lens[TELE_MAX_COLUMNS];
    unsigned char kind[TELE_MAX_COLUMNS], vec[TELE_MAX_COLUMNS],
        addr[TELE_MAX_COLUMNS];
    if (n > TELE_MAX_COLUMNS)
        return CAIRN_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        names[i] = r->cols[i];
        lens[i] = strlen(r->cols[i]);
        kind[i] = r->col_kind[i];
        vec[i] = r->col_vector[i];
        addr[i] = r->col_addr[i];
    }
    /* the names stay valid: the reader they are shared from outlives r */
    int rc = cairn__tele_header_set(r, names, lens, n);
    if (rc < 0)
        return rc;
    memcpy(r->col_kind, kind, n);
    memcpy(r->col_vector, vec, n);
    memcpy(r->col_addr, addr, n);
    plan_columns(r);
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
    plan_columns(r);
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
            cairn__tele_header_clear(r);
            cairn__tele_malformed(r, r->lineno, "malformed-line",
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
        return cairn__tele_header_set(r, names, lens, n);
    } else if (klen == 6 && memcmp(line, "#types", 6) == 0 && r->have_header) {
        int rc = header_own(r);
        if (rc < 0)
            return rc;
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
                   ? cairn__tele_add_zeek_host(r, v, len, r->cols[c])
                   : cairn__tele_add_kind(r, kind, v, len, r->cols[c], false);
    while (len > 0) {
        const char *e = memchr(v, r->set_sep, len);
        size_t n = e ? (size_t)(e - v) : len;
        int rc = kind == TK_HOST
                     ? cairn__tele_add_zeek_host(r, v, n, r->cols[c])
                     : cairn__tele_add_kind(r, kind, v, n, r->cols[c], false);
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
        return cairn__tele_is_url(uri, ul) ? cairn__tele_add(r, CAIRN_IOC_URL, uri, ul, "uri")
                                    : 0;
    if (hl == 0)
        return 0;
    bool add_port = pl > 0 && !(pl == 2 && memcmp(port, "80", 2) == 0) &&
                    memchr(host, ':', hl) == NULL && pl <= 5;
    size_t n = 7 + hl + (add_port ? 1 + pl : 0) + ul;
    char *p = cairn__tele_scratch(r, n);
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
    return cairn__tele_add(r, CAIRN_IOC_URL, p, n, "uri");
}

/* Add one field; the common case without a call. */
static inline int add_field(struct cairn_telemetry_reader *r,
                            enum cairn_ioc_type type, const char *v, size_t len,
                            const char *name)
{
    if (r->n_fields == r->fields_cap)
        return cairn__tele_add(r, type, v, len, name);
    struct cairn_hunt_field *f = &r->fields[r->n_fields++];
    f->type = type;
    f->value = v;
    f->len = len;
    f->name = name;
    return 0;
}

/*
 * A host value in a Zeek column: the rules of cairn__tele_add_zeek_host, with
 * the reader's own class table so that the loop stays in this function.
 */
static int add_host(struct cairn_telemetry_reader *r, const char *v, size_t len,
                    const char *name)
{
    if (len > 1 && v[len - 1] == '.')
        len--;
    if (len < 2 || len > 253)
        return 0;
    unsigned all = 0xff, any = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned k = r->hcls[(unsigned char)v[i]];
        all &= k;
        any |= k;
    }
    if ((all & H_V6) && (any & H_COLON)) /* hex digits, ':' and '.' only */
        return add_field(r, CAIRN_IOC_IPV6, v, len, name);
    if (!(all & H_LOCAL) || !(any & H_DOT) || v[0] == '.' || !(any & H_ALPHA))
        return ((r->hcls[(unsigned char)v[0]] & H_DIGIT) &&
                cairn_ipv4_parse(v, len, NULL))
                   ? add_field(r, CAIRN_IOC_IPV4, v, len, name)
                   : 0;
    return add_field(r, CAIRN_IOC_DOMAIN, v, len, name);
}

/* What the characters of one host value were (see add_host). */
static int host_typed(struct cairn_telemetry_reader *r, const char *e,
                      size_t len, bool all_local, bool all_v6, bool any_alpha,
                      bool any_dot, bool any_colon, const char *name)
{
    if (len > 1 && e[len - 1] == '.')
        return add_host(r, e, len, name); /* the classes change: again */
    if (len < 2 || len > 253)
        return 0;
    if (all_v6 && any_colon)
        return add_field(r, CAIRN_IOC_IPV6, e, len, name);
    if (!all_local || !any_dot || e[0] == '.' || !any_alpha)
        return ((r->hcls[(unsigned char)e[0]] & H_DIGIT) &&
                cairn_ipv4_parse(e, len, NULL))
                   ? add_field(r, CAIRN_IOC_IPV4, e, len, name)
                   : 0;
    return add_field(r, CAIRN_IOC_DOMAIN, e, len, name);
}

#if defined(__SSE2__)
/* Bytes of x in [lo, hi], as a mask. */
static inline __m128i in_range(__m128i x, char lo, char hi)
{
    __m128i t =
        _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - (unsigned char)lo)));
    return _mm_cmplt_epi8(t, _mm_set1_epi8((char)(-128 + (hi - lo) + 1)));
}

/*
 * add_hosts 16 bytes at a time. The values lie in the reader's buffer,
 * which is readable TELE_PAD bytes past its data: bytes past the value
 * are loaded and masked off.
 */
static int add_hosts_sse(struct cairn_telemetry_reader *r, const char *v,
                         size_t vl, char sep, const char *name)
{
    const __m128i vsep = _mm_set1_epi8(sep);
    size_t start = 0, i = 0;
    /* bits of the value's bytes so far: not local, not IPv6, letters,
     * dots, colons (or-ed across its chunks, branch-free) */
    unsigned not_local = 0, not_v6 = 0, alpha = 0, dot = 0, colon = 0;
    for (;;) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
        __m128i lc = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i al = in_range(lc, 'a', 'z');
        __m128i dg = in_range(x, '0', '9');
        __m128i dt = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
        __m128i cl = _mm_cmpeq_epi8(x, _mm_set1_epi8(':'));
        __m128i ad = _mm_or_si128(dg, dt);
        __m128i loc = _mm_or_si128(
            _mm_or_si128(al, ad),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))),
                         _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('%')),
                                      _mm_cmpeq_epi8(x, _mm_set1_epi8('+')))));
        __m128i v6 = _mm_or_si128(_mm_or_si128(in_range(lc, 'a', 'f'), ad), cl);
        unsigned lim = vl - i >= 16 ? 0xFFFFu : (1u << (vl - i)) - 1;
        unsigned sm =
            (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vsep)) & lim;
        unsigned valid = sm != 0 ? (sm & (0 - sm)) - 1 : lim;
        not_local |= ~(unsigned)_mm_movemask_epi8(loc) & valid;
        not_v6 |= ~(unsigned)_mm_movemask_epi8(v6) & valid;
        alpha |= (unsigned)_mm_movemask_epi8(al) & valid;
        dot |= (unsigned)_mm_movemask_epi8(dt) & valid;
        colon |= (unsigned)_mm_movemask_epi8(cl) & valid;
        if (sm == 0 && vl - i > 16) {
            i += 16;
            continue;
        }
        size_t end = sm != 0 ? i + (size_t)__builtin_ctz(sm) : vl;
        int rc = host_typed(r, v + start, end - start, not_local == 0,
                            not_v6 == 0, alpha != 0, dot != 0, colon != 0,
                            name);
        if (rc < 0 || end >= vl)
            return rc;
        start = i = end + 1;
        not_local = not_v6 = alpha = dot = colon = 0;
    }
}
#endif

#if defined(CAIRN_TELE_X86_SIMD)
/* The classes of 64 bytes of host values, a bit per byte (see add_host). */
struct hmask {
    uint64_t sep, not_local, not_v6, alpha, dot, colon;
};

__attribute__((target("avx512f,avx512bw"))) static inline void
classify512(const char *p, char sep, struct hmask *m)
{
    __m512i x = _mm512_loadu_si512((const void *)p);
    __m512i lc = _mm512_or_si512(x, _mm512_set1_epi8(0x20));
    __m512i la = _mm512_sub_epi8(lc, _mm512_set1_epi8('a'));
    uint64_t al = _mm512_cmplt_epu8_mask(la, _mm512_set1_epi8(26));
    uint64_t hx = _mm512_cmplt_epu8_mask(la, _mm512_set1_epi8(6));
    uint64_t dg = _mm512_cmplt_epu8_mask(
        _mm512_sub_epi8(x, _mm512_set1_epi8('0')), _mm512_set1_epi8(10));
    uint64_t dt = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.'));
    uint64_t cl = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(':'));
    uint64_t ot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('-')) |
                  _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('_')) |
                  _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('%')) |
                  _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('+'));
    m->sep = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(sep));
    m->not_local = ~(al | dg | dt | ot);
    m->not_v6 = ~(hx | dg | dt | cl);
    m->alpha = al;
    m->dot = dt;
    m->colon = cl;
}

/* Bytes of x in [lo, lo + n), as a mask (signed compare, shifted). */
__attribute__((target("avx2"))) static inline __m256i in_range256(__m256i x,
                                                                  char lo,
                                                                  int n)
{
    __m256i t =
        _mm256_add_epi8(x, _mm256_set1_epi8((char)(0x80 - (unsigned char)lo)));
    return _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(-128 + n)), t);
}

__attribute__((target("avx2"))) static inline void
classify256(const char *p, char sep, struct hmask *m)
{
    uint64_t out[6] = {0};
    for (int h = 0; h < 2; h++) {
        __m256i x =
            _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * h));
        __m256i lc = _mm256_or_si256(x, _mm256_set1_epi8(0x20));
        __m256i al = in_range256(lc, 'a', 26);
        __m256i hx = in_range256(lc, 'a', 6);
        __m256i dg = in_range256(x, '0', 10);
        __m256i dt = _mm256_cmpeq_epi8(x, _mm256_set1_epi8('.'));
        __m256i cl = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(':'));
        __m256i ot = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('-')),
                            _mm256_cmpeq_epi8(x, _mm256_set1_epi8('_'))),
            _mm256_or_si256(_mm256_cmpeq_epi8(x, _mm256_set1_epi8('%')),
                            _mm256_cmpeq_epi8(x, _mm256_set1_epi8('+'))));
        __m256i ad = _mm256_or_si256(dg, dt);
        __m256i v[6] = {
            _mm256_cmpeq_epi8(x, _mm256_set1_epi8(sep)),
            _mm256_or_si256(_mm256_or_si256(al, ad), ot),
            _mm256_or_si256(_mm256_or_si256(hx, ad), cl),
            al,
            dt,
            cl,
        };
        for (int k = 0; k < 6; k++)
            out[k] |= (uint64_t)(uint32_t)_mm256_movemask_epi8(v[k])
                      << (32 * h);
    }
    m->sep = out[0];
    m->not_local = ~out[1];
    m->not_v6 = ~out[2];
    m->alpha = out[3];
    m->dot = out[4];
    m->colon = out[5];
}

/*
 * add_hosts 64 bytes at a time: the classes of a block are found once
 * for all the values in it, each value's by masking its bytes. Bytes past
 * the value are loaded and masked off (the buffer is readable TELE_PAD
 * bytes past its data).
 */
static inline __attribute__((always_inline)) int
add_hosts_wide(struct cairn_telemetry_reader *r, const char *v, size_t vl,
               char sep, const char *name,
               void (*classify)(const char *, char, struct hmask *))
{
    size_t base = 0, start = 0;
    /* the classes of the value so far (or-ed across its blocks) */
    uint64_t not_local = 0, not_v6 = 0, alpha = 0, dot = 0, colon = 0;
    for (;; base += 64) {
        struct hmask m;
        classify(v + base, sep, &m);
        size_t rem = vl - base;
        uint64_t lim = rem >= 64 ? ~0ULL : (1ULL << rem) - 1;
        uint64_t sm = m.sep & lim;
        size_t pos = start > base ? start - base : 0;
        while (pos < 64) {
            uint64_t from = ~0ULL << pos;
            uint64_t here = sm & from;
            uint64_t valid;
            size_t end;
            if (here != 0) {
                size_t e = (size_t)__builtin_ctzll(here);
                valid = from & ((1ULL << e) - 1);
                end = base + e;
            } else {
                valid = from & lim;
                end = vl;
            }
            not_local |= m.not_local & valid;
            not_v6 |= m.not_v6 & valid;
            alpha |= m.alpha & valid;
            dot |= m.dot & valid;
            colon |= m.colon & valid;
            if (here == 0 && rem > 64)
                break; /* the value goes on in the next block */
            int rc = host_typed(r, v + start, end - start, not_local == 0,
                                not_v6 == 0, alpha != 0, dot != 0, colon != 0,
                                name);
            if (rc < 0 || end >= vl)
                return rc;
            start = end + 1;
            pos = start - base;
            not_local = not_v6 = alpha = dot = colon = 0;
        }
    }
}

__attribute__((target("avx512f,avx512bw,popcnt,bmi,bmi2"))) static int
add_hosts_avx512(struct cairn_telemetry_reader *r, const char *v, size_t vl,
                 char sep, const char *name)
{
    return add_hosts_wide(r, v, vl, sep, name, classify512);
}

__attribute__((target("avx2,popcnt,bmi,bmi2"))) static int
add_hosts_avx2(struct cairn_telemetry_reader *r, const char *v, size_t vl,
               char sep, const char *name)
{
    return add_hosts_wide(r, v, vl, sep, name, classify256);
}
#endif

/* add_hosts a byte at a time (the portable loop). */
static int add_hosts_bytes(struct cairn_telemetry_reader *r, const char *v,
                           size_t vl, char sep, const char *name)
{
    const unsigned char *cls = r->hcls;
    size_t i = 0;
    for (;;) {
        size_t s = i;
        unsigned all = 0xff, any = 0;
        while (i < vl && v[i] != sep) {
            unsigned k = cls[(unsigned char)v[i]];
            all &= k;
            any |= k;
            i++;
        }
        const char *e = v + s;
        size_t len = i - s;
        int rc = 0;
        if (len > 1 && e[len - 1] == '.') {
            rc = add_host(r, e, len, name); /* the classes change: again */
        } else if (len < 2 || len > 253) {
            rc = 0;
        } else if ((all & H_V6) && (any & H_COLON)) {
            rc = add_field(r, CAIRN_IOC_IPV6, e, len, name);
        } else if (!(all & H_LOCAL) || !(any & H_DOT) || e[0] == '.' ||
                   !(any & H_ALPHA)) {
            if ((cls[(unsigned char)e[0]] & H_DIGIT) && cairn_ipv4_parse(e, len, NULL))
                rc = add_field(r, CAIRN_IOC_IPV4, e, len, name);
        } else {
            rc = add_field(r, CAIRN_IOC_DOMAIN, e, len, name);
        }
        if (rc < 0 || i >= vl)
            return rc;
        i++;
    }
}

/*
 * Host values separated by `sep` (a set or vector column; '\n', which a
 * line cannot hold, for a single value), classified as they are split.
 */
static inline int add_hosts(struct cairn_telemetry_reader *r, const char *v,
                            size_t vl, char sep, const char *name)
{
    switch (r->simd) {
#if defined(CAIRN_TELE_X86_SIMD)
    case TELE_SIMD_VBMI2:
    case TELE_SIMD_AVX512:
        return add_hosts_avx512(r, v, vl, sep, name);
    case TELE_SIMD_AVX2:
        return add_hosts_avx2(r, v, vl, sep, name);
#endif
#if defined(__SSE2__)
    case TELE_SIMD_SSE2:
        return add_hosts_sse(r, v, vl, sep, name);
#endif
    default:
        return add_hosts_bytes(r, v, vl, sep, name);
    }
}

/* Whether v[0, len) holds a ':' (two overlapping words up to 16 bytes). */
static inline bool has_colon(const char *v, size_t len)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t a, b;
    if (len < 8 || len > 16)
        return memchr(v, ':', len) != NULL;
    memcpy(&a, v, 8);
    memcpy(&b, v + len - 8, 8);
    a ^= ones * ':';
    b ^= ones * ':';
    return ((((a - ones) & ~a) | ((b - ones) & ~b)) & (ones * 0x80)) != 0;
}

/* An addr column: cairn__tele_add_kind(TK_ADDR) without the call. */
static inline int add_addr(struct cairn_telemetry_reader *r, const char *v,
                           size_t len, const char *name)
{
    if (v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' ||
        v[len - 1] == '\t' || (len == 1 && v[0] == '-'))
        return cairn__tele_add_kind(r, TK_ADDR, v, len, name, false);
    return add_field(r, has_colon(v, len) ? CAIRN_IOC_IPV6 : CAIRN_IOC_IPV4, v,
                     len, name);
}

/*
 * Zeek's time column: "1607904000.017000", ten digits of seconds and six
 * of microseconds, parsed without a loop; anything else goes through
 * cairn__tele_parse_epoch, which gives the same result for this form.
 */
static bool parse_ts(const char *v, size_t len, struct cairn_time *out)
{
    if (len == 17 && v[10] == '.') {
        uint32_t a, b;
        char frac[8] = {'0', '0', v[11], v[12], v[13], v[14], v[15], v[16]};
        if (v[0] >= '0' && v[0] <= '9' && v[1] >= '0' && v[1] <= '9' &&
            digits8(v + 2, &a) && digits8(frac, &b)) {
            out->sec =
                (int64_t)((v[0] - '0') * 10 + (v[1] - '0')) * 100000000 + a;
            out->nsec = (int32_t)b * 1000;
            out->digits = 6;
            return true;
        }
    }
    return cairn__tele_parse_epoch(v, len, out);
}

/* The columns of a data line whose separators are in r->tabs. */
static int data_line(struct cairn_telemetry_reader *r, char *line, size_t len,
                     size_t n)
{
    if (n != r->n_cols) {
        if (n > r->n_cols)
            cairn__tele_malformed(r, r->lineno, "malformed-line",
                           "more columns than the %zu of the #fields header",
                           r->n_cols);
        else
            cairn__tele_malformed(r, r->lineno, "malformed-line",
                           "%zu columns, the #fields header has %zu", n,
                           r->n_cols);
        return CAIRN_EPARSE;
    }
    size_t *pos = r->tabs;
    pos[n] = len + 1;
    const char *host = NULL, *uri = NULL, *port = NULL;
    size_t hl = 0, ul = 0, pl = 0;
    int rc = 0;
    for (size_t i = 0; i < r->n_act && rc >= 0; i++) {
        size_t c = r->act_cols[i];
        const char *v = line + pos[c];
        size_t vl = pos[c + 1] - 1 - pos[c];
        if (vl == 0 || is_unset(r, v, vl))
            continue;
        switch (r->col_act[c]) {
        case ACT_ADDR:
            rc = add_addr(r, v, vl, r->cols[c]);
            break;
        case ACT_HOST:
            rc = add_hosts(r, v, vl, '\n', r->cols[c]);
            break;
        case ACT_TS:
            if (!r->has_ts)
                r->has_ts = parse_ts(v, vl, &r->ts);
            break;
        case ACT_VHOST:
            rc = add_hosts(r, v, vl, r->set_sep, r->cols[c]);
            break;
        case ACT_PORT:
            port = v;
            pl = vl;
            break;
        case ACT_URI:
            uri = v;
            ul = vl;
            break;
        default:
            if ((long)c == r->host_col) {
                host = v;
                hl = vl;
            }
            rc = add_column(r, c, v, vl);
            break;
        }
    }
    if (rc < 0)
        return rc;
    if (uri != NULL)
        return join_url(r, host, hl, port, pl, uri, ul);
    return 0;
}

int cairn__tele_zeek_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    if (line[0] == '#')
        return header_line(r, line, len);
    if (!r->have_header) {
        cairn__tele_malformed(r, r->lineno, "malformed-line",
                       "Zeek data line before a #fields header");
        return CAIRN_EPARSE;
    }
    size_t n = split_columns(line, len, r->sep, r->tabs, r->n_cols);
    return data_line(r, line, len, n);
}

int cairn__tele_zeek_split_line(struct cairn_telemetry_reader *r, char *line,
                         size_t len, size_t n_cols)
{
    if (line[0] == '#')
        return header_line(r, line, len);
    return data_line(r, line, len, n_cols);
}

/* Without -mpopcnt the builtin is a library call. */
static inline size_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (size_t)((x * 0x0101010101010101ULL) >> 56);
}

/* A block's bits cut to the bytes read (avail - off of them) and its
 * separators to those before the line's newline. */
static inline __attribute__((always_inline)) void
line_bits(uint64_t *t, uint64_t *nl, size_t off, size_t avail)
{
    if (avail - off < 64) {
        uint64_t keep = (1ULL << (avail - off)) - 1;
        *t &= keep;
        *nl &= keep;
    }
    if (*nl != 0)
        *t &= (*nl & (0 - *nl)) - 1;
}

/*
 * One block of 64 bytes at p + off of a line's scan, given a bit per
 * separator (t) and per newline (nl) in it: stores the column starts
 * after pos[*n]. Returns the line's length when its newline is in the
 * block, else -1. `hw`: the caller's target has a popcount instruction.
 */
static inline __attribute__((always_inline)) long
scan_block(size_t *pos, size_t *n, size_t max, uint64_t t, uint64_t nl,
           size_t off, size_t avail, size_t *n_cols, bool hw)
{
    line_bits(&t, &nl, off, avail);
    size_t cnt = hw ? (size_t)__builtin_popcountll(t) : popcount64(t);
    if (*n + cnt <= max + 1) {
        /* four at a time: TABS_SLACK covers the writes past the end */
        size_t *w = pos + *n;
        size_t base = off + 1;
        *n += cnt;
        while (t != 0) {
            w[0] = base + (size_t)__builtin_ctzll(t);
            t &= t - 1;
            w[1] = base + (size_t)__builtin_ctzll(t | 1ULL << 63);
            t &= t - 1;
            w[2] = base + (size_t)__builtin_ctzll(t | 1ULL << 63);
            t &= t - 1;
            w[3] = base + (size_t)__builtin_ctzll(t | 1ULL << 63);
            t &= t - 1;
            w += 4;
        }
    } else {
        *n = max + 1 + 1; /* too many: only the count matters */
    }
    if (nl == 0)
        return -1;
    *n_cols = *n > max + 1 ? max + 1 : *n;
    return (long)(off + (size_t)__builtin_ctzll(nl));
}

/* The portable scan: the same blocks, a byte at a time. */
static long zeek_scan_bytes(size_t *pos, char sep, size_t max, const char *p,
                            size_t avail, size_t *n_cols)
{
    size_t n = 1;
    pos[0] = 0;
    for (size_t off = 0; off < avail; off += 64) {
        uint64_t t = 0, nl = 0;
        size_t k = avail - off < 64 ? avail - off : 64;
        for (size_t i = 0; i < k; i++) {
            t |= (uint64_t)(p[off + i] == sep) << i;
            nl |= (uint64_t)(p[off + i] == '\n') << i;
        }
        long e = scan_block(pos, &n, max, t, nl, off, avail, n_cols, false);
        if (e >= 0)
            return e;
    }
    return -1;
}

#if defined(__SSE2__)
/* A bit per byte of p[0, 64) equal to c. */
static inline uint64_t eq64(const char *p, __m128i c)
{
    const __m128i *q = (const __m128i *)(const void *)p;
    uint64_t a =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q), c));
    uint64_t b =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 1), c));
    uint64_t d =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 2), c));
    uint64_t e =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 3), c));
    return a | b << 16 | d << 32 | e << 48;
}

/*
 * The scans read whole blocks of 64 bytes: p + avail + TELE_PAD is still
 * inside the buffer. A mapped file comes cold from memory, and the
 * hardware's prefetcher stops at each page: they ask for the bytes ahead.
 */
static long zeek_scan_sse2(size_t *pos, char sep, size_t max, const char *p,
                           size_t avail, size_t *n_cols)
{
    const __m128i vsep = _mm_set1_epi8(sep);
    const __m128i vnl = _mm_set1_epi8('\n');
    size_t n = 1;
    pos[0] = 0;
    for (size_t off = 0; off < avail; off += 64) {
        __builtin_prefetch(p + off + 1024);
        long e = scan_block(pos, &n, max, eq64(p + off, vsep),
                            eq64(p + off, vnl), off, avail, n_cols, false);
        if (e >= 0)
            return e;
    }
    return -1;
}
#endif

#if defined(CAIRN_TELE_X86_SIMD)
__attribute__((target("avx2,popcnt,bmi,bmi2"))) static long
zeek_scan_avx2(size_t *pos, char sep, size_t max, const char *p, size_t avail,
               size_t *n_cols)
{
    const __m256i vsep = _mm256_set1_epi8(sep);
    const __m256i vnl = _mm256_set1_epi8('\n');
    size_t n = 1;
    pos[0] = 0;
    for (size_t off = 0; off < avail; off += 64) {
        __builtin_prefetch(p + off + 1024);
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p + off));
        __m256i b =
            _mm256_loadu_si256((const __m256i *)(const void *)(p + off + 32));
        uint64_t t =
            (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vsep)) |
            (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vsep))
                << 32;
        uint64_t nl =
            (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, vnl)) |
            (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, vnl))
                << 32;
        long e = scan_block(pos, &n, max, t, nl, off, avail, n_cols, true);
        if (e >= 0)
            return e;
    }
    return -1;
}

__attribute__((target("avx512f,avx512bw,popcnt,bmi,bmi2"))) static long
zeek_scan_avx512(size_t *pos, char sep, size_t max, const char *p,
                 size_t avail, size_t *n_cols)
{
    const __m512i vsep = _mm512_set1_epi8(sep);
    const __m512i vnl = _mm512_set1_epi8('\n');
    size_t n = 1;
    pos[0] = 0;
    for (size_t off = 0; off < avail; off += 64) {
        __builtin_prefetch(p + off + 1024);
        __m512i x = _mm512_loadu_si512((const void *)(p + off));
        long e = scan_block(pos, &n, max, _mm512_cmpeq_epi8_mask(x, vsep),
                            _mm512_cmpeq_epi8_mask(x, vnl), off, avail, n_cols,
                            true);
        if (e >= 0)
            return e;
    }
    return -1;
}

/*
 * zeek_scan_avx512 with VBMI2: the separators' offsets in a block are
 * packed by one instruction and stored eight at a time (a line's block
 * has fewer than eight, most often: one store, no loop to mispredict).
 * The same positions as scan_block; the writes past the last one stay
 * within TABS_SLACK.
 */
__attribute__((target("avx512f,avx512bw,avx512vbmi2,popcnt,bmi,bmi2"))) static long
zeek_scan_vbmi2(size_t *pos, char sep, size_t max, const char *p,
                size_t avail, size_t *n_cols)
{
    const __m512i vsep = _mm512_set1_epi8(sep);
    const __m512i vnl = _mm512_set1_epi8('\n');
    const __m512i iota = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
        46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30,
        29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13,
        12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    size_t n = 1;
    pos[0] = 0;
    for (size_t off = 0; off < avail; off += 64) {
        __builtin_prefetch(p + off + 1024);
        __m512i x = _mm512_loadu_si512((const void *)(p + off));
        uint64_t t = _mm512_cmpeq_epi8_mask(x, vsep);
        uint64_t nl = _mm512_cmpeq_epi8_mask(x, vnl);
        line_bits(&t, &nl, off, avail);
        size_t cnt = (size_t)__builtin_popcountll(t);
        if (n + cnt <= max + 1) {
            __m512i idx = _mm512_maskz_compress_epi8(t, iota);
            __m512i base = _mm512_set1_epi64((long long)(off + 1));
            _mm512_storeu_si512(
                (void *)(pos + n),
                _mm512_add_epi64(
                    _mm512_cvtepu8_epi64(_mm512_castsi512_si128(idx)), base));
            if (cnt > 8) {
                uint8_t b[64];
                _mm512_storeu_si512((void *)b, idx);
                for (size_t k = 8; k < cnt; k += 8)
                    _mm512_storeu_si512(
                        (void *)(pos + n + k),
                        _mm512_add_epi64(
                            _mm512_cvtepu8_epi64(_mm_loadl_epi64(
                                (const __m128i *)(const void *)(b + k))),
                            base));
            }
            n += cnt;
        } else {
            n = max + 1 + 1; /* too many: only the count matters */
        }
        if (nl != 0) {
            *n_cols = n > max + 1 ? max + 1 : n;
            return (long)(off + (size_t)__builtin_ctzll(nl));
        }
    }
    return -1;
}
#endif

long cairn__tele_zeek_scan(struct cairn_telemetry_reader *r, const char *p,
                    size_t avail, size_t *n_cols)
{
    switch (r->simd) {
#if defined(CAIRN_TELE_X86_SIMD)
    case TELE_SIMD_VBMI2:
        return zeek_scan_vbmi2(r->tabs, r->sep, r->n_cols, p, avail, n_cols);
    case TELE_SIMD_AVX512:
        return zeek_scan_avx512(r->tabs, r->sep, r->n_cols, p, avail, n_cols);
    case TELE_SIMD_AVX2:
        return zeek_scan_avx2(r->tabs, r->sep, r->n_cols, p, avail, n_cols);
#endif
#if defined(__SSE2__)
    case TELE_SIMD_SSE2:
        return zeek_scan_sse2(r->tabs, r->sep, r->n_cols, p, avail, n_cols);
#endif
    default:
        return zeek_scan_bytes(r->tabs, r->sep, r->n_cols, p, avail, n_cols);
    }
}
