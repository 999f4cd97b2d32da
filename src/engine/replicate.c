/* replicate.c — replication control behind rhei.h: registering tables, schema evolution,
 * sync on demand and in the background, status. Changes to what is replicated are applied
 * to OLAP before the call returns, so callers can query the new shape at once. */
#include "engine_int.h"
#include "buf.h"
#include "fault.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Applies everything committed so far (used after each replication change). */
static int catch_up(rhei_db *db, rhei_sync_stats *out, rhei__err *e)
{
    return rhei__sync_catch_up(db->sync, out, e);
}

int rhei__engine_catch_up(rhei_db *db, rhei__err *e) { return catch_up(db, NULL, e); }

/* Runs one capture-side change on the writer, then applies it and refreshes routing. */
typedef int (*change_fn)(rhei__conn *w, const void *arg, rhei__err *e);

static int change(rhei_db *db, change_fn fn, const void *arg)
{
    rhei__err e;
    /* These commit on both sides: inside the caller's open transaction they would commit
     * it half-done (SQLite) or apply what it may still roll back (OLAP). */
    if (rhei__oltp_in_txn(db->oltp)) {
        rhei__err_set(&e, RHEI_MISUSE, "cannot change replication inside an open transaction:"
                      " COMMIT or ROLLBACK first");
        return rhei__engine_fail(db, &e);
    }
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    int rc = fn(w, arg, &e);
    rhei__oltp_writer_release(db->oltp);
    if (rc == RHEI_OK)
        rc = catch_up(db, NULL, &e);
    if (rc == RHEI_OK)
        rc = rhei__engine_refresh_names(db, &e);
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

typedef struct reg_args {
    const char *table;
    const rhei_column *cols;
    size_t ncols;
    const char *const *pk;
    size_t npk;
    const char *column, *decl;
} reg_args;

static int do_unregister(rhei__conn *w, const void *arg, rhei__err *e)
{
    return rhei__cdc_unregister(w, ((const reg_args *)arg)->table, 0, NULL, NULL, e);
}

static int do_add(rhei__conn *w, const void *arg, rhei__err *e)
{
    const reg_args *a = arg;
    return rhei__cdc_add_column(w, a->table, a->column, a->decl, NULL, NULL, e);
}

static int do_drop(rhei__conn *w, const void *arg, rhei__err *e)
{
    const reg_args *a = arg;
    return rhei__cdc_drop_column(w, a->table, a->column, NULL, NULL, e);
}

static int do_resync(rhei__conn *w, const void *arg, rhei__err *e)
{
    return rhei__cdc_resync(w, ((const reg_args *)arg)->table, e);
}

static int bad_args(rhei_db *db, const char *what)
{
    rhei__err e;
    rhei__err_set(&e, RHEI_MISUSE, "%s", what);
    return rhei__engine_fail(db, &e);
}

/* Tries the OLAP side of a registration before SQLite commits it: names the backend would
 * confuse with another object, then the table's creation in both modes (a SQLite file may be
 * followed by a mirror and a history engine), in a transaction rolled back at once. */
static int probe_olap(rhei_db *db, const rhei__table *t, rhei__err *e)
{
    int rc = db->vt->check_name(db->olap, t->name, e);
    for (int h = 0; h < 2 && rc == RHEI_OK; h++) {
        if ((rc = db->vt->begin(db->olap, e)) == RHEI_OK) {
            rc = db->vt->create_table(db->olap, t, h, e);
            db->vt->rollback(db->olap);
        }
    }
    return rc ? rhei__err_wrap(e, "olap cannot hold table '%s'", t->name) : RHEI_OK;
}

/* Rows the write check cannot see (invalid UTF-8, a DuckDB limit) made the first copy fail
 * (the sync marks the table failed rather than failing the cycle): the registration is
 * withdrawn like one whose OLAP side failed, rather than left half-done. */
static int first_copy_failed(rhei_db *db, const char *table, rhei__err *e)
{
    rhei_table_status ts;
    rhei__sync_table_status(db->sync, table, &ts);
    if (ts.state != RHEI_TABLE_FAILED)
        return RHEI_OK;
    return rhei__err_set(e, ts.error_code ? ts.error_code : RHEI_ERROR, "its rows cannot be"
                         " copied to olap: %s", ts.cause);
}

/* All or nothing: every rule is checked and the OLAP side tried before SQLite commits the
 * registration; should applying it still fail, the registration is withdrawn (an ordinary
 * unregistration of exactly that version, which every consumer of the log applies). */
static int register_table(rhei_db *db, const reg_args *a, rhei__err *e)
{
    rhei__table *want = NULL;
    int64_t tid = 0;
    rhei__conn *w0 = rhei__oltp_writer(db->oltp); /* waits for other threads' transactions */
    int in_txn = rhei__conn_in_txn(w0);
    rhei__oltp_writer_release(db->oltp);
    if (in_txn)
        return rhei__err_set(e, RHEI_MISUSE, "cannot register table '%s' inside an open"
                             " transaction: COMMIT or ROLLBACK first", a->table);
    rhei__conn *r = rhei__oltp_reader(db->oltp);
    int rc = rhei__cdc_plan_register(r, a->table, a->cols, a->ncols, a->pk, a->npk, &want, e);
    rhei__oltp_reader_release(db->oltp, r);
    if (rc == RHEI_OK && want)
        rc = probe_olap(db, want, e);
    if (rc == RHEI_OK && want) {
        rhei__fault_point("register.before_sqlite");
        rhei__conn *w = rhei__oltp_writer(db->oltp);
        rc = rhei__cdc_register(w, a->table, a->cols, a->ncols, a->pk, a->npk, want, &tid, e);
        rhei__oltp_writer_release(db->oltp);
    }
    rhei__table_free(want);
    if (rc)
        return rc;
    rhei__fault_point("register.before_olap");
    rc = catch_up(db, NULL, e);
    if (rc == RHEI_OK && tid)
        rc = first_copy_failed(db, a->table, e);
    if (rc != RHEI_OK && tid) {
        rhei__err ignored;
        rhei__conn *w = rhei__oltp_writer(db->oltp);
        int urc = rhei__cdc_unregister(w, a->table, tid, NULL, NULL, &ignored);
        rhei__oltp_writer_release(db->oltp);
        if (urc == RHEI_OK)
            catch_up(db, NULL, &ignored);
        rhei__err_wrap(e, "cannot register table '%s' (withdrawn%s)", a->table,
                       urc ? " in sqlite only: unregister it" : "");
    }
    return rc;
}

int rhei_register_table(rhei_db *db, const char *table, const rhei_column *cols, size_t ncols,
                        const char *const *pk, size_t npk)
{
    if (!db || !table || (cols && !ncols) || (pk && !npk) || (!cols && ncols) ||
        (!pk && npk))
        return bad_args(db, "rhei_register_table needs a table name; cols/pk need counts");
    for (size_t i = 0; cols && i < ncols; i++)
        if (!cols[i].name)
            return bad_args(db, "rhei_register_table: a column has no name (NULL)");
    for (size_t i = 0; pk && i < npk; i++)
        if (!pk[i])
            return bad_args(db, "rhei_register_table: a key column has no name (NULL)");
    reg_args a = {table, cols, ncols, pk, npk, NULL, NULL};
    rhei__err e;
    int rc = register_table(db, &a, &e);
    if (rc == RHEI_OK)
        rc = rhei__engine_refresh_names(db, &e);
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

int rhei_unregister_table(rhei_db *db, const char *table)
{
    if (!db || !table)
        return bad_args(db, "rhei_unregister_table needs a table name");
    reg_args a = {.table = table};
    return change(db, do_unregister, &a);
}

int rhei_add_column(rhei_db *db, const char *table, const char *column, const char *decl)
{
    if (!db || !table || !column || !decl)
        return bad_args(db, "rhei_add_column needs table, column and declared type");
    reg_args a = {.table = table, .column = column, .decl = decl};
    return change(db, do_add, &a);
}

int rhei_drop_column(rhei_db *db, const char *table, const char *column)
{
    if (!db || !table || !column)
        return bad_args(db, "rhei_drop_column needs table and column");
    reg_args a = {.table = table, .column = column};
    return change(db, do_drop, &a);
}

static int count_rows(rhei_db *db, const char *table, int64_t *out, rhei__err *e)
{
    rhei__buf b = RHEI__BUF_INIT;
    rhei__buf_puts(&b, "SELECT count(*) FROM ");
    rhei__buf_sqlite_ident(&b, table);
    rhei_result *r = NULL;
    int rc = rhei__buf_check(&b, e);
    if (rc) {
        rhei__buf_free(&b);
        return rc;
    }
    rhei__conn *c = rhei__oltp_reader(db->oltp);
    rc = rhei__conn_query(c, rhei__buf_str(&b), NULL, 0, &r, e);
    rhei__buf_free(&b);
    rhei__oltp_reader_release(db->oltp, c);
    if (rc == RHEI_OK)
        *out += rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return rc;
}

int rhei_initial_sync(rhei_db *db, const char *table, int64_t *out_rows)
{
    if (!db || !table)
        return bad_args(db, "rhei_initial_sync needs a table name");
    reg_args a = {.table = table};
    int rc = change(db, do_resync, &a);
    if (rc == RHEI_OK && out_rows) {
        rhei__err e;
        *out_rows = 0;
        if ((rc = count_rows(db, table, out_rows, &e)) != RHEI_OK)
            return rhei__engine_fail(db, &e);
    }
    return rc;
}

/* One allocation: the pointer array, then the names back to back, so one free releases it. */
struct rhei_table_list {
    size_t n;
    const char **names;
};

int rhei_initial_sync_all(rhei_db *db, int64_t *out_rows)
{
    rhei_table_list *l = NULL;
    int rc = rhei_tables(db, &l);
    int64_t total = 0;
    for (size_t i = 0; rc == RHEI_OK && i < l->n; i++) {
        int64_t rows = 0;
        rc = rhei_initial_sync(db, l->names[i], &rows);
        total += rows;
    }
    rhei_table_list_free(l);
    if (rc == RHEI_OK && out_rows)
        *out_rows = total;
    return rc;
}

int rhei_tables(rhei_db *db, rhei_table_list **out)
{
    if (out)
        *out = NULL;
    if (!db || !out)
        return bad_args(db, "rhei_tables needs a handle and an output");
    rhei__err e;
    int rc = rhei__engine_refresh_names(db, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    pthread_mutex_lock(&db->names_mu);
    size_t total = db->nnames + db->ndetached;
    size_t bytes = sizeof(rhei_table_list) + total * sizeof(char *);
    for (size_t i = 0; i < total; i++)
        bytes += strlen(db->names[i]) + 1;
    rhei_table_list *l = rhei__malloc(bytes);
    if (l) {
        l->n = total;
        l->names = (const char **)(l + 1);
        char *p = (char *)(l->names + l->n);
        for (size_t i = 0; i < l->n; i++) {
            size_t len = strlen(db->names[i]) + 1;
            memcpy(p, db->names[i], len);
            l->names[i] = p;
            p += len;
        }
    }
    pthread_mutex_unlock(&db->names_mu);
    if (!l) {
        rhei__err_set(&e, RHEI_NOMEM, "cannot list tables: out of memory");
        return rhei__engine_fail(db, &e);
    }
    *out = l;
    return RHEI_OK;
}

size_t rhei_table_list_count(const rhei_table_list *l)
{
    return l ? l->n : 0;
}

const char *rhei_table_list_name(const rhei_table_list *l, size_t i)
{
    return l && i < l->n ? l->names[i] : NULL;
}

void rhei_table_list_free(rhei_table_list *l)
{
    rhei__free(l);
}

/* A failed table (see rhei.h, "Failure model") as an error naming it. */
static int failed_table_error(rhei_db *db, rhei__err *e)
{
    char name[256];
    rhei_table_status ts;
    if (!rhei__sync_first_failed(db->sync, name, sizeof name, &ts))
        return RHEI_OK;
    return rhei__err_set(e, ts.error_code ? ts.error_code : RHEI_ERROR,
                         "table '%s' is not"
                         " replicated since change %lld (fix its rows in SQLite, then resync"
                         " it: rhei_resync_table, `rh resync`): %s",
                         name, (long long)ts.failed_after, ts.cause);
}

int rhei_sync_now(rhei_db *db, rhei_sync_stats *out)
{
    if (!db)
        return bad_args(db, "rhei_sync_now needs a handle");
    rhei__err e;
    rhei_sync_stats st;
    int rc = catch_up(db, &st, &e);
    if (out)
        *out = rc ? (rhei_sync_stats){0} : st;
    if (rc == RHEI_OK)
        rc = failed_table_error(db, &e); /* the other tables were applied all the same */
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

int rhei_resync_table(rhei_db *db, const char *table)
{
    if (!db || !table)
        return bad_args(db, "rhei_resync_table needs a handle and a table name");
    reg_args a = {.table = table};
    int rc = change(db, do_resync, &a);
    if (rc)
        return rc;
    rhei_table_status ts;
    rhei__sync_table_status(db->sync, table, &ts);
    if (ts.state != RHEI_TABLE_FAILED)
        return RHEI_OK;
    rhei__err e;
    rhei__err_set(&e, ts.error_code ? ts.error_code : RHEI_ERROR, "cannot resync table '%s',"
                  " it stays failed: %s", table, ts.cause);
    return rhei__engine_fail(db, &e);
}

int rhei_start_sync(rhei_db *db, int64_t interval_ms)
{
    if (!db)
        return bad_args(db, "rhei_start_sync needs a handle");
    rhei__err e;
    int rc = rhei__sync_start(db->sync, interval_ms, &e);
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

int rhei_stop_sync(rhei_db *db)
{
    if (!db)
        return bad_args(db, "rhei_stop_sync needs a handle");
    rhei__sync_stop(db->sync);
    return RHEI_OK;
}

int rhei_sync_status_get(rhei_db *db, rhei_sync_status *out)
{
    if (!db || !out)
        return bad_args(db, "rhei_sync_status_get needs a handle and an output");
    rhei__sync_status(db->sync, out);
    return RHEI_OK;
}

int rhei_table_pending(rhei_db *db, const char *table, int64_t *out_events)
{
    if (!db || !table || !out_events)
        return bad_args(db, "rhei_table_pending needs a handle, a table and an output");
    rhei__err e;
    rhei__conn *r = rhei__oltp_reader(db->oltp);
    int rc = rhei__cdc_pending(r, table, rhei__sync_applied_now(db->sync), out_events, &e);
    rhei__oltp_reader_release(db->oltp, r);
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

int rhei_table_status_get(rhei_db *db, const char *table, rhei_table_status *out)
{
    if (!db || !table || !out)
        return bad_args(db, "rhei_table_status_get needs a handle, a table and an output");
    rhei__err e;
    memset(out, 0, sizeof *out);
    int rc = rhei__sync_check_schema_now(db->sync, &e);
    if (rc == RHEI_OK)
        rc = rhei__engine_refresh_names(db, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    int found = 0;
    pthread_mutex_lock(&db->names_mu);
    for (size_t i = 0; i < db->nnames + db->ndetached && !found; i++)
        found = strcasecmp(db->names[i], table) == 0;
    pthread_mutex_unlock(&db->names_mu);
    if (!found) {
        rhei__err_set(&e, RHEI_NOTFOUND, "table '%s' is not registered", table);
        return rhei__engine_fail(db, &e);
    }
    /* DDL outside rhei makes a failure moot: registering the table anew repairs both. */
    char why[sizeof out->cause];
    if (rhei__sync_detached(db->sync, table, why, sizeof why)) {
        out->state = RHEI_TABLE_DETACHED;
        memcpy(out->cause, why, sizeof why);
    } else {
        rhei__sync_table_status(db->sync, table, out); /* FAILED, or all zero */
    }
    return RHEI_OK;
}
