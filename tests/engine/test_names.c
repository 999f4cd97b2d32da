/* test_names.c — caller text never runs as SQL (issue 9 point 4): declared types are parsed
 * against a grammar, names are always quoted, and odd but legal names work end to end. */
#include "ddl_test.h"

static const char *const hostile_types[] = {
    "INTEGER; DROP TABLE victim",
    "INTEGER); DROP TABLE victim; --",
    "TEXT DEFAULT 'x'; DROP TABLE victim",
    "TEXT DEFAULT 'x''); DROP TABLE victim; --",
    "INTEGER -- DROP TABLE victim",
    "INTEGER /* */",
    "INTEGER DEFAULT (random())",
    "INTEGER AS (1)",
    "INTEGER REFERENCES victim",
    "INTEGER PRIMARY KEY",
    "INTEGER CHECK (1)",
    "VARCHAR(10); DROP TABLE victim",
    "DECIMAL(12,2,3)",
    "DECIMAL(-1)",
    "`x`",
    "[x]",
    "\"INTEGER\"",
    "INTEGER DEFAULT 'unterminated",
    "A B C D E",
    "INTEGER\x01",
};

static const char *const fine_types[] = {
    "INTEGER", "DOUBLE PRECISION", "VARCHAR(40)", "DECIMAL(12, 2)", "UNSIGNED BIG INT",
    "INTEGER DEFAULT 7", "TEXT DEFAULT 'it''s; -- ok' NOT NULL", "REAL DEFAULT -1.5e3",
    "TEXT COLLATE NOCASE", "", "BOOLEAN DEFAULT TRUE", "NUMERIC(10)", "INT DEFAULT NULL",
};

static void victim_alive(rhei_db *db)
{
    CHECK_INT(dt_count(db, "SELECT count(*) FROM sqlite_master WHERE name = ?1", "victim"), 1);
}

TEST(add_column_type_is_never_sql)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE victim (id INTEGER PRIMARY KEY)");
    th_exec(db, "CREATE TABLE inj (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "inj", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO inj VALUES (1, 'a')");
    for (size_t i = 0; i < sizeof hostile_types / sizeof hostile_types[0]; i++) {
        int rc = rhei_add_column(db, "inj", "c", hostile_types[i]);
        if (rc != RHEI_MISUSE)
            FAIL("add_column type '%s': rc=%d, want RHEI_MISUSE: %s", hostile_types[i], rc,
                 rhei_errmsg(db));
        victim_alive(db);
    }
    for (size_t i = 0; i < sizeof fine_types / sizeof fine_types[0]; i++) {
        char col[16];
        snprintf(col, sizeof col, "c%zu", i);
        CHECK_OK(db, rhei_add_column(db, "inj", col, fine_types[i]));
    }
    th_exec(db, "INSERT INTO inj(id, v, c0, c6) VALUES (2, 'b', 3, 'x')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT * FROM inj ORDER BY id");
    victim_alive(db);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* Names with every kind of quote and SQL punctuation are names, never SQL. */
static const char *const odd_names[] = {
    "we\"ird", "it's", "semi;colon", "dash--dash", "br]ack[et", "back`tick", "sp ace",
    "\xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", "\"); DROP TABLE victim; --", "'); DROP TABLE victim; --",
    "`; DROP TABLE victim; --", "]; DROP TABLE victim; --", "/*", "*/", "?", "$1", "%s",
};

TEST(odd_names_replicate_end_to_end)
{
    char dir[64], sql[1024];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    th_exec(db, "CREATE TABLE victim (id INTEGER PRIMARY KEY)");
    size_t n = sizeof odd_names / sizeof odd_names[0];
    for (size_t i = 0; i < n; i++) {
        /* table named odd_names[i], key column odd_names[(i+1)%n], value odd_names[(i+2)%n] */
        rhei__buf b = RHEI__BUF_INIT;
        rhei__buf_puts(&b, "CREATE TABLE ");
        rhei__buf_ident(&b, odd_names[i]);
        rhei__buf_puts(&b, " (");
        rhei__buf_ident(&b, odd_names[(i + 1) % n]);
        rhei__buf_puts(&b, " INTEGER PRIMARY KEY, ");
        rhei__buf_ident(&b, odd_names[(i + 2) % n]);
        rhei__buf_puts(&b, " TEXT)");
        th_exec(db, rhei__buf_str(&b));
        CHECK_OK(db, rhei_register_table(db, odd_names[i], NULL, 0, NULL, 0));
        CHECK_OK(db, rhei_add_column(db, odd_names[i], odd_names[(i + 3) % n], "INTEGER"));
        rhei__buf_reset(&b);
        rhei__buf_puts(&b, "INSERT INTO ");
        rhei__buf_ident(&b, odd_names[i]);
        rhei__buf_puts(&b, " VALUES (1, 'a', 10), (2, 'b', 20)");
        th_exec(db, rhei__buf_str(&b));
        CHECK_OK(db, rhei_drop_column(db, odd_names[i], odd_names[(i + 2) % n]));
        rhei__buf_reset(&b);
        rhei__buf_puts(&b, "SELECT * FROM ");
        rhei__buf_ident(&b, odd_names[i]);
        rhei__buf_puts(&b, " ORDER BY 1");
        snprintf(sql, sizeof sql, "%s", rhei__buf_str(&b));
        rhei__buf_free(&b);
        CHECK_OK(db, rhei_sync_now(db, NULL));
        th_same(db, sql);
        CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 1);
        int64_t rows = 0;
        CHECK_OK(db, rhei_initial_sync(db, odd_names[i], &rows));
        CHECK_INT(rows, 2);
        victim_alive(db);
    }
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    CHECK_INT(dt_tables(db), n);
    for (size_t i = 0; i < n; i++) {
        rhei_table_status st;
        CHECK_OK(db, rhei_table_status_get(db, odd_names[i], &st));
        CHECK_INT(st.state, RHEI_TABLE_REPLICATED);
        CHECK_OK(db, rhei_unregister_table(db, odd_names[i]));
    }
    victim_alive(db);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}

/* Table names handed to the API are looked up, never spliced. */
TEST(hostile_table_names_are_not_found)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE victim (id INTEGER PRIMARY KEY)");
    const char *bad = "victim\"; DROP TABLE victim; --";
    CHECK_RC(db, rhei_register_table(db, bad, NULL, 0, NULL, 0), RHEI_NOTFOUND);
    CHECK_RC(db, rhei_unregister_table(db, bad), RHEI_NOTFOUND);
    CHECK_RC(db, rhei_add_column(db, bad, "c", "INTEGER"), RHEI_NOTFOUND);
    CHECK_RC(db, rhei_drop_column(db, bad, "c"), RHEI_NOTFOUND);
    CHECK_RC(db, rhei_initial_sync(db, bad, NULL), RHEI_NOTFOUND);
    int64_t ev = 0;
    CHECK_OK(db, rhei_table_pending(db, bad, &ev));
    victim_alive(db);
    CHECK_OK(db, rhei_close(db));
    dt_rmdir(dir);
}
