/* SPDX-License-Identifier: Apache-2.0 */
/* Who sent a request: HTTP Basic (cached, throttled) and API tokens. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <sodium.h>

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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * What the cache knows of a credential: CACHE_GOOD (verified, `user`
 * filled), CACHE_KNOWN (it verified once, but the entry has expired: check
 * it again, but never throttle it), CACHE_BAD (it failed a moment ago) or
 * CACHE_NONE. With `start`, `refresh` is set when a good entry is past
 * half its life: its password should be verified again, without making
 * the client wait (asked once, then again only after a minute); without,
 * `refresh` says whether such a check was asked for and is still due.
 */
#define REFRESH_RETRY_S 60
enum cache_state { CACHE_NONE, CACHE_GOOD, CACHE_KNOWN, CACHE_BAD };

static enum cache_state cache_lookup(struct cairn_taxii *t,
                                     const unsigned char key[32],
                                     char user[CAIRN_STORE_NAME_MAX + 1],
                                     bool start, bool *refresh)
{
    enum cache_state st = CACHE_NONE;
    int64_t now = now_seconds();
    *refresh = false;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++) {
        struct cred_entry *e = &t->creds[i];
        if (e->good_until == 0 || memcmp(e->key, key, 32) != 0)
            continue;
        if (e->expires > now) {
            memcpy(user, e->user, sizeof e->user);
            st = CACHE_GOOD;
            if (!start) {
                *refresh = e->refreshing > e->checked;
            } else if (now - e->checked >= (int64_t)(t->cred_seconds + 1) / 2 &&
                       (e->refreshing <= e->checked ||
                        now - e->refreshing >= REFRESH_RETRY_S)) {
                *refresh = true;
                e->refreshing = now;
            }
        } else if (e->good_until > now) {
            st = CACHE_KNOWN;
        } else {
            e->expires = e->good_until = 0;
        }
        break;
    }
    for (size_t i = 0; st == CACHE_NONE && i < TAXII_FAIL_CACHE; i++) {
        struct fail_entry *f = &t->fails[i];
        if (f->expires > now && memcmp(f->key, key, 32) == 0)
            st = CACHE_BAD;
    }
    pthread_mutex_unlock(&t->lock);
    return st;
}

/* Remember a verified credential, in a free slot or the oldest one. */
static void cache_insert(struct cairn_taxii *t, const unsigned char key[32],
                         const char *user)
{
    int64_t now = now_seconds();
    pthread_mutex_lock(&t->lock);
    struct cred_entry *victim = &t->creds[0];
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++) {
        struct cred_entry *e = &t->creds[i];
        if (e->good_until == 0 || memcmp(e->key, key, 32) == 0) {
            victim = e;
            break;
        }
        if (e->checked < victim->checked)
            victim = e;
    }
    memcpy(victim->key, key, 32);
    snprintf(victim->user, sizeof victim->user, "%s", user);
    victim->checked = now;
    victim->refreshing = 0;
    victim->expires = now + (int64_t)t->cred_seconds;
    victim->good_until = now + (int64_t)(t->cred_seconds > TAXII_GOOD_SECONDS
                                             ? t->cred_seconds
                                             : TAXII_GOOD_SECONDS);
    for (size_t i = 0; i < TAXII_FAIL_CACHE; i++)
        if (memcmp(t->fails[i].key, key, 32) == 0)
            t->fails[i].expires = 0;
    pthread_mutex_unlock(&t->lock);
}

/*
 * Remember a wrong credential for a few seconds, so that a flood of the
 * same one costs one check; a credential that verified before is dropped
 * (its password was changed).
 */
static void cache_fail(struct cairn_taxii *t, const unsigned char key[32])
{
    int64_t now = now_seconds();
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < TAXII_CRED_CACHE; i++)
        if (memcmp(t->creds[i].key, key, 32) == 0)
            t->creds[i].expires = t->creds[i].good_until = 0;
    struct fail_entry *victim = &t->fails[0];
    for (size_t i = 0; i < TAXII_FAIL_CACHE; i++) {
        struct fail_entry *f = &t->fails[i];
        if (f->expires <= now || memcmp(f->key, key, 32) == 0) {
            victim = f;
            break;
        }
        if (f->expires < victim->expires)
            victim = f;
    }
    memcpy(victim->key, key, 32);
    victim->expires = now + TAXII_FAIL_SECONDS;
    pthread_mutex_unlock(&t->lock);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/*
 * The throttle bucket of `key` brought up to date, made when missing (in
 * its probe window, evicting the longest untouched). Called locked.
 */
