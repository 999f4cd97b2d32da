/* test_api.c — small API contracts: the OLTP result shape after a schema change, invalid
 * arguments (RHEI_MISUSE, never a crash), rhei_errmsg per thread and handle. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "helpers.h"
#include <ftw.h>
#include <pthread.h>

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void check_columns(rhei_db *db, const char *sql, size_t n, const char *const *names)
{
    rhei_result *r = th_query(db, sql, RHEI_SIDE_OLTP);
    CHECK_INT(rhei_result_column_count(r), n);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(rhei_result_column_name(r, i), names[i]);
    rhei_result_free(r);
}

/* A cached SELECT * re-prepared by SQLite after ALTER reported the old column list. */
TEST(select_star_shape_follows_add_and_drop_column)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)");
    th_exec(db, "INSERT INTO t VALUES (1, 'x', 'y')");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    for (int empty = 0; empty < 2; empty++) {
        const char *sql = empty ? "SELECT * FROM t WHERE id < 0" : "SELECT * FROM t";
        check_columns(db, sql, 3, (const char *[]){"id", "a", "b"});
        CHECK_OK(db, rhei_drop_column(db, "t", "b"));
        check_columns(db, sql, 2, (const char *[]){"id", "a"});
        CHECK_OK(db, rhei_add_column(db, "t", "b", "TEXT"));
        check_columns(db, sql, 3, (const char *[]){"id", "a", "b"});
    }
    CHECK_OK(db, rhei_close(db));
    rm_tree(dir);
}
