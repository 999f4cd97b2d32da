/* duckdb.c — the DuckDB OLAP backend: lifecycle, transactions, durable state, DDL and the
 * shared SQL-text helpers. Applying batches is in duckdb_apply.c, reads in duckdb_query.c.
 * Invariants: data, _rhei_kv_log and _rhei_catalog change only inside the write transaction,
 * so one DuckDB commit makes a cycle durable. */
#include "duckdb_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- errors ------------------------------------------------------------------------------ */

static int code_of_type(duckdb_error_type t, int user)
{
    switch (t) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED:
    case DUCKDB_ERROR_NOT_IMPLEMENTED:
        return user ? RHEI_SQL : RHEI_OLAP;
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_MISMATCH_TYPE:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_DECIMAL:
        return RHEI_TYPE;
    case DUCKDB_ERROR_OUT_OF_RANGE:
        return RHEI_RANGE;
    case DUCKDB_ERROR_INTERRUPT:
        return RHEI_INTERRUPTED;
    case DUCKDB_ERROR_CONSTRAINT:
        return RHEI_CONSTRAINT;
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_PERMISSION:
        return RHEI_IO;
    case DUCKDB_ERROR_OUT_OF_MEMORY:
        return RHEI_NOMEM;
    default:
        return RHEI_OLAP;
    }
}

/* Prepare and pending errors come as text only; DuckDB prefixes the class ("Binder Error:"). */
static duckdb_error_type type_of_msg(const char *m)
{
    static const struct { const char *prefix; duckdb_error_type t; } map[] = {
        {"Parser Error", DUCKDB_ERROR_PARSER},
        {"Syntax Error", DUCKDB_ERROR_SYNTAX},
        {"Binder Error", DUCKDB_ERROR_BINDER},
        {"Catalog Error", DUCKDB_ERROR_CATALOG},
        {"Conversion Error", DUCKDB_ERROR_CONVERSION},
        {"Mismatch Type Error", DUCKDB_ERROR_MISMATCH_TYPE},
        {"Out of Range Error", DUCKDB_ERROR_OUT_OF_RANGE},
        {"INTERRUPT Error", DUCKDB_ERROR_INTERRUPT},
        {"Constraint Error", DUCKDB_ERROR_CONSTRAINT},
        {"IO Error", DUCKDB_ERROR_IO},
        {"Out of Memory Error", DUCKDB_ERROR_OUT_OF_MEMORY},
        {"Invalid Input Error", DUCKDB_ERROR_PARSER}, /* e.g. several statements at once */
        {"Parameter Not Resolved Error", DUCKDB_ERROR_PARAMETER_NOT_RESOLVED},
    };
    for (size_t i = 0; m && i < sizeof map / sizeof map[0]; i++)
        if (strncmp(m, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].t;
    return DUCKDB_ERROR_INVALID;
}

/* Records "duckdb: <msg>". user != 0: the SQL came from the caller, so parser/binder errors
 * are RHEI_SQL; a missing table is RHEI_NOTFOUND either way. */
int rhei__duck_err(rhei__err *e, int user, duckdb_error_type t, const char *msg)
{
    if (!msg)
        msg = "unknown error";
    if (t == DUCKDB_ERROR_INVALID)
        t = type_of_msg(msg);
    int code = code_of_type(t, user);
    if (t == DUCKDB_ERROR_CATALOG && strstr(msg, "does not exist"))
        code = RHEI_NOTFOUND;
    if (strstr(msg, RHEI__DUCK_RANGE_MARK)) /* the rhei_as_of guard (duckdb_asof.c) */
        code = RHEI_RANGE;
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    return rhei__err_set(e, code, "duckdb: %.*s", (int)n, msg);
}

int rhei__duck_result_err(rhei__err *e, int user, duckdb_result *r)
{
    return rhei__duck_err(e, user, duckdb_result_error_type(r), duckdb_result_error(r));
}

/* Runs one internal statement on the write connection. */
int rhei__duck_exec(rhei__olap *o, const char *sql, rhei__err *e)
{
    duckdb_result r;
    int rc = RHEI_OK;
    if (duckdb_query(o->w, sql, &r) != DuckDBSuccess)
        rc = rhei__duck_result_err(e, 0, &r);
    duckdb_destroy_result(&r);
    return rc;
}

int rhei__duck_exec_buf(rhei__olap *o, rhei__err *e)
{
    int rc = rhei__buf_check(&o->sql, e);
    return rc ? rc : rhei__duck_exec(o, rhei__buf_str(&o->sql), e);
}

/* Runs a query returning one row of n BIGINT-compatible columns (NULL reads as 0). */
int rhei__duck_query_row(rhei__olap *o, const char *sql, int64_t *out, size_t n, rhei__err *e)
{
    duckdb_result r;
    int rc = RHEI_OK;
    memset(out, 0, n * sizeof *out);
    if (duckdb_query(o->w, sql, &r) != DuckDBSuccess) {
        rc = rhei__duck_result_err(e, 0, &r);
        duckdb_destroy_result(&r);
        return rc;
    }
    duckdb_data_chunk ch = duckdb_fetch_chunk(r);
    if (ch && duckdb_data_chunk_get_size(ch) > 0) {
        for (size_t c = 0; c < n && c < duckdb_data_chunk_get_column_count(ch); c++) {
            duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
            uint64_t *valid = duckdb_vector_get_validity(v);
            if (!valid || (valid[0] & 1))
                out[c] = ((int64_t *)duckdb_vector_get_data(v))[0];
        }
    }
    duckdb_destroy_data_chunk(&ch);
    duckdb_destroy_result(&r);
    return rc;
}

/* ---- names and types --------------------------------------------------------------------- */

void rhei__duck_dec_ps(const rhei__colspec *c, int *p, int *s)
{
    *p = c->precision;
    *s = c->scale;
    if (*p < 1) { /* no precision given: the type map's default */
        *p = 18;
        *s = 3;
    }
    if (*p > 38)
        *p = 38; /* DuckDB's widest DECIMAL */
    if (*s < 0)
        *s = 0;
    if (*s > *p)
        *s = *p;
}

void rhei__duck_put_type(rhei__buf *b, const rhei__colspec *c)
{
    int p, s;
    switch (c->type) {
    case RHEI_TYPE_INTEGER: rhei__buf_puts(b, "BIGINT"); break;
    case RHEI_TYPE_REAL: rhei__buf_puts(b, "DOUBLE"); break;
    case RHEI_TYPE_TEXT: rhei__buf_puts(b, "VARCHAR"); break;
    case RHEI_TYPE_BOOLEAN: rhei__buf_puts(b, "BOOLEAN"); break;
    case RHEI_TYPE_DATE: rhei__buf_puts(b, "DATE"); break;
    case RHEI_TYPE_TIMESTAMP: rhei__buf_puts(b, "TIMESTAMP"); break;
    case RHEI_TYPE_DECIMAL:
        rhei__duck_dec_ps(c, &p, &s);
        rhei__buf_printf(b, "DECIMAL(%d,%d)", p, s);
        break;
    default: rhei__buf_puts(b, "BLOB"); break;
    }
}

/* Raw name of a table's storage object: "<name>" (mirror) or "<name>_history"; NULL on OOM. */
char *rhei__duck_target_dup(const char *name, int history)
{
    size_t n = strlen(name);
    char *s = rhei__malloc(n + sizeof "_history");
    if (s) {
        memcpy(s, name, n);
        strcpy(s + n, history ? "_history" : "");
    }
    return s;
}

void rhei__duck_put_target(rhei__buf *b, const char *name, int history)
{
    char *t = rhei__duck_target_dup(name, history);
    if (t)
        rhei__buf_ident(b, t);
    else
        b->failed = RHEI_NOMEM;
    rhei__free(t);
}

/* "c1" T1, "c2" T2 ... [, history columns] */
void rhei__duck_put_coldefs(rhei__buf *b, const rhei__table *t, int history)
{
    for (size_t i = 0; i < t->ncols; i++) {
        if (i)
            rhei__buf_puts(b, ", ");
        rhei__buf_ident(b, t->cols[i].name);
        rhei__buf_puts(b, " ");
        rhei__duck_put_type(b, &t->cols[i]);
    }
    if (history)
        rhei__buf_puts(b, ", _rhei_valid_from BIGINT NOT NULL, _rhei_valid_to BIGINT");
}

/* "c1", "c2" ... */
static void put_cols(rhei__buf *b, const rhei__table *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        rhei__buf_puts(b, i ? ", " : "");
        rhei__buf_ident(b, t->cols[i].name);
    }
}

