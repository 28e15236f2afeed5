/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry sources: files, stdin, memory, gzip/zstd, line splitting. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "telemetry/telemetry_int.h"

static const char *const format_names[] = {
    [CAIRN_TELEMETRY_AUTO] = "auto", [CAIRN_TELEMETRY_ZEEK] = "zeek",
    [CAIRN_TELEMETRY_JSON] = "json", [CAIRN_TELEMETRY_CSV] = "csv",
    [CAIRN_TELEMETRY_TEXT] = "text",
};

const char *cairn_telemetry_format_name(enum cairn_telemetry_format format)
{
    if ((unsigned)format >= sizeof format_names / sizeof format_names[0])
        return NULL;
    return format_names[format];
}

int cairn_telemetry_format_parse(const char *name,
                                 enum cairn_telemetry_format *out)
{
    if (name == NULL)
        return CAIRN_EINVAL;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum cairn_telemetry_format)i;
            return 0;
        }
    }
    return CAIRN_EINVAL;
}

void cairn_telemetry_opts_init(struct cairn_telemetry_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->max_line = CAIRN_TELEMETRY_MAX_LINE;
    opts->max_reported = CAIRN_TELEMETRY_MAX_REPORTED;
    opts->max_fields = CAIRN_TELEMETRY_MAX_FIELDS;
}

/* ---- diagnostics --------------------------------------------------------- */

static void diag_file(struct cairn_diag *diag, const char *name)
{
    if (diag == NULL)
        return;
    cairn_diag_clear(diag);
    snprintf(diag->file, sizeof diag->file, "%s", name);
}

/* ---- raw and compressed input ------------------------------------------- */

static long raw_read(struct cairn_telemetry_reader *r, void *dst, size_t cap)
{
    if (r->mem != NULL || r->fd < 0) {
        size_t n = r->mem_len - r->mem_pos;
        if (n > cap)
            n = cap;
        if (n > 0)
            memcpy(dst, r->mem + r->mem_pos, n);
        r->mem_pos += n;
        r->stats.bytes_in += n;
        return (long)n;
    }
    if (r->ranged) {
        /* a part of a file: pread() within it, the offset our own */
        if (r->range_end - r->range_pos < cap)
            cap = (size_t)(r->range_end - r->range_pos);
        if (cap == 0)
            return 0;
    }
    for (;;) {
        ssize_t n = r->ranged ? pread(r->fd, dst, cap, (off_t)r->range_pos)
                              : read(r->fd, dst, cap);
        if (n >= 0) {
            r->range_pos += (uint64_t)n;
            r->stats.bytes_in += (uint64_t)n;
            return (long)n;
        }
        if (errno != EINTR) {
            snprintf(r->src_msg, sizeof r->src_msg, "read failed: %s",
                     strerror(errno));
            return CAIRN_EIO;
        }
    }
}

/* Refill the compressed input buffer when it is empty. */
static int in_fill(struct cairn_telemetry_reader *r)
{
    if (r->in_pos < r->in_len || r->in_eof)
        return 0;
    long n = raw_read(r, r->in, TELE_IN_BLOCK);
    if (n < 0)
        return (int)n;
    r->in_pos = 0;
    r->in_len = (size_t)n;
    if (n == 0)
        r->in_eof = true;
    return 0;
}

static long truncated(struct cairn_telemetry_reader *r, const char *what)
{
    snprintf(r->src_msg, sizeof r->src_msg,
             "truncated %s stream: the input ends inside compressed data",
             what);
    return CAIRN_EPARSE;
}

static long gzip_read(struct cairn_telemetry_reader *r, char *dst, size_t cap)
{
    for (;;) {
        int rc = in_fill(r);
        if (rc < 0)
            return rc;
        if (r->z_member_done) {
            /* Another member may follow (concatenated .gz files); other
             * trailing bytes are ignored, as gzip -d does. */
            if (r->in_pos == r->in_len || r->in[r->in_pos] != 0x1f)
                return 0;
            if (inflateReset(&r->z) != Z_OK)
                return CAIRN_EINTERNAL;
            r->z_member_done = false;
        }
        r->z.next_in = r->in + r->in_pos;
        r->z.avail_in = (uInt)(r->in_len - r->in_pos);
        r->z.next_out = (Bytef *)dst;
        r->z.avail_out = (uInt)cap;
        int zr = inflate(&r->z, Z_NO_FLUSH);
        r->in_pos = r->in_len - r->z.avail_in;
        size_t produced = cap - r->z.avail_out;
        if (zr == Z_STREAM_END) {
            r->z_member_done = true;
            if (produced > 0)
                return (long)produced;
            continue;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            snprintf(r->src_msg, sizeof r->src_msg, "corrupt gzip data: %s",
                     r->z.msg ? r->z.msg : "inflate failed");
            return CAIRN_EPARSE;
        }
        if (produced > 0)
            return (long)produced;
        if (r->in_pos == r->in_len && r->in_eof)
            return truncated(r, "gzip");
    }
}

