/* bench_util.h — shared pieces of rhei_bench: options, clocks and percentiles, the result
 * table (printed as text and written as JSON), temporary directories, the common `orders`
 * schema and its deterministic row generator, and fill helpers for the engine and raw SQLite.
 * Single-threaded except the clock and sample helpers, which are safe on any thread. */
#ifndef RHEI_BENCH_UTIL_H
#define RHEI_BENCH_UTIL_H

#include "rhei.h"
#include <duckdb.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --- options ----------------------------------------------------------------------------- */

typedef struct bu_opts {
    int quick;         /* --quick: small sizes, few repetitions; checks the harness only */
    const char *only;  /* --only NAME: one workload, or NULL for all */
    const char *json;  /* --json PATH */
    int verbose;       /* --verbose: progress lines on stderr */
} bu_opts;

extern bu_opts bu_opt;

/* Progress line on stderr with --verbose (always flushed). */
void bu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "rhei_bench: <what>: <cause>" and exits 2 (temporary files are removed at exit). */
void bu_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Exits via bu_die when rc != RHEI_OK, with rhei_errmsg(db). */
void bu_check(rhei_db *db, int rc, const char *what);
/* Runs SQL on a raw SQLite connection or dies. */
void bu_sq_exec(sqlite3 *h, const char *sql);
/* Prepares one statement on a raw SQLite connection or dies. */
sqlite3_stmt *bu_sq_prepare(sqlite3 *h, const char *sql);
/* Steps a prepared statement to the end (reading every column of every row), then resets. */
void bu_sq_run(sqlite3 *h, sqlite3_stmt *st);

/* --- clocks and samples ------------------------------------------------------------------ */

/* Monotonic time in nanoseconds / seconds. */
uint64_t bu_now_ns(void);
double bu_now(void);

/* A growable array of doubles (latencies in microseconds, or per-repetition figures). */
typedef struct bu_samples {
    double *v;
    size_t n, cap;
} bu_samples;

void bu_samples_add(bu_samples *s, double x);
void bu_samples_free(bu_samples *s);
/* p-th percentile (0..100) by nearest rank; sorts s in place. NAN if empty. */
double bu_pct(bu_samples *s, double p);
double bu_median(bu_samples *s);
/* Median over i of eng[i] / base[i]: the ratio of repetitions run back to back, robust to the
 * machine slowing down mid-run. Leaves both arrays as they are (call before bu_median). */
double bu_paired_ratio(const bu_samples *eng, const bu_samples *base);

/* --- the result table -------------------------------------------------------------------- */

enum bu_target_kind {
    BU_TARGET_NONE = 0,
    BU_TARGET_RATIO_MIN,  /* ratio (engine vs baseline, higher = engine better) >= target */
    BU_TARGET_ENGINE_MIN, /* engine figure >= target (throughput rows) */
    BU_TARGET_ENGINE_MAX, /* engine figure <= target (latency rows, whose figure is the p50) */
    BU_TARGET_P99_MAX     /* engine p99 latency (us) <= target */
};

/* A row carries at most two targets (a latency row: one on p50, one on p99). */
#define BU_MAX_TARGETS 2

typedef struct bu_target {
    int kind;
    double value;
    char text[64];
} bu_target;

typedef struct bu_row {
    char group[24];      /* workload name as --only takes it */
    char name[64];       /* "insert 700 rows (rows/s)" */
    char unit[16];       /* unit of engine and base: "rows/s", "ms", "us", "MB" */
    int lower_better;    /* times and sizes: lower is better; throughputs: higher */
    double engine;
    double paired;       /* median per-repetition ratio, or NAN: then engine/base */
    char base_name[32];  /* "" when there is no baseline */
    double base;         /* NAN when there is no baseline */
    double p50_us, p99_us; /* engine per-operation latency, NAN when not measured */
    double base_p50_us, base_p99_us;
    char note[200];
    int skipped;         /* not measured (note says why): no figure, not an insane one */
    bu_target targets[BU_MAX_TARGETS];
    size_t ntargets;
} bu_row;

