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

/* Where a table lives, as the engine knows it (the table callback's answer). */
enum {
    RHEI__ROUTE_TABLE_LOCAL = 0,      /* only SQLite has it (not replicated) */
    RHEI__ROUTE_TABLE_REPLICATED = 1, /* both sides have it */
    RHEI__ROUTE_TABLE_OLAP_ONLY = 2,  /* only OLAP has it: SCD2 history storage, a sidecar's */
    RHEI__ROUTE_TABLE_BEHIND = 3      /* replicated, but its OLAP copy failed or was detached */
};

/* Returns where table lives: RHEI__ROUTE_TABLE_* (any other nonzero value: replicated). table
 * points to len bytes (unquoted, schema prefix removed, case as written) followed by a NUL; it
 * is borrowed for the call. SQL names are case-insensitive, so the callback should compare
 * them that way. Called on the caller's thread during rhei__route_classify, for the first
 * statement only, at most once per distinct table in each of the two readings of the text
 * (SQLite's and DuckDB's tokenization), and only until a LOCAL table decides. */
typedef int (*rhei__route_table_fn)(void *ud, const char *table, size_t len);

/* Returns nonzero if SQLite can compile the text being classified. Called at most once, only
 * when a read of replicated tables would stay on SQLite for a semantic reason ("sqlite
 * semantics: ..."): text SQLite cannot compile is DuckDB's dialect, which only DuckDB answers
 * (reason "duckdb dialect"). */
typedef int (*rhei__route_compiles_fn)(void *ud);

/* What SQLite's plan for the text says (one EXPLAIN QUERY PLAN), asked at most once per
 * classification, for a read both sides may serve; 0 with *out filled, -1 when SQLite has no
 * plan for it (no cost rule applies then).
 *  - scan_rows: rows SQLite would read in full (tables its plan scans without an index, each
 *    counted at least 1). A filter the speed rules would keep on SQLite ("point lookup",
 *    "simple filter") goes to DuckDB past RHEI__ROUTE_SCAN_ROWS (reason "unindexed filter on
 *    a large table"): DuckDB's scan is faster. A read they would send to DuckDB (aggregate,
 *    join, sort, ...) whose plan scans nothing (0: every table is reached through an index)
 *    goes to SQLite with reason "index serves it": the engine runs it there within
 *    RHEI__ROUTE_PROBE_US and moves it to DuckDB if the range proves too wide
 *    (rhei__route_over_budget).
 *  - sorts: 1 if a temporary B-tree sorts (ORDER BY, GROUP BY or DISTINCT no index serves).
 *    A "full scan sort" read with LIMIT that does not sort reads rows in ORDER BY's order
 *    (an index or the rowid gives it) and stops after LIMIT (+ OFFSET) rows: index-served
 *    (reason "index serves it", the same budget).
 *  - distinct_indexed: 1 if every table it scans is read through a covering index and it
 *    dedups without a temporary B-tree. A DISTINCT read (SELECT DISTINCT, count(DISTINCT x))
 *    that scans then steps from key to key of the index (its cost follows the distinct
 *    values, not the rows), where DuckDB hashes every row: count(DISTINCT customer) of 10M
 *    rows took 33 ms there against 121 ms. It goes to SQLite (reason "index serves
 *    DISTINCT") within a budget as the index-served reads'. */
typedef struct rhei__route_plan {
    int64_t scan_rows;
    int sorts;
    int distinct_indexed;
} rhei__route_plan;
typedef int (*rhei__route_plan_fn)(void *ud, rhei__route_plan *out);
#define RHEI__ROUTE_SCAN_ROWS 50000
/* SQLite's time budget for an index-served read: above it DuckDB's scan of the same tables
 * is the faster side even on small ones (its fixed cost is ~1 ms), so the read moves there. */
#define RHEI__ROUTE_PROBE_US 5000

/* 1 if a replicated table has a column of this name (len bytes, case-insensitive) with
 * SQLite's NUMERIC affinity (declared DECIMAL, NUMERIC, BOOLEAN, DATE, ...): SQLite stores
 * its integral values as INTEGER, so `d / 2` divides 5.00 as the integer 5 there, while
 * DuckDB divides the DECIMAL. Called only for a name next to '/'. */
typedef int (*rhei__route_numeric_fn)(void *ud, const char *name, size_t len);

/* 1 if a replicated table has a column of this name (len bytes, case-insensitive) and every
 * one that has it declares it TEXT (VARCHAR, CHAR, CLOB...): SQLite's LIKE of its values is
 * exactly DuckDB's SIMILAR TO of the rewritten pattern (rhei__route_olap_text). Called only
 * for a plain or qualified name that is the left operand of LIKE with a literal pattern. */
