/* test_register.c — registration is all or nothing (issue 9 point 3): every name DuckDB or
 * rhei's own layout cannot take is refused up front with the reason, a registration that
 * fails later is withdrawn, and either way nothing is left behind: later syncs,
 * registrations and close work. */
#include "ddl_test.h"

/* A refused registration: the code, a reason naming what, and no trace on either side. */
static void refused(rhei_db *db, const char *table, int rc, int want, const char *reason)
{
    if (rc != want)
        FAIL("register '%.60s': rc=%d, want %d: %s", table, rc, want, rhei_errmsg(db));
    if (!strstr(rhei_errmsg(db), reason))
        FAIL("register '%.60s': message '%s' does not say '%s'", table, rhei_errmsg(db), reason);
    CHECK_INT(dt_traces(db, table), 0);
    CHECK_OK(db, rhei_sync_now(db, NULL));
}

TEST(reserved_column_in_history_mode)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.history = 1});
    th_exec(db, "CREATE TABLE h (id INTEGER PRIMARY KEY, _rhei_valid_from INTEGER)");
    th_exec(db, "CREATE TABLE h2 (id INTEGER PRIMARY KEY, _RHEI_x INTEGER)");
    refused(db, "h", rhei_register_table(db, "h", NULL, 0, NULL, 0), RHEI_MISUSE, "_rhei");
    refused(db, "h2", rhei_register_table(db, "h2", NULL, 0, NULL, 0), RHEI_MISUSE, "_rhei");
    CHECK_INT(dt_tables(db), 0);
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.history = 1});
    CHECK_INT(dt_tables(db), 1);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

TEST(duplicate_columns_and_keys)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE d (id INTEGER PRIMARY KEY, v TEXT)");
    rhei_column dup[] = {{"id", NULL}, {"id", NULL}, {"v", NULL}};
    refused(db, "d", rhei_register_table(db, "d", dup, 3, NULL, 0), RHEI_MISUSE, "twice");
    rhei_column dupcase[] = {{"id", NULL}, {"V", NULL}, {"v", NULL}};
    refused(db, "d", rhei_register_table(db, "d", dupcase, 3, NULL, 0), RHEI_MISUSE, "twice");
    const char *pk[] = {"id", "ID"};
    refused(db, "d", rhei_register_table(db, "d", NULL, 0, pk, 2), RHEI_MISUSE, "twice");
    rhei_column noname[] = {{"id", NULL}, {NULL, "TEXT"}};
    refused(db, "d", rhei_register_table(db, "d", noname, 2, NULL, 0), RHEI_MISUSE, "no name");
    rhei_column badtype[] = {{"id", NULL}, {"v", "TEXT); DROP TABLE d; --"}};
    refused(db, "d", rhei_register_table(db, "d", badtype, 2, NULL, 0), RHEI_MISUSE, "type");
    const char *nullpk[] = {"id", NULL};
    refused(db, "d", rhei_register_table(db, "d", NULL, 0, nullpk, 2), RHEI_MISUSE, "NULL");
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

TEST(name_length_limit)
{
    char dir[64], name[300], sql[512];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    memset(name, 'n', 256);
    name[256] = '\0';
    snprintf(sql, sizeof sql, "CREATE TABLE \"%s\" (id INTEGER PRIMARY KEY)", name);
    th_exec(db, sql);
    refused(db, name, rhei_register_table(db, name, NULL, 0, NULL, 0), RHEI_MISUSE, "bytes");
    /* The longest legal name replicates end to end, and survives a reopen. */
    name[RHEI_NAME_MAX - 1] = '\0';
    snprintf(sql, sizeof sql, "CREATE TABLE \"%s\" (id INTEGER PRIMARY KEY, v TEXT)", name);
    th_exec(db, sql);
    CHECK_OK(db, rhei_register_table(db, name, NULL, 0, NULL, 0));
    snprintf(sql, sizeof sql, "INSERT INTO \"%s\" VALUES (1, 'a')", name);
    th_exec(db, sql);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    CHECK_OK(db, rhei_sync_now(db, NULL));
    snprintf(sql, sizeof sql, "SELECT id, v FROM \"%s\" ORDER BY id", name);
    th_same(db, sql);
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 1);
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* a_history next to a, in both orders and both modes. */
static void history_clash(int history)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.history = history});
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE a_history (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE B_HISTORY (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "INSERT INTO a_history VALUES (1, 'kept')");
    CHECK_OK(db, rhei_register_table(db, "a_history", NULL, 0, NULL, 0));
    refused(db, "a", rhei_register_table(db, "a", NULL, 0, NULL, 0), RHEI_EXISTS, "_history");
    CHECK_OK(db, rhei_register_table(db, "b", NULL, 0, NULL, 0));
    refused(db, "B_HISTORY", rhei_register_table(db, "B_HISTORY", NULL, 0, NULL, 0),
            RHEI_EXISTS, "_history");
    /* The table registered first keeps its OLAP copy. */
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, v FROM a_history ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM a_history", RHEI_SIDE_OLAP), 1);
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.history = history});
    CHECK_INT(dt_tables(db), 3);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

