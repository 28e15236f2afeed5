/* SPDX-License-Identifier: Apache-2.0 */
/* --warninglists: the known false positives a command reports or skips. */
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"
#include "cairn/cairn.h"
#include "cli.h"

static void on_err(void *ud, const char *file, const char *where,
                   const char *msg)
{
    const struct cli_command *cmd = ud;
    char line[1200];
    if (where[0] != '\0')
        snprintf(line, sizeof line, "cairn %s: %s: %s: warning: %s",
                 cmd->name, file, where, msg);
    else
        snprintf(line, sizeof line, "cairn %s: %s: warning: %s", cmd->name,
                 file, msg);
    fflush(stdout);
    fprintf(stderr, "%s\n", line);
}

int cli_warninglists_load(const struct cli_command *cmd, const char *path,
                          struct cairn_warninglists **out)
{
    *out = NULL;
    if (path == NULL)
        path = getenv("CAIRN_WARNINGLISTS");
    if (path == NULL || path[0] == '\0')
        return 0;
    struct cairn_warninglists *w = NULL;
    int rc = cairn_warninglists_new(&w);
    if (rc < 0) {
        cli_error(cmd, "%s", cairn_strerror(rc));
        return -1;
    }
    rc = cairn_warninglists_load(w, path, on_err, (void *)cmd, NULL);
    if (rc == CAIRN_ENOMEM ||
        (rc == CAIRN_EIO && cairn_warninglists_count(w) == 0)) {
        cli_error(cmd, "--warninglists %s: %s", path, cairn_strerror(rc));
        cairn_warninglists_free(w);
        return -1;
    }
    *out = w;
    return 0;
}