typedef int (*rhei__route_text_fn)(void *ud, const char *name, size_t len);

typedef struct rhei__route_ctx {
    rhei__route_table_fn is_replicated; /* NULL: no table is replicated */
    void *ud;
    rhei__route_compiles_fn sqlite_compiles; /* NULL: SQLite compiles everything */
    rhei__route_plan_fn plan;                /* NULL: no costs known, filters stay */
    rhei__route_numeric_fn numeric_column;   /* NULL: no such column */
    rhei__route_text_fn text_column;         /* NULL: no such column, LIKE stays */
} rhei__route_ctx;

/* Classifies the SQL text (one or more statements) in one go: whether it writes, and which
 * side serves it when auto-routed and why. Returns 1 if any statement writes, is DDL or
 * transaction control, or is not recognised as a read (it must go to SQLite through
 * rhei_execute, never to OLAP; out->reason then says which kind), else 0. Always fills out:
 * side is RHEI_SIDE_OLTP or RHEI_SIDE_OLAP (never AUTO), code a rhei_route_reason and reason
 * its static text, table the deciding table or "" (a longer name is cut to 63 bytes, before a
 * character if it is UTF-8). sql may be NULL (reason "empty"); ctx may be NULL (nothing is
 * replicated). A read naming an OLAP-only table (and no local one) goes to OLAP, reason
 * "olap-only table (history or sidecar)". The reasons a classification gives, in the order
 * of the rules (README.md): RHEI_ROUTE_EMPTY .. RHEI_ROUTE_UNINDEXED_FILTER in rhei.h. */
int rhei__route_classify(const char *sql, const rhei__route_ctx *ctx, rhei_route_info *out);
/* The same for len bytes that need not be NUL-terminated (a NUL byte is ordinary input). */
int rhei__route_classify_n(const char *sql, size_t len, const rhei__route_ctx *ctx,
                           rhei_route_info *out);

/* rhei__route_classify's return value alone, with no table callback. Exact regardless of the
 * bounds above (it needs none). */
int rhei__route_is_write(const char *sql);
int rhei__route_is_write_n(const char *sql, size_t len);

/* The side that serves a read: the auto-routed classification auto_ri unless hint names a
 * side (reason "hint", table ""); an auto-routed read inside the caller's open transaction
 * stays on SQLite (reason "inside an open transaction"), which sees its uncommitted writes. */
void rhei__route_decide(const rhei_route_info *auto_ri, rhei_side hint, int in_txn,
                        rhei_route_info *out);

/* OLAP failed a read routed by ri with result code rc. Returns 1 and moves *ri to SQLite when
 * SQLite answers instead: an auto-routed read that DuckDB cannot compile (RHEI_SQL,
 * RHEI_NOTFOUND: reason "olap could not run it (sqlite dialect)") or fails on its values
 * (RHEI_RANGE, RHEI_TYPE: an overflow or conversion the data decides, reason "sqlite
 * semantics: overflow or conversion"). Returns 0 (the failure is the answer) for a hint, an
 * OLAP-only table, any other code, and rhei_as_of's RHEI_RANGE refusal past what is known. */
int rhei__route_fallback(rhei_route_info *ri, rhei_side hint, int rc);

/* An index-served read (reason "index serves it") ran over SQLite's budget: moves *ri to
 * DuckDB, reason "index range too wide". The caller may remember the new route for the text. */
void rhei__route_over_budget(rhei_route_info *ri);

/* Sets out->code and out->reason to code and its text (reason.c). */
void rhei__route_set_reason(rhei_route_info *out, rhei_route_reason code);

/* Reading passes over SQL texts made so far by this process (one or two per classification,
 * see README.md "Two readings"): lets tests check a text is tokenized once per cache miss. */
uint64_t rhei__route_passes(void);
/* The text a read runs with on DuckDB (rewrite.c): each `LIKE 'pattern' [ESCAPE 'c']` becomes
 * `SIMILAR TO` an RE2 expression matching exactly what SQLite's LIKE matches (ASCII letters
 * either case, % and _ as wildcards), so LIKE means SQLite's LIKE wherever a read runs. *out
 * gets a new text (the caller frees it with rhei__free) or NULL when nothing changes.
 * RHEI_OK, or RHEI_NOMEM with *out NULL. */
int rhei__route_olap_text(const char *sql, char **out);
#endif
