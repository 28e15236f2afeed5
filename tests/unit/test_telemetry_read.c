/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry readers: every sample log against its .expect file, and limits. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/base.h"
#include "cairn/telemetry.h"
#include "telemetry/telemetry_int.h"

#define DATA CAIRN_TEST_DATA "/telemetry"

/*
 * A sample FILE is checked against FILE.expect: "format NAME", then one
 * line per event ("LINE TS TYPE:NAME=VALUE ..."), per reported malformed
 * line ("malformed LINE RULE") in the order they happen, and the end
 * ("end" or "error CODE MESSAGE"). Adding a sample needs no C.
 */

struct render {
    struct cairn_buf out;
};

static void on_diag(const struct cairn_diag *d, void *ud)
{
    struct render *r = ud;
    cairn_buf_printf(&r->out, "malformed %u %s\n", d->line, d->rule);
}

static void render_event(struct cairn_buf *b, const struct cairn_hunt_event *ev)
{
    cairn_buf_printf(b, "%llu ", (unsigned long long)ev->line);
    if (ev->has_ts)
        cairn_buf_printf(b, "%lld.%09d", (long long)ev->ts.sec, ev->ts.nsec);
    else
        cairn_buf_puts(b, "-");
    for (size_t i = 0; i < ev->n_fields; i++) {
        const struct cairn_hunt_field *f = &ev->fields[i];
        cairn_buf_printf(b, " %s:%s=%.*s", cairn_ioc_type_name(f->type),
                         f->name ? f->name : "", (int)f->len, f->value);
    }
    cairn_buf_puts(b, "\n");
}

