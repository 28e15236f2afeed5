/* SPDX-License-Identifier: Apache-2.0 */
/* The archive: its directory, journal of commits, adds, stats and checks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive/archive_int.h"
#include "archive/archive_priv.h"

#define JOURNAL        "journal"
#define LOCK_FILE      "lock"
#define JOURNAL_MAX    ((size_t)1 << 30)
#define SEG_MEMORY_MAX ((size_t)768 << 20) /* a segment being built */
#define MAX_DEPTH      64
#define SPOOL_CHUNK    ((size_t)1 << 20)

/* ---- messages ------------------------------------------------------------ */

void cairn__archive_say(struct cairn_archive *a, enum cairn_severity sev,
                        const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    if (a->o.on_msg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&a->msg_mu);
    a->o.on_msg(sev, text, a->o.ud);
    pthread_mutex_unlock(&a->msg_mu);
}

static int fail(struct cairn_diag *diag, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct cairn_diag *diag, int rc, const char *fmt, ...)
{
    char text[sizeof diag->message];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (diag != NULL)
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "archive", "%s", text);
    return rc;
}

/* ---- paths ---------------------------------------------------------------- */

int cairn__archive_seg_path(const struct cairn_archive *a, uint64_t seq,
                            char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%012llu.seg", a->dir,
                     (unsigned long long)seq);
    return n < 0 || (size_t)n >= len ? CAIRN_ETOOBIG : 0;
}

int cairn__archive_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- segments ------------------------------------------------------------- */

/* Read a segment's footer for the list (no data is decoded). */
static int seg_info(struct cairn_archive *a, struct arch_seg *s)
{
    char path[PATH_MAX];
    uint8_t buf[SEG_HEADER_LEN + SEG_FOOTER_LEN];
    struct stat st;
    int fd, rc = CAIRN_EIO;

    s->bad = true;
    if (cairn__archive_seg_path(a, s->seq, path, sizeof path) < 0)
        return CAIRN_ETOOBIG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CAIRN_EIO;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != s->size ||
        st.st_size < (off_t)(SEG_HEADER_LEN + SEG_FOOTER_LEN_V1))
        goto out;
    if (pread(fd, buf, SEG_HEADER_LEN, 0) != SEG_HEADER_LEN)
        goto out;
    /* the footer's length depends on the segment's format */
    size_t flen = cairn__seg_footer_len((uint32_t)buf[8] |
                                        (uint32_t)buf[9] << 8 |
                                        (uint32_t)buf[10] << 16 |
                                        (uint32_t)buf[11] << 24);
    if (flen == 0 || st.st_size < (off_t)(SEG_HEADER_LEN + flen) ||
        pread(fd, buf + SEG_HEADER_LEN, flen, st.st_size - (off_t)flen) !=
            (ssize_t)flen)
        goto out;
    rc = cairn__seg_footer(buf, SEG_HEADER_LEN + flen, &s->foot);
    if (rc == 0)
        s->bad = false;
out:
    close(fd);
    return rc;
}

