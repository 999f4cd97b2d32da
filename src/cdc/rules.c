/* rules.c — what may be registered, checked before anything is written (a refused
 * registration leaves no trace), and whether a registered table still matches its catalog
 * version after DDL rhei did not see (another process, or a raw statement). */
#include "buf.h"
#include "cdc_int.h"
#include "mem.h"
#include "names.h"
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* SQLite's default limit on a table's columns is 2000, and _rhei_log has four columns of its
 * own before one per replicated column. */
#define MAX_COLS 1996

/* 1 if a is b followed by "_history" (case-insensitively): the history-mode objects of b. */
static int is_history_of(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strlen(a) == n + 8 && strncasecmp(a, b, n) == 0 && strcasecmp(a + n, "_history") == 0;
}

int rhei__cdc_check_version(const rhei__catalog *cat, const char *table,
                            const rhei__colspec *cols, size_t n, rhei__err *e)
{
    int rc = rhei__name_check("table", table, e);
    if (rc)
        return rc;
    if (n > MAX_COLS)
        return rhei__err_set(e, RHEI_MISUSE, "table has %zu columns: at most %d can be"
                             " replicated", n, MAX_COLS);
    for (size_t i = 0; i < n; i++) {
        if ((rc = rhei__name_check("column", cols[i].name, e)) != RHEI_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (rhei__name_eq(cols[i].name, cols[j].name))
                return rhei__err_set(e, RHEI_MISUSE, "column '%s' is listed twice (names"
                                     " are case-insensitive)", cols[i].name);
    }
    for (size_t i = 0; cat && i < cat->n; i++) {
        const char *other = cat->versions[i]->name;
        if (!cat->active[i] || rhei__catalog_active(cat, other) != cat->versions[i])
            continue;
        if (is_history_of(table, other) || is_history_of(other, table))
            return rhei__err_set(e, RHEI_EXISTS, "table '%s' is registered, and history mode"
                                 " keeps '<name>_history' next to '<name>': '%s' and '%s'"
                                 " cannot both be replicated", other, table, other);
    }
    return RHEI_OK;
}

int rhei__cdc_check_key(const char *table, const char *const *pk, size_t npk, rhei__err *e)
{
    for (size_t k = 0; pk && k < npk; k++) {
        if (!pk[k])
            return rhei__err_set(e, RHEI_MISUSE, "key column %zu of table '%s' is NULL", k + 1,
                                 table);
        for (size_t j = 0; j < k; j++)
            if (rhei__name_eq(pk[k], pk[j]))
                return rhei__err_set(e, RHEI_MISUSE, "key column '%s' is listed twice", pk[k]);
    }
    return RHEI_OK;
}

/* --- a registered table against SQLite's schema ------------------------------------------ */

static int scalar_text(rhei__conn *c, const char *sql, const char *a, const char *b,
                       int64_t *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(c, sql, &st, e);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    sqlite3_reset(st);
    return rc;
}

/* Every replicated column must still exist. (A type cannot change in place: SQLite's ALTER
 * has no such form, and a rebuild drops the triggers, which is caught before this.) */
static int columns_match(rhei__conn *c, const rhei__table *t, char *why, size_t size,
                         rhei__err *e)
{
    int rc = RHEI_OK;
    for (size_t i = 0; rc == RHEI_OK && i < t->ncols && !why[0]; i++) {
        int64_t n = 0;
        rc = scalar_text(c, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2"
                            " COLLATE NOCASE", t->name, t->cols[i].name, &n, e);
        if (rc == RHEI_OK && n == 0)
            snprintf(why, size, "column '%s' of table '%s' is gone (dropped or renamed outside"
                     " rhei)", t->cols[i].name, t->name);
    }
    return rc;
}

int rhei__cdc_table_health(rhei__conn *c, const rhei__table *t, char *why, size_t size,
                           rhei__err *e)
{
    int64_t n = 0;
    why[0] = '\0';
    int rc = scalar_text(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND"
                            " name = ?1 COLLATE NOCASE", t->name, NULL, &n, e);
    if (rc)
        return rc;
    if (n == 0) {
        snprintf(why, size, "table '%s' no longer exists in sqlite (dropped or renamed"
                 " outside rhei)", t->name);
        return RHEI_OK;
    }
    /* Dropping a table drops its triggers: a table re-created or rebuilt under the same name
     * has none, and its writes are no longer captured. */
    rc = scalar_text(c, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND"
                        " tbl_name = ?1 COLLATE NOCASE AND name LIKE '\\_rhei\\_%' ESCAPE '\\'",
                     t->name, NULL, &n, e);
    if (rc)
        return rc;
    if (n < 5) {
        snprintf(why, size, "the capture triggers of table '%s' are gone (the table was"
                 " dropped, re-created or rebuilt outside rhei): its writes are not captured",
                 t->name);
        return RHEI_OK;
    }
    return columns_match(c, t, why, size, e);
}

int rhei__cdc_schema_version(rhei__conn *c, int64_t *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = rhei__conn_prepare(c, "PRAGMA schema_version", &st, e);
    if (rc)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    sqlite3_reset(st);
    return rc;
}
