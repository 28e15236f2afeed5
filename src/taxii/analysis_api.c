/* SPDX-License-Identifier: Apache-2.0 */
/* cairn's own endpoints beside TAXII's: lookups, neighbourhoods, reports. */
#include <stdlib.h>
#include <string.h>

#include "cairn/analysis.h"
#include "taxii/taxii_int.h"

/*
 * Everything here answers for the collections of one API root that the
 * user may read, and nothing else: an object of another collection, or
 * one the sharing rules hide from the user, is left out before anything
 * is counted, so neither an answer, a count nor an error tells that it
 * exists. The visibility is read from the store before the lookup, as
 * the lookup's callback may not use the store.
 */
struct readable {
    char (*ids)[CAIRN_UUID_STRLEN];
    int *tlp;
    size_t n;
    struct cairn_share_reader reader;
    struct cairn_store_user_share sh;
};

static void readable_free(struct readable *r)
{
    cairn_free(r->ids);
    cairn_free(r->tlp);
}

static int readable_load(struct cairn_store *s, const char *user,
                         const char *root, struct readable *r)
{
    struct cairn_store_collection *cols = NULL;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    int rc = cairn_store_user_share_get(s, user, &r->sh);
    if (rc == CAIRN_ENOTFOUND) { /* a token's user removed since */
        memset(&r->sh, 0, sizeof r->sh);
        rc = 0;
    }
    r->reader.identity = r->sh.identity;
    r->reader.member = r->sh.member;
    if (rc == 0)
        rc = cairn_store_collection_list(s, root, &cols, &n);
    if (rc == 0 && n > 0) {
        r->ids = cairn_calloc(n, sizeof *r->ids);
        r->tlp = cairn_calloc(n, sizeof *r->tlp);
        if (r->ids == NULL || r->tlp == NULL)
            rc = CAIRN_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned bits = 0;
        rc = cairn_store_rights(s, user, cols[i].id, &bits);
        if (rc == 0 && (bits & CAIRN_STORE_READ) != 0)
            rc = cairn_store_collection_tlp_get(s, cols[i].id,
                                                &r->tlp[r->n]);
        if (rc == 0 && (bits & CAIRN_STORE_READ) != 0)
            memcpy(r->ids[r->n++], cols[i].id, CAIRN_UUID_STRLEN);
    }
    cairn_store_collection_list_free(cols, n);
    return rc;
}

static bool visible(void *ud, const char *collection,
                    const struct cairn_store_row *row)
{
    const struct readable *r = ud;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->ids[i], collection) == 0)
            return row->json != NULL &&
                   cairn_share_allowed_text(row->json, row->json_len,
                                            r->tlp[i], &r->reader);
    return false;
}

/* The decoded value of the first `name` parameter in `query`; 1 if none. */
static int param(const char *query, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = query;
    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= cap)
                return CAIRN_ETOOBIG;
            return cairn__taxii_pct_decode(p + nl + 1, vl, true, out, NULL);
        }
        p = amp ? amp + 1 : NULL;
    }
    return 1;
}

