/* SPDX-License-Identifier: Apache-2.0 */
/* Matching: comparisons per observation, then observation operators. */
#include <stdlib.h>
#include <string.h>

#include "pattern/obs_int.h"
#include "pattern/pattern_int.h"

/*
 * Bounds of the search over combinations of observations (see
 * docs/patterns.md, "Limits"). Reaching one sets result->truncated.
 */
#define MAX_BINDINGS 65536      /* partial matches kept per operator */
#define MAX_STEPS    20000000L  /* pairs and candidates looked at */
#define NEAREST      8          /* partners tried per binding when big */
#define FULL_PRODUCT (1u << 16) /* below this, AND/FOLLOWEDBY try all */
#define ARENA_CAP    ((size_t)512 << 20)
#define MAX_DECODED  ((size_t)16 << 20) /* bytes of one _bin/_hex value */

struct cairn_pattern_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint8_t *bytes; /* decoded _bin / _hex values */
    size_t bytes_alloc;
    int32_t *ucs; /* room for NFC of values (LIKE, MATCHES) */
    size_t ucs_cap;
};

int cairn_pattern_scratch_new(struct cairn_pattern_scratch **out)
{
    struct cairn_pattern_scratch *s = cairn_calloc(1, sizeof *s);
    *out = NULL;
    if (s == NULL)
        return CAIRN_ENOMEM;
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (s->md == NULL || s->mctx == NULL) {
        cairn_pattern_scratch_free(s);
        return CAIRN_ENOMEM;
    }
    /* Catastrophic backtracking ends as "no match", not a hang. */
    pcre2_set_match_limit(s->mctx, 1000000);
    pcre2_set_depth_limit(s->mctx, 10000);
    *out = s;
    return 0;
}

void cairn_pattern_scratch_free(struct cairn_pattern_scratch *s)
{
    if (s == NULL)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    cairn_free(s->bytes);
    cairn_free(s->ucs);
    cairn_free(s);
}

/* ---- comparisons
 * ------------------------------------------------------------- */

struct ectx {
    const struct cairn_observation_set *set;
    const struct obs *o;
    struct cairn_pattern_scratch *scratch;
    bool truncated;
    size_t n_invalid; /* strings compared with t'...' that are not times */
    size_t first_invalid;
};

enum vkind { V_NONE, V_STR, V_BYTES, V_INT, V_REAL, V_BOOL };

struct value {
    enum vkind kind;
    const char *s;
    size_t len;
    int64_t i;
    double f;
    bool b;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static const json_t *resolve(struct ectx *cx, const json_t *ref)
{
    const char *id = json_string_value(ref);
    if (id == NULL)
        return NULL;
    if (cx->o->embedded != NULL)
        return json_object_get(cx->o->embedded, id);
    return cairn__obs_lookup(cx->set, id);
}

static bool decode_into_scratch(struct ectx *cx, const char *s, size_t len,
                                bool hex, struct value *v)
{
    struct cairn_pattern_scratch *sc = cx->scratch;
    size_t need = len + 1;
    if (need > MAX_DECODED)
        return false;
    if (need > sc->bytes_alloc) {
        uint8_t *p = cairn_realloc(sc->bytes, need);
        if (p == NULL)
            return false;
        sc->bytes = p;
        sc->bytes_alloc = need;
    }
    size_t n;
    if (!(hex ? cairn__pat_hex_decode(s, len, sc->bytes, &n)
              : cairn__pat_base64_decode(s, len, sc->bytes, &n)))
        return false;
    v->kind = V_BYTES;
    v->s = (const char *)sc->bytes;
    v->len = n;
    return true;
}

static void classify(struct ectx *cx, const json_t *j, const char *key,
                     struct value *v)
{
    memset(v, 0, sizeof *v);
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->kind = V_STR;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        if (key != NULL && ends_with(key, "_hex"))
            decode_into_scratch(cx, v->s, v->len, true, v);
        else if (key != NULL && ends_with(key, "_bin"))
            decode_into_scratch(cx, v->s, v->len, false, v);
        break;
    case JSON_INTEGER:
        v->kind = V_INT;
        v->i = json_integer_value(j);
        break;
    case JSON_REAL:
        v->kind = V_REAL;
        v->f = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = V_BOOL;
        v->b = json_is_true(j);
        break;
    default:
        v->kind = V_NONE;
        break;
    }
}