/* Read `path` to the end and describe everything that happened. */
static char *render_file(const char *path, enum cairn_telemetry_format format)
{
    struct render r;
    cairn_buf_init(&r.out, 1 << 20);
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.format = format;
    opts.year = 2020;
    opts.on_diag = on_diag;
    opts.diag_ud = &r;
    struct cairn_telemetry_reader *rd = NULL;
    struct cairn_diag diag;
    int rc = cairn_telemetry_open(path, &opts, &rd, &diag);
    if (rc != 0) {
        cairn_buf_printf(&r.out, "open error %d %s\n", rc, diag.message);
        return cairn_buf_steal(&r.out, NULL);
    }
    cairn_buf_printf(
        &r.out, "format %s\n",
        cairn_telemetry_format_name(cairn_telemetry_format_of(rd)));
    struct cairn_hunt_event ev;
    while ((rc = cairn_telemetry_next(rd, &ev, &diag)) == 1) {
        assert_string_equal(ev.file, path);
        render_event(&r.out, &ev);
    }
    if (rc == 0)
        cairn_buf_puts(&r.out, "end\n");
    else
        cairn_buf_printf(&r.out, "error %d %s\n", rc, diag.message);
    /* The end is sticky. */
    assert_int_equal(cairn_telemetry_next(rd, &ev, &diag), rc);
    cairn_telemetry_free(rd);
    return cairn_buf_steal(&r.out, NULL);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct cairn_buf b;
    cairn_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(cairn_buf_append(&b, chunk, n), 0);
    fclose(f);
    return cairn_buf_steal(&b, NULL);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_samples(void **state)
{
    (void)state;
    DIR *dir = opendir(DATA);
    assert_non_null(dir);
    struct dirent *de;
    int checked = 0;
    while ((de = readdir(dir)) != NULL) {
        if (!ends_with(de->d_name, ".expect"))
            continue;
        char expect_path[1024], path[1024];
        snprintf(expect_path, sizeof expect_path, "%s/%s", DATA, de->d_name);
        snprintf(path, sizeof path, "%s/%.*s", DATA,
                 (int)(strlen(de->d_name) - 7), de->d_name);
        char *want = slurp(expect_path);
        assert_non_null(want);
        /* "format NAME" forces the format when it says "forced". */
        enum cairn_telemetry_format fmt = CAIRN_TELEMETRY_AUTO;
        if (strncmp(want, "forced ", 7) == 0) {
            char name[16] = "";
            sscanf(want + 7, "%15s", name);
            assert_int_equal(cairn_telemetry_format_parse(name, &fmt), 0);
            memmove(want, strchr(want, '\n') + 1,
                    strlen(strchr(want, '\n') + 1) + 1);
        }
        /* every loop the CPU has, and the portable one, read the same */
        for (int level = cairn__tele_simd_level(); level >= 0; level--) {
            cairn__tele_simd_cap(level);
            char *got = render_file(path, fmt);
            if (strcmp(got, want) != 0) {
                print_error("%s (SIMD level %d): got\n%s\nwant\n%s\n", path,
                            level, got, want);
                fail();
            }
            cairn_free(got);
        }
        cairn__tele_simd_cap(-1);
        cairn_free(want);
        checked++;
    }
    closedir(dir);
    assert_true(checked >= 15);
}

/*
 * Lines of every length from 1 to 300 bytes, so that newlines, separators
 * and values fall on each byte of the vector loops' blocks (16, 32 and 64
 * bytes) and at the end of the data: each SIMD level gives what the
 * portable loops give.
 */
static void check_levels(const char *head, void (*line)(FILE *, unsigned),
                         unsigned n, enum cairn_telemetry_format fmt)
{
    char path[] = "/tmp/cairn-test-simd-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(head, f);
    for (unsigned i = 0; i < n; i++)
        line(f, i);
    /* the last line without its newline */
    assert_int_equal(fflush(f), 0);
    long end = ftell(f);
    assert_true(end > 0);
    assert_int_equal(ftruncate(fd, end - 1), 0);
    assert_int_equal(fclose(f), 0);
    cairn__tele_simd_cap(-1);
    int top = cairn__tele_simd_level();
    cairn__tele_simd_cap(TELE_SIMD_NONE);
    char *want = render_file(path, fmt);
    for (int level = top; level > TELE_SIMD_NONE; level--) {
        cairn__tele_simd_cap(level);
        char *got = render_file(path, fmt);
        if (strcmp(got, want) != 0) {
            print_error("SIMD level %d: got\n%s\nwant\n%s\n", level, got,
                        want);
            fail();
        }
        cairn_free(got);
    }
    cairn__tele_simd_cap(-1);
    unlink(path);
    /* the lines were read, not refused */
    assert_non_null(strstr(want, " domain:query="));
    assert_null(strstr(want, "malformed"));
    cairn_free(want);
}

/* A label of `n` characters (letters and digits, some upper case). */
static void label(FILE *f, unsigned n, unsigned seed)
{
    for (unsigned k = 0; k < n; k++)
        fputc("abcdefghijKLMNOPqrstuvwxyz0123456789-_"[(seed * 7 + k * 13) %
                                                     (k == 0 ? 26 : 38)],
              f);
}

static void zeek_dns_line(FILE *f, unsigned i)
{
    /* ts, uid, query of i % 150 bytes in labels, answers of i % 7 values */
    fprintf(f, "1607904000.%06u\tC%u\t10.0.%u.%u\t", i, i, i % 256,
            (i * 7) % 256);
    unsigned qlen = i % 150 + 1, done = 0;
    while (done < qlen) {
        unsigned l = 1 + (i + done) % 9;
        if (l > qlen - done)
            l = qlen - done;
        if (done > 0)
            fputc('.', f);
        label(f, l, i + done);
        done += l + 1;
    }
    fputs(i % 5 == 0 ? ".\t" : "\t", f);
    unsigned na = i % 7;
    if (na == 0)
        fputs(i % 2 ? "-" : "(empty)", f);
    for (unsigned a = 0; a < na; a++) {
        if (a > 0)
            fputc(',', f);
        switch ((i + a) % 5) {
        case 0:
            fprintf(f, "%u.%u.%u.%u", 11 + i % 200, a, i % 256, 7 * a);
            break;
        case 1:
            fprintf(f, "2a0%x:%x::%x", a, i, i * 3 + a);
            break;
        case 2:
            label(f, 1 + (i + a) % 40, i);
            fputs(".Example.COM", f);
            break;
        case 3:
            fprintf(f, "%u.%u.%u.%u", i % 300, a, a, 1000 * (a & 1));
            break;
        default:
            fputs(i % 3 ? "::ffff:1.2.3.4" : "x_y.-bad..name", f);
            break;
        }
    }
    fprintf(f, "\t%u.0,%u.5\n", i, i * 3);
}

static void test_simd_zeek(void **state)
{
    (void)state;
    check_levels("#separator \\x09\n#set_separator\t,\n"
                 "#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
                 "#fields\tts\tuid\tid.orig_h\tquery\tanswers\tTTLs\n"
                 "#types\ttime\tstring\taddr\tstring\tvector[string]\t"
                 "vector[interval]\n",
                 zeek_dns_line, 600, CAIRN_TELEMETRY_AUTO);
}

/*
 * A Zeek line of 40 short count columns between the query and the
 * answers: a block of 64 bytes holds up to 32 separators, which the
 * AVX-512 loops store eight at a time.
 */
static void zeek_dense_line(FILE *f, unsigned i)
{
    fprintf(f, "1607904000.%06u\t", i);
    label(f, 1 + i % 30, i);
    fputs(".example.org", f);
    for (unsigned k = 0; k < 40; k++)
        fputs((i + k) % 3 == 0 ? "\t-" : (i * k) % 5 == 0 ? "\t12" : "\t0",
              f);
    fprintf(f, "\t%u.%u.0.1,", 11 + i % 200, i % 256);
    label(f, 1 + i % 9, i + 1);
    fputs(".example.net\n", f);
}

static void test_simd_zeek_dense(void **state)
{
    (void)state;
    char head[1024] = "#separator \\x09\n#set_separator\t,\n"
                      "#empty_field\t(empty)\n#unset_field\t-\n"
                      "#path\tdns\n#fields\tts\tquery";
    size_t n = strlen(head);
    for (unsigned k = 0; k < 40; k++)
        n += (size_t)snprintf(head + n, sizeof head - n, "\tc%u", k);
    n += (size_t)snprintf(head + n, sizeof head - n,
                          "\tanswers\n#types\ttime\tstring");
    for (unsigned k = 0; k < 40; k++)
        n += (size_t)snprintf(head + n, sizeof head - n, "\tcount");
    snprintf(head + n, sizeof head - n, "\tvector[string]\n");
    check_levels(head, zeek_dense_line, 300, CAIRN_TELEMETRY_AUTO);
}

/* ---- limits and errors --------------------------------------------------- */

struct count {
    int reported;
    unsigned lines[16];
    char rules[16][48];
    char file[256];
};

static void count_diag(const struct cairn_diag *d, void *ud)
{
    struct count *c = ud;
    if (c->reported < 16) {
        c->lines[c->reported] = d->line;
        snprintf(c->rules[c->reported], sizeof c->rules[0], "%s", d->rule);
    }
    snprintf(c->file, sizeof c->file, "%s", d->file);
    c->reported++;
}

static void test_long_line(void **state)
{
    (void)state;
    /* 3 MiB without a newline between two good lines, 64 KiB limit. */
    size_t big = 3u << 20;
    size_t len = big + 200;
    char *data = malloc(len);
    assert_non_null(data);
    int n = snprintf(data, len, "first 192.0.2.1\n");
    memset(data + n, 'a', big);
    size_t at = (size_t)n + big;
    int m = snprintf(data + at, len - at, "\nthird evil.example.com\n");
    at += (size_t)m;
    struct count c = {0};
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.max_line = 65536;
    opts.on_diag = count_diag;
    opts.diag_ud = &c;
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(
        cairn_telemetry_open_mem(data, at, "big.log", &opts, &r, &diag), 0);
    struct cairn_hunt_event ev;
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 1);
    assert_int_equal(ev.line, 1);
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 1);
    assert_int_equal(ev.line, 3);
    assert_int_equal(ev.offset, (uint64_t)n + big + 1);
    assert_int_equal(ev.n_fields, 1);
    assert_memory_equal(ev.fields[0].value, "evil.example.com", 16);
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 0);
    assert_int_equal(c.reported, 1);
    assert_int_equal(c.lines[0], 2);
    assert_string_equal(c.rules[0], "long-line");
    assert_string_equal(c.file, "big.log");
    struct cairn_telemetry_stats st;
    cairn_telemetry_get_stats(r, &st);
    assert_int_equal(st.lines, 3);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.bytes, at);
    cairn_telemetry_free(r);

    /* A long last line without a newline. */
    c.reported = 0;
    assert_int_equal(cairn_telemetry_open_mem(data, (size_t)n + big, "big.log",
                                              &opts, &r, &diag),
                     0);
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 1);
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 0);
    assert_int_equal(c.reported, 1);
    assert_int_equal(c.lines[0], 2);
    cairn_telemetry_free(r);
    free(data);
}

