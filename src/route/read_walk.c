/* read_walk.c — the read walker: one pass over a read statement's tokens, following the
 * parenthesis depth and what each depth is in the middle of (FROM list, CTE list, ...), to
 * collect the tables, CTEs, features and same-answer reason route.c decides on.
 * Invariant: past a bound (depth, tables, CTEs, name length) the walk sets
 * RHEI__READ_TOO_COMPLEX and stops reading tokens into its state; route.c then keeps the
 * read on SQLite. */
#include "read_walk.h"
#include "semantics.h"
#include <string.h>

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

/* States of the WHERE recogniser (rhei__route_where.state). */
enum { WM_OPERAND, WM_COL, WM_DOT, WM_SIGN, WM_LIT };

/* --- names -------------------------------------------------------------------------------- */

static int is_utf8_cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* Copies a name into a route-info table field, cut at a character boundary if too long. A
 * UTF-8 character has at most 3 continuation bytes: a longer run is not UTF-8 and is cut
 * anywhere (backing off over it could lose the whole name). */
void rhei__route_copy_name(char *dst, const char *p, size_t n)
{
    if (n > RHEI__ROUTE_TABLE_CAP - 1) {
        size_t cut = RHEI__ROUTE_TABLE_CAP - 1;
        for (int k = 0; k < 3 && is_utf8_cont(p[cut]); k++)
            cut--;
        n = is_utf8_cont(p[cut]) ? RHEI__ROUTE_TABLE_CAP - 1 : cut;
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

void rhei__route_tok_name(const rhei__tok *t, char *table)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(t, name, sizeof name);
    if (n == (size_t)-1)
        rhei__route_copy_name(table, t->p, t->n);
    else
        rhei__route_copy_name(table, name, n);
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
static void commit_pending(rhei__route_read *rd)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(&rd->pending, name, sizeof name);
    if (n == (size_t)-1) {
        rd->flags |= RHEI__READ_TOO_COMPLEX;
        return;
    }
    if (find_name(rd->ctes, rd->clen, rd->nctes, name, n) ||
        find_name(rd->tables, rd->tlen, rd->ntables, name, n))
        return;
    if (rd->ntables == RHEI__ROUTE_MAX_TABLES) {
        rd->flags |= RHEI__READ_TOO_COMPLEX;
        return;
    }
    memcpy(rd->tables[rd->ntables], name, n + 1);
    rd->tlen[rd->ntables++] = n;
}

static void add_cte(rhei__route_read *rd, const rhei__tok *t)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(t, name, sizeof name);
    if (n == (size_t)-1 || rd->nctes == RHEI__ROUTE_MAX_CTES) {
        rd->flags |= RHEI__READ_TOO_COMPLEX;
        return;
    }
    memcpy(rd->ctes[rd->nctes], name, n + 1);
    rd->clen[rd->nctes++] = n;
}

/* The pending name is followed by '(': a table-valued function, not a table. */
static void table_function(rhei__route_read *rd)
{
    char name[RHEI__ROUTE_MAX_NAME];
    size_t n = unquote(&rd->pending, name, sizeof name);
    if (n == (size_t)-1) {
        rd->flags |= RHEI__READ_TOO_COMPLEX;
        return;
    }
    rd->flags |=
        rhei__route_is_sqlite_function(name, n) ? RHEI__READ_SQLITE_FN : RHEI__READ_OLAP_FN;
    if (rd->fn[0] == '\0')
        rhei__route_copy_name(rd->fn, name, n);
}

/* --- the outermost WHERE: point lookup or not --------------------------------------------- */

static void where_start(rhei__route_where *w)
{
    memset(w, 0, sizeof *w);
    w->active = 1;
}

static void where_term_end(rhei__route_where *w)
{
    if (w->ncol != 1 || w->nlit != 1)
        w->fail = 1;
    w->side = w->ncol = w->nlit = 0;
    w->state = WM_OPERAND;
}

static void where_operand(rhei__route_where *w, const rhei__tok *t, int kw)
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

static void where_feed(rhei__route_where *w, const rhei__tok *t, int kw)
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

static void where_finish(rhei__route_where *w)
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
    case RHEI__KW_GROUP:
    case RHEI__KW_ORDER:
    case RHEI__KW_LIMIT:
    case RHEI__KW_HAVING:
    case RHEI__KW_WINDOW:
    case RHEI__KW_UNION:
    case RHEI__KW_INTERSECT:
    case RHEI__KW_EXCEPT:
    case RHEI__KW_RETURNING:
    case RHEI__KW_FETCH:
    case RHEI__KW_OFFSET:
    case RHEI__KW_QUALIFY:
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

