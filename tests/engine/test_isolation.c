/* test_isolation.c — one table's unappliable change fails only that table (issue 9 point 2,
 * fault isolation): the others keep replicating, whole cycles only; the failure is reported,
 * kept across reopen, its events stay in the log; rhei_resync_table repairs it, also when
 * killed with SIGKILL in the middle. */
#include "helpers.h"
#include "raw.h"
#include <signal.h>
#include <sys/wait.h>

static void schema(rhei_db *db)
{
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT, n INTEGER)");
    th_exec(db, "CREATE TABLE b (id INTEGER PRIMARY KEY, t TEXT)");
    CHECK_OK(db, rhei_register_table(db, "a", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "b", NULL, 0, NULL, 0));
}

static void check_b(rhei_db *db) { th_same(db, "SELECT id, t FROM b ORDER BY id"); }
static void check_a(rhei_db *db) { th_same(db, "SELECT id, t, n FROM a ORDER BY id"); }

/* rhei_sync_now reports table a as failed, with cause; status agrees. Returns failed_after. */
static int64_t expect_a_failed(rhei_db *db, const char *cause)
{
    int rc = rhei_sync_now(db, NULL);
    if (rc == RHEI_OK)
        FAIL("rhei_sync_now succeeded with table 'a' failed");
    const char *m = rhei_errmsg(db);
    if (!strstr(m, "table 'a' is not replicated") || !strstr(m, cause))
        FAIL("rhei_sync_now: %s (want table 'a' and \"%s\")", m, cause);
    rhei_table_status ts;
    CHECK_OK(db, rhei_table_status_get(db, "a", &ts));
    CHECK_INT(ts.state, RHEI_TABLE_FAILED);
    CHECK_INT(ts.error_code, rc);
    CHECK(strstr(ts.cause, cause) != NULL);
    CHECK_OK(db, rhei_table_status_get(db, "b", &ts));
    CHECK_INT(ts.state, RHEI_TABLE_REPLICATED);
    rhei_sync_status ss;
    CHECK_OK(db, rhei_sync_status_get(db, &ss));
    CHECK_INT(ss.failed_tables, 1);
    CHECK_STR(ss.failed_table, "a");
    CHECK_RC(db, rhei_table_status_get(db, "nope", &ts), RHEI_NOTFOUND);
    return ts.failed_after;
}

static void isolation(th_opts o)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, o);
    schema(db);
    sqlite3 *raw = raw_open(dir);
    th_exec(db, "INSERT INTO a VALUES (1, 'ok', 1)");
    th_exec(db, "INSERT INTO b VALUES (1, 'ok')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    /* One cycle: b's changes before and after a's bad one, and a's own good ones. */
    th_exec(db, "INSERT INTO b VALUES (2, 'before')");
    th_exec(db, "UPDATE a SET n = 2 WHERE id = 1");
    raw_exec(raw, "INSERT INTO a VALUES (2, CAST(x'ff' AS TEXT), 3)"); /* invalid UTF-8 */
    th_exec(db, "INSERT INTO b VALUES (3, 'after')");
    th_exec(db, "DELETE FROM b WHERE id = 1");
    int64_t after = expect_a_failed(db, "UTF-8");
    check_b(db); /* whole: nothing of b's cycle is missing */
    CHECK_INT(th_scalar(db, "SELECT n FROM a WHERE id = 1", RHEI_SIDE_OLAP), 1); /* stale */
    /* b goes on; a's events stay in the log, pruning or not. */
    for (int i = 10; i < 5010; i++) {
        rhei_value p = rhei_int(i);
        CHECK_OK(db, rhei_execute(db, "INSERT INTO b VALUES (?, 'x')", &p, 1, NULL));
    }
    expect_a_failed(db, "UTF-8");
    expect_a_failed(db, "UTF-8");
    check_b(db);
    /* A durable store keeps the failure across reopen; a volatile one finds it again
     * when it rebuilds from SQLite. */
    CHECK_OK(db, rhei_close(db));
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM _rhei_log WHERE seq > %lld AND op = 1 AND"
             " c0 = 2 AND tid IN (SELECT tid FROM _rhei_tables WHERE name = 'a')",
             (long long)after);
    if (o.file_olap)
        CHECK_INT(raw_scalar(raw, q), 1); /* the failed event is still there */
    db = th_open(dir, o);
    expect_a_failed(db, "UTF-8");
    check_b(db);
    /* Repair: a resync before the fix fails again and says why; after it, a is whole. */
    CHECK(rhei_resync_table(db, "a") != RHEI_OK);
    CHECK(strstr(rhei_errmsg(db), "UTF-8"));
    expect_a_failed(db, "UTF-8");
    raw_exec(raw, "UPDATE a SET t = 'fixed' WHERE id = 2");
    th_exec(db, "INSERT INTO a VALUES (3, 'new', 4)");
    CHECK_OK(db, rhei_resync_table(db, "a"));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    rhei_table_status ts;
    CHECK_OK(db, rhei_table_status_get(db, "a", &ts));
    CHECK_INT(ts.state, RHEI_TABLE_REPLICATED);
    rhei_sync_status ss;
    CHECK_OK(db, rhei_sync_status_get(db, &ss));
    CHECK_INT(ss.failed_tables, 0);
    th_exec(db, "UPDATE a SET n = 5 WHERE id = 3");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    check_a(db);
    check_b(db);
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, o);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    check_a(db);
    check_b(db);
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(raw);
    rt_rm_tree(dir);
}

