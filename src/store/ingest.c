/* SPDX-License-Identifier: Apache-2.0 */
/* The one way into the store: validate, store in batches, count. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cairn/pattern.h"
#include "cairn/values.h"
#include "store/store_int.h"

#define DEFAULT_BATCH 10000

/*
 * What one transaction writes: the valid objects (their ids, versions
 * and text read out of the parsed objects, which the caller frees at
 * once) and, for a status resource, the outcomes of the objects
 * validation refused, recorded in the same round.
 */
struct slot_mark {
    size_t idx; /* in objs */
    char msg[sizeof(((struct cairn_store_result *)0)->message)];
};

struct slot {
    struct cairn_store_batch *objs;
    struct cairn_store_result *fails; /* for the status only */
    size_t n_fails;
    struct slot_mark *marks; /* the hook's marks (its 2), kept once stored */
    size_t n_marks, marks_cap;
    struct cairn_store_mark *mark_rows; /* marks_cap: the write's */
    int rc;                             /* of its commit */
    bool stored;                        /* committed: results to deliver */
};

/*
 * With `background`, the thread that adds fills one slot while the
 * storer commits the other; results and counts are delivered on the
 * adding thread once the storer is idle, so callbacks never run on the
 * storer and the counts need no lock.
 */
struct cairn_ingest {
    struct cairn_store *store;
    struct cairn_ingest_opts o;
    char collection[CAIRN_UUID_STRLEN];
    char status_id[CAIRN_UUID_STRLEN];
    size_t batch;
    struct slot slots[2];
    int filling;
    struct cairn_ingest_counts counts;
    int err; /* sticky: a commit failed */

    bool threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct slot *pending; /* handed to the storer, not yet taken */
    bool storing;
    bool quit;
};

/* ---- one commit ---------------------------------------------------------- */

/*
 * After a write returned `rc`: true, once the pause before the next
 * attempt is over, when the store was busy and `*attempts` (counting this
 * one) is still within `retries`.
 */
static bool busy_again(int rc, unsigned *attempts, unsigned retries)
{
    if (rc != CAIRN_EBUSY || *attempts >= retries)
        return false;
    struct timespec ts = {(time_t)1 << (*attempts)++, 0};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return true;
}

/* Commit one slot: the refused objects' outcomes, then the valid ones. */
static int commit(struct cairn_ingest *in, struct slot *sl)
{
    const char *status = in->status_id[0] ? in->status_id : NULL;
    unsigned tries = 0;
    int rc = 0;

    if (status != NULL && sl->n_fails > 0) {
        do
            rc = cairn_store_status_record(in->store, status, sl->fails,
                                           sl->n_fails);
        while (busy_again(rc, &tries, in->o.busy_retries));
    }
    if (rc == 0 && cairn_store_batch_len(sl->objs) > 0) {
        tries = 0;
        do
            rc = cairn_store_put_batch(in->store, in->collection, sl->objs,
                                       status);
        while (busy_again(rc, &tries, in->o.busy_retries));
    }
    /* The marks of the versions now stored (or there already), beside
     * them, all in one write: the objects' bytes stay as they came. */
    const struct cairn_store_result *res = cairn_store_batch_results(sl->objs);
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < sl->n_marks; i++) {
        const struct cairn_store_result *r = &res[sl->marks[i].idx];
        if (r->outcome != CAIRN_STORE_STORED &&
            r->outcome != CAIRN_STORE_EXISTED)
            continue;
        sl->mark_rows[n++] =
            (struct cairn_store_mark){r->id, r->version, sl->marks[i].msg};
    }
    if (rc == 0 && n > 0) {
        tries = 0;
        do
            rc = cairn_store_mark_put_many(in->store, in->collection,
                                           sl->mark_rows, n);
        while (busy_again(rc, &tries, in->o.busy_retries));
    }
    return rc;
}

