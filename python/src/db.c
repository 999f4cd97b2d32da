/* db.c — the Database type: each method converts its arguments (with the GIL) into a Call
 * that the caller then runs here or submits to a worker. Strings are borrowed from Python
 * objects the call keeps alive, so nothing is copied twice. */
#include "pyrhei.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

static PyObject *db_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args, (void)kw;
    prh_db *d = (prh_db *)type->tp_alloc(type, 0);
    if (!d)
        return NULL;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->idle, NULL);
    return (PyObject *)d;
}

static void db_dealloc(prh_db *d)
{
    /* Calls hold a reference to d, so none is running; close what the user did not. */
    if (d->db) {
        rhei_db *db = d->db;
        d->db = NULL;
        Py_BEGIN_ALLOW_THREADS rhei_interrupt(
            db); /* a get_next running on one of its streams returns */
        prh_wrap_end_all(d);
        rhei_close(db);
        Py_END_ALLOW_THREADS
    }
    pthread_cond_destroy(&d->idle);
    pthread_mutex_destroy(&d->mu);
    Py_TYPE(d)->tp_free((PyObject *)d);
}

static prh_call *new_call(prh_db *d, prh_op op)
{
    prh_call *c = PyObject_New(prh_call, &prh_call_type);
    if (!c)
        return NULL;
    memset((char *)c + sizeof(PyObject), 0, sizeof *c - sizeof(PyObject));
    c->op = op;
    c->db = d;
    Py_INCREF(d);
    c->keep = PyList_New(0);
    if (!c->keep) {
        Py_DECREF(c);
        return NULL;
    }
    return c;
}

/* UTF-8 of a str the call keeps; NULL with an exception if o is not a str. */
static const char *kept_str(prh_call *c, PyObject *o, const char *what)
{
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str, not %.60s", what, Py_TYPE(o)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s && (Py_ssize_t)strlen(s) != n) {
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    if (s && PyList_Append(c->keep, o) < 0)
        return NULL;
    return s;
}

/* UTF-8 of a str some object the call keeps already holds; NULL with an exception. */
static const char *held_str(PyObject *o, const char *what)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    if (s && (Py_ssize_t)strlen(s) != n) {
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* The parameter tuple of params (None, a list or a tuple), kept by the call. held: params
 * is already kept alive by an immutable object the call keeps (a batch item tuple), so an
 * exact tuple needs no reference of its own. */
static PyObject *param_tuple_held(prh_call *c, PyObject *params, int held)
{
    static PyObject *empty;
    PyObject *t;
    if (params == NULL || params == Py_None) {
        if (!empty && !(empty = PyTuple_New(0)))
            return NULL;
        return empty; /* made once, never freed */
    }
    if (PyTuple_CheckExact(params)) {
        if (held)
            return params;
        t = params;
        Py_INCREF(t);
    } else if (PyList_Check(params) || PyTuple_Check(params))
        t = PySequence_Tuple(params); /* a snapshot: the list may change while we run */
    else
        return PyErr_Format(PyExc_TypeError, "parameters must be a tuple or a list, not %.60s",
                            Py_TYPE(params)->tp_name);
    if (t && PyList_Append(c->keep, t) < 0)
        Py_CLEAR(t);
    if (t)
        Py_DECREF(t); /* keep holds it */
    return t;
}

static PyObject *param_tuple(prh_call *c, PyObject *params)
{
    return param_tuple_held(c, params, 0);
}

static PyObject *done_prep(prh_call *c, int ok)
{
    if (ok)
        return (PyObject *)c;
    Py_DECREF(c);
    return NULL;
}

static PyObject *db_open_call(prh_db *d, PyObject *args)
{
    PyObject *items, *file = Py_None;
    if (!PyArg_ParseTuple(args, "O!|O", &PyList_Type, &items, &file))
        return NULL;
    if (d->db)
        return PyErr_Format(PyExc_RuntimeError, "database already open");
    prh_call *c = new_call(d, OP_OPEN);
    if (!c)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    int ok = (c->keys = calloc((size_t)n * 2 + 1, sizeof *c->keys)) != NULL;
    if (!ok)
        PyErr_NoMemory();
    if (ok && file != Py_None)
        ok = (c->s1 = kept_str(c, file, "config_file")) != NULL;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        ok = PyTuple_Check(kv) && PyTuple_GET_SIZE(kv) == 2;
        if (!ok)
            PyErr_SetString(PyExc_TypeError, "config items must be (key, value) pairs");
        ok = ok && (c->keys[2 * i] = kept_str(c, PyTuple_GET_ITEM(kv, 0), "config key"));
        ok = ok && (c->keys[2 * i + 1] = kept_str(c, PyTuple_GET_ITEM(kv, 1), "config value"));
        c->nkeys += ok;
    }
    return done_prep(c, ok);
}

