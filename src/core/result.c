/* result.c — the columnar result set: building it, typed cell access, text forms. Columns
 * are cells or native arrays (result_native.c). */
#include "result.h"
#include "mem.h"
#include "value.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULT_DEFAULT_MAX ((size_t)8 << 30) /* 8 GiB: a runaway query fails, not the host */

int rhei__result_new(size_t ncols, rhei_result **out, rhei__err *e)
{
    *out = NULL;
    rhei_result *r = rhei__calloc(1, sizeof *r);
    if (!r || !(r->cols = rhei__calloc(ncols ? ncols : 1, sizeof *r->cols))) {
        rhei__free(r);
        return rhei__err_nomem(e);
    }
    r->ncols = ncols;
    r->max_bytes = RESULT_DEFAULT_MAX;
    *out = r;
    return RHEI_OK;
}

int rhei__result_set_column(rhei_result *r, size_t col, const char *name, const char *decl,
                            rhei_type type, int precision, int scale, rhei__err *e)
{
    rhei__rcol *c = &r->cols[col];
    rhei__free(c->name);
    rhei__free(c->decl);
    c->name = rhei__strdup(name ? name : "");
    c->decl = rhei__strdup(decl ? decl : "");
    if (!c->name || !c->decl)
        return rhei__err_nomem(e);
    c->type = type;
    c->precision = precision;
    c->scale = scale;
    return RHEI_OK;
}

static int heap_room(rhei_result *r, size_t more, rhei__err *e)
{
    if (more > r->max_bytes || r->heap_len + r->native_bytes + more > r->max_bytes)
        return rhei__err_set(e, RHEI_RANGE, "result exceeds its %zu-byte limit", r->max_bytes);
    if (rhei__big_grow((void **)&r->heap, &r->heap_cap, r->heap_len + more, 1))
        return rhei__err_nomem(e);
    return RHEI_OK;
}

int rhei__result_push(rhei_result *r, size_t col, const rhei_value *v, rhei__err *e)
{
    rhei__rcol *c = &r->cols[col];
    size_t row = r->nrows;
    if (row >= c->cap && rhei__big_grow((void **)&c->cells, &c->cap, row + 1, sizeof *c->cells))
        return rhei__err_nomem(e);
    if (v->type == RHEI_TYPE_TEXT || v->type == RHEI_TYPE_BLOB || v->type == RHEI_TYPE_DECIMAL) {
        if (v->n > UINT32_MAX)
            return rhei__err_set(e, RHEI_RANGE, "a %zu-byte value exceeds the 4 GiB cell limit",
                                 v->n);
        int rc = heap_room(r, v->n + 1, e);
        if (rc)
            return rc;
    }
    rhei__result_put(r, col, row, v);
    return RHEI_OK;
}

void rhei__result_end_row(rhei_result *r) { r->nrows++; }

int rhei__result_reserve(rhei_result *r, size_t n, size_t heap_more, rhei__err *e)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (r->cols[c].lay == RHEI__LAY_CELLS &&
            rhei__big_grow((void **)&r->cols[c].cells, &r->cols[c].cap, r->nrows + n,
                           sizeof *r->cols[c].cells))
            return rhei__err_nomem(e);
    return heap_more ? heap_room(r, heap_more, e) : RHEI_OK;
}

void rhei__result_end_rows(rhei_result *r, size_t n) { r->nrows += n; }

void rhei__result_rescan(rhei_result *r, size_t col)
{
    rhei__rcol *c = &r->cols[col];
    unsigned seen = 0;
    if (c->lay != RHEI__LAY_CELLS)
        return; /* exact since put_native */
    for (size_t i = 0; i < r->nrows; i++)
        seen |= RHEI__TBIT(c->cells[i].type);
    c->seen = seen;
}

void rhei__result_finish(rhei_result *r)
{
    /* SQLite's rule depends only on the set of types: one type is the column's type,
     * INTEGER with REAL is REAL, any other mix is TEXT, no value at all is TEXT. */
    const unsigned num = RHEI__TBIT(RHEI_TYPE_INTEGER) | RHEI__TBIT(RHEI_TYPE_REAL);
    for (size_t c = 0; c < r->ncols; c++) {
        rhei__rcol *col = &r->cols[c];
        if (col->type != RHEI_TYPE_NULL)
            continue;
        unsigned s = col->seen & ~RHEI__TBIT(RHEI_TYPE_NULL);
        rhei_type t = RHEI_TYPE_TEXT;
        if (s == num)
            t = RHEI_TYPE_REAL;
        else if (s && !(s & (s - 1)))
            t = (rhei_type)__builtin_ctz(s);
        col->type = t;
    }
}

