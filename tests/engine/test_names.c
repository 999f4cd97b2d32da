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
    "INTEGER",
    "DOUBLE PRECISION",
    "VARCHAR(40)",
    "DECIMAL(12, 2)",
    "UNSIGNED BIG INT",
    "INTEGER DEFAULT 7",
    "TEXT DEFAULT 'it''s; -- ok' NOT NULL",
    "REAL DEFAULT -1.5e3",
    "TEXT COLLATE NOCASE",
    "BOOLEAN DEFAULT TRUE",
    "NUMERIC(10)",
    "INT DEFAULT NULL",
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
    /* no declared type: well-formed, refused all the same (see the type map in rhei.h) */
    CHECK_RC(db, rhei_add_column(db, "inj", "untyped", ""), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "no declared type") != NULL);
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

/* Sidecar config values (source table, key, updated_at, created_at, soft_delete, column
 * list) reach the source's SQL as quoted names: odd ones work, hostile ones never run. */
TEST(sidecar_names_from_config_are_names)
{
    char dir[64], src[128], oltp[128], spec[160];
    rt_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/source.db", dir);
    snprintf(oltp, sizeof oltp, "%s/local.db", dir);
    snprintf(spec, sizeof spec, "sqlite:%s", src);
    sqlite3 *s = NULL;
    CHECK_INT(sqlite3_open(src, &s), SQLITE_OK);
    dt_other_exec(s, "CREATE TABLE victim (id INTEGER PRIMARY KEY);"
                     "CREATE TABLE \"t\"\"; DROP TABLE victim; --\" (\"i`d\" INTEGER PRIMARY KEY,"
                     " \"v'); DROP TABLE victim; --\" TEXT, \"up]d\" TEXT, \"cr;at\" TEXT,"
                     " \"de--l\" INTEGER);"
                     "INSERT INTO \"t\"\"; DROP TABLE victim; --\" VALUES"
                     " (1, 'a', '2026-11-01 10:00:00', '2026-11-01 09:00:00', 0),"
                     " (2, 'b', NULL, '2026-11-01 09:30:00', 0),"
                     " (3, 'c', '2026-11-01 10:00:00', '2026-11-01 09:00:00', 1)");
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    const char *kv[][2] = {{"oltp_path", oltp}, {"sidecar.source", spec},
                           {"sidecar.poll_interval_ms", "0"},
                           {"sidecar.tables.0.name", "t\"; DROP TABLE victim; --"},
                           {"sidecar.tables.0.primary_key", "i`d"},
                           {"sidecar.tables.0.updated_at", "up]d"},
                           {"sidecar.tables.0.created_at", "cr;at"},
                           {"sidecar.tables.0.soft_delete", "de--l"},
                           {"sidecar.tables.0.columns", "i`d,v'); DROP TABLE victim; --"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rhei_config_set(cfg, kv[i][0], kv[i][1]) != RHEI_OK)
            FAIL("%s: %s", kv[i][0], rhei_config_errmsg(cfg));
    rhei_db *db = NULL;
    CHECK_OK(NULL, rhei_open(cfg, &db));
    rhei_config_free(cfg);
    CHECK_OK(db, rhei_sidecar_sync_now(db, NULL));
    /* Rows 1 and 2 (2 through created_at); 3 is soft-deleted. */
    rhei_result *r = th_query(db, "SELECT \"i`d\", \"v'); DROP TABLE victim; --\" FROM"
                                  " \"t\"\"; DROP TABLE victim; --\" ORDER BY 1", RHEI_SIDE_OLAP);
    CHECK_INT(rhei_result_row_count(r), 2);
    CHECK_STR(rhei_result_text(r, 1, 1, NULL), "b");
    rhei_result_free(r);
    CHECK_OK(db, rhei_close(db));
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s, "SELECT count(*) FROM victim", -1, &st, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    sqlite3_finalize(st);
    sqlite3_close(s);
    dt_rmdir(dir);
}
