/* SPDX-License-Identifier: Apache-2.0 */
/* Exports: writing N indicators in every format, and a rewrite after one more.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_values.h"
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
    double wall0 = bench_wall_s(), read_s = 0;
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
    printf(
        "export: %zu indicators, read into %d exports in %.2f s, %.2f s each\n",
        n, CAIRN_EXPORT_FORMAT_COUNT - 1, read_s,
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
           bench_wall_s() - wall0);
    rc = 0;
out:
    unlink(path);
    for (int f = 0; f < CAIRN_EXPORT_FORMAT_COUNT; f++)
        cairn_export_free(ex[f]);
    cairn_buf_release(&list);
    cairn_buf_release(&out);
    return rc;
}
