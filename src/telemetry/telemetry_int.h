/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the telemetry readers: the reader, typing, helpers. */
#ifndef CAIRN_TELEMETRY_INT_H
#define CAIRN_TELEMETRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "cairn/base.h"
#include "cairn/telemetry.h"

/* Decoded bytes are read in blocks of this size. */
#define TELE_BLOCK (1024 * 1024)
/* Bytes after the decoded data that may be read (and ignored) by SIMD
 * loops; the line buffer is allocated this much larger. */
#define TELE_PAD 64
/* What one read() asks for at most: it stays in the CPU cache. */
#define TELE_READ_BLOCK (64 * 1024)
/* Compressed input is read in blocks of this size. */
#define TELE_IN_BLOCK (256 * 1024)
/* Nesting kept by the JSON scanner; deeper input is malformed. */
#define TELE_JSON_DEPTH 64
/*
 * Vector instructions the scanning loops may use, chosen from the CPU when
 * a reader is made (x86-64: SSE2 always; AVX2, AVX-512BW and AVX-512
 * VBMI2 when the CPU has them). Every level finds the same lines and columns as the portable
 * loop (level TELE_SIMD_NONE), which the tests compare.
 */
#if defined(__x86_64__) && defined(__SSE2__) && defined(__GNUC__)
/* AVX2 and AVX-512 loops are built (with target attributes) and chosen
 * at run time. */
#define CAIRN_TELE_X86_SIMD 1
#endif
enum {
    TELE_SIMD_NONE = 0,
    TELE_SIMD_SSE2,
    TELE_SIMD_AVX2,
    TELE_SIMD_AVX512,
    TELE_SIMD_VBMI2, /* AVX-512 with VBMI2: the Zeek scan packs offsets */
};
/* The highest level this CPU runs, capped by cairn__tele_simd_cap. */
int cairn__tele_simd_level(void);
/* For tests and benchmarks: readers made from now on use at most `level`
 * (-1: no cap). Not for use while readers are being made elsewhere. */
void cairn__tele_simd_cap(int level);

/* Columns of a Zeek or CSV header. */
#define TELE_MAX_COLUMNS 1024

/*
 * How a named value is typed. Element kinds apply to each element of a
 * Zeek set/vector or JSON array under that name.
 */
enum tele_kind {
    TK_NONE = 0, /* unknown name: typed by shape (JSON/CSV: else STRING) */
    TK_SKIP,     /* known to carry nothing worth hunting */
    TK_TS,       /* the event's time */
    TK_HOST,     /* a host: IP address or domain, maybe with :port */
    TK_ADDR,     /* a Zeek addr column: an address by construction */
    TK_URI,      /* a URL, or a path joined with the event's host */
    TK_URL,      /* an absolute URL */
    TK_HASH,     /* a digest, typed by length, or text holding digests */
    TK_FILENAME, /* a file name or path: its base name is the FILENAME */
    TK_EMAIL,    /* addresses, possibly "Name <a@b>" lists */
    TK_REGKEY,   /* a Windows registry key */
    TK_TEXT,     /* free text: run the extractor */
};

/* The kind of a field name (case-insensitive); TK_NONE when unknown. */
enum tele_kind cairn__tele_key_kind(const char *name, size_t len);
/* For tests: whether the name table is sorted (bsearch needs it). */
bool cairn__tele_key_table_sorted(void);

/* Field typing helpers (extract.c). */
bool cairn__tele_is_ipv4(const char *s, size_t len);
bool cairn__tele_is_ipv6(const char *s, size_t len);
bool cairn__tele_is_domain(const char *s, size_t len);
bool cairn__tele_is_email(const char *s, size_t len);
bool cairn__tele_is_url(const char *s, size_t len);
enum cairn_ioc_type cairn__tele_hash_type(const char *s, size_t len);
/* The host of an absolute URL (without userinfo, port or brackets). */
bool cairn__tele_url_host(const char *url, size_t len, const char **host,
                   size_t *host_len);

