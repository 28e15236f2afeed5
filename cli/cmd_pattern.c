/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn pattern check` and `cairn pattern match`: STIX patterns. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/cairn.h"
#include "cairn/pattern.h"
#include "cli.h"

#define MAX_INPUT ((size_t)1 << 30)

static const struct cli_option options[] = {
    {'f', "file", "FILE",
     "check: read patterns from FILE, one per line ('-' for standard input)"},
    {0, "json", NULL, "print the result as JSON"},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_pattern = {
    .name = "pattern",
    .synopsis = "check [--json] [-f FILE] [PATTERN...] | match [--json] "
                "PATTERN FILE...",
    .summary = "Check STIX patterns, or match one against observations.",
    .description =
        "STIX 2.1 patterns (the pattern of an indicator with pattern_type "
        "stix), as section 9 of the specification defines them.\n\n"
        "cairn pattern check checks each PATTERN given, or each line of "
        "FILE (-f), or each line of standard input when neither is given "
        "(blank lines and lines starting with # are skipped). For a valid "
        "pattern it prints \"valid: \" and the pattern's canonical text; "
        "for an invalid one \"invalid: LINE:COLUMN: \" and what is wrong, "
        "for example \"1:27: expected ']' to close the observation, found "
        "'AND'\".\n\n"
        "cairn pattern match matches PATTERN against the observations in "
        "the FILEs: STIX bundles, single objects, or JSON arrays of them. "
        "Every observed-data object is an observation of the SCOs it refers "
        "to (object_refs, or the deprecated embedded objects); a document "
        "without observed-data makes each of its SCOs an observation. It "
        "prints whether the pattern matched and the ids of the "
        "observations used by the match. A string property compared with "
        "a timestamp t'...' that is not a STIX timestamp is an error in "
        "the input: the comparison is false and the command exits 2. See "
        "docs/patterns.md for the semantics and the limits of the search.",
    .options = options,
    .exit_status = "0 check: every pattern is valid; match: the pattern "
                   "matched\n"
                   "1 check: a pattern is invalid; match: no match\n"
                   "2 usage or input/output error, or (match) an invalid "
                   "pattern or input (including a value compared with a "
                   "timestamp that is not one)",
    .examples = "$ cairn pattern check \"[file:name = 'a.exe']\"\n"
                "$ cairn pattern check -f patterns.txt --json\n"
                "$ cairn pattern match \"[domain-name:value LIKE "
                "'%.avsvmcloud.com']\" dns.json",
    .run = run,
};

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s != NULL) {
        puts(s);
        cairn_free(s);
    }
}

/* 0 valid, 1 invalid, 2 error */
static int check_one(const char *text, size_t len, bool as_json, json_t *out)
{
    struct cairn_pattern *p = NULL;
    struct cairn_diag diag;
    cairn_diag_clear(&diag);
    int rc = cairn_pattern_parse(text, len, NULL, &p, &diag);
    if (rc == CAIRN_ENOMEM) {
        cli_error(&cli_cmd_pattern, "out of memory");
        return 2;
    }
    char *canon = NULL;
    if (rc == 0 && cairn_pattern_print(p, &canon, NULL) != 0) {
        cairn_pattern_free(p);
        cli_error(&cli_cmd_pattern, "out of memory");
        return 2;
    }
    cairn_pattern_free(p);
    if (as_json) {
        json_t *o = json_object();
        json_object_set_new(o, "pattern", json_stringn(text, len));
        json_object_set_new(o, "valid", json_boolean(rc == 0));
        if (rc == 0) {
            json_object_set_new(o, "canonical", json_string(canon));
        } else {
            json_object_set_new(o, "line", json_integer(diag.line));
            json_object_set_new(o, "column", json_integer(diag.column));
            json_object_set_new(o, "rule", json_string(diag.rule));
            json_object_set_new(o, "message", json_string(diag.message));
        }
        json_array_append_new(out, o);
    } else if (rc == 0) {
        printf("valid: %s\n", canon);
    } else if (diag.line > 0) {
        printf("invalid: %u:%u: %s\n", diag.line, diag.column, diag.message);
    } else {
        printf("invalid: %s\n", diag.message);
    }
    cairn_free(canon);
    return rc == 0 ? 0 : 1;
}

static int check_lines(const char *data, size_t len, bool as_json, json_t *out)
{
    int worst = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t n = end - i;
        if (n > 0 && data[i + n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (data[i + k] == ' ' || data[i + k] == '\t'))
            k++;
        if (k < n && data[i + k] != '#') {
            int r = check_one(data + i, n, as_json, out);
            if (r > worst)
                worst = r;
        }
        i = end + 1;
    }
    return worst;
}

static int cmd_check(int argc, char **argv)
{
    const char *file = NULL;
    bool as_json = false;
    const char *arg;
    int opt;
    while ((opt = cli_getopt(&cli_cmd_pattern, argc, argv, &arg)) != -1) {
        if (opt == -2)
            return CLI_EXIT_ERROR;
        if (opt == 0)
            file = arg;
        else if (opt == 1)
            as_json = true;
    }
    json_t *out = as_json ? json_array() : NULL;
    int worst = 0;
    for (int i = optind; i < argc; i++) {
        int r = check_one(argv[i], strlen(argv[i]), as_json, out);
        if (r > worst)
            worst = r;
    }
    if (file != NULL || optind >= argc) {
        struct cli_file f;
        if (cli_file_load(&cli_cmd_pattern, file ? file : "-", MAX_INPUT, &f) !=
            0) {
            json_decref(out);
            return CLI_EXIT_ERROR;
        }
        int r = check_lines(f.data, f.len, as_json, out);
        if (r > worst)
            worst = r;
        cli_file_release(&f);
    }
    if (as_json)
        print_json(out);
    json_decref(out);
    return worst == 0   ? CLI_EXIT_OK
           : worst == 1 ? CLI_EXIT_FINDINGS
                        : CLI_EXIT_ERROR;
}

static int cmd_match(int argc, char **argv)
{
    bool as_json = false;
    const char *arg;
    int opt, rc = CLI_EXIT_ERROR;
    struct cairn_pattern *p = NULL;
    struct cairn_observation_set *set = NULL;
    struct cairn_diag diag;
    struct cairn_match_result res = {0};

    while ((opt = cli_getopt(&cli_cmd_pattern, argc, argv, &arg)) != -1) {
        if (opt == -2)
            return CLI_EXIT_ERROR;
        if (opt == 1)
            as_json = true;
        else {
            cli_error(&cli_cmd_pattern, "match does not take --file");
            return CLI_EXIT_ERROR;
        }
    }
    if (argc - optind < 2) {
        cli_error(&cli_cmd_pattern,
                  "match needs a PATTERN and at least one FILE; see 'cairn "
                  "pattern --help'");
        return CLI_EXIT_ERROR;
    }
    cairn_diag_clear(&diag);
    const char *text = argv[optind];
    if (cairn_pattern_parse(text, strlen(text), NULL, &p, &diag) != 0) {
        cli_error(&cli_cmd_pattern, "invalid pattern: %u:%u: %s", diag.line,
                  diag.column, diag.message);
        goto out;
    }
    if (cairn_observations_new(&set) != 0)
        goto out;
    for (int i = optind + 1; i < argc; i++) {
        struct cli_file f;
        json_t *doc = NULL;
        if (cli_file_load(&cli_cmd_pattern, argv[i], MAX_INPUT, &f) != 0)
            goto out;
        cairn_diag_clear(&diag);
        int r = cairn_json_parse(f.data, f.len, &doc, &diag);
        cli_file_release(&f);
        if (r != 0) {
            cli_error(&cli_cmd_pattern, "%s:%u:%u: %s", argv[i], diag.line,
                      diag.column, diag.message);
            goto out;
        }
        cairn_diag_clear(&diag);
        r = cairn_observations_add_json(set, doc, &diag);
        json_decref(doc);
        if (r != 0) {
            cli_error(&cli_cmd_pattern, "%s: %s: %s: %s", argv[i],
                      diag.object_id, diag.path, diag.message);
            goto out;
        }
    }
    cairn_diag_clear(&diag);
    if (cairn_observations_seal(set, &diag) != 0) {
        cli_error(&cli_cmd_pattern, "%s: %s: %s", diag.object_id, diag.path,
                  diag.message);
        goto out;
    }
    if (cairn_pattern_match(p, set, NULL, &res) != 0) {
        cli_error(&cli_cmd_pattern, "matching failed: out of memory");
        goto out;
    }
    if (as_json) {
        json_t *o = json_object(), *ids = json_array();
        for (size_t i = 0; i < res.n_indexes; i++) {
            const char *id = cairn_observations_id(set, res.indexes[i]);
            json_array_append_new(ids, id ? json_string(id) : json_null());
        }
        json_object_set_new(o, "matched", json_boolean(res.matched));
        json_object_set_new(o, "truncated", json_boolean(res.truncated));
        json_object_set_new(o, "invalid_values",
                            json_integer((json_int_t)res.n_invalid));
        json_object_set_new(o, "observations", ids);
        print_json(o);
        json_decref(o);
    } else {
        printf("%s\n", res.matched ? "matched" : "no match");
        for (size_t i = 0; i < res.n_indexes; i++) {
            const char *id = cairn_observations_id(set, res.indexes[i]);
            printf("%s\n", id ? id : "(no id)");
        }
        if (res.truncated)
            fprintf(stderr, "cairn pattern: search bounds reached; the "
                            "result may be incomplete\n");
    }
    rc = res.matched ? CLI_EXIT_OK : CLI_EXIT_FINDINGS;
    if (res.n_invalid > 0) {
        const char *id = cairn_observations_id(set, res.first_invalid);
        cli_error(&cli_cmd_pattern,
                  "%zu value%s compared with a timestamp %s not STIX "
                  "timestamps (the first in %s); those comparisons are false",
                  res.n_invalid, res.n_invalid == 1 ? "" : "s",
                  res.n_invalid == 1 ? "is" : "are", id ? id : "(no id)");
        rc = CLI_EXIT_ERROR;
    }
out:
    cairn_match_result_release(&res);
    cairn_observations_free(set);
    cairn_pattern_free(p);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        cli_error(&cli_cmd_pattern, "needs a subcommand: check or match; "
                                    "see 'cairn pattern --help'");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "match") == 0)
        return cmd_match(argc - 1, argv + 1);
    cli_error(&cli_cmd_pattern, "unknown subcommand '%s'; use check or match",
              argv[1]);
    return CLI_EXIT_ERROR;
}
