/* SPDX-License-Identifier: Apache-2.0 */
/* The response loop: new indicators retro-hunted, new events live-hunted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cairn/archive.h"
#include "cairn/hunt.h"
#include "cairn/stix.h"
#include "cairn/taxii.h"

/*
 * Two threads. The loop thread polls each hunted collection for versions
 * added after its position (date_added orders a collection's versions,
 * across processes too), so indicators that came by any door are seen:
 * POST, pull, `cairn import`, `cairn feed import`. The new and changed
 * ones are compiled into a set of their own and hunted over the archive;
 * the set of every current indicator is rebuilt and handed to the watch
 * thread, which archives the watched logs and hunts each event as it is
 * committed. Both add to one table of stable sightings (a mutex guards it);
 * the loop thread stores what changed through the ingest path and only
 * then moves the positions on, so a crash replays the hunt, never loses
 * it, and the replay writes nothing that is stored already.
 */

#define POLL_MS_DEF     250
#define REBUILD_SECONDS 60 /* expiries take effect within this */
#define STATE_MAX       (1 << 20)
#define CONFIRM_MAX     4096

struct live_set {
    struct cairn_hunt_set *set;
    unsigned refs; /* guarded by the loop's mutex */
};

struct cairn_loop {
    char *store_url;
    char *data_dir;
    char **colls;
    size_t n_colls;
    char *sightings_coll;
    char *org;
    char *archive_dir;
    char **watch;
    size_t n_watch;
    unsigned poll_ms;
    unsigned threads;
    cairn_loop_stored_cb on_stored;
    void *ud;
    const struct cairn_sign_key *signer; /* [server] sign; borrowed */

    char state_path[PATH_MAX];
    struct cairn_time *pos; /* per collection */
    bool *has_pos;
    /* The sightings collection read up to here (loop thread; at start,
     * before it runs), and the store's lock that makes the nodes sharing
     * a database write sightings one at a time. */
    struct cairn_time sight_pos;
    bool has_sight_pos;
    char sight_lock[CAIRN_UUID_STRLEN + 16];

    struct cairn_archive *archive;
    pthread_t loop_thread, watch_thread;
    bool loop_started, watch_started;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* on the monotonic clock */
    bool stop;         /* guarded by mu */
    bool stop_watch;   /* guarded by mu; set first */
    bool owed;         /* live hits wait to be stored; guarded by mu */
    /* This process stored versions in a hunted collection since the loop
     * thread last read them (cairn_store_listen); guarded by mu. */
    bool added;
    bool listening;
    struct live_set *live;
    atomic_uint_fast64_t live_gen;
    struct cairn_hunt_sightings *sightings; /* guarded by mu */
    char **confirm; /* indicator ids a live candidate asks to confirm */
    size_t n_confirm;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_msg(enum cairn_severity sev, const char *text, void *ud)
{
    (void)ud;
    cairn_log(sev == CAIRN_SEV_ERROR ? CAIRN_LOG_ERROR : CAIRN_LOG_WARN,
              "hunt: %s", text);
}

/* Skipped indicators (revoked, expired, not huntable) are counted only. */
static void on_skip(const struct cairn_hunt_skip *skip, void *ud)
{
    size_t *n = ud;
    (void)skip;
    (*n)++;
}

static void live_release(struct cairn_loop *l, struct live_set *ls)
{
    if (ls == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    bool last = --ls->refs == 0;
    pthread_mutex_unlock(&l->mu);
    if (last) {
        cairn_hunt_set_free(ls->set);
        cairn_free(ls);
    }
}

/*
 * A write in this process (a TAXII POST, a pull from a peer, the console)
 * stored versions: if in a hunted collection, the loop thread reads them
 * now rather than at its next poll. Called with the store's listener lock
 * held; takes only the loop's mutex.
 */
static void on_added(const char *collection, size_t n, void *ud)
{
    struct cairn_loop *l = ud;

    (void)n;
    for (size_t i = 0; i < l->n_colls; i++) {
        if (strcmp(l->colls[i], collection) == 0) {
            pthread_mutex_lock(&l->mu);
            l->added = true;
            pthread_cond_broadcast(&l->cv);
            pthread_mutex_unlock(&l->mu);
            return;
        }
    }
}

/* ---- positions, kept in DATA/loop/state.json ----------------------------- */

static int state_load(struct cairn_loop *l)
{
    json_error_t err;
    json_t *root = json_load_file(l->state_path, JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        if (access(l->state_path, F_OK) != 0 && errno == ENOENT)
            return 0; /* the first start: everything is new */
        cairn_log(CAIRN_LOG_ERROR,
                  "hunt: %s: %s; every indicator will be hunted again",
                  l->state_path, err.text);
        return 0;
    }
    json_t *pos = json_object_get(root, "positions");
    for (size_t i = 0; i < l->n_colls; i++) {
        const char *v = json_string_value(json_object_get(pos, l->colls[i]));
        if (v != NULL &&
            cairn_time_parse(v, strlen(v), false, &l->pos[i]) == 0)
            l->has_pos[i] = true;
    }
    json_decref(root);
    return 0;
}

/* Write the positions whole (a new file renamed over the old one). */
static int state_save(struct cairn_loop *l)
{
    char tmp[PATH_MAX + 8];
    char buf[40];
    json_t *root = json_object(), *pos = json_object();
    int rc = CAIRN_ENOMEM;
    int fd = -1;
    char *text = NULL;

    if (root == NULL || pos == NULL ||
        json_object_set_new(root, "version", json_integer(1)) != 0 ||
        json_object_set(root, "positions", pos) != 0)
        goto out;
    for (size_t i = 0; i < l->n_colls; i++) {
        if (!l->has_pos[i])
            continue;
        if (cairn_time_format(&l->pos[i], 6, buf, sizeof buf) < 0 ||
            json_object_set_new(pos, l->colls[i], json_string(buf)) != 0)
            goto out;
    }
    text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        goto out;
    snprintf(tmp, sizeof tmp, "%s.tmp", l->state_path);
    rc = CAIRN_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, l->state_path) != 0)
        goto out;
    rc = 0;
out:
    if (rc == CAIRN_EIO)
        cairn_log(CAIRN_LOG_ERROR, "hunt: cannot write %s: %s", l->state_path,
                  strerror(errno));
    if (fd >= 0)
        close(fd);
    if (text != NULL) {
        json_malloc_t m;
        json_free_t fr;
        json_get_alloc_funcs(&m, &fr);
        fr(text);
    }
    json_decref(pos);
    json_decref(root);
    return rc;
}

