/* w_flight.c — workload "flight": the Flight SQL server (src/net/flight) in this process on
 * 127.0.0.1, driven by the minimal gRPC C client beside it. Rows: a 100K-row full scan (q/s
 * and rows/s) against DuckDB's own Arrow export of the same query into memory (materialised,
 * and streamed chunk by chunk) and against DuckDB merely fetching it (the ceiling of any
 * server over DuckDB); a routed point query's round trip p50/p99 against the same rhei_query
 * in process; 8 concurrent clients against one, next to 8 threads of DuckDB's own export
 * against one (how much this machine, shared and with the clients on it, lets scale), with
 * the process's CPU per query; zstd bytes and time against uncompressed; peak RSS while a
 * slow client reads a large result. Built only when the server is (RHEI_BENCH_FLIGHT). */
#include "bench_util.h"
#include <math.h>
#ifdef RHEI_BENCH_FLIGHT
#include "flight.h"
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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

/* DuckDB streaming the query: chunks fetched one by one and, when arrow is set, each turned
 * into an Arrow array by DuckDB (duckdb_data_chunk_to_arrow) and released. Without arrow it
 * is the least any server answering from DuckDB must spend: the query and its fetch. */
static int64_t duck_stream(duckdb_connection dc, const char *sql, int arrow)
{
    duckdb_prepared_statement ps;
    duckdb_pending_result pend;
    duckdb_result res;
    int64_t rows = 0;
    if (duckdb_prepare(dc, sql, &ps) != DuckDBSuccess ||
        duckdb_pending_prepared_streaming(ps, &pend) != DuckDBSuccess ||
        duckdb_execute_pending(pend, &res) != DuckDBSuccess)
        bu_die("duckdb streaming query '%s'", sql);
    duckdb_arrow_options ao = duckdb_result_get_arrow_options(&res);
    for (duckdb_data_chunk ch; (ch = duckdb_fetch_chunk(res));) {
        rows += (int64_t)duckdb_data_chunk_get_size(ch);
        if (arrow) {
            struct ArrowArray a;
            memset(&a, 0, sizeof a);
            duckdb_error_data ed = duckdb_data_chunk_to_arrow(ao, ch, &a);
            if (ed)
                bu_die("duckdb_data_chunk_to_arrow: %s", duckdb_error_data_message(ed));
            if (a.release)
                a.release(&a);
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_arrow_options(&ao);
    duckdb_destroy_result(&res);
    duckdb_destroy_pending(&pend);
    duckdb_destroy_prepare(&ps);
    return rows;
}

/* One DuckDB baseline pass of the scan: 0 duckdb_query_arrow, 1 streamed to Arrow, 2 fetch. */
static void duck_scan(duckdb_connection dc, int how)
{
    int64_t n = how == 0 ? duck_arrow(dc, SCAN_SQL) : duck_stream(dc, SCAN_SQL, how == 1);
    if (n != SCAN_ROWS)
        bu_die("duckdb scan: %lld rows, want %d", (long long)n, SCAN_ROWS);
}

static void scan(fctx *c, rhei_flight_client *cl, double *qps_out)
{
    int reps = bu_opt.quick ? 3 : 15, per = bu_opt.quick ? 2 : 10;
    bu_samples e = {0}, b[3] = {{0}};
    rhei_flight_stats st;
    fquery(cl, SCAN_SQL, NULL, 0, &st); /* warm */
    if (st.rows != SCAN_ROWS)
        bu_die("flight scan: %lld rows, want %d", (long long)st.rows, SCAN_ROWS);
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        for (int i = 0; i < per; i++)
            fquery(cl, SCAN_SQL, NULL, 0, &st);
        bu_samples_add(&e, per / (bu_now() - t0));
        for (int how = 0; how < 3; how++) {
            t0 = bu_now();
            for (int i = 0; i < per; i++)
                duck_scan(c->dcon, how);
            bu_samples_add(&b[how], per / (bu_now() - t0));
        }
    }
    bu_samples er = {0}, br[2] = {{0}};
    for (size_t i = 0; i < e.n; i++) {
        bu_samples_add(&er, e.v[i] * SCAN_ROWS);
        for (int how = 0; how < 2; how++)
            bu_samples_add(&br[how], b[how].v[i] * SCAN_ROWS);
    }
    bu_row *q = bu_row_versus("flight", "flight scan 100K rows (q/s)", "q/s", &e, &b[0],
                              "duckdb arrow export");
    *qps_out = q->engine;
    snprintf(q->note, sizeof q->note,
             "GetFlightInfo + DoGet of SELECT * (5 columns, 4.6 MB) "
             "over loopback, %lld messages, vs duckdb_query_arrow of the same query in memory",
             (long long)st.messages);
    bu_row_target(q, BU_TARGET_ENGINE_MIN, 1713, ">= 1,713 q/s (the original, locally)");
    bu_row *rr = bu_row_versus("flight", "flight scan 100K rows (rows/s)", "rows/s", &er, &br[0],
                               "duckdb arrow export");
    bu_row_target(rr, BU_TARGET_RATIO_MIN, 0.7, ">= 0.7x duckdb's own arrow export");
    bu_row *rs = bu_row_versus("flight", "flight scan 100K vs streamed export (rows/s)", "rows/s",
                               &er, &br[1], "duckdb streamed to arrow");
    snprintf(rs->note, sizeof rs->note,
             "the same scans vs DuckDB streaming the query, each "
             "chunk converted by duckdb_data_chunk_to_arrow, in memory");
    bu_row *rf = bu_row_versus("flight", "flight scan 100K vs duckdb fetch only (q/s)", "q/s", &e,
                               &b[2], "duckdb fetch, no arrow");
    snprintf(rf->note, sizeof rf->note,
             "DuckDB running the query and fetching its chunks, "
             "nothing converted: the ceiling of any server answering from DuckDB");
    bu_samples_free(&e), bu_samples_free(&er);
    for (int how = 0; how < 3; how++)
        bu_samples_free(&b[how]);
    bu_samples_free(&br[0]), bu_samples_free(&br[1]);
}

/* The original reports 1,713 q/s for a 100K-row scan without naming its table: the narrowest
 * one (one BIGINT column, 0.8 MB of Arrow) is the scan most in its favour. */
static void scan_narrow(fctx *c, rhei_flight_client *cl)
{
    const char *sql = "SELECT id FROM orders";
    int reps = bu_opt.quick ? 3 : 15, per = bu_opt.quick ? 2 : 20;
    bu_samples e = {0}, b = {0};
    rhei_flight_stats st;
    fquery(cl, sql, NULL, 0, &st); /* warm */
    if (st.rows != SCAN_ROWS)
        bu_die("flight narrow scan: %lld rows, want %d", (long long)st.rows, SCAN_ROWS);
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        for (int i = 0; i < per; i++)
            fquery(cl, sql, NULL, 0, &st);
        bu_samples_add(&e, per / (bu_now() - t0));
        t0 = bu_now();
        for (int i = 0; i < per; i++)
            if (duck_arrow(c->dcon, sql) != SCAN_ROWS)
                bu_die("duckdb narrow scan: wrong row count");
        bu_samples_add(&b, per / (bu_now() - t0));
    }
    bu_row *q = bu_row_versus("flight", "flight scan 100K rows, 1 column (q/s)", "q/s", &e, &b,
                              "duckdb arrow export");
    snprintf(q->note, sizeof q->note,
             "GetFlightInfo + DoGet of SELECT id (one BIGINT column, 0.8 MB) over loopback, "
             "one client, vs duckdb_query_arrow of the same query in memory");
    bu_row_target(q, BU_TARGET_ENGINE_MIN, 1713, ">= 1,713 q/s (the original, locally)");
    bu_samples_free(&e);
    bu_samples_free(&b);
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
    int duck; /* 1: DuckDB's own export on its own connection instead of a Flight client */
    double seconds;
    int64_t rows;
} worker;

