/* result.h — building a rhei_result: both sides push cells row by row; each cell keeps its
 * own type (SQLite columns may mix types) and the column type is settled at finish. A
 * backend with typed vectors fills native arrays instead (below). */
#ifndef RHEI_CORE_RESULT_H
#define RHEI_CORE_RESULT_H
#include "err.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rhei__cell {
    int64_t v;     /* INTEGER/BOOLEAN/DATE/TIMESTAMP value, REAL bits, or heap offset */
    uint32_t len;  /* TEXT/BLOB/DECIMAL length */
    uint8_t type;  /* rhei_type */
} rhei__cell;

/* How a column's values are stored: cells, or a native array (a backend with columnar
 * data copies whole vectors: 8 bytes per number instead of a 16-byte cell per value). */
typedef enum rhei__lay {
    RHEI__LAY_CELLS = 0,
    RHEI__LAY_I8,
    RHEI__LAY_I16,
    RHEI__LAY_I32,
    RHEI__LAY_I64,
    RHEI__LAY_F64,
    RHEI__LAY_VIEW /* rhei__view: TEXT or BLOB */
} rhei__lay;

/* A 16-byte string view. A backend passes DuckDB's duckdb_string_t layout: up to 12 bytes
 * inline from offset 4, longer ones at ptr. A result keeps up to 11 bytes inline, NUL
 * padded, and longer ones NUL-terminated in its heap at offset off. */
typedef struct rhei__view {
    uint32_t len;
    char prefix[4];
    union {
        const char *ptr;
        uint64_t off;
    } at;
} rhei__view;

typedef struct rhei__rcol {
    char *name;
    char *decl;
    rhei_type type;      /* declared (or settled) column type */
    int precision, scale;
    rhei__cell *cells;
    size_t cap;
    unsigned seen;      /* exactly the set of cell types present, as RHEI__TBIT bits */
    rhei__lay lay;      /* RHEI__LAY_CELLS unless the column is a native array */
    rhei_type lay_type; /* native: the type of every non-NULL value */
    void *data;         /* native: nrows values of the layout's width */
    uint64_t *valid;    /* native: bit i set when row i is not NULL */
    size_t data_cap, valid_cap;
} rhei__rcol;

#define RHEI__TBIT(t) (1u << (unsigned)(t))

struct rhei_result {
    size_t ncols, nrows;
    rhei__rcol *cols;
    char *heap;          /* bytes of TEXT/BLOB/DECIMAL cells */
    size_t heap_len, heap_cap;
    size_t max_bytes; /* ceiling on the values' bytes: the heap and the native arrays */
    rhei_side side;
    const char *reason;
    char scratch[64];    /* text form of the last non-text cell asked for */
    size_t native_bytes; /* of the native arrays, counted against max_bytes with the heap */
    int wide_ints;       /* an integer beyond 64 bits is in it (as DECIMAL text): SQLite
                          * would have failed (sum) or gone to REAL, so routing re-asks it */
};

/* A result with ncols columns, nameless until set_column. */
int rhei__result_new(size_t ncols, rhei_result **out, rhei__err *e);
int rhei__result_set_column(rhei_result *r, size_t col, const char *name, const char *decl,
                            rhei_type type, int precision, int scale, rhei__err *e);
/* Appends one cell to column col; rows complete when every column has nrows+1 cells, which
 * rhei__result_end_row records. Bytes are copied. */
int rhei__result_push(rhei_result *r, size_t col, const rhei_value *v, rhei__err *e);
void rhei__result_end_row(rhei_result *r);
/* Column-at-a-time building, for a backend that reads whole vectors: reserve room for n
 * more rows in every cell column and heap_more bytes, fill rows nrows..nrows+n-1 of each column
 * with rhei__result_put (no allocation, cannot fail), then end_rows(n). */
int rhei__result_reserve(rhei_result *r, size_t n, size_t heap_more, rhei__err *e);
static inline void rhei__result_put(rhei_result *r, size_t col, size_t row, const rhei_value *v);
void rhei__result_end_rows(rhei_result *r, size_t n);
/* Native columns: before the first row, set_layout makes col a native array whose every
 * non-NULL value has type t. For each batch of n rows: reserve/put the cell columns as above,
 * put_native each native column from the backend's vector (values in the layout's width,
 * views in DuckDB's layout; valid NULL: no NULL), then end_rows(n). */
int rhei__result_set_layout(rhei_result *r, size_t col, rhei__lay lay, rhei_type t);
int rhei__result_put_native(rhei_result *r, size_t col, size_t n, const void *data,
                            const uint64_t *valid, rhei__err *e);
/* Turns a native column into cells (a no-op for a cell column): for code that changes cells
 * in place. */
int rhei__result_to_cells(rhei_result *r, size_t col, rhei__err *e);
/* Frees a native column's arrays (a no-op for a cell column). */
void rhei__result_native_free(rhei__rcol *c);

/* Recomputes col->seen after cells changed type in place. */
void rhei__result_rescan(rhei_result *r, size_t col);
/* Settles each column's type from its cells when the column was declared NULL (unknown):
 * one type -> that type, INTEGER+REAL -> REAL, anything else mixed -> TEXT. */
void rhei__result_finish(rhei_result *r);

/* Inline: a backend's fill loop calls it per cell (3M times for a 1M-row result). */
static inline void rhei__result_put(rhei_result *r, size_t col, size_t row, const rhei_value *v)
{
    rhei__rcol *c = &r->cols[col];
    rhei__cell *cell = &c->cells[row];
    cell->type = (uint8_t)v->type;
    cell->len = 0;
    cell->v = 0;
    c->seen |= RHEI__TBIT(v->type);
    switch (v->type) {
    case RHEI_TYPE_REAL:
        memcpy(&cell->v, &v->f, sizeof v->f);
        break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_DECIMAL:
        if (v->n)
            memcpy(r->heap + r->heap_len, v->s, v->n);
        r->heap[r->heap_len + v->n] = '\0'; /* text cells are NUL-terminated in place */
        cell->v = (int64_t)r->heap_len;
        cell->len = (uint32_t)v->n;
        r->heap_len += v->n + 1;
        break;
    default:
        cell->v = v->i;
        break;
    }
}
/* Strings of up to RHEI__VIEW_KEEP bytes stay inside their view, NUL-padded. */
#define RHEI__VIEW_KEEP 11

/* A native column's value at row, text NUL-terminated in the result. Inline: result.c's
 * rhei_result_value serves every cell an application reads. */
static inline rhei_value rhei__result_native_value(const rhei_result *r, const rhei__rcol *c,
                                                   size_t row)
{
    rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0};
    if (!(c->valid[row >> 6] >> (row & 63) & 1))
        return v;
    v.type = c->lay_type;
    switch (c->lay) {
    case RHEI__LAY_I8:
        v.i = ((const int8_t *)c->data)[row];
        break;
    case RHEI__LAY_I16:
        v.i = ((const int16_t *)c->data)[row];
        break;
    case RHEI__LAY_I32:
        v.i = ((const int32_t *)c->data)[row];
        break;
    case RHEI__LAY_I64:
        v.i = ((const int64_t *)c->data)[row];
        break;
    case RHEI__LAY_F64:
        v.f = ((const double *)c->data)[row];
        break;
    case RHEI__LAY_VIEW: {
        const rhei__view *s = &((const rhei__view *)c->data)[row];
        v.s = s->len <= RHEI__VIEW_KEEP ? (const char *)s + 4 : r->heap + s->at.off;
        v.n = s->len;
        break;
    }
    default:
        break;
    }
    return v;
}
#endif
