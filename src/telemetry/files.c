/* SPDX-License-Identifier: Apache-2.0 */
/* Hashing files for `cairn hunt --files`: MD5, SHA-1, SHA-256 in one pass. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "telemetry/telemetry_int.h"

/* Directories deeper than this are not entered (loops cannot happen
 * without symlinks, but bind mounts and hostile trees exist). */
#define WALK_DEPTH 64
#define HASH_BLOCK (1024 * 1024)
#define PATH_CAP   4096

struct walk {
    const struct cairn_telemetry_opts *opts;
    cairn_telemetry_event_cb cb;
    cairn_telemetry_path_cb list; /* listing only: each file's path */
    void *ud;
    unsigned char *block;
    EVP_MD_CTX *ctx[3];
    const EVP_MD *md[3];
};

static void report(const struct walk *w, const char *path, const char *rule,
                   const char *msg)
{
    if (w->opts == NULL || w->opts->on_diag == NULL)
        return;
    struct cairn_diag d;
    cairn_diag_clear(&d);
    /* A path longer than the field is cut; the message still names it. */
    size_t n = strlen(path);
    if (n >= sizeof d.file)
        n = sizeof d.file - 1;
    memcpy(d.file, path, n);
    d.file[n] = '\0';
    cairn_diag_set(&d, CAIRN_SEV_WARNING, rule, "%s", msg);
    w->opts->on_diag(&d, w->opts->diag_ud);
}

static void to_hex(const unsigned char *in, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Hash one regular file and hand its event to the callback. */
static int hash_file(struct walk *w, const char *path, bool follow)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        report(w, path, "unreadable", strerror(errno));
        return 0;
    }
    for (int k = 0; k < 3; k++) {
        if (EVP_DigestInit_ex(w->ctx[k], w->md[k], NULL) != 1) {
            close(fd);
            return CAIRN_EINTERNAL;
        }
    }
    for (;;) {
        ssize_t n = read(fd, w->block, HASH_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            report(w, path, "unreadable", strerror(errno));
            close(fd);
            return 0;
        }
        if (n == 0)
            break;
        for (int k = 0; k < 3; k++)
            if (EVP_DigestUpdate(w->ctx[k], w->block, (size_t)n) != 1) {
                close(fd);
                return CAIRN_EINTERNAL;
            }
    }
    close(fd);
    char hex[3][2 * EVP_MAX_MD_SIZE + 1];
    for (int k = 0; k < 3; k++) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (EVP_DigestFinal_ex(w->ctx[k], md, &n) != 1)
            return CAIRN_EINTERNAL;
        to_hex(md, n, hex[k]);
    }
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    struct cairn_hunt_field fields[4] = {
        {CAIRN_IOC_MD5, hex[0], 32, "md5"},
        {CAIRN_IOC_SHA1, hex[1], 40, "sha1"},
        {CAIRN_IOC_SHA256, hex[2], 64, "sha256"},
        {CAIRN_IOC_FILENAME, base, strlen(base), "name"},
    };
    struct cairn_hunt_event ev = {
        .fields = fields,
        .n_fields = base[0] != '\0' ? 4 : 3,
        .file = path,
    };
    int rc = w->cb(&ev, w->ud);
    return rc < 0 ? rc : 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_path(struct walk *w, const char *path, int depth);

static int walk_dir(struct walk *w, const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        report(w, path, "unreadable", strerror(errno));
        return 0;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 32;
            char **bigger = cairn_realloc(names, na * sizeof *names);
            if (bigger == NULL) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
            names = bigger;
            alloc = na;
        }
        names[n] = cairn_strdup(de->d_name);
        if (names[n] == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        n++;
    }
    /* Sorted, so that runs over the same tree report in the same order. */
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char child[PATH_CAP];
        int l = snprintf(child, sizeof child, "%s%s%s", path,
                         path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (l < 0 || (size_t)l >= sizeof child) {
            report(w, path, "unreadable", "path too long; entry skipped");
            continue;
        }
        rc = walk_path(w, child, depth + 1);
    }
