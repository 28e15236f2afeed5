/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry readers: logs in, events of typed values out. */
#ifndef CAIRN_TELEMETRY_H
#define CAIRN_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/error.h"
#include "cairn/values.h"

/*
 * Ownership: arguments are borrowed for the call (the options and the name
 * given to an open are copied). A reader owns its buffers; the event that
 * cairn_telemetry_next() fills, its fields and their values point into
 * them and stay valid until the next call on that reader or its _free.
 * One reader belongs to one thread; different readers share nothing, so
 * threads each open their own. Every _free accepts NULL.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* The formats a reader understands. */
enum cairn_telemetry_format {
    CAIRN_TELEMETRY_AUTO = 0, /* detect from the first bytes (see docs) */
    CAIRN_TELEMETRY_ZEEK,     /* Zeek TSV with its #fields header */
    CAIRN_TELEMETRY_JSON,     /* JSON lines, Zeek JSON included */
    CAIRN_TELEMETRY_CSV,      /* CSV with a header line (RFC 4180) */
    CAIRN_TELEMETRY_TEXT,     /* anything else: values extracted from text */
};

/* "auto", "zeek", "json", "csv", "text"; NULL for an unknown value. */
const char *cairn_telemetry_format_name(enum cairn_telemetry_format format);
/* The reverse; CAIRN_EINVAL for an unknown name. */
int cairn_telemetry_format_parse(const char *name,
                                 enum cairn_telemetry_format *out);

/* Default limits (see struct cairn_telemetry_opts). */
#define CAIRN_TELEMETRY_MAX_LINE     (1024 * 1024)
#define CAIRN_TELEMETRY_MAX_REPORTED 5
#define CAIRN_TELEMETRY_MAX_FIELDS   4096

/*
 * How to read. Start from cairn_telemetry_opts_init(); zero means default.
 * Malformed lines (bad JSON, a wrong number of columns, binary junk, a line
 * longer than max_line) are skipped and counted; the first max_reported of
 * each reader go to on_diag (severity warning, rule "malformed-line",
 * "long-line" or "binary-line", with the file and the 1-based line).
 */
struct cairn_telemetry_opts {
    enum cairn_telemetry_format format; /* AUTO, or force one */
    size_t max_line;                    /* longest line kept, bytes; 0: 1 MiB */
    unsigned max_reported;              /* malformed lines reported; 0: 5 */
    size_t max_fields;                  /* values per event kept; 0: 4096 */
    int year;              /* year of syslog stamps ("Nov 27 10:00:00");
                              0: the current year (UTC) */
    cairn_diag_cb on_diag; /* malformed-line reports; may be NULL */
    void *diag_ud;
};

void cairn_telemetry_opts_init(struct cairn_telemetry_opts *opts);

struct cairn_telemetry_reader;

/*
 * Open `path` ("-" for standard input) for reading. gzip and zstd input
 * (recognised by their magic bytes, whatever the name) is decoded as a
 * stream in bounded buffers. The format is detected from the first line
 * unless opts->format forces one; `opts` may be NULL for the defaults.
 * CAIRN_EIO when the file cannot be opened or read, CAIRN_EUNSUPPORTED for
 * a binary file that is neither text nor gzip/zstd, CAIRN_ENOMEM; `diag`
 * (may be NULL) names the file and says why.
 */
int cairn_telemetry_open(const char *path,
                         const struct cairn_telemetry_opts *opts,
                         struct cairn_telemetry_reader **out,
                         struct cairn_diag *diag);

/*
 * The same over an open descriptor (not closed by the reader unless
 * `close_fd`) or over `len` bytes in memory (borrowed: they must outlive
 * the reader). `name` is what events and messages call the source.
 */
int cairn_telemetry_open_fd(int fd, bool close_fd, const char *name,
                            const struct cairn_telemetry_opts *opts,
                            struct cairn_telemetry_reader **out,
                            struct cairn_diag *diag);
int cairn_telemetry_open_mem(const void *data, size_t len, const char *name,
                             const struct cairn_telemetry_opts *opts,
                             struct cairn_telemetry_reader **out,
                             struct cairn_diag *diag);

/*
 * Read `len` bytes in memory in place, with no copy, as one part of a log
 * read by several threads: with `head`, a reader that has read the log's
 * first lines to their end (its Zeek header, say), the part is read in
 * head's format under head's header, whose column tables are shared, not
 * copied (`head` must outlive the part and not be read on meanwhile);
 * with `head` NULL, as a log of its own. The bytes are plain text (no
 * gzip or zstd), writable (a JSON line's keys are ended with a NUL in
 * place: a private mapping of the file will do) and must stay readable for
 * CAIRN_TELEMETRY_PART_PAD bytes past `len` (the next part's, or zeros).
 * With `release` they lie in a private mapping of a file, whose pages
 * behind the reading are dropped (MADV_DONTNEED) as it moves on. Lines and offsets count from
 * the part's start. Errors as cairn_telemetry_open_mem.
 */
#define CAIRN_TELEMETRY_PART_PAD 64
int cairn_telemetry_open_part(const struct cairn_telemetry_reader *head,
                              void *data, size_t len, bool release,
                              const char *name,
                              const struct cairn_telemetry_opts *opts,
                              struct cairn_telemetry_reader **out,
                              struct cairn_diag *diag);

