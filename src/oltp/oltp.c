/* oltp.c — SQLite connection management: WAL mode, one writer held by one thread at a time
 * (for one call, or from a user's BEGIN to its COMMIT/ROLLBACK), a reader pool, a
 * maintenance connection for background work, and a small per-connection statement cache.
 * Invariant: a connection is used by at most one thread at a time. */
#include "oltp.h"
#include "mem.h"
#include "value.h"
#include <sqlite3.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 32
#define MAINT_BUSY_MS 100 /* the maintenance connection's busy timeout */

typedef struct cache_entry {
    char *sql;
    uint64_t hash;
    sqlite3_stmt *st;
    uint64_t used;
} cache_entry;

struct rhei__conn {
    sqlite3 *db;
    cache_entry cache[CACHE_SLOTS];
    uint64_t tick;
    int busy;
};

struct rhei__oltp {
    rhei__conn writer;
    /* The writer slot. writer_mu guards the fields below it; the slot is taken while
     * depth > 0 (inside a call) or txn != 0 (the holder left a transaction open between
     * calls), by `owner` in both cases. Others wait on writer_cv. maint_held: the
     * maintenance connection holds the slot (the writer connection is idle meanwhile);
     * maint_waiting: it waits for the slot, and new writers queue behind it. */
    pthread_mutex_t writer_mu;
    pthread_cond_t writer_cv;
    pthread_t owner;
    int depth, txn, maint_held, maint_waiting, waiters;
    _Atomic int txn_open; /* copy of txn readable without the lock (reads check it) */
    rhei__conn maint;
    rhei__conn *readers;
    int nreaders;
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
};

int rhei__oltp_error(sqlite3 *db, int rc, rhei__err *e)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int code;
    switch (rc & 0xff) {
    case SQLITE_NOMEM: code = RHEI_NOMEM; break;
    case SQLITE_FULL: code = RHEI_FULL; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = RHEI_BUSY; break;
    case SQLITE_READONLY: code = RHEI_READONLY; break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: code = RHEI_IO; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = RHEI_CORRUPT; break;
    case SQLITE_MISMATCH: code = RHEI_TYPE; break;
    case SQLITE_INTERRUPT: code = RHEI_INTERRUPTED; break;
    case SQLITE_CONSTRAINT:
        code = strstr(msg, "rhei: type mismatch") ? RHEI_TYPE : RHEI_CONSTRAINT;
        break;
    case SQLITE_ERROR:
        code = strstr(msg, "rhei: type mismatch") ? RHEI_TYPE
             : strstr(msg, "no such table") ? RHEI_NOTFOUND : RHEI_SQL;
        break;
    default: code = RHEI_OLTP; break;
    }
    /* A capture trigger's refusal arrives as a JSON path error quoting its text with
     * doubled quotes (see src/cdc/capture.c): show the text alone, quotes single. */
    static const char jp[] = "JSON path error near '";
    size_t n = strlen(msg);
    if (code == RHEI_TYPE && strncmp(msg, jp, sizeof jp - 1) == 0 && msg[n - 1] == '\'') {
        char text[sizeof e->msg];
        size_t o = 0;
        for (size_t i = sizeof jp - 1; i + 1 < n && o + 1 < sizeof text; i++) {
            text[o++] = msg[i];
            if (msg[i] == '\'' && msg[i + 1] == '\'')
                i++;
        }
        text[o] = '\0';
        return rhei__err_set(e, code, "sqlite: %s", text);
    }
    return rhei__err_set(e, code, "sqlite: %s", msg);
}

static int conn_open(rhei__conn *c, const rhei__oltp_opts *o, int reader, rhei__err *e)
{
    memset(c, 0, sizeof *c);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(o->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rhei__oltp_error(c->db, rc, e);
        sqlite3_close(c->db);
        c->db = NULL;
        return rhei__err_wrap(e, "cannot open sqlite database '%s'", o->path);
    }
    sqlite3_busy_timeout(c->db, o->busy_timeout_ms);
    sqlite3_extended_result_codes(c->db, 0);
    /* recursive_triggers makes REPLACE conflict deletions fire the capture triggers. mmap:
     * a page read is a memory access instead of a pread (a system call costs ~1.5 us on this
     * VM; an index-served EXISTS over 1M rows took 1.9 ms with reads, 1.2 ms mapped). */
    char pragmas[320];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA recursive_triggers=ON;"
             "PRAGMA foreign_keys=ON; PRAGMA mmap_size=%lld;%s",
             o->synchronous_full ? "FULL" : "NORMAL", (long long)o->mmap_mb * 1048576,
             reader ? " PRAGMA query_only=ON;" : "");
    char *err = NULL;
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        rhei__err_set(e, rc == SQLITE_NOTADB ? RHEI_CORRUPT : RHEI_OLTP,
                      "cannot open sqlite database '%s': sqlite: %s", o->path,
                      err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        sqlite3_close(c->db);
        c->db = NULL;
        return e->code;
    }
    return RHEI_OK;
}

