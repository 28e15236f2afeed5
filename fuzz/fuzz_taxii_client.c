/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the TAXII client's handling of a peer's responses. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/base.h"
#include "cairn/taxii.h"
#include "taxii/client_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a response as cairn__taxii_client_canned reads it:
 * "STATUS\n", header lines, an empty line and the body, e.g.
 * "200\nContent-Type: application/taxii+json;version=2.1\n\n{...}".
 * Every request of every call below gets it: discovery, API root,
 * collections, pages (parsed and kept raw), manifest, versions, a POST
 * and its status, and the server's error resources.
 */
static struct cairn_taxii_client *client(void)
{
    static struct cairn_taxii_client *c;
    if (c == NULL) {
        struct cairn_taxii_client_opts o = {
            .max_attempts = 1,
            .backoff_ms = 1,
            .backoff_max_ms = 1,
            .retry_after_max_ms = 1,
            .poll_ms = 1,
            .poll_timeout_ms = 1,
            .max_response_len = (size_t)1 << 20,
        };
        if (cairn_taxii_client_new(&o, &c) < 0)
            abort();
    }
    return c;
}

/* The error text is one printable line, whatever the peer said. */
static void check_error(struct cairn_taxii_client *c)
{
    for (const char *p = cairn_taxii_client_error(c); *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            __builtin_trap();
}

static void check_page(const struct cairn_taxii_page *p)
{
    if (p->body != NULL && !json_is_array(p->items))
        __builtin_trap();
    if (memchr(p->next, '\0', sizeof p->next) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char base[] = "http://peer.invalid/taxii2/";
    static const char coll[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
    struct cairn_taxii_client *c = client();
    struct cairn_taxii_page page;
    struct taxii_raw_page raw = {0};
    struct cairn_taxii_get q = {
        .added_after = "2025-01-01T00:00:00Z", .limit = 10, .next = "n"};
    json_t *j = NULL;
    char *root_url = NULL;

    cairn_alloc_init();
    cairn__taxii_client_canned(c, (const char *)data, size);

    if (cairn_taxii_client_api_root(c, base, &root_url, &j) < 0)
        check_error(c);
    json_decref(j);
    cairn_free(root_url);
    j = NULL;
    if (cairn_taxii_client_collections(c, base, &j) == 0 && !json_is_array(j))
        __builtin_trap();
    check_error(c);
    json_decref(j);
    j = NULL;

    memset(&page, 0, sizeof page);
    if (cairn_taxii_client_objects(c, base, coll, &q, &page) == 0)
        check_page(&page);
    check_error(c);
    cairn_taxii_page_release(&page);
    if (cairn_taxii_client_manifest(c, base, coll, NULL, &page) == 0)
        check_page(&page);
    cairn_taxii_page_release(&page);
    if (cairn_taxii_client_versions(c, base, coll, "indicator--x", NULL,
                                    &page) == 0)
        check_page(&page);
    cairn_taxii_page_release(&page);

    /* The pull's reader: every element is kept or refused, none lost. */
    if (cairn__taxii_client_objects_raw(c, base, coll, &q, 1000, &raw) == 0) {
        for (size_t i = 0; i < raw.n; i++)
            if (raw.len[i] > CAIRN_STIX_MAX_OBJECT_LEN ||
                raw.off[i] + raw.len[i] > raw.body.len)
                __builtin_trap();
        for (size_t i = 0; i < raw.n_refused; i++)
            if (memchr(raw.refused[i].id, '\0', sizeof raw.refused[i].id) ==
                NULL)
                __builtin_trap();
    }
    check_error(c);
    cairn__taxii_raw_page_release(&raw);

    if (cairn_taxii_client_add(c, base, coll, "{\"objects\":[]}", 14, &j) ==
            0 &&
        !json_is_object(j))
        __builtin_trap();
    check_error(c);
    json_decref(j);

    cairn__taxii_client_canned(c, NULL, 0);
    return 0;
}
