/* test_ddl.c — DDL behind the engine's back (issue 9 point 6). Through rhei_execute, ALTER
 * ADD/DROP COLUMN is a schema change, DROP TABLE unregisters and renames are refused. From
 * another connection, a dropped, re-created, renamed or rebuilt table is detached with its
 * cause: open never fails, the other tables go on, and it can be unregistered or registered
 * again. */
#include "ddl_test.h"

static rhei_db *setup(const char *dir, th_opts o)
{
    rhei_db *db = th_open(dir, o);
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE other (id INTEGER PRIMARY KEY, n INTEGER)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "other", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
    th_exec(db, "INSERT INTO other VALUES (1, 10)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    return db;
}

/* The other table still replicates. */
static void other_goes_on(rhei_db *db, int id)
{
    rhei_value p[2] = {rhei_int(id), rhei_int(id * 10)};
    CHECK_OK(db, rhei_execute(db, "INSERT INTO other VALUES (?1, ?2)", p, 2, NULL));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, n FROM other ORDER BY id");
}

static void expect_state(rhei_db *db, const char *table, int state, const char *cause)
{
    rhei_table_status st;
    CHECK_OK(db, rhei_table_status_get(db, table, &st));
    if (st.state != state || (cause && !strstr(st.cause, cause)))
        FAIL("table '%s': state %d '%s', want %d '%s'", table, st.state, st.cause, state,
             cause ? cause : "");
}

TEST(execute_add_and_drop_column)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = setup(dir, (th_opts){0});
    th_exec(db, "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 5");
    th_exec(db, "INSERT INTO t VALUES (3, 'c', 7)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, v, c FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT sum(c) FROM t", RHEI_SIDE_OLAP), 17);
    /* A script mixing writes and DDL, with a quoted name and a comment. */
    th_exec(db, "INSERT INTO t VALUES (4, 'd', 1); -- x;\nALTER TABLE main.\"t\" ADD \"w; x\""
                " TEXT DEFAULT ';'; UPDATE t SET \"w; x\" = 'z' WHERE id = 4;"
                " ALTER TABLE t DROP COLUMN v;");
    th_exec(db, "INSERT INTO t VALUES (5, 2, 'q')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, c, \"w; x\" FROM t ORDER BY id");
    expect_state(db, "t", RHEI_TABLE_REPLICATED, "");
    /* Refused in a batch, with nothing applied. */
    rhei_statement b[2] = {{"INSERT INTO t VALUES (9, 9, 'n')", NULL, 0},
                           {"ALTER TABLE t ADD COLUMN z INT", NULL, 0}};
    CHECK_RC(db, rhei_execute_batch(db, b, 2, NULL), RHEI_MISUSE);
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE id = 9", RHEI_SIDE_OLTP), 0);
    /* Inside the caller's transaction: refused, and that transaction is left alone. */
    th_exec(db, "BEGIN");
    th_exec(db, "INSERT INTO t VALUES (10, 10, 'in txn')");
    CHECK_RC(db, rhei_execute(db, "ALTER TABLE t ADD COLUMN z INT", NULL, 0, NULL),
             RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "transaction"));
    th_exec(db, "ROLLBACK");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE id = 10", RHEI_SIDE_OLTP), 0);
    other_goes_on(db, 2);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){0});
    th_same(db, "SELECT id, c, \"w; x\" FROM t ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

TEST(execute_drop_table_unregisters)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = setup(dir, (th_opts){.file_olap = 1});
    th_exec(db, "DROP TABLE t");
    CHECK_INT(dt_tables(db), 1);
    CHECK_INT(dt_olap_objects(db, "t"), 0);
    other_goes_on(db, 2);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    /* Re-created, it is an ordinary table until registered again. */
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "INSERT INTO t VALUES (7, 'new')");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_same(db, "SELECT id, v FROM t ORDER BY id");
    th_exec(db, "DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS nothing_here");
    CHECK_INT(dt_tables(db), 1);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

TEST(execute_rename_refused)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = setup(dir, (th_opts){0});
    CHECK_RC(db, rhei_execute(db, "ALTER TABLE t RENAME TO u", NULL, 0, NULL), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "rename"));
    CHECK_RC(db, rhei_execute(db, "ALTER TABLE t RENAME COLUMN v TO w", NULL, 0, NULL),
             RHEI_MISUSE);
    th_exec(db, "INSERT INTO t VALUES (3, 'c')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, v FROM t ORDER BY id");
    /* Tables that are not replicated are renamed as usual. */
    th_exec(db, "CREATE TABLE plain (id INTEGER PRIMARY KEY); ALTER TABLE plain RENAME TO p2");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* The cases of DDL from another process; each ends with the table detached for cause. */
