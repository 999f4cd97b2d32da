/* arrow.c — export of a rhei_result through the Arrow C stream interface: one record batch
 * (a struct array with one child per column), converted eagerly so conversion errors surface
 * from rhei_result_to_arrow and the stream callbacks cannot fail except for get_schema's
 * allocations. Ownership: every exported ArrowSchema and ArrowArray, children included, owns
 * its own private_data and can be released on its own (after being moved out of its
 * parent); a parent releases only the children still unreleased. */
#include "arrow_node.h"
#include "buf.h"
#include "mem.h"
#include "result.h"
#include "schema.h"
#include "value.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define US_PER_DAY INT64_C(86400000000)
#define DEC_MAX_PRECISION 38

/* private_data of the stream. Names and formats outlive the result, for get_schema. */
typedef struct stream_priv {
    size_t ncols;
    char **names, **formats;
    struct ArrowArray batch; /* release == NULL once handed out by get_next */
    char err[256];
} stream_priv;

/* What a column converts from: the result, its column, and its decimal shape. */
typedef struct colctx {
    rhei_result *r;
    size_t col;
    rhei_type type;
    int precision, scale;
    rhei__err *e;
} colctx;

/* --- cell conversions ------------------------------------------------------------------ */

static int bad_cell(const colctx *cx, size_t row, const char *target, const char *why)
{
    size_t n = 0;
    const char *t = rhei_result_text(cx->r, row, cx->col, &n);
    return rhei__err_set(cx->e, RHEI_TYPE, "cannot export column '%s' row %zu as %s: "
                         "'%.*s' %s", cx->r->cols[cx->col].name, row, target,
                         (int)(n > 40 ? 40 : n), t ? t : "", why);
}

/* Whole text parse of an integer, or of a float that is then truncated. */
static int text_to_int64(const char *s, size_t n, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (n && end == s + n && errno == 0) {
        *out = v;
        return 0;
    }
    double d = strtod(s, &end);
    if (!n || end != s + n || !(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18))
        return -1;
    *out = (int64_t)d;
    return 0;
}

static int cell_int64(const colctx *cx, size_t row, int64_t *out)
{
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    switch (v.type) {
    case RHEI_TYPE_REAL:
        if (!(v.f >= -9.2233720368547758e18 && v.f < 9.2233720368547758e18))
            return bad_cell(cx, row, "INTEGER", "is out of range");
        *out = (int64_t)v.f;
        return RHEI_OK;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        if (text_to_int64(v.s, v.n, out))
            return bad_cell(cx, row, "INTEGER", "is not a number");
        return RHEI_OK;
    case RHEI_TYPE_BLOB:
        return bad_cell(cx, row, "INTEGER", "is a blob");
    default:
        *out = v.i;
        return RHEI_OK;
    }
}

static int cell_double(const colctx *cx, size_t row, double *out)
{
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    char *end = NULL;
    switch (v.type) {
    case RHEI_TYPE_REAL:
        *out = v.f;
        return RHEI_OK;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        *out = strtod(v.s, &end);
        if (!v.n || end != v.s + v.n)
            return bad_cell(cx, row, "REAL", "is not a number");
        return RHEI_OK;
    case RHEI_TYPE_BLOB:
        return bad_cell(cx, row, "REAL", "is a blob");
    default:
        *out = (double)v.i;
        return RHEI_OK;
    }
}

static int cell_bool(const colctx *cx, size_t row, int *out)
{
    static const char *yes[] = {"true", "t", "yes", "on"}, *no[] = {"false", "f", "no", "off"};
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    __int128 d;
    if (v.type == RHEI_TYPE_REAL) {
        *out = v.f != 0;
        return RHEI_OK;
    }
    if (v.type != RHEI_TYPE_TEXT && v.type != RHEI_TYPE_DECIMAL) {
        if (v.type == RHEI_TYPE_BLOB)
            return bad_cell(cx, row, "BOOLEAN", "is a blob");
        *out = v.i != 0;
        return RHEI_OK;
    }
    for (size_t i = 0; i < 4; i++) {
        if (strlen(yes[i]) == v.n && strncasecmp(v.s, yes[i], v.n) == 0)
            return *out = 1, RHEI_OK;
        if (strlen(no[i]) == v.n && strncasecmp(v.s, no[i], v.n) == 0)
            return *out = 0, RHEI_OK;
    }
    if (rhei__decimal_parse(v.s, v.n, 6, &d))
        return bad_cell(cx, row, "BOOLEAN", "is not a boolean");
    *out = d != 0;
    return RHEI_OK;
}

static __int128 pow10_128(int k)
{
    __int128 p = 1;
    while (k-- > 0)
        p *= 10;
    return p;
}

