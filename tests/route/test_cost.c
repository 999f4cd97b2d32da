/* test_cost.c — cost-aware routing: what SQLite's plan knows (an index serves the filter or
 * not) and how large the scanned table is decide the side of a filtered read. */
#include "engine/helpers.h"
#include "route.h"

static void expect(rhei_db *db, const char *sql, rhei_side side, const char *reason)
{
    rhei_route_info ri;
    CHECK_OK(db, rhei_explain_route(db, sql, &ri));
    if (ri.side != side || strcmp(ri.reason, reason) != 0)
        FAIL("%s: routed %s '%s', want %s '%s'", sql, ri.side == RHEI_SIDE_OLAP ? "olap" : "oltp",
             ri.reason, side == RHEI_SIDE_OLAP ? "olap" : "oltp", reason);
}

/* A filter no index serves goes to DuckDB once the table is large; with an index, and on a
 * small table, it stays on SQLite; the answer is the same either way. */
TEST(unindexed_filter_on_large_table)
{
    char dir[64], cmd[128];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)");
    th_exec(db, "CREATE TABLE small (id INTEGER PRIMARY KEY, k INTEGER)");
    th_exec(db, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < "
                "60000) INSERT INTO big SELECT x, x % 1000, 'v' || x FROM n");
    th_exec(db, "INSERT INTO small VALUES (1, 1), (2, 2)");
    CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "small", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    expect(db, "SELECT id, v FROM big WHERE k = 7", RHEI_SIDE_OLAP,
           "unindexed filter on a large table");
    expect(db, "SELECT id, v FROM big WHERE k > 990", RHEI_SIDE_OLAP,
           "unindexed filter on a large table");
    expect(db, "SELECT id, v FROM big WHERE id = 7", RHEI_SIDE_OLTP, "point lookup");
    expect(db, "SELECT id, v FROM big WHERE id BETWEEN 10 AND 20", RHEI_SIDE_OLTP,
           "simple filter");
    expect(db, "SELECT id FROM small WHERE k = 1", RHEI_SIDE_OLTP, "point lookup");
    th_same(db, "SELECT id, v FROM big WHERE k = 7 ORDER BY id");
    th_exec(db, "CREATE INDEX big_k ON big (k)");
    expect(db, "SELECT id, v FROM big WHERE k = 8", RHEI_SIDE_OLTP, "point lookup");
    expect(db, "SELECT id, v FROM big WHERE k > 990", RHEI_SIDE_OLTP, "simple filter");
    CHECK_OK(db, rhei_close(db));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static rhei_result *routed(rhei_db *db, const char *sql, rhei_side side, const char *reason)
{
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, sql, NULL, 0, &r));
    if (rhei_result_side(r) != side || strcmp(rhei_result_reason(r), reason) != 0)
        FAIL("%s: served by %s '%s', want %s '%s'", sql,
             rhei_result_side(r) == RHEI_SIDE_OLAP ? "olap" : "oltp", rhei_result_reason(r),
             side == RHEI_SIDE_OLAP ? "olap" : "oltp", reason);
    return r;
}

/* A read the speed rules would send to DuckDB (aggregate, join, sort) stays on SQLite when its
 * plan reaches every table through an index; one whose index range proves most of a large
 * table moves to DuckDB at its first run (over SQLite's budget) and stays there. Answers are
 * SQLite's either way. */
