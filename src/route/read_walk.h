/* read_walk.h — the read walker (read_walk.c): one pass over a read statement's tokens that
 * collects what route.c decides on: the tables and CTEs it names, its analytic features, the
 * outermost WHERE's shape and the first construct DuckDB would answer differently. Internal to
 * src/route. The walker state lives on the caller's stack (~9 KB); it allocates nothing. */
#ifndef RHEI_ROUTE_READ_WALK_H
#define RHEI_ROUTE_READ_WALK_H
#include "lex.h"
#include "route.h"

#define RHEI__ROUTE_TABLE_CAP (sizeof(((rhei_route_info *)0)->table))

/* What a read has (rhei__route_read.flags). */
enum {
    RHEI__READ_TOO_COMPLEX = 1u << 0,
    RHEI__READ_EXPLAIN_QP = 1u << 1,
    RHEI__READ_SQLITE_FN = 1u << 2,
    RHEI__READ_OLAP_FN = 1u << 3,
    RHEI__READ_AGG = 1u << 4,
    RHEI__READ_GROUP = 1u << 5,
    RHEI__READ_HAVING = 1u << 6,
    RHEI__READ_WINDOW = 1u << 7,
    RHEI__READ_DISTINCT = 1u << 8,
    RHEI__READ_JOIN = 1u << 9,
    RHEI__READ_SUBQUERY = 1u << 10,
    RHEI__READ_CTE = 1u << 11,
    RHEI__READ_SETOP = 1u << 12,
    RHEI__READ_ORDER = 1u << 13,        /* ORDER BY of the outermost query */
    RHEI__READ_WHERE = 1u << 14,        /* WHERE of the outermost query */
    RHEI__READ_LIMIT = 1u << 15,        /* LIMIT or FETCH of the outermost query */
    RHEI__READ_SQLITE_SYNTAX = 1u << 16 /* a [x] or `x` name (only the SQLite reading has them) */
};

/* The outermost WHERE's recogniser of "col = literal [AND col = literal]...": point is 1
 * once it ended with every term of that form. */
typedef struct rhei__route_where {
    unsigned char active, state, side, ncol, nlit, fail, point;
} rhei__route_where;

typedef struct rhei__route_level {
    unsigned char state;
    unsigned char has_select; /* a SELECT began at this depth, so FROM starts a FROM clause */
    unsigned char real_chain; /* the product being read at this depth has a REAL literal */
} rhei__route_level;

typedef struct rhei__route_read {
    rhei__route_level lv[RHEI__ROUTE_MAX_DEPTH];
    int depth;
    unsigned flags;
    int prev_kw, prev2_kw; /* keyword ids of the two previous tokens */
    int at_start;          /* no token yet, or the last was '(': WITH opens a CTE list */
    int prev_arith;        /* the last token was + - * / */
    int prev_close;        /* the last token was ')' or END: a computed operand ended */
    int prev_dot;          /* the last token was '.': the word is a qualified name part */
    rhei__tok prev_name;   /* the last token if it was a name (n = 0 otherwise) */
    /* LIKE's left operand when it is one plain or qualified name that begins an expression
     * (after '(', ',' or a clause keyword, never after an operator that SQLite and DuckDB
     * order differently against LIKE): live while the next token may be LIKE or NOT LIKE. */
    rhei__tok operand;
    int operand_live, operand_chain, expr_start;
    const rhei__route_ctx *ctx;
    rhei__tok pending; /* last name part of the table reference being read */
    rhei__route_where wh;
    int ntables, nctes;
    char tables[RHEI__ROUTE_MAX_TABLES][RHEI__ROUTE_MAX_NAME];
    size_t tlen[RHEI__ROUTE_MAX_TABLES];
    char ctes[RHEI__ROUTE_MAX_CTES][RHEI__ROUTE_MAX_NAME];
    size_t clen[RHEI__ROUTE_MAX_CTES];
    char fn[RHEI__ROUTE_TABLE_CAP]; /* first table-valued function in FROM */
    rhei_route_reason sem;          /* first construct whose answer differs on DuckDB, or EMPTY */
    char semfn[RHEI__ROUTE_TABLE_CAP]; /* the function that set sem, if one did */
} rhei__route_read;

/* Starts a walk with flags already known (RHEI__READ_EXPLAIN_QP); ctx answers the column
 * questions (numeric_column, text_column) and may be NULL. table_stmt: the statement is
 * `TABLE t` (SELECT * FROM t); its TABLE is not fed, the name after it comes first. */
void rhei__route_read_init(rhei__route_read *rd, const rhei__route_ctx *ctx, unsigned flags,
                           int table_stmt);
/* 1 if t (keyword id kw, lx just past it) is a write hidden in the read: WITH ... INSERT,
 * UPDATE, DELETE (DuckDB's data-modifying CTEs), REPLACE/MERGE INTO. */
int rhei__route_read_is_write(const rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t,
                              int kw);
/* Feeds the next token t of the statement (keyword id kw, lx just past it). */
void rhei__route_read_token(rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw);
/* The statement's tokens are all fed: completes a pending table reference and the WHERE. */
void rhei__route_read_end(rhei__route_read *rd);

/* Copies a name into a route-info table field (RHEI__ROUTE_TABLE_CAP bytes with the NUL), cut
 * at a character boundary if too long. */
void rhei__route_copy_name(char *dst, const char *p, size_t n);
/* The same for a name token, unquoted when its text fits RHEI__ROUTE_MAX_NAME. */
void rhei__route_tok_name(const rhei__tok *t, char *dst);
#endif
