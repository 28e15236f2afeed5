/* SPDX-License-Identifier: Apache-2.0 */
/* The console's input and output text: forms, cookies, escaping. */
#include <string.h>
#include <strings.h>

#include "console/console_int.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode `len` bytes into `out` (room for len + 1); '+' is space. */
static int pct_decode(const char *s, size_t len, char *out, size_t *out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return CAIRN_EINVAL;
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
            if (lo < 0)
                return CAIRN_EINVAL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *out_len = n;
    return 0;
}

static int add_field(struct console_form *f, const char *name,
                     const char *value, size_t len, const char *filename)
{
    if (f->n >= CONSOLE_FIELDS_MAX)
        return CAIRN_ETOOBIG;
    f->f[f->n++] = (struct console_field){
        .name = name, .value = value, .len = len, .filename = filename};
    return 0;
}

static int parse_urlencoded(const char *body, size_t len,
                            struct console_form *out)
{
    /* Decoded text is never longer: one copy of the body holds it all. */
    out->mem = cairn_malloc(2 * len + 2);
    if (out->mem == NULL)
        return CAIRN_ENOMEM;
    char *w = out->mem;
    size_t pos = 0;
    while (pos < len) {
        const char *amp = memchr(body + pos, '&', len - pos);
        size_t end = amp != NULL ? (size_t)(amp - body) : len;
        const char *eq = memchr(body + pos, '=', end - pos);
        size_t name_end = eq != NULL ? (size_t)(eq - body) : end;
        if (end > pos) {
            size_t nl, vl;
            char *name = w;
            int rc = pct_decode(body + pos, name_end - pos, name, &nl);
            if (rc < 0)
                return rc;
            w += nl + 1;
            char *value = w;
            size_t vstart = eq != NULL ? name_end + 1 : end;
            rc = pct_decode(body + vstart, end - vstart, value, &vl);
            if (rc < 0)
                return rc;
            w += vl + 1;
            if (strlen(name) != nl)
                return CAIRN_EINVAL; /* a NUL in a name */
            if ((rc = add_field(out, name, value, vl, NULL)) < 0)
                return rc;
        }
        pos = end + 1;
    }
    return 0;
}

/* The value of parameter `key` in a header's parameters ("; key=value"). */
static bool header_param(const char *h, size_t hlen, const char *key,
                         char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 1 < hlen; i++) {
        if ((i == 0 || h[i - 1] == ';' || h[i - 1] == ' ') &&
            strncasecmp(h + i, key, klen) == 0 && h[i + klen] == '=') {
            size_t p = i + klen + 1, n = 0;
            bool quoted = p < hlen && h[p] == '"';
            if (quoted)
                p++;
            while (p < hlen && n + 1 < cap) {
                char c = h[p];
                if (quoted ? c == '"' : (c == ';' || c == ' ' || c == '\r'))
                    break;
                out[n++] = c;
                p++;
            }
            out[n] = '\0';
            return n > 0;
        }
    }
    return false;
}

static const char *find_mem(const char *hay, size_t hlen, const char *needle,
                            size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    for (size_t i = 0; i + nlen <= hlen; i++) {
        const char *p = memchr(hay + i, needle[0], hlen - nlen - i + 1);
        if (p == NULL)
            return NULL;
        if (memcmp(p, needle, nlen) == 0)
            return p;
        i = (size_t)(p - hay);
    }
    return NULL;
}

