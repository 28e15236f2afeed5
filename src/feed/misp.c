/* SPDX-License-Identifier: Apache-2.0 */
/* MISP events and feed directories converted to STIX 2.1 objects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed/feed_int.h"

/* Largest manifest or event file read (bytes). */
#define MISP_FILE_MAX ((size_t)256 << 20)
/* Most labels one object carries; MISP tags past it are left off. */
#define MAX_LABELS 64

/* ---- the attribute types cairn converts --------------------------------- */

/* One property an attribute value (or one half of a composite) sets. */
struct mprop {
    const char *object; /* SCO type; NULL: ipv4-addr or ipv6-addr by value */
    const char *prop;   /* property of the SCO ("hashes" for a hash) */
    const char *hash;   /* hash algorithm, for hashes */
    bool number;        /* an integer, such as an AS number */
};

#define IP                                                                     \
    {                                                                          \
        NULL, "value", NULL, false                                             \
    }
#define DOMAIN                                                                 \
    {                                                                          \
        "domain-name", "value", NULL, false                                    \
    }
#define FILENAME                                                               \
    {                                                                          \
        "file", "name", NULL, false                                            \
    }
#define FHASH(alg)                                                             \
    {                                                                          \
        "file", "hashes", alg, false                                           \
    }

enum join {
    ONE,      /* a single value */
    SAME,     /* two properties of one object: both must match (AND) */
    RESOLVES, /* a domain and the address it resolves to: either (OR) */
};

static const struct mtype {
    const char *name;
    enum join join;
    struct mprop p[2];
} mtypes[] = {
    {"domain", ONE, {DOMAIN}},
    {"hostname", ONE, {DOMAIN}},
    {"ip-src", ONE, {IP}},
    {"ip-dst", ONE, {IP}},
    {"url", ONE, {{"url", "value", NULL, false}}},
    {"email", ONE, {{"email-addr", "value", NULL, false}}},
    {"email-src", ONE, {{"email-addr", "value", NULL, false}}},
    {"email-dst", ONE, {{"email-addr", "value", NULL, false}}},
    {"md5", ONE, {FHASH("MD5")}},
    {"sha1", ONE, {FHASH("SHA-1")}},
    {"sha256", ONE, {FHASH("SHA-256")}},
    {"sha512", ONE, {FHASH("SHA-512")}},
    {"sha3-256", ONE, {FHASH("SHA3-256")}},
    {"sha3-512", ONE, {FHASH("SHA3-512")}},
    {"ssdeep", ONE, {FHASH("SSDEEP")}},
    {"tlsh", ONE, {FHASH("TLSH")}},
    {"filename", ONE, {FILENAME}},
    {"filename|md5", SAME, {FILENAME, FHASH("MD5")}},
    {"filename|sha1", SAME, {FILENAME, FHASH("SHA-1")}},
    {"filename|sha256", SAME, {FILENAME, FHASH("SHA-256")}},
    {"filename|sha512", SAME, {FILENAME, FHASH("SHA-512")}},
    {"filename|sha3-256", SAME, {FILENAME, FHASH("SHA3-256")}},
    {"filename|sha3-512", SAME, {FILENAME, FHASH("SHA3-512")}},
    {"filename|ssdeep", SAME, {FILENAME, FHASH("SSDEEP")}},
    {"filename|tlsh", SAME, {FILENAME, FHASH("TLSH")}},
    {"domain|ip", RESOLVES, {DOMAIN, IP}},
    {"regkey", ONE, {{"windows-registry-key", "key", NULL, false}}},
    {"mutex", ONE, {{"mutex", "name", NULL, false}}},
    {"mac-address", ONE, {{"mac-addr", "value", NULL, false}}},
    {"AS", ONE, {{"autonomous-system", "number", NULL, true}}},
    {"x509-fingerprint-md5",
     ONE,
     {{"x509-certificate", "hashes", "MD5", false}}},
    {"x509-fingerprint-sha1",
     ONE,
     {{"x509-certificate", "hashes", "SHA-1", false}}},
    {"x509-fingerprint-sha256",
     ONE,
     {{"x509-certificate", "hashes", "SHA-256", false}}},
};

