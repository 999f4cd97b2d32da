/* source_pg.c — PostgreSQL as a sidecar source, over libpq in text format. The session is
 * read-only, in UTC, with ISO dates and hex bytea, so every value has one text form to parse.
 * A lost connection is reported (RHEI_SOURCE) and reopened by the next call. Poll pages are
 * single statements; unbounded reads (full copies, key scans) go through a cursor in one
 * REPEATABLE READ transaction: one snapshot, bounded memory. */
#include "source.h"
#include "buf.h"
#include "mem.h"
#include "value.h"
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS (2 + 32)
#define CONNECT_TIMEOUT_S "10"
#define CURSOR_CHUNK 10000

struct rhei__src {
    char *conninfo;
    char display[512];
    PGconn *conn;
    rhei__buf sql;
    rhei__buf scratch; /* max_ts text, parameter copies */
};

static const char session_sql[] =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET bytea_output = 'hex';"
    " SET extra_float_digits = 3; SET default_transaction_read_only = on";

static void drop_connection(rhei__src *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
}

/* The first line of a libpq message without its severity ("ERROR:  ", "FATAL:  "): the
 * cause; the lines after it are hints for a terminal. */
static void clean_msg(const char *m, char *buf, size_t size)
{
    static const char *const severities[] = {"ERROR:", "FATAL:", "PANIC:"};
    if (!m || !*m)
        m = "unknown error";
    for (size_t i = 0; i < sizeof severities / sizeof *severities; i++)
        if (strncmp(m, severities[i], strlen(severities[i])) == 0)
            for (m += strlen(severities[i]); *m == ' '; m++)
                ;
    rhei__strlcpy(buf, m, size);
    buf[strcspn(buf, "\n")] = '\0';
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
}

static int unreachable(rhei__src *s, rhei__err *e)
{
    char why[512];
    clean_msg(s->conn ? PQerrorMessage(s->conn) : "out of memory", why, sizeof why);
    rhei__err_set(e, RHEI_SOURCE, "cannot reach source '%s': %s", s->display, why);
    drop_connection(s);
    return RHEI_SOURCE;
}

static int connect_db(rhei__src *s, rhei__err *e)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return RHEI_OK;
    drop_connection(s);
    /* Earlier keywords are defaults the conninfo (expanded from dbname) overrides. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {CONNECT_TIMEOUT_S, "rhei-sidecar", s->conninfo, NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
        return unreachable(s, e);
    PGresult *r = PQexec(s->conn, session_sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? RHEI_OK : unreachable(s, e);
}

/* Maps a failed statement: connection gone -> unreachable; undefined table/column ->
 * RHEI_NOTFOUND (the caller names which); anything else RHEI_SOURCE. Clears r. */
static int pg_error(rhei__src *s, PGresult *r, const char *what, rhei__err *e)
{
    char msg[512], state[8] = "";
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    rhei__strlcpy(state, st ? st : "", sizeof state);
    clean_msg(r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn), msg, sizeof msg);
    PQclear(r);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK)
        return unreachable(s, e);
    if (strcmp(state, "42703") == 0 || strcmp(state, "42P01") == 0)
        return rhei__err_set(e, RHEI_NOTFOUND, "%s: postgres: %s", what, msg);
    return rhei__err_set(e, RHEI_SOURCE, "%s: postgres: %s", what, msg);
}

/* Runs sql with text parameters; *out holds the result on success (caller clears). */
static int run(rhei__src *s, const char *sql, int n, const char *const *params, PGresult **out,
               const char *what, rhei__err *e)
{
    *out = NULL;
    int rc = connect_db(s, e);
    if (rc)
        return rc;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return pg_error(s, r, what, e);
    *out = r;
    return RHEI_OK;
}

static int src_open(const char *where, rhei__src **out, rhei__err *e)
{
    *out = NULL;
    rhei__src *s = rhei__calloc(1, sizeof *s);
    if (!s || !(s->conninfo = rhei__strdup(where))) {
        rhei__free(s);
        return rhei__err_nomem(e);
    }
    rhei__src_redact("postgres", where, s->display, sizeof s->display);
    *out = s;
    return RHEI_OK;
}

static void src_close(rhei__src *s)
{
    if (!s)
        return;
    drop_connection(s);
    rhei__buf_free(&s->sql);
    rhei__buf_free(&s->scratch);
    rhei__free(s->conninfo);
    rhei__free(s);
}

static const char *src_display(rhei__src *s) { return s->display; }

