/* SPDX-License-Identifier: Apache-2.0 */
/* Memory of GET objects over large stored objects: the page byte budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/store.h"
#include "cairn/taxii.h"

/*
 * Usage: bench_page_memory [OBJECTS [MB]] (default 6 objects of 60 MB, the
 * case of issue 18). The objects are stored directly (POST refuses objects
 * over 16 MiB, but a store may hold older ones), then paged through with
 * GET objects by a reader. Printed: the peak resident memory the GETs
 * added over the store's own, in MB and as a ratio to the collection's
 * bytes, which is what a page without a budget copied in one request.
 */

#define COLL "2d4c9a1e-3b5f-4e7a-8c9d-0e1f2a3b4c5d"

/* A line of /proc/self/status ("VmRSS:", "VmHWM:") in KiB; -1 if absent. */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key), NULL, 10);
    fclose(f);
    return v;
}

/* Start counting the peak from now (Linux: clear_refs 5 resets VmHWM). */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f == NULL)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench_page_memory: %s: %s\n", what, cairn_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 6;
    size_t mb = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 60;
    if (n == 0 || n > 1000 || mb == 0 || mb > 1024) {
        fprintf(stderr, "usage: bench_page_memory [OBJECTS [MB]]\n");
        return 2;
    }
    cairn_alloc_init();
    struct cairn_store *s = NULL;
    struct cairn_taxii *t = NULL;
    char token[CAIRN_STORE_TOKEN_LEN];
    struct cairn_store_api_root root = {.name = "api1", .title = "api1"};
    struct cairn_store_collection c = {.api_root = "api1", .title = "big"};
    memcpy(c.id, COLL, sizeof c.id);
    int rc = cairn_store_open("memory:", NULL, &s);
    if (rc == 0)
        rc = cairn_taxii_new(NULL, &t);
    if (rc == 0)
        rc = cairn_store_api_root_put(s, &root);
    if (rc == 0)
        rc = cairn_store_collection_create(s, &c, NULL);
    if (rc == 0)
        rc = cairn_store_user_add(s, "reader", "pw");
    if (rc == 0)
        rc = cairn_store_grant(s, "reader", COLL, CAIRN_STORE_READ);
    if (rc == 0)
        rc = cairn_store_token_new(s, "reader", token);
    if (rc < 0)
        return die("setting up", rc);

    size_t len = mb << 20;
    char *desc = malloc(len + 1);
    if (desc == NULL)
        return die("allocating", CAIRN_ENOMEM);
    memset(desc, 'd', len);
    desc[len] = '\0';
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        char id[80];
        snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012u", i);
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
            "indicator", "spec_version", "2.1", "id", id, "created",
            "2024-01-01T00:00:00.000Z", "modified", "2024-01-01T00:00:00.000Z",
            "pattern", "[ipv4-addr:value = '1.2.3.4']", "pattern_type", "stix",
            "valid_from", "2024-01-01T00:00:00Z", "description", desc);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (text == NULL)
            return die("building an object", CAIRN_ENOMEM);
        struct cairn_store_object_in in = {
            .obj = o, .json = text, .json_len = strlen(text)};
        total += in.json_len;
        rc = cairn_store_put_objects(s, COLL, &in, 1, NULL, NULL);
        free(text);
        json_decref(o);
        if (rc < 0)
            return die("storing", rc);
    }
    free(desc);

    char auth[100], query[200], next[CAIRN_TAXII_NEXT_MAX] = "";
    snprintf(auth, sizeof auth, "Bearer %s", token);
    long rss0 = status_kib("VmRSS:");
    if (reset_peak() < 0 || rss0 < 0) {
        fprintf(stderr, "bench_page_memory: needs Linux /proc\n");
        return 1;
    }
    unsigned pages = 0, got = 0;
    size_t largest = 0;
    for (;;) {
        snprintf(query, sizeof query, "%s%s", next[0] ? "next=" : "", next);
        struct cairn_taxii_request req = {
            .method = "GET",
            .path = "/api1/collections/" COLL "/objects/",
            .query = query,
            .authorization = auth,
            .content_length = -1};
        struct cairn_taxii_response resp;
        rc = cairn_taxii_handle(t, s, &req, &resp);
        if (rc < 0 || resp.status != 200)
            return die("GET", rc < 0 ? rc : CAIRN_EIO);
        if (resp.body_len > largest)
            largest = resp.body_len;
        /* Only the end is parsed (more and next follow the objects), so
         * that the bench itself adds no copy of the page. */
        const char *tail = resp.body;
        for (const char *p = resp.body; (p = strstr(p, "],\"more\":")) != NULL;
             p++)
            tail = p + 1;
        json_t *end = NULL;
        if (tail != resp.body) {
            char buf[CAIRN_TAXII_NEXT_MAX + 64];
            snprintf(buf, sizeof buf, "{%s", tail + 1);
            end = json_loads(buf, 0, NULL);
        } else {
            end = json_loadb(resp.body, resp.body_len, 0, NULL);
        }
        /* Objects on the page: the id members at their top level. */
        for (const char *p = resp.body;
             (p = strstr(p, "{\"type\":\"indicator\"")) != NULL; p++)
            got++;
        cairn_taxii_response_release(&resp);
        pages++;
        const char *nx = json_string_value(json_object_get(end, "next"));
        bool more = json_is_true(json_object_get(end, "more"));
        snprintf(next, sizeof next, "%s", nx ? nx : "");
        json_decref(end);
        if (!more || pages > n + 1)
            break;
    }
    long peak = status_kib("VmHWM:");
    double added = (double)(peak - rss0) / 1024.0;
    double coll = (double)total / (1024.0 * 1024.0);
    printf("GET objects over %u objects of %zu MB: %u objects in %u pages "
           "(largest response %.1f MB)\n",
           n, mb, got, pages, (double)largest / (1024.0 * 1024.0));
    printf("peak memory added by the GETs: %.1f MB; the collection: %.1f MB; "
           "ratio %.2f (a page without a byte budget copies the whole "
           "collection: ratio >= 1)\n",
           added, coll, added / coll);
    cairn_taxii_free(t);
    cairn_store_close(s);
    return got == n ? 0 : 1;
}