static int segs_push(struct cairn_archive *a, const struct arch_seg *s)
{
    if (a->n_segs == a->cap_segs) {
        size_t cap = a->cap_segs ? a->cap_segs * 2 : 16;
        struct arch_seg *v = cairn_realloc(a->segs, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        a->segs = v;
        a->cap_segs = cap;
    }
    a->segs[a->n_segs++] = *s;
    return 0;
}

/* ---- inputs already added -------------------------------------------------- */

static struct arch_input *input_find(struct cairn_archive *a,
                                     const uint8_t hash[32])
{
    for (size_t i = a->n_inputs; i-- > 0;) {
        if (memcmp(a->inputs[i].hash, hash, 32) == 0)
            return &a->inputs[i];
    }
    return NULL;
}

static int input_set(struct cairn_archive *a, const uint8_t hash[32],
                     uint64_t events, bool done)
{
    struct arch_input *in = input_find(a, hash);
    if (in == NULL) {
        if (a->n_inputs == a->cap_inputs) {
            size_t cap = a->cap_inputs ? a->cap_inputs * 2 : 16;
            struct arch_input *v = cairn_realloc(a->inputs, cap * sizeof *v);
            if (v == NULL)
                return CAIRN_ENOMEM;
            a->inputs = v;
            a->cap_inputs = cap;
        }
        in = &a->inputs[a->n_inputs++];
        memcpy(in->hash, hash, 32);
    }
    in->events = events;
    in->done = done;
    return 0;
}

static void hex32(const uint8_t h[32], char out[65])
{
    static const char x[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = x[h[i] >> 4];
        out[2 * i + 1] = x[h[i] & 15];
    }
    out[64] = '\0';
}

static bool unhex32(const char *s, uint8_t h[32])
{
    for (int i = 0; i < 64; i++) {
        int c = s[i], v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            return false;
        if (i % 2 == 0)
            h[i / 2] = (uint8_t)(v << 4);
        else
            h[i / 2] |= (uint8_t)v;
    }
    return s[64] == '\0';
}

/* ---- the journal ----------------------------------------------------------
 *
 * One line per commit, "RECORD CRC\n", CRC-32 of RECORD in hex:
 *   seg SEQ SIZE EVENTS [HASH EVENTS DONE]   a sealed segment (and the
 *                                            progress of its input)
 *   input HASH EVENTS DONE                   an input's progress alone
 *   drop SEQ                                 a segment dropped (keep=)
 *   seg SEQ SIZE EVENTS follow KEY DEV INO POS LINES
 *   follow KEY DEV INO POS LINES             a followed file's position
 * A line that is incomplete or fails its CRC ends the journal: it was
 * being written when the process stopped, and nothing after it counts.
 */

static int apply_line(struct cairn_archive *a, char *line)
{
    char *tok[12];
    int n = 0;
    for (char *p = line; n < 12;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        tok[n++] = p;
        p = strchr(p, ' ');
        if (p == NULL)
            break;
        *p++ = '\0';
    }
    char *end;
    if (n >= 4 && strcmp(tok[0], "seg") == 0) {
        struct arch_seg s = {0};
        s.seq = strtoull(tok[1], &end, 10);
        s.size = strtoull(tok[2], &end, 10);
        if (segs_push(a, &s) < 0)
            return CAIRN_ENOMEM;
        if (s.seq >= a->next_seq)
            a->next_seq = s.seq + 1;
        if (n == 10 && strcmp(tok[4], "follow") == 0)
            return cairn__archive_follow_record(
                a, tok[5], strtoull(tok[6], &end, 10),
                strtoull(tok[7], &end, 10), strtoull(tok[8], &end, 10),
                strtoull(tok[9], &end, 10));
        if (n == 7) {
            uint8_t h[32];
            if (!unhex32(tok[4], h))
                return CAIRN_EPARSE;
            return input_set(a, h, strtoull(tok[5], &end, 10),
                             tok[6][0] == '1');
        }
        return 0;
    }
    if (n == 4 && strcmp(tok[0], "input") == 0) {
        uint8_t h[32];
        if (!unhex32(tok[1], h))
            return CAIRN_EPARSE;
        return input_set(a, h, strtoull(tok[2], &end, 10), tok[3][0] == '1');
    }
    if (n == 2 && strcmp(tok[0], "drop") == 0) {
        uint64_t seq = strtoull(tok[1], &end, 10);
        for (size_t i = 0; i < a->n_segs; i++) {
            if (a->segs[i].seq == seq) {
                memmove(&a->segs[i], &a->segs[i + 1],
                        (a->n_segs - i - 1) * sizeof *a->segs);
                a->n_segs--;
                break;
            }
        }
        return 0;
    }
    if (n == 6 && strcmp(tok[0], "follow") == 0)
        return cairn__archive_follow_record(
            a, tok[1], strtoull(tok[2], &end, 10), strtoull(tok[3], &end, 10),
            strtoull(tok[4], &end, 10), strtoull(tok[5], &end, 10));
    return CAIRN_EPARSE;
}

/* Read the journal; returns the length of its valid part, or < 0. */
static int64_t read_journal(struct cairn_archive *a, int fd,
                            struct cairn_diag *diag)
{
    struct stat st;
    char *buf = NULL;
    int64_t good = 0;

    if (fstat(fd, &st) < 0)
        return fail(diag, CAIRN_EIO, "%s/" JOURNAL ": %s", a->dir,
                    strerror(errno));
    if ((uint64_t)st.st_size > JOURNAL_MAX)
        return fail(diag, CAIRN_ETOOBIG, "%s/" JOURNAL ": too large", a->dir);
    size_t len = (size_t)st.st_size;
    buf = cairn_malloc(len + 1);
    if (buf == NULL)
        return CAIRN_ENOMEM;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
        if (r <= 0) {
            cairn_free(buf);
            return fail(diag, CAIRN_EIO, "%s/" JOURNAL ": %s", a->dir,
                        r < 0 ? strerror(errno) : "short read");
        }
        got += (size_t)r;
    }
    buf[len] = '\0';
    size_t pos = 0;
    bool first = true;
    while (pos < len) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        if (nl == NULL)
            break;
        *nl = '\0';
        char *line = buf + pos;
        if (first) {
            first = false;
            if (strcmp(line, "cairn-archive 1") != 0) {
                cairn_free(buf);
                return fail(diag, CAIRN_EPARSE,
                            "%s is not a cairn archive of a known format",
                            a->dir);
            }
            pos = (size_t)(nl - buf) + 1;
            good = (int64_t)pos;
            continue;
        }
        char *sp = strrchr(line, ' ');
        if (sp == NULL)
            break;
        *sp = '\0';
        char *end;
        unsigned long crc = strtoul(sp + 1, &end, 16);
        if (*end != '\0' || crc != cairn__seg_crc(line, strlen(line)))
            break;
        int rc = apply_line(a, line);
        if (rc == CAIRN_ENOMEM) {
            cairn_free(buf);
            return rc;
        }
        if (rc < 0)
            break;
        pos = (size_t)(nl - buf) + 1;
        good = (int64_t)pos;
    }
    if (first && len > 0) {
        cairn_free(buf);
        return fail(diag, CAIRN_EPARSE, "%s is not a cairn archive", a->dir);
    }
    if ((size_t)good < len)
        cairn__archive_say(a, CAIRN_SEV_WARNING,
                           "%s/" JOURNAL ": %zu bytes after the last commit "
                           "dropped (an interrupted add)",
                           a->dir, len - (size_t)good);
    cairn_free(buf);
    return good;
}

/* Append one record and make it durable. */
int cairn__archive_journal(struct cairn_archive *a, const char *record,
                           struct cairn_diag *diag)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s %08x\n", record,
                     cairn__seg_crc(record, strlen(record)));
    if (n < 0 || (size_t)n >= sizeof line)
        return fail(diag, CAIRN_ETOOBIG, "journal record too long");
    off_t at = lseek(a->journal_fd, 0, SEEK_END);
    if (at < 0)
        return fail(diag, CAIRN_EIO, "%s/" JOURNAL ": %s", a->dir,
                    strerror(errno));
    ssize_t w = write(a->journal_fd, line, (size_t)n);
    if (w != n || fdatasync(a->journal_fd) < 0) {
        int e = w < 0 ? errno : w != n ? ENOSPC : errno;
        /* Take back what was written: recovery would drop it anyway. */
        if (ftruncate(a->journal_fd, at) < 0) {
            /* left for recovery: a torn line fails its CRC */
        }
        return fail(diag, CAIRN_EIO, "%s/" JOURNAL ": cannot commit: %s%s",
                    a->dir, strerror(e),
                    e == ENOSPC ? " (the disk is full; nothing of this "
                                  "commit was kept)"
                                : "");
    }
    return 0;
}