void rhei_result_free(rhei_result *r)
{
    if (!r)
        return;
    for (size_t c = 0; c < r->ncols; c++) {
        rhei__result_native_free(&r->cols[c]);
        rhei__free(r->cols[c].name);
        rhei__free(r->cols[c].decl);
        rhei__big_free(r->cols[c].cells, r->cols[c].cap, sizeof *r->cols[c].cells);
    }
    rhei__free(r->cols);
    rhei__big_free(r->heap, r->heap_cap, 1);
    rhei__free(r);
}

size_t rhei_result_column_count(const rhei_result *r) { return r ? r->ncols : 0; }
size_t rhei_result_row_count(const rhei_result *r) { return r ? r->nrows : 0; }
rhei_side rhei_result_side(const rhei_result *r) { return r ? r->side : RHEI_SIDE_AUTO; }
const char *rhei_result_reason(const rhei_result *r) { return r && r->reason ? r->reason : ""; }

const char *rhei_result_column_name(const rhei_result *r, size_t col)
{
    return r && col < r->ncols ? r->cols[col].name : NULL;
}

const char *rhei_result_column_decl(const rhei_result *r, size_t col)
{
    return r && col < r->ncols ? r->cols[col].decl : NULL;
}

rhei_type rhei_result_column_type(const rhei_result *r, size_t col)
{
    return r && col < r->ncols ? r->cols[col].type : RHEI_TYPE_NULL;
}

int rhei_result_is_null(const rhei_result *r, size_t row, size_t col)
{
    return rhei_result_value(r, row, col).type == RHEI_TYPE_NULL;
}

rhei_value rhei_result_value(const rhei_result *r, size_t row, size_t col)
{
    rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0};
    if (!r || col >= r->ncols || row >= r->nrows)
        return v;
    if (r->cols[col].lay != RHEI__LAY_CELLS)
        return rhei__result_native_value(r, &r->cols[col], row);
    const rhei__cell *c = &r->cols[col].cells[row];
    v.type = (rhei_type)c->type;
    switch (v.type) {
    case RHEI_TYPE_REAL:
        memcpy(&v.f, &c->v, sizeof v.f);
        break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_DECIMAL:
        v.s = r->heap + c->v;
        v.n = c->len;
        break;
    default:
        v.i = c->v;
        break;
    }
    return v;
}

int64_t rhei_result_int64(const rhei_result *r, size_t row, size_t col)
{
    rhei_value v = rhei_result_value(r, row, col);
    switch (v.type) {
    case RHEI_TYPE_REAL:
        return (int64_t)v.f;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        return strtoll(v.s, NULL, 10);
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_NULL:
        return 0;
    default:
        return v.i;
    }
}

double rhei_result_double(const rhei_result *r, size_t row, size_t col)
{
    rhei_value v = rhei_result_value(r, row, col);
    switch (v.type) {
    case RHEI_TYPE_REAL:
        return v.f;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        return strtod(v.s, NULL);
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_NULL:
        return 0;
    default:
        return (double)v.i;
    }
}

const char *rhei_result_text(const rhei_result *r, size_t row, size_t col, size_t *out_len)
{
    rhei_value v = rhei_result_value(r, row, col);
    char *buf = r ? ((rhei_result *)r)->scratch : NULL;
    size_t n = 0;
    const char *s = NULL;
    switch (v.type) {
    case RHEI_TYPE_NULL:
        break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_DECIMAL:
        s = v.s;
        n = v.n;
        break;
    case RHEI_TYPE_REAL:
        /* the shortest of %.15g, %.16g, %.17g that reads back exactly: 0.1 and 109.24,
         * not 0.10000000000000001; %.17g always reads back, so the loop ends there */
        for (int digits = 15; digits <= 17; digits++) {
            n = (size_t)snprintf(buf, 64, "%.*g", digits, v.f);
            if (strtod(buf, NULL) == v.f || v.f != v.f)
                break;
        }
        s = buf;
        break;
    case RHEI_TYPE_BOOLEAN:
        n = (size_t)snprintf(buf, 64, "%s", v.i ? "true" : "false");
        s = buf;
        break;
    case RHEI_TYPE_DATE:
        rhei__format_date((int32_t)v.i, buf, 64);
        n = strlen(buf);
        s = buf;
        break;
    case RHEI_TYPE_TIMESTAMP:
        rhei__format_timestamp(v.i, buf, 64);
        n = strlen(buf);
        s = buf;
        break;
    default:
        n = (size_t)snprintf(buf, 64, "%" PRId64, v.i);
        s = buf;
        break;
    }
    if (out_len)
        *out_len = n;
    return s;
}

const void *rhei_result_blob(const rhei_result *r, size_t row, size_t col, size_t *out_len)
{
    return rhei_result_text(r, row, col, out_len);
}
