/* olap.h — the OLAP backend interface. The sync and the engine talk to an analytical store
 * only through this table of functions; each backend lives in its own file and includes
 * only its own library (src/olap/duckdb.c includes duckdb.h, nothing else does).
 *
 * Threads: a backend serialises its writers itself: begin takes the store's write lock and
 * commit/rollback give it back, so the calls between them (create/alter/drop/apply/state/
 * kv) run for the thread that began; get_state, get_kv, list_tables and maintain may also
 * run outside a transaction and then hold the lock for their own length. Any number of
 * writers (the sync, the sidecar) can share one store with no lock of their own. query()
 * may be called from any number of threads at once; the backend keeps its own pool of read
 * connections. */
#ifndef RHEI_OLAP_H
#define RHEI_OLAP_H
#include "batch.h"
#include "err.h"
#include "schema.h"
#include <stdint.h>

typedef struct rhei__olap rhei__olap; /* backend instance; layout private to the backend */
struct ArrowArrayStream;

/* One column of a streamed result (query_arrow): the backend fills in the name and the type
 * it serves (rhei class; DECIMAL with its precision and scale; TEXT for types rhei has no
 * class for), then the shape callback rewrites them to what the stream must carry. */
typedef struct rhei__olap_col {
    const char *name; /* borrowed: valid until the callback returns (the backend copies it) */
    rhei_type type;
    int precision, scale;
} rhei__olap_col;

/* Decides the names and types of a streamed result before its first batch: cols[0..n) hold
 * what the backend serves and are rewritten in place. Runs on the caller's thread. */
typedef int (*rhei__olap_shape_fn)(void *ud, rhei__olap_col *cols, size_t n, rhei__err *e);

typedef struct rhei__olap_opts {
    const char *path;        /* ":memory:" or a file */
    int threads;             /* 0 = backend default */
    const char *memory_limit;/* "" = backend default */
    int read_pool_size;      /* read connections kept open */
    int external_access;     /* queries may read files and URLs (default: sandbox) */
} rhei__olap_opts;

/* Counts of what apply() did (mirror: rows; history: versions). */
typedef struct rhei__apply_stats {
    int64_t inserted, updated, deleted;
} rhei__apply_stats;

/* Durable state stored in the OLAP side, written in the same transaction as the data. */
typedef struct rhei__olap_state {
    int64_t position;  /* last change-log position applied, 0 if none */
    int64_t last_ts;   /* largest event timestamp applied (keeps history monotonic) */
} rhei__olap_state;

/* The latest moment (µs) point-in-time reads of table may ask for: returns 1 and sets
 * *out_us and a reason when the table has a limit, 0 when it has none. Called from DuckDB's
 * threads while queries run: must be thread-safe and must not call back into the backend. */
typedef int (*rhei__olap_limit_fn)(void *ud, const char *table, int64_t *out_us, char *why,
                                   size_t why_size);

/* Visits one (table name, catalog tid) pair recorded by set_table_version. */
typedef int (*rhei__olap_table_cb)(void *ud, const char *name, int64_t tid);

