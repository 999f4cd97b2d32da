/* execute_info.c — rhei_execute_info: rhei_execute that also reports the statement's last
 * inserted rowid, read on the writer connection before it is released, since the writer is
 * shared by every thread and the next holder's insert would replace the value. */
#include "engine_int.h"
#include <string.h>

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
    int rc =
        rhei__engine_ddl(db, sql, params, nparams, &info.changes, &info.last_rowid, &e, &handled);
    if (!handled) {
        rhei__conn *w = rhei__oltp_writer(db->oltp);
        rc = rhei__conn_exec(w, sql, params, nparams, &info.changes, &e);
        if (rc == RHEI_OK)
            info.last_rowid = rhei__conn_last_rowid(w);
        rhei__oltp_writer_release(db->oltp);
    }
    if (rc)
        return rhei__engine_fail(db, &e);
    if (out)
        *out = info;
    return RHEI_OK;
}