static int src_now_us(rhei__src *s, int64_t *out, rhei__err *e)
{
    PGresult *r = NULL;
    int rc = run(s, "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8", 0, NULL,
                 &r, "cannot read the source clock", e);
    if (rc == RHEI_OK)
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return rc;
}

/* ---- catalog ----------------------------------------------------------------------------- */

static const char describe_sql[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.atttypmod,"
    " coalesce((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
    "  WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.attnum = a.attnum), 0)"
    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
    " WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped"
    " ORDER BY a.attnum";

/* PostgreSQL type -> mirror type. Anything without a closer match (uuid, json, jsonb,
 * interval, arrays, enums, ...) is kept as its text form. */
static void map_type(rhei__src_col *c, const char *typname, int typmod)
{
    c->precision = c->scale = 0;
    if (!strcmp(typname, "int2") || !strcmp(typname, "int4") || !strcmp(typname, "int8"))
        c->type = RHEI_TYPE_INTEGER;
    else if (!strcmp(typname, "float4") || !strcmp(typname, "float8"))
        c->type = RHEI_TYPE_REAL;
    else if (!strcmp(typname, "bool"))
        c->type = RHEI_TYPE_BOOLEAN;
    else if (!strcmp(typname, "date"))
        c->type = RHEI_TYPE_DATE;
    else if (!strcmp(typname, "timestamp") || !strcmp(typname, "timestamptz"))
        c->type = RHEI_TYPE_TIMESTAMP;
    else if (!strcmp(typname, "bytea"))
        c->type = RHEI_TYPE_BLOB;
    else if (!strcmp(typname, "numeric")) {
        c->type = RHEI_TYPE_DECIMAL;
        int p = typmod >= 4 ? ((typmod - 4) >> 16) & 0xffff : 0;
        int sc = typmod >= 4 ? (typmod - 4) & 0xffff : 0;
        if (p < 1 || p > 38 || sc > p) { /* unconstrained (or wider than DuckDB's DECIMAL) */
            p = 38;
            sc = 10;
        }
        c->precision = p;
        c->scale = sc;
    } else
        c->type = RHEI_TYPE_TEXT;
}

static int src_describe(rhei__src *s, const char *table, rhei__src_cols *out, rhei__err *e)
{
    PGresult *r = NULL;
    const char *p[1] = {table};
    memset(out, 0, sizeof *out);
    int rc = run(s, describe_sql, 1, p, &r, "cannot read the source catalog", e);
    int n = rc ? 0 : PQntuples(r);
    if (rc == RHEI_OK && n == 0)
        rc = rhei__err_set(e, RHEI_NOTFOUND, "table '%s' does not exist at source '%s'", table,
                           s->display);
    if (rc == RHEI_OK && !(out->v = rhei__calloc((size_t)n, sizeof *out->v)))
        rc = rhei__err_nomem(e);
    for (int i = 0; rc == RHEI_OK && i < n; i++) {
        rhei__src_col *c = &out->v[i];
        out->n++;
        c->name = rhei__strdup(PQgetvalue(r, i, 0));
        c->decl = rhei__strdup(PQgetvalue(r, i, 1));
        if (!c->name || !c->decl) {
            rc = rhei__err_nomem(e);
            break;
        }
        map_type(c, PQgetvalue(r, i, 2), atoi(PQgetvalue(r, i, 3)));
        c->pk = atoi(PQgetvalue(r, i, 4));
    }
    PQclear(r);
    if (rc)
        rhei__src_cols_free(out);
    return rc;
}

/* ---- reading rows ------------------------------------------------------------------------ */


/* $n::type — bound text cast to the column's own type, so comparisons use its order. */
static void put_param(rhei__buf *b, int *n, const char *decl)
{
    rhei__buf_printf(b, "$%d::%s", ++*n, decl && *decl ? decl : "text");
}

static void build_where(rhei__buf *b, const rhei__src_query *q)
{
    int n = 0;
    rhei__buf_puts(b, " WHERE ");
    rhei__src_put_ts(b, q);
    if (q->after == RHEI__AFTER_KEY) {
        rhei__buf_puts(b, " IS NOT NULL AND (");
        rhei__src_put_ts(b, q);
        for (size_t k = 0; k < q->npk; k++) {
            rhei__buf_puts(b, ", ");
            rhei__src_put_col(b, q->pk[k]);
        }
        rhei__buf_puts(b, ") > (");
        put_param(b, &n, q->ts_decl);
        for (size_t k = 0; k < q->npk; k++) {
            rhei__buf_puts(b, ", ");
            put_param(b, &n, q->pk_decl[k]);
        }
        rhei__buf_puts(b, ")");
    } else if (q->after == RHEI__AFTER_TS) {
        rhei__buf_puts(b, " > ");
        put_param(b, &n, q->ts_decl);
    } else {
        rhei__buf_puts(b, " IS NOT NULL");
    }
    if (q->cutoff) {
        rhei__buf_puts(b, " AND ");
        rhei__src_put_ts(b, q);
        rhei__buf_puts(b, " <= ");
        put_param(b, &n, q->ts_decl);
    }
}

/* Appends the SELECT statement of q to b. */
static void build_select(rhei__buf *b, const rhei__src_query *q)
{
    rhei__buf_puts(b, "SELECT ");
    for (size_t i = 0; i < q->cols->ncols; i++) {
        rhei__buf_puts(b, i ? ", " : "");
        if (i == q->ts_index) {
            rhei__src_put_ts(b, q);
            rhei__buf_puts(b, "::text");
        } else {
            rhei__src_put_col(b, q->cols->cols[i].name);
        }
    }
    rhei__buf_puts(b, " FROM ");
    rhei__buf_ident(b, q->table);
    rhei__buf_puts(b, " AS _rhei_t");
    build_where(b, q);
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

/* NUL-terminated text of every bound value, in s->scratch; offsets then pointers. */
static int gather_params(rhei__src *s, const rhei__src_query *q, const char **p, int *n,
                         rhei__err *e)
{
    const rhei_value *v[MAX_PARAMS];
    size_t off[MAX_PARAMS];
    int k = 0;
    size_t nwm = q->after == RHEI__AFTER_KEY ? 1 + q->npk : q->after == RHEI__AFTER_TS ? 1 : 0;
    if (nwm + 1 > MAX_PARAMS)
        return rhei__err_set(e, RHEI_RANGE, "too many key columns in table '%s'", q->table);
    for (size_t i = 0; i < nwm; i++)
        v[k++] = &q->wm[i];
    if (q->cutoff)
        v[k++] = q->cutoff;
    rhei__buf_reset(&s->scratch);
    for (int i = 0; i < k; i++) {
        off[i] = s->scratch.len;
        if (v[i]->type == RHEI_TYPE_INTEGER)
            rhei__buf_printf(&s->scratch, "%lld", (long long)v[i]->i);
        else if (v[i]->type == RHEI_TYPE_REAL)
            rhei__buf_printf(&s->scratch, "%.17g", v[i]->f);
        else if (v[i]->type != RHEI_TYPE_NULL)
            rhei__buf_append(&s->scratch, v[i]->s ? v[i]->s : "", v[i]->n);
        rhei__buf_append(&s->scratch, "", 1); /* keeps the NUL inside the content */
    }
    int rc = rhei__buf_check(&s->scratch, e);
    for (int i = 0; rc == RHEI_OK && i < k; i++)
        p[i] = v[i]->type == RHEI_TYPE_NULL ? NULL : s->scratch.p + off[i];
    *n = k;
    return rc;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int decode_bytea(const char *s, size_t n, rhei__batch *b, rhei_value *v)
{
    if (n < 2 || s[0] != '\\' || s[1] != 'x' || n % 2)
        return RHEI_TYPE;
    /* the hex digits go to the arena and are decoded in place (byte i from digits 2i, 2i+1) */
    char *d = (char *)rhei__batch_copy(b, s + 2, n - 2);
    if (!d)
        return RHEI_NOMEM;
    for (size_t i = 0; i < (n - 2) / 2; i++) {
        int hi = hexval(d[2 * i]), lo = hexval(d[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RHEI_TYPE;
        d[i] = (char)(hi << 4 | lo);
    }
    v->type = RHEI_TYPE_BLOB;
    v->s = d;
    v->n = (n - 2) / 2;
    return RHEI_OK;
}

/* Decimal text that fits the column's scale exactly (DECIMAL never rounds silently). */
static int decode_decimal(const rhei__colspec *c, const char *s, size_t n, rhei__batch *b,
                          rhei_value *v)
{
    __int128 x;
    const char *dot = memchr(s, '.', n);
    size_t frac = 0;
    if (dot)
        for (const char *p = s + n; p > dot + 1 && p[-1] == '0'; p--, n--)
            ; /* trailing zeros carry no precision */
    frac = dot ? (size_t)(s + n - dot - 1) : 0;
    if ((int)frac > c->scale || rhei__decimal_parse(s, n, c->scale, &x) != 0)
        return RHEI_TYPE;
    v->type = RHEI_TYPE_DECIMAL;
    v->n = n;
    v->s = rhei__batch_copy(b, s, n);
    return v->s ? RHEI_OK : RHEI_NOMEM;
}

static int decode_value(const rhei__colspec *c, const char *s, size_t n, rhei__batch *b,
                        rhei_value *v)
{
    char *end = NULL;
    int32_t days;
    errno = 0;
    switch (c->type) {
    case RHEI_TYPE_INTEGER:
        v->type = RHEI_TYPE_INTEGER;
        v->i = strtoll(s, &end, 10);
        return (n && !*end && !errno) ? RHEI_OK : RHEI_TYPE;
    case RHEI_TYPE_REAL:
        v->type = RHEI_TYPE_REAL;
        v->f = strtod(s, &end); /* also "NaN", "Infinity", "-Infinity" */
        return (n && !*end) ? RHEI_OK : RHEI_TYPE;
    case RHEI_TYPE_BOOLEAN:
        v->type = RHEI_TYPE_BOOLEAN;
        v->i = s[0] == 't';
        return (n == 1 && (s[0] == 't' || s[0] == 'f')) ? RHEI_OK : RHEI_TYPE;
    case RHEI_TYPE_DECIMAL:
        return decode_decimal(c, s, n, b, v);
    case RHEI_TYPE_DATE:
        v->type = RHEI_TYPE_DATE;
        if (rhei__parse_date(s, n, &days))
            return RHEI_TYPE;
        v->i = days;
        return RHEI_OK;
    case RHEI_TYPE_TIMESTAMP:
        v->type = RHEI_TYPE_TIMESTAMP;
        return rhei__parse_timestamp(s, n, &v->i) ? RHEI_TYPE : RHEI_OK;
    case RHEI_TYPE_BLOB:
        return decode_bytea(s, n, b, v);
    default:
        v->type = RHEI_TYPE_TEXT;
        v->n = n;
        v->s = rhei__batch_copy(b, s, n);
        return v->s ? RHEI_OK : RHEI_NOMEM;
    }
}

static int decode_row(const rhei__src_query *q, PGresult *r, int row, rhei__batch *b,
                      rhei__err *e)
{
    const rhei__table *t = q->cols;
    rhei_value *out = rhei__batch_add(b, 0, 0, RHEI__OP_INSERT);
    if (!out)
        return rhei__err_nomem(e);
    for (int pass = 0; pass < 2; pass++) { /* raw columns (the key) first: errors name it */
        for (size_t i = 0; i < t->ncols; i++) {
            int raw = i == q->ts_index || t->cols[i].type == RHEI_TYPE_NULL;
            if (raw != (pass == 0) || PQgetisnull(r, row, (int)i))
                continue; /* NULL: the row starts as NULLs */
            const char *s = PQgetvalue(r, row, (int)i);
            size_t n = (size_t)PQgetlength(r, row, (int)i);
            static const rhei__colspec text = {NULL, NULL, RHEI_TYPE_TEXT, 0, 0, 0};
            int rc = decode_value(raw ? &text : &t->cols[i], s, n, b, &out[i]);
            if (rc == RHEI_NOMEM)
                return rhei__err_nomem(e);
            if (rc) {
                char key[256];
                rhei__src_key_text(q, b, b->nrows - 1, key, sizeof key);
                rhei__err_set(e, RHEI_TYPE, "cannot read table '%s' at key (%s): value '%.64s'"
                              " does not fit column '%s' (%s)", q->table, key, s,
                              t->cols[i].name, t->cols[i].decl && *t->cols[i].decl
                              ? t->cols[i].decl : rhei_type_name(t->cols[i].type));
                rhei__src_drop_last(b);
                return RHEI_TYPE;
            }
        }
    }
    return RHEI_OK;
}

/* Decodes every row of r into b, handing full chunks to fn. */
static int take_rows(const rhei__src_query *q, PGresult *r, rhei__batch *b,
                     rhei__src_chunk_fn fn, void *ud, rhei__err *e)
{
    int rc = RHEI_OK;
    for (int i = 0; rc == RHEI_OK && i < PQntuples(r); i++) {
        if ((rc = decode_row(q, r, i, b, e)))
            break;
        if (q->chunk && b->nrows >= q->chunk) {
            rc = fn(ud, b, e);
            rhei__batch_reset(b, q->cols);
        }
    }
    return rc;
}

/* An unbounded read: a cursor fetched CURSOR_CHUNK rows at a time in one snapshot. */
static int select_cursor(rhei__src *s, const rhei__src_query *q, int np, const char **p,
                         rhei__batch *b, rhei__src_chunk_fn fn, void *ud, rhei__err *e)
{
    PGresult *r = NULL;
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM rhei_sidecar_cur", CURSOR_CHUNK);
    int rc = run(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &r,
                 "cannot read the source", e);
    PQclear(r);
    if (rc)
        return rc;
    rc = run(s, rhei__buf_str(&s->sql), np, p, &r, "cannot read the source", e);
    PQclear(r);
    while (rc == RHEI_OK) {
        if ((rc = run(s, fetch, 0, NULL, &r, "cannot read the source", e)))
            break;
        int n = PQntuples(r);
        rc = take_rows(q, r, b, fn, ud, e);
        PQclear(r);
        if (n < CURSOR_CHUNK)
            break;
    }
    if (s->conn) { /* COMMIT of a failed transaction rolls back; both end it */
        PGresult *end = PQexec(s->conn, "COMMIT");
        PQclear(end);
    }
    return rc;
}

static int src_select(rhei__src *s, const rhei__src_query *q, rhei__batch *b,
                      rhei__src_chunk_fn fn, void *ud, rhei__err *e)
{
    const char *p[MAX_PARAMS];
    int np = 0;
    PGresult *r = NULL;
    rhei__batch_reset(b, q->cols);
    int rc = gather_params(s, q, p, &np, e);
    if (rc)
        return rc;
    rhei__buf_reset(&s->sql);
    if (!q->limit)
        rhei__buf_puts(&s->sql, "DECLARE rhei_sidecar_cur NO SCROLL CURSOR FOR ");
    build_select(&s->sql, q);
    if ((rc = rhei__buf_check(&s->sql, e)))
        return rc;
    if (!q->limit) {
        rc = select_cursor(s, q, np, p, b, fn, ud, e);
    } else {
        rc = run(s, rhei__buf_str(&s->sql), np, p, &r, "cannot read the source", e);
        if (rc == RHEI_OK)
            rc = take_rows(q, r, b, fn, ud, e);
        PQclear(r);
    }
    if (rc == RHEI_OK && b->nrows) {
        rc = fn(ud, b, e);
        rhei__batch_reset(b, q->cols);
    }
    return rc;
}

static int src_max_ts(rhei__src *s, const rhei__src_query *q, rhei_value *out, rhei__err *e)
{
    PGresult *r = NULL;
    rhei__buf_reset(&s->sql);
    rhei__buf_puts(&s->sql, "SELECT max(");
    rhei__src_put_ts(&s->sql, q);
    rhei__buf_puts(&s->sql, ")::text FROM ");
    rhei__buf_ident(&s->sql, q->table);
    rhei__buf_puts(&s->sql, " AS _rhei_t");
    int rc = rhei__buf_check(&s->sql, e);
    if (rc == RHEI_OK)
        rc = run(s, rhei__buf_str(&s->sql), 0, NULL, &r, "cannot read the source", e);
    memset(out, 0, sizeof *out);
    if (rc == RHEI_OK && !PQgetisnull(r, 0, 0)) {
        rhei__buf_reset(&s->scratch);
        rhei__buf_puts(&s->scratch, PQgetvalue(r, 0, 0));
        if ((rc = rhei__buf_check(&s->scratch, e)) == RHEI_OK) {
            out->type = RHEI_TYPE_TEXT;
            out->s = rhei__buf_str(&s->scratch);
            out->n = s->scratch.len;
        }
    }
    PQclear(r);
    return rc;
}

/* Timestamps and dates compare natively (the text is cast to the column's type, read in
 * UTC); numeric epochs once their unit is known; text columns only after parsing. */
static int src_cutoff(const rhei__src_col *ts, int64_t unit_us, int64_t cutoff_us,
                      rhei_value *out, char *buf, size_t size)
{
    switch (ts->type) {
    case RHEI_TYPE_TIMESTAMP:
        rhei__format_timestamp(cutoff_us, buf, size);
        break;
    case RHEI_TYPE_DATE:
        rhei__format_date((int32_t)(cutoff_us / 86400000000LL - (cutoff_us < 0)), buf, size);
        break;
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_DECIMAL:
    case RHEI_TYPE_REAL:
        if (unit_us <= 0)
            return 0;
        snprintf(buf, size, "%lld", (long long)(cutoff_us / unit_us - (cutoff_us % unit_us < 0)));
        break;
    default:
        return 0;
    }
    *out = rhei_text(buf);
    return 1;
}

const rhei__src_vtab rhei__src_postgres = {
    .kind = "postgres",
    .open = src_open,
    .close = src_close,
    .now_us = src_now_us,
    .describe = src_describe,
    .max_ts = src_max_ts,
    .select = src_select,
    .cutoff = src_cutoff,
    .display = src_display,
};
