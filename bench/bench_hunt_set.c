/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator set: compile time, bytes per indicator, lookup cost of a miss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/hunt.h"

/*
 * Usage: bench_hunt_set [N...]   (default: 10000 1000000)
 * For each N: N mixed indicators (45% domains, 20% IPv4 with some CIDRs,
 * 10% URLs, 20% MD5/SHA-1/SHA-256, 5% email addresses) compiled from
 * plain-list lines and, separately, from STIX indicator objects; then
 * 2,000,000 lookups of DNS names that are not in the set and 1,000,000
 * that are.
 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void word(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + next() % 26);
    out[n] = '\0';
}

/* The i-th value as a list line, and the matching STIX pattern. */
static void value(uint64_t i, char *line, size_t cap, char *pat, size_t pcap)
{
    static const char *const tlds[] = {"com", "net", "org", "ru", "io", "info"};
    char w1[16], w2[16];
    uint64_t kind = i % 20;
    word(w1, 6 + next() % 8);
    word(w2, 4 + next() % 6);
    if (kind < 9) {
        snprintf(line, cap, "%s-%llu.%s", w1, (unsigned long long)i,
                 tlds[next() % 6]);
        snprintf(pat, pcap, "[domain-name:value = '%s']", line);
    } else if (kind < 13) {
        uint32_t a = (uint32_t)(next() | 0x01000000u);
        if (kind == 12)
            snprintf(line, cap, "%u.%u.%u.0/24", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255);
        else
            snprintf(line, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255, a & 255);
        snprintf(pat, pcap, "[ipv4-addr:value = '%s']", line);
    } else if (kind < 15) {
        snprintf(line, cap, "http://%s.%s/%s/%llu.php", w1, tlds[next() % 6],
                 w2, (unsigned long long)i);
        snprintf(pat, pcap, "[url:value = '%s']", line);
    } else if (kind < 19) {
        static const int lens[] = {32, 40, 64};
        static const char *const algos[] = {"MD5", "'SHA-1'", "'SHA-256'"};
        int a = (int)(next() % 3);
        for (int k = 0; k < lens[a]; k++)
            line[k] = "0123456789abcdef"[next() % 16];
        line[lens[a]] = '\0';
        snprintf(pat, pcap, "[file:hashes.%s = '%s']", algos[a], line);
    } else {
        snprintf(line, cap, "%s.%llu@%s.com", w2, (unsigned long long)i, w1);
        snprintf(pat, pcap, "[email-addr:value = '%s']", line);
    }
}

static void report(const char *what, size_t n, double secs,
                   const struct cairn_hunt_set *set)
{
    struct cairn_hunt_set_stats st;
    cairn_hunt_set_get_stats(set, &st);
    printf("%-6s %8zu indicators: compile %.3f s, %zu bytes, %.1f "
           "bytes/indicator (%zu values, %zu skipped)\n",
           what, n, secs, st.memory, (double)st.memory / (double)n, st.values,
           st.skipped);
}

static void on_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    (void)hit;
    ++*(size_t *)ud;
}