static void *client_thread(void *arg)
{
    worker *w = arg;
    rhei_flight_client *cl = NULL;
    duckdb_connection dc = NULL;
    if (w->duck
            ? duckdb_connect(*(duckdb_database *)rhei_olap_handle(w->c->db), &dc) != DuckDBSuccess
            : rhei_flight_client_open(w->c->target, &cl) != 0)
        bu_die("%s", w->duck ? "duckdb connect" : "flight client");
    double end = bu_now() + w->seconds;
    while (bu_now() < end) {
        rhei_flight_stats st;
        if (w->duck) {
            w->rows += duck_arrow(dc, SCAN_SQL);
            continue;
        }
        fquery(cl, SCAN_SQL, NULL, 0, &st);
        w->rows += st.rows;
    }
    if (dc)
        duckdb_disconnect(&dc);
    rhei_flight_client_close(cl);
    return NULL;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* n threads looping the scan for `seconds`: aggregate rows/s; *cpu_ms gets the process's CPU
 * time per 100K-row query (server, client and DuckDB threads alike), *cores the CPUs used. */
static double clients(fctx *c, int n, int duck, double seconds, double *cpu_ms, double *cores)
{
    pthread_t t[8];
    worker w[8];
    double t0 = bu_now(), c0 = cpu_seconds();
    for (int i = 0; i < n; i++) {
        w[i] = (worker){c, duck, seconds, 0};
        pthread_create(&t[i], NULL, client_thread, &w[i]);
    }
    int64_t rows = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        rows += w[i].rows;
    }
    double wall = bu_now() - t0, cpu = cpu_seconds() - c0;
    *cpu_ms = rows ? cpu * 1e3 / ((double)rows / SCAN_ROWS) : 0;
    *cores = cpu / wall;
    return (double)rows / wall;
}

