/* route.c — statement classification on top of lex.c: splits the text at ';', tells writes from
 * reads by their first words, and for a read collects its tables and analytic features in one
 * pass over the tokens, then picks a side by the precedence written in README.md.
 * Invariant: only a statement that both readings (SQLite's and DuckDB's tokenization) find to be
 * a read can get RHEI_SIDE_OLAP. */
#include "route.h"
#include "lex.h"
#include "semantics.h"
#include <stdatomic.h>
#include <string.h>

#define TABLE_CAP (sizeof(((rhei_route_info *)0)->table))

/* What the tokens at one parenthesis depth are in the middle of. */
enum {
    ST_NONE,           /* select list, expressions, WHERE, ... */
    ST_TABLE_EXPECT,   /* after FROM, JOIN or a ',' in FROM: a table reference comes next */
    ST_TABLE_NAME,     /* read a name part (rd->pending); '.' or '(' may follow */
    ST_TABLE_DOT,      /* after schema '.' */
    ST_AFTER_TABLE,    /* alias, ON/USING condition: until ',', JOIN or a clause keyword */
    ST_CTE_NAME,       /* after WITH [RECURSIVE] or a ',' between CTEs */
    ST_CTE_AFTER_NAME, /* optional column list, then AS */
    ST_CTE_AS,         /* optional [NOT] MATERIALIZED, then the body's '(' */
    ST_CTE_AFTER_BODY  /* ',' for another CTE, or the main statement */
};

enum {
    F_TOO_COMPLEX = 1u << 0,
    F_EXPLAIN_QP = 1u << 1,
    F_SQLITE_FN = 1u << 2,
    F_OLAP_FN = 1u << 3,
    F_AGG = 1u << 4,
    F_GROUP = 1u << 5,
    F_HAVING = 1u << 6,
    F_WINDOW = 1u << 7,
    F_DISTINCT = 1u << 8,
    F_JOIN = 1u << 9,
    F_SUBQUERY = 1u << 10,
    F_CTE = 1u << 11,
    F_SETOP = 1u << 12,
    F_ORDER = 1u << 13, /* ORDER BY of the outermost query */
    F_WHERE = 1u << 14, /* WHERE of the outermost query */
    F_LIMIT = 1u << 15, /* LIMIT or FETCH of the outermost query */
    F_SQLITE_SYNTAX = 1u << 16 /* a [x] or `x` name (only the SQLite reading has them) */
};

/* OLAP features in order of precedence: the first present names the reason. */
static const struct {
    unsigned flag;
    rhei_route_reason reason;
} olap_features[] = {
    {F_AGG, RHEI_ROUTE_AGGREGATE},       {F_GROUP, RHEI_ROUTE_GROUP_BY},
    {F_HAVING, RHEI_ROUTE_HAVING},       {F_WINDOW, RHEI_ROUTE_WINDOW},
    {F_DISTINCT, RHEI_ROUTE_DISTINCT},   {F_JOIN, RHEI_ROUTE_JOIN},
    {F_SUBQUERY, RHEI_ROUTE_SUBQUERY},   {F_CTE, RHEI_ROUTE_CTE},
    {F_SETOP, RHEI_ROUTE_SET_OPERATION},
};

/* Recogniser of "col = literal [AND col = literal]..." over the outermost WHERE's tokens. */
enum { WM_OPERAND, WM_COL, WM_DOT, WM_SIGN, WM_LIT };
typedef struct rt_where {
    unsigned char active, state, side, ncol, nlit, fail, point;
} rt_where;

typedef struct rt_level {
    unsigned char state;
    unsigned char has_select; /* a SELECT began at this depth, so FROM starts a FROM clause */
    unsigned char real_chain; /* the product being read at this depth has a REAL literal */
} rt_level;

typedef struct rt_read {
    rt_level lv[RHEI__ROUTE_MAX_DEPTH];
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
    rhei__tok pending;     /* last name part of the table reference being read */
    rt_where wh;
    int ntables, nctes;
    char tables[RHEI__ROUTE_MAX_TABLES][RHEI__ROUTE_MAX_NAME];
    size_t tlen[RHEI__ROUTE_MAX_TABLES];
    char ctes[RHEI__ROUTE_MAX_CTES][RHEI__ROUTE_MAX_NAME];
    size_t clen[RHEI__ROUTE_MAX_CTES];
    char fn[TABLE_CAP]; /* first table-valued function in FROM */
    rhei_route_reason sem; /* first construct whose answer differs on DuckDB, or EMPTY */
    char semfn[TABLE_CAP]; /* the function that set sem, if one did */
} rt_read;

