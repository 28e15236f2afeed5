/* SPDX-License-Identifier: Apache-2.0 */
/* The indicator set builder: list lines and STIX patterns become keys. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/pattern.h"
#include "cairn/stix.h"
#include "hunt/hunt_int.h"

#define TEXT_MAX  ((size_t)UINT32_MAX - 1)
#define MAX_ITEMS ((size_t)1 << 31)

struct cairn_hunt_builder {
    struct cairn_time now;
    cairn_hunt_skip_cb skip_cb;
    const struct cairn_warninglists *warninglists;
    void *ud;
    struct cairn_hunt_set *set; /* being filled; arrays grow by doubling */
    size_t text_alloc, keys_alloc, inds_alloc, uuids_alloc, extras_alloc;
    size_t progs_alloc, regexes_alloc, yara_alloc;
    /* regex sources, NUL-ended, one after another; and their flags */
    char *re_text;
    size_t re_len, re_alloc;
    uint32_t *re_off;
    unsigned *re_flags;
    size_t re_off_alloc, re_flags_alloc;
    bool failed; /* an allocation failed: only _free is left to do */
};

static int grow(void **arr, size_t *alloc, size_t need, size_t elem)
{
    if (need <= *alloc)
        return 0;
    size_t n = *alloc > 0 ? *alloc : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return CAIRN_ETOOBIG;
        n *= 2;
    }
    void *p = cairn_realloc(*arr, n * elem);
    if (p == NULL)
        return CAIRN_ENOMEM;
    *arr = p;
    *alloc = n;
    return 0;
}

#define GROW(b, field, need)                                                   \
    grow((void **)&(b)->set->field, &(b)->field##_alloc, (need),               \
         sizeof *(b)->set->field)

/* Append bytes to the text arena; the offset goes to *off. */
static int text_add(struct cairn_hunt_builder *b, const void *s, size_t len,
                    uint32_t *off)
{
    struct cairn_hunt_set *set = b->set;
    if (len > TEXT_MAX - set->text_len)
        return CAIRN_ETOOBIG;
    int rc =
        grow((void **)&set->text, &b->text_alloc, set->text_len + len + 1, 1);
    if (rc != 0)
        return rc;
    memcpy(set->text + set->text_len, s, len);
    set->text[set->text_len + len] = '\0';
    *off = (uint32_t)set->text_len;
    set->text_len += len + 1;
    return 0;
}

int cairn_hunt_builder_new(const struct cairn_hunt_builder_opts *opts,
                           struct cairn_hunt_builder **out)
{
    struct cairn_hunt_builder *b = cairn_calloc(1, sizeof *b);
    *out = NULL;
    if (b == NULL)
        return CAIRN_ENOMEM;
    b->set = cairn_calloc(1, sizeof *b->set);
    if (b->set == NULL) {
        cairn_free(b);
        return CAIRN_ENOMEM;
    }
    if (opts != NULL && opts->now != NULL)
        b->now = *opts->now;
    else
        b->now = cairn_time_now(3);
    if (opts != NULL) {
        b->skip_cb = opts->skip_cb;
        b->ud = opts->ud;
        b->warninglists = opts->warninglists;
    }
    *out = b;
    return 0;
}

void cairn_hunt_builder_free(struct cairn_hunt_builder *b)
{
    if (b == NULL)
        return;
    cairn_hunt_set_free(b->set);
    cairn_free(b->re_text);
    cairn_free(b->re_off);
    cairn_free(b->re_flags);
    cairn_free(b);
}

/* The first value of an indicator on a warninglist. */
struct wl_hit {
    const struct cairn_warninglists *w;
    const char *list;
    char value[128];
};

static int wl_value(void *ud, int type, const char *s, size_t len)
{
    struct wl_hit *h = ud;
    if (type == CAIRN_VALUE_ADDR)
        type = (int)cairn_hunt_detect(s, len, NULL, 0, NULL);
    h->list = cairn_warninglists_match(h->w, type, s, len);
    if (h->list == NULL)
        return 0;
    snprintf(h->value, sizeof h->value, "%.*s", (int)(len > 100 ? 100 : len),
             s);
    return 1;
}

