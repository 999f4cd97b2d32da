/* test_basic.c — the engine through rhei.h: quick start, routing, sync counts, capture of
 * every kind of write (REPLACE, key change, other processes), schema evolution, errors. */
#include "helpers.h"
#include <pthread.h>
#include <sched.h>

static rhei_db *fresh(char *dir, size_t n, th_opts o)
{
    rt_tmpdir(dir, n);
    rhei_db *db = th_open(dir, o);
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER,"
                " price DECIMAL(10,2), d DATE, ts TIMESTAMP, ok BOOLEAN, raw BLOB, r REAL)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    return db;
}

TEST(quick_start_routes_and_syncs)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "INSERT INTO t (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20)");
    int64_t pending = -1;
    CHECK_OK(db, rhei_table_pending(db, "t", &pending));
    CHECK_INT(pending, 2);
    rhei_sync_stats st;
    CHECK_OK(db, rhei_sync_now(db, &st));
    CHECK_INT(st.events, 2);
    CHECK_INT(st.inserted, 2);
    CHECK_OK(db, rhei_table_pending(db, "t", &pending));
    CHECK_INT(pending, 0);
    CHECK(st.last_position > 0);
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, "SELECT sum(qty) FROM t", NULL, 0, &r));
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLAP);
    CHECK_INT(rhei_result_int64(r, 0, 0), 30);
    rhei_result_free(r);
    CHECK_OK(db, rhei_query(db, "SELECT name FROM t WHERE id = 2", NULL, 0, &r));
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLTP);
    CHECK_STR(rhei_result_text(r, 0, 0, NULL), "b");
    rhei_result_free(r);
    CHECK_OK(db, rhei_close(db));
}

TEST(types_cross_the_bridge)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "INSERT INTO t VALUES (1, 'x', 5, '12.34', '2026-11-22', '2026-11-22 10:30:00.25',"
                " 1, x'00ff00', 2.5), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
                " (3, 'ü', -9223372036854775808, -0.5, '1970-01-01', 0, 0, x'', -1e300)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    rhei_result *r = th_query(db, "SELECT * FROM t ORDER BY id", RHEI_SIDE_OLAP);
    CHECK_INT(rhei_result_column_type(r, 3), RHEI_TYPE_DECIMAL);
    CHECK_STR(rhei_result_column_decl(r, 3), "DECIMAL(10,2)");
    CHECK_STR(rhei_result_text(r, 0, 3, NULL), "12.34");
    CHECK_STR(rhei_result_text(r, 2, 3, NULL), "-0.50");
    CHECK_INT(rhei_result_column_type(r, 4), RHEI_TYPE_DATE);
    CHECK_STR(rhei_result_text(r, 0, 4, NULL), "2026-11-22");
    CHECK_INT(rhei_result_column_type(r, 5), RHEI_TYPE_TIMESTAMP);
    CHECK_STR(rhei_result_text(r, 0, 5, NULL), "2026-11-22 10:30:00.25");
    CHECK_STR(rhei_result_text(r, 2, 5, NULL), "1970-01-01 00:00:00");
    CHECK_INT(rhei_result_column_type(r, 6), RHEI_TYPE_BOOLEAN);
    CHECK_STR(rhei_result_text(r, 0, 6, NULL), "true");
    size_t n = 0;
    const unsigned char *b = rhei_result_blob(r, 0, 7, &n);
    CHECK_INT(n, 3);
    CHECK(b[0] == 0 && b[1] == 0xff && b[2] == 0);
    rhei_result_blob(r, 2, 7, &n);
    CHECK_INT(n, 0);
    CHECK(!rhei_result_is_null(r, 2, 7));
    CHECK_INT(rhei_result_int64(r, 2, 2), INT64_MIN);
    CHECK(rhei_result_double(r, 2, 8) == -1e300);
    CHECK_STR(rhei_result_text(r, 2, 1, NULL), "ü");
    for (size_t c = 1; c < 9; c++)
        CHECK(rhei_result_is_null(r, 1, c));
    rhei_result_free(r);
    CHECK_OK(db, rhei_close(db));
}

