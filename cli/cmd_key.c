/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn key`: create, list and export the node's signing keys. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_DIR,
    OPT_IDENTITY,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_DIR] = {0, "dir", "DIR",
                 "Keep keys in DIR instead of the data directory's keys "
                 "folder."},
    [OPT_IDENTITY] = {0, "identity", "ID",
                      "key new: the STIX identity (identity--UUID) the key "
                      "signs for; it goes into every signature."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_key = {
    .name = "key",
    .synopsis = "new NAME [--identity ID] | list | export NAME "
                "[--data DIR] [--dir DIR]",
    .summary = "Create, list and export Ed25519 signing keys.",
    .description =
        "cairn signs STIX objects with Ed25519 keys (docs/signing.md). "
        "cairn key new NAME creates a key pair in DATA/keys/NAME.key, a "
        "file only its owner may read (mode 0600), and prints its "
        "fingerprint: the SHA-256 of the public key, which every "
        "signature names.\n\n"
        "cairn key list prints each key of the folder: name, fingerprint "
        "and identity.\n\n"
        "cairn key export NAME prints the public key as peers configure it "
        "(trust = FILE in a [peer] section, cairn verify --keys DIR): "
        "header lines with the name, fingerprint and identity, then the "
        "PEM public key that 'openssl pkey -pubin' reads too. A peer may "
        "add not-before, not-after and revoked lines to its copy.",
    .options = options,
    .exit_status = "0 Done.\n"
                   "1 key new: a key of that name exists already (a key is "
                   "never overwritten).\n"
                   "2 Usage error, a key or folder that cannot be read or "
                   "written, or an internal error.",
    .examples = "$ ID=identity--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061\n"
                "$ cairn key new isac-2026 --identity \"$ID\"\n"
                "$ cairn key export isac-2026 > isac-2026.pub\n"
                "$ cairn key list",
    .run = run,
};

int cli_keys_dir(const struct cli_command *cmd, const char *dir, char *buf,
                 size_t len)
{
    char dirbuf[PATH_MAX];
    if (dir == NULL)
        dir = cli_data_dir_default(dirbuf, sizeof dirbuf);
    if (dir == NULL) {
        cli_error(cmd, "no data directory: give --data DIR, or set "
                       "CAIRN_DATA_DIR or HOME");
        return -1;
    }
    int n = snprintf(buf, len, "%s/keys", dir);
    if (n < 0 || (size_t)n >= len) {
        cli_error(cmd, "%s: path too long", dir);
        return -1;
    }
    return 0;
}

/* A key name: letters, digits, '-', '_', '.', not starting with '.'. */
static bool key_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || s[0] == '.')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_.") == n;
}

static int key_path(const struct cli_command *cmd, const char *data,
                    const char *keys_dir, const char *name, char *buf,
                    size_t len)
{
    char dbuf[PATH_MAX];
    if (strchr(name, '/') != NULL) {
        int n = snprintf(buf, len, "%s", name);
        return n < 0 || (size_t)n >= len ? -1 : 0;
    }
    if (!key_name_ok(name)) {
        cli_error(cmd,
                  "'%s' is not a key name (letters, digits, '-', '_', '.')",
                  name);
        return -1;
    }
    if (keys_dir == NULL) {
        if (cli_keys_dir(cmd, data, dbuf, sizeof dbuf) < 0)
            return -1;
        keys_dir = dbuf;
    }
    int n = snprintf(buf, len, "%s/%s.key", keys_dir, name);
    if (n < 0 || (size_t)n >= len) {
        cli_error(cmd, "%s: path too long", keys_dir);
        return -1;
    }
    return 0;
}

static int load_at(const struct cli_command *cmd, const char *path,
                   struct cairn_sign_key **out)
{
    struct cairn_diag d;
    char line[1400];
    cairn_diag_clear(&d);
    int rc = cairn_sign_key_load(path, out, &d);
    if (rc < 0) {
        if (d.message[0] != '\0' && cairn_diag_format(&d, line, sizeof line) >= 0)
            cli_error(cmd, "%s", line);
        else
            cli_error(cmd, "%s: %s", path, cairn_strerror(rc));
        return -1;
    }
    return 0;
}

int cli_key_load(const struct cli_command *cmd, const char *dir,
                 const char *name, struct cairn_sign_key **out)
{
    char path[PATH_MAX];
    *out = NULL;
    if (key_path(cmd, dir, NULL, name, path, sizeof path) < 0)
        return -1;
    if (load_at(cmd, path, out) < 0)
        return -1;
    if (!cairn_sign_key_is_private(*out)) {
        cli_error(cmd, "%s: a public key cannot sign", path);
        cairn_sign_key_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int mkdir_private(const struct cli_command *cmd, const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
            cli_error(cmd, "cannot create %s: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = saved;
    }
    return 0;
}

static int key_new(const struct cli_command *cmd, const char *data,
                   const char *kdir, const char *name, const char *identity)
{
    char dbuf[PATH_MAX], path[PATH_MAX];
    struct cairn_sign_key *k = NULL;
    int status = CLI_EXIT_ERROR;

    if (strchr(name, '/') != NULL || !key_name_ok(name)) {
        cli_error(cmd,
                  "'%s' is not a key name (letters, digits, '-', '_', '.')",
                  name);
        return CLI_EXIT_ERROR;
    }
    if (kdir == NULL) {
        if (cli_keys_dir(cmd, data, dbuf, sizeof dbuf) < 0)
            return CLI_EXIT_ERROR;
        kdir = dbuf;
    }
    if (mkdir_private(cmd, kdir) < 0 ||
        key_path(cmd, data, kdir, name, path, sizeof path) < 0)
        goto out;
    int rc = cairn_sign_key_generate(&k);
    if (rc == 0)
        rc = cairn_sign_key_set_name(k, name);
    if (rc == 0 && identity != NULL) {
        rc = cairn_sign_key_set_identity(k, identity);
        if (rc == CAIRN_EINVAL) {
            cli_error(cmd, "--identity: '%s' is not identity--UUID", identity);
            goto out;
        }
    }
    if (rc == 0)
        rc = cairn_sign_key_save(k, path);
    if (rc == CAIRN_EEXIST) {
        cli_error(cmd, "%s exists already; a key is never overwritten", path);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        cli_error(cmd, "%s: %s", path,
                  rc == CAIRN_EIO ? strerror(errno) : cairn_strerror(rc));
        goto out;
    }
    printf("%s %s\n", name, cairn_sign_key_fingerprint(k));
    status = CLI_EXIT_OK;
out:
    cairn_sign_key_free(k);
    return status;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int key_list(const struct cli_command *cmd, const char *data,
                    const char *kdir)
{
    char dbuf[PATH_MAX];
    char **names = NULL;
    size_t n = 0, cap = 0;
    int status = CLI_EXIT_ERROR;
    DIR *d = NULL;

    if (kdir == NULL) {
        if (cli_keys_dir(cmd, data, dbuf, sizeof dbuf) < 0)
            return CLI_EXIT_ERROR;
        kdir = dbuf;
    }
    d = opendir(kdir);
    if (d == NULL) {
        if (errno == ENOENT)
            return CLI_EXIT_OK; /* no keys yet */
        cli_error(cmd, "%s: %s", kdir, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 5 ||
            strcmp(e->d_name + len - 4, ".key") != 0)
            continue;
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 16;
            char **nn = realloc(names, c2 * sizeof *nn);
            if (nn == NULL)
                goto out;
            names = nn;
            cap = c2;
        }
        if ((names[n] = strdup(e->d_name)) == NULL)
            goto out;
        n++;
    }
    qsort(names, n, sizeof *names, name_cmp);
    status = CLI_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct cairn_sign_key *k = NULL;
        int pl = snprintf(path, sizeof path, "%s/%s", kdir, names[i]);
        if (pl < 0 || (size_t)pl >= sizeof path || load_at(cmd, path, &k) < 0) {
            status = CLI_EXIT_ERROR;
            continue;
        }
        names[i][strlen(names[i]) - 4] = '\0';
        const char *id = cairn_sign_key_identity(k);
        printf("%s %s%s%s\n", names[i], cairn_sign_key_fingerprint(k),
               id != NULL ? " " : "", id != NULL ? id : "");
        cairn_sign_key_free(k);
    }
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status;
}

static int key_export(const struct cli_command *cmd, const char *data,
                      const char *kdir, const char *name)
{
    char path[PATH_MAX];
    struct cairn_sign_key *k = NULL;
    char *text = NULL;
    int status = CLI_EXIT_ERROR;

    if (key_path(cmd, data, kdir, name, path, sizeof path) < 0 ||
        load_at(cmd, path, &k) < 0)
        goto out;
    int rc = cairn_sign_key_export(k, &text);
    if (rc < 0) {
        cli_error(cmd, "%s: %s", path, cairn_strerror(rc));
        goto out;
    }
    fputs(text, stdout);
    status = CLI_EXIT_OK;
out:
    cairn_free(text);
    cairn_sign_key_free(k);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_key;
    const char *data = NULL, *kdir = NULL, *identity = NULL;
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_DATA)
            data = arg;
        else if (opt == OPT_DIR)
            kdir = arg;
        else if (opt == OPT_IDENTITY)
            identity = arg;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;

    if (sub == NULL) {
        cli_error(cmd, "needs a subcommand: new, list or export; see 'cairn "
                       "key --help'");
        return CLI_EXIT_ERROR;
    }
    if (identity != NULL && strcmp(sub, "new") != 0) {
        cli_error(cmd, "--identity goes with new only");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(sub, "new") == 0 || strcmp(sub, "export") == 0) {
        if (nargs != 2) {
            cli_error(cmd, "%s takes one key NAME", sub);
            return CLI_EXIT_ERROR;
        }
        return sub[0] == 'n'
                   ? key_new(cmd, data, kdir, argv[optind + 1], identity)
                   : key_export(cmd, data, kdir, argv[optind + 1]);
    }
    if (strcmp(sub, "list") == 0) {
        if (nargs != 1) {
            cli_error(cmd, "list takes no arguments");
            return CLI_EXIT_ERROR;
        }
        return key_list(cmd, data, kdir);
    }
    cli_error(cmd, "unknown subcommand '%s'; use new, list or export", sub);
    return CLI_EXIT_ERROR;
}