#define INCOMPARABLE 2
#define NOT_A_TIME   3 /* a string compared with t'...' that is not a time */

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

/*
 * Compare UTF-8 text with bytes, reading each code point as one byte; the
 * STIX rule for strings against binary. INCOMPARABLE when a code point is
 * 256 or more (or the text is not UTF-8).
 */
static int cmp_text_bytes(const char *s, size_t slen, const char *b,
                          size_t blen)
{
    size_t i = 0, k = 0;
    while (i < slen) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        if (c < 0x80) {
            cp = c;
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < slen) {
            cp = ((c & 0x1Fu) << 6) | ((unsigned char)s[i + 1] & 0x3Fu);
            i += 2;
        } else {
            return INCOMPARABLE;
        }
        if (cp > 0xFF)
            return INCOMPARABLE;
        if (k == blen)
            return 1;
        unsigned char bb = (unsigned char)b[k++];
        if (cp != bb)
            return cp < bb ? -1 : 1;
    }
    return k < blen ? -1 : 0;
}

static int cmp_double(double a, double b)
{
    return a < b ? -1 : a > b ? 1 : a == b ? 0 : INCOMPARABLE;
}

/* value <=> literal: -1, 0, 1, or INCOMPARABLE */
static int compare(const struct value *v, const struct lit *l)
{
    switch (l->kind) {
    case LIT_INT:
        if (v->kind == V_INT)
            return v->i < l->i ? -1 : v->i > l->i;
        if (v->kind == V_REAL)
            return cmp_double(v->f, (double)l->i);
        return INCOMPARABLE;
    case LIT_FLOAT:
        if (v->kind == V_INT)
            return cmp_double((double)v->i, l->f);
        if (v->kind == V_REAL)
            return cmp_double(v->f, l->f);
        return INCOMPARABLE;
    case LIT_BOOL:
        return v->kind == V_BOOL ? (v->b == l->b ? 0 : 1) : INCOMPARABLE;
    case LIT_STRING:
        if (v->kind == V_STR)
            return cmp_bytes(v->s, v->len, l->s, l->len);
        if (v->kind == V_BYTES) {
            int c = cmp_text_bytes(l->s, l->len, v->s, v->len);
            return c == INCOMPARABLE ? c : -c;
        }
        return INCOMPARABLE;
    case LIT_BINARY:
    case LIT_HEX:
        if (v->kind == V_BYTES)
            return cmp_bytes(v->s, v->len, l->s, l->len);
        if (v->kind == V_STR)
            return cmp_text_bytes(v->s, v->len, l->s, l->len);
        return INCOMPARABLE;
    case LIT_TIME: {
        struct cairn_time t;
        if (v->kind != V_STR)
            return INCOMPARABLE;
        if (cairn_time_parse(v->s, v->len, true, &t) != 0)
            return NOT_A_TIME;
        return cairn_time_cmp(&t, &l->t);
    }
    }
    return INCOMPARABLE;
}

static bool regex_match(struct ectx *cx, const pcre2_code *re, const char *s,
                        size_t len)
{
    if (re == NULL)
        return false;
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, cx->scratch->md,
                         cx->scratch->mctx);
    if (rc >= 0)
        return true;
    if (rc != PCRE2_ERROR_NOMATCH)
        cx->truncated = true; /* a limit, or bad UTF-8 in the data */
    return false;
}

