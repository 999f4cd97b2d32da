/* test_sqlite.c — the sidecar following a SQLite file it must not change: bulk copies and
 * pages through rows sharing timestamps, interleaved inserts/updates/soft and hard deletes
 * checked against the source after every cycle, history checked as of recorded moments,
 * kill -9 of a sidecar process mid-cycle, schema changes, bad rows, and a source that is
 * missing at start. */
#include "sc_test.h"

#if SC_ON
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

/* ---- the source file --------------------------------------------------------------------- */

static void db_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        FAIL("sqlite '%.200s': %s", sql, err ? err : "?");
}

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        FAIL("cannot open %s", path);
    db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static char *db_dump(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        FAIL("sqlite prepare '%s': %s", sql, sqlite3_errmsg(db));
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *t = sqlite3_column_type(st, c) == SQLITE_NULL
                                ? "\\N" : (const char *)sqlite3_column_text(st, c);
            size_t n = strlen(t);
            while (len + n + 3 > cap)
                s = realloc(s, cap *= 2);
            if (c)
                s[len++] = '|';
            memcpy(s + len, t, n);
            len += n;
        }
        s[len++] = '\n';
        s[len] = '\0';
    }
    sqlite3_finalize(st);
    return s;
}

/* FAILs unless the source query and the mirror query give the same rows. */
static void same(sqlite3 *db, const char *src_sql, rhei__olap *o, const char *olap_sql)
{
    char *a = db_dump(db, src_sql), *b = sc_olap_dump(o, olap_sql);
    sc_same_dump(olap_sql, a, b);
    free(a);
    free(b);
}

static const char *items_pk[] = {"id"};

static rhei__sidecar_table_cfg items_table(void)
{
    rhei__sidecar_table_cfg t = {"items", items_pk, 1, "updated_at", NULL, NULL, 0, NULL, NULL};
    return t;
}

static rhei__sidecar_cfg sqlite_cfg(const char *path, const rhei__sidecar_table_cfg *t, size_t n)
{
    rhei__sidecar_cfg c = {RHEI__SRC_SQLITE, path, 1000, 0, 1000, 0, 0, t, n};
    return c;
}

/* ---- bulk: 100K rows over a few timestamps --------------------------------------------- */

static void t_bulk(void)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/src.db", dir);
    sqlite3 *db = db_open(path);
    db_exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                " updated_at TEXT NOT NULL)");
    db_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
                " INSERT INTO items SELECT i, 'item ' || i, i % 97,"
                " '2024-01-0' || (1 + i % 3) || ' 10:00:00' FROM n");
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(path, &t, 1);
    cfg.page_size = 777;
    rhei__sidecar *sc = sc_new(&cfg, o);
    rhei__sidecar_stats st = sc_cycle_ok(sc);
    CHECK_INT(st.rows, 100000);
    CHECK_INT(st.inserted, 100000);
    same(db, "SELECT * FROM items ORDER BY id", o, "SELECT * FROM items ORDER BY id");
    /* 60K rows move to one new timestamp: pages of 777 split it many times over */
    db_exec(db, "UPDATE items SET qty = qty + 1, updated_at = '2024-02-01 00:00:00'"
                " WHERE id % 5 < 3");
    db_exec(db, "WITH RECURSIVE n(i) AS (SELECT 100001 UNION ALL SELECT i + 1 FROM n WHERE"
                " i < 110000) INSERT INTO items SELECT i, 'new ' || i, 1,"
                " '2024-02-01 00:00:00' FROM n");
    st = sc_cycle_ok(sc);
    CHECK_INT(st.rows, 70000);
    CHECK_INT(st.updated, 60000);
    CHECK_INT(st.inserted, 10000);
    CHECK_INT(st.pages, (70000 + 776) / 777);
    same(db, "SELECT * FROM items ORDER BY id", o, "SELECT * FROM items ORDER BY id");
    CHECK_INT(sc_olap_scalar(o, "SELECT count(*) - count(DISTINCT id) FROM items"), 0);
    st = sc_cycle_ok(sc);
    CHECK_INT(st.rows, 0);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
    sqlite3_close(db);
}

/* ---- hard deletes are dated after they happened -------------------------------------- */

/* A hard delete found by reconciliation used to be dated at the cycle's cutoff (source clock
 * minus the safety delay, read before the key scan): seconds before the DELETE ran, so an
 * as-of read in between missed a row that still existed. */
