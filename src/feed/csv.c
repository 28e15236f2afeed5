/* SPDX-License-Identifier: Apache-2.0 */
/* CSV (mapped or FireEye's) and plain lists converted to STIX indicators. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed/feed_int.h"

/* Most columns of one CSV row, and most bytes of one row. */
#define MAX_COLS   256
#define MAX_RECORD ((size_t)1 << 20)
/* Most labels taken from one cell. */
#define MAX_LABELS 32

/* ---- reading CSV ------------------------------------------------------------
 */

struct cell {
    const char *s;
    size_t len;
};

struct csv {
    const char *p, *end;
    unsigned line;      /* line where the next record starts */
    struct cairn_buf b; /* unquoted cells of the current record */
    size_t off[MAX_COLS];
    struct cell cells[MAX_COLS];
    size_t n;
    unsigned rec_line; /* line where the current record started */
};

static void csv_init(struct csv *c, const char *buf, size_t len)
{
    memset(c, 0, sizeof *c);
    c->p = buf;
    c->end = buf + len;
    c->line = 1;
    cairn_buf_init(&c->b, MAX_RECORD);
    /* A byte order mark is not part of the first column's name. */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        c->p += 3;
}

static void csv_release(struct csv *c)
{
    cairn_buf_release(&c->b);
}

/*
 * Read one record: 1 with c->cells, 0 at the end, CAIRN_EPARSE for a
 * quote that never closes, CAIRN_ETOOBIG past MAX_COLS or MAX_RECORD.
 */
static int csv_next(struct csv *c)
{
    size_t len = (size_t)(c->end - c->p), pos = 0;
    int rc = 0, sep = ',';

    cairn_buf_reset(&c->b);
    c->n = 0;
    c->rec_line = c->line;
    if (c->p >= c->end)
        return 0;
    while (sep == ',') {
        struct cairn_csv_field f;
        if (c->n == MAX_COLS)
            return CAIRN_ETOOBIG;
        c->off[c->n++] = c->b.len;
        if ((sep = cairn_csv_field(c->p, len, &pos, 0, &f)) < 0)
            return sep;
        /* Quoted cells keep their line breaks; "" is one quote. */
        for (size_t i = 0; f.quoted && i < f.len; i++)
            c->line += f.s[i] == '\n';
        const char *q;
        while (rc == 0 && f.escaped &&
               (q = memchr(f.s, '"', f.len)) != NULL) {
            size_t k = (size_t)(q - f.s) + 1;
            rc = cairn_buf_append(&c->b, f.s, k);
            f.s += k + 1;
            f.len -= k + 1;
        }
        if (rc != 0 || (rc = cairn_buf_append(&c->b, f.s, f.len)) != 0 ||
            (rc = cairn_buf_append(&c->b, f.tail, f.tail_len)) != 0 ||
            (rc = cairn_buf_putc(&c->b, '\0')) != 0)
            return rc;
    }
    c->p += pos;
    c->line++;
    for (size_t i = 0; i < c->n; i++) {
        c->cells[i].s = c->b.data + c->off[i];
        c->cells[i].len = strlen(c->cells[i].s);
    }
    return 1;
}

static bool blank_record(const struct csv *c)
{
    return c->n == 1 && c->cells[0].len == 0;
}

/* A cell without the blanks around it. */
static struct cell trim(struct cell c)
{
    while (c.len > 0 && (c.s[0] == ' ' || c.s[0] == '\t')) {
        c.s++;
        c.len--;
    }
    while (c.len > 0 && (c.s[c.len - 1] == ' ' || c.s[c.len - 1] == '\t'))
        c.len--;
    return c;
}

