/* SPDX-License-Identifier: Apache-2.0 */
/* The console's pages with forms: hunt, import, admin. */
#include <string.h>

#include "cairn/feed.h"
#include "cairn/pattern.h"
#include "console/console_int.h"

#define FINDINGS_SHOWN 200
#define HITS_SHOWN     1000

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

static bool is_post(const struct console_view *v)
{
    return strcmp(v->req->method, "POST") == 0;
}

/* A <select> of the collections with `need` rights. */
static int coll_select(struct console_view *v, const char *id,
                       const char *label, unsigned need, bool any)
{
    int rc = 0;
    P("<p><label for=\"%s\">%s</label><select id=\"%s\" name=\"%s\">", id,
      label, id, id);
    if (any)
        S("<option value=\"\">every collection I may read</option>");
    for (size_t i = 0; rc == 0 && i < v->n_colls; i++) {
        if ((v->colls[i].rights & need) != need)
            continue;
        S("<option value=\"");
        E(v->colls[i].id);
        S("\">");
        E(v->colls[i].title);
        S(" (");
        E(v->colls[i].api_root);
        S(")</option>");
    }
    S("</select></p>");
    return rc;
}

/* The text of an upload field when a file was chosen, else of `text`. */
static const struct console_field *input_of(struct console_view *v,
                                            const char *file, const char *text)
{
    const struct console_field *f = cairn__console_form_get(&v->form, file);
    if (f != NULL && f->len > 0)
        return f;
    f = cairn__console_form_get(&v->form, text);
    return f != NULL && f->len > 0 ? f : NULL;
}

/* ---- hunt -------------------------------------------------------------------- */

struct hunt_hit {
    char indicator[CAIRN_HUNT_ID_MAX];
    char *name;
    char *value;
    char *field;
    uint64_t line;
};

struct hunt_ctx {
    pthread_mutex_t mu;
    struct hunt_hit *hits;
    size_t n;
    uint64_t total;
    char msgs[1024];
};

