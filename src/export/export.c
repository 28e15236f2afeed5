/* SPDX-License-Identifier: Apache-2.0 */
/* An export: the indicators of its collections, read once, then added to. */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include <jansson.h>

#include "cairn/analysis.h"
#include "cairn/hunt.h"
#include "cairn/pattern.h"
#include "cairn/stix.h"
#include "export/export_int.h"

static const char *const format_names[CAIRN_EXPORT_FORMAT_COUNT] = {
    "zeek-intel", "suricata", "snort", "rpz", "yara", "csv", "misp", "stix",
};

int cairn_export_format_parse(const char *name, enum cairn_export_format *out)
{
    for (int i = 0; name != NULL && i < CAIRN_EXPORT_FORMAT_COUNT; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum cairn_export_format)i;
            return 0;
        }
    }
    return CAIRN_EINVAL;
}

const char *cairn_export_format_name(enum cairn_export_format f)
{
    return (unsigned)f < CAIRN_EXPORT_FORMAT_COUNT ? format_names[f] : "?";
}

const char *cairn_export_format_media(enum cairn_export_format f)
{
    switch (f) {
    case CAIRN_EXPORT_CSV:
        return "text/csv; charset=utf-8";
    case CAIRN_EXPORT_MISP:
        return "application/json";
    case CAIRN_EXPORT_STIX:
        return "application/stix+json;version=2.1";
    case CAIRN_EXPORT_RPZ:
        return "text/dns";
    default:
        return "text/plain; charset=utf-8";
    }
}

