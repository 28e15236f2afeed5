/* SPDX-License-Identifier: Apache-2.0 */
/* Indicator sources of a hunt: bundles, JSON arrays, lists, collections. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cairn/stix.h"
#include "cairn/store.h"
#include "hunt/job_int.h"

__attribute__((format(printf, 4, 5))) static void say(cairn_hunt_msg_cb cb,
                                                      void *ud,
                                                      enum cairn_severity sev,
                                                      const char *fmt, ...)
{
    char text[4608];
    va_list ap;

    if (cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cb(sev, text, ud);
}

static int add_object(struct cairn_hunt_builder *b, json_t *obj,
                      const char *where, cairn_hunt_msg_cb msg, void *ud)
{
    struct cairn_diag diag;
    const char *type = cairn_stix_type(obj);

    if (type == NULL || strcmp(type, "indicator") != 0)
        return 0;
    cairn_diag_clear(&diag);
    int rc = cairn_hunt_builder_add_indicator(b, obj, &diag);
    if (rc < 0) {
        say(msg, ud, CAIRN_SEV_ERROR, "%s: %s", where, cairn_strerror(rc));
        return rc;
    }
    return 0;
}

/* A STIX bundle or object, or a JSON array of them; else a plain list. */
static bool looks_like_json(const char *s, size_t len)
{
    size_t i = 0;

    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i < len && s[i] == '{')
        return true;
    if (i >= len || s[i] != '[')
        return false;
    /* "[" starts a JSON array only when an object or "]" follows. */
    for (i++; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return s[i] == '{' || s[i] == ']';
    }
    return false;
}

static int load_json_array(struct cairn_hunt_builder *b, const char *name,
                           const char *data, size_t len, cairn_hunt_msg_cb msg,
                           void *ud)
{
    struct cairn_diag diag;
    json_t *doc = NULL;
    int rc;

    cairn_diag_clear(&diag);
    rc = cairn_json_parse(data, len, &doc, &diag);
    if (rc < 0) {
        say(msg, ud, CAIRN_SEV_ERROR, "%s:%u:%u: %s", name, diag.line,
            diag.column, diag.message);
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(doc); i++) {
        json_t *o = json_array_get(doc, i);
        const char *type = cairn_stix_type(o);
        if (type != NULL && strcmp(type, "bundle") == 0) {
            json_t *objs = json_object_get(o, "objects");
            for (size_t k = 0; rc == 0 && k < json_array_size(objs); k++)
                rc = add_object(b, json_array_get(objs, k), name, msg, ud);
        } else {
            rc = add_object(b, o, name, msg, ud);
        }
    }
    json_decref(doc);
    return rc;
}

int cairn_hunt_builder_add_source(struct cairn_hunt_builder *b,
                                  const char *data, size_t len,
                                  const char *name, cairn_hunt_msg_cb msg,
                                  void *ud)
{
    struct cairn_bundle_reader *r = NULL;
    struct cairn_diag diag;
    int rc;

    if (!looks_like_json(data, len)) {
        cairn_diag_clear(&diag);
        rc = cairn_hunt_builder_add_list(b, data, len, name, &diag);
        if (rc < 0 && diag.message[0] == '\0') {
            say(msg, ud, CAIRN_SEV_ERROR, "%s: %s", name, cairn_strerror(rc));
        } else if (rc < 0) {
            char line[700];
            cairn_diag_format(&diag, line, sizeof line);
            /* A diag that does not name the list gets its name here. */
            if (diag.file[0] == '\0')
                say(msg, ud, CAIRN_SEV_ERROR, "%s: %s", name, line);
            else
                say(msg, ud, CAIRN_SEV_ERROR, "%s", line);
        }
        goto out;
    }
    const char *p = data;
    while (p < data + len && *p != '{' && *p != '[')
        p++;
    if (*p == '[') {
        rc = load_json_array(b, name, data, len, msg, ud);
        goto out;
    }
    rc = cairn_bundle_reader_new(data, len, 0, &r);
    if (rc < 0) {
        say(msg, ud, CAIRN_SEV_ERROR, "%s: %s", name, cairn_strerror(rc));
        goto out;
    }
    for (;;) {
        json_t *obj = NULL;
        long index = 0;
        cairn_diag_clear(&diag);
        rc = cairn_bundle_reader_next(r, &obj, &index, &diag);
        if (rc <= 0)
            break;
        rc = add_object(b, obj, name, msg, ud);
        json_decref(obj);
        if (rc < 0)
            break;
    }
    if (rc < 0 && diag.message[0] != '\0') {
        if (diag.line > 0)
            say(msg, ud, CAIRN_SEV_ERROR, "%s:%u:%u: %s", name, diag.line,
                diag.column, diag.message);
        else
            say(msg, ud, CAIRN_SEV_ERROR, "%s: %s", name, diag.message);
    }
out:
    cairn_bundle_reader_free(r);
    return rc < 0 ? rc : 0;
}

int cairn_hunt_builder_add_collection(struct cairn_hunt_builder *b,
                                      struct cairn_store *s, const char *id,
                                      cairn_hunt_msg_cb msg, void *ud)
{
    static const char *const types[] = {"indicator"};
    char cursor[CAIRN_STORE_CURSOR_LEN] = "";
    int rc;

    for (;;) {
        struct cairn_store_page *page = NULL;
        struct cairn_store_query q = {
            .collection = id,
            .types = types,
            .n_types = 1,
            .limit = CAIRN_STORE_LIMIT_MAX,
            .next = cursor[0] ? cursor : NULL,
            .with_json = true,
        };
        rc = cairn_store_query(s, &q, &page);
        if (rc < 0) {
            say(msg, ud, CAIRN_SEV_ERROR, "collection %s: %s", id,
                rc == CAIRN_ENOTFOUND ? "no such collection"
                                      : cairn_strerror(rc));
            return rc;
        }
        for (size_t i = 0; rc == 0 && i < page->n; i++) {
            const struct cairn_store_row *row = &page->rows[i];
            struct cairn_diag diag;
            json_t *obj = NULL;
            cairn_diag_clear(&diag);
            if (row->json == NULL ||
                cairn_json_parse(row->json, row->json_len, &obj, &diag) < 0) {
                say(msg, ud, CAIRN_SEV_ERROR,
                    "collection %s: %s: stored JSON does not parse", id,
                    row->id);
                continue;
            }
            rc = add_object(b, obj, id, msg, ud);
            json_decref(obj);
        }
        bool more = page->more;
        snprintf(cursor, sizeof cursor, "%s", page->next);
        cairn_store_page_free(page);
        if (rc < 0 || !more)
            return rc;
    }
}