/* Lines straddle the 1 MiB read blocks; numbers and offsets stay right. */
static void test_many_blocks(void **state)
{
    (void)state;
    size_t cap = 5u << 20, len = 0;
    char *data = malloc(cap);
    assert_non_null(data);
    unsigned lines = 0;
    while (len + 64 < cap) {
        len += (size_t)snprintf(data + len, cap - len,
                                "Dec 14 10:00:00 h%u.example.org x\n", lines);
        lines++;
    }
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(
        cairn_telemetry_open_mem(data, len, "m.log", NULL, &r, &diag), 0);
    struct cairn_hunt_event ev;
    unsigned seen = 0;
    int rc;
    while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1) {
        char want[64];
        int wl = snprintf(want, sizeof want, "h%u.example.org", seen);
        assert_int_equal(ev.line, seen + 1);
        assert_int_equal(ev.n_fields, 1);
        assert_int_equal(ev.fields[0].len, (size_t)wl);
        assert_memory_equal(ev.fields[0].value, want, (size_t)wl);
        assert_memory_equal(data + ev.offset, "Dec 14", 6);
        assert_true(ev.has_ts);
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, lines);
    cairn_telemetry_free(r);
    free(data);
}

/*
 * cairn_telemetry_open_range: a part of a file, larger than the reader's
 * buffer, read with pread(): lines and offsets from the part's start, the
 * descriptor's own offset untouched, a part running past the end of the
 * file (truncated since) ends there.
 */