static long zstd_read(struct cairn_telemetry_reader *r, char *dst, size_t cap)
{
    for (;;) {
        int rc = in_fill(r);
        if (rc < 0)
            return rc;
        /* A finished frame and no more input: the end. (Calling on would
         * start a new frame and ask for its header.) */
        if (r->in_pos == r->in_len && r->in_eof && r->zs_hint == 0)
            return 0;
        ZSTD_inBuffer ib = {r->in, r->in_len, r->in_pos};
        ZSTD_outBuffer ob = {dst, cap, 0};
        size_t zr = ZSTD_decompressStream(r->zs, &ob, &ib);
        r->in_pos = ib.pos;
        if (ZSTD_isError(zr)) {
            snprintf(r->src_msg, sizeof r->src_msg, "corrupt zstd data: %s",
                     ZSTD_getErrorName(zr));
            return CAIRN_EPARSE;
        }
        r->zs_hint = zr;
        if (ob.pos > 0)
            return (long)ob.pos;
        if (r->in_pos == r->in_len && r->in_eof)
            return r->zs_hint == 0 ? 0 : truncated(r, "zstd");
    }
}

/* Decoded bytes into dst: > 0 bytes, 0 at the end, or an error. */
static long src_read(struct cairn_telemetry_reader *r, char *dst, size_t cap)
{
    switch (r->codec) {
    case CODEC_GZIP:
        return gzip_read(r, dst, cap);
    case CODEC_ZSTD:
        return zstd_read(r, dst, cap);
    case CODEC_RAW:
        break;
    }
    /* Bytes read ahead to look for magic numbers come first. */
    if (r->in_pos < r->in_len) {
        size_t n = r->in_len - r->in_pos;
        if (n > cap)
            n = cap;
        memcpy(dst, r->in + r->in_pos, n);
        r->in_pos += n;
        return (long)n;
    }
    return raw_read(r, dst, cap);
}

/*
 * A mapped file read in place: the next TELE_BLOCK bytes join buf[start,
 * end) with no copy (the same steps as a read, so that long lines and the
 * statistics behave as they do for a stream). The pages behind the lines
 * already delivered are unmapped as the reading moves on, so that the
 * resident memory stays that of a few blocks, not of the file.
 */
static void fill_mapped(struct cairn_telemetry_reader *r)
{
    size_t n = r->map_size - r->end;
    if (n > TELE_BLOCK)
        n = TELE_BLOCK;
    if (n == 0) {
        r->src_eof = true;
        r->src_err = 0;
        return;
    }
    /* Addresses, not offsets: a part of a mapping starts anywhere in a
     * page, and only the pages wholly its own are released. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t base = (uintptr_t)r->buf;
    if (r->release) {
        uintptr_t from = (base + r->map_released + page - 1) / page * page;
        uintptr_t upto = (base + r->start) / page * page;
        if (upto >= from + 4 * TELE_BLOCK) {
            /* the caller is done with the lines before start */
            (void)madvise((void *)from, upto - from, MADV_DONTNEED);
            r->map_released = upto - base;
        }
    }
#ifdef MADV_POPULATE_READ
    {
        uintptr_t a = (base + r->end) / page * page;
        (void)madvise((void *)a, base + r->end + n - a, MADV_POPULATE_READ);
    }
#endif
    r->end += n;
    r->stats.bytes_in += n;
    r->stats.bytes += n;
}

/* Read once more into buf[end, cap); sets src_eof at the end or error. */
static void fill(struct cairn_telemetry_reader *r)
{
    if (r->src_eof)
        return;
    if (r->zero_copy) {
        fill_mapped(r);
        return;
    }
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->buf_offset += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    /* a small block at a time: the bytes are parsed while they are still
     * in the CPU cache the copy put them in (bench/hunt.sh) */
    size_t want = r->cap - r->end;
    if (want > TELE_READ_BLOCK)
        want = TELE_READ_BLOCK;
    long n = src_read(r, r->buf + r->end, want);
    if (n <= 0) {
        r->src_eof = true;
        r->src_err = (int)n;
        return;
    }
    r->end += (size_t)n;
    r->stats.bytes += (uint64_t)n;
}