/* Report a skipped input to the callback and `diag`; CAIRN_HUNT_SKIPPED. */
static int skip(struct cairn_hunt_builder *b, struct cairn_diag *diag,
                enum cairn_hunt_skip_reason reason, const char *id,
                const char *source, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int skip(struct cairn_hunt_builder *b, struct cairn_diag *diag,
                enum cairn_hunt_skip_reason reason, const char *id,
                const char *source, uint64_t line, const char *fmt, ...)
{
    static const char *const rules[] = {"hunt-revoked", "hunt-expired",
                                        "hunt-unsupported", "hunt-invalid",
                                        "hunt-warninglisted"};
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->set->skipped++;
    if (diag != NULL) {
        cairn_diag_clear(diag);
        cairn_diag_set(diag,
                       reason == CAIRN_HUNT_SKIP_INVALID ? CAIRN_SEV_ERROR
                                                         : CAIRN_SEV_WARNING,
                       rules[reason], "%s", msg);
        if (id != NULL)
            snprintf(diag->object_id, sizeof diag->object_id, "%s", id);
        if (source != NULL)
            snprintf(diag->file, sizeof diag->file, "%s", source);
        diag->line = line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
    }
    if (b->skip_cb != NULL) {
        struct cairn_hunt_skip s = {reason, id, source, line, msg};
        b->skip_cb(&s, b->ud);
    }
    return CAIRN_HUNT_SKIPPED;
}

static int add_ind(struct cairn_hunt_builder *b, const struct hind *ind,
                   uint32_t *index)
{
    struct cairn_hunt_set *set = b->set;
    if (set->n_inds >= MAX_ITEMS)
        return CAIRN_ETOOBIG;
    int rc = GROW(b, inds, set->n_inds + 1);
    if (rc != 0)
        return rc;
    set->inds[set->n_inds] = *ind;
    *index = (uint32_t)set->n_inds++;
    return 0;
}

/* One indexed value; IP keys are "prefix byte + masked address". */
static int add_key(struct cairn_hunt_builder *b, enum cairn_ioc_type t,
                   uint32_t off, size_t len, uint32_t ind, unsigned atom)
{
    struct cairn_hunt_set *set = b->set;
    if (set->n_keys >= MAX_ITEMS)
        return CAIRN_ETOOBIG;
    int rc = GROW(b, keys, set->n_keys + 1);
    if (rc != 0)
        return rc;
    set->keys[set->n_keys++] = (struct hkey){
        .off = off,
        .len = (uint32_t)len,
        .ind = ind,
        .next = HUNT_NONE,
        .type = (uint8_t)t,
        .atom = (uint8_t)(atom < HUNT_MAX_ATOMS ? atom : 0),
    };
    return 0;
}

static int add_ip_key(struct cairn_hunt_builder *b, int family,
                      const uint8_t addr[16], unsigned prefix, uint32_t ind,
                      unsigned atom)
{
    uint8_t k[17];
    uint32_t off;
    size_t n = family == 4 ? 4 : 16;
    if (family == 4 && prefix == 32) {
        /* an address by itself is kept as its text (see hunt_v4_text_hash) */
        char t[16];
        size_t tl =
            cairn__hunt_v4_text((uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
                             (uint32_t)addr[2] << 8 | addr[3],
                         t);
        int rc = text_add(b, t, tl, &off);
        return rc == 0 ? add_key(b, CAIRN_IOC_IPV4, off, tl, ind, atom) : rc;
    }
    k[0] = (uint8_t)prefix;
    memcpy(k + 1, addr, n);
    int rc = text_add(b, k, n + 1, &off);
    if (rc == 0)
        rc = add_key(b, family == 4 ? CAIRN_IOC_IPV4 : CAIRN_IOC_IPV6, off,
                     n + 1, ind, atom);
    return rc;
}

/* ---- plain lists --------------------------------------------------------- */

int cairn_hunt_builder_add_list_line(struct cairn_hunt_builder *b,
                                     const char *line, size_t len,
                                     const char *source, uint64_t lineno,
                                     struct cairn_diag *diag)
{
    char norm[HUNT_URL_MAX + 2];
    size_t nl = 0;
    size_t i = 0, end;
    uint32_t off, ind;
    int rc;

    if (b == NULL || (line == NULL && len > 0))
        return CAIRN_EINVAL;
    if (b->failed)
        return CAIRN_ENOMEM;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    while (len > i && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
                       line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (i == len || line[i] == '#')
        return 0;
    /* one value, then nothing or a comment */
    end = i;
    while (end < len && line[end] != ' ' && line[end] != '\t')
        end++;
    size_t rest = end;
    while (rest < len && (line[rest] == ' ' || line[rest] == '\t'))
        rest++;
    if (rest < len && line[rest] != '#')
        return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, NULL, source, lineno,
                    "more than one value on the line");
    if (end - i > HUNT_URL_MAX)
        return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, NULL, source, lineno,
                    "value longer than %d bytes", HUNT_URL_MAX);
    enum cairn_ioc_type t =
        cairn_hunt_detect(line + i, end - i, norm, sizeof norm, &nl);
    if (t == CAIRN_IOC_UNKNOWN)
        return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, NULL, source, lineno,
                    "'%.*s' is not an address, CIDR, domain, URL, email "
                    "address or MD5/SHA-1/SHA-256/SHA-512 hash",
                    (int)(end - i > 80 ? 80 : end - i), line + i);
    const char *wl = cairn_warninglists_match(b->warninglists, (int)t, norm, nl);
    if (wl != NULL)
        return skip(b, diag, CAIRN_HUNT_SKIP_WARNINGLISTED, NULL, source,
                    lineno, "'%.*s' is on warninglist '%s'",
                    (int)(nl > 80 ? 80 : nl), norm, wl);
    /* a repeated entry is dropped when the index is built (see there) */
    rc = text_add(b, norm, nl, &off);
    if (rc != 0)
        goto out;
    struct hind h = {.name_off = off,
                     .name_len = (uint32_t)nl,
                     .id = HUNT_NONE,
                     .extra = HUNT_NONE,
                     .type = (uint8_t)t,
                     .flags = IND_LIST};
    rc = add_ind(b, &h, &ind);
    if (rc != 0)
        goto out;
    if (t == CAIRN_IOC_IPV4 || t == CAIRN_IOC_IPV6) {
        int family;
        uint8_t addr[16];
        unsigned prefix;
        if (!cairn__hunt_parse_cidr(norm, nl, &family, addr, &prefix)) {
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        rc = add_ip_key(b, family, addr, prefix, ind, 0);
    } else {
        rc = add_key(b, t, off, nl, ind, 0);
    }
out:
    if (rc == CAIRN_ENOMEM)
        b->failed = true;
    return rc;
}

int cairn_hunt_builder_add_list(struct cairn_hunt_builder *b, const char *buf,
                                size_t len, const char *source,
                                struct cairn_diag *diag)
{
    uint64_t lineno = 0;
    size_t i = 0;
    if (b == NULL || (buf == NULL && len > 0))
        return CAIRN_EINVAL;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        int rc = cairn_hunt_builder_add_list_line(b, buf + i, end - i, source,
                                                  ++lineno, diag);
        if (rc < 0)
            return rc;
        i = end + 1;
    }
    return 0;
}

