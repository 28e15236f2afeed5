/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn report sightings`: what members sighted, by how many of them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_COLLECTION,
    OPT_SINCE,
    OPT_JSON,
    OPT_THRESHOLD,
    OPT_IDENTITIES,
    OPT_MIN_SCORE,
    OPT_LIMIT,
    OPT_WARNINGLISTS,
    OPT_BY,
};

#define COLLECTIONS_MAX 64

static const struct cli_option report_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_COLLECTION] = {'c', "collection", "ID",
                        "Count the sightings of this collection only; may "
                        "be given up to 64 times (default: every "
                        "collection)."},
    [OPT_SINCE] = {0, "since", "TIME",
                   "Count sightings last seen at or after TIME (RFC 3339, "
                   "such as 2026-01-01T00:00:00Z)."},
    [OPT_JSON] = {'j', "json", NULL, "Print the report as one JSON object."},
    [OPT_THRESHOLD] = {'k', "threshold", "K",
                       "The privacy threshold: fewer than K organisations "
                       "is printed as \"fewer than K\" (default 3)."},
    [OPT_IDENTITIES] = {0, "identities", NULL,
                        "Print exact counts below the threshold and the "
                        "identities of the organisations (for whoever may "
                        "know them)."},
    [OPT_MIN_SCORE] = {0, "min-score", "N",
                       "List only indicators whose score is at least N "
                       "(0 to 100)."},
    [OPT_LIMIT] = {'n', "limit", "N", "List at most N objects."},
    [OPT_WARNINGLISTS] = CLI_WARNINGLISTS_OPTION,
    [OPT_BY] = {0, "by", "PERIOD",
                "Also the sightings of each object per day or week (from "
                "Monday, UTC) of their last time, oldest first."},
    {0, NULL, NULL, NULL},
};

static int run_report(int argc, char **argv);

const struct cli_command cli_cmd_report = {
    .name = "report",
    .synopsis = "sightings [--collection ID]... [--since TIME] [--json] "
                "[OPTIONS]",
    .summary = "Report the indicators members sighted, and how many did.",
    .description =
        "'cairn report sightings' lists the objects sighted (indicators, "
        "mostly), newest sighting first, with the number of distinct "
        "organisations that sighted each (its where_sighted_refs, else "
        "the sighting's created_by_ref; a pseudonymous identity counts as "
        "one organisation), the sum of the sightings' counts, the first "
        "and last time seen, the sightings per collection, and the "
        "indicator's score (docs/analysis.md). Sightings marked "
        "\"x_cairn_false_positive\": true are counted apart and lower the "
        "score.\n\n"
        "Below the privacy threshold K, the number of organisations is "
        "printed as \"fewer than K\" unless --identities is given; the "
        "server applies the same rule to each user (docs/analysis.md).",
    .options = report_options,
    .exit_status = "0 the report was printed (it may be empty)\n"
                   "2 usage, I/O or store error",
    .examples = "$ cairn report sightings\n"
                "$ cairn report sightings --since 2026-11-01T00:00:00Z "
                "--json\n"
                "$ cairn report sightings -c \"$COLL\" --min-score 50\n"
                "$ cairn report sightings --by week --json",
    .run = run_report,
};

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static void print_text(const json_t *res)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(res, "indicators"), i, e)
    {
        const json_t *orgs = json_object_get(e, "organisations");
        char ob[40];
        if (json_is_integer(orgs))
            snprintf(ob, sizeof ob, "%lld",
                     (long long)json_integer_value(orgs));
        else
            snprintf(ob, sizeof ob, "%s", json_string_value(orgs));
        printf("%s  organisations %s  sightings %lld  last %s", str(e, "id"),
               ob, (long long)json_integer_value(json_object_get(e, "sightings")),
               json_object_get(e, "last_seen") ? str(e, "last_seen") : "-");
        if (json_is_integer(json_object_get(e, "score")))
            printf("  score %lld",
                   (long long)json_integer_value(json_object_get(e, "score")));
        const char *label = str(e, "name");
        if (label[0] == '\0')
            label = str(e, "pattern");
        if (label[0] != '\0')
            printf("  %s", label);
        printf("\n");
        size_t j;
        const json_t *p;
        json_array_foreach(json_object_get(e, "periods"), j, p)
        {
            printf("    %s  sightings %lld\n", str(p, "start"),
                   (long long)json_integer_value(json_object_get(p, "sightings")));
        }
    }
}

static int number(const struct cli_command *cmd, const char *opt,
                  const char *arg, unsigned long lo, unsigned long hi,
                  unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*arg == '\0' || *arg == '-' || *end != '\0' || v < lo || v > hi) {
        cli_error(cmd, "%s needs a number from %lu to %lu", opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int run_report(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_report;
    struct cairn_store *s = NULL;
    struct cairn_warninglists *wl = NULL;
    const char *dir = NULL, *arg, *wl_path = NULL;
    const char *colls[COLLECTIONS_MAX];
    struct cairn_report_opts ro = {.collections = colls};
    struct cairn_time since;
    bool json = false;
    unsigned long v;
    int opt, status = CLI_EXIT_ERROR;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_DATA:
            dir = arg;
            break;
        case OPT_COLLECTION:
            if (ro.n_collections == COLLECTIONS_MAX) {
                cli_error(cmd, "--collection given more than %d times",
                          COLLECTIONS_MAX);
                return CLI_EXIT_ERROR;
            }
            if (cli_check_collection_id(cmd, arg) < 0)
                return CLI_EXIT_ERROR;
            colls[ro.n_collections++] = arg;
            break;
        case OPT_SINCE:
            if (cairn_time_parse(arg, strlen(arg), false, &since) < 0) {
                cli_error(cmd, "--since: '%s' is not an RFC 3339 time such "
                               "as 2026-01-01T00:00:00Z",
                          arg);
                return CLI_EXIT_ERROR;
            }
            ro.since = &since;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_THRESHOLD:
            if (number(cmd, "--threshold", arg, 1, 1000000, &v) < 0)
                return CLI_EXIT_ERROR;
            ro.threshold = (unsigned)v;
            break;
        case OPT_IDENTITIES:
            ro.identities = true;
            break;
        case OPT_MIN_SCORE:
            if (number(cmd, "--min-score", arg, 0, 100, &v) < 0)
                return CLI_EXIT_ERROR;
            ro.min_score = (int)v;
            break;
        case OPT_LIMIT:
            if (number(cmd, "--limit", arg, 1, 100000000, &v) < 0)
                return CLI_EXIT_ERROR;
            ro.limit = v;
            break;
        case OPT_WARNINGLISTS:
            wl_path = arg;
            break;
        case OPT_BY:
            if (cairn_report_by_parse(arg, &ro.by) < 0) {
                cli_error(cmd, "--by: '%s' is not day or week", arg);
                return CLI_EXIT_ERROR;
            }
            break;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (optind >= argc || strcmp(argv[optind], "sightings") != 0 ||
        optind + 1 != argc) {
        cli_error(cmd, "the one report is 'sightings'; see 'cairn report "
                       "--help'");
        return CLI_EXIT_ERROR;
    }
    if (ro.n_collections == 0)
        ro.collections = NULL;
    if (cli_warninglists_load(cmd, wl_path, &wl) < 0)
        return CLI_EXIT_ERROR;
    ro.score.warninglists = wl;
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    json_t *res = NULL;
    int rc = cairn_report_sightings(s, &ro, &res);
    if (rc < 0) {
        cli_store_failed(cmd, rc, "reading the sightings");
        status = CLI_EXIT_ERROR;
        goto out;
    }
    if (json) {
        char *text = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text != NULL)
            printf("%s\n", text);
        free(text);
    } else {
        print_text(res);
    }
    json_decref(res);
    status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
out:
    cairn_store_close(s);
    cairn_warninglists_free(wl);
    return status;
}
