/* test_concurrency.c — 8 writer threads, readers on both sides and background sync, with a
 * column added and another dropped mid-run; afterwards OLAP equals OLTP. */
#include "helpers.h"
#include <pthread.h>

#define WRITERS 8
#define OPS 1500

static rhei_db *db;
static _Atomic int writers_done;

static void *writer(void *arg)
{
    long w = (long)arg;
    uint64_t s = 0x1000 + (uint64_t)w;
    for (int i = 0; i < OPS; i++) {
        int64_t id = w * 100000 + (int64_t)(th_rand(&s) % 400);
        rhei_value p[2] = {rhei_int(id), rhei_int((int64_t)(th_rand(&s) % 1000))};
        const char *sql;
        switch (th_rand(&s) % 4) {
        case 0:
        case 1: sql = "INSERT OR REPLACE INTO a (id, qty) VALUES (?, ?)"; break;
        case 2: sql = "UPDATE a SET qty = ?2 WHERE id = ?1"; break;
        default: sql = "DELETE FROM a WHERE id = ?1 AND ?2 >= 0"; break;
        }
        int rc = rhei_execute(db, sql, p, 2, NULL);
        if (rc != RHEI_OK)
            FAIL("writer %ld: %s", w, rhei_errmsg(db));
    }
    return NULL;
}

static void *reader(void *arg)
{
    rhei_side side = (rhei_side)(long)arg;
    while (!writers_done) {
        rhei_result *r = NULL;
        int rc = rhei_query_with_hint(db, "SELECT count(*), sum(qty) FROM a", side, &r);
        if (rc != RHEI_OK)
            FAIL("reader on side %d: %s", side, rhei_errmsg(db));
        rhei_result_free(r);
    }
    return NULL;
}

TEST(writers_readers_sync_and_schema_change)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    /* small batches: the sync also applies on its second thread while schemas change */
    db = th_open(dir, (th_opts){.interval_ms = 5, .batch_size = 16});
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, qty INTEGER, old TEXT)");
    CHECK_OK(db, rhei_register_table(db, "a", NULL, 0, NULL, 0));
    pthread_t w[WRITERS], r[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, reader, (void *)(long)(i ? RHEI_SIDE_OLAP : RHEI_SIDE_OLTP));
    for (long i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)i);
    CHECK_OK(db, rhei_add_column(db, "a", "extra", "INTEGER DEFAULT 7"));
    CHECK_OK(db, rhei_drop_column(db, "a", "old"));
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    writers_done = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT * FROM a ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM a WHERE extra = 7", RHEI_SIDE_OLAP),
              th_scalar(db, "SELECT count(*) FROM a", RHEI_SIDE_OLTP));
    CHECK_OK(db, rhei_close(db));
}
