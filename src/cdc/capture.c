/* capture.c — installing capture triggers and versioning registered tables. Every function
 * here runs in one IMMEDIATE transaction on the writer: the catalog row, the triggers and
 * the schema event commit together or not at all. */
#include "buf.h"
#include "cdc.h"
#include "mem.h"
#include "names.h"
#include "cdc_int.h"
#include <sqlite3.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TS_EXPR "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"

static const char *const trigger_kinds[] = {"i", "r", "u", "k", "d"};

static void drop_triggers(rhei__buf *b, const char *table)
{
    for (size_t i = 0; i < sizeof trigger_kinds / sizeof trigger_kinds[0]; i++) {
        char name[300];
        snprintf(name, sizeof name, "_rhei_%s_%s", trigger_kinds[i], table);
        rhei__buf_puts(b, "DROP TRIGGER IF EXISTS ");
        rhei__buf_sqlite_ident(b, name);
        rhei__buf_puts(b, ";\n");
    }
}

static void trigger_head(rhei__buf *b, const char *kind, const char *table, const char *when)
{
    char name[300];
    snprintf(name, sizeof name, "_rhei_%s_%s", kind, table);
    rhei__buf_puts(b, "CREATE TRIGGER ");
    rhei__buf_sqlite_ident(b, name);
    rhei__buf_printf(b, " %s ON ", when);
    rhei__buf_sqlite_ident(b, table);
}

/* "OLD."a" IS NEW."a" AND ..." over the key columns. */
static void key_same(rhei__buf *b, const rhei__table *t)
{
    for (size_t k = 0; k < t->npk; k++) {
        const char *c = t->cols[t->pk_idx[k]].name;
        rhei__buf_puts(b, k ? " AND OLD." : "OLD.");
        rhei__buf_sqlite_ident(b, c);
        rhei__buf_puts(b, " IS NEW.");
        rhei__buf_sqlite_ident(b, c);
    }
}

/* INSERT INTO _rhei_log of all columns (from `ref`, NEW or OLD) or only key columns. */
static void log_insert(rhei__buf *b, const rhei__table *t, int op, const char *ref, int keys_only)
{
    rhei__buf_puts(b, "INSERT INTO _rhei_log(tid, op, ts");
    for (size_t i = 0; i < t->ncols; i++)
        if (!keys_only || t->cols[i].pk)
            rhei__buf_printf(b, ", c%zu", i);
    rhei__buf_printf(b, ") VALUES (%lld, %d, " TS_EXPR, (long long)t->tid, op);
    for (size_t i = 0; i < t->ncols; i++) {
        if (keys_only && !t->cols[i].pk)
            continue;
        rhei__buf_printf(b, ", %s.", ref);
        rhei__buf_sqlite_ident(b, t->cols[i].name);
    }
    rhei__buf_puts(b, ");\n");
}

/* --- value checks -----------------------------------------------------------------------
 * The capture triggers refuse, inside the writing statement, every value the sync could not
 * replicate exactly into the column's OLAP type (rhei.h, "Type map", says what each type
 * takes). They may use only SQLite's built-in functions: other processes' writes run them.
 * A refusal is an error whose text names table, column, type and the value: RAISE() takes
 * only a constant message in SQLite 3.40, so the message is carried by a JSON path error
 * (json_extract is built in since 3.38), which src/oltp maps to RHEI_TYPE. */

/* Relative tolerance of a REAL taken as a decimal: 16 units in the last place of a double
 * (2^-48), measured at max(|v|, 1) so that cancellation near zero (0.1 + 0.2 - 0.3) counts
 * as noise too. Arithmetic on DECIMAL columns (SQLite computes in doubles) stays far inside
 * it; a typed value with more decimals than the scale (1.234 in DECIMAL(10,2)) does not. */
#define REAL_TOL 3.552713678800501e-15
/* Unix seconds of 0000-01-01 00:00:00 and 9999-12-31 23:59:59: the range SQLite's date
 * functions and ISO-8601 text cover (a TIMESTAMP is microseconds in an int64). */
#define TS_MIN "-62167219200"
#define TS_MAX "253402300799"

/* SQLite-side references quote in backticks: a double-quoted name of no column would be
 * read as a string literal. */
static void put_ref(rhei__buf *b, const char *ref, const char *name)
{
    rhei__buf_puts(b, ref);
    rhei__buf_sqlite_ident(b, name);
}

/* v (a REAL) is within REAL_TOL of a value with s decimals whose integer part has at most
 * l digits: such a value is replicated as that decimal (the feed rounds at the scale).
 * Scaled by 10^s, round() takes SQLite's fast integer path (no printf as with round(v, s)). */
static void real_off_scale(rhei__buf *b, const char *v, int l, int s)
{
    rhei__buf_printf(b, "abs(%s) >= 1e%d OR abs(round(%s * 1e%d)) >= 1e%d OR abs(round(%s * 1e%d)"
                        " - %s * 1e%d) > max(abs(%s), 1) * %.17g", v, l, v, s, l + s, v, s, v, s,
                     v, REAL_TOL * pow(10.0, s));
}

/* DECIMAL(p,s) text: [+-] digits with at most one '.', at most s decimals and p-s integer
 * digits (leading zeros aside). */
