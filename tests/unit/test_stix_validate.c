/* SPDX-License-Identifier: Apache-2.0 */
/* STIX validation: reference examples, findings, ids, TLP, serialisation. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stix.h"

#define MAX_FINDINGS 32

struct findings {
    size_t n;
    struct cairn_diag d[MAX_FINDINGS];
};

static void collect(const struct cairn_diag *diag, void *ud)
{
    struct findings *f = ud;
    if (f->n < MAX_FINDINGS)
        f->d[f->n] = *diag;
    f->n++;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int validate_str(const char *doc, bool strict, struct findings *f,
                        struct cairn_validate_stats *stats)
{
    struct cairn_validate_opts opts = {
        .file = "t.json", .strict = strict, .cb = collect, .ud = f};
    memset(f, 0, sizeof *f);
    memset(stats, 0, sizeof *stats);
    return cairn_stix_validate_buffer(doc, strlen(doc), &opts, stats);
}

static void validate_example(const char *path)
{
    size_t len;
    char *buf = read_file(path, &len);
    struct findings f = {0};
    struct cairn_validate_stats stats = {0, 0, 0};
    struct cairn_validate_opts opts = {.file = path, .cb = collect, .ud = &f};
    int rc = cairn_stix_validate_buffer(buf, len, &opts, &stats);
    for (size_t i = 0; i < f.n && i < MAX_FINDINGS; i++) {
        /*
         * The one justified warning: infrastructure.json's SCOs carry
         * random UUIDs, written before STIX 2.1 made SCO ids
         * deterministic; the specification says SHOULD, so a warning.
         */
        if (strcmp(f.d[i].rule, "sco-id-deterministic") == 0 &&
            f.d[i].severity == CAIRN_SEV_WARNING)
            continue;
        char line[1200];
        cairn_diag_format(&f.d[i], line, sizeof line);
        fail_msg("unexpected finding: %s", line);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(stats.errors, 0);
    assert_true(stats.objects >= 1);
    free(buf);
}

/* Validate every *.json in `dir`; returns how many there were. */
static size_t validate_dir(const char *dir)
{
    size_t files = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        validate_example(path);
        files++;
    }
    closedir(d);
    return files;
}

/* The examples shipped in examples/stix. */
static void test_shipped_examples(void **state)
{
    (void)state;
    assert_true(validate_dir(CAIRN_EXAMPLES "/stix") >= 7);
}

/* The OASIS examples, where ../shared/ref is beside the checkout. */
static void test_reference_examples(void **state)
{
    (void)state;
    static const char *const dirs[] = {
        CAIRN_REF_DIR "/stix2-json-schemas/examples",
        CAIRN_REF_DIR "/stix2-json-schemas/examples/threat-reports",
    };
    DIR *probe = opendir(dirs[0]);
    if (probe == NULL) {
        print_message("skipped: no OASIS examples at %s\n", dirs[0]);
        skip();
    }
    closedir(probe);
    assert_true(validate_dir(dirs[0]) + validate_dir(dirs[1]) >= 8);
}

#define INDICATOR_HEAD                                                         \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","                        \
    "\"id\":\"indicator--33fe3b22-0201-47cf-85d0-97c02164528d\","              \
    "\"created\":\"2014-05-08T09:00:00.000Z\","                                \
    "\"modified\":\"2014-05-08T09:00:00.000Z\","                               \
    "\"pattern\":\"[ipv4-addr:value = '10.0.0.0']\","                          \
    "\"pattern_type\":\"stix\","                                               \
    "\"valid_from\":\"2014-05-08T09:00:00Z\""

