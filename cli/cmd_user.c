/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn user`: add, list, remove users and change their passwords. */
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_RIGHTS,
    OPT_IDENTITY,
    OPT_MEMBER,
    OPT_NO_MEMBER,
    OPT_SHARING,
    OPT_ADMIN,
    OPT_NO_ADMIN,
    OPT_IDENTITIES,
    OPT_NO_IDENTITIES,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_RIGHTS] = {0, "rights", NULL,
                    "list: after each name, the collections the user may "
                    "read or write."},
    [OPT_IDENTITY] = {0, "identity", "ID",
                      "add, set: the STIX identity (identity--UUID) the "
                      "user acts for; TLP:RED objects naming it may be "
                      "read. 'none' removes it."},
    [OPT_MEMBER] = {0, "member", NULL,
                    "add, set: the user is a member of the sharing "
                    "community and may read TLP:AMBER and AMBER+STRICT."},
    [OPT_NO_MEMBER] = {0, "no-member", NULL,
                       "set: the user is no longer a community member."},
    [OPT_SHARING] = {0, "sharing", NULL,
                     "list: after each name, its identity and whether it is "
                     "a community member."},
    [OPT_ADMIN] = {0, "admin", NULL,
                   "add, set: the user administers the web console (its "
                   "pages of users, tokens, grants and peers)."},
    [OPT_NO_ADMIN] = {0, "no-admin", NULL,
                      "set: the user is no longer an administrator."},
    [OPT_IDENTITIES] = {0, "identities", NULL,
                        "add, set: the user is entitled to the identities "
                        "behind sightings: exact counts below the privacy "
                        "threshold and the organisations' ids in the HTTP "
                        "report and the console (docs/analysis.md)."},
    [OPT_NO_IDENTITIES] = {0, "no-identities", NULL,
                           "set: the user no longer is."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_user = {
    .name = "user",
    .synopsis = "add NAME [--identity ID] [--member] [--admin] "
                "[--identities] | set NAME [--identity ID] [--member | "
                "--no-member] [--admin | --no-admin] [--identities | "
                "--no-identities] | list [--rights | --sharing] "
                "| remove NAME | passwd NAME [--data DIR]",
    .summary = "Add, list and remove the users of the TAXII server.",
    .description =
        "Users log in to the TAXII server with HTTP Basic authentication "
        "(or with an API token, see 'cairn token'); what each may read "
        "and write is granted per collection with 'cairn grant'. A new "
        "user has no rights.\n\n"
        "cairn user add NAME adds a user. The password is the first line "
        "of standard input, without its newline; when standard input is a "
        "terminal, cairn asks for it twice without echoing it. An empty "
        "password is refused. The store keeps only a salted scrypt hash of "
        "it. NAME is 1 to 128 bytes without control characters or ':'. "
        "Like 'cairn collection add' and 'cairn serve', it creates the "
        "data directory and its store when they do not exist yet; the "
        "other administration commands need them to exist.\n\n"
        "cairn user passwd NAME sets a new password, read the same way.\n\n"
        "What a user may read also depends on the TLP 2.0 markings of the "
        "objects (docs/federation.md): TLP:CLEAR and GREEN anyone with the "
        "read right; TLP:AMBER and AMBER+STRICT only community members "
        "(--member); TLP:RED only the identity the object names "
        "(--identity, matched against its created_by_ref and "
        "x_cairn_recipients). cairn user set NAME changes these two "
        "attributes; what it does not name stays as it was.\n\n"
        "cairn user list prints the user names, one per line, in order. "
        "With --rights, each line is NAME  COLLECTION  RIGHTS, one per "
        "collection the user holds rights on (RIGHTS is read, write or "
        "read,write), or NAME  -  none for a user without rights.\n\n"
        "cairn user remove NAME removes a user with its API tokens and "
        "rights.\n\n"
        "cairn user list --sharing prints NAME  IDENTITY  MEMBER per user, "
        "with - for no identity and member or - for the flag, and admin "
        "after it for an administrator of the web console (--admin, "
        "docs/console.md) and identities for a user entitled to the "
        "identities behind sightings (--identities).",
    .options = options,
    .exit_status = CLI_ADMIN_EXIT_STATUS,
    .examples = "$ cairn user add alice\n"
                "$ printf '%s\\n' \"$PASSWORD\" | cairn user add bob --data "
                "/var/lib/cairn\n"
                "$ cairn user set hub-a --member --identity \\\n"
                "    identity--0b7c1c8e-0b7a-4c4e-9a54-2d8e1c3a4f10\n"
                "$ cairn user list\n"
                "$ cairn user remove bob",
    .run = run,
};

/* ---- reading a password ---------------------------------------------------
 */

/*
 * The terminal's settings while echo is off, so that Ctrl-C does not leave
 * the user's shell without echo.
 */
static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
    if (echo_off)
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int set_echo(bool on)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

    if (!on) {
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
            return -1;
        t = saved_termios;
        t.c_lflag &= ~(tcflag_t)ECHO;
        t.c_lflag |= ECHONL;
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], restore_echo);
        echo_off = 1;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
            return -1;
        return 0;
    }
    int rc = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    echo_off = 0;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    return rc;
}

/*
 * One line of standard input without its newline into `buf` (of
 * CAIRN_STORE_PASSWORD_MAX + 1 bytes). Returns 0, or -1 with a message.
 */
static int read_line(const struct cli_command *cmd, char *buf)
{
    size_t len = 0;
    int c;

    while ((c = getchar()) != EOF && c != '\n') {
        if (c == '\0') {
            cli_error(cmd, "the password contains a NUL byte");
            return -1;
        }
        if (len == CAIRN_STORE_PASSWORD_MAX) {
            cli_error(cmd, "password longer than %d bytes",
                      CAIRN_STORE_PASSWORD_MAX);
            return -1;
        }
        buf[len++] = (char)c;
    }
    buf[len] = '\0';
    if (ferror(stdin)) {
        cli_error(cmd, "reading the password from standard input failed");
        return -1;
    }
    if (len == 0) {
        cli_error(cmd, "empty password refused (it is the first line of "
                       "standard input)");
        return -1;
    }
    return 0;
}

static int prompt_line(const struct cli_command *cmd, const char *prompt,
                       char *buf)
{
    fputs(prompt, stderr);
    fflush(stderr);
    if (set_echo(false) < 0) {
        cli_error(cmd, "cannot turn off the terminal's echo");
        (void)set_echo(true);
        return -1;
    }
    int rc = read_line(cmd, buf);
    (void)set_echo(true);
    return rc;
}

/* The password for `name`: from a terminal asked twice, else one line. */
static int read_password(const struct cli_command *cmd, const char *name,
                         char *buf)
{
    char again[CAIRN_STORE_PASSWORD_MAX + 1];
    char prompt[CAIRN_STORE_NAME_MAX + 32];
    int rc = -1;

    if (!isatty(STDIN_FILENO))
        return read_line(cmd, buf);
    snprintf(prompt, sizeof prompt, "Password for %s: ", name);
    if (prompt_line(cmd, prompt, buf) < 0)
        goto out;
    if (prompt_line(cmd, "Again: ", again) < 0)
        goto out;
    if (strcmp(buf, again) != 0) {
        cli_error(cmd, "the two passwords differ; nothing changed");
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(again, sizeof again);
    return rc;
}

/* ---- subcommands ------------------------------------------------------------
 */

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

/* The sharing attributes asked for on the command line. */
struct share_args {
    const char *identity; /* NULL: unchanged; "none": removed */
    int member;           /* -1 unchanged, 0 or 1 */
    int admin;            /* -1 unchanged, 0 or 1 */
    int identities;       /* -1 unchanged, 0 or 1 */
};

static int check_identity(const struct cli_command *cmd, const char *id)
{
    if (strcmp(id, "none") == 0)
        return 0;
    if (strncmp(id, "identity--", 10) != 0 ||
        !cairn_uuid_check(id + 10, strlen(id + 10), false, NULL)) {
        cli_error(cmd, "--identity: '%s' is not identity--UUID (or none)", id);
        return -1;
    }
    return 0;
}

/* Apply `sa` to user `name`, keeping what it leaves unchanged. */
static int apply_share(const struct cli_command *cmd, struct cairn_store *s,
                       const char *name, const struct share_args *sa)
{
    struct cairn_store_user_share sh;
    char what[CAIRN_STORE_NAME_MAX + 64];
    int rc = cairn_store_user_share_get(s, name, &sh);

    if (rc == 0 && sa->identity != NULL)
        snprintf(sh.identity, sizeof sh.identity, "%s",
                 strcmp(sa->identity, "none") == 0 ? "" : sa->identity);
    if (rc == 0 && sa->member >= 0)
        sh.member = sa->member != 0;
    if (rc == 0)
        rc = cairn_store_user_share_set(s, name, &sh);
    if (rc == 0 && sa->admin >= 0)
        rc = cairn_store_user_admin_set(s, name, sa->admin != 0);
    if (rc == 0 && sa->identities >= 0)
        rc = cairn_store_user_identities_set(s, name, sa->identities != 0);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no user '%s'", name);
        return CLI_EXIT_FINDINGS;
    }
    if (rc < 0) {
        snprintf(what, sizeof what, "setting the sharing attributes of '%s'",
                 name);
        return cli_store_failed(cmd, rc, what);
    }
    return CLI_EXIT_OK;
}

static int set_share(const struct cli_command *cmd, const char *dir,
                     const char *name, const struct share_args *sa)
{
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    if (cli_check_user_name(cmd, name) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, false, &s) == 0)
        status = apply_share(cmd, s, name, sa);
    cairn_store_close(s);
    return status;
}

static int set_password(const struct cli_command *cmd, const char *dir,
                        const char *name, bool add, const struct share_args *sa)
{
    char password[CAIRN_STORE_PASSWORD_MAX + 1];
    struct cairn_store *s = NULL;
    char what[CAIRN_STORE_NAME_MAX + 64];
    int status = CLI_EXIT_ERROR;

    if (cli_check_user_name(cmd, name) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, add, &s) < 0)
        goto out;
    /* Refuse before asking for a password that would be thrown away. */
    int exists = user_exists(cmd, s, name);
    if (exists < 0)
        goto out;
    if (add && exists) {
        cli_error(cmd,
                  "user '%s' exists already ('cairn user passwd %s' "
                  "changes the password)",
                  name, name);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (!add && !exists) {
        cli_error(cmd, "no user '%s'", name);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (read_password(cmd, name, password) < 0)
        goto out;
    int rc = add ? cairn_store_user_add(s, name, password)
                 : cairn_store_user_set_password(s, name, password);
    if (rc < 0) {
        snprintf(what, sizeof what, "%s user '%s'",
                 add ? "adding" : "setting the password of", name);
        status = cli_store_failed(cmd, rc, what);
        goto out;
    }
    status = CLI_EXIT_OK;
    if (add && (sa->identity != NULL || sa->member >= 0 || sa->admin >= 0 ||
                sa->identities >= 0))
        status = apply_share(cmd, s, name, sa);
out:
    explicit_bzero(password, sizeof password);
    cairn_store_close(s);
    return status;
}

/* "alice  ID  read,write" for each collection alice holds rights on. */
static int print_rights(struct cairn_store *s, const char *name,
                        char (*ids)[CAIRN_UUID_STRLEN], size_t n_ids)
{
    bool any = false;

    for (size_t i = 0; i < n_ids; i++) {
        unsigned bits = 0;
        int rc = cairn_store_rights(s, name, ids[i], &bits);
        if (rc < 0)
            return rc;
        bits &= CAIRN_STORE_READ | CAIRN_STORE_WRITE;
        if (bits == 0)
            continue;
        printf("%s  %s  %s\n", name, ids[i],
               bits == CAIRN_STORE_READ    ? "read"
               : bits == CAIRN_STORE_WRITE ? "write"
                                           : "read,write");
        any = true;
    }
    if (!any)
        printf("%s  -  none\n", name);
    return 0;
}

/* The ids of every collection of every root, for --rights. */
static int all_collections(struct cairn_store *s,
                           char (**out)[CAIRN_UUID_STRLEN], size_t *n)
{
    struct cairn_store_api_root *roots = NULL;
    char(*ids)[CAIRN_UUID_STRLEN] = NULL;
    size_t n_roots = 0, n_ids = 0;
    int rc = cairn_store_api_root_list(s, &roots, &n_roots);

    for (size_t r = 0; rc == 0 && r < n_roots; r++) {
        struct cairn_store_collection *list = NULL;
        size_t n_list = 0;
        rc = cairn_store_collection_list(s, roots[r].name, &list, &n_list);
        if (rc == 0 && n_list > 0) {
            char(*grown)[CAIRN_UUID_STRLEN] =
                cairn_realloc(ids, (n_ids + n_list) * sizeof *ids);
            if (grown == NULL)
                rc = CAIRN_ENOMEM;
            else
                ids = grown;
            for (size_t i = 0; rc == 0 && i < n_list; i++)
                memcpy(ids[n_ids++], list[i].id, sizeof *ids);
        }
        cairn_store_collection_list_free(list, n_list);
    }
    cairn_store_api_root_list_free(roots, n_roots);
    if (rc < 0) {
        cairn_free(ids);
        ids = NULL;
        n_ids = 0;
    }
    *out = ids;
    *n = n_ids;
    return rc;
}

static int print_sharing(struct cairn_store *s, const char *name)
{
    struct cairn_store_user_share sh;
    bool admin = false, idents = false;
    int rc = cairn_store_user_share_get(s, name, &sh);
    if (rc == 0)
        rc = cairn_store_user_admin_get(s, name, &admin);
    if (rc == 0)
        rc = cairn_store_user_identities_get(s, name, &idents);
    if (rc == CAIRN_EUNSUPPORTED)
        rc = 0;
    if (rc == 0)
        printf("%s  %s  %s%s%s\n", name, sh.identity[0] ? sh.identity : "-",
               sh.member ? "member" : "-", admin ? "  admin" : "",
               idents ? "  identities" : "");
    return rc;
}

static int list_users(const struct cli_command *cmd, const char *dir,
                      bool rights, bool sharing)
{
    char(*colls)[CAIRN_UUID_STRLEN] = NULL;
    size_t n_colls = 0;
    struct cairn_store *s = NULL;
    char **names = NULL;
    size_t n = 0;
    int status = CLI_EXIT_ERROR;

    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_user_list(s, &names, &n);
    if (rc == 0 && rights)
        rc = all_collections(s, &colls, &n_colls);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (rights)
            rc = print_rights(s, names[i], colls, n_colls);
        else if (sharing)
            rc = print_sharing(s, names[i]);
        else
            printf("%s\n", names[i]);
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "listing the users");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_free(colls);
    cairn_store_name_list_free(names, n);
    cairn_store_close(s);
    return status;
}

static int remove_user(const struct cli_command *cmd, const char *dir,
                       const char *name)
{
    struct cairn_store *s = NULL;
    char what[CAIRN_STORE_NAME_MAX + 32];
    int status = CLI_EXIT_ERROR;

    if (cli_check_user_name(cmd, name) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_user_remove(s, name);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no user '%s'", name);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        snprintf(what, sizeof what, "removing user '%s'", name);
        status = cli_store_failed(cmd, rc, what);
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_close(s);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_user;
    const char *dir = NULL;
    bool rights = false, sharing = false;
    struct share_args sa = {.member = -1, .admin = -1, .identities = -1};
    const char *arg;
    int opt;

    /* Options may come before or after the subcommand. */
    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        if (opt == OPT_DATA)
            dir = arg;
        else if (opt == OPT_RIGHTS)
            rights = true;
        else if (opt == OPT_SHARING)
            sharing = true;
        else if (opt == OPT_IDENTITY)
            sa.identity = arg;
        else if (opt == OPT_MEMBER)
            sa.member = 1;
        else if (opt == OPT_NO_MEMBER)
            sa.member = 0;
        else if (opt == OPT_ADMIN)
            sa.admin = 1;
        else if (opt == OPT_NO_ADMIN)
            sa.admin = 0;
        else if (opt == OPT_IDENTITIES)
            sa.identities = 1;
        else if (opt == OPT_NO_IDENTITIES)
            sa.identities = 0;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;
    bool takes_name =
        sub != NULL && (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0 ||
                        strcmp(sub, "passwd") == 0 || strcmp(sub, "set") == 0);

    if (sub == NULL) {
        cli_error(cmd, "needs a subcommand: add, set, list, remove or "
                       "passwd; see 'cairn user --help'");
        return CLI_EXIT_ERROR;
    }
    if ((rights || sharing) && strcmp(sub, "list") != 0) {
        cli_error(cmd, "--%s is an option of 'user list'",
                  rights ? "rights" : "sharing");
        return CLI_EXIT_ERROR;
    }
    if (rights && sharing) {
        cli_error(cmd, "--rights and --sharing exclude each other");
        return CLI_EXIT_ERROR;
    }
    bool is_set = strcmp(sub, "set") == 0;
    if ((sa.identity != NULL || sa.member >= 0 || sa.admin >= 0 ||
         sa.identities >= 0) &&
        !is_set && strcmp(sub, "add") != 0) {
        cli_error(cmd, "--identity, --member, --admin, --identities and "
                       "their --no- forms are options of 'user add' and "
                       "'user set'");
        return CLI_EXIT_ERROR;
    }
    if ((sa.member == 0 || sa.admin == 0 || sa.identities == 0) && !is_set) {
        cli_error(cmd, "--no-member, --no-admin and --no-identities are "
                       "options of 'user set'");
        return CLI_EXIT_ERROR;
    }
    if (is_set && sa.identity == NULL && sa.member < 0 && sa.admin < 0 &&
        sa.identities < 0) {
        cli_error(cmd, "set needs --identity ID, --member, --no-member, "
                       "--admin, --no-admin, --identities or "
                       "--no-identities");
        return CLI_EXIT_ERROR;
    }
    if (sa.identity != NULL && check_identity(cmd, sa.identity) < 0)
        return CLI_EXIT_ERROR;
    if (takes_name && nargs != 2) {
        cli_error(cmd, "%s takes one user NAME", sub);
        return CLI_EXIT_ERROR;
    }
    if (strcmp(sub, "list") == 0) {
        if (nargs != 1) {
            cli_error(cmd, "list takes no arguments");
            return CLI_EXIT_ERROR;
        }
        return list_users(cmd, dir, rights, sharing);
    }
    if (strcmp(sub, "add") == 0)
        return set_password(cmd, dir, argv[optind + 1], true, &sa);
    if (strcmp(sub, "passwd") == 0)
        return set_password(cmd, dir, argv[optind + 1], false, &sa);
    if (is_set)
        return set_share(cmd, dir, argv[optind + 1], &sa);
    if (strcmp(sub, "remove") == 0)
        return remove_user(cmd, dir, argv[optind + 1]);
    cli_error(cmd,
              "unknown subcommand '%s'; use add, set, list, remove or "
              "passwd",
              sub);
    return CLI_EXIT_ERROR;
}
