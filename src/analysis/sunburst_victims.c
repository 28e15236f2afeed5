/* SPDX-License-Identifier: Apache-2.0 */
/* The SUNBURST analyser: decoded labels grouped into victims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis_int.h"
#include "cairn/stix.h"

/* Distinct names kept per victim as evidence; the rest are counted. */
#define EVIDENCE_MAX 32
/* The longest name kept as evidence (a DNS name is at most 253). */
#define NAME_MAX_LEN 255

struct chunk {
    bool present;
    uint8_t len;
    char text[CAIRN_SUNBURST_CHUNK_MAX + 1];
};

struct victim {
    uint8_t guid[8];
    bool used;
    struct chunk chunks[36]; /* by sequence number; 35 is the last */
    uint64_t queries;        /* every name of this victim */
    uint64_t beacons;        /* NextString(Ex) among them */
    uint64_t resends;        /* a chunk seen again (same text) */
    uint64_t conflicts;      /* a chunk seen again with other text */
    uint64_t region_mismatches;
    bool has_ts;
    struct cairn_time first, last;
    uint64_t last_order; /* when there is no time: the order of arrival */
    bool stage2;         /* a beacon's flag, or an answer meaning stage 2 */
    bool has_services;
    uint16_t services;
    enum cairn_sunburst_state state;
    struct cairn_time state_ts; /* time of the answer that set `state` */
    char *cname;                /* the last CNAME answer: the HTTP C2 */
    char *evidence[EVIDENCE_MAX];
    size_t n_evidence;
};

struct sb_state {
    struct victim *tab; /* open addressing by guid */
    size_t cap, n;
    uint64_t order;
};

static int sb_new(void **out)
{
    struct sb_state *s = cairn_calloc(1, sizeof *s);
    if (s == NULL)
        return CAIRN_ENOMEM;
    s->cap = 64;
    s->tab = cairn_calloc(s->cap, sizeof *s->tab);
    if (s->tab == NULL) {
        cairn_free(s);
        return CAIRN_ENOMEM;
    }
    *out = s;
    return 0;
}

static void victim_release(struct victim *v)
{
    cairn_free(v->cname);
    for (size_t i = 0; i < v->n_evidence; i++)
        cairn_free(v->evidence[i]);
}

static void sb_free(void *state)
{
    struct sb_state *s = state;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].used)
            victim_release(&s->tab[i]);
    cairn_free(s->tab);
    cairn_free(s);
}

static uint64_t guid_hash(const uint8_t g[8])
{
    uint64_t h;
    memcpy(&h, g, 8);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static struct victim *slot(struct victim *tab, size_t cap, const uint8_t g[8])
{
    size_t i = (size_t)guid_hash(g) & (cap - 1);
    while (tab[i].used && memcmp(tab[i].guid, g, 8) != 0)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static int grow(struct sb_state *s)
{
    size_t cap = s->cap * 2;
    struct victim *tab = cairn_calloc(cap, sizeof *tab);
    if (tab == NULL)
        return CAIRN_ENOMEM;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].used)
            *slot(tab, cap, s->tab[i].guid) = s->tab[i];
    cairn_free(s->tab);
    s->tab = tab;
    s->cap = cap;
    return 0;
}

static int victim_of(struct sb_state *s, const uint8_t g[8],
                     struct victim **out)
{
    if ((s->n + 1) * 4 > s->cap * 3) {
        int rc = grow(s);
        if (rc < 0)
            return rc;
    }
    struct victim *v = slot(s->tab, s->cap, g);
    if (!v->used) {
        memset(v, 0, sizeof *v);
        memcpy(v->guid, g, 8);
        v->used = true;
        s->n++;
    }
    *out = v;
    return 0;
}

static void lower_copy(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    dst[len] = '\0';
}

