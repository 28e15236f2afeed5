/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generated indicator values that bench_hunt_set and bench_export
 * share: a deterministic xorshift stream, so runs compare.
 */
#ifndef CAIRN_BENCH_VALUES_H
#define CAIRN_BENCH_VALUES_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double bench_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t bench_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t bench_next(void)
{
    bench_rng ^= bench_rng << 13;
    bench_rng ^= bench_rng >> 7;
    bench_rng ^= bench_rng << 17;
    return bench_rng;
}

static void bench_word(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)('a' + bench_next() % 26);
    out[n] = '\0';
}

/* The i-th value (a list line), and the matching STIX pattern. */
static void bench_value(uint64_t i, char *line, size_t cap, char *pat,
                        size_t pcap)
{
    static const char *const tlds[] = {"com", "net", "org", "ru", "io", "info"};
    char w1[16], w2[16];
    uint64_t kind = i % 20;
    bench_word(w1, 6 + bench_next() % 8);
    bench_word(w2, 4 + bench_next() % 6);
    if (kind < 9) {
        snprintf(line, cap, "%s-%llu.%s", w1, (unsigned long long)i,
                 tlds[bench_next() % 6]);
        snprintf(pat, pcap, "[domain-name:value = '%s']", line);
    } else if (kind < 13) {
        uint32_t a = (uint32_t)(bench_next() | 0x01000000u);
        if (kind == 12)
            snprintf(line, cap, "%u.%u.%u.0/24", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255);
        else
            snprintf(line, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                     (a >> 8) & 255, a & 255);
        snprintf(pat, pcap, "[ipv4-addr:value = '%s']", line);
    } else if (kind < 15) {
        snprintf(line, cap, "http://%s.%s/%s/%llu.php", w1,
                 tlds[bench_next() % 6], w2, (unsigned long long)i);
        snprintf(pat, pcap, "[url:value = '%s']", line);
    } else if (kind < 19) {
        static const int lens[] = {32, 40, 64};
        static const char *const algos[] = {"MD5", "'SHA-1'", "'SHA-256'"};
        int a = (int)(bench_next() % 3);
        for (int k = 0; k < lens[a]; k++)
            line[k] = "0123456789abcdef"[bench_next() % 16];
        line[lens[a]] = '\0';
        snprintf(pat, pcap, "[file:hashes.%s = '%s']", algos[a], line);
    } else {
        snprintf(line, cap, "%s.%llu@%s.com", w2, (unsigned long long)i, w1);
        snprintf(pat, pcap, "[email-addr:value = '%s']", line);
    }
}

#endif
