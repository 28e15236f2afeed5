/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an archive's journal (its commits, inputs, drops and
 * followed files' positions) read when the archive is opened. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/archive.h"

static char dir[64];

static void cleanup(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/journal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
    struct cairn_archive *a = NULL;
    struct cairn_archive_opts o = {.read_only = true};
    struct cairn_diag diag;

    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/cairn-fuzz-journal-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        atexit(cleanup);
    }
    snprintf(path, sizeof path, "%s/journal", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (size > 0 && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    if (cairn_archive_open(dir, &o, &a, &diag) == 0) {
        struct cairn_archive_stats st;
        (void)cairn_archive_get_stats(a, &st);
        (void)cairn_archive_check(a);
        cairn_archive_free(a);
    }
    return 0;
}
