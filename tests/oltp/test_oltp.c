/* test_oltp.c — SQLite connections: pragmas, statement cache, scripts, error mapping,
 * result collection. */
#include "oltp.h"
#include "test.h"
#include <sqlite3.h>

static rhei__oltp *open_tmp(char *dir, size_t n)
{
    char path[128];
    rt_tmpdir(dir, n);
    snprintf(path, sizeof path, "%s/o.db", dir);
    rhei__oltp_opts o = {path, 0, 2, 1000, 0};
    rhei__oltp *db = NULL;
    rhei__err e;
    if (rhei__oltp_open(&o, &db, &e) != RHEI_OK)
        FAIL("open: %s", e.msg);
    return db;
}

TEST(wal_and_pragmas)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    rhei__err e;
    rhei_result *r = NULL;
    rhei__conn *w = rhei__oltp_writer(o);
    CHECK_INT(rhei__conn_query(w, "PRAGMA journal_mode", NULL, 0, &r, &e), RHEI_OK);
    CHECK_STR(rhei_result_text(r, 0, 0, NULL), "wal");
    rhei_result_free(r);
    CHECK_INT(rhei__conn_query(w, "PRAGMA recursive_triggers", NULL, 0, &r, &e), RHEI_OK);
    CHECK_INT(rhei_result_int64(r, 0, 0), 1);
    rhei_result_free(r);
    rhei__oltp_writer_release(o);
    rhei__conn *rd = rhei__oltp_reader(o);
    CHECK_INT(rhei__conn_exec(rd, "CREATE TABLE x (a)", NULL, 0, NULL, &e), RHEI_READONLY);
    rhei__oltp_reader_release(o, rd);
    rhei__oltp_close(o);
}

TEST(cache_reuses_statements)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    rhei__err e;
    rhei__conn *w = rhei__oltp_writer(o);
    CHECK_INT(rhei__conn_exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", NULL, 0,
                              NULL, &e), RHEI_OK);
    sqlite3_stmt *a = NULL, *b = NULL;
    CHECK_INT(rhei__conn_prepare(w, "INSERT INTO t VALUES (?, ?)", &a, &e), RHEI_OK);
    CHECK_INT(rhei__conn_prepare(w, "INSERT INTO t VALUES (?, ?)", &b, &e), RHEI_OK);
    CHECK(a == b);
    for (int i = 0; i < 100; i++) { /* more distinct texts than slots: eviction works */
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d", i);
        CHECK_INT(rhei__conn_exec(w, sql, NULL, 0, NULL, &e), RHEI_OK);
    }
    rhei_value p[2] = {rhei_int(1), rhei_text("one")};
    int64_t changes = 0;
    CHECK_INT(rhei__conn_exec(w, "INSERT INTO t VALUES (?, ?)", p, 2, &changes, &e), RHEI_OK);
    CHECK_INT(changes, 1);
    CHECK_INT(rhei__conn_exec(w, "INSERT INTO t VALUES (2, 'a'); INSERT INTO t VALUES (3, 'b');",
                              NULL, 0, &changes, &e), RHEI_OK);
    CHECK_INT(changes, 2);
    CHECK_INT(rhei__conn_exec(w, "INSERT INTO t VALUES (?, 'a'); SELECT 1", p, 1, NULL, &e),
              RHEI_MISUSE);
    rhei__oltp_writer_release(o);
    rhei__oltp_close(o);
}

TEST(errors_map_to_codes)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    rhei__err e;
    rhei__conn *w = rhei__oltp_writer(o);
    CHECK_INT(rhei__conn_exec(w, "CREATE TABLE t (id INTEGER PRIMARY KEY)", NULL, 0, NULL, &e),
              RHEI_OK);
    CHECK_INT(rhei__conn_exec(w, "SELEC 1", NULL, 0, NULL, &e), RHEI_SQL);
    CHECK(strncmp(e.msg, "sqlite: ", 8) == 0);
    CHECK_INT(rhei__conn_exec(w, "SELECT * FROM nope", NULL, 0, NULL, &e), RHEI_NOTFOUND);
    CHECK_INT(rhei__conn_exec(w, "INSERT INTO t VALUES (1), (1)", NULL, 0, NULL, &e),
              RHEI_CONSTRAINT);
    CHECK_INT(rhei__conn_exec(w, "INSERT INTO t VALUES ('x')", NULL, 0, NULL, &e), RHEI_TYPE);
    CHECK_INT(rhei__conn_exec(w, "", NULL, 0, NULL, &e), RHEI_OK);
    rhei__oltp_writer_release(o);
    rhei__oltp_close(o);
}

