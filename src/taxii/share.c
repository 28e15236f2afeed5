/* SPDX-License-Identifier: Apache-2.0 */
/* Sharing rules on the way out: TLP 2.0 decisions and sighting pseudonyms. */
#include <string.h>

#include "taxii/taxii_int.h"

/*
 * Namespace of the pseudonym UUIDs (version 5): fixed, so a peer sees the
 * same pseudonym for the same identity on every push and every restart.
 */
#define PSEUDONYM_NS "18959242-460a-43b1-981b-a21486fc65c4"
/* A fixed timestamp keeps the pseudonym objects identical on re-sends. */
#define PSEUDONYM_TIME "2020-01-01T00:00:00.000Z"
#define PSEUDONYM_NAME "anonymous member"

/*
 * The level one marking reference stands for. Only TLP restricts: a
 * statement (copyright, terms of use) or another definition says who
 * owns the text or how to use it, not who may see it, so it leaves the
 * object's level alone, unless the configuration lists it as
 * restrictive (then it is RED). A reference that is not a string is RED:
 * nothing can be known of it.
 */
static enum cairn_tlp ref_level(const json_t *ref,
                                const struct cairn_share_reader *r)
{
    const char *id = json_string_value(ref);
    if (id == NULL)
        return CAIRN_TLP_RED;
    enum cairn_tlp t = cairn_tlp_of_marking(id);
    if (t != CAIRN_TLP_NONE)
        return t;
    for (size_t i = 0; r != NULL && i < r->n_restricted; i++)
        if (r->restricted[i] != NULL && strcmp(r->restricted[i], id) == 0)
            return CAIRN_TLP_RED;
    return CAIRN_TLP_NONE;
}

/* CAIRN_TLP_NONE when the object carries no restricting marking. */
static enum cairn_tlp marked_level(const json_t *obj,
                                   const struct cairn_share_reader *r)
{
    enum cairn_tlp level = CAIRN_TLP_NONE;
    const json_t *refs = json_object_get(obj, "object_marking_refs");
    const json_t *gran = json_object_get(obj, "granular_markings");
    size_t i;
    const json_t *e;

    if (refs != NULL) {
        if (!json_is_array(refs))
            return CAIRN_TLP_RED;
        json_array_foreach(refs, i, e)
        {
            enum cairn_tlp t = ref_level(e, r);
            if (t > level)
                level = t;
        }
    }
    if (gran != NULL) {
        if (!json_is_array(gran))
            return CAIRN_TLP_RED;
        json_array_foreach(gran, i, e)
        {
            const json_t *ref = json_object_get(e, "marking_ref");
            /* A granular marking with only "lang" restricts nothing. */
            if (!json_is_object(e))
                return CAIRN_TLP_RED;
            if (ref == NULL)
                continue;
            enum cairn_tlp t = ref_level(ref, r);
            if (t > level)
                level = t;
        }
    }
    return level;
}

static enum cairn_tlp level_for(const json_t *obj, int coll_default,
                                const struct cairn_share_reader *r)
{
    if (!json_is_object(obj))
        return CAIRN_TLP_RED;
    /* The TLP definitions themselves are public: readers need them to
     * understand the markings on what they receive. */
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *id = json_string_value(json_object_get(obj, "id"));
    if (type != NULL && strcmp(type, "marking-definition") == 0 &&
        cairn_tlp_of_marking(id) != CAIRN_TLP_NONE)
        return CAIRN_TLP_CLEAR;
    enum cairn_tlp level = marked_level(obj, r);
    if (level != CAIRN_TLP_NONE)
        return level;
    if (coll_default <= (int)CAIRN_TLP_NONE || coll_default > CAIRN_TLP_RED)
        return CAIRN_TLP_CLEAR;
    return (enum cairn_tlp)coll_default;
}

enum cairn_tlp cairn_share_level(const json_t *obj, int coll_default)
{
    return level_for(obj, coll_default, NULL);
}

