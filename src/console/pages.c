/* SPDX-License-Identifier: Apache-2.0 */
/* The console's reading pages: dashboard, search, object, sightings. */
#include <math.h>
#include <string.h>

#include "cairn/analysis.h"
#include "cairn/archive.h"
#include "console/console_int.h"

#define LATEST_N     10
#define GRAPH_MAX    16  /* neighbours drawn around an object */
#define HEAT_ROWS    15
#define SIGHTINGS_LISTED 50 /* sightings in an indicator's table */
#define HEAT_COLS    10

#define P(...)                                                                 \
    do {                                                                       \
        if (rc == 0)                                                           \
            rc = cairn_buf_printf(&v->b, __VA_ARGS__);                         \
    } while (0)
#define S(str)                                                                 \
    do {                                                                       \
        if (rc == 0)                                                           \
            rc = cairn_buf_puts(&v->b, (str));                                 \
    } while (0)
#define E(str)                                                                 \
    do {                                                                       \
        if (rc == 0)                                                           \
            rc = cairn__console_escs(&v->b, (str));                            \
    } while (0)
#define U(str)                                                                 \
    do {                                                                       \
        if (rc == 0)                                                           \
            rc = cairn__console_urlenc(&v->b, (str));                          \
    } while (0)

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* A link to an object's page. */
static int obj_link(struct console_view *v, const char *id, const char *label)
{
    int rc = 0;
    S("<a href=\"/ui/object?id=");
    U(id);
    S("\">");
    E(label != NULL && label[0] != '\0' ? label : id);
    S("</a>");
    return rc;
}

static int tlp_badge(struct console_view *v, const json_t *obj, int deflt)
{
    enum cairn_tlp t = cairn_share_level(obj, deflt);
    const char *name = cairn_tlp_name(t);
    static const char *const cls[] = {"none",  "clear",        "green",
                                      "amber", "amber-strict", "red"};
    int rc = 0;
    P("<span class=\"tlp tlp-%s\">", cls[(unsigned)t < 6 ? t : 0]);
    E(name != NULL ? name : "TLP:CLEAR");
    S("</span>");
    return rc;
}

/* ---- the analysis module and the archive, with the console's rights --------- */

/*
 * The filter of cairn_lookup, cairn_neighbourhood and
 * cairn_report_sightings: rows of the collections the user may read that
 * the sharing rules let them see (optionally only rows of one collection,
 * or rows that mention one id). It does not use the store.
 */
struct vis_ctx {
    const struct console_view *v;
    const char *only_coll; /* NULL or "": every readable collection */
    const char *mention;   /* NULL: any row */
};

static bool vis_cb(void *ud, const char *collection,
                   const struct cairn_store_row *row)
{
    const struct vis_ctx *x = ud;
    if (x->only_coll != NULL && x->only_coll[0] != '\0' &&
        strcmp(x->only_coll, collection) != 0)
        return false;
    for (size_t c = 0; c < x->v->n_colls; c++)
        if (strcmp(x->v->colls[c].id, collection) == 0)
            return cairn__console_visible(x->v, &x->v->colls[c], row) &&
                   (x->mention == NULL ||
                    memmem(row->json, row->json_len, x->mention,
                           strlen(x->mention)) != NULL);
    return false;
}

/* The readable collection `id`, or NULL. */
static const struct console_coll *coll_of(const struct console_view *v,
                                          const char *id)
{
    for (size_t c = 0; id != NULL && c < v->n_colls; c++)
        if ((v->colls[c].rights & CAIRN_STORE_READ) != 0 &&
            strcmp(v->colls[c].id, id) == 0)
            return &v->colls[c];
    return NULL;
}

/*
 * The node's telemetry archive, opened read only as `cairn archive stats`
 * and `cairn archive lookup` open it. Shown to administrators only: no
 * collection's rights govern the node's own logs. 1 when there is none
 * to show (not an admin, no archive configured or made yet).
 */
static int archive_open(struct console_view *v, struct cairn_archive **out)
{
    *out = NULL;
    if (!v->admin || v->con->archive_dir == NULL)
        return 1;
    struct cairn_archive_opts o = {.read_only = true};
    int rc = cairn_archive_open(v->con->archive_dir, &o, out, NULL);
    return rc == CAIRN_EIO ? 1 : rc;
}

/* ---- dashboard ------------------------------------------------------------ */

struct recent {
    struct cairn_time added;
    char *json;
    size_t coll;
};

static int recent_cmp(const void *a, const void *b)
{
    const struct recent *x = a, *y = b;
    return -cairn_time_cmp(&x->added, &y->added);
}

static void recent_free(struct recent *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cairn_free(r[i].json);
    cairn_free(r);
}

/* The latest `want` visible versions of `type` over the readable
 * collections, newest first. */
static int gather_recent(struct console_view *v, const char *type, size_t want,
                         struct recent **out, size_t *n_out)
{
    struct recent *r = NULL;
    size_t n = 0;
    int rc = 0;
    for (size_t c = 0; rc == 0 && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0)
            continue;
        struct cairn_store_page *p = NULL;
        rc = cairn__console_latest(v->s, v->colls[c].id, type, want, &p);
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            if (!cairn__console_visible(v, &v->colls[c], &p->rows[i]))
                continue;
            struct recent *g = cairn_realloc(r, (n + 1) * sizeof *r);
            if (g == NULL) {
                rc = CAIRN_ENOMEM;
                break;
            }
            r = g;
            r[n].added = p->rows[i].date_added;
            r[n].coll = c;
            r[n].json = cairn_strndup(p->rows[i].json, p->rows[i].json_len);
            if (r[n++].json == NULL)
                rc = CAIRN_ENOMEM;
        }
        cairn_store_page_free(p);
    }
    if (rc == 0 && n > 0)
        qsort(r, n, sizeof *r, recent_cmp);
    if (rc < 0) {
        recent_free(r, n);
        r = NULL;
        n = 0;
    }
    *out = r;
    *n_out = n < want ? n : want;
    for (size_t i = *n_out; i < n; i++) {
        cairn_free(r[i].json);
        r[i].json = NULL;
    }
    return rc;
}

static int recent_table(struct console_view *v, const struct recent *r,
                        size_t n, bool sightings)
{
    int rc = 0;
    if (n == 0) {
        S("<p class=\"empty\">Nothing yet.</p>");
        return rc;
    }
    S("<div class=\"scroll\"><table><thead><tr>");
    S(sightings ? "<th scope=\"col\">Sighting of</th><th scope=\"col\">Count"
                  "</th><th scope=\"col\">Last seen</th>"
                : "<th scope=\"col\">Object</th><th scope=\"col\">Type</th>");
    S("<th scope=\"col\">Collection</th><th scope=\"col\">Added</th></tr>"
      "</thead><tbody>");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *o = json_loads(r[i].json, 0, NULL);
        char ts[40] = "";
        cairn_time_format(&r[i].added, 0, ts, sizeof ts);
        S("<tr><td>");
        if (sightings) {
            const char *of = jstr(o, "sighting_of_ref");
            if (rc == 0)
                rc = obj_link(v, jstr(o, "id"), "sighting");
            S(" of ");
            if (rc == 0)
                rc = obj_link(v, of, of);
            P("</td><td>%lld</td><td>",
              (long long)json_integer_value(json_object_get(o, "count")));
            E(jstr(o, "last_seen"));
        } else {
            const char *name = jstr(o, "name");
            if (rc == 0)
                rc = obj_link(v, jstr(o, "id"), name);
            S("</td><td>");
            E(jstr(o, "type"));
        }
        S("</td><td>");
        E(v->colls[r[i].coll].title);
        S("</td><td>");
        E(ts);
        S("</td></tr>");
        json_decref(o);
    }
    S("</tbody></table></div>");
    return rc;
}

