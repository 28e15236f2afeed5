/* SPDX-License-Identifier: Apache-2.0 */
/* Store throughput: insert N indicators in batches, then page them all out. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cairn/store.h"
#include "store/store_int.h" /* the id hash, for --csv */

/*
 *   bench_store DB N BATCH [status]
 *                              insert and page through the store API; with
 *                              "status", record each batch's outcomes in a
 *                              status resource, as TAXII POST does
 *   bench_store --csv N        the same rows as CSV, for the sqlite3 baseline
 *
 * The objects are generated outside the timed part; the insert figure is
 * the time spent in cairn_store_put_objects, which reads each object's id,
 * type and timestamps, assigns date_added and commits one durable
 * transaction per batch.
 */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: on a busy machine it varies less than wall time. */
static double cpu_s(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* Indicator `i` as text; `len` gets its length. */
static int indicator_text(unsigned long i, char *buf, size_t cap)
{
    return snprintf(
        buf, cap,
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--%08lx-0000-4000-8000-%012lx\","
        "\"created\":\"2024-01-01T00:00:00.000Z\","
        "\"modified\":\"2024-01-01T00:00:00.000Z\","
        "\"name\":\"bench indicator %lu\","
        "\"pattern\":\"[domain-name:value = 'host%lu.example.com']\","
        "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}",
        (i * 2654435761u) & 0xffffffffu, i, i, i);
}

/* The rows cairn's objects table gets, as CSV for `sqlite3 .import`. */
static int csv(unsigned long n)
{
    char buf[1024], id[80];
    for (unsigned long i = 0; i < n; i++) {
        int len = indicator_text(i, buf, sizeof buf);
        snprintf(id, sizeof id, "indicator--%08lx-0000-4000-8000-%012lx",
                 (i * 2654435761u) & 0xffffffffu, i);
        printf("1,%lu,%" PRId64 ",%s,indicator,2.1,1704067200,0,0,"
               "2024-01-01T00:00:00.000Z,2024-01-01T00:00:00.000Z,\"",
               1700000000000000ul + i, cairn__store_id_hash(id), id);
        for (int k = 0; k < len; k++) {
            if (buf[k] == '"') /* CSV quoting: double every quote */
                putchar('"');
            putchar(buf[k]);
        }
        puts("\"");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--csv") == 0)
        return csv(strtoul(argv[2], NULL, 10));
    bool with_status = argc == 5 && strcmp(argv[4], "status") == 0;
    if (argc != 4 && !with_status) {
        fprintf(stderr, "usage: bench_store DB N BATCH [status] | --csv N\n");
        return 2;
    }
    cairn_alloc_init();
    const char *db = argv[1];
    unsigned long n = strtoul(argv[2], NULL, 10);
    size_t batch = strtoul(argv[3], NULL, 10);
    if (n == 0 || batch == 0 || batch > CAIRN_STORE_BATCH_MAX) {
        fprintf(stderr, "bench_store: bad N or BATCH\n");
        return 2;
    }
    struct cairn_store *s = NULL;
    int rc = cairn_store_open(db, NULL, &s);
    struct cairn_store_api_root root = {"bench", "bench", NULL, 1 << 30};
    struct cairn_store_collection c = {.api_root = "bench", .title = "bench"};
    char coll[CAIRN_UUID_STRLEN];
    if (rc == 0)
        rc = cairn_store_api_root_put(s, &root);
    if (rc == 0)
        rc = cairn_store_collection_create(s, &c, coll);
    char status[CAIRN_UUID_STRLEN];
    if (rc == 0 && with_status)
        rc = cairn_store_status_new(s, coll, NULL, (int64_t)n, status);
    if (rc < 0) {
        fprintf(stderr, "bench_store: %s: %s\n", db, cairn_strerror(rc));
        return 1;
    }

    struct cairn_store_object_in *in = calloc(batch, sizeof *in);
    char **texts = calloc(batch, sizeof *texts);
    for (size_t k = 0; k < batch; k++)
        texts[k] = malloc(1024);
    double put_s = 0, put_cpu = 0;
    for (unsigned long i = 0; i < n && rc == 0; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        for (size_t k = 0; k < m; k++) {
            int len = indicator_text(i + k, texts[k], 1024);
            in[k].obj = json_loadb(texts[k], (size_t)len, 0, NULL);
            in[k].json = texts[k];
            in[k].json_len = (size_t)len;
        }
        double t0 = now_s(), c0 = cpu_s();
        rc = cairn_store_put_objects(s, coll, in, m,
                                     with_status ? status : NULL, NULL);
        put_s += now_s() - t0;
        put_cpu += cpu_s() - c0;
        for (size_t k = 0; k < m; k++)
            json_decref((json_t *)in[k].obj);
    }
    if (rc < 0) {
        fprintf(stderr, "bench_store: put: %s\n", cairn_strerror(rc));
        return 1;
    }

    double t0 = now_s(), c0 = cpu_s();
    unsigned long seen = 0, pages = 0;
    size_t bytes = 0;
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    for (;;) {
        struct cairn_store_query q = {.collection = coll,
                                      .limit = 1000,
                                      .next = next[0] ? next : NULL,
                                      .with_json = true};
        struct cairn_store_page *p = NULL;
        if ((rc = cairn_store_query(s, &q, &p)) < 0) {
            fprintf(stderr, "bench_store: query: %s\n", cairn_strerror(rc));
            return 1;
        }
        seen += p->n;
        pages++;
        for (size_t k = 0; k < p->n; k++)
            bytes += p->rows[k].json_len;
        bool more = p->more;
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
    }
    double page_s = now_s() - t0, page_cpu = cpu_s() - c0;
    cairn_store_close(s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("insert %lu objects in batches of %zu%s: %.2f s (%.2f s CPU), "
           "%.0f objects/s\n",
           n, batch, with_status ? " with a status" : "", put_s, put_cpu,
           (double)n / put_s);
    printf("page %lu objects (%lu pages of 1000, %.0f MB of JSON): %.2f s "
           "(%.2f s CPU)\n",
           seen, pages, (double)bytes / 1e6, page_s, page_cpu);
    printf("peak RSS: %.1f MB\n", (double)ru.ru_maxrss / 1024);
    if (seen != n) {
        fprintf(stderr, "bench_store: paged %lu objects, stored %lu\n", seen,
                n);
        return 1;
    }
    for (size_t k = 0; k < batch; k++)
        free(texts[k]);
    free(texts);
    free(in);
    return 0;
}
