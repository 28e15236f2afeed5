/* SPDX-License-Identifier: Apache-2.0 */
/* The STIX 2.1 Cyber-observable Objects: type tables and their rules. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stix/stix_int.h"

/*
 * Everything here follows section 6 of the STIX 2.1 specification (and
 * the predefined extensions it defines); the OASIS JSON schemas were used
 * only where the specification names no values. Syntax checks of values
 * that a producer may have defanged (addresses, domains, URLs) are skipped
 * when the object says "defanged": true.
 */

/* Largest integer STIX allows (54-bit signed, section 2.10). */
#define INT_MAX54 9007199254740991.0

/* Property spec shorthands: name, then what the kind needs. */
/* clang-format off */
#define STR(n) {n, P_STRING, 0, NULL, 0, 0, NULL}
#define STR_REQ(n) {n, P_STRING, PF_REQUIRED, NULL, 0, 0, NULL}
#define BOOL(n) {n, P_BOOL, 0, NULL, 0, 0, NULL}
#define INT(n) {n, P_INT, 0, NULL, 0, 0, NULL}
#define UINT(n) {n, P_INT, 0, NULL, 0, INT_MAX54, NULL}
#define FLOAT(n, lo, hi) {n, P_FLOAT, 0, NULL, lo, hi, NULL}
#define TIME(n) {n, P_TIMESTAMP, 0, NULL, 0, 0, NULL}
#define HEX(n) {n, P_HEX, 0, NULL, 0, 0, NULL}
#define HEX_REQ(n) {n, P_HEX, PF_REQUIRED, NULL, 0, 0, NULL}
#define REF(n, types) {n, P_ID, 0, types, 0, 0, NULL}
#define REFS(n, types) {n, P_LIST_ID, 0, types, 0, 0, NULL}
#define STRS(n) {n, P_LIST_STRING, 0, NULL, 0, 0, NULL}
#define HASHES(n) {n, P_HASHES, 0, cairn__stix_hash_algorithms, 0, 0, check_hashes}
#define DICT(n, check) {n, P_DICT, 0, NULL, 0, 0, check}
#define VOCAB(n, list) {n, P_VOCAB, 0, list, 0, 0, NULL}
#define ENUM(n, list) {n, P_ENUM, 0, list, 0, 0, NULL}
#define OBJECT(n, check) {n, P_OBJECT, 0, NULL, 0, 0, check}
#define OBJECTS(n, check) {n, P_LIST_OBJECT, 0, NULL, 0, 0, check}
#define END {NULL, P_ANY, 0, NULL, 0, 0, NULL}
/* clang-format on */

/* How much of a bad value a message quotes. */
#define QUOTE_MAX 80

/* Allowed types of references. */
static const char *const t_artifact[] = {"artifact", NULL};
static const char *const t_artifact_file[] = {"artifact", "file", NULL};
static const char *const t_as[] = {"autonomous-system", NULL};
static const char *const t_directory[] = {"directory", NULL};
static const char *const t_email_addr[] = {"email-addr", NULL};
static const char *const t_file[] = {"file", NULL};
static const char *const t_file_directory[] = {"file", "directory", NULL};
static const char *const t_mac[] = {"mac-addr", NULL};
static const char *const t_resolves[] = {"ipv4-addr", "ipv6-addr",
                                         "domain-name", NULL};
static const char *const t_endpoint[] = {"ipv4-addr", "ipv6-addr", "mac-addr",
                                         "domain-name", NULL};
static const char *const t_traffic[] = {"network-traffic", NULL};
static const char *const t_process[] = {"process", NULL};
static const char *const t_user[] = {"user-account", NULL};

/* ---- small helpers ------------------------------------------------------ */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool has(const json_t *obj, const char *key)
{
    return json_object_get(obj, key) != NULL;
}

static bool defanged(const json_t *obj)
{
    return json_is_true(json_object_get(obj, "defanged"));
}

/* Whether `obj` has a member that `props` defines, other than `skip`. */
static bool has_any_prop(const json_t *obj, const struct prop_spec *props,
                         const char *skip)
{
    for (; props->name != NULL; props++)
        if ((skip == NULL || strcmp(props->name, skip) != 0) &&
            has(obj, props->name))
            return true;
    return false;
}

/* The object's string property `key`, or NULL (wrong types are reported by
 * the property checks already). */
static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- value checks ------------------------------------------------------- */

/* A decimal number without leading zeros, at most `max`; -1 if not one. */
static long dec_upto(const char *s, size_t len, long max)
{
    if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n <= max ? n : -1;
}

/* "a.b.c.d" or "a.b.c.d/n": dotted quad without leading zeros. */
static bool ipv4_ok(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    if (slash != NULL && dec_upto(slash + 1, len - alen - 1, 32) < 0)
        return false;
    return cairn_ipv4_parse(s, alen, NULL);
}

static bool ipv6_ok(const char *s, size_t len)
{
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr out;
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    if (slash != NULL && dec_upto(slash + 1, len - alen - 1, 128) < 0)
        return false;
    if (alen == 0 || alen >= sizeof addr)
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    return inet_pton(AF_INET6, addr, &out) == 1;
}

/* Section 6.10: "00:00:ab:cd:ef:01", lower case, leading zeros. */
static bool mac_ok(const char *s, size_t len)
{
    if (len != 17)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':')
                return false;
        } else if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
            return false;
        }
    }
    return true;
}

/*
 * RFC 1034 names, with U-labels (RFC 5890) let through as non-ASCII bytes
 * and '_' allowed because real DNS names (_dmarc, SRV) use it. Returns
 * NULL when valid, else why not.
 */