static void decimal_text_bad(rhei__buf *b, const char *v, int l, int s)
{
    rhei__buf u = RHEI__BUF_INIT;
    rhei__buf_printf(&u, "(CASE WHEN %s GLOB '[+-]*' THEN substr(%s, 2) ELSE %s END)", v, v, v);
    const char *x = rhei__buf_str(&u);
    rhei__buf_printf(b, "%s GLOB '*[^0-9.]*' OR %s NOT GLOB '*[0-9]*' OR %s GLOB '*.*.*' OR"
                        " (instr(%s, '.') > 0 AND length(%s) - instr(%s, '.') > %d) OR"
                        " (CASE WHEN instr(ltrim(%s, '0'), '.') > 0 THEN"
                        " instr(ltrim(%s, '0'), '.') - 1 ELSE length(ltrim(%s, '0')) END) > %d",
                     x, x, x, x, x, x, s, x, x, x, l);
    rhei__buf_free(&u);
}

static void decimal_bad(rhei__buf *b, const char *v, const rhei__colspec *c)
{
    int p = c->precision, s = c->scale;
    if (p < 1) { /* the type map's default, as the OLAP side creates it */
        p = 18;
        s = 3;
    }
    if (p > 38)
        p = 38;
    s = s < 0 ? 0 : s > p ? p : s;
    int l = p - s;
    rhei__buf_printf(b, "CASE typeof(%s) WHEN 'null' THEN 0 WHEN 'integer' THEN ", v);
    if (l >= 19) {
        rhei__buf_puts(b, "0");
    } else {
        long long m = 1;
        for (int i = 0; i < l; i++)
            m *= 10;
        rhei__buf_printf(b, "%s NOT BETWEEN %lld AND %lld", v, -(m - 1), m - 1);
    }
    rhei__buf_puts(b, " WHEN 'real' THEN ");
    real_off_scale(b, v, l, s);
    rhei__buf_puts(b, " WHEN 'text' THEN ");
    decimal_text_bad(b, v, l, s);
    rhei__buf_puts(b, " ELSE 1 END");
}

/* TIMESTAMP: Unix seconds in [TS_MIN, TS_MAX] (REAL ones within REAL_TOL of a microsecond),
 * or ISO-8601 text SQLite's julianday() reads: a real date, one 'T' or ' ' before HH:MM,
 * at most 6 fraction digits (microseconds), and an optional zone ('Z', [+-]HH:MM). */
static void timestamp_bad(rhei__buf *b, const char *v)
{
    rhei__buf_printf(b, "CASE typeof(%s) WHEN 'null' THEN 0 WHEN 'integer' THEN %s NOT BETWEEN "
                        TS_MIN " AND " TS_MAX " WHEN 'real' THEN %s NOT BETWEEN " TS_MIN
                        " AND " TS_MAX " OR ", v, v, v);
    real_off_scale(b, v, 12, 6);
    rhei__buf_printf(b, " WHEN 'text' THEN %s NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
                        " OR date(substr(%s, 1, 10), '+0 days') IS NOT substr(%s, 1, 10) OR"
                        " (length(%s) > 10 AND %s NOT GLOB '??????????[ T][0-9][0-9]:[0-9][0-9]*')"
                        " OR %s GLOB '*.[0-9][0-9][0-9][0-9][0-9][0-9][0-9]*' OR julianday(%s)"
                        " IS NULL ELSE 1 END", v, v, v, v, v, v, v);
}

/* A condition true when value `ref`c cannot be replicated as c's declared type; 0 if any
 * value can. Key columns (key != 0) also refuse values SQLite tells apart but the OLAP type
 * would not: a TEXT key takes only text (a blob 'a' and the text 'a' are two SQLite keys). */
static int guard_cond(rhei__buf *b, const rhei__colspec *c, const char *ref, int key)
{
    rhei__buf nb = RHEI__BUF_INIT;
    put_ref(&nb, ref, c->name);
    const char *v = rhei__buf_str(&nb);
    int any = 1;
    switch (c->type) {
    case RHEI_TYPE_INTEGER:
        rhei__buf_printf(b, "typeof(%s) NOT IN ('integer','null')", v);
        break;
    case RHEI_TYPE_BOOLEAN:
        rhei__buf_printf(b, "(typeof(%s) NOT IN ('integer','null') OR %s NOT IN (0, 1))", v, v);
        break;
    case RHEI_TYPE_REAL:
        rhei__buf_printf(b, "typeof(%s) NOT IN ('real','integer','null')", v);
        break;
    case RHEI_TYPE_DECIMAL:
        decimal_bad(b, v, c);
        break;
    case RHEI_TYPE_DATE:
        /* '+0 days' makes SQLite normalise (2026-02-30 becomes 2026-03-02): a real date
         * is its own normal form. */
        rhei__buf_printf(b, "(%s IS NOT NULL AND date(%s, '+0 days') IS NOT %s)", v, v, v);
        break;
    case RHEI_TYPE_TIMESTAMP:
        timestamp_bad(b, v);
        break;
    /* A blob in a TEXT column stays a blob in SQLite (TEXT affinity converts only numbers),
     * a number in a BLOB column stays a number: DuckDB's VARCHAR / BLOB would turn either
     * into the other kind, and a read would answer differently on each side. */
    case RHEI_TYPE_TEXT:
        rhei__buf_printf(b, key ? "typeof(%s) NOT IN ('text','null')" : "typeof(%s) = 'blob'", v);
        break;
    case RHEI_TYPE_BLOB:
        if (key || c->decl[0])
            rhei__buf_printf(b, "typeof(%s) NOT IN ('blob','null')", v);
        else /* untyped, registered by an older build: it keeps taking anything (an ALTER
              * rebuilds its triggers, and its rows must stay writable) */
            any = 0;
        break;
    default:
        any = 0;
        break;
    }
    rhei__buf_free(&nb);
    return any;
}

