/* test_result.c — native result columns against cells: the same seeded random values, built
 * once cell by cell and once a vector at a time in random batch sizes (NULLs, strings of
 * every length around the inline limit), must read back equal through every accessor, also
 * after a native column is turned into cells, and stay within the result's byte limit. */
#include "test.h"
#include "mem.h"
#include "result.h"
#include <stdint.h>
#include <string.h>

enum { NCOLS = 5 };
static const rhei__lay lays[NCOLS] = {RHEI__LAY_I64, RHEI__LAY_F64, RHEI__LAY_VIEW, RHEI__LAY_I32,
                                      RHEI__LAY_I8};
static const rhei_type types[NCOLS] = {RHEI_TYPE_INTEGER, RHEI_TYPE_REAL, RHEI_TYPE_TEXT,
                                       RHEI_TYPE_DATE, RHEI_TYPE_BOOLEAN};

static uint64_t rng;
static uint64_t next(void) { return rt_rand(&rng); }

/* One batch of source vectors, as a backend hands them over. */
typedef struct batch {
    int64_t i64[2048];
    double f64[2048];
    rhei__view view[2048];
    int32_t i32[2048];
    int8_t i8[2048];
    uint64_t valid[NCOLS][32];
    char bytes[2048][40];
} batch;

static void fill(batch *b, size_t n, int nulls)
{
    memset(b->valid, 0, sizeof b->valid);
    for (size_t i = 0; i < n; i++) {
        b->i64[i] = (int64_t)next();
        b->f64[i] = (double)(int64_t)next() / 7.0;
        b->i32[i] = (int32_t)next();
        b->i8[i] = (int8_t)(next() & 1);
        size_t len = next() % 40; /* 0..39: inline (<= 12) and not */
        for (size_t k = 0; k < len; k++)
            b->bytes[i][k] = (char)('a' + next() % 26);
        rhei__view *v = &b->view[i];
        memset(v, 0x5a, sizeof *v); /* garbage past an inline string's end */
        v->len = (uint32_t)len;
        if (len <= 12)
            memcpy((char *)v + 4, b->bytes[i], len);
        else
            v->at.ptr = b->bytes[i];
        for (int c = 0; c < NCOLS; c++)
            if (!nulls || next() % 5)
                b->valid[c][i / 64] |= (uint64_t)1 << (i % 64);
    }
    for (size_t i = n; i < 2048; i++) /* a vector's bits past its size are not its rows' */
        for (int c = 0; c < NCOLS; c++)
            b->valid[c][i / 64] |= (uint64_t)1 << (i % 64);
}

static rhei_value source_value(const batch *b, int c, size_t i)
{
    rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0};
    if (!(b->valid[c][i / 64] >> (i % 64) & 1))
        return v;
    v.type = types[c];
    switch (c) {
    case 0:
        v.i = b->i64[i];
        break;
    case 1:
        v.f = b->f64[i];
        break;
    case 2:
        v.s = b->bytes[i];
        v.n = b->view[i].len;
        break;
    case 3:
        v.i = b->i32[i];
        break;
    default:
        v.i = b->i8[i];
        break;
    }
    return v;
}

static void same(const rhei_result *a, const rhei_result *b, uint64_t seed)
{
    CHECK_INT(rhei_result_row_count(a), rhei_result_row_count(b));
    for (size_t row = 0; row < rhei_result_row_count(a); row++)
        for (size_t c = 0; c < NCOLS; c++) {
            rhei_value x = rhei_result_value(a, row, c), y = rhei_result_value(b, row, c);
            size_t nx, ny;
            const char *tx = rhei_result_text(a, row, c, &nx);
            char keep[64];
            snprintf(keep, sizeof keep, "%s", tx ? tx : "(null)"); /* scratch is shared */
            const char *ty = rhei_result_text(b, row, c, &ny);
            if (x.type != y.type || x.i != y.i || memcmp(&x.f, &y.f, sizeof x.f) || x.n != y.n ||
                (x.n && memcmp(x.s, y.s, x.n)) || nx != ny || strcmp(keep, ty ? ty : "(null)"))
                FAIL("seed %llu row %zu col %zu: cells %d/%lld/'%s' native %d/%lld/'%s'",
                     (unsigned long long)seed, row, c, x.type, (long long)x.i, keep, y.type,
                     (long long)y.i, ty ? ty : "(null)");
            if (y.type == RHEI_TYPE_TEXT && (strlen(ty) != ny || y.s[y.n] != '\0'))
                FAIL("seed %llu row %zu: text not NUL-terminated", (unsigned long long)seed, row);
            CHECK_INT(rhei_result_is_null(b, row, c), y.type == RHEI_TYPE_NULL);
        }
}

static rhei_result *fresh(int native)
{
    rhei__err e = {0};
    rhei_result *r;
    CHECK_INT(rhei__result_new(NCOLS, &r, &e), RHEI_OK);
    for (size_t c = 0; c < NCOLS; c++) {
        CHECK_INT(rhei__result_set_column(r, c, "c", "", types[c], 0, 0, &e), RHEI_OK);
        if (native)
            CHECK_INT(rhei__result_set_layout(r, c, lays[c], types[c]), RHEI_OK);
    }
    return r;
}

