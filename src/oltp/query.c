/* query.c — running a read statement on a SQLite connection and collecting its rows into
 * a rhei_result. Cells keep SQLite's storage class; column types settle from the values. */
#include "cancel.h"
#include "mem.h"
#include "oltp.h"
#include "schema.h"
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int rhei__conn_snapshot_begin(rhei__conn *c, rhei__err *e)
{
    return rhei__conn_exec(c, "BEGIN", NULL, 0, NULL, e);
}

void rhei__conn_snapshot_end(rhei__conn *c, int ok)
{
    rhei__err ignored;
    rhei__conn_exec(c, ok ? "COMMIT" : "ROLLBACK", NULL, 0, NULL, &ignored);
}

static int push_cell(rhei_result *r, sqlite3_stmt *st, int i, rhei__err *e)
{
    rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0};
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        v.type = RHEI_TYPE_INTEGER;
        v.i = sqlite3_column_int64(st, i);
        break;
    case SQLITE_FLOAT:
        v.type = RHEI_TYPE_REAL;
        v.f = sqlite3_column_double(st, i);
        break;
    case SQLITE_TEXT:
        v.type = RHEI_TYPE_TEXT;
        v.s = (const char *)sqlite3_column_text(st, i);
        v.n = (size_t)sqlite3_column_bytes(st, i);
        break;
    case SQLITE_BLOB:
        v.type = RHEI_TYPE_BLOB;
        v.s = sqlite3_column_blob(st, i);
        v.n = (size_t)sqlite3_column_bytes(st, i);
        break;
    default:
        break;
    }
    return rhei__result_push(r, (size_t)i, &v, e);
}

/* Columns with no non-NULL cell take their declared type's storage class. */
static void settle_empty_columns(rhei_result *r)
{
    for (size_t c = 0; c < r->ncols; c++) {
        if (r->cols[c].seen & ~RHEI__TBIT(RHEI_TYPE_NULL))
            continue;
        rhei_type t;
        int p, s;
        rhei__type_from_decl(r->cols[c].decl, &t, &p, &s);
        r->cols[c].type = t == RHEI_TYPE_REAL || t == RHEI_TYPE_INTEGER || t == RHEI_TYPE_BLOB
                              ? t
                              : RHEI_TYPE_TEXT;
    }
}

int rhei__conn_query(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                     rhei_result **out, rhei__err *e)
{
    return rhei__conn_query_max(c, sql, params, n, -1, out, e);
}

int rhei__conn_query_max(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                         int64_t max_rows, rhei_result **out, rhei__err *e)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    rhei_result *r = NULL;
    int rc = rhei__conn_prepare(c, sql, &st, e);
    if (rc == RHEI_OK)
        rc = rhei__conn_bind(c, st, params, n, e);
    if (rc)
        return rc;
    /* The shape is read after the first step: a cached statement whose schema changed
     * (ALTER TABLE since it was prepared) is re-prepared by that step, and only then does
     * it report the new column list. */
    int src = sqlite3_step(st);
    int ncols = sqlite3_column_count(st);
    if ((rc = rhei__result_new((size_t)ncols, &r, e)) != RHEI_OK)
        goto fail;
    for (int i = 0; i < ncols; i++) {
        const char *decl = sqlite3_column_decltype(st, i);
        rc = rhei__result_set_column(r, (size_t)i, sqlite3_column_name(st, i), decl,
                                     RHEI_TYPE_NULL, 0, 0, e);
        if (rc)
            goto fail;
    }
    for (int64_t rows = 0; src == SQLITE_ROW && rows != max_rows;) {
        for (int i = 0; i < ncols; i++)
            if ((rc = push_cell(r, st, i, e)) != RHEI_OK)
                goto fail;
        rhei__result_end_row(r);
        if (++rows != max_rows)
            src = sqlite3_step(st);
    }
    if (src == SQLITE_ROW)
        src = SQLITE_DONE; /* max_rows read: the rest stays unread (reset below) */
    if (src != SQLITE_DONE) {
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
        goto fail;
    }
    sqlite3_reset(st);
    settle_empty_columns(r);
    rhei__result_finish(r);
    r->side = RHEI_SIDE_OLTP;
    *out = r;
    return RHEI_OK;
fail:
    sqlite3_reset(st);
    rhei_result_free(r);
    return rc;
}