/* The refusal: an error naming table, column, type and (up to 64 bytes of) the value. */
static void refusal(rhei__buf *b, const rhei__table *t, const rhei__colspec *c, const char *why)
{
    rhei__buf msg = RHEI__BUF_INIT, v = RHEI__BUF_INIT;
    rhei__buf_printf(&msg, "rhei: type mismatch: column '%s' of table '%s' is %s%s;"
                     " refused value: ", c->name, t->name,
                     c->decl[0] ? c->decl : rhei_type_name(c->type), why);
    put_ref(&v, "NEW.", c->name);
    const char *x = rhei__buf_str(&v);
    rhei__buf_puts(b, "json_extract('{}', ");
    rhei__buf_literal(b, rhei__buf_str(&msg));
    rhei__buf_printf(b, " || CASE typeof(%s) WHEN 'null' THEN 'NULL' WHEN 'real' THEN"
                        " printf('%%.17g', %s) WHEN 'blob' THEN 'x' || substr(hex(%s), 1, 64)"
                        " WHEN 'text' THEN '\"' || substr(%s, 1, 64) || '\"' ELSE %s END)",
                     x, x, x, x, x);
    rhei__buf_free(&msg);
    rhei__buf_free(&v);
}

/* " WHEN " (or the CASE's start) and, in an update trigger, the column-changed test: an
 * UPDATE checks only the values it writes, so a row whose untouched value an older build
 * let in (or a check added later refuses) stays writable. */
static void guard_when(rhei__buf *b, const rhei__colspec *c, int *n, int updating)
{
    rhei__buf_puts(b, (*n)++ ? " WHEN " : "SELECT CASE WHEN ");
    if (!updating)
        return;
    put_ref(b, "NEW.", c->name);
    rhei__buf_puts(b, " IS NOT ");
    put_ref(b, "OLD.", c->name);
    rhei__buf_puts(b, " AND ");
}

/* SELECT CASE WHEN <bad a> THEN <refusal> ... END; for typed columns and NULL key parts. */
static void guards(rhei__buf *b, const rhei__table *t, int updating)
{
    int n = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        const rhei__colspec *c = &t->cols[i];
        /* An INTEGER PRIMARY KEY is the rowid: SQLite already refuses non-integers and
         * NULLs. */
        if (c->pk && t->npk == 1 && c->type == RHEI_TYPE_INTEGER)
            continue;
        if (c->pk) { /* SQLite allows NULL in other keys; two such rows are one OLAP key */
            guard_when(b, c, &n, updating);
            put_ref(b, "NEW.", c->name);
            rhei__buf_puts(b, " IS NULL THEN ");
            refusal(b, t, c, ", a key column that cannot hold NULL");
        }
        rhei__buf cond = RHEI__BUF_INIT;
        if (guard_cond(&cond, c, "NEW.", c->pk != 0)) {
            guard_when(b, c, &n, updating);
            rhei__buf_puts(b, "(");
            rhei__buf_puts(b, rhei__buf_str(&cond));
            rhei__buf_puts(b, ")");
            rhei__buf_puts(b, " THEN ");
            refusal(b, t, c, "");
        }
        rhei__buf_free(&cond);
    }
    if (n)
        rhei__buf_puts(b, " END;\n");
}

/* --- what registration refuses ------------------------------------------------------------
 * Keys SQLite and the OLAP side would compare differently (a collation, or values of several
 * storage classes in an untyped column), and rows the capture triggers would refuse: each
 * would make OLAP diverge from SQLite without a word. */

static int key_collation_ok(rhei__conn *w, const char *table, const rhei__colspec *c,
                            rhei__err *e)
{
    const char *coll = NULL;
    if (sqlite3_table_column_metadata(rhei__conn_db(w), NULL, table, c->name, NULL, &coll,
                                      NULL, NULL, NULL) != SQLITE_OK || !coll ||
        strcasecmp(coll, "BINARY") == 0)
        return RHEI_OK;
    return rhei__err_set(e, RHEI_MISUSE, "key column '%s' uses collation %s: SQLite compares"
                         " its keys by it, OLAP byte by byte, so one SQLite key could be two"
                         " OLAP rows; use a BINARY key column", c->name, coll);
}