/* ---- sightings --------------------------------------------------------- */

static void on_refused(const struct cairn_store_result *r, bool invalid,
                       void *ud)
{
    (void)invalid;
    (void)ud;
    if (r->outcome == CAIRN_STORE_FAILED)
        cairn_log(CAIRN_LOG_ERROR, "hunt: sighting %s refused: %s", r->id,
                  r->message);
}

/*
 * Take up the sightings stored since the last call: at start, those of
 * earlier runs; later, those another node sharing the database stored
 * (same organisation, same ids), so that this node's next version widens
 * theirs, keeps their `created`, and is not written when it adds nothing.
 */
static int sightings_resume(struct cairn_loop *l, struct cairn_store *s)
{
    static const char *const types[] = {"sighting", "identity"};
    int rc;

    if (l->sightings_coll == NULL)
        return 0;
    for (;;) {
        struct cairn_store_page *page = NULL;
        struct cairn_store_query q = {
            .collection = l->sightings_coll,
            .added_after = l->has_sight_pos ? &l->sight_pos : NULL,
            .types = types,
            .n_types = 2,
            .versions = CAIRN_STORE_VERSION_ALL,
            .limit = CAIRN_STORE_LIMIT_MAX,
            .with_json = true,
        };
        rc = cairn_store_query(s, &q, &page);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < page->n; i++) {
            json_t *obj = NULL;
            l->sight_pos = page->rows[i].date_added;
            l->has_sight_pos = true;
            if (cairn_json_parse(page->rows[i].json, page->rows[i].json_len,
                                 &obj, NULL) < 0)
                continue;
            pthread_mutex_lock(&l->mu);
            rc = cairn_hunt_sightings_resume(l->sightings, obj);
            pthread_mutex_unlock(&l->mu);
            json_decref(obj);
            if (rc < 0)
                break;
            rc = 0;
        }
        bool more = page->more && page->n > 0;
        cairn_store_page_free(page);
        if (rc < 0 || !more)
            return rc;
    }
}

/*
 * Store the versions owed; returns how many were stored, or an error.
 * Nodes sharing a database write one at a time (the store's named lock),
 * each after taking up what the others stored: one sighting per indicator
 * and organisation, whichever node saw it, and no version that adds
 * nothing. While another node writes, CAIRN_EBUSY: the hits stay owed.
 */