static int json_body(struct cairn_taxii_response *resp, const json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return CAIRN_ENOMEM;
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    int rc = cairn_buf_append(&b, text, strlen(text));
    free(text);
    if (rc < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(resp, 200, &b);
    resp->content_type = "application/json";
    return resp->body != NULL ? 0 : CAIRN_ENOMEM;
}

/*
 * GET /ROOT/cairn/sightings[?since=TIME][&collection=ID][&by=day|week]:
 * the report of
 * cairn report sightings over the collections of the root the user may
 * read, counts below the threshold shown as "fewer than k".
 */
static int sightings(struct cairn_store *s, const char *user, const char *root,
                     const char *query, const struct cairn_score_opts *score,
                     struct cairn_taxii_response *resp)
{
    struct readable r;
    json_t *res = NULL;
    char since_text[64], coll[CAIRN_UUID_STRLEN + 1];
    struct cairn_time since;
    struct cairn_report_opts ro = {
        .visible = visible, .visible_ud = &r, .score = *score};
    int rc = param(query, "since", since_text, sizeof since_text);
    if (rc < 0 || (rc == 0 && cairn_time_parse(since_text, strlen(since_text),
                                               false, &since) < 0))
        return cairn__taxii_error(resp, 400,
                                  "since must be an RFC 3339 time such as "
                                  "2026-01-01T00:00:00Z");
    if (rc == 0)
        ro.since = &since;
    char by[16];
    int brc = param(query, "by", by, sizeof by);
    if (brc < 0 || (brc == 0 && cairn_report_by_parse(by, &ro.by) < 0))
        return cairn__taxii_error(resp, 400, "by must be day or week");
    int crc = param(query, "collection", coll, sizeof coll);
    if (crc < 0)
        return cairn__taxii_error(resp, 400, "no such collection here");
    rc = readable_load(s, user, root, &r);
    if (rc < 0) {
        readable_free(&r);
        return rc == CAIRN_ENOMEM ? rc : cairn__taxii_store_error(resp, rc);
    }
    /* exact counts and the organisations for a user entitled to them */
    ro.identities = cairn_report_entitled(s, user);
    const char *one[1] = {coll};
    const char **ids = cairn_calloc(r.n ? r.n : 1, sizeof *ids);
    if (ids == NULL) {
        readable_free(&r);
        return CAIRN_ENOMEM;
    }
    for (size_t i = 0; i < r.n; i++)
        ids[i] = r.ids[i];
    ro.collections = ids;
    ro.n_collections = r.n;
    if (crc == 0) {
        /* a collection the user may not read answers as one that does not
         * exist: the same 404 */
        bool ok = false;
        for (size_t i = 0; i < r.n && !ok; i++)
            ok = strcmp(r.ids[i], coll) == 0;
        if (!ok) {
            cairn_free(ids);
            readable_free(&r);
            return cairn__taxii_error(resp, 404, "no such collection here");
        }
        ro.collections = one;
        ro.n_collections = 1;
    }
    rc = r.n == 0 && crc != 0 ? 0 : cairn_report_sightings(s, &ro, &res);
    if (rc == 0 && res == NULL) {
        res = json_pack("{s:i, s:[]}", "threshold", CAIRN_REPORT_THRESHOLD,
                        "indicators");
        if (res == NULL)
            rc = CAIRN_ENOMEM;
    }
    cairn_free(ids);
    readable_free(&r);
    if (rc < 0)
        return rc == CAIRN_ENOMEM ? rc : cairn__taxii_store_error(resp, rc);
    rc = json_body(resp, res);
    json_decref(res);
    return rc;
}

int cairn__taxii_analysis(struct cairn_store *s, const char *user,
                          const char *root, const char *what,
                          const char *query,
                          const struct cairn_score_opts *score,
                          struct cairn_taxii_response *resp)
{
    static const struct cairn_score_opts defaults = {0};
    if (score == NULL)
        score = &defaults;
    struct readable r;
    json_t *res = NULL;
    char arg[CAIRN_VALUE_URL_MAX + 2] = "";
    bool is_lookup = strcmp(what, "lookup") == 0;
    bool is_neigh = strcmp(what, "neighbourhood") == 0;
    if (strcmp(what, "sightings") == 0)
        return sightings(s, user, root, query != NULL ? query : "", score,
                         resp);
    if (!is_lookup && !is_neigh)
        return cairn__taxii_error(resp, 404,
                                  "there is no cairn endpoint at this path");
    int rc = param(query != NULL ? query : "", is_lookup ? "value" : "id",
                   arg, sizeof arg);
    if (rc < 0)
        return cairn__taxii_error(resp, 400,
                                  "the %s parameter is too long or not "
                                  "properly percent-encoded",
                                  is_lookup ? "value" : "id");
    if (rc == 1 || arg[0] == '\0')
        return cairn__taxii_error(resp, 400, "name the %s: ?%s=...",
                                  is_lookup ? "value" : "object",
                                  is_lookup ? "value" : "id");
    rc = readable_load(s, user, root, &r);
    if (rc < 0) {
        readable_free(&r);
        return rc == CAIRN_ENOMEM ? rc : cairn__taxii_store_error(resp, rc);
    }
    /* every indicator matched with its score (docs/analysis.md) */
    struct cairn_lookup_opts lo = {
        .visible = visible, .visible_ud = &r, .score = score};
    rc = is_lookup ? cairn_lookup(s, arg, &lo, &res)
                   : cairn_neighbourhood(s, arg, &lo, &res);
    readable_free(&r);
    if (rc == CAIRN_ENOTFOUND)
        return cairn__taxii_error(resp, 404, "there is no such object");
    if (rc == CAIRN_EINVAL)
        return cairn__taxii_error(resp, 400, "the %s is empty or too long",
                                  is_lookup ? "value" : "id");
    if (rc == CAIRN_EUNSUPPORTED)
        return cairn__taxii_error(resp, 501,
                                  "this store keeps no correlation index");
    if (rc < 0)
        return rc == CAIRN_ENOMEM ? rc : cairn__taxii_store_error(resp, rc);
    rc = json_body(resp, res);
    json_decref(res);
    return rc;
}
