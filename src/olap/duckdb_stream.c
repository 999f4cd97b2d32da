/* duckdb_stream.c — read-only queries as an Arrow C stream: a streaming DuckDB result on a
 * pooled connection, its chunks copied straight into Arrow buffers, coalesced to batches of
 * about 1 MiB or 128K rows. Every column's name and type are decided before the first batch
 * (the engine's shape callback). Conversions only DuckDB can do (exotic types to VARCHAR,
 * numbers to DECIMAL(p,s), wide integers to BIGINT) run as CASTs in a projection around the
 * statement; the rest (integer widening, BOOLEAN as INTEGER) happen while copying, since
 * DuckDB's flat vectors already have Arrow's layout (little-endian validity words, int64,
 * double, int32 days, int64 microseconds, 128-bit decimals).
 * A stream is used by one thread at a time and holds its pooled connection (busy, so
 * rhei__duck_interrupt reaches it) until released; a cancel token, when given, is attached
 * to that connection (duckdb_interrupt) for the same span, execution and every fetch.
 * The statement is prepared once per text while no write commits: the pooled connection
 * keeps the last one (rhei__duck_slot), which describe_arrow and the next stream reuse. */
#include "arrow_node.h"
#include "cancel.h"
#include "duckdb_int.h"
#include "mem.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A batch ends at BATCH_BYTES of fixed-width values and text, or at BATCH_ROWS rows (which
 * bounds bit-wide columns, whose bytes barely count): 1 MiB is 128K rows of one BIGINT
 * column, so a narrow result is not cut at half its byte budget. A batch is one message for
 * Flight (up to IPC_TARGET_BYTES, 2 MiB), so each cut costs a send and its wait. */
#define BATCH_ROWS 131072
#define BATCH_BYTES (1u << 20)

/* One output column and the builder of its part of the current batch. */
typedef struct scol {
    char *name;
    rhei_type type;     /* output class */
    int p, s;           /* DECIMAL shape */
    int cast;           /* the projection casts it to the class's DuckDB type */
    duckdb_type src;    /* type in the executed result */
    duckdb_type phys;   /* DECIMAL storage type in the executed result */
    uint8_t *valid;     /* validity bits of the batch so far */
    size_t valid_cap;
    uint8_t *data;      /* fixed-width values, or int32 offsets of utf8/binary */
    size_t data_cap;
    char *heap;         /* utf8/binary bytes */
    size_t heap_len, heap_cap;
    int64_t nulls;
    size_t heap_hint; /* text bytes of the previous batch: the next one's first reservation */
} scol;

typedef struct sstream {
    rhei__olap *o;
    size_t slot;
    duckdb_connection c;
    rhei_cancel *cancel; /* borrowed; attached to c while attached != 0 */
    int attached;
    duckdb_prepared_statement orig, wrapped;
    int orig_kept; /* orig belongs to the slot (rhei__duck_kept), not to the stream */
    rhei__duck_run run;
    scol *cols;
    size_t nc;
    int64_t rows;            /* rows in the batch being built */
    size_t expect_rows;      /* rows the batch being built will likely hold (0: not known) */
    struct ArrowArray first; /* made at open; release NULL once handed out */
    int done;                /* every chunk fetched */
    int errnum;              /* 0, or the errno get_next keeps returning */
    char err[RHEI__ERRMSG_MAX];
} sstream;

/* ---- types ------------------------------------------------------------------------------ */

static int is_small_int(duckdb_type t)
{
    return t == DUCKDB_TYPE_TINYINT || t == DUCKDB_TYPE_SMALLINT || t == DUCKDB_TYPE_INTEGER ||
           t == DUCKDB_TYPE_BIGINT || t == DUCKDB_TYPE_UTINYINT || t == DUCKDB_TYPE_USMALLINT ||
           t == DUCKDB_TYPE_UINTEGER;
}