static void t_hard_delete_dated(void)
{
    char dir[64], path[128], cmd[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/src.db", dir);
    sqlite3 *db = db_open(path);
    db_exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                " updated_at TEXT NOT NULL)");
    db_exec(db, "INSERT INTO items VALUES (1, 'a', 1, '2024-01-01 10:00:00'),"
                " (2, 'b', 2, '2024-01-01 10:00:00')");
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(path, &t, 1);
    cfg.history = 1;
    cfg.reconcile_interval_ms = -1;
    cfg.safety_delay_ms = 3000;
    rhei__sidecar *sc = sc_new(&cfg, o);
    sc_cycle_ok(sc);
    int64_t before = rhei__now_us();
    db_exec(db, "DELETE FROM items WHERE id = 1");
    rhei__sidecar_stats st = sc_cycle_ok(sc);
    CHECK_INT(st.deleted, 1);
    int64_t to = sc_olap_scalar(o, "SELECT _rhei_valid_to FROM items_history WHERE id = 1");
    /* the SQLite source's clock has millisecond precision */
    if (to < before - 1000)
        FAIL("delete dated %lld, %lld us before the DELETE ran", (long long)to,
             (long long)(before - to));
    CHECK_INT(sc_olap_scalar(o, "SELECT count(*) FROM items_history WHERE id = 2 AND"
                                " _rhei_valid_to IS NULL"), 1);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
    sqlite3_close(db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

/* ---- interleaved changes, checked after every cycle; history as of recorded moments ---- */

typedef struct work {
    sqlite3 *db;
    uint64_t seed;
    int64_t *ids;  /* keys present at the source (soft-deleted included) */
    int *dead;     /* soft-deleted */
    size_t n;
    int64_t next_id, last_ts;
} work;

/* The application's clock: microseconds, strictly increasing. */
static int64_t app_now(work *w)
{
    int64_t t = rhei__now_us();
    w->last_ts = t > w->last_ts ? t : w->last_ts + 1;
    return w->last_ts;
}

/* SQLite's clock has millisecond steps: let it pass `us` so the next cycle's cutoff covers
 * every change made so far and the changes after it come later than its watermark. */
static void clock_past(int64_t us)
{
    while (rhei__now_us() / 1000 <= us / 1000)
        ;
}

static void run_sql(work *w, const char *sql, int64_t a, int64_t b, int64_t c)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        FAIL("prepare %s: %s", sql, sqlite3_errmsg(w->db));
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_int64(st, 3, c);
    if (sqlite3_step(st) != SQLITE_DONE)
        FAIL("step %s: %s", sql, sqlite3_errmsg(w->db));
    sqlite3_finalize(st);
}

static void one_op(work *w)
{
    unsigned r = (unsigned)(sc_rand(&w->seed) % 100);
    size_t i = w->n ? (size_t)(sc_rand(&w->seed) % w->n) : 0;
    if (w->n == 0 || r < 35) {
        w->ids[w->n] = w->next_id++;
        w->dead[w->n] = 0;
        run_sql(w, "INSERT INTO items VALUES (?1, 'n' || ?2, ?2 % 1000, 0, ?3)", w->ids[w->n],
                (int64_t)sc_rand(&w->seed) % 100000, app_now(w));
        w->n++;
    } else if (r < 65) {
        run_sql(w, "UPDATE items SET qty = ?2, name = 'u' || ?2, updated_at = ?3 WHERE id = ?1",
                w->ids[i], (int64_t)(sc_rand(&w->seed) % 100000), app_now(w));
    } else if (r < 75) {
        run_sql(w, "UPDATE items SET deleted = 1, updated_at = ?3 WHERE id = ?1", w->ids[i], 0,
                app_now(w));
        w->dead[i] = 1;
    } else if (r < 80) {
        run_sql(w, "UPDATE items SET deleted = 0, updated_at = ?3 WHERE id = ?1", w->ids[i], 0,
                app_now(w));
        w->dead[i] = 0;
    } else if (r < 90) {
        run_sql(w, "DELETE FROM items WHERE id = ?1", w->ids[i], 0, 0);
        w->ids[i] = w->ids[w->n - 1];
        w->dead[i] = w->dead[--w->n];
    } else { /* the key comes back as a new row: hard delete, then insert */
        run_sql(w, "DELETE FROM items WHERE id = ?1", w->ids[i], 0, 0);
        run_sql(w, "INSERT INTO items VALUES (?1, 'again', 7, 0, ?3)", w->ids[i], 0, app_now(w));
        w->dead[i] = 0;
    }
}

#define LIVE_SRC                                                                            \
    "SELECT id, name, qty, deleted, updated_at FROM items WHERE deleted = 0 ORDER BY id"
#define LIVE_OLAP "SELECT id, name, qty, deleted, updated_at FROM items ORDER BY id"

static void interleaved(int history)
{
    char dir[64], path[128], sql[256];
    enum { ROUNDS = 40, OPS = 25 };
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/src.db", dir);
    work w = {db_open(path), 42 + (uint64_t)history, calloc(ROUNDS * OPS + 1, sizeof(int64_t)),
              calloc(ROUNDS * OPS + 1, sizeof(int)), 0, 1, 0};
    db_exec(w.db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                  " deleted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)");
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    t.soft_delete = "deleted";
    rhei__sidecar_cfg cfg = sqlite_cfg(path, &t, 1);
    cfg.history = history;
    cfg.reconcile_interval_ms = -1; /* every cycle */
    cfg.page_size = 7;
    rhei__sidecar *sc = sc_new(&cfg, o);
    char *state[ROUNDS];
    int64_t moment[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < OPS; k++)
            one_op(&w);
        clock_past(w.last_ts);
        sc_cycle_ok(sc);
        same(w.db, LIVE_SRC, o, LIVE_OLAP);
        state[round] = db_dump(w.db, LIVE_SRC);
        moment[round] = sc_watermark(sc, "items");
        CHECK(moment[round] >= w.last_ts);
        /* A hard delete is dated when the cycle's key scan found it missing, after the
         * watermark: the round's state holds from the end of its cycle until the next
         * round's first change. */
        int64_t seen = rhei__now_us();
        moment[round] = seen > moment[round] ? seen : moment[round];
        clock_past(moment[round]);
    }
    if (history) {
        sc_check_history(o, "items", "id");
        for (int round = 0; round < ROUNDS; round++) {
            snprintf(sql, sizeof sql, "SELECT id, name, qty, deleted, updated_at FROM "
                     "rhei_as_of('items', %lld) ORDER BY id", (long long)moment[round]);
            char *got = sc_olap_dump(o, sql);
            sc_same_dump(sql, state[round], got);
            free(got);
        }
    }
    for (int round = 0; round < ROUNDS; round++)
        free(state[round]);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
    sqlite3_close(w.db);
    free(w.ids);
    free(w.dead);
}

