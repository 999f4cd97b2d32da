/* route.c — statement classification on top of lex.c: splits the text at ';', tells writes from
 * reads by their first words, has read_walk.c collect a read's tables and analytic features in
 * one pass over its tokens, then picks a side by the precedence written in README.md.
 * Invariant: only a statement that both readings (SQLite's and DuckDB's tokenization) find to be
 * a read can get RHEI_SIDE_OLAP. */
#include "route.h"
#include "lex.h"
#include "read_walk.h"
#include <stdatomic.h>
#include <string.h>

/* OLAP features in order of precedence: the first present names the reason. */
static const struct {
    unsigned flag;
    rhei_route_reason reason;
} olap_features[] = {
    {RHEI__READ_AGG, RHEI_ROUTE_AGGREGATE},       {RHEI__READ_GROUP, RHEI_ROUTE_GROUP_BY},
    {RHEI__READ_HAVING, RHEI_ROUTE_HAVING},       {RHEI__READ_WINDOW, RHEI_ROUTE_WINDOW},
    {RHEI__READ_DISTINCT, RHEI_ROUTE_DISTINCT},   {RHEI__READ_JOIN, RHEI_ROUTE_JOIN},
    {RHEI__READ_SUBQUERY, RHEI_ROUTE_SUBQUERY},   {RHEI__READ_CTE, RHEI_ROUTE_CTE},
    {RHEI__READ_SETOP, RHEI_ROUTE_SET_OPERATION},
};

enum { K_EMPTY, K_READ, K_WRITE };
typedef struct rt_stmt {
    int kind;
    rhei_side side;
    rhei_route_reason reason;
    int olap_only; /* the table callback named a table only OLAP has */
    char table[RHEI__ROUTE_TABLE_CAP];
} rt_stmt;

/* --- the decision on a walked read ------------------------------------------------------- */

/* Rules on whether DuckDB can serve the read at all; 1 if one of them keeps it on SQLite. */
static int read_must_stay(const rhei__route_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    if (rd->flags & RHEI__READ_EXPLAIN_QP) {
        st->reason = RHEI_ROUTE_EXPLAIN_QUERY_PLAN; /* SQLite syntax */
        return 1;
    }
    for (int i = 0; i < rd->ntables; i++) {
        int known = ctx && ctx->is_replicated
                        ? ctx->is_replicated(ctx->ud, rd->tables[i], rd->tlen[i])
                        : RHEI__ROUTE_TABLE_LOCAL;
        if (known == RHEI__ROUTE_TABLE_LOCAL || known == RHEI__ROUTE_TABLE_BEHIND) {
            st->reason = known == RHEI__ROUTE_TABLE_LOCAL ? RHEI_ROUTE_NOT_REPLICATED
                                                          : RHEI_ROUTE_TABLE_BEHIND;
            rhei__route_copy_name(st->table, rd->tables[i], rd->tlen[i]);
            return 1;
        }
        if (known == RHEI__ROUTE_TABLE_OLAP_ONLY)
            st->olap_only = 1;
    }
    if (rd->flags & RHEI__READ_SQLITE_FN) {
        st->reason = RHEI_ROUTE_SQLITE_FUNCTION;
        rhei__route_copy_name(st->table, rd->fn, strlen(rd->fn));
        return 1;
    }
    if (rd->ntables == 0 && !(rd->flags & RHEI__READ_OLAP_FN)) {
        st->reason = RHEI_ROUTE_NO_TABLE;
        return 1;
    }
    return 0;
}

