/* SPDX-License-Identifier: Apache-2.0 */
/* The store's behaviour, run once over each backend (memory, SQLite,
 * PostgreSQL), plus what each backend has of its own. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "cairn/store.h"
#include "cairn/values.h"

/* ---- fixtures ------------------------------------------------------------ */

static const char *backend; /* "memory", "sqlite" or "postgres" */
static char tmpdir[64];
static char dbpath[128];
/* The throwaway cluster's URL (tests/tools/pg.sh), or "" when none. */
static char pg_url[512];

/* The URL every handle of the backend under test opens. */
static const char *store_url(void)
{
    if (strcmp(backend, "postgres") == 0)
        return pg_url;
    return dbpath;
}

/* Run SQL on the test cluster, outside the store under test. */
static void pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK)
        print_error("%s: %s\n", sql, PQresultErrorMessage(r));
    assert_true(PQresultStatus(r) == PGRES_COMMAND_OK ||
                PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    PQfinish(c);
}

/* The first column of the first row of a query on the test cluster. */
static long long pg_int(const char *sql)
{
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        print_error("%s: %s\n", sql, PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

/* The newest schema of the PostgreSQL backend (postgres.c's migrations). */
#define PG_SCHEMA_LATEST 9

struct fx {
    long live0; /* allocations before the test, to find leaks */
    struct cairn_store *s;
    char coll[CAIRN_UUID_STRLEN];
};

static void remove_db(void)
{
    if (strcmp(backend, "postgres") == 0) {
        /* A new, empty store: no tables, no locks left by a test. */
        pg_exec("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
        return;
    }
    if (strcmp(backend, "sqlite") != 0)
        return;
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
        unlink(p);
    }
}

static struct cairn_store *open_store(void)
{
    struct cairn_store *s = NULL;
    char url[600];
    if (strcmp(backend, "memory") == 0)
        snprintf(url, sizeof url, "memory:");
    else if (strcmp(backend, "postgres") == 0)
        snprintf(url, sizeof url, "%s", pg_url);
    else
        snprintf(url, sizeof url, "sqlite:%s", dbpath);
    assert_int_equal(cairn_store_open(url, NULL, &s), 0);
    return s;
}

/* Close the fixture's SQLite store, run `sql` on its file, open it again. */
static void reopen_after_sql(struct fx *f, const char *sql)
{
    cairn_store_close(f->s);
    f->s = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    f->s = open_store();
}

/* A store with API root "api1" and one collection in it. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    remove_db();
    f->live0 = cairn_alloc_live();
    f->s = open_store();
    struct cairn_store_api_root root = {"api1", "API one", NULL, 1 << 20};
    assert_int_equal(cairn_store_api_root_put(f->s, &root), 0);
    struct cairn_store_collection c = {.api_root = "api1", .title = "main"};
    assert_int_equal(cairn_store_collection_create(f->s, &c, f->coll), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cairn_store_close(f->s);
    long leaked = cairn_alloc_live() - f->live0;
    free(f);
    remove_db();
    if (leaked != 0) {
        print_error("%ld allocations leaked\n", leaked);
        return -1;
    }
    return 0;
}

static int group_sqlite(void **state)
{
    (void)state;
    backend = "sqlite";
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cairn-store-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/cairn.db", tmpdir);
    return 0;
}

static int group_memory(void **state)
{
    (void)state;
    backend = "memory";
    return 0;
}

static int group_postgres(void **state)
{
    (void)state;
    backend = "postgres";
    return pg_url[0] ? 0 : -1;
}

static int group_done(void **state)
{
    (void)state;
    if (strcmp(backend, "sqlite") == 0) {
        remove_db();
        rmdir(tmpdir);
    }
    return 0;
}

/* ---- object helpers --------------------------------------------------- */

static void make_id(char *out, size_t len, unsigned long n)
{
    snprintf(out, len, "indicator--00000000-0000-4000-8000-%012lx", n);
}

/* Indicator number `n`, version `v` (modified = 2024-01-01 + v seconds). */
static json_t *indicator(unsigned long n, int v)
{
    char id[80], mod[40];
    make_id(id, sizeof id, n);
    snprintf(mod, sizeof mod, "2024-01-01T00:00:%02d.000Z", v);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                     "indicator", "spec_version", "2.1", "id", id, "created",
                     "2024-01-01T00:00:00.000Z", "modified", mod, "pattern",
                     "[ipv4-addr:value = '198.51.100.1']", "pattern_type",
                     "stix", "valid_from", "2024-01-01T00:00:00Z");
}

/* Store objects first..first+n-1 at version v; every one must be stored. */
static void put_range(struct cairn_store *s, const char *coll,
                      unsigned long first, size_t n, int v)
{
    struct cairn_store_object_in *in = calloc(n, sizeof *in);
    struct cairn_store_result *res = calloc(n, sizeof *res);
    assert_non_null(in);
    assert_non_null(res);
    for (size_t i = 0; i < n; i++)
        in[i].obj = indicator(first + i, v);
    assert_int_equal(cairn_store_put_objects(s, coll, in, n, NULL, res), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(res[i].outcome, CAIRN_STORE_STORED);
        json_decref((json_t *)in[i].obj);
    }
    free(in);
    free(res);
}

static struct cairn_store_page *query(struct cairn_store *s,
                                      const struct cairn_store_query *q)
{
    struct cairn_store_page *p = NULL;
    assert_int_equal(cairn_store_query(s, q, &p), 0);
    assert_non_null(p);
    return p;
}

/* ---- API roots and collections ----------------------------------------- */

static void test_collections(void **state)
{
    struct fx *f = *state;
    struct cairn_store_api_root r2 = {"api2", "Two", "second", 100};
    assert_int_equal(cairn_store_api_root_put(f->s, &r2), 0);
    struct cairn_store_api_root *roots = NULL;
    size_t n = 0;
    assert_int_equal(cairn_store_api_root_list(f->s, &roots, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(roots[0].name, "api1");
    assert_string_equal(roots[1].description, "second");
    assert_int_equal(roots[1].max_content_length, 100);
    cairn_store_api_root_list_free(roots, n);

    struct cairn_store_collection c = {
        .id = "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        .api_root = "api2",
        .title = "High value",
        .alias = "hv",
        .media_types = {"application/stix+json;version=2.1", "x/y"}};
    char id[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_collection_create(f->s, &c, id), 0);
    assert_string_equal(id, c.id);
    assert_int_equal(cairn_store_collection_create(f->s, &c, id), CAIRN_EEXIST);
    c.api_root = "nope";
    c.id[0] = '\0';
    assert_int_equal(cairn_store_collection_create(f->s, &c, id),
                     CAIRN_ENOTFOUND);

    struct cairn_store_collection *got = NULL;
    assert_int_equal(
        cairn_store_collection_get(
            f->s, "api2", "91a7b528-80eb-42ed-a74d-c6fbd5a26116", &got),
        0);
    assert_string_equal(got->title, "High value");
    assert_string_equal(got->alias, "hv");
    assert_null(got->description);
    assert_string_equal(got->media_types[1], "x/y");
    assert_null(got->media_types[2]);
    cairn_store_collection_free(got);
    /* A collection is found only under its own API root. */
    assert_int_equal(cairn_store_collection_get(f->s, "api1", id, &got),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_get(f->s, "api1", f->coll, &got),
                     0);
    assert_string_equal(got->media_types[0],
                        "application/stix+json;version=2.1");
    cairn_store_collection_free(got);
    /* URLs name a collection by id or alias, within its API root. */
    assert_int_equal(cairn_store_collection_resolve(f->s, "api2", "hv", &got),
                     0);
    assert_string_equal(got->id, id);
    assert_null(got->description);
    cairn_store_collection_free(got);
    assert_int_equal(cairn_store_collection_resolve(f->s, "api2", id, &got), 0);
    assert_string_equal(got->alias, "hv");
    cairn_store_collection_free(got);
    assert_int_equal(cairn_store_collection_resolve(f->s, "api1", "hv", &got),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_resolve(f->s, "api1", id, &got),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_resolve(f->s, "api2", "HV", &got),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_get(f->s, "api2", "hv", &got),
                     CAIRN_ENOTFOUND); /* by id only */
    assert_int_equal(cairn_store_collection_resolve(f->s, NULL, "hv", &got),
                     CAIRN_EINVAL);
    /* Should an alias equal another collection's id, the id wins. */
    struct cairn_store_collection shadow = {
        .api_root = "api2", .title = "Shadow", .alias = id};
    char sid[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_collection_create(f->s, &shadow, sid), 0);
    assert_int_equal(cairn_store_collection_resolve(f->s, "api2", id, &got), 0);
    assert_string_equal(got->title, "High value");
    cairn_store_collection_free(got);
    assert_int_equal(cairn_store_collection_delete(f->s, sid), 0);

    struct cairn_store_collection *list = NULL;
    assert_int_equal(cairn_store_collection_list(f->s, "api1", &list, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, f->coll);
    cairn_store_collection_list_free(list, n);

    assert_int_equal(cairn_store_collection_delete(f->s, id), 0);
    assert_int_equal(cairn_store_collection_delete(f->s, id), CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_list(f->s, "api2", &list, &n), 0);
    assert_int_equal(n, 0);
    cairn_store_collection_list_free(list, n);
}

/* ---- objects ------------------------------------------------------------- */

static void test_put_get(void **state)
{
    struct fx *f = *state;
    const char *text = "{\"type\": \"malware\", \"id\": "
                       "\"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b\","
                       " \"spec_version\": \"2.1\", \"created\": "
                       "\"2024-02-01T00:00:00Z\", \"modified\": "
                       "\"2024-02-01T00:00:00Z\", \"name\": \"x\","
                       " \"is_family\": false}";
    json_t *mal = json_loads(text, 0, NULL);
    json_t *noid = json_pack("{s:s}", "type", "indicator");
    json_t *badtime = indicator(7, 1);
    json_object_set_new(badtime, "modified", json_string("yesterday"));
    json_t *sco = json_pack("{s:s, s:s, s:s}", "type", "ipv4-addr", "id",
                            "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
                            "value", "198.51.100.3");
    struct cairn_store_object_in in[4] = {{mal, text, strlen(text)},
                                          {noid, NULL, 0},
                                          {badtime, NULL, 0},
                                          {sco, NULL, 0}};
    struct cairn_store_result res[4];
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 4, NULL, res),
                     0);
    assert_int_equal(res[0].outcome, CAIRN_STORE_STORED);
    assert_string_equal(res[0].version, "2024-02-01T00:00:00Z");
    assert_int_equal(res[1].outcome, CAIRN_STORE_FAILED);
    assert_non_null(strstr(res[1].message, "id"));
    assert_int_equal(res[2].outcome, CAIRN_STORE_FAILED);
    assert_non_null(strstr(res[2].message, "modified"));
    assert_int_equal(res[3].outcome, CAIRN_STORE_STORED);

    struct cairn_store_query q = {.collection = f->coll, .with_json = true};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 2);
    assert_false(p->more);
    assert_string_equal(p->next, "");
    /* The text is kept as received, byte for byte. */
    assert_string_equal(p->rows[0].json, text);
    assert_string_equal(p->rows[0].type, "malware");
    assert_string_equal(p->rows[0].created, "2024-02-01T00:00:00Z");
    assert_string_equal(p->rows[1].spec_version, "2.1");
    assert_null(p->rows[1].modified);
    /* An SCO's one version is its date_added. */
    char when[40];
    assert_true(
        cairn_time_format(&p->rows[1].date_added, 6, when, sizeof when) > 0);
    assert_string_equal(p->rows[1].version, when);
    assert_true(cairn_time_cmp(&p->added_first, &p->added_last) < 0);
    cairn_store_page_free(p);

    /* Re-posting the same versions is a success, not a duplicate; the
     * same version with other content is refused. */
    json_t *mal2 = json_deep_copy(mal);
    json_object_set_new(mal2, "name", json_string("changed"));
    struct cairn_store_object_in again[3] = {
        {mal, NULL, 0}, {sco, NULL, 0}, {mal2, NULL, 0}};
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, again, 3, NULL, res), 0);
    assert_int_equal(res[0].outcome, CAIRN_STORE_EXISTED);
    assert_int_equal(res[1].outcome, CAIRN_STORE_EXISTED);
    assert_int_equal(res[2].outcome, CAIRN_STORE_FAILED);
    q.with_json = false;
    p = query(f->s, &q);
    assert_int_equal(p->n, 2);
    assert_null(p->rows[0].json);
    cairn_store_page_free(p);

    q.collection = "6e4e6c5b-0000-4000-8000-000000000000";
    assert_int_equal(cairn_store_query(f->s, &q, &p), CAIRN_ENOTFOUND);
    assert_int_equal(
        cairn_store_put_objects(f->s, q.collection, in, 1, NULL, res),
        CAIRN_ENOTFOUND);
    json_decref(mal);
    json_decref(mal2);
    json_decref(noid);
    json_decref(badtime);
    json_decref(sco);
}

/* A batch holds copies of what it stores: parsed objects go right away. */
static void test_batch(void **state)
{
    struct fx *f = *state;
    struct cairn_store_batch *b = NULL;
    assert_int_equal(cairn_store_batch_new(0, &b), CAIRN_EINVAL);
    assert_int_equal(cairn_store_batch_new(CAIRN_STORE_BATCH_MAX + 1, &b),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_batch_new(3, &b), 0);

    const char *text =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
        "\"id\":\"indicator--00000000-0000-4000-8000-"
        "000000000001\",\"created\":\"2024-01-01T00:00:00.000Z\","
        "\"modified\":\"2024-01-01T00:00:01.000Z\","
        "\"pattern\":\"[ipv4-addr:value = '198.51.100.1']\","
        "\"pattern_type\":\"stix\","
        "\"valid_from\":\"2024-01-01T00:00:00Z\"}";
    json_t *objs[4] = {json_loads(text, 0, NULL), indicator(2, 1),
                       json_pack("{s:s}", "type", "indicator"),
                       indicator(3, 1)};
    assert_int_equal(cairn_store_batch_add(b, objs[0], text, strlen(text)), 0);
    assert_int_equal(cairn_store_batch_add(b, objs[1], NULL, 0), 0);
    assert_int_equal(cairn_store_batch_add(b, objs[2], NULL, 0), 0);
    assert_int_equal(cairn_store_batch_add(b, objs[3], NULL, 0), CAIRN_ETOOBIG);
    assert_int_equal(cairn_store_batch_len(b), 3);
    for (int i = 0; i < 4; i++)
        json_decref(objs[i]);

    assert_int_equal(cairn_store_put_batch(f->s, f->coll, b, NULL), 0);
    const struct cairn_store_result *r = cairn_store_batch_results(b);
    assert_int_equal(r[0].outcome, CAIRN_STORE_STORED);
    assert_string_equal(r[0].id,
                        "indicator--00000000-0000-4000-8000-000000000001");
    assert_string_equal(r[0].version, "2024-01-01T00:00:01.000Z");
    assert_int_equal(r[1].outcome, CAIRN_STORE_STORED);
    assert_int_equal(r[2].outcome, CAIRN_STORE_FAILED);
    assert_non_null(strstr(r[2].message, "id"));

    struct cairn_store_query q = {.collection = f->coll, .with_json = true};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 2);
    assert_string_equal(p->rows[0].json, text);
    assert_string_equal(p->rows[0].modified, "2024-01-01T00:00:01.000Z");
    assert_string_equal(p->rows[1].type, "indicator");
    assert_string_equal(p->rows[1].spec_version, "2.1");
    cairn_store_page_free(p);

    /* Cleared, the batch takes new objects: the same version laid out
     * otherwise is the same object; other content under it is refused. */
    assert_int_equal(cairn_store_batch_clear(b), 0);
    assert_int_equal(cairn_store_batch_len(b), 0);
    json_t *same = json_loads(text, 0, NULL);
    json_t *other = json_deep_copy(same);
    json_object_set_new(other, "name", json_string("changed"));
    assert_int_equal(cairn_store_batch_add(b, same, NULL, 0), 0);
    assert_int_equal(cairn_store_batch_add(b, other, NULL, 0), 0);
    json_decref(same);
    json_decref(other);
    assert_int_equal(cairn_store_put_batch(f->s, f->coll, b, NULL), 0);
    r = cairn_store_batch_results(b);
    assert_int_equal(r[0].outcome, CAIRN_STORE_EXISTED);
    assert_int_equal(r[1].outcome, CAIRN_STORE_FAILED);
    assert_int_equal(cairn_store_put_batch(
                         f->s, "6e4e6c5b-0000-4000-8000-000000000000", b, NULL),
                     CAIRN_ENOTFOUND);
    cairn_store_batch_free(b);
    cairn_store_batch_free(NULL);
}

/* Versions 1..3 of object 1, version 5 of object 2 */
static void put_versions(struct fx *f)
{
    put_range(f->s, f->coll, 1, 1, 2);
    put_range(f->s, f->coll, 1, 1, 1);
    put_range(f->s, f->coll, 2, 1, 5);
    put_range(f->s, f->coll, 1, 1, 3);
}

