/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering: each format as its consumer reads it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "export/export_int.h"

/* Namespace of the MISP attribute and event UUIDs (UUIDv5). */
#define MISP_NS "0b9c2a6e-5f64-5a8e-9a65-2b7d1f0c3e41"

#define EK_MAX 64

struct render {
    struct cairn_export *ex;
    struct cairn_buf *out; /* the entry being rendered: ex->scratch */
    struct cairn_export_stats *st;
    cairn_export_skip_cb skip;
    void *ud;
    struct cairn_time now;
    /* owner names written (RPZ), imports written (YARA): no line twice */
    uint64_t *seen;
    size_t seen_cap, seen_n;
    struct cairn_buf imports; /* YARA: every import once */
    struct cairn_buf *why;    /* the entry's sentences: ex->scratch2 */
    uint32_t n_why;
    size_t n_pcs, cut_at; /* pieces of the entry (ex->pcs) */
    bool partial;         /* the entry at hand lost a value */
    int score;            /* of the entry at hand; -1: none */
    /* straight into a file (fd >= 0): `out` is written out in chunks */
    int fd;
    size_t written; /* of out: bytes already written */
    size_t total;   /* bytes gone from out (written and hashed) */
    uint64_t h[4];  /* the hash of what is gone, 32 bytes at a time */
    /*
     * A one-shot export without a state file (fresh_sids) numbers its
     * rules in order and keeps no map: a key (indicator, kind, value) can
     * come again only within one indicator, so the entry's own keys are
     * enough (the first EK_MAX of them here, the rest in the map).
     */
    bool fresh_sids;
    const struct entry *id_key_of; /* the entry whose id_key is known */
    uint64_t id_key;
    size_t n_ek;
    struct {
        uint64_t key;
        uint32_t sid;
    } ek[EK_MAX];
};

/* ---- the file's hash -------------------------------------------------------
 *
 * 64-bit, four lanes of 8 bytes (multiply and rotate, as the xxHash
 * family does): a few GB/s, so that hashing a 700 MB file for its ETag
 * costs a fraction of writing it. Not cryptographic.
 */

#define H_P1 0x9e3779b185ebca87ull
#define H_P2 0xc2b2ae3d27d4eb4full
#define H_P3 0x165667b19e3779f9ull

static uint64_t rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static uint64_t rd64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void hash_init(uint64_t h[4])
{
    h[0] = H_P1 + H_P2;
    h[1] = H_P2;
    h[2] = 0;
    h[3] = 0 - H_P1;
}

/* `n` whole stripes of 32 bytes. */
static void hash_stripes(uint64_t h[4], const char *p, size_t n)
{
    uint64_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (size_t i = 0; i < n; i++, p += 32) {
        a = rotl(a + rd64(p) * H_P2, 31) * H_P1;
        b = rotl(b + rd64(p + 8) * H_P2, 31) * H_P1;
        c = rotl(c + rd64(p + 16) * H_P2, 31) * H_P1;
        d = rotl(d + rd64(p + 24) * H_P2, 31) * H_P1;
    }
    h[0] = a;
    h[1] = b;
    h[2] = c;
    h[3] = d;
}

