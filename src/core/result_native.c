/* result_native.c — result columns kept as native arrays: a backend with typed vectors
 * (DuckDB) copies each vector whole (memcpy, 8 bytes a number) instead of converting every
 * value into a 16-byte cell, and strings of up to 11 bytes stay inside their view. */
#include "mem.h"
#include "result.h"
#include <string.h>

#define VIEW_INLINE 12              /* bytes DuckDB keeps inside a view */
#define KEEP_INLINE RHEI__VIEW_KEEP /* one byte fewer: room for the NUL */

static size_t lay_width(rhei__lay lay)
{
    switch (lay) {
    case RHEI__LAY_I8:
        return 1;
    case RHEI__LAY_I16:
        return 2;
    case RHEI__LAY_I32:
        return 4;
    case RHEI__LAY_VIEW:
        return sizeof(rhei__view);
    default:
        return 8;
    }
}

static int valid_at(const uint64_t *valid, size_t i)
{
    return !valid || (valid[i >> 6] >> (i & 63) & 1);
}

int rhei__result_set_layout(rhei_result *r, size_t col, rhei__lay lay, rhei_type t)
{
    rhei__rcol *c = &r->cols[col];
    if (r->nrows || c->lay != RHEI__LAY_CELLS)
        return RHEI_MISUSE; /* only before the first row */
    c->lay = lay;
    c->lay_type = t;
    return RHEI_OK;
}

/* Copies n validity bits from src (NULL: all valid) to dst at bit `at`; returns how many
 * were set. dst's bits from `at` on are clear. */
