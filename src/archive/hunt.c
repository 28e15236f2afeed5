/* SPDX-License-Identifier: Apache-2.0 */
/* Retro-hunting: the set over each segment's distinct values, then events. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* One look-up of the set's keys in a segment's probe index. */
struct qkey {
    uint8_t kind; /* QK_HASH, QK_V4, QK_V6 */
    uint64_t h;
    uint32_t lo, hi;
    uint8_t lo6[16], hi6[16];
};
enum { QK_HASH, QK_V4, QK_V6 };

struct hunt {
    struct cairn_archive *a;
    const struct cairn_archive_hunt_opts *o;
    struct qkey *q;
    size_t n_q;
    bool scan; /* LIKE/MATCHES, or keys the probe index cannot answer */
    /* LIKE/MATCHES through the catalogue (h->q: the values it hits) */
    bool use_cat;
    uint64_t *covered; /* the segments the catalogue covers */
    size_t n_covered;
    struct seg_range {
        uint64_t lo, hi;
    } *ranges;         /* the segments holding each value hit */
    size_t n_ranges, cap_ranges, cap_q;
    uint8_t *mode;     /* per segment: SEG_PROBE, SEG_SCAN, SEG_SKIP */
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
    /* the indexed pass: hits of the value at hand */
    struct vh *vh;
    size_t n_vh, cap_vh;
    struct cairn_arena *varena;
    /* a probe index being verified, read (see probe_read) */
    uint8_t *pbuf;
    size_t cap_pbuf;
};

