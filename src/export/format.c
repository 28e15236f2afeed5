/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering: each format as its consumer reads it. */
#include <stdio.h>
#include <string.h>

#include "export/export_int.h"

/* Namespace of the MISP attribute and event UUIDs (UUIDv5). */
#define MISP_NS "0b9c2a6e-5f64-5a8e-9a65-2b7d1f0c3e41"

struct render {
    struct cairn_export *ex;
    struct cairn_buf *out;
    struct cairn_export_stats *st;
    cairn_export_skip_cb skip;
    void *ud;
    struct cairn_time now;
    /* owner names written (RPZ): no record twice */
    uint64_t *seen;
    size_t seen_cap, seen_n;
    struct cairn_buf imports; /* YARA: every import once */
    bool partial;             /* the entry at hand lost a value */
    int score;                /* of the entry at hand; -1: none */
};

static void report(struct render *r, const struct entry *e, const char *why)
{
    if (r->skip != NULL)
        r->skip(e->id, why, r->ud);
}

/* A type the format cannot express: reported once per indicator. */
static void cannot(struct render *r, const struct entry *e,
                   enum cairn_ioc_type t, bool *reported)
{
    char why[160];
    if (*reported)
        return;
    *reported = true;
    r->partial = true;
    snprintf(why, sizeof why, "%s cannot express %s values",
             cairn_export_format_name(r->ex->o.format), cairn_ioc_type_name(t));
    report(r, e, why);
}

static const char *val(const struct entry *e, const struct xval *v)
{
    return e->text + v->off;
}

/* Text safe on one line of a text format: control characters as blanks. */
static int put_line_text(struct cairn_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc = cairn_buf_putc(b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static bool has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* ---- Zeek intel ------------------------------------------------------------ */

static int zeek_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    bool rep = false;
    int rc = 0;

    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *s = val(e, v), *type = NULL;
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        switch (v->type) {
        case CAIRN_IOC_DOMAIN:
            type = "Intel::DOMAIN";
            break;
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6:
            type = strchr(s, '/') != NULL ? "Intel::SUBNET" : "Intel::ADDR";
            break;
        case CAIRN_IOC_URL: {
            /* Zeek sees a URL as host and path, without the scheme */
            const char *p = strstr(s, "://");
            if (p != NULL)
                s = p + 3;
            type = "Intel::URL";
            break;
        }
        case CAIRN_IOC_EMAIL:
            type = "Intel::EMAIL";
            break;
        case CAIRN_IOC_MD5:
        case CAIRN_IOC_SHA1:
        case CAIRN_IOC_SHA256:
        case CAIRN_IOC_SHA512:
            type = "Intel::FILE_HASH";
            break;
        case CAIRN_IOC_FILENAME:
            type = "Intel::FILE_NAME";
            break;
        default:
            break;
        }
        if (type == NULL || has_ctl(s, strlen(s)) || s[0] == '\0' ||
            strcmp(s, "-") == 0) {
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
            continue;
        }
        rc = cairn_buf_puts(b, s);
        if (rc == 0)
            rc = cairn_buf_printf(b, "\t%s\t", type);
        if (rc == 0)
            rc = put_line_text(b, r->ex->o.source, 200);
        if (rc == 0)
            rc = cairn_buf_putc(b, '\t');
        if (rc == 0)
            rc = e->name != NULL && e->name[0] != '\0'
                     ? put_line_text(b, e->name, 500)
                     : cairn_buf_putc(b, '-');
        if (rc == 0)
            rc = cairn_buf_printf(b, "\t%s\n", e->id);
        (*n)++;
    }
    return rc;
}

/* ---- Suricata and Snort ----------------------------------------------------- */

/* Bytes of a rule's content string: printable ones as they are, others hex. */
static int put_content(struct cairn_buf *b, const char *s, size_t n)
{
    static const char hexd[] = "0123456789ABCDEF";
    bool in_hex = false;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c > 0x20 && c < 0x7f && c != '"' && c != ';' &&
                     c != '\\' && c != '|' && c != ':';
        if (plain) {
            if (in_hex)
                rc = cairn_buf_putc(b, '|');
            in_hex = false;
            if (rc == 0)
                rc = cairn_buf_putc(b, (char)c);
        } else {
            char h[4] = {in_hex ? ' ' : '|', hexd[c >> 4], hexd[c & 15], 0};
            rc = cairn_buf_append(b, h, 3);
            in_hex = true;
        }
    }
    if (rc == 0 && in_hex)
        rc = cairn_buf_putc(b, '|');
    return rc;
}