/* Appends a row (engine/base/latencies NAN, no target) and returns it for filling. */
bu_row *bu_row_add(const char *group, const char *name, const char *unit, int lower_better);
/* A row comparing two sides sampled in back-to-back repetitions (rates, larger is better):
 * the paired ratio (taken first: medians sort the samples) and the median of each. */
bu_row *bu_row_versus(const char *group, const char *name, const char *unit,
                      bu_samples *eng, bu_samples *base, const char *base_name);
/* Adds a target to r (dies past BU_MAX_TARGETS); text is how the verdict line names it. */
void bu_row_target(bu_row *r, int kind, double value, const char *text);
/* Marks r skipped: the note becomes "skipped: <reason>". */
void bu_row_skip(bu_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* engine vs baseline as a speed ratio: >1 means the engine is faster (or smaller); the
 * paired ratio when the row has one. */
double bu_ratio(const bu_row *r);
void bu_print_header(FILE *f);
void bu_print_row(FILE *f, const bu_row *r);
/* Every row, then the targets with met / missed. */
void bu_print_table(FILE *f);
void bu_print_targets(FILE *f);
/* Number of rows whose figures are zero, negative or not finite (quick-mode sanity). */
int bu_insane_rows(FILE *report);
/* Writes every row and the machine description as JSON; creates the parent folder. */
int bu_write_json(const char *path, double total_s, double load_start);
/* "AMD EPYC, 2 cores, 23.4 GB RAM, Linux 6.1" into buf. */
void bu_machine(char *buf, size_t n);

/* --- processes and files ----------------------------------------------------------------- */

/* The run's private temporary folder (created on first use, removed at exit). */
const char *bu_tmpdir(void);
/* Fresh path inside bu_tmpdir: "<tmpdir>/<name>"; removes leftovers of that name. */
void bu_path(char *buf, size_t n, const char *name);
/* Removes a SQLite file with its -wal and -shm companions. */
void bu_unlink_db(const char *path);
/* 1-minute load average (/proc/loadavg), NAN if unknown: a busy machine explains noise. */
double bu_loadavg(void);
/* Peak and current resident set size of this process, in MB (VmHWM / VmRSS). */
double bu_rss_peak_mb(void);
double bu_rss_now_mb(void);
/* Resets VmHWM to the current RSS (/proc/self/clear_refs, Linux >= 4.0) so a later
 * bu_rss_peak_mb() measures one phase; returns the RSS at the reset, NAN if unsupported. */
double bu_rss_reset_peak(void);
/* Peak RSS of the whole run so far, across resets (MB). */
double bu_rss_process_peak_mb(void);

/* --- the benchmark schema ---------------------------------------------------------------- */

/* Five columns, as the DuckDB appender floor in REFERENCE.md. */
#define BU_ORDERS_DDL                                                                        \
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, category TEXT "   \
    "NOT NULL, amount REAL NOT NULL, qty INTEGER NOT NULL)"
#define BU_ORDERS_DUCKDB_DDL                                                                 \
    "CREATE TABLE orders (id BIGINT, customer VARCHAR, category VARCHAR, amount DOUBLE, "    \
    "qty BIGINT)"
#define BU_INSERT_SQL                                                                        \
    "INSERT INTO orders (id, customer, category, amount, qty) VALUES (?1, ?2, ?3, ?4, ?5)"
#define BU_UPDATE_SQL "UPDATE orders SET amount = ?2, qty = ?3 WHERE id = ?1"
#define BU_DELETE_SQL "DELETE FROM orders WHERE id = ?1"
#define BU_POINT_SQL "SELECT id, customer, category, amount, qty FROM orders WHERE id = ?1"
#define BU_NCATEGORIES 16
#define BU_NCUSTOMERS 10000

