/* pyrhei.h — shared declarations of the _rhei CPython extension: the engine object, the call
 * objects that carry one blocking API call to a worker thread (or run it on the caller's
 * thread with the GIL released), result objects and the value conversions. Only rhei.h. */
#ifndef PYRHEI_H
#define PYRHEI_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include "rhei.h"

typedef struct prh_wrap prh_wrap; /* an engine Arrow stream handed to Python (stream.c) */

/* The engine: one rhei_db, plus what lets close wait for the calls running on it and end
 * the Arrow streams still open on it. */
typedef struct prh_db {
    PyObject_HEAD
    rhei_db *db;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    int closing;       /* no new call starts */
    int running;       /* calls between enter and leave */
    uint64_t cancel_epoch; /* bumped before an interrupt made for a cancelled call */
    uint64_t user_epoch;   /* bumped by an interrupt the user asked for */
    prh_wrap *streams;     /* open Arrow streams (stream.c's lock) */
} prh_db;

/* A channel: where finished calls go for one event loop, with an eventfd that becomes
 * readable when the list turns non-empty. */
typedef struct prh_chan {
    PyObject_HEAD
    int fd;
    pthread_mutex_t mu;
    struct prh_call *head, *tail;
} prh_chan;

typedef enum prh_op {
    OP_OPEN,
    OP_CLOSE,
    OP_EXECUTE,
    OP_EXECMANY,
    OP_BATCH,
    OP_QUERY,
    OP_AS_OF,
    OP_REGISTER,
    OP_UNREGISTER,
    OP_TABLES,
    OP_INITIAL_SYNC,
    OP_SYNC_NOW,
    OP_START_SYNC,
    OP_STOP_SYNC,
    OP_SYNC_STATUS,
    OP_PENDING,
    OP_ADD_COLUMN,
    OP_DROP_COLUMN,
    OP_EXPLAIN,
    OP_ROUTE_STATS,
    OP_SIDECAR_SYNC,
    OP_SIDECAR_STATUS,
    OP_QUERY_ARROW,
    OP_EXEC_INFO,
    OP_EXEC_QUERY /* rhei_execute_query: any one statement on SQLite, keeping its rows */
} prh_op;

/* One API call: arguments converted while holding the GIL, run without it, its outcome turned
 * into Python objects with it again. Fields used depend on op. */
typedef struct prh_call {
    PyObject_HEAD
    prh_op op;
    prh_db *db;          /* strong reference */
    PyObject *keep;      /* objects whose buffers the arguments borrow */
    PyObject *waiter;    /* set by the Python layer: what to wake when done */
    prh_chan *chan;      /* strong reference while submitted */
    struct prh_call *next;
    volatile int cancelled;
    int state;           /* 0 new, 1 submitted, 2 done, 3 result taken */
    int rc;
    char *msg;           /* error text of a failed call (owned) */
    /* arguments */
    const char *s1, *s2, *s3;
    rhei_value *vals;    /* all parameter values (owned) */
    size_t nvals;
    rhei_statement *stmts; /* batch / executemany (owned) */
    size_t nstmts;
    rhei_column *cols;   /* register_table (owned) */
    size_t ncols;
    const char **pk;     /* owned array, strings borrowed */
    size_t npk;
    const char **keys;   /* open: key/value pairs (owned array, strings borrowed) */
    size_t nkeys;
    rhei_query_opts qopts;
    int64_t i1;
    /* outcomes */
    int64_t out_i;
    rhei_result *res;
    prh_wrap *wrap; /* query_arrow: the stream (owned until result() hands it out) */
    int64_t rowid;  /* execute with info: the writer's last insert rowid */
    rhei_sync_stats stats;
    rhei_sync_status status;
    rhei_route_info route;
    rhei_route_stats rstats;
    char **names;        /* tables (owned) */
    size_t nnames;
    rhei_sidecar_table_status *sc; /* owned */
    size_t nsc;
} prh_call;

typedef struct prh_result {
    PyObject_HEAD
    rhei_result *r;      /* NULL once moved to Arrow */
    size_t nrows, ncols;
    int side;
    PyObject *names;     /* tuple of str */
    PyObject *types;     /* tuple of str (rhei type names) */
    PyObject *decls;     /* tuple of str */
    PyObject *reason;    /* str */
    unsigned char *kind; /* per column: what text/number cells decode to (rhei_type) */
    signed char *prec;   /* per column: DECIMAL precision from the declared type, -1 unknown */
    signed char *scale;  /* per column: DECIMAL scale, -1 unknown */
} prh_result;

extern PyTypeObject prh_db_type, prh_call_type, prh_chan_type, prh_result_type, prh_astream_type;

/* errors.c-like helpers (module.c) */
PyObject *prh_raise(int code, const char *msg);
int prh_module_state_init(PyObject *m);

/* values.c */
int prh_values_init(void);
/* Converts a tuple of parameters into out[0..n). The values borrow the buffers of the tuple's
 * items (str, bytes), which the caller keeps alive; objects made here (a Decimal's digits, a
 * bytearray's copy) go to the list *keep, made on first need (*keep may be NULL). Returns -1
 * with an exception set. */
int prh_to_values(PyObject *tuple, rhei_value *out, Py_ssize_t n, PyObject **keep);
PyObject *prh_cell(const prh_result *pr, size_t row, size_t col);
void prh_column_kind(const char *decl, rhei_type t, unsigned char *kind, signed char *prec,
                     signed char *scale);

/* result.c */
PyObject *prh_result_new(rhei_result *r); /* takes ownership of r */

/* stream.c: wrappers are made without the GIL (on the thread that ran the query) */
prh_wrap *prh_wrap_new(prh_db *d, struct ArrowArrayStream *inner); /* moves *inner; NULL: OOM */
void prh_wrap_release(prh_wrap *w); /* the holder's release; any thread, GIL or not */
void prh_wrap_end_all(prh_db *d);   /* close: ends every stream still open on d */
PyObject *prh_astream_new(prh_wrap *w, const rhei_route_info *ri); /* takes w */

/* pool.c */
int prh_pool_submit(prh_call *c);  /* with the GIL; takes a reference to c */
void prh_call_run(prh_call *c);    /* without the GIL */
PyObject *prh_call_finish(prh_call *c); /* with the GIL: the outcome of a call that succeeded */
void prh_chan_complete(prh_chan *ch, prh_call *c); /* without the GIL */

#endif
