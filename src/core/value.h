/* value.h — conversions between the text forms SQLite stores (ISO-8601 dates and
 * timestamps, decimal text) and the fixed forms the OLAP side and Arrow use. */
#ifndef RHEI_CORE_VALUE_H
#define RHEI_CORE_VALUE_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DD" -> days since 1970-01-01. 0 on success, -1 if malformed. */
int rhei__parse_date(const char *s, size_t n, int32_t *out_days);
/* "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|+hh[:mm]|-hh[:mm]]" or a date alone -> microseconds
 * since the epoch, UTC (a zone-less text is taken as UTC). 0 on success, -1 if malformed. */
int rhei__parse_timestamp(const char *s, size_t n, int64_t *out_us);
/* Writes "YYYY-MM-DD"; buf needs 16 bytes. */
void rhei__format_date(int32_t days, char *buf, size_t size);
/* Writes "YYYY-MM-DD HH:MM:SS[.f...]" (fraction without trailing zeros); 40 bytes. */
void rhei__format_timestamp(int64_t us, char *buf, size_t size);
/* days from civil date (proleptic Gregorian). */
int64_t rhei__days_from_civil(int64_t y, unsigned m, unsigned d);
/* Decimal text -> scaled integer at the given scale (rounding half away from zero).
 * 0 on success, -1 if malformed or out of 128-bit range. */
int rhei__decimal_parse(const char *s, size_t n, int scale, __int128 *out);
/* Scaled integer -> decimal text; buf needs 48 bytes. */
void rhei__decimal_format(__int128 v, int scale, char *buf, size_t size);
/* 1 if the n bytes are well-formed UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF), as DuckDB requires of VARCHAR. */
int rhei__utf8_valid(const char *s, size_t n);
#endif