static void t_interleaved_mirror(void) { interleaved(0); }
static void t_interleaved_history(void) { interleaved(1); }

/* ---- kill -9 mid-cycle ------------------------------------------------------------------- */

typedef struct kid {
    const char *src, *olap;
} kid;

/* The child: cycles forever over a DuckDB file, one pipe byte per committed transaction. */
static void kid_main(void *ud, int fd)
{
    kid *k = ud;
    rhei__olap *o = NULL;
    rhei__sidecar *sc = NULL;
    rhei__err e;
    rhei__olap_opts opts = {k->olap, 2, "", 2, 0};
    rhei__sidecar_table_cfg t = items_table();
    t.soft_delete = "deleted";
    rhei__sidecar_cfg cfg = sqlite_cfg(k->src, &t, 1);
    cfg.history = 1;
    cfg.page_size = 100;
    cfg.reconcile_interval_ms = -1;
    if (rhei__olap_duckdb.open(&opts, &o, &e) || rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o,
                                                                   &sc, &e))
        _exit(2);
    rhei__sidecar_set_hook(sc, sc_pipe_hook, &fd);
    for (;;)
        rhei__sidecar_cycle(sc, NULL, &e);
}

/* A write of qty q: unique per write, so history rows can be traced to the write. */
static void logged_write(work *w, int64_t *qty_id, int64_t *q, size_t i)
{
    int64_t id = w->ids[i];
    qty_id[*q] = id;
    run_sql(w, "INSERT INTO items VALUES (?1, 'k', ?2, 0, ?3) ON CONFLICT (id) DO UPDATE SET"
               " qty = excluded.qty, deleted = 0, updated_at = excluded.updated_at",
            id, (*q)++, app_now(w));
}

static void t_kill9(void)
{
    char dir[64], src[128], olap[128];
    enum { ROWS = 4000, ROUNDS = 6, WRITES = 3000 };
    rt_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src.db", dir);
    snprintf(olap, sizeof olap, "%s/olap.duckdb", dir);
    int64_t *qty_id = calloc(ROWS + ROUNDS * WRITES + 1, sizeof *qty_id), q = 1;
    work w = {db_open(src), 7, calloc(ROWS + 1, sizeof(int64_t)), calloc(ROWS + 1, sizeof(int)),
              0, 1, 0};
    db_exec(w.db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                  " deleted INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)");
    db_exec(w.db, "BEGIN");
    for (; w.n < ROWS; w.n++) {
        w.ids[w.n] = w.next_id++;
        logged_write(&w, qty_id, &q, w.n);
    }
    db_exec(w.db, "COMMIT");
    kid k = {src, olap};
    for (int round = 0; round < ROUNDS; round++) {
        db_exec(w.db, "BEGIN");
        for (int i = 0; i < WRITES; i++)
            logged_write(&w, qty_id, &q, (size_t)(sc_rand(&w.seed) % w.n));
        db_exec(w.db, "COMMIT");
        run_sql(&w, "DELETE FROM items WHERE id % 50 = ?1", round, 0, 0);
        clock_past(w.last_ts);
        sc_child c = sc_fork(kid_main, &k);
        /* the first child's work is one copy (one transaction); later ones have ~30 pages */
        size_t want = round == 0 ? 1 : 1 + (size_t)(sc_rand(&w.seed) % 20);
        CHECK_INT(sc_wait_bytes(&c, want), want);
        sc_kill9(&c);
    }
    /* the survivor catches up in this process */
    rhei__olap *o = sc_olap_open(olap);
    rhei__sidecar_table_cfg t = items_table();
    t.soft_delete = "deleted";
    rhei__sidecar_cfg cfg = sqlite_cfg(src, &t, 1);
    cfg.history = 1;
    cfg.reconcile_interval_ms = -1;
    rhei__sidecar *sc = sc_new(&cfg, o);
    sc_cycle_ok(sc);
    same(w.db, LIVE_SRC, o, LIVE_OLAP);
    sc_check_history(o, "items", "id");
    rhei_result *r = sc_olap_query(o, "SELECT id, qty FROM items_history ORDER BY qty");
    int64_t prev = 0;
    for (size_t i = 0; i < rhei_result_row_count(r); i++) {
        int64_t id = rhei_result_int64(r, i, 0), qty = rhei_result_int64(r, i, 1);
        if (qty == prev || qty < 1 || qty >= q || qty_id[qty] != id)
            FAIL("history version (id %lld, qty %lld) was %s", (long long)id, (long long)qty,
                 qty == prev ? "applied twice" : "never written");
        prev = qty;
    }
    rhei_result_free(r);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
    sqlite3_close(w.db);
    free(w.ids);
    free(w.dead);
    free(qty_id);
}