/* ---- open / close ------------------------------------------------------------------------ */


/* Point-in-time reads: rhei_as_of('t', ts) with ts in microseconds (BIGINT, also what an
 * untyped parameter binds as) or a TIMESTAMP (UTC). A TEMP macro, made on every connection:
 * a typed overload cannot be stored in a file of DuckDB's default storage version, and a
 * TIMESTAMPTZ overload would make untyped parameters ambiguous. */
static const char as_of_macro[] =
    "CREATE OR REPLACE TEMP MACRO rhei_as_of"
    " (tbl, ts_us) AS TABLE (SELECT * EXCLUDE (_rhei_valid_from, _rhei_valid_to)"
    " FROM query_table('\"' || tbl || '_history\"') WHERE _rhei_as_of_check(tbl, ts_us)"
    " AND _rhei_valid_from <= ts_us AND (_rhei_valid_to IS NULL OR _rhei_valid_to > ts_us)),"
    " (tbl, ts_us TIMESTAMP) AS TABLE (SELECT * EXCLUDE (_rhei_valid_from, _rhei_valid_to)"
    " FROM query_table('\"' || tbl || '_history\"') WHERE"
    " _rhei_as_of_check(tbl, epoch_us(ts_us)) AND _rhei_valid_from <= epoch_us(ts_us)"
    " AND (_rhei_valid_to IS NULL OR _rhei_valid_to > epoch_us(ts_us)))";

static int connect_raw(rhei__olap *o, duckdb_connection *out, rhei__err *e)
{
    if (duckdb_connect(o->db, out) != DuckDBSuccess) {
        *out = NULL;
        return rhei__err_set(e, RHEI_OLAP, "duckdb: cannot connect");
    }
    return RHEI_OK;
}

/* The session objects of a connection (TEMP: allowed after the sandbox locks settings). */
static int session_setup(rhei__olap *o, duckdb_connection c, rhei__err *e)
{
    (void)o;
    duckdb_result r;
    int rc = RHEI_OK;
    if (duckdb_query(c, as_of_macro, &r) != DuckDBSuccess)
        rc = rhei__duck_result_err(e, 0, &r);
    duckdb_destroy_result(&r);
    return rc;
}