static int lookups(const struct cairn_hunt_set *set, size_t n)
{
    struct cairn_hunt_matcher *m;
    if (cairn_hunt_matcher_new(set, &m) != 0)
        return 1;
    /* typical DNS names: 2-4 labels, none of them in the set */
    enum { NAMES = 4096 };
    static char names[NAMES][64];
    static size_t lens[NAMES];
    for (size_t i = 0; i < NAMES; i++) {
        char a[16], b[16];
        word(a, 3 + next() % 8);
        word(b, 5 + next() % 8);
        snprintf(names[i], sizeof names[i], i % 3 ? "%s.%s.com" : "%s.%s.net",
                 a, b);
        if (i % 4 == 0) {
            char c[64];
            memcpy(c, names[i], sizeof c);
            snprintf(names[i], sizeof names[i], "www.%.50s", c);
        }
        lens[i] = strlen(names[i]);
    }
    size_t hits = 0, bytes = 0;
    const size_t rounds = 2000000;
    double t0 = now_s();
    for (size_t i = 0; i < rounds; i++) {
        struct cairn_hunt_field f = {CAIRN_IOC_DOMAIN, names[i % NAMES],
                                     lens[i % NAMES], "query"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        cairn_hunt_match_event(m, &ev, on_hit, &hits);
        bytes += f.len;
    }
    double t = now_s() - t0;
    printf("       miss: %.1f ns per domain field (%.0f MB/s of names), "
           "%zu false hits\n",
           t * 1e9 / (double)rounds, (double)bytes / t / 1e6, hits);

    /* IPv4 misses, with the CIDR tables in use */
    t0 = now_s();
    for (size_t i = 0; i < rounds; i++) {
        char ip[20];
        uint32_t a = (uint32_t)next();
        int l = snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                         (a >> 8) & 255, a & 255);
        struct cairn_hunt_field f = {CAIRN_IOC_IPV4, ip, (size_t)l, "h"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        cairn_hunt_match_event(m, &ev, on_hit, &hits);
    }
    t = now_s() - t0;
    printf("       miss: %.1f ns per IPv4 field (with formatting)\n",
           t * 1e9 / (double)rounds);

    /* hits: the set's own values */
    size_t found = 0;
    uint64_t save = rng;
    rng = 0x9e3779b97f4a7c15ULL;
    size_t nh = n < 1000000 ? n : 1000000;
    double th = 0;
    for (size_t i = 0; i < nh; i++) {
        char line[256], pat[320];
        value(i, line, sizeof line, pat, sizeof pat);
        char *cidr = strstr(line, "0/24");
        if (cidr != NULL) /* an address inside the CIDR */
            memcpy(cidr, "7", 2);
        struct cairn_hunt_field f = {CAIRN_IOC_STRING, line, strlen(line), "v"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        double a = now_s();
        size_t before = found;
        cairn_hunt_match_event(m, &ev, on_hit, &found);
        th += now_s() - a;
        if (found == before)
            fprintf(stderr, "not found: %s\n", line);
    }
    rng = save;
    printf("       hit:  %.1f ns per value, %zu of %zu found\n",
           th * 1e9 / (double)nh, found, nh);
    cairn_hunt_matcher_free(m);
    return found >= nh ? 0 : 1;
}

static int run(size_t n)
{
    struct cairn_hunt_builder *b;
    struct cairn_hunt_set *set;
    char line[256], pat[320], id[80];
    int rc = 0;

    /* plain list lines */
    rng = 0x9e3779b97f4a7c15ULL;
    if (cairn_hunt_builder_new(NULL, &b) != 0)
        return 1;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        value(i, line, sizeof line, pat, sizeof pat);
        if (cairn_hunt_builder_add_list_line(b, line, strlen(line), "gen", i,
                                             NULL) != 0)
            return 1;
    }
    if (cairn_hunt_builder_build(b, &set) != 0)
        return 1;
    report("list", n, now_s() - t0, set);
    cairn_hunt_builder_free(b);
    rc |= lookups(set, n);
    cairn_hunt_set_free(set);

    /* STIX indicators; building the JSON objects is not counted */
    rng = 0x9e3779b97f4a7c15ULL;
    if (cairn_hunt_builder_new(NULL, &b) != 0)
        return 1;
    double spent = 0;
    for (size_t i = 0; i < n; i++) {
        value(i, line, sizeof line, pat, sizeof pat);
        snprintf(id, sizeof id, "indicator--%08zx-0000-4000-8000-%012zx", i, i);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                              "type", "indicator", "spec_version", "2.1", "id",
                              id, "created", "2020-12-13T00:00:00.000Z",
                              "modified", "2020-12-13T00:00:00.000Z", "name",
                              line, "pattern", pat, "pattern_type", "stix",
                              "valid_from", "2020-12-13T00:00:00Z");
        double a = now_s();
        int r = cairn_hunt_builder_add_indicator(b, o, NULL);
        spent += now_s() - a;
        json_decref(o);
        if (r != 0)
            return 1;
    }
    double a = now_s();
    if (cairn_hunt_builder_build(b, &set) != 0)
        return 1;
    spent += now_s() - a;
    report("stix", n, spent, set);
    cairn_hunt_builder_free(b);
    cairn_hunt_set_free(set);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        rc |= run(10000);
        rc |= run(1000000);
    }
    for (int i = 1; i < argc; i++)
        rc |= run(strtoul(argv[i], NULL, 10));
    return rc;
}
