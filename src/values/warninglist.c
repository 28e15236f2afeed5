/* SPDX-License-Identifier: Apache-2.0 */
/* Warninglists: MISP's list.json files of known false positives. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "values_int.h"

enum wl_type {
    WL_STRING,
    WL_SUBSTRING,
    WL_HOSTNAME,
    WL_CIDR,
    WL_REGEX,
};

struct wl_cidr {
    int family;
    uint8_t addr[16];
    unsigned prefix;
};

struct wl_list {
    char *name;
    char *file;
    enum wl_type type;
    uint32_t types; /* bit per enum cairn_ioc_type it applies to; 0: all */
    char **entries; /* lower case (string, substring, hostname) */
    size_t n;
    struct wl_cidr *cidrs;
    pcre2_code **res;
};

struct cairn_warninglists {
    struct wl_list *v;
    size_t n, alloc;
    pcre2_match_context *mctx; /* the regex lists' bounds */
};

/* Longest list.json read, and longest entry kept. */
#define WL_FILE_MAX  (64u << 20)
#define WL_ENTRY_MAX 2048

/* A regex's match stops (no match) past these: a list from elsewhere must
 * not stall a hunt with catastrophic backtracking. */
#define WL_RE_MATCH_LIMIT 100000
#define WL_RE_DEPTH_LIMIT 1000

__attribute__((format(printf, 5, 6))) static void
report(cairn_warninglist_err_cb cb, void *ud, const char *file,
       const char *where, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    if (cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cb(ud, file, where, msg);
}

static void list_clear(struct wl_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->entries != NULL)
            cairn_free(l->entries[i]);
        if (l->res != NULL)
            pcre2_code_free(l->res[i]);
    }
    cairn_free(l->entries);
    cairn_free(l->cidrs);
    cairn_free(l->res);
    cairn_free(l->name);
    cairn_free(l->file);
    memset(l, 0, sizeof *l);
}

int cairn_warninglists_new(struct cairn_warninglists **out)
{
    struct cairn_warninglists *w = cairn_calloc(1, sizeof *w);
    *out = NULL;
    if (w == NULL)
        return CAIRN_ENOMEM;
    w->mctx = pcre2_match_context_create(NULL);
    if (w->mctx == NULL) {
        cairn_free(w);
        return CAIRN_ENOMEM;
    }
    pcre2_set_match_limit(w->mctx, WL_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(w->mctx, WL_RE_DEPTH_LIMIT);
    *out = w;
    return 0;
}

void cairn_warninglists_free(struct cairn_warninglists *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n; i++)
        list_clear(&w->v[i]);
    cairn_free(w->v);
    pcre2_match_context_free(w->mctx);
    cairn_free(w);
}

size_t cairn_warninglists_count(const struct cairn_warninglists *w)
{
    return w != NULL ? w->n : 0;
}

/* MISP attribute types to the value types cairn compares. */
static uint32_t attr_types(const char *a)
{
    static const struct {
        const char *name;
        uint32_t bits;
    } map[] = {
        {"domain", 1u << CAIRN_IOC_DOMAIN},
        {"hostname", 1u << CAIRN_IOC_DOMAIN},
        {"hostname|port", 1u << CAIRN_IOC_DOMAIN},
        {"domain|ip",
         1u << CAIRN_IOC_DOMAIN | 1u << CAIRN_IOC_IPV4 | 1u << CAIRN_IOC_IPV6},
        {"ip-src", 1u << CAIRN_IOC_IPV4 | 1u << CAIRN_IOC_IPV6},
        {"ip-dst", 1u << CAIRN_IOC_IPV4 | 1u << CAIRN_IOC_IPV6},
        {"ip-src|port", 1u << CAIRN_IOC_IPV4 | 1u << CAIRN_IOC_IPV6},
        {"ip-dst|port", 1u << CAIRN_IOC_IPV4 | 1u << CAIRN_IOC_IPV6},
        {"url", 1u << CAIRN_IOC_URL},
        {"uri", 1u << CAIRN_IOC_URL},
        {"link", 1u << CAIRN_IOC_URL},
        {"email", 1u << CAIRN_IOC_EMAIL},
        {"email-src", 1u << CAIRN_IOC_EMAIL},
        {"email-dst", 1u << CAIRN_IOC_EMAIL},
        {"md5", 1u << CAIRN_IOC_MD5},
        {"sha1", 1u << CAIRN_IOC_SHA1},
        {"sha256", 1u << CAIRN_IOC_SHA256},
        {"sha512", 1u << CAIRN_IOC_SHA512},
        {"filename", 1u << CAIRN_IOC_FILENAME},
        {"regkey", 1u << CAIRN_IOC_REGKEY},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(a, map[i].name) == 0)
            return map[i].bits;
    return 0;
}

