/* SPDX-License-Identifier: Apache-2.0 */
/* Hunt jobs over files: indicators with pattern_type yara, through libyara. */
#include <pthread.h>
#include <string.h>

#include <yara.h>

#include "hunt/job_int.h"

struct yara_ind {
    char id[CAIRN_HUNT_ID_MAX];
    const char *name; /* borrowed from the set */
};

struct hunt_yara {
    YR_RULES *rules;
    struct yara_ind *inds;
    size_t n;
    /* libyara lets at most YR_MAX_THREADS threads scan with one YR_RULES */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned scanning;
};

/* The first error the compiler reports for one indicator's rules. */
struct compile_msg {
    char text[300];
    bool set;
};

static void compiler_cb(int level, const char *file, int line,
                        const YR_RULE *rule, const char *message, void *ud)
{
    struct compile_msg *m = ud;

    (void)file;
    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR || m->set)
        return;
    snprintf(m->text, sizeof m->text, "line %d: %s", line, message);
    m->set = true;
}

/*
 * Compile one indicator's rules on their own, in the namespace of its id,
 * into `into` (a compiler that already holds the good ones) or, with
 * `into` NULL, into a throwaway compiler just to learn whether they
 * compile: libyara's compiler is unusable after an error, so each
 * indicator is tried alone first.
 */
static int try_compile(const struct yara_ind *ind, const char *text,
                       YR_COMPILER *into, struct compile_msg *msg)
{
    YR_COMPILER *c = into;
    int errors;

    if (c == NULL && yr_compiler_create(&c) != ERROR_SUCCESS)
        return CAIRN_ENOMEM;
    yr_compiler_set_callback(c, compiler_cb, msg);
    errors = yr_compiler_add_string(c, text, ind->id);
    if (into == NULL)
        yr_compiler_destroy(c);
    return errors == 0 ? 0 : CAIRN_EINVALID;
}

int cairn__hunt_yara_new(const struct cairn_hunt_set *set,
                         hunt_yara_report_cb report, void *ud,
                         struct hunt_yara **out)
{
    size_t total = cairn_hunt_set_yara_count(set);
    struct hunt_yara *y = NULL;
    YR_COMPILER *comp = NULL;
    char **texts = NULL;
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    if (total == 0)
        return 0;
    if (yr_initialize() != ERROR_SUCCESS)
        return CAIRN_ENOMEM;
    y = cairn_calloc(1, sizeof *y);
    texts = cairn_calloc(total, sizeof *texts);
    if (y == NULL || texts == NULL)
        goto out;
    y->inds = cairn_calloc(total, sizeof *y->inds);
    if (y->inds == NULL)
        goto out;
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->cv, NULL);
    for (size_t i = 0; i < total; i++) {
        struct cairn_hunt_yara_rule r;
        struct compile_msg msg = {{0}, false};
        struct yara_ind *ind = &y->inds[y->n];

        rc = cairn_hunt_set_yara(set, i, &r);
        if (rc < 0)
            goto out;
        memcpy(ind->id, r.id, sizeof ind->id);
        ind->name = r.name;
        /* yr_compiler_add_string wants a C string; the rules are counted. */
        texts[y->n] = cairn_strndup(r.rules, r.rules_len);
        rc = CAIRN_ENOMEM;
        if (texts[y->n] == NULL)
            goto out;
        if (memchr(r.rules, '\0', r.rules_len) != NULL) {
            report(ind->id, "the rules contain a NUL character", ud);
            cairn_free(texts[y->n]);
            texts[y->n] = NULL;
            continue;
        }
        rc = try_compile(ind, texts[y->n], NULL, &msg);
        if (rc == CAIRN_ENOMEM)
            goto out;
        if (rc < 0) {
            report(ind->id, msg.set ? msg.text : "the rules do not compile",
                   ud);
            cairn_free(texts[y->n]);
            texts[y->n] = NULL;
            continue;
        }
        y->n++;
    }
    rc = CAIRN_ENOMEM;
    if (y->n > 0) {
        if (yr_compiler_create(&comp) != ERROR_SUCCESS)
            goto out;
        for (size_t i = 0; i < y->n; i++) {
            struct compile_msg msg = {{0}, false};
            /* Each compiled alone, so together they can only fail on memory. */
            if (try_compile(&y->inds[i], texts[i], comp, &msg) < 0) {
                rc = CAIRN_EINTERNAL;
                goto out;
            }
        }
        if (yr_compiler_get_rules(comp, &y->rules) != ERROR_SUCCESS)
            goto out;
    }
    *out = y;
    y = NULL;
    rc = 0;