enum { K_EMPTY, K_READ, K_WRITE };
typedef struct rt_stmt {
    int kind;
    rhei_side side;
    rhei_route_reason reason;
    int olap_only; /* the table callback named a table only OLAP has */
    char table[TABLE_CAP];
} rt_stmt;

/* --- names -------------------------------------------------------------------------------- */

static int is_utf8_cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* Copies a name into a route-info table field, cut at a character boundary if too long. A
 * UTF-8 character has at most 3 continuation bytes: a longer run is not UTF-8 and is cut
 * anywhere (backing off over it could lose the whole name). */
static void set_table(char *dst, const char *p, size_t n)
{
    if (n > TABLE_CAP - 1) {
        size_t cut = TABLE_CAP - 1;
        for (int k = 0; k < 3 && is_utf8_cont(p[cut]); k++)
            cut--;
        n = is_utf8_cont(p[cut]) ? TABLE_CAP - 1 : cut;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* Unquotes a WORD or QIDENT into dst (cap bytes, NUL-terminated): "a""b" -> a"b, [x] -> x.
 * Returns the length, or (size_t)-1 if it does not fit. */
static size_t unquote(const rhei__tok *t, char *dst, size_t cap)
{
    size_t len = 0;
    char close;
    if (t->type != RHEI__TOK_QIDENT) {
        if (t->n >= cap)
            return (size_t)-1;
        memcpy(dst, t->p, t->n);
        dst[t->n] = '\0';
        return t->n;
    }
    close = t->p[0] == '[' ? ']' : t->p[0];
    for (size_t i = 1; i < t->n; i++) {
        if (t->p[i] == close) {
            if (close == ']' || i + 1 >= t->n || t->p[i + 1] != close)
                break; /* the closing quote; an unterminated one just ends */
            i++;
        }
        if (len + 1 >= cap)
            return (size_t)-1;
        dst[len++] = t->p[i];
    }
    dst[len] = '\0';
    return len;
}

static void name_to_table(const rhei__tok *t, char *table)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(t, name, sizeof name);
    if (n == (size_t)-1)
        set_table(table, t->p, t->n);
    else
        set_table(table, name, n);
}

static int find_name(char (*names)[RHEI__ROUTE_MAX_NAME], const size_t *lens, int count,
                     const char *name, size_t n)
{
    for (int i = 0; i < count; i++)
        if (rhei__route_ci_eq(names[i], lens[i], name, n))
            return 1;
    return 0;
}

/* A table reference is complete: remember it unless it names a CTE or is already known. */
static void commit_pending(rt_read *rd)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(&rd->pending, name, sizeof name);
    if (n == (size_t)-1) {
        rd->flags |= F_TOO_COMPLEX;
        return;
    }
    if (find_name(rd->ctes, rd->clen, rd->nctes, name, n) ||
        find_name(rd->tables, rd->tlen, rd->ntables, name, n))
        return;
    if (rd->ntables == RHEI__ROUTE_MAX_TABLES) {
        rd->flags |= F_TOO_COMPLEX;
        return;
    }
    memcpy(rd->tables[rd->ntables], name, n + 1);
    rd->tlen[rd->ntables++] = n;
}

static void add_cte(rt_read *rd, const rhei__tok *t)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(t, name, sizeof name);
    if (n == (size_t)-1 || rd->nctes == RHEI__ROUTE_MAX_CTES) {
        rd->flags |= F_TOO_COMPLEX;
        return;
    }
    memcpy(rd->ctes[rd->nctes], name, n + 1);
    rd->clen[rd->nctes++] = n;
}

/* The pending name is followed by '(': a table-valued function, not a table. */
static void table_function(rt_read *rd)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(&rd->pending, name, sizeof name);
    if (n == (size_t)-1) {
        rd->flags |= F_TOO_COMPLEX;
        return;
    }
    rd->flags |= rhei__route_is_sqlite_function(name, n) ? F_SQLITE_FN : F_OLAP_FN;
    if (rd->fn[0] == '\0')
        set_table(rd->fn, name, n);
}

/* --- the outermost WHERE: point lookup or not --------------------------------------------- */

static void where_start(rt_where *w)
{
    memset(w, 0, sizeof *w);
    w->active = 1;
}

static void where_term_end(rt_where *w)
{
    if (w->ncol != 1 || w->nlit != 1)
        w->fail = 1;
    w->side = w->ncol = w->nlit = 0;
    w->state = WM_OPERAND;
}