/* ---- STIX patterns ------------------------------------------------------- */

/* How a comparison's object path maps to the values telemetry carries. */
enum {
    PT_NONE = 0,
    PT_ADDR = CAIRN_IOC_TYPE_COUNT, /* network-traffic refs: IP or domain */
};

/* One table for the hunt and the store's value index (values/keys.c). */
static int path_type(const char *obj, const char *path)
{
    return cairn_value_path_type(obj, path);
}

enum cairn_ioc_type cairn_hunt_property_type(const char *object_type,
                                             const char *path)
{
    if (object_type == NULL || path == NULL)
        return CAIRN_IOC_UNKNOWN;
    int t = path_type(object_type, path);
    return t == PT_ADDR ? CAIRN_IOC_STRING : (enum cairn_ioc_type)t;
}

struct wstate {
    struct cairn_hunt_builder *b;
    uint32_t ind;
    uint8_t prog[HUNT_MAX_PROG];
    size_t prog_len;
    bool prog_over;
    unsigned n_atoms;
    bool has_and, has_unknown, qualified;
    char why[200]; /* the first comparison that cannot be indexed */
    int err;       /* ENOMEM and the like */
};

static void emit(struct wstate *w, uint8_t op)
{
    if (w->prog_len >= sizeof w->prog) {
        w->prog_over = true;
        return;
    }
    w->prog[w->prog_len++] = op;
}

static const char *op_text(enum cairn_pattern_op op)
{
    static const char *const t[] = {
        "=",  "!=",   "<",       "<=",       ">",          ">=",
        "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"};
    return (unsigned)op < sizeof t / sizeof t[0] ? t[op] : "?";
}

/* LIKE to an anchored regex; every byte but letters and digits escaped. */
static int like_to_regex(struct cairn_hunt_builder *b, const char *s,
                         size_t len)
{
    static const char hexd[] = "0123456789abcdef";
    /* 4 bytes per escaped byte, plus anchors */
    char *tmp = cairn_malloc(len * 40 + 8);
    size_t o = 0;
    if (tmp == NULL)
        return CAIRN_ENOMEM;
    tmp[o++] = '^';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            memcpy(tmp + o, "(?s:.*)", 7);
            o += 7;
        } else if (c == '_') {
            /* one character: an ASCII byte, or a UTF-8 lead and its tail */
            static const char one[] = "(?:[\\x00-\\x7f]|[\\xc0-\\xff]"
                                      "[\\x80-\\xbf]*)";
            memcpy(tmp + o, one, sizeof one - 1);
            o += sizeof one - 1;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9')) {
            tmp[o++] = (char)c;
        } else {
            tmp[o++] = '\\';
            tmp[o++] = 'x';
            tmp[o++] = hexd[c >> 4];
            tmp[o++] = hexd[c & 15];
        }
    }
    memcpy(tmp + o, "\\z", 2);
    o += 2;
    uint32_t off = (uint32_t)b->re_len;
    int rc = grow((void **)&b->re_text, &b->re_alloc, b->re_len + o + 1, 1);
    if (rc == 0) {
        memcpy(b->re_text + b->re_len, tmp, o);
        b->re_text[b->re_len + o] = '\0';
        b->re_len += o + 1;
        rc = grow((void **)&b->re_off, &b->re_off_alloc, b->set->n_regexes + 1,
                  sizeof *b->re_off);
    }
    if (rc == 0)
        b->re_off[b->set->n_regexes] = off;
    cairn_free(tmp);
    return rc;
}

static int add_regex_text(struct cairn_hunt_builder *b, const char *s,
                          size_t len)
{
    uint32_t off = (uint32_t)b->re_len;
    int rc = grow((void **)&b->re_text, &b->re_alloc, b->re_len + len + 1, 1);
    if (rc == 0) {
        memcpy(b->re_text + b->re_len, s, len);
        b->re_text[b->re_len + len] = '\0';
        b->re_len += len + 1;
        rc = grow((void **)&b->re_off, &b->re_off_alloc, b->set->n_regexes + 1,
                  sizeof *b->re_off);
    }
    if (rc == 0)
        b->re_off[b->set->n_regexes] = off;
    return rc;
}

/*
 * Index a LIKE or MATCHES comparison. 1 when Vectorscan cannot take it
 * (the reason in w->why), 0 when added, or a negative error.
 */
static int add_regex(struct wstate *w, enum cairn_ioc_type t, bool like,
                     const struct cairn_pattern_literal *lit, unsigned atom)
{
    struct cairn_hunt_builder *b = w->b;
    struct cairn_hunt_set *set = b->set;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *err = NULL;
    int rc = like ? like_to_regex(b, lit->s, lit->len)
                  : (memchr(lit->s, '\0', lit->len) != NULL
                         ? 1
                         : add_regex_text(b, lit->s, lit->len));
    if (rc == 1) {
        snprintf(w->why, sizeof w->why, "a regular expression with NUL");
        return 1;
    }
    if (rc != 0)
        return rc;
    unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
    if (hunt_caseless(t))
        flags |= HS_FLAG_CASELESS;
    const char *expr = b->re_text + b->re_off[set->n_regexes];
    if (hs_expression_info(expr, flags, &info, &err) != HS_SUCCESS) {
        if (w->why[0] == '\0')
            snprintf(w->why, sizeof w->why,
                     "Vectorscan cannot use the regular expression: %s",
                     err != NULL && err->message ? err->message : "?");
        hs_free_compile_error(err);
        return 1;
    }
    free(info); /* hs_expression_info allocates with the C library */
    rc = grow((void **)&b->re_flags, &b->re_flags_alloc, set->n_regexes + 1,
              sizeof *b->re_flags);
    if (rc == 0)
        rc = GROW(b, regexes, set->n_regexes + 1);
    if (rc != 0)
        return rc;
    b->re_flags[set->n_regexes] = flags;
    set->regexes[set->n_regexes++] =
        (struct hregex){w->ind, (uint8_t)t, (uint8_t)atom};
    set->regex_count[t]++;
    return 0;
}

