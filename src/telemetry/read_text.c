/* SPDX-License-Identifier: Apache-2.0 */
/* Plain-text lines (syslog, proxy, web server logs) and their timestamps. */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "telemetry/telemetry_int.h"

static bool num(const char *s, size_t len, size_t *i, int n, unsigned *v)
{
    if (len - *i < (size_t)n)
        return false;
    unsigned x = 0;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (unsigned)(c - '0');
    }
    *i += (size_t)n;
    *v = x;
    return true;
}

static bool ch(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static inline bool all_digits(const char *s, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok &= (unsigned)(s[i] - '0') <= 9;
    return ok;
}

/* ".123" after seconds: nanoseconds and digits; none is fine. */
static void fraction(const char *s, size_t len, size_t *i, struct cairn_time *t)
{
    if (*i + 1 >= len || s[*i] != '.' || s[*i + 1] < '0' || s[*i + 1] > '9')
        return;
    (*i)++;
    int32_t ns = 0;
    int digits = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (digits < 9) {
            ns = ns * 10 + (s[*i] - '0');
            digits++;
        }
        (*i)++;
    }
    for (int k = digits; k < 9; k++)
        ns *= 10;
    t->nsec = ns;
    t->digits = (int8_t)digits;
}

static bool make_time(unsigned y, unsigned mo, unsigned d, unsigned h,
                      unsigned mi, unsigned se, struct cairn_time *t)
{
    return cairn_time_civil(y, mo, d, h, mi, se, &t->sec) == 0;
}

/* A zone: "Z", "+hh:mm", "+hhmm", "-hh"; none means UTC. */
static bool zone(const char *s, size_t len, size_t *i, int64_t *offset)
{
    *offset = 0;
    if (*i >= len)
        return true;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        return true;
    }
    if (s[*i] != '+' && s[*i] != '-')
        return true;
    int sign = s[*i] == '-' ? -1 : 1;
    size_t j = *i + 1;
    unsigned hh, mm = 0;
    if (!num(s, len, &j, 2, &hh))
        return false;
    ch(s, len, &j, ':');
    num(s, len, &j, 2, &mm);
    if (hh > 23 || mm > 59)
        return false;
    *offset = sign * (int64_t)(hh * 3600 + mm * 60);
    *i = j;
    return true;
}

/* "YYYY-MM-DD[T ]HH:MM:SS[.f][zone]" at s; its length in *used. */
static bool iso_prefix(const char *s, size_t len, struct cairn_time *out,
                       size_t *used)
{
    size_t i = 0;
    unsigned y, mo, d, h, mi, se;
    struct cairn_time t = {0, 0, 0};
    int64_t off;
    if (!num(s, len, &i, 4, &y) || !ch(s, len, &i, '-') ||
        !num(s, len, &i, 2, &mo) || !ch(s, len, &i, '-') ||
        !num(s, len, &i, 2, &d))
        return false;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return false;
    i++;
    if (!num(s, len, &i, 2, &h) || !ch(s, len, &i, ':') ||
        !num(s, len, &i, 2, &mi) || !ch(s, len, &i, ':') ||
        !num(s, len, &i, 2, &se))
        return false;
    fraction(s, len, &i, &t);
    if (!zone(s, len, &i, &off) || !make_time(y, mo, d, h, mi, se, &t))
        return false;
    t.sec -= off;
    *out = t;
    *used = i;
    return true;
}

bool cairn__tele_parse_iso(const char *s, size_t len, struct cairn_time *out)
{
    size_t used;
    struct cairn_time t;
    if (!iso_prefix(s, len, &t, &used) || used != len)
        return false;
    *out = t;
    return true;
}

/* Epoch seconds with an optional fraction; the whole of s. */
bool cairn__tele_parse_epoch(const char *s, size_t len, struct cairn_time *out)
{
    size_t i = 0;
    int64_t sec = 0;
    while (i < len && i < 12 && s[i] >= '0' && s[i] <= '9')
        sec = sec * 10 + (s[i++] - '0');
    if (i == 0)
        return false;
    struct cairn_time t = {sec, 0, 0};
    fraction(s, len, &i, &t);
    if (i != len)
        return false;
    *out = t;
    return true;
}

static int month_of(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int m = 0; m < 12; m++)
        if (memcmp(s, names + 3 * m, 3) == 0)
            return m + 1;
    return 0;
}

/* "Nov 27 10:00:00" or "Nov  7 10:00:00" (BSD syslog, no year). */
static bool syslog_ts(const char *s, size_t len, int year,
                      struct cairn_time *out)
{
    if (len < 15 || s[3] != ' ')
        return false;
    int mo = month_of(s);
    if (mo == 0)
        return false;
    size_t i = 4;
    unsigned d, h, mi, se;
    if (s[4] == ' ') {
        i = 5;
        if (!num(s, len, &i, 1, &d))
            return false;
    } else if (!num(s, len, &i, 2, &d)) {
        return false;
    }
    if (!ch(s, len, &i, ' ') || !num(s, len, &i, 2, &h) ||
        !ch(s, len, &i, ':') || !num(s, len, &i, 2, &mi) ||
        !ch(s, len, &i, ':') || !num(s, len, &i, 2, &se))
        return false;
    struct cairn_time t = {0, 0, 0};
    fraction(s, len, &i, &t);
    if (!make_time((unsigned)year, (unsigned)mo, d, h, mi, se, &t))
        return false;
    *out = t;
    return true;
}