TEST(results_keep_storage_classes)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    rhei__err e;
    rhei_result *r = NULL;
    rhei__conn *c = rhei__oltp_reader(o);
    CHECK_INT(rhei__conn_query(c, "SELECT 1 AS i, 2.5 AS f, 'x' AS s, x'00' AS b, NULL AS n",
                               NULL, 0, &r, &e), RHEI_OK);
    CHECK_INT(rhei_result_column_type(r, 0), RHEI_TYPE_INTEGER);
    CHECK_INT(rhei_result_column_type(r, 1), RHEI_TYPE_REAL);
    CHECK_INT(rhei_result_column_type(r, 2), RHEI_TYPE_TEXT);
    CHECK_INT(rhei_result_column_type(r, 3), RHEI_TYPE_BLOB);
    CHECK_STR(rhei_result_column_name(r, 4), "n");
    CHECK(rhei_result_is_null(r, 0, 4));
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLTP);
    rhei_result_free(r);
    CHECK_INT(rhei__conn_query(c, "SELECT 1 UNION ALL SELECT 'a'", NULL, 0, &r, &e), RHEI_OK);
    CHECK_INT(rhei_result_column_type(r, 0), RHEI_TYPE_TEXT); /* mixed column */
    rhei_result_free(r);
    rhei__oltp_reader_release(o, c);
    rhei__oltp_close(o);
}

/* Checks one text's plan facts, asked for at once and one call at a time. */
static void expect_plan(rhei__conn *c, const char *sql, int64_t scan, int64_t reach, int sorts,
                        int distinct)
{
    rhei__plan p;
    CHECK_INT(rhei__conn_plan(c, sql, RHEI__PLAN_SCAN_ROWS | RHEI__PLAN_REACH_ROWS, &p),
              scan < 0 ? -1 : 0);
    if (scan >= 0 && (p.scan_rows != scan || p.reach_rows != reach || p.sorts != sorts ||
                      p.distinct_indexed != distinct))
        FAIL("%s: scan %lld reach %lld sorts %d distinct %d, want %lld %lld %d %d", sql,
             (long long)p.scan_rows, (long long)p.reach_rows, p.sorts, p.distinct_indexed,
             (long long)scan, (long long)reach, sorts, distinct);
    CHECK_INT(rhei__conn_scan_rows(c, sql), scan);
    CHECK_INT(rhei__conn_reach_rows(c, sql), reach);
    CHECK_INT(rhei__conn_plan_sorts(c, sql), sorts);
    CHECK_INT(rhei__conn_plan_distinct_indexed(c, sql), distinct);
    CHECK_INT(rhei__conn_plan(c, sql, 0, &p), scan < 0 ? -1 : 0); /* rows only when asked */
    CHECK_INT(p.scan_rows, 0);
    CHECK_INT(p.reach_rows, 0);
}

/* One walk of SQLite's plan answers every question the router asks of it: rows scanned
 * (each scanned table's largest rowid, plus 1 a line), rows reached (searched tables too),
 * whether a temporary B-tree sorts, whether a DISTINCT steps through a covering index. */
TEST(plan_facts_from_one_walk)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    rhei__err e;
    rhei__conn *w = rhei__oltp_writer(o);
    CHECK_INT(rhei__conn_exec(w,
                              "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, v TEXT);"
                              "CREATE INDEX t_k ON t (k);"
                              "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n"
                              " WHERE x < 1000) INSERT INTO t SELECT x, x % 10, 'v' || x FROM n;"
                              "CREATE TABLE u (a INTEGER PRIMARY KEY, b TEXT);"
                              "INSERT INTO u VALUES (5, 'x')",
                              NULL, 0, NULL, &e),
              RHEI_OK);
    rhei__oltp_writer_release(o);
    rhei__conn *c = rhei__oltp_reader(o);
    expect_plan(c, "SELECT v FROM t WHERE k = 3", 0, 1001, 0, 0);
    expect_plan(c, "SELECT v FROM t ORDER BY v", 1001, 1001, 1, 0);
    expect_plan(c, "SELECT DISTINCT k FROM t", 1001, 1001, 0, 1);
    expect_plan(c, "SELECT count(DISTINCT v) FROM t", 1001, 1001, 1, 0); /* dedups in a B-tree */
    expect_plan(c, "SELECT t.v, u.b FROM t JOIN u ON u.a = t.id", 1001, 1001 + 6, 0, 0);
    expect_plan(c, "SELECT nope FROM t", -1, -1, -1, -1);
    /* An index made after this connection planned: the next plan sees it (the schema is read
     * again before each walk, for the sort question too). */
    w = rhei__oltp_writer(o);
    CHECK_INT(rhei__conn_exec(w, "CREATE INDEX t_v ON t (v)", NULL, 0, NULL, &e), RHEI_OK);
    rhei__oltp_writer_release(o);
    CHECK_INT(rhei__conn_plan_sorts(c, "SELECT v FROM t ORDER BY v"), 0);
    rhei__oltp_reader_release(o, c);
    rhei__oltp_close(o);
}
