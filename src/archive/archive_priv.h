/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the archive: the open archive, its segments, catalogue, follows. */
#ifndef CAIRN_ARCHIVE_PRIV_H
#define CAIRN_ARCHIVE_PRIV_H

#include <pthread.h>

#include "archive/archive_int.h"

/* A committed segment, as listed by the journal. */
struct arch_seg {
    uint64_t seq, size;
    bool bad; /* missing, or its footer is damaged */
    struct seg_footer foot;
};

/* An input whose content was (partly) added: its SHA-256. */
struct arch_input {
    uint8_t hash[32];
    uint64_t events; /* its first `events` events are committed */
    bool done;
};

/* A followed file's committed position. */
struct arch_follow_pos {
    char *key; /* hex of the path */
    uint64_t dev, ino, pos, lines;
};

struct arch_catalogue;

struct cairn_archive {
    char *dir;
    struct cairn_archive_opts o;
    int lock_fd, journal_fd;
    pthread_mutex_t add_mu; /* one add at a time; the writer, the journal */
    pthread_mutex_t seg_mu; /* the segment list */
    pthread_mutex_t msg_mu;
    struct arch_seg *segs;
    size_t n_segs, cap_segs;
    uint64_t next_seq;
    uint64_t seg_events; /* events per segment */
    uint64_t generation; /* changes with the segment list */
    struct arch_input *inputs;
    size_t n_inputs, cap_inputs;
    struct arch_follow_pos *follows;
    size_t n_follows, cap_follows;
    struct seg_writer *writer;
    /* segments whose probe index's checksums a hunt verified (sealed
     * segments never change), under msg_mu */
    uint64_t *probe_ok;
    size_t n_probe_ok, cap_probe_ok;
    /* the catalogue file mapped (catalogue.c), under cat_mu */
    pthread_mutex_t cat_mu;
    struct arch_catalogue *cat;
    uint64_t cat_generation;
    double cat_cpu; /* CPU seconds spent updating it */
};

/* All of `len` bytes to `fd`, again after EINTR; -1 with errno. */
int cairn__archive_write_all(int fd, const void *buf, size_t len);
/* Make the entries of directory `dir` durable; -1 with errno. */
int cairn__archive_fsync_dir(const char *dir);
void cairn__archive_say(struct cairn_archive *a, enum cairn_severity sev,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cairn__archive_seg_path(const struct cairn_archive *a, uint64_t seq,
                            char *buf, size_t len);
int cairn__archive_journal(struct cairn_archive *a, const char *record,
                           struct cairn_diag *diag);
/*
 * Seal the events being built into a segment and commit it, with the
 * progress of input `hash` (may be NULL) or a followed file's record
 * `follow` (may be NULL). Under add_mu.
 */
int cairn__archive_commit(struct cairn_archive *a, const uint8_t *hash,
                          uint64_t in_events, bool done, const char *follow,
                          const struct cairn_archive_add_opts *ao,
                          struct cairn_diag *diag);

/* A piece of a followed file: where it is, and its header put before it. */
struct arch_chunk {
    uint64_t pos, lines;         /* bytes and lines of the file before it */
    uint64_t head_len, head_lines; /* the header copied before it */
    const char *record;          /* the follow record to commit with it */
};

/*
 * Archive what a reader gives (after its first `skip` events), committing
 * a segment whenever one is full and at the end; with `chunk`, the events
 * are placed in the followed file and committed once, with its record.
 */
int cairn__archive_add_reader(struct cairn_archive *a,
                              struct cairn_telemetry_reader *r,
                              const struct cairn_archive_add_opts *ao,
                              const char *sensor, const uint8_t *hash,
                              uint64_t skip, const struct arch_chunk *chunk,
                              struct cairn_archive_add_stats *st,
                              struct cairn_diag *diag);
/* A copy of the segment list (the caller frees it). */
int cairn__archive_snapshot(struct cairn_archive *a, struct arch_seg **out,
                            size_t *n);

/* A segment file mapped read-only. */
struct arch_map {
    uint8_t *data;
    size_t len;
};
int cairn__archive_map(struct cairn_archive *a, const struct arch_seg *s,
                       struct arch_map *m, char *why, size_t why_len);
void cairn__archive_unmap(struct arch_map *m);

/* Whether segment `seq`'s probe index was verified; mark it so. */
bool cairn__archive_probe_verified(struct cairn_archive *a, uint64_t seq);
void cairn__archive_probe_mark(struct cairn_archive *a, uint64_t seq);

/* catalogue.c: the stored catalogue (catalogue.h has its format) */
int cairn__archive_catalogue_count(struct cairn_archive *a, uint64_t *out);
void cairn__archive_catalogue_free(struct cairn_archive *a);
/* At open (writers): a missing, damaged or out-of-date catalogue is
 * rebuilt from the segments, with a warning. */
int cairn__archive_catalogue_open(struct cairn_archive *a);
/* After segment `seq` (its bytes) was committed; under add_mu. */
void cairn__archive_catalogue_sealed(struct cairn_archive *a, uint64_t seq,
                                     const uint8_t *data, size_t len);
/* After segments were dropped; under add_mu. */
void cairn__archive_catalogue_dropped(struct cairn_archive *a);
/* The stored catalogue's size on disk. */
uint64_t cairn__archive_catalogue_bytes(struct cairn_archive *a);
/* CPU seconds this process spent updating the catalogue. */
double cairn__archive_catalogue_cpu(struct cairn_archive *a);
/* The number of problems found in the catalogue, each reported. */
int cairn__archive_catalogue_check(struct cairn_archive *a);
/* Called per catalogue value; a negative return stops the pass. */
typedef int (*arch_cat_hit_cb)(struct cairn_hunt_matcher *m,
                               enum cairn_ioc_type type, const char *value,
                               size_t len, uint64_t seg_lo, uint64_t seg_hi,
                               void *ud);
/*
 * Every value of the catalogue within the hunt's time bounds, to `cb`;
 * *covered (the caller frees it) gets the segments the catalogue covers.
 * 1 when the catalogue cannot be used (damaged; reported), 0, or < 0.
 */
int cairn__archive_catalogue_match(struct cairn_archive *a,
                                   struct cairn_hunt_matcher *m,
                                   const struct cairn_archive_hunt_opts *o,
                                   arch_cat_hit_cb cb, void *ud,
                                   uint64_t **covered, size_t *n_covered,
                                   uint64_t *values);

/* follow.c */
int cairn__archive_follow_record(struct cairn_archive *a, const char *key,
                                 uint64_t dev, uint64_t ino, uint64_t pos,
                                 uint64_t lines);
void cairn__archive_follow_forget(struct cairn_archive *a);

#endif
