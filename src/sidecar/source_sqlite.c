/* source_sqlite.c — a SQLite file as a sidecar source. Opened read-only (and query_only), so
 * the file is never changed; each poll is one statement, hence one consistent snapshot.
 * Values are converted exactly as the change capture converts them (rhei__oltp_decode), so a
 * table reads the same whether it is captured locally or followed as a sidecar; statements
 * are cached by an oltp connection wrapped around the source's handle. */
#include "source.h"
#include "buf.h"
#include "mem.h"
#include "oltp.h"
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

struct rhei__src {
    char *path;
    char display[512];
    sqlite3 *db;       /* the handle of conn (or being opened), for SQLite's messages */
    rhei__conn *conn;  /* owns db and its statement cache */
    rhei__buf scratch; /* max_ts text, statement text */
};

static void drop_connection(rhei__src *s)
{
    if (s->conn)
        rhei__conn_free(s->conn); /* finalizes the cached statements, closes db */
    else if (s->db)
        sqlite3_close_v2(s->db);
    s->conn = NULL;
    s->db = NULL;
}

static int unreachable(rhei__src *s, const char *why, rhei__err *e)
{
    rhei__err_set(e, RHEI_SOURCE, "cannot reach source '%s': %s", s->display, why);
    drop_connection(s);
    return RHEI_SOURCE;
}

/* Maps a SQLite failure: a missing table/column is RHEI_NOTFOUND (the caller names it);
 * anything else may mean the file went away, so the connection is reopened next time. */
static int sql_error(rhei__src *s, const char *what, rhei__err *e)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : "no connection";
    int code = s->db ? sqlite3_errcode(s->db) : SQLITE_CANTOPEN;
    if (code == SQLITE_ERROR && (strncmp(msg, "no such column", 14) == 0 ||
                                 strncmp(msg, "no such table", 13) == 0))
        return rhei__err_set(e, RHEI_NOTFOUND, "%s: sqlite: %s", what, msg);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_ERROR)
        return rhei__err_set(e, RHEI_SOURCE, "%s: sqlite: %s", what, msg);
    char why[512];
    snprintf(why, sizeof why, "sqlite: %s", msg);
    return unreachable(s, why, e);
}

static int connect_db(rhei__src *s, rhei__err *e)
{
    if (s->db)
        return RHEI_OK;
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        char why[512];
        snprintf(why, sizeof why, "sqlite: %s", s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return unreachable(s, why, e);
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* "col" must name a column: as a string literal a dropped column would read as text */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    /* Reading the schema proves it is a database (open alone does not touch the file). */
    rc = sqlite3_exec(s->db, "PRAGMA query_only = 1; SELECT count(*) FROM sqlite_master",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        char why[512];
        snprintf(why, sizeof why, "sqlite: %s", sqlite3_errmsg(s->db));
        return unreachable(s, why, e);
    }
    if (!(s->conn = rhei__conn_wrap(s->db))) {
        drop_connection(s);
        return rhei__err_nomem(e);
    }
    return RHEI_OK;
}

/* A prepared statement for sql from the connection's cache (owned by it: never finalize). */
static int prepare(rhei__src *s, const char *sql, sqlite3_stmt **out, rhei__err *e)
{
    rhei__err why;
    int rc = connect_db(s, e);
    if (rc)
        return rc;
    rc = rhei__conn_prepare(s->conn, sql, out, &why);
    if (rc == RHEI_NOMEM)
        return rhei__err_nomem(e);
    return rc ? sql_error(s, "cannot prepare a source query", e) : RHEI_OK;
}

static void release(sqlite3_stmt *st)
{
    sqlite3_reset(st); /* ends the statement's read transaction */
    sqlite3_clear_bindings(st);
}

static int src_open(const char *where, rhei__src **out, rhei__err *e)
{
    *out = NULL;
    rhei__src *s = rhei__calloc(1, sizeof *s);
    if (!s || !(s->path = rhei__strdup(where))) {
        rhei__free(s);
        return rhei__err_nomem(e);
    }
    snprintf(s->display, sizeof s->display, "sqlite:%s", where);
    *out = s;
    return RHEI_OK;
}

static void src_close(rhei__src *s)
{
    if (!s)
        return;
    drop_connection(s);
    rhei__buf_free(&s->scratch);
    rhei__free(s->path);
    rhei__free(s);
}

static const char *src_display(rhei__src *s) { return s->display; }

static int src_now_us(rhei__src *s, int64_t *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    /* SQLite's clock is this machine's; 3.40 has no sub-second unixepoch(), julianday does ms */
    int rc = prepare(s, "SELECT CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS "
                        "INTEGER)", &st, e);
    if (rc)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0) * 1000;
    else
        rc = sql_error(s, "cannot read the source clock", e);
    release(st);
    return rc;
}