int rhei__conn_describe(rhei__conn *c, const char *sql, rhei_result **out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    rhei_result *r = NULL;
    *out = NULL;
    int rc = rhei__conn_prepare(c, sql, &st, e);
    if (rc)
        return rc;
    int ncols = sqlite3_column_count(st);
    if ((rc = rhei__result_new((size_t)ncols, &r, e)) != RHEI_OK)
        return rc;
    for (int i = 0; i < ncols && rc == RHEI_OK; i++)
        rc = rhei__result_set_column(r, (size_t)i, sqlite3_column_name(st, i),
                                     sqlite3_column_decltype(st, i), RHEI_TYPE_NULL, 0, 0, e);
    if (rc) {
        rhei_result_free(r);
        return rc;
    }
    r->side = RHEI_SIDE_OLTP;
    *out = r;
    return RHEI_OK;
}

/* Rows of table `name` (a rowid table's largest rowid: O(log n), close to its row count). */
static int64_t table_rows(rhei__conn *c, const char *name, size_t n)
{
    char sql[320];
    sqlite3_stmt *st = NULL;
    rhei__err ignored;
    int64_t rows = 0;
    if (n > 200 || memchr(name, '"', n))
        return 0;
    snprintf(sql, sizeof sql, "SELECT max(rowid) FROM \"%.*s\"", (int)n, name);
    if (rhei__conn_prepare(c, sql, &st, &ignored) != RHEI_OK)
        return 0; /* WITHOUT ROWID, a view, ...: unknown, counted as small */
    if (sqlite3_step(st) == SQLITE_ROW)
        rows = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rows;
}

/* What one walk of SQLite's plan lines found. Lists: 0 the tables the plan scans, 1 those it
 * scans or searches through an index; each keeps its lines' count and their first names. */
#define PLAN_TABLES 8
typedef struct plan_walk {
    int64_t lines[2];
    char names[2][PLAN_TABLES][128];
    size_t nnames[2];
    int scans, uncovered, sorts; /* SCAN lines; one not through a covering index; a temp B-tree */
} plan_walk;

/* One line of EXPLAIN QUERY PLAN (its detail column; subquery and other lines name nothing). */
static void plan_line(plan_walk *w, const char *d)
{
    if (!d)
        return;
    int scan = strncmp(d, "SCAN ", 5) == 0, search = strncmp(d, "SEARCH ", 7) == 0;
    if (scan || search) {
        const char *name = d + (scan ? 5 : 7);
        size_t n = strcspn(name, " ");
        for (int k = scan ? 0 : 1; k < 2; k++) {
            w->lines[k]++; /* a scan reads at least one row, even of a table of unknown size */
            if (n < sizeof w->names[k][0] && w->nnames[k] < PLAN_TABLES) {
                memcpy(w->names[k][w->nnames[k]], name, n);
                w->names[k][w->nnames[k]++][n] = '\0';
            }
        }
    }
    if (scan) {
        w->scans++;
        w->uncovered |= !strstr(d, " USING COVERING INDEX ");
    }
    w->sorts |= strncmp(d, "USE TEMP B-TREE", 15) == 0;
}

/* Walks SQLite's plan for sql once, line by line, into *w (zeroed first). -1 when SQLite
 * cannot plan the text. */