static void conn_close(rhei__conn *c)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].st);
        rhei__free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

rhei__conn *rhei__conn_wrap(sqlite3 *db)
{
    rhei__conn *c = rhei__calloc(1, sizeof *c);
    if (c)
        c->db = db;
    return c;
}

void rhei__conn_free(rhei__conn *c)
{
    if (!c)
        return;
    conn_close(c);
    rhei__free(c);
}

void rhei__oltp_close(rhei__oltp *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->nreaders; i++)
        conn_close(&o->readers[i]);
    rhei__free(o->readers);
    conn_close(&o->writer);
    conn_close(&o->maint);
    pthread_mutex_destroy(&o->writer_mu);
    pthread_cond_destroy(&o->writer_cv);
    pthread_mutex_destroy(&o->pool_mu);
    pthread_cond_destroy(&o->pool_cv);
    rhei__free(o);
}

int rhei__oltp_open(const rhei__oltp_opts *opts, rhei__oltp **out, rhei__err *e)
{
    *out = NULL;
    rhei__oltp *o = rhei__calloc(1, sizeof *o);
    if (!o)
        return rhei__err_nomem(e);
    pthread_mutex_init(&o->writer_mu, NULL);
    pthread_cond_init(&o->writer_cv, NULL);
    pthread_mutex_init(&o->pool_mu, NULL);
    pthread_cond_init(&o->pool_cv, NULL);
    int n = opts->read_pool_size > 0 ? opts->read_pool_size : 1;
    int rc = conn_open(&o->writer, opts, 0, e);
    if (rc == RHEI_OK) {
        /* Background work waits for another process' lock only briefly: it retries later. */
        rhei__oltp_opts mo = *opts;
        mo.busy_timeout_ms = opts->busy_timeout_ms < MAINT_BUSY_MS ? opts->busy_timeout_ms
                                                                    : MAINT_BUSY_MS;
        rc = conn_open(&o->maint, &mo, 0, e);
    }
    if (rc == RHEI_OK && !(o->readers = rhei__calloc((size_t)n, sizeof *o->readers)))
        rc = rhei__err_nomem(e);
    for (int i = 0; rc == RHEI_OK && i < n; i++) {
        rc = conn_open(&o->readers[i], opts, 1, e);
        if (rc == RHEI_OK)
            o->nreaders = i + 1;
    }
    if (rc) {
        rhei__oltp_close(o);
        return rc;
    }
    *out = o;
    return RHEI_OK;
}

void (*rhei__oltp_test_on_wait)(void);

static int slot_taken(const rhei__oltp *o) { return o->depth > 0 || o->txn || o->maint_held; }

rhei__conn *rhei__oltp_writer(rhei__oltp *o)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&o->writer_mu);
    /* The holder of an open transaction re-enters; everyone else waits for its end. */
    if (!(o->depth + o->txn > 0 && !o->maint_held && pthread_equal(o->owner, self))) {
        while (slot_taken(o) || o->maint_waiting) { /* maintenance goes next: bounded */
            o->waiters++;
            if (rhei__oltp_test_on_wait)
                rhei__oltp_test_on_wait();
            pthread_cond_wait(&o->writer_cv, &o->writer_mu);
            o->waiters--;
        }
        o->owner = self;
    }
    o->depth++;
    pthread_mutex_unlock(&o->writer_mu);
    return &o->writer;
}

void rhei__oltp_writer_release(rhei__oltp *o)
{
    /* Still this thread's connection: whether it left a transaction open decides whether
     * it keeps the writer until a later call ends it. */
    int open = !sqlite3_get_autocommit(o->writer.db);
    pthread_mutex_lock(&o->writer_mu);
    o->depth--;
    o->txn = open;
    o->txn_open = open;
    if (!slot_taken(o) && o->waiters)
        pthread_cond_broadcast(&o->writer_cv);
    pthread_mutex_unlock(&o->writer_mu);
}

int rhei__oltp_in_txn(rhei__oltp *o)
{
    if (!o->txn_open) /* the common case costs one atomic load */
        return 0;
    pthread_mutex_lock(&o->writer_mu);
    int mine = o->txn && pthread_equal(o->owner, pthread_self());
    pthread_mutex_unlock(&o->writer_mu);
    return mine;
}

