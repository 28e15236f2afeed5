/* SPDX-License-Identifier: Apache-2.0 */
/* Feeds into STIX 2.1: MISP feeds, mapped CSV, plain lists, FireEye CSV. */
#ifndef CAIRN_FEED_H
#define CAIRN_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"
#include "cairn/stix.h"

/*
 * Ownership: a converter (struct cairn_feed) owns what it remembers between
 * inputs (the ids it has handed out); inputs are borrowed for the call.
 * Objects handed to the emit callback are borrowed for the call: take a
 * reference (json_incref) to keep one. Every _free accepts NULL.
 *
 * Every object handed out has passed cairn_stix_validate_object with no
 * error, and indicators' patterns parse; one that would not is reported
 * and skipped instead. Each id is handed out once per converter, so SCOs,
 * identities and malware shared by several records appear once.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* Receives each object; a negative return stops the conversion with it. */
typedef int (*cairn_feed_emit_cb)(const json_t *obj, void *ud);

struct cairn_feed_opts {
    cairn_feed_emit_cb emit; /* required */
    void *emit_ud;
    /*
     * Every record skipped (file and line, or event and attribute uuid, in
     * the finding) and every input that cannot be read; may be NULL.
     */
    cairn_diag_cb report;
    void *report_ud;
    /* Marking of objects that carry no TLP of their own; NONE: none. */
    enum cairn_tlp tlp;
    /* Producer identity of list and CSV objects (created_by_ref); NULL: none.
     */
    const char *identity;
    /* Time of objects whose input has none; NULL: the current time. */
    const struct cairn_time *now;
};

struct cairn_feed_stats {
    size_t objects;     /* objects handed out */
    size_t indicators;  /* of which indicators */
    size_t observables; /* of which SCOs */
    size_t reports;     /* of which reports (MISP events) */
    size_t skipped;     /* records and inputs reported and not converted */
};

struct cairn_feed;

/* `opts` is copied (its strings are borrowed). CAIRN_EINVAL, CAIRN_ENOMEM. */
int cairn_feed_new(const struct cairn_feed_opts *opts, struct cairn_feed **out);
void cairn_feed_free(struct cairn_feed *f);

/* Counts since cairn_feed_new. */
void cairn_feed_get_stats(const struct cairn_feed *f,
                          struct cairn_feed_stats *out);

/*
 * The converters below return 0 when the input was read (records may have
 * been skipped: see the stats), CAIRN_EPARSE when the input as a whole is
 * malformed (reported, and counted as skipped), CAIRN_EIO when a file
 * cannot be read (reported), CAIRN_ENOMEM, or the negative value the emit
 * callback returned. `name` names the input in findings.
 */

/*
 * One MISP event in the MISP core format ({"Event": {...}}): the event
 * becomes a report, its creator organisation an identity, to_ids
 * attributes indicators, other attributes observed-data with their SCOs,
 * tags labels and TLP tags markings (docs/feeds.md has the whole mapping).
 */
int cairn_feed_misp_event(struct cairn_feed *f, const char *buf, size_t len,
                          const char *name);

/*
 * A MISP feed directory: PATH/manifest.json lists the event uuids, each
 * read from PATH/UUID.json. A missing or malformed manifest is CAIRN_EIO or
 * CAIRN_EPARSE; a missing or malformed event file is reported and skipped.
 */
int cairn_feed_misp_dir(struct cairn_feed *f, const char *path);

/*
 * Reads file `name` of a MISP feed ("manifest.json" or "UUID.json"): 0
 * with its bytes in *buf (NUL-terminated; the caller frees with
 * cairn_free) and *len, else a negative code with a sentence in `why`
 * (CAIRN_ENOMEM needs none). Puts the file's full name (a path or URL) in
 * `where`, for findings, whatever the outcome.
 */
typedef int (*cairn_feed_fetch_cb)(void *ud, const char *name, char *where,
                                   size_t where_len, char **buf, size_t *len,
                                   char *why, size_t why_len);

/*
 * A MISP feed whose files come through `fetch` (a web server's, say), as
 * cairn_feed_misp_dir reads a directory's: the same conversion, findings
 * and errors (a manifest that cannot be fetched is CAIRN_EIO, reported),
 * each failure to read named by its `where`.
 */
int cairn_feed_misp_feed(struct cairn_feed *f, cairn_feed_fetch_cb fetch,
                         void *ud);

/* A plain list: one value a line, '#' comments, defanged forms, detected. */
int cairn_feed_list(struct cairn_feed *f, const char *buf, size_t len,
                    const char *name);

/*
 * How the columns of a CSV file (named by its header row) make indicators:
 * "value=COLUMN[,type=COLUMN|TYPE][,name=COLUMN][,description=COLUMN]
 * [,valid_from=COLUMN][,valid_until=COLUMN][,labels=COLUMN]". TYPE is a
 * fixed type for every row (domain, ipv4, ipv6, url, email, md5, sha1,
 * sha256, sha512, filename, regkey) or "auto"; without type, each value's
 * type is detected. CAIRN_EINVAL with `diag` (may be NULL) filled.
 */
struct cairn_feed_csv_map;
int cairn_feed_csv_map_parse(const char *spec, struct cairn_feed_csv_map **out,
                             struct cairn_diag *diag);
void cairn_feed_csv_map_free(struct cairn_feed_csv_map *map);

/*
 * A CSV file (RFC 4180: quotes, "" inside quotes, CRLF or LF) whose first
 * row names the columns. A row with the wrong number of columns, an
 * unknown type or an unreadable time is reported with its line and
 * skipped. A header without the mapped columns is CAIRN_EPARSE.
 */
int cairn_feed_csv(struct cairn_feed *f, const char *buf, size_t len,
                   const char *name, const struct cairn_feed_csv_map *map);

/* Which kind of FireEye Indicator_Release_*.csv a header row is. */
enum cairn_feed_fireeye_kind {
    CAIRN_FEED_FIREEYE_NONE = 0,
    CAIRN_FEED_FIREEYE_NBIS,   /* network-based: FQDN, IP, ... */
    CAIRN_FEED_FIREEYE_HASHES, /* host-based: SHA256, SHA1, MD5, FILENAME */
};
enum cairn_feed_fireeye_kind cairn_feed_fireeye_detect(const char *buf,
                                                       size_t len);

/*
 * FireEye's Indicator_Release_NBIs.csv or _Hashes.csv (by the header):
 * indicators, the malware families named as malware SDOs, and an
 * "indicates" relationship from each indicator to its family.
 */
int cairn_feed_fireeye(struct cairn_feed *f, const char *buf, size_t len,
                       const char *name);

#ifdef __cplusplus
}
#endif

#endif
