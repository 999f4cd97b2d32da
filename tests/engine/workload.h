/* workload.h — a seeded random OLTP workload over three tables (single and composite keys,
 * every replicated type, NULLs, key changes, REPLACE, multi-row and multi-table transactions,
 * rolled-back batches). Same seed, same statements. */
#ifndef RHEI_TEST_WORKLOAD_H
#define RHEI_TEST_WORKLOAD_H
#include "helpers.h"

#define WL_KEYS 600

static inline void wl_schema(rhei_db *db)
{
    th_exec(db, "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL,"
                " note TEXT)");
    th_exec(db, "CREATE TABLE b (k1 INTEGER, k2 TEXT, val DECIMAL(12,2), flag BOOLEAN,"
                " PRIMARY KEY (k1, k2))");
    th_exec(db, "CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER, d DATE, ts TIMESTAMP,"
                " payload BLOB)");
    CHECK_OK(db, rhei_register_table(db, "a", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "b", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "c", NULL, 0, NULL, 0));
}

static inline const char *wl_maybe_null(uint64_t *s, const char *v)
{
    return th_rand(s) % 7 == 0 ? "NULL" : v;
}

/* One statement text for a random operation on a random table. */
static inline void wl_statement(uint64_t *s, char *out, size_t n)
{
    unsigned k = (unsigned)(th_rand(s) % WL_KEYS) + 1, k2 = (unsigned)(th_rand(s) % WL_KEYS) + 1;
    unsigned op = (unsigned)(th_rand(s) % 100), tbl = (unsigned)(th_rand(s) % 3);
    char v1[64], v2[64], v3[64];
    snprintf(v1, sizeof v1, "'n%u'", (unsigned)(th_rand(s) % 1000));
    snprintf(v2, sizeof v2, "%d", (int)(th_rand(s) % 2001) - 1000);
    snprintf(v3, sizeof v3, "%.3f", (double)(th_rand(s) % 100000) / 7.0);
    char v4[64]; /* DECIMAL(12,2) takes two decimals: more would be refused, not rounded */
    snprintf(v4, sizeof v4, "%.2f", (double)(th_rand(s) % 100000) / 7.0);
    if (tbl == 0) {
        if (op < 35)
            snprintf(out, n, "INSERT OR REPLACE INTO a VALUES (%u, %s, %s, %s, %s)", k,
                     wl_maybe_null(s, v1), wl_maybe_null(s, v2), wl_maybe_null(s, v3),
                     wl_maybe_null(s, "'x'"));
        else if (op < 45)
            snprintf(out, n, "INSERT OR IGNORE INTO a (id, name) VALUES (%u, %s), (%u, %s),"
                     " (%u, NULL)", k, v1, k2, v1, (k * 7) % WL_KEYS + 1);
        else if (op < 75)
            snprintf(out, n, "UPDATE a SET qty = %s, price = %s WHERE id = %u",
                     wl_maybe_null(s, v2), wl_maybe_null(s, v3), k);
        else if (op < 85)
            snprintf(out, n, "UPDATE OR IGNORE a SET id = %u WHERE id = %u", k2, k);
        else if (op < 95)
            snprintf(out, n, "DELETE FROM a WHERE id = %u", k);
        else
            snprintf(out, n, "DELETE FROM a WHERE id BETWEEN %u AND %u", k, k + 3);
    } else if (tbl == 1) {
        if (op < 45)
            snprintf(out, n, "INSERT OR REPLACE INTO b VALUES (%u, 'k%u', %s, %s)", k % 50, k2 % 20,
                     wl_maybe_null(s, v2), wl_maybe_null(s, op % 2 ? "1" : "0"));
        else if (op < 70)
            snprintf(out, n, "UPDATE b SET val = %s WHERE k1 = %u", wl_maybe_null(s, v4),
                     k % 50);
        else if (op < 85)
            snprintf(out, n, "UPDATE OR IGNORE b SET k2 = 'k%u' WHERE k1 = %u AND k2 = 'k%u'",
                     k2 % 20, k % 50, k % 20);
        else
            snprintf(out, n, "DELETE FROM b WHERE k1 = %u AND k2 = 'k%u'", k % 50, k2 % 20);
    } else {
        if (op < 50)
            snprintf(out, n, "INSERT OR REPLACE INTO c VALUES (%u, %u, %s, %s, %s)", k, k2,
                     wl_maybe_null(s, "'2026-11-22'"),
                     wl_maybe_null(s, "'2026-11-22 12:34:56.789'"),
                     wl_maybe_null(s, "x'00ff'"));
        else if (op < 80)
            snprintf(out, n, "UPDATE c SET a_id = %u, d = %s WHERE id = %u", k2,
                     wl_maybe_null(s, "'1999-12-31'"), k);
        else
            snprintf(out, n, "DELETE FROM c WHERE id = %u", k);
    }
}

/* Runs `ops` operations: mostly single statements, some multi-table transactions, some
 * batches that fail at their last statement and roll back. Calls tick every 500 ops. */
static inline void wl_run(rhei_db *db, uint64_t seed, int ops, void (*tick)(rhei_db *, int))
{
    uint64_t s = seed;
    char sql[8][256];
    for (int i = 0; i < ops;) {
        unsigned kind = (unsigned)(th_rand(&s) % 20);
        if (kind < 17) {
            wl_statement(&s, sql[0], sizeof sql[0]);
            CHECK_OK(db, rhei_execute(db, sql[0], NULL, 0, NULL));
            i++;
        } else {
            rhei_statement st[8];
            int n = 2 + (int)(th_rand(&s) % 5);
            for (int j = 0; j < n; j++) {
                wl_statement(&s, sql[j], sizeof sql[j]);
                st[j] = (rhei_statement){sql[j], NULL, 0};
            }
            if (kind == 19) { /* rollback: everything before the failure must vanish */
                st[n - 1] = (rhei_statement){"INSERT INTO no_such_table VALUES (1)", NULL, 0};
                CHECK_RC(db, rhei_execute_batch(db, st, (size_t)n, NULL), RHEI_NOTFOUND);
            } else {
                CHECK_OK(db, rhei_execute_batch(db, st, (size_t)n, NULL));
            }
            i += n;
        }
        if (tick && i % 500 < 8)
            tick(db, i);
    }
}

static inline void wl_compare(rhei_db *db)
{
    th_same(db, "SELECT * FROM a ORDER BY id");
    th_same(db, "SELECT * FROM b ORDER BY k1, k2");
    th_same(db, "SELECT * FROM c ORDER BY id");
}
#endif
