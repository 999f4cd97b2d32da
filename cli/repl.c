/* repl.c — `rh repl`: an interactive shell on GNU readline (persistent history, statements
 * spanning lines until ';', Ctrl-C clears the line) that also runs scripts from a pipe (no
 * prompts; exit code 1 if any statement failed). Signals: in a terminal SIGINT (and SIGTERM,
 * SIGHUP, SIGWINCH) are blocked on every thread and let through only while waiting for input
 * (pselect), so a Ctrl-C during a statement stays pending and is noticed when it returns. */
#include "repl.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>

#define HISTORY_MAX 2000

static volatile sig_atomic_t got_sigint, got_sigwinch, got_stop;
static rh_repl *the_repl; /* readline's line callback takes no user data */

static void on_signal(int sig)
{
    if (sig == SIGINT)
        got_sigint = 1;
    else if (sig == SIGWINCH)
        got_sigwinch = 1;
    else
        got_stop = 1; /* SIGTERM, SIGHUP: leave through the normal exit (history, close) */
}

/* --- running input ------------------------------------------------------------------------ */

static int run_one(void *ud, const char *stmt, size_t len)
{
    rh_repl *r = ud;
    int erc = RHEI_OK, code;
    char *sql = strndup(stmt, len);
    if (!sql) {
        rh_err("out of memory");
        return r->failed = 1;
    }
    r->s.format = r->o.format; /* rows of writes (RETURNING) print like reads */
    if (!r->interactive || r->src) /* a script's errors say where */
        rh_err_context(r->src, rh_line_of(r->run_base, (size_t)(stmt - r->run_base),
                                          r->stmt_line), stmt, len);
    /* The service owning the database runs it when there is one (local.c). Otherwise a
     * read is tried first; the engine refuses a write with RHEI_MISUSE (its router knows
     * writes exactly), and then it runs on SQLite. */
    code = r->remote ? rh_local_statement(&r->o, r->s.headers_off, r->s.show_changes, sql) : -1;
    if (code < 0) {
        code = rh_run_read(&r->s, sql, &r->o, &erc);
        if (code != RH_EXIT_OK && erc == RHEI_MISUSE)
            code = rh_run_write(&r->s, sql, r->o.no_register, NULL);
    }
    free(sql);
    rh_err_context(NULL, 0, NULL, 0);
    if (code != RH_EXIT_OK)
        r->failed = 1;
    /* after a Ctrl-C the rest of the input is dropped; other failures let it go on */
    return rh_sigint_seen();
}

void rh_repl_run_sql(rh_repl *r, const char *sql)
{
    const char *outer = r->run_base;
    r->run_base = sql;
    rh_sql_each(sql, run_one, r);
    r->run_base = outer;
    if (r->once)
        rh_repl_output_reset(r);
}

static int buf_append(rh_repl *r, const char *line)
{
    size_t n = strlen(line);
    if (r->len + n + 2 > RH_SQL_MAX) {
        rh_err("statement is longer than %u bytes; discarded", RH_SQL_MAX);
        r->len = 0;
        r->failed = 1;
        return -1;
    }
    if (r->len + n + 2 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + n + 2)
            cap *= 2;
        char *p = realloc(r->buf, cap);
        if (!p) {
            rh_err("out of memory");
            r->failed = 1;
            return -1;
        }
        r->buf = p;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, line, n);
    r->len += n;
    r->buf[r->len++] = '\n';
    r->buf[r->len] = '\0';
    return 0;
}

/* One line of input: a dot command (only at the start of a statement) or more SQL. */
void rh_repl_line(rh_repl *r, const char *line)
{
    const char *p = line + strspn(line, " \t");
    r->lineno++;
    if (r->len == 0 && *p == '.') {
        if (r->interactive && !r->src)
            add_history(p);
        int once = r->once;
        rh_repl_meta(r, p);
        if (once && r->once) /* .once FILE applies to the next command, not to itself */
            rh_repl_output_reset(r);
        return;
    }
    if (r->len == 0)
        r->stmt_line = r->lineno;
    if (buf_append(r, line) != 0)
        return;
    if (rh_sql_blank(r->buf)) {
        r->len = 0;
        return;
    }
    if (!rh_sql_complete(r->buf))
        return;
    if (r->interactive && !r->src) {
        r->buf[r->len - 1] = '\0'; /* history without the final newline */
        add_history(r->buf);
    }
    r->len = 0; /* before running: a .read inside cannot see this statement */
    rh_repl_run_sql(r, r->buf);
}

