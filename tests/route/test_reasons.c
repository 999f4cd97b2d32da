/* test_reasons.c — route owns routing: reasons are codes with fixed texts, the table callback
 * says local / replicated / OLAP-only and the router decides, hints, open transactions and
 * fallbacks are decided by the router too, and a cache miss tokenizes the text once. */
#include "engine/helpers.h"
#include "route.h"
#include <strings.h>

TEST(reason_texts_are_fixed_and_distinct)
{
    for (int i = 0; i < RHEI_ROUTE_REASON_COUNT; i++) {
        const char *t = rhei_route_reason_text((rhei_route_reason)i);
        if (!t || !t[0] || strcmp(t, "?") == 0)
            FAIL("reason code %d has no text", i);
        for (int k = 0; k < i; k++)
            if (strcmp(t, rhei_route_reason_text((rhei_route_reason)k)) == 0)
                FAIL("reason codes %d and %d share the text '%s'", k, i, t);
    }
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_REASON_COUNT), "?");
    CHECK_STR(rhei_route_reason_text((rhei_route_reason)-1), "?");
    /* texts users, rh and the metrics already print */
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_EMPTY), "empty");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_NOT_REPLICATED), "table not replicated");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_OLAP_ONLY_TABLE),
              "olap-only table (history or sidecar)");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_SEM_LIKE),
              "sqlite semantics: LIKE is ASCII case-insensitive");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_FALLBACK_DIALECT),
              "olap could not run it (sqlite dialect)");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_IN_TRANSACTION), "inside an open transaction");
    CHECK_STR(rhei_route_reason_text(RHEI_ROUTE_WINDOW), "window function");
}

/* "t" is replicated, "t_history" and "feed" exist only in OLAP, anything else only in SQLite. */
static int kind(void *ud, const char *table, size_t len)
{
    (void)ud;
    if (len == 1 && table[0] == 't')
        return RHEI__ROUTE_TABLE_REPLICATED;
    if (strcasecmp(table, "t_history") == 0 || strcasecmp(table, "feed") == 0)
        return RHEI__ROUTE_TABLE_OLAP_ONLY;
    return RHEI__ROUTE_TABLE_LOCAL;
}

static void expect(const char *sql, int want_write, rhei_side side, rhei_route_reason code,
                   const char *table)
{
    rhei__route_ctx ctx = {kind, NULL, NULL, NULL, NULL, NULL};
    rhei_route_info ri;
    int w = rhei__route_classify(sql, &ctx, &ri);
    if (w != want_write || ri.side != side || ri.code != (int32_t)code ||
        strcmp(ri.table, table) != 0 || strcmp(ri.reason, rhei_route_reason_text(code)) != 0)
        FAIL("%s: got write %d side %d '%s' (code %d) table '%s', want write %d side %d '%s'"
             " table '%s'",
             sql, w, (int)ri.side, ri.reason, (int)ri.code, ri.table, want_write, (int)side,
             rhei_route_reason_text(code), table);
}

TEST(table_callback_decides_olap_only)
{
    expect("SELECT * FROM t_history WHERE id = 1", 0, RHEI_SIDE_OLAP, RHEI_ROUTE_OLAP_ONLY_TABLE,
           "t_history");
    expect("SELECT a FROM feed WHERE a LIKE 'x%'", 0, RHEI_SIDE_OLAP, RHEI_ROUTE_OLAP_ONLY_TABLE,
           "feed");
    expect("SELECT * FROM feed JOIN t USING (id)", 0, RHEI_SIDE_OLAP, RHEI_ROUTE_OLAP_ONLY_TABLE,
           "feed");
    /* a table only SQLite has wins: neither side has both */
    expect("SELECT * FROM feed JOIN local USING (id)", 0, RHEI_SIDE_OLTP, RHEI_ROUTE_NOT_REPLICATED,
           "local");
    expect("SELECT * FROM t WHERE id = 1", 0, RHEI_SIDE_OLTP, RHEI_ROUTE_POINT_LOOKUP, "t");
    expect("SELECT count(*) FROM t", 0, RHEI_SIDE_OLAP, RHEI_ROUTE_AGGREGATE, "t");
    /* the write is found in the same pass, and an OLAP-only table never makes it OLAP */
    expect("INSERT INTO feed SELECT * FROM feed", 1, RHEI_SIDE_OLTP, RHEI_ROUTE_WRITE, "feed");
    expect("SELECT * FROM feed; DELETE FROM t", 1, RHEI_SIDE_OLTP, RHEI_ROUTE_WRITE, "t");
    expect("", 0, RHEI_SIDE_OLTP, RHEI_ROUTE_EMPTY, "");
}