/* The column named `name` in the header (blanks and case ignored), or -1. */
static int find_col(const struct cell *hdr, size_t n, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < n; i++) {
        struct cell t = trim(hdr[i]);
        if (t.len == len && strncasecmp(t.s, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static void csv_error(struct cairn_feed *f, const struct csv *c, int rc)
{
    const char *why = rc == CAIRN_EPARSE    ? "a quoted cell never ends"
                      : rc == CAIRN_ETOOBIG ? "a row over 256 columns or 1 MiB"
                                            : cairn_strerror(rc);

    cairn__feed_skip(f, c->rec_line, NULL, "csv", "%s; the rest is not read", why);
}

/* ---- indicators from single values --------------------------------------- */

/* One value and what the input says about it. */
struct value_in {
    enum cairn_ioc_type type;
    const char *value; /* normalised */
    size_t len;
    struct cell name, description;
    const struct cairn_time *valid_from, *valid_until;
    json_t *labels;      /* may be NULL */
    const char *creator; /* identity id or "" */
};

static int value_indicator(struct cairn_feed *f, const struct value_in *in)
{
    struct cairn_buf pat, key;
    char id[CAIRN_STIX_ID_MAX];
    char t[40];
    json_t *o = NULL;
    const struct cairn_time *vf = in->valid_from ? in->valid_from : &f->now;
    int rc;

    cairn_buf_init(&pat, FEED_VALUE_MAX * 2 + 64);
    cairn_buf_init(&key, FEED_VALUE_MAX + 64);
    /* The id a hunt gives the same value in a list file. */
    rc = cairn_buf_printf(&key, "%s:", cairn_ioc_type_name(in->type));
    if (rc == 0)
        rc = cairn_buf_append(&key, in->value, in->len);
    if (rc == 0)
        rc = cairn__feed_id("indicator", FEED_LIST_NAMESPACE, key.data, key.len, id);
    if (rc == 0)
        rc = cairn_buf_putc(&pat, '[');
    if (rc == 0)
        rc = cairn__feed_pattern_cmp(&pat, in->type, in->value, in->len);
    if (rc == 0)
        rc = cairn_buf_putc(&pat, ']');
    if (rc != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    if ((o = json_object()) == NULL)
        goto out;
    cairn__feed_time_str(vf, t, sizeof t);
    rc = cairn__feed_set_str(o, "type", "indicator");
    if (rc == 0)
        rc = cairn__feed_set_str(o, "spec_version", "2.1");
    if (rc == 0)
        rc = cairn__feed_set_str(o, "id", id);
    if (rc == 0 && in->creator[0] != '\0')
        rc = cairn__feed_set_str(o, "created_by_ref", in->creator);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "created", t);
    if (rc == 0)
        rc = cairn__feed_set_str(o, "modified", t);
    if (rc == 0 && in->name.len > 0)
        rc = cairn__feed_set_strn(o, "name", in->name.s, in->name.len);
    else if (rc == 0)
        rc = cairn__feed_set_strn(o, "name", in->value, in->len);
    if (rc == 0 && in->description.len > 0)
        rc = cairn__feed_set_strn(o, "description", in->description.s,
                           in->description.len);
    if (rc == 0)
        rc = cairn__feed_set_pattern(o, pat.data, pat.len, t);
    if (rc == 0 && in->valid_until != NULL) {
        cairn__feed_time_str(in->valid_until, t, sizeof t);
        rc = cairn__feed_set_str(o, "valid_until", t);
    }
    if (rc == 0 && in->labels != NULL && json_array_size(in->labels) > 0)
        rc = json_object_set(o, "labels", in->labels) == 0 ? 0 : CAIRN_ENOMEM;
    if (rc == 0)
        rc = cairn__feed_mark(f, o, CAIRN_TLP_NONE);
    if (rc != 0)
        goto out;
    rc = cairn__feed_emit(f, o);
    o = NULL;
    if (rc > 0)
        rc = 0;
out:
    json_decref(o);
    cairn_buf_release(&pat);
    cairn_buf_release(&key);
    return rc;
}

/* ---- plain lists ------------------------------------------------------------
 */

int cairn_feed_list(struct cairn_feed *f, const char *buf, size_t len,
                    const char *name)
{
    char creator[CAIRN_STIX_ID_MAX];
    char *norm = NULL;
    const char *p = buf, *end = buf + len;
    int rc;

    f->input = name != NULL ? name : "";
    f->line = 0;
    rc = cairn__feed_producer(f, NULL, creator);
    if (rc != 0)
        goto out;
    rc = CAIRN_ENOMEM;
    norm = cairn_malloc(FEED_VALUE_MAX + 3);
    if (norm == NULL)
        goto out;
    rc = 0;
    for (unsigned line = 1; p < end && rc == 0; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct cell l = {p, nl ? (size_t)(nl - p) : (size_t)(end - p)};
        struct cell comment = {NULL, 0};
        p = nl ? nl + 1 : end;
        f->line = line;
        if (l.len > 0 && l.s[l.len - 1] == '\r')
            l.len--;
        l = trim(l);
        if (l.len == 0 || l.s[0] == '#')
            continue;
        /* "value  # why": the comment describes the value. */
        for (size_t i = 1; i < l.len; i++) {
            if (l.s[i] == '#' && (l.s[i - 1] == ' ' || l.s[i - 1] == '\t')) {
                comment = trim((struct cell){l.s + i + 1, l.len - i - 1});
                l = trim((struct cell){l.s, i});
                break;
            }
        }
        size_t nlen = 0;
        enum cairn_ioc_type t =
            cairn__feed_typed_value(CAIRN_IOC_UNKNOWN, l.s, l.len, norm, &nlen);
        if (t == CAIRN_IOC_UNKNOWN) {
            cairn__feed_skip(f, line, NULL, "list-value",
                      "'%.*s' is not a domain, IP address or network, URL, "
                      "email address or hash; skipped",
                      (int)(l.len > 80 ? 80 : l.len), l.s);
            continue;
        }
        struct value_in in = {
            .type = t,
            .value = norm,
            .len = nlen,
            .description = comment,
            .creator = creator,
        };
        rc = value_indicator(f, &in);
    }
out:
    f->line = 0;
    cairn_free(norm);
    return rc;
}

/* ---- CSV with a column mapping ------------------------------------------- */

enum mkey {
    M_VALUE,
    M_TYPE,
    M_NAME,
    M_DESCRIPTION,
    M_VALID_FROM,
    M_VALID_UNTIL,
    M_LABELS,
    M_COUNT
};

static const char *const mkeys[M_COUNT] = {
    "value",      "type",        "name",   "description",
    "valid_from", "valid_until", "labels",
};

struct cairn_feed_csv_map {
    char *col[M_COUNT]; /* column names, NULL when not mapped */
};

void cairn_feed_csv_map_free(struct cairn_feed_csv_map *map)
{
    if (map == NULL)
        return;
    for (size_t i = 0; i < M_COUNT; i++)
        cairn_free(map->col[i]);
    cairn_free(map);
}

int cairn_feed_csv_map_parse(const char *spec, struct cairn_feed_csv_map **out,
                             struct cairn_diag *diag)
{
    struct cairn_feed_csv_map *map = NULL;
    const char *p = spec;
    int rc = CAIRN_ENOMEM;

    *out = NULL;
    map = cairn_calloc(1, sizeof *map);
    if (map == NULL)
        goto out;
    rc = CAIRN_EINVAL;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        size_t k;
        if (eq == NULL || eq == p || (size_t)(eq - p) + 1 == n) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "feed-map",
                           "'%.*s' is not KEY=COLUMN", (int)n, p);
            goto out;
        }
        for (k = 0; k < M_COUNT; k++) {
            if (strlen(mkeys[k]) == (size_t)(eq - p) &&
                strncmp(mkeys[k], p, (size_t)(eq - p)) == 0)
                break;
        }
        if (k == M_COUNT) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "feed-map",
                           "unknown key '%.*s'; the keys are value, type, "
                           "name, description, valid_from, valid_until and "
                           "labels",
                           (int)(eq - p), p);
            goto out;
        }
        if (map->col[k] != NULL) {
            cairn_diag_set(diag, CAIRN_SEV_ERROR, "feed-map",
                           "'%s' is mapped twice", mkeys[k]);
            goto out;
        }
        map->col[k] = cairn_strndup(eq + 1, n - (size_t)(eq - p) - 1);
        if (map->col[k] == NULL) {
            rc = CAIRN_ENOMEM;
            goto out;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (map->col[M_VALUE] == NULL) {
        cairn_diag_set(diag, CAIRN_SEV_ERROR, "feed-map",
                       "value=COLUMN is required");
        goto out;
    }
    *out = map;
    map = NULL;
    rc = 0;
out:
    cairn_feed_csv_map_free(map);
    return rc;
}

