/* sync.c — the sync cycle and recovery. Invariants: a cycle applies whole transactions
 * (everything visible in one SQLite snapshot), in log order, in one OLAP transaction that
 * also stores the position; on any failure both sides roll back and the position stays. */
#include "sync_int.h"
#include "config.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static tstate *find_state(rhei__sync *s, const char *name)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (strcasecmp(s->tables[i].name, name) == 0)
            return &s->tables[i];
    return NULL;
}

static tstate *add_state(rhei__sync *s, const char *name, int64_t tid, rhei__err *e)
{
    tstate *t = find_state(s, name);
    if (t) {
        t->tid = tid;
        return t;
    }
    if (rhei__grow((void **)&s->tables, &s->tcap, s->ntables + 1, sizeof *s->tables)) {
        rhei__err_nomem(e);
        return NULL;
    }
    t = &s->tables[s->ntables];
    memset(t, 0, sizeof *t);
    if (!(t->name = rhei__strdup(name))) {
        rhei__err_nomem(e);
        return NULL;
    }
    t->tid = tid;
    s->ntables++;
    return t;
}

static void remove_state(rhei__sync *s, const char *name)
{
    tstate *t = find_state(s, name);
    if (!t)
        return;
    rhei__free(t->name);
    rhei__batch_free(&t->batch);
    rhei__batch_free(&t->pre);
    *t = s->tables[--s->ntables];
}

int rhei__sync_load_table_cb(void *ud, const char *name, int64_t tid)
{
    rhei__err e;
    return add_state(ud, name, tid, &e) ? RHEI_OK : RHEI_NOMEM;
}

int rhei__sync_new(rhei__oltp *oltp, const rhei__olap_vtab *vt, rhei__olap *olap,
                   const rhei__sync_opts *opts, rhei__sync **out, rhei__err *e)
{
    *out = NULL;
    rhei__sync *s = rhei__calloc(1, sizeof *s);
    if (!s)
        return rhei__err_nomem(e);
    s->oltp = oltp;
    s->vt = vt;
    s->olap = olap;
    s->opts = *opts;
    if (!(s->consumer = rhei__strdup(opts->consumer ? opts->consumer : "default"))) {
        rhei__free(s);
        return rhei__err_nomem(e);
    }
    s->opts.consumer = s->consumer;
    if (s->opts.batch_size == 0)
        s->opts.batch_size = RHEI__BATCH_SIZE_DEFAULT;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->stat_mu, NULL);
    rhei__bg_init(&s->loop);
    pthread_mutex_init(&s->prune_mu, NULL);
    rhei__bg_init(&s->pruner);
    rhei__applier_init(s);
    *out = s;
    return RHEI_OK;
}

void rhei__sync_clear_states(rhei__sync *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        rhei__free(s->tables[i].name);
        rhei__batch_free(&s->tables[i].batch);
        rhei__batch_free(&s->tables[i].pre);
    }
    s->ntables = 0;
}

void rhei__sync_free(rhei__sync *s)
{
    if (!s)
        return;
    rhei__sync_stop(s);
    rhei__sync_pruner_stop(s);
    rhei__applier_free(s);
    rhei__sync_clear_states(s);
    rhei__sync_fails_free(s);
    rhei__free(s->tables);
    rhei__sync_detached_free(s);
    rhei__catalog_free(&s->cat);
    rhei__free(s->consumer);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->stat_mu);
    rhei__bg_destroy(&s->loop);
    rhei__bg_destroy(&s->pruner);
    pthread_mutex_destroy(&s->prune_mu);
    rhei__free(s);
}

/* --- applying ---------------------------------------------------------------------------- */

typedef struct cycle {
    rhei__sync *s;
    rhei__conn *reader;
    int64_t head;
    int64_t last_ts;
    size_t pending;
    rhei_sync_stats stats;
    char *blame;      /* the table whose data failed the cycle (fail.c), owned */
    int cleared;      /* failed tables copied again or dropped in this cycle */
    int ddl;          /* OLAP tables were created, altered or dropped: see warm_up */
    int olap_open;    /* the OLAP transaction is open (begun at the first write: olap_need) */
} cycle;

