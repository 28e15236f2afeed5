/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator scores: confidence, decay, sightings, false positives. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

/* Lifetime (days) and decay speed of each value type (docs/analysis.md). */
static const struct {
    enum cairn_ioc_type type;
    double lifetime_days, speed;
} decay_table[] = {
    {CAIRN_IOC_IPV4, 30, 0.3},     {CAIRN_IOC_IPV6, 30, 0.3},
    {CAIRN_IOC_URL, 90, 0.3},      {CAIRN_IOC_DOMAIN, 180, 0.3},
    {CAIRN_IOC_EMAIL, 180, 0.3},   {CAIRN_IOC_MD5, 365, 0.5},
    {CAIRN_IOC_SHA1, 365, 0.5},    {CAIRN_IOC_SHA256, 365, 0.5},
    {CAIRN_IOC_SHA512, 365, 0.5},  {CAIRN_IOC_FILENAME, 180, 0.3},
    {CAIRN_IOC_REGKEY, 365, 0.5},
};

#define DEFAULT_LIFETIME 180.0
#define DEFAULT_SPEED    0.3

struct first_value {
    int type;
    const struct cairn_warninglists *w;
    const char *list;
};

static int on_value(void *ud, int type, const char *s, size_t len)
{
    struct first_value *f = ud;
    if (type == CAIRN_VALUE_ADDR)
        type = (int)cairn_hunt_detect(s, len, NULL, 0, NULL);
    if (f->type == CAIRN_IOC_UNKNOWN)
        f->type = type;
    if (f->w != NULL && f->list == NULL)
        f->list = cairn_warninglists_match(f->w, type, s, len);
    return f->list != NULL && f->type != CAIRN_IOC_UNKNOWN;
}

static bool get_time(const char *s, size_t len, struct cairn_time *t)
{
    return s != NULL && cairn_time_parse(s, len, true, t) == 0;
}

/* A member's string and its length; NULL when not a string. */
static const char *member_str(const json_t *o, const char *k, size_t *len)
{
    const json_t *v = json_object_get(o, k);
    *len = json_is_string(v) ? json_string_length(v) : 0;
    return json_string_value(v);
}

static int object_values(const void *ud, cairn_value_cb cb, void *cb_ud)
{
    return cairn_value_object_values(ud, cb, cb_ud);
}

static int set_num(json_t *o, const char *k, double v)
{
    return json_object_set_new(o, k, json_real(round(v * 100) / 100)) == 0
               ? 0
               : CAIRN_ENOMEM;
}

int cairn_score_indicator(const json_t *ind,
                          const struct cairn_score_sightings *sg,
                          const struct cairn_score_opts *o, json_t **explain)
{
    struct cairn_score_fields f = {.confidence = -1,
                                   .values = object_values,
                                   .values_ud = ind};
    if (explain != NULL)
        *explain = NULL;
    if (!json_is_object(ind))
        return CAIRN_EINVAL;
    const json_t *c = json_object_get(ind, "confidence");
    if (json_is_integer(c) && json_integer_value(c) >= 0 &&
        json_integer_value(c) <= 100)
        f.confidence = (int)json_integer_value(c);
    f.created_by_ref =
        json_string_value(json_object_get(ind, "created_by_ref"));
    f.valid_from = member_str(ind, "valid_from", &f.valid_from_len);
    f.created = member_str(ind, "created", &f.created_len);
    f.valid_until = member_str(ind, "valid_until", &f.valid_until_len);
    f.revoked = json_is_true(json_object_get(ind, "revoked"));
    return cairn_score_fields(&f, sg, o, explain);
}

