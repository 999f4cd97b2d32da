/* test_route.c — the router: a data-driven routing corpus (one row per statement: replicated
 * tables, expected side, reason and table), is_write cases, the analysis bounds, and a
 * deterministic robustness run over random and truncated inputs. */
#include "test.h"
#include "../../src/route/route.h"
#include <strings.h>

#define OLTP RHEI_SIDE_OLTP
#define OLAP RHEI_SIDE_OLAP
/* The usual replicated set; rows that need another one spell it out. */
#define R "t,u,orders,customers,items,events,orders_history"

typedef struct route_case {
    const char *sql;
    const char *replicated; /* comma-separated table names, compared case-insensitively */
    rhei_side side;
    const char *reason;
    const char *table;
} route_case;

static const route_case corpus[] = {
    /* empty and comment-only */
    {"", R, OLTP, "empty", ""},
    {"   \n\t ", R, OLTP, "empty", ""},
    {"-- SELECT count(*) FROM t", R, OLTP, "empty", ""},
    {"/* block */ -- and a line", R, OLTP, "empty", ""},
    {" ; ;; ", R, OLTP, "empty", ""},
    {"/* unterminated SELECT count(*) FROM t", R, OLTP, "empty", ""},
    /* writes, DDL, transaction control and other commands */
    {"INSERT INTO t VALUES (1)", R, OLTP, "write", "t"},
    {"insert or replace into main.orders(id) values (?)", R, OLTP, "write", "orders"},
    {"UPDATE orders SET n = 1 WHERE id = 2", R, OLTP, "write", "orders"},
    {"UPDATE OR IGNORE \"Order Items\" SET n = 1", R, OLTP, "write", "Order Items"},
    {"DELETE FROM items WHERE id = ?1", R, OLTP, "write", "items"},
    {"REPLACE INTO t VALUES (1)", R, OLTP, "write", "t"},
    {"TRUNCATE t", R, OLTP, "write", ""},
    {"COPY t TO 'out.csv'", R, OLTP, "write", ""},
    {"CREATE TABLE x (id INTEGER PRIMARY KEY)", R, OLTP, "ddl", ""},
    {"drop table t", R, OLTP, "ddl", ""},
    {"ALTER TABLE t ADD COLUMN c TEXT", R, OLTP, "ddl", ""},
    {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END", R, OLTP, "ddl", ""},
    {"BEGIN IMMEDIATE", R, OLTP, "transaction control", ""},
    {"commit", R, OLTP, "transaction control", ""},
    {"END TRANSACTION", R, OLTP, "transaction control", ""},
    {"ROLLBACK TO sp1", R, OLTP, "transaction control", ""},
    {"SAVEPOINT sp1", R, OLTP, "transaction control", ""},
    {"RELEASE sp1", R, OLTP, "transaction control", ""},
    {"PRAGMA journal_mode = WAL", R, OLTP, "pragma", ""},
    {"VACUUM", R, OLTP, "maintenance", ""},
    {"ANALYZE t", R, OLTP, "maintenance", ""},
    {"REINDEX", R, OLTP, "maintenance", ""},
    {"ATTACH 'x.db' AS x", R, OLTP, "attach", ""},
    {"DETACH x", R, OLTP, "attach", ""},
    {"SET threads = 4", R, OLTP, "command", ""},
    {"SHOW TABLES", R, OLTP, "unknown statement", ""},
    {"EXPLAIN", R, OLTP, "unknown statement", ""},
    {"EXPLAIN INSERT INTO t VALUES (1)", R, OLTP, "write", "t"},
    /* writes behind CTEs, comments, whitespace and other statements */
    {"WITH s AS (SELECT id FROM u) INSERT INTO t SELECT id FROM s", R, OLTP, "write", "t"},
    {"WITH s AS (SELECT 1) UPDATE t SET a = 1", R, OLTP, "write", "t"},
    {"WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d", R, OLTP, "write",
     "orders"},
    {"  /* select */ -- select\n  DELETE FROM t", R, OLTP, "write", "t"},
    {"-- SELECT count(*) FROM t\nINSERT INTO t VALUES (1)", R, OLTP, "write", "t"},
    {"\n\n\t/* a */ /* b */ uPdAtE t SET a = 1", R, OLTP, "write", "t"},
    {"SELECT 1; INSERT INTO t VALUES (2)", R, OLTP, "write", "t"},
    {"SELECT count(*) FROM t; DROP TABLE t", R, OLTP, "ddl", ""},
    /* reads without tables */
    {"SELECT 1", R, OLTP, "no table", ""},
    {"select 'x' || 'y'", R, OLTP, "no table", ""},
    {"VALUES (1), (2)", R, OLTP, "no table", ""},
    {"SELECT 1;", R, OLTP, "no table", ""},
    {"SELECT count(*) FROM (SELECT 1 UNION SELECT 2)", R, OLTP, "no table", ""},
    {"WITH x AS (SELECT 1 AS n) SELECT sum(n) FROM x", R, OLTP, "no table", ""},
    /* point lookups and filters */
    {"SELECT * FROM t WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"SELECT 'GROUP BY' FROM t WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"SELECT name FROM orders WHERE id = ? AND region = :r", R, OLTP, "point lookup", "orders"},
    {"SELECT a, b FROM t WHERE id = :id AND kind = @k AND n = $1", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE t.id == ?2", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE 5 = id", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE id = -5 AND flag = TRUE", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE id = 1 ORDER BY id LIMIT 1", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM \"t\" WHERE \"id\" = 1", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM [t] WHERE `id` = 1", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM main.t WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t INDEXED BY t_ix WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"SELECT id FROM t WHERE note = 'it''s a JOIN; SELECT count(*)'", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE id = 1 -- GROUP BY x\n", R, OLTP, "point lookup", "t"},
    {"SELECT /* count(*) */ * FROM t WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"sElEcT * fRoM T wHeRe Id = 1", R, OLTP, "point lookup", "T"},
    {"SELECT max(a, b) FROM t WHERE id = 1", R, OLTP, "sqlite semantics: scalar min/max", "t"},
    {"SELECT t.count, replace(name, 'a', 'b') FROM t WHERE id = 1", R, OLTP,
     "sqlite semantics: function not known to agree", "replace"},
    {"SELECT t.count, name FROM t WHERE id = 1", R, OLTP, "point lookup", "t"},
    {"SELECT extract(year FROM ts) FROM t WHERE id = 1", R, OLTP,
     "sqlite semantics: function not known to agree", "extract"},
    {"SELECT over FROM t WHERE id = 1 AND b = x'00ff'", R, OLTP,
     "sqlite semantics: X'..' is a blob only in sqlite", "t"},
    {"SELECT over FROM t WHERE id = 1 AND b = ?", R, OLTP, "point lookup", "t"},
    {"SELECT x FROM t WHERE s = E'it\\'s JOIN u'", R, OLTP, "point lookup", "t"},
    {"SELECT \"order\", \"group\" FROM \"select\" WHERE \"where\" = 1", "select", OLTP,
     "point lookup", "select"},
    {"SELECT * FROM caf\xc3\xa9 WHERE id = 1", "caf\xc3\xa9", OLTP, "point lookup", "caf\xc3\xa9"},
    {"SELECT * FROM t WHERE id = ? ; /* nothing */ ;", R, OLTP, "point lookup", "t"},
    {"SELECT * FROM t WHERE id > 5", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE id = 1 OR id = 2", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE id IN (1, 2)", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE a = b", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE (id = 1)", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE id = 1 AND", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE name LIKE 'a%' ORDER BY name", R, OLTP,
     "sqlite semantics: LIKE is ASCII case-insensitive", "t"},
    {"SELECT * FROM t WHERE name > 'a' ORDER BY name", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE a IS NOT DISTINCT FROM b", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t WHERE ts > ? LIMIT 10", R, OLTP, "simple filter", "t"},
    {"SELECT * FROM t LIMIT 10", R, OLTP, "limited scan", "t"},
    {"SELECT * FROM t FETCH FIRST 5 ROWS ONLY", R, OLTP, "limited scan", "t"},
    /* what only SQLite can serve */
    {"SELECT * FROM json_each('[1,2]')", R, OLTP, "sqlite function", "json_each"},
    {"SELECT count(*) FROM pragma_table_info('t')", R, OLTP, "sqlite function",
     "pragma_table_info"},
    {"EXPLAIN QUERY PLAN SELECT count(*) FROM t", R, OLTP, "explain query plan", "t"},
    /* text the engines tokenize differently: each reading counts */
    {"SELECT count(*) FROM t WHERE a <> [']']; DELETE FROM t; SELECT '1'", R, OLTP, "write",
     "t"}, /* DuckDB reads a list literal, then a DELETE */
    {"SELECT count(*) FROM t WHERE s = E'\\' ; DELETE FROM t; --'", R, OLTP, "write", "t"},
    {"SELECT count(*) FROM t /* /* */ ; DELETE FROM u; */", R, OLTP, "write", "u"},
    {"SELECT count(*) FROM t WHERE s = $$x; DROP TABLE t$$", R, OLTP, "ddl", ""},
    {"SELECT count(*) FROM t WHERE s = $$GROUP BY$$", R, OLAP, "aggregate", "t"},
    {"SELECT count(*) FROM t WHERE s = E'it\\'s'", R, OLAP, "aggregate", "t"},
    {"SELECT count(*) FROM [t]", R, OLTP, "sqlite syntax", "t"},
    {"SELECT [name], `kind` FROM t", R, OLTP, "sqlite syntax", "t"},
    {"SELECT count(*) FROM t /* a /* nested */ comment */", R, OLAP, "aggregate", "t"},
    /* several reads */
    {"SELECT 1; SELECT 2", R, OLTP, "multiple statements", ""},
    {"SELECT count(*) FROM t; SELECT * FROM u", R, OLTP, "multiple statements", ""},
    /* tables OLAP does not have */
    {"SELECT count(*) FROM secrets", R, OLTP, "table not replicated", "secrets"},
    {"SELECT * FROM secrets WHERE id = 1", R, OLTP, "table not replicated", "secrets"},
    {"SELECT * FROM t JOIN secrets s ON s.id = t.id", R, OLTP, "table not replicated", "secrets"},
    {"SELECT * FROM t WHERE id IN (SELECT id FROM secrets)", R, OLTP, "table not replicated",
     "secrets"},
    {"WITH s AS (SELECT * FROM secrets) SELECT count(*) FROM s", R, OLTP, "table not replicated",
     "secrets"},
    {"SELECT count(*) FROM t, (SELECT * FROM (SELECT * FROM deep)) x", R, OLTP,
     "table not replicated", "deep"},
    {"SELECT * FROM orders_history", "orders", OLTP, "table not replicated", "orders_history"},
    {"SELECT count(*) FROM main.\"Secret Table\"", R, OLTP, "table not replicated", "Secret Table"},
    {"SELECT * FROM sqlite_master", R, OLTP, "table not replicated", "sqlite_master"},
    {"SELECT * FROM read_csv('x.csv') JOIN secrets USING (id)", R, OLTP, "table not replicated",
     "secrets"},
    {"SELECT count(*) FROM t", "", OLTP, "table not replicated", "t"},
    /* analytics */
    {"SELECT count(*) FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT COUNT(*) FROM T", "t", OLAP, "aggregate", "T"},
    {"/* leading */ -- comment\n  SELECT count(*) FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT COUNT(DISTINCT a) FROM t WHERE b = 1", R, OLAP, "aggregate", "t"},
    {"select sum(amount) from orders where region = 'EU'", R, OLAP, "aggregate", "orders"},
    {"SELECT region, total(x) FROM t GROUP BY region", R, OLTP,
     "sqlite semantics: function not known to agree", "total"},
    {"SELECT region, sum(x) FROM t GROUP BY region", R, OLAP, "aggregate", "t"},
    {"SELECT min(x) FROM t WHERE id = 1", R, OLAP, "aggregate", "t"},
    {"SELECT median(x), approx_count_distinct(y), stddev_samp(z) FROM t", R, OLTP,
     "sqlite semantics: function not known to agree", "median"},
    {"SELECT string_agg(name, ',') FROM t WHERE id = 1", R, OLTP,
     "sqlite semantics: function not known to agree", "string_agg"},
    {"SELECT avg(x) FROM t WHERE id = 1", R, OLAP, "aggregate", "t"},
    {"SELECT id FROM t WHERE id = (SELECT max(id) FROM u)", R, OLAP, "aggregate", "t"},
    {"SELECT count(*) FROM orders_history WHERE valid_to IS NULL", R, OLAP, "aggregate",
     "orders_history"},
    {"EXPLAIN SELECT count(*) FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT region FROM t GROUP BY region", R, OLAP, "group by", "t"},
    {"SELECT id FROM t WHERE id = 1 GROUP BY id", R, OLAP, "group by", "t"},
    {"SELECT a FROM t HAVING a > 1", R, OLAP, "having", "t"},
    {"SELECT id, row_number() OVER (ORDER BY ts) FROM t WHERE id = 1", R, OLAP, "window function",
     "t"},
    /* an aggregate called with OVER is a window function (issue 13: it said "aggregate") */
    {"SELECT id, sum(a) OVER (PARTITION BY b) FROM t", R, OLAP, "window function", "t"},
    {"SELECT count(*) FILTER (WHERE a > 0) OVER () FROM t", R, OLAP, "window function", "t"},
    {"SELECT avg(a) OVER w FROM t WINDOW w AS (ORDER BY id)", R, OLAP, "window function", "t"},
    {"SELECT count(*), sum(a) OVER () FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT sum(a) FILTER (WHERE a > 0) FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT max(a) FROM t", R, OLAP, "aggregate", "t"},
    {"SELECT id, rank() OVER w FROM t WINDOW w AS (ORDER BY x)", R, OLAP, "window function", "t"},
    {"SELECT DISTINCT region FROM t", R, OLAP, "distinct", "t"},
    {"SELECT * FROM t JOIN u ON t.id = u.tid WHERE t.id = 1", R, OLAP, "join", "t"},
    {"SELECT * FROM t, u WHERE t.id = u.id", R, OLAP, "join", "t"},
    {"SELECT * FROM t LEFT OUTER JOIN u USING (id)", R, OLAP, "join", "t"},
    {"SELECT * FROM t NATURAL JOIN u", R, OLAP, "join", "t"},
    {"SELECT * FROM t AS a JOIN t AS b ON a.parent = b.id", R, OLAP, "join", "t"},
    {"SELECT * FROM (t JOIN u ON t.id = u.id)", R, OLAP, "join", "t"},
    {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 9) "
     "SELECT * FROM r JOIN t ON t.id = r.n",
     R, OLAP, "join", "t"},
    {"SELECT * FROM t WHERE id IN (SELECT tid FROM u)", R, OLAP, "subquery", "t"},
    {"SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id)", R, OLAP, "subquery", "t"},
    {"SELECT * FROM (SELECT * FROM t) sub WHERE id = 1", R, OLAP, "subquery", "t"},
    {"(SELECT * FROM t WHERE id = 1)", R, OLAP, "subquery", "t"},
    {"WITH x AS (SELECT * FROM t WHERE id = 1) SELECT * FROM x", R, OLAP, "cte", "t"},
    {"WITH a AS (SELECT * FROM t), b AS (SELECT * FROM u) SELECT * FROM a WHERE id = 1", R, OLAP,
     "cte", "t"},
    {"WITH x AS MATERIALIZED (SELECT * FROM t) SELECT * FROM x", R, OLAP, "cte", "t"},
    {"SELECT a FROM t UNION SELECT a FROM u", R, OLAP, "set operation", "t"},
    {"SELECT a FROM t WHERE id = 1 EXCEPT SELECT a FROM u WHERE id = 2", R, OLAP, "set operation",
     "t"},
    {"SELECT * FROM t WHERE id = 1 UNION ALL SELECT * FROM u WHERE id = 2", R, OLAP,
     "set operation", "t"},
    {"SELECT * FROM t ORDER BY created_at DESC", R, OLAP, "full scan sort", "t"},
    {"SELECT * FROM t ORDER BY id LIMIT 5", R, OLAP, "full scan sort", "t"},
    {"SELECT * FROM t", R, OLAP, "full scan", "t"},
    {"SELECT a FROM t -- ORDER BY a LIMIT 1", R, OLAP, "full scan", "t"},
    {"SELECT * REPLACE (lower(name) AS name) FROM t", R, OLTP,
     "sqlite semantics: function not known to agree", "REPLACE"},
    {"SELECT * FROM \"weird \"\"name\"\"\"", "weird \"name\"", OLAP, "full scan", "weird \"name\""},
    {"TABLE t", R, OLAP, "full scan", "t"},
    {"SELECT * FROM read_csv('x.csv')", R, OLAP, "olap function", "read_csv"},
    {"SELECT * FROM rhei_as_of('orders', 1700000000000000) WHERE id = 1", R, OLAP, "olap function",
     "rhei_as_of"},
    {"SELECT * FROM generate_series(1, 10)", R, OLAP, "olap function", "generate_series"},
    {"SELECT * FROM 'data.parquet'", R, OLAP, "olap function", ""},
};

/* is_replicated for the corpus: ud is the comma-separated list of the row. */
static int in_list(void *ud, const char *table, size_t len)
{
    const char *p = ud;
    if (table[len] != '\0')
        FAIL("table name not NUL-terminated at its length");
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == len && strncasecmp(p, table, len) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

static const char *side_name(rhei_side s)
{
    return s == RHEI_SIDE_OLTP ? "OLTP" : s == RHEI_SIDE_OLAP ? "OLAP" : "AUTO";
}

TEST(routing_corpus)
{
    size_t n = sizeof corpus / sizeof corpus[0], bad = 0;
    CHECK(n >= 60);
    for (size_t i = 0; i < n; i++) {
        const route_case *c = &corpus[i];
        rhei__route_ctx ctx = {in_list, (void *)c->replicated, NULL, NULL, NULL, NULL};
        rhei_route_info info;
        rhei__route_classify(c->sql, &ctx, &info);
        if (info.side != c->side || strcmp(info.reason, c->reason) != 0 ||
            strcmp(info.table, c->table) != 0 ||
            info.reason != rhei_route_reason_text((rhei_route_reason)info.code)) {
            fprintf(stderr, "corpus[%zu] %s\n  got  %s \"%s\" table \"%s\"\n  want %s \"%s\" table \"%s\"\n",
                    i, c->sql, side_name(info.side), info.reason, info.table,
                    side_name(c->side), c->reason, c->table);
            bad++;
        }
    }
    if (bad)
        FAIL("%zu of %zu corpus rows routed wrongly", bad, n);
}

/* The invariant that matters most: a write never gets OLAP, whatever the corpus says. */
TEST(corpus_writes_never_olap)
{
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        rhei__route_ctx ctx = {in_list, (void *)"t,u,orders,items,secrets,d,s", NULL, NULL, NULL,
                               NULL};
        rhei_route_info info;
        rhei__route_classify(corpus[i].sql, &ctx, &info);
        if (rhei__route_is_write(corpus[i].sql) && info.side != RHEI_SIDE_OLTP)
            FAIL("corpus[%zu] is a write routed to %s: %s", i, side_name(info.side),
                 corpus[i].sql);
    }
}

TEST(is_write_cases)
{
    static const struct {
        const char *sql;
        int want;
    } cases[] = {
        {"", 0},
        {"-- INSERT INTO t VALUES (1)", 0},
        {"SELECT 'DELETE FROM t' FROM u", 0},
        {"SELECT \"update\" FROM t", 0},
        {"SELECT t.delete FROM t", 0},
        {"SELECT replace(a, 'x', 'y') FROM t", 0},
        {"SELECT count(*) FROM t GROUP BY a", 0},
        {"WITH x AS (SELECT 1) SELECT * FROM x", 0},
        {"VALUES (1)", 0},
        {"EXPLAIN QUERY PLAN SELECT * FROM t", 0},
        {"SELECT 1; SELECT 2;", 0},
        {"insert into t values (1)", 1},
        {"  /* x */ UPDATE t SET a = 1", 1},
        {"DELETE FROM t", 1},
        {"REPLACE INTO t VALUES (1)", 1},
        {"UPSERT INTO t VALUES (1)", 1},
        {"CREATE INDEX i ON t(a)", 1},
        {"DROP VIEW v", 1},
        {"ALTER TABLE t RENAME TO u", 1},
        {"BEGIN", 1},
        {"COMMIT", 1},
        {"END", 1},
        {"ROLLBACK", 1},
        {"SAVEPOINT a", 1},
        {"RELEASE a", 1},
        {"PRAGMA foreign_keys = ON", 1},
        {"VACUUM", 1},
        {"ANALYZE", 1},
        {"ATTACH 'a.db' AS a", 1},
        {"DETACH a", 1},
        {"REINDEX t", 1},
        {"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", 1},
        {"WITH x AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM x)", 1},
        {"WITH x AS (SELECT 1) REPLACE INTO t SELECT * FROM x", 1},
        {"SELECT 1; DELETE FROM t", 1},
        {"SELECT 1; -- x\n begin", 1},
        {"EXPLAIN ANALYZE DELETE FROM t", 1},
        {"SELECT [';'] FROM t; DELETE FROM t; SELECT ']'", 1},
        {"SELECT `;` FROM t; DELETE FROM t; SELECT `x`", 1},
        {"SELECT E'\\'; DELETE FROM t; --'", 1},
        {"SELECT $$; DELETE FROM t; $$", 1},
        {"SELECT 1 /* /* */ ; DELETE FROM t; */", 1},
        {"SELECT [x] FROM t", 0},
        {"SELECT E'\\'' FROM t", 0},
        {"SELECT 1 /* /* */ */", 0}, /* SQLite: a comment, then "* /" */
        {"FOO BAR", 1},
        {"42", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = rhei__route_is_write(cases[i].sql);
        if (got != cases[i].want)
            FAIL("is_write case %zu \"%s\": got %d, want %d", i, cases[i].sql, got,
                 cases[i].want);
    }
    CHECK_INT(rhei__route_is_write(NULL), 0);
}

TEST(null_inputs)
{
    rhei_route_info info;
    rhei__route_classify(NULL, NULL, &info);
    CHECK_INT(info.side, RHEI_SIDE_OLTP);
    CHECK_STR(info.reason, "empty");
    CHECK_STR(info.table, "");
    /* no context: nothing is replicated, so every table read stays on SQLite */
    rhei__route_classify("SELECT count(*) FROM t", NULL, &info);
    CHECK_INT(info.side, RHEI_SIDE_OLTP);
    CHECK_STR(info.reason, "table not replicated");
    CHECK_STR(info.table, "t");
    rhei__route_ctx empty = {NULL, NULL, NULL, NULL, NULL, NULL};
    rhei__route_classify("SELECT count(*) FROM t", &empty, &info);
    CHECK_STR(info.reason, "table not replicated");
}

typedef struct seen {
    int calls;
    char names[8][RHEI__ROUTE_MAX_NAME];
} seen;

static int record(void *ud, const char *table, size_t len)
{
    seen *s = ud;
    if (s->calls < 8)
        snprintf(s->names[s->calls], sizeof s->names[0], "%.*s", (int)len, table);
    s->calls++;
    return 1;
}

TEST(callback_gets_unquoted_names_once_per_reading)
{
    seen s = {0, {{0}}};
    rhei__route_ctx ctx = {record, &s, NULL, NULL, NULL, NULL};
    rhei_route_info info;
    /* once per distinct table; nothing here reads differently to DuckDB, so one reading */
    rhei__route_classify("WITH c AS (SELECT * FROM main.\"A b\") "
                         "SELECT * FROM c JOIN x ON 1 JOIN \"a B\" ON 1 JOIN main.X",
                         &ctx, &info);
    CHECK_INT(s.calls, 2);
    CHECK_STR(s.names[0], "A b");
    CHECK_STR(s.names[1], "x");
    CHECK_STR(info.reason, "join");
    CHECK_STR(info.table, "A b");
    /* a '$' can read differently, so the DuckDB reading asks again */
    s.calls = 0;
    rhei__route_classify("SELECT count(*) FROM \"A b\" JOIN x ON 1 WHERE a = $1", &ctx, &info);
    CHECK_INT(s.calls, 4);
    CHECK_STR(s.names[2], "A b");
    CHECK_STR(s.names[3], "x");
    CHECK_STR(info.reason, "aggregate");
    /* the DuckDB reading is not asked when the SQLite one already keeps the read on SQLite */
    s.calls = 0;
    rhei__route_classify("SELECT * FROM [x] JOIN `y` ON 1", &ctx, &info);
    CHECK_INT(s.calls, 2);
    CHECK_STR(info.reason, "sqlite syntax");
    /* a second statement is never asked about: only a lone statement's side matters */
    s.calls = 0;
    rhei__route_classify("SELECT * FROM a; SELECT * FROM b", &ctx, &info);
    CHECK_INT(s.calls, 1);
    CHECK_STR(info.reason, "multiple statements");
}

TEST(long_table_name_is_cut_at_a_character)
{
    char sql[256], want[64];
    char name[100];
    size_t n = 0;
    rhei_route_info info;
    /* 31 two-byte characters then one more: 64 bytes, one too many for table[64] */
    for (int i = 0; i < 32; i++) {
        name[n++] = (char)0xc3;
        name[n++] = (char)0xa9;
    }
    name[n] = '\0';
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id = 1", name);
    rhei__route_classify(sql, NULL, &info);
    CHECK_STR(info.reason, "table not replicated");
    memcpy(want, name, 62);
    want[62] = '\0';
    CHECK_STR(info.table, want);
    /* regression (fuzz): a run of continuation bytes is not UTF-8; it is cut at 63 bytes,
     * not backed off to "" */
    memset(name, 0x91, sizeof name - 1);
    name[0] = 'S';
    name[sizeof name - 1] = '\0';
    snprintf(sql, sizeof sql, "SELECT * FROM %s", name);
    rhei__route_classify(sql, NULL, &info);
    CHECK_STR(info.reason, "table not replicated");
    CHECK_INT(strlen(info.table), 63);
    CHECK_INT(info.table[0], 'S');
}

/* Past any bound the router answers OLTP "too complex" and is_write stays exact. */
TEST(bounds_fail_safe)
{
    char sql[4096];
    size_t n = 0;
    rhei_route_info info;
    rhei__route_ctx ctx = {in_list, (void *)R, NULL, NULL, NULL, NULL};
    n += (size_t)snprintf(sql + n, sizeof sql - n, "SELECT count(*) FROM t WHERE a IN ");
    for (int i = 0; i < RHEI__ROUTE_MAX_DEPTH + 4; i++)
        sql[n++] = '(';
    sql[n++] = '1';
    for (int i = 0; i < RHEI__ROUTE_MAX_DEPTH + 4; i++)
        sql[n++] = ')';
    sql[n] = '\0';
    rhei__route_classify(sql, &ctx, &info);
    CHECK_INT(info.side, RHEI_SIDE_OLTP);
    CHECK_STR(info.reason, "too complex");
    CHECK_INT(rhei__route_is_write(sql), 0);
    /* ... and a write after the too-deep part is still seen */
    n = (size_t)snprintf(sql, sizeof sql, "WITH x AS (SELECT ");
    for (int i = 0; i < RHEI__ROUTE_MAX_DEPTH + 4; i++)
        sql[n++] = '(';
    sql[n++] = '1';
    for (int i = 0; i < RHEI__ROUTE_MAX_DEPTH + 4; i++)
        sql[n++] = ')';
    snprintf(sql + n, sizeof sql - n, ") INSERT INTO t SELECT * FROM x");
    CHECK_INT(rhei__route_is_write(sql), 1);
    rhei__route_classify(sql, &ctx, &info);
    CHECK_STR(info.reason, "write");
    CHECK_STR(info.table, "t");

    n = (size_t)snprintf(sql, sizeof sql, "SELECT count(*) FROM t0");
    for (int i = 1; i <= RHEI__ROUTE_MAX_TABLES; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ", t%d", i);
    rhei__route_classify(sql, &ctx, &info);
    CHECK_STR(info.reason, "too complex");

    n = (size_t)snprintf(sql, sizeof sql, "SELECT count(*) FROM \"");
    memset(sql + n, 'x', RHEI__ROUTE_MAX_NAME);
    snprintf(sql + n + RHEI__ROUTE_MAX_NAME, sizeof sql - n - RHEI__ROUTE_MAX_NAME, "\"");
    rhei__route_classify(sql, &ctx, &info);
    CHECK_STR(info.reason, "too complex");

    /* the largest name that fits is still routed by its replication */
    n = (size_t)snprintf(sql, sizeof sql, "SELECT count(*) FROM ");
    memset(sql + n, 'y', RHEI__ROUTE_MAX_NAME - 1);
    sql[n + RHEI__ROUTE_MAX_NAME - 1] = '\0';
    rhei__route_classify(sql, &ctx, &info);
    CHECK_STR(info.reason, "table not replicated");
    CHECK_INT(strlen(info.table), 63);
}

TEST(length_counted_input)
{
    static const char sql[] = "SELECT count(*) FROM t\0; DELETE FROM t";
    rhei__route_ctx ctx = {in_list, (void *)R, NULL, NULL, NULL, NULL};
    rhei_route_info info;
    /* NUL is ordinary input in the _n forms, so the DELETE after it is seen */
    CHECK_INT(rhei__route_is_write_n(sql, sizeof sql - 1), 1);
    CHECK_INT(rhei__route_is_write(sql), 0);
    rhei__route_classify_n(sql, 22, &ctx, &info);
    CHECK_STR(info.reason, "aggregate");
    rhei__route_classify_n(sql, 21, &ctx, &info); /* "... FROM " only */
    CHECK_STR(info.reason, "no table");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_sane(const char *sql, size_t n)
{
    rhei__route_ctx ctx = {in_list, (void *)R, NULL, NULL, NULL, NULL};
    rhei_route_info info;
    int w = rhei__route_is_write_n(sql, n);
    memset(&info, 0x5a, sizeof info);
    rhei__route_classify_n(sql, n, &ctx, &info);
    if (info.side != RHEI_SIDE_OLTP && info.side != RHEI_SIDE_OLAP)
        FAIL("side %d for input of %zu bytes", (int)info.side, n);
    if (!info.reason || memchr(info.table, '\0', sizeof info.table) == NULL)
        FAIL("reason or table not filled for input of %zu bytes", n);
    if (w && info.side == RHEI_SIDE_OLAP)
        FAIL("write routed to OLAP: %.*s", (int)n, sql);
    if (w != rhei__route_is_write_n(sql, n))
        FAIL("is_write not deterministic");
}

/* Random bytes, random SQL fragments and every prefix of every corpus row: no crash, no read
 * past the input (each input is a separate heap copy under ASan), sane answers. */
TEST(robustness)
{
    static const char *const frags[] = {
        "SELECT ", "FROM ", "t", " u", "WHERE ", "id", " = ", "?", "(", ")", ",", ";", "'",
        "\"", "`", "[", "]", "--", "/*", "*/", "$$", "$a$", "E'", "\\", "WITH ", "AS ",
        "JOIN ", "count(", "max(", "GROUP BY ", "OVER ", "INSERT ", "INTO ", "UNION ",
        "DISTINCT ", "IS ", "NOT ", ".", "main", "\xff", "\xc3", "\0", "1e", "0x", ":a", "@",
        "LIMIT ", "ORDER BY ", "EXPLAIN ", "QUERY PLAN ", "TABLE ", "read_csv(", "RECURSIVE "};
    size_t nfrags = sizeof frags / sizeof frags[0];
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        size_t len = strlen(corpus[i].sql);
        for (size_t k = 0; k <= len; k++) {
            char *p = malloc(k ? k : 1);
            CHECK(p != NULL);
            memcpy(p, corpus[i].sql, k);
            check_sane(p, k);
            free(p);
        }
    }
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)(rng() % 200), k = 0;
        char *p = malloc(len ? len : 1);
        CHECK(p != NULL);
        while (k < len) {
            if (iter % 2 == 0) {
                p[k++] = (char)rng();
            } else {
                const char *f = frags[rng() % nfrags];
                size_t fl = f[0] ? strlen(f) : 1;
                for (size_t j = 0; j < fl && k < len; j++)
                    p[k++] = f[j];
            }
        }
        check_sane(p, len);
        free(p);
    }
}

