/* test_same_answer.c — routing never changes the answer. The hand-written corpus
 * (same_answer.corpus, one named case a line) and a seeded generator of SELECTs run each query
 * with hint OLTP and hint OLAP: inside the contract (src/route/README.md) names, declared
 * types, types and values must be equal; a query the router keeps on SQLite for a semantic
 * reason must say which. An auto-routed OLAP query must be answered by DuckDB itself. */
#include "route/same_answer.h"
#include <stdarg.h>
#include <strings.h>
#include <string.h>
#include <time.h>

static rhei_db *sa_open(char *dir, size_t n)
{
    rt_tmpdir(dir, n);
    rhei_db *db = th_open(dir, (th_opts){0});
    sa_schema(db, 0x5a17e5eedULL);
    return db;
}

static void sa_close(rhei_db *db, const char *dir)
{
    char cmd[128];
    CHECK_OK(db, rhei_close(db));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Runs sql with hint side; NULL (and the message in err) if that side refuses it. */
static rhei_result *sa_run(rhei_db *db, const char *sql, rhei_side side, char *err, size_t n)
{
    rhei_result *r = NULL;
    if (rhei_query_with_hint(db, sql, side, &r) != RHEI_OK) {
        snprintf(err, n, "%s", rhei_errmsg(db));
        return NULL;
    }
    return r;
}

/* DuckDB failed on values (INTEGER overflow SQLite turns into REAL, text it converts
 * differently): only the data decides these, so SQLite answers after the fact. */
static int value_failure(const char *err)
{
    return strstr(err, "Out of Range Error") || strstr(err, "Conversion Error");
}

typedef struct sa_stats {
    int compared, outside, oltp_only_error, olap_routed;
} sa_stats;

/* Checks one query; returns 0 with a message in why on a broken promise. */
static int sa_check(rhei_db *db, const char *sql, sa_stats *st, char *why, size_t n)
{
    rhei_route_info ri;
    char ea[512] = "", eb[512] = "";
    CHECK_OK(db, rhei_explain_route(db, sql, &ri));
    if (sa_outside(ri.reason)) {
        st->outside++;
        return 1;
    }
    rhei_result *a = sa_run(db, sql, RHEI_SIDE_OLTP, ea, sizeof ea);
    rhei_result *b = sa_run(db, sql, RHEI_SIDE_OLAP, eb, sizeof eb);
    int ok = 1;
    if (a && b) {
        st->compared++;
        ok = sa_equal(sql, a, b, why, n);
    } else if (a && ri.side == RHEI_SIDE_OLAP && !value_failure(eb)) {
        snprintf(why, n, "routed to olap (%s) but olap fails: %s", ri.reason, eb);
        ok = 0;
    } else if (!a) {
        st->oltp_only_error++; /* SQLite refuses it (overflow, ...): nothing to compare */
    }
    if (ok && a && b && ri.side == RHEI_SIDE_OLAP) { /* auto must be served by DuckDB itself */
        rhei_result *r = NULL;
        st->olap_routed++;
        CHECK_OK(db, rhei_query(db, sql, NULL, 0, &r));
        if (rhei_result_side(r) != RHEI_SIDE_OLAP) {
            snprintf(why, n, "auto routed to olap (%s) but served by oltp (%s)", ri.reason,
                     rhei_result_reason(r));
            ok = 0;
        }
        rhei_result_free(r);
    }
    rhei_result_free(a);
    rhei_result_free(b);
    return ok;
}

/* ---- the corpus ------------------------------------------------------------------------ */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Line format: name | expect | sql (fields separated by " | "). expect is "same" (inside the contract: equal answers),
 * "olap" (also auto-routed to DuckDB), or "oltp: <reason>" (kept on SQLite for that reason). */
TEST(corpus)
{
    char dir[64], path[512], line[4096], why[1024];
    const char *src = getenv("RHEI_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/route/same_answer.corpus", src ? src : "..");
    FILE *f = fopen(path, "r");
    if (!f)
        FAIL("cannot open %s", path);
    rhei_db *db = sa_open(dir, sizeof dir);
    sa_stats st = {0};
    int cases = 0, failed = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = trim(line), *bar1, *bar2;
        if (!*p || *p == '#')
            continue;
        if (!(bar1 = strstr(p, " | ")) || !(bar2 = strstr(bar1 + 3, " | ")))
            FAIL("%s:%d: want name | expect | sql", path, lineno);
        *bar1 = *bar2 = '\0';
        char *name = trim(p), *expect = trim(bar1 + 3), *sql = trim(bar2 + 3);
        rhei_route_info ri;
        cases++;
        CHECK_OK(db, rhei_explain_route(db, sql, &ri));
        why[0] = '\0';
        if (strncmp(expect, "oltp:", 5) == 0) {
            const char *want = trim(expect + 5);
            if (ri.side != RHEI_SIDE_OLTP || strcmp(ri.reason, want) != 0)
                snprintf(why, sizeof why, "routed %s '%s', want oltp '%s'",
                         ri.side == RHEI_SIDE_OLAP ? "olap" : "oltp", ri.reason, want);
        } else if (strcmp(expect, "olap") == 0 && ri.side != RHEI_SIDE_OLAP) {
            snprintf(why, sizeof why, "routed oltp '%s', want olap", ri.reason);
        } else if (strcmp(expect, "olap") != 0 && strcmp(expect, "same") != 0) {
            FAIL("%s:%d: unknown expectation '%s'", path, lineno, expect);
        }
        if (!why[0] && strncmp(expect, "oltp:", 5) != 0 && sa_outside(ri.reason))
            snprintf(why, sizeof why, "kept on sqlite '%s', want it inside the contract",
                     ri.reason);
        if (!why[0] && !sa_check(db, sql, &st, why, sizeof why) && !why[0])
            snprintf(why, sizeof why, "differs");
        if (why[0]) {
            fprintf(stderr, "case '%s' (line %d): %s\n  %s\n", name, lineno, why, sql);
            failed++;
        }
    }
    fclose(f);
    fprintf(stderr, "%d cases: %d compared, %d kept on sqlite, %d auto-routed to olap\n", cases,
            st.compared, st.outside, st.olap_routed);
    sa_close(db, dir);
    CHECK_INT(failed, 0);
    CHECK(cases >= 300);
}

