/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt`: find indicators in logs and files; report hits, sightings. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "cairn/hunt.h"
#include "cairn/store.h"
#include "cairn/telemetry.h"
#include "admin.h"
#include "cli.h"
#include "hunt_int.h"

#define MAX_SOURCE      ((size_t)4 << 30) /* one indicator file */
#define MAX_THREADS     256
#define MAX_SKIPS_SHOWN 20 /* skipped indicators listed one by one */
#define SPLIT_DEFAULT   ((size_t)64 << 20) /* part of a large file */

enum {
    OPT_INPUT,
    OPT_COLLECTION,
    OPT_DATA,
    OPT_FILES,
    OPT_FORMAT,
    OPT_JSONL,
    OPT_STIX,
    OPT_ORG,
    OPT_SIGHTINGS,
    OPT_SIGHTINGS_INTO,
    OPT_SIGN,
    OPT_THREADS,
    OPT_SPLIT,
    OPT_MAX_LINE,
    OPT_NO_PROGRESS,
    OPT_QUIET,
    OPT_WARNINGLISTS,
    OPT_INCLUDE_WARNINGLISTED,
};

static const struct cli_option options[] = {
    [OPT_INPUT] = {'i', "indicators", "FILE",
                   "Read indicators from FILE: a STIX bundle (its indicator "
                   "objects) or a plain list of values, told apart by "
                   "content; '-' for standard input. May be repeated."},
    [OPT_COLLECTION] = {0, "collection", "ID",
                        "Read the indicators of store collection ID (the "
                        "latest version of each). May be repeated."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_FILES] = {0, "files", "DIR",
                   "Hash every regular file under DIR (MD5, SHA-1, SHA-256) "
                   "against file indicators, and run YARA indicators over "
                   "them. May be repeated."},
    [OPT_FORMAT] = {0, "format", "FORMAT",
                    "Read every log as FORMAT: auto (the default: detected "
                    "per file), zeek, json, csv or text."},
    [OPT_JSONL] = {0, "jsonl", NULL,
                   "Print one JSON object per hit instead of text."},
    [OPT_STIX] = {0, "stix", NULL,
                  "Print only the STIX bundle of sightings, at the end."},
    [OPT_ORG] = {0, "org", "NAME",
                 "The organisation that sighted the hits, named in the "
                 "sightings' identity (default: the host name)."},
    [OPT_SIGHTINGS] = {0, "sightings", "FILE",
                       "Also write the STIX bundle of sightings to FILE."},
    [OPT_SIGHTINGS_INTO] = {0, "sightings-into", "ID",
                            "Also store the sightings and their identity in "
                            "store collection ID."},
    [OPT_SIGN] = {0, "sign", "KEY",
                  "Sign the sightings and their identity with key KEY "
                  "(DATA/keys/KEY.key, or a file) before they are written "
                  "(--stix, --sightings) or stored (--sightings-into); "
                  "docs/signing.md."},
    [OPT_THREADS] = {'j', "threads", "N",
                     "Hunt N files at a time (default: the number of "
                     "processors)."},
    [OPT_SPLIT] = {0, "split", "SIZE",
                   "Read an uncompressed log of more than twice SIZE in "
                   "parts of SIZE with several threads (default 64M; 0: "
                   "never)."},
    [OPT_MAX_LINE] = {0, "max-line", "SIZE",
                      "Skip, and count as malformed, log lines longer than "
                      "SIZE bytes (default 1M)."},
    [OPT_NO_PROGRESS] = {0, "no-progress", NULL,
                         "Do not show the progress line on a terminal."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print no progress, summary or warnings; errors only."},
    [OPT_WARNINGLISTS] = CLI_WARNINGLISTS_OPTION,
    [OPT_INCLUDE_WARNINGLISTED] = {0, "include-warninglisted", NULL,
                                   "Hunt indicators with a value on a "
                                   "warninglist too (by default they are "
                                   "not hunted, and said so)."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_hunt = {
    .name = "hunt",
    .synopsis = "[-i FILE]... [--collection ID]... [--files DIR]... "
                "[--jsonl | --stix] [--threads N] [OPTIONS] [PATH...]",
    .summary = "Find indicators in logs and files, and report sightings.",
    .description =
        "Loads indicators from the -i sources and store collections, then "
        "reads each PATH: a log file, or a directory whose regular files "
        "are read recursively in name order; '-', or no PATH at all, reads "
        "standard input (unless only --files is given). Zeek TSV and JSON "
        "logs, JSON lines, CSV with a header and plain text are told apart "
        "by content, gzip and zstd files are decompressed on the fly.\n\n"
        "A domain indicator matches the domain and its subdomains, an "
        "address matches CIDR indicators, domains, hashes and email "
        "addresses compare without regard to case and URLs are normalised. "
        "Revoked and expired indicators are skipped; indicators that cannot "
        "be hunted are reported on standard error with the reason. Patterns "
        "with several observations or qualifiers are confirmed with the "
        "pattern evaluator once every input has been read; their hits are "
        "printed last.\n\n"
        "Each hit names the place (FILE:LINE, or FILE@OFFSET for --files), "
        "the value found, the indicator's id and name and the event's time. "
        "On a terminal the hits form a table; otherwise each is one line of "
        "tab-separated cells:\n\n"
        "  FILE:LINE <tab> VALUE <tab> INDICATOR-ID <tab> NAME <tab> TIME\n\n"
        "with '-' for a missing name or time. --jsonl prints objects with "
        "the keys indicator, name, type, value, file, line, offset, field "
        "and ts. Hits are printed in the order of the inputs, then of their "
        "lines, whatever the number of threads; a large uncompressed log is "
        "read in parts by several threads (--split).\n\n"
        "The hits are also summed up per indicator in STIX 2.1 sightings "
        "(count, first_seen, last_seen, where_sighted_refs naming the --org "
        "identity): --stix prints that bundle, --sightings writes it to a "
        "file, --sightings-into stores it. Malformed lines are counted, the "
        "first few reported with their line numbers, and the reading goes "
        "on; an input that cannot be read is reported and the next one is "
        "read. See docs/hunt.md.",
    .options = options,
    .exit_status = "0 every input was read and nothing matched\n"
                   "1 every input was read and something matched\n"
                   "2 usage error, no indicator that can be hunted, or an "
                   "input that could not be read (then hits found in the "
                   "others are still printed)",
    .examples = "$ cairn hunt -i sunburst.json /var/log/zeek/\n"
                "$ cairn hunt -i iocs.txt --jsonl proxy.log.gz | jq .value\n"
                "$ zcat dns.log.gz | cairn hunt -i iocs.txt --stix > s.json\n"
                "$ cairn hunt --collection ID --files /srv/uploads",
    .run = run,
};

#define CMD (&cli_cmd_hunt)

/* ---- messages ------------------------------------------------------------ */

/*
 * Every line on standard error goes through here, so that messages from
 * worker threads do not mix and the progress line is wiped before one.
 */
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static bool progress_shown;

__attribute__((format(printf, 1, 0)))
static void vmsg(const char *fmt, va_list ap)
{
    pthread_mutex_lock(&err_mu);
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = false;
    }
    fputs("cairn hunt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&err_mu);
}

__attribute__((format(printf, 1, 2))) static void msg(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

/* The shared hunt helpers' messages. */
static void say_text(const char *text)
{
    msg("%s", text);
}

/* What the library's callbacks share: how to print, what was skipped. */
struct hunt_cli {
    bool quiet;
    enum hunt_format fmt;
    size_t revoked, expired, unsupported, invalid, warninglisted;
    size_t shown; /* skipped indicators reported */
};

/* Messages from the library: warnings are dropped by --quiet. */
static void on_msg(enum cairn_severity sev, const char *text, void *ud)
{
    const struct hunt_cli *hc = ud;

    if (sev == CAIRN_SEV_WARNING && hc->quiet)
        return;
    msg("%s", text);
}

/* ---- indicators ---------------------------------------------------------- */

static void on_skip(const struct cairn_hunt_skip *s, void *ud)
{
    struct hunt_cli *lc = ud;

    switch (s->reason) {
    case CAIRN_HUNT_SKIP_REVOKED:
        lc->revoked++;
        return;
    case CAIRN_HUNT_SKIP_EXPIRED:
        lc->expired++;
        return;
    case CAIRN_HUNT_SKIP_UNSUPPORTED:
        lc->unsupported++;
        break;
    case CAIRN_HUNT_SKIP_INVALID:
        lc->invalid++;
        break;
    case CAIRN_HUNT_SKIP_WARNINGLISTED:
        lc->warninglisted++;
        break;
    }
    if (lc->quiet || lc->shown++ >= MAX_SKIPS_SHOWN)
        return;
    if (s->indicator_id != NULL)
        msg("%s: not hunted: %s", s->indicator_id, s->message);
    else if (s->source != NULL)
        msg("%s:%llu: not hunted: %s", s->source, (unsigned long long)s->line,
            s->message);
    else
        msg("not hunted: %s", s->message);
}

static int load_source(struct cairn_hunt_builder *b, const char *path,
                       struct hunt_cli *hc)
{
    struct cli_file f;

    if (cli_file_load(CMD, path, MAX_SOURCE, &f) != 0)
        return CAIRN_EIO;
    const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
    int rc = cairn_hunt_builder_add_source(b, f.data, f.len, name, on_msg, hc);
    cli_file_release(&f);
    return rc;
}

/* ---- sightings out ------------------------------------------------------ */

/* Sign the bundle's objects in place, and add the extension's definition. */
static int sign_bundle(json_t *bundle, const struct cairn_sign_key *signer)
{
    json_t *objs = json_object_get(bundle, "objects");
    json_t *def = NULL;
    size_t i;
    json_t *o;

    json_array_foreach(objs, i, o)
    {
        int rc = cairn_sign_object(o, signer, NULL);
        if (rc < 0)
            return rc;
    }
    if (json_array_size(objs) == 0)
        return 0;
    int rc = cairn_sign_extension_definition(&def);
    if (rc == 0 && json_array_append_new(objs, def) != 0)
        rc = CAIRN_ENOMEM;
    return rc;
}

/* ---- output and progress ------------------------------------------------ */

static int on_hit(const struct cairn_hunt_report *hit, struct cairn_buf *out,
                  void *ud)
{
    const struct hunt_cli *hc = ud;

    return hunt_format_hit(hc->fmt, hit, out);
}

static void clear_progress(void);

static int on_output(const char *data, size_t len, void *ud)
{
    (void)ud;
    /* Hits on a terminal start on a line of their own. */
    clear_progress();
    return fwrite(data, 1, len, stdout) == len ? 0 : CAIRN_EIO;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void show_progress(const struct cairn_hunt_job_stats *st, void *ud)
{
    char b[32];
    double secs = st->scan_seconds;

    (void)ud;
    human_bytes(st->bytes, b, sizeof b);
    pthread_mutex_lock(&err_mu);
    fprintf(stderr, "\r\033[K%s, %llu lines, %.0f MB/s, %llu hits", b,
            (unsigned long long)st->lines,
            secs > 0 ? (double)st->bytes / 1e6 / secs : 0.0,
            (unsigned long long)st->hits);
    progress_shown = true;
    pthread_mutex_unlock(&err_mu);
}

static void clear_progress(void)
{
    pthread_mutex_lock(&err_mu);
    if (progress_shown)
        fputs("\r\033[K", stderr);
    progress_shown = false;
    pthread_mutex_unlock(&err_mu);
}

/* ---- the command --------------------------------------------------------- */

struct args {
    const char **inputs;
    size_t n_inputs;
    const char **collections;
    size_t n_collections;
    const char **files;
    size_t n_files;
    const char *data;
    const char *org;
    const char *sightings;
    const char *sightings_into;
    const char *sign;
    enum cairn_telemetry_format format;
    bool jsonl, stix, quiet, no_progress, include_warninglisted;
    const char *warninglists;
    unsigned threads;
    size_t max_line;
    size_t split;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    const char *arg;
    int opt;

    while ((opt = cli_getopt(CMD, argc, argv, &arg)) != -1) {
        char *end = NULL;
        long v;
        switch (opt) {
        case -2:
            return -1;
        case OPT_INPUT:
            a->inputs[a->n_inputs++] = arg;
            break;
        case OPT_COLLECTION:
            a->collections[a->n_collections++] = arg;
            break;
        case OPT_FILES:
            a->files[a->n_files++] = arg;
            break;
        case OPT_DATA:
            a->data = arg;
            break;
        case OPT_FORMAT:
            if (cairn_telemetry_format_parse(arg, &a->format) < 0) {
                cli_error(CMD,
                          "--format: '%s' is not auto, zeek, json, csv or "
                          "text",
                          arg);
                return -1;
            }
            break;
        case OPT_JSONL:
            a->jsonl = true;
            break;
        case OPT_STIX:
            a->stix = true;
            break;
        case OPT_ORG:
            a->org = arg;
            break;
        case OPT_SIGHTINGS:
            a->sightings = arg;
            break;
        case OPT_SIGN:
            a->sign = arg;
            break;
        case OPT_SIGHTINGS_INTO:
            a->sightings_into = arg;
            break;
        case OPT_THREADS:
            errno = 0;
            v = strtol(arg, &end, 10);
            if (errno != 0 || end == arg || *end != '\0' || v < 1 ||
                v > MAX_THREADS) {
                cli_error(CMD, "--threads: '%s' is not a number from 1 to %d",
                          arg, MAX_THREADS);
                return -1;
            }
            a->threads = (unsigned)v;
            break;
        case OPT_SPLIT:
            if (cli_parse_size(arg, &a->split) < 0) {
                cli_error(CMD, "--split: '%s' is not a size such as 64M", arg);
                return -1;
            }
            if (a->split > 0 && a->split < 4096)
                a->split = 4096;
            break;
        case OPT_MAX_LINE:
            if (cli_parse_size(arg, &a->max_line) < 0 || a->max_line == 0) {
                cli_error(CMD, "--max-line: '%s' is not a size such as 1M",
                          arg);
                return -1;
            }
            break;
        case OPT_NO_PROGRESS:
            a->no_progress = true;
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_WARNINGLISTS:
            a->warninglists = arg;
            break;
        case OPT_INCLUDE_WARNINGLISTED:
            a->include_warninglisted = true;
            break;
        default:
            return -1;
        }
    }
    if (a->jsonl && a->stix) {
        cli_error(CMD, "--jsonl and --stix exclude each other");
        return -1;
    }
    if (a->n_inputs == 0 && a->n_collections == 0) {
        cli_error(CMD, "no indicators: give -i FILE or --collection ID; see "
                       "'cairn hunt --help'");
        return -1;
    }
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int run(int argc, char **argv)
{
    struct args a = {.format = CAIRN_TELEMETRY_AUTO, .split = SPLIT_DEFAULT};
    struct hunt_cli hc = {.fmt = HUNT_OUT_TEXT};
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_hunt_job *job = NULL;
    struct cairn_hunt_sightings *sightings = NULL;
    struct cairn_hunt_input *logs = NULL;
    struct cairn_hunt_job_stats st = {0};
    struct cairn_store *store = NULL;
    struct cairn_sign_key *signer = NULL;
    struct cairn_warninglists *wl = NULL;
    json_t *bundle = NULL;
    char host[256];
    unsigned errors = 0;
    int rc = CLI_EXIT_ERROR;
    double start = now_s();

    a.inputs = cairn_calloc((size_t)argc, sizeof *a.inputs);
    a.collections = cairn_calloc((size_t)argc, sizeof *a.collections);
    a.files = cairn_calloc((size_t)argc, sizeof *a.files);
    logs = cairn_calloc((size_t)argc + 1, sizeof *logs);
    if (a.inputs == NULL || a.collections == NULL || a.files == NULL ||
        logs == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    if (parse_args(argc, argv, &a) < 0)
        goto out;
    int n_paths = argc - optind;
    for (int i = optind; i < argc; i++) {
        for (size_t k = 0; k < a.n_inputs; k++) {
            if (strcmp(argv[i], "-") == 0 && strcmp(a.inputs[k], "-") == 0) {
                cli_error(CMD, "standard input cannot hold both indicators "
                               "and a log");
                goto out;
            }
        }
    }
    bool stdin_default = a.n_files == 0;
    for (size_t k = 0; stdin_default && n_paths == 0 && k < a.n_inputs; k++) {
        if (strcmp(a.inputs[k], "-") == 0) {
            cli_error(CMD, "indicators come from standard input (-i -): "
                           "name the logs to hunt");
            goto out;
        }
    }
    hc.quiet = a.quiet;

    /* The indicators. */
    struct cairn_hunt_builder_opts bopts = {.skip_cb = on_skip, .ud = &hc};
    if (!a.include_warninglisted &&
        cli_warninglists_load(CMD, a.warninglists, &wl) < 0)
        goto out;
    bopts.warninglists = wl;
    if (cairn_hunt_builder_new(&bopts, &b) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < a.n_inputs; i++) {
        if (load_source(b, a.inputs[i], &hc) < 0)
            goto out;
    }
    if (a.sign != NULL && a.sightings_into == NULL && a.sightings == NULL &&
        !a.stix) {
        cli_error(CMD, "--sign is for --stix, --sightings and "
                       "--sightings-into");
        goto out;
    }
    if (a.sign != NULL && cli_key_load(CMD, a.data, a.sign, &signer) < 0)
        goto out;
    if (a.n_collections > 0 || a.sightings_into != NULL) {
        if (cli_store_open(CMD, a.data, false, &store) != 0)
            goto out;
    }
    for (size_t i = 0; i < a.n_collections; i++) {
        if (cairn_hunt_builder_add_collection(b, store, a.collections[i],
                                              on_msg, &hc) < 0)
            goto out;
    }
    double t0 = now_s();
    double load_s = t0 - start;
    int err = cairn_hunt_builder_build(b, &set);
    double compile_s = now_s() - t0;
    cairn_hunt_builder_free(b);
    b = NULL;
    if (err < 0) {
        cli_error(CMD, "cannot compile the indicators: %s",
                  cairn_strerror(err));
        goto out;
    }
    struct cairn_hunt_set_stats ss;
    cairn_hunt_set_get_stats(set, &ss);

    /* The job: YARA rules are compiled for --files. */
    bool want_sightings = a.stix || a.sightings || a.sightings_into;
    hc.fmt = a.stix                ? HUNT_OUT_NONE
             : a.jsonl             ? HUNT_OUT_JSONL
             : cli_stdout_is_tty() ? HUNT_OUT_TABLE
                                   : HUNT_OUT_TEXT;
    if (want_sightings) {
        const char *org = a.org;
        if (org == NULL) {
            if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
                snprintf(host, sizeof host, "localhost");
            host[sizeof host - 1] = '\0';
            org = host;
        }
        if (cairn_hunt_sightings_new(org, NULL, &sightings) < 0) {
            cli_error(CMD, "out of memory");
            goto out;
        }
    }
    struct cairn_hunt_job_opts jo = {
        .set = set,
        .files = a.n_files > 0,
        .threads = a.threads ? a.threads : default_threads(),
        .split = a.split,
        .sightings = sightings,
        .on_hit = on_hit,
        .on_output = on_output,
        .on_msg = on_msg,
        .on_skip = on_skip,
        .ud = &hc,
    };
    cairn_telemetry_opts_init(&jo.telemetry);
    jo.telemetry.format = a.format;
    jo.telemetry.max_line = a.max_line;
    if (a.quiet)
        jo.telemetry.max_reported = 1; /* reports are dropped in on_msg */
    if (!a.quiet && !a.no_progress && isatty(STDERR_FILENO) == 1)
        jo.on_progress = show_progress;
    err = cairn_hunt_job_new(&jo, &job);
    if (err < 0) {
        cli_error(CMD, "YARA: %s", cairn_strerror(err));
        goto out;
    }
    size_t n_yara = cairn_hunt_job_yara_count(job);
    size_t skipped = hc.revoked + hc.expired + hc.unsupported + hc.invalid;
    if (!a.quiet && hc.shown > MAX_SKIPS_SHOWN)
        msg("... and %zu more indicators not hunted",
            hc.shown - MAX_SKIPS_SHOWN);
    if (ss.indicators == 0 && n_yara == 0) {
        cli_error(CMD,
                  "no indicator that can be hunted (%zu skipped: %zu revoked, "
                  "%zu expired, %zu not huntable, %zu invalid)",
                  skipped, hc.revoked, hc.expired, hc.unsupported, hc.invalid);
        goto out;
    }
    if (!a.quiet && a.n_files == 0 && cairn_hunt_set_yara_count(set) > 0)
        msg("%zu YARA indicators are hunted in files only (--files)",
            cairn_hunt_set_yara_count(set));

    /* The inputs: the --files trees first, then the logs in order. */
    size_t n_logs = 0;
    if (n_paths == 0 && stdin_default)
        logs[n_logs++].path = "-";
    for (int i = optind; i < argc; i++)
        logs[n_logs++].path = argv[i];
    if (hc.fmt == HUNT_OUT_TABLE) {
        struct cairn_buf hb;
        cairn_buf_init(&hb, 4096);
        if (hunt_format_table_header(&hb) == 0)
            fwrite(hb.data, 1, hb.len, stdout);
        cairn_buf_release(&hb);
    }
    if (cairn_hunt_job_run(job, logs, n_logs, a.files, a.n_files, &st) < 0)
        goto out;
    errors = st.errors;
    clear_progress();

    if (want_sightings) {
        int brc = cairn_hunt_sightings_to_bundle(sightings, &bundle);
        if (brc == 0 && signer != NULL)
            brc = sign_bundle(bundle, signer);
        if (brc < 0) {
            msg("sightings: %s", cairn_strerror(brc));
            errors++;
        } else {
            if (a.stix && hunt_write_bundle(bundle, "-", say_text) < 0)
                errors++;
            if (a.sightings &&
                hunt_write_bundle(bundle, a.sightings, say_text) < 0)
                errors++;
            if (a.sightings_into &&
                hunt_store_bundle(store, a.sightings_into, bundle, signer,
                                  say_text) < 0)
                errors++;
        }
    }
    if (fflush(stdout) != 0 || st.output_failed) {
        msg("cannot write the hits to standard output");
        errors++;
    }

    if (!a.quiet) {
        char bytes[32];
        double secs = now_s() - start;
        human_bytes(st.bytes, bytes, sizeof bytes);
        msg("%zu indicators hunted (%zu values, %zu to confirm, loaded in "
            "%.2f s, compiled in %.2f s), %zu not hunted (%zu revoked, %zu "
            "expired, %zu not huntable, %zu invalid); %zu logs in %zu "
            "parts, %s, %llu lines, %llu malformed, scanned in %.2f s (%.0f "
            "MB/s); %llu hits; %.2f s in all",
            ss.indicators + n_yara, ss.values, ss.needs_confirmation, load_s,
            compile_s, skipped, hc.revoked, hc.expired, hc.unsupported,
            hc.invalid, st.logs, st.parts, bytes, (unsigned long long)st.lines,
            (unsigned long long)st.malformed, st.scan_seconds,
            st.scan_seconds > 0 ? (double)st.bytes / 1e6 / st.scan_seconds
                                : 0.0,
            (unsigned long long)st.hits, secs);
    }
    rc = errors > 0    ? CLI_EXIT_ERROR
         : st.hits > 0 ? CLI_EXIT_FINDINGS
                       : CLI_EXIT_OK;
out:
    json_decref(bundle);
    cairn_hunt_job_free(job);
    cairn_hunt_sightings_free(sightings);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    cairn_warninglists_free(wl);
    cairn_store_close(store);
    cairn_sign_key_free(signer);
    cairn_free(logs);
    cairn_free(a.inputs);
    cairn_free(a.collections);
    cairn_free(a.files);
    return rc;
}
