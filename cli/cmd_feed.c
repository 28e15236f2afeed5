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
#include "cairn/taxii.h"
#include "cli.h"

#define DEFAULT_MAX_INPUT ((size_t)1 << 30)
/* Largest file fetched from a URL, as MISP_FILE_MAX bounds a feed's files. */
#define URL_MAX_INPUT ((size_t)256 << 20)
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
    OPT_CACERT,
    OPT_QUIET,
    OPT_SIGN,
    OPT_WARNINGLISTS,
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
    [OPT_CACERT] = {0, "cacert", "FILE",
                    "PEM file of the certificate authorities to trust for "
                    "https:// sources (default: the system's)."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print neither skipped records nor the summary."},
    [OPT_SIGN] = {0, "sign", "KEY",
                  "Sign each object with key KEY (DATA/keys/KEY.key, or a "
                  "file) before it is stored or written; docs/signing.md."},
    [OPT_WARNINGLISTS] = {0, "warninglists", "PATH",
                          "With --into: flag the indicators with a value on "
                          "these MISP warninglists, reported and stored all "
                          "the same ($CAIRN_WARNINGLISTS; docs/analysis.md)."},
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
        "  misp     a MISP feed directory or URL (manifest.json and one\n"
        "           UUID.json per event), or one event file\n"
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
        "A SOURCE may be an http:// or https:// URL. One that ends in '/' "
        "or in manifest.json, or any with --format misp, is a MISP feed: "
        "its manifest.json is fetched, then each event it lists; any other "
        "URL is one file, read as above. Certificates are checked (against "
        "--cacert FILE if given), redirects are not followed, each file may "
        "be up to 256 MiB, and a failed request is tried again up to five "
        "times.\n\n"
        "Every record that is not converted is reported on standard error "
        "with its file and line, or its MISP event and attribute uuid, and "
        "a summary follows.",
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
                "$ cairn feed import --format list -o list.json blocklist.txt\n"
                "$ cairn feed import --into \"$COLL\" "
                "https://www.circl.lu/doc/misp/feed-osint/",
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
    struct cairn_ingest *ingest;
    int store_err;
    struct cairn_sign_key *signer; /* --sign */
    struct cairn_sign_gate gate;
    struct cairn_warninglists *warninglists; /* --warninglists */
};

static void on_report(const struct cairn_diag *d, void *ud)
{
    const struct sink *s = ud;
    char line[1400];

    if (s->quiet)
        return;
    if (cairn_diag_format(d, line, sizeof line) >= 0)
        cli_print_line(line);
}

/* The store's refusals (the feed validated its objects already). */
static void on_result(const struct cairn_store_result *r, bool invalid,
                      void *ud)
{
    const struct sink *s = ud;
    char line[1400];

    (void)invalid;
    if (s->quiet || r->outcome != CAIRN_STORE_FAILED)
        return;
    snprintf(line, sizeof line, "%s: error: not stored: %s",
             r->id[0] ? r->id : "(no id)", r->message);
    cli_print_line(line);
}

static void on_flag(const char *id, const char *value, const char *list,
                    void *ud)
{
    const struct sink *s = ud;
    char line[1400];
    if (s->quiet)
        return;
    snprintf(line, sizeof line,
             "%s: warning: %s is on warninglist '%s' (stored, flagged)", id,
             value, list);
    cli_print_line(line);
}

