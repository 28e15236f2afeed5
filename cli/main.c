/* SPDX-License-Identifier: Apache-2.0 */
/* The cairn program: global options, help, the man page, the commands. */
#include <stdio.h>
#include <string.h>

#include "cairn/cairn.h"
#include "cli.h"

/* Every subcommand; adding one is adding its line here. */
static const struct cli_command *const commands[] = {
    &cli_cmd_validate,
    &cli_cmd_pattern,
    &cli_cmd_serve,
    &cli_cmd_hunt,
    &cli_cmd_archive,
    &cli_cmd_analyse,
    &cli_cmd_lookup,
    &cli_cmd_report,
    &cli_cmd_import,
    &cli_cmd_feed,
    &cli_cmd_export,
    &cli_cmd_pull,
    &cli_cmd_push,
    &cli_cmd_sync,
    &cli_cmd_collection,
    &cli_cmd_user,
    &cli_cmd_token,
    &cli_cmd_grant,
    &cli_cmd_revoke,
    &cli_cmd_key,
    &cli_cmd_sign,
    &cli_cmd_verify,
    NULL,
};

static const char program_summary[] =
    "check, share and hunt STIX 2.1 threat intelligence";

static const char program_description[] =
    "cairn is a threat-intelligence exchange and hunting node. It reads and "
    "checks STIX 2.1 documents, and is growing into a node that shares "
    "intelligence over TAXII 2.1, hunts local telemetry for every indicator "
    "it holds, and reports what it finds back as STIX sightings.\n\n"
    "Each task is a command, run as 'cairn COMMAND [OPTIONS] [ARGS]'. Every "
    "command accepts -h or --help.";

static const struct cli_option global_options[] = {
    {'V', "version", NULL, "Print the version and exit."},
    {0, NULL, NULL, NULL},
};

static const char global_exit_status[] =
    "0 Success: every input was checked and passed.\n"
    "1 The command ran and found something: an invalid document, a "
    "match.\n"
    "2 Usage error, unreadable input, a limit reached, or an internal "
    "error.";

static const char see_also[] =
    "jq(1). STIX Version 2.1, OASIS Standard, "
    "https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html";

static const char bugs[] =
    "Report bugs, with the smallest input that shows them and the output "
    "of 'cairn --version', to the project's issue tracker.";

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; commands[i] != NULL; i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

static void print_usage(FILE *out)
{
    fputs("Usage: cairn [--help | --version] COMMAND [OPTIONS] [ARGS]\n", out);
}

static void print_program_help(FILE *out)
{
    size_t width = 4; /* "help" */

    print_usage(out);
    fprintf(out, "\ncairn: %s.\n\n", program_summary);
    fputs("Commands:\n", out);
    for (size_t i = 0; commands[i] != NULL; i++) {
        size_t n = strlen(commands[i]->name);
        if (n > width)
            width = n;
    }
    for (size_t i = 0; commands[i] != NULL; i++)
        fprintf(out, "  %-*s  %s\n", (int)width, commands[i]->name,
                commands[i]->summary);
    fprintf(out, "  %-*s  %s\n", (int)width, "help",
            "Show the help of cairn or of one command.");
    fputs("\nOptions:\n", out);
    cli_print_options(out, global_options);
    fputs("\nExit status:\n", out);
    cli_print_exit_status(out, global_exit_status);
    fputs("\nRun 'cairn help COMMAND' for the options of a command, and "
          "'cairn help --man'\nfor the whole manual.\n",
          out);
}

/* ---- the man page ----------------------------------------------------- */

/*
 * Write `len` bytes of text as roff: backslashes and minus signs escaped
 * (so options can be copied from the rendered page), and a line that would
 * start with a control character protected with \&.
 */
static void roff_text(FILE *out, const char *s, size_t len, bool *bol)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (*bol && (c == '.' || c == '\''))
            fputs("\\&", out);
        *bol = false;
        if (c == '\\')
            fputs("\\e", out);
        else if (c == '-')
            fputs("\\-", out);
        else
            fputc(c, out);
        if (c == '\n')
            *bol = true;
    }
}

static void roff_line(FILE *out, const char *s)
{
    bool bol = true;

    roff_text(out, s, strlen(s), &bol);
    fputc('\n', out);
}

