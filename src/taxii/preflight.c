/* SPDX-License-Identifier: Apache-2.0 */
/* Before a body is read: whether the request may send one at all. */
#include <string.h>

#include "taxii/taxii_int.h"

/*
 * Only a POST to an objects endpoint by a writer is worth a body. Every
 * other request is answered by the handler as if it had none: the answer
 * (405, 404, 403, 415, ...) depends on the method, path and headers only,
 * so the body can be dropped unread and no user can make the server hold
 * bytes it will never use.
 */
int cairn_taxii_preflight(struct cairn_taxii *t, struct cairn_store *store,
                          const struct cairn_taxii_request *req,
                          struct cairn_taxii_response *resp)
{
    struct cairn_store_api_root *root = NULL;
    struct cairn_store_collection *coll = NULL;
    const char *root_name, *coll_name;
    char *mem = NULL;
    unsigned rights = 0;
    int rc;

    memset(resp, 0, sizeof *resp);
    if (req->user != NULL &&
        cairn__taxii_is_post_objects(req->method, req->path, &root_name,
                                     &coll_name, &mem) &&
        cairn_store_api_root_get(store, root_name, &root) == 0 &&
        cairn_store_collection_resolve(store, root->name, coll_name, &coll) ==
            0 &&
        cairn_store_rights(store, req->user, coll->id, &rights) == 0 &&
        (rights & CAIRN_STORE_WRITE) != 0) {
        snprintf(resp->user, sizeof resp->user, "%s", req->user);
        rc = 1;
        goto out;
    }
    /* Anything else (a store failure too) is the handler's to answer. */
    struct cairn_taxii_request bodiless = *req;
    bodiless.body = NULL;
    bodiless.body_len = 0;
    bodiless.content_length = -1;
    rc = cairn_taxii_handle(t, store, &bodiless, resp);
    if (rc == 0 && resp->status >= 200 && resp->status < 300 &&
        strcmp(req->method != NULL ? req->method : "", "POST") == 0) {
        /* Cannot happen (only objects take a POST), but never let a
         * bodiless stand-in of a write succeed. */
        cairn_taxii_response_release(resp);
        rc = cairn__taxii_error(resp, 500, "the request was not routed");
    }
out:
    cairn_free(mem);
    cairn_store_api_root_free(root);
    cairn_store_collection_free(coll);
    return rc;
}