static int keep_evidence(struct victim *v, const char *name, size_t len)
{
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (v->n_evidence == EVIDENCE_MAX || len > NAME_MAX_LEN)
        return 0;
    char low[NAME_MAX_LEN + 1];
    lower_copy(low, name, len);
    for (size_t i = 0; i < v->n_evidence; i++)
        if (strcmp(v->evidence[i], low) == 0)
            return 0;
    char *copy = cairn_strndup(low, len);
    if (copy == NULL)
        return CAIRN_ENOMEM;
    v->evidence[v->n_evidence++] = copy;
    return 0;
}

static void seen_at(struct sb_state *s, struct victim *v,
                    const struct cairn_dns_name *name)
{
    v->last_order = ++s->order;
    if (!name->has_ts)
        return;
    if (!v->has_ts || cairn_time_cmp(&name->ts, &v->first) < 0)
        v->first = name->ts;
    if (!v->has_ts || cairn_time_cmp(&name->ts, &v->last) > 0)
        v->last = name->ts;
    v->has_ts = true;
}

/*
 * The state the answers to one name put the implant in: a CNAME means
 * stage 2 (the addresses after it are the CNAME target's); otherwise the
 * first address decides, as the implant reads the first. The latest name
 * with answers sets the victim's state.
 */
static int take_answers(struct victim *v, const struct cairn_dns_name *name)
{
    enum cairn_sunburst_state st = CAIRN_SUNBURST_STATE_UNKNOWN;
    for (size_t i = 0; i < name->n_answers; i++) {
        const struct cairn_dns_answer *a = &name->answers[i];
        if (a->type == CAIRN_DNS_CNAME) {
            st = CAIRN_SUNBURST_STATE_STAGE2;
            if (a->len <= NAME_MAX_LEN) {
                char *c = cairn_strndup(a->value, a->len);
                if (c == NULL)
                    return CAIRN_ENOMEM;
                cairn_free(v->cname);
                v->cname = c;
            }
            break;
        }
        if (st == CAIRN_SUNBURST_STATE_UNKNOWN)
            st = cairn_sunburst_answer_state(a);
    }
    if (st == CAIRN_SUNBURST_STATE_UNKNOWN)
        return 0;
    if (st == CAIRN_SUNBURST_STATE_STAGE2)
        v->stage2 = true;
    /* Later answers win; answers without a time win over none. */
    if (v->state == CAIRN_SUNBURST_STATE_UNKNOWN || !name->has_ts ||
        cairn_time_cmp(&name->ts, &v->state_ts) >= 0) {
        v->state = st;
        if (name->has_ts)
            v->state_ts = name->ts;
    }
    return 0;
}

static int sb_add(void *state, const struct cairn_dns_name *name)
{
    struct sb_state *s = state;
    if (!cairn__sunburst_relevant(name->name, name->len))
        return CAIRN_ANALYSER_SKIP;
    struct cairn_sunburst_label l;
    enum cairn_sunburst_kind kind =
        cairn_sunburst_decode_label(name->name, name->len, &l);
    if (kind == CAIRN_SUNBURST_NONE || kind == CAIRN_SUNBURST_UNDECODABLE)
        return 0;

    struct victim *v;
    int rc = victim_of(s, l.guid, &v);
    if (rc < 0)
        return rc;
    v->queries++;
    if (!l.region_ok)
        v->region_mismatches++;
    seen_at(s, v, name);
    if (kind == CAIRN_SUNBURST_DOMAIN) {
        struct chunk *c = &v->chunks[l.seq];
        if (!c->present) {
            c->present = true;
            c->len = (uint8_t)l.chunk_len;
            memcpy(c->text, l.chunk, l.chunk_len + 1);
        } else if (c->len == l.chunk_len &&
                   memcmp(c->text, l.chunk, l.chunk_len) == 0) {
            v->resends++;
        } else {
            v->conflicts++; /* the first one seen is kept */
        }
    } else {
        v->beacons++;
        if (l.stage2)
            v->stage2 = true;
        if (kind == CAIRN_SUNBURST_NEXT_EX) {
            v->has_services = true;
            v->services = l.services;
        }
    }
    rc = keep_evidence(v, name->name, name->len);
    if (rc == 0)
        rc = take_answers(v, name);
    return rc < 0 ? rc : 1;
}

