/* value.c — value constructors of the public API and date/time/decimal text conversions.
 * Calendar arithmetic follows Howard Hinnant's days_from_civil (proleptic Gregorian). */
#include "value.h"
#include <stdio.h>
#include <string.h>

rhei_value rhei_null(void) { rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0}; return v; }
rhei_value rhei_int(int64_t x) { rhei_value v = {RHEI_TYPE_INTEGER, x, 0, NULL, 0}; return v; }
rhei_value rhei_real(double x) { rhei_value v = {RHEI_TYPE_REAL, 0, x, NULL, 0}; return v; }

rhei_value rhei_text(const char *s)
{
    rhei_value v = {RHEI_TYPE_TEXT, 0, 0, s, s ? strlen(s) : 0};
    if (!s)
        v.type = RHEI_TYPE_NULL;
    return v;
}

rhei_value rhei_blob(const void *p, size_t n)
{
    rhei_value v = {RHEI_TYPE_BLOB, 0, 0, (const char *)p, n};
    return v;
}

const char *rhei_type_name(rhei_type t)
{
    static const char *const names[] = {"NULL", "INTEGER", "REAL", "TEXT", "BLOB",
                                        "BOOLEAN", "DECIMAL", "DATE", "TIMESTAMP"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "UNKNOWN";
}

int64_t rhei__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads exactly `digits` decimal digits at s[*i]. */
static int take(const char *s, size_t n, size_t *i, int digits, int *out)
{
    int v = 0;
    for (int k = 0; k < digits; k++, (*i)++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static int parse_ymd(const char *s, size_t n, size_t *i, int64_t *days)
{
    int y, m, d;
    if (take(s, n, i, 4, &y) || *i >= n || s[(*i)++] != '-' || take(s, n, i, 2, &m) ||
        *i >= n || s[(*i)++] != '-' || take(s, n, i, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    *days = rhei__days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int rhei__parse_date(const char *s, size_t n, int32_t *out_days)
{
    size_t i = 0;
    int64_t days;
    if (parse_ymd(s, n, &i, &days) || i != n)
        return -1;
    *out_days = (int32_t)days;
    return 0;
}

static int is_blank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

int rhei__parse_timestamp(const char *s, size_t n, int64_t *out_us)
{
    size_t i = 0;
    int64_t days;
    int hh = 0, mi = 0, ss = 0;
    int64_t frac = 0;
    if (parse_ymd(s, n, &i, &days))
        return -1;
    int timed = 0;
    if (i < n && (s[i] == ' ' || s[i] == 'T')) {
        i++;
        timed = 1;
        if (take(s, n, &i, 2, &hh) || i >= n || s[i++] != ':' || take(s, n, &i, 2, &mi))
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (take(s, n, &i, 2, &ss))
                return -1;
            if (i < n && s[i] == '.') {
                int digits = 0;
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
                    if (digits < 6)
                        frac = frac * 10 + (s[i] - '0');
                if (digits == 0)
                    return -1;
                for (; digits < 6; digits++)
                    frac *= 10;
            }
        }
    }
    /* 24:MM is the next day, as SQLite's date functions read it. */
    if (hh > 24 || mi > 59 || ss > 60)
        return -1;
    int64_t offset_s = 0;
    if (timed) /* SQLite allows blanks between a time and its zone, and after both */
        while (i < n && is_blank(s[i]))
            i++;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i++] == '-' ? -1 : 1, oh = 0, om = 0;
        if (take(s, n, &i, 2, &oh))
            return -1;
        if (i < n && s[i] == ':')
            i++;
        if (i < n && s[i] >= '0' && s[i] <= '9' && take(s, n, &i, 2, &om))
            return -1;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    while (i < n && is_blank(s[i]))
        i++;
    if (i != n)
        return -1;
    *out_us = ((days * 86400 + hh * 3600 + mi * 60 + ss) - offset_s) * 1000000 + frac;
    return 0;
}

void rhei__format_date(int32_t days, char *buf, size_t size)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
}

void rhei__format_timestamp(int64_t us, char *buf, size_t size)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, size, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60));
    if (frac && n > 0 && (size_t)n < size) {
        int digits = 6; /* trailing zeros dropped, as DuckDB prints them */
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(buf + n, size - (size_t)n, ".%0*lld", digits, (long long)frac);
    }
}

int rhei__decimal_parse(const char *s, size_t n, int scale, __int128 *out)
{
    size_t i = 0;
    int neg = 0, seen = 0, fdigits = 0, round_up = 0;
    __int128 v = 0;
    const __int128 lim = (((__int128)1) << 125);
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, seen = 1) {
        if (v > lim / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, seen = 1) {
            if (fdigits < scale) {
                if (v > lim / 10)
                    return -1;
                v = v * 10 + (s[i] - '0');
                fdigits++;
            } else if (fdigits == scale) {
                round_up = s[i] >= '5';
                fdigits++;
            }
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E'))
        return -1; /* exponent forms go through the REAL path */
    while (i < n && s[i] == ' ')
        i++;
    if (!seen || i != n)
        return -1;
    for (int k = fdigits > scale ? scale : fdigits; k < scale; k++) {
        if (v > lim / 10)
            return -1;
        v *= 10;
    }
    v += round_up;
    *out = neg ? -v : v;
    return 0;
}

void rhei__decimal_format(__int128 v, int scale, char *buf, size_t size)
{
    char tmp[64];
    int k = 0, neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        tmp[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && k < 60);
    while (k <= scale)
        tmp[k++] = '0';
    size_t o = 0;
    if (neg && o + 1 < size)
        buf[o++] = '-';
    for (int j = k - 1; j >= 0 && o + 1 < size; j--) {
        buf[o++] = tmp[j];
        if (j == scale && scale > 0 && o + 1 < size)
            buf[o++] = '.';
    }
    buf[o] = '\0';
}

int rhei__utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3
                   : (s[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        uint32_t cp = s[i] & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values past U+10FFFF are invalid */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}
