/* duckdb_kv.c — small named values stored with the data (the sidecar's watermarks) and the
 * filling of a column added with a default. Both run on the write connection inside the
 * write transaction, so they commit or roll back with the rows they belong to. */
#include "duckdb_int.h"
#include "value.h"
#include <stdio.h>
#include <string.h>

enum { KV_APPEND, KV_READ, KV_COMPACT };
static const char *const kv_sql[3] = {
    "INSERT INTO _rhei_kv_log VALUES ($1, $2, $3)",
    "SELECT value FROM _rhei_kv_log WHERE key = $1 ORDER BY seq DESC LIMIT 1",
    "DELETE FROM _rhei_kv_log AS _l USING (SELECT key, max(seq) AS top FROM _rhei_kv_log "
    "GROUP BY key) AS _k WHERE _l.key = _k.key AND _l.seq < _k.top",
};

/* Appends between two compactions: the log stays a few thousand rows at most. */
#define KV_COMPACT_EVERY 1024

/* The log's last sequence number (the table exists: store_open in duckdb.c). */
int rhei__duck_kv_open(rhei__olap *o, rhei__err *e)
{
    return rhei__duck_query_row(o, "SELECT max(seq) FROM _rhei_kv_log", &o->kv_seq, 1, e);
}

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

static int run_ps(duckdb_prepared_statement ps, rhei__err *e)
{
    duckdb_result res;
    int rc = RHEI_OK;
    if (duckdb_execute_prepared(ps, &res) == DuckDBError)
        rc = rhei__duck_result_err(e, 0, &res);
    duckdb_destroy_result(&res);
    return rc;
}

/* Drops every entry but each key's latest: inside the write transaction, or on its own. */
int rhei__duck_kv_compact(rhei__olap *o, rhei__err *e)
{
    duckdb_prepared_statement ps = NULL;
    int rc = kv_stmt(o, KV_COMPACT, &ps, e);
    if (rc == RHEI_OK && (rc = run_ps(ps, e)) == RHEI_OK)
        o->kv_appends = 0;
    return rc;
}

int rhei__duck_set_kv(rhei__olap *o, const char *key, const char *value, rhei__err *e)
{
    duckdb_prepared_statement ps = NULL;
    int rc = rhei__duck_need_txn(o, e);
    if (rc || (rc = kv_stmt(o, KV_APPEND, &ps, e)))
        return rc;
    o->wrote = 1;
    /* a rolled-back append leaves a gap in seq, which is harmless: only the order counts */
    duckdb_bind_int64(ps, 1, ++o->kv_seq);
    duckdb_bind_varchar(ps, 2, key);
    duckdb_bind_varchar(ps, 3, value);
    if ((rc = run_ps(ps, e)) == RHEI_OK && ++o->kv_appends >= KV_COMPACT_EVERY)
        rc = rhei__duck_kv_compact(o, e);
    return rc;
}

int rhei__duck_get_kv(rhei__olap *o, const char *key, char *buf, size_t size, rhei__err *e)
{
    duckdb_prepared_statement ps = NULL;
    duckdb_result res;
    int rc = kv_stmt(o, KV_READ, &ps, e);
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
    duckdb_prepared_statement ps = NULL;
    if (duckdb_prepare(o->w, rhei__buf_str(&o->sql), &ps) == DuckDBError) {
        rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, duckdb_prepare_error(ps));
    } else {
        duckdb_bind_varchar(ps, 1, text);
        rc = run_ps(ps, e);
    }
    duckdb_destroy_prepare(&ps);
    return rc;
}
