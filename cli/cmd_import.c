/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn import`: load STIX bundles into a collection, validated, in bulk. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

/*
 * Objects per transaction. Each commit rewrites the index pages its
 * objects touch, and with random ids that is most of the id index once
 * batches are large, so the cost per object falls as batches grow: at
 * 1,000,000 objects, batches of 5,000 take about twice as long as batches
 * of 50,000. Two batches of 50,000 (ids, timestamps and outcomes; the
 * parsed objects are freed as they are added) take about 75 MB.
 */
#define BATCH             50000
#define DEFAULT_MAX_INPUT ((size_t)1 << 30)

enum {
    OPT_DATA,
    OPT_COLLECTION,
    OPT_API_ROOT,
    OPT_QUIET,
    OPT_MAX_INPUT,
    OPT_WARNINGLISTS,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_COLLECTION] = {'c', "collection", "ID",
                        "The collection to load into (required); "
                        "'cairn collection list' shows the ids."},
    [OPT_API_ROOT] = {0, "api-root", "NAME",
                      "Require the collection to be in this API root."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print neither rejected objects nor summaries; the exit "
                   "status tells the result."},
    [OPT_MAX_INPUT] = {0, "max-input", "SIZE",
                       "Largest standard input or pipe read into memory "
                       "(default 1G). Regular files are mapped and have no "
                       "such limit."},
    [OPT_WARNINGLISTS] = CLI_WARNINGLISTS_OPTION,
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_import = {
    .name = "import",
    .synopsis = "--collection ID [OPTIONS] FILE...",
    .summary = "Load STIX bundles into a collection, far faster than POST.",
    .description =
        "Reads each FILE, or standard input for '-', as a STIX 2.1 bundle "
        "or a single object, and stores its objects in the collection "
        "straight through the store, many thousands per transaction. "
        "Every object is checked as a TAXII POST checks it (the rules of "
        "'cairn validate'): an object with an error is not stored and is "
        "reported on standard error as FILE: OBJECT_ID: PATH: error: "
        "MESSAGE [RULE]; warnings do not stop an object. A version of an "
        "object that the collection holds already is counted as already "
        "present, so importing a file twice stores it once; a different "
        "object under the same id and version is rejected and the first "
        "one kept.\n\n"
        "Objects are read one at a time, so memory is bounded by the batch, "
        "not by the file. A file that is not well-formed JSON is read up to "
        "the error: the objects before it are stored, the error is "
        "reported with its line and column, and importing the repaired file "
        "again adds only what is missing.\n\n"
        "An indicator with a value on a warninglist (a known false "
        "positive: a public resolver, a CDN, a private range) is stored "
        "all the same and reported as FILE: ID: warning: VALUE is on "
        "warninglist 'NAME'.\n\n"
        "After each file a summary goes to standard error: FILE: N stored, "
        "M already present, K rejected. The server may keep running "
        "meanwhile; its clients see the new objects as soon as each batch "
        "is committed.",
    .options = options,
    .exit_status = "0 Every object was stored or already present.\n"
                   "1 At least one object was rejected, or a file is not "
                   "well-formed JSON.\n"
                   "2 Usage error, a file that cannot be read, no such "
                   "collection, or a store or internal error; this wins "
                   "over 1.",
    .examples = "$ cairn import --collection "
                "9cfa669c-ee94-4ece-afd2-f8edac37d8fd feed.json\n"
                "$ curl -s https://example.org/feed.json | cairn import -c "
                "\"$COLL\" -",
    .run = run,
};

/*
 * Objects are read here one at a time and handed to an ingest session
 * (cairn_ingest_*, src/store/ingest.c), which validates them and commits
 * full batches on its own thread while this one reads the next: parsing
 * and SQLite overlap, and memory holds two batches of ids and timestamps,
 * not of parsed objects.
 */
struct importer {
    const struct cli_command *cmd;
    struct cairn_store *store;
    const char *collection;
    const char *name; /* the file being imported, for messages */
    bool quiet;
    struct cairn_warninglists *warninglists; /* may be NULL */
};

static void on_flag(const char *id, const char *value, const char *list,
                    void *ud)
{
    const struct importer *im = ud;
    char line[1400];
    if (im->quiet)
        return;
    snprintf(line, sizeof line,
             "%s: %s: warning: %s is on warninglist '%s' (stored, flagged)",
             im->name, id != NULL ? id : "(no id)", value, list);
    cli_print_line(line);
}

static void on_diag(const struct cairn_diag *d, void *ud)
{
    const struct importer *im = ud;
    char line[1400];

    /* Warnings do not keep an object out; 'cairn validate' shows them. */
    if (im->quiet || d->severity != CAIRN_SEV_ERROR)
        return;
    if (cairn_diag_format(d, line, sizeof line) >= 0)
        cli_print_line(line);
}

/* The store's refusals; validation's were reported by on_diag. */
static void on_result(const struct cairn_store_result *r, bool invalid,
                      void *ud)
{
    const struct importer *im = ud;
    char line[1400];

    if (im->quiet || invalid || r->outcome != CAIRN_STORE_FAILED)
        return;
    snprintf(line, sizeof line, "%s: %s: error: not stored: %s", im->name,
             r->id[0] ? r->id : "(no id)", r->message);
    cli_print_line(line);
}

/* Import one file; returns the exit status it earns. */
static int import_one(struct importer *im, const char *path, size_t max_input)
{
    struct cairn_bundle_reader *reader = NULL;
    struct cairn_ingest *ing = NULL;
    struct cli_file file = {0};
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int status = CLI_EXIT_ERROR;
    int err = 0;

    if (cli_file_load(im->cmd, path, max_input, &file) < 0)
        return CLI_EXIT_ERROR;
    im->name = name;
    struct cairn_ingest_opts io = {
        .collection = im->collection,
        .batch = BATCH,
        .background = true,
        .validate = {.file = name, .cb = on_diag, .ud = im},
        .on_result = on_result,
        .result_ud = im,
        .warninglists = im->warninglists,
        .on_flag = on_flag,
    };
    int rc = cairn_ingest_new(im->store, &io, &ing);
    if (rc == 0)
        rc = cairn_bundle_reader_new(file.data, file.len, 0, &reader);
    if (rc < 0) {
        cli_error(im->cmd, "%s: %s", name, cairn_strerror(rc));
        goto out;
    }
    status = CLI_EXIT_OK;
    for (;;) {
        struct cairn_diag diag;
        json_t *obj = NULL;
        long index = -1;
        char where[32] = "";

        cairn_diag_clear(&diag);
        rc = cairn_bundle_reader_next(reader, &obj, &index, &diag);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (diag.file[0] == '\0')
                snprintf(diag.file, sizeof diag.file, "%s", name);
            if (!im->quiet) {
                char line[1400];
                if (cairn_diag_format(&diag, line, sizeof line) >= 0)
                    cli_print_line(line);
            }
            status = rc == CAIRN_EPARSE || rc == CAIRN_EINVALID
                         ? CLI_EXIT_FINDINGS
                         : CLI_EXIT_ERROR;
            break;
        }
        if (index >= 0)
            snprintf(where, sizeof where, "objects[%ld]", index);
        /*
         * Store the object's bytes as they are in the file, as TAXII POST
         * does: that spares a serialisation per object, a third of this
         * thread's time.
         */
        size_t off = 0, text_len = 0;
        cairn_bundle_reader_span(reader, &off, &text_len);
        err = cairn_ingest_add(ing, obj, file.data + off, text_len, where, 0);
        json_decref(obj);
        if (err < 0)
            break;
    }
    /* What was read before an error in the file is stored all the same. */
    rc = cairn_ingest_flush(ing);
    if (err == 0)
        err = rc;
    struct cairn_ingest_counts c;
    cairn_ingest_counts(ing, &c);
    if (err < 0) {
        cli_error(im->cmd, "%s: storing objects: %s", name,
                  cairn_strerror(err));
        status = CLI_EXIT_ERROR;
    }
    size_t rejected = c.invalid + c.failed;
    if (status == CLI_EXIT_OK && rejected > 0)
        status = CLI_EXIT_FINDINGS;
    if (!im->quiet) {
        fflush(stdout);
        fprintf(stderr, "%s: %zu stored, %zu already present, %zu rejected",
                name, c.stored, c.existed, rejected);
        if (im->warninglists != NULL)
            fprintf(stderr, ", %zu flagged", c.flagged);
        fprintf(stderr, "\n");
    }
out:
    cairn_ingest_free(ing);
    cairn_bundle_reader_free(reader);
    cli_file_release(&file);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_import;
    struct cairn_store_collection *coll = NULL;
    struct importer *im = NULL;
    const char *dir = NULL, *collection = NULL, *api_root = NULL;
    const char *wl_path = NULL;
    size_t max_input = DEFAULT_MAX_INPUT;
    bool quiet = false;
    const char *arg;
    int status = CLI_EXIT_ERROR;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_DATA:
            dir = arg;
            break;
        case OPT_COLLECTION:
            collection = arg;
            break;
        case OPT_API_ROOT:
            api_root = arg;
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        case OPT_WARNINGLISTS:
            wl_path = arg;
            break;
        case OPT_MAX_INPUT:
            if (cli_parse_size(arg, &max_input) < 0 || max_input == 0) {
                cli_error(cmd,
                          "--max-input: '%s' is not a size such as "
                          "1000, 512K, 16M or 1G",
                          arg);
                return CLI_EXIT_ERROR;
            }
            break;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (collection == NULL) {
        cli_error(cmd, "--collection ID is required ('cairn collection "
                       "list' shows the ids)");
        return CLI_EXIT_ERROR;
    }
    if (optind >= argc) {
        cli_error(cmd, "no FILE given ('-' reads standard input); see "
                       "'cairn import --help'");
        return CLI_EXIT_ERROR;
    }
    int stdin_uses = 0;
    for (int i = optind; i < argc; i++)
        stdin_uses += strcmp(argv[i], "-") == 0;
    if (stdin_uses > 1) {
        cli_error(cmd, "'-' (standard input) given more than once");
        return CLI_EXIT_ERROR;
    }
    if (cli_check_collection_id(cmd, collection) < 0 ||
        (api_root != NULL && cli_check_api_root_name(cmd, api_root) < 0))
        return CLI_EXIT_ERROR;

    im = cairn_calloc(1, sizeof *im);
    if (im == NULL) {
        cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
        goto out;
    }
    im->cmd = cmd;
    im->quiet = quiet;
    if (cli_warninglists_load(cmd, wl_path, &im->warninglists) < 0)
        goto out;
    if (cli_store_open(cmd, dir, false, &im->store) < 0)
        goto out;
    int rc = cairn_store_collection_get(im->store, api_root, collection, &coll);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd,
                  "no collection %s%s%s ('cairn collection list' shows "
                  "them)",
                  collection, api_root ? " in API root " : "",
                  api_root ? api_root : "");
        goto out;
    }
    if (rc < 0) {
        cli_store_failed(cmd, rc, "looking up the collection");
        goto out;
    }
    im->collection = coll->id;

    status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        int s = import_one(im, argv[i], max_input);
        if (s > status)
            status = s;
    }
out:
    if (im != NULL) {
        cairn_store_close(im->store);
        cairn_warninglists_free(im->warninglists);
    }
    cairn_free(im);
    cairn_store_collection_free(coll);
    return status;
}
