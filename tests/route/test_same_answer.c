/* test_same_answer.c — routing never changes the answer. The hand-written corpus
 * (same_answer.corpus, one named case a line) and a seeded generator of SELECTs run each query
 * with hint OLTP and hint OLAP: inside the contract (src/route/README.md) names, declared
 * types, types and values must be equal; a query the router keeps on SQLite for a semantic
 * reason must say which. An auto-routed OLAP query must be answered by DuckDB itself. */
#include "route/same_answer.h"
#include <strings.h>
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
    } else if (a && ri.side == RHEI_SIDE_OLAP) {
        snprintf(why, n, "routed to olap (%s) but olap fails: %s", ri.reason, eb);
        ok = 0;
    } else if (!a) {
        st->oltp_only_error++; /* SQLite refuses it (overflow, ...): nothing to compare */
    }
    if (ok && a && ri.side == RHEI_SIDE_OLAP) { /* auto must be served by DuckDB itself */
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