/* Remembers which table a failure belongs to, when the failure is that table's own. */
static int blame(cycle *c, const char *table, int rc)
{
    if (rc && !c->blame && rhei__sync_blamable(rc))
        c->blame = rhei__strdup(table); /* NULL on OOM: the cycle then fails as a whole */
    return rc;
}

/* The cycle's OLAP transaction, begun before its first write rather than before the log is
 * read, so that a cycle whose only write is one batch can skip it (finish_events). */
static int olap_need(cycle *c, rhei__err *e)
{
    if (c->olap_open)
        return RHEI_OK;
    int rc = c->s->vt->begin(c->s->olap, e);
    if (rc == RHEI_OK)
        c->olap_open = 1;
    return rc;
}

static int wait_applier(cycle *c, rhei__err *e)
{
    int rc = rhei__applier_wait(c->s, &c->stats, e);
    return rc && c->s->ap.blame ? blame(c, c->s->ap.blame, rc) : rc;
}

/* Applies table i's pending batch, inside the cycle's transaction or (alone) as one of its
 * own, and counts it. */
static int apply_batch(cycle *c, size_t i, int alone, rhei__err *e)
{
    rhei__sync *s = c->s;
    rhei__batch *b = &s->tables[i].batch;
    rhei__apply_stats st = {0, 0, 0};
    int rc = alone ? s->vt->apply_alone(s->olap, b, s->opts.history, &st, e)
                   : s->vt->apply(s->olap, b, s->opts.history, &st, e);
    if (rc)
        return blame(c, s->tables[i].name,
                     rhei__err_wrap(e, "cannot apply changes to table '%s'", s->tables[i].name));
    c->stats.inserted += st.inserted;
    c->stats.updated += st.updated;
    c->stats.deleted += st.deleted;
    rhei__batch_reset(b, NULL);
    return RHEI_OK;
}

/* Applies every pending batch now, after the applier's running job. */
static int flush_all(cycle *c, rhei__err *e)
{
    rhei__sync *s = c->s;
    int rc = wait_applier(c, e);
    for (size_t i = 0; i < s->ntables && rc == RHEI_OK; i++)
        if (s->tables[i].batch.nrows > 0 && (rc = olap_need(c, e)) == RHEI_OK)
            rc = apply_batch(c, i, 0, e);
    if (rc == RHEI_OK)
        c->pending = 0;
    return rc;
}

/* Mid-cycle, a full set of batches goes to the applier and the reading goes on. */
static int flush_async(cycle *c, rhei__err *e)
{
    int rc = wait_applier(c, e);
    if (rc == RHEI_OK)
        rc = olap_need(c, e);
    if (rc == RHEI_OK)
        rc = rhei__applier_submit(c->s, e);
    c->pending = 0;
    return rc;
}

typedef struct load_ctx {
    rhei__sync *s;
    int64_t ts;
} load_ctx;

static int load_chunk(void *ud, rhei__batch *b, rhei__err *e)
{
    load_ctx *l = ud;
    return l->s->vt->load(l->s->olap, b, l->s->opts.history, l->ts, e);
}

/* Creates the OLAP table for version t and fills it from the reader's snapshot. Later log
 * events of the table up to `covered` are already in that snapshot and must be skipped. */
int rhei__sync_copy_table(rhei__sync *s, rhei__conn *reader, const rhei__table *t,
                          int64_t ts, int64_t covered, rhei__err *e)
{
    int rc = s->vt->create_table(s->olap, t, s->opts.history, e);
    if (rc == RHEI_OK) {
        load_ctx l = {s, ts};
        rc = rhei__cdc_copy_table(reader, t, s->opts.batch_size, load_chunk, &l, e);
    }
    if (rc)
        return rhei__err_wrap(e, "cannot copy table '%s' to olap", t->name);
    tstate *st = add_state(s, t->name, t->tid, e);
    if (!st)
        return e->code;
    rhei__batch_reset(&st->batch, t);
    st->skip_upto = covered;
    return RHEI_OK;
}

/* Rows that existed when a column was added read its DEFAULT in SQLite: give them the same
 * value in OLAP (history: current versions only; past versions did not have the column). */