/* One string literal of = or IN: 1 when it cannot be indexed. */
static int add_literal(struct wstate *w, int pt,
                       const struct cairn_pattern_literal *lit, bool cidr_op,
                       unsigned atom)
{
    struct cairn_hunt_builder *b = w->b;
    char norm[HUNT_URL_MAX + 2];
    uint32_t off;
    int family;
    uint8_t addr[16];
    unsigned prefix;

    if (lit->kind != CAIRN_PATTERN_LIT_STRING || lit->len == 0 ||
        lit->len > HUNT_URL_MAX)
        return 1;
    if (pt == CAIRN_IOC_IPV4 || pt == CAIRN_IOC_IPV6 || pt == PT_ADDR) {
        if (cairn__hunt_parse_cidr(lit->s, lit->len, &family, addr, &prefix))
            return add_ip_key(b, family, addr, prefix, w->ind, atom);
        if (pt != PT_ADDR || cidr_op)
            return 1;
        pt = CAIRN_IOC_DOMAIN;
    } else if (cidr_op) {
        return 1;
    }
    size_t n = lit->len;
    if (pt == CAIRN_IOC_URL) {
        int r = cairn_hunt_url_normalize(lit->s, lit->len, norm, sizeof norm);
        if (r < 0)
            return 1;
        n = (size_t)r;
    } else if (hunt_caseless((enum cairn_ioc_type)pt)) {
        cairn__hunt_lower(lit->s, n, norm);
    } else {
        memcpy(norm, lit->s, n);
    }
    if (pt == CAIRN_IOC_DOMAIN && n > 1 && norm[n - 1] == '.')
        n--;
    int rc = text_add(b, norm, n, &off);
    if (rc == 0)
        rc = add_key(b, (enum cairn_ioc_type)pt, off, n, w->ind, atom);
    return rc;
}

/* Index one comparison; 1 when it cannot be, 0 when it was, or an error. */
static int index_cmp(struct wstate *w, const struct cairn_pattern_walk_item *it,
                     unsigned atom)
{
    int pt = path_type(it->object_type, it->path);
    struct cairn_pattern_literal lit;
    if (pt == PT_NONE) {
        snprintf(w->why, sizeof w->why, "%s:%s is not a hunted property",
                 it->object_type, it->path);
        return 1;
    }
    if (it->negated)
        goto no;
    switch (it->op) {
    case CAIRN_PATTERN_OP_EQ:
    case CAIRN_PATTERN_OP_IN:
    case CAIRN_PATTERN_OP_ISSUBSET:
        for (size_t i = 0; i < it->n_literals; i++) {
            if (!cairn_pattern_walk_literal(it, i, &lit))
                goto no;
            int rc = add_literal(w, pt, &lit,
                                 it->op == CAIRN_PATTERN_OP_ISSUBSET, atom);
            if (rc != 0) {
                if (rc == 1)
                    goto no;
                return rc;
            }
        }
        return it->n_literals > 0 ? 0 : 1;
    case CAIRN_PATTERN_OP_LIKE:
    case CAIRN_PATTERN_OP_MATCHES:
        if (!cairn_pattern_walk_literal(it, 0, &lit) ||
            lit.kind != CAIRN_PATTERN_LIT_STRING)
            goto no;
        if (pt == PT_ADDR)
            pt = CAIRN_IOC_STRING;
        {
            int rc = add_regex(w, (enum cairn_ioc_type)pt,
                               it->op == CAIRN_PATTERN_OP_LIKE, &lit, atom);
            return rc;
        }
    default:
        break;
    }
no:
    if (w->why[0] == '\0')
        snprintf(w->why, sizeof w->why, "%s%s on %s:%s cannot be hunted",
                 it->negated ? "NOT " : "", op_text(it->op), it->object_type,
                 it->path);
    return 1;
}

static int walk_cb(const struct cairn_pattern_walk_item *it, void *ud)
{
    struct wstate *w = ud;
    switch (it->node) {
    case CAIRN_PATTERN_NODE_CMP: {
        struct cairn_hunt_set *set = w->b->set;
        size_t keys0 = set->n_keys, re0 = set->n_regexes;
        unsigned atom = w->n_atoms;
        char why[sizeof w->why];
        memcpy(why, w->why, sizeof why);
        int rc = index_cmp(w, it, atom);
        if (rc < 0) {
            w->err = rc;
            return rc;
        }
        if (rc == 1) {
            /* drop what this comparison added before it failed */
            for (size_t i = re0; i < set->n_regexes; i++)
                set->regex_count[set->regexes[i].type]--;
            set->n_keys = keys0;
            set->n_regexes = re0;
            if (why[0] != '\0')
                memcpy(w->why, why, sizeof why);
            w->has_unknown = true;
            emit(w, PROG_TRUE);
        } else {
            w->n_atoms++;
            emit(w, atom < HUNT_MAX_ATOMS ? (uint8_t)atom : PROG_TRUE);
        }
        break;
    }
    case CAIRN_PATTERN_NODE_AND:
        w->has_and = true;
        emit(w, PROG_AND);
        break;
    case CAIRN_PATTERN_NODE_OR:
        emit(w, PROG_OR);
        break;
    case CAIRN_PATTERN_NODE_OBSERVATION:
        emit(w, PROG_LEAF);
        break;
    case CAIRN_PATTERN_NODE_OBS_OR:
        break;
    default:
        w->qualified = true;
        break;
    }
    return 0;
}

