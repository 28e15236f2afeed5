/* SPDX-License-Identifier: Apache-2.0 */
/* The console's reading pages: dashboard, search, object, sightings. */
#include <math.h>
#include <string.h>

#include "console/console_int.h"

#define LATEST_N     10
#define SIGHTINGS_N  200 /* latest sightings read per collection */
#define GRAPH_MAX    16  /* neighbours drawn around an object */
#define HEAT_ROWS    15
#define HEAT_COLS    10
#define REFS_SCAN    500 /* latest sightings and relationships scanned */

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
            rc = cairn_store_collection_count(v->s, c->id, &count);
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
    S("</section><section aria-labelledby=\"h-arch\"><h2 id=\"h-arch\">"
      "Archive</h2><p class=\"empty\">The telemetry archive is not part of "
      "this build of the console yet.</p></section>");
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

static int value_search(struct console_view *v, const char *value)
{
    struct console_value_hit *hits = NULL;
    size_t n = 0;
    int rc = cairn__console_value_search(v, value, &hits, &n);
    if (rc < 0)
        return rc;
    if (n == 0) {
        S("<p class=\"empty\" id=\"no-results\">No indicator of the "
          "collections you may read matches this value.</p>");
    } else {
        P("<p id=\"result-count\">%zu indicator%s match%s this value.</p>", n,
          n == 1 ? "" : "s", n == 1 ? "es" : "");
        S("<div class=\"scroll\"><table id=\"results\"><thead><tr><th "
          "scope=\"col\">Indicator</th><th scope=\"col\">Collection</th>"
          "</tr></thead><tbody>");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            S("<tr><td><a class=\"hit\" href=\"/ui/object?id=");
            U(hits[i].indicator_id);
            S("&amp;c=");
            U(v->colls[hits[i].coll].id);
            S("\">");
            E(hits[i].name != NULL && hits[i].name[0] ? hits[i].name
                                                      : hits[i].indicator_id);
            S("</a><br><small>");
            E(hits[i].indicator_id);
            S("</small></td><td>");
            E(v->colls[hits[i].coll].title);
            S("</td></tr>");
        }
        S("</tbody></table></div>");
    }
    cairn__console_value_hits_free(hits, n);
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

/* ---- value search through a compiled set -------------------------------------- */

struct ind_origin {
    char id[CAIRN_HUNT_ID_MAX];
    size_t coll;
};

struct add_ctx {
    struct ind_origin *orig;
    size_t n, cap;
    /* Search: a domain whose subdomains in patterns also match. */
    const char *suffix;
    struct console_value_hit *extra;
    size_t n_extra;
};

/*
 * Whether `pattern` compares with a string literal that is `domain` or a
 * name under it ('a.b.example.com' for example.com): the suffix semantics
 * of a domain search, until the analysis lookup provides them.
 */
static bool pattern_under(const char *pattern, const char *domain)
{
    size_t dl = strlen(domain);
    for (const char *p = pattern; dl > 0 && (p = strcasestr(p, domain));
         p++) {
        if (p[dl] != '\'')
            continue;
        if (p > pattern && (p[-1] == '.' || p[-1] == '\''))
            return true;
    }
    return false;
}

static int add_extra(struct add_ctx *ac, const json_t *o, size_t c)
{
    struct console_value_hit *g =
        cairn_realloc(ac->extra, (ac->n_extra + 1) * sizeof *g);
    if (g == NULL)
        return CAIRN_ENOMEM;
    ac->extra = g;
    struct console_value_hit *h = &g[ac->n_extra++];
    memset(h, 0, sizeof *h);
    snprintf(h->indicator_id, sizeof h->indicator_id, "%s", jstr(o, "id"));
    h->coll = c;
    h->name = jstr(o, "name")[0] ? cairn_strdup(jstr(o, "name")) : NULL;
    return 0;
}

