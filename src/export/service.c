/* SPDX-License-Identifier: Apache-2.0 */
/* A server's exports: [export NAME] sections, kept current by one thread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export/export_int.h"

/* ---- [export NAME] sections ------------------------------------------------ */

struct defs_reader {
    struct cairn_export_defs *defs;
    struct cairn_export_def *cur; /* the section being read */
    bool *has_format;             /* per definition */
};

static bool name_ok(const char *s)
{
    if (*s == '\0' || strlen(s) > 64)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

/* Append the comma-separated items of `value` to a list. */
static int add_items(struct cairn_ini *ini, char ***list, size_t *n,
                     const char *value, const char *what)
{
    const char *p = value;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *e = p;
        while (*e != '\0' && *e != ',' && *e != ' ')
            e++;
        char **nl = cairn_realloc(*list, (*n + 2) * sizeof *nl);
        if (nl == NULL)
            return CAIRN_ENOMEM;
        *list = nl;
        nl[*n] = cairn_strndup(p, (size_t)(e - p));
        if (nl[*n] == NULL)
            return CAIRN_ENOMEM;
        (*n)++;
        nl[*n] = NULL;
        p = e;
    }
    if (*n == 0)
        return cairn_ini_fail(ini, "%s: no value", what);
    return 0;
}

static int on_entry(struct cairn_ini *ini, const char *section,
                    const char *name, const char *value, void *ud)
{
    struct defs_reader *rd = ud;
    struct cairn_export_defs *d = rd->defs;

    if (strncmp(section, "export ", 7) != 0)
        return 0;
    const char *xname = section + 7;
    if (rd->cur == NULL || strcmp(rd->cur->name, xname) != 0) {
        for (size_t i = 0; i < d->n; i++)
            if (strcmp(d->defs[i].name, xname) == 0)
                return cairn_ini_fail(ini, "[export %s] is given twice",
                                      xname);
        if (!name_ok(xname))
            return cairn_ini_fail(ini,
                                  "[export %s]: a name is 1 to 64 letters, "
                                  "digits, '-', '_' or '.'",
                                  xname);
        struct cairn_export_def *nd =
            cairn_realloc(d->defs, (d->n + 1) * sizeof *nd);
        if (nd == NULL)
            return CAIRN_ENOMEM;
        d->defs = nd;
        memset(&nd[d->n], 0, sizeof nd[d->n]);
        nd[d->n].name = cairn_strdup(xname);
        if (nd[d->n].name == NULL)
            return CAIRN_ENOMEM;
        nd[d->n].format = CAIRN_EXPORT_FORMAT_COUNT;
        rd->cur = &nd[d->n++];
    }
    struct cairn_export_def *x = rd->cur;
    if (strcmp(name, "format") == 0) {
        if (x->format != CAIRN_EXPORT_FORMAT_COUNT)
            return cairn_ini_fail(ini, "[%s] format is given twice", section);
        if (cairn_export_format_parse(value, &x->format) != 0)
            return cairn_ini_fail(ini,
                                  "format: '%s' is not one of zeek-intel, "
                                  "suricata, snort, rpz, yara, csv, misp, "
                                  "stix",
                                  value);
        return 0;
    }
    if (strcmp(name, "collection") == 0 || strcmp(name, "collections") == 0)
        return add_items(ini, &x->collections, &x->n_collections, value,
                         name);
    if (strcmp(name, "type") == 0 || strcmp(name, "types") == 0)
        return add_items(ini, &x->types, &x->n_types, value, name);
    if (strcmp(name, "path") == 0)
        return cairn_ini_string(ini, &x->path, section, name, value, true);
    if (strcmp(name, "state") == 0)
        return cairn_ini_string(ini, &x->state, section, name, value, true);
    if (strcmp(name, "source") == 0)
        return cairn_ini_string(ini, &x->source, section, name, value, false);
    if (strcmp(name, "zone") == 0)
        return cairn_ini_string(ini, &x->zone, section, name, value, false);
    if (strcmp(name, "warninglists") == 0)
        return cairn_ini_string(ini, &x->warninglists, section, name, value,
                                true);
    if (strcmp(name, "min_score") == 0) {
        char *end;
        unsigned long v = strtoul(value, &end, 10);
        if (*value < '0' || *value > '9' || *end != '\0' || v > 100)
            return cairn_ini_fail(ini, "min_score: '%s' is not a number "
                                       "from 0 to 100",
                                  value);
        x->min_score = (int)v;
        return 0;
    }
    if (strcmp(name, "include_warninglisted") == 0) {
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
            x->include_warninglisted = true;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
            x->include_warninglisted = false;
        else
            return cairn_ini_fail(ini, "include_warninglisted: '%s' is "
                                       "not yes or no",
                                  value);
        return 0;
    }
    return cairn_ini_fail(ini, "unknown key '%s' in section [%s]", name,
                          section);
}

