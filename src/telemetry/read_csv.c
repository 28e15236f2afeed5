/* SPDX-License-Identifier: Apache-2.0 */
/* CSV with a header line (RFC 4180 quoting), typed by column name. */
#include <string.h>

#include "telemetry/telemetry_int.h"

/*
 * Split one line into fields. Quoted fields lose their quotes and have
 * "" decoded into scratch; values point into the line otherwise. Returns
 * the number of fields (at most max, or max + 1 when there are more), or
 * 0 with *err set when the line is not CSV.
 */
static size_t split(struct cairn_telemetry_reader *r, const char *s, size_t len,
                    const char **v, size_t *vl, size_t max, const char **err)
{
    size_t n = 0, pos = 0;
    int sep = ',';
    while (sep == ',') {
        struct cairn_csv_field f;
        if (n == max)
            return max + 1;
        sep = cairn_csv_field(s, len, &pos, CAIRN_CSV_LINE | CAIRN_CSV_STRICT,
                              &f);
        if (sep < 0) {
            *err = f.unclosed ? "a quoted field runs past the end of the line"
                              : "text after a closing quote";
            return 0;
        }
        v[n] = f.s;
        vl[n] = f.len;
        if (f.escaped) {
            char *w = cairn__tele_scratch(r, f.len);
            if (w == NULL) {
                *err = "field too long";
                return 0;
            }
            v[n] = w;
            vl[n] = cairn_csv_unquote(f.s, f.len, w);
        }
        n++;
    }
    return n;
}

bool cairn__tele_csv_sniff(const char *line, size_t len)
{
    if (len == 0 || memchr(line, ',', len) == NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == ' ' || c == '.' ||
              c == ',' || c == '"' || c == '-' || c == '@' || c == '(' ||
              c == ')' || c == '\r'))
            return false;
    }
    /* At least one column name we know. */
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && line[e] != ',')
            e++;
        size_t a = i, b = e;
        while (a < b && (line[a] == ' ' || line[a] == '"'))
            a++;
        while (b > a && (line[b - 1] == ' ' || line[b - 1] == '"' ||
                         line[b - 1] == '\r'))
            b--;
        enum tele_kind k = cairn__tele_key_kind(line + a, b - a);
        if (k != TK_NONE && k != TK_SKIP)
            return true;
        i = e + 1;
    }
    return false;
}

static int header(struct cairn_telemetry_reader *r, const char *line,
                  size_t len)
{
    const char *v[TELE_MAX_COLUMNS];
    size_t vl[TELE_MAX_COLUMNS];
    const char *err = NULL;
    size_t n = split(r, line, len, v, vl, TELE_MAX_COLUMNS, &err);
    if (n == 0 || n > TELE_MAX_COLUMNS) {
        cairn__tele_malformed(r, r->lineno, "malformed-line", "not a CSV header: %s",
                       err ? err : "too many columns");
        return CAIRN_EPARSE;
    }
    for (size_t i = 0; i < n; i++) {
        while (vl[i] > 0 && v[i][0] == ' ') {
            v[i]++;
            vl[i]--;
        }
        while (vl[i] > 0 && v[i][vl[i] - 1] == ' ')
            vl[i]--;
    }
    return cairn__tele_header_set(r, v, vl, n);
}

int cairn__tele_csv_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    if (!r->have_header)
        return header(r, line, len);
    const char *v[TELE_MAX_COLUMNS];
    size_t vl[TELE_MAX_COLUMNS];
    const char *err = NULL;
    size_t n = split(r, line, len, v, vl, r->n_cols, &err);
    if (n != r->n_cols) {
        if (n == 0)
            cairn__tele_malformed(r, r->lineno, "malformed-line", "bad CSV: %s", err);
        else if (n > r->n_cols)
            cairn__tele_malformed(r, r->lineno, "malformed-line",
                           "more fields than the %zu of the header", r->n_cols);
        else
            cairn__tele_malformed(r, r->lineno, "malformed-line",
                           "%zu fields, the header has %zu", n, r->n_cols);
        return CAIRN_EPARSE;
    }
    const char *host = NULL, *uri = NULL;
    size_t hl = 0, ul = 0;
    for (size_t c = 0; c < n; c++) {
        enum tele_kind kind = (enum tele_kind)r->col_kind[c];
        if (vl[c] == 0 || kind == TK_SKIP)
            continue;
        if (kind == TK_TS) {
            if (!r->has_ts)
                r->has_ts = cairn__tele_parse_iso(v[c], vl[c], &r->ts) ||
                            cairn__tele_parse_epoch(v[c], vl[c], &r->ts);
            continue;
        }
        if ((long)c == r->uri_col && v[c][0] == '/') {
            uri = v[c];
            ul = vl[c];
        }
        if ((long)c == r->host_col) {
            host = v[c];
            hl = vl[c];
        }
        int rc = cairn__tele_add_kind(r, kind, v[c], vl[c], r->cols[c], true);
        if (rc < 0)
            return rc;
    }
    if (uri != NULL && host != NULL) {
        char *p = cairn__tele_scratch(r, 7 + hl + ul);
        if (p != NULL) {
            memcpy(p, "http://", 7);
            memcpy(p + 7, host, hl);
            memcpy(p + 7 + hl, uri, ul);
            return cairn__tele_add(r, CAIRN_IOC_URL, p, 7 + hl + ul,
                            r->cols[r->uri_col]);
        }
    }
    return 0;
}
