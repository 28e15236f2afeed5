/* SPDX-License-Identifier: Apache-2.0 */
/* UUIDs: random (v4), name-based (v5), and checking the text form. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "cairn/base.h"

#define UUID_LEN 16

static bool is_dash_at(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

/*
 * Upper-case hex digits are accepted: RFC 4122 says UUIDs are "case
 * insensitive on input", STIX 2.1 (section 2.9) asks for an RFC 4122
 * compliant UUID, and the OASIS JSON schema for identifiers allows
 * [0-9a-fA-F]. cairn itself only ever writes lower case.
 */
bool cairn_uuid_check(const char *s, size_t len, bool rfc4122, int *version_out)
{
    if (s == NULL || len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (is_dash_at(i) ? s[i] != '-' : cairn_hex_digit(s[i]) < 0)
            return false;
    }
    /* RFC 4122 variant: the two top bits of clock_seq_hi are 10. */
    if (rfc4122 && (cairn_hex_digit(s[19]) & 0xc) != 0x8)
        return false;
    if (version_out != NULL)
        *version_out = cairn_hex_digit(s[14]);
    return true;
}

static void to_text(const unsigned char b[UUID_LEN],
                    char out[CAIRN_UUID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < UUID_LEN; i++) {
        if (is_dash_at(o))
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0xf];
    }
    out[o] = '\0';
}

static void stamp(unsigned char b[UUID_LEN], unsigned version)
{
    b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
}

int cairn_uuid4(char out[CAIRN_UUID_STRLEN])
{
    unsigned char b[UUID_LEN];
    size_t got = 0;

    out[0] = '\0';
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return CAIRN_EIO;
        }
        got += (size_t)n;
    }
    stamp(b, 4);
    to_text(b, out);
    return 0;
}

/* SHA-1 fetched once: EVP_sha1() would be looked up in the providers on
 * every call, which costs several times the digest of a short name (a
 * MISP export makes one UUID per value). */
static EVP_MD *sha1_md; /* kept for the process's life */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void fetch_sha1(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

int cairn_uuid5(const char *ns, const char *name, size_t name_len,
                char out[CAIRN_UUID_STRLEN])
{
    int rc = CAIRN_EINTERNAL;
    unsigned char nsb[UUID_LEN];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = NULL;

    out[0] = '\0';
    if (ns == NULL || !cairn_uuid_check(ns, strlen(ns), false, NULL) ||
        (name == NULL && name_len > 0)) {
        rc = CAIRN_EINVAL;
        goto out;
    }
    for (size_t i = 0, o = 0; i < 36; i++) {
        if (is_dash_at(i))
            continue;
        int hi = cairn_hex_digit(ns[i]), lo = cairn_hex_digit(ns[i + 1]);
        nsb[o++] = (unsigned char)(hi << 4 | lo);
        i++;
    }

    pthread_once(&sha1_once, fetch_sha1);
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if ((sha1_md != NULL ? EVP_DigestInit_ex2(ctx, sha1_md, NULL)
                         : EVP_DigestInit_ex(ctx, EVP_sha1(), NULL)) != 1 ||
        EVP_DigestUpdate(ctx, nsb, sizeof nsb) != 1 ||
        (name_len > 0 && EVP_DigestUpdate(ctx, name, name_len) != 1) ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < UUID_LEN) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    stamp(md, 5);
    to_text(md, out);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}
