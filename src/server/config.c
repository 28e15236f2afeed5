/* SPDX-License-Identifier: Apache-2.0 */
/* The server's INI configuration file, read with inih. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
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

#define HUNT_COLLECTIONS_MAX 64
#define WATCH_MAX            256

/* Append `item` (taken) to the list; CAIRN_ENOMEM (and `item` freed). */
static int list_take(char ***list, size_t *n, char *item)
{
    char **l = cairn_realloc(*list, (*n + 1) * sizeof *l);
    if (l == NULL) {
        cairn_free(item);
        return CAIRN_ENOMEM;
    }
    l[(*n)++] = item;
    *list = l;
    return 0;
}

/* "indicators = ID [ID...]" (blanks or commas between); adds up over lines. */
static int hunt_collections(struct cairn_ini *ini, struct cairn_server_ini *cfg,
                            const char *value)
{
    const char *p = value;
    size_t added = 0;

    for (;;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, " \t,");
        if (len == 0)
            break;
        if (len >= CAIRN_UUID_STRLEN ||
            !cairn_uuid_check(p, len, false, NULL))
            return cairn_ini_fail(ini,
                                  "[hunt] indicators: '%.*s' is not a "
                                  "collection id ('cairn collection list' "
                                  "shows them)",
                                  (int)(len > 64 ? 64 : len), p);
        for (size_t i = 0; i < cfg->n_hunt_indicators; i++)
            if (strncmp(cfg->hunt_indicators[i], p, len) == 0 &&
                cfg->hunt_indicators[i][len] == '\0')
                return cairn_ini_fail(ini,
                                      "[hunt] indicators: %.*s is named twice",
                                      (int)len, p);
        if (cfg->n_hunt_indicators >= HUNT_COLLECTIONS_MAX)
            return cairn_ini_fail(ini,
                                  "[hunt] indicators: more than %d "
                                  "collections",
                                  HUNT_COLLECTIONS_MAX);
        char *id = cairn_strndup(p, len);
        if (id == NULL ||
            list_take(&cfg->hunt_indicators, &cfg->n_hunt_indicators, id) < 0)
            return CAIRN_ENOMEM;
        added++;
        p += len;
    }
    if (added == 0)
        return cairn_ini_fail(ini, "[hunt] indicators is empty");
    return 0;
}

