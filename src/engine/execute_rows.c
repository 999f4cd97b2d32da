/* execute_rows.c — rhei_execute_query: one statement of any kind on SQLite's writer connection
 * (so a write is captured and serialised like rhei_execute's), keeping the rows it produces:
 * SELECT, PRAGMA, or INSERT/UPDATE/DELETE ... RETURNING. Shells print them, as sqlite3 does. */
#include "engine_int.h"
#include "result.h"

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
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    int rc = rhei__conn_query(w, sql, params, nparams, out, &e);
    rhei__oltp_writer_release(db->oltp);
    if (rc)
        return rhei__engine_fail(db, &e);
    (*out)->side = RHEI_SIDE_OLTP;
    (*out)->reason = rhei_route_reason_text(RHEI_ROUTE_EXECUTED);
    return RHEI_OK;
}
