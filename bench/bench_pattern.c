/* SPDX-License-Identifier: Apache-2.0 */
/* Pattern benchmarks: parse rate, evaluation rate, REPEATS ... WITHIN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/pattern.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A realistic mix: hashes, addresses, domains, composites, qualifiers. */
static const char *const mix[] = {
    "[file:hashes.'SHA-256' = "
    "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' OR "
    "file:hashes.'SHA-1' = '2f7ae5d8e2f1b3b5c1d3e5f7a9b1c3d5e7f9a1b3']",
    "[ipv4-addr:value = '198.51.100.1']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[domain-name:value = 'avsvmcloud.com']",
    "[url:value = 'http://example.com/foo' OR url:value = "
    "'http://example.com/bar']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES "
    "'^Final Report.+\\\\.exe$']",
    "[network-traffic:dst_ref.type = 'domain-name' AND "
    "network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN "
    "180 SECONDS",
    "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) "
    "WITHIN 300 SECONDS",
    "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP "
    "t'2016-07-01T00:00:00Z'",
};

static json_t *observation(long i, long sec, json_t *objs, const char *type,
                           json_t *props)
{
    char id[96], od[96], t[40];
    snprintf(id, sizeof id, "%s--00000000-0000-4000-8000-%012ld", type, i);
    snprintf(od, sizeof od, "observed-data--00000000-0000-4000-8000-%012ld", i);
    struct cairn_time tm = {1577836800 + sec, 0, 0};
    cairn_time_format(&tm, 0, t, sizeof t);
    json_object_set_new(props, "type", json_string(type));
    json_object_set_new(props, "id", json_string(id));
    json_array_append_new(objs, props);
    json_t *o =
        json_pack("{s:s,s:s,s:s,s:s,s:i,s:[s]}", "type", "observed-data", "id",
                  od, "first_observed", t, "last_observed", t,
                  "number_observed", 1, "object_refs", id);
    json_array_append_new(objs, o);
    return o;
}

static int bench_parse(long n)
{
    size_t m = sizeof mix / sizeof mix[0];
    double t0 = now();
    for (long i = 0; i < n; i++) {
        const char *s = mix[i % (long)m];
        struct cairn_pattern *p;
        if (cairn_pattern_parse(s, strlen(s), NULL, &p, NULL) != 0) {
            fprintf(stderr, "parse failed: %s\n", s);
            return 1;
        }
        cairn_pattern_free(p);
    }
    double dt = now() - t0;
    printf("parse: %ld patterns (mix of %zu) in %.3f s: %.0f patterns/s, "
           "%.2f us each\n",
           n, m, dt, n / dt, dt / n * 1e6);
    return 0;
}