/* The archive's state, as `cairn archive stats` prints it. */
static int archive_state(struct console_view *v)
{
    struct cairn_archive *a = NULL;
    struct cairn_archive_stats st;
    int rc = archive_open(v, &a);
    if (rc == 1)
        return v->admin && v->con->archive_dir != NULL
                   ? cairn_buf_puts(&v->b,
                                    "<section aria-labelledby=\"h-arch\"><h2 "
                                    "id=\"h-arch\">Archive</h2><p "
                                    "class=\"empty\" id=\"archive-none\">No "
                                    "telemetry has been archived yet.</p>"
                                    "</section>")
                   : 0;
    if (rc == 0)
        rc = cairn_archive_get_stats(a, &st);
    cairn_archive_free(a);
    int err = rc;
    if (err == CAIRN_ENOMEM)
        return err;
    rc = 0;
    S("<section aria-labelledby=\"h-arch\"><h2 id=\"h-arch\">Archive</h2>");
    if (err < 0) {
        S("<p class=\"bad\" id=\"archive-error\">The archive cannot be "
          "read: ");
        E(cairn_strerror(err));
        S(".</p></section>");
        return rc;
    }
    char first[40] = "–", last[40] = "–";
    if (st.has_range) {
        cairn_time_format(&st.first, 0, first, sizeof first);
        cairn_time_format(&st.last, 0, last, sizeof last);
    }
    uint64_t disk = st.data_bytes + st.index_bytes;
    P("<div class=\"scroll\"><table id=\"archive\"><tbody>"
      "<tr><th scope=\"row\">Events</th><td>%llu</td></tr>"
      "<tr><th scope=\"row\">Segments</th><td>%llu</td></tr>"
      "<tr><th scope=\"row\">Distinct values</th><td>%llu</td></tr>"
      "<tr><th scope=\"row\">Bytes read</th><td>%llu</td></tr>"
      "<tr><th scope=\"row\">Bytes on disk</th><td>%llu (%.3f of those "
      "read)</td></tr>"
      "<tr><th scope=\"row\">First event</th><td>%s</td></tr>"
      "<tr><th scope=\"row\">Last event</th><td>%s</td></tr>"
      "</tbody></table></div></section>",
      (unsigned long long)st.events, (unsigned long long)st.segments,
      (unsigned long long)st.values, (unsigned long long)st.raw_bytes,
      (unsigned long long)disk,
      st.raw_bytes ? (double)disk / (double)st.raw_bytes : 0.0, first, last);
    return rc;
}

int cairn__console_dashboard(struct console_view *v)
{
    struct recent *r = NULL;
    size_t n = 0;
    int rc = cairn__console_page_begin(v, "Dashboard");
    S("<section aria-labelledby=\"h-colls\"><h2 id=\"h-colls\">Collections"
      "</h2>");
    if (v->n_colls == 0)
        S("<p class=\"empty\">You have no rights on any collection yet; an "
          "administrator grants them.</p>");
    else
        S("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Title"
          "</th><th scope=\"col\">API root</th><th scope=\"col\">Objects "
          "(versions)</th><th scope=\"col\">Rights</th></tr></thead><tbody>");
    for (size_t i = 0; rc == 0 && i < v->n_colls; i++) {
        struct console_coll *c = &v->colls[i];
        size_t count = 0;
        bool readable = (c->rights & CAIRN_STORE_READ) != 0;
        if (readable)
            rc = cairn__console_count(v, c->id, &count);
        S("<tr><td>");
        E(c->title);
        S("<br><small>");
        E(c->id);
        S("</small></td><td>");
        E(c->api_root);
        S("</td><td>");
        if (readable)
            P("%zu", count);
        else
            S("–");
        P("</td><td>%s%s%s</td></tr>",
          readable ? "read" : "",
          readable && (c->rights & CAIRN_STORE_WRITE) ? ", " : "",
          (c->rights & CAIRN_STORE_WRITE) ? "write" : "");
    }
    if (v->n_colls > 0)
        S("</tbody></table></div>");
    S("</section><section aria-labelledby=\"h-new\"><h2 id=\"h-new\">"
      "Latest arrivals</h2>");
    if (rc == 0)
        rc = gather_recent(v, NULL, LATEST_N, &r, &n);
    if (rc == 0)
        rc = recent_table(v, r, n, false);
    recent_free(r, n);
    r = NULL;
    n = 0;
    S("</section><section aria-labelledby=\"h-sight\"><h2 id=\"h-sight\">"
      "Latest sightings</h2>");
    if (rc == 0)
        rc = gather_recent(v, "sighting", LATEST_N, &r, &n);
    if (rc == 0)
        rc = recent_table(v, r, n, true);
    recent_free(r, n);
    S("</section><section aria-labelledby=\"h-peers\"><h2 id=\"h-peers\">"
      "Peers</h2>");
    const struct cairn_peers *peers = v->con->peers;
    if (peers == NULL || peers->n == 0) {
        S("<p class=\"empty\">No peers are configured.</p>");
    } else {
        S("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Peer"
          "</th><th scope=\"col\">Last sync</th><th scope=\"col\">Last error"
          "</th></tr></thead><tbody>");
        pthread_mutex_lock(&v->con->lock);
        for (size_t i = 0; rc == 0 && i < peers->n; i++) {
            struct console_peer_state *p = &v->con->peer_state[i];
            char ts[40] = "never";
            if (p->ran)
                cairn_time_format(&p->at, 0, ts, sizeof ts);
            S("<tr><td>");
            E(p->name);
            S("</td><td>");
            E(ts);
            P("</td><td class=\"%s\">", p->ran && p->rc != 0 ? "bad" : "");
            E(p->ran && p->rc != 0 ? p->error : "–");
            S("</td></tr>");
        }
        pthread_mutex_unlock(&v->con->lock);
        S("</tbody></table></div>");
    }
    S("</section>");
    if (rc == 0)
        rc = archive_state(v);
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}

/* ---- search ------------------------------------------------------------------ */

static bool looks_like_id(const char *q)
{
    const char *dd = strstr(q, "--");
    if (dd == NULL || dd == q)
        return false;
    for (const char *p = q; p < dd; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return false;
    return cairn_uuid_check(dd + 2, strlen(dd + 2), false, NULL);
}

/* Where the readable collections hold object `id`, as visible versions. */
static int id_search(struct console_view *v, const char *id)
{
    int rc = 0;
    size_t found = 0;
    const char *ids[1] = {id};
    S("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Object"
      "</th><th scope=\"col\">Type</th><th scope=\"col\">Collection</th>"
      "</tr></thead><tbody>");
    for (size_t c = 0; rc == 0 && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0)
            continue;
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {.collection = v->colls[c].id,
                                      .ids = ids,
                                      .n_ids = 1,
                                      .with_json = true,
                                      .limit = 1};
        rc = cairn_store_query(v->s, &q, &p);
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            if (!cairn__console_visible(v, &v->colls[c], &p->rows[i]))
                continue;
            json_t *o = json_loadb(p->rows[i].json, p->rows[i].json_len, 0,
                                   NULL);
            S("<tr><td>");
            if (rc == 0) {
                struct cairn_buf *b = &v->b;
                rc = cairn_buf_puts(b, "<a href=\"/ui/object?id=");
                if (rc == 0)
                    rc = cairn__console_urlenc(b, id);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "&amp;c=");
                if (rc == 0)
                    rc = cairn__console_urlenc(b, v->colls[c].id);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "\">");
                const char *name = jstr(o, "name");
                if (rc == 0)
                    rc = cairn__console_escs(b, name[0] ? name : id);
                if (rc == 0)
                    rc = cairn_buf_puts(b, "</a>");
            }
            S("</td><td>");
            E(p->rows[i].type);
            S("</td><td>");
            E(v->colls[c].title);
            S("</td></tr>");
            json_decref(o);
            found++;
        }
        cairn_store_page_free(p);
    }
    S("</tbody></table></div>");
    if (found == 0)
        S("<p class=\"empty\" id=\"no-results\">No object with this id in "
          "the collections you may read.</p>");
    return rc;
}

/* One row of a result table: the object, its type, then `extra` cells. */
static int result_link(struct console_view *v, const json_t *e, bool hit)
{
    int rc = 0;
    const char *name = jstr(e, "name");
    P("<a%s href=\"/ui/object?id=", hit ? " class=\"hit\"" : "");
    U(jstr(e, "id"));
    S("&amp;c=");
    U(jstr(e, "collection"));
    S("\">");
    E(name[0] ? name : jstr(e, "id"));
    S("</a><br><small>");
    E(jstr(e, "id"));
    S("</small>");
    return rc;
}

static int match_rows(struct console_view *v, const json_t *list)
{
    int rc = 0;
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        const struct console_coll *c = coll_of(v, jstr(e, "collection"));
        if (c == NULL || rc < 0)
            continue;
        S("<tr><td>");
        if (rc == 0)
            rc = result_link(v, e, true);
        S("</td><td>");
        E(jstr(e, "type"));
        S("</td><td>");
        E(jstr(e, "matched"));
        S("</td><td class=\"score\">");
        if (json_is_integer(json_object_get(e, "score")))
            P("%lld", (long long)json_integer_value(json_object_get(e, "score")));
        else
            S("–");
        S("</td><td>");
        E(c->title);
        S("</td></tr>");
    }
    return rc;
}

