/* result.c — Result: a query's rows as a Python sequence of tuples (converted on access),
 * dicts by to_pylist(), column names/types, the side that served it, and the Arrow PyCapsule
 * interface. __arrow_c_stream__ moves the data out (rhei_result_to_arrow, no copy), after
 * which the rows are no longer readable here. */
#include "pyrhei.h"
#include <stdlib.h>
#include <string.h>

static PyObject *str_tuple(const prh_result *pr, const char *(*get)(const rhei_result *, size_t))
{
    PyObject *t = PyTuple_New((Py_ssize_t)pr->ncols);
    for (size_t i = 0; t && i < pr->ncols; i++) {
        const char *s = get(pr->r, i);
        PyObject *o = PyUnicode_FromString(s ? s : "");
        if (!o)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, (Py_ssize_t)i, o);
    }
    return t;
}

static const char *type_name_of(const rhei_result *r, size_t c)
{
    return rhei_type_name(rhei_result_column_type(r, c));
}

PyObject *prh_result_new(rhei_result *r)
{
    prh_result *pr = PyObject_New(prh_result, &prh_result_type);
    if (!pr) {
        rhei_result_free(r);
        return NULL;
    }
    memset((char *)pr + sizeof(PyObject), 0, sizeof *pr - sizeof(PyObject));
    pr->r = r;
    pr->nrows = rhei_result_row_count(r);
    pr->ncols = rhei_result_column_count(r);
    pr->side = rhei_result_side(r);
    pr->kind = malloc(3 * (pr->ncols + 1)); /* kind, prec and scale in one block */
    pr->prec = pr->kind ? (signed char *)pr->kind + pr->ncols + 1 : NULL;
    pr->scale = pr->kind ? pr->prec + pr->ncols + 1 : NULL;
    if (!pr->kind) {
        Py_DECREF(pr);
        return PyErr_NoMemory();
    }
    for (size_t c = 0; c < pr->ncols; c++)
        prh_column_kind(rhei_result_column_decl(r, c), rhei_result_column_type(r, c),
                        &pr->kind[c], &pr->prec[c], &pr->scale[c]);
    return (PyObject *)pr; /* names, types, decls, reason: made when first asked for */
}

/* The column metadata as Python objects, made once (before the data may move to Arrow:
 * they are read from r). Most point reads never ask, so they are not made up front. */
static int meta(prh_result *pr)
{
    if (pr->names)
        return 0;
    if (!pr->r) {
        PyErr_SetString(PyExc_RuntimeError, "result metadata lost");
        return -1;
    }
    PyObject *n = str_tuple(pr, rhei_result_column_name);
    PyObject *t = str_tuple(pr, type_name_of);
    PyObject *d = str_tuple(pr, rhei_result_column_decl);
    const char *reason = rhei_result_reason(pr->r);
    PyObject *why = PyUnicode_FromString(reason ? reason : "");
    if (!n || !t || !d || !why) {
        Py_XDECREF(n), Py_XDECREF(t), Py_XDECREF(d), Py_XDECREF(why);
        return -1;
    }
    pr->names = n, pr->types = t, pr->decls = d, pr->reason = why;
    return 0;
}

static void result_dealloc(prh_result *pr)
{
    rhei_result_free(pr->r);
    free(pr->kind); /* prec and scale too */
    Py_XDECREF(pr->names);
    Py_XDECREF(pr->types);
    Py_XDECREF(pr->decls);
    Py_XDECREF(pr->reason);
    PyObject_Free(pr);
}

static int readable(const prh_result *pr)
{
    if (pr->r)
        return 1;
    prh_raise(RHEI_MISUSE, "the result's data was moved to Arrow; its rows are gone");
    return 0;
}

static PyObject *row_tuple(const prh_result *pr, size_t row)
{
    PyObject *t = PyTuple_New((Py_ssize_t)pr->ncols);
    for (size_t c = 0; t && c < pr->ncols; c++) {
        PyObject *v = prh_cell(pr, row, c);
        if (!v)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, (Py_ssize_t)c, v);
    }
    return t;
}

static Py_ssize_t result_len(prh_result *pr) { return (Py_ssize_t)pr->nrows; }

static PyObject *result_item(prh_result *pr, Py_ssize_t i)
{
    if (i < 0 || (size_t)i >= pr->nrows) {
        PyErr_SetString(PyExc_IndexError, "row index out of range");
        return NULL;
    }
    return readable(pr) ? row_tuple(pr, (size_t)i) : NULL;
}

/* fetch(start, stop) -> list of row tuples in [start, stop) (clamped). */
static PyObject *result_fetch(prh_result *pr, PyObject *args)
{
    Py_ssize_t start = 0, stop = PY_SSIZE_T_MAX;
    if (!PyArg_ParseTuple(args, "|nn", &start, &stop) || !readable(pr))
        return NULL;
    if (start < 0)
        start = 0;
    if (stop > (Py_ssize_t)pr->nrows)
        stop = (Py_ssize_t)pr->nrows;
    if (stop < start)
        stop = start;
    PyObject *l = PyList_New(stop - start);
    for (Py_ssize_t i = start; l && i < stop; i++) {
        PyObject *t = row_tuple(pr, (size_t)i);
        if (!t)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, i - start, t);
    }
    return l;
}

