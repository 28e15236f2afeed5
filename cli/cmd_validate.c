/* SPDX-License-Identifier: Apache-2.0 */
/* `cairn validate`: check STIX 2.1 documents and report every finding. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/cairn.h"
#include "cli.h"

#define DEFAULT_MAX_INPUT ((size_t)1 << 30)

enum {
    OPT_JSON,
    OPT_QUIET,
    OPT_STRICT,
    OPT_MAX_OBJECT,
    OPT_MAX_INPUT,
};

/* Indexed by the enum above. */
static const struct cli_option options[] = {
    [OPT_JSON] = {0, "json", NULL,
                  "Print each finding as one JSON object per line."},
    [OPT_QUIET] = {'q', "quiet", NULL,
                   "Print no findings and no summary; the exit status tells "
                   "the result (files that cannot be read are still named "
                   "on standard error)."},
    [OPT_STRICT] = {0, "strict", NULL,
                    "Treat warnings as errors: they make the exit status 1."},
    [OPT_MAX_OBJECT] = {0, "max-object", "SIZE",
                        "Largest object accepted, in bytes with an optional "
                        "K, M or G suffix (default 16M)."},
    [OPT_MAX_INPUT] = {0, "max-input", "SIZE",
                       "Largest standard input or pipe read into memory "
                       "(default 1G). Regular files are mapped, not read, "
                       "and have no such limit."},
    {0, NULL, NULL, NULL},
};

static int run(int argc, char **argv);

const struct cli_command cli_cmd_validate = {
    .name = "validate",
    .synopsis = "[OPTIONS] FILE...",
    .summary = "Check STIX 2.1 documents against the specification.",
    .description =
        "Reads each FILE, or standard input for '-', as a STIX 2.1 document "
        "(a bundle or a single object) and checks it: that it is JSON in "
        "strict UTF-8, without duplicate keys, NUL characters or runaway "
        "nesting; then every object against the rules of STIX 2.1 that "
        "bind a producer: the common properties, the properties of its "
        "type, identifiers and timestamps, vocabularies and the rules that "
        "tie properties together; an indicator's pattern, when its "
        "pattern_type is stix, must parse (the error names the offset in "
        "the pattern, as 'cairn pattern check' does). Custom properties are "
        "their producer's business: a value that breaks a naming "
        "convention (an x_..._ref that is not an identifier) is a warning. "
        "A bundle is read one object at a time, so "
        "memory is bounded by the largest object, not by the file.\n\n"
        "Each finding is one line on standard output, "
        "FILE:LINE:COLUMN: SEVERITY: MESSAGE [RULE] for a syntax error or "
        "FILE: OBJECT_ID: PATH: SEVERITY: MESSAGE [RULE] for a broken rule, "
        "where PATH is a JSON path such as objects[3].valid_from. Errors "
        "break a MUST of the specification; warnings, such as a value "
        "outside an open vocabulary, do not. A summary per file goes to "
        "standard error.",
    .options = options,
    .exit_status = "0 Every document is valid (it may have warnings).\n"
                   "1 At least one document has an error, or a warning with "
                   "--strict.\n"
                   "2 Usage error, a file that cannot be read, an object "
                   "over --max-object, or an internal error; this wins over "
                   "1.",
    .examples = "$ cairn validate bundle.json\n"
                "$ curl -s https://example.org/feed.json | cairn validate -\n"
                "$ cairn validate --json *.json | jq -r .message\n"
                "$ cairn validate --quiet --strict feed.json && echo clean",
    .run = run,
};

enum output { OUT_TEXT, OUT_JSON, OUT_NONE };

struct sink {
    enum output mode;
    const char *name; /* the file as shown in findings */
};

/*
 * Messages may quote the input, and fixed-size fields may cut a character
 * in two: bytes that are not UTF-8 become '?', and so do control
 * characters when `controls` is set, so that a finding stays one line.
 */
static void clean_text(char *s, size_t len, bool controls)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = cairn_utf8_len(s + i, len - i);
        if (n == 0 || (controls && (c < 0x20 || c == 0x7f))) {
            s[i++] = '?';
            continue;
        }
        i += n;
    }
}

static void print_text(const struct cairn_diag *d)
{
    char line[1400];
    int n = cairn_diag_format(d, line, sizeof line);

    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    clean_text(line, len, true);
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
}

static json_t *json_text(const char *s)
{
    char buf[512];
    size_t len = strlen(s);

    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    clean_text(buf, len, false);
    return json_stringn(buf, len);
}

static int add_text(json_t *obj, const char *key, const char *value)
{
    if (value[0] == '\0')
        return 0;
    return json_object_set_new(obj, key, json_text(value));
}

