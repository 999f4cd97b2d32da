/* sidecar_poll.c — one table's step of a cycle: full copy when needed, then pages of
 * `(ts, key) > watermark AND ts <= source clock - safety delay ORDER BY ts, key LIMIT n`
 * until a page comes back short, then the periodic key reconciliation for hard deletes.
 * Invariants: each page's events and the watermark after its last row commit in one OLAP
 * transaction; the watermark only ever names a row whose event is applied (or was skipped on
 * purpose), so it never passes a row that was not applied, and no row is applied twice. */
#include "sidecar_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>

/* Rows per chunk of a full copy or key scan: small enough that the batches stay in cache
 * and their memory is reused chunk after chunk, large enough for DuckDB's appender. */
#define COPY_CHUNK 8192

/* Turning read rows into events, for pages (ordered) and copies (unordered). */
typedef struct feed {
    sc_cycle *c;
    sc_table *t;
    int copy;              /* full copy: rows past the cutoff are skipped, not an end */
    int failed;            /* the read stopped at a bad row: the page is not "full" */
    int full;              /* the page came back with `limit` rows, all taken */
    long last;             /* page index of the last row taken, -1 none */
    int64_t last_us;
    int64_t max_us;        /* copy: the largest timestamp taken, and its natives in max */
    rhei__sc_pos max;
    int64_t max_ts;        /* largest event time */
    int64_t rows, ins, upd, del;
    rhei__sc_pos np;       /* page: the position after it, once committed */
    int committed;
} feed;

static int is_deleted(const rhei_value *v)
{
    switch (v->type) {
    case RHEI_TYPE_NULL: return 0;
    case RHEI_TYPE_BOOLEAN:
    case RHEI_TYPE_INTEGER: return v->i != 0;
    case RHEI_TYPE_REAL: return v->f != 0;
    default: return 1; /* a non-NULL deleted_at */
    }
}

static int malformed(sc_table *t, const rhei__batch *b, size_t i, rhei__err *e)
{
    rhei__src_query q;
    char key[256], val[96];
    const rhei_value *v = &rhei__batch_row(b, i)[t->ts_idx];
    rhei__sc_query_init(t, &q);
    rhei__src_key_text(&q, b, i, key, sizeof key);
    if (v->type == RHEI_TYPE_TEXT)
        snprintf(val, sizeof val, "'%.*s'", (int)(v->n > 64 ? 64 : v->n), v->s);
    else if (v->type == RHEI_TYPE_REAL)
        snprintf(val, sizeof val, "%.17g", v->f);
    else
        snprintf(val, sizeof val, "%lld", (long long)v->i);
    return rhei__err_set(e, RHEI_TYPE, "malformed %s in table '%s' at key (%s): value %s is not "
                         "a timestamp; the table waits at this row until it is fixed",
                         t->updated_at, t->name, key, val);
}

/* The event time: the row's own time, except that a re-read row already applied gets the
 * re-read's moment; never before an event already applied (history stays monotonic). */
static int64_t event_ts(const feed *f, int64_t us)
{
    const sc_table *t = f->t;
    int64_t ts = us;
    if (f->copy && t->resync && us <= t->pos.through_us)
        ts = f->c->cutoff_us;
    return ts > t->pos.last_ts ? ts : t->pos.last_ts;
}

