/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 verification by the libraries Debian packages, in one run, over
 * the same keys, messages and signatures (docs/signing.md, "Speed"):
 * OpenSSL's libcrypto (the baseline, EVP_DigestVerify), libsodium
 * (crypto_sign_verify_detached), nettle (ed25519_sha512_verify),
 * libgcrypt (gcry_pk_verify), wolfSSL's wolfCrypt (wc_ed25519_verify_msg),
 * libdecaf (decaf_ed25519_verify) and Botan 2 (its C interface,
 * botan_pk_op_verify), each when the build found it. Rounds
 * interleave the libraries so that a busy machine slows them alike; each
 * figure is the median of the rounds, in verifications per CPU second on
 * one core, with the ratio to OpenSSL.
 *
 *   bench_ed25519 [N [BYTES [ROUNDS]]]   (defaults 4000, 500, 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#ifdef CAIRN_BENCH_SODIUM
#include <sodium.h>
#endif
#ifdef CAIRN_BENCH_NETTLE
#include <nettle/eddsa.h>
#endif
#ifdef CAIRN_BENCH_GCRYPT
#include <gcrypt.h>
#endif
#ifdef CAIRN_BENCH_WOLFSSL
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#endif
#ifdef CAIRN_BENCH_DECAF
#include <decaf/ed255.h>
#endif
#ifdef CAIRN_BENCH_BOTAN
#include <botan/ffi.h>
#endif

#define ROUNDS_MAX 51

struct msgs {
    size_t n, len;
    unsigned char *msg;       /* n * len */
    unsigned char (*sig)[64]; /* n */
    unsigned char pub[32];
    EVP_PKEY *pkey;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef size_t (*verify_all_fn)(const struct msgs *m);

static size_t v_openssl(const struct msgs *m)
{
    size_t ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    for (size_t i = 0; md != NULL && i < m->n; i++)
        ok += EVP_DigestVerifyInit(md, NULL, NULL, NULL, m->pkey) == 1 &&
              EVP_DigestVerify(md, m->sig[i], 64, m->msg + i * m->len,
                               m->len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

#ifdef CAIRN_BENCH_SODIUM
static size_t v_sodium(const struct msgs *m)
{
    size_t ok = 0;
    for (size_t i = 0; i < m->n; i++)
        ok += crypto_sign_verify_detached(m->sig[i], m->msg + i * m->len,
                                          m->len, m->pub) == 0;
    return ok;
}
#endif

#ifdef CAIRN_BENCH_NETTLE
static size_t v_nettle(const struct msgs *m)
{
    size_t ok = 0;
    for (size_t i = 0; i < m->n; i++)
        ok += ed25519_sha512_verify(m->pub, m->len, m->msg + i * m->len,
                                    m->sig[i]) == 1;
    return ok;
}
#endif

#ifdef CAIRN_BENCH_GCRYPT
static size_t v_gcrypt(const struct msgs *m)
{
    size_t ok = 0;
    gcry_sexp_t key = NULL;
    if (gcry_sexp_build(&key, NULL,
                        "(public-key (ecc (curve Ed25519) (flags eddsa) "
                        "(q %b)))",
                        32, m->pub) != 0)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        gcry_sexp_t sig = NULL, data = NULL;
        if (gcry_sexp_build(&sig, NULL, "(sig-val (eddsa (r %b) (s %b)))", 32,
                            m->sig[i], 32, m->sig[i] + 32) == 0 &&
            gcry_sexp_build(&data, NULL,
                            "(data (flags eddsa) (hash-algo sha512) "
                            "(value %b))",
                            (int)m->len, m->msg + i * m->len) == 0)
            ok += gcry_pk_verify(sig, data, key) == 0;
        gcry_sexp_release(sig);
        gcry_sexp_release(data);
    }
    gcry_sexp_release(key);
    return ok;
}
#endif

#ifdef CAIRN_BENCH_WOLFSSL
static size_t v_wolfssl(const struct msgs *m)
{
    size_t ok = 0;
    ed25519_key key;
    if (wc_ed25519_init(&key) != 0)
        return 0;
    if (wc_ed25519_import_public(m->pub, sizeof m->pub, &key) == 0)
        for (size_t i = 0; i < m->n; i++) {
            int res = 0;
            ok += wc_ed25519_verify_msg(m->sig[i], 64, m->msg + i * m->len,
                                        (word32)m->len, &res, &key) == 0 &&
                  res == 1;
        }
    wc_ed25519_free(&key);
    return ok;
}
#endif

#ifdef CAIRN_BENCH_DECAF
static size_t v_decaf(const struct msgs *m)
{
    size_t ok = 0;
    for (size_t i = 0; i < m->n; i++)
        ok += decaf_ed25519_verify(m->sig[i], m->pub, m->msg + i * m->len,
                                   m->len, 0, DECAF_ED25519_NO_CONTEXT,
                                   0) == DECAF_SUCCESS;
    return ok;
}
#endif

#ifdef CAIRN_BENCH_BOTAN
static size_t v_botan(const struct msgs *m)
{
    size_t ok = 0;
    botan_pubkey_t key = NULL;
    botan_pk_op_verify_t op = NULL;
    /* One operation, reused: finish resets it for the next message. */
    if (botan_pubkey_load_ed25519(&key, m->pub) == 0 &&
        botan_pk_op_verify_create(&op, key, "Pure", 0) == 0)
        for (size_t i = 0; i < m->n; i++)
            ok += botan_pk_op_verify_update(op, m->msg + i * m->len, m->len) ==
                      0 &&
                  botan_pk_op_verify_finish(op, m->sig[i], 64) == 0;
    botan_pk_op_verify_destroy(op);
    botan_pubkey_destroy(key);
    return ok;
}
#endif

struct lib {
    const char *name;
    verify_all_fn fn;
    double rate[ROUNDS_MAX];
};

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct msgs m = {0};
    m.n = argc > 1 ? strtoul(argv[1], NULL, 10) : 4000;
    m.len = argc > 2 ? strtoul(argv[2], NULL, 10) : 500;
    size_t rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 5;
    if (m.n == 0 || m.len == 0 || rounds == 0 || rounds > ROUNDS_MAX) {
        fprintf(stderr, "usage: bench_ed25519 [N [BYTES [ROUNDS<=%d]]]\n",
                ROUNDS_MAX);
        return 2;
    }
#ifdef CAIRN_BENCH_SODIUM
    if (sodium_init() < 0)
        return 2;
#endif
#ifdef CAIRN_BENCH_GCRYPT
    if (!gcry_check_version(NULL))
        return 2;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
#endif

    /* One key, N messages, their signatures: all made by OpenSSL. */
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    size_t pl = sizeof m.pub;
    m.msg = malloc(m.n * m.len);
    m.sig = malloc(m.n * sizeof *m.sig);
    if (kc == NULL || m.msg == NULL || m.sig == NULL ||
        EVP_PKEY_keygen_init(kc) != 1 || EVP_PKEY_keygen(kc, &m.pkey) != 1 ||
        EVP_PKEY_get_raw_public_key(m.pkey, m.pub, &pl) != 1 ||
        RAND_bytes(m.msg, (int)(m.n * m.len)) != 1)
        return 2;
    EVP_PKEY_CTX_free(kc);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    for (size_t i = 0; i < m.n; i++) {
        size_t sl = 64;
        if (EVP_DigestSignInit(md, NULL, NULL, NULL, m.pkey) != 1 ||
            EVP_DigestSign(md, m.sig[i], &sl, m.msg + i * m.len, m.len) != 1)
            return 2;
    }
    EVP_MD_CTX_free(md);

    struct lib libs[] = {
        {"OpenSSL libcrypto (baseline)", v_openssl, {0}},
#ifdef CAIRN_BENCH_SODIUM
        {"libsodium", v_sodium, {0}},
#endif
#ifdef CAIRN_BENCH_NETTLE
        {"nettle", v_nettle, {0}},
#endif
#ifdef CAIRN_BENCH_GCRYPT
        {"libgcrypt", v_gcrypt, {0}},
#endif
#ifdef CAIRN_BENCH_WOLFSSL
        {"wolfSSL (wolfCrypt)", v_wolfssl, {0}},
#endif
#ifdef CAIRN_BENCH_DECAF
        {"libdecaf", v_decaf, {0}},
#endif
#ifdef CAIRN_BENCH_BOTAN
        {"Botan 2", v_botan, {0}},
#endif
    };
    size_t n_libs = sizeof libs / sizeof libs[0];

    printf("Ed25519 verify: %zu signatures of %zu-byte messages, %zu rounds "
           "(interleaved)\n",
           m.n, m.len, rounds);
    for (size_t r = 0; r < rounds; r++)
        for (size_t j = 0; j < n_libs; j++) {
            double t0 = cpu_now();
            size_t ok = libs[j].fn(&m);
            double t = cpu_now() - t0;
            if (ok != m.n) {
                fprintf(stderr, "%s: %zu of %zu verified\n", libs[j].name, ok,
                        m.n);
                return 1;
            }
            libs[j].rate[r] = (double)m.n / (t > 0 ? t : 1e-9);
        }
    double base = 0;
    for (size_t j = 0; j < n_libs; j++) {
        qsort(libs[j].rate, rounds, sizeof(double), dbl_cmp);
        double med = libs[j].rate[rounds / 2];
        if (j == 0)
            base = med;
        printf("%-30s %10.0f verifications/s (CPU, median)  %5.2fx "
               "OpenSSL\n",
               libs[j].name, med, med / base);
    }
    free(m.msg);
    free(m.sig);
    EVP_PKEY_free(m.pkey);
    return 0;
}
