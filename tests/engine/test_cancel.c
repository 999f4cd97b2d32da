/* test_cancel.c — rhei_cancel stops one query: a fire at any moment of a query that would
 * run for minutes (a cross join computed entirely before its first batch), on DuckDB or on
 * SQLite, makes rhei_query_arrow_ex return RHEI_INTERRUPTED within seconds, including a fire
 * before the call; a held stream ends with ECANCELED; other queries, and the next query on
 * the same pooled connection (a pool of one), are not interrupted. */
#include "engine/helpers.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define ROWS 150000
/* 22.5e9 pairs, aggregated before the first (only) batch: minutes on this machine. */
#define ENDLESS "SELECT sum((a.v * b.v) % 7) FROM big a, big b"
#define BOUND_S 20 /* a fire must end the call within this (ASan builds included) */

static rhei_db *open_pool(char *dir, size_t n, const char *pool)
{
    char path[512];
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    rt_tmpdir(dir, n);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", path), RHEI_OK);
    if (pool)
        CHECK_INT(rhei_config_set(cfg, "read_pool_size", pool), RHEI_OK);
    if (rhei_open(cfg, &db) != RHEI_OK)
        FAIL("rhei_open(%s): %s", dir, rhei_errmsg(NULL));
    rhei_config_free(cfg);
    th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER)");
    th_exec(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000)"
                " INSERT INTO big SELECT x, x * 3 FROM c");
    CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
    return db;
}

static int query_on(rhei_db *db, rhei_side side, const char *sql, rhei_cancel *c,
                    struct ArrowArrayStream *st)
{
    rhei_query_opts o = {side, RHEI_EVENTUAL};
    return rhei_query_arrow_ex(db, sql, NULL, 0, &o, c, NULL, st);
}

static int query(rhei_db *db, const char *sql, rhei_cancel *c, struct ArrowArrayStream *st)
{
    return query_on(db, RHEI_SIDE_OLAP, sql, c, st);
}

/* Streams sql to its end; returns the rows seen (fails the test on any error). */
static int64_t drain(rhei_db *db, const char *sql, rhei_cancel *c)
{
    struct ArrowArrayStream st;
    struct ArrowArray b;
    int64_t rows = 0;
    CHECK_OK(db, query(db, sql, c, &st));
    int rc;
    while ((rc = st.get_next(&st, &b)) == 0 && b.release) {
        rows += b.length;
        b.release(&b);
    }
    if (rc)
        FAIL("get_next of '%s': %d %s", sql, rc, st.get_last_error(&st));
    st.release(&st);
    return rows;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The endless query on its own thread; main learns when it entered the call and left it. */
typedef struct runner {
    rhei_db *db;
    rhei_side side;
    rhei_cancel *c;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entering, done, rc;
    char msg[256];
    double ended;
} runner;

static void *run_endless(void *arg)
{
    runner *r = arg;
    struct ArrowArrayStream st;
    pthread_mutex_lock(&r->mu);
    r->entering = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    int rc = query_on(r->db, r->side, ENDLESS, r->c, &st);
    double t = now_s();
    if (rc == RHEI_OK)
        st.release(&st);
    pthread_mutex_lock(&r->mu);
    r->rc = rc;
    snprintf(r->msg, sizeof r->msg, "%s", rc ? rhei_errmsg(r->db) : "");
    r->ended = t;
    r->done = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void start_runner(runner *r, rhei_db *db, rhei_side side, pthread_t *th)
{
    memset(r, 0, sizeof *r);
    r->db = db;
    r->side = side;
    CHECK_INT(rhei_cancel_new(&r->c), RHEI_OK);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    CHECK_INT(pthread_create(th, NULL, run_endless, r), 0);
    pthread_mutex_lock(&r->mu);
    while (!r->entering)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

/* Waits (bounded) for the runner to leave the call; 0 if it did not within BOUND_S. */
static int wait_runner(runner *r)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += BOUND_S;
    pthread_mutex_lock(&r->mu);
    while (!r->done && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
        ;
    int done = r->done;
    pthread_mutex_unlock(&r->mu);
    return done;
}

static void end_runner(runner *r, pthread_t th)
{
    pthread_join(th, NULL);
    rhei_cancel_free(r->c);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

/* Fires the token delay_us after the runner entered the call (0: at once, maybe before
 * DuckDB started; a delay only varies the moment, the outcome must not depend on it). */
static void fire_and_check(rhei_db *db, rhei_side side, unsigned delay_us)
{
    runner r;
    pthread_t th;
    start_runner(&r, db, side, &th);
    if (delay_us) { /* varies the moment of the fire only: every moment must give the same */
        struct timespec d = {(time_t)(delay_us / 1000000), (long)(delay_us % 1000000) * 1000};
        nanosleep(&d, NULL);
    }
    double fired = now_s();
    rhei_cancel_fire(r.c);
    rhei_cancel_fire(r.c); /* idempotent */
    if (!wait_runner(&r)) {
        rhei_interrupt(db); /* let the thread end before failing */
        pthread_join(th, NULL);
        FAIL("a fire %u us after the call began did not stop it within %d s", delay_us, BOUND_S);
    }
    end_runner(&r, th);
    if (r.rc != RHEI_INTERRUPTED)
        FAIL("fire after %u us: rc %d (%s), want RHEI_INTERRUPTED", delay_us, r.rc, r.msg);
    CHECK(strstr(r.msg, "cancelled") != NULL);
    printf("%s, fire after %6u us: stopped %.3f s after the fire\n",
           side == RHEI_SIDE_OLAP ? "duckdb" : "sqlite", delay_us, r.ended - fired);
    CHECK(r.ended - fired < BOUND_S);
    /* The pool's one connection serves the next query in full: no interrupt left on it. */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM big", side), ROWS);
    rhei_cancel *fresh = NULL;
    CHECK_INT(rhei_cancel_new(&fresh), RHEI_OK);
    CHECK_INT(drain(db, "SELECT a.id FROM big a JOIN big b USING (id)", fresh), ROWS);
    rhei_cancel_free(fresh);
}

TEST(fire_stops_first_batch)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "1");
    static const unsigned delays[] = {0, 100, 1000, 10000, 100000, 300000};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++)
        fire_and_check(db, RHEI_SIDE_OLAP, delays[i]);
    CHECK_OK(db, rhei_close(db));
}

/* The same cross join on SQLite (hint OLTP; a pool of one reader) runs for hours unless the
 * token stops it: SQLite's read checks the token as it steps. */
TEST(fire_stops_sqlite_read)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "1");
    static const unsigned delays[] = {0, 100, 1000, 10000, 100000};
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++)
        fire_and_check(db, RHEI_SIDE_OLTP, delays[i]);
    CHECK_OK(db, rhei_close(db));
}

