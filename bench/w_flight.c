/* w_flight.c — workload "flight": the Flight SQL server (src/net/flight) in this process on
 * 127.0.0.1, driven by the minimal gRPC C client beside it. Rows: a 100K-row full scan (q/s
 * and rows/s) against DuckDB's own Arrow export of the same query into memory; a routed point
 * query's round trip p50/p99 against the same rhei_query in process; 8 concurrent clients
 * against one; zstd bytes and time against uncompressed; peak RSS while a slow client reads
 * a large result. Built only when the server is (RHEI_BENCH_FLIGHT). */
#include "bench_util.h"
#ifdef RHEI_BENCH_FLIGHT
#include "flight.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_ROWS 100000
#define SCAN_SQL "SELECT * FROM orders"

typedef struct fctx {
    rhei_db *db;
    rhei_flight *srv;
    char target[64];
    duckdb_connection dcon;
} fctx;

static void fquery(rhei_flight_client *cl, const char *sql, const char *comp, int delay_us,
                   rhei_flight_stats *st)
{
    char err[512];
    if (rhei_flight_client_query(cl, sql, comp, delay_us, st, err, sizeof err))
        bu_die("flight query '%s': %s", sql, err);
}

/* DuckDB's own Arrow export of the query, every array fetched into memory. */
static int64_t duck_arrow(duckdb_connection dc, const char *sql)
{
    duckdb_arrow res;
    int64_t rows = 0;
    if (duckdb_query_arrow(dc, sql, &res) != DuckDBSuccess)
        bu_die("duckdb arrow query: %s", duckdb_query_arrow_error(res));
    for (;;) {
        struct ArrowArray *a = calloc(1, sizeof *a);
        duckdb_arrow_array arr = (duckdb_arrow_array)a;
        if (!a || duckdb_query_arrow_array(res, &arr) != DuckDBSuccess)
            bu_die("duckdb arrow fetch");
        int64_t n = a->release ? a->length : 0;
        if (a->release)
            a->release(a);
        free(a);
        if (n == 0)
            break;
        rows += n;
    }
    duckdb_destroy_arrow(&res);
    return rows;
}

static void scan(fctx *c, rhei_flight_client *cl, double *qps_out)
{
    int reps = bu_opt.quick ? 3 : 15, per = bu_opt.quick ? 2 : 10;
    bu_samples e = {0}, b = {0};
    rhei_flight_stats st;
    fquery(cl, SCAN_SQL, NULL, 0, &st); /* warm */
    if (st.rows != SCAN_ROWS)
        bu_die("flight scan: %lld rows, want %d", (long long)st.rows, SCAN_ROWS);
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        for (int i = 0; i < per; i++)
            fquery(cl, SCAN_SQL, NULL, 0, &st);
        bu_samples_add(&e, per / (bu_now() - t0));
        t0 = bu_now();
        for (int i = 0; i < per; i++)
            if (duck_arrow(c->dcon, SCAN_SQL) != SCAN_ROWS)
                bu_die("duckdb arrow scan: wrong row count");
        bu_samples_add(&b, per / (bu_now() - t0));
    }
    bu_samples er = {0}, br = {0};
    for (size_t i = 0; i < e.n; i++) {
        bu_samples_add(&er, e.v[i] * SCAN_ROWS);
        bu_samples_add(&br, b.v[i] * SCAN_ROWS);
    }
    bu_row *q = bu_row_versus("flight", "flight scan 100K rows (q/s)", "q/s", &e, &b,
                              "duckdb arrow export");
    *qps_out = q->engine;
    snprintf(q->note, sizeof q->note, "GetFlightInfo + DoGet of SELECT * (5 columns) over "
             "loopback, %lld messages, vs duckdb_query_arrow of the same query in memory",
             (long long)st.messages);
    bu_row_target(q, BU_TARGET_ENGINE_MIN, 1713, ">= 1,713 q/s (the original, locally)");
    bu_row *rr = bu_row_versus("flight", "flight scan 100K rows (rows/s)", "rows/s", &er, &br,
                               "duckdb arrow export");
    bu_row_target(rr, BU_TARGET_RATIO_MIN, 0.7, ">= 0.7x duckdb's own arrow export");
    bu_samples_free(&e), bu_samples_free(&b), bu_samples_free(&er), bu_samples_free(&br);
}

/* The engine alone, in process: rhei_query_arrow of the scan (what DoGet streams), every
 * batch taken. Separates the engine's result path from the server's transport above. */
