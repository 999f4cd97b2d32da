/* duckdb_apply.c — change batches into DuckDB. Insert-only batches and loads are fed straight
 * into the table; otherwise the batch is grouped by key here (stats, last image, next
 * version's start) and DuckDB runs one set-based statement joined with the touched keys (see
 * duckdb_feed.c): mirror deletes the keys before the last images go in, history closes
 * their open versions. */
#include "duckdb_int.h"
#include "mem.h"
#include "value.h"
#include <string.h>

#define XNULL RHEI__DUCK_XNULL
#define NONE UINT32_MAX

/* Feeds rows of the batch into the table's storage object; history rows get valid_from and
 * valid_to from x (see rhei__duck_apply / rhei__duck_load). */
static int append_target(rhei__olap *o, const rhei__batch *b, int history, const uint32_t *sel,
                         size_t n, const rhei__duck_xcol *x, rhei__err *e)
{
    rhei__duck_rows a = {b, NULL, b->table->ncols, sel, n, {{NULL, NULL, 0}, {NULL, NULL, 0}}, 0};
    if (n == 0)
        return RHEI_OK;
    if (history) {
        a.x[0] = x[0];
        a.x[1] = x[1];
        a.nx = 2;
    }
    return rhei__duck_feed_run(o, b->table, history, RHEI__FEED_INSERT, &a, e);
}

/* ---- grouping events by key -------------------------------------------------------------- */

/* A key column's value in a form where equal SQL values are equal bytes: DECIMAL as its
 * scaled integer, REAL as a double without -0, integers as themselves, text as bytes. */
typedef struct kpart {
    int tag; /* 0 NULL, 1 integer, 2 real, 3 bytes, 4 decimal */
    uint64_t a, b;
    const char *s;
    size_t n;
} kpart;

static void key_part(const rhei__colspec *c, const rhei_value *v, kpart *k)
{
    __int128 x;
    int p, s;
    memset(k, 0, sizeof *k);
    if (v->type == RHEI_TYPE_NULL)
        return;
    rhei__duck_dec_ps(c, &p, &s);
    if (c->type == RHEI_TYPE_DECIMAL && rhei__duck_to_decimal(v, p, s, &x) == 0) {
        k->tag = 4;
        k->a = (uint64_t)(unsigned __int128)x;
        k->b = (uint64_t)((unsigned __int128)x >> 64);
    } else if (c->type == RHEI_TYPE_REAL || v->type == RHEI_TYPE_REAL) {
        double d = v->type == RHEI_TYPE_REAL ? v->f : (double)v->i;
        d = d == 0 ? 0.0 : d;
        k->tag = 2;
        memcpy(&k->a, &d, sizeof d);
    } else if (v->type == RHEI_TYPE_TEXT || v->type == RHEI_TYPE_BLOB ||
               v->type == RHEI_TYPE_DECIMAL) {
        k->tag = 3;
        k->s = v->s;
        k->n = v->n;
    } else {
        k->tag = 1;
        k->a = (uint64_t)v->i;
    }
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h = (h ^ x) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t key_hash(const rhei__batch *b, size_t row, int *has_null)
{
    const rhei__table *t = b->table;
    uint64_t h = 0x243F6A8885A308D3ull;
    for (size_t k = 0; k < t->npk; k++) {
        kpart p;
        key_part(&t->cols[t->pk_idx[k]], &b->vals[row * t->ncols + t->pk_idx[k]], &p);
        *has_null |= p.tag == 0;
        h = mix(mix(mix(h, (uint64_t)p.tag), p.a), p.b);
        for (size_t i = 0; i < p.n; i++)
            h = (h ^ (unsigned char)p.s[i]) * 0x100000001B3ull;
    }
    return h;
}

static int key_eq(const rhei__batch *b, size_t r1, size_t r2)
{
    const rhei__table *t = b->table;
    for (size_t k = 0; k < t->npk; k++) {
        const rhei__colspec *c = &t->cols[t->pk_idx[k]];
        kpart x, y;
        key_part(c, &b->vals[r1 * t->ncols + t->pk_idx[k]], &x);
        key_part(c, &b->vals[r2 * t->ncols + t->pk_idx[k]], &y);
        if (x.tag != y.tag || x.a != y.a || x.b != y.b || x.n != y.n ||
            (x.n && memcmp(x.s, y.s, x.n) != 0))
            return 0;
    }
    return 1;
}

/* The batch's events grouped by primary key, in order of first appearance. */
typedef struct kgroups {
    uint32_t *first, *last; /* per group: its first and last event */
    uint32_t *next;         /* per event: the next event of its key, NONE after the last */
    size_t n;
    int has_null;           /* some key part is NULL: matching needs IS NOT DISTINCT FROM */
} kgroups;

static void kgroups_free(kgroups *g)
{
    rhei__free(g->first);
    rhei__free(g->last);
    rhei__free(g->next);
}

static int kgroups_build(const rhei__batch *b, kgroups *g, rhei__err *e)
{
    size_t n = b->nrows, cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    memset(g, 0, sizeof *g);
    uint32_t *slots = rhei__calloc(cap, sizeof *slots); /* group + 1; 0 = empty */
    g->first = rhei__malloc(n * sizeof *g->first);
    g->last = rhei__malloc(n * sizeof *g->last);
    g->next = rhei__malloc(n * sizeof *g->next);
    if (!slots || !g->first || !g->last || !g->next) {
        rhei__free(slots);
        kgroups_free(g);
        return rhei__err_nomem(e);
    }
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)key_hash(b, i, &g->has_null) & (cap - 1);
        while (slots[h] && !key_eq(b, g->first[slots[h] - 1], i))
            h = (h + 1) & (cap - 1);
        g->next[i] = NONE;
        if (!slots[h]) {
            slots[h] = (uint32_t)++g->n;
            g->first[g->n - 1] = (uint32_t)i;
        } else {
            g->next[g->last[slots[h] - 1]] = (uint32_t)i;
        }
        g->last[slots[h] - 1] = (uint32_t)i;
    }
    rhei__free(slots);
    return RHEI_OK;
}