/* 1 if a column of DuckDB type t (DECIMAL: width w, scale s) copies into k without a CAST. */
static int direct(const scol *k, duckdb_type t, int w, int s)
{
    switch (k->type) {
    case RHEI_TYPE_INTEGER: return is_small_int(t) || t == DUCKDB_TYPE_BOOLEAN;
    case RHEI_TYPE_REAL:
        return is_small_int(t) || t == DUCKDB_TYPE_FLOAT || t == DUCKDB_TYPE_DOUBLE;
    case RHEI_TYPE_DECIMAL: return t == DUCKDB_TYPE_DECIMAL && s == k->s && w <= k->p;
    case RHEI_TYPE_DATE: return t == DUCKDB_TYPE_DATE;
    case RHEI_TYPE_TIMESTAMP: return t == DUCKDB_TYPE_TIMESTAMP || t == DUCKDB_TYPE_TIMESTAMP_TZ;
    case RHEI_TYPE_BOOLEAN: return t == DUCKDB_TYPE_BOOLEAN;
    case RHEI_TYPE_BLOB: return t == DUCKDB_TYPE_BLOB;
    default: return t == DUCKDB_TYPE_VARCHAR;
    }
}

static void cast_type(const scol *k, char *buf, size_t size)
{
    switch (k->type) {
    case RHEI_TYPE_INTEGER: snprintf(buf, size, "BIGINT"); break;
    case RHEI_TYPE_REAL: snprintf(buf, size, "DOUBLE"); break;
    case RHEI_TYPE_DECIMAL: snprintf(buf, size, "DECIMAL(%d,%d)", k->p, k->s); break;
    case RHEI_TYPE_DATE: snprintf(buf, size, "DATE"); break;
    case RHEI_TYPE_TIMESTAMP: snprintf(buf, size, "TIMESTAMP"); break;
    case RHEI_TYPE_BOOLEAN: snprintf(buf, size, "BOOLEAN"); break;
    case RHEI_TYPE_BLOB: snprintf(buf, size, "BLOB"); break;
    default: snprintf(buf, size, "VARCHAR"); break;
    }
}

/* Arrow format of an output column: the same as rhei_result_to_arrow's. */
static void arrow_format(const scol *k, char *buf, size_t size)
{
    switch (k->type) {
    case RHEI_TYPE_INTEGER: snprintf(buf, size, "l"); break;
    case RHEI_TYPE_REAL: snprintf(buf, size, "g"); break;
    case RHEI_TYPE_DECIMAL: snprintf(buf, size, "d:%d,%d", k->p, k->s); break;
    case RHEI_TYPE_DATE: snprintf(buf, size, "tdD"); break;
    case RHEI_TYPE_TIMESTAMP: snprintf(buf, size, "tsu:UTC"); break;
    case RHEI_TYPE_BOOLEAN: snprintf(buf, size, "b"); break;
    case RHEI_TYPE_BLOB: snprintf(buf, size, "z"); break;
    default: snprintf(buf, size, "u"); break;
    }
}

static size_t width_of(rhei_type t)
{
    switch (t) {
    case RHEI_TYPE_DECIMAL: return 16;
    case RHEI_TYPE_DATE: return 4;
    case RHEI_TYPE_BOOLEAN: return 0; /* bits */
    case RHEI_TYPE_TEXT: case RHEI_TYPE_BLOB: return 4; /* offsets */
    default: return 8;
    }
}

/* ---- building batches ------------------------------------------------------------------- */

/* Grows *p to at least need bytes, doubling; an empty buffer starts at `first` (the batch's
 * expected size), so a batch is not built through a dozen reallocations from 4 KiB. */
static int reserve(void **p, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t want = *cap ? *cap : first > 4096 ? first : 4096;
    while (want < need)
        want *= 2;
    void *q = rhei__realloc(*p, want);
    if (!q)
        return -1;
    *p = q;
    *cap = want;
    return 0;
}

