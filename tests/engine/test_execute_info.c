/* test_execute_info.c — rhei_execute_info reports the statement's own last inserted rowid:
 * explicit and automatic rowids, multi-row inserts, capture triggers (their change-log rows
 * do not count), and two threads inserting at once each getting the rowid of its own row,
 * although they share the one writer connection. */
#include "engine/helpers.h"
#include <pthread.h>

static rhei_db *open_t(char *dir, size_t n)
{
    rt_tmpdir(dir, n);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, tag INTEGER, v TEXT)");
    return db;
}

TEST(rowid_of_the_insert)
{
    char dir[64];
    rhei_db *db = open_t(dir, sizeof dir);
    rhei_exec_info in;
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (id, tag) VALUES (42, 0)", NULL, 0, &in));
    CHECK_INT(in.changes, 1);
    CHECK_INT(in.last_rowid, 42);
    rhei_value p[1] = {rhei_int(7)};
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (tag) VALUES (?)", p, 1, &in));
    CHECK_INT(in.last_rowid, 43);
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (tag) VALUES (1), (2), (3)", NULL, 0, &in));
    CHECK_INT(in.changes, 3);
    CHECK_INT(in.last_rowid, 46);
    /* nothing inserted: the previous value stays */
    CHECK_OK(db, rhei_execute_info(db, "UPDATE t SET v = 'x' WHERE id = 42", NULL, 0, &in));
    CHECK_INT(in.changes, 1);
    CHECK_INT(in.last_rowid, 46);
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (id, tag) VALUES (100, 0)", NULL, 0, NULL));
    CHECK_OK(db, rhei_close(db));
}

/* changes belong to the statement: DDL, a SELECT and an UPDATE matching nothing report 0,
 * not the last insert's count SQLite keeps; a registered table's trigger rows never count */
TEST(changes_are_the_statements_own)
{
    char dir[64];
    rhei_db *db = open_t(dir, sizeof dir);
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    rhei_exec_info in;
    int64_t changes = -1;
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (tag) VALUES (1), (2)", NULL, 0, &in));
    CHECK_INT(in.changes, 2);
    static const char *none[] = {"CREATE TABLE u (x)",
                                 "CREATE INDEX t_tag ON t (tag)",
                                 "SELECT * FROM t",
                                 "UPDATE t SET v = 'x' WHERE id < 0",
                                 "DROP TABLE u",
                                 "BEGIN",
                                 "COMMIT"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        CHECK_OK(db, rhei_execute_info(db, none[i], NULL, 0, &in));
        if (in.changes != 0)
            FAIL("'%s': %lld changes", none[i], (long long)in.changes);
        CHECK_OK(db, rhei_execute(db, "INSERT INTO t (tag) VALUES (3)", NULL, 0, NULL));
        CHECK_OK(db, rhei_execute(db, "SELECT 1", NULL, 0, &changes));
        CHECK_INT(changes, 0);
    }
    CHECK_OK(db, rhei_execute(db, "UPDATE t SET v = 'y'", NULL, 0, &changes));
    CHECK_INT(changes, 9);
    CHECK_OK(db, rhei_execute(db, "DELETE FROM t WHERE tag = 3; DELETE FROM t WHERE tag = 1", NULL,
                              0, &changes)); /* a script: its statements' sum */
    CHECK_INT(changes, 8);
    /* a script with DDL on the replicated table runs statement by statement: still the sum,
     * and the rowid is the last insert's, not one of the engine's own bookkeeping rows */
    rhei_exec_info in2;
    CHECK_OK(db, rhei_execute_info(db,
                                   "INSERT INTO t (id, tag) VALUES (700, 4), (701, 5);"
                                   " INSERT INTO t (id, tag) VALUES (702, 6);"
                                   " ALTER TABLE t ADD COLUMN z INTEGER",
                                   NULL, 0, &in2));
    CHECK_INT(in2.changes, 3);
    CHECK_INT(in2.last_rowid, 702);
    CHECK_OK(db, rhei_execute_info(db, "ALTER TABLE t ADD COLUMN w INTEGER", NULL, 0, &in2));
    CHECK_INT(in2.changes, 0);
    CHECK_INT(in2.last_rowid, 702);
    CHECK_OK(db, rhei_close(db));
}