/* ---- the edges --------------------------------------------------------------------------- */

typedef struct env {
    char dir[64], path[128];
    sqlite3 *db;
    rhei__olap *o;
    rhei__sidecar *sc;
} env;

/* A source with items(id, name, qty, updated_at TEXT) and rows 1..n at 2024-01-01 00:00:0i. */
static void env_open(env *v, int n, const char *olap_file)
{
    char sql[256], olap[160];
    rt_tmpdir(v->dir, sizeof v->dir);
    snprintf(v->path, sizeof v->path, "%s/src.db", v->dir);
    v->db = db_open(v->path);
    db_exec(v->db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                   " updated_at TEXT)");
    for (int i = 1; i <= n; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO items VALUES (%d, 'n%d', %d, "
                 "'2024-01-01 00:00:0%d')", i, i, i, i % 10);
        db_exec(v->db, sql);
    }
    snprintf(olap, sizeof olap, "%s/%s", v->dir, olap_file ? olap_file : "");
    v->o = sc_olap_open(olap_file ? olap : NULL);
    v->sc = NULL;
}

static void env_close(env *v)
{
    rhei__sidecar_free(v->sc);
    rhei__olap_duckdb.close(v->o);
    sqlite3_close(v->db);
}

#define ALL_SRC "SELECT * FROM items ORDER BY id"
#define ALL_OLAP "SELECT * FROM items ORDER BY id"

static void t_safety_delay(void)
{
    env v;
    char sql[256], ts[48];
    env_open(&v, 5, NULL);
    rhei__format_timestamp(rhei__now_us() + 3600000000LL, ts, sizeof ts);
    snprintf(sql, sizeof sql, "INSERT INTO items VALUES (6, 'future', 6, '%s')", ts);
    db_exec(v.db, sql);
    db_exec(v.db, "INSERT INTO items VALUES (7, 'no time', 7, NULL)");
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.safety_delay_ms = 2000;
    v.sc = sc_new(&cfg, v.o);
    int64_t before = rhei__now_us();
    CHECK_INT(sc_cycle_ok(v.sc).rows, 5);
    same(v.db, "SELECT * FROM items WHERE id <= 5 ORDER BY id", v.o, ALL_OLAP);
    int64_t wm = sc_watermark(v.sc, "items");
    CHECK(wm <= rhei__now_us() - 2000000 && wm >= before - 2000000 - 1000);
    /* text timestamps are filtered after reading: the future row stays out, page after page */
    CHECK_INT(sc_cycle_ok(v.sc).rows, 0);
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM items"), 5);
    env_close(&v);
}

static void t_malformed_copy(void)
{
    env v;
    env_open(&v, 5, NULL);
    db_exec(v.db, "INSERT INTO items VALUES (6, 'bad', 6, 'garbage')");
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    v.sc = sc_new(&cfg, v.o);
    const char *msg = sc_cycle_fails(v.sc, RHEI_TYPE);
    CHECK_CONTAINS(msg, "id=6");
    CHECK_CONTAINS(msg, "'garbage'");
    /* the copy is one transaction: nothing of it stays */
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                                  "'items'"), 0);
    CHECK_INT(sc_watermark(v.sc, "items"), 0);
    db_exec(v.db, "UPDATE items SET updated_at = '2024-01-01 12:00:00' WHERE id = 6");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 6);
    same(v.db, ALL_SRC, v.o, ALL_OLAP);
    env_close(&v);
}

static void t_malformed_pages(void)
{
    env v;
    env_open(&v, 0, NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.page_size = 3;
    v.sc = sc_new(&cfg, v.o);
    sc_cycle_ok(v.sc); /* copies an empty table */
    db_exec(v.db, "INSERT INTO items VALUES (1, 'a', 1, '2024-01-01 00:00:01'), (2, 'b', 2,"
                  " '2024-01-01 00:00:02'), (3, 'c', 3, '2024-01-01 00:00:03'), (4, 'd', 4,"
                  " '2024-01-02 00:00:00'), (5, 'e', 5, '2024-13-45 99:00:00'), (6, 'f', 6,"
                  " '2024-12-31 00:00:00')");
    const char *msg = sc_cycle_fails(v.sc, RHEI_TYPE);
    CHECK_CONTAINS(msg, "table 'items'");
    CHECK_CONTAINS(msg, "id=5");
    CHECK_CONTAINS(msg, "'2024-13-45 99:00:00'");
    /* everything before the bad row (in the source's text order, so id 6 too) is in; the
     * watermark waits just before it, and the next cycle stops at the same row */
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM items"), 5);
    CHECK_CONTAINS(sc_cycle_fails(v.sc, RHEI_TYPE), "id=5");
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM items"), 5);
    /* fixed the way an application does it: a new value and a new time */
    db_exec(v.db, "UPDATE items SET updated_at = '2025-01-01 00:00:00' WHERE id = 5");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 1);
    same(v.db, ALL_SRC, v.o, ALL_OLAP);
    env_close(&v);
}

