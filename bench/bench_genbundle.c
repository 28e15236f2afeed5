/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a deterministic STIX 2.1 bundle of N mixed objects to stdout. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/cairn.h"

/*
 * The mix, per ten objects: three indicators (with STIX patterns over IP
 * addresses, domains, URLs and file hashes), one malware, two
 * relationships, one sighting and three SCOs; the first object is the
 * identity every object is created by. The same N always gives the same
 * bytes, so runs and machines can be compared.
 */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A version-4-shaped UUID from the generator (STIX SDOs SHOULD use v4). */
static void uuid4(char out[CAIRN_UUID_STRLEN])
{
    uint64_t hi = rng(), lo = rng();

    hi = (hi & ~0xf000u) | 0x4000u;
    lo = (lo & ~(UINT64_C(0xc) << 60)) | (UINT64_C(0x8) << 60);
    snprintf(out, CAIRN_UUID_STRLEN,
             "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64
             "-%012" PRIx64,
             hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
             lo & UINT64_C(0xffffffffffff));
}

static void timestamp(long i, char out[32])
{
    time_t t = (time_t)1704067200 + i; /* 2024-01-01T00:00:00Z */
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static void hex(char *out, size_t bytes)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < bytes; i += 8) {
        uint64_t v = rng();
        for (size_t j = 0; j < 8 && i + j < bytes; j++) {
            out[2 * (i + j)] = digits[(v >> (8 * j + 4)) & 0xf];
            out[2 * (i + j) + 1] = digits[(v >> (8 * j)) & 0xf];
        }
    }
    out[2 * bytes] = '\0';
}

/* The deterministic id of an SCO, as the specification defines it. */
static int sco_id(json_t *obj, char out[CAIRN_STIX_ID_MAX])
{
    int rc = obj ? cairn_stix_sco_id(obj, out) : CAIRN_ENOMEM;

    json_decref(obj);
    if (rc < 0)
        fprintf(stderr, "bench_genbundle: SCO id: %s\n", cairn_strerror(rc));
    return rc;
}

struct state {
    char identity[CAIRN_STIX_ID_MAX];
    char indicator[CAIRN_STIX_ID_MAX];
    char malware[CAIRN_STIX_ID_MAX];
};

static void common(const char *type, long i, char *id, size_t id_len)
{
    char uuid[CAIRN_UUID_STRLEN], ts[32];

    uuid4(uuid);
    snprintf(id, id_len, "%s--%s", type, uuid);
    timestamp(i, ts);
    printf("{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\","
           "\"created\":\"%s\",\"modified\":\"%s\"",
           type, id, ts, ts);
}