/* Whether the object names the reader's identity; `anyone`: anybody. */
static bool names_reader(const json_t *obj, const char *identity,
                         bool *anyone)
{
    const char *by = json_string_value(json_object_get(obj, "created_by_ref"));
    const json_t *to = json_object_get(obj, "x_cairn_recipients");
    size_t i;
    const json_t *e;

    *anyone = by != NULL;
    json_array_foreach(to, i, e)
    {
        if (json_is_string(e))
            *anyone = true;
    }
    if (identity == NULL || identity[0] == '\0')
        return false;
    if (by != NULL && strcmp(by, identity) == 0)
        return true;
    json_array_foreach(to, i, e)
    {
        const char *s = json_string_value(e);
        if (s != NULL && strcmp(s, identity) == 0)
            return true;
    }
    return false;
}

enum cairn_share_verdict cairn_share_decide(const json_t *obj,
                                            int coll_default,
                                            const struct cairn_share_reader *r)
{
    static const struct cairn_share_reader nobody = {0};
    if (r == NULL)
        r = &nobody;
    enum cairn_tlp level = level_for(obj, coll_default, r);
    if (level <= CAIRN_TLP_GREEN)
        return CAIRN_SHARE_ALLOW;
    if ((level == CAIRN_TLP_AMBER || level == CAIRN_TLP_AMBER_STRICT) &&
        r->member)
        return CAIRN_SHARE_ALLOW;
    if (!json_is_object(obj))
        return CAIRN_SHARE_NAMES_NOBODY;
    bool anyone = false;
    if (names_reader(obj, r->identity, &anyone))
        return CAIRN_SHARE_ALLOW;
    if (level == CAIRN_TLP_AMBER || level == CAIRN_TLP_AMBER_STRICT)
        return CAIRN_SHARE_NOT_MEMBER;
    return anyone ? CAIRN_SHARE_NOT_NAMED : CAIRN_SHARE_NAMES_NOBODY;
}

bool cairn_share_allowed(const json_t *obj, int coll_default,
                         const struct cairn_share_reader *r)
{
    return cairn_share_decide(obj, coll_default, r) == CAIRN_SHARE_ALLOW;
}

enum cairn_share_verdict
cairn_share_decide_text(const char *json, size_t len, int coll_default,
                        const struct cairn_share_reader *r)
{
    if (json == NULL || len == 0)
        return CAIRN_SHARE_NAMES_NOBODY;
    /*
     * A marking needs a member whose name contains "marking_ref"; written
     * with escapes it contains a backslash. Text with neither has no
     * marking, and under a default everyone may read, nothing to decide.
     */
    if (coll_default <= CAIRN_TLP_GREEN &&
        memmem(json, len, "marking_ref", 11) == NULL &&
        memchr(json, '\\', len) == NULL)
        return CAIRN_SHARE_ALLOW;
    json_error_t err;
    json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    enum cairn_share_verdict v =
        json_is_object(obj) ? cairn_share_decide(obj, coll_default, r)
                            : CAIRN_SHARE_NAMES_NOBODY;
    json_decref(obj);
    return v;
}

bool cairn_share_allowed_text(const char *json, size_t len, int coll_default,
                              const struct cairn_share_reader *r)
{
    return cairn_share_decide_text(json, len, coll_default, r) ==
           CAIRN_SHARE_ALLOW;
}

const char *cairn_share_verdict_text(enum cairn_share_verdict v)
{
    switch (v) {
    case CAIRN_SHARE_ALLOW:
        return "may be shared";
    case CAIRN_SHARE_NOT_MEMBER:
        return "TLP:AMBER, the reader is not a community member";
    case CAIRN_SHARE_NOT_NAMED:
        return "TLP:RED or a restrictive marking, the reader is not named";
    case CAIRN_SHARE_NAMES_NOBODY:
        return "TLP:RED or a restrictive marking, and no created_by_ref or "
               "x_cairn_recipients names anyone who may have it";
    }
    return "withheld";
}

/* ---- anonymising sightings ------------------------------------------------
 */