int cairn_score_fields(const struct cairn_score_fields *f,
                       const struct cairn_score_sightings *sg,
                       const struct cairn_score_opts *o, json_t **explain)
{
    static const struct cairn_score_sightings none = {0};
    struct first_value fv = {.w = o != NULL ? o->warninglists : NULL};
    struct cairn_time now = o != NULL && o->now != NULL ? *o->now
                                                         : cairn_time_now(0);
    struct cairn_time from, until;
    if (explain != NULL)
        *explain = NULL;
    if (sg == NULL)
        sg = &none;

    /* base: the indicator's confidence, else the source's default */
    double base = o != NULL && o->default_confidence > 0
                      ? o->default_confidence
                      : CAIRN_SCORE_DEFAULT_CONFIDENCE;
    const char *by = f->created_by_ref;
    for (size_t i = 0; o != NULL && by != NULL && i < o->n_sources; i++)
        if (strcmp(o->sources[i].identity, by) == 0) {
            base = o->sources[i].confidence;
            break;
        }
    if (f->confidence >= 0 && f->confidence <= 100)
        base = (double)f->confidence;

    /* the decay model of its first value's type */
    if (f->values != NULL)
        (void)f->values(f->values_ud, on_value, &fv);
    double tau = DEFAULT_LIFETIME, speed = DEFAULT_SPEED;
    for (size_t i = 0; i < sizeof decay_table / sizeof decay_table[0]; i++)
        if ((int)decay_table[i].type == fv.type) {
            tau = decay_table[i].lifetime_days;
            speed = decay_table[i].speed;
        }
    for (size_t i = 0; o != NULL && i < o->n_decay; i++)
        if (o->decay[i].type == fv.type) {
            tau = o->decay[i].lifetime_days;
            speed = o->decay[i].speed;
        }

    /* age: since valid_from, or the last sighting when later */
    if (!get_time(f->valid_from, f->valid_from_len, &from) &&
        !get_time(f->created, f->created_len, &from))
        from = now;
    if (sg->has_last_seen && cairn_time_cmp(&sg->last_seen, &from) > 0)
        from = sg->last_seen;
    double age = (double)(now.sec - from.sec) / 86400.0;
    if (age < 0)
        age = 0;
    double decay = age >= tau ? 0 : 1 - pow(age / tau, 1 / speed);
    bool expired = get_time(f->valid_until, f->valid_until_len, &until) &&
                   cairn_time_cmp(&until, &now) <= 0;
    if (expired || f->revoked)
        decay = 0;

    double score = base * decay;
    double boost = 0, penalty = 0;
    if (decay > 0) {
        boost = 5.0 * (double)(sg->orgs < 4 ? sg->orgs : 4);
        score += boost;
    }
    penalty = 15.0 * (double)(sg->fp_orgs < 4 ? sg->fp_orgs : 4);
    score -= penalty;
    if (fv.list == NULL)
        fv.list = sg->flagged; /* stored flagged, though not on these lists */
    if (fv.list != NULL)
        score /= 4;
    if (score < 0)
        score = 0;
    if (score > 100)
        score = 100;
    int result = (int)lround(score);

    if (explain != NULL) {
        json_t *e = json_object();
        int rc = e == NULL ? CAIRN_ENOMEM : 0;
        if (rc == 0)
            rc = set_num(e, "base", base);
        if (rc == 0)
            rc = set_num(e, "age_days", age);
        if (rc == 0)
            rc = set_num(e, "lifetime_days", tau);
        if (rc == 0)
            rc = set_num(e, "decay_speed", speed);
        if (rc == 0)
            rc = set_num(e, "decay", decay);
        if (rc == 0)
            rc = set_num(e, "sightings_boost", boost);
        if (rc == 0)
            rc = set_num(e, "false_positive_penalty", penalty);
        if (rc == 0 && fv.list != NULL)
            rc = json_object_set_new(e, "warninglist",
                                     json_string(fv.list)) == 0
                     ? 0
                     : CAIRN_ENOMEM;
        if (rc == 0 && expired)
            rc = json_object_set_new(e, "expired", json_true()) == 0
                     ? 0
                     : CAIRN_ENOMEM;
        if (rc < 0) {
            json_decref(e);
            return rc;
        }
        *explain = e;
    }
    return result;
}

/* ---- the settings of [analysis] ------------------------------------------- */

/* The next comma-separated entry of *p, trimmed, into `out`; false at end. */
static bool next_entry(const char **p, char *out, size_t cap, bool *too_long)
{
    const char *s = *p;
    *too_long = false;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == '\0')
        return false;
    const char *e = strchr(s, ',');
    if (e == NULL)
        e = s + strlen(s);
    *p = e;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = (size_t)(e - s);
    if (n >= cap) {
        *too_long = true;
        n = cap - 1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static bool to_double(const char *s, double *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0')
        return false;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 1e6)
        return false;
    *out = v;
    return true;
}

/* Split `entry` at blanks into at most `max` words; their count. */
static size_t words(char *entry, char **w, size_t max)
{
    size_t n = 0;
    char *p = entry;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (n == max)
            return max + 1;
        w[n++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
    }
    return n;
}