static void test_range(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char tpath[512];
    snprintf(tpath, sizeof tpath, "%s/cairn-test-range.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    int fd = mkstemp(tpath);
    assert_true(fd >= 0);
    unlink(tpath);
    size_t cap = 5u << 20, len = 0, from = 0;
    char *data = malloc(cap);
    assert_non_null(data);
    unsigned lines = 0, first = 1000;
    while (len + 64 < cap) {
        if (lines == first)
            from = len;
        len += (size_t)snprintf(data + len, cap - len,
                                "Dec 14 10:00:00 h%u.example.org x\n", lines);
        lines++;
    }
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    struct cairn_telemetry_opts o;
    cairn_telemetry_opts_init(&o);
    o.format = CAIRN_TELEMETRY_TEXT;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 1: the part claims 1 MB more than the file holds */
        uint64_t part = len - from + (pass ? 1000000 : 0);
        struct cairn_telemetry_reader *r;
        struct cairn_diag diag;
        assert_int_equal(cairn_telemetry_open_range(NULL, fd, from, part,
                                                    "f.log", &o, &r, &diag),
                         0);
        struct cairn_hunt_event ev;
        unsigned seen = 0;
        int rc;
        while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1) {
            char want[64];
            int wl = snprintf(want, sizeof want, "h%u.example.org",
                              first + seen);
            assert_int_equal(ev.line, seen + 1);
            assert_int_equal(ev.n_fields, 1);
            assert_int_equal(ev.fields[0].len, (size_t)wl);
            assert_memory_equal(ev.fields[0].value, want, (size_t)wl);
            assert_true(ev.offset < len - from);
            assert_memory_equal(data + from + ev.offset, "Dec 14 10:00:00 h",
                                17);
            seen++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(seen, lines - first);
        cairn_telemetry_free(r);
    }
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    /* a part is text wherever it starts, even at a gzip magic number */
    static const char gz[] =
        "x\n\x1f\x8b\x08 zz\nDec 14 10:00:00 a.example.org\n";
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, gz, sizeof gz - 1, 0), (ssize_t)sizeof gz - 1);
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_open_range(NULL, fd, 2, sizeof gz - 3,
                                                "g.log", &o, &r, &diag),
                     0);
    struct cairn_hunt_event ev;
    int rc, events = 0;
    while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1) {
        assert_int_equal(ev.line, 2);
        events++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(events, 1);
    cairn_telemetry_free(r);
    close(fd);
    free(data);
}