int cairn_share_pseudonym(const char *peer, const char *id,
                          char out[CAIRN_SHARE_PSEUDONYM_LEN])
{
    char uuid[CAIRN_UUID_STRLEN];
    struct cairn_buf name;
    int rc;

    out[0] = '\0';
    if (peer == NULL || id == NULL)
        return CAIRN_EINVAL;
    cairn_buf_init(&name, 4096);
    /* The newline cannot be in a peer name read from an INI file. */
    rc = cairn_buf_printf(&name, "%s\n%s", peer, id);
    if (rc == 0)
        rc = cairn_uuid5(PSEUDONYM_NS, name.data, name.len, uuid);
    if (rc == 0)
        snprintf(out, CAIRN_SHARE_PSEUDONYM_LEN, "identity--%s", uuid);
    cairn_buf_release(&name);
    return rc == CAIRN_ETOOBIG ? CAIRN_EINVAL : rc;
}

static bool listed(const json_t *identities, const char *id)
{
    size_t i;
    const json_t *e;
    json_array_foreach(identities, i, e)
    {
        const char *s = json_string_value(json_object_get(e, "id"));
        if (s != NULL && strcmp(s, id) == 0)
            return true;
    }
    return false;
}

/* The pseudonym of `ref` as a new JSON string; its identity listed. */
static int pseudonymise(const char *peer, const json_t *ref, json_t *identities,
                        json_t **out)
{
    char id[CAIRN_SHARE_PSEUDONYM_LEN];
    *out = NULL;
    if (!json_is_string(ref))
        return CAIRN_EINVAL;
    int rc = cairn_share_pseudonym(peer, json_string_value(ref), id);
    if (rc < 0)
        return rc;
    if (identities != NULL && !listed(identities, id)) {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "identity",
                      "spec_version", "2.1", "id", id, "created",
                      PSEUDONYM_TIME, "modified", PSEUDONYM_TIME, "name",
                      PSEUDONYM_NAME, "identity_class", "organization");
        if (o == NULL || json_array_append_new(identities, o) < 0)
            return CAIRN_ENOMEM;
    }
    *out = json_string(id);
    return *out != NULL ? 0 : CAIRN_ENOMEM;
}

int cairn_share_anonymize(json_t *obj, const char *peer,
                          enum cairn_share_anon mode, json_t *identities)
{
    if (!json_is_object(obj) || (identities && !json_is_array(identities)))
        return CAIRN_EINVAL;
    const char *type = json_string_value(json_object_get(obj, "type"));
    if (mode == CAIRN_SHARE_ANON_NO || type == NULL ||
        strcmp(type, "sighting") != 0)
        return 0;
    if (mode == CAIRN_SHARE_ANON_REMOVE) {
        json_object_del(obj, "created_by_ref");
        json_object_del(obj, "where_sighted_refs");
        return 0;
    }
    if (mode != CAIRN_SHARE_ANON_PSEUDONYM || peer == NULL)
        return CAIRN_EINVAL;
    json_t *by = json_object_get(obj, "created_by_ref");
    json_t *where = json_object_get(obj, "where_sighted_refs");
    json_t *v = NULL;
    int rc = 0;
    if (by != NULL) {
        rc = pseudonymise(peer, by, identities, &v);
        if (rc == 0 && json_object_set_new(obj, "created_by_ref", v) < 0)
            rc = CAIRN_ENOMEM;
        if (rc < 0)
            return rc;
    }
    if (where == NULL)
        return 0;
    if (!json_is_array(where))
        return CAIRN_EINVAL;
    json_t *list = json_array();
    if (list == NULL)
        return CAIRN_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(where, i, e)
    {
        rc = pseudonymise(peer, e, identities, &v);
        if (rc < 0)
            break;
        if (json_array_append_new(list, v) < 0) {
            rc = CAIRN_ENOMEM;
            break;
        }
    }
    if (rc == 0 && json_object_set_new(obj, "where_sighted_refs", list) < 0)
        rc = CAIRN_ENOMEM;
    else if (rc < 0)
        json_decref(list);
    return rc;
}

