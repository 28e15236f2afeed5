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
 * Usage: bench_export [N [DIR [FORMAT...]]]
 *        (default: 1000000, $TMPDIR or /tmp, every format but yara)
 * N mixed indicators (45% domains, 20% IPv4 with some CIDRs, 10% URLs, 20%
 * MD5/SHA-1/SHA-256, 5% email addresses) are put into an SQLite store in
 * DIR (not timed). Then, per format, each measured in CPU seconds of the
 * process (every thread; on a busy machine they vary far less than wall
 * time, which is printed too):
 *
 * - full: what `cairn export -o FILE` does: a new export (keeping
 *   nothing, opts.once) reads the collection from the store and writes
 *   the file (temporary file, fsync, rename);
 * - first: the same as a server's export does it the first time, keeping
 *   each indicator's rendered part for the rewrites;
 * - rewrite: one more indicator put into the store (not timed), then what
 *   the server does: the export reads what was added and rewrites the
 *   file from the parts it keeps.
 *
 * Baseline in the same run: the same values written one a line (a plain
 * list, the least any export does) into a buffer and a file; each figure
 * is printed as a ratio to it. The floor of any read is printed too: the
 * store's pages of the collection read and dropped. YARA is left out: its
 * input is YARA rules, not values.
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

struct tm2 {
    double cpu, wall;
};

static struct tm2 tnow(void)
{
    return (struct tm2){now_s(), bench_wall_s()};
}

static struct tm2 tsince(struct tm2 t0)
{
    struct tm2 t = tnow();
    return (struct tm2){t.cpu - t0.cpu, t.wall - t0.wall};
}

/* Read the collection into `ex` and write its file: the times of both. */
static int export_once(struct cairn_export *ex, struct cairn_store *s,
                       const char *path, struct tm2 *read, struct tm2 *write,
                       struct cairn_export_file *f,
                       struct cairn_export_stats *st)
{
    struct tm2 t0 = tnow();
    int rc = cairn_export_update(ex, s, NULL);
    *read = tsince(t0);
    if (rc != 0)
        return rc;
    t0 = tnow();
    rc = cairn_export_write(ex, NULL, path, f, st, NULL, NULL);
    *write = tsince(t0);
    return rc;
}

