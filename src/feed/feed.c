/* SPDX-License-Identifier: Apache-2.0 */
/* What every feed converter shares: ids, validation, times, patterns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/pattern.h"
#include "feed/feed_int.h"

int cairn_feed_new(const struct cairn_feed_opts *opts, struct cairn_feed **out)
{
    struct cairn_feed *f = NULL;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if (opts == NULL || opts->emit == NULL)
        goto out;
    if (opts->identity != NULL && opts->identity[0] == '\0')
        goto out;
    rc = CAIRN_ENOMEM;
    f = cairn_calloc(1, sizeof *f);
    if (f == NULL)
        goto out;
    f->o = *opts;
    f->now = opts->now != NULL ? *opts->now : cairn_time_now(3);
    f->input = "";
    f->seen = json_object();
    if (f->seen == NULL)
        goto out;
    *out = f;
    f = NULL;
    rc = 0;
out:
    cairn_feed_free(f);
    return rc;
}

void cairn_feed_free(struct cairn_feed *f)
{
    if (f == NULL)
        return;
    json_decref(f->seen);
    cairn_free(f);
}

void cairn_feed_get_stats(const struct cairn_feed *f,
                          struct cairn_feed_stats *out)
{
    *out = f->st;
}

int cairn__feed_id(const char *type, const char *ns, const char *name, size_t len,
            char out[CAIRN_STIX_ID_MAX])
{
    char uuid[CAIRN_UUID_STRLEN];
    int rc = cairn_uuid5(ns, name, len, uuid);

    if (rc != 0)
        return rc;
    int n = snprintf(out, CAIRN_STIX_ID_MAX, "%s--%s", type, uuid);
    return n > 0 && n < CAIRN_STIX_ID_MAX ? 0 : CAIRN_ETOOBIG;
}

static void vnote(struct cairn_feed *f, enum cairn_severity sev, unsigned line,
                  const char *object_id, const char *rule, const char *fmt,
                  va_list ap) __attribute__((format(printf, 6, 0)));

static void vnote(struct cairn_feed *f, enum cairn_severity sev, unsigned line,
                  const char *object_id, const char *rule, const char *fmt,
                  va_list ap)
{
    struct cairn_diag d;
    char msg[sizeof d.message];

    if (f->o.report == NULL)
        return;
    cairn_diag_clear(&d);
    snprintf(d.file, sizeof d.file, "%s", f->input);
    if (object_id != NULL)
        snprintf(d.object_id, sizeof d.object_id, "%s", object_id);
    d.line = line > 0 ? line : f->line;
    d.column = d.line > 0 ? 1 : 0;
    vsnprintf(msg, sizeof msg, fmt, ap);
    cairn_diag_set(&d, sev, rule, "%s", msg);
    f->o.report(&d, f->o.report_ud);
}

void cairn__feed_skip(struct cairn_feed *f, unsigned line, const char *object_id,
               const char *rule, const char *fmt, ...)
{
    va_list ap;

    f->st.skipped++;
    va_start(ap, fmt);
    vnote(f, CAIRN_SEV_ERROR, line, object_id, rule, fmt, ap);
    va_end(ap);
}

void cairn__feed_note(struct cairn_feed *f, enum cairn_severity sev, unsigned line,
               const char *object_id, const char *rule, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnote(f, sev, line, object_id, rule, fmt, ap);
    va_end(ap);
}

bool cairn__feed_seen(const struct cairn_feed *f, const char *id)
{
    return json_object_get(f->seen, id) != NULL;
}

/* Validation findings of an object about to be emitted. */
struct vsink {
    struct cairn_feed *f;
    size_t errors;
};

static void on_invalid(const struct cairn_diag *d, void *ud)
{
    struct vsink *s = ud;
    struct cairn_diag copy;

    if (d->severity != CAIRN_SEV_ERROR || s->f->o.report == NULL)
        return;
    copy = *d;
    snprintf(copy.file, sizeof copy.file, "%s", s->f->input);
    if (copy.line == 0 && s->f->line > 0) {
        copy.line = s->f->line;
        copy.column = 1;
    }
    s->f->o.report(&copy, s->f->o.report_ud);
}

