/* w_analytics.c — workload 5: routed analytics (GROUP BY, filtered scan, top-10) over 1M and
 * 10M rows, the engine's routed rhei_query against the same SQL on raw SQLite, with raw DuckDB
 * on the engine's own store as a note (the engine's overhead); the initial copy of the table
 * into OLAP; and point reads by primary key against a raw SQLite prepared statement. */
#include "bench_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct query {
    const char *label;
    const char *sql;
} query;

static const query queries[] = {
    {"group by", "SELECT category, count(*) AS n, sum(amount) AS revenue, avg(qty) AS avg_qty"
                 " FROM orders GROUP BY category ORDER BY category"},
    {"filtered scan", "SELECT id, customer, amount FROM orders WHERE amount >= 999.5"},
    {"top-10", "SELECT id, customer, amount FROM orders ORDER BY amount DESC LIMIT 10"},
};

typedef struct actx {
    rhei_db *db;
    sqlite3 *raw;           /* a separate connection to the engine's SQLite file */
    duckdb_connection dcon; /* a connection to the engine's own DuckDB store */
    int64_t nrows;
    char size[16];
} actx;

static void size_label(char *buf, size_t len, int64_t n)
{
    if (n >= 1000000)
        snprintf(buf, len, "%lldM", (long long)(n / 1000000));
    else
        snprintf(buf, len, "%lldK", (long long)(n / 1000));
}

/* Runs sql `reps` times through the engine with a hint (AUTO: routed); samples in us. */
static void engine_runs(actx *c, const char *sql, rhei_side hint, int reps, bu_samples *s,
                        rhei_side *side, const char **reason, size_t *rows)
{
    for (int i = 0; i < reps; i++) {
        rhei_result *r = NULL;
        uint64_t a = bu_now_ns();
        int rc = hint == RHEI_SIDE_AUTO ? rhei_query(c->db, sql, NULL, 0, &r)
                                        : rhei_query_with_hint(c->db, sql, hint, &r);
        double us = (double)(bu_now_ns() - a) / 1e3;
        bu_check(c->db, rc, sql);
        if (s)
            bu_samples_add(s, us);
        *side = rhei_result_side(r);
        *reason = rhei_result_reason(r);
        *rows = rhei_result_row_count(r);
        rhei_result_free(r);
    }
}

static void sqlite_runs(actx *c, const char *sql, int reps, bu_samples *s)
{
    sqlite3_stmt *st = bu_sq_prepare(c->raw, sql);
    for (int i = 0; i < reps; i++) {
        uint64_t a = bu_now_ns();
        bu_sq_run(c->raw, st);
        bu_samples_add(s, (double)(bu_now_ns() - a) / 1e3);
    }
    sqlite3_finalize(st);
}

static void duck_runs(actx *c, const char *sql, int reps, bu_samples *s)
{
    for (int i = 0; i < reps; i++) {
        duckdb_result res;
        uint64_t a = bu_now_ns();
        if (duckdb_query(c->dcon, sql, &res) != DuckDBSuccess)
            bu_die("duckdb: '%.60s': %s", sql, duckdb_result_error(&res));
        bu_samples_add(s, (double)(bu_now_ns() - a) / 1e3);
        duckdb_destroy_result(&res);
    }
}

static void one_query(actx *c, const query *q, int target)
{
    int big = c->nrows >= 5000000;
    int ereps = bu_opt.quick ? 3 : big ? 5 : 7, sreps = bu_opt.quick ? 2 : 3;
    bu_samples es = {0}, ss = {0}, ds = {0}, hs = {0};
    rhei_side side, hside;
    const char *reason, *hreason;
    size_t rows, hrows;
    bu_log("analytics: %s over %s rows", q->label, c->size);
    engine_runs(c, q->sql, RHEI_SIDE_AUTO, 1, NULL, &side, &reason, &rows); /* warm-up */
    engine_runs(c, q->sql, RHEI_SIDE_AUTO, ereps, &es, &side, &reason, &rows);
    duck_runs(c, q->sql, ereps, &ds);
    sqlite_runs(c, q->sql, sreps, &ss);

    char name[64];
    snprintf(name, sizeof name, "%s %s rows (ms/query)", q->label, c->size);
    bu_row *row = bu_row_add("analytics", name, "ms", 1);
    row->engine = bu_median(&es) / 1e3;
    row->base = bu_median(&ss) / 1e3;
    snprintf(row->base_name, sizeof row->base_name, "sqlite, same sql");
    row->p50_us = bu_pct(&es, 50);
    row->p99_us = bu_pct(&es, 99);
    row->base_p50_us = bu_pct(&ss, 50);
    row->base_p99_us = bu_pct(&ss, 99);
    int n = snprintf(row->note, sizeof row->note, "served by %s (%s), %zu rows; raw duckdb on"
                     " the engine's store %.1f ms",
                     side == RHEI_SIDE_OLAP ? "duckdb" : "sqlite", reason, rows,
                     bu_median(&ds) / 1e3);
    if (side == RHEI_SIDE_OLTP) { /* what the other side would have given */
        engine_runs(c, q->sql, RHEI_SIDE_OLAP, ereps, &hs, &hside, &hreason, &hrows);
        snprintf(row->note + n, sizeof row->note - (size_t)n, "; hinted to olap %.1f ms",
                 bu_median(&hs) / 1e3);
    }
    if (target) {
        bu_row_target(row, BU_TARGET_RATIO_MIN, 25, ">= 25x faster than sqlite");
    }
    bu_samples_free(&es);
    bu_samples_free(&ss);
    bu_samples_free(&ds);
    bu_samples_free(&hs);
}

