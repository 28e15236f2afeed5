/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn analyse`: DNS analysers over logs and lists of names. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_JSONL,
    OPT_STIX,
    OPT_FORMAT,
    OPT_INDICATOR,
    OPT_TLP,
    OPT_QUIET,
};

static const struct cli_option options[] = {
    [OPT_JSONL] = {0, "jsonl", NULL,
                   "print each finding as one JSON object a line"},
    [OPT_STIX] = {0, "stix", NULL,
                  "print the findings as a STIX 2.1 bundle: an identity per "
                  "victim, a sighting of the indicator per victim with its "
                  "queries as observed-data"},
    [OPT_FORMAT] = {'f', "format", "FORMAT",
                    "read every input as FORMAT: auto (the default), zeek, "
                    "json, csv or text"},
    [OPT_INDICATOR] = {0, "indicator", "ID",
                       "--stix: the sightings are of the indicator ID (for "
                       "example the hub's) instead of one written into the "
                       "bundle"},
    [OPT_TLP] = {0, "tlp", "LEVEL",
                 "--stix: the TLP level of what names a victim (clear, "
                 "green, amber, amber+strict, red; default red)"},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "no summary and no reports of malformed lines on "
                   "standard error"},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_analyse = {
    .name = "analyse",
    .synopsis = "ANALYSER [--jsonl | --stix] [-f FORMAT] [-q] PATH...",
    .summary = "Decode what malware hid in DNS names: victims of SUNBURST.",
    .description =
        "Runs an analyser over the DNS names in the PATHs: logs in every "
        "format cairn hunt reads (Zeek TSV and JSON, JSON lines, CSV, text; "
        "gzip and zstd) or plain lists of names, one a line; '-' is "
        "standard input. Every domain name in an event is a looked-up name; "
        "the addresses and names in a field called answers (Zeek's "
        "dns.log), answer, rdata or response are its answers.\n\n"
        "Analysers:\n\n"
        "  sunburst   SUNBURST's queries to *.appsync-api.REGION.avsvmcloud.com\n"
        "\n"
        "sunburst prints one row per victim, newest activity first: the "
        "victim's 8-byte id, its Active Directory domain as the implant "
        "sent it (complete, or partial with '\xe2\x80\xa6' where chunks were "
        "not seen), first and last seen, the number of queries, whether "
        "stage 2 was seen (a beacon's flag, an answer in a range that "
        "selects the victim, or a CNAME), and the state the last answer "
        "put the implant in (continue, terminate, stage2). Names under "
        "avsvmcloud.com that do not decode are counted, never an error. "
        "--jsonl adds the missing chunks, the CNAME, the products' status "
        "bits of NextStringEx beacons, region mismatches and up to 32 of "
        "the names themselves. See docs/analysers.md.",
    .options = options,
    .exit_status = "0 nothing found\n"
                   "1 findings (victims) were printed\n"
                   "2 usage, input/output or internal error",
    .examples = "$ cairn analyse sunburst /var/log/zeek/dns.log\n"
                "$ zcat dns.*.log.gz | cairn analyse sunburst --jsonl -\n"
                "$ cairn analyse sunburst --stix --indicator \"$ID\" "
                "names.txt > victims.json",
    .run = run,
};

struct args {
    bool jsonl, stix, quiet;
    const char *indicator;
    enum cairn_tlp tlp;
    struct cairn_telemetry_opts topts;
};

static void on_diag(const struct cairn_diag *d, void *ud)
{
    (void)ud;
    char line[1400];
    if (cairn_diag_format(d, line, sizeof line) >= 0)
        cli_print_line(line);
}

/* One input through the analyser: 0, or -1 after a message. */
static int analyse_path(struct cairn_analyser *an, const char *path,
                        const struct args *a)
{
    struct cairn_telemetry_reader *r = NULL;
    struct cairn_diag diag;
    struct cairn_hunt_event ev;
    cairn_diag_clear(&diag);
    int rc = cairn_telemetry_open(path, &a->topts, &r, &diag);
    if (rc < 0)
        goto fail;
    while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1)
        if ((rc = cairn_analyser_add_event(an, &ev)) < 0)
            break;
    cairn_telemetry_free(r);
    if (rc == 0)
        return 0;
fail:
    if (diag.message[0] != '\0') {
        char line[1400];
        if (cairn_diag_format(&diag, line, sizeof line) >= 0)
            cli_print_line(line);
    } else {
        cli_error(&cli_cmd_analyse, "%s: %s", path, cairn_strerror(rc));
    }
    return -1;
}

/* Columns a UTF-8 string takes: its characters, not its bytes. */
static int display_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void print_cell(json_t *v, int width, bool last)
{
    char buf[64];
    const char *s = buf;
    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        s = json_is_true(v) ? "yes" : "no";
    else
        s = "-";
    if (s[0] == '\0')
        s = "-";
    if (last)
        printf("%s\n", s);
    else
        printf("%s%*s  ", s, width > display_width(s) ? width - display_width(s) : 0,
               "");
}

static void print_table(const struct cairn_analyser_info *info, json_t *f)
{
    int width[16] = {0};
    size_t nc = info->n_columns < 16 ? info->n_columns : 16;
    for (size_t c = 0; c < nc; c++)
        width[c] = (int)strlen(info->columns[c].header);
    for (size_t i = 0; i < json_array_size(f); i++)
        for (size_t c = 0; c < nc; c++) {
            json_t *v = json_object_get(json_array_get(f, i),
                                        info->columns[c].key);
            int w = json_is_string(v) ? display_width(json_string_value(v))
                                      : 5;
            if (w > width[c])
                width[c] = w < 60 ? w : 60;
        }
    for (size_t c = 0; c < nc; c++) {
        if (c + 1 == nc)
            printf("%s\n", info->columns[c].header);
        else
            printf("%-*s  ", width[c], info->columns[c].header);
    }
    for (size_t i = 0; i < json_array_size(f); i++)
        for (size_t c = 0; c < nc; c++)
            print_cell(json_object_get(json_array_get(f, i),
                                       info->columns[c].key),
                       width[c], c + 1 == nc);
}

static int print_findings(struct cairn_analyser *an, const struct args *a)
{
    json_t *f = NULL;
    int rc = 0;
    if (a->stix) {
        struct cairn_analyser_stix_opts so = {
            .victim_marking_ref = cairn_tlp_marking_id(a->tlp),
            .indicator_ref = a->indicator,
        };
        rc = cairn_analyser_stix(an, &so, &f);
        if (rc == 0) {
            char *text = json_dumps(f, JSON_INDENT(2));
            if (text == NULL)
                rc = CAIRN_ENOMEM;
            else
                puts(text);
            cairn_free(text);
        }
    } else if ((rc = cairn_analyser_findings(an, &f)) == 0) {
        if (a->jsonl) {
            for (size_t i = 0; i < json_array_size(f) && rc == 0; i++) {
                char *line = json_dumps(json_array_get(f, i), JSON_COMPACT);
                if (line == NULL)
                    rc = CAIRN_ENOMEM;
                else
                    puts(line);
                cairn_free(line);
            }
        } else if (json_array_size(f) > 0) {
            print_table(cairn_analyser_info(an), f);
        }
    }
    json_decref(f);
    if (rc < 0) {
        cli_error(&cli_cmd_analyse, "%s", cairn_strerror(rc));
        return -1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(&cli_cmd_analyse, "cannot write the findings");
        return -1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_analyse;
    struct args a = {.tlp = CAIRN_TLP_RED};
    struct cairn_analyser *an = NULL;
    int idx, status = CLI_EXIT_ERROR;
    const char *arg;

    cairn_telemetry_opts_init(&a.topts);
    a.topts.on_diag = on_diag;
    while ((idx = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (idx) {
        case OPT_JSONL:
            a.jsonl = true;
            break;
        case OPT_STIX:
            a.stix = true;
            break;
        case OPT_FORMAT:
            if (cairn_telemetry_format_parse(arg, &a.topts.format) < 0) {
                cli_error(cmd, "--format: '%s' is not auto, zeek, json, "
                          "csv or text", arg);
                return CLI_EXIT_ERROR;
            }
            break;
        case OPT_INDICATOR:
            if (!cairn_stix_id_check(arg, "indicator")) {
                cli_error(cmd, "--indicator: '%s' is not an indicator id",
                          arg);
                return CLI_EXIT_ERROR;
            }
            a.indicator = arg;
            break;
        case OPT_TLP:
            a.tlp = cairn_tlp_from_name(arg);
            if (a.tlp == CAIRN_TLP_NONE) {
                cli_error(cmd, "--tlp: '%s' is not clear, green, amber, "
                          "amber+strict or red", arg);
                return CLI_EXIT_ERROR;
            }
            break;
        case OPT_QUIET:
            a.quiet = true;
            break;
        }
    }
    if (idx == -2)
        return CLI_EXIT_ERROR;
    if (a.jsonl && a.stix) {
        cli_error(cmd, "--jsonl and --stix cannot be used together");
        return CLI_EXIT_ERROR;
    }
    if ((a.indicator != NULL) && !a.stix) {
        cli_error(cmd, "--indicator goes with --stix");
        return CLI_EXIT_ERROR;
    }
    if (optind >= argc) {
        cli_error(cmd, "which analyser? (sunburst)");
        return CLI_EXIT_ERROR;
    }
    const char *name = argv[optind++];
    int rc = cairn_analyser_new(name, &an);
    if (rc == CAIRN_ENOTFOUND) {
        const struct cairn_analyser_info *const *list;
        size_t n = cairn_analyser_list(&list);
        cli_error(cmd, "no analyser '%s'; there %s:", name,
                  n == 1 ? "is" : "are");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  %-10s %s\n", list[i]->name, list[i]->summary);
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        cli_error(cmd, "%s", cairn_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (optind >= argc) {
        cli_error(cmd, "no PATH to read (use '-' for standard input)");
        goto out;
    }
    if (a.quiet)
        a.topts.on_diag = NULL;

    bool failed = false;
    for (int i = optind; i < argc; i++)
        if (analyse_path(an, argv[i], &a) < 0)
            failed = true;
    if (print_findings(an, &a) < 0)
        goto out;

    struct cairn_analyser_stats st;
    cairn_analyser_get_stats(an, &st);
    if (!a.quiet)
        fprintf(stderr,
                "%s: %llu names, %llu under its domains, %llu decoded, "
                "%llu undecodable: %llu finding%s\n",
                name, (unsigned long long)st.names,
                (unsigned long long)st.relevant,
                (unsigned long long)st.decoded,
                (unsigned long long)st.undecodable,
                (unsigned long long)st.findings, st.findings == 1 ? "" : "s");
    status = failed              ? CLI_EXIT_ERROR
             : st.findings > 0 ? CLI_EXIT_FINDINGS
                               : CLI_EXIT_OK;
out:
    cairn_analyser_free(an);
    return status;
}