/* ---- apply ------------------------------------------------------------------------------- */

/* The touched keys, one row per key: the key columns and, for history, the key's first
 * event time (`first` holds those times) and a NULL to match open versions with. */
static void key_rows(const rhei__batch *b, const kgroups *g, int64_t *first, rhei__duck_rows *a)
{
    *a = (rhei__duck_rows){b, b->table->pk_idx, b->table->npk, g->first, g->n,
               {{NULL, NULL, 0}, {NULL, NULL, 0}}, 0};
    if (first) {
        for (size_t k = 0; k < g->n; k++)
            first[k] = b->ts[g->first[k]];
        a->x[0] = (rhei__duck_xcol){"_rhei_first", first, 0};
        a->x[1] = (rhei__duck_xcol){"_rhei_open", NULL, XNULL}; /* see RHEI__FEED_CLOSE */
        a->nx = 2;
    }
}

/* mirror: delete every touched key, then feed each key's last image unless deleted. */
static int apply_mirror(rhei__olap *o, const rhei__batch *b, const kgroups *g, uint32_t *sel,
                        rhei__apply_stats *st, rhei__err *e)
{
    size_t m = 0;
    rhei__duck_rows keys;
    for (size_t k = 0; k < g->n; k++) {
        int first = b->op[g->first[k]], last = b->op[g->last[k]];
        if (last == RHEI__OP_DELETE) {
            st->deleted++;
            continue;
        }
        if (first == RHEI__OP_INSERT)
            st->inserted++;
        else
            st->updated++;
        sel[m++] = g->last[k];
    }
    key_rows(b, g, NULL, &keys);
    int rc = rhei__duck_feed_run(o, b->table, 0,
                                 g->has_null ? RHEI__FEED_DELETE_NULLS : RHEI__FEED_DELETE,
                                 &keys, e);
    return rc ? rc : append_target(o, b, 0, sel, m, NULL, e);
}

/* history: close the open version of every touched key at the key's first event, then
 * feed a version [ts, next event's ts) for every INSERT and UPDATE. */
