/* SPDX-License-Identifier: Apache-2.0 */
/* Sharing rules: the TLP decision table, the anonymiser, filtered paging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/stix.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

#define ID_A      "identity--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
#define ID_B      "identity--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
#define STATEMENT "marking-definition--34e5a1c0-9d3d-4c43-a5a5-2a1b1c9d0e11"
/* A custom marking the table's readers are configured to treat as RED. */
#define RESTRICTED "marking-definition--7d1c0f5e-3f1e-4b7a-9c5d-0e6f1a2b3c4d"

/* ---- the decision table (tests/data/taxii/share.table) ------------------ */

static const char *marking_id(const char *name)
{
    static const struct {
        const char *name;
        const char *id;
    } ids[] = {
        {"white1", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
        {"green1", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
        {"amber1", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
        {"red1", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
        {"unknown", STATEMENT},
        {"restricted", RESTRICTED},
    };
    static const char *const v2[] = {"clear", "green", "amber", "amber+strict",
                                     "red"};
    for (size_t i = 0; i < sizeof v2 / sizeof v2[0]; i++)
        if (strcmp(name, v2[i]) == 0)
            return cairn_tlp_marking_id((enum cairn_tlp)(i + 1));
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (strcmp(name, ids[i].name) == 0)
            return ids[i].id;
    fail_msg("unknown marking name '%s' in the table", name);
    return NULL;
}

static int level_of(const char *name)
{
    static const char *const names[] = {"none",  "clear",        "green",
                                        "amber", "amber+strict", "red"};
    for (int i = 0; i < 6; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    fail_msg("unknown level '%s' in the table", name);
    return -1;
}

static const char *identity_of(const char *word)
{
    if (strcmp(word, "A") == 0)
        return ID_A;
    if (strcmp(word, "B") == 0)
        return ID_B;
    assert_string_equal(word, "-");
    return NULL;
}

/* The object a table row describes. */
static json_t *table_object(const char *type, const char *markings,
                            const char *by, const char *to)
{
    json_t *o = json_pack("{s:s, s:s}", "type", type, "spec_version", "2.1");
    if (strcmp(type, "marking-definition") == 0)
        json_object_set_new(o, "id",
                            json_string(cairn_tlp_marking_id(CAIRN_TLP_RED)));
    else
        json_object_set_new(
            o, "id",
            json_string("indicator--11111111-1111-4111-8111-111111111111"));
    json_t *refs = json_array(), *gran = json_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", markings);
    for (char *p = buf; strcmp(markings, "-") != 0 && *p != '\0';) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (strcmp(p, "bad") == 0)
            json_array_append_new(refs, json_integer(7));
        else if (strncmp(p, "g:", 2) == 0)
            json_array_append_new(gran, json_pack("{s:s, s:[s]}", "marking_ref",
                                                  marking_id(p + 2),
                                                  "selectors", "pattern"));
        else
            json_array_append_new(refs, json_string(marking_id(p)));
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    if (json_array_size(refs) > 0)
        json_object_set(o, "object_marking_refs", refs);
    if (json_array_size(gran) > 0)
        json_object_set(o, "granular_markings", gran);
    json_decref(refs);
    json_decref(gran);
    if (identity_of(by) != NULL)
        json_object_set_new(o, "created_by_ref", json_string(identity_of(by)));
    if (strcmp(to, "-") != 0) {
        json_t *list = json_array();
        if (strchr(to, 'A') != NULL)
            json_array_append_new(list, json_string(ID_A));
        if (strchr(to, 'B') != NULL)
            json_array_append_new(list, json_string(ID_B));
        json_object_set_new(o, "x_cairn_recipients", list);
    }
    return o;
}

static void test_decision_table(void **state)
{
    (void)state;
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/taxii/share.table", CAIRN_TEST_DATA);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char type[64], mk[128], by[8], to[8], def[16], rd[8], mem[8], want[16];
        if (line[0] == '#' || line[strspn(line, " \t\n")] == '\0')
            continue;
        int n = sscanf(line, "%63s %127s %7s %7s %15s %7s %7s %15s", type, mk,
                       by, to, def, rd, mem, want);
        if (n != 8)
            fail_msg("share.table:%u: expected 8 columns", lineno);
        json_t *obj = table_object(type, mk, by, to);
        static const char *const restricted[] = {RESTRICTED};
        struct cairn_share_reader r = {.identity = identity_of(rd),
                                       .member = strcmp(mem, "yes") == 0,
                                       .restricted = restricted,
                                       .n_restricted = 1};
        bool expect = strcmp(want, "allow") == 0;
        if (!expect && strcmp(want, "deny") != 0 &&
            strcmp(want, "not-member") != 0 &&
            strcmp(want, "not-named") != 0 && strcmp(want, "nobody") != 0)
            fail_msg("share.table:%u: unknown result '%s'", lineno, want);
        bool got = cairn_share_allowed(obj, level_of(def), &r);
        if (got != expect)
            fail_msg("share.table:%u: %s, expected %s", lineno,
                     got ? "allowed" : "denied", want);
        /* The reason given, where the table names one. */
        static const char *const why[] = {"allow", "not-member", "not-named",
                                          "nobody"};
        enum cairn_share_verdict v = cairn_share_decide(obj, level_of(def), &r);
        for (int k = 0; k < CAIRN_SHARE_VERDICTS; k++)
            if (strcmp(want, why[k]) == 0 && (int)v != k)
                fail_msg("share.table:%u: verdict %s, expected %s", lineno,
                         why[v], want);
        /* The text path, with its shortcut, decides the same. */
        char *text = json_dumps(obj, JSON_COMPACT);
        bool got_text =
            cairn_share_allowed_text(text, strlen(text), level_of(def), &r);
        if (got_text != expect)
            fail_msg("share.table:%u: from text %s, expected %s", lineno,
                     got_text ? "allowed" : "denied", want);
        cairn_free(text);
        json_decref(obj);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 40);
}

/* A marking hidden behind an escaped member name is still seen. */
static void test_text_escapes(void **state)
{
    (void)state;
    char text[512];
    struct cairn_share_reader r = {.member = true};
    snprintf(text, sizeof text,
             "{\"type\":\"indicator\",\"object\\u005fmarking_refs\":[\"%s\"]}",
             cairn_tlp_marking_id(CAIRN_TLP_RED));
    assert_false(cairn_share_allowed_text(text, strlen(text), 0, &r));
    /* Markings in text that is not JSON, or given twice: refused, not
     * guessed at. */
    const char *cut = "{\"object_marking_refs\":[";
    assert_false(cairn_share_allowed_text(cut, strlen(cut), 0, &r));
    snprintf(text, sizeof text,
             "{\"object_marking_refs\":[\"%s\"],"
             "\"object_marking_refs\":[\"%s\"]}",
             cairn_tlp_marking_id(CAIRN_TLP_RED),
             cairn_tlp_marking_id(CAIRN_TLP_CLEAR));
    assert_false(cairn_share_allowed_text(text, strlen(text), 0, &r));
    /* Unmarked text under a default everyone may read needs no parse. */
    const char *plain = "{\"type\":\"indicator\",\"id\":\"x\"}";
    assert_true(cairn_share_allowed_text(plain, strlen(plain), 2, NULL));
    assert_false(cairn_share_allowed_text(plain, strlen(plain), 3, NULL));
}

/* ---- the anonymiser ----------------------------------------------------- */

static json_t *sighting(void)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:i}", "type",
        "sighting", "spec_version", "2.1", "id",
        "sighting--4a3c8f5e-1d2b-4c6a-9e8f-7b6a5c4d3e2f", "created",
        "2024-05-01T10:00:00.000Z", "modified", "2024-05-01T10:00:00.000Z",
        "sighting_of_ref", "indicator--11111111-1111-4111-8111-111111111111",
        "created_by_ref", ID_A, "where_sighted_refs", ID_A, ID_B, "count", 3);
}

static void assert_valid(const json_t *obj)
{
    struct cairn_validate_stats st = {0};
    int rc = cairn_stix_validate_object(obj, "obj", NULL, &st);
    assert_int_equal(rc, 0);
    assert_int_equal(st.errors, 0);
}

static void test_anonymize_pseudonym(void **state)
{
    (void)state;
    json_t *s = sighting();
    json_t *ids = json_array();
    assert_valid(s);
    assert_int_equal(
        cairn_share_anonymize(s, "hub", CAIRN_SHARE_ANON_PSEUDONYM, ids), 0);
    assert_valid(s);
    const char *by = json_string_value(json_object_get(s, "created_by_ref"));
    json_t *where = json_object_get(s, "where_sighted_refs");
    assert_non_null(by);
    assert_int_equal(strncmp(by, "identity--", 10), 0);
    assert_string_not_equal(by, ID_A);
    assert_int_equal(json_array_size(where), 2);
    /* The same identity, the same pseudonym; another, another. */
    assert_string_equal(json_string_value(json_array_get(where, 0)), by);
    assert_string_not_equal(json_string_value(json_array_get(where, 1)), by);
    assert_string_not_equal(json_string_value(json_array_get(where, 1)), ID_B);
    /* Stable across runs, different per peer. */
    char again[CAIRN_SHARE_PSEUDONYM_LEN], other[CAIRN_SHARE_PSEUDONYM_LEN];
    assert_int_equal(cairn_share_pseudonym("hub", ID_A, again), 0);
    assert_string_equal(again, by);
    assert_int_equal(cairn_share_pseudonym("other-hub", ID_A, other), 0);
    assert_string_not_equal(other, by);
    /* One valid, neutral identity object per pseudonym. */
    assert_int_equal(json_array_size(ids), 2);
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e)
    {
        assert_valid(e);
        assert_string_equal(json_string_value(json_object_get(e, "name")),
                            "anonymous member");
        assert_string_equal(json_string_value(json_object_get(e, "id")),
                            json_string_value(json_array_get(where, i)));
    }
    /* A second sighting adds no identity already listed. */
    json_t *s2 = sighting();
    assert_int_equal(
        cairn_share_anonymize(s2, "hub", CAIRN_SHARE_ANON_PSEUDONYM, ids), 0);
    assert_int_equal(json_array_size(ids), 2);
    /* Nothing of the original identities is left in the text. */
    char *text = json_dumps(s, JSON_COMPACT);
    assert_null(strstr(text, &ID_A[10]));
    assert_null(strstr(text, &ID_B[10]));
    cairn_free(text);
    json_decref(s2);
    json_decref(s);
    json_decref(ids);
}