static PyObject *db_simple(prh_db *d, prh_op op)
{
    return (PyObject *)new_call(d, op);
}

static PyObject *db_close_call(prh_db *d, PyObject *a) { (void)a; return db_simple(d, OP_CLOSE); }
static PyObject *db_tables(prh_db *d, PyObject *a) { (void)a; return db_simple(d, OP_TABLES); }
static PyObject *db_sync_now(prh_db *d, PyObject *a) { (void)a; return db_simple(d, OP_SYNC_NOW); }
static PyObject *db_stop_sync(prh_db *d, PyObject *a) { (void)a; return db_simple(d, OP_STOP_SYNC); }
static PyObject *db_sync_status(prh_db *d, PyObject *a)
{
    (void)a;
    return db_simple(d, OP_SYNC_STATUS);
}
static PyObject *db_route_stats(prh_db *d, PyObject *a)
{
    (void)a;
    return db_simple(d, OP_ROUTE_STATS);
}
static PyObject *db_sidecar_sync(prh_db *d, PyObject *a)
{
    (void)a;
    return db_simple(d, OP_SIDECAR_SYNC);
}
static PyObject *db_sidecar_status(prh_db *d, PyObject *a)
{
    (void)a;
    return db_simple(d, OP_SIDECAR_STATUS);
}

/* Ops taking one to three strings (the third may be None where allowed). */
static PyObject *db_strings(prh_db *d, PyObject *args, prh_op op, int n, const char *fmt)
{
    PyObject *a[3] = {NULL, NULL, NULL};
    if (!PyArg_ParseTuple(args, fmt, &a[0], &a[1], &a[2]))
        return NULL;
    prh_call *c = new_call(d, op);
    if (!c)
        return NULL;
    const char **dst[3] = {&c->s1, &c->s2, &c->s3};
    int ok = 1;
    for (int i = 0; ok && i < n; i++)
        if (a[i] != Py_None || op != OP_INITIAL_SYNC)
            ok = (*dst[i] = kept_str(c, a[i], "argument")) != NULL;
    return done_prep(c, ok);
}

static PyObject *db_unregister(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_UNREGISTER, 1, "O");
}
static PyObject *db_initial_sync(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_INITIAL_SYNC, 1, "O");
}
static PyObject *db_pending(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_PENDING, 1, "O");
}
static PyObject *db_add_column(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_ADD_COLUMN, 3, "OOO");
}
static PyObject *db_drop_column(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_DROP_COLUMN, 2, "OO");
}
static PyObject *db_explain(prh_db *d, PyObject *args)
{
    return db_strings(d, args, OP_EXPLAIN, 1, "O");
}

static PyObject *db_start_sync(prh_db *d, PyObject *args)
{
    long long ms;
    if (!PyArg_ParseTuple(args, "L", &ms))
        return NULL;
    prh_call *c = new_call(d, OP_START_SYNC);
    if (c)
        c->i1 = ms;
    return (PyObject *)c;
}