out:
    if (comp != NULL)
        yr_compiler_destroy(comp);
    for (size_t i = 0; texts != NULL && i < total; i++)
        cairn_free(texts[i]);
    cairn_free(texts);
    if (y != NULL) {
        cairn__hunt_yara_free(y);
    } else if (*out == NULL) {
        yr_finalize();
    }
    return rc;
}

void cairn__hunt_yara_free(struct hunt_yara *y)
{
    if (y == NULL)
        return;
    if (y->rules != NULL)
        yr_rules_destroy(y->rules);
    if (y->inds != NULL) {
        pthread_cond_destroy(&y->cv);
        pthread_mutex_destroy(&y->mu);
    }
    cairn_free(y->inds);
    cairn_free(y);
    yr_finalize();
}

size_t cairn__hunt_yara_count(const struct hunt_yara *y)
{
    return y == NULL ? 0 : y->n;
}

struct scan_ctx {
    const struct hunt_yara *y;
    hunt_yara_match_cb cb;
    void *ud;
};

static const struct yara_ind *find_ind(const struct hunt_yara *y,
                                       const char *ns)
{
    for (size_t i = 0; i < y->n; i++) {
        if (strcmp(y->inds[i].id, ns) == 0)
            return &y->inds[i];
    }
    return NULL;
}

static int scan_cb(YR_SCAN_CONTEXT *context, int message, void *data, void *ud)
{
    struct scan_ctx *s = ud;
    const YR_RULE *rule = data;
    const YR_STRING *string;
    const YR_MATCH *match;
    uint64_t first = UINT64_MAX;

    if (message != CALLBACK_MSG_RULE_MATCHING)
        return CALLBACK_CONTINUE;
    const struct yara_ind *ind = find_ind(s->y, rule->ns->name);
    if (ind == NULL)
        return CALLBACK_CONTINUE;
    yr_rule_strings_foreach(rule, string)
    {
        yr_string_matches_foreach(context, string, match)
        {
            uint64_t at = (uint64_t)(match->base + match->offset);
            if (at < first)
                first = at;
        }
    }
    struct hunt_yara_match m = {
        .indicator_id = ind->id,
        .indicator_name = ind->name,
        .rule = rule->identifier,
        /* A rule with a condition on no string matched at the start. */
        .offset = first == UINT64_MAX ? 0 : first,
    };
    s->cb(&m, s->ud);
    return CALLBACK_CONTINUE;
}

int cairn__hunt_yara_scan_file(struct hunt_yara *y, const char *path,
                               hunt_yara_match_cb cb, void *ud, char *err,
                               size_t err_len)
{
    struct scan_ctx s = {y, cb, ud};

    if (y == NULL || y->rules == NULL)
        return 0;
    pthread_mutex_lock(&y->mu);
    while (y->scanning >= YR_MAX_THREADS)
        pthread_cond_wait(&y->cv, &y->mu);
    y->scanning++;
    pthread_mutex_unlock(&y->mu);
    int r = yr_rules_scan_file(y->rules, path, 0, scan_cb, &s, 0);
    pthread_mutex_lock(&y->mu);
    y->scanning--;
    pthread_cond_signal(&y->cv);
    pthread_mutex_unlock(&y->mu);
    if (r == ERROR_SUCCESS)
        return 0;
    if (err != NULL) {
        const char *why = r == ERROR_COULD_NOT_OPEN_FILE   ? "cannot open"
                          : r == ERROR_COULD_NOT_MAP_FILE  ? "cannot map"
                          : r == ERROR_INSUFFICIENT_MEMORY ? "out of memory"
                                                           : "scan failed";
        snprintf(err, err_len, "YARA: %s (error %d)", why, r);
    }
    return CAIRN_EIO;
}
