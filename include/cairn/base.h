/* SPDX-License-Identifier: Apache-2.0 */
/* The base layer: allocation, capped buffers, arenas, time, UUIDs, JSON. */
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

#ifdef __cplusplus
}
#endif

#endif
