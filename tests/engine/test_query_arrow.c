/* test_query_arrow.c — rhei_query_arrow's own promises (its answers equal rhei_query's in
 * tests/route/test_same_arrow.c): DuckDB's 2,048-row chunks are coalesced into batches of at
 * most 128K rows that carry every row once and in order; the pooled connection comes back on
 * release; rhei_interrupt ends a held stream with EINTR; more threads streaming at once than
 * the pool has connections (both cores kept busy by spinning threads); parameters, STRONG
 * consistency, route info and misuse. rhei_query_arrow_schema gives the stream's schema, and
 * the statement it leaves prepared never serves a stream after a write (stale statistics),
 * nor with the previous call's parameters. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include "engine/helpers.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define BIG_ROWS 150000

static rhei_db *open_big(char *dir, size_t n)
{
    rt_tmpdir(dir, n);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)");
    th_exec(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000)"
                " INSERT INTO big SELECT x, x * 3, 'row ' || x FROM c");
    CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
    return db;
}

static int open_stream(rhei_db *db, const char *sql, rhei_side hint,
                       struct ArrowArrayStream *st)
{
    rhei_query_opts o = {hint, RHEI_EVENTUAL};
    return rhei_query_arrow(db, sql, NULL, 0, &o, NULL, st);
}

TEST(batches_coalesced_in_order)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    struct ArrowArrayStream st;
    struct ArrowSchema sc;
    rhei_route_info ri;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    CHECK_OK(db, rhei_query_arrow(db, "SELECT id, v, s FROM big ORDER BY id", NULL, 0, &o, &ri,
                                  &st));
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    CHECK_INT(st.get_schema(&st, &sc), 0);
    CHECK_INT(sc.n_children, 3);
    CHECK_STR(sc.children[0]->format, "l");
    CHECK_STR(sc.children[2]->format, "u");
    CHECK_STR(sc.children[2]->name, "s");
    sc.release(&sc);
    int64_t next = 1, batches = 0, largest = 0;
    for (;;) {
        struct ArrowArray b;
        CHECK_INT(st.get_next(&st, &b), 0);
        if (!b.release)
            break;
        batches++;
        largest = b.length > largest ? b.length : largest;
        CHECK(b.length <= 131072);
        const int64_t *id = b.children[0]->buffers[1], *v = b.children[1]->buffers[1];
        const int32_t *off = b.children[2]->buffers[1];
        const char *txt = b.children[2]->buffers[2];
        for (int64_t i = 0; i < b.length; i++, next++) {
            char want[32];
            int n = snprintf(want, sizeof want, "row %lld", (long long)next);
            CHECK_INT(id[i], next);
            CHECK_INT(v[i], next * 3);
            CHECK_INT(off[i + 1] - off[i], n);
            CHECK(memcmp(txt + off[i], want, (size_t)n) == 0);
        }
        b.release(&b);
    }
    st.release(&st);
    CHECK_INT(next - 1, BIG_ROWS);
    CHECK(largest > 2048); /* coalesced past DuckDB's chunk */
    CHECK(batches >= 3);   /* and bounded: 150K rows do not come as one batch */
    CHECK_OK(db, rhei_close(db));
}

/* Streams released after their first batch give their connection back: more of them than
 * the pool holds, then an ordinary OLAP read, all on one thread (a leak would block). */
TEST(release_returns_connection)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    for (int i = 0; i < 12; i++) {
        struct ArrowArrayStream st;
        struct ArrowArray b;
        CHECK_OK(db, open_stream(db, "SELECT * FROM big", RHEI_SIDE_OLAP, &st));
        CHECK_INT(st.get_next(&st, &b), 0);
        CHECK(b.release != NULL);
        b.release(&b);
        st.release(&st);
        CHECK(st.release == NULL);
    }
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM big", RHEI_SIDE_OLAP), BIG_ROWS);
    CHECK_OK(db, rhei_close(db));
}

static void *close_db(void *arg)
{
    static int rc;
    rc = rhei_close(arg);
    return &rc;
}

