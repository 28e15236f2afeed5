/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers every subcommand shares: help text, errors, sizes, input files. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/cairn.h"
#include "cli.h"

#define HELP_WIDTH 80

/* ---- help text ---------------------------------------------------------- */

/* Length of the word at p, ending at a blank, a newline or `end`. */
static size_t word_len(const char *p, const char *end)
{
    const char *q = p;

    while (q < end && *q != ' ' && *q != '\n')
        q++;
    return (size_t)(q - p);
}

/*
 * Print the `len` bytes of `text` (one paragraph, words separated by blanks
 * or newlines) wrapped to HELP_WIDTH columns; the first line starts at
 * column `col` (already printed), the following ones are indented by
 * `indent`.
 */
static void wrapn(FILE *out, const char *text, size_t len, size_t indent,
                  size_t col)
{
    const char *p = text;
    const char *end = text + len;
    bool first = true;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\n'))
            p++;
        if (p == end)
            break;
        size_t n = word_len(p, end);
        if (!first && col + 1 + n > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            first = true;
        }
        if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, n, out);
        col += n;
        first = false;
        p += n;
    }
    fputc('\n', out);
}

static void wrap(FILE *out, const char *text, size_t indent, size_t col)
{
    wrapn(out, text, strlen(text), indent, col);
}

bool cli_paragraph_is_verbatim(const char *para, size_t len)
{
    return len >= 2 && para[0] == ' ' && para[1] == ' ';
}

/* Paragraphs separated by blank lines; indented ones are kept as written. */
static void print_paragraphs(FILE *out, const char *text, size_t indent)
{
    const char *p = text;

    while (*p != '\0') {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (cli_paragraph_is_verbatim(p, len)) {
            const char *line = p;
            while (line < p + len) {
                size_t n = strcspn(line, "\n");
                fprintf(out, "%*s%.*s\n", (int)indent, "", (int)n, line);
                line += n + (line[n] == '\n');
            }
        } else {
            fprintf(out, "%*s", (int)indent, "");
            wrapn(out, p, len, indent, indent);
        }
        p += len;
        while (*p == '\n')
            p++;
        if (*p != '\0')
            fputc('\n', out);
    }
}

/* "-q, --quiet", "    --max-object SIZE" as shown in the options table. */
static int option_label(const struct cli_option *o, char *buf, size_t len)
{
    char shortpart[8] = "    ";

    if (o->short_name)
        snprintf(shortpart, sizeof shortpart, "-%c, ", o->short_name);
    if (o->long_name == NULL)
        return snprintf(buf, len, "-%c%s%s", o->short_name, o->arg ? " " : "",
                        o->arg ? o->arg : "");
    return snprintf(buf, len, "%s--%s%s%s", shortpart, o->long_name,
                    o->arg ? " " : "", o->arg ? o->arg : "");
}

static void print_option(FILE *out, const struct cli_option *o, size_t width)
{
    char label[96];
    int n = option_label(o, label, sizeof label);
    size_t len = n > 0 ? (size_t)n : 0;

    fprintf(out, "  %s", label);
    /* A label wider than the column pushes its text to the next line. */
    if (len > width)
        fprintf(out, "\n%*s", (int)(width + 4), "");
    else
        fprintf(out, "%*s", (int)(width + 2 - len), "");
    wrap(out, o->help, width + 4, width + 4);
}

static bool option_end(const struct cli_option *o)
{
    return o->long_name == NULL && o->short_name == 0;
}

void cli_print_options(FILE *out, const struct cli_option *opts)
{
    static const struct cli_option help = {'h', "help", NULL,
                                           "Show this help and exit."};
    char label[96];
    size_t width = 10;

    for (const struct cli_option *o = opts; o && !option_end(o); o++) {
        int n = option_label(o, label, sizeof label);
        if (n > 0 && (size_t)n > width)
            width = (size_t)n;
    }
    if (width > 24)
        width = 24;
    for (const struct cli_option *o = opts; o && !option_end(o); o++)
        print_option(out, o, width);
    print_option(out, &help, width);
}

/* Exit-status text: "N text" lines become a table, anything else prose. */
static bool exit_status_is_table(const char *text)
{
    const char *p = text;

    while (*p != '\0') {
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p != ' ')
            return false;
        p += strcspn(p, "\n");
        if (*p == '\n')
            p++;
    }
    return true;
}

