/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn grant` and `cairn revoke`: a user's rights on a collection. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_READ,
    OPT_WRITE,
};

static const struct cli_option grant_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_READ] = {'r', "read", NULL,
                  "Let the user list the collection and read its objects, "
                  "manifest and versions."},
    [OPT_WRITE] = {'w', "write", NULL,
                   "Let the user add objects to the collection and delete "
                   "them."},
    {0, NULL, NULL, NULL},
};

static const struct cli_option revoke_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_READ] = {'r', "read", NULL, "Take the right to read away."},
    [OPT_WRITE] = {'w', "write", NULL, "Take the right to write away."},
    {0, NULL, NULL, NULL},
};

static int run_grant(int argc, char **argv);
static int run_revoke(int argc, char **argv);

const struct cli_command cli_cmd_grant = {
    .name = "grant",
    .synopsis = "USER COLLECTION [--read] [--write] [--data DIR]",
    .summary = "Give a user the right to read or write a collection.",
    .description =
        "Adds rights for USER on the collection whose id is COLLECTION; "
        "rights already held are kept. At least one of --read and --write "
        "is required. A user who may not read a collection never sees it "
        "listed, and its objects never reach them. Rights take effect at "
        "the next request, without restarting the server.",
    .options = grant_options,
    .exit_status = CLI_ADMIN_EXIT_STATUS,
    .examples = "$ cairn grant alice 9cfa669c-ee94-4ece-afd2-f8edac37d8fd "
                "--read --write\n"
                "$ cairn grant feedreader 9cfa669c-ee94-4ece-afd2-"
                "f8edac37d8fd --read",
    .run = run_grant,
};

const struct cli_command cli_cmd_revoke = {
    .name = "revoke",
    .synopsis = "USER COLLECTION [--read] [--write] [--data DIR]",
    .summary = "Take a user's rights on a collection away.",
    .description =
        "Takes the rights named by --read and --write away from USER on "
        "the collection whose id is COLLECTION; with neither, both. Taking "
        "away a right the user does not hold is not an error. Removing the "
        "right to read also hides the collection from the user.",
    .options = revoke_options,
    .exit_status = CLI_ADMIN_EXIT_STATUS,
    .examples = "$ cairn revoke alice 9cfa669c-ee94-4ece-afd2-f8edac37d8fd "
                "--write\n"
                "$ cairn revoke alice 9cfa669c-ee94-4ece-afd2-f8edac37d8fd",
    .run = run_revoke,
};

/* Whether user `name` exists: 1, 0, or -1 after a message. */
static int user_exists(const struct cli_command *cmd, struct cairn_store *s,
                       const char *name)
{
    char *hash = NULL;
    int rc = cairn_store_user_hash(s, name, &hash);

    cairn_free(hash);
    if (rc == 0)
        return 1;
    if (rc == CAIRN_ENOTFOUND)
        return 0;
    cli_error(cmd, "looking up user '%s': %s", name, cairn_strerror(rc));
    return -1;
}

static int change(const struct cli_command *cmd, int argc, char **argv,
                  bool grant)
{
    struct cairn_store_collection *c = NULL;
    struct cairn_store *s = NULL;
    const char *dir = NULL;
    unsigned rights = 0;
    const char *arg;
    int status = CLI_EXIT_ERROR;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_DATA)
            dir = arg;
        else if (opt == OPT_READ)
            rights |= CAIRN_STORE_READ;
        else if (opt == OPT_WRITE)
            rights |= CAIRN_STORE_WRITE;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (argc - optind != 2) {
        cli_error(cmd, "needs USER and COLLECTION; see 'cairn %s --help'",
                  cmd->name);
        return CLI_EXIT_ERROR;
    }
    const char *user = argv[optind];
    const char *coll = argv[optind + 1];
    if (rights == 0 && grant) {
        cli_error(cmd, "say which rights: --read, --write or both");
        return CLI_EXIT_ERROR;
    }
    if (rights == 0)
        rights = CAIRN_STORE_READ | CAIRN_STORE_WRITE;
    if (cli_check_user_name(cmd, user) < 0 ||
        cli_check_collection_id(cmd, coll) < 0)
        return CLI_EXIT_ERROR;

    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    /* The store answers "not found" for either; say which one it is. */
    int exists = user_exists(cmd, s, user);
    if (exists <= 0) {
        if (exists == 0) {
            cli_error(cmd, "no user '%s'", user);
            status = CLI_EXIT_FINDINGS;
        }
        goto out;
    }
    int rc = cairn_store_collection_get(s, NULL, coll, &c);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd,
                  "no collection %s ('cairn collection list' shows "
                  "them)",
                  coll);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "looking up the collection");
        goto out;
    }
    rc = grant ? cairn_store_grant(s, user, c->id, rights)
               : cairn_store_revoke(s, user, c->id, rights);
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, grant ? "granting" : "revoking");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_collection_free(c);
    cairn_store_close(s);
    return status;
}

static int run_grant(int argc, char **argv)
{
    return change(&cli_cmd_grant, argc, argv, true);
}

static int run_revoke(int argc, char **argv)
{
    return change(&cli_cmd_revoke, argc, argv, false);
}