static const char *prompt(const rh_repl *r) { return r->len ? "..> " : "rh> "; }

/* --- pipe mode ---------------------------------------------------------------------------- */

static void run_pipe(rh_repl *r)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!r->quit && (n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        rh_repl_line(r, line);
    }
    free(line);
    /* a last statement without its ';' still runs, as the author plainly meant it */
    if (!r->quit && r->len && !rh_sql_blank(r->buf))
        rh_repl_run_sql(r, r->buf);
}

/* --- terminal mode ------------------------------------------------------------------------ */

static void line_cb(char *line)
{
    rh_repl *r = the_repl;
    if (!line) { /* Ctrl-D */
        /* removed here, not after the loop: a handler still installed when this returns
         * makes readline draw the prompt again on the way out */
        rl_callback_handler_remove();
        r->quit = 1;
        return;
    }
    rh_repl_line(r, line);
    free(line);
    rl_set_prompt(prompt(r));
}

static void cancel_line(rh_repl *r)
{
    r->len = 0; /* Ctrl-C also drops the lines of an unfinished statement */
    rl_callback_sigcleanup();
    rl_replace_line("", 0);
    using_history(); /* back to the newest entry, as after an accepted line */
    rl_crlf();
    rl_set_prompt(prompt(r));
    rl_on_new_line();
    rl_redisplay();
}

static void history_file(char *path, size_t cap)
{
    const char *env = getenv("RH_HISTORY"), *home = getenv("HOME");
    path[0] = '\0';
    if (env && *env)
        snprintf(path, cap, "%s", env);
    else if (home && *home)
        snprintf(path, cap, "%s/.rh_history", home);
}

static void run_terminal(rh_repl *r, const sigset_t *waitmask)
{
    the_repl = r;
    rl_catch_signals = 0; /* our own handlers: readline's would re-raise SIGINT */
    rl_catch_sigwinch = 0;
    rl_readline_name = "rh";
    /* an edited history entry left with Ctrl-C is restored, not saved to the file edited */
    rl_variable_bind("revert-all-at-newline", "on");
    rl_callback_handler_install(prompt(r), line_cb);
    while (!r->quit) {
        fd_set fds;
        struct timespec tick = {0, 200 * 1000 * 1000}; /* a signal to another thread is seen */
        FD_ZERO(&fds);
        FD_SET(STDIN_FILENO, &fds);
        int n = pselect(STDIN_FILENO + 1, &fds, NULL, NULL, &tick, waitmask);
        if (got_stop)
            break;
        if (got_sigwinch) {
            got_sigwinch = 0;
            rl_resize_terminal();
        }
        if (got_sigint) {
            got_sigint = 0;
            cancel_line(r);
        } else if (n > 0) {
            rl_callback_read_char();
        } else if (n < 0 && errno != EINTR) {
            break;
        }
    }
    rl_callback_handler_remove();
}

static void banner(const rh_repl *r)
{
    printf("rh %s on %s (rhei %s). Enter .help for help.\n", RH_VERSION,
           r->tmpdir ? "a temporary in-memory database" : r->s.oltp_path, rhei_version());
    if (r->remote)
        printf("note: %s serves this file: statements run there (dot commands here)\n",
               r->s.owner);
    else if (r->s.guest)
        printf("note: sync of this file is owned by %s. This shell reads an OLAP copy taken\n"
               "now and never syncs it, so reads go to SQLite (.hint oltp); .hint auto routes"
               " them.\n", r->s.owner);
    else if (r->s.sync_interval_ms > 0)
        printf("olap %s, background sync every %lld ms\n", r->s.olap_path,
               (long long)r->s.sync_interval_ms);
}

/* Blocks SIGINT, SIGWINCH, SIGTERM and SIGHUP on this thread (engine threads created later
 * inherit it) and fills waitmask, the mask pselect installs while waiting for input. */