int rhei__duck_connect(rhei__olap *o, duckdb_connection *out, rhei__err *e)
{
    int rc = connect_raw(o, out, e);
    if (rc == RHEI_OK && (rc = session_setup(o, *out, e)) != RHEI_OK) {
        duckdb_disconnect(out);
        *out = NULL;
    }
    return rc;
}

static void olap_close(rhei__olap *o);

static int check_version(rhei__err *e)
{
    const char *v = duckdb_library_version();
    int major = -1, minor = -1;
    if (v && sscanf(v + (v[0] == 'v'), "%d.%d", &major, &minor) == 2 && major == 1 && minor == 4)
        return RHEI_OK;
    return rhei__err_set(e, RHEI_VERSION_MISMATCH,
                         "duckdb library version '%s' is not supported: rhei needs 1.4.x",
                         v ? v : "?");
}

/* SQLite's answers for the queries the router sends to DuckDB (src/route/README.md, "Same
 * answer on either side"): set database-wide, before any connection exists, so every pooled
 * connection has them and no later SET is needed. Each one was checked against SQLite by the
 * differential test (tests/route/test_same_answer.c):
 *   default_null_order   SQLite sorts NULL as the smallest value: first ASC, last DESC.
 *   integer_division     SQLite's INTEGER / INTEGER truncates (7/2 = 3, -7/2 = -3).
 *   ieee_floating_point_ops=false   x/0 and x%0 are NULL, as in SQLite, not inf or NaN.
 * The apply and catalog statements on the write connection neither sort NULLs nor divide. */
static int sqlite_semantics_config(duckdb_config cfg, rhei__err *e)
{
    static const char *const set[][2] = {
        {"default_null_order", "nulls_first_on_asc_last_on_desc"},
        {"integer_division", "true"},
        {"ieee_floating_point_ops", "false"},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (duckdb_set_config(cfg, set[i][0], set[i][1]) != DuckDBSuccess)
            return rhei__err_set(e, RHEI_OLAP, "duckdb: cannot set '%s'", set[i][0]);
    return RHEI_OK;
}

static int open_db(rhei__olap *o, const rhei__olap_opts *opts, const char *path, rhei__err *e)
{
    duckdb_config cfg = NULL;
    char *err = NULL;
    char num[32];
    int rc = RHEI_OK;
    if (duckdb_create_config(&cfg) != DuckDBSuccess)
        return rhei__err_nomem(e);
    if ((rc = sqlite_semantics_config(cfg, e)))
        goto done;
    if (opts->threads > 0) {
        snprintf(num, sizeof num, "%d", opts->threads);
        duckdb_set_config(cfg, "threads", num);
    }
    if (opts->memory_limit && opts->memory_limit[0] &&
        duckdb_set_config(cfg, "memory_limit", opts->memory_limit) != DuckDBSuccess) {
        rc = rhei__err_set(e, RHEI_CONFIG, "invalid olap_memory_limit '%s'", opts->memory_limit);
        goto done;
    }
    /* The default 16 MB threshold runs a full checkpoint inside some commits (in memory too:
     * a 1.3 s commit after 100K changes to 1M rows); maintain() checkpoints when idle instead. */
    duckdb_set_config(cfg, "checkpoint_threshold", "1GB");
    /* Never fetch or load extensions behind the caller's back, from the start: opening a
     * file of another format (an SQLite file as olap_path) would try to. See sandbox(). */
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(path, &o->db, cfg, &err) != DuckDBSuccess) {
        rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, err);
        o->db = NULL;
    }
done:
    if (err)
        duckdb_free(err);
    duckdb_destroy_config(&cfg);
    return rc;
}

/* Stores written by earlier versions kept the catalog in _rhei_tables (with a key index), the
 * sync state in _rhei_meta and named values in a two-column _rhei_kv: they move into
 * _rhei_catalog and _rhei_kv_log once, in one transaction. */
static const char *const migrate_sql[2] = {
    "INSERT INTO _rhei_catalog SELECT name, tid FROM _rhei_tables; DROP TABLE _rhei_tables",
    "INSERT INTO _rhei_kv_log SELECT 1, '_rhei.state', "
    "CAST(coalesce(max(value) FILTER (WHERE key = 'position'), 0) AS VARCHAR) || ' ' || "
    "CAST(coalesce(max(value) FILTER (WHERE key = 'last_ts'), 0) AS VARCHAR) FROM _rhei_meta; "
    "INSERT INTO _rhei_kv_log SELECT 1 + row_number() OVER (), key, value FROM _rhei_kv; "
    "DROP TABLE _rhei_meta; DROP TABLE _rhei_kv",
};

/* rhei's own tables: _rhei_catalog, the tables rhei keeps and the version each holds (no key
 * index: an upsert into an indexed table cost DuckDB ~10 ms, a DELETE and INSERT under 1 ms);
 * _rhei_kv_log, named values (duckdb_kv.c). */
