/* quickstart.c — `make demo`: the original Rhei's quick start, then a short mixed workload
 * showing where each query is served, what a sync cycle applied and how far OLAP lags. */
#include "rhei.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rhei_db *db;

static void check(int rc, const char *what)
{
    if (rc != RHEI_OK) {
        fprintf(stderr, "demo: %s failed: %s (%s)\n", what, rhei_errmsg(db), rhei_errstr(rc));
        exit(1);
    }
}

static void show(const char *sql)
{
    rhei_result *r = NULL;
    rhei_route_info why;
    check(rhei_explain_route(db, sql, &why), "explain");
    check(rhei_query(db, sql, NULL, 0, &r), sql);
    printf("\n%s\n  -> served by %s (%s)\n", sql,
           rhei_result_side(r) == RHEI_SIDE_OLAP ? "DuckDB (OLAP)" : "SQLite (OLTP)",
           rhei_result_reason(r));
    size_t nc = rhei_result_column_count(r), nr = rhei_result_row_count(r);
    printf("  ");
    for (size_t c = 0; c < nc; c++)
        printf("%-14s", rhei_result_column_name(r, c));
    printf("\n");
    for (size_t i = 0; i < nr && i < 8; i++) {
        printf("  ");
        for (size_t c = 0; c < nc; c++) {
            const char *t = rhei_result_text(r, i, c, NULL);
            printf("%-14s", t ? t : "NULL");
        }
        printf("\n");
    }
    rhei_result_free(r);
}

int main(void)
{
    const char *path = "demo.db";
    unlink(path);
    unlink("demo.db-wal");
    unlink("demo.db-shm");
    printf("Rhei %s  (SQLite %s, DuckDB %s)\n", rhei_version(), rhei_sqlite_version(),
           rhei_duckdb_version());
    check(rhei_open_path(path, &db), "open");

    /* The original's quick start. */
    check(rhei_execute(db, "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT,"
                           " category TEXT, total DECIMAL(10,2), placed DATE)", NULL, 0, NULL),
          "create table");
    check(rhei_register_table(db, "orders", NULL, 0, NULL, 0), "register");
    check(rhei_execute(db, "INSERT INTO orders VALUES (1, 'alice', 'books', 99.50, '2026-11-01')",
                       NULL, 0, NULL), "insert");

    /* A short mixed workload: a batch of inserts, updates, a delete. */
    const char *cats[] = {"books", "games", "music", "tools"};
    rhei_statement stmts[200];
    rhei_value params[200][4];
    char names[200][16];
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "cust%03d", i % 37);
        params[i][0] = rhei_int(i + 2);
        params[i][1] = rhei_text(names[i]);
        params[i][2] = rhei_text(cats[i % 4]);
        params[i][3] = rhei_real((i * 7919 % 10000) / 100.0);
        stmts[i] = (rhei_statement){"INSERT INTO orders (id, customer, category, total, placed)"
                                    " VALUES (?, ?, ?, ?, '2026-11-02')", params[i], 4};
    }
    check(rhei_execute_batch(db, stmts, 200, NULL), "batch insert");
    check(rhei_execute(db, "UPDATE orders SET total = round(total * 1.1, 2) WHERE category = 'games'",
                       NULL, 0, NULL), "update");
    check(rhei_execute(db, "DELETE FROM orders WHERE id % 10 = 0", NULL, 0, NULL), "delete");

    rhei_sync_status st;
    check(rhei_sync_status_get(db, &st), "status");
    printf("\nbefore sync: %lld events pending, oldest %.1f ms old\n", (long long)st.lag_events,
           st.lag_ms);
    rhei_sync_stats s;
    check(rhei_sync_now(db, &s), "sync");
    printf("sync cycle: %lld events -> %lld inserted, %lld updated, %lld deleted, position %lld,"
           " %lld us\n", (long long)s.events, (long long)s.inserted, (long long)s.updated,
           (long long)s.deleted, (long long)s.last_position, (long long)s.elapsed_us);
    check(rhei_sync_status_get(db, &st), "status");
    printf("after sync: lag %lld events, %.1f ms\n", (long long)st.lag_events, st.lag_ms);

    show("SELECT * FROM orders WHERE id = 1");
    show("SELECT category, count(*) AS n, sum(total) AS revenue FROM orders GROUP BY category"
         " ORDER BY category");
    show("SELECT customer, total FROM orders WHERE total > 90 ORDER BY total DESC LIMIT 3");
    show("SELECT customer, sum(total) OVER (PARTITION BY customer) AS spent FROM orders"
         " WHERE id < 6");

    /* Read-your-writes: a strong read sees a commit made just before it. */
    check(rhei_execute(db, "INSERT INTO orders VALUES (9999, 'zoe', 'books', 1.00, '2026-11-03')",
                       NULL, 0, NULL), "insert");
    rhei_query_opts strong = {RHEI_SIDE_AUTO, RHEI_STRONG};
    rhei_result *r = NULL;
    check(rhei_query_ex(db, "SELECT count(*) FROM orders", NULL, 0, &strong, &r), "strong read");
    printf("\nstrong read right after an insert: count(*) = %lld on %s\n",
           (long long)rhei_result_int64(r, 0, 0),
           rhei_result_side(r) == RHEI_SIDE_OLAP ? "DuckDB" : "SQLite");
    rhei_result_free(r);

    check(rhei_close(db), "close");
    printf("\ndemo finished: SQLite file %s kept for `rh` to explore.\n", path);
    return 0;
}
