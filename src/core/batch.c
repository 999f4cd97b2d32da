/* batch.c — change batches: parallel arrays for event metadata, a row-major value grid and
 * a block arena for bytes, all reused across sync cycles to keep the hot path allocation-free. */
#include "batch.h"
#include "mem.h"
#include <string.h>

struct rhei__arena_block {
    rhei__arena_block *next;
    size_t used, cap;
    char data[];
};

#define ARENA_BLOCK (256u * 1024u)

void rhei__batch_init(rhei__batch *b, const rhei__table *t)
{
    memset(b, 0, sizeof *b);
    b->table = t;
}

static void arena_free(rhei__arena_block *a)
{
    while (a) {
        rhei__arena_block *n = a->next;
        rhei__free(a);
        a = n;
    }
}

void rhei__batch_reset(rhei__batch *b, const rhei__table *t)
{
    /* Keep the first block, drop the rest: steady state needs one block per cycle. */
    if (b->arena) {
        arena_free(b->arena->next);
        b->arena->next = NULL;
        b->arena->used = 0;
    }
    /* Row width changed, or unknown (a batch detached from its table keeps a grid of the old
     * width): the value grid is re-grown on demand. */
    if (t && (!b->table || t->ncols != b->table->ncols)) {
        rhei__free(b->vals);
        b->vals = NULL;
        rhei__free(b->seq);
        rhei__free(b->ts);
        rhei__free(b->op);
        b->seq = b->ts = NULL;
        b->op = NULL;
        b->cap = 0;
    }
    if (t)
        b->table = t;
    b->nrows = 0;
    b->ninserts = b->nupdates = b->ndeletes = 0;
}

void rhei__batch_free(rhei__batch *b)
{
    arena_free(b->arena);
    rhei__free(b->seq);
    rhei__free(b->ts);
    rhei__free(b->op);
    rhei__free(b->vals);
    memset(b, 0, sizeof *b);
}

rhei_value *rhei__batch_add(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op)
{
    rhei_value *row = rhei__batch_add_raw(b, seq, ts, op);
    if (row)
        memset(row, 0, b->table->ncols * sizeof *row); /* RHEI_TYPE_NULL == 0 */
    return row;
}

rhei_value *rhei__batch_add_raw(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op)
{
    size_t ncols = b->table->ncols;
    if (b->nrows == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 1024;
        int64_t *s = rhei__realloc(b->seq, ncap * sizeof *s);
        if (s)
            b->seq = s;
        int64_t *t = rhei__realloc(b->ts, ncap * sizeof *t);
        if (t)
            b->ts = t;
        uint8_t *o = rhei__realloc(b->op, ncap * sizeof *o);
        if (o)
            b->op = o;
        rhei_value *v = rhei__realloc(b->vals, ncap * (ncols ? ncols : 1) * sizeof *v);
        if (v)
            b->vals = v;
        if (!s || !t || !o || !v)
            return NULL;
        b->cap = ncap;
    }
    size_t i = b->nrows++;
    b->seq[i] = seq;
    b->ts[i] = ts;
    b->op[i] = (uint8_t)op;
    if (op == RHEI__OP_INSERT)
        b->ninserts++;
    else if (op == RHEI__OP_UPDATE)
        b->nupdates++;
    else
        b->ndeletes++;
    return b->vals + i * ncols;
}

const char *rhei__batch_copy(rhei__batch *b, const char *s, size_t n)
{
    rhei__arena_block *a = b->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        rhei__arena_block *nb = rhei__malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->cap = cap;
        nb->used = 0;
        /* New block goes first; the full one stays reachable for freeing. */
        nb->next = a;
        b->arena = nb;
        a = nb;
    }
    char *d = a->data + a->used;
    if (n)
        memcpy(d, s, n);
    a->used += n;
    return d;
}
