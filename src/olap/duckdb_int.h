/* duckdb_int.h — private to the DuckDB backend (duckdb.c, duckdb_apply.c, duckdb_asof.c,
 * duckdb_feed.c, duckdb_kv.c, duckdb_query.c, duckdb_stream.c): the backend instance with its
 * write lock, shared SQL-text helpers and the error mapping. Nothing outside src/olap/duckdb*.c
 * includes this or duckdb.h (scripts/check_layers.py enforces it). */
#ifndef RHEI_OLAP_DUCKDB_INT_H
#define RHEI_OLAP_DUCKDB_INT_H
#include "buf.h"
#include "cancel.h"
#include "olap.h"
/* duckdb.h declares some functions as f() instead of f(void). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop
#include <pthread.h>

enum { SLOT_EMPTY, SLOT_CONNECTING, SLOT_IDLE, SLOT_BUSY };

/* A read connection of the pool and the statement last prepared on it for a stream
 * (duckdb_stream.c), kept so the next stream of the same text (typically DoGet after the
 * GetFlightInfo that described it) does not prepare it again. DuckDB 1.4 folds table
 * statistics into a prepared plan (a filter the statistics rule out becomes an empty result,
 * duckdb#23704), so a kept statement is used only while o->gen still has the even value it
 * had before the statement was prepared. o->gen is odd from before a writing transaction's
 * COMMIT or ROLLBACK until after it (and around a checkpoint): a statement prepared then is
 * not kept, and none prepared before is used after. Only the thread holding the slot busy
 * changes ps*; pool_acquire reads an idle slot's ps_sql and ps_gen under mu. */
typedef struct rhei__duck_slot {
    duckdb_connection conn;
    int state;
    duckdb_prepared_statement ps; /* NULL: none kept */
    char *ps_sql;
    uint64_t ps_gen;
} rhei__duck_slot;

/* Rows of a batch as DuckDB sees them through the _rhei_feed() table function: some columns
 * of some rows, plus up to two BIGINT columns computed here (history's validity bounds, or a
 * key's first event time). */
#define RHEI__DUCK_XNULL INT64_MIN /* in an extra column's values: SQL NULL */

typedef struct rhei__duck_xcol {
    const char *name;
    const int64_t *v; /* per fed row; NULL: every row holds k */
    int64_t k;
} rhei__duck_xcol;

typedef struct rhei__duck_rows {
    const rhei__batch *b;
    const size_t *cols;  /* table column of each fed column; NULL: all, in order */
    size_t ncols;
    const uint32_t *sel; /* batch rows to feed; NULL: all */
    size_t n;
    rhei__duck_xcol x[2];
    size_t nx;
} rhei__duck_rows;

/* A statement prepared on the write connection for one table version, mode and kind. */
typedef struct rhei__duck_stmt {
    char *table;
    int64_t tid;
    int history;
    int kind;
    duckdb_prepared_statement ps;
} rhei__duck_stmt;

/* Write-side fields belong to the one thread inside begin..commit (olap.h); the read pool
 * (slots) is guarded by mu, with cv signalled when a slot turns idle. */
struct rhei__olap {
    duckdb_database db;
    duckdb_connection w; /* the write connection */
    /* The write lock (recursive): begin takes it and commit/rollback give it back, and the
     * calls that use w outside a transaction hold it for their own length, so any number of
     * writers (the sync, the sidecar) can share one store without a lock of their own. It
     * guards w and everything below up to kv_appends. */
    pthread_mutex_t write_mu;
    int in_txn;
    int wrote;           /* the open transaction wrote something */
    int ddl;             /* ... created, dropped or altered a table: see end_txn */
    int dirty;           /* committed writes since the last checkpoint */
    rhei__duck_stmt *stmts;             /* prepared feed statements, see duckdb_feed.c */
    size_t nstmts, stmtcap;
    pthread_mutex_t feed_mu;             /* guards the three below, see duckdb_feed.c */
    const rhei__duck_rows *feed;         /* what _rhei_feed() returns while a statement runs */
    pthread_t feed_thread;               /* the thread allowed to bind _rhei_feed() */
    rhei__err feed_err;                  /* a value the feed could not convert */
    /* Targets that saw DELETE/UPDATE in the open transaction: DuckDB 1.4 cannot commit an
     * ALTER of such a table (the commit fails), so alter_table rebuilds it instead. */
    char **touched;
    size_t ntouched, touchedcap;
    rhei__buf sql;       /* statement text of the write side, reused */
    duckdb_prepared_statement kv_ps[3]; /* kv append, kv read, kv compaction */
    duckdb_prepared_statement txn_ps[2]; /* BEGIN, COMMIT */
    int64_t kv_seq;                     /* last sequence number in _rhei_kv_log */
    int64_t kv_appends;                 /* appends since the last compaction */
    /* Write generation (rhei__duck_slot), atomic: bumped by the writer around each
     * writing transaction's end and around each checkpoint. */
    uint64_t gen;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rhei__duck_slot *slots;
    size_t nslots;
    rhei__olap_limit_fn as_of_limit; /* what rhei_as_of() may read, see duckdb_asof.c */
    void *as_of_ud;
};