static void where_operand(rt_where *w, const rhei__tok *t, int kw)
{
    switch (t->type) {
    case RHEI__TOK_WORD:
        if (kw == RHEI__KW_NULL || kw == RHEI__KW_TRUE || kw == RHEI__KW_FALSE) {
            w->nlit++;
            w->state = WM_LIT;
        } else {
            w->ncol++;
            w->state = WM_COL;
        }
        return;
    case RHEI__TOK_QIDENT:
        w->ncol++;
        w->state = WM_COL;
        return;
    case RHEI__TOK_NUMBER:
    case RHEI__TOK_STRING:
    case RHEI__TOK_PARAM:
        w->nlit++;
        w->state = WM_LIT;
        return;
    default:
        if (rhei__route_tok_punct(t, '-') || rhei__route_tok_punct(t, '+'))
            w->state = WM_SIGN;
        else
            w->fail = 1;
    }
}

static void where_feed(rt_where *w, const rhei__tok *t, int kw)
{
    if (w->fail)
        return;
    switch (w->state) {
    case WM_OPERAND:
        where_operand(w, t, kw);
        return;
    case WM_DOT:
        w->state = WM_COL;
        w->fail = !rhei__route_is_name(t);
        return;
    case WM_SIGN:
        w->nlit++;
        w->state = WM_LIT;
        w->fail = t->type != RHEI__TOK_NUMBER;
        return;
    case WM_COL:
        if (rhei__route_tok_punct(t, '.')) {
            w->state = WM_DOT;
            return;
        }
        break;
    }
    /* an operand is complete */
    if (w->side == 0 && (rhei__route_tok_punct(t, '=') ||
                         (t->type == RHEI__TOK_OP && t->n == 2 && t->p[0] == '='))) {
        w->side = 1;
        w->state = WM_OPERAND;
    } else if (w->side == 1 && kw == RHEI__KW_AND) {
        where_term_end(w);
    } else {
        w->fail = 1;
    }
}

static void where_finish(rt_where *w)
{
    w->active = 0;
    if (!w->fail && w->side == 1 && (w->state == WM_COL || w->state == WM_LIT))
        where_term_end(w);
    else
        w->fail = 1;
    w->point = !w->fail;
}

/* Clause keywords that end the outermost WHERE. */
static int where_ends(int kw)
{
    switch (kw) {
    case RHEI__KW_GROUP: case RHEI__KW_ORDER: case RHEI__KW_LIMIT: case RHEI__KW_HAVING:
    case RHEI__KW_WINDOW: case RHEI__KW_UNION: case RHEI__KW_INTERSECT: case RHEI__KW_EXCEPT:
    case RHEI__KW_RETURNING: case RHEI__KW_FETCH: case RHEI__KW_OFFSET: case RHEI__KW_QUALIFY:
        return 1;
    }
    return 0;
}

/* Keywords that end a FROM list (a table reference cannot be one of them). */
static int ends_from(int kw)
{
    return where_ends(kw) || kw == RHEI__KW_WHERE || kw == RHEI__KW_SELECT ||
           kw == RHEI__KW_VALUES || kw == RHEI__KW_JOIN;
}

/* --- read statements: one pass over the tokens -------------------------------------------- */

static void rd_push(rt_read *rd, int state)
{
    if (rd->depth + 1 >= RHEI__ROUTE_MAX_DEPTH) {
        rd->flags |= F_TOO_COMPLEX;
        return;
    }
    rd->depth++;
    rd->lv[rd->depth].state = (unsigned char)state;
    rd->lv[rd->depth].has_select = 0;
    rd->lv[rd->depth].real_chain = 0;
}

static void rd_open(rt_read *rd, const rhei__lex *lx)
{
    rt_level *l = &rd->lv[rd->depth];
    rhei__tok nx;
    int nkw, subquery, child = ST_NONE;
    rhei__route_lex_peek(lx, &nx);
    nkw = rhei__route_keyword(&nx);
    subquery = nkw == RHEI__KW_SELECT || nkw == RHEI__KW_WITH || nkw == RHEI__KW_VALUES;
    if (l->state == ST_CTE_AS) {
        l->state = ST_CTE_AFTER_BODY; /* a CTE body is counted as "cte", not "subquery" */
    } else {
        if (subquery)
            rd->flags |= F_SUBQUERY;
        if (l->state == ST_TABLE_EXPECT) {
            l->state = ST_AFTER_TABLE;
            if (!subquery)
                child = ST_TABLE_EXPECT; /* FROM (a JOIN b) */
        }
    }
    rd_push(rd, child);
}

/* Continues a table reference in ST_TABLE_NAME / ST_TABLE_DOT. 1 if t was consumed. */
static int rd_table_name(rt_read *rd, const rhei__tok *t)
{
    rt_level *l = &rd->lv[rd->depth];
    if (l->state == ST_TABLE_NAME && rhei__route_tok_punct(t, '.')) {
        l->state = ST_TABLE_DOT;
        return 1;
    }
    if (l->state == ST_TABLE_DOT && rhei__route_is_name(t)) {
        rd->pending = *t; /* schema.table counts as table */
        l->state = ST_TABLE_NAME;
        return 1;
    }
    l->state = ST_AFTER_TABLE;
    if (rhei__route_tok_punct(t, '(')) {
        table_function(rd);
        rd_push(rd, ST_NONE);
        return 1;
    }
    commit_pending(rd);
    return 0;
}