/* ---- the generator --------------------------------------------------------------------- */

typedef struct gen {
    uint64_t s;
    char *p, *end;
    /* Values that are deduplicated (DISTINCT, UNION) or summed after a CTE use only
     * columns whose values REAL holds exactly (not d: 0.001 steps; not big: past 2^53).
     * SQLite computes d and big arithmetic in REAL, DuckDB in exact DECIMAL: `d - (i + d)`
     * is -i on one side and -i plus a rounding error on the other, so near-equal values
     * merge on one side only and sums cancel differently (outside the contract,
     * src/route/README.md). */
    int exact;
} gen;

static unsigned pick(gen *g, unsigned n) { return (unsigned)(th_rand(&g->s) % n); }

static void put(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->p, (size_t)(g->end - g->p), fmt, ap);
    va_end(ap);
    if (n > 0 && n < g->end - g->p)
        g->p += n;
}

static const char *const num_cols[] = {"i", "g", "r", "d", "id", "big"};
static const char *const exact_cols[] = {"i", "g", "r", "id"}; /* r: multiples of 1/64 */
static const char *const any_cols[] = {"i", "g", "r", "d", "id", "s", "dt", "ts", "b", "f"};
#define COUNT(a) (sizeof a / sizeof a[0])

static void gen_cond(gen *g, int depth);

static void gen_lit(gen *g)
{
    static const char *const lits[] = {"0", "1", "2", "-3", "7", "1.5", "-0.25", "100", "NULL",
                                       "2.0", "1e2"};
    put(g, "%s", lits[pick(g, COUNT(lits))]);
}