out:
    for (size_t i = 0; i < n; i++)
        cairn_free(names[i]);
    cairn_free(names);
    closedir(dir);
    return rc;
}

static int walk_path(struct walk *w, const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        report(w, path, "unreadable", strerror(errno));
        return 0;
    }
    if (S_ISLNK(st.st_mode))
        return 0; /* not followed */
    if (S_ISREG(st.st_mode)) {
        if (w->list != NULL) {
            int rc = w->list(path, false, w->ud);
            return rc < 0 ? rc : 0;
        }
        return hash_file(w, path, false);
    }
    if (S_ISDIR(st.st_mode)) {
        if (depth >= WALK_DEPTH) {
            report(w, path, "too-deep", "directory nested too deeply; skipped");
            return 0;
        }
        return walk_dir(w, path, depth);
    }
    return 0; /* devices, sockets, FIFOs: nothing to hash */
}

static int hash_init(struct walk *w)
{
    w->md[0] = EVP_md5();
    w->md[1] = EVP_sha1();
    w->md[2] = EVP_sha256();
    w->block = cairn_malloc(HASH_BLOCK);
    for (int k = 0; k < 3; k++)
        w->ctx[k] = EVP_MD_CTX_new();
    if (w->block == NULL || w->ctx[0] == NULL || w->ctx[1] == NULL ||
        w->ctx[2] == NULL)
        return CAIRN_ENOMEM;
    return 0;
}

static void hash_release(struct walk *w)
{
    for (int k = 0; k < 3; k++)
        EVP_MD_CTX_free(w->ctx[k]);
    cairn_free(w->block);
}

/* The walk of hash_files and list_files: `path` itself, then its tree. */
static int walk_top(struct walk *w, const char *path, struct cairn_diag *diag)
{
    int rc = CAIRN_EINTERNAL;
    cairn_diag_clear(diag);
    if (diag != NULL)
        snprintf(diag->file, sizeof diag->file, "%s", path ? path : "");
    if (path == NULL || path[0] == '\0' ||
        (w->cb == NULL && w->list == NULL))
        return CAIRN_EINVAL;
    /* The path given is followed even when it is a link; links found
     * inside the tree are not. */
    struct stat st;
    if (stat(path, &st) != 0) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "open", "cannot open: %s",
                       strerror(errno));
        return CAIRN_EIO;
    }
    if (w->list == NULL && hash_init(w) < 0) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "open",
                       "not a regular file or directory");
        rc = CAIRN_EIO;
        goto out;
    }
    if (S_ISDIR(st.st_mode))
        rc = walk_dir(w, path, 0);
    else if (w->list != NULL)
        rc = w->list(path, true, w->ud);
    else
        rc = hash_file(w, path, true);
out:
    hash_release(w);
    return rc;
}

int cairn_telemetry_hash_files(const char *path,
                               const struct cairn_telemetry_opts *opts,
                               cairn_telemetry_event_cb cb, void *ud,
                               struct cairn_diag *diag)
{
    struct walk w = {.opts = opts, .cb = cb, .ud = ud};
    return walk_top(&w, path, diag);
}

int cairn_telemetry_list_files(const char *path,
                               const struct cairn_telemetry_opts *opts,
                               cairn_telemetry_path_cb cb, void *ud,
                               struct cairn_diag *diag)
{
    struct walk w = {.opts = opts, .list = cb, .ud = ud};
    return walk_top(&w, path, diag);
}

int cairn_telemetry_hash_file(const char *path, bool follow,
                              const struct cairn_telemetry_opts *opts,
                              cairn_telemetry_event_cb cb, void *ud)
{
    struct walk w = {.opts = opts, .cb = cb, .ud = ud};
    int rc = hash_init(&w);

    if (rc == 0)
        rc = hash_file(&w, path, follow);
    hash_release(&w);
    return rc;
}
