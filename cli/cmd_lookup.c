/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn lookup`: where values are in the store, and what refers to them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_JSON,
    OPT_OBJECT,
    OPT_LIMIT,
    OPT_WARNINGLISTS,
};

static const struct cli_option lookup_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_JSON] = {'j', "json", NULL,
                  "Print one JSON object per operand, on one line each, "
                  "instead of text."},
    [OPT_OBJECT] = {'o', "object", NULL,
                    "The operands are object ids: print each object's "
                    "neighbourhood (what it refers to, what refers to it) "
                    "as JSON."},
    [OPT_LIMIT] = {'n', "limit", "N",
                   "List at most N objects per value and per kind of "
                   "neighbour (default 1000)."},
    [OPT_WARNINGLISTS] = CLI_WARNINGLISTS_OPTION,
    {0, NULL, NULL, NULL},
};

static int run_lookup(int argc, char **argv);

const struct cli_command cli_cmd_lookup = {
    .name = "lookup",
    .synopsis = "[--data DIR] [--json] [--limit N] [--warninglists PATH] "
                "VALUE...\n"
                "[--data DIR] --object ID...",
    .summary = "Find every object that carries a value, and who sighted it.",
    .description =
        "Looks each VALUE (a domain, address, CIDR block, URL, e-mail "
        "address, hash, file name or registry key; defanged values are "
        "accepted) up in the store's correlation index, over every "
        "collection: indicators whose STIX pattern compares it, SCOs and "
        "observed-data that hold it, and then the sightings, reports, "
        "groupings and relationships that refer to those. The semantics "
        "are the hunt's: a domain also finds the objects of its parent "
        "domains (x.avsvmcloud.com finds the indicator for "
        "avsvmcloud.com), an address every CIDR block that holds it "
        "(10.1.2.3 finds 10.0.0.0/8), a URL those of its host. Each "
        "indicator found gets its score (0 to 100: confidence, decay, "
        "sightings, false positives; docs/analysis.md), and a value on a "
        "warninglist is named with the list.\n\n"
        "With --object, each operand is an object id, and its "
        "neighbourhood is printed as JSON: its newest version in each "
        "collection, the objects it refers to and the objects that refer "
        "to it. The same answers are served over HTTP to users, limited "
        "to the collections they may read (docs/analysis.md).",
    .options = lookup_options,
    .exit_status = "0 every operand was found\n"
                   "1 some operand was not found\n"
                   "2 usage, I/O or store error",
    .examples = "$ cairn lookup x.avsvmcloud.com 10.1.2.3\n"
                "$ cairn lookup --json hxxp://evil[.]example/a\n"
                "$ cairn lookup --object "
                "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    .run = run_lookup,
};

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "";
}

static void print_text(const json_t *res)
{
    const json_t *m = json_object_get(res, "matches");
    const json_t *r = json_object_get(res, "related");
    size_t i;
    const json_t *e;
    printf("%s (%s): %zu object%s, %zu related\n", str(res, "value"),
           str(res, "type"), json_array_size(m),
           json_array_size(m) == 1 ? "" : "s", json_array_size(r));
    json_array_foreach(m, i, e)
    {
        const char *label = str(e, "name");
        if (label[0] == '\0')
            label = str(e, "pattern");
        if (label[0] == '\0')
            label = str(e, "value");
        printf("  %s  matched %s  in %s", str(e, "id"), str(e, "matched"),
               str(e, "collection"));
        if (json_is_integer(json_object_get(e, "score")))
            printf("  score %lld",
                   (long long)json_integer_value(json_object_get(e, "score")));
        if (label[0] != '\0')
            printf("  %s", label);
        printf("\n");
    }
    json_array_foreach(r, i, e)
    {
        printf("  %s  %s %s  in %s", str(e, "id"), str(e, "via"),
               str(e, "refers_to"), str(e, "collection"));
        json_t *count = json_object_get(e, "count");
        if (json_is_integer(count))
            printf("  count %lld", (long long)json_integer_value(count));
        printf("\n");
    }
    json_array_foreach(json_object_get(res, "warninglists"), i, e)
        printf("  on warninglist '%s': a known false positive\n",
               json_string_value(e));
    if (json_is_true(json_object_get(res, "truncated")))
        printf("  (more not listed; see --limit)\n");
}

static int run_lookup(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_lookup;
    struct cairn_store *s = NULL;
    const char *dir = NULL, *arg;
    bool json = false, object = false;
    struct cairn_warninglists *wl = NULL;
    const char *wl_path = NULL;
    struct cairn_score_opts so = {0};
    struct cairn_lookup_opts lo = {.score = &so};
    int opt, status = CLI_EXIT_ERROR;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_DATA)
            dir = arg;
        else if (opt == OPT_JSON)
            json = true;
        else if (opt == OPT_OBJECT)
            object = true;
        else if (opt == OPT_WARNINGLISTS)
            wl_path = arg;
        else if (opt == OPT_LIMIT) {
            char *end;
            unsigned long v = strtoul(arg, &end, 10);
            if (*arg == '\0' || *end != '\0' || v == 0 ||
                v > CAIRN_LOOKUP_LIMIT * 100UL) {
                cli_error(cmd, "--limit needs a number from 1 to %d",
                          CAIRN_LOOKUP_LIMIT * 100);
                return CLI_EXIT_ERROR;
            }
            lo.limit = v;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (optind >= argc) {
        cli_error(cmd, "name at least one value; see 'cairn lookup --help'");
        return CLI_EXIT_ERROR;
    }
    if (cli_warninglists_load(cmd, wl_path, &wl) < 0)
        return CLI_EXIT_ERROR;
    so.warninglists = wl;
    if (cli_store_open(cmd, dir, false, &s) < 0) {
        cairn_warninglists_free(wl);
        return CLI_EXIT_ERROR;
    }
    status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        json_t *res = NULL;
        int rc = object ? cairn_neighbourhood(s, argv[i], &lo, &res)
                        : cairn_lookup(s, argv[i], &lo, &res);
        if (rc == CAIRN_ENOTFOUND) {
            cli_error(cmd, "%s: no such object", argv[i]);
            status = CLI_EXIT_FINDINGS;
            continue;
        }
        if (rc < 0) {
            cli_error(cmd, "%s: %s", argv[i],
                      rc == CAIRN_EUNSUPPORTED
                          ? "this store has no correlation index"
                          : cairn_strerror(rc));
            status = CLI_EXIT_ERROR;
            break;
        }
        if (!object && json_array_size(json_object_get(res, "matches")) == 0 &&
            json_array_size(json_object_get(res, "related")) == 0 &&
            status == CLI_EXIT_OK)
            status = CLI_EXIT_FINDINGS;
        if (json || object) {
            char *text = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (text != NULL)
                printf("%s\n", text);
            free(text);
        } else {
            print_text(res);
        }
        json_decref(res);
    }
    if (fflush(stdout) != 0)
        status = CLI_EXIT_ERROR;
    cairn_store_close(s);
    cairn_warninglists_free(wl);
    return status;
}