static int bench_eval(long n)
{
    /* Ten comparisons; about one observation in 1000 matches. */
    const char *pat =
        "[network-traffic:dst_port = 4444 AND network-traffic:src_port > 1024 "
        "AND network-traffic:protocols[*] = 'tcp' AND "
        "network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND "
        "network-traffic:src_byte_count >= 100 AND "
        "network-traffic:dst_byte_count < 100000 AND "
        "network-traffic:src_packets != 0 AND network-traffic:is_active = "
        "false AND EXISTS network-traffic:start AND "
        "network-traffic:dst_packets IN (1, 2, 3, 4, 5)]";
    struct cairn_pattern *p;
    if (cairn_pattern_parse(pat, strlen(pat), NULL, &p, NULL) != 0)
        return 1;
    json_t *objs = json_array();
    for (long i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "203.0.%d.%ld", (i % 1000 == 0) ? 113 : 114,
                 i % 250);
        json_t *addr = json_pack("{s:s,s:s,s:s}", "type", "ipv4-addr", "id", "",
                                 "value", ip);
        char aid[96];
        snprintf(aid, sizeof aid, "ipv4-addr--00000000-0000-4000-9000-%012ld",
                 i);
        json_object_set_new(addr, "id", json_string(aid));
        json_array_append_new(objs, addr);
        json_t *nt = json_pack(
            "{s:s,s:i,s:i,s:[s],s:i,s:i,s:i,s:i,s:b,s:s,s:i}", "dst_ref", aid,
            "dst_port", 4444, "src_port", 50000, "protocols", "tcp",
            "src_byte_count", 500, "dst_byte_count", 1000, "src_packets", 3,
            "dst_packets", 2, "is_active", 0, "start", "2020-01-01T00:00:00Z",
            "x_i", (int)i);
        json_t *od = observation(i, i, objs, "network-traffic", nt);
        json_array_append(json_object_get(od, "object_refs"), json_string(aid));
    }
    json_t *bundle = json_pack("{s:s,s:s,s:o}", "type", "bundle", "id",
                               "bundle--1", "objects", objs);
    struct cairn_observation_set *set;
    cairn_observations_new(&set);
    double t0 = now();
    if (cairn_observations_add_json(set, bundle, NULL) != 0 ||
        cairn_observations_seal(set, NULL) != 0)
        return 1;
    double t1 = now();
    struct cairn_match_result res;
    if (cairn_pattern_match(p, set, NULL, &res) != 0)
        return 1;
    double dt = now() - t1;
    printf("eval: 10 comparisons over %ld observations in %.3f s: %.0f "
           "observations/s (%zu matched; indexing took %.3f s)\n",
           n, dt, n / dt, res.n_indexes, t1 - t0);
    cairn_match_result_release(&res);
    cairn_observations_free(set);
    json_decref(bundle);
    cairn_pattern_free(p);
    return 0;
}

static int bench_repeats(long n)
{
    const char *pat = "[x:a < 20] REPEATS 10 TIMES WITHIN 8 SECONDS";
    struct cairn_pattern *p;
    if (cairn_pattern_parse(pat, strlen(pat), NULL, &p, NULL) != 0)
        return 1;
    json_t *objs = json_array();
    /* One observation a second; a < 20 for two in three of them. */
    for (long i = 0; i < n; i++)
        observation(i, i, objs, "x",
                    json_pack("{s:i}", "a", (int)(i % 3 == 0 ? 50 : 10)));
    json_t *bundle = json_pack("{s:s,s:s,s:o}", "type", "bundle", "id",
                               "bundle--1", "objects", objs);
    struct cairn_observation_set *set;
    cairn_observations_new(&set);
    if (cairn_observations_add_json(set, bundle, NULL) != 0 ||
        cairn_observations_seal(set, NULL) != 0)
        return 1;
    /* No window of 8 seconds holds 10 matches: the worst case, all searched. */
    double t0 = now();
    struct cairn_match_result res;
    if (cairn_pattern_match(p, set, NULL, &res) != 0)
        return 1;
    double dt = now() - t0;
    printf("repeats: '%s' over %ld observations: %s in %.3f ms%s\n", pat, n,
           res.matched ? "match" : "no match", dt * 1e3,
           res.truncated ? " (truncated)" : "");
    cairn_match_result_release(&res);
    /* And with a window that does hold 10: 12 s. */
    cairn_pattern_free(p);
    pat = "[x:a < 20] REPEATS 10 TIMES WITHIN 15 SECONDS";
    cairn_pattern_parse(pat, strlen(pat), NULL, &p, NULL);
    t0 = now();
    cairn_pattern_match(p, set, NULL, &res);
    dt = now() - t0;
    printf("repeats: '%s' over %ld observations: %s in %.3f ms%s\n", pat, n,
           res.matched ? "match" : "no match", dt * 1e3,
           res.truncated ? " (truncated)" : "");
    cairn_match_result_release(&res);
    cairn_observations_free(set);
    json_decref(bundle);
    cairn_pattern_free(p);
    return 0;
}

int main(int argc, char **argv)
{
    long parse_n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    long eval_n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
    long rep_n = argc > 3 ? strtol(argv[3], NULL, 10) : 10000;
    cairn_alloc_init();
    if (bench_parse(parse_n) || bench_eval(eval_n) || bench_repeats(rep_n)) {
        fprintf(stderr, "benchmark failed\n");
        return 1;
    }
    return 0;
}