TEST(invalid_utf8_fails_only_its_table_memory) { isolation((th_opts){0}); }
TEST(invalid_utf8_fails_only_its_table_file) { isolation((th_opts){.file_olap = 1}); }
TEST(invalid_utf8_fails_only_its_table_history) { isolation((th_opts){.file_olap = 1, .history = 1}); }
TEST(invalid_utf8_fails_only_its_table_small_batches)
{
    isolation((th_opts){.file_olap = 1, .batch_size = 7});
}

/* The count of sql routed automatically with consistency c, checking the side that served. */
static int64_t routed_count(rhei_db *db, const char *sql, rhei_consistency c, rhei_side want)
{
    rhei_query_opts o = {RHEI_SIDE_AUTO, c};
    rhei_result *r = NULL;
    CHECK_OK(db, rhei_query_ex(db, sql, NULL, 0, &o, &r));
    CHECK_INT(rhei_result_side(r), want);
    int64_t n = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return n;
}

/* A failed table's OLAP copy is behind for good: routing must not answer from it. Reads
 * naming it go to SQLite (reason "table's olap copy is behind") from the moment the cycle
 * fails it, a strong read that routed to OLAP before waiting included; after the repair
 * they go back to DuckDB. */
TEST(reads_of_a_failed_table_are_served_by_sqlite)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    schema(db);
    sqlite3 *raw = raw_open(dir);
    const char *count_a = "SELECT count(*) FROM a", *count_b = "SELECT count(*) FROM b";
    th_exec(db, "INSERT INTO a VALUES (1, 'ok', 1)");
    th_exec(db, "INSERT INTO b VALUES (1, 'ok')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(routed_count(db, count_a, RHEI_EVENTUAL, RHEI_SIDE_OLAP), 1); /* routed cached */
    raw_exec(raw, "INSERT INTO a VALUES (2, CAST(x'ff' AS TEXT), 3)");      /* invalid UTF-8 */
    th_exec(db, "INSERT INTO a VALUES (3, 'ok', 3)");
    /* routed to OLAP (the table is healthy until the wait's cycle fails it), then SQLite */
    CHECK_INT(routed_count(db, count_a, RHEI_STRONG, RHEI_SIDE_OLTP), 3);
    CHECK_INT(routed_count(db, count_a, RHEI_EVENTUAL, RHEI_SIDE_OLTP), 3);
    CHECK_INT(
        routed_count(db, "SELECT count(*) FROM a JOIN b USING (id)", RHEI_EVENTUAL, RHEI_SIDE_OLTP),
        1);
    rhei_route_info ri;
    CHECK_OK(db, rhei_explain_route(db, count_a, &ri));
    CHECK_INT(ri.side, RHEI_SIDE_OLTP);
    CHECK_INT(ri.code, RHEI_ROUTE_TABLE_BEHIND);
    CHECK_STR(ri.table, "a");
    CHECK_STR(ri.reason, "table's olap copy is behind (failed or detached)");
    CHECK_INT(routed_count(db, count_b, RHEI_STRONG, RHEI_SIDE_OLAP), 1); /* b goes on */
    /* DDL on the failed table is still rhei's: the resync finds the new column replicated */
    th_exec(db, "ALTER TABLE a ADD COLUMN z INTEGER");
    th_exec(db, "UPDATE a SET z = id * 10");
    /* a reopened engine knows from the store that a is behind */
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){.file_olap = 1});
    CHECK_INT(routed_count(db, count_a, RHEI_EVENTUAL, RHEI_SIDE_OLTP), 3);
    raw_exec(raw, "UPDATE a SET t = 'fixed' WHERE id = 2");
    CHECK_OK(db, rhei_resync_table(db, "a"));
    CHECK_INT(routed_count(db, count_a, RHEI_STRONG, RHEI_SIDE_OLAP), 3);
    CHECK_INT(routed_count(db, count_a, RHEI_EVENTUAL, RHEI_SIDE_OLAP), 3);
    th_same(db, "SELECT id, t, n, z FROM a ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(raw);
    rt_rm_tree(dir);
}

