/* SPDX-License-Identifier: Apache-2.0 */
/* Hunt jobs: inputs read by a pool of threads, hits in order, sightings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/pattern.h"
#include "hunt/job_int.h"

#define MAX_DEPTH      64                  /* directory nesting walked */
#define FLUSH_AT       ((size_t)256 << 10) /* bytes of output a worker holds */
#define JOB_OUT_CAP    ((size_t)1 << 30)   /* output one part may buffer */
#define JOB_RECS_CAP   ((size_t)1 << 24)   /* sighting records a part holds */
#define MAX_CANDIDATES 1000000 /* hits awaiting confirmation, in all */
#define MAX_SCOS       64      /* observations built from one event */
#define MAX_SEEN       32      /* hits of one event checked for repeats */
#define PROGRESS_EVERY 8192    /* events between counter updates */
#define PROGRESS_MS    250
#define MSG_MAX        4608 /* a message: a path and a sentence */

/* One hit kept for the sightings until its part's turn to be output. */
struct rec {
    size_t indicator; /* index in the set, or SIZE_MAX: `id` is stable */
    const char *id;
    const char *name;
    enum cairn_ioc_type type;
    bool has_ts;
    struct cairn_time ts;
};

/*
 * What one thread reads at a time: a log (or standard input, or bytes in
 * memory), a part of a large log, or one file hashed whole.
 */
struct part {
    const char *path;
    bool file;   /* a file hashed whole (and scanned with YARA) */
    bool follow; /* that file was named: follow it if it is a link */
    /* bytes in memory given by the caller (not split) */
    const void *data;
    size_t data_len;
    /*
     * A part of a large file read in parallel with its other parts: bytes
     * [start, end) of the file open as `fd`, read with pread() as
     * `format` (`map`, the file mapped, is for its header lines), under
     * `head` (a reader that has read the file's Zeek header) when it is
     * not the first part of a Zeek log; `base_line` lines of the file come
     * before it.
     */
    char *map;
    int fd;
    size_t start, end, head_len;
    const struct cairn_telemetry_reader *head;
    uint64_t base_line;
    /*
     * The lines of a part are counted by the worker that takes it, under
     * `mu`: n_lines once `counted`; base_line once `base_ready` (the parts
     * before it counted). fields_at: the offset of its last "#fields" line
     * (a Zeek log whose columns change), fields_before: the last one of
     * the parts before it; SIZE_MAX for none.
     */
    uint64_t n_lines;
    size_t fields_at, fields_before;
    bool counted, base_ready;
    enum cairn_telemetry_format format;
    bool done;
    bool failed;
    struct cairn_buf out;
    struct rec *recs;
    size_t n_recs, cap_recs;
};

/* A hit of an indicator that needs confirmation by the pattern evaluator. */
struct cand {
    size_t part;
    uint64_t seq; /* order within its part */
    size_t indicator;
    char *file;
    uint64_t line, offset;
    bool has_ts;
    struct cairn_time ts;
    enum cairn_ioc_type type;
    char *value;
    size_t value_len;
    char *field;
    json_t *scos;   /* the event as SCOs; NULL: shares `primary`'s event */
    size_t primary; /* index of the candidate holding the event's SCOs */
    bool confirmed;
};

struct cand_list {
    struct cand *v;
    size_t n, cap;
};

struct paths {
    char **v;
    size_t n, cap;
};

struct worker;

struct cairn_hunt_job {
    /* set up before the workers start, read-only afterwards */
    struct cairn_hunt_job_opts o;
    const struct cairn_hunt_set *set;
    struct hunt_yara *yara;
    struct part *parts;
    size_t n_parts, cap_parts;
    struct {
        void *p;
        size_t len;
        int fd;                              /* the parts are read from it */
        struct cairn_telemetry_reader *head; /* its Zeek header, or NULL */
    } * maps;
    size_t n_maps, cap_maps;
    struct paths names; /* paths the parts point at */
    bool ran;

    /* shared, under `mu` */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next; /* next part to hand out */
    size_t head; /* next part to output */
    size_t end;  /* parts handed out: [0, end) */
    struct cand_list cands;
    bool cands_full;
    bool out_err;

    pthread_mutex_t msg_mu; /* one message at a time */

    /* counters, updated by the workers */
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t lines;
    atomic_uint_fast64_t hits;
    atomic_uint_fast64_t malformed;
    atomic_uint_fast64_t n_cands;
    atomic_uint errors;
};

/* ---- messages ------------------------------------------------------------ */

__attribute__((format(printf, 3, 0)))
static void vsay(struct cairn_hunt_job *h, enum cairn_severity sev,
                 const char *fmt, va_list ap)
{
    char text[MSG_MAX];

    if (h->o.on_msg == NULL)
        return;
    vsnprintf(text, sizeof text, fmt, ap);
    pthread_mutex_lock(&h->msg_mu);
    h->o.on_msg(sev, text, h->o.ud);
    pthread_mutex_unlock(&h->msg_mu);
}

