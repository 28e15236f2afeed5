/* SPDX-License-Identifier: Apache-2.0 */
/* Who sent a request: HTTP Basic (with a cache) and bearer API tokens. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "taxii/taxii_int.h"

/* Longest Authorization value looked at: a name, a password, base64. */
#define AUTH_MAX                                                               \
    (((CAIRN_STORE_NAME_MAX + 1 + CAIRN_STORE_PASSWORD_MAX) / 3 + 1) * 4 + 16)

static int64_t now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Strict base64 with padding; `out` holds at least len / 4 * 3 + 1. */
static int b64_decode(const char *s, size_t len, char *out, size_t *out_len)
{
    if (len == 0 || cairn_base64_decode(s, len, out, out_len) < 0)
        return CAIRN_EINVAL;
    out[*out_len] = '\0';
    return 0;
}

/* Case-insensitive scheme followed by one or more spaces. */
static const char *after_scheme(const char *h, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    h += n;
    while (*h == ' ')
        h++;
    return h;
}

static bool cache_lookup(struct cairn_taxii *t, const unsigned char key[32],
                         char user[CAIRN_STORE_NAME_MAX + 1])
{
    bool found = false;
    int64_t now = now_seconds();
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++) {
        struct cred_entry *e = &t->creds[i];
        if (e->expires == 0 || memcmp(e->key, key, 32) != 0)
            continue;
        if (e->expires > now) {
            memcpy(user, e->user, sizeof e->user);
            found = true;
        } else {
            e->expires = 0;
        }
        break;
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

/* Remember a verified credential, in a free slot or the oldest one. */
static void cache_insert(struct cairn_taxii *t, const unsigned char key[32],
                         const char *user)
{
    pthread_mutex_lock(&t->lock);
    struct cred_entry *victim = &t->creds[0];
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++) {
        struct cred_entry *e = &t->creds[i];
        if (e->expires == 0 || memcmp(e->key, key, 32) == 0) {
            victim = e;
            break;
        }
        if (e->expires < victim->expires)
            victim = e;
    }
    memcpy(victim->key, key, 32);
    snprintf(victim->user, sizeof victim->user, "%s", user);
    victim->expires = now_seconds() + (int64_t)t->cred_seconds;
    pthread_mutex_unlock(&t->lock);
}

/*
 * A password check is slow on purpose (scrypt, ~0.2 s and 32 MiB), and
 * failures are not cached: a flood of wrong passwords would hold every
 * request thread. So at most verify_max checks run at once, and past that
 * the client is told to come back (CAIRN_ETOOBIG: 503) rather than queued
 * on a request thread. A client opening many connections with the same
 * credentials is not refused: identical requests wait for the check that
 * is running and share its outcome.
 */
