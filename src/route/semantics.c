/* semantics.c — the same-answer rules (README.md, "Same answer on either side"): the constructs
 * DuckDB answers differently from SQLite even with the engine's DuckDB settings. route.c asks
 * about each token of a read until one answers; that read then stays on SQLite, decided
 * before running. Each rule looks at most RHEI__ROUTE_LOOKAHEAD tokens ahead. */
#include "semantics.h"
#include <string.h>

/* CAST(x AS type): SQLite's conversions (text to number reads a prefix, REAL to INTEGER
 * truncates, numbers to text in its own format) are not DuckDB's. */
static rhei_route_reason cast_reason(const rhei__lex *lx)
{
    rhei__lex ahead = *lx;
    rhei__tok nx;
    int depth = 0;
    for (int i = 0; i < RHEI__ROUTE_LOOKAHEAD; i++) {
        rhei__route_lex_next(&ahead, &nx);
        if (nx.type == RHEI__TOK_EOF)
            break;
        depth += rhei__route_tok_punct(&nx, '(') - rhei__route_tok_punct(&nx, ')');
        if (depth == 1 && rhei__route_keyword(&nx) == RHEI__KW_AS) {
            rhei__route_lex_next(&ahead, &nx);
            for (size_t k = 0; nx.type == RHEI__TOK_WORD && k + 3 <= nx.n; k++)
                if (rhei__route_ci_eq(nx.p + k, 3, "int", 3))
                    return RHEI_ROUTE_SEM_CAST_INTEGER;
            break;
        }
        if (depth <= 0)
            break;
    }
    return RHEI_ROUTE_SEM_CAST;
}

/* name( : a call, unless the name is a keyword; only functions known to agree stay open. */
static rhei_route_reason sem_call(const rhei__lex *lx, const rhei__tok *t,
                                  const rhei__sem_prev *prev, rhei__tok *out_fn)
{
    int word = t->type == RHEI__TOK_WORD;
    if (word && !prev->dot && rhei__route_paren_word(t->p, t->n))
        return RHEI_ROUTE_EMPTY;
    if (word && rhei__route_word_is(t, "cast"))
        return cast_reason(lx);
    if (word && !prev->dot && rhei__route_agrees_function(t->p, t->n)) {
        if ((rhei__route_word_is(t, "min") || rhei__route_word_is(t, "max")) &&
            !rhei__route_aggregate_call(lx, t))
            return RHEI_ROUTE_SEM_SCALAR_MINMAX;
        return RHEI_ROUTE_EMPTY;
    }
    *out_fn = *t;
    return RHEI_ROUTE_SEM_FUNCTION;
}

/* An integer literal SQLite reads differently: hex, digit separators, beyond 64 bits (2^63
 * itself is allowed: it is how -9223372036854775808 is written). */
static int odd_number(const rhei__tok *t)
{
    size_t digits = 0;
    if (t->n > 1 && t->p[0] == '0' && (t->p[1] == 'x' || t->p[1] == 'X'))
        return 1;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] == '_')
            return 1;
        digits += t->p[i] >= '0' && t->p[i] <= '9';
    }
    return digits == t->n &&
           (t->n > 19 || (t->n == 19 && memcmp(t->p, "9223372036854775808", 19) > 0));
}

/* IS compares any two values in SQLite; only IS [NOT] NULL/TRUE/FALSE/DISTINCT agree. */
static int odd_is(const rhei__lex *lx)
{
    rhei__lex ahead = *lx;
    rhei__tok nx;
    rhei__route_lex_next(&ahead, &nx);
    if (rhei__route_keyword(&nx) == RHEI__KW_NOT)
        rhei__route_lex_next(&ahead, &nx);
    int kw = rhei__route_keyword(&nx);
    return !(kw == RHEI__KW_NULL || kw == RHEI__KW_TRUE || kw == RHEI__KW_FALSE ||
             kw == RHEI__KW_DISTINCT);
}

