/* duckdb_kv.c — small named values stored with the data (the sidecar's watermarks) and the
 * filling of a column added with a default. Both run on the write connection inside the
 * write transaction, so they commit or roll back with the rows they belong to. */
#include "duckdb_int.h"
#include "value.h"
#include <stdio.h>
#include <string.h>

static const char *const kv_sql[3] = {
    "UPDATE _rhei_kv SET value = $1 WHERE key = $2",
    "INSERT INTO _rhei_kv VALUES ($2, $1)",
    "SELECT value FROM _rhei_kv WHERE key = $1",
};

void rhei__duck_kv_close(rhei__olap *o)
{
    for (size_t i = 0; i < 3; i++)
        if (o->kv_ps[i])
            duckdb_destroy_prepare(&o->kv_ps[i]);
}

/* Statement i of kv_sql, prepared on first use and kept: a sidecar cycle sets one watermark
 * per page, and preparing costs as much as running. */
static int kv_stmt(rhei__olap *o, size_t i, duckdb_prepared_statement *out, rhei__err *e)
{
    if (!o->kv_ps[i] && duckdb_prepare(o->w, kv_sql[i], &o->kv_ps[i]) == DuckDBError) {
        int rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, duckdb_prepare_error(o->kv_ps[i]));
        duckdb_destroy_prepare(&o->kv_ps[i]);
        o->kv_ps[i] = NULL;
        return rc;
    }
    duckdb_clear_bindings(o->kv_ps[i]);
    *out = o->kv_ps[i];
    return RHEI_OK;
}

/* Runs prepared statement ps with n VARCHAR parameters; rows changed go to *changed. */
static int run_ps(duckdb_prepared_statement ps, const char *const *args, size_t n,
                  int64_t *changed, rhei__err *e)
{
    duckdb_result res;
    int rc = RHEI_OK;
    for (size_t i = 0; i < n; i++)
        duckdb_bind_varchar(ps, (idx_t)i + 1, args[i]);
    if (duckdb_execute_prepared(ps, &res) == DuckDBError)
        rc = rhei__duck_result_err(e, 0, &res);
    else if (changed)
        *changed = (int64_t)duckdb_rows_changed(&res);
    duckdb_destroy_result(&res);
    return rc;
}

/* Runs sql once (not kept) with n VARCHAR parameters. */
static int run_text(rhei__olap *o, const char *sql, const char *const *args, size_t n,
                    int64_t *changed, rhei__err *e)
{
    duckdb_prepared_statement ps = NULL;
    int rc;
    if (duckdb_prepare(o->w, sql, &ps) == DuckDBError)
        rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, duckdb_prepare_error(ps));
    else
        rc = run_ps(ps, args, n, changed, e);
    duckdb_destroy_prepare(&ps);
    return rc;
}

int rhei__duck_set_kv(rhei__olap *o, const char *key, const char *value, rhei__err *e)
{
    int64_t changed = 0;
    const char *args[2] = {value, key};
    duckdb_prepared_statement ps;
    int rc = rhei__duck_need_txn(o, e);
    if (rc)
        return rc;
    o->wrote = 1;
    /* No key index on _rhei_kv: DuckDB 1.4 cannot re-insert an indexed key deleted or
     * updated in the same transaction, and the table stays tiny. */
    if ((rc = kv_stmt(o, 0, &ps, e)) == RHEI_OK)
        rc = run_ps(ps, args, 2, &changed, e);
    if (rc == RHEI_OK && changed == 0 && (rc = kv_stmt(o, 1, &ps, e)) == RHEI_OK)
        rc = run_ps(ps, args, 2, NULL, e);
    return rc;
}

int rhei__duck_get_kv(rhei__olap *o, const char *key, char *buf, size_t size, rhei__err *e)
{
    duckdb_prepared_statement ps;
    duckdb_result res;
    int rc = kv_stmt(o, 2, &ps, e);
    if (rc)
        return rc;
    duckdb_bind_varchar(ps, 1, key);
    if (duckdb_execute_prepared(ps, &res) == DuckDBError) {
        rc = rhei__duck_result_err(e, 0, &res);
    } else if (duckdb_row_count(&res) > 0) {
        char *v = duckdb_value_varchar(&res, 0, 0);
        snprintf(buf, size, "%s", v ? v : "");
        duckdb_free(v);
    } else {
        rc = rhei__err_set(e, RHEI_NOTFOUND, "no value stored for '%s'", key);
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* The text DuckDB casts back to the column's type. */
static void text_form(const rhei_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case RHEI_TYPE_REAL: snprintf(buf, size, "%.17g", v->f); break;
    case RHEI_TYPE_BOOLEAN: snprintf(buf, size, "%s", v->i ? "true" : "false"); break;
    case RHEI_TYPE_DATE: rhei__format_date((int32_t)v->i, buf, size); break;
    case RHEI_TYPE_TIMESTAMP: rhei__format_timestamp(v->i, buf, size); break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
    case RHEI_TYPE_BLOB: snprintf(buf, size, "%.*s", (int)v->n, v->s ? v->s : ""); break;
    default: snprintf(buf, size, "%lld", (long long)v->i); break;
    }
}

int rhei__duck_fill_column(rhei__olap *o, const rhei__table *t, const char *column,
                           const rhei_value *v, int history, rhei__err *e)
{
    long idx = rhei__table_col(t, column);
    if (idx < 0)
        return rhei__err_set(e, RHEI_NOTFOUND, "no column '%s' in table '%s'", column, t->name);
    if (v->type == RHEI_TYPE_NULL)
        return RHEI_OK;
    int rc = rhei__duck_need_txn(o, e);
    if (rc)
        return rc;
    char text[4096];
    text_form(v, text, sizeof text);
    const char *args[1] = {text};
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "UPDATE ");
    rhei__duck_put_target(&o->sql, t->name, history);
    rhei__buf_puts(&o->sql, " SET ");
    rhei__buf_ident(&o->sql, column);
    rhei__buf_puts(&o->sql, " = CAST($1 AS ");
    rhei__duck_put_type(&o->sql, &t->cols[idx]);
    rhei__buf_puts(&o->sql, history ? ") WHERE _rhei_valid_to IS NULL" : ")");
    if ((rc = rhei__buf_check(&o->sql, e)) != RHEI_OK)
        return rc;
    o->wrote = 1;
    if ((rc = rhei__duck_touch(o, t->name, history, e)) != RHEI_OK)
        return rc;
    return run_text(o, rhei__buf_str(&o->sql), args, 1, NULL, e);
}