/* Which side is faster for a read both can serve, and why. */
static void read_pick(const rhei__route_read *rd, rt_stmt *st)
{
    st->side = RHEI_SIDE_OLAP;
    if (rd->flags & RHEI__READ_OLAP_FN) {
        st->reason = RHEI_ROUTE_OLAP_FUNCTION;
        rhei__route_copy_name(st->table, rd->fn, strlen(rd->fn));
        return;
    }
    for (size_t i = 0; i < sizeof olap_features / sizeof olap_features[0]; i++) {
        if (rd->flags & olap_features[i].flag) {
            st->reason = olap_features[i].reason;
            return;
        }
    }
    if ((rd->flags & (RHEI__READ_ORDER | RHEI__READ_WHERE)) == RHEI__READ_ORDER) {
        st->reason = RHEI_ROUTE_FULL_SCAN_SORT;
        return;
    }
    st->reason = RHEI_ROUTE_FULL_SCAN;
    if (rd->flags & (RHEI__READ_WHERE | RHEI__READ_LIMIT))
        st->side = RHEI_SIDE_OLTP;
    if (rd->flags & RHEI__READ_WHERE)
        st->reason = rd->wh.point ? RHEI_ROUTE_POINT_LOOKUP : RHEI_ROUTE_SIMPLE_FILTER;
    else if (rd->flags & RHEI__READ_LIMIT)
        st->reason = RHEI_ROUTE_LIMITED_SCAN;
}

/* What SQLite's plan says about the speed rules' pick: a filter no index serves over a large
 * table is DuckDB's; a read whose every table an index reaches is SQLite's (within a budget:
 * an index range can still be most of the table). DuckDB-only picks (OLAP functions) stay. */
static void read_cost(const rhei__route_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    int filter = st->side == RHEI_SIDE_OLTP && (rd->flags & RHEI__READ_WHERE);
    int speed = st->side == RHEI_SIDE_OLAP && st->reason != RHEI_ROUTE_OLAP_FUNCTION;
    rhei__route_plan plan;
    if (!(filter || speed) || !ctx || !ctx->plan || ctx->plan(ctx->ud, &plan) != 0)
        return;
    if (st->reason == RHEI_ROUTE_FULL_SCAN_SORT && (rd->flags & RHEI__READ_LIMIT) && !plan.sorts) {
        st->side = RHEI_SIDE_OLTP; /* ORDER BY the key LIMIT n: SQLite reads n rows */
        st->reason = RHEI_ROUTE_INDEX_SERVED;
        return;
    }
    if (filter && plan.scan_rows >= RHEI__ROUTE_SCAN_ROWS) {
        st->side = RHEI_SIDE_OLAP;
        st->reason = RHEI_ROUTE_UNINDEXED_FILTER;
    } else if (speed && plan.scan_rows == 0) {
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_INDEX_SERVED;
    } else if (speed && plan.scan_rows > 0 && (rd->flags & RHEI__READ_DISTINCT) &&
               plan.distinct_indexed == 1) {
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_INDEX_DISTINCT;
    }
}

/* Picks the side of a read statement whose tokens have all been seen. */
static void read_decide(const rhei__route_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    st->kind = K_READ;
    st->side = RHEI_SIDE_OLTP;
    st->table[0] = '\0';
    if (rd->flags & RHEI__READ_TOO_COMPLEX) {
        st->reason = RHEI_ROUTE_TOO_COMPLEX;
        return;
    }
    if (rd->ntables > 0)
        rhei__route_copy_name(st->table, rd->tables[0], rd->tlen[0]);
    if (read_must_stay(rd, ctx, st))
        return;
    if (rd->sem && ctx && ctx->sqlite_compiles && !ctx->sqlite_compiles(ctx->ud)) {
        st->side = RHEI_SIDE_OLAP; /* DuckDB's dialect (median(x), * REPLACE ...): DuckDB's */
        st->reason = RHEI_ROUTE_DUCKDB_DIALECT;
        return;
    }
    if (rd->sem) { /* DuckDB would answer differently: SQLite's answer is the answer */
        st->reason = rd->sem;
        if (rd->semfn[0])
            rhei__route_copy_name(st->table, rd->semfn, strlen(rd->semfn));
        return;
    }
    read_pick(rd, st);
    read_cost(rd, ctx, st);
    /* [x] and `x` are names to SQLite but a list or an operator to DuckDB */
    if (st->side == RHEI_SIDE_OLAP && (rd->flags & RHEI__READ_SQLITE_SYNTAX)) {
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_SQLITE_SYNTAX;
    }
}

/* --- statements --------------------------------------------------------------------------- */