static struct throttle_entry *throttle_get(struct cairn_taxii *t,
                                           const char *key, int64_t now)
{
    size_t h = fnv1a(key) % TAXII_THROTTLE_SLOTS;
    struct throttle_entry *victim = NULL;
    for (size_t k = 0; k < 8; k++) {
        struct throttle_entry *e = &t->throttle[(h + k) % TAXII_THROTTLE_SLOTS];
        if (strcmp(e->key, key) == 0) {
            double add = (double)(now - e->at_ms) /
                         (1000.0 * TAXII_THROTTLE_REFILL_S);
            e->tokens = e->tokens + add > TAXII_THROTTLE_BURST
                            ? TAXII_THROTTLE_BURST
                            : e->tokens + add;
            e->at_ms = now;
            return e;
        }
        if (victim == NULL || e->key[0] == '\0' ||
            (victim->key[0] != '\0' && e->at_ms < victim->at_ms))
            victim = e;
    }
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->tokens = TAXII_THROTTLE_BURST;
    victim->at_ms = now;
    return victim;
}

static void throttle_keys(const char *client, const char *name,
                          char a[TAXII_THROTTLE_KEY],
                          char u[TAXII_THROTTLE_KEY])
{
    snprintf(a, TAXII_THROTTLE_KEY, "a:%s", client != NULL ? client : "");
    snprintf(u, TAXII_THROTTLE_KEY, "u:%s", name);
}

/*
 * Take one password check from the buckets of the client's address and
 * of the user name (or only look, when not `take`); false (nothing taken)
 * when either is empty.
 */
