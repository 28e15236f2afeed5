/* SPDX-License-Identifier: Apache-2.0 */
/* The base layer: allocation, buffers, arenas, time, UUIDs, JSON, text. */
#ifndef CAIRN_BASE_H
#define CAIRN_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/error.h"

/*
 * Ownership: arguments are borrowed for the duration of a call. Memory a
 * function hands back through an out-parameter belongs to the caller and is
 * released with the matching _free (or cairn_free for plain strings). Every
 * _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- allocation ------------------------------------------------------ */

/*
 * All of cairn allocates through these, and so does jansson once
 * cairn_alloc_init() has run. A test can make the Nth allocation from now
 * on fail with cairn_alloc_fail_after(N) (N = 0 fails the very next one);
 * cairn_alloc_fail_after(-1) turns failures off again. The counters are
 * process-wide and not meant to be used from several threads at once.
 */
void *cairn_malloc(size_t len);
void *cairn_calloc(size_t n, size_t len);
void *cairn_realloc(void *p, size_t len);
void cairn_free(void *p);
char *cairn_strdup(const char *s);
char *cairn_strndup(const char *s, size_t len);

/* Route jansson's allocations through cairn_malloc/cairn_free. */
void cairn_alloc_init(void);
void cairn_alloc_fail_after(long n);
/* Number of cairn allocations that are not freed yet (for leak tests). */
long cairn_alloc_live(void);

/* ---- capped growable buffer ------------------------------------------ */

/*
 * A byte buffer that grows up to `cap` bytes and never further: appends
 * past the cap fail with CAIRN_ETOOBIG and leave the buffer as it was. The
 * content is always NUL-terminated (the NUL is not counted in `len`).
 */
struct cairn_buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap;
};

