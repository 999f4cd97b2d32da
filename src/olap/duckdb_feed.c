/* duckdb_feed.c — how batches reach DuckDB: the table function _rhei_feed() hands DuckDB the
 * rows described by o->feed, vector by vector, and prepared statements read it
 * (INSERT ... SELECT * FROM _rhei_feed(), DELETE/UPDATE joined with it). One prepared statement
 * per table version and kind replaces an appender and a TEMP staging table per batch, which
 * cost ~0.5 ms each however few the rows; bulk loads run as fast as the appender. */
#include "duckdb_int.h"
#include "mem.h"
#include "value.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- filling vectors ---------------------------------------------------------------------- */

/* Vectors belong to DuckDB, which hands them from thread to thread and reuses their memory
 * with synchronisation ThreadSanitizer cannot see (the library is not instrumented): writes
 * into them are left uninstrumented like DuckDB's own. Reads of the batch stay ordered by
 * feed_mu. */
#if defined(__SANITIZE_THREAD__)
#define VECTOR_WRITER __attribute__((no_sanitize_thread, noinline))
#else
#define VECTOR_WRITER
#endif

static __int128 pow10_i128(int k)
{
    __int128 v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* A value of a DECIMAL(p,s) column as its scaled integer. -1 wrong type, -3 out of range. */
int rhei__duck_to_decimal(const rhei_value *v, int p, int s, __int128 *out)
{
    char buf[512];
    const __int128 lim = pow10_i128(p);
    switch (v->type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_BOOLEAN:
        if ((__int128)v->i >= pow10_i128(p - s) || -(__int128)v->i >= pow10_i128(p - s))
            return -3;
        *out = (__int128)v->i * pow10_i128(s);
        return 0;
    case RHEI_TYPE_REAL:
        if (!isfinite(v->f) || fabs(v->f) >= 1e39)
            return -3;
        /* glibc prints the exact binary value rounded at s digits: no double arithmetic. */
        snprintf(buf, sizeof buf, "%.*f", s, v->f);
        if (rhei__decimal_parse(buf, strlen(buf), s, out))
            return -3;
        break;
    case RHEI_TYPE_DECIMAL:
    case RHEI_TYPE_TEXT:
        if (rhei__decimal_parse(v->s, v->n, s, out))
            return v->type == RHEI_TYPE_TEXT ? -1 : -3;
        break;
    default:
        return -1;
    }
    return (*out >= lim || -*out >= lim) ? -3 : 0;
}

VECTOR_WRITER static int put_decimal(void *d, idx_t i, int p, int s, const rhei_value *v)
{
    __int128 x;
    int rc = rhei__duck_to_decimal(v, p, s, &x);
    if (rc)
        return rc;
    if (p <= 4)
        ((int16_t *)d)[i] = (int16_t)x;
    else if (p <= 9)
        ((int32_t *)d)[i] = (int32_t)x;
    else if (p <= 18)
        ((int64_t *)d)[i] = (int64_t)x;
    else {
        duckdb_hugeint *h = &((duckdb_hugeint *)d)[i];
        h->lower = (uint64_t)((unsigned __int128)x);
        h->upper = (int64_t)(x >> 64);
    }
    return 0;
}

/* Stores one non-NULL value into row i of a vector of column c's DuckDB type.
 * 0 ok, -1 a value type the column cannot take, -2 invalid UTF-8, -3 out of range. */
VECTOR_WRITER static int put_value(duckdb_vector vec, void *d, idx_t i,
                                  const rhei__colspec *c, const rhei_value *v)
{
    rhei_type t = v->type;
    int p, s;
    switch (c->type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_TIMESTAMP:
        if (t != RHEI_TYPE_INTEGER && t != c->type && t != RHEI_TYPE_BOOLEAN)
            return -1;
        ((int64_t *)d)[i] = v->i;
        return 0;
    case RHEI_TYPE_REAL:
        if (t != RHEI_TYPE_REAL && t != RHEI_TYPE_INTEGER)
            return -1;
        ((double *)d)[i] = t == RHEI_TYPE_REAL ? v->f : (double)v->i;
        return 0;
    case RHEI_TYPE_BOOLEAN:
        if (t != RHEI_TYPE_BOOLEAN && t != RHEI_TYPE_INTEGER)
            return -1;
        ((bool *)d)[i] = v->i != 0;
        return 0;
    case RHEI_TYPE_DATE:
        if (t != RHEI_TYPE_DATE && t != RHEI_TYPE_INTEGER)
            return -1;
        if (v->i < INT32_MIN || v->i > INT32_MAX)
            return -3;
        ((int32_t *)d)[i] = (int32_t)v->i;
        return 0;
    case RHEI_TYPE_DECIMAL:
        rhei__duck_dec_ps(c, &p, &s);
        return put_decimal(d, i, p, s, v);
    case RHEI_TYPE_TEXT:
        if (t != RHEI_TYPE_TEXT && t != RHEI_TYPE_BLOB)
            return -1;
        if (!rhei__utf8_valid(v->s, v->n))
            return -2; /* DuckDB's contract: VARCHAR vectors hold valid UTF-8 only */
        duckdb_vector_assign_string_element_len(vec, i, v->s, v->n);
        return 0;
    default: /* BLOB */
        if (t != RHEI_TYPE_TEXT && t != RHEI_TYPE_BLOB)
            return -1;
        duckdb_vector_assign_string_element_len(vec, i, v->s ? v->s : "", v->n);
        return 0;
    }
}

static int bad_value(rhei__err *e, const rhei__colspec *c, const rhei_value *v, int why)
{
    if (why == -1)
        return rhei__err_set(e, RHEI_TYPE, "cannot store a %s value in column '%s' (%s)",
                             rhei_type_name(v->type), c->name, rhei_type_name(c->type));
    return rhei__err_set(e, RHEI_TYPE, "%s for column '%s' (%s)",
                         why == -2 ? "invalid UTF-8 in a value" : "value out of range",
                         c->name, rhei_type_name(c->type));
}

VECTOR_WRITER static void set_null(duckdb_vector vec, uint64_t **valid, idx_t i)
{
    if (!*valid) {
        duckdb_vector_ensure_validity_writable(vec);
        *valid = duckdb_vector_get_validity(vec);
    }
    (*valid)[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* Fills a vector with table column j of the appended rows [r0, r0+n). */
VECTOR_WRITER static int fill_col(duckdb_vector vec, const rhei__duck_rows *a, size_t j,
                                 size_t r0, size_t n, rhei__err *e)
{
    const rhei__table *t = a->b->table;
    const rhei__colspec *c = &t->cols[j];
    void *d = duckdb_vector_get_data(vec);
    uint64_t *valid = NULL;
    for (idx_t i = 0; i < n; i++) {
        size_t row = a->sel ? a->sel[r0 + i] : r0 + i;
        const rhei_value *v = &a->b->vals[row * t->ncols + j];
        if (v->type == RHEI_TYPE_NULL) {
            set_null(vec, &valid, i);
            continue;
        }
        int why = put_value(vec, d, i, c, v);
        if (why)
            return bad_value(e, c, v, why);
    }
    return RHEI_OK;
}

VECTOR_WRITER static void fill_x(duckdb_vector vec, const rhei__duck_xcol *x, size_t r0,
                                 size_t n)
{
    int64_t *d = duckdb_vector_get_data(vec);
    uint64_t *valid = NULL;
    if (!x->v && x->k == RHEI__DUCK_XNULL) { /* all NULL: current versions' valid_to */
        duckdb_vector_ensure_validity_writable(vec);
        memset(duckdb_vector_get_validity(vec), 0, (n + 63) / 64 * sizeof(uint64_t));
        return;
    }
    for (idx_t i = 0; i < n; i++) {
        d[i] = x->v ? x->v[r0 + i] : x->k;
        if (d[i] == RHEI__DUCK_XNULL)
            set_null(vec, &valid, i);
    }
}

/* ---- the table function ----------------------------------------------------------------- */

static duckdb_logical_type logical_type(const rhei__colspec *c)
{
    int p, s;
    switch (c->type) {
    case RHEI_TYPE_INTEGER: return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    case RHEI_TYPE_REAL: return duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
    case RHEI_TYPE_TEXT: return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    case RHEI_TYPE_BOOLEAN: return duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    case RHEI_TYPE_DATE: return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
    case RHEI_TYPE_TIMESTAMP: return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP);
    case RHEI_TYPE_DECIMAL:
        rhei__duck_dec_ps(c, &p, &s);
        return duckdb_create_decimal_type((uint8_t)p, (uint8_t)s);
    default: return duckdb_create_logical_type(DUCKDB_TYPE_BLOB);
    }
}

/* Only the write connection's thread, while it runs a feed statement, may bind the function:
 * a user query naming it gets an error instead of another thread's rows. feed_mu orders the
 * writer's setting up of the rows before the reads of whichever DuckDB thread runs the
 * scan, and those reads before the writer reuses the memory (DuckDB's own synchronisation
 * does too, but it is invisible to ThreadSanitizer). */
static const rhei__duck_rows *feed_of(rhei__olap *o)
{
    pthread_mutex_lock(&o->feed_mu);
    const rhei__duck_rows *a = o->feed;
    int mine = a && pthread_equal(o->feed_thread, pthread_self());
    pthread_mutex_unlock(&o->feed_mu);
    return mine ? a : NULL;
}

static void set_feed(rhei__olap *o, const rhei__duck_rows *a)
{
    pthread_mutex_lock(&o->feed_mu);
    o->feed = a;
    o->feed_thread = pthread_self();
    o->feed_err.code = RHEI_OK;
    pthread_mutex_unlock(&o->feed_mu);
}

static void feed_bind(duckdb_bind_info info)
{
    rhei__olap *o = duckdb_bind_get_extra_info(info);
    const rhei__duck_rows *a = feed_of(o);
    if (!a) {
        duckdb_bind_set_error(info, "_rhei_feed() is internal to rhei");
        return;
    }
    const rhei__table *t = a->b->table;
    for (size_t k = 0; k < a->ncols; k++) {
        const rhei__colspec *c = &t->cols[a->cols ? a->cols[k] : k];
        duckdb_logical_type lt = logical_type(c);
        duckdb_bind_add_result_column(info, c->name, lt);
        duckdb_destroy_logical_type(&lt);
    }
    duckdb_logical_type big = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    for (size_t k = 0; k < a->nx; k++)
        duckdb_bind_add_result_column(info, a->x[k].name, big);
    duckdb_destroy_logical_type(&big);
    /* A plan is made once per statement: estimate "a batch", small next to a table, so
     * joins build their hash table on the fed keys. */
    duckdb_bind_set_cardinality(info, 1000, false);
}

/* The rows fed so far in this execution. */
static void feed_init(duckdb_init_info info)
{
    size_t *pos = duckdb_malloc(sizeof *pos);
    if (!pos) {
        duckdb_init_set_error(info, "out of memory");
        return;
    }
    *pos = 0;
    duckdb_init_set_init_data(info, pos, duckdb_free);
}

static void feed_next(duckdb_function_info info, duckdb_data_chunk out)
{
    rhei__olap *o = duckdb_function_get_extra_info(info);
    pthread_mutex_lock(&o->feed_mu);
    const rhei__duck_rows *a = o->feed;
    size_t *pos = duckdb_function_get_init_data(info);
    if (!a) { /* only bound inside rhei__duck_feed_run, so never: but never a crash either */
        pthread_mutex_unlock(&o->feed_mu);
        duckdb_function_set_error(info, "_rhei_feed() is internal to rhei");
        return;
    }
    size_t n = a->n - *pos, cap = duckdb_vector_size();
    if (n > cap)
        n = cap;
    int rc = RHEI_OK;
    for (size_t k = 0; k < a->ncols && rc == RHEI_OK; k++)
        rc = fill_col(duckdb_data_chunk_get_vector(out, k), a, a->cols ? a->cols[k] : k, *pos, n,
                      &o->feed_err);
    for (size_t k = 0; k < a->nx && rc == RHEI_OK; k++)
        fill_x(duckdb_data_chunk_get_vector(out, a->ncols + k), &a->x[k], *pos, n);
    if (rc) {
        duckdb_function_set_error(info, o->feed_err.msg);
    } else {
        *pos += n;
        duckdb_data_chunk_set_size(out, n);
    }
    pthread_mutex_unlock(&o->feed_mu);
}

int rhei__duck_feed_register(rhei__olap *o, rhei__err *e)
{
    duckdb_table_function f = duckdb_create_table_function();
    if (!f)
        return rhei__err_nomem(e);
    duckdb_table_function_set_name(f, "_rhei_feed");
    duckdb_table_function_set_extra_info(f, o, NULL);
    duckdb_table_function_set_bind(f, feed_bind);
    duckdb_table_function_set_init(f, feed_init);
    duckdb_table_function_set_function(f, feed_next);
    int rc = duckdb_register_table_function(o->w, f) == DuckDBSuccess
                 ? RHEI_OK : rhei__err_set(e, RHEI_OLAP, "duckdb: cannot register _rhei_feed");
    duckdb_destroy_table_function(&f);
    return rc;
}

/* ---- statements ------------------------------------------------------------------------- */

/* Matches target rows (_t) to fed keys (_k). */
static void put_match(rhei__buf *b, const rhei__table *t, int nulls)
{
    for (size_t k = 0; k < t->npk; k++) {
        const char *name = t->cols[t->pk_idx[k]].name;
        rhei__buf_puts(b, k ? " AND _t." : "_t.");
        rhei__buf_ident(b, name);
        /* = lets DuckDB prune; NULL key parts (SQLite allows them) need the NULL-safe form */
        rhei__buf_puts(b, nulls ? " IS NOT DISTINCT FROM _k." : " = _k.");
        rhei__buf_ident(b, name);
    }
}

static void statement_text(rhei__buf *q, const rhei__table *t, int history, int kind,
                           const rhei__duck_rows *a)
{
    int nulls = kind == RHEI__FEED_DELETE_NULLS || kind == RHEI__FEED_CLOSE_NULLS;
    rhei__buf_reset(q);
    switch (kind) {
    case RHEI__FEED_INSERT:
        rhei__buf_puts(q, "INSERT INTO ");
        rhei__duck_put_target(q, t->name, history);
        rhei__buf_puts(q, " (");
        for (size_t k = 0; k < a->ncols + a->nx; k++) {
            rhei__buf_puts(q, k ? ", " : "");
            rhei__buf_ident(q, k < a->ncols ? t->cols[a->cols ? a->cols[k] : k].name
                                            : a->x[k - a->ncols].name);
        }
        rhei__buf_puts(q, ") SELECT * FROM _rhei_feed()");
        break;
    case RHEI__FEED_DELETE:
    case RHEI__FEED_DELETE_NULLS:
        rhei__buf_puts(q, "DELETE FROM ");
        rhei__duck_put_target(q, t->name, 0);
        if (t->npk == 1 && !nulls) { /* the semi-join form is the fastest */
            rhei__buf_puts(q, " WHERE ");
            rhei__buf_ident(q, t->cols[t->pk_idx[0]].name);
            rhei__buf_puts(q, " IN (SELECT ");
            rhei__buf_ident(q, t->cols[t->pk_idx[0]].name);
            rhei__buf_puts(q, " FROM _rhei_feed())");
        } else {
            rhei__buf_puts(q, " AS _t USING _rhei_feed() AS _k WHERE ");
            put_match(q, t, nulls);
        }
        break;
    default:
        /* Closes the open versions of the fed keys at each key's first event. Not "IS NULL":
         * DuckDB folds that with the column statistics of the moment the statement is
         * prepared (no NULL yet: never true again). The NULL comes from the feed instead,
         * as a join key: no statistics to fold, and cheaper than a NULL parameter. */
        rhei__buf_puts(q, "UPDATE ");
        rhei__duck_put_target(q, t->name, 1);
        rhei__buf_puts(q, " AS _t SET _rhei_valid_to = _k._rhei_first FROM _rhei_feed() AS _k "
                          "WHERE _t._rhei_valid_to IS NOT DISTINCT FROM _k._rhei_open AND ");
        put_match(q, t, nulls);
        break;
    }
}

/* The cached statement, prepared (with o->feed set, so the function binds) on first use. */
static int statement(rhei__olap *o, const rhei__table *t, int history, int kind,
                     const rhei__duck_rows *a, duckdb_prepared_statement *out, rhei__err *e)
{
    for (size_t i = 0; i < o->nstmts; i++) {
        rhei__duck_stmt *s = &o->stmts[i];
        if (s->tid == t->tid && s->history == history && s->kind == kind &&
            strcmp(s->table, t->name) == 0) {
            *out = s->ps;
            return RHEI_OK;
        }
    }
    if (rhei__grow((void **)&o->stmts, &o->stmtcap, o->nstmts + 1, sizeof *o->stmts))
        return rhei__err_nomem(e);
    statement_text(&o->sql, t, history, kind, a);
    int rc = rhei__buf_check(&o->sql, e);
    if (rc)
        return rc;
    rhei__duck_stmt s = {rhei__strdup(t->name), t->tid, history, kind, NULL};
    if (!s.table)
        return rhei__err_nomem(e);
    if (duckdb_prepare(o->w, rhei__buf_str(&o->sql), &s.ps) == DuckDBError) {
        rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, duckdb_prepare_error(s.ps));
        duckdb_destroy_prepare(&s.ps);
        rhei__free(s.table);
        return rc;
    }
    o->stmts[o->nstmts++] = s;
    *out = s.ps;
    return RHEI_OK;
}

void rhei__duck_feed_forget(rhei__olap *o)
{
    for (size_t i = 0; i < o->nstmts; i++) {
        duckdb_destroy_prepare(&o->stmts[i].ps);
        rhei__free(o->stmts[i].table);
    }
    o->nstmts = 0;
}

/* With no rows (a->n == 0) the statement is only prepared: see rhei__duck_apply. */
int rhei__duck_feed_run(rhei__olap *o, const rhei__table *t, int history, int kind,
                        const rhei__duck_rows *a, rhei__err *e)
{
    duckdb_prepared_statement ps = NULL;
    set_feed(o, a);
    int rc = statement(o, t, history, kind, a, &ps, e);
    if (rc == RHEI_OK && a->n > 0) {
        duckdb_result res;
        int failed = duckdb_execute_prepared(ps, &res) == DuckDBError;
        pthread_mutex_lock(&o->feed_mu); /* the scan's reads and feed_err happened before */
        if (failed && o->feed_err.code) /* our own message, with its code (RHEI_TYPE) */
            *e = o->feed_err, rc = e->code;
        pthread_mutex_unlock(&o->feed_mu);
        if (failed && rc == RHEI_OK)
            rc = rhei__duck_result_err(e, 0, &res);
        duckdb_destroy_result(&res);
    }
    set_feed(o, NULL);
    return rc;
}