/* Split a cell of labels at ';' or '|' into a new array. */
static json_t *split_labels(struct cell c)
{
    json_t *a = json_array();
    size_t i = 0;

    while (a != NULL && i < c.len && json_array_size(a) < MAX_LABELS) {
        size_t j = i;
        while (j < c.len && c.s[j] != ';' && c.s[j] != '|')
            j++;
        struct cell l = trim((struct cell){c.s + i, j - i});
        /* A label that is not text is left off; memory is an error. */
        if (l.len > 0 && cairn__feed_utf8_ok(l.s, l.len) &&
            json_array_append_new(a, json_stringn(l.s, l.len)) != 0) {
            json_decref(a);
            return NULL;
        }
        i = j + 1;
    }
    return a;
}

/* A row's cell of mapped column `k`, or an empty cell. */
static struct cell cell_of(const struct csv *c, const int *cols, int k)
{
    if (cols[k] < 0)
        return (struct cell){"", 0};
    return trim(c->cells[cols[k]]);
}

/* A time cell (empty: none); false when it cannot be read. */
static bool cell_time(struct cell c, struct cairn_time *t, bool *has)
{
    *has = false;
    if (c.len == 0)
        return true;
    if (cairn__feed_parse_time(c.s, c.len, t) != 0)
        return false;
    *has = true;
    return true;
}

static int csv_row(struct cairn_feed *f, const struct csv *c, const int *cols,
                   enum cairn_ioc_type fixed, const char *creator, char *norm)
{
    struct cairn_time vf, vu;
    bool has_vf, has_vu;
    struct cell v = cell_of(c, cols, M_VALUE);
    enum cairn_ioc_type type = fixed;
    int rc = 0;