static size_t count_type(const json_t *list, const char *type)
{
    size_t i, n = 0;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (strcmp(jstr(e, "type"), type) == 0)
            n++;
    }
    return n;
}

/* What the archive's catalogue knows of `value` (cairn archive lookup). */
static int archive_hits(struct console_view *v, const char *value)
{
    struct cairn_archive *a = NULL;
    int rc = archive_open(v, &a);
    if (rc == 1)
        return 0;
    size_t len = strlen(value), n = 0;
    char *norm = rc == 0 ? cairn_malloc(len + 4) : NULL;
    struct cairn_archive_value rec;
    int found = 0;
    if (rc == 0 && norm == NULL)
        rc = CAIRN_ENOMEM;
    if (rc == 0) {
        enum cairn_ioc_type t = cairn_hunt_detect(value, len, norm, len + 3, &n);
        if (t == CAIRN_IOC_UNKNOWN) {
            static const enum cairn_ioc_type shapeless[] = {
                CAIRN_IOC_FILENAME, CAIRN_IOC_REGKEY, CAIRN_IOC_STRING};
            for (size_t i = 0; found == 0 && i < 3; i++)
                found = cairn_archive_lookup(a, shapeless[i], value, len, &rec);
        } else {
            found = cairn_archive_lookup(a, t, norm, n, &rec);
        }
    }
    int err = rc < 0 ? rc : found < 0 ? found : 0;
    rc = 0;
    S("<section aria-labelledby=\"h-arch\"><h3 id=\"h-arch\">In the "
      "archive</h3>");
    if (err < 0) {
        S("<p class=\"bad\" id=\"archive-error\">The archive cannot be "
          "read: ");
        E(cairn_strerror(err));
        S(".</p>");
    } else if (found == 0) {
        S("<p class=\"empty\" id=\"archive-miss\">The archived telemetry "
          "never saw this value.</p>");
    } else {
        char first[40] = "–", last[40] = "–";
        if (rec.first_seen.sec || rec.first_seen.nsec)
            cairn_time_format(&rec.first_seen, 0, first, sizeof first);
        if (rec.last_seen.sec || rec.last_seen.nsec)
            cairn_time_format(&rec.last_seen, 0, last, sizeof last);
        P("<p id=\"archive-hit\">Seen %llu time%s in the archived telemetry "
          "as the %s <code>",
          (unsigned long long)rec.count, rec.count == 1 ? "" : "s",
          cairn_ioc_type_name(rec.type));
        if (rc == 0)
            rc = cairn__console_esc(&v->b, rec.value, rec.len);
        S("</code>, first ");
        E(first);
        S(", last ");
        E(last);
        S(".</p>");
    }
    S("</section>");
    cairn_free(norm);
    cairn_archive_free(a);
    return err == CAIRN_ENOMEM ? err : rc;
}

/*
 * A value: cairn_lookup over the correlation index (the value, its parent
 * domains, the CIDR blocks that hold an address, a URL's host), the names
 * under a searched domain, the objects that refer to those (sightings,
 * reports, relationships), and the archive's record of the value.
 */
static int value_search(struct console_view *v, const char *value)
{
    struct vis_ctx vc = {.v = v};
    struct cairn_score_opts so = {0};
    struct cairn_lookup_opts lo = {
        .visible = vis_cb, .visible_ud = &vc, .score = &so};
    json_t *res = NULL, *under = json_array();
    int rc = under != NULL ? cairn_lookup(v->s, value, &lo, &res)
                           : CAIRN_ENOMEM;
    if (rc == CAIRN_EINVAL || rc == CAIRN_EUNSUPPORTED) {
        bool inval = rc == CAIRN_EINVAL;
        json_decref(under);
        rc = 0;
        S(inval
              ? "<p class=\"empty\" id=\"no-results\">This value is too long "
                "to look up.</p>"
              : "<p class=\"empty\" id=\"no-results\">This store keeps no "
                "correlation index to search.</p>");
        return rc;
    }
    const json_t *matches = json_object_get(res, "matches");
    const json_t *related = json_object_get(res, "related");
    if (rc < 0)
        goto out;
    /* The normal form of a domain (cairn_hunt_detect does not end it). */
    size_t len = strlen(value), nl = 0;
    char *dom = cairn_malloc(len + 4);
    if (dom == NULL) {
        rc = CAIRN_ENOMEM;
        goto out;
    }
    if (cairn_hunt_detect(value, len, dom, len + 3, &nl) == CAIRN_IOC_DOMAIN &&
        nl > 0 && nl <= len + 3) {
        dom[nl] = '\0';
        /* the indicators naming a host under it: one probe of the
         * index's parent keys */
        rc = cairn_lookup_under(v->s, dom, &lo, "indicator", matches, under);
    }
    cairn_free(dom);
    if (rc < 0)
        goto out;
    size_t n_ind = count_type(matches, "indicator") +
                   json_array_size(under);
    size_t n_all = json_array_size(matches) + json_array_size(under);
    if (n_all == 0) {
        S("<p class=\"empty\" id=\"no-results\">No object of the "
          "collections you may read carries this value.</p>");
    } else {
        P("<p id=\"result-count\">%zu indicator%s match%s this value",
          n_ind, n_ind == 1 ? "" : "s", n_ind == 1 ? "es" : "");
        if (n_all > n_ind)
            P(", and %zu other object%s carr%s it", n_all - n_ind,
              n_all - n_ind == 1 ? "" : "s",
              n_all - n_ind == 1 ? "ies" : "y");
        S(".</p><div class=\"scroll\"><table id=\"results\"><thead><tr><th "
          "scope=\"col\">Object</th><th scope=\"col\">Type</th><th "
          "scope=\"col\">Matched as</th><th scope=\"col\">Score</th><th "
          "scope=\"col\">Collection</th></tr></thead><tbody>");
        if (rc == 0)
            rc = match_rows(v, matches);
        if (rc == 0)
            rc = match_rows(v, under);
        S("</tbody></table></div>");
    }
    if (json_array_size(related) > 0) {
        S("<section aria-labelledby=\"h-rel\"><h3 id=\"h-rel\">Sightings, "
          "reports and relationships that refer to them</h3><div "
          "class=\"scroll\"><table id=\"related\"><thead><tr><th "
          "scope=\"col\">Object</th><th scope=\"col\">Type</th><th "
          "scope=\"col\">Refers to</th><th scope=\"col\">Collection</th>"
          "</tr></thead><tbody>");
        size_t i;
        const json_t *e;
        json_array_foreach(related, i, e)
        {
            const struct console_coll *c = coll_of(v, jstr(e, "collection"));
            if (c == NULL || rc < 0)
                continue;
            S("<tr><td>");
            if (rc == 0)
                rc = result_link(v, e, false);
            S("</td><td>");
            E(jstr(e, "type"));
            S("</td><td>");
            if (rc == 0)
                rc = obj_link(v, jstr(e, "refers_to"), NULL);
            S(" <small>(");
            E(jstr(e, "via"));
            S(")</small></td><td>");
            E(c->title);
            S("</td></tr>");
        }
        S("</tbody></table></div></section>");
    }
    if (json_is_true(json_object_get(res, "truncated")))
        P("<p class=\"note\">Only the first %d objects per value are "
          "listed.</p>",
          CAIRN_LOOKUP_LIMIT);
    if (rc == 0)
        rc = archive_hits(v, value);
out:
    json_decref(res);
    json_decref(under);
    return rc;
}

int cairn__console_search(struct console_view *v)
{
    const char *q = cairn__console_form_str(&v->query, "q");
    while (*q == ' ' || *q == '\t')
        q++;
    int rc = cairn__console_page_begin(v, "Search");
    S("<form method=\"get\" action=\"/ui/search\" class=\"card\" "
      "role=\"search\"><p><label for=\"q\">A value (domain, address, URL, "
      "hash, e-mail) or a STIX id</label><input id=\"q\" name=\"q\" "
      "type=\"search\" value=\"");
    E(q);
    S("\" required></p><p><button type=\"submit\" id=\"search-go\">Search"
      "</button></p></form>");
    if (rc == 0 && q[0] != '\0') {
        S("<section aria-labelledby=\"h-res\"><h2 id=\"h-res\">Results for "
          "<q>");
        E(q);
        S("</q></h2>");
        if (rc == 0)
            rc = looks_like_id(q) ? id_search(v, q) : value_search(v, q);
        S("</section>");
    }
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}

