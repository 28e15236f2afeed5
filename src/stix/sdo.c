/* SPDX-License-Identifier: Apache-2.0 */
/* The STIX 2.1 domain objects (section 4) and relationships (section 5). */
#include <string.h>

#include "stix/stix_int.h"

/* Property table entries, one line each. */
#define REQ PF_REQUIRED
#define STR(n, f)                                                              \
    {                                                                          \
        n, P_STRING, (f), NULL, 0, 0, NULL                                     \
    }
#define TS(n, f)                                                               \
    {                                                                          \
        n, P_TIMESTAMP, (f), NULL, 0, 0, NULL                                  \
    }
#define BOOL(n, f)                                                             \
    {                                                                          \
        n, P_BOOL, (f), NULL, 0, 0, NULL                                       \
    }
#define INT(n, f, lo, hi)                                                      \
    {                                                                          \
        n, P_INT, (f), NULL, lo, hi, NULL                                      \
    }
#define FLOAT(n, f, lo, hi)                                                    \
    {                                                                          \
        n, P_FLOAT, (f), NULL, lo, hi, NULL                                    \
    }
#define ID(n, f, t)                                                            \
    {                                                                          \
        n, P_ID, (f), t, 0, 0, NULL                                            \
    }
#define IDS(n, f, t)                                                           \
    {                                                                          \
        n, P_LIST_ID, (f), t, 0, 0, NULL                                       \
    }
#define STRS(n, f)                                                             \
    {                                                                          \
        n, P_LIST_STRING, (f), NULL, 0, 0, NULL                                \
    }
#define VOCAB(n, f, v)                                                         \
    {                                                                          \
        n, P_VOCAB, (f), v, 0, 0, NULL                                         \
    }
#define VOCABS(n, f, v)                                                        \
    {                                                                          \
        n, P_LIST_VOCAB, (f), v, 0, 0, NULL                                    \
    }
#define ENUM(n, f, v)                                                          \
    {                                                                          \
        n, P_ENUM, (f), v, 0, 0, NULL                                          \
    }
#define KILL_CHAIN                                                             \
    {                                                                          \
        "kill_chain_phases", P_KILL_CHAIN, 0, NULL, 0, 0, NULL                 \
    }
#define END                                                                    \
    {                                                                          \
        NULL, P_ANY, 0, NULL, 0, 0, NULL                                       \
    }

static const char *const software_types[] = {"software", NULL};
static const char *const sample_types[] = {"file", "artifact", NULL};
static const char *const analysis_sample_types[] = {"file", "artifact",
                                                    "network-traffic", NULL};
static const char *const observed_data_types[] = {"observed-data", NULL};
static const char *const where_sighted_types[] = {"identity", "location", NULL};

/* first_seen <= last_seen, for the objects that have both. */
static void seen_order(struct vctx *v, const json_t *obj)
{
    cairn__v_time_order(v, obj, "first_seen", "last_seen", false);
}

/* The kind of object an identifier points at, from its type part. */
static enum cairn_stix_kind ref_kind(const json_t *ref, char *type, size_t len)
{
    const char *s = json_string_value(ref);
    const char *sep = s != NULL ? strstr(s, "--") : NULL;
    if (sep == NULL || (size_t)(sep - s) >= len)
        return CAIRN_STIX_UNKNOWN;
    memcpy(type, s, (size_t)(sep - s));
    type[sep - s] = '\0';
    return cairn_stix_kind_of(type);
}

static const char *kind_name(enum cairn_stix_kind kind)
{
    switch (kind) {
    case CAIRN_STIX_SDO:
        return "a domain object";
    case CAIRN_STIX_SRO:
        return "a relationship object";
    case CAIRN_STIX_SCO:
        return "a cyber-observable object";
    case CAIRN_STIX_META:
        return "a meta object";
    case CAIRN_STIX_BUNDLE:
        return "a bundle";
    case CAIRN_STIX_UNKNOWN:
        break;
    }
    return "an object of unknown type";
}

