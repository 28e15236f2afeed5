/* SPDX-License-Identifier: Apache-2.0 */
/* Following growing logs: complete lines appended since the last commit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archive/archive_priv.h"

#define CHUNK_MAX ((size_t)4 << 20)  /* bytes archived per commit */
#define HEAD_MAX  ((size_t)64 << 10) /* a log's '#' header kept */
#define KEY_MAX   65 /* hex of a SHA-256 */

struct cairn_archive_follow {
    struct cairn_archive *a;
    char *path;
    char key[KEY_MAX];
    struct cairn_archive_add_opts o;
    char *sensor;
    char host[256];
    int fd;
    uint64_t dev, ino, pos, lines;
    char *head; /* the file's header lines (Zeek's #fields), or NULL */
    size_t head_len;
    uint64_t head_lines;
    bool head_known;
    /* The last bytes before pos as read: a file rewritten in place (a
     * truncation that grew back past pos before a poll) differs there. */
    char tail[64];
    size_t tail_len;
    enum cairn_telemetry_format format;
};

/* ---- committed positions (from the journal) -------------------------------- */

int cairn__archive_follow_record(struct cairn_archive *a, const char *key,
                                 uint64_t dev, uint64_t ino, uint64_t pos,
                                 uint64_t lines)
{
    for (size_t i = 0; i < a->n_follows; i++) {
        struct arch_follow_pos *f = &a->follows[i];
        if (strcmp(f->key, key) == 0) {
            f->dev = dev;
            f->ino = ino;
            f->pos = pos;
            f->lines = lines;
            return 0;
        }
    }
    if (a->n_follows == a->cap_follows) {
        size_t cap = a->cap_follows ? a->cap_follows * 2 : 8;
        struct arch_follow_pos *v =
            cairn_realloc(a->follows, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        a->follows = v;
        a->cap_follows = cap;
    }
    char *k = cairn_strdup(key);
    if (k == NULL)
        return CAIRN_ENOMEM;
    a->follows[a->n_follows++] =
        (struct arch_follow_pos){k, dev, ino, pos, lines};
    return 0;
}

void cairn__archive_follow_forget(struct cairn_archive *a)
{
    for (size_t i = 0; i < a->n_follows; i++)
        cairn_free(a->follows[i].key);
    cairn_free(a->follows);
    a->follows = NULL;
    a->n_follows = a->cap_follows = 0;
}

static const struct arch_follow_pos *
find_pos(const struct cairn_archive *a, const char *key)
{
    for (size_t i = 0; i < a->n_follows; i++)
        if (strcmp(a->follows[i].key, key) == 0)
            return &a->follows[i];
    return NULL;
}

/* ---- the follower ---------------------------------------------------------- */

int cairn_archive_follow_new(struct cairn_archive *a, const char *path,
                             const struct cairn_archive_add_opts *opts,
                             struct cairn_archive_follow **out)
{
    static const char hex[] = "0123456789abcdef";
    struct cairn_archive_follow *f;
    size_t len;

    *out = NULL;
    if (a == NULL || path == NULL || (len = strlen(path)) == 0)
        return CAIRN_EINVAL;
    if (a->o.read_only)
        return CAIRN_EPERM;
    f = cairn_calloc(1, sizeof *f);
    if (f == NULL)
        return CAIRN_ENOMEM;
    f->a = a;
    f->fd = -1;
    f->path = cairn_strdup(path);
    if (opts != NULL)
        f->o = *opts;
    else
        cairn_telemetry_opts_init(&f->o.telemetry);
    if (f->o.sensor != NULL) {
        f->sensor = cairn_strdup(f->o.sensor);
        f->o.sensor = f->sensor;
    } else {
        if (gethostname(f->host, sizeof f->host) < 0 || f->host[0] == '\0')
            snprintf(f->host, sizeof f->host, "localhost");
        f->host[sizeof f->host - 1] = '\0';
        f->o.sensor = f->host;
    }
    if (f->path == NULL || (opts != NULL && opts->sensor && !f->sensor)) {
        cairn_archive_follow_free(f);
        return CAIRN_ENOMEM;
    }
    /* The journal names the file by the SHA-256 of its path: a key of
     * fixed length, whatever the path. */
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(path, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32) {
        cairn_archive_follow_free(f);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < 32; i++) {
        f->key[2 * i] = hex[md[i] >> 4];
        f->key[2 * i + 1] = hex[md[i] & 15];
    }
    f->key[64] = '\0';
    *out = f;
    return 0;
}

void cairn_archive_follow_free(struct cairn_archive_follow *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    cairn_free(f->path);
    cairn_free(f->sensor);
    cairn_free(f->head);
    cairn_free(f);
}

static ssize_t read_at(int fd, char *buf, size_t len, uint64_t pos)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(pos + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/*
 * The header of the file, which later chunks need to be read as the same
 * format: Zeek's '#' lines (#fields), a CSV file's first line. The format
 * is that the readers detect in the file's first bytes.
 */
static int load_head(struct cairn_archive_follow *f)
{
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_hunt_event ev;
    struct cairn_diag d;
    char *buf = cairn_malloc(HEAD_MAX);

    if (buf == NULL)
        return CAIRN_ENOMEM;
    ssize_t n = read_at(f->fd, buf, HEAD_MAX, 0);
    size_t len = 0;
    uint64_t lines = 0;
    enum cairn_telemetry_format fmt = f->o.telemetry.format;
    if (n > 0 && fmt == CAIRN_TELEMETRY_AUTO) {
        struct cairn_telemetry_opts to = f->o.telemetry;
        to.on_diag = NULL;
        if (cairn_telemetry_open_mem(buf, (size_t)n, f->path, &to, &r, &d) ==
            0) {
            cairn_telemetry_next(r, &ev, &d);
            fmt = cairn_telemetry_format_of(r);
            cairn_telemetry_free(r);
        }
    }
    if (fmt == CAIRN_TELEMETRY_ZEEK) {
        while (n > 0 && len < (size_t)n && buf[len] == '#') {
            char *nl = memchr(buf + len, '\n', (size_t)n - len);
            if (nl == NULL)
                break;
            len = (size_t)(nl - buf) + 1;
            lines++;
        }
    } else if (fmt == CAIRN_TELEMETRY_CSV && n > 0) {
        char *nl = memchr(buf, '\n', (size_t)n);
        if (nl != NULL) {
            len = (size_t)(nl - buf) + 1;
            lines = 1;
        }
    }
    cairn_free(f->head);
    f->head = buf;
    f->head_len = len;
    f->head_lines = lines;
    f->head_known = true;
    f->format = fmt;
    return 0;
}

/*
 * Archive the complete lines from f->pos on (all of them when `final`:
 * the file will not grow any more), at most CHUNK_MAX bytes per commit.
 */
static int read_more(struct cairn_archive_follow *f, bool final,
                     struct cairn_archive_add_stats *st,
                     struct cairn_diag *diag)
{
    struct cairn_archive *a = f->a;
    struct stat sb;
    char *buf = NULL;
    int rc = 0;

    for (;;) {
        if (fstat(f->fd, &sb) < 0)
            return CAIRN_EIO;
        uint64_t size = (uint64_t)sb.st_size;
        bool rewritten = false;
        if (size >= f->pos && f->tail_len > 0) {
            char now[sizeof f->tail];
            ssize_t k = read_at(f->fd, now, f->tail_len, f->pos - f->tail_len);
            rewritten = k != (ssize_t)f->tail_len ||
                        memcmp(now, f->tail, f->tail_len) != 0;
        }
        if (size < f->pos || rewritten) { /* truncated: from the start */
            f->pos = 0;
            f->lines = 0;
            f->head_known = false;
            f->tail_len = 0;
        }
        if (size == f->pos)
            break;
        if (f->pos > 0 && !f->head_known && (rc = load_head(f)) < 0)
            break;
        size_t want = size - f->pos > CHUNK_MAX ? CHUNK_MAX
                                                : (size_t)(size - f->pos);
        size_t hl = f->pos > 0 ? f->head_len : 0;
        buf = cairn_malloc(hl + want + 1);
        if (buf == NULL)
            return CAIRN_ENOMEM;
        if (hl > 0)
            memcpy(buf, f->head, hl);
        ssize_t got = read_at(f->fd, buf + hl, want, f->pos);
        if (got < 0) {
            rc = CAIRN_EIO;
            break;
        }
        size_t n = (size_t)got;
        /* Complete lines only, unless the file is finished. */
        char *end = n > 0 ? memrchr(buf + hl, '\n', n) : NULL;
        if (end != NULL)
            n = (size_t)(end - (buf + hl)) + 1;
        else if (!(final && n == size - f->pos))
            n = n == CHUNK_MAX ? n : 0; /* a line longer than a chunk */
        if (n == 0)
            break;
        uint64_t nl = 0;
        for (const char *p = buf + hl; (p = memchr(p, '\n',
                                                    (size_t)(buf + hl + n - p)));
             p++)
            nl++;
        char rec[KEY_MAX + 128];
        snprintf(rec, sizeof rec, "follow %s %llu %llu %llu %llu", f->key,
                 (unsigned long long)f->dev, (unsigned long long)f->ino,
                 (unsigned long long)(f->pos + n),
                 (unsigned long long)(f->lines + nl));
        struct arch_chunk ch = {
            .pos = f->pos,
            .lines = f->lines,
            .head_len = hl,
            .head_lines = hl > 0 ? f->head_lines : 0,
            .record = rec,
        };
        struct cairn_telemetry_opts to = f->o.telemetry;
        if (f->pos > 0)
            to.format = f->format; /* as the file's start was read */
        struct cairn_telemetry_reader *r = NULL;
        rc = cairn_telemetry_open_mem(buf, hl + n, f->path, &to, &r, diag);
        if (rc == 0) {
            rc = cairn__archive_add_reader(a, r, &f->o, f->o.sensor, NULL, 0,
                                           &ch, st, diag);
            cairn_telemetry_free(r);
        }
        if (rc < 0)
            break;
        if (f->pos == 0 && (rc = load_head(f)) < 0)
            break;
        f->pos += n;
        f->lines += nl;
        f->tail_len = f->pos < sizeof f->tail ? (size_t)f->pos
                                               : sizeof f->tail;
        if (read_at(f->fd, f->tail, f->tail_len, f->pos - f->tail_len) !=
            (ssize_t)f->tail_len)
            f->tail_len = 0;
        cairn__archive_follow_record(a, f->key, f->dev, f->ino, f->pos,
                                     f->lines);
        cairn_free(buf);
        buf = NULL;
    }
    cairn_free(buf);
    return rc;
}

int cairn_archive_follow_poll(struct cairn_archive_follow *f,
                              struct cairn_archive_add_stats *stats,
                              struct cairn_diag *diag)
{
    struct cairn_archive_add_stats junk = {0};
    struct cairn_archive *a;
    struct stat sb;
    int rc = 0;

    if (f == NULL)
        return CAIRN_EINVAL;
    a = f->a;
    if (stats == NULL)
        stats = &junk;
    pthread_mutex_lock(&a->add_mu);
    for (int round = 0; round < 2; round++) {
        if (f->fd >= 0) {
            /* Rotated or deleted: finish the old file, then the new. */
            bool same = stat(f->path, &sb) == 0 &&
                        (uint64_t)sb.st_dev == f->dev &&
                        (uint64_t)sb.st_ino == f->ino;
            rc = read_more(f, !same, stats, diag);
            if (rc < 0 || same)
                break;
            close(f->fd);
            f->fd = -1;
        }
        f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            if (errno != ENOENT) {
                cairn_diag_set(diag, CAIRN_SEV_ERROR, "archive", "%s: %s",
                               f->path, strerror(errno));
                rc = CAIRN_EIO;
            }
            break; /* not there (yet): waited for */
        }
        if (fstat(f->fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "archive",
                           "%s: not a regular file", f->path);
            close(f->fd);
            f->fd = -1;
            rc = CAIRN_EIO;
            break;
        }
        f->dev = (uint64_t)sb.st_dev;
        f->ino = (uint64_t)sb.st_ino;
        const struct arch_follow_pos *p = find_pos(a, f->key);
        if (p != NULL && p->dev == f->dev && p->ino == f->ino) {
            f->pos = p->pos; /* where the last commit was */
            f->lines = p->lines;
        } else {
            f->pos = 0;
            f->lines = 0;
        }
        f->head_known = false;
        f->tail_len = 0;
        stats->inputs++;
    }
    pthread_mutex_unlock(&a->add_mu);
    return rc;
}