static void rd_punct(rt_read *rd, const rhei__lex *lx, const rhei__tok *t)
{
    rt_level *l = &rd->lv[rd->depth];
    switch (t->p[0]) {
    case '(':
        rd_open(rd, lx);
        break;
    case ')':
        if (rd->depth > 0)
            rd->depth--;
        break;
    case ',':
        if (l->state == ST_AFTER_TABLE) {
            l->state = ST_TABLE_EXPECT;
            rd->flags |= F_JOIN; /* FROM a, b */
        } else if (l->state == ST_CTE_AFTER_BODY) {
            l->state = ST_CTE_NAME;
        }
        break;
    }
}

/* A name, keyword or string in a state that expects one. 1 if t was consumed. */
static int rd_state_word(rt_read *rd, const rhei__tok *t, int kw)
{
    rt_level *l = &rd->lv[rd->depth];
    int word = t->type == RHEI__TOK_WORD;
    switch (l->state) {
    case ST_TABLE_EXPECT:
        if (t->type == RHEI__TOK_STRING) { /* FROM 'file.parquet': a DuckDB file scan */
            rd->flags |= F_OLAP_FN;
            l->state = ST_AFTER_TABLE;
            return 1;
        }
        if (word && (kw == RHEI__KW_LATERAL || kw == RHEI__KW_ONLY))
            return 1;
        if (rhei__route_is_name(t) && !(word && ends_from(kw))) {
            rd->pending = *t;
            l->state = ST_TABLE_NAME;
            return 1;
        }
        l->state = ST_NONE;
        return 0;
    case ST_AFTER_TABLE:
        if (word && ends_from(kw) && kw != RHEI__KW_JOIN)
            l->state = ST_NONE;
        return 0;
    case ST_CTE_NAME:
        if (word && kw == RHEI__KW_RECURSIVE)
            return 1;
        if (rhei__route_is_name(t)) {
            add_cte(rd, t);
            l->state = ST_CTE_AFTER_NAME;
            return 1;
        }
        break;
    case ST_CTE_AFTER_NAME:
        if (word && kw == RHEI__KW_AS) {
            l->state = ST_CTE_AS;
            return 1;
        }
        break;
    case ST_CTE_AS:
        if (word && (kw == RHEI__KW_NOT || kw == RHEI__KW_MATERIALIZED))
            return 1;
        break;
    case ST_CTE_AFTER_BODY:
        break;
    default:
        return 0;
    }
    l->state = ST_NONE; /* the CTE list is over (or malformed): back to plain tokens */
    return 0;
}

static int next_is(const rhei__lex *lx, int kw)
{
    rhei__tok nx;
    rhei__route_lex_peek(lx, &nx);
    return rhei__route_keyword(&nx) == kw;
}

/* lx is just past an aggregate's name: 1 if its call is a window function, its ')' (and any
 * FILTER (...) after it) followed by OVER. Past the look-ahead bound: an aggregate. */
static int window_call(const rhei__lex *lx)
{
    rhei__lex ahead = *lx;
    rhei__tok nx;
    int depth = 0, closed = 0;
    for (int i = 0; i < RHEI__ROUTE_LOOKAHEAD; i++) {
        rhei__route_lex_next(&ahead, &nx);
        if (nx.type == RHEI__TOK_EOF || rhei__route_tok_punct(&nx, ';'))
            return 0;
        if (closed && depth == 0) { /* the token after a closed group */
            if (!rhei__route_word_is(&nx, "filter"))
                return rhei__route_keyword(&nx) == RHEI__KW_OVER;
            closed = 0; /* FILTER (WHERE ...): look past its group too */
            continue;
        }
        if (rhei__route_tok_punct(&nx, '('))
            depth++;
        else if (rhei__route_tok_punct(&nx, ')') && --depth == 0)
            closed = 1;
    }
    return 0;
}