/* The router asks about a name only next to '/'; "price" and "d" have NUMERIC affinity. */
static int numeric_names(void *ud, const char *name, size_t len)
{
    (void)ud;
    return (len == 5 && strncasecmp(name, "price", 5) == 0) || (len == 1 && name[0] == 'd') ||
           (len == 3 && strncmp(name, "\"d\"", 3) == 0);
}

/* '/' next to a NUMERIC-affinity column stays on SQLite (it divides an integral 5.00 as the
 * INTEGER 5); other division and other arithmetic on such a column do not. */
TEST(divide_numeric_column)
{
    rhei_route_info info;
    rhei__route_ctx ctx = {in_list, (void *)"t,orders", NULL, NULL, numeric_names, NULL};
    static const char *const kept[] = {
        "SELECT id, price / 2 FROM orders",      "SELECT id, 100 / price FROM orders",
        "SELECT o.price / 4 FROM orders o",      "SELECT 7 / o.price FROM orders o",
        "SELECT 7 / main.o.price FROM orders o", "SELECT sum(d / 2) FROM t",
        "SELECT \"d\" / 3 FROM t GROUP BY 1"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        rhei__route_classify(kept[i], &ctx, &info);
        CHECK_STR(info.reason, "sqlite semantics: / divides as each value's type");
        CHECK_INT(info.side, RHEI_SIDE_OLTP);
    }
    static const char *const free_[] = {"SELECT qty / 2, sum(price * 2) FROM orders GROUP BY 1",
                                        "SELECT qty / 2, count(*) FROM orders WHERE price > 1"
                                        " GROUP BY 1"};
    for (size_t i = 0; i < sizeof free_ / sizeof free_[0]; i++) {
        rhei__route_classify(free_[i], &ctx, &info);
        CHECK(strcmp(info.reason, "sqlite semantics: / divides as each value's type") != 0);
        CHECK_INT(info.side, RHEI_SIDE_OLAP);
    }
}