static const char *domain_problem(const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '.')
        len--; /* a fully qualified name may end with the root's dot */
    if (len == 0)
        return "it is empty";
    if (len > 253)
        return "it is longer than 253 characters";
    size_t start = 0;
    bool all_digits = true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            unsigned char c = (unsigned char)s[i];
            if (!is_digit((char)c))
                all_digits = false;
            if (!(c >= 0x80 || is_alpha((char)c) || is_digit((char)c) ||
                  c == '-' || c == '_'))
                return "it contains a character other than letters, digits, "
                       "'-' and '_'";
            continue;
        }
        size_t llen = i - start;
        if (llen == 0)
            return "it has an empty label";
        if (llen > 63)
            return "it has a label longer than 63 characters";
        if (s[start] == '-' || s[i - 1] == '-')
            return "it has a label that starts or ends with '-'";
        if (i < len)
            all_digits = true;
        start = i + 1;
    }
    if (all_digits)
        return "its last label is all digits (an IP address belongs in "
               "ipv4-addr)";
    return NULL;
}

static bool atext(unsigned char c)
{
    return c >= 0x80 || is_alpha((char)c) || is_digit((char)c) ||
           strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* RFC 5322 addr-spec (RFC 6532 for UTF-8): NULL when valid, else why. */
static const char *email_problem(const char *s, size_t len)
{
    const char *at = NULL;
    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == '@') {
            at = s + i - 1;
            break;
        }
    }
    if (at == NULL)
        return "it has no '@'";
    size_t llen = (size_t)(at - s);
    const char *dom = at + 1;
    size_t dlen = len - llen - 1;
    if (llen == 0)
        return "the local part before '@' is empty";
    if (llen >= 2 && s[0] == '"' && s[llen - 1] == '"') {
        /* quoted-string: anything but bare quotes and control characters */
        for (size_t i = 1; i + 1 < llen; i++)
            if ((unsigned char)s[i] < 0x20 || (s[i] == '"' && s[i - 1] != '\\'))
                return "the quoted local part is malformed";
    } else {
        for (size_t i = 0; i < llen; i++) {
            if (s[i] == '.') {
                if (i == 0 || i + 1 == llen || s[i + 1] == '.')
                    return "the local part has a misplaced '.'";
            } else if (!atext((unsigned char)s[i])) {
                return "the local part contains a character that needs "
                       "quoting (a display name does not belong in value)";
            }
        }
    }
    if (dlen >= 2 && dom[0] == '[' && dom[dlen - 1] == ']')
        return NULL; /* domain-literal such as [192.0.2.1] */
    if (domain_problem(dom, dlen) != NULL)
        return "the part after '@' is not a domain name";
    return NULL;
}

/* Schemes whose URLs always name a host. */
static const char *const host_schemes[] = {"http", "https", "ftp", "ftps",
                                           "ws",   "wss",   NULL};

/* RFC 3986 absolute URI; non-ASCII let through (IRIs). NULL when valid. */
static const char *url_problem(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !is_alpha(s[0]))
        return "it does not start with a scheme such as https:";
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
                       s[i] == '-' || s[i] == '.'))
        i++;
    if (i == len || s[i] != ':')
        return "it does not start with a scheme such as https:";
    size_t scheme_len = i++;
    if (i == len)
        return "nothing follows the scheme";
    for (size_t j = i; j < len; j++) {
        unsigned char c = (unsigned char)s[j];
        if (c <= 0x20 || c == 0x7f)
            return "it contains whitespace or control characters";
        if (c == '%' &&
            (j + 2 >= len || !is_hex(s[j + 1]) || !is_hex(s[j + 2])))
            return "it contains a '%' not followed by two hexadecimal digits";
    }
    char scheme[8];
    if (scheme_len < sizeof scheme) {
        for (size_t j = 0; j < scheme_len; j++)
            scheme[j] = (char)(s[j] | 0x20);
        scheme[scheme_len] = '\0';
        if (cairn__stix_in_list(host_schemes, scheme)) {
            if (len - i < 3 || s[i] != '/' || s[i + 1] != '/' ||
                strchr("/?#", s[i + 2]) != NULL)
                return "it names no host after \"//\"";
        }
    }
    return NULL;
}

/* RFC 6838 restricted-name. */
static size_t media_name_len(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !(is_alpha(s[0]) || is_digit(s[0])))
        return 0;
    while (i < len && i < 127 &&
           (is_alpha(s[i]) || is_digit(s[i]) || strchr("!#$&-^_.+", s[i])))
        i++;
    return i;
}

static bool media_type_ok(const char *s, size_t len)
{
    size_t t = media_name_len(s, len);
    if (t == 0 || t >= len || s[t] != '/')
        return false;
    size_t st = media_name_len(s + t + 1, len - t - 1);
    return st > 0 && t + 1 + st == len;
}

/* CPE 2.3 formatted string: "cpe:2.3:" and 13 components in all. */
static bool cpe23_ok(const char *s, size_t len)
{
    if (len < 8 || memcmp(s, "cpe:2.3:", 8) != 0)
        return false;
    size_t fields = 1;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20)
            return false;
        if (s[i] == '\\')
            i++; /* an escaped character, possibly ':' */
        else if (s[i] == ':')
            fields++;
    }
    return fields == 13;
}

/* ---- reporting helpers -------------------------------------------------- */

/* Error on the string property `key` unless `problem` is NULL. */
static void report_value(struct vctx *v, const char *key, const char *rule,
                         const char *what, const char *problem,
                         const char *value)
{
    if (problem != NULL)
        cairn__v_error(v, key, rule, "\"%.*s\" is not %s: %s", QUOTE_MAX, value, what,
                problem);
}

/* "An object using the X extension MUST contain at least one property
 * from this extension" (sections 6.7.3 to 6.16.2). */
static void require_some_prop(struct vctx *v, const json_t *obj,
                              const struct prop_spec *props, const char *what)
{
    if (!has_any_prop(obj, props, NULL))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "%s must contain at least one of its properties", what);
}

/* ---- hashes (section 2.7, vocabulary 10.7) ------------------------------ */

static bool all_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_hex(s[i]))
            return false;
    return true;
}

/* ssdeep "blocksize:hash:hash", base64 alphabet, at most 64 per part. */
static bool ssdeep_ok(const char *s, size_t len)
{
    size_t i = 0, part = 0, plen = 0;
    while (i < len && is_digit(s[i]) && i < 10)
        i++;
    if (i == 0 || i == len || s[i] != ':')
        return false;
    for (i++; i < len; i++) {
        if (s[i] == ':') {
            if (++part > 1)
                return false;
            plen = 0;
        } else if (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' ||
                   s[i] == '/') {
            if (++plen > 64)
                return false;
        } else {
            return false;
        }
    }
    return part == 1;
}

