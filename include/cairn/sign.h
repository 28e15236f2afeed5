/* SPDX-License-Identifier: Apache-2.0 */
/* Ed25519 signatures over canonical STIX objects, keys and trust. */
#ifndef CAIRN_SIGN_H
#define CAIRN_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cairn/base.h"
#include "cairn/error.h"

/*
 * docs/signing.md is the format. A signed object carries one property
 * extension, CAIRN_SIGN_EXTENSION, whose "signature" is Ed25519 over the
 * RFC 8785 canonical form of the whole object with only that member left
 * out, so the key's fingerprint, the signer and the signing time are
 * signed too, and so is every other extension.
 *
 * Ownership: arguments are borrowed for the call; keys, trust sets and
 * strings handed out belong to the caller and are freed with their _free
 * (cairn_free for strings); every _free accepts NULL.
 *
 * Threads: a key and a trust set are read-only once loaded and may be used
 * by many threads at once; a gate (the ingest hook) by one at a time.
 */

#ifdef __cplusplus
extern "C" {
#endif

/* The extension-definition cairn defines for its signatures. */
#define CAIRN_SIGN_EXTENSION                                                  \
    "extension-definition--718342c2-66d1-4e46-a012-623a7b551ddb"
/* The identity that defines it (its created_by_ref). */
#define CAIRN_SIGN_EXTENSION_AUTHOR                                            \
    "identity--e3097f2d-1f89-40b0-bf90-aa7718125582"
#define CAIRN_SIGN_ALGORITHM "ed25519"
/* A fingerprint: SHA-256 of the 32-byte public key, 64 lower-case hex. */
#define CAIRN_SIGN_FPR_LEN 65

/* ---- keys ------------------------------------------------------------- */

struct cairn_sign_key;

/* A new random key pair. CAIRN_ENOMEM, CAIRN_EINTERNAL (libcrypto). */
int cairn_sign_key_generate(struct cairn_sign_key **out);

/*
 * Read a key file: a private key (PKCS#8 PEM, as `openssl genpkey
 * -algorithm ed25519` writes it) or a public one (SubjectPublicKeyInfo
 * PEM), each optionally preceded by "name: value" header lines (name,
 * identity, not-before, not-after, revoked; docs/signing.md). CAIRN_EIO
 * (unreadable), CAIRN_EINVAL (not such a key, or a bad header; `diag`
 * names the file and line), CAIRN_ENOMEM.
 */
int cairn_sign_key_load(const char *path, struct cairn_sign_key **out,
                        struct cairn_diag *diag);
/* The same, from memory; `name` only names it in messages. */
int cairn_sign_key_parse(const char *text, size_t len, const char *name,
                         struct cairn_sign_key **out, struct cairn_diag *diag);

/*
 * Write the private key (headers and PKCS#8 PEM) to a new file `path`,
 * mode 0600, refusing to replace one (CAIRN_EEXIST); CAIRN_EINVAL for a
 * public key; CAIRN_EIO.
 */
int cairn_sign_key_save(const struct cairn_sign_key *k, const char *path);

/*
 * The public key as peers configure it: header lines (name, fingerprint,
 * identity, validity) and the PEM public key; a NUL-terminated string.
 */
int cairn_sign_key_export(const struct cairn_sign_key *k, char **out);

const char *cairn_sign_key_fingerprint(const struct cairn_sign_key *k);
bool cairn_sign_key_is_private(const struct cairn_sign_key *k);
/* The header values; NULL when not set. */
const char *cairn_sign_key_name(const struct cairn_sign_key *k);
const char *cairn_sign_key_identity(const struct cairn_sign_key *k);
/* Set or clear (NULL) the name or identity (identity--UUID: CAIRN_EINVAL). */
int cairn_sign_key_set_name(struct cairn_sign_key *k, const char *name);
int cairn_sign_key_set_identity(struct cairn_sign_key *k, const char *id);
void cairn_sign_key_free(struct cairn_sign_key *k);

/* ---- signing and verifying ---------------------------------------------- */

/*
 * The bytes a signature covers: the canonical form of `obj` without the
 * signature member of its cairn extension (the rest of the extension
 * stays). CAIRN_EINVAL when `obj` is no JSON object.
 */
int cairn_sign_canonical(const json_t *obj, char **out, size_t *len_out);

/*
 * Sign `obj` in place with the private key `k` at time `when` (NULL:
 * now): its cairn extension is set (replaced if there was one) with the
 * key's fingerprint, the algorithm, the signer (the key's identity, when
 * it has one), the time and the signature. CAIRN_EINVAL (no object, a
 * public key, "extensions" not an object), CAIRN_ENOMEM.
 */
int cairn_sign_object(json_t *obj, const struct cairn_sign_key *k,
                      const struct cairn_time *when);

/* What a verification found, best first. */
enum cairn_sign_verdict {
    CAIRN_SIGN_VALID = 0,
    CAIRN_SIGN_UNSIGNED,    /* no cairn extension */
    CAIRN_SIGN_MALFORMED,   /* the extension is not as docs/signing.md says */
    CAIRN_SIGN_UNTRUSTED,   /* signed by a key not in the trust set */
    CAIRN_SIGN_BAD,         /* the signature does not match: altered */
    CAIRN_SIGN_REVOKED,     /* the key is revoked for that time */
    CAIRN_SIGN_OUT_OF_DATE, /* signed outside the key's validity period */
};
const char *cairn_sign_verdict_name(enum cairn_sign_verdict v);

/*
 * A set of trusted public keys, by fingerprint. Each file's headers give
 * the key's validity period and revocation (docs/signing.md).
 */
struct cairn_trust;
int cairn_trust_new(struct cairn_trust **out);
void cairn_trust_free(struct cairn_trust *t);
/* Add the key of file `path` (see cairn_sign_key_load); a key given twice
 * keeps its first file. */
int cairn_trust_add_file(struct cairn_trust *t, const char *path,
                         struct cairn_diag *diag);
/* Every *.pub and *.key file of directory `dir` (private keys count by
 * their public half). CAIRN_EIO when it cannot be listed. */
int cairn_trust_add_dir(struct cairn_trust *t, const char *dir,
                        struct cairn_diag *diag);
/* A copy of `k`'s public half. */
int cairn_trust_add_key(struct cairn_trust *t, const struct cairn_sign_key *k);
size_t cairn_trust_count(const struct cairn_trust *t);

/*
 * Verify `obj` against the keys of `t` (may be NULL: every signed object
 * is then UNTRUSTED, though still checked for form). *verdict gets the
 * outcome and `why` (may be NULL) a sentence naming the cause, with the
 * JSON path for a malformed extension. Returns 0 whatever the verdict;
 * CAIRN_ENOMEM.
 */
int cairn_sign_verify(const json_t *obj, const struct cairn_trust *t,
                      enum cairn_sign_verdict *verdict, char *why,
                      size_t why_len);

/*
 * Verify objs[0..n) with up to `threads` threads (0: one per processor,
 * at most 16), for a pull to check a page while it stores the previous
 * one: valid[i] is 1 when objs[i] is VALID, else 0 (verify that one again
 * alone for its verdict and reason). CAIRN_ENOMEM.
 */
int cairn_sign_verify_many(json_t *const *objs, size_t n,
                           const struct cairn_trust *t, unsigned char *valid,
                           unsigned threads);

/* The extension-definition object that describes the extension. */
int cairn_sign_extension_definition(json_t **out);

/* ---- policy on the way in (the ingest hook) ------------------------------ */

enum cairn_sign_policy {
    CAIRN_SIGN_IGNORE = 0, /* no checks */
    CAIRN_SIGN_CHECK,      /* checked; stored whatever the verdict, marked */
    CAIRN_SIGN_REQUIRE,    /* only objects with a valid signature are stored */
};
/* "ignore", "check", "require"; CAIRN_EINVAL for anything else. */
int cairn_sign_policy_parse(const char *s, enum cairn_sign_policy *out);
const char *cairn_sign_policy_name(enum cairn_sign_policy p);

/*
 * What an ingest session applies to each object before it is stored
 * (struct cairn_ingest_opts's hook, with the gate as its ud):
 * - with `signer`, an object without a signature is signed with it (what
 *   this node creates); a signed one is left as it is;
 * - with a policy, the signature is verified against `trust`: under
 *   REQUIRE anything but VALID is refused with the reason; under CHECK it
 *   is stored, marked: the store keeps "signature VERDICT: why" beside
 *   the version (cairn_store_mark_get), and `cb` gets it as a warning.
 * Counts are kept per verdict and of objects signed here.
 */
struct cairn_sign_gate {
    const struct cairn_sign_key *signer; /* may be NULL */
    enum cairn_sign_policy policy;
    const struct cairn_trust *trust; /* may be NULL */
    const char *where;               /* names the source in messages */
    cairn_diag_cb cb;                /* marks under CHECK; may be NULL */
    void *ud;
    size_t verdicts[CAIRN_SIGN_OUT_OF_DATE + 1];
    size_t signed_here;
    /* Set by the caller just before the object it adds, when it knows the
     * object VALID against `trust` already (cairn_sign_verify_many): the
     * hook then counts it without verifying it again. */
    bool prevalid;
};

/*
 * The hook: 0 to store `obj` (or `*replace`, a signed copy the caller
 * frees), 1 to refuse it with `why`, 2 to store it marked with `why`, or
 * a negative error. The type is
 * cairn_ingest_hook_cb's (store.h), which this layer cannot name.
 */
int cairn_sign_gate_hook(const json_t *obj, json_t **replace, char *why,
                         size_t why_len, void *ud);

#ifdef __cplusplus
}
#endif

#endif
