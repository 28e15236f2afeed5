/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn collection`: add, list and remove TAXII collections. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

/* The root that cli/data.c creates in a new store. */
#define DEFAULT_ROOT "api1"

enum {
    OPT_DATA,
    OPT_TITLE,
    OPT_ID,
    OPT_DESCRIPTION,
    OPT_ALIAS,
    OPT_API_ROOT,
    OPT_TLP,
};

static const struct cli_option options[] = {
    [OPT_DATA] = CLI_DATA_OPTION,
    [OPT_TITLE] = {0, "title", "TITLE",
                   "add: the collection's title (required)."},
    [OPT_ID] = {0, "id", "ID",
                "add: the collection's id, a UUID (default: a new random "
                "one)."},
    [OPT_DESCRIPTION] = {0, "description", "TEXT",
                         "add: a description for people choosing a "
                         "collection."},
    [OPT_ALIAS] = {0, "alias", "ALIAS",
                   "add: a short name, unique within the API root, that "
                   "clients may use instead of the id."},
    [OPT_API_ROOT] = {0, "api-root", "NAME",
                      "add: the API root to add to (default: api1, the root "
                      "of a new store, or else the only one); a new name "
                      "creates that root. list: show only this root's "
                      "collections."},
    [OPT_TLP] = {0, "tlp", "LEVEL",
                 "add, set: how objects without a TLP marking are shared: "
                 "clear, green, amber, amber+strict, red, or none (the "
                 "default: like clear)."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_collection = {
    .name = "collection",
    .synopsis = "add --title TITLE [--id ID] [--description TEXT] "
                "[--alias ALIAS] [--api-root NAME] [--tlp LEVEL] | set ID "
                "--tlp LEVEL | list [--api-root NAME] | remove ID "
                "[--data DIR]",
    .summary = "Add, list and remove the TAXII collections of the server.",
    .description =
        "A collection is a set of STIX objects that clients read and write "
        "over TAXII, at /API-ROOT/collections/ID/. Collections live in API "
        "roots; a new store has one root, 'api1', with one collection "
        "titled 'default'. Nobody may read or write a collection until "
        "'cairn grant' says so.\n\n"
        "cairn collection add creates a collection and prints its id. With "
        "--api-root naming a root that does not exist yet, that root is "
        "created too (titled with its name, accepting requests up to "
        "100 MiB).\n\n"
        "cairn collection list prints one line per collection: its id, its "
        "API root and its title, separated by two blanks, in the order of "
        "the roots' names and then of creation.\n\n"
        "cairn collection remove ID removes a collection with every object "
        "in it and every right on it. It cannot be undone.\n\n"
        "Objects leave a collection (to TAXII readers and by 'cairn push') "
        "under the TLP 2.0 rules of docs/federation.md. Objects without a "
        "TLP marking are treated as the collection's --tlp level, given "
        "to 'collection add' or changed with 'cairn collection set ID "
        "--tlp LEVEL'; with none (the default) they go to every reader.",
    .options = options,
    .exit_status = CLI_ADMIN_EXIT_STATUS,
    .examples =
        "$ cairn collection add --title 'Phishing feed' --alias "
        "phishing\n"
        "$ cairn collection add --title Partners --api-root partners \\\n"
        "    --id 1b6f0b68-5a3f-4b8d-9b0c-1f0e2d3c4b5a\n"
        "$ cairn collection set 1b6f0b68-5a3f-4b8d-9b0c-1f0e2d3c4b5a "
        "--tlp amber\n"
        "$ cairn collection list\n"
        "$ cairn collection remove 1b6f0b68-5a3f-4b8d-9b0c-"
        "1f0e2d3c4b5a",
    .run = run,
};

struct args {
    const char *dir;
    const char *title;
    const char *id;
    const char *description;
    const char *alias;
    const char *api_root;
    int tlp; /* -1: not given */
};

/* TLP level names, in the order of enum cairn_tlp. */
static const char *const tlp_names[] = {"none",  "clear",        "green",
                                        "amber", "amber+strict", "red"};

static int parse_tlp(const struct cli_command *cmd, const char *text, int *out)
{
    if (strncasecmp(text, "TLP:", 4) == 0)
        text += 4;
    for (size_t i = 0; i < sizeof tlp_names / sizeof tlp_names[0]; i++) {
        if (strcasecmp(text, tlp_names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    cli_error(cmd,
              "--tlp: '%s' is not clear, green, amber, amber+strict, red "
              "or none",
              text);
    return -1;
}

static bool has_control(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    }
    return false;
}

/* The root to add to: the one named (created when new), or the only one. */
static int choose_root(const struct cli_command *cmd, struct cairn_store *s,
                       const char *wanted, char **out)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n = 0;
    int status = CLI_EXIT_ERROR;

    *out = NULL;
    int rc = cairn_store_api_root_list(s, &roots, &n);
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "listing the API roots");
        goto out;
    }
    if (wanted == NULL) {
        for (size_t i = 0; i < n && wanted == NULL; i++) {
            if (strcmp(roots[i].name, DEFAULT_ROOT) == 0)
                wanted = DEFAULT_ROOT;
        }
        if (wanted == NULL && n != 1) {
            cli_error(cmd,
                      "the store has %zu API roots and none is named "
                      "'" DEFAULT_ROOT "'; name one with --api-root",
                      n);
            goto out;
        }
        if (wanted == NULL)
            wanted = roots[0].name;
    } else {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = strcmp(roots[i].name, wanted) == 0;
        if (!found) {
            struct cairn_store_api_root root = {
                .name = (char *)wanted,
                .title = (char *)wanted,
            };
            rc = cairn_store_api_root_put(s, &root);
            if (rc < 0) {
                status = cli_store_failed(cmd, rc, "creating the API root");
                goto out;
            }
            cli_error(cmd, "created API root '%s'", wanted);
        }
    }
    *out = cairn_strdup(wanted);
    if (*out == NULL) {
        cli_error(cmd, "%s", cairn_strerror(CAIRN_ENOMEM));
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_api_root_list_free(roots, n);
    return status;
}

/* An alias names one collection of its root, or clients could not use it. */
static int alias_taken(const struct cli_command *cmd, struct cairn_store *s,
                       const char *root, const char *alias)
{
    struct cairn_store_collection *list = NULL;
    size_t n = 0;
    int rc = cairn_store_collection_list(s, root, &list, &n);

    if (rc < 0) {
        cli_error(cmd, "listing the collections: %s", cairn_strerror(rc));
        return -1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* An id wins over an alias in URLs: one equal to it is useless. */
        if ((list[i].alias != NULL && strcmp(list[i].alias, alias) == 0) ||
            strcmp(list[i].id, alias) == 0) {
            cli_error(cmd, "alias '%s' is taken in API root '%s' by %s", alias,
                      root, list[i].id);
            rc = 1;
        }
    }
    cairn_store_collection_list_free(list, n);
    return rc;
}

static int add_collection(const struct cli_command *cmd, const struct args *a)
{
    struct cairn_store_collection c = {0};
    struct cairn_store *s = NULL;
    char *root = NULL;
    char id[CAIRN_UUID_STRLEN];
    int status = CLI_EXIT_ERROR;

    if (a->title == NULL || a->title[0] == '\0') {
        cli_error(cmd, "add needs --title TITLE");
        return CLI_EXIT_ERROR;
    }
    if (has_control(a->title) ||
        (a->description && has_control(a->description))) {
        cli_error(cmd, "control characters in --title or --description");
        return CLI_EXIT_ERROR;
    }
    if (a->alias != NULL && (a->alias[0] == '\0' || has_control(a->alias))) {
        cli_error(cmd, "--alias: empty, or with control characters");
        return CLI_EXIT_ERROR;
    }
    if (a->id != NULL) {
        if (cli_check_collection_id(cmd, a->id) < 0)
            return CLI_EXIT_ERROR;
        /* Ids are compared as text; keep the one form cairn prints. */
        for (size_t i = 0; i < CAIRN_UUID_STRLEN; i++)
            c.id[i] = (char)tolower((unsigned char)a->id[i]);
    }
    if (a->api_root != NULL && cli_check_api_root_name(cmd, a->api_root) < 0)
        return CLI_EXIT_ERROR;

    if (cli_store_open(cmd, a->dir, true, &s) < 0)
        goto out;
    status = choose_root(cmd, s, a->api_root, &root);
    if (status != CLI_EXIT_OK)
        goto out;
    status = CLI_EXIT_ERROR;
    if (a->alias != NULL) {
        int taken = alias_taken(cmd, s, root, a->alias);
        if (taken != 0) {
            status = taken > 0 ? CLI_EXIT_FINDINGS : CLI_EXIT_ERROR;
            goto out;
        }
    }
    c.api_root = root;
    c.title = (char *)a->title;
    c.description = (char *)a->description;
    c.alias = (char *)a->alias;
    int rc = cairn_store_collection_create(s, &c, id);
    if (rc == CAIRN_EEXIST) {
        cli_error(cmd, "a collection with id %s exists already", c.id);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "adding the collection");
        goto out;
    }
    if (a->tlp > 0) {
        rc = cairn_store_collection_tlp_set(s, id, a->tlp);
        if (rc < 0) {
            status = cli_store_failed(cmd, rc, "setting the default TLP");
            goto out;
        }
    }
    printf("%s\n", id);
    status = CLI_EXIT_OK;
out:
    cairn_free(root);
    cairn_store_close(s);
    return status;
}

static int list_collections(const struct cli_command *cmd, const struct args *a)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n_roots = 0;
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    if (cli_store_open(cmd, a->dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_api_root_list(s, &roots, &n_roots);
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "listing the API roots");
        goto out;
    }
    bool root_seen = a->api_root == NULL;
    int width = 0;
    for (size_t r = 0; r < n_roots; r++) {
        size_t len = strlen(roots[r].name);
        if (len > (size_t)width && len < 80)
            width = (int)len;
    }
    for (size_t r = 0; r < n_roots; r++) {
        struct cairn_store_collection *list = NULL;
        size_t n = 0;

        if (a->api_root != NULL && strcmp(a->api_root, roots[r].name) != 0)
            continue;
        root_seen = true;
        rc = cairn_store_collection_list(s, roots[r].name, &list, &n);
        if (rc < 0) {
            status = cli_store_failed(cmd, rc, "listing the collections");
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            printf("%s  %-*s  %s\n", list[i].id, width, list[i].api_root,
                   list[i].title);
        cairn_store_collection_list_free(list, n);
    }
    if (!root_seen) {
        cli_error(cmd, "no API root '%s'", a->api_root);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_api_root_list_free(roots, n_roots);
    cairn_store_close(s);
    return status;
}

static int remove_collection(const struct cli_command *cmd, const char *dir,
                             const char *id)
{
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    if (cli_check_collection_id(cmd, id) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_collection_delete(s, id);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no collection %s", id);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "removing the collection");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_close(s);
    return status;
}

static int set_collection(const struct cli_command *cmd, const char *dir,
                          const char *id, int tlp)
{
    struct cairn_store *s = NULL;
    int status = CLI_EXIT_ERROR;

    if (cli_check_collection_id(cmd, id) < 0)
        return CLI_EXIT_ERROR;
    if (cli_store_open(cmd, dir, false, &s) < 0)
        goto out;
    int rc = cairn_store_collection_tlp_set(s, id, tlp);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error(cmd, "no collection %s", id);
        status = CLI_EXIT_FINDINGS;
        goto out;
    }
    if (rc < 0) {
        status = cli_store_failed(cmd, rc, "setting the default TLP");
        goto out;
    }
    status = CLI_EXIT_OK;
out:
    cairn_store_close(s);
    return status;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_collection;
    struct args a = {.tlp = -1};
    const char *only_add = NULL; /* an add-only option given */
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_DATA:
            a.dir = arg;
            break;
        case OPT_TITLE:
            a.title = arg;
            break;
        case OPT_ID:
            a.id = arg;
            break;
        case OPT_DESCRIPTION:
            a.description = arg;
            break;
        case OPT_ALIAS:
            a.alias = arg;
            break;
        case OPT_API_ROOT:
            a.api_root = arg;
            break;
        case OPT_TLP:
            if (parse_tlp(cmd, arg, &a.tlp) < 0)
                return CLI_EXIT_ERROR;
            break;
        }
        if (opt == OPT_TITLE || opt == OPT_ID || opt == OPT_DESCRIPTION ||
            opt == OPT_ALIAS)
            only_add = options[opt].long_name;
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    int nargs = argc - optind;
    const char *sub = nargs > 0 ? argv[optind] : NULL;

    if (sub == NULL) {
        cli_error(cmd, "needs a subcommand: add, set, list or remove; see "
                       "'cairn collection --help'");
        return CLI_EXIT_ERROR;
    }
    bool is_add = strcmp(sub, "add") == 0;
    bool is_list = strcmp(sub, "list") == 0;
    bool is_remove = strcmp(sub, "remove") == 0;
    bool is_set = strcmp(sub, "set") == 0;
    if (!is_add && !is_list && !is_remove && !is_set) {
        cli_error(cmd, "unknown subcommand '%s'; use add, set, list or remove",
                  sub);
        return CLI_EXIT_ERROR;
    }
    if (is_set) {
        if (only_add != NULL || a.api_root != NULL) {
            cli_error(cmd, "set takes a collection ID and --tlp LEVEL only");
            return CLI_EXIT_ERROR;
        }
        if (a.tlp < 0 || nargs != 2) {
            cli_error(cmd, "set takes one collection ID and --tlp LEVEL");
            return CLI_EXIT_ERROR;
        }
        return set_collection(cmd, a.dir, argv[optind + 1], a.tlp);
    }
    if (!is_add && a.tlp >= 0) {
        cli_error(cmd, "--tlp is an option of 'collection add' and 'set'");
        return CLI_EXIT_ERROR;
    }
    if (!is_add && only_add != NULL) {
        cli_error(cmd, "--%s is an option of 'collection add'", only_add);
        return CLI_EXIT_ERROR;
    }
    if (is_remove && a.api_root != NULL) {
        cli_error(cmd, "remove takes a collection ID, not --api-root");
        return CLI_EXIT_ERROR;
    }
    if (nargs != (is_remove ? 2 : 1)) {
        cli_error(cmd, "%s takes %s", sub,
                  is_remove ? "one collection ID" : "no arguments");
        return CLI_EXIT_ERROR;
    }
    if (is_add)
        return add_collection(cmd, &a);
    if (is_list)
        return list_collections(cmd, &a);
    return remove_collection(cmd, a.dir, argv[optind + 1]);
}