/* A cycle whose only write is one insert-only batch commits it alone (one autocommit DuckDB
 * statement, see finish_events in src/sync/sync.c): when that batch fails, its table fails
 * alone all the same, none of the batch's rows reach OLAP, and the other table goes on. */
TEST(failed_batch_applied_alone_fails_only_its_table)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    schema(db);
    sqlite3 *raw = raw_open(dir);
    th_exec(db, "INSERT INTO a VALUES (1, 'ok', 1)");
    CHECK_OK(db, rhei_sync_now(db, NULL)); /* a's insert alone */
    check_a(db);
    th_exec(db, "INSERT INTO a VALUES (2, 'good', 2)");
    raw_exec(raw, "INSERT INTO a VALUES (3, CAST(x'ff' AS TEXT), 3)"); /* invalid UTF-8 */
    th_exec(db, "INSERT INTO a VALUES (4, 'good', 4)");
    expect_a_failed(db, "UTF-8");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM a", RHEI_SIDE_OLAP), 1);
    th_exec(db, "INSERT INTO b VALUES (1, 'alone')");
    expect_a_failed(db, "UTF-8");
    check_b(db);
    raw_exec(raw, "UPDATE a SET t = 'fixed' WHERE id = 3");
    CHECK_OK(db, rhei_resync_table(db, "a"));
    th_exec(db, "INSERT INTO a VALUES (5, 'after', 5)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    check_a(db);
    check_b(db);
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(raw);
    rt_rm_tree(dir);
}

/* A change an older build's triggers let through (an integer TIMESTAMP past year 9999, the
 * UBSan overflow of issue 9) and, through rhei_execute, invalid UTF-8 from SQL text. */