int cairn__feed_emit(struct cairn_feed *f, json_t *obj)
{
    struct cairn_validate_stats vs = {0};
    struct vsink sink = {.f = f};
    struct cairn_validate_opts vo = {
        .file = f->input,
        .cb = on_invalid,
        .ud = &sink,
        /* Indicators' patterns must parse, as on every way into a store. */
        .check_pattern = cairn_pattern_checker,
    };
    const char *id = cairn_stix_id(obj);
    int rc = CAIRN_EINTERNAL;

    if (id == NULL)
        goto out;
    rc = 1;
    if (cairn__feed_seen(f, id))
        goto out;
    rc = cairn_stix_validate_object(obj, "", &vo, &vs);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc < 0 || vs.errors > 0) {
        rc = FEED_REJECTED;
        f->st.skipped++;
        goto out;
    }
    if (json_object_set_new(f->seen, id, json_null()) != 0) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    rc = f->o.emit(obj, f->o.emit_ud);
    if (rc < 0)
        goto out;
    rc = 0;
    f->st.objects++;
    const char *type = cairn_stix_type(obj);
    if (strcmp(type, "indicator") == 0)
        f->st.indicators++;
    else if (strcmp(type, "report") == 0)
        f->st.reports++;
    else if (cairn_stix_kind_of(type) == CAIRN_STIX_SCO)
        f->st.observables++;
out:
    json_decref(obj);
    return rc;
}

void cairn__feed_time_str(const struct cairn_time *t, char *buf, size_t len)
{
    if (cairn_time_format(t, 3, buf, len) < 0 && len > 0)
        buf[0] = '\0';
}

/* Digits at s[0..n) as a number, or -1. */
static long digits(const char *s, size_t n)
{
    long v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int cairn__feed_parse_time(const char *s, size_t len, struct cairn_time *out)
{
    char buf[64];

    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof buf - 16)
        return CAIRN_EINVAL;
    /* Seconds since 1970, as MISP writes its timestamps. */
    if (len <= 12 && digits(s, len) >= 0) {
        long v = digits(s, len);
        *out = (struct cairn_time){.sec = v, .nsec = 0, .digits = 0};
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (len == 10) {
        /* A date alone is its midnight, UTC. */
        memcpy(buf + len, "T00:00:00Z", 11);
        len += 10;
    } else if (len >= 19 && buf[10] == ' ') {
        buf[10] = 'T';
        /* "YYYY-MM-DD HH:MM:SS" without a zone: FireEye's CSV; UTC. */
        if (len == 19 || (len > 20 && buf[19] == '.' &&
                          strspn(buf + 20, "0123456789") == len - 20)) {
            buf[len++] = 'Z';
            buf[len] = '\0';
        }
    }
    return cairn_time_parse(buf, len, false, out);
}

int cairn__feed_pattern_quote(struct cairn_buf *b, const char *s, size_t len)
{
    int rc = cairn_buf_putc(b, '\'');

    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            rc = cairn_buf_putc(b, '\\');
        if (rc == 0)
            rc = cairn_buf_putc(b, s[i]);
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, '\'');
    return rc;
}

/* The object type and property of a value of each cairn type. */
static const struct {
    const char *object;
    const char *path; /* in a pattern */
    const char *hash; /* hashes key, for hash types */
} type_props[CAIRN_IOC_TYPE_COUNT] = {
    [CAIRN_IOC_DOMAIN] = {"domain-name", "value", NULL},
    [CAIRN_IOC_IPV4] = {"ipv4-addr", "value", NULL},
    [CAIRN_IOC_IPV6] = {"ipv6-addr", "value", NULL},
    [CAIRN_IOC_URL] = {"url", "value", NULL},
    [CAIRN_IOC_EMAIL] = {"email-addr", "value", NULL},
    [CAIRN_IOC_MD5] = {"file", "hashes.'MD5'", "MD5"},
    [CAIRN_IOC_SHA1] = {"file", "hashes.'SHA-1'", "SHA-1"},
    [CAIRN_IOC_SHA256] = {"file", "hashes.'SHA-256'", "SHA-256"},
    [CAIRN_IOC_SHA512] = {"file", "hashes.'SHA-512'", "SHA-512"},
    [CAIRN_IOC_FILENAME] = {"file", "name", NULL},
    [CAIRN_IOC_REGKEY] = {"windows-registry-key", "key", NULL},
};

