/* test_txn.c — explicit transactions through rhei_execute("BEGIN"): background work (sync,
 * the pruner) never splits or ends a user's transaction, other threads wait instead of
 * joining it, and committed transactions arrive whole in SQLite and OLAP. */
#define _XOPEN_SOURCE 700 /* POSIX: mkdtemp, nanosleep */
#include "helpers.h"
#include "oltp.h"
#include "sync.h"
#include <pthread.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Only inside bounded polls of a condition the engine exposes (a counter, a flag a thread
 * sets, a row in _rhei_state), each with a 20 s deadline: the nap sets how often the condition
 * is read, never whether the test passes, so a slow machine only makes it wait longer. */
static void nap_ms(int ms)
{
    struct timespec t = {0, (long)ms * 1000000L};
    nanosleep(&t, NULL);
}

/* Both cores busy, as on a loaded machine: the schedule the bugs need. */
static _Atomic int spin_stop;
static void *spinner(void *arg)
{
    (void)arg;
    volatile uint64_t x = 0;
    while (!spin_stop)
        x++;
    return NULL;
}

static void spin_start(pthread_t *th, int n)
{
    spin_stop = 0;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, spinner, NULL);
}

static void spin_end(pthread_t *th, int n)
{
    spin_stop = 1;
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
}

/* Waits (bounded) until the pruner has made an attempt after `since`. */
static void await_prune_attempt(long since)
{
    int64_t deadline = now_ms() + 20000;
    while (rhei__sync_prune_attempts <= since)
        if (now_ms() > deadline)
            FAIL("no prune attempt within 20 s (attempts %ld)", (long)rhei__sync_prune_attempts);
        else
            nap_ms(1);
}

/* The reporter's case: the pruner ran BEGIN IMMEDIATE on the writer inside the user's
 * transaction and its error path's ROLLBACK ended that transaction. */