static int add_coll_indicators(struct console_view *v, size_t c,
                               struct cairn_hunt_builder *b,
                               struct add_ctx *ac)
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
            int r = 0;
            if (ac != NULL && ac->suffix != NULL &&
                pattern_under(jstr(o, "pattern"), ac->suffix))
                r = add_extra(ac, o, c);
            if (r == 0)
                r = cairn_hunt_builder_add_indicator(b, o, NULL);
            if (r == 0 && ac != NULL) {
                if (ac->n == ac->cap) {
                    size_t cap = ac->cap ? 2 * ac->cap : 64;
                    struct ind_origin *g =
                        cairn_realloc(ac->orig, cap * sizeof *g);
                    if (g == NULL)
                        r = CAIRN_ENOMEM;
                    else {
                        ac->orig = g;
                        ac->cap = cap;
                    }
                }
                if (r == 0) {
                    snprintf(ac->orig[ac->n].id, sizeof ac->orig[ac->n].id,
                             "%s", jstr(o, "id"));
                    ac->orig[ac->n++].coll = c;
                }
            }
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

static int add_indicators(struct console_view *v, struct cairn_hunt_builder *b,
                          const char *only, struct add_ctx *ac)
{
    int rc = 0;
    for (size_t c = 0; rc == 0 && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0 ||
            (only != NULL && only[0] != '\0' &&
             strcmp(only, v->colls[c].id) != 0))
            continue;
        rc = add_coll_indicators(v, c, b, ac);
    }
    return rc;
}

int cairn__console_add_indicators(struct console_view *v,
                                  struct cairn_hunt_builder *b,
                                  const char *only, size_t *n_added)
{
    struct add_ctx ac = {0};
    int rc = add_indicators(v, b, only, &ac);
    *n_added = ac.n;
    cairn_free(ac.orig);
    return rc;
}

struct match_ctx {
    struct console_value_hit *hits;
    size_t n;
    int rc;
    const struct add_ctx *ac;
};

static void on_value_hit(const struct cairn_hunt_hit *hit, void *ud)
{
    struct match_ctx *m = ud;
    if (m->rc < 0)
        return;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->hits[i].indicator_id, hit->indicator_id) == 0)
            return;
    struct console_value_hit *g =
        cairn_realloc(m->hits, (m->n + 1) * sizeof *g);
    if (g == NULL) {
        m->rc = CAIRN_ENOMEM;
        return;
    }
    m->hits = g;
    struct console_value_hit *h = &m->hits[m->n++];
    memset(h, 0, sizeof *h);
    snprintf(h->indicator_id, sizeof h->indicator_id, "%s", hit->indicator_id);
    h->name = hit->indicator_name ? cairn_strdup(hit->indicator_name) : NULL;
    for (size_t i = 0; i < m->ac->n; i++)
        if (strcmp(m->ac->orig[i].id, hit->indicator_id) == 0) {
            h->coll = m->ac->orig[i].coll;
            break;
        }
}