/*
 * validate.c checks the fixed-length hex digests (MD5, SHA-*); the two
 * fuzzy hashes of the vocabulary have formats of their own.
 */
static void check_hash_value(struct vctx *v, const char *alg, const char *s,
                             size_t len)
{
    const char *want = NULL;
    if (strcmp(alg, "SSDEEP") == 0) {
        if (!ssdeep_ok(s, len))
            want = "an ssdeep piecewise hash (blocksize:hash:hash)";
    } else if (strcmp(alg, "TLSH") == 0) {
        /* 35 bytes in hex; TLSH 4 prints them after a "T1" version tag */
        bool ok =
            (len == 70 && all_hex(s, len)) ||
            (len == 72 && s[0] == 'T' && s[1] == '1' && all_hex(s + 2, 70));
        if (!ok)
            want = "70 hex digits (35 bytes), optionally after \"T1\"";
    }
    if (want != NULL)
        cairn__v_error(v, alg, "hash-value", "%s hash \"%.140s\" must be %s", alg, s,
                want);
}

/* `check` of every hashes property (after validate.c's own checks). */
static void check_hashes(struct vctx *v, const json_t *value)
{
    const char *alg;
    json_t *h;
    json_object_foreach((json_t *)value, alg, h)
    {
        if (json_is_string(h))
            check_hash_value(v, alg, json_string_value(h),
                             json_string_length(h));
    }
}

/* ---- dictionaries whose values have one type ---------------------------- */

static const char *json_kind_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

enum dict_values { DV_STRING, DV_INT, DV_INT_OR_STRING, DV_STRING_LIST };

static bool string_list(const json_t *j)
{
    if (!json_is_array(j) || json_array_size(j) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(j); i++)
        if (!json_is_string(json_array_get(j, i)))
            return false;
    return true;
}

static void check_dict_values(struct vctx *v, const json_t *dict,
                              enum dict_values want)
{
    static const char *const names[] = {
        [DV_STRING] = "a string",
        [DV_INT] = "an integer",
        [DV_INT_OR_STRING] = "an integer or a string",
        [DV_STRING_LIST] = "a non-empty list of strings",
    };
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)dict, key, val)
    {
        bool ok;
        switch (want) {
        case DV_STRING:
            ok = json_is_string(val);
            break;
        case DV_INT:
            ok = json_is_integer(val);
            break;
        case DV_INT_OR_STRING:
            ok = json_is_integer(val) || json_is_string(val);
            break;
        default:
            ok = string_list(val);
            break;
        }
        if (!ok)
            cairn__v_error(v, key, "sco-dict-value", "value must be %s, found %s",
                    names[want], json_kind_name(val));
    }
}

static void dict_strings(struct vctx *v, const json_t *value)
{
    check_dict_values(v, value, DV_STRING);
}

static void dict_ints(struct vctx *v, const json_t *value)
{
    check_dict_values(v, value, DV_INT);
}

static void dict_ints_or_strings(struct vctx *v, const json_t *value)
{
    check_dict_values(v, value, DV_INT_OR_STRING);
}

static void dict_string_lists(struct vctx *v, const json_t *value)
{
    check_dict_values(v, value, DV_STRING_LIST);
}

/* ---- references to "any cyber-observable object" ------------------------ */

/* file.contains_refs: SCOs, including custom ones, but no SDO/SRO/meta. */
static void refs_to_scos(struct vctx *v, const json_t *value)
{
    for (size_t i = 0; i < json_array_size(value); i++) {
        const char *id = json_string_value(json_array_get(value, i));
        if (!cairn_stix_id_check(id, NULL))
            continue; /* reported as a bad identifier already */
        const char *sep = strstr(id, "--");
        char type[251];
        if ((size_t)(sep - id) >= sizeof type)
            continue;
        memcpy(type, id, (size_t)(sep - id));
        type[sep - id] = '\0';
        enum cairn_stix_kind kind = cairn_stix_kind_of(type);
        if (kind == CAIRN_STIX_SCO || kind == CAIRN_STIX_UNKNOWN)
            continue;
        size_t mark = cairn__v_push_index(v, i);
        cairn__v_error(v, NULL, "reference-type",
                "\"%s\" must refer to a cyber-observable object, not to "
                "an object of type %s",
                id, type);
        cairn__v_pop(v, mark);
    }
}

/* ---- predefined extensions ---------------------------------------------- */

struct ext_spec {
    const char *name;
    const struct prop_spec *props;
    void (*rules)(struct vctx *v, const json_t *ext);
};

/* Check the predefined extensions of `obj` that `exts` describes. */
static void check_extensions(struct vctx *v, const json_t *obj,
                             const struct ext_spec *exts)
{
    const json_t *dict = json_object_get(obj, "extensions");
    if (!json_is_object(dict))
        return;
    for (; exts->name != NULL; exts++) {
        const json_t *ext = json_object_get(dict, exts->name);
        if (!json_is_object(ext) || json_object_size(ext) == 0)
            continue; /* validate.c reports those */
        size_t mark = cairn__v_push_key(v, "extensions");
        cairn__v_push_key(v, exts->name);
        cairn__v_check_props(v, ext, exts->props, false);
        /* a required property already keeps the extension from being empty */
        bool required = false;
        for (const struct prop_spec *p = exts->props; p->name != NULL; p++)
            if (p->flags & PF_REQUIRED)
                required = true;
        if (!required)
            require_some_prop(v, ext, exts->props, exts->name);
        if (exts->rules != NULL)
            exts->rules(v, ext);
        cairn__v_pop(v, mark);
    }
}

/* ---- deterministic ids (section 2.9) ------------------------------------ */

/*
 * SCO ids SHOULD be the UUIDv5 of the id-contributing properties, and MUST
 * be a UUIDv4 when none of them is present; both are SHOULD-level advice to
 * the producer (section 3.4 allows other algorithms), hence warnings.
 */
