/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the web console's form bodies (URL-encoded and multipart)
 * and Cookie headers, and the escaping of what they hold. The first byte
 * picks the media type; the rest is the body, in a buffer of exactly its
 * size (no NUL after it), as the server hands it over.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/console_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        NULL,
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=XyZ",
        "multipart/form-data; boundary=\"XyZ\"",
        "multipart/form-data",
        "text/plain",
    };
    if (size < 1)
        return 0;
    const char *ctype = types[data[0] % (sizeof types / sizeof types[0])];
    size_t len = size - 1;
    char *body = malloc(len > 0 ? len : 1);
    if (body == NULL)
        return 0;
    if (len > 0)
        memcpy(body, data + 1, len);

    struct console_form f;
    memset(&f, 0, sizeof f);
    int rc = cairn__console_form_parse(ctype, body, len, &f);
    if (rc == 0) {
        if (f.n > CONSOLE_FIELDS_MAX)
            __builtin_trap();
        struct cairn_buf b;
        cairn_buf_init(&b, (size_t)1 << 22);
        for (size_t i = 0; i < f.n; i++) {
            if (f.f[i].name == NULL || f.f[i].value == NULL)
                __builtin_trap();
            (void)cairn__console_form_get(&f, f.f[i].name);
            (void)cairn__console_escs(&b, f.f[i].name);
            (void)cairn__console_esc(&b, f.f[i].value, f.f[i].len);
            (void)cairn__console_urlenc(&b, f.f[i].name);
        }
        /* Escaped text holds no markup characters. */
        for (size_t i = 0; i < b.len; i++)
            if (b.data[i] == '<' || b.data[i] == '>' || b.data[i] == '"')
                __builtin_trap();
        cairn_buf_release(&b);
    }
    cairn__console_form_free(&f);

    /* The same bytes as a Cookie header (a NUL-terminated string). */
    char *header = malloc(len + 1);
    if (header != NULL) {
        memcpy(header, data + 1, len);
        header[len] = '\0';
        char out[CONSOLE_TOKEN_HEX + 1];
        if (cairn__console_cookie(header, "cairn_session", out, sizeof out) &&
            memchr(out, '\0', sizeof out) == NULL)
            __builtin_trap();
        free(header);
    }
    free(body);
    return 0;
}