static int store_open(rhei__olap *o, rhei__err *e)
{
    int64_t old[2];
    int rc = rhei__duck_exec(o, "CREATE TABLE IF NOT EXISTS _rhei_catalog(name VARCHAR NOT NULL, "
                             "tid BIGINT NOT NULL); CREATE TABLE IF NOT EXISTS _rhei_kv_log("
                             "seq BIGINT NOT NULL, key VARCHAR NOT NULL, value VARCHAR)", e);
    if (rc == RHEI_OK)
        rc = rhei__duck_query_row(o, "SELECT count(*) FILTER (WHERE table_name = '_rhei_tables'), "
                                  "count(*) FILTER (WHERE table_name IN ('_rhei_meta', '_rhei_kv'))"
                                  " FROM duckdb_tables() WHERE database_name = current_database()"
                                  " AND schema_name = 'main'", old, 2, e);
    if (rc || (old[0] == 0 && old[1] < 2))
        return rc;
    rc = rhei__duck_exec(o, "BEGIN TRANSACTION", e);
    for (int i = 0; i < 2 && rc == RHEI_OK; i++)
        if (old[i] >= (i ? 2 : 1))
            rc = rhei__duck_exec(o, migrate_sql[i], e);
    if (rc == RHEI_OK)
        rc = rhei__duck_exec(o, "COMMIT", e);
    if (rc) {
        rhei__err ignored;
        rhei__duck_exec(o, "ROLLBACK", &ignored);
        rhei__err_wrap(e, "cannot move the tables of an earlier store layout");
    }
    return rc;
}

/* The sandbox (issue 9 point 8): queries come from callers, so DuckDB must not reach the
 * file system, the network or extension repositories on their behalf. Applied last in
 * open, after the engine's own setup: every global setting the engine needs (query
 * semantics included) must be made before it, because lock_configuration makes any later
 * SET fail. Per-connection setup after it may only create TEMP objects (rhei_as_of). */
static int sandbox(rhei__olap *o, int external_access, rhei__err *e)
{
    int rc = rhei__duck_exec(o, "SET autoinstall_known_extensions = false;"
                                " SET autoload_known_extensions = false", e);
    if (rc == RHEI_OK && !external_access)
        rc = rhei__duck_exec(o, "SET enable_external_access = false", e);
    if (rc == RHEI_OK)
        rc = rhei__duck_exec(o, "SET lock_configuration = true", e);
    return rc ? rhei__err_wrap(e, "cannot set up the olap sandbox") : RHEI_OK;
}

static int olap_open(const rhei__olap_opts *opts, rhei__olap **out, rhei__err *e)
{
    *out = NULL;
    int rc = check_version(e);
    if (rc)
        return rc;
    rhei__olap *o = rhei__calloc(1, sizeof *o);
    if (!o)
        return rhei__err_nomem(e);
    pthread_mutexattr_t ra;
    pthread_mutexattr_init(&ra);
    pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&o->write_mu, &ra);
    pthread_mutexattr_destroy(&ra);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    pthread_mutex_init(&o->feed_mu, NULL);
    size_t nslots = opts->read_pool_size > 0 ? (size_t)opts->read_pool_size : 4;
    if (!(o->slots = rhei__calloc(nslots, sizeof *o->slots))) {
        rc = rhei__err_nomem(e);
        goto fail;
    }
    o->nslots = nslots;
    const char *path = opts->path && opts->path[0] ? opts->path : ":memory:";
    if ((rc = open_db(o, opts, path, e)))
        goto fail;
    /* before any connection makes the rhei_as_of macro, which calls it */
    if ((rc = connect_raw(o, &o->w, e)) || (rc = rhei__duck_asof_register(o, e)) ||
        (rc = session_setup(o, o->w, e)))
        goto fail;
    if ((rc = store_open(o, e)) || (rc = rhei__duck_kv_open(o, e)) ||
        (rc = rhei__duck_feed_register(o, e)))
        goto fail;
    if ((rc = sandbox(o, opts->external_access, e)))
        goto fail;
    *out = o;
    return RHEI_OK;
fail:
    olap_close(o);
    return rc;
}

static void forget_touched(rhei__olap *o)
{
    for (size_t i = 0; i < o->ntouched; i++)
        rhei__free(o->touched[i]);
    o->ntouched = 0;
}

static void olap_close(rhei__olap *o)
{
    if (!o)
        return;
    rhei__duck_kv_close(o);
    rhei__duck_feed_forget(o);
    for (int i = 0; i < 2; i++)
        if (o->txn_ps[i])
            duckdb_destroy_prepare(&o->txn_ps[i]);
    for (size_t i = 0; i < o->nslots; i++) {
        rhei__duck_drop_kept(&o->slots[i]);
        if (o->slots[i].conn)
            duckdb_disconnect(&o->slots[i].conn);
    }
    if (o->w)
        duckdb_disconnect(&o->w);
    if (o->db)
        duckdb_close(&o->db);
    forget_touched(o);
    rhei__free(o->touched);
    rhei__free(o->stmts);
    rhei__free(o->slots);
    rhei__buf_free(&o->sql);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->mu);
    pthread_mutex_destroy(&o->feed_mu);
    pthread_mutex_destroy(&o->write_mu);
    rhei__free(o);
}

static const char *olap_version(void) { return duckdb_library_version(); }
static void *olap_raw_handle(rhei__olap *o) { return &o->db; }

/* ---- transactions and state -------------------------------------------------------------- */

int rhei__duck_need_txn(rhei__olap *o, rhei__err *e)
{
    if (o->in_txn)
        return RHEI_OK;
    return rhei__err_set(e, RHEI_MISUSE, "olap write outside a transaction");
}