/*
 * The next line, without its newline: 1 with line, len and off set, 0 at the
 * end, or the source's error. Lines longer than max_line are skipped as
 * they stream past, never held whole.
 */
static int next_line(struct cairn_telemetry_reader *r, char **line, size_t *len,
                     uint64_t *off)
{
    for (;;) {
        size_t avail = r->end - r->start;
        char *p = r->buf + r->start;
        char *nl = avail > 0 ? memchr(p, '\n', avail) : NULL;
        if (r->skipping) {
            if (nl != NULL) {
                r->start += (size_t)(nl - p) + 1;
                r->skipping = false;
                continue;
            }
            r->start = r->end;
            if (r->src_eof) {
                r->skipping = false;
                return r->src_err;
            }
            fill(r);
            continue;
        }
        if (nl != NULL || (r->src_eof && avail > 0 && r->src_err == 0)) {
            size_t n = nl != NULL ? (size_t)(nl - p) : avail;
            r->lineno++;
            r->stats.lines++;
            r->start += nl != NULL ? n + 1 : n;
            if (n > r->opts.max_line) {
                cairn__tele_malformed(r, r->lineno, "long-line",
                               "line longer than %zu bytes skipped",
                               r->opts.max_line);
                continue;
            }
            *line = p;
            *len = n;
            *off = r->buf_offset + (uint64_t)(p - r->buf);
            return 1;
        }
        if (r->src_eof)
            return r->src_err; /* a partial line before an error is lost */
        if (avail > r->opts.max_line) {
            r->lineno++;
            r->stats.lines++;
            cairn__tele_malformed(r, r->lineno, "long-line",
                           "line longer than %zu bytes skipped",
                           r->opts.max_line);
            r->skipping = true;
            r->start = r->end;
            continue;
        }
        fill(r);
    }
}

static int reserve_scratch(struct cairn_telemetry_reader *r, size_t line_len)
{
    size_t need = 2 * line_len + 256;
    if (need <= r->scratch_cap)
        return 0;
    cairn_free(r->scratch);
    r->scratch = cairn_malloc(need);
    r->scratch_cap = r->scratch ? need : 0;
    return r->scratch ? 0 : CAIRN_ENOMEM;
}

static int parse_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    switch (r->format) {
    case CAIRN_TELEMETRY_ZEEK:
        return cairn__tele_zeek_line(r, line, len);
    case CAIRN_TELEMETRY_JSON:
        return cairn__tele_json_line(r, line, len);
    case CAIRN_TELEMETRY_CSV:
        return cairn__tele_csv_line(r, line, len);
    case CAIRN_TELEMETRY_AUTO:
    case CAIRN_TELEMETRY_TEXT:
        break;
    }
    return cairn__tele_text_line(r, line, len);
}

/*
 * The Zeek fast path: the next line and its columns in one pass over the
 * buffer. 1 with the line taken (counted, consumed), 0 when next_line()
 * must do it (no newline buffered, a long line, the end of the input).
 */
static int zeek_line(struct cairn_telemetry_reader *r, char **line, size_t *len,
                     uint64_t *off, size_t *n_cols)
{
    size_t avail = r->end - r->start;
    char *p = r->buf + r->start;
    if (avail == 0)
        return 0;
    long n = cairn__tele_zeek_scan(r, p, avail, n_cols);
    if (n < 0 || (size_t)n > r->opts.max_line)
        return 0;
    r->lineno++;
    r->stats.lines++;
    r->start += (size_t)n + 1;
    *line = p;
    *len = (size_t)n;
    *off = r->buf_offset + (uint64_t)(p - r->buf);
    return 1;
}

