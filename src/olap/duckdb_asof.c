/* duckdb_asof.c — point-in-time reads of history storage: the query behind rhei_query_as_of,
 * and the guard behind the SQL form: rhei_as_of('t', ts) calls _rhei_as_of_check('t', ts),
 * which fails the query when ts is past the moment the engine knows table t through (a
 * sidecar table's watermark, or now), just as rhei_query_as_of refuses with RHEI_RANGE. The
 * limit comes from the engine's callback. */
#include "duckdb_int.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void check_fn(duckdb_function_info info, duckdb_data_chunk in, duckdb_vector out)
{
    rhei__olap *o = duckdb_scalar_function_get_extra_info(info);
    idx_t n = duckdb_data_chunk_get_size(in);
    duckdb_vector vt = duckdb_data_chunk_get_vector(in, 0);
    duckdb_vector vts = duckdb_data_chunk_get_vector(in, 1);
    duckdb_string_t *names = duckdb_vector_get_data(vt);
    int64_t *ts = duckdb_vector_get_data(vts);
    uint64_t *nv_t = duckdb_vector_get_validity(vt), *nv_ts = duckdb_vector_get_validity(vts);
    bool *res = duckdb_vector_get_data(out);
    char name[256], prev[256] = "", why[160] = "";
    int64_t limit = INT64_MAX;
    int have = 0, limited = 0;
    for (idx_t i = 0; i < n; i++) {
        res[i] = true;
        if (!o->as_of_limit || !duckdb_validity_row_is_valid(nv_t, i) ||
            !duckdb_validity_row_is_valid(nv_ts, i))
            continue;
        uint32_t len = duckdb_string_t_length(names[i]);
        snprintf(name, sizeof name, "%.*s", (int)len, duckdb_string_t_data(&names[i]));
        if (!have || strcmp(name, prev) != 0) { /* one look-up per table and chunk */
            limited = o->as_of_limit(o->as_of_ud, name, &limit, why, sizeof why);
            memcpy(prev, name, sizeof prev);
            have = 1;
        }
        if (limited && ts[i] > limit) {
            char msg[600];
            snprintf(msg, sizeof msg, "cannot read table '%s' as of %" PRId64 ": "
                     RHEI__DUCK_RANGE_MARK "%s", name, ts[i], why);
            duckdb_scalar_function_set_error(info, msg);
            return;
        }
    }
}

int rhei__duck_asof_register(rhei__olap *o, rhei__err *e)
{
    duckdb_scalar_function f = duckdb_create_scalar_function();
    if (!f)
        return rhei__err_nomem(e);
    duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    duckdb_logical_type boolean = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    duckdb_scalar_function_set_name(f, "_rhei_as_of_check");
    duckdb_scalar_function_add_parameter(f, varchar);
    duckdb_scalar_function_add_parameter(f, bigint);
    duckdb_scalar_function_set_return_type(f, boolean);
    duckdb_scalar_function_set_extra_info(f, o, NULL);
    duckdb_scalar_function_set_function(f, check_fn);
    int rc = duckdb_register_scalar_function(o->w, f) == DuckDBSuccess
                 ? RHEI_OK
                 : rhei__err_set(e, RHEI_OLAP, "duckdb: cannot register _rhei_as_of_check");
    duckdb_destroy_logical_type(&varchar);
    duckdb_destroy_logical_type(&bigint);
    duckdb_destroy_logical_type(&boolean);
    duckdb_destroy_scalar_function(&f);
    return rc;
}

void rhei__duck_set_as_of_limit(rhei__olap *o, rhei__olap_limit_fn fn, void *ud)
{
    o->as_of_ud = ud;
    o->as_of_limit = fn;
}

int rhei__duck_query_as_of(rhei__olap *o, const char *table, int64_t ts_us, rhei_result **out,
                           rhei__err *e)
{
    rhei__buf sql = RHEI__BUF_INIT;
    rhei__buf_puts(&sql, "SELECT * EXCLUDE (_rhei_valid_from, _rhei_valid_to) FROM ");
    rhei__duck_put_target(&sql, table, 1);
    rhei__buf_printf(&sql,
                     " WHERE _rhei_valid_from <= %lld AND (_rhei_valid_to IS NULL OR"
                     " _rhei_valid_to > %lld)",
                     (long long)ts_us, (long long)ts_us);
    int rc = rhei__buf_check(&sql, e);
    if (rc == RHEI_OK)
        rc = rhei__duck_query(o, rhei__buf_str(&sql), NULL, 0, out, e);
    rhei__buf_free(&sql);
    return rc;
}
