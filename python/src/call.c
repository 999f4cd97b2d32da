/* call.c — the Database object (one rhei_db) and Call objects. Each engine operation is
 * prepared into a Call with the GIL held (arguments converted and kept alive), run without
 * the GIL (on the caller's thread by run(), on a worker by submit()), then turned into Python
 * values by result(). Close waits for running calls; cancel interrupts a running read. */
#include "pyrhei.h"
#include <stdlib.h>
#include <string.h>
#include <structmember.h>

/* --- running (no GIL) ------------------------------------------------------------------- */

static int enter(prh_call *c)
{
    prh_db *d = c->db;
    pthread_mutex_lock(&d->mu);
    int ok = !d->closing && d->db;
    if (ok)
        d->running++;
    pthread_mutex_unlock(&d->mu);
    return ok;
}

static void leave(prh_call *c)
{
    prh_db *d = c->db;
    pthread_mutex_lock(&d->mu);
    if (--d->running == 0)
        pthread_cond_broadcast(&d->idle);
    pthread_mutex_unlock(&d->mu);
}

static void fail(prh_call *c, int rc, const char *msg)
{
    c->rc = rc;
    free(c->msg);
    c->msg = strdup(msg && *msg ? msg : rhei_errstr(rc));
}

static int run_open(prh_call *c)
{
    rhei_config *cfg = NULL;
    int rc = rhei_config_new(&cfg);
    if (rc)
        return fail(c, rc, "cannot create a configuration"), rc;
    if (c->s1 && (rc = rhei_config_load_file(cfg, c->s1)) != RHEI_OK)
        fail(c, rc, rhei_config_errmsg(cfg));
    for (size_t i = 0; rc == RHEI_OK && i < c->nkeys; i++)
        if ((rc = rhei_config_set(cfg, c->keys[2 * i], c->keys[2 * i + 1])) != RHEI_OK)
            fail(c, rc, rhei_config_errmsg(cfg));
    rhei_db *db = NULL;
    if (rc == RHEI_OK && (rc = rhei_open(cfg, &db)) != RHEI_OK)
        fail(c, rc, rhei_errmsg(NULL));
    rhei_config_free(cfg);
    c->db->db = db;
    return rc;
}

static int run_close(prh_call *c)
{
    prh_db *d = c->db;
    pthread_mutex_lock(&d->mu);
    if (d->closing || !d->db) {
        pthread_mutex_unlock(&d->mu);
        return RHEI_OK;
    }
    d->closing = 1;
    d->user_epoch++;
    rhei_interrupt(d->db); /* reads still running end now rather than hold up the close */
    while (d->running > 0)
        pthread_cond_wait(&d->idle, &d->mu);
    rhei_db *db = d->db;
    d->db = NULL;
    pthread_mutex_unlock(&d->mu);
    prh_wrap_end_all(d); /* rhei_close must not run under an unreleased stream */
    int rc = rhei_close(db);
    if (rc)
        fail(c, rc, "the final sync cycle of close failed");
    return rc;
}

static int read_once(prh_call *c, rhei_db *db)
{
    if (c->op == OP_AS_OF)
        return rhei_query_as_of(db, c->s1, c->i1, &c->res);
    if (c->op == OP_QUERY)
        return rhei_query_ex(db, c->s1, c->vals, c->nvals, &c->qopts, &c->res);
    struct ArrowArrayStream st;
    int rc = rhei_query_arrow(db, c->s1, c->vals, c->nvals, &c->qopts, &c->route, &st);
    if (rc == RHEI_OK && !(c->wrap = prh_wrap_new(c->db, &st))) {
        st.release(&st);
        rc = RHEI_NOMEM;
    }
    return rc;
}

/* A read another call's cancellation interrupted is run again; one the user interrupted,
 * or this call's own cancellation, is not. */