struct version_case {
    unsigned versions;
    const char *times; /* comma-separated seconds, or NULL */
    const char *want;  /* "object:second" of each row in date_added order */
};

static void test_versions(void **state)
{
    struct fx *f = *state;
    put_versions(f);
    static const struct version_case cases[] = {
        {0, NULL, "2:5 1:3"},
        {CAIRN_STORE_VERSION_LAST, NULL, "2:5 1:3"},
        {CAIRN_STORE_VERSION_FIRST, NULL, "1:1 2:5"},
        {CAIRN_STORE_VERSION_ALL, NULL, "1:2 1:1 2:5 1:3"},
        {CAIRN_STORE_VERSION_FIRST | CAIRN_STORE_VERSION_LAST, NULL,
         "1:1 2:5 1:3"},
        {0, "2", "1:2"},
        {0, "2,5,9", "1:2 2:5"},
        {CAIRN_STORE_VERSION_FIRST, "2", "1:2 1:1 2:5"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct cairn_time times[4];
        size_t nt = 0;
        for (const char *t = cases[c].times; t != NULL && *t;) {
            char buf[40];
            long sec = strtol(t, (char **)&t, 10);
            snprintf(buf, sizeof buf, "2024-01-01T00:00:%02ld.000Z", sec);
            assert_int_equal(
                cairn_time_parse(buf, strlen(buf), true, &times[nt++]), 0);
            if (*t == ',')
                t++;
        }
        struct cairn_store_query q = {.collection = f->coll,
                                      .versions = cases[c].versions,
                                      .version_times = times,
                                      .n_version_times = nt};
        struct cairn_store_page *p = query(f->s, &q);
        char got[128] = "";
        size_t len = 0;
        for (size_t i = 0; i < p->n; i++)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%c:%c",
                                    i ? " " : "",
                                    p->rows[i].id[strlen(p->rows[i].id) - 1],
                                    p->rows[i].version[18]);
        if (strcmp(got, cases[c].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", c, got,
                     cases[c].want);
        cairn_store_page_free(p);
    }
}

/*
 * Several versions of an object in one put, and a second copy of one of
 * them: each version is kept once, and "last" and "first" pick among them
 * as when they come one put at a time.
 */
static void test_versions_one_put(void **state)
{
    struct fx *f = *state;
    static const int objs[][2] = {{1, 2}, {1, 1}, {2, 5}, {1, 3}, {1, 1}};
    enum { N = sizeof objs / sizeof objs[0] };
    struct cairn_store_object_in in[N] = {0};
    struct cairn_store_result res[N];
    for (size_t i = 0; i < N; i++)
        in[i].obj = indicator((unsigned long)objs[i][0], objs[i][1]);
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, N, NULL, res),
                     0);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(res[i].outcome, i == N - 1 ? CAIRN_STORE_EXISTED
                                                    : CAIRN_STORE_STORED);
        json_decref((json_t *)in[i].obj);
    }
    /* A later put of one more version, and of a version stored before. */
    json_t *more[2] = {indicator(2, 6), indicator(2, 5)};
    struct cairn_store_object_in in2[2] = {{.obj = more[0]}, {.obj = more[1]}};
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, in2, 2, NULL, res), 0);
    assert_int_equal(res[0].outcome, CAIRN_STORE_STORED);
    assert_int_equal(res[1].outcome, CAIRN_STORE_EXISTED);
    json_decref(more[0]);
    json_decref(more[1]);
    static const struct {
        unsigned versions;
        const char *want;
    } cases[] = {
        {CAIRN_STORE_VERSION_LAST, "1:3 2:6"},
        {CAIRN_STORE_VERSION_FIRST, "1:1 2:5"},
        {CAIRN_STORE_VERSION_ALL, "1:2 1:1 2:5 1:3 2:6"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct cairn_store_query q = {.collection = f->coll,
                                      .versions = cases[c].versions};
        struct cairn_store_page *p = query(f->s, &q);
        char got[128] = "";
        size_t len = 0;
        for (size_t i = 0; i < p->n; i++)
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%c:%c",
                                    i ? " " : "",
                                    p->rows[i].id[strlen(p->rows[i].id) - 1],
                                    p->rows[i].version[18]);
        if (strcmp(got, cases[c].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", c, got,
                     cases[c].want);
        cairn_store_page_free(p);
    }
}

static void test_filters(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 1, 5, 1);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "malware",
                          "spec_version", "2.0", "id",
                          "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
                          "created", "2024-01-01T00:00:00Z", "modified",
                          "2024-01-01T00:00:00Z", "name", "m");
    struct cairn_store_object_in in = {m, NULL, 0};
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, &in, 1, NULL, NULL),
                     0);
    json_decref(m);
    char id2[80], id4[80];
    make_id(id2, sizeof id2, 2);
    make_id(id4, sizeof id4, 4);
    const char *ids[] = {id4, id2, "indicator--nope"};
    const char *types[] = {"malware"};
    const char *types2[] = {"indicator", "malware"};
    const char *specs[] = {"2.0"};
    struct {
        struct cairn_store_query q;
        size_t want;
    } cases[] = {
        {{.ids = ids, .n_ids = 3}, 2},
        {{.types = types, .n_types = 1}, 1},
        {{.types = types2, .n_types = 2}, 6},
        {{.spec_versions = specs, .n_spec_versions = 1}, 1},
        {{.ids = ids, .n_ids = 3, .types = types, .n_types = 1}, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        cases[c].q.collection = f->coll;
        struct cairn_store_page *p = query(f->s, &cases[c].q);
        if (p->n != cases[c].want)
            fail_msg("case %zu: %zu rows, want %zu", c, p->n, cases[c].want);
        cairn_store_page_free(p);
    }
    struct cairn_store_query bad = {.collection = f->coll, .next = "c1.zz"};
    struct cairn_store_page *p = NULL;
    assert_int_equal(cairn_store_query(f->s, &bad, &p), CAIRN_EINVAL);
    assert_null(p);
}

/* Page through everything; each object must come exactly once, in order. */
static void test_paging(void **state)
{
    struct fx *f = *state;
    enum { N = 10000 };
    for (unsigned long b = 0; b < N; b += 1000)
        put_range(f->s, f->coll, b, 1000, 1);
    unsigned char *seen = calloc(N, 1);
    assert_non_null(seen);
    struct cairn_store_query q = {.collection = f->coll, .limit = 333};
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    struct cairn_time last = {INT64_MIN, 0, 0};
    size_t total = 0, pages = 0;
    for (;;) {
        q.next = next[0] ? next : NULL;
        struct cairn_store_page *p = query(f->s, &q);
        pages++;
        for (size_t i = 0; i < p->n; i++) {
            unsigned long k = strtoul(p->rows[i].id + 35, NULL, 16);
            assert_true(k < N);
            assert_int_equal(seen[k], 0);
            seen[k] = 1;
            assert_true(cairn_time_cmp(&last, &p->rows[i].date_added) < 0);
            last = p->rows[i].date_added;
        }
        total += p->n;
        if (p->n > 0) {
            assert_int_equal(
                cairn_time_cmp(&p->added_first, &p->rows[0].date_added), 0);
            assert_int_equal(cairn_time_cmp(&p->added_last, &last), 0);
        }
        bool more = p->more;
        assert_true(more ? p->n == 333 : p->next[0] == '\0');
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
    }
    assert_int_equal(total, N);
    assert_int_equal(pages, (N + 332) / 333);
    free(seen);

    /* added_after the 5000th object's date_added gives exactly the rest. */
    q.next = NULL;
    q.limit = 5000;
    struct cairn_store_page *p = query(f->s, &q);
    struct cairn_time cut = p->rows[4999].date_added;
    cairn_store_page_free(p);
    q.added_after = &cut;
    q.limit = 0;
    p = query(f->s, &q);
    assert_int_equal(p->n, N - 5000);
    assert_true(cairn_time_cmp(&p->rows[0].date_added, &cut) > 0);
    cairn_store_page_free(p);
}

/*
 * cairn_store_scan: every version (an object's older ones too) of the
 * type, in date_added order, each row's id and JSON in place; from after
 * a date_added; stopped by the callback (sqlite: its own statement;
 * memory and postgres: through the pages).
 */
struct scan_seen {
    size_t n;
    struct cairn_time last;
    struct cairn_time at_100;
    int stop_at; /* return 7 at this row (0: never) */
};

static int scan_row(const struct cairn_store_row *row, void *ud)
{
    struct scan_seen *sc = ud;
    assert_non_null(row->id);
    assert_non_null(row->json);
    assert_true(row->json_len > 0 && row->json[0] == '{');
    assert_int_equal(row->json[row->json_len], '\0');
    assert_non_null(strstr(row->json, row->id));
    if (sc->n > 0)
        assert_true(cairn_time_cmp(&sc->last, &row->date_added) < 0);
    sc->last = row->date_added;
    if (++sc->n == 100)
        sc->at_100 = row->date_added;
    return sc->stop_at > 0 && (int)sc->n == sc->stop_at ? 7 : 0;
}

static void test_scan(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 0, 300, 1);
    put_range(f->s, f->coll, 0, 50, 2); /* second versions of 50 */
    struct scan_seen sc = {0};
    assert_int_equal(cairn_store_scan(f->s, f->coll, "indicator", NULL,
                                      scan_row, &sc),
                     0);
    assert_int_equal(sc.n, 350);
    struct cairn_time cut = sc.at_100;
    memset(&sc, 0, sizeof sc);
    assert_int_equal(cairn_store_scan(f->s, f->coll, NULL, &cut, scan_row,
                                      &sc),
                     0);
    assert_int_equal(sc.n, 250);
    memset(&sc, 0, sizeof sc);
    assert_int_equal(cairn_store_scan(f->s, f->coll, "malware", NULL,
                                      scan_row, &sc),
                     0);
    assert_int_equal(sc.n, 0);
    memset(&sc, 0, sizeof sc);
    sc.stop_at = 5;
    assert_int_equal(cairn_store_scan(f->s, f->coll, "indicator", NULL,
                                      scan_row, &sc),
                     7);
    assert_int_equal(sc.n, 5);
    assert_int_equal(cairn_store_scan(f->s, "no-such-collection", NULL, NULL,
                                      scan_row, &sc),
                     CAIRN_ENOTFOUND);
}

/*
 * A byte budget cuts a page before the row that would not fit, with more
 * and next going on from that row; a row larger than the budget still
 * comes, alone, so paging never stalls.
 */
static void test_paging_budget(void **state)
{
    struct fx *f = *state;
    enum { N = 12 };
    put_range(f->s, f->coll, 0, N, 1);
    struct cairn_store_query all = {.collection = f->coll, .with_json = true};
    struct cairn_store_page *p = query(f->s, &all);
    assert_int_equal(p->n, N);
    size_t row_len = p->rows[0].json_len;
    for (size_t i = 0; i < N; i++)
        assert_int_equal(p->rows[i].json_len, row_len);
    cairn_store_page_free(p);

    /* Room for three and a half rows: pages of three. */
    struct cairn_store_query q = {
        .collection = f->coll, .with_json = true, .max_bytes = row_len * 7 / 2};
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    size_t total = 0, pages = 0;
    for (;;) {
        q.next = next[0] ? next : NULL;
        p = query(f->s, &q);
        pages++;
        size_t bytes = 0;
        for (size_t i = 0; i < p->n; i++) {
            unsigned long k = strtoul(p->rows[i].id + 35, NULL, 16);
            assert_int_equal(k, total + i);
            bytes += p->rows[i].json_len;
        }
        assert_true(bytes <= q.max_bytes);
        total += p->n;
        bool more = p->more;
        assert_int_equal(p->n, 3);
        assert_true(!more || p->next[0] != '\0');
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
        assert_true(pages < N);
    }
    assert_int_equal(total, N);
    assert_int_equal(pages, N / 3);

    /* A budget smaller than one row: one row a page, every row once. */
    q.max_bytes = 1;
    q.next = NULL;
    next[0] = '\0';
    total = 0;
    for (;;) {
        q.next = next[0] ? next : NULL;
        p = query(f->s, &q);
        assert_int_equal(p->n, 1);
        unsigned long k = strtoul(p->rows[0].id + 35, NULL, 16);
        assert_int_equal(k, total);
        total++;
        bool more = p->more;
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
        assert_true(total < N);
    }
    assert_int_equal(total, N);
}

static size_t count_rows(struct cairn_store *s, const char *coll,
                         unsigned versions)
{
    struct cairn_store_query q = {
        .collection = coll, .versions = versions, .limit = 0};
    struct cairn_store_page *p = query(s, &q);
    size_t n = p->n;
    assert_false(p->more);
    cairn_store_page_free(p);
    return n;
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    put_versions(f);
    char id1[80];
    make_id(id1, sizeof id1, 1);
    const char *ids[] = {id1};
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_FIRST};
    size_t n = 0;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(count_rows(f->s, f->coll, CAIRN_STORE_VERSION_ALL), 3);
    /* The new first version of object 1 is the one of second 2. */
    q.with_json = true;
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 1);
    assert_string_equal(p->rows[0].modified, "2024-01-01T00:00:02.000Z");
    struct cairn_time before = p->rows[0].date_added;
    cairn_store_page_free(p);
    q.versions = CAIRN_STORE_VERSION_ALL;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(count_rows(f->s, f->coll, CAIRN_STORE_VERSION_ALL), 1);

    /* A deleted date_added is never handed out again. */
    struct cairn_store_query all = {.collection = f->coll};
    p = query(f->s, &all);
    struct cairn_time high = p->rows[0].date_added;
    cairn_store_page_free(p);
    q.ids = NULL;
    q.n_ids = 0;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    put_range(f->s, f->coll, 9, 1, 1);
    p = query(f->s, &all);
    assert_int_equal(p->n, 1);
    assert_true(cairn_time_cmp(&p->rows[0].date_added, &high) > 0);
    assert_true(cairn_time_cmp(&p->rows[0].date_added, &before) > 0);
    cairn_store_page_free(p);
}

/*
 * One put of 100 objects, more than one statement's worth of versions at a
 * time in SQLite: versions stored before, the same version twice in the
 * put, a new version of an object the put also stores, and the same
 * version with other content in the put. Each object gets the outcome it
 * would get alone, after the ones before it in the put.
 */
static void test_put_many_versions(void **state)
{
    struct fx *f = *state;
    enum { N = 100 };
    put_range(f->s, f->coll, 1, 40, 1);
    struct cairn_store_object_in in[N] = {0};
    struct cairn_store_result res[N];
    int want[N];
    for (int i = 0; i < N; i++) {
        unsigned long n;
        int v = 1;
        if (i < 40) { /* 21..40 stored before, 41..60 new */
            n = (unsigned long)(21 + i);
            want[i] = n <= 40 ? CAIRN_STORE_EXISTED : CAIRN_STORE_STORED;
        } else if (i < 60) { /* 41..60 again, the same */
            n = (unsigned long)(i + 1);
            want[i] = CAIRN_STORE_EXISTED;
        } else if (i < 80) { /* 41..60, a second version */
            n = (unsigned long)(i - 19);
            v = 2;
            want[i] = CAIRN_STORE_STORED;
        } else { /* 61..70 new, then again with other content */
            n = (unsigned long)(61 + (i - 80) % 10);
            want[i] = i < 90 ? CAIRN_STORE_STORED : CAIRN_STORE_FAILED;
        }
        json_t *o = indicator(n, v);
        if (i >= 90)
            json_object_set_new(o, "name", json_string("changed"));
        in[i].obj = o;
    }
    for (int round = 0; round < 2; round++) {
        assert_int_equal(
            cairn_store_put_objects(f->s, f->coll, in, N, NULL, res), 0);
        for (int i = 0; i < N; i++) {
            int w = round == 0 || want[i] == CAIRN_STORE_FAILED
                        ? want[i]
                        : CAIRN_STORE_EXISTED;
            if ((int)res[i].outcome != w)
                fail_msg("round %d, object %d: outcome %d, want %d", round,
                         i, (int)res[i].outcome, w);
        }
    }
    for (int i = 0; i < N; i++)
        json_decref((json_t *)in[i].obj);
    assert_int_equal(count_rows(f->s, f->coll, CAIRN_STORE_VERSION_ALL), 90);
    assert_int_equal(count_rows(f->s, f->coll, CAIRN_STORE_VERSION_LAST), 70);
    char id[80];
    make_id(id, sizeof id, 50);
    const char *ids[] = {id};
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_ALL,
                                  .with_json = true};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 2);
    assert_string_equal(p->rows[0].modified, "2024-01-01T00:00:01.000Z");
    assert_string_equal(p->rows[1].modified, "2024-01-01T00:00:02.000Z");
    cairn_store_page_free(p);
    make_id(id, sizeof id, 65);
    p = query(f->s, &q);
    assert_int_equal(p->n, 1);
    assert_null(strstr(p->rows[0].json, "changed"));
    cairn_store_page_free(p);
}