/* Next token of the current statement; 0 (consuming nothing) at ';' or the end. */
static int stmt_next(rhei__lex *lx, rhei__tok *t)
{
    rhei__route_lex_peek(lx, t);
    if (t->type == RHEI__TOK_EOF || rhei__route_tok_punct(t, ';'))
        return 0;
    rhei__route_lex_next(lx, t);
    return 1;
}

/* Consumes the rest of the statement and its ';'. Returns 1 at the end of input. */
static int stmt_skip(rhei__lex *lx)
{
    rhei__tok t;
    do
        rhei__route_lex_next(lx, &t);
    while (t.type != RHEI__TOK_EOF && !rhei__route_tok_punct(&t, ';'));
    return t.type == RHEI__TOK_EOF;
}

/* name ( '.' name )*: the last part names the table. Stops before the next other token. */
static void read_qualified(rhei__lex *lx, char *table)
{
    rhei__tok t;
    for (;;) {
        rhei__route_lex_peek(lx, &t);
        if (!rhei__route_is_name(&t))
            return;
        rhei__route_lex_next(lx, &t);
        rhei__route_tok_name(&t, table);
        rhei__route_lex_peek(lx, &t);
        if (!rhei__route_tok_punct(&t, '.'))
            return;
        rhei__route_lex_next(lx, &t);
    }
}

/* The target table of a write starting with kw (INSERT ... INTO t, UPDATE t, DELETE FROM t). */
static void write_target(rhei__lex *lx, int kw, char *table)
{
    rhei__tok t;
    int want = RHEI__KW_INTO;
    table[0] = '\0';
    if (kw == RHEI__KW_UPDATE) {
        if (rhei__route_next_is(lx, RHEI__KW_OR) && stmt_next(lx, &t)) /* UPDATE OR IGNORE t */
            stmt_next(lx, &t);
        read_qualified(lx, table);
        return;
    }
    if (kw == RHEI__KW_DELETE)
        want = RHEI__KW_FROM;
    else if (kw != RHEI__KW_INSERT && kw != RHEI__KW_REPLACE && kw != RHEI__KW_UPSERT &&
             kw != RHEI__KW_MERGE)
        return;
    while (stmt_next(lx, &t))
        if (rhei__route_keyword(&t) == want) {
            read_qualified(lx, table);
            return;
        }
}

static rhei_route_reason write_reason(int kw)
{
    switch (kw) {
    case RHEI__KW_INSERT: case RHEI__KW_UPDATE: case RHEI__KW_DELETE: case RHEI__KW_REPLACE:
    case RHEI__KW_UPSERT: case RHEI__KW_MERGE: case RHEI__KW_TRUNCATE: case RHEI__KW_COPY:
        return RHEI_ROUTE_WRITE;
    case RHEI__KW_CREATE: case RHEI__KW_DROP: case RHEI__KW_ALTER: case RHEI__KW_COMMENT:
        return RHEI_ROUTE_DDL;
    case RHEI__KW_BEGIN: case RHEI__KW_COMMIT: case RHEI__KW_END: case RHEI__KW_ROLLBACK:
    case RHEI__KW_SAVEPOINT: case RHEI__KW_RELEASE: case RHEI__KW_START: case RHEI__KW_ABORT:
        return RHEI_ROUTE_TXN_CONTROL;
    case RHEI__KW_PRAGMA:
        return RHEI_ROUTE_PRAGMA;
    case RHEI__KW_VACUUM: case RHEI__KW_ANALYZE: case RHEI__KW_REINDEX:
    case RHEI__KW_CHECKPOINT:
        return RHEI_ROUTE_MAINTENANCE;
    case RHEI__KW_ATTACH: case RHEI__KW_DETACH: case RHEI__KW_USE:
        return RHEI_ROUTE_ATTACH;
    case RHEI__KW_SET: case RHEI__KW_RESET: case RHEI__KW_LOAD: case RHEI__KW_INSTALL:
    case RHEI__KW_FORCE: case RHEI__KW_CALL: case RHEI__KW_EXPORT: case RHEI__KW_IMPORT:
    case RHEI__KW_PREPARE: case RHEI__KW_EXECUTE: case RHEI__KW_DEALLOCATE:
    case RHEI__KW_GRANT: case RHEI__KW_REVOKE:
        return RHEI_ROUTE_COMMAND;
    }
    /* Not a statement the router knows: never OLAP, and never run as if it were a read. */
    return RHEI_ROUTE_UNKNOWN_STATEMENT;
}

