/* sc_test.h — shared by the sidecar tests: an OLAP store and a sidecar without an engine,
 * text dumps of query results on both sides for row-by-row comparison, a throwaway
 * PostgreSQL server (scripts/pg_test.sh) reached through psql, and a child process that runs
 * cycles and reports each committed page through a pipe (for kill -9 tests).
 *
 * Until the build wires src/sidecar in (include path + module), sidecar.h is not found: every
 * case then skips instead of failing to build (SC_RUN). */
#ifndef RHEI_TEST_SIDECAR_SC_TEST_H
#define RHEI_TEST_SIDECAR_SC_TEST_H
#include "test.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#if __has_include("sidecar.h")
#define SC_ON 1
#define SC_RUN(fn) fn()
#include "clock.h"
#include "mem.h"
#include "olap.h"
#include "result.h"
#include "sidecar.h"
#include "value.h"

/* Deterministic PRNG so a failing seed can be replayed. */
static inline uint64_t sc_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- OLAP without an engine ---------------------------------------------------------------- */

static inline rhei__olap *sc_olap_open(const char *path)
{
    rhei__olap *o = NULL;
    rhei__err e;
    rhei__olap_opts opts = {path ? path : ":memory:", 2, "", 2, 0};
    if (rhei__olap_duckdb.open(&opts, &o, &e) != RHEI_OK)
        FAIL("olap open '%s': %s", path ? path : ":memory:", e.msg);
    return o;
}

static inline rhei_result *sc_olap_query(rhei__olap *o, const char *sql)
{
    rhei_result *r = NULL;
    rhei__err e;
    if (rhei__olap_duckdb.query(o, sql, NULL, 0, &r, &e) != RHEI_OK)
        FAIL("olap query '%s': %s", sql, e.msg);
    return r;
}

static inline int64_t sc_olap_scalar(rhei__olap *o, const char *sql)
{
    rhei_result *r = sc_olap_query(o, sql);
    int64_t v = rhei_result_row_count(r) ? rhei_result_int64(r, 0, 0) : -1;
    rhei_result_free(r);
    return v;
}

/* Rows as "c1|c2|...\n", NULL as \N, in the result's order. Caller frees. */
static inline char *sc_result_dump(const rhei_result *r)
{
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    for (size_t i = 0; i < rhei_result_row_count(r); i++) {
        for (size_t c = 0; c < rhei_result_column_count(r); c++) {
            size_t n = 0;
            const char *t = rhei_result_is_null(r, i, c) ? "\\N" : rhei_result_text(r, i, c, &n);
            if (rhei_result_is_null(r, i, c))
                n = 2;
            while (len + n + 3 > cap)
                s = realloc(s, cap *= 2);
            if (c)
                s[len++] = '|';
            memcpy(s + len, t, n);
            len += n;
        }
        s[len++] = '\n';
        s[len] = '\0';
    }
    return s;
}

static inline char *sc_olap_dump(rhei__olap *o, const char *sql)
{
    rhei_result *r = sc_olap_query(o, sql);
    char *s = sc_result_dump(r);
    rhei_result_free(r);
    return s;
}

/* First differing line of two dumps, for the failure message. */
static inline void sc_same_dump(const char *what, const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return;
    size_t i = 0, line = 1, start = 0;
    for (; want[i] && want[i] == got[i]; i++)
        if (want[i] == '\n') {
            line++;
            start = i + 1;
        }
    FAIL("%s: differs at line %zu:\n  source: %.120s\n  mirror: %.120s", what, line,
         want + start, got + start);
}

/* ---- a sidecar ----------------------------------------------------------------------------- */

static inline rhei__sidecar *sc_new(const rhei__sidecar_cfg *cfg, rhei__olap *o)
{
    rhei__sidecar *sc = NULL;
    rhei__err e;
    if (rhei__sidecar_new(cfg, &rhei__olap_duckdb, o, &sc, &e) != RHEI_OK)
        FAIL("sidecar_new: %s", e.msg);
    return sc;
}

static inline rhei__sidecar_stats sc_cycle_ok(rhei__sidecar *sc)
{
    rhei__sidecar_stats st;
    rhei__err e;
    int rc = rhei__sidecar_cycle(sc, &st, &e);
    if (rc != RHEI_OK)
        FAIL("sidecar cycle: rc=%d (%s): %s", rc, rhei_errstr(rc), e.msg);
    return st;
}

