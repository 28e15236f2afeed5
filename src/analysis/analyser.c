/* SPDX-License-Identifier: Apache-2.0 */
/* The analysers' table and what every analyser shares: names from events. */
#include <string.h>

#include "analysis/analysis_int.h"

/* Adding an analyser: one file with its ops, and one line here. */
static const struct cairn_analyser_ops *const ANALYSERS[] = {
    &cairn__sunburst_ops,
};
#define N_ANALYSERS (sizeof ANALYSERS / sizeof ANALYSERS[0])

struct cairn_analyser {
    const struct cairn_analyser_ops *ops;
    void *state;
    struct cairn_analyser_stats stats;
};

size_t cairn_analyser_list(const struct cairn_analyser_info *const **out)
{
    static const struct cairn_analyser_info *infos[N_ANALYSERS];
    for (size_t i = 0; i < N_ANALYSERS; i++)
        infos[i] = ANALYSERS[i]->info;
    *out = infos;
    return N_ANALYSERS;
}

int cairn_analyser_new(const char *name, struct cairn_analyser **out)
{
    *out = NULL;
    const struct cairn_analyser_ops *ops = NULL;
    for (size_t i = 0; i < N_ANALYSERS; i++)
        if (strcmp(ANALYSERS[i]->info->name, name) == 0)
            ops = ANALYSERS[i];
    if (ops == NULL)
        return CAIRN_ENOTFOUND;
    struct cairn_analyser *a = cairn_calloc(1, sizeof *a);
    if (a == NULL)
        return CAIRN_ENOMEM;
    a->ops = ops;
    int rc = ops->new_state(&a->state);
    if (rc < 0) {
        cairn_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void cairn_analyser_free(struct cairn_analyser *a)
{
    if (a == NULL)
        return;
    a->ops->free_state(a->state);
    cairn_free(a);
}

const struct cairn_analyser_info *
cairn_analyser_info(const struct cairn_analyser *a)
{
    return a->ops->info;
}

int cairn_analyser_add_name(struct cairn_analyser *a,
                            const struct cairn_dns_name *name)
{
    a->stats.names++;
    int rc = a->ops->add(a->state, name);
    if (rc < 0)
        return rc;
    if (rc != CAIRN_ANALYSER_SKIP) {
        a->stats.relevant++;
        if (rc == 1)
            a->stats.decoded++;
        else
            a->stats.undecodable++;
    }
    return 0;
}

static bool is_answer_field(const char *name)
{
    return name != NULL &&
           (strcmp(name, "answers") == 0 || strcmp(name, "answer") == 0 ||
            strcmp(name, "rdata") == 0 || strcmp(name, "response") == 0);
}

/* Answers of one event, at most this many (a DNS answer rarely has more). */
#define ANSWERS_MAX 64

int cairn_analyser_add_event(struct cairn_analyser *a,
                             const struct cairn_hunt_event *ev)
{
    struct cairn_dns_answer answers[ANSWERS_MAX];
    size_t n_answers = 0;
    for (size_t i = 0; i < ev->n_fields && n_answers < ANSWERS_MAX; i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        if (!is_answer_field(f->name))
            continue;
        enum cairn_dns_answer_type t;
        if (f->type == CAIRN_IOC_IPV4)
            t = CAIRN_DNS_A;
        else if (f->type == CAIRN_IOC_IPV6)
            t = CAIRN_DNS_AAAA;
        else if (f->type == CAIRN_IOC_DOMAIN)
            t = CAIRN_DNS_CNAME;
        else
            continue;
        answers[n_answers++] = (struct cairn_dns_answer){t, f->value, f->len};
    }
    for (size_t i = 0; i < ev->n_fields; i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        if (f->type != CAIRN_IOC_DOMAIN || is_answer_field(f->name))
            continue;
        struct cairn_dns_name n = {
            .name = f->value,
            .len = f->len,
            .has_ts = ev->has_ts,
            .ts = ev->ts,
            .answers = n_answers ? answers : NULL,
            .n_answers = n_answers,
        };
        int rc = cairn_analyser_add_name(a, &n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void cairn_analyser_get_stats(const struct cairn_analyser *a,
                              struct cairn_analyser_stats *out)
{
    *out = a->stats;
    out->findings = a->ops->count(a->state);
}

int cairn_analyser_findings(const struct cairn_analyser *a, json_t **out)
{
    *out = NULL;
    return a->ops->findings(a->state, out);
}

int cairn_analyser_stix(const struct cairn_analyser *a,
                        const struct cairn_analyser_stix_opts *opts,
                        json_t **out)
{
    static const struct cairn_analyser_stix_opts none = {0};
    *out = NULL;
    return a->ops->stix(a->state, opts ? opts : &none, out);
}
