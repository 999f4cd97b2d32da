/* test_crash.c — a child process writes and runs background sync into a durable DuckDB
 * file and is killed with SIGKILL at random moments (20 times); after each kill, reopening
 * gives OLAP equal to OLTP with nothing lost and nothing applied twice. */
#include "workload.h"
#include <signal.h>
#include <sys/wait.h>

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
    for (int round = 0; round < 20; round++) {
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
