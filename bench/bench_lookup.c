/* SPDX-License-Identifier: Apache-2.0 */
/* Latency of cairn_lookup, and of plain SQLite queries doing the same. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "cairn/cairn.h"

/*
 *   bench_lookup cairn DB VALUES   cairn_lookup of each line of VALUES
 *   bench_lookup sqlite DB VALUES  the baseline: the same probes (each
 *       parent domain, each IPv4 prefix, the value itself) as SELECTs on
 *       the table vals(v TEXT, rid) indexed by v, joined to the objects
 *
 * Prints the count, the objects found, and p50/p99/max in milliseconds
 * (wall time); then the same of the thread's CPU time per lookup
 * (cpu_p50, cpu_p99, cpu_max), and of the lookups slower than p99 how
 * many were switched out by the scheduler (involuntary context switches)
 * or waited for the disk (major faults, blocks read): what a slow lookup
 * spent its time on when its CPU time is short of its wall time.
 */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What the thread waited for so far: involuntary switches, major faults
 * and blocks read. */
static void waits(long w[3])
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    w[0] = ru.ru_nivcsw;
    w[1] = ru.ru_majflt;
    w[2] = ru.ru_inblock;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t probe_sql(sqlite3_stmt *st, const char *v, size_t len)
{
    size_t found = 0;
    sqlite3_bind_text(st, 1, v, (int)len, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        found += sqlite3_column_bytes(st, 0) > 0;
    sqlite3_reset(st);
    return found;
}

/* The baseline's probes for one value: as cairn_lookup probes the index. */
static size_t baseline(sqlite3_stmt *st, const char *v)
{
    size_t len = strlen(v), found = 0;
    unsigned a, b, c, d;
    char text[64];
    if (sscanf(v, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
        uint32_t ip = a << 24 | b << 16 | c << 8 | d;
        for (int p = 32; p >= 0; p--) {
            uint32_t m = p == 0 ? 0 : ip & (0xffffffffu << (32 - p));
            int n = snprintf(text, sizeof text, "%u.%u.%u.%u/%d", m >> 24,
                             (m >> 16) & 255, (m >> 8) & 255, m & 255, p);
            if (p == 32)
                n = snprintf(text, sizeof text, "%s", v);
            found += probe_sql(st, text, (size_t)n);
        }
        return found;
    }
    if (strstr(v, "://") != NULL || strchr(v, '.') == NULL)
        return probe_sql(st, v, len);
    for (const char *p = v; p != NULL; p = strchr(p, '.')) {
        if (*p == '.')
            p++;
        found += probe_sql(st, p, len - (size_t)(p - v));
    }
    return found;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "cairn") && strcmp(argv[1], "sqlite"))) {
        fprintf(stderr, "usage: bench_lookup cairn|sqlite DB VALUES\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "r");
    if (f == NULL) {
        perror(argv[3]);
        return 2;
    }
    char **vals = NULL;
    size_t n = 0, alloc = 0;
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            vals = realloc(vals, alloc * sizeof *vals);
            if (vals == NULL)
                return 2;
        }
        vals[n++] = strdup(line);
    }
    fclose(f);
    double *ms = calloc(n ? n : 1, sizeof *ms);
    double *cpu = calloc(n ? n : 1, sizeof *cpu);
    long(*wt)[3] = calloc(n ? n : 1, sizeof *wt);
    if (ms == NULL || cpu == NULL || wt == NULL)
        return 2;
    size_t found = 0;
    bool is_cairn = strcmp(argv[1], "cairn") == 0;
    struct cairn_store *s = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (is_cairn) {
        char url[4200];
        snprintf(url, sizeof url, "sqlite:%s", argv[2]);
        int rc = cairn_store_open(url, NULL, &s);
        if (rc < 0) {
            fprintf(stderr, "open: %s\n", cairn_strerror(rc));
            return 2;
        }
    } else if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) !=
                   SQLITE_OK ||
               sqlite3_prepare_v2(db,
                                  "SELECT o.json FROM vals v JOIN objects o"
                                  " ON o.rid = v.rid WHERE v.v = ?1",
                                  -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", db ? sqlite3_errmsg(db) : "?");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        long w0[3], w1[3];
        waits(w0);
        double c0 = cpu_ms();
        double t0 = now_ms();
        if (is_cairn) {
            json_t *res = NULL;
            if (cairn_lookup(s, vals[i], NULL, &res) == 0)
                found += json_array_size(json_object_get(res, "matches"));
            json_decref(res);
        } else {
            found += baseline(st, vals[i]);
        }
        ms[i] = now_ms() - t0;
        cpu[i] = cpu_ms() - c0;
        waits(w1);
        for (int k = 0; k < 3; k++)
            wt[i][k] = w1[k] - w0[k];
    }
    /* the waits of the lookups slower than p99 (before sorting) */
    double p99 = 0;
    long slow = 0, sw[3] = {0, 0, 0}, slow_cpu_short = 0;
    if (n > 0) {
        double *sorted = malloc(n * sizeof *sorted);
        if (sorted == NULL)
            return 2;
        memcpy(sorted, ms, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_d);
        p99 = sorted[(n * 99) / 100];
        free(sorted);
    }
    for (size_t i = 0; i < n; i++)
        if (ms[i] >= p99) {
            slow++;
            for (int k = 0; k < 3; k++)
                sw[k] += wt[i][k] > 0;
            slow_cpu_short += cpu[i] < ms[i] / 2;
        }
    qsort(ms, n, sizeof *ms, cmp_d);
    qsort(cpu, n, sizeof *cpu, cmp_d);
    if (n > 0) {
        printf("%s: %zu lookups, %zu objects found, p50 %.3f ms, p99 %.3f "
               "ms, max %.3f ms\n",
               argv[1], n, found, ms[n / 2], ms[(n * 99) / 100], ms[n - 1]);
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += cpu[i];
        printf("%s CPU per lookup: mean %.3f ms, cpu_p50 %.3f ms, cpu_p99 "
               "%.3f ms, cpu_max %.3f ms; of the %ld lookups at or over "
               "p99: %ld under half their wall time on the CPU, %ld switched "
               "out, %ld with major faults, %ld reading blocks\n",
               argv[1], sum / (double)n, cpu[n / 2], cpu[(n * 99) / 100],
               cpu[n - 1], slow, slow_cpu_short, sw[0], sw[1], sw[2]);
    }
    cairn_store_close(s);
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    free(ms);
    free(cpu);
    free(wt);
    return 0;
}