TEST(native_columns_read_as_cells)
{
    static batch b;
    uint64_t seed = getenv("SEED") ? strtoull(getenv("SEED"), NULL, 10) : (uint64_t)getpid();
    printf("seed %llu (SEED=%llu to repeat)\n", (unsigned long long)seed, (unsigned long long)seed);
    rng = seed * 2654435761u + 1;
    static const size_t sizes[] = {1, 63, 64, 65, 100, 1000, 2048, 2048, 7};
    rhei__err e = {0};
    for (int round = 0; round < 12; round++) {
        rhei_result *cells = fresh(0), *native = fresh(1);
        size_t batches = 1 + next() % 40;
        for (size_t k = 0; k < batches; k++) {
            size_t n = sizes[next() % (sizeof sizes / sizeof sizes[0])];
            fill(&b, n, round % 3 != 0);
            for (size_t i = 0; i < n; i++) {
                for (int c = 0; c < NCOLS; c++) {
                    rhei_value v = source_value(&b, c, i);
                    CHECK_INT(rhei__result_push(cells, (size_t)c, &v, &e), RHEI_OK);
                }
                rhei__result_end_row(cells);
            }
            const void *data[NCOLS] = {b.i64, b.f64, b.view, b.i32, b.i8};
            for (int c = 0; c < NCOLS; c++) /* no NULL in a batch: no validity, as DuckDB */
                CHECK_INT(rhei__result_put_native(native, (size_t)c, n, data[c],
                                                  round % 3 ? b.valid[c] : NULL, &e),
                          RHEI_OK);
            rhei__result_end_rows(native, n);
        }
        for (int c = 0; c < NCOLS; c++)
            CHECK_INT(native->cols[c].seen, cells->cols[c].seen);
        same(cells, native, seed);
        size_t c = next() % NCOLS; /* and once more after a column turned into cells */
        CHECK_INT(rhei__result_to_cells(native, c, &e), RHEI_OK);
        CHECK_INT(native->cols[c].lay, RHEI__LAY_CELLS);
        same(cells, native, seed);
        rhei_result_free(cells);
        rhei_result_free(native);
    }
}

TEST(native_columns_count_against_the_byte_limit)
{
    static batch b;
    rhei__err e = {0};
    rhei_result *r = fresh(1);
    r->max_bytes = 100000;
    rng = 7;
    fill(&b, 2048, 0);
    const void *data[NCOLS] = {b.i64, b.f64, b.view, b.i32, b.i8};
    int rc = RHEI_OK;
    size_t rows = 0;
    while (rc == RHEI_OK && rows < 100000) {
        for (int c = 0; c < NCOLS && rc == RHEI_OK; c++)
            rc = rhei__result_put_native(r, (size_t)c, 2048, data[c], NULL, &e);
        if (rc == RHEI_OK)
            rhei__result_end_rows(r, 2048);
        rows += 2048;
    }
    CHECK_INT(rc, RHEI_RANGE);
    CHECK(strstr(e.msg, "byte limit") != NULL);
    CHECK(r->heap_len + r->native_bytes <= r->max_bytes);
    rhei_result_free(r);
}

TEST(native_validity_ignores_bits_past_a_vector)
{
    static batch b;
    rhei__err e = {0};
    rhei_result *r = fresh(1);
    rng = 11;
    fill(&b, 100, 0);                     /* every row valid, bits past 100 set too */
    b.valid[0][0] &= ~((uint64_t)1 << 5); /* one NULL: the column has a NULL */
    CHECK_INT(rhei__result_put_native(r, 0, 100, b.i64, b.valid[0], &e), RHEI_OK);
    rhei__result_end_rows(r, 100);
    CHECK(r->cols[0].seen & RHEI__TBIT(RHEI_TYPE_NULL));
    CHECK(rhei_result_is_null(r, 5, 0));
    CHECK(!rhei_result_is_null(r, 99, 0));
    /* an unaligned batch after it: its own bits, none left over from the first */
    memset(b.valid[0], 0, sizeof b.valid[0]);
    CHECK_INT(rhei__result_put_native(r, 0, 30, b.i64, b.valid[0], &e), RHEI_OK);
    rhei__result_end_rows(r, 30);
    for (size_t row = 100; row < 130; row++)
        CHECK(rhei_result_is_null(r, row, 0));
    CHECK(!rhei_result_is_null(r, 99, 0));
    rhei_result_free(r);
}

/* A native string column turned into cells: long strings keep their heap bytes (no second
 * copy), inline ones move there, the freed array leaves the byte count, and the limit
 * holds throughout. */
TEST(native_to_cells_stays_within_the_byte_limit)
{
    static batch b;
    rhei__err e = {0};
    rng = 5;
    fill(&b, 2048, 1);
    size_t inline_bytes = 0;
    for (size_t i = 0; i < 2048; i++)
        if ((b.valid[2][i / 64] >> (i % 64) & 1) && b.view[i].len <= RHEI__VIEW_KEEP)
            inline_bytes += b.view[i].len + 1;
    for (int roomy = 0; roomy < 2; roomy++) {
        rhei_result *r = fresh(1);
        CHECK_INT(rhei__result_put_native(r, 2, 2048, b.view, b.valid[2], &e), RHEI_OK);
        rhei__result_end_rows(r, 2048);
        size_t heap = r->heap_len, native = r->native_bytes;
        r->max_bytes = heap + native + (roomy ? inline_bytes : inline_bytes - 1);
        int rc = rhei__result_to_cells(r, 2, &e);
        CHECK(r->heap_len + r->native_bytes <= r->max_bytes);
        if (!roomy) {
            CHECK_INT(rc, RHEI_RANGE);
        } else {
            CHECK_INT(rc, RHEI_OK);
            CHECK_INT(r->heap_len, heap + inline_bytes);
            CHECK_INT(r->native_bytes, native - 2048 * sizeof(rhei__view));
            for (size_t i = 0; i < 2048; i++) {
                rhei_value v = rhei_result_value(r, i, 2), want = source_value(&b, 2, i);
                CHECK_INT(v.type, want.type);
                CHECK(v.n == want.n && (!v.n || memcmp(v.s, want.s, v.n) == 0));
            }
        }
        rhei_result_free(r);
    }
}