static void test_anonymize_remove(void **state)
{
    (void)state;
    json_t *s = sighting();
    assert_int_equal(
        cairn_share_anonymize(s, "hub", CAIRN_SHARE_ANON_REMOVE, NULL), 0);
    assert_null(json_object_get(s, "created_by_ref"));
    assert_null(json_object_get(s, "where_sighted_refs"));
    assert_valid(s);
    json_decref(s);

    /* "no", and objects other than sightings, are left as they are. */
    s = sighting();
    assert_int_equal(cairn_share_anonymize(s, "hub", CAIRN_SHARE_ANON_NO, NULL),
                     0);
    assert_string_equal(json_string_value(json_object_get(s, "created_by_ref")),
                        ID_A);
    json_object_set_new(s, "type", json_string("note"));
    assert_int_equal(
        cairn_share_anonymize(s, "hub", CAIRN_SHARE_ANON_REMOVE, NULL), 0);
    assert_string_equal(json_string_value(json_object_get(s, "created_by_ref")),
                        ID_A);
    json_decref(s);

    /* A sighting with references of the wrong shape is refused. */
    s = sighting();
    json_object_set_new(s, "where_sighted_refs", json_string(ID_A));
    assert_int_equal(
        cairn_share_anonymize(s, "hub", CAIRN_SHARE_ANON_PSEUDONYM, NULL),
        CAIRN_EINVAL);
    json_decref(s);
}

