/* SPDX-License-Identifier: Apache-2.0 */
/* The data directory, its store, and checks the admin commands share. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

#define STORE_FILE             "cairn.db"
#define FIRST_ROOT             "api1"
#define FIRST_ROOT_TITLE       "cairn"
#define FIRST_COLLECTION_TITLE "default"

const char *cli_data_dir_default(char *buf, size_t len)
{
    const char *env = getenv("CAIRN_DATA_DIR");
    int n;

    if (env != NULL && env[0] != '\0')
        n = snprintf(buf, len, "%s", env);
    else if ((env = getenv("XDG_DATA_HOME")) != NULL && env[0] == '/')
        /* The XDG specification says to ignore a relative value. */
        n = snprintf(buf, len, "%s/cairn", env);
    else if ((env = getenv("HOME")) != NULL && env[0] != '\0')
        n = snprintf(buf, len, "%s/.local/share/cairn", env);
    else
        return NULL;
    if (n < 0 || (size_t)n >= len)
        return NULL;
    return buf;
}

/*
 * mkdir -p with mode 0700 for every directory it creates: the store holds
 * password hashes and token digests, so nobody else needs to list it.
 */
static int make_dirs(const struct cli_command *cmd, const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);

    if (len >= sizeof path) {
        cli_error(cmd, "%s: path too long", dir);
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            cli_error(cmd, "cannot create the data directory %s: %s", path,
                      strerror(errno));
            return -1;
        }
        path[i] = saved;
    }
    return 0;
}

/* A new store gets what `cairn serve` needs to be useful at once. */
static int bootstrap_store(const struct cli_command *cmd, const char *dir,
                           struct cairn_store *s)
{
    struct cairn_store_api_root *roots = NULL;
    size_t n = 0;
    int rc = -1;

    int err = cairn_store_api_root_list(s, &roots, &n);
    if (err < 0) {
        cli_error(cmd, "%s: reading the API roots: %s", dir,
                  cairn_strerror(err));
        goto out;
    }
    if (n > 0) {
        rc = 0;
        goto out;
    }
    struct cairn_store_api_root root = {
        .name = FIRST_ROOT,
        .title = FIRST_ROOT_TITLE,
    };
    err = cairn_store_api_root_put(s, &root);
    if (err < 0) {
        cli_error(cmd, "%s: creating the API root: %s", dir,
                  cairn_strerror(err));
        goto out;
    }
    struct cairn_store_collection c = {
        .api_root = FIRST_ROOT,
        .title = FIRST_COLLECTION_TITLE,
    };
    char id[CAIRN_UUID_STRLEN];
    err = cairn_store_collection_create(s, &c, id);
    if (err < 0) {
        cli_error(cmd, "%s: creating the first collection: %s", dir,
                  cairn_strerror(err));
        goto out;
    }
    cli_error(cmd,
              "new store %s%s: API root '" FIRST_ROOT
              "', collection '" FIRST_COLLECTION_TITLE "' %s",
              dir, cairn_store_url_is_postgres(dir) ? "" : "/" STORE_FILE,
              id);
    rc = 0;
out:
    cairn_store_api_root_list_free(roots, n);
    return rc;
}

/*
 * A PostgreSQL store (--data postgresql://...): no directory; several
 * nodes may start at once, so the first collection is made under a lock
 * between them. Messages name the URL without its password.
 */