static const struct mtype *mtype_find(const char *name)
{
    for (size_t i = 0; i < sizeof mtypes / sizeof mtypes[0]; i++) {
        if (strcmp(mtypes[i].name, name) == 0)
            return &mtypes[i];
    }
    return NULL;
}

/* ---- one event ------------------------------------------------------------
 */

struct event {
    struct cairn_feed *f;
    const char *uuid;
    const char *creator;    /* identity id, or NULL */
    struct cairn_time date; /* the event's date, midnight UTC */
    struct cairn_time ts;   /* its timestamp */
    enum cairn_tlp tlp;
    json_t *labels; /* array of the event's labels */
    json_t *refs;   /* report object_refs so far */
    json_t *links;  /* external_references from "link" attributes */
};

/* A string member, or NULL. */
static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* MISP writes timestamps as strings of seconds, sometimes as numbers. */
static bool time_of(const json_t *obj, const char *key, struct cairn_time *out)
{
    const json_t *v = json_object_get(obj, key);

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (struct cairn_time){.sec = json_integer_value(v)};
        return true;
    }
    if (!json_is_string(v))
        return false;
    return cairn__feed_parse_time(json_string_value(v), json_string_length(v), out) ==
           0;
}

/* Whether a boolean member is true (MISP has written "1" and 1 too). */
static bool flag_of(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);

    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    return s != NULL && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0);
}

/* The name of a tag: {"name": ...} or a plain string. */
static const char *tag_name(const json_t *tag)
{
    if (json_is_string(tag))
        return json_string_value(tag);
    return str_of(tag, "name");
}

/*
 * Add the labels of `tags` (TLP tags excepted) to `labels`, and return the
 * most restrictive TLP among them.
 */
static enum cairn_tlp add_tags(const json_t *tags, json_t *labels, int *rc)
{
    enum cairn_tlp tlp = CAIRN_TLP_NONE;
    size_t i;
    const json_t *tag;

    json_array_foreach(tags, i, tag)
    {
        const char *name = tag_name(tag);
        if (name == NULL || name[0] == '\0')
            continue;
        enum cairn_tlp t = cairn__feed_tlp_of_tag(name);
        if (t != CAIRN_TLP_NONE) {
            if (t > tlp)
                tlp = t;
            continue;
        }
        bool dup = false;
        size_t j;
        const json_t *l;
        json_array_foreach(labels, j, l)
        {
            dup |= strcmp(json_string_value(l), name) == 0;
        }
        if (dup || json_array_size(labels) >= MAX_LABELS)
            continue;
        /* Parsed JSON: the name is UTF-8, so only memory can fail. */
        if (json_array_append_new(labels, json_string(name)) != 0)
            *rc = CAIRN_ENOMEM;
    }
    return tlp;
}

/* type, spec_version, id, created_by_ref, created, modified. */
static int sdo_head(struct event *ev, json_t *o, const char *type,
                    const char *id, const struct cairn_time *created,
                    const struct cairn_time *modified)
{
    char c[40], m[40];
    int rc;

    cairn__feed_time_str(created, c, sizeof c);
    cairn__feed_time_str(modified, m, sizeof m);
    rc = cairn__feed_set_str(o, "type", type);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "spec_version", "2.1");
    if (rc == 0)
        rc = cairn__feed_set_str(o, "id", id);
    if (rc == 0 && ev->creator != NULL)
        rc = cairn__feed_set_str(o, "created_by_ref", ev->creator);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "created", c);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "modified", m);
    return rc;
}

/* Emit an object and list it in the report when it is out. */
static int emit_ref(struct event *ev, json_t *o)
{
    char id[CAIRN_STIX_ID_MAX];

    snprintf(id, sizeof id, "%s", cairn_stix_id(o));
    int rc = cairn__feed_emit(ev->f, o);
    if (rc < 0 || rc == FEED_REJECTED)
        return rc;
    if (json_array_append_new(ev->refs, json_string(id)) != 0)
        return CAIRN_ENOMEM;
    return 0;
}

/* The address type of a value: IPv6 has colons. */
static const char *ip_type(const char *v, size_t len)
{
    return memchr(v, ':', len) != NULL ? "ipv6-addr" : "ipv4-addr";
}

/* "AS174" or "174" as a number; -1 when it is neither. */
static long long as_number(const char *v, size_t len)
{
    long long n = 0;

    if (len >= 2 && strncasecmp(v, "AS", 2) == 0) {
        v += 2;
        len -= 2;
    }
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    return n <= 4294967295LL ? n : -1;
}