static int sightings_store(struct cairn_loop *l, struct cairn_store *s)
{
    json_t *bundle = NULL;
    struct cairn_ingest_counts c = {0};
    bool locked = false;
    int rc = 0;

    pthread_mutex_lock(&l->mu);
    bool owed = cairn_hunt_sightings_owed(l->sightings);
    if (!owed)
        l->owed = false;
    pthread_mutex_unlock(&l->mu);
    if (!owed)
        return 0; /* most polls: no query at all */
    if (l->sightings_coll != NULL) {
        bool got = false;
        rc = cairn_store_lock_try(s, l->sight_lock, &got);
        if (rc == 0 && !got)
            return CAIRN_EBUSY; /* another node is writing: next poll */
        if (rc < 0 && rc != CAIRN_EUNSUPPORTED)
            return rc;
        locked = rc == 0;
        rc = sightings_resume(l, s);
        if (rc < 0)
            goto out;
    }
    pthread_mutex_lock(&l->mu);
    l->owed = false;
    rc = cairn_hunt_sightings_changed(l->sightings, &bundle);
    pthread_mutex_unlock(&l->mu);
    if (rc < 0 || bundle == NULL)
        goto out;
    if (l->sightings_coll == NULL) {
        json_decref(bundle);
        return 0;
    }
    /* What this node creates is signed before it is stored. */
    struct cairn_sign_gate gate = {.signer = l->signer};
    struct cairn_ingest_opts io = {
        .collection = l->sightings_coll,
        .busy_retries = 3,
        .on_result = on_refused,
        .hook = l->signer != NULL ? cairn_sign_gate_hook : NULL,
        .hook_ud = &gate,
    };
    rc = cairn_hunt_sightings_store(s, &io, bundle, &c);
    if (rc < 0) {
        cairn_log(CAIRN_LOG_ERROR,
                  "hunt: cannot store the sightings in %s: %s; trying again",
                  l->sightings_coll, cairn_strerror(rc));
        pthread_mutex_lock(&l->mu);
        cairn_hunt_sightings_unwritten(l->sightings, bundle);
        l->owed = true;
        pthread_mutex_unlock(&l->mu);
    } else {
        cairn_log(CAIRN_LOG_INFO, "hunt: %zu new version%s of sightings stored in %s",
                  c.stored, c.stored == 1 ? "" : "s", l->sightings_coll);
        rc = (int)(c.stored > INT_MAX ? INT_MAX : c.stored);
    }
    json_decref(bundle);
out:
    if (locked)
        (void)cairn_store_lock_release(s, l->sight_lock);
    return rc;
}

/* ---- hunting the archive ----------------------------------------------- */

struct retro {
    struct cairn_hunt_sightings *found;
    char last_id[CAIRN_HUNT_ID_MAX];
    uint64_t last_event;
    uint64_t hits;
    int rc;
};

static int on_retro_hit(const struct cairn_archive_hit *hit, void *ud)
{
    struct retro *r = ud;
    const char *id = hit->hit->indicator_id;

    /* One event counts once for an indicator, whatever values matched. */
    if (hit->event_id == r->last_event && strcmp(id, r->last_id) == 0)
        return 0;
    r->last_event = hit->event_id;
    snprintf(r->last_id, sizeof r->last_id, "%s", id);
    r->hits++;
    return cairn_hunt_sightings_add(r->found, hit->hit);
}

/*
 * Hunt the archive with `set` and widen the node's sightings by what it
 * finds: a hunt of the whole history gives each indicator's count, so a
 * hunt run again (after a crash) adds nothing.
 */
static int retro_hunt(struct cairn_loop *l, const struct cairn_hunt_set *set,
                      size_t n_new)
{
    struct retro r = {.last_event = UINT64_MAX};
    struct cairn_archive_hunt_stats st = {0};
    struct cairn_hunt_set_stats ss;
    int64_t t0 = mono_ms();

    cairn_hunt_set_get_stats(set, &ss);
    if (ss.indicators == 0)
        return 0;
    int rc = cairn_hunt_sightings_new(l->org, NULL, &r.found);
    if (rc < 0)
        return rc;
    cairn_log(CAIRN_LOG_INFO, "hunt: retro-hunting %zu indicators",
              ss.indicators);
    struct cairn_archive_hunt_opts ho = {.set = set, .threads = l->threads};
    rc = cairn_archive_hunt(l->archive, &ho, on_retro_hit, &r, &st);
    if (rc < 0) {
        cairn_log(CAIRN_LOG_ERROR, "hunt: retro-hunt over %s: %s",
                  l->archive_dir, cairn_strerror(rc));
    } else {
        pthread_mutex_lock(&l->mu);
        rc = cairn_hunt_sightings_merge(l->sightings, r.found);
        pthread_mutex_unlock(&l->mu);
        cairn_log(CAIRN_LOG_INFO,
                  "hunt: retro-hunted %zu indicators (of %zu new or changed) "
                  "over the archive: %llu hits, %zu indicators sighted, %lld "
                  "ms",
                  ss.indicators, n_new, (unsigned long long)r.hits,
                  cairn_hunt_sightings_count(r.found),
                  (long long)(mono_ms() - t0));
    }
    cairn_hunt_sightings_free(r.found);
    return rc;
}

/* The set of every current indicator, for the watch thread; `say` logs
 * its size. */