/* A msg: no quote, semicolon, backslash or control character. */
static int put_msg(struct cairn_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s), run = 0;
    int rc = 0;
    if (n > max)
        n = max;
    /* runs of plain characters in one append: this is most of a rule */
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        char to;
        if (c < 0x20 || c == 0x7f)
            to = ' ';
        else if (c == '"')
            to = '\'';
        else if (c == ';')
            to = ',';
        else if (c == '\\')
            to = '/';
        else
            continue;
        rc = cairn_buf_append(b, s + run, i - run);
        if (rc == 0)
            rc = cairn_buf_putc(b, to);
        run = i + 1;
    }
    if (rc == 0)
        rc = cairn_buf_append(b, s + run, n - run);
    return rc;
}

static int rule_head(struct render *r, const struct entry *e, const char *hdr,
                     const char *what, const char *s)
{
    struct cairn_buf *b = r->out;
    int rc = cairn_buf_printf(b, "alert %s (msg:\"cairn %s ", hdr, what);
    if (rc == 0)
        rc = put_msg(b, s, 200);
    if (rc == 0 && e->name != NULL && e->name[0] != '\0') {
        rc = cairn_buf_puts(b, " - ");
        if (rc == 0)
            rc = put_msg(b, e->name, 200);
    }
    if (rc == 0)
        rc = cairn_buf_printf(b, " (%s)\"; ", e->id);
    return rc;
}

static int rule_tail(struct render *r, const struct entry *e, const char *kind,
                     const char *s, size_t *n)
{
    uint32_t sid, rev;

    /* the rule's key: indicator, kind of rule and value */
    uint64_t key = cairn__export_hash(e->id, strlen(e->id), 1);
    key = cairn__export_hash(kind, strlen(kind), key);
    key = cairn__export_hash(s, strlen(s), key);
    int rc = cairn__export_sids_get(&r->ex->sids, key, e->ver_hash, &sid,
                                    &rev);
    if (rc == 0)
        rc = cairn_buf_printf(r->out,
                              "metadata:cairn_indicator %s; sid:%u; rev:%u;)\n",
                              e->id, sid, rev);
    (*n)++;
    return rc;
}

/* URL parts: host (no port) and the path with its query. */
static bool url_split(const char *u, const char **host, size_t *host_len,
                      const char **path)
{
    const char *p = strstr(u, "://");
    if (p == NULL)
        return false;
    const char *h = p + 3;
    const char *slash = strchr(h, '/');
    const char *end = slash != NULL ? slash : h + strlen(h);
    const char *at = memchr(h, '@', (size_t)(end - h));
    if (at != NULL)
        h = at + 1;
    const char *colon = NULL;
    if (*h != '[')
        colon = memchr(h, ':', (size_t)(end - h));
    *host = h;
    *host_len = (size_t)((colon != NULL ? colon : end) - h);
    *path = slash != NULL ? slash : "/";
    return *host_len > 0;
}

