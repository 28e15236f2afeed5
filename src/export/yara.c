/* SPDX-License-Identifier: Apache-2.0 */
/* YARA rules of indicators: renamed apart, imports gathered, compiled. */
#include <string.h>

#include <yara.h>

#include "export/export_int.h"

/* Longest identifier libyara takes. */
#define IDENT_MAX 128
/* Rules one indicator may declare. */
#define RULES_MAX 4096

enum tok {
    T_END,
    T_SPACE,   /* blanks and comments */
    T_IDENT,   /* a name, or a keyword */
    T_VAR,     /* $a, #a, @a, !a and their wildcards */
    T_STRING,  /* "..." */
    T_REGEX,   /* /.../flags */
    T_HEX,     /* { ... } after '=' */
    T_PUNCT,   /* one other byte */
    T_BAD,     /* unterminated string, comment or regex */
};

struct lex {
    const char *s;
    size_t len, pos;
    enum tok prev;     /* the last significant token */
    size_t prev_start, prev_end;
};

static bool ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
    return ident_start(c) || (c >= '0' && c <= '9');
}

static bool prev_is(const struct lex *l, const char *word)
{
    size_t n = strlen(word);
    return l->prev_end - l->prev_start == n &&
           memcmp(l->s + l->prev_start, word, n) == 0;
}

/* The next token at l->pos: its kind, [*start, l->pos). */
static enum tok next(struct lex *l, size_t *start)
{
    const char *s = l->s;
    size_t i = l->pos, len = l->len;
    enum tok t;

    *start = i;
    if (i >= len)
        return T_END;
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
        c == '\v') {
        while (i < len && strchr(" \t\r\n\f\v", s[i]) != NULL && s[i] != 0)
            i++;
        l->pos = i;
        return T_SPACE;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '/') {
        while (i < len && s[i] != '\n')
            i++;
        l->pos = i;
        return T_SPACE;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '*') {
        const char *e = NULL;
        for (size_t k = i + 2; k + 1 < len; k++) {
            if (s[k] == '*' && s[k + 1] == '/') {
                e = s + k + 2;
                break;
            }
        }
        if (e == NULL)
            return T_BAD;
        l->pos = (size_t)(e - s);
        return T_SPACE;
    }
    if (c == '"') {
        for (i++; i < len && s[i] != '"' && s[i] != '\n'; i++)
            if (s[i] == '\\')
                i++;
        if (i >= len || s[i] != '"')
            return T_BAD;
        i++;
        t = T_STRING;
    } else if (c == '/' && l->prev == T_PUNCT && prev_is(l, "=")) {
        goto regex;
    } else if (c == '/' && l->prev == T_IDENT && prev_is(l, "matches")) {
    regex:
        for (i++; i < len && s[i] != '/' && s[i] != '\n'; i++)
            if (s[i] == '\\')
                i++;
        if (i >= len || s[i] != '/')
            return T_BAD;
        for (i++; i < len && ident_char(s[i]); i++)
            ;
        t = T_REGEX;
    } else if (c == '{' && l->prev == T_PUNCT && prev_is(l, "=")) {
        for (i++; i < len && s[i] != '}'; i++)
            ;
        if (i >= len)
            return T_BAD;
        i++;
        t = T_HEX;
    } else if (c == '$' || c == '#' || c == '@' || c == '!') {
        for (i++; i < len && (ident_char(s[i]) || s[i] == '*'); i++)
            ;
        t = T_VAR;
    } else if (ident_start(c)) {
        for (i++; i < len && ident_char(s[i]); i++)
            ;
        t = T_IDENT;
    } else {
        i++;
        t = T_PUNCT;
    }
    l->pos = i;
    l->prev = t;
    l->prev_start = *start;
    l->prev_end = i;
    return t;
}

/* The next significant token. */
static enum tok next_sig(struct lex *l, size_t *start)
{
    enum tok t;
    do
        t = next(l, start);
    while (t == T_SPACE);
    return t;
}

struct names {
    const char *p[RULES_MAX];
    size_t n[RULES_MAX];
    size_t count;
};

static bool is_declared(const struct names *d, const char *p, size_t n)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->n[i] == n && memcmp(d->p[i], p, n) == 0)
            return true;
    return false;
}

static int why_set(char *why, size_t cap, const char *msg)
{
    snprintf(why, cap, "%s", msg);
    return CAIRN_EINVALID;
}