static void check_sco_id(struct vctx *v, const json_t *obj,
                         const struct type_spec *spec)
{
    const char *id = cairn_stix_id(obj);
    if (!cairn_stix_id_check(id, spec->type))
        return; /* the common checks report a bad id */
    const char *uuid = id + strlen(spec->type) + 2;

    bool any = false;
    for (const char *const *p = spec->id_props; p != NULL && *p != NULL; p++)
        if (has(obj, *p))
            any = true;
    if (!any) {
        int version = 0;
        cairn_uuid_check(uuid, strlen(uuid), true, &version);
        if (version == 4)
            return;
        if (spec->id_props == NULL)
            cairn__v_warn(v, "id", "sco-id-uuid4",
                   "id should be a UUIDv4: %s objects have no "
                   "id-contributing properties",
                   spec->type);
        else
            cairn__v_warn(v, "id", "sco-id-uuid4",
                   "id should be a UUIDv4: none of its id-contributing "
                   "properties is present");
        return;
    }
    char want[CAIRN_STIX_ID_MAX];
    if (cairn_stix_sco_id(obj, want) != 0)
        return; /* out of memory: no finding rather than a wrong one */
    if (strcasecmp(want, id) != 0)
        cairn__v_warn(v, "id", "sco-id-deterministic",
               "id should be %s (the UUIDv5 of its id-contributing "
               "properties)",
               want);
}

/* ---- 6.1 artifact ------------------------------------------------------- */

static void check_mime_type(struct vctx *v, const json_t *obj)
{
    const json_t *mt = json_object_get(obj, "mime_type");
    if (json_is_string(mt) &&
        !media_type_ok(json_string_value(mt), json_string_length(mt)))
        cairn__v_warn(v, "mime_type", "sco-mime-type",
               "mime_type \"%.*s\" should be an IANA media type "
               "(type/subtype, such as application/zip)",
               QUOTE_MAX, json_string_value(mt));
}

static const struct prop_spec artifact_props[] = {
    STR("mime_type"),
    {"payload_bin", P_BINARY, 0, NULL, 0, 0, NULL},
    {"url", P_URL, 0, NULL, 0, 0, NULL},
    HASHES("hashes"),
    ENUM("encryption_algorithm", cairn__stix_enum_encryption_algorithm),
    STR("decryption_key"),
    END,
};
static const char *const artifact_id[] = {"hashes", "payload_bin", NULL};
static const struct type_spec artifact_type;

static void artifact_rules(struct vctx *v, const json_t *obj)
{
    bool bin = has(obj, "payload_bin"), url = has(obj, "url");
    if (!bin && !url)
        cairn__v_error(v, NULL, "sco-artifact-content",
                "one of payload_bin or url is required");
    else if (bin && url)
        cairn__v_error(v, NULL, "sco-artifact-content",
                "payload_bin and url must not both be present");
    if (url && !has(obj, "hashes"))
        cairn__v_error(v, NULL, "sco-artifact-hashes",
                "hashes is required when url is present");
    if (has(obj, "decryption_key") && !has(obj, "encryption_algorithm"))
        cairn__v_error(v, "decryption_key", "sco-artifact-decryption-key",
                "decryption_key must not be present without "
                "encryption_algorithm");
    check_mime_type(v, obj);
    check_sco_id(v, obj, &artifact_type);
}

static const struct type_spec artifact_type = {
    "artifact", CAIRN_STIX_SCO, artifact_props, artifact_id, artifact_rules,
};

/* ---- 6.2 autonomous-system ---------------------------------------------- */

static const struct prop_spec as_props[] = {
    /* AS numbers are 32-bit (RFC 6793) */
    {"number", P_INT, PF_REQUIRED, NULL, 0, 4294967295.0, NULL},
    STR("name"),
    STR("rir"),
    END,
};
static const char *const as_id[] = {"number", NULL};
static const struct type_spec as_type;

static void as_rules(struct vctx *v, const json_t *obj)
{
    check_sco_id(v, obj, &as_type);
}

static const struct type_spec as_type = {
    "autonomous-system", CAIRN_STIX_SCO, as_props, as_id, as_rules,
};

/* ---- 6.3 directory ------------------------------------------------------ */

static const struct prop_spec directory_props[] = {
    STR_REQ("path"),
    STR("path_enc"),
    TIME("ctime"),
    TIME("mtime"),
    TIME("atime"),
    REFS("contains_refs", t_file_directory),
    END,
};
static const char *const directory_id[] = {"path", NULL};
static const struct type_spec directory_type;

static void directory_rules(struct vctx *v, const json_t *obj)
{
    check_sco_id(v, obj, &directory_type);
}

static const struct type_spec directory_type = {
    "directory", CAIRN_STIX_SCO, directory_props, directory_id, directory_rules,
};

/* ---- 6.4 domain-name ---------------------------------------------------- */

static const struct prop_spec domain_props[] = {
    STR_REQ("value"),
    REFS("resolves_to_refs", t_resolves),
    END,
};
static const char *const value_id[] = {"value", NULL};
static const struct type_spec domain_type;

static void domain_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj))
        report_value(
            v, "value", "sco-domain-name", "a domain name",
            domain_problem(json_string_value(val), json_string_length(val)),
            json_string_value(val));
    check_sco_id(v, obj, &domain_type);
}

static const struct type_spec domain_type = {
    "domain-name", CAIRN_STIX_SCO, domain_props, value_id, domain_rules,
};

/* ---- 6.5 email-addr ----------------------------------------------------- */

static const struct prop_spec email_addr_props[] = {
    STR_REQ("value"),
    STR("display_name"),
    REF("belongs_to_ref", t_user),
    END,
};
static const struct type_spec email_addr_type;

static void email_addr_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj))
        report_value(
            v, "value", "sco-email-addr",
            "an email address (local-part@domain)",
            email_problem(json_string_value(val), json_string_length(val)),
            json_string_value(val));
    check_sco_id(v, obj, &email_addr_type);
}