/* ---- the correlation index, counts, console admins ---------------------- */

struct hits {
    size_t n;
    size_t in_coll; /* hits in `coll` */
    const char *coll;
    char ids[8][80];
    bool stop;
};

static int collect_hit(void *ud, const char *collection,
                       const struct cairn_store_row *row)
{
    struct hits *h = ud;
    assert_non_null(row->json);
    assert_non_null(row->id);
    if (h->n < 8)
        snprintf(h->ids[h->n], sizeof h->ids[0], "%s", row->id);
    h->n++;
    if (h->coll != NULL && strcmp(collection, h->coll) == 0)
        h->in_coll++;
    return h->stop ? 1 : 0;
}

static struct hits find(struct cairn_store *s, uint64_t key, const char *coll)
{
    struct hits h = {.coll = coll};
    assert_int_equal(cairn_store_find_key(s, key, collect_hit, &h), 0);
    return h;
}

static bool hit_has(const struct hits *h, const char *id)
{
    for (size_t i = 0; i < h->n && i < 8; i++)
        if (strcmp(h->ids[i], id) == 0)
            return true;
    return false;
}

static uint64_t ip_key(const char *addr)
{
    uint64_t k = 0;
    assert_int_equal(cairn_value_key(CAIRN_IOC_IPV4, addr, strlen(addr), &k),
                     0);
    return k;
}

/* A sighting of indicator `n`, in `coll`. */
static void put_sighting(struct cairn_store *s, const char *coll,
                         unsigned long n)
{
    char ind[80];
    make_id(ind, sizeof ind, n);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "sighting",
                          "spec_version", "2.1", "id",
                          "sighting--00000000-0000-4000-8000-00000000000a",
                          "created", "2024-01-01T00:00:00.000Z", "modified",
                          "2024-01-01T00:00:00.000Z", "sighting_of_ref", ind);
    struct cairn_store_object_in in = {.obj = o};
    struct cairn_store_result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(cairn_store_put_objects(s, coll, &in, 1, NULL, &res), 0);
    assert_int_equal(res.outcome, CAIRN_STORE_STORED);
    json_decref(o);
}

/*
 * Every backend keeps the correlation index: every version stored gets
 * its keys, in the put's transaction, once; a deleted row is not handed
 * out; the callback can stop the walk.
 */
static void test_index(void **state)
{
    struct fx *f = *state;
    assert_true(cairn_store_has_index(f->s));
    struct cairn_store_collection c2 = {.api_root = "api1", .title = "two"};
    char coll2[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_collection_create(f->s, &c2, coll2), 0);
    put_range(f->s, f->coll, 1, 3, 1);
    put_range(f->s, f->coll, 1, 1, 2); /* a second version of 1 */
    put_range(f->s, coll2, 4, 1, 1);
    put_sighting(f->s, coll2, 1);
    /* Stored before: no second entry. */
    struct cairn_store_object_in in = {.obj = indicator(2, 1)};
    struct cairn_store_result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, &in, 1, NULL, &res),
                     0);
    assert_int_equal(res.outcome, CAIRN_STORE_EXISTED);
    json_decref((json_t *)in.obj);

    struct hits h = find(f->s, ip_key("198.51.100.1"), f->coll);
    assert_int_equal(h.n, 5); /* 1 (two versions), 2, 3 and 4 */
    assert_int_equal(h.in_coll, 4);
    char id1[80], id4[80];
    make_id(id1, sizeof id1, 1);
    make_id(id4, sizeof id4, 4);
    assert_true(hit_has(&h, id1));
    assert_true(hit_has(&h, id4));

    h = find(f->s, cairn_value_ref_key(id1, strlen(id1)), coll2);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.in_coll, 1);
    assert_string_equal(h.ids[0],
                        "sighting--00000000-0000-4000-8000-00000000000a");

    assert_int_equal(find(f->s, ip_key("198.51.100.2"), NULL).n, 0);

    struct hits stop = {.stop = true};
    assert_int_equal(
        cairn_store_find_key(f->s, ip_key("198.51.100.1"), collect_hit, &stop),
        0);
    assert_int_equal(stop.n, 1);

    /* Deleted rows and collections are gone from the answers. */
    const char *ids[] = {id1};
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_ALL};
    size_t n = 0;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 2);
    h = find(f->s, ip_key("198.51.100.1"), f->coll);
    assert_int_equal(h.n, 3);
    assert_false(hit_has(&h, id1));
    assert_int_equal(cairn_store_collection_delete(f->s, coll2), 0);
    h = find(f->s, ip_key("198.51.100.1"), f->coll);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.in_coll, 2);
    assert_int_equal(find(f->s, cairn_value_ref_key(id1, strlen(id1)), NULL).n,
                     0);
}

/*
 * One put of many objects with several keys each (more entries than one
 * statement of the SQLite backend takes): every object is found by each
 * of its values, once, and a version stored twice in the put is indexed
 * once.
 */
static void test_index_many(void **state)
{
    struct fx *f = *state;
    enum { N = 70 };
    struct cairn_store_object_in in[N + 1];
    struct cairn_store_result res[N + 1];
    char ids[N][80];
    memset(in, 0, sizeof in);
    memset(res, 0, sizeof res);
    for (size_t i = 0; i < N; i++) {
        char pattern[120];
        make_id(ids[i], sizeof ids[i], 100 + i);
        snprintf(pattern, sizeof pattern,
                 "[ipv4-addr:value = '198.51.100.1' OR"
                 " ipv4-addr:value = '10.0.%zu.%zu']",
                 i / 8, 1 + i % 8);
        in[i].obj = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
            "spec_version", "2.1", "id", ids[i], "created",
            "2024-01-01T00:00:00.000Z", "modified", "2024-01-01T00:00:00.000Z",
            "pattern", pattern, "pattern_type", "stix", "valid_from",
            "2024-01-01T00:00:00Z");
        assert_non_null(in[i].obj);
    }
    in[N].obj = json_incref((json_t *)in[5].obj);
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, in, N + 1, NULL, res), 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(res[i].outcome, CAIRN_STORE_STORED);
    assert_int_equal(res[N].outcome, CAIRN_STORE_EXISTED);

    assert_int_equal(find(f->s, ip_key("198.51.100.1"), NULL).n, N);
    for (size_t i = 0; i < N; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "10.0.%zu.%zu", i / 8, 1 + i % 8);
        struct hits h = find(f->s, ip_key(addr), NULL);
        assert_int_equal(h.n, 1);
        assert_string_equal(h.ids[0], ids[i]);
    }
    for (size_t i = 0; i <= N; i++)
        json_decref((json_t *)in[i].obj);
}

/* Stored versions per collection; the console's administrator flag. */
static void test_count_admin(void **state)
{
    struct fx *f = *state;
    size_t n = 99;
    assert_int_equal(cairn_store_collection_count(f->s, f->coll, &n), 0);
    assert_int_equal(n, 0);
    put_range(f->s, f->coll, 1, 3, 1);
    put_range(f->s, f->coll, 1, 1, 2);
    assert_int_equal(cairn_store_collection_count(f->s, f->coll, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(cairn_store_collection_count(
                         f->s, "0b1e8b4a-1d6e-4c1a-9a55-3e2b8b8e1f00", &n),
                     CAIRN_ENOTFOUND);

    bool admin = true;
    assert_int_equal(cairn_store_user_add(f->s, "alice", "pw"), 0);
    assert_int_equal(cairn_store_user_admin_get(f->s, "alice", &admin), 0);
    assert_false(admin);
    assert_int_equal(cairn_store_user_admin_set(f->s, "alice", true), 0);
    assert_int_equal(cairn_store_user_admin_get(f->s, "alice", &admin), 0);
    assert_true(admin);
    assert_int_equal(cairn_store_user_admin_set(f->s, "alice", false), 0);
    assert_int_equal(cairn_store_user_admin_get(f->s, "alice", &admin), 0);
    assert_false(admin);
    assert_int_equal(cairn_store_user_admin_set(f->s, "carol", true),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_user_admin_get(f->s, "carol", &admin),
                     CAIRN_ENOTFOUND);
}

/* ---- sighting summaries, names under a domain -------------------------- */

/* Store one object given as JSON text; it must be stored. */
static void put_text(struct cairn_store *s, const char *coll, const char *text)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    assert_non_null(o);
    struct cairn_store_object_in in = {.obj = o};
    struct cairn_store_result res;
    memset(&res, 0, sizeof res);
    assert_int_equal(cairn_store_put_objects(s, coll, &in, 1, NULL, &res), 0);
    assert_int_equal(res.outcome, CAIRN_STORE_STORED);
    json_decref(o);
}

struct sg_seen {
    size_t n;
    struct {
        char of[80], org0[80], coll[CAIRN_UUID_STRLEN];
        size_t n_orgs;
        uint64_t count;
        bool fp, has_row, row_ok;
        char last[40];
    } v[4];
};

static int collect_sg(void *ud, const struct cairn_store_sighting *sg)
{
    struct sg_seen *x = ud;
    if (x->n < 4) {
        snprintf(x->v[x->n].of, 80, "%s", sg->sighting_of_ref);
        snprintf(x->v[x->n].org0, 80, "%s", sg->n_orgs ? sg->orgs[0] : "");
        snprintf(x->v[x->n].coll, CAIRN_UUID_STRLEN, "%s", sg->collection);
        x->v[x->n].n_orgs = sg->n_orgs;
        x->v[x->n].count = sg->count;
        x->v[x->n].fp = sg->false_positive;
        x->v[x->n].has_row = sg->row != NULL;
        x->v[x->n].row_ok = sg->row != NULL && sg->row->json != NULL &&
                            strncmp(sg->row->id, "sighting--", 10) == 0;
        if (!sg->has_last ||
            cairn_time_format(&sg->last, 0, x->v[x->n].last, 40) < 0)
            x->v[x->n].last[0] = '\0';
    }
    x->n++;
    return 0;
}

static struct sg_seen scan_sg(struct cairn_store *s, const char *of,
                              bool with_json)
{
    struct sg_seen x = {0};
    struct cairn_store_sightings_query q = {.of = of, .with_json = with_json};
    assert_int_equal(cairn_store_sightings(s, &q, collect_sg, &x), 0);
    return x;
}

#define SG_A  "sighting--00000000-0000-4000-8000-0000000000a1"
#define SG_B  "sighting--00000000-0000-4000-8000-0000000000b1"
#define IND1  "indicator--00000000-0000-4000-8000-000000000001"
#define IND2  "indicator--00000000-0000-4000-8000-000000000002"
#define ORG_X "identity--00000000-0000-4000-8000-0000000000f1"
#define ORG_Y "identity--00000000-0000-4000-8000-0000000000f2"

/*
 * Every backend keeps what each sighting tells the report, from the
 * newest version of each; a deleted version's summary goes with it (the
 * one before counts again). The identities flag of a user.
 */
static void test_sightings_summary(void **state)
{
    struct fx *f = *state;
    assert_true(cairn_store_has_sightings(f->s));
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-01T00:00:00Z\",\"sighting_of_ref\":\"" IND1
             "\",\"where_sighted_refs\":[\"" ORG_X "\"],\"count\":2}");
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-02T00:00:00Z\",\"sighting_of_ref\":\"" IND1
             "\",\"where_sighted_refs\":[\"" ORG_X "\",\"" ORG_Y
             "\"],\"count\":5,\"last_seen\":\"2026-01-03T00:00:00Z\"}");
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_B
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-01T00:00:00Z\",\"sighting_of_ref\":\"" IND2
             "\",\"created_by_ref\":\"" ORG_Y
             "\",\"x_cairn_false_positive\":true}");
    put_range(f->s, f->coll, 1, 2, 1); /* not sightings */

    struct sg_seen x = scan_sg(f->s, NULL, false);
    assert_int_equal(x.n, 2);
    size_t a = strcmp(x.v[0].of, IND1) == 0 ? 0 : 1, b = 1 - a;
    assert_string_equal(x.v[a].of, IND1);
    assert_int_equal(x.v[a].count, 5);
    assert_int_equal(x.v[a].n_orgs, 2);
    assert_string_equal(x.v[a].org0, ORG_X);
    assert_string_equal(x.v[a].last, "2026-01-03T00:00:00Z");
    assert_string_equal(x.v[a].coll, f->coll);
    assert_false(x.v[a].fp);
    assert_false(x.v[a].has_row);
    assert_string_equal(x.v[b].of, IND2);
    assert_true(x.v[b].fp);
    assert_int_equal(x.v[b].count, 1);
    assert_int_equal(x.v[b].n_orgs, 1);
    assert_string_equal(x.v[b].org0, ORG_Y);
    assert_string_equal(x.v[b].last, "2026-01-01T00:00:00Z");

    x = scan_sg(f->s, IND1, true);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.v[0].count, 5);
    assert_true(x.v[0].row_ok);
    assert_int_equal(scan_sg(f->s, IND2, false).n, 1);
    assert_int_equal(scan_sg(f->s, "indicator--none", false).n, 0);

    /* The newest version deleted: the one before counts. */
    const char *ids[] = {SG_A};
    struct cairn_time t2;
    assert_int_equal(cairn_time_parse("2026-01-02T00:00:00Z", 20, true, &t2),
                     0);
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .version_times = &t2,
                                  .n_version_times = 1};
    size_t n = 0;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    x = scan_sg(f->s, IND1, false);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.v[0].count, 2);
    assert_int_equal(x.v[0].n_orgs, 1);

    /* A newer version that sights another object moves the sighting
     * there; deleted, the sighting counts for the first object again. */
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-04T00:00:00Z\",\"sighting_of_ref\":\"" IND2
             "\",\"where_sighted_refs\":[\"" ORG_Y "\"],\"count\":7}");
    assert_int_equal(scan_sg(f->s, IND1, false).n, 0);
    x = scan_sg(f->s, IND2, false);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.v[0].count + x.v[1].count, 8);
    assert_int_equal(scan_sg(f->s, NULL, true).n, 2);
    /* an older version stored after it changes nothing */
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-03T00:00:00Z\",\"sighting_of_ref\":\"" IND1
             "\",\"count\":3}");
    assert_int_equal(scan_sg(f->s, IND1, false).n, 0);
    assert_int_equal(scan_sg(f->s, NULL, false).n, 2);
    struct cairn_time t4;
    assert_int_equal(cairn_time_parse("2026-01-04T00:00:00Z", 20, true, &t4),
                     0);
    q.version_times = &t4;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    x = scan_sg(f->s, IND1, false);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.v[0].count, 3); /* the version of 2026-01-03 */
    assert_int_equal(scan_sg(f->s, IND2, false).n, 1);

    bool on = true;
    assert_int_equal(cairn_store_user_add(f->s, "alice", "pw"), 0);
    assert_int_equal(cairn_store_user_identities_get(f->s, "alice", &on), 0);
    assert_false(on);
    assert_int_equal(cairn_store_user_identities_set(f->s, "alice", true), 0);
    assert_int_equal(cairn_store_user_identities_get(f->s, "alice", &on), 0);
    assert_true(on);
    assert_int_equal(cairn_store_user_identities_set(f->s, "carol", true),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_delete(f->s, f->coll), 0);
    assert_int_equal(scan_sg(f->s, NULL, false).n, 0);
}

static uint64_t under_key(const char *d)
{
    uint64_t k = 0;
    assert_int_equal(cairn_value_under_key(d, strlen(d), &k), 0);
    return k;
}

struct flag_seen {
    size_t n;
    char version[8][40];
    char list[8][64];
    char value[8][64];
};

static int collect_flag(void *ud, const char *collection,
                        const struct cairn_store_row *row)
{
    struct flag_seen *x = ud;
    (void)collection;
    if (x->n < 8) {
        snprintf(x->version[x->n], sizeof x->version[0], "%s", row->version);
        snprintf(x->list[x->n], sizeof x->list[0], "%s",
                 row->flag_list != NULL ? row->flag_list : "-");
        snprintf(x->value[x->n], sizeof x->value[0], "%s",
                 row->flag_value != NULL ? row->flag_value : "-");
    }
    x->n++;
    return 0;
}

/* The list and value of the flag of `version` among x's hits ("-" when
 * unflagged, NULL when no hit). */
static const char *flag_of(const struct flag_seen *x, const char *version,
                           const char **value)
{
    for (size_t i = 0; i < x->n && i < 8; i++)
        if (strcmp(x->version[i], version) == 0) {
            *value = x->value[i];
            return x->list[i];
        }
    return NULL;
}

/*
 * Every backend keeps the warninglist flag of an object version with it
 * (docs/analysis.md): handed out by the index with that version only, and
 * gone with the version when it is deleted.
 */