/* Errors: "duckdb: <message>" with a code from the DuckDB error class. user != 0 when the
 * SQL came from the caller (parser/binder errors are then RHEI_SQL, else RHEI_OLAP). */
int rhei__duck_err(rhei__err *e, int user, duckdb_error_type t, const char *msg);
int rhei__duck_result_err(rhei__err *e, int user, duckdb_result *r);

/* Statements on the write connection. exec_buf runs o->sql. query_row reads one row of n
 * integer columns (NULL as 0). */
int rhei__duck_exec(rhei__olap *o, const char *sql, rhei__err *e);
int rhei__duck_exec_buf(rhei__olap *o, rhei__err *e);
int rhei__duck_query_row(rhei__olap *o, const char *sql, int64_t *out, size_t n, rhei__err *e);
int rhei__duck_need_txn(rhei__olap *o, rhei__err *e);
/* A new connection with the session objects rhei provides (the rhei_as_of macro). */
int rhei__duck_connect(rhei__olap *o, duckdb_connection *out, rhei__err *e);
/* duckdb_asof.c: _rhei_as_of_check(table, ts), the guard of the rhei_as_of macro. Its
 * error messages contain RHEI__DUCK_RANGE_MARK, which maps them to RHEI_RANGE. */
#define RHEI__DUCK_RANGE_MARK "past what is known: "
int rhei__duck_asof_register(rhei__olap *o, rhei__err *e);
void rhei__duck_set_as_of_limit(rhei__olap *o, rhei__olap_limit_fn fn, void *ud);
int rhei__duck_query_as_of(rhei__olap *o, const char *table, int64_t ts_us, rhei_result **out,
                           rhei__err *e);
/* Records that a target (table + mode) had rows deleted or updated in this transaction. */
int rhei__duck_touch(rhei__olap *o, const char *name, int history, rhei__err *e);

/* SQL text. Identifiers are always quoted. */
void rhei__duck_dec_ps(const rhei__colspec *c, int *p, int *s);
void rhei__duck_put_type(rhei__buf *b, const rhei__colspec *c);
char *rhei__duck_target_dup(const char *name, int history); /* "<name>[_history]", malloc'd */
void rhei__duck_put_target(rhei__buf *b, const char *name, int history);
void rhei__duck_put_coldefs(rhei__buf *b, const rhei__table *t, int history);

/* duckdb_feed.c: batches reach DuckDB as the rows of the table function _rhei_feed(), read
 * by prepared INSERT/DELETE/UPDATE statements cached per table version and kind. */
enum { RHEI__FEED_INSERT, RHEI__FEED_DELETE, RHEI__FEED_DELETE_NULLS, RHEI__FEED_CLOSE,
       RHEI__FEED_CLOSE_NULLS };
/* A value of a DECIMAL(p,s) column as its scaled integer. -1 wrong type, -3 out of range. */
int rhei__duck_to_decimal(const rhei_value *v, int p, int s, __int128 *out);
int rhei__duck_feed_register(rhei__olap *o, rhei__err *e);
/* Runs statement `kind` for table t (mode history) over the rows r. */
int rhei__duck_feed_run(rhei__olap *o, const rhei__table *t, int history, int kind,
                        const rhei__duck_rows *r, rhei__err *e);
/* Forgets every prepared feed statement: after a schema change or a rollback (end_txn). */
void rhei__duck_feed_forget(rhei__olap *o);

/* duckdb_kv.c: named values in the append-only _rhei_kv_log (an UPDATE costs DuckDB four
 * times an INSERT); the latest sequence number of a key wins, old ones are compacted away. */
int rhei__duck_kv_open(rhei__olap *o, rhei__err *e);
void rhei__duck_kv_close(rhei__olap *o);
int rhei__duck_kv_compact(rhei__olap *o, rhei__err *e);
int rhei__duck_set_kv(rhei__olap *o, const char *key, const char *value, rhei__err *e);
int rhei__duck_get_kv(rhei__olap *o, const char *key, char *buf, size_t size, rhei__err *e);
int rhei__duck_fill_column(rhei__olap *o, const rhei__table *t, const char *column,
                           const rhei_value *v, int history, rhei__err *e);