static void *storer(void *arg)
{
    struct cairn_ingest *in = arg;

    pthread_mutex_lock(&in->lock);
    for (;;) {
        while (in->pending == NULL && !in->quit)
            pthread_cond_wait(&in->cond, &in->lock);
        if (in->pending == NULL)
            break;
        struct slot *sl = in->pending;
        in->pending = NULL;
        in->storing = true;
        pthread_mutex_unlock(&in->lock);

        int rc = commit(in, sl);

        pthread_mutex_lock(&in->lock);
        sl->rc = rc;
        sl->stored = true;
        in->storing = false;
        pthread_cond_broadcast(&in->cond);
    }
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

/* Count a committed slot's outcomes, hand them out, empty it. */
static int settle(struct cairn_ingest *in, struct slot *sl)
{
    if (sl->stored) {
        sl->stored = false;
        if (sl->rc < 0) {
            if (in->err == 0)
                in->err = sl->rc;
        } else {
            size_t n = cairn_store_batch_len(sl->objs);
            const struct cairn_store_result *res =
                cairn_store_batch_results(sl->objs);
            for (size_t i = 0; i < n; i++) {
                if (res[i].outcome == CAIRN_STORE_STORED)
                    in->counts.stored++;
                else if (res[i].outcome == CAIRN_STORE_EXISTED)
                    in->counts.existed++;
                else
                    in->counts.failed++;
                if (in->o.on_result != NULL)
                    in->o.on_result(&res[i], false, in->o.result_ud);
            }
        }
    }
    sl->n_fails = 0;
    sl->n_marks = 0;
    sl->rc = 0;
    int rc = cairn_store_batch_clear(sl->objs);
    if (rc < 0 && in->err == 0)
        in->err = rc;
    return in->err;
}

/* Wait until the storer is idle, then settle the slot it had. */
static int drain(struct cairn_ingest *in)
{
    if (!in->threaded)
        return in->err;
    pthread_mutex_lock(&in->lock);
    while (in->pending != NULL || in->storing)
        pthread_cond_wait(&in->cond, &in->lock);
    pthread_mutex_unlock(&in->lock);
    return settle(in, &in->slots[in->filling ^ 1]);
}

/* Commit the slot being filled: at once, or by the storer. */
static int submit(struct cairn_ingest *in)
{
    struct slot *sl = &in->slots[in->filling];

    if (cairn_store_batch_len(sl->objs) == 0 && sl->n_fails == 0)
        return in->err;
    if (!in->threaded) {
        if (in->err == 0) {
            sl->rc = commit(in, sl);
            sl->stored = true;
        }
        return settle(in, sl);
    }
    int rc = drain(in);
    if (rc < 0) {
        settle(in, sl);
        return rc;
    }
    pthread_mutex_lock(&in->lock);
    in->pending = sl;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
    in->filling ^= 1;
    return 0;
}

/* ---- the session --------------------------------------------------------- */

int cairn_ingest_new(struct cairn_store *s, const struct cairn_ingest_opts *o,
                     struct cairn_ingest **out)
{
    struct cairn_ingest *in = NULL;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (s == NULL || o == NULL || o->collection == NULL ||
        strlen(o->collection) >= CAIRN_UUID_STRLEN ||
        (o->status_id != NULL && strlen(o->status_id) >= CAIRN_UUID_STRLEN) ||
        o->batch > CAIRN_STORE_BATCH_MAX)
        goto out;
    rc = CAIRN_ENOMEM;
    in = cairn_calloc(1, sizeof *in);
    if (in == NULL)
        goto out;
    in->store = s;
    in->o = *o;
    snprintf(in->collection, sizeof in->collection, "%s", o->collection);
    if (o->status_id != NULL)
        snprintf(in->status_id, sizeof in->status_id, "%s", o->status_id);
    in->o.collection = in->collection;
    in->o.status_id = NULL;
    if (in->o.validate.check_pattern == NULL)
        in->o.validate.check_pattern = cairn_pattern_checker;
    in->batch = o->batch ? o->batch : DEFAULT_BATCH;
    for (int i = 0; i < 2; i++) {
        if (cairn_store_batch_new(in->batch, &in->slots[i].objs) < 0)
            goto out;
        if (in->status_id[0] != '\0') {
            in->slots[i].fails =
                cairn_calloc(in->batch, sizeof *in->slots[i].fails);
            if (in->slots[i].fails == NULL)
                goto out;
        }
        if (!o->background)
            break;
    }
    if (o->background) {
        pthread_mutex_init(&in->lock, NULL);
        pthread_cond_init(&in->cond, NULL);
        if (pthread_create(&in->thread, NULL, storer, in) != 0) {
            pthread_mutex_destroy(&in->lock);
            pthread_cond_destroy(&in->cond);
            goto out;
        }
        in->threaded = true;
    }
    *out = in;
    in = NULL;
    rc = 0;
out:
    cairn_ingest_free(in);
    return rc;
}

void cairn_ingest_free(struct cairn_ingest *in)
{
    if (in == NULL)
        return;
    if (in->threaded) {
        pthread_mutex_lock(&in->lock);
        in->quit = true;
        pthread_cond_broadcast(&in->cond);
        pthread_mutex_unlock(&in->lock);
        pthread_join(in->thread, NULL);
        pthread_mutex_destroy(&in->lock);
        pthread_cond_destroy(&in->cond);
    }
    for (int i = 0; i < 2; i++) {
        cairn_store_batch_free(in->slots[i].objs);
        cairn_free(in->slots[i].fails);
        cairn_free(in->slots[i].marks);
        cairn_free(in->slots[i].mark_rows);
    }
    cairn_free(in);
}

int cairn_ingest_validate(const json_t *obj, const char *path,
                          const struct cairn_validate_opts *o,
                          struct cairn_validate_stats *stats)
{
    struct cairn_validate_opts vo = {0};
    if (o != NULL)
        vo = *o;
    if (vo.check_pattern == NULL)
        vo.check_pattern = cairn_pattern_checker;
    return cairn_stix_validate_object(obj, path, &vo, stats);
}

/* Keeps the first error of an object for its outcome, and passes on. */
struct first_error {
    const struct cairn_validate_opts *user;
    size_t skip; /* length of the object's own path */
    bool have;
    char msg[sizeof(((struct cairn_store_result *)0)->message)];
};

/* Copy "a" or "a: b" into `dst`, cut to fit: messages are bounded. */
static void cut_copy(char *dst, size_t size, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = a; *p != '\0' && n + 1 < size; p++)
        dst[n++] = *p;
    if (b != NULL) {
        for (const char *p = ": "; *p != '\0' && n + 1 < size; p++)
            dst[n++] = *p;
        for (const char *p = b; *p != '\0' && n + 1 < size; p++)
            dst[n++] = *p;
    }
    dst[n] = '\0';
}