TEST(history_name_clash_history_mode) { history_clash(1); }
TEST(history_name_clash_mirror_mode) { history_clash(0); }

TEST(rhei_and_sqlite_prefixes)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE _rhei_kv_log (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE _Rhei_mine (id INTEGER PRIMARY KEY, v TEXT)");
    refused(db, "_rhei_kv_log", rhei_register_table(db, "_rhei_kv_log", NULL, 0, NULL, 0),
            RHEI_MISUSE, "reserved");
    refused(db, "_Rhei_mine", rhei_register_table(db, "_Rhei_mine", NULL, 0, NULL, 0),
            RHEI_MISUSE, "reserved");
    refused(db, "sqlite_sequence", rhei_register_table(db, "sqlite_sequence", NULL, 0, NULL, 0),
            RHEI_MISUSE, "reserved");
    CHECK_RC(db, rhei_register_table(db, "", NULL, 0, NULL, 0), RHEI_MISUSE);
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* SQLite tells "Ä" from "ä" (it folds ASCII only), DuckDB does not. */
TEST(non_ascii_case_clash)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE \"\xc3\x84\" (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "CREATE TABLE \"\xc3\xa4\" (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "INSERT INTO \"\xc3\x84\" VALUES (1, 'upper')");
    CHECK_OK(db, rhei_register_table(db, "\xc3\x84", NULL, 0, NULL, 0));
    refused(db, "\xc3\xa4", rhei_register_table(db, "\xc3\xa4", NULL, 0, NULL, 0), RHEI_EXISTS,
            "letter case is ignored");
    th_same(db, "SELECT id, v FROM \"\xc3\x84\" ORDER BY id");
    /* Column names DuckDB does tell apart replicate as they are. */
    th_exec(db, "CREATE TABLE cc (id INTEGER PRIMARY KEY, \"\xc3\x84\" INT, \"\xc3\xa4\" INT)");
    CHECK_OK(db, rhei_register_table(db, "cc", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO cc VALUES (1, 2, 3)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, \"\xc3\x84\", \"\xc3\xa4\" FROM cc ORDER BY id");
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* Rows SQLite holds but OLAP cannot take, of a kind the registration's value check cannot
 * see (invalid UTF-8 in TEXT; a mistyped value is refused before anything is written): the
 * copy fails after SQLite committed the registration, which is then withdrawn. */
TEST(failed_copy_is_withdrawn)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    th_exec(db, "CREATE TABLE bad (id INTEGER PRIMARY KEY, n TEXT)");
    th_exec(db, "INSERT INTO bad VALUES (1, CAST(x'ff' AS TEXT))");
    int rc = rhei_register_table(db, "bad", NULL, 0, NULL, 0);
    CHECK(rc != RHEI_OK);
    CHECK(strstr(rhei_errmsg(db), "withdrawn"));
    CHECK_INT(dt_tables(db), 0);
    CHECK_INT(dt_count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
                           " tbl_name = ?1", "bad"), 0);
    CHECK_INT(dt_olap_objects(db, "bad"), 0);
    dt_still_works(db, "probe");
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(dt_tables(db), 1);
    /* Fixed, it registers. */
    th_exec(db, "UPDATE bad SET n = 'five'");
    CHECK_OK(db, rhei_register_table(db, "bad", NULL, 0, NULL, 0));
    th_same(db, "SELECT id, n FROM bad ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}
