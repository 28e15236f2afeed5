/* SPDX-License-Identifier: Apache-2.0 */
/* A read-only postfix walk over a parsed pattern, for indexers. */
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

#define PATH_MAX_LEN 1024

struct walk {
    cairn_pattern_walk_cb cb;
    void *ud;
    char path[PATH_MAX_LEN];
};

static bool key_needs_quotes(const char *k, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (k[i] == '.' || k[i] == '[' || k[i] == '\'')
            return true;
    return false;
}

/* The property path as text; false when it does not fit. */
static bool path_text(const struct path *p, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct step *st = &p->steps[i];
        int n;
        if (st->kind == STEP_KEY) {
            bool q = key_needs_quotes(st->key, st->key_len);
            if (st->key_len > (size_t)(PATH_MAX_LEN - 8))
                return false;
            n = snprintf(buf + o, cap - o, "%s%s%.*s%s", o > 0 ? "." : "",
                         q ? "'" : "", (int)st->key_len, st->key, q ? "'" : "");
        } else if (st->kind == STEP_INDEX) {
            n = snprintf(buf + o, cap - o, "[%lld]", (long long)st->index);
        } else {
            n = snprintf(buf + o, cap - o, "[*]");
        }
        if (n < 0 || (size_t)n >= cap - o)
            return false;
        o += (size_t)n;
    }
    return true;
}

static enum cairn_pattern_op public_op(enum cmp_op op)
{
    switch (op) {
    case OP_EQ:
        return CAIRN_PATTERN_OP_EQ;
    case OP_NE:
        return CAIRN_PATTERN_OP_NE;
    case OP_LT:
        return CAIRN_PATTERN_OP_LT;
    case OP_LE:
        return CAIRN_PATTERN_OP_LE;
    case OP_GT:
        return CAIRN_PATTERN_OP_GT;
    case OP_GE:
        return CAIRN_PATTERN_OP_GE;
    case OP_IN:
        return CAIRN_PATTERN_OP_IN;
    case OP_LIKE:
        return CAIRN_PATTERN_OP_LIKE;
    case OP_MATCHES:
        return CAIRN_PATTERN_OP_MATCHES;
    case OP_ISSUBSET:
        return CAIRN_PATTERN_OP_ISSUBSET;
    case OP_ISSUPERSET:
        return CAIRN_PATTERN_OP_ISSUPERSET;
    case OP_EXISTS:
        return CAIRN_PATTERN_OP_EXISTS;
    }
    return CAIRN_PATTERN_OP_EXISTS;
}

static int walk_cexpr(struct walk *w, const struct cexpr *e)
{
    struct cairn_pattern_walk_item it = {0};
    int rc;

    if (e->kind != CE_CMP) {
        rc = walk_cexpr(w, e->l);
        if (rc == 0)
            rc = walk_cexpr(w, e->r);
        if (rc != 0)
            return rc;
        it.node =
            e->kind == CE_AND ? CAIRN_PATTERN_NODE_AND : CAIRN_PATTERN_NODE_OR;
        return w->cb(&it, w->ud);
    }
    if (!path_text(&e->path, w->path, sizeof w->path))
        return CAIRN_ETOOBIG;
    it.node = CAIRN_PATTERN_NODE_CMP;
    it.object_type = e->path.type;
    it.path = w->path;
    it.op = public_op(e->op);
    it.negated = e->negated;
    if (e->op == OP_IN)
        it.n_literals = e->n_set;
    else if (e->op != OP_EXISTS)
        it.n_literals = 1;
    it.internal_ = e;
    return w->cb(&it, w->ud);
}

static int walk_oexpr(struct walk *w, const struct oexpr *e)
{
    struct cairn_pattern_walk_item it = {0};
    int rc;

    switch (e->kind) {
    case OE_OBS:
        rc = walk_cexpr(w, e->cmp);
        it.node = CAIRN_PATTERN_NODE_OBSERVATION;
        break;
    case OE_AND:
    case OE_OR:
    case OE_FOLLOWEDBY:
        rc = walk_oexpr(w, e->l);
        if (rc == 0)
            rc = walk_oexpr(w, e->r);
        it.node = e->kind == OE_AND  ? CAIRN_PATTERN_NODE_OBS_AND
                  : e->kind == OE_OR ? CAIRN_PATTERN_NODE_OBS_OR
                                     : CAIRN_PATTERN_NODE_FOLLOWEDBY;
        break;
    case OE_WITHIN:
    case OE_STARTSTOP:
    case OE_REPEATS:
    default:
        rc = walk_oexpr(w, e->l);
        it.node = e->kind == OE_WITHIN      ? CAIRN_PATTERN_NODE_WITHIN
                  : e->kind == OE_STARTSTOP ? CAIRN_PATTERN_NODE_STARTSTOP
                                            : CAIRN_PATTERN_NODE_REPEATS;
        break;
    }
    if (rc != 0)
        return rc;
    return w->cb(&it, w->ud);
}

int cairn_pattern_walk(const struct cairn_pattern *p, cairn_pattern_walk_cb cb,
                       void *ud)
{
    struct walk w = {.cb = cb, .ud = ud};
    if (p == NULL || p->root == NULL || cb == NULL)
        return CAIRN_EINVAL;
    return walk_oexpr(&w, p->root);
}

bool cairn_pattern_walk_literal(const struct cairn_pattern_walk_item *it,
                                size_t i, struct cairn_pattern_literal *out)
{
    if (it == NULL || it->node != CAIRN_PATTERN_NODE_CMP ||
        it->internal_ == NULL || i >= it->n_literals)
        return false;
    const struct cexpr *e = it->internal_;
    const struct lit *l = e->op == OP_IN ? &e->set[i] : &e->lit;
    memset(out, 0, sizeof *out);
    switch (l->kind) {
    case LIT_INT:
        out->kind = CAIRN_PATTERN_LIT_INT;
        break;
    case LIT_FLOAT:
        out->kind = CAIRN_PATTERN_LIT_FLOAT;
        break;
    case LIT_STRING:
        out->kind = CAIRN_PATTERN_LIT_STRING;
        break;
    case LIT_BOOL:
        out->kind = CAIRN_PATTERN_LIT_BOOL;
        break;
    case LIT_BINARY:
        out->kind = CAIRN_PATTERN_LIT_BINARY;
        break;
    case LIT_HEX:
        out->kind = CAIRN_PATTERN_LIT_HEX;
        break;
    case LIT_TIME:
        out->kind = CAIRN_PATTERN_LIT_TIME;
        break;
    }
    out->s = l->s;
    out->len = l->len;
    out->i = l->i;
    out->f = l->f;
    out->b = l->b;
    out->t = l->t;
    return true;
}
