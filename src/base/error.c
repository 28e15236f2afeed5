/* SPDX-License-Identifier: Apache-2.0 */
/* Error texts and the diagnostics record. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/error.h"

const char *cairn_strerror(int code)
{
    switch (code) {
    case CAIRN_OK:
        return "success";
    case CAIRN_EINTERNAL:
        return "internal error";
    case CAIRN_ENOMEM:
        return "out of memory";
    case CAIRN_EINVAL:
        return "invalid argument";
    case CAIRN_ETOOBIG:
        return "size limit reached";
    case CAIRN_EIO:
        return "input/output error";
    case CAIRN_ENOTFOUND:
        return "not found";
    case CAIRN_EEXIST:
        return "already exists";
    case CAIRN_EPARSE:
        return "malformed input";
    case CAIRN_EINVALID:
        return "invalid content";
    case CAIRN_EPERM:
        return "permission denied";
    case CAIRN_EUNSUPPORTED:
        return "not supported";
    case CAIRN_EBUSY:
        return "busy: other writers held the store too long";
    }
    return "unknown error";
}

void cairn_diag_clear(struct cairn_diag *diag)
{
    if (diag != NULL)
        memset(diag, 0, sizeof *diag);
}

void cairn_diag_set(struct cairn_diag *diag, enum cairn_severity sev,
                    const char *rule, const char *fmt, ...)
{
    if (diag == NULL)
        return;
    diag->severity = sev;
    snprintf(diag->rule, sizeof diag->rule, "%s", rule ? rule : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
}

int cairn_diag_format(const struct cairn_diag *d, char *buf, size_t len)
{
    const char *sev = d->severity == CAIRN_SEV_WARNING ? "warning" : "error";
    const char *file = d->file[0] ? d->file : "-";
    char where[64] = "";
    char id[sizeof d->object_id + 2] = "";
    char path[sizeof d->path + 2] = "";
    char rule[sizeof d->rule + 3] = "";

    if (d->line > 0)
        snprintf(where, sizeof where, ":%u:%u", d->line, d->column);
    if (d->object_id[0])
        snprintf(id, sizeof id, " %s:", d->object_id);
    if (d->path[0])
        snprintf(path, sizeof path, " %s:", d->path);
    if (d->rule[0])
        snprintf(rule, sizeof rule, " [%s]", d->rule);
    return snprintf(buf, len, "%s%s:%s%s %s: %s%s", file, where, id, path, sev,
                    d->message, rule);
}