static int fill_defaults(cycle *c, const rhei__table *from, const rhei__table *to, rhei__err *e)
{
    rhei__sync *s = c->s;
    int rc = RHEI_OK;
    for (size_t i = 0; rc == RHEI_OK && i < to->ncols; i++) {
        if (rhei__table_col(from, to->cols[i].name) >= 0)
            continue;
        rhei__batch scratch;
        rhei_value v;
        rhei__batch_init(&scratch, to);
        rc = rhei__cdc_column_default(c->reader, to, i, &scratch, &v, e);
        if (rc == RHEI_OK && v.type != RHEI_TYPE_NULL)
            rc = s->vt->fill_column(s->olap, to, to->cols[i].name, &v, s->opts.history, e);
        rhei__batch_free(&scratch);
    }
    return rc;
}

static int on_schema_event(cycle *c, const rhei__cdc_event_row *ev, rhei__err *e)
{
    rhei__sync *s = c->s;
    const rhei__table *v = rhei__catalog_find(&s->cat, ev->tid);
    if (!v)
        return rhei__err_set(e, RHEI_CORRUPT, "change %lld names unknown table version %lld",
                             (long long)ev->seq, (long long)ev->tid);
    int rc = flush_all(c, e);
    if (rc == RHEI_OK)
        rc = olap_need(c, e);
    if (rc)
        return rc;
    c->ddl = 1; /* at most a needless warm-up when the event turns out to be skipped */
    tstate *st = find_state(s, v->name);
    const rhei__table *latest = rhei__catalog_active(&s->cat, v->name);
    rhei__sync_fail *f = s->nfails ? rhei__sync_fail_find(s, v->name) : NULL;
    switch (ev->op) {
    case RHEI__EV_REGISTER:
    case RHEI__EV_RESYNC:
        if ((st && !f && ev->seq <= st->skip_upto) || (f && ev->seq <= f->tried))
            return RHEI_OK; /* covered by a copy, or a copy of a failed table that failed */
        if (!latest) /* unregistered later in this snapshot; its DROP event follows */
            return RHEI_OK;
        if (rhei__sync_is_detached(s, latest->name)) /* nothing to copy from (detach.c) */
            return RHEI_OK;
        if ((rc = rhei__sync_copy_table(s, c->reader, latest, ev->ts, c->head, e)) != RHEI_OK)
            return blame(c, v->name, rc);
        if (f) { /* the repair of a failed table: its copy is whole again */
            f->cleared = 1;
            c->cleared++;
            find_state(s, v->name)->failed = 0;
        }
        return RHEI_OK;
    case RHEI__EV_ALTER: {
        if (!st || st->failed || st->detached || ev->seq <= st->skip_upto)
            return RHEI_OK;
        const rhei__table *from = rhei__catalog_find(&s->cat, st->tid);
        if (!from)
            return rhei__err_set(e, RHEI_CORRUPT, "olap holds unknown version %lld of '%s'",
                                 (long long)st->tid, v->name);
        rc = s->vt->alter_table(s->olap, from, v, s->opts.history, e);
        if (rc == RHEI_OK)
            rc = fill_defaults(c, from, v, e);
        if (rc)
            return blame(c, v->name, rhei__err_wrap(e, "cannot alter olap table '%s'", v->name));
        st->tid = v->tid;
        rhei__batch_reset(&st->batch, v);
        return RHEI_OK;
    }
    case RHEI__EV_DROP:
        if (st && ev->seq <= st->skip_upto)
            return RHEI_OK;
        if ((rc = s->vt->drop_table(s->olap, v->name, s->opts.history, e)) != RHEI_OK)
            return blame(c, v->name, rhei__err_wrap(e, "cannot drop olap table '%s'", v->name));
        remove_state(s, v->name);
        if (f) { /* unregistered: nothing is owed any more */
            f->cleared = 1;
            c->cleared++;
        }
        return RHEI_OK;
    default:
        return rhei__err_set(e, RHEI_CORRUPT, "change %lld has unknown kind %d",
                             (long long)ev->seq, ev->op);
    }
}