static int suricata_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    bool rep = false;
    int rc = 0;

    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *s = val(e, v);
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        switch (v->type) {
        case CAIRN_IOC_DOMAIN: {
            static const struct {
                const char *hdr, *what, *buf, *kind;
                bool nocase;
            } k[] = {
                {"dns any any -> any any", "DNS query", "dns.query", "dns",
                 true},
                {"tls any any -> any any", "TLS SNI", "tls.sni", "tls", true},
                /* the host buffer is lower case already: no nocase */
                {"http any any -> any any", "HTTP host", "http.host", "http",
                 false},
            };
            for (size_t j = 0; j < 3 && rc == 0; j++) {
                rc = rule_head(r, e, k[j].hdr, k[j].what, s);
                if (rc == 0)
                    rc = cairn_buf_printf(b, "%s; dotprefix; content:\".",
                                          k[j].buf);
                if (rc == 0)
                    rc = put_content(b, s, v->len);
                if (rc == 0)
                    rc = cairn_buf_printf(b, "\"; endswith;%s ",
                                          k[j].nocase ? " nocase;" : "");
                if (rc == 0)
                    rc = rule_tail(r, e, k[j].kind, s, n);
            }
            break;
        }
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6: {
            char hdr[100];
            snprintf(hdr, sizeof hdr, "ip any any <> [%s] any", s);
            rc = rule_head(r, e, hdr, "IP", s);
            if (rc == 0)
                rc = rule_tail(r, e, "ip", s, n);
            break;
        }
        case CAIRN_IOC_URL: {
            const char *host, *path;
            size_t hl;
            if (!url_split(s, &host, &hl, &path)) {
                cannot(r, e, CAIRN_IOC_URL, &rep);
                break;
            }
            char low[300];
            if (hl >= sizeof low) {
                cannot(r, e, CAIRN_IOC_URL, &rep);
                break;
            }
            rc = rule_head(r, e, "http any any -> any any", "HTTP URL", s);
            if (rc == 0)
                rc = cairn_buf_puts(b, "http.host; content:\"");
            if (rc == 0) {
                cairn__hunt_lower(host, hl, low);
                rc = put_content(b, low, hl);
            }
            if (rc == 0)
                rc = cairn_buf_puts(b, "\"; startswith; endswith; http.uri; "
                                       "content:\"");
            if (rc == 0)
                rc = put_content(b, path, strlen(path));
            if (rc == 0)
                rc = cairn_buf_puts(b, "\"; startswith; endswith; ");
            if (rc == 0)
                rc = rule_tail(r, e, "url", s, n);
            break;
        }
        default:
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
            break;
        }
    }
    return rc;
}

/* A domain as DNS labels on the wire: |07|example|03|com|00|. */
static int put_wire_name(struct cairn_buf *b, const char *s, size_t n)
{
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        const char *dot = memchr(s + i, '.', n - i);
        size_t l = (size_t)((dot != NULL ? dot : s + n) - (s + i));
        rc = cairn_buf_printf(b, "|%02X|", (unsigned)l);
        if (rc == 0)
            rc = put_content(b, s + i, l);
        i += l + 1;
    }
    return rc == 0 ? cairn_buf_puts(b, "|00|") : rc;
}

/* A PCRE literal: everything but letters and digits as \xHH. */
static int put_pcre(struct cairn_buf *b, const char *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_')
            rc = cairn_buf_putc(b, (char)c);
        else
            rc = cairn_buf_printf(b, "\\x%02x", c);
    }
    return rc;
}

static int snort_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    bool rep = false;
    int rc = 0;

    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *s = val(e, v);
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        switch (v->type) {
        case CAIRN_IOC_DOMAIN:
            /* the query name ends with the domain's labels: subdomains too */
            rc = rule_head(r, e, "udp any any -> any 53", "DNS query", s);
            if (rc == 0)
                rc = cairn_buf_puts(b, "content:\"");
            if (rc == 0)
                rc = put_wire_name(b, s, v->len);
            if (rc == 0)
                rc = cairn_buf_puts(b, "\"; offset:12; nocase; ");
            if (rc == 0)
                rc = rule_tail(r, e, "dns", s, n);
            if (rc == 0)
                rc = rule_head(r, e, "tcp any any -> any any", "HTTP host", s);
            if (rc == 0)
                rc = cairn_buf_puts(b, "flow:to_server,established; "
                                       "content:\"");
            if (rc == 0)
                rc = put_content(b, s, v->len);
            if (rc == 0)
                rc = cairn_buf_puts(b, "\"; http_header; nocase; "
                                       "pcre:\"/^Host\\x3a\\s*(?:[^\\r\\n]*"
                                       "\\.)?");
            if (rc == 0)
                rc = put_pcre(b, s, v->len);
            if (rc == 0)
                rc = cairn_buf_puts(b, "(?:\\x3a\\d+)?\\r?$/Hmi\"; ");
            if (rc == 0)
                rc = rule_tail(r, e, "http", s, n);
            break;
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6: {
            char hdr[100];
            snprintf(hdr, sizeof hdr, "ip any any <> [%s] any", s);
            rc = rule_head(r, e, hdr, "IP", s);
            if (rc == 0)
                rc = rule_tail(r, e, "ip", s, n);
            break;
        }
        case CAIRN_IOC_URL: {
            const char *host, *path;
            size_t hl;
            if (!url_split(s, &host, &hl, &path) || hl > 255) {
                cannot(r, e, CAIRN_IOC_URL, &rep);
                break;
            }
            rc = rule_head(r, e, "tcp any any -> any any", "HTTP URL", s);
            if (rc == 0)
                rc = cairn_buf_puts(b, "flow:to_server,established; "
                                       "content:\"");
            if (rc == 0)
                rc = put_content(b, path, strlen(path));
            if (rc == 0)
                rc = cairn_buf_printf(b, "\"; http_uri; urilen:%zu; "
                                         "content:\"",
                                      strlen(path));
            if (rc == 0)
                rc = put_content(b, host, hl);
            if (rc == 0)
                rc = cairn_buf_puts(b, "\"; http_header; nocase; ");
            if (rc == 0)
                rc = rule_tail(r, e, "url", s, n);
            break;
        }
        default:
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
            break;
        }
    }
    return rc;
}

