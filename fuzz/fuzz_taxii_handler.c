/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: whole TAXII requests against an in-memory store. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/stix.h"
#include "cairn/taxii.h"
#include "taxii/taxii_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is newline-separated fields: method, path, query, Accept,
 * Content-Type, Authorization, then the body. Fields "-" are absent. An
 * Authorization of "A", "R" or "W" becomes the Basic credentials of alice
 * (read and write), reader or writer; "T" alice's API token.
 */
#define COLL "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

static struct cairn_store *store;
static struct cairn_taxii *taxii;
static char token[CAIRN_STORE_TOKEN_LEN];
static unsigned long runs;

/* scrypt would make every run take a tenth of a second. */
static int fake_verify(struct cairn_store *s, const char *name,
                       const char *password)
{
    (void)s;
    char want[CAIRN_STORE_NAME_MAX + 8];
    snprintf(want, sizeof want, "%s-pw", name);
    return strcmp(password, want) == 0 ? 0 : CAIRN_EPERM;
}

static void fresh_collection(void)
{
    struct cairn_store_collection c = {0};
    snprintf(c.id, sizeof c.id, "%s", COLL);
    c.api_root = "api1";
    c.title = "Fuzzed";
    cairn_store_collection_delete(store, COLL);
    if (cairn_store_collection_create(store, &c, NULL) != 0 ||
        cairn_store_grant(store, "alice", COLL,
                          CAIRN_STORE_READ | CAIRN_STORE_WRITE) != 0 ||
        cairn_store_grant(store, "reader", COLL, CAIRN_STORE_READ) != 0 ||
        cairn_store_grant(store, "writer", COLL, CAIRN_STORE_WRITE) != 0)
        abort();
}

static void init(void)
{
    cairn_alloc_init();
    struct cairn_taxii_config cfg = {.default_api_root = "api1",
                                     .base_url = "https://fuzz",
                                     .max_content_length = 1 << 20,
                                     .sync_object_limit = 4};
    struct cairn_store_api_root root = {.name = "api1", .title = "Fuzz"};
    struct cairn_store_api_root small = {
        .name = "api2", .title = "Small", .max_content_length = 4096};
    if (cairn_store_open("memory:", NULL, &store) != 0 ||
        cairn_taxii_new(&cfg, &taxii) != 0 ||
        cairn_store_api_root_put(store, &root) != 0 ||
        cairn_store_api_root_put(store, &small) != 0 ||
        cairn_store_user_add(store, "alice", "x") != 0 ||
        cairn_store_user_add(store, "reader", "x") != 0 ||
        cairn_store_user_add(store, "writer", "x") != 0 ||
        cairn_store_token_new(store, "alice", token) != 0)
        abort();
    cairn__taxii_set_verify(taxii, fake_verify);
    fresh_collection();
}

/* Cut the next field off [*p, end) into a NUL-terminated copy. */
static char *field(const char **p, const char *end)
{
    const char *s = *p;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *e = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    if (e - s == 1 && *s == '-')
        return NULL;
    return cairn_strndup(s, (size_t)(e - s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        init();
    /* Keep the store small over millions of runs. */
    if (++runs % 2000 == 0)
        fresh_collection();
    const char *p = (const char *)data, *end = p + size;
    char *f[6];
    for (int i = 0; i < 6; i++)
        f[i] = field(&p, end);
    char auth[128];
    const char *authorization = f[5];
    if (f[5] != NULL && strlen(f[5]) == 1) {
        int k = f[5][0] == 'A'   ? 0
                : f[5][0] == 'R' ? 1
                : f[5][0] == 'W' ? 2
                                 : -1;
        if (f[5][0] == 'T') {
            snprintf(auth, sizeof auth, "Bearer %s", token);
            authorization = auth;
        } else if (k >= 0) {
            /* base64 of "<name>:<name>-pw", precomputed. */
            static const char *const b64[] = {
                "YWxpY2U6YWxpY2UtcHc=", "cmVhZGVyOnJlYWRlci1wdw==",
                "d3JpdGVyOndyaXRlci1wdw=="};
            snprintf(auth, sizeof auth, "Basic %s", b64[k]);
            authorization = auth;
        }
    }
    struct cairn_taxii_request req = {
        .method = f[0] ? f[0] : "GET",
        .path = f[1] ? f[1] : "/",
        .query = f[2],
        .accept = f[3],
        .content_type = f[4],
        .authorization = authorization,
        .body = p,
        .body_len = (size_t)(end - p),
        .content_length = (int64_t)(end - p),
    };
    /* The limit before a body is read never exceeds the server's. */
    size_t limit = cairn_taxii_body_limit(taxii, store, req.path);
    if (limit == 0 || limit > (size_t)1 << 20)
        __builtin_trap();
    struct cairn_taxii_response resp;
    /* The decision before a body: a POST's body is wanted only when the
     * handler would take it, and what it answers instead is an error or
     * the answer to a request that has no use for a body. */
    char who[CAIRN_STORE_NAME_MAX + 1];
    if (cairn_taxii_authenticate(taxii, store, req.authorization, who) == 0) {
        struct cairn_taxii_request pre = req;
        pre.user = who;
        int wanted = cairn_taxii_preflight(taxii, store, &pre, &resp);
        if (wanted == 0 && strcmp(req.method, "POST") == 0 &&
            resp.status < 400)
            __builtin_trap();
        if (wanted == 1 && strcmp(req.method, "POST") != 0)
            __builtin_trap();
        cairn_taxii_response_release(&resp);
    }
    if (cairn_taxii_handle(taxii, store, &req, &resp) == 0) {
        /* Every answer with a body is JSON; errors carry their status. */
        if (resp.body != NULL) {
            json_t *j = NULL;
            if (cairn_json_parse(resp.body, resp.body_len, &j, NULL) != 0)
                __builtin_trap();
            if (resp.status >= 400) {
                char code[16];
                snprintf(code, sizeof code, "%d", resp.status);
                json_t *hs = json_object_get(j, "http_status");
                if (!json_is_string(hs) ||
                    strcmp(json_string_value(hs), code) != 0)
                    __builtin_trap();
            }
            json_decref(j);
        }
        if (resp.job != NULL)
            cairn_taxii_job_run(resp.job, store);
    }
    cairn_taxii_response_release(&resp);
    for (int i = 0; i < 6; i++)
        cairn_free(f[i]);
    return 0;
}