static int text_names(void *ud, const char *name, size_t len)
{
    (void)ud;
    return (len == 4 && strncmp(name, "name", 4) == 0) ||
           (len == 6 && strncmp(name, "\"name\"", 6) == 0);
}

/* LIKE with a TEXT column operand and a literal pattern may go to DuckDB (it runs there
 * rewritten); any other operand or pattern keeps the read on SQLite. */
TEST(like_on_text_column_is_rewritable)
{
    rhei_route_info info;
    rhei__route_ctx ctx = {in_list, (void *)"t,orders", NULL, NULL, NULL, text_names};
    static const char *const free_[] = {
        "SELECT count(*) FROM t WHERE name LIKE 'a%'",
        "SELECT count(*) FROM t WHERE t.name NOT LIKE 'a%'",
        "SELECT count(*) FROM t WHERE \"name\" LIKE 'a!%' ESCAPE '!'",
        "SELECT sum(CASE WHEN name LIKE 'PR%' THEN 1 ELSE 0 END) FROM t",
        "SELECT count(*) FROM t WHERE id > 3 AND (name LIKE 'a%' OR name LIKE '%z')"};
    for (size_t i = 0; i < sizeof free_ / sizeof free_[0]; i++) {
        rhei__route_classify(free_[i], &ctx, &info);
        if (info.side != RHEI_SIDE_OLAP)
            FAIL("%s: routed to sqlite (%s)", free_[i], info.reason);
    }
    static const char *const kept[] = {"SELECT count(*) FROM t WHERE qty LIKE '1%'",
                                       "SELECT count(*) FROM t WHERE name LIKE ?",
                                       "SELECT count(*) FROM t WHERE name LIKE name",
                                       "SELECT count(*) FROM t WHERE name LIKE 'a%' ESCAPE ?",
                                       "SELECT count(*) FROM t WHERE name LIKE X'61'",
                                       "SELECT count(*) FROM t WHERE (name) LIKE 'a%'",
                                       "SELECT count(*) FROM t WHERE 1 = name LIKE 'a%'",
                                       "SELECT count(*) FROM t WHERE name = name LIKE 'a%'",
                                       "SELECT count(*) FROM t WHERE - name LIKE 'a%'"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        rhei__route_classify(kept[i], &ctx, &info);
        if (info.side != RHEI_SIDE_OLTP ||
            strcmp(info.reason, "sqlite semantics: LIKE is ASCII case-insensitive") != 0)
            FAIL("%s: routed %d (%s)", kept[i], (int)info.side, info.reason);
    }
}

