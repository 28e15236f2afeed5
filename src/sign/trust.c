/* SPDX-License-Identifier: Apache-2.0 */
/* A set of trusted public keys, looked up by fingerprint. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign/sign_int.h"

/* More keys than any sharing community has; the set is searched linearly. */
#define TRUST_MAX 4096

struct cairn_trust {
    struct cairn_sign_key **keys;
    size_t n, cap;
};

int cairn_trust_new(struct cairn_trust **out)
{
    *out = cairn_calloc(1, sizeof **out);
    return *out != NULL ? 0 : CAIRN_ENOMEM;
}

void cairn_trust_free(struct cairn_trust *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        cairn_sign_key_free(t->keys[i]);
    cairn_free(t->keys);
    cairn_free(t);
}

size_t cairn_trust_count(const struct cairn_trust *t)
{
    return t != NULL ? t->n : 0;
}

const struct cairn_sign_key *cairn__trust_find(const struct cairn_trust *t,
                                               const char *fpr)
{
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->keys[i]->fpr, fpr, 64) == 0)
            return t->keys[i];
    return NULL;
}

/* Take `k` (a public key) into the set, or free it when known already. */
static int take(struct cairn_trust *t, struct cairn_sign_key *k)
{
    if (cairn__trust_find(t, k->fpr) != NULL) {
        cairn_sign_key_free(k);
        return 0;
    }
    if (t->n >= TRUST_MAX) {
        cairn_sign_key_free(k);
        return CAIRN_ETOOBIG;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct cairn_sign_key **keys =
            cairn_realloc(t->keys, cap * sizeof *keys);
        if (keys == NULL) {
            cairn_sign_key_free(k);
            return CAIRN_ENOMEM;
        }
        t->keys = keys;
        t->cap = cap;
    }
    t->keys[t->n++] = k;
    return 0;
}

int cairn_trust_add_key(struct cairn_trust *t, const struct cairn_sign_key *k)
{
    struct cairn_sign_key *c = NULL;
    int rc = cairn__sign_key_public_copy(k, &c);
    return rc < 0 ? rc : take(t, c);
}

int cairn_trust_add_file(struct cairn_trust *t, const char *path,
                         struct cairn_diag *diag)
{
    struct cairn_sign_key *k = NULL;
    int rc = cairn_sign_key_load(path, &k, diag);
    if (rc < 0)
        return rc;
    if (k->priv) {
        /* Only the public half is kept in a trust set. */
        rc = cairn_trust_add_key(t, k);
        cairn_sign_key_free(k);
        return rc;
    }
    return take(t, k);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cairn_trust_add_dir(struct cairn_trust *t, const char *dir,
                        struct cairn_diag *diag)
{
    int rc = CAIRN_EIO;
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);

    if (d == NULL) {
        if (diag != NULL) {
            cairn_diag_clear(diag);
            snprintf(diag->file, sizeof diag->file, "%s", dir);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "key", "%s",
                           strerror(errno));
        }
        goto out;
    }
    /* In name order, so that a key in two files keeps the same one. */
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' ||
            !(ends_with(e->d_name, ".pub") || ends_with(e->d_name, ".key")))
            continue;
        rc = CAIRN_ETOOBIG;
        if (n >= TRUST_MAX)
            goto out;
        rc = CAIRN_ENOMEM;
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 16;
            char **nn = cairn_realloc(names, c2 * sizeof *nn);
            if (nn == NULL)
                goto out;
            names = nn;
            cap = c2;
        }
        if ((names[n] = cairn_strdup(e->d_name)) == NULL)
            goto out;
        n++;
    }
    qsort(names, n, sizeof *names, name_cmp);
    rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof path) {
            rc = CAIRN_ETOOBIG;
            break;
        }
        rc = cairn_trust_add_file(t, path, diag);
    }
out:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        cairn_free(names[i]);
    cairn_free(names);
    return rc;
}
