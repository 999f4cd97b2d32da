/* oltp.h — SQLite connections: one writer (serialised by a mutex), a pool of readers, and
 * a prepared-statement cache per connection. The only module besides cdc that speaks
 * SQLite; everything above sees rhei__conn and rhei_result. */
#ifndef RHEI_OLTP_H
#define RHEI_OLTP_H
#include "batch.h"
#include "err.h"
#include "result.h"
#include "schema.h"
#include <stdint.h>

/* SQLite's handles, declared, not included: modules above see them only as opaque pointers
 * (only oltp, cdc and the sidecar's SQLite adapter include <sqlite3.h>; check_layers.py). */
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

typedef struct rhei__oltp rhei__oltp;

typedef struct rhei__oltp_opts {
    const char *path;
    int synchronous_full;
    int read_pool_size;
    int busy_timeout_ms;
    int64_t mmap_mb; /* PRAGMA mmap_size in MiB; 0 = reads through the page cache only */
} rhei__oltp_opts;

/* A connection with its statement cache. Used by one thread at a time. */
typedef struct rhei__conn rhei__conn;

int rhei__oltp_open(const rhei__oltp_opts *opts, rhei__oltp **out, rhei__err *e);
void rhei__oltp_close(rhei__oltp *o);

/* The writer: blocks until this thread holds it. Always pair with writer_release.
 * A release that leaves the connection inside a transaction (a user's BEGIN) keeps the
 * writer for this thread: its next calls re-enter at once, every other thread (and the
 * maintenance connection) waits until a later release finds the transaction ended. */
rhei__conn *rhei__oltp_writer(rhei__oltp *o);
void rhei__oltp_writer_release(rhei__oltp *o);
/* Tests only: called by a thread just before it blocks waiting for the writer, so a test can
 * know (not guess with a sleep) that a thread is waiting. Set before threads start. */
extern void (*rhei__oltp_test_on_wait)(void);
/* 1 if the calling thread holds the writer with a transaction open (between its calls). */
int rhei__oltp_in_txn(rhei__oltp *o);
/* 1 if any thread does (a hint: it may change at once). */
int rhei__oltp_txn_held(rhei__oltp *o);
/* At close: rolls back a transaction left open between calls (*out_rolled_back = 1). Only
 * when no call is running; the owner must not use the handle any more. */
int rhei__oltp_rollback_open(rhei__oltp *o, int *out_rolled_back, rhei__err *e);
/* The maintenance connection, for background work (pruning): a connection of its own that
 * never holds a user's transaction, taken only while the writer is free (no call and no
 * open transaction), so in-process writes never meet SQLite's busy handler or a stale
 * snapshot because of it. Waits at most wait_ms, then returns NULL (busy: retry later).
 * Its SQLite busy timeout (other processes) is at most 100 ms. Pair with maint_release. */
rhei__conn *rhei__oltp_maint(rhei__oltp *o, int wait_ms);
void rhei__oltp_maint_release(rhei__oltp *o);
/* A reader from the pool (blocks while all are busy). */
rhei__conn *rhei__oltp_reader(rhei__oltp *o);
void rhei__oltp_reader_release(rhei__oltp *o, rhei__conn *c);
/* Unguarded raw writer handle, for rhei_oltp_handle. */
sqlite3 *rhei__oltp_raw(rhei__oltp *o);
sqlite3 *rhei__conn_db(rhei__conn *c);
/* A connection with the statement cache below around a handle opened elsewhere (a database
 * Rhei does not own: the sidecar's SQLite source). NULL when out of memory (db stays the
 * caller's). rhei__conn_free finalizes the cached statements and closes db; NULL is fine. */
rhei__conn *rhei__conn_wrap(sqlite3 *db);
void rhei__conn_free(rhei__conn *c);
/* 1 if the connection is inside a transaction (not in autocommit mode). */
int rhei__conn_in_txn(rhei__conn *c);

/* Cached prepare: the statement is reset and its bindings cleared; it stays owned by the
 * cache (do not finalize). Statements with more than one SQL statement are refused. */
int rhei__conn_prepare(rhei__conn *c, const char *sql, sqlite3_stmt **out, rhei__err *e);
int rhei__conn_bind(rhei__conn *c, sqlite3_stmt *st, const rhei_value *params, size_t n,
                    rhei__err *e);
/* Runs SQL (one or more statements; params only with one) to completion. */
int rhei__conn_exec(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                    int64_t *out_changes, rhei__err *e);
/* The rowid of the last row inserted through c (SQLite's last_insert_rowid). */
int64_t rhei__conn_last_rowid(rhei__conn *c);
void rhei__conn_set_last_rowid(rhei__conn *c, int64_t id);
/* A read snapshot on a reader: every read between begin and end sees the one state of the
 * database fixed by the first of them. end(ok = 0) also abandons statements left running. */