/* ---- RPZ ------------------------------------------------------------------- */

/* False when the name was written already. */
static bool first_time(struct render *r, const char *a, size_t al,
                       const char *bb, size_t bl)
{
    uint64_t h = cairn__export_hash(a, al, cairn__export_hash(bb, bl, 3));
    if (h == 0)
        h = 1;
    if ((r->seen_n + 1) * 2 > r->seen_cap) {
        size_t nc = r->seen_cap ? r->seen_cap * 2 : 4096;
        uint64_t *ns = cairn_calloc(nc, sizeof *ns);
        if (ns == NULL)
            return true; /* a duplicate record is harmless */
        for (size_t i = 0; i < r->seen_cap; i++) {
            if (r->seen[i] == 0)
                continue;
            size_t j = (size_t)r->seen[i] & (nc - 1);
            while (ns[j] != 0)
                j = (j + 1) & (nc - 1);
            ns[j] = r->seen[i];
        }
        cairn_free(r->seen);
        r->seen = ns;
        r->seen_cap = nc;
    }
    size_t j = (size_t)h & (r->seen_cap - 1);
    while (r->seen[j] != 0) {
        if (r->seen[j] == h)
            return false;
        j = (j + 1) & (r->seen_cap - 1);
    }
    r->seen[j] = h;
    r->seen_n++;
    return true;
}

/* A domain as a relative owner name; false if DNS cannot hold it. */
static bool put_owner(struct cairn_buf *b, const char *s, size_t n,
                      size_t zone_len, int *rc)
{
    size_t label = 0;
    if (n == 0 || n + zone_len + 3 > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
    }
    if (label == 0)
        return false;
    for (size_t i = 0; i < n && *rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || (c >= 'A' && c <= 'Z'))
            *rc = cairn_buf_putc(b, (char)c);
        else
            *rc = cairn_buf_printf(b, "\\%03u", c);
    }
    return true;
}

/* An address or CIDR as an rpz-ip owner: prefix, then reversed parts. */
static bool rpz_ip(const char *s, size_t n, char *out, size_t cap)
{
    int family;
    uint8_t a[16];
    unsigned prefix;
    size_t o;

    if (!cairn__hunt_parse_cidr(s, n, &family, a, &prefix))
        return false;
    if (family == 4) {
        if (prefix < 1)
            return false;
        snprintf(out, cap, "%u.%u.%u.%u.%u.rpz-ip", prefix, a[3], a[2], a[1],
                 a[0]);
        return true;
    }
    if (prefix < 1)
        return false;
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    /* the longest run of two or more zero words is written "zz" */
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    o = (size_t)snprintf(out, cap, "%u", prefix);
    for (int i = 7; i >= 0 && o < cap; i--) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                o += (size_t)snprintf(out + o, cap - o, ".zz");
            continue;
        }
        o += (size_t)snprintf(out + o, cap - o, ".%x", w[i]);
    }
    if (o < cap)
        snprintf(out + o, cap - o, ".rpz-ip");
    return o + 8 < cap;
}