/* A numeric expression (big only where it cannot overflow: compared, not computed). */
static void gen_num(gen *g, int depth)
{
    unsigned k = depth > 2 ? pick(g, 2) : pick(g, 13);
    static const char *const ops[] = {"+", "-", "*", "/"};
    switch (k) {
    case 0: /* not big */
        put(g, "%s", g->exact ? exact_cols[pick(g, COUNT(exact_cols))] : num_cols[pick(g, 5)]);
        break;
    case 1: gen_lit(g); break;
    case 2: case 3: case 4:
        put(g, "(");
        gen_num(g, depth + 1);
        put(g, " %s ", ops[pick(g, 4)]);
        gen_num(g, depth + 1);
        put(g, ")");
        break;
    case 5: put(g, "-"); gen_num(g, depth + 1); break;
    case 6:
        put(g, "CASE WHEN ");
        gen_cond(g, depth + 1);
        put(g, " THEN ");
        gen_num(g, depth + 1);
        put(g, " ELSE ");
        gen_num(g, depth + 1);
        put(g, " END");
        break;
    case 7: put(g, "coalesce("); gen_num(g, depth + 1); put(g, ", "); gen_num(g, depth + 1);
        put(g, ")"); break;
    case 8: put(g, "nullif("); gen_num(g, depth + 1); put(g, ", "); gen_lit(g); put(g, ")");
        break;
    case 9: put(g, "abs("); gen_num(g, depth + 1); put(g, ")"); break;
    case 11: { /* a product with a REAL literal factor divides a REAL on both sides */
        static const char *const reals[] = {"1.5", "100.0", "2.0", "1e2", "-0.25"};
        put(g, "(%s * ", reals[pick(g, COUNT(reals))]);
        gen_num(g, depth + 1);
        put(g, " / ");
        gen_num(g, depth + 1);
        put(g, ")");
        break;
    }
    case 10: { /* outside the contract: the router must keep these on SQLite */
        static const char *const odd[] = {"CAST(r AS INTEGER)", "i % 3", "length(s)",
                                          "lower(s)", "(s || 'x')", "typeof(i)", "round(r, 1)",
                                          "iif(i > 0, 1, 2)", "total(i)", "i & 1"};
        put(g, "%s", odd[pick(g, COUNT(odd))]);
        break;
    }
    default:
        put(g, "%s",
            g->exact ? exact_cols[pick(g, COUNT(exact_cols))] : num_cols[pick(g, COUNT(num_cols))]);
        break;
    }
}

/* LIKE: SQLite's LIKE folds ASCII letters only, so on DuckDB it runs rewritten to SIMILAR TO
 * an RE2 expression (src/route/rewrite.c). Patterns with RE2's metacharacters, wildcards
 * escaped or not, non-ASCII letters of both cases; operands TEXT (rewritten, DuckDB may
 * serve) and not (SQLite keeps them). */
static void gen_like(gen *g)
{
    static const char *const pats[] = {"'a%'",
                                       "'A%'",
                                       "'%b%'",
                                       "'_pple'",
                                       "'ä%'",
                                       "'Ä%'",
                                       "'%E%'",
                                       "'a_b'",
                                       "'a!_b' ESCAPE '!'",
                                       "'%!%%' ESCAPE '!'",
                                       "''",
                                       "'%'",
                                       "'_'",
                                       "'__'",
                                       "'日%'",
                                       "'%.%'",
                                       "'(%'",
                                       "'a+%'",
                                       "'[a]%'",
                                       "' x %'",
                                       "'%^$%'",
                                       "'APPLE'",
                                       "'a\\%'",
                                       "'%l_n'",
                                       "'É%'",
                                       "'%ï%'",
                                       "'a%b' ESCAPE 'a'",
                                       "'%' ESCAPE '%'",
                                       "'ab%' ESCAPE 'b'",
                                       "'z%' ESCAPE 'Z'",
                                       "'%|%'",
                                       "'*%'",
                                       "'?'"};
    static const char *const ops[] = {"s", "u.s", "s", "i", "dt", "(s)"};
    put(g, "%s %sLIKE %s", ops[pick(g, COUNT(ops))], pick(g, 3) ? "" : "NOT ",
        pats[pick(g, COUNT(pats))]);
}