/* ---- status resources through the sharing rules ----------------------- */

/* One listed item of a status and what the viewer may know of it. */
struct seen_item {
    struct cairn_store_result *r;
    bool conflict;  /* a failure: other content holds this id and version */
    bool versioned; /* r->version is a timestamp, in `version` */
    struct cairn_time version;
    bool look;    /* to be looked up in the store */
    bool visible; /* stored, and the viewer may see it (or its author) */
};

static bool row_is(const struct cairn_store_row *row,
                   const struct seen_item *it)
{
    if (strcmp(row->id, it->r->id) != 0)
        return false;
    if (!it->versioned)
        return row->modified == NULL && row->created == NULL;
    struct cairn_time t;
    return row->version != NULL &&
           cairn_time_parse(row->version, strlen(row->version), true, &t) ==
               0 &&
           cairn_time_cmp(&t, &it->version) == 0;
}

/* Where a status is looked at: the store, its collection, the viewer. */
struct status_view {
    struct cairn_store *s;
    const char *coll;
    int tlp_default;
    struct cairn_share_reader reader;
    size_t page_bytes;
};

/*
 * Mark which of the items `at` (n of them, at most CAIRN_STORE_FILTER_MAX,
 * all versioned or all not) are stored and visible to the viewer, reading
 * the candidate rows page by page within the page budget.
 */
static int look_up(const struct status_view *v, struct seen_item *items,
                   const size_t *at, size_t n, bool versioned)
{
    const char *ids[CAIRN_STORE_FILTER_MAX];
    struct cairn_time times[CAIRN_STORE_FILTER_MAX];
    for (size_t i = 0; i < n; i++) {
        ids[i] = items[at[i]].r->id;
        times[i] = items[at[i]].version;
    }
    /* Versioned items by their times; an object without created and
     * modified has one version, found by its id alone. */
    struct cairn_store_query q = {
        .collection = v->coll,
        .ids = ids,
        .n_ids = n,
        .versions = versioned ? 0 : CAIRN_STORE_VERSION_ALL,
        .version_times = versioned ? times : NULL,
        .n_version_times = versioned ? n : 0,
        .limit = CAIRN_STORE_LIMIT_MAX,
        .with_json = true,
        .max_bytes = v->page_bytes,
    };
    char cursor[CAIRN_STORE_CURSOR_LEN];
    for (;;) {
        struct cairn_store_page *p = NULL;
        int rc = cairn_store_query(v->s, &q, &p);
        if (rc < 0)
            return rc;
        for (size_t k = 0; k < p->n; k++) {
            const struct cairn_store_row *row = &p->rows[k];
            if (row->json == NULL ||
                !cairn_share_allowed_text(row->json, row->json_len,
                                          v->tlp_default, &v->reader))
                continue;
            for (size_t i = 0; i < n; i++)
                if (row_is(row, &items[at[i]]))
                    items[at[i]].visible = true;
        }
        bool more = p->more;
        memcpy(cursor, p->next, sizeof cursor);
        cairn_store_page_free(p);
        if (!more)
            return 0;
        q.next = cursor;
    }
}

/* Look up every item marked `look`, in groups the store takes at once. */
static int look_up_all(const struct status_view *v, struct seen_item *items,
                       size_t n)
{
    size_t at[CAIRN_STORE_FILTER_MAX];
    int rc = 0;
    for (int versioned = 0; rc == 0 && versioned < 2; versioned++) {
        size_t g = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (!items[i].look || items[i].versioned != (versioned != 0))
                continue;
            at[g++] = i;
            if (g == CAIRN_STORE_FILTER_MAX) {
                rc = look_up(v, items, at, g, versioned != 0);
                g = 0;
            }
        }
        if (rc == 0 && g > 0)
            rc = look_up(v, items, at, g, versioned != 0);
    }
    return rc;
}

/*
 * Rebuild one list of `st` from `items` (its entries, in order): keep the
 * visible ones, and move conflicts the viewer may not see to `moved`.
 */
