/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the archive: the segment file format, its writer and reader. */
#ifndef CAIRN_ARCHIVE_INT_H
#define CAIRN_ARCHIVE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/archive.h"

/*
 * A segment is one file, written once and never changed (docs/archive.md,
 * "Segments"):
 *
 *   header   "CAIRNSG1", u32 version, u32 0
 *   blocks   zstd frames, each of up to SEG_BLOCK_EVENTS events
 *   names    zstd: the segment's strings (field names, files, sensors)
 *   values   zstd: every distinct (type, value) of the segment
 *   postings zstd: per value, its count, first and last time, its events
 *   blocks   the block directory (offset, lengths, events, CRC-32 each)
 *   footer   fixed size: counts, time range, the sections, CRC-32
 *
 * Events refer to their values by number, so each value is stored once
 * per segment. Every section carries the CRC-32 of its stored bytes.
 * Integers are little-endian; inside sections, LEB128 varints.
 */

#define SEG_MAGIC        "CAIRNSG1"
#define SEG_FOOT_MAGIC   "CAIRNSGF"
#define SEG_VERSION      1
#define SEG_HEADER_LEN   16
#define SEG_BLOCK_EVENTS 4096
#define SEG_MAX_EVENTS   ((uint64_t)1 << 20) /* events in one segment */
#define SEG_MAX_FIELDS   4096                /* values in one event */
#define SEG_MAX_SECTION  ((uint64_t)1 << 31) /* decoded bytes of a section */

/* One stored section: where, how long stored and decoded, its CRC. */
struct seg_section {
    uint64_t off, len, raw_len;
    uint32_t crc;
};

enum { SEC_NAMES, SEC_VALUES, SEC_POSTINGS, SEC_BLOCKS, SEC_COUNT };

struct seg_footer {
    uint64_t events, values, n_blocks, raw_bytes;
    uint64_t fields; /* (event, value) pairs: the postings */
    bool has_range;
    struct cairn_time first, last;
    struct seg_section sec[SEC_COUNT];
};

/* Footer: magic 8, u32 version, u32 crc, then the numbers. */
#define SEG_FOOTER_LEN (16 + 8 * 5 + 1 + 2 * 12 + SEC_COUNT * 28)

struct seg_block {
    uint64_t off, len, raw_len;
    uint32_t events, crc;
};

/* ---- writing ------------------------------------------------------------ */

struct seg_writer;

int cairn__seg_writer_new(struct seg_writer **out);
void cairn__seg_writer_free(struct seg_writer *w);
/* Forget every event (after a commit or a failed one). */
void cairn__seg_writer_reset(struct seg_writer *w);

/* Add one event; CAIRN_ENOMEM, CAIRN_ETOOBIG (a value of 2^24 bytes). */
int cairn__seg_writer_add(struct seg_writer *w,
                          const struct cairn_hunt_event *ev,
                          const char *sensor);
uint64_t cairn__seg_writer_events(const struct seg_writer *w);
/* Bytes held in memory for the segment being built. */
size_t cairn__seg_writer_memory(const struct seg_writer *w);
void cairn__seg_writer_add_raw(struct seg_writer *w, uint64_t bytes);

/*
 * The whole segment file in memory (the caller owns *out, freed with
 * cairn_free). CAIRN_ENOMEM.
 */
int cairn__seg_writer_finish(struct seg_writer *w, uint8_t **out,
                             size_t *len);

/* ---- reading ------------------------------------------------------------ */

/* A segment's values and postings, decoded. */
struct seg_values {
    uint64_t n;
    uint8_t *types;
    uint64_t *offs; /* value i is text[offs[i], offs[i] + lens[i]) */
    uint32_t *lens;
    char *text;     /* the decoded values section */
    uint8_t *postings; /* decoded postings section */
    size_t postings_len;
    uint64_t *post_off; /* n: where value i's postings start; NULL until
                           needed */
};

/* A segment file read: its footer, names and block directory. */
struct seg_reader {
    const uint8_t *data; /* the file, mapped or in memory (borrowed) */
    size_t len;
    struct seg_footer foot;
    struct seg_block *blocks;
    char **names;
    uint32_t *name_lens;
    uint64_t n_names;
    uint8_t *names_raw;
};

/*
 * Parse a segment's footer, names and block directory, checking their
 * CRCs and bounds. CAIRN_EPARSE with `why` (a sentence) when damaged;
 * CAIRN_ENOMEM.
 */
int cairn__seg_open(const uint8_t *data, size_t len, struct seg_reader *r,
                    char *why, size_t why_len);
void cairn__seg_close(struct seg_reader *r);
/* The footer alone, from the header followed by the footer's bytes. */
int cairn__seg_footer(const uint8_t *buf, size_t len, struct seg_footer *f);

/* Decode the values (and, with `postings`, the postings with offsets). */
int cairn__seg_values(struct seg_reader *r, bool postings,
                      struct seg_values *out, char *why, size_t why_len);
void cairn__seg_values_free(struct seg_values *v);
/* Decode the postings of values decoded without them (once). */
int cairn__seg_values_postings(struct seg_reader *r, struct seg_values *v,
                               char *why, size_t why_len);

/* One value's record in the postings. */
struct seg_posting {
    uint64_t count;
    bool has_ts;
    struct cairn_time first, last;
    const uint8_t *ids; /* varint deltas, `count` of them */
    const uint8_t *end;
};
int cairn__seg_posting(const struct seg_values *v, uint64_t value,
                       struct seg_posting *out);
/* The next event id of a posting list; false at its end or on damage. */
bool cairn__seg_posting_next(struct seg_posting *p, uint64_t *prev);

/* A decoded block: its events, their fields pointing into `v`. */
struct seg_block_events {
    uint64_t first; /* the block's first event in the segment */
    uint32_t n;
    struct seg_event {
        uint32_t source; /* names index of the file; sensor below */
        uint32_t sensor;
        uint64_t line, offset;
        bool has_ts;
        struct cairn_time ts;
        uint32_t n_fields;
        uint64_t field_off; /* in `fields` */
    } *events;
    struct seg_field {
        uint32_t name; /* names index + 1; 0 for none */
        uint64_t value;
    } *fields;
    uint64_t n_fields;
};

int cairn__seg_block(const struct seg_reader *r, uint64_t block,
                     const struct seg_values *v, struct seg_block_events *out,
                     char *why, size_t why_len);
void cairn__seg_block_free(struct seg_block_events *b);

/*
 * One event of a decoded block as a struct cairn_hunt_event; `fields`
 * has room for SEG_MAX_FIELDS. Returns the sensor's name.
 */
const char *cairn__seg_event(const struct seg_reader *r,
                             const struct seg_values *v,
                             const struct seg_block_events *b, uint32_t i,
                             struct cairn_hunt_field *fields,
                             struct cairn_hunt_event *ev);

/*
 * Verify everything of a segment: every CRC, every block's events, the
 * postings against the events. 0 or CAIRN_EPARSE with `why`.
 */
int cairn__seg_verify(struct seg_reader *r, char *why, size_t why_len);

/* CRC-32 (zlib's). */
uint32_t cairn__seg_crc(const void *p, size_t len);

#endif
