/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn token`: create and revoke the API tokens of users. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_token = {
    .name = "token",
    .synopsis = "new NAME | revoke TOKEN [--data DIR]",
    .summary = "Create and revoke API tokens for the TAXII server.",
    .description =
        "An API token lets a program log in as a user without its "
        "password: it sends 'Authorization: Bearer TOKEN' and has exactly "
        "the rights of that user. A user may hold any number of tokens.\n\n"
        "cairn token new NAME creates a token for user NAME and prints it "
        "on standard output: 64 hexadecimal characters (256 random bits). "
        "The store keeps only its SHA-256 digest, so this is the only time "
        "it can be seen; keep it where the program reads it.\n\n"
        "cairn token revoke TOKEN revokes a token at once. Removing the "
        "user ('cairn user remove') revokes all of its tokens.",
    .options = options,
    .exit_status = CLI_ADMIN_EXIT_STATUS,
    .examples = "$ cairn token new alice > alice.token\n"
                "$ curl -H \"Authorization: Bearer $(cat alice.token)\" \\\n"
                "    https://taxii.example.org/taxii2/\n"
                "$ cairn token revoke \"$(cat alice.token)\"",
    .run = run,
};

static int new_token(const struct cli_command *cmd, const char *dir,
                     const char *name)
{
    char token[CAIRN_STORE_TOKEN_LEN];
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    if (cli_check_user_name(cmd, name) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_token_new(s, name, token);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no user '%s' ('cairn user add %s' adds it)", name,
                  name);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "creating a token");
        goto out;
    }
    printf("%s\n", token);
    status = CLI_EXIT_OK;
out:
    explicit_bzero(token, sizeof token);
    cairn_store_close(s);
    return status;
}

static bool is_token(const char *t)
{
    if (strlen(t) != CAIRN_STORE_TOKEN_LEN - 1)
        return false;
    return strspn(t, "0123456789abcdefABCDEF") == CAIRN_STORE_TOKEN_LEN - 1;
}

static int revoke_token(const struct cli_command *cmd, const char *dir,
                        const char *token)
{
    char lower[CAIRN_STORE_TOKEN_LEN];
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    /* Never echo the argument: it may be a live secret with a typo. */
    if (!is_token(token)) {
        cli_error(cmd, "not a token: a token is %d hexadecimal characters",
                  CAIRN_STORE_TOKEN_LEN - 1);
        return CLI_EXIT_ERROR;
    }
    /* Tokens are printed in lower case; accept a copy made upper case. */
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)token[i]);
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_token_remove(s, lower);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no such token (already revoked, or its user was "
                       "removed)");
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "revoking the token");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_close(s);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_token;
    const char *dir = NULL;
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_DATA)
            dir = arg;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;

    if (sub == NULL) {
        cli_error(cmd, "needs a subcommand: new or revoke; see 'cairn token "
                       "--help'");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(sub, "new") == 0) {
        if (nargs != 2) {
            cli_error(cmd, "new takes one user NAME");
            return CLI_EXIT_ERROR;
        }
        return new_token(cmd, dir, argv[optind + 1]);
    }
    if (strcmp(sub, "revoke") == 0) {
        if (nargs != 2) {
            cli_error(cmd, "revoke takes one TOKEN");
            return CLI_EXIT_ERROR;
        }
        return revoke_token(cmd, dir, argv[optind + 1]);
    }
    cli_error(cmd, "unknown subcommand '%s'; use new or revoke", sub);
    return CLI_EXIT_ERROR;
}