static void print_json(const struct cairn_diag *d)
{
    json_t *obj = json_object();
    int err = 0;

    if (obj == NULL)
        goto out;
    err |= add_text(obj, "file", d->file);
    if (d->line > 0) {
        err |= json_object_set_new(obj, "line", json_integer(d->line));
        err |= json_object_set_new(obj, "column", json_integer(d->column));
    }
    err |= add_text(obj, "object_id", d->object_id);
    err |= add_text(obj, "path", d->path);
    err |= add_text(obj, "severity",
                    d->severity == CAIRN_SEV_WARNING ? "warning" : "error");
    err |= add_text(obj, "rule", d->rule);
    err |= add_text(obj, "message", d->message);
    if (err == 0 && json_dumpf(obj, stdout, JSON_COMPACT) == 0)
        fputc('\n', stdout);
out:
    if (obj == NULL || err != 0)
        cli_error(&cli_cmd_validate, "out of memory printing a finding");
    json_decref(obj);
}

static void on_diag(const struct cairn_diag *diag, void *ud)
{
    const struct sink *sink = ud;
    struct cairn_diag d;

    if (sink->mode == OUT_NONE)
        return;
    d = *diag;
    if (d.file[0] == '\0')
        snprintf(d.file, sizeof d.file, "%s", sink->name);
    if (sink->mode == OUT_JSON)
        print_json(&d);
    else
        print_text(&d);
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

struct settings {
    enum output mode;
    bool strict;
    size_t max_object;
    size_t max_input;
};

/* Check one file; returns the exit status it earns. */
static int validate_one(const char *path, const struct settings *set)
{
    const struct cli_command *cmd = &cli_cmd_validate;
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    struct sink sink = {.mode = set->mode, .name = name};
    struct cairn_validate_stats stats = {0};
    struct cli_file file;
    int status = CLI_EXIT_ERROR;

    if (cli_file_load(cmd, path, set->max_input, &file) < 0)
        return CLI_EXIT_ERROR;

    struct cairn_validate_opts opts = {
        .file = name,
        .strict = set->strict,
        .max_object_len = set->max_object,
        .cb = on_diag,
        .ud = &sink,
        .check_pattern = cairn_pattern_checker,
    };
    int rc = cairn_stix_validate_buffer(file.data, file.len, &opts, &stats);

    switch (rc) {
    case 0:
    case CAIRN_EINVALID:
    case CAIRN_EPARSE:
        status = CLI_EXIT_OK;
        if (rc != 0 || stats.errors > 0 || (set->strict && stats.warnings))
            status = CLI_EXIT_FINDINGS;
        break;
    case CAIRN_ETOOBIG: {
        char lim[32];
        cli_format_size(set->max_object, lim, sizeof lim);
        cli_error(cmd,
                  "%s: an object is larger than %s; not checked past it "
                  "(raise --max-object)",
                  name, lim);
        break;
    }
    default:
        cli_error(cmd, "%s: %s", name, cairn_strerror(rc));
        break;
    }
    if (set->mode != OUT_NONE) {
        fflush(stdout);
        fprintf(stderr, "%s: %zu %s, %zu %s, %zu %s\n", name, stats.objects,
                plural(stats.objects, "object", "objects"), stats.errors,
                plural(stats.errors, "error", "errors"), stats.warnings,
                plural(stats.warnings, "warning", "warnings"));
    }
    cli_file_release(&file);
    return status;
}

static int size_option(const char *opt, const char *text, size_t *out)
{
    if (cli_parse_size(text, out) < 0 || *out == 0) {
        cli_error(&cli_cmd_validate,
                  "--%s: '%s' is not a size such as 1000, 512K, 16M or 1G", opt,
                  text);
        return -1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd = &cli_cmd_validate;
    struct settings set = {
        .mode = OUT_TEXT,
        .max_object = CAIRN_STIX_MAX_OBJECT_LEN,
        .max_input = DEFAULT_MAX_INPUT,
    };
    bool quiet = false;
    const char *arg;
    int opt;

    while ((opt = cli_getopt(cmd, argc, argv, &arg)) >= 0) {
        switch (opt) {
        case OPT_JSON:
            set.mode = OUT_JSON;
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        case OPT_STRICT:
            set.strict = true;
            break;
        case OPT_MAX_OBJECT:
            if (size_option(options[opt].long_name, arg, &set.max_object) < 0)
                return CLI_EXIT_ERROR;
            break;
        case OPT_MAX_INPUT:
            if (size_option(options[opt].long_name, arg, &set.max_input) < 0)
                return CLI_EXIT_ERROR;
            break;
        }
    }
    if (opt == -2)
        return CLI_EXIT_ERROR;
    if (quiet)
        set.mode = OUT_NONE;
    if (optind >= argc) {
        cli_error(cmd, "no FILE given ('-' reads standard input); see "
                       "'cairn validate --help'");
        return CLI_EXIT_ERROR;
    }

    int status = CLI_EXIT_OK;
    int stdin_uses = 0;
    for (int i = optind; i < argc; i++)
        stdin_uses += strcmp(argv[i], "-") == 0;
    if (stdin_uses > 1) {
        cli_error(cmd, "'-' (standard input) given more than once");
        return CLI_EXIT_ERROR;
    }
    for (int i = optind; i < argc; i++) {
        int s = validate_one(argv[i], &set);
        if (s > status)
            status = s;
    }
    return status;
}
