/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn pull`, `cairn push` and `cairn sync`: move objects between nodes. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cairn/taxii.h"
#include "cli.h"

enum {
    OPT_DATA,
    OPT_COLLECTION,
    OPT_LOCAL, /* --into for pull, --from for push */
    OPT_USER,
    OPT_PASSWORD_FILE,
    OPT_TOKEN_FILE,
    OPT_CACERT,
    OPT_CERT,
    OPT_KEY,
    OPT_LIMIT,
    OPT_CONNECT_TIMEOUT,
    OPT_TIMEOUT,
    OPT_RETRIES,
    OPT_MAX_PAGES,
    OPT_MAX_OBJECTS,
    OPT_DEADLINE,
    OPT_QUIET,
    OPT_SIGNATURES,
    OPT_TRUST,
    OPT_WARNINGLISTS,
    OPT_TYPE, /* push only from here on, so that pull's table ends here */
    OPT_IDENTITY,
    OPT_MEMBER,
    OPT_ANONYMIZE,
    OPT_RESTRICTED,
};

/* --restricted-marking options one push may have. */
#define RESTRICTED_MAX 64

#define REMOTE_OPTION                                                          \
    [OPT_COLLECTION] = {'c', "collection", "REMOTE",                           \
                        "The peer's collection: its id, alias or title "       \
                        "(required)."}
#define NET_OPTIONS                                                            \
    [OPT_USER] = {'u', "user", "NAME",                                         \
                  "Log in with HTTP Basic as NAME; the password comes from "   \
                  "$CAIRN_PASSWORD or --password-file."},                      \
    [OPT_PASSWORD_FILE] = {0, "password-file", "FILE",                         \
                           "Read the password of --user from the first "       \
                           "line of FILE."},                                   \
    [OPT_TOKEN_FILE] = {0, "token-file", "FILE",                               \
                        "Send the API token on the first line of FILE as a "   \
                        "bearer token (instead of --user)."},                  \
    [OPT_CACERT] = {0, "cacert", "FILE",                                       \
                    "Trust the CA certificates in this PEM file instead of "   \
                    "the system's."},                                          \
    [OPT_CERT] = {0, "cert", "FILE",                                           \
                  "Client certificate (PEM) for mutual TLS."},                 \
    [OPT_KEY] = {0, "key", "FILE",                                             \
                 "Private key of --cert, when it is not in the same file."},   \
    [OPT_LIMIT] = {0, "limit", "N",                                            \
                   "Objects per page or envelope (default 1000)."},            \
    [OPT_CONNECT_TIMEOUT] = {0, "connect-timeout", "SECONDS",                  \
                             "Give up connecting after this long (default "    \
                             "10)."},                                          \
    [OPT_TIMEOUT] = {0, "timeout", "SECONDS",                                  \
                     "Give up on one request after this long (default "        \
                     "120), or when it moves under 1 KiB/s for 30 "            \
                     "seconds."},                                              \
    [OPT_RETRIES] = {0, "retries", "N",                                        \
                     "Retries of a request that failed for a network error, "  \
                     "a timeout, 429 or 5xx, with growing delays (default "    \
                     "3)."},                                                   \
    [OPT_MAX_PAGES] = {0, "max-pages", "N",                                    \
                       "Fetch (pull) or send (push) at most N pages in this "  \
                       "run (default 10000); the next run goes on from "       \
                       "there."},                                              \
    [OPT_MAX_OBJECTS] = {0, "max-objects", "N",                                \
                         "Take at most about N objects in this run (default "  \
                         "1000000; a page is not cut); the next run goes on "  \
                         "from there."},                                       \
    [OPT_DEADLINE] = {0, "deadline", "SECONDS",                                \
                      "End the whole run after this long (default 900), "      \
                      "keeping the progress made."},                           \
    [OPT_QUIET] = {'q', "quiet", NULL,                                         \
                   "Print neither rejected objects nor the summary."},        \
    [OPT_SIGNATURES] = {0, "signatures", "POLICY",                             \
                        "pull: require (store only objects validly signed "    \
                        "by a --trust key), check (store all, report the "     \
                        "others) or ignore (default); docs/signing.md."},      \
    [OPT_TRUST] = {0, "trust", "KEYFILE",                                      \
                   "pull: trust the public key in KEYFILE ('cairn key "        \
                   "export'); may be repeated."},                              \
    [OPT_WARNINGLISTS] = {0, "warninglists", "PATH",                           \
                          "pull: flag the indicators with a value on these "   \
                          "MISP warninglists (stored all the same; "           \
                          "$CAIRN_WARNINGLISTS; docs/analysis.md)."}

static const struct cli_option pull_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    REMOTE_OPTION,
    [OPT_LOCAL] = {'i', "into", "LOCAL",
                   "The local collection (id) to copy into (required)."},
    NET_OPTIONS,
    [OPT_TYPE] = {0, NULL, NULL, NULL},
};

static const struct cli_option push_options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    REMOTE_OPTION,
    [OPT_LOCAL] = {'f', "from", "LOCAL",
                   "The local collection (id) to send from (required)."},
    NET_OPTIONS,
    [OPT_TYPE] = {'t', "type", "TYPE",
                  "Send only objects of this STIX type; may be repeated."},
    [OPT_IDENTITY] = {0, "identity", "ID",
                      "The peer's STIX identity (identity--UUID): TLP:RED "
                      "objects naming it may be sent."},
    [OPT_MEMBER] = {0, "member", NULL,
                    "The peer is a member of the sharing community: "
                    "TLP:AMBER and AMBER+STRICT objects may be sent."},
    [OPT_ANONYMIZE] = {0, "anonymize", "MODE",
                       "Anonymise the sightings sent: pseudonym, remove or "
                       "no (default)."},
    [OPT_RESTRICTED] = {0, "restricted-marking", "ID",
                        "A marking-definition id that restricts as TLP:RED "
                        "does (other markings than TLP, such as copyright "
                        "statements, restrict nothing); may be repeated."},
    {0, NULL, NULL, NULL},
};

static const char net_exit_status[] =
    "0 The run finished and every object was taken.\n"
    "1 The run finished, but some objects were rejected (invalid, over "
    "16 MiB, a bundle sent as an object, in conflict with a stored "
    "version, or refused by the peer); or it stopped at --max-pages, "
    "--max-objects or --deadline with more to come (run it again to go "
    "on).\n"
    "2 Usage error, no such collection, authentication refused, the network "
    "or the peer failing after the retries, or a store error; progress up "
    "to the last complete page is kept.";

static int run_pull(int argc, char **argv);
static int run_push(int argc, char **argv);
static int run_sync(int argc, char **argv);

const struct cli_command cli_cmd_pull = {
    .name = "pull",
    .synopsis = "URL --collection REMOTE --into LOCAL [OPTIONS]",
    .summary = "Copy new objects from a TAXII 2.1 server into a collection.",
    .description =
        "URL is a TAXII 2.1 server's discovery URL (its default API root is "
        "used) or an API root URL. Every version of every object added to "
        "the REMOTE collection since the last pull is fetched page by page "
        "(following the server's 'next' whenever it gives one), "
        "checked as 'cairn validate' checks it, and stored in the LOCAL "
        "collection; invalid objects, objects over 16 MiB and bundles sent "
        "as objects are reported on standard error and skipped, and the "
        "others on their page are stored.\n\n"
        "How far the pull got is kept per URL and pair of collections in "
        "the data directory (peers/), and moved only after a page is "
        "committed to the store. The next pull starts at the last "
        "date_added seen, not after it, so objects that share it are not "
        "skipped. An interrupted pull therefore resumes "
        "where it stopped: nothing is lost, and an object fetched twice is "
        "stored once.\n\n"
        "A peer that would keep the pull paging for ever (the same 'next' "
        "twice, a page that brings nothing new without moving on) stops "
        "it with an error; --max-pages, --max-objects and --deadline bound "
        "every run.\n\n"
        "Requests that fail for a network error, a timeout, 429 or 5xx are "
        "retried with exponential backoff and jitter (honouring "
        "Retry-After). TLS certificates are always verified.",
    .options = pull_options,
    .exit_status = net_exit_status,
    .examples = "$ CAIRN_PASSWORD=secret cairn pull \\\n"
                "    https://hub.example.org/taxii2/ --user member-a \\\n"
                "    --collection indicators \\\n"
                "    --into 9cfa669c-ee94-4ece-afd2-f8edac37d8fd",
    .run = run_pull,
};

const struct cli_command cli_cmd_push = {
    .name = "push",
    .synopsis = "URL --collection REMOTE --from LOCAL [--type TYPE]... "
                "[OPTIONS]",
    .summary = "Send what was added to a collection to a TAXII 2.1 server.",
    .description =
        "Sends every object version added to the LOCAL collection since the "
        "last push (only those of the given types, with --type) to the "
        "REMOTE collection of the server at URL (a discovery or API root "
        "URL), in envelopes no larger than the server's "
        "max_content_length, and waits for each to be acknowledged "
        "complete. Objects the server refuses are reported and not sent "
        "again.\n\n"
        "How far the push got is kept in the data directory (peers/) and "
        "moved only after the server acknowledged an envelope, so an "
        "interrupted push sends the unacknowledged envelope again, which "
        "the server takes as identical.\n\n"
        "TLP 2.0 decides what leaves (docs/federation.md): CLEAR and GREEN "
        "objects go to every peer; AMBER and AMBER+STRICT only with "
        "--member; RED only to the identity given with --identity when the "
        "object names it. Unmarked objects follow their collection's "
        "default level. Markings other than TLP (a copyright statement) "
        "restrict nothing, except those given with --restricted-marking, "
        "which count as RED. Objects kept back are counted as withheld in "
        "the summary, with a line per reason, and not sent later. With --anonymize, sightings go with "
        "their identities replaced by pseudonyms (seeded by URL) or "
        "removed, as the anonymize key of a [peer] section does.",
    .options = push_options,
    .exit_status = net_exit_status,
    .examples = "$ cairn push https://hub.example.org/taxii2/ --token-file "
                "hub.token \\\n"
                "    --collection sightings --type sighting \\\n"
                "    --from 9cfa669c-ee94-4ece-afd2-f8edac37d8fd",
    .run = run_push,
};

enum {
    SOPT_CONFIG,
    SOPT_DATA,
    SOPT_PEER,
    SOPT_WARNINGLISTS,
    SOPT_FORGET,
};

static const struct cli_option sync_options[] = {
    [SOPT_CONFIG] = {'c', "config", "FILE",
                     "The configuration file with the [peer NAME] sections "
                     "(required)."},
    [SOPT_DATA] = CLI_DATA_OPTION,
    [SOPT_PEER] = {'p', "peer", "NAME",
                   "Run only this peer's flows; may be repeated."},
    [SOPT_WARNINGLISTS] = {0, "warninglists", "PATH",
                           "Flag the pulled indicators with a value on these "
                           "MISP warninglists (stored all the same; "
                           "$CAIRN_WARNINGLISTS; docs/analysis.md)."},
    [SOPT_FORGET] = {0, "forget", NULL,
                     "Run nothing: forget the progress of the flows (of "
                     "every peer, or of each --peer), so that their next "
                     "run starts from the beginning."},
    {0, NULL, NULL, NULL},
};

const struct cli_command cli_cmd_sync = {
    .name = "sync",
    .synopsis = "--config FILE [--data DIR] [--peer NAME]... "
                "[--warninglists PATH] [--forget]",
    .summary = "Run every pull and push configured for the peers, once.",
    .description =
        "Reads the [peer NAME] sections of the configuration file (see "
        "docs/federation.md) and runs each of their pull and push lines "
        "once, as 'cairn pull' and 'cairn push' would, with the peer's "
        "credentials and TLS files. The data directory is --data, else "
        "[server] data of the file, else the default. One line per flow "
        "goes to standard error. The keys max_pages, max_objects and "
        "deadline of a peer bound each run of its flows as --max-pages, "
        "--max-objects and --deadline do.\n\n"
        "Each flow's progress is kept in the store, so that every node "
        "sharing a PostgreSQL store goes on where another stopped; "
        "--forget removes it (the peer, or the store, then finds what "
        "comes again already present).\n\n"
        "  [peer hub]\n"
        "  url = https://hub.example.org/taxii2/\n"
        "  user = member-a\n"
        "  password_file = hub.password\n"
        "  pull = indicators -> 9cfa669c-ee94-4ece-afd2-f8edac37d8fd\n"
        "  push = 9cfa669c-ee94-4ece-afd2-f8edac37d8fd -> sightings "
        "sighting",
    .options = sync_options,
    .exit_status = net_exit_status,
    .examples = "$ cairn sync --config /etc/cairn/cairn.ini",
    .run = run_sync,
};

/* ---- pull and push
 * -----------------------------------------------------------
 */

struct net_args {
    const char *dir, *url, *remote, *local;
    const char *user, *password_file, *token_file;
    const char *types[CAIRN_PEER_TYPES_MAX];
    size_t n_types;
    struct cairn_taxii_client_opts o;
    size_t limit;
    size_t max_pages, max_objects;
    unsigned deadline;
    bool quiet;
    const char *identity; /* push: the peer's identity, or NULL */
    bool member;          /* push: the peer is a community member */
    int anonymize;        /* push: enum cairn_share_anon */
    const char *restricted[RESTRICTED_MAX]; /* push: restrictive markings */
    size_t n_restricted;
    int signatures;                  /* pull: enum cairn_sign_policy */
    const char *trust[RESTRICTED_MAX]; /* pull: key files */
    size_t n_trust;
    const char *warninglists; /* pull: --warninglists */
};

static int parse_uint(const struct cli_command *cmd, const char *opt,
                      const char *arg, unsigned long max, unsigned long *out)
{
    char *end = NULL;

    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (arg[0] < '0' || arg[0] > '9' || errno != 0 || *end != '\0' || v > max) {
        cli_error(cmd, "--%s: '%s' is not a number from 0 to %lu", opt, arg,
                  max);
        return -1;
    }
    *out = v;
    return 0;
}

static bool type_ok(const char *t)
{
    size_t len = strlen(t);

    return len > 0 && len <= 250 &&
           strspn(t, "abcdefghijklmnopqrstuvwxyz"
                     "0123456789-") == len;
}

static int parse_net(const struct cli_command *cmd, bool push, int argc,
                     char **argv, struct net_args *a)
{
    const char *arg;
    unsigned long v;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_DATA:
            a->dir = arg;
            break;
        case OPT_COLLECTION:
            a->remote = arg;
            break;
        case OPT_LOCAL:
            a->local = arg;
            break;
        case OPT_TYPE:
            if (!push) {
                cli_error(cmd, "--type is for 'cairn push'");
                return -1;
            }
            if (!type_ok(arg)) {
                cli_error(cmd, "--type: '%s' is not a STIX type name", arg);
                return -1;
            }
            if (a->n_types >= CAIRN_PEER_TYPES_MAX) {
                cli_error(cmd, "--type given more than %d times",
                          CAIRN_PEER_TYPES_MAX);
                return -1;
            }
            a->types[a->n_types++] = arg;
            break;
        case OPT_IDENTITY:
            if (strncmp(arg, "identity--", 10) != 0 ||
                !cairn_uuid_check(arg + 10, strlen(arg + 10), false, NULL)) {
                cli_error(cmd, "--identity: '%s' is not identity--UUID", arg);
                return -1;
            }
            a->identity = arg;
            break;
        case OPT_MEMBER:
            a->member = true;
            break;
        case OPT_RESTRICTED:
            if (strncmp(arg, "marking-definition--", 20) != 0 ||
                !cairn_uuid_check(arg + 20, strlen(arg + 20), false, NULL)) {
                cli_error(cmd,
                          "--restricted-marking: '%s' is not "
                          "marking-definition--UUID",
                          arg);
                return -1;
            }
            if (a->n_restricted == RESTRICTED_MAX) {
                cli_error(cmd, "--restricted-marking: more than %d",
                          RESTRICTED_MAX);
                return -1;
            }
            a->restricted[a->n_restricted++] = arg;
            break;
        case OPT_ANONYMIZE:
            if (strcmp(arg, "pseudonym") == 0)
                a->anonymize = CAIRN_SHARE_ANON_PSEUDONYM;
            else if (strcmp(arg, "remove") == 0)
                a->anonymize = CAIRN_SHARE_ANON_REMOVE;
            else if (strcmp(arg, "no") == 0)
                a->anonymize = CAIRN_SHARE_ANON_NO;
            else {
                cli_error(cmd,
                          "--anonymize: '%s' is not pseudonym, remove or no",
                          arg);
                return -1;
            }
            break;
        case OPT_USER:
            a->user = arg;
            break;
        case OPT_PASSWORD_FILE:
            a->password_file = arg;
            break;
        case OPT_TOKEN_FILE:
            a->token_file = arg;
            break;
        case OPT_CACERT:
            a->o.cacert = arg;
            break;
        case OPT_CERT:
            a->o.cert = arg;
            break;
        case OPT_KEY:
            a->o.key = arg;
            break;
        case OPT_LIMIT:
            if (parse_uint(cmd, "limit", arg, CAIRN_STORE_LIMIT_MAX, &v) < 0)
                return -1;
            a->limit = v;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_uint(cmd, "connect-timeout", arg, 3600, &v) < 0)
                return -1;
            a->o.connect_timeout_ms = v ? (unsigned)v * 1000 : 1;
            break;
        case OPT_TIMEOUT:
            if (parse_uint(cmd, "timeout", arg, 86400, &v) < 0)
                return -1;
            a->o.timeout_ms = v ? (unsigned)v * 1000 : 1;
            break;
        case OPT_RETRIES:
            if (parse_uint(cmd, "retries", arg, 100, &v) < 0)
                return -1;
            a->o.max_attempts = (unsigned)v + 1;
            break;
        case OPT_MAX_PAGES:
        case OPT_MAX_OBJECTS: {
            const char *name =
                opt == OPT_MAX_PAGES ? "max-pages" : "max-objects";
            if (parse_uint(cmd, name, arg, 1000000000ul, &v) < 0)
                return -1;
            if (v == 0) {
                cli_error(cmd, "--%s must be at least 1", name);
                return -1;
            }
            if (opt == OPT_MAX_PAGES)
                a->max_pages = v;
            else
                a->max_objects = v;
            break;
        }
        case OPT_DEADLINE:
            if (parse_uint(cmd, "deadline", arg, 7 * 86400ul, &v) < 0)
                return -1;
            if (v == 0) {
                cli_error(cmd, "--deadline must be at least 1 second");
                return -1;
            }
            a->deadline = (unsigned)v;
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_SIGNATURES: {
            enum cairn_sign_policy pol;
            if (push || cairn_sign_policy_parse(arg, &pol) < 0) {
                cli_error(cmd,
                          push ? "--signatures applies to pull only"
                               : "--signatures: '%s' is not require, check "
                                 "or ignore",
                          arg);
                return -1;
            }
            a->signatures = (int)pol;
            break;
        }
        case OPT_TRUST:
            if (push || a->n_trust >= RESTRICTED_MAX) {
                cli_error(cmd, push ? "--trust applies to pull only"
                                    : "too many --trust");
                return -1;
            }
            a->trust[a->n_trust++] = arg;
            break;
        case OPT_WARNINGLISTS:
            if (push) {
                cli_error(cmd, "--warninglists applies to pull only");
                return -1;
            }
            a->warninglists = arg;
            break;
        }
    }
    if (opt == -2)
        return -1;
    if (optind >= argc) {
        cli_error(cmd, "no URL given: the peer's discovery or API root URL");
        return -1;
    }
    if (optind + 1 < argc) {
        cli_error(cmd, "one URL only; '%s' is extra", argv[optind + 1]);
        return -1;
    }
    a->url = argv[optind];
    if (a->remote == NULL) {
        cli_error(cmd, "--collection REMOTE is required");
        return -1;
    }
    if (a->local == NULL) {
        cli_error(cmd, "--%s LOCAL is required", push ? "from" : "into");
        return -1;
    }
    if (cli_check_collection_id(cmd, a->local) < 0)
        return -1;
    if (a->user != NULL && a->token_file != NULL) {
        cli_error(cmd, "--user and --token-file exclude each other");
        return -1;
    }
    if (a->password_file != NULL && a->user == NULL) {
        cli_error(cmd, "--password-file needs --user");
        return -1;
    }
    if (a->o.key != NULL && a->o.cert == NULL) {
        cli_error(cmd, "--key needs --cert");
        return -1;
    }
    return 0;
}

static void on_reject(const struct cairn_diag *d, void *ud)
{
    const struct net_args *a = ud;
    char line[1400];

    /* Errors, and the marks of --signatures check. */
    if (a->quiet ||
        (d->severity != CAIRN_SEV_ERROR && strcmp(d->rule, "signature") != 0))
        return;
    if (cairn_diag_format(d, line, sizeof line) < 0)
        return;
    cli_print_line(line);
}

static int run_net(const struct cli_command *cmd, bool push, int argc,
                   char **argv)
{
    struct net_args a = {0};
    struct cairn_store *store = NULL;
    struct cairn_taxii_client *client = NULL;
    struct cairn_sync_result res;
    struct cairn_trust *trust = NULL;
    char dirbuf[PATH_MAX], state_dir[PATH_MAX];
    char *password = NULL, *token = NULL;
    int status = CLI_EXIT_ERROR;
    int rc;

    if (parse_net(cmd, push, argc, argv, &a) < 0)
        return CLI_EXIT_ERROR;
    /* what every ingest session of the pull flags (cairn_ingest) */
    struct cairn_warninglists *wl = NULL;
    if (!push && cli_warninglists_load(cmd, a.warninglists, &wl) < 0)
        return CLI_EXIT_ERROR;
    cairn_ingest_set_default_warninglists(wl);
    if (a.password_file != NULL &&
        (rc = cairn_taxii_secret_read(a.password_file, &password)) < 0) {
        cli_error(cmd, "--password-file %s: %s", a.password_file,
                  rc == CAIRN_EIO ? strerror(errno) : cairn_strerror(rc));
        goto out;
    }
    if (a.token_file != NULL &&
        (rc = cairn_taxii_secret_read(a.token_file, &token)) < 0) {
        cli_error(cmd, "--token-file %s: %s", a.token_file,
                  rc == CAIRN_EIO ? strerror(errno) : cairn_strerror(rc));
        goto out;
    }
    if (a.user != NULL && password == NULL) {
        const char *env = getenv("CAIRN_PASSWORD");
        if (env == NULL || env[0] == '\0') {
            cli_error(cmd,
                      "--user %s: give the password in the environment "
                      "variable CAIRN_PASSWORD or with --password-file",
                      a.user);
            goto out;
        }
        password = cairn_strdup(env);
        if (password == NULL) {
            cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
            goto out;
        }
    }
    a.o.user = a.user;
    a.o.password = password;
    a.o.token = token;

    const char *dir = a.dir;
    if (dir == NULL &&
        (dir = cli_data_dir_default(dirbuf, sizeof dirbuf)) == NULL) {
        cli_error(cmd, "no data directory: give --data DIR, or set "
                       "CAIRN_DATA_DIR or HOME");
        goto out;
    }
    /* The flow's lock file stays in a local directory, with a
     * PostgreSQL store too (its progress is in the store). */
    char localbuf[PATH_MAX];
    const char *local = cairn_store_url_is_postgres(dir)
                            ? cli_data_dir_default(localbuf, sizeof localbuf)
                            : dir;
    if (local == NULL) {
        cli_error(cmd, "no local directory for the flow's lock file: set "
                       "CAIRN_DATA_DIR or HOME");
        goto out;
    }
    int n = snprintf(state_dir, sizeof state_dir, "%s/peers", local);
    if (n < 0 || (size_t)n >= sizeof state_dir) {
        cli_error(cmd, "%s: path too long", local);
        goto out;
    }
    if (cli_store_open(cmd, dir, false, &store) < 0)
        goto out;
    rc = cairn_taxii_client_new(&a.o, &client);
    if (rc < 0) {
        cli_error(cmd, "%s", cairn_strerror(rc));
        goto out;
    }
    /* The same reader a [peer] section with these keys would describe. */
    struct cairn_share_reader reader = {.identity = a.identity,
                                        .member = a.member,
                                        .restricted = a.restricted,
                                        .n_restricted = a.n_restricted};
    struct cairn_sync_flow f = {
        .url = a.url,
        .remote = a.remote,
        .local = a.local,
        .state_dir = state_dir,
        .types = a.types,
        .n_types = a.n_types,
        .limit = a.limit,
        .cb = on_reject,
        .ud = &a,
        .share = &reader,
        .anonymize = a.anonymize,
        .max_pages = a.max_pages,
        .max_objects = a.max_objects,
        .deadline = a.deadline,
    };
    struct cairn_sign_gate gate = {
        .policy = (enum cairn_sign_policy)a.signatures,
        .where = a.url,
        .cb = on_reject,
        .ud = &a,
    };
    if (a.signatures == CAIRN_SIGN_REQUIRE && a.n_trust == 0) {
        cli_error(cmd, "--signatures require needs --trust KEYFILE");
        goto out;
    }
    if (a.n_trust > 0 || a.signatures > 0) {
        struct cairn_diag d;
        cairn_diag_clear(&d);
        rc = cairn_trust_new(&trust);
        for (size_t i = 0; rc == 0 && i < a.n_trust; i++)
            rc = cairn_trust_add_file(trust, a.trust[i], &d);
        if (rc < 0) {
            char line[1400];
            if (d.message[0] != '\0' &&
                cairn_diag_format(&d, line, sizeof line) >= 0)
                cli_error(cmd, "--trust: %s", line);
            else
                cli_error(cmd, "--trust: %s", cairn_strerror(rc));
            goto out;
        }
        gate.trust = trust;
        if (a.signatures > 0)
            f.sign_gate = &gate;
    }
    rc = push ? cairn_sync_push(client, store, &f, &res)
              : cairn_sync_pull(client, store, &f, &res);
    if (!a.quiet && f.sign_gate != NULL) {
        size_t bad = 0;
        for (int v = 1; v <= CAIRN_SIGN_OUT_OF_DATE; v++)
            bad += gate.verdicts[v];
        fprintf(stderr, "%s: signatures (%s): %zu valid, %zu not (%s)\n",
                a.url, cairn_sign_policy_name(gate.policy),
                gate.verdicts[CAIRN_SIGN_VALID], bad,
                gate.policy == CAIRN_SIGN_REQUIRE ? "refused"
                                                  : "stored, marked");
    }
    if (!a.quiet && push) {
        fprintf(stderr,
                "%s: %zu sent in %zu envelopes, %zu accepted, %zu "
                "rejected, %zu withheld (TLP)\n",
                a.url, res.received - res.withheld, res.pages, res.stored,
                res.rejected, res.withheld);
        /* Nothing is kept back without a word of why. */
        for (int v = 1; v < CAIRN_SHARE_VERDICTS; v++)
            if (res.withheld_why[v] > 0)
                fprintf(stderr, "%s: %zu withheld: %s\n", a.url,
                        res.withheld_why[v],
                        cairn_share_verdict_text((enum cairn_share_verdict)v));
    } else if (!a.quiet) {
        fprintf(stderr,
                "%s: %zu received in %zu pages, %zu new, %zu already "
                "present, %zu rejected\n",
                a.url, res.received, res.pages, res.stored, res.existed,
                res.rejected);
    }
    if (rc < 0) {
        cli_error(cmd, "%s", res.error[0] ? res.error : cairn_strerror(rc));
        goto out;
    }
    if (res.incomplete)
        cli_error(cmd, "%s", res.error);
    status =
        res.rejected > 0 || res.incomplete ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
out:
    cairn_trust_free(trust);
    cairn_taxii_client_free(client);
    cairn_store_close(store);
    if (password != NULL) {
        explicit_bzero(password, strlen(password));
        cairn_free(password);
    }
    if (token != NULL) {
        explicit_bzero(token, strlen(token));
        cairn_free(token);
    }
    cairn_ingest_set_default_warninglists(NULL);
    cairn_warninglists_free(wl);
    return status;
}

static int run_pull(int argc, char **argv)
{
    return run_net(&cli_cmd_pull, false, argc, argv);
}

static int run_push(int argc, char **argv)
{
    return run_net(&cli_cmd_push, true, argc, argv);
}

/* ---- sync
 * --------------------------------------------------------------------
 */

#define SYNC_PEERS_MAX 64

/* Remove the progress of every flow of `peer`. */
static int forget_peer(const struct cli_command *cmd,
                       const struct cairn_peer *peer, struct cairn_store *s,
                       const char *data_dir)
{
    char state_dir[PATH_MAX];
    int n = snprintf(state_dir, sizeof state_dir, "%s/peers", data_dir);

    if (n < 0 || (size_t)n >= sizeof state_dir) {
        cli_error(cmd, "%s: path too long", data_dir);
        return CAIRN_EINVAL;
    }
    for (size_t i = 0; i < peer->n_flows; i++) {
        const struct cairn_peer_flow *pf = &peer->flows[i];
        struct cairn_sync_flow f = {
            .url = peer->url,
            .remote = pf->remote,
            .local = pf->local,
            .state_dir = state_dir,
            .types = (const char *const *)pf->types,
            .n_types = pf->n_types,
        };
        int rc = cairn_sync_forget(s, &f, pf->push);
        if (rc < 0) {
            cli_error(cmd, "peer %s: forgetting %s %s -> %s: %s", peer->name,
                      pf->push ? "push" : "pull",
                      pf->push ? pf->local : pf->remote,
                      pf->push ? pf->remote : pf->local, cairn_strerror(rc));
            return rc;
        }
        fprintf(stderr,
                "peer %s: %s %s -> %s: progress forgotten; the next run "
                "starts from the beginning\n",
                peer->name, pf->push ? "push" : "pull",
                pf->push ? pf->local : pf->remote,
                pf->push ? pf->remote : pf->local);
    }
    return 0;
}

static int run_sync(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_sync;
    const char *config = NULL, *dir = NULL, *wl_path = NULL;
    struct cairn_warninglists *wl = NULL;
    const char *only[SYNC_PEERS_MAX];
    size_t n_only = 0;
    struct cairn_peers peers = {0};
    struct cairn_store *store = NULL;
    struct cairn_sync_result total = {0};
    struct cairn_diag diag;
    char dirbuf[PATH_MAX];
    const char *arg;
    int status = CLI_EXIT_ERROR;
    bool forget = false;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case SOPT_CONFIG:
            config = arg;
            break;
        case SOPT_FORGET:
            forget = true;
            break;
        case SOPT_DATA:
            dir = arg;
            break;
        case SOPT_PEER:
            if (n_only >= SYNC_PEERS_MAX) {
                cli_error(cmd, "--peer given more than %d times",
                          SYNC_PEERS_MAX);
                return CLI_EXIT_ERROR;
            }
            only[n_only++] = arg;
            break;
        case SOPT_WARNINGLISTS:
            wl_path = arg;
            break;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_ERROR;
    }
    if (config == NULL) {
        cli_error(cmd, "--config FILE is required: the file with the [peer "
                       "NAME] sections");
        return CLI_EXIT_ERROR;
    }
    cairn_diag_clear(&diag);
    int rc = cairn_peers_load(config, &peers, &diag);
    if (rc < 0) {
        char line[1400];
        if (cairn_diag_format(&diag, line, sizeof line) >= 0 && line[0])
            fprintf(stderr, "cairn sync: %s\n", line);
        else
            cli_error(cmd, "%s: %s", config, cairn_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    for (size_t i = 0; i < n_only; i++) {
        bool known = false;
        for (size_t j = 0; j < peers.n && !known; j++)
            known = strcmp(peers.peers[j].name, only[i]) == 0;
        if (!known) {
            cli_error(cmd, "--peer %s: no [peer %s] in %s", only[i], only[i],
                      config);
            goto out;
        }
    }
    /* what every pull's ingest session flags (cairn_ingest) */
    if (cli_warninglists_load(cmd, wl_path, &wl) < 0)
        goto out;
    cairn_ingest_set_default_warninglists(wl);
    if (peers.n == 0) {
        cli_error(cmd, "%s has no [peer NAME] section", config);
        goto out;
    }
    if (dir == NULL)
        dir = peers.data;
    if (dir == NULL &&
        (dir = cli_data_dir_default(dirbuf, sizeof dirbuf)) == NULL) {
        cli_error(cmd, "no data directory: give --data DIR, or set "
                       "CAIRN_DATA_DIR or HOME");
        goto out;
    }
    if (cli_store_open(cmd, dir, false, &store) < 0)
        goto out;
    /* The flows' lock files (and older progress files) stay in a local
     * directory, with a PostgreSQL store too. */
    char localbuf[PATH_MAX];
    const char *local = cairn_store_url_is_postgres(dir)
                            ? cli_data_dir_default(localbuf, sizeof localbuf)
                            : dir;
    if (local == NULL) {
        cli_error(cmd, "no local directory for the flows' lock files: set "
                       "CAIRN_DATA_DIR or HOME");
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < peers.n; i++) {
        bool wanted = n_only == 0;
        for (size_t j = 0; j < n_only && !wanted; j++)
            wanted = strcmp(peers.peers[i].name, only[j]) == 0;
        if (!wanted)
            continue;
        if (forget) {
            if (forget_peer(cmd, &peers.peers[i], store, local) < 0)
                goto out;
            continue;
        }
        int prc =
            cairn_sync_run_peer(&peers.peers[i], store, local, NULL, &total);
        if (prc < 0 && rc == 0)
            rc = prc;
    }
    if (rc < 0)
        goto out;
    status = total.rejected > 0 || total.incomplete ? CLI_EXIT_FINDINGS
                                                    : CLI_EXIT_OK;
out:
    cairn_store_close(store);
    cairn_peers_release(&peers);
    cairn_ingest_set_default_warninglists(NULL);
    cairn_warninglists_free(wl);
    return status;
}