typedef struct rhei__olap_vtab {
    const char *name; /* "duckdb" */
    int (*open)(const rhei__olap_opts *opts, rhei__olap **out, rhei__err *e);
    void (*close)(rhei__olap *o);
    const char *(*version)(void);
    void *(*raw_handle)(rhei__olap *o);

    /* One write transaction at a time. rollback is safe to call after any failure. */
    int (*begin)(rhei__olap *o, rhei__err *e);
    int (*commit)(rhei__olap *o, rhei__err *e);
    void (*rollback)(rhei__olap *o);

    /* State: get may run outside a transaction; set only inside one. A fresh store gives
     * {0,0} and no tables. */
    int (*get_state)(rhei__olap *o, rhei__olap_state *out, rhei__err *e);
    int (*set_state)(rhei__olap *o, const rhei__olap_state *st, rhei__err *e);
    int (*list_tables)(rhei__olap *o, rhei__olap_table_cb cb, void *ud, rhei__err *e);

    /* DDL inside the write transaction. history != 0 selects SCD Type 2 storage:
     * table "<name>_history" with the columns plus _rhei_valid_from BIGINT NOT NULL and
     * _rhei_valid_to BIGINT (NULL = current), and a view "<name>" of the current rows.
     * Mirror storage is a plain table "<name>" (no key constraint: keys are maintained by
     * apply). create_table replaces whatever existed and records the table's tid. */
    /* Outside a transaction: RHEI_EXISTS when an object of the store that belongs to
     * something else (another table, told apart by SQLite but not by the backend's name
     * rules; a sidecar table) has the name create_table would give table `name`. */
    int (*check_name)(rhei__olap *o, const char *name, rhei__err *e);
    int (*create_table)(rhei__olap *o, const rhei__table *t, int history, rhei__err *e);
    int (*drop_table)(rhei__olap *o, const char *name, int history, rhei__err *e);
    /* Moves the table from version `from` to `to` (columns added or dropped by name) and
     * records to->tid. */
    int (*alter_table)(rhei__olap *o, const rhei__table *from, const rhei__table *to,
                       int history, rhei__err *e);

    /* Applies events in order, inside the write transaction.
     * mirror: afterwards each touched key holds its last event's row, or is absent if that
     *   event is a DELETE. Insert-only batches may be appended directly.
     * history: each INSERT/UPDATE opens a version [ts, next event's ts of that key); the
     *   key's previously open version is closed at the key's first ts in the batch; a DELETE
     *   only closes. */
    int (*apply)(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                 rhei__err *e);
    /* apply as a write transaction of its own, outside begin..commit (it takes and gives
     * back the write lock): the batch is in the store when it returns RHEI_OK, and none of it
     * is on failure. Same as begin + apply + commit, but the backend may commit with the
     * statement itself (DuckDB: an insert-only batch runs as one autocommit statement). */
    int (*apply_alone)(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                       rhei__err *e);

    /* Bulk load, inside the write transaction: appends rows of t (values canonical as in a
     * batch, op ignored) as current rows valid from ts_us in history mode. */
    int (*load)(rhei__olap *o, const rhei__batch *b, int history, int64_t ts_us, rhei__err *e);

    /* Read-only query on a pooled connection; params bound positionally. */
    int (*query)(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                 rhei_result **out, rhei__err *e);
    /* Read-only query as an Arrow C stream, served batch by batch from the backend's
     * own streaming result. shape (may be NULL: the backend's names and types) decides the
     * columns before anything runs past the first batch. The first batch is produced here, so
     * errors known by then (SQL, binding, a value the first batch meets) are returned, not
     * streamed. The stream holds a pooled read connection until it is released; get_next
     * returns EINTR after interrupt(), EIO for other failures (get_last_error says which).
     * params are borrowed for this call only. cancel (may be NULL; borrowed until the
     * stream's release) stops this query alone: the backend attaches its own interrupt of
     * the connection it holds (rhei__cancel_attach) from before execution to the release, so
     * a fire returns RHEI_INTERRUPTED here, or makes get_next return ECANCELED; the
     * connection serves its next user uninterrupted. */
    int (*query_arrow)(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                       rhei__olap_shape_fn shape, void *shape_ud, rhei_cancel *cancel,
                       struct ArrowArrayStream *out, rhei__err *e);
    /* The schema query_arrow would give for the same arguments (a struct of the columns),
     * without running the statement unless a parameter leaves a column's type open. The
     * backend may keep what it prepared for a query_arrow of the same text that follows. */
    int (*describe_arrow)(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                          rhei__olap_shape_fn shape, void *shape_ud, struct ArrowSchema *out,
                          rhei__err *e);
    /* Point-in-time read of table, kept in history storage: its rows as they were at ts_us
     * (the versions with valid_from <= ts_us < valid_to), with the table's own columns only.
     * Any thread, like query(); the caller checks ts_us against what is known. */
    int (*query_as_of)(rhei__olap *o, const char *table, int64_t ts_us, rhei_result **out,
                       rhei__err *e);
    /* Cancels queries running in query() and query_arrow streams (Ctrl-C in the shell). */
    void (*interrupt)(rhei__olap *o);
    /* Housekeeping when the sync is idle (checkpoint a file-backed store). */
    int (*maintain)(rhei__olap *o, rhei__err *e);

    /* Small named text values kept with the data (the sidecar's watermarks): set only inside
     * the write transaction, so a value commits with the rows it describes. get copies into
     * buf; RHEI_NOTFOUND when the key was never set. */
    int (*set_kv)(rhei__olap *o, const char *key, const char *value, rhei__err *e);
    int (*get_kv)(rhei__olap *o, const char *key, char *buf, size_t size, rhei__err *e);
    /* Inside the write transaction: sets `column` of every current row of t to v (a column
     * added with a default; history: current versions only, past versions keep NULL). */
    int (*fill_column)(rhei__olap *o, const rhei__table *t, const char *column,
                       const rhei_value *v, int history, rhei__err *e);
    /* Installs the limit the SQL form rhei_as_of('t', ts) checks (set once, right after
     * open, before queries run; fn NULL = no limit). */
    void (*set_as_of_limit)(rhei__olap *o, rhei__olap_limit_fn fn, void *ud);
} rhei__olap_vtab;

extern const rhei__olap_vtab rhei__olap_duckdb;
#endif