/* Paragraphs: .PP before each; indented ones as written, in .nf/.fi. */
static void roff_paragraphs(FILE *out, const char *text)
{
    const char *p = text;

    while (*p != '\0') {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool bol = true;
        bool verbatim = cli_paragraph_is_verbatim(p, len);

        fputs(".PP\n", out);
        if (verbatim)
            fputs(".nf\n", out);
        roff_text(out, p, len, &bol);
        fputc('\n', out);
        if (verbatim)
            fputs(".fi\n", out);
        p += len;
        while (*p == '\n')
            p++;
    }
}

static void roff_option(FILE *out, const struct cli_option *o)
{
    bool bol = false;

    fputs(".TP\n", out);
    if (o->short_name)
        fprintf(out, "\\fB\\-%c\\fR%s", o->short_name,
                o->long_name ? ", " : "");
    if (o->long_name) {
        fputs("\\fB\\-\\-", out);
        roff_text(out, o->long_name, strlen(o->long_name), &bol);
        fputs("\\fR", out);
    }
    if (o->arg) {
        fputs(" \\fI", out);
        roff_text(out, o->arg, strlen(o->arg), &bol);
        fputs("\\fR", out);
    }
    fputc('\n', out);
    roff_line(out, o->help);
}

static void roff_options(FILE *out, const struct cli_option *opts)
{
    static const struct cli_option help = {'h', "help", NULL,
                                           "Show this help and exit."};

    for (const struct cli_option *o = opts;
         o && (o->long_name || o->short_name); o++)
        roff_option(out, o);
    roff_option(out, &help);
}

/* "CODE text" lines as a tagged list, prose as paragraphs. */
static void roff_exit_status(FILE *out, const char *text)
{
    const char *p = text;
    bool table = true;

    for (const char *q = text; *q != '\0';) {
        size_t code = strspn(q, "0123456789");
        if (code == 0 || q[code] != ' ') {
            table = false;
            break;
        }
        q += strcspn(q, "\n");
        q += *q == '\n';
    }
    if (!table) {
        roff_paragraphs(out, text);
        return;
    }
    while (*p != '\0') {
        size_t code = strspn(p, "0123456789");
        size_t n = strcspn(p, "\n");
        bool bol = true;
        fprintf(out, ".TP\n.B %.*s\n", (int)code, p);
        roff_text(out, p + code + 1, n - code - 1, &bol);
        fputc('\n', out);
        p += n + (p[n] == '\n');
    }
}

static void roff_synopsis(FILE *out, const struct cli_command *cmd)
{
    fprintf(out, ".B cairn %s\n", cmd->name);
    roff_line(out, cmd->synopsis);
}

static void print_man(FILE *out)
{
    fprintf(out,
            ".\\\" Generated by 'cairn help --man' from the command table; "
            "do not edit.\n"
            ".TH CAIRN 1 \"\" \"cairn %s\" \"User Commands\"\n"
            ".nh\n",
            CAIRN_VERSION);
    fputs(".SH NAME\ncairn \\- ", out);
    roff_line(out, program_summary);

    fputs(".SH SYNOPSIS\n.B cairn\n"
          "[\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR]\n",
          out);
    for (size_t i = 0; commands[i] != NULL; i++) {
        fputs(".br\n", out);
        roff_synopsis(out, commands[i]);
    }
    fputs(".br\n.B cairn help\n"
          "[\\fICOMMAND\\fR | \\fB\\-\\-man\\fR]\n",
          out);

    fputs(".SH DESCRIPTION\n", out);
    roff_paragraphs(out, program_description);
    fputs(".SH OPTIONS\n", out);
    roff_options(out, global_options);

    fputs(".SH COMMANDS\n", out);
    for (size_t i = 0; commands[i] != NULL; i++) {
        const struct cli_command *cmd = commands[i];
        fprintf(out, ".SS %s\n", cmd->name);
        roff_synopsis(out, cmd);
        fputs(".PP\n", out);
        roff_line(out, cmd->summary);
        if (cmd->description)
            roff_paragraphs(out, cmd->description);
        fputs(".PP\nOptions:\n", out);
        roff_options(out, cmd->options);
    }
    fputs(".SS help\n.B cairn help\n"
          "[\\fICOMMAND\\fR | \\fB\\-\\-man\\fR]\n"
          ".PP\nWithout an argument, the same as "
          "\\fBcairn \\-\\-help\\fR.\n"
          "With a command name, the same as "
          "\\fBcairn\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR.\n"
          "With \\fB\\-\\-man\\fR, this manual page in roff.\n",
          out);

    fputs(".SH EXIT STATUS\n", out);
    roff_exit_status(out, global_exit_status);
    for (size_t i = 0; commands[i] != NULL; i++) {
        if (commands[i]->exit_status == NULL)
            continue;
        fprintf(out, ".SS cairn %s\n", commands[i]->name);
        roff_exit_status(out, commands[i]->exit_status);
    }

    fputs(".SH EXAMPLES\n", out);
    for (size_t i = 0; commands[i] != NULL; i++) {
        if (commands[i]->examples == NULL)
            continue;
        bool bol = true;
        fputs(".PP\n.nf\n.RS 4\n", out);
        roff_text(out, commands[i]->examples, strlen(commands[i]->examples),
                  &bol);
        fputs("\n.RE\n.fi\n", out);
    }
    fputs(".SH SEE ALSO\n", out);
    roff_line(out, see_also);
    fputs(".SH BUGS\n", out);
    roff_line(out, bugs);
}