static void expect_olap_text(const char *sql, const char *want)
{
    char *got = NULL;
    CHECK_INT(rhei__route_olap_text(sql, &got), RHEI_OK);
    if (!want ? got != NULL : !got || strcmp(got, want) != 0)
        FAIL("%s: rewritten as '%s', want '%s'", sql, got ? got : "(unchanged)",
             want ? want : "(unchanged)");
    free(got);
}

/* The DuckDB text of a read: each LIKE with a literal pattern as SIMILAR TO an RE2 expression
 * (ASCII letters either case, % and _ wildcards, RE2's metacharacters escaped, ESCAPE
 * honoured); LIKE inside strings, comments and names, and other patterns untouched. */
TEST(olap_text_rewrites_like)
{
    expect_olap_text("SELECT 1", NULL);
    expect_olap_text("SELECT count(*) FROM t WHERE s LIKE 'a%'",
                     "SELECT count(*) FROM t WHERE s SIMILAR TO '(?s)[Aa].*'");
    expect_olap_text("SELECT s not like 'x_1' FROM t",
                     "SELECT s not SIMILAR TO '(?s)[Xx].1' FROM t");
    expect_olap_text("SELECT s LIKE 'a.b(c)+[d]*?{e}|^$\\' FROM t",
                     "SELECT s SIMILAR TO '(?s)[Aa]\\.[Bb]\\([Cc]\\)\\+\\[[Dd]\\]\\*\\?\\{[Ee]\\}"
                     "\\|\\^\\$\\\\' FROM t");
    expect_olap_text("SELECT s LIKE 'it''s %' FROM t",
                     "SELECT s SIMILAR TO '(?s)[Ii][Tt]''[Ss] .*' FROM t");
    expect_olap_text("SELECT s LIKE 'Ä_日%' FROM t", "SELECT s SIMILAR TO '(?s)Ä.日.*' FROM t");
    expect_olap_text("SELECT s LIKE 'a!%b!_!!' ESCAPE '!' FROM t",
                     "SELECT s SIMILAR TO '(?s)[Aa]%[Bb]_!' FROM t");
    expect_olap_text("SELECT s LIKE 'a!' ESCAPE '!' FROM t",
                     "SELECT s SIMILAR TO '(?s)[Aa][^\\x00-\\x{10FFFF}]' FROM t");
    /* An escaped character cut short by the pattern's end (a lone UTF-8 lead byte): its one
     * byte, nothing read past the pattern (make fuzz found the overread). */
    expect_olap_text("SELECT s LIKE 'a!\xC3' ESCAPE '!' FROM t",
                     "SELECT s SIMILAR TO '(?s)[Aa]\xC3' FROM t");
    expect_olap_text("SELECT 'x LIKE y', s LIKE ? /* LIKE 'a' */ FROM t", NULL);
    expect_olap_text("SELECT like('a%', s), t.like FROM t", NULL);
    expect_olap_text("SELECT s LIKE 'a%' ESCAPE s FROM t", NULL);
    expect_olap_text("SELECT a LIKE 'x', b LIKE 'Y' FROM t",
                     "SELECT a SIMILAR TO '(?s)[Xx]', b SIMILAR TO '(?s)[Yy]' FROM t");
}