/* Append the comparison of one part of a value to a pattern. */
static int part_cmp(struct cairn_buf *b, const struct mprop *p, const char *v,
                    size_t len)
{
    const char *object = p->object ? p->object : ip_type(v, len);
    int rc;

    if (p->number)
        return cairn_buf_printf(b, "%s:%s = %lld", object, p->prop,
                                as_number(v, len));
    if (p->hash != NULL)
        rc = cairn_buf_printf(b, "%s:hashes.'%s' = ", object, p->hash);
    else if (p->object == NULL && memchr(v, '/', len) != NULL)
        rc = cairn_buf_printf(b, "%s:value ISSUBSET ", object);
    else
        rc = cairn_buf_printf(b, "%s:%s = ", object, p->prop);
    if (rc == 0)
        rc = cairn__feed_pattern_quote(b, v, len);
    return rc;
}

/* Set one part of a value on an SCO (creating the SCO when *sco is NULL). */
static int part_set(json_t **sco, const struct mprop *p, const char *v,
                    size_t len)
{
    int rc = 0;

    if (*sco == NULL) {
        *sco = json_object();
        if (*sco == NULL)
            return CAIRN_ENOMEM;
        rc =
            cairn__feed_set_str(*sco, "type", p->object ? p->object : ip_type(v, len));
        if (rc == 0)
            rc = cairn__feed_set_str(*sco, "spec_version", "2.1");
        if (rc != 0)
            return rc;
    }
    if (p->number) {
        json_t *n = json_integer(as_number(v, len));
        if (n == NULL || json_object_set_new(*sco, p->prop, n) != 0)
            return CAIRN_ENOMEM;
        return 0;
    }
    if (p->hash != NULL) {
        json_t *h = json_object_get(*sco, "hashes");
        if (h == NULL) {
            h = json_object();
            if (h == NULL || json_object_set_new(*sco, "hashes", h) != 0)
                return CAIRN_ENOMEM;
        }
        return cairn__feed_set_strn(h, p->hash, v, len);
    }
    return cairn__feed_set_strn(*sco, p->prop, v, len);
}

/* The pieces of one attribute: its value split, its times and context. */
struct attr {
    const json_t *a;
    const struct mtype *mt;
    const char *uuid;
    const char *value[2];
    size_t len[2];
    struct cairn_time created, modified;
    enum cairn_tlp tlp;
    json_t *labels;
};

static int add_common(struct event *ev, struct attr *at, json_t *o)
{
    int rc = 0;

    if (json_array_size(at->labels) > 0)
        rc = json_object_set(o, "labels", at->labels) == 0 ? 0 : CAIRN_ENOMEM;
    if (rc == 0)
        rc = cairn__feed_mark(ev->f, o, at->tlp);
    return rc;
}

static int make_indicator(struct event *ev, struct attr *at)
{
    struct cairn_buf pat;
    char id[CAIRN_STIX_ID_MAX];
    char vf[40];
    json_t *o = NULL;
    size_t n = at->mt->join == ONE ? 1 : 2;
    int rc;

    cairn_buf_init(&pat, FEED_VALUE_MAX * 2 + 256);
    rc = cairn__feed_id("indicator", FEED_NAMESPACE, at->uuid, strlen(at->uuid), id);
    if (rc != 0)
        goto out;
    rc = cairn_buf_putc(&pat, '[');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = cairn_buf_puts(&pat, at->mt->join == SAME ? " AND " : " OR ");
        if (rc == 0)
            rc = part_cmp(&pat, &at->mt->p[i], at->value[i], at->len[i]);
    }
    if (rc == 0)
        rc = cairn_buf_putc(&pat, ']');
    if (rc != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    o = json_object();
    if (o == NULL)
        goto out;
    cairn__feed_time_str(&at->modified, vf, sizeof vf);
    const char *comment = str_of(at->a, "comment");
    rc = sdo_head(ev, o, "indicator", id, &at->created, &at->modified);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "name", str_of(at->a, "value"));
    if (rc == 0 && comment != NULL && comment[0] != '\0')
        rc = cairn__feed_set_str(o, "description", comment);
    if (rc == 0)
        rc = cairn__feed_set_pattern(o, pat.data, pat.len, vf);
    if (rc == 0)
        rc = add_common(ev, at, o);
    if (rc != 0)
        goto out;
    rc = emit_ref(ev, o);
    o = NULL;
