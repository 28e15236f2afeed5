/* SPDX-License-Identifier: Apache-2.0 */
/* Recursive-descent parser for STIX 2.1 patterns, building the tree. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern_int.h"

/*
 * Grammar (STIX 2.1 section 9), lowest precedence first:
 *
 *   pattern    := obs_fby EOF
 *   obs_fby    := obs_or  ("FOLLOWEDBY" obs_or)*
 *   obs_or     := obs_and ("OR" obs_and)*
 *   obs_and    := obs_qual ("AND" obs_qual)*
 *   obs_qual   := obs_prim qualifier*
 *   obs_prim   := "[" cmp_or "]" | "(" obs_fby ")"
 *   cmp_or     := cmp_and ("OR" cmp_and)*
 *   cmp_and    := cmp_prim ("AND" cmp_prim)*
 *   cmp_prim   := "(" cmp_or ")" | "EXISTS" path | path "NOT"? op literal
 *
 * Binary operators associate to the left, as in the OASIS grammar.
 */

struct parser {
    struct lexer lx;
    struct token tok;
    struct cairn_arena *arena;
    struct cairn_diag *diag;
    const struct cairn_pattern_opts *opts;
    unsigned depth;
    size_t n_cmp;
    size_t n_nodes;
    size_t n_obs;
    int rc; /* first error */
};