int rhei__oltp_txn_held(rhei__oltp *o) { return o->txn_open; }

int rhei__oltp_rollback_open(rhei__oltp *o, int *out_rolled_back, rhei__err *e)
{
    *out_rolled_back = 0;
    pthread_mutex_lock(&o->writer_mu);
    int open = o->txn && o->depth == 0;
    pthread_mutex_unlock(&o->writer_mu);
    if (!open)
        return RHEI_OK;
    int rc = sqlite3_exec(o->writer.db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&o->writer_mu);
    o->txn = o->txn_open = !sqlite3_get_autocommit(o->writer.db);
    if (!o->txn)
        pthread_cond_broadcast(&o->writer_cv);
    pthread_mutex_unlock(&o->writer_mu);
    if (rc != SQLITE_OK)
        return rhei__oltp_error(o->writer.db, rc, e);
    *out_rolled_back = 1;
    return RHEI_OK;
}

rhei__conn *rhei__oltp_maint(rhei__oltp *o, int wait_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int got = 1;
    pthread_mutex_lock(&o->writer_mu);
    o->maint_waiting = 1; /* new writers let it go first, so it is not starved by them */
    while (got && slot_taken(o)) {
        o->waiters++;
        got = pthread_cond_timedwait(&o->writer_cv, &o->writer_mu, &until) != ETIMEDOUT;
        o->waiters--;
        got = got || !slot_taken(o);
    }
    o->maint_waiting = 0;
    if (got)
        o->maint_held = 1;
    else if (o->waiters) /* writers held back by maint_waiting may go now */
        pthread_cond_broadcast(&o->writer_cv);
    pthread_mutex_unlock(&o->writer_mu);
    return got ? &o->maint : NULL;
}

void rhei__oltp_maint_release(rhei__oltp *o)
{
    pthread_mutex_lock(&o->writer_mu);
    o->maint_held = 0;
    if (o->waiters)
        pthread_cond_broadcast(&o->writer_cv);
    pthread_mutex_unlock(&o->writer_mu);
}

rhei__conn *rhei__oltp_reader(rhei__oltp *o)
{
    pthread_mutex_lock(&o->pool_mu);
    for (;;) {
        for (int i = 0; i < o->nreaders; i++) {
            if (!o->readers[i].busy) {
                o->readers[i].busy = 1;
                pthread_mutex_unlock(&o->pool_mu);
                return &o->readers[i];
            }
        }
        pthread_cond_wait(&o->pool_cv, &o->pool_mu);
    }
}

void rhei__oltp_reader_release(rhei__oltp *o, rhei__conn *c)
{
    pthread_mutex_lock(&o->pool_mu);
    c->busy = 0;
    pthread_cond_signal(&o->pool_cv);
    pthread_mutex_unlock(&o->pool_mu);
}

sqlite3 *rhei__oltp_raw(rhei__oltp *o) { return o->writer.db; }
sqlite3 *rhei__conn_db(rhei__conn *c) { return c->db; }
int rhei__conn_in_txn(rhei__conn *c) { return !sqlite3_get_autocommit(c->db); }

const char *rhei__oltp_version(void) { return sqlite3_libversion(); }

void rhei__oltp_interrupt(rhei__oltp *o)
{
    for (int i = 0; i < o->nreaders; i++)
        sqlite3_interrupt(o->readers[i].db);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

int rhei__conn_prepare(rhei__conn *c, const char *sql, sqlite3_stmt **out, rhei__err *e)
{
    size_t n = strlen(sql);
    uint64_t h = fnv1a(sql, n);
    cache_entry *victim = &c->cache[0];
    c->tick++;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *ce = &c->cache[i];
        if (ce->st && ce->hash == h && strcmp(ce->sql, sql) == 0) {
            ce->used = c->tick;
            sqlite3_reset(ce->st);
            sqlite3_clear_bindings(ce->st);
            *out = ce->st;
            return RHEI_OK;
        }
        if (!ce->st || ce->used < victim->used)
            victim = ce;
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return rhei__oltp_error(c->db, rc, e);
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';' ||
                    *tail == '\r'))
        tail++;
    if (!st || (tail && *tail)) {
        sqlite3_finalize(st);
        return rhei__err_set(e, RHEI_MISUSE, st ? "expected one statement, got several"
                                                : "empty statement");
    }
    char *copy = rhei__strndup(sql, n);
    if (!copy) {
        sqlite3_finalize(st);
        return rhei__err_nomem(e);
    }
    sqlite3_finalize(victim->st);
    rhei__free(victim->sql);
    victim->sql = copy;
    victim->hash = h;
    victim->st = st;
    victim->used = c->tick;
    *out = st;
    return RHEI_OK;
}