static void test_findings_and_stats(void **state)
{
    (void)state;
    struct findings f;
    struct cairn_validate_stats st;

    assert_int_equal(validate_str(INDICATOR_HEAD "}", false, &f, &st), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(st.objects, 1);

    /* An error names the object, the path and the rule. */
    assert_int_equal(validate_str(INDICATOR_HEAD
                                  ",\"valid_until\":\"2010-01-01T00:00:00Z\"}",
                                  false, &f, &st),
                     CAIRN_EINVALID);
    assert_int_equal(f.n, 1);
    assert_int_equal(st.errors, 1);
    assert_string_equal(f.d[0].file, "t.json");
    assert_string_equal(f.d[0].object_id,
                        "indicator--33fe3b22-0201-47cf-85d0-97c02164528d");
    assert_string_equal(f.d[0].path, "valid_until");
    assert_string_equal(f.d[0].rule, "time-order");
    assert_string_equal(f.d[0].message,
                        "valid_until (2010-01-01T00:00:00Z) must be later "
                        "than valid_from (2014-05-08T09:00:00Z)");

    /* A warning passes, unless strict. */
    const char *warn = INDICATOR_HEAD ",\"indicator_types\":[\"odd\"]}";
    assert_int_equal(validate_str(warn, false, &f, &st), 0);
    assert_int_equal(st.warnings, 1);
    assert_int_equal(f.d[0].severity, CAIRN_SEV_WARNING);
    assert_string_equal(f.d[0].path, "indicator_types[0]");
    assert_string_equal(f.d[0].message, "\"odd\" is not in the open vocabulary "
                                        "indicator-type-ov");
    assert_int_equal(validate_str(warn, true, &f, &st), CAIRN_EINVALID);
    assert_int_equal(st.errors, 1);
    assert_int_equal(st.warnings, 0);
    assert_int_equal(f.d[0].severity, CAIRN_SEV_ERROR);

    /* In a bundle, paths start at objects[N]. */
    assert_int_equal(
        validate_str("{\"type\":\"bundle\",\"id\":\"bundle--44af6c39-c09b-49c5-"
                     "9de2-394224b04982\",\"objects\":[" INDICATOR_HEAD
                     "}," INDICATOR_HEAD ",\"confidence\":101}]}",
                     false, &f, &st),
        CAIRN_EINVALID);
    assert_int_equal(st.objects, 2);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.d[0].path, "objects[1].confidence");
    assert_string_equal(f.d[0].rule, "range");

    /* Syntax errors are findings with a line and column. */
    assert_int_equal(
        validate_str("{\"type\":\"bundle\",\n\"objects\":[}", false, &f, &st),
        CAIRN_EPARSE);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.d[0].line, 2);
    assert_int_equal(f.d[0].column, 12);
    assert_string_equal(f.d[0].rule, "json-syntax");
    assert_int_equal(st.errors, 1);
}

static void test_validate_object(void **state)
{
    (void)state;
    struct findings f = {0};
    struct cairn_validate_stats st = {7, 0, 0};
    struct cairn_validate_opts opts = {.cb = collect, .ud = &f};
    json_t *obj = json_loads(INDICATOR_HEAD ",\"x_ok\":1,\"Bad\":1}", 0, NULL);
    assert_non_null(obj);
    assert_int_equal(cairn_stix_validate_object(obj, "objects[3]", &opts, &st),
                     CAIRN_EINVALID);
    assert_int_equal(st.objects, 7); /* added to, not reset */
    assert_int_equal(st.errors, 1);
    assert_string_equal(f.d[0].path, "objects[3].Bad");
    assert_string_equal(f.d[0].rule, "property-name");
    json_decref(obj);

    json_t *arr = json_array();
    f.n = 0;
    assert_int_equal(cairn_stix_validate_object(arr, "", &opts, NULL),
                     CAIRN_EINVALID);
    assert_string_equal(f.d[0].rule, "object-type");
    json_decref(arr);

    /* Unknown types: a warning, and the common properties still count. */
    obj = json_loads("{\"type\":\"x-acme-thing\",\"spec_version\":\"2.1\","
                     "\"id\":\"x-acme-thing--33fe3b22-0201-47cf-85d0-"
                     "97c02164528d\",\"confidence\":1000}",
                     0, NULL);
    f.n = 0;
    assert_int_equal(cairn_stix_validate_object(obj, "", &opts, NULL),
                     CAIRN_EINVALID);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.d[0].rule, "unknown-type");
    assert_int_equal(f.d[0].severity, CAIRN_SEV_WARNING);
    assert_string_equal(f.d[1].rule, "range");
    json_decref(obj);
}

static void test_ids(void **state)
{
    (void)state;
    const char *uuid = "--33fe3b22-0201-47cf-85d0-97c02164528d";
    char id[128];
    snprintf(id, sizeof id, "indicator%s", uuid);
    assert_true(cairn_stix_id_check(id, NULL));
    assert_true(cairn_stix_id_check(id, "indicator"));
    assert_false(cairn_stix_id_check(id, "malware"));
    assert_false(cairn_stix_id_check(id, "indicato"));
    assert_true(cairn_stix_id_check(
        "relationship--81f12913-1372-4c96-85ec-E9034ac98aba", NULL));
    assert_false(cairn_stix_id_check(
        "indicator--33fe3b22-0201-47cf-c5d0-97c02164528d", NULL)); /* variant */
    assert_false(cairn_stix_id_check("indicator-33fe3b22-0201-47cf-85d0-"
                                     "97c02164528d",
                                     NULL));
    assert_false(cairn_stix_id_check("Indicator--33fe3b22-0201-47cf-85d0-"
                                     "97c02164528d",
                                     NULL));
    assert_false(cairn_stix_id_check("ab--33fe3b22-0201-47cf-85d0-"
                                     "97c02164528d",
                                     NULL));
    assert_false(cairn_stix_id_check("", NULL));
    assert_false(cairn_stix_id_check(NULL, NULL));

    assert_int_equal(cairn_stix_kind_of("indicator"), CAIRN_STIX_SDO);
    assert_int_equal(cairn_stix_kind_of("sighting"), CAIRN_STIX_SRO);
    assert_int_equal(cairn_stix_kind_of("marking-definition"), CAIRN_STIX_META);
    assert_int_equal(cairn_stix_kind_of("bundle"), CAIRN_STIX_BUNDLE);
    assert_int_equal(cairn_stix_kind_of("x-acme"), CAIRN_STIX_UNKNOWN);
    assert_int_equal(cairn_stix_kind_of(NULL), CAIRN_STIX_UNKNOWN);

    json_t *obj = json_loads("{\"type\":\"tool\",\"id\":3}", 0, NULL);
    assert_string_equal(cairn_stix_type(obj), "tool");
    assert_null(cairn_stix_id(obj));
    json_decref(obj);
}