static void def_release(struct cairn_export_def *x)
{
    cairn_free(x->name);
    for (size_t i = 0; i < x->n_collections; i++)
        cairn_free(x->collections[i]);
    cairn_free(x->collections);
    for (size_t i = 0; i < x->n_types; i++)
        cairn_free(x->types[i]);
    cairn_free(x->types);
    cairn_free(x->path);
    cairn_free(x->state);
    cairn_free(x->source);
    cairn_free(x->zone);
    cairn_free(x->warninglists);
}

void cairn_export_defs_release(struct cairn_export_defs *defs)
{
    if (defs == NULL)
        return;
    for (size_t i = 0; i < defs->n; i++)
        def_release(&defs->defs[i]);
    cairn_free(defs->defs);
    defs->defs = NULL;
    defs->n = 0;
}

int cairn_export_defs_load(const char *path, struct cairn_export_defs *out,
                           struct cairn_diag *diag)
{
    struct cairn_ini ini;
    struct defs_reader rd = {.defs = out};

    memset(out, 0, sizeof *out);
    int rc = cairn_ini_parse(&ini, path, on_entry, &rd, diag);
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        struct cairn_export_def *x = &out->defs[i];
        ini.line = 0;
        if (x->format == CAIRN_EXPORT_FORMAT_COUNT)
            rc = cairn_ini_fail(&ini, "[export %s] has no format", x->name);
        else if (x->n_collections == 0)
            rc = cairn_ini_fail(&ini, "[export %s] has no collection",
                                x->name);
        else if (x->state == NULL && x->path != NULL &&
                 (x->format == CAIRN_EXPORT_SURICATA ||
                  x->format == CAIRN_EXPORT_SNORT ||
                  x->format == CAIRN_EXPORT_RPZ)) {
            size_t l = strlen(x->path);
            x->state = cairn_malloc(l + 7);
            if (x->state == NULL)
                rc = CAIRN_ENOMEM;
            else
                snprintf(x->state, l + 7, "%s.state", x->path);
        }
    }
    if (rc != 0)
        cairn_export_defs_release(out);
    return rc;
}

/* ---- the service ------------------------------------------------------------ */

/* One rewrite as served (its file): shared by the requests that hold it. */
struct body {
    atomic_size_t refs;
    int fd;
    size_t len;
    char etag[40];
};

static void body_unref(struct body *b)
{
    if (b != NULL && atomic_fetch_sub(&b->refs, 1) == 1) {
        if (b->fd >= 0)
            close(b->fd);
        cairn_free(b);
    }
}

void cairn_export_content_release(struct cairn_export_content *c)
{
    if (c == NULL)
        return;
    body_unref(c->ref_);
    c->ref_ = NULL;
    c->fd = -1;
    c->len = 0;
}

struct svc_export {
    struct cairn_export *ex;
    struct cairn_warninglists *wl; /* the section's own lists; may be NULL */
    char *name;
    char *path;
    enum cairn_export_format format;
    char **collections;
    size_t n_collections;
    /* the latest rewrite, under the service's mutex */
    struct body *body;
    uint64_t gen;
    bool has_expiry;
    struct cairn_time expiry;
};