static void point_reads(actx *c)
{
    int n = bu_opt.quick ? 2000 : 20000;
    bu_samples es = {0}, rs = {0};
    sqlite3_stmt *st = bu_sq_prepare(c->raw, BU_POINT_SQL);
    uint64_t x = 88172645463325252ull;
    bu_log("analytics: %d point reads over %s rows", n, c->size);
    for (int i = 0; i < n + 200; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: scattered keys */
        int64_t id = 1 + (int64_t)(x % (uint64_t)c->nrows);
        rhei_value p = rhei_int(id);
        rhei_result *r = NULL;
        uint64_t a = bu_now_ns();
        int rc = rhei_query(c->db, BU_POINT_SQL, &p, 1, &r);
        double eus = (double)(bu_now_ns() - a) / 1e3;
        bu_check(c->db, rc, "point read");
        if (rhei_result_side(r) != RHEI_SIDE_OLTP || rhei_result_row_count(r) != 1)
            bu_die("point read of id %lld: side %d (%s), %zu rows", (long long)id,
                   (int)rhei_result_side(r), rhei_result_reason(r), rhei_result_row_count(r));
        rhei_result_free(r);
        a = bu_now_ns();
        sqlite3_bind_int64(st, 1, id);
        bu_sq_run(c->raw, st);
        double rus = (double)(bu_now_ns() - a) / 1e3;
        if (i >= 200) { /* the first 200 warm both sides up */
            bu_samples_add(&es, eus);
            bu_samples_add(&rs, rus);
        }
    }
    sqlite3_finalize(st);
    char name[64];
    snprintf(name, sizeof name, "point read by pk %s rows (us, p50)", c->size);
    bu_row *row = bu_row_add("analytics", name, "us", 1);
    row->p50_us = row->engine = bu_pct(&es, 50);
    row->p99_us = bu_pct(&es, 99);
    row->base_p50_us = row->base = bu_pct(&rs, 50);
    row->base_p99_us = bu_pct(&rs, 99);
    snprintf(row->base_name, sizeof row->base_name, "raw sqlite prepared");
    snprintf(row->note, sizeof row->note, "%d scattered keys, routed rhei_query (oltp) vs a"
             " reused sqlite3_stmt; both read all five columns", n);
    bu_row_target(row, BU_TARGET_RATIO_MIN, 0.5, "p50 within 2x of raw sqlite");
    bu_samples_free(&es);
    bu_samples_free(&rs);
}

/* Fills `orders` through the engine's raw SQLite handle (before registering, so no change
 * events), then registers it: the initial copy into OLAP is timed against an appender. */
static void build(actx *c, const char *path)
{
    c->db = bu_engine_open(path);
    bu_check(c->db, rhei_execute(c->db, BU_ORDERS_DDL, NULL, 0, NULL), "create orders");
    bu_log("analytics: filling %s rows", c->size);
    double t0 = bu_now();
    bu_sq_fill(rhei_oltp_handle(c->db), 1, c->nrows, 1000000);
    bu_sq_exec(rhei_oltp_handle(c->db), "PRAGMA wal_checkpoint(TRUNCATE)");
    double fill = bu_now() - t0;
    bu_log("analytics: initial copy of %s rows", c->size);
    t0 = bu_now();
    bu_check(c->db, rhei_register_table(c->db, "orders", NULL, 0, NULL, 0), "register orders");
    double copy = bu_now() - t0;
    bu_check(c->db, rhei_sync_now(c->db, NULL), "rhei_sync_now");
    bu_engine_quiesce(c->db);

    duckdb_database d;
    duckdb_connection dc;
    bu_duck_open(&d, &dc);
    bu_duck_exec(dc, BU_ORDERS_DUCKDB_DDL);
    bu_order *rows = bu_orders_make(1, c->nrows);
    double app = bu_duck_append(dc, "orders", rows, c->nrows);
    free(rows);
    bu_duck_close(&d, &dc);

    char name[64];
    snprintf(name, sizeof name, "initial copy %s rows (rows/s)", c->size);
    bu_row *row = bu_row_add("analytics", name, "rows/s", 0);
    row->engine = (double)c->nrows / copy;
    row->base = (double)c->nrows / app;
    snprintf(row->base_name, sizeof row->base_name, "raw duckdb appender");
    snprintf(row->note, sizeof row->note, "rhei_register_table of a filled table: %.1f s;"
             " the sqlite fill took %.1f s (%.0f rows/s)", copy, fill,
             (double)c->nrows / fill);

    c->raw = bu_sq_open(path);
    duckdb_database *dbh = rhei_olap_handle(c->db);
    if (!dbh || duckdb_connect(*dbh, &c->dcon) != DuckDBSuccess)
        bu_die("cannot connect to the engine's duckdb store");
}

static void one_size(int64_t n, int target)
{
    actx c;
    char path[600], file[64];
    memset(&c, 0, sizeof c);
    c.nrows = n;
    size_label(c.size, sizeof c.size, n);
    snprintf(file, sizeof file, "analytics_%s.db", c.size);
    bu_path(path, sizeof path, file);
    build(&c, path);
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++)
        one_query(&c, &queries[i], target && i == 0);
    point_reads(&c);
    duckdb_disconnect(&c.dcon);
    sqlite3_close(c.raw);
    bu_check(c.db, rhei_close(c.db), "rhei_close");
    bu_unlink_db(path);
}

void w_analytics(void)
{
    if (bu_opt.quick) {
        one_size(100000, 1);
        return;
    }
    one_size(1000000, 0);
    one_size(10000000, 1);
}