    if (v.len == 0) {
        cairn__feed_skip(f, 0, NULL, "csv-value", "no value; row skipped");
        return 0;
    }
    if (cols[M_TYPE] >= 0) {
        struct cell t = cell_of(c, cols, M_TYPE);
        type = cairn__feed_type_by_name(t.s, t.len);
        if (type == CAIRN_IOC_UNKNOWN && t.len > 0 &&
            !(t.len == 4 && strncasecmp(t.s, "auto", 4) == 0)) {
            cairn__feed_skip(f, 0, NULL, "csv-type",
                      "unknown type '%.*s'; row skipped",
                      (int)(t.len > 40 ? 40 : t.len), t.s);
            return 0;
        }
    }
    size_t nlen = 0;
    enum cairn_ioc_type got = cairn__feed_typed_value(type, v.s, v.len, norm, &nlen);
    if (got == CAIRN_IOC_UNKNOWN) {
        cairn__feed_skip(f, 0, NULL, "csv-value",
                  type == CAIRN_IOC_UNKNOWN
                      ? "'%.*s' is not a domain, IP address or network, URL, "
                        "email address or hash; row skipped"
                      : "'%.*s' is not a value of its type; row skipped",
                  (int)(v.len > 80 ? 80 : v.len), v.s);
        return 0;
    }
    if (!cell_time(cell_of(c, cols, M_VALID_FROM), &vf, &has_vf) ||
        !cell_time(cell_of(c, cols, M_VALID_UNTIL), &vu, &has_vu)) {
        cairn__feed_skip(f, 0, NULL, "csv-time",
                  "a valid_from or valid_until that is not a time; row "
                  "skipped");
        return 0;
    }
    json_t *labels = NULL;
    if (cols[M_LABELS] >= 0) {
        labels = split_labels(cell_of(c, cols, M_LABELS));
        if (labels == NULL)
            return CAIRN_ENOMEM;
    }
    struct value_in in = {
        .type = got,
        .value = norm,
        .len = nlen,
        .name = cell_of(c, cols, M_NAME),
        .description = cell_of(c, cols, M_DESCRIPTION),
        .valid_from = has_vf ? &vf : NULL,
        .valid_until = has_vu ? &vu : NULL,
        .labels = labels,
        .creator = creator,
    };
    rc = value_indicator(f, &in);
    if (rc == CAIRN_EINVAL) {
        cairn__feed_skip(f, 0, NULL, "csv-text", "a cell is not UTF-8; row skipped");
        rc = 0;
    }
    json_decref(labels);
    return rc;
}

int cairn_feed_csv(struct cairn_feed *f, const char *buf, size_t len,
                   const char *name, const struct cairn_feed_csv_map *map)
{
    struct csv *c = NULL;
    char creator[CAIRN_STIX_ID_MAX];
    char *norm = NULL;
    int cols[M_COUNT];
    size_t ncols = 0;
    enum cairn_ioc_type fixed = CAIRN_IOC_UNKNOWN;
    int rc;

    f->input = name != NULL ? name : "";
    f->line = 0;
    rc = CAIRN_ENOMEM;
    c = cairn_calloc(1, sizeof *c);
    norm = cairn_malloc(FEED_VALUE_MAX + 3);
    if (c == NULL || norm == NULL)
        goto out;
    csv_init(c, buf, len);
    do
        rc = csv_next(c);
    while (rc == 1 && blank_record(c));
    if (rc <= 0) {
        if (rc == CAIRN_ENOMEM)
            goto out;
        if (rc == 0)
            cairn__feed_skip(f, 1, NULL, "csv-header", "no header row");
        else
            csv_error(f, c, rc);
        rc = CAIRN_EPARSE;
        goto out;
    }
    ncols = c->n;
    for (int k = 0; k < M_COUNT; k++) {
        cols[k] = -1;
        if (map->col[k] == NULL)
            continue;
        cols[k] = find_col(c->cells, c->n, map->col[k]);
        if (cols[k] >= 0)
            continue;
        if (k == M_TYPE) {
            /* Not a column: a type for every row. */
            fixed = cairn__feed_type_by_name(map->col[k], strlen(map->col[k]));
            if (fixed != CAIRN_IOC_UNKNOWN ||
                strcasecmp(map->col[k], "auto") == 0)
                continue;
        }
        cairn__feed_skip(f, c->rec_line, NULL, "csv-header",
                  "no column '%.60s' (for %s) in the header row%s", map->col[k],
                  mkeys[k],
                  k == M_TYPE ? ", and it is not a type name either" : "");
        rc = CAIRN_EPARSE;
        goto out;
    }
    rc = cairn__feed_producer(f, NULL, creator);
    while (rc == 0 && (rc = csv_next(c)) == 1) {
        f->line = c->rec_line;
        rc = 0;
        if (blank_record(c))
            continue;
        if (c->n != ncols) {
            cairn__feed_skip(f, 0, NULL, "csv-columns",
                      "%zu columns where the header has %zu; row skipped", c->n,
                      ncols);
            continue;
        }
        rc = csv_row(f, c, cols, fixed, creator, norm);
    }
    if (rc == CAIRN_EPARSE || rc == CAIRN_ETOOBIG) {
        f->line = 0;
        csv_error(f, c, rc);
        rc = CAIRN_EPARSE;
    }
out:
    f->line = 0;
    if (c != NULL)
        csv_release(c);
    cairn_free(c);
    cairn_free(norm);
    return rc;
}