/* First existing row a capture trigger would refuse: *out_col its column, or -1. */
static int first_refused(rhei__conn *w, const char *table, const rhei__colspec *cols, size_t n,
                         long *out_col, rhei__err *e)
{
    rhei__buf q = RHEI__BUF_INIT;
    size_t npk = 0;
    int any = 0;
    *out_col = -1;
    for (size_t i = 0; i < n; i++)
        npk += cols[i].pk != 0;
    rhei__buf_puts(&q, "SELECT w FROM (SELECT CASE");
    for (size_t i = 0; i < n; i++) {
        const rhei__colspec *c = &cols[i];
        if (c->pk && npk == 1 && c->type == RHEI_TYPE_INTEGER)
            continue;
        if (c->pk) {
            rhei__buf_puts(&q, " WHEN ");
            rhei__buf_sqlite_ident(&q, c->name);
            rhei__buf_printf(&q, " IS NULL THEN %zu", i);
            any = 1;
        }
        rhei__buf cond = RHEI__BUF_INIT;
        if (guard_cond(&cond, c, "", c->pk != 0)) {
            rhei__buf_printf(&q, " WHEN %s THEN %zu", rhei__buf_str(&cond), i);
            any = 1;
        }
        rhei__buf_free(&cond);
    }
    rhei__buf_puts(&q, " END AS w FROM ");
    rhei__buf_sqlite_ident(&q, table);
    rhei__buf_puts(&q, ") WHERE w IS NOT NULL LIMIT 1");
    rhei_result *r = NULL;
    int rc = any ? rhei__buf_check(&q, e) : RHEI_OK;
    if (any && rc == RHEI_OK)
        rc = rhei__conn_query(w, rhei__buf_str(&q), NULL, 0, &r, e);
    if (rc == RHEI_OK && r && rhei_result_row_count(r) > 0)
        *out_col = (long)rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    rhei__buf_free(&q);
    return rc;
}

static int check_registrable(rhei__conn *w, const char *table, const rhei__colspec *cols,
                             size_t n, rhei__err *e)
{
    int rc = RHEI_OK;
    for (size_t i = 0; i < n && rc == RHEI_OK; i++) {
        if (cols[i].type == RHEI_TYPE_BLOB && !cols[i].decl[0])
            return rhei__err_set(e, RHEI_MISUSE,
                                 "%s '%s' has no declared type: SQLite keeps"
                                 " each value's own type (1, '1' and x'31' are three values),"
                                 " OLAP one type for the column; declare its type (or name"
                                 " one in the registered schema)",
                                 cols[i].pk ? "key column" : "column", cols[i].name);
        if (cols[i].pk)
            rc = key_collation_ok(w, table, &cols[i], e);
    }
    long bad = -1;
    if (rc == RHEI_OK)
        rc = first_refused(w, table, cols, n, &bad, e);
    if (rc == RHEI_OK && bad >= 0)
        rc = rhei__err_set(e, RHEI_TYPE, "a row holds a value of column '%s' that cannot be"
                           " replicated as %s%s: fix or delete it first", cols[bad].name,
                           cols[bad].decl[0] ? cols[bad].decl : rhei_type_name(cols[bad].type),
                           cols[bad].pk ? " (key columns take no NULL)" : "");
    return rc;
}

static void create_triggers(rhei__buf *b, const rhei__table *t)
{
    trigger_head(b, "i", t->name, "AFTER INSERT");
    rhei__buf_puts(b, " BEGIN\n");
    guards(b, t, 0);
    log_insert(b, t, RHEI__EV_INSERT, "NEW", 0);
    rhei__buf_puts(b, "END;\n");

    /* REPLACE deletes the old row without a DELETE trigger unless the writing connection
     * enabled recursive_triggers. A BEFORE trigger cannot tell REPLACE from IGNORE or an
     * upsert, so it logs a pre-insert mark; the sync turns it into a deletion only when the
     * INSERT of that key follows. */
    trigger_head(b, "r", t->name, "BEFORE INSERT");
    rhei__buf_puts(b, " WHEN EXISTS (SELECT 1 FROM ");
    rhei__buf_sqlite_ident(b, t->name);
    rhei__buf_puts(b, " WHERE ");
    for (size_t k = 0; k < t->npk; k++) {
        const char *c = t->cols[t->pk_idx[k]].name;
        rhei__buf_puts(b, k ? " AND " : "");
        rhei__buf_sqlite_ident(b, c);
        rhei__buf_puts(b, " = NEW.");
        rhei__buf_sqlite_ident(b, c);
    }
    rhei__buf_puts(b, ") BEGIN\n");
    log_insert(b, t, RHEI__EV_PREINSERT, "NEW", 1);
    rhei__buf_puts(b, "END;\n");

    trigger_head(b, "u", t->name, "AFTER UPDATE");
    rhei__buf_puts(b, " WHEN ");
    key_same(b, t);
    rhei__buf_puts(b, " BEGIN\n");
    guards(b, t, 1);
    log_insert(b, t, RHEI__EV_UPDATE, "NEW", 0);
    rhei__buf_puts(b, "END;\n");

    /* A changed key is a delete of the old key and an insert of the new one. */
    trigger_head(b, "k", t->name, "AFTER UPDATE");
    rhei__buf_puts(b, " WHEN NOT (");
    key_same(b, t);
    rhei__buf_puts(b, ") BEGIN\n");
    guards(b, t, 1);
    log_insert(b, t, RHEI__EV_DELETE, "OLD", 1);
    log_insert(b, t, RHEI__EV_INSERT, "NEW", 0);
    rhei__buf_puts(b, "END;\n");

    trigger_head(b, "d", t->name, "AFTER DELETE");
    rhei__buf_puts(b, " BEGIN\n");
    log_insert(b, t, RHEI__EV_DELETE, "OLD", 1);
    rhei__buf_puts(b, "END;\n");
}