static void rd_push(rhei__route_read *rd, int state)
{
    if (rd->depth + 1 >= RHEI__ROUTE_MAX_DEPTH) {
        rd->flags |= RHEI__READ_TOO_COMPLEX;
        return;
    }
    rd->depth++;
    rd->lv[rd->depth].state = (unsigned char)state;
    rd->lv[rd->depth].has_select = 0;
    rd->lv[rd->depth].real_chain = 0;
}

static void rd_open(rhei__route_read *rd, const rhei__lex *lx)
{
    rhei__route_level *l = &rd->lv[rd->depth];
    rhei__tok nx;
    int nkw, subquery, child = ST_NONE;
    rhei__route_lex_peek(lx, &nx);
    nkw = rhei__route_keyword(&nx);
    subquery = nkw == RHEI__KW_SELECT || nkw == RHEI__KW_WITH || nkw == RHEI__KW_VALUES;
    if (l->state == ST_CTE_AS) {
        l->state = ST_CTE_AFTER_BODY; /* a CTE body is counted as "cte", not "subquery" */
    } else {
        if (subquery)
            rd->flags |= RHEI__READ_SUBQUERY;
        if (l->state == ST_TABLE_EXPECT) {
            l->state = ST_AFTER_TABLE;
            if (!subquery)
                child = ST_TABLE_EXPECT; /* FROM (a JOIN b) */
        }
    }
    rd_push(rd, child);
}

/* Continues a table reference in ST_TABLE_NAME / ST_TABLE_DOT. 1 if t was consumed. */
static int rd_table_name(rhei__route_read *rd, const rhei__tok *t)
{
    rhei__route_level *l = &rd->lv[rd->depth];
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

static void rd_punct(rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t)
{
    rhei__route_level *l = &rd->lv[rd->depth];
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
            rd->flags |= RHEI__READ_JOIN; /* FROM a, b */
        } else if (l->state == ST_CTE_AFTER_BODY) {
            l->state = ST_CTE_NAME;
        }
        break;
    }
}