static int run_read(prh_call *c, rhei_db *db)
{
    for (int tries = 0;; tries++) {
        pthread_mutex_lock(&c->db->mu);
        uint64_t ce = c->db->cancel_epoch, ue = c->db->user_epoch;
        pthread_mutex_unlock(&c->db->mu);
        int rc = read_once(c, db);
        if (rc != RHEI_INTERRUPTED || c->cancelled || tries >= 20)
            return rc;
        pthread_mutex_lock(&c->db->mu);
        int again = c->db->cancel_epoch != ce && c->db->user_epoch == ue;
        pthread_mutex_unlock(&c->db->mu);
        if (!again)
            return rc;
    }
}

static int run_many(prh_call *c, rhei_db *db)
{
    int64_t one = 0;
    c->out_i = 0;
    for (size_t i = 0; i < c->nstmts; i++) {
        int rc = rhei_execute(db, c->stmts[i].sql, c->stmts[i].params, c->stmts[i].nparams,
                              &one);
        if (rc)
            return rc;
        c->out_i += one;
    }
    return RHEI_OK;
}

static int run_info(prh_call *c, rhei_db *db)
{
    rhei_exec_info in;
    int rc = rhei_execute_info(db, c->s1, c->vals, c->nvals, &in);
    c->out_i = in.changes;
    c->rowid = in.last_rowid;
    return rc;
}

static int run_tables(prh_call *c, rhei_db *db)
{
    rhei_table_list *l = NULL;
    int rc = rhei_tables(db, &l);
    if (rc)
        return rc;
    size_t n = rhei_table_list_count(l);
    c->names = calloc(n ? n : 1, sizeof *c->names);
    if (!c->names)
        rc = RHEI_NOMEM;
    for (size_t i = 0; rc == RHEI_OK && i < n; i++)
        if (!(c->names[c->nnames++] = strdup(rhei_table_list_name(l, i))))
            rc = RHEI_NOMEM;
    rhei_table_list_free(l);
    return rc;
}

static int run_sidecar_status(prh_call *c, rhei_db *db)
{
    size_t n = 0;
    int rc = rhei_sidecar_table_count(db, &n);
    if (rc)
        return rc;
    c->sc = calloc(n ? n : 1, sizeof *c->sc);
    if (!c->sc)
        return RHEI_NOMEM;
    for (size_t i = 0; i < n && rc == RHEI_OK; i++)
        if ((rc = rhei_sidecar_status_get(db, i, &c->sc[i])) == RHEI_OK)
            c->nsc++;
    return rc;
}

static int run_op(prh_call *c, rhei_db *db)
{
    switch (c->op) {
    case OP_EXECUTE: return rhei_execute(db, c->s1, c->vals, c->nvals, &c->out_i);
    case OP_EXEC_INFO:
        return run_info(c, db);
    case OP_EXECMANY: return run_many(c, db);
    case OP_BATCH: return rhei_execute_batch(db, c->stmts, c->nstmts, &c->out_i);
    case OP_QUERY:
    case OP_QUERY_ARROW:
    case OP_AS_OF: return run_read(c, db);
    case OP_REGISTER:
        return rhei_register_table(db, c->s1, c->cols, c->ncols, c->pk, c->npk);
    case OP_UNREGISTER: return rhei_unregister_table(db, c->s1);
    case OP_TABLES: return run_tables(c, db);
    case OP_INITIAL_SYNC:
        return c->s1 ? rhei_initial_sync(db, c->s1, &c->out_i)
                     : rhei_initial_sync_all(db, &c->out_i);
    case OP_SYNC_NOW: return rhei_sync_now(db, &c->stats);
    case OP_START_SYNC: return rhei_start_sync(db, c->i1);
    case OP_STOP_SYNC: return rhei_stop_sync(db);
    case OP_SYNC_STATUS: return rhei_sync_status_get(db, &c->status);
    case OP_PENDING: return rhei_table_pending(db, c->s1, &c->out_i);
    case OP_ADD_COLUMN: return rhei_add_column(db, c->s1, c->s2, c->s3);
    case OP_DROP_COLUMN: return rhei_drop_column(db, c->s1, c->s2);
    case OP_EXPLAIN: return rhei_explain_route(db, c->s1, &c->route);
    case OP_EXEC_QUERY:
        return rhei_execute_query(db, c->s1, c->vals, c->nvals, &c->res);
    case OP_ROUTE_STATS: return rhei_route_stats_get(db, &c->rstats);
    case OP_SIDECAR_SYNC: return rhei_sidecar_sync_now(db, &c->out_i);
    case OP_SIDECAR_STATUS: return run_sidecar_status(c, db);
    default: return RHEI_MISUSE;
    }
}

