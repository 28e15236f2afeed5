/* SPDX-License-Identifier: Apache-2.0 */
/* Levelled one-line log messages on standard error. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cairn/base.h"

/* Longest line written; longer messages are cut short. */
#define LOG_LINE_MAX 2048

static atomic_int log_level = CAIRN_LOG_INFO;

void cairn_log_set_level(enum cairn_log_level level)
{
    atomic_store(&log_level, (int)level);
}

static const char *level_name(enum cairn_log_level level)
{
    switch (level) {
    case CAIRN_LOG_ERROR:
        return "error";
    case CAIRN_LOG_WARN:
        return "warn";
    case CAIRN_LOG_INFO:
        return "info";
    case CAIRN_LOG_DEBUG:
        return "debug";
    }
    return "log";
}

void cairn_log(enum cairn_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level))
        return;

    char line[LOG_LINE_MAX];
    struct cairn_time now = cairn_time_now(3);
    int n = cairn_time_format(&now, 3, line, sizeof line);
    if (n < 0)
        n = snprintf(line, sizeof line, "-");
    n +=
        snprintf(line + n, sizeof line - (size_t)n, " %s: ", level_name(level));
    size_t head = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + head, sizeof line - head, fmt, ap);
    va_end(ap);

    /*
     * Messages quote input from the network and from files: a newline in
     * one must not be able to forge a second log line.
     */
    size_t len = strlen(line);
    for (size_t i = head; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f)
            line[i] = '?';
    }
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len] = '\n';
    line[len + 1] = '\0';
    /* One stdio call per line: the stream lock keeps threads apart. */
    fputs(line, stderr);
}