static int plan_walk_run(rhei__conn *c, const char *sql, plan_walk *w)
{
    char buf[4200];
    sqlite3_stmt *st = NULL;
    rhei__err ignored;
    memset(w, 0, sizeof *w);
    if (snprintf(buf, sizeof buf, "EXPLAIN QUERY PLAN %s", sql) >= (int)sizeof buf)
        return -1;
    /* EXPLAIN QUERY PLAN never opens a read transaction, so it would plan with the schema
     * this connection last saw (an index created since would be missed): a read of
     * sqlite_master checks the schema cookie and reloads a changed schema. */
    if (rhei__conn_prepare(c, "SELECT 1 FROM sqlite_master LIMIT 1", &st, &ignored) == RHEI_OK) {
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    /* Not from the cache: a cached plan would outlive the schema it was made with. */
    if (sqlite3_prepare_v2(rhei__conn_db(c), buf, -1, &st, NULL) != SQLITE_OK || !st) {
        sqlite3_finalize(st);
        return -1;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        plan_line(w, (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    return 0;
}

/* List k's rows: its lines plus the size of each table it names. */
static int64_t plan_rows(rhei__conn *c, const plan_walk *w, int k)
{
    int64_t total = w->lines[k];
    for (size_t i = 0; i < w->nnames[k]; i++)
        total += table_rows(c, w->names[k][i], strlen(w->names[k][i]));
    return total;
}

int rhei__conn_plan(rhei__conn *c, const char *sql, unsigned want, rhei__plan *out)
{
    plan_walk w;
    memset(out, 0, sizeof *out);
    if (plan_walk_run(c, sql, &w))
        return -1;
    if (want & RHEI__PLAN_SCAN_ROWS)
        out->scan_rows = plan_rows(c, &w, 0);
    if (want & RHEI__PLAN_REACH_ROWS)
        out->reach_rows = plan_rows(c, &w, 1);
    out->sorts = w.sorts;
    out->distinct_indexed = w.scans > 0 && !w.uncovered && !w.sorts;
    return 0;
}

int64_t rhei__conn_scan_rows(rhei__conn *c, const char *sql)
{
    rhei__plan p;
    return rhei__conn_plan(c, sql, RHEI__PLAN_SCAN_ROWS, &p) ? -1 : p.scan_rows;
}

int64_t rhei__conn_reach_rows(rhei__conn *c, const char *sql)
{
    rhei__plan p;
    return rhei__conn_plan(c, sql, RHEI__PLAN_REACH_ROWS, &p) ? -1 : p.reach_rows;
}

int rhei__conn_plan_sorts(rhei__conn *c, const char *sql)
{
    rhei__plan p;
    return rhei__conn_plan(c, sql, 0, &p) ? -1 : p.sorts;
}

int rhei__conn_plan_distinct_indexed(rhei__conn *c, const char *sql)
{
    rhei__plan p;
    return rhei__conn_plan(c, sql, 0, &p) ? -1 : p.distinct_indexed;
}

typedef struct budget {
    int64_t budget_us;         /* < 0: no limit, only the cancel token stops the read */
    int64_t wall0_us, cpu0_us; /* at the handler's first call; wall0 0: not started */
    int over;
    rhei_cancel *cancel; /* NULL: none */
} budget;

/* This thread's CPU time: a thread preempted on a busy machine has not spent its budget, and
 * a read that moves to DuckDB stays there (the route cache keeps it), so wall time would
 * move short reads for good on a bad moment. Unlike the wall clock it is a system call
 * (no vDSO), ~0.5 us here. */
static int64_t cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* SQLite's progress handler: a nonzero return interrupts the running statement. The clocks
 * start at the first call, after ~1000 VM steps: a read that ends sooner (a point lookup,
 * ORDER BY key LIMIT 10) reads no clock at all, and the few microseconds before the first
 * call are nothing against the budget. A thread's CPU time never runs ahead of the wall
 * clock, so the CPU clock is read only once the wall clock says the budget may be spent:
 * reading it at every call cost a 15 ms DISTINCT 14% of its time. */
static int over_budget(void *arg)
{
    budget *b = arg;
    if (rhei__cancel_fired(b->cancel))
        return 1;
    if (b->budget_us < 0)
        return 0;
    int64_t wall = wall_us();
    if (!b->wall0_us) {
        b->wall0_us = wall;
        b->cpu0_us = cpu_us();
        return 0;
    }
    if (wall - b->wall0_us <= b->budget_us || cpu_us() - b->cpu0_us <= b->budget_us)
        return 0;
    b->over = 1;
    return 1;
}

int rhei__conn_query_within(rhei__conn *c, const char *sql, const rhei_value *params, size_t n,
                            int64_t max_rows, int64_t budget_us, rhei_cancel *cancel, int *out_over,
                            rhei_result **out, rhei__err *e)
{
    budget b = {budget_us, 0, 0, 0, cancel};
    sqlite3 *h = rhei__conn_db(c);
    /* Every ~1000 VM steps, a few us: the token is one atomic load, and a read without a
     * budget reads no clock. SQLite's own sqlite3_interrupt cannot serve the token: a fire
     * between attaching it and the statement's start would be cleared by that start. */
    if (budget_us >= 0 || cancel)
        sqlite3_progress_handler(h, 1000, over_budget, &b);
    int rc = rhei__conn_query_max(c, sql, params, n, max_rows, out, e);
    if (budget_us >= 0 || cancel)
        sqlite3_progress_handler(h, 0, NULL, NULL);
    if (rc != RHEI_OK && rhei__cancel_fired(cancel)) {
        rhei__err_clear(e);
        rc = rhei__err_set(e, RHEI_INTERRUPTED, "query cancelled");
    }
    *out_over = b.over && rc != RHEI_OK && !rhei__cancel_fired(cancel);
    return rc;
}