/* ---- the indicators of the readable collections, for the hunt page ------- */

static int add_coll_indicators(struct console_view *v, size_t c,
                               struct cairn_hunt_builder *b, size_t *n_added)
{
    const char *types[1] = {"indicator"};
    char cursor[CAIRN_STORE_CURSOR_LEN] = "";
    int rc = 0;
    for (;;) {
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {.collection = v->colls[c].id,
                                      .types = types,
                                      .n_types = 1,
                                      .with_json = true,
                                      .limit = 1000,
                                      .max_bytes = (size_t)16 << 20,
                                      .next = cursor[0] ? cursor : NULL};
        rc = cairn_store_query(v->s, &q, &p);
        if (rc < 0)
            return rc;
        for (size_t i = 0; rc == 0 && i < p->n; i++) {
            if (!cairn__console_visible(v, &v->colls[c], &p->rows[i]))
                continue;
            json_t *o =
                json_loadb(p->rows[i].json, p->rows[i].json_len, 0, NULL);
            if (o == NULL)
                continue;
            int r = cairn_hunt_builder_add_indicator(b, o, NULL);
            if (r == 0)
                (*n_added)++;
            json_decref(o);
            if (r < 0)
                rc = r;
        }
        bool more = p->more;
        if (more)
            memcpy(cursor, p->next, sizeof cursor);
        cairn_store_page_free(p);
        if (rc < 0 || !more)
            return rc;
    }
}

int cairn__console_add_indicators(struct console_view *v,
                                  struct cairn_hunt_builder *b,
                                  const char *only, size_t *n_added)
{
    int rc = 0;
    *n_added = 0;
    for (size_t c = 0; rc == 0 && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0 ||
            (only != NULL && only[0] != '\0' &&
             strcmp(only, v->colls[c].id) != 0))
            continue;
        rc = add_coll_indicators(v, c, b, n_added);
    }
    return rc;
}

/* ---- object ------------------------------------------------------------------ */

struct nb {
    char id[300];
    char label[160];
    char rel[64];
    bool incoming;
};

struct sighting_row {
    char org[300];
    int64_t count;
    char first[40];
    char last[40];
};

static bool is_ref_key(const char *k)
{
    size_t l = strlen(k);
    return (l > 4 && strcmp(k + l - 4, "_ref") == 0) ||
           (l > 5 && strcmp(k + l - 5, "_refs") == 0);
}

/* A neighbour of the graph; `label` may be NULL or "" (its type then). */
static int add_nb(struct nb *nbs, size_t *n, const char *id, const char *rel,
                  bool incoming, const char *label)
{
    if (*n >= GRAPH_MAX || id == NULL || id[0] == '\0' ||
        strlen(id) >= sizeof nbs->id)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(nbs[i].id, id) == 0)
            return 0;
    struct nb *x = &nbs[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->rel, sizeof x->rel, "%s", rel);
    x->incoming = incoming;
    const char *dd = strstr(id, "--");
    int tl = dd ? (int)(dd - id) : (int)strlen(id);
    if (label != NULL && label[0] != '\0')
        snprintf(x->label, sizeof x->label, "%.*s: %.60s", tl, id, label);
    else
        snprintf(x->label, sizeof x->label, "%.*s", tl, id);
    return 0;
}

static int graph_svg(struct console_view *v, const json_t *obj, struct nb *nbs,
                     size_t n)
{
    int rc = 0;
    const double W = 640, H = 420, cx = W / 2, cy = H / 2, R = 150;
    P("<figure><svg class=\"graph\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-labelledby=\"graph-title\"><title id=\"graph-title\">"
      "Neighbourhood of this object</title>",
      W, H);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        double a = 2 * M_PI * (double)i / (double)n - M_PI / 2;
        double x = cx + R * cos(a), y = cy + R * sin(a);
        P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
          "class=\"edge%s\"/>",
          cx, cy, x, y, nbs[i].incoming ? " in" : "");
        P("<text x=\"%.1f\" y=\"%.1f\" class=\"rel\">", (cx + x) / 2,
          (cy + y) / 2 - 4);
        E(nbs[i].rel);
        S("</text>");
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        double a = 2 * M_PI * (double)i / (double)n - M_PI / 2;
        double x = cx + R * cos(a), y = cy + R * sin(a);
        S("<a href=\"/ui/object?id=");
        U(nbs[i].id);
        P("\"><circle cx=\"%.1f\" cy=\"%.1f\" r=\"14\" class=\"node\"/>"
          "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" "
          "text-anchor=\"middle\">",
          x, y, x, y + 28);
        E(nbs[i].label);
        S("</text></a>");
    }
    P("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"22\" class=\"node self\"/>"
      "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">",
      cx, cy, cx, cy + 38);
    const char *name = jstr(obj, "name");
    E(name[0] ? name : jstr(obj, "type"));
    S("</text></svg><figcaption>");
    if (n == 0)
        S("No references to or from this object were found.");
    else
        S("Objects this one refers to, and sightings and relationships that "
          "refer to it (dashed).");
    S("</figcaption></figure>");
    if (n > 0) {
        S("<ul class=\"nb\">");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            S("<li>");
            E(nbs[i].incoming ? "← " : "→ ");
            E(nbs[i].rel);
            S(": ");
            if (rc == 0)
                rc = obj_link(v, nbs[i].id, nbs[i].label);
            S("</li>");
        }
        S("</ul>");
    }
    return rc;
}

/* Bars of a sighting count per day: first_seen of each sighting. */
static int sightings_svg(struct console_view *v, const json_t *list)
{
    int rc = 0;
    size_t n = json_array_size(list);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    double top = 1;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(list, i);
        struct cairn_time t;
        const char *f = jstr(s, "first_seen");
        if (f[0] == '\0')
            f = jstr(s, "date_added");
        if (cairn_time_parse(f, strlen(f), false, &t) != 0)
            continue;
        int64_t day = t.sec / 86400;
        lo = day < lo ? day : lo;
        hi = day > hi ? day : hi;
    }
    if (lo > hi)
        return rc;
    int64_t days = hi - lo + 1;
    if (days > 366) {
        lo = hi - 365;
        days = 366;
    }
    double *per = cairn_calloc((size_t)days, sizeof *per);
    if (per == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(list, i);
        struct cairn_time t;
        const char *f = jstr(s, "first_seen");
        if (f[0] == '\0')
            f = jstr(s, "date_added");
        if (cairn_time_parse(f, strlen(f), false, &t) != 0 ||
            t.sec / 86400 < lo)
            continue;
        json_int_t c = json_integer_value(json_object_get(s, "count"));
        per[t.sec / 86400 - lo] += c > 0 ? (double)c : 1;
        if (per[t.sec / 86400 - lo] > top)
            top = per[t.sec / 86400 - lo];
    }
    const double W = 640, H = 160, bw = W / (double)days;
    P("<figure><svg class=\"bars\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-labelledby=\"bars-title\"><title id=\"bars-title\">Sightings "
      "per day</title>",
      W, H + 20);
    for (int64_t d = 0; rc == 0 && d < days; d++) {
        if (per[d] == 0)
            continue;
        double h = per[d] / top * H;
        P("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
          "class=\"bar\"><title>%.0f</title></rect>",
          (double)d * bw, H - h, bw > 2 ? bw - 1 : bw, h, per[d]);
    }
    struct cairn_time t0 = {.sec = lo * 86400}, t1 = {.sec = hi * 86400};
    char a[40] = "", b[40] = "";
    cairn_time_format(&t0, 0, a, sizeof a);
    cairn_time_format(&t1, 0, b, sizeof b);
    a[10] = b[10] = '\0';
    P("<text x=\"0\" y=\"%.0f\" class=\"axis\">%s</text><text x=\"%.0f\" "
      "y=\"%.0f\" class=\"axis\" text-anchor=\"end\">%s</text></svg>"
      "<figcaption>Sightings per day, most %.0f in one day.</figcaption>"
      "</figure>",
      H + 16, a, W, H + 16, b, top);
    cairn_free(per);
    return rc;
}