/*
 * Read bytes [offset, offset + len) of the regular file open as `fd`
 * (pread(); the descriptor's own offset is not used, it may be shared by
 * readers of other parts, and it is not closed) as one part of a log read
 * by several threads, `head` as for cairn_telemetry_open_part. The bytes
 * are plain text (no gzip or zstd); a part that ends early (the file was
 * truncated) ends there. Lines and offsets count from the part's start.
 * Errors as cairn_telemetry_open_mem.
 */
int cairn_telemetry_open_range(const struct cairn_telemetry_reader *head,
                               int fd, uint64_t offset, uint64_t len,
                               const char *name,
                               const struct cairn_telemetry_opts *opts,
                               struct cairn_telemetry_reader **out,
                               struct cairn_diag *diag);

/*
 * The next event: 1 with *ev filled, 0 at the end of the input, or a
 * negative code with `diag` naming the file: CAIRN_EIO for a read error,
 * CAIRN_EPARSE for a truncated or corrupt gzip/zstd stream (returned after
 * every complete line before the damage has been delivered). Lines that
 * carry no value (blank lines, Zeek headers) are not events. Once it has
 * returned 0 or an error, it keeps returning that.
 */
int cairn_telemetry_next(struct cairn_telemetry_reader *r,
                         struct cairn_hunt_event *ev, struct cairn_diag *diag);

void cairn_telemetry_free(struct cairn_telemetry_reader *r);

/* What a reader has seen so far. */
struct cairn_telemetry_stats {
    uint64_t bytes_in;  /* bytes read from the source (compressed) */
    uint64_t bytes;     /* bytes after decompression */
    uint64_t lines;     /* lines seen, headers and malformed ones included */
    uint64_t events;    /* events returned */
    uint64_t malformed; /* lines skipped as malformed */
};

void cairn_telemetry_get_stats(const struct cairn_telemetry_reader *r,
                               struct cairn_telemetry_stats *out);

/* The format in use (after detection: never AUTO once open). */
enum cairn_telemetry_format
cairn_telemetry_format_of(const struct cairn_telemetry_reader *r);

/*
 * The Zeek log's #path ("dns", "http", ...) once the header has been read
 * (after the first cairn_telemetry_next()); "" when not Zeek or unknown.
 */
const char *cairn_telemetry_zeek_path(const struct cairn_telemetry_reader *r);

/* ---- free text --------------------------------------------------------- */

/*
 * Find the values in `len` bytes of free text: IPv4 and IPv6 addresses,
 * URLs (scheme://...; each followed by its host as a DOMAIN/IPV4/IPV6
 * field), email addresses, domain names and MD5/SHA-1/SHA-256/SHA-512 hex
 * digests. At most `max` are stored in `out`, values pointing into `text`;
 * returns how many were found in all (may exceed `max`).
 */
size_t cairn_telemetry_extract(const char *text, size_t len,
                               struct cairn_hunt_field *out, size_t max);

/*
 * The type of one whole value by its shape: IPV4, IPV6, URL, EMAIL,
 * DOMAIN, MD5, SHA1, SHA256, SHA512, or CAIRN_IOC_UNKNOWN.
 */
enum cairn_ioc_type cairn_telemetry_classify(const char *value, size_t len);

/* ---- files --------------------------------------------------------------- */

/* Called once per event; a negative return stops the walk with that code. */
typedef int (*cairn_telemetry_event_cb)(const struct cairn_hunt_event *ev,
                                        void *ud);

/*
 * Hash `path`, a regular file or a directory walked recursively (sorted by
 * name; symbolic links are not followed): each regular file becomes one
 * event with fields MD5, SHA1, SHA256 (lower-case hex) and FILENAME (its
 * base name), `file` its path, line and offset 0. A file that cannot be
 * read is reported to opts->on_diag (rule "unreadable") and skipped.
 * Returns 0, CAIRN_EIO when `path` itself cannot be opened (`diag` says
 * why), or the callback's negative code.
 */
int cairn_telemetry_hash_files(const char *path,
                               const struct cairn_telemetry_opts *opts,
                               cairn_telemetry_event_cb cb, void *ud,
                               struct cairn_diag *diag);

/*
 * The regular files cairn_telemetry_hash_files would hash, in the same
 * order and with the same reports, without reading them: `cb` gets each
 * path and whether it is the path given (to be followed if a link). A
 * negative return of `cb` stops the walk and is returned.
 */
typedef int (*cairn_telemetry_path_cb)(const char *path, bool follow,
                                       void *ud);
int cairn_telemetry_list_files(const char *path,
                               const struct cairn_telemetry_opts *opts,
                               cairn_telemetry_path_cb cb, void *ud,
                               struct cairn_diag *diag);

/*
 * Hash one regular file into one event for `cb`, as
 * cairn_telemetry_hash_files does for each (a link is followed only with
 * `follow`). Unreadable: reported to opts->on_diag, returns 0. Returns 0,
 * CAIRN_ENOMEM, CAIRN_EINTERNAL, or the callback's negative code.
 */
int cairn_telemetry_hash_file(const char *path, bool follow,
                              const struct cairn_telemetry_opts *opts,
                              cairn_telemetry_event_cb cb, void *ud);

#ifdef __cplusplus
}
#endif

#endif
