/* reader.c — reading the change log and table snapshots for the sync: a cursor over log
 * events, and the conversion of SQLite values into the canonical form of each column type
 * (the contract of batch.h). A value that does not fit its column is RHEI_TYPE, never a
 * silent NULL. */
#include "cdc.h"
#include "buf.h"
#include "mem.h"
#include "value.h"
#include <sqlite3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

struct rhei__cdc_cursor {
    rhei__conn *conn;
    sqlite3_stmt *st;
    int64_t seq;
};

int rhei__cdc_cursor_open(rhei__conn *c, int64_t after, int64_t upto, rhei__cdc_cursor **out,
                          rhei__err *e)
{
    *out = NULL;
    rhei__cdc_cursor *cur = rhei__calloc(1, sizeof *cur);
    if (!cur)
        return rhei__err_nomem(e);
    int rc = rhei__conn_prepare(c, "SELECT * FROM _rhei_log WHERE seq > ?1 AND seq <= ?2"
                                   " ORDER BY seq", &cur->st, e);
    if (rc) {
        rhei__free(cur);
        return rc;
    }
    sqlite3_bind_int64(cur->st, 1, after);
    sqlite3_bind_int64(cur->st, 2, upto);
    cur->conn = c;
    *out = cur;
    return RHEI_OK;
}

int rhei__cdc_cursor_next(rhei__cdc_cursor *cur, rhei__cdc_event_row *ev, rhei__err *e)
{
    int src = sqlite3_step(cur->st);
    if (src == SQLITE_DONE)
        return 0;
    if (src != SQLITE_ROW)
        return -rhei__oltp_error(rhei__conn_db(cur->conn), src, e);
    ev->seq = cur->seq = sqlite3_column_int64(cur->st, 0);
    ev->tid = sqlite3_column_int64(cur->st, 1);
    ev->op = sqlite3_column_int(cur->st, 2);
    ev->ts = sqlite3_column_int64(cur->st, 3);
    return 1;
}

void rhei__cdc_cursor_close(rhei__cdc_cursor *cur)
{
    if (!cur)
        return;
    sqlite3_reset(cur->st); /* owned by the statement cache */
    rhei__free(cur);
}

static int decode_error(sqlite3_stmt *st, int i, const rhei__table *t, size_t col, int64_t seq,
                        int rc, rhei__err *e)
{
    if (rc == RHEI_NOMEM)
        return rhei__err_nomem(e);
    const char *txt = (const char *)sqlite3_column_text(st, i);
    char where[64] = "";
    if (seq)
        snprintf(where, sizeof where, " at change %lld", (long long)seq);
    return rhei__err_set(e, RHEI_TYPE, "type mismatch in table '%s'%s: %s value '%.64s' does"
                         " not fit column '%s' %s", t->name, where,
                         sqlite3_column_decltype(st, i) ? "" : "stored",
                         txt ? txt : "", t->cols[col].name,
                         t->cols[col].decl[0] ? t->cols[col].decl : rhei_type_name(t->cols[col].type));
}

int rhei__cdc_cursor_values(rhei__cdc_cursor *cur, const rhei__table *t, rhei__batch *b,
                            rhei_value *row, rhei__err *e)
{
    int have = sqlite3_column_count(cur->st) - 4;
    for (size_t c = 0; c < t->ncols; c++) {
        if ((int)c >= have)
            return rhei__err_set(e, RHEI_CORRUPT, "change log is narrower than table '%s'",
                                 t->name);
        int rc = rhei__oltp_decode(cur->st, 4 + (int)c, &t->cols[c], b, &row[c]);
        if (rc)
            return decode_error(cur->st, 4 + (int)c, t, c, cur->seq, rc, e);
    }
    return RHEI_OK;
}

int rhei__cdc_copy_table(rhei__conn *c, const rhei__table *t, size_t chunk, rhei__cdc_copy_fn fn,
                         void *ud, rhei__err *e)
{
    rhei__buf sql = RHEI__BUF_INIT;
    sqlite3_stmt *st = NULL;
    rhei__batch b;
    rhei__batch_init(&b, t);
    rhei__buf_puts(&sql, "SELECT ");
    for (size_t i = 0; i < t->ncols; i++) {
        rhei__buf_puts(&sql, i ? ", " : "");
        rhei__buf_sqlite_ident(&sql, t->cols[i].name);
    }
    rhei__buf_puts(&sql, " FROM ");
    rhei__buf_sqlite_ident(&sql, t->name);
    int rc = rhei__buf_check(&sql, e);
    int src = SQLITE_OK;
    if (rc == RHEI_OK && (src = sqlite3_prepare_v2(rhei__conn_db(c), rhei__buf_str(&sql), -1,
                                                   &st, NULL)) != SQLITE_OK)
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    while (rc == RHEI_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        rhei_value *row = rhei__batch_add_raw(&b, 0, 0, RHEI__OP_INSERT); /* all decoded */
        if (!row) {
            rc = rhei__err_nomem(e);
            break;
        }
        for (size_t i = 0; i < t->ncols && rc == RHEI_OK; i++) {
            int drc = rhei__oltp_decode(st, (int)i, &t->cols[i], &b, &row[i]);
            if (drc)
                rc = decode_error(st, (int)i, t, i, 0, drc, e);
        }
        if (rc == RHEI_OK && b.nrows >= chunk) {
            rc = fn(ud, &b, e);
            rhei__batch_reset(&b, t);
        }
    }
    if (rc == RHEI_OK && src != SQLITE_DONE)
        rc = rhei__oltp_error(rhei__conn_db(c), src, e);
    if (rc == RHEI_OK && b.nrows > 0)
        rc = fn(ud, &b, e);
    sqlite3_finalize(st);
    rhei__batch_free(&b);
    rhei__buf_free(&sql);
    return rc;
}

int rhei__cdc_column_default(rhei__conn *c, const rhei__table *t, size_t col, rhei__batch *b,
                             rhei_value *out, rhei__err *e)
{
    sqlite3_stmt *st = NULL, *ev = NULL;
    rhei__buf sql = RHEI__BUF_INIT;
    out->type = RHEI_TYPE_NULL;
    int rc = rhei__conn_prepare(c, "SELECT dflt_value FROM pragma_table_info(?1) WHERE"
                                   " name = ?2", &st, e);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->cols[col].name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        /* SQLite only allows constant defaults on ADD COLUMN: evaluating one is safe. */
        rhei__buf_printf(&sql, "SELECT %s", (const char *)sqlite3_column_text(st, 0));
        rc = rhei__buf_check(&sql, e);
        int src = rc ? SQLITE_OK : sqlite3_prepare_v2(rhei__conn_db(c), rhei__buf_str(&sql), -1,
                                                      &ev, NULL);
        if (rc == RHEI_OK && src != SQLITE_OK)
            rc = rhei__oltp_error(rhei__conn_db(c), src, e);
        if (rc == RHEI_OK && sqlite3_step(ev) == SQLITE_ROW &&
            rhei__oltp_decode(ev, 0, &t->cols[col], b, out) != RHEI_OK)
            rc = rhei__err_set(e, RHEI_TYPE, "default of column '%s' does not fit %s",
                               t->cols[col].name, t->cols[col].decl);
    }
    sqlite3_finalize(ev);
    sqlite3_reset(st);
    rhei__buf_free(&sql);
    return rc;
}
