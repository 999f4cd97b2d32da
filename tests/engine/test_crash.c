/* test_crash.c — a child process writes and runs background sync into a durable DuckDB
 * file and is killed with SIGKILL at random moments (20 times, 8 when instrumented); after
 * each kill, reopening gives OLAP equal to OLTP with nothing lost and nothing applied twice. */
#include "workload.h"
#include <signal.h>
#include <sys/wait.h>

/* Instrumented builds (ASan, TSan) run 5-20x slower on a loaded CI machine: fewer rounds keep
 * the case inside ctest's timeout; the random kill points stay as varied per round. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROUNDS 8
#else
#define ROUNDS 20
#endif

static int progress_fd = -1;

static void report(rhei_db *db, int i)
{
    (void)db;
    (void)i;
    char c = 1;
    if (write(progress_fd, &c, 1) != 1)
        _exit(3);
}

static void child(const char *dir, uint64_t seed)
{
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1, .interval_ms = 2});
    for (;;) /* until killed */
        wl_run(db, seed++, 1000, report);
}

TEST(sigkill_during_writes_and_sync)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    wl_schema(db);
    CHECK_OK(db, rhei_close(db));
    uint64_t rnd = 0xdeadbeefcafef00dULL;
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        CHECK_INT(pipe(fds), 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            progress_fd = fds[1];
            child(dir, 5000 + (uint64_t)round * 100);
            _exit(0);
        }
        close(fds[1]);
        /* Kill after a random amount of progress: 1..40 ticks of ~500 operations. */
        int ticks = 1 + (int)(th_rand(&rnd) % 40), seen = 0;
        char c;
        while (seen < ticks && read(fds[0], &c, 1) == 1)
            seen++;
        CHECK_INT(seen, ticks);
        CHECK_INT(kill(pid, SIGKILL), 0);
        int status = 0;
        CHECK_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(fds[0]);

        db = th_open(dir, (th_opts){.file_olap = 1});
        CHECK_OK(db, rhei_sync_now(db, NULL));
        wl_compare(db);
        CHECK_OK(db, rhei_close(db));
    }
}

/* Kill -9 between the steps of a registration: after the OLAP side was tried but before
 * SQLite committed (the table stays unregistered), and after SQLite committed but before
 * OLAP applied it (reopening applies it). Either way the reopened engine is consistent and
 * the table can be registered (again). */
static void kill_during_register(const char *point, int registered_after, int file_olap)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    th_opts o = {.file_olap = file_olap};
    rhei_db *db = th_open(dir, o);
    th_exec(db, "CREATE TABLE keep (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "keep", NULL, 0, NULL, 0));
    th_exec(db, "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT)");
    th_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
                " INSERT INTO r SELECT i, 'v' || i FROM n");
    th_exec(db, "INSERT INTO keep VALUES (1, 'k')");
    CHECK_OK(db, rhei_close(db));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        rhei_db *c = th_open(dir, o);
        setenv("RHEI_FAULT_KILL", point, 1);
        rhei_register_table(c, "r", NULL, 0, NULL, 0);
        _exit(0); /* the point was not reached */
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    db = th_open(dir, o);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    rhei_table_list *l = NULL;
    CHECK_OK(db, rhei_tables(db, &l));
    CHECK_INT(rhei_table_list_count(l), registered_after ? 2 : 1);
    rhei_table_list_free(l);
    th_same(db, "SELECT id, v FROM keep ORDER BY id");
    if (registered_after) {
        th_same(db, "SELECT id, v FROM r ORDER BY id");
        CHECK_INT(th_scalar(db, "SELECT count(*) FROM r", RHEI_SIDE_OLAP), 500);
    }
    CHECK_OK(db, rhei_register_table(db, "r", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO r VALUES (501, 'late')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, v FROM r ORDER BY id");
    CHECK_OK(db, rhei_close(db));
}

TEST(sigkill_register_before_sqlite_commit) { kill_during_register("register.before_sqlite", 0, 1); }
TEST(sigkill_register_before_olap_apply) { kill_during_register("register.before_olap", 1, 1); }
TEST(sigkill_register_before_olap_apply_memory)
{
    kill_during_register("register.before_olap", 1, 0);
}