/* ---- opening ------------------------------------------------------------- */

static int take_lock(struct cairn_archive *a, struct cairn_diag *diag)
{
    char path[PATH_MAX], pid[32] = "";

    snprintf(path, sizeof path, "%s/" LOCK_FILE, a->dir);
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->lock_fd < 0)
        return fail(diag, CAIRN_EIO, "%s: %s", path, strerror(errno));
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        ssize_t n = pread(a->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return fail(diag, CAIRN_EBUSY,
                    "%s is being written by another process%s%s", a->dir,
                    pid[0] ? ": pid " : "", pid);
    }
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(a->lock_fd, 0) < 0 ||
        pwrite(a->lock_fd, pid, (size_t)n, 0) != n) {
        /* the pid is only a courtesy to the next writer */
    }
    return 0;
}

static bool is_live(const struct cairn_archive *a, uint64_t seq)
{
    for (size_t i = 0; i < a->n_segs; i++)
        if (a->segs[i].seq == seq)
            return true;
    return false;
}

/* Remove what a crash left: temporary files, segments never committed. */
static void sweep(struct cairn_archive *a)
{
    DIR *d = opendir(a->dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        const char *n = de->d_name;
        size_t len = strlen(n);
        bool drop = false;
        if (strncmp(n, "tmp-", 4) == 0) {
            drop = true;
        } else if (len == 16 && strcmp(n + 12, ".seg") == 0) {
            char *end;
            unsigned long long seq = strtoull(n, &end, 10);
            drop = end == n + 12 && !is_live(a, seq);
        }
        if (!drop)
            continue;
        snprintf(path, sizeof path, "%s/%s", a->dir, n);
        if (unlink(path) == 0 && strncmp(n, "tmp-", 4) != 0)
            cairn__archive_say(a, CAIRN_SEV_WARNING,
                               "%s: segment never committed, removed", path);
    }
    closedir(d);
}