static PyObject *execute_call(prh_db *d, PyObject *args, prh_op op)
{
    PyObject *sql, *params = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &sql, &params))
        return NULL;
    prh_call *c = new_call(d, op);
    if (!c)
        return NULL;
    PyObject *t = NULL;
    int ok = (c->s1 = kept_str(c, sql, "sql")) && (t = param_tuple(c, params));
    if (ok && PyTuple_GET_SIZE(t)) {
        c->nvals = (size_t)PyTuple_GET_SIZE(t);
        ok = (c->vals = malloc(c->nvals * sizeof *c->vals)) != NULL;
        if (!ok)
            PyErr_NoMemory();
        ok = ok && prh_to_values(t, c->vals, PyTuple_GET_SIZE(t), &c->keep) == 0;
    }
    return done_prep(c, ok);
}

static PyObject *db_execute(prh_db *d, PyObject *args) { return execute_call(d, args, OP_EXECUTE); }

static PyObject *db_execute_info(prh_db *d, PyObject *args)
{
    return execute_call(d, args, OP_EXEC_INFO);
}

static PyObject *db_execute_query(prh_db *d, PyObject *args)
{
    return execute_call(d, args, OP_EXEC_QUERY);
}

/* Statement text and parameters of one batch item (a str or (sql, params)). *held: both are
 * kept alive by the item itself, an exact tuple that the call's snapshot of the list holds,
 * so they need no reference of their own; a list item may change while the call runs, so
 * its parts are kept. 0 with an exception on error. */
static int batch_item(prh_call *c, PyObject *item, const char **sql, PyObject **params, int *held)
{
    PyObject *s = item;
    *params = Py_None;
    *held = 0;
    if (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 2 &&
        PyUnicode_CheckExact(PyTuple_GET_ITEM(item, 0))) {
        *held = 1;
        *params = PyTuple_GET_ITEM(item, 1);
        return (*sql = held_str(PyTuple_GET_ITEM(item, 0), "sql")) != NULL;
    }
    if (PyTuple_Check(item) || PyList_Check(item)) {
        if (PySequence_Size(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "a batch item is a str or (sql, params)");
            return 0;
        }
        *params = PySequence_Fast_GET_ITEM(item, 1);
        s = PySequence_Fast_GET_ITEM(item, 0);
    }
    return (*sql = kept_str(c, s, "sql")) != NULL;
}

/* Fills c->stmts from items: each a str or (sql, params); sql_all non-NULL for executemany
 * (then items are parameter sequences). All values go into one array. */
static int fill_stmts(prh_call *c, PyObject *items, const char *sql_all)
{
    PyObject *fast = PySequence_Fast(items, "statements must be a sequence");
    if (fast && !PyTuple_CheckExact(fast)) /* a snapshot: a list may change while we run */
        Py_SETREF(fast, PySequence_Tuple(fast));
    if (!fast || PyList_Append(c->keep, fast) < 0) {
        Py_XDECREF(fast);
        return 0;
    }
    Py_DECREF(fast);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject **it = PySequence_Fast_ITEMS(fast);
    PyObject **tuples = calloc((size_t)n + 1, sizeof *tuples);
    c->stmts = calloc((size_t)n + 1, sizeof *c->stmts);
    int ok = tuples && c->stmts;
    if (!ok)
        PyErr_NoMemory();
    size_t total = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        PyObject *params = it[i];
        int held = 1; /* executemany: the item is the parameters, held by fast */
        if (sql_all)
            c->stmts[i].sql = sql_all;
        else
            ok = batch_item(c, it[i], &c->stmts[i].sql, &params, &held);
        ok = ok && (tuples[i] = param_tuple_held(c, params, held)) != NULL;
        if (ok)
            total += (size_t)PyTuple_GET_SIZE(tuples[i]);
    }
    if (ok && total) {
        ok = (c->vals = malloc(total * sizeof *c->vals)) != NULL;
        if (!ok)
            PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        Py_ssize_t k = PyTuple_GET_SIZE(tuples[i]);
        c->stmts[i].params = c->vals + c->nvals;
        c->stmts[i].nparams = (size_t)k;
        ok = prh_to_values(tuples[i], c->vals + c->nvals, k, &c->keep) == 0;
        c->nvals += (size_t)k;
    }
    c->nstmts = ok ? (size_t)n : 0;
    free(tuples);
    return ok;
}