bool cairn__hunt_prog_eval(const uint8_t *prog, size_t len, uint64_t mask)
{
    bool st[HUNT_MAX_PROG];
    size_t sp = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t op = prog[i];
        if (op < HUNT_MAX_ATOMS) {
            st[sp++] = (mask >> op) & 1;
        } else if (op == PROG_TRUE) {
            st[sp++] = true;
        } else if (op == PROG_AND || op == PROG_OR) {
            if (sp < 2)
                return false;
            bool r = st[--sp];
            st[sp - 1] = op == PROG_AND ? st[sp - 1] && r : st[sp - 1] || r;
        } else if (op == PROG_LEAF) {
            if (sp < 1)
                return false;
            if (st[--sp])
                return true;
        }
    }
    return false;
}

static int uuid_bytes(const char *id, uint8_t out[16])
{
    const char *u = id + strlen("indicator--");
    size_t o = 0;
    for (size_t i = 0; u[i] != '\0' && o < 16; i++) {
        if (u[i] == '-')
            continue;
        int hi = u[i] >= 'a' ? u[i] - 'a' + 10 : u[i] - '0';
        int lo = u[i + 1] >= 'a' ? u[i + 1] - 'a' + 10 : u[i + 1] - '0';
        out[o++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return o == 16 ? 0 : CAIRN_EINVAL;
}

static int add_yara(struct cairn_hunt_builder *b, const char *id,
                    const char *name, const char *rules)
{
    struct cairn_hunt_set *set = b->set;
    struct hyara y = {.name_off = HUNT_NONE};
    int rc = uuid_bytes(id, y.uuid);
    if (rc == 0 && name != NULL) {
        rc = text_add(b, name, strlen(name), &y.name_off);
        y.name_len = (uint32_t)strlen(name);
    }
    if (rc == 0) {
        y.rules_len = (uint32_t)strlen(rules);
        rc = text_add(b, rules, y.rules_len, &y.rules_off);
    }
    if (rc == 0)
        rc = GROW(b, yara, set->n_yara + 1);
    if (rc == 0)
        set->yara[set->n_yara++] = y;
    return rc;
}

int cairn_hunt_builder_add_indicator(struct cairn_hunt_builder *b,
                                     const json_t *obj, struct cairn_diag *diag)
{
    struct cairn_pattern *pat = NULL;
    struct wstate *w = NULL;
    int rc = CAIRN_EINTERNAL;

    if (b == NULL || obj == NULL)
        return CAIRN_EINVAL;
    if (b->failed)
        return CAIRN_ENOMEM;
    struct cairn_hunt_set *set = b->set;
    const char *type = cairn_stix_type(obj);
    const char *id = cairn_stix_id(obj);
    if (type == NULL || strcmp(type, "indicator") != 0 || id == NULL ||
        !cairn_stix_id_check(id, "indicator"))
        return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, id, NULL, 0,
                    "not a STIX indicator with a valid id");
    if (json_is_true(json_object_get(obj, "revoked")))
        return skip(b, diag, CAIRN_HUNT_SKIP_REVOKED, id, NULL, 0,
                    "indicator is revoked");
    const json_t *vu = json_object_get(obj, "valid_until");
    if (vu != NULL) {
        struct cairn_time t;
        if (!json_is_string(vu) ||
            cairn_time_parse(json_string_value(vu), json_string_length(vu),
                             true, &t) != 0)
            return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, id, NULL, 0,
                        "valid_until is not a STIX timestamp");
        if (cairn_time_cmp(&t, &b->now) <= 0)
            return skip(b, diag, CAIRN_HUNT_SKIP_EXPIRED, id, NULL, 0,
                        "indicator expired at %s", json_string_value(vu));
    }
    if (b->warninglists != NULL) {
        struct wl_hit wh = {.w = b->warninglists};
        if (cairn_value_object_values(obj, wl_value, &wh) == 1)
            return skip(b, diag, CAIRN_HUNT_SKIP_WARNINGLISTED, id, NULL, 0,
                        "%s is on warninglist '%s'", wh.value, wh.list);
    }
    const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
    const char *ptext = json_string_value(json_object_get(obj, "pattern"));
    const char *name = json_string_value(json_object_get(obj, "name"));
    if (ptype == NULL || ptext == NULL)
        return skip(b, diag, CAIRN_HUNT_SKIP_INVALID, id, NULL, 0,
                    "indicator has no pattern or pattern_type");
    if (strcmp(ptype, "yara") == 0) {
        rc = add_yara(b, id, name, ptext);
        goto out;
    }
    if (strcmp(ptype, "stix") != 0)
        return skip(b, diag, CAIRN_HUNT_SKIP_UNSUPPORTED, id, NULL, 0,
                    "pattern_type '%.40s' is not supported", ptype);

    struct cairn_diag pd;
    cairn_diag_clear(&pd);
    size_t plen = json_string_length(json_object_get(obj, "pattern"));
    rc = cairn_pattern_parse(ptext, plen, NULL, &pat, &pd);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc != 0) {
        rc = skip(b, diag, CAIRN_HUNT_SKIP_INVALID, id, NULL, 0,
                  "pattern does not parse: %s (column %u)", pd.message,
                  pd.column);
        goto out;
    }
    w = cairn_calloc(1, sizeof *w);
    if (w == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    w->b = b;
    w->ind = (uint32_t)set->n_inds;
    size_t keys0 = set->n_keys, re0 = set->n_regexes;
    rc = cairn_pattern_walk(pat, walk_cb, w);
    if (rc == 0 && w->err != 0)
        rc = w->err;
    if (rc == CAIRN_ETOOBIG) {
        w->has_unknown = true;
        snprintf(w->why, sizeof w->why, "a property path is too long");
        rc = 0;
    }
    if (rc != 0)
        goto out;

    const char *reason = NULL;
    bool direct = !w->has_and && !w->has_unknown && !w->qualified;
    if (w->n_atoms == 0 || cairn__hunt_prog_eval(w->prog, w->prog_len, 0))
        reason = w->qualified
                     ? "pattern uses qualifiers that cannot be narrowed"
                     : "pattern can match without any value that is indexed";
    else if (!direct && (w->n_atoms > HUNT_MAX_ATOMS || w->prog_over))
        reason = "pattern has too many comparisons to narrow";
    if (reason != NULL) {
        for (size_t i = re0; i < set->n_regexes; i++)
            set->regex_count[set->regexes[i].type]--;
        set->n_keys = keys0;
        set->n_regexes = re0;
        rc = skip(b, diag, CAIRN_HUNT_SKIP_UNSUPPORTED, id, NULL, 0, "%s%s%s",
                  reason, w->why[0] != '\0' ? ": " : "", w->why);
        goto out;
    }

    struct hind h = {.name_off = HUNT_NONE,
                     .id = (uint32_t)set->n_uuids,
                     .extra = HUNT_NONE};
    rc = GROW(b, uuids, set->n_uuids + 1);
    if (rc != 0)
        goto out;
    if (uuid_bytes(id, set->uuids[set->n_uuids]) != 0) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    set->n_uuids++;
    if (name != NULL) {
        size_t nl = strlen(name);
        rc = text_add(b, name, nl, &h.name_off);
        if (rc != 0)
            goto out;
        h.name_len = (uint32_t)nl;
    }
    if (!direct) {
        struct hextra x = {.prog_off = (uint32_t)set->progs_len,
                           .prog_len = (uint32_t)w->prog_len,
                           .pat_off = HUNT_NONE};
        h.flags |= IND_FORMULA;
        if (w->has_unknown || w->qualified) {
            h.flags |= IND_CONFIRM;
            set->needs_confirmation++;
            rc = text_add(b, ptext, plen, &x.pat_off);
            if (rc != 0)
                goto out;
            x.pat_len = (uint32_t)plen;
        }
        rc = GROW(b, progs, set->progs_len + w->prog_len);
        if (rc == 0)
            rc = GROW(b, extras, set->n_extras + 1);
        if (rc != 0)
            goto out;
        memcpy(set->progs + set->progs_len, w->prog, w->prog_len);
        set->progs_len += w->prog_len;
        h.extra = (uint32_t)set->n_extras;
        set->extras[set->n_extras++] = x;
    }
    uint32_t index;
    rc = add_ind(b, &h, &index);
out:
    if (rc == CAIRN_ENOMEM)
        b->failed = true;
    cairn_free(w);
    cairn_pattern_free(pat);
    return rc;
}

