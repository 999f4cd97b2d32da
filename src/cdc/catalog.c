/* catalog.c — the change log's tables in SQLite: creation, the catalog of table versions,
 * log positions and pruning. */
#include "buf.h"
#include "cdc.h"
#include "mem.h"
#include <sqlite3.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>
#include <strings.h>

int rhei__cdc_install(rhei__conn *w, rhei__err *e)
{
    static const char *const ddl =
        "CREATE TABLE IF NOT EXISTS _rhei_log(seq INTEGER PRIMARY KEY, tid INTEGER NOT NULL,"
        " op INTEGER NOT NULL, ts INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS _rhei_tables(tid INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " active INTEGER NOT NULL DEFAULT 1);"
        "CREATE TABLE IF NOT EXISTS _rhei_columns(tid INTEGER NOT NULL, pos INTEGER NOT NULL,"
        " name TEXT NOT NULL, decl TEXT NOT NULL, pk INTEGER NOT NULL,"
        " PRIMARY KEY(tid, pos)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS _rhei_state(key TEXT PRIMARY KEY, value INTEGER)"
        " WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS _rhei_consumers(name TEXT PRIMARY KEY, applied INTEGER"
        " NOT NULL, pid INTEGER NOT NULL) WITHOUT ROWID;";
    int rc = rhei__conn_exec(w, ddl, NULL, 0, NULL, e);
    return rc ? rhei__err_wrap(e, "cannot create the change log") : RHEI_OK;
}

void rhei__catalog_free(rhei__catalog *c)
{
    for (size_t i = 0; i < c->n; i++)
        rhei__table_free(c->versions[i]);
    rhei__free(c->versions);
    rhei__free(c->active);
    memset(c, 0, sizeof *c);
}

/* Column rows of one version arrive contiguously; builds and stores the version. */
static int add_version(rhei__catalog *cat, const char *name, int64_t tid, int active,
                       rhei__colspec *cols, size_t ncols, rhei__err *e)
{
    rhei__table *t = NULL;
    int rc = rhei__table_new(name, tid, cols, ncols, &t, e);
    if (rc)
        return rc;
    if (rhei__grow((void **)&cat->versions, &cat->cap, cat->n + 1, sizeof *cat->versions) ||
        rhei__grow((void **)&cat->active, &cat->acap, cat->n + 1, 1)) {
        rhei__table_free(t);
        return rhei__err_nomem(e);
    }
    /* Inactive versions are kept so that older log events still decode. */
    cat->active[cat->n] = (unsigned char)(active != 0);
    cat->versions[cat->n++] = t;
    if (tid > cat->max_tid)
        cat->max_tid = tid;
    return RHEI_OK;
}

static void free_cols(rhei__colspec *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rhei__free(cols[i].name);
        rhei__free(cols[i].decl);
    }
}

int rhei__catalog_load(rhei__conn *c, rhei__catalog *out, rhei__err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(c,
        "SELECT t.tid, t.name, t.active, c.name, c.decl, c.pk FROM _rhei_tables t"
        " JOIN _rhei_columns c ON c.tid = t.tid ORDER BY t.tid, c.pos", &st, e);
    if (rc)
        return rc;
    rhei__colspec cols[2000];
    size_t ncols = 0;
    int64_t cur = 0;
    int active = 0, src;
    char *name = NULL; /* the whole name: a cut one would name another table */
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t tid = sqlite3_column_int64(st, 0);
        if (ncols && tid != cur) {
            if ((rc = add_version(out, name, cur, active, cols, ncols, e)) != RHEI_OK)
                goto done;
            free_cols(cols, ncols);
            ncols = 0;
        }
        if (ncols == sizeof cols / sizeof cols[0]) {
            rc = rhei__err_set(e, RHEI_RANGE, "table '%s' has more than 2000 columns", name);
            goto done;
        }
        cur = tid;
        active = sqlite3_column_int(st, 2);
        const char *nm = (const char *)sqlite3_column_text(st, 1);
        if (!name || strcmp(name, nm ? nm : "") != 0) {
            rhei__free(name);
            if (!(name = rhei__strdup(nm ? nm : ""))) {
                rc = rhei__err_nomem(e);
                goto done;
            }
        }
        rhei__colspec *cs = &cols[ncols];
        memset(cs, 0, sizeof *cs);
        cs->name = rhei__strdup((const char *)sqlite3_column_text(st, 3));
        cs->decl = rhei__strdup((const char *)sqlite3_column_text(st, 4));
        cs->pk = sqlite3_column_int(st, 5);
        ncols++;
        if (!cs->name || !cs->decl) {
            rc = rhei__err_nomem(e);
            goto done;
        }
        rhei__type_from_decl(cs->decl, &cs->type, &cs->precision, &cs->scale);
    }
    if (src != SQLITE_DONE)
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    else if (ncols)
        rc = add_version(out, name, cur, active, cols, ncols, e);
done:
    free_cols(cols, ncols);
    rhei__free(name);
    sqlite3_reset(st);
    if (rc)
        rhei__catalog_free(out);
    return rc;
}