/* A hit of one candidate value alone (the indexed pass). */
struct vh {
    size_t indicator;
    enum cairn_ioc_type type;
    const char *value; /* in the worker's varena */
    size_t len;
    bool whole; /* the event must be matched whole (formula, confirmation) */
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

/* ---- the indexed pass (segment format 2) ------------------------------------ */

struct u32list {
    uint32_t *v;
    size_t n, cap;
};

static int u32_add(uint32_t x, void *ud)
{
    struct u32list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        uint32_t *v = cairn_realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return CAIRN_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static void on_value_vh(const struct cairn_hunt_hit *hit, void *ud)
{
    struct worker *w = ud;
    struct cairn_hunt_hit_detail d;
    struct cairn_hunt_indicator_info info;

    if (w->err < 0)
        return;
    cairn_hunt_hit_get_detail(hit, &d);
    bool whole = d.needs_confirmation;
    if (!whole) {
        if (cairn_hunt_set_indicator(w->h->o->set, d.indicator, &info) < 0) {
            w->err = CAIRN_EINTERNAL;
            return;
        }
        whole = info.formula || info.needs_confirmation;
    }
    if (w->n_vh == w->cap_vh) {
        size_t cap = w->cap_vh ? w->cap_vh * 2 : 64;
        struct vh *v = cairn_realloc(w->vh, cap * sizeof *v);
        if (v == NULL) {
            w->err = CAIRN_ENOMEM;
            return;
        }
        w->vh = v;
        w->cap_vh = cap;
    }
    char *copy = cairn_arena_strndup(w->varena, hit->value, hit->value_len);
    if (copy == NULL) {
        w->err = CAIRN_ENOMEM;
        return;
    }
    w->vh[w->n_vh++] = (struct vh){d.indicator, hit->type, copy,
                                   hit->value_len, whole};
}

/* A value hit, and where its hits are in w->vh. */
struct vhit {
    uint32_t vid;
    size_t from, to;
    bool whole;
};

/* An event holding a hit value. */
struct evref {
    uint64_t id;
    size_t vhit;
};

static int cmp_evref(const void *x, const void *y)
{
    const struct evref *a = x, *b = y;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->vhit < b->vhit ? -1 : a->vhit > b->vhit;
}

/* The chunks decoded so far, kept for the segment. */
struct chunks {
    struct seg_chunk *c;
    bool *have;
    uint64_t n;
};

static int chunk_get(const struct seg_reader *r, struct chunks *cs,
                     uint64_t vid, const struct seg_chunk **out, uint32_t *i,
                     char *why, size_t why_len)
{
    uint64_t k = vid / SEG_CHUNK_VALUES;
    if (k >= cs->n) {
        snprintf(why, why_len, "value %llu is not in a chunk",
                 (unsigned long long)vid);
        return CAIRN_EPARSE;
    }
    if (!cs->have[k]) {
        int rc = cairn__seg_chunk(r, k, &cs->c[k], why, why_len);
        if (rc < 0)
            return rc;
        cs->have[k] = true;
    }
    *out = &cs->c[k];
    *i = (uint32_t)(vid - cs->c[k].first);
    return 0;
}

static void chunks_free(struct chunks *cs)
{
    for (uint64_t k = 0; cs->have != NULL && k < cs->n; k++)
        if (cs->have[k])
            cairn__seg_chunk_free(&cs->c[k]);
    cairn_free(cs->c);
    cairn_free(cs->have);
}

static bool seen_value(struct worker *w, size_t indicator, const char *value,
                       size_t len)
{
    struct cairn_hunt_hit hit = {.value = value, .value_len = len};
    return seen_before(w, &hit, indicator);
}

/*
 * The set's keys looked up in the segment's probe index; only the values
 * found are matched (by the matcher, one at a time), and only the events
 * holding a value hit are read. Returns 1 when a key stands for too many
 * values of this segment (then they are all matched instead).
 */
/*
 * The probe index of a segment whose checksums are to be verified, read
 * into the worker's buffer rather than used where the file is mapped: the
 * check reads all of it, and the pages of a mapping cost a fault each
 * (about 1.3 to 2 GB/s on the build VM), where a read into a buffer
 * already faulted in copies about 3.5 GB/s. The mapping is used when the
 * file cannot be read so.
 */
static int probe_read(struct worker *w, const struct arch_seg *s,
                      const struct seg_reader *r, struct seg_probe *p,
                      char *why, size_t why_len)
{
    uint64_t off, len;
    char path[PATH_MAX];
    size_t got = 0;

    if (cairn__seg_probe_span(r, &off, &len) < 0 || len == 0 ||
        len > SIZE_MAX / 2)
        return cairn__seg_probe(r, SEG_VERIFY_ALL, p, why, why_len);
    if (len > w->cap_pbuf) {
        uint8_t *b = cairn__seg_grow(w->pbuf, 0, (size_t)len);
        if (b == NULL)
            return cairn__seg_probe(r, SEG_VERIFY_ALL, p, why, why_len);
        w->pbuf = b;
        w->cap_pbuf = (size_t)len;
    }
    int fd = cairn__archive_seg_path(w->h->a, s->seq, path, sizeof path) < 0
                 ? -1
                 : open(path, O_RDONLY | O_CLOEXEC);
    while (fd >= 0 && got < len) {
        ssize_t n = pread(fd, w->pbuf + got, (size_t)len - got,
                          (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    if (got < len)
        return cairn__seg_probe(r, SEG_VERIFY_ALL, p, why, why_len);
    return cairn__seg_probe_in(r, w->pbuf, off, len, SEG_VERIFY_ALL, p, why,
                               why_len);
}

static int hunt_indexed(struct worker *w, const struct arch_seg *s,
                        struct seg_out *o, struct seg_reader *r, char *why,
                        size_t why_len)
{
    struct hunt *h = w->h;
    struct seg_probe p;
    struct u32list cand = {0};
    struct chunks cs = {0};
    struct vhit *vhits = NULL;
    size_t n_vhits = 0;
    struct evref *evs = NULL;
    size_t n_evs = 0, cap_evs = 0;
    struct seg_block_events b = {0};
    struct cairn_hunt_field *fields = NULL;
    uint64_t n_cand = 0;
    int rc;

    /* Format 4: each page of the probe index is verified as it is first
     * read, so a hunt pays for what it looks at (a domain-only hunt never
     * reads the IPv6 addresses). Before, the whole index, once per open
     * archive: a sealed segment never changes (a later hunt of a server's
     * loop pays only for what it reads). */
    bool verified = r->foot.version < 4 &&
                    cairn__archive_probe_verified(h->a, s->seq);
    if (r->foot.version >= 4)
        rc = cairn__seg_probe(r, SEG_VERIFY_USED, &p, why, why_len);
    else if (verified)
        rc = cairn__seg_probe(r, SEG_VERIFY_NONE, &p, why, why_len);
    else
        rc = probe_read(w, s, r, &p, why, why_len);
    if (rc < 0)
        return rc;
    if (!verified && r->foot.version < 4)
        cairn__archive_probe_mark(h->a, s->seq);
    rc = cairn_arena_new(RESULT_ARENA, &w->varena);
    if (rc < 0) {
        cairn__seg_probe_close(&p);
        return rc;
    }
    for (size_t i = 0; i < h->n_q; i++) {
        const struct qkey *q = &h->q[i];
        if (q->kind == QK_HASH)
            rc = cairn__seg_probe_hash(&p, q->h, u32_add, &cand);
        else if (q->kind == QK_V4)
            rc = cairn__seg_probe_v4(&p, q->lo, q->hi, u32_add, &cand);
        else
            rc = cairn__seg_probe_v6(&p, q->lo6, q->hi6, u32_add, &cand);
        if (rc == SEG_PROBE_MANY)
            goto out;
        if (rc == CAIRN_EPARSE)
            snprintf(why, why_len, "probe index damaged (a page's checksum "
                                   "or its layout)");
        if (rc < 0)
            goto out;
    }
    rc = CAIRN_ENOMEM;
    cs.n = cairn__seg_chunks(r);
    cs.c = cairn_calloc(cs.n + 1, sizeof *cs.c);
    cs.have = cairn_calloc(cs.n + 1, sizeof *cs.have);
    if (cs.c == NULL || cs.have == NULL)
        goto out;
    if (cand.n > 0)
        qsort(cand.v, cand.n, sizeof *cand.v, cmp_u32);
    size_t nc = 0;
    for (size_t i = 0; i < cand.n; i++)
        if (i == 0 || cand.v[i] != cand.v[i - 1])
            cand.v[nc++] = cand.v[i];
    cand.n = nc;
    vhits = cairn_calloc(nc + 1, sizeof *vhits);
    if (vhits == NULL)
        goto out;

    /* each value found, matched alone */
    w->n_vh = 0;
    for (size_t i = 0; i < nc; i++) {
        const struct seg_chunk *c;
        uint32_t k;
        rc = chunk_get(r, &cs, cand.v[i], &c, &k, why, why_len);
        if (rc < 0)
            goto out;
        struct cairn_hunt_field f = {
            .type = (enum cairn_ioc_type)c->types[k],
            .value = (const char *)c->raw + c->offs[k],
            .len = c->lens[k],
        };
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1,
                                      .file = ""};
        size_t from = w->n_vh;
        if (cairn_hunt_match_event(w->partial, &ev, on_value_vh, w) < 0) {
            rc = CAIRN_EINTERNAL;
            goto out;
        }
        if (w->err < 0) {
            rc = w->err;
            w->err = 0;
            goto out;
        }
        if (w->n_vh == from)
            continue;
        struct vhit *vh = &vhits[n_vhits];
        *vh = (struct vhit){cand.v[i], from, w->n_vh, false};
        for (size_t x = from; x < w->n_vh; x++)
            vh->whole |= w->vh[x].whole;
        /* its events */
        struct seg_posting post;
        if (cairn__seg_chunk_posting(c, k, &post) < 0) {
            snprintf(why, why_len, "postings of value %u unreadable",
                     cand.v[i]);
            rc = CAIRN_EPARSE;
            goto out;
        }
        n_vhits++;
        if ((h->o->has_since || h->o->has_until) &&
            (!post.has_ts ||
             (h->o->has_since &&
              cairn_time_cmp(&post.last, &h->o->since) < 0) ||
             (h->o->has_until &&
              cairn_time_cmp(&post.first, &h->o->until) > 0)))
            continue;
        uint64_t id = 0;
        for (uint64_t x = 0; x < post.count; x++) {
            if (!cairn__seg_posting_next(&post, &id) ||
                id >= r->foot.events) {
                snprintf(why, why_len, "postings of value %u damaged",
                         cand.v[i]);
                rc = CAIRN_EPARSE;
                goto out;
            }
            if (n_evs == cap_evs) {
                size_t cap = cap_evs ? cap_evs * 2 : 256;
                struct evref *nv = cairn_realloc(evs, cap * sizeof *nv);
                if (nv == NULL) {
                    rc = CAIRN_ENOMEM;
                    goto out;
                }
                evs = nv;
                cap_evs = cap;
            }
            evs[n_evs++] = (struct evref){id, n_vhits - 1};
        }
    }
    pthread_mutex_lock(&h->mu);
    h->values += nc;
    pthread_mutex_unlock(&h->mu);
    rc = 0;
    if (n_evs == 0)
        goto out;
    qsort(evs, n_evs, sizeof *evs, cmp_evref);
    fields = cairn_malloc(SEG_MAX_FIELDS * sizeof *fields);
    if (fields == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    uint64_t block = UINT64_MAX;
    for (size_t e0 = 0; e0 < n_evs;) {
        uint64_t id = evs[e0].id;
        size_t e1 = e0;
        bool whole = false;
        while (e1 < n_evs && evs[e1].id == id)
            whole |= vhits[evs[e1++].vhit].whole;
        if (id / r->block_events != block) {
            cairn__seg_block_free(&b);
            block = id / r->block_events;
            /* its events up to the last one read back */
            size_t e2 = e1;
            while (e2 < n_evs && evs[e2].id / r->block_events == block)
                e2++;
            uint64_t upto = evs[e2 - 1].id - block * r->block_events;
            rc = cairn__seg_block_upto(r, block, NULL, (uint32_t)upto, &b,
                                       why, why_len);
            if (rc < 0)
                goto out;
        }
        uint32_t i = (uint32_t)(id - b.first);
        if (i >= b.n) {
            snprintf(why, why_len, "event %llu is not in its block",
                     (unsigned long long)id);
            rc = CAIRN_EPARSE;
            goto out;
        }
        const struct seg_event *e = &b.events[i];
        size_t ee = e0;
        e0 = e1;
        if (!in_range(h->o, e->has_ts, &e->ts))
            continue;
        n_cand++;
        w->out = o;
        w->event_id = (s->seq << 32) | id;
        w->n_seen = 0;
        w->cand_start = o->cands.n;
        w->sensor = r->names[e->sensor];
        if (whole) {
            /* the event whole, as `cairn hunt` matches it */
            for (uint32_t k = 0; k < e->n_fields; k++) {
                const struct seg_field *fd = &b.fields[e->field_off + k];
                const struct seg_chunk *c;
                uint32_t ci;
                rc = chunk_get(r, &cs, fd->value, &c, &ci, why, why_len);
                if (rc < 0)
                    goto out;
                fields[k] = (struct cairn_hunt_field){
                    .type = (enum cairn_ioc_type)c->types[ci],
                    .value = (const char *)c->raw + c->offs[ci],
                    .len = c->lens[ci],
                    .name = fd->name ? r->names[fd->name - 1] : NULL,
                };
            }
            struct cairn_hunt_event ev = {
                .fields = fields,
                .n_fields = e->n_fields,
                .file = r->names[e->source],
                .line = e->line,
                .offset = e->offset,
                .has_ts = e->has_ts,
                .ts = e->ts,
            };
            if (cairn_hunt_match_event(w->full, &ev, on_event_hit, w) < 0) {
                rc = CAIRN_EINTERNAL;
                goto out;
            }
            if (w->err < 0) {
                rc = w->err;
                w->err = 0;
                goto out;
            }
            continue;
        }
        /* only values hit alone: their hits, field by field */
        const char *file = keep(o->arena, r->names[e->source],
                                r->name_lens[e->source]);
        const char *sensor = keep(o->arena, r->names[e->sensor],
                                  r->name_lens[e->sensor]);
        if (file == NULL || sensor == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        for (uint32_t k = 0; k < e->n_fields; k++) {
            const struct seg_field *fd = &b.fields[e->field_off + k];
            const struct vhit *vh = NULL;
            for (size_t x = ee; x < e1; x++) {
                if (vhits[evs[x].vhit].vid == fd->value) {
                    vh = &vhits[evs[x].vhit];
                    break;
                }
            }
            if (vh == NULL)
                continue;
            for (size_t x = vh->from; x < vh->to; x++) {
                const struct vh *v = &w->vh[x];
                if (seen_value(w, v->indicator, v->value, v->len))
                    continue;
                const char *name = fd->name ? r->names[fd->name - 1] : NULL;
                struct res res = {
                    .indicator = v->indicator,
                    .type = v->type,
                    .value = keep(o->arena, v->value, v->len),
                    .value_len = v->len,
                    .file = file,
                    .field = name ? keep(o->arena, name,
                                         r->name_lens[fd->name - 1])
                                  : NULL,
                    .sensor = sensor,
                    .line = e->line,
                    .offset = e->offset,
                    .event_id = w->event_id,
                    .has_ts = e->has_ts,
                    .ts = e->ts,
                };
                if (res.value == NULL || (name != NULL && res.field == NULL) ||
                    res_push(&o->hits, &res) < 0) {
                    rc = CAIRN_ENOMEM;
                    goto out;
                }
            }
        }
    }
    rc = 0;
out:
    pthread_mutex_lock(&h->mu);
    h->candidates += n_cand;
    pthread_mutex_unlock(&h->mu);
    cairn__seg_block_free(&b);
    cairn_free(fields);
    cairn_free(evs);
    cairn_free(vhits);
    cairn_free(cand.v);
    chunks_free(&cs);
    cairn__seg_probe_close(&p);
    cairn_arena_free(w->varena);
    w->varena = NULL;
    return rc;
}

static int cmp_qkey(const void *x, const void *y)
{
    const struct qkey *a = x, *b = y;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->kind == QK_HASH)
        return a->h < b->h ? -1 : a->h > b->h;
    if (a->kind == QK_V4) {
        if (a->lo != b->lo)
            return a->lo < b->lo ? -1 : 1;
        return a->hi < b->hi ? -1 : a->hi > b->hi;
    }
    int c = memcmp(a->lo6, b->lo6, 16);
    return c != 0 ? c : memcmp(a->hi6, b->hi6, 16);
}

/* The hash look-ups [0, n) of `q` sorted by hash: four passes of 16 bits
 * (a qsort of 100,000 keys took 4 % of a hunt). */
static int radix_hash(struct qkey *q, size_t n)
{
    struct qkey *tmp = cairn_malloc((n + 1) * sizeof *tmp);
    uint32_t *count = cairn_malloc(65537 * sizeof *count);
    if (tmp == NULL || count == NULL) {
        cairn_free(tmp);
        cairn_free(count);
        return CAIRN_ENOMEM;
    }
    struct qkey *from = q, *to = tmp;
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65537 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[((from[i].h >> shift) & 0xFFFF) + 1]++;
        for (size_t b = 0; b < 65536; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].h >> shift) & 0xFFFF]++] = from[i];
        struct qkey *t = from;
        from = to;
        to = t;
    }
    /* four passes: the sorted keys are back in q */
    cairn_free(tmp);
    cairn_free(count);
    return 0;
}

static int q_sort(struct hunt *h)
{
    if (h->n_q == 0)
        return 0; /* h->q may be NULL: no value hit in the catalogue */
    /* the hash look-ups first, then the addresses (swapped in place) */
    size_t nh = 0, end = h->n_q;
    while (nh < end) {
        if (h->q[nh].kind == QK_HASH) {
            nh++;
        } else {
            struct qkey t = h->q[nh];
            h->q[nh] = h->q[--end];
            h->q[end] = t;
        }
    }
    if (nh > 1 && radix_hash(h->q, nh) < 0)
        return CAIRN_ENOMEM;
    if (h->n_q - nh > 1)
        qsort(h->q + nh, h->n_q - nh, sizeof *h->q, cmp_qkey);
    size_t m = 0;
    for (size_t i = 0; i < h->n_q; i++)
        if (m == 0 || cmp_qkey(&h->q[m - 1], &h->q[i]) != 0)
            h->q[m++] = h->q[i];
    h->n_q = m;
    return 0;
}

/* ---- LIKE and MATCHES through the catalogue -------------------------------- */

enum { SEG_PROBE, SEG_SCAN, SEG_SKIP };

struct cplan {
    struct hunt *h;
    struct seg_keys k;
    bool any, keyless;
};

static void on_cat_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct cplan *p = ud;
    (void)hit;
    p->any = true;
}

