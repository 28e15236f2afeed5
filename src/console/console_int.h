/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the console: forms, escaping, sessions, the view of one request. */
#ifndef CAIRN_CONSOLE_INT_H
#define CAIRN_CONSOLE_INT_H

#include <pthread.h>

#include "cairn/console.h"
#include "cairn/hunt.h"
#include "cairn/stix.h"
#include "cairn/store.h"
#include "cairn/taxii.h"

/* ---- forms (form.c) ------------------------------------------------------ */

/* Fields of one form or query string, at most. */
#define CONSOLE_FIELDS_MAX 64

struct console_field {
    const char *name;     /* NUL-terminated */
    const char *value;    /* NUL-terminated; may hold NULs in an upload */
    size_t len;           /* bytes of value */
    const char *filename; /* multipart upload: its file name; else NULL */
};

struct console_form {
    struct console_field f[CONSOLE_FIELDS_MAX];
    size_t n;
    char *mem; /* the decoded copies live here */
};

/*
 * Parse a query string or a POST body: application/x-www-form-urlencoded
 * (`ctype` NULL or that), or multipart/form-data with its boundary.
 * CAIRN_EINVAL for a malformed body (a bad escape, a multipart body
 * without its boundary or end), CAIRN_ETOOBIG past CONSOLE_FIELDS_MAX
 * fields, CAIRN_EUNSUPPORTED for another media type, CAIRN_ENOMEM. `out`
 * must be released with cairn__console_form_free in every case.
 */
int cairn__console_form_parse(const char *ctype, const char *body, size_t len,
                              struct console_form *out);
void cairn__console_form_free(struct console_form *f);
/* The first field named `name`, or NULL. */
const struct console_field *
cairn__console_form_get(const struct console_form *f, const char *name);
/* Its value, or "" when absent. */
const char *cairn__console_form_str(const struct console_form *f,
                                    const char *name);

/* The value of cookie `name` in a Cookie header, copied into `out`. */
bool cairn__console_cookie(const char *header, const char *name, char *out,
                           size_t cap);

/* ---- escaping (form.c) --------------------------------------------------- */

/*
 * Text for HTML (element content and quoted attribute values) and SVG:
 * & < > " ' as entities, control characters and invalid UTF-8 as U+FFFD.
 */
int cairn__console_esc(struct cairn_buf *b, const char *s, size_t len);
int cairn__console_escs(struct cairn_buf *b, const char *s);
/* A URL query component: everything but unreserved characters as %XX. */
int cairn__console_urlenc(struct cairn_buf *b, const char *s);

/* ---- the console ---------------------------------------------------------- */

#define CONSOLE_SESSIONS   4096
#define CONSOLE_TOKEN_HEX  64 /* 32 random bytes */
#define CONSOLE_PEER_ERROR 256

struct console_session {
    unsigned char key[32]; /* SHA-256 of the cookie's id */
    char user[CAIRN_STORE_NAME_MAX + 1];
    char csrf[CONSOLE_TOKEN_HEX + 1];
    int64_t created; /* monotonic seconds */
    int64_t last;
    bool used;
};

/* Objects counted per collection for the dashboard (cairn__console_count). */
#define CONSOLE_COUNTS 64

struct console_count {
    char id[CAIRN_UUID_STRLEN]; /* "" unused */
    size_t count;
    struct cairn_time last; /* date_added of the newest row counted */
    bool has_last;
    int64_t full_at; /* monotonic seconds of the last full count */
    int64_t used_at;
};

struct console_peer_state {
    char name[128];
    bool ran;
    int rc;
    struct cairn_time at;
    char error[CONSOLE_PEER_ERROR];
};

struct cairn_console {
    struct cairn_taxii *taxii;
    unsigned idle_seconds;
    unsigned max_seconds;
    size_t max_upload;
    const struct cairn_peers *peers;
    char *archive_dir;                     /* NULL: no archive shown */
    struct console_peer_state *peer_state; /* one per peer */
    pthread_mutex_t lock;                  /* sessions, peer_state, counts */
    struct console_count counts[CONSOLE_COUNTS];
    struct console_session sessions[CONSOLE_SESSIONS];
};

/* ---- one request (console.c, pages.c, actions.c) -------------------------- */

/* A collection the user may read or write. */
struct console_coll {
    char id[CAIRN_UUID_STRLEN];
    char *api_root;
    char *title;
    unsigned rights;
    int tlp_default;
};

struct console_view {
    struct cairn_console *con;
    struct cairn_store *s;
    const struct cairn_console_request *req;
    struct cairn_console_response *resp;
    struct console_form query;
    struct console_form form; /* POST body */
    struct cairn_buf b;       /* the page */
    char user[CAIRN_STORE_NAME_MAX + 1];
    char csrf[CONSOLE_TOKEN_HEX + 1];
    bool admin;
    struct cairn_store_user_share share;
    struct cairn_share_reader reader;
    struct console_coll *colls;
    size_t n_colls;
};

/* The page's frame: head, navigation, and the end. */
int cairn__console_page_begin(struct console_view *v, const char *title);
int cairn__console_page_end(struct console_view *v);
/* The hidden CSRF field of a form that changes something. */
int cairn__console_csrf_field(struct console_view *v);
/* The whole page is an error message with `status`. */
int cairn__console_error_page(struct console_view *v, int status,
                              const char *message);

/* Whether the user may see stored version `row` of collection `c`. */
bool cairn__console_visible(const struct console_view *v,
                            const struct console_coll *c,
                            const struct cairn_store_row *row);

/*
 * The latest `want` versions (of `type`, or of all types when NULL) added
 * to collection `id`, oldest first, found without reading the whole
 * collection: a search over added_after for a point after which between
 * `want` and 4 * `want` remain (indexed range reads of at most that many
 * rows). *out is freed with cairn_store_page_free.
 */
int cairn__console_latest(struct cairn_store *s, const char *id,
                          const char *type, size_t want,
                          struct cairn_store_page **out);

/*
 * The number of object versions in collection `id`, as
 * cairn_store_collection_count gives it, without counting the whole
 * collection at every call: a full count at most once a minute per
 * collection, and in between the count of the rows added since the
 * newest one counted (an indexed range of date_added). Deletions show at
 * the next full count.
 */
int cairn__console_count(struct console_view *v, const char *id, size_t *out);

/* Pages (pages.c). Each fills v->b and the response status. */
int cairn__console_dashboard(struct console_view *v);
int cairn__console_search(struct console_view *v);
int cairn__console_object(struct console_view *v);
int cairn__console_sightings(struct console_view *v);
/* Pages with forms (actions.c). */
int cairn__console_hunt(struct console_view *v);
int cairn__console_import(struct console_view *v);
int cairn__console_admin(struct console_view *v);

/*
 * Add the indicators of the readable collections (all of them when
 * `only` is NULL, else the one with that id) that the user may see to
 * `b`. *n_added counts them.
 */
int cairn__console_add_indicators(struct console_view *v,
                                  struct cairn_hunt_builder *b,
                                  const char *only, size_t *n_added);

/* Embedded assets (generated at build time from assets/console/). */
struct console_asset {
    const char *name;
    const char *type;
    const unsigned char *data;
    size_t len;
};
extern const struct console_asset cairn__console_assets[];
extern const size_t cairn__console_n_assets;

#endif