void cli_print_exit_status(FILE *out, const char *text)
{
    if (!exit_status_is_table(text)) {
        print_paragraphs(out, text, 2);
        return;
    }
    const char *p = text;
    while (*p != '\0') {
        size_t code = strspn(p, "0123456789");
        size_t n = strcspn(p, "\n");
        fprintf(out, "  %-4.*s", (int)code, p);
        wrapn(out, p + code + 1, n - code - 1, 6, 6);
        p += n + (p[n] == '\n');
    }
}

void cli_print_help(FILE *out, const struct cli_command *cmd)
{
    /* Long synopses wrap under their own start, not under "Usage:". */
    int col = fprintf(out, "Usage: cairn %s ", cmd->name);
    size_t indent = col > 0 && col < 40 ? (size_t)col : 8;
    wrap(out, cmd->synopsis, indent, col > 0 ? (size_t)col : 0);
    fputc('\n', out);
    wrap(out, cmd->summary, 0, 0);
    fputc('\n', out);
    if (cmd->description != NULL) {
        print_paragraphs(out, cmd->description, 0);
        fputc('\n', out);
    }
    fputs("Options:\n", out);
    cli_print_options(out, cmd->options);
    if (cmd->exit_status != NULL) {
        fputs("\nExit status:\n", out);
        cli_print_exit_status(out, cmd->exit_status);
    }
    if (cmd->examples != NULL) {
        fputs("\nExamples:\n", out);
        const char *p = cmd->examples;
        while (*p != '\0') {
            size_t n = strcspn(p, "\n");
            fprintf(out, "  %.*s\n", (int)n, p);
            p += n + (p[n] == '\n');
        }
    }
}

/* ---- errors ---------------------------------------------------------------
 */

void cli_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    if (cmd != NULL)
        fprintf(stderr, "cairn %s: ", cmd->name);
    else
        fputs("cairn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO) == 1;
}

void cli_print_line(const char *line)
{
    char buf[1400];
    size_t len = strnlen(line, sizeof buf - 1);

    memcpy(buf, line, len);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = '?';
    }
    buf[len] = '\n';
    fwrite(buf, 1, len + 1, stderr);
}

/* ---- options --------------------------------------------------------------
 */

/*
 * getopt_long tables built from the command's option table, once: a
 * process runs one command, so one cached table is enough.
 */
#define MAX_OPTIONS 32
static const struct cli_command *getopt_cmd;
static struct option longopts[MAX_OPTIONS + 1];
static char shortopts[2 * MAX_OPTIONS + 2];

static int build_getopt_tables(const struct cli_command *cmd)
{
    size_t nl = 0, ns = 0;

    memset(longopts, 0, sizeof longopts);
    memset(shortopts, 0, sizeof shortopts);
    shortopts[ns++] = ':'; /* report a missing argument as ':' */
    for (size_t i = 0; cmd->options && !option_end(&cmd->options[i]); i++) {
        const struct cli_option *o = &cmd->options[i];
        if (i >= MAX_OPTIONS)
            return -1;
        if (o->long_name) {
            longopts[nl].name = o->long_name;
            longopts[nl].has_arg = o->arg ? required_argument : no_argument;
            longopts[nl].val = 256 + (int)i;
            nl++;
        }
        if (o->short_name) {
            shortopts[ns++] = o->short_name;
            if (o->arg)
                shortopts[ns++] = ':';
        }
    }
    getopt_cmd = cmd;
    return 0;
}

int cli_getopt(const struct cli_command *cmd, int argc, char **argv,
               const char **arg_out)
{
    *arg_out = NULL;
    if (getopt_cmd != cmd) {
        if (build_getopt_tables(cmd) < 0) {
            cli_error(cmd, "too many options in the command table");
            return -2;
        }
        optind = 0; /* glibc: 0 also resets getopt's internal state */
    }
    opterr = 0;

    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == -1)
        return -1;
    if (c == '?' || c == ':') {
        const char *bad = argv[optind - 1];
        if (c == ':')
            cli_error(cmd,
                      "option '%s' needs an argument; see 'cairn %s "
                      "--help'",
                      bad, cmd->name);
        else if (optopt != 0 && strncmp(bad, "--", 2) != 0)
            cli_error(cmd, "unknown option '-%c'; see 'cairn %s --help'",
                      optopt, cmd->name);
        else
            cli_error(cmd, "unknown option '%s'; see 'cairn %s --help'", bad,
                      cmd->name);
        return -2;
    }
    *arg_out = optarg;
    if (c >= 256)
        return c - 256;
    for (int i = 0; !option_end(&cmd->options[i]); i++) {
        if (cmd->options[i].short_name == c)
            return i;
    }
    cli_error(cmd, "option table out of step with getopt");
    return -2;
}

