/* test_cdc.c — capture triggers and the change log, read back through the cursor. */
#include "cdc.h"
#include "test.h"
#include <sqlite3.h>

static rhei__oltp *o;
static rhei__conn *w;
static rhei__err e;
static int64_t tid;

static void setup(const char *ddl)
{
    char dir[64], path[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.db", dir);
    rhei__oltp_opts opts = {path, 0, 1, 1000, 64};
    CHECK_INT(rhei__oltp_open(&opts, &o, &e), RHEI_OK);
    w = rhei__oltp_writer(o);
    CHECK_INT(rhei__cdc_install(w, &e), RHEI_OK);
    CHECK_INT(rhei__conn_exec(w, ddl, NULL, 0, NULL, &e), RHEI_OK);
}

static void teardown(void)
{
    rhei__oltp_writer_release(o);
    rhei__oltp_close(o);
}

static void exec(const char *sql)
{
    if (rhei__conn_exec(w, sql, NULL, 0, NULL, &e) != RHEI_OK)
        FAIL("%s: %s", sql, e.msg);
}

/* The log's ops after position `after`, as a string like "I U D". */
static void ops_after(int64_t after, char *out, size_t n)
{
    rhei__cdc_cursor *cur = NULL;
    rhei__cdc_event_row ev;
    out[0] = '\0';
    CHECK_INT(rhei__cdc_cursor_open(w, after, INT64_MAX, &cur, &e), RHEI_OK);
    while (rhei__cdc_cursor_next(cur, &ev, &e) == 1) {
        const char *k = ev.op == 1 ? "I" : ev.op == 2 ? "U" : ev.op == 3 ? "D" : ev.op == 4 ? "P" : "S";
        snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "", k);
    }
    rhei__cdc_cursor_close(cur);
}

TEST(every_write_kind_is_logged)
{
    setup("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK);
    int64_t h0;
    CHECK_INT(rhei__cdc_head(w, &h0, &e), RHEI_OK);
    exec("INSERT INTO t VALUES (1, 'a')");
    exec("UPDATE t SET v = 'b' WHERE id = 1");
    exec("UPDATE t SET id = 2 WHERE id = 1");
    exec("INSERT OR REPLACE INTO t VALUES (2, 'c')");
    exec("DELETE FROM t");
    char ops[128];
    ops_after(h0, ops, sizeof ops);
    /* REPLACE: a pre-insert mark, the recursive DELETE trigger's deletion, the insert. */
    CHECK_STR(ops, "I U D I P D I D");
    teardown();
}

TEST(rolled_back_changes_leave_no_log)
{
    setup("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK);
    int64_t h0, h1;
    CHECK_INT(rhei__cdc_head(w, &h0, &e), RHEI_OK);
    exec("BEGIN; INSERT INTO t VALUES (1, 'a'); ROLLBACK;");
    CHECK_INT(rhei__cdc_head(w, &h1, &e), RHEI_OK);
    CHECK_INT(h1, h0);
    teardown();
}

TEST(catalog_versions_and_schema_events)
{
    setup("CREATE TABLE t (a INTEGER, b TEXT, c REAL, PRIMARY KEY (b, a))");
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK);
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK); /* same: no-op */
    rhei_column only[] = {{"a", "INTEGER"}, {"b", "TEXT"}};
    CHECK_INT(rhei__cdc_register(w, "t", only, 2, NULL, 0, NULL, &tid, &e), RHEI_EXISTS);
    CHECK_INT(rhei__cdc_add_column(w, "t", "d", "DATE", NULL, NULL, &e), RHEI_OK);
    CHECK_INT(rhei__cdc_drop_column(w, "t", "c", NULL, NULL, &e), RHEI_OK);
    rhei__catalog cat;
    CHECK_INT(rhei__catalog_load(w, &cat, &e), RHEI_OK);
    CHECK_INT(cat.n, 3);
    const rhei__table *t = rhei__catalog_active(&cat, "T");
    CHECK(t != NULL);
    CHECK_INT(t->ncols, 3);
    CHECK_STR(t->cols[2].name, "d");
    CHECK_INT(t->cols[2].type, RHEI_TYPE_DATE);
    CHECK_INT(t->npk, 2);
    CHECK_STR(t->cols[t->pk_idx[0]].name, "b"); /* key order is the declared key order */
    rhei__catalog_free(&cat);
    char ops[64];
    ops_after(0, ops, sizeof ops);
    CHECK_STR(ops, "S S S");
    CHECK_INT(rhei__cdc_unregister(w, "t", 0, NULL, NULL, &e), RHEI_OK);
    CHECK_INT(rhei__catalog_load(w, &cat, &e), RHEI_OK);
    CHECK(rhei__catalog_active(&cat, "t") == NULL);
    rhei__catalog_free(&cat);
    exec("INSERT INTO t (a, b) VALUES (1, 'x')"); /* no triggers left */
    ops_after(0, ops, sizeof ops);
    CHECK_STR(ops, "S S S S");
    teardown();
}

