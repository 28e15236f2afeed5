/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming reader of a STIX bundle: one object in memory at a time. */
#include <stdio.h>
#include <string.h>

#include "stix/stix_int.h"

/*
 * Only the outer object is scanned by hand (whitespace, keys, ':', ',',
 * brackets); every value, and every element of "objects", is parsed by
 * jansson with JSON_DISABLE_EOF_CHECK, whose error.position tells how far
 * it read. So the bytes of one element are the most ever held as a tree.
 */

enum state {
    ST_START,   /* deciding between a bundle and a lone object */
    ST_LONE,    /* a single object, waiting to be returned */
    ST_OBJECTS, /* inside the "objects" array */
    ST_MEMBERS, /* after "objects": the remaining outer members */
    ST_DONE,
    ST_ERROR,
};

struct cairn_bundle_reader {
    const char *buf;
    size_t len;
    size_t max;
    size_t pos;
    enum state state;
    bool is_bundle;
    bool envelope; /* any object's "objects" list, whatever its type */
    bool first_element;
    bool seen_objects;
    long index;
    json_t *header;
    json_t *lone;
    size_t span_off; /* the bytes of the object last returned */
    size_t span_len;
    int err;
    struct cairn_diag err_diag;
};

static const int LOAD_FLAGS =
    JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;

static bool is_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct cairn_bundle_reader *r)
{
    while (r->pos < r->len && is_json_ws(r->buf[r->pos]))
        r->pos++;
}

