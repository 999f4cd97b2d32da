/* conform.c — one value model for results from either side (src/route/README.md, "Same
 * answer on either side"): column names and declared types are SQLite's; a column that names
 * a declared column has that column's type (DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP too, on
 * the SQLite side where they are stored as numbers or text); an expression's type is settled
 * from its values as SQLite's are (DuckDB's DECIMAL, BOOLEAN, DATE, TIMESTAMP values become
 * REAL, INTEGER and TEXT, which is what SQLite computes for them). */
#include "conform.h"
#include "schema.h"
#include "value.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends n bytes to the result's heap and points cell at them. */
static int cell_text(rhei_result *r, rhei__cell *cell, rhei_type type, const char *s, size_t n,
                     rhei__err *e)
{
    if (r->heap_len + r->native_bytes + n + 1 > r->max_bytes)
        return rhei__err_set(e, RHEI_RANGE, "result exceeds its %zu-byte limit", r->max_bytes);
    if (rhei__big_grow((void **)&r->heap, &r->heap_cap, r->heap_len + n + 1, 1))
        return rhei__err_nomem(e);
    memcpy(r->heap + r->heap_len, s, n);
    r->heap[r->heap_len + n] = '\0';
    cell->type = (uint8_t)type;
    cell->v = (int64_t)r->heap_len;
    cell->len = (uint32_t)n;
    r->heap_len += n + 1;
    return RHEI_OK;
}

static double cell_real(const rhei_result *r, const rhei__cell *cell)
{
    double d;
    if (cell->type == RHEI_TYPE_REAL) {
        memcpy(&d, &cell->v, sizeof d);
        return d;
    }
    if (cell->type == RHEI_TYPE_DECIMAL)
        return strtod(r->heap + cell->v, NULL);
    return (double)cell->v;
}

/* A number cell of a column declared DECIMAL(p,s) as decimal text at scale s. */
static int to_decimal(rhei_result *r, rhei__cell *cell, int scale, rhei__err *e)
{
    char num[64], out[64];
    __int128 x;
    int n = cell->type == RHEI_TYPE_INTEGER
                ? snprintf(num, sizeof num, "%lld", (long long)cell->v)
                : snprintf(num, sizeof num, "%.*f", scale, cell_real(r, cell));
    if (n <= 0 || (size_t)n >= sizeof num || rhei__decimal_parse(num, (size_t)n, scale, &x))
        return RHEI_OK; /* out of range for text: the cell keeps its SQLite value */
    rhei__decimal_format(x, scale, out, sizeof out);
    return cell_text(r, cell, RHEI_TYPE_DECIMAL, out, strlen(out), e);
}

/* Converts one non-NULL cell of a column declared with type t (SQLite side: stored forms). */
static int to_declared(rhei_result *r, rhei__cell *cell, rhei_type t, int scale, rhei__err *e)
{
    /* only a TEXT cell's v is an offset into the heap */
    const char *s = cell->type == RHEI_TYPE_TEXT && r->heap ? r->heap + cell->v : "";
    int64_t us;
    int32_t days;
    switch (t) {
    case RHEI_TYPE_DECIMAL:
        if (cell->type == RHEI_TYPE_INTEGER || cell->type == RHEI_TYPE_REAL)
            return to_decimal(r, cell, scale, e);
        break;
    case RHEI_TYPE_BOOLEAN:
        if (cell->type == RHEI_TYPE_INTEGER) {
            cell->type = RHEI_TYPE_BOOLEAN;
            cell->v = cell->v != 0;
        }
        break;
    case RHEI_TYPE_DATE:
        if (cell->type == RHEI_TYPE_TEXT && rhei__parse_date(s, cell->len, &days) == 0) {
            cell->type = RHEI_TYPE_DATE;
            cell->v = days;
        }
        break;
    case RHEI_TYPE_TIMESTAMP:
        if (cell->type == RHEI_TYPE_TEXT && rhei__parse_timestamp(s, cell->len, &us) == 0) {
            cell->type = RHEI_TYPE_TIMESTAMP;
            cell->v = us;
        } else if (cell->type == RHEI_TYPE_INTEGER) { /* Unix seconds, as the sync reads it */
            cell->type = RHEI_TYPE_TIMESTAMP;
            cell->v *= 1000000;
        }
        break;
    case RHEI_TYPE_REAL:
        if (cell->type == RHEI_TYPE_INTEGER) {
            double d = (double)cell->v;
            cell->type = RHEI_TYPE_REAL;
            memcpy(&cell->v, &d, sizeof d);
        }
        break;
    default:
        break;
    }
    return RHEI_OK;
}

