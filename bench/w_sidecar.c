/* w_sidecar.c — workload "sidecar": a pure-sidecar engine (history) follows `orders` in a SQLite
 * file and a throwaway PostgreSQL into in-memory and file OLAP; 10-row cycle p50/p99 and first
 * copies in rows/s, each next to a raw floor (read + DuckDB txn; SELECT + appender). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, popen */
#endif
#include "w_sidecar.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RHEI_BENCH_PG_TEST
#define RHEI_BENCH_PG_TEST "scripts/pg_test.sh"
#endif

#define BASE_ROWS 10000     /* the followed table before the cycles */
#define SAFETY_DELAY_MS "1" /* the smallest delay that still keeps the time limit */

/* A throwaway PostgreSQL from scripts/pg_test.sh; up == 0 means why says what is missing. */
typedef struct pg_server {
    int up;
    char why[1400]; /* holds any path in a message; rows keep what fits */
    char script[600];
    char dir[512];
    char conninfo[256];
    PGconn *admin;
} pg_server;

/* An engine in pure sidecar mode and the files it uses. */
typedef struct ws_engine {
    rhei_db *db;
    char oltp[600], olap[600];
    int file;
} ws_engine;

static int serial; /* unique names for sources and engines within the run */

static const char *src_label(ws_kind k) { return k == WS_SQLITE ? "sqlite" : "pg"; }

/* --- the engine -------------------------------------------------------------------------- */

static void cfg_set(rhei_config *cfg, const char *key, const char *value)
{
    if (rhei_config_set(cfg, key, value) != RHEI_OK)
        bu_die("config '%s': %s", key, rhei_config_errmsg(cfg));
}

/* Opens an engine following s.orders (history, polls only on rhei_sidecar_sync_now, no
 * hard-delete reconciliation: its key scans would land in whichever cycle they fall on).
 * rhei_open runs the first poll, which copies the table if the source exists already. */
static void engine_open(ws_engine *e, const ws_src *s, int file)
{
    char name[64];
    rhei_config *cfg = NULL;
    memset(e, 0, sizeof *e);
    e->file = file;
    snprintf(name, sizeof name, "sc_oltp_%d.db", ++serial);
    bu_path(e->oltp, sizeof e->oltp, name);
    snprintf(name, sizeof name, "sc_olap_%d.duckdb", serial);
    bu_path(e->olap, sizeof e->olap, name);
    ws_duck_unlink(e->olap);
    if (rhei_config_new(&cfg) != RHEI_OK)
        bu_die("rhei_config_new failed");
    cfg_set(cfg, "oltp_path", e->oltp);
    cfg_set(cfg, "olap_path", file ? e->olap : ":memory:");
    cfg_set(cfg, "sync_mode", "history");
    cfg_set(cfg, "sidecar.source", s->spec);
    cfg_set(cfg, "sidecar.poll_interval_ms", "0");
    cfg_set(cfg, "sidecar.safety_delay_ms", SAFETY_DELAY_MS);
    cfg_set(cfg, "sidecar.reconcile_interval_ms", "0");
    cfg_set(cfg, "sidecar.tables.0.name", "orders");
    cfg_set(cfg, "sidecar.tables.0.primary_key", "id");
    cfg_set(cfg, "sidecar.tables.0.updated_at", "updated_at");
    if (s->kind == WS_SQLITE)
        cfg_set(cfg, "sidecar.tables.0.timestamp_unit", "us");
    int rc = rhei_open(cfg, &e->db);
    rhei_config_free(cfg);
    if (rc != RHEI_OK)
        bu_die("rhei_open (sidecar of '%s') failed: %s (%s)", s->spec, rhei_errmsg(NULL),
               rhei_errstr(rc));
}

static void engine_close(ws_engine *e)
{
    bu_check(e->db, rhei_close(e->db), "rhei_close");
    bu_unlink_db(e->oltp);
    ws_duck_unlink(e->olap);
    e->db = NULL;
}

/* Dies unless the table is followed without error and holds `rows` rows applied. */
static void expect_applied(ws_engine *e, int64_t rows)
{
    rhei_sidecar_table_status st;
    bu_check(e->db, rhei_sidecar_status_get(e->db, 0, &st), "rhei_sidecar_status_get");
    if (st.last_error_code != RHEI_OK || st.stopped)
        bu_die("sidecar table '%s': %s", st.name, st.last_error);
    if (st.rows_applied != rows)
        bu_die("sidecar table '%s' applied %lld rows, expected %lld", st.name,
               (long long)st.rows_applied, (long long)rows);
}

