/* utf8.c — caller text is checked before SQLite stores it: a TEXT value holding invalid
 * UTF-8 can never reach DuckDB's VARCHAR, and SQLite's built-in functions cannot tell, so
 * the capture triggers cannot refuse it (a value made inside SQL, CAST(x'ff' AS TEXT), still
 * gets through: the sync then fails only its table, see rhei.h "Failure model"). */
#include "engine_int.h"
#include "value.h"
#include <string.h>

int rhei__engine_check_text(const char *sql, const rhei_value *params, size_t nparams,
                            rhei__err *e)
{
    if (sql && !rhei__utf8_valid(sql, strlen(sql)))
        return rhei__err_set(e, RHEI_MISUSE, "sql text is not valid UTF-8 (a TEXT value with"
                             " invalid UTF-8 cannot be replicated; write bytes as a BLOB)");
    for (size_t i = 0; params && i < nparams; i++)
        if (params[i].type == RHEI_TYPE_TEXT && params[i].s &&
            !rhei__utf8_valid(params[i].s, params[i].n))
            return rhei__err_set(e, RHEI_TYPE, "parameter %zu is TEXT but not valid UTF-8 (a"
                                 " TEXT value with invalid UTF-8 cannot be replicated; bind"
                                 " bytes as a BLOB)", i + 1);
    return RHEI_OK;
}