/* ---- domain objects ------------------------------------------------------ */

static const struct prop_spec attack_pattern_props[] = {
    STR("name", REQ),
    STR("description", 0),
    STRS("aliases", 0),
    KILL_CHAIN,
    END,
};
static const struct type_spec attack_pattern = {
    "attack-pattern", CAIRN_STIX_SDO, attack_pattern_props, NULL, NULL};

static const struct prop_spec campaign_props[] = {
    STR("name", REQ),
    STR("description", 0),
    STRS("aliases", 0),
    TS("first_seen", 0),
    TS("last_seen", 0),
    STR("objective", 0),
    END,
};
static const struct type_spec campaign = {"campaign", CAIRN_STIX_SDO,
                                          campaign_props, NULL, seen_order};

static const struct prop_spec course_of_action_props[] = {
    STR("name", REQ),
    STR("description", 0),
    END,
};
static const struct type_spec course_of_action = {
    "course-of-action", CAIRN_STIX_SDO, course_of_action_props, NULL, NULL};

static const struct prop_spec grouping_props[] = {
    STR("name", 0),
    STR("description", 0),
    VOCAB("context", REQ, cairn__stix_vocab_grouping_context),
    IDS("object_refs", REQ, NULL),
    END,
};
static const struct type_spec grouping = {"grouping", CAIRN_STIX_SDO,
                                          grouping_props, NULL, NULL};

static const struct prop_spec identity_props[] = {
    STR("name", REQ),
    STR("description", 0),
    STRS("roles", 0),
    VOCAB("identity_class", 0, cairn__stix_vocab_identity_class),
    VOCABS("sectors", 0, cairn__stix_vocab_industry_sector),
    STR("contact_information", 0),
    END,
};
static const struct type_spec identity = {"identity", CAIRN_STIX_SDO,
                                          identity_props, NULL, NULL};

static const struct prop_spec incident_props[] = {
    STR("name", REQ),
    STR("description", 0),
    KILL_CHAIN,
    END,
};
static const struct type_spec incident = {"incident", CAIRN_STIX_SDO,
                                          incident_props, NULL, NULL};

static const struct prop_spec indicator_props[] = {
    STR("name", 0),
    STR("description", 0),
    VOCABS("indicator_types", 0, cairn__stix_vocab_indicator_type),
    STR("pattern", REQ | PF_NONEMPTY),
    VOCAB("pattern_type", REQ, cairn__stix_vocab_pattern_type),
    STR("pattern_version", 0),
    TS("valid_from", REQ),
    TS("valid_until", 0),
    KILL_CHAIN,
    END,
};

static void indicator_rules(struct vctx *v, const json_t *obj)
{
    cairn__v_time_order(v, obj, "valid_from", "valid_until", true);
}

static const struct type_spec indicator = {
    "indicator", CAIRN_STIX_SDO, indicator_props, NULL, indicator_rules};

static const struct prop_spec infrastructure_props[] = {
    STR("name", REQ),
    STR("description", 0),
    VOCABS("infrastructure_types", 0, cairn__stix_vocab_infrastructure_type),
    STRS("aliases", 0),
    KILL_CHAIN,
    TS("first_seen", 0),
    TS("last_seen", 0),
    END,
};
static const struct type_spec infrastructure = {
    "infrastructure", CAIRN_STIX_SDO, infrastructure_props, NULL, seen_order};

static const struct prop_spec intrusion_set_props[] = {
    STR("name", REQ),
    STR("description", 0),
    STRS("aliases", 0),
    TS("first_seen", 0),
    TS("last_seen", 0),
    STRS("goals", 0),
    VOCAB("resource_level", 0, cairn__stix_vocab_attack_resource_level),
    VOCAB("primary_motivation", 0, cairn__stix_vocab_attack_motivation),
    VOCABS("secondary_motivations", 0, cairn__stix_vocab_attack_motivation),
    END,
};
static const struct type_spec intrusion_set = {
    "intrusion-set", CAIRN_STIX_SDO, intrusion_set_props, NULL, seen_order};

