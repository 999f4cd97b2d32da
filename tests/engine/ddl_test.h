/* ddl_test.h — shared by the registration, names and DDL tests: a second SQLite connection
 * standing for another process, looks at SQLite's schema, and removing a case's directory. */
#ifndef RHEI_TEST_ENGINE_DDL_TEST_H
#define RHEI_TEST_ENGINE_DDL_TEST_H
#define _XOPEN_SOURCE 700
#include "helpers.h"
#include "buf.h"
#include <ftw.h>
#include <sqlite3.h>

static int dt_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

/* Removes a case's directory and everything in it. */
static inline void dt_rmdir(const char *dir) { nftw(dir, dt_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* A plain SQLite connection to the case's file, as another process would open it (the
 * sqlite3 shell: double-quoted strings allowed, no recursive triggers). */
static inline sqlite3 *dt_other(const char *dir)
{
    char path[512];
    sqlite3 *o = NULL;
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(sqlite3_open(path, &o), SQLITE_OK);
    sqlite3_busy_timeout(o, 5000);
    sqlite3_db_config(o, SQLITE_DBCONFIG_DQS_DML, 1, NULL);
    sqlite3_db_config(o, SQLITE_DBCONFIG_DQS_DDL, 1, NULL);
    return o;
}

static inline void dt_other_exec(sqlite3 *o, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(o, sql, NULL, NULL, &err) != SQLITE_OK)
        FAIL("other connection: '%s': %s", sql, err ? err : "?");
}

/* A count(*)-style query on the OLTP side with one text parameter. */
static inline int64_t dt_count(rhei_db *db, const char *sql, const char *arg)
{
    rhei_value p = rhei_text(arg);
    rhei_result *r = NULL;
    rhei_query_opts o = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    int rc = rhei_query_ex(db, sql, &p, 1, &o, &r);
    if (rc != RHEI_OK)
        FAIL("query '%s': %s", sql, rhei_errmsg(db));
    int64_t v = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return v;
}

/* Objects rhei keeps for a table in SQLite: catalog rows and capture triggers. */
static inline int64_t dt_traces(rhei_db *db, const char *table)
{
    return dt_count(db, "SELECT (SELECT count(*) FROM _rhei_tables WHERE name = ?1 AND active)"
                        " + (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
                        " tbl_name = ?1)", table);
}

/* Objects of that name (or its history twin) in OLAP. */
static inline int64_t dt_olap_objects(rhei_db *db, const char *table)
{
    rhei_value p = rhei_text(table);
    rhei_result *r = NULL;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    int rc = rhei_query_ex(db, "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND"
                               " lower(table_name) IN (lower(?1), lower(?1 || '_history'))",
                           &p, 1, &o, &r);
    if (rc != RHEI_OK)
        FAIL("olap object count: %s", rhei_errmsg(db));
    int64_t v = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return v;
}

static inline size_t dt_tables(rhei_db *db)
{
    rhei_table_list *l = NULL;
    CHECK_OK(db, rhei_tables(db, &l));
    size_t n = rhei_table_list_count(l);
    rhei_table_list_free(l);
    return n;
}

/* Sync, then the whole engine still works: another table registers and replicates. */
static inline void dt_still_works(rhei_db *db, const char *probe)
{
    char sql[256];
    CHECK_OK(db, rhei_sync_now(db, NULL));
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER PRIMARY KEY, v TEXT)", probe);
    th_exec(db, sql);
    CHECK_OK(db, rhei_register_table(db, probe, NULL, 0, NULL, 0));
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1, 'x'), (2, 'y')", probe);
    th_exec(db, sql);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    snprintf(sql, sizeof sql, "SELECT id, v FROM %s ORDER BY id", probe);
    th_same(db, sql);
}
#endif
