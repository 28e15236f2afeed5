/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing and verifying throughput on one core (docs/signing.md), over the
 * objects of a bundle (bench_genbundle's mix): objects per CPU second for
 * cairn_sign_object and cairn_sign_verify, against a trust set of KEYS
 * keys (default 100, the signer's among them). Baselines in the same run:
 * the RFC 8785 canonical form alone (the JSON work every verification
 * does) and libcrypto's Ed25519 verification alone over the same
 * canonical bytes (the crypto floor). Goal (issue 17): verify at least
 * 20,000 objects per second per core.
 *
 *   bench_sign BUNDLE [KEYS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cairn/cairn.h"

#define GOAL 20000.0

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
        fprintf(stderr, "usage: bench_sign BUNDLE [KEYS]\n");
        return 2;
    }
    size_t n_keys = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    if (n_keys < 1)
        n_keys = 1;
    size_t len = 0;
    char *text = read_all(argv[1], &len);
    if (text == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    json_t *doc = NULL;
    struct cairn_diag d;
    if (cairn_json_parse(text, len, &doc, &d) < 0) {
        fprintf(stderr, "%s:%u:%u: %s\n", argv[1], d.line, d.column,
                d.message);
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
        if (cairn_sign_key_generate(&k) < 0 || cairn_trust_add_key(trust, k) < 0)
            return 2;
        if (i + 1 == n_keys)
            key = k;
        else
            cairn_sign_key_free(k);
    }
    printf("%zu objects, %zu trusted keys\n", n, cairn_trust_count(trust));

    /* Baseline 1: the canonical form alone. */
    char **canon = calloc(n, sizeof *canon);
    size_t *canon_len = calloc(n, sizeof *canon_len);
    if (canon == NULL || canon_len == NULL)
        return 2;
    struct lap l = lap_start();
    for (size_t i = 0; i < n; i++)
        if (cairn_sign_canonical(json_array_get(objs, i), &canon[i],
                                 &canon_len[i]) < 0)
            return 2;
    double canon_rate = lap_end("canonical form (baseline)", l, n);

    /* Sign every object (in place). */
    l = lap_start();
    for (size_t i = 0; i < n; i++)
        if (cairn_sign_object(json_array_get(objs, i), key, NULL) < 0)
            return 2;
    double sign_rate = lap_end("cairn_sign_object", l, n);

    /* Baseline 2: libcrypto's Ed25519 over the same (signed) bytes. */
    unsigned char (*sigs)[64] = calloc(n, sizeof *sigs);
    if (sigs == NULL)
        return 2;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(objs, i);
        const char *b64 = json_string_value(json_object_get(
            json_object_get(json_object_get(o, "extensions"),
                            CAIRN_SIGN_EXTENSION),
            "signature"));
        size_t sl = 0;
        cairn_free(canon[i]);
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
    EVP_PKEY *raw = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)
                                : NULL;
    BIO_free(bio);
    if (raw == NULL)
        return 2;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    l = lap_start();
    for (size_t i = 0; i < n; i++)
        if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, raw) != 1 ||
            EVP_DigestVerify(md, sigs[i], 64, (unsigned char *)canon[i],
                             canon_len[i]) != 1)
            return 2;
    double raw_rate = lap_end("libcrypto Ed25519 (baseline)", l, n);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(raw);

    /* Verify every object: parse nothing, check form, canonical, crypto. */
    size_t valid = 0;
    l = lap_start();
    for (size_t i = 0; i < n; i++) {
        enum cairn_sign_verdict v;
        if (cairn_sign_verify(json_array_get(objs, i), trust, &v, NULL, 0) < 0)
            return 2;
        valid += v == CAIRN_SIGN_VALID;
    }
    double verify_rate = lap_end("cairn_sign_verify", l, n);
    if (valid != n) {
        fprintf(stderr, "only %zu of %zu verified\n", valid, n);
        return 1;
    }

    printf("verify: %.0f objects/s per core, %.2fx the goal of %.0f (%s)\n",
           verify_rate, verify_rate / GOAL, GOAL,
           verify_rate >= GOAL ? "met" : "MISSED");
    printf("verify / canonical form alone: %.2fx the time; verify / "
           "libcrypto alone: %.2fx the time\n",
           canon_rate / verify_rate, raw_rate / verify_rate);
    printf("sign: %.0f objects/s per core\n", sign_rate);

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
