/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing and verifying throughput on one core (docs/signing.md), over the
 * objects of a bundle (bench_genbundle's mix): objects per CPU second for
 * cairn_sign_object and cairn_sign_verify, against a trust set of KEYS
 * keys (default 100, the signer's among them). Baselines in the same run:
 * the RFC 8785 canonical form alone (the JSON work every verification
 * does), and Ed25519 verification alone over the same canonical bytes by
 * libcrypto and by libsodium (cairn's verifier: the crypto floor, which
 * cairn_sign_verify can approach but not pass). Goal (issue 17): verify
 * at least 20,000 objects per second per core.
 *
 *   bench_sign BUNDLE [KEYS [ROUNDS]]   (defaults 100, 5)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "cairn/cairn.h"

#define GOAL       20000.0
#define ROUNDS_MAX 51

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct lap {
    double cpu, wall;
};

static struct lap lap_start(void)
{
    return (struct lap){cpu_now(), wall_now()};
}

static double lap_end(const char *what, struct lap l, size_t n)
{
    double cpu = cpu_now() - l.cpu, wall = wall_now() - l.wall;
    if (cpu <= 0)
        cpu = 1e-9;
    double rate = (double)n / cpu;
    printf("%-28s %8zu objects  %7.3f s CPU  %7.3f s wall  %10.0f objects/s "
           "(CPU)\n",
           what, n, cpu, wall, rate);
    return rate;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *b = realloc(buf, cap);
            if (b == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sign BUNDLE [KEYS [ROUNDS]]\n");
        return 2;
    }
    size_t n_keys = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    if (n_keys < 1)
        n_keys = 1;
    size_t rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 5;
    if (rounds < 1 || rounds > ROUNDS_MAX)
        rounds = 5;
    size_t len = 0;
    char *text = read_all(argv[1], &len);
    if (text == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    json_t *doc = NULL;
    struct cairn_diag d;
    if (cairn_json_parse(text, len, &doc, &d) < 0) {
        fprintf(stderr, "%s:%u:%u: %s\n", argv[1], d.line, d.column, d.message);
        return 2;
    }
    free(text);
    json_t *objs = json_object_get(doc, "objects");
    size_t n = json_array_size(objs);
    if (n == 0) {
        fprintf(stderr, "%s: no objects\n", argv[1]);
        return 2;
    }

    /* The trust set: n_keys - 1 strangers, then the signer. */
    struct cairn_trust *trust = NULL;
    struct cairn_sign_key *key = NULL;
    if (cairn_trust_new(&trust) < 0)
        return 2;
    for (size_t i = 0; i < n_keys; i++) {
        struct cairn_sign_key *k = NULL;
        if (cairn_sign_key_generate(&k) < 0 ||
            cairn_trust_add_key(trust, k) < 0)
            return 2;
        if (i + 1 == n_keys)
            key = k;
        else
            cairn_sign_key_free(k);
    }
    printf("%zu objects, %zu trusted keys\n", n, cairn_trust_count(trust));

    /* Sign every object (in place). */
    struct lap l = lap_start();
    for (size_t i = 0; i < n; i++)
        if (cairn_sign_object(json_array_get(objs, i), key, NULL) < 0)
            return 2;
    double sign_rate = lap_end("cairn_sign_object", l, n);

    /* The baselines' input: each object's signed bytes and signature. */
    char **canon = calloc(n, sizeof *canon);
    size_t *canon_len = calloc(n, sizeof *canon_len);
    unsigned char(*sigs)[64] = calloc(n, sizeof *sigs);
    if (canon == NULL || canon_len == NULL || sigs == NULL)
        return 2;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(objs, i);
        const char *b64 = json_string_value(
            json_object_get(json_object_get(json_object_get(o, "extensions"),
                                            CAIRN_SIGN_EXTENSION),
                            "signature"));
        size_t sl = 0;
        if (b64 == NULL ||
            cairn_base64_decode(b64, strlen(b64), sigs[i], &sl) < 0 ||
            cairn_sign_canonical(o, &canon[i], &canon_len[i]) < 0)
            return 2;
    }
    /* The raw key, through a public key file as peers hold it. */
    char *pub = NULL;
    struct cairn_sign_key *pk = NULL;
    if (cairn_sign_key_export(key, &pub) < 0 ||
        cairn_sign_key_parse(pub, strlen(pub), "pub", &pk, &d) < 0)
        return 2;
    const char *pem = strstr(pub, "-----BEGIN");
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *raw =
        bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    unsigned char pub_raw[32];
    size_t pub_len = sizeof pub_raw;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (raw == NULL || md == NULL || sodium_init() < 0 ||
        EVP_PKEY_get_raw_public_key(raw, pub_raw, &pub_len) != 1)
        return 2;

    /*
     * Rounds interleave the four, so that a busy machine slows them
     * alike; each rate is the median of the rounds. cairn_sign_verify:
     * parse nothing, check the extension's form, canonical form, crypto.
     */
    enum { CANON, LIBCRYPTO, LIBSODIUM, VERIFY, N_LAPS };
    static const char *const names[N_LAPS] = {
        "canonical form (baseline)", "libcrypto Ed25519 (baseline)",
        "libsodium Ed25519 (floor)", "cairn_sign_verify"};
    double rates[N_LAPS][ROUNDS_MAX];
    for (size_t r = 0; r < rounds; r++)
        for (int k = 0; k < N_LAPS; k++) {
            size_t ok = 0;
            double t0 = cpu_now();
            for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(objs, i);
                if (k == CANON) {
                    char *c = NULL;
                    size_t cl = 0;
                    ok += cairn_sign_canonical(o, &c, &cl) == 0;
                    cairn_free(c);
                } else if (k == LIBCRYPTO) {
                    ok +=
                        EVP_DigestVerifyInit(md, NULL, NULL, NULL, raw) == 1 &&
                        EVP_DigestVerify(md, sigs[i], 64,
                                         (unsigned char *)canon[i],
                                         canon_len[i]) == 1;
                } else if (k == LIBSODIUM) {
                    ok += crypto_sign_verify_detached(
                              sigs[i], (unsigned char *)canon[i], canon_len[i],
                              pub_raw) == 0;
                } else {
                    enum cairn_sign_verdict v;
                    ok += cairn_sign_verify(o, trust, &v, NULL, 0) == 0 &&
                          v == CAIRN_SIGN_VALID;
                }
            }
            double t = cpu_now() - t0;
            if (ok != n) {
                fprintf(stderr, "%s: only %zu of %zu\n", names[k], ok, n);
                return 1;
            }
            rates[k][r] = (double)n / (t > 0 ? t : 1e-9);
        }
    double med[N_LAPS];
    for (int k = 0; k < N_LAPS; k++) {
        qsort(rates[k], rounds, sizeof(double), dbl_cmp);
        med[k] = rates[k][rounds / 2];
        printf("%-28s %8zu objects  %10.0f objects/s (CPU, median of %zu)\n",
               names[k], n, med[k], rounds);
    }
    double verify_rate = med[VERIFY];
    printf("verify: %.0f objects/s per core, %.2fx the goal of %.0f (%s)\n",
           verify_rate, verify_rate / GOAL, GOAL,
           verify_rate >= GOAL ? "met" : "MISSED");
    printf("verify / canonical form alone: %.2fx the time; verify / "
           "libcrypto alone: %.2fx the time; verify / libsodium alone: "
           "%.2fx the time\n",
           med[CANON] / verify_rate, med[LIBCRYPTO] / verify_rate,
           med[LIBSODIUM] / verify_rate);
    printf("sign: %.0f objects/s per core\n", sign_rate);

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(raw);
    for (size_t i = 0; i < n; i++)
        cairn_free(canon[i]);
    free(canon);
    free(canon_len);
    free(sigs);
    cairn_free(pub);
    cairn_sign_key_free(pk);
    cairn_sign_key_free(key);
    cairn_trust_free(trust);
    json_decref(doc);
    return verify_rate >= GOAL ? 0 : 1;
}