/* FNV-1a, then a 64-bit finaliser (splitmix) for the table's low bits. */
uint64_t cairn__export_hash(const void *p, size_t len, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* The table's hash of an id (never kept: it can change), 8 bytes at a
 * time where cairn__export_hash, whose values state files keep, goes by
 * bytes. */
static uint64_t id_hash(const char *s, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xc2b2ae3d27d4eb4full);
    uint64_t w;
    for (; len >= 8; len -= 8, s += 8) {
        memcpy(&w, s, 8);
        h = (h ^ (w * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b185ebca87ull;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, s, len);
    h = (h ^ (w * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b185ebca87ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ h >> 31;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? cairn_strdup(s) : NULL;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; l != NULL && i < n; i++)
        cairn_free(l[i]);
    cairn_free(l);
}

static char **copy_list(const char *const *l, size_t n)
{
    char **c = cairn_calloc(n + 1, sizeof *c);
    for (size_t i = 0; c != NULL && i < n; i++) {
        c[i] = cairn_strdup(l[i]);
        if (c[i] == NULL) {
            free_list(c, i);
            return NULL;
        }
    }
    return c;
}

int cairn_export_new(const struct cairn_export_opts *opts,
                     struct cairn_export **out, struct cairn_diag *diag)
{
    struct cairn_export *ex = NULL;
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    if (opts == NULL || (unsigned)opts->format >= CAIRN_EXPORT_FORMAT_COUNT ||
        opts->min_score < 0 || opts->min_score > 100)
        return CAIRN_EINVAL;
    ex = cairn_calloc(1, sizeof *ex);
    if (ex == NULL)
        return CAIRN_ENOMEM;
    ex->o = *opts;
    cairn_buf_init(&ex->scratch, (size_t)-1 >> 1);
    cairn_buf_init(&ex->scratch2, (size_t)-1 >> 1);
    cairn_buf_init(&ex->once, (size_t)-1 >> 1);
    ex->any_type = opts->n_types == 0;
    for (size_t i = 0; i < opts->n_types; i++) {
        bool found = false;
        if (strcmp(opts->types[i], "yara") == 0) {
            ex->type_ok[CAIRN_IOC_TYPE_COUNT] = true;
            continue;
        }
        for (int t = 1; t < CAIRN_IOC_TYPE_COUNT; t++) {
            if (strcmp(opts->types[i], cairn_ioc_type_name(
                                           (enum cairn_ioc_type)t)) == 0) {
                ex->type_ok[t] = found = true;
                /* a CIDR is an address of its family */
            }
        }
        if (!found) {
            rc = CAIRN_EINVAL;
            if (diag != NULL)
                cairn_diag_set(diag, CAIRN_SEV_ERROR, "export-type",
                               "unknown value type '%s'", opts->types[i]);
            goto out;
        }
    }
    ex->collections = copy_list(opts->collections, opts->n_collections);
    ex->types = copy_list(opts->types, opts->n_types);
    ex->state_path = dup_or_null(opts->state_path);
    ex->source = cairn_strdup(opts->source != NULL ? opts->source : "cairn");
    ex->zone = cairn_strdup(opts->zone != NULL ? opts->zone : "rpz.cairn.");
    ex->added = cairn_calloc(opts->n_collections + 1, sizeof *ex->added);
    ex->have_added =
        cairn_calloc(opts->n_collections + 1, sizeof *ex->have_added);
    if (ex->collections == NULL || ex->types == NULL || ex->source == NULL ||
        ex->zone == NULL || ex->added == NULL || ex->have_added == NULL ||
        (opts->state_path != NULL && ex->state_path == NULL))
        goto out;
    ex->o.collections = (const char *const *)ex->collections;
    ex->o.types = (const char *const *)ex->types;
    ex->o.state_path = ex->state_path;
    ex->o.source = ex->source;
    ex->o.zone = ex->zone;
    ex->sids.next = CAIRN_EXPORT_SID_BASE;
    if (ex->state_path != NULL) {
        rc = cairn__export_sids_load(&ex->sids, ex->state_path, diag);
        if (rc != 0)
            goto out;
    }
    *out = ex;
    ex = NULL;
    rc = 0;
out:
    cairn_export_free(ex);
    return rc;
}

void cairn_export_reset(struct cairn_export *ex)
{
    if (ex == NULL)
        return;
    cairn__export_slab_free(ex);
    ex->n_ents = 0;
    if (ex->map != NULL)
        memset(ex->map, 0, ex->map_cap * sizeof *ex->map);
    for (size_t i = 0; ex->have_added != NULL && i < ex->o.n_collections; i++)
        ex->have_added[i] = false;
}

void cairn_export_free(struct cairn_export *ex)
{
    if (ex == NULL)
        return;
    cairn_export_reset(ex);
    cairn_free(ex->ents);
    cairn_free(ex->map);
    free_list(ex->collections, ex->o.n_collections);
    free_list(ex->types, ex->o.n_types);
    cairn_free(ex->state_path);
    cairn_free(ex->source);
    cairn_free(ex->zone);
    cairn_free(ex->added);
    cairn_free(ex->have_added);
    cairn__export_sids_free(&ex->sids);
    cairn_buf_release(&ex->scratch);
    cairn_buf_release(&ex->scratch2);
    cairn_buf_release(&ex->once);
    cairn_free(ex->vw_vals);
    cairn_free(ex->pcs);
    cairn_free(ex);
}

/* ---- values of a pattern --------------------------------------------------
 */

struct vwalk {
    struct cairn_buf *text; /* the export's scratch, reset per indicator */
    struct xval *vals;
    size_t n, cap;
    char why[200];
    int err;
};

static int push_val(struct vwalk *w, enum cairn_ioc_type t, const char *s,
                    size_t len)
{
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        struct xval *nv = cairn_realloc(w->vals, nc * sizeof *nv);
        if (nv == NULL)
            return CAIRN_ENOMEM;
        w->vals = nv;
        w->cap = nc;
    }
    if (w->text->len + len + 1 > UINT32_MAX)
        return CAIRN_ETOOBIG;
    w->vals[w->n++] = (struct xval){.type = (uint8_t)t,
                                    .off = (uint32_t)w->text->len,
                                    .len = (uint32_t)len};
    int rc = cairn_buf_append(w->text, s, len);
    return rc == 0 ? cairn_buf_putc(w->text, '\0') : rc;
}

/* An address or CIDR in its canonical text; false if it is not one. */
static bool addr_text(const char *s, size_t len, enum cairn_ioc_type *t,
                      char out[64], size_t *out_len)
{
    int family;
    uint8_t a[16];
    unsigned prefix;
    size_t o;

    if (!cairn__hunt_parse_cidr(s, len, &family, a, &prefix))
        return false;
    if (family == 4) {
        uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                     (uint32_t)a[2] << 8 | a[3];
        o = cairn__hunt_v4_text(v, out);
        *t = CAIRN_IOC_IPV4;
        if (prefix < 32)
            o += (size_t)snprintf(out + o, 64 - o, "/%u", prefix);
    } else {
        if (inet_ntop(AF_INET6, a, out, 64) == NULL)
            return false;
        o = strlen(out);
        *t = CAIRN_IOC_IPV6;
        if (prefix < 128)
            o += (size_t)snprintf(out + o, 64 - o, "/%u", prefix);
    }
    *out_len = o;
    return true;
}

static int add_literal(struct vwalk *w, enum cairn_ioc_type t,
                       const struct cairn_pattern_literal *lit)
{
    char small[64], stack[512];
    size_t n;

    if (lit->kind != CAIRN_PATTERN_LIT_STRING || lit->len == 0 ||
        lit->len > CAIRN_VALUE_URL_MAX || memchr(lit->s, '\0', lit->len))
        return 1;
    if (t == CAIRN_IOC_STRING) {
        enum cairn_ioc_type at;
        if (addr_text(lit->s, lit->len, &at, small, &n))
            return push_val(w, at, small, n);
        t = CAIRN_IOC_DOMAIN;
    }
    if (t == CAIRN_IOC_IPV4 || t == CAIRN_IOC_IPV6) {
        enum cairn_ioc_type at;
        if (!addr_text(lit->s, lit->len, &at, small, &n) || at != t)
            return 1;
        return push_val(w, at, small, n);
    }
    char *norm = lit->len + 3 <= sizeof stack ? stack
                                              : cairn_malloc(lit->len + 3);
    int rc = 1;
    if (norm == NULL)
        return CAIRN_ENOMEM;
    n = lit->len;
    switch (t) {
    case CAIRN_IOC_URL: {
        int r = cairn_hunt_url_normalize(lit->s, lit->len, norm, lit->len + 3);
        if (r <= 0)
            goto out;
        n = (size_t)r;
        break;
    }
    case CAIRN_IOC_DOMAIN:
        cairn__hunt_lower(lit->s, n, norm);
        if (n > 1 && norm[n - 1] == '.')
            n--;
        if (!cairn__hunt_is_domain(norm, n))
            goto out;
        break;
    case CAIRN_IOC_MD5:
    case CAIRN_IOC_SHA1:
    case CAIRN_IOC_SHA256:
    case CAIRN_IOC_SHA512:
        cairn__hunt_lower(lit->s, n, norm);
        if (!cairn__hunt_is_hex(norm, n) || cairn__hunt_hash_type(n) != t)
            goto out;
        break;
    case CAIRN_IOC_EMAIL:
        cairn__hunt_lower(lit->s, n, norm);
        break;
    default:
        memcpy(norm, lit->s, n);
        break;
    }
    rc = push_val(w, t, norm, n);
out:
    if (norm != stack)
        cairn_free(norm);
    return rc;
}

static int vwalk_cb(const struct cairn_pattern_walk_item *it, void *ud)
{
    struct vwalk *w = ud;
    struct cairn_pattern_literal lit;

    switch (it->node) {
    case CAIRN_PATTERN_NODE_CMP: {
        enum cairn_ioc_type t =
            cairn_hunt_property_type(it->object_type, it->path);
        if (t == CAIRN_IOC_UNKNOWN) {
            snprintf(w->why, sizeof w->why,
                     "%s:%s is not a value an export lists", it->object_type,
                     it->path);
            return 1;
        }
        if (it->negated || (it->op != CAIRN_PATTERN_OP_EQ &&
                            it->op != CAIRN_PATTERN_OP_IN)) {
            snprintf(w->why, sizeof w->why,
                     "a comparison other than = or IN on %s:%s",
                     it->object_type, it->path);
            return 1;
        }
        for (size_t i = 0; i < it->n_literals; i++) {
            int rc = cairn_pattern_walk_literal(it, i, &lit)
                         ? add_literal(w, t, &lit)
                         : 1;
            if (rc < 0) {
                w->err = rc;
                return rc;
            }
            if (rc == 1) {
                snprintf(w->why, sizeof w->why,
                         "a value of %s:%s that is not a %s", it->object_type,
                         it->path, cairn_ioc_type_name(t));
                return 1;
            }
        }
        return 0;
    }
    case CAIRN_PATTERN_NODE_OR:
    case CAIRN_PATTERN_NODE_OBSERVATION:
    case CAIRN_PATTERN_NODE_OBS_OR:
        return 0;
    case CAIRN_PATTERN_NODE_AND:
    case CAIRN_PATTERN_NODE_OBS_AND:
        snprintf(w->why, sizeof w->why,
                 "values joined by AND: a list of values would match more");
        return 1;
    default:
        snprintf(w->why, sizeof w->why,
                 "qualifiers or FOLLOWEDBY: a list of values would match "
                 "more");
        return 1;
    }
}

/* ---- one indicator ---------------------------------------------------------
 *
 * The object's members are read in place (scan.c), the strings decoded
 * into the export's scratch buffer, and what the entry keeps is copied
 * into one allocation.
 */

enum {
    F_TYPE, F_ID, F_MODIFIED, F_CREATED, F_NAME, F_VALID_UNTIL, F_REVOKED,
    F_PATTERN, F_PATTERN_TYPE, F_VALID_FROM, F_CONFIDENCE, F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "type",    "id",      "modified",     "created",    "name",
    "valid_until", "revoked", "pattern", "pattern_type", "valid_from",
    "confidence",
};

struct fields {
    struct cairn__export_member m[F_COUNT];
    bool has[F_COUNT];
};

static int on_member(const struct cairn__export_member *m, void *ud)
{
    struct fields *f = ud;
    char kb[16];
    const char *k = m->key;
    size_t kl = m->key_len;

    if (kl >= 64)
        return 0;
    if (m->key_esc) {
        char big[64];
        kl = cairn__export_json_unescape(m->key, m->key_len, big);
        if (kl >= sizeof kb)
            return 0;
        memcpy(kb, big, kl);
        k = kb;
    }
    for (int i = 0; i < F_COUNT; i++) {
        if (strlen(field_names[i]) == kl && memcmp(field_names[i], k, kl) == 0) {
            f->m[i] = *m;
            f->has[i] = true; /* the last of a name given twice, as jansson */
            break;
        }
    }
    return 0;
}

/* Field `i` when it is a string: decoded into `b` (room reserved), NUL-ended;
 * NULL otherwise. */
static const char *field_str(struct fields *f, int i, struct cairn_buf *b,
                             size_t *len)
{
    if (!f->has[i] || f->m[i].kind != 's')
        return NULL;
    char *o = b->data + b->len;
    size_t n = f->m[i].v_esc ? cairn__export_json_unescape(f->m[i].v,
                                                           f->m[i].v_len, o)
                             : f->m[i].v_len;
    if (!f->m[i].v_esc)
        memcpy(o, f->m[i].v, n);
    o[n] = '\0';
    b->len += n + 1;
    if (len != NULL)
        *len = n;
    return o;
}

/* What an entry is built from, before it is copied into its block. */
struct draft {
    const char *name, *why, *valid_until_text, *json, *pattern, *ptype,
        *valid_from, *created;
    size_t json_len, pattern_len;
    const char *rules, *imports;
    const char *text; /* values' text */
    size_t text_len;
    const struct xval *vals;
    size_t n_vals;
    char why_buf[400];
};

/*
 * The common pattern "[TYPE:PATH = 'VALUE']", or several such comparisons
 * joined by OR in one observation, without the parser: 0 when it is one
 * and its values are pushed (typed by the same calls as the parser's walk:
 * cairn_hunt_property_type and add_literal), 1 when it is anything else
 * (then the parser reads it: an escape, a byte outside printable ASCII, a
 * comment, another operator or a value that is not of its type all go
 * there, so the reasons given stay the parser's).
 */
static bool ident(const char **p, const char *end, bool lower_type)
{
    const char *s = *p;
    if (s >= end || !((*s >= 'a' && *s <= 'z') ||
                      (!lower_type && ((*s >= 'A' && *s <= 'Z') || *s == '_'))))
        return false;
    while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                       *s == '-' || (!lower_type && ((*s >= 'A' && *s <= 'Z') ||
                                                     *s == '_'))))
        s++;
    *p = s;
    return true;
}