int cairn_archive_open(const char *dir, const struct cairn_archive_opts *opts,
                       struct cairn_archive **out, struct cairn_diag *diag)
{
    struct cairn_archive *a = NULL;
    char path[PATH_MAX];
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    if (dir == NULL || strlen(dir) + 32 >= PATH_MAX)
        return fail(diag, CAIRN_EINVAL, "archive directory name too long");
    a = cairn_calloc(1, sizeof *a);
    if (a == NULL)
        return CAIRN_ENOMEM;
    a->lock_fd = -1;
    a->journal_fd = -1;
    if (opts != NULL)
        a->o = *opts;
    a->seg_events = a->o.segment_events > 0 &&
                            a->o.segment_events < SEG_MAX_EVENTS
                        ? a->o.segment_events
                        : SEG_MAX_EVENTS;
    pthread_mutex_init(&a->add_mu, NULL);
    pthread_mutex_init(&a->seg_mu, NULL);
    pthread_mutex_init(&a->msg_mu, NULL);
    pthread_mutex_init(&a->cat_mu, NULL);
    a->dir = cairn_strdup(dir);
    if (a->dir == NULL)
        goto fail;
    a->next_seq = 1;
    if (!a->o.read_only && mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = fail(diag, CAIRN_EIO, "cannot create %s: %s", dir,
                  strerror(errno));
        goto fail;
    }
    if (!a->o.read_only && (rc = take_lock(a, diag)) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/" JOURNAL, dir);
    a->journal_fd = open(path,
                         a->o.read_only ? O_RDONLY | O_CLOEXEC
                                        : O_RDWR | O_CREAT | O_CLOEXEC,
                         0600);
    if (a->journal_fd < 0) {
        rc = fail(diag, CAIRN_EIO, "%s: %s%s", a->o.read_only ? dir : path,
                  errno == ENOENT ? "no archive here" : strerror(errno),
                  errno == ENOENT ? " (cairn archive add creates one)" : "");
        goto fail;
    }
    int64_t good = read_journal(a, a->journal_fd, diag);
    if (good < 0) {
        rc = (int)good;
        goto fail;
    }
    if (!a->o.read_only) {
        if (good == 0) {
            static const char head[] = "cairn-archive 1\n";
            if (ftruncate(a->journal_fd, 0) < 0 ||
                pwrite(a->journal_fd, head, sizeof head - 1, 0) !=
                    (ssize_t)(sizeof head - 1) ||
                fsync(a->journal_fd) < 0 || cairn__archive_fsync_dir(dir) < 0) {
                rc = fail(diag, CAIRN_EIO, "%s: cannot write: %s", path,
                          strerror(errno));
                goto fail;
            }
        } else {
            struct stat st;
            if (fstat(a->journal_fd, &st) == 0 && st.st_size > good &&
                (ftruncate(a->journal_fd, good) < 0 ||
                 fsync(a->journal_fd) < 0)) {
                rc = fail(diag, CAIRN_EIO, "%s: cannot repair: %s", path,
                          strerror(errno));
                goto fail;
            }
        }
        sweep(a);
        rc = cairn__seg_writer_new(&a->writer);
        if (rc < 0)
            goto fail;
    }
    for (size_t i = 0; i < a->n_segs; i++) {
        if (seg_info(a, &a->segs[i]) < 0)
            cairn__archive_say(a, CAIRN_SEV_WARNING,
                               "%s/%012llu.seg: missing or damaged; hunts "
                               "skip it (see cairn archive check)",
                               dir, (unsigned long long)a->segs[i].seq);
    }
    rc = cairn__archive_catalogue_open(a);
    if (rc < 0)
        goto fail;
    *out = a;
    return 0;
fail:
    cairn_archive_free(a);
    return rc;
}

void cairn_archive_free(struct cairn_archive *a)
{
    if (a == NULL)
        return;
    cairn__archive_catalogue_free(a);
    cairn__seg_writer_free(a->writer);
    if (a->journal_fd >= 0)
        close(a->journal_fd);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    cairn__archive_follow_forget(a);
    pthread_mutex_destroy(&a->add_mu);
    pthread_mutex_destroy(&a->seg_mu);
    pthread_mutex_destroy(&a->msg_mu);
    pthread_mutex_destroy(&a->cat_mu);
    cairn_free(a->segs);
    cairn_free(a->inputs);
    cairn_free(a->probe_ok);
    cairn_free(a->dir);
    cairn_free(a);
}

/* ---- committing a segment ------------------------------------------------ */

int cairn__archive_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Drop the oldest segments past keep= and max_size= (under add_mu): keep=
 * drops every segment whose last event is older; max_size= drops the
 * oldest while the total is larger, but never the newest segment.
 */
static uint64_t retain(struct cairn_archive *a)
{
    uint64_t total = 0, dropped = 0;
    struct cairn_time now = cairn_time_now(0);

    if (a->o.keep_seconds == 0 && a->o.max_size == 0)
        return 0;
    pthread_mutex_lock(&a->seg_mu);
    for (size_t i = 0; i < a->n_segs; i++)
        total += a->segs[i].size;
    pthread_mutex_unlock(&a->seg_mu);
    for (;;) {
        pthread_mutex_lock(&a->seg_mu);
        if (a->n_segs == 0) {
            pthread_mutex_unlock(&a->seg_mu);
            break;
        }
        struct arch_seg s = a->segs[0];
        bool old = a->o.keep_seconds > 0 && s.foot.has_range &&
                   s.foot.last.sec + (int64_t)a->o.keep_seconds < now.sec;
        bool big = a->o.max_size > 0 && total > a->o.max_size &&
                   a->n_segs > 1;
        pthread_mutex_unlock(&a->seg_mu);
        if (!old && !big)
            break;
        char rec[64], path[PATH_MAX];
        snprintf(rec, sizeof rec, "drop %llu", (unsigned long long)s.seq);
        if (cairn__archive_journal(a, rec, NULL) < 0)
            break;
        pthread_mutex_lock(&a->seg_mu);
        memmove(&a->segs[0], &a->segs[1], (a->n_segs - 1) * sizeof *a->segs);
        a->n_segs--;
        a->generation++;
        pthread_mutex_unlock(&a->seg_mu);
        total -= s.size;
        dropped++;
        if (cairn__archive_seg_path(a, s.seq, path, sizeof path) == 0)
            unlink(path);
    }
    if (dropped > 0)
        cairn__archive_catalogue_dropped(a);
    return dropped;
}

int cairn_archive_prune(struct cairn_archive *a, uint64_t *dropped)
{
    if (a == NULL)
        return CAIRN_EINVAL;
    if (a->o.read_only)
        return CAIRN_EPERM;
    pthread_mutex_lock(&a->add_mu);
    uint64_t n = retain(a);
    pthread_mutex_unlock(&a->add_mu);
    if (dropped != NULL)
        *dropped = n;
    return 0;
}

int cairn_archive_parse_age(const char *text, uint64_t *seconds)
{
    char *end;
    uint64_t mul = 1;

    if (text == NULL || seconds == NULL || text[0] < '0' || text[0] > '9')
        return CAIRN_EINVAL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return CAIRN_EINVAL;
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = 86400;
        break;
    case 'w':
        mul = 7 * 86400;
        break;
    default:
        return CAIRN_EINVAL;
    }
    if (*end != '\0' && end[1] != '\0')
        return CAIRN_EINVAL;
    if (v > UINT64_MAX / mul / 2)
        return CAIRN_EINVAL;
    *seconds = (uint64_t)v * mul;
    return 0;
}

/* Call on_event for each event of a segment just committed. */
static void announce(struct cairn_archive *a, uint64_t seq, const uint8_t *data,
                     size_t len, const struct cairn_archive_add_opts *ao)
{
    struct seg_reader r;
    struct seg_values v;
    struct seg_block_events b;
    struct cairn_hunt_field *fields = NULL;
    char why[200];

    if (cairn__seg_open(data, len, &r, why, sizeof why) < 0)
        return;
    if (cairn__seg_values(&r, false, &v, why, sizeof why) < 0) {
        cairn__seg_close(&r);
        return;
    }
    fields = cairn_malloc(SEG_MAX_FIELDS * sizeof *fields);
    for (uint64_t bl = 0; fields != NULL && bl < r.foot.n_blocks; bl++) {
        if (cairn__seg_block(&r, bl, &v, &b, why, sizeof why) < 0)
            break;
        for (uint32_t i = 0; i < b.n; i++) {
            struct cairn_hunt_event ev;
            const char *sensor = cairn__seg_event(&r, &v, &b, i, fields, &ev);
            uint64_t id = (seq << 32) | (b.first + i);
            if (ao->on_event(&ev, sensor, id, ao->ud) < 0)
                cairn__archive_say(a, CAIRN_SEV_WARNING,
                                   "%s:%llu: the live hunt of this event "
                                   "failed",
                                   ev.file, (unsigned long long)ev.line);
        }
        cairn__seg_block_free(&b);
    }
    cairn_free(fields);
    cairn__seg_values_free(&v);
    cairn__seg_close(&r);
}