TEST(older_triggers_value_fails_only_its_table)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, ts TIMESTAMP, n INTEGER)");
    th_exec(db, "CREATE TABLE b (id INTEGER PRIMARY KEY, t TEXT)");
    CHECK_OK(db, rhei_register_table(db, "a", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "b", NULL, 0, NULL, 0));
    sqlite3 *raw = raw_open(dir);
    int64_t tid = raw_scalar(raw, "SELECT max(tid) FROM _rhei_tables WHERE name = 'a'");
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO _rhei_log(tid, op, ts, c0, c1, c2) VALUES (%lld, 1,"
             " 0, 7, 9223372036854775807, 1)", (long long)tid);
    raw_exec(raw, sql);
    th_exec(db, "INSERT INTO b VALUES (1, 'x')");
    int rc = rhei_sync_now(db, NULL);
    CHECK_INT(rc, RHEI_TYPE);
    CHECK(strstr(rhei_errmsg(db), "table 'a'") && strstr(rhei_errmsg(db), "9223372036854775807"));
    th_same(db, "SELECT id, t FROM b ORDER BY id");
    CHECK_OK(db, rhei_resync_table(db, "a")); /* SQLite never held the row */
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, ts, n FROM a ORDER BY id");
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM a", RHEI_SIDE_OLAP), 0);
    sqlite3_close(raw);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* --- SIGKILL during a resync ---------------------------------------------------------- */

static void resync_child(const char *dir, int fd, int round)
{
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    for (int k = 0;; k++) {
        char c = 1;
        rhei_value p = rhei_int(100000 * (round + 1) + k);
        if (rhei_execute(db, "INSERT INTO b VALUES (?, 'during')", &p, 1, NULL) != RHEI_OK)
            FAIL("child: %s", rhei_errmsg(db));
        rhei_resync_table(db, "a"); /* fails while the bad row is there: stays failed */
        if (write(fd, &c, 1) != 1)
            _exit(3);
    }
}

TEST(sigkill_during_resync_reopens_consistent)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.file_olap = 1});
    schema(db);
    th_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
                " INSERT INTO a SELECT i, 'row ' || i, i FROM n");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    sqlite3 *raw = raw_open(dir);
    uint64_t rnd = 0x7e5c0ffee;
    for (int round = 0; round < 8; round++) {
        int bad = round % 2 == 0; /* odd rounds: the row is fixed, the resync succeeds */
        raw_exec(raw, bad ? "UPDATE a SET t = CAST(x'c3' AS TEXT) WHERE id = 7"
                          : "UPDATE a SET t = 'fixed' WHERE id = 7");
        CHECK_OK(db, rhei_close(db));
        int fds[2];
        CHECK_INT(pipe(fds), 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            resync_child(dir, fds[1], round);
            _exit(0);
        }
        close(fds[1]);
        int ticks = 1 + (int)(th_rand(&rnd) % 4), seen = 0;
        char c;
        while (seen < ticks && read(fds[0], &c, 1) == 1)
            seen++;
        CHECK_INT(seen, ticks);
        /* A random moment to kill at, not a wait for something: the child is known to be
         * resyncing (its ticks arrived), and the checks below must hold whatever moment the
         * kill lands on, so a slower or faster machine only moves the moment. */
        usleep((useconds_t)(th_rand(&rnd) % 30000));
        CHECK_INT(kill(pid, SIGKILL), 0);
        int status = 0;
        CHECK_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status));
        close(fds[0]);
        db = th_open(dir, (th_opts){.file_olap = 1});
        int rc = rhei_sync_now(db, NULL);
        rhei_table_status ts;
        CHECK_OK(db, rhei_table_status_get(db, "a", &ts));
        if (bad && rc == RHEI_OK)
            FAIL("round %d: the bad row was not reported", round);
        if (!bad) { /* a finished or a fresh resync ends the failure */
            if (ts.state == RHEI_TABLE_FAILED)
                CHECK_OK(db, rhei_resync_table(db, "a"));
            CHECK_OK(db, rhei_sync_now(db, NULL));
            th_same(db, "SELECT id, t, n FROM a ORDER BY id");
        }
        th_same(db, "SELECT id, t FROM b ORDER BY id");
    }
    sqlite3_close(raw);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* Rows the write check cannot see make the first copy fail: the registration is taken back
 * and says why; the other tables are not disturbed. */
