/* helpers.h — shared by the engine scenario tests: opening engines in temp dirs and
 * comparing a table's OLTP and OLAP contents row for row. */
#ifndef RHEI_TEST_ENGINE_HELPERS_H
#define RHEI_TEST_ENGINE_HELPERS_H
#include "test.h"
#include <math.h>

typedef struct th_opts {
    int file_olap;    /* DuckDB file next to the SQLite file instead of :memory: */
    int history;
    int interval_ms;  /* background sync, 0 = none */
    int batch_size;   /* events handed to OLAP at a time, 0 = default; small ones make the
                         sync apply on its second thread while it reads on */
} th_opts;

static inline rhei_db *th_open(const char *dir, th_opts o)
{
    char path[512];
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    CHECK_INT(rhei_config_new(&cfg), RHEI_OK);
    snprintf(path, sizeof path, "%s/oltp.db", dir);
    CHECK_INT(rhei_config_set(cfg, "oltp_path", path), RHEI_OK);
    if (o.file_olap) {
        snprintf(path, sizeof path, "%s/olap.duckdb", dir);
        CHECK_INT(rhei_config_set(cfg, "olap_path", path), RHEI_OK);
    }
    if (o.history)
        CHECK_INT(rhei_config_set(cfg, "sync_mode", "history"), RHEI_OK);
    if (o.interval_ms) {
        char v[32];
        snprintf(v, sizeof v, "%d", o.interval_ms);
        CHECK_INT(rhei_config_set(cfg, "sync_interval_ms", v), RHEI_OK);
    }
    if (o.batch_size) {
        char v[32];
        snprintf(v, sizeof v, "%d", o.batch_size);
        CHECK_INT(rhei_config_set(cfg, "batch_size", v), RHEI_OK);
    }
    int rc = rhei_open(cfg, &db);
    rhei_config_free(cfg);
    if (rc != RHEI_OK)
        FAIL("rhei_open(%s): %s", dir, rhei_errmsg(NULL));
    return db;
}

static inline void th_exec(rhei_db *db, const char *sql)
{
    int rc = rhei_execute(db, sql, NULL, 0, NULL);
    if (rc != RHEI_OK)
        FAIL("execute '%s': %s", sql, rhei_errmsg(db));
}

static inline rhei_result *th_query(rhei_db *db, const char *sql, rhei_side side)
{
    rhei_result *r = NULL;
    int rc = rhei_query_with_hint(db, sql, side, &r);
    if (rc != RHEI_OK)
        FAIL("query '%s' on %s: %s", sql, side == RHEI_SIDE_OLAP ? "olap" : "oltp",
             rhei_errmsg(db));
    return r;
}

/* Cells equal as values: numbers by value (REAL vs DECIMAL text), everything else by text. */
static inline int th_cell_eq(const rhei_result *a, const rhei_result *b, size_t i, size_t c)
{
    int na = rhei_result_is_null(a, i, c), nb = rhei_result_is_null(b, i, c);
    if (na || nb)
        return na && nb;
    rhei_value va = rhei_result_value(a, i, c), vb = rhei_result_value(b, i, c);
    /* SQLite has no BOOLEAN: its 0/1 equal DuckDB's false/true. */
    int numa = va.type == RHEI_TYPE_INTEGER || va.type == RHEI_TYPE_REAL ||
               va.type == RHEI_TYPE_DECIMAL || va.type == RHEI_TYPE_BOOLEAN;
    int numb = vb.type == RHEI_TYPE_INTEGER || vb.type == RHEI_TYPE_REAL ||
               vb.type == RHEI_TYPE_DECIMAL || vb.type == RHEI_TYPE_BOOLEAN;
    if (numa && numb) {
        double x = rhei_result_double(a, i, c), y = rhei_result_double(b, i, c);
        return fabs(x - y) <= 1e-9 * (fabs(x) + fabs(y) + 1);
    }
    size_t la, lb;
    const char *ta = rhei_result_text(a, i, c, &la);
    char copy[256]; /* text forms of non-text cells share one buffer per result */
    memcpy(copy, ta, la < sizeof copy ? la : sizeof copy);
    const char *tb = rhei_result_text(b, i, c, &lb);
    return la == lb && memcmp(copy, tb, la < sizeof copy ? la : sizeof copy) == 0;
}

/* FAILs unless `sql` (which must ORDER BY a key) gives the same rows on both sides. */
static inline void th_same(rhei_db *db, const char *sql)
{
    rhei_result *a = th_query(db, sql, RHEI_SIDE_OLTP);
    rhei_result *b = th_query(db, sql, RHEI_SIDE_OLAP);
    size_t ra = rhei_result_row_count(a), rb = rhei_result_row_count(b);
    if (ra != rb)
        FAIL("%s: oltp has %zu rows, olap %zu", sql, ra, rb);
    CHECK_INT(rhei_result_column_count(a), rhei_result_column_count(b));
    for (size_t i = 0; i < ra; i++)
        for (size_t c = 0; c < rhei_result_column_count(a); c++)
            if (!th_cell_eq(a, b, i, c)) {
                char x[128];
                const char *t = rhei_result_text(a, i, c, NULL);
                snprintf(x, sizeof x, "%s", t ? t : "NULL");
                t = rhei_result_text(b, i, c, NULL);
                FAIL("%s: row %zu column '%s': oltp %s, olap %s", sql, i,
                     rhei_result_column_name(a, c), x, t ? t : "NULL");
            }
    rhei_result_free(a);
    rhei_result_free(b);
}

static inline int64_t th_scalar(rhei_db *db, const char *sql, rhei_side side)
{
    rhei_result *r = th_query(db, sql, side);
    int64_t v = rhei_result_int64(r, 0, 0);
    rhei_result_free(r);
    return v;
}

/* Deterministic PRNG so a failing seed can be replayed. */
static inline uint64_t th_rand(uint64_t *s) { return rt_rand(s); }
#endif