/*
 * Seal the events being built into a segment and commit it with the
 * progress of input `hash` (NULL: none): written to a temporary file,
 * made durable, renamed, then one journal line. Under add_mu.
 */
int cairn__archive_commit(struct cairn_archive *a, const uint8_t *hash,
                          uint64_t in_events, bool done, const char *follow,
                          const struct cairn_archive_add_opts *ao,
                          struct cairn_diag *diag)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char tmp[PATH_MAX], path[PATH_MAX], rec[512], hx[65];
    int fd = -1, rc;

    if (cairn__seg_writer_events(a->writer) == 0) {
        if (follow != NULL)
            return cairn__archive_journal(a, follow, diag);
        if (hash == NULL)
            return 0;
        hex32(hash, hx);
        snprintf(rec, sizeof rec, "input %s %llu %d", hx,
                 (unsigned long long)in_events, done ? 1 : 0);
        rc = cairn__archive_journal(a, rec, diag);
        if (rc == 0)
            rc = input_set(a, hash, in_events, done);
        return rc;
    }
    uint64_t seq = a->next_seq;
    uint64_t n_events = cairn__seg_writer_events(a->writer);
    rc = cairn__seg_writer_finish(a->writer, &data, &len);
    cairn__seg_writer_reset(a->writer);
    if (rc < 0)
        return fail(diag, rc, "sealing a segment: %s", cairn_strerror(rc));
    snprintf(tmp, sizeof tmp, "%s/tmp-%012llu.seg", a->dir,
             (unsigned long long)seq);
    if ((rc = cairn__archive_seg_path(a, seq, path, sizeof path)) < 0)
        goto out;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || cairn__archive_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        rc = fail(diag, CAIRN_EIO, "%s: %s%s", tmp, strerror(e),
                  e == ENOSPC ? " (the disk is full; the events of this "
                                "segment were not added)"
                              : "");
        if (fd >= 0)
            close(fd);
        fd = -1;
        unlink(tmp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0 || cairn__archive_fsync_dir(a->dir) < 0) {
        rc = fail(diag, CAIRN_EIO, "%s: %s", path, strerror(errno));
        unlink(tmp);
        unlink(path);
        goto out;
    }
    int n = snprintf(rec, sizeof rec, "seg %llu %zu %llu",
                     (unsigned long long)seq, len,
                     (unsigned long long)n_events);
    if (follow != NULL) {
        snprintf(rec + n, sizeof rec - (size_t)n, " %s", follow);
    } else if (hash != NULL) {
        hex32(hash, hx);
        snprintf(rec + n, sizeof rec - (size_t)n, " %s %llu %d", hx,
                 (unsigned long long)in_events, done ? 1 : 0);
    }
    rc = cairn__archive_journal(a, rec, diag);
    if (rc < 0) {
        unlink(path);
        goto out;
    }
    a->next_seq = seq + 1;
    if (follow == NULL && hash != NULL &&
        (rc = input_set(a, hash, in_events, done)) < 0)
        goto out;
    struct arch_seg s = {.seq = seq, .size = len};
    char why[200];
    struct seg_reader r;
    if (cairn__seg_open(data, len, &r, why, sizeof why) == 0) {
        s.foot = r.foot;
        cairn__seg_close(&r);
    }
    pthread_mutex_lock(&a->seg_mu);
    rc = segs_push(a, &s);
    a->generation++;
    pthread_mutex_unlock(&a->seg_mu);
    if (rc < 0)
        goto out;
    cairn__archive_catalogue_sealed(a, seq, data, len);
    if (ao != NULL && ao->on_event != NULL)
        announce(a, seq, data, len, ao);
    retain(a);
out:
    cairn_free(data);
    return rc;
}

/* ---- adding --------------------------------------------------------------- */

struct add_ctx {
    struct cairn_archive *a;
    const struct cairn_archive_add_opts *ao;
    struct cairn_archive_add_stats *st;
    struct cairn_diag *diag;
    char host[256];
    const char *sensor;
};

/*
 * Archive the events of an open reader; the first `skip` were committed
 * by an earlier, interrupted add of the same content. Under add_mu.
 */
static int add_reader(struct add_ctx *c, struct cairn_telemetry_reader *r,
                      const uint8_t hash[32], uint64_t skip)
{
    return cairn__archive_add_reader(c->a, r, c->ao, c->sensor, hash, skip,
                                     NULL, c->st, c->diag);
}

int cairn__archive_add_reader(struct cairn_archive *a,
                              struct cairn_telemetry_reader *r,
                              const struct cairn_archive_add_opts *ao,
                              const char *sensor, const uint8_t *hash,
                              uint64_t skip, const struct arch_chunk *chunk,
                              struct cairn_archive_add_stats *st,
                              struct cairn_diag *diag)
{
    struct cairn_hunt_event ev;
    struct cairn_telemetry_stats ts;
    struct cairn_diag rd;
    uint64_t n = 0, raw_seen = 0;
    int rc;