TEST(fire_before_call)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "1");
    rhei_cancel *c = NULL;
    struct ArrowArrayStream st;
    CHECK_INT(rhei_cancel_new(&c), RHEI_OK);
    rhei_cancel_fire(c);
    double t0 = now_s();
    CHECK_RC(db, query(db, ENDLESS, c, &st), RHEI_INTERRUPTED);
    CHECK(st.release == NULL);
    CHECK(now_s() - t0 < BOUND_S);
    /* a routed point read SQLite would answer is refused too */
    rhei_query_opts o = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    CHECK_RC(db,
             rhei_query_arrow_ex(db, "SELECT v FROM big WHERE id = 5", NULL, 0, &o, c, NULL, &st),
             RHEI_INTERRUPTED);
    rhei_cancel_free(c);
    CHECK_INT(drain(db, "SELECT id FROM big", NULL), ROWS);
    CHECK_OK(db, rhei_close(db));
}

/* A fire while the stream is held (after its first batch) ends it with ECANCELED; the
 * connection goes back on release and serves the next query whole. */
TEST(fire_ends_held_stream)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "1");
    rhei_cancel *c = NULL;
    struct ArrowArrayStream st;
    struct ArrowArray b;
    CHECK_INT(rhei_cancel_new(&c), RHEI_OK);
    CHECK_OK(db, query(db, "SELECT a.id, b.id FROM big a, big b", c, &st));
    CHECK_INT(st.get_next(&st, &b), 0);
    CHECK(b.release != NULL);
    b.release(&b);
    rhei_cancel_fire(c);
    CHECK_INT(st.get_next(&st, &b), ECANCELED);
    CHECK_STR(st.get_last_error(&st), "query cancelled");
    CHECK_INT(st.get_next(&st, &b), ECANCELED); /* stays failed */
    st.release(&st);
    rhei_cancel_free(c);
    CHECK_INT(drain(db, "SELECT id FROM big", NULL), ROWS);
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM big", RHEI_SIDE_OLAP), ROWS);
    CHECK_OK(db, rhei_close(db));
}

/* Only the token's query stops: another one, with its own token, runs meanwhile and after. */
TEST(fire_stops_only_its_query)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "4");
    runner r;
    pthread_t th;
    start_runner(&r, db, RHEI_SIDE_OLAP, &th);
    rhei_cancel *other = NULL;
    CHECK_INT(rhei_cancel_new(&other), RHEI_OK);
    CHECK_INT(drain(db, "SELECT id FROM big", other), ROWS);
    pthread_mutex_lock(&r.mu);
    int done = r.done;
    pthread_mutex_unlock(&r.mu);
    CHECK_INT(done, 0); /* the endless query is still running */
    rhei_cancel_fire(r.c);
    if (!wait_runner(&r)) {
        rhei_interrupt(db);
        pthread_join(th, NULL);
        FAIL("the fire did not stop the query within %d s", BOUND_S);
    }
    end_runner(&r, th);
    CHECK_INT(r.rc, RHEI_INTERRUPTED);
    CHECK_INT(drain(db, "SELECT id FROM big", other), ROWS); /* not fired: still usable */
    rhei_cancel_free(other);
    CHECK_OK(db, rhei_close(db));
}

/* Misuse: NULL out; a token serving one stream cannot serve a second at once; freeing NULL. */
TEST(misuse)
{
    char dir[64];
    rhei_db *db = open_pool(dir, sizeof dir, "2");
    CHECK_INT(rhei_cancel_new(NULL), RHEI_MISUSE);
    rhei_cancel_free(NULL);
    rhei_cancel_fire(NULL);
    rhei_cancel *c = NULL;
    struct ArrowArrayStream a, b;
    CHECK_INT(rhei_cancel_new(&c), RHEI_OK);
    CHECK_OK(db, query(db, "SELECT id FROM big", c, &a));
    CHECK_RC(db, query(db, "SELECT id FROM big", c, &b), RHEI_MISUSE);
    a.release(&a);
    CHECK_INT(drain(db, "SELECT id FROM big", c), ROWS); /* free again once released */
    rhei_cancel_free(c);
    CHECK_OK(db, rhei_close(db));
}