/* Validity of n rows at row `at` from DuckDB's mask (NULL: all valid); counts the NULLs. */
static void put_validity(scol *k, int64_t at, const uint64_t *mask, size_t n)
{
    uint8_t *dst = k->valid;
    if (at % 8 == 0) {
        if (mask)
            memcpy(dst + at / 8, mask, (n + 7) / 8);
        else
            memset(dst + at / 8, 0xFF, (n + 7) / 8);
    } else {
        for (size_t i = 0; i < n; i++) {
            uint64_t r = (uint64_t)at + i;
            if (!mask || (mask[i >> 6] >> (i & 63) & 1))
                dst[r >> 3] |= (uint8_t)(1u << (r & 7));
            else
                dst[r >> 3] &= (uint8_t)~(1u << (r & 7));
        }
    }
    if (!mask)
        return;
    size_t words = n / 64;
    for (size_t w = 0; w < words; w++)
        k->nulls += 64 - __builtin_popcountll(mask[w]);
    for (size_t i = words * 64; i < n; i++)
        k->nulls += !(mask[i >> 6] >> (i & 63) & 1);
}

static int64_t int_at(duckdb_type t, const void *d, size_t i)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
        return ((const uint8_t *)d)[i] != 0;
    case DUCKDB_TYPE_TINYINT: return ((const int8_t *)d)[i];
    case DUCKDB_TYPE_SMALLINT: return ((const int16_t *)d)[i];
    case DUCKDB_TYPE_INTEGER: return ((const int32_t *)d)[i];
    case DUCKDB_TYPE_UTINYINT: return ((const uint8_t *)d)[i];
    case DUCKDB_TYPE_USMALLINT: return ((const uint16_t *)d)[i];
    case DUCKDB_TYPE_UINTEGER: return ((const uint32_t *)d)[i];
    default: return ((const int64_t *)d)[i];
    }
}

static __int128 dec_at(duckdb_type phys, const void *d, size_t i)
{
    switch (phys) {
    case DUCKDB_TYPE_SMALLINT: return ((const int16_t *)d)[i];
    case DUCKDB_TYPE_INTEGER: return ((const int32_t *)d)[i];
    case DUCKDB_TYPE_BIGINT: return ((const int64_t *)d)[i];
    default: {
        const duckdb_hugeint *h = &((const duckdb_hugeint *)d)[i];
        return (__int128)(((unsigned __int128)(uint64_t)h->upper << 64) | h->lower);
    }
    }
}

static int put_fixed(scol *k, int64_t at, const void *d, const uint64_t *mask, size_t n)
{
    size_t w = width_of(k->type);
    uint8_t *out = k->data + (size_t)at * w;
    if ((k->type == RHEI_TYPE_INTEGER && k->src == DUCKDB_TYPE_BIGINT) ||
        (k->type == RHEI_TYPE_REAL && k->src == DUCKDB_TYPE_DOUBLE) ||
        k->type == RHEI_TYPE_DATE || k->type == RHEI_TYPE_TIMESTAMP ||
        (k->type == RHEI_TYPE_DECIMAL && k->phys == DUCKDB_TYPE_HUGEINT)) {
        memcpy(out, d, n * w);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (mask && !(mask[i >> 6] >> (i & 63) & 1)) {
            memset(out + i * w, 0, w); /* garbage in NULL slots would be sent as is */
            continue;
        }
        if (k->type == RHEI_TYPE_INTEGER) {
            int64_t v = int_at(k->src, d, i);
            memcpy(out + i * w, &v, 8);
        } else if (k->type == RHEI_TYPE_REAL) {
            double v = k->src == DUCKDB_TYPE_FLOAT ? (double)((const float *)d)[i]
                                                   : (double)int_at(k->src, d, i);
            memcpy(out + i * w, &v, 8);
        } else {
            __int128 v = dec_at(k->phys, d, i);
            memcpy(out + i * w, &v, 16);
        }
    }
    return 0;
}

static void put_bool(scol *k, int64_t at, const void *d, size_t n)
{
    const uint8_t *b = d; /* as bytes: a NULL slot may hold any byte, not a valid bool */
    for (size_t i = 0; i < n; i++) {
        uint64_t r = (uint64_t)at + i;
        if (b[i])
            k->data[r >> 3] |= (uint8_t)(1u << (r & 7));
        else
            k->data[r >> 3] &= (uint8_t)~(1u << (r & 7));
    }
}

