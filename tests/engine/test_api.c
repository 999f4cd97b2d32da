/* test_api.c — small API contracts: the OLTP result shape after a schema change, invalid
 * arguments (RHEI_MISUSE, never a crash), rhei_errmsg per thread and handle. */
#define _XOPEN_SOURCE 700 /* POSIX: mkdtemp, nanosleep */
#include "helpers.h"
#include <pthread.h>

static void check_columns(rhei_db *db, const char *sql, size_t n, const char *const *names)
{
    rhei_result *r = th_query(db, sql, RHEI_SIDE_OLTP);
    CHECK_INT(rhei_result_column_count(r), n);
    for (size_t i = 0; i < n; i++)
        CHECK_STR(rhei_result_column_name(r, i), names[i]);
    rhei_result_free(r);
}

/* A cached SELECT * re-prepared by SQLite after ALTER reported the old column list. */
TEST(select_star_shape_follows_add_and_drop_column)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)");
    th_exec(db, "INSERT INTO t VALUES (1, 'x', 'y')");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    for (int empty = 0; empty < 2; empty++) {
        const char *sql = empty ? "SELECT * FROM t WHERE id < 0" : "SELECT * FROM t";
        check_columns(db, sql, 3, (const char *[]){"id", "a", "b"});
        CHECK_OK(db, rhei_drop_column(db, "t", "b"));
        check_columns(db, sql, 2, (const char *[]){"id", "a"});
        CHECK_OK(db, rhei_add_column(db, "t", "b", "TEXT"));
        check_columns(db, sql, 3, (const char *[]){"id", "a", "b"});
    }
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* --- invalid arguments: each public call, bad arguments, RHEI_MISUSE and no crash ------- */

static rhei_db *g_db;
static rhei_result *g_r;