static void test_flags(void **state)
{
    struct fx *f = *state;
    struct cairn_store_batch *b = NULL;
    assert_int_equal(cairn_store_batch_new(8, &b), 0);
    assert_int_equal(cairn_store_batch_flag(b, "list", "x"), CAIRN_EINVAL);
    json_t *v1 = indicator(1, 1), *v2 = indicator(1, 2), *o2 = indicator(2, 1);
    assert_int_equal(cairn_store_batch_add(b, v1, NULL, 0), 0);
    assert_int_equal(cairn_store_batch_flag(b, "Public DNS resolvers",
                                            "198.51.100.1"),
                     0);
    assert_int_equal(cairn_store_batch_add(b, o2, NULL, 0), 0);
    assert_int_equal(cairn_store_put_batch(f->s, f->coll, b, NULL), 0);
    assert_int_equal(cairn_store_batch_clear(b), 0);
    assert_int_equal(cairn_store_batch_add(b, v2, NULL, 0), 0);
    assert_int_equal(cairn_store_put_batch(f->s, f->coll, b, NULL), 0);

    struct flag_seen x = {0};
    assert_int_equal(cairn_store_find_key(f->s, ip_key("198.51.100.1"),
                                          collect_flag, &x),
                     0);
    assert_int_equal(x.n, 3);
    const char *value = NULL;
    assert_string_equal(flag_of(&x, "2024-01-01T00:00:01.000Z", &value),
                        "Public DNS resolvers");
    assert_string_equal(value, "198.51.100.1");
    /* the newer version and the other object are not flagged */
    assert_string_equal(flag_of(&x, "2024-01-01T00:00:02.000Z", &value), "-");
    size_t unflagged = 0;
    for (size_t i = 0; i < x.n; i++)
        unflagged += strcmp(x.list[i], "-") == 0;
    assert_int_equal(unflagged, 2);

    /* deleted with its version; stored again unflagged, it stays so */
    char id1[80];
    make_id(id1, sizeof id1, 1);
    const char *ids[] = {id1};
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_FIRST};
    size_t n = 0;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cairn_store_batch_clear(b), 0);
    assert_int_equal(cairn_store_batch_add(b, v1, NULL, 0), 0);
    assert_int_equal(cairn_store_put_batch(f->s, f->coll, b, NULL), 0);
    memset(&x, 0, sizeof x);
    assert_int_equal(cairn_store_find_key(f->s, ip_key("198.51.100.1"),
                                          collect_flag, &x),
                     0);
    assert_int_equal(x.n, 3);
    for (size_t i = 0; i < x.n; i++)
        assert_string_equal(x.list[i], "-");
    cairn_store_batch_free(b);
    json_decref(v1);
    json_decref(v2);
    json_decref(o2);
}

/* "The objects with a name under D" is one probe of the index. */
static void test_index_under(void **state)
{
    struct fx *f = *state;
    put_text(f->s, f->coll,
             "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":"
             "\"domain-name--00000000-0000-4000-8000-000000000001\","
             "\"value\":\"A.B.Example.COM\"}");
    put_text(f->s, f->coll,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"" IND1
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-01T00:00:00Z\",\"pattern\":\"[domain-name:value = "
             "'c2.example.com']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\"}");
    put_text(f->s, f->coll,
             "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":"
             "\"domain-name--00000000-0000-4000-8000-000000000002\","
             "\"value\":\"example.com\"}");
    assert_int_equal(find(f->s, under_key("example.com"), NULL).n, 2);
    assert_int_equal(find(f->s, under_key("EXAMPLE.com."), NULL).n, 2);
    assert_int_equal(find(f->s, under_key("b.example.com"), NULL).n, 1);
    assert_int_equal(find(f->s, under_key("a.b.example.com"), NULL).n, 0);
    assert_int_equal(find(f->s, under_key("example.org"), NULL).n, 0);
    uint64_t k;
    assert_int_equal(cairn_value_under_key("com", 3, &k), CAIRN_EINVAL);
    /* an under-key is never a value's key */
    uint64_t exact = 0;
    assert_int_equal(
        cairn_value_key(CAIRN_IOC_DOMAIN, "example.com", 11, &exact), 0);
    assert_true(exact != under_key("example.com"));
}

/*
 * Named state (the federation flows' progress): absent, set, replaced,
 * read by another handle of the same database, removed; bad names and
 * values refused.
 */
static void test_named_state(void **state)
{
    struct fx *f = *state;
    char *v = (char *)"x";
    assert_int_equal(cairn_store_state_get(f->s, "pull:abc", &v),
                     CAIRN_ENOTFOUND);
    assert_null(v);
    assert_int_equal(cairn_store_state_set(f->s, "pull:abc", "{\"a\":1}"), 0);
    assert_int_equal(cairn_store_state_set(f->s, "push:abc", "other"), 0);
    assert_int_equal(cairn_store_state_get(f->s, "pull:abc", &v), 0);
    assert_string_equal(v, "{\"a\":1}");
    cairn_free(v);
    assert_int_equal(cairn_store_state_set(f->s, "pull:abc", "{\"a\":2}"), 0);
    assert_int_equal(cairn_store_state_get(f->s, "pull:abc", &v), 0);
    assert_string_equal(v, "{\"a\":2}");
    cairn_free(v);
    if (strcmp(backend, "memory") != 0) {
        /* Every process sharing the store reads what another wrote. */
        struct cairn_store *o = open_store();
        assert_int_equal(cairn_store_state_get(o, "pull:abc", &v), 0);
        assert_string_equal(v, "{\"a\":2}");
        cairn_free(v);
        assert_int_equal(cairn_store_state_set(o, "pull:abc", "{\"a\":3}"), 0);
        cairn_store_close(o);
        assert_int_equal(cairn_store_state_get(f->s, "pull:abc", &v), 0);
        assert_string_equal(v, "{\"a\":3}");
        cairn_free(v);
    }
    assert_int_equal(cairn_store_state_set(f->s, "pull:abc", NULL), 0);
    assert_int_equal(cairn_store_state_get(f->s, "pull:abc", &v),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_state_set(f->s, "pull:abc", NULL), 0);
    assert_int_equal(cairn_store_state_get(f->s, "push:abc", &v), 0);
    assert_string_equal(v, "other");
    cairn_free(v);

    assert_int_equal(cairn_store_state_set(f->s, "", "v"), CAIRN_EINVAL);
    assert_int_equal(cairn_store_state_set(f->s, "a\nb", "v"), CAIRN_EINVAL);
    assert_int_equal(cairn_store_state_get(f->s, NULL, &v), CAIRN_EINVAL);
    char *big = malloc(CAIRN_STORE_STATE_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', CAIRN_STORE_STATE_MAX + 1);
    big[CAIRN_STORE_STATE_MAX + 1] = '\0';
    assert_int_equal(cairn_store_state_set(f->s, "pull:big", big),
                     CAIRN_ETOOBIG);
    big[CAIRN_STORE_STATE_MAX] = '\0';
    assert_int_equal(cairn_store_state_set(f->s, "pull:big", big), 0);
    assert_int_equal(cairn_store_state_get(f->s, "pull:big", &v), 0);
    assert_int_equal(strlen(v), CAIRN_STORE_STATE_MAX);
    cairn_free(v);
    free(big);
}

/* ---- status resources --------------------------------------------------- */

static void test_status(void **state)
{
    struct fx *f = *state;
    char sid[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_status_new(f->s, f->coll, "alice", 6, sid), 0);
    struct cairn_store_result pend[6];
    memset(pend, 0, sizeof pend);
    json_t *objs[6];
    struct cairn_store_object_in in[6];
    for (int i = 0; i < 6; i++) {
        objs[i] = indicator((unsigned long)i, 1);
        in[i] = (struct cairn_store_object_in){objs[i], NULL, 0};
        make_id(pend[i].id, sizeof pend[i].id, (unsigned long)i);
        snprintf(pend[i].version, sizeof pend[i].version,
                 "2024-01-01T00:00:01.000Z");
    }
    assert_int_equal(cairn_store_status_add_pending(f->s, sid, pend, 6), 0);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_false(st->complete);
    assert_int_equal(st->pending, 6);
    assert_int_equal(st->n_pendings, 6);
    assert_string_equal(st->user, "alice");
    cairn_store_status_free(st);

    /* The first batch commits: readers see its progress at once. */
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 3, sid, NULL),
                     0);
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_int_equal(st->success, 3);
    assert_int_equal(st->pending, 3);
    assert_int_equal(st->n_successes, 3);
    assert_int_equal(st->n_pendings, 3);
    assert_string_equal(st->successes[0].id, pend[0].id);
    assert_string_equal(st->successes[0].version, pend[0].version);
    assert_string_equal(st->pendings[0].id, pend[3].id);
    cairn_store_status_free(st);

    /* One the caller rejected, then the rest (one re-posted: success). */
    struct cairn_store_result rej = pend[3];
    rej.outcome = CAIRN_STORE_FAILED;
    snprintf(rej.message, sizeof rej.message, "bad pattern");
    assert_int_equal(cairn_store_status_record(f->s, sid, &rej, 1), 0);
    struct cairn_store_object_in rest[2] = {in[4], in[0]};
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, rest, 2, sid, NULL),
                     0);
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->success, 5);
    assert_int_equal(st->failure, 1);
    assert_int_equal(st->pending, 0);
    assert_int_equal(st->n_failures, 1);
    assert_string_equal(st->failures[0].message, "bad pattern");
    assert_int_equal(st->n_pendings, 1); /* object 5: never sent */
    cairn_store_status_free(st);
    /* No more outcomes than the request had objects. */
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, &in[5], 1, sid, NULL),
        CAIRN_EINVAL);
    assert_int_equal(count_rows(f->s, f->coll, 0), 4); /* 0, 1, 2, 4 */
    assert_int_equal(cairn_store_status_get(f->s, "nope", &st),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_status_new(f->s, "nope", NULL, 1, sid),
                     CAIRN_ENOTFOUND);
    for (int i = 0; i < 6; i++)
        json_decref(objs[i]);
}

/* ---- users, tokens, rights ---------------------------------------------- */

/* A status without named pending items, as every TAXII POST makes. */
static void test_status_unnamed(void **state)
{
    struct fx *f = *state;
    char sid[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 5, sid), 0);
    json_t *objs[4];
    struct cairn_store_object_in in[5];
    for (int i = 0; i < 4; i++) {
        objs[i] = indicator((unsigned long)i, 1);
        in[i] = (struct cairn_store_object_in){objs[i], NULL, 0};
    }
    in[4] = in[1]; /* the same version again in the batch: a success */
    struct cairn_store_result res[5];
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 2, sid, res),
                     0);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_int_equal(st->success, 2);
    assert_int_equal(st->pending, 3);
    assert_int_equal(st->n_pendings, 0); /* none were named */
    cairn_store_status_free(st);
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, &in[2], 3, sid, &res[2]), 0);
    assert_int_equal(res[4].outcome, CAIRN_STORE_EXISTED);
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->success, 5);
    assert_int_equal(st->n_successes, 5);
    /* Items are listed in the order their outcomes were recorded. */
    const int order[5] = {0, 1, 2, 3, 1};
    for (int i = 0; i < 5; i++) {
        char id[64];
        make_id(id, sizeof id, (unsigned long)order[i]);
        assert_string_equal(st->successes[i].id, id);
    }
    cairn_store_status_free(st);
    for (int i = 0; i < 4; i++)
        json_decref(objs[i]);
}