TEST(pruner_never_ends_user_transaction)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei__sync_test_prune_always = 1;
    rhei_db *db = th_open(dir, (th_opts){.interval_ms = 5});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO t VALUES (1, 'one')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    /* The prune attempt must come while the transaction is open: a background cycle that
     * applies the row before BEGIN (and prunes then) makes the round start again. */
    long before;
    int rounds = 0;
    for (;; rounds++) {
        if (rounds == 50)
            FAIL("the background cycle always pruned before BEGIN (50 rounds)");
        before = rhei__sync_prune_attempts;
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d, 'ten')", 10 + rounds);
        th_exec(db, sql);
        th_exec(db, "BEGIN");
        if (rhei__sync_prune_attempts == before)
            break;
        th_exec(db, "COMMIT");
    }
    th_exec(db, "INSERT INTO t VALUES (2, 'two')");
    await_prune_attempt(before); /* the background cycle applied row 10 and asked to prune */
    th_exec(db, "INSERT INTO t VALUES (3, 'three')");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE id IN (2, 3)", RHEI_SIDE_OLTP), 2);
    th_exec(db, "ROLLBACK");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t WHERE id IN (2, 3)", RHEI_SIDE_OLTP), 0);
    th_same(db, "SELECT * FROM t ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLAP), 2 + rounds);
    /* The busy pruner only postponed its work: once the writer is free it prunes. */
    th_exec(db, "INSERT INTO t VALUES (100, 'hundred')");
    rhei_sync_stats st;
    CHECK_OK(db, rhei_sync_now(db, &st));
    int64_t deadline = now_ms() + 20000, pruned = 0;
    while ((pruned = th_scalar(db, "SELECT coalesce(max(value), 0) FROM _rhei_state WHERE"
                                   " key = 'pruned_upto'", RHEI_SIDE_OLTP)) < st.last_position &&
           now_ms() < deadline)
        nap_ms(2);
    CHECK(pruned >= st.last_position - 1); /* the newest log row is always kept */
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* Another thread's writes wait for the transaction instead of joining it. */
static rhei_db *g_db;
static _Atomic int other_done, other_waiting;
static _Thread_local int is_other;
static void note_other_waits(void)
{
    if (is_other)
        other_waiting = 1;
}
static void *other_writer(void *arg)
{
    (void)arg;
    is_other = 1;
    if (rhei_execute(g_db, "INSERT INTO t VALUES (100, 'other')", NULL, 0, NULL) != RHEI_OK)
        FAIL("other writer: %s", rhei_errmsg(g_db));
    other_done = 1;
    return NULL;
}

TEST(other_threads_wait_for_the_transaction)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = g_db = th_open(dir, (th_opts){.interval_ms = 5});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_exec(db, "BEGIN");
    th_exec(db, "INSERT INTO t VALUES (1, 'mine')");
    rhei__oltp_test_on_wait = note_other_waits;
    pthread_t other;
    pthread_create(&other, NULL, other_writer, NULL);
    /* The other thread blocks on the writer (seen from inside the wait, not guessed with a
     * sleep) and has not written: it did not join this transaction. */
    int64_t deadline = now_ms() + 20000;
    while (!other_waiting && !other_done && now_ms() < deadline)
        nap_ms(1);
    CHECK_INT(other_done, 0);
    CHECK_INT(other_waiting, 1);
    /* Reads of the owner see its own uncommitted rows (auto-routed to SQLite). */
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query(db, "SELECT count(*) FROM t", NULL, 0, &r));
    CHECK_INT(rhei_result_side(r), RHEI_SIDE_OLTP);
    CHECK_INT(rhei_result_int64(r, 0, 0), 1);
    rhei_result_free(r);
    /* Replication changes would commit on both sides: refused inside the transaction. */
    CHECK_RC(db, rhei_add_column(db, "t", "x", "INTEGER"), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "open transaction") != NULL);
    CHECK_RC(db, rhei_initial_sync(db, "t", NULL), RHEI_MISUSE);
    /* A batch inside the transaction is a savepoint: its failure undoes only itself. */
    rhei_statement bad[2] = {{"INSERT INTO t VALUES (2, 'batch')", NULL, 0},
                             {"INSERT INTO t VALUES (1, 'dup')", NULL, 0}};
    CHECK_RC(db, rhei_execute_batch(db, bad, 2, NULL), RHEI_CONSTRAINT);
    rhei_statement good[1] = {{"INSERT INTO t VALUES (3, 'batch')", NULL, 0}};
    CHECK_OK(db, rhei_execute_batch(db, good, 1, NULL));
    th_exec(db, "ROLLBACK");
    pthread_join(other, NULL);
    rhei__oltp_test_on_wait = NULL;
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLTP), 1);
    CHECK_INT(th_scalar(db, "SELECT id FROM t", RHEI_SIDE_OLTP), 100);
    th_same(db, "SELECT * FROM t ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

TEST(close_rolls_back_an_open_transaction)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO t VALUES (1, 'kept')");
    th_exec(db, "BEGIN");
    th_exec(db, "INSERT INTO t VALUES (2, 'lost')");
    CHECK_INT(rhei_close(db), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(NULL), "rolled back") != NULL);
    db = th_open(dir, (th_opts){0});
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM t", RHEI_SIDE_OLTP), 1);
    th_same(db, "SELECT * FROM t ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* --- stress: random BEGIN ... COMMIT / ROLLBACK scripts from several threads ------------- */

#define WORKERS 4
#define SCRIPTS 1500/* per worker */
#define KEYS 64     /* per worker: each worker owns ids [w*1000, w*1000+KEYS) */

typedef struct model {
    int64_t v[KEYS]; /* -1 = absent */
} model;

static model models[WORKERS];
static uint64_t g_seed;

static void xexec(rhei_db *db, int w, const char *sql, const rhei_value *p, size_t n)
{
    int rc = rhei_execute(db, sql, p, n, NULL);
    if (rc != RHEI_OK)
        FAIL("worker %d (seed %llu): '%s': %s", w, (unsigned long long)g_seed, sql,
             rhei_errmsg(db));
}

/* One op on the worker's keys, applied to `m` as SQLite would. */
static void random_op(rhei_db *db, int w, uint64_t *s, model *m)
{
    int k = (int)(th_rand(s) % KEYS);
    int64_t id = w * 1000 + k, v = (int64_t)(th_rand(s) % 1000000);
    rhei_value p[2] = {rhei_int(id), rhei_int(v)};
    switch (th_rand(s) % 4) {
    case 0:
    case 1:
        xexec(db, w, "INSERT OR REPLACE INTO t (id, w, v) VALUES (?1, ?3, ?2)",
              (rhei_value[]){p[0], p[1], rhei_int(w)}, 3);
        m->v[k] = v;
        break;
    case 2:
        xexec(db, w, "UPDATE t SET v = v + ?2 WHERE id = ?1", p, 2);
        if (m->v[k] >= 0)
            m->v[k] += v;
        break;
    default:
        xexec(db, w, "DELETE FROM t WHERE id = ?1", p, 1);
        m->v[k] = -1;
        break;
    }
}

/* Reads inside the transaction see its own writes: the sum over this worker's keys. */
static void check_own_view(rhei_db *db, int w, const model *m)
{
    int64_t want = 0, n = 0;
    for (int k = 0; k < KEYS; k++)
        if (m->v[k] >= 0)
            want += m->v[k], n++;
    rhei_value p = rhei_int(w);
    rhei_result *r = NULL;
    if (rhei_query(db, "SELECT count(*), coalesce(sum(v), 0) FROM t WHERE w = ?1", &p, 1, &r))
        FAIL("worker %d: read in transaction: %s", w, rhei_errmsg(db));
    if (rhei_result_int64(r, 0, 0) != n || rhei_result_int64(r, 0, 1) != want)
        FAIL("worker %d (seed %llu): own view has %lld rows sum %lld, want %lld rows sum %lld",
             w, (unsigned long long)g_seed, (long long)rhei_result_int64(r, 0, 0),
             (long long)rhei_result_int64(r, 0, 1), (long long)n, (long long)want);
    rhei_result_free(r);
}

static void *stress_worker(void *arg)
{
    int w = (int)(long)arg;
    uint64_t s = g_seed * 7919 + (uint64_t)w + 1;
    model *m = &models[w];
    for (int k = 0; k < KEYS; k++)
        m->v[k] = -1;
    for (int i = 0; i < SCRIPTS; i++) {
        model tx = *m;
        xexec(g_db, w, th_rand(&s) % 2 ? "BEGIN" : "BEGIN IMMEDIATE", NULL, 0);
        int ops = 1 + (int)(th_rand(&s) % 6);
        for (int j = 0; j < ops; j++)
            random_op(g_db, w, &s, &tx);
        if (th_rand(&s) % 4 == 0)
            check_own_view(g_db, w, &tx);
        int commit = th_rand(&s) % 3 != 0;
        xexec(g_db, w, commit ? "COMMIT" : "ROLLBACK", NULL, 0);
        if (commit)
            *m = tx;
    }
    return NULL;
}

TEST(stress_random_transactions_with_sync_and_pruning)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    const char *env = getenv("RHEI_TEST_SEED");
    g_seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "seed %llu (RHEI_TEST_SEED=%llu replays it)\n", (unsigned long long)g_seed,
            (unsigned long long)g_seed);
    rhei__sync_test_prune_always = 1;
    rhei_db *db = g_db = th_open(dir, (th_opts){.interval_ms = 1 + (int)(g_seed % 5),
                                                .batch_size = 64});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER, v INTEGER)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    pthread_t spin[2], th[WORKERS];
    spin_start(spin, 2);
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, stress_worker, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    spin_end(spin, 2);
    rhei_sync_status ss;
    CHECK_OK(db, rhei_sync_status_get(db, &ss));
    fprintf(stderr, "background cycles %lld, events %lld\n", (long long)ss.cycles,
            (long long)ss.events_total);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    /* SQLite holds exactly the committed transactions' effects... */
    rhei_result *r = th_query(db, "SELECT id, v FROM t ORDER BY id", RHEI_SIDE_OLTP);
    size_t row = 0;
    for (int w = 0; w < WORKERS; w++)
        for (int k = 0; k < KEYS; k++) {
            if (models[w].v[k] < 0)
                continue;
            if (row >= rhei_result_row_count(r))
                FAIL("seed %llu: sqlite lacks id %d", (unsigned long long)g_seed, w * 1000 + k);
            CHECK_INT(rhei_result_int64(r, row, 0), w * 1000 + k);
            CHECK_INT(rhei_result_int64(r, row, 1), models[w].v[k]);
            row++;
        }
    CHECK_INT(rhei_result_row_count(r), row);
    rhei_result_free(r);
    /* ...and OLAP equals SQLite row for row. */
    th_same(db, "SELECT * FROM t ORDER BY id");
    fprintf(stderr, "prune attempts %ld, busy %ld\n", (long)rhei__sync_prune_attempts,
            (long)rhei__sync_prune_busy);
    CHECK(rhei__sync_prune_attempts > 0);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}