static const struct type_spec email_addr_type = {
    "email-addr", CAIRN_STIX_SCO, email_addr_props, value_id, email_addr_rules,
};

/* ---- 6.6 email-message -------------------------------------------------- */

static const struct prop_spec mime_part_props[] = {
    STR("body"),
    REF("body_raw_ref", t_artifact_file),
    STR("content_type"),
    STR("content_disposition"),
    END,
};

static void check_mime_part(struct vctx *v, const json_t *part)
{
    cairn__v_check_props(v, part, mime_part_props, false);
    static const char *const one_of[] = {"body", "body_raw_ref", NULL};
    cairn__v_require_one_of(v, part, one_of);
}

/* Section 6.6.1 says the values are lists; its own example uses a string,
 * so a string is only a warning. */
static void check_header_fields(struct vctx *v, const json_t *dict)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)dict, key, val)
    {
        if (json_is_string(val))
            cairn__v_warn(v, key, "sco-dict-value",
                   "value should be a list of strings (one per occurrence "
                   "of the header), found a string");
        else if (!string_list(val))
            cairn__v_error(v, key, "sco-dict-value",
                    "value must be a non-empty list of strings, found %s",
                    json_kind_name(val));
    }
}

static const struct prop_spec email_message_props[] = {
    {"is_multipart", P_BOOL, PF_REQUIRED, NULL, 0, 0, NULL},
    TIME("date"),
    STR("content_type"),
    REF("from_ref", t_email_addr),
    REF("sender_ref", t_email_addr),
    REFS("to_refs", t_email_addr),
    REFS("cc_refs", t_email_addr),
    REFS("bcc_refs", t_email_addr),
    STR("message_id"),
    STR("subject"),
    STRS("received_lines"),
    DICT("additional_header_fields", check_header_fields),
    STR("body"),
    OBJECTS("body_multipart", check_mime_part),
    REF("raw_email_ref", t_artifact),
    END,
};
static const char *const email_message_id[] = {"from_ref", "subject", "body",
                                               NULL};
static const struct type_spec email_message_type;

static void email_message_rules(struct vctx *v, const json_t *obj)
{
    const json_t *multi = json_object_get(obj, "is_multipart");
    if (json_is_true(multi) && has(obj, "body"))
        cairn__v_error(v, "body", "sco-email-body",
                "body must not be present when is_multipart is true "
                "(the parts go in body_multipart)");
    if (json_is_false(multi) && has(obj, "body_multipart"))
        cairn__v_error(v, "body_multipart", "sco-email-body",
                "body_multipart must not be present when is_multipart "
                "is false (the body goes in body)");
    check_sco_id(v, obj, &email_message_type);
}

static const struct type_spec email_message_type = {
    "email-message",  CAIRN_STIX_SCO,      email_message_props,
    email_message_id, email_message_rules,
};

/* ---- 6.7 file and its extensions ---------------------------------------- */

static const struct prop_spec archive_ext_props[] = {
    {"contains_refs", P_LIST_ID, PF_REQUIRED, t_file_directory, 0, 0, NULL},
    STR("comment"),
    END,
};

static const struct prop_spec ads_props[] = {
    STR_REQ("name"),
    HASHES("hashes"),
    UINT("size"),
    END,
};

static void check_ads(struct vctx *v, const json_t *ads)
{
    cairn__v_check_props(v, ads, ads_props, false);
}

static const struct prop_spec ntfs_ext_props[] = {
    STR("sid"),
    OBJECTS("alternate_data_streams", check_ads),
    END,
};

static const struct prop_spec pdf_ext_props[] = {
    STR("version"),
    BOOL("is_optimized"),
    DICT("document_info_dict", dict_strings),
    STR("pdfid0"),
    STR("pdfid1"),
    END,
};

static const struct prop_spec raster_ext_props[] = {
    INT("image_height"),
    INT("image_width"),
    INT("bits_per_pixel"),
    DICT("exif_tags", dict_ints_or_strings),
    END,
};

static const struct prop_spec pe_optional_header_props[] = {
    HEX("magic_hex"),
    INT("major_linker_version"),
    INT("minor_linker_version"),
    UINT("size_of_code"),
    UINT("size_of_initialized_data"),
    UINT("size_of_uninitialized_data"),
    INT("address_of_entry_point"),
    INT("base_of_code"),
    INT("base_of_data"),
    INT("image_base"),
    INT("section_alignment"),
    INT("file_alignment"),
    INT("major_os_version"),
    INT("minor_os_version"),
    INT("major_image_version"),
    INT("minor_image_version"),
    INT("major_subsystem_version"),
    INT("minor_subsystem_version"),
    HEX("win32_version_value_hex"),
    UINT("size_of_image"),
    UINT("size_of_headers"),
    HEX("checksum_hex"),
    HEX("subsystem_hex"),
    HEX("dll_characteristics_hex"),
    UINT("size_of_stack_reserve"),
    UINT("size_of_stack_commit"),
    UINT("size_of_heap_reserve"),
    UINT("size_of_heap_commit"),
    HEX("loader_flags_hex"),
    INT("number_of_rva_and_sizes"),
    HASHES("hashes"),
    END,
};

static void check_pe_optional_header(struct vctx *v, const json_t *hdr)
{
    cairn__v_check_props(v, hdr, pe_optional_header_props, false);
    require_some_prop(v, hdr, pe_optional_header_props, "optional_header");
}

static const struct prop_spec pe_section_props[] = {
    STR_REQ("name"),        UINT("size"),
    FLOAT("entropy", 0, 8), /* Shannon entropy of bytes: 0 to 8 bits */
    HASHES("hashes"),       END,
};

static void check_pe_section(struct vctx *v, const json_t *sec)
{
    cairn__v_check_props(v, sec, pe_section_props, false);
}