int cairn_telemetry_next(struct cairn_telemetry_reader *r,
                         struct cairn_hunt_event *ev, struct cairn_diag *diag)
{
    /* The separators are found with the lines when the scan can tell them
     * from the newline and the carriage return. */
    bool fast = r->format == CAIRN_TELEMETRY_ZEEK;
    while (!r->finished) {
        char *line = NULL;
        size_t len = 0, n_cols = 0;
        uint64_t off = 0;
        bool split = fast && r->have_header && !r->skipping && r->sep != '\n' &&
                     r->sep != '\r' &&
                     zeek_line(r, &line, &len, &off, &n_cols) == 1;
        int rc = split ? 1 : next_line(r, &line, &len, &off);
        if (rc <= 0) {
            r->finished = true;
            r->done = rc;
            break;
        }
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        r->n_fields = 0;
        r->scratch_len = 0;
        r->has_ts = false;
        rc = reserve_scratch(r, len);
        if (rc == 0)
            rc = split ? cairn__tele_zeek_split_line(r, line, len, n_cols)
                       : parse_line(r, line, len);
        if (rc == CAIRN_ENOMEM) {
            snprintf(r->src_msg, sizeof r->src_msg, "out of memory");
            r->finished = true;
            r->done = rc;
            break;
        }
        if (rc < 0 || r->n_fields == 0)
            continue;
        ev->fields = r->fields;
        ev->n_fields = r->n_fields;
        ev->file = r->name;
        ev->line = r->lineno;
        ev->offset = off;
        ev->has_ts = r->has_ts;
        if (r->has_ts)
            ev->ts = r->ts;
        else
            memset(&ev->ts, 0, sizeof ev->ts);
        r->stats.events++;
        return 1;
    }
    if (r->done < 0 && diag != NULL) {
        diag_file(diag, r->name);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "%s (after %llu lines)",
                       r->src_msg[0] ? r->src_msg : cairn_strerror(r->done),
                       (unsigned long long)r->lineno);
    }
    return r->done;
}

/* ---- opening ------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool csv_name(const char *name)
{
    return has_suffix(name, ".csv") || has_suffix(name, ".csv.gz") ||
           has_suffix(name, ".csv.zst");
}

/* Whether the first bytes are mostly control characters. */
static bool looks_binary(const char *p, size_t n)
{
    if (n > 8192)
        n = 8192;
    size_t ctrl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' &&
             c != '\v' && c != 0x1b) ||
            c == 0x7f)
            ctrl++;
    }
    return ctrl * 10 > n;
}

static enum cairn_telemetry_format detect(struct cairn_telemetry_reader *r)
{
    const char *p = r->buf + r->start;
    size_t n = r->end - r->start;
    /* The first non-blank line decides. */
    while (n > 0 && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    const char *nl = memchr(p, '\n', n);
    size_t len = nl ? (size_t)(nl - p) : n;
    if ((len >= 10 && memcmp(p, "#separator", 10) == 0) ||
        (len >= 7 && memcmp(p, "#fields", 7) == 0))
        return CAIRN_TELEMETRY_ZEEK;
    if (len > 0 && p[0] == '{')
        return CAIRN_TELEMETRY_JSON;
    if (csv_name(r->name) || cairn__tele_csv_sniff(p, len))
        return CAIRN_TELEMETRY_CSV;
    return CAIRN_TELEMETRY_TEXT;
}

static int current_year(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL)
        return 1970;
    return tm.tm_year + 1900;
}

static int reader_start(struct cairn_telemetry_reader *r,
                        struct cairn_diag *diag)
{
    int rc;
    r->in = cairn_malloc(TELE_IN_BLOCK);
    if (r->zero_copy) {
        /* buf is the caller's bytes (a part) */
    } else {
        r->cap = r->opts.max_line + TELE_BLOCK + 1;
        r->buf = cairn_malloc(r->cap + TELE_PAD);
    }
    if (r->in == NULL || r->buf == NULL) {
        diag_file(diag, r->name);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
        return CAIRN_ENOMEM;
    }
    /* Read ahead enough to see a magic number. */
    while (r->in_len < 4 && !r->zero_copy) {
        long n = raw_read(r, r->in + r->in_len, TELE_IN_BLOCK - r->in_len);
        if (n < 0) {
            diag_file(diag, r->name);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "%s", r->src_msg);
            return CAIRN_EIO;
        }
        if (n == 0)
            break;
        r->in_len += (size_t)n;
    }
    /* a part of a file is plain text wherever it starts */
    if (r->ranged) {
        /* CODEC_RAW */
    } else if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
        r->codec = CODEC_GZIP;
        if (inflateInit2(&r->z, 15 + 16) != Z_OK) {
            diag_file(diag, r->name);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
            return CAIRN_ENOMEM;
        }
        r->z_ready = true;
    } else if (r->in_len >= 4 && r->in[0] == 0x28 && r->in[1] == 0xb5 &&
               r->in[2] == 0x2f && r->in[3] == 0xfd) {
        r->codec = CODEC_ZSTD;
        r->zs = ZSTD_createDStream();
        if (r->zs == NULL) {
            diag_file(diag, r->name);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
            return CAIRN_ENOMEM;
        }
        r->zs_hint = 1;
    }
    /* Decode until the first line is whole (or 64 KiB, or the end). */
    while (!r->src_eof && r->end < 65536 &&
           memchr(r->buf, '\n', r->end) == NULL)
        fill(r);
    if (r->src_eof && r->src_err < 0 && r->end == 0) {
        diag_file(diag, r->name);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "%s", r->src_msg);
        return r->src_err;
    }
    r->format = r->opts.format;
    if (r->format == CAIRN_TELEMETRY_AUTO) {
        if (looks_binary(r->buf, r->end)) {
            diag_file(diag, r->name);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "binary",
                           "binary data, not text, gzip or zstd; skipped");
            return CAIRN_EUNSUPPORTED;
        }
        r->format = detect(r);
    }
    rc = 0;
    return rc;
}