/*
 * The neighbourhood of `id` through the correlation index
 * (cairn_neighbourhood, as `cairn lookup --object`): what it refers to,
 * then what refers to it; the sightings of it go to `sightings`.
 */
static int neighbours(struct console_view *v, const char *id, json_t *obj,
                      struct nb *nbs, size_t *n_nb, json_t *sightings)
{
    struct vis_ctx vc = {.v = v};
    struct cairn_lookup_opts lo = {.visible = vis_cb, .visible_ud = &vc};
    json_t *res = NULL;
    int rc = cairn_neighbourhood(v->s, id, &lo, &res);
    if (rc == CAIRN_ENOTFOUND || rc == CAIRN_EUNSUPPORTED)
        rc = 0; /* the references of the object itself still show */
    if (rc < 0)
        return rc;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(res, "refers_to"), i, e)
    {
        add_nb(nbs, n_nb, jstr(e, "id"), jstr(e, "via"), false,
               jstr(e, "name"));
    }
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!is_ref_key(key))
            continue;
        if (json_is_string(val))
            add_nb(nbs, n_nb, json_string_value(val), key, false, NULL);
        json_array_foreach(val, i, e)
        {
            if (json_is_string(e))
                add_nb(nbs, n_nb, json_string_value(e), key, false, NULL);
        }
    }
    json_array_foreach(json_object_get(res, "referred_by"), i, e)
    {
        const char *type = jstr(e, "type");
        if (strcmp(type, "sighting") == 0 &&
            strcmp(jstr(e, "sighting_of_ref"), id) == 0) {
            if (json_array_append(sightings, e) != 0)
                rc = CAIRN_ENOMEM;
            add_nb(nbs, n_nb, jstr(e, "id"), "sighting_of", true, NULL);
        } else if (strcmp(type, "relationship") == 0 &&
                   strcmp(jstr(e, "target_ref"), id) == 0) {
            add_nb(nbs, n_nb, jstr(e, "source_ref"),
                   jstr(e, "relationship_type"), true, NULL);
        } else if (strcmp(type, "relationship") == 0 &&
                   strcmp(jstr(e, "source_ref"), id) == 0) {
            add_nb(nbs, n_nb, jstr(e, "target_ref"),
                   jstr(e, "relationship_type"), false, NULL);
        } else {
            add_nb(nbs, n_nb, jstr(e, "id"), jstr(e, "via"), true,
                   jstr(e, "name"));
        }
    }
    json_decref(res);
    return rc;
}

static int value_cell(struct console_view *v, const char *key,
                      const json_t *val)
{
    int rc = 0;
    if (json_is_string(val)) {
        if (is_ref_key(key))
            rc = obj_link(v, json_string_value(val), NULL);
        else if (strcmp(key, "pattern") == 0) {
            S("<code>");
            E(json_string_value(val));
            S("</code>");
        } else
            E(json_string_value(val));
    } else if (json_is_array(val) && is_ref_key(key)) {
        size_t i;
        json_t *x;
        S("<ul class=\"refs\">");
        json_array_foreach(val, i, x)
        {
            S("<li>");
            if (rc == 0)
                rc = obj_link(v, json_string_value(x) ? json_string_value(x)
                                                      : "?",
                              NULL);
            S("</li>");
        }
        S("</ul>");
    } else {
        char *t = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY |
                                      JSON_PRESERVE_ORDER);
        S("<code>");
        E(t != NULL ? t : "");
        S("</code>");
        free(t);
    }
    return rc;
}

/* ---- score, decay and who else saw it (cairn_report_sightings) ------------- */

#define CURVE_DAYS   365
#define CURVE_POINTS 74 /* one every five days */

/*
 * The sightings report (cairn report sightings) over the readable
 * collections, of the visible sightings of indicator `id` (found through
 * the correlation index, `of`):
 * *rep is the report, *entry its indicator `id` (NULL: no sighting).
 */
static int report_of(struct console_view *v, const char *id, bool identities,
                     json_t **rep, const json_t **entry)
{
    const char **ids = cairn_calloc(v->n_colls ? v->n_colls : 1, sizeof *ids);
    size_t n = 0;
    *rep = NULL;
    *entry = NULL;
    if (ids == NULL)
        return CAIRN_ENOMEM;
    for (size_t c = 0; c < v->n_colls; c++)
        if ((v->colls[c].rights & CAIRN_STORE_READ) != 0)
            ids[n++] = v->colls[c].id;
    struct vis_ctx vc = {.v = v, .mention = id};
    struct cairn_report_opts ro = {.collections = ids,
                                   .n_collections = n,
                                   .identities = identities,
                                   .visible = vis_cb,
                                   .visible_ud = &vc,
                                   .of = id};
    /* no readable collection: nothing (the report would read them all) */
    int rc = n > 0 ? cairn_report_sightings(v->s, &ro, rep) : 0;
    if (rc == CAIRN_EUNSUPPORTED) { /* a store without the index */
        ro.of = NULL;
        rc = cairn_report_sightings(v->s, &ro, rep);
    }
    cairn_free(ids);
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(*rep, "indicators"), i, e)
    {
        if (strcmp(jstr(e, "id"), id) == 0)
            *entry = e;
    }
    return rc;
}

/* The score of `obj` from now on, day by day, as a line. */
static int decay_svg(struct console_view *v, const json_t *obj,
                     const struct cairn_score_sightings *sg)
{
    int rc = 0;
    const double W = 640, H = 160;
    struct cairn_time now = cairn_time_now(0);
    P("<figure><svg class=\"decay\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-labelledby=\"decay-title\"><title id=\"decay-title\">Score over "
      "the next year</title>"
      "<line x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" class=\"grid\"/>"
      "<polyline class=\"curve\" points=\"",
      W, H + 20, H / 2, W, H / 2);
    int last = 0;
    for (int i = 0; rc == 0 && i < CURVE_POINTS; i++) {
        double d = (double)CURVE_DAYS * i / (CURVE_POINTS - 1);
        struct cairn_time t = {.sec = now.sec + (int64_t)(d * 86400)};
        struct cairn_score_opts so = {.now = &t};
        int sc = cairn_score_indicator(obj, sg, &so, NULL);
        if (sc < 0)
            sc = 0;
        if (i == CURVE_POINTS - 1)
            last = sc;
        P("%s%.1f,%.1f", i ? " " : "", d / CURVE_DAYS * W,
          H - (double)sc / 100.0 * H);
    }
    P("\"/><text x=\"0\" y=\"%.0f\" class=\"axis\">today</text><text "
      "x=\"%.0f\" y=\"%.0f\" class=\"axis\" text-anchor=\"end\">in %d days"
      "</text></svg><figcaption>The score from today on, if nothing new is "
      "seen: %d in %d days.</figcaption></figure>",
      H + 16, W, H + 16, CURVE_DAYS, last, CURVE_DAYS);
    return rc;
}

static const char *const score_terms[][2] = {
    {"base", "Base (confidence)"},
    {"age_days", "Age (days)"},
    {"lifetime_days", "Lifetime (days)"},
    {"decay_speed", "Decay speed"},
    {"decay", "Decay"},
    {"sightings_boost", "Sightings"},
    {"false_positive_penalty", "False positives"},
    {"warninglist", "On a warninglist"},
    {"expired", "Expired or revoked"},
};

/*
 * The indicator's score with its terms and decay curve, and who else saw
 * it: the count of organisations, or "fewer than k" under the privacy
 * threshold unless the user is an administrator. *below is set when the
 * organisations must not be named.
 */