int cairn__feed_pattern_cmp(struct cairn_buf *b, enum cairn_ioc_type type,
                     const char *v, size_t len)
{
    if ((unsigned)type >= CAIRN_IOC_TYPE_COUNT ||
        type_props[type].object == NULL)
        return CAIRN_EINVAL;
    bool cidr = (type == CAIRN_IOC_IPV4 || type == CAIRN_IOC_IPV6) &&
                memchr(v, '/', len) != NULL;
    int rc = cairn_buf_printf(b, "%s:%s %s ", type_props[type].object,
                              type_props[type].path, cidr ? "ISSUBSET" : "=");
    if (rc == 0)
        rc = cairn__feed_pattern_quote(b, v, len);
    return rc;
}

bool cairn__feed_utf8_ok(const char *s, size_t len)
{
    return memchr(s, 0, len) == NULL && cairn_utf8_valid(s, len);
}

int cairn__feed_set_strn(json_t *obj, const char *key, const char *s, size_t len)
{
    if (!cairn__feed_utf8_ok(s, len))
        return CAIRN_EINVAL;
    json_t *v = json_stringn(s, len);
    if (v == NULL || json_object_set_new(obj, key, v) != 0)
        return CAIRN_ENOMEM;
    return 0;
}

int cairn__feed_set_str(json_t *obj, const char *key, const char *s)
{
    return cairn__feed_set_strn(obj, key, s, strlen(s));
}

int cairn__feed_set_pattern(json_t *obj, const char *pattern, size_t len,
                     const char *valid_from)
{
    int rc = cairn__feed_set_strn(obj, "pattern", pattern, len);
    if (rc == 0)
        rc = cairn__feed_set_str(obj, "pattern_type", "stix");
    if (rc == 0)
        rc = cairn__feed_set_str(obj, "pattern_version", "2.1");
    if (rc == 0)
        rc = cairn__feed_set_str(obj, "valid_from", valid_from);
    return rc;
}

int cairn__feed_sco_set_id(json_t *sco)
{
    char id[CAIRN_STIX_ID_MAX];
    int rc = cairn_stix_sco_id(sco, id);

    if (rc == 0)
        rc = cairn__feed_set_str(sco, "id", id);
    return rc;
}

int cairn__feed_sco(enum cairn_ioc_type type, const char *v, size_t len, json_t **out)
{
    json_t *sco = NULL;
    int rc = CAIRN_EINVAL;

    *out = NULL;
    if ((unsigned)type >= CAIRN_IOC_TYPE_COUNT ||
        type_props[type].object == NULL)
        goto out;
    rc = CAIRN_ENOMEM;
    sco = json_object();
    if (sco == NULL)
        goto out;
    rc = cairn__feed_set_str(sco, "type", type_props[type].object);
    if (rc == 0)
        rc = cairn__feed_set_str(sco, "spec_version", "2.1");
    if (rc == 0 && type_props[type].hash != NULL) {
        json_t *h = json_object();
        rc = h == NULL || json_object_set_new(sco, "hashes", h) != 0
                 ? CAIRN_ENOMEM
                 : 0;
        if (rc == 0)
            rc = cairn__feed_set_strn(h, type_props[type].hash, v, len);
    } else if (rc == 0) {
        rc = cairn__feed_set_strn(sco,
                           type == CAIRN_IOC_FILENAME ? "name"
                           : type == CAIRN_IOC_REGKEY ? "key"
                                                      : "value",
                           v, len);
    }
    if (rc == 0)
        rc = cairn__feed_sco_set_id(sco);
    if (rc != 0)
        goto out;
    *out = sco;
    sco = NULL;
out:
    json_decref(sco);
    return rc;
}