static int reader_new(const char *name, const struct cairn_telemetry_opts *opts,
                      struct cairn_telemetry_reader **out)
{
    struct cairn_telemetry_reader *r = cairn_calloc(1, sizeof *r);
    if (r == NULL)
        return CAIRN_ENOMEM;
    r->fd = -1;
    if (opts != NULL)
        r->opts = *opts;
    else
        cairn_telemetry_opts_init(&r->opts);
    if (r->opts.max_line == 0)
        r->opts.max_line = CAIRN_TELEMETRY_MAX_LINE;
    if (r->opts.max_reported == 0)
        r->opts.max_reported = CAIRN_TELEMETRY_MAX_REPORTED;
    if (r->opts.max_fields == 0)
        r->opts.max_fields = CAIRN_TELEMETRY_MAX_FIELDS;
    /* Bound the buffers by construction: 1 GiB lines are not logs. */
    if (r->opts.max_line > ((size_t)1 << 30))
        r->opts.max_line = (size_t)1 << 30;
    r->year = r->opts.year > 0 ? r->opts.year : current_year();
    r->simd = cairn__tele_simd_level();
    r->sep = '\t';
    r->set_sep = ',';
    snprintf(r->empty_field, sizeof r->empty_field, "(empty)");
    snprintf(r->unset_field, sizeof r->unset_field, "-");
    r->empty_len = 7;
    r->unset_len = 1;
    r->host_col = r->uri_col = r->port_col = -1;
    r->name = cairn_strdup(name ? name : "-");
    if (r->name == NULL) {
        cairn_free(r);
        return CAIRN_ENOMEM;
    }
    *out = r;
    return 0;
}