/* Key values compare by their type's field only: rows added raw leave the others unset. */
static int value_eq(const rhei_value *x, const rhei_value *y)
{
    if (x->type != y->type)
        return 0;
    switch (x->type) {
    case RHEI_TYPE_NULL: return 1;
    case RHEI_TYPE_REAL: return x->f == y->f;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_BLOB:
    case RHEI_TYPE_DECIMAL: return x->n == y->n && (!x->n || memcmp(x->s, y->s, x->n) == 0);
    default: return x->i == y->i;
    }
}

static int keys_equal(const rhei__table *t, const rhei_value *a, const rhei_value *b)
{
    for (size_t k = 0; k < t->npk; k++)
        if (!value_eq(&a[t->pk_idx[k]], &b[t->pk_idx[k]]))
            return 0;
    return 1;
}

/* Swaps the last two events of a batch, so a deletion can go before the insert after it. */
static void swap_last_two(rhei__batch *b)
{
    size_t i = b->nrows - 2, j = b->nrows - 1, n = b->table->ncols;
    int64_t s = b->seq[i], t = b->ts[i];
    uint8_t op = b->op[i];
    b->seq[i] = b->seq[j], b->ts[i] = b->ts[j], b->op[i] = b->op[j];
    b->seq[j] = s, b->ts[j] = t, b->op[j] = op;
    for (size_t c = 0; c < n; c++) {
        rhei_value v = b->vals[i * n + c];
        b->vals[i * n + c] = b->vals[j * n + c];
        b->vals[j * n + c] = v;
    }
}

/* A pre-insert mark followed by the INSERT of the same key means the insert replaced a row:
 * log the deletion the writing connection's triggers could not see. Any other follower
 * (IGNORE, an upsert's UPDATE, a DELETE already logged) means there is nothing to add. */
static int resolve_pre(tstate *st, const rhei__table *v, rhei__err *e)
{
    rhei__batch *b = &st->batch, *p = &st->pre;
    size_t last = b->nrows - 1;
    int replaced = p->nrows && b->op[last] == RHEI__OP_INSERT && p->table == v &&
                   keys_equal(v, rhei__batch_row(p, 0), rhei__batch_row(b, last));
    if (replaced) {
        rhei_value *row = rhei__batch_add(b, p->seq[0], p->ts[0], RHEI__OP_DELETE); /* NULLs */
        if (!row)
            return rhei__err_nomem(e);
        for (size_t k = 0; k < v->npk; k++) {
            rhei_value kv = rhei__batch_row(p, 0)[v->pk_idx[k]];
            /* Only byte-carrying types have meaningful s/n: rows are decoded raw. */
            int bytes = kv.type == RHEI_TYPE_TEXT || kv.type == RHEI_TYPE_BLOB ||
                        kv.type == RHEI_TYPE_DECIMAL;
            if (bytes && kv.n && !(kv.s = rhei__batch_copy(b, kv.s, kv.n)))
                return rhei__err_nomem(e);
            row[v->pk_idx[k]] = kv;
        }
        swap_last_two(b);
    }
    rhei__batch_reset(p, NULL);
    return RHEI_OK;
}

static int on_data_event(cycle *c, rhei__cdc_cursor *cur, const rhei__cdc_event_row *ev,
                         rhei__err *e)
{
    rhei__sync *s = c->s;
    const rhei__table *v = rhei__catalog_find(&s->cat, ev->tid);
    if (!v)
        return rhei__err_set(e, RHEI_CORRUPT, "change %lld names unknown table version %lld",
                             (long long)ev->seq, (long long)ev->tid);
    tstate *st = find_state(s, v->name);
    if (!st || st->failed || st->detached || ev->seq <= st->skip_upto)
        return RHEI_OK; /* not replicated (yet: REGISTER follows; failed, detached) or inside
                         * a copy */
    if (st->tid != v->tid)
        return rhei__err_set(e, RHEI_CORRUPT, "change %lld is for version %lld of '%s' but olap"
                             " holds version %lld", (long long)ev->seq, (long long)ev->tid,
                             v->name, (long long)st->tid);
    int64_t ts = ev->ts > c->last_ts ? ev->ts : c->last_ts; /* history stays monotonic */
    c->last_ts = ts;
    int pre = ev->op == RHEI__EV_PREINSERT;
    rhei__batch *b = pre ? &st->pre : &st->batch;
    if (b->table != v || pre)
        rhei__batch_reset(b, v);
    /* Every value is decoded from the log row (NULLs included): no need to clear it. */
    rhei_value *row = rhei__batch_add_raw(b, ev->seq, ts, pre ? RHEI__OP_DELETE : (rhei__op)ev->op);
    if (!row)
        return rhei__err_nomem(e);
    int rc = rhei__cdc_cursor_values(cur, v, b, row, e);
    if (rc || pre)
        return blame(c, v->name, rc);
    if (st->pre.nrows && (rc = resolve_pre(st, v, e)) != RHEI_OK)
        return rc;
    c->stats.events++;
    if (++c->pending >= s->opts.batch_size)
        return flush_async(c, e);
    return RHEI_OK;
}