/* Common log format: "[10/Oct/2000:13:55:36 -0700]". */
static bool clf_ts(const char *s, size_t len, struct cairn_time *out)
{
    size_t i = 0;
    unsigned d, y, h, mi, se;
    if (!ch(s, len, &i, '[') || !num(s, len, &i, 2, &d) ||
        !ch(s, len, &i, '/') || len - i < 4)
        return false;
    int mo = month_of(s + i);
    i += 3;
    if (mo == 0 || !ch(s, len, &i, '/') || !num(s, len, &i, 4, &y) ||
        !ch(s, len, &i, ':') || !num(s, len, &i, 2, &h) ||
        !ch(s, len, &i, ':') || !num(s, len, &i, 2, &mi) ||
        !ch(s, len, &i, ':') || !num(s, len, &i, 2, &se))
        return false;
    struct cairn_time t = {0, 0, 0};
    int64_t off = 0;
    if (ch(s, len, &i, ' ') && !zone(s, len, &i, &off))
        return false;
    if (!ch(s, len, &i, ']') || !make_time(y, (unsigned)mo, d, h, mi, se, &t))
        return false;
    t.sec -= off;
    *out = t;
    return true;
}

bool cairn__tele_parse_line_ts(const char *s, size_t len, int year,
                        struct cairn_time *out)
{
    size_t i = 0;
    /* RFC 5424 and many daemons put "<PRI>" (and a version) first. */
    if (len > 0 && s[0] == '<') {
        i = 1;
        while (i < len && i < 5 && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i >= len || s[i] != '>')
            i = 0;
        else if (++i + 1 < len && s[i] == '1' && s[i + 1] == ' ')
            i += 2;
    }
    const char *p = s + i;
    size_t n = len - i;
    if (n >= 19 && p[4] == '-') {
        size_t used;
        if (iso_prefix(p, n, out, &used))
            return true;
    }
    uint32_t eight;
    if (n >= 15 && p[10] == '.' && (p[14] == ' ' || p[14] == '\t') &&
        p[0] != '0' && digits8(p, &eight) && all_digits(p + 8, 2) &&
        all_digits(p + 11, 3)) {
        /* squid's own "1606780800.123 ", as below without the loops */
        out->sec = (int64_t)eight * 100 + (p[8] - '0') * 10 + (p[9] - '0');
        out->nsec = (int32_t)(((p[11] - '0') * 100 + (p[12] - '0') * 10 +
                               (p[13] - '0')) *
                              1000000);
        out->digits = 3;
        return true;
    }
    if (n >= 10 && p[0] >= '1' && p[0] <= '9') {
        /* squid: "1606780800.123 ..." */
        size_t e = 0;
        while (e < n && e < 24 && p[e] != ' ' && p[e] != '\t')
            e++;
        if (e >= 10 && cairn__tele_parse_epoch(p, e, out))
            return true;
    }
    if (syslog_ts(p, n, year, out))
        return true;
    const char *b = memchr(p, '[', n < 128 ? n : 128);
    return b != NULL && clf_ts(b, n - (size_t)(b - p), out);
}

int cairn__tele_text_line(struct cairn_telemetry_reader *r, char *line, size_t len)
{
    /* Binary junk: a NUL anywhere, or control bytes up front. */
    size_t head = len < 64 ? len : 64, ctrl = 0;
#if defined(__SSE2__)
    if (head == 64) {
        for (size_t i = 0; i < 64; i += 16) {
            __m128i x =
                _mm_loadu_si128((const __m128i *)(const void *)(line + i));
            /* below 0x20 (signed: 0x80 and up are not), less \t \v \f */
            __m128i c = _mm_andnot_si128(
                _mm_cmplt_epi8(x, _mm_setzero_si128()),
                _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
            __m128i ok = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8('\f'))),
                _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\v')),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8(0x1b))));
            c = _mm_or_si128(_mm_andnot_si128(ok, c),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
            /* no popcount instruction without -mpopcnt: the bits of a
             * short mask, a library call saved */
            unsigned m = (unsigned)_mm_movemask_epi8(c);
            while (m != 0) {
                ctrl++;
                m &= m - 1;
            }
        }
        head = 0; /* counted */
    }
#endif
    for (size_t i = 0; i < head; i++) {
        unsigned char c = (unsigned char)line[i];
        ctrl +=
            (c < 0x20 && c != '\t' && c != '\f' && c != '\v' && c != 0x1b) ||
            c == 0x7f;
    }
    head = len < 64 ? len : 64;
    if (ctrl * 10 > head || memchr(line, '\0', len) != NULL) {
        cairn__tele_malformed(r, r->lineno, "binary-line",
                       "binary data, not a line of text");
        return CAIRN_EPARSE;
    }
    r->has_ts = cairn__tele_parse_line_ts(line, len, r->year, &r->ts);
    return cairn__tele_add_extracted_words(r, line, len, NULL);
}