/* A catalogue value: matched alone, as a segment's values are; one hit
 * becomes a look-up of the probe index (its most specific key) in the
 * segments that hold it. */
static int cat_value(struct cairn_hunt_matcher *m, enum cairn_ioc_type type,
                     const char *value, size_t len, uint64_t seg_lo,
                     uint64_t seg_hi, void *ud)
{
    struct cplan *p = ud;
    struct hunt *h = p->h;
    struct cairn_hunt_field f = {.type = type, .value = value, .len = len};
    struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1, .file = ""};

    p->any = false;
    if (cairn_hunt_match_event(m, &ev, on_cat_hit, p) < 0)
        return CAIRN_EINTERNAL;
    if (!p->any)
        return 0;
    p->k.n_pairs = p->k.n_v4 = p->k.n_v6 = 0;
    cairn__seg_value_keys(&p->k, type, value, len, 0);
    if (p->k.err < 0)
        return p->k.err;
    if (h->n_q == h->cap_q || h->n_ranges == h->cap_ranges) {
        size_t cap = h->cap_q ? h->cap_q * 2 : 256;
        struct qkey *q = cairn_realloc(h->q, cap * sizeof *q);
        if (q == NULL)
            return CAIRN_ENOMEM;
        h->q = q;
        h->cap_q = cap;
        struct seg_range *r = cairn_realloc(h->ranges, cap * sizeof *r);
        if (r == NULL)
            return CAIRN_ENOMEM;
        h->ranges = r;
        h->cap_ranges = cap;
    }
    struct qkey *q = &h->q[h->n_q];
    memset(q, 0, sizeof *q);
    if (p->k.n_pairs > 0) {
        q->kind = QK_HASH;
        q->h = p->k.pairs[0].h;
    } else if (p->k.n_v4 > 0) {
        q->kind = QK_V4;
        q->lo = q->hi = (uint32_t)(p->k.v4[0] >> 32);
    } else if (p->k.n_v6 > 0) {
        q->kind = QK_V6;
        memcpy(q->lo6, p->k.v6[0].a, 16);
        memcpy(q->hi6, p->k.v6[0].a, 16);
    } else {
        p->keyless = true; /* not in the probe index: scan */
        return 0;
    }
    h->n_q++;
    h->ranges[h->n_ranges++] = (struct seg_range){seg_lo, seg_hi};
    return 0;
}