static int cell_decimal(const colctx *cx, size_t row, __int128 *out)
{
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    const __int128 limit = pow10_128(cx->precision); /* |value| < 10^p */
    char tmp[512];
    __int128 d = 0;
    if (v.type == RHEI_TYPE_BLOB)
        return bad_cell(cx, row, "DECIMAL", "is a blob");
    if (v.type == RHEI_TYPE_REAL) {
        int n = isfinite(v.f) ? snprintf(tmp, sizeof tmp, "%.*f", cx->scale, v.f) : -1;
        if (n < 0 || (size_t)n >= sizeof tmp ||
            rhei__decimal_parse(tmp, (size_t)n, cx->scale, &d))
            return bad_cell(cx, row, "DECIMAL", "does not fit");
    } else if (v.type == RHEI_TYPE_TEXT || v.type == RHEI_TYPE_DECIMAL) {
        if (rhei__decimal_parse(v.s, v.n, cx->scale, &d))
            return bad_cell(cx, row, "DECIMAL", "is not a decimal number");
    } else { /* INTEGER and the other integer-valued cells */
        __int128 scale = pow10_128(cx->scale);
        if (v.i > 0 ? (__int128)v.i > limit / scale : (__int128)v.i < -(limit / scale))
            return bad_cell(cx, row, "DECIMAL", "does not fit the precision");
        d = (__int128)v.i * scale;
    }
    if (d >= limit || d <= -limit)
        return bad_cell(cx, row, "DECIMAL", "does not fit the precision");
    *out = d;
    return RHEI_OK;
}

static int cell_date(const colctx *cx, size_t row, int32_t *out)
{
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    int64_t days = v.i, us;
    if (v.type == RHEI_TYPE_TEXT || v.type == RHEI_TYPE_DECIMAL) {
        int32_t d32;
        if (rhei__parse_date(v.s, v.n, &d32) == 0)
            days = d32;
        else if (rhei__parse_timestamp(v.s, v.n, &us) == 0) /* a datetime: its day */
            days = us / US_PER_DAY - (us % US_PER_DAY < 0);
        else
            return bad_cell(cx, row, "DATE", "is not a date");
    } else if (v.type == RHEI_TYPE_TIMESTAMP) {
        days = v.i / US_PER_DAY - (v.i % US_PER_DAY < 0);
    } else if (v.type == RHEI_TYPE_REAL || v.type == RHEI_TYPE_BLOB) {
        return bad_cell(cx, row, "DATE", "is not a date");
    } /* INTEGER: already days since the epoch, as in rhei_value */
    if (days < INT32_MIN || days > INT32_MAX)
        return bad_cell(cx, row, "DATE", "is out of range");
    *out = (int32_t)days;
    return RHEI_OK;
}

static int cell_timestamp(const colctx *cx, size_t row, int64_t *out)
{
    rhei_value v = rhei_result_value(cx->r, row, cx->col);
    if (v.type == RHEI_TYPE_TEXT || v.type == RHEI_TYPE_DECIMAL) {
        if (rhei__parse_timestamp(v.s, v.n, out))
            return bad_cell(cx, row, "TIMESTAMP", "is not a timestamp");
        return RHEI_OK;
    }
    if (v.type == RHEI_TYPE_DATE) {
        if (v.i > INT64_MAX / US_PER_DAY || v.i < INT64_MIN / US_PER_DAY)
            return bad_cell(cx, row, "TIMESTAMP", "is out of range");
        *out = v.i * US_PER_DAY;
        return RHEI_OK;
    }
    if (v.type == RHEI_TYPE_REAL || v.type == RHEI_TYPE_BLOB)
        return bad_cell(cx, row, "TIMESTAMP", "is not a timestamp");
    *out = v.i; /* INTEGER: microseconds since the epoch, as in rhei_value */
    return RHEI_OK;
}

/* --- columns -------------------------------------------------------------------------- */

/* Validity bitmap only when the column has NULLs (Arrow lets it be absent otherwise). */
static int fill_validity(const colctx *cx, struct ArrowArray *a)
{
    size_t n = cx->r->nrows, nulls = 0;
    for (size_t i = 0; i < n; i++)
        nulls += rhei_result_is_null(cx->r, i, cx->col);
    a->null_count = (int64_t)nulls;
    if (!nulls)
        return RHEI_OK;
    uint8_t *bits = rhei__arrow_array_buffer(a, 0, (n + 7) / 8);
    if (!bits)
        return rhei__err_nomem(cx->e);
    for (size_t i = 0; i < n; i++)
        if (!rhei_result_is_null(cx->r, i, cx->col))
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
    return RHEI_OK;
}