static int pg_store_open(const struct cli_command *cmd, const char *url,
                         bool bootstrap, struct cairn_store **out)
{
    char shown[1024];
    struct cairn_store *s = NULL;
    int rc = -1;

    if (cairn_store_url_redact(url, shown, sizeof shown) < 0)
        snprintf(shown, sizeof shown, "the PostgreSQL store");
    int err = cairn_store_open(url, NULL, &s);
    if (err == CAIRN_EUNSUPPORTED) {
        cli_error(cmd, "%s: written by a newer version of cairn; this one "
                       "cannot use it",
                  shown);
        goto out;
    }
    if (err < 0) {
        cli_error(cmd,
                  "%s: cannot open the store (%s): a bad URL, the "
                  "database unreachable or refusing us, or not a cairn "
                  "store",
                  shown, cairn_strerror(err));
        goto out;
    }
    if (bootstrap) {
        bool got = false;
        /* Bounded: 60 s of another node bootstrapping is a stuck node. */
        for (int i = 0; i < 600 && !got; i++) {
            err = cairn_store_lock_try(s, "bootstrap", &got);
            if (err < 0)
                break;
            if (!got)
                usleep(100000);
        }
        if (!got) {
            cli_error(cmd, "%s: another node holds the store's set-up "
                           "lock",
                      shown);
            goto out;
        }
        err = bootstrap_store(cmd, shown, s);
        cairn_store_lock_release(s, "bootstrap");
        if (err < 0)
            goto out;
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    cairn_store_close(s);
    return rc;
}

int cli_store_open(const struct cli_command *cmd, const char *dir,
                   bool bootstrap, struct cairn_store **out)
{
    char dirbuf[PATH_MAX];
    char url[PATH_MAX + 16];
    struct cairn_store *s = NULL;
    struct stat st;
    int dirfd = -1;
    int rc = -1;

    *out = NULL;
    if (dir == NULL) {
        dir = cli_data_dir_default(dirbuf, sizeof dirbuf);
        if (dir == NULL) {
            cli_error(cmd, "no data directory: give --data DIR, or set "
                           "CAIRN_DATA_DIR or HOME");
            goto out;
        }
    }
    if (dir[0] == '\0') {
        cli_error(cmd, "--data: the data directory name is empty");
        goto out;
    }
    if (cairn_store_url_is_postgres(dir))
        return pg_store_open(cmd, dir, bootstrap, out);
    int n = snprintf(url, sizeof url, "sqlite:%s/" STORE_FILE, dir);
    if (n < 0 || (size_t)n >= sizeof url) {
        cli_error(cmd, "%s: path too long", dir);
        goto out;
    }
    const char *path = url + strlen("sqlite:");

    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || !bootstrap) {
            if (errno == ENOENT)
                cli_error(cmd,
                          "no data directory %s yet ('cairn serve' or "
                          "'cairn user add' creates it; --data names "
                          "another)",
                          dir);
            else
                cli_error(cmd, "%s: %s", dir, strerror(errno));
            goto out;
        }
        if (make_dirs(cmd, dir) < 0)
            goto out;
    } else if (!S_ISDIR(st.st_mode)) {
        cli_error(cmd,
                  "%s: not a directory; --data names the directory "
                  "that holds " STORE_FILE,
                  dir);
        goto out;
    }
    if (!bootstrap && stat(path, &st) < 0) {
        if (errno == ENOENT)
            cli_error(cmd,
                      "no store in the data directory %s yet ('cairn "
                      "serve' or 'cairn user add' creates %s)",
                      dir, STORE_FILE);
        else
            cli_error(cmd, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (bootstrap) {
        /*
         * Two first starts at once (a serve and a user add) must not both
         * see an empty store and create two first collections.
         */
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) {
            cli_error(cmd, "%s: %s", dir, strerror(errno));
            goto out;
        }
    }

    /* SQLite gives the -wal and -shm files the mode of the database. */
    mode_t old_mask = umask(077);
    int err = cairn_store_open(url, NULL, &s);
    umask(old_mask);
    if (err == CAIRN_EUNSUPPORTED) {
        cli_error(cmd,
                  "%s: written by a newer version of cairn; this one "
                  "cannot use it",
                  path);
        goto out;
    }
    if (err < 0) {
        cli_error(cmd,
                  "%s: cannot open the store (%s): unreadable, not a "
                  "cairn store, or locked by another writer",
                  path, cairn_strerror(err));
        goto out;
    }
    if (bootstrap && bootstrap_store(cmd, dir, s) < 0)
        goto out;
    *out = s;
    s = NULL;
    rc = 0;
out:
    if (dirfd >= 0)
        close(dirfd); /* releases the lock */
    cairn_store_close(s);
    return rc;
}

/* ---- checks of command-line names --------------------------------------- */

int cli_check_user_name(const struct cli_command *cmd, const char *name)
{
    size_t len = strnlen(name, CAIRN_STORE_NAME_MAX + 1);

    if (len == 0) {
        cli_error(cmd, "the user name is empty");
        return -1;
    }
    if (len > CAIRN_STORE_NAME_MAX) {
        cli_error(cmd, "user name longer than %d bytes", CAIRN_STORE_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            cli_error(cmd, "user name with a control character");
            return -1;
        }
        /* HTTP Basic sends "name:password"; a colon could not log in. */
        if (c == ':') {
            cli_error(cmd,
                      "user name '%s' has a ':', which HTTP Basic "
                      "authentication cannot carry",
                      name);
            return -1;
        }
    }
    return 0;
}

int cli_check_collection_id(const struct cli_command *cmd, const char *id)
{
    if (!cairn_uuid_check(id, strlen(id), false, NULL)) {
        cli_error(cmd,
                  "'%s' is not a collection id: TAXII collection ids are "
                  "UUIDs such as 9cfa669c-ee94-4ece-afd2-f8edac37d8fd "
                  "('cairn collection list' shows them)",
                  id);
        return -1;
    }
    return 0;
}

int cli_check_api_root_name(const struct cli_command *cmd, const char *name)
{
    size_t len = strnlen(name, 65);
    bool ok = len > 0 && len <= 64 && strcmp(name, ".") != 0 &&
              strcmp(name, "..") != 0;

    /* It is a URL path segment: RFC 3986 unreserved characters only. */
    for (size_t i = 0; ok && i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
             c == '~';
    }
    if (!ok)
        cli_error(cmd,
                  "'%s' is not an API root name: 1 to 64 letters, digits, "
                  "'-', '.', '_' or '~' (it becomes a URL path segment)",
                  name);
    return ok ? 0 : -1;
}

int cli_store_failed(const struct cli_command *cmd, int rc, const char *what)
{
    cli_error(cmd, "%s: %s", what, cairn_strerror(rc));
    if (rc == CAIRN_ENOTFOUND || rc == CAIRN_EEXIST)
        return CLI_EXIT_FINDINGS;
    return CLI_EXIT_ERROR;
}