static void fail_at(struct parser *ps, int code, size_t offset, unsigned line,
                    unsigned column, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void fail_at(struct parser *ps, int code, size_t offset, unsigned line,
                    unsigned column, const char *rule, const char *fmt, ...)
{
    if (ps->rc != 0)
        return;
    ps->rc = code;
    if (ps->diag == NULL)
        return;
    char msg[sizeof ps->diag->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_set(ps->diag, CAIRN_SEV_ERROR, rule, "%s", msg);
    ps->diag->offset = offset;
    ps->diag->line = line;
    ps->diag->column = column;
}

/* How a token is shown in "found ..." */
static void describe(const struct token *t, char *buf, size_t len)
{
    if (t->kind == T_EOF) {
        snprintf(buf, len, "end of pattern");
        return;
    }
    size_t n = t->len;
    const char *dots = "";
    if (n > 40) {
        n = 40;
        dots = "...";
    }
    snprintf(buf, len, "'%.*s%s'", (int)n, t->text, dots);
}

static void expected(struct parser *ps, const char *what)
{
    char found[64];
    describe(&ps->tok, found, sizeof found);
    fail_at(ps, CAIRN_EPARSE, ps->tok.offset, ps->tok.line, ps->tok.column,
            "pattern-syntax", "expected %s, found %s", what, found);
}

static void advance(struct parser *ps)
{
    if (ps->rc != 0)
        return;
    if (cairn__pat_lex(&ps->lx, &ps->tok) < 0) {
        fail_at(ps, CAIRN_EPARSE, ps->lx.err_offset, ps->lx.err_line,
                ps->lx.err_column, "pattern-syntax", "%s", ps->lx.err);
        ps->tok.kind = T_EOF;
    }
}

static void *node(struct parser *ps, size_t len)
{
    if (++ps->n_nodes > 4 * (size_t)ps->opts->max_comparisons + 16) {
        fail_at(ps, CAIRN_ETOOBIG, ps->tok.offset, ps->tok.line, ps->tok.column,
                "pattern-limit",
                "pattern has too many parts (limit %u comparisons)",
                ps->opts->max_comparisons);
        return NULL;
    }
    void *p = cairn_arena_alloc(ps->arena, len);
    if (p == NULL) {
        if (ps->rc == 0)
            ps->rc = CAIRN_ENOMEM;
        return NULL;
    }
    memset(p, 0, len);
    return p;
}

static bool enter(struct parser *ps)
{
    if (++ps->depth > ps->opts->max_depth) {
        fail_at(ps, CAIRN_ETOOBIG, ps->tok.offset, ps->tok.line, ps->tok.column,
                "pattern-limit", "pattern nested too deeply (limit %u)",
                ps->opts->max_depth);
        return false;
    }
    return true;
}

/* ---- literals --------------------------------------------------------------
 */

/* The body of a quoted token with \' and \\ undone, into the arena. */
static char *unquote(struct parser *ps, const char *q, size_t qlen,
                     size_t *len_out)
{
    /* q points at the opening quote; qlen includes both quotes */
    char *out = cairn_arena_alloc(ps->arena, qlen);
    if (out == NULL) {
        ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 1; i + 1 < qlen; i++) {
        if (q[i] == '\\')
            i++;
        out[n++] = q[i];
    }
    out[n] = '\0';
    *len_out = n;
    return out;
}

/* Turn the current literal token into `lit`; false on error (reported). */
static bool literal(struct parser *ps, struct lit *lit)
{
    const struct token *t = &ps->tok;
    memset(lit, 0, sizeof *lit);
    switch (t->kind) {
    case T_STRING: {
        lit->kind = LIT_STRING;
        lit->s = unquote(ps, t->text, t->len, &lit->len);
        if (lit->s == NULL)
            return false;
        if (!cairn_utf8_valid(lit->s, lit->len) ||
            memchr(lit->s, 0, lit->len)) {
            fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                    "pattern-syntax",
                    "string is not valid UTF-8 or holds a NUL");
            return false;
        }
        return true;
    }
    case T_INT: {
        char buf[32];
        if (t->len >= sizeof buf)
            goto range;
        memcpy(buf, t->text, t->len);
        buf[t->len] = '\0';
        errno = 0;
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (errno != 0 || *end != '\0')
            goto range;
        lit->kind = LIT_INT;
        lit->i = v;
        return true;
    range:
        fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                "pattern-syntax", "integer out of range (64 bits)");
        return false;
    }
    case T_FLOAT: {
        char buf[400];
        if (t->len >= sizeof buf) {
            fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                    "pattern-syntax", "float too long");
            return false;
        }
        memcpy(buf, t->text, t->len);
        buf[t->len] = '\0';
        lit->kind = LIT_FLOAT;
        lit->f = strtod(buf, NULL);
        if (!isfinite(lit->f)) {
            fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                    "pattern-syntax", "float out of range");
            return false;
        }
        const char *txt = t->text;
        size_t tl = t->len;
        if (*txt == '+') {
            txt++;
            tl--;
        }
        lit->text = cairn_arena_strndup(ps->arena, txt, tl);
        lit->text_len = tl;
        if (lit->text == NULL) {
            ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
            return false;
        }
        return true;
    }
    case T_BOOL:
        lit->kind = LIT_BOOL;
        lit->b = t->text[0] == 't';
        return true;
    case T_BINARY:
    case T_HEX: {
        const char *body = t->text + 2;
        size_t blen = t->len - 3;
        uint8_t *bytes = cairn_arena_alloc(ps->arena, blen + 1);
        size_t n = 0;
        if (bytes == NULL) {
            ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
            return false;
        }
        bool ok = t->kind == T_BINARY ? cairn__pat_base64_decode(body, blen, bytes, &n)
                                      : cairn__pat_hex_decode(body, blen, bytes, &n);
        if (!ok) {
            fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                    "pattern-syntax", "%s",
                    t->kind == T_BINARY
                        ? "invalid base64 in binary literal b'...'"
                        : "invalid hex literal h'...' (pairs of hex digits)");
            return false;
        }
        lit->kind = t->kind == T_BINARY ? LIT_BINARY : LIT_HEX;
        lit->s = (const char *)bytes;
        lit->len = n;
        return true;
    }
    case T_TIME: {
        const char *body = t->text + 2;
        size_t blen = t->len - 3;
        if (cairn_time_parse(body, blen, true, &lit->t) != 0) {
            fail_at(ps, CAIRN_EPARSE, t->offset, t->line, t->column,
                    "pattern-timestamp",
                    "invalid timestamp %.*s (the form is "
                    "t'YYYY-MM-DDTHH:MM:SS[.s]Z')",
                    (int)(t->len > 60 ? 60 : t->len), t->text);
            return false;
        }
        lit->kind = LIT_TIME;
        return true;
    }
    default:
        return false;
    }
}

