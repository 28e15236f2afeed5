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
#define SEG_VERSION      4 /* written; 1 to 3 are still read */
#define SEG_VERSION_MIN  1
#define SEG_HEADER_LEN   16
#define SEG_CHUNK_VALUES 1024 /* values per chunk (formats 2 and 3) */
/* Events per block: a hunt decodes the whole block of each event it
 * reads back, so format 3 has small ones. */
#define SEG_BLOCK_EVENTS    256  /* format 3 */
#define SEG_BLOCK_EVENTS_V2 4096 /* formats 1 and 2 */
#define SEG_MAX_EVENTS   ((uint64_t)1 << 20) /* events in one segment */
#define SEG_MAX_FIELDS   4096                /* values in one event */
#define SEG_MAX_SECTION  ((uint64_t)1 << 31) /* decoded bytes of a section */

/* One stored section: where, how long stored and decoded, its CRC. */
struct seg_section {
    uint64_t off, len, raw_len;
    uint32_t crc;
};

/*
 * Format 1: NAMES, VALUES, POSTINGS, BLOCKS. Format 2 keeps the values
 * and their postings together in chunks of SEG_CHUNK_VALUES values (each
 * a zstd frame; VALUES is their directory, POSTINGS is empty) and adds
 * the probe index, stored uncompressed so that a hunt reads only the
 * parts it looks at: KEYS (hashes of the values' look-up keys) and ADDRS
 * (the addresses, sorted).
 */
enum {
    SEC_NAMES,
    SEC_VALUES,
    SEC_POSTINGS,
    SEC_BLOCKS,
    SEC_KEYS,
    SEC_ADDRS,
    SEC_COUNT
};
#define SEC_COUNT_V1 4

struct seg_footer {
    uint32_t version;
    uint64_t events, values, n_blocks, raw_bytes;
    uint64_t fields; /* (event, value) pairs: the postings */
    bool has_range;
    struct cairn_time first, last;
    struct seg_section sec[SEC_COUNT];
};

/* Footer: magic 8, u32 version, u32 crc, then the numbers. */
#define SEG_FOOTER_LEN_V(nsec) (16 + 8 * 5 + 1 + 2 * 12 + (nsec) * 28)
#define SEG_FOOTER_LEN_V1      SEG_FOOTER_LEN_V(SEC_COUNT_V1)
#define SEG_FOOTER_LEN         SEG_FOOTER_LEN_V(SEC_COUNT)
/* The footer's length in a segment of format `version` (0: unknown). */
size_t cairn__seg_footer_len(uint32_t version);

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
    uint32_t block_events; /* of every block but the last (the format's) */
    struct ZSTD_DCtx_s *dctx; /* reused for its blocks and chunks */
    struct seg_block *blocks;
    char **names;
    uint32_t *name_lens;
    uint64_t n_names;
    uint8_t *names_raw;
    struct seg_block *chunks; /* format 2: the value chunks (events: values) */
    uint64_t n_chunks;
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
/* The same, its events decoded only up to event `upto` of the block (the
 * block's checksum is verified whole): out->n is then upto + 1. */
int cairn__seg_block_upto(const struct seg_reader *r, uint64_t block,
                          const struct seg_values *v, uint32_t upto,
                          struct seg_block_events *out, char *why,
                          size_t why_len);
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

/* ---- chunks and the probe index (format 2) ------------------------------ */

/* One decoded chunk of values with their postings. */
struct seg_chunk {
    uint64_t first; /* its first value */
    uint32_t n;
    uint8_t *raw;
    uint8_t *types;
    uint32_t *offs, *lens; /* value text: raw + offs[i], lens[i] bytes */
    uint32_t *post, *post_end; /* its posting record in raw */
};

uint64_t cairn__seg_chunks(const struct seg_reader *r);
int cairn__seg_chunk(const struct seg_reader *r, uint64_t chunk,
                     struct seg_chunk *out, char *why, size_t why_len);
void cairn__seg_chunk_free(struct seg_chunk *c);
/* The posting record of value i of a chunk. */
int cairn__seg_chunk_posting(const struct seg_chunk *c, uint32_t i,
                             struct seg_posting *out);

/* The look-up keys of values, gathered while a segment is sealed. */
struct seg_pair {
    uint64_t h;
    uint32_t vid;
};
struct seg_v6 {
    uint8_t a[16];
    uint32_t vid, pad;
};
struct seg_keys {
    struct seg_pair *pairs;
    size_t n_pairs, cap_pairs;
    uint64_t *v4; /* address << 32 | value */
    size_t n_v4, cap_v4;
    struct seg_v6 *v6;
    size_t n_v6, cap_v6;
    uint32_t vid;
    int err;
    char url[CAIRN_VALUE_URL_MAX + 2];
};

#define SEG_KEYS_HEAD     24
#define SEG_ADDRS_HEAD    32
#define SEG_V4_BLOCK      128
#define SEG_KEYS_MAX_BITS 26
/* A key of more values than this is marked "many": those are scanned. */
#define SEG_KEYS_MAX_LIST 64

/* The hash of a key (ASCII case folded for the caseless types). */
uint64_t cairn__seg_key_hash(enum cairn_ioc_type t, const char *s, size_t len);
/* Add the keys under which the matcher of `cairn hunt` may look value
 * `vid` up. */