/* SQLite's own description of the table: columns, declared types, key positions. */
static int sqlite_columns(rhei__conn *w, const char *table, rhei__colspec **out, size_t *n,
                          rhei__err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(w, "SELECT name, type, pk FROM pragma_table_info(?1)", &st, e);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    size_t cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (rhei__grow((void **)out, &cap, *n + 1, sizeof **out)) {
            rc = rhei__err_nomem(e);
            break;
        }
        rhei__colspec *c = &(*out)[*n];
        memset(c, 0, sizeof *c);
        c->name = rhei__strdup((const char *)sqlite3_column_text(st, 0));
        c->decl = rhei__strdup((const char *)sqlite3_column_text(st, 1));
        c->pk = sqlite3_column_int(st, 2);
        (*n)++;
        if (!c->name || !c->decl) {
            rc = rhei__err_nomem(e);
            break;
        }
        rhei__type_from_decl(c->decl, &c->type, &c->precision, &c->scale);
    }
    if (rc == RHEI_OK && src != SQLITE_DONE)
        rc = rhei__oltp_error(rhei__conn_db(w), src, e);
    sqlite3_reset(st);
    if (rc == RHEI_OK && *n == 0)
        rc = rhei__err_set(e, RHEI_NOTFOUND, "no such table: '%s'", table);
    return rc;
}

static void free_colspecs(rhei__colspec *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rhei__free(c[i].name);
        rhei__free(c[i].decl);
    }
    rhei__free(c);
}

/* A column of an explicit schema: a name, and a declaration of the type grammar. */
static int check_column_arg(const char *table, const rhei_column *c, size_t i, rhei__err *e)
{
    if (!c->name)
        return rhei__err_set(e, RHEI_MISUSE, "column %zu of the schema given for table '%s'"
                             " has no name", i + 1, table);
    rhei__buf tmp = RHEI__BUF_INIT;
    int rc = c->decl ? rhei__decl_canon(c->decl, 0, &tmp, e) : RHEI_OK;
    rhei__buf_free(&tmp);
    return rc;
}

/* The version to register: SQLite's columns, narrowed and re-typed by an explicit schema,
 * keyed by an explicit key when given. */
static int build_version(rhei__conn *w, const char *table, const rhei_column *cols, size_t ncols,
                         const char *const *pk, size_t npk, rhei__colspec **out, size_t *n,
                         rhei__err *e)
{
    rhei__colspec *all = NULL, *sel = NULL;
    size_t nall = 0, nsel = 0;
    int rc = sqlite_columns(w, table, &all, &nall, e);
    if (rc)
        goto fail;
    if (cols) {
        if (!(sel = rhei__calloc(ncols ? ncols : 1, sizeof *sel))) {
            rc = rhei__err_nomem(e);
            goto fail;
        }
        for (size_t i = 0; i < ncols; i++, nsel++) {
            if ((rc = check_column_arg(table, &cols[i], i, e)) != RHEI_OK)
                goto fail;
            size_t j = 0;
            while (j < nall && strcasecmp(all[j].name, cols[i].name) != 0)
                j++;
            if (j == nall) {
                rc = rhei__err_set(e, RHEI_NOTFOUND, "no such column: '%s' in table '%s'",
                                   cols[i].name, table);
                goto fail;
            }
            sel[i] = all[j];
            sel[i].name = rhei__strdup(all[j].name);
            sel[i].decl = rhei__strdup(cols[i].decl && *cols[i].decl ? cols[i].decl
                                                                     : all[j].decl);
            if (!sel[i].name || !sel[i].decl) {
                nsel++;
                rc = rhei__err_nomem(e);
                goto fail;
            }
            rhei__type_from_decl(sel[i].decl, &sel[i].type, &sel[i].precision, &sel[i].scale);
        }
        free_colspecs(all, nall);
        all = sel;
        nall = nsel;
        sel = NULL;
    }
    if (pk) {
        for (size_t i = 0; i < nall; i++)
            all[i].pk = 0;
        for (size_t k = 0; k < npk; k++) {
            size_t j = 0;
            while (j < nall && strcasecmp(all[j].name, pk[k]) != 0)
                j++;
            if (j == nall) {
                rc = rhei__err_set(e, RHEI_NOTFOUND, "primary key column '%s' is not a"
                                   " replicated column of table '%s'", pk[k], table);
                goto fail;
            }
            all[j].pk = (int)k + 1;
        }
    }
    size_t haskey = 0;
    for (size_t i = 0; i < nall; i++)
        haskey += all[i].pk != 0;
    if (!haskey) {
        rc = rhei__err_set(e, RHEI_MISUSE, "table '%s' has no primary key: declare one or"
                           " name the key columns when registering it", table);
        goto fail;
    }
    *out = all;
    *n = nall;
    return RHEI_OK;
fail:
    free_colspecs(all, nall);
    free_colspecs(sel, nsel);
    return rc;
}

static int store_version(rhei__conn *w, const char *name, const rhei__colspec *cols, size_t n,
                         rhei__table **out, rhei__err *e)
{
    rhei_value p[5] = {rhei_text(name)};
    int rc = rhei__conn_exec(w, "INSERT INTO _rhei_tables(name) VALUES (?1)", p, 1, NULL, e);
    if (rc)
        return rc;
    int64_t tid = sqlite3_last_insert_rowid(rhei__conn_db(w));
    for (size_t i = 0; i < n && rc == RHEI_OK; i++) {
        p[0] = rhei_int(tid);
        p[1] = rhei_int((int64_t)i);
        p[2] = rhei_text(cols[i].name);
        p[3] = rhei_text(cols[i].decl);
        p[4] = rhei_int(cols[i].pk);
        rc = rhei__conn_exec(w, "INSERT INTO _rhei_columns VALUES (?1, ?2, ?3, ?4, ?5)", p, 5,
                             NULL, e);
    }
    return rc ? rc : rhei__table_new(name, tid, cols, n, out, e);
}