static bool throttle_take(struct cairn_taxii *t, const char *client,
                          const char *name, bool take)
{
    char a[TAXII_THROTTLE_KEY], u[TAXII_THROTTLE_KEY];
    int64_t now = now_ms();
    bool ok;
    throttle_keys(client, name, a, u);
    pthread_mutex_lock(&t->lock);
    struct throttle_entry *ea = client != NULL ? throttle_get(t, a, now) : NULL;
    struct throttle_entry *eu = throttle_get(t, u, now);
    ok = (ea == NULL || ea->tokens >= 1.0) && eu->tokens >= 1.0;
    if (ok && take) {
        if (ea != NULL)
            ea->tokens -= 1.0;
        eu->tokens -= 1.0;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

/* A check that succeeded gives its token back. */
static void throttle_refund(struct cairn_taxii *t, const char *client,
                            const char *name)
{
    char a[TAXII_THROTTLE_KEY], u[TAXII_THROTTLE_KEY];
    int64_t now = now_ms();
    throttle_keys(client, name, a, u);
    pthread_mutex_lock(&t->lock);
    if (client != NULL) {
        struct throttle_entry *ea = throttle_get(t, a, now);
        if (ea->tokens + 1.0 <= TAXII_THROTTLE_BURST)
            ea->tokens += 1.0;
    }
    struct throttle_entry *eu = throttle_get(t, u, now);
    if (eu->tokens + 1.0 <= TAXII_THROTTLE_BURST)
        eu->tokens += 1.0;
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

/*
 * A Basic credential split: `plain` (to be cleansed and freed by the
 * caller) holds "name\0password"; 0 or CAIRN_EPERM (malformed).
 */
struct basic_cred {
    unsigned char key[32];
    char *plain;
    size_t plain_len;
    const char *name;
    const char *password;
};

static void basic_release(struct basic_cred *bc)
{
    if (bc->plain != NULL)
        OPENSSL_cleanse(bc->plain, bc->plain_len);
    cairn_free(bc->plain);
    bc->plain = NULL;
}

static int basic_parse(const struct cairn_taxii *t, const char *header,
                       const char *cred, struct basic_cred *bc, bool decode)
{
    memset(bc, 0, sizeof *bc);
    size_t len = strlen(cred);
    while (len > 0 && cred[len - 1] == ' ')
        len--;
    if (len > AUTH_MAX)
        return CAIRN_EPERM;
    /* Keyed: what the cache holds cannot be tried against guesses of the
     * password without the process's secret. HMAC-SHA-256 through
     * libsodium: OpenSSL 3's HMAC() looks the digest up on every call. */
    _Static_assert(sizeof t->cred_secret == crypto_auth_hmacsha256_KEYBYTES &&
                       sizeof bc->key == crypto_auth_hmacsha256_BYTES,
                   "the cache key is one HMAC-SHA-256 with a 32-byte secret");
    crypto_auth_hmacsha256(bc->key, (const unsigned char *)header,
                           strlen(header), t->cred_secret);
    if (!decode)
        return 0;
    bc->plain = cairn_malloc(len / 4 * 3 + 1);
    if (bc->plain == NULL)
        return CAIRN_ENOMEM;
    if (b64_decode(cred, len, bc->plain, &bc->plain_len) < 0)
        return CAIRN_EPERM;
    char *colon = memchr(bc->plain, ':', bc->plain_len);
    if (colon == NULL || memchr(bc->plain, '\0', bc->plain_len) != NULL)
        return CAIRN_EPERM;
    size_t name_len = (size_t)(colon - bc->plain);
    if (name_len == 0 || name_len > CAIRN_STORE_NAME_MAX ||
        bc->plain_len - name_len - 1 > CAIRN_STORE_PASSWORD_MAX)
        return CAIRN_EPERM;
    *colon = '\0';
    bc->name = bc->plain;
    bc->password = colon + 1;
    return 0;
}

/* The slow part: verify the password, remember the outcome. */
static int basic_verify(struct cairn_taxii *t, struct cairn_store *s,
                        struct basic_cred *bc, const char *client,
                        bool throttled, char user[CAIRN_STORE_NAME_MAX + 1])
{
    int rc = verify_once(t, s, bc->key, bc->name, bc->password);
    if (rc == CAIRN_ETOOBIG) {
        if (throttled)
            throttle_refund(t, client, bc->name);
        return rc;
    }
    if (rc == 0) {
        snprintf(user, CAIRN_STORE_NAME_MAX + 1, "%s", bc->name);
        cache_insert(t, bc->key, user);
        if (throttled)
            throttle_refund(t, client, bc->name);
        return 0;
    }
    if (rc != CAIRN_EPERM && rc != CAIRN_ENOTFOUND && rc != CAIRN_EINVAL)
        return rc; /* the store failed: not the client's fault */
    cache_fail(t, bc->key);
    return CAIRN_EPERM;
}

/*
 * The quick part of a Basic login: 0 (cached), CAIRN_EPERM (malformed or
 * failed a moment ago), CAIRN_EBUSY (throttled) or CAIRN_TAXII_AUTH_SLOW
 * with the throttle's token taken (`*throttled`, when `take`) unless the
 * credential is known good.
 */
static int basic_quick(struct cairn_taxii *t, const char *header,
                       const char *cred, const char *client, bool take,
                       struct basic_cred *bc, bool *throttled, bool *refresh,
                       char user[CAIRN_STORE_NAME_MAX + 1])
{
    *throttled = false;
    int rc = basic_parse(t, header, cred, bc, false);
    if (rc != 0)
        return rc;
    enum cache_state st = cache_lookup(t, bc->key, user, !take, refresh);
    if (st == CACHE_GOOD)
        return 0;
    if (st == CACHE_BAD)
        return CAIRN_EPERM;
    rc = basic_parse(t, header, cred, bc, true);
    if (rc != 0)
        return rc;
    if (st != CACHE_KNOWN) {
        if (!throttle_take(t, client, bc->name, take))
            return CAIRN_EBUSY;
        *throttled = take;
    }
    return CAIRN_TAXII_AUTH_SLOW;
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

/* The scheme's credentials, or NULL for one not accepted. */
static const char *scheme_of(const char *authorization, bool *is_basic)
{
    const char *rest;
    while (*authorization == ' ')
        authorization++;
    *is_basic = false;
    if ((rest = after_scheme(authorization, "Basic")) != NULL) {
        *is_basic = true;
        return rest;
    }
    /* taxii2-client sends its API key as "Token KEY". */
    if ((rest = after_scheme(authorization, "Bearer")) != NULL ||
        (rest = after_scheme(authorization, "Token")) != NULL)
        return rest;
    return NULL;
}

int cairn_taxii_auth_begin(struct cairn_taxii *t, struct cairn_store *store,
                           const char *authorization, const char *client,
                           char user[CAIRN_STORE_NAME_MAX + 1], bool *refresh)
{
    bool is_basic;
    user[0] = '\0';
    *refresh = false;
    if (authorization == NULL)
        return CAIRN_EPERM;
    const char *rest = scheme_of(authorization, &is_basic);
    if (rest == NULL)
        return CAIRN_EPERM;
    if (!is_basic)
        return bearer(store, rest, user);
    struct basic_cred bc;
    bool throttled;
    int rc = basic_quick(t, authorization, rest, client, false, &bc,
                         &throttled, refresh, user);
    basic_release(&bc);
    return rc;
}

int cairn_taxii_auth_check(struct cairn_taxii *t, struct cairn_store *store,
                           const char *authorization, const char *client,
                           char user[CAIRN_STORE_NAME_MAX + 1])
{
    bool is_basic, throttled, refresh;
    user[0] = '\0';
    if (authorization == NULL)
        return CAIRN_EPERM;
    const char *rest = scheme_of(authorization, &is_basic);
    if (rest == NULL)
        return CAIRN_EPERM;
    if (!is_basic)
        return bearer(store, rest, user);
    struct basic_cred bc;
    int rc = basic_quick(t, authorization, rest, client, true, &bc,
                         &throttled, &refresh, user);
    if (rc == 0 && refresh) {
        /* Verified again on purpose: a changed password ends it. */
        rc = basic_parse(t, authorization, rest, &bc, true);
        if (rc == 0)
            rc = basic_verify(t, store, &bc, client, false, user);
    } else if (rc == CAIRN_TAXII_AUTH_SLOW) {
        rc = basic_verify(t, store, &bc, client, throttled, user);
    }
    basic_release(&bc);
    if (rc != 0)
        user[0] = '\0';
    return rc;
}

int cairn__taxii_authenticate(struct cairn_taxii *t, struct cairn_store *s,
                              const char *authorization,
                              char user[CAIRN_STORE_NAME_MAX + 1])
{
    bool refresh;
    int rc = cairn_taxii_auth_begin(t, s, authorization, NULL, user, &refresh);
    if (rc == CAIRN_TAXII_AUTH_SLOW)
        rc = cairn_taxii_auth_check(t, s, authorization, NULL, user);
    return rc;
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