/* ---- filtered pages through the handler ---------------------------------- */

#define COLL "2d4c9a1e-3b5f-4e7a-8c9d-0e1f2a3b4c5d"

struct fx {
    struct cairn_store *s;
    struct cairn_taxii *t;
    char token[CAIRN_STORE_TOKEN_LEN];
    char tok_rw[CAIRN_STORE_TOKEN_LEN]; /* "rw" reads and writes */
};

/* Indicator i: every third RED (created by A), every fifth AMBER. */
static json_t *indicator(unsigned i, unsigned version)
{
    char id[80], ts[40];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012u", i);
    snprintf(ts, sizeof ts, "2024-01-01T00:00:%02u.000Z", version);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
        "spec_version", "2.1", "id", id, "created", "2024-01-01T00:00:00.000Z",
        "modified", ts, "name", "x", "pattern", "[ipv4-addr:value = '1.2.3.4']",
        "pattern_type", "stix", "valid_from", "2024-01-01T00:00:00Z");
    const char *m = NULL;
    if (i % 3 == 0)
        m = cairn_tlp_marking_id(CAIRN_TLP_RED);
    else if (i % 5 == 0)
        m = cairn_tlp_marking_id(CAIRN_TLP_AMBER);
    if (m != NULL)
        json_object_set_new(o, "object_marking_refs", json_pack("[s]", m));
    if (i % 3 == 0)
        json_object_set_new(o, "created_by_ref", json_string(ID_A));
    return o;
}

