/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn verify`: check the signatures of the objects of STIX documents, or
 * list the marks a `check` policy left in the store. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

#define SIGN_MAX_INPUT ((size_t)1 << 30)
#define TRUST_ARGS_MAX 256

enum {
    OPT_KEYS,
    OPT_TRUST,
    OPT_MARKS,
    OPT_COLLECTION,
    OPT_DATA,
    OPT_QUIET,
};

static const struct cli_option options[] = {
    [OPT_KEYS] = {0, "keys", "DIR",
                  "Trust the keys of DIR (*.pub, *.key); may be repeated. "
                  "Default, without --keys and --trust: DATA/keys."},
    [OPT_TRUST] = {0, "trust", "FILE",
                   "Trust the key in FILE (as 'cairn key export' writes "
                   "it); may be repeated."},
    [OPT_MARKS] = {0, "marks", NULL,
                   "Instead of checking files, list the object versions the "
                   "store holds marked: stored under a signature policy of "
                   "'check' though their signature was not valid."},
    [OPT_COLLECTION] = {'c', "collection", "ID",
                        "With --marks: only the marks of this collection."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print nothing for valid objects and no summary."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_verify = {
    .name = "verify",
    .synopsis = "[--keys DIR]... [--trust FILE]... FILE... | --marks "
                "[--collection ID]",
    .summary = "Verify the signatures of STIX objects.",
    .description =
        "Checks the cairn signature (docs/signing.md) of every object of "
        "each bundle (or lone object) FILE against the trusted keys. "
        "Every object that is not validly signed gets a line: where it "
        "is, its id, the verdict (unsigned, malformed, untrusted, bad, "
        "revoked, out-of-date) and why. The content, not its spelling, is "
        "signed: the same object written with other white space or member "
        "order still verifies; any change to a value, anywhere in the "
        "object, does not.\n\n"
        "With --marks, lists instead what a pull or POST under the "
        "signature policy 'check' stored though its signature was not "
        "valid: one line per marked object version, 'COLLECTION: ID "
        "VERSION: MARK', the mark saying the verdict and why, ordered by "
        "collection, id and version.",
    .options = options,
    .exit_status = "0 Every object has a valid signature by a trusted key "
                   "(--marks: no object version is marked).\n"
                   "1 Some object is unsigned, or its signature is not "
                   "valid (--marks: some version is marked).\n"
                   "2 Usage error, a key, file or store that cannot be "
                   "read, or an internal error.",
    .examples = "$ cairn verify --keys peers/ signed.json\n"
                "$ cairn verify --trust isac-2026.pub feed/*.json\n"
                "$ cairn verify --marks --collection "
                "91ab30b4-5c1e-4c55-9b8e-3f4f6a0c2d7e",
    .run = run,
};

struct tally {
    size_t valid, invalid;
    bool quiet;
};

static void check_obj(const char *path, const char *where, const json_t *obj,
                      const struct cairn_trust *t, struct tally *ty)
{
    enum cairn_sign_verdict v;
    char why[400];
    char line[1400];
    const char *id = json_string_value(json_object_get(obj, "id"));

    if (cairn_sign_verify(obj, t, &v, why, sizeof why) < 0) {
        snprintf(why, sizeof why, "out of memory");
        v = CAIRN_SIGN_MALFORMED;
    }
    if (v == CAIRN_SIGN_VALID)
        ty->valid++;
    else
        ty->invalid++;
    if (v == CAIRN_SIGN_VALID && ty->quiet)
        return;
    snprintf(line, sizeof line, "%s: %s%s%.200s: %s: %s", path, where,
             where[0] ? " " : "", id != NULL ? id : "(no id)",
             cairn_sign_verdict_name(v), why);
    if (v == CAIRN_SIGN_VALID)
        printf("%s\n", line);
    else
        cli_print_line(line);
}

static int verify_file(const struct cli_command *cmd, const char *path,
                       const struct cairn_trust *t, struct tally *ty)
{
    struct cli_file file;
    json_t *doc = NULL;
    struct cairn_diag d;
    int status = CLI_EXIT_ERROR;

    if (cli_file_load(cmd, path, SIGN_MAX_INPUT, &file) < 0)
        return CLI_EXIT_ERROR;
    cairn_diag_clear(&d);
    int rc = cairn_json_parse(file.data, file.len, &doc, &d);
    if (rc < 0) {
        if (rc == CAIRN_EPARSE)
            cli_error(cmd, "%s:%u:%u: %s", path, d.line, d.column, d.message);
        else
            cli_error(cmd, "%s: %s", path, cairn_strerror(rc));
        goto out;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (type != NULL && strcmp(type, "bundle") == 0) {
        const json_t *objs = json_object_get(doc, "objects");
        size_t i;
        const json_t *o;
        if (objs != NULL && !json_is_array(objs)) {
            cli_error(cmd, "%s: objects: not an array", path);
            goto out;
        }
        json_array_foreach(objs, i, o)
        {
            char where[40];
            snprintf(where, sizeof where, "objects[%zu]", i);
            check_obj(path, where, o, t, ty);
        }
    } else if (json_is_object(doc)) {
        check_obj(path, "", doc, t, ty);
    } else {
        cli_error(cmd, "%s: not a STIX bundle or object", path);
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    json_decref(doc);
    cli_file_release(&file);
    return status;
}

static int trust_failed(const struct cli_command *cmd, const char *what, int rc,
                        const struct cairn_diag *d)
{
    char line[1400];
    if (d->message[0] != '\0' && cairn_diag_format(d, line, sizeof line) >= 0)
        cli_error(cmd, "%s", line);
    else
        cli_error(cmd, "%s: %s", what, cairn_strerror(rc));
    return CLI_EXIT_ERROR;
}

struct marks_seen {
    size_t n;
};

static int print_mark(void *ud, const char *collection,
                      const struct cairn_store_mark *m)
{
    struct marks_seen *ms = ud;
    char line[1400];
    int n = snprintf(line, sizeof line, "%s: %.200s %.60s: %s", collection,
                     m->id, m->version, m->mark);
    size_t len = n < 0                     ? 0
                 : (size_t)n < sizeof line ? (size_t)n
                                           : sizeof line - 1;
    /* The mark quotes content from elsewhere: no control characters
     * reach the terminal (as cli_print_line does, on standard output). */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    printf("%.*s\n", (int)len, line);
    ms->n++;
    return 0;
}

/* `verify --marks`: the store's marks, of one collection or all. */
static int list_marks(const struct cli_command *cmd, const char *data,
                      const char *coll, bool quiet)
{
    struct cairn_store *s = NULL;
    struct marks_seen ms = {0};
    int status = CLI_EXIT_ERROR;

    if (coll != NULL && cli_check_collection_id(cmd, coll) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, data, false, &s) < 0)
        goto out;
    int rc = cairn_store_mark_list(s, coll, print_mark, &ms);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no collection %s ('cairn collection list' shows them)",
                  coll);
        goto out;
    }
    if (rc < 0) {
        cli_error(cmd, "reading the marks: %s", cairn_strerror(rc));
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "%zu marked object version%s\n", ms.n,
                ms.n == 1 ? "" : "s");
    status = ms.n > 0 ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
out:
    cairn_store_close(s);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_verify;
    const char *dirs[TRUST_ARGS_MAX], *files[TRUST_ARGS_MAX];
    size_t n_dirs = 0, n_files = 0;
    const char *data = NULL, *coll = NULL;
    bool marks = false;
    struct tally ty = {0};
    struct cairn_trust *t = NULL;
    struct cairn_diag d;
    const char *arg;
    int opt;
    int status = CLI_EXIT_ERROR;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if ((opt == OPT_KEYS && n_dirs >= TRUST_ARGS_MAX) ||
            (opt == OPT_TRUST && n_files >= TRUST_ARGS_MAX)) {
            cli_error(cmd, "more than %d --keys or --trust", TRUST_ARGS_MAX);
            return CLI_EXIT_ERROR;
        }
        if (opt == OPT_KEYS)
            dirs[n_dirs++] = arg;
        else if (opt == OPT_TRUST)
            files[n_files++] = arg;
        else if (opt == OPT_DATA)
            data = arg;
        else if (opt == OPT_QUIET)
            ty.quiet = true;
        else if (opt == OPT_MARKS)
            marks = true;
        else if (opt == OPT_COLLECTION)
            coll = arg;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (coll != NULL && !marks) {
        cli_error(cmd, "--collection goes with --marks");
        return CLI_EXIT_ERROR;
    }
    if (marks) {
        if (optind < argc || n_dirs > 0 || n_files > 0) {
            cli_error(cmd, "--marks reads the store: no FILE, --keys or "
                           "--trust with it");
            return CLI_EXIT_ERROR;
        }
        return list_marks(cmd, data, coll, ty.quiet);
    }
    if (optind >= argc) {
        cli_error(cmd, "needs a FILE to verify ('-' for standard input)");
        return CLI_EXIT_ERROR;
    }
    if (cairn_trust_new(&t) < 0) {
        cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
        return CLI_EXIT_ERROR;
    }
    cairn_diag_clear(&d);
    char kdir[PATH_MAX];
    if (n_dirs == 0 && n_files == 0) {
        if (cli_keys_dir(cmd, data, kdir, sizeof kdir) < 0)
            goto out;
        int rc = cairn_trust_add_dir(t, kdir, &d);
        if (rc < 0 && !(rc == CAIRN_EIO && errno == ENOENT)) {
            status = trust_failed(cmd, kdir, rc, &d);
            goto out;
        }
    }
    for (size_t i = 0; i < n_dirs; i++) {
        int rc = cairn_trust_add_dir(t, dirs[i], &d);
        if (rc < 0) {
            status = trust_failed(cmd, dirs[i], rc, &d);
            goto out;
        }
    }
    for (size_t i = 0; i < n_files; i++) {
        int rc = cairn_trust_add_file(t, files[i], &d);
        if (rc < 0) {
            status = trust_failed(cmd, files[i], rc, &d);
            goto out;
        }
    }
    status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++)
        if (verify_file(cmd, argv[i], t, &ty) != CLI_EXIT_OK)
            status = CLI_EXIT_ERROR;
    if (!ty.quiet)
        fprintf(stderr, "%zu valid, %zu not (%zu trusted key%s)\n", ty.valid,
                ty.invalid, cairn_trust_count(t),
                cairn_trust_count(t) == 1 ? "" : "s");
    if (status == CLI_EXIT_OK && ty.invalid > 0)
        status = CLI_EXIT_FINDINGS;
out:
    cairn_trust_free(t);
    return status;
}