__attribute__((format(printf, 2, 3))) static void
say_error(struct cairn_hunt_job *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(h, CAIRN_SEV_ERROR, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void
say_warning(struct cairn_hunt_job *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(h, CAIRN_SEV_WARNING, fmt, ap);
    va_end(ap);
}

static void report_diag(struct cairn_hunt_job *h, const struct cairn_diag *d,
                        const char *path, int rc)
{
    char line[700];

    if (d->message[0] == '\0') {
        say_error(h, "%s: %s", path, cairn_strerror(rc));
        return;
    }
    cairn_diag_format(d, line, sizeof line);
    /* The readers name the file; a diag without one gets it here. */
    if (d->file[0] == '\0')
        say_error(h, "%s: %s", path, line);
    else
        say_error(h, "%s", line);
}

/* ---- output in input order ----------------------------------------------- */

/* Output what a part holds and hand its hits to the sightings; under `mu`. */
static void flush_part(struct cairn_hunt_job *h, struct part *j)
{
    if (j->out.len > 0) {
        if (h->o.on_output != NULL &&
            h->o.on_output(j->out.data, j->out.len, h->o.ud) < 0)
            h->out_err = true;
        cairn_buf_reset(&j->out);
    }
    for (size_t i = 0; i < j->n_recs; i++) {
        struct rec *r = &j->recs[i];
        struct cairn_hunt_indicator_info info;
        struct cairn_hunt_event ev = {
            .file = j->path, .has_ts = r->has_ts, .ts = r->ts};
        /* A hit's id lives in the matcher's cache: look it up again. */
        if (r->indicator != SIZE_MAX &&
            cairn_hunt_set_indicator(h->set, r->indicator, &info) == 0)
            r->id = info.id;
        struct cairn_hunt_hit hit = {
            .indicator_id = r->id,
            .indicator_name = r->name,
            .type = r->type,
            .value = "",
            .value_len = 0,
            .event = &ev,
        };
        if (cairn_hunt_sightings_add(h->o.sightings, &hit) < 0)
            h->out_err = true;
    }
    j->n_recs = 0;
}

/*
 * A worker outputs its part as it goes when that part is the next one in
 * order; otherwise the output waits in the part's buffer.
 */
static void maybe_flush(struct cairn_hunt_job *h, size_t index)
{
    struct part *j = &h->parts[index];

    if (j->out.len < FLUSH_AT && j->n_recs < 65536)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->head == index)
        flush_part(h, j);
    pthread_mutex_unlock(&h->mu);
}

static int add_rec(struct part *j, const struct cairn_hunt_report *oh,
                   size_t indicator)
{
    if (j->n_recs == j->cap_recs) {
        size_t cap = j->cap_recs ? j->cap_recs * 2 : 64;
        if (cap > JOB_RECS_CAP)
            return CAIRN_ETOOBIG;
        struct rec *v = cairn_realloc(j->recs, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        j->recs = v;
        j->cap_recs = cap;
    }
    j->recs[j->n_recs++] = (struct rec){indicator, oh->indicator_id, oh->name,
                                        oh->type,  oh->has_ts,       oh->ts};
    return 0;
}

/*
 * Record one reported hit in part `index`: its output and its sighting.
 * `indicator` is its index in the set, or SIZE_MAX when oh->indicator_id
 * outlives the call (YARA).
 */
static int emit(struct cairn_hunt_job *h, size_t index,
                const struct cairn_hunt_report *oh, size_t indicator)
{
    struct part *j = &h->parts[index];
    int rc = 0;

    if (h->o.on_hit != NULL)
        rc = h->o.on_hit(oh, &j->out, h->o.ud);
    if (rc == 0 && h->o.sightings != NULL)
        rc = add_rec(j, oh, indicator);
    if (rc < 0)
        return rc;
    atomic_fetch_add(&h->hits, 1);
    maybe_flush(h, index);
    return 0;
}

/* ---- candidates for confirmation --------------------------------------- */

static const char *hash_key(enum cairn_ioc_type t)
{
    switch (t) {
    case CAIRN_IOC_MD5:
        return "MD5";
    case CAIRN_IOC_SHA1:
        return "SHA-1";
    case CAIRN_IOC_SHA256:
        return "SHA-256";
    case CAIRN_IOC_SHA512:
        return "SHA-512";
    default:
        return NULL;
    }
}

static json_t *sco_of(const char *type, const char *key, json_t *value)
{
    json_t *o = json_object();

    if (o == NULL || value == NULL ||
        json_object_set_new(o, "type", json_string(type)) < 0 ||
        json_object_set_new(o, key, value) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/*
 * The event's values as SCOs for the pattern evaluator: one object per
 * network value, and the hashes and name of a file together as one file
 * object (so that [file:name = 'a' AND file:hashes.MD5 = 'b'] can hold).
 * Values that are not UTF-8 cannot be JSON strings and are left out.
 */
json_t *cairn_hunt_event_scos(const struct cairn_hunt_event *ev)
{
    json_t *arr = json_array();
    json_t *file = NULL, *hashes = NULL;

    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < ev->n_fields && json_array_size(arr) < MAX_SCOS;
         i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        json_t *v = json_stringn(f->value, f->len);
        const char *type = NULL, *key = "value";
        const char *hk = hash_key(f->type);

        if (v == NULL)
            continue;
        if (hk != NULL || f->type == CAIRN_IOC_FILENAME) {
            if (file == NULL) {
                file = json_object();
                json_object_set_new(file, "type", json_string("file"));
            }
            if (hk != NULL) {
                if (hashes == NULL) {
                    hashes = json_object();
                    json_object_set(file, "hashes", hashes);
                }
                json_object_set_new(hashes, hk, v);
            } else {
                json_object_set_new(file, "name", v);
            }
            continue;
        }
        switch (f->type) {
        case CAIRN_IOC_DOMAIN:
            type = "domain-name";
            break;
        case CAIRN_IOC_IPV4:
            type = "ipv4-addr";
            break;
        case CAIRN_IOC_IPV6:
            type = "ipv6-addr";
            break;
        case CAIRN_IOC_URL:
            type = "url";
            break;
        case CAIRN_IOC_EMAIL:
            type = "email-addr";
            break;
        case CAIRN_IOC_REGKEY:
            type = "windows-registry-key";
            key = "key";
            break;
        default:
            break;
        }
        if (type == NULL) {
            json_decref(v);
            continue;
        }
        json_t *o = sco_of(type, key, v);
        if (o != NULL)
            json_array_append_new(arr, o);
    }
    if (file != NULL)
        json_array_append_new(arr, file);
    json_decref(hashes);
    return arr;
}

static void cand_release(struct cand *c)
{
    cairn_free(c->file);
    cairn_free(c->value);
    cairn_free(c->field);
    json_decref(c->scos);
}

static int cand_push(struct cand_list *l, const struct cand *c)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct cand *v = cairn_realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *c;
    return 0;
}

/* ---- a worker ------------------------------------------------------------ */

struct worker {
    struct cairn_hunt_job *h;
    pthread_t tid;
    struct cairn_hunt_matcher *m;
    size_t index; /* the part at hand */
    int err;
    struct cand_list cands; /* this part's, merged into h->cands at its end */
    uint64_t event_seq;     /* events seen in this part */
    uint64_t cand_event;    /* event_seq of the last candidate */
    size_t cand_start;      /* first candidate of that event */
    uint64_t seq;
    struct cairn_telemetry_opts topts; /* diag_ud is this worker */
    int64_t line_adj; /* added to the line numbers of the reader at hand */
    bool file_failed; /* the file at hand could not be scanned */
    /* The hits of the current event, to report each (indicator, value) once */
    uint64_t seen_event;
    size_t n_seen;
    struct {
        size_t indicator;
        const char *value;
        size_t len;
    } seen[MAX_SEEN];
};

/*
 * Whether this event already produced a hit of the same indicator on the
 * same text: a Zeek http host is also the host of the URL built from host
 * and uri, and a JSON value may repeat in two fields. One is enough.
 */
static bool seen_before(struct worker *w, const struct cairn_hunt_hit *hit,
                        size_t indicator)
{
    if (w->seen_event != w->event_seq) {
        w->seen_event = w->event_seq;
        w->n_seen = 0;
    }
    for (size_t i = 0; i < w->n_seen; i++) {
        if (w->seen[i].len == hit->value_len &&
            w->seen[i].indicator == indicator &&
            memcmp(w->seen[i].value, hit->value, hit->value_len) == 0)
            return true;
    }
    if (w->n_seen < MAX_SEEN) {
        w->seen[w->n_seen].indicator = indicator;
        w->seen[w->n_seen].value = hit->value;
        w->seen[w->n_seen].len = hit->value_len;
        w->n_seen++;
    }
    return false;
}

static void add_candidate(struct worker *w, const struct cairn_hunt_hit *hit,
                          const struct cairn_hunt_hit_detail *d)
{
    struct cairn_hunt_job *h = w->h;
    const struct cairn_hunt_event *ev = hit->event;
    struct cand c = {
        .part = w->index,
        .seq = w->seq++,
        .indicator = d->indicator,
        .line = ev->line,
        .offset = ev->offset,
        .has_ts = ev->has_ts,
        .ts = ev->ts,
        .type = hit->type,
    };

    if (atomic_fetch_add(&h->n_cands, 1) >= MAX_CANDIDATES) {
        pthread_mutex_lock(&h->mu);
        bool first = !h->cands_full;
        h->cands_full = true;
        pthread_mutex_unlock(&h->mu);
        if (first)
            say_warning(h,
                        "more than %d hits await confirmation; later ones are "
                        "dropped",
                        MAX_CANDIDATES);
        return;
    }
    if (w->cand_event != w->event_seq || w->cands.n == 0) {
        w->cand_event = w->event_seq;
        w->cand_start = w->cands.n;
    }
    c.primary = w->cands.n;
    /* An event's observations are added once per indicator, not per hit. */
    for (size_t i = w->cand_start; i < w->cands.n; i++) {
        if (w->cands.v[i].indicator == d->indicator) {
            c.primary = i;
            break;
        }
    }
    /* A hashed file's event carries its own path; a log's is its part's. */
    c.file = cairn_strdup(h->parts[w->index].file ? ev->file
                                                  : h->parts[w->index].path);
    c.value = cairn_strndup(hit->value, hit->value_len);
    c.value_len = hit->value_len;
    c.field = d->field_name ? cairn_strdup(d->field_name) : NULL;
    if (c.primary == w->cands.n)
        c.scos = cairn_hunt_event_scos(ev);
    if (c.file == NULL || c.value == NULL ||
        (d->field_name && c.field == NULL) ||
        (c.primary == w->cands.n && c.scos == NULL) ||
        cand_push(&w->cands, &c) < 0) {
        cand_release(&c);
        w->err = CAIRN_ENOMEM;
    }
}

/*
 * One hit, from a log (`whole_file` false: its line, offset and time) or
 * from a hashed file (true: the file itself, at offset 0).
 */
static void take_hit(struct worker *w, const struct cairn_hunt_hit *hit,
                     const char *file, bool whole_file)
{
    struct cairn_hunt_hit_detail d;

    if (w->err < 0)
        return;
    cairn_hunt_hit_get_detail(hit, &d);
    if (seen_before(w, hit, d.indicator))
        return;
    if (d.needs_confirmation) {
        add_candidate(w, hit, &d);
        return;
    }
    struct cairn_hunt_report oh = {
        .indicator_id = hit->indicator_id,
        .name = hit->indicator_name,
        .type = hit->type,
        .value = hit->value,
        .value_len = hit->value_len,
        .file = file,
        .field = d.field_name,
    };
    if (!whole_file) {
        oh.line = hit->event->line;
        oh.offset = hit->event->offset;
        oh.has_ts = hit->event->has_ts;
        oh.ts = hit->event->ts;
    }
    int rc = emit(w->h, w->index, &oh, d.indicator);
    if (rc < 0)
        w->err = rc;
}

static void on_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct worker *w = ud;
    take_hit(w, hit, w->h->parts[w->index].path, false);
}

/* Malformed-line reports from the readers, and unreadable files. */
static void on_diag(const struct cairn_diag *d, void *ud)
{
    struct worker *w = ud;
    struct cairn_diag fixed = *d;
    char line[700];
    bool error =
        strcmp(d->rule, "unreadable") == 0 || d->severity == CAIRN_SEV_ERROR;

    if (error)
        atomic_fetch_add(&w->h->errors, 1);
    /* A part of a split file counts its lines from its own start. */
    if (fixed.line > 0)
        fixed.line = (unsigned)((int64_t)fixed.line + w->line_adj);
    cairn_diag_format(&fixed, line, sizeof line);
    if (error)
        say_error(w->h, "%s", line);
    else
        say_warning(w->h, "%s", line);
}

/* Move a finished part's candidates to the shared list (under `mu`). */
static int merge_candidates(struct cairn_hunt_job *h, struct worker *w)
{
    size_t base = h->cands.n;
    int rc = 0;

    for (size_t i = 0; i < w->cands.n; i++) {
        struct cand c = w->cands.v[i];
        c.primary += base;
        if (rc == 0)
            rc = cand_push(&h->cands, &c);
        if (rc < 0)
            cand_release(&c);
    }
    w->cands.n = 0;
    return rc;
}

static struct cairn_telemetry_reader *read_head(struct cairn_hunt_job *h,
                                                char *map,
                                                size_t head_len,
                                                const char *path);

/* What count_part reads at a time: a buffer that stays in the cache. */
#define COUNT_CHUNK (256 * 1024)

/*
 * Count the lines of a part of a file, then wait until the parts before
 * it are counted (their workers count them at the same time: the parts
 * are handed out in order, and counting waits for nothing), so that its
 * line numbers are known before its first hit. The part is read with
 * pread(), a chunk at a time (or, without memory for the chunk, from the
 * mapping): copying from the page cache into a buffer in the CPU cache
 * costs less than touching each page of a mapping.
 */
static void count_part(struct cairn_hunt_job *h, size_t index)
{
    struct part *j = &h->parts[index];
    uint64_t n = 0;
    size_t fields_at = SIZE_MAX;
    bool zeek = j->format == CAIRN_TELEMETRY_ZEEK;
    char *buf = cairn_malloc(COUNT_CHUNK);
    bool at_start = true; /* parts start at a line's start */

    for (size_t pos = j->start; pos < j->end;) {
        size_t want = j->end - pos < COUNT_CHUNK ? j->end - pos : COUNT_CHUNK;
        const char *c = j->map + pos;
        if (buf != NULL) {
            ssize_t got = pread(j->fd, buf, want, (off_t)pos);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                break; /* the reader of the part reports it */
            want = (size_t)got;
            c = buf;
        }
        for (const char *line = c, *end = c + want; line < end;) {
            size_t at = pos + (size_t)(line - c);
            /* the mapping for "#fields", which may straddle chunks */
            if (at_start && zeek && *line == '#' && j->end - at >= 7 &&
                memcmp(j->map + at, "#fields", 7) == 0)
                fields_at = at;
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            if (nl == NULL) {
                at_start = false;
                break;
            }
            n++;
            at_start = true;
            line = nl + 1;
        }
        pos += want;
    }
    cairn_free(buf);
    pthread_mutex_lock(&h->mu);
    j->n_lines = n;
    j->fields_at = fields_at;
    j->counted = true;
    /* each counted part with a known start gives the next its start */
    size_t k = index > 0 && j->start > 0 ? index - 1 : index;
    for (; k + 1 < h->n_parts; k++) {
        const struct part *a = &h->parts[k];
        struct part *b = &h->parts[k + 1];
        if (b->map != a->map || b->start == 0 || !a->counted ||
            !a->base_ready)
            break;
        if (!b->base_ready) {
            b->base_line = a->base_line + a->n_lines;
            b->fields_before =
                a->fields_at != SIZE_MAX ? a->fields_at : a->fields_before;
            b->base_ready = true;
        }
    }
    pthread_cond_broadcast(&h->cv);
    while (!j->base_ready)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

/*
 * The header a part is read under: none for the first part (it reads its
 * own), the file's (shared) while no later #fields line came before the
 * part, else one read here from the header lines of the last one (*own,
 * freed by the caller). 0 or CAIRN_ENOMEM.
 */
static int part_head(struct cairn_hunt_job *h, const struct part *j,
                     struct cairn_telemetry_reader **own,
                     const struct cairn_telemetry_reader **out)
{
    *out = NULL;
    if (j->start == 0 || j->head == NULL)
        return 0;
    size_t at = j->fields_before;
    if (at == SIZE_MAX || at < j->head_len) {
        *out = j->head;
        return 0;
    }
    /* the run of '#' lines around that #fields, up to the part's start */
    char *map = j->map;
    size_t from = at, to = at;
    while (from > 0) {
        const char *prev = from >= 2 ? memrchr(map, '\n', from - 1) : NULL;
        size_t ps = prev != NULL ? (size_t)(prev - map) + 1 : 0;
        if (map[ps] != '#')
            break;
        from = ps;
        if (ps == 0)
            break;
    }
    while (to < j->start && map[to] == '#') {
        const char *nl = memchr(map + to, '\n', j->start - to);
        to = nl != NULL ? (size_t)(nl - map) + 1 : j->start;
    }
    *own = read_head(h, map + from, to - from, j->path);
    if (*own == NULL)
        return CAIRN_ENOMEM;
    *out = *own;
    return 0;
}

static void hunt_log(struct worker *w)
{
    struct cairn_hunt_job *h = w->h;
    struct part *j = &h->parts[w->index];
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_hunt_event ev;
    struct cairn_telemetry_stats st = {0};
    struct cairn_diag diag;
    uint64_t seen_bytes = 0, seen_lines = 0;
    uint64_t off_adj = 0;
    struct cairn_telemetry_reader *own_head = NULL;
    int rc;

    cairn_diag_clear(&diag);
    w->line_adj = 0;
    if (j->data != NULL) {
        rc = cairn_telemetry_open_mem(j->data, j->data_len, j->path, &w->topts,
                                      &r, &diag);
    } else if (j->map == NULL) {
        rc = cairn_telemetry_open(j->path, &w->topts, &r, &diag);
    } else {
        /* pread() from the file; a Zeek part after the first reads
         * under the file's header, parsed once (j->head). */
        struct cairn_telemetry_opts o = w->topts;
        const struct cairn_telemetry_reader *head = NULL;
        o.format = j->format;
        count_part(h, w->index);
        rc = part_head(h, j, &own_head, &head);
        if (rc == 0) {
            w->line_adj = (int64_t)j->base_line;
            off_adj = j->start;
            rc = cairn_telemetry_open_range(head, j->fd, j->start,
                                            j->end - j->start, j->path, &o,
                                            &r, &diag);
        }
    }
    if (rc < 0) {
        report_diag(h, &diag, j->path, rc);
        j->failed = true;
        cairn_telemetry_free(own_head);
        return;
    }
    w->event_seq = 0;
    w->seq = 0;
    /*
     * Event numbers restart with each part: forget the last part's event,
     * or its hits (pointing into a buffer since freed, or a new file mapped
     * at the same address) would pass for this event's.
     */
    w->seen_event = UINT64_MAX;
    w->n_seen = 0;
    w->cand_event = UINT64_MAX;
    /* Cleared once: a kilobyte per event would show in the profile. */
    cairn_diag_clear(&diag);
    for (;;) {
        rc = cairn_telemetry_next(r, &ev, &diag);
        if (rc <= 0)
            break;
        ev.line = (uint64_t)((int64_t)ev.line + w->line_adj);
        ev.offset += off_adj;
        w->event_seq++;
        if (cairn_hunt_match_event(w->m, &ev, on_hit, w) < 0) {
            say_error(h, "%s:%llu: matching failed", j->path,
                      (unsigned long long)ev.line);
            j->failed = true;
            break;
        }
        if (w->err < 0)
            break;
        if (w->event_seq % PROGRESS_EVERY == 0) {
            cairn_telemetry_get_stats(r, &st);
            uint64_t b = st.bytes, l = st.lines;
            if (b > seen_bytes)
                atomic_fetch_add(&h->bytes, b - seen_bytes);
            if (l > seen_lines)
                atomic_fetch_add(&h->lines, l - seen_lines);
            seen_bytes = b > seen_bytes ? b : seen_bytes;
            seen_lines = l > seen_lines ? l : seen_lines;
        }
    }
    if (rc < 0) {
        if (diag.line > 0)
            diag.line = (unsigned)((int64_t)diag.line + w->line_adj);
        report_diag(h, &diag, j->path, rc);
        j->failed = true;
    }
    if (w->err < 0) {
        say_error(h, "%s: %s%s", j->path, cairn_strerror(w->err),
                  w->err == CAIRN_ETOOBIG ? " (too many hits held for output)"
                                          : "");
        j->failed = true;
        w->err = 0;
    }
    cairn_telemetry_get_stats(r, &st);
    if (st.bytes > seen_bytes)
        atomic_fetch_add(&h->bytes, st.bytes - seen_bytes);
    if (st.lines > seen_lines)
        atomic_fetch_add(&h->lines, st.lines - seen_lines);
    atomic_fetch_add(&h->malformed, st.malformed);
    cairn_telemetry_free(r);
    cairn_telemetry_free(own_head);
}

/* ---- files hashed whole -------------------------------------------------- */

static void on_yara(const struct hunt_yara_match *m, void *ud)
{
    struct worker *w = ud;
    struct cairn_hunt_report oh = {
        .indicator_id = m->indicator_id,
        .name = m->indicator_name,
        .type = CAIRN_IOC_STRING,
        .type_name = "yara",
        .value = m->rule,
        .value_len = strlen(m->rule),
        .file = w->h->parts[w->index].path,
        .line = 0,
        .offset = m->offset,
        .field = "yara",
    };
    int rc = emit(w->h, w->index, &oh, SIZE_MAX);
    if (rc < 0)
        w->err = rc;
}

/* Hits of one hashed file use its own path. */
static void on_file_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    take_hit(ud, hit, hit->event->file, true);
}

static int on_file(const struct cairn_hunt_event *ev, void *ud)
{
    struct worker *w = ud;
    char why[200];

    w->event_seq++;
    if (cairn_hunt_match_event(w->m, ev, on_file_hit, w) < 0)
        return CAIRN_EINTERNAL;
    if (cairn__hunt_yara_scan_file(w->h->yara, ev->file, on_yara, w, why,
                                   sizeof why) < 0) {
        say_error(w->h, "%s: %s", ev->file, why);
        w->file_failed = true;
    }
    return w->err < 0 ? w->err : 0;
}

static void hunt_file(struct worker *w)
{
    struct cairn_hunt_job *h = w->h;
    struct part *j = &h->parts[w->index];

    w->event_seq = 0;
    w->seq = 0;
    w->seen_event = UINT64_MAX;
    w->n_seen = 0;
    w->cand_event = UINT64_MAX;
    w->line_adj = 0;
    w->file_failed = false;
    int rc =
        cairn_telemetry_hash_file(j->path, j->follow, &w->topts, on_file, w);
    if (rc < 0) {
        say_error(h, "%s: %s", j->path,
                  cairn_strerror(w->err < 0 ? w->err : rc));
        w->err = 0;
        j->failed = true;
    }
    if (w->file_failed)
        j->failed = true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct cairn_hunt_job *h = w->h;

    for (;;) {
        pthread_mutex_lock(&h->mu);
        size_t i = h->next < h->end ? h->next++ : h->end;
        pthread_mutex_unlock(&h->mu);
        if (i >= h->end)
            break;
        w->index = i;
        if (h->parts[i].file)
            hunt_file(w);
        else
            hunt_log(w);
        pthread_mutex_lock(&h->mu);
        if (merge_candidates(h, w) < 0) {
            say_error(h, "%s: out of memory keeping hits to confirm",
                      h->parts[i].path);
            h->parts[i].failed = true;
        }
        if (h->parts[i].failed)
            atomic_fetch_add(&h->errors, 1);
        h->parts[i].done = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

/* ---- confirmation -------------------------------------------------------- */

static _Thread_local const struct cairn_hunt_job *sort_h;

static int cmp_by_indicator(const void *a, const void *b)
{
    const struct cand *x = &sort_h->cands.v[*(const size_t *)a];
    const struct cand *y = &sort_h->cands.v[*(const size_t *)b];

    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_by_place(const void *a, const void *b)
{
    const struct cand *x = &sort_h->cands.v[*(const size_t *)a];
    const struct cand *y = &sort_h->cands.v[*(const size_t *)b];

    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Candidates [from, to) of `order`, one indicator's, for cairn_hunt_confirm. */
struct group {
    struct cairn_hunt_job *h;
    const size_t *order;
};

static json_t *group_candidate(size_t k, const struct cairn_time **ts, void *ud)
{
    const struct group *g = ud;
    struct cand *c = &g->h->cands.v[g->order[k]];

    *ts = c->has_ts ? &c->ts : NULL;
    return c->scos;
}

static void group_confirmed(size_t k, void *ud)
{
    const struct group *g = ud;

    g->h->cands.v[g->order[k]].confirmed = true;
}

static void group_msg(enum cairn_severity sev, const char *text, void *ud)
{
    const struct group *g = ud;

    if (sev == CAIRN_SEV_WARNING)
        say_warning(g->h, "%s", text);
    else
        say_error(g->h, "%s", text);
}

static const struct cairn_hunt_confirm_ops group_ops = {
    .candidate = group_candidate,
    .confirmed = group_confirmed,
    .on_msg = group_msg,
};

/* Evaluate one indicator's pattern over its candidates [from, to) of `order`.
 */
static int confirm_group(struct cairn_hunt_job *h, const size_t *order,
                         size_t from, size_t to)
{
    struct group g = {h, order + from};

    return cairn_hunt_confirm(h->set, h->cands.v[order[from]].indicator,
                              to - from, &group_ops, &g);
}

/* Confirm the candidates, then report the confirmed ones in input order. */
static int confirm_all(struct cairn_hunt_job *h, size_t confirm_part)
{
    size_t n = h->cands.n;
    size_t *order = NULL;
    int rc = 0;

    if (n == 0)
        return 0;
    order = cairn_malloc(n * sizeof *order);
    if (order == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_h = h;
    qsort(order, n, sizeof *order, cmp_by_indicator);
    for (size_t from = 0; from < n && rc == 0;) {
        size_t to = from + 1;
        while (to < n && h->cands.v[order[to]].indicator ==
                             h->cands.v[order[from]].indicator)
            to++;
        rc = confirm_group(h, order, from, to);
        from = to;
    }
    for (size_t i = 0; i < n; i++) {
        struct cand *c = &h->cands.v[i];
        if (c->scos == NULL)
            c->confirmed = h->cands.v[c->primary].confirmed;
    }
    qsort(order, n, sizeof *order, cmp_by_place);
    for (size_t k = 0; k < n && rc == 0; k++) {
        struct cand *c = &h->cands.v[order[k]];
        struct cairn_hunt_indicator_info info;
        if (!c->confirmed ||
            cairn_hunt_set_indicator(h->set, c->indicator, &info) < 0)
            continue;
        struct cairn_hunt_report oh = {
            .indicator_id = info.id,
            .name = info.name,
            .type = c->type,
            .value = c->value,
            .value_len = c->value_len,
            .file = c->file,
            .line = c->line,
            .offset = c->offset,
            .field = c->field,
            .has_ts = c->has_ts,
            .ts = c->ts,
        };
        rc = emit(h, confirm_part, &oh, c->indicator);
    }
    cairn_free(order);
    return rc;
}

/* ---- inputs -------------------------------------------------------------- */

static int paths_add(struct paths *p, const char *s, size_t len)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **v = cairn_realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = cairn_strndup(s, len);
    if (p->v[p->n] == NULL)
        return CAIRN_ENOMEM;
    p->n++;
    return 0;
}

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        cairn_free(p->v[i]);
    cairn_free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The regular files under `dir`, in name order, recursively; symbolic
 * links and special files are left out (a FIFO would block the hunt).
 * Returns 0, or -1 after a message when `dir` or a subdirectory cannot be
 * listed (the others are still walked), -2 when memory runs out.
 */
static int walk(struct cairn_hunt_job *h, const char *dir, unsigned depth,
                struct paths *out)
{
    struct paths names = {0};
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if (depth > MAX_DEPTH) {
        say_error(h, "%s: directories nested too deep (over %d)", dir,
                  MAX_DEPTH);
        return -1;
    }
    d = opendir(dir);
    if (d == NULL) {
        say_error(h, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (paths_add(&names, de->d_name, strlen(de->d_name)) < 0) {
            say_error(h, "out of memory");
            rc = -2;
            break;
        }
    }
    closedir(d);
    qsort(names.v, names.n, sizeof *names.v, cmp_str);
    size_t dlen = strlen(dir);
    bool slash = dlen > 0 && dir[dlen - 1] == '/';
    for (size_t i = 0; i < names.n && rc > -2; i++) {
        char path[PATH_MAX];
        struct stat st;
        int n = snprintf(path, sizeof path, "%s%s%s", dir, slash ? "" : "/",
                         names.v[i]);
        if (n < 0 || (size_t)n >= sizeof path) {
            say_error(h, "%s/%s: path too long", dir, names.v[i]);
            rc = -1;
            continue;
        }
        if (lstat(path, &st) < 0) {
            say_error(h, "%s: %s", path, strerror(errno));
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int r = walk(h, path, depth + 1, out);
            if (r < rc)
                rc = r;
        } else if (S_ISREG(st.st_mode)) {
            if (paths_add(out, path, (size_t)n) < 0) {
                say_error(h, "out of memory");
                rc = -2;
            }
        }
    }
    paths_free(&names);
    return rc;
}

static int part_add(struct cairn_hunt_job *h, const struct part *j)
{
    if (h->n_parts == h->cap_parts) {
        size_t cap = h->cap_parts ? h->cap_parts * 2 : 16;
        struct part *v = cairn_realloc(h->parts, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        h->parts = v;
        h->cap_parts = cap;
    }
    h->parts[h->n_parts] = *j;
    cairn_buf_init(&h->parts[h->n_parts].out, JOB_OUT_CAP);
    h->n_parts++;
    return 0;
}

/* A path the parts may point at for the whole job. */
static const char *keep_name(struct cairn_hunt_job *h, const char *s)
{
    if (paths_add(&h->names, s, strlen(s)) < 0)
        return NULL;
    return h->names.v[h->names.n - 1];
}

/*
 * The format a file is read as, from its first MiB, so that every part is
 * read the same way (a part alone could look like something else).
 */
static enum cairn_telemetry_format probe_format(const char *map, size_t len,
                                                const char *path)
{
    struct cairn_telemetry_opts o;
    struct cairn_telemetry_reader *r = NULL;
    enum cairn_telemetry_format f = CAIRN_TELEMETRY_AUTO;

    cairn_telemetry_opts_init(&o);
    if (cairn_telemetry_open_mem(map, len < ((size_t)1 << 20) ? len : 1 << 20,
                                 path, &o, &r, NULL) == 0)
        f = cairn_telemetry_format_of(r);
    cairn_telemetry_free(r);
    return f;
}

/*
 * Map a file's `size` bytes followed by at least a page of zeros, which the
 * readers' SIMD loops may read past the last part (CAIRN_TELEMETRY_PART_PAD).
 * NULL when it cannot be mapped; *len_out is what to unmap.
 */
static char *map_padded(int fd, size_t size, size_t *len_out)
{
    long pg = sysconf(_SC_PAGESIZE);
    if (pg < CAIRN_TELEMETRY_PART_PAD || size == 0 || size > SIZE_MAX / 2)
        return NULL;
    size_t page = (size_t)pg;
    size_t len = (size + page - 1) / page * page + page;
    /* private and writable: the JSON reader ends keys with a NUL in place;
     * each part writes only into its own lines */
    char *base = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (mmap(base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
             0) == MAP_FAILED) {
        munmap(base, len);
        return NULL;
    }
    *len_out = len;
    return base;
}

/*
 * The Zeek header of a mapped log, `head_len` bytes, read once by a reader
 * whose column tables the parts after the first share.
 */
static struct cairn_telemetry_reader *read_head(struct cairn_hunt_job *h,
                                                char *map,
                                                size_t head_len,
                                                const char *path)
{
    struct cairn_telemetry_opts o = h->o.telemetry;
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_hunt_event ev;

    o.format = CAIRN_TELEMETRY_ZEEK;
    o.on_diag = NULL;
    if (cairn_telemetry_open_part(NULL, map, head_len, false, path, &o, &r,
                                  NULL) < 0)
        return NULL;
    while (cairn_telemetry_next(r, &ev, NULL) > 0)
        ; /* header lines are not events: nothing comes */
    return r;
}

/*
 * Split a large uncompressed regular file into parts of about o.split
 * bytes, cut after a newline, that threads read at the same time with
 * pread() (the file is mapped too, to find the cuts and read a Zeek
 * header where it lies, not to read it through). Zeek TSV parts after the first are
 * read under the file's header, parsed once (or under a later #fields
 * header, see part_head); CSV is never split (a quoted field may hold a
 * newline). The main thread does not read the file: its workers count
 * the lines of their parts (count_part). Returns 1 when the parts were added, 0 when the file is to
 * be read whole (the reader reports any problem with it), or CAIRN_ENOMEM.
 */
static int try_split(struct cairn_hunt_job *h, const char *path)
{
    struct stat st;
    char *map;
    size_t size, map_len = 0, head_len = 0, split = h->o.split;
    uint64_t head_lines = 0;
    struct cairn_telemetry_reader *head = NULL;
    int fd;

    if (split == 0 || h->o.threads < 2 || strcmp(path, "-") == 0)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uintmax_t)st.st_size > SIZE_MAX ||
        (uintmax_t)st.st_size < 2 * (uintmax_t)split) {
        close(fd);
        return 0;
    }
    size = (size_t)st.st_size;
    map = map_padded(fd, size, &map_len);
    if (map == NULL) {
        close(fd);
        return 0;
    }
    const unsigned char *u = (const unsigned char *)map;
    enum cairn_telemetry_format fmt = h->o.telemetry.format;
    if ((u[0] == 0x1f && u[1] == 0x8b) ||
        (u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd))
        goto whole;
    if (fmt == CAIRN_TELEMETRY_AUTO)
        fmt = probe_format(map, size, path);
    if (fmt == CAIRN_TELEMETRY_AUTO || fmt == CAIRN_TELEMETRY_CSV)
        goto whole;
    if (fmt == CAIRN_TELEMETRY_ZEEK) {
        while (head_len < size && map[head_len] == '#') {
            const char *nl = memchr(map + head_len, '\n', size - head_len);
            if (nl == NULL)
                goto whole;
            head_len = (size_t)(nl - map) + 1;
            head_lines++;
        }
        if (head_lines == 0)
            goto whole;
        head = read_head(h, map, head_len, path);
        if (head == NULL) {
            munmap(map, map_len);
            close(fd);
            return CAIRN_ENOMEM;
        }
    }
    if (h->n_maps == h->cap_maps) {
        size_t cap = h->cap_maps ? h->cap_maps * 2 : 8;
        void *v = cairn_realloc(h->maps, cap * sizeof *h->maps);
        if (v == NULL) {
            cairn_telemetry_free(head);
            munmap(map, map_len);
            close(fd);
            return CAIRN_ENOMEM;
        }
        h->maps = v;
        h->cap_maps = cap;
    }
    h->maps[h->n_maps].p = map;
    h->maps[h->n_maps].len = map_len;
    h->maps[h->n_maps].fd = fd;
    h->maps[h->n_maps].head = head;
    h->n_maps++;
    for (size_t start = 0; start < size;) {
        size_t end = start + split;
        if (end >= size || size - end < split / 2) {
            end = size;
        } else {
            const char *nl = memchr(map + end, '\n', size - end);
            end = nl ? (size_t)(nl - map) + 1 : size;
        }
        struct part j = {
            .path = path,
            .map = map,
            .fd = fd,
            .start = start,
            .end = end,
            .head_len = head_len,
            .head = head,
            .format = fmt,
            .fields_at = SIZE_MAX,
            .fields_before = SIZE_MAX,
            .base_ready = start == 0,
        };
        if (part_add(h, &j) < 0)
            return CAIRN_ENOMEM;
        start = end;
    }
    return 1;
whole:
    munmap(map, map_len);
    close(fd);
    return 0;
}

/* The regular files under one --files path become parts of their own. */
static int on_listed(const char *path, bool follow, void *ud)
{
    struct cairn_hunt_job *h = ud;
    const char *name = keep_name(h, path);

    if (name == NULL ||
        part_add(h, &(struct part){
                        .path = name, .file = true, .follow = follow}) < 0)
        return CAIRN_ENOMEM;
    return 0;
}

/* Reports from listing the --files trees: unreadable entries. */
static void on_list_diag(const struct cairn_diag *d, void *ud)
{
    struct cairn_hunt_job *h = ud;
    char line[700];

    atomic_fetch_add(&h->errors, 1);
    cairn_diag_format(d, line, sizeof line);
    say_error(h, "%s", line);
}

/*
 * The parts, in output order: the files under `dirs`, then the logs
 * (directories walked, large files split), then one for the hits that
 * needed confirmation. Returns 0 or CAIRN_ENOMEM.
 */
static int plan(struct cairn_hunt_job *h, const struct cairn_hunt_input *logs,
                size_t n_logs, const char *const *dirs, size_t n_dirs,
                struct cairn_hunt_job_stats *st)
{
    struct cairn_telemetry_opts lo = h->o.telemetry;
    struct paths found = {0};
    int rc = 0;

    lo.on_diag = on_list_diag;
    lo.diag_ud = h;
    for (size_t i = 0; i < n_dirs; i++) {
        struct cairn_diag diag;
        cairn_diag_clear(&diag);
        rc = cairn_telemetry_list_files(dirs[i], &lo, on_listed, h, &diag);
        if (rc == CAIRN_ENOMEM) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        if (rc < 0) {
            report_diag(h, &diag, dirs[i], rc);
            atomic_fetch_add(&h->errors, 1);
        }
        rc = 0;
    }
    st->files = h->n_parts;
    for (size_t i = 0; i < n_logs; i++) {
        const struct cairn_hunt_input *in = &logs[i];
        const char *path = in->path != NULL ? in->path : "-";
        struct stat sb;
        if (in->data != NULL) {
            const char *name = keep_name(h, path);
            rc = name == NULL
                     ? CAIRN_ENOMEM
                     : part_add(h, &(struct part){.path = name,
                                                  .data = in->data,
                                                  .data_len = in->len});
            if (rc < 0)
                goto out;
            st->logs++;
            continue;
        }
        paths_free(&found);
        /* A missing file is kept, so that its error comes in its turn. */
        if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
            S_ISDIR(sb.st_mode)) {
            int r = walk(h, path, 0, &found);
            if (r == -2) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            if (r < 0)
                atomic_fetch_add(&h->errors, 1);
        } else if (paths_add(&found, path, strlen(path)) < 0) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < found.n; k++) {
            const char *name = keep_name(h, found.v[k]);
            if (name == NULL) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            int r = try_split(h, name);
            if (r == 0)
                r = part_add(h, &(struct part){.path = name});
            if (r < 0) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            st->logs++;
        }
    }
    st->parts = h->n_parts - st->files;
    rc = part_add(h, &(struct part){.path = "(confirmed)"});
out:
    paths_free(&found);
    return rc;
}

/* ---- the job --------------------------------------------------------------
 */

static void on_yara_error(const char *id, const char *message, void *ud)
{
    struct cairn_hunt_job *h = ud;
    char text[400];

    if (h->o.on_skip == NULL)
        return;
    snprintf(text, sizeof text, "YARA rule does not compile: %s", message);
    struct cairn_hunt_skip s = {
        .reason = CAIRN_HUNT_SKIP_UNSUPPORTED,
        .indicator_id = id,
        .message = text,
    };
    h->o.on_skip(&s, h->o.ud);
}

int cairn_hunt_job_new(const struct cairn_hunt_job_opts *opts,
                       struct cairn_hunt_job **out)
{
    struct cairn_hunt_job *h;
    int rc;

    *out = NULL;
    if (opts == NULL || opts->set == NULL)
        return CAIRN_EINVAL;
    h = cairn_calloc(1, sizeof *h);
    if (h == NULL)
        return CAIRN_ENOMEM;
    h->o = *opts;
    h->set = opts->set;
    if (h->o.threads == 0)
        h->o.threads = 1;
    if (h->o.progress_ms == 0)
        h->o.progress_ms = PROGRESS_MS;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    pthread_mutex_init(&h->msg_mu, NULL);
    if (opts->files) {
        rc = cairn__hunt_yara_new(h->set, on_yara_error, h, &h->yara);
        if (rc < 0) {
            cairn_hunt_job_free(h);
            return rc;
        }
    }
    *out = h;
    return 0;
}

void cairn_hunt_job_free(struct cairn_hunt_job *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n_parts; i++) {
        cairn_buf_release(&h->parts[i].out);
        cairn_free(h->parts[i].recs);
    }
    cairn_free(h->parts);
    for (size_t i = 0; i < h->cands.n; i++)
        cand_release(&h->cands.v[i]);
    cairn_free(h->cands.v);
    for (size_t i = 0; i < h->n_maps; i++) {
        cairn_telemetry_free(h->maps[i].head);
        munmap(h->maps[i].p, h->maps[i].len);
        close(h->maps[i].fd);
    }
    cairn_free(h->maps);
    paths_free(&h->names);
    cairn__hunt_yara_free(h->yara);
    pthread_mutex_destroy(&h->msg_mu);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    cairn_free(h);
}

size_t cairn_hunt_job_yara_count(const struct cairn_hunt_job *h)
{
    return h == NULL ? 0 : cairn__hunt_yara_count(h->yara);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void snapshot(struct cairn_hunt_job *h, struct cairn_hunt_job_stats *st,
                     double start)
{
    st->bytes = atomic_load(&h->bytes);
    st->lines = atomic_load(&h->lines);
    st->malformed = atomic_load(&h->malformed);
    st->hits = atomic_load(&h->hits);
    st->errors = atomic_load(&h->errors);
    st->output_failed = h->out_err;
    st->scan_seconds = now_s() - start;
}

int cairn_hunt_job_run(struct cairn_hunt_job *h,
                       const struct cairn_hunt_input *logs, size_t n_logs,
                       const char *const *dirs, size_t n_dirs,
                       struct cairn_hunt_job_stats *stats)
{
    struct cairn_hunt_job_stats st = {0};
    struct worker *workers = NULL;
    unsigned n_threads = h->o.threads, started = 0;
    int rc = CAIRN_EINVAL;

    if (h->ran)
        goto out;
    h->ran = true;
    rc = plan(h, logs, n_logs, dirs, n_dirs, &st);
    if (rc < 0) {
        say_error(h, "out of memory");
        goto out;
    }
    size_t confirm_part = h->n_parts - 1;
    size_t n_work = confirm_part; /* files and log parts */
    if (n_threads > n_work)
        n_threads = n_work > 0 ? (unsigned)n_work : 1;
    rc = CAIRN_ENOMEM;
    workers = cairn_calloc(n_threads, sizeof *workers);
    if (workers == NULL) {
        say_error(h, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < n_threads; i++) {
        workers[i].h = h;
        workers[i].topts = h->o.telemetry;
        workers[i].topts.on_diag = on_diag;
        workers[i].topts.diag_ud = &workers[i];
        if (cairn_hunt_matcher_new(h->set, &workers[i].m) < 0) {
            say_error(h, "out of memory");
            goto out;
        }
    }

    /* Workers take parts in order; this thread outputs them in order. */
    double scan_start = now_s();
    h->end = confirm_part; /* the workers stop before the confirm part */
    for (unsigned i = 0; i < n_threads && n_work > 0; i++) {
        if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) !=
            0) {
            say_error(h, "cannot start a thread");
            break;
        }
        started++;
    }
    pthread_mutex_lock(&h->mu);
    if (n_work > 0 && started == 0)
        h->end = h->next; /* nothing to wait for */
    while (h->head < h->end) {
        struct part *j = &h->parts[h->head];
        if (j->done) {
            flush_part(h, j);
            h->head++;
            continue;
        }
        if (h->o.on_progress != NULL) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)h->o.progress_ms * 1000000L;
            until.tv_sec += until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&h->cv, &h->mu, &until);
            snapshot(h, &st, scan_start);
            h->o.on_progress(&st, h->o.ud);
        } else {
            pthread_cond_wait(&h->cv, &h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(workers[i].tid, NULL);
    double scan_s = now_s() - scan_start;
    if (n_work > 0 && started == 0)
        atomic_fetch_add(&h->errors, 1);

    /* Hits of patterns that need the evaluator: confirmed, output last. */
    h->end = confirm_part + 1;
    h->head = confirm_part;
    if (confirm_all(h, confirm_part) < 0) {
        say_error(h, "out of memory confirming hits");
        atomic_fetch_add(&h->errors, 1);
    }
    pthread_mutex_lock(&h->mu);
    flush_part(h, &h->parts[confirm_part]);
    pthread_mutex_unlock(&h->mu);
    snapshot(h, &st, scan_start);
    st.scan_seconds = scan_s;
    rc = 0;
out:
    for (size_t i = 0; workers != NULL && i < n_threads; i++) {
        for (size_t k = 0; k < workers[i].cands.n; k++)
            cand_release(&workers[i].cands.v[k]);
        cairn_free(workers[i].cands.v);
        cairn_hunt_matcher_free(workers[i].m);
    }
    cairn_free(workers);
    if (stats != NULL)
        *stats = st;
    return rc;
}