static const struct prop_spec pebinary_ext_props[] = {
    {"pe_type", P_VOCAB, PF_REQUIRED, cairn__stix_vocab_windows_pebinary_type, 0, 0,
     NULL},
    STR("imphash"),
    HEX("machine_hex"),
    UINT("number_of_sections"),
    TIME("time_date_stamp"),
    HEX("pointer_to_symbol_table_hex"),
    UINT("number_of_symbols"),
    UINT("size_of_optional_header"),
    HEX("characteristics_hex"),
    HASHES("file_header_hashes"),
    OBJECT("optional_header", check_pe_optional_header),
    OBJECTS("sections", check_pe_section),
    END,
};

static void pebinary_ext_rules(struct vctx *v, const json_t *ext)
{
    if (!has_any_prop(ext, pebinary_ext_props, "pe_type"))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "windows-pebinary-ext must contain at least one property "
                "besides pe_type");
}

static const struct ext_spec file_exts[] = {
    {"archive-ext", archive_ext_props, NULL},
    {"ntfs-ext", ntfs_ext_props, NULL},
    {"pdf-ext", pdf_ext_props, NULL},
    {"raster-image-ext", raster_ext_props, NULL},
    {"windows-pebinary-ext", pebinary_ext_props, pebinary_ext_rules},
    {NULL, NULL, NULL},
};

static const struct prop_spec file_props[] = {
    HASHES("hashes"),
    UINT("size"),
    STR("name"),
    STR("name_enc"),
    HEX("magic_number_hex"),
    STR("mime_type"),
    TIME("ctime"),
    TIME("mtime"),
    TIME("atime"),
    REF("parent_directory_ref", t_directory),
    {"contains_refs", P_LIST_ID, 0, NULL, 0, 0, refs_to_scos},
    REF("content_ref", t_artifact),
    END,
};
static const char *const file_id[] = {"hashes", "name", "extensions",
                                      "parent_directory_ref", NULL};
static const struct type_spec file_type;

static void file_rules(struct vctx *v, const json_t *obj)
{
    static const char *const one_of[] = {"hashes", "name", NULL};
    cairn__v_require_one_of(v, obj, one_of);
    check_mime_type(v, obj);
    check_extensions(v, obj, file_exts);
    check_sco_id(v, obj, &file_type);
}

static const struct type_spec file_type = {
    "file", CAIRN_STIX_SCO, file_props, file_id, file_rules,
};

/* ---- 6.8 ipv4-addr, 6.9 ipv6-addr, 6.10 mac-addr ------------------------ */

static const struct prop_spec ip_props[] = {
    STR_REQ("value"),
    REFS("resolves_to_refs", t_mac),
    REFS("belongs_to_refs", t_as),
    END,
};
static const struct type_spec ipv4_type, ipv6_type;

static void ipv4_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj) &&
        !ipv4_ok(json_string_value(val), json_string_length(val)))
        cairn__v_error(v, "value", "sco-ipv4-addr",
                "\"%.*s\" is not an IPv4 address or CIDR block (such as "
                "198.51.100.0/24)",
                QUOTE_MAX, json_string_value(val));
    check_sco_id(v, obj, &ipv4_type);
}

static void ipv6_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj) &&
        !ipv6_ok(json_string_value(val), json_string_length(val)))
        cairn__v_error(v, "value", "sco-ipv6-addr",
                "\"%.*s\" is not an IPv6 address or CIDR block (such as "
                "2001:db8::/32)",
                QUOTE_MAX, json_string_value(val));
    check_sco_id(v, obj, &ipv6_type);
}

static const struct type_spec ipv4_type = {
    "ipv4-addr", CAIRN_STIX_SCO, ip_props, value_id, ipv4_rules,
};
static const struct type_spec ipv6_type = {
    "ipv6-addr", CAIRN_STIX_SCO, ip_props, value_id, ipv6_rules,
};

static const struct prop_spec mac_props[] = {
    STR_REQ("value"),
    END,
};
static const struct type_spec mac_type;

static void mac_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj) &&
        !mac_ok(json_string_value(val), json_string_length(val)))
        cairn__v_error(v, "value", "sco-mac-addr",
                "\"%.*s\" is not a colon-delimited lower-case MAC-48 "
                "address (such as 00:00:ab:cd:ef:01)",
                QUOTE_MAX, json_string_value(val));
    check_sco_id(v, obj, &mac_type);
}

static const struct type_spec mac_type = {
    "mac-addr", CAIRN_STIX_SCO, mac_props, value_id, mac_rules,
};

/* ---- 6.11 mutex --------------------------------------------------------- */

static const struct prop_spec mutex_props[] = {
    STR_REQ("name"),
    END,
};
static const char *const name_id[] = {"name", NULL};
static const struct type_spec mutex_type;

static void mutex_rules(struct vctx *v, const json_t *obj)
{
    check_sco_id(v, obj, &mutex_type);
}

static const struct type_spec mutex_type = {
    "mutex", CAIRN_STIX_SCO, mutex_props, name_id, mutex_rules,
};

/* ---- 6.12 network-traffic and its extensions ---------------------------- */

static const struct prop_spec http_ext_props[] = {
    STR_REQ("request_method"),
    STR_REQ("request_value"),
    STR("request_version"),
    DICT("request_header", dict_string_lists),
    INT("message_body_length"),
    REF("message_body_data_ref", t_artifact),
    END,
};

static const struct prop_spec icmp_ext_props[] = {
    HEX_REQ("icmp_type_hex"),
    HEX_REQ("icmp_code_hex"),
    END,
};

static const struct prop_spec socket_ext_props[] = {
    {"address_family", P_ENUM, PF_REQUIRED,
     cairn__stix_enum_network_socket_address_family, 0, 0, NULL},
    BOOL("is_blocking"),
    BOOL("is_listening"),
    DICT("options", dict_ints),
    ENUM("socket_type", cairn__stix_enum_network_socket_type),
    UINT("socket_descriptor"),
    INT("socket_handle"),
    END,
};

static const struct prop_spec tcp_ext_props[] = {
    HEX("src_flags_hex"),
    HEX("dst_flags_hex"),
    END,
};

static const struct ext_spec traffic_exts[] = {
    {"http-request-ext", http_ext_props, NULL},
    {"icmp-ext", icmp_ext_props, NULL},
    {"socket-ext", socket_ext_props, NULL},
    {"tcp-ext", tcp_ext_props, NULL},
    {NULL, NULL, NULL},
};

