/* SPDX-License-Identifier: Apache-2.0 */
/* Index keys: the observable values and references a STIX object carries. */
#include <string.h>

#include <jansson.h>

#include "cairn/pattern.h"
#include "values_int.h"

/*
 * A key is a 64-bit hash of a tag byte (the value's type, or KEY_REF for
 * a reference to an object id) and the value in the form the hunt
 * compares it: domains, e-mail addresses, hashes and registry keys in
 * lower case, URLs normalised, a domain's final dot dropped, addresses
 * and CIDR blocks as their prefix length and masked address bytes. The
 * same value always gives the same key, whichever object carries it and
 * however it was written there.
 */
enum { KEY_REF = 0x80, KEY_UNDER = 0x81 };

static uint64_t key_hash(unsigned tag, const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 14695981039346656037u; /* FNV-1a, then a 64-bit mix */
    h = (h ^ tag) * 1099511628211u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ s[i]) * 1099511628211u;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

uint64_t cairn_value_ip_key(int family, const uint8_t addr[16],
                            unsigned prefix)
{
    uint8_t k[17] = {0};
    size_t n = family == 4 ? 4 : 16;
    unsigned max = family == 4 ? 32 : 128;
    if (prefix > max)
        prefix = max;
    k[0] = (uint8_t)prefix;
    for (size_t i = 0; i < n; i++) {
        unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00u >> bits);
        k[1 + i] = addr[i] & mask;
    }
    return key_hash(family == 4 ? CAIRN_IOC_IPV4 : CAIRN_IOC_IPV6, k, n + 1);
}

uint64_t cairn_value_ref_key(const char *id, size_t len)
{
    return key_hash(KEY_REF, id, len);
}

/* Most parents of one name that get a key (the nearest ones). */
#define UNDER_MAX 16

int cairn_value_under_key(const char *domain, size_t len, uint64_t *out)
{
    char norm[HUNT_URL_MAX + 2];
    if (domain == NULL || out == NULL || len == 0 || len > HUNT_URL_MAX)
        return CAIRN_EINVAL;
    cairn__hunt_lower(domain, len, norm);
    if (len > 1 && norm[len - 1] == '.')
        len--;
    if (memchr(norm, '.', len) == NULL)
        return CAIRN_EINVAL; /* a top-level domain: too many names */
    *out = key_hash(KEY_UNDER, norm, len);
    return 0;
}

/* The under-keys of domain `s`: one for each parent of two labels or
 * more ("a.b.example.com": b.example.com, example.com). */
