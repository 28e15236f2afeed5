/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical text of a pattern, and structural equality of trees. */
#include <string.h>

#include "pattern/pattern_int.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_quoted(struct cairn_buf *b, const char *prefix, const char *s,
                      size_t len)
{
    int rc = cairn_buf_puts(b, prefix);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\'');
    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            rc = cairn_buf_putc(b, '\\');
        if (rc == 0)
            rc = cairn_buf_putc(b, s[i]);
    }
    return rc ? rc : cairn_buf_putc(b, '\'');
}

static int put_lit(struct cairn_buf *b, const struct lit *l)
{
    const uint8_t *u = (const uint8_t *)l->s;
    int rc = 0;
    switch (l->kind) {
    case LIT_INT:
        return cairn_buf_printf(b, "%lld", (long long)l->i);
    case LIT_FLOAT:
        return cairn_buf_append(b, l->text, l->text_len);
    case LIT_BOOL:
        return cairn_buf_puts(b, l->b ? "true" : "false");
    case LIT_STRING:
        return put_quoted(b, "", l->s, l->len);
    case LIT_HEX:
        rc = cairn_buf_puts(b, "h'");
        for (size_t i = 0; rc == 0 && i < l->len; i++)
            rc = cairn_buf_printf(b, "%02x", u[i]);
        return rc ? rc : cairn_buf_putc(b, '\'');
    case LIT_BINARY:
        rc = cairn_buf_puts(b, "b'");
        for (size_t i = 0; rc == 0 && i < l->len; i += 3) {
            uint32_t w = (uint32_t)u[i] << 16;
            if (i + 1 < l->len)
                w |= (uint32_t)u[i + 1] << 8;
            if (i + 2 < l->len)
                w |= u[i + 2];
            char q[4] = {b64[w >> 18], b64[(w >> 12) & 63],
                         i + 1 < l->len ? b64[(w >> 6) & 63] : '=',
                         i + 2 < l->len ? b64[w & 63] : '='};
            rc = cairn_buf_append(b, q, 4);
        }
        return rc ? rc : cairn_buf_putc(b, '\'');
    case LIT_TIME: {
        char t[40];
        int n = cairn_time_format(&l->t, -1, t, sizeof t);
        if (n < 0)
            return n;
        rc = cairn_buf_puts(b, "t'");
        if (rc == 0)
            rc = cairn_buf_append(b, t, (size_t)n);
        return rc ? rc : cairn_buf_putc(b, '\'');
    }
    }
    return CAIRN_EINTERNAL;
}

static bool plain_key(const char *s, size_t len)
{
    static const char *const words[] = {
        "AND",      "OR",         "NOT",     "FOLLOWEDBY", "LIKE",  "MATCHES",
        "ISSUBSET", "ISSUPERSET", "EXISTS",  "IN",         "START", "STOP",
        "SECONDS",  "WITHIN",     "REPEATS", "TIMES",      "true",  "false"};
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    /* b'..', h'..', t'..' would lex as literals only with a quote after. */
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0)
            return false;
    return true;
}

static int put_key(struct cairn_buf *b, const struct step *st)
{
    if (plain_key(st->key, st->key_len))
        return cairn_buf_append(b, st->key, st->key_len);
    return put_quoted(b, "", st->key, st->key_len);
}

static int put_path(struct cairn_buf *b, const struct path *p)
{
    int rc = cairn_buf_append(b, p->type, p->type_len);
    if (rc == 0)
        rc = cairn_buf_putc(b, ':');
    for (size_t i = 0; rc == 0 && i < p->n_steps; i++) {
        const struct step *st = &p->steps[i];
        if (st->kind == STEP_KEY) {
            if (i > 0)
                rc = cairn_buf_putc(b, '.');
            if (rc == 0)
                rc = put_key(b, st);
        } else if (st->kind == STEP_ANY) {
            rc = cairn_buf_puts(b, "[*]");
        } else {
            rc = cairn_buf_printf(b, "[%lld]", (long long)st->index);
        }
    }
    return rc;
}