void cairn__seg_value_keys(struct seg_keys *k, enum cairn_ioc_type t,
                           const char *v, size_t len, uint32_t vid);
/* The KEYS and ADDRS sections (new buffers). CAIRN_ENOMEM. */
int cairn__seg_keys_build(struct seg_keys *k, uint8_t **keys, size_t *keys_len,
                          uint8_t **addrs, size_t *addrs_len);
void cairn__seg_keys_release(struct seg_keys *k);

/*
 * Format 4: the KEYS and ADDRS sections are followed by a checksum of each
 * SEG_PAGE bytes of theirs (the footer's checksum is that of this table),
 * so that a hunt verifies only the pages it reads. `ok` (a bitmap, NULL
 * when the whole section was verified) remembers the pages checked.
 */
#define SEG_PAGE 4096
struct seg_pages {
    const uint8_t *base, *sums;
    uint64_t len;
    uint8_t *ok;
};
/* The bytes of a format-4 probe section's page table for `len` bytes. */
uint64_t cairn__seg_page_table_len(uint64_t len);
/* The pages of `pg` holding [p, p + len) verified (once each): 0, or
 * CAIRN_EPARSE when a page's checksum does not match or the range is
 * outside the section. */
int cairn__seg_pages_check(const struct seg_pages *pg, const uint8_t *p,
                           uint64_t len);

struct seg_probe {
    struct seg_pages kp, ap; /* format 4: checked as read */
    uint8_t *ok_mem;
    unsigned bits;
    const uint8_t *dir, *ents, *over, *v4, *v6;
    const uint8_t *v4_pay;
    uint64_t n_ents, n_over, n4, nb4, v4_pay_len, n6, values;
};

/* Returned by cairn__seg_probe_hash for a key of too many values. */
#define SEG_PROBE_MANY 1
/* Called per value found; a negative return stops the probe. */
typedef int (*seg_probe_cb)(uint32_t vid, void *ud);

int cairn__seg_probe_open(const uint8_t *keys, size_t keys_len,
                          const uint8_t *addrs, size_t addrs_len,
                          uint64_t values, struct seg_probe *p);
int cairn__seg_probe_hash(const struct seg_probe *p, uint64_t h,
                          seg_probe_cb cb, void *ud);
int cairn__seg_probe_v4(const struct seg_probe *p, uint32_t lo, uint32_t hi,
                        seg_probe_cb cb, void *ud);
int cairn__seg_probe_v6(const struct seg_probe *p, const uint8_t lo[16],
                        const uint8_t hi[16], seg_probe_cb cb, void *ud);
/* How much of a probe index is verified when it is opened. */
enum seg_verify {
    SEG_VERIFY_NONE, /* verified before (by this process) */
    SEG_VERIFY_ALL,  /* every byte now */
    SEG_VERIFY_USED, /* format 4: each page when first read (else ALL) */
};
/* The probe index of an open segment of format 2: its sections checked
 * (their checksums as `how` says). CAIRN_EPARSE with `why`; the probe
 * index is then released. Release with cairn__seg_probe_close. */
int cairn__seg_probe(const struct seg_reader *r, enum seg_verify how,
                     struct seg_probe *p, char *why, size_t why_len);
void cairn__seg_probe_close(struct seg_probe *p);
/* The bytes [*off, *off + *len) of the file that hold the probe index
 * (bounds checked); CAIRN_EPARSE. */
int cairn__seg_probe_span(const struct seg_reader *r, uint64_t *off,
                          uint64_t *len);
/* As cairn__seg_probe, from a copy `span` of the file's bytes [span_off,
 * span_off + span_len) (read rather than mapped: see hunt.c). */
int cairn__seg_probe_in(const struct seg_reader *r, const uint8_t *span,
                        uint64_t span_off, uint64_t span_len,
                        enum seg_verify how, struct seg_probe *p, char *why,
                        size_t why_len);

/*
 * Verify everything of a segment: every CRC, every block's events, the
 * postings against the events. 0 or CAIRN_EPARSE with `why`.
 */
int cairn__seg_verify(struct seg_reader *r, char *why, size_t why_len);

/* Advise the kernel to back a large buffer (SEG_HUGE_MIN bytes or more)
 * with huge pages; smaller ones and refusals are left as they are. */
#define SEG_HUGE_MIN ((size_t)4 << 20)
void cairn__seg_huge(void *p, size_t len);
/* cairn_realloc of a buffer whose first `used` bytes matter, advised as
 * above when large. NULL when out of memory (`p` is then kept). */
void *cairn__seg_grow(void *p, size_t used, size_t len);

/* CRC-32 (zlib's): the journal, the catalogue, segments of formats 1
 * and 2. */
uint32_t cairn__seg_crc(const void *p, size_t len);
/* The checksum of a segment's bytes in format `version`: CRC-32 up to
 * format 2, the low 32 bits of XXH3-64 (about three times faster, so that
 * a hunt's check of a probe index is cheap) from format 3. */
uint32_t cairn__seg_sum(uint32_t version, const void *p, size_t len);
/* Events per block in a segment of format `version`. */
uint32_t cairn__seg_block_events(uint32_t version);

#endif