static void end_txn(rhei__olap *o, int committed)
{
    if (o->wrote || o->ddl) /* the second half of the bump before COMMIT/ROLLBACK */
        rhei__duck_bump_gen(o);
    /* Statements prepared before a schema change are rebound by DuckDB on every later
     * execution (~0.25 ms each, measured), and a rollback may remove tables they name:
     * after either, all are prepared anew. */
    if (!committed || o->ddl) {
        rhei__duck_feed_forget(o);
        rhei__duck_kv_close(o);
    }
    o->ddl = 0;
    forget_touched(o);
    if (committed && o->wrote)
        o->dirty = 1;
    o->in_txn = 0;
    o->wrote = 0;
}

/* BEGIN and COMMIT, prepared once: a small sync cycle is a handful of statements, and
 * parsing these two each time cost ~25 us of it. They name no table, so DDL does not make
 * DuckDB rebind them. */
static int txn_exec(rhei__olap *o, int commit, rhei__err *e)
{
    static const char *const sql[2] = {"BEGIN TRANSACTION", "COMMIT"};
    duckdb_prepared_statement *ps = &o->txn_ps[commit];
    if (!*ps && duckdb_prepare(o->w, sql[commit], ps) == DuckDBError) {
        int rc = rhei__duck_err(e, 0, DUCKDB_ERROR_INVALID, duckdb_prepare_error(*ps));
        duckdb_destroy_prepare(ps);
        return rc;
    }
    duckdb_result r;
    int rc = RHEI_OK;
    if (duckdb_execute_prepared(*ps, &r) == DuckDBError)
        rc = rhei__duck_result_err(e, 0, &r);
    duckdb_destroy_result(&r);
    return rc;
}

/* Takes the write lock and keeps it until commit or rollback (another thread's begin waits
 * here); on failure the lock is given back. */
static int olap_begin(rhei__olap *o, rhei__err *e)
{
    pthread_mutex_lock(&o->write_mu);
    int rc = o->in_txn ? rhei__err_set(e, RHEI_MISUSE, "olap transaction already open")
                       : txn_exec(o, 0, e);
    if (rc == RHEI_OK)
        o->in_txn = 1;
    else
        pthread_mutex_unlock(&o->write_mu);
    return rc;
}

/* Ends the transaction either way (a failed COMMIT has rolled back in DuckDB) and gives back
 * the lock begin took. Re-locking first (recursive) makes in_txn safe to read: it can only
 * be set here by this thread's own begin. */
static int olap_commit(rhei__olap *o, rhei__err *e)
{
    pthread_mutex_lock(&o->write_mu);
    int rc = rhei__duck_need_txn(o, e);
    if (rc == RHEI_OK) {
        if (o->wrote || o->ddl) /* odd until end_txn: see rhei__duck_slot */
            rhei__duck_bump_gen(o);
        rc = txn_exec(o, 1, e);
        end_txn(o, rc == RHEI_OK);
        pthread_mutex_unlock(&o->write_mu);
    }
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

static void olap_rollback(rhei__olap *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->write_mu);
    if (o->in_txn) {
        rhei__err ignored;
        if (o->wrote || o->ddl)
            rhei__duck_bump_gen(o);
        rhei__duck_exec(o, "ROLLBACK", &ignored);
        end_txn(o, 0);
        pthread_mutex_unlock(&o->write_mu);
    }
    pthread_mutex_unlock(&o->write_mu);
}

/* apply_alone of the vtab. An insert-only batch is one statement (rhei__duck_apply feeds it
 * straight into the table), so it runs in DuckDB's autocommit mode, which commits it as the
 * statement ends and undoes it if the statement fails: one run of DuckDB's executor instead
 * of three (BEGIN, the insert, COMMIT), each of which cost 0.1-0.4 ms in a 500-event sync
 * cycle measured in the bench. in_txn is set for the statement's length so rhei__duck_apply
 * accepts it; the generation is odd from before it until after it, as around a COMMIT. Any
 * other batch (updates or deletes: several statements) runs begin, apply, commit. */