TEST(router_decides_hint_and_transaction)
{
    rhei_route_info auto_ri, ri;
    rhei__route_ctx ctx = {kind, NULL, NULL, NULL, NULL, NULL};
    CHECK_INT(rhei__route_classify("SELECT count(*) FROM t", &ctx, &auto_ri), 0);
    rhei__route_decide(&auto_ri, RHEI_SIDE_AUTO, 0, &ri);
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    CHECK_INT(ri.code, RHEI_ROUTE_AGGREGATE);
    CHECK_STR(ri.table, "t");
    rhei__route_decide(&auto_ri, RHEI_SIDE_AUTO, 1, &ri);
    CHECK_INT(ri.side, RHEI_SIDE_OLTP);
    CHECK_STR(ri.reason, "inside an open transaction");
    rhei__route_decide(&auto_ri, RHEI_SIDE_OLTP, 1, &ri); /* a hint is obeyed */
    CHECK_INT(ri.side, RHEI_SIDE_OLTP);
    CHECK_STR(ri.reason, "hint");
    CHECK_STR(ri.table, "");
    rhei__route_decide(&auto_ri, RHEI_SIDE_OLAP, 0, &ri);
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    CHECK_INT(ri.code, RHEI_ROUTE_HINT);
}

TEST(router_decides_fallback)
{
    rhei_route_info ri;
    rhei__route_ctx ctx = {kind, NULL, NULL, NULL, NULL, NULL};
    rhei__route_classify("SELECT count(*) FROM t", &ctx, &ri);
    rhei_route_info keep = ri;
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_SQL), 1);
    CHECK_INT(ri.side, RHEI_SIDE_OLTP);
    CHECK_STR(ri.reason, "olap could not run it (sqlite dialect)");
    ri = keep;
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_TYPE), 1);
    CHECK_STR(ri.reason, "sqlite semantics: overflow or conversion");
    ri = keep;
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_INTERRUPTED), 0);
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    rhei__route_decide(&keep, RHEI_SIDE_OLAP, 0, &ri);
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_OLAP, RHEI_SQL), 0); /* hinted: no fallback */
    rhei__route_classify("SELECT * FROM feed", &ctx, &ri);
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_SQL), 0); /* SQLite lacks it */
    rhei__route_classify("SELECT * FROM rhei_as_of('t', 5)", &ctx, &ri);
    CHECK_INT(ri.code, RHEI_ROUTE_OLAP_FUNCTION);
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_RANGE), 0); /* the refusal stands */
    CHECK_INT(rhei__route_fallback(&ri, RHEI_SIDE_AUTO, RHEI_SQL), 1);
}

static uint64_t passes_of_query(rhei_db *db, const char *sql)
{
    rhei_result *r = NULL;
    uint64_t before = rhei__route_passes();
    CHECK_OK(db, rhei_query(db, sql, NULL, 0, &r));
    rhei_result_free(r);
    return rhei__route_passes() - before;
}

/* A routed query's text is tokenized once per reading on a cache miss (is it a write, which
 * side, OLAP-only tables: one classification), and not at all on a hit. */
TEST(cache_miss_classifies_once)
{
    char dir[64];
    rt_tmpdir(dir, sizeof dir);
    rhei_db *db = th_open(dir, (th_opts){.history = 1});
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)");
    th_exec(db, "INSERT INTO t VALUES (1, 2), (2, 3)");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
    CHECK_INT(passes_of_query(db, "SELECT sum(a) FROM t"), 1);
    CHECK_INT(passes_of_query(db, "SELECT sum(a) FROM t"), 0);
    CHECK_INT(passes_of_query(db, "SELECT a FROM t WHERE id = 1"), 1);
    CHECK_INT(passes_of_query(db, "SELECT count(*) FROM t_history"), 1); /* OLAP-only */
    /* text the dialects may read differently is read both ways, still once each */
    CHECK_INT(passes_of_query(db, "SELECT a FROM t WHERE a > 0 AND '$' <> ''"), 2);
    rhei_route_info ri;
    uint64_t before = rhei__route_passes();
    CHECK_OK(db, rhei_explain_route(db, "SELECT count(*) FROM t_history", &ri));
    CHECK_INT(rhei__route_passes() - before, 1);
    CHECK_INT(ri.side, RHEI_SIDE_OLAP);
    CHECK_INT(ri.code, RHEI_ROUTE_OLAP_ONLY_TABLE);
    CHECK_OK(db, rhei_close(db));
}
