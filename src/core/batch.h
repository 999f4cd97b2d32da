/* batch.h — a batch of change events for one table version, in log order, as the sync hands
 * them to an OLAP backend. Values are already canonical for their column's type (see
 * rhei__batch_push); bytes live in the batch's own arena until reset. */
#ifndef RHEI_CORE_BATCH_H
#define RHEI_CORE_BATCH_H
#include "err.h"
#include "schema.h"
#include <stddef.h>
#include <stdint.h>

typedef enum rhei__op {
    RHEI__OP_INSERT = 1, /* the key did not exist before this event */
    RHEI__OP_UPDATE = 2, /* the key existed and still exists, same key */
    RHEI__OP_DELETE = 3  /* the key existed; only key columns are set, others NULL */
} rhei__op;

typedef struct rhei__arena_block rhei__arena_block;

typedef struct rhei__batch {
    const rhei__table *table; /* borrowed; every row has table->ncols values */
    size_t nrows, cap;
    int64_t *seq;             /* change-log position of each event */
    int64_t *ts;              /* commit-time microseconds of each event (monotonic) */
    uint8_t *op;              /* rhei__op */
    rhei_value *vals;         /* nrows * table->ncols, row-major */
    size_t ninserts, nupdates, ndeletes;
    rhei__arena_block *arena; /* owns the bytes vals[].s points to */
} rhei__batch;

void rhei__batch_init(rhei__batch *b, const rhei__table *t);
/* Forgets rows, keeps memory; may switch to another table version. */
void rhei__batch_reset(rhei__batch *b, const rhei__table *t);
void rhei__batch_free(rhei__batch *b);
/* Appends an event and returns its value row (ncols NULLs) to fill, or NULL on OOM. */
rhei_value *rhei__batch_add(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op);
/* The same without clearing the row: for callers that set every value (the hot paths that
 * decode whole log rows; clearing was a tenth of an insert-only sync). */
rhei_value *rhei__batch_add_raw(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op);
/* Copies n bytes into the batch's arena; NULL on OOM. */
const char *rhei__batch_copy(rhei__batch *b, const char *s, size_t n);
static inline const rhei_value *rhei__batch_row(const rhei__batch *b, size_t i)
{
    return b->vals + i * b->table->ncols;
}
#endif
