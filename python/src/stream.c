/* stream.c — ArrowStream: a routed read handed out as an Arrow C stream that is not
 * materialised (rhei_query_arrow: DuckDB chunks are produced as the consumer pulls them).
 * The engine's stream is wrapped so that (1) get_next releases the GIL when the consumer calls
 * it holding the GIL, (2) closing the engine first ends every stream still open (rhei_close
 * must not run under an unreleased stream): such a stream then reports EIO, "the engine was
 * closed", and (3) release works from any thread, with or without the GIL.
 *
 * Invariants: a wrapper (prh_wrap) has two owners, the holder of the stream (the ArrowStream
 * object, then the capsule, then whoever moved the stream out of the capsule) and its
 * engine's list; it is freed when both let go. wrap_mu protects every engine's list and each
 * w->d; w->mu serialises the engine's stream (get_next, get_schema, release). The two are
 * never held together. */
#include "pyrhei.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct prh_wrap {
    pthread_mutex_t mu;
    struct ArrowArrayStream inner; /* the engine's; inner.release NULL once released */
    int ended;                     /* released by the engine's close (not by the holder) */
    atomic_int refs;               /* holder + engine list */
    prh_db *d;                     /* NULL once off the engine's list (under wrap_mu) */
    struct prh_wrap *prev, *next;  /* the engine's list (under wrap_mu) */
};

static pthread_mutex_t wrap_mu = PTHREAD_MUTEX_INITIALIZER;

static void wrap_unref(prh_wrap *w)
{
    if (atomic_fetch_sub(&w->refs, 1) == 1) {
        pthread_mutex_destroy(&w->mu);
        free(w);
    }
}

/* Releases the engine's stream once (either owner may be first). */
static void wrap_end(prh_wrap *w, int by_engine)
{
    pthread_mutex_lock(&w->mu);
    if (w->inner.release) {
        w->inner.release(&w->inner);
        w->inner.release = NULL;
        w->ended = by_engine;
    }
    pthread_mutex_unlock(&w->mu);
}

static void wrap_unlink(prh_wrap *w)
{
    pthread_mutex_lock(&wrap_mu);
    prh_db *d = w->d;
    if (d) {
        if (w->prev)
            w->prev->next = w->next;
        else
            d->streams = w->next;
        if (w->next)
            w->next->prev = w->prev;
        w->d = NULL;
    }
    pthread_mutex_unlock(&wrap_mu);
    if (d)
        wrap_unref(w); /* the list's reference */
}

prh_wrap *prh_wrap_new(prh_db *d, struct ArrowArrayStream *inner)
{
    prh_wrap *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    w->inner = *inner;
    memset(inner, 0, sizeof *inner); /* moved */
    atomic_init(&w->refs, 2);
    pthread_mutex_lock(&wrap_mu);
    w->d = d;
    w->next = d->streams;
    if (d->streams)
        d->streams->prev = w;
    d->streams = w;
    pthread_mutex_unlock(&wrap_mu);
    return w;
}

/* The holder lets go: the engine's stream is released, then the wrapper when the list has
 * let go too. */
void prh_wrap_release(prh_wrap *w)
{
    if (!w)
        return;
    wrap_end(w, 0);
    wrap_unlink(w);
    wrap_unref(w);
}

/* Called by close (after every call on d finished, before rhei_close): ends the streams
 * still open on d. A get_next running now returns first (close interrupted the engine). */
void prh_wrap_end_all(prh_db *d)
{
    for (;;) {
        pthread_mutex_lock(&wrap_mu);
        prh_wrap *w = d->streams;
        if (w) {
            d->streams = w->next;
            if (w->next)
                w->next->prev = NULL;
            w->d = NULL; /* the list's reference is now ours */
        }
        pthread_mutex_unlock(&wrap_mu);
        if (!w)
            return;
        wrap_end(w, 1);
        wrap_unref(w);
    }
}

/* --- the stream the consumer sees ------------------------------------------------------- */

static const char closed_msg[] = "the engine was closed while the stream was open";