static bool is_literal(enum tok k)
{
    return k == T_STRING || k == T_INT || k == T_FLOAT || k == T_BOOL ||
           k == T_BINARY || k == T_HEX || k == T_TIME;
}

/* ---- object paths
 * ------------------------------------------------------------ */

static bool path_key(struct parser *ps, struct step *st)
{
    st->line = ps->tok.line;
    st->column = ps->tok.column;
    st->kind = STEP_KEY;
    if (ps->tok.kind == T_STRING) {
        st->quoted = true;
        st->key = unquote(ps, ps->tok.text, ps->tok.len, &st->key_len);
    } else if (ps->tok.kind == T_IDENT) {
        if (memchr(ps->tok.text, '-', ps->tok.len) != NULL) {
            fail_at(ps, CAIRN_EPARSE, ps->tok.offset, ps->tok.line,
                    ps->tok.column, "pattern-syntax",
                    "a property name with '-' must be quoted, as in "
                    "hashes.'SHA-256'");
            return false;
        }
        st->key = cairn_arena_strndup(ps->arena, ps->tok.text, ps->tok.len);
        st->key_len = ps->tok.len;
        if (st->key == NULL)
            ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
    } else {
        return false;
    }
    if (st->key == NULL)
        return false;
    advance(ps);
    return ps->rc == 0;
}

#define MAX_STEPS 64

static bool path(struct parser *ps, struct path *p)
{
    p->line = ps->tok.line;
    p->column = ps->tok.column;
    if (ps->tok.kind != T_IDENT) {
        expected(ps, "an object type such as 'file'");
        return false;
    }
    p->type = cairn_arena_strndup(ps->arena, ps->tok.text, ps->tok.len);
    p->type_len = ps->tok.len;
    if (p->type == NULL) {
        ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
        return false;
    }
    advance(ps);
    if (ps->tok.kind != T_COLON) {
        expected(ps, "':' after the object type");
        return false;
    }
    advance(ps);
    struct step steps[MAX_STEPS];
    size_t n = 0;
    if (!path_key(ps, &steps[n])) {
        if (ps->rc == 0)
            expected(ps, "a property name");
        return false;
    }
    n++;
    while (ps->rc == 0 && (ps->tok.kind == T_DOT || ps->tok.kind == T_LBRACK)) {
        if (n == MAX_STEPS) {
            fail_at(ps, CAIRN_ETOOBIG, ps->tok.offset, ps->tok.line,
                    ps->tok.column, "pattern-limit",
                    "object path too long (limit %d steps)", MAX_STEPS);
            return false;
        }
        struct step *st = &steps[n];
        memset(st, 0, sizeof *st);
        if (ps->tok.kind == T_DOT) {
            advance(ps);
            if (!path_key(ps, st)) {
                if (ps->rc == 0)
                    expected(ps, "a property name after '.'");
                return false;
            }
        } else {
            advance(ps);
            st->line = ps->tok.line;
            st->column = ps->tok.column;
            if (ps->tok.kind == T_STAR) {
                st->kind = STEP_ANY;
            } else if (ps->tok.kind == T_INT) {
                struct lit l;
                if (!literal(ps, &l))
                    return false;
                st->kind = STEP_INDEX;
                st->index = l.i;
            } else {
                expected(ps, "a list index or '*'");
                return false;
            }
            advance(ps);
            if (ps->tok.kind != T_RBRACK) {
                expected(ps, "']' to close the list index");
                return false;
            }
            advance(ps);
        }
        n++;
    }
    if (ps->rc != 0)
        return false;
    p->steps = cairn_arena_alloc(ps->arena, n * sizeof *p->steps);
    if (p->steps == NULL) {
        ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
        return false;
    }
    memcpy(p->steps, steps, n * sizeof *p->steps);
    p->n_steps = n;
    return true;
}

/* ---- comparison expressions
 * ---------------------------------------------------- */