/* 0 when planned from the catalogue, 1 when the segments are scanned. */
static int plan_catalogue(struct hunt *h)
{
    struct cplan p = {.h = h};
    struct cairn_hunt_matcher *m = NULL;
    uint64_t values = 0;
    int rc;

    if (h->o->no_catalogue)
        return 1;
    if (cairn_hunt_matcher_new(h->o->set, &m) < 0)
        return CAIRN_ENOMEM;
    cairn_hunt_matcher_set_partial(m, true);
    rc = cairn__archive_catalogue_match(h->a, m, h->o, cat_value, &p,
                                        &h->covered, &h->n_covered, &values);
    cairn_hunt_matcher_free(m);
    cairn__seg_keys_release(&p.k);
    if (rc == 0 && p.keyless)
        rc = 1;
    if (rc != 0) {
        h->n_q = 0;
        h->n_ranges = 0;
        return rc;
    }
    h->values += values;
    h->use_cat = true;
    return q_sort(h);
}

static int cmp_range(const void *x, const void *y)
{
    const struct seg_range *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Each segment's way: probed for the catalogue's hits when the catalogue
 * covers it and some hit is in it, skipped when none is, scanned when the
 * catalogue does not cover it. */
static int cat_modes(struct hunt *h)
{
    if (!h->use_cat)
        return 0;
    h->mode = cairn_calloc(h->n_segs + 1, 1);
    if (h->mode == NULL)
        return CAIRN_ENOMEM;
    if (h->n_ranges > 0)
        qsort(h->ranges, h->n_ranges, sizeof *h->ranges, cmp_range);
    /* merged into disjoint ranges */
    size_t m = 0;
    for (size_t i = 0; i < h->n_ranges; i++) {
        if (m > 0 && h->ranges[i].lo <= h->ranges[m - 1].hi) {
            if (h->ranges[i].hi > h->ranges[m - 1].hi)
                h->ranges[m - 1].hi = h->ranges[i].hi;
        } else {
            h->ranges[m++] = h->ranges[i];
        }
    }
    h->n_ranges = m;
    for (size_t i = 0; i < h->n_segs; i++) {
        uint64_t seq = h->segs[i].seq;
        size_t lo = 0, hi = h->n_covered;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (h->covered[mid] < seq)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == h->n_covered || h->covered[lo] != seq) {
            h->mode[i] = SEG_SCAN;
            continue;
        }
        lo = 0;
        hi = h->n_ranges;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (h->ranges[mid].hi < seq)
                lo = mid + 1;
            else
                hi = mid;
        }
        h->mode[i] = lo < h->n_ranges && h->ranges[lo].lo <= seq ? SEG_PROBE
                                                                : SEG_SKIP;
    }
    return 0;
}