static int on_hunt_hit(const struct cairn_hunt_report *r, struct cairn_buf *out,
                       void *ud)
{
    struct hunt_ctx *h = ud;
    int rc = 0;
    (void)out;
    pthread_mutex_lock(&h->mu);
    h->total++;
    if (h->n < HITS_SHOWN) {
        struct hunt_hit *g = cairn_realloc(h->hits, (h->n + 1) * sizeof *g);
        if (g == NULL) {
            rc = CAIRN_ENOMEM;
        } else {
            h->hits = g;
            struct hunt_hit *x = &g[h->n++];
            memset(x, 0, sizeof *x);
            snprintf(x->indicator, sizeof x->indicator, "%s",
                     r->indicator_id ? r->indicator_id : "");
            x->name = r->name ? cairn_strdup(r->name) : NULL;
            x->value = cairn_strndup(r->value ? r->value : "",
                                     r->value ? r->value_len : 0);
            x->field = r->field ? cairn_strdup(r->field) : NULL;
            x->line = r->line;
        }
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static void on_hunt_msg(enum cairn_severity sev, const char *text, void *ud)
{
    struct hunt_ctx *h = ud;
    (void)sev;
    pthread_mutex_lock(&h->mu);
    size_t l = strlen(h->msgs);
    if (l + 2 < sizeof h->msgs)
        snprintf(h->msgs + l, sizeof h->msgs - l, "%s%s", l ? "\n" : "", text);
    pthread_mutex_unlock(&h->mu);
}

static int hunt_form(struct console_view *v)
{
    int rc = 0;
    S("<form method=\"post\" action=\"/ui/hunt\" enctype=\"multipart/form-data\" "
      "class=\"card\" id=\"hunt-form\">");
    if (rc == 0)
        rc = cairn__console_csrf_field(v);
    if (rc == 0)
        rc = coll_select(v, "collection", "Indicators from", CAIRN_STORE_READ,
                         true);
    S("<p><label for=\"log\">A log to hunt (Zeek, JSON lines, CSV, text; "
      "gzip or zstd)</label><input id=\"log\" name=\"log\" type=\"file\"></p>"
      "<p><label for=\"values\">or paste values or log lines</label><textarea "
      "id=\"values\" name=\"values\" rows=\"6\"></textarea></p>"
      "<p><label for=\"pattern\">Hunt with this STIX pattern instead of the "
      "stored indicators (optional)</label><input id=\"pattern\" "
      "name=\"pattern\" type=\"text\" autocomplete=\"off\" "
      "placeholder=\"[domain-name:value = 'example.com']\"></p>"
      "<p><button type=\"submit\" id=\"hunt-go\">Hunt</button></p></form>");
    return rc;
}

/* The id of the pattern an analyst pasted, which is no stored object. */
#define ADHOC_ID "indicator--00000000-0000-4000-8000-000000000000"

/*
 * The pasted `pattern` as the only indicator of `b`; CAIRN_EINVAL when it
 * does not parse, with the reason on the page.
 */
static int adhoc_indicator(struct console_view *v,
                           struct cairn_hunt_builder *b, const char *pattern)
{
    struct cairn_diag d = {0};
    int rc = 0;
    json_t *ind = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "indicator",
        "spec_version", "2.1", "id", ADHOC_ID, "created",
        "2000-01-01T00:00:00.000Z", "modified", "2000-01-01T00:00:00.000Z",
        "name", "the pasted pattern", "pattern", pattern, "pattern_type",
        "stix");
    if (ind == NULL)
        return CAIRN_ENOMEM;
    if (json_object_set_new(ind, "valid_from",
                            json_string("2000-01-01T00:00:00Z")) != 0) {
        json_decref(ind);
        return CAIRN_ENOMEM;
    }
    int ar = cairn_hunt_builder_add_indicator(b, ind, &d);
    json_decref(ind);
    if (ar == CAIRN_ENOMEM)
        return ar;
    if (ar != 0) {
        v->resp->status = 400;
        S("<p class=\"error\" role=\"alert\" id=\"pattern-error\">The "
          "pattern cannot be hunted: ");
        E(d.message[0] != '\0' ? d.message : cairn_strerror(ar));
        S("</p>");
        return rc < 0 ? rc : CAIRN_EINVAL;
    }
    return 0;
}

int cairn__console_hunt(struct console_view *v)
{
    struct cairn_hunt_builder *b = NULL;
    struct cairn_hunt_set *set = NULL;
    struct cairn_hunt_job *job = NULL;
    struct hunt_ctx h = {0};
    struct cairn_hunt_job_stats st = {0};
    size_t n_ind = 0;
    pthread_mutex_init(&h.mu, NULL);
    int rc = cairn__console_page_begin(v, "Hunt");
    if (rc == 0)
        rc = hunt_form(v);
    if (rc < 0 || !is_post(v))
        goto end;
    const struct console_field *in = input_of(v, "log", "values");
    if (in == NULL) {
        S("<p class=\"error\" role=\"alert\">Choose a log or paste some "
          "values.</p>");
        goto end;
    }
    const char *only = cairn__console_form_str(&v->form, "collection");
    const char *pattern = cairn__console_form_str(&v->form, "pattern");
    rc = cairn_hunt_builder_new(NULL, &b);
    if (rc == 0 && pattern[0] != '\0') {
        rc = adhoc_indicator(v, b, pattern);
        if (rc == CAIRN_EINVAL) {
            rc = 0; /* said on the page */
            goto end;
        }
        n_ind = 1;
    } else if (rc == 0) {
        rc = cairn__console_add_indicators(v, b, only, &n_ind);
    }
    if (rc == 0)
        rc = cairn_hunt_builder_build(b, &set);
    struct cairn_hunt_job_opts jo = {.set = set,
                                     .threads = 1,
                                     .on_hit = on_hunt_hit,
                                     .on_msg = on_hunt_msg,
                                     .ud = &h};
    cairn_telemetry_opts_init(&jo.telemetry);
    if (rc == 0)
        rc = cairn_hunt_job_new(&jo, &job);
    const char *name = in->filename != NULL && in->filename[0] != '\0'
                           ? in->filename
                           : "pasted";
    struct cairn_hunt_input input = {
        .path = name, .data = in->value, .len = in->len};
    if (rc == 0)
        rc = cairn_hunt_job_run(job, &input, 1, NULL, 0, &st);
    if (rc < 0)
        goto end;
    P("<section aria-labelledby=\"h-hits\"><h2 id=\"h-hits\">Hits</h2><p "
      "id=\"hunt-summary\">%llu hit%s in %llu line%s of ",
      (unsigned long long)h.total, h.total == 1 ? "" : "s",
      (unsigned long long)st.lines, st.lines == 1 ? "" : "s");
    E(name);
    P(", against %zu indicator%s.</p>", n_ind, n_ind == 1 ? "" : "s");
    if (h.msgs[0] != '\0') {
        S("<pre class=\"msgs\">");
        E(h.msgs);
        S("</pre>");
    }
    if (h.n > 0) {
        S("<div class=\"scroll\"><table id=\"hits\"><thead><tr><th "
          "scope=\"col\">Line</th><th scope=\"col\">Value</th><th "
          "scope=\"col\">Field</th><th scope=\"col\">Indicator</th></tr>"
          "</thead><tbody>");
        for (size_t i = 0; rc == 0 && i < h.n; i++) {
            P("<tr><td>%llu</td><td>", (unsigned long long)h.hits[i].line);
            E(h.hits[i].value);
            S("</td><td>");
            E(h.hits[i].field ? h.hits[i].field : "");
            if (strcmp(h.hits[i].indicator, ADHOC_ID) == 0) {
                S("</td><td>the pasted pattern</td></tr>");
                continue;
            }
            S("</td><td><a href=\"/ui/object?id=");
            U(h.hits[i].indicator);
            S("\">");
            E(h.hits[i].name ? h.hits[i].name : h.hits[i].indicator);
            S("</a></td></tr>");
        }
        S("</tbody></table></div>");
    }
    S("</section>");
end:
    if (rc == 0)
        rc = cairn__console_page_end(v);
    for (size_t i = 0; i < h.n; i++) {
        cairn_free(h.hits[i].name);
        cairn_free(h.hits[i].value);
        cairn_free(h.hits[i].field);
    }
    cairn_free(h.hits);
    pthread_mutex_destroy(&h.mu);
    cairn_hunt_job_free(job);
    cairn_hunt_set_free(set);
    cairn_hunt_builder_free(b);
    return rc;
}

/* ---- import ------------------------------------------------------------------ */

struct findings {
    struct cairn_buf *b;
    size_t n, errors, warnings;
    int rc;
};

static void on_finding(const struct cairn_diag *d, void *ud)
{
    struct findings *f = ud;
    if (d->severity == CAIRN_SEV_ERROR)
        f->errors++;
    else
        f->warnings++;
    if (f->rc < 0 || f->n++ >= FINDINGS_SHOWN)
        return;
    int rc = cairn_buf_printf(f->b, "<li class=\"%s\"><span class=\"sev\">%s"
                                    "</span> ",
                              d->severity == CAIRN_SEV_ERROR ? "bad" : "warn",
                              d->severity == CAIRN_SEV_ERROR ? "error"
                                                             : "warning");
    if (rc == 0 && d->path[0] != '\0') {
        rc = cairn_buf_puts(f->b, "<code>");
        if (rc == 0)
            rc = cairn__console_escs(f->b, d->path);
        if (rc == 0)
            rc = cairn_buf_puts(f->b, "</code> ");
    }
    if (rc == 0 && d->line > 0)
        rc = cairn_buf_printf(f->b, "line %u: ", d->line);
    if (rc == 0)
        rc = cairn__console_escs(f->b, d->message);
    if (rc == 0)
        rc = cairn_buf_puts(f->b, "</li>");
    f->rc = rc;
}

static int import_form(struct console_view *v)
{
    int rc = 0;
    S("<form method=\"post\" action=\"/ui/import\" "
      "enctype=\"multipart/form-data\" class=\"card\" id=\"import-form\">");
    if (rc == 0)
        rc = cairn__console_csrf_field(v);
    if (rc == 0)
        rc = coll_select(v, "collection", "Into collection", CAIRN_STORE_WRITE,
                         false);
    S("<p><label for=\"format\">Format</label><select id=\"format\" "
      "name=\"format\"><option value=\"stix\" selected>STIX 2.1 bundle or "
      "object</option><option value=\"misp\">MISP event (JSON)</option>"
      "<option value=\"csv\">CSV with a header row</option><option "
      "value=\"list\">A list of values, one a line</option><option "
      "value=\"fireeye\">FireEye Indicator_Release CSV</option></select></p>"
      "<p><label for=\"map\">CSV columns: value=COLUMN[,type=COLUMN|TYPE]"
      "[,name=COLUMN]...</label><input id=\"map\" name=\"map\" "
      "type=\"text\" autocomplete=\"off\" placeholder=\"value=indicator,"
      "type=auto\"></p>"
      "<p><label for=\"file\">A file</label><input id=\"file\" "
      "name=\"file\" type=\"file\"></p><p><label for=\"bundle\">or paste "
      "it</label><textarea id=\"bundle\" name=\"bundle\" rows=\"8\">"
      "</textarea></p>"
      "<p><input type=\"checkbox\" id=\"store\" name=\"store\" value=\"1\" "
      "checked><label for=\"store\" class=\"inline\">Store the valid objects "
      "(else only validate)</label></p>"
      "<p><button type=\"submit\" id=\"import-go\">Import</button></p>"
      "</form>");
    return rc;
}

/* A refusal or mark of the signature policy, shown with its object. */
static void on_policy(const struct cairn_diag *d, void *ud)
{
    struct cairn_diag c = *d;
    if (c.path[0] == '\0')
        snprintf(c.path, sizeof c.path, "%s", d->object_id);
    on_finding(&c, ud);
}

/*
 * Store the bundle's (or the object's) objects as a TAXII POST of them
 * would: the same call, so the collection's signature policy holds here
 * too; what the policy refuses or marks goes to `f`. A document that is
 * not well-formed was reported by validation already.
 */
static int ingest_doc(struct console_view *v, const char *coll,
                      const struct console_field *in, struct findings *f,
                      struct cairn_ingest_counts *counts, char *why,
                      size_t why_len)
{
    return cairn_taxii_add_objects(v->con->taxii, v->s, coll, in->value,
                                   in->len, on_policy, f, counts, why,
                                   why_len);
}

/* What a feed conversion hands out goes to the store, or is only counted. */
struct feed_sink {
    struct cairn_ingest *ing; /* NULL: validate only */
};

static int feed_emit(const json_t *obj, void *ud)
{
    struct feed_sink *fs = ud;
    return fs->ing != NULL ? cairn_ingest_add(fs->ing, obj, NULL, 0, NULL, 0)
                           : 0;
}

/*
 * A MISP event, CSV, list or FireEye file converted by the feed module (as
 * `cairn feed import` does), its findings in `f`, and stored into `coll`
 * when not NULL. The conversion's stats and the store's counts are out.
 */
static int feed_doc(struct console_view *v, const char *fmt, const char *coll,
                    const struct console_field *in, const char *name,
                    struct findings *f, struct cairn_feed_stats *stats,
                    struct cairn_ingest_counts *counts, bool *bad_map)
{
    struct feed_sink fs = {0};
    struct cairn_feed *feed = NULL;
    struct cairn_feed_csv_map *map = NULL;
    int rc = 0;
    if (strcmp(fmt, "csv") == 0) {
        struct cairn_diag d = {0};
        rc = cairn_feed_csv_map_parse(cairn__console_form_str(&v->form, "map"),
                                      &map, &d);
        if (rc == CAIRN_EINVAL) {
            d.severity = CAIRN_SEV_ERROR;
            snprintf(d.path, sizeof d.path, "%s", "CSV columns");
            on_finding(&d, f);
            *bad_map = true;
            return 0;
        }
    }
    /* A conversion is what this node creates: [server] sign signs it. */
    struct cairn_sign_gate gate = {.signer = cairn_taxii_signer(v->con->taxii)};
    if (rc == 0 && coll != NULL) {
        struct cairn_ingest_opts o = {
            .collection = coll,
            .batch = 1000,
            .hook = gate.signer != NULL ? cairn_sign_gate_hook : NULL,
            .hook_ud = &gate,
        };
        rc = cairn_ingest_new(v->s, &o, &fs.ing);
    }
    struct cairn_feed_opts fo = {
        .emit = feed_emit, .emit_ud = &fs, .report = on_finding, .report_ud = f};
    if (rc == 0)
        rc = cairn_feed_new(&fo, &feed);
    if (rc == 0) {
        if (strcmp(fmt, "misp") == 0)
            rc = cairn_feed_misp_event(feed, in->value, in->len, name);
        else if (strcmp(fmt, "csv") == 0)
            rc = cairn_feed_csv(feed, in->value, in->len, name, map);
        else if (strcmp(fmt, "list") == 0)
            rc = cairn_feed_list(feed, in->value, in->len, name);
        else
            rc = cairn_feed_fireeye(feed, in->value, in->len, name);
        /* A malformed input was reported as a finding. */
        if (rc == CAIRN_EPARSE || rc == CAIRN_EIO)
            rc = 0;
        cairn_feed_get_stats(feed, stats);
    }
    if (rc == 0 && fs.ing != NULL)
        rc = cairn_ingest_flush(fs.ing);
    if (fs.ing != NULL)
        cairn_ingest_counts(fs.ing, counts);
    cairn_feed_free(feed);
    cairn_ingest_free(fs.ing);
    cairn_feed_csv_map_free(map);
    return rc;
}

int cairn__console_import(struct console_view *v)
{
    struct cairn_buf list;
    cairn_buf_init(&list, (size_t)4 << 20);
    int rc = cairn__console_page_begin(v, "Import");
    if (rc == 0)
        rc = import_form(v);
    if (rc < 0 || !is_post(v))
        goto end;
    const struct console_field *in = input_of(v, "file", "bundle");
    const char *coll = cairn__console_form_str(&v->form, "collection");
    bool store = cairn__console_form_str(&v->form, "store")[0] != '\0';
    const struct console_coll *c = NULL;
    for (size_t i = 0; i < v->n_colls; i++)
        if (strcmp(v->colls[i].id, coll) == 0)
            c = &v->colls[i];
    if (in == NULL) {
        S("<p class=\"error\" role=\"alert\">Choose a file or paste a "
          "bundle.</p>");
        goto end;
    }
    if (store && (c == NULL || (c->rights & CAIRN_STORE_WRITE) == 0)) {
        v->resp->status = 403;
        S("<p class=\"error\" role=\"alert\">You may not write to that "
          "collection.</p>");
        goto end;
    }
    struct findings f = {.b = &list};
    const char *fmt = cairn__console_form_str(&v->form, "format");
    const char *name =
        in->filename != NULL && in->filename[0] != '\0' ? in->filename
                                                         : "pasted";
    if (fmt[0] != '\0' && strcmp(fmt, "stix") != 0) {
        if (strcmp(fmt, "misp") != 0 && strcmp(fmt, "csv") != 0 &&
            strcmp(fmt, "list") != 0 && strcmp(fmt, "fireeye") != 0) {
            v->resp->status = 400;
            S("<p class=\"error\" role=\"alert\">There is no such "
              "format.</p>");
            goto end;
        }
        struct cairn_feed_stats fst = {0};
        struct cairn_ingest_counts counts = {0};
        bool bad_map = false;
        int ir = feed_doc(v, fmt, store ? c->id : NULL, in, name, &f, &fst,
                          &counts, &bad_map);
        if (ir == CAIRN_ENOMEM || f.rc < 0) {
            rc = ir == CAIRN_ENOMEM ? ir : f.rc;
            goto end;
        }
        P("<section aria-labelledby=\"h-find\"><h2 id=\"h-find\">"
          "Conversion</h2><p id=\"import-summary\">%zu object%s (%zu "
          "indicator%s, %zu observable%s, %zu report%s), %zu skipped.</p>",
          fst.objects, fst.objects == 1 ? "" : "s", fst.indicators,
          fst.indicators == 1 ? "" : "s", fst.observables,
          fst.observables == 1 ? "" : "s", fst.reports,
          fst.reports == 1 ? "" : "s", fst.skipped);
        if (f.n > 0) {
            S("<ul class=\"findings\">");
            if (rc == 0)
                rc = cairn_buf_append(&v->b, list.data, list.len);
            S("</ul>");
            if (f.n > FINDINGS_SHOWN)
                P("<p>and %zu more.</p>", f.n - FINDINGS_SHOWN);
        }
        S("</section>");
        if (store && !bad_map) {
            P("<section aria-labelledby=\"h-stored\"><h2 id=\"h-stored\">"
              "Stored</h2><p id=\"stored\">%zu new, %zu already there, %zu "
              "invalid, %zu refused by the store, into ",
              counts.stored, counts.existed, counts.invalid, counts.failed);
            E(c->title);
            S(".</p>");
            if (ir < 0) {
                S("<p class=\"error\" role=\"alert\">The store failed: ");
                E(cairn_strerror(ir));
                S("</p>");
            }
            S("</section>");
        }
        goto end;
    }
    struct cairn_validate_opts vo = {
        .file = name,
        .cb = on_finding,
        .ud = &f,
        .check_pattern = cairn_pattern_checker};
    struct cairn_validate_stats vs = {0};
    int vr = cairn_stix_validate_buffer(in->value, in->len, &vo, &vs);
    if (f.rc < 0) {
        rc = f.rc;
        goto end;
    }
    P("<section aria-labelledby=\"h-find\"><h2 id=\"h-find\">Validation"
      "</h2><p id=\"import-summary\">%zu object%s, %zu error%s, %zu "
      "warning%s.</p>",
      vs.objects, vs.objects == 1 ? "" : "s", f.errors,
      f.errors == 1 ? "" : "s", f.warnings, f.warnings == 1 ? "" : "s");
    if (f.n > 0) {
        S("<ul class=\"findings\">");
        if (rc == 0)
            rc = cairn_buf_append(&v->b, list.data, list.len);
        S("</ul>");
        if (f.n > FINDINGS_SHOWN)
            P("<p>and %zu more.</p>", f.n - FINDINGS_SHOWN);
    }
    S("</section>");
    if (rc == 0 && store && vr != CAIRN_EPARSE) {
        struct cairn_ingest_counts counts = {0};
        struct cairn_buf refused;
        cairn_buf_init(&refused, (size_t)4 << 20);
        struct findings pf = {.b = &refused};
        char why[256] = "";
        int ir = ingest_doc(v, c->id, in, &pf, &counts, why, sizeof why);
        P("<section aria-labelledby=\"h-stored\"><h2 id=\"h-stored\">Stored"
          "</h2><p id=\"stored\">%zu new, %zu already there, %zu invalid, "
          "%zu refused by the store, into ",
          counts.stored, counts.existed, counts.invalid, counts.failed);
        E(c->title);
        S(".</p>");
        if (pf.n > 0) {
            /* The collection's signature policy: refused or marked. */
            S("<ul class=\"findings\" id=\"signatures\">");
            if (rc == 0)
                rc = cairn_buf_append(&v->b, refused.data, refused.len);
            S("</ul>");
            if (pf.n > FINDINGS_SHOWN)
                P("<p>and %zu more.</p>", pf.n - FINDINGS_SHOWN);
        }
        cairn_buf_release(&refused);
        if (rc == 0 && pf.rc < 0)
            rc = pf.rc;
        if (ir == CAIRN_EINVAL) {
            /* Validation above said what is wrong; this is why nothing
             * was stored (a bare array of objects, say, is no bundle). */
            S("<p class=\"error\" role=\"alert\" id=\"not-stored\">"
              "Nothing stored: ");
            E(why[0] ? why : cairn_strerror(ir));
            S("</p>");
        } else if (ir < 0) {
            S("<p class=\"error\" role=\"alert\">The store failed: ");
            E(cairn_strerror(ir));
            S("</p>");
        }
        S("</section>");
    }
end:
    if (rc == 0)
        rc = cairn__console_page_end(v);
    cairn_buf_release(&list);
    return rc;
}

/* ---- admin ------------------------------------------------------------------- */

static int admin_action(struct console_view *v, char *token_out)
{
    const char *act = cairn__console_form_str(&v->form, "action");
    const char *user = cairn__console_form_str(&v->form, "user");
    const char *coll = cairn__console_form_str(&v->form, "collection");
    unsigned bits =
        (cairn__console_form_str(&v->form, "read")[0] ? CAIRN_STORE_READ : 0) |
        (cairn__console_form_str(&v->form, "write")[0] ? CAIRN_STORE_WRITE
                                                       : 0);
    if (strcmp(act, "grant") == 0)
        return cairn_store_grant(v->s, user, coll, bits);
    if (strcmp(act, "revoke") == 0)
        return cairn_store_revoke(v->s, user, coll, bits);
    if (strcmp(act, "token") == 0)
        return cairn_store_token_new(v->s, user, token_out);
    if (strcmp(act, "add-user") == 0) {
        const char *pw = cairn__console_form_str(&v->form, "password");
        if (pw[0] == '\0' || user[0] == '\0' || strchr(user, ':') != NULL)
            return CAIRN_EINVAL;
        int rc = cairn_store_user_add(v->s, user, pw);
        if (rc == 0 && cairn__console_form_str(&v->form, "admin")[0])
            rc = cairn_store_user_admin_set(v->s, user, true);
        return rc;
    }
    return CAIRN_EINVAL;
}

int cairn__console_admin(struct console_view *v)
{
    char **names = NULL;
    size_t n = 0;
    struct cairn_store_collection **all = NULL;
    size_t n_all = 0;
    char token[CAIRN_STORE_TOKEN_LEN] = "";
    int rc = cairn__console_page_begin(v, "Admin");
    if (rc == 0 && is_post(v)) {
        int ar = admin_action(v, token);
        if (ar < 0) {
            v->resp->status = ar == CAIRN_ENOTFOUND ? 404 : 400;
            S("<p class=\"error\" role=\"alert\">That did not work: ");
            E(cairn_strerror(ar));
            S("</p>");
        } else if (token[0] != '\0') {
            S("<p class=\"ok\" role=\"status\">New token for ");
            E(cairn__console_form_str(&v->form, "user"));
            S(" (shown this once): <code id=\"new-token\">");
            E(token);
            S("</code></p>");
        } else {
            S("<p class=\"ok\" role=\"status\">Done.</p>");
        }
    }
    /* Every collection, whatever the admin's own rights. */
    struct cairn_store_api_root *roots = NULL;
    size_t n_roots = 0;
    if (rc == 0)
        rc = cairn_store_api_root_list(v->s, &roots, &n_roots);
    for (size_t r = 0; rc == 0 && r < n_roots; r++) {
        struct cairn_store_collection *list = NULL;
        size_t nl = 0;
        rc = cairn_store_collection_list(v->s, roots[r].name, &list, &nl);
        for (size_t i = 0; rc == 0 && i < nl; i++) {
            struct cairn_store_collection *c = NULL;
            rc = cairn_store_collection_get(v->s, NULL, list[i].id, &c);
            struct cairn_store_collection **g =
                rc == 0 ? cairn_realloc(all, (n_all + 1) * sizeof *g) : NULL;
            if (rc == 0 && g == NULL)
                rc = CAIRN_ENOMEM;
            if (rc == 0) {
                all = g;
                all[n_all++] = c;
            } else {
                cairn_store_collection_free(c);
            }
        }
        cairn_store_collection_list_free(list, nl);
    }
    cairn_store_api_root_list_free(roots, n_roots);
    if (rc == 0)
        rc = cairn_store_user_list(v->s, &names, &n);
    S("<section aria-labelledby=\"h-users\"><h2 id=\"h-users\">Users and "
      "grants</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">"
      "User</th><th scope=\"col\">Sharing</th><th scope=\"col\">Rights</th>"
      "</tr></thead><tbody>");
    for (size_t u = 0; rc == 0 && u < n; u++) {
        struct cairn_store_user_share sh;
        bool adm = false;
        rc = cairn_store_user_share_get(v->s, names[u], &sh);
        if (rc == 0)
            rc = cairn_store_user_admin_get(v->s, names[u], &adm);
        S("<tr><td>");
        E(names[u]);
        if (adm)
            S(" <span class=\"badge\">admin</span>");
        S("</td><td>");
        E(sh.identity[0] ? sh.identity : "no identity");
        S(sh.member ? ", member" : "");
        S("</td><td><ul class=\"refs\">");
        for (size_t c = 0; rc == 0 && c < n_all; c++) {
            unsigned bits = 0;
            rc = cairn_store_rights(v->s, names[u], all[c]->id, &bits);
            if (rc < 0 || (bits & 3) == 0)
                continue;
            S("<li>");
            E(all[c]->title ? all[c]->title : all[c]->id);
            P(": %s%s%s</li>", bits & CAIRN_STORE_READ ? "read" : "",
              bits == 3 ? ", " : "", bits & CAIRN_STORE_WRITE ? "write" : "");
        }
        S("</ul></td></tr>");
    }
    S("</tbody></table></div></section>");

    /* Grant or revoke. */
    S("<section aria-labelledby=\"h-grant\"><h2 id=\"h-grant\">Grant or "
      "revoke</h2><form method=\"post\" action=\"/ui/admin\" class=\"card\">");
    if (rc == 0)
        rc = cairn__console_csrf_field(v);
    S("<p><label for=\"g-user\">User</label><select id=\"g-user\" "
      "name=\"user\">");
    for (size_t u = 0; rc == 0 && u < n; u++) {
        S("<option>");
        E(names[u]);
        S("</option>");
    }
    S("</select></p><p><label for=\"g-coll\">Collection</label><select "
      "id=\"g-coll\" name=\"collection\">");
    for (size_t c = 0; rc == 0 && c < n_all; c++) {
        S("<option value=\"");
        E(all[c]->id);
        S("\">");
        E(all[c]->title ? all[c]->title : all[c]->id);
        S("</option>");
    }
    S("</select></p><p><input type=\"checkbox\" id=\"g-read\" name=\"read\" "
      "value=\"1\" checked><label for=\"g-read\" class=\"inline\">read"
      "</label> <input type=\"checkbox\" id=\"g-write\" name=\"write\" "
      "value=\"1\"><label for=\"g-write\" class=\"inline\">write</label></p>"
      "<p><button type=\"submit\" name=\"action\" value=\"grant\">Grant"
      "</button> <button type=\"submit\" name=\"action\" value=\"revoke\">"
      "Revoke</button></p></form></section>");

    /* Tokens and new users. */
    S("<section aria-labelledby=\"h-tok\"><h2 id=\"h-tok\">API tokens</h2>"
      "<form method=\"post\" action=\"/ui/admin\" class=\"card\">");
    if (rc == 0)
        rc = cairn__console_csrf_field(v);
    S("<input type=\"hidden\" name=\"action\" value=\"token\"><p><label "
      "for=\"t-user\">New token for</label><select id=\"t-user\" "
      "name=\"user\">");
    for (size_t u = 0; rc == 0 && u < n; u++) {
        S("<option>");
        E(names[u]);
        S("</option>");
    }
    S("</select></p><p><button type=\"submit\">Make a token</button></p>"
      "</form></section>");
    S("<section aria-labelledby=\"h-add\"><h2 id=\"h-add\">New user</h2>"
      "<form method=\"post\" action=\"/ui/admin\" class=\"card\">");
    if (rc == 0)
        rc = cairn__console_csrf_field(v);
    S("<input type=\"hidden\" name=\"action\" value=\"add-user\"><p><label "
      "for=\"a-user\">Name</label><input id=\"a-user\" name=\"user\" "
      "required></p><p><label for=\"a-pw\">Password</label><input "
      "id=\"a-pw\" name=\"password\" type=\"password\" "
      "autocomplete=\"new-password\" required></p><p><input "
      "type=\"checkbox\" id=\"a-admin\" name=\"admin\" value=\"1\"><label "
      "for=\"a-admin\" class=\"inline\">administrator</label></p><p><button "
      "type=\"submit\">Add the user</button></p></form></section>");

    S("<section aria-labelledby=\"h-peers\"><h2 id=\"h-peers\">Peers</h2>");
    const struct cairn_peers *peers = v->con->peers;
    if (peers == NULL || peers->n == 0)
        S("<p class=\"empty\">No peers are configured ([peer NAME] sections "
          "of the configuration file).</p>");
    else {
        S("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Peer"
          "</th><th scope=\"col\">URL</th><th scope=\"col\">Every</th><th "
          "scope=\"col\">Flows</th></tr></thead><tbody>");
        for (size_t i = 0; rc == 0 && i < peers->n; i++) {
            const struct cairn_peer *p = &peers->peers[i];
            S("<tr><td>");
            E(p->name);
            S("</td><td>");
            E(p->url);
            P("</td><td>%u s</td><td>", p->interval);
            for (size_t f = 0; rc == 0 && f < p->n_flows; f++) {
                S(p->flows[f].push ? "push " : "pull ");
                E(p->flows[f].push ? p->flows[f].local : p->flows[f].remote);
                S(" → ");
                E(p->flows[f].push ? p->flows[f].remote : p->flows[f].local);
                S("<br>");
            }
            S("</td></tr>");
        }
        S("</tbody></table></div>");
    }
    S("</section>");
    if (rc == 0)
        rc = cairn__console_page_end(v);
    for (size_t c = 0; c < n_all; c++)
        cairn_store_collection_free(all[c]);
    cairn_free(all);
    cairn_store_name_list_free(names, n);
    explicit_bzero(token, sizeof token);
    return rc;
}
