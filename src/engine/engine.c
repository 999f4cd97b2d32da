/* engine.c — the facade behind rhei.h: opening and closing, writes, replication control and
 * status. Reads and routing live in query.c. Every public entry point turns an internal
 * rhei__err into this thread's last error on the handle. */
#include "engine_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int rhei__engine_check_params(const char *what, const rhei_value *params, size_t n,
                              rhei__err *e)
{
    if (!params && n)
        return rhei__err_set(e, RHEI_MISUSE, "%s: params is NULL but nparams is %zu", what, n);
    for (size_t i = 0; i < n; i++) {
        const rhei_value *v = &params[i];
        if ((unsigned)v->type > RHEI_TYPE_TIMESTAMP)
            return rhei__err_set(e, RHEI_MISUSE, "%s: parameter %zu has no valid type (%d)",
                                 what, i + 1, (int)v->type);
        int bytes = v->type == RHEI_TYPE_TEXT || v->type == RHEI_TYPE_BLOB ||
                    v->type == RHEI_TYPE_DECIMAL;
        if (bytes && !v->s && v->n)
            return rhei__err_set(e, RHEI_MISUSE, "%s: parameter %zu has length %zu but no"
                                 " bytes (s is NULL)", what, i + 1, v->n);
    }
    return RHEI_OK;
}

static int misuse(const rhei_db *db, const char *what)
{
    rhei__err e;
    rhei__err_set(&e, RHEI_MISUSE, "%s", what);
    return rhei__engine_fail(db, &e);
}

static void free_names(rhei_db *db)
{
    for (size_t i = 0; i < db->nnames + db->ndetached; i++)
        rhei__free(db->names[i]);
    rhei__free(db->names);
    db->names = NULL;
    db->nnames = db->ndetached = 0;
}

int rhei__engine_refresh_names(rhei_db *db, rhei__err *e)
{
    rhei__catalog cat;
    int64_t cookie = 0;
    /* read first: a table failing while the list is made makes the next route read it again */
    uint64_t behind_gen = rhei__sync_behind_gen(db->sync);
    rhei__conn *r = rhei__oltp_reader(db->oltp);
    int rc = rhei__catalog_load(r, &cat, e);
    if (rc == RHEI_OK && rhei__cdc_schema_version(r, &cookie, e)) {
        rhei__catalog_free(&cat);
        rc = e->code;
    }
    rhei__oltp_reader_release(db->oltp, r);
    if (rc)
        return rc;
    const rhei__table **list = NULL;
    size_t n = 0;
    char **names = NULL;
    rc = rhei__catalog_active_list(&cat, &list, &n, e);
    if (rc == RHEI_OK && !(names = rhei__calloc(n ? n : 1, sizeof *names)))
        rc = rhei__err_nomem(e);
    /* Healthy tables first (the router reads names[0 .. nnames)), then those whose OLAP copy
     * is behind: failed or detached, their reads go to SQLite, which has their rows. */
    size_t healthy = 0, at[2] = {0, 0};
    unsigned char *behind = rc == RHEI_OK ? rhei__calloc(n ? n : 1, 1) : NULL;
    if (rc == RHEI_OK && !behind)
        rc = rhei__err_nomem(e);
    for (size_t i = 0; rc == RHEI_OK && i < n; i++) {
        behind[i] = (unsigned char)rhei__sync_behind(db->sync, list[i]->name);
        healthy += !behind[i];
    }
    at[1] = healthy;
    for (size_t i = 0; rc == RHEI_OK && i < n; i++) {
        size_t *slot = &at[behind[i]];
        if (!(names[(*slot)++] = rhei__strdup(list[i]->name)))
            rc = rhei__err_nomem(e);
    }
    rhei__free(behind);
    rhei__free(list);
    rhei__catalog_free(&cat);
    if (rc) {
        for (size_t i = 0; names && i < n; i++)
            rhei__free(names[i]);
        rhei__free(names);
        return rc;
    }
    pthread_mutex_lock(&db->names_mu);
    /* The same list keeps the routes cached for it: a refresh once a second must not make
     * every cached text be classified again. */
    int same = db->names && cookie == db->names_cookie && healthy == db->nnames &&
               n - healthy == db->ndetached;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(names[i], db->names[i]) == 0;
    free_names(db);
    db->names = names;
    db->nnames = healthy;
    db->ndetached = n - healthy;
    db->names_at_us = rhei__now_us();
    db->names_behind_gen = behind_gen;
    db->names_cookie = cookie;
    db->names_gen += !same;
    pthread_mutex_unlock(&db->names_mu);
    return RHEI_OK;
}