/* The log holds one generic column per column of the widest registered table. */
static int ensure_log_width(rhei__conn *w, size_t ncols, rhei__err *e)
{
    rhei_result *r = NULL;
    int rc = rhei__conn_query(w, "SELECT count(*) - 4 FROM pragma_table_info('_rhei_log')",
                              NULL, 0, &r, e);
    if (rc)
        return rc;
    int64_t have = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    for (int64_t i = have; i < (int64_t)ncols && rc == RHEI_OK; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "ALTER TABLE _rhei_log ADD COLUMN c%lld", (long long)i);
        rc = rhei__conn_exec(w, sql, NULL, 0, NULL, e);
    }
    return rc;
}

static int log_event(rhei__conn *w, int64_t tid, int op, rhei__err *e)
{
    rhei_value p[2] = {rhei_int(tid), rhei_int(op)};
    return rhei__conn_exec(w, "INSERT INTO _rhei_log(tid, op, ts) VALUES (?1, ?2, " TS_EXPR ")",
                           p, 2, NULL, e);
}

static int exec_buf(rhei__conn *w, rhei__buf *b, rhei__err *e)
{
    int rc = rhei__buf_check(b, e);
    return rc ? rc : rhei__conn_exec(w, rhei__buf_str(b), NULL, 0, NULL, e);
}

/* Makes version t the captured one: width, triggers, catalog flag and schema event. */
static int activate(rhei__conn *w, const rhei__table *t, int event, rhei__err *e)
{
    rhei__buf b = RHEI__BUF_INIT;
    int rc = ensure_log_width(w, t->ncols, e);
    if (rc == RHEI_OK) {
        drop_triggers(&b, t->name);
        create_triggers(&b, t);
        rc = exec_buf(w, &b, e);
    }
    rhei__buf_free(&b);
    return rc ? rc : log_event(w, t->tid, event, e);
}

static int begin(rhei__conn *w, rhei__err *e)
{
    return rhei__conn_exec(w, "BEGIN IMMEDIATE", NULL, 0, NULL, e);
}

static int finish(rhei__conn *w, int rc, rhei__err *e)
{
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(w, "COMMIT", NULL, 0, NULL, e);
    if (rc) {
        rhei__err ignored;
        rhei__conn_exec(w, "ROLLBACK", NULL, 0, NULL, &ignored);
    }
    return rc;
}

/* Whether cur (the active version) still matches SQLite: a detached table (dropped, renamed
 * or rebuilt outside rhei) may be registered again, and DDL on it is not rhei's to follow. */
static int is_detached(rhei__conn *w, const rhei__table *cur, int *out, rhei__err *e)
{
    char why[512];
    int rc = rhei__cdc_table_health(w, cur, why, sizeof why, e);
    *out = rc == RHEI_OK && why[0];
    return rc;
}

/* The version that registering would create, checked against every rule, in c's current
 * transaction. *out is NULL when the table is registered with this shape already. */
static int plan(rhei__conn *c, const rhei__catalog *cat, const char *table,
                const rhei_column *cols, size_t ncols, const char *const *pk, size_t npk,
                rhei__table **out, rhei__err *e)
{
    rhei__colspec *specs = NULL;
    size_t n = 0;
    int detached = 0;
    *out = NULL;
    int rc = rhei__name_check("table", table, e);
    if (rc == RHEI_OK)
        rc = rhei__cdc_check_key(table, pk, npk, e);
    if (rc == RHEI_OK)
        rc = build_version(c, table, cols, ncols, pk, npk, &specs, &n, e);
    if (rc == RHEI_OK)
        rc = rhei__cdc_check_version(cat, table, specs, n, e);
    if (rc == RHEI_OK)
        rc = rhei__table_new(table, 0, specs, n, out, e);
    const rhei__table *cur = rc ? NULL : rhei__catalog_active(cat, table);
    if (cur && (rc = is_detached(c, cur, &detached, e)) == RHEI_OK && !detached) {
        if (!rhei__table_same_shape(cur, *out))
            rc = rhei__err_set(e, RHEI_EXISTS, "already registered with another schema");
        rhei__table_free(*out); /* same shape: registering again changes nothing */
        *out = NULL;
    }
    /* A new version: keys compared alike on both sides, no existing row it would refuse. */
    if (rc == RHEI_OK && *out)
        rc = check_registrable(c, table, specs, n, e);
    free_colspecs(specs, n);
    if (rc) {
        rhei__table_free(*out);
        *out = NULL;
    }
    return rc;
}

int rhei__cdc_plan_register(rhei__conn *c, const char *table, const rhei_column *cols,
                            size_t ncols, const char *const *pk, size_t npk, rhei__table **out,
                            rhei__err *e)
{
    rhei__catalog cat = {0};
    rhei__err ignored;
    *out = NULL;
    int rc = rhei__conn_exec(c, "BEGIN", NULL, 0, NULL, e);
    if (rc == RHEI_OK) {
        if ((rc = rhei__catalog_load(c, &cat, e)) == RHEI_OK)
            rc = plan(c, &cat, table, cols, ncols, pk, npk, out, e);
        rhei__conn_exec(c, "COMMIT", NULL, 0, NULL, &ignored);
    }
    rhei__catalog_free(&cat);
    return rc ? rhei__err_wrap(e, "cannot register table '%s'", table) : RHEI_OK;
}

