/* SPDX-License-Identifier: Apache-2.0 */
/* The table-driven STIX 2.1 validator: common properties and the tables. */
#include <stdio.h>
#include <string.h>

#include "stix/stix_int.h"

/* ---- findings and the path --------------------------------------------- */

static void report(struct vctx *v, enum cairn_severity sev, const char *prop,
                   const char *rule, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void report(struct vctx *v, enum cairn_severity sev, const char *prop,
                   const char *rule, const char *fmt, va_list ap)
{
    const struct cairn_validate_opts *o = v->opts;
    struct cairn_diag d;
    cairn_diag_clear(&d);
    /* Custom properties are their producer's business (section 11.1):
     * a value that breaks a naming convention is worth a word, no more. */
    if (sev == CAIRN_SEV_ERROR && v->custom > 0)
        sev = CAIRN_SEV_WARNING;
    if (sev == CAIRN_SEV_WARNING && o != NULL && o->strict)
        sev = CAIRN_SEV_ERROR;
    d.severity = sev;
    if (o != NULL && o->file != NULL)
        snprintf(d.file, sizeof d.file, "%s", o->file);
    snprintf(d.object_id, sizeof d.object_id, "%s",
             v->object_id != NULL ? v->object_id : "");
    if (prop == NULL)
        snprintf(d.path, sizeof d.path, "%.*s", (int)v->path_len, v->path);
    else if (v->path_len == 0)
        snprintf(d.path, sizeof d.path, "%s", prop);
    else
        snprintf(d.path, sizeof d.path, "%.*s.%s", (int)v->path_len, v->path,
                 prop);
    snprintf(d.rule, sizeof d.rule, "%s", rule);
    vsnprintf(d.message, sizeof d.message, fmt, ap);
    if (v->stats != NULL) {
        if (sev == CAIRN_SEV_ERROR)
            v->stats->errors++;
        else
            v->stats->warnings++;
    }
    if (o != NULL && o->cb != NULL)
        o->cb(&d, o->ud);
}

void cairn__v_error(struct vctx *v, const char *prop, const char *rule,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(v, CAIRN_SEV_ERROR, prop, rule, fmt, ap);
    va_end(ap);
}

void cairn__v_warn(struct vctx *v, const char *prop, const char *rule, const char *fmt,
            ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(v, CAIRN_SEV_WARNING, prop, rule, fmt, ap);
    va_end(ap);
}

static size_t push(struct vctx *v, const char *sep, const char *text,
                   size_t text_len)
{
    size_t mark = v->path_len;
    size_t sep_len = v->path_len > 0 ? strlen(sep) : 0;
    if (mark + sep_len + text_len >= sizeof v->path) {
        v->truncated = true;
        return mark;
    }
    memcpy(v->path + mark, sep, sep_len);
    memcpy(v->path + mark + sep_len, text, text_len);
    v->path_len = mark + sep_len + text_len;
    v->path[v->path_len] = '\0';
    return mark;
}

size_t cairn__v_push_key(struct vctx *v, const char *key)
{
    return push(v, ".", key, strlen(key));
}

size_t cairn__v_push_index(struct vctx *v, size_t index)
{
    /* Formatted by hand: this runs for every list element. */
    char num[32];
    size_t n = sizeof num;
    num[--n] = ']';
    do {
        num[--n] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0);
    num[--n] = '[';
    size_t mark = v->path_len;
    size_t len = sizeof num - n;
    if (mark + len >= sizeof v->path) {
        v->truncated = true;
        return mark;
    }
    memcpy(v->path + mark, num + n, len);
    v->path_len = mark + len;
    v->path[v->path_len] = '\0';
    return mark;
}

void cairn__v_pop(struct vctx *v, size_t mark)
{
    v->path_len = mark;
    v->path[mark] = '\0';
}

/* ---- value checks ------------------------------------------------------- */

static const char *json_kind(const json_t *j)
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
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

static void expected(struct vctx *v, const char *what, const json_t *found)
{
    cairn__v_error(v, NULL, "property-type", "expected %s, found %s", what,
            json_kind(found));
}

bool cairn__stix_time_of(const json_t *value, struct cairn_time *out)
{
    if (!json_is_string(value))
        return false;
    return cairn_time_parse(json_string_value(value), json_string_length(value),
                            true, out) == 0;
}

static bool is_hex(const char *s, size_t len)
{
    if (len % 2 != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (cairn_hex_digit(s[i]) < 0)
            return false;
    return true;
}

/* An absolute URL: a scheme (RFC 3986), ':', then no whitespace. */
static bool is_url(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while (i < len && s[i] != ':') {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return false;
        i++;
    }
    if (i == len || i + 1 == len)
        return false;
    for (; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* "<a> or <b>" list of allowed reference types, for messages. */
static void join_types(const char *const *types, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; types[i] != NULL && used < len; i++) {
        const char *sep = i == 0 ? "" : types[i + 1] == NULL ? " or " : ", ";
        int n = snprintf(out + used, len - used, "%s%s", sep, types[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void check_id(struct vctx *v, const json_t *value,
                     const char *const *types)
{
    if (!json_is_string(value)) {
        expected(v, "an identifier", value);
        return;
    }
    const char *s = json_string_value(value);
    if (!cairn_stix_id_check(s, NULL)) {
        cairn__v_error(v, NULL, "identifier",
                "\"%s\" is not a STIX identifier (<type>--<UUID>)", s);
        return;
    }
    if (types == NULL)
        return;
    size_t tlen = json_string_length(value) - 38;
    for (size_t i = 0; types[i] != NULL; i++)
        if (strlen(types[i]) == tlen && memcmp(types[i], s, tlen) == 0)
            return;
    char names[160];
    join_types(types, names, sizeof names);
    cairn__v_error(v, NULL, "reference-type",
            "\"%s\" must refer to an object of type %s", s, names);
}

static const char *vocab_label(const struct prop_spec *spec, char *buf,
                               size_t len)
{
    const char *name = cairn__stix_vocab_name(spec->values);
    if (name != NULL)
        return name;
    snprintf(buf, len, "of %s", spec->name);
    return buf;
}

static void check_vocab(struct vctx *v, const struct prop_spec *spec,
                        const json_t *value, bool closed)
{
    if (!json_is_string(value)) {
        expected(v, "a string", value);
        return;
    }
    const char *s = json_string_value(value);
    if (spec->values == NULL || cairn__stix_in_list(spec->values, s))
        return;
    char buf[300];
    const char *label = vocab_label(spec, buf, sizeof buf);
    if (closed)
        cairn__v_error(v, NULL, "enumeration",
                "\"%s\" is not in the closed vocabulary %s", s, label);
    else
        cairn__v_warn(v, NULL, "vocabulary", "\"%s\" is not in the open vocabulary %s",
               s, label);
}

/* Dictionary keys: ASCII letters, digits, '_' and '-', at most 250. */
static void check_dict_keys(struct vctx *v, const json_t *value)
{
    const char *key;
    const json_t *item;
    if (json_object_size(value) == 0) {
        cairn__v_error(v, NULL, "empty-dictionary", "dictionary must not be empty");
        return;
    }
    json_object_foreach((json_t *)value, key, item)
    {
        size_t len = strlen(key);
        bool ok = len > 0 && len <= 250;
        for (size_t i = 0; ok && i < len; i++) {
            char c = key[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
        if (!ok)
            cairn__v_error(v, NULL, "dictionary-key",
                    "dictionary key \"%.64s\" must be 1 to 250 ASCII "
                    "letters, digits, '_' or '-'",
                    key);
    }
}

/* Lengths in hex digits of the hash algorithms with a fixed size. */
static size_t hash_hex_len(const char *alg)
{
    if (strcmp(alg, "MD5") == 0)
        return 32;
    if (strcmp(alg, "SHA-1") == 0)
        return 40;
    if (strcmp(alg, "SHA-256") == 0 || strcmp(alg, "SHA3-256") == 0)
        return 64;
    if (strcmp(alg, "SHA-512") == 0 || strcmp(alg, "SHA3-512") == 0)
        return 128;
    return 0;
}

static void check_hashes(struct vctx *v, const json_t *value)
{
    const char *key;
    const json_t *item;
    if (!json_is_object(value)) {
        expected(v, "a hashes dictionary", value);
        return;
    }
    if (json_object_size(value) == 0) {
        cairn__v_error(v, NULL, "empty-dictionary", "hashes must not be empty");
        return;
    }
    json_object_foreach((json_t *)value, key, item)
    {
        size_t mark = cairn__v_push_key(v, key);
        if (!json_is_string(item)) {
            expected(v, "a string", item);
        } else if (cairn__stix_in_list(cairn__stix_hash_algorithms, key)) {
            size_t want = hash_hex_len(key);
            const char *h = json_string_value(item);
            size_t len = json_string_length(item);
            if (want != 0 && (len != want || !is_hex(h, len)))
                cairn__v_error(v, NULL, "hash-value",
                        "%s hash \"%.140s\" must be %zu hex digits", key, h,
                        want);
        } else {
            size_t len = strlen(key);
            if (len < 3 || len > 250)
                cairn__v_error(v, NULL, "dictionary-key",
                        "custom hash name \"%.64s\" must be 3 to 250 "
                        "characters",
                        key);
            else
                cairn__v_warn(v, NULL, "vocabulary",
                       "\"%s\" is not in the open vocabulary "
                       "hashing-algorithm-ov",
                       key);
        }
        cairn__v_pop(v, mark);
    }
}

static void check_kill_chain(struct vctx *v, const json_t *value)
{
    static const struct prop_spec kc_props[] = {
        {"kill_chain_name", P_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, 0, 0,
         NULL},
        {"phase_name", P_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, 0, 0, NULL},
        {NULL, P_ANY, 0, NULL, 0, 0, NULL},
    };
    if (!json_is_object(value)) {
        expected(v, "a kill-chain-phase object", value);
        return;
    }
    cairn__v_check_props(v, value, kc_props, false);
}

static void check_list(struct vctx *v, const struct prop_spec *spec,
                       const json_t *value)
{
    if (!json_is_array(value)) {
        expected(v, "a list", value);
        return;
    }
    size_t n = json_array_size(value);
    if (n == 0) {
        cairn__v_error(v, NULL, "empty-list", "list must not be empty");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(value, i);
        size_t mark = cairn__v_push_index(v, i);
        switch (spec->kind) {
        case P_LIST_STRING:
            if (!json_is_string(item))
                expected(v, "a string", item);
            else if ((spec->flags & PF_NONEMPTY) &&
                     json_string_length(item) == 0)
                cairn__v_error(v, NULL, "empty-string", "must not be empty");
            break;
        case P_LIST_ID:
            check_id(v, item, spec->values);
            break;
        case P_LIST_VOCAB:
            check_vocab(v, spec, item, false);
            break;
        case P_LIST_ENUM:
            check_vocab(v, spec, item, true);
            break;
        case P_LIST_OBJECT:
            if (!json_is_object(item))
                expected(v, "an object", item);
            else if (spec->check != NULL)
                spec->check(v, item);
            break;
        case P_KILL_CHAIN:
            check_kill_chain(v, item);
            break;
        default:
            break;
        }
        cairn__v_pop(v, mark);
    }
}

static void check_range(struct vctx *v, const struct prop_spec *spec, double x,
                        const json_t *value)
{
    if (!(spec->min < spec->max) || (x >= spec->min && x <= spec->max))
        return;
    if (json_is_integer(value))
        cairn__v_error(v, NULL, "range", "%lld is out of range (%.0f to %.0f)",
                (long long)json_integer_value(value), spec->min, spec->max);
    else
        cairn__v_error(v, NULL, "range", "%g is out of range (%g to %g)", x, spec->min,
                spec->max);
}

void cairn__v_check_prop(struct vctx *v, const struct prop_spec *spec,
                  const json_t *value)
{
    struct cairn_time t;
    const char *s;
    size_t len;

    if (spec->flags & PF_DEPRECATED)
        cairn__v_warn(v, NULL, "deprecated", "\"%s\" is deprecated in STIX 2.1",
               spec->name);
    switch (spec->kind) {
    case P_STRING:
        if (!json_is_string(value)) {
            expected(v, "a string", value);
            return;
        }
        if ((spec->flags & PF_NONEMPTY) && json_string_length(value) == 0) {
            cairn__v_error(v, NULL, "empty-string", "must not be empty");
            return;
        }
        break;
    case P_BOOL:
        if (!json_is_boolean(value)) {
            expected(v, "a boolean", value);
            return;
        }
        break;
    case P_INT:
        if (!json_is_integer(value)) {
            expected(v, "an integer", value);
            return;
        }
        check_range(v, spec, (double)json_integer_value(value), value);
        break;
    case P_FLOAT:
        if (!json_is_number(value)) {
            expected(v, "a number", value);
            return;
        }
        check_range(v, spec, json_number_value(value), value);
        break;
    case P_TIMESTAMP:
        if (!json_is_string(value)) {
            expected(v, "a timestamp string", value);
            return;
        }
        if (!cairn__stix_time_of(value, &t)) {
            cairn__v_error(v, NULL, "timestamp",
                    "\"%.64s\" is not a STIX timestamp "
                    "(YYYY-MM-DDTHH:MM:SS[.s+]Z)",
                    json_string_value(value));
            return;
        }
        break;
    case P_ID:
        check_id(v, value, spec->values);
        return; /* `check` sees only valid identifiers */
    case P_VOCAB:
    case P_ENUM:
        check_vocab(v, spec, value, spec->kind == P_ENUM);
        if (!json_is_string(value))
            return;
        break;
    case P_HEX:
        if (!json_is_string(value)) {
            expected(v, "a hex string", value);
            return;
        }
        s = json_string_value(value);
        len = json_string_length(value);
        if (!is_hex(s, len)) {
            cairn__v_error(v, NULL, "hex",
                    "\"%.64s\" is not an even number of hex digits", s);
            return;
        }
        break;
    case P_BINARY:
        if (!json_is_string(value)) {
            expected(v, "a base64 string", value);
            return;
        }
        if (cairn_base64_decode(json_string_value(value),
                                json_string_length(value), NULL, NULL) < 0) {
            cairn__v_error(v, NULL, "binary", "not valid base64");
            return;
        }
        break;
    case P_URL:
        if (!json_is_string(value)) {
            expected(v, "a URL string", value);
            return;
        }
        if (!is_url(json_string_value(value), json_string_length(value))) {
            cairn__v_error(v, NULL, "url", "\"%.100s\" is not an absolute URL",
                    json_string_value(value));
            return;
        }
        break;
    case P_HASHES:
        check_hashes(v, value);
        break;
    case P_DICT:
        if (!json_is_object(value)) {
            expected(v, "a dictionary", value);
            return;
        }
        check_dict_keys(v, value);
        break;
    case P_OBJECT:
        if (!json_is_object(value)) {
            expected(v, "an object", value);
            return;
        }
        break;
    case P_ANY:
        break;
    case P_LIST_STRING:
    case P_LIST_ID:
    case P_LIST_VOCAB:
    case P_LIST_ENUM:
    case P_KILL_CHAIN:
        check_list(v, spec, value);
        break;
    case P_LIST_OBJECT:
        check_list(v, spec, value);
        return; /* `check` ran once per element */
    }
    if (spec->check != NULL)
        spec->check(v, value);
}

static const struct prop_spec *find_prop(const struct prop_spec *props,
                                         const char *name)
{
    if (props == NULL)
        return NULL;
    for (; props->name != NULL; props++)
        if (props->name[0] == name[0] && strcmp(props->name, name) == 0)
            return props;
    return NULL;
}

static bool custom_name_ok(const char *name)
{
    size_t len = strlen(name);
    bool ok = len >= 3 && len <= 250;
    for (size_t i = 0; ok && i < len; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }
    return ok;
}

void cairn__v_check_custom_name(struct vctx *v, const char *name)
{
    if (!custom_name_ok(name))
        cairn__v_error(v, NULL, "property-name",
                "property name \"%.64s\" must be 3 to 250 characters of "
                "a-z, 0-9 and '_'",
                name);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/*
 * Values of properties no table describes: the naming conventions of
 * section 3 (…_ref, …_refs, …_bin, …_hex) are checked, but a custom
 * property that breaks them (MITRE's x_mitre_data_source_ref: "") gets a
 * warning, not an error: the object stays usable, and --strict refuses it.
 */
static void check_custom_value(struct vctx *v, const char *name,
                               const json_t *value)
{
    static const struct prop_spec ref = {"", P_ID, 0, NULL, 0, 0, NULL};
    static const struct prop_spec refs = {"", P_LIST_ID, 0, NULL, 0, 0, NULL};
    static const struct prop_spec bin = {"", P_BINARY, 0, NULL, 0, 0, NULL};
    static const struct prop_spec hex = {"", P_HEX, 0, NULL, 0, 0, NULL};
    size_t len = strlen(name);
    const struct prop_spec *spec = NULL;
    if (ends_with(name, len, "_ref"))
        spec = &ref;
    else if (ends_with(name, len, "_refs"))
        spec = &refs;
    else if (ends_with(name, len, "_bin"))
        spec = &bin;
    else if (ends_with(name, len, "_hex"))
        spec = &hex;
    if (spec == NULL)
        return;
    size_t mark = cairn__v_push_key(v, name);
    v->custom++;
    cairn__v_check_prop(v, spec, value);
    v->custom--;
    cairn__v_pop(v, mark);
}

static void check_required(struct vctx *v, const json_t *obj,
                           const struct prop_spec *props)
{
    for (; props != NULL && props->name != NULL; props++)
        if ((props->flags & PF_REQUIRED) &&
            json_object_get(obj, props->name) == NULL)
            cairn__v_error(v, NULL, "required-property",
                    "missing required property \"%s\"", props->name);
}

void cairn__v_check_props(struct vctx *v, const json_t *obj,
                   const struct prop_spec *props, bool closed)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        const struct prop_spec *spec = find_prop(props, key);
        if (spec != NULL) {
            size_t mark = cairn__v_push_key(v, key);
            cairn__v_check_prop(v, spec, value);
            cairn__v_pop(v, mark);
        } else if (closed) {
            cairn__v_error(v, key, "unknown-property",
                    "property \"%s\" is not allowed here", key);
        } else {
            size_t mark = cairn__v_push_key(v, key);
            cairn__v_check_custom_name(v, key);
            cairn__v_pop(v, mark);
            check_custom_value(v, key, value);
        }
    }
    check_required(v, obj, props);
}

bool cairn__v_get_time(const json_t *obj, const char *key, struct cairn_time *out)
{
    return cairn__stix_time_of(json_object_get(obj, key), out);
}

void cairn__v_time_order(struct vctx *v, const json_t *obj, const char *ka,
                  const char *kb, bool strictly_before)
{
    struct cairn_time a, b;
    if (!cairn__v_get_time(obj, ka, &a) || !cairn__v_get_time(obj, kb, &b))
        return;
    int c = cairn_time_cmp(&a, &b);
    const char *sa = json_string_value(json_object_get(obj, ka));
    const char *sb = json_string_value(json_object_get(obj, kb));
    if (strictly_before && c >= 0)
        cairn__v_error(v, kb, "time-order", "%s (%s) must be later than %s (%s)", kb,
                sb, ka, sa);
    else if (!strictly_before && c > 0)
        cairn__v_error(v, kb, "time-order", "%s (%s) must not be earlier than %s (%s)",
                kb, sb, ka, sa);
}

void cairn__v_require_one_of(struct vctx *v, const json_t *obj,
                      const char *const *keys)
{
    char names[200];
    size_t used = 0;
    names[0] = '\0';
    for (size_t i = 0; keys[i] != NULL; i++) {
        if (json_object_get(obj, keys[i]) != NULL)
            return;
        int n = snprintf(names + used, sizeof names - used, "%s\"%s\"",
                         i == 0 ? "" : ", ", keys[i]);
        if (n > 0 && (size_t)n < sizeof names - used)
            used += (size_t)n;
    }
    cairn__v_error(v, NULL, "required-property", "at least one of %s is required",
            names);
}

/* ---- common properties ----------------------------------------------------
 */

static const char *const marking_types[] = {"marking-definition", NULL};
static const char *const identity_types[] = {"identity", NULL};

static void check_external_reference(struct vctx *v, const json_t *ref);
static void check_granular_marking(struct vctx *v, const json_t *gm);
static void check_lang(struct vctx *v, const json_t *value);

/* Bits of enum cairn_stix_kind a common property applies to. */
#define K(kind) (1u << (kind))
#define K_SDO_LIKE                                                             \
    (K(CAIRN_STIX_SDO) | K(CAIRN_STIX_SRO) | K(CAIRN_STIX_META) |              \
     K(CAIRN_STIX_UNKNOWN))
#define K_ALL (K_SDO_LIKE | K(CAIRN_STIX_SCO))

struct common_prop {
    struct prop_spec spec;
    unsigned kinds;
};

/* "type", "id" and "spec_version" are checked by hand before these. */
static const struct common_prop common_props[] = {
    {{"created", P_TIMESTAMP, 0, NULL, 0, 0, NULL}, K_SDO_LIKE},
    {{"modified", P_TIMESTAMP, 0, NULL, 0, 0, NULL}, K_SDO_LIKE},
    {{"created_by_ref", P_ID, 0, identity_types, 0, 0, NULL}, K_SDO_LIKE},
    {{"revoked", P_BOOL, 0, NULL, 0, 0, NULL}, K_SDO_LIKE},
    {{"labels", P_LIST_STRING, 0, NULL, 0, 0, NULL}, K_SDO_LIKE},
    {{"confidence", P_INT, 0, NULL, 0, 100, NULL}, K_SDO_LIKE},
    {{"lang", P_STRING, 0, NULL, 0, 0, check_lang}, K_SDO_LIKE},
    {{"external_references", P_LIST_OBJECT, 0, NULL, 0, 0,
      check_external_reference},
     K_SDO_LIKE},
    {{"object_marking_refs", P_LIST_ID, 0, marking_types, 0, 0, NULL}, K_ALL},
    {{"granular_markings", P_LIST_OBJECT, 0, NULL, 0, 0,
      check_granular_marking},
     K_ALL},
    {{"defanged", P_BOOL, 0, NULL, 0, 0, NULL}, K(CAIRN_STIX_SCO)},
    {{NULL, P_ANY, 0, NULL, 0, 0, NULL}, 0},
};

static const struct prop_spec *find_common(const char *name,
                                           enum cairn_stix_kind kind)
{
    for (const struct common_prop *c = common_props; c->spec.name; c++)
        if (c->spec.name[0] == name[0] && strcmp(c->spec.name, name) == 0)
            return (c->kinds & K(kind)) ? &c->spec : NULL;
    return NULL;
}

/* RFC 5646 language tags, loosely: alphanumeric subtags joined by '-'. */
static void check_lang(struct vctx *v, const json_t *value)
{
    const char *s = json_string_value(value);
    size_t len = json_string_length(value), run = 0;
    bool ok = len > 0;
    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        if (c == '-') {
            ok = run > 0;
            run = 0;
        } else {
            ok = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9')) &&
                 ++run <= 8;
        }
    }
    if (!ok || run == 0)
        cairn__v_error(v, NULL, "language-tag",
                "\"%.64s\" is not an RFC 5646 language tag", s);
}

static bool match_capec(const char *s)
{
    if (strncmp(s, "CAPEC-", 6) != 0 || s[6] == '\0')
        return false;
    for (s += 6; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* CVE-YYYY-NNNN with at least four digits, no leading zero past four. */
static bool match_cve(const char *s)
{
    if (strncmp(s, "CVE-", 4) != 0)
        return false;
    s += 4;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (s[4] != '-')
        return false;
    s += 5;
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n == 4 || (n > 4 && s[0] != '0');
}

static void check_external_reference(struct vctx *v, const json_t *ref)
{
    static const struct prop_spec props[] = {
        {"source_name", P_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, 0, 0, NULL},
        {"description", P_STRING, 0, NULL, 0, 0, NULL},
        {"url", P_URL, 0, NULL, 0, 0, NULL},
        {"hashes", P_HASHES, 0, NULL, 0, 0, NULL},
        {"external_id", P_STRING, 0, NULL, 0, 0, NULL},
        {NULL, P_ANY, 0, NULL, 0, 0, NULL},
    };
    static const char *const one_of[] = {"description", "url", "external_id",
                                         NULL};
    cairn__v_check_props(v, ref, props, false);
    const char *source = json_string_value(json_object_get(ref, "source_name"));
    if (source == NULL)
        return;
    const json_t *ext = json_object_get(ref, "external_id");
    bool capec = strcmp(source, "capec") == 0;
    bool cve = strcmp(source, "cve") == 0;
    if (capec || cve) {
        /* Section 5.2: the id is mandatory for these two sources. */
        if (ext == NULL) {
            cairn__v_error(v, NULL, "external-reference",
                    "an external reference to %s must have external_id",
                    source);
        } else if (json_is_string(ext) &&
                   !(capec ? match_capec(json_string_value(ext))
                           : match_cve(json_string_value(ext)))) {
            cairn__v_error(v, "external_id", "external-reference",
                    "\"%.64s\" is not a %s id (%s)", json_string_value(ext),
                    capec ? "CAPEC" : "CVE",
                    capec ? "CAPEC-<number>" : "CVE-<year>-<number>");
        }
        return;
    }
    cairn__v_require_one_of(v, ref, one_of);
}

static void check_granular_marking(struct vctx *v, const json_t *gm)
{
    static const struct prop_spec props[] = {
        {"selectors", P_LIST_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, 0, 0,
         NULL},
        {"marking_ref", P_ID, 0, marking_types, 0, 0, NULL},
        {"lang", P_STRING, 0, NULL, 0, 0, check_lang},
        {NULL, P_ANY, 0, NULL, 0, 0, NULL},
    };
    cairn__v_check_props(v, gm, props, true);
    bool has_ref = json_object_get(gm, "marking_ref") != NULL;
    bool has_lang = json_object_get(gm, "lang") != NULL;
    if (has_ref == has_lang)
        cairn__v_error(v, NULL, "granular-marking",
                "a granular marking must have exactly one of marking_ref "
                "and lang");
}

/*
 * Resolve a selector ("description", "external_references.[0].url")
 * against the object (section 7.2.3). Returns NULL when it resolves, else
 * a reason.
 */
static const char *resolve_selector(const json_t *obj, const char *sel)
{
    const json_t *cur = obj;
    const char *p = sel;
    if (*p == '\0')
        return "is empty";
    while (*p != '\0') {
        const char *end = strchr(p, '.');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            return "has an empty step";
        if (p[0] == '[') {
            if (n < 3 || p[n - 1] != ']')
                return "has a malformed list index";
            size_t idx = 0;
            for (size_t i = 1; i + 1 < n; i++) {
                if (p[i] < '0' || p[i] > '9' || idx > 100000000)
                    return "has a malformed list index";
                idx = idx * 10 + (size_t)(p[i] - '0');
            }
            if (!json_is_array(cur))
                return "indexes something that is not a list";
            cur = json_array_get(cur, idx);
            if (cur == NULL)
                return "indexes past the end of a list";
        } else {
            char key[256];
            if (n >= sizeof key)
                return "has a step that is too long";
            memcpy(key, p, n);
            key[n] = '\0';
            if (!json_is_object(cur))
                return "names a property of something that is not an object";
            cur = json_object_get(cur, key);
            if (cur == NULL)
                return "does not resolve to a property of the object";
        }
        p = end != NULL ? end + 1 : p + n;
        if (end != NULL && *p == '\0')
            return "ends with '.'";
    }
    return NULL;
}

static void check_selectors(struct vctx *v, const json_t *obj)
{
    const json_t *gms = json_object_get(obj, "granular_markings");
    size_t i, j;
    const json_t *gm, *sel;
    if (!json_is_array(gms))
        return;
    json_array_foreach(gms, i, gm)
    {
        const json_t *sels = json_object_get(gm, "selectors");
        if (!json_is_array(sels))
            continue;
        json_array_foreach(sels, j, sel)
        {
            if (!json_is_string(sel))
                continue;
            const char *why = resolve_selector(obj, json_string_value(sel));
            if (why == NULL)
                continue;
            size_t m1 = cairn__v_push_key(v, "granular_markings");
            size_t m2 = cairn__v_push_index(v, i);
            size_t m3 = cairn__v_push_key(v, "selectors");
            size_t m4 = cairn__v_push_index(v, j);
            cairn__v_error(v, NULL, "marking-selector", "selector \"%.100s\" %s",
                    json_string_value(sel), why);
            cairn__v_pop(v, m4);
            cairn__v_pop(v, m3);
            cairn__v_pop(v, m2);
            cairn__v_pop(v, m1);
        }
    }
}

/* What the extensions of an object declare about it. */
struct ext_info {
    bool toplevel;                 /* a toplevel-property-extension is used */
    enum cairn_stix_kind new_kind; /* new-sdo/-sco/-sro, else UNKNOWN */
};

static void scan_extensions(const json_t *obj, struct ext_info *info)
{
    const json_t *exts = json_object_get(obj, "extensions");
    const char *key;
    const json_t *ext;
    info->toplevel = false;
    info->new_kind = CAIRN_STIX_UNKNOWN;
    if (!json_is_object(exts))
        return;
    json_object_foreach((json_t *)exts, key, ext)
    {
        const char *t =
            json_string_value(json_object_get(ext, "extension_type"));
        if (t == NULL)
            continue;
        if (strcmp(t, "toplevel-property-extension") == 0)
            info->toplevel = true;
        else if (strcmp(t, "new-sdo") == 0)
            info->new_kind = CAIRN_STIX_SDO;
        else if (strcmp(t, "new-sco") == 0)
            info->new_kind = CAIRN_STIX_SCO;
        else if (strcmp(t, "new-sro") == 0)
            info->new_kind = CAIRN_STIX_SRO;
    }
}

static void check_extensions(struct vctx *v, const json_t *exts,
                             const char *type)
{
    static const struct prop_spec ext_type = {
        "extension_type", P_ENUM, 0, cairn__stix_enum_extension_type, 0, 0, NULL};
    const char *key;
    const json_t *ext;
    if (!json_is_object(exts)) {
        expected(v, "a dictionary", exts);
        return;
    }
    if (json_object_size(exts) == 0) {
        cairn__v_error(v, NULL, "empty-dictionary", "extensions must not be empty");
        return;
    }
    const char *const *predefined =
        type != NULL ? cairn__stix_predefined_extensions(type) : NULL;
    json_object_foreach((json_t *)exts, key, ext)
    {
        size_t mark = cairn__v_push_key(v, key);
        if (strncmp(key, "extension-definition--", 22) == 0) {
            if (!cairn_stix_id_check(key, "extension-definition"))
                cairn__v_error(v, NULL, "extension",
                        "\"%.100s\" is not an extension-definition id", key);
            if (!json_is_object(ext)) {
                expected(v, "an object", ext);
            } else {
                const json_t *t = json_object_get(ext, "extension_type");
                if (t != NULL) {
                    size_t m2 = cairn__v_push_key(v, "extension_type");
                    cairn__v_check_prop(v, &ext_type, t);
                    cairn__v_pop(v, m2);
                }
            }
        } else if (predefined != NULL && cairn__stix_in_list(predefined, key)) {
            if (!json_is_object(ext))
                expected(v, "an object", ext);
            else if (json_object_size(ext) == 0)
                cairn__v_error(v, NULL, "extension", "extension must not be empty");
        } else {
            size_t len = strlen(key);
            if (ends_with(key, len, "-ext") && cairn__stix_type_name_ok(key, len))
                cairn__v_warn(v, NULL, "extension",
                       "\"%.100s\" is not a predefined extension of %s; "
                       "use an extension-definition",
                       key, type != NULL ? type : "this type");
            else
                cairn__v_error(v, NULL, "extension",
                        "extension key \"%.100s\" must be an "
                        "extension-definition id or a predefined extension "
                        "name",
                        key);
            if (!json_is_object(ext))
                expected(v, "an object", ext);
        }
        cairn__v_pop(v, mark);
    }
}

/* ---- objects ---------------------------------------------------------------
 */

static void check_spec_version(struct vctx *v, const json_t *value)
{
    if (!json_is_string(value)) {
        size_t mark = cairn__v_push_key(v, "spec_version");
        expected(v, "a string", value);
        cairn__v_pop(v, mark);
        return;
    }
    const char *s = json_string_value(value);
    if (strcmp(s, "2.1") != 0)
        cairn__v_error(v, "spec_version", "spec-version",
                "spec_version is \"%.32s\"; this validator checks STIX "
                "\"2.1\"",
                s);
}

static void check_object_id(struct vctx *v, const json_t *value,
                            const char *type, enum cairn_stix_kind kind)
{
    if (!json_is_string(value)) {
        size_t mark = cairn__v_push_key(v, "id");
        expected(v, "an identifier", value);
        cairn__v_pop(v, mark);
        return;
    }
    const char *id = json_string_value(value);
    if (!cairn_stix_id_check(id, NULL)) {
        cairn__v_error(v, "id", "identifier",
                "\"%.100s\" is not a STIX identifier (<type>--<UUID>)", id);
        return;
    }
    size_t tlen = json_string_length(value) - 38;
    if (type != NULL && (strlen(type) != tlen || memcmp(id, type, tlen) != 0))
        cairn__v_error(v, "id", "identifier",
                "the id's type \"%.*s\" does not match the object's type "
                "\"%s\"",
                (int)tlen, id, type);
    int version = 0;
    cairn_uuid_check(id + tlen + 2, 36, true, &version);
    if (kind != CAIRN_STIX_SCO && kind != CAIRN_STIX_UNKNOWN && version != 4)
        cairn__v_warn(v, "id", "identifier",
               "the UUID of an id should be version 4 (random); this one is "
               "version %d",
               version);
}

/* Section 3.2: created and modified are precise to the millisecond. */
static void check_precision(struct vctx *v, const json_t *obj, const char *key)
{
    struct cairn_time t;
    if (cairn__v_get_time(obj, key, &t) && t.digits < 3)
        cairn__v_error(v, key, "timestamp-precision",
                "%s (%s) must have at least millisecond precision", key,
                json_string_value(json_object_get(obj, key)));
}

static void check_bundle(struct vctx *v, const json_t *obj, bool nested);

/*
 * An indicator's STIX pattern must parse. The parser is a module above
 * this one, so the caller lends it (opts->check_pattern); without it the
 * pattern is only checked to be a non-empty string.
 */
static void check_pattern(struct vctx *v, const json_t *obj)
{
    const struct cairn_validate_opts *o = v->opts;
    const json_t *pat = json_object_get(obj, "pattern");
    const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
    if (o == NULL || o->check_pattern == NULL || !json_is_string(pat) ||
        json_string_length(pat) == 0 || ptype == NULL ||
        strcmp(ptype, "stix") != 0)
        return;
    struct cairn_diag d;
    cairn_diag_clear(&d);
    int rc = o->check_pattern(json_string_value(pat), json_string_length(pat),
                              &d, o->check_pattern_ud);
    if (rc == 1) {
        cairn__v_warn(v, "pattern", d.rule[0] ? d.rule : "pattern-names",
                      "%s", d.message);
        return;
    }
    if (rc >= 0)
        return;
    if (rc == CAIRN_ENOMEM) {
        cairn__v_error(v, "pattern", "pattern",
                       "the pattern could not be checked: %s",
                       cairn_strerror(rc));
        return;
    }
    const char *what = rc == CAIRN_EPARSE    ? "does not parse"
                       : rc == CAIRN_ETOOBIG ? "is over a limit"
                                             : "is not valid";
    const char *msg = d.message[0] ? d.message : cairn_strerror(rc);
    const char *rule = d.rule[0] ? d.rule : "pattern";
    /* Patterns are one line as a rule: the column is the position. */
    if (d.line <= 1)
        cairn__v_error(v, "pattern", rule,
                       "the STIX pattern %s at character %u: %s", what,
                       d.column ? d.column : 1, msg);
    else
        cairn__v_error(v, "pattern", rule,
                       "the STIX pattern %s at line %u, column %u: %s", what,
                       d.line, d.column, msg);
}

static void check_object(struct vctx *v, const json_t *obj)
{
    const json_t *jtype = json_object_get(obj, "type");
    const char *type = json_string_value(jtype);
    if (jtype == NULL) {
        cairn__v_error(v, NULL, "required-property",
                "missing required property \"type\"");
    } else if (type == NULL) {
        size_t mark = cairn__v_push_key(v, "type");
        expected(v, "a string", jtype);
        cairn__v_pop(v, mark);
    } else if (!cairn__stix_type_name_ok(type, json_string_length(jtype))) {
        cairn__v_error(v, "type", "type-name",
                "\"%.100s\" is not a valid type name (3 to 250 characters "
                "of a-z, 0-9 and '-', starting with a letter)",
                type);
        type = NULL;
    }

    const struct type_spec *spec = type ? cairn__stix_type_lookup(type) : NULL;
    enum cairn_stix_kind kind = spec ? spec->kind : CAIRN_STIX_UNKNOWN;
    struct ext_info ext;
    scan_extensions(obj, &ext);
    if (spec == NULL && type != NULL) {
        if (ext.new_kind != CAIRN_STIX_UNKNOWN)
            kind = ext.new_kind;
        else
            cairn__v_warn(v, NULL, "unknown-type",
                   "unknown object type \"%.100s\": only the common "
                   "properties are checked",
                   type);
    }

    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        const struct prop_spec *ps = spec ? find_prop(spec->props, key) : NULL;
        const struct prop_spec *cp = ps ? NULL : find_common(key, kind);
        if (ps != NULL || cp != NULL) {
            size_t mark = cairn__v_push_key(v, key);
            cairn__v_check_prop(v, ps != NULL ? ps : cp, value);
            cairn__v_pop(v, mark);
            if (strcmp(key, "extensions") != 0)
                continue;
        }
        switch (key[0]) {
        case 't':
            if (strcmp(key, "type") == 0)
                continue;
            break;
        case 'i':
            if (strcmp(key, "id") == 0) {
                check_object_id(v, value, type, kind);
                continue;
            }
            break;
        case 's':
            if (strcmp(key, "spec_version") == 0) {
                check_spec_version(v, value);
                continue;
            }
            break;
        case 'e':
            if (strcmp(key, "extensions") == 0) {
                size_t mark = cairn__v_push_key(v, key);
                check_extensions(v, value, type);
                cairn__v_pop(v, mark);
                continue;
            }
            break;
        }
        if (ps != NULL || cp != NULL)
            continue;
        size_t mark = cairn__v_push_key(v, key);
        cairn__v_check_custom_name(v, key);
        cairn__v_pop(v, mark);
        check_custom_value(v, key, value);
        if (spec != NULL && !ext.toplevel && strncmp(key, "x_", 2) != 0 &&
            custom_name_ok(key))
            cairn__v_warn(v, key, "unknown-property",
                   "property \"%.100s\" is not defined for %s (custom "
                   "properties should start with \"x_\")",
                   key, type);
    }

    if (json_object_get(obj, "id") == NULL)
        cairn__v_error(v, NULL, "required-property",
                "missing required property \"id\"");
    if (kind != CAIRN_STIX_SCO && json_object_get(obj, "spec_version") == NULL)
        cairn__v_error(v, NULL, "required-property",
                "missing required property \"spec_version\"");
    if (kind == CAIRN_STIX_SDO || kind == CAIRN_STIX_SRO) {
        if (json_object_get(obj, "created") == NULL)
            cairn__v_error(v, NULL, "required-property",
                    "missing required property \"created\"");
        if (json_object_get(obj, "modified") == NULL)
            cairn__v_error(v, NULL, "required-property",
                    "missing required property \"modified\"");
    }
    if (spec != NULL)
        check_required(v, obj, spec->props);
    if (kind != CAIRN_STIX_SCO) {
        check_precision(v, obj, "created");
        check_precision(v, obj, "modified");
        cairn__v_time_order(v, obj, "created", "modified", false);
    }
    check_selectors(v, obj);
    if (spec != NULL && spec->rules != NULL)
        spec->rules(v, obj);
    if (type != NULL && strcmp(type, "indicator") == 0)
        check_pattern(v, obj);
}

static void check_any(struct vctx *v, const json_t *obj, bool in_bundle)
{
    if (!json_is_object(obj)) {
        cairn__v_error(v, NULL, "object-type", "expected a STIX object, found %s",
                json_kind(obj));
        return;
    }
    const char *type = cairn_stix_type(obj);
    if (type != NULL && strcmp(type, "bundle") == 0)
        check_bundle(v, obj, in_bundle);
    else
        check_object(v, obj);
}

/* The bundle's own properties (section 8): type, id, objects. */
static void check_bundle_header(struct vctx *v, const json_t *hdr)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)hdr, key, value)
    {
        if (strcmp(key, "type") == 0 || strcmp(key, "objects") == 0)
            continue;
        if (strcmp(key, "id") == 0) {
            if (!json_is_string(value) ||
                !cairn_stix_id_check(json_string_value(value), "bundle"))
                cairn__v_error(v, "id", "identifier",
                        "a bundle's id must be \"bundle--<UUID>\"");
        } else if (strcmp(key, "spec_version") == 0) {
            cairn__v_error(v, "spec_version", "bundle-spec-version",
                    "a STIX 2.1 bundle has no spec_version (a STIX 2.0 "
                    "bundle?)");
        } else {
            size_t mark = cairn__v_push_key(v, key);
            cairn__v_check_custom_name(v, key);
            cairn__v_pop(v, mark);
            check_custom_value(v, key, value);
            if (strncmp(key, "x_", 2) != 0 && custom_name_ok(key))
                cairn__v_warn(v, key, "unknown-property",
                       "property \"%.100s\" is not defined for bundle "
                       "(custom properties should start with \"x_\")",
                       key);
        }
    }
    if (json_object_get(hdr, "id") == NULL)
        cairn__v_error(v, NULL, "required-property",
                "missing required property \"id\"");
}

static void check_bundle(struct vctx *v, const json_t *obj, bool nested)
{
    if (nested) {
        cairn__v_error(v, NULL, "bundle-nested", "a bundle cannot contain a bundle");
        return;
    }
    const json_t *objects = json_object_get(obj, "objects");
    if (objects != NULL && !json_is_array(objects)) {
        cairn__v_error(v, "objects", "bundle-objects",
                "the bundle's \"objects\" must be a list");
    } else if (objects != NULL) {
        size_t i;
        const json_t *o;
        json_array_foreach(objects, i, o)
        {
            size_t mark = cairn__v_push_key(v, "objects");
            cairn__v_push_index(v, i);
            v->object_id = cairn_stix_id(o);
            check_any(v, o, true);
            v->object_id = "";
            cairn__v_pop(v, mark);
            if (v->stats != NULL)
                v->stats->objects++;
        }
    }
    v->object_id = cairn_stix_id(obj);
    check_bundle_header(v, obj);
}

static void init_ctx(struct vctx *v, const struct cairn_validate_opts *opts,
                     struct cairn_validate_stats *stats, const char *path)
{
    v->opts = opts;
    v->stats = stats;
    v->object_id = "";
    v->path_len = 0;
    v->path[0] = '\0';
    v->truncated = false;
    v->custom = 0;
    if (path != NULL)
        push(v, "", path, strlen(path));
}

int cairn_stix_validate_object(const json_t *obj, const char *path,
                               const struct cairn_validate_opts *opts,
                               struct cairn_validate_stats *stats)
{
    struct cairn_validate_stats local = {0, 0, 0};
    struct vctx v;
    if (obj == NULL)
        return CAIRN_EINVAL;
    init_ctx(&v, opts, &local, path);
    const char *id = cairn_stix_id(obj);
    v.object_id = id != NULL ? id : "";
    check_any(&v, obj, path != NULL && strncmp(path, "objects[", 8) == 0);
    if (stats != NULL) {
        stats->errors += local.errors;
        stats->warnings += local.warnings;
        stats->objects += local.objects;
    }
    return local.errors > 0 ? CAIRN_EINVALID : 0;
}

static void report_diag(const struct cairn_validate_opts *opts,
                        struct cairn_validate_stats *stats,
                        struct cairn_diag *d)
{
    if (opts != NULL && opts->file != NULL)
        snprintf(d->file, sizeof d->file, "%s", opts->file);
    d->severity = CAIRN_SEV_ERROR;
    stats->errors++;
    if (opts != NULL && opts->cb != NULL)
        opts->cb(d, opts->ud);
}

int cairn_stix_validate_buffer(const char *buf, size_t len,
                               const struct cairn_validate_opts *opts,
                               struct cairn_validate_stats *stats)
{
    struct cairn_validate_stats local = {0, 0, 0};
    struct cairn_bundle_reader *r = NULL;
    struct cairn_diag diag;
    struct vctx v;
    int rc = cairn_bundle_reader_new(
        buf, len, opts != NULL ? opts->max_object_len : 0, &r);
    if (rc < 0)
        goto out;
    init_ctx(&v, opts, &local, "");
    for (;;) {
        json_t *obj = NULL;
        long index = -1;
        cairn_diag_clear(&diag);
        rc = cairn_bundle_reader_next(r, &obj, &index, &diag);
        if (rc <= 0)
            break;
        if (index >= 0) {
            cairn__v_push_key(&v, "objects");
            cairn__v_push_index(&v, (size_t)index);
        }
        const char *id = cairn_stix_id(obj);
        v.object_id = id != NULL ? id : "";
        check_any(&v, obj, index >= 0);
        cairn__v_pop(&v, 0);
        local.objects++;
        json_decref(obj);
    }
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc < 0) {
        report_diag(opts, &local, &diag);
        goto out;
    }
    const json_t *hdr = cairn_bundle_reader_header(r);
    if (hdr != NULL) {
        const char *id = cairn_stix_id(hdr);
        v.object_id = id != NULL ? id : "";
        check_bundle_header(&v, hdr);
    }
    rc = local.errors > 0 ? CAIRN_EINVALID : 0;
out:
    cairn_bundle_reader_free(r);
    if (stats != NULL) {
        stats->objects += local.objects;
        stats->errors += local.errors;
        stats->warnings += local.warnings;
    }
    return rc;
}