/* After a crash: statuses still pending are finished, their rest failed. */
static void test_status_abandon(void **state)
{
    struct fx *f = *state;
    char named[CAIRN_UUID_STRLEN], unnamed[CAIRN_UUID_STRLEN];
    char done[CAIRN_UUID_STRLEN];
    json_t *objs[3];
    struct cairn_store_object_in in[3];
    struct cairn_store_result pend[2];
    memset(pend, 0, sizeof pend);
    for (int i = 0; i < 3; i++) {
        objs[i] = indicator((unsigned long)i, 1);
        in[i] = (struct cairn_store_object_in){objs[i], NULL, 0};
    }
    for (int i = 0; i < 2; i++) {
        make_id(pend[i].id, sizeof pend[i].id, (unsigned long)i + 1);
        snprintf(pend[i].version, sizeof pend[i].version,
                 "2024-01-01T00:00:01.000Z");
    }
    /* One with named pending items, one as TAXII POSTs make, one done. */
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 3, named), 0);
    assert_int_equal(cairn_store_status_add_pending(f->s, named, pend, 2), 0);
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 1, named, NULL),
                     0);
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 4, unnamed),
                     0);
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, in, 2, unnamed, NULL), 0);
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 1, done), 0);
    assert_int_equal(
        cairn_store_put_objects(f->s, f->coll, &in[2], 1, done, NULL), 0);

    size_t n = 99;
    assert_int_equal(cairn_store_status_abandon_pending(f->s, &n), 0);
    assert_int_equal(n, 2);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, named, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->success, 1);
    assert_int_equal(st->failure, 2);
    assert_int_equal(st->pending, 0);
    assert_int_equal(st->n_pendings, 0);
    assert_int_equal(st->n_failures, 2);
    assert_string_equal(st->failures[0].id, pend[0].id);
    assert_string_equal(st->failures[1].message, CAIRN_STORE_ABANDONED_MSG);
    cairn_store_status_free(st);
    assert_int_equal(cairn_store_status_get(f->s, unnamed, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->success, 2);
    assert_int_equal(st->failure, 2); /* counted, not named */
    assert_int_equal(st->n_successes, 2);
    cairn_store_status_free(st);
    assert_int_equal(cairn_store_status_get(f->s, done, &st), 0);
    assert_int_equal(st->success, 1);
    assert_int_equal(st->failure, 0);
    cairn_store_status_free(st);
    /* Nothing is left to finish, and the objects written stay. */
    assert_int_equal(cairn_store_status_abandon_pending(f->s, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(count_rows(f->s, f->coll, 0), 3);
    assert_int_equal(cairn_store_status_abandon_pending(NULL, &n),
                     CAIRN_EINVAL);
    for (int i = 0; i < 3; i++)
        json_decref(objs[i]);
}

static void test_users(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cairn_store_user_add(f->s, "alice", "correct horse"), 0);
    assert_int_equal(cairn_store_user_add(f->s, "bob", "correct horse"), 0);
    assert_int_equal(cairn_store_user_add(f->s, "bob", "x"), CAIRN_EEXIST);
    assert_int_equal(cairn_store_user_add(f->s, "", "x"), CAIRN_EINVAL);
    assert_int_equal(cairn_store_user_verify(f->s, "alice", "correct horse"),
                     0);
    assert_int_equal(cairn_store_user_verify(f->s, "alice", "correct horsE"),
                     CAIRN_EPERM);
    assert_int_equal(cairn_store_user_verify(f->s, "carol", "correct horse"),
                     CAIRN_EPERM);
    char *ha = NULL, *hb = NULL;
    assert_int_equal(cairn_store_user_hash(f->s, "alice", &ha), 0);
    assert_int_equal(cairn_store_user_hash(f->s, "bob", &hb), 0);
    assert_null(strstr(ha, "correct"));
    assert_string_not_equal(ha, hb); /* salted */
    assert_int_equal(strncmp(ha, "$scrypt$ln=15,r=8,p=3$", 22), 0);
    cairn_free(ha);
    cairn_free(hb);

    char **names = NULL;
    size_t n = 0;
    assert_int_equal(cairn_store_user_list(f->s, &names, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "alice");
    assert_string_equal(names[1], "bob");
    cairn_store_name_list_free(names, n);

    assert_int_equal(cairn_store_user_set_password(f->s, "bob", "new"), 0);
    assert_int_equal(cairn_store_user_verify(f->s, "bob", "correct horse"),
                     CAIRN_EPERM);
    assert_int_equal(cairn_store_user_verify(f->s, "bob", "new"), 0);

    /* Tokens: the owner comes back; unknown and revoked ones do not. */
    char tok[CAIRN_STORE_TOKEN_LEN], tok2[CAIRN_STORE_TOKEN_LEN];
    assert_int_equal(cairn_store_token_new(f->s, "alice", tok), 0);
    assert_int_equal(cairn_store_token_new(f->s, "alice", tok2), 0);
    assert_int_equal(strlen(tok), 64);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(cairn_store_token_new(f->s, "carol", tok2),
                     CAIRN_ENOTFOUND);
    char *who = NULL;
    assert_int_equal(cairn_store_token_lookup(f->s, tok, &who), 0);
    assert_string_equal(who, "alice");
    cairn_free(who);
    char wrong[CAIRN_STORE_TOKEN_LEN];
    memcpy(wrong, tok, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_int_equal(cairn_store_token_lookup(f->s, wrong, &who), CAIRN_EPERM);
    assert_int_equal(cairn_store_token_remove(f->s, tok), 0);
    assert_int_equal(cairn_store_token_lookup(f->s, tok, &who), CAIRN_EPERM);

    /* Rights per collection. */
    unsigned r = 9;
    assert_int_equal(cairn_store_rights(f->s, "alice", f->coll, &r), 0);
    assert_int_equal(r, 0);
    assert_int_equal(
        cairn_store_grant(f->s, "alice", f->coll, CAIRN_STORE_READ), 0);
    assert_int_equal(
        cairn_store_grant(f->s, "alice", f->coll, CAIRN_STORE_WRITE), 0);
    assert_int_equal(cairn_store_rights(f->s, "alice", f->coll, &r), 0);
    assert_int_equal(r, CAIRN_STORE_READ | CAIRN_STORE_WRITE);
    assert_int_equal(cairn_store_rights(f->s, "bob", f->coll, &r), 0);
    assert_int_equal(r, 0);
    assert_int_equal(
        cairn_store_revoke(f->s, "alice", f->coll, CAIRN_STORE_READ), 0);
    assert_int_equal(cairn_store_rights(f->s, "alice", f->coll, &r), 0);
    assert_int_equal(r, CAIRN_STORE_WRITE);
    assert_int_equal(
        cairn_store_grant(f->s, "carol", f->coll, CAIRN_STORE_READ),
        CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_grant(f->s, "alice", "nope", CAIRN_STORE_READ),
                     CAIRN_ENOTFOUND);

    /* Removing a user takes their tokens and rights along. */
    assert_int_equal(cairn_store_user_remove(f->s, "alice"), 0);
    assert_int_equal(cairn_store_user_remove(f->s, "alice"), CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_token_lookup(f->s, tok2, &who), CAIRN_EPERM);
    assert_int_equal(cairn_store_user_verify(f->s, "alice", "correct horse"),
                     CAIRN_EPERM);
    assert_int_equal(cairn_store_user_add(f->s, "alice", "again"), 0);
    assert_int_equal(cairn_store_rights(f->s, "alice", f->coll, &r), 0);
    assert_int_equal(r, 0);
}

/* ---- allocation failures ------------------------------------------------ */

/* Fail each allocation in turn: errors come back, nothing leaks or breaks. */
static void test_alloc_failures(void **state)
{
    struct fx *f = *state;
    json_t *objs[3] = {indicator(1, 1), indicator(2, 1), indicator(1, 2)};
    struct cairn_store_object_in in[3];
    for (int i = 0; i < 3; i++)
        in[i] = (struct cairn_store_object_in){objs[i], NULL, 0};
    bool done = false;
    for (long n = 0; n < 10000 && !done; n++) {
        cairn_alloc_fail_after(n);
        struct cairn_store_result res[3];
        int rc = cairn_store_put_objects(f->s, f->coll, in, 3, NULL, res);
        struct cairn_store_query q = {.collection = f->coll,
                                      .versions = CAIRN_STORE_VERSION_ALL,
                                      .with_json = true};
        struct cairn_store_page *p = NULL;
        int qrc = cairn_store_query(f->s, &q, &p);
        cairn_alloc_fail_after(-1);
        assert_true(rc == 0 || rc == CAIRN_ENOMEM);
        assert_true(qrc == 0 || qrc == CAIRN_ENOMEM);
        assert_true(qrc == 0 ? p != NULL : p == NULL);
        /* A batch is stored whole or not at all. */
        if (p != NULL)
            assert_true(p->n == 0 || p->n == 3);
        done = rc == 0 && qrc == 0 && p->n == 3;
        cairn_store_page_free(p);
    }
    assert_true(done);
    for (int i = 0; i < 3; i++)
        json_decref(objs[i]);
}

/* ---- SQLite only -----------------------------------------------------------
 */

/* Whether the bytes of `needle` occur in the file at `path`. */
static bool file_has(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return false;
    size_t nl = strlen(needle), len = 0;
    char *buf = NULL;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        buf = realloc(buf, len + got);
        assert_non_null(buf);
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(fp);
    bool found = buf != NULL && memmem(buf, len, needle, nl) != NULL;
    free(buf);
    return found;
}

static void test_secrets_on_disk(void **state)
{
    struct fx *f = *state;
    char tok[CAIRN_STORE_TOKEN_LEN];
    assert_int_equal(cairn_store_user_add(f->s, "alice", "Tr0ub4dor&3xyz"), 0);
    assert_int_equal(cairn_store_token_new(f->s, "alice", tok), 0);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    /* Only the SHA-256 of the token and a hash of the password are kept. */
    assert_true(file_has(wal, "alice") || file_has(dbpath, "alice"));
    assert_false(file_has(wal, tok) || file_has(dbpath, tok));
    assert_false(file_has(wal, "Tr0ub4dor") || file_has(dbpath, "Tr0ub4dor"));
}

static void test_reopen_and_migrate(void **state)
{
    struct fx *f = *state;
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    assert_true(v >= 1);
    put_range(f->s, f->coll, 0, 10, 1);
    cairn_store_close(f->s);
    /* Reopening keeps everything and migrates nothing. */
    f->s = open_store();
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    assert_int_equal(count_rows(f->s, f->coll, 0), 10);
    put_range(f->s, f->coll, 10, 1, 1);
    assert_int_equal(count_rows(f->s, f->coll, 0), 11);
    cairn_store_close(f->s);
    f->s = NULL;

    /* A store written by a newer cairn is refused, not damaged. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version=999",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct cairn_store *s = NULL;
    char url[160];
    snprintf(url, sizeof url, "sqlite:%s", dbpath);
    assert_int_equal(cairn_store_open(url, NULL, &s), CAIRN_EUNSUPPORTED);
    assert_null(s);

    /* Not a database at all; a plain path means SQLite too. */
    remove_db();
    FILE *fp = fopen(dbpath, "w");
    assert_non_null(fp);
    for (int i = 0; i < 64; i++)
        fputs("this is not a database\n", fp);
    fclose(fp);
    assert_int_equal(cairn_store_open(dbpath, NULL, &s), CAIRN_EIO);
    assert_null(s);
    assert_int_equal(cairn_store_open("postgres:x", NULL, &s), CAIRN_EINVAL);

    /* An empty file (as `touch` leaves it) is migrated to a new store. */
    remove_db();
    fp = fopen(dbpath, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(cairn_store_open(dbpath, NULL, &s), 0);
    assert_int_equal(cairn_store_schema_version(s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    struct cairn_store_api_root root = {"r", "R", NULL, 0};
    assert_int_equal(cairn_store_api_root_put(s, &root), 0);
    cairn_store_close(s);
}

/* Whether the SQLite file at dbpath has an index of that name. */
static bool has_index(const char *name)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT 1 FROM sqlite_master WHERE"
                                        " type = 'index' AND name = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

/* A store of schema 1 with a status in progress is migrated to 2. */
static void test_migrate_status_items(void **state)
{
    struct fx *f = *state;
    char sid[CAIRN_UUID_STRLEN];
    struct cairn_store_result pend[2];
    memset(pend, 0, sizeof pend);
    json_t *objs[2];
    struct cairn_store_object_in in[2];
    for (int i = 0; i < 2; i++) {
        objs[i] = indicator((unsigned long)i, 1);
        in[i] = (struct cairn_store_object_in){objs[i], NULL, 0};
        make_id(pend[i].id, sizeof pend[i].id, (unsigned long)i);
        snprintf(pend[i].version, sizeof pend[i].version,
                 "2024-01-01T00:00:01.000Z");
    }
    assert_int_equal(cairn_store_status_new(f->s, f->coll, NULL, 2, sid), 0);
    assert_int_equal(cairn_store_status_add_pending(f->s, sid, pend, 2), 0);
    cairn_store_close(f->s);
    f->s = NULL;
    /* Turn the file back into what migration 1 alone leaves. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP INDEX status_items_status;"
                                  "DROP INDEX status_items_pending;"
                                  "CREATE INDEX status_items_key"
                                  " ON status_items(status, obj_id, version);"
                                  "ALTER TABLE users DROP COLUMN identity;"
                                  "ALTER TABLE users DROP COLUMN member;"
                                  "ALTER TABLE collections"
                                  " DROP COLUMN default_tlp;"
                                  "ALTER TABLE users DROP COLUMN admin;"
                                  "DROP TABLE sightings;"
                                  "ALTER TABLE users DROP COLUMN identities;"
                                  "UPDATE schema_version SET version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_true(has_index("status_items_key"));

    f->s = open_store();
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    /* Migrated through 2 (and every later migration). */
    assert_true(v >= 2);
    assert_int_equal(v, cairn_store_schema_latest());
    assert_false(has_index("status_items_key"));
    assert_true(has_index("status_items_pending"));
    /* The pending items named before the migration still turn into
     * successes. */
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 2, sid, NULL),
                     0);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->n_successes, 2);
    assert_int_equal(st->n_pendings, 0);
    assert_string_equal(st->successes[1].id, pend[1].id);
    cairn_store_status_free(st);
    for (int i = 0; i < 2; i++)
        json_decref(objs[i]);
}

/* Every object id below `n` found once among all stored versions. */
static void check_all_present(struct cairn_store *s, const char *coll,
                              unsigned long n)
{
    unsigned char *seen = calloc(n + 1, 1);
    assert_non_null(seen);
    struct cairn_store_query q = {.collection = coll,
                                  .versions = CAIRN_STORE_VERSION_ALL};
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    unsigned long found = 0;
    for (;;) {
        q.next = next[0] ? next : NULL;
        struct cairn_store_page *p = query(s, &q);
        for (size_t i = 0; i < p->n; i++) {
            unsigned long k = strtoul(p->rows[i].id + 35, NULL, 16);
            if (k < n && !seen[k]) {
                seen[k] = 1;
                found++;
            }
        }
        bool more = p->more;
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
    }
    free(seen);
    assert_int_equal(found, n);
}

/* ---- concurrency ----------------------------------------------------------
 */

enum { WRITERS = 4, READERS = 4, BATCHES = 40, PER_BATCH = 25 };
#define CONC_TOTAL (WRITERS * BATCHES * PER_BATCH)

struct conc {
    const char *coll;
    int writers_left; /* under lock */
    pthread_mutex_t lock;
    int errors; /* under lock */
    size_t seen_by[READERS];
};

struct conc_arg {
    struct conc *c;
    int index;
};

static void conc_error(struct conc *c)
{
    pthread_mutex_lock(&c->lock);
    c->errors++;
    pthread_mutex_unlock(&c->lock);
}

static void *writer(void *p)
{
    struct conc_arg *a = p;
    struct cairn_store *s = NULL;
    if (cairn_store_open(store_url(), NULL, &s) < 0) {
        conc_error(a->c);
        s = NULL;
    }
    for (int b = 0; s != NULL && b < BATCHES; b++) {
        struct cairn_store_object_in in[PER_BATCH];
        struct cairn_store_result res[PER_BATCH];
        for (int i = 0; i < PER_BATCH; i++) {
            unsigned long k = (unsigned long)(a->index * BATCHES * PER_BATCH +
                                              b * PER_BATCH + i);
            in[i] = (struct cairn_store_object_in){indicator(k, 1), NULL, 0};
        }
        if (cairn_store_put_objects(s, a->c->coll, in, PER_BATCH, NULL, res) <
            0)
            conc_error(a->c);
        for (int i = 0; i < PER_BATCH; i++) {
            if (res[i].outcome != CAIRN_STORE_STORED)
                conc_error(a->c);
            json_decref((json_t *)in[i].obj);
        }
    }
    cairn_store_close(s);
    pthread_mutex_lock(&a->c->lock);
    a->c->writers_left--;
    pthread_mutex_unlock(&a->c->lock);
    return NULL;
}

/* Page with added_after while writers write: never a gap, never twice. */
static void *reader(void *p)
{
    struct conc_arg *a = p;
    struct conc *c = a->c;
    struct cairn_store *s = NULL;
    unsigned char *seen = calloc(CONC_TOTAL, 1);
    if (seen == NULL || cairn_store_open(store_url(), NULL, &s) < 0) {
        conc_error(c);
        free(seen);
        return NULL;
    }
    struct cairn_time after = {0, 0, 6};
    bool have_after = false;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        bool done = c->writers_left == 0;
        pthread_mutex_unlock(&c->lock);
        struct cairn_store_query q = {.collection = c->coll,
                                      .added_after = have_after ? &after : NULL,
                                      .limit = 97};
        struct cairn_store_page *pg = NULL;
        if (cairn_store_query(s, &q, &pg) < 0) {
            conc_error(c);
            break;
        }
        for (size_t i = 0; i < pg->n; i++) {
            unsigned long k = strtoul(pg->rows[i].id + 35, NULL, 16);
            if (k >= CONC_TOTAL || seen[k]++)
                conc_error(c);
            else
                c->seen_by[a->index]++;
        }
        if (pg->n > 0) {
            after = pg->added_last;
            have_after = true;
        }
        bool more = pg->more;
        cairn_store_page_free(pg);
        /* Stop only after a full pass that began once writers were done. */
        if (done && !more)
            break;
    }
    cairn_store_close(s);
    free(seen);
    return NULL;
}

static void test_concurrent(void **state)
{
    struct fx *f = *state;
    struct conc c = {.coll = f->coll, .writers_left = WRITERS};
    pthread_mutex_init(&c.lock, NULL);
    pthread_t w[WRITERS], r[READERS];
    struct conc_arg wa[WRITERS], ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (struct conc_arg){&c, i};
        assert_int_equal(pthread_create(&r[i], NULL, reader, &ra[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (struct conc_arg){&c, i};
        assert_int_equal(pthread_create(&w[i], NULL, writer, &wa[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    pthread_mutex_destroy(&c.lock);
    assert_int_equal(c.errors, 0);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(c.seen_by[i], CONC_TOTAL);
}

/*
 * Page through the whole collection: date_added strictly increasing, no
 * id twice. Sets seen[k] for object number k (< n); returns the rows.
 */
static size_t page_once(struct cairn_store *s, const char *coll,
                        unsigned char *seen, unsigned long n)
{
    size_t rows = 0;
    char next[CAIRN_STORE_CURSOR_LEN] = "";
    struct cairn_time last = {0, 0, 6};
    for (;;) {
        struct cairn_store_query q = {
            .collection = coll, .limit = 1000, .next = next[0] ? next : NULL};
        struct cairn_store_page *p = query(s, &q);
        for (size_t i = 0; i < p->n; i++) {
            unsigned long k = strtoul(p->rows[i].id + 35, NULL, 16);
            assert_true(k < n);
            assert_false(seen[k]);
            seen[k] = 1;
            assert_true(cairn_time_cmp(&last, &p->rows[i].date_added) < 0);
            last = p->rows[i].date_added;
        }
        rows += p->n;
        bool more = p->more;
        memcpy(next, p->next, sizeof next);
        cairn_store_page_free(p);
        if (!more)
            break;
    }
    return rows;
}

/*
 * Group commit: puts from many handles at once are written together, yet
 * each still stands alone. A put into a missing collection, or recording
 * into a status without room for it, fails by itself; the others in the
 * same group are stored, in full.
 */
enum { GROUP_THREADS = 8, GROUP_ROUNDS = 20, GROUP_PER = 10 };

struct group {
    const char *coll;
    char status[CAIRN_UUID_STRLEN]; /* room for one put only */
    pthread_barrier_t start;
    int rc[GROUP_THREADS][GROUP_ROUNDS];
    int stored[GROUP_THREADS][GROUP_ROUNDS];
};

struct group_arg {
    struct group *g;
    int index;
};

static void *group_writer(void *p)
{
    struct group_arg *a = p;
    struct group *g = a->g;
    struct cairn_store *s = NULL;
    int open_rc = cairn_store_open(store_url(), NULL, &s);
    for (int round = 0; round < GROUP_ROUNDS; round++) {
        struct cairn_store_object_in in[GROUP_PER];
        struct cairn_store_result res[GROUP_PER];
        for (int i = 0; i < GROUP_PER; i++) {
            unsigned long k =
                (unsigned long)((round * GROUP_THREADS + a->index) * GROUP_PER +
                                i);
            in[i] = (struct cairn_store_object_in){indicator(k, 1), NULL, 0};
        }
        /* Thread 0 writes to no collection; thread 1 into the status,
         * which has room for its first round only. */
        const char *coll =
            a->index == 0 ? "6e4e6c5b-0000-4000-8000-000000000000" : g->coll;
        const char *status = a->index == 1 ? g->status : NULL;
        pthread_barrier_wait(&g->start);
        g->rc[a->index][round] =
            open_rc < 0
                ? open_rc
                : cairn_store_put_objects(s, coll, in, GROUP_PER, status, res);
        for (int i = 0; i < GROUP_PER; i++) {
            if (g->rc[a->index][round] == 0 &&
                res[i].outcome == CAIRN_STORE_STORED)
                g->stored[a->index][round]++;
            json_decref((json_t *)in[i].obj);
        }
    }
    cairn_store_close(s);
    return NULL;
}

static void test_group_commit(void **state)
{
    struct fx *f = *state;
    struct group *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->coll = f->coll;
    assert_int_equal(
        cairn_store_status_new(f->s, f->coll, NULL, GROUP_PER, g->status), 0);
    pthread_barrier_init(&g->start, NULL, GROUP_THREADS);
    pthread_t t[GROUP_THREADS];
    struct group_arg args[GROUP_THREADS];
    for (int i = 0; i < GROUP_THREADS; i++) {
        args[i] = (struct group_arg){g, i};
        assert_int_equal(pthread_create(&t[i], NULL, group_writer, &args[i]),
                         0);
    }
    for (int i = 0; i < GROUP_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&g->start);

    size_t want = 0;
    for (int round = 0; round < GROUP_ROUNDS; round++) {
        assert_int_equal(g->rc[0][round], CAIRN_ENOTFOUND);
        assert_int_equal(g->rc[1][round], round == 0 ? 0 : CAIRN_EINVAL);
        for (int i = 2; i < GROUP_THREADS; i++) {
            assert_int_equal(g->rc[i][round], 0);
            assert_int_equal(g->stored[i][round], GROUP_PER);
        }
        want += (size_t)g->stored[1][round];
        for (int i = 2; i < GROUP_THREADS; i++)
            want += GROUP_PER;
    }
    assert_int_equal(g->stored[1][0], GROUP_PER);

    /* Exactly the puts that succeeded are there, each object once, in
     * strictly increasing date_added. */
    unsigned long n = GROUP_ROUNDS * GROUP_THREADS * GROUP_PER;
    unsigned char *ids = calloc(n, 1);
    assert_non_null(ids);
    size_t seen = page_once(f->s, f->coll, ids, n);
    for (unsigned long k = 0; k < n; k++) {
        int thread = (int)(k / GROUP_PER % GROUP_THREADS);
        int round = (int)(k / GROUP_PER / GROUP_THREADS);
        assert_int_equal(ids[k], thread >= 2 || (thread == 1 && round == 0));
    }
    free(ids);
    assert_int_equal(seen, want);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, g->status, &st), 0);
    assert_int_equal(st->success, GROUP_PER);
    assert_true(st->complete);
    cairn_store_status_free(st);
    free(g);
}

/*
 * Another process writes (cairn import beside cairn serve) while this one
 * commits in groups: the in-process writer lock leaves the other process
 * to SQLite's busy handler, and nothing is lost, doubled or out of order.
 */
enum { TWO_CHILD_BATCHES = 40, TWO_PER = 50, TWO_THREADS = 4 };
#define TWO_TOTAL                                                              \
    ((TWO_CHILD_BATCHES + TWO_THREADS * TWO_CHILD_BATCHES) * TWO_PER)

struct two_arg {
    const char *coll;
    unsigned long first; /* object numbers first.. */
    int rc;
};

/* TWO_CHILD_BATCHES puts of TWO_PER objects from `first` on; 0 or error. */
static int put_batches(const char *coll, unsigned long first)
{
    struct cairn_store *s = NULL;
    /* Four writers on a loaded machine (and under the sanitizers) may wait
     * their turn for longer than the default busy timeout. */
    struct cairn_store_opts o = {.busy_timeout_ms = 120000};
    int rc = cairn_store_open(store_url(), &o, &s);
    for (int b = 0; rc == 0 && b < TWO_CHILD_BATCHES; b++) {
        struct cairn_store_object_in in[TWO_PER];
        for (int i = 0; i < TWO_PER; i++)
            in[i] = (struct cairn_store_object_in){
                indicator(first + (unsigned long)(b * TWO_PER + i), 1), NULL,
                0};
        rc = cairn_store_put_objects(s, coll, in, TWO_PER, NULL, NULL);
        for (int i = 0; i < TWO_PER; i++)
            json_decref((json_t *)in[i].obj);
    }
    cairn_store_close(s);
    return rc;
}

static void *two_writer(void *p)
{
    struct two_arg *a = p;
    a->rc = put_batches(a->coll, a->first);
    return NULL;
}

static void test_two_processes(void **state)
{
    struct fx *f = *state;
    unsigned long per_writer = TWO_CHILD_BATCHES * TWO_PER;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(put_batches(f->coll, 0) == 0 ? 0 : 3);
    pthread_t t[TWO_THREADS];
    struct two_arg args[TWO_THREADS];
    for (int i = 0; i < TWO_THREADS; i++) {
        args[i] =
            (struct two_arg){f->coll, (unsigned long)(i + 1) * per_writer, -1};
        assert_int_equal(pthread_create(&t[i], NULL, two_writer, &args[i]), 0);
    }
    /* Every thread is joined before any check can leave the test. */
    for (int i = 0; i < TWO_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < TWO_THREADS; i++)
        assert_int_equal(args[i].rc, 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    unsigned char *seen = calloc(TWO_TOTAL, 1);
    assert_non_null(seen);
    assert_int_equal(page_once(f->s, f->coll, seen, TWO_TOTAL), TWO_TOTAL);
    free(seen);
}

/*
 * A writer that holds the database (here another connection, as another
 * process would) makes every put of this process give up with CAIRN_EBUSY
 * after the busy timeout, the leader of a group and those queued behind
 * it alike; none hangs, and the store works again once it lets go.
 */
enum { BUSY_THREADS = 4 };

struct busy_arg {
    const char *coll;
    int index;
    int rc;
};

static void *busy_writer(void *p)
{
    struct busy_arg *a = p;
    struct cairn_store_opts o = {.busy_timeout_ms = 300};
    struct cairn_store *s = NULL;
    a->rc = cairn_store_open(store_url(), &o, &s);
    json_t *obj = indicator(9000 + (unsigned long)a->index, 1);
    struct cairn_store_object_in in = {obj, NULL, 0};
    if (a->rc == 0)
        a->rc = cairn_store_put_objects(s, a->coll, &in, 1, NULL, NULL);
    json_decref(obj);
    cairn_store_close(s);
    return NULL;
}

static void test_busy_gives_up(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);
    pthread_t t[BUSY_THREADS];
    struct busy_arg args[BUSY_THREADS];
    for (int i = 0; i < BUSY_THREADS; i++) {
        args[i] = (struct busy_arg){f->coll, i, 1};
        assert_int_equal(pthread_create(&t[i], NULL, busy_writer, &args[i]), 0);
    }
    for (int i = 0; i < BUSY_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].rc, CAIRN_EBUSY);
    }
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    put_range(f->s, f->coll, 1, 3, 1);
    struct cairn_store_query q = {.collection = f->coll};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 3);
    cairn_store_page_free(p);
}

/* ---- crash safety -----------------------------------------------------------
 */

/* The child: write batches, report each acknowledged count, forever. */
static void crash_child(const char *coll, unsigned long start, int fd)
{
    struct cairn_store *s = NULL;
    if (cairn_store_open(store_url(), NULL, &s) < 0)
        _exit(3);
    for (unsigned long i = start;; i += 50) {
        struct cairn_store_object_in in[50];
        for (int k = 0; k < 50; k++)
            in[k] =
                (struct cairn_store_object_in){indicator(i + k, 1), NULL, 0};
        if (cairn_store_put_objects(s, coll, in, 50, NULL, NULL) < 0)
            _exit(3);
        uint64_t acked = i + 50;
        if (write(fd, &acked, sizeof acked) != sizeof acked)
            _exit(3);
        for (int k = 0; k < 50; k++)
            json_decref((json_t *)in[k].obj);
    }
}

static void test_kill9(void **state)
{
    struct fx *f = *state;
    cairn_store_close(f->s);
    f->s = NULL;
    srand(20201213);
    unsigned long acked_total = 0;
    for (int round = 0; round < 20; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(f->coll, acked_total, fds[1]);
        }
        close(fds[1]);
        /* Kill after progress, not after a fixed time (a loaded machine
         * may not have committed anything yet): the child's first
         * acknowledged batch, then up to 50 ms more, so kills land in
         * every phase of the next one. */
        uint64_t v, acked = acked_total;
        if (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            acked = v;
        usleep((useconds_t)(rand() % 50000));
        kill(pid, SIGKILL);
        while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v)
            acked = v;
        close(fds[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status)); /* not an error exit */
        f->s = open_store();
        check_all_present(f->s, f->coll, (unsigned long)acked);
        cairn_store_close(f->s);
        f->s = NULL;
        acked_total = (unsigned long)acked;
    }
    /* The kills must have come while writing, not only before. */
    assert_true(acked_total > 0);
    f->s = open_store();
}

/*
 * Sharing attributes: none for a new user or collection; set, read back,
 * gone with the user; bad values refused.
 */
static void test_sharing(void **state)
{
    struct fx *f = *state;
    struct cairn_store_user_share sh;
    int tlp = -1;
    assert_int_equal(cairn_store_user_add(f->s, "hub", "pw"), 0);
    assert_int_equal(cairn_store_user_share_get(f->s, "hub", &sh), 0);
    assert_string_equal(sh.identity, "");
    assert_false(sh.member);
    assert_int_equal(cairn_store_user_share_get(f->s, "nobody", &sh),
                     CAIRN_ENOTFOUND);

    struct cairn_store_user_share in = {.member = true};
    snprintf(in.identity, sizeof in.identity,
             "identity--0b7c1c8e-0b7a-4c4e-9a54-2d8e1c3a4f10");
    assert_int_equal(cairn_store_user_share_set(f->s, "hub", &in), 0);
    assert_int_equal(cairn_store_user_share_get(f->s, "hub", &sh), 0);
    assert_string_equal(sh.identity, in.identity);
    assert_true(sh.member);
    assert_int_equal(cairn_store_user_share_set(f->s, "nobody", &in),
                     CAIRN_ENOTFOUND);
    /* Clearing the identity and the flag. */
    struct cairn_store_user_share none = {0};
    assert_int_equal(cairn_store_user_share_set(f->s, "hub", &none), 0);
    assert_int_equal(cairn_store_user_share_get(f->s, "hub", &sh), 0);
    assert_string_equal(sh.identity, "");
    assert_false(sh.member);
    struct cairn_store_user_share bad = {0};
    snprintf(bad.identity, sizeof bad.identity, "identity--a\nb");
    assert_int_equal(cairn_store_user_share_set(f->s, "hub", &bad),
                     CAIRN_EINVAL);
    memset(bad.identity, 'x', sizeof bad.identity); /* not terminated */
    assert_int_equal(cairn_store_user_share_set(f->s, "hub", &bad),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_user_share_set(f->s, "hub", &in), 0);
    assert_int_equal(cairn_store_user_remove(f->s, "hub"), 0);
    assert_int_equal(cairn_store_user_add(f->s, "hub", "pw"), 0);
    assert_int_equal(cairn_store_user_share_get(f->s, "hub", &sh), 0);
    assert_string_equal(sh.identity, "");

    assert_int_equal(cairn_store_collection_tlp_get(f->s, f->coll, &tlp), 0);
    assert_int_equal(tlp, 0);
    assert_int_equal(cairn_store_collection_tlp_set(f->s, f->coll, 3), 0);
    assert_int_equal(cairn_store_collection_tlp_get(f->s, f->coll, &tlp), 0);
    assert_int_equal(tlp, 3);
    assert_int_equal(cairn_store_collection_tlp_set(f->s, f->coll, 6),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_collection_tlp_set(f->s, f->coll, -1),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_collection_tlp_set(
                         f->s, "5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e", 1),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_collection_tlp_get(
                         f->s, "5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e", &tlp),
                     CAIRN_ENOTFOUND);
}

/* A hook that marks indicator 2's versions and lets the others through. */
static int mark_two(const json_t *obj, json_t **replace, char *why,
                    size_t why_len, void *ud)
{
    char id2[80];
    (void)ud;
    *replace = NULL;
    make_id(id2, sizeof id2, 2);
    if (strcmp(json_string_value(json_object_get(obj, "id")), id2) != 0)
        return 0;
    snprintf(why, why_len, "signature unsigned: not signed");
    return 2;
}

/* Marks beside object versions: put, replace, get, by ingest, cascade. */
static void test_marks(void **state)
{
    struct fx *f = *state;
    char id1[80], id2[80], *m = NULL;
    const char *v0 = "2024-01-01T00:00:00.000Z", *v1 = "2024-01-01T00:00:01.000Z";
    const char *none = "5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e";
    make_id(id1, sizeof id1, 1);
    make_id(id2, sizeof id2, 2);

    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id1, v0, &m),
                     CAIRN_ENOTFOUND);
    assert_null(m);
    assert_int_equal(cairn_store_mark_put(f->s, f->coll, id1, v0, "first"), 0);
    assert_int_equal(cairn_store_mark_put(f->s, f->coll, id1, v0, "second"), 0);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id1, v0, &m), 0);
    assert_string_equal(m, "second");
    cairn_free(m);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id1, v1, &m),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_mark_put(f->s, none, id1, v0, "x"),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_mark_get(f->s, none, id1, v0, &m),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_mark_put(f->s, f->coll, "", v0, "x"),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_mark_put(f->s, f->coll, id1, "a b", "x"),
                     CAIRN_EINVAL);

    /* An ingest hook's 2 stores the object as it is, marked. */
    struct cairn_ingest *in = NULL;
    struct cairn_ingest_opts io = {.collection = f->coll, .hook = mark_two};
    assert_int_equal(cairn_ingest_new(f->s, &io, &in), 0);
    for (unsigned long n = 2; n <= 3; n++) {
        json_t *o = indicator(n, 1);
        assert_int_equal(cairn_ingest_add(in, o, NULL, 0, NULL, 0), 0);
        json_decref(o);
    }
    assert_int_equal(cairn_ingest_flush(in), 0);
    struct cairn_ingest_counts c;
    cairn_ingest_counts(in, &c);
    cairn_ingest_free(in);
    assert_int_equal(c.stored, 2);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id2, v1, &m), 0);
    assert_string_equal(m, "signature unsigned: not signed");
    cairn_free(m);
    char id3[80];
    make_id(id3, sizeof id3, 3);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id3, v1, &m),
                     CAIRN_ENOTFOUND);
    struct cairn_store_query q = {.collection = f->coll, .with_json = true,
                                  .limit = 10};
    struct cairn_store_page *page = NULL;
    assert_int_equal(cairn_store_query(f->s, &q, &page), 0);
    assert_int_equal(page->n, 2);
    for (size_t i = 0; i < page->n; i++)
        assert_null(strstr(page->rows[i].json, "signature"));
    cairn_store_page_free(page);

    /* The collection's marks go with it. */
    assert_int_equal(cairn_store_collection_delete(f->s, f->coll), 0);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id2, v1, &m),
                     CAIRN_ENOTFOUND);
}

