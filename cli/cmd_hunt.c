/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt`: find indicators in logs and files; report hits, sightings. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "cairn/hunt.h"
#include "cairn/store.h"
#include "cairn/telemetry.h"
#include "admin.h"
#include "cli.h"
#include "hunt_int.h"

#define MAX_SOURCE      ((size_t)4 << 30) /* one indicator file */
#define MAX_THREADS     256
#define MAX_DEPTH       64 /* directory nesting walked */
#define MAX_SKIPS_SHOWN 20 /* skipped indicators listed one by one */
#define FLUSH_AT        ((size_t)256 << 10) /* bytes of output a worker holds */
#define JOB_OUT_CAP     ((size_t)1 << 30)   /* output one file may buffer */
#define JOB_RECS_CAP    ((size_t)1 << 24)   /* sighting records a file holds */
#define MAX_CANDIDATES  1000000 /* hits awaiting confirmation, in all */
#define MAX_SCOS        64      /* observations built from one event */
#define MAX_SEEN        32      /* hits of one event checked for repeats */
#define PROGRESS_EVERY  8192    /* events between counter updates */
#define PROGRESS_MS     250
#define SPLIT_DEFAULT   ((size_t)64 << 20) /* part of a large file */

enum {
    OPT_INPUT,
    OPT_COLLECTION,
    OPT_DATA,
    OPT_FILES,
    OPT_FORMAT,
    OPT_JSONL,
    OPT_STIX,
    OPT_ORG,
    OPT_SIGHTINGS,
    OPT_SIGHTINGS_INTO,
    OPT_THREADS,
    OPT_SPLIT,
    OPT_MAX_LINE,
    OPT_NO_PROGRESS,
    OPT_QUIET,
};

static const struct cli_option options[] = {
    [OPT_INPUT] = {'i', "indicators", "FILE",
                   "Read indicators from FILE: a STIX bundle (its indicator "
                   "objects) or a plain list of values, told apart by "
                   "content; '-' for standard input. May be repeated."},
    [OPT_COLLECTION] = {0, "collection", "ID",
                        "Read the indicators of store collection ID (the "
                        "latest version of each). May be repeated."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_FILES] = {0, "files", "DIR",
                   "Hash every regular file under DIR (MD5, SHA-1, SHA-256) "
                   "against file indicators, and run YARA indicators over "
                   "them. May be repeated."},
    [OPT_FORMAT] = {0, "format", "FORMAT",
                    "Read every log as FORMAT: auto (the default: detected "
                    "per file), zeek, json, csv or text."},
    [OPT_JSONL] = {0, "jsonl", NULL,
                   "Print one JSON object per hit instead of text."},
    [OPT_STIX] = {0, "stix", NULL,
                  "Print only the STIX bundle of sightings, at the end."},
    [OPT_ORG] = {0, "org", "NAME",
                 "The organisation that sighted the hits, named in the "
                 "sightings' identity (default: the host name)."},
    [OPT_SIGHTINGS] = {0, "sightings", "FILE",
                       "Also write the STIX bundle of sightings to FILE."},
    [OPT_SIGHTINGS_INTO] = {0, "sightings-into", "ID",
                            "Also store the sightings and their identity in "
                            "store collection ID."},
    [OPT_THREADS] = {'j', "threads", "N",
                     "Hunt N files at a time (default: the number of "
                     "processors)."},
    [OPT_SPLIT] = {0, "split", "SIZE",
                   "Read an uncompressed log of more than twice SIZE in "
                   "parts of SIZE with several threads (default 64M; 0: "
                   "never)."},
    [OPT_MAX_LINE] = {0, "max-line", "SIZE",
                      "Skip, and count as malformed, log lines longer than "
                      "SIZE bytes (default 1M)."},
    [OPT_NO_PROGRESS] = {0, "no-progress", NULL,
                         "Do not show the progress line on a terminal."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print no progress, summary or warnings; errors only."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_hunt = {
    .name = "hunt",
    .synopsis = "[-i FILE]... [--collection ID]... [--files DIR]... "
                "[--jsonl | --stix] [--threads N] [OPTIONS] [PATH...]",
    .summary = "Find indicators in logs and files, and report sightings.",
    .description =
        "Loads indicators from the -i sources and store collections, then "
        "reads each PATH: a log file, or a directory whose regular files "
        "are read recursively in name order; '-', or no PATH at all, reads "
        "standard input (unless only --files is given). Zeek TSV and JSON "
        "logs, JSON lines, CSV with a header and plain text are told apart "
        "by content, gzip and zstd files are decompressed on the fly.\n\n"
        "A domain indicator matches the domain and its subdomains, an "
        "address matches CIDR indicators, domains, hashes and email "
        "addresses compare without regard to case and URLs are normalised. "
        "Revoked and expired indicators are skipped; indicators that cannot "
        "be hunted are reported on standard error with the reason. Patterns "
        "with several observations or qualifiers are confirmed with the "
        "pattern evaluator once every input has been read; their hits are "
        "printed last.\n\n"
        "Each hit names the place (FILE:LINE, or FILE@OFFSET for --files), "
        "the value found, the indicator's id and name and the event's time. "
        "On a terminal the hits form a table; otherwise each is one line of "
        "tab-separated cells:\n\n"
        "  FILE:LINE <tab> VALUE <tab> INDICATOR-ID <tab> NAME <tab> TIME\n\n"
        "with '-' for a missing name or time. --jsonl prints objects with "
        "the keys indicator, name, type, value, file, line, offset, field "
        "and ts. Hits are printed in the order of the inputs, then of their "
        "lines, whatever the number of threads; a large uncompressed log is "
        "read in parts by several threads (--split).\n\n"
        "The hits are also summed up per indicator in STIX 2.1 sightings "
        "(count, first_seen, last_seen, where_sighted_refs naming the --org "
        "identity): --stix prints that bundle, --sightings writes it to a "
        "file, --sightings-into stores it. Malformed lines are counted, the "
        "first few reported with their line numbers, and the reading goes "
        "on; an input that cannot be read is reported and the next one is "
        "read. See docs/hunt.md.",
    .options = options,
    .exit_status = "0 every input was read and nothing matched\n"
                   "1 every input was read and something matched\n"
                   "2 usage error, no indicator that can be hunted, or an "
                   "input that could not be read (then hits found in the "
                   "others are still printed)",
    .examples = "$ cairn hunt -i sunburst.json /var/log/zeek/\n"
                "$ cairn hunt -i iocs.txt --jsonl proxy.log.gz | jq .value\n"
                "$ zcat dns.log.gz | cairn hunt -i iocs.txt --stix > s.json\n"
                "$ cairn hunt --collection ID --files /srv/uploads",
    .run = run,
};

#define CMD (&cli_cmd_hunt)

/* ---- messages ------------------------------------------------------------ */

/*
 * Every line on standard error goes through here, so that messages from
 * worker threads do not mix and the progress line is wiped before one.
 */
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static bool progress_shown;

static void vmsg(const char *fmt, va_list ap)
{
    pthread_mutex_lock(&err_mu);
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = false;
    }
    fputs("cairn hunt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&err_mu);
}

__attribute__((format(printf, 1, 2))) static void msg(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

/* ---- state --------------------------------------------------------------- */

/* One hit kept for the sightings until its file's turn to be printed. */
struct rec {
    size_t indicator; /* index in the set, or SIZE_MAX: `id` is stable */
    const char *id;
    const char *name;
    enum cairn_ioc_type type;
    bool has_ts;
    struct cairn_time ts;
};

/* One input: a log (or standard input), or the --files walk (files job). */
struct job {
    const char *path;
    bool files; /* the --files directories, hunted by the main thread */
    /*
     * A part of a large file read in parallel with its other parts: bytes
     * [start, end) of the mapped file, read as `format`, with the file's
     * first `head_len` bytes (its `head_lines` header lines) put before
     * it when start > 0; `base_line` lines of the file come before it.
     */
    const char *map;
    size_t start, end, head_len;
    uint64_t head_lines, base_line;
    enum cairn_telemetry_format format;
    bool done;
    bool failed;
    struct cairn_buf out;
    struct rec *recs;
    size_t n_recs, cap_recs;
    uint64_t hits;
};

/* A hit of an indicator that needs confirmation by the pattern evaluator. */
struct cand {
    size_t job;
    uint64_t seq; /* order within its job */
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

struct hunt {
    /* set up before the workers start, read-only afterwards */
    const struct cairn_hunt_set *set;
    size_t n_ind;
    enum hunt_format fmt;
    bool want_sightings;
    bool quiet;
    struct cairn_telemetry_opts topts;
    struct hunt_yara *yara;
    struct job *jobs;
    size_t n_jobs;

    /* shared, under `mu` */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next; /* next job to hand out */
    size_t head; /* next job to print */
    struct cairn_hunt_sightings *sightings;
    struct cand_list cands;
    bool cands_full;
    int out_err; /* writing standard output failed */

    /* counters, updated by the workers */
    atomic_uint_fast64_t bytes;
    atomic_uint_fast64_t lines;
    atomic_uint_fast64_t hits;
    atomic_uint_fast64_t malformed;
    atomic_uint_fast64_t n_cands;
    atomic_int errors;
};

/* ---- output in input order ----------------------------------------------- */

/* Print what a job holds and hand its hits to the sightings; under `mu`. */
static void clear_progress(void);

static void flush_job(struct hunt *h, struct job *j)
{
    if (j->out.len > 0) {
        /* Hits on a terminal start on a line of their own. */
        clear_progress();
        if (fwrite(j->out.data, 1, j->out.len, stdout) != j->out.len)
            h->out_err = 1;
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
        if (cairn_hunt_sightings_add(h->sightings, &hit) < 0)
            h->out_err = CAIRN_ENOMEM;
    }
    j->n_recs = 0;
}

/*
 * A worker prints its job's output as it goes when that job is the next
 * one in order; otherwise the output waits in the job's buffer.
 */
static void maybe_flush(struct hunt *h, size_t index)
{
    struct job *j = &h->jobs[index];

    if (j->out.len < FLUSH_AT && j->n_recs < 65536)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->head == index)
        flush_job(h, j);
    pthread_mutex_unlock(&h->mu);
}

static int add_rec(struct job *j, const struct hunt_out_hit *oh,
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
 * Record one reported hit in job `index`: its printed form and its
 * sighting. `indicator` is its index in the set, or SIZE_MAX when
 * oh->indicator_id outlives the call (YARA).
 */
static int emit(struct hunt *h, size_t index, const struct hunt_out_hit *oh,
                size_t indicator)
{
    struct job *j = &h->jobs[index];
    int rc = hunt_format_hit(h->fmt, oh, &j->out);

    if (rc == 0 && h->want_sightings)
        rc = add_rec(j, oh, indicator);
    if (rc < 0)
        return rc;
    j->hits++;
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
static json_t *event_scos(const struct cairn_hunt_event *ev)
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
    struct hunt *h;
    pthread_t tid;
    struct cairn_hunt_matcher *m;
    size_t index; /* the job at hand */
    int err;
    struct cand_list cands; /* this job's, merged into h->cands at its end */
    uint64_t event_seq;     /* events seen in this job */
    uint64_t cand_event;    /* event_seq of the last candidate */
    size_t cand_start;      /* first candidate of that event */
    uint64_t seq;
    struct cairn_telemetry_opts topts; /* diag_ud is this worker */
    int64_t line_adj; /* added to the line numbers of the reader at hand */
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
    struct hunt *h = w->h;
    const struct cairn_hunt_event *ev = hit->event;
    struct cand c = {
        .job = w->index,
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
        if (first && !h->quiet)
            msg("more than %d hits await confirmation; later ones are "
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
    /* --files events carry their own path; a log's is its job's. */
    c.file = cairn_strdup(h->jobs[w->index].files ? ev->file
                                                  : h->jobs[w->index].path);
    c.value = cairn_strndup(hit->value, hit->value_len);
    c.value_len = hit->value_len;
    c.field = d->field_name ? cairn_strdup(d->field_name) : NULL;
    if (c.primary == w->cands.n)
        c.scos = event_scos(ev);
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
    struct hunt_out_hit oh = {
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
    take_hit(w, hit, w->h->jobs[w->index].path, false);
}

/* Malformed-line reports from the readers, and unreadable files. */
static void on_diag(const struct cairn_diag *d, void *ud)
{
    struct worker *w = ud;
    struct cairn_diag fixed = *d;
    char line[700];

    if (strcmp(d->rule, "unreadable") == 0 || d->severity == CAIRN_SEV_ERROR)
        atomic_fetch_add(&w->h->errors, 1);
    else if (w->h->quiet)
        return;
    /* A part of a split file counts its lines from its own start. */
    if (fixed.line > 0)
        fixed.line = (unsigned)((int64_t)fixed.line + w->line_adj);
    cairn_diag_format(&fixed, line, sizeof line);
    msg("%s", line);
}

static void report_diag(const struct cairn_diag *d, const char *path, int rc)
{
    char line[700];

    if (d->message[0] == '\0') {
        msg("%s: %s", path, cairn_strerror(rc));
        return;
    }
    cairn_diag_format(d, line, sizeof line);
    /* The readers name the file; a diag without one gets it here. */
    if (d->file[0] == '\0')
        msg("%s: %s", path, line);
    else
        msg("%s", line);
}

/* Move a finished job's candidates to the shared list (under `mu`). */
static int merge_candidates(struct hunt *h, struct worker *w)
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

static void hunt_log(struct worker *w)
{
    struct hunt *h = w->h;
    struct job *j = &h->jobs[w->index];
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_hunt_event ev;
    struct cairn_telemetry_stats st = {0};
    struct cairn_diag diag;
    uint64_t seen_bytes = 0, seen_lines = 0;
    uint64_t extra_bytes = 0, extra_lines = 0; /* a part's copied header */
    uint64_t off_adj = 0;
    char *copy = NULL;
    int rc;

    cairn_diag_clear(&diag);
    w->line_adj = 0;
    if (j->map == NULL) {
        rc = cairn_telemetry_open(j->path, &w->topts, &r, &diag);
    } else {
        struct cairn_telemetry_opts o = w->topts;
        const char *data = j->map + j->start;
        size_t len = j->end - j->start;
        o.format = j->format;
        if (j->start > 0 && j->head_len > 0) {
            /* The header names the columns: each part needs its own. */
            copy = cairn_malloc(j->head_len + len);
            if (copy == NULL) {
                msg("%s: out of memory", j->path);
                j->failed = true;
                return;
            }
            memcpy(copy, j->map, j->head_len);
            memcpy(copy + j->head_len, data, len);
            data = copy;
            len += j->head_len;
            extra_bytes = j->head_len;
            extra_lines = j->head_lines;
        }
        w->line_adj = (int64_t)j->base_line - (int64_t)extra_lines;
        off_adj = j->start - extra_bytes;
        rc = cairn_telemetry_open_mem(data, len, j->path, &o, &r, &diag);
    }
    if (rc < 0) {
        report_diag(&diag, j->path, rc);
        j->failed = true;
        cairn_free(copy);
        return;
    }
    w->event_seq = 0;
    w->seq = 0;
    /*
     * Event numbers restart with each job: forget the last job's event, or
     * its hits (pointing into a buffer since freed, or a new file mapped at
     * the same address) would pass for this event's.
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
            msg("%s:%llu: matching failed", j->path,
                (unsigned long long)ev.line);
            j->failed = true;
            break;
        }
        if (w->err < 0)
            break;
        if (w->event_seq % PROGRESS_EVERY == 0) {
            cairn_telemetry_get_stats(r, &st);
            uint64_t b = st.bytes > extra_bytes ? st.bytes - extra_bytes : 0;
            uint64_t l = st.lines > extra_lines ? st.lines - extra_lines : 0;
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
        report_diag(&diag, j->path, rc);
        j->failed = true;
    }
    if (w->err < 0) {
        msg("%s: %s%s", j->path, cairn_strerror(w->err),
            w->err == CAIRN_ETOOBIG ? " (too many hits held for output)" : "");
        j->failed = true;
        w->err = 0;
    }
    cairn_telemetry_get_stats(r, &st);
    st.bytes = st.bytes > extra_bytes ? st.bytes - extra_bytes : 0;
    st.lines = st.lines > extra_lines ? st.lines - extra_lines : 0;
    if (st.bytes > seen_bytes)
        atomic_fetch_add(&h->bytes, st.bytes - seen_bytes);
    if (st.lines > seen_lines)
        atomic_fetch_add(&h->lines, st.lines - seen_lines);
    atomic_fetch_add(&h->malformed, st.malformed);
    cairn_telemetry_free(r);
    cairn_free(copy);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct hunt *h = w->h;

    for (;;) {
        pthread_mutex_lock(&h->mu);
        size_t i = h->next < h->n_jobs ? h->next++ : h->n_jobs;
        pthread_mutex_unlock(&h->mu);
        if (i >= h->n_jobs)
            break;
        w->index = i;
        hunt_log(w);
        pthread_mutex_lock(&h->mu);
        if (merge_candidates(h, w) < 0) {
            msg("%s: out of memory keeping hits to confirm", h->jobs[i].path);
            h->jobs[i].failed = true;
        }
        if (h->jobs[i].failed)
            atomic_fetch_add(&h->errors, 1);
        h->jobs[i].done = true;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

/* ---- --files ------------------------------------------------------------- */

struct files_ctx {
    struct worker *w;
    const char *path; /* the file being hunted */
    bool failed;
};

static void on_yara(const struct hunt_yara_match *m, void *ud)
{
    struct files_ctx *fc = ud;
    struct hunt_out_hit oh = {
        .indicator_id = m->indicator_id,
        .name = m->indicator_name,
        .type = CAIRN_IOC_STRING,
        .type_name = "yara",
        .value = m->rule,
        .value_len = strlen(m->rule),
        .file = fc->path,
        .line = 0,
        .offset = m->offset,
        .field = "yara",
    };
    int rc = emit(fc->w->h, fc->w->index, &oh, SIZE_MAX);
    if (rc < 0)
        fc->w->err = rc;
}

/* Hits of one hashed file use its own path, not the job's name. */
static void on_file_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct files_ctx *fc = ud;
    take_hit(fc->w, hit, hit->event->file, true);
}

static int on_file(const struct cairn_hunt_event *ev, void *ud)
{
    struct files_ctx *fc = ud;
    struct worker *w = fc->w;
    char err[200];

    fc->path = ev->file;
    w->event_seq++;
    if (cairn_hunt_match_event(w->m, ev, on_file_hit, fc) < 0)
        return CAIRN_EINTERNAL;
    if (hunt_yara_scan_file(w->h->yara, ev->file, on_yara, fc, err,
                            sizeof err) < 0) {
        msg("%s: %s", ev->file, err);
        fc->failed = true;
    }
    /* Files can be large: their output goes out as each one is done. */
    maybe_flush(w->h, w->index);
    return w->err < 0 ? w->err : 0;
}

static void hunt_files(struct worker *w, const char *const *dirs, size_t n)
{
    struct hunt *h = w->h;
    struct job *j = &h->jobs[w->index];
    struct files_ctx fc = {w, NULL, false};
    struct cairn_diag diag;

    for (size_t i = 0; i < n; i++) {
        cairn_diag_clear(&diag);
        int rc =
            cairn_telemetry_hash_files(dirs[i], &w->topts, on_file, &fc, &diag);
        if (rc < 0) {
            if (w->err < 0)
                msg("%s: %s", dirs[i], cairn_strerror(w->err));
            else
                report_diag(&diag, dirs[i], rc);
            w->err = 0;
            fc.failed = true;
        }
    }
    if (fc.failed)
        j->failed = true;
}

/* ---- confirmation -------------------------------------------------------- */

static const struct hunt *sort_h;

static int cmp_by_indicator(const void *a, const void *b)
{
    const struct cand *x = &sort_h->cands.v[*(const size_t *)a];
    const struct cand *y = &sort_h->cands.v[*(const size_t *)b];

    if (x->indicator != y->indicator)
        return x->indicator < y->indicator ? -1 : 1;
    if (x->job != y->job)
        return x->job < y->job ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_by_place(const void *a, const void *b)
{
    const struct cand *x = &sort_h->cands.v[*(const size_t *)a];
    const struct cand *y = &sort_h->cands.v[*(const size_t *)b];

    if (x->job != y->job)
        return x->job < y->job ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Evaluate one indicator's pattern over its candidates [from, to) of `order`.
 */
static int confirm_group(struct hunt *h, const size_t *order, size_t from,
                         size_t to)
{
    size_t ind = h->cands.v[order[from]].indicator;
    struct cairn_hunt_indicator_info info;
    struct cairn_pattern *p = NULL;
    struct cairn_observation_set *set = NULL;
    struct cairn_match_result res = {0};
    struct cairn_diag diag;
    size_t *obs_of = NULL, n_obs = 0, cap_obs = 0;
    int rc = CAIRN_ENOMEM;

    cairn_diag_clear(&diag);
    if (cairn_hunt_set_indicator(h->set, ind, &info) < 0) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    const char *text = info.pattern;
    if (text == NULL ||
        cairn_pattern_parse(text, strlen(text), NULL, &p, &diag) < 0) {
        msg("%s: cannot confirm hits: %s", info.id,
            text ? diag.message : "no pattern");
        rc = 0;
        goto out;
    }
    if (cairn_observations_new(&set) < 0)
        goto out;
    for (size_t k = from; k < to; k++) {
        struct cand *c = &h->cands.v[order[k]];
        for (size_t s = 0; c->scos != NULL && s < json_array_size(c->scos);
             s++) {
            if (n_obs == cap_obs) {
                size_t cap = cap_obs ? cap_obs * 2 : 64;
                size_t *v = cairn_realloc(obs_of, cap * sizeof *v);
                if (v == NULL)
                    goto out;
                obs_of = v;
                cap_obs = cap;
            }
            const struct cairn_time *t = c->has_ts ? &c->ts : NULL;
            if (cairn_observations_add_sco(set, json_array_get(c->scos, s), t,
                                           t, 1) < 0)
                goto out;
            obs_of[n_obs++] = order[k];
        }
    }
    cairn_diag_clear(&diag);
    if (cairn_observations_seal(set, &diag) < 0) {
        msg("%s: cannot confirm hits: %s", info.id, diag.message);
        rc = 0;
        goto out;
    }
    if (cairn_pattern_match(p, set, NULL, &res) < 0)
        goto out;
    if (res.truncated && !h->quiet)
        msg("%s: the search for matching observations reached its bounds; "
            "some hits may not be confirmed",
            info.id);
    for (size_t k = 0; res.matched && k < res.n_indexes; k++) {
        if (res.indexes[k] < n_obs)
            h->cands.v[obs_of[res.indexes[k]]].confirmed = true;
    }
    rc = 0;
out:
    cairn_match_result_release(&res);
    cairn_observations_free(set);
    cairn_pattern_free(p);
    cairn_free(obs_of);
    return rc;
}

/* Confirm the candidates, then print the confirmed ones in input order. */
static int confirm_all(struct hunt *h, size_t confirm_job)
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
        struct hunt_out_hit oh = {
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
        rc = emit(h, confirm_job, &oh, c->indicator);
    }
    cairn_free(order);
    return rc;
}

/* ---- inputs ---------------------------------------------------------------
 */

struct paths {
    char **v;
    size_t n, cap;
};

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
 * listed (the others are still walked) or memory runs out.
 */
static int walk(const char *dir, unsigned depth, struct paths *out)
{
    struct paths names = {0};
    struct dirent *de;
    DIR *d;
    int rc = 0;

    if (depth > MAX_DEPTH) {
        msg("%s: directories nested too deep (over %d)", dir, MAX_DEPTH);
        return -1;
    }
    d = opendir(dir);
    if (d == NULL) {
        msg("%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (paths_add(&names, de->d_name, strlen(de->d_name)) < 0) {
            msg("out of memory");
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
            msg("%s/%s: path too long", dir, names.v[i]);
            rc = -1;
            continue;
        }
        if (lstat(path, &st) < 0) {
            msg("%s: %s", path, strerror(errno));
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int r = walk(path, depth + 1, out);
            if (r < rc)
                rc = r;
        } else if (S_ISREG(st.st_mode)) {
            if (paths_add(out, path, (size_t)n) < 0) {
                msg("out of memory");
                rc = -2;
            }
        }
    }
    paths_free(&names);
    return rc;
}

/*
 * The logs to read, in order: files as given (one that does not exist is
 * kept, so that its error is reported in its turn), directories expanded.
 */
static int collect_logs(char **args, size_t n, bool stdin_default,
                        struct paths *out, bool *walk_failed)
{
    if (n == 0 && stdin_default)
        return paths_add(out, "-", 1);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 &&
            S_ISDIR(st.st_mode)) {
            int r = walk(args[i], 0, out);
            if (r == -2)
                return CAIRN_ENOMEM;
            if (r < 0)
                *walk_failed = true;
            continue;
        }
        if (paths_add(out, args[i], strlen(args[i])) < 0)
            return CAIRN_ENOMEM;
    }
    return 0;
}

/* ---- jobs: files, and parts of large files ----------------------------- */

struct plan {
    struct job *v;
    size_t n, cap;
    struct {
        void *p;
        size_t len;
    } * maps;
    size_t n_maps, cap_maps;
    size_t split; /* part size; 0: never split */
    unsigned threads;
    enum cairn_telemetry_format format;
};

static int plan_add(struct plan *pl, const struct job *j)
{
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        struct job *v = cairn_realloc(pl->v, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        pl->v = v;
        pl->cap = cap;
    }
    pl->v[pl->n++] = *j;
    return 0;
}

static void plan_release(struct plan *pl)
{
    for (size_t i = 0; i < pl->n_maps; i++)
        munmap(pl->maps[i].p, pl->maps[i].len);
    cairn_free(pl->maps);
    pl->maps = NULL;
    pl->n_maps = 0;
}

static uint64_t count_lines(const char *p, size_t n)
{
    uint64_t c = 0;

    for (const char *q = p, *end = p + n;
         (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        c++;
    return c;
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
 * Split a large uncompressed regular file into parts of about pl->split
 * bytes, cut after a newline, that threads read at the same time. Zeek
 * TSV parts get the file's header put before them; CSV is never split (a
 * quoted field may hold a newline), nor is a Zeek log whose columns change
 * further down. Returns 1 when the parts were added, 0 when the file is to
 * be read whole (the reader reports any problem with it), or CAIRN_ENOMEM.
 */
static int try_split(struct plan *pl, const char *path)
{
    struct stat st;
    char *map;
    size_t size, head_len = 0;
    uint64_t head_lines = 0, base = 0;
    int fd;

    if (pl->split == 0 || pl->threads < 2 || strcmp(path, "-") == 0)
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (uintmax_t)st.st_size > SIZE_MAX ||
        (uintmax_t)st.st_size < 2 * (uintmax_t)pl->split) {
        close(fd);
        return 0;
    }
    size = (size_t)st.st_size;
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return 0;
    const unsigned char *u = (const unsigned char *)map;
    enum cairn_telemetry_format fmt = pl->format;
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
        if (head_lines == 0 ||
            memmem(map + head_len, size - head_len, "\n#fields", 8) != NULL)
            goto whole;
    }
    if (pl->n_maps == pl->cap_maps) {
        size_t cap = pl->cap_maps ? pl->cap_maps * 2 : 8;
        void *v = cairn_realloc(pl->maps, cap * sizeof *pl->maps);
        if (v == NULL) {
            munmap(map, size);
            return CAIRN_ENOMEM;
        }
        pl->maps = v;
        pl->cap_maps = cap;
    }
    pl->maps[pl->n_maps].p = map;
    pl->maps[pl->n_maps].len = size;
    pl->n_maps++;
    for (size_t start = 0; start < size;) {
        size_t end = start + pl->split;
        if (end >= size || size - end < pl->split / 2) {
            end = size;
        } else {
            const char *nl = memchr(map + end, '\n', size - end);
            end = nl ? (size_t)(nl - map) + 1 : size;
        }
        struct job j = {
            .path = path,
            .map = map,
            .start = start,
            .end = end,
            .head_len = head_len,
            .head_lines = head_lines,
            .base_line = base,
            .format = fmt,
        };
        if (plan_add(pl, &j) < 0)
            return CAIRN_ENOMEM;
        base += count_lines(map + start, end - start);
        start = end;
    }
    return 1;
whole:
    munmap(map, size);
    return 0;
}

/* ---- indicators ---------------------------------------------------------- */

struct load_ctx {
    bool quiet;
    size_t revoked, expired, unsupported, invalid;
    size_t shown;
};

static void on_skip(const struct cairn_hunt_skip *s, void *ud)
{
    struct load_ctx *lc = ud;

    switch (s->reason) {
    case CAIRN_HUNT_SKIP_REVOKED:
        lc->revoked++;
        return;
    case CAIRN_HUNT_SKIP_EXPIRED:
        lc->expired++;
        return;
    case CAIRN_HUNT_SKIP_UNSUPPORTED:
        lc->unsupported++;
        break;
    case CAIRN_HUNT_SKIP_INVALID:
        lc->invalid++;
        break;
    }
    if (lc->quiet || lc->shown++ >= MAX_SKIPS_SHOWN)
        return;
    if (s->indicator_id != NULL)
        msg("%s: not hunted: %s", s->indicator_id, s->message);
    else if (s->source != NULL)
        msg("%s:%llu: not hunted: %s", s->source, (unsigned long long)s->line,
            s->message);
    else
        msg("not hunted: %s", s->message);
}

static void on_yara_error(const char *id, const char *message, void *ud)
{
    struct load_ctx *lc = ud;

    lc->unsupported++;
    if (!lc->quiet && lc->shown++ < MAX_SKIPS_SHOWN)
        msg("%s: not hunted: YARA rule does not compile: %s", id, message);
}

static int add_object(struct cairn_hunt_builder *b, json_t *obj,
                      const char *where)
{
    struct cairn_diag diag;
    const char *type = cairn_stix_type(obj);

    if (type == NULL || strcmp(type, "indicator") != 0)
        return 0;
    cairn_diag_clear(&diag);
    int rc = cairn_hunt_builder_add_indicator(b, obj, &diag);
    if (rc < 0) {
        msg("%s: %s", where, cairn_strerror(rc));
        return rc;
    }
    return 0;
}

/* A STIX bundle or object, or a JSON array of them; else a plain list. */
static bool looks_like_json(const char *s, size_t len)
{
    size_t i = 0;

    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i < len && s[i] == '{')
        return true;
    if (i >= len || s[i] != '[')
        return false;
    /* "[" starts a JSON array only when an object or "]" follows. */
    for (i++; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return s[i] == '{' || s[i] == ']';
    }
    return false;
}

static int load_json_array(struct cairn_hunt_builder *b, const char *path,
                           const struct cli_file *f)
{
    struct cairn_diag diag;
    json_t *doc = NULL;
    int rc;

    cairn_diag_clear(&diag);
    rc = cairn_json_parse(f->data, f->len, &doc, &diag);
    if (rc < 0) {
        msg("%s:%u:%u: %s", path, diag.line, diag.column, diag.message);
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(doc); i++) {
        json_t *o = json_array_get(doc, i);
        const char *type = cairn_stix_type(o);
        if (type != NULL && strcmp(type, "bundle") == 0) {
            json_t *objs = json_object_get(o, "objects");
            for (size_t k = 0; rc == 0 && k < json_array_size(objs); k++)
                rc = add_object(b, json_array_get(objs, k), path);
        } else {
            rc = add_object(b, o, path);
        }
    }
    json_decref(doc);
    return rc;
}

static int load_source(struct cairn_hunt_builder *b, const char *path)
{
    struct cli_file f;
    struct cairn_bundle_reader *r = NULL;
    struct cairn_diag diag;
    int rc;

    if (cli_file_load(CMD, path, MAX_SOURCE, &f) != 0)
        return CAIRN_EIO;
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    if (!looks_like_json(f.data, f.len)) {
        cairn_diag_clear(&diag);
        rc = cairn_hunt_builder_add_list(b, f.data, f.len, name, &diag);
        if (rc < 0)
            report_diag(&diag, name, rc);
        goto out;
    }
    const char *p = f.data;
    while (p < f.data + f.len && *p != '{' && *p != '[')
        p++;
    if (*p == '[') {
        rc = load_json_array(b, name, &f);
        goto out;
    }
    rc = cairn_bundle_reader_new(f.data, f.len, 0, &r);
    if (rc < 0) {
        msg("%s: %s", name, cairn_strerror(rc));
        goto out;
    }
    for (;;) {
        json_t *obj = NULL;
        long index = 0;
        cairn_diag_clear(&diag);
        rc = cairn_bundle_reader_next(r, &obj, &index, &diag);
        if (rc <= 0)
            break;
        rc = add_object(b, obj, name);
        json_decref(obj);
        if (rc < 0)
            break;
    }
    if (rc < 0 && diag.message[0] != '\0') {
        if (diag.line > 0)
            msg("%s:%u:%u: %s", name, diag.line, diag.column, diag.message);
        else
            msg("%s: %s", name, diag.message);
    }
out:
    cairn_bundle_reader_free(r);
    cli_file_release(&f);
    return rc < 0 ? rc : 0;
}

static int load_collection(struct cairn_hunt_builder *b, struct cairn_store *s,
                           const char *id)
{
    static const char *const types[] = {"indicator"};
    char cursor[CAIRN_STORE_CURSOR_LEN] = "";
    int rc;

    for (;;) {
        struct cairn_store_page *page = NULL;
        struct cairn_store_query q = {
            .collection = id,
            .types = types,
            .n_types = 1,
            .limit = CAIRN_STORE_LIMIT_MAX,
            .next = cursor[0] ? cursor : NULL,
            .with_json = true,
        };
        rc = cairn_store_query(s, &q, &page);
        if (rc < 0) {
            msg("collection %s: %s", id,
                rc == CAIRN_ENOTFOUND ? "no such collection"
                                      : cairn_strerror(rc));
            return rc;
        }
        for (size_t i = 0; rc == 0 && i < page->n; i++) {
            const struct cairn_store_row *row = &page->rows[i];
            struct cairn_diag diag;
            json_t *obj = NULL;
            cairn_diag_clear(&diag);
            if (row->json == NULL ||
                cairn_json_parse(row->json, row->json_len, &obj, &diag) < 0) {
                msg("collection %s: %s: stored JSON does not parse", id,
                    row->id);
                continue;
            }
            rc = add_object(b, obj, id);
            json_decref(obj);
        }
        bool more = page->more;
        snprintf(cursor, sizeof cursor, "%s", page->next);
        cairn_store_page_free(page);
        if (rc < 0 || !more)
            return rc;
    }
}

/* ---- sightings out ------------------------------------------------------ */

static int write_bundle(const json_t *bundle, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_stix_serialize(bundle, true, &text, &len);

    if (rc < 0) {
        msg("sightings: %s", cairn_strerror(rc));
        return rc;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        msg("%s: %s", path, strerror(errno));
        cairn_free(text);
        return CAIRN_EIO;
    }
    rc = 0;
    if (fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF)
        rc = CAIRN_EIO;
    if (f != stdout && fclose(f) != 0)
        rc = CAIRN_EIO;
    if (rc < 0)
        msg("%s: cannot write: %s", path, strerror(errno));
    cairn_free(text);
    return rc;
}

/* A sighting validation or the store refused. */
static void sighting_refused(const struct cairn_store_result *r, bool invalid,
                             void *ud)
{
    (void)invalid;
    if (r->outcome == CAIRN_STORE_FAILED)
        msg("collection %s: %s: %s", (const char *)ud, r->id, r->message);
}

/* Validate and store the sightings, as every other object comes in. */
static int store_bundle(struct cairn_store *s, const char *coll,
                        const json_t *bundle)
{
    const json_t *objs = json_object_get(bundle, "objects");
    size_t n = json_array_size(objs);
    struct cairn_ingest_opts io = {
        .collection = coll,
        .batch = n < CAIRN_STORE_BATCH_MAX ? n : CAIRN_STORE_BATCH_MAX,
        .on_result = sighting_refused,
        .result_ud = (void *)coll,
    };
    struct cairn_ingest *in = NULL;
    struct cairn_ingest_counts c;

    if (n == 0)
        return 0;
    int rc = cairn_ingest_new(s, &io, &in);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = cairn_ingest_add(in, json_array_get(objs, i), NULL, 0, NULL, 0);
    if (rc == 0)
        rc = cairn_ingest_flush(in);
    cairn_ingest_counts(in, &c);
    cairn_ingest_free(in);
    if (rc < 0)
        msg("collection %s: cannot store the sightings: %s", coll,
            rc == CAIRN_ENOTFOUND ? "no such collection" : cairn_strerror(rc));
    else if (c.invalid + c.failed > 0)
        rc = CAIRN_EINVALID;
    return rc;
}

/* ---- progress ------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void show_progress(struct hunt *h, double start)
{
    char b[32];
    uint64_t bytes = atomic_load(&h->bytes);
    double secs = now_s() - start;

    human_bytes(bytes, b, sizeof b);
    pthread_mutex_lock(&err_mu);
    fprintf(stderr, "\r\033[K%s, %llu lines, %.0f MB/s, %llu hits", b,
            (unsigned long long)atomic_load(&h->lines),
            secs > 0 ? (double)bytes / 1e6 / secs : 0.0,
            (unsigned long long)atomic_load(&h->hits));
    progress_shown = true;
    pthread_mutex_unlock(&err_mu);
}

static void clear_progress(void)
{
    pthread_mutex_lock(&err_mu);
    if (progress_shown)
        fputs("\r\033[K", stderr);
    progress_shown = false;
    pthread_mutex_unlock(&err_mu);
}

/* ---- the command --------------------------------------------------------- */

struct args {
    const char **inputs;
    size_t n_inputs;
    const char **collections;
    size_t n_collections;
    const char **files;
    size_t n_files;
    const char *data;
    const char *org;
    const char *sightings;
    const char *sightings_into;
    enum cairn_telemetry_format format;
    bool jsonl, stix, quiet, no_progress;
    unsigned threads;
    size_t max_line;
    size_t split;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    const char *arg;
    int opt;

    while ((opt = cli_getopt(CMD, argc, argv, &arg)) != -1) {
        char *end = NULL;
        long v;
        switch (opt) {
        case -2:
            return -1;
        case OPT_INPUT:
            a->inputs[a->n_inputs++] = arg;
            break;
        case OPT_COLLECTION:
            a->collections[a->n_collections++] = arg;
            break;
        case OPT_FILES:
            a->files[a->n_files++] = arg;
            break;
        case OPT_DATA:
            a->data = arg;
            break;
        case OPT_FORMAT:
            if (cairn_telemetry_format_parse(arg, &a->format) < 0) {
                cli_error(CMD,
                          "--format: '%s' is not auto, zeek, json, csv or "
                          "text",
                          arg);
                return -1;
            }
            break;
        case OPT_JSONL:
            a->jsonl = true;
            break;
        case OPT_STIX:
            a->stix = true;
            break;
        case OPT_ORG:
            a->org = arg;
            break;
        case OPT_SIGHTINGS:
            a->sightings = arg;
            break;
        case OPT_SIGHTINGS_INTO:
            a->sightings_into = arg;
            break;
        case OPT_THREADS:
            errno = 0;
            v = strtol(arg, &end, 10);
            if (errno != 0 || end == arg || *end != '\0' || v < 1 ||
                v > MAX_THREADS) {
                cli_error(CMD, "--threads: '%s' is not a number from 1 to %d",
                          arg, MAX_THREADS);
                return -1;
            }
            a->threads = (unsigned)v;
            break;
        case OPT_SPLIT:
            if (cli_parse_size(arg, &a->split) < 0) {
                cli_error(CMD, "--split: '%s' is not a size such as 64M", arg);
                return -1;
            }
            if (a->split > 0 && a->split < 4096)
                a->split = 4096;
            break;
        case OPT_MAX_LINE:
            if (cli_parse_size(arg, &a->max_line) < 0 || a->max_line == 0) {
                cli_error(CMD, "--max-line: '%s' is not a size such as 1M",
                          arg);
                return -1;
            }
            break;
        case OPT_NO_PROGRESS:
            a->no_progress = true;
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        default:
            return -1;
        }
    }
    if (a->jsonl && a->stix) {
        cli_error(CMD, "--jsonl and --stix exclude each other");
        return -1;
    }
    if (a->n_inputs == 0 && a->n_collections == 0) {
        cli_error(CMD, "no indicators: give -i FILE or --collection ID; see "
                       "'cairn hunt --help'");
        return -1;
    }
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int run(int argc, char **argv)
{
    struct args a = {.format = CAIRN_TELEMETRY_AUTO, .split = SPLIT_DEFAULT};
    struct hunt h = {.fmt = HUNT_OUT_TEXT};
    struct load_ctx lc = {0};
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_store *store = NULL;
    struct worker *workers = NULL;
    struct paths logs = {0};
    struct plan pl = {0};
    json_t *bundle = NULL;
    char host[256];
    unsigned started = 0;
    size_t n_workers = 0;
    bool walk_failed = false;
    bool progress = false;
    int rc = CLI_EXIT_ERROR;
    double start = now_s();

    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    a.inputs = cairn_calloc((size_t)argc, sizeof *a.inputs);
    a.collections = cairn_calloc((size_t)argc, sizeof *a.collections);
    a.files = cairn_calloc((size_t)argc, sizeof *a.files);
    if (a.inputs == NULL || a.collections == NULL || a.files == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    if (parse_args(argc, argv, &a) < 0)
        goto out;
    int n_paths = argc - optind;
    for (int i = optind; i < argc; i++) {
        for (size_t k = 0; k < a.n_inputs; k++) {
            if (strcmp(argv[i], "-") == 0 && strcmp(a.inputs[k], "-") == 0) {
                cli_error(CMD, "standard input cannot hold both indicators "
                               "and a log");
                goto out;
            }
        }
    }
    bool stdin_default = a.n_files == 0;
    for (size_t k = 0; stdin_default && n_paths == 0 && k < a.n_inputs; k++) {
        if (strcmp(a.inputs[k], "-") == 0) {
            cli_error(CMD, "indicators come from standard input (-i -): "
                           "name the logs to hunt");
            goto out;
        }
    }

    /* The indicators. */
    lc.quiet = a.quiet;
    struct cairn_hunt_builder_opts bopts = {.skip_cb = on_skip, .ud = &lc};
    if (cairn_hunt_builder_new(&bopts, &b) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < a.n_inputs; i++) {
        if (load_source(b, a.inputs[i]) < 0)
            goto out;
    }
    if (a.n_collections > 0 || a.sightings_into != NULL) {
        if (cli_store_open(CMD, a.data, false, &store) != 0)
            goto out;
    }
    for (size_t i = 0; i < a.n_collections; i++) {
        if (load_collection(b, store, a.collections[i]) < 0)
            goto out;
    }
    double t0 = now_s();
    double load_s = t0 - start;
    int err = cairn_hunt_builder_build(b, &set);
    double compile_s = now_s() - t0;
    cairn_hunt_builder_free(b);
    b = NULL;
    if (err < 0) {
        cli_error(CMD, "cannot compile the indicators: %s",
                  cairn_strerror(err));
        goto out;
    }
    h.set = set;
    struct cairn_hunt_set_stats set_stats;
    cairn_hunt_set_get_stats(set, &set_stats);
    h.n_ind = set_stats.indicators;
    if (a.n_files > 0) {
        err = hunt_yara_new(set, on_yara_error, &lc, &h.yara);
        if (err < 0) {
            cli_error(CMD, "YARA: %s", cairn_strerror(err));
            goto out;
        }
    }
    size_t n_yara = hunt_yara_count(h.yara);
    size_t skipped = lc.revoked + lc.expired + lc.unsupported + lc.invalid;
    if (!a.quiet && lc.shown > MAX_SKIPS_SHOWN)
        msg("... and %zu more indicators not hunted",
            lc.shown - MAX_SKIPS_SHOWN);
    if (h.n_ind == 0 && n_yara == 0) {
        cli_error(CMD,
                  "no indicator that can be hunted (%zu skipped: %zu revoked, "
                  "%zu expired, %zu not huntable, %zu invalid)",
                  skipped, lc.revoked, lc.expired, lc.unsupported, lc.invalid);
        goto out;
    }
    if (!a.quiet && a.n_files == 0 && cairn_hunt_set_yara_count(set) > 0)
        msg("%zu YARA indicators are hunted in files only (--files)",
            cairn_hunt_set_yara_count(set));

    /* The inputs: the --files job first, then the logs in order. */
    if (collect_logs(argv + optind, (size_t)n_paths, stdin_default, &logs,
                     &walk_failed) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    unsigned n_threads = a.threads ? a.threads : default_threads();
    pl.split = a.split;
    pl.threads = n_threads;
    pl.format = a.format;
    if (a.n_files > 0 &&
        plan_add(&pl, &(struct job){.path = "(files)", .files = true}) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < logs.n; i++) {
        int r = try_split(&pl, logs.v[i]);
        if (r == 0)
            r = plan_add(&pl, &(struct job){.path = logs.v[i]});
        if (r < 0) {
            cli_error(CMD, "out of memory");
            goto out;
        }
    }
    size_t confirm_job = pl.n;
    if (plan_add(&pl, &(struct job){.path = "(confirmed)"}) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    h.jobs = pl.v;
    h.n_jobs = pl.n;
    pl.v = NULL;
    for (size_t i = 0; i < h.n_jobs; i++)
        cairn_buf_init(&h.jobs[i].out, JOB_OUT_CAP);

    h.quiet = a.quiet;
    h.want_sightings = a.stix || a.sightings || a.sightings_into;
    h.fmt = a.stix                ? HUNT_OUT_NONE
            : a.jsonl             ? HUNT_OUT_JSONL
            : cli_stdout_is_tty() ? HUNT_OUT_TABLE
                                  : HUNT_OUT_TEXT;
    cairn_telemetry_opts_init(&h.topts);
    h.topts.format = a.format;
    h.topts.max_line = a.max_line;
    h.topts.on_diag = on_diag;
    if (a.quiet)
        h.topts.max_reported = 1; /* reports are dropped in on_diag */
    if (h.want_sightings) {
        const char *org = a.org;
        if (org == NULL) {
            if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
                snprintf(host, sizeof host, "localhost");
            host[sizeof host - 1] = '\0';
            org = host;
        }
        if (cairn_hunt_sightings_new(org, NULL, &h.sightings) < 0) {
            cli_error(CMD, "out of memory");
            goto out;
        }
    }
    if (h.fmt == HUNT_OUT_TABLE) {
        struct cairn_buf hb;
        cairn_buf_init(&hb, 4096);
        if (hunt_format_table_header(&hb) == 0)
            fwrite(hb.data, 1, hb.len, stdout);
        cairn_buf_release(&hb);
    }
    progress = !a.quiet && !a.no_progress && isatty(STDERR_FILENO) == 1;

    size_t n_logs = confirm_job - (a.n_files > 0); /* files and parts */
    if (n_threads > n_logs)
        n_threads = n_logs > 0 ? (unsigned)n_logs : 1;
    workers = cairn_calloc(n_threads, sizeof *workers);
    if (workers == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    n_workers = n_threads;
    for (unsigned i = 0; i < n_threads; i++) {
        workers[i].h = &h;
        workers[i].topts = h.topts;
        workers[i].topts.diag_ud = &workers[i];
        if (cairn_hunt_matcher_new(set, &workers[i].m) < 0) {
            cli_error(CMD, "out of memory");
            goto out;
        }
    }

    /* --files: in this thread, before the logs. */
    if (a.n_files > 0) {
        workers[0].index = 0;
        hunt_files(&workers[0], a.files, a.n_files);
        if (merge_candidates(&h, &workers[0]) < 0)
            h.jobs[0].failed = true;
        if (h.jobs[0].failed)
            atomic_fetch_add(&h.errors, 1);
        h.jobs[0].done = true;
        flush_job(&h, &h.jobs[0]);
        h.head = h.next = 1;
    }

    /* The logs: workers take files in order; this thread prints in order. */
    double scan_start = now_s();
    h.n_jobs = confirm_job; /* the workers stop before the confirm job */
    for (unsigned i = 0; i < n_threads && n_logs > 0; i++) {
        if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) !=
            0) {
            cli_error(CMD, "cannot start a thread");
            break;
        }
        started++;
    }
    if (n_logs > 0 && started == 0) {
        h.n_jobs = h.next; /* nothing to wait for */
    }
    pthread_mutex_lock(&h.mu);
    while (h.head < h.n_jobs) {
        struct job *j = &h.jobs[h.head];
        if (j->done) {
            flush_job(&h, j);
            h.head++;
            continue;
        }
        if (progress) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += PROGRESS_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&h.cv, &h.mu, &until);
            show_progress(&h, scan_start);
        } else {
            pthread_cond_wait(&h.cv, &h.mu);
        }
    }
    pthread_mutex_unlock(&h.mu);
    for (unsigned i = 0; i < started; i++)
        pthread_join(workers[i].tid, NULL);
    double scan_s = now_s() - scan_start;
    if (n_logs > 0 && started == 0)
        atomic_fetch_add(&h.errors, 1);

    /* Hits of patterns that need the evaluator: confirmed, printed last. */
    h.n_jobs = confirm_job + 1;
    h.head = confirm_job;
    if (confirm_all(&h, confirm_job) < 0) {
        msg("out of memory confirming hits");
        atomic_fetch_add(&h.errors, 1);
    }
    flush_job(&h, &h.jobs[confirm_job]);
    clear_progress();

    if (h.want_sightings) {
        if (cairn_hunt_sightings_to_bundle(h.sightings, &bundle) < 0) {
            msg("sightings: out of memory");
            atomic_fetch_add(&h.errors, 1);
        } else {
            if (a.stix && write_bundle(bundle, "-") < 0)
                atomic_fetch_add(&h.errors, 1);
            if (a.sightings && write_bundle(bundle, a.sightings) < 0)
                atomic_fetch_add(&h.errors, 1);
            if (a.sightings_into &&
                store_bundle(store, a.sightings_into, bundle) < 0)
                atomic_fetch_add(&h.errors, 1);
        }
    }
    if (fflush(stdout) != 0 || h.out_err) {
        msg("cannot write the hits to standard output");
        atomic_fetch_add(&h.errors, 1);
    }
    if (walk_failed)
        atomic_fetch_add(&h.errors, 1);

    if (!a.quiet) {
        char bytes[32];
        struct cairn_hunt_set_stats ss;
        double secs = now_s() - start;
        uint64_t nb = atomic_load(&h.bytes);
        cairn_hunt_set_get_stats(set, &ss);
        human_bytes(nb, bytes, sizeof bytes);
        msg("%zu indicators hunted (%zu values, %zu to confirm, loaded in "
            "%.2f s, compiled in %.2f s), %zu not hunted (%zu revoked, %zu "
            "expired, %zu not huntable, %zu invalid); %zu logs in %zu "
            "parts, %s, %llu lines, %llu malformed, scanned in %.2f s (%.0f "
            "MB/s); %llu hits; %.2f s in all",
            h.n_ind + n_yara, ss.values, ss.needs_confirmation, load_s,
            compile_s, skipped, lc.revoked, lc.expired, lc.unsupported,
            lc.invalid, logs.n, n_logs, bytes,
            (unsigned long long)atomic_load(&h.lines),
            (unsigned long long)atomic_load(&h.malformed), scan_s,
            scan_s > 0 ? (double)nb / 1e6 / scan_s : 0.0,
            (unsigned long long)atomic_load(&h.hits), secs);
    }
    rc = atomic_load(&h.errors) > 0 ? CLI_EXIT_ERROR
         : atomic_load(&h.hits) > 0 ? CLI_EXIT_FINDINGS
                                    : CLI_EXIT_OK;
out:
    for (size_t i = 0; workers != NULL && i < n_workers; i++) {
        for (size_t k = 0; k < workers[i].cands.n; k++)
            cand_release(&workers[i].cands.v[k]);
        cairn_free(workers[i].cands.v);
        cairn_hunt_matcher_free(workers[i].m);
    }
    cairn_free(workers);
    for (size_t i = 0; h.jobs != NULL && i < h.n_jobs; i++) {
        cairn_buf_release(&h.jobs[i].out);
        cairn_free(h.jobs[i].recs);
    }
    for (size_t i = 0; i < h.cands.n; i++)
        cand_release(&h.cands.v[i]);
    cairn_free(h.cands.v);
    cairn_free(h.jobs);
    cairn_free(pl.v);
    plan_release(&pl);
    paths_free(&logs);
    json_decref(bundle);
    cairn_hunt_sightings_free(h.sightings);
    hunt_yara_free(h.yara);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    cairn_store_close(store);
    cairn_free(a.inputs);
    cairn_free(a.collections);
    cairn_free(a.files);
    pthread_cond_destroy(&h.cv);
    pthread_mutex_destroy(&h.mu);
    return rc;
}
