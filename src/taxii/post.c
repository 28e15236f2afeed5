/* SPDX-License-Identifier: Apache-2.0 */
/* POST objects: the envelope, validation, batched writes, status, jobs. */
#include <stdio.h>
#include <string.h>

#include "taxii/taxii_int.h"

/* Where one element of "objects" sits in the body. */
struct span {
    size_t off;
    size_t len;
};

struct cairn_taxii_job {
    char *buf; /* the part of the body the spans point into */
    struct span *spans;
    size_t n;
    size_t index_base; /* position of spans[0] in the request's "objects" */
    char collection[CAIRN_UUID_STRLEN];
    char status_id[CAIRN_UUID_STRLEN];
    const struct cairn_sign_trust_rule *sign; /* the collection's, or NULL */
};

/* ---- reading the envelope ------------------------------------------------
 */

/*
 * Read the envelope's (or a bundle's) "objects" with the STIX envelope
 * reader (`lone`: the bundle reader, which takes a single object too):
 * the span of every element, and the first `keep` elements
 * parsed (the rest are parsed again by the job that stores them). A body
 * that is not well-formed JSON, or has no objects, is CAIRN_EINVAL with
 * a sentence in `err`; CAIRN_ENOMEM.
 */
static int read_envelope(const char *b, size_t len, size_t keep, bool lone,
                         struct span **out, json_t ***objs_out, size_t *n_out,
                         char *err, size_t err_len)
{
    struct cairn_bundle_reader *r = NULL;
    struct span *spans = NULL;
    json_t **objs = NULL;
    size_t n = 0, alloc = 0;
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    *objs_out = NULL;
    *n_out = 0;
    /* One object may be as large as the body: the body's limit rules.
     * With `lone`, a bundle or a single object (a file, not a POST). */
    if ((lone ? cairn_bundle_reader_new(b, len, len + 1, &r)
              : cairn_envelope_reader_new(b, len, len + 1, &r)) < 0)
        goto out;
    for (;;) {
        struct cairn_diag d;
        json_t *obj = NULL;
        cairn_diag_clear(&d);
        rc = cairn_bundle_reader_next(r, &obj, NULL, &d);
        if (rc == 0)
            break;
        if (rc == CAIRN_ENOMEM)
            goto out;
        if (rc < 0) {
            snprintf(err, err_len, "the %s is not well-formed: %u:%u: %s",
                     lone ? "document" : "body's envelope", d.line, d.column,
                     d.message);
            rc = CAIRN_EINVAL;
            goto out;
        }
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 256;
            struct span *bigger = cairn_realloc(spans, na * sizeof *spans);
            if (bigger != NULL)
                spans = bigger;
            json_t **more = bigger != NULL && n < keep
                                ? cairn_realloc(objs, na * sizeof *objs)
                                : objs;
            if (bigger == NULL || (n < keep && more == NULL)) {
                json_decref(obj);
                rc = CAIRN_ENOMEM;
                goto out;
            }
            objs = more;
            alloc = na;
        }
        cairn_bundle_reader_span(r, &spans[n].off, &spans[n].len);
        if (n < keep)
            objs[n] = obj;
        else
            json_decref(obj);
        n++;
    }
    rc = CAIRN_EINVAL;
    if (n == 0) {
        snprintf(err, err_len, "the %s has no objects to add",
                 lone ? "document" : "envelope");
        goto out;
    }
    *out = spans;
    *objs_out = objs;
    *n_out = n;
    spans = NULL;
    objs = NULL;
    rc = 0;
out:
    for (size_t i = 0; objs != NULL && i < n && i < keep; i++)
        json_decref(objs[i]);
    cairn_free(objs);
    cairn_free(spans);
    cairn_bundle_reader_free(r);
    return rc;
}

/* ---- writing ----------------------------------------------------------------
 */

/*
 * Objects per store transaction. Each commit rewrites every page of the
 * random-id version index that the batch touched, and 1,000 random ids
 * already touch most of a large collection's index: a batch of 1,000 costs
 * nearly what one of 10,000 does. So a job writes up to 10,000 at a time
 * (a 5,000-object envelope past its first sync_object_limit in one
 * commit); the parsed objects of a batch, a few MB, are all that is held.
 */
