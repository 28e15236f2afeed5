/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn import`: load STIX bundles into a collection, validated, in bulk. */
#include <getopt.h>
#include <pthread.h>
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

struct counts {
    size_t stored;
    size_t existed;
    size_t rejected;
};

/* Objects ready for one transaction, read out of their parsed form. */
struct batch {
    const char *name; /* the file, for messages */
    struct cairn_store_batch *objs;
};

/*
 * Two threads share the work: this one parses and validates each object,
 * adds what the store needs of it to one batch and frees it at once, while
 * the storer commits the other batch; so parsing and SQLite overlap, and
 * memory holds two batches of ids and timestamps, not of parsed objects.
 * Only the storer uses the store once it has started.
 */
struct importer {
    const struct cli_command *cmd;
    struct cairn_store *store;
    const char *collection;
    bool quiet;
    struct batch batches[2];
    int filling; /* the batch this thread fills */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct batch *pending; /* handed to the storer, not yet taken */
    bool storing;          /* the storer is committing a batch */
    bool quit;
    /* Written by the storer under `lock`, read here once it is idle. */
    struct counts stored;
    bool store_failed;
};

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

static int batch_clear(struct batch *b)
{
    return cairn_store_batch_clear(b->objs);
}

/* Commit one batch (storer thread); tallies go to `c`. */
static int store_batch(struct importer *im, struct batch *b, struct counts *c)
{
    int rc = 0;
    size_t n = cairn_store_batch_len(b->objs);
    int err = cairn_store_put_batch(im->store, im->collection, b->objs, NULL);

    if (err < 0) {
        cli_error(im->cmd, "%s: storing %zu objects: %s", b->name, n,
                  cairn_strerror(err));
        rc = -1;
        goto out;
    }
    const struct cairn_store_result *results =
        cairn_store_batch_results(b->objs);
    for (size_t i = 0; i < n; i++) {
        const struct cairn_store_result *r = &results[i];
        char line[1400];
        switch (r->outcome) {
        case CAIRN_STORE_STORED:
            c->stored++;
            break;
        case CAIRN_STORE_EXISTED:
            c->existed++;
            break;
        default:
            c->rejected++;
            if (!im->quiet) {
                snprintf(line, sizeof line, "%s: %s: error: not stored: %s",
                         b->name, r->id[0] ? r->id : "(no id)", r->message);
                cli_print_line(line);
            }
            break;
        }
    }
out:
    return rc;
}

static void *storer(void *arg)
{
    struct importer *im = arg;

    pthread_mutex_lock(&im->lock);
    for (;;) {
        while (im->pending == NULL && !im->quit)
            pthread_cond_wait(&im->cond, &im->lock);
        if (im->pending == NULL)
            break;
        struct batch *b = im->pending;
        struct counts c = {0};
        im->pending = NULL;
        im->storing = true;
        pthread_mutex_unlock(&im->lock);

        int rc = im->store_failed ? -1 : store_batch(im, b, &c);

        pthread_mutex_lock(&im->lock);
        im->stored.stored += c.stored;
        im->stored.existed += c.existed;
        im->stored.rejected += c.rejected;
        if (rc < 0)
            im->store_failed = true;
        im->storing = false;
        pthread_cond_broadcast(&im->cond);
    }
    pthread_mutex_unlock(&im->lock);
    return NULL;
}

/*
 * Wait until the storer is idle; false when a commit has failed. The
 * batch it stored is released here, by the thread that allocated its
 * objects, which is cheaper for malloc than freeing them over there.
 */
static bool drain(struct importer *im)
{
    pthread_mutex_lock(&im->lock);
    while (im->pending != NULL || im->storing)
        pthread_cond_wait(&im->cond, &im->lock);
    bool ok = !im->store_failed;
    pthread_mutex_unlock(&im->lock);
    if (batch_clear(&im->batches[im->filling ^ 1]) < 0) {
        cli_error(im->cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
        ok = false;
    }
    return ok;
}

/*
 * Hand the batch being filled to the storer and switch to the other one,
 * which the storer has finished with once it is idle.
 */
static bool submit(struct importer *im)
{
    struct batch *b = &im->batches[im->filling];

    if (!drain(im)) {
        batch_clear(b);
        return false;
    }
    if (cairn_store_batch_len(b->objs) == 0)
        return true;
    pthread_mutex_lock(&im->lock);
    im->pending = b;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
    im->filling ^= 1;
    return true;
}

/* Import one file; returns the exit status it earns. */
static int import_one(struct importer *im, const char *path, size_t max_input)
{
    struct cairn_bundle_reader *reader = NULL;
    struct cli_file file = {0};
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    size_t rejected = 0;
    int status = CLI_EXIT_ERROR;

    if (cli_file_load(im->cmd, path, max_input, &file) < 0)
        return CLI_EXIT_ERROR;
    if (!drain(im))
        goto out;
    pthread_mutex_lock(&im->lock);
    memset(&im->stored, 0, sizeof im->stored);
    pthread_mutex_unlock(&im->lock);

    struct cairn_validate_opts vopts = {
        .file = name,
        .cb = on_diag,
        .ud = im,
    };
    int rc = cairn_bundle_reader_new(file.data, file.len, 0, &reader);
    if (rc < 0) {
        cli_error(im->cmd, "%s: %s", name, cairn_strerror(rc));
        goto out;
    }
    status = CLI_EXIT_OK;
    for (;;) {
        struct cairn_validate_stats stats = {0};
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
        rc = cairn_stix_validate_object(obj, where, &vopts, &stats);
        if (rc < 0 || stats.errors > 0) {
            json_decref(obj);
            rejected++;
            if (rc < 0 && rc != CAIRN_EINVALID) {
                cli_error(im->cmd, "%s: %s", name, cairn_strerror(rc));
                status = CLI_EXIT_ERROR;
                break;
            }
            continue;
        }
        /*
         * Store the object's bytes as they are in the file, as TAXII POST
         * does: that spares a serialisation per object, a third of this
         * thread's time.
         */
        size_t off = 0, text_len = 0;
        cairn_bundle_reader_span(reader, &off, &text_len);
        const char *text = file.data + off;
        struct batch *b = &im->batches[im->filling];
        b->name = name;
        rc = cairn_store_batch_add(b->objs, obj, text, text_len);
        json_decref(obj);
        if (rc < 0) {
            cli_error(im->cmd, "%s: %s", name, cairn_strerror(rc));
            status = CLI_EXIT_ERROR;
            break;
        }
        if (cairn_store_batch_len(b->objs) == BATCH && !submit(im)) {
            status = CLI_EXIT_ERROR;
            break;
        }
    }
    if (!submit(im) || !drain(im))
        status = CLI_EXIT_ERROR;
    pthread_mutex_lock(&im->lock);
    struct counts c = im->stored;
    pthread_mutex_unlock(&im->lock);
    c.rejected += rejected;
    if (status == CLI_EXIT_OK && c.rejected > 0)
        status = CLI_EXIT_FINDINGS;
    if (!im->quiet) {
        fflush(stdout);
        fprintf(stderr, "%s: %zu stored, %zu already present, %zu rejected\n",
                name, c.stored, c.existed, c.rejected);
    }
out:
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
    pthread_mutex_init(&im->lock, NULL);
    pthread_cond_init(&im->cond, NULL);
    for (int i = 0; i < 2; i++) {
        if (cairn_store_batch_new(BATCH, &im->batches[i].objs) < 0) {
            cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
            goto out;
        }
    }
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

    pthread_t thread;
    if (pthread_create(&thread, NULL, storer, im) != 0) {
        cli_error(cmd, "cannot start a thread");
        goto out;
    }
    status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        int s = import_one(im, argv[i], max_input);
        if (s > status)
            status = s;
        /* A store that failed a write would fail the next file too. */
        if (!drain(im))
            break;
    }
    pthread_mutex_lock(&im->lock);
    im->quit = true;
    pthread_cond_broadcast(&im->cond);
    pthread_mutex_unlock(&im->lock);
    pthread_join(thread, NULL);
out:
    if (im != NULL) {
        cairn_store_close(im->store);
        for (int i = 0; i < 2; i++)
            cairn_store_batch_free(im->batches[i].objs);
        pthread_mutex_destroy(&im->lock);
        pthread_cond_destroy(&im->cond);
    }
    cairn_free(im);
    cairn_store_collection_free(coll);
    return status;
}