static int olap_apply_alone(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                            rhei__err *e)
{
    int rc;
    if (b->nrows == 0 || b->nupdates || b->ndeletes) {
        if ((rc = olap_begin(o, e)) == RHEI_OK &&
            (rc = rhei__duck_apply(o, b, history, st, e)) == RHEI_OK)
            return olap_commit(o, e);
        olap_rollback(o); /* nothing to do when begin failed */
        return rc;
    }
    pthread_mutex_lock(&o->write_mu);
    if (o->in_txn) {
        pthread_mutex_unlock(&o->write_mu);
        return rhei__err_set(e, RHEI_MISUSE, "olap transaction already open");
    }
    o->in_txn = 1;
    rhei__duck_bump_gen(o); /* end_txn bumps it back: rhei__duck_apply sets wrote */
    rc = rhei__duck_apply(o, b, history, st, e);
    o->wrote = 1;
    end_txn(o, rc == RHEI_OK);
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

/* The sync's state is one kv entry, "<position> <last_ts>", written with the rows. */
static const char state_key[] = "_rhei.state";

/* get_kv of the vtab: may run outside a transaction, so it holds the write lock itself. */
static int olap_get_kv(rhei__olap *o, const char *key, char *buf, size_t size, rhei__err *e)
{
    pthread_mutex_lock(&o->write_mu);
    int rc = rhei__duck_get_kv(o, key, buf, size, e);
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

static int olap_get_state(rhei__olap *o, rhei__olap_state *out, rhei__err *e)
{
    char buf[64];
    long long pos = 0, ts = 0;
    int rc = olap_get_kv(o, state_key, buf, sizeof buf, e);
    if (rc == RHEI_NOTFOUND)
        rc = RHEI_OK; /* a new store */
    else if (rc == RHEI_OK && sscanf(buf, "%lld %lld", &pos, &ts) != 2)
        rc = rhei__err_set(e, RHEI_CORRUPT, "olap state '%s' is not two integers", buf);
    out->position = rc ? 0 : pos;
    out->last_ts = rc ? 0 : ts;
    return rc;
}

static int olap_set_state(rhei__olap *o, const rhei__olap_state *st, rhei__err *e)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%lld %lld", (long long)st->position, (long long)st->last_ts);
    return rhei__duck_set_kv(o, state_key, buf, e);
}

/* Visits every recorded table; a non-zero return from cb stops the walk and is returned. */
static int list_tables(rhei__olap *o, rhei__olap_table_cb cb, void *ud, rhei__err *e)
{
    duckdb_result r;
    int rc = RHEI_OK;
    if (duckdb_query(o->w, "SELECT name, tid FROM _rhei_catalog ORDER BY name", &r)) {
        rc = rhei__duck_result_err(e, 0, &r);
        duckdb_destroy_result(&r);
        return rc;
    }
    duckdb_data_chunk ch;
    while (rc == RHEI_OK && (ch = duckdb_fetch_chunk(r)) != NULL) {
        duckdb_string_t *names = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0));
        int64_t *tids = duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 1));
        for (idx_t i = 0; rc == RHEI_OK && i < duckdb_data_chunk_get_size(ch); i++) {
            char *name = rhei__strndup(duckdb_string_t_data(&names[i]),
                                       duckdb_string_t_length(names[i]));
            rc = name ? cb(ud, name, tids[i]) : rhei__err_nomem(e);
            rhei__free(name);
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&r);
    return rc;
}

static int olap_list_tables(rhei__olap *o, rhei__olap_table_cb cb, void *ud, rhei__err *e)
{
    pthread_mutex_lock(&o->write_mu); /* w may be used outside a transaction */
    int rc = list_tables(o, cb, ud, e);
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

/* ---- DDL --------------------------------------------------------------------------------- */

static int record_tid(rhei__olap *o, const char *name, int64_t tid, rhei__err *e)
{
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "DELETE FROM _rhei_catalog WHERE name = ");
    rhei__buf_literal(&o->sql, name);
    rhei__buf_puts(&o->sql, "; INSERT INTO _rhei_catalog VALUES (");
    rhei__buf_literal(&o->sql, name);
    rhei__buf_printf(&o->sql, ", %lld)", (long long)tid);
    return rhei__duck_exec_buf(o, e);
}

/* Drops the table "<name>" (mirror) or the view "<name>" and table "<name>_history"
 * (history), whichever exist: the store may hold the other mode's objects. One look at
 * duckdb_tables(): listing views costs more (DuckDB builds its system views for it), and the
 * view exists exactly when the history table does. Names match case-insensitively. */
static int drop_objects(rhei__olap *o, const char *name, rhei__err *e)
{
    int64_t n[2];
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "SELECT count(*) FILTER (WHERE lower(table_name) = lower(");
    rhei__buf_literal(&o->sql, name);
    rhei__buf_puts(&o->sql, ")), count(*) FILTER (WHERE lower(table_name) = lower(");
    rhei__buf_literal(&o->sql, name);
    rhei__buf_puts(&o->sql, " || '_history')) FROM duckdb_tables() WHERE database_name = "
                            "current_database() AND schema_name = 'main' AND NOT temporary");
    int rc = rhei__buf_check(&o->sql, e);
    if (rc || (rc = rhei__duck_query_row(o, rhei__buf_str(&o->sql), n, 2, e)))
        return rc;
    for (int h = 0; h < 2 && rc == RHEI_OK; h++) {
        if (n[h] == 0)
            continue;
        rhei__buf_reset(&o->sql);
        if (h) {
            rhei__buf_puts(&o->sql, "DROP VIEW IF EXISTS ");
            rhei__duck_put_target(&o->sql, name, 0);
            rhei__buf_puts(&o->sql, "; ");
        }
        rhei__buf_puts(&o->sql, "DROP TABLE ");
        rhei__duck_put_target(&o->sql, name, h);
        rc = rhei__duck_exec_buf(o, e);
    }
    return rc;
}

/* DuckDB folds the case of every letter, SQLite only of ASCII ones, and the sidecar keeps
 * its own tables here: a new local table must not take the name of an object that belongs
 * to something else. Objects named (ASCII-case-insensitively) "<name>" or "<name>_history"
 * are this table's own (create_table replaces them) unless the sidecar follows that name. */
