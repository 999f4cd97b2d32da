/* w_sidecar_src.c — the source a sidecar follows in the benchmark: a SQLite file or a
 * PostgreSQL database holding `orders`, filled with the suite's rows, changed a few rows per
 * transaction, and read raw (poll query, first copy) for the floors. Dies on any failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gmtime_r */
#endif
#include "w_sidecar.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SQ_DDL                                                                               \
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, category TEXT NOT" \
    " NULL, amount REAL NOT NULL, qty INTEGER NOT NULL, updated_at INTEGER NOT NULL)"
#define PG_DDL                                                                               \
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, category text NOT"  \
    " NULL, amount double precision NOT NULL, qty bigint NOT NULL, updated_at timestamptz"   \
    " NOT NULL)"
#define INDEX_DDL "CREATE INDEX orders_updated ON orders (updated_at, id)"
#define COLS "id, customer, category, amount, qty, updated_at"
#define FILL_AGE_US 60000000 /* the fill is stamped a minute ago */

int64_t ws_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ws_update_id(int64_t k, int64_t n) { return 1 + (k * 7919) % n; }

/* --- PostgreSQL helpers ------------------------------------------------------------------ */

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        bu_die("postgres: '%.60s': %s", sql, msg);
    }
    PQclear(r);
}

static PGconn *pg_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        PQfinish(c);
        bu_die("postgres: cannot connect to '%s': %s", conninfo, msg);
    }
    return c;
}

static void pg_prepare(PGconn *c, const char *name, const char *sql)
{
    PGresult *r = PQprepare(c, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        bu_die("postgres: cannot prepare '%.60s': %s", sql, msg);
    }
    PQclear(r);
}

/* Runs a prepared statement with text parameters; returns its result (caller clears). */
static PGresult *pg_run(PGconn *c, const char *name, int n, const char *const *params)
{
    PGresult *r = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        PQclear(r);
        bu_die("postgres: statement '%s': %s", name, msg);
    }
    return r;
}

/* "2026-01-02 03:04:05.678901+00" */
static void pg_stamp(char *buf, size_t n, int64_t us)
{
    time_t sec = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%06lld+00", (long long)(us % 1000000));
}

/* --- naming and filling ------------------------------------------------------------------ */

void ws_src_init(ws_src *s, ws_kind kind, const char *name, const char *pg_conninfo,
                 PGconn *admin)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (kind == WS_SQLITE) {
        char file[80];
        snprintf(file, sizeof file, "%s.db", name);
        bu_path(s->path, sizeof s->path, file);
        snprintf(s->spec, sizeof s->spec, "sqlite:%s", s->path);
        return;
    }
    /* libpq takes the last value of a repeated keyword: this dbname wins. */
    snprintf(s->dbname, sizeof s->dbname, "%s", name);
    snprintf(s->conninfo, sizeof s->conninfo, "%s dbname=%s", pg_conninfo, name);
    snprintf(s->spec, sizeof s->spec, "postgres:%s", s->conninfo);
    s->admin = admin; /* the server is the run's own: no database of that name exists */
}

