/* execute_info.c — rhei_execute_info: rhei_execute that also reports the statement's last
 * inserted rowid, read on the writer connection before it is released, since the writer is
 * shared by every thread and the next holder's insert would replace the value. */
#include "engine_int.h"
#include "result.h"
#include <string.h>

/* last_insert_rowid() of w, the connection this thread holds (SQL: the engine does not speak
 * to SQLite's C API itself). */
static int last_rowid(rhei__conn *w, int64_t *out, rhei__err *e)
{
    rhei_result *r = NULL;
    int rc = rhei__conn_query(w, "SELECT last_insert_rowid()", NULL, 0, &r, e);
    if (rc == RHEI_OK)
        *out = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return rc;
}

int rhei_execute_info(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                      rhei_exec_info *out)
{
    rhei_exec_info info;
    memset(&info, 0, sizeof info);
    if (out)
        *out = info;
    rhei__err e;
    if (!db || !sql) {
        rhei__err_set(&e, RHEI_MISUSE, "rhei_execute_info needs a handle and SQL text");
        return rhei__engine_fail(db, &e);
    }
    if (db->sidecar_only)
        return rhei__engine_refuse_pure_sidecar(db, "cannot execute");
    if (rhei__engine_check_params("rhei_execute_info", params, nparams, &e) ||
        rhei__engine_check_text(sql, params, nparams, &e))
        return rhei__engine_fail(db, &e);
    int handled = 0;
    int rc = rhei__engine_ddl(db, sql, params, nparams, &info.changes, &e, &handled);
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    if (!handled)
        rc = rhei__conn_exec(w, sql, params, nparams, &info.changes, &e);
    if (rc == RHEI_OK) /* DDL inserts nothing: the value left by an earlier insert */
        rc = last_rowid(w, &info.last_rowid, &e);
    rhei__oltp_writer_release(db->oltp);
    if (rc)
        return rhei__engine_fail(db, &e);
    if (out)
        *out = info;
    return RHEI_OK;
}