    cairn_diag_clear(&rd);
    for (;;) {
        rc = cairn_telemetry_next(r, &ev, &rd);
        if (rc <= 0)
            break;
        if (n++ < skip)
            continue;
        if (chunk != NULL) {
            ev.line = ev.line - chunk->head_lines + chunk->lines;
            ev.offset = ev.offset - chunk->head_len + chunk->pos;
        }
        rc = cairn__seg_writer_add(a->writer, &ev, sensor);
        if (rc < 0) {
            cairn__seg_writer_reset(a->writer);
            return fail(diag, rc, "%s:%llu: %s", ev.file,
                        (unsigned long long)ev.line, cairn_strerror(rc));
        }
        st->events++;
        /* A followed chunk is small and committed whole with its place. */
        if (chunk == NULL &&
            (cairn__seg_writer_events(a->writer) >= a->seg_events ||
             cairn__seg_writer_memory(a->writer) >= SEG_MEMORY_MAX)) {
            cairn_telemetry_get_stats(r, &ts);
            cairn__seg_writer_add_raw(a->writer, ts.bytes - raw_seen);
            raw_seen = ts.bytes;
            rc = cairn__archive_commit(a, hash, n, false, NULL, ao, diag);
            if (rc < 0)
                return rc;
        }
    }
    int read_rc = rc;
    cairn_telemetry_get_stats(r, &ts);
    uint64_t extra = chunk != NULL ? chunk->head_len : 0;
    uint64_t raw = ts.bytes > raw_seen + extra ? ts.bytes - raw_seen - extra
                                               : 0;
    cairn__seg_writer_add_raw(a->writer, raw);
    st->bytes += ts.bytes > extra ? ts.bytes - extra : 0;
    st->lines += ts.lines > (chunk ? chunk->head_lines : 0)
                     ? ts.lines - (chunk ? chunk->head_lines : 0)
                     : 0;
    st->malformed += ts.malformed;
    if (read_rc < 0)
        st->damaged++;
    if (chunk != NULL && read_rc < 0) {
        cairn__seg_writer_reset(a->writer);
        if (diag != NULL)
            *diag = rd;
        return read_rc;
    }
    /* A damaged input keeps what came before the damage, and is not
     * marked done: the same bytes added again add nothing new. */
    rc = cairn__archive_commit(a, hash, n, read_rc == 0,
                               chunk ? chunk->record : NULL, ao, diag);
    if (rc < 0)
        return rc;
    if (read_rc < 0) {
        if (diag != NULL)
            *diag = rd;
        return read_rc;
    }
    return 0;
}

static void on_reader_diag(const struct cairn_diag *d, void *ud)
{
    struct add_ctx *c = ud;
    char line[700];

    if (c->ao->telemetry.on_diag != NULL) {
        c->ao->telemetry.on_diag(d, c->ao->telemetry.diag_ud);
        return;
    }
    cairn_diag_format(d, line, sizeof line);
    cairn__archive_say(c->a, CAIRN_SEV_WARNING, "%s", line);
}

static int hash_fd(int fd, uint8_t out[32], struct stat *st)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = CAIRN_EIO;
    unsigned int n = 0;

    if (ctx == NULL)
        return CAIRN_ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    if (st->st_size > 0) {
        void *m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            goto out;
        int ok = EVP_DigestUpdate(ctx, m, (size_t)st->st_size);
        munmap(m, (size_t)st->st_size);
        if (ok != 1)
            goto out;
    }
    if (EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32)
        rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int add_one(struct add_ctx *c, const char *path, const char *name,
                   int fd_given)
{
    struct cairn_archive *a = c->a;
    struct cairn_telemetry_opts to = c->ao->telemetry;
    struct cairn_telemetry_reader *r = NULL;
    struct stat st;
    uint8_t hash[32];
    int fd = fd_given, rc;

    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        c->st->damaged++;
        return fail(c->diag, CAIRN_EIO, "%s: %s", name, strerror(errno));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        c->st->damaged++;
        return fail(c->diag, CAIRN_EIO, "%s: not a regular file", name);
    }
    rc = hash_fd(fd, hash, &st);
    if (rc < 0) {
        close(fd);
        if (rc != CAIRN_ENOMEM)
            c->st->damaged++;
        return fail(c->diag, rc, "%s: cannot read: %s", name,
                    strerror(errno));
    }
    c->st->inputs++;
    const struct arch_input *in = input_find(a, hash);
    if (in != NULL && in->done) {
        c->st->duplicates++;
        close(fd);
        return 0;
    }
    uint64_t skip = in != NULL ? in->events : 0;
    to.on_diag = on_reader_diag;
    to.diag_ud = c;
    struct cairn_diag rd;
    cairn_diag_clear(&rd);
    rc = cairn_telemetry_open_fd(fd, true, name, &to, &r, &rd);
    if (rc < 0) {
        if (rc != CAIRN_ENOMEM)
            c->st->damaged++;
        if (c->diag != NULL)
            *c->diag = rd;
        return rc;
    }
    rc = add_reader(c, r, hash, skip);
    cairn_telemetry_free(r);
    return rc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int add_tree(struct add_ctx *c, const char *dir, unsigned depth)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (depth > MAX_DEPTH)
        return fail(c->diag, CAIRN_EIO, "%s: directories nested too deep",
                    dir);
    d = opendir(dir);
    if (d == NULL)
        return fail(c->diag, CAIRN_EIO, "%s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = cairn_realloc(names, cap * sizeof *v);
            if (v == NULL) {
                rc = CAIRN_ENOMEM;
                break;
            }
            names = v;
        }
        if ((names[n] = cairn_strdup(de->d_name)) == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0)
        qsort(names, n, sizeof *names, cmp_str);
    size_t dl = strlen(dir);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        int k = snprintf(path, sizeof path, "%s%s%s", dir,
                         dl > 0 && dir[dl - 1] == '/' ? "" : "/", names[i]);
        if (k < 0 || (size_t)k >= sizeof path) {
            rc = fail(c->diag, CAIRN_EIO, "%s/%s: path too long", dir,
                      names[i]);
            break;
        }
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = add_tree(c, path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            /* A file that cannot be read to its end is reported and the
             * walk goes on, as cairn hunt does; the archive's own
             * failures (a full disk) stop it. */
            struct cairn_diag fd_diag, *keep = c->diag;
            uint64_t before = c->st->damaged;
            cairn_diag_clear(&fd_diag);
            c->diag = &fd_diag;
            rc = add_one(c, path, path, -1);
            c->diag = keep;
            if (rc < 0 && rc != CAIRN_ENOMEM && c->st->damaged > before) {
                if (fd_diag.message[0] == '\0')
                    cairn_diag_set(&fd_diag, CAIRN_SEV_ERROR, "archive",
                                   "%s: %s", path, cairn_strerror(rc));
                on_reader_diag(&fd_diag, c);
                rc = 0;
            } else if (rc < 0 && keep != NULL) {
                *keep = fd_diag;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        cairn_free(names[i]);
    cairn_free(names);
    return rc;
}

/* Standard input is copied to a file of the archive (hashed as it goes)
 * so that it can be hashed before it is read, whatever its size. */
static int spool_stdin(struct cairn_archive *a, int *fd_out,
                       struct cairn_diag *diag)
{
    char path[PATH_MAX];
    uint8_t *buf = NULL;
    int fd, rc = CAIRN_EIO;

    *fd_out = -1;
    snprintf(path, sizeof path, "%s/tmp-stdin-%ld", a->dir, (long)getpid());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(diag, CAIRN_EIO, "%s: %s", path, strerror(errno));
    unlink(path);
    buf = cairn_malloc(SPOOL_CHUNK);
    if (buf == NULL) {
        close(fd);
        return CAIRN_ENOMEM;
    }
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, SPOOL_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fail(diag, CAIRN_EIO, "standard input: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (cairn__archive_write_all(fd, buf, (size_t)n) < 0) {
            rc = fail(diag, CAIRN_EIO, "%s: %s%s", a->dir, strerror(errno),
                      errno == ENOSPC ? " (the disk is full)" : "");
            goto out;
        }
    }
    if (lseek(fd, 0, SEEK_SET) != 0)
        goto out;
    *fd_out = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    cairn_free(buf);
    return rc;
}

