/* cmd_exec.c — `rh exec` (writes and DDL on SQLite; ddl.c keeps replication in step),
 * `rh query` (routed reads) and `rh register`; the statement runners here are shared with the
 * REPL. A script runs statement by statement and stops at the first failure; what committed
 * before it stays committed, and an owner syncs it before exiting. */
#include "rh.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

typedef struct write_ctx {
    rh_session *s;
    int no_register;
    int64_t changes;
    int code;
} write_ctx;

static int write_stmt(void *ud, const char *stmt, size_t len)
{
    write_ctx *w = ud;
    int64_t n = 0;
    char *sql = dup_n(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return w->code = RH_EXIT_ERR;
    }
    w->code = rh_run_write_stmt(w->s, sql, len, w->no_register, &n);
    w->changes += n;
    free(sql);
    if (w->code == RH_EXIT_OK && rh_take_sigint()) {
        rh_err("interrupted: the statement had already committed; the rest was skipped");
        w->code = RH_EXIT_ERR;
    }
    return w->code; /* non-zero stops the script */
}

int rh_run_write(rh_session *s, const char *sql, int no_register, int64_t *out_changes)
{
    write_ctx w = {s, no_register, 0, RH_EXIT_OK};
    rh_sql_each(sql, write_stmt, &w);
    /* An owner applies what committed now, so the next `rh query` reads it from OLAP; a
     * guest leaves that to the owner's background sync. */
    if (!s->guest) {
        int rc = rhei_sync_now(s->db, NULL);
        if (rc != RHEI_OK && w.code == RH_EXIT_OK)
            w.code = rh_db_err(s->db, rc, "sync after the write failed");
    }
    if (out_changes)
        *out_changes = w.changes;
    return w.code;
}

/* While a query runs, SIGINT (blocked in every thread so readline and the engine never see
 * it) is taken here and turned into rhei_interrupt: Ctrl-C cancels the query itself. */
typedef struct sigint_watch {
    rhei_db *db;
    _Atomic int done;
    _Atomic int fired;
} sigint_watch;

static void *watch_main(void *arg)
{
    sigint_watch *w = arg;
    sigset_t one;
    struct timespec tick = {0, 50 * 1000 * 1000}; /* how soon `done` is noticed */
    sigemptyset(&one);
    sigaddset(&one, SIGINT);
    while (!w->done) {
        if (sigtimedwait(&one, NULL, &tick) == SIGINT) {
            w->fired = 1;
            rhei_interrupt(w->db);
        }
    }
    return NULL;
}

int rh_run_read(rh_session *s, const char *sql, const rh_opts *o, int *out_rc)
{
    /* A guest's OLAP copy was taken at open, after every earlier command committed: that is
     * read-your-writes already, and a strong read would run a sync cycle a guest must not. */
    rhei_query_opts q = {o->hint, s->guest ? RHEI_EVENTUAL : o->consistency};
    rhei_result *r = NULL;
    double t0 = rh_now_ms();
    sigint_watch watch = {s->db, 0, 0};
    pthread_t watcher;
    int watching = pthread_create(&watcher, NULL, watch_main, &watch) == 0;
    int rc = rhei_query_ex(s->db, sql, NULL, 0, &q, &r);
    watch.done = 1;
    if (watching)
        pthread_join(watcher, NULL);
    double elapsed = rh_now_ms() - t0;
    if (watch.fired || rc == RHEI_INTERRUPTED) {
        rh_note_sigint(); /* the REPL drops the rest of the line, as for any Ctrl-C */
        rh_err("interrupted: the query was cancelled");
        rhei_result_free(r);
        if (out_rc)
            *out_rc = RHEI_INTERRUPTED;
        return RH_EXIT_ERR;
    }
    if (out_rc)
        *out_rc = rc;
    if (rc == RHEI_MISUSE && out_rc)
        return RH_EXIT_ERR; /* the caller decides: the REPL runs it as a write */
    if (rc != RHEI_OK) {
        rh_db_err(s->db, rc, "query failed");
        if (rc == RHEI_MISUSE)
            rh_err("use `rh exec` for writes and DDL");
        return RH_EXIT_ERR;
    }
    rh_print_opts po = {o->format, o->timer, o->explain, elapsed,
                        rh_side_name(rhei_result_side(r)), rhei_result_reason(r)};
    rh_print_result(stdout, r, &po);
    rhei_result_free(r);
    fflush(stdout);
    return RH_EXIT_OK;
}

/* The SQL argument, or stdin when it is "-" or absent and stdin is not a terminal. */
static char *sql_arg(const rh_opts *o, const char *cmd)
{
    if (o->nargs > 1) {
        rh_err("%s takes one SQL argument (quote it); got %d", cmd, o->nargs);
        return NULL;
    }
    char *sql = NULL;
    if (o->nargs == 1 && strcmp(o->args[0], "-") != 0)
        sql = strdup(o->args[0]);
    else if (o->nargs == 1 || !isatty(STDIN_FILENO))
        sql = rh_read_all(stdin);
    if (sql && rh_sql_blank(sql)) {
        free(sql);
        sql = NULL;
    }
    if (!sql)
        rh_err("%s needs SQL: rh %s --db FILE \"SQL\" (or SQL on stdin)", cmd, cmd);
    return sql;
}

int rh_cmd_exec(const rh_opts *o)
{
    rh_session s;
    char *sql = sql_arg(o, "exec");
    if (!sql)
        return RH_EXIT_USAGE;
    int code = rh_session_open(&s, o, "exec", RH_SYNC_ON_DEMAND);
    if (code == RH_EXIT_OK) {
        code = rh_run_write(&s, sql, o->no_register, NULL);
        int c2 = rh_session_close(&s);
        code = code ? code : c2;
    }
    free(sql);
    return code;
}

typedef struct read_ctx {
    rh_session *s;
    const rh_opts *o;
    int code;
} read_ctx;

static int read_stmt(void *ud, const char *stmt, size_t len)
{
    read_ctx *rc = ud;
    char *sql = dup_n(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return rc->code = RH_EXIT_ERR;
    }
    rc->code = rh_run_read(rc->s, sql, rc->o, NULL);
    free(sql);
    return rc->code;
}

int rh_cmd_query(const rh_opts *o)
{
    rh_session s;
    char *sql = sql_arg(o, "query");
    if (!sql)
        return RH_EXIT_USAGE;
    int code = rh_session_open(&s, o, "query", RH_SYNC_ON_DEMAND);
    if (code == RH_EXIT_OK) {
        read_ctx rc = {&s, o, RH_EXIT_OK};
        rh_sql_each(sql, read_stmt, &rc);
        int c2 = rh_session_close(&s);
        code = rc.code ? rc.code : c2;
    }
    free(sql);
    return code;
}

int rh_cmd_register(const rh_opts *o)
{
    rh_session s;
    if (o->nargs < 1) {
        rh_err("register needs table names: rh register --db FILE TABLE...");
        return RH_EXIT_USAGE;
    }
    int code = rh_session_open(&s, o, "register", RH_SYNC_ON_DEMAND);
    for (int i = 0; code == RH_EXIT_OK && i < o->nargs; i++)
        code = rh_register_one(&s, o->args[i], 0);
    int c2 = rh_session_close(&s);
    return code ? code : c2;
}