static void spaces(const char **p, const char *end)
{
    while (*p < end && **p == ' ')
        (*p)++;
}

/* One comparison of a simple pattern: 0 to go on, 1 when the pattern is
 * not to be read this way, < 0 an error. */
typedef int (*simple_cmp_cb)(void *ud, const char *type, const char *path,
                             const struct cairn_pattern_literal *lit);

static int simple_walk(const char *p, size_t len, simple_cmp_cb cb, void *ud)
{
    const char *end = p + len;
    char type[64], path[128];

    if (len > 4096)
        return 1;
    spaces(&p, end);
    if (p >= end || *p++ != '[')
        return 1;
    for (;;) {
        spaces(&p, end);
        const char *t0 = p;
        if (!ident(&p, end, true) || (size_t)(p - t0) >= sizeof type)
            return 1;
        memcpy(type, t0, (size_t)(p - t0));
        type[p - t0] = '\0';
        if (p >= end || *p++ != ':')
            return 1;
        size_t pl = 0;
        for (;;) {
            const char *k0 = p;
            bool quoted = p < end && *p == '\'';
            if (quoted) {
                p++;
                k0 = p;
                while (p < end && ((*p >= 'a' && *p <= 'z') ||
                                   (*p >= 'A' && *p <= 'Z') ||
                                   (*p >= '0' && *p <= '9') || *p == '-' ||
                                   *p == '_'))
                    p++;
                if (p == k0 || p >= end || *p != '\'')
                    return 1;
            } else if (!ident(&p, end, false) ||
                       memchr(k0, '-', (size_t)(p - k0)) != NULL) {
                return 1; /* the parser wants hashes.'SHA-256' quoted */
            }
            size_t kl = (size_t)(p - k0);
            if (pl + kl + 2 >= sizeof path)
                return 1;
            if (pl > 0)
                path[pl++] = '.';
            memcpy(path + pl, k0, kl);
            pl += kl;
            if (quoted)
                p++;
            if (p < end && *p == '.') {
                p++;
                continue;
            }
            break;
        }
        path[pl] = '\0';
        spaces(&p, end);
        if (p + 1 >= end || p[0] != '=' || p[1] == '=')
            return 1;
        p++;
        spaces(&p, end);
        if (p >= end || *p++ != '\'')
            return 1;
        const char *l0 = p;
        while (p < end && *p != '\'' && *p != '\\' && *p >= 0x20 && *p < 0x7f)
            p++;
        if (p >= end || *p != '\'')
            return 1;
        struct cairn_pattern_literal lit = {.kind = CAIRN_PATTERN_LIT_STRING,
                                            .s = l0,
                                            .len = (size_t)(p - l0)};
        p++;
        int rc = cb(ud, type, path, &lit);
        if (rc != 0)
            return rc;
        spaces(&p, end);
        if (end - p >= 3 && memcmp(p, "OR ", 3) == 0) {
            p += 3;
            continue;
        }
        if (p >= end || *p++ != ']')
            return 1;
        spaces(&p, end);
        return p == end ? 0 : 1;
    }
}