/* Flight and DuckDB's own export, one thread and eight, back to back in one pass each so both
 * meet the same load: whatever the machine's other users leave bounds both ratios alike. */
static void concurrent(fctx *c)
{
    double secs = bu_opt.quick ? 0.5 : 3, ms[4], cores[4];
    double one = clients(c, 1, 0, secs, &ms[0], &cores[0]);
    double d1 = clients(c, 1, 1, secs, &ms[1], &cores[1]);
    double eight = clients(c, 8, 0, secs, &ms[2], &cores[2]);
    double d8 = clients(c, 8, 1, secs, &ms[3], &cores[3]);
    bu_row *row = bu_row_add("flight", "flight 8 clients scanning (rows/s)", "rows/s", 0);
    row->engine = eight;
    row->base = one;
    snprintf(row->base_name, sizeof row->base_name, "1 client");
    snprintf(row->note, sizeof row->note,
             "8 client threads (a connection each) looping the "
             "100K scan for %.0f s, vs one; server and clients on 2 shared cores; the process "
             "used %.2f cores with 8, %.2f with 1",
             secs, cores[2], cores[0]);
    bu_row_target(row, BU_TARGET_RATIO_MIN, 1.6, ">= 1.6x one client");
    bu_row *cpu = bu_row_add("flight", "flight 8 clients, CPU per query (ms)", "ms", 1);
    cpu->engine = ms[2];
    cpu->base = ms[0];
    snprintf(cpu->base_name, sizeof cpu->base_name, "1 client");
    snprintf(cpu->note, sizeof cpu->note,
             "process CPU (server, clients, DuckDB) per 100K-row "
             "query in the passes above, whatever share of the cores others leave; on 2 free "
             "cores rows/s = 2 x 100K / this");
    bu_row *fl = bu_row_add("flight", "duckdb arrow export, 8 threads (rows/s)", "rows/s", 0);
    fl->engine = d8;
    fl->base = d1;
    snprintf(fl->base_name, sizeof fl->base_name, "1 thread");
    snprintf(fl->note, sizeof fl->note,
             "floor of the 8-client row, same pass: 8 threads of "
             "duckdb_query_arrow (own connections) vs 1; CPU/query %.1f vs %.1f ms, %.2f vs "
             "%.2f cores",
             ms[3], ms[1], cores[3], cores[1]);
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
    /* Heap the earlier phases freed goes back to the OS first, so the growth counts what the
     * stream allocates rather than reusing; the peak restarts from here. */
    malloc_trim(0);
    double before = bu_rss_reset_peak();
    rhei_flight_stats st;
    fquery(cl, sql, NULL, 20000, &st);
    if (st.rows != n)
        bu_die("slow reader: %lld rows, want %lld", (long long)st.rows, (long long)n);
    char name[64];
    snprintf(name, sizeof name, "flight RSS, %lldM rows to a slow client (MB)", (long long)(n / 1000000));
    bu_row *row = bu_row_add("flight", name, "MB", 1);
    /* The peak can read a page under the reset value (it is taken after the reset): growth
     * is reported as at least one page, so "nothing grew" stays a positive, sane figure. */
    row->engine = fmax(bu_rss_peak_mb() - before, 4096.0 / (1 << 20));
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
    scan_narrow(&c, cl);
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
