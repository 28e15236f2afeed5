/* SPDX-License-Identifier: Apache-2.0 */
/* Exports: writing N indicators in every format, and a rewrite after one more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/export.h"

/*
 * Usage: bench_export [N [DIR]]   (default: 1000000, $TMPDIR or /tmp)
 * N mixed indicators (45% domains, 20% IPv4 with some CIDRs, 10% URLs, 20%
 * MD5/SHA-1/SHA-256, 5% email addresses) are read into one export per
 * format; each is then rendered whole and written to a file in DIR (as a
 * server's rewrite does), and once more after one new indicator is added.
 * Baseline in the same run: the same values written one a line (a plain
 * list, the least any export does) into a buffer and the same file; each
 * format's time is printed as a ratio to it. Times are CPU seconds. YARA
 * is left out: its input is YARA rules, not values.
 */

/*
 * CPU seconds of the process: on a busy machine they vary far less than
 * wall time (the file writes wait for the disk, which CPU time leaves out
 * and wall time, printed once at the end, keeps).
 */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
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

/* The i-th value, and the matching STIX pattern. */
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

static int object(uint64_t i, char *out, size_t cap, char *line, size_t lcap)
{
    char pat[256];
    value(i, line, lcap, pat, sizeof pat);
    return snprintf(out, cap,
                    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                    "\"id\":\"indicator--%08llx-0000-4000-8000-%012llx\","
                    "\"created\":\"2026-11-01T00:00:00.000Z\","
                    "\"modified\":\"2026-11-01T00:00:00.000Z\","
                    "\"name\":\"bench %llu\",\"pattern\":\"%s\","
                    "\"pattern_type\":\"stix\","
                    "\"valid_from\":\"2026-11-01T00:00:00Z\"}",
                    (unsigned long long)(i >> 20),
                    (unsigned long long)(i & 0xfffff), (unsigned long long)i,
                    pat);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    char path[4096], obj[1024], line[256];
    struct cairn_export *ex[CAIRN_EXPORT_FORMAT_COUNT] = {0};
    struct cairn_buf list, out;
    int rc = 1;

    if (n == 0 || n > 100000000) {
        fprintf(stderr, "usage: bench_export [N [DIR]]\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/bench-export.%ld",
             dir != NULL ? dir : "/tmp", (long)getpid());
    cairn_buf_init(&list, (size_t)4 << 30);
    cairn_buf_init(&out, (size_t)4 << 30);
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++) {
        if (f == CAIRN_EXPORT_YARA)
            continue;
        struct cairn_export_opts o = {.format = (enum cairn_export_format)f};
        if (cairn_export_new(&o, &ex[f], NULL) != 0) {
            fprintf(stderr, "cannot make the %s export\n",
                    cairn_export_format_name((enum cairn_export_format)f));
            goto out;
        }
    }
    double wall0 = wall_s(), read_s = 0;
    for (size_t i = 0; i < n; i++) {
        int len = object(i, obj, sizeof obj, line, sizeof line);
        double t0 = now_s();
        for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++)
            if (ex[f] != NULL &&
                cairn_export_add_json(ex[f], obj, (size_t)len) != 0) {
                fprintf(stderr, "cannot add indicator %zu\n", i);
                goto out;
            }
        read_s += now_s() - t0;
        if (cairn_buf_puts(&list, line) != 0 || cairn_buf_putc(&list, '\n'))
            goto out;
    }
    printf("export: %zu indicators, read into %d exports in %.2f s, %.2f s each\n", n,
           CAIRN_EXPORT_FORMAT_COUNT - 1, read_s,
           read_s / (CAIRN_EXPORT_FORMAT_COUNT - 1));

    /* the baseline: the values one a line, built again and written */
    double t0 = now_s();
    out.len = 0;
    for (size_t i = 0, s = 0; i < list.len; i++)
        if (list.data[i] == '\n') {
            if (cairn_buf_append(&out, list.data + s, i - s + 1) != 0)
                goto out;
            s = i + 1;
        }
    if (cairn_export_write_file(path, out.data, out.len) != 0)
        goto out;
    double base_s = now_s() - t0;
    printf("baseline  plain list   %9.3f s  %8.1f MB\n", base_s,
           (double)out.len / 1e6);

    struct cairn_time now = cairn_time_now(3);
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++) {
        if (ex[f] == NULL)
            continue;
        struct cairn_export_stats st;
        double whole = 0, again = 0;
        for (int round = 0; round < 2; round++) {
            if (round == 1) {
                int len = object(n + 7, obj, sizeof obj, line, sizeof line);
                t0 = now_s();
                if (cairn_export_add_json(ex[f], obj, (size_t)len) != 0)
                    goto out;
            } else {
                t0 = now_s();
            }
            out.len = 0;
            if (cairn_export_render(ex[f], &now, &out, &st, NULL, NULL) != 0 ||
                cairn_export_write_file(path, out.data, out.len) != 0) {
                fprintf(stderr, "%s: cannot render or write\n",
                        cairn_export_format_name((enum cairn_export_format)f));
                goto out;
            }
            *(round == 0 ? &whole : &again) = now_s() - t0;
        }
        printf("%-10s whole %7.3f s (%5.1fx baseline), rewrite after one "
               "more %7.3f s  %8.1f MB, %zu entries, %zu unsupported\n",
               cairn_export_format_name((enum cairn_export_format)f), whole,
               whole / base_s, again, (double)out.len / 1e6, st.entries,
               st.unsupported);
    }
    printf("(CPU seconds; the whole run took %.1f s of wall time)\n",
           wall_s() - wall0);
    rc = 0;
out:
    unlink(path);
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++)
        cairn_export_free(ex[f]);
    cairn_buf_release(&list);
    cairn_buf_release(&out);
    return rc;
}