static struct cexpr *cmp_or(struct parser *ps);

static struct cexpr *comparison(struct parser *ps)
{
    struct cexpr *c = node(ps, sizeof *c);
    if (c == NULL)
        return NULL;
    if (++ps->n_cmp > ps->opts->max_comparisons) {
        fail_at(ps, CAIRN_ETOOBIG, ps->tok.offset, ps->tok.line, ps->tok.column,
                "pattern-limit", "too many comparisons (limit %u)",
                ps->opts->max_comparisons);
        return NULL;
    }
    c->kind = CE_CMP;
    c->line = ps->tok.line;
    c->column = ps->tok.column;
    if (ps->tok.kind == T_EXISTS) {
        advance(ps);
        c->op = OP_EXISTS;
        if (!path(ps, &c->path))
            return NULL;
        return c;
    }
    if (!path(ps, &c->path))
        return NULL;
    if (ps->tok.kind == T_NOT) {
        c->negated = true;
        advance(ps);
    }
    switch (ps->tok.kind) {
    case T_EQ:
        c->op = OP_EQ;
        break;
    case T_NE:
        c->op = OP_NE;
        break;
    case T_LT:
        c->op = OP_LT;
        break;
    case T_LE:
        c->op = OP_LE;
        break;
    case T_GT:
        c->op = OP_GT;
        break;
    case T_GE:
        c->op = OP_GE;
        break;
    case T_IN:
        c->op = OP_IN;
        break;
    case T_LIKE:
        c->op = OP_LIKE;
        break;
    case T_MATCHES:
        c->op = OP_MATCHES;
        break;
    case T_ISSUBSET:
        c->op = OP_ISSUBSET;
        break;
    case T_ISSUPERSET:
        c->op = OP_ISSUPERSET;
        break;
    default:
        expected(ps, "a comparison operator (=, !=, <, <=, >, >=, IN, "
                     "LIKE, MATCHES, ISSUBSET, ISSUPERSET)");
        return NULL;
    }
    enum tok op_tok = ps->tok.kind;
    advance(ps);
    c->lit_line = ps->tok.line;
    c->lit_column = ps->tok.column;
    if (c->op == OP_IN) {
        if (ps->tok.kind != T_LPAREN) {
            expected(ps, "'(' to start the IN list");
            return NULL;
        }
        advance(ps);
        struct lit items[256];
        size_t n = 0;
        while (ps->rc == 0 && ps->tok.kind != T_RPAREN) {
            if (n > 0) {
                if (ps->tok.kind != T_COMMA) {
                    expected(ps, "',' or ')' in the IN list");
                    return NULL;
                }
                advance(ps);
            }
            if (!is_literal(ps->tok.kind)) {
                expected(ps, "a literal in the IN list");
                return NULL;
            }
            if (n == sizeof items / sizeof items[0]) {
                fail_at(ps, CAIRN_ETOOBIG, ps->tok.offset, ps->tok.line,
                        ps->tok.column, "pattern-limit",
                        "IN list too long (limit %zu values)",
                        sizeof items / sizeof items[0]);
                return NULL;
            }
            if (!literal(ps, &items[n]))
                return NULL;
            n++;
            advance(ps);
        }
        if (ps->rc != 0)
            return NULL;
        advance(ps);
        c->n_set = n;
        c->set = cairn_arena_alloc(ps->arena, (n ? n : 1) * sizeof *c->set);
        if (c->set == NULL) {
            ps->rc = ps->rc ? ps->rc : CAIRN_ENOMEM;
            return NULL;
        }
        memcpy(c->set, items, n * sizeof *c->set);
        return c;
    }
    bool ok;
    const char *want;
    switch (op_tok) {
    case T_EQ:
    case T_NE:
        ok = is_literal(ps->tok.kind);
        want = "a literal";
        break;
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        ok = is_literal(ps->tok.kind) && ps->tok.kind != T_BOOL;
        want = "a literal that can be ordered (not a boolean)";
        break;
    default:
        ok = ps->tok.kind == T_STRING;
        want = "a string";
        break;
    }
    if (!ok) {
        char what[128];
        snprintf(what, sizeof what, "%s after %s", want, cairn__pat_tok_name(op_tok));
        expected(ps, what);
        return NULL;
    }
    if (!literal(ps, &c->lit))
        return NULL;
    advance(ps);
    return c;
}

