/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the administration commands (cli/data.c). */
#ifndef CAIRN_CLI_ADMIN_H
#define CAIRN_CLI_ADMIN_H

#include "cli.h"

/* The --data option, worded the same in every command's table. */
#define CLI_DATA_OPTION                                                        \
    {                                                                          \
        0, "data", "DIR",                                                      \
            "Data directory holding the store cairn.db (default: "             \
            "$CAIRN_DATA_DIR, "                                                \
            "else $XDG_DATA_HOME/cairn, else ~/.local/share/cairn), or a "     \
            "postgresql:// URL for a store in PostgreSQL (docs/postgres.md)."  \
    }

/* The exit status text every administration command shares. */
#define CLI_ADMIN_EXIT_STATUS                                                  \
    "0 Done.\n"                                                                \
    "1 Refused: the named user, token or collection does not exist, or "       \
    "already exists.\n"                                                        \
    "2 Usage error, a data directory or store that cannot be opened, or an "   \
    "internal error."

/*
 * Checks of names given on the command line, made before the store is
 * opened so that the message names the argument. Each prints what is wrong
 * and returns -1, or returns 0.
 */
int cli_check_user_name(const struct cli_command *cmd, const char *name);
int cli_check_collection_id(const struct cli_command *cmd, const char *id);
int cli_check_api_root_name(const struct cli_command *cmd, const char *name);

/*
 * Report a failed store call `what` ("adding user 'bob'") and return the
 * exit status it earns: CLI_EXIT_FINDINGS for CAIRN_ENOTFOUND and
 * CAIRN_EEXIST (a refusal), CLI_EXIT_ERROR for anything else.
 */
int cli_store_failed(const struct cli_command *cmd, int rc, const char *what);

/* The --warninglists option, worded the same in every command's table. */
#define CLI_WARNINGLISTS_OPTION                                                \
    {                                                                          \
        0, "warninglists", "PATH",                                             \
            "Known false positives: a MISP warninglist (list.json) or a "     \
            "directory of them (default: $CAIRN_WARNINGLISTS, else none; "     \
            "docs/analysis.md)."                                               \
    }

/*
 * Load the warninglists at `path` (NULL: $CAIRN_WARNINGLISTS, else none:
 * *out NULL). Every bad file or entry is reported as a warning naming it,
 * and the others load; a path that cannot be read is an error. Returns 0
 * or -1 (reported).
 */
struct cairn_warninglists;
int cli_warninglists_load(const struct cli_command *cmd, const char *path,
                          struct cairn_warninglists **out);

#endif