static int check_name(rhei__olap *o, const char *name, rhei__err *e)
{
    duckdb_result r;
    char *hist = rhei__duck_target_dup(name, 1);
    if (!hist)
        return rhei__err_nomem(e);
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "SELECT n, (SELECT min(tid) FROM _rhei_catalog WHERE lower(name) ="
                            " lower(n) OR lower(name || '_history') = lower(n)) FROM (SELECT"
                            " table_name AS n FROM duckdb_tables() WHERE database_name ="
                            " current_database() AND schema_name = 'main' AND NOT temporary"
                            " UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name"
                            " = current_database() AND schema_name = 'main' AND NOT temporary"
                            " AND NOT internal) WHERE lower(n) IN (lower(");
    rhei__buf_literal(&o->sql, name);
    rhei__buf_puts(&o->sql, "), lower(");
    rhei__buf_literal(&o->sql, hist);
    rhei__buf_puts(&o->sql, "))");
    int rc = rhei__buf_check(&o->sql, e);
    if (rc == RHEI_OK && duckdb_query(o->w, rhei__buf_str(&o->sql), &r) != DuckDBSuccess)
        rc = rhei__duck_result_err(e, 0, &r);
    else if (rc == RHEI_OK) {
        for (idx_t i = 0; rc == RHEI_OK && i < duckdb_row_count(&r); i++) {
            char *n = duckdb_value_varchar(&r, 0, i);
            int64_t tid = duckdb_value_is_null(&r, 1, i) ? 0 : duckdb_value_int64(&r, 1, i);
            int own = n && (strcasecmp(n, name) == 0 || strcasecmp(n, hist) == 0);
            if (!own)
                rc = rhei__err_set(e, RHEI_EXISTS, "olap already holds '%s', which its"
                                   " names do not tell apart from '%s' (letter case is"
                                   " ignored)",
                                   n ? n : "?", name);
            else if (tid < 0)
                rc = rhei__err_set(e, RHEI_EXISTS, "olap table '%s' belongs to a table the"
                                   " sidecar follows", n);
            duckdb_free(n);
        }
    }
    duckdb_destroy_result(&r);
    rhei__free(hist);
    return rc;
}

static int olap_check_name(rhei__olap *o, const char *name, rhei__err *e)
{
    pthread_mutex_lock(&o->write_mu); /* w and sql are used outside a transaction */
    int rc = check_name(o, name, e);
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

/* The view of current rows, with only the user columns. */
static int create_view(rhei__olap *o, const rhei__table *t, rhei__err *e)
{
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "CREATE OR REPLACE VIEW ");
    rhei__buf_ident(&o->sql, t->name);
    rhei__buf_puts(&o->sql, " AS SELECT ");
    put_cols(&o->sql, t);
    rhei__buf_puts(&o->sql, " FROM ");
    rhei__duck_put_target(&o->sql, t->name, 1);
    rhei__buf_puts(&o->sql, " WHERE _rhei_valid_to IS NULL");
    return rhei__duck_exec_buf(o, e);
}

static int olap_create_table(rhei__olap *o, const rhei__table *t, int history, rhei__err *e)
{
    o->ddl = 1;
    int rc = rhei__duck_need_txn(o, e);
    if (rc || (rc = drop_objects(o, t->name, e)))
        return rc;
    o->wrote = 1;
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "CREATE TABLE ");
    rhei__duck_put_target(&o->sql, t->name, history);
    rhei__buf_puts(&o->sql, " (");
    rhei__duck_put_coldefs(&o->sql, t, history);
    rhei__buf_puts(&o->sql, ")");
    if ((rc = rhei__duck_exec_buf(o, e)))
        return rc;
    if (history && (rc = create_view(o, t, e)))
        return rc;
    return record_tid(o, t->name, t->tid, e);
}

static int olap_drop_table(rhei__olap *o, const char *name, int history, rhei__err *e)
{
    o->ddl = 1;
    (void)history; /* both modes' objects are dropped */
    int rc = rhei__duck_need_txn(o, e);
    if (rc || (rc = drop_objects(o, name, e)))
        return rc;
    o->wrote = 1;
    rhei__buf_reset(&o->sql);
    rhei__buf_puts(&o->sql, "DELETE FROM _rhei_catalog WHERE name = ");
    rhei__buf_literal(&o->sql, name);
    return rhei__duck_exec_buf(o, e);
}

static int is_touched(const rhei__olap *o, const char *name, int history)
{
    for (size_t i = 0; i < o->ntouched; i++) {
        size_t n = strlen(name);
        const char *t = o->touched[i];
        if (strncasecmp(t, name, n) == 0 && strcmp(t + n, history ? "_history" : "") == 0)
            return 1;
    }
    return 0;
}

int rhei__duck_touch(rhei__olap *o, const char *name, int history, rhei__err *e)
{
    if (is_touched(o, name, history))
        return RHEI_OK;
    if (rhei__grow((void **)&o->touched, &o->touchedcap, o->ntouched + 1, sizeof *o->touched) ||
        !(o->touched[o->ntouched] = rhei__duck_target_dup(name, history)))
        return rhei__err_nomem(e);
    o->ntouched++;
    return RHEI_OK;
}

/* 1 if ALTER ADD/DROP COLUMN can do it: every kept column keeps its type. (Column order
 * does not matter: appends and inserts always name their columns.) */
static int alter_in_place(const rhei__table *from, const rhei__table *to)
{
    for (size_t i = 0; i < from->ncols; i++) {
        long j = rhei__table_col(to, from->cols[i].name);
        if (j < 0)
            continue;
        const rhei__colspec *a = &from->cols[i], *b = &to->cols[j];
        if (a->type != b->type || (a->type == RHEI_TYPE_DECIMAL &&
                                   (a->precision != b->precision || a->scale != b->scale)))
            return 0;
    }
    return 1;
}