static int add_col(rhei__src_cols *c, const char *name, const char *decl, int pk, rhei__err *e)
{
    rhei__src_col *v = rhei__realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v)
        return rhei__err_nomem(e);
    c->v = v;
    rhei__src_col *col = &v[c->n];
    memset(col, 0, sizeof *col);
    col->name = rhei__strdup(name);
    col->decl = rhei__strdup(decl ? decl : "");
    c->n++;
    if (!col->name || !col->decl)
        return rhei__err_nomem(e);
    rhei__type_from_decl(col->decl, &col->type, &col->precision, &col->scale);
    col->pk = pk;
    return RHEI_OK;
}

static int src_describe(rhei__src *s, const char *table, rhei__src_cols *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    int rc = prepare(s, "SELECT name, type, pk FROM pragma_table_info(?1)", &st, e);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int src;
    while (rc == RHEI_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = add_col(out, (const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2), e);
    if (rc == RHEI_OK && src != SQLITE_DONE)
        rc = sql_error(s, "cannot read the source catalog", e);
    release(st);
    if (rc == RHEI_OK && out->n == 0)
        rc = rhei__err_set(e, RHEI_NOTFOUND, "table '%s' does not exist at source '%s'", table,
                           s->display);
    if (rc)
        rhei__src_cols_free(out);
    return rc;
}


/* SELECT list FROM t WHERE position [AND ts <= ?] [ORDER BY ts, pk] [LIMIT n] */
static void build_select(rhei__buf *b, const rhei__src_query *q)
{
    rhei__buf_reset(b);
    rhei__buf_puts(b, "SELECT ");
    for (size_t i = 0; i < q->cols->ncols; i++) {
        rhei__buf_puts(b, i ? ", " : "");
        if (i == q->ts_index)
            rhei__src_put_ts(b, q);
        else
            rhei__src_put_col(b, q->cols->cols[i].name);
    }
    rhei__buf_puts(b, " FROM ");
    rhei__buf_ident(b, q->table);
    rhei__buf_puts(b, " AS _rhei_t");
    /* A bound cutoff hides its selectivity: SQLite would walk the ts index and look up
     * every row (5x slower than a scan for a first copy). */
    rhei__buf_puts(b, q->whole ? " NOT INDEXED WHERE " : " WHERE ");
    rhei__src_put_ts(b, q);
    if (q->after == RHEI__AFTER_KEY) {
        rhei__buf_puts(b, " IS NOT NULL AND (");
        rhei__src_put_ts(b, q);
        for (size_t k = 0; k < q->npk; k++) {
            rhei__buf_puts(b, ", ");
            rhei__src_put_col(b, q->pk[k]);
        }
        rhei__buf_puts(b, ") > (?");
        for (size_t k = 0; k < q->npk; k++)
            rhei__buf_puts(b, ", ?");
        rhei__buf_puts(b, ")");
    } else {
        rhei__buf_puts(b, q->after == RHEI__AFTER_TS ? " > ?" : " IS NOT NULL");
    }
    if (q->cutoff) {
        rhei__buf_puts(b, " AND ");
        rhei__src_put_ts(b, q);
        rhei__buf_puts(b, " <= ?");
    }
    if (q->ordered) {
        rhei__buf_puts(b, " ORDER BY ");
        rhei__src_put_ts(b, q);
        for (size_t k = 0; k < q->npk; k++) {
            rhei__buf_puts(b, ", ");
            rhei__src_put_col(b, q->pk[k]);
        }
    }
    if (q->limit > 0)
        rhei__buf_printf(b, " LIMIT %lld", (long long)q->limit);
}

static void bind_native(sqlite3_stmt *st, int i, const rhei_value *v)
{
    switch (v->type) {
    case RHEI_TYPE_NULL: sqlite3_bind_null(st, i); break;
    case RHEI_TYPE_REAL: sqlite3_bind_double(st, i, v->f); break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL: sqlite3_bind_text(st, i, v->s, (int)v->n, SQLITE_STATIC); break;
    case RHEI_TYPE_BLOB: sqlite3_bind_blob(st, i, v->s, (int)v->n, SQLITE_STATIC); break;
    default: sqlite3_bind_int64(st, i, v->i); break;
    }
}

static void bind_query(sqlite3_stmt *st, const rhei__src_query *q)
{
    int i = 1;
    size_t nwm = q->after == RHEI__AFTER_KEY ? 1 + q->npk : q->after == RHEI__AFTER_TS ? 1 : 0;
    for (size_t k = 0; k < nwm; k++)
        bind_native(st, i++, &q->wm[k]);
    if (q->cutoff)
        bind_native(st, i++, q->cutoff);
}

/* A column as SQLite stores it, for binding back later. */
static int read_raw(sqlite3_stmt *st, int i, rhei__batch *b, rhei_value *v)
{
    const void *p;
    int n;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        v->type = RHEI_TYPE_NULL;
        return RHEI_OK;
    case SQLITE_INTEGER:
        v->type = RHEI_TYPE_INTEGER;
        v->i = sqlite3_column_int64(st, i);
        return RHEI_OK;
    case SQLITE_FLOAT:
        v->type = RHEI_TYPE_REAL;
        v->f = sqlite3_column_double(st, i);
        return RHEI_OK;
    case SQLITE_BLOB:
        v->type = RHEI_TYPE_BLOB;
        p = sqlite3_column_blob(st, i);
        break;
    default:
        v->type = RHEI_TYPE_TEXT;
        p = sqlite3_column_text(st, i);
        break;
    }
    n = sqlite3_column_bytes(st, i);
    v->n = (size_t)n;
    v->s = rhei__batch_copy(b, p ? p : "", (size_t)n);
    return v->s ? RHEI_OK : RHEI_NOMEM;
}