static int score_section(struct console_view *v, const char *id,
                         const json_t *obj, bool *below)
{
    json_t *rep = NULL, *full = NULL, *ex = NULL;
    const json_t *e = NULL, *fe = NULL;
    struct cairn_score_sightings sg = {0};
    *below = false;
    int rc = report_of(v, id, v->admin || cairn_report_entitled(v->s, v->user),
                       &rep, &e);
    fe = e;
    /* The score's terms need the exact counts the threshold hides. */
    if (rc == 0 && e != NULL &&
        (!json_is_integer(json_object_get(e, "organisations")) ||
         json_is_string(json_object_get(e, "false_positive_organisations"))))
        rc = report_of(v, id, true, &full, &fe);
    if (rc < 0)
        goto out;
    if (fe != NULL) {
        const char *ls = jstr(fe, "last_seen");
        sg.orgs = (uint64_t)json_integer_value(
            json_object_get(fe, "organisations"));
        sg.fp_orgs = (uint64_t)json_integer_value(
            json_object_get(fe, "false_positive_organisations"));
        sg.count = (uint64_t)json_integer_value(
            json_object_get(fe, "sightings"));
        sg.has_last_seen =
            ls[0] != '\0' &&
            cairn_time_parse(ls, strlen(ls), false, &sg.last_seen) == 0;
    }
    struct cairn_score_opts so = {0};
    int score = cairn_score_indicator(obj, fe != NULL ? &sg : NULL, &so, &ex);
    if (score == CAIRN_ENOMEM) {
        rc = score;
        goto out;
    }
    S("<section aria-labelledby=\"h-score\"><h2 id=\"h-score\">Score</h2>");
    if (score < 0) {
        S("<p class=\"empty\" id=\"score\">This indicator has no score.</p>");
    } else {
        P("<p id=\"score\"><strong class=\"score-value\">%d</strong> of 100 "
          "today.</p>",
          score);
        S("<div class=\"scroll\"><table id=\"score-terms\"><tbody>");
        for (size_t i = 0; rc == 0 && i < sizeof score_terms /
                                              sizeof score_terms[0]; i++) {
            json_t *t = json_object_get(ex, score_terms[i][0]);
            if (t == NULL)
                continue;
            S("<tr><th scope=\"row\">");
            E(score_terms[i][1]);
            S("</th><td>");
            if (json_is_number(t))
                P("%g", json_number_value(t));
            else if (json_is_string(t))
                E(json_string_value(t));
            else
                S(json_is_true(t) ? "yes" : "no");
            S("</td></tr>");
        }
        S("</tbody></table></div>");
        if (rc == 0)
            rc = decay_svg(v, obj, fe != NULL ? &sg : NULL);
    }
    S("</section><section aria-labelledby=\"h-who\"><h2 id=\"h-who\">Who "
      "else saw it</h2>");
    json_int_t k = json_integer_value(json_object_get(rep, "threshold"));
    if (k <= 0)
        k = CAIRN_REPORT_THRESHOLD;
    if (e == NULL) {
        S("<p class=\"empty\" id=\"who\">No organisation reported a "
          "sighting of it that you may see.</p>");
    } else {
        json_t *orgs = json_object_get(e, "organisations");
        json_t *fp = json_object_get(e, "false_positive_organisations");
        *below = !json_is_integer(orgs);
        S("<p id=\"who\">Seen by <strong>");
        if (json_is_integer(orgs))
            P("%lld organisation%s", (long long)json_integer_value(orgs),
              json_integer_value(orgs) == 1 ? "" : "s");
        else {
            E(json_string_value(orgs) ? json_string_value(orgs) : "?");
            S(" organisations");
        }
        P("</strong>, %lld sighting%s",
          (long long)json_integer_value(json_object_get(e, "sightings")),
          json_integer_value(json_object_get(e, "sightings")) == 1 ? "" : "s");
        if (jstr(e, "first_seen")[0] != '\0') {
            S(", first ");
            E(jstr(e, "first_seen"));
        }
        if (jstr(e, "last_seen")[0] != '\0') {
            S(", last ");
            E(jstr(e, "last_seen"));
        }
        S(".</p>");
        if (fp != NULL) {
            S("<p id=\"who-fp\">Called a false positive by ");
            if (json_is_integer(fp))
                P("%lld", (long long)json_integer_value(fp));
            else
                E(json_string_value(fp) ? json_string_value(fp) : "?");
            S(" organisation(s).</p>");
        }
        if (*below)
            P("<p class=\"note\" id=\"who-threshold\">Fewer than %lld "
              "organisations saw it: under the privacy threshold, neither "
              "their number nor their names are shown.</p>",
              (long long)k);
        json_t *idents = json_object_get(e, "identities");
        if (json_array_size(idents) > 0) {
            S("<ul class=\"refs\" id=\"who-ids\">");
            size_t i;
            json_t *x;
            json_array_foreach(idents, i, x)
            {
                S("<li>");
                if (rc == 0 && json_is_string(x))
                    rc = obj_link(v, json_string_value(x), NULL);
                S("</li>");
            }
            S("</ul>");
        }
    }
    S("</section>");
out:
    json_decref(ex);
    json_decref(full);
    json_decref(rep);
    return rc;
}

/* Newest last_seen first (RFC 3339 texts, UTC, compare as text). */
static int sighting_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    return -strcmp(jstr(x, "last_seen"), jstr(y, "last_seen"));
}