void prh_call_run(prh_call *c)
{
    c->rc = RHEI_OK;
    if (c->op == OP_OPEN) {
        run_open(c);
    } else if (c->op == OP_CLOSE) {
        run_close(c);
    } else if (c->cancelled) {
        fail(c, RHEI_INTERRUPTED, "cancelled before it started");
    } else if (!enter(c)) {
        fail(c, RHEI_MISUSE, "the engine is closed");
    } else {
        int rc = run_op(c, c->db->db);
        if (rc) {
            const char *m = rhei_errmsg(c->db->db); /* this thread's message: copy it now */
            fail(c, rc, rhei_errcode(c->db->db) == rc ? m : NULL);
        }
        leave(c);
    }
    c->state = 2;
}

/* --- Call objects ----------------------------------------------------------------------- */

static void call_dealloc(prh_call *c)
{
    free(c->vals);
    free(c->stmts);
    free(c->cols);
    free(c->pk);
    free(c->keys);
    free(c->msg);
    for (size_t i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    free(c->sc);
    rhei_result_free(c->res);
    prh_wrap_release(c->wrap);
    Py_XDECREF(c->keep);
    Py_XDECREF(c->waiter);
    Py_XDECREF(c->chan);
    Py_XDECREF(c->db);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyObject *tuple_of_sync_status(const rhei_sync_status *s)
{
    return Py_BuildValue("(LLLdOLLLis)", (long long)s->head_position,
                         (long long)s->applied_position, (long long)s->lag_events, s->lag_ms,
                         s->running ? Py_True : Py_False, (long long)s->cycles,
                         (long long)s->events_total, (long long)s->last_cycle_us,
                         s->last_error_code, s->last_error);
}

static PyObject *list_of_names(prh_call *c)
{
    PyObject *l = PyList_New((Py_ssize_t)c->nnames);
    for (size_t i = 0; l && i < c->nnames; i++) {
        PyObject *s = PyUnicode_FromString(c->names[i]);
        if (!s)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, s);
    }
    return l;
}

static PyObject *list_of_sidecar(prh_call *c)
{
    PyObject *l = PyList_New((Py_ssize_t)c->nsc);
    for (size_t i = 0; l && i < c->nsc; i++) {
        const rhei_sidecar_table_status *s = &c->sc[i];
        PyObject *t = Py_BuildValue("(sLLLOis)", s->name, (long long)s->watermark_us,
                                    (long long)s->rows_applied, (long long)s->last_cycle_us,
                                    s->stopped ? Py_True : Py_False, s->last_error_code,
                                    s->last_error);
        if (!t)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, t);
    }
    return l;
}

PyObject *prh_call_finish(prh_call *c)
{
    const rhei_sync_stats *st = &c->stats;
    rhei_result *r;
    switch (c->op) {
    case OP_EXECUTE: case OP_EXECMANY: case OP_BATCH: case OP_INITIAL_SYNC: case OP_PENDING:
    case OP_SIDECAR_SYNC:
        return PyLong_FromLongLong(c->out_i);
    case OP_QUERY:
    case OP_AS_OF:
    case OP_EXEC_QUERY:
        r = c->res;
        c->res = NULL;
        return prh_result_new(r);
    case OP_EXEC_INFO:
        return Py_BuildValue("(LL)", (long long)c->out_i, (long long)c->rowid);
    case OP_QUERY_ARROW: {
        prh_wrap *w = c->wrap;
        c->wrap = NULL;
        return prh_astream_new(w, &c->route);
    }
    case OP_TABLES: return list_of_names(c);
    case OP_SYNC_NOW:
        return Py_BuildValue("(LLLLLL)", (long long)st->events, (long long)st->inserted,
                             (long long)st->updated, (long long)st->deleted,
                             (long long)st->last_position, (long long)st->elapsed_us);
    case OP_SYNC_STATUS: return tuple_of_sync_status(&c->status);
    case OP_EXPLAIN:
        return Py_BuildValue("(issi)", (int)c->route.side, c->route.reason ? c->route.reason : "",
                             c->route.table, (int)c->route.code);
    case OP_ROUTE_STATS:
        return Py_BuildValue("(LLL)", (long long)c->rstats.oltp, (long long)c->rstats.olap,
                             (long long)c->rstats.fallbacks);
    case OP_SIDECAR_STATUS: return list_of_sidecar(c);
    default: Py_RETURN_NONE;
    }
}

