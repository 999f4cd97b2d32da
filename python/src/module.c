/* module.c — the _rhei module: the error-class table the Python layer fills in, the worker
 * threads that run submitted calls without the GIL, and channels (an eventfd plus a list of
 * finished calls) through which finished calls reach an event loop without polling. */
#include "pyrhei.h"
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* --- errors ----------------------------------------------------------------------------- */

#define NCODES 64
static PyObject *err_cls[NCODES]; /* code -> exception class; [0] is the base class */

PyObject *prh_raise(int code, const char *msg)
{
    PyObject *cls = code > 0 && code < NCODES && err_cls[code] ? err_cls[code] : err_cls[0];
    if (!cls)
        cls = PyExc_RuntimeError;
    PyObject *exc = PyObject_CallFunction(cls, "s", msg && *msg ? msg : rhei_errstr(code));
    if (!exc)
        return NULL;
    PyObject *num = PyLong_FromLong(code);
    if (num) {
        PyObject_SetAttrString(exc, "code", num);
        Py_DECREF(num);
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

/* _set_errors(base, {code: class}) */
static PyObject *set_errors(PyObject *self, PyObject *args)
{
    PyObject *base, *map, *k, *v;
    Py_ssize_t pos = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO!", &base, &PyDict_Type, &map))
        return NULL;
    Py_INCREF(base);
    Py_XSETREF(err_cls[0], base);
    while (PyDict_Next(map, &pos, &k, &v)) {
        long code = PyLong_AsLong(k);
        if (code <= 0 || code >= NCODES)
            return PyErr_Format(PyExc_ValueError, "error code %ld out of range", code);
        Py_INCREF(v);
        Py_XSETREF(err_cls[code], v);
    }
    Py_RETURN_NONE;
}

static PyObject *error_codes(PyObject *self, PyObject *noargs)
{
    (void)self, (void)noargs;
    PyObject *d = PyDict_New();
#define PRH_CODE(name, num, text)                                                             \
    do {                                                                                      \
        PyObject *t = Py_BuildValue("(ss)", #name, text), *n = PyLong_FromLong(num);         \
        if (!t || !n || PyDict_SetItem(d, n, t) < 0) {                                        \
            Py_XDECREF(t), Py_XDECREF(n), Py_DECREF(d);                                       \
            return NULL;                                                                      \
        }                                                                                     \
        Py_DECREF(t), Py_DECREF(n);                                                           \
    } while (0);
    if (!d)
        return NULL;
    RHEI_ERROR_CODES(PRH_CODE)
#undef PRH_CODE
    return d;
}

/* --- worker threads ------------------------------------------------------------------- */

/* The queue is guarded by pool_mu, never held while waiting; pool_sem counts the queued
 * calls and is what idle workers sleep on. (A condition variable costs a futex wake more
 * per call: glibc marks the mutex contended when a waiter re-takes it.) */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t pool_sem;
static prh_call *q_head, *q_tail;
static int nworkers, nqueued, max_workers = 16;
static int nidle; /* workers waiting for a call, or about to: a new one is made past them */

/* A worker counts itself idle before its finished call reaches the loop, so the call the
 * loop submits on seeing it reuses this (warm) thread instead of racing it into making a
 * new one. */
static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        while (sem_wait(&pool_sem) != 0) /* only EINTR */
            ;
        pthread_mutex_lock(&pool_mu);
        nidle--;
        nqueued--;
        prh_call *c = q_head;
        q_head = c->next;
        if (!q_head)
            q_tail = NULL;
        c->next = NULL;
        pthread_mutex_unlock(&pool_mu);
        prh_call_run(c);
        pthread_mutex_lock(&pool_mu);
        nidle++;
        pthread_mutex_unlock(&pool_mu);
        prh_chan_complete(c->chan, c); /* the queue's reference moves to the channel */
    }
    return NULL;
}

int prh_pool_submit(prh_call *c)
{
    int err = 0;
    Py_INCREF(c);
    pthread_mutex_lock(&pool_mu);
    if (nqueued >= nidle && nworkers < max_workers) { /* grow on demand, never past the cap */
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&t, &at, worker, NULL);
        pthread_attr_destroy(&at);
        if (err == 0)
            nworkers++, nidle++;
        else if (nworkers > 0)
            err = 0; /* the existing workers will get to it */
    }
    if (err == 0) {
        if (q_tail)
            q_tail->next = c;
        else
            q_head = c;
        q_tail = c;
        nqueued++;
    }
    pthread_mutex_unlock(&pool_mu);
    if (err) {
        Py_DECREF(c);
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    sem_post(&pool_sem); /* after the unlock: the woken worker does not block on pool_mu */
    return 0;
}

static PyObject *set_max_workers(PyObject *self, PyObject *arg)
{
    (void)self;
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 1 || n > 1024)
        return PyErr_Format(PyExc_ValueError, "worker threads must be 1..1024, not %ld", n);
    pthread_mutex_lock(&pool_mu);
    int old = max_workers;
    max_workers = (int)n;
    pthread_mutex_unlock(&pool_mu);
    return PyLong_FromLong(old);
}