static void engine_only(fctx *c)
{
    int reps = bu_opt.quick ? 3 : 15, per = bu_opt.quick ? 2 : 10;
    bu_samples e = {0}, b = {0};
    rhei_route_info ri;
    memset(&ri, 0, sizeof ri);
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        for (int i = 0; i < per; i++) {
            struct ArrowArrayStream st;
            struct ArrowArray a;
            bu_check(c->db, rhei_query_arrow(c->db, SCAN_SQL, NULL, 0, NULL, &ri, &st), "scan");
            while (st.get_next(&st, &a) == 0 && a.release)
                a.release(&a);
            st.release(&st);
        }
        bu_samples_add(&e, per / (bu_now() - t0));
        t0 = bu_now();
        for (int i = 0; i < per; i++)
            duck_arrow(c->dcon, SCAN_SQL);
        bu_samples_add(&b, per / (bu_now() - t0));
    }
    bu_row *q = bu_row_versus("flight", "engine scan 100K to arrow, in process (q/s)", "q/s", &e,
                              &b, "duckdb arrow export");
    snprintf(q->note, sizeof q->note,
             "rhei_query_arrow without the network (served by %s: %s):"
             " the part of the Flight scan spent in the engine's result path",
             ri.side == RHEI_SIDE_OLAP ? "duckdb" : "sqlite", ri.reason ? ri.reason : "");
    bu_samples_free(&e), bu_samples_free(&b);
}

static void point(fctx *c, rhei_flight_client *cl)
{
    int n = bu_opt.quick ? 200 : 2000;
    bu_samples e = {0}, b = {0};
    char sql[128];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < n + 50; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t id = 1 + (int64_t)(x % SCAN_ROWS);
        snprintf(sql, sizeof sql, "SELECT id, customer, category, amount, qty FROM orders "
                 "WHERE id = %lld", (long long)id);
        rhei_flight_stats st;
        uint64_t a = bu_now_ns();
        fquery(cl, sql, NULL, 0, &st);
        double eus = (double)(bu_now_ns() - a) / 1e3;
        if (st.rows != 1)
            bu_die("flight point query of id %lld: %lld rows", (long long)id, (long long)st.rows);
        rhei_result *r = NULL;
        a = bu_now_ns();
        bu_check(c->db, rhei_query(c->db, sql, NULL, 0, &r), "point query");
        double bus = (double)(bu_now_ns() - a) / 1e3;
        rhei_result_free(r);
        if (i >= 50)
            bu_samples_add(&e, eus), bu_samples_add(&b, bus);
    }
    bu_row *row = bu_row_add("flight", "flight point query (us, p50)", "us", 1);
    row->p50_us = row->engine = bu_pct(&e, 50);
    row->p99_us = bu_pct(&e, 99);
    row->base_p50_us = row->base = bu_pct(&b, 50);
    row->base_p99_us = bu_pct(&b, 99);
    snprintf(row->base_name, sizeof row->base_name, "rhei_query in process");
    snprintf(row->note, sizeof row->note, "%d keys routed to SQLite; two round trips "
             "(GetFlightInfo with its schema probe, DoGet) vs the same routed query", n);
    bu_samples_free(&e), bu_samples_free(&b);
}

typedef struct worker {
    fctx *c;
    double seconds;
    int64_t rows;
} worker;

static void *client_thread(void *arg)
{
    worker *w = arg;
    rhei_flight_client *cl;
    if (rhei_flight_client_open(w->c->target, &cl))
        bu_die("flight client");
    double end = bu_now() + w->seconds;
    while (bu_now() < end) {
        rhei_flight_stats st;
        fquery(cl, SCAN_SQL, NULL, 0, &st);
        w->rows += st.rows;
    }
    rhei_flight_client_close(cl);
    return NULL;
}

static double clients(fctx *c, int n, double seconds)
{
    pthread_t t[8];
    worker w[8];
    double t0 = bu_now();
    for (int i = 0; i < n; i++) {
        w[i] = (worker){c, seconds, 0};
        pthread_create(&t[i], NULL, client_thread, &w[i]);
    }
    int64_t rows = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        rows += w[i].rows;
    }
    return (double)rows / (bu_now() - t0);
}

static void concurrent(fctx *c)
{
    double secs = bu_opt.quick ? 0.5 : 4;
    double one = clients(c, 1, secs), eight = clients(c, 8, secs);
    bu_row *row = bu_row_add("flight", "flight 8 clients scanning (rows/s)", "rows/s", 0);
    row->engine = eight;
    row->base = one;
    snprintf(row->base_name, sizeof row->base_name, "1 client");
    snprintf(row->note, sizeof row->note, "aggregate rows/s of 8 client threads looping the "
             "100K scan for %.0f s, vs one; 2 cores run server and clients", secs);
    bu_row_target(row, BU_TARGET_RATIO_MIN, 1.6, ">= 1.6x one client");
}

