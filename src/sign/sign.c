/* SPDX-License-Identifier: Apache-2.0 */
/* Signing and verifying STIX objects: the cairn signature extension. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "sign/sign_int.h"

#define SIG_LEN     64
#define SIG_B64_LEN 88 /* base64 of 64 bytes, padded */

/* ---- the bytes a signature covers ------------------------------------------ */

int cairn_sign_canonical(const json_t *obj, char **out, size_t *len_out)
{
    *out = NULL;
    if (!json_is_object(obj))
        return CAIRN_EINVAL;
    /* The object as it is signed: the signature member of the cairn
     * extension left out (omitted while writing, nothing copied). */
    const json_t *ext = json_object_get(json_object_get(obj, "extensions"),
                                        CAIRN_SIGN_EXTENSION);
    return cairn_json_canonical_omit(obj, json_is_object(ext) ? ext : NULL,
                                     "signature", out, len_out);
}

/* ---- signing ----------------------------------------------------------------- */

int cairn_sign_object(json_t *obj, const struct cairn_sign_key *k,
                      const struct cairn_time *when)
{
    int rc = CAIRN_EINVAL;
    json_t *ext = NULL;
    char *msg = NULL;
    size_t msg_len = 0;
    EVP_MD_CTX *md = NULL;
    unsigned char sig[SIG_LEN];
    size_t sig_len = sizeof sig;
    char b64[SIG_B64_LEN + 1];
    char ts[40];

    if (!json_is_object(obj) || k == NULL || !k->priv)
        goto out;
    json_t *exts = json_object_get(obj, "extensions");
    if (exts != NULL && !json_is_object(exts))
        goto out;
    struct cairn_time now = when != NULL ? *when : cairn_time_now(3);
    if (cairn_time_format(&now, 3, ts, sizeof ts) < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    ext = json_pack("{s:s, s:s, s:s, s:s}", "extension_type",
                    "property-extension", "algorithm", CAIRN_SIGN_ALGORITHM,
                    "key", k->fpr, "signed", ts);
    if (ext == NULL)
        goto out;
    if (k->identity != NULL &&
        json_object_set_new(ext, "signer", json_string(k->identity)) != 0)
        goto out;
    if (exts == NULL) {
        exts = json_object();
        if (exts == NULL || json_object_set_new(obj, "extensions", exts) != 0)
            goto out;
    }
    if (json_object_set(exts, CAIRN_SIGN_EXTENSION, ext) != 0)
        goto out;
    rc = cairn_sign_canonical(obj, &msg, &msg_len);
    if (rc < 0)
        goto out;
    rc = CAIRN_EINTERNAL;
    md = EVP_MD_CTX_new();
    if (md == NULL ||
        EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)msg,
                       msg_len) != 1 ||
        sig_len != SIG_LEN)
        goto out;
    EVP_EncodeBlock((unsigned char *)b64, sig, SIG_LEN);
    rc = CAIRN_ENOMEM;
    if (json_object_set_new(ext, "signature", json_string(b64)) != 0)
        goto out;
    rc = 0;
out:
    if (rc < 0 && json_is_object(obj)) {
        /* Never leave half a signature behind. */
        json_t *e = json_object_get(obj, "extensions");
        if (json_object_get(e, CAIRN_SIGN_EXTENSION) == ext && ext != NULL)
            json_object_del(e, CAIRN_SIGN_EXTENSION);
    }
    json_decref(ext);
    EVP_MD_CTX_free(md);
    cairn_free(msg);
    return rc;
}

/* ---- verifying --------------------------------------------------------------- */

const char *cairn_sign_verdict_name(enum cairn_sign_verdict v)
{
    switch (v) {
    case CAIRN_SIGN_VALID:
        return "valid";
    case CAIRN_SIGN_UNSIGNED:
        return "unsigned";
    case CAIRN_SIGN_MALFORMED:
        return "malformed";
    case CAIRN_SIGN_UNTRUSTED:
        return "untrusted";
    case CAIRN_SIGN_BAD:
        return "bad";
    case CAIRN_SIGN_REVOKED:
        return "revoked";
    case CAIRN_SIGN_OUT_OF_DATE:
        return "out-of-date";
    }
    return "?";
}

static bool hex64(const char *s)
{
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[64] == '\0';
}