struct cairn_export_service {
    struct cairn_store *store;
    struct svc_export *x;
    size_t n;
    unsigned poll_ms;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool poked;
};

#define SKIPS_LOGGED 10 /* per rewrite; the summary counts the rest */

struct skip_log_ctx {
    const char *name;
    size_t n;
};

static void skip_log(const char *id, const char *why, void *ud)
{
    struct skip_log_ctx *sl = ud;
    if (sl->n++ < SKIPS_LOGGED)
        cairn_log(CAIRN_LOG_WARN, "export %s: %s: %s", sl->name, id, why);
}

/*
 * Rewrite one export from what it holds, straight into its file (or an
 * anonymous one when it has no path), which is then served by its
 * descriptor; the caller holds no lock.
 */
static int rewrite(struct cairn_export_service *svc, struct svc_export *x,
                   struct cairn_diag *diag)
{
    struct cairn_export_stats st;
    struct cairn_export_file f;
    struct cairn_time now = cairn_time_now(3);
    int rc;

    struct skip_log_ctx sl = {x->name, 0};
    rc = cairn_export_write(x->ex, &now, x->path, &f, &st, skip_log, &sl);
    if (rc == CAIRN_EIO && diag != NULL)
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                       "[export %s]: cannot write %s", x->name,
                       x->path != NULL ? x->path : "an anonymous file");
    else if (rc != 0 && diag != NULL)
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                       "[export %s]: cannot render: %s", x->name,
                       cairn_strerror(rc));
    if (rc != 0)
        return rc;
    struct body *nb = cairn_calloc(1, sizeof *nb);
    if (nb == NULL) {
        close(f.fd);
        return CAIRN_ENOMEM;
    }
    nb->fd = f.fd;
    nb->len = f.len;
    atomic_init(&nb->refs, 1);
    snprintf(nb->etag, sizeof nb->etag, "\"%016llx-%zx\"",
             (unsigned long long)f.hash, nb->len);
    struct cairn_time exp;
    bool has_exp = cairn_export_next_expiry(x->ex, &now, &exp);
    pthread_mutex_lock(&svc->mu);
    struct body *old = x->body;
    x->body = nb;
    x->gen++;
    x->has_expiry = has_exp;
    x->expiry = exp;
    pthread_mutex_unlock(&svc->mu);
    body_unref(old); /* requests still sending it hold their own */
    cairn_log(CAIRN_LOG_INFO,
              "export %s: %zu entries from %zu indicators (%zu unsupported, "
              "%zu revoked, %zu expired, %zu warninglisted, %zu below "
              "min_score)",
              x->name, st.entries, st.indicators, st.unsupported, st.revoked,
              st.expired, st.warninglisted, st.low_score);
    return 0;
}

