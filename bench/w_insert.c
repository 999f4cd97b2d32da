/* w_insert.c — workload 1: single-row INSERTs, one rhei_execute each with bound parameters,
 * against raw SQLite driving the engine's own capture triggers and raw SQLite without
 * capture; then the CDC sync of each batch of those events against a raw DuckDB appender. */
#include "bench_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SIDE_ENGINE, SIDE_CAPTURE, SIDE_PLAIN, NSIDES };

typedef struct side {
    bu_samples rate; /* rows/s of each repetition */
    bu_samples lat;  /* per-statement latency, us, over all repetitions */
} side;

typedef struct ctx {
    rhei_db *db;
    sqlite3 *raw[NSIDES];      /* SIDE_CAPTURE and SIDE_PLAIN connections */
    sqlite3_stmt *ins[NSIDES]; /* their prepared INSERT */
    duckdb_database duck;
    duckdb_connection dcon;
    int64_t next_id;
} ctx;

static void run_engine(ctx *c, int64_t n, side *s)
{
    bu_order o;
    rhei_value p[5];
    double t0 = bu_now();
    for (int64_t i = 0; i < n; i++) {
        bu_order_make(c->next_id + i, &o);
        bu_order_params(&o, p);
        uint64_t a = bu_now_ns();
        int rc = rhei_execute(c->db, BU_INSERT_SQL, p, 5, NULL);
        bu_samples_add(&s->lat, (double)(bu_now_ns() - a) / 1e3);
        bu_check(c->db, rc, "rhei_execute insert");
    }
    bu_samples_add(&s->rate, (double)n / (bu_now() - t0));
}

static void run_raw(ctx *c, int which, int64_t n, side *s)
{
    sqlite3 *h = c->raw[which];
    sqlite3_stmt *st = c->ins[which];
    bu_order o;
    double t0 = bu_now();
    for (int64_t i = 0; i < n; i++) {
        bu_order_make(c->next_id + i, &o);
        uint64_t a = bu_now_ns();
        bu_order_bind(st, &o);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        bu_samples_add(&s->lat, (double)(bu_now_ns() - a) / 1e3);
        if (rc != SQLITE_DONE)
            bu_die("sqlite: insert: %s", sqlite3_errmsg(h));
    }
    bu_samples_add(&s->rate, (double)n / (bu_now() - t0));
}

/* Syncs what the engine side just wrote, and appends the same rows to raw DuckDB. */
static void run_sync(ctx *c, int64_t n, bu_samples *eng, bu_samples *duck)
{
    rhei_sync_stats st;
    double t0 = bu_now();
    bu_check(c->db, rhei_sync_now(c->db, &st), "rhei_sync_now");
    double el = bu_now() - t0;
    if (st.events != n)
        bu_die("sync applied %lld events, expected %lld", (long long)st.events, (long long)n);
    bu_samples_add(eng, (double)st.events / el);
    bu_engine_quiesce(c->db);

    bu_order *rows = bu_orders_make(c->next_id, n);
    bu_duck_exec(c->dcon, "CREATE OR REPLACE TABLE orders (id BIGINT, customer VARCHAR,"
                          " category VARCHAR, amount DOUBLE, qty BIGINT)");
    bu_samples_add(duck, (double)n / bu_duck_append(c->dcon, "orders", rows, n));
    free(rows);
}