struct why {
    char *buf;
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void say(struct why *w,
                                                      const char *fmt, ...)
{
    va_list ap;
    if (w->buf == NULL || w->len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(w->buf, w->len, fmt, ap);
    va_end(ap);
    /* A name from the object cut by a precision or by the end of the
     * buffer may end inside a character: the reason is stored as a mark
     * and shown, so it stays UTF-8, a stray byte shown as '?'. */
    size_t n = strlen(w->buf);
    for (size_t i = 0; i < n;) {
        size_t c = cairn_utf8_len(w->buf + i, n - i);
        if (c == 0) {
            w->buf[i] = '?';
            c = 1;
        }
        i += c;
    }
}

/* The string member `name` of the extension, or NULL after saying why. */
static const char *member(const json_t *ext, const char *name, struct why *w)
{
    const json_t *v = json_object_get(ext, name);
    if (!json_is_string(v)) {
        say(w, "extensions.%s.%s: %s", CAIRN_SIGN_EXTENSION, name,
            v == NULL ? "missing" : "not a string");
        return NULL;
    }
    return json_string_value(v);
}

/* Whether time `t` is inside the trusted key's period and not revoked. */
static enum cairn_sign_verdict in_period(const struct cairn_sign_key *k,
                                         const struct cairn_time *t,
                                         const char *ts, struct why *w)
{
    if (k->has_revoked &&
        (k->revoked_all || cairn_time_cmp(t, &k->revoked) >= 0)) {
        say(w, "key %.16s... (%s) is revoked%s%s", k->fpr,
            k->name != NULL ? k->name : "no name",
            k->revoked_all ? "" : " for signatures made from ",
            k->revoked_all ? "" : ts);
        return CAIRN_SIGN_REVOKED;
    }
    if ((k->has_not_before && cairn_time_cmp(t, &k->not_before) < 0) ||
        (k->has_not_after && cairn_time_cmp(t, &k->not_after) > 0)) {
        say(w, "signed at %s, outside the validity period of key %.16s...",
            ts, k->fpr);
        return CAIRN_SIGN_OUT_OF_DATE;
    }
    return CAIRN_SIGN_VALID;
}

/* Whether `obj` is, byte for byte in canonical form, cairn's definition. */
static bool is_definition(const json_t *obj)
{
    const char *id = json_string_value(json_object_get(obj, "id"));
    json_t *def = NULL;
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    bool same = false;

    if (id == NULL || strcmp(id, CAIRN_SIGN_EXTENSION) != 0)
        return false;
    if (cairn_sign_extension_definition(&def) == 0 &&
        cairn_json_canonical(def, &a, &alen) == 0 &&
        cairn_json_canonical(obj, &b, &blen) == 0)
        same = alen == blen && memcmp(a, b, alen) == 0;
    json_decref(def);
    cairn_free(a);
    cairn_free(b);
    return same;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void sodium_start(void)
{
    sodium_ok = sodium_init() >= 0;
}

/* libsodium initialised (once, by whichever thread comes first). */
static bool sodium_ready(void)
{
    pthread_once(&sodium_once, sodium_start);
    return sodium_ok;
}

int cairn_sign_verify(const json_t *obj, const struct cairn_trust *t,
                      enum cairn_sign_verdict *out, char *why, size_t why_len)
{
    struct why w = {why, why_len};
    int rc = 0;
    char *msg = NULL;
    size_t msg_len = 0;
    unsigned char sig[SIG_LEN + 2];
    size_t sig_len = 0;
    struct cairn_time when;

    if (why != NULL && why_len > 0)
        why[0] = '\0';
    *out = CAIRN_SIGN_MALFORMED;
    if (!json_is_object(obj)) {
        say(&w, "not a JSON object");
        goto out;
    }
    const json_t *exts = json_object_get(obj, "extensions");
    const json_t *ext = json_object_get(exts, CAIRN_SIGN_EXTENSION);
    if (ext == NULL && is_definition(obj)) {
        /* The definition itself travels with signed bundles unsigned: no
         * producer may sign it, since all share its id and version. */
        *out = CAIRN_SIGN_VALID;
        say(&w, "cairn's signature extension-definition");
        goto out;
    }
    if (ext == NULL) {
        *out = CAIRN_SIGN_UNSIGNED;
        say(&w, "not signed (no %s extension)", CAIRN_SIGN_EXTENSION);
        goto out;
    }
    if (!json_is_object(exts) || !json_is_object(ext)) {
        say(&w, "extensions.%s: not an object", CAIRN_SIGN_EXTENSION);
        goto out;
    }
    const char *alg = member(ext, "algorithm", &w);
    const char *fpr = alg != NULL ? member(ext, "key", &w) : NULL;
    const char *ts = fpr != NULL ? member(ext, "signed", &w) : NULL;
    const char *b64 = ts != NULL ? member(ext, "signature", &w) : NULL;
    if (b64 == NULL)
        goto out;
    if (strcmp(alg, CAIRN_SIGN_ALGORITHM) != 0) {
        say(&w, "extensions.%s.algorithm: '%.40s' is not %s",
            CAIRN_SIGN_EXTENSION, alg, CAIRN_SIGN_ALGORITHM);
        goto out;
    }
    if (strlen(fpr) != 64 || !hex64(fpr)) {
        say(&w, "extensions.%s.key: not 64 lower-case hex digits",
            CAIRN_SIGN_EXTENSION);
        goto out;
    }
    if (cairn_time_parse(ts, strlen(ts), true, &when) < 0) {
        say(&w, "extensions.%s.signed: not a STIX timestamp",
            CAIRN_SIGN_EXTENSION);
        goto out;
    }
    size_t b64_len = strlen(b64);
    if (b64_len != SIG_B64_LEN ||
        cairn_base64_decode(b64, b64_len, sig, &sig_len) < 0 ||
        sig_len != SIG_LEN) {
        say(&w,
            "extensions.%s.signature: not the base64 of a %d-byte signature",
            CAIRN_SIGN_EXTENSION, SIG_LEN);
        goto out;
    }
    const json_t *signer = json_object_get(ext, "signer");
    if (signer != NULL && !json_is_string(signer)) {
        say(&w, "extensions.%s.signer: not a string", CAIRN_SIGN_EXTENSION);
        goto out;
    }
    const struct cairn_sign_key *k = cairn__trust_find(t, fpr);
    if (k == NULL) {
        *out = CAIRN_SIGN_UNTRUSTED;
        say(&w, "signed by key %.16s..., which is not trusted here", fpr);
        goto out;
    }
    rc = cairn_sign_canonical(obj, &msg, &msg_len);
    if (rc < 0)
        goto out;
    /* libsodium's verification is RFC 8032's, as libcrypto's, at twice
     * its speed (bench/bench_ed25519.c); keys stay libcrypto's. */
    if (!sodium_ready() ||
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, msg_len,
                                    k->pub) != 0) {
        *out = CAIRN_SIGN_BAD;
        say(&w,
            "the signature of key %.16s... does not match: the object was "
            "changed after it was signed",
            fpr);
        goto out;
    }
    /* The content is the signer's; now whether its key counts for it. */
    *out = in_period(k, &when, ts, &w);
    if (*out != CAIRN_SIGN_VALID)
        goto out;
    if (signer != NULL && k->identity != NULL &&
        strcmp(json_string_value(signer), k->identity) != 0) {
        *out = CAIRN_SIGN_UNTRUSTED;
        say(&w, "key %.16s... is trusted for %s, not for %.80s", fpr,
            k->identity, json_string_value(signer));
        goto out;
    }
    say(&w, "signed by %.16s...%s%s", fpr, k->name != NULL ? " " : "",
        k->name != NULL ? k->name : "");
out:
    cairn_free(msg);
    return rc == CAIRN_ENOMEM ? rc : 0;
}

/* ---- many at once ----------------------------------------------------------- */

#define VERIFY_THREADS_MAX 16

struct many {
    json_t *const *objs;
    size_t n;
    const struct cairn_trust *t;
    unsigned char *valid;
    unsigned stride, first;
    int rc;
};

static void *verify_some(void *arg)
{
    struct many *m = arg;
    for (size_t i = m->first; i < m->n; i += m->stride) {
        enum cairn_sign_verdict v;
        if (cairn_sign_verify(m->objs[i], m->t, &v, NULL, 0) < 0) {
            m->rc = CAIRN_ENOMEM;
            v = CAIRN_SIGN_MALFORMED;
        }
        m->valid[i] = v == CAIRN_SIGN_VALID;
    }
    return NULL;
}

int cairn_sign_verify_many(json_t *const *objs, size_t n,
                           const struct cairn_trust *t, unsigned char *valid,
                           unsigned threads)
{
    struct many m[VERIFY_THREADS_MAX];
    pthread_t tid[VERIFY_THREADS_MAX];
    bool started[VERIFY_THREADS_MAX] = {false};
    int rc = 0;

    if (threads == 0) {
        long p = sysconf(_SC_NPROCESSORS_ONLN);
        threads = p > 0 ? (unsigned)p : 1;
    }
    if (threads > VERIFY_THREADS_MAX)
        threads = VERIFY_THREADS_MAX;
    /* A thread is worth starting for a few dozen signatures at least. */
    if ((size_t)threads > n / 32 + 1)
        threads = (unsigned)(n / 32 + 1);
    for (unsigned i = 0; i < threads; i++)
        m[i] = (struct many){objs, n, t, valid, threads, i, 0};
    /* This thread takes the first share; a thread that cannot be started
     * leaves its share to it. */
    for (unsigned i = 1; i < threads; i++)
        started[i] = pthread_create(&tid[i], NULL, verify_some, &m[i]) == 0;
    verify_some(&m[0]);
    for (unsigned i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            verify_some(&m[i]);
        if (m[i].rc < 0)
            rc = m[i].rc;
    }
    return m[0].rc < 0 ? m[0].rc : rc;
}

/* ---- the extension-definition -------------------------------------------- */

int cairn_sign_extension_definition(json_t **out)
{
    *out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s]}", "type",
        "extension-definition", "spec_version", "2.1", "id",
        CAIRN_SIGN_EXTENSION, "created_by_ref", CAIRN_SIGN_EXTENSION_AUTHOR,
        "created", "2026-12-07T00:00:00.000Z", "modified",
        "2026-12-07T00:00:00.000Z", "name", "cairn signature",
        "description",
        "An Ed25519 signature over the RFC 8785 canonical form of the object "
        "without the signature member of this extension. Members: algorithm "
        "(ed25519), key (SHA-256 of the raw public key, hex), signed "
        "(timestamp), signer (identity id, optional), signature (base64).",
        "schema", "https://github.com/cairn-ti/cairn/blob/main/docs/signing.md",
        "version", "1.0.0", "extension_types", "property-extension");
    return *out != NULL ? 0 : CAIRN_ENOMEM;
}