static size_t sb_count(const void *state)
{
    return ((const struct sb_state *)state)->n;
}

/* ---- a victim's domain ---------------------------------------------------- */

struct assembled {
    char domain[512];
    bool complete;
    bool base32;
    json_t *missing; /* sequence numbers not seen, 35 for the last */
};

/*
 * Join the chunks in order and decode them. A complete name has chunks 0
 * to k and the final one; anything else is partial: the pieces that
 * decode on their own are shown with "…" where chunks are missing.
 */
static int assemble(const struct victim *v, struct assembled *a)
{
    memset(a, 0, sizeof *a);
    a->missing = json_array();
    if (a->missing == NULL)
        return CAIRN_ENOMEM;
    int top = -1; /* the highest non-final sequence number seen */
    for (int i = 0; i < CAIRN_SUNBURST_FINAL_SEQ; i++)
        if (v->chunks[i].present)
            top = i;
    bool any = top >= 0 || v->chunks[CAIRN_SUNBURST_FINAL_SEQ].present;
    if (!any)
        return 0; /* beacons only: the domain is not known */
    for (int i = 0; i <= top; i++)
        if (!v->chunks[i].present &&
            json_array_append_new(a->missing, json_integer(i)) < 0)
            return CAIRN_ENOMEM;
    if (!v->chunks[CAIRN_SUNBURST_FINAL_SEQ].present &&
        json_array_append_new(a->missing,
                              json_integer(CAIRN_SUNBURST_FINAL_SEQ)) < 0)
        return CAIRN_ENOMEM;
    a->complete = json_array_size(a->missing) == 0;

    /* Runs of consecutive chunks, decoded run by run. */
    const struct chunk *first = top >= 0 && v->chunks[0].present
                                    ? &v->chunks[0]
                                    : &v->chunks[CAIRN_SUNBURST_FINAL_SEQ];
    a->base32 = first->present && first->len >= 2 && first->text[0] == '0' &&
                first->text[1] == '0';
    size_t out = 0;
    char run[36 * CAIRN_SUNBURST_CHUNK_MAX + 1];
    size_t run_len = 0;
    bool gap = false;
    for (int i = 0; i <= CAIRN_SUNBURST_FINAL_SEQ; i++) {
        if (i > top && i < CAIRN_SUNBURST_FINAL_SEQ)
            continue;
        const struct chunk *c = &v->chunks[i];
        if (c->present) {
            memcpy(run + run_len, c->text, c->len);
            run_len += c->len;
        }
        bool end = !c->present || i == CAIRN_SUNBURST_FINAL_SEQ;
        if (!end)
            continue;
        if (run_len > 0) {
            /* base32 only decodes from its start: later runs are shown
             * as they are encoded, so nothing is guessed. */
            bool decodable = !a->base32 || (run[0] == '0' && run[1] == '0');
            char piece[sizeof a->domain];
            int n = decodable ? cairn_sunburst_decode_domain(
                                    run, run_len, piece, sizeof piece)
                              : CAIRN_EINVAL;
            if (gap && out + 3 < sizeof a->domain) {
                memcpy(a->domain + out, "\xe2\x80\xa6", 3); /* … */
                out += 3;
            }
            const char *src = n >= 0 ? piece : run;
            size_t len = n >= 0 ? (size_t)n : run_len;
            if (out + len >= sizeof a->domain)
                len = sizeof a->domain - out - 1;
            memcpy(a->domain + out, src, len);
            out += len;
            run_len = 0;
            gap = false;
        }
        if (!c->present)
            gap = true;
    }
    if (gap && out + 3 < sizeof a->domain) {
        memcpy(a->domain + out, "\xe2\x80\xa6", 3);
        out += 3;
    }
    a->domain[out] = '\0';
    return 0;
}