/* A stream released after its first batch, its query still running (a cross join no one will
 * read to the end), leaves no open query behind: DuckDB kept it open on the pooled connection,
 * and rhei_close's CHECKPOINT of a file store waited for it forever. */
TEST(close_after_partly_read_stream)
{
    for (int file = 0; file < 2; file++) {
        char dir[64];
        rt_tmpdir(dir, sizeof dir);
        rhei_db *db = th_open(dir, (th_opts){.file_olap = file});
        th_exec(db, "CREATE TABLE big (id INTEGER PRIMARY KEY)");
        CHECK_OK(db, rhei_register_table(db, "big", NULL, 0, NULL, 0));
        th_exec(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                    " WHERE x < 1500) INSERT INTO big SELECT x FROM c");
        CHECK_OK(db, rhei_sync_now(db, NULL));
        struct ArrowArrayStream st;
        struct ArrowArray b;
        CHECK_OK(db, open_stream(db, "SELECT x.id FROM big x, big y", RHEI_SIDE_OLAP, &st));
        CHECK_INT(st.get_next(&st, &b), 0);
        CHECK(b.release != NULL && b.length > 0);
        b.release(&b);
        st.release(&st); /* and no other query on the pool, which would close it */
        pthread_t t;
        void *res = NULL;
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 60;
        CHECK_INT(pthread_create(&t, NULL, close_db, db), 0);
        if (pthread_timedjoin_np(t, &res, &deadline) != 0)
            FAIL("rhei_close still waits 60 s after a partly read stream was released");
        CHECK_INT(*(int *)res, RHEI_OK);
        rt_rm_tree(dir);
    }
}

TEST(interrupt_ends_held_stream)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    struct ArrowArrayStream st;
    struct ArrowArray b;
    CHECK_OK(db, open_stream(db, "SELECT a.id, b.id FROM big a, big b", RHEI_SIDE_OLAP, &st));
    CHECK_INT(st.get_next(&st, &b), 0);
    CHECK(b.release != NULL);
    b.release(&b);
    rhei_interrupt(db);
    int rc = 0;
    int64_t more = 0;
    while ((rc = st.get_next(&st, &b)) == 0 && b.release) {
        more += b.length;
        b.release(&b);
    }
    CHECK_INT(rc, EINTR);
    CHECK(strstr(st.get_last_error(&st), "nterrupt") != NULL);
    CHECK_INT(st.get_next(&st, &b), EINTR); /* stays failed */
    CHECK(more < (int64_t)BIG_ROWS * BIG_ROWS);
    st.release(&st);
    /* the connection is usable again */
    CHECK_INT(th_scalar(db, "SELECT count(*) FROM big", RHEI_SIDE_OLAP), BIG_ROWS);
    CHECK_OK(db, rhei_close(db));
}

TEST(params_strong_and_route)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    struct ArrowArrayStream st;
    struct ArrowArray b;
    rhei_route_info ri;
    rhei_value p[2] = {rhei_int(10), rhei_text("row 500")};
    rhei_query_opts o = {RHEI_SIDE_AUTO, RHEI_STRONG};
    th_exec(db, "INSERT INTO big VALUES (0, -1, 'zero')");
    CHECK_OK(db, rhei_query_arrow(db, "SELECT count(*) FROM big WHERE id < ?1 OR s = ?2", p, 2,
                                  &o, &ri, &st));
    CHECK_INT(ri.side, RHEI_SIDE_OLAP); /* an aggregate over a table: the router's choice */
    CHECK(ri.reason && ri.reason[0]);
    CHECK_INT(st.get_next(&st, &b), 0);
    CHECK_INT(b.length, 1);
    CHECK_INT(((const int64_t *)b.children[0]->buffers[1])[0], 11); /* 0..9 and row 500 */
    b.release(&b);
    st.release(&st);
    /* a point read stays on SQLite and comes back as one batch */
    CHECK_OK(db, rhei_query_arrow(db, "SELECT v FROM big WHERE id = 0", NULL, 0, NULL, &ri,
                                  &st));
    CHECK_INT(ri.side, RHEI_SIDE_OLTP);
    CHECK_INT(st.get_next(&st, &b), 0);
    CHECK_INT(b.length, 1);
    CHECK_INT(((const int64_t *)b.children[0]->buffers[1])[0], -1);
    b.release(&b);
    st.release(&st);
    CHECK_OK(db, rhei_close(db));
}