static void add_ctx_init(struct add_ctx *c, struct cairn_archive *a,
                         const struct cairn_archive_add_opts *opts,
                         struct cairn_archive_add_stats *stats,
                         struct cairn_diag *diag)
{
    memset(c, 0, sizeof *c);
    c->a = a;
    c->ao = opts;
    c->st = stats;
    c->diag = diag;
    c->sensor = opts->sensor;
    if (c->sensor == NULL) {
        if (gethostname(c->host, sizeof c->host) < 0 || c->host[0] == '\0')
            snprintf(c->host, sizeof c->host, "localhost");
        c->host[sizeof c->host - 1] = '\0';
        c->sensor = c->host;
    }
}

int cairn_archive_add_path(struct cairn_archive *a, const char *path,
                           const struct cairn_archive_add_opts *opts,
                           struct cairn_archive_add_stats *stats,
                           struct cairn_diag *diag)
{
    struct cairn_archive_add_opts dflt = {0};
    struct cairn_archive_add_stats junk = {0};
    struct add_ctx c;
    struct stat st;
    int rc;

    if (a == NULL || path == NULL)
        return CAIRN_EINVAL;
    if (a->o.read_only)
        return fail(diag, CAIRN_EPERM, "%s: opened read-only", a->dir);
    if (opts == NULL) {
        cairn_telemetry_opts_init(&dflt.telemetry);
        opts = &dflt;
    }
    add_ctx_init(&c, a, opts, stats ? stats : &junk, diag);
    pthread_mutex_lock(&a->add_mu);
    double cat0 = cairn__archive_catalogue_cpu(a);
    if (strcmp(path, "-") == 0) {
        int fd;
        rc = spool_stdin(a, &fd, diag);
        if (rc == 0)
            rc = add_one(&c, NULL, "-", fd);
    } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = add_tree(&c, path, 0);
    } else {
        rc = add_one(&c, path, path, -1);
    }
    c.st->catalogue_seconds += cairn__archive_catalogue_cpu(a) - cat0;
    pthread_mutex_unlock(&a->add_mu);
    return rc;
}

int cairn_archive_add_mem(struct cairn_archive *a, const void *data,
                          size_t len, const char *name,
                          const struct cairn_archive_add_opts *opts,
                          struct cairn_archive_add_stats *stats,
                          struct cairn_diag *diag)
{
    struct cairn_archive_add_opts dflt = {0};
    struct cairn_archive_add_stats junk = {0};
    struct cairn_telemetry_reader *r = NULL;
    struct add_ctx c;
    uint8_t hash[32];
    unsigned int hn = 0;
    int rc;

    if (a == NULL || (data == NULL && len > 0))
        return CAIRN_EINVAL;
    if (a->o.read_only)
        return fail(diag, CAIRN_EPERM, "%s: opened read-only", a->dir);
    if (opts == NULL) {
        cairn_telemetry_opts_init(&dflt.telemetry);
        opts = &dflt;
    }
    add_ctx_init(&c, a, opts, stats ? stats : &junk, diag);
    if (EVP_Digest(data, len, hash, &hn, EVP_sha256(), NULL) != 1)
        return CAIRN_ENOMEM;
    pthread_mutex_lock(&a->add_mu);
    double cat0 = cairn__archive_catalogue_cpu(a);
    c.st->inputs++;
    const struct arch_input *in = input_find(a, hash);
    if (in != NULL && in->done) {
        c.st->duplicates++;
        rc = 0;
        goto out;
    }
    uint64_t skip = in != NULL ? in->events : 0;
    struct cairn_telemetry_opts to = opts->telemetry;
    to.on_diag = on_reader_diag;
    to.diag_ud = &c;
    rc = cairn_telemetry_open_mem(data, len, name ? name : "-", &to, &r, diag);
    if (rc == 0)
        rc = add_reader(&c, r, hash, skip);
    cairn_telemetry_free(r);
out:
    c.st->catalogue_seconds += cairn__archive_catalogue_cpu(a) - cat0;
    pthread_mutex_unlock(&a->add_mu);
    return rc;
}