static void test_max_reported(void **state)
{
    (void)state;
    struct cairn_buf b;
    cairn_buf_init(&b, 1 << 20);
    for (int i = 0; i < 12; i++)
        cairn_buf_printf(&b, "{\"src_ip\": \"10.0.0.%d\", bad}\n", i);
    cairn_buf_puts(&b, "{\"src_ip\": \"10.0.0.99\"}\n");
    struct count c = {0};
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.on_diag = count_diag;
    opts.diag_ud = &c;
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(
        cairn_telemetry_open_mem(b.data, b.len, "x.jsonl", &opts, &r, &diag),
        0);
    assert_int_equal(cairn_telemetry_format_of(r), CAIRN_TELEMETRY_JSON);
    struct cairn_hunt_event ev;
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 1);
    assert_int_equal(ev.line, 13);
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 0);
    assert_int_equal(c.reported, CAIRN_TELEMETRY_MAX_REPORTED);
    for (int i = 0; i < CAIRN_TELEMETRY_MAX_REPORTED; i++)
        assert_int_equal(c.lines[i], (unsigned)i + 1);
    struct cairn_telemetry_stats st;
    cairn_telemetry_get_stats(r, &st);
    assert_int_equal(st.malformed, 12);
    cairn_telemetry_free(r);
    cairn_buf_release(&b);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct cairn_telemetry_reader *r = (void *)1;
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_open(DATA "/no-such.log", NULL, &r, &diag),
                     CAIRN_EIO);
    assert_null(r);
    assert_string_equal(diag.file, DATA "/no-such.log");
    assert_non_null(strstr(diag.message, "No such file"));
    assert_int_equal(cairn_telemetry_open(DATA, NULL, &r, &diag), CAIRN_EIO);
    assert_non_null(strstr(diag.message, "directory"));
    /* Binary files are refused unless a format is forced. */
    assert_int_equal(cairn_telemetry_open(DATA "/binary.bin", NULL, &r, &diag),
                     CAIRN_EUNSUPPORTED);
    assert_string_equal(diag.file, DATA "/binary.bin");
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.format = CAIRN_TELEMETRY_TEXT;
    assert_int_equal(cairn_telemetry_open(DATA "/binary.bin", &opts, &r, &diag),
                     0);
    struct cairn_hunt_event ev;
    while (cairn_telemetry_next(r, &ev, &diag) == 1)
        ;
    struct cairn_telemetry_stats st;
    cairn_telemetry_get_stats(r, &st);
    assert_true(st.malformed > 0);
    cairn_telemetry_free(r);
    cairn_telemetry_free(NULL);
}

/*
 * A text line is binary when more than a tenth of its first 64 bytes
 * are control bytes (tab, form feed, vertical tab and ESC are not), or
 * it holds a NUL: 6 of 64 pass, 7 do not, as do 1 of 9 and 1 of 10.
 */