int rhei__cdc_register(rhei__conn *w, const char *table, const rhei_column *cols, size_t ncols,
                       const char *const *pk, size_t npk, const rhei__table *expect,
                       int64_t *out_tid, rhei__err *e)
{
    rhei__catalog cat = {0};
    rhei__table *t = NULL, *want = NULL;
    *out_tid = 0;
    int rc = begin(w, e);
    if (rc)
        return rhei__err_wrap(e, "cannot register table '%s'", table);
    if ((rc = rhei__catalog_load(w, &cat, e)) == RHEI_OK)
        rc = plan(w, &cat, table, cols, ncols, pk, npk, &want, e);
    /* The OLAP side was tried with `expect`: a table changed since must be tried again. */
    if (rc == RHEI_OK && want && expect && !rhei__table_same_shape(expect, want))
        rc = rhei__err_set(e, RHEI_BUSY, "the table changed while it was being registered;"
                           " try again");
    if (rc == RHEI_OK && want &&
        (rc = store_version(w, table, want->cols, want->ncols, &t, e)) == RHEI_OK)
        rc = activate(w, t, RHEI__EV_REGISTER, e);
    if (rc == RHEI_OK && t)
        *out_tid = t->tid;
    rc = finish(w, rc, e);
    rhei__table_free(t);
    rhei__table_free(want);
    rhei__catalog_free(&cat);
    return rc ? rhei__err_wrap(e, "cannot register table '%s'", table) : RHEI_OK;
}

int rhei__cdc_unregister(rhei__conn *w, const char *table, int64_t only_tid, const char *stmt,
                         int *out_replicated, rhei__err *e)
{
    rhei__catalog cat = {0};
    rhei__buf b = RHEI__BUF_INIT;
    int replicated = 0;
    int rc = begin(w, e);
    if (rc)
        return rhei__err_wrap(e, "cannot unregister table '%s'", table);
    if ((rc = rhei__catalog_load(w, &cat, e)) == RHEI_OK) {
        const rhei__table *cur = rhei__catalog_active(&cat, table);
        replicated = cur && (!only_tid || cur->tid == only_tid);
        if (!replicated && !stmt) {
            rc = rhei__err_set(e, RHEI_NOTFOUND, "table is not registered");
        } else if (replicated) {
            rhei_value p = rhei_text(cur->name);
            drop_triggers(&b, cur->name);
            rc = exec_buf(w, &b, e);
            if (rc == RHEI_OK)
                rc = rhei__conn_exec(w, "UPDATE _rhei_tables SET active = 0 WHERE name = ?1",
                                     &p, 1, NULL, e);
            if (rc == RHEI_OK)
                rc = log_event(w, cur->tid, RHEI__EV_DROP, e);
        }
    }
    /* The caller's own DROP TABLE commits with the unregistration, or neither does. */
    if (rc == RHEI_OK && stmt)
        rc = rhei__conn_exec(w, stmt, NULL, 0, NULL, e);
    rc = finish(w, rc, e);
    rhei__buf_free(&b);
    rhei__catalog_free(&cat);
    if (out_replicated)
        *out_replicated = rc == RHEI_OK && replicated;
    return rc ? rhei__err_wrap(e, "cannot unregister table '%s'", table) : RHEI_OK;
}

/* The declared type SQLite recorded for a column (after the caller's own ALTER). */
static char *sqlite_decl(rhei__conn *w, const char *table, const char *column, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    char *decl = NULL;
    if (rhei__conn_prepare(w, "SELECT type FROM pragma_table_info(?1) WHERE name = ?2"
                              " COLLATE NOCASE", &st, e))
        return NULL;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW &&
        !(decl = rhei__strdup((const char *)sqlite3_column_text(st, 0))))
        rhei__err_nomem(e);
    else if (!decl)
        rhei__err_set(e, RHEI_NOTFOUND, "column '%s' is not in table '%s' after the ALTER",
                      column, table);
    sqlite3_reset(st);
    return decl;
}

/* The SQLite ALTER of a schema change: the caller's own statement, or one built from the
 * checked column name and declaration. */
static int run_alter(rhei__conn *w, const rhei__table *cur, const char *column,
                     const char *decl, int drop, const char *stmt, rhei__err *e)
{
    rhei__buf b = RHEI__BUF_INIT;
    drop_triggers(&b, cur->name);
    int rc = exec_buf(w, &b, e);
    rhei__buf_reset(&b);
    if (rc == RHEI_OK && stmt) {
        rc = rhei__conn_exec(w, stmt, NULL, 0, NULL, e);
    } else if (rc == RHEI_OK) {
        rhei__buf_puts(&b, "ALTER TABLE ");
        rhei__buf_sqlite_ident(&b, cur->name);
        rhei__buf_puts(&b, drop ? " DROP COLUMN " : " ADD COLUMN ");
        rhei__buf_sqlite_ident(&b, column);
        if (!drop) {
            rhei__buf_puts(&b, " ");
            rc = rhei__decl_canon(decl ? decl : "", 1, &b, e);
        }
        rc = rc ? rc : exec_buf(w, &b, e);
    }
    rhei__buf_free(&b);
    return rc;
}