TEST(capture_triggers_do_not_count)
{
    char dir[64];
    rhei_db *db = open_t(dir, sizeof dir);
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    rhei_exec_info in;
    for (int i = 0; i < 3; i++) { /* the change log's own rowids would be 1, 2, 3 */
        rhei_value p[2] = {rhei_int(1000 + i), rhei_int(i)};
        CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (id, tag) VALUES (?, ?)", p, 2, &in));
        CHECK_INT(in.last_rowid, 1000 + i);
    }
    int64_t pending = 0;
    CHECK_OK(db, rhei_table_pending(db, "t", &pending));
    CHECK_INT(pending, 3); /* the triggers did insert */
    CHECK_OK(db, rhei_close(db));
}

TEST(failure_zeroes_out_and_misuse)
{
    char dir[64];
    rhei_db *db = open_t(dir, sizeof dir);
    rhei_exec_info in;
    CHECK_OK(db, rhei_execute_info(db, "INSERT INTO t (id) VALUES (5)", NULL, 0, &in));
    memset(&in, 0x55, sizeof in);
    CHECK_INT(rhei_execute_info(db, "INSERT INTO t (id) VALUES (5)", NULL, 0, &in),
              RHEI_CONSTRAINT);
    CHECK_INT(in.last_rowid, 0);
    CHECK_INT(in.changes, 0);
    CHECK_INT(rhei_execute_info(NULL, "SELECT 1", NULL, 0, &in), RHEI_MISUSE);
    CHECK_INT(rhei_execute_info(db, NULL, NULL, 0, &in), RHEI_MISUSE);
    CHECK_OK(db, rhei_close(db));
}

#define PER_THREAD 3000

typedef struct targ {
    rhei_db *db;
    int tag;
    int64_t rowids[PER_THREAD];
    int rc;
} targ;

static void *inserter(void *p)
{
    targ *a = p;
    for (int i = 0; i < PER_THREAD && a->rc == RHEI_OK; i++) {
        rhei_value v[1] = {rhei_int(a->tag)};
        rhei_exec_info in;
        a->rc = rhei_execute_info(a->db, "INSERT INTO t (tag) VALUES (?)", v, 1, &in);
        a->rowids[i] = in.last_rowid;
    }
    return NULL;
}

/* Both threads insert at once through the shared writer; every rowid one of them got must
 * name a row carrying its own tag (read after the fact, the value is often the other's). */
TEST(two_threads_each_get_their_own_rowid)
{
    char dir[64];
    rhei_db *db = open_t(dir, sizeof dir);
    static targ a[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        a[i].db = db;
        a[i].tag = i + 1;
        a[i].rc = RHEI_OK;
        pthread_create(&t[i], NULL, inserter, &a[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    rhei_result *r = th_query(db, "SELECT id, tag FROM t ORDER BY id", RHEI_SIDE_OLTP);
    CHECK_INT(rhei_result_row_count(r), 2 * PER_THREAD);
    int interleaved = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_INT(a[i].rc, RHEI_OK);
        for (int k = 0; k < PER_THREAD; k++) {
            int64_t id = a[i].rowids[k];
            CHECK(id >= 1 && id <= 2 * PER_THREAD); /* ids are 1..n: row id-1 of r */
            CHECK_INT(rhei_result_int64(r, (size_t)id - 1, 0), id);
            CHECK_INT(rhei_result_int64(r, (size_t)id - 1, 1), a[i].tag);
            if (k > 0 && id != a[i].rowids[k - 1] + 1)
                interleaved = 1;
        }
    }
    rhei_result_free(r);
    if (!interleaved)
        printf("note: the threads did not interleave this run\n");
    CHECK_OK(db, rhei_close(db));
}