/* ---- FireEye's Indicator_Release_*.csv ------------------------------------
 */

/* The kind of FireEye file by its header row; CAIRN_ENOMEM. */
static int fe_detect(const char *buf, size_t len,
                     enum cairn_feed_fireeye_kind *kind)
{
    struct csv *c = cairn_calloc(1, sizeof *c);
    int rc;

    *kind = CAIRN_FEED_FIREEYE_NONE;
    if (c == NULL)
        return CAIRN_ENOMEM;
    /* Only the header row is needed. */
    const char *nl = memchr(buf, '\n', len);
    csv_init(c, buf, nl != NULL ? (size_t)(nl - buf) : len);
    rc = csv_next(c);
    if (rc == 1) {
        if (find_col(c->cells, c->n, "FQDN") >= 0 &&
            find_col(c->cells, c->n, "IP") >= 0 &&
            find_col(c->cells, c->n, "Associated Malware") >= 0)
            *kind = CAIRN_FEED_FIREEYE_NBIS;
        else if (find_col(c->cells, c->n, "SHA256") >= 0 &&
                 find_col(c->cells, c->n, "SHA1") >= 0 &&
                 find_col(c->cells, c->n, "MD5") >= 0 &&
                 find_col(c->cells, c->n, "FILENAME") >= 0)
            *kind = CAIRN_FEED_FIREEYE_HASHES;
    }
    csv_release(c);
    cairn_free(c);
    return rc == CAIRN_ENOMEM ? rc : 0;
}

enum cairn_feed_fireeye_kind cairn_feed_fireeye_detect(const char *buf,
                                                       size_t len)
{
    enum cairn_feed_fireeye_kind kind;

    fe_detect(buf, len, &kind);
    return kind;
}

/* A malware family as a malware SDO with a fixed version; id to `id`. */
static int malware(struct cairn_feed *f, struct cell name, const char *creator,
                   char id[CAIRN_STIX_ID_MAX])
{
    char key[128];
    json_t *o = NULL;
    int rc;

    int n = snprintf(key, sizeof key, "malware:%.*s",
                     (int)(name.len > 100 ? 100 : name.len), name.s);
    for (int i = 8; i < n; i++)
        key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
    rc = cairn__feed_id("malware", FEED_NAMESPACE, key, (size_t)n, id);
    if (rc != 0 || cairn__feed_seen(f, id))
        return rc;
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "type", "malware",
                  "spec_version", "2.1", "id", id, "created",
                  FEED_FIXED_VERSION, "modified", FEED_FIXED_VERSION,
                  "is_family", 1);
    if (o == NULL)
        return CAIRN_ENOMEM;
    rc = cairn__feed_set_strn(o, "name", name.s, name.len);
    if (rc == 0 && creator[0] != '\0')
        rc = cairn__feed_set_str(o, "created_by_ref", creator);
    if (rc == 0)
        rc = cairn__feed_mark(f, o, CAIRN_TLP_NONE);
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    rc = cairn__feed_emit(f, o);
    return rc == FEED_REJECTED ? CAIRN_EINVAL : rc > 0 ? 0 : rc;
}

/* One FireEye indicator, and its relationship to its malware family. */
struct fe_ind {
    const struct cairn_buf *pattern;
    const struct cairn_buf *name;
    const struct cairn_buf *description;
    const char *indicator_type;
    struct cairn_time created, modified;
    struct cell family; /* empty: none */
};