void cairn_buf_init(struct cairn_buf *b, size_t cap);
void cairn_buf_release(struct cairn_buf *b); /* frees data, keeps the cap */
void cairn_buf_reset(struct cairn_buf *b);   /* len = 0, keeps memory */
int cairn_buf_reserve(struct cairn_buf *b, size_t more);
int cairn_buf_append(struct cairn_buf *b, const void *p, size_t len);
int cairn_buf_puts(struct cairn_buf *b, const char *s);
int cairn_buf_putc(struct cairn_buf *b, char c);
int cairn_buf_printf(struct cairn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the data to the caller (free with cairn_free); the buffer is empty. */
char *cairn_buf_steal(struct cairn_buf *b, size_t *len_out);

/* ---- arena ------------------------------------------------------------ */

/*
 * Bump allocator for things that die together (a parse, an AST). At most
 * `cap` bytes in all; 0 means no cap. Memory is 16-byte aligned.
 */
struct cairn_arena;

int cairn_arena_new(size_t cap, struct cairn_arena **out);
void cairn_arena_free(struct cairn_arena *a);
/* NULL on failure */
void *cairn_arena_alloc(struct cairn_arena *a, size_t len);
char *cairn_arena_strndup(struct cairn_arena *a, const char *s, size_t len);
size_t cairn_arena_used(const struct cairn_arena *a);

/* ---- RFC 3339 time ----------------------------------------------------- */

/*
 * A UTC instant: seconds since 1970-01-01T00:00:00Z plus nanoseconds, and
 * the number of fractional digits it was written with (0-9), so that it can
 * be printed back as it came. Leap second 60 is accepted and folded into
 * the next second.
 */
struct cairn_time {
    int64_t sec;
    int32_t nsec;
    int8_t digits;
};

/*
 * Seconds since 1970 of a UTC calendar date and time of day (proleptic
 * Gregorian; second 60 counts on into the next minute), for parsers of
 * other timestamp forms. CAIRN_EINVAL for a month, day, hour, minute or
 * second out of range, with *sec unchanged.
 */
int cairn_time_civil(int64_t year, unsigned month, unsigned day, unsigned hour,
                     unsigned min, unsigned sec, int64_t *out);

/*
 * Parse an RFC 3339 timestamp of `len` bytes. With `stix` true only the
 * STIX form is accepted: "YYYY-MM-DDTHH:MM:SS[.frac]Z" (upper-case T and
 * Z, UTC). Otherwise offsets such as +02:00 and lower-case t/z are too.
 * More than 9 fractional digits are truncated. Returns CAIRN_EINVAL with no
 * change to *out on anything else, including impossible dates.
 */
int cairn_time_parse(const char *s, size_t len, bool stix,
                     struct cairn_time *out);

/*
 * Write `t` in the STIX form with `digits` fractional digits (0-9; -1 to
 * use t->digits). Needs 31 bytes; returns the length written, or
 * CAIRN_ETOOBIG when `len` is too small.
 */
int cairn_time_format(const struct cairn_time *t, int digits, char *buf,
                      size_t len);

/* -1, 0 or 1 as a is before, equal to, or after b. */
int cairn_time_cmp(const struct cairn_time *a, const struct cairn_time *b);

/* The current time with the given number of fractional digits. */
struct cairn_time cairn_time_now(int digits);

/* ---- UUID -------------------------------------------------------------- */

/* Text form is 36 characters, lower-case, plus NUL. */
#define CAIRN_UUID_STRLEN 37

/* A random (version 4) UUID from the system's CSPRNG. */
int cairn_uuid4(char out[CAIRN_UUID_STRLEN]);

/* A name-based (version 5, SHA-1) UUID of `name` in namespace `ns`. */
int cairn_uuid5(const char *ns, const char *name, size_t name_len,
                char out[CAIRN_UUID_STRLEN]);

/*
 * Whether `s` (of `len` bytes) is a UUID in text form: 8-4-4-4-12 hex
 * digits. With `rfc4122` true, the variant bits must also be RFC 4122's
 * (STIX requires that); `version_out`, when not NULL, receives the version
 * nibble.
 */
bool cairn_uuid_check(const char *s, size_t len, bool rfc4122,
                      int *version_out);

/* ---- JSON --------------------------------------------------------------- */

/*
 * Serialise `value` in the RFC 8785 (JCS) canonical form: no whitespace,
 * object members sorted by their UTF-16 code units, numbers as ECMAScript
 * prints them, strings with the minimal escapes. The result, which the
 * caller frees with cairn_free, is NUL-terminated; `len_out` may be NULL.
 * CAIRN_EINVAL for a number JSON cannot hold (NaN, infinity).
 */
int cairn_json_canonical(const json_t *value, char **out, size_t *len_out);
/* The same with the member `key` of the object `in` (a value inside
 * `value`, by identity) left out, as if it were not there. */
int cairn_json_canonical_omit(const json_t *value, const json_t *in,
                              const char *key, char **out, size_t *len_out);

/* ---- logging ------------------------------------------------------------ */

enum cairn_log_level {
    CAIRN_LOG_ERROR = 0,
    CAIRN_LOG_WARN = 1,
    CAIRN_LOG_INFO = 2,
    CAIRN_LOG_DEBUG = 3,
};

/* Messages above `level` are dropped; the default is CAIRN_LOG_INFO. */
void cairn_log_set_level(enum cairn_log_level level);
/* One line to standard error, prefixed with the time and level. */
void cairn_log(enum cairn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- INI files (inih) --------------------------------------------------- */

/*
 * One INI file being read by cairn_ini_parse: where the reader is and the
 * first error, which alone reaches the diag (as FILE:LINE, rule "config").
 * The callback gets it with each entry and may set `line` (0: the file as
 * a whole) before cairn_ini_fail; after the parse it still names the file,
 * for checks of the whole. A reader keeps its own state in the `ud`.
 */
struct cairn_ini {
    const char *path;        /* the file, as given */
    size_t dir_len;          /* of its directory with the '/'; 0: none */
    struct cairn_diag *diag; /* may be NULL */
    unsigned line;           /* the line inih is looking at */
    unsigned section_line;   /* the last line that opens with '[' */
    unsigned long_line;      /* the first line longer than max_line, or 0 */
    int max_line;            /* bytes inih takes in a line, less newline */
    int rc;                  /* the first error, or 0 */
};

/* Longest value cairn_ini_string takes, in bytes. */
#define CAIRN_INI_VALUE_MAX 1024

/*
 * Called for each "key = value" of the file, `section` "" before the
 * first header. Returns 0, or a negative CAIRN_E* code that becomes the
 * parse's error unless one came first (cairn_ini_fail records the diag
 * and returns CAIRN_EINVAL). Once there is an error it is not called.
 */
typedef int (*cairn_ini_cb)(struct cairn_ini *ini, const char *section,
                            const char *name, const char *value, void *ud);

/*
 * Read the INI file `path` with inih, calling `cb` for each entry. `*ini`
 * is set up here (path and diag are borrowed, and must outlive it). A line
 * inih cannot read as "[section]" or "key = value", or one longer than
 * inih's buffer ("line longer than N bytes", wherever it stands), is
 * CAIRN_EINVAL with the diag naming it; a
 * file that cannot be opened is CAIRN_EIO with the system's message; else
 * the first error, or 0. Also left in ini->rc.
 */
int cairn_ini_parse(struct cairn_ini *ini, const char *path, cairn_ini_cb cb,
                    void *ud, struct cairn_diag *diag);

/*
 * Record a mistake at ini->line, unless one is recorded already (the first
 * one wins): ini->rc becomes CAIRN_EINVAL and the diag gets the message.
 * Returns CAIRN_EINVAL, for `return cairn_ini_fail(...)` in a callback.
 */
int cairn_ini_fail(struct cairn_ini *ini, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * `value` as a file name: relative to the INI file's directory unless it
 * is absolute, in a new string for the caller. CAIRN_ENOMEM (*out NULL).
 */
int cairn_ini_path(const struct cairn_ini *ini, const char *value, char **out);

/*
 * Store `value` in the empty `*slot`, through cairn_ini_path when
 * `is_path`. "[SECTION] NAME is given twice" when *slot is set already,
 * "... is empty" or "... is too long" (over CAIRN_INI_VALUE_MAX) are
 * cairn_ini_fail's; CAIRN_ENOMEM.
 */
int cairn_ini_string(struct cairn_ini *ini, char **slot, const char *section,
                     const char *name, const char *value, bool is_path);

/* ---- text: UTF-8, hex, base64, IPv4, CSV --------------------------------- */

/*
 * UTF-8 as RFC 3629 defines it: overlong forms, surrogates (U+D800 to
 * U+DFFF), code points past U+10FFFF and truncated sequences are not
 * UTF-8. cairn_utf8_len gives the length (1 to 4) of the character at
 * s[0..len), or 0 when len is 0 or the bytes there are not one; an ASCII
 * byte, NUL included, has length 1. cairn_utf8_decode is the same and also
 * stores the code point in *cp (untouched on 0).
 */
size_t cairn_utf8_len(const void *s, size_t len);
size_t cairn_utf8_decode(const void *s, size_t len, uint32_t *cp);
/* Whether all `len` bytes are UTF-8 (NUL is a character here). */
bool cairn_utf8_valid(const void *s, size_t len);
/* Code point `cp` (at most U+10FFFF) as 1 to 4 bytes in out; the count. */
size_t cairn_utf8_encode(uint32_t cp, char out[4]);

/* The value of the hex digit c (0-9, a-f, A-F: either case), or -1. */
static inline int cairn_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Strict base64 (RFC 4648, standard alphabet, padded): `len` a multiple
 * of 4 (0 decodes to nothing), no whitespace or line breaks, '=' only as
 * the last one or two characters. `out` receives len / 4 * 3 bytes at
 * most, and may be NULL to check only; *out_len (unless NULL) the count.
 * CAIRN_EINVAL when `s` is not such base64.
 */
int cairn_base64_decode(const char *s, size_t len, void *out, size_t *out_len);

/*
 * An IPv4 address in dotted decimal, exactly "a.b.c.d": four numbers of 1
 * to 3 digits, each at most 255, without leading zeros ("010" is octal to
 * some parsers) and nothing before or after. true and *out (unless NULL) =
 * a << 24 | b << 16 | c << 8 | d; false for anything else. Inline: the
 * hunters call it on every field that starts with a digit.
 */
static inline bool cairn_ipv4_parse(const char *s, size_t len, uint32_t *out)
{
    uint32_t a = 0;
    size_t i = 0;
    if (len < 7 || len > 15)
        return false;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && (unsigned)(s[i] - '0') <= 9 && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return false;
        a = a << 8 | v;
    }
    if (i != len)
        return false;
    if (out != NULL)
        *out = a;
    return true;
}

/*
 * CSV (RFC 4180), one field at a time: cairn_csv_field reads the field at
 * s[*pos..len) and moves *pos past it and the ',' or line break after it.
 * A quoted field may hold ',', line breaks and "" for a quote: f->s is the
 * text between the quotes, still with the "" pairs when f->escaped
 * (cairn_csv_unquote decodes them). Flags:
 * - CAIRN_CSV_LINE: s[0..len) is one record; line breaks are plain text.
 *   Otherwise a record ends at "\n", "\r\n", or "\r" at the end of s;
 * - CAIRN_CSV_STRICT: text after a closing quote is an error. Otherwise
 *   it is kept in f->tail and belongs to the field ("a"b is ab).
 * Returns ',' when another field of the record follows, '\n' when the
 * record ends here (at the end of s too), or CAIRN_EPARSE: a quote that
 * never closes (f->unclosed) or, when strict, text after a closing quote.
 */
#define CAIRN_CSV_LINE   1u
#define CAIRN_CSV_STRICT 2u
struct cairn_csv_field {
    const char *s;    /* the field's text, in the input */
    size_t len;
    bool quoted;      /* it was in quotes */
    bool escaped;     /* s holds "" pairs */
    bool unclosed;    /* CAIRN_EPARSE: the quote never closes */
    const char *tail; /* after the closing quote (not strict), else empty */
    size_t tail_len;
};
int cairn_csv_field(const char *s, size_t len, size_t *pos, unsigned flags,
                    struct cairn_csv_field *f);
/* The quoted text s[0..len) with each "" as one '"', into out (len bytes
 * at most); the length written. */
size_t cairn_csv_unquote(const char *s, size_t len, char *out);

#ifdef __cplusplus
}
#endif

#endif