TEST(type_mismatch_is_refused_at_write)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    CHECK_RC(db, rhei_execute(db, "INSERT INTO t (id, qty) VALUES (1, 'many')", NULL, 0, NULL),
             RHEI_TYPE);
    CHECK(strstr(rhei_errmsg(db), "column 'qty' of table 't' is INTEGER"));
    CHECK_RC(db, rhei_execute(db, "INSERT INTO t (id, d) VALUES (1, '2026-02-30')", NULL, 0,
                              NULL), RHEI_TYPE);
    CHECK_RC(db, rhei_execute(db, "INSERT INTO t (id, price) VALUES (1, 123456789)", NULL, 0,
                              NULL), RHEI_TYPE);
    CHECK_RC(db, rhei_execute(db, "INSERT INTO t (id, ts) VALUES (1, 'yesterday')", NULL, 0,
                              NULL), RHEI_TYPE);
    CHECK_RC(db, rhei_execute(db, "INSERT INTO t (id, price) VALUES (1, 1.234)", NULL, 0,
                              NULL), RHEI_TYPE); /* DECIMAL(10,2) would round it */
    th_exec(db, "INSERT INTO t (id, price, d) VALUES (99, 0.1, '2024-02-29')");
    th_exec(db, "DELETE FROM t WHERE id = 99");
    th_exec(db, "INSERT INTO t (id, qty) VALUES (1, '42')"); /* affinity makes it an integer */
    CHECK_RC(db, rhei_execute(db, "UPDATE t SET qty = 'x' WHERE id = 1", NULL, 0, NULL),
             RHEI_TYPE);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE qty = 42", RHEI_SIDE_OLAP), 1);
    CHECK_OK(db, rhei_close(db));
}

TEST(replace_key_change_and_rollback)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    th_exec(db, "INSERT OR REPLACE INTO t (id, name) VALUES (2, 'B')");
    th_exec(db, "UPDATE t SET id = 10 WHERE id = 1");
    th_exec(db, "INSERT INTO t (id, name) VALUES (4, 'd') ON CONFLICT(id) DO NOTHING");
    /* Regression: an ignored insert of an existing key must not delete it in OLAP. */
    th_exec(db, "INSERT OR IGNORE INTO t (id, name) VALUES (4, 'ignored'), (5, 'new')");
    th_exec(db, "INSERT INTO t (id, name) VALUES (4, 'x') ON CONFLICT(id) DO NOTHING");
    th_exec(db, "DELETE FROM t WHERE id = 5");
    th_exec(db, "INSERT INTO t (id, name) VALUES (3, 'C') ON CONFLICT(id) DO UPDATE SET"
                " name = excluded.name");
    rhei_statement bad[2] = {{"INSERT INTO t (id, name) VALUES (5, 'e')", NULL, 0},
                             {"INSERT INTO t (id, name) VALUES (5, 'dup')", NULL, 0}};
    CHECK_RC(db, rhei_execute_batch(db, bad, 2, NULL), RHEI_CONSTRAINT);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, name FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 4);
    CHECK_OK(db, rhei_close(db));
}

TEST(writes_from_another_process_are_captured)
{
    char dir[64], cmd[512];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "INSERT INTO t (id, name) VALUES (1, 'a')");
    /* Like any real client, the other process waits out the engine's brief write locks. */
    snprintf(cmd, sizeof cmd, "sqlite3 -cmd '.timeout 10000' %s/oltp.db"
             " \"INSERT INTO t (id, name) VALUES (2, 'shell');"
             " UPDATE t SET name = 'A' WHERE id = 1; INSERT OR REPLACE INTO t (id, name)"
             " VALUES (2, 'again'); DELETE FROM t WHERE id = 1;\"", dir);
    CHECK_INT(system(cmd), 0);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, name FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 1);
    CHECK_OK(db, rhei_close(db));
}

TEST(schema_evolution)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "INSERT INTO t (id, name) VALUES (1, 'a')");
    CHECK_OK(db, rhei_add_column(db, "t", "extra", "INTEGER"));
    th_exec(db, "INSERT INTO t (id, name, extra) VALUES (2, 'b', 7)");
    CHECK_OK(db, rhei_drop_column(db, "t", "raw"));
    th_exec(db, "UPDATE t SET extra = 8 WHERE id = 1");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT * FROM t ORDER BY id");
    CHECK_RC(db, rhei_drop_column(db, "t", "id"), RHEI_MISUSE);
    CHECK_RC(db, rhei_add_column(db, "t", "extra", "INTEGER"), RHEI_EXISTS);
    CHECK_RC(db, rhei_add_column(db, "nope", "x", "INTEGER"), RHEI_NOTFOUND);
    CHECK_OK(db, rhei_close(db));
}

/* The table list is a snapshot: registering or dropping tables after it was taken leaves
 * it unchanged (the count/name-by-index pair it replaces could mix two catalog states). */