static int fe_indicator(struct cairn_feed *f, const struct fe_ind *in,
                        const char *creator)
{
    char id[CAIRN_STIX_ID_MAX], mal[CAIRN_STIX_ID_MAX];
    char rel_key[2 * CAIRN_STIX_ID_MAX + 16], rel[CAIRN_STIX_ID_MAX];
    char c[40], m[40];
    json_t *o = NULL;
    int rc;

    rc = cairn__feed_id("indicator", FEED_NAMESPACE, in->pattern->data,
                 in->pattern->len, id);
    if (rc != 0)
        goto out;
    cairn__feed_time_str(&in->created, c, sizeof c);
    cairn__feed_time_str(&in->modified, m, sizeof m);
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s]}", "type", "indicator",
                  "spec_version", "2.1", "id", id, "created", c, "modified", m,
                  "indicator_types", in->indicator_type);
    rc = o == NULL ? CAIRN_ENOMEM : 0;
    if (rc == 0 && creator[0] != '\0')
        rc = cairn__feed_set_str(o, "created_by_ref", creator);
    if (rc == 0)
        rc = cairn__feed_set_strn(o, "name", in->name->data, in->name->len);
    if (rc == 0 && in->description->len > 0)
        rc = cairn__feed_set_strn(o, "description", in->description->data,
                           in->description->len);
    if (rc == 0)
        rc = cairn__feed_set_pattern(o, in->pattern->data, in->pattern->len, c);
    if (rc == 0)
        rc = cairn__feed_mark(f, o, CAIRN_TLP_NONE);
    if (rc != 0)
        goto out;
    rc = cairn__feed_emit(f, o);
    o = NULL;
    if (rc < 0 || rc == FEED_REJECTED || in->family.len == 0)
        goto out;
    rc = malware(f, in->family, creator, mal);
    if (rc != 0)
        goto out;
    int n = snprintf(rel_key, sizeof rel_key, "%s indicates %s", id, mal);
    rc = cairn__feed_id("relationship", FEED_NAMESPACE, rel_key, (size_t)n, rel);
    if (rc != 0)
        goto out;
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "type", "relationship",
                  "spec_version", "2.1", "id", rel, "created", c, "modified", m,
                  "relationship_type", "indicates", "source_ref", id,
                  "target_ref", mal);
    rc = o == NULL ? CAIRN_ENOMEM : 0;
    if (rc == 0 && creator[0] != '\0')
        rc = cairn__feed_set_str(o, "created_by_ref", creator);
    if (rc == 0)
        rc = cairn__feed_mark(f, o, CAIRN_TLP_NONE);
    if (rc != 0)
        goto out;
    rc = cairn__feed_emit(f, o);
    o = NULL;
out:
    json_decref(o);
    if (rc == FEED_REJECTED || rc == 1)
        rc = 0;
    return rc;
}

/* Append "; " when `b` has text already, then the formatted text. */
#define SEP(b) ((b)->len > 0 ? "; " : "")

static int nbi_row(struct cairn_feed *f, const struct csv *c, const int *col,
                   const char *creator, char *norm)
{
    struct cairn_buf pat, name, desc;
    char ip[64] = "";
    size_t dlen = 0, ilen = 0;
    struct cell fqdn = trim(c->cells[col[2]]), addr = trim(c->cells[col[3]]);
    struct cell target = trim(c->cells[col[4]]);
    struct cell rtype = trim(c->cells[col[1]]);
    struct fe_ind in = {.indicator_type = "malicious-activity"};
    int rc = 0;

    cairn_buf_init(&pat, FEED_VALUE_MAX + 512);
    cairn_buf_init(&name, FEED_VALUE_MAX + 128);
    cairn_buf_init(&desc, 4 * FEED_VALUE_MAX);
    enum cairn_ioc_type at = CAIRN_IOC_UNKNOWN;
    if (addr.len > 0) {
        at = cairn__feed_typed_value(CAIRN_IOC_IPV4, addr.s, addr.len, norm, &ilen);
        if (at == CAIRN_IOC_UNKNOWN || ilen >= sizeof ip) {
            cairn__feed_skip(f, 0, NULL, "fireeye-value",
                      "IP '%.*s' is not an address; row skipped",
                      (int)(addr.len > 60 ? 60 : addr.len), addr.s);
            goto out;
        }
        memcpy(ip, norm, ilen);
        ip[ilen] = '\0';
    }
    if (fqdn.len > 0 && cairn__feed_typed_value(CAIRN_IOC_DOMAIN, fqdn.s, fqdn.len,
                                         norm, &dlen) == CAIRN_IOC_UNKNOWN) {
        cairn__feed_skip(f, 0, NULL, "fireeye-value",
                  "FQDN '%.*s' is not a domain name; row skipped",
                  (int)(fqdn.len > 60 ? 60 : fqdn.len), fqdn.s);
        goto out;
    }
    if (dlen == 0 && ilen == 0) {
        cairn__feed_skip(f, 0, NULL, "fireeye-value",
                  "neither FQDN nor IP; row skipped");
        goto out;
    }
    /* Either is a sign of the same infrastructure: OR. */
    rc = cairn_buf_putc(&pat, '[');
    if (rc == 0 && dlen > 0)
        rc = cairn__feed_pattern_cmp(&pat, CAIRN_IOC_DOMAIN, norm, dlen);
    if (rc == 0 && dlen > 0 && ilen > 0)
        rc = cairn_buf_puts(&pat, " OR ");
    if (rc == 0 && ilen > 0)
        rc = cairn__feed_pattern_cmp(&pat, at, ip, ilen);
    if (rc == 0)
        rc = cairn_buf_putc(&pat, ']');
    if (rc == 0 && dlen > 0)
        rc = cairn_buf_append(&name, norm, dlen);
    if (rc == 0 && ilen > 0)
        rc = cairn_buf_printf(&name, dlen > 0 ? " (%s)" : "%s", ip);
    if (rc == 0 && rtype.len > 0)
        rc =
            cairn_buf_printf(&desc, "DNS %.*s record", (int)rtype.len, rtype.s);
    if (rc == 0 && target.len > 0) {
        size_t tlen = 0;
        if (cairn__feed_typed_value(CAIRN_IOC_UNKNOWN, target.s, target.len, norm,
                             &tlen) != CAIRN_IOC_UNKNOWN)
            target = (struct cell){norm, tlen};
        rc = cairn_buf_printf(&desc, "%starget %.*s", SEP(&desc),
                              (int)target.len, target.s);
    }
    struct cell first = trim(c->cells[col[5]]), last = trim(c->cells[col[6]]);
    if (rc == 0 && first.len > 0)
        rc = cairn_buf_printf(&desc, "%sfirst seen %.*s", SEP(&desc),
                              (int)first.len, first.s);
    if (rc == 0 && last.len > 0)
        rc = cairn_buf_printf(&desc, "%slast seen %.*s", SEP(&desc),
                              (int)last.len, last.s);
    if (rc != 0)
        goto out;
    bool has;
    in.created = f->now;
    if (!cell_time(first, &in.created, &has) ||
        !cell_time(last, &in.modified, &has)) {
        cairn__feed_skip(f, 0, NULL, "fireeye-time",
                  "First Seen or Last Seen is not a time; row skipped");
        goto out;
    }
    if (!has || cairn_time_cmp(&in.modified, &in.created) < 0)
        in.modified = in.created;
    in.pattern = &pat;
    in.name = &name;
    in.description = &desc;
    in.family = trim(c->cells[col[0]]);
    rc = fe_indicator(f, &in, creator);
out:
    if (rc == CAIRN_EINVAL) {
        cairn__feed_skip(f, 0, NULL, "fireeye-text", "a cell is not UTF-8; skipped");
        rc = 0;
    }
    cairn_buf_release(&pat);
    cairn_buf_release(&name);
    cairn_buf_release(&desc);
    return rc;
}

