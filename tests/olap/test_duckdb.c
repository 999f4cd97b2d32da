/* test_duckdb.c — the DuckDB OLAP backend through its vtab: type map value by value, mirror
 * and history apply against expected final states, state atomicity, reopen, schema changes,
 * query errors and types, interrupt, and allocation failures on every step. */
#include "test.h"
#include <sched.h>
#include <time.h>
#include "../../src/olap/olap.h"
#include "mem.h"
#include "result.h"
#include "schema.h"
#include <pthread.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <duckdb.h>
#pragma GCC diagnostic pop
#include <stdint.h>

static const rhei__olap_vtab *V = &rhei__olap_duckdb;

/* ---- helpers ------------------------------------------------------------------------------ */

#define OK(call)                                                                            \
    do {                                                                                    \
        rhei__err rt_e = {0, ""};                                                           \
        int rt_rc = (call);                                                                 \
        if (rt_rc != RHEI_OK)                                                               \
            FAIL("%s: rc=%d (%s): %s", #call, rt_rc, rhei_errstr(rt_rc), rt_e.msg);        \
    } while (0)
/* The calls below take `&rt_e` as their error record through the E macro. */
#define E (&rt_e)

static rhei__olap *open_store(const char *path)
{
    rhei__olap_opts opts = {path ? path : ":memory:", 1, "", 2, 0};
    rhei__olap *o = NULL;
    OK(V->open(&opts, &o, E));
    CHECK(o != NULL);
    return o;
}

/* cols: "name decl" strings; a leading '*' marks a primary-key column (in order). */
static rhei__table *make_table(const char *name, int64_t tid, const char *const *cols, size_t n)
{
    rhei__colspec specs[16];
    char names[16][32];
    int pk = 0;
    CHECK(n <= 16);
    for (size_t i = 0; i < n; i++) {
        const char *c = cols[i];
        specs[i].pk = 0;
        if (*c == '*') {
            specs[i].pk = ++pk;
            c++;
        }
        const char *sp = strchr(c, ' ');
        CHECK(sp != NULL);
        snprintf(names[i], sizeof names[i], "%.*s", (int)(sp - c), c);
        specs[i].name = names[i];
        specs[i].decl = (char *)(sp + 1);
        rhei__type_from_decl(sp + 1, &specs[i].type, &specs[i].precision, &specs[i].scale);
    }
    rhei__table *t = NULL;
    OK(rhei__table_new(name, tid, specs, n, &t, E));
    return t;
}

static rhei_result *query(rhei__olap *o, const char *sql)
{
    rhei_result *r = NULL;
    OK(V->query(o, sql, NULL, 0, &r, E));
    return r;
}

/* All rows as "a|b;c|d;" (NULL as "NULL"), for comparing whole states. */
static char *dump(rhei__olap *o, const char *sql)
{
    static char out[8192];
    rhei_result *r = query(o, sql);
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rhei_result_row_count(r); i++) {
        for (size_t c = 0; c < rhei_result_column_count(r); c++) {
            const char *s = rhei_result_is_null(r, i, c) ? "NULL" : rhei_result_text(r, i, c, NULL);
            k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", c ? "|" : "", s);
        }
        k += (size_t)snprintf(out + k, sizeof out - k, ";");
    }
    rhei_result_free(r);
    return out;
}

static int64_t scalar(rhei__olap *o, const char *sql)
{
    rhei_result *r = query(o, sql);
    CHECK_INT(rhei_result_row_count(r), 1);
    int64_t v = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return v;
}

static rhei_value *ev(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op)
{
    rhei_value *row = rhei__batch_add(b, seq, ts, op);
    CHECK(row != NULL);
    return row;
}

/* One event on a table (id INTEGER, name TEXT, score REAL); name NULL for a DELETE. */
static void kv(rhei__batch *b, int64_t seq, int64_t ts, rhei__op op, int64_t id, const char *name,
               double score)
{
    rhei_value *row = ev(b, seq, ts, op);
    row[0] = rhei_int(id);
    if (op != RHEI__OP_DELETE) {
        row[1] = rhei_text(name);
        row[2] = rhei_real(score);
    }
}

static const char *const KV_COLS[] = {"*id INTEGER", "name TEXT", "score REAL"};

static void in_txn_create(rhei__olap *o, const rhei__table *t, int history)
{
    OK(V->begin(o, E));
    OK(V->create_table(o, t, history, E));
    OK(V->commit(o, E));
}

static void in_txn_apply(rhei__olap *o, const rhei__batch *b, int history,
                         rhei__apply_stats *st)
{
    OK(V->begin(o, E));
    OK(V->apply(o, b, history, st, E));
    OK(V->commit(o, E));
}

/* ---- open and state ----------------------------------------------------------------------- */

static int count_tables(void *ud, const char *name, int64_t tid)
{
    char *acc = ud;
    size_t n = strlen(acc);
    snprintf(acc + n, 256 - n, "%s=%lld;", name, (long long)tid);
    return 0;
}

TEST(fresh_store_has_zero_state)
{
    rhei__olap *o = open_store(NULL);
    rhei__olap_state st = {7, 7};
    char acc[256] = "";
    OK(V->get_state(o, &st, E));
    CHECK_INT(st.position, 0);
    CHECK_INT(st.last_ts, 0);
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "");
    CHECK(strncmp(V->version(), "v1.4", 4) == 0);
    CHECK(V->raw_handle(o) != NULL);
    V->close(o);
    V->close(NULL);
}

TEST(state_commits_with_data_and_rolls_back_with_it)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    kv(&b, 1, 10, RHEI__OP_INSERT, 1, "a", 1);
    rhei__olap_state s1 = {5, 1000}, s2 = {9, 2000}, got;
    OK(V->begin(o, E));
    OK(V->apply(o, &b, 0, NULL, E));
    OK(V->set_state(o, &s1, E));
    OK(V->commit(o, E));
    OK(V->get_state(o, &got, E));
    CHECK_INT(got.position, 5);
    CHECK_INT(got.last_ts, 1000);
    OK(V->maintain(o, E)); /* checkpoints the in-memory store too */
    /* A mixed batch (it creates the staging table) and a state, rolled back together. */
    rhei__batch_reset(&b, t);
    kv(&b, 2, 20, RHEI__OP_UPDATE, 1, "b", 2);
    kv(&b, 3, 20, RHEI__OP_INSERT, 2, "c", 3);
    OK(V->begin(o, E));
    OK(V->apply(o, &b, 0, NULL, E));
    OK(V->set_state(o, &s2, E));
    V->rollback(o);
    OK(V->get_state(o, &got, E));
    CHECK_INT(got.position, 5);
    CHECK_STR(dump(o, "SELECT * FROM kv ORDER BY id"), "1|a|1;");
    /* The staging table went with the rollback; the next mixed batch recreates it. */
    in_txn_apply(o, &b, 0, NULL);
    CHECK_STR(dump(o, "SELECT * FROM kv ORDER BY id"), "1|b|2;2|c|3;");
    /* Writes outside a transaction are refused. */
    rhei__err e = {0, ""};
    CHECK_INT(V->set_state(o, &s2, &e), RHEI_MISUSE);
    CHECK_INT(V->apply(o, &b, 0, NULL, &e), RHEI_MISUSE);
    V->rollback(o); /* harmless without a transaction */
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* ---- type map ----------------------------------------------------------------------------- */