static const struct prop_spec location_props[] = {
    STR("name", 0),
    STR("description", 0),
    FLOAT("latitude", 0, -90, 90),
    FLOAT("longitude", 0, -180, 180),
    FLOAT("precision", 0, 0, 1e300),
    VOCAB("region", 0, cairn__stix_vocab_region),
    STR("country", 0),
    STR("administrative_area", 0),
    STR("city", 0),
    STR("street_address", 0),
    STR("postal_code", 0),
    END,
};

static void location_rules(struct vctx *v, const json_t *obj)
{
    static const char *const where[] = {"region", "country", "latitude", NULL};
    bool lat = json_object_get(obj, "latitude") != NULL;
    bool lon = json_object_get(obj, "longitude") != NULL;
    if (lat != lon)
        cairn__v_error(v, lat ? "latitude" : "longitude", "location",
                "latitude and longitude must be given together");
    if (json_object_get(obj, "precision") != NULL && !(lat && lon))
        cairn__v_error(v, "precision", "location",
                "precision needs latitude and longitude");
    cairn__v_require_one_of(v, obj, where);
}

static const struct type_spec location = {"location", CAIRN_STIX_SDO,
                                          location_props, NULL, location_rules};

static const struct prop_spec malware_props[] = {
    STR("name", 0),
    STR("description", 0),
    VOCABS("malware_types", 0, cairn__stix_vocab_malware_type),
    BOOL("is_family", REQ),
    STRS("aliases", 0),
    KILL_CHAIN,
    TS("first_seen", 0),
    TS("last_seen", 0),
    IDS("operating_system_refs", 0, software_types),
    VOCABS("architecture_execution_envs", 0, cairn__stix_vocab_processor_architecture),
    VOCABS("implementation_languages", 0, cairn__stix_vocab_implementation_language),
    VOCABS("capabilities", 0, cairn__stix_vocab_malware_capabilities),
    IDS("sample_refs", 0, sample_types),
    END,
};

static void malware_rules(struct vctx *v, const json_t *obj)
{
    if (json_is_true(json_object_get(obj, "is_family")) &&
        json_object_get(obj, "name") == NULL)
        cairn__v_error(v, NULL, "required-property",
                "missing required property \"name\" (is_family is true)");
    seen_order(v, obj);
}

static const struct type_spec malware = {"malware", CAIRN_STIX_SDO,
                                         malware_props, NULL, malware_rules};

static const struct prop_spec malware_analysis_props[] = {
    STR("product", REQ | PF_NONEMPTY),
    STR("version", 0),
    ID("host_vm_ref", 0, software_types),
    ID("operating_system_ref", 0, software_types),
    IDS("installed_software_refs", 0, software_types),
    STR("configuration_version", 0),
    STRS("modules", 0),
    STR("analysis_engine_version", 0),
    STR("analysis_definition_version", 0),
    TS("submitted", 0),
    TS("analysis_started", 0),
    TS("analysis_ended", 0),
    STR("result_name", 0),
    VOCAB("result", 0, cairn__stix_vocab_malware_result),
    IDS("analysis_sco_refs", 0, NULL),
    ID("sample_ref", 0, analysis_sample_types),
    END,
};

static void malware_analysis_rules(struct vctx *v, const json_t *obj)
{
    static const char *const outcome[] = {"result", "analysis_sco_refs", NULL};
    cairn__v_require_one_of(v, obj, outcome);
    cairn__v_time_order(v, obj, "analysis_started", "analysis_ended", false);
}

static const struct type_spec malware_analysis = {
    "malware-analysis", CAIRN_STIX_SDO, malware_analysis_props, NULL,
    malware_analysis_rules};