/*
 * The set's keys as look-ups of the probe index, sorted so that the
 * index is read in order. A set with LIKE or MATCHES is run over the
 * catalogue's distinct values instead, and the values it hits are looked
 * up; h->scan when that cannot be (every segment's values are matched).
 */
static int plan(struct hunt *h)
{
    const struct cairn_hunt_set *set = h->o->set;
    struct cairn_hunt_set_stats st;
    size_t n = cairn_hunt_set_key_count(set);

    cairn_hunt_set_get_stats(set, &st);
    if (st.regexes > 0) {
        int rc = plan_catalogue(h);
        if (rc <= 0)
            return rc;
        h->scan = true;
        return 0;
    }
    h->q = cairn_calloc(n + 1, sizeof *h->q);
    if (h->q == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct cairn_hunt_key k;
        struct qkey *q = &h->q[h->n_q];
        if (cairn_hunt_set_key(set, i, &k) < 0)
            return CAIRN_EINTERNAL;
        switch (k.type) {
        case CAIRN_IOC_IPV4:
            if (k.len == 5 && k.key[0] < 32) {
                unsigned pl = k.key[0];
                q->kind = QK_V4;
                q->lo = (uint32_t)k.key[1] << 24 | (uint32_t)k.key[2] << 16 |
                        (uint32_t)k.key[3] << 8 | k.key[4];
                q->hi = q->lo | (pl == 0 ? 0xFFFFFFFFu : 0xFFFFFFFFu >> pl);
            } else if (k.len != 5 &&
                       cairn_ipv4_parse((const char *)k.key, k.len, &q->lo)) {
                q->kind = QK_V4;
                q->hi = q->lo;
            } else {
                continue; /* no address: nothing to find */
            }
            break;
        case CAIRN_IOC_IPV6:
            if (k.len != 17 || k.key[0] > 128) {
                h->scan = true;
                return 0;
            }
            q->kind = QK_V6;
            for (unsigned b = 0; b < 16; b++) {
                unsigned keep = k.key[0] >= 8 * (b + 1) ? 8
                                : k.key[0] > 8 * b      ? k.key[0] - 8 * b
                                                        : 0;
                uint8_t mask = (uint8_t)(0xFF00u >> keep);
                q->lo6[b] = k.key[1 + b] & mask;
                q->hi6[b] = (uint8_t)(q->lo6[b] | (uint8_t)~mask);
            }
            break;
        case CAIRN_IOC_DOMAIN:
        case CAIRN_IOC_URL:
        case CAIRN_IOC_EMAIL:
        case CAIRN_IOC_MD5:
        case CAIRN_IOC_SHA1:
        case CAIRN_IOC_SHA256:
        case CAIRN_IOC_SHA512:
        case CAIRN_IOC_FILENAME:
        case CAIRN_IOC_REGKEY:
            q->kind = QK_HASH;
            q->h = cairn__seg_key_hash(k.type, (const char *)k.key, k.len);
            break;
        default:
            h->scan = true; /* a kind of key the index does not hold */
            return 0;
        }
        h->n_q++;
    }
    return q_sort(h);
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
    /* the catalogue says no value hit is in it */
    if (h->mode != NULL && h->mode[index] == SEG_SKIP)
        goto out;
    bool scan = h->scan || (h->mode != NULL && h->mode[index] == SEG_SCAN);
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
    if (r.foot.version >= 2 && !scan) {
        rc = hunt_indexed(w, s, o, &r, why, sizeof why);
        if (rc <= 0)
            goto out;
        /* a key of too many values: all of them are matched */
        o->hits.n = 0;
        for (size_t i = 0; i < o->cands.n; i++)
            json_decref(o->cands.v[i].scos);
        o->cands.n = 0;
        rc = 0;
    }
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
        if (id / r.block_events != block) {
            cairn__seg_block_free(&b);
            block = id / r.block_events;
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
    rc = plan(&h);
    if (rc < 0) {
        cairn_free(h.q);
        cairn_free(h.covered);
        cairn_free(h.ranges);
        cairn_free(h.segs);
        return rc;
    }
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
    rc = cat_modes(&h);
    if (rc < 0)
        goto out;
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
        cairn_free(ws[i].vh);
        cairn_free(ws[i].pbuf);
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
    cairn_free(h.q);
    cairn_free(h.covered);
    cairn_free(h.ranges);
    cairn_free(h.mode);
    cairn_free(ws);
    cairn_free(tids);
    return rc;
}