/* "/re/flags" as MISP writes its PCRE: the expression, and caseless for
 * "i". PCRE2, not POSIX: its compiled size is bounded (glibc's regcomp
 * spelled out "a{1000}{1000}" into a million nodes, gigabytes). */
static int compile_re(pcre2_code **re, const char *s, size_t len)
{
    uint32_t flags = 0;
    if (len >= 2 && s[0] == '/') {
        const char *end = s + len;
        while (end > s + 1 && end[-1] != '/')
            end--;
        if (end > s + 1) {
            for (const char *f = end; f < s + len; f++)
                if (*f == 'i')
                    flags |= PCRE2_CASELESS;
            len = (size_t)(end - 1 - (s + 1));
            s++;
        }
    }
    if (memchr(s, '\0', len) != NULL)
        return CAIRN_EINVAL;
    int err;
    PCRE2_SIZE off;
    *re = pcre2_compile((PCRE2_SPTR)s, len, flags, &err, &off, NULL);
    return *re != NULL ? 0 : CAIRN_EINVAL;
}

static int add_entry(struct wl_list *l, const char *s, size_t len)
{
    if (l->type == WL_CIDR) {
        struct wl_cidr *c = &l->cidrs[l->n];
        if (!cairn__hunt_parse_cidr(s, len, &c->family, c->addr, &c->prefix))
            return CAIRN_EINVAL;
        l->n++;
        return 0;
    }
    if (l->type == WL_REGEX) {
        if (compile_re(&l->res[l->n], s, len) != 0)
            return CAIRN_EINVAL;
        l->n++;
        return 0;
    }
    if (l->type == WL_HOSTNAME) {
        while (len > 0 && s[0] == '.') {
            s++;
            len--;
        }
        while (len > 0 && s[len - 1] == '.')
            len--;
    }
    if (len == 0)
        return CAIRN_EINVAL;
    char *e = cairn_malloc(len + 1);
    if (e == NULL)
        return CAIRN_ENOMEM;
    cairn__hunt_lower(s, len, e);
    e[len] = '\0';
    l->entries[l->n++] = e;
    return 0;
}

int cairn_warninglists_add(struct cairn_warninglists *w, const char *text,
                           size_t len, const char *file,
                           cairn_warninglist_err_cb cb, void *ud)
{
    static const char *const type_names[] = {"string", "substring",
                                             "hostname", "cidr", "regex"};
    json_error_t je;
    struct wl_list l = {0};
    char where[64];
    int rc = CAIRN_EINVAL;
    size_t i;
    const json_t *e;

    if (file == NULL)
        file = "-";
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(where, sizeof where, "line %d", je.line);
        report(cb, ud, file, where, "not JSON: %s", je.text);
        return CAIRN_EINVAL;
    }
    const char *name = json_string_value(json_object_get(root, "name"));
    const char *type = json_string_value(json_object_get(root, "type"));
    const json_t *list = json_object_get(root, "list");
    const json_t *attrs = json_object_get(root, "matching_attributes");
    if (!json_is_object(root) || name == NULL || name[0] == '\0') {
        report(cb, ud, file, "name", "a list needs a non-empty \"name\"");
        goto out;
    }
    if (type == NULL)
        type = "string"; /* MISP's default */
    for (i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(type, type_names[i]) == 0)
            break;
    if (i == sizeof type_names / sizeof type_names[0]) {
        report(cb, ud, file, "type",
               "unknown type \"%s\" (string, substring, hostname, cidr or "
               "regex)",
               type);
        goto out;
    }
    l.type = (enum wl_type)i;
    if (!json_is_array(list)) {
        report(cb, ud, file, "list", "\"list\" must be an array of strings");
        goto out;
    }
    if (attrs != NULL && !json_is_array(attrs)) {
        report(cb, ud, file, "matching_attributes",
               "\"matching_attributes\" must be an array of strings");
        goto out;
    }
    json_array_foreach(attrs, i, e)
    {
        if (json_is_string(e))
            l.types |= attr_types(json_string_value(e));
    }
    if (json_array_size(attrs) > 0 && l.types == 0) {
        report(cb, ud, file, "matching_attributes",
               "no attribute type cairn compares (domain, hostname, "
               "ip-src, ip-dst, url, email, md5, sha1, sha256, ...)");
        goto out;
    }
    size_t cap = json_array_size(list);
    l.name = cairn_strndup(name, strlen(name));
    l.file = cairn_strndup(file, strlen(file));
    if (cap > 0) {
        if (l.type == WL_CIDR)
            l.cidrs = cairn_calloc(cap, sizeof *l.cidrs);
        else if (l.type == WL_REGEX)
            l.res = cairn_calloc(cap, sizeof *l.res);
        else
            l.entries = cairn_calloc(cap, sizeof *l.entries);
    }
    if (l.name == NULL || l.file == NULL ||
        (cap > 0 && l.cidrs == NULL && l.res == NULL && l.entries == NULL)) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    json_array_foreach(list, i, e)
    {
        snprintf(where, sizeof where, "list[%zu]", i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            json_string_length(e) > WL_ENTRY_MAX) {
            report(cb, ud, file, where,
                   "an entry must be a string of 1 to 2048 bytes; skipped");
            continue;
        }
        int r = add_entry(&l, json_string_value(e), json_string_length(e));
        if (r == CAIRN_ENOMEM) {
            rc = r;
            goto out;
        }
        if (r < 0)
            report(cb, ud, file, where, "not a valid %s entry; skipped", type);
    }
    if (w->n == w->alloc) {
        size_t na = w->alloc ? w->alloc * 2 : 8;
        struct wl_list *p = cairn_realloc(w->v, na * sizeof *p);
        if (p == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        w->v = p;
        w->alloc = na;
    }
    w->v[w->n++] = l;
    memset(&l, 0, sizeof l);
    rc = 0;
out:
    list_clear(&l);
    json_decref(root);
    return rc;
}