#define MISUSE(call)                                                                        \
    do {                                                                                    \
        int rt_rc = (call);                                                                 \
        if (rt_rc != RHEI_MISUSE)                                                           \
            FAIL("%s: rc=%d (%s), want RHEI_MISUSE", #call, rt_rc, rhei_errstr(rt_rc));     \
    } while (0)

TEST(invalid_arguments_are_misuse)
{
    char dir[64], buf[8];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = g_db = th_open(dir, (th_opts){0});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    rhei_result *r = NULL;
    rhei_config *cfg = NULL;
    rhei_db *out = NULL;
    struct ArrowArrayStream st;
    rhei_sync_status ss;
    rhei_route_info ri;
    rhei_route_stats rs;
    rhei_sidecar_table_status sts;
    rhei_table_list *tl = NULL;
    int64_t n64 = 0;
    size_t nsz = 0;
    rhei_value bad_text = {RHEI_TYPE_TEXT, 0, 0, NULL, 5};
    rhei_value bad_type = {(rhei_type)99, 0, 0, NULL, 0};
    rhei_column nameless[1] = {{NULL, "INTEGER"}};
    const char *nokey[1] = {NULL};
    rhei_statement stmt_null_sql[1] = {{NULL, NULL, 0}};
    rhei_statement stmt_null_params[1] = {{"INSERT INTO t VALUES (?1, ?2)", NULL, 2}};
    rhei_query_opts bad_hint = {(rhei_side)7, RHEI_EVENTUAL};
    rhei_query_opts bad_cons = {RHEI_SIDE_AUTO, (rhei_consistency)9};

    MISUSE(rhei_config_new(NULL));
    MISUSE(rhei_config_set(NULL, "oltp_path", "x"));
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    MISUSE(rhei_config_set(cfg, NULL, "x"));
    MISUSE(rhei_config_set(cfg, "oltp_path", NULL));
    MISUSE(rhei_config_load_file(NULL, "x.toml"));
    MISUSE(rhei_config_load_file(cfg, NULL));
    CHECK(rhei_config_get(NULL, "oltp_path") == NULL);
    CHECK(rhei_config_get(cfg, NULL) == NULL);
    MISUSE(rhei_open(cfg, NULL));
    rhei_config_free(cfg);
    MISUSE(rhei_open_path(NULL, &out));
    CHECK(out == NULL);
    MISUSE(rhei_open_path("x.db", NULL));

    MISUSE(rhei_execute(NULL, "SELECT 1", NULL, 0, NULL));
    MISUSE(rhei_execute(db, NULL, NULL, 0, NULL));
    MISUSE(rhei_execute(db, "INSERT INTO t VALUES (?1, ?2)", NULL, 2, NULL));
    MISUSE(rhei_execute(db, "INSERT INTO t VALUES (1, ?1)", &bad_text, 1, NULL));
    MISUSE(rhei_execute(db, "INSERT INTO t VALUES (1, ?1)", &bad_type, 1, NULL));
    MISUSE(rhei_execute_batch(NULL, stmt_null_sql, 1, NULL));
    MISUSE(rhei_execute_batch(db, NULL, 1, NULL));
    MISUSE(rhei_execute_batch(db, stmt_null_sql, 1, NULL));
    MISUSE(rhei_execute_batch(db, stmt_null_params, 1, NULL));

    MISUSE(rhei_query(db, "SELECT 1", NULL, 0, NULL));
    MISUSE(rhei_query(NULL, "SELECT 1", NULL, 0, &r));
    MISUSE(rhei_query(db, NULL, NULL, 0, &r));
    MISUSE(rhei_query(db, "SELECT ?1, ?2", NULL, 2, &r));
    MISUSE(rhei_query(db, "SELECT ?1", &bad_text, 1, &r));
    MISUSE(rhei_query_with_hint(db, "SELECT 1", (rhei_side)7, &r));
    MISUSE(rhei_query_with_hint(db, "SELECT 1", (rhei_side)-1, &r));
    MISUSE(rhei_query_ex(db, "SELECT 1", NULL, 0, &bad_hint, &r));
    MISUSE(rhei_query_ex(db, "SELECT 1", NULL, 0, &bad_cons, &r));
    CHECK(r == NULL);
    MISUSE(rhei_explain_route(NULL, "SELECT 1", &ri));
    MISUSE(rhei_explain_route(db, NULL, &ri));
    MISUSE(rhei_explain_route(db, "SELECT 1", NULL));
    MISUSE(rhei_route_stats_get(NULL, &rs));
    MISUSE(rhei_route_stats_get(db, NULL));
    rhei_interrupt(NULL);

    MISUSE(rhei_register_table(NULL, "t", NULL, 0, NULL, 0));
    MISUSE(rhei_register_table(db, NULL, NULL, 0, NULL, 0));
    MISUSE(rhei_register_table(db, "t", nameless, 1, NULL, 0));
    MISUSE(rhei_register_table(db, "t", NULL, 0, nokey, 1));
    MISUSE(rhei_register_table(db, "t", NULL, 2, NULL, 0));
    MISUSE(rhei_register_table(db, "t", NULL, 0, NULL, 1));
    MISUSE(rhei_unregister_table(db, NULL));
    MISUSE(rhei_tables(db, NULL));
    MISUSE(rhei_tables(NULL, &tl));
    CHECK(tl == NULL);
    CHECK(rhei_table_list_name(NULL, 0) == NULL);
    CHECK_INT(rhei_table_list_count(NULL), 0);
    rhei_table_list_free(NULL);
    MISUSE(rhei_sync_now(NULL, NULL));
    MISUSE(rhei_start_sync(NULL, 10));
    MISUSE(rhei_start_sync(db, 0));
    MISUSE(rhei_stop_sync(NULL));
    MISUSE(rhei_initial_sync(db, NULL, &n64));
    MISUSE(rhei_initial_sync(NULL, "t", &n64));
    MISUSE(rhei_initial_sync_all(NULL, &n64));
    MISUSE(rhei_add_column(db, "t", NULL, "INTEGER"));
    MISUSE(rhei_add_column(db, NULL, "c", "INTEGER"));
    MISUSE(rhei_add_column(db, "t", "c", NULL));
    MISUSE(rhei_drop_column(db, "t", NULL));
    MISUSE(rhei_sync_status_get(db, NULL));
    MISUSE(rhei_sync_status_get(NULL, &ss));
    MISUSE(rhei_table_pending(db, "t", NULL));
    MISUSE(rhei_table_pending(db, NULL, &n64));
    MISUSE(rhei_query_as_of(db, "t", 0, NULL));
    MISUSE(rhei_query_as_of(db, NULL, 0, &r));
    MISUSE(rhei_sidecar_sync_now(NULL, &n64));
    MISUSE(rhei_sidecar_table_count(db, NULL));
    MISUSE(rhei_sidecar_status_get(db, 0, NULL));
    MISUSE(rhei_sidecar_status_get(NULL, 0, &sts));
    (void)nsz;
    (void)buf;

    MISUSE(rhei_result_to_arrow(NULL, &st));
    CHECK_OK(db, rhei_query(db, "SELECT 1", NULL, 0, &g_r));
    MISUSE(rhei_result_to_arrow(g_r, NULL)); /* consumes g_r */
    CHECK_INT(rhei_result_column_count(NULL), 0);
    CHECK_INT(rhei_result_row_count(NULL), 0);
    CHECK(rhei_result_column_name(NULL, 0) == NULL);
    CHECK(rhei_result_text(NULL, 0, 0, NULL) == NULL);
    CHECK(rhei_result_is_null(NULL, 0, 0));
    CHECK(rhei_oltp_handle(NULL) == NULL);
    CHECK(rhei_olap_handle(NULL) == NULL);
    CHECK_INT(rhei_errcode(db), RHEI_MISUSE); /* the last failure on db kept its code */
    CHECK(rhei_errmsg(db)[0] != '\0');
    rhei_free(NULL);
    rhei_result_free(NULL);
    rhei_config_free(NULL);
    CHECK_OK(NULL, rhei_close(NULL));
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(dir);
}

/* --- rhei_errmsg: per thread and per handle --------------------------------------------- */

TEST(errmsg_is_per_handle_and_per_thread)
{
    char d1[64], d2[64];
    rt_tmpdir(d1, sizeof d1);
    rt_tmpdir(d2, sizeof d2);
    rhei_db *a = th_open(d1, (th_opts){0}), *b = th_open(d2, (th_opts){0});
    CHECK_RC(a, rhei_execute(a, "SELECT * FROM missing_a", NULL, 0, NULL), RHEI_NOTFOUND);
    CHECK_RC(b, rhei_execute(b, "SYNTAX ERROR HERE", NULL, 0, NULL), RHEI_SQL);
    /* b's failure leaves a's message alone */
    CHECK(strstr(rhei_errmsg(a), "missing_a") != NULL);
    CHECK_INT(rhei_errcode(a), RHEI_NOTFOUND);
    CHECK(strstr(rhei_errmsg(b), "syntax error") != NULL);
    CHECK_INT(rhei_errcode(b), RHEI_SQL);
    CHECK_OK(b, rhei_close(b));
    CHECK(strstr(rhei_errmsg(a), "missing_a") != NULL);
    /* another handle at the (likely) same address starts clean */
    b = th_open(d2, (th_opts){0});
    CHECK_STR(rhei_errmsg(b), "");
    CHECK_INT(rhei_errcode(b), RHEI_OK);
    CHECK_OK(b, rhei_close(b));
    CHECK_OK(a, rhei_close(a));
    rt_rm_tree(d1);
    rt_rm_tree(d2);
}

static void *fail_other(void *arg)
{
    rhei_db *db = arg;
    if (rhei_execute(db, "SELECT * FROM missing_other", NULL, 0, NULL) != RHEI_NOTFOUND)
        FAIL("the other thread's call should fail");
    if (!strstr(rhei_errmsg(db), "missing_other"))
        FAIL("other thread sees '%s'", rhei_errmsg(db));
    return NULL;
}

TEST(errmsg_of_another_thread_is_its_own)
{
    char d[64];
    rt_tmpdir(d, sizeof d);
    rhei_db *db = th_open(d, (th_opts){0});
    CHECK_RC(db, rhei_execute(db, "SELECT * FROM missing_mine", NULL, 0, NULL), RHEI_NOTFOUND);
    pthread_t th;
    pthread_create(&th, NULL, fail_other, db);
    pthread_join(th, NULL);
    CHECK(strstr(rhei_errmsg(db), "missing_mine") != NULL);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(d);
}

/* --- rhei_query_as_of: what the header says -------------------------------------------- */

TEST(query_as_of_applies_first_and_refuses_the_future)
{
    char d[64];
    rt_tmpdir(d, sizeof d);
    rhei_db *db = th_open(d, (th_opts){.history = 1});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    th_exec(db, "INSERT INTO t VALUES (1, 'a')");
    rhei_result *r = NULL;
    /* Not applied yet (no background sync): the call applies it first, so "now" sees it. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + 1000;
    while (1) { /* the event's time must be <= the moment asked for */
        clock_gettime(CLOCK_REALTIME, &ts);
        if ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 > now)
            break;
    }
    CHECK_OK(db, rhei_query_as_of(db, "t", now, &r));
    CHECK_INT(rhei_result_row_count(r), 1);
    rhei_result_free(r);
    CHECK_RC(db, rhei_query_as_of(db, "t", now + 3600LL * 1000000, &r), RHEI_RANGE);
    CHECK(r == NULL);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(d);
}

/* A typo is a syntax error, not "read-only": text the router does not know as a statement
 * gets SQLite's own message; a real write is still refused as one. */
TEST(query_of_unknown_text_reports_the_syntax_error)
{
    char d[64];
    rt_tmpdir(d, sizeof d);
    rhei_db *db = th_open(d, (th_opts){0});
    rhei_result *r = NULL;
    CHECK_RC(db, rhei_query(db, "SELEC 1", NULL, 0, &r), RHEI_SQL);
    CHECK(strstr(rhei_errmsg(db), "near \"SELEC\": syntax error") != NULL);
    CHECK_RC(db, rhei_query(db, "VACUUM", NULL, 0, &r), RHEI_MISUSE);
    CHECK(strstr(rhei_errmsg(db), "read-only") != NULL);
    CHECK(r == NULL);
    CHECK_OK(db, rhei_close(db));
    rt_rm_tree(d);
}