int cairn__console_value_search(struct console_view *v, const char *value,
                                struct console_value_hit **out, size_t *n)
{
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_hunt_matcher *m = NULL;
    struct add_ctx ac = {0};
    struct match_ctx mc = {.ac = &ac};
    size_t len = strlen(value);
    /* The normal form is not NUL-terminated by cairn_hunt_detect: one
     * byte more for the terminator the suffix search needs. */
    char *norm = cairn_malloc(len + 4);
    *out = NULL;
    *n = 0;
    size_t nl = 0;
    enum cairn_ioc_type t = CAIRN_IOC_UNKNOWN;
    if (norm != NULL) {
        t = cairn_hunt_detect(value, len, norm, len + 3, &nl);
        norm[nl <= len + 3 ? nl : 0] = '\0';
    }
    if (t == CAIRN_IOC_DOMAIN)
        ac.suffix = norm;
    int rc = norm != NULL ? cairn_hunt_builder_new(NULL, &b) : CAIRN_ENOMEM;
    if (rc == 0)
        rc = add_indicators(v, b, NULL, &ac);
    if (rc == 0)
        rc = cairn_hunt_builder_build(b, &set);
    if (rc == 0)
        rc = cairn_hunt_matcher_new(set, &m);
    if (rc == 0) {
        struct cairn_hunt_field f = {.type = t,
                                     .value = t != CAIRN_IOC_UNKNOWN ? norm
                                                                     : value,
                                     .len = t != CAIRN_IOC_UNKNOWN ? nl : len,
                                     .name = "search"};
        if (t == CAIRN_IOC_UNKNOWN)
            f.type = CAIRN_IOC_STRING;
        struct cairn_hunt_event ev = {
            .fields = &f, .n_fields = 1, .file = "search", .line = 1};
        int r = cairn_hunt_match_event(m, &ev, on_value_hit, &mc);
        rc = r < 0 ? r : mc.rc;
    }
    /* The names under a searched domain, after the exact matches. */
    for (size_t i = 0; rc == 0 && i < ac.n_extra; i++) {
        bool dup = false;
        for (size_t j = 0; j < mc.n; j++)
            dup = dup || strcmp(mc.hits[j].indicator_id,
                                ac.extra[i].indicator_id) == 0;
        if (dup)
            continue;
        struct console_value_hit *g =
            cairn_realloc(mc.hits, (mc.n + 1) * sizeof *g);
        if (g == NULL) {
            rc = CAIRN_ENOMEM;
            break;
        }
        mc.hits = g;
        mc.hits[mc.n++] = ac.extra[i];
        ac.extra[i].name = NULL;
    }
    cairn__console_value_hits_free(ac.extra, ac.n_extra);
    if (rc == 0) {
        *out = mc.hits;
        *n = mc.n;
    } else {
        cairn__console_value_hits_free(mc.hits, mc.n);
    }
    cairn_hunt_matcher_free(m);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    cairn_free(ac.orig);
    cairn_free(norm);
    return rc;
}

