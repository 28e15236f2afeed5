/* SPDX-License-Identifier: Apache-2.0 */
/* Retro-hunting: the set over each segment's distinct values, then events. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/pattern.h"
#include "archive/archive_priv.h"

#define MAX_SEEN       32      /* hits of one event checked for repeats */
#define MAX_CANDIDATES 1000000 /* hits awaiting confirmation, in all */
#define RESULT_ARENA   ((size_t)1 << 32)

/* One hit kept until its segment's turn to be reported. */
struct res {
    size_t indicator;
    enum cairn_ioc_type type;
    const char *value;
    size_t value_len;
    const char *file, *field, *sensor;
    uint64_t line, offset, event_id;
    bool has_ts;
    struct cairn_time ts;
    /* confirmation: the event's SCOs (NULL: those of res[primary]) */
    json_t *scos;
    size_t primary;
    bool confirmed;
};

struct res_list {
    struct res *v;
    size_t n, cap;
};

/* What one segment produced. */
struct seg_out {
    struct res_list hits;  /* reported at once */
    struct res_list cands; /* to confirm */
    struct cairn_arena *arena;
    bool done, skipped;
};

struct hunt {
    struct cairn_archive *a;
    const struct cairn_archive_hunt_opts *o;
    struct arch_seg *segs;
    size_t n_segs;
    struct seg_out *outs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;
    uint64_t values, candidates, skipped, segments;
    int err;
};

static int res_push(struct res_list *l, const struct res *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct res *v = cairn_realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return 0;
}

static void out_release(struct seg_out *o)
{
    for (size_t i = 0; i < o->cands.n; i++)
        json_decref(o->cands.v[i].scos);
    cairn_free(o->hits.v);
    cairn_free(o->cands.v);
    cairn_arena_free(o->arena);
    memset(o, 0, sizeof *o);
}

static bool in_range(const struct cairn_archive_hunt_opts *o, bool has_ts,
                     const struct cairn_time *ts)
{
    if (!o->has_since && !o->has_until)
        return true;
    if (!has_ts)
        return false;
    if (o->has_since && cairn_time_cmp(ts, &o->since) < 0)
        return false;
    if (o->has_until && cairn_time_cmp(ts, &o->until) > 0)
        return false;
    return true;
}

/* ---- one segment --------------------------------------------------------- */

struct worker {
    struct hunt *h;
    struct cairn_hunt_matcher *partial, *full;
    /* the values pass */
    uint8_t *marked;
    size_t cap_marked;
    bool any;
    /* the event at hand */
    struct seg_out *out;
    const char *sensor;
    uint64_t event_id;
    size_t n_seen;
    struct {
        size_t indicator;
        const char *value;
        size_t len;
    } seen[MAX_SEEN];
    size_t cand_start; /* first candidate of the event at hand */
    int err;
};

static void on_value_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct worker *w = ud;
    (void)hit;
    w->any = true;
}

