/* buf.h — the one bounded string builder. Every buffer has a ceiling (max); appending past
 * it fails with RHEI_RANGE instead of growing without bound. */
#ifndef RHEI_CORE_BUF_H
#define RHEI_CORE_BUF_H
#include "err.h"
#include <stddef.h>

#define RHEI__BUF_DEFAULT_MAX (64u * 1024u * 1024u)

typedef struct rhei__buf {
    char *p;     /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t max;  /* ceiling on len; 0 means RHEI__BUF_DEFAULT_MAX */
    int failed;  /* sticky: first failure code, later appends are no-ops */
} rhei__buf;

#define RHEI__BUF_INIT {NULL, 0, 0, 0, 0}

void rhei__buf_free(rhei__buf *b);
void rhei__buf_reset(rhei__buf *b);
int rhei__buf_append(rhei__buf *b, const char *s, size_t n);
int rhei__buf_puts(rhei__buf *b, const char *s);
int rhei__buf_printf(rhei__buf *b, const char *fmt, ...) RHEI__PRINTF(2, 3);
/* Appends an SQL identifier in double quotes, doubling embedded quotes (DuckDB, PostgreSQL). */
int rhei__buf_ident(rhei__buf *b, const char *ident);
/* Appends an identifier for SQLite in backticks, doubling embedded backticks. SQLite reads a
 * double-quoted name that matches no column as a string literal (its "DQS" compatibility
 * rule, on by default and set per connection, so other processes firing rhei's triggers may
 * have it on); a backticked name is always a name: a missing column is an error. */
int rhei__buf_sqlite_ident(rhei__buf *b, const char *ident);
/* Appends an SQL string literal in single quotes, doubling embedded quotes. */
int rhei__buf_literal(rhei__buf *b, const char *s);
/* Returns the content ("" if empty); valid until the next append. */
const char *rhei__buf_str(rhei__buf *b);
/* Turns a sticky failure into an error record; RHEI_OK if none. */
int rhei__buf_check(const rhei__buf *b, rhei__err *e);
#endif