out:
    json_decref(o);
    cairn_buf_release(&pat);
    return rc;
}

/* Finish, emit and list one SCO; its id goes to `id`. */
static int emit_sco(struct event *ev, struct attr *at, json_t *sco,
                    char id[CAIRN_STIX_ID_MAX])
{
    int rc = cairn__feed_sco_set_id(sco);

    if (rc == 0)
        rc = cairn__feed_mark(ev->f, sco, at->tlp);
    if (rc != 0) {
        json_decref(sco);
        return rc;
    }
    snprintf(id, CAIRN_STIX_ID_MAX, "%s", cairn_stix_id(sco));
    return emit_ref(ev, sco);
}

/*
 * An attribute that is not for detection is something seen: its SCOs and
 * an observed-data that keeps when, by whom and with which tags.
 */
static int make_observed(struct event *ev, struct attr *at)
{
    char ids[2][CAIRN_STIX_ID_MAX];
    char id[CAIRN_STIX_ID_MAX];
    char t[40];
    json_t *scos[2] = {NULL, NULL};
    json_t *o = NULL;
    size_t n_sco = 0;
    int rc = 0;

    if (at->mt->join == SAME) {
        rc = part_set(&scos[0], &at->mt->p[0], at->value[0], at->len[0]);
        if (rc == 0)
            rc = part_set(&scos[0], &at->mt->p[1], at->value[1], at->len[1]);
        n_sco = 1;
    } else {
        n_sco = at->mt->join == ONE ? 1 : 2;
        for (size_t i = 0; rc == 0 && i < n_sco; i++)
            rc = part_set(&scos[i], &at->mt->p[i], at->value[i], at->len[i]);
    }
    if (rc != 0)
        goto out;
    /* The address first: the domain refers to it. */
    for (size_t k = n_sco; k-- > 0;) {
        if (k == 0 && n_sco == 2) {
            json_t *refs = json_pack("[s]", ids[1]);
            if (refs == NULL ||
                json_object_set_new(scos[0], "resolves_to_refs", refs) != 0) {
                rc = CAIRN_ENOMEM;
                goto out;
            }
        }
        rc = emit_sco(ev, at, scos[k], ids[k]);
        scos[k] = NULL;
        if (rc != 0)
            goto out;
    }
    rc = cairn__feed_id("observed-data", FEED_NAMESPACE, at->uuid, strlen(at->uuid),
                 id);
    if (rc != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    o = json_object();
    json_t *refs = json_array();
    if (o == NULL || refs == NULL ||
        json_object_set_new(o, "object_refs", refs) != 0) {
        if (o == NULL)
            json_decref(refs);
        goto out;
    }
    for (size_t k = 0; k < n_sco; k++) {
        if (json_array_append_new(refs, json_string(ids[k])) != 0)
            goto out;
    }
    struct cairn_time first = at->modified, last = at->modified;
    time_of(at->a, "first_seen", &first);
    if (!time_of(at->a, "last_seen", &last) ||
        cairn_time_cmp(&last, &first) < 0)
        last = first;
    rc = sdo_head(ev, o, "observed-data", id, &at->created, &at->modified);
    cairn__feed_time_str(&first, t, sizeof t);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "first_observed", t);
    cairn__feed_time_str(&last, t, sizeof t);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "last_observed", t);
    if (rc == 0 &&
        json_object_set_new(o, "number_observed", json_integer(1)) != 0)
        rc = CAIRN_ENOMEM;
    if (rc == 0)
        rc = add_common(ev, at, o);
    if (rc != 0)
        goto out;
    rc = emit_ref(ev, o);
    o = NULL;
out:
    json_decref(scos[0]);
    json_decref(scos[1]);
    json_decref(o);
    return rc;
}