/* The version after adding or dropping one column: the old columns minus/plus one, types as
 * registered; the added column's type as SQLite recorded it. */
static int next_version(rhei__conn *w, const rhei__table *cur, const char *column, long idx,
                        int drop, rhei__table **out, rhei__err *e)
{
    rhei__colspec *specs = rhei__calloc(cur->ncols + 1, sizeof *specs);
    char *decl = drop ? NULL : sqlite_decl(w, cur->name, column, e);
    size_t n = 0;
    int rc = !specs ? rhei__err_nomem(e) : (!drop && !decl) ? e->code : RHEI_OK;
    for (size_t i = 0; rc == RHEI_OK && i < cur->ncols; i++)
        if (!drop || (long)i != idx)
            specs[n++] = cur->cols[i]; /* shallow: names stay owned by the catalog */
    if (rc == RHEI_OK && !drop) {
        specs[n].name = (char *)column;
        specs[n].decl = decl;
        specs[n].pk = 0;
        rhei__type_from_decl(decl, &specs[n].type, &specs[n].precision, &specs[n].scale);
        n++;
        if (!decl[0]) /* as registration refuses it (check_registrable) */
            rc = rhei__err_set(e, RHEI_MISUSE,
                               "column '%s' has no declared type: SQLite keeps"
                               " each value's own type, OLAP one type for the column; declare"
                               " its type",
                               column);
    }
    if (rc == RHEI_OK)
        rc = store_version(w, cur->name, specs, n, out, e);
    rhei__free(decl);
    rhei__free(specs);
    return rc;
}

/* Shared by add/drop column: ALTER in SQLite between dropping and re-creating triggers
 * (SQLite refuses to drop a column a trigger mentions), then a new version. With stmt (the
 * caller's own ALTER, through rhei_execute) on a table that is not replicated, only stmt
 * runs and *out_replicated is 0. */
static int alter(rhei__conn *w, const char *table, const char *column, const char *decl,
                 int drop, const char *stmt, int *out_replicated, rhei__err *e)
{
    rhei__catalog cat = {0};
    rhei__table *t = NULL;
    int detached = 0, replicated = 0;
    int rc = begin(w, e);
    if (rc)
        goto out;
    if ((rc = rhei__catalog_load(w, &cat, e)) != RHEI_OK)
        goto done;
    const rhei__table *cur = rhei__catalog_active(&cat, table);
    if (cur && (rc = is_detached(w, cur, &detached, e)) != RHEI_OK)
        goto done;
    if (!cur || detached) {
        rc = stmt ? rhei__conn_exec(w, stmt, NULL, 0, NULL, e)
                  : rhei__err_set(e, RHEI_NOTFOUND, cur ? "table is detached (see"
                                  " rhei_table_status): register it again first"
                                  : "table is not registered");
        goto done;
    }
    replicated = 1;
    long idx = rhei__table_col(cur, column);
    if (drop && (idx < 0 || cur->cols[idx].pk)) {
        rc = rhei__err_set(e, idx < 0 ? RHEI_NOTFOUND : RHEI_MISUSE, idx < 0
                           ? "no such replicated column" : "cannot drop a primary key column");
        goto done;
    }
    if (!drop && idx >= 0) {
        rc = rhei__err_set(e, RHEI_EXISTS, "column already exists");
        goto done;
    }
    if (!drop && (rc = rhei__name_check("column", column, e)) != RHEI_OK)
        goto done;
    if ((rc = run_alter(w, cur, column, decl, drop, stmt, e)) == RHEI_OK &&
        (rc = next_version(w, cur, column, idx, drop, &t, e)) == RHEI_OK)
        rc = activate(w, t, RHEI__EV_ALTER, e);
done:
    rc = finish(w, rc, e);
    rhei__table_free(t);
    rhei__catalog_free(&cat);
out:
    if (out_replicated)
        *out_replicated = rc == RHEI_OK && replicated;
    if (rc)
        rhei__err_wrap(e, "cannot %s column '%s' %s table '%s'", drop ? "drop" : "add", column,
                       drop ? "from" : "to", table);
    return rc;
}

int rhei__cdc_add_column(rhei__conn *w, const char *table, const char *column,
                         const char *decl, const char *stmt, int *out_replicated, rhei__err *e)
{
    return alter(w, table, column, decl, 0, stmt, out_replicated, e);
}

int rhei__cdc_drop_column(rhei__conn *w, const char *table, const char *column,
                          const char *stmt, int *out_replicated, rhei__err *e)
{
    return alter(w, table, column, NULL, 1, stmt, out_replicated, e);
}

int rhei__cdc_resync(rhei__conn *w, const char *table, rhei__err *e)
{
    rhei__catalog cat = {0};
    int rc = begin(w, e);
    if (rc)
        return rhei__err_wrap(e, "cannot resync table '%s'", table);
    if ((rc = rhei__catalog_load(w, &cat, e)) == RHEI_OK) {
        const rhei__table *cur = rhei__catalog_active(&cat, table);
        rc = cur ? log_event(w, cur->tid, RHEI__EV_RESYNC, e)
                 : rhei__err_set(e, RHEI_NOTFOUND, "table is not registered");
    }
    rc = finish(w, rc, e);
    rhei__catalog_free(&cat);
    return rc ? rhei__err_wrap(e, "cannot resync table '%s'", table) : RHEI_OK;
}