static int live_rebuild(struct cairn_loop *l, struct cairn_store *s, bool say)
{
    struct cairn_hunt_builder *b = NULL;
    struct live_set *ls = NULL;
    size_t skipped = 0;
    struct cairn_hunt_builder_opts bo = {.skip_cb = on_skip, .ud = &skipped};

    int rc = cairn_hunt_builder_new(&bo, &b);
    for (size_t i = 0; rc == 0 && i < l->n_colls; i++)
        rc = cairn_hunt_builder_add_collection(b, s, l->colls[i], on_msg,
                                               NULL);
    if (rc == 0 && (ls = cairn_calloc(1, sizeof *ls)) == NULL)
        rc = CAIRN_ENOMEM;
    if (rc == 0)
        rc = cairn_hunt_builder_build(b, &ls->set);
    cairn_hunt_builder_free(b);
    if (rc < 0) {
        cairn_free(ls);
        return rc;
    }
    ls->refs = 1;
    if (say && l->n_watch > 0) {
        struct cairn_hunt_set_stats ss;
        cairn_hunt_set_get_stats(ls->set, &ss);
        cairn_log(CAIRN_LOG_INFO,
                  "hunt: live-hunting %zu indicators (%zu revoked, expired "
                  "or not huntable left out)",
                  ss.indicators, skipped);
    }
    pthread_mutex_lock(&l->mu);
    struct live_set *old = l->live;
    l->live = ls;
    pthread_mutex_unlock(&l->mu);
    atomic_fetch_add(&l->live_gen, 1);
    live_release(l, old);
    return 0;
}

/* ---- new and changed indicators ------------------------------------------ */

/* Later versions of an id replace earlier ones in `latest`. */
static int keep_latest(json_t *latest, json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *m = json_string_value(json_object_get(obj, "modified"));
    json_t *prev = id != NULL ? json_object_get(latest, id) : NULL;
    struct cairn_time a, b;

    if (id == NULL)
        return 0;
    if (prev != NULL) {
        const char *pm = json_string_value(json_object_get(prev, "modified"));
        if (pm != NULL && m != NULL &&
            cairn_time_parse(pm, strlen(pm), false, &a) == 0 &&
            cairn_time_parse(m, strlen(m), false, &b) == 0 &&
            cairn_time_cmp(&b, &a) < 0)
            return 0;
    }
    return json_object_set(latest, id, obj) == 0 ? 0 : CAIRN_ENOMEM;
}

/*
 * The indicator versions added to the hunted collections after their
 * positions, the latest per id into `latest`; `next` gets the positions
 * they reach. Returns the number of versions read, or an error.
 */
static int poll_new(struct cairn_loop *l, struct cairn_store *s, json_t *latest,
                    struct cairn_time *next, bool *has_next)
{
    static const char *const types[] = {"indicator"};
    size_t seen = 0;

    for (size_t i = 0; i < l->n_colls; i++) {
        char cursor[CAIRN_STORE_CURSOR_LEN] = "";
        next[i] = l->pos[i];
        has_next[i] = l->has_pos[i];
        for (;;) {
            struct cairn_store_page *page = NULL;
            /* Every version, and no type filter on the position: a page
             * of other types still moves it on. */
            struct cairn_store_query q = {
                .collection = l->colls[i],
                .added_after = l->has_pos[i] ? &l->pos[i] : NULL,
                .versions = CAIRN_STORE_VERSION_ALL,
                .limit = CAIRN_STORE_LIMIT_MAX,
                .next = cursor[0] ? cursor : NULL,
                .with_json = true,
            };
            int rc = cairn_store_query(s, &q, &page);
            if (rc < 0) {
                cairn_log(CAIRN_LOG_ERROR, "hunt: collection %s: %s",
                          l->colls[i],
                          rc == CAIRN_ENOTFOUND ? "no such collection"
                                                : cairn_strerror(rc));
                return rc;
            }
            for (size_t k = 0; k < page->n; k++) {
                const struct cairn_store_row *row = &page->rows[k];
                json_t *obj = NULL;
                if (row->type == NULL || strcmp(row->type, types[0]) != 0 ||
                    cairn_json_parse(row->json, row->json_len, &obj, NULL) < 0)
                    continue;
                rc = keep_latest(latest, obj);
                json_decref(obj);
                if (rc < 0) {
                    cairn_store_page_free(page);
                    return rc;
                }
                seen++;
            }
            if (page->n > 0) {
                next[i] = page->added_last;
                has_next[i] = true;
            }
            bool more = page->more;
            snprintf(cursor, sizeof cursor, "%s", page->next);
            cairn_store_page_free(page);
            if (!more)
                break;
        }
    }
    return seen > INT_MAX ? INT_MAX : (int)seen;
}