static void rd_keyword(rt_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    rt_level *l = &rd->lv[rd->depth];
    rhei__tok nx;
    switch (kw) {
    case RHEI__KW_SELECT: l->has_select = 1; break;
    case RHEI__KW_FROM:
        /* "a IS [NOT] DISTINCT FROM b" compares; EXTRACT(x FROM y) has no SELECT at its depth */
        if (l->has_select && !(rd->prev_kw == RHEI__KW_DISTINCT &&
                               (rd->prev2_kw == RHEI__KW_IS || rd->prev2_kw == RHEI__KW_NOT)))
            l->state = ST_TABLE_EXPECT;
        break;
    case RHEI__KW_JOIN: rd->flags |= F_JOIN; l->state = ST_TABLE_EXPECT; break;
    case RHEI__KW_WHERE:
        l->state = ST_NONE;
        if (rd->depth == 0) {
            rd->flags |= F_WHERE;
            where_start(&rd->wh);
        }
        break;
    case RHEI__KW_GROUP: if (next_is(lx, RHEI__KW_BY)) rd->flags |= F_GROUP; break;
    case RHEI__KW_HAVING: rd->flags |= F_HAVING; break;
    case RHEI__KW_ORDER:
        if (rd->depth == 0 && next_is(lx, RHEI__KW_BY))
            rd->flags |= F_ORDER;
        break;
    case RHEI__KW_LIMIT:
    case RHEI__KW_FETCH: if (rd->depth == 0) rd->flags |= F_LIMIT; break;
    case RHEI__KW_OVER:
        rhei__route_lex_peek(lx, &nx);
        /* OVER (...) or OVER w; a column named "over" is followed by FROM, ',', ... */
        if (rhei__route_tok_punct(&nx, '(') ||
            (rhei__route_is_name(&nx) && rhei__route_keyword(&nx) == RHEI__KW_NONE))
            rd->flags |= F_WINDOW;
        break;
    case RHEI__KW_DISTINCT:
        if (!(rd->prev_kw == RHEI__KW_IS ||
              (rd->prev_kw == RHEI__KW_NOT && rd->prev2_kw == RHEI__KW_IS)))
            rd->flags |= F_DISTINCT;
        break;
    case RHEI__KW_UNION:
    case RHEI__KW_INTERSECT:
    case RHEI__KW_EXCEPT: rd->flags |= F_SETOP; break;
    case RHEI__KW_WITH:
        if (rd->at_start) {
            rd->flags |= F_CTE;
            l->state = ST_CTE_NAME;
        }
        break;
    default:
        if (!rd->prev_dot && rhei__route_is_aggregate(t->p, t->n) &&
            rhei__route_aggregate_call(lx, t))
            rd->flags |= window_call(lx) ? F_WINDOW : F_AGG; /* sum(x) OVER (...): a window */
    }
}

/* 1 if an operand of the '/' at lx names a column of NUMERIC affinity (the name before it,
 * or the one after it, or after its qualifier). */
static int divides_numeric(const rt_read *rd, const rhei__lex *lx)
{
    const rhei__route_ctx *ctx = rd->ctx;
    if (!ctx || !ctx->numeric_column)
        return 0;
    if (rd->prev_name.n && ctx->numeric_column(ctx->ud, rd->prev_name.p, rd->prev_name.n))
        return 1;
    rhei__lex ahead = *lx;
    rhei__tok nx, dot;
    rhei__route_lex_next(&ahead, &nx);
    while (rhei__route_is_name(&nx)) {
        rhei__lex after = ahead;
        rhei__route_lex_next(&after, &dot);
        if (!rhei__route_tok_punct(&dot, '.'))
            return ctx->numeric_column(ctx->ud, nx.p, nx.n);
        rhei__route_lex_next(&after, &nx); /* t.d: the part after the qualifier */
        ahead = after;
    }
    return 0;
}

/* The LIKE at lx has a TEXT column as its left operand and a literal pattern: on DuckDB it
 * runs rewritten (rhei__route_olap_text) and answers as SQLite does. */
static int like_rewritten(const rt_read *rd, const rhei__lex *lx)
{
    const rhei__route_ctx *ctx = rd->ctx;
    return rd->operand_live && ctx && ctx->text_column && rhei__route_like_literal(lx) &&
           ctx->text_column(ctx->ud, rd->operand.p, rd->operand.n);
}

/* A REAL literal: digits with a '.' or an exponent (not hex). */
static int real_literal(const rhei__tok *t)
{
    if (t->type != RHEI__TOK_NUMBER || (t->n > 1 && (t->p[1] == 'x' || t->p[1] == 'X')))
        return 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i] == '.' || t->p[i] == 'e' || t->p[i] == 'E')
            return 1;
    return 0;
}

/* Follows whether the product read at the current depth has a REAL literal factor:
 * `100.0 * sum(x) / n` divides a REAL on SQLite whatever x and n hold, and a DOUBLE on
 * DuckDB (its DECIMAL / INTEGER is DOUBLE too), so that '/' answers alike. A parenthesised
 * operand or call is one factor of the product around it; any other token ends it. rd->prev_*
 * and expr_start still describe the token before t. */