/* Timestamps (read_text.c). */
bool cairn__tele_parse_epoch(const char *s, size_t len, struct cairn_time *out);
bool cairn__tele_parse_iso(const char *s, size_t len, struct cairn_time *out);
bool cairn__tele_parse_line_ts(const char *s, size_t len, int year,
                        struct cairn_time *out);

enum tele_codec { CODEC_RAW, CODEC_GZIP, CODEC_ZSTD };

struct cairn_telemetry_reader {
    struct cairn_telemetry_opts opts;
    char *name;
    enum cairn_telemetry_format format;

    /* The source: a descriptor or memory, maybe compressed. */
    int fd;
    bool close_fd;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    /* A part of a file read with pread(): bytes [range_pos, range_end)
     * of fd are still to come. */
    bool ranged;
    uint64_t range_pos, range_end;
    /* Bytes in memory read in place (cairn_telemetry_open_part):
     * map_size of them at buf (buf == the caller's bytes). */
    size_t map_size, map_released;
    bool zero_copy;
    bool release; /* pages behind the reading are dropped (a mapping) */
    enum tele_codec codec;
    unsigned char *in; /* compressed bytes */
    size_t in_pos, in_len;
    bool in_eof;
    z_stream z;
    bool z_ready;
    bool z_member_done; /* between gzip members */
    ZSTD_DStream *zs;
    size_t zs_hint; /* 0 when a zstd frame is complete */
    bool src_eof;
    int src_err;
    char src_msg[200];

    /* Decoded lines: buf[start, end) is not consumed yet. */
    char *buf;
    size_t cap, start, end;
    uint64_t buf_offset; /* decoded offset of buf[0] */
    uint64_t lineno;
    bool skipping; /* inside a line longer than max_line */
    int done;      /* 0 while going; then 0 (end) or the error, sticky */
    bool finished;

    /* The event being built. */
    struct cairn_hunt_field *fields;
    size_t n_fields, fields_cap;
    /* Decoded copies for this line (unescaped strings, built URLs); room
     * for the whole line is reserved before it is parsed, so pointers into
     * it stay valid while the line is being parsed. */
    char *scratch;
    size_t scratch_len, scratch_cap;
    bool has_ts;
    struct cairn_time ts;
    int year;

    /* Zeek TSV and CSV headers. */
    char sep, set_sep;
    char empty_field[32], unset_field[32];
    size_t empty_len, unset_len;
    char zeek_path[64];
    char *col_names; /* NUL-separated */
    const char **cols;
    unsigned char *col_kind;   /* enum tele_kind */
    unsigned char *col_vector; /* Zeek set/vector column */
    unsigned char *col_addr;   /* Zeek addr/subnet column */
    size_t n_cols;
    bool have_header;
    bool head_shared; /* the column tables are another reader's */
    long host_col, uri_col, port_col;
    size_t *tabs; /* column starts of the current line */
    /* Zeek: what each column is for, and the columns that have something
     * to do, in order (read_zeek.c); rebuilt when the header changes. */
    unsigned char *col_act;
    uint32_t *act_cols;
    size_t n_act;
    unsigned char hcls[256]; /* character classes of Zeek host names */
    int simd; /* TELE_SIMD_*: the loops this reader runs */

    struct cairn_telemetry_stats stats;
    unsigned reported;
};

/*
 * The files call one another in one direction only, lowest first:
 *   event.c      fields, scratch, malformed-line reports
 *   extract.c    typing by field name and shape, the free-text extractor
 *   read_text.c  timestamps, text lines
 *   read_zeek.c  Zeek TSV, the column header tables (also CSV's)
 *   read_csv.c, read_json.c
 *   read_source.c  sources, decompression, lines, the public reader
 *   files.c      hashing files (apart from the readers)
 */

/* Event building (event.c). */
int cairn__tele_add(struct cairn_telemetry_reader *r, enum cairn_ioc_type type,
             const char *value, size_t len, const char *name);