/* ---- compiling --------------------------------------------------------------
 */

/* Give back what doubling left unused. */
static void *shrink(void *p, size_t n, size_t elem)
{
    if (p == NULL || n == 0)
        return p;
    void *q = cairn_realloc(p, n * elem);
    return q != NULL ? q : p;
}

/*
 * The label-chain hash of a domain key's last two labels (as
 * cairn__hunt_key_hash goes from the right); false for a single label.
 */
static bool dom2_hash(const char *key, size_t len, uint64_t *out)
{
    uint64_t h = hunt_seed(CAIRN_IOC_DOMAIN);
    size_t end = len;
    unsigned labels = 0;
    for (size_t i = len; i > 0; i--) {
        if (key[i - 1] == '.') {
            h = hunt_domain_step(h, key, len, i, end);
            end = i - 1;
            if (++labels == 2) {
                *out = h;
                return true;
            }
        }
    }
    if (labels == 0)
        return false;
    *out = hunt_domain_step(h, key, len, 0, end);
    return true;
}

/*
 * The filters in front of the table: the prefix lengths an address is
 * looked up under,
 * v4_cidr16 (which IPv4 prefixes cover each /16) and v6_top (the first 32
 * bits of the IPv6 keys of prefix 32 or longer) and url_hosts (the hosts
 * of the URL keys). 0 or CAIRN_ENOMEM.
 */