/* ---- findings ------------------------------------------------------------- */

static void guid_hex(const uint8_t g[8], char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[g[i] >> 4];
        out[2 * i + 1] = hex[g[i] & 15];
    }
    out[16] = '\0';
}

static json_t *time_json(bool has, const struct cairn_time *t)
{
    char buf[40];
    if (!has || cairn_time_format(t, 0, buf, sizeof buf) < 0)
        return json_null();
    return json_string(buf);
}

/* "complete", "partial", or "unknown" when only beacons were seen. */
static const char *status_of(const struct assembled *a)
{
    return a->domain[0] == '\0' ? "unknown"
           : a->complete         ? "complete"
                                 : "partial";
}

static int victim_json(const struct victim *v, json_t **out)
{
    struct assembled a;
    int rc = assemble(v, &a);
    json_t *o = NULL;
    if (rc < 0)
        goto out;
    char gh[17], sv[8];
    guid_hex(v->guid, gh);
    snprintf(sv, sizeof sv, "%04x", v->services);
    rc = CAIRN_ENOMEM;
    o = json_object();
    if (o == NULL ||
        json_object_set_new(o, "guid", json_string(gh)) < 0 ||
        json_object_set_new(o, "domain", json_string(a.domain)) < 0 ||
        json_object_set_new(o, "status", json_string(status_of(&a))) < 0 ||
        json_object_set_new(o, "encoding",
                            a.domain[0] == '\0' ? json_null()
                            : a.base32          ? json_string("base32")
                                       : json_string("substitution")) < 0 ||
        json_object_set(o, "missing_chunks", a.missing) < 0 ||
        json_object_set_new(o, "first_seen", time_json(v->has_ts, &v->first)) <
            0 ||
        json_object_set_new(o, "last_seen", time_json(v->has_ts, &v->last)) <
            0 ||
        json_object_set_new(o, "queries", json_integer((json_int_t)v->queries)) <
            0 ||
        json_object_set_new(o, "beacons", json_integer((json_int_t)v->beacons)) <
            0 ||
        json_object_set_new(o, "stage2", json_boolean(v->stage2)) < 0 ||
        json_object_set_new(o, "state",
                            json_string(cairn_sunburst_state_name(v->state))) <
            0 ||
        json_object_set_new(o, "cname",
                            v->cname ? json_string(v->cname) : json_null()) <
            0 ||
        json_object_set_new(o, "services",
                            v->has_services ? json_string(sv) : json_null()) <
            0 ||
        json_object_set_new(
            o, "region_mismatches",
            json_integer((json_int_t)v->region_mismatches)) < 0 ||
        json_object_set_new(o, "conflicting_chunks",
                            json_integer((json_int_t)v->conflicts)) < 0)
        goto out;
    json_t *names = json_array();
    if (names == NULL || json_object_set_new(o, "names", names) < 0)
        goto out;
    for (size_t i = 0; i < v->n_evidence; i++)
        if (json_array_append_new(names, json_string(v->evidence[i])) < 0)
            goto out;
    *out = o;
    o = NULL;
    rc = 0;
out:
    json_decref(a.missing);
    json_decref(o);
    return rc;
}

/* Newest activity first: by last time seen, then by order of arrival. */
static int newest_first(const void *pa, const void *pb)
{
    const struct victim *a = *(const struct victim *const *)pa;
    const struct victim *b = *(const struct victim *const *)pb;
    if (a->has_ts != b->has_ts)
        return a->has_ts ? -1 : 1;
    if (a->has_ts) {
        int c = cairn_time_cmp(&b->last, &a->last);
        if (c != 0)
            return c;
    }
    return a->last_order < b->last_order ? 1
           : a->last_order > b->last_order ? -1
                                           : 0;
}

static int sorted(const struct sb_state *s, const struct victim ***out)
{
    const struct victim **v = cairn_calloc(s->n ? s->n : 1, sizeof *v);
    if (v == NULL)
        return CAIRN_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].used)
            v[k++] = &s->tab[i];
    qsort(v, k, sizeof *v, newest_first);
    *out = v;
    return 0;
}

