/* SPDX-License-Identifier: Apache-2.0 */
/* Following growing logs: complete lines appended since the last commit. */
#include <string.h>

#include "archive/archive_priv.h"

int cairn__archive_follow_record(struct cairn_archive *a, const char *key,
                                 uint64_t dev, uint64_t ino, uint64_t pos)
{
    (void)a;
    (void)key;
    (void)dev;
    (void)ino;
    (void)pos;
    return 0;
}

void cairn__archive_follow_forget(struct cairn_archive *a)
{
    (void)a;
}

int cairn_archive_follow_new(struct cairn_archive *a, const char *path,
                             const struct cairn_archive_add_opts *opts,
                             struct cairn_archive_follow **out)
{
    (void)a;
    (void)path;
    (void)opts;
    *out = NULL;
    return CAIRN_EUNSUPPORTED;
}

int cairn_archive_follow_poll(struct cairn_archive_follow *f,
                              struct cairn_archive_add_stats *stats,
                              struct cairn_diag *diag)
{
    (void)f;
    (void)stats;
    (void)diag;
    return CAIRN_EUNSUPPORTED;
}

void cairn_archive_follow_free(struct cairn_archive_follow *f)
{
    (void)f;
}