static size_t copy_bits(uint64_t *dst, size_t at, const uint64_t *src, size_t n)
{
    size_t set = 0;
    if (at % 64 == 0) { /* whole words: every full chunk lands here */
        size_t words = (n + 63) / 64;
        if (src)
            memcpy(dst + at / 64, src, words * sizeof *dst);
        else
            memset(dst + at / 64, 0xff, words * sizeof *dst);
        if (n % 64) /* bits past n are not ours to set */
            dst[at / 64 + words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
        for (size_t w = 0; w < words; w++)
            set += (size_t)__builtin_popcountll(dst[at / 64 + w]);
        return set;
    }
    for (size_t i = 0; i < n; i++)
        if (valid_at(src, i)) {
            dst[(at + i) >> 6] |= (uint64_t)1 << ((at + i) & 63);
            set++;
        }
    return set;
}

/* Copies n DuckDB views into the result's form: long strings (and 12-byte ones, which have
 * no room for a NUL inline) into the heap, NUL-terminated. */
static int copy_views(rhei_result *r, rhei__view *dst, const rhei__view *src, size_t n,
                      const uint64_t *valid, rhei__err *e)
{
    size_t more = 0;
    for (size_t i = 0; i < n; i++)
        if (src[i].len > KEEP_INLINE && valid_at(valid, i))
            more += (size_t)src[i].len + 1;
    if (more > r->max_bytes || r->heap_len + r->native_bytes + more > r->max_bytes)
        return rhei__err_set(e, RHEI_RANGE, "result exceeds its %zu-byte limit", r->max_bytes);
    if (more && rhei__big_grow((void **)&r->heap, &r->heap_cap, r->heap_len + more, 1))
        return rhei__err_nomem(e);
    for (size_t i = 0; i < n; i++) {
        uint32_t len = src[i].len;
        if (!valid_at(valid, i) || len <= KEEP_INLINE) {
            dst[i] = src[i];
            if (len <= KEEP_INLINE) /* NUL-terminated whatever the backend left there */
                memset((char *)&dst[i] + 4 + len, 0, VIEW_INLINE - len);
            continue;
        }
        const char *s = len <= VIEW_INLINE ? (const char *)&src[i] + 4 : src[i].at.ptr;
        memcpy(r->heap + r->heap_len, s, len);
        r->heap[r->heap_len + len] = '\0';
        dst[i].len = len;
        memcpy(dst[i].prefix, s, 4);
        dst[i].at.off = r->heap_len;
        r->heap_len += (size_t)len + 1;
    }
    return RHEI_OK;
}

int rhei__result_put_native(rhei_result *r, size_t col, size_t n, const void *data,
                            const uint64_t *valid, rhei__err *e)
{
    rhei__rcol *c = &r->cols[col];
    size_t w = lay_width(c->lay), at = r->nrows, rows = at + n;
    if (n * w > r->max_bytes || r->heap_len + r->native_bytes + n * w > r->max_bytes)
        return rhei__err_set(e, RHEI_RANGE, "result exceeds its %zu-byte limit", r->max_bytes);
    if (rhei__big_grow(&c->data, &c->data_cap, rows ? rows : 1, w) ||
        rhei__big_grow((void **)&c->valid, &c->valid_cap, (rows + 63) / 64 + 1, sizeof *c->valid))
        return rhei__err_nomem(e);
    /* the bits from `at` on start clear (a kept mapping comes back with old bytes) */
    if (at % 64)
        c->valid[at / 64] &= ((uint64_t)1 << (at % 64)) - 1;
    memset(c->valid + (at + 63) / 64, 0, ((rows + 63) / 64 - (at + 63) / 64) * sizeof *c->valid);
    size_t set = copy_bits(c->valid, at, valid, n);
    if (set)
        c->seen |= RHEI__TBIT(c->lay_type);
    if (set < n)
        c->seen |= RHEI__TBIT(RHEI_TYPE_NULL);
    r->native_bytes += n * w;
    if (c->lay == RHEI__LAY_VIEW)
        return copy_views(r, (rhei__view *)c->data + at, data, n, valid, e);
    memcpy((char *)c->data + at * w, data, n * w);
    return RHEI_OK;
}

int rhei__result_to_cells(rhei_result *r, size_t col, rhei__err *e)
{
    rhei__rcol *c = &r->cols[col];
    if (c->lay == RHEI__LAY_CELLS)
        return RHEI_OK;
    size_t bytes = 0, w = lay_width(c->lay);
    if (c->lay == RHEI__LAY_VIEW) /* inline strings move to the heap; long ones are there */
        for (size_t row = 0; row < r->nrows; row++) {
            rhei_value v = rhei__result_native_value(r, c, row);
            bytes += v.type != RHEI_TYPE_NULL && v.n <= KEEP_INLINE ? v.n + 1 : 0;
        }
    if (bytes > r->max_bytes || r->heap_len + r->native_bytes + bytes > r->max_bytes)
        return rhei__err_set(e, RHEI_RANGE, "result exceeds its %zu-byte limit", r->max_bytes);
    if (rhei__big_grow((void **)&c->cells, &c->cap, r->nrows ? r->nrows : 1, sizeof *c->cells))
        return rhei__err_nomem(e);
    if (bytes && rhei__big_grow((void **)&r->heap, &r->heap_cap, r->heap_len + bytes, 1))
        return rhei__err_nomem(e);
    unsigned seen = c->seen;
    for (size_t row = 0; row < r->nrows; row++) {
        rhei_value v = rhei__result_native_value(r, c, row);
        if (c->lay == RHEI__LAY_VIEW && v.type != RHEI_TYPE_NULL && v.n > KEEP_INLINE) {
            rhei__cell *cell = &c->cells[row]; /* already NUL-terminated in the heap */
            cell->type = (uint8_t)v.type;
            cell->len = (uint32_t)v.n;
            cell->v = (int64_t)((const rhei__view *)c->data)[row].at.off;
            continue;
        }
        rhei__result_put(r, col, row, &v); /* heap room reserved above: it does not move */
    }
    c->seen = seen;
    r->native_bytes -= r->nrows * w;
    rhei__result_native_free(c);
    return RHEI_OK;
}

void rhei__result_native_free(rhei__rcol *c)
{
    if (c->lay == RHEI__LAY_CELLS)
        return;
    rhei__big_free(c->data, c->data_cap, lay_width(c->lay));
    rhei__big_free(c->valid, c->valid_cap, sizeof *c->valid);
    c->data = NULL;
    c->valid = NULL;
    c->data_cap = c->valid_cap = 0;
    c->lay = RHEI__LAY_CELLS;
}