/* --- 10-row cycles ----------------------------------------------------------------------- */

static void cycle_name(char *buf, size_t n, ws_kind k, int file, int nupd)
{
    snprintf(buf, n, "sidecar cycle %s %s>%s (us)", nupd ? "5i5u" : "10i", src_label(k),
             file ? "file" : "mem");
}

typedef struct cycle_samples {
    bu_samples eng, read, duck, floor; /* per cycle, us; floor = read + duck */
} cycle_samples;

static void cycle_targets(bu_row *r, ws_kind k, int file, int nupd)
{
    if (k != WS_SQLITE || nupd)
        return;
    if (!file) {
        bu_row_target(r, BU_TARGET_ENGINE_MAX, 250, "p50 <= 250 us");
        bu_row_target(r, BU_TARGET_P99_MAX, 800, "p99 <= 800 us");
    } else {
        bu_row_target(r, BU_TARGET_ENGINE_MAX, 1500, "durable p50 <= 1.5 ms");
    }
}

static void cycle_row(cycle_samples *c, ws_kind k, int file, int nupd)
{
    char name[64], rd[32], dk[32];
    cycle_name(name, sizeof name, k, file, nupd);
    bu_row *r = bu_row_add("sidecar", name, "us", 1);
    r->paired = bu_paired_ratio(&c->floor, &c->eng); /* before the percentiles sort them */
    r->engine = r->p50_us = bu_pct(&c->eng, 50);
    r->p99_us = bu_pct(&c->eng, 99);
    r->base = r->base_p50_us = bu_pct(&c->floor, 50);
    r->base_p99_us = bu_pct(&c->floor, 99);
    snprintf(r->base_name, sizeof r->base_name, "raw read + duckdb txn");
    bu_fmt_us(rd, sizeof rd, bu_pct(&c->read, 50));
    bu_fmt_us(dk, sizeof dk, bu_pct(&c->duck, 50));
    snprintf(r->note, sizeof r->note, "%zu cycles of %s after a 10K-row copy; history, safety"
             " delay %s ms; floor p50 = raw %s read %s + duckdb txn %s", c->eng.n,
             nupd ? "5 inserts + 5 updates" : "10 inserts", SAFETY_DELAY_MS, src_label(k), rd,
             dk);
    cycle_targets(r, k, file, nupd);
}

/* Cycles of (10 - nupd) inserts and nupd updates. Each iteration writes the source, then
 * times rhei_sidecar_sync_now alone, then the raw read of the same rows and the floor's
 * DuckDB transaction (a separate store with the same settings). */
static void cycles(ws_kind k, int file, int nupd, const pg_server *pg)
{
    int n = bu_opt.quick ? 50 : 200, warm = bu_opt.quick ? 5 : 10, nins = 10 - nupd;
    char name[32], fpath[600];
    ws_src s;
    ws_engine e;
    ws_floor f;
    cycle_samples c = {{0}, {0}, {0}, {0}};
    bu_log("sidecar: %d cycles, %s source, %s olap, %d updates", n, src_label(k),
           file ? "file" : "memory", nupd);
    snprintf(name, sizeof name, "sc_src_%d", ++serial);
    ws_src_init(&s, k, name, pg->conninfo, pg->admin);
    ws_src_fill(&s, BASE_ROWS);
    engine_open(&e, &s, file);
    expect_applied(&e, BASE_ROWS);
    snprintf(name, sizeof name, "sc_floor_%d.duckdb", ++serial);
    bu_path(fpath, sizeof fpath, name);
    ws_floor_open(&f, file ? fpath : NULL, BASE_ROWS, nins, nupd);
    for (int i = 0; i < warm + n; i++) {
        int64_t rows = -1;
        ws_src_changes(&s, nins, nupd);
        uint64_t t0 = bu_now_ns();
        bu_check(e.db, rhei_sidecar_sync_now(e.db, &rows), "rhei_sidecar_sync_now");
        double us = (double)(bu_now_ns() - t0) / 1e3;
        if (rows != 10) /* a sanity check, not a speed one: each cycle sees its rows */
            bu_die("sidecar cycle %d applied %lld rows, expected 10", i, (long long)rows);
        double rd = ws_src_read_us(&s, 10);
        double dk = ws_floor_cycle(&f, ws_wall_us() - WS_STAMP_LAG_US);
        if (i < warm)
            continue;
        bu_samples_add(&c.eng, us);
        bu_samples_add(&c.read, rd);
        bu_samples_add(&c.duck, dk);
        bu_samples_add(&c.floor, rd + dk);
    }
    cycle_row(&c, k, file, nupd);
    ws_floor_close(&f);
    ws_duck_unlink(fpath);
    engine_close(&e);
    ws_src_close(&s);
    bu_samples_free(&c.eng);
    bu_samples_free(&c.read);
    bu_samples_free(&c.duck);
    bu_samples_free(&c.floor);
}