/* utf8 or binary: int32 offsets, so one column holds at most 2 GiB. */
static int fill_varlen(const colctx *cx, struct ArrowArray *a)
{
    size_t n = cx->r->nrows;
    int32_t *off = rhei__arrow_array_buffer(a, 1, (n + 1) * sizeof *off);
    rhei__buf b = RHEI__BUF_INIT;
    b.max = INT32_MAX;
    if (!off)
        return rhei__err_nomem(cx->e);
    for (size_t i = 0; i < n && !b.failed; i++) {
        size_t len = 0;
        const char *s = rhei_result_is_null(cx->r, i, cx->col)
                            ? NULL : rhei_result_text(cx->r, i, cx->col, &len);
        if (s)
            rhei__buf_append(&b, s, len);
        off[i + 1] = (int32_t)b.len;
    }
    if (b.failed) {
        int failed = b.failed;
        rhei__buf_free(&b);
        if (failed == RHEI_NOMEM)
            return rhei__err_nomem(cx->e);
        return rhei__err_set(cx->e, RHEI_RANGE, "cannot export column '%s': more than 2 GiB "
                             "of data", cx->r->cols[cx->col].name);
    }
    void *heap = b.p ? b.p : rhei__calloc(1, 1); /* never NULL, even when empty */
    rhei__arrow_array_own(a, 2, heap);
    return heap ? RHEI_OK : rhei__err_nomem(cx->e);
}

static int fill_bool(const colctx *cx, struct ArrowArray *a)
{
    size_t n = cx->r->nrows;
    uint8_t *bits = rhei__arrow_array_buffer(a, 1, (n + 7) / 8);
    if (!bits)
        return rhei__err_nomem(cx->e);
    for (size_t i = 0; i < n; i++) {
        int b = 0, rc;
        if (rhei_result_is_null(cx->r, i, cx->col))
            continue;
        if ((rc = cell_bool(cx, i, &b)))
            return rc;
        if (b)
            bits[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return RHEI_OK;
}

/* Fixed-width values: NULL slots stay zero. */
static int fill_fixed(const colctx *cx, struct ArrowArray *a, size_t width)
{
    size_t n = cx->r->nrows;
    char *data = rhei__arrow_array_buffer(a, 1, n * width);
    if (!data)
        return rhei__err_nomem(cx->e);
    for (size_t i = 0; i < n; i++) {
        void *dst = data + i * width;
        int rc = RHEI_OK;
        if (rhei_result_is_null(cx->r, i, cx->col))
            continue;
        switch (cx->type) {
        case RHEI_TYPE_INTEGER: rc = cell_int64(cx, i, dst); break;
        case RHEI_TYPE_REAL: rc = cell_double(cx, i, dst); break;
        case RHEI_TYPE_DECIMAL: rc = cell_decimal(cx, i, dst); break;
        case RHEI_TYPE_DATE: rc = cell_date(cx, i, dst); break;
        default: rc = cell_timestamp(cx, i, dst); break;
        }
        if (rc)
            return rc;
    }
    return RHEI_OK;
}

/* Arrow format string of a column; sets the decimal shape in cx. */
static void column_format(colctx *cx, char *buf, size_t size)
{
    const rhei__rcol *c = &cx->r->cols[cx->col];
    const char *f = "u";
    cx->type = c->type;
    switch (c->type) {
    case RHEI_TYPE_INTEGER: f = "l"; break;
    case RHEI_TYPE_REAL: f = "g"; break;
    case RHEI_TYPE_BLOB: f = "z"; break;
    case RHEI_TYPE_BOOLEAN: f = "b"; break;
    case RHEI_TYPE_DATE: f = "tdD"; break;
    case RHEI_TYPE_TIMESTAMP: f = "tsu:UTC"; break;
    case RHEI_TYPE_DECIMAL: {
        rhei_type t;
        int p = c->precision, s = c->scale;
        if (p <= 0) /* shape not given: take it from the declared type, as the type map does */
            rhei__type_from_decl(c->decl && *c->decl ? c->decl : "DECIMAL", &t, &p, &s);
        cx->precision = p < 1 ? 1 : p > DEC_MAX_PRECISION ? DEC_MAX_PRECISION : p;
        cx->scale = s < 0 ? 0 : s > cx->precision ? cx->precision : s;
        snprintf(buf, size, "d:%d,%d", cx->precision, cx->scale);
        return;
    }
    default: cx->type = RHEI_TYPE_TEXT; break; /* TEXT, and NULL if never settled */
    }
    snprintf(buf, size, "%s", f);
}

static int export_column(colctx *cx, struct ArrowArray *a)
{
    int varlen = cx->type == RHEI_TYPE_TEXT || cx->type == RHEI_TYPE_BLOB;
    int rc = rhei__arrow_array_init(a, (int64_t)cx->r->nrows, varlen ? 3 : 2, 0);
    if (rc)
        return rhei__err_nomem(cx->e);
    if ((rc = fill_validity(cx, a)))
        return rc;
    switch (cx->type) {
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_BLOB: return fill_varlen(cx, a);
    case RHEI_TYPE_BOOLEAN: return fill_bool(cx, a);
    case RHEI_TYPE_DECIMAL: return fill_fixed(cx, a, 16);
    case RHEI_TYPE_DATE: return fill_fixed(cx, a, 4);
    default: return fill_fixed(cx, a, 8);
    }
}

/* --- the stream ----------------------------------------------------------------------- */

static int stream_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
    stream_priv *sp = st->private_data;
    int rc = rhei__arrow_schema_init(out, "+s", "", sp->ncols);
    for (size_t i = 0; rc == 0 && i < sp->ncols; i++) {
        rc = rhei__arrow_schema_init(out->children[i], sp->formats[i], sp->names[i], 0);
        out->children[i]->flags = ARROW_FLAG_NULLABLE;
    }
    if (rc) {
        if (out->release)
            out->release(out);
        snprintf(sp->err, sizeof sp->err, "get_schema: out of memory");
        return ENOMEM;
    }
    return 0;
}

static int stream_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
    stream_priv *sp = st->private_data;
    *out = sp->batch; /* moved; after the one batch, release == NULL marks the end */
    memset(&sp->batch, 0, sizeof sp->batch);
    return 0;
}