static void *service_main(void *arg)
{
    struct cairn_export_service *svc = arg;

    pthread_mutex_lock(&svc->mu);
    while (!svc->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(svc->poll_ms % 1000) * 1000000L;
        ts.tv_sec += svc->poll_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!svc->poked)
            (void)pthread_cond_timedwait(&svc->cv, &svc->mu, &ts);
        if (svc->stop)
            break;
        svc->poked = false;
        pthread_mutex_unlock(&svc->mu);
        for (size_t i = 0; i < svc->n; i++) {
            struct svc_export *x = &svc->x[i];
            bool changed = false;
            int rc = cairn_export_update(x->ex, svc->store, &changed);
            if (rc != 0) {
                cairn_log(CAIRN_LOG_ERROR, "export %s: cannot read the "
                                           "store: %s",
                          x->name, cairn_strerror(rc));
                continue;
            }
            struct cairn_time now = cairn_time_now(3);
            pthread_mutex_lock(&svc->mu);
            bool expired = x->has_expiry &&
                           cairn_time_cmp(&x->expiry, &now) <= 0;
            pthread_mutex_unlock(&svc->mu);
            if (changed || expired) {
                rc = rewrite(svc, x, NULL);
                if (rc != 0)
                    cairn_log(CAIRN_LOG_ERROR, "export %s: rewrite failed: "
                                               "%s",
                              x->name, cairn_strerror(rc));
            }
        }
        pthread_mutex_lock(&svc->mu);
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

static void list_err(void *ud, const char *file, const char *where,
                     const char *msg)
{
    const struct cairn_export_def *d = ud;
    cairn_log(CAIRN_LOG_WARN, "[export %s] warninglists: %s%s%s: %s",
              d->name, file, where[0] != '\0' ? ": " : "", where, msg);
}

/* The lists of a section's `warninglists`: an error when none loads. */
static int load_lists(const struct cairn_export_def *d,
                      struct cairn_warninglists **out,
                      struct cairn_diag *diag)
{
    int rc = cairn_warninglists_new(out);
    if (rc != 0)
        return rc;
    rc = cairn_warninglists_load(*out, d->warninglists, list_err, (void *)d,
                                 NULL);
    if (rc == CAIRN_ENOMEM ||
        (rc < 0 && cairn_warninglists_count(*out) == 0)) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                       "[export %s]: warninglists %s: %s", d->name,
                       d->warninglists, cairn_strerror(rc));
        return rc;
    }
    return 0;
}

int cairn_export_service_new(const char *store_url,
                             const struct cairn_store_opts *store_opts,
                             const struct cairn_export_defs *defs,
                             unsigned poll_ms,
                             struct cairn_export_service **out,
                             struct cairn_diag *diag)
{
    struct cairn_export_service *svc = NULL;
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    svc = cairn_calloc(1, sizeof *svc);
    if (svc == NULL)
        return CAIRN_ENOMEM;
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->cv, NULL);
    svc->poll_ms = poll_ms != 0 ? poll_ms : 1000;
    svc->x = cairn_calloc(defs->n + 1, sizeof *svc->x);
    if (svc->x == NULL)
        goto out;
    rc = cairn_store_open(store_url, store_opts, &svc->store);
    if (rc != 0) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                       "exports: cannot open the store: %s",
                       cairn_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < defs->n; i++) {
        const struct cairn_export_def *d = &defs->defs[i];
        struct svc_export *x = &svc->x[i];
        struct cairn_export_opts o = {
            .format = d->format,
            .collections = (const char *const *)d->collections,
            .n_collections = d->n_collections,
            .types = (const char *const *)d->types,
            .n_types = d->n_types,
            .state_path = d->state,
            .source = d->source,
            .zone = d->zone,
            .warninglists = defs->warninglists,
            .include_warninglisted = d->include_warninglisted,
            .min_score = d->min_score,
        };
        svc->n++;
        if (d->warninglists != NULL && !d->include_warninglisted) {
            rc = load_lists(d, &x->wl, diag);
            if (rc != 0)
                goto out;
            o.warninglists = x->wl;
        }
        rc = CAIRN_ENOMEM;
        x->name = cairn_strdup(d->name);
        x->path = d->path != NULL ? cairn_strdup(d->path) : NULL;
        x->format = d->format;
        x->collections = cairn_calloc(d->n_collections + 1,
                                      sizeof *x->collections);
        if (x->name == NULL || (d->path != NULL && x->path == NULL) ||
            x->collections == NULL)
            goto out;
        for (size_t c = 0; c < d->n_collections; c++) {
            x->collections[c] = cairn_strdup(d->collections[c]);
            if (x->collections[c] == NULL)
                goto out;
            x->n_collections++;
        }
        rc = cairn_export_new(&o, &x->ex, diag);
        if (rc != 0) {
            if (diag != NULL && diag->message[0] == '\0')
                cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                               "[export %s]: %s", d->name, cairn_strerror(rc));
            goto out;
        }
        rc = cairn_export_update(x->ex, svc->store, NULL);
        if (rc != 0) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "export",
                           "[export %s]: %s", d->name,
                           rc == CAIRN_ENOTFOUND
                               ? "a collection it names does not exist"
                               : cairn_strerror(rc));
            goto out;
        }
        rc = rewrite(svc, x, diag);
        if (rc != 0)
            goto out;
    }
    if (pthread_create(&svc->thread, NULL, service_main, svc) != 0) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    svc->started = true;
    *out = svc;
    svc = NULL;
    rc = 0;