static int under_keys(cairn_value_key_cb cb, void *ud, const char *s,
                      size_t len)
{
    char norm[HUNT_URL_MAX + 2];
    if (len == 0 || len > HUNT_URL_MAX)
        return 0;
    cairn__hunt_lower(s, len, norm);
    if (len > 1 && norm[len - 1] == '.')
        len--;
    size_t i = 0;
    for (int n = 0; n < UNDER_MAX; n++) {
        const char *dot = memchr(norm + i, '.', len - i);
        if (dot == NULL)
            break;
        i = (size_t)(dot - norm) + 1;
        if (i >= len || memchr(norm + i, '.', len - i) == NULL)
            break;
        int rc = cb(ud, key_hash(KEY_UNDER, norm + i, len - i));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static bool caseless(enum cairn_ioc_type t)
{
    return t == CAIRN_IOC_DOMAIN || t == CAIRN_IOC_EMAIL ||
           t == CAIRN_IOC_MD5 || t == CAIRN_IOC_SHA1 ||
           t == CAIRN_IOC_SHA256 || t == CAIRN_IOC_SHA512 ||
           t == CAIRN_IOC_REGKEY;
}

int cairn_value_key(int type, const char *s, size_t len, uint64_t *out)
{
    char norm[HUNT_URL_MAX + 2];
    int family;
    uint8_t addr[16];
    unsigned prefix;

    if (s == NULL || out == NULL || len == 0 || len > HUNT_URL_MAX)
        return CAIRN_EINVAL;
    if (type == CAIRN_IOC_IPV4 || type == CAIRN_IOC_IPV6 ||
        type == CAIRN_VALUE_ADDR) {
        if (cairn__hunt_parse_cidr(s, len, &family, addr, &prefix)) {
            *out = cairn_value_ip_key(family, addr, prefix);
            return 0;
        }
        if (type != CAIRN_VALUE_ADDR)
            return CAIRN_EINVAL;
        type = CAIRN_IOC_DOMAIN;
    }
    if (type <= CAIRN_IOC_UNKNOWN || type >= CAIRN_IOC_TYPE_COUNT)
        return CAIRN_EINVAL;
    size_t n = len;
    if (type == CAIRN_IOC_URL) {
        int r = cairn_hunt_url_normalize(s, len, norm, sizeof norm);
        if (r < 0)
            return CAIRN_EINVAL;
        n = (size_t)r;
    } else if (caseless((enum cairn_ioc_type)type)) {
        cairn__hunt_lower(s, n, norm);
    } else {
        memcpy(norm, s, n);
    }
    if (type == CAIRN_IOC_DOMAIN && n > 1 && norm[n - 1] == '.')
        n--;
    *out = key_hash((unsigned)type, norm, n);
    return 0;
}

/* ---- which pattern paths carry which values ---------------------------- */

static enum cairn_ioc_type hash_algo(const char *name, size_t len)
{
    char n[16];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '-' || c == '_')
            continue;
        if (o + 1 >= sizeof n)
            return CAIRN_IOC_UNKNOWN;
        n[o++] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    n[o] = '\0';
    if (strcmp(n, "MD5") == 0)
        return CAIRN_IOC_MD5;
    if (strcmp(n, "SHA1") == 0)
        return CAIRN_IOC_SHA1;
    if (strcmp(n, "SHA256") == 0)
        return CAIRN_IOC_SHA256;
    if (strcmp(n, "SHA512") == 0)
        return CAIRN_IOC_SHA512;
    return CAIRN_IOC_UNKNOWN;
}

int cairn_value_path_type(const char *obj, const char *path)
{
    static const struct {
        const char *obj, *path;
        int type;
    } map[] = {
        {"domain-name", "value", CAIRN_IOC_DOMAIN},
        {"ipv4-addr", "value", CAIRN_IOC_IPV4},
        {"ipv6-addr", "value", CAIRN_IOC_IPV6},
        {"url", "value", CAIRN_IOC_URL},
        {"email-addr", "value", CAIRN_IOC_EMAIL},
        {"email-message", "from_ref.value", CAIRN_IOC_EMAIL},
        {"email-message", "sender_ref.value", CAIRN_IOC_EMAIL},
        {"email-message", "to_refs[*].value", CAIRN_IOC_EMAIL},
        {"email-message", "cc_refs[*].value", CAIRN_IOC_EMAIL},
        {"email-message", "bcc_refs[*].value", CAIRN_IOC_EMAIL},
        {"file", "name", CAIRN_IOC_FILENAME},
        {"windows-registry-key", "key", CAIRN_IOC_REGKEY},
        {"network-traffic", "dst_ref.value", CAIRN_VALUE_ADDR},
        {"network-traffic", "src_ref.value", CAIRN_VALUE_ADDR},
    };
    if (obj == NULL || path == NULL)
        return CAIRN_IOC_UNKNOWN;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(obj, map[i].obj) == 0 && strcmp(path, map[i].path) == 0)
            return map[i].type;
    if ((strcmp(obj, "file") == 0 || strcmp(obj, "artifact") == 0 ||
         strcmp(obj, "x509-certificate") == 0) &&
        strncmp(path, "hashes.", 7) == 0) {
        const char *algo = path + 7;
        size_t l = strlen(algo);
        if (l >= 2 && algo[0] == '\'' && algo[l - 1] == '\'')
            return hash_algo(algo + 1, l - 2);
        return hash_algo(algo, l);
    }
    return CAIRN_IOC_UNKNOWN;
}

/* ---- the keys of one object -------------------------------------------- */

struct kstate {
    cairn_value_key_cb cb;
    cairn_value_cb vcb; /* values instead of keys, no references */
    void *ud;
    int err;
};

static int emit_value(struct kstate *k, int type, const char *s, size_t len)
{
    uint64_t key;
    if (k->vcb != NULL)
        return k->vcb(k->ud, type, s, len);
    if (cairn_value_key(type, s, len, &key) != 0)
        return 0; /* not a value the hunt could compare: not indexed */
    int rc = k->cb(k->ud, key);
    int family;
    uint8_t addr[16];
    unsigned prefix;
    if (rc == 0 && (type == CAIRN_IOC_DOMAIN ||
                    (type == CAIRN_VALUE_ADDR &&
                     !cairn__hunt_parse_cidr(s, len, &family, addr, &prefix))))
        rc = under_keys(k->cb, k->ud, s, len);
    return rc;
}

