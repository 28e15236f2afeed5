/* SPDX-License-Identifier: Apache-2.0 */
/* Pages of objects kept as received, for the pull (client.c to sync.c). */
#ifndef CAIRN_TAXII_CLIENT_INT_H
#define CAIRN_TAXII_CLIENT_INT_H

#include "cairn/base.h"
#include "cairn/stix.h"
#include "cairn/taxii.h"

/*
 * An element of "objects" that is not taken: over CAIRN_STIX_MAX_OBJECT_LEN
 * bytes, or a bundle (a bundle is not a STIX object). The pull reports and
 * counts it, and stores the page's other objects.
 */
struct taxii_refused {
    size_t index;               /* its position in "objects" */
    char id[CAIRN_STIX_ID_MAX]; /* "" when it has none */
    const char *rule;           /* "too-big" or "bundle" */
    char message[160];
};

/*
 * A page of GET objects/ with each element of "objects" parsed and its
 * bytes located in `body`, so that the objects can be stored as they came
 * without serialising them again. Reusable: each fetch replaces the
 * previous content and keeps the memory. Refused elements are not among
 * the n objects but listed in `refused`.
 */
struct taxii_raw_page {
    struct cairn_buf body; /* the response as received */
    json_t **objs;         /* n parsed elements, owned */
    size_t *off, *len;     /* where each lies in body.data */
    size_t n, cap;
    struct taxii_refused *refused;
    size_t n_refused, refused_cap;
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
 * envelope (cairn__taxii_envelope_read); one that is not well-formed JSON
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

/*
 * Make every request end by `deadline_ms` (CLOCK_MONOTONIC milliseconds;
 * 0: none): a transfer or wait still going then fails with CAIRN_EIO
 * ("deadline"). Set it before requests start, from the thread that makes
 * them or before starting that thread.
 */
void cairn__taxii_client_deadline(struct cairn_taxii_client *c,
                                  int64_t deadline_ms);

/* The monotonic clock in milliseconds, as the deadline counts it. */
int64_t cairn__taxii_now_ms(void);

/*
 * Read a response body as an envelope into `p`: the elements of
 * "objects", each bounded only by `len`; those over
 * CAIRN_STIX_MAX_OBJECT_LEN and bundles are listed in p->refused instead.
 * CAIRN_EPARSE when it is not well-formed JSON (perhaps cut short),
 * CAIRN_EINVALID when it is not a page, CAIRN_ETOOBIG for more than
 * `max_items` elements, CAIRN_ENOMEM; `d` says why.
 */
int cairn__taxii_envelope_read(struct taxii_raw_page *p, const char *data,
                               size_t len, size_t max_items,
                               struct cairn_diag *d);

/*
 * For fuzzing and tests: every later request of `c` is answered by
 * `response` (borrowed; NULL: the network again) instead of the network.
 * It reads "STATUS\n", then header lines "Name: value\n", an empty line,
 * and the body, which goes through the same checks as a real one.
 */
void cairn__taxii_client_canned(struct cairn_taxii_client *c,
                                const char *response, size_t len);

#endif