/* The latest SIGHTINGS_LISTED sightings, by organisation. */
static int org_table(struct console_view *v, const json_t *sightings,
                     bool below)
{
    int rc = 0;
    size_t n = json_array_size(sightings);
    const json_t **order = cairn_calloc(n ? n : 1, sizeof *order);
    if (order == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = json_array_get(sightings, i);
    qsort(order, n, sizeof *order, sighting_cmp);
    S("<div class=\"scroll\"><table id=\"sightings\"><thead><tr><th "
      "scope=\"col\">Seen by</th><th scope=\"col\">Count</th><th "
      "scope=\"col\">First seen</th><th scope=\"col\">Last seen</th></tr>"
      "</thead><tbody>");
    for (size_t i = 0; rc == 0 && i < n && i < SIGHTINGS_LISTED; i++) {
        const json_t *s = order[i];
        json_t *where = json_object_get(s, "where_sighted_refs");
        const char *org = json_string_value(json_array_get(where, 0));
        S("<tr><td>");
        if (below)
            S("(under the privacy threshold)");
        else if (org != NULL && rc == 0)
            rc = obj_link(v, org, org);
        else
            S("(not said)");
        P("</td><td>%lld</td><td>",
          (long long)json_integer_value(json_object_get(s, "count")));
        E(jstr(s, "first_seen"));
        S("</td><td>");
        E(jstr(s, "last_seen"));
        S("</td></tr>");
    }
    S("</tbody></table></div>");
    if (n > SIGHTINGS_LISTED)
        P("<p class=\"note\" id=\"sightings-more\">The latest %d of %zu "
          "sightings are listed.</p>",
          SIGHTINGS_LISTED, n);
    cairn_free(order);
    return rc;
}

int cairn__console_object(struct console_view *v)
{
    const char *id = cairn__console_form_str(&v->query, "id");
    const char *want_c = cairn__console_form_str(&v->query, "c");
    const char *want_v = cairn__console_form_str(&v->query, "v");
    const char *ids[1] = {id};
    struct cairn_store_page *page = NULL;
    size_t coll = 0, pick = 0;
    bool found = false;
    json_t *obj = NULL, *sightings = json_array();
    struct nb nbs[GRAPH_MAX];
    size_t n_nb = 0;
    int rc = sightings != NULL ? 0 : CAIRN_ENOMEM;

    for (size_t c = 0; rc == 0 && !found && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0 ||
            (want_c[0] != '\0' && strcmp(want_c, v->colls[c].id) != 0))
            continue;
        struct cairn_store_query q = {.collection = v->colls[c].id,
                                      .ids = ids,
                                      .n_ids = 1,
                                      .versions = CAIRN_STORE_VERSION_ALL,
                                      .with_json = true,
                                      .limit = 100,
                                      .max_bytes = (size_t)32 << 20};
        rc = cairn_store_query(v->s, &q, &page);
        if (rc < 0)
            break;
        /* Only the visible versions count; the latest unless one is named. */
        size_t kept = 0;
        for (size_t i = 0; i < page->n; i++) {
            if (!cairn__console_visible(v, &v->colls[c], &page->rows[i]))
                continue;
            page->rows[kept++] = page->rows[i];
        }
        page->n = kept;
        if (kept > 0) {
            found = true;
            coll = c;
            pick = 0;
            for (size_t i = 0; i < kept; i++) {
                if (want_v[0] != '\0'
                        ? strcmp(page->rows[i].version, want_v) == 0
                        : strcmp(page->rows[i].version,
                                 page->rows[pick].version) > 0)
                    pick = i;
            }
        } else {
            cairn_store_page_free(page);
            page = NULL;
        }
    }
    if (rc < 0)
        goto out;
    if (!found) {
        rc = cairn__console_error_page(
            v, 404,
            "There is no such object in the collections you may read.");
        goto out;
    }
    obj = json_loadb(page->rows[pick].json, page->rows[pick].json_len, 0,
                     NULL);
    if (obj == NULL) {
        rc = cairn__console_error_page(v, 500, "The stored object is not "
                                               "JSON.");
        goto out;
    }
    const char *name = jstr(obj, "name");
    const char *type = jstr(obj, "type");
    rc = cairn__console_page_begin(v, name[0] ? name : id);
    S("<p class=\"meta\">");
    if (rc == 0)
        rc = tlp_badge(v, obj, v->colls[coll].tlp_default);
    S(" <span class=\"type\">");
    E(type);
    S("</span> in <span class=\"coll\">");
    E(v->colls[coll].title);
    S("</span></p>");

    if (strcmp(type, "indicator") == 0) {
        S("<section aria-labelledby=\"h-pat\"><h2 id=\"h-pat\">Pattern</h2>"
          "<pre class=\"pattern\" id=\"pattern\">");
        E(jstr(obj, "pattern"));
        S("</pre><p>");
        E(jstr(obj, "pattern_type"));
        S(", valid from ");
        E(jstr(obj, "valid_from"));
        if (jstr(obj, "valid_until")[0] != '\0') {
            S(" until ");
            E(jstr(obj, "valid_until"));
        }
        S("</p></section>");
    }

    /* What it refers to, then what refers to it. */
    const char *key;
    json_t *val;
    if (rc == 0)
        rc = neighbours(v, id, obj, nbs, &n_nb, sightings);

    bool below = false;
    if (rc == 0 && strcmp(type, "indicator") == 0)
        rc = score_section(v, id, obj, &below);
    if (strcmp(type, "indicator") == 0) {
        P("<section aria-labelledby=\"h-sig\"><h2 id=\"h-sig\">Sightings "
          "(%zu)</h2>",
          json_array_size(sightings));
        if (json_array_size(sightings) == 0) {
            S("<p class=\"empty\">Nobody reported a sighting of it yet.</p>");
        } else {
            if (rc == 0)
                rc = sightings_svg(v, sightings);
            if (rc == 0)
                rc = org_table(v, sightings, below);
        }
        S("</section>");
    }

    S("<section aria-labelledby=\"h-props\"><h2 id=\"h-props\">Properties"
      "</h2><div class=\"scroll\"><table class=\"props\"><tbody>");
    json_object_foreach(obj, key, val)
    {
        S("<tr><th scope=\"row\">");
        E(key);
        S("</th><td>");
        if (rc == 0)
            rc = value_cell(v, key, val);
        S("</td></tr>");
    }
    S("</tbody></table></div></section>");

    S("<section aria-labelledby=\"h-graph\"><h2 id=\"h-graph\">"
      "Neighbourhood</h2>");
    if (rc == 0)
        rc = graph_svg(v, obj, nbs, n_nb);
    S("</section>");

    P("<section aria-labelledby=\"h-ver\"><h2 id=\"h-ver\">Versions (%zu)"
      "</h2><ul class=\"versions\">",
      page->n);
    for (size_t i = 0; rc == 0 && i < page->n; i++) {
        char ts[40] = "";
        cairn_time_format(&page->rows[i].date_added, 3, ts, sizeof ts);
        S("<li>");
        if (i == pick)
            S("<strong>");
        S("<a href=\"/ui/object?id=");
        U(id);
        S("&amp;c=");
        U(v->colls[coll].id);
        S("&amp;v=");
        U(page->rows[i].version);
        S("\">");
        E(page->rows[i].version);
        S("</a>");
        if (i == pick)
            S("</strong>");
        S(" <small>added ");
        E(ts);
        S("</small></li>");
    }
    S("</ul></section>");

    char *pretty = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    S("<section aria-labelledby=\"h-raw\"><h2 id=\"h-raw\">Raw JSON</h2>"
      "<details><summary>Show the object as stored</summary><pre "
      "class=\"raw\">");
    E(pretty != NULL ? pretty : "");
    S("</pre></details></section>");
    free(pretty);
    if (rc == 0)
        rc = cairn__console_page_end(v);
out:
    json_decref(obj);
    json_decref(sightings);
    cairn_store_page_free(page);
    return rc;
}

/* ---- sightings ------------------------------------------------------------------ */

/*
 * The heat map: its rows are the indicators of the latest sightings (an
 * indexed read of at most HEAT_SIGHTINGS rows), and every figure in it is
 * the sightings report's (cairn_report_sightings of one indicator through
 * the correlation index, as on the indicator's page), under the same
 * privacy rule: the columns are the organisations for a reader entitled
 * to them (administrators), else weeks.
 */
#define HEAT_SIGHTINGS 40
#define HEAT_WEEK      (7 * 86400)

struct heat_row {
    char id[320];
    json_t *rep;          /* the report of this indicator's sightings */
    const json_t *entry;  /* its line in rep */
    double cells[HEAT_COLS];
};

/* The readable collections' ids, for the report. */
static const char **readable_ids(const struct console_view *v, size_t *n)
{
    const char **ids = cairn_calloc(v->n_colls ? v->n_colls : 1, sizeof *ids);
    *n = 0;
    for (size_t c = 0; ids != NULL && c < v->n_colls; c++)
        if ((v->colls[c].rights & CAIRN_STORE_READ) != 0)
            ids[(*n)++] = v->colls[c].id;
    return ids;
}

/* The sightings the report counts for indicator `id`, last seen since
 * `since`. */
static int heat_cell(struct console_view *v, const char *id,
                     const struct cairn_time *since, double *out)
{
    size_t n = 0;
    const char **ids = readable_ids(v, &n);
    struct vis_ctx vc = {.v = v, .mention = id};
    struct cairn_report_opts ro = {.collections = ids,
                                   .n_collections = n,
                                   .since = since,
                                   .visible = vis_cb,
                                   .visible_ud = &vc,
                                   .of = id};
    json_t *rep = NULL;
    *out = 0;
    int rc = ids == NULL ? CAIRN_ENOMEM
                         : n > 0 ? cairn_report_sightings(v->s, &ro, &rep) : 0;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(rep, "indicators"), i, e)
    {
        if (strcmp(jstr(e, "id"), id) == 0)
            *out = (double)json_integer_value(json_object_get(e, "sightings"));
    }
    json_decref(rep);
    cairn_free(ids);
    return rc;
}

/* The sightings by organisation `org` in a report entry made for a reader
 * entitled to the identities (its identity_sightings); 0 when not named. */
static double ident_sightings(const json_t *entry, const char *org)
{
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(entry, "identities"), i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), org) == 0)
            return (double)json_integer_value(json_array_get(
                json_object_get(entry, "identity_sightings"), i));
    }
    return 0;
}

/* The organisations named most often over the rows (entitled readers). */
static size_t heat_orgs(const struct heat_row *rows, size_t nr,
                        const char *cols[HEAT_COLS])
{
    size_t nc = 0, hits[HEAT_COLS] = {0};
    for (size_t r = 0; r < nr; r++) {
        size_t i;
        const json_t *x;
        json_array_foreach(json_object_get(rows[r].entry, "identities"), i, x)
        {
            const char *org = json_string_value(x);
            if (org == NULL)
                continue;
            size_t c = 0;
            while (c < nc && strcmp(cols[c], org) != 0)
                c++;
            if (c < nc) {
                hits[c]++;
            } else if (nc < HEAT_COLS) {
                cols[nc] = org;
                hits[nc++] = 1;
            }
        }
    }
    return nc;
}