static int open_fd(int fd, bool close_fd, const char *name,
                   const struct cairn_telemetry_opts *opts,
                   struct cairn_telemetry_reader **out, struct cairn_diag *diag)
{
    struct cairn_telemetry_reader *r = NULL;
    *out = NULL;
    int rc = reader_new(name, opts, &r);
    if (rc < 0) {
        if (close_fd)
            close(fd);
        diag_file(diag, name ? name : "-");
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
        return rc;
    }
    r->fd = fd;
    r->close_fd = close_fd;
    rc = reader_start(r, diag);
    if (rc < 0) {
        cairn_telemetry_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cairn_telemetry_open_fd(int fd, bool close_fd, const char *name,
                            const struct cairn_telemetry_opts *opts,
                            struct cairn_telemetry_reader **out,
                            struct cairn_diag *diag)
{
    /* the descriptor may be anywhere in its file: read it as it comes */
    return open_fd(fd, close_fd, name, opts, out, diag);
}

int cairn_telemetry_open_mem(const void *data, size_t len, const char *name,
                             const struct cairn_telemetry_opts *opts,
                             struct cairn_telemetry_reader **out,
                             struct cairn_diag *diag)
{
    struct cairn_telemetry_reader *r = NULL;
    *out = NULL;
    int rc = reader_new(name, opts, &r);
    if (rc < 0) {
        diag_file(diag, name ? name : "-");
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
        return rc;
    }
    static const unsigned char empty[1];
    r->mem = data != NULL ? data : empty;
    r->mem_len = data != NULL ? len : 0;
    rc = reader_start(r, diag);
    if (rc < 0) {
        cairn_telemetry_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

_Static_assert(TELE_PAD <= CAIRN_TELEMETRY_PART_PAD,
               "a part must be readable as far as the SIMD loops read");

int cairn_telemetry_open_part(const struct cairn_telemetry_reader *head,
                              void *data, size_t len, bool release,
                              const char *name,
                              const struct cairn_telemetry_opts *opts,
                              struct cairn_telemetry_reader **out,
                              struct cairn_diag *diag)
{
    struct cairn_telemetry_reader *r = NULL;
    *out = NULL;
    int rc = reader_new(name, opts, &r);
    if (rc == 0 && head != NULL) {
        r->opts.format = head->format;
        if (head->format == CAIRN_TELEMETRY_ZEEK)
            rc = cairn__tele_header_share(r, head);
    }
    if (rc < 0) {
        cairn_telemetry_free(r);
        diag_file(diag, name ? name : "-");
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
        return rc;
    }
    static char empty[CAIRN_TELEMETRY_PART_PAD];
    r->zero_copy = true;
    r->release = release && data != NULL && len > 0;
    r->buf = data != NULL ? data : empty;
    r->cap = r->map_size = data != NULL ? len : 0;
    rc = reader_start(r, diag);
    if (rc < 0) {
        cairn_telemetry_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cairn_telemetry_open_range(const struct cairn_telemetry_reader *head,
                               int fd, uint64_t offset, uint64_t len,
                               const char *name,
                               const struct cairn_telemetry_opts *opts,
                               struct cairn_telemetry_reader **out,
                               struct cairn_diag *diag)
{
    struct cairn_telemetry_reader *r = NULL;
    *out = NULL;
    int rc = reader_new(name, opts, &r);
    if (rc == 0 && head != NULL) {
        r->opts.format = head->format;
        if (head->format == CAIRN_TELEMETRY_ZEEK)
            rc = cairn__tele_header_share(r, head);
    }
    if (rc < 0) {
        cairn_telemetry_free(r);
        diag_file(diag, name ? name : "-");
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "read", "out of memory");
        return rc;
    }
    r->fd = fd;
    r->close_fd = false;
    r->ranged = true;
    r->range_pos = offset;
    r->range_end = len <= UINT64_MAX - offset ? offset + len : UINT64_MAX;
    rc = reader_start(r, diag);
    if (rc < 0) {
        cairn_telemetry_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int cairn_telemetry_open(const char *path,
                         const struct cairn_telemetry_opts *opts,
                         struct cairn_telemetry_reader **out,
                         struct cairn_diag *diag)
{
    *out = NULL;
    if (path == NULL || strcmp(path, "-") == 0)
        return cairn_telemetry_open_fd(STDIN_FILENO, false, "-", opts, out,
                                       diag);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        diag_file(diag, path);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "open", "cannot open: %s",
                       strerror(errno));
        return CAIRN_EIO;
    }
    struct stat st;
    bool stat_ok = fstat(fd, &st) == 0;
    if (stat_ok && S_ISDIR(st.st_mode)) {
        close(fd);
        diag_file(diag, path);
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "open",
                       "is a directory, not a log file");
        return CAIRN_EIO;
    }
    /*
     * A regular file is read(), not mapped: copying out of the page cache
     * into a buffer that stays in the cache costs less CPU than touching
     * every page of a mapping (bench/hunt.sh), and a file truncated while
     * it is read only ends early.
     */
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return open_fd(fd, true, path, opts, out, diag);
}

void cairn_telemetry_free(struct cairn_telemetry_reader *r)
{
    if (r == NULL)
        return;
    if (r->close_fd && r->fd >= 0)
        close(r->fd);
    if (r->z_ready)
        inflateEnd(&r->z);
    ZSTD_freeDStream(r->zs);
    cairn__tele_header_clear(r);
    cairn_free(r->in);
    if (!r->zero_copy)
        cairn_free(r->buf);
    cairn_free(r->fields);
    cairn_free(r->scratch);
    cairn_free(r->name);
    cairn_free(r);
}

void cairn_telemetry_get_stats(const struct cairn_telemetry_reader *r,
                               struct cairn_telemetry_stats *out)
{
    *out = r->stats;
}

enum cairn_telemetry_format
cairn_telemetry_format_of(const struct cairn_telemetry_reader *r)
{
    return r->format;
}

const char *cairn_telemetry_zeek_path(const struct cairn_telemetry_reader *r)
{
    return r->format == CAIRN_TELEMETRY_ZEEK ? r->zeek_path : "";
}