/* --- the cycle --------------------------------------------------------------------------- */

static int refresh_catalog(rhei__sync *s, rhei__conn *reader, rhei__err *e)
{
    int64_t max_tid = 0;
    int rc = rhei__catalog_max_tid(reader, &max_tid, e);
    if (rc || (max_tid == s->cat.max_tid && s->cat.n))
        return rc;
    return rhei__sync_reload_catalog(s, reader, e);
}

int rhei__sync_reload_catalog(rhei__sync *s, rhei__conn *reader, rhei__err *e)
{
    int rc;
    rhei__catalog fresh;
    if ((rc = rhei__catalog_load(reader, &fresh, e)) != RHEI_OK)
        return rc;
    /* Batches borrow table versions: they are empty between cycles, so re-point them. */
    rhei__applier_detach(s);
    for (size_t i = 0; i < s->ntables; i++)
        {
        rhei__batch_reset(&s->tables[i].batch, NULL);
        rhei__batch_reset(&s->tables[i].pre, NULL);
        s->tables[i].batch.table = s->tables[i].pre.table = NULL;
    }
    rhei__catalog_free(&s->cat);
    s->cat = fresh;
    return RHEI_OK;
}

/* The last flush of a cycle. When nothing was written to OLAP yet and the cycle's whole write
 * is one table's batch, that batch is applied as a transaction of its own (apply_alone: one
 * DuckDB statement instead of BEGIN, insert, COMMIT for an insert-only batch), which is the
 * cycle's transaction: it needs nothing else in it. That holds for a volatile store only (a
 * durable one stores its position with the data) and while no failed-table record has to be
 * stored with it. */
static int finish_events(cycle *c, rhei__err *e)
{
    rhei__sync *s = c->s;
    size_t n = 0, at = 0;
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i].batch.nrows > 0)
            at = i, n++;
    if (c->olap_open || n != 1 || !s->opts.olap_volatile || s->fails_dirty || c->cleared)
        return flush_all(c, e);
    int rc = apply_batch(c, at, 1, e);
    if (rc == RHEI_OK)
        c->pending = 0;
    return rc;
}

static int apply_events(cycle *c, rhei__err *e)
{
    rhei__cdc_cursor *cur = NULL;
    rhei__cdc_event_row ev;
    int rc = rhei__cdc_cursor_open(c->reader, c->s->applied, c->head, &cur, e);
    while (rc == RHEI_OK) {
        int got = rhei__cdc_cursor_next(cur, &ev, e);
        if (got <= 0) {
            rc = -got;
            break;
        }
        if (ev.op >= RHEI__EV_REGISTER)
            rc = on_schema_event(c, &ev, e);
        else
            rc = on_data_event(c, cur, &ev, e);
    }
    rhei__cdc_cursor_close(cur);
    /* A mark nothing followed belonged to an ignored insert: statements end in the cycle. */
    for (size_t i = 0; i < c->s->ntables; i++)
        rhei__batch_reset(&c->s->tables[i].pre, NULL);
    return rc ? rc : finish_events(c, e);
}

static void discard_batches(rhei__sync *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        rhei__batch_reset(&s->tables[i].batch, NULL);
        rhei__batch_reset(&s->tables[i].pre, NULL);
    }
}