/* What a mark listing gave: "COLL|ID|VERSION|MARK" lines. */
struct mark_seen {
    char text[2048];
    size_t n, stop_after;
};

static int see_mark(void *ud, const char *collection,
                    const struct cairn_store_mark *m)
{
    struct mark_seen *ms = ud;
    size_t len = strlen(ms->text);
    snprintf(ms->text + len, sizeof ms->text - len, "%.8s|%s|%s|%s\n",
             collection, m->id, m->version, m->mark);
    ms->n++;
    return ms->stop_after != 0 && ms->n >= ms->stop_after ? 1 : 0;
}

/*
 * A page's marks in one write: a version twice keeps its last mark, any
 * text survives, a bad entry or a missing collection writes none; and
 * the listing, per collection or all, in key order.
 */
static void test_marks_batch(void **state)
{
    struct fx *f = *state;
    char id1[80], id2[80], other[CAIRN_UUID_STRLEN], *m = NULL;
    const char *v0 = "2024-01-01T00:00:00.000Z";
    const char *odd = "signature bad: \"quoted\", back\\slash,\nnew line, "
                      "\xc3\xa9t\xc3\xa9 {[ ]}";
    make_id(id1, sizeof id1, 1);
    make_id(id2, sizeof id2, 2);
    struct cairn_store_collection c = {.api_root = "api1", .title = "other"};
    assert_int_equal(cairn_store_collection_create(f->s, &c, other), 0);

    const struct cairn_store_mark page[] = {
        {id2, v0, "first of two"},
        {id1, v0, odd},
        {id2, v0, "second of two"},
    };
    assert_int_equal(cairn_store_mark_put_many(f->s, f->coll, page, 3), 0);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id2, v0, &m), 0);
    assert_string_equal(m, "second of two");
    cairn_free(m);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id1, v0, &m), 0);
    assert_string_equal(m, odd);
    cairn_free(m);
    assert_int_equal(cairn_store_mark_put_many(f->s, f->coll, NULL, 0), 0);

    /* Nothing of a batch with a bad entry, or for no collection. */
    const struct cairn_store_mark bad[] = {
        {id1, v0, "replaced?"},
        {"", v0, "no id"},
    };
    assert_int_equal(cairn_store_mark_put_many(f->s, f->coll, bad, 2),
                     CAIRN_EINVAL);
    assert_int_equal(cairn_store_mark_put_many(
                         f->s, "5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e", page, 3),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_store_mark_get(f->s, f->coll, id1, v0, &m), 0);
    assert_string_equal(m, odd);
    cairn_free(m);
    assert_int_equal(cairn_store_mark_put(f->s, other, id1, v0, "elsewhere"),
                     0);

    /* The listing: one collection, then all, by collection and key. */
    struct mark_seen seen = {{0}, 0, 0};
    char want[2048];
    assert_int_equal(cairn_store_mark_list(f->s, f->coll, see_mark, &seen), 0);
    snprintf(want, sizeof want, "%.8s|%s|%s|%s\n%.8s|%s|%s|%s\n", f->coll, id1,
             v0, odd, f->coll, id2, v0, "second of two");
    assert_string_equal(seen.text, want);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(cairn_store_mark_list(f->s, NULL, see_mark, &seen), 0);
    assert_int_equal(seen.n, 3);
    assert_non_null(strstr(seen.text, "|elsewhere\n"));
    const char *e = strstr(seen.text, "elsewhere"),
               *q = strstr(seen.text, "quoted");
    assert_true(strcmp(f->coll, other) < 0 ? e > q : e < q);
    memset(&seen, 0, sizeof seen);
    seen.stop_after = 1;
    assert_int_equal(cairn_store_mark_list(f->s, NULL, see_mark, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(
        cairn_store_mark_list(f->s, "5a0ee4a5-8c6b-4e8f-9d2e-3c1f0a9b8d7e",
                              see_mark, &seen),
        CAIRN_ENOTFOUND);
}

/* A schema 2 store gets the sharing columns, with nothing shared yet. */
static void test_migrate_sharing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cairn_store_user_add(f->s, "old", "pw"), 0);
    reopen_after_sql(f, "ALTER TABLE users DROP COLUMN identity;"
                        "ALTER TABLE users DROP COLUMN member;"
                        "ALTER TABLE collections"
                        " DROP COLUMN default_tlp;"
                        "ALTER TABLE users DROP COLUMN admin;"
                        "DROP TABLE sightings;"
                        "ALTER TABLE users DROP COLUMN identities;"
                        "UPDATE schema_version SET version = 2");
    int v = 0, tlp = -1;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    struct cairn_store_user_share sh;
    assert_int_equal(cairn_store_user_share_get(f->s, "old", &sh), 0);
    assert_string_equal(sh.identity, "");
    assert_false(sh.member);
    assert_int_equal(cairn_store_collection_tlp_get(f->s, f->coll, &tlp), 0);
    assert_int_equal(tlp, 0);
    sh.member = true;
    assert_int_equal(cairn_store_user_share_set(f->s, "old", &sh), 0);
    assert_int_equal(cairn_store_user_verify(f->s, "old", "pw"), 0);
    /* Migration 6: users of an older store are no console admins. */
    bool admin = true;
    assert_int_equal(cairn_store_user_admin_get(f->s, "old", &admin), 0);
    assert_false(admin);
    assert_int_equal(cairn_store_user_admin_set(f->s, "old", true), 0);
    assert_int_equal(cairn_store_user_admin_get(f->s, "old", &admin), 0);
    assert_true(admin);
}