static PyObject *db_execute_batch(prh_db *d, PyObject *items)
{
    prh_call *c = new_call(d, OP_BATCH);
    return c ? done_prep(c, fill_stmts(c, items, NULL)) : NULL;
}

static PyObject *db_executemany(prh_db *d, PyObject *args)
{
    PyObject *sql, *seq;
    if (!PyArg_ParseTuple(args, "OO", &sql, &seq))
        return NULL;
    prh_call *c = new_call(d, OP_EXECMANY);
    if (!c)
        return NULL;
    const char *s = kept_str(c, sql, "sql");
    return done_prep(c, s && fill_stmts(c, seq, s));
}

static PyObject *query_call(prh_db *d, PyObject *args, prh_op op)
{
    PyObject *sql, *params = Py_None;
    int hint = 0, consistency = 0;
    if (!PyArg_ParseTuple(args, "O|Oii", &sql, &params, &hint, &consistency))
        return NULL;
    if (hint < 0 || hint > 2 || consistency < 0 || consistency > 1)
        return PyErr_Format(PyExc_ValueError, "bad hint or consistency");
    prh_call *c = new_call(d, op);
    if (!c)
        return NULL;
    c->qopts.hint = (rhei_side)hint;
    c->qopts.consistency = (rhei_consistency)consistency;
    PyObject *t = NULL;
    int ok = (c->s1 = kept_str(c, sql, "sql")) && (t = param_tuple(c, params));
    if (ok && PyTuple_GET_SIZE(t)) {
        c->nvals = (size_t)PyTuple_GET_SIZE(t);
        ok = (c->vals = malloc(c->nvals * sizeof *c->vals)) != NULL;
        if (!ok)
            PyErr_NoMemory();
        ok = ok && prh_to_values(t, c->vals, PyTuple_GET_SIZE(t), &c->keep) == 0;
    }
    return done_prep(c, ok);
}

static PyObject *db_query(prh_db *d, PyObject *args) { return query_call(d, args, OP_QUERY); }

static PyObject *db_query_arrow(prh_db *d, PyObject *args)
{
    return query_call(d, args, OP_QUERY_ARROW);
}

/* --- the blocking API's statements, run here without a Call object ----------------------
 * run_execute / run_execute_info / run_query do what execute(...).run() does, for the
 * DB-API's per-statement path: the arguments go into a prh_call on the C stack (never seen
 * by Python, so it has no reference count or type), which runs on this thread with the GIL
 * released. The caller's argument vector holds sql and an exact parameter tuple (whose items
 * cannot change) for the whole call, so they need no reference of their own; a list is
 * copied into a tuple first, as everywhere. Up to NOW_VALS parameters live on the stack. */
#define NOW_VALS 16