/* LIKE over bytes: % any run, _ one byte. */
static bool like_bytes(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t pi = 0, si = 0;
    size_t star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
        } else if (pi < plen && (p[pi] == '_' || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (star_p != (size_t)-1) {
            pi = star_p;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < plen && p[pi] == '%')
        pi++;
    return pi == plen;
}

static bool test_value(struct ectx *cx, const struct cexpr *c, const json_t *j,
                       const char *key)
{
    if (c->op == OP_EXISTS)
        return true;
    struct value v;
    classify(cx, j, key, &v);
    bool r = false;
    int o = 0;
    const char *t;
    size_t tlen;
    switch (c->op) {
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        o = compare(&v, &c->lit);
        r = c->op == OP_EQ   ? o == 0
            : c->op == OP_NE ? o != 0
            : c->op == OP_LT ? o == -1
            : c->op == OP_LE ? o == -1 || o == 0
            : c->op == OP_GT ? o == 1
                             : o == 1 || o == 0;
        break;
    case OP_IN:
        for (size_t i = 0; i < c->n_set && !r && o != NOT_A_TIME; i++) {
            o = compare(&v, &c->set[i]);
            r = o == 0;
        }
        break;
    case OP_LIKE:
        if (v.kind == V_STR) {
            t = cairn__pat_nfc(v.s, v.len, &cx->scratch->ucs,
                               &cx->scratch->ucs_cap, &tlen);
            r = cairn__pat_like(c->nfc, c->nfc_len, t, tlen);
        } else if (v.kind == V_BYTES) {
            r = c->latin1 != NULL &&
                like_bytes(c->latin1, c->latin1_len, v.s, v.len);
        }
        break;
    case OP_MATCHES:
        if (v.kind == V_STR) {
            t = cairn__pat_nfc(v.s, v.len, &cx->scratch->ucs,
                               &cx->scratch->ucs_cap, &tlen);
            r = regex_match(cx, c->re, t, tlen);
        } else if (v.kind == V_BYTES) {
            r = regex_match(cx, c->re_bytes, v.s, v.len);
        }
        break;
    case OP_ISSUBSET:
    case OP_ISSUPERSET: {
        struct cidr vc;
        if (v.kind == V_STR && cairn__pat_cidr_parse(v.s, v.len, &vc))
            r = c->op == OP_ISSUBSET ? cairn__pat_cidr_within(&vc, &c->cidr)
                                     : cairn__pat_cidr_within(&c->cidr, &vc);
        break;
    }
    case OP_EXISTS:
        break;
    }
    if (o == NOT_A_TIME) {
        /* Bad data, not a difference: false whatever the operator says. */
        if (cx->n_invalid++ == 0)
            cx->first_invalid = (size_t)(cx->o - cx->set->obs);
        return false;
    }
    return c->negated ? !r : r;
}

enum refmode { REF_NONE, REF_ONE, REF_LIST };

/*
 * Follow the path from step `i`. Lists and reference lists are "there
 * exists": the comparison holds if it holds for any element reached.
 */
static bool walk(struct ectx *cx, const struct cexpr *c, const json_t *v,
                 size_t i, enum refmode mode, const char *key)
{
    if (i == c->path.n_steps)
        return test_value(cx, c, v, key);
    const struct step *st = &c->path.steps[i];
    if (st->kind == STEP_KEY) {
        if (mode == REF_ONE && json_is_string(v)) {
            v = resolve(cx, v);
            if (v == NULL)
                return false;
        }
        if (!json_is_object(v))
            return false;
        const json_t *child = json_object_get(v, st->key);
        if (child == NULL)
            return false;
        enum refmode m = ends_with(st->key, "_ref")    ? REF_ONE
                         : ends_with(st->key, "_refs") ? REF_LIST
                                                       : REF_NONE;
        return walk(cx, c, child, i + 1, m, st->key);
    }
    if (!json_is_array(v))
        return false;
    enum refmode em = mode == REF_LIST ? REF_ONE : REF_NONE;
    if (st->kind == STEP_INDEX) {
        if ((size_t)st->index >= json_array_size(v))
            return false;
        return walk(cx, c, json_array_get(v, (size_t)st->index), i + 1, em,
                    key);
    }
    for (size_t k = 0; k < json_array_size(v); k++)
        if (walk(cx, c, json_array_get(v, k), i + 1, em, key))
            return true;
    return false;
}

static bool eval_cexpr(struct ectx *cx, const struct cexpr *c,
                       const json_t *root, const char *type)
{
    switch (c->kind) {
    case CE_AND:
        return eval_cexpr(cx, c->l, root, type) &&
               eval_cexpr(cx, c->r, root, type);
    case CE_OR:
        return eval_cexpr(cx, c->l, root, type) ||
               eval_cexpr(cx, c->r, root, type);
    case CE_CMP:
        if (strcmp(type, c->path.type) != 0)
            return false;
        return walk(cx, c, root, 0, REF_NONE, NULL);
    }
    return false;
}

/*
 * An observation matches "[...]" when one of its SCOs makes the whole
 * comparison expression true: every comparison of an AND is about the same
 * SCO (others are reached through references).
 */
static bool eval_leaf(struct ectx *cx, const struct oexpr *leaf, size_t i)
{
    const struct obs *o = &cx->set->obs[i];
    cx->o = o;
    for (size_t k = 0; k < o->n_roots; k++) {
        const json_t *root = cx->set->roots[o->first_root + k];
        const char *type = json_string_value(json_object_get(root, "type"));
        if (type != NULL && eval_cexpr(cx, leaf->cmp, root, type))
            return true;
    }
    return false;
}

/* ---- combinations of observations
 * -------------------------------------------- */

struct use {
    uint32_t obs;
    uint32_t n; /* units of number_observed used */
};

struct bind {
    struct use one; /* when nu == 1 */
    struct use *u;  /* when nu > 1, sorted by obs */
    uint32_t nu;
    bool timed;
    struct cairn_time maxf, minl; /* latest first_observed, earliest last */
};

struct blist {
    struct bind *b;
    size_t n;
    bool singles; /* every binding is one observation used once */
};

struct mctx {
    struct ectx cx;
    const struct cairn_pattern *p;
    struct cairn_arena *arena;
    uint8_t **leaf_hits; /* per leaf, per observation; NULL until needed */
    long steps;
    int rc;
};

static const struct use *uses(const struct bind *b)
{
    return b->nu == 1 ? &b->one : b->u;
}

static bool budget(struct mctx *m, long n)
{
    m->steps += n;
    if (m->steps > MAX_STEPS) {
        m->cx.truncated = true;
        return false;
    }
    return true;
}

static void *m_alloc(struct mctx *m, size_t len)
{
    void *p = cairn_arena_alloc(m->arena, len ? len : 1);
    if (p == NULL) {
        /* Over the arena cap is a bound like any other; out of memory not. */
        if (cairn_arena_used(m->arena) + len > ARENA_CAP / 2)
            m->cx.truncated = true;
        else if (m->rc == 0)
            m->rc = CAIRN_ENOMEM;
    }
    return p;
}

static bool blist_alloc(struct mctx *m, struct blist *l, size_t n)
{
    l->n = 0;
    l->b = m_alloc(m, n * sizeof *l->b);
    return l->b != NULL;
}

static bool time_le_plus(const struct cairn_time *a, const struct cairn_time *b,
                         int64_t sec, int32_t nsec)
{
    /* a <= b + (sec, nsec) */
    int64_t bs = b->sec + sec;
    int64_t bn = (int64_t)b->nsec + nsec;
    if (bn >= 1000000000) {
        bs++;
        bn -= 1000000000;
    }
    return a->sec < bs || (a->sec == bs && a->nsec <= bn);
}

static int tcmp(const struct cairn_time *a, const struct cairn_time *b)
{
    return cairn_time_cmp(a, b);
}

static uint8_t *hits_of(struct mctx *m, const struct oexpr *leaf)
{
    if (m->leaf_hits[leaf->index] != NULL)
        return m->leaf_hits[leaf->index];
    size_t n = m->cx.set->n;
    uint8_t *h = m_alloc(m, n);
    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        h[i] = eval_leaf(&m->cx, leaf, i);
    m->leaf_hits[leaf->index] = h;
    return h;
}

static void single(const struct obs *o, uint32_t i, struct bind *b)
{
    memset(b, 0, sizeof *b);
    b->one.obs = i;
    b->one.n = 1;
    b->nu = 1;
    b->timed = o->timed;
    b->maxf = o->first;
    b->minl = o->last;
}

/* The union of two bindings, or false when they use too many units. */
static bool merge(struct mctx *m, const struct bind *x, const struct bind *y,
                  struct bind *out)
{
    const struct use *a = uses(x), *b = uses(y);
    uint32_t na = x->nu, nb = y->nu, i = 0, k = 0, n = 0;
    struct use *u = m_alloc(m, (size_t)(na + nb) * sizeof *u);
    if (u == NULL)
        return false;
    while (i < na || k < nb) {
        struct use next;
        if (k == nb || (i < na && a[i].obs < b[k].obs)) {
            next = a[i++];
        } else if (i == na || b[k].obs < a[i].obs) {
            next = b[k++];
        } else {
            next.obs = a[i].obs;
            next.n = a[i].n + b[k].n;
            if (next.n > m->cx.set->obs[next.obs].count)
                return false;
            i++;
            k++;
        }
        u[n++] = next;
    }
    memset(out, 0, sizeof *out);
    out->nu = n;
    if (n == 1)
        out->one = u[0];
    else
        out->u = u;
    out->timed = x->timed && y->timed;
    out->maxf = tcmp(&x->maxf, &y->maxf) >= 0 ? x->maxf : y->maxf;
    out->minl = tcmp(&x->minl, &y->minl) <= 0 ? x->minl : y->minl;
    return true;
}

static bool push(struct mctx *m, struct blist *l, size_t cap,
                 const struct bind *b)
{
    if (l->n >= cap) {
        m->cx.truncated = true;
        return false;
    }
    l->b[l->n++] = *b;
    return true;
}

static int by_maxf(const void *a, const void *b)
{
    return tcmp(&((const struct bind *)a)->maxf,
                &((const struct bind *)b)->maxf);
}

static int by_minl(const void *a, const void *b)
{
    return tcmp(&((const struct bind *)a)->minl,
                &((const struct bind *)b)->minl);
}

static struct blist eval_o(struct mctx *m, const struct oexpr *e,
                           const int64_t *within);

static struct blist op_and(struct mctx *m, struct blist L, struct blist R)
{
    struct blist out = {0};
    size_t cap = MAX_BINDINGS;
    if (!blist_alloc(m, &out, cap))
        return out;
    struct bind nb;
    if (L.n * R.n <= FULL_PRODUCT) {
        for (size_t i = 0; i < L.n; i++)
            for (size_t k = 0; k < R.n; k++) {
                if (!budget(m, 1))
                    return out;
                if (merge(m, &L.b[i], &R.b[k], &nb) && !push(m, &out, cap, &nb))
                    return out;
            }
        return out;
    }
    /*
     * Too many pairs to try them all: pair each left binding with the
     * right ones nearest to it in time, which are the pairs a WITHIN above
     * would keep. Untimed bindings sort first.
     */
    qsort(R.b, R.n, sizeof *R.b, by_maxf);
    for (size_t i = 0; i < L.n; i++) {
        size_t lo = 0, hi = R.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tcmp(&R.b[mid].maxf, &L.b[i].maxf) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t found = 0;
        for (size_t d = 0; d < 2 * NEAREST + 2 && found < NEAREST; d++) {
            size_t k;
            if (d % 2 == 0) {
                if (lo + d / 2 >= R.n)
                    continue;
                k = lo + d / 2;
            } else {
                if (d / 2 + 1 > lo)
                    continue;
                k = lo - d / 2 - 1;
            }
            if (!budget(m, 1))
                return out;
            if (merge(m, &L.b[i], &R.b[k], &nb)) {
                found++;
                if (!push(m, &out, cap, &nb))
                    return out;
            }
        }
    }
    return out;
}

static struct blist op_followedby(struct mctx *m, struct blist L,
                                  struct blist R)
{
    struct blist out = {0};
    size_t cap = MAX_BINDINGS;
    if (!blist_alloc(m, &out, cap))
        return out;
    struct bind nb;
    /* The right side must be able to happen at or after the left side. */
    qsort(R.b, R.n, sizeof *R.b, by_minl);
    bool full = L.n * R.n <= FULL_PRODUCT;
    for (size_t i = 0; i < L.n; i++) {
        if (!L.b[i].timed)
            continue;
        size_t lo = 0, hi = R.n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (tcmp(&R.b[mid].minl, &L.b[i].maxf) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t found = 0;
        for (size_t k = lo; k < R.n && (full || found < NEAREST); k++) {
            if (!budget(m, 1))
                return out;
            if (!R.b[k].timed)
                continue;
            if (merge(m, &L.b[i], &R.b[k], &nb)) {
                found++;
                if (!push(m, &out, cap, &nb))
                    return out;
            }
        }
    }
    return out;
}

struct unit {
    uint32_t obs;
    uint32_t n;
    struct cairn_time first, last;
};

static int unit_by_first(const void *a, const void *b)
{
    return tcmp(&((const struct unit *)a)->first,
                &((const struct unit *)b)->first);
}

/* Min-heap of units by last_observed. */
static void heap_push(struct unit *h, size_t *n, struct unit u)
{
    size_t i = (*n)++;
    h[i] = u;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (tcmp(&h[p].last, &h[i].last) <= 0)
            break;
        struct unit t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void heap_pop(struct unit *h, size_t *n)
{
    h[0] = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        if (l < *n && tcmp(&h[l].last, &h[s].last) < 0)
            s = l;
        if (r < *n && tcmp(&h[r].last, &h[s].last) < 0)
            s = r;
        if (s == i)
            break;
        struct unit t = h[s];
        h[s] = h[i];
        h[i] = t;
        i = s;
    }
}

static int use_by_obs(const void *a, const void *b)
{
    uint32_t x = ((const struct use *)a)->obs, y = ((const struct use *)b)->obs;
    return x < y ? -1 : x > y;
}

static bool emit_units(struct mctx *m, struct blist *out, const struct unit *h,
                       size_t nh, uint64_t want)
{
    struct use *u = m_alloc(m, nh * sizeof *u);
    if (u == NULL)
        return false;
    struct bind b;
    memset(&b, 0, sizeof b);
    b.timed = true;
    /* The heap top (earliest last) gives only what is still needed. */
    uint64_t rest = want;
    for (size_t i = nh; i-- > 1;) {
        u[i].obs = h[i].obs;
        u[i].n = h[i].n;
        rest -= h[i].n;
    }
    u[0].obs = h[0].obs;
    u[0].n = (uint32_t)rest;
    for (size_t i = 0; i < nh; i++) {
        const struct obs *o = &m->cx.set->obs[h[i].obs];
        if (i == 0 || tcmp(&o->first, &b.maxf) > 0)
            b.maxf = o->first;
        if (i == 0 || tcmp(&o->last, &b.minl) < 0)
            b.minl = o->last;
        b.timed = b.timed && o->timed;
    }
    qsort(u, nh, sizeof *u, use_by_obs);
    b.nu = (uint32_t)nh;
    if (nh == 1)
        b.one = u[0];
    else
        b.u = u;
    return push(m, out, MAX_BINDINGS, &b);
}

/*
 * REPEATS over single observations: walk them by first_observed keeping,
 * in a heap, the units with the latest last_observed; each step gives the
 * set that best fits a WITHIN window ending there. O(n log n), whatever
 * the count.
 */
static struct blist repeats_singles(struct mctx *m, struct blist C,
                                    uint64_t want, const int64_t *within)
{
    struct blist out = {0};
    if (!blist_alloc(m, &out, MAX_BINDINGS))
        return out;
    /* One unit entry per distinct observation with all its count. */
    struct unit *units = m_alloc(m, C.n * sizeof *units);
    struct unit *heap = m_alloc(m, C.n * sizeof *heap);
    uint8_t *seen = m_alloc(m, m->cx.set->n);
    if (units == NULL || heap == NULL || seen == NULL)
        return out;
    memset(seen, 0, m->cx.set->n);
    size_t nu = 0;
    for (size_t i = 0; i < C.n; i++) {
        uint32_t k = C.b[i].one.obs;
        const struct obs *o = &m->cx.set->obs[k];
        if (seen[k] || (within != NULL && !o->timed))
            continue;
        seen[k] = 1;
        uint64_t cnt = o->count < want ? o->count : want;
        units[nu++] = (struct unit){k, (uint32_t)cnt, o->first, o->last};
    }
    if (!budget(m, (long)nu))
        return out;
    qsort(units, nu, sizeof *units, unit_by_first);
    size_t nh = 0;
    uint64_t total = 0;
    for (size_t j = 0; j < nu; j++) {
        heap_push(heap, &nh, units[j]);
        total += units[j].n;
        while (nh > 0 && total - heap[0].n >= want) {
            total -= heap[0].n;
            heap_pop(heap, &nh);
        }
        if (total < want)
            continue;
        if (within != NULL && !time_le_plus(&units[j].first, &heap[0].last,
                                            within[0], (int32_t)within[1]))
            continue;
        if (!budget(m, (long)nh))
            return out;
        if (!emit_units(m, &out, heap, nh, want))
            return out;
    }
    return out;
}

/* REPEATS over compound bindings: greedy runs in time order. */
static struct blist repeats_general(struct mctx *m, struct blist C,
                                    uint64_t want)
{
    struct blist out = {0};
    if (!blist_alloc(m, &out, MAX_BINDINGS))
        return out;
    qsort(C.b, C.n, sizeof *C.b, by_maxf);
    for (size_t s = 0; s < C.n; s++) {
        struct bind acc = C.b[s];
        uint64_t got = 1;
        for (size_t k = s + 1; k < C.n && got < want; k++) {
            if (!budget(m, 1))
                return out;
            struct bind nb;
            if (merge(m, &acc, &C.b[k], &nb)) {
                acc = nb;
                got++;
            }
        }
        if (got < want)
            break; /* later starts have fewer candidates */
        if (!push(m, &out, MAX_BINDINGS, &acc))
            return out;
    }
    return out;
}

static struct blist eval_o(struct mctx *m, const struct oexpr *e,
                           const int64_t *within)
{
    struct blist out = {0}, L = {0}, R = {0};
    if (m->rc != 0)
        return out;
    switch (e->kind) {
    case OE_OBS: {
        uint8_t *h = hits_of(m, e);
        if (h == NULL)
            return out;
        size_t n = 0;
        for (size_t i = 0; i < m->cx.set->n; i++)
            n += h[i];
        if (!blist_alloc(m, &out, n))
            return out;
        for (size_t i = 0; i < m->cx.set->n; i++)
            if (h[i])
                single(&m->cx.set->obs[i], (uint32_t)i, &out.b[out.n++]);
        out.singles = true;
        return out;
    }
    case OE_OR:
        L = eval_o(m, e->l, NULL);
        R = eval_o(m, e->r, NULL);
        if (!blist_alloc(m, &out, L.n + R.n))
            return out;
        if (L.n > 0)
            memcpy(out.b, L.b, L.n * sizeof *L.b);
        if (R.n > 0)
            memcpy(out.b + L.n, R.b, R.n * sizeof *R.b);
        out.n = L.n + R.n;
        out.singles = L.singles && R.singles;
        return out;
    case OE_AND:
        L = eval_o(m, e->l, NULL);
        R = L.n ? eval_o(m, e->r, NULL) : R;
        return L.n && R.n ? op_and(m, L, R) : out;
    case OE_FOLLOWEDBY:
        L = eval_o(m, e->l, NULL);
        R = L.n ? eval_o(m, e->r, NULL) : R;
        return L.n && R.n ? op_followedby(m, L, R) : out;
    case OE_WITHIN: {
        int64_t w[2] = {e->within_sec, e->within_nsec};
        L = eval_o(m, e->l, w);
        if (!blist_alloc(m, &out, L.n))
            return out;
        for (size_t i = 0; i < L.n; i++)
            if (L.b[i].timed &&
                time_le_plus(&L.b[i].maxf, &L.b[i].minl, w[0], (int32_t)w[1]))
                out.b[out.n++] = L.b[i];
        out.singles = L.singles;
        return out;
    }
    case OE_STARTSTOP:
        L = eval_o(m, e->l, NULL);
        if (!blist_alloc(m, &out, L.n))
            return out;
        for (size_t i = 0; i < L.n; i++)
            if (L.b[i].timed && tcmp(&L.b[i].maxf, &e->stop) < 0 &&
                tcmp(&L.b[i].minl, &e->start) >= 0)
                out.b[out.n++] = L.b[i];
        out.singles = L.singles;
        return out;
    case OE_REPEATS:
        L = eval_o(m, e->l, NULL);
        if (e->repeats == 1 || L.n == 0)
            return L;
        if (L.singles)
            return repeats_singles(m, L, (uint64_t)e->repeats, within);
        return repeats_general(m, L, (uint64_t)e->repeats);
    }
    return out;
}

/* ---- entry points
 * -------------------------------------------------------------- */

static int collect(struct mctx *m, const struct blist *l,
                   struct cairn_match_result *res)
{
    size_t n = m->cx.set->n;
    uint8_t *mark = cairn_calloc(n ? n : 1, 1);
    if (mark == NULL)
        return CAIRN_ENOMEM;
    size_t count = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct use *u = uses(&l->b[i]);
        for (uint32_t k = 0; k < l->b[i].nu; k++)
            if (!mark[u[k].obs]) {
                mark[u[k].obs] = 1;
                count++;
            }
    }
    res->indexes = cairn_malloc((count ? count : 1) * sizeof *res->indexes);
    if (res->indexes == NULL) {
        cairn_free(mark);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (mark[i])
            res->indexes[res->n_indexes++] = i;
    cairn_free(mark);
    return 0;
}

/* Patterns made of observations joined by OR need no bindings at all. */
static bool only_or(const struct oexpr *e)
{
    if (e->kind == OE_OBS)
        return true;
    return e->kind == OE_OR && only_or(e->l) && only_or(e->r);
}

static void mark_or(struct mctx *m, const struct oexpr *e, uint8_t *mark)
{
    if (e->kind == OE_OR) {
        mark_or(m, e->l, mark);
        mark_or(m, e->r, mark);
        return;
    }
    /* Evaluate straight into the mark, skipping observations known. */
    for (size_t i = 0; i < m->cx.set->n; i++)
        if (!mark[i] && eval_leaf(&m->cx, e, i))
            mark[i] = 1;
}

int cairn_pattern_match(const struct cairn_pattern *p,
                        const struct cairn_observation_set *set,
                        struct cairn_pattern_scratch *scratch,
                        struct cairn_match_result *res)
{
    int rc = CAIRN_EINTERNAL;
    struct cairn_pattern_scratch *own = NULL;
    struct mctx m;

    memset(res, 0, sizeof *res);
    memset(&m, 0, sizeof m);
    if (p == NULL || set == NULL || !set->sealed)
        return CAIRN_EINVAL;
    if (scratch == NULL) {
        rc = cairn_pattern_scratch_new(&own);
        if (rc != 0)
            return rc;
        scratch = own;
    }
    m.cx.set = set;
    m.cx.scratch = scratch;
    m.p = p;

    if (only_or(p->root)) {
        uint8_t *mark = cairn_calloc(set->n ? set->n : 1, 1);
        if (mark == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        mark_or(&m, p->root, mark);
        size_t count = 0;
        for (size_t i = 0; i < set->n; i++)
            count += mark[i];
        res->indexes = cairn_malloc((count ? count : 1) * sizeof(size_t));
        if (res->indexes == NULL) {
            cairn_free(mark);
            rc = CAIRN_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < set->n; i++)
            if (mark[i])
                res->indexes[res->n_indexes++] = i;
        cairn_free(mark);
        res->matched = count > 0;
        res->truncated = m.cx.truncated;
        res->n_invalid = m.cx.n_invalid;
        res->first_invalid = m.cx.first_invalid;
        rc = 0;
        goto out;
    }

    if (set->n > UINT32_MAX) {
        rc = CAIRN_ETOOBIG;
        goto out;
    }
    rc = cairn_arena_new(ARENA_CAP, &m.arena);
    if (rc != 0)
        goto out;
    m.leaf_hits = m_alloc(&m, p->n_obs * sizeof *m.leaf_hits);
    if (m.leaf_hits == NULL) {
        rc = m.rc ? m.rc : CAIRN_ENOMEM;
        goto out;
    }
    memset(m.leaf_hits, 0, p->n_obs * sizeof *m.leaf_hits);
    struct blist top = eval_o(&m, p->root, NULL);
    if (m.rc != 0) {
        rc = m.rc;
        goto out;
    }
    rc = collect(&m, &top, res);
    if (rc != 0)
        goto out;
    res->matched = top.n > 0;
    res->truncated = m.cx.truncated;
    res->n_invalid = m.cx.n_invalid;
    res->first_invalid = m.cx.first_invalid;
    rc = 0;
out:
    if (rc != 0)
        cairn_match_result_release(res);
    cairn_arena_free(m.arena);
    cairn_pattern_scratch_free(own);
    return rc;
}

void cairn_match_result_release(struct cairn_match_result *res)
{
    if (res == NULL)
        return;
    cairn_free(res->indexes);
    memset(res, 0, sizeof *res);
}

int cairn_pattern_test_one(const struct cairn_pattern *p,
                           const struct cairn_observation_set *set, size_t i,
                           struct cairn_pattern_scratch *scratch)
{
    if (p == NULL || set == NULL || !set->sealed || i >= set->n ||
        scratch == NULL)
        return CAIRN_EINVAL;
    if (p->root->kind != OE_OBS)
        return CAIRN_EUNSUPPORTED;
    struct ectx cx = {.set = set, .scratch = scratch};
    return eval_leaf(&cx, p->root, i) ? 1 : 0;
}