static const struct prop_spec traffic_props[] = {
    TIME("start"),
    TIME("end"),
    BOOL("is_active"),
    REF("src_ref", t_endpoint),
    REF("dst_ref", t_endpoint),
    {"src_port", P_INT, 0, NULL, 0, 65535, NULL},
    {"dst_port", P_INT, 0, NULL, 0, 65535, NULL},
    {"protocols", P_LIST_STRING, PF_REQUIRED, NULL, 0, 0, NULL},
    UINT("src_byte_count"),
    UINT("dst_byte_count"),
    UINT("src_packets"),
    UINT("dst_packets"),
    DICT("ipfix", dict_ints_or_strings),
    REF("src_payload_ref", t_artifact),
    REF("dst_payload_ref", t_artifact),
    REFS("encapsulates_refs", t_traffic),
    REF("encapsulated_by_ref", t_traffic),
    END,
};
static const char *const traffic_id[] = {
    "start",    "end",       "src_ref",    "dst_ref", "src_port",
    "dst_port", "protocols", "extensions", NULL,
};
static const struct type_spec traffic_type;

static void traffic_rules(struct vctx *v, const json_t *obj)
{
    static const char *const one_of[] = {"src_ref", "dst_ref", NULL};
    cairn__v_require_one_of(v, obj, one_of);
    cairn__v_time_order(v, obj, "start", "end", false);
    if (json_is_true(json_object_get(obj, "is_active")) && has(obj, "end"))
        cairn__v_error(v, "end", "sco-traffic-active-end",
                "end must not be present when is_active is true");
    check_extensions(v, obj, traffic_exts);
    check_sco_id(v, obj, &traffic_type);
}

static const struct type_spec traffic_type = {
    "network-traffic", CAIRN_STIX_SCO, traffic_props, traffic_id, traffic_rules,
};

/* ---- 6.13 process and its extensions ------------------------------------ */

static const struct prop_spec winproc_ext_props[] = {
    BOOL("aslr_enabled"),
    BOOL("dep_enabled"),
    STR("priority"),
    STR("owner_sid"),
    STR("window_title"),
    DICT("startup_info", NULL),
    ENUM("integrity_level", cairn__stix_enum_windows_integrity_level),
    END,
};

static void winproc_ext_rules(struct vctx *v, const json_t *ext)
{
    const json_t *prio = json_object_get(ext, "priority");
    size_t len = json_string_length(prio);
    if (json_is_string(prio) &&
        (len < 6 || memcmp(json_string_value(prio) + len - 6, "_CLASS", 6)))
        cairn__v_warn(v, "priority", "sco-process-priority",
               "priority \"%.*s\" should be a Windows priority class "
               "ending in _CLASS (such as HIGH_PRIORITY_CLASS)",
               QUOTE_MAX, json_string_value(prio));
}

static const struct prop_spec winsvc_ext_props[] = {
    STR("service_name"),
    STRS("descriptions"),
    STR("display_name"),
    STR("group_name"),
    ENUM("start_type", cairn__stix_enum_windows_service_start_type),
    REFS("service_dll_refs", t_file),
    ENUM("service_type", cairn__stix_enum_windows_service_type),
    ENUM("service_status", cairn__stix_enum_windows_service_status),
    END,
};

static const struct ext_spec process_exts[] = {
    {"windows-process-ext", winproc_ext_props, winproc_ext_rules},
    {"windows-service-ext", winsvc_ext_props, NULL},
    {NULL, NULL, NULL},
};

static const struct prop_spec process_props[] = {
    BOOL("is_hidden"),
    INT("pid"),
    TIME("created_time"),
    STR("cwd"),
    STR("command_line"),
    DICT("environment_variables", dict_strings),
    REFS("opened_connection_refs", t_traffic),
    REF("creator_user_ref", t_user),
    REF("image_ref", t_file),
    REF("parent_ref", t_process),
    REFS("child_refs", t_process),
    END,
};
static const struct type_spec process_type;

static void process_rules(struct vctx *v, const json_t *obj)
{
    if (!has_any_prop(obj, process_props, NULL) && !has(obj, "extensions"))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "a process must have at least one process property or "
                "extension");
    check_extensions(v, obj, process_exts);
    check_sco_id(v, obj, &process_type);
}

static const struct type_spec process_type = {
    "process", CAIRN_STIX_SCO, process_props, NULL, process_rules,
};

/* ---- 6.14 software ------------------------------------------------------ */

static const struct prop_spec software_props[] = {
    STR_REQ("name"), STR("cpe"),     STR("swid"), STRS("languages"),
    STR("vendor"),   STR("version"), END,
};
static const char *const software_id[] = {"name",   "cpe",     "swid",
                                          "vendor", "version", NULL};
static const struct type_spec software_type;

static void software_rules(struct vctx *v, const json_t *obj)
{
    const json_t *cpe = json_object_get(obj, "cpe");
    if (json_is_string(cpe) &&
        !cpe23_ok(json_string_value(cpe), json_string_length(cpe)))
        cairn__v_error(v, "cpe", "sco-software-cpe",
                "\"%.*s\" is not a CPE 2.3 name (\"cpe:2.3:\" and 13 "
                "colon-separated components in all)",
                QUOTE_MAX, json_string_value(cpe));
    check_sco_id(v, obj, &software_type);
}

static const struct type_spec software_type = {
    "software", CAIRN_STIX_SCO, software_props, software_id, software_rules,
};

/* ---- 6.15 url ----------------------------------------------------------- */

static const struct prop_spec url_props[] = {
    STR_REQ("value"),
    END,
};
static const struct type_spec url_type;

static void url_rules(struct vctx *v, const json_t *obj)
{
    const json_t *val = json_object_get(obj, "value");
    if (json_is_string(val) && !defanged(obj))
        report_value(
            v, "value", "sco-url-value", "an absolute URL",
            url_problem(json_string_value(val), json_string_length(val)),
            json_string_value(val));
    check_sco_id(v, obj, &url_type);
}