TEST(misuse_and_errors)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    struct ArrowArrayStream st;
    CHECK_INT(rhei_query_arrow(db, "SELECT 1", NULL, 0, NULL, NULL, NULL), RHEI_MISUSE);
    CHECK_INT(rhei_query_arrow(NULL, "SELECT 1", NULL, 0, NULL, NULL, &st), RHEI_MISUSE);
    CHECK(st.release == NULL);
    CHECK_INT(rhei_query_arrow(db, NULL, NULL, 0, NULL, NULL, &st), RHEI_MISUSE);
    CHECK_INT(rhei_query_arrow(db, "DELETE FROM big", NULL, 0, NULL, NULL, &st), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "read-only") != NULL);
    CHECK_INT(rhei_query_arrow(db, "SELECT 1", NULL, 1, NULL, NULL, &st), RHEI_MISUSE);
    CHECK_INT(open_stream(db, "SELECT nope FROM big", RHEI_SIDE_OLAP, &st), RHEI_SQL);
    CHECK(st.release == NULL);
    CHECK_INT(open_stream(db, "SELECT * FROM nope", RHEI_SIDE_OLAP, &st), RHEI_NOTFOUND);
    CHECK_OK(db, rhei_close(db));
}

/* ---- rhei_query_arrow_schema and the statement it keeps ----------------------------------- */

/* The schema call and the stream agree column for column, on both sides and through casts. */
static void same_schema(rhei_db *db, const char *sql, rhei_side hint, rhei_side side)
{
    struct ArrowArrayStream st;
    struct ArrowSchema a, b;
    rhei_route_info ra, rb;
    rhei_query_opts o = {hint, RHEI_EVENTUAL};
    if (rhei_query_arrow_schema(db, sql, NULL, 0, &o, &ra, &a) != RHEI_OK)
        FAIL("schema of '%s': %s", sql, rhei_errmsg(db));
    CHECK_OK(db, rhei_query_arrow(db, sql, NULL, 0, &o, &rb, &st));
    CHECK_INT(st.get_schema(&st, &b), 0);
    CHECK_INT(ra.side, side);
    CHECK_INT(rb.side, side);
    CHECK_INT(a.n_children, b.n_children);
    for (int64_t i = 0; i < a.n_children; i++) {
        CHECK_STR(a.children[i]->format, b.children[i]->format);
        CHECK_STR(a.children[i]->name, b.children[i]->name);
    }
    a.release(&a);
    b.release(&b);
    st.release(&st);
}