static int parse_multipart(const char *ctype, const char *body, size_t len,
                           struct console_form *out)
{
    char boundary[80];
    char delim[96];
    if (!header_param(ctype, strlen(ctype), "boundary", boundary,
                      sizeof boundary))
        return CAIRN_EINVAL;
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    if (dl < 0 || (size_t)dl >= sizeof delim)
        return CAIRN_EINVAL;
    /* Names and file names are copied; values point into the body,
     * whose bytes are NUL-terminated by the copy made here. */
    out->mem = cairn_malloc(len + 1 + 2 * CONSOLE_FIELDS_MAX * 256);
    if (out->mem == NULL)
        return CAIRN_ENOMEM;
    memcpy(out->mem, body, len);
    out->mem[len] = '\0';
    char *data = out->mem;
    char *names = out->mem + len + 1;
    /* The first delimiter has no CRLF before it. */
    if (len < (size_t)dl - 2 || memcmp(data, delim + 2, (size_t)dl - 2) != 0)
        return CAIRN_EINVAL;
    size_t pos = (size_t)dl - 2;
    for (;;) {
        if (pos + 2 > len)
            return CAIRN_EINVAL;
        if (data[pos] == '-' && data[pos + 1] == '-')
            return 0; /* the closing delimiter */
        if (data[pos] != '\r' || data[pos + 1] != '\n')
            return CAIRN_EINVAL;
        pos += 2;
        const char *hend = find_mem(data + pos, len - pos, "\r\n\r\n", 4);
        if (hend == NULL)
            return CAIRN_EINVAL;
        size_t hlen = (size_t)(hend - (data + pos));
        const char *h = data + pos;
        char name[256], filename[256];
        bool has_name = false, has_file = false;
        /* Content-Disposition among the part's headers. */
        for (size_t i = 0; i < hlen;) {
            const char *eol = find_mem(h + i, hlen - i, "\r\n", 2);
            size_t l = eol != NULL ? (size_t)(eol - (h + i)) : hlen - i;
            if (l > 20 && strncasecmp(h + i, "content-disposition:", 20) == 0) {
                has_name = header_param(h + i, l, "name", name, sizeof name);
                has_file =
                    header_param(h + i, l, "filename", filename, sizeof filename);
            }
            i += l + 2;
        }
        size_t vstart = (size_t)(hend - data) + 4;
        const char *vend =
            find_mem(data + vstart, len - vstart, delim, (size_t)dl);
        if (vend == NULL)
            return CAIRN_EINVAL;
        size_t vlen = (size_t)(vend - (data + vstart));
        if (has_name) {
            if (out->n >= CONSOLE_FIELDS_MAX)
                return CAIRN_ETOOBIG;
            size_t nl = strlen(name) + 1;
            memcpy(names, name, nl);
            const char *nm = names;
            names += nl;
            const char *fn = NULL;
            if (has_file) {
                size_t fl = strlen(filename) + 1;
                memcpy(names, filename, fl);
                fn = names;
                names += fl;
            }
            data[vstart + vlen] = '\0'; /* overwrites the CR of the delimiter */
            int rc = add_field(out, nm, data + vstart, vlen, fn);
            if (rc < 0)
                return rc;
        }
        pos = vstart + vlen + (size_t)dl;
    }
}

int cairn__console_form_parse(const char *ctype, const char *body, size_t len,
                              struct console_form *out)
{
    memset(out, 0, sizeof *out);
    if (body == NULL)
        len = 0;
    if (ctype == NULL ||
        strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
        return parse_urlencoded(body != NULL ? body : "", len, out);
    if (strncasecmp(ctype, "multipart/form-data", 19) == 0)
        return parse_multipart(ctype, body != NULL ? body : "", len, out);
    return CAIRN_EUNSUPPORTED;
}

void cairn__console_form_free(struct console_form *f)
{
    if (f == NULL)
        return;
    cairn_free(f->mem);
    memset(f, 0, sizeof *f);
}

const struct console_field *
cairn__console_form_get(const struct console_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->f[i].name, name) == 0)
            return &f->f[i];
    return NULL;
}

const char *cairn__console_form_str(const struct console_form *f,
                                    const char *name)
{
    const struct console_field *x = cairn__console_form_get(f, name);
    return x != NULL ? x->value : "";
}

bool cairn__console_cookie(const char *header, const char *name, char *out,
                           size_t cap)
{
    size_t nl = strlen(name);
    const char *p = header;
    if (cap == 0)
        return false;
    out[0] = '\0';
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t l = end != NULL ? (size_t)(end - p) : strlen(p);
        if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = l - nl - 1;
            if (vl + 1 > cap)
                return false;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

int cairn__console_esc(struct cairn_buf *b, const char *s, size_t len)
{
    int rc = 0;
    size_t i = 0;
    while (rc == 0 && i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = cairn_utf8_decode(s + i, len - i, &cp);
            if (n == 0) {
                rc = cairn_buf_puts(b, "\xEF\xBF\xBD");
                i++;
            } else {
                rc = cairn_buf_append(b, s + i, n);
                i += n;
            }
            continue;
        }
        switch (c) {
        case '&': rc = cairn_buf_puts(b, "&amp;"); break;
        case '<': rc = cairn_buf_puts(b, "&lt;"); break;
        case '>': rc = cairn_buf_puts(b, "&gt;"); break;
        case '"': rc = cairn_buf_puts(b, "&quot;"); break;
        case '\'': rc = cairn_buf_puts(b, "&#39;"); break;
        default:
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                rc = cairn_buf_puts(b, "\xEF\xBF\xBD");
            else
                rc = cairn_buf_putc(b, (char)c);
        }
        i++;
    }
    return rc;
}

int cairn__console_escs(struct cairn_buf *b, const char *s)
{
    return s != NULL ? cairn__console_esc(b, s, strlen(s)) : 0;
}

int cairn__console_urlenc(struct cairn_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (; rc == 0 && s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            rc = cairn_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = cairn_buf_append(b, e, 3);
        }
    }
    return rc;
}