static const char *const TYPE_COLS[] = {"*id INTEGER",   "r REAL",    "t TEXT",
                                        "b BLOB",        "f BOOLEAN", "d DECIMAL(12,2)",
                                        "day DATE",      "ts TIMESTAMP", "big DECIMAL(38,0)"};

static void check_type_columns(const rhei_result *q)
{
    const rhei_type want_t[] = {RHEI_TYPE_INTEGER, RHEI_TYPE_REAL,    RHEI_TYPE_TEXT,
                                RHEI_TYPE_BLOB,    RHEI_TYPE_BOOLEAN, RHEI_TYPE_DECIMAL,
                                RHEI_TYPE_DATE,    RHEI_TYPE_TIMESTAMP, RHEI_TYPE_DECIMAL};
    const char *want_decl[] = {"BIGINT", "DOUBLE", "VARCHAR", "BLOB", "BOOLEAN",
                               "DECIMAL(12,2)", "DATE", "TIMESTAMP", "DECIMAL(38,0)"};
    CHECK_INT(rhei_result_column_count(q), 9);
    for (size_t c = 0; c < 9; c++) {
        CHECK_INT(rhei_result_column_type(q, c), want_t[c]);
        CHECK_STR(rhei_result_column_decl(q, c), want_decl[c]);
    }
}

TEST(type_map_round_trips_value_by_value)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("ty", 1, TYPE_COLS, 9);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    rhei_value *r = ev(&b, 1, 0, RHEI__OP_INSERT);
    r[0] = rhei_int(INT64_MAX);
    r[1] = rhei_real(-0.5);
    r[2] = rhei_text("héllo");
    r[3] = rhei_blob("a\0b", 3);
    r[4] = (rhei_value){RHEI_TYPE_BOOLEAN, 1, 0, NULL, 0};
    r[5] = (rhei_value){RHEI_TYPE_DECIMAL, 0, 0, "-12.34", 6};
    r[6] = (rhei_value){RHEI_TYPE_DATE, -1, 0, NULL, 0};
    r[7] = (rhei_value){RHEI_TYPE_TIMESTAMP, -1500000, 0, NULL, 0};
    /* 37 digits: rhei__decimal_parse stops at 2^125 (about 4.25e37) */
    r[8] = (rhei_value){RHEI_TYPE_DECIMAL, 0, 0, "-9999999999999999999999999999999999999", 38};
    r = ev(&b, 2, 0, RHEI__OP_INSERT); /* every other column NULL */
    r[0] = rhei_int(INT64_MIN);
    r = ev(&b, 3, 0, RHEI__OP_INSERT); /* DECIMAL from INTEGER and REAL, DATE/TS from INTEGER */
    r[0] = rhei_int(0);
    r[1] = rhei_int(3);
    r[5] = rhei_real(1.005);
    r[6] = rhei_int(20779);
    r[7] = rhei_int(1795348800000000LL);
    r[8] = rhei_int(42);
    OK(V->begin(o, E));
    OK(V->load(o, &b, 0, 123, E));
    OK(V->commit(o, E));
    rhei_result *q = query(o, "SELECT * FROM ty ORDER BY id");
    check_type_columns(q);
    CHECK_INT(rhei_result_row_count(q), 3);
    /* row 0: INT64_MIN and NULLs */
    CHECK_INT(rhei_result_int64(q, 0, 0), INT64_MIN);
    for (size_t c = 1; c < 9; c++)
        CHECK(rhei_result_is_null(q, 0, c));
    /* row 1: from INTEGER / REAL */
    CHECK(rhei_result_double(q, 1, 1) == 3.0);
    CHECK_STR(rhei_result_text(q, 1, 5, NULL), "1.00"); /* 1.005 is 1.00499999... in binary */
    CHECK_INT(rhei_result_int64(q, 1, 6), 20779);
    CHECK_STR(rhei_result_text(q, 1, 6, NULL), "2026-11-22");
    CHECK_INT(rhei_result_int64(q, 1, 7), 1795348800000000LL);
    CHECK_STR(rhei_result_text(q, 1, 8, NULL), "42");
    /* row 2: exact values */
    size_t n = 0;
    CHECK_INT(rhei_result_int64(q, 2, 0), INT64_MAX);
    CHECK(rhei_result_double(q, 2, 1) == -0.5);
    CHECK_STR(rhei_result_text(q, 2, 2, NULL), "héllo");
    const char *blob = rhei_result_blob(q, 2, 3, &n);
    CHECK_INT(n, 3);
    CHECK(memcmp(blob, "a\0b", 3) == 0);
    CHECK_INT(rhei_result_int64(q, 2, 4), 1);
    CHECK_STR(rhei_result_text(q, 2, 5, NULL), "-12.34");
    CHECK_INT(rhei_result_int64(q, 2, 6), -1);
    CHECK_INT(rhei_result_int64(q, 2, 7), -1500000);
    CHECK_STR(rhei_result_text(q, 2, 8, NULL), "-9999999999999999999999999999999999999");
    rhei_result_free(q);
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

TEST(apply_rejects_values_of_the_wrong_type)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("ty", 1, TYPE_COLS, 9);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    struct { size_t col; rhei_value v; const char *needle; } bad[] = {
        {0, {RHEI_TYPE_TEXT, 0, 0, "x", 1}, "column 'id'"},
        {2, {RHEI_TYPE_TEXT, 0, 0, "a\xff", 2}, "invalid UTF-8 in a value for column 't'"},
        {5, {RHEI_TYPE_DECIMAL, 0, 0, "12345678901.5", 13}, "value out of range for column 'd'"},
        {5, {RHEI_TYPE_INTEGER, 10000000000LL, 0, NULL, 0}, "out of range"},
        {5, {RHEI_TYPE_TEXT, 0, 0, "abc", 3}, "cannot store a TEXT value in column 'd'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rhei__batch_reset(&b, t);
        rhei_value *r = ev(&b, 1, 0, RHEI__OP_INSERT);
        r[0] = rhei_int(1);
        r[bad[i].col] = bad[i].v;
        rhei__err e = {0, ""};
        OK(V->begin(o, E));
        CHECK_INT(V->apply(o, &b, 0, NULL, &e), RHEI_TYPE);
        if (!strstr(e.msg, bad[i].needle))
            FAIL("case %zu: message '%s' lacks '%s'", i, e.msg, bad[i].needle);
        V->rollback(o);
    }
    CHECK_INT(scalar(o, "SELECT count(*) FROM ty"), 0);
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* An empty batch only prepares the table's insert (the sync's warm-up after DDL): nothing is
 * written, in either mode, and the statement it left serves the next batch. */
