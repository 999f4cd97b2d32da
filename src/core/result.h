/* result.h — building a rhei_result: both sides push cells row by row; each cell keeps its
 * own type (SQLite columns may mix types) and the column type is settled at finish. */
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

typedef struct rhei__rcol {
    char *name;
    char *decl;
    rhei_type type;      /* declared (or settled) column type */
    int precision, scale;
    rhei__cell *cells;
    size_t cap;
    unsigned seen; /* exactly the set of cell types present, as RHEI__TBIT bits */
} rhei__rcol;

#define RHEI__TBIT(t) (1u << (unsigned)(t))

struct rhei_result {
    size_t ncols, nrows;
    rhei__rcol *cols;
    char *heap;          /* bytes of TEXT/BLOB/DECIMAL cells */
    size_t heap_len, heap_cap;
    size_t max_bytes;    /* ceiling on the heap and cells together */
    rhei_side side;
    const char *reason;
    char scratch[64];    /* text form of the last non-text cell asked for */
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
 * more rows in every column and heap_more bytes, fill rows nrows..nrows+n-1 of each column
 * with rhei__result_put (no allocation, cannot fail), then end_rows(n). */
int rhei__result_reserve(rhei_result *r, size_t n, size_t heap_more, rhei__err *e);
static inline void rhei__result_put(rhei_result *r, size_t col, size_t row, const rhei_value *v);
void rhei__result_end_rows(rhei_result *r, size_t n);
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
#endif