static int fail_at(struct cairn_bundle_reader *r, int code, size_t offset,
                   const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Record an error at `offset`; the reader is done after it. */
static int fail_at(struct cairn_bundle_reader *r, int code, size_t offset,
                   const char *rule, const char *fmt, ...)
{
    struct cairn_diag *d = &r->err_diag;
    cairn_diag_clear(d);
    d->severity = CAIRN_SEV_ERROR;
    snprintf(d->rule, sizeof d->rule, "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
    d->offset = offset;
    cairn__stix_line_col(r->buf, r->len, offset, &d->line, &d->column);
    r->err = code;
    r->state = ST_ERROR;
    return code;
}

static int fail_json(struct cairn_bundle_reader *r, const json_error_t *err,
                     size_t base)
{
    cairn_diag_clear(&r->err_diag);
    r->err = cairn__stix_json_error_diag(err, r->buf, r->len, base, &r->err_diag);
    r->state = ST_ERROR;
    return r->err;
}

/*
 * Parse one JSON value at r->pos, no longer than the object cap, and move
 * past it.
 */
static int load_value(struct cairn_bundle_reader *r, json_t **out)
{
    json_error_t err;
    size_t rem = r->len - r->pos;
    size_t n = rem < r->max ? rem : r->max;
    size_t used = 0;
    json_t *v = cairn__stix_json_fast(r->buf + r->pos, n, &used);
    r->span_off = r->pos;
    if (v != NULL) {
        r->span_len = used;
        r->pos += used;
        *out = v;
        return 0;
    }
    v = json_loadb(r->buf + r->pos, n, LOAD_FLAGS, &err);
    if (v == NULL) {
        if (json_error_code(&err) == json_error_premature_end_of_input &&
            n < rem)
            return fail_at(r, CAIRN_ETOOBIG, r->pos, "object-size",
                           "object is larger than %zu bytes", r->max);
        return fail_json(r, &err, r->pos);
    }
    r->span_len = (size_t)err.position;
    r->pos += (size_t)err.position;
    *out = v;
    return 0;
}

static int unexpected(struct cairn_bundle_reader *r, const char *expected)
{
    if (r->pos >= r->len)
        return fail_at(r, CAIRN_EPARSE, r->len, "json-syntax",
                       "unexpected end of input (expected %s)", expected);
    unsigned char c = (unsigned char)r->buf[r->pos];
    if (c >= 0x20 && c < 0x7f)
        return fail_at(r, CAIRN_EPARSE, r->pos, "json-syntax",
                       "expected %s, found '%c'", expected, c);
    return fail_at(r, CAIRN_EPARSE, r->pos, "json-syntax",
                   "expected %s, found byte 0x%02x", expected, c);
}

/* Parse the whole document as one object. */
static int become_lone(struct cairn_bundle_reader *r)
{
    struct cairn_diag *d = &r->err_diag;
    json_decref(r->header);
    r->header = NULL;
    r->is_bundle = false;
    if (r->len > r->max)
        return fail_at(r, CAIRN_ETOOBIG, 0, "object-size",
                       "object is larger than %zu bytes", r->max);
    cairn_diag_clear(d);
    int rc = cairn_json_parse(r->buf, r->len, &r->lone, d);
    if (rc < 0) {
        r->err = rc;
        r->state = ST_ERROR;
        return rc;
    }
    /* The object's bytes are the document without its outer blanks. */
    size_t a = 0, b = r->len;
    while (a < b && is_json_ws(r->buf[a]))
        a++;
    while (b > a && is_json_ws(r->buf[b - 1]))
        b--;
    r->span_off = a;
    r->span_len = b - a;
    r->state = ST_LONE;
    return 0;
}

/*
 * Skip one JSON value without building it, for a look ahead at the
 * members after "objects". Correct for valid JSON; on invalid JSON it may
 * stop anywhere, and the real parse that follows reports the error.
 */
static bool skip_value(const char *buf, size_t len, size_t *pos)
{
    size_t p = *pos;
    size_t depth = 0;
    while (p < len) {
        char c = buf[p];
        if (c == '"') {
            p++;
            while (p < len && buf[p] != '"') {
                if (buf[p] == '\\')
                    p++;
                p++;
            }
            if (p >= len)
                return false;
            p++;
        } else if (c == '[' || c == '{') {
            depth++;
            p++;
        } else if (c == ']' || c == '}') {
            if (depth == 0)
                break;
            depth--;
            p++;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
                                  c == '\n' || c == '\r')) {
            break;
        } else {
            p++;
        }
        if (depth == 0 && (c == '"' || c == ']' || c == '}'))
            break;
    }
    *pos = p;
    return depth == 0;
}

/*
 * With "objects" before "type": look ahead for the document's "type" to
 * know whether this is a bundle. Returns 1 for a bundle, 0 if not, -1 when
 * the look ahead failed (the document is malformed somewhere).
 */
static int peek_is_bundle(const struct cairn_bundle_reader *r)
{
    size_t p = r->pos;
    const char *b = r->buf;
    size_t len = r->len;
    json_error_t err;
    for (;;) {
        if (!skip_value(b, len, &p))
            return -1;
        while (p < len &&
               (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r'))
            p++;
        if (p >= len || b[p] == '}')
            return 0;
        if (b[p] != ',')
            return -1;
        p++;
        while (p < len &&
               (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r'))
            p++;
        json_t *key = json_loadb(b + p, len - p, LOAD_FLAGS, &err);
        if (!json_is_string(key)) {
            json_decref(key);
            return -1;
        }
        p += (size_t)err.position;
        bool is_type = strcmp(json_string_value(key), "type") == 0;
        json_decref(key);
        while (p < len &&
               (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r'))
            p++;
        if (p >= len || b[p] != ':')
            return -1;
        p++;
        while (p < len &&
               (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r'))
            p++;
        if (is_type) {
            size_t rem = len - p < 4096 ? len - p : 4096;
            json_t *v = json_loadb(b + p, rem, LOAD_FLAGS, &err);
            int rc = v != NULL ? json_is_string(v) &&
                                     strcmp(json_string_value(v), "bundle") == 0
                               : -1;
            json_decref(v);
            return rc;
        }
    }
}

/* After a member value: ',' then the next key, or '}' and the end. */
static int scan_members(struct cairn_bundle_reader *r, bool after_value);

/* Read the key at r->pos and the ':' after it. */
static int read_key(struct cairn_bundle_reader *r, json_t **key)
{
    if (r->pos >= r->len || r->buf[r->pos] != '"')
        return unexpected(r, "a string key");
    size_t at = r->pos;
    int rc = load_value(r, key);
    if (rc < 0)
        return rc;
    if (!json_is_string(*key)) {
        json_decref(*key);
        *key = NULL;
        return fail_at(r, CAIRN_EPARSE, at, "json-syntax",
                       "expected a string key");
    }
    skip_ws(r);
    if (r->pos >= r->len || r->buf[r->pos] != ':') {
        json_decref(*key);
        *key = NULL;
        return unexpected(r, "':'");
    }
    r->pos++;
    skip_ws(r);
    return 0;
}

static int end_of_document(struct cairn_bundle_reader *r)
{
    r->pos++; /* the outer '}' */
    skip_ws(r);
    if (r->pos < r->len)
        return fail_at(r, CAIRN_EPARSE, r->pos, "json-syntax",
                       "unexpected data after the JSON value");
    return 0;
}

/*
 * Scan outer members. Before the kind of document is known (`deciding`),
 * returns once it is: ST_LONE, ST_OBJECTS or ST_DONE. After "objects",
 * reads the remaining members to the end.
 */
static int scan_members(struct cairn_bundle_reader *r, bool after_value)
{
    bool deciding = r->state != ST_MEMBERS;
    for (;;) {
        skip_ws(r);
        if (after_value) {
            if (r->pos < r->len && r->buf[r->pos] == '}') {
                int rc = end_of_document(r);
                if (rc < 0)
                    return rc;
                if (deciding && !r->is_bundle)
                    return become_lone(r);
                r->state = ST_DONE;
                return 0;
            }
            if (r->pos >= r->len || r->buf[r->pos] != ',')
                return unexpected(r, "',' or '}'");
            r->pos++;
            skip_ws(r);
        }
        after_value = true;

        size_t key_at = r->pos;
        json_t *key = NULL;
        int rc = read_key(r, &key);
        if (rc < 0)
            return rc;
        const char *k = json_string_value(key);

        if (strcmp(k, "objects") == 0) {
            json_decref(key);
            if (r->seen_objects)
                return fail_at(r, CAIRN_EPARSE, key_at, "json-syntax",
                               "duplicate object key \"objects\"");
            r->seen_objects = true;
            if (deciding && !r->is_bundle) {
                /* "objects" before "type": look ahead for the type. */
                if (peek_is_bundle(r) == 0)
                    return become_lone(r);
                r->is_bundle = true;
            }
            if (r->pos >= r->len || r->buf[r->pos] != '[')
                return fail_at(r, CAIRN_EINVALID, r->pos, "bundle-objects",
                               "the bundle's \"objects\" must be a list");
            r->pos++;
            r->first_element = true;
            r->state = ST_OBJECTS;
            return 0;
        }

        json_t *value = NULL;
        rc = load_value(r, &value);
        if (rc < 0) {
            json_decref(key);
            return rc;
        }
        if (json_object_get(r->header, k) != NULL) {
            rc = fail_at(r, CAIRN_EPARSE, key_at, "json-syntax",
                         "duplicate object key \"%.100s\"", k);
            json_decref(key);
            json_decref(value);
            return rc;
        }
        bool is_type = strcmp(k, "type") == 0;
        bool bundle_type = is_type && json_is_string(value) &&
                           strcmp(json_string_value(value), "bundle") == 0;
        rc = json_object_set_new(r->header, k, value);
        json_decref(key);
        if (rc != 0)
            return fail_at(r, CAIRN_ENOMEM, r->pos, "json-syntax",
                           "out of memory");
        if (deciding && is_type && !r->envelope) {
            if (!bundle_type)
                return become_lone(r);
            r->is_bundle = true;
        }
    }
}

static int start(struct cairn_bundle_reader *r)
{
    skip_ws(r);
    if (r->pos >= r->len)
        return fail_at(r, CAIRN_EPARSE, r->pos, "json-syntax",
                       "empty document");
    char c = r->buf[r->pos];
    if (c != '{') {
        const char *what = NULL;
        if (c == '[')
            what = "an array";
        else if (c == '"')
            what = "a string";
        else if (c == '-' || (c >= '0' && c <= '9'))
            what = "a number";
        else if (c == 't' || c == 'f')
            what = "a boolean";
        else if (c == 'n')
            what = "null";
        if (what == NULL)
            return unexpected(r, "'{'");
        return fail_at(r, CAIRN_EINVALID, r->pos, "document-type",
                       "a STIX document must be a JSON object, found %s", what);
    }
    r->pos++;
    skip_ws(r);
    if (r->pos < r->len && r->buf[r->pos] == '}') {
        if (!r->envelope)
            return become_lone(r); /* {} is an object without a type */
        int rc = end_of_document(r);
        if (rc == 0)
            r->state = ST_DONE; /* an envelope without objects */
        return rc;
    }
    return scan_members(r, false);
}

static int reader_new(const char *buf, size_t len, size_t max_object_len,
                      bool envelope, struct cairn_bundle_reader **out)
{
    *out = NULL;
    if (buf == NULL && len > 0)
        return CAIRN_EINVAL;
    struct cairn_bundle_reader *r = cairn_calloc(1, sizeof *r);
    if (r == NULL)
        return CAIRN_ENOMEM;
    r->buf = buf != NULL ? buf : "";
    r->len = len;
    r->max = max_object_len ? max_object_len : CAIRN_STIX_MAX_OBJECT_LEN;
    r->index = -1;
    /* An envelope is read as a bundle is from the start: its "type" (if
     * any) never makes it a lone object. */
    r->envelope = envelope;
    r->is_bundle = envelope;
    r->header = json_object();
    if (r->header == NULL) {
        cairn_free(r);
        return CAIRN_ENOMEM;
    }
    /* Errors are kept and returned by the first next(), with a diag. */
    start(r);
    *out = r;
    return 0;
}

int cairn_bundle_reader_new(const char *buf, size_t len, size_t max_object_len,
                            struct cairn_bundle_reader **out)
{
    return reader_new(buf, len, max_object_len, false, out);
}

int cairn_envelope_reader_new(const char *buf, size_t len,
                              size_t max_object_len,
                              struct cairn_bundle_reader **out)
{
    return reader_new(buf, len, max_object_len, true, out);
}

void cairn_bundle_reader_free(struct cairn_bundle_reader *r)
{
    if (r == NULL)
        return;
    json_decref(r->header);
    json_decref(r->lone);
    cairn_free(r);
}

static int next_element(struct cairn_bundle_reader *r, json_t **out,
                        long *index_out)
{
    skip_ws(r);
    if (!r->first_element) {
        if (r->pos < r->len && r->buf[r->pos] == ']')
            goto end_of_list;
        if (r->pos >= r->len || r->buf[r->pos] != ',')
            return unexpected(r, "',' or ']'");
        r->pos++;
        skip_ws(r);
    } else if (r->pos < r->len && r->buf[r->pos] == ']') {
        goto end_of_list;
    }
    r->first_element = false;
    json_t *v = NULL;
    int rc = load_value(r, &v);
    if (rc < 0)
        return rc;
    *out = v;
    *index_out = ++r->index;
    return 1;

end_of_list:
    r->pos++;
    r->state = ST_MEMBERS;
    rc = scan_members(r, true);
    return rc < 0 ? rc : 0;
}

int cairn_bundle_reader_next(struct cairn_bundle_reader *r, json_t **out,
                             long *index_out, struct cairn_diag *diag)
{
    long dummy;
    *out = NULL;
    if (index_out == NULL)
        index_out = &dummy;
    *index_out = -1;
    int rc = 0;
    switch (r->state) {
    case ST_LONE:
        *out = r->lone;
        r->lone = NULL;
        r->state = ST_DONE;
        return 1;
    case ST_OBJECTS:
        rc = next_element(r, out, index_out);
        break;
    case ST_MEMBERS:
        rc = scan_members(r, true);
        break;
    case ST_DONE:
        return 0;
    case ST_START: /* start() always leaves this state */
    case ST_ERROR:
        break;
    }
    if (r->state == ST_ERROR) {
        if (diag != NULL)
            *diag = r->err_diag;
        return r->err;
    }
    return rc;
}

void cairn_bundle_reader_span(const struct cairn_bundle_reader *r,
                              size_t *offset, size_t *len)
{
    *offset = r->span_off;
    *len = r->span_len;
}

bool cairn_bundle_reader_is_bundle(const struct cairn_bundle_reader *r)
{
    return r != NULL && r->is_bundle;
}

const json_t *cairn_bundle_reader_header(const struct cairn_bundle_reader *r)
{
    return r != NULL && r->is_bundle ? r->header : NULL;
}