int cairn__feed_mark(const struct cairn_feed *f, json_t *obj, enum cairn_tlp tlp)
{
    if (tlp == CAIRN_TLP_NONE)
        tlp = f->o.tlp;
    const char *id = cairn_tlp_marking_id(tlp);
    if (id == NULL)
        return 0;
    json_t *refs = json_pack("[s]", id);
    if (refs == NULL || json_object_set_new(obj, "object_marking_refs", refs))
        return CAIRN_ENOMEM;
    return 0;
}

enum cairn_tlp cairn__feed_tlp_of_tag(const char *tag)
{
    /* MISP writes TLP as a tag: "tlp:amber" (the prefix is required). */
    if (strncasecmp(tag, "tlp:", 4) != 0)
        return CAIRN_TLP_NONE;
    return cairn_tlp_from_name(tag);
}

int cairn__feed_identity(struct cairn_feed *f, const char *id, const char *name)
{
    json_t *o = NULL;
    int rc = 0;

    if (cairn__feed_seen(f, id))
        goto out;
    rc = CAIRN_ENOMEM;
    o = json_object();
    if (o == NULL)
        goto out;
    rc = cairn__feed_set_str(o, "type", "identity");
    if (rc == 0)
        rc = cairn__feed_set_str(o, "spec_version", "2.1");
    if (rc == 0)
        rc = cairn__feed_set_str(o, "id", id);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "created", FEED_FIXED_VERSION);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "modified", FEED_FIXED_VERSION);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "name", name);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "identity_class", "organization");
    if (rc == 0)
        rc = cairn__feed_mark(f, o, CAIRN_TLP_NONE);
    if (rc != 0)
        goto out;
    rc = cairn__feed_emit(f, o);
    o = NULL;
    if (rc > 0)
        rc = 0;
out:
    json_decref(o);
    return rc;
}

int cairn__feed_producer(struct cairn_feed *f, const char *fallback,
                  char id[CAIRN_STIX_ID_MAX])
{
    const char *name = f->o.identity != NULL ? f->o.identity : fallback;

    id[0] = '\0';
    if (name == NULL)
        return 0;
    int rc = cairn__feed_id("identity", FEED_LIST_NAMESPACE, name, strlen(name), id);
    if (rc == 0)
        rc = cairn__feed_identity(f, id, name);
    if (rc != 0)
        id[0] = '\0';
    return rc;
}

enum cairn_ioc_type cairn__feed_type_by_name(const char *s, size_t len)
{
    for (int t = CAIRN_IOC_DOMAIN; t < CAIRN_IOC_TYPE_COUNT; t++) {
        const char *n = cairn_ioc_type_name((enum cairn_ioc_type)t);
        if (t != CAIRN_IOC_STRING && n != NULL && strlen(n) == len &&
            strncasecmp(n, s, len) == 0)
            return (enum cairn_ioc_type)t;
    }
    return CAIRN_IOC_UNKNOWN;
}

enum cairn_ioc_type cairn__feed_typed_value(enum cairn_ioc_type type, const char *v,
                                     size_t len, char *out, size_t *out_len)
{
    while (len > 0 && (v[0] == ' ' || v[0] == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    *out_len = 0;
    if (len == 0 || len > FEED_VALUE_MAX)
        return CAIRN_IOC_UNKNOWN;
    /* Names and keys have no shape to detect: taken as written. */
    if (type == CAIRN_IOC_FILENAME || type == CAIRN_IOC_REGKEY) {
        memcpy(out, v, len);
        *out_len = len;
        return type;
    }
    enum cairn_ioc_type t =
        cairn_hunt_detect(v, len, out, FEED_VALUE_MAX + 2, out_len);
    if (type == CAIRN_IOC_UNKNOWN || t == type)
        return t;
    /* "ip" columns hold either family; hostnames are domains. */
    if ((type == CAIRN_IOC_IPV4 || type == CAIRN_IOC_IPV6) &&
        (t == CAIRN_IOC_IPV4 || t == CAIRN_IOC_IPV6))
        return t;
    return CAIRN_IOC_UNKNOWN;
}