TEST(registration_whose_copy_fails_is_taken_back)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE b (id INTEGER PRIMARY KEY, t TEXT)");
    CHECK_OK(db, rhei_register_table(db, "b", NULL, 0, NULL, 0));
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT)");
    th_exec(db, "INSERT INTO a VALUES (1, CAST(x'80' AS TEXT))");
    th_exec(db, "INSERT INTO b VALUES (1, 'x')");
    CHECK(rhei_register_table(db, "a", NULL, 0, NULL, 0) != RHEI_OK);
    CHECK(strstr(rhei_errmsg(db), "cannot register table 'a'") && strstr(rhei_errmsg(db), "UTF-8"));
    rhei_table_status ts;
    CHECK_RC(db, rhei_table_status_get(db, "a", &ts), RHEI_NOTFOUND);
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, t FROM b ORDER BY id");
    th_exec(db, "UPDATE a SET t = 'fine'");
    CHECK_OK(db, rhei_register_table(db, "a", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    th_same(db, "SELECT id, t FROM a ORDER BY id");
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

static void expect_state(rhei_db *db, const char *table, int state, const char *cause)
{
    rhei_table_status ts;
    CHECK_OK(db, rhei_table_status_get(db, table, &ts));
    if (ts.state != state || !strstr(ts.cause, cause))
        FAIL("table '%s': state %d '%s', want %d '%s'", table, ts.state, ts.cause, state, cause);
}

/* Fault isolation and DDL outside rhei together: a failed table and a detached one are both
 * skipped by the cycle and by the rebuild of a volatile store on open, the healthy one keeps
 * replicating; a failed table then dropped outside rhei reports DETACHED; registering a
 * detached table anew or unregistering it ends either state. */
TEST(failed_and_detached_tables_side_by_side)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    schema(db);
    th_exec(db, "CREATE TABLE c (id INTEGER PRIMARY KEY, t TEXT)");
    CHECK_OK(db, rhei_register_table(db, "c", NULL, 0, NULL, 0));
    sqlite3 *raw = raw_open(dir);
    th_exec(db, "INSERT INTO c VALUES (1, 'one')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    raw_exec(raw, "INSERT INTO a VALUES (2, CAST(x'ff' AS TEXT), 3)"); /* invalid UTF-8 */
    CHECK(rhei_sync_now(db, NULL) != RHEI_OK);
    raw_exec(raw, "DROP TABLE c");
    th_exec(db, "INSERT INTO b VALUES (1, 'b')");
    CHECK(rhei_sync_now(db, NULL) != RHEI_OK); /* a is still failed; b applied all the same */
    check_b(db);
    expect_state(db, "a", RHEI_TABLE_FAILED, "UTF-8");
    expect_state(db, "b", RHEI_TABLE_REPLICATED, "");
    expect_state(db, "c", RHEI_TABLE_DETACHED, "");
    CHECK_OK(db, rhei_close(db));
    db = th_open(dir, (th_opts){0}); /* volatile: rebuilt from SQLite without a and c */
    th_exec(db, "INSERT INTO b VALUES (2, 'b2')");
    CHECK(rhei_sync_now(db, NULL) != RHEI_OK);
    check_b(db);
    expect_state(db, "a", RHEI_TABLE_FAILED, "UTF-8");
    expect_state(db, "c", RHEI_TABLE_DETACHED, "");
    raw_exec(raw, "DROP TABLE a");
    expect_state(db, "a", RHEI_TABLE_DETACHED, "");
    raw_exec(raw, "CREATE TABLE c (id INTEGER PRIMARY KEY, t TEXT);"
                  " INSERT INTO c VALUES (5, 'five')");
    CHECK_OK(db, rhei_register_table(db, "c", NULL, 0, NULL, 0));
    expect_state(db, "c", RHEI_TABLE_REPLICATED, "");
    th_same(db, "SELECT id, t FROM c ORDER BY id");
    CHECK_OK(db, rhei_unregister_table(db, "a"));
    th_exec(db, "INSERT INTO b VALUES (3, 'b3')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    check_b(db);
    CHECK_OK(db, rhei_close(db));
    sqlite3_close(raw);
    rt_rm_tree(dir);
}