static void sq_fill(ws_src *s, int64_t n, int64_t base)
{
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.fill", s->path);
    bu_unlink_db(tmp);
    sqlite3 *h = bu_sq_open(tmp);
    bu_sq_exec(h, SQ_DDL);
    sqlite3_stmt *st = bu_sq_prepare(h, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    bu_sq_exec(h, "BEGIN");
    for (int64_t id = 1; id <= n; id++) {
        bu_order o;
        bu_order_make(id, &o);
        bu_order_bind(st, &o);
        sqlite3_bind_int64(st, 6, base + id);
        if (sqlite3_step(st) != SQLITE_DONE)
            bu_die("sqlite: source fill: %s", sqlite3_errmsg(h));
        sqlite3_reset(st);
    }
    bu_sq_exec(h, "COMMIT");
    bu_sq_exec(h, INDEX_DDL);
    sqlite3_finalize(st);
    sqlite3_close(h); /* the last connection checkpoints and removes the -wal */
    /* Appears whole at once: a sidecar polling the path never sees a half-filled file. */
    if (rename(tmp, s->path) != 0)
        bu_die("cannot rename '%s' to '%s'", tmp, s->path);
    s->w = bu_sq_open(s->path);
    s->ins = bu_sq_prepare(s->w, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s->upd = bu_sq_prepare(s->w, "UPDATE orders SET amount = ?2, qty = ?3, updated_at = ?4"
                                 " WHERE id = ?1");
    if (sqlite3_open_v2(s->path, &s->r, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        bu_die("sqlite: cannot open '%s' read-only", s->path);
    s->read = bu_sq_prepare(s->r, "SELECT " COLS " FROM orders WHERE (updated_at, id) >"
                                  " (?1, ?2) ORDER BY updated_at, id LIMIT 10000");
    s->last_ts = s->pos_ts = base + n;
    s->pos_id = n;
}

static void pg_copy_in(PGconn *c, int64_t n, int64_t base)
{
    PGresult *r = PQexec(c, "COPY orders FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN)
        bu_die("postgres: COPY: %s", PQresultErrorMessage(r));
    PQclear(r);
    char line[256], ts[48];
    for (int64_t id = 1; id <= n; id++) {
        bu_order o;
        bu_order_make(id, &o);
        pg_stamp(ts, sizeof ts, base + id);
        int len = snprintf(line, sizeof line, "%lld\t%s\t%s\t%.2f\t%lld\t%s\n", (long long)id,
                           o.customer, o.category, o.amount, (long long)o.qty, ts);
        if (PQputCopyData(c, line, len) != 1)
            bu_die("postgres: COPY data: %s", PQerrorMessage(c));
    }
    if (PQputCopyEnd(c, NULL) != 1)
        bu_die("postgres: COPY end: %s", PQerrorMessage(c));
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        bu_die("postgres: COPY: %s", PQresultErrorMessage(r));
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
}

static void pg_fill(ws_src *s, int64_t n, int64_t base)
{
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", s->dbname);
    pg_exec(s->admin, sql);
    s->pw = pg_connect(s->conninfo);
    pg_exec(s->pw, PG_DDL);
    pg_copy_in(s->pw, n, base);
    pg_exec(s->pw, INDEX_DDL);
    pg_exec(s->pw, "ANALYZE orders"); /* plans as on an application's table, with stats */
    pg_prepare(s->pw, "ins", "INSERT INTO orders VALUES ($1, $2, $3, $4, $5,"
                             " clock_timestamp() - interval '5 milliseconds')");
    pg_prepare(s->pw, "upd", "UPDATE orders SET amount = $2, qty = $3, updated_at ="
                             " clock_timestamp() - interval '5 milliseconds' WHERE id = $1");
    s->pr = pg_connect(s->conninfo);
    pg_prepare(s->pr, "read", "SELECT " COLS " FROM orders WHERE (updated_at, id) > ($1, $2)"
                              " ORDER BY updated_at, id LIMIT 10000");
    pg_stamp(s->pos_tstext, sizeof s->pos_tstext, base + n);
    s->pos_id = n;
}

void ws_src_fill(ws_src *s, int64_t n)
{
    int64_t base = ws_wall_us() - FILL_AGE_US;
    s->nrows = n;
    s->next_id = n + 1;
    if (s->kind == WS_SQLITE)
        sq_fill(s, n, base);
    else
        pg_fill(s, n, base);
}

/* --- changes ----------------------------------------------------------------------------- */

/* The k-th update's new values: amount and quantity both change. */
static void updated_values(int64_t k, double *amount, int64_t *qty)
{
    *amount = (double)(k % 100000) / 100.0 + 0.25;
    *qty = 1 + k % 10;
}

static void sq_changes(ws_src *s, int ins, int upd)
{
    int64_t ts = ws_wall_us() - WS_STAMP_LAG_US;
    if (ts <= s->last_ts)
        ts = s->last_ts + 1;
    bu_sq_exec(s->w, "BEGIN");
    for (int i = 0; i < ins + upd; i++, ts++) {
        sqlite3_stmt *st = i < ins ? s->ins : s->upd;
        if (i < ins) {
            bu_order o;
            bu_order_make(s->next_id++, &o);
            bu_order_bind(st, &o);
            sqlite3_bind_int64(st, 6, ts);
        } else {
            double amount;
            int64_t qty, k = s->nupdates++;
            updated_values(k, &amount, &qty);
            sqlite3_bind_int64(st, 1, ws_update_id(k, s->nrows));
            sqlite3_bind_double(st, 2, amount);
            sqlite3_bind_int64(st, 3, qty);
            sqlite3_bind_int64(st, 4, ts);
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            bu_die("sqlite: source change: %s", sqlite3_errmsg(s->w));
        sqlite3_reset(st);
    }
    bu_sq_exec(s->w, "COMMIT");
    s->last_ts = ts - 1;
}

static void pg_changes(ws_src *s, int ins, int upd)
{
    char a[5][48];
    const char *p[5] = {a[0], a[1], a[2], a[3], a[4]};
    pg_exec(s->pw, "BEGIN");
    for (int i = 0; i < ins; i++) {
        bu_order o;
        bu_order_make(s->next_id++, &o);
        snprintf(a[0], sizeof a[0], "%lld", (long long)o.id);
        snprintf(a[1], sizeof a[1], "%s", o.customer);
        snprintf(a[2], sizeof a[2], "%s", o.category);
        snprintf(a[3], sizeof a[3], "%.2f", o.amount);
        snprintf(a[4], sizeof a[4], "%lld", (long long)o.qty);
        PQclear(pg_run(s->pw, "ins", 5, p));
    }
    for (int i = 0; i < upd; i++) {
        double amount;
        int64_t qty, k = s->nupdates++;
        updated_values(k, &amount, &qty);
        snprintf(a[0], sizeof a[0], "%lld", (long long)ws_update_id(k, s->nrows));
        snprintf(a[1], sizeof a[1], "%.2f", amount);
        snprintf(a[2], sizeof a[2], "%lld", (long long)qty);
        PQclear(pg_run(s->pw, "upd", 3, p));
    }
    pg_exec(s->pw, "COMMIT");
}

void ws_src_changes(ws_src *s, int ins, int upd)
{
    if (s->kind == WS_SQLITE)
        sq_changes(s, ins, upd);
    else
        pg_changes(s, ins, upd);
}

/* --- raw reads --------------------------------------------------------------------------- */

static int sq_read(ws_src *s)
{
    volatile int64_t sink = 0; /* every cell is read, as the sidecar decodes them */
    int n = 0, rc;
    sqlite3_bind_int64(s->read, 1, s->pos_ts);
    sqlite3_bind_int64(s->read, 2, s->pos_id);
    while ((rc = sqlite3_step(s->read)) == SQLITE_ROW) {
        sink += sqlite3_column_int64(s->read, 0) + sqlite3_column_bytes(s->read, 1) +
                sqlite3_column_bytes(s->read, 2) + (int64_t)sqlite3_column_double(s->read, 3) +
                sqlite3_column_int64(s->read, 4);
        s->pos_id = sqlite3_column_int64(s->read, 0);
        s->pos_ts = sqlite3_column_int64(s->read, 5);
        n++;
    }
    if (rc != SQLITE_DONE)
        bu_die("sqlite: raw read: %s", sqlite3_errmsg(s->r));
    sqlite3_reset(s->read);
    (void)sink;
    return n;
}

static int pg_read(ws_src *s)
{
    volatile size_t sink = 0;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)s->pos_id);
    const char *p[2] = {s->pos_tstext, id};
    PGresult *r = pg_run(s->pr, "read", 2, p);
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 6; c++)
            sink += strlen(PQgetvalue(r, i, c));
    if (n > 0) {
        s->pos_id = strtoll(PQgetvalue(r, n - 1, 0), NULL, 10);
        snprintf(s->pos_tstext, sizeof s->pos_tstext, "%s", PQgetvalue(r, n - 1, 5));
    }
    PQclear(r);
    (void)sink;
    return n;
}

double ws_src_read_us(ws_src *s, int want)
{
    uint64_t t0 = bu_now_ns();
    int n = s->kind == WS_SQLITE ? sq_read(s) : pg_read(s);
    double us = (double)(bu_now_ns() - t0) / 1e3;
    if (n != want)
        bu_die("raw source read found %d rows, expected %d", n, want);
    return us;
}

/* --- the raw first copy ------------------------------------------------------------------ */

static void append_row(duckdb_appender app, const bu_order *o, int64_t ts, int pg)
{
    duckdb_append_int64(app, o->id);
    duckdb_append_varchar(app, o->customer);
    duckdb_append_varchar(app, o->category);
    duckdb_append_double(app, o->amount);
    duckdb_append_int64(app, o->qty);
    if (pg)
        duckdb_append_timestamp(app, (duckdb_timestamp){ts});
    else
        duckdb_append_int64(app, ts);
    duckdb_append_int64(app, ts);
    duckdb_append_null(app);
    if (duckdb_appender_end_row(app) != DuckDBSuccess)
        bu_die("duckdb: append: %s", duckdb_appender_error(app));
}

static void sq_copy_rows(ws_src *s, duckdb_appender app)
{
    sqlite3_stmt *st = bu_sq_prepare(s->r, "SELECT " COLS " FROM orders");
    int rc;
    bu_order o;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        o.id = sqlite3_column_int64(st, 0);
        snprintf(o.customer, sizeof o.customer, "%s", (const char *)sqlite3_column_text(st, 1));
        o.category = (const char *)sqlite3_column_text(st, 2);
        o.amount = sqlite3_column_double(st, 3);
        o.qty = sqlite3_column_int64(st, 4);
        append_row(app, &o, sqlite3_column_int64(st, 5), 0);
    }
    if (rc != SQLITE_DONE)
        bu_die("sqlite: raw copy: %s", sqlite3_errmsg(s->r));
    sqlite3_finalize(st);
}

/* One result in text form, the stamp as epoch microseconds computed by the server. */
static void pg_copy_rows(ws_src *s, duckdb_appender app)
{
    PGresult *r = PQexec(s->pr, "SELECT id, customer, category, amount, qty,"
                                " (extract(epoch FROM updated_at) * 1000000)::bigint"
                                " FROM orders");
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        bu_die("postgres: raw copy: %s", PQresultErrorMessage(r));
    bu_order o;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        o.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        snprintf(o.customer, sizeof o.customer, "%s", PQgetvalue(r, i, 1));
        o.category = PQgetvalue(r, i, 2);
        o.amount = strtod(PQgetvalue(r, i, 3), NULL);
        o.qty = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        append_row(app, &o, strtoll(PQgetvalue(r, i, 5), NULL, 10), 1);
    }
    PQclear(r);
}

double ws_src_copy_duck(ws_src *s, duckdb_connection con)
{
    duckdb_appender app;
    uint64_t t0 = bu_now_ns();
    bu_duck_exec(con, "BEGIN");
    bu_duck_exec(con, s->kind == WS_PG ? WS_DUCK_HIST("TIMESTAMP") : WS_DUCK_HIST("BIGINT"));
    bu_duck_exec(con, WS_DUCK_KV);
    if (duckdb_appender_create(con, NULL, "orders", &app) != DuckDBSuccess)
        bu_die("duckdb: cannot create an appender on 'orders'");
    if (s->kind == WS_SQLITE)
        sq_copy_rows(s, app);
    else
        pg_copy_rows(s, app);
    if (duckdb_appender_close(app) != DuckDBSuccess)
        bu_die("duckdb: appender close: %s", duckdb_appender_error(app));
    duckdb_appender_destroy(&app);
    bu_duck_exec(con, "INSERT INTO kv VALUES ('sidecar.orders.wm', 'v1|0|0|1|i0')");
    bu_duck_exec(con, "COMMIT");
    return (double)(bu_now_ns() - t0) / 1e9;
}

void ws_src_close(ws_src *s)
{
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->upd);
    sqlite3_finalize(s->read);
    sqlite3_close(s->w);
    sqlite3_close(s->r);
    if (s->kind == WS_SQLITE)
        bu_unlink_db(s->path);
    PQfinish(s->pw);
    PQfinish(s->pr);
    if (s->kind == WS_PG && s->admin) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->dbname);
        pg_exec(s->admin, sql);
    }
    memset(s, 0, sizeof *s);
}