int rhei__conn_bind(rhei__conn *c, sqlite3_stmt *st, const rhei_value *params, size_t n,
                    rhei__err *e)
{
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != n)
        return rhei__err_set(e, RHEI_MISUSE, "statement takes %d parameters, %zu given", want,
                             n);
    for (size_t i = 0; i < n; i++) {
        const rhei_value *v = &params[i];
        int rc, k = (int)i + 1;
        switch (v->type) {
        case RHEI_TYPE_NULL: rc = sqlite3_bind_null(st, k); break;
        case RHEI_TYPE_REAL: rc = sqlite3_bind_double(st, k, v->f); break;
        case RHEI_TYPE_TEXT:
        case RHEI_TYPE_DECIMAL:
            rc = sqlite3_bind_text64(st, k, v->s ? v->s : "", v->n, SQLITE_TRANSIENT,
                                     SQLITE_UTF8);
            break;
        case RHEI_TYPE_BLOB:
            rc = sqlite3_bind_blob64(st, k, v->s ? v->s : "", v->n, SQLITE_TRANSIENT);
            break;
        case RHEI_TYPE_DATE: {
            char buf[16];
            rhei__format_date((int32_t)v->i, buf, sizeof buf);
            rc = sqlite3_bind_text(st, k, buf, -1, SQLITE_TRANSIENT);
            break;
        }
        case RHEI_TYPE_TIMESTAMP: {
            char buf[40];
            rhei__format_timestamp(v->i, buf, sizeof buf);
            rc = sqlite3_bind_text(st, k, buf, -1, SQLITE_TRANSIENT);
            break;
        }
        default: rc = sqlite3_bind_int64(st, k, v->i); break;
        }
        if (rc != SQLITE_OK)
            return rhei__oltp_error(c->db, rc, e);
    }
    return RHEI_OK;
}

/* Rows a statement just run changed. SQLite's changes count is the last INSERT, UPDATE or
 * DELETE's whatever ran after it: a CREATE TABLE or a SELECT would report an earlier
 * insert's rows. A statement that left the total unchanged changed none. */
static int64_t run_changes(rhei__conn *c, int64_t total_before)
{
    return sqlite3_total_changes64(c->db) != total_before ? sqlite3_changes64(c->db) : 0;
}

static int step_all(rhei__conn *c, sqlite3_stmt *st, rhei__err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE) {
        rhei__oltp_error(c->db, rc, e);
        sqlite3_reset(st);
        return e->code;
    }
    sqlite3_reset(st);
    return RHEI_OK;
}

/* Several statements in one text: each prepared once, run in order, never cached. */
static int exec_script(rhei__conn *c, const char *sql, int64_t *changes, rhei__err *e)
{
    const char *p = sql;
    int64_t total = 0;
    while (p && *p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(c->db, p, -1, &st, &tail);
        if (rc != SQLITE_OK)
            return rhei__oltp_error(c->db, rc, e);
        if (st) {
            int64_t before = sqlite3_total_changes64(c->db);
            rc = step_all(c, st, e);
            total += run_changes(c, before);
            sqlite3_finalize(st);
            if (rc)
                return rc;
        }
        p = tail;
    }
    if (changes)
        *changes = total;
    return RHEI_OK;
}

int64_t rhei__conn_last_rowid(rhei__conn *c) { return sqlite3_last_insert_rowid(c->db); }

void rhei__conn_set_last_rowid(rhei__conn *c, int64_t id)
{
    sqlite3_set_last_insert_rowid(c->db, id);
}

int rhei__conn_exec(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                    int64_t *out_changes, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(c, sql, &st, e);
    /* Not one statement (a script, or only comments): run it uncached, like sqlite3_exec. */
    if (rc == RHEI_MISUSE && n == 0 && (strstr(e->msg, "several") || strstr(e->msg, "empty")))
        return exec_script(c, sql, out_changes, e);
    if (rc)
        return rc;
    if ((rc = rhei__conn_bind(c, st, params, n, e)) != RHEI_OK)
        return rc;
    int64_t before = sqlite3_total_changes64(c->db);
    if ((rc = step_all(c, st, e)) != RHEI_OK)
        return rc;
    if (out_changes)
        *out_changes = run_changes(c, before);
    return RHEI_OK;
}
