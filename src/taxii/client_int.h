/* SPDX-License-Identifier: Apache-2.0 */
/* Pages of objects kept as received, for the pull (client.c to sync.c). */
#ifndef CAIRN_TAXII_CLIENT_INT_H
#define CAIRN_TAXII_CLIENT_INT_H

#include "cairn/base.h"
#include "cairn/taxii.h"

/*
 * A page of GET objects/ with each element of "objects" parsed and its
 * bytes located in `body`, so that the objects can be stored as they came
 * without serialising them again. Reusable: each fetch replaces the
 * previous content and keeps the memory.
 */
struct taxii_raw_page {
    struct cairn_buf body; /* the response as received */
    json_t **objs;         /* n parsed elements, owned */
    size_t *off, *len;     /* where each lies in body.data */
    size_t n, cap;
    bool more;
    char next[CAIRN_TAXII_NEXT_MAX]; /* "" when none */
    bool has_added;
    struct cairn_time added_first;
    struct cairn_time added_last;
};

/* Drop the objects (keeps the memory for the next fetch). */
void cairn__taxii_raw_page_clear(struct taxii_raw_page *p);
/* Free everything; the page may then be reused from zero. */
void cairn__taxii_raw_page_release(struct taxii_raw_page *p);

/*
 * cairn_taxii_client_objects into a raw page. The body is read as a TAXII
 * envelope (cairn_envelope_reader_new); one that is not well-formed JSON
 * is retried as a body cut short is. At most `max_items` elements
 * (CAIRN_ETOOBIG beyond). Errors as cairn_taxii_client_objects.
 */
int cairn__taxii_client_objects_raw(struct cairn_taxii_client *c, const char *root_url,
                             const char *collection,
                             const struct cairn_taxii_get *q, size_t max_items,
                             struct taxii_raw_page *out);

/*
 * Make the client's requests fail as cancelled (true) or work again
 * (false); safe from another thread than the one making the request.
 */
void cairn__taxii_client_abort(struct cairn_taxii_client *c, bool abort);

#endif