/* --- channels --------------------------------------------------------------------------- */

void prh_chan_complete(prh_chan *ch, prh_call *c)
{
    pthread_mutex_lock(&ch->mu);
    int was_empty = ch->head == NULL;
    if (ch->tail)
        ch->tail->next = c;
    else
        ch->head = c;
    ch->tail = c;
    pthread_mutex_unlock(&ch->mu);
    if (was_empty) { /* a non-empty list always has a wakeup pending */
        uint64_t one = 1;
        ssize_t w;
        do
            w = write(ch->fd, &one, sizeof one);
        while (w < 0 && errno == EINTR);
    }
}

static PyObject *chan_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args, (void)kw;
    prh_chan *ch = (prh_chan *)type->tp_alloc(type, 0);
    if (!ch)
        return NULL;
    ch->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&ch->mu, NULL);
    if (ch->fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        Py_DECREF(ch);
        return NULL;
    }
    return (PyObject *)ch;
}

static void chan_dealloc(prh_chan *ch)
{
    /* Calls still listed hold a reference to ch, so the list is empty here. */
    if (ch->fd >= 0)
        close(ch->fd);
    pthread_mutex_destroy(&ch->mu);
    Py_TYPE(ch)->tp_free((PyObject *)ch);
}

static PyObject *chan_fileno(prh_chan *ch, PyObject *noargs)
{
    (void)noargs;
    return PyLong_FromLong(ch->fd);
}

/* The finished calls, oldest first, each with the worker's reference. The wakeup is
 * consumed before the list is taken, so a call finishing in between leaves a wakeup behind
 * rather than being missed. */
static prh_call *take_finished(prh_chan *ch)
{
    uint64_t n;
    if (read(ch->fd, &n, sizeof n) < 0 && errno != EAGAIN && errno != EINTR) {
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    pthread_mutex_lock(&ch->mu);
    prh_call *c = ch->head;
    ch->head = ch->tail = NULL;
    pthread_mutex_unlock(&ch->mu);
    return c;
}

static PyObject *chan_drain(prh_chan *ch, PyObject *noargs)
{
    (void)noargs;
    prh_call *c = take_finished(ch);
    if (!c && PyErr_Occurred())
        return NULL;
    PyObject *list = PyList_New(0);
    while (c) {
        prh_call *next = c->next;
        c->next = NULL;
        if (list && PyList_Append(list, (PyObject *)c) < 0)
            Py_CLEAR(list);
        Py_DECREF(c); /* the worker's reference */
        c = next;
    }
    return list;
}

/* Wakes the waiter of one finished call: fn(waiter), or for fn NULL an asyncio future's
 * set_result(None) unless it is already done (cancelled). A waiter the Python layer cleared
 * (`call.waiter = None` when its task was cancelled: the member then holds Py_None, not
 * NULL) is not woken. A failing wakeup is reported as unraisable: the other calls' waiters
 * must still be woken. */
static void wake_one(prh_call *c, PyObject *fn)
{
    static PyObject *s_done, *s_set_result;
    PyObject *w = c->waiter, *r = NULL;
    c->waiter = NULL; /* the reference moves to w */
    if (!w || w == Py_None) {
        Py_XDECREF(w);
        return;
    }
    if (fn) {
        r = PyObject_CallOneArg(fn, w);
    } else if ((s_done || (s_done = PyUnicode_InternFromString("done"))) &&
               (s_set_result || (s_set_result = PyUnicode_InternFromString("set_result")))) {
        PyObject *done = PyObject_CallMethodNoArgs(w, s_done);
        int is_done = done ? PyObject_IsTrue(done) : -1;
        Py_XDECREF(done);
        if (is_done == 0)
            r = PyObject_CallMethodOneArg(w, s_set_result, Py_None);
        else if (is_done == 1)
            r = Py_NewRef(Py_None);
    }
    if (!r)
        PyErr_WriteUnraisable(w);
    Py_XDECREF(r);
    Py_DECREF(w);
}

/* wake(fn=None): takes the finished calls and wakes each one's waiter (see wake_one), in
 * C: the loop's reader callback runs no Python frame per finished call. */
static PyObject *chan_wake(prh_chan *ch, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1)
        return PyErr_Format(PyExc_TypeError, "wake takes at most one argument");
    PyObject *fn = nargs == 1 && args[0] != Py_None ? args[0] : NULL;
    prh_call *c = take_finished(ch);
    if (!c && PyErr_Occurred())
        return NULL;
    while (c) {
        prh_call *next = c->next;
        c->next = NULL;
        wake_one(c, fn);
        Py_DECREF(c); /* the worker's reference */
        c = next;
    }
    Py_RETURN_NONE;
}

