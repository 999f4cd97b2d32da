/* test_metrics.c — rhei_metrics_get counts what ran: events applied by kind, batches, cycle
 * durations, queries by side and route reason with their latency; the size field guards the
 * struct's growth. Also rhei_execute_query: rows of SELECT/PRAGMA/RETURNING, writes captured. */
#include "helpers.h"

static int64_t route_count(const rhei_metrics *m, rhei_side side, const char *reason)
{
    for (size_t i = 0; i < m->nroutes; i++)
        if (m->routes[i].side == side && strcmp(m->routes[i].reason, reason) == 0)
            return m->routes[i].count;
    return 0;
}

TEST(counts_sync_and_queries)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    /* a cycle applies net row changes: one kind of write per cycle counts each exactly */
    th_exec(db, "INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_exec(db, "UPDATE t SET qty = 11 WHERE id = 1");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_exec(db, "DELETE FROM t WHERE id = 3");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    rhei_result *r = NULL;
    for (int i = 0; i < 3; i++) {
        CHECK_OK(db, rhei_query(db, "SELECT qty FROM t WHERE id = 2", NULL, 0, &r));
        rhei_result_free(r);
    }
    CHECK_OK(db, rhei_query(db, "SELECT sum(qty) FROM t", NULL, 0, &r));
    rhei_result_free(r);

    rhei_metrics m;
    memset(&m, 0, sizeof m);
    CHECK_RC(db, rhei_metrics_get(db, &m), RHEI_MISUSE); /* size not set */
    m.size = sizeof m;
    CHECK_OK(db, rhei_metrics_get(db, &m));
    CHECK_INT(m.applied_inserted, 3);
    CHECK_INT(m.applied_updated, 1);
    CHECK_INT(m.applied_deleted, 1);
    CHECK(m.batches >= 3);
    CHECK(m.cycle_seconds.count >= 1 && m.cycle_seconds.count == m.sync.cycles);
    CHECK_INT(m.cycle_failures, 0);
    CHECK_INT(m.queries[RHEI_SIDE_OLTP], 3);
    CHECK_INT(m.queries[RHEI_SIDE_OLAP], 1);
    CHECK_INT(m.query_seconds[RHEI_SIDE_OLTP].count, 3);
    CHECK_INT(route_count(&m, RHEI_SIDE_OLTP, "point lookup"), 3);
    CHECK_INT(route_count(&m, RHEI_SIDE_OLAP, "aggregate"), 1);
    int64_t in_buckets = 0;
    for (size_t i = 0; i < RHEI_HISTOGRAM_BUCKETS; i++)
        in_buckets += m.query_seconds[RHEI_SIDE_OLTP].bucket[i];
    CHECK(in_buckets <= 3 && m.query_seconds[RHEI_SIDE_OLTP].sum >= 0);
    CHECK(rhei_histogram_bound(0) > 0 && rhei_histogram_bound(RHEI_HISTOGRAM_BUCKETS) > 1e100);
    CHECK_RC(NULL, rhei_metrics_get(NULL, &m), RHEI_MISUSE);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

TEST(execute_query_returns_rows)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_execute_query(db, "INSERT INTO t VALUES (1, 5), (2, 6) RETURNING id, qty * 2",
                                    NULL, 0, &r));
    CHECK_INT(rhei_result_row_count(r), 2);
    CHECK_INT(rhei_result_int64(r, 1, 1), 12);
    rhei_result_free(r);
    CHECK_OK(db, rhei_execute_query(db, "PRAGMA table_info(t)", NULL, 0, &r));
    CHECK_INT(rhei_result_row_count(r), 2);
    CHECK_STR(rhei_result_text(r, 1, 1, NULL), "qty");
    rhei_result_free(r);
    CHECK_OK(db, rhei_execute_query(db, "UPDATE t SET qty = 7 WHERE id = 1", NULL, 0, &r));
    CHECK_INT(rhei_result_column_count(r), 0);
    rhei_result_free(r);
    CHECK_OK(db, rhei_sync_now(db, NULL)); /* the RETURNING insert and the update were captured */
    CHECK_OK(db, rhei_query_with_hint(db, "SELECT sum(qty) FROM t", RHEI_SIDE_OLAP, &r));
    CHECK_INT(rhei_result_int64(r, 0, 0), 13);
    rhei_result_free(r);
    CHECK_RC(db, rhei_execute_query(db, "SELEC 1", NULL, 0, &r), RHEI_SQL);
    CHECK(r == NULL);
    CHECK_RC(db, rhei_execute_query(db, NULL, NULL, 0, &r), RHEI_MISUSE);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}