/* A "link" attribute: a reference of the report, not an observable. */
static int add_link(struct event *ev, const json_t *a)
{
    const char *url = str_of(a, "value");
    json_t *ref = json_object();
    int rc = ref == NULL ? CAIRN_ENOMEM : 0;

    if (rc == 0)
        rc = cairn__feed_set_str(ref, "source_name", "link");
    if (rc == 0)
        rc = cairn__feed_set_str(ref, "url", url);
    if (rc == 0) {
        const char *comment = str_of(a, "comment");
        if (comment != NULL && comment[0] != '\0')
            rc = cairn__feed_set_str(ref, "description", comment);
    }
    if (rc == 0 && json_array_append(ev->links, ref) != 0)
        rc = CAIRN_ENOMEM;
    json_decref(ref);
    return rc == CAIRN_EINVAL ? 0 : rc;
}

/* Convert one attribute; `obj` is the MISP object it is part of, or NULL. */
static int attribute(struct event *ev, const json_t *a, const json_t *obj,
                     size_t index)
{
    struct cairn_feed *f = ev->f;
    struct attr at = {.a = a};
    const char *type = str_of(a, "type");
    const char *value = str_of(a, "value");
    const char *where = obj != NULL ? "object attribute" : "attribute";
    int rc = 0;

    at.uuid = str_of(a, "uuid");
    if (!json_is_object(a) || flag_of(a, "deleted"))
        return 0;
    if (at.uuid == NULL ||
        !cairn_uuid_check(at.uuid, strlen(at.uuid), false, NULL)) {
        cairn__feed_skip(f, 0, NULL, "misp-attribute",
                  "event %s, %s %zu: no valid uuid; skipped", ev->uuid, where,
                  index);
        return 0;
    }
    if (type == NULL || value == NULL || value[0] == '\0') {
        cairn__feed_skip(f, 0, NULL, "misp-attribute",
                  "event %s, attribute %s: no type or value; skipped", ev->uuid,
                  at.uuid);
        return 0;
    }
    if (strcmp(type, "link") == 0)
        return add_link(ev, a);
    at.mt = mtype_find(type);
    if (at.mt == NULL) {
        cairn__feed_skip(f, 0, NULL, "misp-unsupported-type",
                  "event %s, attribute %s: type '%.60s' has no STIX mapping; "
                  "skipped",
                  ev->uuid, at.uuid, type);
        return 0;
    }
    size_t vlen = strlen(value);
    if (vlen > FEED_VALUE_MAX) {
        cairn__feed_skip(f, 0, NULL, "misp-value",
                  "event %s, attribute %s: value longer than %d bytes; "
                  "skipped",
                  ev->uuid, at.uuid, FEED_VALUE_MAX);
        return 0;
    }
    at.value[0] = value;
    at.len[0] = vlen;
    if (at.mt->join != ONE) {
        const char *bar = strchr(value, '|');
        if (bar == NULL || bar == value || bar[1] == '\0') {
            cairn__feed_skip(f, 0, NULL, "misp-value",
                      "event %s, attribute %s: a %s value must be two values "
                      "joined by '|'; skipped",
                      ev->uuid, at.uuid, type);
            return 0;
        }
        at.len[0] = (size_t)(bar - value);
        at.value[1] = bar + 1;
        at.len[1] = vlen - at.len[0] - 1;
    }
    for (size_t i = 0; i < 2; i++) {
        if (at.value[i] != NULL && at.mt->p[i].number &&
            as_number(at.value[i], at.len[i]) < 0) {
            cairn__feed_skip(f, 0, NULL, "misp-value",
                      "event %s, attribute %s: '%.60s' is not an AS number; "
                      "skipped",
                      ev->uuid, at.uuid, value);
            return 0;
        }
    }

    if (!time_of(a, "timestamp", &at.modified))
        at.modified = ev->ts;
    at.created =
        cairn_time_cmp(&ev->date, &at.modified) <= 0 ? ev->date : at.modified;
    at.labels = json_copy(ev->labels);
    if (at.labels == NULL)
        return CAIRN_ENOMEM;
    enum cairn_tlp own = add_tags(json_object_get(a, "Tag"), at.labels, &rc);
    enum cairn_tlp of_obj = CAIRN_TLP_NONE;
    if (obj != NULL)
        of_obj = add_tags(json_object_get(obj, "Tag"), at.labels, &rc);
    at.tlp = own != CAIRN_TLP_NONE      ? own
             : of_obj != CAIRN_TLP_NONE ? of_obj
                                        : ev->tlp;
    if (rc == 0) {
        rc = flag_of(a, "to_ids") ? make_indicator(ev, &at)
                                  : make_observed(ev, &at);
        /* Text that is not UTF-8 or cannot be a property: one record. */
        if (rc == CAIRN_EINVAL) {
            cairn__feed_skip(f, 0, NULL, "misp-value",
                      "event %s, attribute %s: value or comment is not "
                      "valid text; skipped",
                      ev->uuid, at.uuid);
            rc = 0;
        }
    }
    json_decref(at.labels);
    return rc == FEED_REJECTED ? 0 : rc;
}

