/* SPDX-License-Identifier: Apache-2.0 */
/* Building TAXII responses: JSON text, headers and error resources. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "taxii/taxii_int.h"

int cairn__taxii_json_str(struct cairn_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (len > (SIZE_MAX - 2) / 6)
        return CAIRN_ETOOBIG;
    int rc = cairn_buf_reserve(b, len + 2);
    if (rc < 0)
        return rc;
    b->data[b->len++] = '"';
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : 0;
        bool plain = i < len && c >= 0x20 && c != '"' && c != '\\';
        if (plain) {
            run++;
            continue;
        }
        if (run > 0 && (rc = cairn_buf_append(b, s + i - run, run)) < 0)
            return rc;
        run = 0;
        if (i == len)
            break;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if ((rc = cairn_buf_append(b, esc, n)) < 0)
            return rc;
    }
    return cairn_buf_putc(b, '"');
}

int cairn__taxii_store_error(struct cairn_taxii_response *resp, int rc)
{
    /* Writers queued too long: a client should come back, not give up. */
    if (rc == CAIRN_EBUSY) {
        int err = cairn__taxii_error(resp, 503,
                                     "the store is busy with other writes; "
                                     "try again");
        cairn__taxii_header(resp, "Retry-After", "1");
        return err;
    }
    return cairn__taxii_error(resp, 500, "the store failed: %s",
                              cairn_strerror(rc));
}

void cairn__taxii_header(struct cairn_taxii_response *resp, const char *name,
                         const char *value)
{
    if (resp->n_headers >= CAIRN_TAXII_HEADERS_MAX)
        return;
    struct cairn_taxii_header *h = &resp->headers[resp->n_headers++];
    h->name = name;
    snprintf(h->value, sizeof h->value, "%s", value);
}

void cairn__taxii_body(struct cairn_taxii_response *resp, int status,
                       struct cairn_buf *b)
{
    cairn_free(resp->body);
    resp->status = status;
    resp->content_type = CAIRN_TAXII_MEDIA;
    resp->body = cairn_buf_steal(b, &resp->body_len);
}

static const char *reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

int cairn__taxii_error(struct cairn_taxii_response *resp, int status,
                       const char *fmt, ...)
{
    char desc[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    /* Descriptions may quote client bytes; keep the JSON valid UTF-8. */
    for (char *p = desc; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';

    struct cairn_buf b;
    cairn_buf_init(&b, 4096);
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    const char *title = reason(status);
    int rc;
    if ((rc = cairn_buf_puts(&b, "{\"title\":")) < 0 ||
        (rc = cairn__taxii_json_str(&b, title, strlen(title))) < 0 ||
        (rc = cairn_buf_puts(&b, ",\"description\":")) < 0 ||
        (rc = cairn__taxii_json_str(&b, desc, strlen(desc))) < 0 ||
        (rc = cairn_buf_printf(&b, ",\"http_status\":\"%s\"}", code)) < 0) {
        cairn_buf_release(&b);
        return rc;
    }
    cairn__taxii_body(resp, status, &b);
    return resp->body != NULL ? 0 : CAIRN_ENOMEM;
}