/* duckdb_apply.c */
int rhei__duck_apply(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                     rhei__err *e);
int rhei__duck_load(rhei__olap *o, const rhei__batch *b, int history, int64_t ts_us,
                    rhei__err *e);

/* duckdb_query.c: the read pool (a slot stays busy, and so interruptible, until released),
 * statements on a pooled connection (prepare, bind rhei values, refuse anything but reads).
 * acquire prefers an idle slot that keeps a current statement for sql (NULL: any slot). */
int rhei__duck_pool_acquire(rhei__olap *o, const char *sql, size_t *out, rhei__err *e);
void rhei__duck_pool_release(rhei__olap *o, size_t i);
/* The kept statement of a slot (rhei__duck_slot), for its holder. kept: the statement for
 * sql if it is still current (borrowed from the slot), else NULL. keep: ps, prepared on the
 * slot's connection after o->gen was read as gen, replaces the kept one; 1 when the slot
 * took ps, 0 when it did not (gen odd, a text of RHEI__DUCK_KEEP_MAX bytes or more, out of
 * memory: the caller still owns ps). drop_kept: destroys it (close). gen: o->gen now.
 * bump_gen: the writer's half of a bump pair. */
#define RHEI__DUCK_KEEP_MAX 4096
duckdb_prepared_statement rhei__duck_kept(rhei__olap *o, size_t slot, const char *sql);
int rhei__duck_keep(rhei__olap *o, size_t slot, const char *sql, uint64_t gen,
                    duckdb_prepared_statement ps);
void rhei__duck_drop_kept(rhei__duck_slot *s);
/* The read statement for sql on a held slot: its kept one (*kept = 1, borrowed from the slot)
 * or a fresh one, checked read-only, which the slot then keeps if it can (*kept says; 0: the
 * caller destroys it). Every parameter of a kept one is bound again (rhei__duck_bind refuses
 * any other count), so no value of an earlier call survives. */
int rhei__duck_prepare_kept(rhei__olap *o, size_t slot, const char *sql,
                            duckdb_prepared_statement *ps, int *kept, rhei__err *e);
uint64_t rhei__duck_gen(rhei__olap *o);
void rhei__duck_bump_gen(rhei__olap *o);
int rhei__duck_prepare(duckdb_connection c, const char *sql, duckdb_prepared_statement *ps,
                       rhei__err *e);
int rhei__duck_bind(duckdb_prepared_statement ps, const rhei_value *p, size_t n, rhei__err *e);
int rhei__duck_check_read_only(duckdb_prepared_statement ps, rhei__err *e);
/* The rhei class DuckDB serves a column of type t as (TEXT for types rhei has none for). */
rhei_type rhei__duck_class(duckdb_type t);
/* A read running as a streaming result (duckdb_query.c, duckdb_stream.c): the pending result
 * must outlive the result it produced. start replaces what the run held; fetch gives the
 * next chunk (NULL at the end or on an error); end releases the run for good. */
typedef struct rhei__duck_run {
    duckdb_pending_result pend;
    duckdb_result res;
    int have_res;
    int drained; /* fetch returned NULL */
} rhei__duck_run;
/* cancel (may be NULL): a token fired before the run started interrupts it (c is the run's
 * connection); the run then fails with RHEI_INTERRUPTED "query cancelled". */
int rhei__duck_run_start(rhei__duck_run *x, duckdb_prepared_statement ps, duckdb_connection c,
                         rhei_cancel *cancel, rhei__err *e);
duckdb_data_chunk rhei__duck_run_fetch(rhei__duck_run *x);
void rhei__duck_run_end(rhei__duck_run *x, duckdb_connection c);
/* duckdb_stream.c: query_arrow and describe_arrow of the vtable */
int rhei__duck_describe_arrow(rhei__olap *o, const char *sql, const rhei_value *params,
                              size_t nparams, rhei__olap_shape_fn shape, void *shape_ud,
                              struct ArrowSchema *out, rhei__err *e);
int rhei__duck_query_arrow(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                           rhei__olap_shape_fn shape, void *shape_ud, rhei_cancel *cancel,
                           struct ArrowArrayStream *out, rhei__err *e);
int rhei__duck_query(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                     rhei_result **out, rhei__err *e);
void rhei__duck_interrupt(rhei__olap *o);
#endif