#define POST_BATCH 10000

/*
 * A job's write that finds the store busy (CAIRN_EBUSY: nothing of it was
 * written) is tried again after 1, 2, 4 and 8 s: its 202 promised the
 * objects, and otherwise only the next start would settle them, as
 * failures. A request's own writes are not retried: its client gets 503
 * and may retry itself.
 */
#define JOB_BUSY_RETRIES 4

/*
 * Validate and store elements [from, to) of `spans` through one ingest
 * session (a batch at a time), recording every outcome in the status.
 * `objs` holds them parsed (NULL: parse each span here). Elements that
 * are not JSON objects, or break a STIX rule, are failures; the rest go
 * to the store, which decides between stored, existed and failed.
 */
/* An object the collection's signature policy marks or refuses, logged
 * (the refusals are in the status too). */
static void log_signature(const struct cairn_diag *d, void *ud)
{
    char line[1200];
    (void)ud;
    if (cairn_diag_format(d, line, sizeof line) >= 0)
        cairn_log(CAIRN_LOG_WARN, "taxii: POST: %s", line);
}

/*
 * Validate and store elements [from, to) of `spans` through one ingest
 * session (a batch at a time), recording every outcome in the status
 * (when `status_id` is not NULL), under the collection's signature rule
 * `sign` (NULL: none): each object POST and the console's import add
 * goes through here. `objs` holds them parsed (NULL: parse each span
 * here). Elements that are not JSON objects, or break a STIX rule, are
 * failures; the rest go to the store, which decides between stored,
 * existed and failed. `cb` (NULL: the log) hears of each refusal and
 * mark; `counts` (may be NULL) gets the session's.
 */
static int write_range(struct cairn_store *s, const char *coll,
                       const char *status_id, const char *buf,
                       const struct span *spans, json_t **objs, size_t from,
                       size_t to, size_t index_base, unsigned busy_retries,
                       const struct cairn_sign_trust_rule *sign,
                       cairn_diag_cb cb, void *ud,
                       struct cairn_ingest_counts *counts)
{
    /* Refusals under require go to the status with their reason. */
    struct cairn_sign_gate gate = {
        .policy = sign != NULL && sign->policy > 0
                      ? (enum cairn_sign_policy)sign->policy
                      : CAIRN_SIGN_IGNORE,
        .trust = sign != NULL ? sign->trust : NULL,
        .where = coll,
        .cb = cb != NULL ? cb : log_signature,
        .ud = ud,
    };
    struct cairn_ingest_opts io = {
        .collection = coll,
        .status_id = status_id,
        .batch = to - from < POST_BATCH ? (to - from ? to - from : 1)
                                        : POST_BATCH,
        .busy_retries = busy_retries,
        .hook = gate.policy != CAIRN_SIGN_IGNORE ? cairn_sign_gate_hook : NULL,
        .hook_ud = &gate,
    };
    struct cairn_ingest *in = NULL;
    int rc = cairn_ingest_new(s, &io, &in);

    for (size_t i = from; rc == 0 && i < to; i++) {
        const char *text = buf + spans[i].off;
        json_t *obj = objs != NULL ? json_incref(objs[i]) : NULL;
        char where[40];
        snprintf(where, sizeof where, "objects[%zu]", index_base + i);
        /* A span the reader parsed once parses again. */
        if (obj == NULL && cairn_json_parse(text, spans[i].len, &obj, NULL) ==
                               CAIRN_ENOMEM)
            rc = CAIRN_ENOMEM;
        if (rc == 0)
            rc = cairn_ingest_add(in, obj, text, spans[i].len, where, 0);
        json_decref(obj);
    }
    if (rc == 0)
        rc = cairn_ingest_flush(in);
    if (counts != NULL && in != NULL)
        cairn_ingest_counts(in, counts);
    cairn_ingest_free(in);
    return rc;
}