/* An expression's cell as SQLite computes it: no DECIMAL, BOOLEAN, DATE or TIMESTAMP. */
static int to_sqlite_class(rhei_result *r, rhei__cell *cell, rhei__err *e)
{
    char buf[48];
    double d;
    /* DECIMAL, DATE and TIMESTAMP stay: DuckDB's exact sum(d) and max(dt) are the better
     * answer, equal in value to SQLite's REAL and text (README: not guaranteed equal type). */
    (void)r;
    (void)e;
    (void)buf;
    (void)d;
    if (cell->type == RHEI_TYPE_BOOLEAN)
        cell->type = RHEI_TYPE_INTEGER;
    return RHEI_OK;
}

/* 1 if every cell of col already has type t (or is NULL): nothing to convert. */
static int all_of(const rhei__rcol *col, rhei_type t)
{
    return !(col->seen & ~(RHEI__TBIT(RHEI_TYPE_NULL) | RHEI__TBIT(t)));
}

/* A native column (result.h) whose values are all of type from, read as type to without a
 * copy (BOOLEAN's 0/1 as INTEGER); 1 if done. */
static int retype_in_place(rhei__rcol *col, rhei_type from, rhei_type to)
{
    if (col->lay == RHEI__LAY_CELLS || col->lay_type != from)
        return 0;
    col->lay_type = to;
    if (col->seen & RHEI__TBIT(from))
        col->seen = (col->seen & ~RHEI__TBIT(from)) | RHEI__TBIT(to);
    return 1;
}

/* Cells to change in place: a native column becomes cells first. */
static int changeable(rhei_result *r, const rhei__rcol *col, rhei__err *e)
{
    return rhei__result_to_cells(r, (size_t)(col - r->cols), e);
}

/* After a pass that may have changed cell types in place: col->seen stays exact. */
static void rescan(rhei_result *r, const rhei__rcol *col)
{
    rhei__result_rescan(r, (size_t)(col - r->cols));
}

/* The SQLite storage class a value of type t computes as (DuckDB's exact types included). */
static rhei_type sqlite_class_of(rhei_type t)
{
    switch (t) {
    case RHEI_TYPE_DECIMAL: return RHEI_TYPE_REAL;
    case RHEI_TYPE_BOOLEAN: return RHEI_TYPE_INTEGER;
    case RHEI_TYPE_DATE:
    case RHEI_TYPE_TIMESTAMP: return RHEI_TYPE_TEXT;
    default: return t;
    }
}

int rhei__conform_olap_type(const char *decl, rhei_type *t, int *p, int *s)
{
    rhei_type d = RHEI_TYPE_NULL, served = *t;
    int dp = 0, ds = 0;
    if (decl && decl[0])
        rhei__type_from_decl(decl, &d, &dp, &ds);
    if (d == RHEI_TYPE_DECIMAL && dp == 0) { /* no precision: DuckDB stores DECIMAL(18,3) */
        dp = 18;
        ds = 3;
    }
    if (d != RHEI_TYPE_NULL &&
        (d == served ||
         (d == RHEI_TYPE_DECIMAL && (served == RHEI_TYPE_INTEGER || served == RHEI_TYPE_REAL)) ||
         ((d == RHEI_TYPE_BOOLEAN || d == RHEI_TYPE_REAL) && served == RHEI_TYPE_INTEGER))) {
        *t = d; /* the declared column's type */
        *p = d == RHEI_TYPE_DECIMAL ? dp : 0;
        *s = d == RHEI_TYPE_DECIMAL ? ds : 0;
        return 1;
    }
    if (served == RHEI_TYPE_BOOLEAN) /* an expression as SQLite computes it */
        *t = RHEI_TYPE_INTEGER;
    if (*t != RHEI_TYPE_DECIMAL)
        *p = *s = 0;
    return 0;
}