static int write_object(long i, struct state *st)
{
    char id[CAIRN_STIX_ID_MAX], ts[32], sha256[65];
    unsigned a = (unsigned)(i >> 16) & 0xff, b = (unsigned)(i >> 8) & 0xff,
             c = (unsigned)i & 0xff;

    if (i == 0) {
        common("identity", i, st->identity, sizeof st->identity);
        printf(",\"name\":\"cairn benchmark\","
               "\"identity_class\":\"organization\"}");
        return 0;
    }
    switch (i % 10) {
    case 0:
    case 1:
    case 2:
        common("indicator", i, st->indicator, sizeof st->indicator);
        timestamp(i, ts);
        printf(",\"created_by_ref\":\"%s\",\"name\":\"indicator %ld\","
               "\"indicator_types\":[\"malicious-activity\"],"
               "\"pattern_type\":\"stix\",\"valid_from\":\"%s\",",
               st->identity, i, ts);
        switch ((i / 10) % 4) {
        case 0:
            printf("\"pattern\":\"[ipv4-addr:value = '10.%u.%u.%u']\"}", a, b,
                   c);
            break;
        case 1:
            printf("\"pattern\":\"[domain-name:value = 'c2-%ld.example.net']"
                   "\"}",
                   i);
            break;
        case 2:
            printf("\"pattern\":\"[url:value = 'http://c2-%ld.example.net/"
                   "gate.php'] OR [domain-name:value = 'c2-%ld.example.net']"
                   "\"}",
                   i, i);
            break;
        default:
            hex(sha256, 32);
            printf("\"pattern\":\"[file:hashes.'SHA-256' = '%s']\"}", sha256);
            break;
        }
        return 0;
    case 3:
        common("malware", i, st->malware, sizeof st->malware);
        printf(",\"created_by_ref\":\"%s\",\"name\":\"malware %ld\","
               "\"malware_types\":[\"backdoor\",\"remote-access-trojan\"],"
               "\"is_family\":true}",
               st->identity, i);
        return 0;
    case 4:
    case 5:
        common("relationship", i, id, sizeof id);
        printf(",\"relationship_type\":\"indicates\",\"source_ref\":\"%s\","
               "\"target_ref\":\"%s\"}",
               st->indicator, st->malware);
        return 0;
    case 6:
        common("sighting", i, id, sizeof id);
        timestamp(i, ts);
        printf(",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"count\":%ld,"
               "\"sighting_of_ref\":\"%s\",\"where_sighted_refs\":[\"%s\"]}",
               ts, ts, 1 + i % 50, st->indicator, st->identity);
        return 0;
    case 7: {
        char value[32];
        snprintf(value, sizeof value, "10.%u.%u.%u", a, b, c);
        if (sco_id(json_pack("{s:s, s:s}", "type", "ipv4-addr", "value", value),
                   id) < 0)
            return -1;
        printf("{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\","
               "\"id\":\"%s\",\"value\":\"%s\"}",
               id, value);
        return 0;
    }
    case 8: {
        char value[64];
        snprintf(value, sizeof value, "c2-%ld.example.net", i);
        if (sco_id(
                json_pack("{s:s, s:s}", "type", "domain-name", "value", value),
                id) < 0)
            return -1;
        printf("{\"type\":\"domain-name\",\"spec_version\":\"2.1\","
               "\"id\":\"%s\",\"value\":\"%s\"}",
               id, value);
        return 0;
    }
    default:
        if ((i / 10) % 2 == 0) {
            char value[96];
            snprintf(value, sizeof value,
                     "http://c2-%ld.example.net/gate.php?id=%ld", i, i);
            if (sco_id(json_pack("{s:s, s:s}", "type", "url", "value", value),
                       id) < 0)
                return -1;
            printf("{\"type\":\"url\",\"spec_version\":\"2.1\","
                   "\"id\":\"%s\",\"value\":\"%s\"}",
                   id, value);
        } else {
            char name[64];
            hex(sha256, 32);
            snprintf(name, sizeof name, "sample-%ld.exe", i);
            if (sco_id(json_pack("{s:s, s:s, s:{s:s}}", "type", "file", "name",
                                 name, "hashes", "SHA-256", sha256),
                       id) < 0)
                return -1;
            printf("{\"type\":\"file\",\"spec_version\":\"2.1\","
                   "\"id\":\"%s\",\"name\":\"%s\","
                   "\"hashes\":{\"SHA-256\":\"%s\"}}",
                   id, name, sha256);
        }
        return 0;
    }
}

int main(int argc, char **argv)
{
    static char outbuf[1 << 20];
    long n = 1000000;
    char uuid[CAIRN_UUID_STRLEN];
    static struct state st;

    cairn_alloc_init();
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: bench_genbundle [N] > bundle.json\n");
        return 2;
    }
    if (argc == 2) {
        char *end = NULL;
        errno = 0;
        n = strtol(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0' || n < 1 ||
            n > 100000000) {
            fprintf(stderr, "bench_genbundle: N must be 1 to 100000000\n");
            return 2;
        }
    }
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    uuid4(uuid);
    printf("{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[\n", uuid);
    for (long i = 0; i < n; i++) {
        if (write_object(i, &st) < 0)
            return 1;
        fputs(i + 1 < n ? ",\n" : "\n", stdout);
    }
    fputs("]}\n", stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "bench_genbundle: write error: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
