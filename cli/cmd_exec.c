/* cmd_exec.c — `rh exec` (writes and DDL on SQLite; ddl.c keeps replication in step),
 * `rh query` (routed reads); the statement runners here are shared with the
 * REPL. A script runs statement by statement and stops at the first failure; what committed
 * before it stays committed, and an owner syncs it before exiting. */
#include "rh.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
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

/* A script of several lines names the line of a failing statement ("near line 3"). */
static void script_context(const char *base, const char *stmt, size_t len)
{
    if (base)
        rh_err_context(NULL, rh_line_of(base, (size_t)(stmt - base), 1), stmt, len);
}

typedef struct write_ctx {
    rh_session *s;
    int no_register;
    int64_t changes;
    int code;
    const char *base; /* the script, when errors name lines */
} write_ctx;

static int write_stmt(void *ud, const char *stmt, size_t len)
{
    write_ctx *w = ud;
    int64_t n = 0;
    script_context(w->base, stmt, len);
    char *sql = dup_n(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return w->code = RH_EXIT_ERR;
    }
    w->code = rh_run_write_stmt(w->s, sql, len, w->no_register, &n);
    w->changes += n;
    free(sql);
    rh_err_context(NULL, 0, NULL, 0);
    if (w->code == RH_EXIT_OK && rh_take_sigint()) {
        rh_err("interrupted: the statement had already committed; the rest was skipped");
        w->code = RH_EXIT_ERR;
    }
    return w->code; /* non-zero stops the script */
}