static int hash_row(struct cairn_feed *f, const struct csv *c, const int *col,
                    const char *creator, char *norm)
{
    static const enum cairn_ioc_type types[3] = {CAIRN_IOC_SHA256,
                                                 CAIRN_IOC_SHA1, CAIRN_IOC_MD5};
    static const char *const labels[] = {
        NULL,     NULL,        NULL, NULL, "version", "compiled",
        "signed", "MIME type", NULL, NULL, NULL};
    struct cairn_buf pat, name, desc;
    struct fe_ind in = {.indicator_type = "malicious-activity"};
    size_t n = 0;
    int rc = 0;

    cairn_buf_init(&pat, 1024);
    cairn_buf_init(&name, FEED_VALUE_MAX + 128);
    cairn_buf_init(&desc, 4 * FEED_VALUE_MAX);
    rc = cairn_buf_putc(&pat, '[');
    /* Any of the three hashes is the file. */
    for (int i = 0; rc == 0 && i < 3; i++) {
        struct cell h = trim(c->cells[col[i]]);
        size_t hl = 0;
        if (h.len == 0)
            continue;
        if (cairn__feed_typed_value(types[i], h.s, h.len, norm, &hl) != types[i]) {
            cairn__feed_skip(f, 0, NULL, "fireeye-value",
                      "'%.*s' is not a %s; row skipped",
                      (int)(h.len > 70 ? 70 : h.len), h.s,
                      cairn_ioc_type_name(types[i]));
            goto out;
        }
        if (n++ > 0)
            rc = cairn_buf_puts(&pat, " OR ");
        if (rc == 0)
            rc = cairn__feed_pattern_cmp(&pat, types[i], norm, hl);
        if (rc == 0 && i == 0 && name.len == 0)
            rc = cairn_buf_append(&name, norm, hl);
    }
    if (rc == 0)
        rc = cairn_buf_putc(&pat, ']');
    if (rc != 0)
        goto out;
    if (n == 0) {
        cairn__feed_skip(f, 0, NULL, "fireeye-value", "no hash; row skipped");
        goto out;
    }
    struct cell file = trim(c->cells[col[3]]);
    struct cell family = trim(c->cells[col[8]]);
    struct cell mime = trim(c->cells[col[7]]);
    if (file.len > 0) {
        cairn_buf_reset(&name);
        rc = cairn_buf_append(&name, file.s, file.len);
    }
    for (int i = 9; rc == 0 && i <= 10; i++) {
        struct cell t = trim(c->cells[col[i]]);
        if (t.len > 0)
            rc = cairn_buf_printf(&desc, "%s%.*s", SEP(&desc), (int)t.len, t.s);
    }
    if (rc == 0 && family.len > 0)
        rc = cairn_buf_printf(&desc, "%sfamily %.*s", SEP(&desc),
                              (int)family.len, family.s);
    for (int i = 4; rc == 0 && i <= 7; i++) {
        struct cell t = trim(c->cells[col[i]]);
        if (t.len > 0)
            rc = cairn_buf_printf(&desc, "%s%s %.*s", SEP(&desc), labels[i],
                                  (int)t.len, t.s);
    }
    if (rc != 0)
        goto out;
    /*
     * Not every row is malware: FireEye lists benign look-alikes and the
     * legitimate certificate that signed the trojanised builds too.
     */
    bool cert = memmem(mime.s, mime.len, "x509", 4) != NULL;
    bool benign = family.len == 6 && strncasecmp(family.s, "benign", 6) == 0;
    if (benign)
        in.indicator_type = "benign";
    else if (cert)
        in.indicator_type = "compromised";
    else
        in.family = family;
    in.created = in.modified = f->now;
    in.pattern = &pat;
    in.name = &name;
    in.description = &desc;
    rc = fe_indicator(f, &in, creator);
out:
    if (rc == CAIRN_EINVAL) {
        cairn__feed_skip(f, 0, NULL, "fireeye-text", "a cell is not UTF-8; skipped");
        rc = 0;
    }
    cairn_buf_release(&pat);
    cairn_buf_release(&name);
    cairn_buf_release(&desc);
    return rc;
}

