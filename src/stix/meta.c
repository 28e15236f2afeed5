/* SPDX-License-Identifier: Apache-2.0 */
/* STIX 2.1 meta objects: marking definitions, language content, extensions. */
#include <string.h>

#include "stix/stix_int.h"

#define REQ PF_REQUIRED
#define END                                                                    \
    {                                                                          \
        NULL, P_ANY, 0, NULL, 0, 0, NULL                                       \
    }

static const char *const identity_types[] = {"identity", NULL};

/* ---- marking-definition (section 7.2) ------------------------------------ */

static const struct prop_spec marking_props[] = {
    {"created", P_TIMESTAMP, REQ, NULL, 0, 0, NULL},
    {"name", P_STRING, 0, NULL, 0, 0, NULL},
    {"definition_type", P_STRING, PF_NONEMPTY, NULL, 0, 0, NULL},
    {"definition", P_OBJECT, 0, NULL, 0, 0, NULL},
    END,
};

/* Properties section 7.2.1 lists as not applicable to marking definitions. */
static const char *const marking_not_applicable[] = {
    "modified", "revoked", "labels", "confidence", "lang", NULL,
};

static void expect_string(struct vctx *v, const json_t *obj, const char *key,
                          const char *want, const char *what)
{
    const json_t *got = json_object_get(obj, key);
    if (json_is_string(got) && strcmp(json_string_value(got), want) == 0)
        return;
    if (json_is_string(got))
        cairn__v_error(v, key, "tlp-marking",
                "%s must have %s \"%s\", found \"%.64s\"", what, key, want,
                json_string_value(got));
    else
        cairn__v_error(v, key, "tlp-marking", "%s must have %s \"%s\"", what, key,
                want);
}