static void track_chain(rt_read *rd, const rhei__tok *t, int kw)
{
    rt_level *l = &rd->lv[rd->depth];
    if (rhei__route_tok_punct(t, '(') || rhei__route_tok_punct(t, ')'))
        return;
    if (real_literal(t) && (rd->prev_arith || rd->expr_start)) /* + - start a product */
        l->real_chain = 1;
    else if (!(rhei__route_tok_punct(t, '*') || rhei__route_tok_punct(t, '/') ||
               t->type == RHEI__TOK_NUMBER || rhei__route_tok_punct(t, '.') ||
               (rhei__route_is_name(t) && kw == RHEI__KW_NONE)))
        l->real_chain = 0;
}

/* Follows LIKE's possible left operand past token t (keyword id kw); rd->prev_* still
 * describe the token before t. */
static void track_operand(rt_read *rd, const rhei__tok *t, int kw)
{
    if (rhei__route_is_name(t) && kw == RHEI__KW_NONE) {
        rd->operand_live = rd->prev_dot ? rd->operand_chain : rd->expr_start;
        rd->operand = *t;
    } else if (rhei__route_tok_punct(t, '.')) {
        rd->operand_chain = rd->operand_live;
        rd->operand_live = 0;
    } else if (!(kw == RHEI__KW_NOT && rd->prev_name.n)) { /* s NOT LIKE */
        rd->operand_live = 0;
    }
    switch (kw) {
    case RHEI__KW_SELECT:
    case RHEI__KW_WHERE:
    case RHEI__KW_AND:
    case RHEI__KW_OR:
    case RHEI__KW_NOT:
    case RHEI__KW_HAVING:
    case RHEI__KW_BY:
    case RHEI__KW_DISTINCT:
        rd->expr_start = 1;
        break;
    default:
        rd->expr_start = rhei__route_tok_punct(t, '(') || rhei__route_tok_punct(t, ',') ||
                         rhei__route_word_is(t, "on") || rhei__route_word_is(t, "when") ||
                         rhei__route_word_is(t, "then") || rhei__route_word_is(t, "else") ||
                         rhei__route_word_is(t, "case");
    }
}

static void rd_token(rt_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    int state = rd->lv[rd->depth].state;
    if (!rd->sem && (state == ST_NONE || state == ST_AFTER_TABLE)) {
        rhei__sem_prev prev = {rd->prev_dot, rd->prev_arith, rd->prev_close,
                               rd->lv[rd->depth].real_chain};
        rhei__tok fn;
        rd->sem = rhei__route_semantics(lx, t, kw, &prev, &fn);
        if (fn.n > 0)
            name_to_table(&fn, rd->semfn);
        if (!rd->sem && rhei__route_tok_punct(t, '/') && !prev.real && divides_numeric(rd, lx))
            rd->sem = RHEI_ROUTE_SEM_DIVIDE;
        if (rd->sem == RHEI_ROUTE_SEM_LIKE && like_rewritten(rd, lx))
            rd->sem = RHEI_ROUTE_EMPTY;
    }
    if (t->type == RHEI__TOK_QIDENT && (t->p[0] == '[' || t->p[0] == '`'))
        rd->flags |= F_SQLITE_SYNTAX;
    if (rd->wh.active && rd->depth == 0) {
        if (where_ends(kw))
            where_finish(&rd->wh);
        else
            where_feed(&rd->wh, t, kw);
    }
    if ((state == ST_TABLE_NAME || state == ST_TABLE_DOT) && rd_table_name(rd, t))
        return;
    if (t->type == RHEI__TOK_PUNCT) {
        rd_punct(rd, lx, t);
        return;
    }
    if ((rhei__route_is_name(t) || t->type == RHEI__TOK_STRING) && rd_state_word(rd, t, kw))
        return;
    if (t->type == RHEI__TOK_WORD)
        rd_keyword(rd, lx, t, kw);
}

/* A write hidden in a read statement: WITH ... INSERT/UPDATE/DELETE, DuckDB's data-modifying
 * CTEs. Bare INSERT, UPDATE and DELETE are reserved words, so any of them (not a qualified
 * name part, not a function call) means a write; REPLACE and MERGE only with INTO. */
static int rd_is_write(const rt_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    rhei__tok nx;
    if (t->type != RHEI__TOK_WORD || rd->prev_dot)
        return 0;
    switch (kw) {
    case RHEI__KW_INSERT:
    case RHEI__KW_UPDATE:
    case RHEI__KW_DELETE:
        rhei__route_lex_peek(lx, &nx);
        return !rhei__route_tok_punct(&nx, '(');
    case RHEI__KW_REPLACE:
    case RHEI__KW_MERGE: return next_is(lx, RHEI__KW_INTO);
    }
    return 0;
}