static int rpz_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    size_t zl = strlen(r->ex->o.zone);
    bool rep = false, said = false;
    int rc = 0;

    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *s = val(e, v);
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        if (v->type == CAIRN_IOC_DOMAIN) {
            if (!first_time(r, "d", 1, s, v->len))
                continue;
            if (!said) {
                rc = cairn_buf_printf(b, "; %s\n", e->id);
                said = true;
            }
            size_t mark = b->len;
            if (rc == 0 && !put_owner(b, s, v->len, zl + 2, &rc)) {
                b->len = mark;
                cannot(r, e, CAIRN_IOC_DOMAIN, &rep);
                continue;
            }
            if (rc == 0)
                rc = cairn_buf_puts(b, " CNAME .\n*.");
            if (rc == 0)
                (void)put_owner(b, s, v->len, zl + 2, &rc);
            if (rc == 0)
                rc = cairn_buf_puts(b, " CNAME .\n");
            *n += 2;
        } else if (v->type == CAIRN_IOC_IPV4 || v->type == CAIRN_IOC_IPV6) {
            char owner[128];
            if (!rpz_ip(s, v->len, owner, sizeof owner)) {
                cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
                continue;
            }
            if (!first_time(r, "i", 1, owner, strlen(owner)))
                continue;
            if (!said) {
                rc = cairn_buf_printf(b, "; %s\n", e->id);
                said = true;
            }
            if (rc == 0)
                rc = cairn_buf_printf(b, "%s CNAME .\n", owner);
            (*n)++;
        } else {
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
        }
    }
    return rc;
}

/* ---- CSV ------------------------------------------------------------------- */

static int put_csv(struct cairn_buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL)
        return cairn_buf_puts(b, s);
    int rc = cairn_buf_putc(b, '"');
    for (; *s != '\0' && rc == 0; s++)
        rc = *s == '"' ? cairn_buf_puts(b, "\"\"") : cairn_buf_putc(b, *s);
    return rc == 0 ? cairn_buf_putc(b, '"') : rc;
}

static int csv_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    int rc = 0;
    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        rc = cairn_buf_printf(b, "%s,",
                              cairn_ioc_type_name((enum cairn_ioc_type)v->type));
        if (rc == 0)
            rc = put_csv(b, val(e, v));
        if (rc == 0)
            rc = cairn_buf_printf(b, ",%s,", e->id);
        if (rc == 0 && e->name != NULL)
            rc = put_csv(b, e->name);
        if (rc == 0 && r->score >= 0)
            rc = cairn_buf_printf(b, ",%d", r->score);
        else if (rc == 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = cairn_buf_printf(b, ",%s\n",
                                  e->valid_until_text != NULL
                                      ? e->valid_until_text
                                      : "");
        (*n)++;
    }
    return rc;
}

/* ---- MISP ------------------------------------------------------------------ */

static int misp_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    bool rep = false;
    int rc = 0;

    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *type = NULL, *cat = "Payload delivery";
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        switch (v->type) {
        case CAIRN_IOC_DOMAIN:
            type = "domain";
            cat = "Network activity";
            break;
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6:
            type = "ip-dst";
            cat = "Network activity";
            break;
        case CAIRN_IOC_URL:
            type = "url";
            cat = "Network activity";
            break;
        case CAIRN_IOC_EMAIL:
            type = "email-src";
            break;
        case CAIRN_IOC_MD5:
            type = "md5";
            break;
        case CAIRN_IOC_SHA1:
            type = "sha1";
            break;
        case CAIRN_IOC_SHA256:
            type = "sha256";
            break;
        case CAIRN_IOC_SHA512:
            type = "sha512";
            break;
        case CAIRN_IOC_FILENAME:
            type = "filename";
            break;
        case CAIRN_IOC_REGKEY:
            type = "regkey";
            cat = "Persistence mechanism";
            break;
        default:
            break;
        }
        if (type == NULL) {
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
            continue;
        }
        char uuid[CAIRN_UUID_STRLEN], key[200];
        int kl = snprintf(key, sizeof key, "%s|%s|", e->id, type);
        struct cairn_buf kb;
        cairn_buf_init(&kb, (size_t)1 << 20);
        rc = cairn_buf_append(&kb, key, (size_t)kl);
        if (rc == 0)
            rc = cairn_buf_append(&kb, val(e, v), v->len);
        if (rc == 0)
            rc = cairn_uuid5(MISP_NS, kb.data, kb.len, uuid);
        cairn_buf_release(&kb);
        if (rc == 0)
            rc = cairn_buf_printf(b,
                                  "%s\n{\"uuid\":\"%s\",\"type\":\"%s\","
                                  "\"category\":\"%s\",\"to_ids\":true,"
                                  "\"timestamp\":\"%lld\",\"value\":",
                                  r->st->entries > 0 || *n > 0 ? "," : "",
                                  uuid, type, cat, (long long)e->version.sec);
        if (rc == 0)
            rc = cairn__export_json_str(b, val(e, v), v->len);
        if (rc == 0) {
            struct cairn_buf c;
            cairn_buf_init(&c, (size_t)1 << 20);
            rc = e->name != NULL ? cairn_buf_printf(&c, "%s (%s)", e->name,
                                                    e->id)
                                 : cairn_buf_puts(&c, e->id);
            if (rc == 0)
                rc = cairn_buf_puts(b, ",\"comment\":");
            if (rc == 0)
                rc = cairn__export_json_str(b, c.data, c.len);
            cairn_buf_release(&c);
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, '}');
        (*n)++;
    }
    return rc;
}