static void test_tlp(void **state)
{
    (void)state;
    assert_int_equal(cairn_tlp_of_marking("marking-definition--94868c89-"
                                          "83c2-464b-929b-a1a8aa3c8487"),
                     CAIRN_TLP_CLEAR);
    assert_int_equal(cairn_tlp_of_marking("marking-definition--613f2e26-"
                                          "407d-48c7-9eca-b8e91df99dc9"),
                     CAIRN_TLP_CLEAR); /* TLP 1.0 WHITE */
    assert_int_equal(cairn_tlp_of_marking("marking-definition--939a9414-"
                                          "2ddd-4d32-a0cd-375ea402b003"),
                     CAIRN_TLP_AMBER_STRICT);
    assert_int_equal(cairn_tlp_of_marking("marking-definition--5e57c739-"
                                          "391a-4eb3-b6be-7d15ca92d5ed"),
                     CAIRN_TLP_RED);
    assert_int_equal(cairn_tlp_of_marking("marking-definition--5e57c739-"
                                          "391a-4eb3-b6be-7d15ca92d5ec"),
                     CAIRN_TLP_NONE);
    assert_int_equal(cairn_tlp_of_marking(NULL), CAIRN_TLP_NONE);
    assert_string_equal(cairn_tlp_name(CAIRN_TLP_AMBER_STRICT),
                        "TLP:AMBER+STRICT");
    assert_null(cairn_tlp_name(CAIRN_TLP_NONE));
    assert_string_equal(cairn_tlp_marking_id(CAIRN_TLP_GREEN),
                        "marking-definition--bab4a63c-aed9-4cf5-a766-"
                        "dfca5abac2bb");
    assert_string_equal(cairn_tlp_marking_id(CAIRN_TLP_RED),
                        "marking-definition--e828b379-4e03-4974-9ac4-"
                        "e53a884c97c1");
    assert_null(cairn_tlp_marking_id(CAIRN_TLP_NONE));
    /* Every TLP 2.0 id maps back to its level. */
    for (int t = CAIRN_TLP_CLEAR; t <= CAIRN_TLP_RED; t++)
        assert_int_equal(cairn_tlp_of_marking(cairn_tlp_marking_id(t)), t);
}

static void test_serialize(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"tool\",\"name\":\"x\",\"aliases\":[\"a\"]}";
    json_t *obj = json_loads(text, 0, NULL);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(cairn_stix_serialize(obj, false, &out, &len), 0);
    assert_string_equal(out, text); /* members keep their order */
    assert_int_equal(len, strlen(text));
    cairn_free(out);
    assert_int_equal(cairn_stix_serialize(obj, true, &out, NULL), 0);
    assert_non_null(strstr(out, "\n  \"name\": \"x\""));
    cairn_free(out);
    json_decref(obj);

    json_t *b = NULL;
    assert_int_equal(cairn_bundle_new(&b), 0);
    assert_string_equal(cairn_stix_type(b), "bundle");
    assert_true(cairn_stix_id_check(cairn_stix_id(b), "bundle"));
    assert_true(json_is_array(json_object_get(b, "objects")));
    struct findings f;
    struct cairn_validate_stats st;
    assert_int_equal(cairn_stix_serialize(b, false, &out, NULL), 0);
    assert_int_equal(validate_str(out, false, &f, &st), 0);
    assert_int_equal(f.n, 0);
    cairn_free(out);
    json_decref(b);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_examples),
        cmocka_unit_test(test_reference_examples),
        cmocka_unit_test(test_findings_and_stats),
        cmocka_unit_test(test_validate_object),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_tlp),
        cmocka_unit_test(test_serialize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