static int verify_once(struct cairn_taxii *t, struct cairn_store *s,
                       const unsigned char key[32], const char *name,
                       const char *password)
{
    struct verify_slot *slot = NULL;
    int rc;

    pthread_mutex_lock(&t->lock);
    for (;;) {
        struct verify_slot *same = NULL;
        slot = NULL;
        for (size_t i = 0; i < TAXII_VERIFY_MAX; i++) {
            struct verify_slot *v = &t->slots[i];
            if (v->busy && memcmp(v->key, key, 32) == 0)
                same = v;
            else if (!v->busy && slot == NULL)
                slot = v;
        }
        if (same == NULL)
            break;
        uint64_t seq = same->seq;
        t->verify_waiting++;
        while (same->busy && same->seq == seq)
            pthread_cond_wait(&t->verify_cv, &t->lock);
        t->verify_waiting--;
        if (same->done_seq == seq) {
            rc = same->rc;
            pthread_mutex_unlock(&t->lock);
            return rc;
        }
        /* The slot serves another check already: look again. */
    }
    if (t->verifying >= t->verify_max || slot == NULL) {
        pthread_mutex_unlock(&t->lock);
        return CAIRN_ETOOBIG;
    }
    memcpy(slot->key, key, 32);
    slot->busy = true;
    uint64_t seq = ++t->verify_seq;
    slot->seq = seq;
    t->verifying++;
    pthread_mutex_unlock(&t->lock);

    rc = t->verify(s, name, password);

    pthread_mutex_lock(&t->lock);
    slot->rc = rc;
    slot->done_seq = seq;
    slot->busy = false;
    t->verifying--;
    pthread_cond_broadcast(&t->verify_cv);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static int basic(struct cairn_taxii *t, struct cairn_store *s,
                 const char *header, const char *cred,
                 char user[CAIRN_STORE_NAME_MAX + 1])
{
    size_t len = strlen(cred);
    while (len > 0 && cred[len - 1] == ' ')
        len--;
    if (len > AUTH_MAX)
        return CAIRN_EPERM;

    unsigned char key[32];
    if (EVP_Digest(header, strlen(header), key, NULL, EVP_sha256(), NULL) != 1)
        return CAIRN_ENOMEM;
    if (cache_lookup(t, key, user))
        return 0;

    char *plain = cairn_malloc(len / 4 * 3 + 1);
    if (plain == NULL)
        return CAIRN_ENOMEM;
    size_t plain_len = 0;
    int rc = CAIRN_EPERM;
    if (b64_decode(cred, len, plain, &plain_len) < 0)
        goto out;
    char *colon = memchr(plain, ':', plain_len);
    if (colon == NULL || memchr(plain, '\0', plain_len) != NULL)
        goto out;
    size_t name_len = (size_t)(colon - plain);
    if (name_len == 0 || name_len > CAIRN_STORE_NAME_MAX ||
        plain_len - name_len - 1 > CAIRN_STORE_PASSWORD_MAX)
        goto out;
    *colon = '\0';
    rc = verify_once(t, s, key, plain, colon + 1);
    if (rc == CAIRN_ETOOBIG)
        goto out;
    if (rc == 0) {
        memcpy(user, plain, name_len + 1);
        cache_insert(t, key, user);
    } else if (rc != CAIRN_EPERM && rc != CAIRN_ENOTFOUND &&
               rc != CAIRN_EINVAL) {
        goto out; /* the store failed: not the client's fault */
    } else {
        rc = CAIRN_EPERM;
    }
out:
    OPENSSL_cleanse(plain, plain_len);
    cairn_free(plain);
    return rc;
}

static int bearer(struct cairn_store *s, const char *token,
                  char user[CAIRN_STORE_NAME_MAX + 1])
{
    char tok[CAIRN_STORE_TOKEN_LEN];
    size_t len = strlen(token);
    while (len > 0 && token[len - 1] == ' ')
        len--;
    if (len == 0 || len >= sizeof tok)
        return CAIRN_EPERM;
    memcpy(tok, token, len);
    tok[len] = '\0';
    char *name = NULL;
    int rc = cairn_store_token_lookup(s, tok, &name);
    if (rc == 0) {
        if (name == NULL || strlen(name) > CAIRN_STORE_NAME_MAX)
            rc = CAIRN_EPERM;
        else
            snprintf(user, CAIRN_STORE_NAME_MAX + 1, "%s", name);
    } else if (rc == CAIRN_ENOTFOUND || rc == CAIRN_EINVAL) {
        rc = CAIRN_EPERM;
    }
    cairn_free(name);
    return rc;
}

int cairn__taxii_authenticate(struct cairn_taxii *t, struct cairn_store *s,
                              const char *authorization,
                              char user[CAIRN_STORE_NAME_MAX + 1])
{
    user[0] = '\0';
    if (authorization == NULL)
        return CAIRN_EPERM;
    while (*authorization == ' ')
        authorization++;
    const char *rest;
    if ((rest = after_scheme(authorization, "Basic")) != NULL)
        return basic(t, s, authorization, rest, user);
    if ((rest = after_scheme(authorization, "Bearer")) != NULL)
        return bearer(s, rest, user);
    return CAIRN_EPERM;
}

int cairn_taxii_authenticate(struct cairn_taxii *t, struct cairn_store *store,
                             const char *authorization,
                             char user[CAIRN_STORE_NAME_MAX + 1])
{
    return cairn__taxii_authenticate(t, store, authorization, user);
}

void cairn__taxii_set_verify(struct cairn_taxii *t, cairn__taxii_verify_fn fn)
{
    t->verify = fn != NULL ? fn : cairn_store_user_verify;
}

void cairn__taxii_set_verify_max(struct cairn_taxii *t, unsigned n)
{
    pthread_mutex_lock(&t->lock);
    t->verify_max = n < 1 ? 1 : n > TAXII_VERIFY_MAX ? TAXII_VERIFY_MAX : n;
    pthread_mutex_unlock(&t->lock);
}
