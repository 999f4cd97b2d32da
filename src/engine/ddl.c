/* ddl.c — DDL on replicated tables through rhei_execute, for every API user: ALTER TABLE
 * ADD/DROP COLUMN becomes a schema change (the caller's statement is the SQLite ALTER, with
 * the capture triggers and the schema event in the same transaction), DROP TABLE
 * unregisters in the transaction that drops, and renames are refused with the reason.
 * Everything else, and DDL on tables that are not replicated, runs as written. */
#include "engine_int.h"
#include "lex.h"
#include "mem.h"
#include <string.h>
#include <strings.h>

typedef enum ddl_kind { DDL_NONE, DDL_ADD, DDL_DROPCOL, DDL_DROP, DDL_RENAME } ddl_kind;

typedef struct ddl_stmt {
    ddl_kind kind;
    char table[RHEI_NAME_MAX];
    char column[RHEI_NAME_MAX];
} ddl_stmt;

static int word_is(const rhei__tok *t, const char *w)
{
    return t->type == RHEI__TOK_WORD && rhei__route_ci_eq(t->p, t->n, w, strlen(w));
}

/* A name token, unquoted ("x", `x`, [x], with doubled quotes) into out; 0 if it is none or
 * does not fit. */
static int name_of(const rhei__tok *t, char *out, size_t size)
{
    const char *p = t->p;
    size_t n = t->n, j = 0;
    char close = 0;
    if (t->type == RHEI__TOK_QIDENT) {
        close = p[0] == '[' ? ']' : p[0];
        if (n < 2 || p[n - 1] != close)
            return 0;
        p++;
        n -= 2;
    } else if (t->type != RHEI__TOK_WORD) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (close && close != ']' && p[i] == close && i + 1 < n && p[i + 1] == close)
            i++;
        if (j + 1 >= size || p[i] == '\0')
            return 0;
        out[j++] = p[i];
    }
    out[j] = '\0';
    return j > 0;
}

/* [schema .] name: only the main schema holds replicated tables. */
static int table_ref(rhei__lex *lx, rhei__tok *t, char *out, size_t size)
{
    rhei__tok dot;
    rhei__route_lex_peek(lx, &dot);
    if (rhei__route_tok_punct(&dot, '.')) {
        char schema[16];
        if (!name_of(t, schema, sizeof schema) || strcasecmp(schema, "main") != 0)
            return 0;
        rhei__route_lex_next(lx, &dot);
        rhei__route_lex_next(lx, t);
    }
    return name_of(t, out, size);
}

/* ALTER TABLE t ADD|DROP [COLUMN] c ... | RENAME ...;  DROP TABLE [IF EXISTS] t. */
static void classify(const char *sql, size_t n, ddl_stmt *d)
{
    rhei__lex lx;
    rhei__tok t;
    d->kind = DDL_NONE;
    rhei__route_lex_init(&lx, sql, n, RHEI__DIALECT_SQLITE);
    rhei__route_lex_next(&lx, &t);
    int alter = word_is(&t, "ALTER");
    if (!alter && !word_is(&t, "DROP"))
        return;
    rhei__route_lex_next(&lx, &t);
    if (!word_is(&t, "TABLE"))
        return;
    rhei__route_lex_next(&lx, &t);
    if (!alter && word_is(&t, "IF")) {
        rhei__route_lex_next(&lx, &t);
        if (!word_is(&t, "EXISTS"))
            return;
        rhei__route_lex_next(&lx, &t);
    }
    if (!table_ref(&lx, &t, d->table, sizeof d->table))
        return;
    if (!alter) {
        d->kind = DDL_DROP;
        return;
    }
    rhei__route_lex_next(&lx, &t);
    ddl_kind k = word_is(&t, "ADD") ? DDL_ADD : word_is(&t, "DROP") ? DDL_DROPCOL
               : word_is(&t, "RENAME") ? DDL_RENAME : DDL_NONE;
    if (k == DDL_ADD || k == DDL_DROPCOL) {
        rhei__route_lex_next(&lx, &t);
        if (word_is(&t, "COLUMN"))
            rhei__route_lex_next(&lx, &t);
        if (!name_of(&t, d->column, sizeof d->column))
            return;
    }
    d->kind = k;
}