/* One generated row; customer points into the struct, category to static text. */
typedef struct bu_order {
    int64_t id;
    char customer[16];
    const char *category;
    double amount; /* 0.00 .. 999.99, uniform */
    int64_t qty;   /* 1 .. 10 */
} bu_order;

void bu_order_make(int64_t id, bu_order *o);
/* The row as five engine parameters (text borrowed from o). */
void bu_order_params(const bu_order *o, rhei_value p[5]);
/* Binds o to ?1..?5 of st (the BU_INSERT_SQL shape). */
void bu_order_bind(sqlite3_stmt *st, const bu_order *o);

/* Opens the engine on oltp_path with an in-memory OLAP and no background sync, or dies. */
rhei_db *bu_engine_open(const char *oltp_path);
/* Creates `orders` and registers it (empty). */
void bu_engine_create_orders(rhei_db *db);
/* Inserts ids [first, first+n) through rhei_execute_batch, `per_tx` statements a batch. */
void bu_engine_insert(rhei_db *db, int64_t first, int64_t n, size_t per_tx);
/* Lets background work the engine started after a sync (log pruning, which holds the
 * writer) finish before the next measurement, so it is not charged to whatever runs next,
 * a baseline included: a short pause for the pruner to take the writer, then a no-op write
 * call that queues behind it. A miss only adds noise. */
void bu_engine_quiesce(rhei_db *db);
/* Opens a raw SQLite connection: WAL, synchronous=NORMAL, recursive_triggers=ON (the engine's
 * writer settings), busy timeout 5 s. */
sqlite3 *bu_sq_open(const char *path);
/* Inserts ids [first, first+n) on a raw connection, `per_tx` rows a transaction. */
void bu_sq_fill(sqlite3 *h, int64_t first, int64_t n, int64_t per_tx);
/* The raw side's stand-in for the engine's log pruning after a sync: deletes consumed capture
 * rows (keeping the newest, as the engine does), so both files reuse freed pages instead of
 * one of them growing. Untimed; call it where the engine side syncs. */
void bu_sq_prune_log(sqlite3 *h);
/* Prepares a "with capture" SQLite file: the engine creates and registers `orders`, then
 * closes, leaving its exact triggers in the file for raw SQLite to drive. */
void bu_make_capture_file(const char *path);

/* --- raw DuckDB baselines ---------------------------------------------------------------- */

/* Opens an in-memory DuckDB and one connection, or dies. */
void bu_duck_open(duckdb_database *db, duckdb_connection *con);
void bu_duck_close(duckdb_database *db, duckdb_connection *con);
void bu_duck_exec(duckdb_connection con, const char *sql);
/* Generated rows [first, first+n) in an array the caller frees with free(). */
bu_order *bu_orders_make(int64_t first, int64_t n);
/* Appends rows to `table` through one appender (created, filled, closed); returns seconds. */
double bu_duck_append(duckdb_connection con, const char *table, const bu_order *rows,
                      int64_t n);

/* Formats helpers for the table: "27,100", "1.23M"; "38 us", "1.2 ms". */
void bu_fmt_num(char *buf, size_t n, double v);
void bu_fmt_us(char *buf, size_t n, double us);

/* --- workloads --------------------------------------------------------------------------- */

void w_insert(void);     /* 1: single-row inserts, and CDC sync of those events */
void w_sync(void);       /* 2: CDC sync throughput, insert-only and mixed */
void w_crud(void);       /* 3: CRUD 225 operations */
void w_concurrent(void); /* 4: 8 threads x 50 mixed operations */
void w_analytics(void);  /* 5: routed analytics and point reads */
void w_route(void);      /* routing regret: routed vs the faster side, 34 shapes (w_route.c) */
void w_flight(void);     /* Flight SQL server over loopback (w_flight.c) */
void w_olapcost(void);   /* OLAP query overhead over raw DuckDB (w_olapcost.c) */
void w_sidecar(void);    /* 6: sidecar cycles and first copies, SQLite and PostgreSQL sources */

#endif