TEST(index_served_reads_stay_on_sqlite_unless_too_wide)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)");
    th_exec(db, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < "
                "1000000) INSERT INTO big SELECT x, x % 1000, 'v' || x FROM n");
    th_exec(db, "CREATE INDEX big_k ON big (k)");
    CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    expect(db, "SELECT count(*), sum(k) FROM big WHERE id BETWEEN 10 AND 90", RHEI_SIDE_OLTP,
           "index serves it");
    expect(db, "SELECT k, count(*) FROM big WHERE k IN (3, 4) GROUP BY k", RHEI_SIDE_OLTP,
           "index serves it");
    /* ORDER BY the key with LIMIT: SQLite reads the rows in order and stops; by another
     * column it sorts the whole table first, which DuckDB does faster. */
    expect(db, "SELECT id, v FROM big ORDER BY id DESC LIMIT 5", RHEI_SIDE_OLTP, "index serves it");
    expect(db, "SELECT id, v FROM big ORDER BY v LIMIT 5", RHEI_SIDE_OLAP, "full scan sort");
    expect(db, "SELECT id, v FROM big ORDER BY id", RHEI_SIDE_OLAP, "full scan sort");
    expect(db, "SELECT count(*) FROM big", RHEI_SIDE_OLAP, "aggregate");
    expect(db, "SELECT max(id) FROM big", RHEI_SIDE_OLTP, "index serves it");
    th_same(db, "SELECT count(*), sum(k) FROM big WHERE id BETWEEN 10 AND 90");
    rhei_result_free(routed(db, "SELECT count(*), sum(k) FROM big WHERE id BETWEEN 10 AND 90",
                            RHEI_SIDE_OLTP, "index serves it"));
    /* The range is the whole table: SQLite's first attempt stops at its budget (a million
     * rows take tens of ms; the budget is 5), DuckDB answers, and the text stays there. */
    const char *wide = "SELECT count(*), sum(k) FROM big WHERE id > 5";
    expect(db, wide, RHEI_SIDE_OLTP, "index serves it");
    rhei_result *r = routed(db, wide, RHEI_SIDE_OLAP, "index range too wide");
    CHECK_INT(rhei_result_int64(r, 0, 0), 999995);
    rhei_result_free(r);
    r = routed(db, wide, RHEI_SIDE_OLAP, "index range too wide");
    CHECK_INT(rhei_result_int64(r, 0, 0), 999995);
    rhei_result_free(r);
    th_same(db, wide);
    /* The Arrow call (Flight, Python's query_arrow) keeps the same budget. */
    struct ArrowArrayStream s;
    rhei_route_info ri;
    CHECK_OK(db, rhei_query_arrow(db, "SELECT count(*), sum(k) FROM big WHERE id > 6", NULL, 0,
                                  NULL, &ri, &s));
    CHECK_STR(ri.reason, "index range too wide");
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    s.release(&s);
    CHECK_OK(db, rhei_query_arrow(db, "SELECT count(*), sum(k) FROM big WHERE id < 60", NULL, 0,
                                  NULL, &ri, &s));
    CHECK_STR(ri.reason, "index serves it");
    s.release(&s);
    /* A DISTINCT over an indexed column: SQLite steps from key to key of the index (1000 keys
     * for 1M rows) once ANALYZE told it keys repeat (else it reads every entry, runs past its
     * budget and DuckDB answers), DuckDB would hash every row; with no index DuckDB's hash
     * wins. */
    th_exec(db, "ANALYZE");
    expect(db, "SELECT count(DISTINCT k) FROM big", RHEI_SIDE_OLTP, "index serves DISTINCT");
    expect(db, "SELECT DISTINCT k FROM big ORDER BY k", RHEI_SIDE_OLTP, "index serves DISTINCT");
    expect(db, "SELECT count(DISTINCT v) FROM big", RHEI_SIDE_OLAP, "aggregate");
    expect(db, "SELECT DISTINCT v FROM big", RHEI_SIDE_OLAP, "distinct");
    r = routed(db, "SELECT count(DISTINCT k) FROM big", RHEI_SIDE_OLTP, "index serves DISTINCT");
    CHECK_INT(rhei_result_int64(r, 0, 0), 1000);
    rhei_result_free(r);
    th_same(db, "SELECT count(DISTINCT k) FROM big");
    /* An offset deep into the table is a wide range too. */
    const char *deep = "SELECT id, v FROM big ORDER BY id LIMIT 3 OFFSET 900000";
    r = routed(db, deep, RHEI_SIDE_OLAP, "index range too wide");
    CHECK_INT(rhei_result_int64(r, 0, 0), 900001);
    rhei_result_free(r);
    th_same(db, deep);
    CHECK_OK(db, rhei_close(db));
}