static int s_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out)
{
    prh_wrap *w = s->private_data;
    pthread_mutex_lock(&w->mu);
    int rc = w->inner.release ? w->inner.get_schema(&w->inner, out) : EIO;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* The producer may run DuckDB for a while: a consumer holding the GIL gives it up meanwhile
 * (pyarrow, polars and DuckDB call this from C with or without it). */
static int s_get_next(struct ArrowArrayStream *s, struct ArrowArray *out)
{
    prh_wrap *w = s->private_data;
    PyThreadState *ts = Py_IsInitialized() && PyGILState_Check() ? PyEval_SaveThread() : NULL;
    pthread_mutex_lock(&w->mu);
    int rc = w->inner.release ? w->inner.get_next(&w->inner, out) : EIO;
    pthread_mutex_unlock(&w->mu);
    if (ts)
        PyEval_RestoreThread(ts);
    return rc;
}

static const char *s_get_last_error(struct ArrowArrayStream *s)
{
    prh_wrap *w = s->private_data;
    pthread_mutex_lock(&w->mu);
    const char *m = w->inner.release ? w->inner.get_last_error(&w->inner)
                    : w->ended       ? closed_msg
                                     : NULL;
    pthread_mutex_unlock(&w->mu);
    return m;
}

static void s_release(struct ArrowArrayStream *s)
{
    prh_wrap_release(s->private_data);
    s->release = NULL;
}

static void stream_capsule_free(PyObject *cap)
{
    struct ArrowArrayStream *s = PyCapsule_GetPointer(cap, "arrow_array_stream");
    if (s && s->release)
        s->release(s);
    free(s);
}

/* --- the Python object ------------------------------------------------------------------ */

typedef struct prh_astream {
    PyObject_HEAD prh_wrap *w; /* NULL once exported or closed */
    int side;
    PyObject *reason;
} prh_astream;

PyObject *prh_astream_new(prh_wrap *w, const rhei_route_info *ri)
{
    prh_astream *a = PyObject_New(prh_astream, &prh_astream_type);
    if (!a) {
        prh_wrap_release(w);
        return NULL;
    }
    a->w = w;
    a->side = ri->side;
    a->reason = PyUnicode_FromString(ri->reason ? ri->reason : "");
    if (!a->reason) {
        Py_DECREF(a);
        return NULL;
    }
    return (PyObject *)a;
}

static void astream_release(prh_astream *a)
{
    prh_wrap *w = a->w;
    a->w = NULL;
    if (w) {
        Py_BEGIN_ALLOW_THREADS /* a get_next of a capsule-less user may be running */
            prh_wrap_release(w);
        Py_END_ALLOW_THREADS
    }
}

static void astream_dealloc(prh_astream *a)
{
    astream_release(a);
    Py_XDECREF(a->reason);
    PyObject_Free(a);
}

static int usable(prh_astream *a)
{
    if (a->w)
        return 1;
    prh_raise(RHEI_MISUSE, "the Arrow stream was already handed out or closed");
    return 0;
}

static PyObject *astream_stream(prh_astream *a, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"requested_schema", NULL};
    PyObject *requested = Py_None; /* no casts offered: the producer's schema is exact */
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &requested) || !usable(a))
        return NULL;
    struct ArrowArrayStream *s = calloc(1, sizeof *s);
    if (!s)
        return PyErr_NoMemory();
    s->get_schema = s_get_schema;
    s->get_next = s_get_next;
    s->get_last_error = s_get_last_error;
    s->release = s_release;
    s->private_data = a->w;
    PyObject *cap = PyCapsule_New(s, "arrow_array_stream", stream_capsule_free);
    if (!cap) {
        free(s);
        return NULL;
    }
    a->w = NULL; /* the capsule holds it now */
    return cap;
}

static void schema_capsule_free(PyObject *cap)
{
    struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
    if (s && s->release)
        s->release(s);
    free(s);
}

static PyObject *astream_schema(prh_astream *a, PyObject *noargs)
{
    (void)noargs;
    if (!usable(a))
        return NULL;
    struct ArrowSchema *sc = calloc(1, sizeof *sc);
    if (!sc)
        return PyErr_NoMemory();
    struct ArrowArrayStream view = {.private_data = a->w};
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = s_get_schema(&view, sc);
    Py_END_ALLOW_THREADS if (rc)
    {
        const char *m = s_get_last_error(&view);
        free(sc);
        return prh_raise(rc == ENOMEM ? RHEI_NOMEM : RHEI_IO,
                         m ? m : "cannot read the Arrow stream's schema");
    }
    PyObject *cap = PyCapsule_New(sc, "arrow_schema", schema_capsule_free);
    if (!cap) {
        sc->release(sc);
        free(sc);
    }
    return cap;
}

static PyObject *astream_close(prh_astream *a, PyObject *noargs)
{
    (void)noargs;
    astream_release(a);
    Py_RETURN_NONE;
}

static PyObject *astream_enter(prh_astream *a, PyObject *noargs)
{
    (void)noargs;
    return Py_NewRef(a);
}

static PyObject *astream_exit(prh_astream *a, PyObject *args)
{
    (void)args;
    astream_release(a);
    Py_RETURN_FALSE;
}

static PyObject *get_side(prh_astream *a, void *x)
{
    (void)x;
    return PyUnicode_FromString(a->side == RHEI_SIDE_OLAP ? "olap" : "oltp");
}
static PyObject *get_reason(prh_astream *a, void *x)
{
    (void)x;
    return Py_NewRef(a->reason);
}
static PyObject *get_closed(prh_astream *a, void *x)
{
    (void)x;
    return PyBool_FromLong(!a->w);
}

static PyObject *astream_repr(prh_astream *a)
{
    return PyUnicode_FromFormat("<rhei.ArrowStream from %s%s>",
                                a->side == RHEI_SIDE_OLAP ? "olap" : "oltp",
                                a->w ? "" : ", handed out");
}

static PyMethodDef astream_methods[] = {
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))astream_stream,
     METH_VARARGS | METH_KEYWORDS,
     "Arrow PyCapsule stream; batches are produced as the consumer pulls them. Once only."},
    {"__arrow_c_schema__", (PyCFunction)astream_schema, METH_NOARGS,
     "Arrow PyCapsule schema of the stream (before it is handed out)."},
    {"close", (PyCFunction)astream_close, METH_NOARGS,
     "Release the stream without reading it (frees its OLAP read connection)."},
    {"__enter__", (PyCFunction)astream_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)astream_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef astream_getset[] = {
    {"side", (getter)get_side, NULL, "'oltp' (SQLite) or 'olap' (DuckDB): who serves it.", NULL},
    {"reason", (getter)get_reason, NULL, "Why the router chose that side.", NULL},
    {"closed", (getter)get_closed, NULL, "True once handed out as a capsule or closed.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject prh_astream_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rhei.ArrowStream",
    .tp_basicsize = sizeof(prh_astream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A routed read as an Arrow C stream, produced batch by batch as a consumer "
              "(pyarrow, polars, DuckDB) pulls it through __arrow_c_stream__. Holds an OLAP "
              "read connection until released: read it, close() it or use it in a with block.",
    .tp_dealloc = (destructor)astream_dealloc,
    .tp_repr = (reprfunc)astream_repr,
    .tp_methods = astream_methods,
    .tp_getset = astream_getset,
};
