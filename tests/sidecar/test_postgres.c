/* test_postgres.c — the sidecar following a throwaway PostgreSQL 15 (scripts/pg_test.sh):
 * every supported type value by value, bulk loads over few timestamps, interleaved changes
 * with soft and hard deletes checked after every cycle and as of recorded moments, kill -9
 * of a sidecar process mid-cycle, a server restart and a server that is down at start. */
#include "sc_test.h"
#include <pthread.h>
#include <time.h>

#if SC_ON

static rhei__sidecar_cfg pg_cfg(const rhei__sidecar_table_cfg *t, size_t n)
{
    rhei__sidecar_cfg c = {RHEI__SRC_POSTGRES, sc_pg_conninfo, 1000, 0, 1000, 0, 0, t, n};
    return c;
}

/* FAILs unless the PostgreSQL query and the mirror query give the same rows as text. */
static void same_pg(const char *pg_sql, rhei__olap *o, const char *olap_sql)
{
    char *a = sc_psql_dump(pg_sql), *b = sc_olap_dump(o, olap_sql);
    sc_same_dump(olap_sql, a, b);
    free(a);
    free(b);
}

/* ---- types, value by value ---------------------------------------------------------------- */

static const char types_sql[] =
    "CREATE TABLE types (id integer PRIMARY KEY, i2 smallint, i4 integer, i8 bigint,"
    " n numeric(12,3), nu numeric, r4 real, r8 double precision, t text, vc varchar(20),"
    " b boolean, d date, ts timestamp, tstz timestamptz, by bytea, u uuid, j json, jb jsonb,"
    " updated_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00');"
    "INSERT INTO types VALUES"
    " (1, 32767, -2147483648, 9223372036854775807, 123456789.125, 0.000000001, 1.5, -2.25,"
    "  'héllo wörld ✓', 'short', true, '2024-02-29', '2024-03-10 12:34:56.789012',"
    "  '2024-03-10 12:34:56.5+05:30', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
    "  '{\"a\": [1, 2]}', '{\"b\": 1, \"a\": 2}'),"
    " (2, -32768, 0, -9223372036854775808, -0.001, -12345678901234567890.5, 'NaN', 'Infinity',"
    "  '', 'x', false, '1970-01-01', '1969-12-31 23:59:59', '2000-01-01 00:00:00+00', '\\x',"
    "  '00000000-0000-0000-0000-000000000000', 'null', '[]'),"
    " (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL, NULL)";

static void check_types_shape(rhei__olap *o)
{
    char *got = sc_olap_dump(o, "SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = 'types' ORDER BY ordinal_position");
    sc_same_dump("olap column types",
                 "id|BIGINT\ni2|BIGINT\ni4|BIGINT\ni8|BIGINT\nn|DECIMAL(12,3)\n"
                 "nu|DECIMAL(38,10)\nr4|DOUBLE\nr8|DOUBLE\nt|VARCHAR\nvc|VARCHAR\nb|BOOLEAN\n"
                 "d|DATE\nts|TIMESTAMP\ntstz|TIMESTAMP\nby|BLOB\nu|VARCHAR\nj|VARCHAR\n"
                 "jb|VARCHAR\nupdated_at|TIMESTAMP\n", got);
    free(got);
}