static int emit(const json_t *obj, void *ud)
{
    struct sink *s = ud;
    char *text = NULL;

    if (s->ingest != NULL) {
        int err = cairn_ingest_add(s->ingest, obj, NULL, 0, NULL, 0);
        if (err < 0 && s->store_err == 0) {
            cli_error(&cli_cmd_feed, "storing objects: %s",
                      cairn_strerror(err));
            s->store_err = err;
        }
        return err;
    }
    json_t *signed_copy = NULL;
    if (s->signer != NULL) {
        signed_copy = json_deep_copy(obj);
        if (signed_copy == NULL)
            return CAIRN_ENOMEM;
        int src = cairn_sign_object(signed_copy, s->signer, NULL);
        if (src < 0) {
            json_decref(signed_copy);
            return src;
        }
        obj = signed_copy;
    }
    int rc = cairn_stix_serialize(obj, false, &text, NULL);
    json_decref(signed_copy);
    if (rc != 0)
        return rc;
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

/* Sources on the web: one client for the run, made when first needed. */
struct web {
    const char *cacert;
    struct cairn_taxii_client *client;
    const char *base; /* the MISP feed being read, ending in '/' */
};

static int web_client(struct web *w)
{
    if (w->client != NULL)
        return 0;
    struct cairn_taxii_client_opts o = {.cacert = w->cacert,
                                        .max_response_len = URL_MAX_INPUT};
    int rc = cairn_taxii_client_new(&o, &w->client);
    if (rc < 0)
        cli_error(&cli_cmd_feed, "cannot start an HTTP client: %s",
                  cairn_strerror(rc));
    return rc;
}

/* The client's last error without its "GET URL: " (the finding names the
 * URL already). */
static const char *web_error(const struct web *w, const char *url)
{
    const char *e = cairn_taxii_client_error(w->client);
    size_t n = strlen(url);
    if (strncmp(e, "GET ", 4) == 0 && strncmp(e + 4, url, n) == 0 &&
        e[4 + n] == ':' && e[5 + n] == ' ')
        return e + 6 + n;
    return e;
}

/* cairn_feed_fetch_cb for a MISP feed on the web: BASE/NAME. */
static int web_fetch(void *ud, const char *name, char *where, size_t where_len,
                     char **buf, size_t *len, char *why, size_t why_len)
{
    struct web *w = ud;
    int n = snprintf(where, where_len, "%s%s", w->base, name);
    if (n < 0 || (size_t)n >= where_len) {
        snprintf(why, why_len, "the URL is too long");
        return CAIRN_EINVAL;
    }
    int rc = cairn_taxii_client_fetch(w->client, where, buf, len, NULL, 0);
    if (rc < 0)
        snprintf(why, why_len, "%s", web_error(w, where));
    return rc;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* A MISP feed at `url` (its directory, or its manifest.json). */
static int convert_web_feed(struct cairn_feed *feed, struct web *w,
                            const char *url)
{
    size_t n = strlen(url);
    if (ends_with(url, "/manifest.json"))
        n -= strlen("manifest.json");
    char *base = cairn_malloc(n + 2);
    if (base == NULL)
        return CAIRN_ENOMEM;
    memcpy(base, url, n);
    base[n] = '\0';
    if (n == 0 || base[n - 1] != '/')
        memcpy(base + n, "/", 2);
    w->base = base;
    int rc = cairn_feed_misp_feed(feed, web_fetch, w);
    w->base = NULL;
    cairn_free(base);
    return rc;
}

/* Convert one source; returns the exit status it earns. */
static int convert(struct cairn_feed *feed, struct web *w, const char *path,
                   enum format fmt, const struct cairn_feed_csv_map *map)
{
    const struct cli_command *cmd = &cli_cmd_feed;
    struct cli_file file = {0};
    char *fetched = NULL;
    struct stat st;
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int rc;

    if (is_url(path)) {
        if (web_client(w) < 0)
            return CLI_EXIT_ERROR;
        if (fmt == F_MISP || ends_with(path, "/") ||
            ends_with(path, "/manifest.json")) {
            if (fmt != F_AUTO && fmt != F_MISP) {
                cli_error(cmd,
                          "%s: a URL ending in '/' is read as a MISP "
                          "feed only",
                          path);
                return CLI_EXIT_ERROR;
            }
            rc = convert_web_feed(feed, w, path);
            goto out;
        }
        char type[128];
        rc = cairn_taxii_client_fetch(w->client, path, &fetched, &file.len,
                                      type, sizeof type);
        if (rc < 0) {
            cli_error(cmd, "%s", cairn_taxii_client_error(w->client));
            return CLI_EXIT_ERROR;
        }
        /* A login page or a site's HTML view of a file would otherwise be
         * mined for values as a list. */
        if (fmt == F_AUTO && strncasecmp(type, "text/html", 9) == 0) {
            cli_error(cmd,
                      "%s: the server sent an HTML page, not a feed file; "
                      "check the URL (a raw file's), or give --format to "
                      "read it anyway",
                      path);
            cairn_free(fetched);
            return CLI_EXIT_ERROR;
        }
        file.data = fetched;
        goto read;
    }
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
read:
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
    if (fetched != NULL)
        cairn_free(fetched);
    else
        cli_file_release(&file);
    if (rc == 0 || rc == CAIRN_EPARSE)
        return CLI_EXIT_OK; /* skipped records are counted */
    if (rc != CAIRN_EIO)
        cli_error(cmd, "%s: %s", name, cairn_strerror(rc));
    return CLI_EXIT_ERROR;
}

struct args {
    enum format fmt;
    const char *map, *output, *into, *dir, *identity, *cacert, *sign;
    const char *warninglists;
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
            a->tlp = cairn_tlp_from_name(arg);
            if (a->tlp == CAIRN_TLP_NONE) {
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
        case OPT_CACERT:
            a->cacert = arg;
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_SIGN:
            a->sign = arg;
            break;
        case OPT_WARNINGLISTS:
            a->warninglists = arg;
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
        if (strncmp(argv[i], "ftp://", 6) == 0 ||
            strncmp(argv[i], "file://", 7) == 0) {
            cli_error(cmd, "%s: only http:// and https:// URLs are read",
                      argv[i]);
            return -1;
        }
    }
    if (stdin_uses > 1) {
        cli_error(cmd, "'-' (standard input) given more than once");
        return -1;
    }
    if (a->cacert != NULL && access(a->cacert, R_OK) != 0) {
        cli_error(cmd, "--cacert: %s: %s", a->cacert, strerror(errno));
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
    struct web web = {0};
    char tmp[4096] = "";
    int status = CLI_EXIT_ERROR;
    int rc;

    if (parse_args(argc, argv, &a) < 0)
        return CLI_EXIT_ERROR;
    web.cacert = a.cacert;
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
    if (a.sign != NULL) {
        if (cli_key_load(cmd, a.dir, a.sign, &s->signer) < 0)
            goto out;
        s->gate.signer = s->signer;
    }
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
        if (cli_warninglists_load(cmd, a.warninglists, &s->warninglists) < 0)
            goto out;
        struct cairn_ingest_opts io = {
            .warninglists = s->warninglists,
            .on_flag = on_flag,
            .collection = coll->id,
            .batch = BATCH,
            .on_result = on_result,
            .result_ud = s,
            .hook = s->signer != NULL ? cairn_sign_gate_hook : NULL,
            .hook_ud = &s->gate,
        };
        rc = cairn_ingest_new(s->store, &io, &s->ingest);
        if (rc < 0) {
            cli_error(cmd, "%s", cairn_strerror(rc));
            goto out;
        }
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
        int st = convert(feed, &web, argv[i], a.fmt, map);
        if (st > status)
            status = st;
        if (s->store_err < 0 || s->write_failed)
            break;
    }
    struct cairn_ingest_counts c = {0};
    if (s->ingest != NULL) {
        rc = cairn_ingest_flush(s->ingest);
        if (rc < 0 && s->store_err == 0) {
            cli_error(cmd, "storing objects: %s", cairn_strerror(rc));
            s->store_err = rc;
        }
        cairn_ingest_counts(s->ingest, &c);
    }
    if (s->out != NULL && s->signer != NULL && s->written > 0) {
        /* Signed objects travel with the extension's definition. */
        json_t *def = NULL;
        char *text = NULL;
        if (cairn_sign_extension_definition(&def) < 0 ||
            cairn_stix_serialize(def, false, &text, NULL) != 0 ||
            fputs(",\n", s->out) < 0 || fputs(text, s->out) < 0)
            s->write_failed = true;
        cairn_free(text);
        json_decref(def);
    }
    if (s->out != NULL) {
        if (fputs(s->written > 0 ? "\n]}\n" : "}\n", s->out) < 0 ||
            fflush(s->out) != 0)
            s->write_failed = true;
    }
    if (s->write_failed || s->store_err < 0) {
        if (s->write_failed)
            cli_error(cmd, "writing the bundle: %s", strerror(errno));
        status = CLI_EXIT_ERROR;
    }

    struct cairn_feed_stats stats;
    cairn_feed_get_stats(feed, &stats);
    if (status == CLI_EXIT_OK &&
        (stats.skipped > 0 || c.invalid + c.failed > 0))
        status = CLI_EXIT_FINDINGS;
    if (!a.quiet) {
        fprintf(stderr,
                "feed: %zu objects (%zu indicators, %zu observables, %zu "
                "reports), %zu skipped\n",
                stats.objects, stats.indicators, stats.observables,
                stats.reports, stats.skipped);
        if (s->store != NULL)
            fprintf(stderr,
                    "feed: %zu stored, %zu already present, %zu rejected%s",
                    c.stored, c.existed, c.invalid + c.failed,
                    s->warninglists != NULL ? "" : "\n");
        if (!a.quiet && s->warninglists != NULL)
            fprintf(stderr, ", %zu flagged\n", c.flagged);
    }
out:
    if (s != NULL) {
        cairn_ingest_free(s->ingest);
        cairn_sign_key_free(s->signer);
        cairn_warninglists_free(s->warninglists);
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
    cairn_taxii_client_free(web.client);
    cairn_free(s);
    cairn_store_collection_free(coll);
    cairn_feed_csv_map_free(map);
    return status;
}
