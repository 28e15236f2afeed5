/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt` internals shared by its files and `cairn archive hunt`:
 * how hits are printed, where the sightings go. */
#ifndef CAIRN_CLI_HUNT_INT_H
#define CAIRN_CLI_HUNT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/cairn.h"
#include "cairn/hunt.h"
#include "cairn/sign.h"
#include "cairn/store.h"

/* How hits are printed on standard output. */
enum hunt_format {
    HUNT_OUT_NONE,  /* --stix: only the sighting bundle at the end */
    HUNT_OUT_TABLE, /* a terminal: aligned columns for a person */
    HUNT_OUT_TEXT,  /* a pipe: one tab-separated line per hit */
    HUNT_OUT_JSONL, /* --jsonl: one JSON object per hit */
};

/* Append the hit in `fmt` (one line, with its newline) to `out`. */
int hunt_format_hit(enum hunt_format fmt, const struct cairn_hunt_report *hit,
                    struct cairn_buf *out);

/* A JSON string (invalid UTF-8 as U+FFFD), as the hits' values. */
int hunt_put_json_string(struct cairn_buf *b, const char *s, size_t len);

/* The column heads of the table format, with a newline. */
int hunt_format_table_header(struct cairn_buf *out);

/* Where the helpers below say what went wrong: one line, no prefix. */
typedef void (*hunt_say_fn)(const char *text);

/* Write the sighting bundle to `path` ("-": standard output). */
int hunt_write_bundle(const json_t *bundle, const char *path, hunt_say_fn fn);

/*
 * Validate and store the sightings in collection `coll`, as every other
 * object comes in, signed by `signer` when not NULL. CAIRN_EINVALID when
 * some were refused (each said through `fn`).
 */
int hunt_store_bundle(struct cairn_store *s, const char *coll,
                      const json_t *bundle, const struct cairn_sign_key *signer,
                      hunt_say_fn fn);

#endif