static int prefix_tables(struct cairn_hunt_set *set, size_t n_v6_top)
{
    if (set->v4_prefixes & ~(1ULL << 32)) {
        set->v4_cidr16 = cairn_calloc(65536, sizeof *set->v4_cidr16);
        if (set->v4_cidr16 == NULL)
            return CAIRN_ENOMEM;
    }
    if (n_v6_top > 0) {
        size_t bits = 4096;
        while (bits < 16 * n_v6_top && bits < ((size_t)1 << 30))
            bits *= 2;
        set->v6_top = cairn_calloc(bits / 64, sizeof *set->v6_top);
        if (set->v6_top == NULL)
            return CAIRN_ENOMEM;
        set->v6_top_mask = (uint32_t)(bits - 1);
    }
    size_t n_dom = set->count[CAIRN_IOC_DOMAIN];
    if (n_dom > 0) {
        size_t bits = 4096;
        while (bits < 16 * n_dom && bits < ((size_t)1 << 30))
            bits *= 2;
        set->dom2 = cairn_calloc(bits / 64, sizeof *set->dom2);
        if (set->dom2 == NULL)
            return CAIRN_ENOMEM;
        set->dom2_mask = bits - 1;
    }
    size_t n_url = set->count[CAIRN_IOC_URL];
    if (n_url > 0) {
        size_t bits = 4096;
        while (bits < 16 * n_url && bits < ((size_t)1 << 30))
            bits *= 2;
        set->url_hosts = cairn_calloc(bits / 64, sizeof *set->url_hosts);
        if (set->url_hosts == NULL)
            return CAIRN_ENOMEM;
        set->url_host_mask = bits - 1;
    }
    for (size_t i = 0; i < set->n_keys; i++) {
        const struct hkey *k = &set->keys[i];
        const uint8_t *kb = (const uint8_t *)set->text + k->off;
        if (k->type == CAIRN_IOC_URL && set->url_hosts != NULL) {
            size_t hs, he;
            const char *u = set->text + k->off;
            if (!cairn__hunt_url_norm_host(u, k->len, &hs, &he)) {
                /* no host to filter on: look every URL up */
                cairn_free(set->url_hosts);
                set->url_hosts = NULL;
                continue;
            }
            uint64_t bit =
                hunt_hash(u + hs, he - hs, HUNT_K2, true) & set->url_host_mask;
            set->url_hosts[bit >> 6] |= 1ULL << (bit & 63);
        }
        if (k->type == CAIRN_IOC_DOMAIN && set->dom2 != NULL) {
            uint64_t h;
            if (!dom2_hash(set->text + k->off, k->len, &h)) {
                /* a key of one label: every name is looked up */
                cairn_free(set->dom2);
                set->dom2 = NULL;
                continue;
            }
            uint64_t bit = h & set->dom2_mask;
            set->dom2[bit >> 6] |= 1ULL << (bit & 63);
        }
        if (k->type == CAIRN_IOC_IPV4 && k->len == 5 && kb[0] < 32) {
            /* a prefix key: 5 bytes, the length and the masked address */
            unsigned p = kb[0];
            uint32_t first = (uint32_t)kb[1] << 8 | kb[2];
            uint32_t n = p >= 16 ? 1 : 1u << (16 - p);
            for (uint32_t j = 0; j < n; j++)
                set->v4_cidr16[first + j] |= 1u << p;
        } else if (k->type == CAIRN_IOC_IPV6 && set->v6_top != NULL &&
                   kb[0] >= 32) {
            uint32_t top = (uint32_t)kb[1] << 24 | (uint32_t)kb[2] << 16 |
                           (uint32_t)kb[3] << 8 | kb[4];
            uint32_t bit = hunt_v6_top_bit(set, top);
            set->v6_top[bit >> 6] |= 1ULL << (bit & 63);
        }
    }
    return 0;
}

int cairn_hunt_builder_build(struct cairn_hunt_builder *b,
                             struct cairn_hunt_set **out)
{
    const char **exprs = NULL;
    int rc = CAIRN_EINTERNAL;
    struct cairn_diag d;

    if (out != NULL)
        *out = NULL;
    if (b == NULL || out == NULL)
        return CAIRN_EINVAL;
    if (b->failed)
        return CAIRN_ENOMEM;
    struct cairn_hunt_set *set = b->set;
    size_t n_v6_top = 0;
    set->text = shrink(set->text, set->text_len, 1);
    set->keys = shrink(set->keys, set->n_keys, sizeof *set->keys);
    set->inds = shrink(set->inds, set->n_inds, sizeof *set->inds);
    set->uuids = shrink(set->uuids, set->n_uuids, sizeof *set->uuids);
    for (size_t i = 0; i < set->n_keys; i++) {
        const struct hkey *k = &set->keys[i];
        set->count[k->type]++;
        if (k->len > set->max_len[k->type])
            set->max_len[k->type] = k->len;
        if (k->type == CAIRN_IOC_IPV4)
            set->v4_prefixes |=
                1ULL << (k->len == 5 ? (uint8_t)set->text[k->off] : 32);
        else if (k->type == CAIRN_IOC_IPV6) {
            if ((uint8_t)set->text[k->off] >= 32)
                n_v6_top++;
            const uint8_t *kb = (const uint8_t *)set->text + k->off;
            unsigned p = kb[0];
            set->v6_prefixes[p / 64] |= 1ULL << (p % 64);
            if (p < 16)
                memset(set->v6_first, 0xff, sizeof set->v6_first);
            else {
                unsigned f = (unsigned)kb[1] << 8 | kb[2];
                set->v6_first[f >> 6] |= 1ULL << (f & 63);
            }
        }
    }
    rc = prefix_tables(set, n_v6_top);
    if (rc != 0)
        goto out;
    rc = cairn__hunt_index_build(set);
    if (rc != 0)
        goto out;
    if (set->n_regexes > 0) {
        exprs = cairn_malloc(set->n_regexes * sizeof *exprs);
        if (exprs == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < set->n_regexes; i++)
            exprs[i] = b->re_text + b->re_off[i];
        cairn_diag_clear(&d);
        rc = cairn__hunt_regex_compile(set, exprs, b->re_flags, &d);
        if (rc != 0)
            goto out;
    }
    *out = set;
    b->set = NULL;
    rc = 0;
out:
    cairn_free(exprs);
    if (rc != 0) {
        /* the builder cannot go on from a half-built set */
        b->failed = true;
    }
    return rc;
}