static int misp_head(struct render *r)
{
    struct cairn_export *ex = r->ex;
    struct cairn_buf key;
    char uuid[CAIRN_UUID_STRLEN], date[40];
    int rc;

    cairn_buf_init(&key, (size_t)1 << 20);
    rc = cairn_buf_printf(&key, "cairn export|%s", ex->o.source);
    for (size_t i = 0; i < ex->o.n_collections && rc == 0; i++)
        rc = cairn_buf_printf(&key, "|%s", ex->o.collections[i]);
    if (rc == 0)
        rc = cairn_uuid5(MISP_NS, key.data, key.len, uuid);
    cairn_buf_release(&key);
    if (rc != 0)
        return rc;
    if (cairn_time_format(&r->now, 0, date, sizeof date) < 10)
        return CAIRN_EINTERNAL;
    date[10] = '\0';
    rc = cairn_buf_printf(r->out,
                          "{\"Event\":{\"uuid\":\"%s\",\"info\":", uuid);
    if (rc == 0) {
        char info[300];
        snprintf(info, sizeof info, "cairn export (%s)", ex->o.source);
        rc = cairn__export_json_str(r->out, info, strlen(info));
    }
    if (rc == 0)
        rc = cairn_buf_printf(r->out,
                              ",\"date\":\"%s\",\"timestamp\":\"%lld\","
                              "\"published\":false,\"analysis\":\"2\","
                              "\"threat_level_id\":\"4\",\"distribution\":"
                              "\"0\",\"Orgc\":{\"name\":",
                              date, (long long)r->now.sec);
    if (rc == 0)
        rc = cairn__export_json_str(r->out, ex->o.source,
                                    strlen(ex->o.source));
    if (rc == 0)
        rc = cairn_buf_puts(r->out, "},\"Attribute\":[");
    return rc;
}

/* ---- YARA and STIX ---------------------------------------------------------- */

static int yara_entry(struct render *r, const struct entry *e, size_t *n)
{
    int rc = cairn_buf_puts(r->out, "// ");
    if (rc == 0)
        rc = cairn_buf_puts(r->out, e->id);
    if (rc == 0 && e->name != NULL) {
        rc = cairn_buf_puts(r->out, ": ");
        if (rc == 0)
            rc = put_line_text(r->out, e->name, 300);
    }
    if (rc == 0)
        rc = cairn_buf_putc(r->out, '\n');
    if (rc == 0)
        rc = cairn_buf_puts(r->out, e->rules);
    if (rc == 0)
        rc = cairn_buf_putc(r->out, '\n');
    /* imports once each, for the head of the file */
    const char *p = e->imports;
    while (rc == 0 && p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t l = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
        bool seen = false;
        for (size_t k = 0; k + l <= r->imports.len; k++) {
            if ((k == 0 || r->imports.data[k - 1] == '\n') &&
                memcmp(r->imports.data + k, p, l) == 0) {
                seen = true;
                break;
            }
        }
        if (!seen)
            rc = cairn_buf_append(&r->imports, p, l);
        p += l;
    }
    (*n)++;
    return rc;
}

static int stix_entry(struct render *r, const struct entry *e, size_t *n)
{
    int rc = cairn_buf_puts(r->out, *n > 0 ? ",\n" : "\n");
    if (rc == 0)
        rc = cairn_buf_append(r->out, e->json, e->json_len);
    (*n)++;
    return rc;
}

/* ---- one rewrite ------------------------------------------------------------ */