static int has_value(const rhei__rcol *col)
{
    return (col->seen & ~RHEI__TBIT(RHEI_TYPE_NULL)) != 0;
}

/* A column DuckDB served with a known type: typed by rhei__conform_olap_type, so a stream
 * (which types columns before seeing values) gives the same answer; *done = 1 when it did.
 * *done = 0 leaves an expression without any value to the SQLite rules (no value, no type). */
static int conform_olap_column(rhei_result *r, rhei__rcol *col, int *done, rhei__err *e)
{
    rhei_type t = col->type;
    int p = col->precision, s = col->scale, rc = RHEI_OK;
    *done = rhei__conform_olap_type(col->decl, &t, &p, &s) || has_value(col);
    if (!*done)
        return RHEI_OK;
    if (!all_of(col, t) &&
        !(t == RHEI_TYPE_INTEGER && retype_in_place(col, RHEI_TYPE_BOOLEAN, t)) &&
        (rc = changeable(r, col, e)) == RHEI_OK) {
        for (size_t i = 0; i < r->nrows && rc == RHEI_OK; i++) {
            rhei__cell *cell = &col->cells[i];
            if (cell->type == RHEI_TYPE_NULL || cell->type == t)
                continue;
            if (t == RHEI_TYPE_INTEGER && cell->type == RHEI_TYPE_BOOLEAN)
                cell->type = RHEI_TYPE_INTEGER;
            else
                rc = to_declared(r, cell, t, s, e);
        }
        rescan(r, col);
    }
    col->type = all_of(col, t) ? t : RHEI_TYPE_NULL; /* mixed: settled by finish */
    col->precision = t == RHEI_TYPE_DECIMAL ? p : 0;
    col->scale = t == RHEI_TYPE_DECIMAL ? s : 0;
    return rc;
}

static int conform_column(rhei_result *r, size_t c, rhei__err *e)
{
    rhei__rcol *col = &r->cols[c];
    rhei_type t = RHEI_TYPE_NULL;
    int p = 0, s = 0, rc = RHEI_OK, done = 0;
    if (r->side == RHEI_SIDE_OLAP && col->type != RHEI_TYPE_NULL &&
        ((rc = conform_olap_column(r, col, &done, e)) || done))
        return rc;
    if (col->decl && col->decl[0])
        rhei__type_from_decl(col->decl, &t, &p, &s);
    if (t == RHEI_TYPE_DECIMAL && p == 0) { /* no precision: DuckDB stores DECIMAL(18,3) */
        p = 18;
        s = 3;
    }
    if (t == RHEI_TYPE_NULL) { /* an expression: typed by its values, as SQLite types it */
        rhei_type served = sqlite_class_of(col->type);
        if ((col->seen & RHEI__TBIT(RHEI_TYPE_BOOLEAN)) &&
            !retype_in_place(col, RHEI_TYPE_BOOLEAN, RHEI_TYPE_INTEGER) &&
            (rc = changeable(r, col, e)) == RHEI_OK) {
            for (size_t i = 0; i < r->nrows && rc == RHEI_OK; i++)
                rc = to_sqlite_class(r, &col->cells[i], e);
            rescan(r, col);
        }
        /* no row to settle it (an empty result, a schema probe): the serving side's type in
         * SQLite's classes, so a probe's schema equals the full result's; else by finish */
        col->type = r->nrows == 0 ? served : RHEI_TYPE_NULL;
        col->precision = col->scale = 0;
        return rc;
    }
    if (!all_of(col, t) && (rc = changeable(r, col, e)) == RHEI_OK) {
        for (size_t i = 0; i < r->nrows && rc == RHEI_OK; i++)
            if (col->cells[i].type != RHEI_TYPE_NULL && col->cells[i].type != t)
                rc = to_declared(r, &col->cells[i], t, s, e);
        rescan(r, col);
    }
    col->type = all_of(col, t) ? t : RHEI_TYPE_NULL; /* mixed: settled by finish */
    col->precision = t == RHEI_TYPE_DECIMAL ? p : 0;
    col->scale = t == RHEI_TYPE_DECIMAL ? s : 0;
    return rc;
}