#define N_OBJ 40

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct cairn_store_api_root root = {
        .name = "api1", .title = "api1", .max_content_length = 64 << 20};
    struct cairn_store_collection c = {.api_root = "api1", .title = "t"};
    memcpy(c.id, COLL, sizeof c.id);
    assert_int_equal(cairn_store_open("memory:", NULL, &f->s), 0);
    assert_int_equal(cairn_taxii_new(NULL, &f->t), 0);
    assert_int_equal(cairn_store_api_root_put(f->s, &root), 0);
    assert_int_equal(cairn_store_collection_create(f->s, &c, NULL), 0);
    assert_int_equal(cairn_store_user_add(f->s, "reader", "pw"), 0);
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_READ),
                     0);
    assert_int_equal(cairn_store_token_new(f->s, "reader", f->token), 0);
    /* Object i in two versions, the second added after all the firsts. */
    for (unsigned v = 1; v <= 2; v++) {
        for (unsigned i = 0; i < N_OBJ; i++) {
            json_t *o = indicator(i, v);
            struct cairn_store_object_in in = {.obj = o};
            assert_int_equal(
                cairn_store_put_objects(f->s, COLL, &in, 1, NULL, NULL), 0);
            json_decref(o);
        }
    }
    *state = f;
    return 0;
}

/* The fixture and a second user, "rw", who reads and writes (each user
 * costs a password hash, so only the tests that need two have it). */
static int setup_two(void **state)
{
    setup(state);
    struct fx *f = *state;
    assert_int_equal(cairn_store_user_add(f->s, "rw", "pw"), 0);
    assert_int_equal(cairn_store_grant(f->s, "rw", COLL,
                                       CAIRN_STORE_READ | CAIRN_STORE_WRITE),
                     0);
    assert_int_equal(cairn_store_token_new(f->s, "rw", f->tok_rw), 0);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cairn_taxii_free(f->t);
    cairn_store_close(f->s);
    free(f);
    return 0;
}

static void share_as(struct fx *f, const char *identity, bool member)
{
    struct cairn_store_user_share sh = {.member = member};
    snprintf(sh.identity, sizeof sh.identity, "%s", identity ? identity : "");
    assert_int_equal(cairn_store_user_share_set(f->s, "reader", &sh), 0);
}

static int get(struct fx *f, const char *path, const char *query, json_t **out,
               char last[40])
{
    char auth[100];
    snprintf(auth, sizeof auth, "Bearer %s", f->token);
    struct cairn_taxii_request req = {.method = "GET",
                                      .path = path,
                                      .query = query,
                                      .authorization = auth,
                                      .content_length = -1};
    struct cairn_taxii_response resp;
    assert_int_equal(cairn_taxii_handle(f->t, f->s, &req, &resp), 0);
    *out = NULL;
    if (last != NULL)
        last[0] = '\0';
    for (size_t i = 0; i < resp.n_headers && last != NULL; i++)
        if (strcmp(resp.headers[i].name, "X-TAXII-Date-Added-Last") == 0)
            snprintf(last, 40, "%s", resp.headers[i].value);
    if (resp.body != NULL)
        *out = json_loads(resp.body, 0, NULL);
    int status = resp.status;
    cairn_taxii_response_release(&resp);
    return status;
}

static bool visible(unsigned i, const char *identity, bool member)
{
    if (i % 3 == 0)
        return identity != NULL && strcmp(identity, ID_A) == 0;
    if (i % 5 == 0)
        return member;
    return true;
}

/*
 * Page through objects (by next, or by added_after and the Last header)
 * and manifest with a small limit: each visible version exactly once,
 * nothing hidden, and `more` false only at the end.
 */
static void page_all(struct fx *f, const char *endpoint, bool by_header,
                     const char *identity, bool member)
{
    char path[128], query[256], last[40] = "", next[128] = "";
    unsigned seen[N_OBJ] = {0};
    size_t pages = 0;
    snprintf(path, sizeof path, "/api1/collections/%s/%s/", COLL, endpoint);
    for (;;) {
        json_t *body = NULL;
        if (by_header && last[0] != '\0')
            snprintf(query, sizeof query,
                     "limit=3&match[version]=all&added_after=%s", last);
        else if (next[0] != '\0')
            snprintf(query, sizeof query, "limit=3&match[version]=all&next=%s",
                     next);
        else
            snprintf(query, sizeof query, "limit=3&match[version]=all");
        assert_int_equal(get(f, path, query, &body, last), 200);
        json_t *objs = json_object_get(body, "objects");
        assert_true(json_array_size(objs) <= 3);
        size_t k;
        json_t *o;
        json_array_foreach(objs, k, o)
        {
            const char *id = json_string_value(json_object_get(o, "id"));
            unsigned i = (unsigned)strtoul(id + strlen(id) - 12, NULL, 10);
            assert_true(i < N_OBJ);
            assert_true(visible(i, identity, member));
            seen[i]++;
        }
        bool more = json_is_true(json_object_get(body, "more"));
        const char *nx = json_string_value(json_object_get(body, "next"));
        snprintf(next, sizeof next, "%s", nx ? nx : "");
        json_decref(body);
        assert_true(++pages < 100);
        if (!more)
            break;
        assert_true(by_header ? last[0] != '\0' : next[0] != '\0');
    }
    for (unsigned i = 0; i < N_OBJ; i++)
        assert_int_equal(seen[i], visible(i, identity, member) ? 2 : 0);
}