/* Appends the event for read row r; op from the soft-delete column and the key set. */
static int add_event(feed *f, const rhei_value *r, int64_t ts, int64_t us, rhei__err *e)
{
    sc_table *t = f->t;
    const rhei__table *s = t->shape;
    int state = rhei__keyset_state(&t->keys, rhei__sc_row_hash(s, r));
    int del = t->soft_idx >= 0 && is_deleted(&r[t->soft_idx]);
    if (del && state == RHEI__KEY_ABSENT)
        return RHEI_OK; /* deleted before it was ever seen */
    rhei__op op = del ? RHEI__OP_DELETE : state == RHEI__KEY_ABSENT ? RHEI__OP_INSERT
                                                                     : RHEI__OP_UPDATE;
    rhei_value *ev = rhei__batch_add(&t->events, 0, ts, op);
    if (!ev)
        return rhei__err_nomem(e);
    if (del) {
        for (size_t k = 0; k < s->npk; k++)
            ev[s->pk_idx[k]] = r[s->pk_idx[k]];
        f->del += state == RHEI__KEY_PRESENT;
        return RHEI_OK;
    }
    memcpy(ev, r, s->ncols * sizeof *ev);
    long u = t->ts_shape_idx;
    const rhei_value *nat = &r[t->ts_idx];
    if (s->cols[u].type == RHEI_TYPE_TIMESTAMP && !t->created_at &&
        (nat->type == RHEI_TYPE_INTEGER || nat->type == RHEI_TYPE_REAL)) {
        ev[u].type = RHEI_TYPE_TIMESTAMP; /* an epoch in a TIMESTAMP column: our unit wins */
        ev[u].i = us;
    }
    f->ins += state != RHEI__KEY_PRESENT;
    f->upd += state == RHEI__KEY_PRESENT;
    return RHEI_OK;
}

/* Events for the rows of b; stops at a bad timestamp (error) and, for a page, at the first
 * row past the cutoff (the rest of an ordered page is newer still). */
static int build_events(feed *f, const rhei__batch *b, rhei__err *e)
{
    sc_table *t = f->t;
    long max_i = -1; /* copy: the row holding this chunk's largest timestamp */
    int rc = RHEI_OK;
    for (size_t i = 0; i < b->nrows; i++) {
        const rhei_value *r = rhei__batch_row(b, i);
        int64_t us;
        if (rhei__sc_ts_us(&r[t->ts_idx], t->unit_us, &us)) {
            rc = malformed(t, b, i, e);
            break;
        }
        if (us > f->c->cutoff_us) {
            if (!f->copy)
                break;
            continue;
        }
        int64_t ts = event_ts(f, us);
        if ((rc = add_event(f, r, ts, us, e)))
            break;
        f->max_ts = ts > f->max_ts ? ts : f->max_ts;
        f->rows++;
        f->last = (long)i;
        f->last_us = us;
        if (f->copy && ((f->max.n == 0 && max_i < 0) || us > f->max_us)) {
            max_i = (long)i;
            f->max_us = us;
        }
    }
    if (rc == RHEI_OK && max_i >= 0) { /* natives copied once per chunk, not per maximum */
        const rhei_value *r = rhei__batch_row(b, (size_t)max_i);
        rc = rhei__sc_pos_set(&f->max, RHEI__AFTER_TS, &r[t->ts_idx], 1, e);
    }
    return rc;
}

/* The key set learns applied events. It may do so before their commit: a key wrongly held
 * present (or deleted) only turns an INSERT into an UPDATE, which is always correct. */
static int learn_keys(sc_table *t, rhei__err *e)
{
    for (size_t i = 0; i < t->events.nrows; i++) {
        uint64_t h = rhei__sc_row_hash(t->shape, rhei__batch_row(&t->events, i));
        if (rhei__keyset_set(&t->keys, h, t->events.op[i] != RHEI__OP_DELETE))
            return rhei__err_nomem(e);
    }
    return RHEI_OK;
}

static void count(feed *f, rhei__sidecar_stats *st)
{
    st->rows += f->rows;
    st->inserted += f->ins;
    st->updated += f->upd;
    st->deleted += f->del;
}

static void after_commit(sc_cycle *c, sc_table *t, int64_t rows)
{
    c->st.pages++;
    pthread_mutex_lock(&c->sc->stat_mu);
    t->st_rows += rows;
    pthread_mutex_unlock(&c->sc->stat_mu);
    if (c->sc->hook)
        c->sc->hook(c->sc->hook_ud, t->name, rows);
}