static int load_file(struct cairn_warninglists *w, const char *path,
                     cairn_warninglist_err_cb cb, void *ud)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        report(cb, ud, path, "", "cannot open: %s", strerror(errno));
        return CAIRN_EIO;
    }
    struct cairn_buf b;
    cairn_buf_init(&b, WL_FILE_MAX + 1);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got > WL_FILE_MAX) {
            report(cb, ud, path, "", "over 64 MiB; not read");
            rc = CAIRN_ETOOBIG;
        } else {
            rc = cairn_buf_append(&b, chunk, got);
        }
    }
    if (rc == 0 && ferror(f)) {
        report(cb, ud, path, "", "read error: %s", strerror(errno));
        rc = CAIRN_EIO;
    }
    fclose(f);
    if (rc == 0)
        rc = cairn_warninglists_add(w, b.data != NULL ? b.data : "", b.len,
                                    path, cb, ud);
    cairn_buf_release(&b);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cairn_warninglists_load(struct cairn_warninglists *w, const char *path,
                            cairn_warninglist_err_cb cb, void *ud,
                            size_t *loaded)
{
    struct stat st;
    size_t before = w->n;
    int rc = 0, first_err = 0;
    if (loaded != NULL)
        *loaded = 0;
    if (stat(path, &st) != 0) {
        report(cb, ud, path, "", "cannot read: %s", strerror(errno));
        return CAIRN_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = load_file(w, path, cb, ud);
        if (loaded != NULL)
            *loaded = w->n - before;
        return rc;
    }
    /* a directory: DIR/list.json, DIR/NAME.json, DIR/NAME/list.json */
    DIR *d = opendir(path);
    if (d == NULL) {
        report(cb, ud, path, "", "cannot read: %s", strerror(errno));
        return CAIRN_EIO;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 32;
            char **p = cairn_realloc(names, na * sizeof *p);
            if (p == NULL) {
                rc = CAIRN_ENOMEM;
                break;
            }
            names = p;
            alloc = na;
        }
        names[n] = cairn_strndup(de->d_name, strlen(de->d_name));
        if (names[n] == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct cairn_buf p;
        cairn_buf_init(&p, 16384);
        size_t nl = strlen(names[i]);
        rc = cairn_buf_printf(&p, "%s/%s", path, names[i]);
        if (rc < 0) {
            cairn_buf_release(&p);
            break;
        }
        if (stat(p.data, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = cairn_buf_append(&p, "/list.json", 10);
            if (rc == 0 && stat(p.data, &st) != 0) {
                cairn_buf_release(&p);
                continue;
            }
        } else if (nl < 5 || strcmp(names[i] + nl - 5, ".json") != 0) {
            cairn_buf_release(&p);
            continue;
        }
        if (rc == 0) {
            int r = load_file(w, p.data, cb, ud);
            if (r == CAIRN_ENOMEM)
                rc = r;
            else if (r < 0 && first_err == 0)
                first_err = r;
        }
        cairn_buf_release(&p);
    }
    for (size_t i = 0; i < n; i++)
        cairn_free(names[i]);
    cairn_free(names);
    if (loaded != NULL)
        *loaded = w->n - before;
    return rc < 0 ? rc : first_err;
}

/* ---- matching ------------------------------------------------------------ */

static bool host_on(const char *h, size_t hl, const char *e)
{
    size_t el = strlen(e);
    if (hl == el)
        return memcmp(h, e, el) == 0;
    return hl > el && h[hl - el - 1] == '.' && memcmp(h + hl - el, e, el) == 0;
}

static bool mem_ci_has(const char *h, size_t hl, const char *e)
{
    size_t el = strlen(e);
    for (size_t i = 0; el <= hl && i <= hl - el; i++)
        if (memcmp(h + i, e, el) == 0)
            return true;
    return false;
}

static bool cidr_holds(const struct wl_cidr *c, int family,
                       const uint8_t addr[16], unsigned prefix)
{
    if (c->family != family || prefix < c->prefix)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & m) == (addr[full] & m);
}

