/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn export`: the indicators of collections in a sensor's format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "cairn/export.h"
#include "cairn/store.h"
#include "admin.h"
#include "cli.h"

#define MAX_SKIPS_SHOWN 20

enum {
    OPT_FORMAT,
    OPT_COLLECTION,
    OPT_TYPE,
    OPT_OUTPUT,
    OPT_STATE,
    OPT_SOURCE,
    OPT_ZONE,
    OPT_MIN_SCORE,
    OPT_WARNINGLISTS,
    OPT_INCLUDE_WARNINGLISTED,
    OPT_DATA,
    OPT_QUIET,
};

static const struct cli_option options[] = {
    [OPT_FORMAT] = {'f', "format", "FORMAT",
                    "zeek-intel, suricata, snort, rpz, yara, csv, misp or "
                    "stix (required)."},
    [OPT_COLLECTION] = {0, "collection", "ID",
                        "Export the indicators of store collection ID (the "
                        "latest version of each). May be repeated; at least "
                        "one."},
    [OPT_TYPE] = {0, "type", "TYPE",
                  "Export only values of TYPE: domain, ipv4, ipv6, url, "
                  "email, md5, sha1, sha256, sha512, filename, regkey, or "
                  "yara. May be repeated."},
    [OPT_OUTPUT] = {'o', "output", "FILE",
                    "Write FILE atomically (a temporary file renamed) "
                    "instead of standard output."},
    [OPT_STATE] = {0, "state", "FILE",
                   "Keep the Suricata and Snort sids and the RPZ serial in "
                   "FILE between runs (read, then rewritten)."},
    [OPT_SOURCE] = {0, "source", "NAME",
                    "Zeek meta.source and MISP organisation (default: "
                    "cairn)."},
    [OPT_ZONE] = {0, "zone", "NAME",
                  "The name the resolver loads the RPZ zone as (default: "
                  "rpz.cairn.): owner names are relative to it, and a name "
                  "too long under it is left out."},
    [OPT_MIN_SCORE] = {0, "min-score", "N",
                       "Export only indicators whose score is at least N "
                       "(0 to 100; the score of 'cairn report', without "
                       "sightings: docs/export.md)."},
    [OPT_WARNINGLISTS] = CLI_WARNINGLISTS_OPTION,
    [OPT_INCLUDE_WARNINGLISTED] = {0, "include-warninglisted", NULL,
                                   "Export values on a warninglist too (by "
                                   "default they are left out, and said "
                                   "so)."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print no summary and no list of what was left out."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_export = {
    .name = "export",
    .synopsis = "--format FORMAT --collection ID... [--type TYPE]... "
                "[--min-score N] [--warninglists PATH] [-o FILE] "
                "[--state FILE]",
    .summary = "Write indicators for Zeek, Suricata, Snort, RPZ, YARA, CSV, "
               "MISP.",
    .description =
        "Reads the latest version of every indicator of the store "
        "collections and writes them as the consumer of FORMAT reads "
        "them:\n\n"
        "  zeek-intel  Zeek intel framework file (#fields, Intel::DOMAIN,\n"
        "              ADDR, SUBNET, URL, EMAIL, FILE_HASH, FILE_NAME)\n"
        "  suricata    Suricata rules: DNS query, TLS SNI and HTTP host\n"
        "              (domain and subdomains), HTTP URL, IP addresses\n"
        "  snort       Snort 2.9 rules: DNS query, HTTP host, URL, IP\n"
        "  rpz         DNS response policy zone: the domain and *.domain,\n"
        "              IP triggers (rpz-ip), NXDOMAIN\n"
        "  yara        the rules of pattern_type yara indicators, renamed\n"
        "              apart and compiled with libyara\n"
        "  csv         type,value,indicator_id,name,score,valid_until\n"
        "  misp        one MISP event (JSON) with an attribute per value\n"
        "  stix        a STIX 2.1 bundle of the indicators\n\n"
        "Revoked and expired indicators are left out, and so are values on "
        "a warninglist (--warninglists, else $CAIRN_WARNINGLISTS; an "
        "indicator with no other value is left out whole) unless "
        "--include-warninglisted, and indicators scoring below "
        "--min-score. Indicators the format "
        "cannot express (a pattern that is more than a list of values, a "
        "value type the format has no rule for) are left out too, and "
        "listed on standard error with the reason; the summary counts "
        "them. Sids stay the same for the same indicator and value when "
        "--state keeps them, and rev is raised when the indicator changes. "
        "A server rewrites exports by itself: see the [export NAME] "
        "sections in 'cairn help serve' and docs/export.md.",
    .options = options,
    .exit_status = "0 every indicator read was written (or left out as "
                   "revoked, expired or filtered)\n"
                   "1 written, but some indicators could not be expressed "
                   "in FORMAT (listed)\n"
                   "2 usage, store or I/O error",
    .examples = "$ cairn export --format rpz --collection ID -o /etc/unbound/"
                "cairn.rpz\n"
                "$ cairn export -f suricata --collection ID --state sids "
                "-o cairn.rules\n"
                "$ cairn export --format csv --collection ID --type domain\n"
                "$ cairn export -f rpz --collection ID --min-score 40 "
                "--warninglists wl/",
    .run = run,
};

#define CMD (&cli_cmd_export)

struct skips {
    size_t n;
    bool quiet;
};

static void on_skip(const char *id, const char *why, void *ud)
{
    struct skips *s = ud;
    char line[600];

    if (!s->quiet && s->n < MAX_SKIPS_SHOWN) {
        snprintf(line, sizeof line, "cairn export: %s: %s", id, why);
        cli_print_line(line);
    }
    s->n++;
}

static int run(int argc, char **argv)
{
    const char **collections = cairn_calloc((size_t)argc + 1, sizeof(char *));
    const char **types = cairn_calloc((size_t)argc + 1, sizeof(char *));
    size_t n_coll = 0, n_types = 0;
    const char *format = NULL, *output = NULL, *state = NULL, *source = NULL,
               *zone = NULL, *data = NULL, *wl_path = NULL;
    bool quiet = false, include_listed = false;
    int min_score = 0;
    struct cairn_warninglists *wl = NULL;
    struct cairn_store *store = NULL;
    struct cairn_export *ex = NULL;
    struct cairn_export_stats st;
    struct skips sk = {0};
    int ret = CLI_EXIT_ERROR;
    const char *arg;
    int o;

    if (collections == NULL || types == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    while ((o = cli_getopt(CMD, argc, argv, &arg)) >= 0) {
        switch (o) {
        case OPT_FORMAT:
            format = arg;
            break;
        case OPT_COLLECTION:
            collections[n_coll++] = arg;
            break;
        case OPT_TYPE:
            types[n_types++] = arg;
            break;
        case OPT_OUTPUT:
            output = arg;
            break;
        case OPT_STATE:
            state = arg;
            break;
        case OPT_SOURCE:
            source = arg;
            break;
        case OPT_ZONE:
            zone = arg;
            break;
        case OPT_MIN_SCORE: {
            char *end;
            unsigned long v = strtoul(arg, &end, 10);
            if (*arg < '0' || *arg > '9' || *end != '\0' || v > 100) {
                cli_error(CMD, "--min-score needs a number from 0 to 100");
                goto out;
            }
            min_score = (int)v;
            break;
        }
        case OPT_WARNINGLISTS:
            wl_path = arg;
            break;
        case OPT_INCLUDE_WARNINGLISTED:
            include_listed = true;
            break;
        case OPT_DATA:
            data = arg;
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        default:
            break;
        }
    }
    if (o == -2)
        goto out;
    if (optind < argc) {
        cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    struct cairn_export_opts eo = {
        .collections = collections,
        .n_collections = n_coll,
        .types = types,
        .n_types = n_types,
        .state_path = state,
        .source = source,
        .zone = zone,
        .include_warninglisted = include_listed,
        .min_score = min_score,
        .once = true, /* one file: nothing kept for a rewrite */
    };
    if (format == NULL ||
        cairn_export_format_parse(format, &eo.format) != 0) {
        cli_error(CMD, "--format %s: give one of zeek-intel, suricata, "
                       "snort, rpz, yara, csv, misp, stix",
                  format != NULL ? format : "is required");
        goto out;
    }
    if (n_coll == 0) {
        cli_error(CMD, "no collection: give --collection ID");
        goto out;
    }
    if (cli_warninglists_load(CMD, wl_path, &wl) < 0)
        goto out;
    eo.warninglists = wl;
    struct cairn_diag d;
    cairn_diag_clear(&d);
    int rc = cairn_export_new(&eo, &ex, &d);
    if (rc != 0) {
        char msg[700];
        if (d.message[0] != '\0') {
            cairn_diag_format(&d, msg, sizeof msg);
            cli_error(CMD, "%s", msg);
        } else {
            cli_error(CMD, "%s", cairn_strerror(rc));
        }
        goto out;
    }
    if (cli_store_open(CMD, data, false, &store) != 0)
        goto out;
    for (size_t i = 0; i < n_coll; i++) {
        struct cairn_store_collection *c = NULL;
        if (cairn_store_collection_get(store, NULL, collections[i], &c) !=
            0) {
            cli_error(CMD, "collection %s: no such collection",
                      collections[i]);
            goto out;
        }
        cairn_store_collection_free(c);
    }
    rc = cairn_export_update(ex, store, NULL);
    if (rc != 0) {
        cli_error(CMD, "cannot read the store: %s", cairn_strerror(rc));
        goto out;
    }
    sk.quiet = quiet;
    /* straight into the file (or standard output) in large writes */
    if (output != NULL) {
        rc = cairn_export_write(ex, NULL, output, NULL, &st, on_skip, &sk);
    } else {
        fflush(stdout);
        rc = cairn_export_render_fd(ex, NULL, STDOUT_FILENO, NULL, &st,
                                    on_skip, &sk);
    }
    if (rc == CAIRN_EIO) {
        cli_error(CMD, "%s: cannot write the file",
                  output != NULL ? output : "standard output");
        goto out;
    }
    if (rc != 0) {
        cli_error(CMD, "cannot export: %s", cairn_strerror(rc));
        goto out;
    }
    if (!quiet) {
        if (sk.n > MAX_SKIPS_SHOWN)
            fprintf(stderr, "cairn export: ... and %zu more left out\n",
                    sk.n - MAX_SKIPS_SHOWN);
        char more[200] = "";
        size_t ml = 0;
        if (wl != NULL && !include_listed)
            ml += (size_t)snprintf(more, sizeof more,
                                   ", %zu warninglisted (%zu values)",
                                   st.warninglisted,
                                   st.warninglisted_values);
        if (min_score > 0 && ml < sizeof more)
            (void)snprintf(more + ml, sizeof more - ml,
                           ", %zu below score %d", st.low_score, min_score);
        fprintf(stderr,
                "cairn export: %s: %zu entries from %zu of %zu indicators; "
                "%zu unsupported, %zu in part, %zu revoked, %zu expired, "
                "%zu filtered%s\n",
                cairn_export_format_name(eo.format), st.entries, st.exported,
                st.indicators, st.unsupported, st.partial, st.revoked,
                st.expired, st.filtered, more);
    }
    ret = st.unsupported > 0 || st.partial > 0 ? CLI_EXIT_FINDINGS
                                                : CLI_EXIT_OK;
out:
    cairn_export_free(ex);
    cairn_warninglists_free(wl);
    cairn_store_close(store);
    cairn_free(collections);
    cairn_free(types);
    return ret;
}