static int decode_row(const rhei__src_query *q, sqlite3_stmt *st, rhei__batch *b, rhei__err *e)
{
    const rhei__table *t = q->cols;
    rhei_value *row = rhei__batch_add(b, 0, 0, RHEI__OP_INSERT);
    if (!row)
        return rhei__err_nomem(e);
    for (int pass = 0; pass < 2; pass++) { /* raw columns (the key) first: errors name it */
        for (size_t i = 0; i < t->ncols; i++) {
            int raw = i == q->ts_index || t->cols[i].type == RHEI_TYPE_NULL;
            if (raw != (pass == 0))
                continue;
            int rc = raw ? read_raw(st, (int)i, b, &row[i])
                         : rhei__oltp_decode(st, (int)i, &t->cols[i], b, &row[i]);
            if (rc == RHEI_NOMEM)
                return rhei__err_nomem(e);
            if (rc) {
                char key[256];
                rhei__src_key_text(q, b, b->nrows - 1, key, sizeof key);
                const char *txt = (const char *)sqlite3_column_text(st, (int)i);
                rhei__err_set(e, RHEI_TYPE, "cannot read table '%s' at key (%s): value '%.64s'"
                              " does not fit column '%s' (%s)", q->table, key, txt ? txt : "",
                              t->cols[i].name, rhei_type_name(t->cols[i].type));
                rhei__src_drop_last(b);
                return RHEI_TYPE;
            }
        }
    }
    return RHEI_OK;
}

