/* raw.h — "another process" for engine tests: the engine's SQLite file opened directly with
 * SQLite's own API, no rhei code involved, so tests can write what the engine's write path
 * would never let through and read what really landed. */
#ifndef RHEI_TEST_RAW_H
#define RHEI_TEST_RAW_H
#include "test.h"
#include <sqlite3.h>
#include <stdint.h>

/* <dir>/oltp.db with a busy timeout: it waits out the engine's brief locks like any client. */
static inline sqlite3 *raw_open(const char *dir)
{
    char path[256];
    sqlite3 *s = NULL;
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    return s;
}

static inline void raw_exec(sqlite3 *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s, sql, NULL, NULL, &err) != SQLITE_OK)
        FAIL("raw '%s': %s", sql, err ? err : "?");
}

static inline int64_t raw_scalar(sqlite3 *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(s, sql, -1, &st, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}
#endif