static int is_replicated(rhei_db *db, const char *table)
{
    rhei__err ignored;
    int hit = 0;
    if (rhei__engine_refresh_names(db, &ignored) != RHEI_OK)
        return 1; /* unknown: let the catalog decide inside the transaction */
    /* A failed table is still replicated (its DDL must be captured so the resync finds it),
     * only a detached one is SQLite's alone; the list holds both after the healthy ones. */
    pthread_mutex_lock(&db->names_mu);
    for (size_t i = 0; i < db->nnames + db->ndetached && !hit; i++)
        hit = strcasecmp(db->names[i], table) == 0;
    pthread_mutex_unlock(&db->names_mu);
    return hit && !rhei__sync_detached(db->sync, table, NULL, 0);
}

/* Runs one DDL statement on a replicated table; then applies it to OLAP. */
static int run_ddl(rhei_db *db, const ddl_stmt *d, const char *stmt, rhei__err *e)
{
    if (d->kind == DDL_RENAME)
        return rhei__err_set(e, RHEI_MISUSE,
                             "cannot rename table '%s' or its columns: it is"
                             " replicated, and rhei does not follow renames; unregister it"
                             " (rhei_unregister_table, `rh unregister`), rename, then register"
                             " it again",
                             d->table);
    int replicated = 0, rc;
    rhei__conn *w = rhei__oltp_writer(db->oltp);
    if (rhei__conn_in_txn(w)) {
        rhei__oltp_writer_release(db->oltp);
        return rhei__err_set(e, RHEI_MISUSE, "cannot change replicated table '%s' inside an"
                             " open transaction: its schema change is a transaction of its"
                             " own (with the capture triggers and the change-log event);"
                             " COMMIT or ROLLBACK first", d->table);
    }
    if (d->kind == DDL_DROP)
        rc = rhei__cdc_unregister(w, d->table, 0, stmt, &replicated, e);
    else if (d->kind == DDL_ADD)
        rc = rhei__cdc_add_column(w, d->table, d->column, NULL, stmt, &replicated, e);
    else
        rc = rhei__cdc_drop_column(w, d->table, d->column, stmt, &replicated, e);
    rhei__oltp_writer_release(db->oltp);
    if (rc == RHEI_OK && replicated)
        rc = rhei__engine_catch_up(db, e);
    if (rc == RHEI_OK)
        rc = rhei__engine_refresh_names(db, e);
    return rc;
}

/* Statement boundaries of a script: a `;` ends a statement, except inside the BEGIN .. END
 * body of CREATE TRIGGER (CASE .. END nests there). *len gets the statement's length
 * without its `;`, the return value where the next statement starts. */
static size_t next_stmt(const char *sql, size_t n, size_t at, size_t *len)
{
    rhei__lex lx;
    rhei__tok t;
    int first = 1, create = 0, trigger = 0, body = 0, cases = 0;
    rhei__route_lex_init(&lx, sql + at, n - at, RHEI__DIALECT_SQLITE);
    for (;;) {
        rhei__route_lex_next(&lx, &t);
        if (t.type == RHEI__TOK_EOF) {
            *len = n - at;
            return n;
        }
        if (first)
            create = word_is(&t, "CREATE");
        first = 0;
        if (create && !body && word_is(&t, "TRIGGER"))
            trigger = 1;
        else if (trigger && !body && word_is(&t, "BEGIN"))
            body = 1;
        else if (body && word_is(&t, "CASE"))
            cases++;
        else if (body && word_is(&t, "END") && cases)
            cases--;
        else if (body && word_is(&t, "END"))
            body = 0, trigger = 0;
        else if (!body && rhei__route_tok_punct(&t, ';')) {
            *len = (size_t)(t.p - (sql + at));
            return (size_t)(t.p - sql) + 1;
        }
    }
}

