/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn sign`: sign the objects of STIX bundles with a node's key. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

#define SIGN_MAX_INPUT ((size_t)1 << 30)

enum {
    OPT_KEY,
    OPT_DATA,
    OPT_OUTPUT,
    OPT_IN_PLACE,
};

static const struct cli_option options[] = {
    [OPT_KEY] = {'k', "key", "NAME",
                 "The signing key: DATA/keys/NAME.key, or a file name with "
                 "a '/' (required)."},
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_OUTPUT] = {'o', "output", "FILE",
                    "Write the signed bundle to FILE (one input only); "
                    "default: standard output."},
    [OPT_IN_PLACE] = {0, "in-place", NULL,
                      "Replace each FILE by its signed form (written aside "
                      "and renamed)."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_sign = {
    .name = "sign",
    .synopsis = "--key NAME [-o FILE | --in-place] FILE...",
    .summary = "Sign the objects of STIX bundles (Ed25519).",
    .description =
        "Signs every object of each bundle (or the lone object) FILE that "
        "is not signed yet: the cairn signature extension is added, an "
        "Ed25519 signature over the RFC 8785 canonical form of the object "
        "without the signature itself (docs/signing.md). Objects signed "
        "already are left as they are: a relay never alters a signed "
        "object. The bundle gets cairn's extension-definition object when "
        "it lacks it. Sign an object before it is first shared: signing "
        "adds a property, so a copy shared before differs from it under "
        "the same version.",
    .options = options,
    .exit_status = "0 Every file was signed.\n"
                   "1 Some file is not a STIX bundle or object.\n"
                   "2 Usage error, a key or file that cannot be read or "
                   "written, or an internal error.",
    .examples = "$ cairn sign --key isac-2026 indicators.json > signed.json\n"
                "$ cairn sign --key isac-2026 --in-place out/*.json",
    .run = run,
};

/* Sign what is unsigned in `doc` (a bundle or an object). */
static int sign_doc(json_t *doc, const struct cairn_sign_key *k,
                    size_t *n_signed)
{
    const json_t *ext_key = NULL;
    int rc = 0;
    const char *type = json_string_value(json_object_get(doc, "type"));

    if (type != NULL && strcmp(type, "bundle") == 0) {
        json_t *objs = json_object_get(doc, "objects");
        size_t i;
        json_t *o;
        bool has_def = false;
        if (objs != NULL && !json_is_array(objs))
            return CAIRN_EINVALID;
        json_array_foreach(objs, i, o)
        {
            const char *id = json_string_value(json_object_get(o, "id"));
            if (id != NULL && strcmp(id, CAIRN_SIGN_EXTENSION) == 0) {
                has_def = true;
                continue;
            }
            ext_key = json_object_get(json_object_get(o, "extensions"),
                                      CAIRN_SIGN_EXTENSION);
            if (!json_is_object(o) || ext_key != NULL)
                continue;
            rc = cairn_sign_object(o, k, NULL);
            if (rc < 0)
                return rc;
            (*n_signed)++;
        }
        if (!has_def && objs != NULL) {
            json_t *def = NULL;
            rc = cairn_sign_extension_definition(&def);
            if (rc == 0 && json_array_append_new(objs, def) != 0)
                rc = CAIRN_ENOMEM;
        }
        return rc;
    }
    if (!json_is_object(doc) || type == NULL)
        return CAIRN_EINVALID;
    if (json_object_get(json_object_get(doc, "extensions"),
                        CAIRN_SIGN_EXTENSION) != NULL)
        return 0;
    rc = cairn_sign_object(doc, k, NULL);
    if (rc == 0)
        (*n_signed)++;
    return rc;
}

/* Write `text` to `path` whole or not at all. */
static int write_file(const struct cli_command *cmd, const char *path,
                      const char *text)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        cli_error(cmd, "%s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        cli_error(cmd, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
              fsync(fileno(f)) == 0;
    if (fclose(f) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        cli_error(cmd, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int sign_file(const struct cli_command *cmd, const char *path,
                     const struct cairn_sign_key *k, const char *output)
{
    struct cli_file file;
    json_t *doc = NULL;
    char *text = NULL;
    size_t n_signed = 0;
    int status = CLI_EXIT_ERROR;
    struct cairn_diag d;

    if (cli_file_load(cmd, path, SIGN_MAX_INPUT, &file) < 0)
        return CLI_EXIT_ERROR;
    cairn_diag_clear(&d);
    int rc = cairn_json_parse(file.data, file.len, &doc, &d);
    if (rc == CAIRN_EPARSE) {
        cli_error(cmd, "%s:%u:%u: %s", path, d.line, d.column, d.message);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        cli_error(cmd, "%s: %s", path, cairn_strerror(rc));
        goto out;
    }
    rc = sign_doc(doc, k, &n_signed);
    if (rc == CAIRN_EINVALID) {
        cli_error(cmd, "%s: not a STIX bundle or object", path);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        cli_error(cmd, "%s: %s", path, cairn_strerror(rc));
        goto out;
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    if (text == NULL) {
        cli_error(cmd, "%s: %s", path, cairn_strerror(CAIRN_ENOMEM));
        goto out;
    }
    if (output != NULL) {
        if (write_file(cmd, output, text) < 0)
            goto out;
    } else if (puts(text) == EOF) {
        cli_error(cmd, "writing: %s", strerror(errno));
        goto out;
    }
    fprintf(stderr, "%s: %zu object%s signed\n", path, n_signed,
            n_signed == 1 ? "" : "s");
    status = CLI_EXIT_OK;
out:
    cairn_free(text);
    json_decref(doc);
    cli_file_release(&file);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_sign;
    const char *key = NULL, *data = NULL, *output = NULL;
    bool in_place = false;
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_KEY)
            key = arg;
        else if (opt == OPT_DATA)
            data = arg;
        else if (opt == OPT_OUTPUT)
            output = arg;
        else if (opt == OPT_IN_PLACE)
            in_place = true;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    int nfiles = argc - optind;
    if (key == NULL) {
        cli_error(cmd, "needs --key NAME ('cairn key new NAME' makes one)");
        return CLI_EXIT_ERROR;
    }
    if (nfiles == 0) {
        cli_error(cmd, "needs a FILE to sign ('-' for standard input)");
        return CLI_EXIT_ERROR;
    }
    if (output != NULL && (in_place || nfiles > 1)) {
        cli_error(cmd, "--output takes one FILE and excludes --in-place");
        return CLI_EXIT_ERROR;
    }
    if (!in_place && output == NULL && nfiles > 1) {
        cli_error(cmd, "several FILEs need --in-place");
        return CLI_EXIT_ERROR;
    }
    struct cairn_sign_key *k = NULL;
    if (cli_key_load(cmd, data, key, &k) < 0)
        return CLI_EXIT_ERROR;
    int status = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        const char *out = output;
        if (in_place) {
            if (strcmp(argv[i], "-") == 0) {
                cli_error(cmd, "--in-place cannot replace standard input");
                status = CLI_EXIT_ERROR;
                continue;
            }
            out = argv[i];
        }
        int s = sign_file(cmd, argv[i], k, out);
        if (s > status)
            status = s;
    }
    cairn_sign_key_free(k);
    return status;
}