static int head(struct render *r)
{
    struct cairn_export *ex = r->ex;
    struct cairn_buf *b = r->out;

    switch (ex->o.format) {
    case CAIRN_EXPORT_ZEEK:
        return cairn_buf_puts(b, "#fields\tindicator\tindicator_type\t"
                                 "meta.source\tmeta.desc\tmeta.url\n");
    case CAIRN_EXPORT_SURICATA:
    case CAIRN_EXPORT_SNORT:
        return cairn_buf_printf(b, "# cairn export (%s)\n",
                                cairn_export_format_name(ex->o.format));
    case CAIRN_EXPORT_RPZ: {
        uint64_t serial = ex->sids.serial + 1;
        if ((uint64_t)r->now.sec > serial && r->now.sec < UINT32_MAX)
            serial = (uint64_t)r->now.sec;
        if (serial > UINT32_MAX)
            serial = 1; /* RFC 1982 arithmetic: wraps */
        ex->sids.serial = serial;
        ex->sids.dirty = true;
        return cairn_buf_printf(b,
                                "; cairn export (rpz)\n"
                                "$TTL 60\n"
                                "@ IN SOA localhost. hostmaster.localhost. "
                                "%llu 3600 600 86400 60\n"
                                "@ IN NS localhost.\n",
                                (unsigned long long)serial);
    }
    case CAIRN_EXPORT_YARA:
        return 0; /* imports first: written when the rules are known */
    case CAIRN_EXPORT_CSV:
        return cairn_buf_puts(b, "type,value,indicator_id,name,score,"
                                 "valid_until\n");
    case CAIRN_EXPORT_MISP:
        return misp_head(r);
    case CAIRN_EXPORT_STIX: {
        char u[CAIRN_UUID_STRLEN];
        int rc = cairn_uuid4(u);
        return rc == 0 ? cairn_buf_printf(b,
                                          "{\"type\":\"bundle\",\"id\":"
                                          "\"bundle--%s\",\"objects\":[",
                                          u)
                       : rc;
    }
    default:
        return CAIRN_EINVAL;
    }
}

static int tail(struct render *r, size_t body_start)
{
    struct cairn_buf *b = r->out;
    switch (r->ex->o.format) {
    case CAIRN_EXPORT_MISP:
        return cairn_buf_puts(b, "\n]}}\n");
    case CAIRN_EXPORT_STIX:
        return cairn_buf_puts(b, "\n]}\n");
    case CAIRN_EXPORT_YARA: {
        /* the imports go before the rules; the whole must compile */
        char why[300];
        int rc = cairn_buf_reserve(b, r->imports.len + 1);
        if (rc != 0)
            return rc;
        if (r->imports.len > 0) {
            memmove(b->data + body_start + r->imports.len,
                    b->data + body_start, b->len - body_start);
            memcpy(b->data + body_start, r->imports.data, r->imports.len);
            b->len += r->imports.len;
        }
        rc = cairn_buf_putc(b, '\0');
        if (rc != 0)
            return rc;
        b->len--;
        if (r->st->entries == 0)
            return 0;
        rc = cairn__export_yara_compile(b->data + body_start, why, sizeof why);
        if (rc == CAIRN_EINVALID) {
            cairn_log(CAIRN_LOG_ERROR, "export: the YARA rules together do "
                                       "not compile: %s", why);
            return CAIRN_EINTERNAL;
        }
        return rc;
    }
    default:
        return 0;
    }
}

/*
 * The values of `e` on a warninglist, left out: each reported and counted.
 * False when nothing of `e` is left (every value the types keep is listed;
 * any listed value in a STIX bundle).
 */
static bool left_out_listed(struct render *r, const struct entry *e)
{
    const struct cairn_export *ex = r->ex;
    if (e->n_listed == 0 || ex->o.include_warninglisted)
        return true;
    size_t kept = 0, listed = 0;
    for (uint32_t i = 0; i < e->n_vals; i++) {
        const struct xval *v = &e->vals[i];
        if (!ex->any_type && !ex->type_ok[v->type])
            continue;
        if (!v->listed) {
            kept++;
            continue;
        }
        listed++;
        const char *list = cairn_warninglists_match(ex->o.warninglists,
                                                    v->type, val(e, v),
                                                    v->len);
        char why[700];
        snprintf(why, sizeof why, "%.*s is on warninglist '%.200s'",
                 (int)(v->len < 300 ? v->len : 300), val(e, v),
                 list != NULL ? list : "?");
        report(r, e, why);
    }
    r->st->warninglisted_values += listed;
    /* a bundle holds the indicator whole: it cannot drop one value */
    if (listed > 0 && (kept == 0 || ex->o.format == CAIRN_EXPORT_STIX)) {
        r->st->warninglisted++;
        return false;
    }
    return true;
}

