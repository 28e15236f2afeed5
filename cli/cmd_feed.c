/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn feed import`: MISP feeds, CSV and lists converted to STIX 2.1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cairn/feed.h"
#include "cli.h"

#define DEFAULT_MAX_INPUT ((size_t)1 << 30)
/* Objects per store transaction (see cmd_import.c for the trade-off). */
#define BATCH 2000

enum {
    OPT_FORMAT,
    OPT_MAP,
    OPT_OUTPUT,
    OPT_INTO,
    OPT_DATA,
    OPT_TLP,
    OPT_IDENTITY,
    OPT_QUIET,
};

static const struct cli_option options[] = {
    [OPT_FORMAT] = {'f', "format", "FORMAT",
                    "auto (default), misp, csv, list or fireeye."},
    [OPT_MAP] = {'m', "map", "SPEC",
                 "CSV column mapping, such as value=Indicator,type=Type,"
                 "name=Title; implies --format csv."},
    [OPT_OUTPUT] = {'o', "output", "FILE",
                    "Write the bundle to FILE instead of standard output."},
    [OPT_INTO] = {0, "into", "COLLECTION",
                  "Store the objects in this collection instead of writing "
                  "a bundle."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_TLP] = {0, "tlp", "LEVEL",
                 "Mark objects that have no TLP of their own: clear, green, "
                 "amber, amber+strict or red."},
    [OPT_IDENTITY] = {0, "identity", "NAME",
                      "The organisation that produced the feed: an identity "
                      "named NAME becomes created_by_ref of list, CSV and "
                      "FireEye objects."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print neither skipped records nor the summary."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_feed = {
    .name = "feed",
    .synopsis = "import [OPTIONS] SOURCE...",
    .summary = "Convert MISP feeds, CSV files and lists into STIX 2.1.",
    .description =
        "cairn feed import reads each SOURCE and converts it into STIX 2.1: "
        "a bundle on standard output (or --output FILE), or, with --into, "
        "objects stored in a collection after the checks of 'cairn "
        "import'. Every object is checked against STIX 2.1 before it is "
        "written; ids are derived from the input, so converting the same "
        "feed again gives the same objects.\n\n"
        "A SOURCE is read as (--format, else detected):\n\n"
        "  misp     a MISP feed directory (manifest.json and one UUID.json\n"
        "           per event), or one event file\n"
        "  fireeye  FireEye's Indicator_Release_NBIs.csv or _Hashes.csv\n"
        "  csv      CSV whose header row names the columns; needs --map\n"
        "  list     one value a line: domains, addresses, networks, URLs,\n"
        "           email addresses, hashes, also defanged; '#' comments\n\n"
        "MISP events become reports; to_ids attributes indicators; other "
        "attributes observed-data with their observables; the creator "
        "organisation an identity; tags labels; tlp: tags TLP 2.0 "
        "markings. --map is KEY=COLUMN,... with the keys value (required), "
        "type (a column, or one type for every row: domain, ipv4, ipv6, "
        "url, email, md5, sha1, sha256, sha512, filename, regkey), name, "
        "description, valid_from, valid_until and labels (split at ';' "
        "or '|'). docs/feeds.md has the whole mapping.\n\n"
        "Every record that is not converted is reported on standard error "
        "with its file and line, or its MISP event and attribute uuid, and "
        "a summary follows. Reading a feed from a URL needs libcurl, which "
        "this build does not use: download the feed first.",
    .options = options,
    .exit_status = "0 Everything was converted (and stored).\n"
                   "1 Some records were skipped or rejected; the rest was "
                   "converted.\n"
                   "2 Usage error, a source or manifest that cannot be read, "
                   "no such collection, or a store or internal error.",
    .examples = "$ cairn feed import ./misp-feed > misp.json\n"
                "$ cairn feed import --into \"$COLL\" --tlp amber "
                "Indicator_Release_NBIs.csv\n"
                "$ cairn feed import --map value=ioc,type=kind,name=title "
                "iocs.csv\n"
                "$ cairn feed import --identity 'Example CERT' --tlp green "
                "blocklist.txt\n"
                "$ cairn feed import --format list -o list.json blocklist.txt",
    .run = run,
};

enum format { F_AUTO, F_MISP, F_CSV, F_LIST, F_FIREEYE };

struct sink {
    bool quiet;
    /* bundle output */
    FILE *out;
    size_t written;
    bool write_failed;
    /* store output */
    struct cairn_store *store;
    const char *collection;
    json_t *objs[BATCH];
    char *texts[BATCH];
    size_t n;
    size_t stored, existed, rejected;
    bool store_failed;
};

/* One line on stderr, control characters of the input shown as '?'. */
static void print_line(const char *line)
{
    char buf[1400];
    size_t len = strnlen(line, sizeof buf - 1);

    memcpy(buf, line, len);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = '?';
    }
    buf[len] = '\n';
    fwrite(buf, 1, len + 1, stderr);
}

static void on_report(const struct cairn_diag *d, void *ud)
{
    const struct sink *s = ud;
    char line[1400];

    if (s->quiet)
        return;
    if (cairn_diag_format(d, line, sizeof line) >= 0)
        print_line(line);
}

static void batch_clear(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        json_decref(s->objs[i]);
        cairn_free(s->texts[i]);
    }
    s->n = 0;
}

static int flush(struct sink *s)
{
    struct cairn_store_object_in in[BATCH];
    struct cairn_store_result *res = NULL;
    int rc = 0;

    if (s->n == 0 || s->store_failed)
        goto out;
    res = cairn_calloc(s->n, sizeof *res);
    if (res == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->n; i++)
        in[i] = (struct cairn_store_object_in){.obj = s->objs[i],
                                               .json = s->texts[i],
                                               .json_len = strlen(s->texts[i])};
    rc = cairn_store_put_objects(s->store, s->collection, in, s->n, NULL, res);
    if (rc < 0) {
        cli_error(&cli_cmd_feed, "storing %zu objects: %s", s->n,
                  cairn_strerror(rc));
        s->store_failed = true;
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        char line[1400];
        if (res[i].outcome == CAIRN_STORE_STORED) {
            s->stored++;
        } else if (res[i].outcome == CAIRN_STORE_EXISTED) {
            s->existed++;
        } else {
            s->rejected++;
            if (!s->quiet) {
                snprintf(line, sizeof line, "%s: error: not stored: %s",
                         res[i].id, res[i].message);
                print_line(line);
            }
        }
    }
out:
    cairn_free(res);
    batch_clear(s);
    return rc;
}

static int emit(const json_t *obj, void *ud)
{
    struct sink *s = ud;
    char *text = NULL;
    int rc = cairn_stix_serialize(obj, false, &text, NULL);

    if (rc != 0)
        return rc;
    if (s->store != NULL) {
        s->objs[s->n] = json_incref((json_t *)obj);
        s->texts[s->n++] = text;
        return s->n == BATCH ? flush(s) : 0;
    }
    if (fputs(s->written == 0 ? ",\"objects\":[\n" : ",\n", s->out) < 0 ||
        fputs(text, s->out) < 0)
        s->write_failed = true;
    s->written++;
    cairn_free(text);
    return s->write_failed ? CAIRN_EIO : 0;
}

static bool is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 ||
           strncasecmp(s, "https://", 8) == 0;
}

/* The format of a file by its first bytes. */
static enum format sniff(const char *buf, size_t len, bool have_map)
{
    size_t i = 0;

    if (have_map)
        return F_CSV;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                       buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{')
        return F_MISP;
    if (cairn_feed_fireeye_detect(buf, len) != CAIRN_FEED_FIREEYE_NONE)
        return F_FIREEYE;
    return F_LIST;
}

/* Convert one source; returns the exit status it earns. */
static int convert(struct cairn_feed *feed, const char *path, enum format fmt,
                   const struct cairn_feed_csv_map *map)
{
    const struct cli_command *cmd = &cli_cmd_feed;
    struct cli_file file = {0};
    struct stat st;
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int rc;

    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (fmt != F_AUTO && fmt != F_MISP) {
            cli_error(cmd, "%s: a directory is read as a MISP feed only", path);
            return CLI_EXIT_ERROR;
        }
        rc = cairn_feed_misp_dir(feed, path);
        goto out;
    }
    if (cli_file_load(cmd, path, DEFAULT_MAX_INPUT, &file) < 0)
        return CLI_EXIT_ERROR;
    if (fmt == F_AUTO)
        fmt = sniff(file.data, file.len, map != NULL);
    switch (fmt) {
    case F_MISP:
        rc = cairn_feed_misp_event(feed, file.data, file.len, name);
        break;
    case F_FIREEYE:
        rc = cairn_feed_fireeye(feed, file.data, file.len, name);
        break;
    case F_CSV:
        rc = cairn_feed_csv(feed, file.data, file.len, name, map);
        break;
    default:
        rc = cairn_feed_list(feed, file.data, file.len, name);
        break;
    }
out:
    cli_file_release(&file);
    if (rc == 0 || rc == CAIRN_EPARSE)
        return CLI_EXIT_OK; /* skipped records are counted */
    if (rc != CAIRN_EIO)
        cli_error(cmd, "%s: %s", name, cairn_strerror(rc));
    return CLI_EXIT_ERROR;
}

static int parse_tlp(const char *s, enum cairn_tlp *out)
{
    static const struct {
        const char *name;
        enum cairn_tlp tlp;
    } levels[] = {
        {"clear", CAIRN_TLP_CLEAR},
        {"white", CAIRN_TLP_CLEAR},
        {"green", CAIRN_TLP_GREEN},
        {"amber", CAIRN_TLP_AMBER},
        {"amber+strict", CAIRN_TLP_AMBER_STRICT},
        {"red", CAIRN_TLP_RED},
    };

    if (strncasecmp(s, "tlp:", 4) == 0)
        s += 4;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcasecmp(s, levels[i].name) == 0) {
            *out = levels[i].tlp;
            return 0;
        }
    }
    return -1;
}

struct args {
    enum format fmt;
    const char *map, *output, *into, *dir, *identity;
    enum cairn_tlp tlp;
    bool quiet;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    const struct cli_command *cmd = &cli_cmd_feed;
    static const char *const formats[] = {"auto", "misp", "csv", "list",
                                          "fireeye"};
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_FORMAT: {
            size_t i = 0;
            while (i < 5 && strcasecmp(arg, formats[i]) != 0)
                i++;
            if (i == 5) {
                cli_error(cmd,
                          "--format: '%s' is not auto, misp, csv, list "
                          "or fireeye",
                          arg);
                return -1;
            }
            a->fmt = (enum format)i;
            break;
        }
        case OPT_MAP:
            a->map = arg;
            break;
        case OPT_OUTPUT:
            a->output = arg;
            break;
        case OPT_INTO:
            a->into = arg;
            break;
        case OPT_DATA:
            a->dir = arg;
            break;
        case OPT_TLP:
            if (parse_tlp(arg, &a->tlp) < 0) {
                cli_error(cmd,
                          "--tlp: '%s' is not clear, green, amber, "
                          "amber+strict or red",
                          arg);
                return -1;
            }
            break;
        case OPT_IDENTITY:
            if (arg[0] == '\0') {
                cli_error(cmd, "--identity: the name is empty");
                return -1;
            }
            a->identity = arg;
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        }
    }
    if (opt == -2)
        return -1;
    if (optind >= argc || strcmp(argv[optind], "import") != 0) {
        cli_error(cmd, optind >= argc ? "needs a subcommand: import; see "
                                        "'cairn feed --help'"
                                      : "unknown subcommand; use import");
        return -1;
    }
    optind++;
    if (optind >= argc) {
        cli_error(cmd, "no SOURCE given ('-' reads standard input)");
        return -1;
    }
    if (a->map != NULL && a->fmt != F_AUTO && a->fmt != F_CSV) {
        cli_error(cmd, "--map is for --format csv");
        return -1;
    }
    if (a->fmt == F_CSV && a->map == NULL) {
        cli_error(cmd, "--format csv needs --map value=COLUMN,...");
        return -1;
    }
    if (a->into != NULL && a->output != NULL) {
        cli_error(cmd, "--into and --output exclude each other");
        return -1;
    }
    if (a->dir != NULL && a->into == NULL) {
        cli_error(cmd, "--data is for --into");
        return -1;
    }
    int stdin_uses = 0;
    for (int i = optind; i < argc; i++) {
        stdin_uses += strcmp(argv[i], "-") == 0;
        if (is_url(argv[i])) {
            cli_error(cmd,
                      "%s: reading feeds from URLs needs libcurl, which "
                      "this build of cairn does not use; download the feed "
                      "and give its directory or file",
                      argv[i]);
            return -1;
        }
    }
    if (stdin_uses > 1) {
        cli_error(cmd, "'-' (standard input) given more than once");
        return -1;
    }
    return 0;
}

/* The bundle's opening; objects follow as emit() writes them. */
static int open_bundle(struct sink *s)
{
    char uuid[CAIRN_UUID_STRLEN];

    if (cairn_uuid4(uuid) != 0)
        return -1;
    return fprintf(s->out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\"", uuid) <
                   0
               ? -1
               : 0;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_feed;
    struct args a = {.fmt = F_AUTO};
    struct cairn_feed_csv_map *map = NULL;
    struct cairn_store_collection *coll = NULL;
    struct cairn_feed *feed = NULL;
    struct sink *s = NULL;
    char tmp[4096] = "";
    int status = CLI_EXIT_ERROR;
    int rc;

    if (parse_args(argc, argv, &a) < 0)
        return CLI_EXIT_ERROR;
    if (a.map != NULL) {
        struct cairn_diag d;
        cairn_diag_clear(&d);
        rc = cairn_feed_csv_map_parse(a.map, &map, &d);
        if (rc < 0) {
            cli_error(cmd, "--map: %s",
                      rc == CAIRN_EINVAL ? d.message : cairn_strerror(rc));
            return CLI_EXIT_ERROR;
        }
    }
    if (a.into != NULL && cli_check_collection_id(cmd, a.into) < 0)
        goto out;
    s = cairn_calloc(1, sizeof *s);
    if (s == NULL) {
        cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
        goto out;
    }
    s->quiet = a.quiet;
    if (a.into != NULL) {
        if (cli_store_open(cmd, a.dir, false, &s->store) < 0)
            goto out;
        rc = cairn_store_collection_get(s->store, NULL, a.into, &coll);
        if (rc < 0) {
            if (rc == CAIRN_ENOTFOUND)
                cli_error(cmd,
                          "no collection %s ('cairn collection list' "
                          "shows them)",
                          a.into);
            else
                cli_store_failed(cmd, rc, "looking up the collection");
            goto out;
        }
        s->collection = coll->id;
    } else if (a.output != NULL) {
        /* Written aside and renamed, so FILE is whole or untouched. */
        int n =
            snprintf(tmp, sizeof tmp, "%s.tmp.%ld", a.output, (long)getpid());
        if (n < 0 || (size_t)n >= sizeof tmp) {
            cli_error(cmd, "--output: path too long");
            goto out;
        }
        s->out = fopen(tmp, "w");
        if (s->out == NULL) {
            cli_error(cmd, "%s: %s", a.output, strerror(errno));
            tmp[0] = '\0';
            goto out;
        }
    } else {
        s->out = stdout;
    }
    if (s->out != NULL && open_bundle(s) < 0) {
        cli_error(cmd, "writing the bundle: %s", strerror(errno));
        goto out;
    }

    struct cairn_feed_opts fo = {
        .emit = emit,
        .emit_ud = s,
        .report = on_report,
        .report_ud = s,
        .tlp = a.tlp,
        .identity = a.identity,
    };
    rc = cairn_feed_new(&fo, &feed);
    if (rc < 0) {
        cli_error(cmd, "%s", cairn_strerror(rc));
        goto out;
    }
    status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        int st = convert(feed, argv[i], a.fmt, map);
        if (st > status)
            status = st;
        if (s->store_failed || s->write_failed)
            break;
    }
    if (s->store != NULL && flush(s) < 0)
        status = CLI_EXIT_ERROR;
    if (s->out != NULL) {
        if (fputs(s->written > 0 ? "\n]}\n" : "}\n", s->out) < 0 ||
            fflush(s->out) != 0)
            s->write_failed = true;
    }
    if (s->write_failed || s->store_failed) {
        if (s->write_failed)
            cli_error(cmd, "writing the bundle: %s", strerror(errno));
        status = CLI_EXIT_ERROR;
    }

    struct cairn_feed_stats stats;
    cairn_feed_get_stats(feed, &stats);
    if (status == CLI_EXIT_OK && (stats.skipped > 0 || s->rejected > 0))
        status = CLI_EXIT_FINDINGS;
    if (!a.quiet) {
        fprintf(stderr,
                "feed: %zu objects (%zu indicators, %zu observables, %zu "
                "reports), %zu skipped\n",
                stats.objects, stats.indicators, stats.observables,
                stats.reports, stats.skipped);
        if (s->store != NULL)
            fprintf(stderr,
                    "feed: %zu stored, %zu already present, %zu rejected\n",
                    s->stored, s->existed, s->rejected);
    }
out:
    if (s != NULL) {
        batch_clear(s);
        if (s->out != NULL && s->out != stdout && fclose(s->out) != 0)
            status = CLI_EXIT_ERROR;
        if (tmp[0] != '\0') {
            if (status != CLI_EXIT_ERROR && rename(tmp, a.output) != 0) {
                cli_error(cmd, "%s: %s", a.output, strerror(errno));
                status = CLI_EXIT_ERROR;
            }
            if (status == CLI_EXIT_ERROR)
                unlink(tmp);
        }
        cairn_store_close(s->store);
    }
    cairn_feed_free(feed);
    cairn_free(s);
    cairn_store_collection_free(coll);
    cairn_feed_csv_map_free(map);
    return status;
}