/* The hash of a file of `total` bytes, the last `n` (< 32) at `p`. */
static uint64_t hash_end(const uint64_t h[4], const char *p, size_t n,
                         uint64_t total)
{
    uint64_t x = rotl(h[0], 1) + rotl(h[1], 7) + rotl(h[2], 12) +
                 rotl(h[3], 18) + total;
    for (; n >= 8; n -= 8, p += 8)
        x = rotl(x ^ rotl(rd64(p) * H_P2, 31) * H_P1, 27) * H_P1 + H_P3;
    for (; n > 0; n--, p++)
        x = rotl(x ^ (uint64_t)(unsigned char)*p * H_P3, 11) * H_P1;
    x ^= x >> 33;
    x *= H_P2;
    x ^= x >> 29;
    x *= H_P3;
    return x ^ x >> 32;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return CAIRN_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Chunks written to the file: large, so that the syscalls cost nothing. */
#define CHUNK ((size_t)1 << 20)

/*
 * Write what `out` holds to the file and hash its whole stripes; the
 * bytes of a last partial stripe stay at the front of `out` (written
 * already) to be hashed with what follows.
 */
static int flush(struct render *r)
{
    struct cairn_buf *b = r->out;
    int rc = write_all(r->fd, b->data + r->written, b->len - r->written);
    if (rc != 0)
        return rc;
    size_t whole = b->len & ~(size_t)31;
    hash_stripes(r->h, b->data, whole / 32);
    memmove(b->data, b->data + whole, b->len - whole);
    b->len -= whole;
    r->total += whole;
    r->written = b->len;
    return 0;
}

static int maybe_flush(struct render *r)
{
    return r->fd >= 0 && r->out->len >= CHUNK ? flush(r) : 0;
}

/* Kept with the entry, said again at each rewrite. */
static void report(struct render *r, const struct entry *e, const char *why)
{
    (void)e;
    if (cairn_buf_puts(r->why, why) == 0 && cairn_buf_putc(r->why, '\0') == 0)
        r->n_why++;
}

/* End a piece of the entry's text here. */
static int cut(struct render *r, uint64_t key, size_t entries, unsigned flags)
{
    struct cairn_export *ex = r->ex;
    if (r->out->len - r->cut_at > UINT32_MAX || entries > 0xffffff)
        return CAIRN_ETOOBIG;
    if (r->n_pcs == ex->pcs_cap) {
        size_t nc = ex->pcs_cap ? ex->pcs_cap * 2 : 16;
        struct piece *np = cairn_realloc(ex->pcs, nc * sizeof *np);
        if (np == NULL)
            return CAIRN_ENOMEM;
        ex->pcs = np;
        ex->pcs_cap = nc;
    }
    ex->pcs[r->n_pcs++] = (struct piece){
        .key = key,
        .len = (uint32_t)(r->out->len - r->cut_at),
        .entries = (uint32_t)entries,
        .flags = flags & 0xff,
    };
    r->cut_at = r->out->len;
    return 0;
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

/* A string literal appended (its length known when compiled). */
#define PUT_LIT(b, lit) cairn_buf_append((b), (lit), sizeof(lit) - 1)

/* Several strings one after another (NULL ends the list). */
static int put_strs(struct cairn_buf *b, const char *s1, const char *s2,
                    const char *s3, const char *s4)
{
    const char *l[4] = {s1, s2, s3, s4};
    int rc = 0;
    for (int i = 0; i < 4 && l[i] != NULL && rc == 0; i++)
        rc = cairn_buf_append(b, l[i], strlen(l[i]));
    return rc;
}

/* An unsigned number in decimal, as "%u" writes it. */
static int put_u(struct cairn_buf *b, uint64_t v)
{
    char d[24];
    size_t i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return cairn_buf_append(b, d + i, sizeof d - i);
}

static const char hex_up[] = "0123456789ABCDEF";
static const char hex_low[] = "0123456789abcdef";

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
            rc = put_strs(b, "\t", type, "\t", NULL);
        if (rc == 0)
            rc = put_line_text(b, r->ex->o.source, 200);
        if (rc == 0)
            rc = cairn_buf_putc(b, '\t');
        if (rc == 0)
            rc = e->name != NULL && e->name[0] != '\0'
                     ? put_line_text(b, e->name, 500)
                     : cairn_buf_putc(b, '-');
        if (rc == 0)
            rc = put_strs(b, "\t", e->id, "\n", NULL);
        (*n)++;
    }
    return rc;
}

/* ---- Suricata and Snort ----------------------------------------------------- */

/* Bytes of a rule's content string: printable ones as they are, others hex. */
static bool content_plain(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\' &&
           c != '|' && c != ':';
}