/* One OLAP transaction: t->events and the new position p. */
static int commit_events(sc_cycle *c, sc_table *t, const rhei__sc_pos *p, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    int rc = rhei__sc_begin(sc, e);
    if (rc)
        return rhei__err_wrap(e, "cannot apply rows of table '%s'", t->name);
    if (t->events.nrows)
        rc = sc->vt->apply(sc->olap, &t->events, sc->history, NULL, e);
    if (rc == RHEI_OK)
        rc = rhei__sc_pos_store(sc, t, p, e);
    if (rc == RHEI_OK)
        return rhei__sc_commit(sc, e) ? rhei__err_wrap(e, "cannot apply rows of table '%s'",
                                                       t->name) : RHEI_OK;
    rhei__sc_rollback(sc);
    return rhei__err_wrap(e, "cannot apply rows of table '%s'", t->name);
}

/* ---- pages ------------------------------------------------------------------------------- */

static int page_fn(void *ud, rhei__batch *b, rhei__err *e)
{
    feed *f = ud;
    sc_table *t = f->t;
    rhei__batch_reset(&t->events, t->shape);
    int brc = build_events(f, b, e);
    int full = !f->failed && brc == RHEI_OK && (int64_t)b->nrows == f->c->sc->page_size &&
               f->last == (long)b->nrows - 1;
    f->full = full;
    if (f->last < 0)
        return brc; /* nothing taken: the position stays */
    rhei__err ce;
    int rc = rhei__sc_pos_set(&f->np, RHEI__AFTER_KEY, &rhei__batch_row(b, f->last)[t->ts_idx],
                              1 + t->npk, &ce);
    int64_t through = (full || brc || f->failed) ? f->last_us - 1 : f->c->cutoff_us;
    f->np.through_us = through > t->pos.through_us ? through : t->pos.through_us;
    f->np.last_ts = f->max_ts > t->pos.last_ts ? f->max_ts : t->pos.last_ts;
    if (rc == RHEI_OK)
        rc = commit_events(f->c, t, &f->np, &ce);
    if (rc == RHEI_OK) {
        f->committed = 1;
        rc = learn_keys(t, &ce);
        count(f, &f->c->st);
        after_commit(f->c, t, f->rows);
    }
    if (rc) { /* an OLAP failure outweighs a bad row: report it */
        *e = ce;
        return rc;
    }
    return brc;
}

/* A cutoff the source can compare natively, or NULL (rows are then checked after reading). */
static const rhei_value *native_cutoff(sc_cycle *c, sc_table *t, rhei_value *v, char *buf,
                                       size_t size)
{
    const rhei__src_vtab *svt = c->sc->svt;
    return svt->cutoff(&t->src.v[t->ts_src], t->unit_us, c->cutoff_us, v, buf, size) ? v : NULL;
}

/* Reads one page; *more when it came back full. */
static int poll_page(sc_cycle *c, sc_table *t, rhei__src_query *q, int *more, rhei__err *e)
{
    feed f = {.c = c, .t = t, .last = -1};
    q->after = t->pos.after;
    q->wm = t->pos.v;
    int rc = c->sc->svt->select(c->sc->src, q, &t->page, page_fn, &f, e);
    if (rc == RHEI_TYPE && t->page.nrows && !f.committed) { /* rows before a bad value */
        rhei__err pe;
        f.failed = 1;
        if (page_fn(&f, &t->page, &pe) != RHEI_OK && pe.code != RHEI_TYPE)
            *e = pe, rc = pe.code;
    }
    rhei__batch_reset(&t->page, t->read);
    if (f.committed) { /* only now: the source may have held on to the old values */
        rhei__sc_pos_free(&t->pos);
        t->pos = f.np;
    } else {
        rhei__sc_pos_free(&f.np);
    }
    *more = rc == RHEI_OK && f.full;
    if (rc == RHEI_OK && !f.full && c->cutoff_us > t->pos.through_us)
        t->pos.through_us = c->cutoff_us; /* caught up: known through the cutoff */
    return rc;
}

