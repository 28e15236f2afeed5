/* SPDX-License-Identifier: Apache-2.0 */
/* The tokens of STIX patterns: keywords, punctuation, literals, comments. */
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

static const struct {
    const char *word;
    enum tok kind;
} keywords[] = {
    {"AND", T_AND},           {"OR", T_OR},
    {"NOT", T_NOT},           {"FOLLOWEDBY", T_FOLLOWEDBY},
    {"LIKE", T_LIKE},         {"MATCHES", T_MATCHES},
    {"ISSUBSET", T_ISSUBSET}, {"ISSUPERSET", T_ISSUPERSET},
    {"EXISTS", T_EXISTS},     {"IN", T_IN},
    {"START", T_START},       {"STOP", T_STOP},
    {"SECONDS", T_SECONDS},   {"WITHIN", T_WITHIN},
    {"REPEATS", T_REPEATS},   {"TIMES", T_TIMES},
    {"true", T_BOOL},         {"false", T_BOOL},
};

const char *cairn__pat_tok_name(enum tok k)
{
    switch (k) {
    case T_EOF:
        return "end of pattern";
    case T_LBRACK:
        return "'['";
    case T_RBRACK:
        return "']'";
    case T_LPAREN:
        return "'('";
    case T_RPAREN:
        return "')'";
    case T_COLON:
        return "':'";
    case T_DOT:
        return "'.'";
    case T_COMMA:
        return "','";
    case T_STAR:
        return "'*'";
    case T_EQ:
        return "'='";
    case T_NE:
        return "'!='";
    case T_LT:
        return "'<'";
    case T_LE:
        return "'<='";
    case T_GT:
        return "'>'";
    case T_GE:
        return "'>='";
    case T_IDENT:
        return "a name";
    case T_STRING:
        return "a string";
    case T_INT:
        return "an integer";
    case T_FLOAT:
        return "a float";
    case T_BOOL:
        return "a boolean";
    case T_BINARY:
        return "a binary literal";
    case T_HEX:
        return "a hex literal";
    case T_TIME:
        return "a timestamp";
    default:
        break;
    }
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (keywords[i].kind == k)
            return keywords[i].word;
    return "a token";
}

void cairn__pat_lexer_init(struct lexer *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
}