static PyObject *run_here(prh_db *d, prh_op op, PyObject *const *args, Py_ssize_t nargs)
{
    prh_call c;
    rhei_value stack_vals[NOW_VALS];
    PyObject *owned = NULL, *out = NULL; /* owned: a tuple made from a list */
    memset(&c, 0, sizeof c);
    c.op = op;
    c.db = d;
    if (nargs < 1 || nargs > (op == OP_QUERY ? 4 : 2))
        return PyErr_Format(PyExc_TypeError, "takes (sql, params%s)",
                            op == OP_QUERY ? ", hint, consistency" : "");
    long hint = nargs > 2 ? PyLong_AsLong(args[2]) : 0;
    long cons = nargs > 3 ? PyLong_AsLong(args[3]) : 0;
    if ((hint == -1 || cons == -1) && PyErr_Occurred())
        return NULL;
    if (hint < 0 || hint > 2 || cons < 0 || cons > 1)
        return PyErr_Format(PyExc_ValueError, "bad hint or consistency");
    c.qopts.hint = (rhei_side)hint;
    c.qopts.consistency = (rhei_consistency)cons;
    if (!PyUnicode_Check(args[0]))
        return PyErr_Format(PyExc_TypeError, "sql must be a str, not %.60s",
                            Py_TYPE(args[0])->tp_name);
    if (!(c.s1 = held_str(args[0], "sql")))
        return NULL;
    PyObject *t = nargs > 1 ? args[1] : Py_None;
    if (t != Py_None && !PyTuple_CheckExact(t)) {
        if (!PyList_Check(t) && !PyTuple_Check(t))
            return PyErr_Format(PyExc_TypeError, "parameters must be a tuple or a list, not %.60s",
                                Py_TYPE(t)->tp_name);
        if (!(t = owned = PySequence_Tuple(t))) /* a snapshot: the list may change */
            return NULL;
    }
    c.nvals = t == Py_None ? 0 : (size_t)PyTuple_GET_SIZE(t);
    c.vals = c.nvals <= NOW_VALS ? stack_vals : malloc(c.nvals * sizeof *c.vals);
    if (!c.vals) {
        PyErr_NoMemory();
        goto done;
    }
    if (c.nvals && prh_to_values(t, c.vals, (Py_ssize_t)c.nvals, &c.keep) < 0)
        goto done;
    PyThreadState *ts = PyEval_SaveThread(); /* may wait: the writer, locks, the disk */
    prh_call_run(&c);
    PyEval_RestoreThread(ts);
    out = c.rc ? prh_raise(c.rc, c.msg) : prh_call_finish(&c);
done:
    rhei_result_free(c.res); /* NULL unless the outcome was not handed out */
    free(c.msg);
    if (c.vals != stack_vals)
        free(c.vals);
    Py_XDECREF(c.keep);
    Py_XDECREF(owned);
    return out;
}

static PyObject *db_run_execute(prh_db *d, PyObject *const *args, Py_ssize_t nargs)
{
    return run_here(d, OP_EXECUTE, args, nargs);
}

static PyObject *db_run_execute_info(prh_db *d, PyObject *const *args, Py_ssize_t nargs)
{
    return run_here(d, OP_EXEC_INFO, args, nargs);
}

static PyObject *db_run_query(prh_db *d, PyObject *const *args, Py_ssize_t nargs)
{
    return run_here(d, OP_QUERY, args, nargs);
}

static PyObject *db_run_execute_query(prh_db *d, PyObject *const *args, Py_ssize_t nargs)
{
    return run_here(d, OP_EXEC_QUERY, args, nargs);
}

static PyObject *db_query_as_of(prh_db *d, PyObject *args)
{
    PyObject *table;
    long long ts;
    if (!PyArg_ParseTuple(args, "OL", &table, &ts))
        return NULL;
    prh_call *c = new_call(d, OP_AS_OF);
    if (!c)
        return NULL;
    c->i1 = ts;
    return done_prep(c, (c->s1 = kept_str(c, table, "table")) != NULL);
}