void cairn__console_value_hits_free(struct console_value_hit *h, size_t n)
{
    for (size_t i = 0; h != NULL && i < n; i++)
        cairn_free(h[i].name);
    cairn_free(h);
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

static int add_nb(struct nb *nbs, size_t *n, const char *id, const char *rel,
                  bool incoming)
{
    if (*n >= GRAPH_MAX || id == NULL || strlen(id) >= sizeof nbs->id)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(nbs[i].id, id) == 0)
            return 0;
    struct nb *x = &nbs[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    snprintf(x->rel, sizeof x->rel, "%s", rel);
    x->incoming = incoming;
    return 0;
}

/* The name of object `id` in a readable collection, for graph labels. */
static void label_of(struct console_view *v, struct nb *x)
{
    const char *ids[1] = {x->id};
    const char *dd = strstr(x->id, "--");
    snprintf(x->label, sizeof x->label, "%.*s",
             dd ? (int)(dd - x->id) : (int)strlen(x->id), x->id);
    for (size_t c = 0; c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0)
            continue;
        struct cairn_store_page *p = NULL;
        struct cairn_store_query q = {.collection = v->colls[c].id,
                                      .ids = ids,
                                      .n_ids = 1,
                                      .with_json = true,
                                      .limit = 1};
        if (cairn_store_query(v->s, &q, &p) == 0 && p->n > 0 &&
            cairn__console_visible(v, &v->colls[c], &p->rows[0])) {
            json_t *o =
                json_loadb(p->rows[0].json, p->rows[0].json_len, 0, NULL);
            const char *name = jstr(o, "name");
            if (name[0] != '\0')
                snprintf(x->label, sizeof x->label, "%.*s: %.60s",
                         dd ? (int)(dd - x->id) : 0, x->id, name);
            json_decref(o);
            cairn_store_page_free(p);
            return;
        }
        cairn_store_page_free(p);
    }
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
            f = jstr(s, "created");
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
            f = jstr(s, "created");
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

/* Sightings and relationships of the readable collections that refer to
 * `id`, from the latest REFS_SCAN of each. */
static int referrers(struct console_view *v, const char *id, struct nb *nbs,
                     size_t *n_nb, json_t *sightings)
{
    static const char *const kinds[] = {"sighting", "relationship"};
    int rc = 0;
    for (size_t c = 0; rc == 0 && c < v->n_colls; c++) {
        if ((v->colls[c].rights & CAIRN_STORE_READ) == 0)
            continue;
        for (size_t k = 0; rc == 0 && k < 2; k++) {
            struct cairn_store_page *p = NULL;
            rc = cairn__console_latest(v->s, v->colls[c].id, kinds[k],
                                       REFS_SCAN, &p);
            for (size_t i = 0; rc == 0 && i < p->n; i++) {
                const struct cairn_store_row *row = &p->rows[i];
                if (memmem(row->json, row->json_len, id, strlen(id)) == NULL ||
                    !cairn__console_visible(v, &v->colls[c], row))
                    continue;
                json_t *o = json_loadb(row->json, row->json_len, 0, NULL);
                if (o == NULL)
                    continue;
                if (k == 0 &&
                    strcmp(jstr(o, "sighting_of_ref"), id) == 0) {
                    json_array_append(sightings, o);
                    add_nb(nbs, n_nb, jstr(o, "id"), "sighting_of", true);
                } else if (k == 1 && strcmp(jstr(o, "target_ref"), id) == 0) {
                    add_nb(nbs, n_nb, jstr(o, "source_ref"),
                           jstr(o, "relationship_type"), true);
                } else if (k == 1 && strcmp(jstr(o, "source_ref"), id) == 0) {
                    add_nb(nbs, n_nb, jstr(o, "target_ref"),
                           jstr(o, "relationship_type"), false);
                }
                json_decref(o);
            }
            cairn_store_page_free(p);
        }
    }
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

static int org_table(struct console_view *v, const json_t *sightings)
{
    int rc = 0;
    size_t i;
    json_t *s;
    S("<div class=\"scroll\"><table id=\"sightings\"><thead><tr><th "
      "scope=\"col\">Seen by</th><th scope=\"col\">Count</th><th "
      "scope=\"col\">First seen</th><th scope=\"col\">Last seen</th></tr>"
      "</thead><tbody>");
    json_array_foreach(sightings, i, s)
    {
        json_t *where = json_object_get(s, "where_sighted_refs");
        const char *org = json_string_value(json_array_get(where, 0));
        S("<tr><td>");
        if (org != NULL && rc == 0)
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

    /* Outgoing references, then what refers to it. */
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (!is_ref_key(key))
            continue;
        if (json_is_string(val))
            add_nb(nbs, &n_nb, json_string_value(val), key, false);
        size_t i;
        json_t *x;
        json_array_foreach(val, i, x)
        {
            if (json_is_string(x))
                add_nb(nbs, &n_nb, json_string_value(x), key, false);
        }
    }
    if (rc == 0)
        rc = referrers(v, id, nbs, &n_nb, sightings);
    for (size_t i = 0; rc == 0 && i < n_nb; i++)
        label_of(v, &nbs[i]);

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
                rc = org_table(v, sightings);
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

struct heat {
    char ind[CAIRN_HUNT_ID_MAX + 200];
    char org[300];
    double count;
};

static int heat_add(struct heat **h, size_t *n, const char *ind,
                    const char *org, double count)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*h)[i].ind, ind) == 0 && strcmp((*h)[i].org, org) == 0) {
            (*h)[i].count += count;
            return 0;
        }
    struct heat *g = cairn_realloc(*h, (*n + 1) * sizeof *g);
    if (g == NULL)
        return CAIRN_ENOMEM;
    *h = g;
    snprintf(g[*n].ind, sizeof g[*n].ind, "%s", ind);
    snprintf(g[*n].org, sizeof g[*n].org, "%s", org);
    g[*n].count = count;
    (*n)++;
    return 0;
}

/* The `max` keys with the largest totals (indicators or organisations). */
static size_t top_keys(const struct heat *h, size_t n, bool org,
                       char keys[][300], size_t max)
{
    size_t k = 0;
    double tot[HEAT_ROWS > HEAT_COLS ? HEAT_ROWS : HEAT_COLS] = {0};
    for (size_t i = 0; i < n; i++) {
        const char *key = org ? h[i].org : h[i].ind;
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            if (strcmp(keys[j], key) == 0)
                seen = true;
        if (seen)
            continue;
        double t = 0;
        for (size_t j = 0; j < n; j++)
            if (strcmp(org ? h[j].org : h[j].ind, key) == 0)
                t += h[j].count;
        size_t at = k < max ? k++ : max;
        if (at == max) {
            size_t lowest = 0;
            for (size_t j = 1; j < max; j++)
                if (tot[j] < tot[lowest])
                    lowest = j;
            if (tot[lowest] >= t)
                continue;
            at = lowest;
        }
        snprintf(keys[at], 300, "%s", key);
        tot[at] = t;
    }
    return k;
}