/* Fixed TLP ids stand for fixed content: anything else is a forgery. */
static void check_tlp_content(struct vctx *v, const json_t *obj, int version,
                              const char *level)
{
    char name[32];
    size_t n = strlen(level);
    if (n >= sizeof name - 4)
        return;
    memcpy(name, "TLP:", 4);
    for (size_t i = 0; i <= n; i++) {
        char c = level[i];
        name[4 + i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    if (version == 1) {
        const char *what = "the TLP 1.0 marking definition";
        expect_string(v, obj, "created", "2017-01-20T00:00:00.000Z", what);
        expect_string(v, obj, "definition_type", "tlp", what);
        expect_string(v, obj, "name", name, what);
        const json_t *def = json_object_get(obj, "definition");
        const json_t *tlp = json_object_get(def, "tlp");
        if (json_object_size(def) != 1 || !json_is_string(tlp) ||
            strcmp(json_string_value(tlp), level) != 0)
            cairn__v_error(v, "definition", "tlp-marking",
                    "%s must have definition {\"tlp\": \"%s\"}", what, level);
        return;
    }
    const char *what = "the TLP 2.0 marking definition";
    expect_string(v, obj, "created", "2022-10-01T00:00:00.000Z", what);
    expect_string(v, obj, "name", name, what);
    const json_t *ext = json_object_get(json_object_get(obj, "extensions"),
                                        STIX_TLP2_EXTENSION);
    const json_t *et = json_object_get(ext, "extension_type");
    const json_t *lv = json_object_get(ext, "tlp_2_0");
    if (!json_is_string(et) ||
        strcmp(json_string_value(et), "property-extension") != 0 ||
        !json_is_string(lv) || strcmp(json_string_value(lv), level) != 0)
        cairn__v_error(v, "extensions", "tlp-marking",
                "%s must have the extension %s with extension_type "
                "\"property-extension\" and tlp_2_0 \"%s\"",
                what, STIX_TLP2_EXTENSION, level);
}

static void marking_rules(struct vctx *v, const json_t *obj)
{
    for (size_t i = 0; marking_not_applicable[i] != NULL; i++)
        if (json_object_get(obj, marking_not_applicable[i]) != NULL)
            cairn__v_error(v, marking_not_applicable[i], "not-applicable",
                    "marking definitions have no \"%s\" property",
                    marking_not_applicable[i]);

    const json_t *dtype = json_object_get(obj, "definition_type");
    const json_t *def = json_object_get(obj, "definition");
    if ((dtype != NULL) != (def != NULL))
        cairn__v_error(v, NULL, "marking-definition",
                "definition_type and definition must be given together");

    const char *id = cairn_stix_id(obj);
    const char *level = NULL;
    int version = cairn__stix_tlp_lookup(id, &level);
    const char *dt = json_string_value(dtype);
    if (dt != NULL && json_is_object(def)) {
        if (strcmp(dt, "statement") == 0) {
            const json_t *st = json_object_get(def, "statement");
            if (!json_is_string(st) || json_object_size(def) != 1)
                cairn__v_error(v, "definition", "marking-definition",
                        "a statement marking's definition must be "
                        "{\"statement\": \"...\"}");
        } else if (strcmp(dt, "tlp") == 0 && version != 1) {
            cairn__v_error(v, "id", "tlp-marking",
                    "TLP 1.0 markings must use the marking-definition ids "
                    "of section 7.2.1.4");
        } else if (strcmp(dt, "tlp") != 0) {
            cairn__v_warn(v, "definition_type", "vocabulary",
                   "\"%.64s\" is neither \"statement\" nor \"tlp\"", dt);
        }
    }
    const json_t *exts = json_object_get(obj, "extensions");
    if (version == 0 && json_object_get(exts, STIX_TLP2_EXTENSION) != NULL)
        cairn__v_error(v, "id", "tlp-marking",
                "TLP 2.0 markings must use the standard marking-definition "
                "ids");
    if (version != 0)
        check_tlp_content(v, obj, version, level);
}

static const struct type_spec marking_definition = {
    "marking-definition", CAIRN_STIX_META, marking_props, NULL, marking_rules};

/* ---- language-content (section 7.1) ----------------------------------- */

static void check_contents(struct vctx *v, const json_t *contents)
{
    const char *lang;
    const json_t *tr;
    if (json_object_size(contents) == 0) {
        cairn__v_error(v, NULL, "empty-dictionary", "contents must not be empty");
        return;
    }
    json_object_foreach((json_t *)contents, lang, tr)
    {
        size_t mark = cairn__v_push_key(v, lang);
        size_t len = strlen(lang), run = 0;
        bool ok = len > 0;
        for (size_t i = 0; ok && i < len; i++) {
            char c = lang[i];
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
                    "\"%.64s\" is not an RFC 5646 language tag", lang);
        if (!json_is_object(tr))
            cairn__v_error(v, NULL, "property-type",
                    "expected an object of translated properties");
        else if (json_object_size(tr) == 0)
            cairn__v_error(v, NULL, "empty-dictionary",
                    "translations must not be empty");
        cairn__v_pop(v, mark);
    }
}

static const struct prop_spec language_content_props[] = {
    {"created", P_TIMESTAMP, REQ, NULL, 0, 0, NULL},
    {"modified", P_TIMESTAMP, REQ, NULL, 0, 0, NULL},
    {"object_ref", P_ID, REQ, NULL, 0, 0, NULL},
    {"object_modified", P_TIMESTAMP, 0, NULL, 0, 0, NULL},
    {"contents", P_OBJECT, REQ, NULL, 0, 0, check_contents},
    END,
};

static const struct type_spec language_content = {
    "language-content", CAIRN_STIX_META, language_content_props, NULL, NULL};

/* ---- extension-definition (section 7.3) ---------------------------------- */

static const struct prop_spec extension_definition_props[] = {
    {"created", P_TIMESTAMP, REQ, NULL, 0, 0, NULL},
    {"modified", P_TIMESTAMP, REQ, NULL, 0, 0, NULL},
    {"created_by_ref", P_ID, REQ, identity_types, 0, 0, NULL},
    {"name", P_STRING, REQ | PF_NONEMPTY, NULL, 0, 0, NULL},
    {"description", P_STRING, 0, NULL, 0, 0, NULL},
    {"schema", P_STRING, REQ | PF_NONEMPTY, NULL, 0, 0, NULL},
    {"version", P_STRING, REQ | PF_NONEMPTY, NULL, 0, 0, NULL},
    {"extension_types", P_LIST_ENUM, REQ, cairn__stix_enum_extension_type, 0, 0, NULL},
    {"extension_properties", P_LIST_STRING, 0, NULL, 0, 0, NULL},
    END,
};

static void extension_definition_rules(struct vctx *v, const json_t *obj)
{
    const json_t *types = json_object_get(obj, "extension_types");
    bool toplevel = false;
    size_t i;
    const json_t *t;
    json_array_foreach(types, i, t) if (json_is_string(t) &&
                                        strcmp(json_string_value(t),
                                               "toplevel-property-extension") ==
                                            0) toplevel = true;
    if (json_object_get(obj, "extension_properties") != NULL && !toplevel)
        cairn__v_error(v, "extension_properties", "extension-definition",
                "extension_properties is only for extension_types "
                "\"toplevel-property-extension\"");
    if (json_object_get(obj, "extensions") != NULL)
        cairn__v_error(v, "extensions", "not-applicable",
                "extension definitions have no \"extensions\" property");
}

static const struct type_spec extension_definition = {
    "extension-definition", CAIRN_STIX_META, extension_definition_props, NULL,
    extension_definition_rules};

const struct type_spec *const cairn__stix_meta_types[] = {
    &marking_definition,
    &language_content,
    &extension_definition,
    NULL,
};