static void test_filtered_paging(void **state)
{
    struct fx *f = *state;
    static const char *const endpoints[] = {"objects", "manifest"};
    for (int e = 0; e < 2; e++) {
        for (int by_header = 0; by_header < 2; by_header++) {
            share_as(f, NULL, false);
            page_all(f, endpoints[e], by_header, NULL, false);
            share_as(f, NULL, true);
            page_all(f, endpoints[e], by_header, NULL, true);
            share_as(f, ID_A, false);
            page_all(f, endpoints[e], by_header, ID_A, false);
            share_as(f, ID_B, true);
            page_all(f, endpoints[e], by_header, ID_B, true);
        }
    }
}

/* A page the rules empty entirely still moves on, and says how far. */
static void test_hidden_page(void **state)
{
    struct fx *f = *state;
    char path[128], last[40];
    json_t *body = NULL;
    assert_int_equal(cairn_store_collection_tlp_set(f->s, COLL, CAIRN_TLP_RED),
                     0);
    share_as(f, NULL, true);
    snprintf(path, sizeof path, "/api1/collections/%s/objects/", COLL);
    /* Only the AMBER objects are visible to a member now. */
    assert_int_equal(get(f, path, "limit=2&match[version]=all", &body, last),
                     200);
    json_t *objs = json_object_get(body, "objects");
    assert_int_equal(json_array_size(objs), 2);
    const char *id0 =
        json_string_value(json_object_get(json_array_get(objs, 0), "id"));
    assert_string_equal(id0 + strlen(id0) - 2, "05");
    json_decref(body);
    /* Nothing visible at all: an empty, final page, with the header. */
    share_as(f, NULL, false);
    assert_int_equal(get(f, path, "limit=2", &body, last), 200);
    assert_null(json_object_get(body, "objects"));
    assert_false(json_is_true(json_object_get(body, "more")));
    assert_true(last[0] != '\0');
    json_decref(body);
}

static void test_object_endpoints(void **state)
{
    struct fx *f = *state;
    char path[200];
    json_t *body = NULL;
    share_as(f, ID_B, true);
    /* A RED object that does not name the reader does not exist for it. */
    snprintf(path, sizeof path,
             "/api1/collections/%s/objects/"
             "indicator--00000000-0000-4000-8000-000000000003/",
             COLL);
    assert_int_equal(get(f, path, NULL, &body, NULL), 404);
    json_decref(body);
    char vpath[240];
    snprintf(vpath, sizeof vpath, "%sversions/", path);
    assert_int_equal(get(f, vpath, NULL, &body, NULL), 404);
    json_decref(body);
    share_as(f, ID_A, false);
    assert_int_equal(get(f, path, NULL, &body, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(body, "objects")), 1);
    json_decref(body);
    assert_int_equal(get(f, vpath, NULL, &body, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(body, "versions")), 2);
    json_decref(body);
}

/* ---- the rules on every endpoint (issue 18) ------------------------------ */

/* One request as `token`'s user; the status, the body parsed into *out. */
static int request(struct fx *f, const char *token, const char *method,
                   const char *path, const char *query, const char *body,
                   json_t **out)
{
    char auth[100];
    snprintf(auth, sizeof auth, "Bearer %s", token);
    struct cairn_taxii_request req = {
        .method = method,
        .path = path,
        .query = query,
        .authorization = auth,
        .content_type = body ? "application/taxii+json;version=2.1" : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .content_length = body ? (int64_t)strlen(body) : -1};
    struct cairn_taxii_response resp;
    assert_int_equal(cairn_taxii_handle(f->t, f->s, &req, &resp), 0);
    if (out != NULL)
        *out = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
    int status = resp.status;
    cairn_taxii_response_release(&resp);
    return status;
}

static char *object_path(const char *id)
{
    static char path[200];
    snprintf(path, sizeof path, "/api1/collections/%s/objects/%s/", COLL, id);
    return path;
}

static const char *obj_id(unsigned i)
{
    static char id[80];
    snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012u", i);
    return id;
}

/* Rows of object `id` in the store, hidden or not. */
static size_t stored_versions(struct fx *f, const char *id)
{
    const char *ids[1] = {id};
    struct cairn_store_query q = {.collection = COLL,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_ALL};
    struct cairn_store_page *p = NULL;
    assert_int_equal(cairn_store_query(f->s, &q, &p), 0);
    size_t n = p->n;
    cairn_store_page_free(p);
    return n;
}

