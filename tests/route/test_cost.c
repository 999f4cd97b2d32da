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