static unsigned column_at(const struct lexer *lx, size_t pos)
{
    /* Columns count characters, not bytes: skip UTF-8 continuation bytes. */
    unsigned col = 1;
    for (size_t i = lx->line_start; i < pos && i < lx->len; i++)
        if (((unsigned char)lx->src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static int lex_error(struct lexer *lx, size_t pos, const char *msg)
{
    snprintf(lx->err, sizeof lx->err, "%s", msg);
    lx->err_offset = pos;
    lx->err_line = lx->line;
    lx->err_column = column_at(lx, pos);
    return -1;
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Skip blanks and comments, keeping line numbers. */
static int skip_space(struct lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == '\n') {
            lx->pos++;
            lx->line++;
            lx->line_start = lx->pos;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' ||
                   c == '\f') {
            lx->pos++;
        } else if (c == '/' && lx->pos + 1 < lx->len &&
                   lx->src[lx->pos + 1] == '*') {
            size_t start = lx->pos;
            lx->pos += 2;
            for (;;) {
                if (lx->pos + 1 >= lx->len) {
                    lx->pos = start;
                    return lex_error(lx, start, "unterminated comment");
                }
                if (lx->src[lx->pos] == '*' && lx->src[lx->pos + 1] == '/') {
                    lx->pos += 2;
                    break;
                }
                if (lx->src[lx->pos] == '\n') {
                    lx->line++;
                    lx->line_start = lx->pos + 1;
                }
                lx->pos++;
            }
        } else if (c == '/' && lx->pos + 1 < lx->len &&
                   lx->src[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                lx->pos++;
        } else {
            break;
        }
    }
    return 0;
}

/* A quoted body starting at the quote `q`; escapes are \' and \\ only. */
static int lex_quoted(struct lexer *lx, size_t q, size_t *end)
{
    size_t i = q + 1;
    while (i < lx->len) {
        char c = lx->src[i];
        if (c == '\'') {
            *end = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= lx->len)
                break;
            char n = lx->src[i + 1];
            if (n != '\'' && n != '\\') {
                char msg[96];
                unsigned char u = (unsigned char)n;
                if (u >= 0x20 && u < 0x7f)
                    snprintf(msg, sizeof msg,
                             "invalid escape '\\%c' in string "
                             "(only \\' and \\\\ are allowed)",
                             n);
                else
                    snprintf(msg, sizeof msg,
                             "invalid escape in string "
                             "(only \\' and \\\\ are allowed)");
                return lex_error(lx, i, msg);
            }
            i += 2;
            continue;
        }
        if (c == '\n') {
            /* Strings may span lines; keep line numbers right. */
            lx->line++;
            lx->line_start = i + 1;
        }
        i++;
    }
    return lex_error(lx, q, "unterminated string");
}

int cairn__pat_lex(struct lexer *lx, struct token *t)
{
    if (skip_space(lx) < 0)
        return -1;
    size_t start = lx->pos;
    memset(t, 0, sizeof *t);
    t->offset = start;
    t->line = lx->line;
    t->column = column_at(lx, start);
    t->text = lx->src + start;
    if (start >= lx->len) {
        t->kind = T_EOF;
        return 0;
    }
    const char *s = lx->src;
    char c = s[start];
    char n = start + 1 < lx->len ? s[start + 1] : '\0';
    size_t end = start + 1;

    switch (c) {
    case '[':
        t->kind = T_LBRACK;
        break;
    case ']':
        t->kind = T_RBRACK;
        break;
    case '(':
        t->kind = T_LPAREN;
        break;
    case ')':
        t->kind = T_RPAREN;
        break;
    case ':':
        t->kind = T_COLON;
        break;
    case ',':
        t->kind = T_COMMA;
        break;
    case '*':
        t->kind = T_STAR;
        break;
    case '=':
        t->kind = T_EQ;
        if (n == '=')
            end++;
        break;
    case '!':
        if (n != '=')
            return lex_error(lx, start, "'!' must be followed by '='");
        t->kind = T_NE;
        end++;
        break;
    case '<':
        t->kind = T_LT;
        if (n == '=') {
            t->kind = T_LE;
            end++;
        } else if (n == '>') {
            t->kind = T_NE;
            end++;
        }
        break;
    case '>':
        t->kind = T_GT;
        if (n == '=') {
            t->kind = T_GE;
            end++;
        }
        break;
    case '\'':
        if (lex_quoted(lx, start, &end) < 0)
            return -1;
        t->kind = T_STRING;
        break;
    default:
        if ((c == 'b' || c == 'h' || c == 't') && n == '\'') {
            if (lex_quoted(lx, start + 1, &end) < 0)
                return -1;
            t->kind = c == 'b' ? T_BINARY : c == 'h' ? T_HEX : T_TIME;
        } else if (is_ident_start((unsigned char)c)) {
            while (end < lx->len && is_ident_char((unsigned char)s[end]))
                end++;
            t->kind = T_IDENT;
            for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
                size_t kl = strlen(keywords[i].word);
                if (kl == end - start &&
                    memcmp(keywords[i].word, s + start, kl) == 0) {
                    t->kind = keywords[i].kind;
                    break;
                }
            }
        } else if (is_digit((unsigned char)c) || c == '.' ||
                   ((c == '-' || c == '+') &&
                    (is_digit((unsigned char)n) || n == '.'))) {
            size_t i = start;
            if (c == '-' || c == '+')
                i++;
            size_t int_start = i;
            while (i < lx->len && is_digit((unsigned char)s[i]))
                i++;
            size_t int_len = i - int_start;
            if (i < lx->len && s[i] == '.') {
                i++;
                size_t frac = i;
                while (i < lx->len && is_digit((unsigned char)s[i]))
                    i++;
                if (i == frac) {
                    if (c == '.' && int_len == 0) {
                        t->kind = T_DOT;
                        end = start + 1;
                        break;
                    }
                    return lex_error(lx, start,
                                     "a float needs digits after '.'");
                }
                t->kind = T_FLOAT;
            } else {
                if (int_len > 1 && s[int_start] == '0')
                    return lex_error(lx, start,
                                     "integers must not have leading zeros");
                t->kind = T_INT;
            }
            if (i < lx->len && is_ident_start((unsigned char)s[i]))
                return lex_error(lx, i, "a number must not run into a name");
            end = i;
        } else {
            char msg[64];
            unsigned char u = (unsigned char)c;
            if (u >= 0x20 && u < 0x7f)
                snprintf(msg, sizeof msg, "unexpected character '%c'", c);
            else
                snprintf(msg, sizeof msg, "unexpected byte 0x%02x", u);
            return lex_error(lx, start, msg);
        }
    }
    t->len = end - start;
    lx->pos = end;
    return 0;
}