/* --- first copies ------------------------------------------------------------------------ */

static void copy_name(char *buf, size_t n, ws_kind k, int file, int64_t rows)
{
    snprintf(buf, n, "sidecar copy %lldK %s>%s (rows/s)", (long long)(rows / 1000),
             src_label(k), file ? "file" : "mem");
}

/* One first copy through the engine: the sidecar is opened before its source exists (its
 * first poll finds nothing), the source appears whole, and the next rhei_sidecar_sync_now
 * is the copy. Returns seconds. */
static double engine_copy(ws_src *s, int file, int64_t rows)
{
    ws_engine e;
    int64_t got = -1;
    engine_open(&e, s, file);
    ws_src_fill(s, rows);
    uint64_t t0 = bu_now_ns();
    bu_check(e.db, rhei_sidecar_sync_now(e.db, &got), "rhei_sidecar_sync_now (first copy)");
    double el = (double)(bu_now_ns() - t0) / 1e9;
    if (got != rows)
        bu_die("first copy applied %lld rows, expected %lld", (long long)got, (long long)rows);
    expect_applied(&e, rows);
    engine_close(&e);
    return el;
}

static double raw_copy(ws_src *s, int file)
{
    char name[64], path[600];
    duckdb_database d;
    duckdb_connection c;
    snprintf(name, sizeof name, "sc_rawcopy_%d.duckdb", ++serial);
    bu_path(path, sizeof path, name);
    ws_duck_open(file ? path : NULL, &d, &c);
    double el = ws_src_copy_duck(s, c);
    bu_duck_close(&d, &c);
    ws_duck_unlink(path);
    return el;
}

static void first_copy(ws_kind k, int file, int64_t rows, const pg_server *pg)
{
    int reps = bu_opt.quick ? 1 : 3;
    bu_samples eng = {0}, base = {0}, ms = {0};
    char name[64];
    for (int i = 0; i < reps; i++) {
        ws_src s;
        bu_log("sidecar: first copy of %lld rows, %s source, %s olap, repetition %d",
               (long long)rows, src_label(k), file ? "file" : "memory", i + 1);
        snprintf(name, sizeof name, "sc_src_%d", ++serial);
        ws_src_init(&s, k, name, pg->conninfo, pg->admin);
        double el = engine_copy(&s, file, rows);
        bu_samples_add(&eng, (double)rows / el);
        bu_samples_add(&ms, el * 1e3);
        bu_samples_add(&base, (double)rows / raw_copy(&s, file));
        ws_src_close(&s);
    }
    copy_name(name, sizeof name, k, file, rows);
    bu_row *r = bu_row_versus("sidecar", name, "rows/s", &eng, &base, "raw select + appender");
    snprintf(r->note, sizeof r->note, "median of %d; one rhei_sidecar_sync_now took %.0f ms"
             " (opens the source%s); history; raw: one SELECT, appender, one txn", reps,
             bu_median(&ms), k == WS_PG ? ", connects" : "");
    if (k == WS_SQLITE && !file)
        bu_row_target(r, BU_TARGET_ENGINE_MIN, 2e6, ">= 2,000,000 rows/s");
    bu_samples_free(&eng);
    bu_samples_free(&base);
    bu_samples_free(&ms);
}

/* --- the PostgreSQL server --------------------------------------------------------------- */