static const struct type_spec url_type = {
    "url", CAIRN_STIX_SCO, url_props, value_id, url_rules,
};

/* ---- 6.16 user-account -------------------------------------------------- */

static const struct prop_spec unix_ext_props[] = {
    INT("gid"), STRS("groups"), STR("home_dir"), STR("shell"), END,
};

static const struct ext_spec account_exts[] = {
    {"unix-account-ext", unix_ext_props, NULL},
    {NULL, NULL, NULL},
};

static const struct prop_spec account_props[] = {
    STR("user_id"),
    STR("credential"),
    STR("account_login"),
    VOCAB("account_type", cairn__stix_vocab_account_type),
    STR("display_name"),
    BOOL("is_service_account"),
    BOOL("is_privileged"),
    BOOL("can_escalate_privs"),
    BOOL("is_disabled"),
    TIME("account_created"),
    TIME("account_expires"),
    TIME("credential_last_changed"),
    TIME("account_first_login"),
    TIME("account_last_login"),
    END,
};
static const char *const account_id[] = {"account_type", "user_id",
                                         "account_login", NULL};
static const struct type_spec account_type;

static void account_rules(struct vctx *v, const json_t *obj)
{
    if (!has_any_prop(obj, account_props, NULL))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "a user-account must have at least one user-account "
                "property");
    check_extensions(v, obj, account_exts);
    check_sco_id(v, obj, &account_type);
}

static const struct type_spec account_type = {
    "user-account", CAIRN_STIX_SCO, account_props, account_id, account_rules,
};

/* ---- 6.17 windows-registry-key ------------------------------------------ */

static const struct prop_spec reg_value_props[] = {
    STR("name"),
    STR("data"),
    ENUM("data_type", cairn__stix_enum_windows_registry_datatype),
    END,
};

static void check_reg_value(struct vctx *v, const json_t *val)
{
    cairn__v_check_props(v, val, reg_value_props, false);
    require_some_prop(v, val, reg_value_props, "a registry value");
}

static const struct prop_spec reg_key_props[] = {
    STR("key"),
    OBJECTS("values", check_reg_value),
    TIME("modified_time"),
    REF("creator_user_ref", t_user),
    INT("number_of_subkeys"),
    END,
};
static const char *const reg_key_id[] = {"key", "values", NULL};
static const struct type_spec reg_key_type;

/* Abbreviated hive names that section 6.17.1 forbids. */
static const char *const short_hives[] = {"HKLM", "HKCU", "HKCR", "HKU",
                                          "HKCC", "HKPD", NULL};

static void reg_key_rules(struct vctx *v, const json_t *obj)
{
    if (!has_any_prop(obj, reg_key_props, NULL))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "a windows-registry-key must have at least one "
                "windows-registry-key property");
    const char *key = str_of(obj, "key");
    for (const char *const *h = short_hives; key != NULL && *h != NULL; h++) {
        size_t n = strlen(*h);
        if (strncasecmp(key, *h, n) == 0 && (key[n] == '\\' || !key[n])) {
            cairn__v_error(v, "key", "sco-registry-hive",
                    "key \"%.*s\" must name its hive in full (such as "
                    "HKEY_LOCAL_MACHINE, not HKLM)",
                    QUOTE_MAX, key);
            break;
        }
    }
    check_sco_id(v, obj, &reg_key_type);
}

static const struct type_spec reg_key_type = {
    "windows-registry-key", CAIRN_STIX_SCO, reg_key_props, reg_key_id,
    reg_key_rules,
};

/* ---- 6.18 x509-certificate ---------------------------------------------- */

static const struct prop_spec x509_v3_props[] = {
    STR("basic_constraints"),
    STR("name_constraints"),
    STR("policy_constraints"),
    STR("key_usage"),
    STR("extended_key_usage"),
    STR("subject_key_identifier"),
    STR("authority_key_identifier"),
    STR("subject_alternative_name"),
    STR("issuer_alternative_name"),
    STR("subject_directory_attributes"),
    STR("crl_distribution_points"),
    STR("inhibit_any_policy"),
    TIME("private_key_usage_period_not_before"),
    TIME("private_key_usage_period_not_after"),
    STR("certificate_policies"),
    STR("policy_mappings"),
    END,
};

static void check_x509_v3(struct vctx *v, const json_t *ext)
{
    cairn__v_check_props(v, ext, x509_v3_props, false);
    require_some_prop(v, ext, x509_v3_props, "x509_v3_extensions");
}

static const struct prop_spec x509_props[] = {
    BOOL("is_self_signed"),
    HASHES("hashes"),
    STR("version"),
    STR("serial_number"),
    STR("signature_algorithm"),
    STR("issuer"),
    TIME("validity_not_before"),
    TIME("validity_not_after"),
    STR("subject"),
    STR("subject_public_key_algorithm"),
    STR("subject_public_key_modulus"),
    INT("subject_public_key_exponent"),
    OBJECT("x509_v3_extensions", check_x509_v3),
    END,
};
static const char *const x509_id[] = {"hashes", "serial_number", NULL};
static const struct type_spec x509_type;

static void x509_rules(struct vctx *v, const json_t *obj)
{
    if (!has_any_prop(obj, x509_props, NULL))
        cairn__v_error(v, NULL, "sco-at-least-one",
                "an x509-certificate must have at least one "
                "x509-certificate property");
    check_sco_id(v, obj, &x509_type);
}

static const struct type_spec x509_type = {
    "x509-certificate", CAIRN_STIX_SCO, x509_props, x509_id, x509_rules,
};

/* ---- the table ---------------------------------------------------------- */

const struct type_spec *const cairn__stix_sco_types[] = {
    &artifact_type, &as_type,         &directory_type,
    &domain_type,   &email_addr_type, &email_message_type,
    &file_type,     &ipv4_type,       &ipv6_type,
    &mac_type,      &mutex_type,      &traffic_type,
    &process_type,  &software_type,   &url_type,
    &account_type,  &reg_key_type,    &x509_type,
    NULL,
};