static int apply_history(rhei__olap *o, const rhei__batch *b, const kgroups *g, uint32_t *sel,
                         rhei__err *e)
{
    /* one allocation: the keys' first event times, then each version's bounds */
    int64_t *first = rhei__malloc((g->n + 2 * b->nrows) * sizeof *first);
    if (!first)
        return rhei__err_nomem(e);
    int64_t *from = first + g->n, *to = from + b->nrows;
    rhei__duck_rows keys;
    key_rows(b, g, first, &keys);
    int rc = rhei__duck_feed_run(o, b->table, 1,
                                 g->has_null ? RHEI__FEED_CLOSE_NULLS : RHEI__FEED_CLOSE,
                                 &keys, e);
    size_t m = 0;
    for (size_t i = 0; rc == RHEI_OK && i < b->nrows; i++) {
        if (b->op[i] == RHEI__OP_DELETE)
            continue;
        from[m] = b->ts[i];
        to[m] = g->next[i] == NONE ? XNULL : b->ts[g->next[i]];
        sel[m++] = (uint32_t)i;
    }
    rhei__duck_xcol x[2] = {{"_rhei_valid_from", from, 0}, {"_rhei_valid_to", to, 0}};
    if (rc == RHEI_OK)
        rc = append_target(o, b, 1, sel, m, x, e);
    rhei__free(first);
    return rc;
}

static int apply_keyed(rhei__olap *o, const rhei__batch *b, int history,
                       rhei__apply_stats *st, rhei__err *e)
{
    const rhei__table *t = b->table;
    kgroups g;
    if (t->npk == 0)
        return rhei__err_set(e, RHEI_MISUSE, "table '%s' has no primary key", t->name);
    if (b->nrows >= NONE)
        return rhei__err_set(e, RHEI_RANGE, "batch of %zu events is too large", b->nrows);
    int rc = kgroups_build(b, &g, e);
    if (rc)
        return rc;
    uint32_t *sel = rhei__malloc(b->nrows * sizeof *sel);
    if (!sel) {
        kgroups_free(&g);
        return rhei__err_nomem(e);
    }
    rc = history ? apply_history(o, b, &g, sel, e) : apply_mirror(o, b, &g, sel, st, e);
    if (rc == RHEI_OK)
        rc = rhei__duck_touch(o, t->name, history, e);
    if (rc == RHEI_OK && history) {
        st->inserted = (int64_t)b->ninserts;
        st->updated = (int64_t)b->nupdates;
        st->deleted = (int64_t)b->ndeletes;
    }
    rhei__free(sel);
    kgroups_free(&g);
    return rc;
}

int rhei__duck_apply(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                     rhei__err *e)
{
    rhei__apply_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    int rc = rhei__duck_need_txn(o, e);
    rhei__duck_xcol x[2] = {{"_rhei_valid_from", b->ts, 0}, {"_rhei_valid_to", NULL, XNULL}};
    if (rc)
        return rc;
    if (b->nrows == 0 && b->table) {
        /* Nothing to apply: prepare the insert statement of the table, writing nothing. DDL
         * makes DuckDB plan every statement anew (end_txn drops them), ~0.5 ms a table; the
         * sync calls this after a cycle with DDL commits (a registration), so its next data
         * cycle does not pay it. */
        rhei__duck_rows none = {b, NULL, b->table->ncols, NULL, 0, {x[0], x[1]}, history ? 2 : 0};
        return rhei__duck_feed_run(o, b->table, history, RHEI__FEED_INSERT, &none, e);
    }
    if (b->nrows == 0)
        return RHEI_OK;
    o->wrote = 1;
    if (b->nupdates || b->ndeletes)
        return apply_keyed(o, b, history, st, e);
    /* Insert-only: each key appears once (an INSERT means it was absent), append directly. */
    rc = append_target(o, b, history, NULL, b->nrows, x, e);
    if (rc == RHEI_OK)
        st->inserted = (int64_t)b->nrows;
    return rc;
}

int rhei__duck_load(rhei__olap *o, const rhei__batch *b, int history, int64_t ts_us,
                    rhei__err *e)
{
    int rc = rhei__duck_need_txn(o, e);
    if (rc || b->nrows == 0)
        return rc;
    o->wrote = 1;
    rhei__duck_xcol x[2] = {{"_rhei_valid_from", NULL, ts_us}, {"_rhei_valid_to", NULL, XNULL}};
    return append_target(o, b, history, NULL, b->nrows, x, e);
}
