/* SPDX-License-Identifier: Apache-2.0 */
/* Exports: writing N indicators in every format, and a rewrite after one more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_values.h"
#include <jansson.h>

#include "cairn/export.h"
#include "cairn/store.h"

/*
 * Usage: bench_export [N [DIR]]   (default: 1000000, $TMPDIR or /tmp)
 * N mixed indicators (45% domains, 20% IPv4 with some CIDRs, 10% URLs, 20%
 * MD5/SHA-1/SHA-256, 5% email addresses).
 *
 * 1. The store: the N objects are put into an SQLite store in DIR (not
 *    timed), then read by cairn_export_update as a server's first read
 *    does (one query per page of the change feed, each object parsed);
 *    baseline in the same run: the same pages read without parsing.
 * 2. Per format, one export at a time: the N objects added from memory
 *    (read), the file rendered whole and written (whole: what `cairn
 *    export` does after reading), then one more indicator added and the
 *    file rewritten (what a server does after a change). Baseline in the
 *    same run: the same values written one a line (a plain list, the least
 *    any export does) into a buffer and the same file; each format's
 *    whole time is printed as a ratio to it.
 *
 * Times are CPU seconds of the process (getrusage-like: on a busy machine
 * they vary far less than wall time). YARA is left out: its input is YARA
 * rules, not values.
 */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int object(uint64_t i, char *out, size_t cap, char *line, size_t lcap)
{
    char pat[256];
    bench_value(i, line, lcap, pat, sizeof pat);
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

/* The N objects, generated once (not timed): texts one after another. */
struct objs {
    char *text;
    size_t *off;
    size_t n;
};

static int make_objs(struct objs *o, size_t n, struct cairn_buf *list)
{
    char obj[1024], line[256];
    struct cairn_buf b;
    cairn_buf_init(&b, (size_t)4 << 30);
    o->off = malloc((n + 1) * sizeof *o->off);
    if (o->off == NULL)
        return -1;
    bench_rng = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++) {
        int len = object(i, obj, sizeof obj, line, sizeof line);
        o->off[i] = b.len;
        if (cairn_buf_append(&b, obj, (size_t)len) != 0 ||
            cairn_buf_puts(list, line) != 0 || cairn_buf_putc(list, '\n') != 0)
            return -1;
    }
    o->off[n] = b.len;
    o->text = b.data;
    o->n = n;
    return 0;
}

/* Put the objects into a new SQLite store; the collection's id. */
static int fill_store(const char *url, const struct objs *o, char *coll)
{
    struct cairn_store *s = NULL;
    struct cairn_store_api_root root = {"bench", "bench", NULL, 1 << 30};
    struct cairn_store_collection c = {.api_root = "bench", .title = "bench"};
    enum { BATCH = 10000 };
    struct cairn_store_object_in *in = calloc(BATCH, sizeof *in);
    int rc = in != NULL ? cairn_store_open(url, NULL, &s) : CAIRN_ENOMEM;
    if (rc == 0)
        rc = cairn_store_api_root_put(s, &root);
    if (rc == 0)
        rc = cairn_store_collection_create(s, &c, coll);
    for (size_t i = 0; i < o->n && rc == 0; i += BATCH) {
        size_t m = o->n - i < BATCH ? o->n - i : BATCH;
        for (size_t k = 0; k < m; k++) {
            in[k].json = o->text + o->off[i + k];
            in[k].json_len = o->off[i + k + 1] - o->off[i + k];
            in[k].obj = json_loadb(in[k].json, in[k].json_len, 0, NULL);
        }
        rc = cairn_store_put_objects(s, coll, in, m, NULL, NULL);
        for (size_t k = 0; k < m; k++)
            json_decref((json_t *)in[k].obj);
    }
    free(in);
    cairn_store_close(s);
    return rc;
}