/* Rules on whether DuckDB can serve the read at all; 1 if one of them keeps it on SQLite. */
static int rd_must_stay(const rt_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    if (rd->flags & F_EXPLAIN_QP) {
        st->reason = RHEI_ROUTE_EXPLAIN_QUERY_PLAN; /* SQLite syntax */
        return 1;
    }
    for (int i = 0; i < rd->ntables; i++) {
        int known = ctx && ctx->is_replicated
                        ? ctx->is_replicated(ctx->ud, rd->tables[i], rd->tlen[i])
                        : RHEI__ROUTE_TABLE_LOCAL;
        if (known == RHEI__ROUTE_TABLE_LOCAL) {
            st->reason = RHEI_ROUTE_NOT_REPLICATED;
            set_table(st->table, rd->tables[i], rd->tlen[i]);
            return 1;
        }
        if (known == RHEI__ROUTE_TABLE_OLAP_ONLY)
            st->olap_only = 1;
    }
    if (rd->flags & F_SQLITE_FN) {
        st->reason = RHEI_ROUTE_SQLITE_FUNCTION;
        set_table(st->table, rd->fn, strlen(rd->fn));
        return 1;
    }
    if (rd->ntables == 0 && !(rd->flags & F_OLAP_FN)) {
        st->reason = RHEI_ROUTE_NO_TABLE;
        return 1;
    }
    return 0;
}

/* Which side is faster for a read both can serve, and why. */
static void rd_pick(const rt_read *rd, rt_stmt *st)
{
    st->side = RHEI_SIDE_OLAP;
    if (rd->flags & F_OLAP_FN) {
        st->reason = RHEI_ROUTE_OLAP_FUNCTION;
        set_table(st->table, rd->fn, strlen(rd->fn));
        return;
    }
    for (size_t i = 0; i < sizeof olap_features / sizeof olap_features[0]; i++) {
        if (rd->flags & olap_features[i].flag) {
            st->reason = olap_features[i].reason;
            return;
        }
    }
    if ((rd->flags & (F_ORDER | F_WHERE)) == F_ORDER) {
        st->reason = RHEI_ROUTE_FULL_SCAN_SORT;
        return;
    }
    st->reason = RHEI_ROUTE_FULL_SCAN;
    if (rd->flags & (F_WHERE | F_LIMIT))
        st->side = RHEI_SIDE_OLTP;
    if (rd->flags & F_WHERE)
        st->reason = rd->wh.point ? RHEI_ROUTE_POINT_LOOKUP : RHEI_ROUTE_SIMPLE_FILTER;
    else if (rd->flags & F_LIMIT)
        st->reason = RHEI_ROUTE_LIMITED_SCAN;
}

/* What SQLite's plan says about the speed rules' pick: a filter no index serves over a large
 * table is DuckDB's; a read whose every table an index reaches is SQLite's (within a budget:
 * an index range can still be most of the table). DuckDB-only picks (OLAP functions) stay. */
static void rd_cost(const rt_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    int filter = st->side == RHEI_SIDE_OLTP && (rd->flags & F_WHERE);
    int speed = st->side == RHEI_SIDE_OLAP && st->reason != RHEI_ROUTE_OLAP_FUNCTION;
    if (!(filter || speed) || !ctx || !ctx->scan_rows)
        return;
    if (st->reason == RHEI_ROUTE_FULL_SCAN_SORT && (rd->flags & F_LIMIT) && ctx->ordered &&
        ctx->ordered(ctx->ud) == 1) { /* ORDER BY the key LIMIT n: SQLite reads n rows */
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_INDEX_SERVED;
        return;
    }
    int64_t scanned = ctx->scan_rows(ctx->ud);
    if (filter && scanned >= RHEI__ROUTE_SCAN_ROWS) {
        st->side = RHEI_SIDE_OLAP;
        st->reason = RHEI_ROUTE_UNINDEXED_FILTER;
    } else if (speed && scanned == 0) {
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_INDEX_SERVED;
    } else if (speed && scanned > 0 && (rd->flags & F_DISTINCT) && ctx->distinct_indexed &&
               ctx->distinct_indexed(ctx->ud) == 1) {
        st->side = RHEI_SIDE_OLTP;
        st->reason = RHEI_ROUTE_INDEX_DISTINCT;
    }
}

