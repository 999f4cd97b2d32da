/* test_batch.c — change batches keep their value grid the right width when they move from
 * one table version to another, including after being detached from any (catalog reload). */
#include "test.h"
#include "batch.h"
#include "schema.h"

static rhei__table *table_of(int64_t tid, size_t ncols)
{
    static char names[8][24];
    rhei__colspec c[8];
    for (size_t i = 0; i < ncols; i++) {
        snprintf(names[i], sizeof names[i], "c%zu", i);
        c[i] = (rhei__colspec){names[i], (char *)"INTEGER", RHEI_TYPE_INTEGER, 0, 0, i == 0};
    }
    rhei__table *t = NULL;
    rhei__err e;
    CHECK_INT(rhei__table_new("t", tid, c, ncols, &t, &e), RHEI_OK);
    return t;
}

/* Fills n rows of width t->ncols with distinct values and reads them all back. */
static void fill_and_check(rhei__batch *b, const rhei__table *t, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        rhei_value *row = rhei__batch_add_raw(b, (int64_t)r, 0, RHEI__OP_INSERT);
        CHECK(row != NULL);
        for (size_t c = 0; c < t->ncols; c++)
            row[c] = rhei_int((int64_t)(r * 100 + c));
    }
    CHECK_INT(b->nrows, n);
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < t->ncols; c++)
            CHECK_INT(rhei__batch_row(b, r)[c].i, (int64_t)(r * 100 + c));
}

TEST(wider_version_after_detach_gets_a_wide_enough_grid)
{
    rhei__table *narrow = table_of(1, 2), *wide = table_of(2, 7);
    rhei__batch b;
    rhei__batch_init(&b, narrow);
    fill_and_check(&b, narrow, 1500); /* grid of 2048 rows x 2 values */
    rhei__batch_reset(&b, NULL);
    b.table = NULL; /* what a catalog reload does: the old version is about to be freed */
    rhei__batch_reset(&b, wide);
    fill_and_check(&b, wide, 1500); /* ASan: 1500 x 7 values would overflow the old grid */
    rhei__batch_reset(&b, narrow);
    fill_and_check(&b, narrow, 10);
    rhei__batch_free(&b);
    rhei__table_free(narrow);
    rhei__table_free(wide);
}
