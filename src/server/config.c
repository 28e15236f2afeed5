/* SPDX-License-Identifier: Apache-2.0 */
/* The server's INI configuration file, read with inih. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "cairn/base.h"
#include "cairn/server.h"

#define VALUE_MAX_LEN 1024

struct loader {
    FILE *f;
    unsigned line; /* of the line inih is looking at */
    const char *path;
    size_t dir_len; /* of the file's directory, with its '/'; 0: none */
    struct cairn_server_ini *ini;
    struct cairn_diag *diag;
    int rc;             /* first error */
    int max_line;       /* inih's line buffer, less newline and NUL */
    unsigned long_line; /* first line longer than that, or 0 */
};

/* inih reads through this so that the handler knows the line number. */
static char *read_line(char *str, int num, void *stream)
{
    struct loader *ld = stream;

    if (fgets(str, num, ld->f) == NULL)
        return NULL;
    ld->line++;
    size_t n = strlen(str);
    /* inih's buffer is small (200 bytes): say so rather than split. */
    if (n > 0 && str[n - 1] != '\n' && !feof(ld->f) && ld->long_line == 0) {
        ld->long_line = ld->line;
        ld->max_line = num - 2;
    }
    return str;
}

static int fail(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first error; returns 0, which tells inih the line failed. */
static int fail(struct loader *ld, const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    if (ld->rc != 0)
        return 0;
    ld->rc = CAIRN_EINVAL;
    if (ld->diag == NULL)
        return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cairn_diag_clear(ld->diag);
    snprintf(ld->diag->file, sizeof ld->diag->file, "%s", ld->path);
    ld->diag->line = ld->line;
    cairn_diag_set(ld->diag, CAIRN_SEV_ERROR, "config", "%s", msg);
    return 0;
}

static int set_string(struct loader *ld, char **slot, const char *section,
                      const char *name, const char *value, bool is_path)
{
    if (*slot != NULL)
        return fail(ld, "[%s] %s is given twice", section, name);
    if (value[0] == '\0')
        return fail(ld, "[%s] %s is empty", section, name);
    if (strlen(value) > VALUE_MAX_LEN)
        return fail(ld, "[%s] %s is too long", section, name);
    if (is_path && value[0] != '/' && ld->dir_len > 0) {
        size_t len = ld->dir_len + strlen(value) + 1;
        char *p = cairn_malloc(len);
        if (p == NULL)
            goto nomem;
        snprintf(p, len, "%.*s%s", (int)ld->dir_len, ld->path, value);
        *slot = p;
        return 1;
    }
    *slot = cairn_strdup(value);
    if (*slot == NULL)
        goto nomem;
    return 1;
nomem:
    if (ld->rc == 0)
        ld->rc = CAIRN_ENOMEM;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Decimal with an optional K, M or G (powers of 1024); > 0. */
static int parse_size(const char *v, unsigned long long max,
                      unsigned long long *out)
{
    char *end = NULL;
    unsigned shift = 0;

    if (v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        return -1;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift > 0)
        end++;
    if (*end != '\0' || n == 0 || n > (max >> shift))
        return -1;
    *out = n << shift;
    return 0;
}

static int on_entry(void *user, const char *section, const char *name,
                    const char *value)
{
    struct loader *ld = user;
    struct cairn_server_ini *ini = ld->ini;
    unsigned long long n;

    if (ld->long_line != 0) {
        ld->line = ld->long_line;
        return fail(ld, "line longer than %d bytes", ld->max_line);
    }
    if (strcmp(section, "server") == 0) {
        if (strcmp(name, "listen") == 0)
            return set_string(ld, &ini->listen, section, name, value, false);
        if (strcmp(name, "data") == 0)
            return set_string(ld, &ini->data, section, name, value, true);
        if (strcmp(name, "tls_cert") == 0)
            return set_string(ld, &ini->tls_cert, section, name, value, true);
        if (strcmp(name, "tls_key") == 0)
            return set_string(ld, &ini->tls_key, section, name, value, true);
        if (strcmp(name, "log") == 0)
            return set_string(ld, &ini->log, section, name, value, true);
        if (strcmp(name, "public_url") == 0)
            return set_string(ld, &ini->public_url, section, name, value,
                              false);
        if (strcmp(name, "insecure") == 0) {
            if (ini->insecure >= 0)
                return fail(ld, "[%s] %s is given twice", section, name);
            if (parse_bool(value, &ini->insecure) < 0)
                return fail(ld, "insecure: '%s' is not true or false", value);
            return 1;
        }
        if (strcmp(name, "threads") == 0) {
            if (ini->threads != 0)
                return fail(ld, "[%s] %s is given twice", section, name);
            if (value[0] < '0' || value[0] > '9' ||
                parse_size(value, 1024, &n) < 0 ||
                strspn(value, "0123456789") != strlen(value))
                return fail(ld, "threads: '%s' is not a number from 1 to 1024",
                            value);
            ini->threads = (unsigned)n;
            return 1;
        }
    } else if (strcmp(section, "taxii") == 0) {
        if (strcmp(name, "title") == 0)
            return set_string(ld, &ini->title, section, name, value, false);
        if (strcmp(name, "description") == 0)
            return set_string(ld, &ini->description, section, name, value,
                              false);
        if (strcmp(name, "contact") == 0)
            return set_string(ld, &ini->contact, section, name, value, false);
        if (strcmp(name, "default_api_root") == 0)
            return set_string(ld, &ini->default_api_root, section, name, value,
                              false);
        if (strcmp(name, "max_content_length") == 0) {
            if (ini->max_content_length != 0)
                return fail(ld, "[%s] %s is given twice", section, name);
            if (parse_size(value, (unsigned long long)SIZE_MAX >> 1, &n) < 0)
                return fail(ld,
                            "max_content_length: '%s' is not a size such "
                            "as 1000, 512K or 100M",
                            value);
            ini->max_content_length = (size_t)n;
            return 1;
        }
        if (strcmp(name, "credential_cache_seconds") == 0) {
            if (ini->credential_cache_seconds != 0)
                return fail(ld, "[%s] %s is given twice", section, name);
            /* 0 would read as "the default" further on: the cache cannot
             * be turned off, only shortened to a second. */
            if (parse_size(value, CAIRN_SERVER_CRED_CACHE_MAX, &n) < 0 ||
                strspn(value, "0123456789") != strlen(value))
                return fail(ld,
                            "credential_cache_seconds: '%s' is not a number "
                            "of seconds from 1 to %u",
                            value, (unsigned)CAIRN_SERVER_CRED_CACHE_MAX);
            ini->credential_cache_seconds = (unsigned)n;
            return 1;
        }
    } else if (strncmp(section, "peer ", 5) == 0) {
        return 1; /* [peer NAME]: read by cairn_peers_load (src/taxii) */
    } else {
        if (section[0] == '\0')
            return fail(ld,
                        "'%s' is outside a section; put it under "
                        "[server], [taxii] or [peer NAME]",
                        name);
        return fail(ld, "unknown section [%s]", section);
    }
    return fail(ld, "unknown key '%s' in section [%s]", name, section);
}

int cairn_server_ini_load(const char *path, struct cairn_server_ini *out,
                          struct cairn_diag *diag)
{
    struct loader ld = {
        .path = path,
        .ini = out,
        .diag = diag,
    };
    int rc = CAIRN_EINTERNAL;

    memset(out, 0, sizeof *out);
    out->insecure = -1;
    const char *slash = strrchr(path, '/');
    ld.dir_len = slash != NULL ? (size_t)(slash - path) + 1 : 0;

    ld.f = fopen(path, "re");
    if (ld.f == NULL) {
        if (diag != NULL) {
            cairn_diag_clear(diag);
            snprintf(diag->file, sizeof diag->file, "%s", path);
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "config", "%s",
                           strerror(errno));
        }
        rc = CAIRN_EIO;
        goto out;
    }
    int line = ini_parse_stream(read_line, &ld, on_entry, &ld);
    if (ld.rc == 0 && ld.long_line != 0) {
        ld.line = ld.long_line;
        fail(&ld, "line longer than %d bytes", ld.max_line);
    }
    if (ld.rc != 0) {
        rc = ld.rc;
        goto out;
    }
    if (line != 0) {
        /* A line inih could not read as "[section]" or "key = value". */
        ld.line = line > 0 ? (unsigned)line : 0;
        fail(&ld, "expected [section] or key = value");
        rc = line == -2 ? CAIRN_ENOMEM : CAIRN_EINVAL;
        goto out;
    }
    if ((out->tls_cert == NULL) != (out->tls_key == NULL)) {
        ld.line = 0;
        fail(&ld, "tls_cert and tls_key go together; %s is missing",
             out->tls_cert == NULL ? "tls_cert" : "tls_key");
        rc = CAIRN_EINVAL;
        goto out;
    }
    rc = 0;
out:
    if (ld.f != NULL)
        fclose(ld.f);
    if (rc != 0)
        cairn_server_ini_release(out);
    return rc;
}

void cairn_server_ini_release(struct cairn_server_ini *ini)
{
    if (ini == NULL)
        return;
    cairn_free(ini->listen);
    cairn_free(ini->data);
    cairn_free(ini->tls_cert);
    cairn_free(ini->tls_key);
    cairn_free(ini->log);
    cairn_free(ini->public_url);
    cairn_free(ini->title);
    cairn_free(ini->description);
    cairn_free(ini->contact);
    cairn_free(ini->default_api_root);
    memset(ini, 0, sizeof *ini);
    ini->insecure = -1;
}