/* 1 if some statement of the text starts with ALTER or DROP (the only DDL handled). */
static int may_be_ddl(const char *sql, size_t n)
{
    for (size_t at = 0, len = 0; at < n;) {
        rhei__lex lx;
        rhei__tok t;
        size_t next = next_stmt(sql, n, at, &len);
        rhei__route_lex_init(&lx, sql + at, len, RHEI__DIALECT_SQLITE);
        rhei__route_lex_next(&lx, &t);
        if (word_is(&t, "ALTER") || word_is(&t, "DROP"))
            return 1;
        at = next;
    }
    return 0;
}

/* run_ddl leaving the writer's last insert rowid as the caller's statements left it: the
 * engine's own bookkeeping rows are not the caller's inserts (rhei_execute_info). */
static int run_ddl_keep_rowid(rhei_db *db, const ddl_stmt *d, const char *sql, rhei__err *e)
{
    int64_t id = rhei__conn_last_rowid(rhei__oltp_writer(db->oltp));
    rhei__oltp_writer_release(db->oltp);
    int rc = run_ddl(db, d, sql, e);
    rhei__conn_set_last_rowid(rhei__oltp_writer(db->oltp), id);
    rhei__oltp_writer_release(db->oltp);
    return rc;
}

/* Runs a script statement by statement, the DDL ones through run_ddl. Stops at the first
 * failure, like sqlite3_exec: earlier statements stay applied. */
static int run_script(rhei_db *db, const char *sql, size_t n, int64_t *out_changes,
                      int64_t *out_rowid, rhei__err *e)
{
    int rc = RHEI_OK;
    int64_t changes = 0;
    for (size_t at = 0, len = 0; rc == RHEI_OK && at < n;) {
        size_t next = next_stmt(sql, n, at, &len);
        char *one = rhei__strndup(sql + at, len);
        ddl_stmt d;
        if (!one)
            return rhei__err_nomem(e);
        classify(one, len, &d);
        if (d.kind != DDL_NONE && is_replicated(db, d.table)) {
            rc = run_ddl_keep_rowid(db, &d, one, e);
        } else {
            int64_t its = 0;
            rhei__conn *w = rhei__oltp_writer(db->oltp);
            rc = rhei__conn_exec(w, one, NULL, 0, &its, e);
            rhei__oltp_writer_release(db->oltp);
            changes += its;
        }
        rhei__free(one);
        at = next;
    }
    if (rc == RHEI_OK && out_changes)
        *out_changes = changes;
    if (out_rowid) {
        *out_rowid = rhei__conn_last_rowid(rhei__oltp_writer(db->oltp));
        rhei__oltp_writer_release(db->oltp);
    }
    return rc;
}

int rhei__engine_ddl(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                     int64_t *out_changes, int64_t *out_rowid, rhei__err *e, int *handled)
{
    size_t n = strlen(sql);
    const char *semi = memchr(sql, ';', n);
    ddl_stmt d;
    *handled = 0;
    if (!semi || nparams) { /* one statement (parameters need one): look at its start only */
        classify(sql, n, &d);
        if (d.kind == DDL_NONE || !is_replicated(db, d.table))
            return RHEI_OK;
        (void)params;
        *handled = 1;
        if (out_changes)
            *out_changes = 0;
        int rc = run_ddl_keep_rowid(db, &d, sql, e);
        if (out_rowid) {
            *out_rowid = rhei__conn_last_rowid(rhei__oltp_writer(db->oltp));
            rhei__oltp_writer_release(db->oltp);
        }
        return rc;
    }
    if (!may_be_ddl(sql, n))
        return RHEI_OK;
    *handled = 1;
    return run_script(db, sql, n, out_changes, out_rowid, e);
}

int rhei__engine_ddl_in_batch(rhei_db *db, const char *sql, rhei__err *e)
{
    ddl_stmt d;
    classify(sql, strlen(sql), &d);
    if (d.kind == DDL_NONE || !is_replicated(db, d.table))
        return RHEI_OK;
    return rhei__err_set(e, RHEI_MISUSE, "cannot change replicated table '%s' inside"
                         " rhei_execute_batch: run its ALTER or DROP through rhei_execute",
                         d.table);
}