static rhei_route_reason sem_operator(const rhei__tok *t)
{
    if (t->type == RHEI__TOK_OP) {
        if (t->n == 2 && t->p[0] == '|')
            return RHEI_ROUTE_SEM_CONCAT;
        if (t->p[0] == '-' ||
            (t->n == 2 && (t->p[0] == '<' || t->p[0] == '>') && t->p[1] == t->p[0]))
            return t->p[0] == '-' ? RHEI_ROUTE_SEM_JSON_ARROW : RHEI_ROUTE_SEM_BITWISE;
        return RHEI_ROUTE_EMPTY;
    }
    switch (t->p[0]) {
    case '%':
        return RHEI_ROUTE_SEM_MODULO;
    case '&':
    case '|':
    case '~':
        return RHEI_ROUTE_SEM_BITWISE;
    }
    return RHEI_ROUTE_EMPTY;
}

/* 'text' + 1: SQLite reads a number prefix of the text, DuckDB converts it or fails. */
static int arith_next(const rhei__lex *lx)
{
    rhei__tok nx;
    rhei__route_lex_peek(lx, &nx);
    return rhei__route_is_arith(&nx);
}

/* The operand after '/' is computed ('(', CASE, a call, a sign): SQLite divides as integers
 * when that row's value is an INTEGER, DuckDB as the column's one type (a CASE or coalesce
 * mixing INTEGER and REAL is DOUBLE for every row). */
static int computed_next(const rhei__lex *lx)
{
    rhei__lex ahead = *lx;
    rhei__tok nx;
    rhei__route_lex_next(&ahead, &nx);
    if (rhei__route_tok_punct(&nx, '-') || rhei__route_tok_punct(&nx, '+')) {
        rhei__route_lex_next(&ahead, &nx); /* a signed literal is plain: 7 / -2 */
        return nx.type != RHEI__TOK_NUMBER;
    }
    if (rhei__route_tok_punct(&nx, '(') || rhei__route_word_is(&nx, "case"))
        return 1;
    if (!rhei__route_is_name(&nx))
        return 0;
    rhei__route_lex_next(&ahead, &nx);
    return rhei__route_tok_punct(&nx, '(');
}

rhei_route_reason rhei__route_semantics(const rhei__lex *lx, const rhei__tok *t, int kw,
                                        const rhei__sem_prev *prev, rhei__tok *out_fn)
{
    rhei__tok nx;
    out_fn->n = 0;
    if (rhei__route_is_name(t)) {
        rhei__route_lex_peek(lx, &nx);
        if (rhei__route_tok_punct(&nx, '('))
            return sem_call(lx, t, prev, out_fn);
    }
    if (rhei__route_tok_punct(t, '/') && !prev->real && (prev->close || computed_next(lx)))
        return RHEI_ROUTE_SEM_DIVIDE;
    if (t->type == RHEI__TOK_PUNCT || t->type == RHEI__TOK_OP)
        return sem_operator(t);
    if (t->type == RHEI__TOK_STRING && (arith_next(lx) || prev->arith))
        return RHEI_ROUTE_SEM_TEXT_AS_NUMBER;
    if (t->type == RHEI__TOK_STRING && (t->p[0] == 'x' || t->p[0] == 'X'))
        return RHEI_ROUTE_SEM_BLOB_LITERAL; /* DuckDB: the text 'x..' */
    if (t->type == RHEI__TOK_NUMBER && odd_number(t))
        return RHEI_ROUTE_SEM_INTEGER_LITERAL;
    if (kw == RHEI__KW_IS && odd_is(lx))
        return RHEI_ROUTE_SEM_IS;
    if (rhei__route_word_is(t, "like"))
        return RHEI_ROUTE_SEM_LIKE;
    if (rhei__route_word_is(t, "glob") || rhei__route_word_is(t, "regexp") ||
        rhei__route_word_is(t, "match"))
        return RHEI_ROUTE_SEM_GLOB;
    if (rhei__route_word_is(t, "collate"))
        return RHEI_ROUTE_SEM_COLLATE;
    return RHEI_ROUTE_EMPTY;
}