static int sb_findings(const void *state, json_t **out)
{
    const struct sb_state *s = state;
    const struct victim **v = NULL;
    json_t *arr = json_array();
    int rc = CAIRN_ENOMEM;
    if (arr == NULL || (rc = sorted(s, &v)) < 0)
        goto out;
    for (size_t i = 0; i < s->n; i++) {
        json_t *o;
        if ((rc = victim_json(v[i], &o)) < 0)
            goto out;
        if (json_array_append_new(arr, o) < 0) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
    rc = 0;
out:
    cairn_free(v);
    json_decref(arr);
    return rc;
}

/* ---- STIX ------------------------------------------------------------------ */

/* The namespace of the ids this analyser derives (UUIDv5), so that the
 * same finding written twice is the same object. */
#define SB_NS "c4d4a2b0-5f0e-4d3c-9b8e-2a6f1c0d7e51"

static int derived_id(const char *type, const char *name, char *out,
                      size_t cap)
{
    char u[CAIRN_UUID_STRLEN];
    int rc = cairn_uuid5(SB_NS, name, strlen(name), u);
    if (rc < 0)
        return rc;
    /* STIX wants version 4 for SDOs: keep the digest, say version 4. */
    u[14] = '4';
    snprintf(out, cap, "%s--%s", type, u);
    return 0;
}

static int set_common(json_t *o, const char *type, const char *id,
                      const char *now, const struct cairn_analyser_stix_opts *opts)
{
    if (json_object_set_new(o, "type", json_string(type)) < 0 ||
        json_object_set_new(o, "spec_version", json_string("2.1")) < 0 ||
        json_object_set_new(o, "id", json_string(id)) < 0)
        return CAIRN_ENOMEM;
    if (now != NULL &&
        (json_object_set_new(o, "created", json_string(now)) < 0 ||
         json_object_set_new(o, "modified", json_string(now)) < 0))
        return CAIRN_ENOMEM;
    if (now != NULL && opts->created_by_ref != NULL &&
        json_object_set_new(o, "created_by_ref",
                            json_string(opts->created_by_ref)) < 0)
        return CAIRN_ENOMEM;
    return 0;
}

static int add_marking(json_t *o, const char *marking)
{
    json_t *refs = json_array();
    if (refs == NULL || json_object_set_new(o, "object_marking_refs", refs) < 0 ||
        json_array_append_new(refs, json_string(marking)) < 0)
        return CAIRN_ENOMEM;
    return 0;
}

static int victim_stix(const struct victim *v, const char *indicator_id,
                       const char *now, const char *marking,
                       const struct cairn_analyser_stix_opts *opts,
                       json_t *objects)
{
    json_t *ident = NULL, *od = NULL, *sg = NULL;
    struct assembled a;
    int rc = assemble(v, &a);
    if (rc < 0)
        goto out;
    rc = CAIRN_ENOMEM;
    char gh[17], key[64], id_ident[80], id_od[80], id_sg[80];
    guid_hex(v->guid, gh);
    const char *domain = a.domain;
    const char *status = status_of(&a);
    snprintf(key, sizeof key, "victim %s", gh);
    if (derived_id("identity", key, id_ident, sizeof id_ident) < 0)
        goto out;
    snprintf(key, sizeof key, "evidence %s", gh);
    if (derived_id("observed-data", key, id_od, sizeof id_od) < 0)
        goto out;
    snprintf(key, sizeof key, "sighting %s", gh);
    if (derived_id("sighting", key, id_sg, sizeof id_sg) < 0)
        goto out;

    char name[600], desc[800];
    if (domain[0] != '\0')
        snprintf(name, sizeof name, "%s", domain);
    else
        snprintf(name, sizeof name, "SUNBURST victim %s", gh);
    snprintf(desc, sizeof desc,
             "Decoded from SUNBURST's DNS queries: victim id %s, AD domain "
             "%s (%s), %llu queries, implant state %s%s.",
             gh, domain[0] ? domain : "not seen", status,
             (unsigned long long)v->queries,
             cairn_sunburst_state_name(v->state),
             v->stage2 ? ", stage 2 seen" : "");

    ident = json_object();
    if (ident == NULL ||
        set_common(ident, "identity", id_ident, now, opts) < 0 ||
        json_object_set_new(ident, "name", json_string(name)) < 0 ||
        json_object_set_new(ident, "identity_class",
                            json_string("organization")) < 0 ||
        json_object_set_new(ident, "description", json_string(desc)) < 0 ||
        add_marking(ident, marking) < 0)
        goto out;

    /* The evidence: the names looked up, as domain-name SCOs. */
    od = json_object();
    json_t *refs = json_array();
    if (od == NULL || refs == NULL ||
        set_common(od, "observed-data", id_od, now, opts) < 0 ||
        json_object_set_new(od, "object_refs", refs) < 0) {
        json_decref(refs);
        goto out;
    }
    for (size_t i = 0; i < v->n_evidence; i++) {
        json_t *sco = json_object();
        char sco_id[CAIRN_STIX_ID_MAX];
        if (sco == NULL ||
            json_object_set_new(sco, "type", json_string("domain-name")) < 0 ||
            json_object_set_new(sco, "spec_version", json_string("2.1")) < 0 ||
            json_object_set_new(sco, "value", json_string(v->evidence[i])) <
                0 ||
            cairn_stix_sco_id(sco, sco_id) < 0 ||
            json_object_set_new(sco, "id", json_string(sco_id)) < 0 ||
            json_array_append_new(refs, json_string(sco_id)) < 0 ||
            json_array_append_new(objects, sco) < 0) {
            json_decref(sco);
            goto out;
        }
    }
    char first[40], last[40];
    const struct cairn_time *t0 = v->has_ts ? &v->first : opts->now;
    const struct cairn_time *t1 = v->has_ts ? &v->last : opts->now;
    struct cairn_time tn = cairn_time_now(3);
    if (t0 == NULL)
        t0 = t1 = &tn;
    if (cairn_time_format(t0, 0, first, sizeof first) < 0 ||
        cairn_time_format(t1, 0, last, sizeof last) < 0)
        goto out;
    if (json_object_set_new(od, "first_observed", json_string(first)) < 0 ||
        json_object_set_new(od, "last_observed", json_string(last)) < 0 ||
        json_object_set_new(od, "number_observed",
                            json_integer((json_int_t)(v->queries ? v->queries
                                                                 : 1))) < 0 ||
        add_marking(od, marking) < 0)
        goto out;

    sg = json_object();
    json_t *where = json_array(), *ods = json_array();
    if (sg == NULL || where == NULL || ods == NULL) {
        json_decref(where);
        json_decref(ods);
        goto out;
    }
    if (set_common(sg, "sighting", id_sg, now, opts) < 0 ||
        json_object_set_new(sg, "sighting_of_ref",
                            json_string(indicator_id)) < 0 ||
        json_object_set_new(sg, "where_sighted_refs", where) < 0 ||
        json_object_set_new(sg, "observed_data_refs", ods) < 0 ||
        json_array_append_new(where, json_string(id_ident)) < 0 ||
        json_array_append_new(ods, json_string(id_od)) < 0 ||
        json_object_set_new(sg, "first_seen", json_string(first)) < 0 ||
        json_object_set_new(sg, "last_seen", json_string(last)) < 0 ||
        json_object_set_new(sg, "count",
                            json_integer((json_int_t)(v->queries ? v->queries
                                                                 : 1))) < 0 ||
        json_object_set_new(sg, "description", json_string(desc)) < 0 ||
        add_marking(sg, marking) < 0)
        goto out;
    if (json_array_append(objects, ident) < 0 ||
        json_array_append(objects, od) < 0 || json_array_append(objects, sg) < 0)
        goto out;
    rc = 0;
out:
    json_decref(a.missing);
    json_decref(ident);
    json_decref(od);
    json_decref(sg);
    return rc;
}

/* The indicator the sightings are of: SUNBURST's domain and subdomains. */
#define SB_INDICATOR_NAME "sunburst avsvmcloud.com"

/* The SUNBURST indicator the sightings are of, when none is given. */
static int sunburst_indicator(const char *id, const char *now,
                              const struct cairn_analyser_stix_opts *opts,
                              json_t *objects)
{
    json_t *ind = json_object();
    int rc = CAIRN_ENOMEM;
    if (ind == NULL || set_common(ind, "indicator", id, now, opts) < 0 ||
        json_object_set_new(ind, "name",
                            json_string("SUNBURST command and control "
                                        "(avsvmcloud.com)")) < 0 ||
        json_object_set_new(ind, "pattern",
                            json_string("[domain-name:value = "
                                        "'avsvmcloud.com']")) < 0 ||
        json_object_set_new(ind, "pattern_type", json_string("stix")) < 0 ||
        json_object_set_new(ind, "valid_from",
                            json_string("2020-12-13T00:00:00Z")) < 0 ||
        json_array_append(objects, ind) < 0)
        goto out;
    rc = 0;
out:
    json_decref(ind);
    return rc;
}

static int sb_stix(const void *state, const struct cairn_analyser_stix_opts *opts,
                   json_t **out)
{
    const struct sb_state *s = state;
    const struct victim **v = NULL;
    json_t *bundle = NULL;
    int rc = cairn_bundle_new(&bundle);
    if (rc < 0)
        return rc;
    rc = CAIRN_ENOMEM;
    json_t *objects = json_object_get(bundle, "objects");
    char now[40], ind_id[CAIRN_STIX_ID_MAX];
    struct cairn_time t = opts->now ? *opts->now : cairn_time_now(3);
    if (objects == NULL || cairn_time_format(&t, 3, now, sizeof now) < 0)
        goto out;
    if (opts->indicator_ref != NULL) {
        snprintf(ind_id, sizeof ind_id, "%s", opts->indicator_ref);
    } else if ((rc = derived_id("indicator", SB_INDICATOR_NAME, ind_id,
                                sizeof ind_id)) < 0 ||
               (rc = sunburst_indicator(ind_id, now, opts, objects)) < 0) {
        goto out;
    }
    const char *marking = opts->victim_marking_ref
                              ? opts->victim_marking_ref
                              : cairn_tlp_marking_id(CAIRN_TLP_RED);
    if ((rc = sorted(s, &v)) < 0)
        goto out;
    for (size_t i = 0; i < s->n; i++)
        if ((rc = victim_stix(v[i], ind_id, now, marking, opts, objects)) < 0)
            goto out;
    *out = bundle;
    bundle = NULL;
    rc = 0;
out:
    cairn_free(v);
    json_decref(bundle);
    return rc;
}

static const struct cairn_analyser_column sb_columns[] = {
    {"guid", "VICTIM ID"},   {"domain", "AD DOMAIN"},
    {"status", "NAME"},      {"first_seen", "FIRST SEEN"},
    {"last_seen", "LAST SEEN"}, {"queries", "QUERIES"},
    {"stage2", "STAGE 2"},   {"state", "STATE"},
};

static const struct cairn_analyser_info sb_info = {
    .name = "sunburst",
    .summary = "SUNBURST's victims from DNS queries to *.avsvmcloud.com: "
               "the AD domain and id of each, beacons, stage 2",
    .columns = sb_columns,
    .n_columns = sizeof sb_columns / sizeof sb_columns[0],
};

const struct cairn_analyser_ops cairn__sunburst_ops = {
    .info = &sb_info,
    .new_state = sb_new,
    .free_state = sb_free,
    .add = sb_add,
    .count = sb_count,
    .findings = sb_findings,
    .stix = sb_stix,
};