/* After EXPLAIN: skips "(options)", ANALYZE, VERBOSE, QUERY PLAN; *t gets the explained
 * statement's first token. Returns 0 if there is none. */
static int explain_prefix(rhei__lex *lx, rhei__tok *t, unsigned *flags)
{
    if (!stmt_next(lx, t))
        return 0;
    if (rhei__route_tok_punct(t, '(')) {
        int depth = 1;
        while (depth > 0 && stmt_next(lx, t))
            depth += rhei__route_tok_punct(t, '(') - rhei__route_tok_punct(t, ')');
        if (!stmt_next(lx, t))
            return 0;
    }
    for (;;) {
        int kw = rhei__route_keyword(t);
        if (kw == RHEI__KW_QUERY)
            *flags |= RHEI__READ_EXPLAIN_QP;
        else if (kw != RHEI__KW_ANALYZE && kw != RHEI__KW_ANALYSE && kw != RHEI__KW_VERBOSE &&
                 !(kw == RHEI__KW_PLAN && (*flags & RHEI__READ_EXPLAIN_QP)))
            return 1;
        if (!stmt_next(lx, t))
            return 0;
    }
}

/* Reads a read statement from its first token t to its end. Returns 1 at the end of input. */
static int read_stmt(rhei__lex *lx, rhei__tok t, const rhei__route_ctx *ctx, unsigned flags,
                     rt_stmt *st)
{
    rhei__route_read rd;
    int table_stmt = rhei__route_keyword(&t) == RHEI__KW_TABLE;
    rhei__route_read_init(&rd, ctx, flags, table_stmt);
    if (table_stmt)
        rhei__route_lex_next(lx, &t);
    while (t.type != RHEI__TOK_EOF && !rhei__route_tok_punct(&t, ';')) {
        int kw = rhei__route_keyword(&t);
        if (rhei__route_read_is_write(&rd, lx, &t, kw)) {
            st->kind = K_WRITE;
            st->reason = RHEI_ROUTE_WRITE;
            write_target(lx, kw, st->table);
            return stmt_skip(lx);
        }
        rhei__route_read_token(&rd, lx, &t, kw);
        rhei__route_lex_next(lx, &t);
    }
    rhei__route_read_end(&rd);
    read_decide(&rd, ctx, st);
    return t.type == RHEI__TOK_EOF;
}

/* Classifies the statement at lx and consumes it with its ';'. Returns 1 at the end of input. */
static int stmt_classify(rhei__lex *lx, const rhei__route_ctx *ctx, rt_stmt *st)
{
    rhei__tok t;
    unsigned flags = 0;
    int kw;
    st->kind = K_EMPTY;
    st->side = RHEI_SIDE_OLTP;
    st->reason = RHEI_ROUTE_EMPTY;
    st->olap_only = 0;
    st->table[0] = '\0';
    rhei__route_lex_next(lx, &t);
    if (t.type == RHEI__TOK_EOF)
        return 1;
    if (rhei__route_tok_punct(&t, ';'))
        return 0;
    kw = rhei__route_keyword(&t);
    if (kw == RHEI__KW_EXPLAIN && !explain_prefix(lx, &t, &flags))
        kw = RHEI__KW_NONE; /* EXPLAIN alone: unknown */
    else if (kw == RHEI__KW_EXPLAIN)
        kw = rhei__route_keyword(&t);
    if (kw == RHEI__KW_SELECT || kw == RHEI__KW_WITH || kw == RHEI__KW_VALUES ||
        kw == RHEI__KW_TABLE || rhei__route_tok_punct(&t, '('))
        return read_stmt(lx, t, ctx, flags, st);
    st->kind = K_WRITE;
    st->reason = write_reason(kw);
    write_target(lx, kw, st->table);
    return stmt_skip(lx);
}

/* Reading passes over SQL texts since the process started (rhei__route_passes). */
static atomic_uint_fast64_t passes;