static void empty_apply_round(int history)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, history);
    rhei__batch b;
    rhei__batch_init(&b, t);
    rhei__apply_stats st = {7, 7, 7};
    in_txn_apply(o, &b, history, &st);
    CHECK_INT(st.inserted + st.updated + st.deleted, 0);
    const char *target = history ? "SELECT count(*) FROM kv_history" : "SELECT count(*) FROM kv";
    CHECK_INT(scalar(o, target), 0);
    for (int i = 0; i < 3; i++)
        kv(&b, i + 1, 100, RHEI__OP_INSERT, i, "x", i);
    in_txn_apply(o, &b, history, &st);
    CHECK_INT(st.inserted, 3);
    CHECK_INT(scalar(o, target), 3);
    CHECK_INT(scalar(o, "SELECT count(*) FROM kv"), 3);
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

TEST(mirror_empty_batch_writes_nothing) { empty_apply_round(0); }
TEST(history_empty_batch_writes_nothing) { empty_apply_round(1); }

/* ---- mirror ------------------------------------------------------------------------------- */

TEST(mirror_insert_only_batch_is_appended)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    for (int i = 0; i < 5000; i++) /* more than one 2048-row chunk */
        kv(&b, i + 1, 100, RHEI__OP_INSERT, i, i % 2 ? "odd" : "even", i * 0.5);
    rhei__apply_stats st;
    in_txn_apply(o, &b, 0, &st);
    CHECK_INT(st.inserted, 5000);
    CHECK_INT(st.updated, 0);
    CHECK_INT(st.deleted, 0);
    CHECK_INT(scalar(o, "SELECT count(*) FROM kv"), 5000);
    CHECK_INT(scalar(o, "SELECT count(*) FROM kv WHERE name = 'odd'"), 2500);
    CHECK_INT(scalar(o, "SELECT CAST(sum(score) * 2 AS BIGINT) FROM kv"), 4999LL * 5000 / 2);
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* apply_alone: a batch as a transaction of its own. Insert-only batches commit with their one
 * statement (autocommit), others through begin/apply/commit; a failing one leaves nothing and
 * the store usable; inside an open transaction it is refused and that transaction goes on. */
static void apply_alone_round(int history)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, history);
    rhei__batch b;
    rhei__batch_init(&b, t);
    rhei__apply_stats st = {7, 7, 7};
    for (int i = 0; i < 3; i++)
        kv(&b, i + 1, 100, RHEI__OP_INSERT, i, "x", i);
    OK(V->apply_alone(o, &b, history, &st, E));
    CHECK_INT(st.inserted, 3);
    CHECK_STR(dump(o, "SELECT * FROM kv ORDER BY id"), "0|x|0;1|x|1;2|x|2;");
    /* a bad value in the middle of an insert-only batch: none of its rows */
    rhei__batch_reset(&b, t);
    kv(&b, 4, 200, RHEI__OP_INSERT, 10, "good", 1);
    rhei_value *r = ev(&b, 5, 200, RHEI__OP_INSERT);
    r[0] = rhei_int(11);
    r[1] = (rhei_value){RHEI_TYPE_TEXT, 0, 0, "a\xff", 2};
    r[2] = rhei_real(2);
    kv(&b, 6, 200, RHEI__OP_INSERT, 12, "good", 3);
    rhei__err e = {0, ""};
    CHECK_INT(V->apply_alone(o, &b, history, NULL, &e), RHEI_TYPE);
    CHECK(strstr(e.msg, "UTF-8") != NULL);
    CHECK_INT(scalar(o, "SELECT count(*) FROM kv"), 3);
    /* an update and a delete (several statements), after the failure */
    rhei__batch_reset(&b, t);
    kv(&b, 7, 300, RHEI__OP_UPDATE, 1, "y", 5);
    kv(&b, 8, 300, RHEI__OP_DELETE, 2, NULL, 0);
    kv(&b, 9, 300, RHEI__OP_INSERT, 3, "z", 6);
    OK(V->apply_alone(o, &b, history, &st, E));
    CHECK_STR(dump(o, "SELECT * FROM kv ORDER BY id"), "0|x|0;1|y|5;3|z|6;");
    /* refused inside a transaction, which keeps its own write */
    rhei__batch_reset(&b, t);
    kv(&b, 10, 400, RHEI__OP_INSERT, 4, "w", 7);
    OK(V->begin(o, E));
    CHECK_INT(V->apply_alone(o, &b, history, NULL, &e), RHEI_MISUSE);
    OK(V->apply(o, &b, history, NULL, E));
    OK(V->commit(o, E));
    CHECK_INT(scalar(o, "SELECT count(*) FROM kv"), 4);
    if (history) /* versions: 3 first inserts, y's and z's, w's; 1 and 2 closed at 300 */
        CHECK_STR(dump(o, "SELECT id, _rhei_valid_from, _rhei_valid_to FROM kv_history"
                          " ORDER BY id, _rhei_valid_from"),
                  "0|100|NULL;1|100|300;1|300|NULL;2|100|300;3|300|NULL;4|400|NULL;");
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

TEST(mirror_apply_alone_commits_or_leaves_nothing) { apply_alone_round(0); }
TEST(history_apply_alone_commits_or_leaves_nothing) { apply_alone_round(1); }

