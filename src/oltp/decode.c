/* decode.c — a SQLite value in the canonical form of its column's type (the contract of
 * batch.h), shared by everything that reads SQLite rows for OLAP: the change capture's reader
 * (src/cdc) and the sidecar's SQLite source. A value that does not fit its column is
 * RHEI_TYPE, never a silent NULL. */
#include "oltp.h"
#include "value.h"
#include <sqlite3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int copy_bytes(rhei__batch *b, rhei_value *v, rhei_type t, const void *p, int n)
{
    v->type = t;
    v->n = (size_t)n;
    v->s = rhei__batch_copy(b, p ? p : "", (size_t)n);
    return v->s ? RHEI_OK : RHEI_NOMEM;
}

static int is_int_text(const char *s, int64_t *out)
{
    char *end = NULL;
    if (!*s)
        return 0;
    long long x = strtoll(s, &end, 10);
    if (*end)
        return 0;
    *out = x;
    return 1;
}

#define TS_MIN_S (-62167219200LL) /* 0000-01-01 00:00:00 */
#define TS_MAX_S 253402300799LL   /* 9999-12-31 23:59:59 */

static int decode_bool(sqlite3_stmt *st, int i, int st_type, rhei_value *v)
{
    v->type = RHEI_TYPE_BOOLEAN;
    if (st_type == SQLITE_INTEGER || st_type == SQLITE_FLOAT) {
        v->i = sqlite3_column_double(st, i) != 0;
        return RHEI_OK;
    }
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (st_type == SQLITE_TEXT && s) {
        if (!strcasecmp(s, "true") || !strcasecmp(s, "t") || !strcmp(s, "1"))
            return v->i = 1, RHEI_OK;
        if (!strcasecmp(s, "false") || !strcasecmp(s, "f") || !strcmp(s, "0"))
            return v->i = 0, RHEI_OK;
    }
    return RHEI_TYPE;
}

static int decode_time(sqlite3_stmt *st, int i, int st_type, const rhei__colspec *col,
                       rhei_value *v)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    int64_t us;
    v->type = col->type;
    if (st_type == SQLITE_INTEGER || st_type == SQLITE_FLOAT) {
        if (col->type == RHEI_TYPE_DATE)
            return RHEI_TYPE; /* a bare number is no date: days? julian? refuse to guess */
        /* Unix seconds, within the years 0000-9999 the capture triggers allow (older
         * triggers did not check: the range also keeps the product inside an int64). */
        if (st_type == SQLITE_INTEGER) {
            int64_t secs = sqlite3_column_int64(st, i);
            if (secs < TS_MIN_S || secs > TS_MAX_S)
                return RHEI_TYPE;
            v->i = secs * 1000000;
        } else {
            double d = sqlite3_column_double(st, i);
            if (!(d >= (double)TS_MIN_S && d <= (double)TS_MAX_S))
                return RHEI_TYPE;
            v->i = (int64_t)llround(d * 1e6);
        }
        return RHEI_OK;
    }
    if (st_type != SQLITE_TEXT || rhei__parse_timestamp(s, n, &us) != 0)
        return RHEI_TYPE;
    if (col->type == RHEI_TYPE_DATE) {
        int64_t days = us / 86400000000LL - (us % 86400000000LL < 0);
        v->i = days;
    } else {
        v->i = us;
    }
    return RHEI_OK;
}

int rhei__oltp_decode(sqlite3_stmt *st, int i, const rhei__colspec *col, rhei__batch *b,
                      rhei_value *v)
{
    int t = sqlite3_column_type(st, i);
    int64_t x;
    if (t == SQLITE_NULL) {
        v->type = RHEI_TYPE_NULL;
        return RHEI_OK;
    }
    switch (col->type) {
    case RHEI_TYPE_INTEGER:
        v->type = RHEI_TYPE_INTEGER;
        if (t == SQLITE_INTEGER)
            return v->i = sqlite3_column_int64(st, i), RHEI_OK;
        if (t == SQLITE_FLOAT) {
            double d = sqlite3_column_double(st, i);
            if (d == floor(d) && fabs(d) < 9.2e18)
                return v->i = (int64_t)d, RHEI_OK;
        } else if (t == SQLITE_TEXT && is_int_text((const char *)sqlite3_column_text(st, i), &x)) {
            return v->i = x, RHEI_OK;
        }
        return RHEI_TYPE;
    case RHEI_TYPE_REAL:
        if (t == SQLITE_BLOB)
            return RHEI_TYPE;
        v->type = RHEI_TYPE_REAL;
        if (t == SQLITE_TEXT) {
            char *end = NULL;
            const char *s = (const char *)sqlite3_column_text(st, i);
            v->f = strtod(s, &end);
            return *s && !*end ? RHEI_OK : RHEI_TYPE;
        }
        return v->f = sqlite3_column_double(st, i), RHEI_OK;
    case RHEI_TYPE_BOOLEAN:
        return decode_bool(st, i, t, v);
    case RHEI_TYPE_DECIMAL:
        if (t == SQLITE_INTEGER)
            return v->type = RHEI_TYPE_INTEGER, v->i = sqlite3_column_int64(st, i), RHEI_OK;
        if (t == SQLITE_FLOAT)
            return v->type = RHEI_TYPE_REAL, v->f = sqlite3_column_double(st, i), RHEI_OK;
        if (t == SQLITE_TEXT) {
            __int128 d;
            const char *s = (const char *)sqlite3_column_text(st, i);
            int n = sqlite3_column_bytes(st, i);
            if (rhei__decimal_parse(s, (size_t)n, col->scale, &d) != 0)
                return RHEI_TYPE;
            return copy_bytes(b, v, RHEI_TYPE_DECIMAL, s, n);
        }
        return RHEI_TYPE;
    case RHEI_TYPE_DATE:
    case RHEI_TYPE_TIMESTAMP:
        return decode_time(st, i, t, col, v);
    case RHEI_TYPE_BLOB:
        if (t == SQLITE_BLOB)
            return copy_bytes(b, v, RHEI_TYPE_BLOB, sqlite3_column_blob(st, i),
                              sqlite3_column_bytes(st, i));
        return copy_bytes(b, v, RHEI_TYPE_BLOB, sqlite3_column_text(st, i),
                          sqlite3_column_bytes(st, i));
    default: /* TEXT: numbers keep SQLite's text form */
        return copy_bytes(b, v, RHEI_TYPE_TEXT, sqlite3_column_text(st, i),
                          sqlite3_column_bytes(st, i));
    }
}