/* A set of `objs` (an object of indicators by id). */
static int build_set(json_t *objs, struct cairn_hunt_set **out)
{
    struct cairn_hunt_builder *b = NULL;
    size_t skipped = 0;
    struct cairn_hunt_builder_opts bo = {.skip_cb = on_skip, .ud = &skipped};
    const char *key;
    json_t *obj;

    *out = NULL;
    int rc = cairn_hunt_builder_new(&bo, &b);
    json_object_foreach(objs, key, obj)
    {
        if (rc < 0)
            break;
        rc = cairn_hunt_builder_add_indicator(b, obj, NULL);
        if (rc > 0)
            rc = 0;
    }
    if (rc == 0)
        rc = cairn_hunt_builder_build(b, out);
    cairn_hunt_builder_free(b);
    return rc;
}

/* The latest versions of the indicators live candidates named. */
static int take_confirm(struct cairn_loop *l, struct cairn_store *s,
                        json_t *latest)
{
    static const char *const types[] = {"indicator"};
    char **ids;
    size_t n;

    pthread_mutex_lock(&l->mu);
    ids = l->confirm;
    n = l->n_confirm;
    l->confirm = NULL;
    l->n_confirm = 0;
    pthread_mutex_unlock(&l->mu);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        for (size_t c = 0; rc == 0 && c < l->n_colls; c++) {
            struct cairn_store_page *page = NULL;
            const char *const one[] = {ids[i]};
            struct cairn_store_query q = {
                .collection = l->colls[c],
                .ids = one,
                .n_ids = 1,
                .types = types,
                .n_types = 1,
                .limit = 1,
                .with_json = true,
            };
            if (cairn_store_query(s, &q, &page) < 0)
                continue;
            json_t *obj = NULL;
            if (page->n > 0 &&
                cairn_json_parse(page->rows[0].json, page->rows[0].json_len,
                                 &obj, NULL) == 0)
                rc = keep_latest(latest, obj);
            json_decref(obj);
            cairn_store_page_free(page);
        }
    }
    for (size_t i = 0; i < n; i++)
        cairn_free(ids[i]);
    cairn_free(ids);
    return rc;
}

static void *loop_main(void *arg)
{
    struct cairn_loop *l = arg;
    struct cairn_store *s = NULL;
    struct cairn_time *next = cairn_calloc(l->n_colls, sizeof *next);
    bool *has_next = cairn_calloc(l->n_colls, sizeof *has_next);
    int64_t rebuilt = mono_ms(); /* cairn_loop_start built the first set */
    bool failed_before = false;

    int rc = cairn_store_open(l->store_url, NULL, &s);
    if (rc < 0 || next == NULL || has_next == NULL) {
        cairn_log(CAIRN_LOG_ERROR, "hunt: the loop cannot start: %s",
                  cairn_strerror(rc < 0 ? rc : CAIRN_ENOMEM));
        goto out;
    }
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        /* What is written from now on wakes the wait below. */
        l->added = false;
        pthread_mutex_unlock(&l->mu);
        json_t *latest = json_object();
        int stored = 0;
        int n_new = latest != NULL ? poll_new(l, s, latest, next, has_next)
                                   : CAIRN_ENOMEM;
        if (n_new >= 0) {
            int64_t now = mono_ms();
            /* Only the watch thread hunts with it. */
            if (l->n_watch > 0 &&
                (n_new > 0 || now - rebuilt >= REBUILD_SECONDS * 1000)) {
                /* Live hunting takes up new, revoked and expired ones. */
                rc = live_rebuild(l, s, n_new > 0);
                if (rc < 0)
                    cairn_log(CAIRN_LOG_ERROR,
                              "hunt: building the set of every indicator: "
                              "%s",
                              cairn_strerror(rc));
                else
                    rebuilt = now;
            }
            size_t n_latest = json_object_size(latest);
            rc = take_confirm(l, s, latest);
            struct cairn_hunt_set *set = NULL;
            if (rc == 0 && json_object_size(latest) > 0) {
                rc = build_set(latest, &set);
                if (rc == 0)
                    rc = retro_hunt(l, set, n_latest);
                else
                    cairn_log(CAIRN_LOG_ERROR,
                              "hunt: building the set of new indicators: %s",
                              cairn_strerror(rc));
            }
            cairn_hunt_set_free(set);
            stored = sightings_store(l, s);
            /* Only what was hunted and stored moves the positions on. */
            if (rc == 0 && stored >= 0 && n_new > 0) {
                memcpy(l->pos, next, l->n_colls * sizeof *next);
                memcpy(l->has_pos, has_next, l->n_colls * sizeof *has_next);
                (void)state_save(l);
            } else if (n_new > 0) {
                /* Tried again from the same positions. */
                if (!failed_before)
                    cairn_log(CAIRN_LOG_WARN,
                              "hunt: the new indicators will be hunted "
                              "again");
                failed_before = true;
            }
            if (rc == 0 && stored >= 0)
                failed_before = false;
        }
        json_decref(latest);
        if (stored > 0 && l->on_stored != NULL)
            l->on_stored((size_t)stored, l->ud);
        int64_t due = mono_ms() + l->poll_ms;
        pthread_mutex_lock(&l->mu);
        while (!l->stop && !l->owed && !l->added && l->n_confirm == 0 &&
               mono_ms() < due) {
            struct timespec ts = {.tv_sec = (time_t)(due / 1000),
                                  .tv_nsec = (long)(due % 1000) * 1000000};
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        }
    }
    pthread_mutex_unlock(&l->mu);
    /* Live hits of the last moments are not lost. */
    (void)sightings_store(l, s);