static void one_size(ctx *c, int64_t n, int reps, const char *label, const char *sync_label)
{
    side s[NSIDES];
    bu_samples se = {0}, sd = {0};
    memset(s, 0, sizeof s);
    for (int r = 0; r < reps; r++) {
        for (int k = 0; k < NSIDES; k++) { /* rotate the order: no side always goes first */
            int which = (r + k) % NSIDES;
            if (which == SIDE_ENGINE)
                run_engine(c, n, &s[which]);
            else
                run_raw(c, which, n, &s[which]);
        }
        run_sync(c, n, &se, &sd);
        bu_sq_prune_log(c->raw[SIDE_CAPTURE]);
        bu_log("insert %lld, repetition %d: engine %.0f, raw+capture %.0f, raw %.0f rows/s",
               (long long)n, r + 1, s[SIDE_ENGINE].rate.v[r], s[SIDE_CAPTURE].rate.v[r],
               s[SIDE_PLAIN].rate.v[r]);
        c->next_id += n;
    }
    char name[96]; /* label plus a suffix; the row keeps what fits */
    snprintf(name, sizeof name, "%s (rows/s)", label);
    bu_row *row = bu_row_add("insert", name, "rows/s", 0);
    row->paired = bu_paired_ratio(&s[SIDE_ENGINE].rate, &s[SIDE_CAPTURE].rate);
    double paired_plain = bu_paired_ratio(&s[SIDE_ENGINE].rate, &s[SIDE_PLAIN].rate);
    row->engine = bu_median(&s[SIDE_ENGINE].rate);
    row->base = bu_median(&s[SIDE_CAPTURE].rate);
    snprintf(row->base_name, sizeof row->base_name, "raw sqlite+capture");
    row->p50_us = bu_pct(&s[SIDE_ENGINE].lat, 50);
    row->p99_us = bu_pct(&s[SIDE_ENGINE].lat, 99);
    row->base_p50_us = bu_pct(&s[SIDE_CAPTURE].lat, 50);
    row->base_p99_us = bu_pct(&s[SIDE_CAPTURE].lat, 99);
    bu_row_target(row, BU_TARGET_RATIO_MIN, 0.85, ">= 0.85x raw sqlite+capture");

    snprintf(name, sizeof name, "%s, vs no capture", label);
    bu_row *plain = bu_row_add("insert", name, "rows/s", 0);
    plain->engine = row->engine;
    plain->paired = paired_plain;
    plain->p50_us = row->p50_us;
    plain->p99_us = row->p99_us;
    plain->base = bu_median(&s[SIDE_PLAIN].rate);
    snprintf(plain->base_name, sizeof plain->base_name, "raw sqlite, no capture");
    plain->base_p50_us = bu_pct(&s[SIDE_PLAIN].lat, 50);
    plain->base_p99_us = bu_pct(&s[SIDE_PLAIN].lat, 99);
    snprintf(plain->note, sizeof plain->note, "median of %d repetitions (sides rotate;"
             " WAL checkpoints make single runs bimodal); WAL, synchronous=NORMAL", reps);

    bu_row_versus("insert", sync_label, "events/s", &se, &sd, "raw duckdb appender");
    for (int k = 0; k < NSIDES; k++) {
        bu_samples_free(&s[k].rate);
        bu_samples_free(&s[k].lat);
    }
    bu_samples_free(&se);
    bu_samples_free(&sd);
}

void w_insert(void)
{
    ctx c;
    char eng[600], cap[600], plain[600];
    memset(&c, 0, sizeof c);
    bu_path(eng, sizeof eng, "insert_engine.db");
    bu_path(cap, sizeof cap, "insert_capture.db");
    bu_path(plain, sizeof plain, "insert_plain.db");
    bu_make_capture_file(cap);
    c.db = bu_engine_open(eng);
    bu_engine_create_orders(c.db);
    c.raw[SIDE_CAPTURE] = bu_sq_open(cap);
    c.raw[SIDE_PLAIN] = bu_sq_open(plain);
    bu_sq_exec(c.raw[SIDE_PLAIN], BU_ORDERS_DDL);
    for (int k = SIDE_CAPTURE; k < NSIDES; k++)
        c.ins[k] = bu_sq_prepare(c.raw[k], BU_INSERT_SQL);
    bu_duck_open(&c.duck, &c.dcon);
    c.next_id = 1;

    /* Warm-up: page cache, statement caches, the first WAL growth. */
    side warm[NSIDES];
    memset(warm, 0, sizeof warm);
    run_engine(&c, 200, &warm[SIDE_ENGINE]);
    run_raw(&c, SIDE_CAPTURE, 200, &warm[SIDE_CAPTURE]);
    run_raw(&c, SIDE_PLAIN, 200, &warm[SIDE_PLAIN]);
    bu_check(c.db, rhei_sync_now(c.db, NULL), "rhei_sync_now");
    bu_engine_quiesce(c.db);
    bu_sq_prune_log(c.raw[SIDE_CAPTURE]);
    c.next_id += 200;
    for (int k = 0; k < NSIDES; k++) {
        bu_samples_free(&warm[k].rate);
        bu_samples_free(&warm[k].lat);
    }

    bu_log("insert: 700 rows");
    one_size(&c, 700, bu_opt.quick ? 3 : 31, "insert 700 rows", "cdc sync of those 700 events");
    int64_t big = bu_opt.quick ? 5000 : 20000;
    char label[64], sync_label[64];
    snprintf(label, sizeof label, "insert %lldK rows", (long long)big / 1000);
    snprintf(sync_label, sizeof sync_label, "cdc sync of those %lldK events", (long long)big / 1000);
    bu_log("insert: %lld rows", (long long)big);
    one_size(&c, big, bu_opt.quick ? 1 : 5, label, sync_label);

    bu_duck_close(&c.duck, &c.dcon);
    for (int k = SIDE_CAPTURE; k < NSIDES; k++) {
        sqlite3_finalize(c.ins[k]);
        sqlite3_close(c.raw[k]);
    }
    bu_check(c.db, rhei_close(c.db), "rhei_close");
    bu_unlink_db(eng);
    bu_unlink_db(cap);
    bu_unlink_db(plain);
}