int cairn__console_sightings(struct console_view *v)
{
    struct recent *r = NULL;
    size_t n = 0;
    struct heat *h = NULL;
    size_t nh = 0;
    char rows[HEAT_ROWS][300], cols[HEAT_COLS][300];
    int rc = cairn__console_page_begin(v, "Sightings");
    if (rc == 0)
        rc = gather_recent(v, "sighting", SIGHTINGS_N, &r, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *o = json_loads(r[i].json, 0, NULL);
        json_t *where = json_object_get(o, "where_sighted_refs");
        const char *org = json_string_value(json_array_get(where, 0));
        json_int_t c = json_integer_value(json_object_get(o, "count"));
        rc = heat_add(&h, &nh, jstr(o, "sighting_of_ref"),
                      org ? org : "(not said)", c > 0 ? (double)c : 1);
        json_decref(o);
    }
    if (rc == 0 && nh == 0)
        S("<p class=\"empty\">No sightings in the collections you may read."
          "</p>");
    if (rc == 0 && nh > 0) {
        size_t nr = top_keys(h, nh, false, rows, HEAT_ROWS);
        size_t nc = top_keys(h, nh, true, cols, HEAT_COLS);
        double top = 1;
        for (size_t i = 0; i < nh; i++)
            top = h[i].count > top ? h[i].count : top;
        const double cw = 48, ch = 22, left = 260, head = 120;
        P("<section aria-labelledby=\"h-heat\"><h2 id=\"h-heat\">Indicators "
          "by organisation</h2><figure><svg class=\"heat\" viewBox=\"0 0 "
          "%.0f %.0f\" role=\"img\" aria-labelledby=\"heat-title\"><title "
          "id=\"heat-title\">Sightings: indicators against organisations"
          "</title>",
          left + cw * (double)nc + 10, head + ch * (double)nr + 10);
        for (size_t c = 0; rc == 0 && c < nc; c++) {
            const char *dd = strstr(cols[c], "--");
            P("<text class=\"axis\" transform=\"translate(%.0f %.0f) "
              "rotate(-45)\">",
              left + cw * (double)c + cw / 2, head - 6);
            E(dd ? dd + 2 : cols[c]);
            S("</text>");
        }
        for (size_t y = 0; rc == 0 && y < nr; y++) {
            P("<text class=\"axis\" x=\"%.0f\" y=\"%.0f\" "
              "text-anchor=\"end\">",
              left - 6, head + ch * (double)y + ch * 0.7);
            E(rows[y]);
            S("</text>");
            for (size_t c = 0; rc == 0 && c < nc; c++) {
                double cnt = 0;
                for (size_t i = 0; i < nh; i++)
                    if (strcmp(h[i].ind, rows[y]) == 0 &&
                        strcmp(h[i].org, cols[c]) == 0)
                        cnt = h[i].count;
                int level = cnt <= 0 ? 0 : 1 + (int)(4 * cnt / top);
                P("<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                  "class=\"h%d\"><title>%.0f</title></rect>",
                  left + cw * (double)c, head + ch * (double)y, cw - 2, ch - 2,
                  level > 4 ? 4 : level, cnt);
            }
        }
        S("</svg><figcaption>Darker cells: more sightings of the indicator "
          "(row) by the organisation (column), over the latest sightings."
          "</figcaption></figure></section>");
        S("<section aria-labelledby=\"h-list\"><h2 id=\"h-list\">Latest"
          "</h2>");
        if (rc == 0)
            rc = recent_table(v, r, n < 50 ? n : 50, true);
        S("</section>");
    }
    recent_free(r, n);
    cairn_free(h);
    if (rc == 0)
        rc = cairn__console_page_end(v);
    return rc;
}
