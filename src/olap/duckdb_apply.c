/* duckdb_apply.c — change batches into DuckDB: a vector-at-a-time appender for insert-only
 * batches and bulk loads, and for mixed batches a TEMP staging table plus set-based SQL
 * (mirror: delete touched keys, insert last images; history: close and open versions). */
#include "duckdb_int.h"
#include "mem.h"
#include "value.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layouts of appended chunks: user columns, then the extra columns named here. */
enum { LAY_PLAIN, LAY_HISTORY /* + valid_from, valid_to */, LAY_STAGE /* + ts, seq, op */ };

#define OP_REOPEN 0 /* staging rows that carry a closed-then-reopened history version */

/* ---- appending batches -------------------------------------------------------------------- */

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3
                   : (s[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        uint32_t cp = s[i] & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values past U+10FFFF are invalid */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}

static __int128 pow10_i128(int k)
{
    __int128 v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* A value of a DECIMAL(p,s) column as its scaled integer. -1 wrong type, -3 out of range. */
static int to_decimal(const rhei_value *v, int p, int s, __int128 *out)
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

static int put_decimal(void *d, idx_t i, int p, int s, const rhei_value *v)
{
    __int128 x;
    int rc = to_decimal(v, p, s, &x);
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
static inline int put_value(duckdb_vector vec, void *d, idx_t i, const rhei__colspec *c,
                            const rhei_value *v)
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
        if (!utf8_valid((const unsigned char *)v->s, v->n))
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
    static const char *const reason[] = {"", "not a value of its type", "invalid UTF-8",
                                         "out of range"};
    return rhei__err_set(e, RHEI_TYPE, "column '%s' (%s): %s value %s", c->name,
                         rhei_type_name(c->type), rhei_type_name(v->type), reason[-why]);
}

static void set_null(duckdb_vector vec, uint64_t **valid, idx_t i)
{
    if (!*valid) {
        duckdb_vector_ensure_validity_writable(vec);
        *valid = duckdb_vector_get_validity(vec);
    }
    (*valid)[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* Fills chunk column j with rows [r0, r0+n) of the batch. */
static int fill_col(duckdb_data_chunk ch, const rhei__batch *b, size_t j, size_t r0, size_t n,
                    rhei__err *e)
{
    const size_t w = b->table->ncols;
    const rhei__colspec *c = &b->table->cols[j];
    duckdb_vector vec = duckdb_data_chunk_get_vector(ch, j);
    void *d = duckdb_vector_get_data(vec);
    uint64_t *valid = NULL;
    const rhei_value *v = b->vals + r0 * w + j;
    for (idx_t i = 0; i < n; i++, v += w) {
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

/* Fills the extra columns after the user ones (see LAY_*). */
static void fill_extra(duckdb_data_chunk ch, const rhei__batch *b, int layout,
                       const int64_t *ts_fixed, size_t r0, size_t n)
{
    const size_t w = b->table->ncols;
    int64_t *ts = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, w));
    for (size_t i = 0; i < n; i++)
        ts[i] = ts_fixed ? *ts_fixed : b->ts[r0 + i];
    duckdb_vector v1 = duckdb_data_chunk_get_vector(ch, w + 1);
    if (layout == LAY_HISTORY) { /* valid_to: NULL, the version is current */
        duckdb_vector_ensure_validity_writable(v1);
        memset(duckdb_vector_get_validity(v1), 0, (n + 63) / 64 * sizeof(uint64_t));
        return;
    }
    memcpy(duckdb_vector_get_data(v1), b->seq + r0, n * sizeof(int64_t));
    uint8_t *op = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, w + 2));
    memcpy(op, b->op + r0, n);
}

static int appender_err(duckdb_appender app, rhei__err *e)
{
    duckdb_error_data ed = duckdb_appender_error_data(app);
    int rc = rhei__duck_err(e, 0, duckdb_error_data_error_type(ed), duckdb_error_data_message(ed));
    duckdb_destroy_error_data(&ed);
    return rc;
}

static int make_chunk(duckdb_appender app, duckdb_data_chunk *out, rhei__err *e)
{
    idx_t n = duckdb_appender_column_count(app);
    duckdb_logical_type *types = rhei__calloc(n, sizeof *types);
    if (!types)
        return rhei__err_nomem(e);
    for (idx_t i = 0; i < n; i++)
        types[i] = duckdb_appender_column_type(app, i);
    *out = duckdb_create_data_chunk(types, n);
    for (idx_t i = 0; i < n; i++)
        duckdb_destroy_logical_type(&types[i]);
    rhei__free(types);
    return *out ? RHEI_OK : rhei__err_nomem(e);
}

/* Names the appended columns of a target table, so its physical column order (ADD COLUMN
 * puts new columns after the history columns) does not matter. */
static int name_columns(duckdb_appender app, const rhei__table *t, int layout, rhei__err *e)
{
    for (size_t j = 0; j < t->ncols; j++)
        if (duckdb_appender_add_column(app, t->cols[j].name) != DuckDBSuccess)
            return appender_err(app, e);
    if (layout == LAY_HISTORY && (duckdb_appender_add_column(app, "_rhei_valid_from") ||
                                  duckdb_appender_add_column(app, "_rhei_valid_to")))
        return appender_err(app, e);
    return RHEI_OK;
}

/* Appends every row of b to table (catalog "temp": a staging table, whose columns are in
 * layout order by construction) in the given layout, one vector-sized chunk at a time.
 * ts_fixed (may be NULL) overrides the events' ts. */
static int append_rows(rhei__olap *o, const char *catalog, const char *table,
                       const rhei__batch *b, int layout, const int64_t *ts_fixed, rhei__err *e)
{
    duckdb_appender app = NULL;
    duckdb_data_chunk ch = NULL;
    size_t want = b->table->ncols + (layout == LAY_PLAIN ? 0 : layout == LAY_HISTORY ? 2 : 3);
    int rc = RHEI_OK;
    if (duckdb_appender_create_ext(o->w, catalog, NULL, table, &app) != DuckDBSuccess) {
        rc = appender_err(app, e);
        goto done;
    }
    if (layout != LAY_STAGE && (rc = name_columns(app, b->table, layout, e)))
        goto done;
    if (duckdb_appender_column_count(app) != want) {
        rc = rhei__err_set(e, RHEI_CORRUPT, "olap table '%s' has %llu columns, expected %zu",
                           table, (unsigned long long)duckdb_appender_column_count(app), want);
        goto done;
    }
    if ((rc = make_chunk(app, &ch, e)))
        goto done;
    const size_t cap = duckdb_vector_size();
    for (size_t r0 = 0; r0 < b->nrows && rc == RHEI_OK; r0 += cap) {
        size_t n = b->nrows - r0 < cap ? b->nrows - r0 : cap;
        duckdb_data_chunk_reset(ch);
        for (size_t j = 0; j < b->table->ncols && rc == RHEI_OK; j++)
            rc = fill_col(ch, b, j, r0, n, e);
        if (rc)
            break;
        if (layout != LAY_PLAIN)
            fill_extra(ch, b, layout, ts_fixed, r0, n);
        duckdb_data_chunk_set_size(ch, n);
        if (duckdb_append_data_chunk(app, ch) != DuckDBSuccess)
            rc = appender_err(app, e);
    }
    if (rc == RHEI_OK && duckdb_appender_close(app) != DuckDBSuccess)
        rc = appender_err(app, e);
done:
    if (ch)
        duckdb_destroy_data_chunk(&ch);
    duckdb_appender_destroy(&app);
    return rc;
}

static int append_target(rhei__olap *o, const rhei__batch *b, int history,
                         const int64_t *ts_fixed, rhei__err *e)
{
    char *name = rhei__duck_target_dup(b->table->name, history);
    if (!name)
        return rhei__err_nomem(e);
    int rc = append_rows(o, NULL, name, b, history ? LAY_HISTORY : LAY_PLAIN, ts_fixed, e);
    rhei__free(name);
    return rc;
}

/* ---- apply ------------------------------------------------------------------------------- */

/* The staging table for t's version, created on first use in this connection. */
static int get_stage(rhei__olap *o, const rhei__table *t, int *out_id, rhei__err *e)
{
    for (size_t i = 0; i < o->nstages; i++) {
        if (o->stages[i].tid == t->tid && strcmp(o->stages[i].table, t->name) == 0) {
            *out_id = o->stages[i].id;
            return RHEI_OK;
        }
    }
    if (rhei__grow((void **)&o->stages, &o->stagecap, o->nstages + 1, sizeof *o->stages))
        return rhei__err_nomem(e);
    rhei__duck_stage *s = &o->stages[o->nstages];
    if (!(s->table = rhei__strdup(t->name)))
        return rhei__err_nomem(e);
    s->tid = t->tid;
    s->id = ++o->next_stage;
    s->pending = 1;
    o->nstages++; /* counted before the CREATE so a rollback forgets it either way */
    rhei__buf_reset(&o->sql);
    rhei__buf_printf(&o->sql, "CREATE TEMP TABLE _rhei_stage_%d (", s->id);
    rhei__duck_put_coldefs(&o->sql, t, 0);
    rhei__buf_puts(&o->sql, ", _rhei_ts BIGINT, _rhei_seq BIGINT, _rhei_op UTINYINT)");
    *out_id = s->id;
    return rhei__duck_exec_buf(o, e);
}

/* mirror: delete every touched key, insert each key's last event unless it is a DELETE. */
static int apply_mirror(rhei__olap *o, const rhei__table *t, const char *stg,
                        rhei__apply_stats *st, rhei__err *e)
{
    int64_t n[3];
    rhei__buf_reset(&o->sql);
    rhei__buf_printf(&o->sql, "SELECT count(*) FILTER (WHERE l = %d), count(*) FILTER (WHERE "
                     "l <> %d AND f = %d), count(*) FILTER (WHERE l <> %d AND f <> %d) FROM "
                     "(SELECT arg_min(_rhei_op, _rhei_seq) AS f, arg_max(_rhei_op, _rhei_seq) "
                     "AS l FROM %s GROUP BY ", RHEI__OP_DELETE, RHEI__OP_DELETE,
                     RHEI__OP_INSERT, RHEI__OP_DELETE, RHEI__OP_INSERT, stg);
    rhei__duck_put_cols(&o->sql, t, NULL, 1);
    rhei__buf_puts(&o->sql, ")");
    int rc = rhei__buf_check(&o->sql, e);
    if (rc || (rc = rhei__duck_query_row(o, rhei__buf_str(&o->sql), n, 3, e)))
        return rc;
    st->deleted = n[0];
    st->inserted = n[1];
    st->updated = n[2];
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "DELETE FROM ");
    rhei__duck_put_target(&o->sql, t->name, 0);
    rhei__buf_puts(&o->sql, " AS _t USING (SELECT DISTINCT ");
    rhei__duck_put_cols(&o->sql, t, NULL, 1);
    rhei__buf_printf(&o->sql, " FROM %s) AS _k WHERE ", stg);
    rhei__duck_put_keymatch(&o->sql, t, "_t", "_k");
    rhei__buf_puts(&o->sql, "; INSERT INTO ");
    rhei__duck_put_target(&o->sql, t->name, 0);
    rhei__buf_puts(&o->sql, " (");
    rhei__duck_put_cols(&o->sql, t, NULL, 0);
    rhei__buf_puts(&o->sql, ") SELECT ");
    rhei__duck_put_cols(&o->sql, t, NULL, 0);
    rhei__buf_printf(&o->sql, " FROM %s QUALIFY row_number() OVER (PARTITION BY ", stg);
    rhei__duck_put_cols(&o->sql, t, NULL, 1);
    rhei__buf_printf(&o->sql, " ORDER BY _rhei_seq DESC) = 1 AND _rhei_op <> %d",
                     RHEI__OP_DELETE);
    return rhei__duck_exec_buf(o, e);
}

/* SELECT DISTINCT <keys> FROM <stg> AS _k */
static void put_keys_of(rhei__buf *b, const rhei__table *t, const char *stg)
{
    rhei__buf_puts(b, "(SELECT DISTINCT ");
    rhei__duck_put_cols(b, t, NULL, 1);
    rhei__buf_printf(b, " FROM %s) AS _k", stg);
}

/* history: the open versions of touched keys move into the staging table as events before
 * the batch (seq INT64_MIN, ts = their valid_from) and out of the table; then every staged
 * non-DELETE row becomes a version [ts, next ts of its key). So a closed version is
 * re-inserted with valid_to = the key's first event. (DELETE ... RETURNING would save a scan,
 * but DuckDB 1.4 returns nothing for rows inserted earlier in the same transaction.) */
static int apply_history(rhei__olap *o, const rhei__table *t, const char *stg, rhei__err *e)
{
    rhei__buf *b = &o->sql;
    rhei__buf_reset(b);
    rhei__buf_printf(b, "INSERT INTO %s SELECT ", stg);
    rhei__duck_put_cols(b, t, "_t", 0);
    rhei__buf_printf(b, ", _t._rhei_valid_from, CAST(%lld AS BIGINT), %d FROM ",
                     (long long)INT64_MIN, OP_REOPEN);
    rhei__duck_put_target(b, t->name, 1);
    rhei__buf_puts(b, " AS _t JOIN ");
    put_keys_of(b, t, stg);
    rhei__buf_puts(b, " ON ");
    rhei__duck_put_keymatch(b, t, "_t", "_k");
    rhei__buf_puts(b, " WHERE _t._rhei_valid_to IS NULL;\nDELETE FROM ");
    rhei__duck_put_target(b, t->name, 1);
    rhei__buf_puts(b, " AS _t USING ");
    put_keys_of(b, t, stg);
    rhei__buf_puts(b, " WHERE _t._rhei_valid_to IS NULL AND ");
    rhei__duck_put_keymatch(b, t, "_t", "_k");
    rhei__buf_puts(b, ";\nINSERT INTO ");
    rhei__duck_put_target(b, t->name, 1);
    rhei__buf_puts(b, " (");
    rhei__duck_put_cols(b, t, NULL, 0);
    rhei__buf_puts(b, ", _rhei_valid_from, _rhei_valid_to) SELECT ");
    rhei__duck_put_cols(b, t, NULL, 0);
    rhei__buf_puts(b, ", _rhei_ts, lead(_rhei_ts) OVER (PARTITION BY ");
    rhei__duck_put_cols(b, t, NULL, 1);
    rhei__buf_printf(b, " ORDER BY _rhei_seq) FROM %s QUALIFY _rhei_op <> %d", stg,
                     RHEI__OP_DELETE);
    return rhei__duck_exec_buf(o, e);
}

/* Alternative measured against apply_history: close open versions in place. */
static int apply_history_update(rhei__olap *o, const rhei__table *t, const char *stg,
                                rhei__err *e)
{
    rhei__buf *b = &o->sql;
    rhei__buf_reset(b);
    rhei__buf_puts(b, "UPDATE ");
    rhei__duck_put_target(b, t->name, 1);
    rhei__buf_puts(b, " AS _t SET _rhei_valid_to = _k._f FROM (SELECT ");
    rhei__duck_put_cols(b, t, NULL, 1);
    rhei__buf_printf(b, ", min(_rhei_ts) AS _f FROM %s GROUP BY ALL) AS _k WHERE "
                     "_t._rhei_valid_to IS NULL AND ", stg);
    rhei__duck_put_keymatch(b, t, "_t", "_k");
    rhei__buf_puts(b, ";\nINSERT INTO ");
    rhei__duck_put_target(b, t->name, 1);
    rhei__buf_puts(b, " (");
    rhei__duck_put_cols(b, t, NULL, 0);
    rhei__buf_puts(b, ", _rhei_valid_from, _rhei_valid_to) SELECT ");
    rhei__duck_put_cols(b, t, NULL, 0);
    rhei__buf_puts(b, ", _rhei_ts, lead(_rhei_ts) OVER (PARTITION BY ");
    rhei__duck_put_cols(b, t, NULL, 1);
    rhei__buf_printf(b, " ORDER BY _rhei_seq) FROM %s QUALIFY _rhei_op <> %d", stg,
                     RHEI__OP_DELETE);
    return rhei__duck_exec_buf(o, e);
}

static int apply_staged(rhei__olap *o, const rhei__batch *b, int history,
                        rhei__apply_stats *st, rhei__err *e)
{
    const rhei__table *t = b->table;
    char stg[48];
    int sid = 0;
    if (t->npk == 0)
        return rhei__err_set(e, RHEI_MISUSE, "table '%s' has no primary key", t->name);
    int rc = get_stage(o, t, &sid, e);
    if (rc)
        return rc;
    snprintf(stg, sizeof stg, "_rhei_stage_%d", sid);
    if ((rc = append_rows(o, "temp", stg, b, LAY_STAGE, NULL, e)))
        return rc;
    snprintf(stg, sizeof stg, "temp.main._rhei_stage_%d", sid);
    if (history) {
        rc = getenv("RHEI_HIST_UPDATE") ? apply_history_update(o, t, stg, e)
                                        : apply_history(o, t, stg, e);
        st->inserted = (int64_t)b->ninserts;
        st->updated = (int64_t)b->nupdates;
        st->deleted = (int64_t)b->ndeletes;
    } else {
        rc = apply_mirror(o, t, stg, st, e);
    }
    if (rc == RHEI_OK)
        rc = rhei__duck_touch(o, t->name, history, e);
    if (rc == RHEI_OK) {
        snprintf(stg, sizeof stg, "DELETE FROM temp.main._rhei_stage_%d", sid);
        rc = rhei__duck_exec(o, stg, e);
    }
    return rc;
}

int rhei__duck_apply(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                     rhei__err *e)
{
    rhei__apply_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    int rc = rhei__duck_need_txn(o, e);
    if (rc || b->nrows == 0)
        return rc;
    o->wrote = 1;
    if (b->nupdates == 0 && b->ndeletes == 0) {
        /* Each key appears once (an INSERT means the key was absent): append directly. */
        rc = append_target(o, b, history, NULL, e);
        if (rc == RHEI_OK)
            st->inserted = (int64_t)b->nrows;
        return rc;
    }
    return apply_staged(o, b, history, st, e);
}

int rhei__duck_load(rhei__olap *o, const rhei__batch *b, int history, int64_t ts_us,
                    rhei__err *e)
{
    int rc = rhei__duck_need_txn(o, e);
    if (rc || b->nrows == 0)
        return rc;
    o->wrote = 1;
    return append_target(o, b, history, history ? &ts_us : NULL, e);
}