static void gen_cond_body(gen *g, int depth)
{
    static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">=", "==", "!="};
    static const char *const text[] = {"'apple'", "'Apple'", "'b'", "'é'", "''", "'Zebra'"};
    unsigned k = depth > 2 ? pick(g, 3) : pick(g, 11);
    switch (k) {
    case 0: gen_num(g, depth + 1); put(g, " %s ", cmp[pick(g, 8)]); gen_num(g, depth + 1); break;
    case 10:
        gen_like(g);
        break;
    case 1: put(g, "s %s %s", cmp[pick(g, 8)], text[pick(g, COUNT(text))]); break;
    case 2: put(g, "%s IS %sNULL", any_cols[pick(g, COUNT(any_cols))], pick(g, 2) ? "NOT " : "");
        break;
    case 3: gen_num(g, depth + 1); put(g, " BETWEEN "); gen_lit(g); put(g, " AND "); gen_lit(g);
        break;
    case 4: put(g, "%s IN (1, 2, %s)", num_cols[pick(g, 4)], pick(g, 2) ? "NULL" : "3"); break;
    case 5: put(g, "NOT ("); gen_cond(g, depth + 1); put(g, ")"); break;
    case 6: case 7:
        put(g, "(");
        gen_cond(g, depth + 1);
        put(g, pick(g, 2) ? " AND " : " OR ");
        gen_cond(g, depth + 1);
        put(g, ")");
        break;
    case 8: put(g, "dt %s '2024-01-01'", cmp[pick(g, 6)]); break;
    default: put(g, "ts %s '2024-01-01 12:00:00'", cmp[pick(g, 6)]); break;
    }
}

/* A condition compares only values REAL holds exactly: `(r / g) + big > big` is true on
 * SQLite (it compares a REAL with an INTEGER exactly) and false on DuckDB (it compares them as
 * DOUBLE), the not-guaranteed class of integers beyond 2^53 mixed with REAL. */
static void gen_cond(gen *g, int depth)
{
    int was = g->exact;
    g->exact = 1;
    gen_cond_body(g, depth);
    g->exact = was;
}

static void gen_where(gen *g)
{
    if (pick(g, 2)) {
        put(g, " WHERE ");
        gen_cond(g, 0);
    }
}

static void gen_agg(gen *g)
{
    static const char *const aggs[] = {"count", "sum", "avg", "min", "max"};
    unsigned k = pick(g, 7);
    if (k == 5)
        put(g, "count(*)");
    else if (k == 6)
        put(g, "%s(%s)", pick(g, 2) ? "min" : "max", any_cols[pick(g, COUNT(any_cols))]);
    else {
        put(g, "%s(", aggs[k]);
        gen_num(g, 3); /* not big: SQLite sums near 2^63 in doubles, past the 1e-12 bound */
        put(g, ")");
    }
}