static int put_varlen(scol *k, int64_t at, const void *d, const uint64_t *mask, size_t n)
{
    duckdb_string_t *str = (duckdb_string_t *)d;
    int32_t *off = (int32_t *)k->data;
    if (at == 0)
        off[0] = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = 0;
        if ((!mask || (mask[i >> 6] >> (i & 63) & 1)) &&
            (len = duckdb_string_t_length(str[i])) > 0) { /* "" may precede any heap */
            if (k->heap_len + len > INT32_MAX)
                return -2;
            if (reserve((void **)&k->heap, &k->heap_cap, k->heap_len + len, k->heap_hint))
                return -1;
            memcpy(k->heap + k->heap_len, duckdb_string_t_data(&str[i]), len);
            k->heap_len += len;
        }
        off[at + (int64_t)i + 1] = (int32_t)k->heap_len;
    }
    return 0;
}

/* Rows a batch will likely hold, guessed at its first chunk of n rows: the previous batch's
 * count; for the first batch, n when the chunk is not full (a small result), else as many
 * as the fixed-width columns let into the batch's byte budget. */
static size_t expect_rows(const sstream *x, size_t n)
{
    if (x->expect_rows)
        return x->expect_rows;
    if (n < 2048)
        return n;
    size_t row = 0;
    for (size_t c = 0; c < x->nc; c++)
        row += width_of(x->cols[c].type) + (x->cols[c].type == RHEI_TYPE_BOOLEAN);
    size_t fit = BATCH_BYTES / (row ? row : 1);
    return fit < BATCH_ROWS ? fit : BATCH_ROWS;
}

/* Appends one chunk to the batch being built. */
static int put_chunk(sstream *x, duckdb_data_chunk ch, rhei__err *e)
{
    size_t n = (size_t)duckdb_data_chunk_get_size(ch);
    size_t rows = (size_t)x->rows + n;
    size_t expect = expect_rows(x, n); /* used only by the batch's first reservations */
    for (size_t c = 0; c < x->nc; c++) {
        scol *k = &x->cols[c];
        duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
        const void *d = duckdb_vector_get_data(v);
        const uint64_t *mask = duckdb_vector_get_validity(v);
        size_t w = width_of(k->type);
        size_t dbytes = w ? (rows + 1) * w : (rows + 7) / 8 + 8;
        /* First chunk of a batch: room for the rows the batch will likely hold (a full one
         * unless its bytes end it first), within the batch's byte budget. */
        size_t dfirst = w ? (expect + 1) * w : (expect + 7) / 8 + 8;
        if (reserve((void **)&k->valid, &k->valid_cap, (rows + 7) / 8 + 8, (expect + 7) / 8 + 8) ||
            reserve((void **)&k->data, &k->data_cap, dbytes, dfirst))
            return rhei__err_nomem(e);
        put_validity(k, x->rows, mask, n);
        int rc = 0;
        if (k->type == RHEI_TYPE_TEXT || k->type == RHEI_TYPE_BLOB)
            rc = put_varlen(k, x->rows, d, mask, n);
        else if (k->type == RHEI_TYPE_BOOLEAN)
            put_bool(k, x->rows, d, n);
        else
            rc = put_fixed(k, x->rows, d, mask, n);
        if (rc == -1)
            return rhei__err_nomem(e);
        if (rc == -2)
            return rhei__err_set(e, RHEI_RANGE, "cannot stream column '%s': more than 2 GiB "
                                 "of text in one batch", k->name);
    }
    x->rows = (int64_t)rows;
    return RHEI_OK;
}

static size_t batch_bytes(const sstream *x)
{
    size_t b = 0;
    for (size_t c = 0; c < x->nc; c++)
        b += (size_t)x->rows * width_of(x->cols[c].type) + x->cols[c].heap_len;
    return b;
}