static bool seen_before(struct worker *w, const struct cairn_hunt_hit *hit,
                        size_t indicator)
{
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

static char *keep(struct cairn_arena *ar, const char *s, size_t len)
{
    return s == NULL ? NULL : cairn_arena_strndup(ar, s, len);
}

/* A full match of a candidate event: exactly what `cairn hunt` reports. */
static void on_event_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct worker *w = ud;
    struct cairn_hunt_hit_detail d;
    struct seg_out *o = w->out;
    const struct cairn_hunt_event *ev = hit->event;

    if (w->err < 0)
        return;
    cairn_hunt_hit_get_detail(hit, &d);
    if (seen_before(w, hit, d.indicator))
        return;
    struct res r = {
        .indicator = d.indicator,
        .type = hit->type,
        .value = keep(o->arena, hit->value, hit->value_len),
        .value_len = hit->value_len,
        .file = keep(o->arena, ev->file, strlen(ev->file)),
        .field = d.field_name
                     ? keep(o->arena, d.field_name, strlen(d.field_name))
                     : NULL,
        .sensor = keep(o->arena, w->sensor, strlen(w->sensor)),
        .line = ev->line,
        .offset = ev->offset,
        .event_id = w->event_id,
        .has_ts = ev->has_ts,
        .ts = ev->ts,
    };
    if (r.value == NULL || r.file == NULL || r.sensor == NULL ||
        (d.field_name && r.field == NULL)) {
        w->err = CAIRN_ENOMEM;
        return;
    }
    if (!d.needs_confirmation) {
        if (res_push(&o->hits, &r) < 0)
            w->err = CAIRN_ENOMEM;
        return;
    }
    /* An event's observations are kept once per indicator. */
    r.primary = o->cands.n;
    for (size_t i = w->cand_start; i < o->cands.n; i++) {
        if (o->cands.v[i].indicator == d.indicator) {
            r.primary = i;
            break;
        }
    }
    if (r.primary == o->cands.n) {
        r.scos = cairn_hunt_event_scos(ev);
        if (r.scos == NULL) {
            w->err = CAIRN_ENOMEM;
            return;
        }
    }
    if (res_push(&o->cands, &r) < 0) {
        json_decref(r.scos);
        w->err = CAIRN_ENOMEM;
    }
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int hunt_segment(struct worker *w, size_t index)
{
    struct hunt *h = w->h;
    const struct arch_seg *s = &h->segs[index];
    struct seg_out *o = &h->outs[index];
    struct arch_map m = {0};
    struct seg_reader r;
    struct seg_values v;
    struct seg_block_events b = {0};
    struct cairn_hunt_field *fields = NULL;
    uint64_t *ids = NULL, *hitv = NULL;
    size_t n_ids = 0, cap_ids = 0, n_hitv = 0, cap_hitv = 0;
    char why[256] = "", path[PATH_MAX];
    bool opened = false, have_values = false;
    int rc;

    cairn__archive_seg_path(h->a, s->seq, path, sizeof path);
    rc = cairn_arena_new(RESULT_ARENA, &o->arena);
    if (rc < 0)
        return rc;
    if (s->bad) {
        snprintf(why, sizeof why, "missing or damaged");
        rc = CAIRN_EPARSE;
        goto out;
    }
    rc = cairn__archive_map(h->a, s, &m, why, sizeof why);
    if (rc == CAIRN_ENOTFOUND) { /* dropped (keep=) since the snapshot */
        rc = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    rc = cairn__seg_open(m.data, m.len, &r, why, sizeof why);
    if (rc < 0)
        goto out;
    opened = true;
    rc = cairn__seg_values(&r, false, &v, why, sizeof why);
    if (rc < 0)
        goto out;
    have_values = true;

    /* Which distinct values could be hit: each as a one-field event. The
     * postings are decoded only when some value is. */
    for (uint64_t i = 0; i < v.n; i++) {
        struct cairn_hunt_field f = {
            .type = (enum cairn_ioc_type)v.types[i],
            .value = v.text + v.offs[i],
            .len = v.lens[i],
        };
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1,
                                      .file = ""};
        w->any = false;
        if (cairn_hunt_match_event(w->partial, &ev, on_value_hit, w) < 0) {
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        if (!w->any)
            continue;
        if (n_hitv == cap_hitv) {
            size_t cap = cap_hitv ? cap_hitv * 2 : 64;
            uint64_t *nv = cairn_realloc(hitv, cap * sizeof *nv);
            if (nv == NULL) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            hitv = nv;
            cap_hitv = cap;
        }
        hitv[n_hitv++] = i;
    }
    if (n_hitv > 0 &&
        (rc = cairn__seg_values_postings(&r, &v, why, sizeof why)) < 0)
        goto out;
    for (size_t hv = 0; hv < n_hitv; hv++) {
        uint64_t i = hitv[hv];
        struct seg_posting p;
        if (cairn__seg_posting(&v, i, &p) < 0) {
            snprintf(why, sizeof why, "postings of value %llu unreadable",
                     (unsigned long long)i);
            rc = CAIRN_EPARSE;
            goto out;
        }
        if ((h->o->has_since || h->o->has_until) &&
            (!p.has_ts ||
             (h->o->has_since && cairn_time_cmp(&p.last, &h->o->since) < 0) ||
             (h->o->has_until && cairn_time_cmp(&p.first, &h->o->until) > 0)))
            continue;
        uint64_t id = 0;
        for (uint64_t k = 0; k < p.count; k++) {
            if (!cairn__seg_posting_next(&p, &id) || id >= r.foot.events) {
                snprintf(why, sizeof why, "postings of value %llu damaged",
                         (unsigned long long)i);
                rc = CAIRN_EPARSE;
                goto out;
            }
            if (n_ids == cap_ids) {
                size_t cap = cap_ids ? cap_ids * 2 : 256;
                uint64_t *nv = cairn_realloc(ids, cap * sizeof *nv);
                if (nv == NULL) {
                    rc = CAIRN_ENOMEM;
                    goto out;
                }
                ids = nv;
                cap_ids = cap;
            }
            ids[n_ids++] = id;
        }
    }
    pthread_mutex_lock(&h->mu);
    h->values += v.n;
    pthread_mutex_unlock(&h->mu);
    if (n_ids == 0)
        goto out;
    qsort(ids, n_ids, sizeof *ids, cmp_u64);
    fields = cairn_malloc(SEG_MAX_FIELDS * sizeof *fields);
    if (fields == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    uint64_t block = UINT64_MAX, last = UINT64_MAX, n_cand = 0;
    for (size_t k = 0; k < n_ids; k++) {
        uint64_t id = ids[k];
        if (id == last)
            continue;
        last = id;
        if (id / SEG_BLOCK_EVENTS != block) {
            cairn__seg_block_free(&b);
            block = id / SEG_BLOCK_EVENTS;
            rc = cairn__seg_block(&r, block, &v, &b, why, sizeof why);
            if (rc < 0)
                goto out;
        }
        struct cairn_hunt_event ev;
        uint32_t i = (uint32_t)(id - b.first);
        if (i >= b.n) {
            snprintf(why, sizeof why, "event %llu is not in its block",
                     (unsigned long long)id);
            rc = CAIRN_EPARSE;
            goto out;
        }
        w->sensor = cairn__seg_event(&r, &v, &b, i, fields, &ev);
        if (!in_range(h->o, ev.has_ts, &ev.ts))
            continue;
        n_cand++;
        w->out = o;
        w->event_id = (s->seq << 32) | id;
        w->n_seen = 0;
        w->cand_start = o->cands.n;
        if (cairn_hunt_match_event(w->full, &ev, on_event_hit, w) < 0) {
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        if (w->err < 0) {
            rc = w->err;
            w->err = 0;
            goto out;
        }
    }
    pthread_mutex_lock(&h->mu);
    h->candidates += n_cand;
    pthread_mutex_unlock(&h->mu);
out:
    if (rc == CAIRN_EPARSE || rc == CAIRN_EIO) {
        cairn__archive_say(h->a, CAIRN_SEV_WARNING,
                           "%s: %s; segment skipped (see cairn archive check)",
                           path, why);
        /* A damaged segment's hits so far are dropped with it. */
        o->hits.n = 0;
        for (size_t i = 0; i < o->cands.n; i++)
            json_decref(o->cands.v[i].scos);
        o->cands.n = 0;
        o->skipped = true;
        rc = 0;
    }
    cairn__seg_block_free(&b);
    cairn_free(fields);
    cairn_free(ids);
    cairn_free(hitv);
    if (have_values)
        cairn__seg_values_free(&v);
    if (opened)
        cairn__seg_close(&r);
    cairn__archive_unmap(&m);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct hunt *h = w->h;

    for (;;) {
        pthread_mutex_lock(&h->mu);
        size_t i = h->err < 0 ? h->n_segs : h->next;
        if (i < h->n_segs)
            h->next++;
        pthread_mutex_unlock(&h->mu);
        if (i >= h->n_segs)
            break;
        int rc = hunt_segment(w, i);
        pthread_mutex_lock(&h->mu);
        if (rc < 0 && h->err == 0)
            h->err = rc;
        h->outs[i].done = true;
        if (h->outs[i].skipped)
            h->skipped++;
        else
            h->segments++;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

/* ---- reporting ------------------------------------------------------------ */

static int report(struct hunt *h, const struct res *r, cairn_archive_hit_cb cb,
                  void *ud)
{
    struct cairn_hunt_indicator_info info;

    if (cairn_hunt_set_indicator(h->o->set, r->indicator, &info) < 0)
        return CAIRN_EINTERNAL;
    struct cairn_hunt_report rep = {
        .indicator_id = info.id,
        .name = info.name,
        .type = r->type,
        .value = r->value,
        .value_len = r->value_len,
        .file = r->file,
        .line = r->line,
        .offset = r->offset,
        .field = r->field,
        .has_ts = r->has_ts,
        .ts = r->ts,
    };
    struct cairn_hunt_event ev = {
        .file = r->file,
        .line = r->line,
        .offset = r->offset,
        .has_ts = r->has_ts,
        .ts = r->ts,
    };
    struct cairn_hunt_hit hit = {
        .indicator_id = info.id,
        .indicator_name = info.name,
        .type = r->type,
        .value = r->value,
        .value_len = r->value_len,
        .event = &ev,
    };
    struct cairn_archive_hit ah = {
        .report = &rep,
        .hit = &hit,
        .sensor = r->sensor,
        .event_id = r->event_id,
    };
    return cb(&ah, ud);
}

/* A candidate of every segment, for the confirmation. */
struct cref {
    size_t seg, i;
};

static _Thread_local const struct hunt *sort_h;

static struct res *cres(const struct hunt *h, const struct cref *c)
{
    return &h->outs[c->seg].cands.v[c->i];
}

static int cmp_ind(const void *x, const void *y)
{
    const struct res *a = cres(sort_h, x), *b = cres(sort_h, y);
    const struct cref *p = x, *q = y;
    if (a->indicator != b->indicator)
        return a->indicator < b->indicator ? -1 : 1;
    if (p->seg != q->seg)
        return p->seg < q->seg ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

static int cmp_place(const void *x, const void *y)
{
    const struct cref *p = x, *q = y;
    if (p->seg != q->seg)
        return p->seg < q->seg ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* Candidates [from, to) of `refs`, one indicator's, for cairn_hunt_confirm. */
struct group {
    struct hunt *h;
    struct cref *refs;
};

static json_t *group_candidate(size_t k, const struct cairn_time **ts, void *ud)
{
    const struct group *g = ud;
    struct res *c = cres(g->h, &g->refs[k]);

    *ts = c->has_ts ? &c->ts : NULL;
    return c->scos;
}

static void group_confirmed(size_t k, void *ud)
{
    const struct group *g = ud;

    cres(g->h, &g->refs[k])->confirmed = true;
}

static void group_msg(enum cairn_severity sev, const char *text, void *ud)
{
    const struct group *g = ud;

    cairn__archive_say(g->h->a, sev, "%s", text);
}

static const struct cairn_hunt_confirm_ops group_ops = {
    .candidate = group_candidate,
    .confirmed = group_confirmed,
    .on_msg = group_msg,
};

/* Evaluate one indicator's pattern over its candidates [from, to). */
static int confirm_group(struct hunt *h, struct cref *refs, size_t from,
                         size_t to)
{
    struct group g = {h, refs + from};

    return cairn_hunt_confirm(h->o->set, cres(h, &refs[from])->indicator,
                              to - from, &group_ops, &g);
}

static int confirm_all(struct hunt *h, cairn_archive_hit_cb cb, void *ud,
                       uint64_t *hits)
{
    size_t n = 0;
    int rc = 0;

    for (size_t s = 0; s < h->n_segs; s++)
        n += h->outs[s].cands.n;
    if (n == 0)
        return 0;
    struct cref *refs = cairn_malloc(n * sizeof *refs);
    if (refs == NULL)
        return CAIRN_ENOMEM;
    n = 0;
    for (size_t s = 0; s < h->n_segs; s++)
        for (size_t i = 0; i < h->outs[s].cands.n; i++)
            refs[n++] = (struct cref){s, i};
    if (n > MAX_CANDIDATES)
        cairn__archive_say(h->a, CAIRN_SEV_WARNING,
                           "%zu hits await confirmation", n);
    sort_h = h;
    qsort(refs, n, sizeof *refs, cmp_ind);
    for (size_t from = 0; from < n && rc == 0;) {
        size_t to = from + 1;
        while (to < n &&
               cres(h, &refs[to])->indicator == cres(h, &refs[from])->indicator)
            to++;
        rc = confirm_group(h, refs, from, to);
        from = to;
    }
    qsort(refs, n, sizeof *refs, cmp_place);
    for (size_t k = 0; k < n && rc == 0; k++) {
        struct res *c = cres(h, &refs[k]);
        if (c->scos == NULL)
            c->confirmed = h->outs[refs[k].seg].cands.v[c->primary].confirmed;
        if (!c->confirmed)
            continue;
        rc = report(h, c, cb, ud);
        if (rc == 0)
            (*hits)++;
    }
    cairn_free(refs);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cairn_archive_hunt(struct cairn_archive *a,
                       const struct cairn_archive_hunt_opts *opts,
                       cairn_archive_hit_cb cb, void *ud,
                       struct cairn_archive_hunt_stats *stats)
{
    struct hunt h = {.a = a, .o = opts};
    struct worker *ws = NULL;
    pthread_t *tids = NULL;
    unsigned nt = 0, started = 0;
    uint64_t hits = 0;
    double t0 = now_s();
    int rc;

    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if (a == NULL || opts == NULL || opts->set == NULL || cb == NULL)
        return CAIRN_EINVAL;
    rc = cairn__archive_snapshot(a, &h.segs, &h.n_segs);
    if (rc < 0)
        return rc;
    /* Segments wholly outside the time bounds are not opened. */
    size_t kept = 0;
    for (size_t i = 0; i < h.n_segs; i++) {
        const struct seg_footer *f = &h.segs[i].foot;
        bool outside = false;
        if (!h.segs[i].bad && (opts->has_since || opts->has_until)) {
            outside = !f->has_range ||
                      (opts->has_since &&
                       cairn_time_cmp(&f->last, &opts->since) < 0) ||
                      (opts->has_until &&
                       cairn_time_cmp(&f->first, &opts->until) > 0);
        }
        if (!outside)
            h.segs[kept++] = h.segs[i];
    }
    h.n_segs = kept;
    nt = opts->threads ? opts->threads : 1;
    if (nt > h.n_segs)
        nt = h.n_segs ? (unsigned)h.n_segs : 1;
    h.outs = cairn_calloc(h.n_segs + 1, sizeof *h.outs);
    ws = cairn_calloc(nt, sizeof *ws);
    tids = cairn_calloc(nt, sizeof *tids);
    if (h.outs == NULL || ws == NULL || tids == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    for (unsigned i = 0; i < nt; i++) {
        ws[i].h = &h;
        if (cairn_hunt_matcher_new(opts->set, &ws[i].partial) < 0 ||
            cairn_hunt_matcher_new(opts->set, &ws[i].full) < 0) {
            rc = CAIRN_ENOMEM;
            goto join;
        }
        cairn_hunt_matcher_set_partial(ws[i].partial, true);
    }
    if (nt == 1) {
        worker_main(&ws[0]);
    } else {
        for (unsigned i = 0; i < nt; i++) {
            if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0)
                break;
            started++;
        }
        if (started == 0)
            worker_main(&ws[0]);
    }
    /* Hits in the order of the segments, as each is done. */
    for (size_t i = 0; i < h.n_segs; i++) {
        pthread_mutex_lock(&h.mu);
        while (!h.outs[i].done && h.err == 0 && started > 0)
            pthread_cond_wait(&h.cv, &h.mu);
        bool ready = h.outs[i].done;
        pthread_mutex_unlock(&h.mu);
        if (!ready)
            break;
        struct seg_out *o = &h.outs[i];
        for (size_t k = 0; k < o->hits.n && rc == 0; k++) {
            rc = report(&h, &o->hits.v[k], cb, ud);
            if (rc == 0)
                hits++;
        }
        cairn_free(o->hits.v);
        o->hits.v = NULL;
        o->hits.n = 0;
        if (rc < 0) {
            pthread_mutex_lock(&h.mu);
            if (h.err == 0)
                h.err = rc;
            pthread_mutex_unlock(&h.mu);
            break;
        }
    }
join:
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (rc == 0 && h.err < 0)
        rc = h.err;
    if (rc == 0)
        rc = confirm_all(&h, cb, ud, &hits);
    for (unsigned i = 0; i < nt; i++) {
        cairn_hunt_matcher_free(ws[i].partial);
        cairn_hunt_matcher_free(ws[i].full);
    }
    pthread_mutex_destroy(&h.mu);
    pthread_cond_destroy(&h.cv);
out:
    if (stats != NULL) {
        stats->segments = h.segments;
        stats->skipped = h.skipped;
        stats->values = h.values;
        stats->candidates = h.candidates;
        stats->hits = hits;
        stats->seconds = now_s() - t0;
    }
    for (size_t i = 0; h.outs != NULL && i < h.n_segs; i++)
        out_release(&h.outs[i]);
    cairn_free(h.outs);
    cairn_free(h.segs);
    cairn_free(ws);
    cairn_free(tids);
    return rc;
}
