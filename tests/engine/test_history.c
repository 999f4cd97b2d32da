/* test_history.c — history (SCD Type 2) mode: replaying the seeded workload, the table as
 * of several past moments (read back from DuckDB) equals SQLite's table at that moment. */
#include "workload.h"
#include <time.h>

#define MOMENTS 6

static const char *const tables[3][2] = {
    {"a", "id"}, {"b", "k1, k2"}, {"c", "id"}};

static rhei_result *as_of_sql(rhei_db *db, int tbl, int64_t t)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT * EXCLUDE (_rhei_valid_from, _rhei_valid_to) FROM"
             " %s_history WHERE _rhei_valid_from <= %lld AND (_rhei_valid_to IS NULL OR"
             " _rhei_valid_to > %lld) ORDER BY %s", tables[tbl][0], (long long)t, (long long)t,
             tables[tbl][1]);
    return th_query(db, sql, RHEI_SIDE_OLAP);
}

static void same_rows(rhei_result *want, rhei_result *got, const char *what)
{
    size_t rw = rhei_result_row_count(want), rg = rhei_result_row_count(got);
    if (rw != rg)
        FAIL("%s: %zu rows then, %zu rows as of that moment", what, rw, rg);
    for (size_t i = 0; i < rw; i++)
        for (size_t c = 0; c < rhei_result_column_count(want); c++)
            if (!th_cell_eq(want, got, i, c))
                FAIL("%s: row %zu column %zu differs", what, i, c);
}

TEST(point_in_time_equals_past_tables)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.history = 1});
    wl_schema(db);
    rhei_result *snap[MOMENTS][3];
    int64_t at[MOMENTS];
    for (int m = 0; m < MOMENTS; m++) {
        wl_run(db, 1000 + (uint64_t)m, 3500, NULL);
        if (m % 2)
            CHECK_OK(db, rhei_sync_now(db, NULL)); /* moments span one or two cycles */
        for (int t = 0; t < 3; t++) {
            char sql[128];
            snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", tables[t][0],
                     tables[t][1]);
            snap[m][t] = th_query(db, sql, RHEI_SIDE_OLTP);
        }
        at[m] = rt_wall_us();
        rt_next_millisecond(at[m]);
    }
    CHECK_OK(db, rhei_sync_now(db, NULL));
    for (int m = 0; m < MOMENTS; m++) {
        for (int t = 0; t < 3; t++) {
            char what[64];
            snprintf(what, sizeof what, "table %s at moment %d", tables[t][0], m);
            rhei_result *got = as_of_sql(db, t, at[m]);
            same_rows(snap[m][t], got, what);
            rhei_result_free(got);
            CHECK_OK(db, rhei_query_as_of(db, tables[t][0], at[m], &got));
            CHECK_INT(rhei_result_row_count(got), rhei_result_row_count(snap[m][t]));
            rhei_result_free(got);
            rhei_result_free(snap[m][t]);
        }
    }
    /* Intervals of one key never overlap. */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM a_history x JOIN a_history y ON x.id = y.id"
                            " AND x._rhei_valid_from < y._rhei_valid_from AND"
                            " (x._rhei_valid_to IS NULL OR x._rhei_valid_to > y._rhei_valid_from)",
                        RHEI_SIDE_OLAP), 0);
    CHECK_OK(db, rhei_close(db));
}
