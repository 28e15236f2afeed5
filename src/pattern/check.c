/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of STIX patterns that the grammar cannot express. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

#include "pattern/pattern_int.h"

/* Largest REPEATS count and WITHIN value cairn accepts. */
#define MAX_REPEATS    100000
#define MAX_WITHIN_SEC ((int64_t)1000000000000) /* about 31,700 years */

struct checker {
    struct cairn_diag *diag;
    struct cairn_arena *arena;
    int32_t *ucs; /* room for NFC */
    size_t ucs_cap;
    int rc;
};

static void fail(struct checker *ck, unsigned line, unsigned column,
                 const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(struct checker *ck, unsigned line, unsigned column,
                 const char *rule, const char *fmt, ...)
{
    if (ck->rc != 0)
        return;
    ck->rc = CAIRN_EINVALID;
    if (ck->diag == NULL)
        return;
    char msg[sizeof ck->diag->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_set(ck->diag, CAIRN_SEV_ERROR, rule, "%s", msg);
    ck->diag->line = line;
    ck->diag->column = column;
}

/*
 * STIX naming (section 3.1 of STIX 2.1): an object type is lower-case
 * letters, digits and inner hyphens, a property name lower-case letters,
 * digits and '_'. The pattern grammar is looser (custom types such as
 * "x_whatever" parse), so these rules are only what
 * cairn_pattern_check_names reports.
 */
static bool type_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 250 || s[0] == '-' || s[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool property_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 250)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static void check_path(struct checker *ck, const struct path *p)
{
    for (size_t i = 1; i < p->n_steps; i++) {
        if (p->steps[i].kind == STEP_INDEX && p->steps[i].index < 0) {
            fail(ck, p->steps[i].line, p->steps[i].column, "pattern-list-index",
                 "list index must not be negative (use [*] for any)");
            return;
        }
    }
}

/* Hash algorithms whose values have a known form, as the OASIS validator. */
static const struct {
    const char *name; /* upper case, without '-' */
    unsigned len[6];  /* hex digits allowed; 0 ends */
} hash_forms[] = {
    {"MD5", {32}},
    {"MD6", {32, 40, 56, 64, 96, 128}},
    {"RIPEMD160", {40}},
    {"SHA1", {40}},
    {"SHA224", {56}},
    {"SHA256", {64}},
    {"SHA384", {96}},
    {"SHA512", {128}},
    {"SHA3224", {56}},
    {"SHA3256", {64}},
    {"SHA3384", {96}},
    {"SHA3512", {128}},
    {"WHIRLPOOL", {128}},
    {"SSDEEP", {0}},
};

/* Index into hash_forms of the algorithm a path ends with, or -1. */
static int hash_algorithm(const struct path *p)
{
    if (p->n_steps < 2)
        return -1;
    const struct step *h = &p->steps[p->n_steps - 2];
    const struct step *a = &p->steps[p->n_steps - 1];
    if (h->kind != STEP_KEY || a->kind != STEP_KEY ||
        strcmp(h->key, "hashes") != 0)
        return -1;
    char name[16];
    size_t n = 0;
    for (size_t i = 0; i < a->key_len; i++) {
        char c = a->key[i];
        if (c == '-')
            continue;
        if (n + 1 == sizeof name)
            return -1;
        name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    name[n] = '\0';
    for (size_t i = 0; i < sizeof hash_forms / sizeof hash_forms[0]; i++)
        if (strcmp(name, hash_forms[i].name) == 0)
            return (int)i;
    return -1;
}

static bool hash_value_ok(int alg, const char *s, size_t len)
{
    if (hash_forms[alg].len[0] == 0) {
        /* SSDEEP: up to 128 of base64's characters and ':' or '.' */
        if (len == 0 || len > 128)
            return false;
        for (size_t i = 0; i < len; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '/' || c == '+' ||
                  c == ':' || c == '.'))
                return false;
        }
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    for (size_t k = 0; k < 6 && hash_forms[alg].len[k] != 0; k++)
        if (len == hash_forms[alg].len[k])
            return true;
    return false;
}

/* = != and IN against a hash of a known algorithm need a value of its form. */
static void check_hash(struct checker *ck, const struct cexpr *c)
{
    if (c->op != OP_EQ && c->op != OP_NE && c->op != OP_IN)
        return;
    int alg = hash_algorithm(&c->path);
    if (alg < 0)
        return;
    size_t n = c->op == OP_IN ? c->n_set : 1;
    for (size_t i = 0; i < n; i++) {
        const struct lit *l = c->op == OP_IN ? &c->set[i] : &c->lit;
        if (l->kind != LIT_STRING || hash_value_ok(alg, l->s, l->len))
            continue;
        const struct step *a = &c->path.steps[c->path.n_steps - 1];
        if (hash_forms[alg].len[0] == 0)
            fail(ck, c->lit_line, c->lit_column, "pattern-hash",
                 "'%.80s' is not a valid %s hash", l->s, a->key);
        else if (hash_forms[alg].len[1] == 0)
            fail(ck, c->lit_line, c->lit_column, "pattern-hash",
                 "'%.80s' is not a valid %s hash (%u hex digits)", l->s,
                 a->key, hash_forms[alg].len[0]);
        else
            fail(ck, c->lit_line, c->lit_column, "pattern-hash",
                 "'%.80s' is not a valid %s hash", l->s, a->key);
        return;
    }
}

/* The kinds of value an IN list may hold together: one of these. */
static int lit_class(enum lit_kind k)
{
    switch (k) {
    case LIT_INT:
    case LIT_FLOAT:
        return 0;
    case LIT_STRING:
        return 1;
    case LIT_BOOL:
        return 2;
    case LIT_BINARY:
    case LIT_HEX:
        return 3;
    case LIT_TIME:
        return 4;
    }
    return 5;
}

static const char *const class_names[] = {"a number", "a string", "a boolean",
                                          "a binary value", "a timestamp"};

static void check_in_list(struct checker *ck, const struct cexpr *c)
{
    for (size_t i = 1; i < c->n_set; i++) {
        int a = lit_class(c->set[0].kind), b = lit_class(c->set[i].kind);
        if (a != b && a < 5 && b < 5) {
            fail(ck, c->lit_line, c->lit_column, "pattern-in-list",
                 "IN list mixes %s and %s: its values must be of one type",
                 class_names[a], class_names[b]);
            return;
        }
    }
}

const char *cairn__pat_nfc(const char *s, size_t len, int32_t **buf,
                           size_t *buf_cap, size_t *out_len)
{
    const utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    *out_len = len;
    /* Below U+0300 (lead bytes under 0xCC) nothing composes or changes. */
    size_t i = 0;
    while (i < len && (unsigned char)s[i] < 0xCC)
        i++;
    if (i == len || len > (size_t)1 << 28)
        return s;
    /*
     * utf8proc writes the code points, then their UTF-8 over them (and a
     * NUL): room for one more than it needs. Never hand it NULL.
     */
    size_t need = len + 1;
    for (int pass = 0; pass < 2; pass++) {
        if (need > *buf_cap) {
            int32_t *p = cairn_realloc(*buf, need * sizeof *p);
            if (p == NULL)
                return s;
            *buf = p;
            *buf_cap = need;
        }
        utf8proc_ssize_t n = utf8proc_decompose(
            (const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, *buf,
            (utf8proc_ssize_t)*buf_cap, opt);
        if (n < 0)
            return s;
        if ((size_t)n < *buf_cap) {
            n = utf8proc_reencode(*buf, n, opt);
            if (n < 0)
                return s;
            *out_len = (size_t)n;
            return (const char *)*buf;
        }
        need = (size_t)n + 1;
    }
    return s;
}

/* The literal as one byte per code point (for binary values), or NULL. */
static void latin1_of(struct checker *ck, struct cexpr *c)
{
    const unsigned char *s = (const unsigned char *)c->lit.s;
    size_t len = c->lit.len, n = 0;
    char *out = cairn_arena_alloc(ck->arena, len + 1);
    if (out == NULL) {
        ck->rc = ck->rc ? ck->rc : CAIRN_ENOMEM;
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80) {
            out[n++] = (char)s[i];
        } else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < len &&
                   (s[i + 1] & 0xC0) == 0x80) {
            out[n++] = (char)(((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F));
            i++;
        } else {
            return; /* a code point above 255: no byte string equals it */
        }
    }
    out[n] = '\0';
    c->latin1 = out;
    c->latin1_len = n;
}

/* The literal in NFC, kept in the arena. */
static bool nfc_of(struct checker *ck, struct cexpr *c, const char **out,
                   size_t *out_len)
{
    size_t n;
    const char *t = cairn__pat_nfc(c->lit.s, c->lit.len, &ck->ucs,
                                   &ck->ucs_cap, &n);
    if (t == c->lit.s) {
        *out = c->lit.s;
        *out_len = c->lit.len;
        return true;
    }
    char *copy = cairn_arena_strndup(ck->arena, t, n);
    if (copy == NULL) {
        ck->rc = ck->rc ? ck->rc : CAIRN_ENOMEM;
        return false;
    }
    *out = copy;
    *out_len = n;
    return true;
}

static void compile_regex(struct checker *ck, struct cexpr *c)
{
    int err;
    PCRE2_SIZE erroff;
    const char *src;
    size_t src_len;
    if (!nfc_of(ck, c, &src, &src_len))
        return;
    c->re = pcre2_compile((PCRE2_SPTR)src, src_len, PCRE2_UTF, &err, &erroff,
                          NULL);
    if (c->re == NULL) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(err, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", err);
        fail(ck, c->lit_line, c->lit_column, "pattern-regex",
             "MATCHES regular expression does not compile: %s (at offset "
             "%zu)",
             (const char *)msg, (size_t)erroff);
        return;
    }
    (void)pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE);
    /*
     * Binary values are matched byte by byte, without UTF, each byte
     * standing for the code point of the same number (as strings compare
     * with binary values): the expression is compiled from its code points
     * as bytes when they are all below 256.
     */
    latin1_of(ck, c);
    if (c->latin1 != NULL)
        c->re_bytes = pcre2_compile((PCRE2_SPTR)c->latin1, c->latin1_len, 0,
                                    &err, &erroff, NULL);
    else
        c->re_bytes = pcre2_compile((PCRE2_SPTR)c->lit.s, c->lit.len, 0, &err,
                                    &erroff, NULL);
    if (c->re_bytes != NULL)
        (void)pcre2_jit_compile(c->re_bytes, PCRE2_JIT_COMPLETE);
}

static void check_cexpr(struct checker *ck, struct cexpr *c)
{
    if (ck->rc != 0)
        return;
    if (c->kind != CE_CMP) {
        check_cexpr(ck, c->l);
        check_cexpr(ck, c->r);
        return;
    }
    check_path(ck, &c->path);
    if (ck->rc != 0)
        return;
    check_hash(ck, c);
    if (ck->rc != 0)
        return;
    switch (c->op) {
    case OP_IN:
        check_in_list(ck, c);
        break;
    case OP_LIKE:
        if (nfc_of(ck, c, &c->nfc, &c->nfc_len))
            latin1_of(ck, c);
        break;
    case OP_MATCHES:
        compile_regex(ck, c);
        break;
    case OP_ISSUBSET:
    case OP_ISSUPERSET:
        if (!cairn__pat_cidr_parse(c->lit.s, c->lit.len, &c->cidr))
            fail(ck, c->lit_line, c->lit_column, "pattern-cidr",
                 "%s needs an IPv4 or IPv6 address or CIDR such as "
                 "'198.51.100.0/24', not '%.60s'",
                 c->op == OP_ISSUBSET ? "ISSUBSET" : "ISSUPERSET", c->lit.s);
        break;
    default:
        break;
    }
}

static void check_oexpr(struct checker *ck, struct oexpr *e)
{
    if (ck->rc != 0)
        return;
    switch (e->kind) {
    case OE_OBS:
        check_cexpr(ck, e->cmp);
        return;
    case OE_AND:
    case OE_OR:
    case OE_FOLLOWEDBY:
        check_oexpr(ck, e->l);
        check_oexpr(ck, e->r);
        return;
    case OE_WITHIN: {
        double v =
            e->within.kind == LIT_INT ? (double)e->within.i : e->within.f;
        if (!(v > 0)) {
            fail(ck, e->q_line, e->q_column, "pattern-within",
                 "WITHIN needs a positive number of seconds");
            return;
        }
        if (v > (double)MAX_WITHIN_SEC) {
            fail(ck, e->q_line, e->q_column, "pattern-within",
                 "WITHIN value over the limit of %lld seconds",
                 (long long)MAX_WITHIN_SEC);
            return;
        }
        if (e->within.kind == LIT_INT) {
            e->within_sec = e->within.i;
            e->within_nsec = 0;
        } else {
            double s = floor(v);
            e->within_sec = (int64_t)s;
            e->within_nsec = (int32_t)llround((v - s) * 1e9);
            if (e->within_nsec >= 1000000000) {
                e->within_sec++;
                e->within_nsec -= 1000000000;
            }
        }
        break;
    }
    case OE_REPEATS:
        if (e->repeats <= 0) {
            fail(ck, e->q_line, e->q_column, "pattern-repeats",
                 "REPEATS needs a positive count");
            return;
        }
        if (e->repeats > MAX_REPEATS) {
            fail(ck, e->q_line, e->q_column, "pattern-repeats",
                 "REPEATS count over the limit of %d", MAX_REPEATS);
            return;
        }
        break;
    case OE_STARTSTOP:
        if (cairn_time_cmp(&e->start, &e->stop) >= 0) {
            fail(ck, e->q_line, e->q_column, "pattern-start-stop",
                 "START must be before STOP");
            return;
        }
        break;
    }
    check_oexpr(ck, e->l);
}

int cairn__pat_check(struct cairn_pattern *p, struct cairn_diag *diag)
{
    struct checker ck = {diag, p->arena, NULL, 0, 0};
    check_oexpr(&ck, p->root);
    cairn_free(ck.ucs);
    return ck.rc;
}

/* ---- STIX naming, for strict validation ----------------------------------
 */

struct names {
    struct cairn_diag *diag;
    bool ok;
};

static void names_cexpr(struct names *nm, const struct cexpr *c)
{
    if (!nm->ok)
        return;
    if (c->kind != CE_CMP) {
        names_cexpr(nm, c->l);
        names_cexpr(nm, c->r);
        return;
    }
    const struct path *p = &c->path;
    const struct step *first = &p->steps[0];
    if (!type_name_ok(p->type, p->type_len)) {
        nm->ok = false;
        cairn_diag_set(nm->diag, CAIRN_SEV_WARNING, "pattern-object-type",
                       "object type '%.60s' does not follow STIX naming: "
                       "lowercase letters, digits and inner hyphens",
                       p->type);
        if (nm->diag != NULL) {
            nm->diag->line = p->line;
            nm->diag->column = p->column;
        }
    } else if (!property_name_ok(first->key, first->key_len)) {
        nm->ok = false;
        cairn_diag_set(nm->diag, CAIRN_SEV_WARNING, "pattern-property-name",
                       "property name '%.60s' does not follow STIX naming: "
                       "lowercase letters, digits and '_'",
                       first->key);
        if (nm->diag != NULL) {
            nm->diag->line = first->line;
            nm->diag->column = first->column;
        }
    }
}

static void names_oexpr(struct names *nm, const struct oexpr *e)
{
    if (e == NULL || !nm->ok)
        return;
    if (e->kind == OE_OBS) {
        names_cexpr(nm, e->cmp);
        return;
    }
    names_oexpr(nm, e->l);
    names_oexpr(nm, e->r);
}

bool cairn_pattern_check_names(const struct cairn_pattern *p,
                               struct cairn_diag *diag)
{
    struct names nm = {diag, true};
    if (p != NULL)
        names_oexpr(&nm, p->root);
    return nm.ok;
}

static void release_cexpr(struct cexpr *c)
{
    if (c == NULL)
        return;
    if (c->kind != CE_CMP) {
        release_cexpr(c->l);
        release_cexpr(c->r);
        return;
    }
    pcre2_code_free(c->re);
    pcre2_code_free(c->re_bytes);
    c->re = NULL;
    c->re_bytes = NULL;
}

void cairn__pat_release_regexes(struct oexpr *e)
{
    if (e == NULL)
        return;
    if (e->kind == OE_OBS) {
        release_cexpr(e->cmp);
        return;
    }
    cairn__pat_release_regexes(e->l);
    cairn__pat_release_regexes(e->r);
}