TEST(mirror_mixed_batch_leaves_each_key_at_its_last_event)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    for (int i = 1; i <= 5; i++)
        kv(&b, i, 10, RHEI__OP_INSERT, i, "orig", i);
    in_txn_apply(o, &b, 0, NULL);
    rhei__batch_reset(&b, t);
    int64_t s = 100;
    kv(&b, s++, 20, RHEI__OP_UPDATE, 1, "one", 10);  /* updated */
    kv(&b, s++, 20, RHEI__OP_DELETE, 2, NULL, 0);    /* deleted */
    kv(&b, s++, 20, RHEI__OP_INSERT, 6, "six", 6);   /* inserted, updated, deleted: deleted */
    kv(&b, s++, 21, RHEI__OP_UPDATE, 6, "six'", 6);
    kv(&b, s++, 21, RHEI__OP_UPDATE, 3, "three", 3); /* updated twice: updated */
    kv(&b, s++, 22, RHEI__OP_DELETE, 6, NULL, 0);
    kv(&b, s++, 22, RHEI__OP_INSERT, 7, "seven", 7); /* inserted */
    kv(&b, s++, 22, RHEI__OP_DELETE, 4, NULL, 0);    /* deleted then re-inserted: updated */
    kv(&b, s++, 23, RHEI__OP_UPDATE, 3, "three'", 33);
    kv(&b, s++, 23, RHEI__OP_INSERT, 4, "four", 44);
    kv(&b, s++, 23, RHEI__OP_INSERT, 9, "nine", 9);  /* inserted then updated: inserted */
    kv(&b, s++, 24, RHEI__OP_UPDATE, 9, "nine'", 99);
    rhei__apply_stats st;
    in_txn_apply(o, &b, 0, &st);
    CHECK_STR(dump(o, "SELECT * FROM kv ORDER BY id"),
              "1|one|10;3|three'|33;4|four|44;5|orig|5;7|seven|7;9|nine'|99;");
    CHECK_INT(st.inserted, 2);
    CHECK_INT(st.updated, 3);
    CHECK_INT(st.deleted, 2);
    /* The staging table is empty between batches: a second batch sees only its events. */
    rhei__batch_reset(&b, t);
    kv(&b, s++, 30, RHEI__OP_DELETE, 5, NULL, 0);
    in_txn_apply(o, &b, 0, &st);
    CHECK_INT(st.deleted, 1);
    CHECK_INT(st.updated + st.inserted, 0);
    CHECK_STR(dump(o, "SELECT id FROM kv ORDER BY id"), "1;3;4;7;9;");
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