static void block_signals(sigset_t *waitmask)
{
    struct sigaction sa;
    sigset_t block;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: pselect returns EINTR */
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = {SIGINT, SIGWINCH, SIGTERM, SIGHUP};
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&block, sigs[i]);
    }
    pthread_sigmask(SIG_BLOCK, &block, waitmask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigdelset(waitmask, sigs[i]);
}

/* `rh repl` without a database, like `sqlite3` alone: a SQLite file in a private temporary
 * folder (the engine's writer and readers need one file to share) with OLAP in memory,
 * all removed on exit. */
static int temp_database(rh_repl *r, char *path, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    char tmpl[RH_PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/rh-mem-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl) || !(r->tmpdir = strdup(tmpl))) {
        rh_err("cannot make a temporary database folder in '%s': %s", tmpl, strerror(errno));
        return RH_EXIT_ERR;
    }
    snprintf(path, cap, "%s/memory.db", tmpl);
    r->o.db = path;
    r->o.olap = ":memory:";
    return RH_EXIT_OK;
}

static void remove_temp_database(rh_repl *r)
{
    static const char *const files[] = {"memory.db", "memory.db-wal", "memory.db-shm",
                                        "memory.db.rh-lock", "memory.db-journal"};
    char path[RH_PATH_MAX + 32];
    if (!r->tmpdir)
        return;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", r->tmpdir, files[i]);
        unlink(path);
    }
    rmdir(r->tmpdir);
    free(r->tmpdir);
    r->tmpdir = NULL;
}

/* `rh repl [FILE] [SQL]`, `rh FILE [SQL]`: FILE when no --db names the database; SQL runs
 * as a script instead of reading stdin. */
static int repl_args(rh_repl *r, const rh_opts *o, const char **sql, char *mem, size_t cap)
{
    int i = 0;
    *sql = NULL;
    if (!o->db && !o->config && i < o->nargs)
        r->o.db = o->args[i++];
    if (i < o->nargs)
        *sql = o->args[i++];
    if (i < o->nargs || (*sql && (o->db || o->config) && o->nargs > 1)) {
        rh_err("repl takes a database and one SQL argument: rh repl [FILE] [\"SQL\"]");
        return RH_EXIT_USAGE;
    }
    if (!r->o.db && !o->config)
        return temp_database(r, mem, cap);
    return RH_EXIT_OK;
}

int rh_cmd_repl(const rh_opts *o)
{
    rh_repl r = {.o = *o, .saved_stdout = -1};
    sigset_t waitmask;
    char hist[RH_PATH_MAX], mem[RH_PATH_MAX + 16];
    const char *sql = NULL;
    int code = repl_args(&r, o, &sql, mem, sizeof mem);
    if (code != RH_EXIT_OK)
        return code;
    r.interactive = isatty(STDIN_FILENO) && !sql;
    if (r.interactive)
        block_signals(&waitmask);
    code = rh_session_open(&r.s, &r.o, "repl", RH_SYNC_BACKGROUND);
    if (code != RH_EXIT_OK) {
        remove_temp_database(&r);
        return code;
    }
    r.s.show_changes = r.interactive;
    rh_catch_up(&r.s); /* the first statement must not beat the first background cycle */
    int fd = r.s.guest ? rh_local_open(&r.o) : -1;
    if (fd >= 0) {
        close(fd);
        r.remote = 1; /* statements go to the serving owner: fresh, read-your-writes */
    } else if (r.s.guest && r.o.hint == RHEI_SIDE_AUTO) {
        r.o.hint = RHEI_SIDE_OLTP; /* the guest's OLAP copy goes stale; SQLite never does */
    }
    if (r.interactive) {
        history_file(hist, sizeof hist);
        using_history();
        stifle_history(HISTORY_MAX);
        if (hist[0])
            read_history(hist);
        banner(&r);
        run_terminal(&r, &waitmask);
        if (hist[0] && write_history(hist) == 0)
            chmod(hist, 0600); /* statements may hold data: keep history private */
    } else if (sql) {
        r.stmt_line = 1;
        rh_repl_run_sql(&r, sql);
    } else {
        run_pipe(&r);
    }
    rh_repl_output_reset(&r);
    free(r.buf);
    code = rh_session_close(&r.s);
    remove_temp_database(&r);
    /* a person saw each error as it happened; a script's caller learns it from the code */
    return !r.interactive && r.failed ? RH_EXIT_ERR : code;
}