/*
 * DELETE deletes only what the user may see, and a hidden object is 404
 * exactly as an absent one is: neither its existence nor its versions
 * leak, and nothing hidden is lost.
 */
static void test_delete_hidden(void **state)
{
    struct fx *f = *state;
    json_t *hidden = NULL, *absent = NULL;
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_WRITE),
                     0);
    /* Object 3 is RED (named creator A); rw has no identity. */
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(3)),
                             NULL, NULL, &hidden),
                     404);
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(9999)),
                             NULL, NULL, &absent),
                     404);
    assert_true(json_equal(hidden, absent));
    json_decref(hidden);
    json_decref(absent);
    assert_int_equal(stored_versions(f, obj_id(3)), 2);
    /* AMBER (object 5) is hidden from a non-member as well. */
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(5)),
                             "match[version]=all", NULL, NULL),
                     404);
    assert_int_equal(stored_versions(f, obj_id(5)), 2);
    /* A visible object goes, every version of it. */
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(1)),
                             NULL, NULL, NULL),
                     200);
    assert_int_equal(stored_versions(f, obj_id(1)), 0);
    /* Object 2 gets a third version marked RED: deleting object 2 removes
     * the two versions rw sees and keeps the one it does not. */
    json_t *o = indicator(2, 3);
    json_object_set_new(o, "object_marking_refs",
                        json_pack("[s]", cairn_tlp_marking_id(CAIRN_TLP_RED)));
    json_object_set_new(o, "created_by_ref", json_string(ID_A));
    struct cairn_store_object_in in = {.obj = o};
    assert_int_equal(cairn_store_put_objects(f->s, COLL, &in, 1, NULL, NULL),
                     0);
    json_decref(o);
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(2)),
                             NULL, NULL, NULL),
                     200);
    assert_int_equal(stored_versions(f, obj_id(2)), 1);
    /* With the identity the RED objects name, rw may delete them. */
    struct cairn_store_user_share sh = {.member = false};
    snprintf(sh.identity, sizeof sh.identity, "%s", ID_A);
    assert_int_equal(cairn_store_user_share_set(f->s, "reader", &sh), 0);
    assert_int_equal(request(f, f->token, "DELETE", object_path(obj_id(3)),
                             NULL, NULL, NULL),
                     200);
    assert_int_equal(stored_versions(f, obj_id(3)), 0);
}

/* The status of a POST by `token`: 202 expected; the status into *out. */
static void post(struct fx *f, const char *token, const char *body,
                 json_t **out)
{
    char path[128];
    snprintf(path, sizeof path, "/api1/collections/%s/objects/", COLL);
    assert_int_equal(request(f, token, "POST", path, NULL, body, out), 202);
    assert_non_null(*out);
}

static char *dump(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

/* The "message" of the failure of `id` in status `st`, or NULL. */
static const char *failure_of(const json_t *st, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, "failures"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            return json_string_value(json_object_get(e, "message"));
    }
    return NULL;
}

static bool listed(const json_t *st, const char *list, const char *id)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, list), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0)
            return true;
    }
    return false;
}

/*
 * A bundle posted as an element of an envelope is refused, with a message
 * that says what to do, and nothing of it is stored: the RED object
 * inside would otherwise reach every reader, without its rules.
 */
static void test_post_bundle(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_WRITE),
                     0);
    json_t *red = indicator(63, 1);
    json_t *bundle = json_pack("{s:s, s:s, s:[O]}", "type", "bundle", "id",
                               "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                               "objects", red);
    json_t *ok = indicator(41, 1);
    json_t *env = json_pack("{s:[o, o]}", "objects", bundle, ok);
    char *body = dump(env);
    json_t *st = NULL;
    post(f, f->token, body, &st);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(st, "failure_count")),
                     1);
    const char *msg =
        failure_of(st, "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d");
    assert_non_null(msg);
    assert_string_equal(msg, "a bundle is not a STIX object; post its objects");
    assert_true(listed(st, "successes", obj_id(41)));
    assert_int_equal(
        stored_versions(f, "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"), 0);
    assert_int_equal(stored_versions(f, obj_id(63)), 0);
    json_decref(st);
    cairn_free(body);
    json_decref(env);
    json_decref(red);
}

/*
 * POST refuses an object larger than every cairn reader takes (16 MiB,
 * CAIRN_STIX_MAX_OBJECT_LEN), in the status, beside objects it stores:
 * stored, it would stop every peer's pull of the collection.
 */