/*
 * A schema 6 store: migration 7 summarises the sightings it holds,
 * rebuilds the correlation index with the keys of the domains names lie
 * under, and entitles nobody to the identities.
 */
static void test_migrate_summaries(void **state)
{
    struct fx *f = *state;
    put_sighting(f->s, f->coll, 1);
    put_text(f->s, f->coll,
             "{\"type\":\"domain-name\",\"spec_version\":\"2.1\",\"id\":"
             "\"domain-name--00000000-0000-4000-8000-000000000001\","
             "\"value\":\"a.b.example.com\"}");
    assert_int_equal(cairn_store_user_add(f->s, "old", "pw"), 0);
    reopen_after_sql(f, "DROP TABLE sightings;"
                        "ALTER TABLE users DROP COLUMN identities;"
                        "DELETE FROM obj_keys;"
                        "UPDATE schema_version SET version = 6");
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    struct sg_seen x = scan_sg(f->s, NULL, false);
    assert_int_equal(x.n, 1);
    char id1[80];
    make_id(id1, sizeof id1, 1);
    assert_string_equal(x.v[0].of, id1);
    assert_int_equal(find(f->s, under_key("example.com"), NULL).n, 1);
    assert_int_equal(find(f->s, cairn_value_ref_key(id1, strlen(id1)), NULL).n,
                     1);
    bool on = true;
    assert_int_equal(cairn_store_user_identities_get(f->s, "old", &on), 0);
    assert_false(on);
}

/*
 * A schema 10 store: migration 11 keys the summaries by the object
 * sighted, the newest version of each sighting current and the others
 * old, whatever order they were stored in.
 */
static void test_migrate_sightings_by_object(void **state)
{
    struct fx *f = *state;
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-02T00:00:00Z\",\"sighting_of_ref\":\"" IND2
             "\",\"count\":4}");
    put_text(f->s, f->coll,
             "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" SG_A
             "\",\"created\":\"2026-01-01T00:00:00Z\",\"modified\":"
             "\"2026-01-01T00:00:00Z\",\"sighting_of_ref\":\"" IND1
             "\",\"count\":2}");
    reopen_after_sql(f, "DROP TABLE sightings;"
                        "CREATE TABLE sightings(x);"
                        "UPDATE schema_version SET version = 10");
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    struct sg_seen x = scan_sg(f->s, NULL, false);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.v[0].of, IND2);
    assert_int_equal(x.v[0].count, 4);
    assert_int_equal(scan_sg(f->s, IND1, false).n, 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sightings"
                                        " WHERE old = 1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    /* A damaged summary (a varint running past its blob, an empty blob)
     * is left out, never read past its end. */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE sightings SET s = x'06ff'"
                                  " WHERE old = 0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(scan_sg(f->s, NULL, false).n, 0);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE sightings SET s = x'' WHERE old = 0",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(scan_sg(f->s, NULL, false).n, 0);
}

/*
 * Ids whose 64-bit hashes collide are told apart by a salt. With colliding
 * rows at salts 0 and 2 (1 deleted), a new one takes a free salt rather
 * than retrying a taken one for ever.
 */
static void test_salt_gap(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 1, 1, 1);
    /* Object 1's row becomes two other ids with its hash and version. */
    reopen_after_sql(f, "INSERT INTO objects(coll, date_added, idh, id, type,"
                        " spec_version, vsec, vns, salt, created, modified, json)"
                        " SELECT coll, date_added + 1, idh, 'indicator--other-2',"
                        " type, spec_version, vsec, vns, 2, created, modified,"
                        " json FROM objects;"
                        "INSERT INTO versions(coll, idh, vsec, vns, salt, rid)"
                        " SELECT coll, idh, vsec, vns, salt, rid FROM objects"
                        " WHERE salt = 2;"
                        "UPDATE objects SET id = 'indicator--other-0'"
                        " WHERE salt = 0;"
                        "UPDATE collections SET last_added = last_added + 1");
    put_range(f->s, f->coll, 1, 1, 1); /* STORED, or the test hangs */
    json_t *again = indicator(1, 1);
    struct cairn_store_object_in in = {again, NULL, 0};
    struct cairn_store_result r;
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, &in, 1, NULL, &r),
                     0);
    assert_int_equal(r.outcome, CAIRN_STORE_EXISTED);
    json_decref(again);
    struct cairn_store_query q = {.collection = f->coll,
                                  .versions = CAIRN_STORE_VERSION_ALL};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 3);
    cairn_store_page_free(p);
}

/* The number of rows of SQLite `table`, read beside the store. */
static long long sqlite_rows(const char *table)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/*
 * Migration 12: a store whose versions are the (coll, idh, vsec, vns,
 * salt) index on objects gets them in `versions`: the same versions are
 * found by id, first and last, a stored version is known again, and a
 * deleted object's row goes with it, by itself or with its collection.
 */
static void test_migrate_versions(void **state)
{
    struct fx *f = *state;
    put_versions(f);
    put_range(f->s, f->coll, 3, 5, 1);
    reopen_after_sql(f, "DROP TRIGGER objects_versions;"
                        "DROP TABLE versions;"
                        "CREATE UNIQUE INDEX objects_version"
                        " ON objects(coll, idh, vsec, vns, salt);"
                        "UPDATE schema_version SET version = 11");
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    assert_false(has_index("objects_version"));
    assert_int_equal(sqlite_rows("versions"), 9);
    char id1[80];
    make_id(id1, sizeof id1, 1);
    const char *ids[] = {id1};
    struct cairn_store_query q = {.collection = f->coll,
                                  .ids = ids,
                                  .n_ids = 1,
                                  .versions = CAIRN_STORE_VERSION_ALL};
    struct cairn_store_page *p = query(f->s, &q);
    assert_int_equal(p->n, 3);
    cairn_store_page_free(p);
    q.versions = CAIRN_STORE_VERSION_FIRST | CAIRN_STORE_VERSION_LAST;
    p = query(f->s, &q);
    assert_int_equal(p->n, 2);
    assert_string_equal(p->rows[0].modified, "2024-01-01T00:00:01.000Z");
    assert_string_equal(p->rows[1].modified, "2024-01-01T00:00:03.000Z");
    cairn_store_page_free(p);
    assert_int_equal(count_rows(f->s, f->coll, 0), 7);
    /* Version 2 of object 1 is known; version 4 is new. */
    json_t *objs[2] = {indicator(1, 2), indicator(1, 4)};
    struct cairn_store_object_in in[2] = {{.obj = objs[0]}, {.obj = objs[1]}};
    struct cairn_store_result res[2];
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 2, NULL, res),
                     0);
    assert_int_equal(res[0].outcome, CAIRN_STORE_EXISTED);
    assert_int_equal(res[1].outcome, CAIRN_STORE_STORED);
    json_decref(objs[0]);
    json_decref(objs[1]);
    assert_int_equal(sqlite_rows("versions"), 10);
    /* Deleted objects take their versions with them. */
    size_t n = 0;
    q.versions = CAIRN_STORE_VERSION_FIRST;
    assert_int_equal(cairn_store_delete(f->s, &q, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sqlite_rows("versions"), 9);
    json_t *first = indicator(1, 1);
    in[0].obj = first;
    assert_int_equal(cairn_store_put_objects(f->s, f->coll, in, 1, NULL, res),
                     0);
    assert_int_equal(res[0].outcome, CAIRN_STORE_STORED);
    json_decref(first);
    assert_int_equal(cairn_store_collection_delete(f->s, f->coll), 0);
    assert_int_equal(sqlite_rows("objects"), 0);
    assert_int_equal(sqlite_rows("versions"), 0);
}

/*
 * Migration 4: roots that earlier versions created with 100 MiB, the
 * server's default, follow the server's limit; a limit set on purpose
 * stays.
 */
static void test_migrate_root_limit(void **state)
{
    struct fx *f = *state;
    struct cairn_store_api_root small = {"small", "Small", NULL, 65536};
    assert_int_equal(cairn_store_api_root_put(f->s, &small), 0);
    reopen_after_sql(f, "UPDATE api_roots SET max_content_length = 104857600"
                        " WHERE name = 'api1';"
                        "ALTER TABLE users DROP COLUMN admin;"
                        "DROP TABLE sightings;"
                        "ALTER TABLE users DROP COLUMN identities;"
                        "UPDATE schema_version SET version = 3");
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, cairn_store_schema_latest());
    struct cairn_store_api_root *r = NULL;
    assert_int_equal(cairn_store_api_root_get(f->s, "api1", &r), 0);
    assert_int_equal(r->max_content_length, 0);
    cairn_store_api_root_free(r);
    assert_int_equal(cairn_store_api_root_get(f->s, "small", &r), 0);
    assert_int_equal(r->max_content_length, 65536);
    cairn_store_api_root_free(r);
}

/* ---- PostgreSQL only --------------------------------------------------------
 */

/* The schema is PostgreSQL's own; newer ones and bad URLs are refused. */
static void test_pg_reopen(void **state)
{
    struct fx *f = *state;
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, PG_SCHEMA_LATEST);
    put_range(f->s, f->coll, 0, 10, 1);
    cairn_store_close(f->s);
    f->s = open_store();
    assert_int_equal(count_rows(f->s, f->coll, 0), 10);
    cairn_store_close(f->s);
    f->s = NULL;
    pg_exec("UPDATE schema_version SET version = 999");
    struct cairn_store *s = NULL;
    assert_int_equal(cairn_store_open(pg_url, NULL, &s), CAIRN_EUNSUPPORTED);
    assert_null(s);
    char sql[80];
    snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d",
             PG_SCHEMA_LATEST);
    pg_exec(sql);
    assert_int_equal(cairn_store_open("postgresql://x:y@/db?bad_option=1",
                                      NULL, &s),
                     CAIRN_EINVAL);
    assert_int_equal(
        cairn_store_open("postgresql:///cairn?host=/nonexistent-cairn-dir",
                         NULL, &s),
        CAIRN_EIO);
    assert_null(s);
    f->s = open_store();
    char red[200];
    assert_int_equal(cairn_store_url_redact("postgresql://bob:s3cret@db.example"
                                            "/cairn?sslmode=verify-full"
                                            "&password=other",
                                            red, sizeof red),
                     0);
    assert_string_equal(red, "postgresql://bob:***@db.example/cairn?"
                             "sslmode=verify-full&password=***");
}

/*
 * A collection filled in bulk is paged by walking the primary key, not
 * by sorting every row after the cursor (what the planner does while the
 * statistics still say the table is empty): the store renews them itself
 * after large puts rather than leaving it to autovacuum's next round.
 */
static void test_pg_plan_after_bulk(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 0, 3000, 1);
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "EXPLAIN SELECT json FROM objects o"
                            " WHERE coll = (SELECT max(pk) FROM collections)"
                            " AND date_added > 0 ORDER BY date_added"
                            " LIMIT 1001");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    char plan[4096] = "";
    for (int i = 0; i < PQntuples(r); i++) {
        size_t len = strlen(plan);
        snprintf(plan + len, sizeof plan - len, "%s\n", PQgetvalue(r, i, 0));
    }
    PQclear(r);
    if (strstr(plan, "Index Scan using objects_pkey") == NULL ||
        strstr(plan, "Sort") != NULL)
        print_error("the page's plan:\n%s", plan);
    assert_non_null(strstr(plan, "Index Scan using objects_pkey"));
    assert_null(strstr(plan, "Sort"));
    /*
     * cairn's sessions plan their statements once (generic plans): the
     * page's statement as pg_query sends it, with its parameters unknown,
     * must walk the primary key too, whatever the limit and the cursor.
     */
    r = PQexec(c, "SET plan_cache_mode = force_generic_plan");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQprepare(c, "page",
                  "SELECT o.date_added, o.id, o.type, o.spec_version,"
                  " o.created, o.modified, o.json FROM objects o"
                  " WHERE o.coll = (SELECT pk FROM collections WHERE id = $1)"
                  " AND o.date_added > $2::bigint AND ((NOT o.multi OR NOT"
                  " EXISTS (SELECT 1 FROM objects v WHERE v.coll = o.coll"
                  " AND v.idh = o.idh AND v.id = o.id AND (v.vsec, v.vns) >"
                  " (o.vsec, o.vns)))) ORDER BY o.date_added"
                  " LIMIT $3::bigint",
                  3, NULL);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    char sql[200]; /* the id is a UUID */
    snprintf(sql, sizeof sql, "EXPLAIN EXECUTE page('%s', 0, 1001)", f->coll);
    r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    plan[0] = '\0';
    for (int i = 0; i < PQntuples(r); i++) {
        size_t len = strlen(plan);
        snprintf(plan + len, sizeof plan - len, "%s\n", PQgetvalue(r, i, 0));
    }
    PQclear(r);
    PQfinish(c);
    if (strstr(plan, "Index Scan using objects_pkey") == NULL ||
        strstr(plan, "Sort") != NULL || strstr(plan, "$2") == NULL)
        print_error("the page's generic plan:\n%s", plan);
    assert_non_null(strstr(plan, "$2")); /* generic: not planned for 0 */
    assert_non_null(strstr(plan, "Index Scan using objects_pkey"));
    assert_null(strstr(plan, "Sort"));
}

/*
 * A deleted collection's rows go with it (a trigger on collections since
 * migration 9, no foreign key checked per row written), and their
 * sighting summaries with them; another collection keeps its rows.
 */