static void opts_free_sources(struct cairn_score_source *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        cairn_free(v[i].identity);
    cairn_free(v);
}

void cairn_score_opts_clear(struct cairn_score_opts *o)
{
    if (o == NULL)
        return;
    opts_free_sources((struct cairn_score_source *)o->sources, o->n_sources);
    cairn_free((struct cairn_score_decay *)o->decay);
    o->sources = NULL;
    o->n_sources = 0;
    o->decay = NULL;
    o->n_decay = 0;
}

#define ENTRY_MAX 512
#define ENTRIES_MAX 4096

int cairn_score_opts_parse(struct cairn_score_opts *o, const char *sources,
                           const char *decay, char *err, size_t err_len)
{
    struct cairn_score_source *sv = NULL;
    struct cairn_score_decay *dv = NULL;
    size_t ns = 0, nd = 0;
    char entry[ENTRY_MAX];
    bool too_long;
    int rc = 0;
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (o == NULL)
        return CAIRN_EINVAL;
    for (const char *p = sources ? sources : "";
         rc == 0 && next_entry(&p, entry, sizeof entry, &too_long);) {
        char show[64];
        snprintf(show, sizeof show, "%.60s", entry);
        char *w[2];
        char *end = NULL;
        long n = 0;
        size_t k = too_long ? 0 : words(entry, w, 2);
        if (k == 2)
            n = strtol(w[1], &end, 10);
        if (k != 2 || end == w[1] || *end != '\0' || n < 0 || n > 100 ||
            strncmp(w[0], "identity--", 10) != 0) {
            if (err != NULL)
                snprintf(err, err_len,
                         "source_confidence: '%s' is not IDENTITY N "
                         "(identity--UUID and 0..100)",
                         show);
            rc = CAIRN_EINVAL;
            break;
        }
        if (ns == ENTRIES_MAX) {
            if (err != NULL)
                snprintf(err, err_len, "source_confidence: over %d sources",
                         ENTRIES_MAX);
            rc = CAIRN_EINVAL;
            break;
        }
        struct cairn_score_source *g = cairn_realloc(sv, (ns + 1) * sizeof *g);
        if (g == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        sv = g;
        sv[ns].identity = cairn_strndup(w[0], strlen(w[0]));
        sv[ns].confidence = (int)n;
        if (sv[ns++].identity == NULL)
            rc = CAIRN_ENOMEM;
    }
    for (const char *p = decay ? decay : "";
         rc == 0 && next_entry(&p, entry, sizeof entry, &too_long);) {
        char show[64];
        snprintf(show, sizeof show, "%.60s", entry);
        char *w[3];
        size_t k = too_long ? 0 : words(entry, w, 3);
        int type = CAIRN_IOC_UNKNOWN;
        for (int t = CAIRN_IOC_UNKNOWN + 1; k == 3 && t < CAIRN_IOC_TYPE_COUNT;
             t++)
            if (strcmp(w[0], cairn_ioc_type_name((enum cairn_ioc_type)t)) == 0)
                type = t;
        struct cairn_score_decay d = {.type = type};
        if (k != 3 || type == CAIRN_IOC_UNKNOWN ||
            !to_double(w[1], &d.lifetime_days) || !to_double(w[2], &d.speed)) {
            if (err != NULL)
                snprintf(err, err_len,
                         "decay: '%s' is not TYPE DAYS SPEED (a value type "
                         "such as ipv4 or sha256, and two positive numbers)",
                         show);
            rc = CAIRN_EINVAL;
            break;
        }
        if (nd == ENTRIES_MAX) {
            if (err != NULL)
                snprintf(err, err_len, "decay: over %d entries", ENTRIES_MAX);
            rc = CAIRN_EINVAL;
            break;
        }
        struct cairn_score_decay *g = cairn_realloc(dv, (nd + 1) * sizeof *g);
        if (g == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        dv = g;
        dv[nd++] = d;
    }
    if (rc < 0) {
        opts_free_sources(sv, ns);
        cairn_free(dv);
        return rc;
    }
    cairn_score_opts_clear(o);
    o->sources = sv;
    o->n_sources = ns;
    o->decay = dv;
    o->n_decay = nd;
    return 0;
}