int cairn_taxii_job_run(struct cairn_taxii_job *job, struct cairn_store *store)
{
    if (job == NULL)
        return CAIRN_EINVAL;
    int rc = write_range(store, job->collection, job->status_id, job->buf,
                         job->spans, NULL, 0, job->n, job->index_base,
                         JOB_BUSY_RETRIES, job->sign, NULL, NULL, NULL);
    if (rc < 0)
        cairn_log(CAIRN_LOG_ERROR, "taxii: status %s: writing failed: %s",
                  job->status_id, cairn_strerror(rc));
    return rc;
}

void cairn_taxii_job_free(struct cairn_taxii_job *job)
{
    if (job == NULL)
        return;
    cairn_free(job->buf);
    cairn_free(job->spans);
    cairn_free(job);
}

/* The elements [from, n) as a job with its own copy of their bytes. */
static int make_job(const char *body, const struct span *spans, size_t from,
                    size_t n, const char *coll, const char *status_id,
                    struct cairn_taxii_job **out)
{
    struct cairn_taxii_job *job = cairn_calloc(1, sizeof *job);
    if (job == NULL)
        return CAIRN_ENOMEM;
    size_t base = spans[from].off;
    size_t len = spans[n - 1].off + spans[n - 1].len - base;
    job->buf = cairn_malloc(len + 1);
    job->spans = cairn_malloc((n - from) * sizeof *job->spans);
    if (job->buf == NULL || job->spans == NULL) {
        cairn_taxii_job_free(job);
        return CAIRN_ENOMEM;
    }
    memcpy(job->buf, body + base, len);
    job->buf[len] = '\0';
    for (size_t i = from; i < n; i++) {
        job->spans[i - from].off = spans[i].off - base;
        job->spans[i - from].len = spans[i].len;
    }
    job->n = n - from;
    job->index_base = from;
    snprintf(job->collection, sizeof job->collection, "%s", coll);
    snprintf(job->status_id, sizeof job->status_id, "%s", status_id);
    *out = job;
    return 0;
}

/* ---- status resources -------------------------------------------------------
 */

static int details(struct cairn_buf *b, const char *name,
                   const struct cairn_store_result *list, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct cairn_store_result *r = &list[i];
        if (i == 0)
            rc = cairn_buf_printf(b, ",\"%s\":[", name);
        else
            rc = cairn_buf_putc(b, ',');
        if (rc == 0)
            rc = cairn_buf_puts(b, "{\"id\":");
        if (rc == 0)
            rc = cairn__taxii_json_str(b, r->id, strnlen(r->id, sizeof r->id));
        if (rc == 0)
            rc = cairn_buf_puts(b, ",\"version\":");
        if (rc == 0)
            rc = cairn__taxii_json_str(b, r->version,
                                       strnlen(r->version, sizeof r->version));
        size_t ml = strnlen(r->message, sizeof r->message);
        if (rc == 0 && ml > 0) {
            rc = cairn_buf_puts(b, ",\"message\":");
            if (rc == 0)
                rc = cairn__taxii_json_str(b, r->message, ml);
        }
        if (rc == 0)
            rc = cairn_buf_putc(b, '}');
    }
    if (rc == 0 && n > 0)
        rc = cairn_buf_putc(b, ']');
    return rc;
}

int cairn__taxii_status_json(struct cairn_buf *b,
                             const struct cairn_store_status *st)
{
    char ts[40];
    if (cairn_time_format(&st->request_timestamp, 6, ts, sizeof ts) < 0)
        ts[0] = '\0';
    int rc = cairn_buf_printf(
        b,
        "{\"id\":\"%s\",\"status\":\"%s\",\"request_timestamp\":\"%s\","
        "\"total_count\":%lld,\"success_count\":%lld,"
        "\"failure_count\":%lld,\"pending_count\":%lld",
        st->id, st->complete ? "complete" : "pending", ts, (long long)st->total,
        (long long)st->success, (long long)st->failure, (long long)st->pending);
    if (rc == 0)
        rc = details(b, "successes", st->successes, st->n_successes);
    if (rc == 0)
        rc = details(b, "failures", st->failures, st->n_failures);
    if (rc == 0)
        rc = details(b, "pendings", st->pendings, st->n_pendings);
    if (rc == 0)
        rc = cairn_buf_putc(b, '}');
    return rc;
}