static int draft_cmp(void *ud, const char *type, const char *path,
                     const struct cairn_pattern_literal *lit)
{
    enum cairn_ioc_type t = cairn_hunt_property_type(type, path);
    return t == CAIRN_IOC_UNKNOWN ? 1 : add_literal(ud, t, lit);
}

static int draft_pattern(struct cairn_export *ex, struct draft *d,
                         struct entry *e, const char *ptext, size_t plen)
{
    struct cairn_pattern *pat = NULL;
    struct vwalk w = {.text = &ex->scratch2, .vals = ex->vw_vals,
                      .cap = ex->vw_cap};
    struct cairn_diag dg;
    int rc;

    cairn_diag_clear(&dg);
    ex->scratch2.len = 0;
    rc = ex->no_fast_path ? 1 : simple_walk(ptext, plen, draft_cmp, &w);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        e->simple = true;
        goto values;
    }
    /* not the simple form: the parser, from the start */
    ex->scratch2.len = 0;
    w.n = 0;
    rc = cairn_pattern_parse(ptext, plen, NULL, &pat, &dg);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc != 0) {
        snprintf(d->why_buf, sizeof d->why_buf, "pattern does not parse: %s",
                 dg.message);
        d->why = d->why_buf;
        e->kind = ENT_INVALID;
        rc = 0;
        goto out;
    }
    rc = cairn_pattern_walk(pat, vwalk_cb, &w);
    if (w.err != 0) {
        rc = w.err;
        goto out;
    }
    if (rc != 0) {
        snprintf(d->why_buf, sizeof d->why_buf, "%s",
                 w.why[0] != '\0' ? w.why : "a property path too long");
        d->why = d->why_buf;
        e->kind = ENT_PARTIAL;
        rc = 0;
        goto out;
    }
values:
    e->kind = ENT_VALUES;
    d->vals = w.vals;
    d->n_vals = w.n;
    d->text = ex->scratch2.data;
    d->text_len = ex->scratch2.len;
out:
    ex->vw_vals = w.vals;
    ex->vw_cap = w.cap;
    cairn_pattern_free(pat);
    return rc;
}

static int draft_yara(struct cairn_export *ex, struct draft *d,
                      struct entry *e, const char *ptext, size_t plen)
{
    struct cairn_buf imp, all;
    char prefix[64], why[300];
    const char *u = e->id + strlen("indicator--");
    size_t o = 0;
    int rc;

    e->kind = ENT_YARA;
    if (ex->o.format != CAIRN_EXPORT_YARA)
        return 0;
    o += (size_t)snprintf(prefix, sizeof prefix, "cairn_");
    for (; *u != '\0' && o + 2 < sizeof prefix; u++)
        if (*u != '-')
            prefix[o++] = *u;
    prefix[o++] = '_';
    prefix[o] = '\0';
    ex->scratch2.len = 0;
    cairn_buf_init(&imp, (size_t)1 << 20);
    cairn_buf_init(&all, (size_t)128 << 20);
    why[0] = '\0';
    rc = cairn_export_yara_rename(ptext, plen, prefix, &ex->scratch2, &imp,
                                  why, sizeof why);
    if (rc == 0) {
        /* compiled alone, with its imports, before it may be written */
        rc = cairn_buf_append(&all, imp.data, imp.len);
        if (rc == 0)
            rc = cairn_buf_append(&all, ex->scratch2.data, ex->scratch2.len);
        if (rc == 0)
            rc = cairn_buf_putc(&all, '\0');
        if (rc == 0)
            rc = cairn__export_yara_compile(all.data, why, sizeof why);
    }
    if (rc == CAIRN_EINVALID) {
        snprintf(d->why_buf, sizeof d->why_buf, "YARA rules refused: %s", why);
        d->why = d->why_buf;
        e->kind = ENT_INVALID;
        rc = 0;
    } else if (rc == 0) {
        /* the rules, a NUL, the imports, a NUL: one run of scratch2 */
        rc = cairn_buf_putc(&ex->scratch2, '\0');
        size_t rl = ex->scratch2.len;
        if (rc == 0)
            rc = cairn_buf_append(&ex->scratch2, imp.data, imp.len);
        if (rc == 0)
            rc = cairn_buf_putc(&ex->scratch2, '\0');
        if (rc == 0) {
            d->rules = ex->scratch2.data;
            d->imports = ex->scratch2.data + rl;
        }
    }
    cairn_buf_release(&imp);
    cairn_buf_release(&all);
    return rc;
}