static const char *const threat_levels[] = {NULL, "high", "medium", "low",
                                            "undefined"};
static const char *const analyses[] = {"initial", "ongoing", "completed"};

/* A small integer member written as a string or number; -1 otherwise. */
static long small_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);

    if (json_is_integer(v))
        return json_integer_value(v) >= 0 && json_integer_value(v) < 10
                   ? (long)json_integer_value(v)
                   : -1;
    if (s != NULL && s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
        return s[0] - '0';
    return -1;
}

static int make_report(struct event *ev, const json_t *e)
{
    struct cairn_buf desc;
    char id[CAIRN_STIX_ID_MAX];
    char pub[40];
    json_t *o = NULL;
    const char *info = str_of(e, "info");
    int rc;

    cairn_buf_init(&desc, 512);
    if (json_array_size(ev->refs) == 0) {
        cairn__feed_skip(ev->f, 0, NULL, "misp-empty-event",
                  "event %s: nothing in it could be converted; no report",
                  ev->uuid);
        rc = 0;
        goto out;
    }
    rc = cairn__feed_id("report", FEED_NAMESPACE, ev->uuid, strlen(ev->uuid), id);
    if (rc != 0)
        goto out;
    long tl = small_int(e, "threat_level_id");
    long an = small_int(e, "analysis");
    rc = cairn_buf_printf(&desc, "MISP event %s", ev->uuid);
    if (rc == 0 && tl >= 1 && tl <= 4)
        rc = cairn_buf_printf(&desc, "; threat level: %s", threat_levels[tl]);
    if (rc == 0 && an >= 0 && an <= 2)
        rc = cairn_buf_printf(&desc, "; analysis: %s", analyses[an]);
    if (rc != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    o = json_object();
    if (o == NULL)
        goto out;
    struct cairn_time created =
        cairn_time_cmp(&ev->date, &ev->ts) <= 0 ? ev->date : ev->ts;
    cairn__feed_time_str(&ev->date, pub, sizeof pub);
    rc = sdo_head(ev, o, "report", id, &created, &ev->ts);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "name",
                          info != NULL && info[0] != '\0' ? info : ev->uuid);
    if (rc == 0)
        rc = cairn__feed_set_strn(o, "description", desc.data, desc.len);
    if (rc == 0) {
        json_t *types = json_pack("[s]", "threat-report");
        if (types == NULL || json_object_set_new(o, "report_types", types))
            rc = CAIRN_ENOMEM;
    }
    if (rc == 0)
        rc = cairn__feed_set_str(o, "published", pub);
    if (rc == 0 && json_object_set(o, "object_refs", ev->refs) != 0)
        rc = CAIRN_ENOMEM;
    if (rc == 0 && json_array_size(ev->labels) > 0)
        rc = json_object_set(o, "labels", ev->labels) == 0 ? 0 : CAIRN_ENOMEM;
    if (rc == 0) {
        json_t *ext = json_pack("{s:s,s:s}", "source_name", "misp",
                                "external_id", ev->uuid);
        if (ext == NULL || json_array_insert_new(ev->links, 0, ext) != 0 ||
            json_object_set(o, "external_references", ev->links) != 0)
            rc = CAIRN_ENOMEM;
    }
    if (rc == 0)
        rc = cairn__feed_mark(ev->f, o, ev->tlp);
    if (rc != 0)
        goto out;
    rc = cairn__feed_emit(ev->f, o);
    o = NULL;
    if (rc > 0)
        rc = 0;
out:
    json_decref(o);
    cairn_buf_release(&desc);
    return rc;
}

