/* SPDX-License-Identifier: Apache-2.0 */
/* The cairn program: how a subcommand describes itself and is run. */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cairn/store.h"

/*
 * Each subcommand is described once, by a struct cli_command in its own
 * cmd_NAME.c. main.c lists them; `cairn --help`, `cairn help NAME`,
 * `cairn NAME --help` and the man page (`cairn help --man`) are all
 * generated from these descriptions, so they cannot drift apart.
 */

/* Exit codes shared by every subcommand. */
enum {
    CLI_EXIT_OK = 0,      /* success; for checks: everything passed */
    CLI_EXIT_FINDINGS = 1, /* ran fine, found something (invalid, a hit) */
    CLI_EXIT_ERROR = 2,   /* usage, I/O or internal error */
};

struct cli_option {
    char short_name;     /* 0 when none */
    const char *long_name;
    const char *arg;     /* metavariable such as "FILE", NULL for a flag */
    const char *help;    /* one sentence */
};

struct cli_command {
    const char *name;     /* "validate", or "pattern" for a group */
    const char *synopsis; /* arguments after the name: "[OPTIONS] FILE..." */
    const char *summary;  /* one line for the command list */
    const char *description; /* paragraphs, '\n\n' between them */
    const struct cli_option *options; /* ends with {0, NULL, ...} */
    const char *exit_status; /* text of the EXIT STATUS section, or NULL */
    const char *examples;    /* lines "$ cairn ...", or NULL */
    /* argv[0] is the command name; returns an exit code (enum above). */
    int (*run)(int argc, char **argv);
};

/* Print the command's usage and options (as `cairn help NAME` does). */
void cli_print_help(FILE *out, const struct cli_command *cmd);

/* "cairn NAME: " prefix, then the message and a newline, to stderr. */
void cli_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether standard output is a terminal (for colour and progress). */
bool cli_stdout_is_tty(void);

/*
 * One line on standard error, as a finding about someone's input: control
 * characters in it are shown as '?', so a crafted file cannot move the
 * cursor or forge lines; at most 1,399 bytes.
 */
void cli_print_line(const char *line);

/*
 * Parse a size such as "16M", "512k", "2G" or "1000" (bytes). Returns 0 and
 * sets *out, or -1 when the text is not a size.
 */
int cli_parse_size(const char *text, size_t *out);

/*
 * Read a whole file (or standard input for "-") into memory, at most
 * `max_len` bytes. Regular files are mapped, not copied. Returns 0, or -1
 * with a message naming the file already printed. Release with
 * cli_file_release.
 */
struct cli_file {
    const char *name;
    char *data;
    size_t len;
    bool mapped;
};
int cli_file_load(const struct cli_command *cmd, const char *path,
                  size_t max_len, struct cli_file *out);
void cli_file_release(struct cli_file *f);

/*
 * Additions for the frame (main.c, util.c); the declarations above are the
 * contract and stay as they are.
 *
 * Conventions of the text fields: `description` paragraphs are wrapped,
 * except a paragraph whose lines start with two blanks, which is printed as
 * written (lists, tables). `exit_status` is either prose or lines
 * "CODE text", which become a table. Every command takes -h/--help; main.c
 * answers it from the table, so `run` never sees it and options need not
 * list it.
 */

/*
 * getopt_long over the command's option table: returns the index in
 * cmd->options of the next option given (with *arg_out its argument, or
 * NULL), -1 when the options are over (operands start at `optind`), or -2
 * on a usage error, message already printed (exit with CLI_EXIT_ERROR).
 */
int cli_getopt(const struct cli_command *cmd, int argc, char **argv,
               const char **arg_out);

/* "16M", "512K", "1G" or plain bytes: the shortest exact form of `len`. */
int cli_format_size(size_t len, char *buf, size_t buflen);

/* Pieces of cli_print_help, for `cairn --help`. */
void cli_print_options(FILE *out, const struct cli_option *opts);
void cli_print_exit_status(FILE *out, const char *text);
bool cli_paragraph_is_verbatim(const char *para, size_t len);

/*
 * The data directory and its store (cli/data.c). `dir` NULL means the
 * default: $CAIRN_DATA_DIR, else $XDG_DATA_HOME/cairn, else
 * $HOME/.local/share/cairn. The store is DIR/cairn.db. With `bootstrap`
 * true, a missing directory is created (mode 0700) and a new store gets
 * its first API root and collection; without it, a missing store is an
 * error that says how to create one. Messages are printed; returns 0 or -1.
 */
const char *cli_data_dir_default(char *buf, size_t len);
int cli_store_open(const struct cli_command *cmd, const char *dir,
                   bool bootstrap, struct cairn_store **out);

/* The subcommands (one cmd_NAME.c each). */
extern const struct cli_command cli_cmd_validate;
extern const struct cli_command cli_cmd_pattern;
extern const struct cli_command cli_cmd_serve;
extern const struct cli_command cli_cmd_user;
extern const struct cli_command cli_cmd_token;
extern const struct cli_command cli_cmd_collection;
extern const struct cli_command cli_cmd_grant;
extern const struct cli_command cli_cmd_revoke;
extern const struct cli_command cli_cmd_import;
extern const struct cli_command cli_cmd_hunt;
extern const struct cli_command cli_cmd_archive;
extern const struct cli_command cli_cmd_analyse;
extern const struct cli_command cli_cmd_lookup;
extern const struct cli_command cli_cmd_report;
extern const struct cli_command cli_cmd_feed;
extern const struct cli_command cli_cmd_export;
extern const struct cli_command cli_cmd_pull;
extern const struct cli_command cli_cmd_push;
extern const struct cli_command cli_cmd_sync;
extern const struct cli_command cli_cmd_key;
extern const struct cli_command cli_cmd_sign;
extern const struct cli_command cli_cmd_verify;

/*
 * Signing keys (cli/cmd_key.c). A key NAME with no '/' is the file
 * DATA/keys/NAME.key of the data directory `dir` (NULL: the default);
 * anything else is a file name. cli_key_load prints what is wrong and
 * returns -1; cli_keys_dir writes DATA/keys into buf.
 */
struct cairn_sign_key;
int cli_keys_dir(const struct cli_command *cmd, const char *dir, char *buf,
                 size_t len);
int cli_key_load(const struct cli_command *cmd, const char *dir,
                 const char *name, struct cairn_sign_key **out);

#endif