typedef void (*ddl_fn)(sqlite3 *o);

static void ext_drop(sqlite3 *o) { dt_other_exec(o, "DROP TABLE t"); }
static void ext_recreate(sqlite3 *o)
{
    dt_other_exec(o, "DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                     " INSERT INTO t VALUES (100, 'fresh')");
}
static void ext_rename(sqlite3 *o) { dt_other_exec(o, "ALTER TABLE t RENAME TO t_old"); }
static void ext_rebuild(sqlite3 *o)
{
    dt_other_exec(o, "BEGIN; CREATE TABLE t_new (id INTEGER PRIMARY KEY, v INTEGER);"
                     " INSERT INTO t_new SELECT id, length(v) FROM t; DROP TABLE t;"
                     " ALTER TABLE t_new RENAME TO t; COMMIT; INSERT INTO t VALUES (50, 5)");
}
static void ext_rename_column(sqlite3 *o)
{
    dt_other_exec(o, "ALTER TABLE t RENAME COLUMN v TO w; INSERT INTO t VALUES (60, 'x')");
}

static void external(ddl_fn fn, const char *cause, int file_olap, int exists_after)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    th_opts opts = {.file_olap = file_olap};
    rhei_db *db = setup(dir, opts);
    sqlite3 *o = dt_other(dir);
    fn(o);
    /* Seen by the next cycle. */
    other_goes_on(db, 2);
    expect_state(db, "t", RHEI_TABLE_DETACHED, cause);
    CHECK_INT(dt_tables(db), 2);
    CHECK_OK(db, rhei_close(db));
    /* Open never fails over it; a write by the other process after the DDL changes nothing. */
    db = th_open(dir, opts);
    expect_state(db, "t", RHEI_TABLE_DETACHED, cause);
    other_goes_on(db, 3);
    if (exists_after) { /* registered again: the table as SQLite has it now */
        CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
        expect_state(db, "t", RHEI_TABLE_REPLICATED, "");
        dt_other_exec(o, "INSERT INTO t(id) VALUES (1000)");
        CHECK_OK(db, rhei_sync_now(db, NULL));
        th_same(db, "SELECT * FROM t ORDER BY id");
    } else {
        CHECK_OK(db, rhei_unregister_table(db, "t"));
        CHECK_INT(dt_tables(db), 1);
        CHECK_INT(dt_olap_objects(db, "t"), 0);
    }
    other_goes_on(db, 4);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, opts);
    if (exists_after)
        th_same(db, "SELECT * FROM t ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(o);
    dt_rmdir(dir);
}

TEST(external_drop_memory) { external(ext_drop, "no longer exists", 0, 0); }
TEST(external_drop_file) { external(ext_drop, "no longer exists", 1, 0); }
TEST(external_drop_recreate) { external(ext_recreate, "triggers", 0, 1); }
TEST(external_drop_recreate_file) { external(ext_recreate, "triggers", 1, 1); }
TEST(external_rename_table) { external(ext_rename, "no longer exists", 0, 0); }
TEST(external_rebuild_changes_type) { external(ext_rebuild, "triggers", 1, 1); }

/* SQLite's double-quoted-string fallback: with "v" in rhei's SQL, a column renamed by
 * another process made every OLAP row hold the string 'v'. */
TEST(external_rename_column_never_reads_a_string)
{
    external(ext_rename_column, "column 'v'", 0, 0);
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = setup(dir, (th_opts){0});
    sqlite3 *o = dt_other(dir);
    ext_rename_column(o);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){0});
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM other", RHEI_SIDE_OLAP), 1);
    /* Detached tables are read from SQLite: never an OLAP copy full of 'v'. */
    rhei_result *r = th_query(db, "SELECT count(*) FROM t WHERE w = 'v'", RHEI_SIDE_AUTO);
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLTP);
    CHECK_INT(rhei_result_int64(r, 0, 0), 0);
    rhei_result_free(r);
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_same(db, "SELECT id, w FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE w = 'w' OR w = 'v'", RHEI_SIDE_OLAP), 0);
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(o);
    dt_rmdir(dir);
}