/* Moves the builders' buffers into *out (a struct array with one child per column). */
static int take_batch(sstream *x, struct ArrowArray *out, rhei__err *e)
{
    if (rhei__arrow_array_init(out, x->rows, 1, x->nc))
        return rhei__err_nomem(e);
    for (size_t c = 0; c < x->nc; c++) {
        scol *k = &x->cols[c];
        struct ArrowArray *a = out->children[c];
        int varlen = k->type == RHEI_TYPE_TEXT || k->type == RHEI_TYPE_BLOB;
        if (rhei__arrow_array_init(a, x->rows, varlen ? 3 : 2, 0))
            return out->release(out), rhei__err_nomem(e);
        a->null_count = k->nulls;
        if (k->nulls) { /* absent when there is no NULL, as rhei_result_to_arrow does */
            rhei__arrow_array_own(a, 0, k->valid);
            k->valid = NULL;
            k->valid_cap = 0;
        }
        rhei__arrow_array_own(a, 1, k->data);
        k->data = NULL;
        k->data_cap = 0;
        if (varlen) {
            k->heap_hint = k->heap_len;
            void *heap = k->heap ? k->heap : rhei__calloc(1, 1);
            k->heap = NULL;
            k->heap_len = k->heap_cap = 0;
            if (!heap)
                return out->release(out), rhei__err_nomem(e);
            rhei__arrow_array_own(a, 2, heap);
        }
        k->nulls = 0;
    }
    x->expect_rows = (size_t)x->rows;
    x->rows = 0;
    return RHEI_OK;
}

static int cancelled(rhei__err *e) { return rhei__err_set(e, RHEI_INTERRUPTED, "query cancelled"); }

/* Fetches chunks into a batch until it is big enough or the result ends. *out has
 * release == NULL when nothing was left. */
static int next_batch(sstream *x, struct ArrowArray *out, rhei__err *e)
{
    int rc = RHEI_OK;
    memset(out, 0, sizeof *out);
    while (!x->done && x->rows < BATCH_ROWS && batch_bytes(x) < BATCH_BYTES) {
        if (rhei__cancel_fired(x->cancel)) /* chunks DuckDB has ready would still come */
            return cancelled(e);
        duckdb_data_chunk ch = rhei__duck_run_fetch(&x->run);
        if (!ch) {
            x->done = 1;
            if (duckdb_result_error(&x->run.res))
                return rhei__cancel_fired(x->cancel) ? cancelled(e)
                                                     : rhei__duck_result_err(e, 1, &x->run.res);
            break;
        }
        rc = put_chunk(x, ch, e);
        duckdb_destroy_data_chunk(&ch);
        if (rc)
            return rc;
    }
    return x->rows ? take_batch(x, out, e) : RHEI_OK;
}

/* ---- the stream's callbacks ------------------------------------------------------------- */

/* The struct schema of the output columns; -1 out of memory (*out released). */
static int schema_of(const sstream *x, struct ArrowSchema *out)
{
    int rc = rhei__arrow_schema_init(out, "+s", "", x->nc);
    for (size_t c = 0; rc == 0 && c < x->nc; c++) {
        char fmt[32];
        arrow_format(&x->cols[c], fmt, sizeof fmt);
        rc = rhei__arrow_schema_init(out->children[c], fmt, x->cols[c].name, 0);
        out->children[c]->flags = ARROW_FLAG_NULLABLE;
    }
    if (rc && out->release)
        out->release(out);
    return rc ? -1 : 0;
}

static int stream_get_schema(struct ArrowArrayStream *st, struct ArrowSchema *out)
{
    sstream *x = st->private_data;
    if (schema_of(x, out)) {
        snprintf(x->err, sizeof x->err, "get_schema: out of memory");
        return ENOMEM;
    }
    return 0;
}

