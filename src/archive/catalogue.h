/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the archive: the catalogue file, its writer and its reader. */
#ifndef CAIRN_ARCHIVE_CATALOGUE_H
#define CAIRN_ARCHIVE_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/archive.h"

/*
 * DATA/archive/catalogue: every distinct (type, value) of the segments it
 * covers, with its count, first and last time, and the first and last
 * segment holding it (docs/archive.md, "The catalogue"):
 *
 *   header  "CAIRNCT1", u32 version (1), u32 0
 *   blocks  zstd frames of up to CAT_BLOCK_VALUES records, sorted by
 *           (type, key); a key is the value, a domain's labels reversed
 *           (com.example.www) so that the names under a domain are one
 *           range; within a block each key shares a prefix with the last
 *   meta    per block: offset, stored and decoded length, records,
 *           CRC-32, its first key; then the segments covered
 *   footer  "CAIRNCTF", u32 version, u32 CRC-32 of the rest of the
 *           footer, u64 values, u64 meta offset, u64 meta length, u32
 *           meta CRC-32, u32 0
 *
 * Written whole to a temporary file, made durable, then renamed over the
 * old one: a crash leaves the old catalogue or the new one.
 */

#define CAT_MAGIC        "CAIRNCT1"
#define CAT_FOOT_MAGIC   "CAIRNCTF"
#define CAT_VERSION      1
#define CAT_HEADER_LEN   16
#define CAT_FOOTER_LEN   48
#define CAT_BLOCK_VALUES 4096
#define CAT_MAX_KEY      ((uint32_t)1 << 24) /* a value of a segment */
#define CAT_MAX_RAW      ((uint64_t)32 << 20) /* a decoded block */
#define CAT_MAX_TEXT     ((uint64_t)64 << 20) /* a block's keys, rebuilt */

/* One value's record. The key is in the form stored (domains reversed). */
struct cat_ent {
    uint64_t off; /* of the key, in the text it was decoded into */
    uint32_t len;
    uint8_t type;
    bool has_ts;
    uint64_t count;
    int64_t first, last; /* whole seconds since the epoch (rounded down) */
    uint64_t seg_lo, seg_hi;
};

struct cat_block {
    uint64_t off, len, raw_len;
    uint32_t n, crc;
    uint8_t type;
    uint32_t key_len;
    const uint8_t *key; /* its first key, in the file */
};

/* A catalogue file read: its footer and meta checked. */
struct cat_file {
    const uint8_t *data; /* borrowed */
    size_t len;
    uint64_t values, n_blocks, n_segs;
    struct cat_block *blocks;
    uint64_t *segs; /* the segments covered, ascending */
};

/*
 * Parse a catalogue's footer and meta, checking CRCs and bounds.
 * CAIRN_EPARSE with `why` (a sentence) when damaged; CAIRN_ENOMEM.
 */
int cairn__cat_open(const uint8_t *data, size_t len, struct cat_file *f,
                    char *why, size_t why_len);
void cairn__cat_close(struct cat_file *f);

/* One block decoded: its records, keys in `text`. */
struct cat_recs {
    struct cat_ent *v;
    uint32_t n;
    char *text;
    size_t text_cap;
    uint8_t *raw;
    size_t raw_cap;
    size_t cap;
};

/* Decode block `b` (its CRC checked) into `out` (reused across calls). */
int cairn__cat_block(const struct cat_file *f, uint64_t b,
                     struct cat_recs *out, char *why, size_t why_len);
void cairn__cat_recs_free(struct cat_recs *r);

/* The key of a value (its own form), into `out` of `len` bytes. */
void cairn__cat_key(uint8_t type, const char *v, size_t len, char *out);

#endif