static PyObject *call_result(prh_call *c, PyObject *noargs)
{
    (void)noargs;
    if (c->state != 2)
        return PyErr_Format(PyExc_RuntimeError, c->state == 3 ? "result already taken"
                                                              : "call has not finished");
    c->state = 3;
    Py_CLEAR(c->keep); /* the arguments are no longer borrowed */
    if (c->rc)
        return prh_raise(c->rc, c->msg);
    return prh_call_finish(c);
}

static PyObject *call_run(prh_call *c, PyObject *noargs)
{
    if (c->state != 0)
        return PyErr_Format(PyExc_RuntimeError, "call already started");
    c->state = 1;
    Py_BEGIN_ALLOW_THREADS
    prh_call_run(c);
    Py_END_ALLOW_THREADS
    return call_result(c, noargs);
}

static PyObject *call_submit(prh_call *c, PyObject *chan)
{
    if (!PyObject_TypeCheck(chan, &prh_chan_type))
        return PyErr_Format(PyExc_TypeError, "submit needs a Channel");
    if (c->state != 0)
        return PyErr_Format(PyExc_RuntimeError, "call already started");
    Py_INCREF(chan);
    Py_XSETREF(c->chan, (prh_chan *)chan);
    c->state = 1;
    if (prh_pool_submit(c) < 0) {
        c->state = 0;
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Marks the call cancelled: one not started yet never runs; a running read is interrupted
 * (reads of other calls that this interrupts run again). A running write completes. */
static PyObject *call_cancel(prh_call *c, PyObject *noargs)
{
    (void)noargs;
    c->cancelled = 1;
    if (c->state == 1 && (c->op == OP_QUERY || c->op == OP_AS_OF || c->op == OP_QUERY_ARROW)) {
        prh_db *d = c->db;
        pthread_mutex_lock(&d->mu);
        if (d->db && !d->closing) {
            d->cancel_epoch++;
            rhei_interrupt(d->db);
        }
        pthread_mutex_unlock(&d->mu);
    }
    Py_RETURN_NONE;
}

static PyObject *call_done(prh_call *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(c->state >= 2);
}

static PyMethodDef call_methods[] = {
    {"run", (PyCFunction)call_run, METH_NOARGS,
     "Run on this thread with the GIL released; return the outcome or raise."},
    {"submit", (PyCFunction)call_submit, METH_O,
     "Queue for a worker thread; the call appears in the channel's drain() when done."},
    {"result", (PyCFunction)call_result, METH_NOARGS, "The outcome of a finished call."},
    {"cancel", (PyCFunction)call_cancel, METH_NOARGS,
     "Cancel: a queued call never runs; a running read is interrupted."},
    {NULL, NULL, 0, NULL}};

static PyMemberDef call_members[] = {
    {"waiter", T_OBJECT, offsetof(prh_call, waiter), 0, "What the event loop wakes when done."},
    {NULL, 0, 0, 0, NULL}};

static PyGetSetDef call_getset[] = {
    {"done", (getter)call_done, NULL, "Whether the call has finished.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject prh_call_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rhei._rhei.Call",
    .tp_basicsize = sizeof(prh_call),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One prepared engine call (made by Database methods).",
    .tp_dealloc = (destructor)call_dealloc,
    .tp_methods = call_methods,
    .tp_members = call_members,
    .tp_getset = call_getset,
};