static int poll(sc_cycle *c, sc_table *t, rhei__err *e)
{
    rhei__src_query q;
    rhei_value cv;
    char buf[64];
    int more = 1, rc = RHEI_OK;
    rhei__sc_query_init(t, &q);
    q.cutoff = native_cutoff(c, t, &cv, buf, sizeof buf);
    q.ordered = 1;
    q.limit = c->sc->page_size;
    while (rc == RHEI_OK && more)
        rc = poll_page(c, t, &q, &more, e);
    return rc;
}

/* ---- full copies ------------------------------------------------------------------------- */

static int copy_fn(void *ud, rhei__batch *b, rhei__err *e)
{
    feed *f = ud;
    sc_table *t = f->t;
    rhei__batch_reset(&t->events, t->shape);
    int rc = build_events(f, b, e);
    if (rc == RHEI_OK && t->events.nrows)
        rc = f->c->sc->vt->apply(f->c->sc->olap, &t->events, f->c->sc->history, NULL, e);
    if (rc == RHEI_OK)
        rc = learn_keys(t, e); /* before the commit: harmless, see learn_keys */
    return rc;
}

/* Creates (or alters) the OLAP table, reads every row in one source snapshot, and stores
 * the shape and the position (every row at the largest timestamp read is done). */
static int copy_rows(sc_cycle *c, sc_table *t, feed *f, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    rhei__src_query q;
    rhei_value cv;
    char buf[64];
    rhei__buf text = RHEI__BUF_INIT;
    int rc = RHEI_OK;
    if (t->need_copy)
        rc = sc->vt->create_table(sc->olap, t->olap_shape, sc->history, e);
    else if (t->resync_from)
        rc = sc->vt->alter_table(sc->olap, t->resync_from, t->olap_shape, sc->history, e);
    rhei__sc_query_init(t, &q);
    q.cutoff = native_cutoff(c, t, &cv, buf, sizeof buf);
    q.chunk = COPY_CHUNK;
    q.whole = 1;
    if (rc == RHEI_OK)
        rc = sc->svt->select(sc->src, &q, &t->page, copy_fn, f, e);
    rhei__batch_reset(&t->page, t->read);
    if (rc == RHEI_OK && f->max.n)
        rc = rhei__sc_pos_set(&f->np, RHEI__AFTER_TS, f->max.v, 1, e);
    else if (rc == RHEI_OK) /* nothing read: a resync keeps its place, a copy starts over */
        rc = rhei__sc_pos_set(&f->np, t->need_copy ? RHEI__AFTER_NONE : t->pos.after, t->pos.v,
                              t->need_copy ? 0 : t->pos.n, e);
    f->np.through_us = c->cutoff_us > t->pos.through_us ? c->cutoff_us : t->pos.through_us;
    f->np.last_ts = f->max_ts > t->pos.last_ts ? f->max_ts : t->pos.last_ts;
    if (rc == RHEI_OK && (rc = rhei__sc_schema_store(sc, t, &text, e)) == RHEI_OK)
        rc = rhei__sc_pos_store(sc, t, &f->np, e);
    rhei__buf_free(&text);
    return rc;
}

int rhei__sc_copy(sc_cycle *c, sc_table *t, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    feed f = {.c = c, .t = t, .copy = 1, .last = -1};
    int rc = rhei__sc_source_now(c, e);
    if (rc)
        return rc;
    if ((rc = rhei__sc_begin(sc, e)) == RHEI_OK) {
        if (t->need_copy)
            rhei__keyset_clear(&t->keys);
        rc = copy_rows(c, t, &f, e);
        if (rc == RHEI_OK)
            rc = rhei__sc_commit(sc, e);
        else
            rhei__sc_rollback(sc);
    }
    if (rc) {
        if (t->need_copy)
            rhei__keyset_clear(&t->keys); /* the table was not created after all */
        rhei__sc_pos_free(&f.np);
    } else {
        rhei__sc_pos_free(&t->pos);
        t->pos = f.np;
        t->need_copy = t->resync = 0;
        rhei__table_free(t->resync_from);
        t->resync_from = NULL;
        count(&f, &c->st);
        after_commit(c, t, f.rows);
    }
    rhei__sc_pos_free(&f.max);
    return rc ? rhei__err_wrap(e, "cannot copy table '%s'", t->name) : RHEI_OK;
}