static size_t keep_visible(struct cairn_store_result *list, size_t n,
                           const struct seen_item *items,
                           struct cairn_store_result *moved, size_t *n_moved)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].conflict && !items[i].visible) {
            moved[*n_moved] = list[i];
            moved[*n_moved].outcome = CAIRN_STORE_EXISTED;
            moved[*n_moved].message[0] = '\0';
            (*n_moved)++;
        } else if (items[i].visible) {
            list[kept++] = list[i];
        }
    }
    return kept;
}

int cairn__taxii_status_view(struct cairn_store *s,
                             struct cairn_store_status *st, const char *viewer,
                             size_t page_bytes)
{
    struct cairn_store_user_share sh = {0};
    struct status_view v = {
        .s = s, .coll = st->collection, .page_bytes = page_bytes};
    struct seen_item *items = NULL;
    struct cairn_store_result *moved = NULL;
    int rc = viewer != NULL ? cairn_store_user_share_get(s, viewer, &sh)
                            : CAIRN_ENOTFOUND;
    if (rc == CAIRN_ENOTFOUND) {
        memset(&sh, 0, sizeof sh);
        rc = 0;
    }
    if (rc == 0)
        rc = cairn_store_collection_tlp_get(s, st->collection, &v.tlp_default);
    if (rc < 0)
        return rc;
    v.reader.identity = sh.identity;
    v.reader.member = sh.member;
    bool owner =
        viewer != NULL && st->user != NULL && strcmp(st->user, viewer) == 0;
    size_t n = st->n_successes + st->n_failures + st->n_pendings;
    if (n == 0)
        return 0;
    items = cairn_calloc(n, sizeof *items);
    moved = cairn_calloc(st->n_failures ? st->n_failures : 1, sizeof *moved);
    if (items == NULL || moved == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    /* Successes, failures, pendings, in that order. The author of the
     * request knows its own objects: only its conflicts need a look. */
    struct cairn_store_result *lists[3] = {st->successes, st->failures,
                                           st->pendings};
    size_t counts[3] = {st->n_successes, st->n_failures, st->n_pendings};
    size_t k = 0;
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < counts[l]; i++, k++) {
            struct seen_item *it = &items[k];
            it->r = &lists[l][i];
            it->conflict =
                l == 1 && strncmp(it->r->message, CAIRN_STORE_CONFLICT_MSG,
                                  sizeof it->r->message) == 0;
            it->versioned = it->r->version[0] != '\0';
            bool stored_form =
                !it->versioned ||
                cairn_time_parse(it->r->version,
                                 strnlen(it->r->version, sizeof it->r->version),
                                 true, &it->version) == 0;
            it->look = stored_form && (!owner || it->conflict);
            it->visible = owner && !it->conflict;
        }
    }
    if ((rc = look_up_all(&v, items, n)) < 0)
        goto out;
    size_t n_moved = 0;
    struct seen_item *at = items;
    size_t ns =
        keep_visible(st->successes, st->n_successes, at, moved, &n_moved);
    at += st->n_successes;
    size_t nf = keep_visible(st->failures, st->n_failures, at, moved, &n_moved);
    at += st->n_failures;
    size_t np = keep_visible(st->pendings, st->n_pendings, at, moved, &n_moved);
    /* A conflict with what the viewer may not see reads as the version
     * stored already: a failure would say that it exists. */
    if (n_moved > 0) {
        st->success += (int64_t)n_moved;
        st->failure -= (int64_t)n_moved;
    }
    if (owner && n_moved > 0) {
        struct cairn_store_result *grown = cairn_realloc(
            st->successes, (ns + n_moved) * sizeof *st->successes);
        if (grown == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        memcpy(grown + ns, moved, n_moved * sizeof *moved);
        st->successes = grown;
        ns += n_moved;
    }
    st->n_successes = ns;
    st->n_failures = nf;
    st->n_pendings = np;
    rc = 0;
out:
    cairn_free(moved);
    cairn_free(items);
    return rc;
}