static void test_post_oversize(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_WRITE),
                     0);
    size_t big = CAIRN_STIX_MAX_OBJECT_LEN + 1000;
    char *desc = malloc(big + 1);
    assert_non_null(desc);
    memset(desc, 'a', big);
    desc[big] = '\0';
    json_t *o = indicator(42, 1);
    json_object_set_new(o, "description", json_string(desc));
    free(desc);
    json_t *ok = indicator(43, 1);
    json_t *env = json_pack("{s:[o, o]}", "objects", o, ok);
    char *body = dump(env);
    json_t *st = NULL;
    post(f, f->token, body, &st);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(st, "failure_count")),
                     1);
    /* Parsed, so named by its id (the store's one rule for every writer). */
    const char *msg = failure_of(st, obj_id(42));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "16 MiB"));
    assert_int_equal(stored_versions(f, obj_id(42)), 0);
    assert_int_equal(stored_versions(f, obj_id(43)), 1);
    json_decref(st);
    cairn_free(body);
    json_decref(env);
}

/*
 * A status shows its items to the collection's other readers only when
 * they may see the object: the ids of hidden objects do not leak. Its
 * author sees what it posted.
 */
static void test_status_filtered(void **state)
{
    struct fx *f = *state;
    json_t *env = json_pack("{s:[o, o]}", "objects", indicator(51, 1),
                            indicator(52, 1)); /* 51 RED, 52 visible */
    char *body = dump(env);
    json_t *st = NULL;
    post(f, f->tok_rw, body, &st);
    assert_true(listed(st, "successes", obj_id(51)));
    assert_true(listed(st, "successes", obj_id(52)));
    char path[128];
    snprintf(path, sizeof path, "/api1/status/%s/",
             json_string_value(json_object_get(st, "id")));
    json_decref(st);
    share_as(f, NULL, true);
    assert_int_equal(request(f, f->token, "GET", path, NULL, NULL, &st), 200);
    assert_int_equal(json_integer_value(json_object_get(st, "success_count")),
                     2);
    assert_false(listed(st, "successes", obj_id(51)));
    assert_true(listed(st, "successes", obj_id(52)));
    char *text = dump(st);
    assert_null(strstr(text, obj_id(51)));
    cairn_free(text);
    json_decref(st);
    /* A reader the object names sees it listed. */
    share_as(f, ID_A, false);
    assert_int_equal(request(f, f->token, "GET", path, NULL, NULL, &st), 200);
    assert_true(listed(st, "successes", obj_id(51)));
    json_decref(st);
    /* The author sees both, though it may not read object 51. */
    assert_int_equal(request(f, f->tok_rw, "GET", path, NULL, NULL, &st), 200);
    assert_true(listed(st, "successes", obj_id(51)));
    assert_true(listed(st, "successes", obj_id(52)));
    json_decref(st);
    cairn_free(body);
    json_decref(env);
}

/*
 * Re-using the id and version of an object the poster may not see with
 * other content does not reveal that it exists: the version is stored,
 * and the status says no more. Where the poster sees the stored object,
 * the conflict is a failure that says so.
 */
static void test_conflict_hidden(void **state)
{
    struct fx *f = *state;
    /* Object 3 (RED) and 5 (AMBER) are stored; same id and version, other
     * content, no markings. */
    json_t *a = indicator(3, 1), *b = indicator(5, 1), *c = indicator(7, 1);
    json_t *objs[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        json_object_del(objs[i], "object_marking_refs");
        json_object_set_new(objs[i], "name", json_string("other content"));
    }
    json_t *env = json_pack("{s:[o, o, o]}", "objects", a, b, c);
    char *body = dump(env);
    /* reader becomes a write-only user (a drop box's writer). */
    assert_int_equal(cairn_store_revoke(f->s, "reader", COLL, CAIRN_STORE_READ),
                     0);
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_WRITE),
                     0);
    const char *tokens[2] = {f->token, f->tok_rw};
    for (int k = 0; k < 2; k++) {
        json_t *st = NULL;
        post(f, tokens[k], body, &st);
        assert_null(failure_of(st, obj_id(3)));
        assert_null(failure_of(st, obj_id(5)));
        assert_true(listed(st, "successes", obj_id(3)));
        assert_true(listed(st, "successes", obj_id(5)));
        /* Object 7 is visible to both: its conflict is told. */
        const char *msg = failure_of(st, obj_id(7));
        assert_non_null(msg);
        assert_string_equal(msg, CAIRN_STORE_CONFLICT_MSG);
        assert_int_equal(
            json_integer_value(json_object_get(st, "success_count")), 2);
        assert_int_equal(
            json_integer_value(json_object_get(st, "failure_count")), 1);
        json_decref(st);
    }
    /* The stored objects are the first ones, untouched. */
    assert_int_equal(cairn_store_grant(f->s, "reader", COLL, CAIRN_STORE_READ),
                     0);
    share_as(f, ID_A, true);
    json_t *got = NULL;
    assert_int_equal(request(f, f->token, "GET", object_path(obj_id(3)),
                             "match[version]=first", NULL, &got),
                     200);
    json_t *first = json_array_get(json_object_get(got, "objects"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "x");
    json_decref(got);
    cairn_free(body);
    json_decref(env);
}

