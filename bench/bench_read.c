/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry reader throughput alone: MB/s and lines/s over one file. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cairn/telemetry.h"

/*
 * usage: bench_read [--format auto|zeek|json|csv|text] FILE...
 * Reads each file to the end through cairn_telemetry_next(), touching
 * every field, and prints bytes, lines, events, fields and the rates.
 */

static double cpu_time(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--format") == 0) {
        if (cairn_telemetry_format_parse(argv[2], &opts.format) != 0) {
            fprintf(stderr, "bench_read: unknown format %s\n", argv[2]);
            return 2;
        }
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench_read [--format F] FILE...\n");
        return 2;
    }
    int status = 0;
    for (; i < argc; i++) {
        struct cairn_telemetry_reader *r = NULL;
        struct cairn_diag diag;
        double t0 = now(), c0 = cpu_time();
        if (cairn_telemetry_open(argv[i], &opts, &r, &diag) != 0) {
            char msg[600];
            cairn_diag_format(&diag, msg, sizeof msg);
            fprintf(stderr, "%s\n", msg);
            status = 2;
            continue;
        }
        struct cairn_hunt_event ev;
        uint64_t fields = 0, value_bytes = 0;
        int rc;
        while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1) {
            fields += ev.n_fields;
            for (size_t k = 0; k < ev.n_fields; k++)
                value_bytes += ev.fields[k].len;
        }
        double dt = now() - t0, ct = cpu_time() - c0;
        if (rc < 0) {
            char msg[600];
            cairn_diag_format(&diag, msg, sizeof msg);
            fprintf(stderr, "%s\n", msg);
            status = 2;
        }
        struct cairn_telemetry_stats st;
        cairn_telemetry_get_stats(r, &st);
        printf(
            "%s: format %s, %" PRIu64 " bytes, %" PRIu64 " lines, %" PRIu64
            " events, %" PRIu64 " fields (%" PRIu64 " value bytes), %" PRIu64
            " malformed\n",
            argv[i], cairn_telemetry_format_name(cairn_telemetry_format_of(r)),
            st.bytes, st.lines, st.events, fields, value_bytes, st.malformed);
        printf("%s: %.3f s wall, %.1f MB/s, %.2f M lines/s\n", argv[i], dt,
               (double)st.bytes / 1e6 / dt, (double)st.lines / 1e6 / dt);
        printf("%s: %.3f s CPU, %.1f MB/s, %.2f M lines/s per core\n", argv[i],
               ct, (double)st.bytes / 1e6 / ct, (double)st.lines / 1e6 / ct);
        cairn_telemetry_free(r);
    }
    return status;
}