TEST(table_list_is_a_snapshot)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    th_exec(db, "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "u", NULL, 0, NULL, 0));
    rhei_table_list *l = NULL;
    CHECK_OK(db, rhei_tables(db, &l));
    CHECK_INT(rhei_table_list_count(l), 2);
    int saw_t = 0, saw_u = 0;
    for (size_t i = 0; i < rhei_table_list_count(l); i++) {
        saw_t += strcmp(rhei_table_list_name(l, i), "t") == 0;
        saw_u += strcmp(rhei_table_list_name(l, i), "u") == 0;
    }
    CHECK(saw_t == 1 && saw_u == 1);
    CHECK_OK(db, rhei_unregister_table(db, "u"));
    CHECK_INT(rhei_table_list_count(l), 2);
    CHECK(rhei_table_list_name(l, 2) == NULL);
    rhei_table_list *now = NULL;
    CHECK_OK(db, rhei_tables(db, &now));
    CHECK_INT(rhei_table_list_count(now), 1);
    CHECK_STR(rhei_table_list_name(now, 0), "t");
    rhei_table_list_free(now);
    rhei_table_list_free(l);
    rhei_table_list_free(NULL);
    CHECK_INT(rhei_table_list_count(NULL), 0);
    CHECK(rhei_tables(db, NULL) == RHEI_MISUSE);
    CHECK(rhei_tables(NULL, &l) == RHEI_MISUSE && l == NULL);
    CHECK_OK(db, rhei_close(db));
}

TEST(errors_are_clear)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    rhei_result *r = NULL;
    CHECK_RC(db, rhei_execute(db, "INSRT INTO t VALUES (1)", NULL, 0, NULL), RHEI_SQL);
    CHECK(strstr(rhei_errmsg(db), "sqlite: near \"INSRT\""));
    CHECK_RC(db, rhei_query(db, "SELECT * FROM missing WHERE id = 1", NULL, 0, &r),
             RHEI_NOTFOUND);
    CHECK(r == NULL);
    CHECK_RC(db, rhei_query(db, "DELETE FROM t", NULL, 0, &r), RHEI_MISUSE);
    CHECK_RC(db, rhei_query_with_hint(db, "SELECT count(*) FROM missing", RHEI_SIDE_OLAP, &r),
             RHEI_NOTFOUND);
    CHECK(strstr(rhei_errmsg(db), "duckdb"));
    CHECK_RC(db, rhei_register_table(db, "missing", NULL, 0, NULL, 0), RHEI_NOTFOUND);
    th_exec(db, "CREATE TABLE nokey (a INTEGER, b TEXT)");
    CHECK_RC(db, rhei_register_table(db, "nokey", NULL, 0, NULL, 0), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "no primary key"));
    const char *pk[] = {"a"};
    CHECK_OK(db, rhei_register_table(db, "nokey", NULL, 0, pk, 1));
    rhei_value p = rhei_int(1);
    CHECK_RC(db, rhei_execute(db, "SELECT ?, ?", &p, 1, NULL), RHEI_MISUSE);
    CHECK_OK(db, rhei_close(db));

    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "sync_mode", "sideways"), RHEI_CONFIG);
    CHECK(strstr(rhei_config_errmsg(cfg), "'sync_mode'"));
    CHECK_INT(rhei_config_set(cfg, "no_such_key", "1"), RHEI_CONFIG);
    CHECK_INT(rhei_config_set(cfg, "batch_size", "-5"), RHEI_CONFIG);
    rhei_db *none = NULL;
    CHECK_INT(rhei_open(cfg, &none), RHEI_CONFIG); /* oltp_path missing */
    CHECK(none == NULL);
    CHECK(strstr(rhei_errmsg(NULL), "oltp_path"));
    CHECK_INT(rhei_config_set(cfg, "oltp_path", "/nonexistent/dir/x.db"), RHEI_OK);
    CHECK_INT(rhei_open(cfg, &none), RHEI_IO);
    CHECK(strstr(rhei_errmsg(NULL), "/nonexistent/dir/x.db"));
    rhei_config_free(cfg);
}