/* Runs a cycle that must fail with code; returns its message (static buffer). */
static inline const char *sc_cycle_fails(rhei__sidecar *sc, int code)
{
    static rhei__err e;
    rhei__sidecar_stats st;
    int rc = rhei__sidecar_cycle(sc, &st, &e);
    if (rc != code)
        FAIL("sidecar cycle: rc=%d (%s), want %d: %s", rc, rhei_errstr(rc), code, e.msg);
    return e.msg;
}

static inline int64_t sc_watermark(rhei__sidecar *sc, const char *table)
{
    int64_t ts = 0;
    CHECK_INT(rhei__sidecar_watermark(sc, table, &ts), RHEI_OK);
    return ts;
}

#define CHECK_CONTAINS(hay, needle)                                                         \
    do {                                                                                    \
        const char *sc_h = (hay), *sc_n = (needle);                                         \
        if (!sc_h || !strstr(sc_h, sc_n))                                                   \
            FAIL("\"%s\" does not contain \"%s\"", sc_h ? sc_h : "(null)", sc_n);           \
    } while (0)

/* History invariants: at most one open version per key, versions of a key never overlap,
 * no key has two versions starting at the same moment (a row applied twice). key is the key
 * column list ("id" or "a, b"). */
static inline void sc_check_history(rhei__olap *o, const char *table, const char *key)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT %s FROM \"%s_history\" WHERE "
             "_rhei_valid_to IS NULL GROUP BY %s HAVING count(*) > 1)", key, table, key);
    CHECK_INT(sc_olap_scalar(o, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT _rhei_valid_from, _rhei_valid_to,"
             " lead(_rhei_valid_from) OVER (PARTITION BY %s ORDER BY _rhei_valid_from, "
             "coalesce(_rhei_valid_to, 9223372036854775807)) AS nxt FROM \"%s_history\") WHERE "
             "_rhei_valid_to IS NULL AND nxt IS NOT NULL OR _rhei_valid_to > nxt OR "
             "_rhei_valid_to < _rhei_valid_from", key, table);
    CHECK_INT(sc_olap_scalar(o, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT %s, _rhei_valid_from FROM "
             "\"%s_history\" GROUP BY ALL HAVING count(*) > 1)", key, table);
    CHECK_INT(sc_olap_scalar(o, sql), 0);
}

/* ---- child processes ----------------------------------------------------------------------- */

/* A child running fn(ud, write_fd); the parent reads one byte per reported event. */
typedef struct sc_child {
    pid_t pid;
    int fd; /* read end */
} sc_child;

static inline sc_child sc_fork(void (*fn)(void *ud, int fd), void *ud)
{
    int p[2];
    CHECK(pipe(p) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        fn(ud, p[1]);
        _exit(0);
    }
    close(p[1]);
    sc_child c = {pid, p[0]};
    return c;
}

/* Reads n bytes (blocking); returns how many came before the child closed the pipe. */
static inline size_t sc_wait_bytes(sc_child *c, size_t n)
{
    size_t got = 0;
    char buf[256];
    while (got < n) {
        size_t want = n - got < sizeof buf ? n - got : sizeof buf;
        ssize_t r = read(c->fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

static inline void sc_kill9(sc_child *c)
{
    int status = 0;
    kill(c->pid, SIGKILL);
    CHECK(waitpid(c->pid, &status, 0) == c->pid);
    close(c->fd);
}

/* Waits for a child that ends by itself; FAILs unless it exited 0. */
static inline void sc_join(sc_child *c)
{
    int status = 0;
    CHECK(waitpid(c->pid, &status, 0) == c->pid);
    close(c->fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("child %d ended with status %d", (int)c->pid, status);
}

/* Hook for children: one byte per committed OLAP transaction. */
static inline void sc_pipe_hook(void *ud, const char *table, int64_t rows)
{
    (void)table;
    (void)rows;
    char b = 'p';
    if (write(*(int *)ud, &b, 1) != 1)
        _exit(3); /* the parent is gone */
}

/* ---- PostgreSQL ---------------------------------------------------------------------------- */

static char sc_pg_dir[256];
static pid_t sc_pg_owner; /* only the process that started the server stops it */
static char sc_pg_conninfo[512];

static inline const char *sc_script(void)
{
    static char path[512];
    const char *src = getenv("RHEI_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/scripts/pg_test.sh", src ? src : ".");
    return path;
}

static inline void sc_pg_cleanup(void)
{
    if (!sc_pg_dir[0] || getpid() != sc_pg_owner)
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' stop '%s' >/dev/null 2>&1", sc_script(), sc_pg_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not stop postgres in %s\n", sc_pg_dir);
    sc_pg_dir[0] = '\0';
}

/* Starts a throwaway server (stopped at exit, also when a check fails); skips the case when
 * no PostgreSQL server binaries are installed. */
static inline const char *sc_pg_start(void)
{
    char cmd[1024];
    if (access("/usr/lib/postgresql", F_OK) != 0 && system("command -v pg_ctl >/dev/null") != 0)
        SKIP("no PostgreSQL server installed");
    snprintf(sc_pg_dir, sizeof sc_pg_dir, "/tmp/rhei-pg-XXXXXX");
    CHECK(mkdtemp(sc_pg_dir) != NULL);
    rmdir(sc_pg_dir); /* the script creates it with the right owner */
    sc_pg_owner = getpid();
    atexit(sc_pg_cleanup);
    /* with our pid: a watchdog removes the server even if this process crashes */
    snprintf(cmd, sizeof cmd, "bash '%s' start '%s' %d", sc_script(), sc_pg_dir, (int)getpid());
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!fgets(sc_pg_conninfo, sizeof sc_pg_conninfo, p))
        sc_pg_conninfo[0] = '\0';
    int rc = pclose(p);
    if (rc != 0 || !sc_pg_conninfo[0])
        FAIL("cannot start postgres (%s): status %d", cmd, rc);
    sc_pg_conninfo[strcspn(sc_pg_conninfo, "\n")] = '\0';
    return sc_pg_conninfo;
}

/* restart | down | up */
static inline void sc_pg_ctl(const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "bash '%s' %s '%s' >/dev/null", sc_script(), what, sc_pg_dir);
    if (system(cmd) != 0)
        FAIL("pg_test.sh %s failed", what);
}

/* Runs SQL through psql (ON_ERROR_STOP); FAILs on error. */
static inline void sc_psql(const char *sql)
{
    char path[300];
    snprintf(path, sizeof path, "%s/input.sql", sc_pg_dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(sql, f);
    fclose(f);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "psql -X -q -v ON_ERROR_STOP=1 '%s' -f '%s' >/dev/null",
             sc_pg_conninfo, path);
    if (system(cmd) != 0)
        FAIL("psql failed: %.300s", sql);
}

/* A query's rows as "c1|c2\n" lines, NULL as \N. Caller frees. */
static inline char *sc_psql_dump(const char *sql)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "psql -X -A -t -F '|' -P null='\\N' -v ON_ERROR_STOP=1 '%s' "
             "-c \"%s\"", sc_pg_conninfo, sql);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    size_t cap = 1 << 16, len = 0, n;
    char *s = malloc(cap);
    while ((n = fread(s + len, 1, cap - len - 1, p)) > 0)
        if ((len += n) + 1 == cap)
            s = realloc(s, cap *= 2);
    s[len] = '\0';
    if (pclose(p) != 0)
        FAIL("psql query failed: %s", sql);
    return s;
}

static inline int64_t sc_psql_scalar(const char *sql)
{
    char *s = sc_psql_dump(sql);
    int64_t v = strtoll(s, NULL, 10);
    free(s);
    return v;
}
/* Counts the rows the background loop applies (its commit hook) so a test can wait for
 * them instead of sleeping. */
typedef struct sc_applied {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t rows;
} sc_applied;
#define SC_APPLIED_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

static inline void sc_count_rows(void *ud, const char *table, int64_t rows)
{
    sc_applied *a = ud;
    (void)table;
    pthread_mutex_lock(&a->mu);
    a->rows += rows;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Waits until `rows` rows are applied in all; 60 s means they never will be. */
static inline void sc_wait_applied(sc_applied *a, int64_t rows)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&a->mu);
    while (a->rows < rows)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
            FAIL("the background loop applied %lld rows, want %lld", (long long)a->rows,
                 (long long)rows);
    pthread_mutex_unlock(&a->mu);
}

#else
#define SC_ON 0
#define SC_RUN(fn) SKIP("the sidecar module is not built into this test (src/sidecar not wired in)")
#endif
#endif
