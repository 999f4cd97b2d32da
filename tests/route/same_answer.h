/* same_answer.h — shared by the differential tests: the tables both sides hold, and the
 * comparison of one query's answers (column names, declared types, types, values; floats to
 * 1e-12 relative, absolute below 1; row order only under an outermost ORDER BY). */
#ifndef RHEI_TEST_SAME_ANSWER_H
#define RHEI_TEST_SAME_ANSWER_H
#include "engine/helpers.h"
#include <ctype.h>

#define SA_ROWS 240

/* t: the table of issue 10. u: every replicated type, NULLs, mixed-case and non-ASCII text,
 * integers near the 64-bit limits. c: a composite key. */
static inline void sa_schema(rhei_db *db, uint64_t seed)
{
    static const char *const words[] = {"apple", "Apple", "APPLE", "banana", "Äpfel", "äpfel",
                                        "élan", "Zebra", "zebra", "a_b", "a%b", "", " x ",
                                        "naïve", "日本", "ab", "abc", "b"};
    static const char *const dates[] = {"2024-01-01", "2023-12-31", "1999-06-15", "2024-02-29",
                                        "1970-01-01"};
    static const long long ints[] = {0, 1, -1, 2, 7, -7, 100, 9223372036854775807LL,
                                     -9223372036854775807LL - 1, 4611686018427387904LL,
                                     -4611686018427387904LL, 2147483647, -2147483648LL};
    char sql[1024];
    uint64_t s = seed;
    th_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, s TEXT, d DECIMAL(10,2))");
    th_exec(db, "INSERT INTO t VALUES (1, 7, 'Apple', 1.50), (2, NULL, 'apple', 2.25),"
                " (3, 2, NULL, NULL)");
    th_exec(db, "CREATE TABLE u (id INTEGER PRIMARY KEY, g INTEGER, i INTEGER, big INTEGER,"
                " r REAL, s TEXT, d DECIMAL(12,3), dt DATE, ts TIMESTAMP, b BLOB, f BOOLEAN)");
    th_exec(db, "CREATE TABLE c (k1 TEXT, k2 INTEGER, v REAL, PRIMARY KEY (k1, k2))");
    th_exec(db, "BEGIN");
    for (int id = 1; id <= SA_ROWS; id++) {
        char g[16], i[32], big[32], r[48], w[64], d[48], dt[32], ts[48], b[32], f[8];
#define SA_NUL(buf) (th_rand(&s) % 6 == 0 ? (void)snprintf(buf, sizeof buf, "NULL") : (void)0)
        snprintf(g, sizeof g, "%d", (int)(th_rand(&s) % 5));
        snprintf(i, sizeof i, "%d", (int)(th_rand(&s) % 41) - 20);
        snprintf(big, sizeof big, "%lld", ints[th_rand(&s) % (sizeof ints / sizeof ints[0])]);
        snprintf(r, sizeof r, "%.17g", ((double)(th_rand(&s) % 20001) - 10000) / 64.0);
        snprintf(w, sizeof w, "'%s'", words[th_rand(&s) % (sizeof words / sizeof words[0])]);
        snprintf(d, sizeof d, "%lld.%03d", (long long)(th_rand(&s) % 2001) - 1000,
                 th_rand(&s) % 8 ? (int)(th_rand(&s) % 1000) : 0); /* 1 in 8 integral */
        snprintf(dt, sizeof dt, "'%s'", dates[th_rand(&s) % 5]);
        snprintf(ts, sizeof ts, "'%s %02d:%02d:%02d'", dates[th_rand(&s) % 5],
                 (int)(th_rand(&s) % 24), (int)(th_rand(&s) % 60), (int)(th_rand(&s) % 60));
        snprintf(b, sizeof b, "X'%02x%02x'", (unsigned)(th_rand(&s) % 256),
                 (unsigned)(th_rand(&s) % 256));
        snprintf(f, sizeof f, "%d", (int)(th_rand(&s) % 2));
        SA_NUL(g); SA_NUL(i); SA_NUL(big); SA_NUL(r); SA_NUL(w); SA_NUL(d); SA_NUL(dt);
        SA_NUL(ts); SA_NUL(b); SA_NUL(f);
#undef SA_NUL
        snprintf(sql, sizeof sql, "INSERT INTO u VALUES (%d, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                 " %s)", id, g, i, big, r, w, d, dt, ts, b, f);
        th_exec(db, sql);
        if (id <= 60) {
            snprintf(sql, sizeof sql, "INSERT INTO c VALUES ('%c', %d, %s)", 'a' + id % 3,
                     id / 3, r);
            th_exec(db, sql);
        }
    }
    th_exec(db, "COMMIT");
    CHECK_OK(db, rhei_register_table(db, "t", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "u", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_register_table(db, "c", NULL, 0, NULL, 0));
    CHECK_OK(db, rhei_sync_now(db, NULL));
}

