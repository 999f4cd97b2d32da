/* test_equivalence.c — after a seeded random workload of 20,000+ operations over three
 * tables, every DuckDB table equals its SQLite table row for row, with OLAP in memory and
 * in a durable file, syncing in small steps and in one large step, with the default batch
 * size and with small batches applied on the sync's second thread. */
#include "workload.h"

static void sync_tick(rhei_db *db, int i)
{
    (void)i;
    CHECK_OK(db, rhei_sync_now(db, NULL));
}

static void run(th_opts o, void (*tick)(rhei_db *, int), uint64_t seed)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, o);
    wl_schema(db);
    wl_run(db, seed, 20000, tick);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    wl_compare(db);
    rhei_sync_status st;
    CHECK_OK(db, rhei_sync_status_get(db, &st));
    CHECK_INT(st.lag_events, 0);
    CHECK_INT(st.applied_position, st.head_position);
    CHECK_OK(db, rhei_close(db));
    /* Reopen: durable resumes, in-memory rebuilds; either way still equal. */
    db = th_open(dir, o);
    wl_compare(db);
    CHECK_OK(db, rhei_close(db));
}

TEST(memory_olap_stepwise) { run((th_opts){0}, sync_tick, 0x9e3779b97f4a7c15ULL); }
TEST(memory_olap_one_cycle) { run((th_opts){0}, NULL, 0x2545f4914f6cdd1dULL); }
TEST(file_olap_stepwise) { run((th_opts){.file_olap = 1}, sync_tick, 0x1234567887654321ULL); }
TEST(file_olap_background) { run((th_opts){.file_olap = 1, .interval_ms = 5}, NULL, 77); }
/* Batches of a few dozen events: the cycle hands each full one to the applier thread. */
TEST(memory_olap_one_cycle_small_batches) { run((th_opts){.batch_size = 37}, NULL, 4242); }
TEST(file_olap_background_small_batches)
{
    run((th_opts){.file_olap = 1, .interval_ms = 5, .batch_size = 50}, NULL, 99);
}
