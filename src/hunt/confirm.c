/* SPDX-License-Identifier: Apache-2.0 */
/* Confirming multi-observation hits with the pattern evaluator. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/hunt.h"
#include "cairn/pattern.h"

#define MSG_MAX 4608 /* a message: an indicator id and the reason */

__attribute__((format(printf, 4, 5))) static void
say(const struct cairn_hunt_confirm_ops *ops, void *ud, enum cairn_severity sev,
    const char *fmt, ...)
{
    char text[MSG_MAX];
    va_list ap;

    if (ops->on_msg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ops->on_msg(sev, text, ud);
}

int cairn_hunt_confirm(const struct cairn_hunt_set *set, size_t indicator,
                       size_t n, const struct cairn_hunt_confirm_ops *ops,
                       void *ud)
{
    struct cairn_hunt_indicator_info info;
    struct cairn_pattern *p = NULL;
    struct cairn_observation_set *obs = NULL;
    struct cairn_match_result res = {0};
    struct cairn_diag diag;
    size_t *obs_of = NULL, n_obs = 0, cap_obs = 0;
    int rc = CAIRN_ENOMEM;

    cairn_diag_clear(&diag);
    if (cairn_hunt_set_indicator(set, indicator, &info) < 0)
        return CAIRN_EINTERNAL;
    const char *text = info.pattern;
    if (text == NULL ||
        cairn_pattern_parse(text, strlen(text), NULL, &p, &diag) < 0) {
        say(ops, ud, CAIRN_SEV_ERROR, "%s: cannot confirm hits: %s", info.id,
            text ? diag.message : "no pattern");
        return 0;
    }
    if (cairn_observations_new(&obs) < 0)
        goto out;
    for (size_t k = 0; k < n; k++) {
        const struct cairn_time *t = NULL;
        json_t *scos = ops->candidate(k, &t, ud);
        for (size_t s = 0; scos != NULL && s < json_array_size(scos); s++) {
            if (n_obs == cap_obs) {
                size_t cap = cap_obs ? cap_obs * 2 : 64;
                size_t *v = cairn_realloc(obs_of, cap * sizeof *v);
                if (v == NULL)
                    goto out;
                obs_of = v;
                cap_obs = cap;
            }
            if (cairn_observations_add_sco(obs, json_array_get(scos, s), t, t,
                                           1) < 0)
                goto out;
            obs_of[n_obs++] = k;
        }
    }
    cairn_diag_clear(&diag);
    if (cairn_observations_seal(obs, &diag) < 0) {
        say(ops, ud, CAIRN_SEV_ERROR, "%s: cannot confirm hits: %s", info.id,
            diag.message);
        rc = 0;
        goto out;
    }
    if (cairn_pattern_match(p, obs, NULL, &res) < 0)
        goto out;
    if (res.truncated)
        say(ops, ud, CAIRN_SEV_WARNING,
            "%s: the search for matching observations reached its bounds; "
            "some hits may not be confirmed",
            info.id);
    for (size_t k = 0; res.matched && k < res.n_indexes; k++) {
        if (res.indexes[k] < n_obs)
            ops->confirmed(obs_of[res.indexes[k]], ud);
    }
    rc = 0;
out:
    cairn_match_result_release(&res);
    cairn_observations_free(obs);
    cairn_pattern_free(p);
    cairn_free(obs_of);
    return rc;
}