static int stream_get_next(struct ArrowArrayStream *st, struct ArrowArray *out)
{
    sstream *x = st->private_data;
    rhei__err e;
    memset(out, 0, sizeof *out);
    if (!x->errnum && rhei__cancel_fired(x->cancel)) {
        x->errnum = ECANCELED;
        snprintf(x->err, sizeof x->err, "query cancelled");
    }
    if (x->errnum)
        return x->errnum;
    if (x->first.release) {
        *out = x->first;
        x->first.release = NULL;
        return 0;
    }
    rhei__err_clear(&e);
    int rc = next_batch(x, out, &e);
    if (rc) {
        x->errnum = rc == RHEI_INTERRUPTED && rhei__cancel_fired(x->cancel) ? ECANCELED
                    : rc == RHEI_INTERRUPTED                                ? EINTR
                    : rc == RHEI_NOMEM                                      ? ENOMEM
                                                                            : EIO;
        snprintf(x->err, sizeof x->err, "%s", e.msg);
        return x->errnum;
    }
    return 0;
}

static const char *stream_last_error(struct ArrowArrayStream *st)
{
    sstream *x = st->private_data;
    return x && x->err[0] ? x->err : NULL;
}

static void sstream_free(sstream *x)
{
    if (x->attached) /* before the connection goes back: a late fire must not reach it */
        rhei__cancel_detach(x->cancel);
    if (x->first.release)
        x->first.release(&x->first);
    for (size_t c = 0; x->cols && c < x->nc; c++) {
        rhei__free(x->cols[c].name);
        rhei__free(x->cols[c].valid);
        rhei__free(x->cols[c].data);
        rhei__free(x->cols[c].heap);
    }
    rhei__free(x->cols);
    if (x->c)
        rhei__duck_run_end(&x->run, x->c);
    if (x->wrapped)
        duckdb_destroy_prepare(&x->wrapped);
    if (x->orig && !x->orig_kept)
        duckdb_destroy_prepare(&x->orig);
    if (x->c)
        rhei__duck_pool_release(x->o, x->slot);
    rhei__free(x);
}

static void stream_release(struct ArrowArrayStream *st)
{
    if (st->private_data)
        sstream_free(st->private_data);
    st->private_data = NULL;
    st->release = NULL;
}

/* ---- opening ---------------------------------------------------------------------------- */

static int execute(sstream *x, duckdb_prepared_statement ps, rhei__err *e)
{
    return rhei__duck_run_start(&x->run, ps, x->c, x->cancel, e);
}

/* Names and served types from the prepared statement, or (a parameter left them open) from
 * an execution; then the engine's shape decides the output columns. */
static int describe(sstream *x, rhei__olap_shape_fn shape, void *ud, rhei__err *e)
{
    size_t n = duckdb_prepared_statement_column_count(x->orig);
    int from_res = 0, rc = RHEI_OK;
    for (size_t i = 0; i < n && !from_res; i++)
        from_res = duckdb_prepared_statement_column_type(x->orig, i) == DUCKDB_TYPE_INVALID;
    if (from_res && (rc = execute(x, x->orig, e)))
        return rc;
    if (from_res)
        n = duckdb_column_count(&x->run.res);
    rhei__olap_col *oc = rhei__calloc(n ? n : 1, sizeof *oc);
    x->cols = rhei__calloc(n ? n : 1, sizeof *x->cols);
    if (!oc || !x->cols) {
        rhei__free(oc);
        return rhei__err_nomem(e);
    }
    x->nc = n;
    for (size_t i = 0; i < n && rc == RHEI_OK; i++) {
        duckdb_logical_type lt = from_res
                                     ? duckdb_column_logical_type(&x->run.res, i)
                                     : duckdb_prepared_statement_column_logical_type(x->orig, i);
        duckdb_type t = duckdb_get_type_id(lt);
        char *pn = from_res ? NULL : (char *)duckdb_prepared_statement_column_name(x->orig, i);
        x->cols[i].name = rhei__strdup(from_res ? duckdb_column_name(&x->run.res, i) : pn);
        duckdb_free(pn);
        oc[i].type = rhei__duck_class(t);
        if (t == DUCKDB_TYPE_DECIMAL) {
            oc[i].precision = duckdb_decimal_width(lt);
            oc[i].scale = duckdb_decimal_scale(lt);
        }
        duckdb_destroy_logical_type(&lt);
        oc[i].name = x->cols[i].name;
        if (!x->cols[i].name)
            rc = rhei__err_nomem(e);
    }
    if (rc == RHEI_OK && shape)
        rc = shape(ud, oc, n, e);
    for (size_t i = 0; i < n && rc == RHEI_OK; i++) {
        scol *k = &x->cols[i];
        k->type = oc[i].type;
        k->p = oc[i].precision < 1 ? 18 : oc[i].precision > 38 ? 38 : oc[i].precision;
        k->s = oc[i].scale < 0 ? 0 : oc[i].scale > k->p ? k->p : oc[i].scale;
        if (oc[i].name != k->name) {
            char *nm = rhei__strdup(oc[i].name ? oc[i].name : "");
            if (!nm)
                rc = rhei__err_nomem(e);
            else
                rhei__free(k->name), k->name = nm;
        }
    }
    rhei__free(oc);
    return rc;
}