TEST(mirror_composite_key_with_null_part)
{
    static const char *const cols[] = {"*region TEXT", "*n INTEGER", "v TEXT"};
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("ck", 1, cols, 3);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    const char *regions[] = {"eu", "eu", "us", "us", NULL};
    const int64_t ns[] = {1, 2, 1, 2, 1};
    for (int i = 0; i < 5; i++) {
        rhei_value *r = ev(&b, i + 1, 1, RHEI__OP_INSERT);
        r[0] = rhei_text(regions[i]);
        r[1] = rhei_int(ns[i]);
        r[2] = rhei_text("v0");
    }
    in_txn_apply(o, &b, 0, NULL);
    rhei__batch_reset(&b, t);
    rhei_value *r = ev(&b, 10, 2, RHEI__OP_UPDATE); /* eu/2 only, not eu/1 nor us/2 */
    r[0] = rhei_text("eu");
    r[1] = rhei_int(2);
    r[2] = rhei_text("v1");
    r = ev(&b, 11, 2, RHEI__OP_DELETE);
    r[0] = rhei_text("us");
    r[1] = rhei_int(1);
    r = ev(&b, 12, 2, RHEI__OP_UPDATE); /* a NULL key part matches itself */
    r[1] = rhei_int(1);
    r[2] = rhei_text("vnull");
    rhei__apply_stats st;
    in_txn_apply(o, &b, 0, &st);
    CHECK_STR(dump(o, "SELECT * FROM ck ORDER BY region NULLS LAST, n"),
              "eu|1|v0;eu|2|v1;us|2|v0;NULL|1|vnull;");
    CHECK_INT(st.updated, 2);
    CHECK_INT(st.deleted, 1);
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

TEST(mirror_keys_compare_by_value_not_representation)
{
    static const char *const cols[] = {"*k DECIMAL(10,2)", "*r REAL", "v TEXT"};
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("dk", 1, cols, 3);
    in_txn_create(o, t, 0);
    rhei__batch b;
    rhei__batch_init(&b, t);
    rhei_value *r = ev(&b, 1, 1, RHEI__OP_INSERT);
    r[0] = rhei_int(5);
    r[1] = rhei_real(0.0);
    r[2] = rhei_text("a");
    in_txn_apply(o, &b, 0, NULL);
    rhei__batch_reset(&b, t);
    r = ev(&b, 2, 2, RHEI__OP_UPDATE); /* the same key, written three ways */
    r[0] = (rhei_value){RHEI_TYPE_DECIMAL, 0, 0, "5.00", 4};
    r[1] = rhei_real(-0.0);
    r[2] = rhei_text("b");
    r = ev(&b, 3, 2, RHEI__OP_UPDATE);
    r[0] = rhei_real(5.0);
    r[1] = rhei_int(0);
    r[2] = rhei_text("c");
    rhei__apply_stats st;
    in_txn_apply(o, &b, 0, &st);
    CHECK_INT(st.updated, 1);
    CHECK_INT(st.inserted + st.deleted, 0);
    CHECK_STR(dump(o, "SELECT k, v FROM dk"), "5.00|c;");
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* ---- history ------------------------------------------------------------------------------ */

static void history_fixture(rhei__olap *o, rhei__table *t, rhei__apply_stats *st)
{
    rhei__batch b;
    rhei__batch_init(&b, t);
    in_txn_create(o, t, 1);
    for (int i = 1; i <= 3; i++)
        kv(&b, i, 100, RHEI__OP_INSERT, i, "v100", i);
    in_txn_apply(o, &b, 1, NULL);
    rhei__batch_reset(&b, t);
    kv(&b, 10, 200, RHEI__OP_UPDATE, 1, "v200", 1);
    kv(&b, 11, 200, RHEI__OP_DELETE, 2, NULL, 0);
    kv(&b, 12, 300, RHEI__OP_UPDATE, 1, "v300", 1);
    kv(&b, 13, 300, RHEI__OP_INSERT, 4, "v300", 4);
    kv(&b, 14, 300, RHEI__OP_UPDATE, 3, "v300", 3);
    kv(&b, 15, 400, RHEI__OP_DELETE, 3, NULL, 0);
    kv(&b, 16, 400, RHEI__OP_INSERT, 2, "v400", 2); /* a deleted key comes back */
    kv(&b, 17, 400, RHEI__OP_UPDATE, 4, "v400", 4);
    kv(&b, 18, 400, RHEI__OP_UPDATE, 4, "v400b", 4); /* same ts: empty interval [400,400) */
    in_txn_apply(o, &b, 1, st);
    rhei__batch_free(&b);
}

TEST(history_versions_have_half_open_intervals)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("h", 1, KV_COLS, 3);
    rhei__apply_stats st;
    history_fixture(o, t, &st);
    CHECK_STR(dump(o, "SELECT id, name, _rhei_valid_from, _rhei_valid_to FROM h_history "
                      "ORDER BY id, _rhei_valid_from, _rhei_valid_to NULLS LAST"),
              "1|v100|100|200;1|v200|200|300;1|v300|300|NULL;"
              "2|v100|100|200;2|v400|400|NULL;"
              "3|v100|100|300;3|v300|300|400;"
              "4|v300|300|400;4|v400|400|400;4|v400b|400|NULL;");
    CHECK_INT(st.inserted, 2);
    CHECK_INT(st.updated, 5);
    CHECK_INT(st.deleted, 2);
    /* The view holds the current rows with the user columns only. */
    CHECK_STR(dump(o, "SELECT * FROM h ORDER BY id"), "1|v300|1;2|v400|2;4|v400b|4;");
    /* Versions never overlap for one key. */
    CHECK_INT(scalar(o, "SELECT count(*) FROM h_history a JOIN h_history b USING (id) "
                        "WHERE a.rowid < b.rowid AND a._rhei_valid_from < "
                        "coalesce(b._rhei_valid_to, 9e18) AND b._rhei_valid_from < "
                        "coalesce(a._rhei_valid_to, 9e18)"), 0);
    rhei__table_free(t);
    V->close(o);
}

/* Statements are prepared once and reused; DuckDB folds some predicates with the column
 * statistics of the moment they are prepared. A close prepared while the table is empty
 * (the first batch has a key inserted and updated) must still close versions later. */
TEST(history_statements_prepared_on_an_empty_table_keep_working)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("h", 1, KV_COLS, 3);
    rhei__batch b;
    rhei__batch_init(&b, t);
    in_txn_create(o, t, 1);
    kv(&b, 1, 100, RHEI__OP_INSERT, 1, "a", 1);
    kv(&b, 2, 150, RHEI__OP_UPDATE, 1, "b", 1);
    kv(&b, 3, 150, RHEI__OP_INSERT, 2, "c", 2);
    in_txn_apply(o, &b, 1, NULL);
    for (int round = 0; round < 3; round++) {
        rhei__batch_reset(&b, t);
        kv(&b, 10 + round, 200 + round, RHEI__OP_UPDATE, 1, "u", round);
        kv(&b, 20 + round, 200 + round, RHEI__OP_UPDATE, 2, "u", round);
        in_txn_apply(o, &b, 1, NULL);
    }
    CHECK_INT(scalar(o, "SELECT count(*) FROM h_history"), 2 + 1 + 6);
    CHECK_INT(scalar(o, "SELECT count(*) FROM h_history WHERE _rhei_valid_to IS NULL"), 2);
    CHECK_STR(dump(o, "SELECT id, _rhei_valid_from, _rhei_valid_to FROM h_history WHERE id = 2 "
                      "ORDER BY 2"), "2|150|200;2|200|201;2|201|202;2|202|NULL;");
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* Values live in an append-only log; the latest wins, through compaction and reopening. */
TEST(kv_latest_value_wins_across_compaction_and_reopen)
{
    char dir[64], path[96], val[64], got[64];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/olap.duckdb", dir);
    rhei__olap *o = open_store(path);
    rhei__err none;
    CHECK_INT(V->get_kv(o, "a", got, sizeof got, &none), RHEI_NOTFOUND);
    for (int i = 0; i < 2100; i++) { /* two compactions inside transactions */
        snprintf(val, sizeof val, "v%d", i);
        OK(V->begin(o, E));
        OK(V->set_kv(o, i % 2 ? "a" : "b", val, E));
        if (i == 2099) {
            V->rollback(o); /* the last value never happened */
            break;
        }
        OK(V->commit(o, E));
    }
    OK(V->get_kv(o, "a", got, sizeof got, E));
    CHECK_STR(got, "v2097");
    OK(V->get_kv(o, "b", got, sizeof got, E));
    CHECK_STR(got, "v2098");
    CHECK(scalar(o, "SELECT count(*) FROM _rhei_kv_log") < 1100);
    OK(V->maintain(o, E)); /* compacts, then checkpoints */
    CHECK_INT(scalar(o, "SELECT count(*) FROM _rhei_kv_log"), 2);
    V->close(o);
    o = open_store(path);
    OK(V->get_kv(o, "a", got, sizeof got, E));
    CHECK_STR(got, "v2097");
    OK(V->begin(o, E));
    OK(V->set_kv(o, "a", "after reopen", E));
    OK(V->commit(o, E));
    OK(V->get_kv(o, "a", got, sizeof got, E));
    CHECK_STR(got, "after reopen");
    V->close(o);
}

/* A store written before the kv log (state in _rhei_meta, values in _rhei_kv) opens with
 * its position and values intact. */
TEST(store_with_the_old_state_tables_is_migrated)
{
    char dir[64], path[96], got[64];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/olap.duckdb", dir);
    duckdb_database db;
    duckdb_connection c;
    CHECK(duckdb_open(path, &db) == DuckDBSuccess);
    CHECK(duckdb_connect(db, &c) == DuckDBSuccess);
    CHECK(duckdb_query(c, "CREATE TABLE _rhei_meta(key VARCHAR PRIMARY KEY, value BIGINT);"
                          "INSERT INTO _rhei_meta VALUES ('position', 77), ('last_ts', 123);"
                          "CREATE TABLE _rhei_kv(key VARCHAR NOT NULL, value VARCHAR);"
                          "INSERT INTO _rhei_kv VALUES ('wm', 'old watermark');"
                          "CREATE TABLE _rhei_tables(name VARCHAR PRIMARY KEY, tid BIGINT);"
                          "INSERT INTO _rhei_tables VALUES ('kv', 42)", NULL)
          == DuckDBSuccess);
    duckdb_disconnect(&c);
    duckdb_close(&db);
    rhei__olap *o = open_store(path);
    rhei__olap_state st;
    OK(V->get_state(o, &st, E));
    CHECK_INT(st.position, 77);
    CHECK_INT(st.last_ts, 123);
    OK(V->get_kv(o, "wm", got, sizeof got, E));
    CHECK_STR(got, "old watermark");
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN "
                        "('_rhei_meta', '_rhei_kv', '_rhei_tables')"), 0);
    char acc[64] = "";
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "kv=42;");
    /* the moved catalog takes a new version of the same table in one transaction */
    rhei__table *t = make_table("kv", 43, KV_COLS, 3);
    OK(V->begin(o, E));
    OK(V->create_table(o, t, 0, E));
    OK(V->commit(o, E));
    acc[0] = 0;
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "kv=43;");
    rhei__table_free(t);
    V->close(o);
}