out:
    cairn_free(next);
    cairn_free(has_next);
    cairn_store_close(s);
    return NULL;
}

/* ---- the watch thread: archive and hunt each new event ------------------ */

struct watcher {
    struct cairn_loop *l;
    struct live_set *ls;
    struct cairn_hunt_matcher *m;
    uint64_t gen;
    /* Indicators already counted for the event being hunted. */
    const char *ids[64];
    size_t n_ids;
    bool stored_any;
};

static void ask_confirm(struct cairn_loop *l, const char *id)
{
    for (size_t i = 0; i < l->n_confirm; i++)
        if (strcmp(l->confirm[i], id) == 0)
            return;
    if (l->n_confirm >= CONFIRM_MAX)
        return;
    char **c = cairn_realloc(l->confirm, (l->n_confirm + 1) * sizeof *c);
    if (c == NULL)
        return;
    l->confirm = c;
    if ((c[l->n_confirm] = cairn_strdup(id)) != NULL)
        l->n_confirm++;
}

static void on_live_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct watcher *w = ud;
    struct cairn_loop *l = w->l;
    struct cairn_hunt_hit_detail d;

    for (size_t i = 0; i < w->n_ids; i++)
        if (strcmp(w->ids[i], hit->indicator_id) == 0)
            return;
    if (w->n_ids < sizeof w->ids / sizeof w->ids[0])
        w->ids[w->n_ids++] = hit->indicator_id;
    cairn_hunt_hit_get_detail(hit, &d);
    pthread_mutex_lock(&l->mu);
    if (d.needs_confirmation) {
        /* Only the evaluator over the archived events can tell; the
         * archive's hunt does that for this one indicator. */
        ask_confirm(l, hit->indicator_id);
    } else if (cairn_hunt_sightings_add(l->sightings, hit) == 0) {
        l->owed = true;
    }
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int on_event(const struct cairn_hunt_event *ev, const char *sensor,
                    uint64_t event_id, void *ud)
{
    struct watcher *w = ud;
    struct cairn_loop *l = w->l;

    (void)sensor;
    (void)event_id;
    uint64_t gen = atomic_load(&l->live_gen);
    if (gen != w->gen || w->ls == NULL) {
        pthread_mutex_lock(&l->mu);
        struct live_set *ls = l->live;
        if (ls != NULL)
            ls->refs++;
        pthread_mutex_unlock(&l->mu);
        cairn_hunt_matcher_free(w->m);
        w->m = NULL;
        live_release(l, w->ls);
        w->ls = ls;
        w->gen = gen;
        if (ls != NULL && cairn_hunt_matcher_new(ls->set, &w->m) < 0)
            return CAIRN_ENOMEM;
    }
    if (w->m == NULL)
        return 0; /* no indicator yet */
    w->n_ids = 0;
    int rc = cairn_hunt_match_event(w->m, ev, on_live_hit, w);
    return rc < 0 ? rc : 0;
}

