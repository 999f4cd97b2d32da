/* test_sandbox.c — the OLAP side is a sandbox: caller SQL cannot read files or URLs,
 * install or load extensions, attach databases, write files or change settings, through
 * rhei_query or directly on the DuckDB handle; olap_external_access = true opts in to files. */
#define _XOPEN_SOURCE 700 /* POSIX: mkdtemp, nanosleep */
#include "helpers.h"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop

static rhei_db *open_with(const char *dir, const char *key, const char *value)
{
    char path[512];
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", path), RHEI_OK);
    if (key)
        CHECK_INT(rhei_config_set(cfg, key, value), RHEI_OK);
    int rc = rhei_open(cfg, &db);
    rhei_config_free(cfg);
    if (rc != RHEI_OK)
        FAIL("rhei_open: %s", rhei_errmsg(NULL));
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "INSERT INTO t VALUES (1, 'a')");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    return db;
}

/* sql through rhei_query with hint OLAP must fail; its message must contain want. */
static void refused(rhei_db *db, const char *sql, const char *want)
{
    rhei_result *r = NULL;
    int rc = rhei_query_with_hint(db, sql, RHEI_SIDE_OLAP, &r);
    if (rc == RHEI_OK)
        FAIL("'%s' was allowed (%zu rows)", sql, rhei_result_row_count(r));
    if (!strstr(rhei_errmsg(db), want))
        FAIL("'%s': message '%s' lacks '%s'", sql, rhei_errmsg(db), want);
}

/* The same on a raw DuckDB connection: the sandbox is DuckDB's, not only the router's. */
static void refused_raw(rhei_db *db, const char *sql, const char *want)
{
    duckdb_database *ddb = rhei_olap_handle(db);
    duckdb_connection c;
    duckdb_result res;
    CHECK(duckdb_connect(*ddb, &c) == DuckDBSuccess);
    if (duckdb_query(c, sql, &res) == DuckDBSuccess)
        FAIL("'%s' was allowed on the duckdb handle", sql);
    const char *err = duckdb_result_error(&res);
    if (!err || !strstr(err, want))
        FAIL("'%s' on the duckdb handle: error '%s' lacks '%s'", sql, err ? err : "", want);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&c);
}

TEST(files_network_extensions_and_settings_are_refused)
{
    char dir[64], sql[512];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = open_with(dir, NULL, NULL);
    snprintf(sql, sizeof sql, "SELECT * FROM read_text('%s/oltp.db')", dir);
    refused(db, sql, "disabled");
    refused(db, "SELECT * FROM read_text('/etc/hostname')", "disabled");
    refused(db, "SELECT * FROM read_csv('https://example.com/x.csv')", "disabled");
    /* The router refuses these as statements that are not reads... */
    refused(db, "INSTALL httpfs", "read-only");
    refused(db, "SET threads = 1", "read-only");
    /* ...and DuckDB itself refuses them on its own handle. */
    refused_raw(db, "SELECT * FROM read_text('/etc/hostname')", "disabled");
    refused_raw(db, "INSTALL httpfs", "");
    refused_raw(db, "LOAD httpfs", "");
    snprintf(sql, sizeof sql, "ATTACH '%s/other.duckdb' AS other", dir);
    refused_raw(db, sql, "");
    snprintf(sql, sizeof sql, "COPY t TO '%s/out.csv'", dir);
    refused_raw(db, sql, "");
    refused_raw(db, "SET enable_external_access = true", "locked");
    refused_raw(db, "SET threads = 1", "locked");
    snprintf(sql, sizeof sql, "%s/out.csv", dir);
    CHECK(access(sql, F_OK) != 0);
    /* The replicated table is still there for queries. */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 1);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

TEST(external_access_opt_in_reads_local_files)
{
    char dir[64], sql[512], path[300];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/in.csv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("a,b\n1,2\n3,4\n", f);
    fclose(f);
    rhei_db *db = open_with(dir, "olap_external_access", "true");
    snprintf(sql, sizeof sql, "SELECT sum(a + b) FROM read_csv('%s')", path);
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 10);
    refused_raw(db, "SET threads = 1", "locked"); /* settings stay locked */
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

TEST(sqlite_file_as_olap_path_is_refused_without_loading_extensions)
{
    char dir[64], path[300];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = open_with(dir, NULL, NULL); /* makes dir/oltp.db, an SQLite file */
    CHECK_OK(db, rhei_close(db));
    rhei_config *cfg = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    snprintf(path, sizeof path, "%s/second.db", dir);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", path), RHEI_OK);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(rhei_config_set(cfg, "olap_path", path), RHEI_OK);
    int rc = rhei_open(cfg, &db);
    rhei_config_free(cfg);
    CHECK(rc != RHEI_OK);
    CHECK(db == NULL);
    fprintf(stderr, "refused: %s\n", rhei_errmsg(NULL));
    CHECK(strstr(rhei_errmsg(NULL), "cannot open olap store") != NULL);
    /* refused locally: no download was attempted (the old code tried extensions.duckdb.org) */
    CHECK(strstr(rhei_errmsg(NULL), "http") == NULL);
    CHECK(strstr(rhei_errmsg(NULL), "connection") == NULL);
    rt_rm_tree(dir);
}