void cairn_hunt_set_free(struct cairn_hunt_set *set)
{
    if (set == NULL)
        return;
    cairn_free(set->text);
    cairn_free(set->keys);
    cairn_free(set->inds);
    cairn_free(set->uuids);
    cairn_free(set->extras);
    cairn_free(set->progs);
    cairn_free(set->regexes);
    cairn_free(set->yara);
    cairn_free(set->slots_mem);
    cairn_free(set->bloom_mem);
    cairn_free(set->v4_cidr16);
    cairn_free(set->v6_top);
    cairn_free(set->dom2);
    cairn_free(set->url_hosts);
    hs_free_database(set->db);
    cairn_free(set);
}

void cairn_hunt_set_get_stats(const struct cairn_hunt_set *set,
                              struct cairn_hunt_set_stats *out)
{
    memset(out, 0, sizeof *out);
    if (set == NULL)
        return;
    out->indicators = set->n_inds;
    out->values = set->n_keys + set->n_regexes;
    for (int t = 0; t < CAIRN_IOC_TYPE_COUNT; t++)
        out->by_type[t] = set->count[t] + set->regex_count[t];
    out->regexes = set->n_regexes;
    out->needs_confirmation = set->needs_confirmation;
    out->yara = set->n_yara;
    out->skipped = set->skipped;
    out->duplicates = set->duplicates;
    size_t db = 0;
    if (set->db != NULL)
        hs_database_size(set->db, &db);
    out->memory = sizeof *set + set->text_len +
                  set->n_keys * sizeof *set->keys +
                  set->n_inds * sizeof *set->inds + set->n_uuids * 16 +
                  set->n_extras * sizeof *set->extras + set->progs_len +
                  set->n_regexes * sizeof *set->regexes +
                  set->n_yara * sizeof *set->yara +
                  (set->slot_mask + 1) * sizeof *set->slots +
                  (set->bloom_mask + 1) * sizeof *set->bloom + db;
}

void cairn__hunt_format_id(const uint8_t u[16], char out[CAIRN_HUNT_ID_MAX])
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
    memcpy(out, "indicator--", 11);
    o = 11;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hexd[u[i] >> 4];
        out[o++] = hexd[u[i] & 15];
    }
    out[o] = '\0';
}

/* Namespace of the ids of list entries (a fixed random UUID). */
#define LIST_NAMESPACE "86032b0c-a25e-4291-9629-920717bb7b26"

int cairn__hunt_list_id(const struct cairn_hunt_set *set, const struct hind *h,
                 char out[CAIRN_HUNT_ID_MAX])
{
    char name[HUNT_URL_MAX + 32];
    char uuid[CAIRN_UUID_STRLEN];
    int n = snprintf(name, sizeof name, "%s:%.*s",
                     cairn_ioc_type_name((enum cairn_ioc_type)h->type),
                     (int)h->name_len, set->text + h->name_off);
    if (n < 0 || (size_t)n >= sizeof name)
        return CAIRN_ETOOBIG;
    int rc = cairn_uuid5(LIST_NAMESPACE, name, (size_t)n, uuid);
    if (rc != 0)
        return rc;
    snprintf(out, CAIRN_HUNT_ID_MAX, "indicator--%s", uuid);
    return 0;
}

int cairn_hunt_set_indicator(const struct cairn_hunt_set *set, size_t index,
                             struct cairn_hunt_indicator_info *out)
{
    memset(out, 0, sizeof *out);
    if (set == NULL || index >= set->n_inds)
        return CAIRN_ENOTFOUND;
    const struct hind *h = &set->inds[index];
    if (h->name_off != HUNT_NONE)
        out->name = set->text + h->name_off;
    out->from_list = (h->flags & IND_LIST) != 0;
    out->needs_confirmation = (h->flags & IND_CONFIRM) != 0;
    out->formula = (h->flags & IND_FORMULA) != 0;
    if (h->extra != HUNT_NONE && set->extras[h->extra].pat_off != HUNT_NONE)
        out->pattern = set->text + set->extras[h->extra].pat_off;
    if (out->from_list)
        return cairn__hunt_list_id(set, h, out->id);
    cairn__hunt_format_id(set->uuids[h->id], out->id);
    return 0;
}

size_t cairn_hunt_set_key_count(const struct cairn_hunt_set *set)
{
    return set != NULL ? set->n_keys : 0;
}

int cairn_hunt_set_key(const struct cairn_hunt_set *set, size_t index,
                       struct cairn_hunt_key *out)
{
    memset(out, 0, sizeof *out);
    if (set == NULL || index >= set->n_keys)
        return CAIRN_ENOTFOUND;
    const struct hkey *k = &set->keys[index];
    out->type = (enum cairn_ioc_type)k->type;
    out->key = (const uint8_t *)set->text + k->off;
    out->len = k->len;
    return 0;
}

size_t cairn_hunt_set_yara_count(const struct cairn_hunt_set *set)
{
    return set != NULL ? set->n_yara : 0;
}

int cairn_hunt_set_yara(const struct cairn_hunt_set *set, size_t index,
                        struct cairn_hunt_yara_rule *out)
{
    memset(out, 0, sizeof *out);
    if (set == NULL || index >= set->n_yara)
        return CAIRN_ENOTFOUND;
    const struct hyara *y = &set->yara[index];
    cairn__hunt_format_id(y->uuid, out->id);
    out->name = y->name_off != HUNT_NONE ? set->text + y->name_off : NULL;
    out->rules = set->text + y->rules_off;
    out->rules_len = y->rules_len;
    return 0;
}