static void *watch_main(void *arg)
{
    struct cairn_loop *l = arg;
    struct watcher w = {.l = l};
    struct cairn_archive_follow **f = cairn_calloc(l->n_watch, sizeof *f);
    int *last_rc = cairn_calloc(l->n_watch, sizeof *last_rc);
    struct cairn_archive_add_opts ao = {.on_event = on_event, .ud = &w};

    if (f == NULL || last_rc == NULL) {
        cairn_log(CAIRN_LOG_ERROR, "archive: out of memory; no watching");
        goto out;
    }
    for (size_t i = 0; i < l->n_watch; i++) {
        int rc = cairn_archive_follow_new(l->archive, l->watch[i], &ao, &f[i]);
        if (rc < 0)
            cairn_log(CAIRN_LOG_ERROR, "archive: cannot watch %s: %s",
                      l->watch[i], cairn_strerror(rc));
    }
    pthread_mutex_lock(&l->mu);
    while (!l->stop_watch) {
        pthread_mutex_unlock(&l->mu);
        for (size_t i = 0; i < l->n_watch; i++) {
            struct cairn_archive_add_stats st = {0};
            struct cairn_diag diag;
            if (f[i] == NULL)
                continue;
            cairn_diag_clear(&diag);
            int rc = cairn_archive_follow_poll(f[i], &st, &diag);
            /* A lasting problem is said once, not every poll. */
            if (rc < 0 && rc != last_rc[i])
                cairn_log(CAIRN_LOG_ERROR, "archive: %s: %s", l->watch[i],
                          diag.message[0] ? diag.message
                                          : cairn_strerror(rc));
            last_rc[i] = rc;
        }
        int64_t due = mono_ms() + l->poll_ms;
        pthread_mutex_lock(&l->mu);
        while (!l->stop_watch && mono_ms() < due) {
            struct timespec ts = {.tv_sec = (time_t)(due / 1000),
                                  .tv_nsec = (long)(due % 1000) * 1000000};
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        }
    }
    pthread_mutex_unlock(&l->mu);
out:
    for (size_t i = 0; f != NULL && i < l->n_watch; i++)
        cairn_archive_follow_free(f[i]);
    cairn_free(f);
    cairn_free(last_rc);
    cairn_hunt_matcher_free(w.m);
    live_release(l, w.ls);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

static int copy_list(const char *const *from, size_t n, char ***out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    char **l = cairn_calloc(n, sizeof *l);
    if (l == NULL)
        return CAIRN_ENOMEM;
    *out = l;
    for (size_t i = 0; i < n; i++)
        if ((l[i] = cairn_strdup(from[i])) == NULL)
            return CAIRN_ENOMEM;
    return 0;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; l != NULL && i < n; i++)
        cairn_free(l[i]);
    cairn_free(l);
}

static void loop_free(struct cairn_loop *l)
{
    cairn_archive_free(l->archive);
    if (l->live != NULL) {
        cairn_hunt_set_free(l->live->set);
        cairn_free(l->live);
    }
    cairn_hunt_sightings_free(l->sightings);
    free_list(l->confirm, l->n_confirm);
    free_list(l->colls, l->n_colls);
    free_list(l->watch, l->n_watch);
    cairn_free(l->pos);
    cairn_free(l->has_pos);
    cairn_free(l->store_url);
    cairn_free(l->data_dir);
    cairn_free(l->org);
    cairn_free(l->archive_dir);
    cairn_free(l->sightings_coll);
    cairn_free(l);
}

/* Check the collections, take up the stored sightings, build the set. */
static int prepare(struct cairn_loop *l, struct cairn_diag *diag)
{
    struct cairn_store *s = NULL;
    int rc = cairn_store_open(l->store_url, NULL, &s);

    if (rc < 0) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "opening %s: %s",
                       l->store_url, cairn_strerror(rc));
        return rc;
    }
    for (size_t i = 0; rc == 0 && i <= l->n_colls; i++) {
        const char *id = i < l->n_colls ? l->colls[i] : l->sightings_coll;
        struct cairn_store_collection *col = NULL;
        if (id == NULL)
            continue;
        rc = cairn_store_collection_get(s, NULL, id, &col);
        cairn_store_collection_free(col);
        if (rc < 0)
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                           "[hunt] %s: %s: %s",
                           i < l->n_colls ? "indicators" : "sightings", id,
                           rc == CAIRN_ENOTFOUND
                               ? "no such collection ('cairn collection "
                                 "list' shows them)"
                               : cairn_strerror(rc));
    }
    if (rc == 0 && (rc = sightings_resume(l, s)) < 0)
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                       "reading the sightings of %s: %s", l->sightings_coll,
                       cairn_strerror(rc));
    /* Before the watcher starts, so that no event goes unhunted. */
    if (rc == 0 && l->n_colls > 0 && l->n_watch > 0 &&
        (rc = live_rebuild(l, s, true)) < 0)
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                       "building the set of every indicator: %s",
                       cairn_strerror(rc));
    cairn_store_close(s);
    return rc;
}