static void record(rhei__sync *s, const rhei_sync_stats *st, int rc, const rhei__err *e)
{
    pthread_mutex_lock(&s->stat_mu);
    s->cycles++;
    s->events_total += st->events;
    s->last_cycle_us = st->elapsed_us;
    rhei__sync_metrics_record(s, st, rc);
    s->last_error_code = rc;
    s->applied_pub = s->applied;
    rhei__strlcpy(s->last_error, rc ? e->msg : "", sizeof s->last_error);
    pthread_mutex_unlock(&s->stat_mu);
}

/* After a transaction with DDL the backend plans its statements anew (DuckDB: ~0.5 ms a
 * table). An empty apply of each replicated table prepares them, in a transaction that writes
 * nothing, so the first data cycle after a registration (or an ALTER, or a rebuild on open)
 * costs what later ones do. Best effort: a failure only leaves the work to that cycle. */
void rhei__sync_warm_up(rhei__sync *s)
{
    rhei__err ignored;
    if (s->vt->begin(s->olap, &ignored) != RHEI_OK)
        return;
    for (size_t i = 0; i < s->ntables; i++) {
        const tstate *st = &s->tables[i];
        const rhei__table *v = rhei__catalog_find(&s->cat, st->tid);
        if (!v || st->failed || st->detached)
            continue;
        rhei__batch none;
        rhei__batch_init(&none, v);
        int rc = s->vt->apply(s->olap, &none, s->opts.history, NULL, &ignored);
        rhei__batch_free(&none);
        if (rc)
            break;
    }
    /* commit, not rollback: a rollback makes the backend drop what was just prepared */
    s->vt->commit(s->olap, &ignored);
}

/* One attempt: everything visible in one snapshot, in one OLAP transaction, or nothing. */
static int cycle_once(rhei__sync *s, cycle *c, rhei__err *e)
{
    rhei__err ignored;
    c->reader = rhei__oltp_reader(s->oltp);
    int rc = rhei__conn_snapshot_begin(c->reader, e);
    if (rc == RHEI_OK)
        rc = rhei__cdc_head(c->reader, &c->head, e); /* first read fixes the snapshot */
    if (rc == RHEI_OK)
        rc = rhei__sync_check_schema(s, c->reader, e);
    if (rc == RHEI_OK && c->head > s->applied) {
        rc = refresh_catalog(s, c->reader, e);
        if (rc == RHEI_OK)
            rc = apply_events(c, e);
        if (c->olap_open) { /* a failed read leaves the applier's job running: let it end */
            rhei__err late;
            int arc = rhei__applier_wait(s, &c->stats, &late);
            if (rc == RHEI_OK && arc) {
                *e = late;
                rc = s->ap.blame ? blame(c, s->ap.blame, arc) : arc;
            }
        }
        if (rc == RHEI_OK && (s->fails_dirty || c->cleared) && (rc = olap_need(c, e)) == RHEI_OK)
            rc = rhei__sync_fails_store(s, e);
        /* A volatile store is rebuilt from SQLite on open, so its position lives in memory
         * (s->applied) only: storing it would cost a DuckDB statement per cycle (~0.15-0.3
         * ms of a 500-event cycle) that nothing reads. A durable one stores it with the data. */
        rhei__olap_state st = {c->head, c->last_ts};
        if (rc == RHEI_OK && !s->opts.olap_volatile && (rc = olap_need(c, e)) == RHEI_OK)
            rc = s->vt->set_state(s->olap, &st, e);
        /* No transaction open: nothing was written, or one batch committed alone. */
        if (rc == RHEI_OK && c->olap_open)
            rc = s->vt->commit(s->olap, e);
        if (rc && c->olap_open)
            s->vt->rollback(s->olap);
    }
    rhei__conn_snapshot_end(c->reader, rc == RHEI_OK);
    rhei__oltp_reader_release(s->oltp, c->reader);
    if (rc) {
        discard_batches(s);
        /* Copies made in the failed cycle are gone with its transaction. */
        rhei__sync_clear_states(s);
        if (s->vt->list_tables(s->olap, rhei__sync_load_table_cb, s, &ignored) != RHEI_OK)
            rhei__err_wrap(e, "and the olap table list could not be reloaded");
        for (size_t i = 0; i < s->nfails; i++)
            s->fails[i].cleared = 0;
        rhei__sync_fail_flags(s);
        c->stats = (rhei_sync_stats){0};
    } else if (c->head > s->applied) {
        for (size_t i = s->nfails; i-- > 0;)
            if (s->fails[i].cleared)
                rhei__sync_fail_remove(s, s->fails[i].name);
        s->fails_dirty = 0;
        s->applied = c->head;
        s->last_ts = c->last_ts;
        s->dirty = 1;
        rhei__sync_prune_request(s, rhei__sync_floor(s));
        if (c->ddl)
            rhei__sync_warm_up(s);
    }
    return rc;
}