TEST(history_point_in_time_macro)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("h", 1, KV_COLS, 3);
    history_fixture(o, t, NULL);
    CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('h', 99) ORDER BY id"), "");
    CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('h', 100) ORDER BY id"),
              "1|v100|1;2|v100|2;3|v100|3;");
    CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('h', 250) ORDER BY id"), "1|v200|1;3|v100|3;");
    CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('h', 399) ORDER BY id"),
              "1|v300|1;3|v300|3;4|v300|4;");
    CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('h', 400) ORDER BY id"),
              "1|v300|1;2|v400|2;4|v400b|4;");
    /* A TIMESTAMP argument is taken as UTC; a TIMESTAMPTZ goes through epoch_us. */
    CHECK_STR(dump(o, "SELECT id FROM rhei_as_of('h', make_timestamp(250)) ORDER BY id"),
              "1;3;");
    CHECK_STR(dump(o, "SELECT id FROM rhei_as_of('h', "
                      "epoch_us(TIMESTAMPTZ '1970-01-01 02:00:00.00025+02')) ORDER BY id"),
              "1;3;");
    /* Parameters bind as BIGINT. */
    rhei_value p[2] = {rhei_text("h"), rhei_int(250)};
    rhei_result *r = NULL;
    OK(V->query(o, "SELECT count(*) FROM rhei_as_of(?, ?)", p, 2, &r, E));
    CHECK_INT(rhei_result_int64(r, 0, 0), 2);
    rhei_result_free(r);
    rhei__table_free(t);
    V->close(o);
}

/* Keys inserted and changed within one transaction (DuckDB 1.4's DELETE ... RETURNING does
 * not see such rows; apply must not depend on it). */
static void two_batches_one_txn(int history)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("h", 1, KV_COLS, 3);
    in_txn_create(o, t, history);
    rhei__batch b1, b2;
    rhei__batch_init(&b1, t);
    rhei__batch_init(&b2, t);
    kv(&b1, 1, 100, RHEI__OP_INSERT, 1, "a", 1);
    kv(&b1, 2, 100, RHEI__OP_INSERT, 2, "b", 2);
    kv(&b2, 3, 200, RHEI__OP_UPDATE, 1, "a2", 1);
    kv(&b2, 4, 200, RHEI__OP_DELETE, 2, NULL, 0);
    OK(V->begin(o, E));
    OK(V->apply(o, &b1, history, NULL, E));
    OK(V->apply(o, &b2, history, NULL, E));
    OK(V->commit(o, E));
    CHECK_STR(dump(o, "SELECT * FROM h"), "1|a2|1;");
    if (history)
        CHECK_STR(dump(o, "SELECT id, name, _rhei_valid_from, _rhei_valid_to FROM h_history "
                          "ORDER BY id, _rhei_valid_from"),
                  "1|a|100|200;1|a2|200|NULL;2|b|100|200;");
    rhei__batch_free(&b1);
    rhei__batch_free(&b2);
    rhei__table_free(t);
    V->close(o);
}

TEST(mirror_two_batches_in_one_transaction) { two_batches_one_txn(0); }
TEST(history_two_batches_in_one_transaction) { two_batches_one_txn(1); }

TEST(history_load_uses_the_given_timestamp)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("h", 1, KV_COLS, 3);
    in_txn_create(o, t, 1);
    rhei__batch b;
    rhei__batch_init(&b, t);
    kv(&b, 0, 0, RHEI__OP_UPDATE, 1, "a", 1); /* op and ts ignored by load */
    OK(V->begin(o, E));
    OK(V->load(o, &b, 1, 777, E));
    OK(V->commit(o, E));
    CHECK_STR(dump(o, "SELECT * FROM h_history"), "1|a|1|777|NULL;");
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}

/* ---- catalog and schema ------------------------------------------------------------------- */

TEST(create_replaces_other_mode_and_drop_forgets)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t1 = make_table("T", 1, KV_COLS, 3);
    rhei__table *t2 = make_table("T", 2, KV_COLS, 3);
    char acc[256] = "";
    in_txn_create(o, t1, 0);
    in_txn_create(o, t2, 1); /* mirror table replaced by history table + view */
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'T'"), 1);
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'T'"), 0);
    in_txn_create(o, t1, 0); /* and back */
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'T%'"), 1);
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "T=1;");
    OK(V->begin(o, E));
    OK(V->drop_table(o, "T", 0, E));
    OK(V->commit(o, E));
    acc[0] = '\0';
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "");
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'T%'"), 0);
    rhei__table_free(t1);
    rhei__table_free(t2);
    V->close(o);
}

static void alter_round(int history, int delete_first)
{
    static const char *const v2[] = {"*id INTEGER", "score REAL", "note TEXT"};
    rhei__olap *o = open_store(NULL);
    rhei__table *t1 = make_table("a", 1, KV_COLS, 3);
    rhei__table *t2 = make_table("a", 2, v2, 3);
    in_txn_create(o, t1, history);
    rhei__batch b;
    rhei__batch_init(&b, t1);
    kv(&b, 1, 10, RHEI__OP_INSERT, 1, "x", 1);
    kv(&b, 2, 10, RHEI__OP_INSERT, 2, "y", 2);
    in_txn_apply(o, &b, history, NULL);
    OK(V->begin(o, E));
    if (delete_first) { /* DuckDB cannot commit DELETE then ALTER of one table */
        rhei__batch_reset(&b, t1);
        kv(&b, 3, 20, RHEI__OP_DELETE, 2, NULL, 0);
        OK(V->apply(o, &b, history, NULL, E));
    }
    OK(V->alter_table(o, t1, t2, history, E));
    rhei__batch_reset(&b, t2);
    rhei_value *r = ev(&b, 4, 30, RHEI__OP_UPDATE);
    r[0] = rhei_int(1);
    r[1] = rhei_real(1.5);
    r[2] = rhei_text("new");
    r = ev(&b, 5, 30, RHEI__OP_INSERT);
    r[0] = rhei_int(3);
    r[2] = rhei_text("three");
    OK(V->apply(o, &b, history, NULL, E));
    OK(V->commit(o, E));
    CHECK_STR(dump(o, "SELECT * FROM a ORDER BY id"),
              delete_first ? "1|1.5|new;3|NULL|three;" : "1|1.5|new;2|2|NULL;3|NULL|three;");
    if (history)
        CHECK_STR(dump(o, "SELECT * FROM rhei_as_of('a', 15) ORDER BY id"),
                  "1|1|NULL;2|2|NULL;");
    char acc[256] = "";
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "a=2;");
    rhei__batch_free(&b);
    rhei__table_free(t1);
    rhei__table_free(t2);
    V->close(o);
}

TEST(alter_mirror_add_and_drop_column) { alter_round(0, 0); }
TEST(alter_history_add_and_drop_column) { alter_round(1, 0); }
TEST(alter_after_delete_in_same_transaction) { alter_round(0, 1); }
TEST(alter_history_after_delete_in_same_transaction) { alter_round(1, 1); }