/* Which columns need a CAST, from the types the statement serves. */
static int plan_casts(sstream *x)
{
    int any = 0;
    for (size_t i = 0; i < x->nc; i++) {
        duckdb_logical_type lt = x->run.have_res
                                     ? duckdb_column_logical_type(&x->run.res, i)
                                     : duckdb_prepared_statement_column_logical_type(x->orig, i);
        duckdb_type t = duckdb_get_type_id(lt);
        int w = t == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_width(lt) : 0;
        int s = t == DUCKDB_TYPE_DECIMAL ? duckdb_decimal_scale(lt) : 0;
        duckdb_destroy_logical_type(&lt);
        x->cols[i].cast = !direct(&x->cols[i], t, w, s);
        any |= x->cols[i].cast;
    }
    return any;
}

/* SELECT #1, CAST(#2 AS T) ... FROM (sql) AS _rhei_q, prepared and bound. */
static int prepare_wrapped(sstream *x, const char *sql, const rhei_value *params,
                           size_t nparams, rhei__err *e)
{
    if (duckdb_prepared_statement_type(x->orig) != DUCKDB_STATEMENT_TYPE_SELECT)
        return rhei__err_set(e, RHEI_TYPE, "result has a column type rhei cannot stream; "
                             "CAST it to VARCHAR");
    rhei__buf b = RHEI__BUF_INIT;
    rhei__buf_puts(&b, "SELECT ");
    for (size_t i = 0; i < x->nc; i++) {
        char t[48];
        cast_type(&x->cols[i], t, sizeof t);
        if (x->cols[i].cast)
            rhei__buf_printf(&b, "%sCAST(#%zu AS %s)", i ? ", " : "", i + 1, t);
        else
            rhei__buf_printf(&b, "%s#%zu", i ? ", " : "", i + 1);
    }
    size_t len = strlen(sql);
    while (len && strchr("; \t\r\n", sql[len - 1]))
        len--;
    /* The newline ends a trailing "-- comment" in the caller's text. */
    rhei__buf_printf(&b, " FROM (%.*s\n) AS _rhei_q", (int)len, sql);
    int rc = rhei__buf_check(&b, e);
    if (rc == RHEI_OK)
        rc = rhei__duck_prepare(x->c, rhei__buf_str(&b), &x->wrapped, e);
    rhei__buf_free(&b);
    if (rc == RHEI_OK)
        rc = rhei__duck_bind(x->wrapped, params, nparams, e);
    return rc;
}

/* How each column is read, from the executed result (casts applied). */
static int plan_reads(sstream *x, rhei__err *e)
{
    for (size_t i = 0; i < x->nc; i++) {
        scol *k = &x->cols[i];
        duckdb_logical_type lt = duckdb_column_logical_type(&x->run.res, i);
        k->src = duckdb_get_type_id(lt);
        int w = 0, s = 0;
        if (k->src == DUCKDB_TYPE_DECIMAL) {
            k->phys = duckdb_decimal_internal_type(lt);
            w = duckdb_decimal_width(lt);
            s = duckdb_decimal_scale(lt);
        }
        duckdb_destroy_logical_type(&lt);
        if (!direct(k, k->src, w, s))
            return rhei__err_set(e, RHEI_TYPE, "cannot stream column '%s' as %s", k->name,
                                 rhei_type_name(k->type));
    }
    return RHEI_OK;
}