static void t_column_dropped(void)
{
    env v;
    env_open(&v, 5, NULL);
    db_exec(v.db, "CREATE TABLE other (k TEXT PRIMARY KEY, v INTEGER, ts TEXT)");
    db_exec(v.db, "INSERT INTO other VALUES ('a', 1, '2024-01-01 00:00:00')");
    static const char *other_pk[] = {"k"};
    rhei__sidecar_table_cfg t[2] = {items_table(),
                                    {"other", other_pk, 1, "ts", NULL, NULL, 0, NULL, NULL}};
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, t, 2);
    v.sc = sc_new(&cfg, v.o);
    CHECK_INT(sc_cycle_ok(v.sc).rows, 6);
    db_exec(v.db, "ALTER TABLE items DROP COLUMN qty");
    db_exec(v.db, "UPDATE items SET name = 'x', updated_at = '2024-02-01 00:00:00' WHERE id = 1");
    db_exec(v.db, "INSERT INTO other VALUES ('b', 2, '2024-02-01 00:00:00')");
    const char *msg = sc_cycle_fails(v.sc, RHEI_NOTFOUND);
    CHECK_CONTAINS(msg, "column 'qty' of table 'items' no longer exists");
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM other"), 2); /* the other one went on */
    struct rhei__sidecar_table_status st;
    CHECK_INT(rhei__sidecar_table_status(v.sc, 0, &st), RHEI_OK);
    CHECK_STR(st.name, "items");
    CHECK_INT(st.stopped, 1);
    CHECK_CONTAINS(st.last_error, "'qty'");
    db_exec(v.db, "INSERT INTO other VALUES ('c', 3, '2024-03-01 00:00:00')");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 1); /* items is stopped, not failing every cycle */
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM other"), 3);
    CHECK_INT(rhei__sidecar_table_status(v.sc, 1, &st), RHEI_OK);
    CHECK_INT(st.stopped, 0);
    CHECK_INT(st.last_error_code, RHEI_OK);
    env_close(&v);
}

/* A column added at the source is ignored while running and picked up on restart: the OLAP
 * table gets it, current rows get a version carrying its values, older versions keep NULL. */
static void t_column_added(void)
{
    env v;
    env_open(&v, 5, "olap.duckdb");
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.history = 1;
    v.sc = sc_new(&cfg, v.o);
    sc_cycle_ok(v.sc);
    db_exec(v.db, "ALTER TABLE items ADD COLUMN color TEXT DEFAULT 'red'");
    db_exec(v.db, "UPDATE items SET qty = 50, color = 'blue', updated_at = '2024-02-01 00:00:00'"
                  " WHERE id = 2");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 1);
    same(v.db, "SELECT id, name, qty, updated_at FROM items ORDER BY id", v.o, ALL_OLAP);
    int64_t wm = sc_watermark(v.sc, "items");
    rhei__sidecar_free(v.sc);
    v.sc = sc_new(&cfg, v.o);
    sc_cycle_ok(v.sc);
    same(v.db, ALL_SRC, v.o, "SELECT id, name, qty, updated_at, color FROM items ORDER BY id");
    sc_check_history(v.o, "items", "id");
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rhei_as_of('items', %lld) WHERE color IS "
             "NULL", (long long)wm);
    CHECK_INT(sc_olap_scalar(v.o, sql), 5); /* before the restart nobody knew the colours */
    env_close(&v);
}

static void t_missing_source(void)
{
    env v;
    env_open(&v, 0, NULL);
    char missing[200];
    snprintf(missing, sizeof missing, "%s/later.db", v.dir);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(missing, &t, 1);
    v.sc = sc_new(&cfg, v.o); /* a source that is not there does not stop the start */
    char want[300];
    snprintf(want, sizeof want, "cannot reach source 'sqlite:%s'", missing);
    CHECK_CONTAINS(sc_cycle_fails(v.sc, RHEI_SOURCE), want);
    CHECK_CONTAINS(sc_cycle_fails(v.sc, RHEI_SOURCE), want);
    sqlite3 *db = db_open(missing);
    db_exec(db, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                " updated_at TEXT); INSERT INTO items VALUES (1, 'a', 1, '2024-01-01')");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 1);
    same(db, ALL_SRC, v.o, ALL_OLAP);
    sqlite3_close(db);
    env_close(&v);
}

/* Composite key from the source's own declaration, millisecond epochs found by magnitude,
 * and created_at standing in while updated_at is NULL. */