/* register_table(name, [(col, decl)...] | None, [pk...] | None) */
static PyObject *db_register(prh_db *d, PyObject *args)
{
    PyObject *name, *cols = Py_None, *pk = Py_None;
    if (!PyArg_ParseTuple(args, "O|OO", &name, &cols, &pk))
        return NULL;
    prh_call *c = new_call(d, OP_REGISTER);
    if (!c)
        return NULL;
    int ok = (c->s1 = kept_str(c, name, "table")) != NULL;
    if (ok && cols != Py_None) {
        PyObject *f = PySequence_Fast(cols, "columns must be a sequence");
        ok = f && PyList_Append(c->keep, f) == 0;
        Py_XDECREF(f);
        Py_ssize_t n = ok ? PySequence_Fast_GET_SIZE(f) : 0;
        ok = ok && (c->cols = calloc((size_t)n + 1, sizeof *c->cols)) != NULL;
        for (Py_ssize_t i = 0; ok && i < n; i++) {
            PyObject *cd = PySequence_Fast_GET_ITEM(f, i);
            ok = PyTuple_Check(cd) && PyTuple_GET_SIZE(cd) == 2;
            if (!ok)
                PyErr_SetString(PyExc_TypeError, "a column is a (name, type) pair");
            ok = ok && (c->cols[i].name = kept_str(c, PyTuple_GET_ITEM(cd, 0), "column"));
            ok = ok && (c->cols[i].decl = kept_str(c, PyTuple_GET_ITEM(cd, 1), "type"));
            c->ncols += ok;
        }
    }
    if (ok && pk != Py_None) {
        PyObject *f = PySequence_Fast(pk, "primary key must be a sequence");
        ok = f && PyList_Append(c->keep, f) == 0;
        Py_XDECREF(f);
        Py_ssize_t n = ok ? PySequence_Fast_GET_SIZE(f) : 0;
        ok = ok && (c->pk = calloc((size_t)n + 1, sizeof *c->pk)) != NULL;
        for (Py_ssize_t i = 0; ok && i < n; i++) {
            ok = (c->pk[i] = kept_str(c, PySequence_Fast_GET_ITEM(f, i), "key")) != NULL;
            c->npk += ok;
        }
    }
    if (!ok && !PyErr_Occurred())
        PyErr_NoMemory();
    return done_prep(c, ok);
}

/* Interrupts every read running on the engine now (no retry for them). */
static PyObject *db_interrupt(prh_db *d, PyObject *a)
{
    (void)a;
    pthread_mutex_lock(&d->mu);
    if (d->db && !d->closing) {
        d->user_epoch++;
        rhei_interrupt(d->db);
    }
    pthread_mutex_unlock(&d->mu);
    Py_RETURN_NONE;
}

/* wait_idle(timeout_s) -> True once no call runs on the engine, False at the timeout. */
static PyObject *db_wait_idle(prh_db *d, PyObject *arg)
{
    double t = PyFloat_AsDouble(arg);
    if (t == -1.0 && PyErr_Occurred())
        return NULL;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)t;
    until.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int idle;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&d->mu);
    int rc = 0;
    while (d->running > 0 && rc == 0)
        rc = pthread_cond_timedwait(&d->idle, &d->mu, &until);
    idle = d->running == 0;
    pthread_mutex_unlock(&d->mu);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(idle);
}

static PyObject *db_running(prh_db *d, void *closure)
{
    (void)closure;
    pthread_mutex_lock(&d->mu);
    int n = d->running;
    pthread_mutex_unlock(&d->mu);
    return PyLong_FromLong(n);
}

/* The rhei_db* as an int, for C code (or ctypes) that calls rhei.h on the same engine. */
static PyObject *db_handle(prh_db *d, void *closure)
{
    (void)closure;
    return PyLong_FromVoidPtr(d->db);
}

static PyObject *db_closed(prh_db *d, void *closure)
{
    (void)closure;
    return PyBool_FromLong(d->db == NULL || d->closing);
}

