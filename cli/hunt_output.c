/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn hunt` output: one hit as a table row, a text line or JSON. */
#include <string.h>

#include "hunt_int.h"

/* Column widths of the table; longer cells push the rest to the right. */
#define TABLE_WHERE 28
#define TABLE_VALUE 40
#define TABLE_NAME  24

/*
 * A JSON string: the escapes JSON requires, and U+FFFD for each byte that
 * is not UTF-8, since log values are whatever bytes the log held.
 */
static int put_json_string(struct cairn_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = cairn_buf_putc(b, '"');

    while (rc == 0 && i < len) {
        size_t run = i;
        /* Copy the longest stretch that needs no escape in one append. */
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
               p[run] != '\\')
            run++;
        if (run > i) {
            rc = cairn_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = cairn_buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (c == '\n')
                rc = cairn_buf_append(b, "\\n", 2);
            else if (c == '\t')
                rc = cairn_buf_append(b, "\\t", 2);
            else if (c == '\r')
                rc = cairn_buf_append(b, "\\r", 2);
            else
                rc = cairn_buf_append(b, esc, 6);
            i++;
        } else {
            size_t n = cairn_utf8_len(p + i, len - i);
            if (n == 0) {
                rc = cairn_buf_append(b, "\\ufffd", 6);
                i++;
            } else {
                rc = cairn_buf_append(b, s + i, n);
                i += n;
            }
        }
    }
    if (rc == 0)
        rc = cairn_buf_putc(b, '"');
    return rc;
}

int hunt_put_json_string(struct cairn_buf *b, const char *s, size_t len)
{
    return put_json_string(b, s, len);
}

/*
 * Text for one tab-separated cell: control bytes, tabs, newlines and
 * backslashes escaped (\t, \n, \\, \xHH), so that a hit stays one line
 * and its cells can be cut at tabs.
 */
static int put_text(struct cairn_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    int rc = 0;

    while (rc == 0 && i < len) {
        size_t run = i;
        while (run < len && (unsigned char)s[run] >= 0x20 &&
               (unsigned char)s[run] != 0x7f && s[run] != '\\')
            run++;
        if (run > i) {
            rc = cairn_buf_append(b, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)s[i++];
        if (c == '\\')
            rc = cairn_buf_append(b, "\\\\", 2);
        else if (c == '\t')
            rc = cairn_buf_append(b, "\\t", 2);
        else if (c == '\n')
            rc = cairn_buf_append(b, "\\n", 2);
        else {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            rc = cairn_buf_append(b, esc, 4);
        }
    }
    return rc;
}

static int put_cstr_text(struct cairn_buf *b, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return cairn_buf_putc(b, '-');
    return put_text(b, s, strlen(s));
}

static int put_pad(struct cairn_buf *b, size_t used, size_t width)
{
    int rc = 0;

    for (size_t i = used; rc == 0 && i < width; i++)
        rc = cairn_buf_putc(b, ' ');
    return rc == 0 ? cairn_buf_putc(b, ' ') : rc;
}

/* "FILE:LINE" for a log event, "FILE@OFFSET" for a file hunted whole. */
static int put_where(struct cairn_buf *b, const struct cairn_hunt_report *h)
{
    int rc = put_text(b, h->file, strlen(h->file));

    if (rc == 0 && h->line > 0)
        rc = cairn_buf_printf(b, ":%llu", (unsigned long long)h->line);
    else if (rc == 0)
        rc = cairn_buf_printf(b, "@%llu", (unsigned long long)h->offset);
    return rc;
}

static int put_ts_text(struct cairn_buf *b, const struct cairn_hunt_report *h)
{
    char ts[40];

    if (!h->has_ts || cairn_time_format(&h->ts, -1, ts, sizeof ts) < 0)
        return cairn_buf_putc(b, '-');
    return cairn_buf_puts(b, ts);
}

static int format_text(const struct cairn_hunt_report *h, struct cairn_buf *b)
{
    int rc = put_where(b, h);

    if (rc == 0)
        rc = cairn_buf_putc(b, '\t');
    if (rc == 0)
        rc = put_text(b, h->value, h->value_len);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\t');
    if (rc == 0)
        rc = put_cstr_text(b, h->indicator_id);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\t');
    if (rc == 0)
        rc = put_cstr_text(b, h->name);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\t');
    if (rc == 0)
        rc = put_ts_text(b, h);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\n');
    return rc;
}

static int format_table(const struct cairn_hunt_report *h, struct cairn_buf *b)
{
    size_t start = b->len;
    int rc = put_where(b, h);

    if (rc == 0)
        rc = put_pad(b, b->len - start, TABLE_WHERE);
    start = b->len;
    if (rc == 0)
        rc = put_text(b, h->value, h->value_len);
    if (rc == 0)
        rc = put_pad(b, b->len - start, TABLE_VALUE);
    start = b->len;
    if (rc == 0)
        rc = put_cstr_text(b, h->name);
    if (rc == 0)
        rc = put_pad(b, b->len - start, TABLE_NAME);
    if (rc == 0)
        rc = put_cstr_text(b, h->indicator_id);
    if (rc == 0)
        rc = cairn_buf_putc(b, ' ');
    if (rc == 0)
        rc = put_ts_text(b, h);
    if (rc == 0)
        rc = cairn_buf_putc(b, '\n');
    return rc;
}

int hunt_format_table_header(struct cairn_buf *b)
{
    return cairn_buf_printf(b, "%-*s %-*s %-*s %s %s\n", TABLE_WHERE, "WHERE",
                            TABLE_VALUE, "VALUE", TABLE_NAME, "NAME",
                            "INDICATOR", "TIME");
}

static int put_json_key(struct cairn_buf *b, const char *key, bool first)
{
    int rc = first ? 0 : cairn_buf_putc(b, ',');

    if (rc == 0)
        rc = cairn_buf_printf(b, "\"%s\":", key);
    return rc;
}

static int put_json_cstr(struct cairn_buf *b, const char *s)
{
    if (s == NULL)
        return cairn_buf_puts(b, "null");
    return put_json_string(b, s, strlen(s));
}

static int format_jsonl(const struct cairn_hunt_report *h, struct cairn_buf *b)
{
    char ts[40];
    int rc = cairn_buf_putc(b, '{');

    if (rc == 0)
        rc = put_json_key(b, "indicator", true);
    if (rc == 0)
        rc = put_json_cstr(b, h->indicator_id);
    if (rc == 0)
        rc = put_json_key(b, "name", false);
    if (rc == 0)
        rc = put_json_cstr(b, h->name);
    if (rc == 0)
        rc = put_json_key(b, "type", false);
    if (rc == 0)
        rc = put_json_cstr(b, h->type_name != NULL
                                  ? h->type_name
                                  : cairn_ioc_type_name(h->type));
    if (rc == 0)
        rc = put_json_key(b, "value", false);
    if (rc == 0)
        rc = put_json_string(b, h->value, h->value_len);
    if (rc == 0)
        rc = put_json_key(b, "file", false);
    if (rc == 0)
        rc = put_json_cstr(b, h->file);
    if (rc == 0)
        rc = put_json_key(b, "line", false);
    if (rc == 0 && h->line > 0)
        rc = cairn_buf_printf(b, "%llu", (unsigned long long)h->line);
    else if (rc == 0)
        rc = cairn_buf_puts(b, "null");
    if (rc == 0)
        rc = put_json_key(b, "offset", false);
    if (rc == 0)
        rc = cairn_buf_printf(b, "%llu", (unsigned long long)h->offset);
    if (rc == 0)
        rc = put_json_key(b, "field", false);
    if (rc == 0)
        rc = put_json_cstr(b, h->field);
    if (rc == 0)
        rc = put_json_key(b, "ts", false);
    if (rc == 0 && h->has_ts &&
        cairn_time_format(&h->ts, -1, ts, sizeof ts) >= 0)
        rc = put_json_string(b, ts, strlen(ts));
    else if (rc == 0)
        rc = cairn_buf_puts(b, "null");
    if (rc == 0)
        rc = cairn_buf_puts(b, "}\n");
    return rc;
}

int hunt_format_hit(enum hunt_format fmt, const struct cairn_hunt_report *hit,
                    struct cairn_buf *out)
{
    switch (fmt) {
    case HUNT_OUT_TABLE:
        return format_table(hit, out);
    case HUNT_OUT_TEXT:
        return format_text(hit, out);
    case HUNT_OUT_JSONL:
        return format_jsonl(hit, out);
    case HUNT_OUT_NONE:
        break;
    }
    return 0;
}