static const struct prop_spec note_props[] = {
    STR("abstract", 0),
    STR("content", REQ),
    STRS("authors", 0),
    IDS("object_refs", REQ, NULL),
    END,
};
static const struct type_spec note = {"note", CAIRN_STIX_SDO, note_props, NULL,
                                      NULL};

static const struct prop_spec observed_data_props[] = {
    TS("first_observed", REQ),
    TS("last_observed", REQ),
    INT("number_observed", REQ, 1, 999999999),
    {"objects", P_DICT, PF_DEPRECATED, NULL, 0, 0, NULL},
    IDS("object_refs", 0, NULL),
    END,
};

static void observed_data_rules(struct vctx *v, const json_t *obj)
{
    bool objects = json_object_get(obj, "objects") != NULL;
    const json_t *refs = json_object_get(obj, "object_refs");
    cairn__v_time_order(v, obj, "first_observed", "last_observed", false);
    if (objects == (refs != NULL))
        cairn__v_error(v, NULL, "observed-data",
                "exactly one of \"objects\" and \"object_refs\" is required");
    size_t i;
    const json_t *ref;
    char type[251];
    json_array_foreach(refs, i, ref)
    {
        enum cairn_stix_kind k = ref_kind(ref, type, sizeof type);
        if (k == CAIRN_STIX_SDO || k == CAIRN_STIX_META ||
            k == CAIRN_STIX_BUNDLE) {
            size_t m1 = cairn__v_push_key(v, "object_refs");
            size_t m2 = cairn__v_push_index(v, i);
            cairn__v_error(v, NULL, "reference-type",
                    "\"%s\" must refer to a cyber-observable or "
                    "relationship object, not %s",
                    json_string_value(ref), kind_name(k));
            cairn__v_pop(v, m2);
            cairn__v_pop(v, m1);
        }
    }
}

static const struct type_spec observed_data = {"observed-data", CAIRN_STIX_SDO,
                                               observed_data_props, NULL,
                                               observed_data_rules};

static const struct prop_spec opinion_props[] = {
    STR("explanation", 0),
    STRS("authors", 0),
    ENUM("opinion", REQ, cairn__stix_enum_opinion),
    IDS("object_refs", REQ, NULL),
    END,
};
static const struct type_spec opinion = {"opinion", CAIRN_STIX_SDO,
                                         opinion_props, NULL, NULL};

static const struct prop_spec report_props[] = {
    STR("name", REQ),
    STR("description", 0),
    VOCABS("report_types", 0, cairn__stix_vocab_report_type),
    TS("published", REQ),
    IDS("object_refs", REQ, NULL),
    END,
};
static const struct type_spec report = {"report", CAIRN_STIX_SDO, report_props,
                                        NULL, NULL};

static const struct prop_spec threat_actor_props[] = {
    STR("name", REQ),
    STR("description", 0),
    VOCABS("threat_actor_types", 0, cairn__stix_vocab_threat_actor_type),
    STRS("aliases", 0),
    TS("first_seen", 0),
    TS("last_seen", 0),
    VOCABS("roles", 0, cairn__stix_vocab_threat_actor_role),
    STRS("goals", 0),
    VOCAB("sophistication", 0, cairn__stix_vocab_threat_actor_sophistication),
    VOCAB("resource_level", 0, cairn__stix_vocab_attack_resource_level),
    VOCAB("primary_motivation", 0, cairn__stix_vocab_attack_motivation),
    VOCABS("secondary_motivations", 0, cairn__stix_vocab_attack_motivation),
    VOCABS("personal_motivations", 0, cairn__stix_vocab_attack_motivation),
    END,
};
static const struct type_spec threat_actor = {
    "threat-actor", CAIRN_STIX_SDO, threat_actor_props, NULL, seen_order};

static const struct prop_spec tool_props[] = {
    STR("name", REQ),
    STR("description", 0),
    VOCABS("tool_types", 0, cairn__stix_vocab_tool_type),
    STRS("aliases", 0),
    KILL_CHAIN,
    STR("tool_version", 0),
    END,
};
static const struct type_spec tool = {"tool", CAIRN_STIX_SDO, tool_props, NULL,
                                      NULL};