/* The creator organisation as an identity; ev->creator is set. */
static int creator(struct event *ev, const json_t *e, char id[])
{
    const json_t *org = json_object_get(e, "Orgc");
    const char *name = str_of(org, "name");
    const char *uuid = str_of(org, "uuid");
    int rc;

    if (name == NULL || name[0] == '\0')
        return 0;
    if (uuid != NULL && cairn_uuid_check(uuid, strlen(uuid), false, NULL))
        rc = cairn__feed_id("identity", FEED_NAMESPACE, uuid, strlen(uuid), id);
    else
        rc = cairn__feed_id("identity", FEED_LIST_NAMESPACE, name, strlen(name), id);
    if (rc == 0)
        rc = cairn__feed_identity(ev->f, id, name);
    if (rc == CAIRN_EINVAL)
        return 0; /* a name that is not text: no creator */
    if (rc == 0)
        ev->creator = id;
    return rc;
}

static int event(struct cairn_feed *f, const json_t *e)
{
    struct event ev = {.f = f};
    char creator_id[CAIRN_STIX_ID_MAX];
    const json_t *list, *a, *obj;
    size_t i, j;
    int rc = 0;

    ev.uuid = str_of(e, "uuid");
    if (ev.uuid == NULL ||
        !cairn_uuid_check(ev.uuid, strlen(ev.uuid), false, NULL)) {
        cairn__feed_skip(f, 0, NULL, "misp-event",
                  "the event has no valid uuid; skipped");
        return 0;
    }
    if (!time_of(e, "timestamp", &ev.ts))
        ev.ts = f->now;
    if (!time_of(e, "date", &ev.date))
        ev.date = ev.ts;
    ev.labels = json_array();
    ev.refs = json_array();
    ev.links = json_array();
    if (ev.labels == NULL || ev.refs == NULL || ev.links == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    ev.tlp = add_tags(json_object_get(e, "Tag"), ev.labels, &rc);
    if (rc == 0)
        rc = creator(&ev, e, creator_id);
    list = json_object_get(e, "Attribute");
    json_array_foreach(list, i, a)
    {
        if (rc != 0)
            break;
        rc = attribute(&ev, a, NULL, i);
    }
    list = json_object_get(e, "Object");
    json_array_foreach(list, j, obj)
    {
        if (rc != 0 || !json_is_object(obj) || flag_of(obj, "deleted"))
            continue;
        json_array_foreach(json_object_get(obj, "Attribute"), i, a)
        {
            if (rc != 0)
                break;
            rc = attribute(&ev, a, obj, i);
        }
    }
    if (rc == 0)
        rc = make_report(&ev, e);
out:
    json_decref(ev.labels);
    json_decref(ev.refs);
    json_decref(ev.links);
    return rc;
}

/* Report a document that is not JSON, with its line and column. */
static void parse_error(struct cairn_feed *f, const struct cairn_diag *d)
{
    struct cairn_diag copy = *d;

    f->st.skipped++;
    if (f->o.report == NULL)
        return;
    snprintf(copy.file, sizeof copy.file, "%s", f->input);
    f->o.report(&copy, f->o.report_ud);
}

int cairn_feed_misp_event(struct cairn_feed *f, const char *buf, size_t len,
                          const char *name)
{
    struct cairn_diag d;
    json_t *root = NULL;
    int rc;

    f->input = name != NULL ? name : "";
    cairn_diag_clear(&d);
    rc = cairn_json_parse(buf, len, &root, &d);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc < 0) {
        parse_error(f, &d);
        rc = CAIRN_EPARSE;
        goto out;
    }
    const json_t *e = json_object_get(root, "Event");
    if (!json_is_object(e)) {
        cairn__feed_skip(f, 0, NULL, "misp-event",
                  "not a MISP event: no \"Event\" object at the top");
        rc = CAIRN_EPARSE;
        goto out;
    }
    rc = event(f, e);
out:
    json_decref(root);
    return rc;
}

/* ---- feed directories ------------------------------------------------------
 */

/* A feed's files read from a directory. */
struct dir_fetch {
    const char *path;
};

