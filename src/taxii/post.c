/* SPDX-License-Identifier: Apache-2.0 */
/* POST objects: the envelope, validation, batched writes, status, jobs. */
#include <stdio.h>
#include <string.h>
#include <time.h>

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
};

/* ---- envelope scanning ----------------------------------------------------
 */

static size_t skip_ws(const char *b, size_t len, size_t p)
{
    while (p < len &&
           (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r'))
        p++;
    return p;
}

/* Past the string that starts at b[p] == '"'; 0 when it does not end. */
static size_t skip_string(const char *b, size_t len, size_t p)
{
    size_t start = ++p;
    /* memchr finds the quotes fast; an odd run of backslashes escapes one. */
    for (;;) {
        const char *q = p < len ? memchr(b + p, '"', len - p) : NULL;
        if (q == NULL)
            return 0;
        size_t at = (size_t)(q - b), bs = 0;
        while (at - bs > start && b[at - bs - 1] == '\\')
            bs++;
        if (bs % 2 == 0)
            return at + 1;
        p = at + 1;
    }
}

/*
 * Past one JSON value at b[p], by brackets and strings alone: exact for
 * valid JSON; anything else is found by the strict parse of the span that
 * follows. Returns 0 when the value does not end.
 */
static size_t skip_value(const char *b, size_t len, size_t p)
{
    if (p >= len)
        return 0;
    if (b[p] == '"')
        return skip_string(b, len, p);
    if (b[p] != '{' && b[p] != '[') {
        size_t start = p;
        while (p < len && b[p] != ',' && b[p] != ']' && b[p] != '}' &&
               b[p] != ' ' && b[p] != '\t' && b[p] != '\n' && b[p] != '\r')
            p++;
        return p > start ? p : 0;
    }
    size_t depth = 0;
    while (p < len) {
        char c = b[p];
        if (c == '"') {
            p = skip_string(b, len, p);
            if (p == 0)
                return 0;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return 0;
}

/*
 * Find the elements of the envelope's (or a bundle's) "objects" list. The
 * other members are parsed to check they are JSON, then dropped. 0, or
 * CAIRN_EINVAL with a sentence in `err`; CAIRN_ENOMEM.
 */
static int scan_envelope(const char *b, size_t len, struct span **out,
                         size_t *n_out, char *err, size_t err_len)
{
    struct span *spans = NULL;
    size_t n = 0, alloc = 0;
    bool seen_objects = false;
    int rc = CAIRN_EINVAL;
    *out = NULL;
    *n_out = 0;

    size_t p = skip_ws(b, len, 0);
    if (p >= len || b[p] != '{') {
        snprintf(err, err_len,
                 "the body is not a JSON object (an envelope "
                 "with an \"objects\" list)");
        goto out;
    }
    p = skip_ws(b, len, p + 1);
    bool first = true;
    for (;;) {
        if (p < len && b[p] == '}' && first) {
            p++;
            break;
        }
        size_t kend = p < len && b[p] == '"' ? skip_string(b, len, p) : 0;
        if (kend == 0)
            goto syntax;
        json_error_t je;
        json_t *key = json_loadb(b + p, kend - p, JSON_DECODE_ANY, &je);
        bool is_objects =
            key != NULL && strcmp(json_string_value(key), "objects") == 0;
        json_decref(key);
        if (key == NULL)
            goto syntax;
        p = skip_ws(b, len, kend);
        if (p >= len || b[p] != ':')
            goto syntax;
        p = skip_ws(b, len, p + 1);
        if (is_objects) {
            if (seen_objects) {
                snprintf(err, err_len, "the body has \"objects\" twice");
                goto out;
            }
            seen_objects = true;
            if (p >= len || b[p] != '[') {
                snprintf(err, err_len, "\"objects\" must be a list");
                goto out;
            }
            p = skip_ws(b, len, p + 1);
            bool first_el = true;
            while (!(p < len && b[p] == ']' && first_el)) {
                size_t end = skip_value(b, len, p);
                if (end == 0)
                    goto syntax;
                if (n == alloc) {
                    size_t na = alloc ? alloc * 2 : 256;
                    struct span *bigger =
                        cairn_realloc(spans, na * sizeof *spans);
                    if (bigger == NULL) {
                        rc = CAIRN_ENOMEM;
                        goto out;
                    }
                    spans = bigger;
                    alloc = na;
                }
                spans[n].off = p;
                spans[n].len = end - p;
                n++;
                first_el = false;
                p = skip_ws(b, len, end);
                if (p < len && b[p] == ',') {
                    p = skip_ws(b, len, p + 1);
                    continue;
                }
                if (p >= len || b[p] != ']')
                    goto syntax;
                break;
            }
            p++;
        } else {
            size_t end = skip_value(b, len, p);
            json_t *v =
                end ? json_loadb(b + p, end - p,
                                 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je)
                    : NULL;
            if (v == NULL)
                goto syntax;
            json_decref(v);
            p = end;
        }
        first = false;
        p = skip_ws(b, len, p);
        if (p < len && b[p] == ',') {
            p = skip_ws(b, len, p + 1);
            continue;
        }
        if (p >= len || b[p] != '}')
            goto syntax;
        p++;
        break;
    }
    if (skip_ws(b, len, p) != len)
        goto syntax;
    if (!seen_objects || n == 0) {
        snprintf(err, err_len, "the envelope has no objects to add");
        goto out;
    }
    *out = spans;
    *n_out = n;
    return 0;
syntax:
    snprintf(err, err_len, "the body is not well-formed JSON (near byte %zu)",
             p);
out:
    cairn_free(spans);
    return rc;
}

/* ---- writing ----------------------------------------------------------------
 */

struct first_error {
    bool have;
    char msg[sizeof(((struct cairn_store_result *)0)->message)];
};

/* Copy "a" or "a: b" into `dst`, cut to fit: messages are bounded. */
static void cut_copy(char *dst, size_t size, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = a; *p != '\0' && n + 1 < size; p++)
        dst[n++] = *p;
    if (b != NULL) {
        for (const char *p = ": "; *p != '\0' && n + 1 < size; p++)
            dst[n++] = *p;
        for (const char *p = b; *p != '\0' && n + 1 < size; p++)
            dst[n++] = *p;
    }
    dst[n] = '\0';
}

static void on_finding(const struct cairn_diag *d, void *ud)
{
    struct first_error *fe = ud;
    if (fe->have || d->severity != CAIRN_SEV_ERROR)
        return;
    fe->have = true;
    if (d->path[0] != '\0')
        cut_copy(fe->msg, sizeof fe->msg, d->path, d->message);
    else
        cut_copy(fe->msg, sizeof fe->msg, d->message, NULL);
}

static void failure(struct cairn_store_result *r, const json_t *obj,
                    size_t index, const char *msg)
{
    memset(r, 0, sizeof *r);
    r->outcome = CAIRN_STORE_FAILED;
    const char *id = obj ? cairn_stix_id(obj) : NULL;
    if (id != NULL && strlen(id) < sizeof r->id)
        snprintf(r->id, sizeof r->id, "%s", id);
    else
        snprintf(r->id, sizeof r->id, "objects[%zu]", index);
    const json_t *v = obj ? json_object_get(obj, "modified") : NULL;
    if (!json_is_string(v))
        v = obj ? json_object_get(obj, "created") : NULL;
    if (json_is_string(v) && json_string_length(v) < sizeof r->version)
        snprintf(r->version, sizeof r->version, "%s", json_string_value(v));
    cut_copy(r->message, sizeof r->message, msg, NULL);
}

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
 * After a write returned `rc`: true, once the pause before the next
 * attempt is over, when the store was busy and `*attempts` (counting this
 * one) is still within `retries`.
 */
static bool busy_again(int rc, unsigned *attempts, unsigned retries)
{
    if (rc != CAIRN_EBUSY || *attempts >= retries)
        return false;
    struct timespec ts = {(time_t)1 << (*attempts)++, 0};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return true;
}

/*
 * What POST refuses before validating, whatever the validator says: an
 * element larger than every cairn reader takes (CAIRN_STIX_MAX_OBJECT_LEN,
 * the limit of `cairn pull` and `cairn import`: a peer could never pull
 * it), and a bundle, which is no STIX object: stored, the objects inside
 * it would be served without their own sharing rules. NULL when neither;
 * `obj` is NULL before parsing.
 */
static const char *refusal(size_t len, const json_t *obj, char *msg,
                           size_t msg_len)
{
    if (len > CAIRN_STIX_MAX_OBJECT_LEN) {
        snprintf(msg, msg_len,
                 "the object is %zu bytes, over the limit of %zu MiB that "
                 "every cairn reader takes",
                 len, (size_t)CAIRN_STIX_MAX_OBJECT_LEN >> 20);
        return msg;
    }
    const char *type =
        obj ? json_string_value(json_object_get(obj, "type")) : NULL;
    if (type != NULL && strcmp(type, "bundle") == 0)
        return "a bundle is not a STIX object; post its objects";
    return NULL;
}

/*
 * Parse, validate and store elements [from, to) of `spans`, a batch at a
 * time, recording every outcome in the status. Elements that are not JSON
 * objects, or break a STIX rule, are failures; the rest go to the store,
 * which decides between stored, existed and failed.
 */
static int write_range(struct cairn_store *s, const char *coll,
                       const char *status_id, const char *buf,
                       const struct span *spans, size_t from, size_t to,
                       size_t index_base, unsigned busy_retries)
{
    size_t cap = to - from < POST_BATCH ? to - from : POST_BATCH;
    struct cairn_store_object_in *objs =
        cairn_calloc(cap ? cap : 1, sizeof *objs);
    struct cairn_store_result *fails =
        cairn_calloc(cap ? cap : 1, sizeof *fails);
    int rc = CAIRN_ENOMEM;
    size_t n_objs = 0;
    if (objs == NULL || fails == NULL)
        goto out;
    struct cairn_validate_opts vo = {.cb = on_finding};
    for (size_t start = from; start < to; start += POST_BATCH) {
        size_t end = to - start > POST_BATCH ? start + POST_BATCH : to;
        size_t n_fails = 0;
        for (size_t i = start; i < end; i++) {
            const char *text = buf + spans[i].off;
            size_t len = spans[i].len;
            size_t index = index_base + i;
            json_t *obj = NULL;
            struct cairn_diag d;
            cairn_diag_clear(&d);
            if (text[0] != '{') {
                failure(&fails[n_fails++], NULL, index, "not a JSON object");
                continue;
            }
            char why[200];
            if (refusal(len, NULL, why, sizeof why) != NULL) {
                failure(&fails[n_fails++], NULL, index, why);
                continue;
            }
            if (cairn_json_parse(text, len, &obj, &d) < 0) {
                char m[200];
                cut_copy(m, sizeof m, "not valid JSON", d.message);
                failure(&fails[n_fails++], NULL, index, m);
                continue;
            }
            if (!json_is_object(obj)) {
                failure(&fails[n_fails++], NULL, index, "not a JSON object");
                json_decref(obj);
                continue;
            }
            const char *no = refusal(len, obj, why, sizeof why);
            if (no != NULL) {
                failure(&fails[n_fails++], obj, index, no);
                json_decref(obj);
                continue;
            }
            struct first_error fe = {0};
            struct cairn_validate_stats st = {0};
            vo.ud = &fe;
            if (cairn_stix_validate_object(obj, "", &vo, &st) < 0) {
                failure(&fails[n_fails++], obj, index,
                        fe.have ? fe.msg : "not a valid STIX object");
                json_decref(obj);
                continue;
            }
            objs[n_objs].obj = obj;
            objs[n_objs].json = text;
            objs[n_objs].json_len = len;
            n_objs++;
        }
        unsigned tries = 0;
        rc = 0;
        if (n_fails > 0) {
            do
                rc = cairn_store_status_record(s, status_id, fails, n_fails);
            while (busy_again(rc, &tries, busy_retries));
        }
        if (rc == 0 && n_objs > 0) {
            tries = 0;
            do
                rc = cairn_store_put_objects(s, coll, objs, n_objs, status_id,
                                             NULL);
            while (busy_again(rc, &tries, busy_retries));
        }
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < n_objs; i++)
            json_decref((json_t *)objs[i].obj);
        n_objs = 0;
    }
    rc = 0;
out:
    for (size_t i = 0; objs != NULL && i < n_objs; i++)
        json_decref((json_t *)objs[i].obj);
    cairn_free(objs);
    cairn_free(fails);
    return rc;
}

int cairn_taxii_job_run(struct cairn_taxii_job *job, struct cairn_store *store)
{
    if (job == NULL)
        return CAIRN_EINVAL;
    int rc =
        write_range(store, job->collection, job->status_id, job->buf,
                    job->spans, 0, job->n, job->index_base, JOB_BUSY_RETRIES);
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

/* ---- the endpoint -----------------------------------------------------------
 */

int cairn__taxii_post(struct cairn_taxii *t, struct cairn_store *s,
                      const char *collection, const char *user,
                      const struct cairn_taxii_request *req,
                      struct cairn_taxii_response *resp)
{
    struct span *spans = NULL;
    size_t n = 0;
    struct cairn_store_status *st = NULL;
    char err[200];
    const char *body = req->body != NULL ? req->body : "";
    int rc = scan_envelope(body, req->body_len, &spans, &n, err, sizeof err);
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
    rc = write_range(s, collection, id, body, spans, 0, now, 0, 0);
    if (rc < 0)
        goto store_failed;
    if (now < n) {
        rc = make_job(body, spans, now, n, collection, id, &resp->job);
        if (rc < 0)
            goto out;
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
    cairn_free(spans);
    return rc;
}