TEST(alter_changes_column_type)
{
    static const char *const v2[] = {"*id INTEGER", "name TEXT", "score DECIMAL(10,1)"};
    rhei__olap *o = open_store(NULL);
    rhei__table *t1 = make_table("a", 1, KV_COLS, 3);
    rhei__table *t2 = make_table("a", 2, v2, 3);
    in_txn_create(o, t1, 0);
    rhei__batch b;
    rhei__batch_init(&b, t1);
    kv(&b, 1, 10, RHEI__OP_INSERT, 1, "x", 2.25);
    in_txn_apply(o, &b, 0, NULL);
    OK(V->begin(o, E));
    OK(V->alter_table(o, t1, t2, 0, E));
    OK(V->commit(o, E));
    rhei_result *r = query(o, "SELECT score FROM a");
    CHECK_STR(rhei_result_column_decl(r, 0), "DECIMAL(10,1)");
    CHECK_STR(rhei_result_text(r, 0, 0, NULL), "2.3");
    rhei_result_free(r);
    rhei__batch_free(&b);
    rhei__table_free(t1);
    rhei__table_free(t2);
    V->close(o);
}

TEST(file_store_reopens_with_data_and_state)
{
    char dir[64], path[96];
    rt_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/olap.duckdb", dir);
    rhei__table *t = make_table("kv", 42, KV_COLS, 3);
    rhei__olap *o = open_store(path);
    in_txn_create(o, t, 1);
    rhei__batch b;
    rhei__batch_init(&b, t);
    kv(&b, 1, 100, RHEI__OP_INSERT, 1, "a", 1);
    rhei__olap_state st = {1, 100};
    OK(V->begin(o, E));
    OK(V->apply(o, &b, 1, NULL, E));
    OK(V->set_state(o, &st, E));
    OK(V->commit(o, E));
    OK(V->maintain(o, E)); /* checkpoint */
    OK(V->maintain(o, E)); /* nothing written since: no-op */
    rhei__batch_reset(&b, t);
    kv(&b, 2, 200, RHEI__OP_UPDATE, 1, "b", 2);
    st = (rhei__olap_state){2, 200};
    OK(V->begin(o, E));
    OK(V->apply(o, &b, 1, NULL, E));
    OK(V->set_state(o, &st, E));
    OK(V->commit(o, E)); /* left in the WAL */
    V->close(o);
    o = open_store(path);
    rhei__olap_state got;
    char acc[256] = "";
    OK(V->get_state(o, &got, E));
    CHECK_INT(got.position, 2);
    CHECK_INT(got.last_ts, 200);
    OK(V->list_tables(o, count_tables, acc, E));
    CHECK_STR(acc, "kv=42;");
    CHECK_STR(dump(o, "SELECT * FROM kv"), "1|b|2;");
    CHECK_STR(dump(o, "SELECT name FROM rhei_as_of('kv', 150)"), "a;");
    V->close(o);
    rhei__batch_free(&b);
    rhei__table_free(t);
}

TEST(open_reports_bad_path)
{
    rhei__olap_opts opts = {"/nonexistent-dir/x/olap.duckdb", 0, "", 1, 0};
    rhei__olap *o = (rhei__olap *)1;
    rhei__err e = {0, ""};
    int rc = V->open(&opts, &o, &e);
    CHECK(rc != RHEI_OK);
    CHECK(o == NULL);
    CHECK(strncmp(e.msg, "duckdb: ", 8) == 0);
}

/* ---- query -------------------------------------------------------------------------------- */