/* cairn_feed_fetch_cb over a directory: PATH/NAME, at most MISP_FILE_MAX. */
static int read_file(void *ud, const char *name, char *where, size_t where_len,
                     char **out, size_t *len_out, char *why, size_t why_len)
{
    const struct dir_fetch *d = ud;
    struct cairn_buf b;
    char chunk[65536];
    FILE *fp;
    int rc = CAIRN_EIO;

    *out = NULL;
    snprintf(where, where_len, "%s/%s", d->path, name);
    cairn_buf_init(&b, MISP_FILE_MAX);
    fp = fopen(where, "rb");
    if (fp == NULL) {
        snprintf(why, why_len, "%s", strerror(errno));
        goto out;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, fp);
        if (n > 0 && (rc = cairn_buf_append(&b, chunk, n)) != 0) {
            snprintf(why, why_len, "%s",
                     rc == CAIRN_ETOOBIG ? "larger than 256 MiB"
                                         : cairn_strerror(rc));
            goto out;
        }
        if (n < sizeof chunk)
            break;
    }
    if (ferror(fp)) {
        snprintf(why, why_len, "read error");
        rc = CAIRN_EIO;
        goto out;
    }
    *out = cairn_buf_steal(&b, len_out);
    rc = *out != NULL ? 0 : CAIRN_ENOMEM;
out:
    if (fp != NULL)
        fclose(fp);
    cairn_buf_release(&b);
    return rc;
}

/* One file of the feed through `fetch`: 0, CAIRN_ENOMEM, or CAIRN_EIO
 * once reported (and counted, when `count`). `where` names it either way. */
static int fetch_file(struct cairn_feed *f, cairn_feed_fetch_cb fetch, void *ud,
                      const char *name, char *where, size_t where_len,
                      char **out, size_t *len, bool count)
{
    char why[512] = "";
    snprintf(where, where_len, "%s", name);
    int rc = fetch(ud, name, where, where_len, out, len, why, sizeof why);
    f->input = where;
    if (rc == 0 || rc == CAIRN_ENOMEM)
        return rc;
    if (count)
        f->st.skipped++;
    cairn__feed_note(f, CAIRN_SEV_ERROR, 0, NULL, "io", "cannot read: %s",
              why[0] ? why : cairn_strerror(rc));
    return CAIRN_EIO; /* reported */
}

int cairn_feed_misp_feed(struct cairn_feed *f, cairn_feed_fetch_cb fetch,
                         void *ud)
{
    char file[4096];
    char *text = NULL;
    size_t len = 0;
    json_t *manifest = NULL;
    struct cairn_diag d;
    int rc;

    rc = fetch_file(f, fetch, ud, "manifest.json", file, sizeof file, &text,
                    &len, false);
    if (rc != 0)
        goto out;
    cairn_diag_clear(&d);
    rc = cairn_json_parse(text, len, &manifest, &d);
    if (rc < 0) {
        if (rc != CAIRN_ENOMEM) {
            parse_error(f, &d);
            rc = CAIRN_EPARSE;
        }
        goto out;
    }
    if (!json_is_object(manifest)) {
        cairn__feed_skip(f, 0, NULL, "misp-manifest",
                  "not a MISP feed manifest: an object of event uuids is "
                  "expected");
        rc = CAIRN_EPARSE;
        goto out;
    }
    const char *key;
    json_t *value;
    json_object_foreach(manifest, key, value)
    {
        char *ev = NULL;
        size_t ev_len = 0;
        /* The key becomes a file name: only a uuid may. */
        if (!cairn_uuid_check(key, strlen(key), false, NULL)) {
            f->input = file;
            cairn__feed_skip(f, 0, NULL, "misp-manifest",
                      "'%.60s' is not an event uuid; skipped", key);
            continue;
        }
        char name[CAIRN_UUID_STRLEN + 8], evfile[4096 + 48];
        snprintf(name, sizeof name, "%s.json", key);
        rc = fetch_file(f, fetch, ud, name, evfile, sizeof evfile, &ev, &ev_len,
                        true);
        if (rc == CAIRN_ENOMEM)
            goto out;
        if (rc == 0) {
            rc = cairn_feed_misp_event(f, ev, ev_len, evfile);
            cairn_free(ev);
            if (rc < 0 && rc != CAIRN_EPARSE)
                goto out;
        }
        rc = 0;
    }
out:
    f->input = "";
    json_decref(manifest);
    cairn_free(text);
    return rc;
}

int cairn_feed_misp_dir(struct cairn_feed *f, const char *path)
{
    struct dir_fetch d = {path};
    if (strlen(path) >= 4096 - 64)
        return CAIRN_EINVAL;
    return cairn_feed_misp_feed(f, read_file, &d);
}
