/* w_sidecar_floor.c — raw DuckDB for the sidecar workload: opened with the engine's settings,
 * and the floor of one poll cycle (what any sidecar must at least do in OLAP per cycle: one
 * transaction with the new versions and the watermark). Dies on any failure. */
#include "w_sidecar.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CYCLE_ROWS 64

void ws_duck_unlink(const char *path)
{
    char wal[640];
    snprintf(wal, sizeof wal, "%s.wal", path);
    unlink(path);
    unlink(wal);
}

void ws_duck_open(const char *path, duckdb_database *db, duckdb_connection *con)
{
    duckdb_config cfg = NULL;
    char *err = NULL;
    if (duckdb_create_config(&cfg) != DuckDBSuccess)
        bu_die("duckdb: cannot create a config");
    /* The engine's setting: no full checkpoint inside a commit (olap/duckdb.c). Threads stay
     * at DuckDB's default, as the engine's olap_threads = 0 leaves them. */
    duckdb_set_config(cfg, "checkpoint_threshold", "1GB");
    if (path)
        ws_duck_unlink(path);
    if (duckdb_open_ext(path, db, cfg, &err) != DuckDBSuccess) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", err ? err : "?");
        duckdb_free(err);
        duckdb_destroy_config(&cfg);
        bu_die("duckdb: cannot open '%s': %s", path ? path : ":memory:", msg);
    }
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(*db, con) != DuckDBSuccess)
        bu_die("duckdb: cannot connect");
}

static duckdb_prepared_statement prepare(duckdb_connection con, const char *sql)
{
    duckdb_prepared_statement st;
    if (duckdb_prepare(con, sql, &st) != DuckDBSuccess) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        bu_die("duckdb: cannot prepare '%.60s': %s", sql, msg);
    }
    return st;
}

static void run(duckdb_prepared_statement st, const char *what)
{
    duckdb_result res;
    if (duckdb_execute_prepared(st, &res) != DuckDBSuccess) {
        const char *err = duckdb_result_error(&res);
        bu_die("duckdb: %s: %s", what, err ? err : "?");
    }
    duckdb_destroy_result(&res);
}

/* Rows 1..n stamped a minute ago, as the source's fill. */
static void fill(ws_floor *f, int64_t n)
{
    duckdb_appender app;
    int64_t base = ws_wall_us() - 60000000;
    if (duckdb_appender_create(f->con, NULL, "orders", &app) != DuckDBSuccess)
        bu_die("duckdb: cannot create an appender on 'orders'");
    for (int64_t id = 1; id <= n; id++) {
        bu_order o;
        bu_order_make(id, &o);
        duckdb_append_int64(app, o.id);
        duckdb_append_varchar(app, o.customer);
        duckdb_append_varchar(app, o.category);
        duckdb_append_double(app, o.amount);
        duckdb_append_int64(app, o.qty);
        duckdb_append_int64(app, base + id);
        duckdb_append_int64(app, base + id);
        duckdb_append_null(app);
        if (duckdb_appender_end_row(app) != DuckDBSuccess)
            bu_die("duckdb: floor fill: %s", duckdb_appender_error(app));
    }
    if (duckdb_appender_close(app) != DuckDBSuccess)
        bu_die("duckdb: floor fill: %s", duckdb_appender_error(app));
    duckdb_appender_destroy(&app);
}

void ws_floor_open(ws_floor *f, const char *path, int64_t nrows, int nins, int nupd)
{
    char sql[2048];
    size_t k = 0;
    memset(f, 0, sizeof *f);
    if (nins + nupd > MAX_CYCLE_ROWS || nins + nupd < 1)
        bu_die("floor cycle of %d rows", nins + nupd);
    f->nins = nins;
    f->nupd = nupd;
    f->nrows = nrows;
    f->next_id = nrows + 1;
    ws_duck_open(path, &f->db, &f->con);
    bu_duck_exec(f->con, WS_DUCK_HIST("BIGINT"));
    bu_duck_exec(f->con, WS_DUCK_KV);
    fill(f, nrows);
    k = (size_t)snprintf(sql, sizeof sql, "INSERT INTO orders VALUES ");
    for (int i = 0; i < nins + nupd; i++)
        k += (size_t)snprintf(sql + k, sizeof sql - k, "%s(?, ?, ?, ?, ?, ?, ?, NULL)",
                              i ? ", " : "");
    f->ins = prepare(f->con, sql);
    if (nupd > 0) {
        k = (size_t)snprintf(sql, sizeof sql, "UPDATE orders SET _rhei_valid_to = ? WHERE"
                             " _rhei_valid_to IS NULL AND id IN (");
        for (int i = 0; i < nupd; i++)
            k += (size_t)snprintf(sql + k, sizeof sql - k, "%s?", i ? ", " : "");
        snprintf(sql + k, sizeof sql - k, ")");
        f->upd = prepare(f->con, sql);
    }
    f->kv = prepare(f->con, "INSERT INTO kv VALUES (?, ?)");
}

/* The cycle's new versions: f->nins new rows, then new versions of f->nupd updated keys. */
static void cycle_rows(ws_floor *f, bu_order *o)
{
    for (int i = 0; i < f->nins; i++)
        bu_order_make(f->next_id++, &o[i]);
    for (int i = f->nins; i < f->nins + f->nupd; i++) {
        bu_order_make(ws_update_id(f->nupdates++, f->nrows), &o[i]);
        o[i].amount += 0.25;
        o[i].qty = o[i].qty % 10 + 1;
    }
}

double ws_floor_cycle(ws_floor *f, int64_t ts)
{
    bu_order o[MAX_CYCLE_ROWS];
    char wm[64];
    int n = f->nins + f->nupd;
    cycle_rows(f, o);
    snprintf(wm, sizeof wm, "v1|%lld|%lld|2|i%lld", (long long)ts, (long long)(ts + n - 1),
             (long long)o[n - 1].id);
    uint64_t t0 = bu_now_ns();
    bu_duck_exec(f->con, "BEGIN");
    if (f->nupd > 0) {
        duckdb_bind_int64(f->upd, 1, ts + f->nins);
        for (int i = 0; i < f->nupd; i++)
            duckdb_bind_int64(f->upd, (idx_t)(2 + i), o[f->nins + i].id);
        run(f->upd, "floor: close versions");
    }
    for (int i = 0; i < n; i++) {
        idx_t p = (idx_t)(7 * i);
        duckdb_bind_int64(f->ins, p + 1, o[i].id);
        duckdb_bind_varchar(f->ins, p + 2, o[i].customer);
        duckdb_bind_varchar(f->ins, p + 3, o[i].category);
        duckdb_bind_double(f->ins, p + 4, o[i].amount);
        duckdb_bind_int64(f->ins, p + 5, o[i].qty);
        duckdb_bind_int64(f->ins, p + 6, ts + i);
        duckdb_bind_int64(f->ins, p + 7, ts + i);
    }
    run(f->ins, "floor: insert versions");
    duckdb_bind_varchar(f->kv, 1, "sidecar.orders.wm");
    duckdb_bind_varchar(f->kv, 2, wm);
    run(f->kv, "floor: watermark");
    bu_duck_exec(f->con, "COMMIT");
    return (double)(bu_now_ns() - t0) / 1e3;
}

void ws_floor_close(ws_floor *f)
{
    duckdb_destroy_prepare(&f->ins);
    if (f->upd)
        duckdb_destroy_prepare(&f->upd);
    duckdb_destroy_prepare(&f->kv);
    bu_duck_close(&f->db, &f->con);
}