static PyObject *result_rows(prh_result *pr, PyObject *noargs)
{
    (void)noargs;
    PyObject *args = PyTuple_New(0);
    PyObject *l = args ? result_fetch(pr, args) : NULL;
    Py_XDECREF(args);
    return l;
}

static PyObject *result_to_pylist(prh_result *pr, PyObject *noargs)
{
    (void)noargs;
    if (!readable(pr) || meta(pr) < 0)
        return NULL;
    PyObject *l = PyList_New((Py_ssize_t)pr->nrows);
    for (size_t i = 0; l && i < pr->nrows; i++) {
        PyObject *d = _PyDict_NewPresized((Py_ssize_t)pr->ncols);
        for (size_t c = 0; d && c < pr->ncols; c++) {
            PyObject *v = prh_cell(pr, i, c);
            if (!v || PyDict_SetItem(d, PyTuple_GET_ITEM(pr->names, (Py_ssize_t)c), v) < 0)
                Py_CLEAR(d);
            Py_XDECREF(v);
        }
        if (!d)
            Py_CLEAR(l);
        else
            PyList_SET_ITEM(l, (Py_ssize_t)i, d);
    }
    return l;
}

static PyObject *result_scalar(prh_result *pr, PyObject *noargs)
{
    (void)noargs;
    if (!readable(pr))
        return NULL;
    if (pr->nrows == 0 || pr->ncols == 0)
        Py_RETURN_NONE;
    return prh_cell(pr, 0, 0);
}

/* --- Arrow PyCapsules ------------------------------------------------------------------- */

static void stream_capsule_free(PyObject *cap)
{
    struct ArrowArrayStream *s = PyCapsule_GetPointer(cap, "arrow_array_stream");
    if (s && s->release)
        s->release(s);
    free(s);
}

static void schema_capsule_free(PyObject *cap)
{
    struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
    if (s && s->release)
        s->release(s);
    free(s);
}

static PyObject *result_arrow_stream(prh_result *pr, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"requested_schema", NULL};
    PyObject *requested = Py_None; /* no casts offered: the producer's schema is exact */
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &requested) || !readable(pr) ||
        meta(pr) < 0)
        return NULL;
    struct ArrowArrayStream *s = calloc(1, sizeof *s);
    if (!s)
        return PyErr_NoMemory();
    rhei_result *r = pr->r;
    pr->r = NULL; /* consumed whether or not the export succeeds */
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = rhei_result_to_arrow(r, s);
    Py_END_ALLOW_THREADS
    if (rc) {
        /* rhei_result_to_arrow has no handle to leave its message on: the code, with what
         * rhei.h says it means there, is all it reports. */
        char msg[200];
        snprintf(msg, sizeof msg, "cannot export the result to Arrow: %s%s", rhei_errstr(rc),
                 rc == RHEI_TYPE ? " (a cell does not fit its column's Arrow type)" : "");
        free(s);
        return prh_raise(rc, msg);
    }
    PyObject *cap = PyCapsule_New(s, "arrow_array_stream", stream_capsule_free);
    if (!cap) {
        s->release(s);
        free(s);
    }
    return cap;
}

/* The schema alone, built from the column types exactly as rhei_result_to_arrow names them;
 * the result stays readable. */
typedef struct schema_priv {
    struct ArrowSchema *kids;
    struct ArrowSchema **kidp;
    char **strs;
    size_t n;
} schema_priv;

static void schema_release(struct ArrowSchema *s)
{
    schema_priv *p = s->private_data;
    if (p) {
        for (size_t i = 0; i < 2 * p->n; i++)
            free(p->strs[i]);
        free(p->strs);
        free(p->kids);
        free(p->kidp);
        free(p);
    }
    s->release = NULL;
}

static void child_release(struct ArrowSchema *s) { s->release = NULL; } /* parent owns it */

static const char *arrow_format(const prh_result *pr, size_t c, char *buf, size_t size)
{
    switch (rhei_result_column_type(pr->r, c)) {
    case RHEI_TYPE_INTEGER: return "l";
    case RHEI_TYPE_REAL: return "g";
    case RHEI_TYPE_BLOB: return "z";
    case RHEI_TYPE_BOOLEAN: return "b";
    case RHEI_TYPE_DATE: return "tdD";
    case RHEI_TYPE_TIMESTAMP: return "tsu:UTC";
    case RHEI_TYPE_DECIMAL:
        snprintf(buf, size, "d:%d,%d", pr->prec[c] > 0 ? pr->prec[c] : 18,
                 pr->scale[c] >= 0 ? pr->scale[c] : 3);
        return buf;
    default: return "u";
    }
}