static const char *op_text(enum cmp_op op)
{
    static const char *const names[] = {
        [OP_EQ] = "=",
        [OP_NE] = "!=",
        [OP_LT] = "<",
        [OP_LE] = "<=",
        [OP_GT] = ">",
        [OP_GE] = ">=",
        [OP_IN] = "IN",
        [OP_LIKE] = "LIKE",
        [OP_MATCHES] = "MATCHES",
        [OP_ISSUBSET] = "ISSUBSET",
        [OP_ISSUPERSET] = "ISSUPERSET",
        [OP_EXISTS] = "EXISTS",
    };
    return names[op];
}

static int cprec(const struct cexpr *c)
{
    return c->kind == CE_OR ? 1 : c->kind == CE_AND ? 2 : 3;
}

static int put_cexpr(struct cairn_buf *b, const struct cexpr *c);

static int put_csub(struct cairn_buf *b, const struct cexpr *c, bool paren)
{
    int rc = paren ? cairn_buf_putc(b, '(') : 0;
    if (rc == 0)
        rc = put_cexpr(b, c);
    if (rc == 0 && paren)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

static int put_cexpr(struct cairn_buf *b, const struct cexpr *c)
{
    int rc;
    if (c->kind != CE_CMP) {
        int p = cprec(c);
        rc = put_csub(b, c->l, cprec(c->l) < p);
        if (rc == 0)
            rc = cairn_buf_puts(b, c->kind == CE_AND ? " AND " : " OR ");
        if (rc == 0)
            rc = put_csub(b, c->r, cprec(c->r) <= p);
        return rc;
    }
    if (c->op == OP_EXISTS) {
        rc = cairn_buf_puts(b, "EXISTS ");
        return rc ? rc : put_path(b, &c->path);
    }
    rc = put_path(b, &c->path);
    if (rc == 0 && c->negated)
        rc = cairn_buf_puts(b, " NOT");
    if (rc == 0)
        rc = cairn_buf_printf(b, " %s ", op_text(c->op));
    if (rc != 0)
        return rc;
    if (c->op != OP_IN)
        return put_lit(b, &c->lit);
    rc = cairn_buf_putc(b, '(');
    for (size_t i = 0; rc == 0 && i < c->n_set; i++) {
        if (i > 0)
            rc = cairn_buf_puts(b, ", ");
        if (rc == 0)
            rc = put_lit(b, &c->set[i]);
    }
    return rc ? rc : cairn_buf_putc(b, ')');
}

static int oprec(const struct oexpr *e)
{
    switch (e->kind) {
    case OE_FOLLOWEDBY:
        return 1;
    case OE_OR:
        return 2;
    case OE_AND:
        return 3;
    default:
        return 4;
    }
}

/*
 * Whether `e`, a chain of qualifiers on one "[...]", already has a
 * qualifier of kind `k`: a second one must then be written around
 * parentheses, as the parser refuses it on the bare observation.
 */
static bool repeats_kind(const struct oexpr *e, enum oexpr_kind k)
{
    bool same = false;
    for (; e->kind == OE_WITHIN || e->kind == OE_REPEATS ||
           e->kind == OE_STARTSTOP;
         e = e->l)
        same = same || e->kind == k;
    return same && e->kind == OE_OBS;
}

static int put_osub(struct cairn_buf *b, const struct oexpr *e, bool paren)
{
    int rc = paren ? cairn_buf_putc(b, '(') : 0;
    if (rc == 0)
        rc = cairn__pat_print_oexpr(e, b);
    if (rc == 0 && paren)
        rc = cairn_buf_putc(b, ')');
    return rc;
}

int cairn__pat_print_oexpr(const struct oexpr *e, struct cairn_buf *b)
{
    int rc;
    char t1[40], t2[40];
    switch (e->kind) {
    case OE_OBS:
        rc = cairn_buf_putc(b, '[');
        if (rc == 0)
            rc = put_cexpr(b, e->cmp);
        return rc ? rc : cairn_buf_putc(b, ']');
    case OE_AND:
    case OE_OR:
    case OE_FOLLOWEDBY: {
        int p = oprec(e);
        rc = put_osub(b, e->l, oprec(e->l) < p);
        if (rc == 0)
            rc = cairn_buf_puts(b, e->kind == OE_AND  ? " AND "
                                   : e->kind == OE_OR ? " OR "
                                                      : " FOLLOWEDBY ");
        return rc ? rc : put_osub(b, e->r, oprec(e->r) <= p);
    }
    default:
        break;
    }
    rc = put_osub(b, e->l, oprec(e->l) < 4 || repeats_kind(e->l, e->kind));
    if (rc != 0)
        return rc;
    switch (e->kind) {
    case OE_WITHIN:
        rc = cairn_buf_puts(b, " WITHIN ");
        if (rc == 0)
            rc = put_lit(b, &e->within);
        return rc ? rc : cairn_buf_puts(b, " SECONDS");
    case OE_REPEATS:
        return cairn_buf_printf(b, " REPEATS %lld TIMES",
                                (long long)e->repeats);
    case OE_STARTSTOP:
        if (cairn_time_format(&e->start, -1, t1, sizeof t1) < 0 ||
            cairn_time_format(&e->stop, -1, t2, sizeof t2) < 0)
            return CAIRN_EINTERNAL;
        return cairn_buf_printf(b, " START t'%s' STOP t'%s'", t1, t2);
    default:
        return CAIRN_EINTERNAL;
    }
}

int cairn_pattern_print(const struct cairn_pattern *p, char **out,
                        size_t *len_out)
{
    struct cairn_buf b;
    *out = NULL;
    if (len_out != NULL)
        *len_out = 0;
    /* Canonical text is never much longer than the input limit allows. */
    cairn_buf_init(&b, (size_t)64 << 20);
    int rc = cairn__pat_print_oexpr(p->root, &b);
    if (rc != 0) {
        cairn_buf_release(&b);
        return rc;
    }
    if (b.data == NULL && cairn_buf_reserve(&b, 1) != 0)
        return CAIRN_ENOMEM;
    *out = cairn_buf_steal(&b, len_out);
    return *out ? 0 : CAIRN_ENOMEM;
}

/* ---- equality -------------------------------------------------------------
 */

static bool lit_equal(const struct lit *a, const struct lit *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case LIT_INT:
        return a->i == b->i;
    case LIT_FLOAT:
        return a->f == b->f;
    case LIT_BOOL:
        return a->b == b->b;
    case LIT_TIME:
        return cairn_time_cmp(&a->t, &b->t) == 0 && a->t.digits == b->t.digits;
    default:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    }
}