const rhei__table *rhei__catalog_find(const rhei__catalog *c, int64_t tid)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t t = c->versions[mid]->tid;
        if (t == tid)
            return c->versions[mid];
        if (t < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const rhei__table *rhei__catalog_active(const rhei__catalog *c, const char *name)
{
    for (size_t i = c->n; i-- > 0;)
        if (strcasecmp(c->versions[i]->name, name) == 0)
            return c->active[i] ? c->versions[i] : NULL;
    return NULL;
}

int rhei__catalog_active_list(const rhei__catalog *c, const rhei__table ***out, size_t *n,
                              rhei__err *e)
{
    *out = rhei__calloc(c->n ? c->n : 1, sizeof **out);
    *n = 0;
    if (!*out)
        return rhei__err_nomem(e);
    for (size_t i = 0; i < c->n; i++)
        if (rhei__catalog_active(c, c->versions[i]->name) == c->versions[i])
            (*out)[(*n)++] = c->versions[i];
    return RHEI_OK;
}

static int scalar(rhei__conn *c, const char *sql, int64_t arg, int64_t *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(c, sql, &st, e);
    if (rc)
        return rc;
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, arg);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        *out = 0;
    else
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    sqlite3_reset(st);
    return rc;
}

int rhei__catalog_max_tid(rhei__conn *c, int64_t *out, rhei__err *e)
{
    return scalar(c, "SELECT coalesce(max(tid), 0) FROM _rhei_tables", 0, out, e);
}

int rhei__cdc_head(rhei__conn *c, int64_t *out, rhei__err *e)
{
    return scalar(c, "SELECT coalesce(max(seq), 0) FROM _rhei_log", 0, out, e);
}

int rhei__cdc_pending(rhei__conn *c, const char *table, int64_t after, int64_t *out,
                      rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    /* A range scan of the unapplied tail only: cheap while the lag is small. */
    int rc = rhei__conn_prepare(c, "SELECT count(*) FROM _rhei_log WHERE seq > ?1 AND op"
                                   " BETWEEN 1 AND 3 AND tid IN (SELECT tid FROM _rhei_tables"
                                   " WHERE name = ?2 COLLATE NOCASE)", &st, e);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_text(st, 2, table, -1, SQLITE_TRANSIENT);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    sqlite3_reset(st);
    return rc;
}

int rhei__cdc_oldest_ts(rhei__conn *c, int64_t after, int64_t *out, rhei__err *e)
{
    return scalar(c, "SELECT ts FROM _rhei_log WHERE seq > ?1 ORDER BY seq LIMIT 1", after,
                  out, e);
}

int rhei__cdc_pruned_upto(rhei__conn *c, int64_t *out, rhei__err *e)
{
    return scalar(c, "SELECT value FROM _rhei_state WHERE key = 'pruned_upto'", 0, out, e);
}

int rhei__cdc_consumer_set(rhei__conn *w, const char *name, int64_t applied, rhei__err *e)
{
    rhei_value p[3] = {rhei_text(name), rhei_int(applied), rhei_int((int64_t)getpid())};
    return rhei__conn_exec(w, "INSERT INTO _rhei_consumers VALUES (?1, ?2, ?3) ON CONFLICT(name)"
                              " DO UPDATE SET applied = excluded.applied, pid = excluded.pid",
                           p, 3, NULL, e);
}

int rhei__cdc_consumer_drop(rhei__conn *w, const char *name, rhei__err *e)
{
    rhei_value p = rhei_text(name);
    return rhei__conn_exec(w, "DELETE FROM _rhei_consumers WHERE name = ?1", &p, 1, NULL, e);
}

/* Drops volatile consumers whose process is gone (killed without closing). */
static int reap_dead(rhei__conn *w, rhei__err *e)
{
    rhei_result *r = NULL;
    int rc = rhei__conn_query(w, "SELECT name, pid FROM _rhei_consumers WHERE name LIKE 'mem:%'",
                              NULL, 0, &r, e);
    for (size_t i = 0; rc == RHEI_OK && i < rhei_result_row_count(r); i++) {
        pid_t pid = (pid_t)rhei_result_int64(r, i, 1);
        if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
            continue;
        rc = rhei__cdc_consumer_drop(w, rhei_result_text(r, i, 0, NULL), e);
    }
    rhei_result_free(r);
    return rc;
}

int rhei__cdc_prune(rhei__conn *w, const char *name, int64_t applied, int64_t max_rows,
                    int *out_more, rhei__err *e)
{
    int64_t upto = applied, lo = 0;
    *out_more = 0;
    int rc = rhei__conn_exec(w, "BEGIN IMMEDIATE", NULL, 0, NULL, e);
    if (rc)
        return rhei__err_wrap(e, "cannot prune the change log"); /* nothing of ours to end */
    rc = rhei__cdc_consumer_set(w, name, applied, e);
    if (rc == RHEI_OK)
        rc = reap_dead(w, e);
    if (rc == RHEI_OK)
        rc = scalar(w, "SELECT min(applied) FROM _rhei_consumers", 0, &upto, e);
    if (rc == RHEI_OK)
        rc = scalar(w, "SELECT coalesce(min(seq), 0) FROM _rhei_log", 0, &lo, e);
    if (upto > applied)
        upto = applied;
    int64_t hi = lo + max_rows - 1 < upto ? lo + max_rows - 1 : upto;
    rhei_value p = rhei_int(hi);
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(w, "DELETE FROM _rhei_log WHERE seq <= ?1 AND seq <"
                                " (SELECT max(seq) FROM _rhei_log)", &p, 1, NULL, e);
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(w, "INSERT INTO _rhei_state(key, value) VALUES ('pruned_upto', ?1)"
                                " ON CONFLICT(key) DO UPDATE SET value ="
                                " max(value, excluded.value)", &p, 1, NULL, e);
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(w, "COMMIT", NULL, 0, NULL, e);
    if (rc) {
        rhei__err tmp;
        rhei__conn_exec(w, "ROLLBACK", NULL, 0, NULL, &tmp);
        return rhei__err_wrap(e, "cannot prune the change log");
    }
    *out_more = hi < upto;
    return RHEI_OK;
}