/* Run `run` of the text with bound value v: served by side, reason, with `rows` as its count. */
static void run_bound(rhei_db *db, int run, const char *sql, int64_t v, int64_t rows,
                      rhei_side side, const char *reason)
{
    rhei_value p = rhei_int(v);
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, sql, &p, 1, &r));
    if (rhei_result_side(r) != side || strcmp(rhei_result_reason(r), reason) != 0)
        FAIL("run %d, %s with %lld: served by %s '%s', want %s '%s'", run, sql, (long long)v,
             rhei_result_side(r) == RHEI_SIDE_OLAP ? "olap" : "oltp", rhei_result_reason(r),
             side == RHEI_SIDE_OLAP ? "olap" : "oltp", reason);
    CHECK_INT(rhei_result_int64(r, 0, 0), rows);
    rhei_result_free(r);
}

/* A text's route learns from two runs past SQLite's budget in a row, not one: the first run
 * of a fresh process faults its pages in. One text, its bound value choosing the range: a
 * wide one (most of 1M rows: tens of ms against a 5 ms budget) runs over, a narrow one (10
 * rows) never does, and shows where the text's route stands: still SQLite's after one over
 * run (and after a served run resets the count), DuckDB's after two over runs in a row. */
TEST(index_range_too_wide_is_learned_from_two_runs_in_a_row)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, k INTEGER)");
    th_exec(db, "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < "
                "1000000) INSERT INTO big SELECT x, x % 1000 FROM n");
    CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    const char *sql = "SELECT count(*), sum(k) FROM big WHERE id > ?1";
    const int64_t wide = 5, narrow = 999990;
    run_bound(db, 1, sql, wide, 999995, RHEI_SIDE_OLAP, "index range too wide"); /* over: 1 */
    run_bound(db, 2, sql, narrow, 10, RHEI_SIDE_OLTP, "index serves it");        /* served: 0 */
    run_bound(db, 3, sql, wide, 999995, RHEI_SIDE_OLAP, "index range too wide"); /* over: 1 */
    run_bound(db, 4, sql, narrow, 10, RHEI_SIDE_OLTP, "index serves it");        /* served: 0 */
    run_bound(db, 5, sql, wide, 999995, RHEI_SIDE_OLAP, "index range too wide"); /* over: 1 */
    run_bound(db, 6, sql, wide, 999995, RHEI_SIDE_OLAP, "index range too wide"); /* over: 2 */
    /* Learned: DuckDB serves the text now, the narrow range too (SQLite is not asked). */
    rhei_route_stats before, after;
    CHECK_OK(db, rhei_route_stats_get(db, &before));
    run_bound(db, 7, sql, narrow, 10, RHEI_SIDE_OLAP, "index range too wide");
    CHECK_OK(db, rhei_route_stats_get(db, &after));
    CHECK_INT(after.cache_hits - before.cache_hits, 1); /* from the cached route */
    CHECK_INT(after.olap - before.olap, 1);
    CHECK_OK(db, rhei_close(db));
}

/* The route of a text is kept: an application's few hundred statement texts are each
 * classified once (tokens and SQLite's plan), not again whenever another text shares a slot.
 * Fails with a 64-entry direct-mapped cache (at most 64 of 200 texts could hit). */
TEST(route_cache_keeps_hundreds_of_texts)
{
    char dir[64], sql[128];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER)");
    th_exec(db, "INSERT INTO t VALUES (1, 10), (2, 20)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    enum { TEXTS = 200 };
    rhei_route_stats before, after;
    for (int pass = 0; pass < 2; pass++) {
        CHECK_OK(db, rhei_route_stats_get(db, &before));
        for (int i = 0; i < TEXTS; i++) {
            rhei_result *r = NULL;
            snprintf(sql, sizeof sql, "SELECT k FROM t WHERE id = %d", i);
            CHECK_OK(db, rhei_query(db, sql, NULL, 0, &r));
            CHECK_INT(rhei_result_row_count(r), i == 1 || i == 2);
            rhei_result_free(r);
        }
        CHECK_OK(db, rhei_route_stats_get(db, &after));
        CHECK_INT(after.cache_hits + after.cache_misses - before.cache_hits - before.cache_misses,
                  TEXTS);
    }
    /* The second pass: a few texts may have been pushed out of a full set of 4 (which ones is
     * fixed by the texts' hashes), the rest are routed from the cache. */
    int64_t hits = after.cache_hits - before.cache_hits;
    if (hits < TEXTS * 95 / 100)
        FAIL("second pass: %lld of %d texts routed from the cache", (long long)hits, TEXTS);
    CHECK_OK(db, rhei_close(db));
}
