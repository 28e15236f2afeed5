/* SPDX-License-Identifier: Apache-2.0 */
/* INI files read with inih: line numbers, first error, relative paths. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "cairn/base.h"

/* What inih's reader and handler both see. */
struct reader {
    struct cairn_ini *ini;
    FILE *f;
    cairn_ini_cb cb;
    void *ud;
};

/* inih reads through this so that errors can name their line. */
static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    struct cairn_ini *ini = r->ini;

    if (fgets(str, num, r->f) == NULL)
        return NULL;
    ini->line++;
    size_t n = strlen(str);
    /* inih's buffer is small (200 bytes): say so rather than split. */
    if (n > 0 && str[n - 1] != '\n' && !feof(r->f) && ini->long_line == 0) {
        ini->long_line = ini->line;
        ini->max_line = num - 2;
    }
    /*
     * Leading blanks are dropped: inih would read an indented line as the
     * continuation of the key before it, so keys indented under their
     * section would merge into one ("given twice"); here they are keys.
     */
    size_t lead = strspn(str, " \t");
    if (lead > 0)
        memmove(str, str + lead, n - lead + 1);
    /* inih does not say when a section starts; a reader may need to tell
     * two [a] sections in a row from one. */
    if (str[0] == '[')
        ini->section_line = ini->line;
    return str;
}

static int fail_long_line(struct cairn_ini *ini)
{
    ini->line = ini->long_line;
    return cairn_ini_fail(ini, "line longer than %d bytes", ini->max_line);
}

/* Returns inih's 1 (go on) or 0 (this line failed). */
static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct reader *r = user;
    struct cairn_ini *ini = r->ini;

    if (ini->rc != 0)
        return 0;
    if (ini->long_line != 0) {
        fail_long_line(ini);
        return 0;
    }
    int rc = r->cb(ini, section, name, value, r->ud);
    if (rc < 0 && ini->rc == 0)
        ini->rc = rc;
    return rc < 0 ? 0 : 1;
}

int cairn_ini_parse(struct cairn_ini *ini, const char *path, cairn_ini_cb cb,
                    void *ud, struct cairn_diag *diag)
{
    struct reader r = {.ini = ini, .cb = cb, .ud = ud};
    const char *slash = strrchr(path, '/');

    *ini = (struct cairn_ini){
        .path = path,
        .dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0,
        .diag = diag,
    };
    r.f = fopen(path, "re");
    if (r.f == NULL) {
        if (diag != NULL) {
            cairn_diag_clear(diag);
            snprintf(diag->file, sizeof diag->file, "%s", path);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "%s",
                           strerror(errno));
        }
        ini->rc = CAIRN_EIO;
        return ini->rc;
    }
    int line = ini_parse_stream(read_line, &r, on_entry, &r);
    fclose(r.f);
    /* A long line no entry came after: no callback has seen it yet. */
    if (ini->rc == 0 && ini->long_line != 0)
        fail_long_line(ini);
    if (ini->rc == 0 && line != 0) {
        /* A line inih could not read as "[section]" or "key = value". */
        ini->line = line > 0 ? (unsigned)line : 0;
        cairn_ini_fail(ini, "expected [section] or key = value");
        if (line == -2)
            ini->rc = CAIRN_ENOMEM;
    }
    return ini->rc;
}

int cairn_ini_fail(struct cairn_ini *ini, const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    if (ini->rc != 0)
        return CAIRN_EINVAL;
    ini->rc = CAIRN_EINVAL;
    if (ini->diag == NULL)
        return CAIRN_EINVAL;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_clear(ini->diag);
    snprintf(ini->diag->file, sizeof ini->diag->file, "%s", ini->path);
    ini->diag->line = ini->line;
    cairn_diag_set(ini->diag, CAIRN_SEV_ERROR, "config", "%s", msg);
    return CAIRN_EINVAL;
}

int cairn_ini_path(const struct cairn_ini *ini, const char *value, char **out)
{
    if (value[0] != '/' && ini->dir_len > 0) {
        size_t len = ini->dir_len + strlen(value) + 1;
        *out = cairn_malloc(len);
        if (*out == NULL)
            return CAIRN_ENOMEM;
        snprintf(*out, len, "%.*s%s", (int)ini->dir_len, ini->path, value);
        return 0;
    }
    *out = cairn_strdup(value);
    return *out != NULL ? 0 : CAIRN_ENOMEM;
}

int cairn_ini_string(struct cairn_ini *ini, char **slot, const char *section,
                     const char *name, const char *value, bool is_path)
{
    if (*slot != NULL)
        return cairn_ini_fail(ini, "[%s] %s is given twice", section, name);
    if (value[0] == '\0')
        return cairn_ini_fail(ini, "[%s] %s is empty", section, name);
    if (strlen(value) > CAIRN_INI_VALUE_MAX)
        return cairn_ini_fail(ini, "[%s] %s is too long", section, name);
    if (is_path)
        return cairn_ini_path(ini, value, slot);
    *slot = cairn_strdup(value);
    return *slot != NULL ? 0 : CAIRN_ENOMEM;
}