static void on_finding(const struct cairn_diag *d, void *ud)
{
    struct first_error *fe = ud;

    if (!fe->have && d->severity == CAIRN_SEV_ERROR) {
        /* The path inside the object: a status names the object already. */
        const char *p = d->path;
        size_t len = strlen(p);
        if (fe->skip > 0 && len >= fe->skip) {
            p += fe->skip;
            if (*p == '.')
                p++;
        }
        fe->have = true;
        cut_copy(fe->msg, sizeof fe->msg, *p != '\0' ? p : d->message,
                 *p != '\0' ? d->message : NULL);
    }
    if (fe->user->cb != NULL)
        fe->user->cb(d, fe->user->ud);
}

/* The outcome of an object validation refused. */
static void refused(struct cairn_store_result *r, const json_t *obj,
                    const char *path, const char *msg)
{
    memset(r, 0, sizeof *r);
    r->outcome = CAIRN_STORE_FAILED;
    const char *id = json_is_object(obj) ? cairn_stix_id(obj) : NULL;
    if (id != NULL && strlen(id) < sizeof r->id)
        snprintf(r->id, sizeof r->id, "%s", id);
    else if (path != NULL && path[0] != '\0')
        snprintf(r->id, sizeof r->id, "%s", path);
    const json_t *v = json_is_object(obj) ? json_object_get(obj, "modified")
                                          : NULL;
    if (!json_is_string(v))
        v = json_is_object(obj) ? json_object_get(obj, "created") : NULL;
    if (json_is_string(v) && json_string_length(v) < sizeof r->version)
        snprintf(r->version, sizeof r->version, "%s", json_string_value(v));
    cut_copy(r->message, sizeof r->message, msg, NULL);
}