/* The statement prepared, checked, bound and its output columns decided. */
static int open_statement(sstream *x, const char *sql, const rhei_value *params, size_t nparams,
                          rhei__olap_shape_fn shape, void *ud, rhei__err *e)
{
    int rc = rhei__duck_prepare_kept(x->o, x->slot, sql, &x->orig, &x->orig_kept, e);
    if (rc || (rc = rhei__duck_bind(x->orig, params, nparams, e)))
        return rc;
    return describe(x, shape, ud, e);
}

static int start(sstream *x, const char *sql, const rhei_value *params, size_t nparams,
                 rhei__olap_shape_fn shape, void *ud, rhei__err *e)
{
    int rc = open_statement(x, sql, params, nparams, shape, ud, e);
    if (rc)
        return rc;
    if (plan_casts(x)) {
        if ((rc = prepare_wrapped(x, sql, params, nparams, e)) ||
            (rc = execute(x, x->wrapped, e)))
            return rc;
    } else if (!x->run.have_res && (rc = execute(x, x->orig, e))) {
        return rc;
    }
    if ((rc = plan_reads(x, e)))
        return rc;
    return next_batch(x, &x->first, e);
}

static void interrupt_conn(void *arg) { duckdb_interrupt((duckdb_connection)arg); }

/* A stream holding a pooled connection, preferably the one keeping sql's statement. */
static sstream *stream_new(rhei__olap *o, const char *sql, rhei__err *e)
{
    sstream *x = rhei__calloc(1, sizeof *x);
    if (!x) {
        rhei__err_nomem(e);
        return NULL;
    }
    x->o = o;
    if (rhei__duck_pool_acquire(o, sql, &x->slot, e)) {
        rhei__free(x);
        return NULL;
    }
    x->c = o->slots[x->slot].conn;
    return x;
}

int rhei__duck_describe_arrow(rhei__olap *o, const char *sql, const rhei_value *params,
                              size_t nparams, rhei__olap_shape_fn shape, void *shape_ud,
                              struct ArrowSchema *out, rhei__err *e)
{
    memset(out, 0, sizeof *out);
    sstream *x = stream_new(o, sql, e);
    if (!x)
        return e->code;
    int rc = open_statement(x, sql, params, nparams, shape, shape_ud, e);
    /* A column needing a CAST is served through a wrapping SELECT, which only a query
     * allows: the stream would refuse, so this does too. */
    if (rc == RHEI_OK && plan_casts(x) &&
        duckdb_prepared_statement_type(x->orig) != DUCKDB_STATEMENT_TYPE_SELECT)
        rc = rhei__err_set(e, RHEI_TYPE,
                           "result has a column type rhei cannot stream; "
                           "CAST it to VARCHAR");
    if (rc == RHEI_OK && schema_of(x, out))
        rc = rhei__err_nomem(e);
    sstream_free(x);
    return rc;
}

int rhei__duck_query_arrow(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                           rhei__olap_shape_fn shape, void *shape_ud, rhei_cancel *cancel,
                           struct ArrowArrayStream *out, rhei__err *e)
{
    memset(out, 0, sizeof *out);
    sstream *x = stream_new(o, sql, e);
    if (!x)
        return e->code;
    int rc;
    x->cancel = cancel;
    if (cancel && (rc = rhei__cancel_attach(cancel, interrupt_conn, x->c)) != RHEI_OK) {
        if (rc == RHEI_INTERRUPTED)
            cancelled(e);
        else
            rhei__err_set(e, rc, "the cancel token is in use by another query");
        sstream_free(x);
        return rc;
    }
    x->attached = cancel != NULL;
    rc = start(x, sql, params, nparams, shape, shape_ud, e);
    if (rc) {
        sstream_free(x);
        return rc;
    }
    out->get_schema = stream_get_schema;
    out->get_next = stream_get_next;
    out->get_last_error = stream_last_error;
    out->release = stream_release;
    out->private_data = x;
    return RHEI_OK;
}