/* ---- hard deletes ------------------------------------------------------------------------ */

typedef struct keyscan {
    const rhei__table *shape;
    rhei__keyset seen;
} keyscan;

static int keys_fn(void *ud, rhei__batch *b, rhei__err *e)
{
    keyscan *k = ud;
    for (size_t i = 0; i < b->nrows; i++)
        if (rhei__keyset_set(&k->seen, rhei__sc_key_hash(k->shape, rhei__batch_row(b, i)), 1))
            return rhei__err_nomem(e);
    return RHEI_OK;
}

/* Every key the source holds (soft-deleted rows included), as hashes. */
static int source_keys(sc_cycle *c, sc_table *t, keyscan *k, rhei__err *e)
{
    rhei__colspec cols[RHEI__SC_MAX_PK + 1];
    rhei__table *kt = NULL;
    rhei__batch b;
    rhei__src_query q;
    for (size_t i = 0; i < t->npk; i++) {
        cols[i] = t->shape->cols[t->shape->pk_idx[i]];
        cols[i].pk = 0;
    }
    cols[t->npk] = t->read->cols[t->ts_idx];
    int rc = rhei__table_new(t->name, 0, cols, t->npk + 1, &kt, e);
    if (rc)
        return rc;
    rhei__batch_init(&b, kt);
    rhei__sc_query_init(t, &q);
    q.cols = kt;
    q.ts_index = t->npk;
    q.key_index = 0;
    q.chunk = COPY_CHUNK;
    rc = c->sc->svt->select(c->sc->src, &q, &b, keys_fn, k, e);
    rhei__batch_free(&b);
    rhei__table_free(kt);
    return rc;
}

/* DELETE events for the OLAP keys the source no longer has, dated found_us: the source
 * clock read after the key scan that missed them. A delete happened before that scan
 * finished, never after, so history never shows a row gone while it still existed (the
 * cycle's cutoff, read before the scan, could be earlier than the DELETE itself). */
static int delete_missing(sc_cycle *c, sc_table *t, const rhei_result *r, keyscan *k,
                          int64_t found_us, rhei__err *e)
{
    const rhei__table *s = t->shape;
    rhei_value key[RHEI__SC_MAX_PK];
    int64_t ts = found_us > t->pos.last_ts ? found_us : t->pos.last_ts;
    if (ts < c->cutoff_us)
        ts = c->cutoff_us;
    rhei__batch_reset(&t->events, s);
    for (size_t i = 0; i < rhei_result_row_count(r); i++) {
        for (size_t j = 0; j < s->npk; j++)
            key[j] = rhei_result_value(r, i, j);
        if (rhei__keyset_state(&k->seen, rhei__sc_key_hash(s, key)) != RHEI__KEY_ABSENT)
            continue;
        rhei_value *ev = rhei__batch_add(&t->events, 0, ts, RHEI__OP_DELETE);
        if (!ev)
            return rhei__err_nomem(e);
        for (size_t j = 0; j < s->npk; j++)
            ev[s->pk_idx[j]] = key[j];
    }
    if (t->events.nrows == 0)
        return RHEI_OK;
    rhei__sc_pos np = {RHEI__AFTER_NONE, 0, NULL, NULL, t->pos.through_us, ts};
    int rc = rhei__sc_pos_set(&np, t->pos.after, t->pos.v, t->pos.n, e);
    if (rc == RHEI_OK && (rc = commit_events(c, t, &np, e)) == RHEI_OK) {
        t->pos.last_ts = ts;
        c->st.deleted += (int64_t)t->events.nrows;
        rc = learn_keys(t, e);
        after_commit(c, t, 0);
    }
    rhei__sc_pos_free(&np);
    return rc;
}

/* Compares OLAP's current keys (read first) with the source's: a key the source no longer
 * has was deleted there. Reading OLAP first matters: a key the poll adds afterwards is
 * simply not in the OLAP list, never wrongly deleted. */
