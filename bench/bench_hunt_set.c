/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator set: compile time, bytes per indicator, lookup cost of a miss. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_values.h"
#include "cairn/hunt.h"

/*
 * Usage: bench_hunt_set [N...]   (default: 10000 1000000)
 * For each N: N mixed indicators (45% domains, 20% IPv4 with some CIDRs,
 * 10% URLs, 20% MD5/SHA-1/SHA-256, 5% email addresses) compiled from
 * plain-list lines and, separately, from STIX indicator objects; then
 * 2,000,000 lookups of DNS names that are not in the set and 1,000,000
 * that are.
 */

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
        bench_word(a, 3 + bench_next() % 8);
        bench_word(b, 5 + bench_next() % 8);
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
    double t0 = bench_wall_s();
    for (size_t i = 0; i < rounds; i++) {
        struct cairn_hunt_field f = {CAIRN_IOC_DOMAIN, names[i % NAMES],
                                     lens[i % NAMES], "query"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        cairn_hunt_match_event(m, &ev, on_hit, &hits);
        bytes += f.len;
    }
    double t = bench_wall_s() - t0;
    printf("       miss: %.1f ns per domain field (%.0f MB/s of names), "
           "%zu false hits\n",
           t * 1e9 / (double)rounds, (double)bytes / t / 1e6, hits);

    /* IPv4 misses, with the CIDR tables in use */
    t0 = bench_wall_s();
    for (size_t i = 0; i < rounds; i++) {
        char ip[20];
        uint32_t a = (uint32_t)bench_next();
        int l = snprintf(ip, sizeof ip, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                         (a >> 8) & 255, a & 255);
        struct cairn_hunt_field f = {CAIRN_IOC_IPV4, ip, (size_t)l, "h"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        cairn_hunt_match_event(m, &ev, on_hit, &hits);
    }
    t = bench_wall_s() - t0;
    printf("       miss: %.1f ns per IPv4 field (with formatting)\n",
           t * 1e9 / (double)rounds);

    /* hits: the set's own values */
    size_t found = 0;
    uint64_t save = bench_rng;
    bench_rng = 0x9e3779b97f4a7c15ULL;
    size_t nh = n < 1000000 ? n : 1000000;
    double th = 0;
    for (size_t i = 0; i < nh; i++) {
        char line[256], pat[320];
        bench_value(i, line, sizeof line, pat, sizeof pat);
        char *cidr = strstr(line, "0/24");
        if (cidr != NULL) /* an address inside the CIDR */
            memcpy(cidr, "7", 2);
        struct cairn_hunt_field f = {CAIRN_IOC_STRING, line, strlen(line), "v"};
        struct cairn_hunt_event ev = {.fields = &f, .n_fields = 1};
        double a = bench_wall_s();
        size_t before = found;
        cairn_hunt_match_event(m, &ev, on_hit, &found);
        th += bench_wall_s() - a;
        if (found == before)
            fprintf(stderr, "not found: %s\n", line);
    }
    bench_rng = save;
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
    bench_rng = 0x9e3779b97f4a7c15ULL;
    if (cairn_hunt_builder_new(NULL, &b) != 0)
        return 1;
    double t0 = bench_wall_s();
    for (size_t i = 0; i < n; i++) {
        bench_value(i, line, sizeof line, pat, sizeof pat);
        if (cairn_hunt_builder_add_list_line(b, line, strlen(line), "gen", i,
                                             NULL) != 0)
            return 1;
    }
    if (cairn_hunt_builder_build(b, &set) != 0)
        return 1;
    report("list", n, bench_wall_s() - t0, set);
    cairn_hunt_builder_free(b);
    rc |= lookups(set, n);
    cairn_hunt_set_free(set);

    /* STIX indicators; building the JSON objects is not counted */
    bench_rng = 0x9e3779b97f4a7c15ULL;
    if (cairn_hunt_builder_new(NULL, &b) != 0)
        return 1;
    double spent = 0;
    for (size_t i = 0; i < n; i++) {
        bench_value(i, line, sizeof line, pat, sizeof pat);
        snprintf(id, sizeof id, "indicator--%08zx-0000-4000-8000-%012zx", i, i);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                              "type", "indicator", "spec_version", "2.1", "id",
                              id, "created", "2020-12-13T00:00:00.000Z",
                              "modified", "2020-12-13T00:00:00.000Z", "name",
                              line, "pattern", pat, "pattern_type", "stix",
                              "valid_from", "2020-12-13T00:00:00Z");
        double a = bench_wall_s();
        int r = cairn_hunt_builder_add_indicator(b, o, NULL);
        spent += bench_wall_s() - a;
        json_decref(o);
        if (r != 0)
            return 1;
    }
    double a = bench_wall_s();
    if (cairn_hunt_builder_build(b, &set) != 0)
        return 1;
    spent += bench_wall_s() - a;
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