/* The pages of the collection, read and dropped: the floor of any read. */
static int page_through(struct cairn_store *s, const char *coll, size_t *n)
{
    static const char *const types[] = {"indicator"};
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    *n = 0;
    for (;;) {
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {.collection = coll,
                                      .types = types,
                                      .n_types = 1,
                                      .limit = CAIRN_STORE_LIMIT_MAX,
                                      .next = next[0] ? next : NULL,
                                      .with_json = true};
        int rc = cairn_store_query(s, &q, &p);
        if (rc != 0)
            return rc;
        *n += p->n;
        bool more = p->more;
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            return 0;
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    char path[4096], db[4200], url[4300], obj[1024], line[256];
    char coll[CAIRN_UUID_STRLEN];
    struct cairn_buf list, out;
    struct objs objs = {0};
    struct cairn_store *s = NULL;
    int rc = 1;

    if (n == 0 || n > 100000000) {
        fprintf(stderr, "usage: bench_export [N [DIR]]\n");
        return 2;
    }
    if (dir == NULL)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/bench-export.%ld", dir, (long)getpid());
    snprintf(db, sizeof db, "%s.db", path);
    snprintf(url, sizeof url, "sqlite:%s", db);
    cairn_buf_init(&list, (size_t)4 << 30);
    cairn_buf_init(&out, (size_t)4 << 30);
    if (make_objs(&objs, n, &list) != 0) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    double wall0 = bench_wall_s();
    printf("export: %zu indicators (CPU seconds)\n", n);

    /* 1. the store */
    if (fill_store(url, &objs, coll) != 0 ||
        cairn_store_open(url, NULL, &s) != 0) {
        fprintf(stderr, "cannot fill the store %s\n", db);
        goto out;
    }
    {
        size_t rows = 0;
        double t0 = now_s();
        if (page_through(s, coll, &rows) != 0)
            goto out;
        double pages_s = now_s() - t0;
        struct cairn_export *ex = NULL;
        const char *cl[] = {coll};
        struct cairn_export_opts o = {.format = CAIRN_EXPORT_ZEEK,
                                      .collections = cl,
                                      .n_collections = 1};
        bool changed = false;
        if (cairn_export_new(&o, &ex, NULL) != 0)
            goto out;
        t0 = now_s();
        rc = cairn_export_update(ex, s, &changed);
        double read_s = now_s() - t0;
        cairn_export_free(ex);
        if (rc != 0)
            goto out;
        rc = 1;
        printf("store read   %9.3f s (%5.1fx the pages alone: %.3f s, %zu "
               "rows)\n",
               read_s, read_s / pages_s, pages_s, rows);
    }
    cairn_store_close(s);
    s = NULL;
    unlink(db);

    /* 2. the baseline: the values one a line, built again and written */
    double t0 = now_s();
    out.len = 0;
    for (size_t i = 0, st = 0; i < list.len; i++)
        if (list.data[i] == '\n') {
            if (cairn_buf_append(&out, list.data + st, i - st + 1) != 0)
                goto out;
            st = i + 1;
        }
    if (cairn_export_write_file(path, out.data, out.len) != 0)
        goto out;
    double base_s = now_s() - t0;
    printf("baseline   plain list   whole %7.3f s  %8.1f MB\n", base_s,
           (double)out.len / 1e6);

    struct cairn_time now = cairn_time_now(3);
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++) {
        if (f == CAIRN_EXPORT_YARA)
            continue;
        struct cairn_export *ex = NULL;
        struct cairn_export_opts o = {.format = (enum cairn_export_format)f};
        struct cairn_export_stats st;
        if (cairn_export_new(&o, &ex, NULL) != 0)
            goto out;
        t0 = now_s();
        for (size_t i = 0; i < n; i++)
            if (cairn_export_add_json(ex, objs.text + objs.off[i],
                                      objs.off[i + 1] - objs.off[i]) != 0) {
                fprintf(stderr, "cannot add indicator %zu\n", i);
                cairn_export_free(ex);
                goto out;
            }
        double read_s = now_s() - t0, whole = 0, again = 0;
        for (int round = 0; round < 2; round++) {
            t0 = now_s();
            if (round == 1) {
                int len = object(n + 7, obj, sizeof obj, line, sizeof line);
                if (cairn_export_add_json(ex, obj, (size_t)len) != 0) {
                    cairn_export_free(ex);
                    goto out;
                }
            }
            out.len = 0;
            if (cairn_export_render(ex, &now, &out, &st, NULL, NULL) != 0 ||
                cairn_export_write_file(path, out.data, out.len) != 0) {
                fprintf(stderr, "%s: cannot render or write\n",
                        cairn_export_format_name((enum cairn_export_format)f));
                cairn_export_free(ex);
                goto out;
            }
            *(round == 0 ? &whole : &again) = now_s() - t0;
        }
        cairn_export_free(ex);
        printf("%-10s read %6.3f s, whole %6.3f s (%5.1fx baseline), read + "
               "whole %6.3f s; rewrite after one more %6.3f s (%5.1fx); "
               "%7.1f MB, %zu entries, %zu unsupported\n",
               cairn_export_format_name((enum cairn_export_format)f), read_s,
               whole, whole / base_s, read_s + whole, again, again / base_s,
               (double)out.len / 1e6, st.entries, st.unsupported);
    }
    printf("(the whole run took %.1f s of wall time)\n",
           bench_wall_s() - wall0);
    rc = 0;
out:
    cairn_store_close(s);
    unlink(path);
    unlink(db);
    free(objs.text);
    free(objs.off);
    cairn_buf_release(&list);
    cairn_buf_release(&out);
    return rc;
}