/* Room for a NUL-ended copy of `s` in the block at `*at`. */
static const char *place(char *base, size_t *at, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *o = base + *at;
    memcpy(o, s, n);
    o[n] = '\0';
    *at += n + 1;
    return o;
}

static size_t slen(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

/* The entry in one block: the struct, what only some need (x, when any of
 * it is there), the values, the strings. */
static int entry_build(struct cairn_export *ex, const struct entry *e0,
                       const struct entry_x *x0, const struct draft *d,
                       struct entry **out)
{
    bool scores = cairn__export_scores(ex);
    bool need_x = scores || e0->has_until || d->why != NULL ||
                  d->valid_until_text != NULL || d->json != NULL ||
                  d->rules != NULL || d->imports != NULL;
    size_t head = (sizeof *e0 + 15) & ~(size_t)15;
    size_t xlen = need_x ? (sizeof *x0 + 15) & ~(size_t)15 : 0;
    size_t vals = d->n_vals * sizeof(struct xval);
    size_t rules_len = slen(d->rules), imp_len = slen(d->imports);
    size_t need = head + xlen + vals + d->text_len + 1 + slen(d->name) + 1;
    if (need_x) {
        need += slen(d->why) + 1 + slen(d->valid_until_text) + 1 +
                d->json_len + 1 + rules_len + 1 + imp_len + 1;
        if (scores)
            need += d->pattern_len + 1 + slen(d->ptype) + 1 +
                    slen(d->valid_from) + 1 + slen(d->created) + 1;
    }
    if (need > UINT32_MAX)
        return CAIRN_ETOOBIG;
    char *base = cairn__export_alloc((struct cairn_export *)ex, need);
    if (base == NULL)
        return CAIRN_ENOMEM;
    struct entry *e = (struct entry *)(void *)base;
    *e = *e0;
    e->blk = (uint32_t)need;
    size_t at = head;
    e->x = NULL;
    if (need_x) {
        e->x = (struct entry_x *)(void *)(base + at);
        *e->x = *x0;
        at += xlen;
    }
    e->vals = d->n_vals > 0 ? (struct xval *)(void *)(base + at) : NULL;
    if (vals > 0)
        memcpy(base + at, d->vals, vals);
    at += vals;
    e->n_vals = (uint32_t)d->n_vals;
    e->text = place(base, &at, d->text != NULL ? d->text : "", d->text_len);
    e->name = place(base, &at, d->name, slen(d->name));
    if (need_x) {
        struct entry_x *x = e->x;
        x->why = place(base, &at, d->why, slen(d->why));
        x->valid_until_text =
            place(base, &at, d->valid_until_text, slen(d->valid_until_text));
        x->json = place(base, &at, d->json, d->json_len);
        x->json_len = d->json_len;
        x->rules = place(base, &at, d->rules, rules_len);
        x->imports = place(base, &at, d->imports, imp_len);
        x->pattern = x->pattern_type = x->valid_from = x->created = NULL;
        x->pattern_len = 0;
        if (scores) {
            x->pattern = place(base, &at, d->pattern, d->pattern_len);
            x->pattern_len = d->pattern_len;
            x->pattern_type = place(base, &at, d->ptype, slen(d->ptype));
            x->valid_from =
                place(base, &at, d->valid_from, slen(d->valid_from));
            x->created = place(base, &at, d->created, slen(d->created));
        }
    }
    *out = e;
    return 0;
}

/* Mark the values on the export's warninglists (read once, not per
 * rewrite: the lists do not change during an export's life). */
static void entry_lists(const struct cairn_export *ex, struct entry *e)
{
    if (ex->o.warninglists == NULL)
        return;
    for (uint32_t i = 0; i < e->n_vals; i++) {
        struct xval *v = &e->vals[i];
        if (cairn_warninglists_match(ex->o.warninglists, v->type,
                                     e->text + v->off, v->len) != NULL) {
            v->listed = true;
            e->n_listed++;
        }
    }
}

/* 1 when the object is not an indicator (ignored). */
int cairn__export_entry_new(struct cairn_export *ex, const char *json,
                            size_t len, struct entry **out)
{
    struct fields f;
    struct draft d = {0};
    struct entry e = {0};
    struct entry_x x = {.confidence = -1};
    struct cairn_buf *b = &ex->scratch;
    int rc;

    *out = NULL;
    memset(f.has, 0, sizeof f.has);
    rc = cairn__export_json_scan(json, len, on_member, &f);
    if (rc != 0)
        return rc;
    /* every string decoded once into scratch: no more than the input */
    b->len = 0;
    rc = cairn_buf_reserve(b, len + F_COUNT + 1);
    if (rc != 0)
        return rc;
    const char *type = field_str(&f, F_TYPE, b, NULL);
    const char *id = field_str(&f, F_ID, b, NULL);
    if (type == NULL || strcmp(type, "indicator") != 0 || id == NULL ||
        strlen(id) >= sizeof e.id || !cairn_stix_id_check(id, "indicator"))
        return 1;
    memcpy(e.id, id, strlen(id) + 1);
    e.idh = ex->hint_id != NULL && strcmp(ex->hint_id, id) == 0
                ? ex->hint_h
                : id_hash(id, strlen(id));
    size_t vl;
    const char *ver = field_str(&f, F_MODIFIED, b, &vl);
    d.created = field_str(&f, F_CREATED, b, NULL);
    if (ver == NULL && d.created != NULL) {
        ver = d.created;
        vl = strlen(ver);
    }
    if (ver != NULL) {
        (void)cairn_time_parse(ver, vl, true, &e.version);
        e.ver_hash = cairn__export_hash(ver, vl, 7);
    }
    d.name = field_str(&f, F_NAME, b, NULL);
    size_t ul;
    const char *vu = field_str(&f, F_VALID_UNTIL, b, &ul);
    if (vu != NULL && cairn_time_parse(vu, ul, true, &x.until) == 0) {
        e.has_until = true;
        d.valid_until_text = vu;
    }
    d.valid_from = field_str(&f, F_VALID_FROM, b, NULL);
    if (f.has[F_CONFIDENCE] && f.m[F_CONFIDENCE].kind == 'n' &&
        f.m[F_CONFIDENCE].v_len <= 4) {
        const struct cairn__export_member *m = &f.m[F_CONFIDENCE];
        int v = 0;
        bool digits = true;
        for (size_t i = 0; i < m->v_len; i++) {
            if (m->v[i] < '0' || m->v[i] > '9')
                digits = false;
            else
                v = v * 10 + (m->v[i] - '0');
        }
        if (digits && v <= 100)
            x.confidence = v;
    }
    if (ex->o.format == CAIRN_EXPORT_STIX) {
        d.json = json;
        d.json_len = len;
    }
    d.ptype = field_str(&f, F_PATTERN_TYPE, b, NULL);
    d.pattern = field_str(&f, F_PATTERN, b, &d.pattern_len);
    e.revoked = f.has[F_REVOKED] && f.m[F_REVOKED].kind == 't';
    if (e.revoked) {
        e.kind = ENT_REVOKED;
    } else if (d.ptype == NULL || d.pattern == NULL) {
        e.kind = ENT_INVALID;
        d.why = "no pattern or pattern_type";
    } else if (strcmp(d.ptype, "stix") == 0) {
        rc = draft_pattern(ex, &d, &e, d.pattern, d.pattern_len);
    } else if (strcmp(d.ptype, "yara") == 0) {
        rc = draft_yara(ex, &d, &e, d.pattern, d.pattern_len);
    } else {
        snprintf(d.why_buf, sizeof d.why_buf, "pattern_type '%.40s'", d.ptype);
        d.why = d.why_buf;
        e.kind = ENT_OTHER;
    }
    if (rc != 0)
        return rc;
    struct entry *n = NULL;
    rc = entry_build(ex, &e, &x, &d, &n);
    if (rc != 0)
        return rc;
    entry_lists(ex, n);
    *out = n;
    return 0;
}

/* ---- the table of indicators ----------------------------------------------
 */

/*
 * The slot of `id` (hash `h`): where it is, or the empty one to take. A
 * slot holds the hash's high 32 bits and the entry's index; the slot is
 * found from those bits too, so that growing the table moves its slots
 * without reading one entry.
 */
static size_t slot_of(const struct cairn_export *ex, uint64_t h,
                      const char *id)
{
    size_t mask = ex->map_cap - 1;
    size_t i = (size_t)(h >> 32) & mask;
    uint64_t tag = h >> 32 << 32;
    while (ex->map[i] != 0) {
        if ((ex->map[i] >> 32 << 32) == tag &&
            strcmp(ex->ents[(uint32_t)ex->map[i] - 1]->id, id) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

static int grow_map(struct cairn_export *ex)
{
    size_t nc = ex->map_cap ? ex->map_cap * 2 : 1024;
    uint64_t *nm = cairn_calloc(nc, sizeof *nm), *old = ex->map;
    size_t old_cap = ex->map_cap;
    if (nm == NULL)
        return CAIRN_ENOMEM;
    cairn__export_hugepages(nm, nc * sizeof *nm); /* looked up at random */
    ex->map = nm;
    ex->map_cap = nc;
    for (size_t k = 0; k < old_cap; k++) {
        uint64_t v = old[k];
        if (v == 0)
            continue;
        size_t i = (size_t)(v >> 32) & (nc - 1);
        while (nm[i] != 0) /* ids are unique: no comparison */
            i = (i + 1) & (nc - 1);
        nm[i] = v;
    }
    cairn_free(old);
    return 0;
}

/* Keep `e` (taken) unless a later version of its id is held. */
static int put_entry(struct cairn_export *ex, struct entry *e)
{
    if ((ex->n_ents + 1) * 2 > ex->map_cap && grow_map(ex) != 0) {
        cairn__export_entry_free(ex, e);
        return CAIRN_ENOMEM;
    }
    size_t s = slot_of(ex, e->idh, e->id);
    if (ex->map[s] != 0) {
        struct entry **old = &ex->ents[(uint32_t)ex->map[s] - 1];
        if (cairn_time_cmp(&(*old)->version, &e->version) > 0) {
            cairn__export_entry_free(ex, e);
            return 0;
        }
        cairn__export_entry_free(ex, *old);
        *old = e;
        return 0;
    }
    if (ex->n_ents == ex->cap_ents) {
        size_t nc = ex->cap_ents ? ex->cap_ents * 2 : 1024;
        struct entry **ne = cairn_realloc(ex->ents, nc * sizeof *ne);
        if (ne == NULL) {
            cairn__export_entry_free(ex, e);
            return CAIRN_ENOMEM;
        }
        ex->ents = ne;
        ex->cap_ents = nc;
    }
    ex->ents[ex->n_ents++] = e;
    ex->map[s] = e->idh >> 32 << 32 | (uint64_t)ex->n_ents;
    return 0;
}

int cairn_export_add_json(struct cairn_export *ex, const char *json,
                          size_t len)
{
    struct entry *e = NULL;
    int rc = cairn__export_entry_new(ex, json, len, &e);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    return put_entry(ex, e);
}

struct scan_ctx {
    struct cairn_export *ex;
    size_t c;
    size_t n;
};

static int on_row(const struct cairn_store_row *row, void *ud)
{
    struct scan_ctx *sc = ud;
    struct cairn_export *ex = sc->ex;
    /* the id's slot is fetched from memory while the object is parsed
     * (the object's id is the row's: the hash is used again then) */
    if (row->id != NULL && ex->map_cap > 0) {
        ex->hint_id = row->id;
        ex->hint_h = id_hash(row->id, strlen(row->id));
        __builtin_prefetch(
            &ex->map[(size_t)(ex->hint_h >> 32) & (ex->map_cap - 1)]);
    }
    int rc = cairn_export_add_json(ex, row->json, row->json_len);
    ex->hint_id = NULL;
    if (rc == CAIRN_EINVAL)
        rc = 0; /* stored JSON that does not parse: not ours */
    sc->ex->added[sc->c] = row->date_added;
    sc->n++;
    return rc;
}

/*
 * A first read of a collection runs the store's scan in a second thread
 * that copies the rows into a ring of batches, while this one parses them
 * (on_row): the store's stepping and the parsing overlap (on a million
 * indicators, about a third of the read is the store's). The rows arrive
 * in the scan's order, as without the thread.
 */
#define PIPE_N     4
#define PIPE_BYTES ((size_t)1 << 20)
#define PIPE_STOP  1 /* the scan stopped by the parsing side */

/* One row in a batch: the header, the id, a NUL, the JSON, a NUL. */
struct pipe_row {
    struct cairn_time added;
    size_t id_len, json_len;
};

struct pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cairn_buf b[PIPE_N];
    bool full[PIPE_N];
    size_t prod; /* batches handed over */
    bool done, stop;
    int scan_rc;
    struct cairn_store *s;
    const char *coll;
    const struct cairn_time *after;
};

/* Hand batch `prod` over, and wait for the next one to be free. */
static int pipe_hand(struct pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->full[p->prod % PIPE_N] = true;
    p->prod++;
    pthread_cond_broadcast(&p->cv);
    while (p->full[p->prod % PIPE_N] && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    bool stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    if (stop) /* the slot may still be the parsing side's */
        return PIPE_STOP;
    p->b[p->prod % PIPE_N].len = 0;
    return 0;
}

static int pipe_row(const struct cairn_store_row *row, void *ud)
{
    struct pipe *p = ud;
    struct cairn_buf *b = &p->b[p->prod % PIPE_N];
    struct pipe_row h = {row->date_added, strlen(row->id), row->json_len};
    size_t need = (sizeof h + h.id_len + h.json_len + 2 + 7) & ~(size_t)7;
    if (b->len > 0 && b->len + need > PIPE_BYTES) {
        int rc = pipe_hand(p);
        if (rc != 0)
            return rc;
        b = &p->b[p->prod % PIPE_N];
    }
    if (cairn_buf_reserve(b, need) != 0)
        return CAIRN_ENOMEM;
    char *o = b->data + b->len;
    memcpy(o, &h, sizeof h);
    memcpy(o + sizeof h, row->id, h.id_len + 1);
    memcpy(o + sizeof h + h.id_len + 1, row->json, h.json_len);
    o[sizeof h + h.id_len + 1 + h.json_len] = '\0';
    b->len += need;
    return 0;
}

static void *pipe_main(void *arg)
{
    struct pipe *p = arg;
    int rc = cairn_store_scan(p->s, p->coll, "indicator", p->after, pipe_row,
                              p);
    pthread_mutex_lock(&p->mu);
    if (rc == 0 && p->b[p->prod % PIPE_N].len > 0) {
        p->full[p->prod % PIPE_N] = true;
        p->prod++;
    }
    p->scan_rc = rc == PIPE_STOP ? 0 : rc;
    p->done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* 1 when the thread could not start (then the caller scans itself). */
static int scan_piped(struct cairn_store *s, const char *coll,
                      const struct cairn_time *after, struct scan_ctx *sc)
{
    struct pipe p = {.s = s, .coll = coll, .after = after};
    pthread_t tid;
    int rc = 0;

    for (size_t i = 0; i < PIPE_N; i++)
        cairn_buf_init(&p.b[i], (size_t)1 << 30);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    if (cairn_buf_reserve(&p.b[0], PIPE_BYTES) != 0) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (pthread_create(&tid, NULL, pipe_main, &p) != 0) {
        rc = 1;
        goto out;
    }
    for (size_t cons = 0;; cons++) {
        size_t i = cons % PIPE_N;
        pthread_mutex_lock(&p.mu);
        while (!p.full[i] && !(p.done && cons == p.prod))
            pthread_cond_wait(&p.cv, &p.mu);
        bool end = !p.full[i];
        pthread_mutex_unlock(&p.mu);
        if (end)
            break;
        for (size_t at = 0; at < p.b[i].len && rc == 0;) {
            const char *o = p.b[i].data + at;
            struct pipe_row h;
            memcpy(&h, o, sizeof h);
            struct cairn_store_row row = {.id = o + sizeof h,
                                          .date_added = h.added,
                                          .json = o + sizeof h + h.id_len + 1,
                                          .json_len = h.json_len};
            rc = on_row(&row, sc);
            at += (sizeof h + h.id_len + h.json_len + 2 + 7) & ~(size_t)7;
        }
        pthread_mutex_lock(&p.mu);
        p.full[i] = false;
        if (rc != 0)
            p.stop = true; /* the rest is drained unread */
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    pthread_join(tid, NULL);
    if (rc == 0)
        rc = p.scan_rc;
out:
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    for (size_t i = 0; i < PIPE_N; i++)
        cairn_buf_release(&p.b[i]);
    return rc;
}

int cairn_export_update(struct cairn_export *ex, struct cairn_store *s,
                        bool *changed)
{
    if (changed != NULL)
        *changed = false;
    for (size_t c = 0; c < ex->o.n_collections; c++) {
        /* one pass over what was added since the last (every version:
         * put_entry keeps the latest of each id) */
        struct scan_ctx sc = {ex, c, 0};
        struct cairn_time after = ex->added[c];
        int rc = 1;
        if (!ex->have_added[c])
            rc = scan_piped(s, ex->o.collections[c], NULL, &sc);
        if (rc == 1)
            rc = cairn_store_scan(s, ex->o.collections[c], "indicator",
                                  ex->have_added[c] ? &after : NULL, on_row,
                                  &sc);
        if (sc.n > 0) {
            ex->have_added[c] = true;
            if (changed != NULL)
                *changed = true;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

bool cairn_export_next_expiry(const struct cairn_export *ex,
                              const struct cairn_time *now,
                              struct cairn_time *out)
{
    bool found = false;
    for (size_t i = 0; i < ex->n_ents; i++) {
        const struct entry *e = ex->ents[i];
        if (!e->has_until || cairn_time_cmp(&e->x->until, now) <= 0)
            continue;
        if (!found || cairn_time_cmp(&e->x->until, out) < 0)
            *out = e->x->until;
        found = true;
    }
    return found;
}

/* ---- the filter -----------------------------------------------------------
 *
 * One place decides what an export holds: value types, warninglists (the
 * values marked when read; left out unless include_warninglisted), and
 * scores (cairn_score_indicator of the analysis module, the one `cairn
 * report` and `cairn lookup` use; the render loop compares min_score).
 */

bool cairn__export_keep_value(const struct cairn_export *ex,
                              const struct entry *e, const struct xval *v)
{
    (void)e;
    if (v->listed && !ex->o.include_warninglisted)
        return false;
    return ex->any_type || ex->type_ok[v->type];
}

bool cairn__export_scores(const struct cairn_export *ex)
{
    return ex->o.min_score > 0 || ex->o.format == CAIRN_EXPORT_CSV;
}

/*
 * A score moves by days (its decay): one computed less than this long ago
 * is used again, so that a rewrite after one new indicator does not score
 * every other one again.
 */
#define SCORE_KEEP_S 600

static int set_str(json_t *o, const char *k, const char *v, size_t n)
{
    if (v == NULL)
        return 0;
    json_t *s = json_stringn_nocheck(v, n);
    return s != NULL && json_object_set_new(o, k, s) == 0 ? 0 : CAIRN_ENOMEM;
}

/* The values of an entry's pattern as cairn_value_object_values gives
 * them: read again by simple_walk when the entry was (each comparison's
 * literal as written, typed by the values module), else through an
 * object of the pattern alone. */
struct score_walk {
    cairn_value_cb cb;
    void *ud;
};

static int score_cmp(void *ud, const char *type, const char *path,
                     const struct cairn_pattern_literal *lit)
{
    const struct score_walk *w = ud;
    int t = cairn_value_path_type(type, path);
    if (t == CAIRN_IOC_UNKNOWN)
        return 0;
    /* a stop is not "not simple": told apart by the sign */
    return w->cb(w->ud, t, lit->s, lit->len) != 0 ? -1 : 0;
}

static int entry_values(const void *ud, cairn_value_cb cb, void *cb_ud)
{
    const struct entry *e = ud;
    const struct entry_x *x = e->x;
    if (e->simple) {
        struct score_walk w = {cb, cb_ud};
        return simple_walk(x->pattern, x->pattern_len, score_cmp, &w);
    }
    json_t *o = json_object();
    int rc = o != NULL ? 0 : CAIRN_ENOMEM;
    if (rc == 0)
        rc = set_str(o, "type", "indicator", 9);
    if (rc == 0)
        rc = set_str(o, "pattern", x->pattern, x->pattern_len);
    if (rc == 0)
        rc = set_str(o, "pattern_type", x->pattern_type, slen(x->pattern_type));
    if (rc == 0)
        rc = cairn_value_object_values(o, cb, cb_ud);
    json_decref(o);
    return rc;
}

int cairn__export_score(const struct cairn_export *ex, struct entry *e,
                        const struct cairn_time *now)
{
    struct entry_x *x = e->x; /* there whenever the export scores */
    if (!cairn__export_scores(ex) || x == NULL)
        return -1;
    if (x->has_score && now->sec >= x->score_at &&
        now->sec - x->score_at < SCORE_KEEP_S)
        return x->score;
    /* what cairn_score_indicator reads of the object */
    struct cairn_score_fields f = {
        .confidence = x->confidence,
        .valid_from = x->valid_from,
        .valid_from_len = slen(x->valid_from),
        .created = x->created,
        .created_len = slen(x->created),
        .valid_until = x->valid_until_text,
        .valid_until_len = slen(x->valid_until_text),
        .revoked = e->revoked,
        .values = entry_values,
        .values_ud = e,
    };
    struct cairn_score_opts so = {.warninglists = ex->o.warninglists,
                                  .now = now};
    int s = cairn_score_fields(&f, NULL, &so, NULL);
    if (s < 0)
        s = -1;
    x->has_score = true;
    x->score = s;
    x->score_at = now->sec;
    return s;
}

bool cairn__export_keep_entry(const struct cairn_export *ex,
                              const struct entry *e)
{
    if (ex->any_type)
        return true;
    if (e->kind == ENT_YARA)
        return ex->type_ok[CAIRN_IOC_TYPE_COUNT];
    for (uint32_t i = 0; i < e->n_vals; i++)
        if (ex->type_ok[e->vals[i].type])
            return true;
    return false;
}

/* ---- writing files atomically ---------------------------------------------
 */

int cairn__export_json_str(struct cairn_buf *b, const char *s, size_t len)
{
    static const char hexd[] = "0123456789abcdef";
    int rc = cairn_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = cairn_buf_append(b, s + run, i - run);
        run = i + 1;
        if (rc != 0)
            break;
        char esc[7] = {'\\', (char)c, 0};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\t')
            esc[1] = 't';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c < 0x20) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hexd[c >> 4];
            esc[5] = hexd[c & 15];
            n = 6;
        }
        rc = cairn_buf_append(b, esc, n);
    }
    if (rc == 0)
        rc = cairn_buf_append(b, s + run, len - run);
    return rc == 0 ? cairn_buf_putc(b, '"') : rc;
}