TEST(query_errors_carry_codes_and_duckdb_messages)
{
    rhei__olap *o = open_store(NULL);
    struct { const char *sql; int code; } c[] = {
        {"SELEC 1", RHEI_SQL},
        {"SELECT nope FROM (SELECT 1 AS a)", RHEI_SQL},
        {"SELECT * FROM no_such_table", RHEI_NOTFOUND},
        {"SELECT CAST('x' AS INTEGER)", RHEI_TYPE},
        {"SELECT 1; SELECT 2", RHEI_SQL},
        {"CREATE TABLE w(a INTEGER)", RHEI_MISUSE},
        {"SELECT ?", RHEI_MISUSE}, /* one parameter, none given */
        {"SELECT * FROM _rhei_feed()", RHEI_SQL}, /* internal: never another thread's rows */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        rhei__err e = {0, ""};
        rhei_result *r = (rhei_result *)1;
        int rc = V->query(o, c[i].sql, NULL, 0, &r, &e);
        if (rc != c[i].code)
            FAIL("'%s': rc=%d want %d: %s", c[i].sql, rc, c[i].code, e.msg);
        CHECK(r == NULL);
        if (c[i].code != RHEI_MISUSE && strncmp(e.msg, "duckdb: ", 8) != 0)
            FAIL("'%s': message '%s'", c[i].sql, e.msg);
    }
    CHECK_INT(scalar(o, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'w'"), 0);
    V->close(o);
}

TEST(query_maps_duckdb_types)
{
    rhei__olap *o = open_store(NULL);
    rhei_result *r = query(o,
        "SELECT 1::TINYINT a, 300::USMALLINT b, 18446744073709551615::UBIGINT c,"
        " 170141183460469231731687303715884105727::HUGEINT d, sum(x) e, 1.5::FLOAT f,"
        " INTERVAL 1 DAY g, [1, 2] h, TIMESTAMP_S '1970-01-01 00:00:01' i,"
        " TIMESTAMP_MS '1970-01-01 00:00:00.002' j, TIMESTAMP_NS '1969-12-31 23:59:59.999999999' k,"
        " TIMESTAMPTZ '1970-01-01 00:00:01+00' l, -5.5::DECIMAL(4,1) m, NULL::VARCHAR n,"
        " 12345678901234.5678::DECIMAL(18,4) p"
        " FROM (VALUES (1::BIGINT), (2)) v(x)");
    struct { rhei_type t; const char *decl; const char *text; } want[] = {
        {RHEI_TYPE_INTEGER, "TINYINT", "1"},
        {RHEI_TYPE_INTEGER, "USMALLINT", "300"},
        {RHEI_TYPE_DECIMAL, "UBIGINT", "18446744073709551615"},
        {RHEI_TYPE_DECIMAL, "HUGEINT", "170141183460469231731687303715884105727"},
        {RHEI_TYPE_INTEGER, "HUGEINT", "3"},
        {RHEI_TYPE_REAL, "FLOAT", "1.5"},
        {RHEI_TYPE_TEXT, "INTERVAL", "1 day"},
        {RHEI_TYPE_TEXT, "LIST", "[1, 2]"},
        {RHEI_TYPE_TIMESTAMP, "TIMESTAMP_S", ""},
        {RHEI_TYPE_TIMESTAMP, "TIMESTAMP_MS", ""},
        {RHEI_TYPE_TIMESTAMP, "TIMESTAMP_NS", ""},
        {RHEI_TYPE_TIMESTAMP, "TIMESTAMP WITH TIME ZONE", ""},
        {RHEI_TYPE_DECIMAL, "DECIMAL(4,1)", "-5.5"},
        {RHEI_TYPE_TEXT, "VARCHAR", NULL},
        {RHEI_TYPE_DECIMAL, "DECIMAL(18,4)", "12345678901234.5678"},
    };
    CHECK_INT(rhei_result_column_count(r), sizeof want / sizeof want[0]);
    CHECK_INT(rhei_result_row_count(r), 1);
    for (size_t c = 0; c < sizeof want / sizeof want[0]; c++) {
        if (rhei_result_column_type(r, c) != want[c].t)
            FAIL("column %zu: type %d want %d", c, rhei_result_column_type(r, c), want[c].t);
        CHECK_STR(rhei_result_column_decl(r, c), want[c].decl);
        if (!want[c].text)
            CHECK(rhei_result_is_null(r, 0, c));
        else if (want[c].text[0])
            CHECK_STR(rhei_result_text(r, 0, c, NULL), want[c].text);
    }
    CHECK_INT(rhei_result_int64(r, 0, 8), 1000000);  /* seconds, */
    CHECK_INT(rhei_result_int64(r, 0, 9), 2000);     /* milliseconds, */
    CHECK_INT(rhei_result_int64(r, 0, 10), -1);      /* nanoseconds (floored) to us */
    CHECK_INT(rhei_result_int64(r, 0, 11), 1000000);
    CHECK_STR(rhei_result_column_name(r, 4), "e");
    rhei_result_free(r);
    V->close(o);
}

TEST(query_binds_every_parameter_type)
{
    rhei__olap *o = open_store(NULL);
    rhei_value p[] = {
        rhei_null(), rhei_int(-7), rhei_real(2.5), rhei_text("it's"), rhei_blob("\0\1", 2),
        {RHEI_TYPE_BOOLEAN, 1, 0, NULL, 0}, {RHEI_TYPE_DECIMAL, 0, 0, "-1.250", 6},
        {RHEI_TYPE_DATE, 20779, 0, NULL, 0}, {RHEI_TYPE_TIMESTAMP, 1500000, 0, NULL, 0},
    };
    rhei_result *r = NULL;
    OK(V->query(o, "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?", p, 9, &r, E));
    CHECK(rhei_result_is_null(r, 0, 0));
    CHECK_INT(rhei_result_int64(r, 0, 1), -7);
    CHECK(rhei_result_double(r, 0, 2) == 2.5);
    CHECK_STR(rhei_result_text(r, 0, 3, NULL), "it's");
    size_t n = 0;
    CHECK(memcmp(rhei_result_blob(r, 0, 4, &n), "\0\1", 2) == 0);
    CHECK_INT(n, 2);
    CHECK_INT(rhei_result_column_type(r, 5), RHEI_TYPE_BOOLEAN);
    CHECK_STR(rhei_result_text(r, 0, 6, NULL), "-1.250");
    CHECK_STR(rhei_result_text(r, 0, 7, NULL), "2026-11-22");
    CHECK_INT(rhei_result_int64(r, 0, 8), 1500000);
    rhei_result_free(r);
    V->close(o);
}

typedef struct qarg {
    rhei__olap *o;
    const char *sql;
    int rc;
    int64_t v;
    int done;
} qarg;

static void *run_query_thread(void *p)
{
    qarg *a = p;
    rhei__err e = {0, ""};
    rhei_result *r = NULL;
    a->rc = V->query(a->o, a->sql, NULL, 0, &r, &e);
    if (r)
        a->v = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    __atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

TEST(interrupt_cancels_running_query)
{
    rhei__olap *o = open_store(NULL);
    /* Far too long to finish: only the interrupt can end it. */
    qarg a = {o, "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3", -1, 0, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, run_query_thread, &a) == 0);
    time_t give_up = time(NULL) + 60;
    /* Keeps interrupting until the query has seen it (it may not have started yet). */
    while (!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST)) {
        if (time(NULL) > give_up)
            FAIL("query was not interrupted within a minute");
        V->interrupt(o);
        sched_yield();
    }
    pthread_join(th, NULL);
    CHECK_INT(a.rc, RHEI_INTERRUPTED);
    CHECK_INT(scalar(o, "SELECT 41 + 1"), 42); /* the connection is usable again */
    V->close(o);
}

TEST(read_pool_serves_concurrent_queries)
{
    rhei__olap *o = open_store(NULL); /* pool of 2, 6 threads */
    qarg a[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (qarg){o, "SELECT sum(i) FROM range(200000) t(i)", -1, 0, 0};
        CHECK(pthread_create(&th[i], NULL, run_query_thread, &a[i]) == 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(a[i].rc, RHEI_OK);
        CHECK_INT(a[i].v, 199999LL * 200000 / 2);
    }
    V->close(o);
}

/* ---- allocation failures ------------------------------------------------------------------ */

/* Every allocation of a step fails in turn: the step must fail cleanly (ASan/valgrind see
 * leaks) and the store stay usable. */
TEST(allocation_failures_leave_no_leaks)
{
    rhei__olap *o = open_store(NULL);
    rhei__table *t = make_table("kv", 1, KV_COLS, 3);
    in_txn_create(o, t, 1);
    rhei__batch b;
    rhei__batch_init(&b, t);
    kv(&b, 1, 10, RHEI__OP_INSERT, 1, "a", 1);
    kv(&b, 2, 11, RHEI__OP_UPDATE, 1, "b", 2);
    int ok = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        rhei__err e = {0, ""};
        rhei_result *r = NULL;
        OK(V->begin(o, E));
        rhei__mem_fail_after(n);
        int rc = V->apply(o, &b, 1, NULL, &e);
        if (rc == RHEI_OK)
            rc = V->query(o, "SELECT * FROM kv_history", NULL, 0, &r, &e);
        rhei__mem_fail_after(0);
        if (rc != RHEI_OK && rc != RHEI_NOMEM)
            FAIL("n=%ld: rc=%d: %s", n, rc, e.msg);
        ok = rc == RHEI_OK;
        rhei_result_free(r);
        V->rollback(o);
    }
    CHECK(ok);
    for (long n = 1; n < 100; n++) {
        rhei__olap_opts opts = {":memory:", 1, "", 1, 0};
        rhei__olap *p = NULL;
        rhei__err e = {0, ""};
        rhei__mem_fail_after(n);
        int rc = V->open(&opts, &p, &e);
        rhei__mem_fail_after(0);
        CHECK(rc == RHEI_OK || rc == RHEI_NOMEM);
        V->close(p);
        if (rc == RHEI_OK)
            break;
    }
    rhei__batch_free(&b);
    rhei__table_free(t);
    V->close(o);
}