TEST(history_point_in_time)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){.history = 1});
    th_exec(db, "INSERT INTO t (id, name) VALUES (1, 'v1')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    rhei_result *r = th_query(db, "SELECT max(_rhei_valid_from) FROM t_history", RHEI_SIDE_OLAP);
    int64_t t1 = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    rt_next_millisecond(t1); /* each version lasts at least a millisecond */
    th_exec(db, "UPDATE t SET name = 'v2' WHERE id = 1");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    r = th_query(db, "SELECT max(_rhei_valid_from) FROM t_history", RHEI_SIDE_OLAP);
    int64_t t2 = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    rt_next_millisecond(t2);
    th_exec(db, "DELETE FROM t WHERE id = 1");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK(t2 > t1);
    CHECK_OK(db, rhei_query_as_of(db, "t", t1, &r));
    CHECK_INT(rhei_result_row_count(r), 1);
    CHECK_STR(rhei_result_text(r, 0, 1, NULL), "v1");
    rhei_result_free(r);
    CHECK_OK(db, rhei_query_as_of(db, "t", t2, &r));
    CHECK_INT(rhei_result_row_count(r), 1);
    CHECK_STR(rhei_result_text(r, 0, 1, NULL), "v2");
    rhei_result_free(r);
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 0);
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t_history", RHEI_SIDE_OLAP), 2);
    CHECK_RC(db, rhei_query_as_of(db, "t", INT64_MAX, &r), RHEI_RANGE);
    CHECK_OK(db, rhei_close(db));
}

TEST(durable_olap_resumes_and_memory_rebuilds)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){.file_olap = 1});
    th_exec(db, "INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b')");
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    th_exec(db, "INSERT INTO t (id, name) VALUES (3, 'c')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, name FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 3);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){0}); /* in memory: rebuilt from SQLite with no call */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 3);
    CHECK_OK(db, rhei_close(db));
}

TEST(strong_consistency_reads_your_writes)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){.interval_ms = 60000});
    rhei_query_opts strong = {RHEI_SIDE_OLAP, RHEI_STRONG};
    for (int i = 1; i <= 20; i++) {
        rhei_value p = rhei_int(i);
        CHECK_OK(db, rhei_execute(db, "INSERT INTO t (id) VALUES (?)", &p, 1, NULL));
        rhei_result *r = NULL;
        CHECK_OK(db, rhei_query_ex(db, "SELECT count(*) FROM t", NULL, 0, &strong, &r));
        CHECK_INT(rhei_result_int64(r, 0, 0), i);
        rhei_result_free(r);
    }
    CHECK_OK(db, rhei_close(db));
}

TEST(two_engines_on_one_file_lose_nothing)
{
    char dir[64];
    rhei_db *a = fresh(dir, sizeof dir, (th_opts){0});
    rhei_db *b = th_open(dir, (th_opts){0});
    for (int i = 0; i < 5000; i++) { /* enough for a's sync to prune */
        rhei_value p = rhei_int(i);
        CHECK_OK(a, rhei_execute(a, "INSERT INTO t (id) VALUES (?)", &p, 1, NULL));
        if (i % 1000 == 0)
            CHECK_OK(a, rhei_sync_now(a, NULL));
    }
    CHECK_OK(a, rhei_sync_now(a, NULL));
    CHECK_OK(b, rhei_sync_now(b, NULL));
    CHECK_INT(th_scalar(b, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 5000);
    th_same(b, "SELECT id FROM t ORDER BY id");
    CHECK_OK(a, rhei_close(a));
    CHECK_OK(b, rhei_close(b));
}

typedef struct endless {
    rhei_db *db;
    const char *sql;
    rhei_side side;
    _Atomic int rc, done;
} endless;

static void *run_endless(void *arg)
{
    endless *q = arg;
    rhei_result *r = NULL;
    q->rc = rhei_query_with_hint(q->db, q->sql, q->side, &r);
    rhei_result_free(r);
    q->done = 1;
    return NULL;
}

TEST(interrupt_cancels_reads_and_counts_routes)
{
    char dir[64];
    rhei_db *db = fresh(dir, sizeof dir, (th_opts){0});
    endless qs[2] = {
        {db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
             " SELECT count(*) FROM c", RHEI_SIDE_OLTP, -1, 0},
        {db, "SELECT count(*) FROM range(1000000000000) a, range(10) b", RHEI_SIDE_OLAP, -1, 0}};
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        pthread_create(&t, NULL, run_endless, &qs[i]);
        while (!qs[i].done) { /* keeps interrupting until the query has seen it */
            rhei_interrupt(db);
            sched_yield();
        }
        pthread_join(t, NULL);
        CHECK_INT(qs[i].rc, RHEI_INTERRUPTED);
    }
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, "SELECT count(*) FROM t", NULL, 0, &r)); /* still usable */
    rhei_result_free(r);
    rhei_route_stats rs;
    CHECK_OK(db, rhei_route_stats_get(db, &rs));
    CHECK(rs.olap >= 1);
    CHECK_OK(db, rhei_close(db));
}