static int alter_columns(rhei__olap *o, const rhei__table *from, const rhei__table *to,
                         int history, rhei__err *e)
{
    int rc = RHEI_OK;
    for (size_t i = 0; rc == RHEI_OK && i < from->ncols; i++) {
        if (rhei__table_col(to, from->cols[i].name) >= 0)
            continue;
        rhei__buf_reset(&o->sql);
        rhei__buf_puts(&o->sql, "ALTER TABLE ");
        rhei__duck_put_target(&o->sql, to->name, history);
        rhei__buf_puts(&o->sql, " DROP COLUMN ");
        rhei__buf_ident(&o->sql, from->cols[i].name);
        rc = rhei__duck_exec_buf(o, e);
    }
    for (size_t i = 0; rc == RHEI_OK && i < to->ncols; i++) {
        if (rhei__table_col(from, to->cols[i].name) >= 0)
            continue;
        rhei__buf_reset(&o->sql);
        rhei__buf_puts(&o->sql, "ALTER TABLE ");
        rhei__duck_put_target(&o->sql, to->name, history);
        rhei__buf_puts(&o->sql, " ADD COLUMN ");
        rhei__buf_ident(&o->sql, to->cols[i].name);
        rhei__buf_puts(&o->sql, " ");
        rhei__duck_put_type(&o->sql, &to->cols[i]);
        rc = rhei__duck_exec_buf(o, e);
    }
    return rc;
}

/* Copies the table into a new one in to's shape (casting kept columns, NULL for new ones),
 * then swaps it in. Used when ALTER cannot express the change or cannot commit. */
static int rebuild(rhei__olap *o, const rhei__table *from, const rhei__table *to, int history,
                   rhei__err *e)
{
    static const char tmp[] = "\"_rhei_rebuild\"";
    rhei__buf_reset(&o->sql);
    rhei__buf_printf(&o->sql, "CREATE TABLE %s (", tmp);
    rhei__duck_put_coldefs(&o->sql, to, history);
    rhei__buf_printf(&o->sql, "); INSERT INTO %s SELECT ", tmp);
    for (size_t i = 0; i < to->ncols; i++) {
        rhei__buf_puts(&o->sql, i ? ", CAST(" : "CAST(");
        if (rhei__table_col(from, to->cols[i].name) >= 0)
            rhei__buf_ident(&o->sql, to->cols[i].name);
        else
            rhei__buf_puts(&o->sql, "NULL");
        rhei__buf_puts(&o->sql, " AS ");
        rhei__duck_put_type(&o->sql, &to->cols[i]);
        rhei__buf_puts(&o->sql, ")");
    }
    rhei__buf_puts(&o->sql, history ? ", _rhei_valid_from, _rhei_valid_to FROM " : " FROM ");
    rhei__duck_put_target(&o->sql, from->name, history);
    rhei__buf_puts(&o->sql, "; DROP TABLE ");
    rhei__duck_put_target(&o->sql, from->name, history);
    rhei__buf_printf(&o->sql, "; ALTER TABLE %s RENAME TO ", tmp);
    rhei__duck_put_target(&o->sql, to->name, history);
    return rhei__duck_exec_buf(o, e);
}

static int olap_alter_table(rhei__olap *o, const rhei__table *from, const rhei__table *to,
                            int history, rhei__err *e)
{
    o->ddl = 1;
    int rc = rhei__duck_need_txn(o, e);
    if (rc)
        return rc;
    o->wrote = 1;
    if (is_touched(o, from->name, history) || !alter_in_place(from, to))
        rc = rebuild(o, from, to, history, e);
    else
        rc = alter_columns(o, from, to, history, e);
    if (rc == RHEI_OK && history)
        rc = create_view(o, to, e);
    return rc ? rc : record_tid(o, to->name, to->tid, e);
}

/* ---- housekeeping ------------------------------------------------------------------------ */

/* Checkpoints when committed writes are pending: a file gets its WAL folded in; either kind
 * gets deleted rows vacuumed. DuckDB's CHECKPOINT waits for running read queries. */
static int olap_maintain(rhei__olap *o, rhei__err *e)
{
    int rc = RHEI_OK;
    pthread_mutex_lock(&o->write_mu);
    if (o->dirty && !o->in_txn) {
        rhei__duck_bump_gen(o); /* compaction deletes kv rows; statistics are rebuilt */
        rc = rhei__duck_kv_compact(o, e);
        if (rc == RHEI_OK)
            rc = rhei__duck_exec(o, "CHECKPOINT", e);
        if (rc == RHEI_OK)
            o->dirty = 0;
        rhei__duck_bump_gen(o);
    }
    pthread_mutex_unlock(&o->write_mu);
    return rc;
}

const rhei__olap_vtab rhei__olap_duckdb = {
    .name = "duckdb",
    .open = olap_open,
    .close = olap_close,
    .version = olap_version,
    .raw_handle = olap_raw_handle,
    .begin = olap_begin,
    .commit = olap_commit,
    .rollback = olap_rollback,
    .get_state = olap_get_state,
    .set_state = olap_set_state,
    .list_tables = olap_list_tables,
    .check_name = olap_check_name,
    .create_table = olap_create_table,
    .drop_table = olap_drop_table,
    .alter_table = olap_alter_table,
    .apply = rhei__duck_apply,
    .apply_alone = olap_apply_alone,
    .load = rhei__duck_load,
    .query = rhei__duck_query,
    .query_arrow = rhei__duck_query_arrow,
    .describe_arrow = rhei__duck_describe_arrow,
    .query_as_of = rhei__duck_query_as_of,
    .interrupt = rhei__duck_interrupt,
    .maintain = olap_maintain,
    .set_kv = rhei__duck_set_kv,
    .get_kv = olap_get_kv,
    .fill_column = rhei__duck_fill_column,
    .set_as_of_limit = rhei__duck_set_as_of_limit,
};
