/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator scores: confidence, decay, sightings, false positives. */
#include <math.h>
#include <stdio.h>
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

static bool get_time(const json_t *o, const char *k, struct cairn_time *t)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) &&
           cairn_time_parse(json_string_value(v), json_string_length(v), true,
                            t) == 0;
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
    static const struct cairn_score_sightings none = {0};
    struct first_value fv = {.w = o != NULL ? o->warninglists : NULL};
    struct cairn_time now = o != NULL && o->now != NULL ? *o->now
                                                         : cairn_time_now(0);
    struct cairn_time from, until;
    if (explain != NULL)
        *explain = NULL;
    if (!json_is_object(ind))
        return CAIRN_EINVAL;
    if (sg == NULL)
        sg = &none;

    /* base: the indicator's confidence, else the source's default */
    const json_t *c = json_object_get(ind, "confidence");
    double base = o != NULL && o->default_confidence > 0
                      ? o->default_confidence
                      : CAIRN_SCORE_DEFAULT_CONFIDENCE;
    if (json_is_integer(c) && json_integer_value(c) >= 0 &&
        json_integer_value(c) <= 100)
        base = (double)json_integer_value(c);

    /* the decay model of its first value's type */
    (void)cairn_value_object_values(ind, on_value, &fv);
    double tau = DEFAULT_LIFETIME, speed = DEFAULT_SPEED;
    for (size_t i = 0; i < sizeof decay_table / sizeof decay_table[0]; i++)
        if ((int)decay_table[i].type == fv.type) {
            tau = decay_table[i].lifetime_days;
            speed = decay_table[i].speed;
        }

    /* age: since valid_from, or the last sighting when later */
    if (!get_time(ind, "valid_from", &from) && !get_time(ind, "created", &from))
        from = now;
    if (sg->has_last_seen && cairn_time_cmp(&sg->last_seen, &from) > 0)
        from = sg->last_seen;
    double age = (double)(now.sec - from.sec) / 86400.0;
    if (age < 0)
        age = 0;
    double decay = age >= tau ? 0 : 1 - pow(age / tau, 1 / speed);
    bool expired = get_time(ind, "valid_until", &until) &&
                   cairn_time_cmp(&until, &now) <= 0;
    if (expired || json_is_true(json_object_get(ind, "revoked")))
        decay = 0;

    double score = base * decay;
    double boost = 0, penalty = 0;
    if (decay > 0) {
        boost = 5.0 * (double)(sg->orgs < 4 ? sg->orgs : 4);
        score += boost;
    }
    penalty = 15.0 * (double)(sg->fp_orgs < 4 ? sg->fp_orgs : 4);
    score -= penalty;
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