/* 1 if the outermost statement ends in ORDER BY ... (nothing after it opens and closes more
 * parentheses than it has): then row order is part of the answer. */
static inline int sa_ordered(const char *sql)
{
    const char *last = NULL;
    for (const char *p = sql; *p; p++)
        if (strncasecmp(p, "ORDER BY", 8) == 0)
            last = p;
    if (!last)
        return 0;
    int depth = 0;
    for (const char *p = last; *p; p++) {
        depth += *p == '(';
        depth -= *p == ')';
        if (depth < 0)
            return 0;
    }
    return 1;
}

/* A row's text key for comparing unordered answers (reals to 10 digits). */
static inline void sa_row_key(const rhei_result *r, size_t row, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t c = 0; c < rhei_result_column_count(r) && used + 1 < n; c++) {
        rhei_value v = rhei_result_value(r, row, c);
        int k;
        if (v.type == RHEI_TYPE_NULL)
            k = snprintf(out + used, n - used, "\x01N");
        else if (v.type == RHEI_TYPE_REAL)
            k = snprintf(out + used, n - used, "\x01R%.10g", v.f);
        else
            k = snprintf(out + used, n - used, "\x01%s", rhei_result_text(r, row, c, NULL));
        if (k < 0 || (size_t)k >= n - used)
            break;
        used += (size_t)k;
    }
}

typedef struct sa_key {
    char text[512];
    size_t row;
} sa_key;

static inline int sa_key_cmp(const void *a, const void *b)
{
    return strcmp(((const sa_key *)a)->text, ((const sa_key *)b)->text);
}

/* Row i of r in comparison order. */
static inline size_t *sa_order(const rhei_result *r, int ordered)
{
    size_t n = rhei_result_row_count(r);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    sa_key *k = malloc((n ? n : 1) * sizeof *k);
    CHECK(idx && k);
    for (size_t i = 0; i < n; i++) {
        k[i].row = i;
        if (ordered)
            k[i].text[0] = '\0';
        else
            sa_row_key(r, i, k[i].text, sizeof k[i].text);
    }
    if (!ordered)
        qsort(k, n, sizeof *k, sa_key_cmp);
    for (size_t i = 0; i < n; i++)
        idx[i] = k[i].row;
    free(k);
    return idx;
}

/* Set by the generator: an expression whose branches mix INTEGER with REAL (CASE, coalesce,
 * UNION of both) is typed per value by SQLite but per column by DuckDB; the contract promises
 * equal values there, not equal types (README, "Same answer on either side"). */
static int sa_numeric_class;

static inline int sa_num(rhei_type t) { return t == RHEI_TYPE_INTEGER || t == RHEI_TYPE_REAL; }

/* Types the contract lets differ in an expression column (README, not guaranteed): SQLite's
 * REAL for DuckDB's exact DECIMAL (sum(d)), SQLite's text for DuckDB's DATE/TIMESTAMP (max(dt));
 * with the generator also INTEGER vs REAL of branch-mixing expressions. */
static inline int sa_loose(rhei_type x, rhei_type y)
{
    if ((x == RHEI_TYPE_REAL && y == RHEI_TYPE_DECIMAL) ||
        (x == RHEI_TYPE_TEXT && (y == RHEI_TYPE_DATE || y == RHEI_TYPE_TIMESTAMP)))
        return 1;
    return sa_numeric_class && ((sa_num(x) && sa_num(y)) ||
                                (x == RHEI_TYPE_INTEGER && y == RHEI_TYPE_DECIMAL));
}

