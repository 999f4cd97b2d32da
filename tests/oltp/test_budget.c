/* test_budget.c — SQLite's time budget for an index-served read (rhei__conn_query_within):
 * which clocks its progress handler reads, and when. This executable defines clock_gettime,
 * so the library's calls come here (static link) and are counted per clock on this thread
 * before the kernel answers them; nothing in src/ carries a test hook for it. */
#define _GNU_SOURCE /* syscall */
#include "oltp.h"
#include "test.h"
#include <sys/syscall.h>
#include <time.h>

static __thread int counting;
static __thread long wall_reads, cpu_reads;

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (counting && id == CLOCK_MONOTONIC)
        wall_reads++;
    if (counting && id == CLOCK_THREAD_CPUTIME_ID)
        cpu_reads++;
    return (int)syscall(SYS_clock_gettime, id, ts);
}

static rhei__oltp *open_tmp(char *dir, size_t n)
{
    char path[128];
    rt_tmpdir(dir, n);
    snprintf(path, sizeof path, "%s/o.db", dir);
    rhei__oltp_opts o = {path, 0, 2, 1000, 0};
    rhei__oltp *db = NULL;
    rhei__err e;
    if (rhei__oltp_open(&o, &db, &e) != RHEI_OK)
        FAIL("open: %s", e.msg);
    return db;
}

/* Runs sql within budget_us on a reader, counting this thread's clock reads meanwhile. */
static int run_counted(rhei__oltp *o, const char *sql, int64_t budget_us, rhei_cancel *cancel,
                       int *over)
{
    rhei__err e;
    rhei_result *r = NULL;
    rhei__conn *c = rhei__oltp_reader(o);
    wall_reads = cpu_reads = 0;
    counting = 1;
    int rc = rhei__conn_query_within(c, sql, NULL, 0, -1, budget_us, cancel, over, &r, &e);
    counting = 0;
    rhei__oltp_reader_release(o, c);
    rhei_result_free(r);
    return rc;
}

/* ~1M VM steps (about a thousand progress-handler calls), well under a second. */
#define LONG_READ                                                                      \
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)" \
    " SELECT count(*) FROM n"

/* The CPU clock is a system call: the handler reads it once at its first call and then only
 * after the wall clock says the budget may be spent (a thread's CPU time never runs ahead of
 * the wall clock). Reading it at every call cost a 15 ms DISTINCT 14% of its time. */
TEST(cpu_clock_is_read_only_past_the_wall_budget)
{
    char dir[64];
    rhei__oltp *o = open_tmp(dir, sizeof dir);
    int over = -1;
    /* A read shorter than the handler's period reads no clock at all. */
    CHECK_INT(run_counted(o, "SELECT 1", 60000000, NULL, &over), RHEI_OK);
    CHECK_INT(over, 0);
    CHECK_INT(wall_reads, 0);
    CHECK_INT(cpu_reads, 0);
    /* A long read within a 60 s budget: the wall clock at every call, the CPU clock once. */
    CHECK_INT(run_counted(o, LONG_READ, 60000000, NULL, &over), RHEI_OK);
    CHECK_INT(over, 0);
    if (wall_reads < 100)
        FAIL("the progress handler read the wall clock %ld times, want >= 100", wall_reads);
    CHECK_INT(cpu_reads, 1);
    /* Past a 1 us budget by the wall clock, the CPU clock decides (and it is spent too). */
    CHECK_INT(run_counted(o, LONG_READ, 1, NULL, &over), RHEI_INTERRUPTED);
    CHECK_INT(over, 1);
    if (cpu_reads < 2)
        FAIL("past the wall budget the CPU clock was read %ld times, want >= 2", cpu_reads);
    /* No budget, only a cancel token (not fired): the handler reads no clock. */
    rhei_cancel *cancel = NULL;
    CHECK_INT(rhei_cancel_new(&cancel), RHEI_OK);
    CHECK_INT(run_counted(o, LONG_READ, -1, cancel, &over), RHEI_OK);
    CHECK_INT(over, 0);
    CHECK_INT(wall_reads, 0);
    CHECK_INT(cpu_reads, 0);
    rhei_cancel_free(cancel);
    rhei__oltp_close(o);
}