/* An age: a whole number with s, m, h, d or w (seconds without one). */
static int parse_age(const char *v, uint64_t *out)
{
    static const struct {
        char unit;
        uint64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400},
                 {'w', 7 * 86400}};
    char *end = NULL;
    uint64_t mul = 1;

    if (v[0] < '0' || v[0] > '9')
        return -1;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        return -1;
    if (*end != '\0') {
        size_t i = 0;
        while (i < 5 && units[i].unit != *end)
            i++;
        if (i == 5 || end[1] != '\0')
            return -1;
        mul = units[i].seconds;
    }
    /* 0 is not an age; past a thousand years is a mistake. */
    if (n == 0 || n > 1000ULL * 366 * 86400 / mul)
        return -1;
    *out = n * mul;
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
        if (strcmp(name, "sign") == 0)
            return 0; /* the signing key: cairn_peers_load, signer */
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
    } else if (strcmp(section, "console") == 0) {
        if (strcmp(name, "enabled") == 0) {
            if (cfg->console_enabled >= 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_bool(value, &cfg->console_enabled) < 0)
                return cairn_ini_fail(
                    ini, "enabled: '%s' is not yes or no", value);
            return 0;
        }
    } else if (strcmp(section, "analysis") == 0) {
        if (strcmp(name, "warninglists") == 0)
            return cairn_ini_string(ini, &cfg->warninglists, section, name,
                                    value, true);
        if (strcmp(name, "default_confidence") == 0) {
            char *end = NULL;
            long v = strtol(value, &end, 10);
            if (end == value || *end != '\0' || v < 1 || v > 100)
                return cairn_ini_fail(ini,
                                      "default_confidence: '%.64s' is not "
                                      "1..100",
                                      value);
            cfg->default_confidence = (int)v;
            return 0;
        }
        if (strcmp(name, "source_confidence") == 0 ||
            strcmp(name, "decay") == 0) {
            bool src = name[0] == 's';
            struct cairn_score_opts so = {0};
            char why[200];
            int rc = cairn_score_opts_parse(&so, src ? value : NULL,
                                            src ? NULL : value, why,
                                            sizeof why);
            cairn_score_opts_clear(&so);
            if (rc == CAIRN_EINVAL)
                return cairn_ini_fail(ini, "%s", why);
            if (rc < 0)
                return rc;
            return cairn_ini_string(ini,
                                    src ? &cfg->source_confidence : &cfg->decay,
                                    section, name, value, false);
        }
    } else if (strcmp(section, "hunt") == 0) {
        if (strcmp(name, "indicators") == 0)
            return hunt_collections(ini, cfg, value);
        if (strcmp(name, "sightings") == 0) {
            if (!cairn_uuid_check(value, strlen(value), false, NULL))
                return cairn_ini_fail(ini,
                                      "[hunt] sightings: '%.64s' is not a "
                                      "collection id ('cairn collection "
                                      "list' shows them)",
                                      value);
            return cairn_ini_string(ini, &cfg->hunt_sightings, section, name,
                                    value, false);
        }
        if (strcmp(name, "org") == 0) {
            if (strlen(value) > 256)
                return cairn_ini_fail(ini,
                                      "[hunt] org: longer than 256 bytes");
            return cairn_ini_string(ini, &cfg->hunt_org, section, name, value,
                                    false);
        }
    } else if (strcmp(section, "archive") == 0) {
        if (strcmp(name, "dir") == 0)
            return cairn_ini_string(ini, &cfg->archive_dir, section, name,
                                    value, true);
        if (strcmp(name, "watch") == 0) {
            char *path = NULL;
            if (cfg->n_archive_watch >= WATCH_MAX)
                return cairn_ini_fail(ini,
                                      "[archive] watch: more than %d files",
                                      WATCH_MAX);
            int rc = cairn_ini_string(ini, &path, section, name, value, true);
            if (rc < 0)
                return rc;
            for (size_t i = 0; i < cfg->n_archive_watch; i++) {
                if (strcmp(cfg->archive_watch[i], path) == 0) {
                    cairn_free(path);
                    return cairn_ini_fail(ini,
                                          "[archive] watch: %.200s is named "
                                          "twice",
                                          value);
                }
            }
            return list_take(&cfg->archive_watch, &cfg->n_archive_watch, path);
        }
        if (strcmp(name, "keep") == 0) {
            if (cfg->archive_keep != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_age(value, &cfg->archive_keep) < 0)
                return cairn_ini_fail(ini,
                                      "[archive] keep: '%.64s' is not an age "
                                      "such as 90d, 12w or 3600 (seconds)",
                                      value);
            return 0;
        }
        if (strcmp(name, "max_size") == 0) {
            if (cfg->archive_max_size != 0)
                return cairn_ini_fail(ini, "[%s] %s is given twice", section,
                                      name);
            if (parse_size(value, 1ULL << 50, &n) < 0)
                return cairn_ini_fail(ini,
                                      "[archive] max_size: '%.64s' is not a "
                                      "size such as 500M or 200G",
                                      value);
            cfg->archive_max_size = n;
            return 0;
        }
    } else if (strncmp(section, "export ", 7) == 0) {
        return 0; /* [export NAME]: read by cairn_export_defs_load */
    } else if (strncmp(section, "peer ", 5) == 0 ||
               strncmp(section, "collection ", 11) == 0) {
        /* [peer NAME], [collection ID]: read by cairn_peers_load. */
        return 0;
    } else {
        if (section[0] == '\0')
            return cairn_ini_fail(ini,
                                  "'%s' is outside a section; put it under "
                                  "[server], [taxii], [store], [hunt], "
                                  "[archive], [analysis], [console], "
                                  "[peer NAME], [collection ID] or "
                                  "[export NAME]",
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
    out->console_enabled = -1;
    int rc = cairn_ini_parse(&ini, path, on_entry, out, diag);
    if (rc == 0 && (out->tls_cert == NULL) != (out->tls_key == NULL)) {
        ini.line = 0; /* the file as a whole */
        rc = cairn_ini_fail(&ini,
                            "tls_cert and tls_key go together; %s is missing",
                            out->tls_cert == NULL ? "tls_cert" : "tls_key");
    }
    if (rc == 0 && out->n_hunt_indicators == 0 &&
        (out->hunt_sightings != NULL || out->hunt_org != NULL)) {
        ini.line = 0;
        rc = cairn_ini_fail(&ini, "[hunt] needs indicators = COLLECTION... "
                                  "(the collections whose indicators this "
                                  "node hunts)");
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
    for (size_t i = 0; i < ini->n_hunt_indicators; i++)
        cairn_free(ini->hunt_indicators[i]);
    cairn_free(ini->hunt_indicators);
    cairn_free(ini->hunt_sightings);
    cairn_free(ini->hunt_org);
    cairn_free(ini->archive_dir);
    for (size_t i = 0; i < ini->n_archive_watch; i++)
        cairn_free(ini->archive_watch[i]);
    cairn_free(ini->archive_watch);
    cairn_free(ini->warninglists);
    cairn_free(ini->source_confidence);
    cairn_free(ini->decay);
    if (ini->store_url != NULL)
        explicit_bzero(ini->store_url, strlen(ini->store_url));
    cairn_free(ini->store_url);
    memset(ini, 0, sizeof *ini);
    ini->insecure = -1;
    ini->console_enabled = -1;
}