static struct cexpr *cmp_prim(struct parser *ps)
{
    if (ps->tok.kind == T_LPAREN) {
        if (!enter(ps))
            return NULL;
        advance(ps);
        struct cexpr *e = cmp_or(ps);
        if (e == NULL)
            return NULL;
        if (ps->tok.kind != T_RPAREN) {
            expected(ps, "')' to close the comparison");
            return NULL;
        }
        advance(ps);
        ps->depth--;
        return e;
    }
    if (ps->tok.kind != T_IDENT && ps->tok.kind != T_EXISTS) {
        expected(ps, "a comparison such as file:name = 'x'");
        return NULL;
    }
    return comparison(ps);
}

static struct cexpr *cmp_and(struct parser *ps)
{
    struct cexpr *l = cmp_prim(ps);
    while (l != NULL && ps->rc == 0 && ps->tok.kind == T_AND) {
        advance(ps);
        struct cexpr *r = cmp_prim(ps);
        struct cexpr *n = r ? node(ps, sizeof *n) : NULL;
        if (n == NULL)
            return NULL;
        n->kind = CE_AND;
        n->l = l;
        n->r = r;
        l = n;
    }
    return ps->rc == 0 ? l : NULL;
}

static struct cexpr *cmp_or(struct parser *ps)
{
    struct cexpr *l = cmp_and(ps);
    while (l != NULL && ps->rc == 0 && ps->tok.kind == T_OR) {
        advance(ps);
        struct cexpr *r = cmp_and(ps);
        struct cexpr *n = r ? node(ps, sizeof *n) : NULL;
        if (n == NULL)
            return NULL;
        n->kind = CE_OR;
        n->l = l;
        n->r = r;
        l = n;
    }
    return ps->rc == 0 ? l : NULL;
}

/* ---- observation expressions
 * ---------------------------------------------------- */

static struct oexpr *obs_fby(struct parser *ps);

static struct oexpr *obs_prim(struct parser *ps)
{
    if (ps->tok.kind == T_LBRACK) {
        struct oexpr *o = node(ps, sizeof *o);
        if (o == NULL || !enter(ps))
            return NULL;
        o->kind = OE_OBS;
        o->line = ps->tok.line;
        o->column = ps->tok.column;
        o->index = (unsigned)ps->n_obs++;
        advance(ps);
        o->cmp = cmp_or(ps);
        if (o->cmp == NULL)
            return NULL;
        if (ps->tok.kind != T_RBRACK) {
            expected(ps, "']' to close the observation");
            return NULL;
        }
        advance(ps);
        ps->depth--;
        return o;
    }
    if (ps->tok.kind == T_LPAREN) {
        if (!enter(ps))
            return NULL;
        advance(ps);
        struct oexpr *e = obs_fby(ps);
        if (e == NULL)
            return NULL;
        if (ps->tok.kind != T_RPAREN) {
            expected(ps, "')' to close the observation expression");
            return NULL;
        }
        advance(ps);
        ps->depth--;
        return e;
    }
    expected(ps, "'[' to start an observation");
    return NULL;
}

