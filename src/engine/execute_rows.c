/* execute_rows.c — rhei_execute_query: one statement of any kind on SQLite's writer connection
 * (so a write is captured and serialised like rhei_execute's), keeping the rows it produces:
 * SELECT, PRAGMA, or INSERT/UPDATE/DELETE ... RETURNING. Shells print them, as sqlite3 does. */
#include "engine_int.h"
#include "result.h"
#include <string.h>

int rhei_execute_query(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                       rhei_result **out)
{
    rhei__err e;
    if (out)
        *out = NULL;
    if (!db || !sql || !out) {
        rhei__err_set(&e, RHEI_MISUSE, "rhei_execute_query needs a handle, SQL text and out");
        return rhei__engine_fail(db, &e);
    }
    if (db->sidecar_only)
        return rhei__engine_refuse_pure_sidecar(db, "cannot execute");
    /* the same checks and DDL handling as rhei_execute: a value OLAP cannot store is refused
     * here too, and DDL on a replicated table keeps replication in step instead of
     * detaching the table */
    if (rhei__engine_check_params("rhei_execute_query", params, nparams, &e) ||
        rhei__engine_check_text(sql, params, nparams, &e))
        return rhei__engine_fail(db, &e);
    /* one statement, checked before the DDL path (which would run a script) */
    size_t pos = 0, start, len, n = strlen(sql);
    int many = rhei_sql_statement(sql, n, &pos, &start, &len) &&
               rhei_sql_statement(sql, n, &pos, &start, &len);
    int handled = 0;
    int rc = many ? rhei__err_set(&e, RHEI_MISUSE, "expected one statement, got several")
                  : rhei__engine_ddl(db, sql, params, nparams, NULL, NULL, &e, &handled);
    if (rc == RHEI_OK && handled) {
        rc = rhei__result_new(0, out, &e);
    } else if (rc == RHEI_OK) {
        rhei__conn *w = rhei__oltp_writer(db->oltp);
        rc = rhei__conn_query(w, sql, params, nparams, out, &e);
        rhei__oltp_writer_release(db->oltp);
    }
    if (rc)
        return rhei__engine_fail(db, &e);
    (*out)->side = RHEI_SIDE_OLTP;
    (*out)->reason = rhei_route_reason_text(RHEI_ROUTE_EXECUTED);
    return RHEI_OK;
}
