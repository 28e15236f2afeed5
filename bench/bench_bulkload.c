/* SPDX-License-Identifier: Apache-2.0 */
/* Builds a big benchmark store from a bundle, as `cairn import` does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/cairn.h"

/*
 *   bench_bulkload DB COLLECTION BUNDLE [CACHE_MIB [SKIP]]
 *
 * Stores the objects of BUNDLE in COLLECTION of the SQLite store DB
 * through the same ingest session as `cairn import` (validation, the
 * correlation index, sighting summaries, batches of 50,000 written on a
 * thread of their own), with one difference: the store is opened with a
 * page cache of CACHE_MIB (default 4096) instead of 64 MiB, and relaxed
 * sync. At ten million objects the random-keyed B-trees (the index, the
 * versions) outgrow 64 MiB, and `cairn import` then spends its time
 * copying pages between the kernel and SQLite's cache (hundreds of GB
 * read and written for a 6 GB file): a store for bench/lookup.sh at that
 * size takes hours. The store written is the same, so what lookups
 * measure on it is too. SKIP objects at the start of the bundle are left
 * out (those a `cairn import` interrupted has stored already).
 */

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: bench_bulkload DB COLLECTION BUNDLE "
                        "[CACHE_MIB [SKIP]]\n");
        return 2;
    }
    long cache_mib = argc > 4 ? strtol(argv[4], NULL, 10) : 4096;
    long skip = argc > 5 ? strtol(argv[5], NULL, 10) : 0;
    if (cache_mib < 64 || cache_mib > 1 << 20 || skip < 0) {
        fprintf(stderr, "bench_bulkload: CACHE_MIB 64..1048576, SKIP >= 0\n");
        return 2;
    }
    cairn_alloc_init();
    int fd = open(argv[3], O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size == 0) {
        fprintf(stderr, "bench_bulkload: %s: %s\n", argv[3],
                strerror(fd < 0 ? errno : EINVAL));
        return 2;
    }
    const char *data =
        mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    madvise((void *)data, (size_t)sb.st_size, MADV_SEQUENTIAL);

    char url[4200];
    snprintf(url, sizeof url, "sqlite:%s", argv[1]);
    struct cairn_store_opts so = {.relaxed_sync = true,
                                  .cache_kib = (int)(cache_mib * 1024)};
    struct cairn_store *s = NULL;
    struct cairn_ingest *ing = NULL;
    struct cairn_bundle_reader *rd = NULL;
    int rc = cairn_store_open(url, &so, &s);
    struct cairn_ingest_opts io = {
        .collection = argv[2],
        .batch = 50000,
        .background = true,
    };
    if (rc == 0)
        rc = cairn_ingest_new(s, &io, &ing);
    if (rc == 0)
        rc = cairn_bundle_reader_new(data, (size_t)sb.st_size, 0, &rd);
    long n = 0;
    while (rc == 0) {
        struct cairn_diag diag;
        json_t *obj = NULL;
        long index = -1;
        cairn_diag_clear(&diag);
        int r = cairn_bundle_reader_next(rd, &obj, &index, &diag);
        if (r <= 0) {
            rc = r;
            break;
        }
        if (n++ < skip) {
            json_decref(obj);
            continue;
        }
        size_t off = 0, len = 0;
        cairn_bundle_reader_span(rd, &off, &len);
        rc = cairn_ingest_add(ing, obj, data + off, len, NULL, 0);
        json_decref(obj);
        if (n % 1000000 == 0)
            fprintf(stderr, "bench_bulkload: %ld objects read\n", n);
    }
    int frc = ing != NULL ? cairn_ingest_flush(ing) : 0;
    if (rc == 0)
        rc = frc;
    struct cairn_ingest_counts c = {0};
    if (ing != NULL)
        cairn_ingest_counts(ing, &c);
    fprintf(stderr,
            "bench_bulkload: %ld objects read, %zu stored, %zu already "
            "present, %zu invalid, %zu failed: %s\n",
            n, c.stored, c.existed, c.invalid, c.failed,
            rc < 0 ? cairn_strerror(rc) : "ok");
    cairn_bundle_reader_free(rd);
    cairn_ingest_free(ing);
    cairn_store_close(s);
    munmap((void *)data, (size_t)sb.st_size);
    return rc < 0 ? 1 : 0;
}