static int pattern_cb(const struct cairn_pattern_walk_item *it, void *ud)
{
    struct kstate *k = ud;
    struct cairn_pattern_literal lit;
    if (it->node != CAIRN_PATTERN_NODE_CMP || it->negated)
        return 0;
    if (it->op != CAIRN_PATTERN_OP_EQ && it->op != CAIRN_PATTERN_OP_IN &&
        it->op != CAIRN_PATTERN_OP_ISSUBSET)
        return 0;
    int pt = cairn_value_path_type(it->object_type, it->path);
    if (pt == CAIRN_IOC_UNKNOWN)
        return 0;
    for (size_t i = 0; i < it->n_literals; i++) {
        if (!cairn_pattern_walk_literal(it, i, &lit) ||
            lit.kind != CAIRN_PATTERN_LIT_STRING)
            continue;
        int rc = emit_value(k, pt, lit.s, lit.len);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int sco_keys(struct kstate *k, const json_t *o)
{
    static const struct {
        const char *type, *member;
        int vt;
    } plain[] = {
        {"domain-name", "value", CAIRN_IOC_DOMAIN},
        {"ipv4-addr", "value", CAIRN_IOC_IPV4},
        {"ipv6-addr", "value", CAIRN_IOC_IPV6},
        {"url", "value", CAIRN_IOC_URL},
        {"email-addr", "value", CAIRN_IOC_EMAIL},
        {"file", "name", CAIRN_IOC_FILENAME},
        {"windows-registry-key", "key", CAIRN_IOC_REGKEY},
    };
    const char *type = json_string_value(json_object_get(o, "type"));
    int rc = 0;
    if (type == NULL)
        return 0;
    for (size_t i = 0; rc == 0 && i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(type, plain[i].type) != 0)
            continue;
        const json_t *v = json_object_get(o, plain[i].member);
        if (json_is_string(v))
            rc = emit_value(k, plain[i].vt, json_string_value(v),
                            json_string_length(v));
    }
    const json_t *hashes = json_object_get(o, "hashes");
    if (json_is_object(hashes) &&
        (strcmp(type, "file") == 0 || strcmp(type, "artifact") == 0 ||
         strcmp(type, "x509-certificate") == 0)) {
        const char *algo;
        const json_t *v;
        json_object_foreach((json_t *)hashes, algo, v)
        {
            enum cairn_ioc_type ht = hash_algo(algo, strlen(algo));
            if (rc == 0 && ht != CAIRN_IOC_UNKNOWN && json_is_string(v))
                rc = emit_value(k, ht, json_string_value(v),
                                json_string_length(v));
        }
    }
    return rc;
}

static bool ends_with(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len >= n && memcmp(s + len - n, suf, n) == 0;
}

static int ref_keys(struct kstate *k, const json_t *o)
{
    const char *name;
    const json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)o, name, v)
    {
        size_t nl = strlen(name);
        /* Every object names its creator and markings: indexing those
         * would give an identity or a TLP marking millions of referrers
         * and tell nothing. */
        if (rc != 0 || strcmp(name, "created_by_ref") == 0 ||
            strcmp(name, "object_marking_refs") == 0)
            continue;
        if (ends_with(name, nl, "_ref") && json_is_string(v)) {
            rc = k->cb(k->ud, cairn_value_ref_key(json_string_value(v),
                                                  json_string_length(v)));
        } else if (ends_with(name, nl, "_refs") && json_is_array(v)) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e)
            {
                if (rc == 0 && json_is_string(e))
                    rc = k->cb(k->ud,
                               cairn_value_ref_key(json_string_value(e),
                                                   json_string_length(e)));
            }
        }
    }
    return rc;
}

static int object_keys(struct kstate *kp, const json_t *obj)
{
    struct kstate k = *kp;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (type == NULL)
        return 0;
    int rc = k.vcb != NULL ? 0 : ref_keys(&k, obj);
    if (rc != 0)
        return rc;
    if (strcmp(type, "indicator") == 0) {
        const json_t *p = json_object_get(obj, "pattern");
        const char *pt = json_string_value(json_object_get(obj, "pattern_type"));
        if (!json_is_string(p) || (pt != NULL && strcmp(pt, "stix") != 0))
            return 0;
        struct cairn_pattern *pat = NULL;
        if (cairn_pattern_parse(json_string_value(p), json_string_length(p),
                                NULL, &pat, NULL) < 0)
            return 0; /* validation refuses it before it is stored */
        rc = cairn_pattern_walk(pat, pattern_cb, &k);
        cairn_pattern_free(pat);
        return rc == CAIRN_ETOOBIG ? 0 : rc;
    }
    if (strcmp(type, "observed-data") == 0) {
        const json_t *objs = json_object_get(obj, "objects");
        const char *key;
        const json_t *v;
        if (json_is_object(objs))
            json_object_foreach((json_t *)objs, key, v)
            {
                if (rc == 0 && json_is_object(v))
                    rc = sco_keys(&k, v);
            }
        return rc;
    }
    return sco_keys(&k, obj);
}

int cairn_value_object_keys(const json_t *obj, cairn_value_key_cb cb,
                            void *ud)
{
    struct kstate k = {.cb = cb, .ud = ud};
    if (!json_is_object(obj) || cb == NULL)
        return CAIRN_EINVAL;
    return object_keys(&k, obj);
}

int cairn_value_object_values(const json_t *obj, cairn_value_cb cb, void *ud)
{
    struct kstate k = {.vcb = cb, .ud = ud};
    if (!json_is_object(obj) || cb == NULL)
        return CAIRN_EINVAL;
    return object_keys(&k, obj);
}