int cairn_taxii_add_objects(struct cairn_taxii *t, struct cairn_store *s,
                            const char *collection, const char *doc,
                            size_t len, cairn_diag_cb cb, void *ud,
                            struct cairn_ingest_counts *counts, char *err,
                            size_t err_len)
{
    struct span *spans = NULL;
    json_t **objs = NULL;
    size_t n = 0;
    char why[400] = "";

    if (counts != NULL)
        memset(counts, 0, sizeof *counts);
    if (t == NULL || s == NULL || collection == NULL || doc == NULL)
        return CAIRN_EINVAL;
    int rc = read_envelope(doc, len, SIZE_MAX, true, &spans, &objs, &n, why,
                           sizeof why);
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "%s", why);
    if (rc == 0)
        rc = write_range(s, collection, NULL, doc, spans, objs, 0, n, 0, 0,
                         cairn_peers_collection_rule(t->signing, collection),
                         cb, ud, counts);
    for (size_t i = 0; objs != NULL && i < n; i++)
        json_decref(objs[i]);
    cairn_free(objs);
    cairn_free(spans);
    return rc;
}

/* ---- the endpoint -----------------------------------------------------------
 */

int cairn__taxii_post(struct cairn_taxii *t, struct cairn_store *s,
                      const char *collection, const char *user,
                      const struct cairn_taxii_request *req,
                      struct cairn_taxii_response *resp)
{
    struct span *spans = NULL;
    json_t **objs = NULL;
    size_t n = 0;
    struct cairn_store_status *st = NULL;
    char err[400];
    const char *body = req->body != NULL ? req->body : "";
    int rc = read_envelope(body, req->body_len, t->sync_object_limit, false,
                           &spans, &objs, &n, err, sizeof err);
    if (rc == CAIRN_ENOMEM)
        goto out;
    if (rc < 0) {
        rc = cairn__taxii_error(resp, 400, "%s", err);
        goto out;
    }
    char id[CAIRN_UUID_STRLEN];
    rc = cairn_store_status_new(s, collection, user, (int64_t)n, id);
    if (rc < 0)
        goto store_failed;
    size_t now = n < t->sync_object_limit ? n : t->sync_object_limit;
    const struct cairn_sign_trust_rule *sign =
        cairn_peers_collection_rule(t->signing, collection);
    rc = write_range(s, collection, id, body, spans, objs, 0, now, 0, 0, sign,
                     NULL, NULL, NULL);
    if (rc < 0)
        goto store_failed;
    if (now < n) {
        rc = make_job(body, spans, now, n, collection, id, &resp->job);
        if (rc < 0)
            goto out;
        resp->job->sign = sign;
    }
    rc = cairn_store_status_get(s, id, &st);
    if (rc == 0)
        rc = cairn__taxii_status_view(s, st, user, t->page_bytes);
    if (rc < 0)
        goto store_failed;
    struct cairn_buf b;
    cairn_buf_init(&b, TAXII_BODY_MAX);
    rc = cairn__taxii_status_json(&b, st);
    if (rc < 0) {
        cairn_buf_release(&b);
        goto out;
    }
    cairn__taxii_body(resp, 202, &b);
    goto out;
store_failed:
    if (rc != CAIRN_ENOMEM) {
        cairn_log(CAIRN_LOG_ERROR, "taxii: POST to %s: %s", collection,
                  cairn_strerror(rc));
        rc = cairn__taxii_store_error(resp, rc);
    }
out:
    cairn_store_status_free(st);
    for (size_t i = 0; objs != NULL && i < n && i < t->sync_object_limit; i++)
        json_decref(objs[i]);
    cairn_free(objs);
    cairn_free(spans);
    return rc;
}