/* ---- policy -------------------------------------------------------------- */

int cairn_sign_policy_parse(const char *s, enum cairn_sign_policy *out)
{
    if (strcmp(s, "ignore") == 0)
        *out = CAIRN_SIGN_IGNORE;
    else if (strcmp(s, "check") == 0)
        *out = CAIRN_SIGN_CHECK;
    else if (strcmp(s, "require") == 0)
        *out = CAIRN_SIGN_REQUIRE;
    else
        return CAIRN_EINVAL;
    return 0;
}

const char *cairn_sign_policy_name(enum cairn_sign_policy p)
{
    return p == CAIRN_SIGN_REQUIRE ? "require"
           : p == CAIRN_SIGN_CHECK ? "check"
                                   : "ignore";
}

int cairn_sign_gate_hook(const json_t *obj, json_t **replace, char *why,
                         size_t why_len, void *ud)
{
    struct cairn_sign_gate *g = ud;
    enum cairn_sign_verdict v;
    char reason[300];

    *replace = NULL;
    /* cairn's extension-definition travels unsigned (is_definition). */
    if (g->signer != NULL &&
        json_object_get(json_object_get(obj, "extensions"),
                        CAIRN_SIGN_EXTENSION) == NULL &&
        !is_definition(obj)) {
        json_t *c = json_deep_copy(obj);
        if (c == NULL)
            return CAIRN_ENOMEM;
        int rc = cairn_sign_object(c, g->signer, NULL);
        if (rc < 0) {
            json_decref(c);
            if (rc == CAIRN_ENOMEM)
                return rc;
            snprintf(why, why_len, "cannot be signed: %s", cairn_strerror(rc));
            return 1;
        }
        g->signed_here++;
        *replace = c;
        return 0;
    }
    if (g->policy == CAIRN_SIGN_IGNORE)
        return 0;
    if (g->prevalid) {
        g->verdicts[CAIRN_SIGN_VALID]++;
        return 0;
    }
    int rc = cairn_sign_verify(obj, g->trust, &v, reason, sizeof reason);
    if (rc < 0)
        return rc;
    g->verdicts[v]++;
    if (v == CAIRN_SIGN_VALID)
        return 0;
    /* REQUIRE: the refusal's reason; CHECK: the stored version's mark. */
    snprintf(why, why_len, "signature %s: %s", cairn_sign_verdict_name(v),
             reason);
    if (g->cb != NULL) {
        struct cairn_diag d;
        const char *id = json_string_value(json_object_get(obj, "id"));
        cairn_diag_clear(&d);
        if (g->where != NULL)
            snprintf(d.file, sizeof d.file, "%s", g->where);
        if (id != NULL)
            snprintf(d.object_id, sizeof d.object_id, "%s", id);
        if (g->policy == CAIRN_SIGN_REQUIRE)
            cairn_diag_set(&d, CAIRN_SEV_ERROR, "signature",
                           "refused: signature %s: %s",
                           cairn_sign_verdict_name(v), reason);
        else
            cairn_diag_set(&d, CAIRN_SEV_WARNING, "signature",
                           "stored, marked: signature %s: %s",
                           cairn_sign_verdict_name(v), reason);
        g->cb(&d, g->ud);
    }
    return g->policy == CAIRN_SIGN_REQUIRE ? 1 : 2;
}