int cairn_export_yara_rename(const char *src, size_t len, const char *prefix,
                             struct cairn_buf *out, struct cairn_buf *imports,
                             char *why, size_t why_len)
{
    struct names *d = cairn_calloc(1, sizeof *d);
    struct lex l = {.s = src, .len = len, .prev = T_END};
    size_t st, plen = strlen(prefix);
    enum tok t;
    int rc = CAIRN_EINVALID;

    if (d == NULL)
        return CAIRN_ENOMEM;
    if (memchr(src, '\0', len) != NULL) {
        rc = why_set(why, why_len, "a NUL byte in the rules");
        goto out;
    }
    /* first pass: the names declared, imports, no include */
    while ((t = next_sig(&l, &st)) != T_END) {
        if (t == T_BAD) {
            rc = why_set(why, why_len,
                         "an unterminated string, comment or regex");
            goto out;
        }
        if (t != T_IDENT)
            continue;
        size_t n = l.pos - st;
        if (n == 7 && memcmp(src + st, "include", 7) == 0) {
            rc = why_set(why, why_len, "'include' is not exported");
            goto out;
        }
        if (n == 4 && memcmp(src + st, "rule", 4) == 0) {
            t = next_sig(&l, &st);
            if (t != T_IDENT) {
                rc = why_set(why, why_len, "'rule' without a name");
                goto out;
            }
            if (l.pos - st + plen > IDENT_MAX) {
                rc = why_set(why, why_len, "a rule name too long to rename");
                goto out;
            }
            if (d->count == RULES_MAX) {
                rc = why_set(why, why_len, "more than 4096 rules");
                goto out;
            }
            d->p[d->count] = src + st;
            d->n[d->count++] = l.pos - st;
        }
    }
    if (d->count == 0) {
        rc = why_set(why, why_len, "no rule in the YARA text");
        goto out;
    }
    /* second pass: write, renaming declarations and condition references */
    l = (struct lex){.s = src, .len = len, .prev = T_END};
    int depth = 0;
    bool in_cond = false;
    size_t start_out = out->len;
    rc = 0;
    while (rc == 0 && (t = next(&l, &st)) != T_END) {
        size_t n = l.pos - st;
        if (t == T_IDENT && n == 6 && memcmp(src + st, "import", 6) == 0 &&
            depth == 0) {
            size_t s2;
            enum tok t2 = next_sig(&l, &s2);
            if (t2 != T_STRING) {
                rc = why_set(why, why_len, "'import' without a module name");
                break;
            }
            char line[300];
            int ln = snprintf(line, sizeof line, "import %.*s\n",
                              (int)(l.pos - s2), src + s2);
            if (ln < 0 || (size_t)ln >= sizeof line) {
                rc = why_set(why, why_len, "a module name too long");
                break;
            }
            bool seen = false;
            for (size_t k = 0; k + (size_t)ln <= imports->len; k++) {
                if ((k == 0 || imports->data[k - 1] == '\n') &&
                    memcmp(imports->data + k, line, (size_t)ln) == 0) {
                    seen = true;
                    break;
                }
            }
            if (!seen)
                rc = cairn_buf_append(imports, line, (size_t)ln);
            continue;
        }
        if (t == T_IDENT && n == 4 && memcmp(src + st, "rule", 4) == 0) {
            rc = cairn_buf_append(out, src + st, n);
            size_t s2;
            enum tok t2;
            while (rc == 0 && (t2 = next(&l, &s2)) == T_SPACE)
                rc = cairn_buf_append(out, src + s2, l.pos - s2);
            if (rc == 0)
                rc = cairn_buf_append(out, prefix, plen);
            if (rc == 0)
                rc = cairn_buf_append(out, src + s2, l.pos - s2);
            in_cond = false;
            continue;
        }
        if (t == T_PUNCT && src[st] == '{')
            depth++;
        if (t == T_PUNCT && src[st] == '}') {
            depth--;
            if (depth <= 0)
                in_cond = false;
        }
        if (t == T_IDENT && depth > 0 && n == 9 &&
            memcmp(src + st, "condition", 9) == 0)
            in_cond = true;
        if (t == T_IDENT && in_cond && is_declared(d, src + st, n) &&
            !(st > 0 && src[st - 1] == '.')) {
            rc = cairn_buf_append(out, prefix, plen);
            if (rc != 0)
                break;
        }
        rc = cairn_buf_append(out, src + st, n);
    }
    if (rc == 0 && (out->len == start_out || out->data[out->len - 1] != '\n'))
        rc = cairn_buf_putc(out, '\n');
out:
    cairn_free(d);
    return rc;
}

/* ---- libyara ------------------------------------------------------------ */

struct compile_msg {
    char *text;
    size_t cap;
    bool set;
};

static void compiler_cb(int level, const char *file, int line,
                        const YR_RULE *rule, const char *message, void *ud)
{
    struct compile_msg *m = ud;

    (void)file;
    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR || m->set)
        return;
    snprintf(m->text, m->cap, "line %d: %s", line, message);
    m->set = true;
}

int cairn__export_yara_compile(const char *src, char *why, size_t why_len)
{
    YR_COMPILER *c = NULL;
    YR_RULES *rules = NULL;
    struct compile_msg m = {why, why_len, false};
    int rc = CAIRN_ENOMEM;

    if (yr_initialize() != ERROR_SUCCESS)
        return CAIRN_ENOMEM;
    if (yr_compiler_create(&c) != ERROR_SUCCESS)
        goto out;
    yr_compiler_set_callback(c, compiler_cb, &m);
    if (yr_compiler_add_string(c, src, NULL) != 0) {
        if (!m.set)
            snprintf(why, why_len, "the rules do not compile");
        rc = CAIRN_EINVALID;
        goto out;
    }
    if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS)
        goto out;
    rc = 0;
out:
    if (rules != NULL)
        yr_rules_destroy(rules);
    if (c != NULL)
        yr_compiler_destroy(c);
    yr_finalize();
    return rc;
}