static const char *stream_last_error(struct ArrowArrayStream *st)
{
    stream_priv *sp = st->private_data;
    return sp && sp->err[0] ? sp->err : NULL;
}

static void stream_release(struct ArrowArrayStream *st)
{
    stream_priv *sp = st->private_data;
    if (sp) {
        if (sp->batch.release)
            sp->batch.release(&sp->batch);
        for (size_t i = 0; i < sp->ncols; i++) {
            rhei__free(sp->names[i]);
            rhei__free(sp->formats[i]);
        }
        rhei__free(sp->names);
        rhei__free(sp->formats);
        rhei__free(sp);
    }
    st->private_data = NULL;
    st->release = NULL;
}

/* Builds the batch and the column formats into sp. */
static int build(rhei_result *r, stream_priv *sp, rhei__err *e)
{
    struct ArrowArray *b = &sp->batch;
    if (rhei__arrow_array_init(b, (int64_t)r->nrows, 1, r->ncols))
        return rhei__err_nomem(e);
    sp->names = rhei__calloc(r->ncols ? r->ncols : 1, sizeof *sp->names);
    sp->formats = rhei__calloc(r->ncols ? r->ncols : 1, sizeof *sp->formats);
    if (!sp->names || !sp->formats)
        return rhei__err_nomem(e);
    for (size_t c = 0; c < r->ncols; c++) {
        char fmt[32];
        colctx cx = {r, c, RHEI_TYPE_TEXT, 0, 0, e};
        column_format(&cx, fmt, sizeof fmt);
        sp->ncols = c + 1; /* names/formats up to here are freed by stream_release */
        sp->names[c] = rhei__strdup(r->cols[c].name ? r->cols[c].name : "");
        sp->formats[c] = rhei__strdup(fmt);
        if (!sp->names[c] || !sp->formats[c])
            return rhei__err_nomem(e);
        int rc = export_column(&cx, b->children[c]);
        if (rc)
            return rc;
    }
    return RHEI_OK;
}

/* Internal form with the reason in e; the public call drops it (it has no handle). */
static int to_arrow(rhei_result *r, struct ArrowArrayStream *out, rhei__err *e)
{
    stream_priv *sp = rhei__calloc(1, sizeof *sp);
    memset(out, 0, sizeof *out);
    if (!sp)
        return rhei__err_nomem(e);
    out->get_schema = stream_get_schema;
    out->get_next = stream_get_next;
    out->get_last_error = stream_last_error;
    out->release = stream_release;
    out->private_data = sp;
    int rc = build(r, sp, e);
    if (rc) {
        stream_release(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

int rhei_result_to_arrow(rhei_result *r, struct ArrowArrayStream *out)
{
    rhei__err e;
    int rc;
    rhei__err_clear(&e);
    if (!out) {
        rhei_result_free(r);
        return RHEI_MISUSE;
    }
    if (!r) {
        memset(out, 0, sizeof *out);
        return RHEI_MISUSE;
    }
    rc = to_arrow(r, out, &e);
    rhei_result_free(r);
    return rc;
}
