/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the pattern module: tokens, the syntax tree and shared helpers. */
#ifndef CAIRN_PATTERN_INT_H
#define CAIRN_PATTERN_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cairn/pattern.h"

/*
 * How it fits together: lexer.c turns text into tokens, parser.c builds the
 * tree (in the pattern's arena) by recursive descent, check.c applies the
 * rules the grammar cannot express and compiles regexes and CIDRs, print.c
 * writes the canonical text, observe.c turns JSON into observations, and
 * eval.c matches: comparisons per observation, then the observation
 * operators over sets of observations ("bindings").
 */

/* ---- tokens -------------------------------------------------------------- */

enum tok {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_IDENT,
    T_STRING, /* '...' */
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_BINARY, /* b'...' */
    T_HEX,    /* h'...' */
    T_TIME,   /* t'...' */
    /* keywords */
    T_AND,
    T_OR,
    T_NOT,
    T_FOLLOWEDBY,
    T_LIKE,
    T_MATCHES,
    T_ISSUBSET,
    T_ISSUPERSET,
    T_EXISTS,
    T_IN,
    T_START,
    T_STOP,
    T_SECONDS,
    T_WITHIN,
    T_REPEATS,
    T_TIMES,
};

struct token {
    enum tok kind;
    const char *text; /* the token as written */
    size_t len;
    size_t offset;
    unsigned line, column;
};

struct lexer {
    const char *src;
    size_t len;
    size_t pos;
    unsigned line;
    size_t line_start;
    /* set on a lexical error */
    char err[200];
    size_t err_offset;
    unsigned err_line, err_column;
};

void cairn__pat_lexer_init(struct lexer *lx, const char *src, size_t len);
/* 0, or -1 with lx->err set. */
int cairn__pat_lex(struct lexer *lx, struct token *t);
const char *cairn__pat_tok_name(enum tok k);

/* ---- tree ------------------------------------------------------------------
 */

enum lit_kind {
    LIT_INT,
    LIT_FLOAT,
    LIT_STRING,
    LIT_BOOL,
    LIT_BINARY,
    LIT_HEX,
    LIT_TIME,
};

struct lit {
    enum lit_kind kind;
    bool b;
    int64_t i;
    double f;
    const char *s; /* string: UTF-8 value; binary, hex: the bytes */
    size_t len;
    const char *text; /* floats: as written, without a leading '+' */
    size_t text_len;
    struct cairn_time t;
};

enum step_kind { STEP_KEY, STEP_INDEX, STEP_ANY };

struct step {
    enum step_kind kind;
    bool quoted;     /* written as '...' */
    const char *key; /* NUL-terminated */
    size_t key_len;
    int64_t index;
    unsigned line, column;
};

struct path {
    const char *type; /* NUL-terminated */
    size_t type_len;
    struct step *steps; /* steps[0] is the first property */
    size_t n_steps;
    unsigned line, column;
};

enum cmp_op {
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_IN,
    OP_LIKE,
    OP_MATCHES,
    OP_ISSUBSET,
    OP_ISSUPERSET,
    OP_EXISTS,
};

struct cidr {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    unsigned prefix;
};

enum cexpr_kind { CE_AND, CE_OR, CE_CMP };

struct cexpr {
    enum cexpr_kind kind;
    struct cexpr *l, *r;
    /* CE_CMP */
    struct path path;
    enum cmp_op op;
    bool negated;
    struct lit lit;
    struct lit *set; /* OP_IN */
    size_t n_set;
    unsigned line, column;         /* of the comparison */
    unsigned lit_line, lit_column; /* of the literal */
    pcre2_code *re;                /* OP_MATCHES on text */
    pcre2_code *re_bytes;          /* OP_MATCHES on binary values */
    const char *nfc;               /* OP_LIKE: the literal in NFC */
    size_t nfc_len;
    const char *latin1;            /* LIKE, MATCHES: the literal as bytes, */
    size_t latin1_len;             /* one per code point; NULL if one is */
                                   /* above 255 */
    struct cidr cidr;              /* OP_ISSUBSET, OP_ISSUPERSET */
};

enum oexpr_kind {
    OE_OBS,
    OE_AND,
    OE_OR,
    OE_FOLLOWEDBY,
    OE_WITHIN,
    OE_STARTSTOP,
    OE_REPEATS,
};

struct oexpr {
    enum oexpr_kind kind;
    struct oexpr *l, *r; /* qualifiers: l is the qualified expression */
    struct cexpr *cmp;   /* OE_OBS */
    unsigned line, column;
    unsigned q_line, q_column; /* of the qualifier's value */
    struct lit within;         /* OE_WITHIN: LIT_INT or LIT_FLOAT */
    int64_t within_sec;        /* the same, as seconds + nanoseconds */
    int32_t within_nsec;
    struct cairn_time start, stop; /* OE_STARTSTOP */
    int64_t repeats;               /* OE_REPEATS */
    unsigned index;                /* OE_OBS: 0, 1, ... in text order */
};

struct cairn_pattern {
    struct cairn_arena *arena;
    struct oexpr *root;
    size_t n_cmp;
    size_t n_obs;
    struct oexpr **leaves; /* the OE_OBS nodes, by index */
};

/* check.c: rules beyond the grammar; compiles regexes. */
int cairn__pat_check(struct cairn_pattern *p, struct cairn_diag *diag);
void cairn__pat_release_regexes(struct oexpr *e);

/* print.c */
int cairn__pat_print_oexpr(const struct oexpr *e, struct cairn_buf *b);
bool cairn__pat_ast_equal(const struct oexpr *a, const struct oexpr *b);

/* cidr.c: "a.b.c.d[/n]" or an IPv6 address with optional prefix. */
bool cairn__pat_cidr_parse(const char *s, size_t len, struct cidr *out);
/* Whether every address of `inner` is in `outer`. */
bool cairn__pat_cidr_within(const struct cidr *inner, const struct cidr *outer);

/* Base64 (standard alphabet, padded) and hex decoding into `out`. */
bool cairn__pat_base64_decode(const char *s, size_t len, uint8_t *out,
                       size_t *out_len);
bool cairn__pat_hex_decode(const char *s, size_t len, uint8_t *out, size_t *out_len);

/* LIKE over UTF-8 text: % any sequence, _ one character. */
bool cairn__pat_like(const char *pat, size_t plen, const char *s, size_t slen);

/*
 * check.c: `s` in Unicode NFC, for LIKE and MATCHES, which compare
 * normalised text. Returns `s` itself when it is NFC already (always for
 * text below U+0300), else the normalised text, in *buf (grown with
 * cairn_realloc; the caller frees it), or `s` again when `s` is not UTF-8
 * or memory runs out. *out_len is the length of what is returned.
 */
const char *cairn__pat_nfc(const char *s, size_t len, int32_t **buf,
                           size_t *buf_cap, size_t *out_len);

#endif