static int put_content(struct cairn_buf *b, const char *s, size_t n)
{
    bool in_hex = false;
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        size_t run = i;
        while (run < n && content_plain((unsigned char)s[run]))
            run++;
        if (run > i) {
            /* plain bytes in one append: this is most of a value */
            if (in_hex)
                rc = cairn_buf_putc(b, '|');
            in_hex = false;
            if (rc == 0)
                rc = cairn_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i++];
        char h[3] = {in_hex ? ' ' : '|', hex_up[c >> 4], hex_up[c & 15]};
        rc = cairn_buf_append(b, h, 3);
        in_hex = true;
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
    int rc = put_strs(b, "alert ", hdr, " (msg:\"cairn ", what);
    if (rc == 0)
        rc = cairn_buf_putc(b, ' ');
    if (rc == 0)
        rc = put_msg(b, s, 200);
    if (rc == 0 && e->name != NULL && e->name[0] != '\0') {
        rc = cairn_buf_puts(b, " - ");
        if (rc == 0)
            rc = put_msg(b, e->name, 200);
    }
    if (rc == 0)
        rc = put_strs(b, " (", e->id, ")\"; ", NULL);
    return rc;
}

/* The sid and rev of the rule `key` of the entry at hand. */
static int rule_sid(struct render *r, uint64_t key, uint64_t ver,
                    uint32_t *sid, uint32_t *rev)
{
    struct sidmap *m = &r->ex->sids;
    if (!r->fresh_sids)
        return cairn__export_sids_get(m, key, ver, sid, rev);
    if (key == 0)
        key = 1; /* as the map does */
    for (size_t i = 0; i < r->n_ek; i++) {
        if (r->ek[i].key == key) {
            *sid = r->ek[i].sid;
            *rev = 1;
            return 0;
        }
    }
    if (r->n_ek == EK_MAX)
        return cairn__export_sids_get(m, key, ver, sid, rev);
    if (m->next >= EXPORT_SID_MAX)
        return CAIRN_ETOOBIG;
    r->ek[r->n_ek].key = key;
    r->ek[r->n_ek++].sid = m->next;
    *sid = m->next++;
    *rev = 1;
    return 0;
}

static int rule_tail(struct render *r, const struct entry *e, const char *kind,
                     const char *s, size_t *n)
{
    uint32_t sid, rev;

    /* the rule's key: indicator, kind of rule and value */
    if (r->id_key_of != e) {
        /* the same for every rule of the entry */
        r->id_key = cairn__export_hash(e->id, strlen(e->id), 1);
        r->id_key_of = e;
    }
    uint64_t key = r->id_key;
    key = cairn__export_hash(kind, strlen(kind), key);
    key = cairn__export_hash(s, strlen(s), key);
    int rc = rule_sid(r, key, e->ver_hash, &sid, &rev);
    if (rc == 0)
        rc = put_strs(r->out, "metadata:cairn_indicator ", e->id, "; sid:",
                      NULL);
    if (rc == 0)
        rc = put_u(r->out, sid);
    if (rc == 0)
        rc = PUT_LIT(r->out, "; rev:");
    if (rc == 0)
        rc = put_u(r->out, rev);
    if (rc == 0)
        rc = PUT_LIT(r->out, ";)\n");
    (*n)++;
    return rc;
}

