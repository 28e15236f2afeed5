/* SPDX-License-Identifier: Apache-2.0 */
/* The server's INI configuration file, read with inih. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/base.h"
#include "cairn/server.h"
#include "cairn/store.h"

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

/* A whole number from `min` to `max`, given once. */
static int parse_count(struct cairn_ini *ini, const char *section,
                       const char *name, const char *value, unsigned min,
                       unsigned max, unsigned *out)
{
    unsigned long long n;

    if (*out != 0)
        return cairn_ini_fail(ini, "[%s] %s is given twice", section, name);
    if (strspn(value, "0123456789") != strlen(value) ||
        parse_size(value, max, &n) < 0 || n < min)
        return cairn_ini_fail(ini, "%s: '%s' is not a number from %u to %u",
                              name, value, min, max);
    *out = (unsigned)n;
    return 0;
}

static int on_entry(struct cairn_ini *ini, const char *section,
                    const char *name, const char *value, void *ud)
{
    struct cairn_server_ini *cfg = ud;
    unsigned long long n;

    if (strcmp(section, "server") == 0) {
        if (strcmp(name, "listen") == 0)
            return cairn_ini_string(ini, &cfg->listen, section, name, value,
                                    false);
        if (strcmp(name, "data") == 0)
            return cairn_ini_string(ini, &cfg->data, section, name, value,
                                    !cairn_store_url_is_postgres(value));
        if (strcmp(name, "tls_cert") == 0)
            return cairn_ini_string(ini, &cfg->tls_cert, section, name, value,
                                    true);
        if (strcmp(name, "tls_key") == 0)
            return cairn_ini_string(ini, &cfg->tls_key, section, name, value,
                                    true);
        if (strcmp(name, "log") == 0)
            return cairn_ini_string(ini, &cfg->log, section, name, value, true);
        if (strcmp(name, "public_url") == 0)
            return cairn_ini_string(ini, &cfg->public_url, section, name, value,
                                    false);
        if (strcmp(name, "insecure") == 0) {
            if (cfg->insecure >= 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_bool(value, &cfg->insecure) < 0)
                return cairn_ini_fail(
                    ini, "insecure: '%s' is not true or false", value);
            return 0;
        }
        if (strcmp(name, "threads") == 0) {
            if (cfg->threads != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (value[0] < '0' || value[0] > '9' ||
                parse_size(value, 1024, &n) < 0 ||
                strspn(value, "0123456789") != strlen(value))
                return cairn_ini_fail(
                    ini, "threads: '%s' is not a number from 1 to 1024", value);
            cfg->threads = (unsigned)n;
            return 0;
        }
        if (strcmp(name, "connection_limit") == 0)
            return parse_count(ini, section, name, value, 1, 1000000,
                               &cfg->connection_limit);
        if (strcmp(name, "per_address_limit") == 0) {
            /* 0 is "no limit" here: behind a proxy every client has the
             * proxy's address. */
            if (strcmp(value, "0") == 0 && cfg->per_address_limit == 0) {
                cfg->per_address_limit = CAIRN_SERVER_NO_LIMIT;
                return 0;
            }
            return parse_count(ini, section, name, value, 1, 1000000,
                               &cfg->per_address_limit);
        }
        if (strcmp(name, "header_timeout") == 0)
            return parse_count(ini, section, name, value, 1, 3600,
                               &cfg->header_timeout);
        if (strcmp(name, "body_timeout") == 0)
            return parse_count(ini, section, name, value, 1, 86400,
                               &cfg->body_timeout);
        if (strcmp(name, "body_budget") == 0) {
            if (cfg->body_budget != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_size(value, (unsigned long long)SIZE_MAX >> 1, &n) < 0)
                return cairn_ini_fail(ini,
                                      "body_budget: '%s' is not a size such "
                                      "as 512M or 2G",
                                      value);
            cfg->body_budget = (size_t)n;
            return 0;
        }
    } else if (strcmp(section, "taxii") == 0) {
        if (strcmp(name, "title") == 0)
            return cairn_ini_string(ini, &cfg->title, section, name, value,
                                    false);
        if (strcmp(name, "description") == 0)
            return cairn_ini_string(ini, &cfg->description, section, name,
                                    value, false);
        if (strcmp(name, "contact") == 0)
            return cairn_ini_string(ini, &cfg->contact, section, name, value,
                                    false);
        if (strcmp(name, "default_api_root") == 0)
            return cairn_ini_string(ini, &cfg->default_api_root, section, name,
                                    value, false);
        if (strcmp(name, "max_content_length") == 0) {
            if (cfg->max_content_length != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_size(value, (unsigned long long)SIZE_MAX >> 1, &n) < 0)
                return cairn_ini_fail(
                    ini,
                    "max_content_length: '%s' is not a size such "
                    "as 1000, 512K or 100M",
                    value);
            cfg->max_content_length = (size_t)n;
            return 0;
        }
        if (strcmp(name, "page_bytes") == 0) {
            if (cfg->page_bytes != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_size(value, (unsigned long long)128 << 20, &n) < 0 ||
                n < 65536)
                return cairn_ini_fail(ini,
                                      "page_bytes: '%s' is not a size from "
                                      "64K to 128M",
                                      value);
            cfg->page_bytes = (size_t)n;
            return 0;
        }
        if (strcmp(name, "credential_cache_seconds") == 0) {
            if (cfg->credential_cache_seconds != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            /* 0 would read as "the default" further on: the cache cannot
             * be turned off, only shortened to a second. */
            if (parse_size(value, CAIRN_SERVER_CRED_CACHE_MAX, &n) < 0 ||
                strspn(value, "0123456789") != strlen(value))
                return cairn_ini_fail(
                    ini,
                    "credential_cache_seconds: '%s' is not a number "
                    "of seconds from 1 to %u",
                    value, (unsigned)CAIRN_SERVER_CRED_CACHE_MAX);
            cfg->credential_cache_seconds = (unsigned)n;
            return 0;
        }
    } else if (strcmp(section, "store") == 0) {
        if (strcmp(name, "url") == 0) {
            if (!cairn_store_url_is_postgres(value))
                return cairn_ini_fail(ini,
                                      "[store] url: not a postgresql:// URL "
                                      "(a SQLite store is [server] data)");
            return cairn_ini_string(ini, &cfg->store_url, section, name,
                                    value, false);
        }
    } else if (strncmp(section, "peer ", 5) == 0) {
        return 0; /* [peer NAME]: read by cairn_peers_load (src/taxii) */
    } else {
        if (section[0] == '\0')
            return cairn_ini_fail(ini,
                                  "'%s' is outside a section; put it under "
                                  "[server], [taxii] or [peer NAME]",
                                  name);
        return cairn_ini_fail(ini, "unknown section [%s]", section);
    }
    return cairn_ini_fail(ini, "unknown key '%s' in section [%s]", name,
                          section);
}

int cairn_server_ini_load(const char *path, struct cairn_server_ini *out,
                          struct cairn_diag *diag)
{
    struct cairn_ini ini;

    memset(out, 0, sizeof *out);
    out->insecure = -1;
    int rc = cairn_ini_parse(&ini, path, on_entry, out, diag);
    if (rc == 0 && (out->tls_cert == NULL) != (out->tls_key == NULL)) {
        ini.line = 0; /* the file as a whole */
        rc = cairn_ini_fail(&ini,
                            "tls_cert and tls_key go together; %s is missing",
                            out->tls_cert == NULL ? "tls_cert" : "tls_key");
    }
    if (rc == 0 && out->store_url != NULL && out->data != NULL) {
        ini.line = 0;
        rc = cairn_ini_fail(&ini, "[store] url and [server] data both name "
                                  "the store; keep one");
    }
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
    if (ini->store_url != NULL)
        explicit_bzero(ini->store_url, strlen(ini->store_url));
    cairn_free(ini->store_url);
    memset(ini, 0, sizeof *ini);
    ini->insecure = -1;
}