int cairn_feed_fireeye(struct cairn_feed *f, const char *buf, size_t len,
                       const char *name)
{
    static const char *const nbi_cols[] = {
        "Associated Malware", "DNS Record Type", "FQDN", "IP", "Target",
        "First Seen",         "Last Seen"};
    static const char *const hash_cols[] = {
        "SHA256",         "SHA1",         "MD5",          "FILENAME",
        "Version",        "Compile Time", "Signing time", "MIME",
        "Malware Family", "Role",         "Notes"};
    struct csv *c = NULL;
    char creator[CAIRN_STIX_ID_MAX];
    char *norm = NULL;
    int col[11];
    int rc;

    f->input = name != NULL ? name : "";
    f->line = 0;
    enum cairn_feed_fireeye_kind kind;
    rc = fe_detect(buf, len, &kind);
    if (rc != 0)
        return rc;
    const char *const *names =
        kind == CAIRN_FEED_FIREEYE_NBIS ? nbi_cols : hash_cols;
    size_t ncols = kind == CAIRN_FEED_FIREEYE_NBIS ? 7 : 11;
    if (kind == CAIRN_FEED_FIREEYE_NONE) {
        cairn__feed_skip(f, 1, NULL, "fireeye-header",
                  "not a FireEye Indicator_Release CSV: the header has "
                  "neither FQDN, IP and Associated Malware nor SHA256, SHA1, "
                  "MD5 and FILENAME");
        return CAIRN_EPARSE;
    }
    rc = CAIRN_ENOMEM;
    c = cairn_calloc(1, sizeof *c);
    norm = cairn_malloc(FEED_VALUE_MAX + 3);
    if (c == NULL || norm == NULL)
        goto out;
    csv_init(c, buf, len);
    rc = csv_next(c);
    if (rc != 1) {
        rc = rc == CAIRN_ENOMEM ? rc : CAIRN_EPARSE;
        goto out;
    }
    for (size_t i = 0; i < ncols; i++) {
        col[i] = find_col(c->cells, c->n, names[i]);
        if (col[i] < 0) {
            cairn__feed_skip(f, 1, NULL, "fireeye-header",
                      "no column '%s' in the header row", names[i]);
            rc = CAIRN_EPARSE;
            goto out;
        }
    }
    size_t width = c->n;
    rc = cairn__feed_producer(f, "FireEye", creator);
    while (rc == 0 && (rc = csv_next(c)) == 1) {
        f->line = c->rec_line;
        rc = 0;
        if (blank_record(c))
            continue;
        if (c->n != width) {
            cairn__feed_skip(f, 0, NULL, "csv-columns",
                      "%zu columns where the header has %zu; row skipped", c->n,
                      width);
            continue;
        }
        rc = kind == CAIRN_FEED_FIREEYE_NBIS
                 ? nbi_row(f, c, col, creator, norm)
                 : hash_row(f, c, col, creator, norm);
    }
    if (rc == CAIRN_EPARSE || rc == CAIRN_ETOOBIG) {
        f->line = 0;
        csv_error(f, c, rc);
        rc = CAIRN_EPARSE;
    }
out:
    f->line = 0;
    if (c != NULL)
        csv_release(c);
    cairn_free(c);
    cairn_free(norm);
    return rc;
}