static void t_composite_ms(void)
{
    env v;
    env_open(&v, 0, NULL);
    db_exec(v.db, "CREATE TABLE m (region TEXT, n INTEGER, val REAL, created_ms INTEGER NOT NULL,"
                  " updated_ms INTEGER, PRIMARY KEY (region, n))");
    db_exec(v.db, "INSERT INTO m VALUES ('eu', 1, 1.5, 1700000000000, NULL), ('eu', 2, 2.5,"
                  " 1700000000000, NULL), ('us', 1, 3.5, 1700000000000, 1700000001000)");
    rhei__sidecar_table_cfg t = {"m", NULL, 0, "updated_ms", "created_ms", NULL, 0, NULL, NULL};
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.history = 1;
    cfg.page_size = 2;
    v.sc = sc_new(&cfg, v.o);
    CHECK_INT(sc_cycle_ok(v.sc).rows, 3);
    db_exec(v.db, "INSERT INTO m VALUES ('us', 2, 4.5, 1700000002000, NULL), ('eu', 0, 0.5,"
                  " 1700000002000, NULL)");
    db_exec(v.db, "UPDATE m SET val = 9.5, updated_ms = 1700000003000 WHERE region = 'eu'"
                  " AND n = 1");
    CHECK_INT(sc_cycle_ok(v.sc).rows, 3);
    same(v.db, "SELECT * FROM m ORDER BY region, n", v.o, "SELECT * FROM m ORDER BY region, n");
    CHECK_INT(sc_olap_scalar(v.o, "SELECT min(_rhei_valid_from) FROM m_history WHERE region ="
                                  " 'eu' AND n = 1"), 1700000000000000LL);
    CHECK_INT(sc_olap_scalar(v.o, "SELECT _rhei_valid_from FROM m_history WHERE region = 'eu'"
                                  " AND n = 1 AND _rhei_valid_to IS NULL"), 1700000003000000LL);
    sc_check_history(v.o, "m", "region, n");
    env_close(&v);
}

static void t_config_errors(void)
{
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar *sc = NULL;
    rhei__err e;
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg("/nonexistent.db", &t, 1);
    t.updated_at = NULL;
    CHECK_INT(rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc, &e), RHEI_CONFIG);
    CHECK(sc == NULL);
    CHECK_CONTAINS(e.msg, "'items' has no updated_at");
    t = items_table();
    t.timestamp_unit = "weeks";
    CHECK_INT(rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc, &e), RHEI_CONFIG);
    CHECK_CONTAINS(e.msg, "'weeks'");
    rhei__sidecar_table_cfg two[2] = {items_table(), items_table()};
    cfg = sqlite_cfg("/nonexistent.db", two, 2);
    CHECK_INT(rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc, &e), RHEI_CONFIG);
    CHECK_CONTAINS(e.msg, "listed twice");
    cfg.ntables = 0;
    CHECK_INT(rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc, &e), RHEI_CONFIG);
    rhei__src_kind kind;
    const char *rest;
    CHECK_INT(rhei__sidecar_parse_source("postgres:host=x", &kind, &rest, &e), RHEI_OK);
    CHECK_INT(kind, RHEI__SRC_POSTGRES);
    CHECK_STR(rest, "host=x");
    CHECK_INT(rhei__sidecar_parse_source("postgresql://u@h/db", &kind, &rest, &e), RHEI_OK);
    CHECK_STR(rest, "postgresql://u@h/db");
    CHECK_INT(rhei__sidecar_parse_source("sqlite:/a.db", &kind, &rest, &e), RHEI_OK);
    CHECK_INT(kind, RHEI__SRC_SQLITE);
    CHECK_INT(rhei__sidecar_parse_source("mysql:x", &kind, &rest, &e), RHEI_CONFIG);
    rhei__olap_duckdb.close(o);
}

/* Problems only the source can tell: no key, an unknown column, an unknown table. */
static void t_schema_errors(void)
{
    env v;
    env_open(&v, 1, NULL);
    db_exec(v.db, "CREATE TABLE nokey (a INTEGER, ts TEXT)");
    static const char *cols[] = {"id", "nope"};
    rhei__sidecar_table_cfg t[3] = {{"nokey", NULL, 0, "ts", NULL, NULL, 0, NULL, NULL},
                                    {"items", items_pk, 1, "updated_at", NULL, cols, 2, NULL, NULL},
                                    {"ghost", items_pk, 1, "ts", NULL, NULL, 0, NULL, NULL}};
    for (int i = 0; i < 3; i++) {
        rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t[i], 1);
        v.sc = sc_new(&cfg, v.o);
        const char *msg = sc_cycle_fails(v.sc, i == 2 ? RHEI_NOTFOUND : RHEI_CONFIG);
        CHECK_CONTAINS(msg, i == 0 ? "table 'nokey' has no primary key"
                          : i == 1 ? "column 'nope' of table 'items' does not exist"
                                   : "table 'ghost' does not exist");
        CHECK_INT(sc_cycle_ok(v.sc).rows, 0); /* stopped, not retried */
        rhei__sidecar_free(v.sc);
        v.sc = NULL;
    }
    env_close(&v);
}

