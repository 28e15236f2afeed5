/* SPDX-License-Identifier: Apache-2.0 */
/* JSON lines (Zeek JSON, Sysmon, Suricata eve.json...): a scanner. */
#include <string.h>

#include "telemetry/telemetry_int.h"

/*
 * No tree is built: one pass over the line yields (key, string value)
 * pairs and numbers under time keys. Strings without escapes point into
 * the line; a key's closing quote is overwritten with NUL so that the key
 * can serve as the field's name. Anything that is not JSON makes the line
 * malformed; nothing is allocated per line.
 */
struct jscan {
    struct cairn_telemetry_reader *r;
    char *s;
    size_t len, i;
    const char *err;
    /* For joining {"host": "h", "uri": "/p"} into a URL. */
    const char *host, *uri;
    size_t host_len, uri_len;
};

static void ws(struct jscan *j)
{
    while (j->i < j->len) {
        char c = j->s[j->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        j->i++;
    }
}

static bool hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = cairn_hex_digit(p[k]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return true;
}

/* Decode the escapes of raw[0, n) into w; returns the decoded length. */
static bool unescape(const char *raw, size_t n, char *w, size_t *out_len)
{
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        char c = raw[k];
        if (c != '\\') {
            w[o++] = c;
            continue;
        }
        if (++k >= n)
            return false;
        switch (raw[k]) {
        case '"':
        case '\\':
        case '/':
            w[o++] = raw[k];
            break;
        case 'b':
            w[o++] = '\b';
            break;
        case 'f':
            w[o++] = '\f';
            break;
        case 'n':
            w[o++] = '\n';
            break;
        case 'r':
            w[o++] = '\r';
            break;
        case 't':
            w[o++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (n - k < 5 || !hex4(raw + k + 1, &cp))
                return false;
            k += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && n - k >= 7 &&
                raw[k + 1] == '\\' && raw[k + 2] == 'u' &&
                hex4(raw + k + 3, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                k += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd; /* a lone surrogate */
            }
            /* 6 escaped bytes become at most 4 (or 12 become 4). */
            o += cairn_utf8_encode(cp, w + o);
            break;
        }
        default:
            return false;
        }
    }
    *out_len = o;
    return true;
}

/*
 * A string at s[i] == '"'. Sets v and vl (decoded), moves past it. With
 * `nul`, the result is NUL-terminated (for keys).
 */
static bool string(struct jscan *j, const char **v, size_t *vl, bool nul)
{
    size_t start = ++j->i;
    bool esc = false;
    const char *s = j->s;
    size_t k = start;
    for (;;) {
        const char *q = memchr(s + k, '"', j->len - k);
        if (q == NULL) {
            j->err = "unterminated string";
            return false;
        }
        size_t e = (size_t)(q - s);
        /* The quote is escaped when an odd number of '\' precede it. */
        size_t bs = 0;
        while (e - bs > start && s[e - bs - 1] == '\\')
            bs++;
        if (bs > 0)
            esc = true;
        if (bs % 2 == 1) {
            k = e + 1;
            continue;
        }
        for (size_t c = start; c < e; c++) {
            if ((unsigned char)s[c] < 0x20) {
                j->err = "control character in a string";
                return false;
            }
        }
        if (!esc && memchr(s + start, '\\', e - start) != NULL)
            esc = true;
        j->i = e + 1;
        if (!esc) {
            *v = s + start;
            *vl = e - start;
            if (nul)
                j->s[e] = '\0';
            return true;
        }
        char *w = cairn__tele_scratch(j->r, e - start + 1);
        size_t n;
        if (w == NULL || !unescape(s + start, e - start, w, &n)) {
            j->err = "bad escape in a string";
            return false;
        }
        w[n] = '\0';
        *v = w;
        *vl = n;
        return true;
    }
}

