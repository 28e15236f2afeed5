/* SPDX-License-Identifier: Apache-2.0 */
/* Latency of cairn_lookup, and of plain SQLite queries doing the same. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cairn/cairn.h"

/*
 *   bench_lookup cairn DB VALUES   cairn_lookup of each line of VALUES
 *   bench_lookup sqlite DB VALUES  the baseline: the same probes (each
 *       parent domain, each IPv4 prefix, the value itself) as SELECTs on
 *       the table vals(v TEXT, rid) indexed by v, joined to the objects
 *
 * Prints the count, the objects found, and p50/p99/max in milliseconds.
 */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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
    }
    qsort(ms, n, sizeof *ms, cmp_d);
    if (n > 0)
        printf("%s: %zu lookups, %zu objects found, p50 %.3f ms, p99 %.3f "
               "ms, max %.3f ms\n",
               argv[1], n, found, ms[n / 2], ms[(n * 99) / 100], ms[n - 1]);
    cairn_store_close(s);
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (size_t i = 0; i < n; i++)
        free(vals[i]);
    free(vals);
    free(ms);
    return 0;
}