/* What the SQL form rhei_as_of('t', ts) may read: a followed table up to its watermark,
 * any table up to now (like rhei_query_as_of). Runs on DuckDB's threads. */
static int as_of_limit(void *ud, const char *table, int64_t *out_us, char *why, size_t size)
{
    rhei_db *db = ud;
    int64_t wm = 0;
    if (db->sidecar && rhei__sidecar_watermark(db->sidecar, table, &wm) == RHEI_OK) {
        *out_us = wm;
        snprintf(why, size, "the sidecar has applied its source only up to %lld",
                 (long long)wm);
        return 1;
    }
    *out_us = rhei__now_us();
    snprintf(why, size, "that moment is in the future");
    return 1;
}

static int open_sides(rhei_db *db, rhei__err *e)
{
    const rhei_config *c = db->cfg;
    rhei__oltp_opts oo = {c->oltp_path, c->synchronous_full, (int)c->read_pool_size,
                          (int)c->busy_timeout_ms, c->oltp_mmap_mb};
    int rc = rhei__oltp_open(&oo, &db->oltp, e);
    if (rc)
        return rc;
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    rc = rhei__cdc_install(w, e);
    rhei__oltp_writer_release(db->oltp);
    if (rc)
        return rc;
    db->vt = &rhei__olap_duckdb;
    rhei__olap_opts ao = {c->olap_path, (int)c->olap_threads, c->olap_memory_limit,
                          (int)c->read_pool_size, c->olap_external_access};
    if ((rc = db->vt->open(&ao, &db->olap, e)) != RHEI_OK)
        return rhei__err_wrap(e, "cannot open olap store '%s'", c->olap_path);
    db->vt->set_as_of_limit(db->olap, as_of_limit, db);
    int volatile_olap = strcmp(c->olap_path, ":memory:") == 0;
    char consumer[600];
    static _Atomic long seq;
    if (volatile_olap) /* unique per engine; the pid lets others reap it after a crash */
        snprintf(consumer, sizeof consumer, "mem:%ld:%ld", (long)getpid(), ++seq);
    else
        snprintf(consumer, sizeof consumer, "duckdb:%.580s", c->olap_path);
    rhei__sync_opts so = {db->history, (size_t)c->batch_size, volatile_olap, consumer};
    if ((rc = rhei__sync_new(db->oltp, db->vt, db->olap, &so, &db->sync, e)) != RHEI_OK)
        return rc;
    if ((rc = rhei__sync_recover(db->sync, e)) != RHEI_OK)
        return rc;
    if ((rc = rhei__engine_refresh_names(db, e)) != RHEI_OK)
        return rc;
    if ((rc = rhei__engine_sidecar_open(db, e)) != RHEI_OK)
        return rc;
    if (c->sync_interval_ms > 0)
        rc = rhei__sync_start(db->sync, c->sync_interval_ms, e);
    return rc;
}

static void destroy(rhei_db *db)
{
    rhei__sidecar_free(db->sidecar); /* first: it writes OLAP under the sync's lock */
    rhei__sync_free(db->sync);
    if (db->olap)
        db->vt->close(db->olap);
    rhei__oltp_close(db->oltp);
    free_names(db);
    rhei_config_free(db->cfg);
    for (size_t i = 0; i < sizeof db->rcache / sizeof db->rcache[0]; i++)
        rhei__free(db->rcache[i].sql);
    pthread_mutex_destroy(&db->names_mu);
    pthread_mutex_destroy(&db->count_mu);
    pthread_mutex_destroy(&db->rcache_mu);
    rhei__errmsg_unregister(db);
    rhei__free(db);
    rhei__big_release(); /* the last engine closed: no more results to make */
}