static struct oexpr *obs_qual(struct parser *ps)
{
    /*
     * A qualifier may not be given twice to one "[...]" (the OASIS
     * validator's rule); on a parenthesised expression it may:
     * "([a] WITHIN 5 SECONDS) WITHIN 6 SECONDS".
     */
    bool simple = ps->tok.kind == T_LBRACK;
    bool seen[3] = {false, false, false};
    struct oexpr *e = obs_prim(ps);
    while (e != NULL && ps->rc == 0 &&
           (ps->tok.kind == T_WITHIN || ps->tok.kind == T_START ||
            ps->tok.kind == T_REPEATS)) {
        enum tok kw = ps->tok.kind;
        int which = kw == T_WITHIN ? 0 : kw == T_REPEATS ? 1 : 2;
        if (simple && seen[which]) {
            fail_at(ps, CAIRN_EINVALID, ps->tok.offset, ps->tok.line,
                    ps->tok.column, "pattern-qualifier",
                    "%s given twice to one observation; put parentheses "
                    "around the first to qualify both",
                    which == 0   ? "WITHIN"
                    : which == 1 ? "REPEATS"
                                 : "START");
            return NULL;
        }
        seen[which] = true;
        struct oexpr *q = node(ps, sizeof *q);
        if (q == NULL)
            return NULL;
        q->l = e;
        q->line = ps->tok.line;
        q->column = ps->tok.column;
        advance(ps);
        q->q_line = ps->tok.line;
        q->q_column = ps->tok.column;
        struct lit l;
        if (kw == T_WITHIN) {
            q->kind = OE_WITHIN;
            if (ps->tok.kind != T_INT && ps->tok.kind != T_FLOAT) {
                expected(ps, "a number of seconds after WITHIN");
                return NULL;
            }
            if (!literal(ps, &q->within))
                return NULL;
            advance(ps);
            if (ps->tok.kind != T_SECONDS) {
                expected(ps, "SECONDS after the WITHIN value");
                return NULL;
            }
            advance(ps);
        } else if (kw == T_REPEATS) {
            q->kind = OE_REPEATS;
            if (ps->tok.kind != T_INT) {
                expected(ps, "an integer after REPEATS");
                return NULL;
            }
            if (!literal(ps, &l))
                return NULL;
            q->repeats = l.i;
            advance(ps);
            if (ps->tok.kind != T_TIMES) {
                expected(ps, "TIMES after the REPEATS count");
                return NULL;
            }
            advance(ps);
        } else {
            q->kind = OE_STARTSTOP;
            if (ps->tok.kind != T_TIME) {
                expected(ps, "a timestamp t'...' after START");
                return NULL;
            }
            if (!literal(ps, &l))
                return NULL;
            q->start = l.t;
            advance(ps);
            if (ps->tok.kind != T_STOP) {
                expected(ps, "STOP after the START timestamp");
                return NULL;
            }
            advance(ps);
            if (ps->tok.kind != T_TIME) {
                expected(ps, "a timestamp t'...' after STOP");
                return NULL;
            }
            if (!literal(ps, &l))
                return NULL;
            q->stop = l.t;
            advance(ps);
        }
        e = q;
    }
    return ps->rc == 0 ? e : NULL;
}

static struct oexpr *obs_binary(struct parser *ps, int level);

static struct oexpr *obs_operand(struct parser *ps, int level)
{
    return level == 2 ? obs_qual(ps) : obs_binary(ps, level + 1);
}

/* level 0: FOLLOWEDBY, 1: OR, 2: AND */
static struct oexpr *obs_binary(struct parser *ps, int level)
{
    static const enum tok ops[] = {T_FOLLOWEDBY, T_OR, T_AND};
    static const enum oexpr_kind kinds[] = {OE_FOLLOWEDBY, OE_OR, OE_AND};
    struct oexpr *l = obs_operand(ps, level);
    while (l != NULL && ps->rc == 0 && ps->tok.kind == ops[level]) {
        unsigned line = ps->tok.line, column = ps->tok.column;
        advance(ps);
        struct oexpr *r = obs_operand(ps, level);
        struct oexpr *n = r ? node(ps, sizeof *n) : NULL;
        if (n == NULL)
            return NULL;
        n->kind = kinds[level];
        n->l = l;
        n->r = r;
        n->line = line;
        n->column = column;
        l = n;
    }
    return ps->rc == 0 ? l : NULL;
}

static struct oexpr *obs_fby(struct parser *ps)
{
    return obs_binary(ps, 0);
}

/* ---- entry point
 * ------------------------------------------------------------------ */