/* Classifies every statement as read in one dialect; returns 1 if any is a write. The first
 * write decides. *olap_only becomes 1 if the table callback named a table only OLAP has. */
static int route_run(const char *sql, size_t len, const rhei__route_ctx *ctx, rhei__dialect dialect,
                     rhei_route_info *out, int *olap_only)
{
    rhei__lex lx;
    rt_stmt st, res;
    int count = 0, has_write = 0, end;
    atomic_fetch_add_explicit(&passes, 1, memory_order_relaxed);
    res.kind = K_EMPTY;
    res.side = RHEI_SIDE_OLTP;
    res.reason = RHEI_ROUTE_EMPTY;
    res.table[0] = '\0';
    rhei__route_lex_init(&lx, sql, len, dialect);
    do {
        /* only a lone statement's side matters, so later ones skip the callback */
        end = stmt_classify(&lx, count == 0 ? ctx : NULL, &st);
        *olap_only |= st.olap_only;
        if (st.kind == K_EMPTY)
            continue;
        if (st.kind == K_WRITE) {
            res = st;
            has_write = 1;
            break;
        }
        if (count++ == 0)
            res = st;
    } while (!end);
    if (!has_write && count > 1) {
        res.side = RHEI_SIDE_OLTP;
        res.reason = RHEI_ROUTE_MULTIPLE_STATEMENTS;
        res.table[0] = '\0';
    }
    out->side = res.side;
    rhei__route_set_reason(out, res.reason);
    memcpy(out->table, res.table, RHEI__ROUTE_TABLE_CAP);
    return has_write;
}

/* Reads the text as SQLite and as DuckDB tokenize it, since each engine runs what its own
 * tokenizer sees ([x] is a name to one and a list to the other; E'\'' a string to one only):
 * a write in either reading is a write, and OLAP needs both readings to say OLAP. The SQLite
 * reading, the primary one, names the reason unless only the DuckDB reading says OLTP. */
static int route_both(const char *sql, size_t len, const rhei__route_ctx *ctx, rhei_route_info *out,
                      int *olap_only)
{
    rhei_route_info duck;
    if (route_run(sql, len, ctx, RHEI__DIALECT_SQLITE, out, olap_only))
        return 1;
    if (rhei__route_dialects_agree(sql, sql ? len : 0))
        return 0; /* the DuckDB reading would be the same token for token */
    /* the callback matters to the DuckDB reading only when it could still be OLAP */
    if (route_run(sql, len, out->side == RHEI_SIDE_OLAP ? ctx : NULL, RHEI__DIALECT_DUCKDB, &duck,
                  olap_only)) {
        *out = duck;
        return 1;
    }
    if (out->side == RHEI_SIDE_OLAP && duck.side != RHEI_SIDE_OLAP)
        *out = duck;
    return 0;
}

int rhei__route_classify_n(const char *sql, size_t len, const rhei__route_ctx *ctx,
                           rhei_route_info *out)
{
    int olap_only = 0;
    if (route_both(sql, len, ctx, out, &olap_only))
        return 1;
    /* SQLite does not have such a table (history storage, a sidecar's): only OLAP answers,
     * unless another table of the read exists only in SQLite. */
    if (olap_only && out->code != RHEI_ROUTE_NOT_REPLICATED) {
        out->side = RHEI_SIDE_OLAP;
        rhei__route_set_reason(out, RHEI_ROUTE_OLAP_ONLY_TABLE);
    }
    return 0;
}

int rhei__route_classify(const char *sql, const rhei__route_ctx *ctx, rhei_route_info *out)
{
    return rhei__route_classify_n(sql, sql ? strlen(sql) : 0, ctx, out);
}

int rhei__route_is_write_n(const char *sql, size_t len)
{
    rhei_route_info info;
    int olap_only = 0;
    return route_both(sql, len, NULL, &info, &olap_only);
}

int rhei__route_is_write(const char *sql)
{
    return rhei__route_is_write_n(sql, sql ? strlen(sql) : 0);
}

uint64_t rhei__route_passes(void) { return atomic_load_explicit(&passes, memory_order_relaxed); }