static inline int sa_cell_eq(const rhei_result *a, size_t ra, const rhei_result *b, size_t rb,
                             size_t c)
{
    rhei_value x = rhei_result_value(a, ra, c), y = rhei_result_value(b, rb, c);
    if (x.type != y.type && sa_loose(x.type, y.type)) {
        if (sa_num(x.type) || x.type == RHEI_TYPE_DECIMAL) {
            double p = rhei_result_double(a, ra, c), q = rhei_result_double(b, rb, c);
            return p == q || fabs(p - q) <= 1e-12 * fmax(1, fmax(fabs(p), fabs(q)));
        }
        char tx[64];
        snprintf(tx, sizeof tx, "%s", rhei_result_text(a, ra, c, NULL));
        return strcmp(tx, rhei_result_text(b, rb, c, NULL)) == 0;
    }
    if (x.type != y.type)
        return 0;
    switch (x.type) {
    case RHEI_TYPE_NULL: return 1;
    case RHEI_TYPE_REAL:
        return x.f == y.f || fabs(x.f - y.f) <= 1e-12 * fmax(1, fmax(fabs(x.f), fabs(y.f)));
    case RHEI_TYPE_TEXT: case RHEI_TYPE_BLOB: case RHEI_TYPE_DECIMAL:
        return x.n == y.n && (x.n == 0 || memcmp(x.s, y.s, x.n) == 0);
    default: return x.i == y.i;
    }
}

/* Compares two answers to sql; on a difference writes it to why and returns 0. */
static inline int sa_equal(const char *sql, const rhei_result *a, const rhei_result *b,
                           char *why, size_t n)
{
    size_t nc = rhei_result_column_count(a);
    if (nc != rhei_result_column_count(b))
        return snprintf(why, n, "oltp has %zu columns, olap %zu", nc,
                        rhei_result_column_count(b)), 0;
    for (size_t c = 0; c < nc; c++) {
        if (strcmp(rhei_result_column_name(a, c), rhei_result_column_name(b, c)) != 0 ||
            strcmp(rhei_result_column_decl(a, c), rhei_result_column_decl(b, c)) != 0 ||
            (rhei_result_column_type(a, c) != rhei_result_column_type(b, c) &&
             !sa_loose(rhei_result_column_type(a, c), rhei_result_column_type(b, c)) &&
             /* contract: an expression of an empty result has the serving side's type */
             !(rhei_result_row_count(a) == 0 && rhei_result_row_count(b) == 0 &&
               !rhei_result_column_decl(a, c)[0])))
            return snprintf(why, n, "column %zu: oltp '%s' %s %s, olap '%s' %s %s", c,
                            rhei_result_column_name(a, c), rhei_result_column_decl(a, c),
                            rhei_type_name(rhei_result_column_type(a, c)),
                            rhei_result_column_name(b, c), rhei_result_column_decl(b, c),
                            rhei_type_name(rhei_result_column_type(b, c))), 0;
    }
    size_t nr = rhei_result_row_count(a);
    if (nr != rhei_result_row_count(b))
        return snprintf(why, n, "oltp has %zu rows, olap %zu", nr, rhei_result_row_count(b)), 0;
    int ordered = sa_ordered(sql), ok = 1;
    size_t *ia = sa_order(a, ordered), *ib = sa_order(b, ordered);
    for (size_t i = 0; i < nr && ok; i++)
        for (size_t c = 0; c < nc && ok; c++)
            if (!sa_cell_eq(a, ia[i], b, ib[i], c)) {
                char x[128];
                const char *t = rhei_result_text(a, ia[i], c, NULL);
                snprintf(x, sizeof x, "%s", t ? t : "NULL");
                t = rhei_result_text(b, ib[i], c, NULL);
                snprintf(why, n, "row %zu column '%s': oltp %s (%s), olap %s (%s)", i,
                         rhei_result_column_name(a, c), x,
                         rhei_type_name(rhei_result_value(a, ia[i], c).type), t ? t : "NULL",
                         rhei_type_name(rhei_result_value(b, ib[i], c).type));
                ok = 0;
            }
    free(ia);
    free(ib);
    return ok;
}

/* Reasons that mean "DuckDB would answer differently": the query is outside the contract. */
static inline int sa_outside(const char *reason)
{
    return strncmp(reason, "sqlite ", 7) == 0;
}
#endif