static void zstd(rhei_flight_client *cl)
{
    int reps = bu_opt.quick ? 2 : 10;
    bu_samples e = {0}, b = {0};
    rhei_flight_stats z, p;
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        fquery(cl, SCAN_SQL, "zstd", 0, &z);
        bu_samples_add(&e, 1 / (bu_now() - t0));
        t0 = bu_now();
        fquery(cl, SCAN_SQL, NULL, 0, &p);
        bu_samples_add(&b, 1 / (bu_now() - t0));
    }
    if (z.rows != p.rows)
        bu_die("zstd scan: %lld rows, uncompressed %lld", (long long)z.rows, (long long)p.rows);
    bu_row *t = bu_row_versus("flight", "flight scan 100K zstd (q/s)", "q/s", &e, &b,
                              "uncompressed");
    snprintf(t->note, sizeof t->note, "x-arrow-compression: zstd (level 1, per buffer)");
    bu_row *s = bu_row_add("flight", "flight scan 100K zstd (MB on the wire)", "MB", 1);
    s->engine = (double)z.wire_bytes / 1e6;
    s->base = (double)p.wire_bytes / 1e6;
    snprintf(s->base_name, sizeof s->base_name, "uncompressed");
    bu_samples_free(&e), bu_samples_free(&b);
}

static void slow_reader(rhei_flight_client *cl)
{
    int64_t n = bu_opt.quick ? 1000000 : 10000000;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT range AS i FROM range(%lld)", (long long)n);
    double before = bu_rss_now_mb();
    bu_rss_reset_peak();
    rhei_flight_stats st;
    fquery(cl, sql, NULL, 20000, &st);
    if (st.rows != n)
        bu_die("slow reader: %lld rows, want %lld", (long long)st.rows, (long long)n);
    char name[64];
    snprintf(name, sizeof name, "flight RSS, %lldM rows to a slow client (MB)", (long long)(n / 1000000));
    bu_row *row = bu_row_add("flight", name, "MB", 1);
    row->engine = bu_rss_peak_mb() - before;
    snprintf(row->note, sizeof row->note,
             "peak RSS growth of the process (server and client) "
             "while a client pausing 20 ms per message reads one BIGINT column; DoGet streams "
             "rhei_query_arrow's batches");
    bu_row_target(row, BU_TARGET_ENGINE_MAX, 200, "< 200 MB");

}

void w_flight(void)
{
    fctx c;
    char path[600], err[512];
    memset(&c, 0, sizeof c);
    bu_path(path, sizeof path, "flight.db");
    c.db = bu_engine_open(path);
    bu_check(c.db, rhei_execute(c.db, BU_ORDERS_DDL, NULL, 0, NULL), "create orders");
    bu_sq_fill(rhei_oltp_handle(c.db), 1, SCAN_ROWS, 100000);
    bu_check(c.db, rhei_register_table(c.db, "orders", NULL, 0, NULL, 0), "register orders");
    bu_check(c.db, rhei_sync_now(c.db, NULL), "sync");
    bu_engine_quiesce(c.db);
    duckdb_database *dbh = rhei_olap_handle(c.db);
    if (!dbh || duckdb_connect(*dbh, &c.dcon) != DuckDBSuccess)
        bu_die("cannot connect to the engine's duckdb store");
    rhei_flight_opts o;
    memset(&o, 0, sizeof o);
    snprintf(o.host, sizeof o.host, "127.0.0.1");
    snprintf(o.compression, sizeof o.compression, "none");
    o.max_calls = 16;
    if (rhei_flight_start(c.db, &o, &c.srv, err, sizeof err))
        bu_die("flight server: %s", err);
    snprintf(c.target, sizeof c.target, "127.0.0.1:%d", rhei_flight_port(c.srv));
    rhei_flight_client *cl;
    if (rhei_flight_client_open(c.target, &cl))
        bu_die("flight client");
    double qps;
    bu_log("flight: scans");
    scan(&c, cl, &qps);
    engine_only(&c);
    bu_log("flight: point queries");
    point(&c, cl);
    bu_log("flight: concurrent clients");
    concurrent(&c);
    bu_log("flight: zstd");
    zstd(cl);
    bu_log("flight: slow reader");
    slow_reader(cl);
    rhei_flight_client_close(cl);
    rhei_flight_stop(c.srv, 1000);
    duckdb_disconnect(&c.dcon);
    bu_check(c.db, rhei_close(c.db), "rhei_close");
    bu_unlink_db(path);
}
#else
void w_flight(void)
{
    bu_row *r = bu_row_add("flight", "flight scan 100K rows (q/s)", "q/s", 0);
    bu_row_skip(r, "rh was built without the Flight SQL server");
}
#endif