/* A durable OLAP resumes from its stored watermark: no second copy, nothing twice. */
static void t_resume(void)
{
    env v;
    env_open(&v, 10, "olap.duckdb"); /* row 10 has the smallest time and is read last */
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.history = 1;
    v.sc = sc_new(&cfg, v.o);
    CHECK_INT(sc_cycle_ok(v.sc).rows, 10);
    CHECK_INT(sc_cycle_ok(v.sc).rows, 0); /* the copy's watermark covers every row it read */
    int64_t wm = sc_watermark(v.sc, "items");
    rhei__sidecar_free(v.sc);
    rhei__olap_duckdb.close(v.o);
    char olap[200];
    snprintf(olap, sizeof olap, "%s/olap.duckdb", v.dir);
    v.o = sc_olap_open(olap);
    v.sc = sc_new(&cfg, v.o);
    db_exec(v.db, "INSERT INTO items VALUES (11, 'n11', 11, '2024-05-01 00:00:00')");
    rhei__sidecar_stats st = sc_cycle_ok(v.sc);
    CHECK_INT(st.rows, 1);
    CHECK_INT(st.inserted, 1);
    CHECK(sc_watermark(v.sc, "items") >= wm);
    same(v.db, ALL_SRC, v.o, ALL_OLAP);
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM items_history"), 11);
    /* switched to mirror storage: a fresh copy, the history objects replaced */
    rhei__sidecar_free(v.sc);
    cfg.history = 0;
    v.sc = sc_new(&cfg, v.o);
    CHECK_INT(sc_cycle_ok(v.sc).rows, 11);
    same(v.db, ALL_SRC, v.o, ALL_OLAP);
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                                  "'items_history'"), 0);
    env_close(&v);
}

static void file_sig(const char *path, char *out, size_t size)
{
    struct stat st;
    snprintf(out, size, "missing");
    FILE *f = fopen(path, "rb");
    if (!f || stat(path, &st) != 0) {
        if (f)
            fclose(f);
        return;
    }
    uint64_t h = 1469598103934665603ull;
    int c;
    while ((c = fgetc(f)) != EOF)
        h = (h ^ (unsigned)c) * 1099511628211ull;
    fclose(f);
    snprintf(out, size, "%lld/%lld/%llx", (long long)st.st_size, (long long)st.st_mtime,
             (unsigned long long)h);
}

/* The source is opened read-only: its bytes do not change, WAL or not. */
static void t_source_untouched(void)
{
    env v;
    char before[96], after[96], wal[160];
    env_open(&v, 20, NULL);
    sqlite3_close(v.db); /* closes the WAL: the file is all there is */
    v.db = NULL;
    snprintf(wal, sizeof wal, "%s-wal", v.path);
    file_sig(v.path, before, sizeof before);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.reconcile_interval_ms = -1;
    v.sc = sc_new(&cfg, v.o);
    for (int i = 0; i < 3; i++)
        sc_cycle_ok(v.sc);
    rhei__sidecar_free(v.sc);
    v.sc = NULL;
    file_sig(v.path, after, sizeof after);
    CHECK_STR(after, before);
    CHECK_INT(sc_olap_scalar(v.o, "SELECT count(*) FROM items"), 20);
    env_close(&v);
}

/* ---- sharing the OLAP store with the engine's sync ---------------------------------------- */

typedef struct other_writer {
    rhei__olap *o;
    int failures;
    char msg[256];
} other_writer;

/* Stands in for the engine's sync: its own OLAP transactions on the same store, with no
 * lock of its own (the backend's begin/commit serialise the two writers). */
static void *other_main(void *arg)
{
    other_writer *w = arg;
    char v[32];
    for (int i = 0; i < 300; i++) {
        rhei__err e;
        snprintf(v, sizeof v, "%d", i);
        int rc = rhei__olap_duckdb.begin(w->o, &e);
        if (rc == RHEI_OK && (rc = rhei__olap_duckdb.set_kv(w->o, "engine.test", v, &e)) == RHEI_OK)
            rc = rhei__olap_duckdb.commit(w->o, &e);
        else if (rc != RHEI_OK)
            rhei__olap_duckdb.rollback(w->o);
        if (rc) {
            w->failures++;
            snprintf(w->msg, sizeof w->msg, "%.200s", e.msg);
        }
    }
    return NULL;
}

static void t_shared_lock(void)
{
    env v;
    rhei__err e;
    env_open(&v, 10, NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.poll_interval_ms = 1;
    cfg.history = 1;
    CHECK_INT(rhei__sidecar_new(&cfg, &rhei__olap_duckdb, v.o, &v.sc, &e), RHEI_OK);
    sc_applied a = SC_APPLIED_INIT;
    rhei__sidecar_set_hook(v.sc, sc_count_rows, &a);
    other_writer w = {v.o, 0, ""};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, other_main, &w) == 0);
    CHECK_INT(rhei__sidecar_start(v.sc, &e), RHEI_OK);
    sc_wait_applied(&a, 10);
    for (int i = 0; i < 50; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE items SET qty = qty + 1, updated_at = '2024-02-01 "
                 "00:00:%02d' WHERE id = %d", i, 1 + i % 10);
        db_exec(v.db, sql);
        sc_wait_applied(&a, 11 + i);
    }
    pthread_join(th, NULL);
    rhei__sidecar_stop(v.sc);
    if (w.failures)
        FAIL("%d transactions of the other writer failed: %s", w.failures, w.msg);
    same(v.db, ALL_SRC, v.o, ALL_OLAP);
    sc_check_history(v.o, "items", "id");
    env_close(&v);
}