static const struct prop_spec vulnerability_props[] = {
    STR("name", REQ),
    STR("description", 0),
    END,
};
static const struct type_spec vulnerability = {"vulnerability", CAIRN_STIX_SDO,
                                               vulnerability_props, NULL, NULL};

/* ---- relationship objects ---------------------------------------------------
 */

/* Section 5.1.1: lower-case ASCII letters, digits and hyphens. */
static void check_relationship_type(struct vctx *v, const json_t *value)
{
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    bool ok = len > 0 && len <= 250;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
             s[i] == '-';
    if (!ok)
        cairn__v_error(v, NULL, "relationship-type",
                "\"%.100s\" must be 1 to 250 characters of a-z, 0-9 and '-'",
                s);
}

static const struct prop_spec relationship_props[] = {
    {"relationship_type", P_STRING, REQ, NULL, 0, 0, check_relationship_type},
    STR("description", 0),
    ID("source_ref", REQ, NULL),
    ID("target_ref", REQ, NULL),
    TS("start_time", 0),
    TS("stop_time", 0),
    END,
};

/* Relationships join domain and cyber-observable objects (5.1). */
static void check_endpoint(struct vctx *v, const json_t *obj, const char *key)
{
    const json_t *ref = json_object_get(obj, key);
    char type[251];
    if (!cairn_stix_id_check(json_string_value(ref), NULL))
        return;
    enum cairn_stix_kind k = ref_kind(ref, type, sizeof type);
    if (k == CAIRN_STIX_SRO || k == CAIRN_STIX_META || k == CAIRN_STIX_BUNDLE)
        cairn__v_error(v, key, "reference-type",
                "\"%s\" must refer to a domain or cyber-observable object, "
                "not %s",
                json_string_value(ref), kind_name(k));
}

static void relationship_rules(struct vctx *v, const json_t *obj)
{
    check_endpoint(v, obj, "source_ref");
    check_endpoint(v, obj, "target_ref");
    cairn__v_time_order(v, obj, "start_time", "stop_time", true);
}

static const struct type_spec relationship = {"relationship", CAIRN_STIX_SRO,
                                              relationship_props, NULL,
                                              relationship_rules};

static const struct prop_spec sighting_props[] = {
    STR("description", 0),
    TS("first_seen", 0),
    TS("last_seen", 0),
    INT("count", 0, 0, 999999999),
    ID("sighting_of_ref", REQ, NULL),
    IDS("observed_data_refs", 0, observed_data_types),
    IDS("where_sighted_refs", 0, where_sighted_types),
    BOOL("summary", 0),
    END,
};

static void sighting_rules(struct vctx *v, const json_t *obj)
{
    const json_t *ref = json_object_get(obj, "sighting_of_ref");
    char type[251];
    seen_order(v, obj);
    if (!cairn_stix_id_check(json_string_value(ref), NULL))
        return;
    enum cairn_stix_kind k = ref_kind(ref, type, sizeof type);
    if (k != CAIRN_STIX_SDO && k != CAIRN_STIX_UNKNOWN)
        cairn__v_error(v, "sighting_of_ref", "reference-type",
                "\"%s\" must refer to a domain object, not %s",
                json_string_value(ref), kind_name(k));
}

static const struct type_spec sighting = {"sighting", CAIRN_STIX_SRO,
                                          sighting_props, NULL, sighting_rules};

const struct type_spec *const cairn__stix_sdo_types[] = {
    &attack_pattern, &campaign,      &course_of_action, &grouping,
    &identity,       &incident,      &indicator,        &infrastructure,
    &intrusion_set,  &location,      &malware,          &malware_analysis,
    &note,           &observed_data, &opinion,          &report,
    &threat_actor,   &tool,          &vulnerability,    &relationship,
    &sighting,       NULL,
};