static bool list_match(const struct wl_list *l, pcre2_match_context *mctx,
                       int type, const char *low, size_t len,
                       const char *host, size_t host_len, const char *raw)
{
    switch (l->type) {
    case WL_STRING:
        for (size_t i = 0; i < l->n; i++)
            if (strcmp(l->entries[i], low) == 0 ||
                (host_len > 0 && strlen(l->entries[i]) == host_len &&
                 memcmp(l->entries[i], host, host_len) == 0))
                return true;
        return false;
    case WL_SUBSTRING:
        for (size_t i = 0; i < l->n; i++)
            if (mem_ci_has(low, len, l->entries[i]))
                return true;
        return false;
    case WL_HOSTNAME:
        if (host_len == 0)
            return false;
        for (size_t i = 0; i < l->n; i++)
            if (host_on(host, host_len, l->entries[i]))
                return true;
        return false;
    case WL_CIDR: {
        int family;
        uint8_t addr[16];
        unsigned prefix;
        const char *a = host_len > 0 ? host : low;
        size_t al = host_len > 0 ? host_len : len;
        if (!cairn__hunt_parse_cidr(a, al, &family, addr, &prefix))
            return false;
        for (size_t i = 0; i < l->n; i++)
            if (cidr_holds(&l->cidrs[i], family, addr, prefix))
                return true;
        return false;
    }
    case WL_REGEX: {
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        bool hit = false;
        for (size_t i = 0; i < l->n && md != NULL && !hit; i++)
            hit = pcre2_match(l->res[i], (PCRE2_SPTR)raw, strlen(raw), 0, 0,
                              md, mctx) >= 0;
        pcre2_match_data_free(md);
        return hit;
    }
    }
    (void)type;
    return false;
}

const char *cairn_warninglists_match(const struct cairn_warninglists *w,
                                     int type, const char *s, size_t len)
{
    char low[WL_ENTRY_MAX * 4 + 1], raw[WL_ENTRY_MAX * 4 + 1];
    const char *host = NULL;
    size_t host_len = 0;
    if (w == NULL || w->n == 0 || s == NULL || len == 0 ||
        len >= sizeof low || memchr(s, '\0', len) != NULL)
        return NULL;
    cairn__hunt_lower(s, len, low);
    low[len] = '\0';
    memcpy(raw, s, len);
    raw[len] = '\0';
    /* the host a hostname or address list compares */
    if (type == CAIRN_IOC_DOMAIN) {
        host = low;
        host_len = len;
        while (host_len > 0 && host[host_len - 1] == '.')
            host_len--;
    } else if (type == CAIRN_IOC_URL) {
        if (cairn__hunt_url_host(low, len, &host, &host_len) && host_len > 0 &&
            host[host_len - 1] == '.')
            host_len--;
    } else if (type == CAIRN_IOC_EMAIL) {
        const char *at = memchr(low, '@', len);
        if (at != NULL) {
            host = at + 1;
            host_len = len - (size_t)(host - low);
        }
    }
    for (size_t i = 0; i < w->n; i++) {
        const struct wl_list *l = &w->v[i];
        if (l->types != 0 &&
            (type <= 0 || type >= 32 || !(l->types & (1u << type))))
            continue;
        if (list_match(l, w->mctx, type, low, len, host, host_len, raw))
            return l->name;
    }
    return NULL;
}