static void check_types_row1(const rhei_result *r)
{
    CHECK_INT(rhei_result_int64(r, 0, 1), 32767);
    CHECK_INT(rhei_result_int64(r, 0, 2), INT32_MIN);
    CHECK_INT(rhei_result_int64(r, 0, 3), INT64_MAX);
    CHECK_STR(rhei_result_text(r, 0, 4, NULL), "123456789.125");
    CHECK_STR(rhei_result_text(r, 0, 5, NULL), "0.0000000010");
    CHECK(rhei_result_double(r, 0, 6) == 1.5 && rhei_result_double(r, 0, 7) == -2.25);
    CHECK_STR(rhei_result_text(r, 0, 8, NULL), "héllo wörld ✓");
    CHECK_STR(rhei_result_text(r, 0, 9, NULL), "short");
    CHECK_INT(rhei_result_int64(r, 0, 10), 1);
    CHECK_STR(rhei_result_text(r, 0, 11, NULL), "2024-02-29");
    CHECK_INT(rhei_result_value(r, 0, 12).i, 1710074096789012LL);
    CHECK_INT(rhei_result_value(r, 0, 13).i, 1710054296500000LL); /* 07:04:56.5 UTC */
    size_t n = 0;
    const unsigned char *blob = rhei_result_blob(r, 0, 14, &n);
    CHECK_INT(n, 3);
    CHECK(blob[0] == 0x00 && blob[1] == 0xff && blob[2] == 0x10);
    CHECK_STR(rhei_result_text(r, 0, 15, NULL), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK_STR(rhei_result_text(r, 0, 16, NULL), "{\"a\": [1, 2]}");
    CHECK_STR(rhei_result_text(r, 0, 17, NULL), "{\"a\": 2, \"b\": 1}"); /* jsonb's own form */
}

static void check_types_row2(const rhei_result *r)
{
    CHECK_INT(rhei_result_int64(r, 1, 1), -32768);
    CHECK_INT(rhei_result_int64(r, 1, 3), INT64_MIN);
    CHECK_STR(rhei_result_text(r, 1, 4, NULL), "-0.001");
    CHECK_STR(rhei_result_text(r, 1, 5, NULL), "-12345678901234567890.5000000000");
    CHECK(rhei_result_double(r, 1, 6) != rhei_result_double(r, 1, 6)); /* NaN */
    CHECK(rhei_result_double(r, 1, 7) > 1e308);
    CHECK_STR(rhei_result_text(r, 1, 8, NULL), "");
    CHECK_INT(rhei_result_int64(r, 1, 10), 0);
    CHECK_INT(rhei_result_value(r, 1, 11).i, 0);
    CHECK_INT(rhei_result_value(r, 1, 12).i, -1000000);
    CHECK_INT(rhei_result_value(r, 1, 13).i, 946684800000000LL);
    size_t n = 99;
    rhei_result_blob(r, 1, 14, &n);
    CHECK_INT(n, 0);
    CHECK(!rhei_result_is_null(r, 1, 14));
    CHECK_STR(rhei_result_text(r, 1, 16, NULL), "null");
    CHECK_STR(rhei_result_text(r, 1, 17, NULL), "[]");
    for (size_t c = 1; c < 18; c++)
        if (!rhei_result_is_null(r, 2, c))
            FAIL("row 3 column %zu should be NULL", c);
}

static void t_types(void)
{
    sc_pg_start();
    sc_psql(types_sql);
    rhei__olap *o = sc_olap_open(NULL);
    static const char *pk[] = {"id"};
    rhei__sidecar_table_cfg t = {"types", pk, 1, "updated_at", NULL, NULL, 0, NULL, NULL};
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    rhei__sidecar *sc = sc_new(&cfg, o);
    CHECK_INT(sc_cycle_ok(sc).rows, 3);
    check_types_shape(o);
    rhei_result *r = sc_olap_query(o, "SELECT * FROM types ORDER BY id");
    CHECK_INT(rhei_result_row_count(r), 3);
    check_types_row1(r);
    check_types_row2(r);
    rhei_result_free(r);
    /* the same values again through a poll page instead of the first copy */
    sc_psql("UPDATE types SET updated_at = '2024-06-01 00:00:00+00'");
    CHECK_INT(sc_cycle_ok(sc).updated, 3);
    r = sc_olap_query(o, "SELECT * FROM types ORDER BY id");
    check_types_row1(r);
    check_types_row2(r);
    rhei_result_free(r);
    /* a value DECIMAL(38,10) cannot hold exactly is an error naming it, not a rounding */
    sc_psql("UPDATE types SET nu = 0.12345678901, updated_at = '2024-07-01+00' WHERE id = 2");
    const char *msg = sc_cycle_fails(sc, RHEI_TYPE);
    CHECK_CONTAINS(msg, "id=");
    CHECK_CONTAINS(msg, "0.12345678901");
    CHECK_CONTAINS(msg, "column 'nu'");
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

/* ---- bulk: 100K rows over a few timestamps --------------------------------------------- */

static void t_bulk(void)
{
    sc_pg_start();
    sc_psql("CREATE TABLE items (id bigint PRIMARY KEY, name text, qty integer,"
            " updated_at timestamp NOT NULL);"
            "INSERT INTO items SELECT i, 'item ' || i, i % 97,"
            " '2024-01-01'::timestamp + (i % 3) * interval '1 day'"
            " FROM generate_series(1, 100000) i");
    rhei__olap *o = sc_olap_open(NULL);
    static const char *pk[] = {"id"};
    rhei__sidecar_table_cfg t = {"items", pk, 1, "updated_at", NULL, NULL, 0, NULL, NULL};
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.page_size = 777;
    rhei__sidecar *sc = sc_new(&cfg, o);
    rhei__sidecar_stats st = sc_cycle_ok(sc);
    CHECK_INT(st.rows, 100000);
    same_pg("SELECT * FROM items ORDER BY id", o, "SELECT * FROM items ORDER BY id");
    sc_psql("UPDATE items SET qty = qty + 1, updated_at = '2024-02-01' WHERE id % 5 < 3;"
            "INSERT INTO items SELECT i, 'new ' || i, 1, '2024-02-01' FROM"
            " generate_series(100001, 110000) i");
    st = sc_cycle_ok(sc);
    CHECK_INT(st.rows, 70000);
    CHECK_INT(st.updated, 60000);
    CHECK_INT(st.inserted, 10000);
    CHECK_INT(st.pages, (70000 + 776) / 777);
    same_pg("SELECT * FROM items ORDER BY id", o, "SELECT * FROM items ORDER BY id");
    CHECK_INT(sc_olap_scalar(o, "SELECT count(*) - count(DISTINCT id) FROM items"), 0);
    CHECK_INT(sc_cycle_ok(sc).rows, 0);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

/* ---- interleaved changes, checked after every cycle; history as of recorded moments ---- */

#define LIVE_PG "SELECT id, name, qty, price, (extract(epoch FROM updated_at) * 1000000)::bigint" \
                " FROM items WHERE deleted_at IS NULL ORDER BY id"
#define LIVE_OLAP "SELECT id, name, qty, price, epoch_us(updated_at) FROM items ORDER BY id"

static const char *items_pk[] = {"id"};

static rhei__sidecar_table_cfg items_table(void)
{
    rhei__sidecar_table_cfg t = {"items", items_pk, 1, "updated_at", NULL, NULL, 0,
                                 "deleted_at", NULL};
    return t;
}

static const char items_ddl[] =
    "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint, price numeric(10,2),"
    " deleted_at timestamptz, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE SEQUENCE ids; CREATE SEQUENCE qtys;"
    "CREATE TABLE log (qty bigint PRIMARY KEY, id bigint)";

/* One round of random changes, as one psql script (each statement its own transaction). */
static void round_of_changes(uint64_t *seed, int ops)
{
    char *sql = malloc((size_t)ops * 400 + 1), *at = sql;
    sql[0] = '\0';
    for (int k = 0; k < ops; k++) {
        unsigned r = (unsigned)(sc_rand(seed) % 100);
        long x = (long)(sc_rand(seed) % 1000);
        if (r < 35)
            at += sprintf(at, "INSERT INTO items (id, name, qty, price) VALUES (nextval('ids'),"
                          " 'n%ld', %ld, %ld.25);\n", x, x, x);
        else if (r < 65)
            at += sprintf(at, "UPDATE items SET qty = %ld, name = 'u%ld', price = price + 1,"
                          " updated_at = clock_timestamp() WHERE id = (SELECT id FROM items"
                          " ORDER BY id OFFSET %ld %% greatest((SELECT count(*) FROM items), 1)"
                          " LIMIT 1);\n", x, x, x);
        else if (r < 75)
            at += sprintf(at, "UPDATE items SET deleted_at = now(), updated_at ="
                          " clock_timestamp() WHERE id = (SELECT id FROM items WHERE deleted_at"
                          " IS NULL ORDER BY id OFFSET %ld %% greatest((SELECT count(*) FROM"
                          " items WHERE deleted_at IS NULL), 1) LIMIT 1);\n", x);
        else if (r < 80)
            at += sprintf(at, "UPDATE items SET deleted_at = NULL, updated_at = clock_timestamp()"
                          " WHERE id = (SELECT min(id) FROM items WHERE deleted_at IS NOT NULL"
                          " AND id %% 7 = %ld %% 7);\n", x);
        else if (r < 92)
            at += sprintf(at, "DELETE FROM items WHERE id = (SELECT id FROM items ORDER BY id"
                          " OFFSET %ld %% greatest((SELECT count(*) FROM items), 1) LIMIT 1);\n",
                          x);
        else /* a key comes back as a new row */
            at += sprintf(at, "WITH gone AS (DELETE FROM items WHERE id = (SELECT max(id) - %ld"
                          " %% 5 FROM items) RETURNING id) INSERT INTO items (id, name, qty,"
                          " price) SELECT id, 'again', 7, 1 FROM gone;\n", x);
    }
    sc_psql(sql);
    free(sql);
}

static void interleaved(int history)
{
    enum { ROUNDS = 30, OPS = 25 };
    char sql[256];
    sc_pg_start();
    sc_psql(items_ddl);
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.history = history;
    cfg.reconcile_interval_ms = -1;
    cfg.page_size = 7;
    rhei__sidecar *sc = sc_new(&cfg, o);
    uint64_t seed = 99 + (uint64_t)history;
    char *state[ROUNDS];
    int64_t moment[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
        round_of_changes(&seed, OPS);
        sc_cycle_ok(sc);
        /* Hard deletes are dated when the cycle's key scan found them missing (after the
         * watermark): the round's state holds from here until the next round's changes. */
        int64_t seen = rhei__now_us();
        state[round] = sc_psql_dump(LIVE_PG);
        char *got = sc_olap_dump(o, LIVE_OLAP);
        sc_same_dump(LIVE_OLAP, state[round], got);
        free(got);
        moment[round] = sc_watermark(sc, "items");
        CHECK(seen >= moment[round]);
        moment[round] = seen;
    }
    if (history) {
        sc_check_history(o, "items", "id");
        for (int round = 0; round < ROUNDS; round++) {
            snprintf(sql, sizeof sql, "SELECT id, name, qty, price, epoch_us(updated_at) FROM "
                     "rhei_as_of('items', %lld) ORDER BY id", (long long)moment[round]);
            char *got = sc_olap_dump(o, sql);
            sc_same_dump(sql, state[round], got);
            free(got);
        }
    }
    for (int round = 0; round < ROUNDS; round++)
        free(state[round]);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

static void t_interleaved_mirror(void) { interleaved(0); }
static void t_interleaved_history(void) { interleaved(1); }

/* ---- kill -9 mid-cycle ------------------------------------------------------------------- */

static void kid_main(void *ud, int fd)
{
    const char *olap = ud;
    rhei__olap *o = NULL;
    rhei__sidecar *sc = NULL;
    rhei__err e;
    rhei__olap_opts opts = {olap, 2, "", 2, 0};
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.history = 1;
    cfg.page_size = 100;
    cfg.reconcile_interval_ms = -1;
    if (rhei__olap_duckdb.open(&opts, &o, &e) || rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o,
                                                                   &sc, &e))
        _exit(2);
    rhei__sidecar_set_hook(sc, sc_pipe_hook, &fd);
    for (;;)
        rhei__sidecar_cycle(sc, NULL, &e);
}

static const char logged_update[] =
    "WITH u AS (UPDATE items SET qty = nextval('qtys'), updated_at = clock_timestamp()"
    " WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 3000) RETURNING id, qty)"
    " INSERT INTO log SELECT qty, id FROM u;"
    "WITH n AS (INSERT INTO items (id, name, qty, price) SELECT nextval('ids'), 'new',"
    " nextval('qtys'), 1 FROM generate_series(1, 200) RETURNING id, qty)"
    " INSERT INTO log SELECT qty, id FROM n;";

static void t_kill9(void)
{
    char dir[64], olap[128], sql[512];
    rt_tmpdir(dir, sizeof dir);
    snprintf(olap, sizeof olap, "%s/olap.duckdb", dir);
    sc_pg_start();
    sc_psql(items_ddl);
    sc_psql("WITH n AS (INSERT INTO items (id, name, qty, price) SELECT nextval('ids'), 'k',"
            " nextval('qtys'), 1 FROM generate_series(1, 5000) RETURNING id, qty)"
            " INSERT INTO log SELECT qty, id FROM n");
    uint64_t seed = 5;
    for (int round = 0; round < 6; round++) {
        if (round) {
            sc_psql(logged_update);
            snprintf(sql, sizeof sql, "DELETE FROM items WHERE id %% 50 = %d", round);
            sc_psql(sql);
        }
        sc_child c = sc_fork(kid_main, olap);
        /* the first child's work is one copy; later ones have ~32 pages each */
        size_t want = round == 0 ? 1 : 1 + (size_t)(sc_rand(&seed) % 20);
        CHECK_INT(sc_wait_bytes(&c, want), want);
        sc_kill9(&c);
    }
    rhei__olap *o = sc_olap_open(olap);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.history = 1;
    cfg.reconcile_interval_ms = -1;
    rhei__sidecar *sc = sc_new(&cfg, o);
    sc_cycle_ok(sc);
    same_pg(LIVE_PG, o, LIVE_OLAP);
    sc_check_history(o, "items", "id");
    /* every version is a write that happened, and none is there twice */
    char *log = sc_psql_dump("SELECT l.qty, l.id FROM log l ORDER BY 1");
    char *want = malloc(strlen(log) + 2);
    sprintf(want, "\n%s", log); /* every line between newlines, for exact-line search */
    free(log);
    char *got = sc_olap_dump(o, "SELECT qty, id FROM items_history ORDER BY 1");
    for (char *line = got; *line;) {
        char *end = strchr(line, '\n');
        *end = '\0';
        char needle[64];
        snprintf(needle, sizeof needle, "\n%s\n", line);
        if (!strstr(want, needle) || (end[1] && strncmp(end + 1, line, strcspn(line, "|") + 1)
                                                        == 0))
            FAIL("history version qty|id %s was never written or is there twice", line);
        line = end + 1;
    }
    free(want);
    free(got);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

/* ---- the server going away and coming back ----------------------------------------------- */

static void t_restart(void)
{
    sc_pg_start();
    sc_psql(items_ddl);
    sc_psql("INSERT INTO items (id, name, qty, price) SELECT i, 'a', i, 1 FROM"
            " generate_series(1, 100) i");
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    rhei__sidecar *sc = sc_new(&cfg, o);
    CHECK_INT(sc_cycle_ok(sc).rows, 100);
    sc_pg_ctl("restart");
    sc_psql("UPDATE items SET qty = 0, updated_at = clock_timestamp() WHERE id <= 10");
    /* the connection died with the old server: reported, then reopened by the next cycle */
    CHECK_CONTAINS(sc_cycle_fails(sc, RHEI_SOURCE), "cannot reach source 'postgres:host=");
    CHECK_INT(sc_cycle_ok(sc).rows, 10);
    same_pg(LIVE_PG, o, LIVE_OLAP);
    sc_pg_ctl("down");
    const char *msg = sc_cycle_fails(sc, RHEI_SOURCE);
    CHECK_CONTAINS(msg, "cannot reach source 'postgres:host=127.0.0.1");
    CHECK_CONTAINS(sc_cycle_fails(sc, RHEI_SOURCE), "cannot reach source");
    struct rhei__sidecar_table_status st;
    CHECK_INT(rhei__sidecar_table_status(sc, 0, &st), RHEI_OK);
    CHECK_INT(st.last_error_code, RHEI_SOURCE);
    sc_pg_ctl("up");
    sc_psql("UPDATE items SET qty = 1, updated_at = clock_timestamp() WHERE id > 95");
    CHECK_INT(sc_cycle_ok(sc).rows, 5);
    same_pg(LIVE_PG, o, LIVE_OLAP);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

/* Down when the sidecar starts: creating it works, cycles say why they fail (without the
 * password), and the background loop gets through once the server is up. */
static void t_down_at_start(void)
{
    char conninfo[600];
    sc_pg_start();
    sc_psql(items_ddl);
    sc_psql("INSERT INTO items (id, name, qty, price) SELECT i, 'a', i, 1 FROM"
            " generate_series(1, 50) i");
    sc_pg_ctl("down");
    snprintf(conninfo, sizeof conninfo, "%s password=hunter2", sc_pg_conninfo);
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_table_cfg t = items_table();
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.source = conninfo;
    cfg.poll_interval_ms = 20;
    rhei__sidecar *sc = sc_new(&cfg, o);
    const char *msg = sc_cycle_fails(sc, RHEI_SOURCE);
    CHECK_CONTAINS(msg, "cannot reach source 'postgres:host=127.0.0.1 port=");
    CHECK_CONTAINS(msg, "password=***");
    CHECK(strstr(msg, "hunter2") == NULL);
    sc_applied w = SC_APPLIED_INIT;
    rhei__sidecar_set_hook(sc, sc_count_rows, &w);
    rhei__err e;
    CHECK_INT(rhei__sidecar_start(sc, &e), RHEI_OK);
    sc_pg_ctl("up");
    sc_wait_applied(&w, 50);
    sc_psql("UPDATE items SET qty = -1, updated_at = clock_timestamp() WHERE id <= 5");
    sc_wait_applied(&w, 55);
    rhei__sidecar_stop(sc);
    same_pg(LIVE_PG, o, LIVE_OLAP);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

static void t_column_dropped(void)
{
    sc_pg_start();
    sc_psql(items_ddl);
    sc_psql("CREATE TABLE other (k text PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now());"
            "INSERT INTO other VALUES ('a'); INSERT INTO items (id, name, qty) VALUES (1, 'x', 1)");
    static const char *other_pk[] = {"k"};
    rhei__sidecar_table_cfg t[2] = {items_table(),
                                    {"other", other_pk, 1, "ts", NULL, NULL, 0, NULL, NULL}};
    rhei__olap *o = sc_olap_open(NULL);
    rhei__sidecar_cfg cfg = pg_cfg(t, 2);
    rhei__sidecar *sc = sc_new(&cfg, o);
    CHECK_INT(sc_cycle_ok(sc).rows, 2);
    sc_psql("ALTER TABLE items DROP COLUMN price; INSERT INTO other VALUES ('b')");
    const char *msg = sc_cycle_fails(sc, RHEI_NOTFOUND);
    CHECK_CONTAINS(msg, "column 'price' of table 'items' no longer exists");
    CHECK_INT(sc_olap_scalar(o, "SELECT count(*) FROM other"), 2);
    sc_psql("INSERT INTO other VALUES ('c')");
    CHECK_INT(sc_cycle_ok(sc).rows, 1);
    rhei__sidecar_free(sc);
    rhei__olap_duckdb.close(o);
}

/* ---- out of memory at every allocation --------------------------------------------------- */

/* Every allocation of a sidecar's life over PostgreSQL (types table: copy, a page, a
 * restart) fails once; each run works or reports RHEI_NOMEM, and a clean run then ends
 * equal to the source. */
static void t_oom(void)
{
    rhei__err e;
    char sql[200];
    long updated = 0; /* the last i8 written to rows 1 and 2 */
    sc_pg_start();
    sc_psql(types_sql);
    rhei__olap *o = sc_olap_open(NULL);
    static const char *pk[] = {"id"};
    rhei__sidecar_table_cfg t = {"types", pk, 1, "updated_at", NULL, NULL, 0, NULL, NULL};
    rhei__sidecar_cfg cfg = pg_cfg(&t, 1);
    cfg.page_size = 2;
    cfg.reconcile_interval_ms = -1;
    for (long n = 1; n <= 420; n++) { /* a run makes about 350 allocations */
        rhei__sidecar *sc = NULL;
        rhei__sidecar_stats st;
        rhei__mem_fail_after(n);
        int rc = rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc, &e);
        if (rc == RHEI_OK && (rc = rhei__sidecar_cycle(sc, &st, &e)) == RHEI_OK) {
            snprintf(sql, sizeof sql, "UPDATE types SET i8 = %ld, updated_at = '2024-05-01'::"
                     "timestamptz + interval '%ld seconds' WHERE id <> 3", n, n);
            sc_psql(sql);
            updated = n;
            rc = rhei__sidecar_cycle(sc, &st, &e);
        }
        rhei__sidecar_free(sc);
        sc = NULL;
        if (rc == RHEI_OK && (rc = rhei__sidecar_new(&cfg, &rhei__olap_duckdb, o, &sc,
                                                     &e)) == RHEI_OK)
            rc = rhei__sidecar_cycle(sc, &st, &e);
        rhei__mem_fail_after(0);
        if (rc != RHEI_OK && rc != RHEI_NOMEM && !strstr(e.msg, "out of memory"))
            FAIL("allocation %ld: rc=%d: %s", n, rc, e.msg);
        rhei__sidecar_free(sc);
        sc = sc_new(&cfg, o);
        sc_cycle_ok(sc);
        rhei_result *r = sc_olap_query(o, "SELECT * FROM types ORDER BY id");
        CHECK_INT(rhei_result_row_count(r), 3);
        CHECK_STR(rhei_result_text(r, 0, 4, NULL), "123456789.125");
        CHECK_STR(rhei_result_text(r, 1, 5, NULL), "-12345678901234567890.5000000000");
        CHECK_STR(rhei_result_text(r, 0, 8, NULL), "héllo wörld ✓");
        CHECK_INT(rhei_result_value(r, 0, 13).i, 1710054296500000LL);
        CHECK(rhei_result_is_null(r, 2, 17));
        CHECK_INT(rhei_result_int64(r, 0, 3), updated ? updated : INT64_MAX);
        CHECK_INT(rhei_result_int64(r, 1, 3), updated ? updated : INT64_MIN);
        rhei_result_free(r);
        rhei__sidecar_free(sc);
        CHECK_INT(rhei__olap_duckdb.begin(o, &e), RHEI_OK);
        CHECK_INT(rhei__olap_duckdb.drop_table(o, "types", 0, &e), RHEI_OK);
        CHECK_INT(rhei__olap_duckdb.commit(o, &e), RHEI_OK);
    }
    rhei__olap_duckdb.close(o);
}
#endif

TEST(types_value_by_value) { SC_RUN(t_types); }
TEST(bulk_100k_rows_few_timestamps) { SC_RUN(t_bulk); }
TEST(interleaved_changes_mirror) { SC_RUN(t_interleaved_mirror); }
TEST(interleaved_changes_history_as_of) { SC_RUN(t_interleaved_history); }
TEST(kill9_mid_cycle_then_restart) { SC_RUN(t_kill9); }
TEST(server_restart_then_recovery) { SC_RUN(t_restart); }
TEST(server_down_at_start_background_retry) { SC_RUN(t_down_at_start); }
TEST(column_dropped_stops_that_table_only) { SC_RUN(t_column_dropped); }
TEST(out_of_memory_at_every_allocation) { SC_RUN(t_oom); }