static int heat_svg(struct console_view *v, struct heat_row *rows, size_t nr,
                    const char *const *cols, const char *const *heads,
                    size_t nc, bool by_org)
{
    int rc = 0;
    double top = 1;
    for (size_t r = 0; r < nr; r++)
        for (size_t c = 0; c < nc; c++)
            top = rows[r].cells[c] > top ? rows[r].cells[c] : top;
    /* Drawn at its own size (scaled down on a narrow screen, never up);
     * room on the right for the last column's slanted heading. */
    const double cw = 44, ch = 22, left = 230, head = 80;
    const double w = left + cw * (double)nc + 70;
    const double h = head + ch * (double)nr + 10;
    P("<figure><svg class=\"heat\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-labelledby=\"heat-title\"><title id=\"heat-title\">Sightings: "
      "indicators against %s</title>",
      w, h, w, h, by_org ? "organisations" : "weeks");
    for (size_t c = 0; rc == 0 && c < nc; c++) {
        P("<text class=\"axis\" transform=\"translate(%.0f %.0f) "
          "rotate(-45)\">",
          left + cw * (double)c + cw / 2, head - 6);
        E(heads[c]);
        if (cols[c] != NULL) {
            S("<title>");
            E(cols[c]);
            S("</title>");
        }
        S("</text>");
    }
    for (size_t y = 0; rc == 0 && y < nr; y++) {
        const char *name = jstr(rows[y].entry, "name");
        char label[48];
        snprintf(label, sizeof label, "%.32s%s", name[0] ? name : rows[y].id,
                 strlen(name[0] ? name : rows[y].id) > 32 ? "…" : "");
        S("<a href=\"/ui/object?id=");
        U(rows[y].id);
        P("\"><text class=\"axis\" x=\"%.0f\" y=\"%.0f\" "
          "text-anchor=\"end\">",
          left - 6, head + ch * (double)y + ch * 0.7);
        E(label);
        S("<title>");
        E(rows[y].id);
        S("</title></text></a>");
        for (size_t c = 0; rc == 0 && c < nc; c++) {
            double cnt = rows[y].cells[c];
            int level = cnt <= 0 ? 0 : 1 + (int)(4 * cnt / top);
            P("<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
              "class=\"h%d\"><title>%.0f</title></rect>",
              left + cw * (double)c, head + ch * (double)y, cw - 2, ch - 2,
              level > 4 ? 4 : level, cnt);
        }
    }
    S("</svg><figcaption>");
    S(by_org ? "Darker cells: more sightings of the indicator (row) by the "
               "organisation (column)."
             : "Darker cells: more sightings of the indicator (row) last "
               "seen in the week (column) beginning on the date shown.");
    S("</figcaption></figure>");
    return rc;
}

/* The report's line of each row: organisations, sightings, last seen. */
static int heat_table(struct console_view *v, const struct heat_row *rows,
                      size_t nr)
{
    int rc = 0;
    S("<div class=\"scroll\"><table id=\"heat-rows\"><thead><tr><th "
      "scope=\"col\">Indicator</th><th scope=\"col\">Organisations</th><th "
      "scope=\"col\">Sightings</th><th scope=\"col\">Last seen</th><th "
      "scope=\"col\">Score</th></tr></thead><tbody>");
    for (size_t r = 0; rc == 0 && r < nr; r++) {
        const json_t *e = rows[r].entry;
        const json_t *orgs = json_object_get(e, "organisations");
        S("<tr><td>");
        if (rc == 0)
            rc = obj_link(v, rows[r].id, jstr(e, "name"));
        S("</td><td>");
        if (json_is_integer(orgs))
            P("%lld", (long long)json_integer_value(orgs));
        else
            E(json_string_value(orgs) ? json_string_value(orgs) : "–");
        P("</td><td>%lld</td><td>",
          (long long)json_integer_value(json_object_get(e, "sightings")));
        E(jstr(e, "last_seen"));
        S("</td><td class=\"score\">");
        if (json_is_integer(json_object_get(e, "score")))
            P("%lld", (long long)json_integer_value(json_object_get(e, "score")));
        else
            S("–");
        S("</td></tr>");
    }
    S("</tbody></table></div>");
    return rc;
}

int cairn__console_sightings(struct console_view *v)
{
    struct recent *r = NULL;
    size_t n = 0, nr = 0, nc = 0;
    struct heat_row *rows = cairn_calloc(HEAT_ROWS, sizeof *rows);
    const char *cols[HEAT_COLS] = {0}, *heads[HEAT_COLS] = {0};
    char headbuf[HEAT_COLS][16]; /* the columns' headings */
    int rc = rows != NULL ? cairn__console_page_begin(v, "Sightings")
                          : CAIRN_ENOMEM;
    if (rc == 0)
        rc = gather_recent(v, "sighting", HEAT_SIGHTINGS, &r, &n);
    /* The rows: the indicators of the latest sightings, newest first. */
    for (size_t i = 0; rc == 0 && i < n && nr < HEAT_ROWS; i++) {
        json_t *o = json_loads(r[i].json, 0, NULL);
        const char *of = jstr(o, "sighting_of_ref");
        bool dup = of[0] == '\0' || strlen(of) >= sizeof rows->id;
        for (size_t k = 0; !dup && k < nr; k++)
            dup = strcmp(rows[k].id, of) == 0;
        if (!dup) {
            struct heat_row *h = &rows[nr];
            snprintf(h->id, sizeof h->id, "%s", of);
            rc = report_of(v, h->id, v->admin, &h->rep, &h->entry);
            if (rc == 0 && h->entry != NULL)
                nr++;
            else {
                json_decref(h->rep);
                h->rep = NULL;
            }
        }
        json_decref(o);
    }
    bool by_org = v->admin;
    if (rc == 0 && by_org) {
        nc = heat_orgs(rows, nr, cols);
        /* the first part of the identity's UUID; the whole id on hover */
        for (size_t c = 0; c < nc; c++) {
            const char *dd = strstr(cols[c], "--");
            snprintf(headbuf[c], sizeof headbuf[c], "%.8s…",
                     dd != NULL ? dd + 2 : cols[c]);
            heads[c] = headbuf[c];
        }
        /* one report per row gives every organisation's sightings */
        for (size_t y = 0; y < nr; y++)
            for (size_t c = 0; c < nc; c++)
                rows[y].cells[c] = ident_sightings(rows[y].entry, cols[c]);
    } else if (rc == 0 && nr > 0) {
        /* Weeks up to the newest last sighting; a cell is the difference
         * of the sightings last seen since its week and since the next. */
        int64_t newest = INT64_MIN;
        for (size_t y = 0; y < nr; y++) {
            struct cairn_time t;
            const char *ls = jstr(rows[y].entry, "last_seen");
            if (cairn_time_parse(ls, strlen(ls), false, &t) == 0 &&
                t.sec > newest)
                newest = t.sec;
        }
        if (newest != INT64_MIN) {
            nc = HEAT_COLS;
            int64_t w0 = newest - (newest % HEAT_WEEK + HEAT_WEEK) % HEAT_WEEK -
                         (int64_t)(HEAT_COLS - 1) * HEAT_WEEK;
            for (size_t c = 0; c < nc; c++) {
                struct cairn_time t = {.sec = w0 + (int64_t)c * HEAT_WEEK};
                char ts[40] = "";
                cairn_time_format(&t, 0, ts, sizeof ts);
                snprintf(headbuf[c], sizeof headbuf[c], "%.10s", ts);
                heads[c] = headbuf[c];
            }
            for (size_t y = 0; rc == 0 && y < nr; y++) {
                struct cairn_time last;
                const char *ls = jstr(rows[y].entry, "last_seen");
                if (cairn_time_parse(ls, strlen(ls), false, &last) != 0)
                    continue;
                double since[HEAT_COLS + 1] = {0};
                for (size_t c = 0; rc == 0 && c < nc; c++) {
                    struct cairn_time t = {.sec = w0 + (int64_t)c * HEAT_WEEK};
                    if (t.sec <= last.sec)
                        rc = heat_cell(v, rows[y].id, &t, &since[c]);
                }
                for (size_t c = 0; c < nc; c++)
                    rows[y].cells[c] = since[c] - since[c + 1];
            }
        }
    }
    if (rc == 0 && nr == 0)
        S("<p class=\"empty\">No sightings in the collections you may read."
          "</p>");
    if (rc == 0 && nr > 0) {
        S(by_org ? "<section aria-labelledby=\"h-heat\"><h2 id=\"h-heat\">"
                   "Indicators by organisation</h2>"
                 : "<section aria-labelledby=\"h-heat\"><h2 id=\"h-heat\">"
                   "Indicators by week</h2>");
        if (!by_org)
            S("<p class=\"note\" id=\"heat-weeks\">The organisations are "
              "named to administrators only; here, the weeks in which the "
              "sightings were last seen.</p>");
        if (rc == 0)
            rc = heat_svg(v, rows, nr, cols, heads, nc, by_org);
        if (rc == 0)
            rc = heat_table(v, rows, nr);
        S("</section><section aria-labelledby=\"h-list\"><h2 id=\"h-list\">"
          "Latest</h2>");
        if (rc == 0)
            rc = recent_table(v, r, n < 20 ? n : 20, true);
        S("</section>");
    }
    recent_free(r, n);
    for (size_t y = 0; rows != NULL && y < HEAT_ROWS; y++)
        json_decref(rows[y].rep);
    cairn_free(rows);
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}