TEST(prune_keeps_positions_monotonic)
{
    setup("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK);
    exec("INSERT INTO t VALUES (1), (2), (3)");
    int64_t h, pruned;
    CHECK_INT(rhei__cdc_head(w, &h, &e), RHEI_OK);
    int more = 1;
    CHECK_INT(rhei__cdc_prune(w, "a", h, 1000, &more, &e), RHEI_OK);
    CHECK_INT(more, 0);
    CHECK_INT(rhei__cdc_pruned_upto(w, &pruned, &e), RHEI_OK);
    CHECK_INT(pruned, h);
    exec("INSERT INTO t VALUES (4)");
    int64_t h2;
    CHECK_INT(rhei__cdc_head(w, &h2, &e), RHEI_OK);
    CHECK_INT(h2, h + 1);
    teardown();
}

TEST(decode_is_canonical_or_refused)
{
    setup("CREATE TABLE v (x)");
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(rhei__conn_db(w), "SELECT 5, 2.0, 'abc', '2026-01-02',"
              " '2026-01-02 03:04:05.5+01:00', '12.345', 'true', 1700000000", -1, &st, NULL),
              SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    rhei__table tt = {0};
    rhei__batch b;
    rhei__batch_init(&b, &tt);
    rhei__colspec c = {0};
    rhei_value v;
    c.type = RHEI_TYPE_INTEGER;
    CHECK_INT(rhei__oltp_decode(st, 1, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.i, 2);
    CHECK_INT(rhei__oltp_decode(st, 2, &c, &b, &v), RHEI_TYPE);
    c.type = RHEI_TYPE_DATE;
    CHECK_INT(rhei__oltp_decode(st, 3, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.i, 20455);
    CHECK_INT(rhei__oltp_decode(st, 0, &c, &b, &v), RHEI_TYPE);
    c.type = RHEI_TYPE_TIMESTAMP;
    CHECK_INT(rhei__oltp_decode(st, 4, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.i, 1767319445500000LL);
    CHECK_INT(rhei__oltp_decode(st, 7, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.i, 1700000000000000LL);
    c.type = RHEI_TYPE_DECIMAL;
    c.scale = 2;
    CHECK_INT(rhei__oltp_decode(st, 5, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.type, RHEI_TYPE_DECIMAL);
    CHECK_INT(rhei__oltp_decode(st, 2, &c, &b, &v), RHEI_TYPE);
    c.type = RHEI_TYPE_BOOLEAN;
    CHECK_INT(rhei__oltp_decode(st, 6, &c, &b, &v), RHEI_OK);
    CHECK_INT(v.i, 1);
    rhei__batch_free(&b);
    sqlite3_finalize(st);
    teardown();
}

TEST(prune_respects_other_consumers)
{
    setup("CREATE TABLE t (id INTEGER PRIMARY KEY)");
    CHECK_INT(rhei__cdc_register(w, "t", NULL, 0, NULL, 0, NULL, &tid, &e), RHEI_OK);
    int64_t h0, h1, pruned;
    CHECK_INT(rhei__cdc_head(w, &h0, &e), RHEI_OK);
    CHECK_INT(rhei__cdc_consumer_set(w, "duckdb:/other.duckdb", h0, &e), RHEI_OK);
    exec("INSERT INTO _rhei_consumers VALUES ('mem:999999999:1', 0, 999999999)"); /* dead */
    exec("INSERT INTO t VALUES (1), (2), (3)");
    CHECK_INT(rhei__cdc_head(w, &h1, &e), RHEI_OK);
    int more = 1;
    CHECK_INT(rhei__cdc_prune(w, "me", h1, 1, &more, &e), RHEI_OK); /* one row at a time */
    CHECK_INT(more, 0); /* the durable consumer holds the rest: nothing more to delete */
    CHECK_INT(rhei__cdc_pruned_upto(w, &pruned, &e), RHEI_OK);
    CHECK_INT(pruned, h0); /* the durable consumer still needs h0+1.. ; the dead one is gone */
    char ops[64];
    ops_after(h0, ops, sizeof ops);
    CHECK_STR(ops, "I I I");
    CHECK_INT(rhei__cdc_consumer_drop(w, "duckdb:/other.duckdb", &e), RHEI_OK);
    CHECK_INT(rhei__cdc_prune(w, "me", h1, 2, &more, &e), RHEI_OK);
    CHECK_INT(more, 1);
    CHECK_INT(rhei__cdc_prune(w, "me", h1, 2, &more, &e), RHEI_OK);
    CHECK_INT(more, 0);
    ops_after(0, ops, sizeof ops);
    CHECK_STR(ops, "I"); /* only the newest row is kept */
    teardown();
}