static int reconcile(sc_cycle *c, sc_table *t, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    int64_t now = rhei__mono_us();
    if (sc->reconcile_ms == 0 || now - t->last_reconcile_us < sc->reconcile_ms * 1000)
        return RHEI_OK;
    rhei__buf q = RHEI__BUF_INIT;
    rhei_result *r = NULL;
    keyscan k = {t->shape, {NULL, 0, 0}};
    rhei__buf_puts(&q, "SELECT ");
    for (size_t j = 0; j < t->npk; j++) {
        rhei__buf_puts(&q, j ? ", " : "");
        rhei__buf_ident(&q, t->shape->cols[t->shape->pk_idx[j]].name);
    }
    rhei__buf_puts(&q, " FROM ");
    rhei__buf_ident(&q, t->name);
    int rc = rhei__buf_check(&q, e);
    if (rc == RHEI_OK)
        rc = sc->vt->query(sc->olap, rhei__buf_str(&q), NULL, 0, &r, e);
    int64_t found_us = 0;
    if (rc == RHEI_OK)
        rc = source_keys(c, t, &k, e);
    if (rc == RHEI_OK) /* after the scan: no missing key was deleted later than this */
        rc = sc->svt->now_us(sc->src, &found_us, e);
    if (rc == RHEI_OK)
        rc = delete_missing(c, t, r, &k, found_us, e);
    if (rc == RHEI_OK)
        t->last_reconcile_us = now;
    rhei__batch_reset(&t->events, t->shape); /* its key values pointed into r */
    rhei_result_free(r);
    rhei__keyset_free(&k.seen);
    rhei__buf_free(&q);
    return rc;
}

/* ---- the step ---------------------------------------------------------------------------- */

int rhei__sc_source_now(sc_cycle *c, rhei__err *e)
{
    if (c->have_now)
        return RHEI_OK;
    int rc = c->sc->svt->now_us(c->sc->src, &c->now_us, e);
    if (rc == RHEI_OK) {
        c->cutoff_us = c->now_us - c->sc->delay_ms * 1000;
        c->have_now = 1;
    }
    return rc;
}

static int unreachable(const rhei__err *e)
{
    return e->code == RHEI_SOURCE && strncmp(e->msg, "cannot reach source", 19) == 0;
}

static void record(rhei__sidecar *sc, sc_table *t, int rc, const rhei__err *e, int64_t us)
{
    pthread_mutex_lock(&sc->stat_mu);
    t->st_through = t->pos.through_us;
    t->st_cycle_us = us;
    t->st_code = rc;
    t->st_stopped = t->stopped;
    if (rc == RHEI_OK)
        t->st_success_us = rhei__now_us();
    rhei__strlcpy(t->st_error, rc ? e->msg : "", sizeof t->st_error);
    pthread_mutex_unlock(&sc->stat_mu);
}

int rhei__sc_step(sc_cycle *c, sc_table *t, rhei__err *e)
{
    if (t->stopped)
        return RHEI_OK; /* reported when it stopped; the status keeps saying why */
    if (c->down) {
        *e = c->down_err;
        record(c->sc, t, e->code, e, 0);
        return e->code;
    }
    int64_t t0 = rhei__mono_us();
    int rc = rhei__sc_prepare(c, t, e);
    if (rc == RHEI_OK && (t->need_copy || t->resync))
        rc = rhei__sc_copy(c, t, e);
    if (rc == RHEI_OK && (rc = rhei__sc_source_now(c, e)) == RHEI_OK)
        rc = poll(c, t, e);
    if (rc == RHEI_OK)
        rc = reconcile(c, t, e);
    if (rc == RHEI_NOTFOUND && t->ready && !t->stopped)
        rc = rhei__sc_explain_missing(c, t, e);
    if (rc && unreachable(e)) {
        c->down = 1;
        c->down_err = *e;
    }
    record(c->sc, t, rc, e, rhei__mono_us() - t0);
    return rc;
}