static PyMethodDef chan_methods[] = {
    {"fileno", (PyCFunction)chan_fileno, METH_NOARGS, "The eventfd to wait on for readability."},
    {"drain", (PyCFunction)chan_drain, METH_NOARGS,
     "Take the finished calls (oldest first) and reset the wakeup."},
    {"wake", (PyCFunction)(void (*)(void))chan_wake, METH_FASTCALL,
     "wake(fn=None): take the finished calls and wake each waiter: fn(waiter), or without fn"
     " an asyncio future's set_result(None) unless it is done."},
    {NULL, NULL, 0, NULL}};

PyTypeObject prh_chan_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rhei._rhei.Channel",
    .tp_basicsize = sizeof(prh_chan),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Where calls submitted for one event loop report that they finished.",
    .tp_new = chan_new,
    .tp_dealloc = (destructor)chan_dealloc,
    .tp_methods = chan_methods,
};

/* --- module ----------------------------------------------------------------------------- */

static PyObject *versions(PyObject *self, PyObject *noargs)
{
    (void)self, (void)noargs;
    return Py_BuildValue("(sss)", rhei_version(), rhei_sqlite_version(), rhei_duckdb_version());
}

static PyObject *config_keys(PyObject *self, PyObject *noargs)
{
    (void)self, (void)noargs;
    PyObject *l = PyList_New(0);
    for (size_t i = 0; l; i++) {
        const char *k = rhei_config_key(i);
        if (!k)
            break;
        PyObject *s = PyUnicode_FromString(k);
        if (!s || PyList_Append(l, s) < 0)
            Py_CLEAR(l);
        Py_XDECREF(s);
    }
    return l;
}

/* The route codes the DB-API classifies statements by (rhei_route_info.code): the
 * statement kinds SQLite serves that are not reads, then the first code of a read. */
static int add_route_codes(PyObject *m)
{
    static const struct {
        const char *name;
        int code;
    } codes[] = {{"ROUTE_EMPTY", RHEI_ROUTE_EMPTY},
                 {"ROUTE_WRITE", RHEI_ROUTE_WRITE},
                 {"ROUTE_DDL", RHEI_ROUTE_DDL},
                 {"ROUTE_TXN_CONTROL", RHEI_ROUTE_TXN_CONTROL},
                 {"ROUTE_PRAGMA", RHEI_ROUTE_PRAGMA},
                 {"ROUTE_MAINTENANCE", RHEI_ROUTE_MAINTENANCE},
                 {"ROUTE_ATTACH", RHEI_ROUTE_ATTACH},
                 {"ROUTE_COMMAND", RHEI_ROUTE_COMMAND},
                 {"ROUTE_UNKNOWN_STATEMENT", RHEI_ROUTE_UNKNOWN_STATEMENT},
                 {"ROUTE_MULTIPLE_STATEMENTS", RHEI_ROUTE_MULTIPLE_STATEMENTS}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (PyModule_AddIntConstant(m, codes[i].name, codes[i].code) < 0)
            return -1;
    return 0;
}

static PyMethodDef module_methods[] = {
    {"_set_errors", set_errors, METH_VARARGS, "Install the exception classes per code."},
    {"error_codes", error_codes, METH_NOARGS, "{code: (name, text)} of the engine's codes."},
    {"versions", versions, METH_NOARGS, "(rhei, sqlite, duckdb) version strings."},
    {"config_keys", config_keys, METH_NOARGS, "The configuration keys the engine knows."},
    {"set_max_workers", set_max_workers, METH_O,
     "Cap the worker threads that run async calls; returns the previous cap."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_rhei",
    "Low-level binding of librhei (include/rhei.h); use the rhei package instead.", -1,
    module_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__rhei(void);
PyMODINIT_FUNC PyInit__rhei(void)
{
    if (prh_values_init() < 0)
        return NULL;
    static int sem_ready;
    if (!sem_ready && sem_init(&pool_sem, 0, 0) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    sem_ready = 1;
    PyTypeObject *types[] = {&prh_db_type, &prh_call_type, &prh_chan_type, &prh_result_type,
                             &prh_astream_type};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (PyType_Ready(types[i]) < 0)
            return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "Database", (PyObject *)&prh_db_type) < 0 ||
        PyModule_AddObjectRef(m, "Call", (PyObject *)&prh_call_type) < 0 ||
        PyModule_AddObjectRef(m, "Channel", (PyObject *)&prh_chan_type) < 0 ||
        PyModule_AddObjectRef(m, "Result", (PyObject *)&prh_result_type) < 0 ||
        PyModule_AddObjectRef(m, "ArrowStream", (PyObject *)&prh_astream_type) < 0 ||
        PyModule_AddStringConstant(m, "RHEI_VERSION", RHEI_VERSION) < 0 || add_route_codes(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