/* One SELECT; every ORDER BY ends in a full key, so row order is determined. */
static void gen_query(gen *g)
{
    static const char *const keys[] = {"g", "f", "dt", "s", "coalesce(g, -1)", "i / 7", "d > 0"};
    static const char *const wins[] = {"row_number()", "rank()", "dense_rank()", "lag(i)",
                                       "lead(r, 1, 0)", "sum(i)", "avg(d)", "count(*)",
                                       "first_value(s)", "ntile(3)", "max(dt)"};
    const char *key = keys[pick(g, COUNT(keys))];
    switch (pick(g, 10)) {
    case 0: case 1:
        put(g, "SELECT id, ");
        gen_num(g, 0);
        put(g, ", ");
        gen_num(g, 1);
        put(g, " FROM u");
        gen_where(g);
        put(g, " ORDER BY id%s", pick(g, 2) ? " DESC" : "");
        break;
    case 2:
        put(g, "SELECT %s AS k, ", key);
        gen_agg(g);
        put(g, ", count(*) FROM u");
        gen_where(g);
        put(g, " GROUP BY 1");
        if (pick(g, 3) == 0)
            put(g, " HAVING count(*) > %u", pick(g, 60));
        put(g, " ORDER BY 1%s", pick(g, 2) ? " DESC" : "");
        break;
    case 3:
        put(g, "SELECT ");
        gen_agg(g);
        put(g, ", ");
        gen_agg(g);
        put(g, " FROM u");
        gen_where(g);
        break;
    case 4:
        put(g, "SELECT DISTINCT ");
        g->exact = 1;
        gen_num(g, 1);
        put(g, " FROM u");
        gen_where(g);
        put(g, " ORDER BY 1");
        break;
    case 5:
        put(g, "SELECT id, %s OVER (PARTITION BY %s ORDER BY %s id) FROM u ORDER BY id",
            wins[pick(g, COUNT(wins))], key, pick(g, 2) ? "i," : "");
        break;
    case 6:
        put(g, "SELECT u.id, c.k1, c.v, ");
        gen_num(g, 1);
        put(g, " FROM u %sJOIN c ON u.id = c.k2", pick(g, 2) ? "LEFT " : "");
        gen_where(g);
        put(g, " ORDER BY u.id, c.k1, c.k2");
        break;
    case 7:
        put(g, "SELECT id, ");
        gen_num(g, 1);
        put(g, " FROM u WHERE i %sIN (SELECT a FROM t WHERE a IS NOT NULL) ORDER BY id",
            pick(g, 2) ? "NOT " : "");
        break;
    case 8:
        put(g, "WITH x AS (SELECT id, %s AS k, ", key);
        g->exact = 1;
        gen_num(g, 1);
        put(g, " AS v FROM u");
        gen_where(g);
        put(g, ") SELECT k, count(*), sum(v) FROM x GROUP BY k ORDER BY k");
        break;
    default:
        put(g, "SELECT ");
        g->exact = 1;
        gen_num(g, 1);
        put(g, " FROM u");
        gen_where(g);
        put(g, " UNION%s SELECT a FROM t ORDER BY 1", pick(g, 2) ? " ALL" : "");
        if (pick(g, 2))
            put(g, " LIMIT %u OFFSET %u", 1 + pick(g, 20), pick(g, 5));
        break;
    }
}

/* Generated queries within a time bound. CI runs a fixed seed for 2,000 queries, so a failure
 * is a regression, not a new find; RHEI_SAME_ANSWER_SEED=<n> replays a run and
 * RHEI_SAME_ANSWER_SEED=random explores (20,000 queries or 25 s). What it found and how it
 * was closed: src/route/README.md (same answer: kept on SQLite, not guaranteed). */
TEST(generated)
{
    char dir[64], sql[4096], why[1024];
    const char *env = getenv("RHEI_SAME_ANSWER_SEED");
    int explore = env && strcmp(env, "random") == 0;
    uint64_t seed = explore ? (uint64_t)time(NULL) * 2654435761u | 1
                    : env   ? strtoull(env, NULL, 0)
                            : 4768915681141918293ULL;
    int limit = env ? 20000 : 2000;
    rhei_db *db = sa_open(dir, sizeof dir);
    sa_stats st = {0};
    sa_numeric_class = 1;
    time_t start = time(NULL);
    int n = 0, failed = 0;
    for (; n < limit && time(NULL) - start < 25 && failed < 10; n++) {
        gen g = {seed + (uint64_t)n * 0x9e3779b97f4a7c15ULL, sql, sql + sizeof sql, 0};
        th_rand(&g.s);
        gen_query(&g);
        why[0] = '\0';
        if (!sa_check(db, sql, &st, why, sizeof why)) {
            fprintf(stderr, "query %d of seed %llu: %s\n  %s\n", n, (unsigned long long)seed,
                    why, sql);
            failed++;
        }
    }
    fprintf(stderr, "seed %llu: %d queries, %d compared, %d kept on sqlite, %d sqlite-only "
            "errors, %d auto-routed to olap\n", (unsigned long long)seed, n, st.compared,
            st.outside, st.oltp_only_error, st.olap_routed);
    sa_close(db, dir);
    if (failed)
        FAIL("%d generated queries broke the promise; replay with RHEI_SAME_ANSWER_SEED=%llu",
             failed, (unsigned long long)seed);
    CHECK(n >= 100); /* thousands on an idle machine; the time bound keeps CI bounded */
}