/* Take `len` bytes of scratch; NULL when the line's room is used up. */
char *cairn__tele_scratch(struct cairn_telemetry_reader *r, size_t len);
/* Report a malformed line (counted; the first few go to on_diag). */
void cairn__tele_malformed(struct cairn_telemetry_reader *r, uint64_t line,
                    const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Type one value by its name's kind and add what it holds. */
int cairn__tele_add_kind(struct cairn_telemetry_reader *r, enum tele_kind kind,
                  const char *v, size_t len, const char *name, bool strings);
/* A host value in a Zeek column (cheaper checks; see extract.c). */
int cairn__tele_add_zeek_host(struct cairn_telemetry_reader *r, const char *v,
                       size_t len, const char *name);
/* Run the extractor over text and add every value found. */
int cairn__tele_add_extracted(struct cairn_telemetry_reader *r, const char *v,
                       size_t len, const char *name);
/* The same found word by word (see extract.c): the words without a value
 * are passed over, with the loops of r->simd. */
int cairn__tele_add_extracted_words(struct cairn_telemetry_reader *r,
                                    const char *v, size_t len,
                                    const char *name);
/* For tests and fuzzing: cairn_telemetry_extract by words, at SIMD level
 * `simd` (which the CPU must have); the same fields, in the same order. */
size_t cairn__tele_extract_words(const char *text, size_t len, int simd,
                                 struct cairn_hunt_field *out, size_t max);

/*
 * Per-format line parsers: add fields for one line; 0, or a negative code
 * for a malformed line (already reported) or CAIRN_ENOMEM.
 */
int cairn__tele_zeek_line(struct cairn_telemetry_reader *r, char *line, size_t len);
/*
 * Zeek fast path: find the end of the line at `p` (`avail` bytes, readable
 * for TELE_PAD more) and its column separators in one pass. Returns the
 * line's length without the newline, or -1 when no newline is in `avail`;
 * r->tabs then holds the column starts and *n_cols their number (more than
 * r->n_cols when there are too many).
 */
long cairn__tele_zeek_scan(struct cairn_telemetry_reader *r, const char *p,
                    size_t avail, size_t *n_cols);
/* A Zeek line already split by cairn__tele_zeek_scan (a data or header line). */
int cairn__tele_zeek_split_line(struct cairn_telemetry_reader *r, char *line,
                         size_t len, size_t n_cols);
int cairn__tele_json_line(struct cairn_telemetry_reader *r, char *line, size_t len);
int cairn__tele_csv_line(struct cairn_telemetry_reader *r, char *line, size_t len);
int cairn__tele_text_line(struct cairn_telemetry_reader *r, char *line, size_t len);
/* Whether a first line looks like a CSV header of known column names. */
bool cairn__tele_csv_sniff(const char *line, size_t len);

/*
 * Take the Zeek header of `head` (which has read it and outlives r): its
 * column tables are shared, not copied, until a #types line changes them.
 */
int cairn__tele_header_share(struct cairn_telemetry_reader *r,
                             const struct cairn_telemetry_reader *head);
/* Forget the header (column tables). */
void cairn__tele_header_clear(struct cairn_telemetry_reader *r);
/* Set the columns from `n` names; kinds from the name table. */
int cairn__tele_header_set(struct cairn_telemetry_reader *r, const char *const *names,
                    const size_t *lens, size_t n);

/* Eight ASCII digits as a number (a word at a time on little-endian
   machines); false if any of them is not a digit. */
static inline bool digits8(const char *s, uint32_t *out)
{
    uint64_t w;
    memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t z = 0x3030303030303030ULL;
    if ((((w + 0x4646464646464646ULL) | (w - z)) & 0x8080808080808080ULL) != 0)
        return false;
    w -= z;
    w = (w * 10) + (w >> 8);
    w = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
        32;
    *out = (uint32_t)w;
    return true;
#else
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *out = v;
    return true;
#endif
}

#endif
