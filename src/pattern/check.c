/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of STIX patterns that the grammar cannot express. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

/* Largest REPEATS count and WITHIN value cairn accepts. */
#define MAX_REPEATS    100000
#define MAX_WITHIN_SEC ((int64_t)1000000000000) /* about 31,700 years */

struct checker {
    struct cairn_diag *diag;
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
    if (!type_name_ok(p->type, p->type_len)) {
        fail(ck, p->line, p->column, "pattern-object-type",
             "invalid object type '%.60s': use lowercase letters, digits "
             "and inner hyphens",
             p->type);
        return;
    }
    const struct step *first = &p->steps[0];
    if (!property_name_ok(first->key, first->key_len)) {
        fail(ck, first->line, first->column, "pattern-property-name",
             "invalid property name '%.60s': use lowercase letters, digits "
             "and '_'",
             first->key);
        return;
    }
    for (size_t i = 1; i < p->n_steps; i++) {
        if (p->steps[i].kind == STEP_INDEX && p->steps[i].index < 0) {
            fail(ck, p->steps[i].line, p->steps[i].column, "pattern-list-index",
                 "list index must not be negative (use [*] for any)");
            return;
        }
    }
}

static void compile_regex(struct checker *ck, struct cexpr *c)
{
    int err;
    PCRE2_SIZE erroff;
    c->re = pcre2_compile((PCRE2_SPTR)c->lit.s, c->lit.len, PCRE2_UTF, &err,
                          &erroff, NULL);
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
    /* Binary values are matched byte by byte, without UTF. */
    c->re_bytes =
        pcre2_compile((PCRE2_SPTR)c->lit.s, c->lit.len, 0, &err, &erroff, NULL);
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
    switch (c->op) {
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
    struct checker ck = {diag, 0};
    check_oexpr(&ck, p->root);
    return ck.rc;
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