static void collect_leaves(struct oexpr *e, struct oexpr **leaves)
{
    if (e == NULL)
        return;
    if (e->kind == OE_OBS) {
        leaves[e->index] = e;
        return;
    }
    collect_leaves(e->l, leaves);
    collect_leaves(e->r, leaves);
}

int cairn_pattern_parse(const char *text, size_t len,
                        const struct cairn_pattern_opts *opts_in,
                        struct cairn_pattern **out, struct cairn_diag *diag)
{
    int rc = CAIRN_EINTERNAL;
    struct cairn_pattern *p = NULL;
    struct parser ps;
    struct cairn_pattern_opts opts = {0};

    *out = NULL;
    if (opts_in != NULL)
        opts = *opts_in;
    if (opts.max_len == 0)
        opts.max_len = CAIRN_PATTERN_MAX_LEN;
    if (opts.max_depth == 0)
        opts.max_depth = CAIRN_PATTERN_MAX_DEPTH;
    if (opts.max_comparisons == 0)
        opts.max_comparisons = CAIRN_PATTERN_MAX_COMPARISONS;
    if (diag != NULL) {
        /* Keep a file name the caller set; clear the rest. */
        char file[sizeof diag->file];
        memcpy(file, diag->file, sizeof file);
        cairn_diag_clear(diag);
        memcpy(diag->file, file, sizeof file);
    }
    if (text == NULL && len > 0)
        return CAIRN_EINVAL;
    if (len > opts.max_len) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "pattern-limit",
                       "pattern is %zu bytes, over the limit of %zu", len,
                       opts.max_len);
        return CAIRN_ETOOBIG;
    }
    if (memchr(text, '\0', len) != NULL) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "pattern-syntax",
                       "pattern holds a NUL byte");
        return CAIRN_EPARSE;
    }

    p = cairn_calloc(1, sizeof *p);
    if (p == NULL)
        return CAIRN_ENOMEM;
    rc = cairn_arena_new(0, &p->arena);
    if (rc != 0)
        goto out;

    memset(&ps, 0, sizeof ps);
    cairn__pat_lexer_init(&ps.lx, text ? text : "", len);
    ps.arena = p->arena;
    ps.diag = diag;
    ps.opts = &opts;
    advance(&ps);
    if (ps.rc == 0 && ps.tok.kind == T_EOF) {
        expected(&ps, "'[' to start an observation");
    } else {
        p->root = obs_fby(&ps);
        if (ps.rc == 0 && ps.tok.kind != T_EOF) {
            if (ps.tok.kind == T_AND || ps.tok.kind == T_OR ||
                ps.tok.kind == T_FOLLOWEDBY || ps.tok.kind == T_WITHIN ||
                ps.tok.kind == T_START || ps.tok.kind == T_REPEATS ||
                ps.tok.kind == T_RPAREN || ps.tok.kind == T_RBRACK)
                expected(&ps, "end of pattern or an observation operator");
            else
                expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or end of "
                              "pattern");
        }
    }
    if (ps.rc != 0) {
        rc = ps.rc;
        goto out;
    }
    p->n_cmp = ps.n_cmp;
    p->n_obs = ps.n_obs;
    p->leaves = cairn_arena_alloc(p->arena, ps.n_obs * sizeof *p->leaves);
    if (p->leaves == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    collect_leaves(p->root, p->leaves);
    rc = cairn__pat_check(p, diag);
    if (rc != 0)
        goto out;
    *out = p;
    p = NULL;
    rc = 0;
out:
    cairn_pattern_free(p);
    return rc;
}

void cairn_pattern_free(struct cairn_pattern *p)
{
    if (p == NULL)
        return;
    if (p->root != NULL)
        cairn__pat_release_regexes(p->root);
    cairn_arena_free(p->arena);
    cairn_free(p);
}

size_t cairn_pattern_comparison_count(const struct cairn_pattern *p)
{
    return p ? p->n_cmp : 0;
}

size_t cairn_pattern_observation_count(const struct cairn_pattern *p)
{
    return p ? p->n_obs : 0;
}