static void test_pg_collection_rows(void **state)
{
    struct fx *f = *state;
    struct cairn_store_collection c = {.api_root = "api1", .title = "other"};
    char other[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_collection_create(f->s, &c, other), 0);
    put_range(f->s, f->coll, 0, 20, 1);
    put_sighting(f->s, f->coll, 1);
    put_range(f->s, other, 0, 5, 1);
    assert_int_equal(pg_int("SELECT count(*) FROM objects"), 26);
    assert_int_equal(pg_int("SELECT count(*) FROM sightings"), 1);
    assert_int_equal(pg_int("SELECT count(*) FROM pg_constraint WHERE"
                            " conrelid = 'objects'::regclass AND"
                            " confrelid = 'collections'::regclass"),
                     0);
    assert_int_equal(cairn_store_collection_delete(f->s, f->coll), 0);
    assert_int_equal(pg_int("SELECT count(*) FROM objects"), 5);
    assert_int_equal(pg_int("SELECT count(*) FROM sightings"), 0);
    /* Removed by hand, as an operator might: the same. */
    pg_exec("DELETE FROM collections");
    assert_int_equal(pg_int("SELECT count(*) FROM objects"), 0);

    /* A status's items go with it, by a trigger on statuses too. */
    assert_int_equal(cairn_store_collection_create(f->s, &c, other), 0);
    char st[CAIRN_UUID_STRLEN];
    assert_int_equal(cairn_store_status_new(f->s, other, NULL, 2, st), 0);
    struct cairn_store_result res[2] = {{.outcome = CAIRN_STORE_STORED,
                                         .id = "indicator--1",
                                         .version = "v"},
                                        {.outcome = CAIRN_STORE_FAILED,
                                         .id = "indicator--2",
                                         .version = "v"}};
    assert_int_equal(cairn_store_status_record(f->s, st, res, 2), 0);
    assert_int_equal(pg_int("SELECT count(*) FROM status_items"), 2);
    assert_int_equal(pg_int("SELECT count(*) FROM pg_constraint WHERE"
                            " conrelid = 'status_items'::regclass AND"
                            " contype = 'f'"),
                     0);
    pg_exec("DELETE FROM statuses");
    assert_int_equal(pg_int("SELECT count(*) FROM status_items"), 0);
}

/* What the database holds of a password or a token is a hash only. */
static void test_pg_secrets(void **state)
{
    struct fx *f = *state;
    char tok[CAIRN_STORE_TOKEN_LEN];
    assert_int_equal(cairn_store_user_add(f->s, "alice", "Tr0ub4dor&3xyz"), 0);
    assert_int_equal(cairn_store_token_new(f->s, "alice", tok), 0);
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT (SELECT string_agg(u::text, '|') FROM"
                            " users u) || (SELECT string_agg(t::text, '|')"
                            " FROM tokens t)");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    const char *all = PQgetvalue(r, 0, 0);
    assert_non_null(strstr(all, "alice"));
    assert_null(strstr(all, tok));
    assert_null(strstr(all, "Tr0ub4dor"));
    PQclear(r);
    PQfinish(c);
}

/*
 * Another connection holds the collection (as a writer on another node
 * would, stuck): every put of this process gives up with CAIRN_EBUSY
 * after the busy timeout, and the store works once it lets go.
 */
static void test_pg_busy(void **state)
{
    struct fx *f = *state;
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "BEGIN; SELECT * FROM collections FOR UPDATE");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    pthread_t t[BUSY_THREADS];
    struct busy_arg args[BUSY_THREADS];
    for (int i = 0; i < BUSY_THREADS; i++) {
        args[i] = (struct busy_arg){f->coll, i, 1};
        assert_int_equal(pthread_create(&t[i], NULL, busy_writer, &args[i]), 0);
    }
    for (int i = 0; i < BUSY_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].rc, CAIRN_EBUSY);
    }
    r = PQexec(c, "COMMIT");
    PQclear(r);
    PQfinish(c);
    put_range(f->s, f->coll, 1, 3, 1);
    assert_int_equal(count_rows(f->s, f->coll, 0), 3);
}

/*
 * Two nodes (processes) write one collection while readers page it with
 * added_after: no reader ever misses an object or sees one twice, as
 * date_added is taken under the collection's lock in commit order.
 */
static void test_pg_nodes_paging(void **state)
{
    struct fx *f = *state;
    struct conc c = {.coll = f->coll, .writers_left = 1};
    pthread_mutex_init(&c.lock, NULL);
    unsigned long per = TWO_CHILD_BATCHES * TWO_PER;
    assert_int_equal(2 * per, CONC_TOTAL);
    /* The writers are forked before any reader thread exists: a child
     * forked while a thread holds a lock (the allocator's, under ASan)
     * would wait for it forever. The readers page while they write. */
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        pid[k] = fork();
        assert_true(pid[k] >= 0);
        if (pid[k] == 0)
            _exit(put_batches(f->coll, (unsigned long)k * per) == 0 ? 0 : 3);
    }
    pthread_t r[READERS];
    struct conc_arg ra[READERS];
    for (int i = 0; i < READERS; i++) {
        ra[i] = (struct conc_arg){&c, i};
        assert_int_equal(pthread_create(&r[i], NULL, reader, &ra[i]), 0);
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    pthread_mutex_lock(&c.lock);
    c.writers_left = 0;
    pthread_mutex_unlock(&c.lock);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    pthread_mutex_destroy(&c.lock);
    assert_int_equal(c.errors, 0);
    for (int i = 0; i < READERS; i++)
        assert_int_equal(c.seen_by[i], CONC_TOTAL);
}

/*
 * A node starting up finishes the statuses of nodes that are gone, not
 * those of a node still running (its POST jobs are writing them).
 */
static void test_pg_abandon_nodes(void **state)
{
    struct fx *f = *state;
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        struct cairn_store *s = NULL;
        char sid[CAIRN_UUID_STRLEN];
        if (cairn_store_open(pg_url, NULL, &s) < 0 ||
            cairn_store_status_new(s, f->coll, NULL, 3, sid) < 0 ||
            write(to_parent[1], sid, sizeof sid) != (ssize_t)sizeof sid)
            _exit(3);
        char b;
        (void)read(to_child[0], &b, 1); /* stay alive until killed */
        _exit(0);
    }
    /* Only the child writes: a child that fails ends the read. */
    close(to_child[0]);
    close(to_parent[1]);
    char sid[CAIRN_UUID_STRLEN];
    ssize_t got = read(to_parent[0], sid, sizeof sid);
    close(to_parent[0]);
    if (got != (ssize_t)sizeof sid) {
        close(to_child[1]);
        waitpid(pid, NULL, 0);
    }
    assert_int_equal(got, (ssize_t)sizeof sid);
    size_t n = 99;
    int rc = cairn_store_status_abandon_pending(f->s, &n);
    kill(pid, SIGKILL);
    close(to_child[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 0); /* the child's node is alive: left alone */
    /* Its connection ends when the server notices the process is gone. */
    for (int i = 0; i < 400 && n == 0; i++) {
        assert_int_equal(cairn_store_status_abandon_pending(f->s, &n), 0);
        if (n == 0)
            usleep(25000);
    }
    assert_int_equal(n, 1);
    struct cairn_store_status *st = NULL;
    assert_int_equal(cairn_store_status_get(f->s, sid, &st), 0);
    assert_true(st->complete);
    assert_int_equal(st->failure, 3);
    cairn_store_status_free(st);
}

/*
 * A store the first PostgreSQL schema wrote gets the correlation index,
 * built for the rows it holds, the console's admin flag, off, and the
 * objects with several versions marked (schema 7): "last" still finds
 * one version of each.
 */
static void test_pg_migrate(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 1, 2, 1);
    put_range(f->s, f->coll, 2, 1, 2);
    put_sighting(f->s, f->coll, 1);
    assert_int_equal(cairn_store_user_add(f->s, "old", "pw"), 0);
    cairn_store_close(f->s);
    f->s = NULL;
    pg_exec("DROP TABLE sightings; DROP TABLE obj_keys;"
            " ALTER TABLE users DROP COLUMN admin;"
            " ALTER TABLE users DROP COLUMN identities;"
            " DROP TABLE sync_state; DROP TABLE marks;"
            " ALTER TABLE objects DROP COLUMN multi;"
            " UPDATE schema_version SET version = 1");
    f->s = open_store();
    int v = 0;
    assert_int_equal(cairn_store_schema_version(f->s, &v), 0);
    assert_int_equal(v, PG_SCHEMA_LATEST);
    /* migration 4 summarised the sighting stored before */
    assert_int_equal(scan_sg(f->s, NULL, false).n, 1);
    /* The named state's table came with the migration. */
    assert_int_equal(cairn_store_state_set(f->s, "pull:x", "{}"), 0);
    struct cairn_store_query lq = {.collection = f->coll};
    struct cairn_store_page *lp = query(f->s, &lq);
    assert_int_equal(lp->n, 3); /* objects 1 and 2, and the sighting */
    cairn_store_page_free(lp);
    struct hits h = find(f->s, ip_key("198.51.100.1"), f->coll);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.in_coll, 3);
    char id1[80];
    make_id(id1, sizeof id1, 1);
    h = find(f->s, cairn_value_ref_key(id1, strlen(id1)), NULL);
    assert_int_equal(h.n, 1);
    /* New rows go in as before. */
    put_range(f->s, f->coll, 3, 1, 1);
    assert_int_equal(find(f->s, ip_key("198.51.100.1"), NULL).n, 4);
    bool admin = true;
    assert_int_equal(cairn_store_user_admin_get(f->s, "old", &admin), 0);
    assert_false(admin);
    assert_int_equal(cairn_store_user_verify(f->s, "old", "pw"), 0);
}

/* pg.sh CMD on the test cluster ($CAIRN_TEST_PG); false when there is none. */
static bool pg_ctl(const char *cmd)
{
    const char *st = getenv("CAIRN_TEST_PG");
    if (st == NULL || st[0] == '\0')
        return false;
    char line[1200];
    snprintf(line, sizeof line, "sh '%s/../tools/pg.sh' %s '%s'",
             CAIRN_TEST_DATA, cmd, st);
    assert_int_equal(system(line), 0);
    return true;
}

/* Put one object; the put's code (its outcome must be stored when 0). */
static int put_one(struct cairn_store *s, const char *coll, unsigned long n)
{
    json_t *o = indicator(n, 1);
    struct cairn_store_object_in in = {o, NULL, 0};
    struct cairn_store_result res;
    memset(&res, 0, sizeof res);
    int rc = cairn_store_put_objects(s, coll, &in, 1, NULL, &res);
    if (rc == 0)
        assert_int_equal(res.outcome, CAIRN_STORE_STORED);
    json_decref(o);
    return rc;
}

/*
 * The database goes away (crash) and comes back: calls meanwhile fail
 * with CAIRN_EBUSY (the server's 503), the handle reconnects by itself,
 * and every object acknowledged before is still there.
 */
static void test_pg_restart(void **state)
{
    struct fx *f = *state;
    put_range(f->s, f->coll, 0, 10, 1);
    if (!pg_ctl("kill"))
        skip();
    assert_int_equal(put_one(f->s, f->coll, 100), CAIRN_EBUSY);
    assert_int_equal(put_one(f->s, f->coll, 100), CAIRN_EBUSY);
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(cairn_store_user_list(f->s, &names, &n), CAIRN_EBUSY);
    assert_null(names);
    pg_ctl("up");
    int rc = CAIRN_EBUSY;
    for (int i = 0; i < 200 && rc == CAIRN_EBUSY; i++) {
        rc = put_one(f->s, f->coll, 100);
        if (rc == CAIRN_EBUSY)
            usleep(50000);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(count_rows(f->s, f->coll, 0), 11);
    /* A fast restart between two calls: a read retries on its own. */
    pg_ctl("restart");
    assert_int_equal(count_rows(f->s, f->coll, 0), 11);
}

/* A named lock: one holder among handles; free again once it closes. */
static void test_pg_lock(void **state)
{
    struct fx *f = *state;
    struct cairn_store *b = open_store();
    bool got = false;
    assert_int_equal(cairn_store_lock_try(f->s, "peer:hub", &got), 0);
    assert_true(got);
    assert_int_equal(cairn_store_lock_try(b, "peer:hub", &got), 0);
    assert_false(got);
    assert_int_equal(cairn_store_lock_try(f->s, "peer:hub", &got), 0);
    assert_true(got); /* still, and not twice */
    assert_int_equal(cairn_store_lock_try(b, "peer:other", &got), 0);
    assert_true(got);
    assert_int_equal(cairn_store_lock_release(f->s, "peer:hub"), 0);
    assert_int_equal(cairn_store_lock_try(b, "peer:hub", &got), 0);
    assert_true(got);
    cairn_store_close(b);
    got = false;
    for (int i = 0; i < 400 && !got; i++) {
        assert_int_equal(cairn_store_lock_try(f->s, "peer:hub", &got), 0);
        if (!got)
            usleep(25000);
    }
    assert_true(got);
    /* A store one process owns has no such locks. */
    struct cairn_store *m = NULL;
    assert_int_equal(cairn_store_open("memory:", NULL, &m), 0);
    assert_int_equal(cairn_store_lock_try(m, "peer:hub", &got),
                     CAIRN_EUNSUPPORTED);
    cairn_store_close(m);
}

/* ---- main -------------------------------------------------------------------
 */

#define COMMON_TESTS                                                           \
    cmocka_unit_test_setup_teardown(test_collections, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_versions_one_put, setup,          \
                                        teardown),                             \
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),         \
        cmocka_unit_test_setup_teardown(test_paging_budget, setup, teardown),  \
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),           \
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),         \
        cmocka_unit_test_setup_teardown(test_put_many_versions, setup,         \
                                        teardown),                             \
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),         \
        cmocka_unit_test_setup_teardown(test_status_unnamed, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_status_abandon, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_sharing, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_index_many, setup, teardown),     \
        cmocka_unit_test_setup_teardown(test_count_admin, setup, teardown),    \
        cmocka_unit_test_setup_teardown(test_sightings_summary, setup,         \
                                        teardown),                             \
        cmocka_unit_test_setup_teardown(test_index_under, setup, teardown),    \
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_named_state, setup, teardown),    \
        cmocka_unit_test_setup_teardown(test_marks, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_marks_batch, setup, teardown),    \
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown)

/* The test cluster's URL: $CAIRN_TEST_PG_URL, or the file tests/tools/pg.sh
 * wrote ($CAIRN_TEST_PG.url). */
static void find_pg(void)
{
    const char *u = getenv("CAIRN_TEST_PG_URL");
    if (u != NULL && u[0] != '\0') {
        snprintf(pg_url, sizeof pg_url, "%s", u);
        return;
    }
    const char *st = getenv("CAIRN_TEST_PG");
    char path[512];
    if (st == NULL || st[0] == '\0')
        return;
    snprintf(path, sizeof path, "%s.url", st);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return;
    if (fgets(pg_url, sizeof pg_url, fp) == NULL)
        pg_url[0] = '\0';
    pg_url[strcspn(pg_url, "\n")] = '\0';
    fclose(fp);
}

/* $CAIRN_STORE_BACKENDS ("memory sqlite", "postgres") picks the groups
 * to run, so that ctest runs the PostgreSQL group beside the others. */
static bool want_backend(const char *name)
{
    const char *list = getenv("CAIRN_STORE_BACKENDS");
    if (list == NULL || list[0] == '\0')
        return true;
    size_t len = strlen(name);
    for (const char *p = strstr(list, name); p != NULL;
         p = strstr(p + 1, name)) {
        bool start = p == list || p[-1] == ' ' || p[-1] == ',';
        bool end = p[len] == '\0' || p[len] == ' ' || p[len] == ',';
        if (start && end)
            return true;
    }
    return false;
}

int main(void)
{
    cairn_alloc_init();
    const struct CMUnitTest memory_tests[] = {COMMON_TESTS};
    const struct CMUnitTest sqlite_tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_secrets_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_migrate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrate_status_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrate_sharing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_sightings_by_object,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_summaries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrate_root_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_salt_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_versions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
    };
    int failed = 0;
    if (want_backend("memory"))
        failed += cmocka_run_group_tests_name("store/memory", memory_tests,
                                              group_memory, group_done);
    if (want_backend("sqlite"))
        failed += cmocka_run_group_tests_name("store/sqlite", sqlite_tests,
                                              group_sqlite, group_done);
    const struct CMUnitTest postgres_tests[] = {
        COMMON_TESTS,
        cmocka_unit_test_setup_teardown(test_pg_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_collection_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pg_plan_after_bulk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pg_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_nodes_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_abandon_nodes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pg_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
    };
    if (!want_backend("postgres"))
        return failed ? 1 : 0;
    find_pg();
    if (pg_url[0] != '\0') {
        failed += cmocka_run_group_tests_name("store/postgres", postgres_tests,
                                              group_postgres, group_done);
    } else {
        const char *req = getenv("CAIRN_REQUIRE_PG");
        printf("store/postgres: skipped: no test cluster (tests/tools/pg.sh "
               "did not start one)\n");
        if (req != NULL && strcmp(req, "1") == 0)
            failed++;
        else if (failed == 0 && getenv("CAIRN_STORE_BACKENDS") != NULL)
            return 77; /* ctest's SKIP_RETURN_CODE: nothing else ran */
    }
    return failed ? 1 : 0;
}