/* "ip any any <> [ADDR] any" (an address or CIDR: under 50 bytes). */
static void ip_header(char hdr[100], const char *s, size_t n)
{
    if (15 + n + 6 > 100) {
        snprintf(hdr, 100, "ip any any <> [%s] any", s);
        return;
    }
    memcpy(hdr, "ip any any <> [", 15);
    memcpy(hdr + 15, s, n);
    memcpy(hdr + 15 + n, "] any", 6);
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
                    rc = put_strs(b, k[j].buf, "; dotprefix; content:\".",
                                  NULL, NULL);
                if (rc == 0)
                    rc = put_content(b, s, v->len);
                if (rc == 0)
                    rc = k[j].nocase ? PUT_LIT(b, "\"; endswith; nocase; ")
                                     : PUT_LIT(b, "\"; endswith; ");
                if (rc == 0)
                    rc = rule_tail(r, e, k[j].kind, s, n);
            }
            break;
        }
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6: {
            char hdr[100];
            ip_header(hdr, s, v->len);
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
        char lb[4] = {'|', hex_up[(l >> 4) & 15], hex_up[l & 15], '|'};
        rc = l < 256 ? cairn_buf_append(b, lb, 4)
                     : cairn_buf_printf(b, "|%02X|", (unsigned)l);
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
        {
            char xb[4] = {'\\', 'x', hex_low[c >> 4], hex_low[c & 15]};
            rc = cairn_buf_append(b, xb, 4);
        }
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
            /*
             * TLS SNI: Snort 2.9 has no keyword for it; its SSL
             * preprocessor's ssl_state:client_hello and a content on the
             * server_name entry, as Snort rule sets do: the name itself
             * after its type (0) and length, and a subdomain as ".NAME"
             * before the next extension's type (whose first byte is 0).
             */
            if (rc == 0 && v->len <= 253) {
                char sni[260];
                sni[0] = sni[1] = '\0';
                sni[2] = (char)v->len;
                memcpy(sni + 3, s, v->len);
                rc = rule_head(r, e, "tcp any any -> any any", "TLS SNI", s);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "flow:to_server,established; "
                                           "ssl_state:client_hello; "
                                           "content:\"");
                if (rc == 0)
                    rc = put_content(b, sni, v->len + 3);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "\"; nocase; ");
                if (rc == 0)
                    rc = rule_tail(r, e, "tls", s, n);
                sni[0] = '.';
                memcpy(sni + 1, s, v->len);
                sni[v->len + 1] = '\0';
                if (rc == 0)
                    rc = rule_head(r, e, "tcp any any -> any any",
                                   "TLS SNI subdomain of", s);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "flow:to_server,established; "
                                           "ssl_state:client_hello; "
                                           "content:\"");
                if (rc == 0)
                    rc = put_content(b, sni, v->len + 2);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "\"; nocase; ");
                if (rc == 0)
                    rc = rule_tail(r, e, "tls-sub", s, n);
            }
            break;
        case CAIRN_IOC_IPV4:
        case CAIRN_IOC_IPV6: {
            char hdr[100];
            ip_header(hdr, s, v->len);
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
                rc = PUT_LIT(b, "\"; http_uri; urilen:");
            if (rc == 0)
                rc = put_u(b, strlen(path));
            if (rc == 0)
                rc = PUT_LIT(b, "; content:\"");
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

/* False when `h` was seen already in this rewrite (RPZ owners, YARA
 * imports). */
static bool first_time(struct render *r, uint64_t h)
{
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

static uint64_t owner_key(const char *kind, const char *s, size_t n)
{
    uint64_t h = cairn__export_hash(kind, 1, cairn__export_hash(s, n, 3));
    return h != 0 ? h : 1;
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

/*
 * The records of one indicator, after a "; ID" line (a lead piece: written
 * only when a record follows); a record whose owner an earlier indicator
 * wrote is dropped when the file is assembled.
 */
static int rpz_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    size_t zl = strlen(r->ex->o.zone);
    bool rep = false;
    int rc = put_strs(b, "; ", e->id, "\n", NULL);

    if (rc == 0)
        rc = cut(r, 0, 0, PIECE_LEAD);
    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        const char *s = val(e, v);
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        if (v->type == CAIRN_IOC_DOMAIN) {
            size_t mark = b->len;
            if (!put_owner(b, s, v->len, zl + 2, &rc)) {
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
            if (rc == 0)
                rc = cut(r, owner_key("d", s, v->len), 2, 0);
            *n += 2;
        } else if (v->type == CAIRN_IOC_IPV4 || v->type == CAIRN_IOC_IPV6) {
            char owner[128];
            if (!rpz_ip(s, v->len, owner, sizeof owner)) {
                cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
                continue;
            }
            rc = cairn_buf_puts(b, owner);
            if (rc == 0)
                rc = cairn_buf_puts(b, " CNAME .\n");
            if (rc == 0)
                rc = cut(r, owner_key("i", owner, strlen(owner)), 1, 0);
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

/* A row is two pieces: the score (as of the rewrite) goes between. */
static int csv_entry(struct render *r, const struct entry *e, size_t *n)
{
    struct cairn_buf *b = r->out;
    int rc = 0;
    for (uint32_t i = 0; i < e->n_vals && rc == 0; i++) {
        const struct xval *v = &e->vals[i];
        if (!cairn__export_keep_value(r->ex, e, v))
            continue;
        rc = cairn_buf_puts(b,
                            cairn_ioc_type_name((enum cairn_ioc_type)v->type));
        if (rc == 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = put_csv(b, val(e, v));
        if (rc == 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = cairn_buf_puts(b, e->id);
        if (rc == 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0 && e->name != NULL)
            rc = put_csv(b, e->name);
        if (rc == 0)
            rc = cut(r, 0, 1, PIECE_SCORE);
        if (rc == 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0 && ent_valid_until_text(e) != NULL)
            rc = cairn_buf_puts(b, ent_valid_until_text(e));
        if (rc == 0)
            rc = cairn_buf_putc(b, '\n');
        if (rc == 0)
            rc = cut(r, 0, 0, 0);
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
        char uuid[CAIRN_UUID_STRLEN], key[CAIRN_VALUE_URL_MAX + 300];
        int kl = snprintf(key, sizeof key, "%s|%s|", e->id, type);
        if (kl < 0 || (size_t)kl + v->len > sizeof key) {
            cannot(r, e, (enum cairn_ioc_type)v->type, &rep);
            continue;
        }
        memcpy(key + kl, val(e, v), v->len);
        rc = cairn_uuid5(MISP_NS, key, (size_t)kl + v->len, uuid);
        if (rc == 0)
            rc = cairn_buf_printf(b,
                                  "\n{\"uuid\":\"%s\",\"type\":\"%s\","
                                  "\"category\":\"%s\",\"to_ids\":true,"
                                  "\"timestamp\":\"%lld\",\"value\":",
                                  uuid, type, cat, (long long)e->version.sec);
        if (rc == 0)
            rc = cairn__export_json_str(b, val(e, v), v->len);
        if (rc == 0)
            rc = cairn_buf_puts(b, ",\"comment\":");
        if (rc == 0) {
            /* "NAME (ID)", or the id alone */
            struct cairn_buf *c = &r->ex->scratch2;
            size_t mark = c->len;
            rc = e->name != NULL ? cairn_buf_printf(c, "%s (%s)", e->name,
                                                    e->id)
                                 : cairn_buf_puts(c, e->id);
            if (rc == 0)
                rc = cairn__export_json_str(b, c->data + mark, c->len - mark);
            c->len = mark;
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, '}');
        if (rc == 0)
            rc = cut(r, 0, 1, PIECE_ITEM);
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
        rc = cairn_buf_puts(r->out, ent_rules(e));
    if (rc == 0)
        rc = cairn_buf_putc(r->out, '\n');
    (*n)++;
    return rc;
}

/* The entry's import lines, each once in the file (r->imports). */
static int yara_imports(struct render *r, const char *p)
{
    int rc = 0;
    while (rc == 0 && p != NULL && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t l = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
        if (first_time(r, cairn__export_hash(p, l, 5)))
            rc = cairn_buf_append(&r->imports, p, l);
        p += l;
    }
    return rc;
}

static int stix_entry(struct render *r, const struct entry *e, size_t *n)
{
    int rc = cairn_buf_putc(r->out, '\n');
    if (rc == 0)
        rc = cairn_buf_append(r->out, e->x->json, e->x->json_len);
    if (rc == 0)
        rc = cut(r, 0, 1, PIECE_ITEM);
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
static bool left_out_listed(struct render *r, const struct entry *e,
                            uint32_t *listed_values)
{
    const struct cairn_export *ex = r->ex;
    *listed_values = 0;
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
    *listed_values = (uint32_t)listed;
    /* a bundle holds the indicator whole: it cannot drop one value */
    return !(listed > 0 && (kept == 0 || ex->o.format == CAIRN_EXPORT_STIX));
}

/*
 * Render one indicator's part of the file into e->r, once: what does not
 * change until the indicator does (its lines, rules or records, its sids,
 * what it loses and why). The revoked, the expired and the scores are left
 * to the assembly, which runs at each rewrite.
 */
static int render_entry(struct render *r, struct entry *e, bool kept)
{
    struct cairn_export *ex = r->ex;
    struct rendered rd = {0};
    size_t n = 0;
    int rc = 0;

    r->out->len = 0;
    r->why->len = 0;
    r->n_why = 0;
    r->n_ek = 0;
    r->id_key_of = NULL;
    r->n_pcs = 0;
    r->cut_at = 0;
    r->partial = false;
    if (!cairn__export_keep_entry(ex, e)) {
        rd.cls = CLS_FILTERED;
        goto build;
    }
    bool keep = left_out_listed(r, e, &rd.listed_values);
    rd.n_listed_why = r->n_why;
    if (!keep) {
        rd.cls = CLS_LISTED;
        goto build;
    }
    bool whole = true; /* the format takes any indicator as it is */
    switch (ex->o.format) {
    case CAIRN_EXPORT_STIX:
        rc = stix_entry(r, e, &n);
        break;
    case CAIRN_EXPORT_YARA:
        whole = e->kind == ENT_YARA && ent_rules(e) != NULL;
        if (whole)
            rc = yara_entry(r, e, &n);
        break;
    default:
        whole = e->kind == ENT_VALUES;
        if (!whole)
            break;
        switch (ex->o.format) {
        case CAIRN_EXPORT_ZEEK:
            rc = zeek_entry(r, e, &n);
            break;
        case CAIRN_EXPORT_SURICATA:
            rc = suricata_entry(r, e, &n);
            break;
        case CAIRN_EXPORT_SNORT:
            rc = snort_entry(r, e, &n);
            break;
        case CAIRN_EXPORT_RPZ:
            rc = rpz_entry(r, e, &n);
            break;
        case CAIRN_EXPORT_CSV:
            rc = csv_entry(r, e, &n);
            break;
        case CAIRN_EXPORT_MISP:
            rc = misp_entry(r, e, &n);
            break;
        default:
            break;
        }
        break;
    }
    if (rc != 0)
        return rc;
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
                     ent_why(e) != NULL ? ent_why(e) : "?");
        report(r, e, why);
        rd.cls = CLS_WHOLE_NO;
        r->out->len = 0;
        r->n_pcs = 0;
        goto build;
    }
    rd.cls = CLS_RENDERED;
    rd.partial = r->partial;
    /* what is left after the last cut: one piece of every entry in it */
    if (r->out->len > r->cut_at || (r->n_pcs == 0 && n > 0))
        rc = cut(r, 0, r->n_pcs == 0 ? n : 0, 0);
    if (rc != 0)
        return rc;
build:;
    size_t imp = ex->o.format == CAIRN_EXPORT_YARA &&
                         ent_imports(e) != NULL && rd.cls == CLS_RENDERED
                     ? strlen(ent_imports(e)) + 1
                     : 0;
    size_t pcs = r->n_pcs * sizeof(struct piece);
    size_t head = (sizeof rd + 15) & ~(size_t)15;
    size_t blk = head + pcs + r->out->len + r->why->len + imp + 1;
    char *base;
    if (kept) {
        base = cairn__export_alloc(ex, blk);
    } else {
        /* used until the next entry: the same memory each time */
        ex->once.len = 0;
        base = cairn_buf_reserve(&ex->once, blk + 16) == 0 ? ex->once.data
                                                           : NULL;
    }
    if (base == NULL)
        return CAIRN_ENOMEM;
    struct rendered *k = (struct rendered *)(void *)base;
    *k = rd;
    k->blk = blk;
    k->n_pieces = (uint32_t)r->n_pcs;
    k->n_why = r->n_why;
    k->pieces = (struct piece *)(void *)(base + head);
    if (pcs > 0)
        memcpy(k->pieces, ex->pcs, pcs);
    k->text = base + head + pcs;
    k->text_len = r->out->len;
    if (r->out->len > 0)
        memcpy(k->text, r->out->data, r->out->len);
    k->why = k->text + k->text_len;
    k->why_len = r->why->len;
    if (r->why->len > 0)
        memcpy(k->why, r->why->data, r->why->len);
    k->imports = NULL;
    if (imp > 0) {
        k->imports = k->why + k->why_len;
        memcpy(k->imports, ent_imports(e), imp);
    }
    if (kept)
        cairn__export_rendered_free(ex, e->r);
    e->r = k;
    return 0;
}

/* Say the kept sentences again: `from` to `to` of e->r's. */
static void replay(struct render *r, const struct entry *e,
                   const struct rendered *k, uint32_t from, uint32_t to)
{
    const char *p = k->why;
    for (uint32_t i = 0; i < to; i++) {
        size_t l = strlen(p);
        if (i >= from && r->skip != NULL)
            r->skip(e->id, p, r->ud);
        p += l + 1;
    }
}

/* Append e->r's pieces to the file; the entries written. */
static int assemble(struct render *r, const struct entry *e,
                    const struct rendered *k, size_t *n, size_t *items)
{
    (void)e;
    struct cairn_buf *b = r->out;
    const char *t = k->text;
    const struct piece *lead = NULL;
    const char *lead_text = NULL;
    int rc = 0;

    *n = 0;
    for (uint32_t i = 0; i < k->n_pieces && rc == 0; i++) {
        const struct piece *p = &k->pieces[i];
        const char *pt = t;
        t += p->len;
        if (p->flags & PIECE_LEAD) {
            lead = p;
            lead_text = pt;
            continue;
        }
        if (p->key != 0 && !first_time(r, p->key))
            continue;
        if (lead != NULL) {
            rc = cairn_buf_append(b, lead_text, lead->len);
            lead = NULL;
        }
        if (rc == 0 && (p->flags & PIECE_ITEM) && (*items)++ > 0)
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = cairn_buf_append(b, pt, p->len);
        if (rc == 0 && (p->flags & PIECE_SCORE)) {
            char sc[16];
            int l = r->score >= 0 ? snprintf(sc, sizeof sc, ",%d", r->score)
                                  : snprintf(sc, sizeof sc, ",");
            rc = cairn_buf_append(b, sc, (size_t)l);
        }
        *n += p->entries;
    }
    if (rc == 0 && k->imports != NULL && *n > 0)
        rc = yara_imports(r, k->imports);
    return rc;
}

/*
 * The file into `out` (appended), or with fd >= 0 through `out` into the
 * file in chunks (YARA's whole, for its tail).
 */
static int render_file(struct cairn_export *ex, const struct cairn_time *now,
                       struct cairn_buf *out, int fd,
                       struct cairn_export_file *file,
                       struct cairn_export_stats *stats,
                       cairn_export_skip_cb skip, void *ud)
{
    struct cairn_export_stats st = {0};
    struct render r = {.ex = ex, .out = out, .st = &st, .skip = skip,
                       .ud = ud, .fd = -1};
    struct render er; /* renders one entry into ex->scratch */
    size_t body_start = out->len, items = 0;
    bool keep = !ex->o.once;
    int rc;

    r.now = now != NULL ? *now : cairn_time_now(3);
    (void)cairn__export_compact(ex, false); /* ENOMEM: the old blocks stay */
    er = r;
    er.fresh_sids = ex->o.once && ex->state_path == NULL;
    er.out = &ex->scratch;
    er.why = &ex->scratch2;
    cairn_buf_init(&r.imports, (size_t)1 << 24);
    if (fd >= 0 && ex->o.format != CAIRN_EXPORT_YARA) {
        r.fd = fd;
        hash_init(r.h);
        rc = cairn_buf_reserve(out, CHUNK + 65536);
    } else {
        rc = cairn_buf_reserve(out, ex->last_len + ex->last_len / 16 + 4096);
        if (rc == 0)
            cairn__export_hugepages(out->data + out->len,
                                    out->alloc - out->len);
    }
    if (er.fresh_sids) {
        /* nothing kept: every file counts from the base */
        cairn__export_sids_free(&ex->sids);
        ex->sids.next = CAIRN_EXPORT_SID_BASE;
    } else if (rc == 0 && (ex->o.format == CAIRN_EXPORT_SURICATA ||
                           ex->o.format == CAIRN_EXPORT_SNORT))
        /* a rule or two for most indicators: ENOMEM here is left to the
         * map's own growth */
        (void)cairn__export_sids_reserve(&ex->sids, ex->n_ents * 2);
    if (rc == 0)
        rc = head(&r);
    for (size_t i = 0; i < ex->n_ents && rc == 0; i++) {
        struct entry *e = ex->ents[i];
        size_t n = 0;
        st.indicators++;
        if (e->kind == ENT_REVOKED) {
            st.revoked++;
            continue;
        }
        if (e->has_until && cairn_time_cmp(&e->x->until, &r.now) <= 0) {
            st.expired++;
            continue;
        }
        if (e->r == NULL) {
            rc = render_entry(&er, e, keep);
            if (rc != 0)
                break;
        }
        const struct rendered *k = e->r;
        if (!keep)
            e->r = NULL; /* in ex->once: valid until the next entry */
        if (k->cls == CLS_FILTERED) {
            st.filtered++;
            continue;
        }
        replay(&r, e, k, 0, k->n_listed_why);
        st.warninglisted_values += k->listed_values;
        if (k->cls == CLS_LISTED) {
            st.warninglisted++;
            continue;
        }
        r.score = cairn__export_score(ex, e, &r.now);
        if (ex->o.min_score > 0 && r.score < ex->o.min_score) {
            st.low_score++;
            continue;
        }
        replay(&r, e, k, k->n_listed_why, k->n_why);
        if (k->cls == CLS_WHOLE_NO) {
            st.unsupported++;
            continue;
        }
        rc = assemble(&r, e, k, &n, &items);
        if (rc == 0)
            rc = maybe_flush(&r);
        st.entries += n;
        if (n > 0)
            st.exported++;
        else
            st.unsupported++;
        if (n > 0 && k->partial)
            st.partial++;
    }
    if (rc == 0)
        rc = tail(&r, body_start);
    if (rc == 0 && fd >= 0 && r.fd < 0) {
        /* YARA: whole in `out`, written now */
        r.fd = fd;
        hash_init(r.h);
    }
    if (rc == 0 && r.fd >= 0)
        rc = flush(&r);
    if (rc == 0 && file != NULL && r.fd >= 0) {
        file->fd = -1;
        file->len = r.total + out->len;
        file->hash = hash_end(r.h, out->data, out->len, file->len);
    }
    if (rc == 0 && ex->state_path != NULL && ex->sids.dirty) {
        rc = cairn__export_sids_save(&ex->sids, ex->state_path);
        if (rc == 0)
            ex->sids.dirty = false;
    }
    if (rc == 0)
        ex->last_len = r.fd >= 0 ? r.total + out->len : out->len - body_start;
    if (stats != NULL)
        *stats = st;
    cairn_free(r.seen);
    cairn_buf_release(&r.imports);
    return rc;
}

int cairn_export_render(struct cairn_export *ex, const struct cairn_time *now,
                        struct cairn_buf *out, struct cairn_export_stats *stats,
                        cairn_export_skip_cb skip, void *ud)
{
    return render_file(ex, now, out, -1, NULL, stats, skip, ud);
}

int cairn_export_render_fd(struct cairn_export *ex,
                           const struct cairn_time *now, int fd,
                           struct cairn_export_file *file,
                           struct cairn_export_stats *stats,
                           cairn_export_skip_cb skip, void *ud)
{
    struct cairn_buf b;
    if (fd < 0)
        return CAIRN_EINVAL;
    cairn_buf_init(&b, (size_t)-1 >> 1);
    int rc = render_file(ex, now, &b, fd, file, stats, skip, ud);
    cairn_buf_release(&b);
    return rc;
}