/* ---- state --------------------------------------------------------------- */

int cairn__archive_snapshot(struct cairn_archive *a, struct arch_seg **out,
                            size_t *n)
{
    pthread_mutex_lock(&a->seg_mu);
    *n = a->n_segs;
    *out = cairn_malloc((a->n_segs + 1) * sizeof **out);
    if (*out != NULL && a->n_segs > 0)
        memcpy(*out, a->segs, a->n_segs * sizeof **out);
    pthread_mutex_unlock(&a->seg_mu);
    return *out == NULL ? CAIRN_ENOMEM : 0;
}

int cairn_archive_get_stats(struct cairn_archive *a,
                            struct cairn_archive_stats *out)
{
    struct arch_seg *segs = NULL;
    size_t n = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (a == NULL)
        return CAIRN_EINVAL;
    rc = cairn__archive_snapshot(a, &segs, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct seg_footer *f = &segs[i].foot;
        out->segments++;
        if (segs[i].bad)
            continue;
        out->events += f->events;
        out->raw_bytes += f->raw_bytes;
        uint64_t data = f->sec[SEC_NAMES].off - SEG_HEADER_LEN;
        out->data_bytes += data;
        out->index_bytes += segs[i].size - data;
        if (f->has_range) {
            if (!out->has_range || cairn_time_cmp(&f->first, &out->first) < 0)
                out->first = f->first;
            if (!out->has_range || cairn_time_cmp(&f->last, &out->last) > 0)
                out->last = f->last;
            out->has_range = true;
        }
    }
    cairn_free(segs);
    out->index_bytes += cairn__archive_catalogue_bytes(a);
    rc = cairn__archive_catalogue_count(a, &out->values);
    return rc;
}

int cairn__archive_map(struct cairn_archive *a, const struct arch_seg *s,
                       struct arch_map *m, char *why, size_t why_len)
{
    char path[PATH_MAX];
    struct stat st;

    memset(m, 0, sizeof *m);
    if (cairn__archive_seg_path(a, s->seq, path, sizeof path) < 0)
        return CAIRN_ETOOBIG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO;
    }
    if (fstat(fd, &st) < 0 || st.st_size == 0) {
        snprintf(why, why_len, "empty or unreadable");
        close(fd);
        return CAIRN_EPARSE;
    }
    if ((uint64_t)st.st_size != s->size) {
        snprintf(why, why_len, "%lld bytes, the journal says %llu",
                 (long long)st.st_size, (unsigned long long)s->size);
        close(fd);
        return CAIRN_EPARSE;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(why, why_len, "%s", strerror(errno));
        return CAIRN_EIO;
    }
    m->data = p;
    m->len = (size_t)st.st_size;
    return 0;
}

void cairn__archive_unmap(struct arch_map *m)
{
    if (m->data != NULL)
        munmap(m->data, m->len);
    m->data = NULL;
}

int cairn_archive_check(struct cairn_archive *a)
{
    struct arch_seg *segs = NULL;
    size_t n = 0;
    int problems = 0;
    int rc = cairn__archive_snapshot(a, &segs, &n);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct arch_map m;
        struct seg_reader r;
        char why[256] = "", path[PATH_MAX];
        cairn__archive_seg_path(a, segs[i].seq, path, sizeof path);
        rc = cairn__archive_map(a, &segs[i], &m, why, sizeof why);
        if (rc == CAIRN_ENOMEM)
            break;
        if (rc == 0) {
            rc = cairn__seg_open(m.data, m.len, &r, why, sizeof why);
            if (rc == 0) {
                rc = cairn__seg_verify(&r, why, sizeof why);
                cairn__seg_close(&r);
            }
            cairn__archive_unmap(&m);
        }
        if (rc == CAIRN_ENOMEM)
            break;
        if (rc < 0) {
            problems++;
            cairn__archive_say(a, CAIRN_SEV_ERROR, "%s: %s", path, why);
        }
        rc = 0;
    }
    cairn_free(segs);
    if (rc == 0) {
        rc = cairn__archive_catalogue_check(a);
        if (rc > 0)
            problems += rc;
    }
    return rc < 0 ? rc : problems;
}

bool cairn__archive_probe_verified(struct cairn_archive *a, uint64_t seq)
{
    bool ok = false;

    pthread_mutex_lock(&a->msg_mu);
    for (size_t i = 0; i < a->n_probe_ok && !ok; i++)
        ok = a->probe_ok[i] == seq;
    pthread_mutex_unlock(&a->msg_mu);
    return ok;
}

void cairn__archive_probe_mark(struct cairn_archive *a, uint64_t seq)
{
    pthread_mutex_lock(&a->msg_mu);
    if (a->n_probe_ok == a->cap_probe_ok) {
        size_t cap = a->cap_probe_ok ? a->cap_probe_ok * 2 : 64;
        uint64_t *v = cairn_realloc(a->probe_ok, cap * sizeof *v);
        if (v != NULL) {
            a->probe_ok = v;
            a->cap_probe_ok = cap;
        }
    }
    if (a->n_probe_ok < a->cap_probe_ok)
        a->probe_ok[a->n_probe_ok++] = seq;
    pthread_mutex_unlock(&a->msg_mu);
}