TEST(schema_is_the_streams)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    th_exec(db, "CREATE TABLE d (id INTEGER PRIMARY KEY, price DECIMAL(10,2), ok BOOLEAN,"
                " at TIMESTAMP)");
    CHECK_OK(db, rhei_register_table(db, "d", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO d VALUES (1, '2.50', 1, '2024-01-02 03:04:05')");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    same_schema(db, "SELECT id, v, s FROM big", RHEI_SIDE_OLAP, RHEI_SIDE_OLAP);
    same_schema(db, "SELECT v * 2 AS twice, s || '!' AS loud, v / 2.0 FROM big", RHEI_SIDE_OLAP,
                RHEI_SIDE_OLAP);
    same_schema(db, "SELECT * FROM d", RHEI_SIDE_OLAP, RHEI_SIDE_OLAP); /* casts */
    same_schema(db, "SELECT count(*) AS n, sum(v) FROM big", RHEI_SIDE_AUTO, RHEI_SIDE_OLAP);
    same_schema(db, "SELECT v, v * 1.5, s FROM big WHERE id = 7", RHEI_SIDE_AUTO, RHEI_SIDE_OLTP);
    same_schema(db, "SELECT * FROM d", RHEI_SIDE_OLTP, RHEI_SIDE_OLTP);
    /* SQLite types an expression by its first row only: the schema call reads just that */
    struct ArrowSchema sc;
    rhei_query_opts o = {RHEI_SIDE_OLTP, RHEI_EVENTUAL};
    CHECK_OK(db, rhei_query_arrow_schema(db, "SELECT id * 1.5 FROM big", NULL, 0, &o, NULL, &sc));
    CHECK_STR(sc.children[0]->format, "g");
    sc.release(&sc);
    CHECK_INT(rhei_query_arrow_schema(db, "SELECT nope FROM big", NULL, 0, NULL, NULL, &sc),
              RHEI_SQL);
    CHECK(sc.release == NULL);
    CHECK_INT(rhei_query_arrow_schema(db, "DELETE FROM big", NULL, 0, NULL, NULL, &sc),
              RHEI_MISUSE);
    CHECK_INT(rhei_query_arrow_schema(db, "SELECT 1", NULL, 0, NULL, NULL, NULL), RHEI_MISUSE);
    CHECK_OK(db, rhei_close(db));
}

static int64_t stream_count(rhei_db *db, const char *sql, const rhei_value *p, size_t n)
{
    struct ArrowArrayStream st;
    struct ArrowArray b;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    if (rhei_query_arrow(db, sql, p, n, &o, NULL, &st) != RHEI_OK)
        FAIL("stream '%s': %s", sql, rhei_errmsg(db));
    CHECK_INT(st.get_next(&st, &b), 0);
    CHECK(b.release && b.length == 1);
    int64_t v = ((const int64_t *)b.children[0]->buffers[1])[0];
    b.release(&b);
    st.release(&st);
    return v;
}

/* An engine in a fresh dir with t(id, v) replicated, v = id for ids 1..100. */
static rhei_db *open_v100(char *dir, size_t n)
{
    rt_tmpdir(dir, n);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
    th_exec(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)"
                " INSERT INTO t SELECT x, x FROM c");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    return db;
}

/* DuckDB 1.4 folds table statistics into a prepared plan: "v = 200" on a table whose v stops
 * at 100 becomes an empty result (duckdb#23704). A statement kept from before a sync that
 * added such a row must not serve the next stream, whether it was kept by the schema call
 * (GetFlightInfo, then DoGet) or by an earlier stream of the same text. */