int rhei_open(const rhei_config *cfg, rhei_db **out)
{
    rhei__err e;
    rhei__err_clear(&e);
    if (!out)
        return RHEI_MISUSE;
    *out = NULL;
    if (!cfg || !cfg->oltp_path) {
        rhei__err_set(&e, RHEI_CONFIG, "config key 'oltp_path' is required");
        return rhei__engine_fail(NULL, &e);
    }
    rhei_db *db = rhei__calloc(1, sizeof *db);
    if (!db) {
        rhei__err_nomem(&e);
        return rhei__engine_fail(NULL, &e);
    }
    pthread_mutex_init(&db->names_mu, NULL);
    pthread_mutex_init(&db->count_mu, NULL);
    pthread_mutex_init(&db->rcache_mu, NULL);
    rhei__big_hold(); /* results' kept mappings live while an engine is open (destroy) */
    int rc = rhei__errmsg_register(db);
    if (rc == RHEI_OK)
        rc = rhei__config_copy(cfg, &db->cfg);
    if (rc) {
        rhei__err_set(&e, rc, "%s", rc == RHEI_NOMEM ? "out of memory" : "invalid config");
    } else {
        db->history = db->cfg->sync_mode == RHEI__SYNC_HISTORY;
        rc = open_sides(db, &e);
    }
    if (rc) {
        destroy(db);
        return rhei__engine_fail(NULL, &e);
    }
    *out = db;
    return RHEI_OK;
}

int rhei_open_path(const char *oltp_path, rhei_db **out)
{
    if (!oltp_path || !out) {
        rhei__err e;
        rhei__err_set(&e, RHEI_MISUSE, "rhei_open_path needs a path and an output");
        if (out)
            *out = NULL;
        return rhei__engine_fail(NULL, &e);
    }
    rhei_config *cfg = NULL;
    int rc = rhei_config_new(&cfg);
    if (rc == RHEI_OK)
        rc = rhei_config_set(cfg, "oltp_path", oltp_path ? oltp_path : "");
    if (rc == RHEI_OK) {
        rc = rhei_open(cfg, out);
    } else {
        rhei__err e;
        rhei__err_set(&e, rc, "%s", cfg ? rhei_config_errmsg(cfg) : "out of memory");
        rhei__engine_fail(NULL, &e);
        if (out)
            *out = NULL;
    }
    rhei_config_free(cfg);
    return rc;
}

int rhei_close(rhei_db *db)
{
    if (!db)
        return RHEI_OK;
    rhei__err e, etx;
    if (db->sidecar)
        rhei__sidecar_stop(db->sidecar);
    rhei__sync_stop(db->sync);
    /* A transaction left open by rhei_execute("BEGIN") would hold the writer forever. */
    int rolled = 0;
    int rctx = rhei__oltp_rollback_open(db->oltp, &rolled, &etx);
    if (rctx == RHEI_OK && rolled)
        rctx = rhei__err_set(&etx, RHEI_MISUSE, "rhei_close: a transaction was still open"
                             " (BEGIN without COMMIT or ROLLBACK); it was rolled back");
    /* a durable store then resumes with nothing pending */
    int rc = rhei__sync_catch_up(db->sync, NULL, &e);
    if (rc == RHEI_OK)
        rc = db->vt->maintain(db->olap, &e);
    rhei__err e2;
    int rc2 = rhei__sync_detach(db->sync, &e2);
    if (rc == RHEI_OK && rc2 != RHEI_OK) {
        rc = rc2;
        e = e2;
    }
    if (rctx) { /* the rolled-back transaction is reported first: the caller lost work */
        rc = rctx;
        e = etx;
    }
    if (rc)
        rhei__engine_fail(NULL, &e);
    destroy(db);
    return rc;
}

/* --- writes ------------------------------------------------------------------------------ */