static bool number(struct jscan *j, const char **v, size_t *vl)
{
    const char *s = j->s;
    size_t i = j->i, start = i;
    if (i < j->len && s[i] == '-')
        i++;
    size_t d = i;
    while (i < j->len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d)
        return false;
    if (i < j->len && s[i] == '.') {
        size_t f = ++i;
        while (i < j->len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f)
            return false;
    }
    if (i < j->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < j->len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t x = i;
        while (i < j->len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == x)
            return false;
    }
    *v = s + start;
    *vl = i - start;
    j->i = i;
    return true;
}

/* Epoch seconds, or milliseconds when it is too large for seconds. */
static bool epoch_number(const char *v, size_t len, struct cairn_time *out)
{
    size_t i = 0;
    int64_t sec = 0;
    while (i < len && i < 18 && v[i] >= '0' && v[i] <= '9')
        sec = sec * 10 + (v[i++] - '0');
    if (i == 0 || (i < len && v[i] != '.'))
        return false;
    struct cairn_time t = {sec, 0, 0};
    if (i < len) {
        if (!cairn__tele_parse_epoch(v, len, &t)) {
            /* More digits than seconds take: use the integer part. */
            t.sec = sec;
            t.nsec = 0;
        }
    }
    if (sec >= 100000000000LL) { /* milliseconds since 1970 */
        t.sec = sec / 1000;
        t.nsec = (int32_t)(sec % 1000) * 1000000;
        t.digits = 3;
    }
    *out = t;
    return true;
}

static bool is_host_key(const char *k)
{
    return strcmp(k, "host") == 0 || strcmp(k, "hostname") == 0 ||
           strcmp(k, "http_host") == 0 || strcmp(k, "cs-host") == 0 ||
           strcmp(k, "request_host") == 0;
}

static bool file_parent(const char *p)
{
    return p != NULL &&
           (strcmp(p, "file") == 0 || strcmp(p, "process") == 0 ||
            strcmp(p, "fileinfo") == 0 || strcmp(p, "parent") == 0);
}

static int on_string(struct jscan *j, const char *key, size_t kl,
                     const char *parent, const char *v, size_t vl)
{
    struct cairn_telemetry_reader *r = j->r;
    enum tele_kind kind = key != NULL ? cairn__tele_key_kind(key, kl) : TK_NONE;
    if (kind == TK_NONE && key != NULL && strcmp(key, "name") == 0 &&
        file_parent(parent))
        kind = TK_FILENAME;
    if (kind == TK_TS) {
        if (!r->has_ts)
            r->has_ts =
                cairn__tele_parse_iso(v, vl, &r->ts) || epoch_number(v, vl, &r->ts);
        return 0;
    }
    if (kind == TK_URI && vl > 0 && v[0] == '/') {
        if (j->uri == NULL) {
            j->uri = v;
            j->uri_len = vl;
        }
        return cairn__tele_add(r, CAIRN_IOC_STRING, v, vl, key);
    }
    if (key != NULL && j->host == NULL && is_host_key(key)) {
        j->host = v;
        j->host_len = vl;
    }
    return cairn__tele_add_kind(r, kind, v, vl, key, true);
}

static int value(struct jscan *j, const char *key, size_t kl,
                 const char *parent, int depth);

static int object(struct jscan *j, const char *parent, int depth)
{
    j->i++; /* '{' */
    ws(j);
    if (j->i < j->len && j->s[j->i] == '}') {
        j->i++;
        return 0;
    }
    for (;;) {
        const char *k;
        size_t kl;
        ws(j);
        if (j->i >= j->len || j->s[j->i] != '"') {
            j->err = "expected a member name";
            return CAIRN_EPARSE;
        }
        if (!string(j, &k, &kl, true))
            return CAIRN_EPARSE;
        ws(j);
        if (j->i >= j->len || j->s[j->i] != ':') {
            j->err = "expected ':'";
            return CAIRN_EPARSE;
        }
        j->i++;
        int rc = value(j, k, kl, parent, depth + 1);
        if (rc < 0)
            return rc;
        ws(j);
        if (j->i < j->len && j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->len && j->s[j->i] == '}') {
            j->i++;
            return 0;
        }
        j->err = "expected ',' or '}'";
        return CAIRN_EPARSE;
    }
}

