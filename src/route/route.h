/* route.h — the router: decides whether SQLite (OLTP) or DuckDB (OLAP) serves a statement, and
 * says why, from a hand-written tokenizer and token rules (no SQL parser). Stateless and
 * allocation-free, so safe on any thread concurrently. Rules and their precedence: README.md. */
#ifndef RHEI_ROUTE_H
#define RHEI_ROUTE_H
#include "rhei.h"
#include <stddef.h>
#include <stdint.h>

/* Bounds of the analysis (fixed arrays on the stack). A read statement past any of them routes
 * to OLTP with reason "too complex": SQLite can serve every read, DuckDB only replicated ones. */
#define RHEI__ROUTE_MAX_DEPTH 64  /* nested parentheses */
#define RHEI__ROUTE_MAX_TABLES 32 /* distinct tables named in one statement */
#define RHEI__ROUTE_MAX_CTES 32   /* CTE names defined in one statement */
#define RHEI__ROUTE_MAX_NAME 128  /* bytes of one table or CTE name after unquoting, with NUL */

/* Returns nonzero if table is replicated to OLAP. table points to len bytes (unquoted, schema
 * prefix removed, case as written) followed by a NUL; it is borrowed for the call. SQL names
 * are case-insensitive, so the callback should compare them that way. Called on the caller's
 * thread during rhei__route_classify, for the first statement only, at most once per distinct
 * table in each of the two readings of the text (SQLite's and DuckDB's tokenization). */
typedef int (*rhei__route_table_fn)(void *ud, const char *table, size_t len);

/* Returns nonzero if SQLite can compile the text being classified. Called at most once, only
 * when a read of replicated tables would stay on SQLite for a semantic reason ("sqlite
 * semantics: ..."): text SQLite cannot compile is DuckDB's dialect, which only DuckDB answers
 * (reason "duckdb dialect"). */
typedef int (*rhei__route_compiles_fn)(void *ud);

/* Rows SQLite would read in full for the text (tables its plan scans without an index).
 * Called at most once, only for a read the speed rules would keep on SQLite as a filter
 * ("point lookup", "simple filter"): past RHEI__ROUTE_SCAN_ROWS DuckDB's scan is faster and
 * the read goes there (reason "unindexed filter on a large table"). */
typedef int64_t (*rhei__route_scan_fn)(void *ud);
#define RHEI__ROUTE_SCAN_ROWS 50000

typedef struct rhei__route_ctx {
    rhei__route_table_fn is_replicated; /* NULL: no table is replicated */
    void *ud;
    rhei__route_compiles_fn sqlite_compiles; /* NULL: SQLite compiles everything */
    rhei__route_scan_fn scan_rows;           /* NULL: no costs known, filters stay */
} rhei__route_ctx;

/* Classifies the SQL text (one or more statements). Always fills out: side is RHEI_SIDE_OLTP
 * or RHEI_SIDE_OLAP (never AUTO), reason a static string, table the deciding table or "" (a
 * longer name is cut to 63 bytes, before a character if it is UTF-8). sql may be NULL (reason
 * "empty"); ctx may be NULL (nothing is replicated). Reasons:
 *   OLTP: "empty", "write", "ddl", "transaction control", "pragma", "maintenance", "attach",
 *         "command", "unknown statement", "multiple statements", "too complex",
 *         "explain query plan", "table not replicated", "sqlite function", "no table",
 *         "sqlite syntax", "point lookup", "simple filter", "limited scan", and
 *         "sqlite semantics: <what differs>" (README.md, Same answer on either side)
 *   OLAP: "duckdb dialect", "olap function", "aggregate", "group by", "having", "window function", "distinct",
 *         "join", "subquery", "cte", "set operation", "full scan sort", "full scan" */
void rhei__route_classify(const char *sql, const rhei__route_ctx *ctx, rhei_route_info *out);
/* The same for len bytes that need not be NUL-terminated (a NUL byte is ordinary input). */
void rhei__route_classify_n(const char *sql, size_t len, const rhei__route_ctx *ctx,
                            rhei_route_info *out);

/* 1 if any statement in sql writes, is DDL or transaction control, or is not recognised as a
 * read, as either SQLite or DuckDB would tokenize the text: it must go to SQLite through
 * rhei_execute, never to OLAP. 0 for reads and empty text. Exact regardless of the bounds
 * above (it needs none). */
int rhei__route_is_write(const char *sql);
int rhei__route_is_write_n(const char *sql, size_t len);
#endif