static PyObject *result_arrow_schema(prh_result *pr, PyObject *noargs)
{
    (void)noargs;
    if (!readable(pr))
        return NULL;
    struct ArrowSchema *s = calloc(1, sizeof *s);
    schema_priv *p = calloc(1, sizeof *p);
    size_t n = pr->ncols;
    if (p) {
        p->kids = calloc(n + 1, sizeof *p->kids);
        p->kidp = calloc(n + 1, sizeof *p->kidp);
        p->strs = calloc(2 * n + 1, sizeof *p->strs);
    }
    int ok = s && p && p->kids && p->kidp && p->strs;
    for (size_t c = 0; ok && c < n; c++) {
        char buf[32];
        p->strs[2 * c] = strdup(arrow_format(pr, c, buf, sizeof buf));
        p->strs[2 * c + 1] = strdup(rhei_result_column_name(pr->r, c));
        p->n = c + 1;
        ok = p->strs[2 * c] && p->strs[2 * c + 1];
        struct ArrowSchema *k = &p->kids[c];
        k->format = p->strs[2 * c];
        k->name = p->strs[2 * c + 1];
        k->flags = ARROW_FLAG_NULLABLE;
        k->release = child_release;
        p->kidp[c] = k;
    }
    if (s) {
        s->format = "+s";
        s->name = "";
        s->n_children = (int64_t)n;
        s->children = p ? p->kidp : NULL;
        s->private_data = p;
        s->release = schema_release;
    }
    if (!ok) {
        if (s)
            schema_release(s);
        else if (p)
            free(p);
        free(s);
        return PyErr_NoMemory();
    }
    PyObject *cap = PyCapsule_New(s, "arrow_schema", schema_capsule_free);
    if (!cap) {
        schema_release(s);
        free(s);
    }
    return cap;
}

/* --- attributes ------------------------------------------------------------------------- */

static PyObject *get_names(prh_result *pr, void *x)
{
    (void)x;
    return meta(pr) < 0 ? NULL : Py_NewRef(pr->names);
}
static PyObject *get_types(prh_result *pr, void *x)
{
    (void)x;
    return meta(pr) < 0 ? NULL : Py_NewRef(pr->types);
}
static PyObject *get_decls(prh_result *pr, void *x)
{
    (void)x;
    return meta(pr) < 0 ? NULL : Py_NewRef(pr->decls);
}
static PyObject *get_reason(prh_result *pr, void *x)
{
    (void)x;
    return meta(pr) < 0 ? NULL : Py_NewRef(pr->reason);
}
static PyObject *get_side(prh_result *pr, void *x)
{
    (void)x;
    return PyUnicode_FromString(pr->side == RHEI_SIDE_OLAP ? "olap" : "oltp");
}
static PyObject *get_moved(prh_result *pr, void *x)
{
    (void)x;
    return PyBool_FromLong(pr->r == NULL);
}

static PyObject *result_repr(prh_result *pr)
{
    if (meta(pr) < 0)
        return NULL;
    return PyUnicode_FromFormat("<rhei.Result %zu rows x %zu columns %R from %s>", pr->nrows,
                                pr->ncols, pr->names,
                                pr->side == RHEI_SIDE_OLAP ? "olap" : "oltp");
}

static PyMethodDef result_methods[] = {
    {"rows", (PyCFunction)result_rows, METH_NOARGS, "All rows as a list of tuples."},
    {"fetch", (PyCFunction)result_fetch, METH_VARARGS,
     "fetch(start=0, stop=len) -> rows [start, stop) as tuples."},
    {"to_pylist", (PyCFunction)result_to_pylist, METH_NOARGS,
     "All rows as a list of {column: value} dicts."},
    {"scalar", (PyCFunction)result_scalar, METH_NOARGS,
     "The first column of the first row, or None if there is none."},
    {"__arrow_c_stream__", (PyCFunction)(void (*)(void))result_arrow_stream,
     METH_VARARGS | METH_KEYWORDS,
     "Arrow PyCapsule stream (one record batch). Moves the data out without copying: the "
     "rows cannot be read from this Result afterwards."},
    {"__arrow_c_schema__", (PyCFunction)result_arrow_schema, METH_NOARGS,
     "Arrow PyCapsule schema of the columns (the result stays readable)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef result_getset[] = {
    {"column_names", (getter)get_names, NULL, "Tuple of column names.", NULL},
    {"column_types", (getter)get_types, NULL, "Tuple of rhei type names (INTEGER, TEXT...).",
     NULL},
    {"column_decls", (getter)get_decls, NULL, "Declared types as the serving side gave them.",
     NULL},
    {"side", (getter)get_side, NULL, "'oltp' (SQLite) or 'olap' (DuckDB): who served it.", NULL},
    {"reason", (getter)get_reason, NULL, "Why the router chose that side.", NULL},
    {"moved", (getter)get_moved, NULL, "True once the data went to Arrow.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PySequenceMethods result_seq = {
    .sq_length = (lenfunc)result_len,
    .sq_item = (ssizeargfunc)result_item,
};

PyTypeObject prh_result_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rhei.Result",
    .tp_basicsize = sizeof(prh_result),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Rows of a query: a sequence of tuples, with column names and types, the side "
              "that served it, to_pylist(), and the Arrow PyCapsule interface.",
    .tp_dealloc = (destructor)result_dealloc,
    .tp_repr = (reprfunc)result_repr,
    .tp_as_sequence = &result_seq,
    .tp_methods = result_methods,
    .tp_getset = result_getset,
};