/* ---- dispatch ------------------------------------------------------------ */

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/*
 * Whether the command's arguments ask for help: -h or --help before "--",
 * not taken as the argument of an option (`--max-object -h`) -- the same
 * reading getopt_long will make.
 */
static bool wants_help(const struct cli_command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return false;
        if (is_help(a))
            return true;
        if (a[0] != '-' || a[1] == '\0')
            continue;
        for (const struct cli_option *o = cmd->options;
             o && (o->long_name || o->short_name); o++) {
            if (o->arg == NULL)
                continue;
            bool takes_next = false;
            if (a[1] == '-' && o->long_name && strcmp(a + 2, o->long_name) == 0)
                takes_next = true;
            /* "-x" alone, or a cluster ending in it ("-qx"). */
            if (a[1] != '-' && o->short_name &&
                a[strlen(a) - 1] == o->short_name &&
                strchr(a + 1, o->short_name) == a + strlen(a) - 1)
                takes_next = true;
            if (takes_next) {
                i++;
                break;
            }
        }
    }
    return false;
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        print_program_help(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        cli_error(NULL, "help takes one command name; see 'cairn --help'");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(argv[1], "--man") == 0) {
        print_man(stdout);
        return CLI_EXIT_OK;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        print_program_help(stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_command *cmd = find_command(argv[1]);
    if (cmd == NULL) {
        cli_error(NULL, "unknown command '%s'; see 'cairn --help'", argv[1]);
        return CLI_EXIT_ERROR;
    }
    cli_print_help(stdout, cmd);
    return CLI_EXIT_OK;
}

/* Help and version output must reach the reader, or the exit says so. */
static int finish(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_EXIT_OK || rc == CLI_EXIT_FINDINGS) {
            cli_error(NULL, "cannot write to standard output");
            rc = CLI_EXIT_ERROR;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    cairn_alloc_init();

    if (argc < 2) {
        print_usage(stderr);
        fputs("Run 'cairn --help' for the list of commands.\n", stderr);
        return CLI_EXIT_ERROR;
    }
    const char *first = argv[1];
    if (is_help(first))
        return finish(run_help(1, argv + 1));
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        printf("cairn %s\n", cairn_version());
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(first, "help") == 0)
        return finish(run_help(argc - 1, argv + 1));
    if (first[0] == '-') {
        cli_error(NULL, "unknown option '%s'; see 'cairn --help'", first);
        return CLI_EXIT_ERROR;
    }
    const struct cli_command *cmd = find_command(first);
    if (cmd == NULL) {
        cli_error(NULL, "unknown command '%s'; see 'cairn --help'", first);
        return CLI_EXIT_ERROR;
    }
    if (wants_help(cmd, argc - 1, argv + 1)) {
        cli_print_help(stdout, cmd);
        return finish(CLI_EXIT_OK);
    }
    return finish(cmd->run(argc - 1, argv + 1));
}
