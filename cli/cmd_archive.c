/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn archive`: keep telemetry history, hunt it, report on it. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"
#include "hunt_int.h"

#define MAX_SOURCE  ((size_t)4 << 30)
#define MAX_THREADS 256

enum {
    OPT_DATA,
    OPT_FORMAT,
    OPT_SENSOR,
    OPT_MAX_LINE,
    OPT_INPUT,
    OPT_COLLECTION,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_JSONL,
    OPT_STIX,
    OPT_ORG,
    OPT_SIGHTINGS,
    OPT_SIGHTINGS_INTO,
    OPT_THREADS,
    OPT_KEEP,
    OPT_MAX_SIZE,
    OPT_QUIET,
    OPT_UNDER,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_FORMAT] = {0, "format", "FORMAT",
                    "add: read every log as FORMAT: auto (the default: "
                    "detected per file), zeek, json, csv or text."},
    [OPT_SENSOR] = {0, "sensor", "NAME",
                    "add: the sensor recorded with every event (default: the "
                    "host name)."},
    [OPT_MAX_LINE] = {0, "max-line", "SIZE",
                      "add: skip, and count as malformed, lines longer than "
                      "SIZE bytes (default 1M)."},
    [OPT_INPUT] = {'i', "indicators", "FILE",
                   "hunt: read indicators from FILE (a STIX bundle or a plain "
                   "list); '-' for standard input. May be repeated."},
    [OPT_COLLECTION] = {0, "collection", "ID",
                        "hunt: read the indicators of store collection ID. "
                        "May be repeated."},
    [OPT_SINCE] = {0, "since", "TIME",
                   "hunt: only events at or after TIME (RFC 3339, or a date "
                   "YYYY-MM-DD)."},
    [OPT_UNTIL] = {0, "until", "TIME",
                   "hunt: only events at or before TIME (RFC 3339, or a date: "
                   "its end)."},
    [OPT_JSONL] = {0, "jsonl", NULL,
                   "hunt: print one JSON object per hit instead of text."},
    [OPT_STIX] = {0, "stix", NULL,
                  "hunt: print only the STIX bundle of sightings, at the "
                  "end."},
    [OPT_ORG] = {0, "org", "NAME",
                 "hunt: the organisation named in the sightings' identity "
                 "(default: the host name)."},
    [OPT_SIGHTINGS] = {0, "sightings", "FILE",
                       "hunt: also write the STIX bundle of sightings to "
                       "FILE."},
    [OPT_SIGHTINGS_INTO] = {0, "sightings-into", "ID",
                            "hunt: also store the sightings and their "
                            "identity in store collection ID."},
    [OPT_THREADS] = {'j', "threads", "N",
                     "hunt: search N segments at a time (default: the number "
                     "of processors)."},
    [OPT_KEEP] = {0, "keep", "AGE",
                  "add, prune: drop the segments whose newest event is older "
                  "than AGE (seconds, or with s, m, h, d or w: 90d)."},
    [OPT_MAX_SIZE] = {0, "max-size", "SIZE",
                      "add, prune: drop the oldest segments while the "
                      "archive is larger than SIZE (such as 10G); never the "
                      "newest."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print no summary or warnings; errors only."},
    [OPT_UNDER] = {0, "under", NULL,
                   "lookup: each VALUE is a domain; print the record of it "
                   "and of every name under it."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_archive = {
    .name = "archive",
    .synopsis = "add [--sensor NAME] [--format F] PATH... | hunt [-i FILE]... "
                "[--collection ID]... [--since T] [--until T] [--jsonl | "
                "--stix | --sightings-into ID] | lookup [--under] VALUE... | "
                "stats | "
                "check | prune [--keep AGE] [--max-size SIZE]",
    .summary = "Keep telemetry history and hunt it again for new indicators.",
    .description =
        "The archive is the node's history of telemetry, kept in DATA/archive "
        "(--data): segments of events compressed with zstd, each with an "
        "index from every value in it (domain, address, URL, e-mail, hash, "
        "file name, registry key) to its events, and a catalogue of the "
        "distinct values with their first and last time seen and count.\n\n"
        "cairn archive add reads each PATH with the readers of 'cairn hunt' "
        "(Zeek TSV and JSON, JSON lines, CSV, text; gzip and zstd; a "
        "directory in name order; '-' for standard input) and archives "
        "every event with its sensor. Content already archived adds "
        "nothing. Each segment is committed (written, made durable, then "
        "recorded in the archive's journal) before the next one is begun, "
        "so that a crash, a kill or a full disk leaves every committed event "
        "and nothing half-written; the same content added again then adds "
        "what was missing.\n\n"
        "cairn archive hunt finds every archived event that the indicators "
        "match, through the indexes: each indicator's value is looked up "
        "in each segment's probe index (a domain also finds its "
        "subdomains, a CIDR block its addresses), only the values found "
        "are matched, and only the events holding a matching value are "
        "read back (LIKE and MATCHES run over the catalogue of distinct "
        "values, and the values they match are looked up). "
        "Domains match their subdomains, addresses CIDR indicators, URLs "
        "compare normalised, as with 'cairn hunt'; patterns with several "
        "observations are confirmed with the pattern evaluator. The output "
        "is that of 'cairn hunt' (--jsonl adds the key sensor); --since and "
        "--until bound the events' times. A damaged segment is reported and "
        "skipped.\n\n"
        "cairn archive lookup prints, for each VALUE (a domain, address, "
        "URL, e-mail, hash...), the catalogue's record of it: its type, the "
        "number of events holding it, and the first and last time it was "
        "seen, as a passive-DNS database would; a value never seen is "
        "printed with the count 0. With --under, each VALUE is a domain and "
        "the records of it and of every name under it are printed.\n\n"
        "cairn archive stats prints the events, segments, distinct values, "
        "bytes (raw logs, compressed events, indexes) and time range. cairn "
        "archive check verifies every checksum and every index and names "
        "each damaged segment, and compares the catalogue with the "
        "segments (a damaged or out-of-date catalogue is rebuilt by the "
        "next add or prune). cairn archive prune (and add, given --keep or "
        "--max-size) drops the oldest segments past an age or a size. See "
        "docs/archive.md.",
    .options = options,
    .exit_status =
        "0 Done; for hunt, nothing matched; for check, the archive is sound; "
        "for lookup, every value was seen.\n"
        "1 hunt: something matched; check: damage was found; lookup: some "
        "value was never seen; add: some lines were malformed or an input "
        "was truncated or unreadable (what came before was kept).\n"
        "2 Usage error, an archive or input that cannot be read or written "
        "(a full disk), an internal error; hunt: a damaged segment was "
        "skipped (the hits in the others are still printed).",
    .examples = "$ cairn archive add --sensor dns1 /var/log/zeek/dns.*.log.gz\n"
                "$ zcat dns.log.gz | cairn archive add -\n"
                "$ cairn archive hunt -i sunburst.json --jsonl\n"
                "$ cairn archive hunt --collection ID --since 2020-03-01 "
                "--sightings-into ID\n"
                "$ cairn archive lookup avsvmcloud.com 13.59.205.66\n"
                "$ cairn archive lookup --under avsvmcloud.com\n"
                "$ cairn archive prune --keep 90d --max-size 50G\n"
                "$ cairn archive stats\n"
                "$ cairn archive check",
    .run = run,
};

#define CMD (&cli_cmd_archive)

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void msg(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("cairn archive: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

struct args {
    const char *data;
    enum cairn_telemetry_format format;
    const char *sensor;
    size_t max_line;
    const char **inputs;
    size_t n_inputs;
    const char **collections;
    size_t n_collections;
    bool has_since, has_until;
    struct cairn_time since, until;
    bool jsonl, stix, quiet, under;
    const char *org, *sightings, *sightings_into;
    unsigned threads;
    uint64_t keep_seconds, max_size;
};

/* RFC 3339, or a date: its start (or with `end`, its last instant). */
static int parse_time(const char *s, bool end, struct cairn_time *out)
{
    char buf[64];
    size_t len = strlen(s);

    if (len == 10) {
        snprintf(buf, sizeof buf, "%sT%s", s,
                 end ? "23:59:59.999999999Z" : "00:00:00Z");
        return cairn_time_parse(buf, strlen(buf), false, out);
    }
    return cairn_time_parse(s, len, false, out);
}

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
        case OPT_DATA:
            a->data = arg;
            break;
        case OPT_FORMAT:
            if (cairn_telemetry_format_parse(arg, &a->format) < 0) {
                cli_error(CMD, "--format: '%s' is not auto, zeek, json, csv "
                               "or text",
                          arg);
                return -1;
            }
            break;
        case OPT_SENSOR:
            a->sensor = arg;
            break;
        case OPT_MAX_LINE:
            if (cli_parse_size(arg, &a->max_line) < 0 || a->max_line == 0) {
                cli_error(CMD, "--max-line: '%s' is not a size such as 1M",
                          arg);
                return -1;
            }
            break;
        case OPT_INPUT:
            a->inputs[a->n_inputs++] = arg;
            break;
        case OPT_COLLECTION:
            a->collections[a->n_collections++] = arg;
            break;
        case OPT_SINCE:
        case OPT_UNTIL: {
            bool until = opt == OPT_UNTIL;
            if (parse_time(arg, until, until ? &a->until : &a->since) < 0) {
                cli_error(CMD, "--%s: '%s' is not a time such as "
                               "2020-12-14T00:00:00Z or a date",
                          until ? "until" : "since", arg);
                return -1;
            }
            if (until)
                a->has_until = true;
            else
                a->has_since = true;
            break;
        }
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
        case OPT_KEEP:
            if (cairn_archive_parse_age(arg, &a->keep_seconds) < 0 ||
                a->keep_seconds == 0) {
                cli_error(CMD, "--keep: '%s' is not an age such as 90d, 12h "
                               "or 3600",
                          arg);
                return -1;
            }
            break;
        case OPT_MAX_SIZE: {
            size_t sz;
            if (cli_parse_size(arg, &sz) < 0 || sz == 0) {
                cli_error(CMD, "--max-size: '%s' is not a size such as 10G",
                          arg);
                return -1;
            }
            a->max_size = sz;
            break;
        }
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_UNDER:
            a->under = true;
            break;
        default:
            return -1;
        }
    }
    if (a->jsonl && a->stix) {
        cli_error(CMD, "--jsonl and --stix exclude each other");
        return -1;
    }
    return 0;
}

static void on_msg(enum cairn_severity sev, const char *text, void *ud)
{
    const struct args *a = ud;

    if (sev == CAIRN_SEV_WARNING && a->quiet)
        return;
    msg("%s", text);
}

/* DATA/archive, DATA as every command's --data. */
static int archive_dir(const struct args *a, char *buf, size_t len)
{
    char data[PATH_MAX];
    const char *d = a->data ? a->data : cli_data_dir_default(data, sizeof data);

    if (d == NULL) {
        cli_error(CMD, "no data directory: give --data DIR or set "
                       "CAIRN_DATA_DIR");
        return -1;
    }
    int n = snprintf(buf, len, "%s/archive", d);
    if (n < 0 || (size_t)n >= len) {
        cli_error(CMD, "%s: path too long", d);
        return -1;
    }
    return 0;
}

static int open_archive(struct args *a, bool read_only,
                        struct cairn_archive **out)
{
    char dir[PATH_MAX];
    struct cairn_diag diag;
    struct cairn_archive_opts o = {.read_only = read_only,
                                   .keep_seconds = a->keep_seconds,
                                   .max_size = a->max_size,
                                   .on_msg = on_msg,
                                   .ud = a};
    /* Small segments, for tests of what a crash between them leaves. */
    const char *se = getenv("CAIRN_ARCHIVE_SEGMENT_EVENTS");
    if (se != NULL)
        o.segment_events = strtoull(se, NULL, 10);

    if (archive_dir(a, dir, sizeof dir) < 0)
        return -1;
    if (!read_only) {
        /* The data directory itself, as the other commands make it. */
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash != NULL && slash != parent) {
            *slash = '\0';
            for (char *p = parent + 1; *p; p++) {
                if (*p != '/')
                    continue;
                *p = '\0';
                (void)mkdir(parent, 0700);
                *p = '/';
            }
            (void)mkdir(parent, 0700);
        }
    }
    cairn_diag_clear(&diag);
    int rc = cairn_archive_open(dir, &o, out, &diag);
    if (rc < 0) {
        cli_error(CMD, "%s", diag.message[0] ? diag.message
                                              : cairn_strerror(rc));
        return -1;
    }
    return 0;
}

/* ---- add ----------------------------------------------------------------- */

static void on_read_diag(const struct cairn_diag *d, void *ud)
{
    const struct args *a = ud;
    char line[700];

    if (a->quiet && d->severity != CAIRN_SEV_ERROR)
        return;
    cairn_diag_format(d, line, sizeof line);
    fflush(stdout);
    fputs("cairn archive: ", stderr);
    cli_print_line(line);
}

static int cmd_add(struct args *a, int argc, char **argv)
{
    struct cairn_archive *ar = NULL;
    struct cairn_archive_add_stats st = {0};
    int rc = CLI_EXIT_ERROR;
    bool failed = false, damaged = false;

    if (optind >= argc) {
        cli_error(CMD, "add: name the logs to archive ('-' for standard "
                       "input)");
        return CLI_EXIT_ERROR;
    }
    if (open_archive(a, false, &ar) < 0)
        return CLI_EXIT_ERROR;
    struct cairn_archive_add_opts ao = {.sensor = a->sensor};
    cairn_telemetry_opts_init(&ao.telemetry);
    ao.telemetry.format = a->format;
    ao.telemetry.max_line = a->max_line;
    ao.telemetry.on_diag = on_read_diag;
    ao.telemetry.diag_ud = a;
    for (int i = optind; i < argc; i++) {
        struct cairn_diag diag;
        cairn_diag_clear(&diag);
        int err = cairn_archive_add_path(ar, argv[i], &ao, &st, &diag);
        if (err < 0) {
            char line[700];
            if (diag.message[0] != '\0') {
                cairn_diag_format(&diag, line, sizeof line);
                if (diag.file[0] == '\0' && strstr(line, argv[i]) == NULL)
                    msg("%s: %s", argv[i], line);
                else
                    msg("%s", line);
            } else {
                msg("%s: %s", argv[i], cairn_strerror(err));
            }
            if (err == CAIRN_EPARSE)
                damaged = true;
            else
                failed = true;
            /* A full disk or a broken archive: stop, nothing more fits. */
            if (err == CAIRN_EIO && strstr(diag.message, "disk") != NULL)
                break;
        }
    }
    if (!a->quiet)
        msg("%llu inputs (%llu already archived), %llu lines, %llu "
            "malformed, %llu events archived",
            (unsigned long long)st.inputs, (unsigned long long)st.duplicates,
            (unsigned long long)st.lines, (unsigned long long)st.malformed,
            (unsigned long long)st.events);
    if (!a->quiet && st.events > 0)
        msg("catalogue of distinct values updated in %.2f s of CPU",
            st.catalogue_seconds);
    rc = failed                              ? CLI_EXIT_ERROR
         : damaged || st.damaged > 0 || st.malformed > 0
             ? CLI_EXIT_FINDINGS
                                             : CLI_EXIT_OK;
    cairn_archive_free(ar);
    return rc;
}

/* ---- hunt ------------------------------------------------------------------ */

struct hunt_out {
    enum hunt_format fmt;
    struct cairn_hunt_sightings *sightings;
    struct cairn_buf buf;
    bool write_failed;
    int sight_err;
};

static int on_hit(const struct cairn_archive_hit *h, void *ud)
{
    struct hunt_out *o = ud;
    int rc = 0;

    cairn_buf_reset(&o->buf);
    if (o->fmt == HUNT_OUT_JSONL) {
        rc = hunt_format_hit(o->fmt, h->report, &o->buf);
        /* `cairn hunt --jsonl`'s keys, and the sensor. */
        if (rc == 0 && o->buf.len >= 2) {
            o->buf.len -= 2;
            rc = cairn_buf_puts(&o->buf, ",\"sensor\":");
            if (rc == 0)
                rc = hunt_put_json_string(&o->buf, h->sensor,
                                          strlen(h->sensor));
            if (rc == 0)
                rc = cairn_buf_puts(&o->buf, "}\n");
        }
    } else {
        rc = hunt_format_hit(o->fmt, h->report, &o->buf);
    }
    if (rc < 0)
        return rc;
    if (o->buf.len > 0 && fwrite(o->buf.data, 1, o->buf.len, stdout) !=
                              o->buf.len)
        o->write_failed = true;
    if (o->sightings != NULL) {
        int err = cairn_hunt_sightings_add(o->sightings, h->hit);
        if (err < 0)
            o->sight_err = err;
    }
    return 0;
}

static void on_skip(const struct cairn_hunt_skip *s, void *ud)
{
    const struct args *a = ud;

    if (a->quiet || s->reason == CAIRN_HUNT_SKIP_REVOKED ||
        s->reason == CAIRN_HUNT_SKIP_EXPIRED)
        return;
    if (s->indicator_id != NULL)
        msg("%s: not hunted: %s", s->indicator_id, s->message);
    else if (s->source != NULL)
        msg("%s:%llu: not hunted: %s", s->source, (unsigned long long)s->line,
            s->message);
}

/* The shared hunt helpers' messages. */
static void say_text(const char *text)
{
    msg("%s", text);
}

static void hunt_msg(enum cairn_severity sev, const char *text, void *ud)
{
    on_msg(sev, text, ud);
}

static int cmd_hunt(struct args *a, int argc, char **argv)
{
    struct cairn_archive *ar = NULL;
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_store *store = NULL;
    struct hunt_out ho = {0};
    struct cairn_archive_hunt_stats hs = {0};
    json_t *bundle = NULL;
    char host[256];
    unsigned errors = 0;
    int rc = CLI_EXIT_ERROR;

    cairn_buf_init(&ho.buf, (size_t)64 << 20);
    if (optind < argc) {
        cli_error(CMD, "hunt: unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (a->n_inputs == 0 && a->n_collections == 0) {
        cli_error(CMD, "hunt: no indicators: give -i FILE or --collection "
                       "ID");
        goto out;
    }
    struct cairn_hunt_builder_opts bo = {.skip_cb = on_skip, .ud = a};
    if (cairn_hunt_builder_new(&bo, &b) < 0) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < a->n_inputs; i++) {
        struct cli_file f;
        if (cli_file_load(CMD, a->inputs[i], MAX_SOURCE, &f) != 0)
            goto out;
        const char *name =
            strcmp(a->inputs[i], "-") == 0 ? "standard input" : a->inputs[i];
        int err = cairn_hunt_builder_add_source(b, f.data, f.len, name,
                                                hunt_msg, a);
        cli_file_release(&f);
        if (err < 0)
            goto out;
    }
    if (a->n_collections > 0 || a->sightings_into != NULL) {
        if (cli_store_open(CMD, a->data, false, &store) != 0)
            goto out;
    }
    for (size_t i = 0; i < a->n_collections; i++) {
        if (cairn_hunt_builder_add_collection(b, store, a->collections[i],
                                              hunt_msg, a) < 0)
            goto out;
    }
    int err = cairn_hunt_builder_build(b, &set);
    if (err < 0) {
        cli_error(CMD, "cannot compile the indicators: %s",
                  cairn_strerror(err));
        goto out;
    }
    struct cairn_hunt_set_stats ss;
    cairn_hunt_set_get_stats(set, &ss);
    if (ss.indicators == 0) {
        cli_error(CMD, "hunt: no indicator that can be hunted");
        goto out;
    }
    if (open_archive(a, true, &ar) < 0)
        goto out;
    bool want_sightings = a->stix || a->sightings || a->sightings_into;
    ho.fmt = a->stix                ? HUNT_OUT_NONE
             : a->jsonl             ? HUNT_OUT_JSONL
             : cli_stdout_is_tty() ? HUNT_OUT_TABLE
                                    : HUNT_OUT_TEXT;
    if (want_sightings) {
        const char *org = a->org;
        if (org == NULL) {
            if (gethostname(host, sizeof host) < 0 || host[0] == '\0')
                snprintf(host, sizeof host, "localhost");
            host[sizeof host - 1] = '\0';
            org = host;
        }
        if (cairn_hunt_sightings_new(org, NULL, &ho.sightings) < 0) {
            cli_error(CMD, "out of memory");
            goto out;
        }
    }
    if (ho.fmt == HUNT_OUT_TABLE && hunt_format_table_header(&ho.buf) == 0)
        fwrite(ho.buf.data, 1, ho.buf.len, stdout);
    long np = sysconf(_SC_NPROCESSORS_ONLN);
    struct cairn_archive_hunt_opts opts = {
        .set = set,
        .has_since = a->has_since,
        .has_until = a->has_until,
        .since = a->since,
        .until = a->until,
        .threads = a->threads ? a->threads : np > 0 ? (unsigned)np : 1,
        /* the way before the catalogue, for bench/archive.sh */
        .no_catalogue = getenv("CAIRN_ARCHIVE_NO_CATALOGUE") != NULL,
    };
    err = cairn_archive_hunt(ar, &opts, on_hit, &ho, &hs);
    if (err < 0) {
        msg("hunt: %s", cairn_strerror(err));
        goto out;
    }
    if (ho.sight_err < 0) {
        msg("sightings: %s", cairn_strerror(ho.sight_err));
        errors++;
    }
    if (want_sightings) {
        if (cairn_hunt_sightings_to_bundle(ho.sightings, &bundle) < 0) {
            msg("sightings: out of memory");
            errors++;
        } else {
            if (a->stix && hunt_write_bundle(bundle, "-", say_text) < 0)
                errors++;
            if (a->sightings &&
                hunt_write_bundle(bundle, a->sightings, say_text) < 0)
                errors++;
            if (a->sightings_into &&
                hunt_store_bundle(store, a->sightings_into, bundle, NULL,
                                  say_text) < 0)
                errors++;
        }
    }
    if (fflush(stdout) != 0 || ho.write_failed) {
        msg("cannot write the hits to standard output");
        errors++;
    }
    if (!a->quiet)
        msg("%zu indicators hunted over %llu segments (%llu skipped as "
            "damaged), %llu distinct values matched, %llu events read back; %llu "
            "hits in %.3f s",
            ss.indicators, (unsigned long long)hs.segments,
            (unsigned long long)hs.skipped, (unsigned long long)hs.values,
            (unsigned long long)hs.candidates, (unsigned long long)hs.hits,
            hs.seconds);
    rc = errors > 0 || hs.skipped > 0 ? CLI_EXIT_ERROR
         : hs.hits > 0                ? CLI_EXIT_FINDINGS
                                      : CLI_EXIT_OK;
out:
    json_decref(bundle);
    cairn_hunt_sightings_free(ho.sightings);
    cairn_buf_release(&ho.buf);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    cairn_store_close(store);
    cairn_archive_free(ar);
    return rc;
}

/* ---- stats and check ------------------------------------------------------- */

static int cmd_stats(struct args *a)
{
    struct cairn_archive *ar = NULL;
    struct cairn_archive_stats st;
    char first[40] = "-", last[40] = "-";

    if (open_archive(a, true, &ar) < 0)
        return CLI_EXIT_ERROR;
    int err = cairn_archive_get_stats(ar, &st);
    cairn_archive_free(ar);
    if (err < 0) {
        msg("stats: %s", cairn_strerror(err));
        return CLI_EXIT_ERROR;
    }
    if (st.has_range) {
        cairn_time_format(&st.first, 0, first, sizeof first);
        cairn_time_format(&st.last, 0, last, sizeof last);
    }
    uint64_t disk = st.data_bytes + st.index_bytes;
    printf("events          %llu\n"
           "segments        %llu\n"
           "distinct values %llu\n"
           "raw bytes       %llu\n"
           "event bytes     %llu\n"
           "index bytes     %llu\n"
           "disk / raw      %.3f\n"
           "first event     %s\n"
           "last event      %s\n",
           (unsigned long long)st.events, (unsigned long long)st.segments,
           (unsigned long long)st.values, (unsigned long long)st.raw_bytes,
           (unsigned long long)st.data_bytes,
           (unsigned long long)st.index_bytes,
           st.raw_bytes ? (double)disk / (double)st.raw_bytes : 0.0, first,
           last);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static int cmd_check(struct args *a)
{
    struct cairn_archive *ar = NULL;

    if (open_archive(a, true, &ar) < 0)
        return CLI_EXIT_ERROR;
    int n = cairn_archive_check(ar);
    cairn_archive_free(ar);
    if (n < 0) {
        msg("check: %s", cairn_strerror(n));
        return CLI_EXIT_ERROR;
    }
    if (!a->quiet)
        msg("%d damaged segment%s", n, n == 1 ? "" : "s");
    return n > 0 ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
}

static int cmd_prune(struct args *a)
{
    struct cairn_archive *ar = NULL;
    uint64_t dropped = 0;

    if (a->keep_seconds == 0 && a->max_size == 0) {
        cli_error(CMD, "prune: give --keep AGE or --max-size SIZE");
        return CLI_EXIT_ERROR;
    }
    if (open_archive(a, false, &ar) < 0)
        return CLI_EXIT_ERROR;
    int err = cairn_archive_prune(ar, &dropped);
    cairn_archive_free(ar);
    if (err < 0) {
        msg("prune: %s", cairn_strerror(err));
        return CLI_EXIT_ERROR;
    }
    if (!a->quiet)
        msg("%llu segment%s dropped", (unsigned long long)dropped,
            dropped == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

/* ---- lookup --------------------------------------------------------------- */

static void print_value(const struct cairn_archive_value *rec)
{
    char first[40], last[40];
    cairn_time_format(&rec->first_seen, 0, first, sizeof first);
    cairn_time_format(&rec->last_seen, 0, last, sizeof last);
    printf("%s\t%.*s\t%llu\t%s\t%s\n", cairn_ioc_type_name(rec->type),
           (int)rec->len, rec->value, (unsigned long long)rec->count,
           rec->first_seen.sec || rec->first_seen.nsec ? first : "-",
           rec->last_seen.sec || rec->last_seen.nsec ? last : "-");
}

static int on_value(const struct cairn_archive_value *v, void *ud)
{
    (void)ud;
    print_value(v);
    return 0;
}

/* --under: each VALUE a domain, with every name under it. */
static int lookup_under(struct cairn_archive *ar, int argc, char **argv,
                        bool *missing)
{
    for (int i = optind; i < argc; i++) {
        const char *v = argv[i];
        size_t len = strlen(v), n = 0;
        char *norm = cairn_malloc(len + 3);
        if (norm == NULL) {
            msg("lookup: out of memory");
            return CLI_EXIT_ERROR;
        }
        enum cairn_ioc_type t = cairn_hunt_detect(v, len, norm, len + 3, &n);
        if (t != CAIRN_IOC_DOMAIN) {
            cli_error(CMD, "lookup --under: '%s' is not a domain", v);
            cairn_free(norm);
            return CLI_EXIT_ERROR;
        }
        int found = cairn_archive_lookup_under(ar, norm, n, on_value, NULL);
        if (found < 0) {
            msg("lookup: %s", cairn_strerror(found));
            cairn_free(norm);
            return CLI_EXIT_ERROR;
        }
        if (found == 0) {
            *missing = true;
            printf("domain\t%.*s\t0\t-\t-\n", (int)n, norm);
        }
        cairn_free(norm);
    }
    return CLI_EXIT_OK;
}

static int cmd_lookup(struct args *a, int argc, char **argv)
{
    struct cairn_archive *ar = NULL;
    bool missing = false;
    int rc = CLI_EXIT_OK;

    if (optind >= argc) {
        cli_error(CMD, "lookup: name the values to look up");
        return CLI_EXIT_ERROR;
    }
    if (open_archive(a, true, &ar) < 0)
        return CLI_EXIT_ERROR;
    if (a->under) {
        rc = lookup_under(ar, argc, argv, &missing);
        cairn_archive_free(ar);
        if (fflush(stdout) != 0)
            rc = CLI_EXIT_ERROR;
        return rc != CLI_EXIT_OK ? rc
               : missing          ? CLI_EXIT_FINDINGS
                                  : CLI_EXIT_OK;
    }
    for (int i = optind; i < argc && rc == CLI_EXIT_OK; i++) {
        const char *v = argv[i];
        size_t len = strlen(v), n = 0;
        char *norm = cairn_malloc(len + 3);
        if (norm == NULL) {
            msg("lookup: out of memory");
            rc = CLI_EXIT_ERROR;
            break;
        }
        enum cairn_ioc_type t = cairn_hunt_detect(v, len, norm, len + 3, &n);
        struct cairn_archive_value rec;
        int found = 0;
        if (t == CAIRN_IOC_UNKNOWN) {
            /* A file name or a registry key: no shape of its own. */
            found = cairn_archive_lookup(ar, CAIRN_IOC_FILENAME, v, len, &rec);
            if (found == 0)
                found = cairn_archive_lookup(ar, CAIRN_IOC_REGKEY, v, len,
                                             &rec);
            if (found == 0)
                found =
                    cairn_archive_lookup(ar, CAIRN_IOC_STRING, v, len, &rec);
        } else {
            found = cairn_archive_lookup(ar, t, norm, n, &rec);
        }
        if (found < 0) {
            msg("lookup: %s", cairn_strerror(found));
            rc = CLI_EXIT_ERROR;
        } else if (found == 0) {
            missing = true;
            printf("%s\t%s\t0\t-\t-\n",
                   t == CAIRN_IOC_UNKNOWN ? "-" : cairn_ioc_type_name(t), v);
        } else {
            print_value(&rec);
        }
        cairn_free(norm);
    }
    cairn_archive_free(ar);
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_ERROR;
    return rc != CLI_EXIT_OK ? rc : missing ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    struct args a = {.format = CAIRN_TELEMETRY_AUTO};
    int rc = CLI_EXIT_ERROR;

    if (argc < 2) {
        cli_error(CMD, "needs a subcommand: add, hunt, lookup, stats, check "
                       "or prune; see 'cairn archive --help'");
        return CLI_EXIT_ERROR;
    }
    const char *sub = argv[1];
    a.inputs = cairn_calloc((size_t)argc, sizeof *a.inputs);
    a.collections = cairn_calloc((size_t)argc, sizeof *a.collections);
    if (a.inputs == NULL || a.collections == NULL) {
        cli_error(CMD, "out of memory");
        goto out;
    }
    if (parse_args(argc - 1, argv + 1, &a) < 0)
        goto out;
    if (strcmp(sub, "add") == 0)
        rc = cmd_add(&a, argc - 1, argv + 1);
    else if (strcmp(sub, "hunt") == 0)
        rc = cmd_hunt(&a, argc - 1, argv + 1);
    else if (strcmp(sub, "stats") == 0)
        rc = cmd_stats(&a);
    else if (strcmp(sub, "check") == 0)
        rc = cmd_check(&a);
    else if (strcmp(sub, "lookup") == 0)
        rc = cmd_lookup(&a, argc - 1, argv + 1);
    else if (strcmp(sub, "prune") == 0)
        rc = cmd_prune(&a);
    else
        cli_error(CMD, "unknown subcommand '%s'; use add, hunt, lookup, "
                       "stats, check or prune",
                  sub);
out:
    cairn_free(a.inputs);
    cairn_free(a.collections);
    return rc;
}