static int put_one(struct cairn_store *s, const char *coll, uint64_t i)
{
    char obj[1024], line[256];
    int len = object(i, obj, sizeof obj, line, sizeof line);
    struct cairn_store_object_in in = {.json = obj, .json_len = (size_t)len};
    in.obj = json_loadb(obj, (size_t)len, 0, NULL);
    int rc = cairn_store_put_objects(s, coll, &in, 1, NULL, NULL);
    json_decref((json_t *)in.obj);
    return rc;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    char path[4096], db[4200], url[4300];
    char coll[CAIRN_UUID_STRLEN];
    struct cairn_buf list, out;
    struct objs objs = {0};
    struct cairn_store *s = NULL;
    bool want[CAIRN_EXPORT_FORMAT_COUNT];
    size_t rows = 0;
    int rc = 1;

    if (n == 0 || n > 100000000) {
        fprintf(stderr, "usage: bench_export [N [DIR [FORMAT...]]]\n");
        return 2;
    }
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++)
        want[f] = argc <= 3 && f != CAIRN_EXPORT_YARA;
    for (int i = 3; i < argc; i++) {
        enum cairn_export_format f;
        if (cairn_export_format_parse(argv[i], &f) != 0 ||
            f == CAIRN_EXPORT_YARA) {
            fprintf(stderr, "bench_export: %s: not a format of values\n",
                    argv[i]);
            return 2;
        }
        want[f] = true;
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
    printf("export: %zu indicators (CPU seconds of every thread; wall in "
           "brackets)\n",
           n);
    if (fill_store(url, &objs, coll) != 0 ||
        cairn_store_open(url, NULL, &s) != 0) {
        fprintf(stderr, "cannot fill the store %s\n", db);
        goto out;
    }
    free(objs.text);
    objs.text = NULL;

    /* the floor of a read: the pages alone */
    struct tm2 t0 = tnow();
    if (page_through(s, coll, &rows) != 0)
        goto out;
    struct tm2 pages = tsince(t0);
    printf("store pages alone      %7.3f s [%6.3f]  (%zu rows)\n", pages.cpu,
           pages.wall, rows);

    /* the baseline: the values one a line, built again and written */
    t0 = tnow();
    out.len = 0;
    for (size_t i = 0, st = 0; i < list.len; i++)
        if (list.data[i] == '\n') {
            if (cairn_buf_append(&out, list.data + st, i - st + 1) != 0)
                goto out;
            st = i + 1;
        }
    if (cairn_export_write_file(path, out.data, out.len) != 0)
        goto out;
    struct tm2 base = tsince(t0);
    printf("baseline plain list    %7.3f s [%6.3f]  %8.1f MB\n", base.cpu,
           base.wall, (double)out.len / 1e6);
    cairn_buf_release(&out);

    uint64_t extra = n + 7;
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++) {
        if (!want[f])
            continue;
        const char *name = cairn_export_format_name((enum cairn_export_format)f);
        const char *cl[] = {coll};
        struct cairn_export_opts o = {.format = (enum cairn_export_format)f,
                                      .collections = cl,
                                      .n_collections = 1,
                                      .once = true};
        struct cairn_export *ex = NULL;
        struct cairn_export_stats st;
        struct cairn_export_file file;
        struct tm2 rd, wr, rd2, wr2, rd3, wr3;

        /* full: cairn export */
        if (cairn_export_new(&o, &ex, NULL) != 0)
            goto out;
        rc = export_once(ex, s, path, &rd, &wr, &file, &st);
        cairn_export_free(ex);
        ex = NULL;
        if (file.fd >= 0)
            close(file.fd);
        if (rc != 0) {
            fprintf(stderr, "%s: cannot export: %s\n", name,
                    cairn_strerror(rc));
            goto out;
        }
        size_t len = file.len;
        /* first and rewrite: a server's */
        o.once = false;
        if (cairn_export_new(&o, &ex, NULL) != 0)
            goto out;
        rc = export_once(ex, s, path, &rd2, &wr2, &file, &st);
        if (file.fd >= 0)
            close(file.fd);
        if (rc == 0)
            rc = put_one(s, coll, extra++);
        if (rc == 0)
            rc = export_once(ex, s, path, &rd3, &wr3, &file, &st);
        if (file.fd >= 0)
            close(file.fd);
        cairn_export_free(ex);
        if (rc != 0) {
            fprintf(stderr, "%s: cannot export: %s\n", name,
                    cairn_strerror(rc));
            goto out;
        }
        rc = 1;
        printf("%-10s full  %7.3f s [%6.3f] (read %6.3f, write %6.3f) "
               "%5.1fx baseline; %7.1f MB, %zu entries\n",
               name, rd.cpu + wr.cpu, rd.wall + wr.wall, rd.cpu, wr.cpu,
               (rd.cpu + wr.cpu) / base.cpu, (double)len / 1e6, st.entries);
        printf("%-10s first %7.3f s [%6.3f] (read %6.3f, write %6.3f) "
               "%5.1fx baseline\n",
               name, rd2.cpu + wr2.cpu, rd2.wall + wr2.wall, rd2.cpu, wr2.cpu,
               (rd2.cpu + wr2.cpu) / base.cpu);
        printf("%-10s rewrite after one new %7.3f s [%6.3f] (read %6.3f, "
               "write %6.3f) %5.1fx baseline\n",
               name, rd3.cpu + wr3.cpu, rd3.wall + wr3.wall, rd3.cpu, wr3.cpu,
               (rd3.cpu + wr3.cpu) / base.cpu);
        fflush(stdout);
    }
    printf("(the whole run took %.1f s of wall time)\n",
           bench_wall_s() - wall0);
    rc = 0;
out:
    cairn_store_close(s);
    unlink(path);
    if (getenv("BENCH_EXPORT_KEEP") != NULL && rows > 0)
        printf("store kept: %s collection %s\n", db, coll);
    else
        unlink(db);
    free(objs.text);
    free(objs.off);
    cairn_buf_release(&list);
    cairn_buf_release(&out);
    return rc;
}