int rhei_execute(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                 int64_t *out_changes)
{
    if (!db || !sql)
        return misuse(db, "rhei_execute needs a handle and SQL text");
    if (db->sidecar_only)
        return rhei__engine_refuse_pure_sidecar(db, "cannot execute");
    rhei__err e;
    if (rhei__engine_check_params("rhei_execute", params, nparams, &e) ||
        rhei__engine_check_text(sql, params, nparams, &e))
        return rhei__engine_fail(db, &e);
    int handled = 0;
    int rc = rhei__engine_ddl(db, sql, params, nparams, out_changes, NULL, &e, &handled);
    if (handled)
        return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    rc = rhei__conn_exec(w, sql, params, nparams, out_changes, &e);
    rhei__oltp_writer_release(db->oltp);
    return rc ? rhei__engine_fail(db, &e) : RHEI_OK;
}

/* Statement i of a batch; every failure names it and says nothing was applied. */
static int batch_run(rhei__conn *w, const rhei_statement *stmts, size_t n, int64_t *total,
                     rhei__err *e)
{
    int64_t one = 0;
    for (size_t i = 0; i < n; i++) {
        if (!stmts[i].sql)
            return rhei__err_set(e, RHEI_MISUSE, "statement %zu of the batch has no SQL text,"
                                 " nothing was applied", i + 1);
        if (rhei__engine_check_params("rhei_execute_batch", stmts[i].params, stmts[i].nparams,
                                      e))
            return rhei__err_wrap(e, "statement %zu, nothing was applied", i + 1);
        int rc = rhei__conn_exec(w, stmts[i].sql, stmts[i].params, stmts[i].nparams, &one, e);
        if (rc)
            return rhei__err_wrap(e, "statement %zu of the batch failed, nothing was applied",
                                  i + 1);
        *total += one;
    }
    return RHEI_OK;
}

int rhei_execute_batch(rhei_db *db, const rhei_statement *stmts, size_t n, int64_t *out_changes)
{
    if (!db || (!stmts && n))
        return misuse(db, "rhei_execute_batch needs a handle and statements");
    if (db->sidecar_only)
        return rhei__engine_refuse_pure_sidecar(db, "cannot execute");
    rhei__err e, ignored;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (!stmts[i].sql)
            return misuse(db, "rhei_execute_batch: a statement has no SQL text");
        else if (rhei__engine_check_text(stmts[i].sql, stmts[i].params, stmts[i].nparams, &e) ||
                 rhei__engine_ddl_in_batch(db, stmts[i].sql, &e) != RHEI_OK)
            return rhei__engine_fail(db, &e);
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    /* Inside the caller's own transaction the batch is a savepoint in it: all or nothing
     * within that transaction, which the caller still commits or rolls back. */
    int nested = rhei__conn_in_txn(w);
    int rc = rhei__conn_exec(w, nested ? "SAVEPOINT rhei_batch" : "BEGIN IMMEDIATE", NULL, 0,
                             NULL, &e);
    int began = rc == RHEI_OK;
    if (rc == RHEI_OK)
        rc = batch_run(w, stmts, n, &total, &e);
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(w, nested ? "RELEASE rhei_batch" : "COMMIT", NULL, 0, NULL, &e);
    if (rc && began && nested) { /* undo the batch only; SQLite may have ended it all */
        if (!rhei__conn_in_txn(w))
            rhei__err_wrap(&e, "and sqlite rolled back the enclosing transaction");
        else if (rhei__conn_exec(w, "ROLLBACK TO rhei_batch", NULL, 0, NULL, &ignored) ==
                 RHEI_OK)
            rhei__conn_exec(w, "RELEASE rhei_batch", NULL, 0, NULL, &ignored);
    } else if (rc && began && rhei__conn_in_txn(w)) {
        rhei__conn_exec(w, "ROLLBACK", NULL, 0, NULL, &ignored); /* ours: BEGIN above */
    }
    rhei__oltp_writer_release(db->oltp);
    if (rc)
        return rhei__engine_fail(db, &e);
    if (out_changes)
        *out_changes = total;
    return RHEI_OK;
}