int rhei__conn_snapshot_begin(rhei__conn *c, rhei__err *e);
void rhei__conn_snapshot_end(rhei__conn *c, int ok);
/* Runs one read statement and collects its rows; _max stops after max_rows rows (< 0: all),
 * leaving the rest unread. */
int rhei__conn_query(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                     rhei_result **out, rhei__err *e);
int rhei__conn_query_max(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                         int64_t max_rows, rhei_result **out, rhei__err *e);
/* SQLite's description of a read statement without running it: an empty result whose
 * columns carry the names and declared types SQLite gives them (caller frees it). RHEI_SQL
 * when SQLite cannot compile the text. The prepare is cached like any other. */
int rhei__conn_describe(rhei__conn *c, const char *sql, rhei_result **out, rhei__err *e);
/* What SQLite's plan for a read says, from one EXPLAIN QUERY PLAN (rhei__conn_plan). */
typedef struct rhei__plan {
    int64_t scan_rows;    /* rhei__conn_scan_rows's figure when asked for, else 0 */
    int64_t reach_rows;   /* rhei__conn_reach_rows's figure when asked for, else 0 */
    int sorts;            /* rhei__conn_plan_sorts's answer */
    int distinct_indexed; /* rhei__conn_plan_distinct_indexed's answer */
} rhei__plan;
#define RHEI__PLAN_SCAN_ROWS 1u  /* want: compute scan_rows */
#define RHEI__PLAN_REACH_ROWS 2u /* want: compute reach_rows */
/* Fills *out from one plan of sql (the schema is re-read first, so a new index counts). The
 * row figures cost a max(rowid) read per table named, so only those in `want` are computed.
 * 0, or -1 (*out zeroed) when SQLite cannot plan the text. The four calls below are each this
 * with one answer; a caller wanting several asks once. */
int rhei__conn_plan(rhei__conn *c, const char *sql, unsigned want, rhei__plan *out);
/* Rows SQLite would read in full to run sql: the sum over the tables its plan scans (EXPLAIN
 * QUERY PLAN "SCAN t", each counted by its largest rowid, at least 1); tables an index serves
 * ("SEARCH") count 0. -1 when SQLite cannot plan the text. */
int64_t rhei__conn_scan_rows(rhei__conn *c, const char *sql);
/* The same for every table the plan reaches, searched through an index or scanned: the size
 * of what DuckDB would scan to answer the read. */
int64_t rhei__conn_reach_rows(rhei__conn *c, const char *sql);
/* 1 if SQLite's plan for sql sorts with a temporary B-tree (ORDER BY, GROUP BY or DISTINCT
 * not served by an index), 0 if not, -1 when SQLite cannot plan the text. */
int rhei__conn_plan_sorts(rhei__conn *c, const char *sql);
/* 1 if SQLite's plan for sql scans only through covering indexes and uses no temporary
 * B-tree (a DISTINCT it answers by stepping from key to key), 0 if not, -1 if it has no
 * plan. */
int rhei__conn_plan_distinct_indexed(rhei__conn *c, const char *sql);
/* rhei__conn_query_max stopped after budget_us of SQLite's work (this thread's CPU time;
 * < 0: no limit) or when cancel (NULL: none) fires: *out_over = 1 when the budget stopped it
 * (then the call fails with RHEI_INTERRUPTED and *out is NULL), else 0 and the query's own
 * outcome; RHEI_INTERRUPTED "query cancelled" when the token fired while it ran. */
int rhei__conn_query_within(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                            int64_t max_rows, int64_t budget_us, rhei_cancel *cancel, int *out_over,
                            rhei_result **out, rhei__err *e);
/* Converts the value in column idx of st's current row to the canonical form for column
 * spec col (batch.h); TEXT, BLOB and DECIMAL bytes are copied into b. RHEI_TYPE when the
 * value does not fit the column, RHEI_NOMEM. Used for captured changes and sidecar sources,
 * so a table reads the same either way (decode.c). */
int rhei__oltp_decode(sqlite3_stmt *st, int idx, const rhei__colspec *col, rhei__batch *b,
                      rhei_value *out);
/* Turns a SQLite failure into an error record: "sqlite: <message>" with a mapped code. */
int rhei__oltp_error(sqlite3 *db, int sqlite_rc, rhei__err *e);
/* The linked SQLite's version (static). */
const char *rhei__oltp_version(void);
/* Interrupts whatever the readers run (Ctrl-C). */
void rhei__oltp_interrupt(rhei__oltp *o);
#endif