/*
 * What no writer stores, whatever the validator says: an object larger
 * than every cairn reader takes (CAIRN_STIX_MAX_OBJECT_LEN, the limit of
 * `cairn pull` and `cairn import`: stored, it would stop every peer's pull
 * of the collection), and a bundle, which is no STIX object: stored, the
 * objects inside it would be served without their own sharing rules. NULL
 * when neither.
 */
static const char *refusal(const json_t *obj, size_t json_len, char *msg,
                           size_t msg_len)
{
    if (json_len > CAIRN_STIX_MAX_OBJECT_LEN) {
        snprintf(msg, msg_len,
                 "the object is %zu bytes, over the limit of %zu MiB that "
                 "every cairn reader takes",
                 json_len, (size_t)CAIRN_STIX_MAX_OBJECT_LEN >> 20);
        return msg;
    }
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type != NULL && strcmp(type, "bundle") == 0)
        return "a bundle is not a STIX object; post its objects";
    return NULL;
}

/* Report, count and (for a status) keep the outcome of a refused object. */
static int refuse(struct cairn_ingest *in, const json_t *obj,
                  const char *path, const char *msg)
{
    struct slot *sl = &in->slots[in->filling];
    struct cairn_store_result r;

    refused(&r, obj, path, msg);
    in->counts.invalid++;
    if (in->o.on_result != NULL)
        in->o.on_result(&r, true, in->o.result_ud);
    if (in->status_id[0] == '\0')
        return 0;
    sl->fails[sl->n_fails++] = r;
    if (sl->n_fails + cairn_store_batch_len(sl->objs) >= in->batch)
        return submit(in);
    return 0;
}

static const struct cairn_warninglists *_Atomic default_lists;

void cairn_ingest_set_default_warninglists(const struct cairn_warninglists *w)
{
    default_lists = w;
}

struct flag_state {
    const struct cairn_warninglists *w;
    const char *list;
    char value[512];
};

static int flag_value(void *ud, int type, const char *s, size_t len)
{
    struct flag_state *f = ud;
    if (type == CAIRN_VALUE_ADDR)
        type = (int)cairn_hunt_detect(s, len, NULL, 0, NULL);
    f->list = cairn_warninglists_match(f->w, type, s, len);
    if (f->list == NULL)
        return 0;
    snprintf(f->value, sizeof f->value, "%.*s", (int)len, s);
    return 1;
}

/* An indicator with a value on a warninglist: counted and reported, and
 * `f` says which, for the store to keep with it (f->list NULL: none). */
static void check_flag(struct cairn_ingest *in, const json_t *obj,
                       struct flag_state *f)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const struct cairn_warninglists *w =
        in->o.warninglists != NULL ? in->o.warninglists : default_lists;
    f->list = NULL;
    if (w == NULL || type == NULL || strcmp(type, "indicator") != 0)
        return;
    f->w = w;
    if (cairn_value_object_values(obj, flag_value, f) != 1 || f->list == NULL) {
        f->list = NULL;
        return;
    }
    in->counts.flagged++;
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (in->o.on_flag != NULL)
        in->o.on_flag(id, f->value, f->list, in->o.result_ud);
    else
        cairn_log(CAIRN_LOG_INFO,
                  "collection %s: %s: %s is on warninglist '%s' (stored, "
                  "flagged)",
                  in->collection, id != NULL ? id : "(no id)", f->value,
                  f->list);
}