static int src_select(rhei__src *s, const rhei__src_query *q, rhei__batch *b,
                      rhei__src_chunk_fn fn, void *ud, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    build_select(&s->scratch, q);
    int rc = rhei__buf_check(&s->scratch, e);
    if (rc || (rc = prepare(s, rhei__buf_str(&s->scratch), &st, e)))
        return rc;
    bind_query(st, q);
    rhei__batch_reset(b, q->cols);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if ((rc = decode_row(q, st, b, e)))
            break;
        if (q->chunk && b->nrows >= q->chunk) {
            rc = fn(ud, b, e);
            rhei__batch_reset(b, q->cols);
            if (rc)
                break;
        }
    }
    if (rc == RHEI_OK && src != SQLITE_DONE)
        rc = sql_error(s, "cannot read the source", e);
    if (rc == RHEI_OK && b->nrows) {
        rc = fn(ud, b, e);
        rhei__batch_reset(b, q->cols);
    }
    if (s->db) /* sql_error may have dropped the connection and its statements */
        release(st);
    return rc;
}

static int src_max_ts(rhei__src *s, const rhei__src_query *q, rhei_value *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    rhei__buf sql = RHEI__BUF_INIT;
    rhei__buf_puts(&sql, "SELECT max(");
    rhei__src_put_ts(&sql, q);
    rhei__buf_puts(&sql, ") FROM ");
    rhei__buf_ident(&sql, q->table);
    rhei__buf_puts(&sql, " AS _rhei_t");
    int rc = rhei__buf_check(&sql, e);
    if (rc == RHEI_OK)
        rc = prepare(s, rhei__buf_str(&sql), &st, e);
    rhei__buf_free(&sql);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = sql_error(s, "cannot read the source", e);
    } else {
        int t = sqlite3_column_type(st, 0);
        out->type = t == SQLITE_INTEGER ? RHEI_TYPE_INTEGER : t == SQLITE_FLOAT ? RHEI_TYPE_REAL
                  : t == SQLITE_NULL ? RHEI_TYPE_NULL : RHEI_TYPE_TEXT;
        out->i = sqlite3_column_int64(st, 0);
        out->f = sqlite3_column_double(st, 0);
        if (out->type == RHEI_TYPE_TEXT) {
            rhei__buf_reset(&s->scratch);
            rhei__buf_puts(&s->scratch, (const char *)sqlite3_column_text(st, 0));
            if ((rc = rhei__buf_check(&s->scratch, e)) == RHEI_OK) {
                out->s = rhei__buf_str(&s->scratch);
                out->n = s->scratch.len;
            }
        }
    }
    if (s->db)
        release(st);
    return rc;
}

/* SQLite compares a numeric epoch natively; text timestamps only sort as text, which equals
 * time order only for one layout, so those are filtered by the caller after parsing. */
static int src_cutoff(const rhei__src_col *ts, int64_t unit_us, int64_t cutoff_us,
                      rhei_value *out, char *buf, size_t size)
{
    (void)ts;
    (void)buf;
    (void)size;
    if (unit_us <= 0)
        return 0;
    *out = rhei_int(cutoff_us / unit_us - (cutoff_us % unit_us < 0));
    return 1;
}

const rhei__src_vtab rhei__src_sqlite = {
    .kind = "sqlite",
    .open = src_open,
    .close = src_close,
    .now_us = src_now_us,
    .describe = src_describe,
    .max_ts = src_max_ts,
    .select = src_select,
    .cutoff = src_cutoff,
    .display = src_display,
};
