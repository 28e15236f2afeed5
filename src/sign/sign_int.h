/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the sign module: the key as key.c, sign.c and trust.c share it. */
#ifndef CAIRN_SIGN_INT_H
#define CAIRN_SIGN_INT_H

#include <openssl/evp.h>

#include "cairn/sign.h"

struct cairn_sign_key {
    EVP_PKEY *pkey;
    bool priv;
    unsigned char pub[32];
    char fpr[CAIRN_SIGN_FPR_LEN];
    char *name;
    char *identity;
    /* From the headers of a key file; a trust set decides with them. */
    bool has_not_before, has_not_after, has_revoked, revoked_all;
    struct cairn_time not_before, not_after, revoked;
};

/* A new key holding only the public half of `k`. */
int cairn__sign_key_public_copy(const struct cairn_sign_key *k,
                                struct cairn_sign_key **out);

/* The key of fingerprint `fpr` (64 hex) in `t`, or NULL. */
const struct cairn_sign_key *cairn__trust_find(const struct cairn_trust *t,
                                               const char *fpr);

#endif