/* SQLite's text of a REAL ("%!.15g"): 15 significant digits, integral values keep ".0". */
static void real_text(double d, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%.15g", d);
    if (n > 0 && (size_t)n + 2 < size && !strpbrk(buf, ".eni"))
        memcpy(buf + n, ".0", 3);
}

static int exact_double(int64_t v)
{
    const int64_t lim = (int64_t)1 << 53; /* every integer up to 2^53 is a double */
    if (v >= -lim && v <= lim)
        return 1;
    double d = (double)v; /* 2^63 when v rounds up past INT64_MAX: not cast back */
    return d < 9223372036854775808.0 && (int64_t)d == v;
}

/* Cells take their column's settled type where SQLite mixes them: INTEGER cells of a REAL
 * column become REAL, numbers in a TEXT column become their text (DuckDB's types are static,
 * so its cells never mix). An integer a double cannot hold (beyond 2^53, 9007199254740993)
 * stays an INTEGER cell: the column is REAL, but no value is changed by being read. */
static int settle_cells(rhei_result *r, rhei__rcol *col, rhei__err *e)
{
    char buf[64];
    int rc = RHEI_OK;
    const unsigned num = RHEI__TBIT(RHEI_TYPE_INTEGER) | RHEI__TBIT(RHEI_TYPE_REAL);
    if (!((col->type == RHEI_TYPE_REAL && (col->seen & RHEI__TBIT(RHEI_TYPE_INTEGER))) ||
          (col->type == RHEI_TYPE_TEXT && (col->seen & num))))
        return RHEI_OK;
    if ((rc = changeable(r, col, e)) != RHEI_OK)
        return rc;
    for (size_t i = 0; i < r->nrows && rc == RHEI_OK; i++) {
        rhei__cell *cell = &col->cells[i];
        if (col->type == RHEI_TYPE_REAL && cell->type == RHEI_TYPE_INTEGER &&
            exact_double(cell->v)) {
            double d = (double)cell->v;
            cell->type = RHEI_TYPE_REAL;
            memcpy(&cell->v, &d, sizeof d);
        } else if (col->type == RHEI_TYPE_TEXT &&
                   (cell->type == RHEI_TYPE_INTEGER || cell->type == RHEI_TYPE_REAL)) {
            if (cell->type == RHEI_TYPE_INTEGER)
                snprintf(buf, sizeof buf, "%lld", (long long)cell->v);
            else
                real_text(cell_real(r, cell), buf, sizeof buf);
            rc = cell_text(r, cell, RHEI_TYPE_TEXT, buf, strlen(buf), e);
        }
    }
    rescan(r, col);
    return rc;
}

int rhei__conform(rhei_result *r, const rhei_result *shape, rhei__err *e)
{
    int rc = RHEI_OK;
    if (shape && shape->ncols == r->ncols)
        for (size_t c = 0; c < r->ncols && rc == RHEI_OK; c++)
            rc = rhei__result_set_column(r, c, shape->cols[c].name, shape->cols[c].decl,
                                         r->cols[c].type, r->cols[c].precision,
                                         r->cols[c].scale, e);
    else if (r->side == RHEI_SIDE_OLAP)
        return rc; /* SQLite cannot describe it (DuckDB dialect): DuckDB's names and types */
    for (size_t c = 0; c < r->ncols && rc == RHEI_OK; c++)
        rc = conform_column(r, c, e);
    if (rc == RHEI_OK)
        rhei__result_finish(r);
    for (size_t c = 0; c < r->ncols && rc == RHEI_OK; c++)
        rc = settle_cells(r, &r->cols[c], e);
    return rc;
}