static PyMethodDef db_methods[] = {
    {"open_call", (PyCFunction)db_open_call, METH_VARARGS, "open_call([(key, value)], file)"},
    {"close_call", (PyCFunction)db_close_call, METH_NOARGS, NULL},
    {"execute", (PyCFunction)db_execute, METH_VARARGS, "execute(sql, params) -> Call"},
    {"execute_query", (PyCFunction)db_execute_query, METH_VARARGS,
     "execute_query(sql, params) -> Call: rhei_execute_query, the statement's rows kept"},
    {"execute_info", (PyCFunction)db_execute_info, METH_VARARGS,
     "execute_info(sql, params) -> Call giving (changes, last_rowid) (rhei_execute_info)"},
    {"executemany", (PyCFunction)db_executemany, METH_VARARGS, NULL},
    {"execute_batch", (PyCFunction)db_execute_batch, METH_O, NULL},
    {"query", (PyCFunction)db_query, METH_VARARGS, "query(sql, params, hint, consistency)"},
    {"run_execute", (PyCFunction)(void (*)(void))db_run_execute, METH_FASTCALL,
     "run_execute(sql, params) -> changes: execute(...).run() without a Call object"},
    {"run_execute_info", (PyCFunction)(void (*)(void))db_run_execute_info, METH_FASTCALL,
     "run_execute_info(sql, params) -> (changes, last_rowid), run on this thread"},
    {"run_query", (PyCFunction)(void (*)(void))db_run_query, METH_FASTCALL,
     "run_query(sql, params, hint, consistency) -> Result, run on this thread"},
    {"run_execute_query", (PyCFunction)(void (*)(void))db_run_execute_query, METH_FASTCALL,
     "run_execute_query(sql, params) -> Result (no columns for a statement without rows),"
     " rhei_execute_query run on this thread"},
    {"query_arrow", (PyCFunction)db_query_arrow, METH_VARARGS,
     "query_arrow(sql, params, hint, consistency) -> Call giving an ArrowStream"},
    {"query_as_of", (PyCFunction)db_query_as_of, METH_VARARGS, NULL},
    {"register_table", (PyCFunction)db_register, METH_VARARGS, NULL},
    {"unregister_table", (PyCFunction)db_unregister, METH_VARARGS, NULL},
    {"tables", (PyCFunction)db_tables, METH_NOARGS, NULL},
    {"initial_sync", (PyCFunction)db_initial_sync, METH_VARARGS, NULL},
    {"sync_now", (PyCFunction)db_sync_now, METH_NOARGS, NULL},
    {"start_sync", (PyCFunction)db_start_sync, METH_VARARGS, NULL},
    {"stop_sync", (PyCFunction)db_stop_sync, METH_NOARGS, NULL},
    {"sync_status", (PyCFunction)db_sync_status, METH_NOARGS, NULL},
    {"table_pending", (PyCFunction)db_pending, METH_VARARGS, NULL},
    {"add_column", (PyCFunction)db_add_column, METH_VARARGS, NULL},
    {"drop_column", (PyCFunction)db_drop_column, METH_VARARGS, NULL},
    {"explain_route", (PyCFunction)db_explain, METH_VARARGS, NULL},
    {"route_stats", (PyCFunction)db_route_stats, METH_NOARGS, NULL},
    {"sidecar_sync_now", (PyCFunction)db_sidecar_sync, METH_NOARGS, NULL},
    {"sidecar_status", (PyCFunction)db_sidecar_status, METH_NOARGS, NULL},
    {"interrupt", (PyCFunction)db_interrupt, METH_NOARGS, NULL},
    {"wait_idle", (PyCFunction)db_wait_idle, METH_O,
     "wait_idle(timeout_s) -> True once no call runs on the engine, False at the timeout."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef db_getset[] = {
    {"closed", (getter)db_closed, NULL, "Whether the engine is closed (or never opened).", NULL},
    {"running", (getter)db_running, NULL, "Calls running on the engine now.", NULL},
    {"handle", (getter)db_handle, NULL,
     "The rhei_db* address (0 when closed), for C code calling rhei.h on this engine.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject prh_db_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rhei._rhei.Database",
    .tp_basicsize = sizeof(prh_db),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One rhei_db handle; every method returns a Call to run() or submit().",
    .tp_new = db_new,
    .tp_dealloc = (destructor)db_dealloc,
    .tp_methods = db_methods,
    .tp_getset = db_getset,
};
