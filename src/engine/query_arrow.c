/* query_arrow.c — routed reads as an Arrow C stream (rhei_query_arrow), and their schema
 * alone (rhei_query_arrow_schema). Routing, hints, consistency and fallbacks are rhei_query's
 * (query.c); DuckDB streams batch by batch with every column named and typed before the
 * first batch as rhei_query would conform it (conform.c), so both calls give the same schema
 * and values; SQLite's answer is materialised and exported as rhei_result_to_arrow does. A
 * cancel token stops either side's read: the OLAP backend interrupts its own connection,
 * SQLite's read checks the token every ~1000 VM steps. */
#include "cancel.h"
#include "engine_int.h"
#include "conform.h"
#include "mem.h"
#include "result.h"
#include <string.h>

/* The OLAP stream's columns: SQLite's names and, through conform's rule, types. */
static int shape_columns(void *ud, rhei__olap_col *cols, size_t n, rhei__err *e)
{
    const rhei_result *shape = ud;
    (void)e;
    if (!shape || shape->ncols != n)
        return RHEI_OK; /* SQLite cannot describe it (DuckDB dialect): DuckDB's names, types */
    for (size_t i = 0; i < n; i++) {
        cols[i].name = shape->cols[i].name ? shape->cols[i].name : "";
        rhei__conform_olap_type(shape->cols[i].decl, &cols[i].type, &cols[i].precision,
                                &cols[i].scale);
    }
    return RHEI_OK;
}

/* DuckDB's answer streamed into the ArrowArrayStream ud points to (rhei__query_serve has
 * waited for the sync under RHEI_STRONG). */
static int run_olap(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                    rhei_cancel *cancel, void *ud, rhei__err *e)
{
    char *text = NULL;
    int rc = rhei__query_olap_text(sql, &text, e);
    if (rc)
        return rc;
    rhei_result *shape = rhei__query_shape(db, sql);
    rc = db->vt->query_arrow(db->olap, text ? text : sql, params, nparams, shape_columns, shape,
                             cancel, ud, e);
    rhei_result_free(shape);
    rhei__free(text);
    return rc;
}

/* SQLite's result r (consumed), conformed and exported. */
static int export_oltp(const char *sql, rhei_result *r, const rhei_route_info *ri,
                       struct ArrowArrayStream *out, rhei__err *e)
{
    int rc = rhei__conform(r, NULL, e);
    if (rc) {
        rhei_result_free(r);
        return rc;
    }
    r->side = ri->side;
    r->reason = ri->reason;
    rc = rhei_result_to_arrow(r, out); /* consumes r */
    if (rc)
        rhei__err_set(e, rc, "cannot export the result of '%.60s' as Arrow", sql);
    return rc;
}

/* SQLite's answer (at most max_rows rows, < 0: all) as a stream. */
static int run_oltp(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                    const rhei_route_info *ri, int64_t max_rows, struct ArrowArrayStream *out,
                    rhei__err *e)
{
    rhei_result *r = NULL;
    int rc = rhei__query_oltp(db, sql, params, nparams, max_rows, NULL, &r, e);
    if (rc) {
        rhei_result_free(r);
        return rc;
    }
    return export_oltp(sql, r, ri, out, e);
}

int rhei_query_arrow(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                     const rhei_query_opts *opts, rhei_route_info *out_route,
                     struct ArrowArrayStream *out)
{
    return rhei_query_arrow_ex(db, sql, params, nparams, opts, NULL, out_route, out);
}

int rhei_query_arrow_ex(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                        const rhei_query_opts *opts, rhei_cancel *cancel,
                        rhei_route_info *out_route, struct ArrowArrayStream *out)
{
    rhei__err e;
    rhei__err_clear(&e);
    if (!out)
        return RHEI_MISUSE;
    memset(out, 0, sizeof *out);
    if (out_route)
        memset(out_route, 0, sizeof *out_route);
    int64_t t0 = rhei__now_us();
    rhei_query_opts o;
    rhei_route_info ri;
    int rc = rhei__query_plan(db, "rhei_query_arrow", sql, params, nparams, opts, &o, &ri, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    int fallback;
    rhei_result *oltp = NULL;
    rc = rhei__query_serve(db, sql, params, nparams, &o, cancel, run_olap, out, &ri, &oltp,
                           &fallback, &e);
    if (ri.side == RHEI_SIDE_OLTP && rc == RHEI_OK)
        rc = export_oltp(sql, oltp, &ri, out, &e); /* consumes oltp */
    else
        rhei_result_free(oltp);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rhei__engine_fail(db, &e);
    }
    if (out_route)
        *out_route = ri;
    rhei__query_count(db, ri.side, fallback, ri.reason, t0);
    return RHEI_OK;
}

/* DuckDB's schema for sql, from the prepared statement (run_olap's shape and wait). */
static int describe_olap(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                         const rhei_query_opts *o, struct ArrowSchema *out, rhei__err *e)
{
    int rc = RHEI_OK;
    if (o->consistency == RHEI_STRONG)
        rc = rhei__sync_catch_up(db->sync, NULL, e);
    if (rc)
        return rc;
    char *text = NULL; /* the stream's own text, so its prepared statement is the one kept */
    if ((rc = rhei__query_olap_text(sql, &text, e)))
        return rc;
    rhei_result *shape = rhei__query_shape(db, sql);
    rc = db->vt->describe_arrow(db->olap, text ? text : sql, params, nparams, shape_columns, shape,
                                out, e);
    rhei_result_free(shape);
    rhei__free(text);
    return rc;
}

/* SQLite's schema for sql: its answer's first row read and typed as rhei_query_arrow types
 * the whole answer. */
static int describe_oltp(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                         const rhei_route_info *ri, struct ArrowSchema *out, rhei__err *e)
{
    struct ArrowArrayStream st;
    int rc = run_oltp(db, sql, params, nparams, ri, 1, &st, e);
    if (rc)
        return rc;
    if (st.get_schema(&st, out) != 0)
        rc = rhei__err_nomem(e);
    st.release(&st);
    return rc;
}

int rhei_query_arrow_schema(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                            const rhei_query_opts *opts, rhei_route_info *out_route,
                            struct ArrowSchema *out)
{
    rhei__err e;
    rhei__err_clear(&e);
    if (!out)
        return RHEI_MISUSE;
    memset(out, 0, sizeof *out);
    if (out_route)
        memset(out_route, 0, sizeof *out_route);
    rhei_query_opts o;
    rhei_route_info ri;
    int rc =
        rhei__query_plan(db, "rhei_query_arrow_schema", sql, params, nparams, opts, &o, &ri, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    if (ri.side == RHEI_SIDE_OLAP) {
        rc = describe_olap(db, sql, params, nparams, &o, out, &e);
        if (rhei__query_fallback(db, sql, rc, &o, &ri))
            rhei__err_clear(&e);
    }
    if (ri.side == RHEI_SIDE_OLTP)
        rc = describe_oltp(db, sql, params, nparams, &ri, out, &e);
    if (rc) {
        if (out->release)
            out->release(out);
        memset(out, 0, sizeof *out);
        return rhei__engine_fail(db, &e);
    }
    if (out_route)
        *out_route = ri;
    return RHEI_OK;
}