/* ---- sizes ------------------------------------------------------------- */

int cli_parse_size(const char *text, size_t *out)
{
    unsigned shift = 0;
    char *end = NULL;

    /* strtoull takes blanks, signs and "0x"; a size is decimal digits. */
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text)
        return -1;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    default:
        return -1;
    }
    if (*end != '\0')
        return -1;
    if (v > (unsigned long long)SIZE_MAX >> shift)
        return -1;
    *out = (size_t)v << shift;
    return 0;
}

int cli_format_size(size_t len, char *buf, size_t buflen)
{
    static const char units[] = "KMG";
    size_t v = len;
    int u = -1;

    while (u < 2 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        return snprintf(buf, buflen, "%zu", v);
    return snprintf(buf, buflen, "%zu%c", v, units[u]);
}

/* ---- input files --------------------------------------------------------- */

/* Read what is left of `fd` into memory, at most `max_len` bytes. */
static int read_capped(const struct cli_command *cmd, const char *name, int fd,
                       size_t max_len, struct cli_file *out)
{
    struct cairn_buf b;
    char chunk[65536];
    int rc = -1;

    cairn_buf_init(&b, max_len);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cli_error(cmd, "%s: %s", name, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        int err = cairn_buf_append(&b, chunk, (size_t)n);
        if (err == CAIRN_ETOOBIG) {
            char lim[32];
            cli_format_size(max_len, lim, sizeof lim);
            cli_error(cmd, "%s: larger than the limit of %s%s", name, lim,
                      max_len < 1024 ? " bytes" : "");
            goto out;
        }
        if (err < 0) {
            cli_error(cmd, "%s: %s", name, cairn_strerror(err));
            goto out;
        }
    }
    size_t len = 0;
    char *data = cairn_buf_steal(&b, &len);
    if (data == NULL)
        data = cairn_calloc(1, 1); /* empty input still needs a buffer */
    if (data == NULL) {
        cli_error(cmd, "%s: %s", name, cairn_strerror(CAIRN_ENOMEM));
        goto out;
    }
    out->data = data;
    out->len = len;
    out->mapped = false;
    rc = 0;
out:
    cairn_buf_release(&b);
    return rc;
}

int cli_file_load(const struct cli_command *cmd, const char *path,
                  size_t max_len, struct cli_file *out)
{
    struct stat st;
    int fd = -1;
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->name = path;
    if (strcmp(path, "-") == 0)
        return read_capped(cmd, "standard input", STDIN_FILENO, max_len, out);

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error(cmd, "%s: is a directory", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        /* Pipes, terminals, /dev/stdin: no size known, so read and cap. */
        rc = read_capped(cmd, path, fd, max_len, out);
        goto out;
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        cli_error(cmd, "%s: too large to map into memory", path);
        goto out;
    }
    if (st.st_size == 0) {
        out->data = cairn_calloc(1, 1);
        if (out->data == NULL) {
            cli_error(cmd, "%s: %s", path, cairn_strerror(CAIRN_ENOMEM));
            goto out;
        }
        rc = 0;
        goto out;
    }
    /*
     * Mapped pages come from the page cache and can be dropped again, so a
     * file of any size is checked without copying it into the heap.
     */
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        cli_error(cmd, "%s: cannot map: %s", path, strerror(errno));
        goto out;
    }
    (void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
    out->data = p;
    out->len = (size_t)st.st_size;
    out->mapped = true;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void cli_file_release(struct cli_file *f)
{
    if (f == NULL || f->data == NULL)
        return;
    if (f->mapped)
        munmap(f->data, f->len);
    else
        cairn_free(f->data);
    f->data = NULL;
    f->len = 0;
    f->mapped = false;
}