out:
    cairn_export_service_free(svc);
    return rc;
}

void cairn_export_service_free(struct cairn_export_service *svc)
{
    if (svc == NULL)
        return;
    if (svc->started) {
        pthread_mutex_lock(&svc->mu);
        svc->stop = true;
        pthread_cond_broadcast(&svc->cv);
        pthread_mutex_unlock(&svc->mu);
        pthread_join(svc->thread, NULL);
    }
    for (size_t i = 0; i < svc->n; i++) {
        struct svc_export *x = &svc->x[i];
        cairn_export_free(x->ex);
        cairn_warninglists_free(x->wl);
        cairn_free(x->name);
        cairn_free(x->path);
        for (size_t c = 0; c < x->n_collections; c++)
            cairn_free(x->collections[c]);
        cairn_free(x->collections);
        body_unref(x->body);
    }
    cairn_free(svc->x);
    cairn_store_close(svc->store);
    pthread_mutex_destroy(&svc->mu);
    pthread_cond_destroy(&svc->cv);
    cairn_free(svc);
}

static struct svc_export *find(struct cairn_export_service *svc,
                               const char *name)
{
    for (size_t i = 0; svc != NULL && i < svc->n; i++)
        if (strcmp(svc->x[i].name, name) == 0)
            return &svc->x[i];
    return NULL;
}

void cairn_export_service_poke(struct cairn_export_service *svc)
{
    if (svc == NULL)
        return;
    pthread_mutex_lock(&svc->mu);
    svc->poked = true;
    pthread_cond_broadcast(&svc->cv);
    pthread_mutex_unlock(&svc->mu);
}

int cairn_export_service_get(struct cairn_export_service *svc,
                             const char *name,
                             struct cairn_export_content *out,
                             const char *const **collections,
                             size_t *n_collections)
{
    struct svc_export *x = find(svc, name);

    if (out != NULL) {
        memset(out, 0, sizeof *out);
        out->fd = -1;
    }
    if (x == NULL)
        return CAIRN_ENOTFOUND;
    if (collections != NULL)
        *collections = (const char *const *)x->collections;
    if (n_collections != NULL)
        *n_collections = x->n_collections;
    if (out == NULL)
        return 0;
    pthread_mutex_lock(&svc->mu);
    struct body *b = x->body;
    atomic_fetch_add(&b->refs, 1);
    pthread_mutex_unlock(&svc->mu);
    out->fd = b->fd;
    out->len = b->len;
    memcpy(out->etag, b->etag, sizeof out->etag);
    out->media = cairn_export_format_media(x->format);
    out->ref_ = b;
    return 0;
}

int cairn_export_service_etag(struct cairn_export_service *svc,
                              const char *name, char etag[40])
{
    struct svc_export *x = find(svc, name);
    if (x == NULL)
        return CAIRN_ENOTFOUND;
    pthread_mutex_lock(&svc->mu);
    memcpy(etag, x->body->etag, 40);
    pthread_mutex_unlock(&svc->mu);
    return 0;
}

uint64_t cairn_export_service_generation(struct cairn_export_service *svc,
                                         const char *name)
{
    struct svc_export *x = find(svc, name);
    uint64_t g = 0;
    if (x == NULL)
        return 0;
    pthread_mutex_lock(&svc->mu);
    g = x->gen;
    pthread_mutex_unlock(&svc->mu);
    return g;
}