TEST(kept_statement_not_used_after_a_write)
{
    char dir[64];
    rhei_db *db = open_v100(dir, sizeof dir);
    const char *sql = "SELECT count(*) FROM t WHERE v = 200";
    struct ArrowSchema sc;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    CHECK_OK(db, rhei_query_arrow_schema(db, sql, NULL, 0, &o, NULL, &sc));
    sc.release(&sc);
    CHECK_INT(stream_count(db, sql, NULL, 0), 0);
    th_exec(db, "INSERT INTO t VALUES (101, 200)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(stream_count(db, sql, NULL, 0), 1);
    CHECK_OK(db, rhei_query_arrow_schema(db, sql, NULL, 0, &o, NULL, &sc));
    sc.release(&sc);
    th_exec(db, "INSERT INTO t VALUES (102, 200)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(stream_count(db, sql, NULL, 0), 2);
    /* a column added since: the stream has it */
    th_exec(db, "ALTER TABLE t ADD COLUMN w INTEGER");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    struct ArrowArrayStream st;
    CHECK_OK(db, rhei_query_arrow(db, "SELECT * FROM t", NULL, 0, &o, NULL, &st));
    CHECK_INT(st.get_schema(&st, &sc), 0);
    CHECK_INT(sc.n_children, 3);
    sc.release(&sc);
    st.release(&st);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* rhei_query (materialised) keeps its statement on the pooled connection too, and shares it
 * with the stream of the same text: after a sync that adds a matching row, neither serves
 * the stale plan. */
TEST(materialised_query_kept_statement_not_used_after_a_write)
{
    char dir[64];
    rhei_db *db = open_v100(dir, sizeof dir);
    const char *sql = "SELECT count(*) FROM t WHERE v = 200";
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 0);
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 0); /* served by the kept statement */
    th_exec(db, "INSERT INTO t VALUES (101, 200)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 1);
    CHECK_INT(stream_count(db, sql, NULL, 0), 1); /* the stream takes the kept statement */
    th_exec(db, "INSERT INTO t VALUES (102, 200)");
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(th_scalar(db, sql, RHEI_SIDE_OLAP), 2);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* A kept statement is bound afresh: new values are used, a parameter left out fails as it
 * would on a statement prepared for the call, and a value of another type is taken. */
TEST(kept_statement_rebinds_parameters)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    const char *sql = "SELECT count(*) FROM big WHERE id <= ?1";
    rhei_value p = rhei_int(10);
    CHECK_INT(stream_count(db, sql, &p, 1), 10);
    p = rhei_int(20);
    CHECK_INT(stream_count(db, sql, &p, 1), 20);
    struct ArrowArrayStream st;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    int rc = rhei_query_arrow(db, sql, NULL, 0, &o, NULL, &st);
    if (rc == RHEI_OK) {
        st.release(&st);
        FAIL("a missing parameter ran with the previous call's value");
    }
    CHECK_INT(stream_count(db, sql, &p, 1), 20);
    p = rhei_real(30.5);
    CHECK_INT(stream_count(db, sql, &p, 1), 30);
    CHECK_OK(db, rhei_close(db));
}

/* ---- threads ------------------------------------------------------------------------------ */

#define STREAMERS 6 /* more than the pool's 4 connections: some wait for one */

typedef struct sarg {
    rhei_db *db;
    long k;
    int64_t rows, sum;
} sarg;

static atomic_int spinning;

static void *spin(void *arg)
{
    volatile uint64_t x = 0;
    (void)arg;
    while (atomic_load(&spinning))
        x++;
    return NULL;
}

/* Each thread streams its own slice (ids = k mod STREAMERS) a few times, half of the streams
 * released early, and adds up what it read. */
static void *streamer(void *p)
{
    sarg *a = p;
    rhei_query_opts o = {RHEI_SIDE_OLAP, RHEI_EVENTUAL};
    rhei_value k = rhei_int(a->k);
    for (int round = 0; round < 4; round++) {
        struct ArrowArrayStream st;
        struct ArrowArray b;
        int early = round % 2;
        if (rhei_query_arrow(a->db, "SELECT id FROM big WHERE id - (id / 6) * 6 = ?1", &k, 1, &o,
                             NULL, &st) != RHEI_OK)
            FAIL("stream %ld: %s", a->k, rhei_errmsg(a->db));
        while (st.get_next(&st, &b) == 0 && b.release) {
            const int64_t *id = b.children[0]->buffers[1];
            for (int64_t i = 0; !early && i < b.length; i++)
                a->rows++, a->sum += id[i];
            b.release(&b);
            if (early)
                break;
        }
        st.release(&st);
    }
    return NULL;
}

TEST(threads_stream_at_once)
{
    char dir[64];
    rhei_db *db = open_big(dir, sizeof dir);
    pthread_t spinners[2], t[STREAMERS];
    sarg a[STREAMERS];
    atomic_store(&spinning, 1);
    for (int i = 0; i < 2; i++)
        pthread_create(&spinners[i], NULL, spin, NULL);
    for (long i = 0; i < STREAMERS; i++) {
        a[i] = (sarg){db, i, 0, 0};
        pthread_create(&t[i], NULL, streamer, &a[i]);
    }
    for (int i = 0; i < STREAMERS; i++)
        pthread_join(t[i], NULL);
    atomic_store(&spinning, 0);
    for (int i = 0; i < 2; i++)
        pthread_join(spinners[i], NULL);
    int64_t rows = 0, sum = 0;
    for (int i = 0; i < STREAMERS; i++)
        rows += a[i].rows, sum += a[i].sum;
    CHECK_INT(rows, 2 * (int64_t)BIG_ROWS); /* two full reads per thread of its slice */
    CHECK_INT(sum, 2 * ((int64_t)BIG_ROWS * (BIG_ROWS + 1) / 2));
    CHECK_OK(db, rhei_close(db));
}