static int array(struct jscan *j, const char *key, size_t kl,
                 const char *parent, int depth)
{
    j->i++; /* '[' */
    ws(j);
    if (j->i < j->len && j->s[j->i] == ']') {
        j->i++;
        return 0;
    }
    for (;;) {
        int rc = value(j, key, kl, parent, depth + 1);
        if (rc < 0)
            return rc;
        ws(j);
        if (j->i < j->len && j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->i < j->len && j->s[j->i] == ']') {
            j->i++;
            return 0;
        }
        j->err = "expected ',' or ']'";
        return CAIRN_EPARSE;
    }
}

static bool literal(struct jscan *j, const char *word, size_t n)
{
    if (j->len - j->i < n || memcmp(j->s + j->i, word, n) != 0)
        return false;
    j->i += n;
    return true;
}

/* The value under `key` (NULL at the top); `parent` is the enclosing key. */
static int value(struct jscan *j, const char *key, size_t kl,
                 const char *parent, int depth)
{
    if (depth > TELE_JSON_DEPTH) {
        j->err = "nested too deeply";
        return CAIRN_EPARSE;
    }
    ws(j);
    if (j->i >= j->len) {
        j->err = "unexpected end of line";
        return CAIRN_EPARSE;
    }
    const char *v;
    size_t vl;
    switch (j->s[j->i]) {
    case '{':
        return object(j, key, depth);
    case '[':
        return array(j, key, kl, parent, depth);
    case '"':
        if (!string(j, &v, &vl, false))
            return CAIRN_EPARSE;
        return on_string(j, key, kl, parent, v, vl);
    case 't':
        if (literal(j, "true", 4))
            return 0;
        break;
    case 'f':
        if (literal(j, "false", 5))
            return 0;
        break;
    case 'n':
        if (literal(j, "null", 4))
            return 0;
        break;
    default:
        if (number(j, &v, &vl)) {
            if (key != NULL && !j->r->has_ts && cairn__tele_key_kind(key, kl) == TK_TS)
                j->r->has_ts = epoch_number(v, vl, &j->r->ts);
            return 0;
        }
        break;
    }
    j->err = "not a JSON value";
    return CAIRN_EPARSE;
}

static int join_url(struct jscan *j)
{
    const char *h = j->host;
    size_t hl = j->host_len;
    size_t n = 7 + hl + j->uri_len;
    char *p = cairn__tele_scratch(j->r, n);
    if (p == NULL)
        return 0;
    memcpy(p, "http://", 7);
    memcpy(p + 7, h, hl);
    memcpy(p + 7 + hl, j->uri, j->uri_len);
    return cairn__tele_add(j->r, CAIRN_IOC_URL, p, n, "url");
}

int cairn__tele_json_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    struct jscan j = {.r = r, .s = line, .len = len};
    ws(&j);
    if (j.i == len)
        return 0; /* a blank line */
    int rc;
    if (line[j.i] != '{' && line[j.i] != '[') {
        j.err = "not a JSON object";
        rc = CAIRN_EPARSE;
    } else {
        rc = value(&j, NULL, 0, NULL, 0);
        if (rc == 0) {
            ws(&j);
            if (j.i != len) {
                j.err = "text after the JSON value";
                rc = CAIRN_EPARSE;
            }
        }
    }
    if (rc == CAIRN_EPARSE) {
        r->n_fields = 0;
        cairn__tele_malformed(r, r->lineno, "malformed-line",
                       "not valid JSON at byte %zu: %s", j.i + 1,
                       j.err ? j.err : "syntax error");
        return rc;
    }
    if (rc == 0 && j.uri != NULL && j.host != NULL && j.host_len > 0)
        rc = join_url(&j);
    return rc;
}