static int run_script(rh_session *s, const char *sql, int no_register, int64_t *out_changes,
                      const char *base)
{
    write_ctx w = {s, no_register, 0, RH_EXIT_OK, base};
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

int rh_run_write(rh_session *s, const char *sql, int no_register, int64_t *out_changes)
{
    return run_script(s, sql, no_register, out_changes, NULL);
}

/* While a query runs in the REPL, SIGINT (blocked in every thread so readline and the engine
 * never see it) is read here from a signalfd and turned into rhei_interrupt: Ctrl-C cancels
 * the query itself. The watcher sleeps in poll() until the signal or the end of the query
 * (an eventfd), so waiting for it costs nothing. Where SIGINT is not blocked (one-shot
 * commands) Ctrl-C simply ends rh and there is no watcher. */
typedef struct sigint_watch {
    rhei_db *db;
    int sig_fd, stop_fd;
    pthread_t thread;
    _Atomic int fired;
} sigint_watch;

static void *watch_main(void *arg)
{
    sigint_watch *w = arg;
    struct pollfd fds[2] = {{w->sig_fd, POLLIN, 0}, {w->stop_fd, POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        struct signalfd_siginfo si;
        if (fds[0].revents && read(w->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
            w->fired = 1;
            rhei_interrupt(w->db);
        }
    }
    return NULL;
}

/* Starts the watcher when SIGINT is blocked here; returns 1 if one runs. */
static int watch_start(sigint_watch *w, rhei_db *db)
{
    sigset_t cur, one;
    w->db = db;
    w->sig_fd = w->stop_fd = -1;
    w->fired = 0;
    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0 || !sigismember(&cur, SIGINT))
        return 0;
    sigemptyset(&one);
    sigaddset(&one, SIGINT);
    w->sig_fd = signalfd(-1, &one, SFD_CLOEXEC | SFD_NONBLOCK);
    w->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (w->sig_fd >= 0 && w->stop_fd >= 0 && pthread_create(&w->thread, NULL, watch_main, w) == 0)
        return 1;
    if (w->sig_fd >= 0)
        close(w->sig_fd);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    return 0;
}

static void watch_stop(sigint_watch *w)
{
    uint64_t one = 1;
    if (write(w->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
        pthread_cancel(w->thread); /* cannot happen with an eventfd; never hang on it */
    pthread_join(w->thread, NULL);
    close(w->sig_fd);
    close(w->stop_fd);
}

static int print_rows(rh_session *s, rhei_result *r, int format, int timer, int explain,
                      double elapsed)
{
    rh_print_opts po = {(rh_format)format, timer, explain, elapsed,
                        rh_side_name(rhei_result_side(r)), rhei_result_reason(r),
                        s->headers_off};
    rh_print_result(stdout, r, &po);
    rhei_result_free(r);
    return rh_out_check(); /* a full disk or a closed pipe fails the statement */
}

int rh_exec_rows(rh_session *s, const char *sql, int64_t *changes)
{
    rhei_result *r = NULL;
    double t0 = rh_now_ms();
    int rc = rhei_execute_query(s->db, sql, NULL, 0, &r);
    if (rc != RHEI_OK)
        return rh_db_err(s->db, rc, "statement failed");
    int writes = rh_sql_kind(sql, strlen(sql)) == RH_STMT_ROWS_WRITE;
    *changes = writes ? (int64_t)rhei_result_row_count(r) : 0;
    if (rhei_result_column_count(r) == 0) {
        rhei_result_free(r);
        return RH_EXIT_OK;
    }
    int code = print_rows(s, r, s->format, 0, 0, rh_now_ms() - t0);
    if (code == RH_EXIT_OK && writes && s->show_changes) {
        printf("%lld row%s changed\n", (long long)*changes, *changes == 1 ? "" : "s");
        code = rh_out_check();
    }
    return code;
}

int rh_run_read(rh_session *s, const char *sql, const rh_opts *o, int *out_rc)
{
    /* A guest's OLAP copy was taken at open, after every earlier command committed: that is
     * read-your-writes already, and a strong read would run a sync cycle a guest must not. */
    rhei_query_opts q = {o->hint, s->guest ? RHEI_EVENTUAL : o->consistency};
    rhei_result *r = NULL;
    double t0 = rh_now_ms();
    sigint_watch watch;
    int watching = watch_start(&watch, s->db);
    int rc = rhei_query_ex(s->db, sql, NULL, 0, &q, &r);
    if (watching)
        watch_stop(&watch);
    double elapsed = rh_now_ms() - t0;
    if ((watching && watch.fired) || rc == RHEI_INTERRUPTED) {
        rh_note_sigint(); /* the REPL drops the rest of the line, as for any Ctrl-C */
        rh_err("interrupted: the query was cancelled");
        rhei_result_free(r);
        if (out_rc)
            *out_rc = RHEI_INTERRUPTED;
        return RH_EXIT_ERR;
    }
    if (rc == RHEI_MISUSE) {
        /* Refused as a write. A typo (no SQLite statement starts that way) is shown with
         * SQLite's own error; SQLite refuses it before running anything. A PRAGMA without
         * '=' reads: its rows are printed. */
        rh_stmt_kind k = rh_sql_kind(sql, strlen(sql));
        if (k == RH_STMT_UNKNOWN || k == RH_STMT_PRAGMA) {
            t0 = rh_now_ms();
            rc = rhei_execute_query(s->db, sql, NULL, 0, &r);
            elapsed = rh_now_ms() - t0;
            if (out_rc)
                *out_rc = rc == RHEI_MISUSE ? RHEI_SQL : rc;
            if (rc != RHEI_OK)
                return rh_db_err(s->db, rc, "query failed");
            return print_rows(s, r, o->format, o->timer, o->explain, elapsed);
        }
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
    return print_rows(s, r, o->format, o->timer, o->explain, elapsed);
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

int rh_exec_text(rh_session *s, const char *sql, const rh_opts *o)
{
    s->format = o->format;
    s->show_changes = o->changes;
    return run_script(s, sql, o->no_register, NULL, strchr(sql, '\n') ? sql : NULL);
}

int rh_cmd_exec(const rh_opts *o)
{
    rh_session s;
    char *sql = sql_arg(o, "exec");
    if (!sql)
        return RH_EXIT_USAGE;
    /* a running `rh serve` owning the database runs it (local.c) */
    int code = rh_local_forward(o, sql, strlen(sql));
    if (code < 0)
        code = rh_session_open(&s, o, "exec", RH_SYNC_ON_DEMAND);
    else
        s.db = NULL;
    if (code == RH_EXIT_OK && s.db) {
        code = rh_exec_text(&s, sql, o);
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
    const char *base; /* the script, when errors name lines */
} read_ctx;

static int read_stmt(void *ud, const char *stmt, size_t len)
{
    read_ctx *rc = ud;
    script_context(rc->base, stmt, len);
    char *sql = dup_n(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return rc->code = RH_EXIT_ERR;
    }
    rc->code = rh_run_read(rc->s, sql, rc->o, NULL);
    free(sql);
    rh_err_context(NULL, 0, NULL, 0);
    return rc->code;
}

int rh_query_text(rh_session *s, const char *sql, const rh_opts *o)
{
    read_ctx rc = {s, o, RH_EXIT_OK, strchr(sql, '\n') ? sql : NULL};
    rh_sql_each(sql, read_stmt, &rc);
    return rc.code;
}

typedef struct stmt_ctx {
    rh_session *s;
    const rh_opts *o;
    int code;
} stmt_ctx;

static int one_stmt(void *ud, const char *stmt, size_t len)
{
    stmt_ctx *c = ud;
    int erc = RHEI_OK;
    char *sql = dup_n(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return c->code = RH_EXIT_ERR;
    }
    int code = rh_run_read(c->s, sql, c->o, &erc);
    if (code != RH_EXIT_OK && erc == RHEI_MISUSE)
        code = rh_run_write(c->s, sql, c->o->no_register, NULL);
    free(sql);
    c->code = code ? code : c->code;
    return 0; /* like the REPL: the rest still runs */
}

int rh_statement_text(rh_session *s, const char *sql, const rh_opts *o)
{
    stmt_ctx c = {s, o, RH_EXIT_OK};
    rh_sql_each(sql, one_stmt, &c);
    return c.code;
}

void rh_catch_up(rh_session *s)
{
    if (s->guest)
        return;
    int rc = rhei_sync_now(s->db, NULL);
    if (rc != RHEI_OK)
        rh_db_err(s->db, rc, "warning: changes committed before this command not all applied");
}

int rh_cmd_query(const rh_opts *o)
{
    rh_session s;
    char *sql = sql_arg(o, "query");
    if (!sql)
        return RH_EXIT_USAGE;
    int code = rh_local_forward(o, sql, strlen(sql)); /* a running `rh serve` answers */
    if (code < 0) {
        code = rh_session_open(&s, o, "query", RH_SYNC_ON_DEMAND);
        if (code == RH_EXIT_OK) {
            rh_catch_up(&s);
            code = rh_query_text(&s, sql, o);
            int c2 = rh_session_close(&s);
            code = code ? code : c2;
        }
    }
    free(sql);
    return code;
}
