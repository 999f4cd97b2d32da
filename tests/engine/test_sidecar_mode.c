/* test_sidecar_mode.c — sidecar mode through rhei.h: config keys, routing to OLAP, pure
 * sidecar refusing writes, status and the as-of watermark guard. The sidecar module's own
 * tests (tests/sidecar) cover polling, faults and PostgreSQL. */
#include "helpers.h"

static void source_exec(const char *path, const char *sql)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sqlite3 -cmd '.timeout 10000' %s \"%s\"", path, sql);
    if (system(cmd) != 0)
        FAIL("sqlite3 %s: %s", path, sql);
}

TEST(pure_sidecar_follows_a_sqlite_file)
{
    char dir[64], src[128], oltp[128], spec[160];
    rt_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/source.db", dir);
    snprintf(oltp, sizeof oltp, "%s/local.db", dir);
    snprintf(spec, sizeof spec, "sqlite:%s", src);
    source_exec(src, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT, updated_at TEXT);"
                     "INSERT INTO orders VALUES (1, 'a', '2026-11-01 10:00:00'),"
                     " (2, 'b', '2026-11-01 10:00:00'), (3, 'c', '2026-11-01 11:00:00');");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    const char *kv[][2] = {{"oltp_path", oltp}, {"sync_mode", "history"},
                           {"sidecar.source", spec}, {"sidecar.poll_interval_ms", "0"},
                           {"sidecar.tables.0.name", "orders"},
                           {"sidecar.tables.0.primary_key", "id"},
                           {"sidecar.tables.0.updated_at", "updated_at"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rhei_config_set(cfg, kv[i][0], kv[i][1]) != RHEI_OK)
            FAIL("%s: %s", kv[i][0], rhei_config_errmsg(cfg));
    rhei_db *db = NULL;
    CHECK_OK(NULL, rhei_open(cfg, &db));
    rhei_config_free(cfg);
    int64_t rows = -1;
    CHECK_OK(db, rhei_sidecar_sync_now(db, &rows));
    CHECK_INT(rows, 0); /* open already polled once: the engine answers at once */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM orders", RHEI_SIDE_OLAP), 3);
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, "SELECT item FROM orders WHERE id = 2", NULL, 0, &r));
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLAP); /* the table exists only in OLAP */
    CHECK_STR(rhei_result_text(r, 0, 0, NULL), "b");
    rhei_result_free(r);
    source_exec(src, "UPDATE orders SET item = 'B', updated_at = '2026-11-01 12:00:00'"
                     " WHERE id = 2");
    CHECK_OK(db, rhei_sidecar_sync_now(db, &rows));
    CHECK_INT(rows, 1);
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM orders_history", RHEI_SIDE_OLAP), 4);
    /* As of 11:30 UTC, order 2 was still 'b'. */
    CHECK_OK(db, rhei_query_as_of(db, "orders", 1793532600000000LL, &r));
    CHECK_INT(rhei_result_row_count(r), 3);
    for (size_t i = 0; i < 3; i++)
        if (rhei_result_int64(r, i, 0) == 2)
            CHECK_STR(rhei_result_text(r, i, 1, NULL), "b");
    rhei_result_free(r);
    rhei_sidecar_table_status st;
    size_t n = 0;
    CHECK_OK(db, rhei_sidecar_table_count(db, &n));
    CHECK_INT(n, 1);
    CHECK_OK(db, rhei_sidecar_status_get(db, 0, &st));
    CHECK_STR(st.name, "orders");
    CHECK(st.watermark_us >= 1793534400000000LL); /* 12:00 */
    CHECK_RC(db, rhei_query_as_of(db, "orders", st.watermark_us + 1000000, &r), RHEI_RANGE);
    /* The SQL form refuses past the watermark too (it answered before), and only then. */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rhei_as_of('orders', %lld)",
             (long long)(st.watermark_us + 1000000));
    CHECK_RC(db, rhei_query(db, sql, NULL, 0, &r), RHEI_RANGE);
    CHECK(strstr(rhei_errmsg(db), "sidecar has applied its source only up to") != NULL);
    CHECK(r == NULL);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM rhei_as_of('orders', %lld)",
             1793532600000000LL);
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 3);
    CHECK_RC(db, rhei_execute(db, "CREATE TABLE x (a)", NULL, 0, NULL), RHEI_READONLY);
    CHECK(strstr(rhei_errmsg(db), "pure sidecar"));
    CHECK_OK(db, rhei_close(db));
}

TEST(sidecar_config_errors)
{
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    char dir[64], oltp[128];
    rt_tmpdir(dir, sizeof dir);
    snprintf(oltp, sizeof oltp, "%s/local.db", dir);
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", oltp), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "sidecar.source", "sqlite:/nonexistent/x.db"), RHEI_OK);
    CHECK_INT(rhei_open(cfg, &db), RHEI_CONFIG); /* no tables */
    CHECK(strstr(rhei_errmsg(NULL), "sidecar.tables"));
    CHECK_INT(rhei_config_set(cfg, "sidecar.tables.0.name", "t"), RHEI_OK);
    CHECK_INT(rhei_open(cfg, &db), RHEI_CONFIG); /* no updated_at */
    CHECK(strstr(rhei_errmsg(NULL), "updated_at"));
    rhei_config_free(cfg);
}