/* First line of a file into buf (without the newline), or "" when there is none. */
static void first_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f && fgets(buf, (int)n, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

/* Starts a server with pg_test.sh (its watchdog stops it if this process dies) and connects
 * to its `postgres` database. Returns 0, or -1 with pg->why set. */
static int pg_up(pg_server *pg)
{
    const char *env = getenv("RHEI_BENCH_PG_TEST"), *tmp = getenv("TMPDIR");
    char cmd[2048], err[700];
    memset(pg, 0, sizeof *pg);
    snprintf(pg->script, sizeof pg->script, "%s", env && *env ? env : RHEI_BENCH_PG_TEST);
    if (access(pg->script, R_OK) != 0) {
        snprintf(pg->why, sizeof pg->why, "no '%s' (set RHEI_BENCH_PG_TEST)", pg->script);
        return -1;
    }
    /* Outside the run's private folder: the server runs as `postgres` and must reach it. */
    snprintf(pg->dir, sizeof pg->dir, "%s/rhei_bench_pg.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(pg->dir)) {
        snprintf(pg->why, sizeof pg->why, "cannot create '%s': %s", pg->dir, strerror(errno));
        return -1;
    }
    snprintf(err, sizeof err, "%s/pg_start.err", bu_tmpdir());
    snprintf(cmd, sizeof cmd, "bash '%s' start '%s' %ld 2>'%s'", pg->script, pg->dir,
             (long)getpid(), err);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(pg->conninfo, sizeof pg->conninfo, p))
        pg->conninfo[0] = '\0';
    int status = p ? pclose(p) : -1;
    pg->conninfo[strcspn(pg->conninfo, "\n")] = '\0';
    if (status != 0 || !pg->conninfo[0]) {
        first_line(err, pg->why, sizeof pg->why);
        if (!pg->why[0])
            snprintf(pg->why, sizeof pg->why, "'%s start' failed", pg->script);
        rmdir(pg->dir);
        return -1;
    }
    pg->admin = PQconnectdb(pg->conninfo);
    if (PQstatus(pg->admin) != CONNECTION_OK) {
        snprintf(pg->why, sizeof pg->why, "cannot connect: %s", PQerrorMessage(pg->admin));
        pg->why[strcspn(pg->why, "\n")] = '\0';
        return -1;
    }
    pg->up = 1;
    return 0;
}

/* Stops the server (if pg_up got as far as starting it) and deletes its folder. */
static void pg_down(pg_server *pg)
{
    char cmd[1400];
    PQfinish(pg->admin);
    pg->admin = NULL;
    if (pg->conninfo[0]) {
        snprintf(cmd, sizeof cmd, "bash '%s' stop '%s' >/dev/null 2>&1", pg->script, pg->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "rhei_bench: could not stop the PostgreSQL in '%s'\n", pg->dir);
    }
    pg->up = 0;
}

/* --- the workload ------------------------------------------------------------------------ */

static const int64_t copy_sizes[] = {10000, 100000};

static void skip_all(ws_kind k, const char *why)
{
    char name[64];
    size_t nsizes = bu_opt.quick ? 1 : 2;
    for (int file = 0; file < 2; file++) {
        for (int nupd = 0; nupd <= 5; nupd += 5) {
            cycle_name(name, sizeof name, k, file, nupd);
            bu_row_skip(bu_row_add("sidecar", name, "us", 1), "PostgreSQL unavailable: %s",
                        why);
        }
    }
    for (size_t i = 0; i < nsizes; i++) {
        for (int file = 0; file < 2; file++) {
            copy_name(name, sizeof name, k, file, copy_sizes[i]);
            bu_row_skip(bu_row_add("sidecar", name, "rows/s", 0),
                        "PostgreSQL unavailable: %s", why);
        }
    }
}

static void one_source(ws_kind k, const pg_server *pg)
{
    size_t nsizes = bu_opt.quick ? 1 : 2;
    for (int file = 0; file < 2; file++) {
        cycles(k, file, 0, pg);
        cycles(k, file, 5, pg);
    }
    for (size_t i = 0; i < nsizes; i++)
        for (int file = 0; file < 2; file++)
            first_copy(k, file, copy_sizes[i], pg);
}

void w_sidecar(void)
{
    pg_server pg;
    memset(&pg, 0, sizeof pg);
    one_source(WS_SQLITE, &pg);
    bu_log("sidecar: starting a throwaway PostgreSQL");
    if (pg_up(&pg) == 0) {
        one_source(WS_PG, &pg);
    } else {
        fprintf(stderr, "[sidecar] PostgreSQL rows skipped: %s\n", pg.why);
        skip_all(WS_PG, pg.why);
    }
    pg_down(&pg);
}