/* A collection of `n` unmarked objects of about `len` bytes each. */
static void big_objects(struct fx *f, unsigned n, size_t len)
{
    char *desc = malloc(len + 1);
    assert_non_null(desc);
    memset(desc, 'd', len);
    desc[len] = '\0';
    for (unsigned i = 0; i < n; i++) {
        json_t *o = indicator(100 + 3 * i + 1, 1);
        json_object_del(o, "object_marking_refs");
        json_object_set_new(o, "description", json_string(desc));
        struct cairn_store_object_in in = {.obj = o};
        assert_int_equal(
            cairn_store_put_objects(f->s, COLL, &in, 1, NULL, NULL), 0);
        json_decref(o);
    }
    free(desc);
}

/* date_added of the last object stored so far. */
static void last_added(struct fx *f, char after[40])
{
    char path[128], query[200], last[40], next[128] = "";
    snprintf(path, sizeof path, "/api1/collections/%s/manifest/", COLL);
    for (int pages = 0; pages < 1000; pages++) {
        json_t *body = NULL;
        snprintf(query, sizeof query, "match[version]=all%s%s",
                 next[0] ? "&next=" : "", next);
        assert_int_equal(get(f, path, query, &body, last), 200);
        if (last[0] != '\0')
            memcpy(after, last, sizeof last);
        bool more = json_is_true(json_object_get(body, "more"));
        const char *nx = json_string_value(json_object_get(body, "next"));
        snprintf(next, sizeof next, "%s", nx ? nx : "");
        json_decref(body);
        if (!more)
            return;
    }
    fail_msg("the manifest does not end");
}

/* Page through objects added after `after`; the count per page. */
static size_t page_sizes(struct fx *f, const char *after, size_t *sizes,
                         size_t max_pages)
{
    char path[128], query[200], next[128] = "";
    snprintf(path, sizeof path, "/api1/collections/%s/objects/", COLL);
    json_t *body = NULL;
    size_t pages = 0;
    for (;;) {
        snprintf(query, sizeof query, "added_after=%s%s%s", after,
                 next[0] ? "&next=" : "", next);
        assert_int_equal(get(f, path, query, &body, NULL), 200);
        assert_true(pages < max_pages);
        sizes[pages++] = json_array_size(json_object_get(body, "objects"));
        bool more = json_is_true(json_object_get(body, "more"));
        const char *nx = json_string_value(json_object_get(body, "next"));
        snprintf(next, sizeof next, "%s", nx ? nx : "");
        json_decref(body);
        if (!more)
            break;
        assert_true(next[0] != '\0');
    }
    return pages;
}

/*
 * A page of objects holds at most the page budget (32 MiB by default),
 * or one object when one alone is larger; the rest follows with more and
 * next. (Before, every row of the page was read and copied first.)
 */
static void test_page_budget(void **state)
{
    struct fx *f = *state;
    char after[40];
    share_as(f, NULL, false);
    last_added(f, after);
    /* Three objects of 12 MiB: two fit in 32 MiB. */
    big_objects(f, 3, (size_t)12 << 20);
    size_t sizes[8];
    size_t pages = page_sizes(f, after, sizes, 8);
    assert_int_equal(pages, 2);
    assert_int_equal(sizes[0], 2);
    assert_int_equal(sizes[1], 1);
}

static void test_page_budget_small(void **state)
{
    struct fx *f = *state;
    struct cairn_taxii_config cfg = {.page_bytes = 3000};
    cairn_taxii_free(f->t);
    assert_int_equal(cairn_taxii_new(&cfg, &f->t), 0);
    char after[40];
    share_as(f, NULL, false);
    last_added(f, after);
    /* Objects larger than the budget come one a page, every one. */
    big_objects(f, 5, 4000);
    size_t sizes[16];
    size_t pages = page_sizes(f, after, sizes, 16);
    assert_int_equal(pages, 5);
    for (size_t i = 0; i < pages; i++)
        assert_int_equal(sizes[i], 1);
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_anonymize_pseudonym),
        cmocka_unit_test(test_anonymize_remove),
        cmocka_unit_test_setup_teardown(test_filtered_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hidden_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_bundle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_oversize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_filtered, setup_two,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conflict_hidden, setup_two,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_page_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_budget_small, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("taxii/share", tests, NULL, NULL);
}