/* ---- out of memory at every allocation --------------------------------------------------- */

/* Fails the n-th allocation of a sidecar's life (creation, first copy, a page with updates,
 * inserts and a soft delete, a reconciliation, a restart) for every n: each run either works or reports
 * RHEI_NOMEM, leaks nothing (ASan), and leaves OLAP where a clean run then ends up equal to
 * the source. */
static void t_oom(void)
{
    env v;
    char sql[200];
    rhei__err e;
    env_open(&v, 20, NULL);
    db_exec(v.db, "ALTER TABLE items ADD COLUMN gone INTEGER NOT NULL DEFAULT 0");
    rhei__sidecar_table_cfg t = items_table();
    t.soft_delete = "gone";
    rhei__sidecar_cfg cfg = sqlite_cfg(v.path, &t, 1);
    cfg.history = 1;
    cfg.page_size = 4;
    cfg.reconcile_interval_ms = -1;
    for (long n = 1; n <= 360; n++) { /* a run makes about 290 allocations */
        rhei__sidecar_stats st;
        snprintf(sql, sizeof sql, "UPDATE items SET qty = qty + 1, gone = (id = %ld %% 20), "
                 "updated_at = '2024-03-01 %02ld:%02ld:00' WHERE id %% 3 = %ld %% 3", n, n / 60,
                 n % 60, n); /* times only grow, run after run */
        rhei__mem_fail_after(n);
        int rc = rhei__sidecar_new(&cfg, &rhei__olap_duckdb, v.o, &v.sc, &e);
        if (rc == RHEI_OK && (rc = rhei__sidecar_cycle(v.sc, &st, &e)) == RHEI_OK) {
            db_exec(v.db, sql);
            snprintf(sql, sizeof sql, "INSERT INTO items VALUES (%ld, 'x', 1, '2024-03-01 "
                     "%02ld:%02ld:30', 0); DELETE FROM items WHERE id = %ld", 100 + n, n / 60,
                     n % 60, 99 + n);
            db_exec(v.db, sql);
            rc = rhei__sidecar_cycle(v.sc, &st, &e);
        }
        if (rc == RHEI_OK) { /* and a restart: stored state, key set */
            rhei__sidecar_free(v.sc);
            v.sc = NULL;
            rc = rhei__sidecar_new(&cfg, &rhei__olap_duckdb, v.o, &v.sc, &e);
            if (rc == RHEI_OK)
                rc = rhei__sidecar_cycle(v.sc, &st, &e);
        }
        rhei__mem_fail_after(0);
        if (rc != RHEI_OK && rc != RHEI_NOMEM && !strstr(e.msg, "out of memory"))
            FAIL("allocation %ld: rc=%d: %s", n, rc, e.msg);
        rhei__sidecar_free(v.sc);
        v.sc = sc_new(&cfg, v.o);
        sc_cycle_ok(v.sc);
        same(v.db, "SELECT * FROM items WHERE gone = 0 ORDER BY id", v.o, ALL_OLAP);
        sc_check_history(v.o, "items", "id");
        rhei__sidecar_free(v.sc);
        v.sc = NULL;
        /* the next run copies afresh: a stored watermark without its table is ignored */
        CHECK_INT(rhei__olap_duckdb.begin(v.o, &e), RHEI_OK);
        CHECK_INT(rhei__olap_duckdb.drop_table(v.o, "items", 1, &e), RHEI_OK);
        CHECK_INT(rhei__olap_duckdb.commit(v.o, &e), RHEI_OK);
    }
    env_close(&v);
}
#endif

TEST(hard_delete_is_dated_no_earlier_than_it_happened) { SC_RUN(t_hard_delete_dated); }
TEST(bulk_100k_rows_few_timestamps) { SC_RUN(t_bulk); }
TEST(interleaved_changes_mirror) { SC_RUN(t_interleaved_mirror); }
TEST(interleaved_changes_history_as_of) { SC_RUN(t_interleaved_history); }
TEST(kill9_mid_cycle_then_restart) { SC_RUN(t_kill9); }
TEST(safety_delay_holds_back_recent_rows) { SC_RUN(t_safety_delay); }
TEST(malformed_timestamp_stops_at_the_row) { SC_RUN(t_malformed_pages); }
TEST(malformed_timestamp_in_first_copy) { SC_RUN(t_malformed_copy); }
TEST(column_dropped_stops_that_table_only) { SC_RUN(t_column_dropped); }
TEST(column_added_is_picked_up_on_restart) { SC_RUN(t_column_added); }
TEST(missing_source_then_created) { SC_RUN(t_missing_source); }
TEST(composite_key_ms_epochs_created_at) { SC_RUN(t_composite_ms); }
TEST(config_errors) { SC_RUN(t_config_errors); }
TEST(schema_errors_stop_the_table) { SC_RUN(t_schema_errors); }
TEST(durable_olap_resumes_from_watermark) { SC_RUN(t_resume); }
TEST(source_file_is_never_changed) { SC_RUN(t_source_untouched); }
TEST(shares_olap_with_engine_sync_lock) { SC_RUN(t_shared_lock); }
TEST(out_of_memory_at_every_allocation) { SC_RUN(t_oom); }