/* Picks the side of a read statement whose tokens have all been seen. */
static void rd_decide(const rt_read *rd, const rhei__route_ctx *ctx, rt_stmt *st)
{
    st->kind = K_READ;
    st->side = RHEI_SIDE_OLTP;
    st->table[0] = '\0';
    if (rd->flags & F_TOO_COMPLEX) {
        st->reason = RHEI_ROUTE_TOO_COMPLEX;
        return;
    }
    if (rd->ntables > 0)
        set_table(st->table, rd->tables[0], rd->tlen[0]);
    if (rd_must_stay(rd, ctx, st))
        return;
    if (rd->sem && ctx && ctx->sqlite_compiles && !ctx->sqlite_compiles(ctx->ud)) {
        st->side = RHEI_SIDE_OLAP; /* DuckDB's dialect (median(x), * REPLACE ...): DuckDB's */
        st->reason = RHEI_ROUTE_DUCKDB_DIALECT;
        return;
    }
    if (rd->sem) { /* DuckDB would answer differently: SQLite's answer is the answer */
        st->reason = rd->sem;
        if (rd->semfn[0])
            set_table(st->table, rd->semfn, strlen(rd->semfn));
        return;
    }
    rd_pick(rd, st);
    rd_cost(rd, ctx, st);
    /* [x] and `x` are names to SQLite but a list or an operator to DuckDB */
    if (st->side == RHEI_SIDE_OLAP && (rd->flags & F_SQLITE_SYNTAX)) {
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
        name_to_table(&t, table);
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
        if (next_is(lx, RHEI__KW_OR) && stmt_next(lx, &t)) /* UPDATE OR IGNORE t */
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
            *flags |= F_EXPLAIN_QP;
        else if (kw != RHEI__KW_ANALYZE && kw != RHEI__KW_ANALYSE && kw != RHEI__KW_VERBOSE &&
                 !(kw == RHEI__KW_PLAN && (*flags & F_EXPLAIN_QP)))
            return 1;
        if (!stmt_next(lx, t))
            return 0;
    }
}

static void rd_init(rt_read *rd, unsigned flags)
{
    rd->depth = 0;
    rd->lv[0].state = ST_NONE;
    rd->lv[0].has_select = 0;
    rd->lv[0].real_chain = 0;
    rd->flags = flags;
    rd->prev_kw = rd->prev2_kw = RHEI__KW_NONE;
    rd->at_start = 1;
    rd->prev_dot = 0;
    rd->prev_arith = 0;
    rd->prev_close = 0;
    rd->prev_name.n = 0;
    rd->operand.n = 0;
    rd->operand_live = rd->operand_chain = 0;
    rd->expr_start = 1;
    memset(&rd->wh, 0, sizeof rd->wh);
    rd->ntables = rd->nctes = 0;
    rd->fn[0] = '\0';
    rd->sem = RHEI_ROUTE_EMPTY;
    rd->semfn[0] = '\0';
}

/* Reads a read statement from its first token t to its end. Returns 1 at the end of input. */
static int read_stmt(rhei__lex *lx, rhei__tok t, const rhei__route_ctx *ctx, unsigned flags,
                     rt_stmt *st)
{
    rt_read rd;
    rd_init(&rd, flags);
    rd.ctx = ctx;
    if (rhei__route_keyword(&t) == RHEI__KW_TABLE) { /* TABLE t: SELECT * FROM t */
        rd.lv[0].state = ST_TABLE_EXPECT;
        rd.lv[0].has_select = 1;
        rd.at_start = 0;
        rhei__route_lex_next(lx, &t);
    }
    while (t.type != RHEI__TOK_EOF && !rhei__route_tok_punct(&t, ';')) {
        int kw = rhei__route_keyword(&t);
        if (rd_is_write(&rd, lx, &t, kw)) {
            st->kind = K_WRITE;
            st->reason = RHEI_ROUTE_WRITE;
            write_target(lx, kw, st->table);
            return stmt_skip(lx);
        }
        if (!(rd.flags & F_TOO_COMPLEX))
            rd_token(&rd, lx, &t, kw);
        track_chain(&rd, &t, kw);
        track_operand(&rd, &t, kw);
        rd.prev2_kw = rd.prev_kw;
        rd.prev_kw = kw;
        rd.prev_dot = rhei__route_tok_punct(&t, '.');
        rd.prev_arith = rhei__route_is_arith(&t);
        rd.prev_close = rhei__route_tok_punct(&t, ')') || rhei__route_word_is(&t, "end");
        rd.prev_name = t;
        if (!rhei__route_is_name(&t))
            rd.prev_name.n = 0;
        rd.at_start = rhei__route_tok_punct(&t, '(');
        rhei__route_lex_next(lx, &t);
    }
    if (rd.lv[rd.depth].state == ST_TABLE_NAME || rd.lv[rd.depth].state == ST_TABLE_DOT)
        commit_pending(&rd);
    if (rd.wh.active)
        where_finish(&rd.wh);
    rd_decide(&rd, ctx, st);
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
    memcpy(out->table, res.table, TABLE_CAP);
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