int cairn_export_render(struct cairn_export *ex, const struct cairn_time *now,
                        struct cairn_buf *out, struct cairn_export_stats *stats,
                        cairn_export_skip_cb skip, void *ud)
{
    struct cairn_export_stats st = {0};
    struct render r = {.ex = ex, .out = out, .st = &st, .skip = skip,
                       .ud = ud};
    size_t body_start = out->len;
    int rc;

    r.now = now != NULL ? *now : cairn_time_now(3);
    cairn_buf_init(&r.imports, (size_t)1 << 24);
    rc = head(&r);
    for (size_t i = 0; i < ex->n_ents && rc == 0; i++) {
        const struct entry *e = ex->ents[i];
        size_t n = 0;
        bool whole = true; /* the format takes any indicator as it is */
        st.indicators++;
        r.partial = false;
        if (e->kind == ENT_REVOKED) {
            st.revoked++;
            continue;
        }
        if (e->has_until && cairn_time_cmp(&e->until, &r.now) <= 0) {
            st.expired++;
            continue;
        }
        if (!cairn__export_keep_entry(ex, e)) {
            st.filtered++;
            continue;
        }
        if (!left_out_listed(&r, e))
            continue;
        r.score = cairn__export_score(ex, e, &r.now);
        if (ex->o.min_score > 0 && r.score < ex->o.min_score) {
            st.low_score++;
            continue;
        }
        switch (ex->o.format) {
        case CAIRN_EXPORT_STIX:
            rc = stix_entry(&r, e, &st.entries);
            n = 1;
            break;
        case CAIRN_EXPORT_YARA:
            whole = e->kind == ENT_YARA && e->rules != NULL;
            if (whole)
                rc = yara_entry(&r, e, &n);
            break;
        default:
            whole = e->kind == ENT_VALUES;
            if (!whole)
                break;
            switch (ex->o.format) {
            case CAIRN_EXPORT_ZEEK:
                rc = zeek_entry(&r, e, &n);
                break;
            case CAIRN_EXPORT_SURICATA:
                rc = suricata_entry(&r, e, &n);
                break;
            case CAIRN_EXPORT_SNORT:
                rc = snort_entry(&r, e, &n);
                break;
            case CAIRN_EXPORT_RPZ:
                rc = rpz_entry(&r, e, &n);
                break;
            case CAIRN_EXPORT_CSV:
                rc = csv_entry(&r, e, &n);
                break;
            case CAIRN_EXPORT_MISP:
                rc = misp_entry(&r, e, &n);
                break;
            default:
                break;
            }
            break;
        }
        if (!whole) {
            char why[400];
            if (e->kind == ENT_YARA)
                snprintf(why, sizeof why,
                         "%s cannot express YARA rules (use --format yara)",
                         cairn_export_format_name(ex->o.format));
            else if (e->kind == ENT_VALUES)
                snprintf(why, sizeof why, "yara exports YARA rules only");
            else
                snprintf(why, sizeof why, "%s cannot express it: %s",
                         cairn_export_format_name(ex->o.format),
                         e->why != NULL ? e->why : "?");
            report(&r, e, why);
            st.unsupported++;
            continue;
        }
        if (ex->o.format != CAIRN_EXPORT_STIX)
            st.entries += n;
        if (n > 0)
            st.exported++;
        else
            st.unsupported++;
        if (n > 0 && r.partial)
            st.partial++;
    }
    if (rc == 0)
        rc = tail(&r, body_start);
    if (rc == 0 && ex->state_path != NULL && ex->sids.dirty) {
        rc = cairn__export_sids_save(&ex->sids, ex->state_path);
        if (rc == 0)
            ex->sids.dirty = false;
    }
    if (stats != NULL)
        *stats = st;
    cairn_free(r.seen);
    cairn_buf_release(&r.imports);
    return rc;
}