/* A name, keyword or string in a state that expects one. 1 if t was consumed. */
static int rd_state_word(rhei__route_read *rd, const rhei__tok *t, int kw)
{
    rhei__route_level *l = &rd->lv[rd->depth];
    int word = t->type == RHEI__TOK_WORD;
    switch (l->state) {
    case ST_TABLE_EXPECT:
        if (t->type == RHEI__TOK_STRING) { /* FROM 'file.parquet': a DuckDB file scan */
            rd->flags |= RHEI__READ_OLAP_FN;
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

static void rd_keyword(rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    rhei__route_level *l = &rd->lv[rd->depth];
    rhei__tok nx;
    switch (kw) {
    case RHEI__KW_SELECT:
        l->has_select = 1;
        break;
    case RHEI__KW_FROM:
        /* "a IS [NOT] DISTINCT FROM b" compares; EXTRACT(x FROM y) has no SELECT at its depth */
        if (l->has_select && !(rd->prev_kw == RHEI__KW_DISTINCT &&
                               (rd->prev2_kw == RHEI__KW_IS || rd->prev2_kw == RHEI__KW_NOT)))
            l->state = ST_TABLE_EXPECT;
        break;
    case RHEI__KW_JOIN:
        rd->flags |= RHEI__READ_JOIN;
        l->state = ST_TABLE_EXPECT;
        break;
    case RHEI__KW_WHERE:
        l->state = ST_NONE;
        if (rd->depth == 0) {
            rd->flags |= RHEI__READ_WHERE;
            where_start(&rd->wh);
        }
        break;
    case RHEI__KW_GROUP:
        if (rhei__route_next_is(lx, RHEI__KW_BY))
            rd->flags |= RHEI__READ_GROUP;
        break;
    case RHEI__KW_HAVING:
        rd->flags |= RHEI__READ_HAVING;
        break;
    case RHEI__KW_ORDER:
        if (rd->depth == 0 && rhei__route_next_is(lx, RHEI__KW_BY))
            rd->flags |= RHEI__READ_ORDER;
        break;
    case RHEI__KW_LIMIT:
    case RHEI__KW_FETCH:
        if (rd->depth == 0)
            rd->flags |= RHEI__READ_LIMIT;
        break;
    case RHEI__KW_OVER:
        rhei__route_lex_peek(lx, &nx);
        /* OVER (...) or OVER w; a column named "over" is followed by FROM, ',', ... */
        if (rhei__route_tok_punct(&nx, '(') ||
            (rhei__route_is_name(&nx) && rhei__route_keyword(&nx) == RHEI__KW_NONE))
            rd->flags |= RHEI__READ_WINDOW;
        break;
    case RHEI__KW_DISTINCT:
        if (!(rd->prev_kw == RHEI__KW_IS ||
              (rd->prev_kw == RHEI__KW_NOT && rd->prev2_kw == RHEI__KW_IS)))
            rd->flags |= RHEI__READ_DISTINCT;
        break;
    case RHEI__KW_UNION:
    case RHEI__KW_INTERSECT:
    case RHEI__KW_EXCEPT:
        rd->flags |= RHEI__READ_SETOP;
        break;
    case RHEI__KW_WITH:
        if (rd->at_start) {
            rd->flags |= RHEI__READ_CTE;
            l->state = ST_CTE_NAME;
        }
        break;
    default:
        if (!rd->prev_dot && rhei__route_is_aggregate(t->p, t->n) &&
            rhei__route_aggregate_call(lx, t))
            rd->flags |= window_call(lx) ? RHEI__READ_WINDOW
                                         : RHEI__READ_AGG; /* sum(x) OVER (...): a window */
    }
}

/* 1 if an operand of the '/' at lx names a column of NUMERIC affinity (the name before it,
 * or the one after it, or after its qualifier). */
static int divides_numeric(const rhei__route_read *rd, const rhei__lex *lx)
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
static int like_rewritten(const rhei__route_read *rd, const rhei__lex *lx)
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
static void track_chain(rhei__route_read *rd, const rhei__tok *t, int kw)
{
    rhei__route_level *l = &rd->lv[rd->depth];
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
static void track_operand(rhei__route_read *rd, const rhei__tok *t, int kw)
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

static void rd_token(rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    int state = rd->lv[rd->depth].state;
    if (!rd->sem && (state == ST_NONE || state == ST_AFTER_TABLE)) {
        rhei__sem_prev prev = {rd->prev_dot, rd->prev_arith, rd->prev_close,
                               rd->lv[rd->depth].real_chain};
        rhei__tok fn;
        rd->sem = rhei__route_semantics(lx, t, kw, &prev, &fn);
        if (fn.n > 0)
            rhei__route_tok_name(&fn, rd->semfn);
        if (!rd->sem && rhei__route_tok_punct(t, '/') && !prev.real && divides_numeric(rd, lx))
            rd->sem = RHEI_ROUTE_SEM_DIVIDE;
        if (rd->sem == RHEI_ROUTE_SEM_LIKE && like_rewritten(rd, lx))
            rd->sem = RHEI_ROUTE_EMPTY;
    }
    if (t->type == RHEI__TOK_QIDENT && (t->p[0] == '[' || t->p[0] == '`'))
        rd->flags |= RHEI__READ_SQLITE_SYNTAX;
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
int rhei__route_read_is_write(const rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t,
                              int kw)
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
    case RHEI__KW_MERGE:
        return rhei__route_next_is(lx, RHEI__KW_INTO);
    }
    return 0;
}

void rhei__route_read_init(rhei__route_read *rd, const rhei__route_ctx *ctx, unsigned flags,
                           int table_stmt)
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
    rd->ctx = ctx;
    if (table_stmt) { /* TABLE t: SELECT * FROM t */
        rd->lv[0].state = ST_TABLE_EXPECT;
        rd->lv[0].has_select = 1;
        rd->at_start = 0;
    }
}

void rhei__route_read_token(rhei__route_read *rd, const rhei__lex *lx, const rhei__tok *t, int kw)
{
    if (!(rd->flags & RHEI__READ_TOO_COMPLEX))
        rd_token(rd, lx, t, kw);
    track_chain(rd, t, kw);
    track_operand(rd, t, kw);
    rd->prev2_kw = rd->prev_kw;
    rd->prev_kw = kw;
    rd->prev_dot = rhei__route_tok_punct(t, '.');
    rd->prev_arith = rhei__route_is_arith(t);
    rd->prev_close = rhei__route_tok_punct(t, ')') || rhei__route_word_is(t, "end");
    rd->prev_name = *t;
    if (!rhei__route_is_name(t))
        rd->prev_name.n = 0;
    rd->at_start = rhei__route_tok_punct(t, '(');
}

void rhei__route_read_end(rhei__route_read *rd)
{
    if (rd->lv[rd->depth].state == ST_TABLE_NAME || rd->lv[rd->depth].state == ST_TABLE_DOT)
        commit_pending(rd);
    if (rd->wh.active)
        where_finish(&rd->wh);
}