static void test_binary_lines(void **state)
{
    (void)state;
    char text[4 * 80 + 64];
    size_t len = 0;
    static const struct {
        unsigned ctrl, size;
    } lines[] = {{6, 70}, {7, 70}, {7, 64}, {1, 10}, {1, 9}};
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        char *l = text + len;
        memset(l, 'a', lines[k].size);
        memcpy(l, "192.0.2.1 ", 10);
        for (unsigned c = 0; c < lines[k].ctrl; c++)
            l[(lines[k].size < 64 ? lines[k].size : 64) - 1 - c * 3] =
                c % 2 ? 0x7f : 0x01;
        /* tabs and ESC do not count */
        if (lines[k].size >= 64) {
            l[20] = '\t';
            l[21] = 0x1b;
            l[22] = '\f';
        }
        len += lines[k].size;
        text[len++] = '\n';
    }
    struct cairn_telemetry_opts opts;
    cairn_telemetry_opts_init(&opts);
    opts.format = CAIRN_TELEMETRY_TEXT;
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(
        cairn_telemetry_open_mem(text, len, "b.log", &opts, &r, &diag), 0);
    struct cairn_hunt_event ev;
    uint64_t got[8];
    size_t n = 0;
    while (cairn_telemetry_next(r, &ev, &diag) == 1 && n < 8)
        got[n++] = ev.line;
    assert_int_equal(n, 2);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 4);
    struct cairn_telemetry_stats st;
    cairn_telemetry_get_stats(r, &st);
    assert_int_equal(st.malformed, 3);
    cairn_telemetry_free(r);
}

static void test_stdin(void **state)
{
    (void)state;
    int saved = dup(STDIN_FILENO);
    int fd = open(DATA "/squid_access.log.gz", O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(cairn_telemetry_open("-", NULL, &r, &diag), 0);
    struct cairn_hunt_event ev;
    int events = 0, rc;
    while ((rc = cairn_telemetry_next(r, &ev, &diag)) == 1) {
        assert_string_equal(ev.file, "-");
        events++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(events, 4);
    struct cairn_telemetry_stats st;
    cairn_telemetry_get_stats(r, &st);
    assert_true(st.bytes_in < st.bytes); /* it was decompressed */
    cairn_telemetry_free(r);
    assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
    close(saved);
}

static void test_format_names(void **state)
{
    (void)state;
    static const char *const names[] = {"auto", "zeek", "json", "csv", "text"};
    for (int i = 0; i < 5; i++) {
        enum cairn_telemetry_format f;
        assert_int_equal(cairn_telemetry_format_parse(names[i], &f), 0);
        assert_int_equal(f, i);
        assert_string_equal(cairn_telemetry_format_name(f), names[i]);
    }
    enum cairn_telemetry_format f;
    assert_int_equal(cairn_telemetry_format_parse("xml", &f), CAIRN_EINVAL);
    assert_null(cairn_telemetry_format_name((enum cairn_telemetry_format)9));
}

/* A CSV header is recognised without the .csv name when it names fields. */
static void test_csv_sniff(void **state)
{
    (void)state;
    static const char csv[] = "time,src_ip,query\n"
                              "1607940000,10.0.0.1,evil.example.com\n";
    struct cairn_telemetry_reader *r;
    struct cairn_diag diag;
    assert_int_equal(
        cairn_telemetry_open_mem(csv, sizeof csv - 1, "-", NULL, &r, &diag), 0);
    assert_int_equal(cairn_telemetry_format_of(r), CAIRN_TELEMETRY_CSV);
    struct cairn_hunt_event ev;
    assert_int_equal(cairn_telemetry_next(r, &ev, &diag), 1);
    assert_int_equal(ev.n_fields, 2);
    assert_int_equal(ev.fields[1].type, CAIRN_IOC_DOMAIN);
    assert_true(ev.has_ts);
    assert_int_equal(ev.ts.sec, 1607940000);
    cairn_telemetry_free(r);
    /* Prose with commas is text. */
    static const char prose[] = "hello, world, from 192.0.2.7\n";
    assert_int_equal(
        cairn_telemetry_open_mem(prose, sizeof prose - 1, "-", NULL, &r, &diag),
        0);
    assert_int_equal(cairn_telemetry_format_of(r), CAIRN_TELEMETRY_TEXT);
    cairn_telemetry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_simd_zeek),
        cmocka_unit_test(test_simd_zeek_dense),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_many_blocks),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_max_reported),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_binary_lines),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test(test_csv_sniff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