static bool path_equal(const struct path *a, const struct path *b)
{
    if (strcmp(a->type, b->type) != 0 || a->n_steps != b->n_steps)
        return false;
    for (size_t i = 0; i < a->n_steps; i++) {
        const struct step *x = &a->steps[i], *y = &b->steps[i];
        if (x->kind != y->kind)
            return false;
        if (x->kind == STEP_KEY &&
            (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len)))
            return false;
        if (x->kind == STEP_INDEX && x->index != y->index)
            return false;
    }
    return true;
}

static bool cexpr_equal(const struct cexpr *a, const struct cexpr *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind != CE_CMP)
        return cexpr_equal(a->l, b->l) && cexpr_equal(a->r, b->r);
    if (a->op != b->op || a->negated != b->negated ||
        !path_equal(&a->path, &b->path))
        return false;
    if (a->op == OP_EXISTS)
        return true;
    if (a->op != OP_IN)
        return lit_equal(&a->lit, &b->lit);
    if (a->n_set != b->n_set)
        return false;
    for (size_t i = 0; i < a->n_set; i++)
        if (!lit_equal(&a->set[i], &b->set[i]))
            return false;
    return true;
}

bool cairn__pat_ast_equal(const struct oexpr *a, const struct oexpr *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case OE_OBS:
        return cexpr_equal(a->cmp, b->cmp);
    case OE_AND:
    case OE_OR:
    case OE_FOLLOWEDBY:
        return cairn__pat_ast_equal(a->l, b->l) && cairn__pat_ast_equal(a->r, b->r);
    case OE_WITHIN:
        if (!lit_equal(&a->within, &b->within))
            return false;
        break;
    case OE_REPEATS:
        if (a->repeats != b->repeats)
            return false;
        break;
    case OE_STARTSTOP:
        if (cairn_time_cmp(&a->start, &b->start) != 0 ||
            cairn_time_cmp(&a->stop, &b->stop) != 0)
            return false;
        break;
    }
    return cairn__pat_ast_equal(a->l, b->l);
}