int cairn_ingest_add(struct cairn_ingest *in, const json_t *obj,
                     const char *json, size_t json_len, const char *path,
                     unsigned flags)
{
    if (in == NULL)
        return CAIRN_EINVAL;
    if (in->err < 0)
        return in->err;
    in->counts.received++;
    if (path == NULL)
        path = "";
    if (!json_is_object(obj)) {
        const struct cairn_validate_opts *vo = &in->o.validate;
        if (vo->cb != NULL) {
            struct cairn_diag d;
            cairn_diag_clear(&d);
            if (vo->file != NULL)
                snprintf(d.file, sizeof d.file, "%s", vo->file);
            snprintf(d.path, sizeof d.path, "%s", path);
            cairn_diag_set(&d, CAIRN_SEV_ERROR, "object-type",
                           "expected a STIX object, found %s",
                           obj == NULL ? "nothing" : "another JSON value");
            vo->cb(&d, vo->ud);
        }
        return refuse(in, obj, path, "not a JSON object");
    }
    char why[200];
    const char *no = refusal(obj, json ? json_len : 0, why, sizeof why);
    if (no != NULL)
        return refuse(in, obj, path, no);
    if (!(flags & CAIRN_INGEST_VALIDATED)) {
        struct first_error fe = {.user = &in->o.validate,
                                 .skip = strlen(path)};
        struct cairn_validate_opts vo = in->o.validate;
        struct cairn_validate_stats st = {0};
        vo.cb = on_finding;
        vo.ud = &fe;
        int rc = cairn_stix_validate_object(obj, path, &vo, &st);
        if (rc == CAIRN_ENOMEM)
            return rc;
        if (rc < 0 || st.errors > 0)
            return refuse(in, obj, path,
                          fe.have ? fe.msg : "not a valid STIX object");
    }
    json_t *replace = NULL;
    bool mark = false;
    char mark_msg[sizeof(((struct slot_mark *)0)->msg)] = "";
    if (in->o.hook != NULL) {
        char hwhy[sizeof(((struct cairn_store_result *)0)->message)] = "";
        int hrc = in->o.hook(obj, &replace, hwhy, sizeof hwhy, in->o.hook_ud);
        if (hrc < 0) {
            json_decref(replace);
            if (in->err == 0)
                in->err = hrc;
            return hrc;
        }
        if (hrc == 1) {
            json_decref(replace);
            return refuse(in, obj, path, hwhy[0] ? hwhy : "refused");
        }
        mark = hrc == 2;
        if (mark)
            memcpy(mark_msg, hwhy, sizeof mark_msg);
    }
    struct flag_state fl = {0};
    check_flag(in, obj, &fl);
    struct slot *sl = &in->slots[in->filling];
    if (mark && sl->n_marks == sl->marks_cap) {
        size_t cap = sl->marks_cap ? sl->marks_cap * 2 : 16;
        struct slot_mark *m = cairn_realloc(sl->marks, cap * sizeof *m);
        if (m != NULL)
            sl->marks = m;
        struct cairn_store_mark *r =
            m != NULL ? cairn_realloc(sl->mark_rows, cap * sizeof *r) : NULL;
        if (r == NULL) {
            json_decref(replace);
            return CAIRN_ENOMEM;
        }
        sl->mark_rows = r;
        sl->marks_cap = cap;
    }
    int rc = replace != NULL ? cairn_store_batch_add(sl->objs, replace, NULL, 0)
                             : cairn_store_batch_add(sl->objs, obj, json,
                                                     json ? json_len : 0);
    json_decref(replace);
    if (rc == 0 && fl.list != NULL)
        rc = cairn_store_batch_flag(sl->objs, fl.list, fl.value);
    if (rc < 0)
        return rc;
    if (mark) {
        struct slot_mark *m = &sl->marks[sl->n_marks++];
        m->idx = cairn_store_batch_len(sl->objs) - 1;
        memcpy(m->msg, mark_msg, sizeof m->msg);
        m->msg[sizeof m->msg - 1] = '\0';
    }
    if (sl->n_fails + cairn_store_batch_len(sl->objs) >= in->batch)
        return submit(in);
    return 0;
}

int cairn_ingest_flush(struct cairn_ingest *in)
{
    if (in == NULL)
        return CAIRN_EINVAL;
    int rc = submit(in);
    int rc2 = drain(in);
    return rc < 0 ? rc : rc2;
}

void cairn_ingest_counts(const struct cairn_ingest *in,
                         struct cairn_ingest_counts *out)
{
    static const struct cairn_ingest_counts zero = {0};
    *out = in != NULL ? in->counts : zero;
}