/* A cycle. When one table's data fails it (fail.c), the attempt has been rolled back whole:
 * that table is marked failed and the cycle runs again without it, so the others go on. */
static int cycle_locked(rhei__sync *s, rhei_sync_stats *out, rhei__err *e)
{
    int64_t t0 = rhei__now_us();
    cycle c;
    int rc;
    for (size_t attempt = 0;; attempt++) {
        c = (cycle){.s = s, .last_ts = s->last_ts};
        rc = cycle_once(s, &c, e);
        if (rc == RHEI_OK || !c.blame || attempt > s->ntables + s->nfails + 4)
            break;
        rhei__err e2;
        int frc = rhei__sync_fail_add(s, c.blame, s->applied, c.head, e, &e2);
        rhei__free(c.blame);
        if (frc) {
            *e = e2;
            rc = frc;
            c.blame = NULL;
            break;
        }
    }
    rhei__free(c.blame);
    c.stats.last_position = s->applied;
    c.stats.elapsed_us = rhei__now_us() - t0;
    record(s, &c.stats, rc, e);
    if (out)
        *out = c.stats;
    return rc;
}

int rhei__sync_cycle(rhei__sync *s, rhei_sync_stats *out, rhei__err *e)
{
    pthread_mutex_lock(&s->mu);
    int rc = cycle_locked(s, out, e);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int rhei__sync_until(rhei__sync *s, int64_t target, rhei_sync_stats *out, rhei__err *e)
{
    rhei_sync_stats total = {0}, one;
    int rc = RHEI_OK;
    pthread_mutex_lock(&s->mu);
    while (rc == RHEI_OK && s->applied < target) {
        int64_t before = s->applied;
        rc = cycle_locked(s, &one, e);
        total.events += one.events;
        total.inserted += one.inserted;
        total.updated += one.updated;
        total.deleted += one.deleted;
        total.elapsed_us += one.elapsed_us;
        if (rc == RHEI_OK && s->applied == before)
            break; /* target not committed (yet): nothing more to apply now */
    }
    total.last_position = s->applied;
    pthread_mutex_unlock(&s->mu);
    if (out)
        *out = total;
    return rc;
}

int rhei__sync_catch_up(rhei__sync *s, rhei_sync_stats *out, rhei__err *e)
{
    int64_t head = 0;
    rhei__conn *r = rhei__oltp_reader(s->oltp);
    int rc = rhei__cdc_head(r, &head, e);
    rhei__oltp_reader_release(s->oltp, r);
    return rc ? rc : rhei__sync_until(s, head, out, e);
}

int64_t rhei__sync_applied(rhei__sync *s)
{
    pthread_mutex_lock(&s->mu);
    int64_t a = s->applied;
    pthread_mutex_unlock(&s->mu);
    return a;
}


int rhei__sync_detach(rhei__sync *s, rhei__err *e)
{
    pthread_mutex_lock(&s->mu);
    rhei__conn *w = rhei__oltp_writer(s->oltp);
    int rc = s->opts.olap_volatile ? rhei__cdc_consumer_drop(w, s->consumer, e)
                                   : rhei__cdc_consumer_set(w, s->consumer, rhei__sync_floor(s), e);
    rhei__oltp_writer_release(s->oltp);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int64_t rhei__sync_applied_now(rhei__sync *s)
{
    pthread_mutex_lock(&s->stat_mu);
    int64_t a = s->applied_pub;
    pthread_mutex_unlock(&s->stat_mu);
    return a;
}