int cairn_loop_start(const struct cairn_loop_opts *o, struct cairn_loop **out,
                     struct cairn_diag *diag)
{
    struct cairn_loop *l = NULL;
    char host[256];
    char path[PATH_MAX];
    char dir[PATH_MAX];
    pthread_condattr_t attr;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (o->store_url == NULL || o->data_dir == NULL) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                       "the loop needs a store and a data directory");
        return CAIRN_EINVAL;
    }
    l = cairn_calloc(1, sizeof *l);
    if (l == NULL)
        return CAIRN_ENOMEM;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        cairn_free(l);
        return CAIRN_ENOMEM;
    }
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&l->cv, &attr) != 0) {
        pthread_mutex_destroy(&l->mu);
        cairn_free(l);
        return CAIRN_ENOMEM;
    }
    pthread_condattr_destroy(&attr);
    atomic_init(&l->live_gen, 0);
    if (o->org == NULL) {
        if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
            snprintf(host, sizeof host, "cairn");
        host[sizeof host - 1] = '\0';
    }
    int n = o->archive_dir != NULL
                ? snprintf(path, sizeof path, "%s", o->archive_dir)
                : snprintf(path, sizeof path, "%s/archive", o->data_dir);
    int m = snprintf(dir, sizeof dir, "%s/loop", o->data_dir);
    int k = snprintf(l->state_path, sizeof l->state_path, "%s/state.json",
                     dir);
    if (n < 0 || (size_t)n >= sizeof path || m < 0 ||
        (size_t)m >= sizeof dir || k < 0 ||
        (size_t)k >= sizeof l->state_path) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "%s: path too long",
                       o->data_dir);
        goto out;
    }
    rc = CAIRN_ENOMEM;
    if ((l->store_url = cairn_strdup(o->store_url)) == NULL ||
        (l->data_dir = cairn_strdup(o->data_dir)) == NULL ||
        (l->org = cairn_strdup(o->org != NULL ? o->org : host)) == NULL ||
        (l->archive_dir = cairn_strdup(path)) == NULL ||
        (o->sightings != NULL &&
         (l->sightings_coll = cairn_strdup(o->sightings)) == NULL))
        goto out;
    if (l->sightings_coll != NULL)
        snprintf(l->sight_lock, sizeof l->sight_lock, "sightings:%.36s",
                 l->sightings_coll);
    rc = copy_list(o->indicators, o->n_indicators, &l->colls);
    l->n_colls = o->n_indicators;
    if (rc < 0)
        goto out;
    rc = copy_list(o->watch, o->n_watch, &l->watch);
    l->n_watch = o->n_watch;
    if (rc < 0)
        goto out;
    l->poll_ms = o->poll_ms ? o->poll_ms : POLL_MS_DEF;
    l->signer = o->signer;
    l->threads = o->threads ? o->threads : 1;
    l->on_stored = o->on_stored;
    l->ud = o->ud;
    rc = CAIRN_ENOMEM;
    if (l->n_colls > 0 &&
        ((l->pos = cairn_calloc(l->n_colls, sizeof *l->pos)) == NULL ||
         (l->has_pos = cairn_calloc(l->n_colls, sizeof *l->has_pos)) == NULL))
        goto out;
    rc = cairn_hunt_sightings_new(l->org, NULL, &l->sightings);
    if (rc < 0) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                       "[hunt] org '%s' cannot name an identity", l->org);
        goto out;
    }
    cairn_hunt_sightings_set_stable(l->sightings);
    if ((rc = prepare(l, diag)) < 0)
        goto out;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = CAIRN_EIO;
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "%s: %s", dir,
                       strerror(errno));
        goto out;
    }
    state_load(l);
    struct cairn_archive_opts ao = {
        .keep_seconds = o->keep_seconds,
        .max_size = o->max_size,
        .on_msg = on_msg,
    };
    rc = cairn_archive_open(l->archive_dir, &ao, &l->archive, diag);
    if (rc < 0) {
        if (diag != NULL && diag->message[0] == '\0')
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "archive %s: %s",
                           l->archive_dir, cairn_strerror(rc));
        goto out;
    }
    if (l->n_colls > 0) {
        /* Listening before the first poll: nothing stored after it is
         * left to the next one. */
        if ((rc = cairn_store_listen(on_added, l)) < 0) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config",
                           "the loop cannot hear of new indicators: %s",
                           cairn_strerror(rc));
            goto out;
        }
        l->listening = true;
        rc = CAIRN_ENOMEM;
        if (pthread_create(&l->loop_thread, NULL, loop_main, l) != 0)
            goto out;
        l->loop_started = true;
    }
    rc = CAIRN_ENOMEM;
    if (l->n_watch > 0) {
        if (pthread_create(&l->watch_thread, NULL, watch_main, l) != 0)
            goto out;
        l->watch_started = true;
    }
    *out = l;
    l = NULL;
    rc = 0;
out:
    cairn_loop_stop(l);
    return rc;
}

void cairn_loop_stop(struct cairn_loop *l)
{
    if (l == NULL)
        return;
    if (l->listening)
        cairn_store_unlisten(on_added, l);
    /* The watcher first: the hits of its last events reach the store. */
    pthread_mutex_lock(&l->mu);
    l->stop_watch = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->watch_started)
        pthread_join(l->watch_thread, NULL);
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->loop_started)
        pthread_join(l->loop_thread, NULL);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    loop_free(l);
}
