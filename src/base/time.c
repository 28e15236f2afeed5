/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 timestamps: parse, print, compare, now. */
#include <time.h>

#include "cairn/base.h"

#define SECS_PER_DAY 86400

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). Our own arithmetic, so neither the TZ variable nor the
 * C library's idea of time_t ranges can change a result.
 */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* `n` decimal digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, int n, unsigned *v)
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

static bool lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

int cairn_time_civil(int64_t year, unsigned month, unsigned day, unsigned hour,
                     unsigned min, unsigned sec, int64_t *out)
{
    if (month < 1 || month > 12 || day < 1 ||
        day > month_days((unsigned)year, month) || hour > 23 || min > 59 ||
        sec > 60)
        return CAIRN_EINVAL;
    *out = days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 +
           min * 60 + sec;
    return 0;
}

int cairn_time_parse(const char *s, size_t len, bool stix,
                     struct cairn_time *out)
{
    size_t i = 0;
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;

    if (s == NULL)
        return CAIRN_EINVAL;
    if (!digits(s, len, &i, 4, &y) || !lit(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &mo) || !lit(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &d))
        return CAIRN_EINVAL;
    if (i >= len || !(s[i] == 'T' || (!stix && s[i] == 't')))
        return CAIRN_EINVAL;
    i++;
    if (!digits(s, len, &i, 2, &h) || !lit(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &mi) || !lit(s, len, &i, ':') ||
        !digits(s, len, &i, 2, &se))
        return CAIRN_EINVAL;
    int64_t civil;
    if (cairn_time_civil(y, mo, d, h, mi, se, &civil) < 0)
        return CAIRN_EINVAL;

    int32_t nsec = 0;
    int ndig = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        /* Any number of digits is RFC 3339; we keep nanoseconds. */
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (ndig < 9) {
                nsec = nsec * 10 + (s[i] - '0');
                ndig++;
            }
            i++;
        }
        if (i == start)
            return CAIRN_EINVAL;
        for (int k = ndig; k < 9; k++)
            nsec *= 10;
    }

    int64_t offset = 0;
    if (i < len && (s[i] == 'Z' || (!stix && s[i] == 'z'))) {
        i++;
    } else if (!stix && i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        unsigned oh, om;
        i++;
        if (!digits(s, len, &i, 2, &oh) || !lit(s, len, &i, ':') ||
            !digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
            return CAIRN_EINVAL;
        offset = sign * (int64_t)(oh * 3600 + om * 60);
    } else {
        return CAIRN_EINVAL;
    }
    if (i != len)
        return CAIRN_EINVAL;

    out->sec = civil - offset;
    out->nsec = nsec;
    out->digits = (int8_t)ndig;
    return 0;
}

int cairn_time_format(const struct cairn_time *t, int digits_wanted, char *buf,
                      size_t len)
{
    int nd = digits_wanted < 0 ? t->digits : digits_wanted;
    if (nd < 0 || nd > 9 || t->nsec < 0 || t->nsec > 999999999)
        return CAIRN_EINVAL;

    int64_t days = t->sec / SECS_PER_DAY;
    int64_t rem = t->sec % SECS_PER_DAY;
    if (rem < 0) {
        rem += SECS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* The STIX form has exactly four year digits. */
    if (y < 0 || y > 9999)
        return CAIRN_EINVAL;

    size_t need = 20 + (nd > 0 ? (size_t)nd + 1 : 0) + 1;
    if (buf == NULL || len < need)
        return CAIRN_ETOOBIG;

    char *p = buf;
    static const char dig[] = "0123456789";
    unsigned vals[6] = {(unsigned)y,
                        m,
                        d,
                        (unsigned)(rem / 3600),
                        (unsigned)(rem / 60 % 60),
                        (unsigned)(rem % 60)};
    static const char seps[6] = {'-', '-', 'T', ':', ':', '\0'};
    for (int k = 0; k < 6; k++) {
        unsigned v = vals[k];
        if (k == 0) {
            *p++ = dig[v / 1000];
            *p++ = dig[v / 100 % 10];
        }
        *p++ = dig[v / 10 % 10];
        *p++ = dig[v % 10];
        if (seps[k] != '\0')
            *p++ = seps[k];
    }
    if (nd > 0) {
        /* Truncate, never round: rounding could carry into the seconds. */
        unsigned ns = (unsigned)t->nsec;
        char frac[9];
        for (int k = 8; k >= 0; k--) {
            frac[k] = dig[ns % 10];
            ns /= 10;
        }
        *p++ = '.';
        for (int k = 0; k < nd; k++)
            *p++ = frac[k];
    }
    *p++ = 'Z';
    *p = '\0';
    return (int)(p - buf);
}

int cairn_time_cmp(const struct cairn_time *a, const struct cairn_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

struct cairn_time cairn_time_now(int digits_wanted)
{
    struct cairn_time t = {0, 0, 0};
    struct timespec ts;

    if (digits_wanted < 0)
        digits_wanted = 0;
    if (digits_wanted > 9)
        digits_wanted = 9;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return t;
    /* Drop what will not be printed, so now() equals its own round trip. */
    int32_t unit = 1;
    for (int k = digits_wanted; k < 9; k++)
        unit *= 10;
    t.sec = (int64_t)ts.tv_sec;
    t.nsec = (int32_t)(ts.tv_nsec - ts.tv_nsec % unit);
    t.digits = (int8_t)digits_wanted;
    return t;
}
