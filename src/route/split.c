/* split.c — the public SQL text helpers of rhei.h (rhei_sql_token, rhei_sql_statement,
 * rhei_sql_complete): statement boundaries for shells and front ends, on the router's own
 * SQLite-dialect tokenizer (lex.h) so no caller needs a second SQL lexer. Pure functions. */
#include "lex.h"
#include "rhei.h"
#include <string.h>

static rhei_sql_token_type public_type(rhei__tok_type t)
{
    switch (t) {
    case RHEI__TOK_WORD: return RHEI_SQL_WORD;
    case RHEI__TOK_QIDENT: return RHEI_SQL_QIDENT;
    case RHEI__TOK_STRING: return RHEI_SQL_STRING;
    case RHEI__TOK_NUMBER: return RHEI_SQL_NUMBER;
    case RHEI__TOK_PARAM: return RHEI_SQL_PARAM;
    case RHEI__TOK_PUNCT: return RHEI_SQL_PUNCT;
    case RHEI__TOK_OP: return RHEI_SQL_OP;
    default: return RHEI_SQL_EOF;
    }
}

rhei_sql_token_type rhei_sql_token(const char *sql, size_t len, size_t *pos, size_t *out_start,
                                   size_t *out_len)
{
    rhei__lex lx;
    rhei__tok t;
    if (!sql || !pos || *pos > len) {
        if (out_start)
            *out_start = pos ? *pos : 0;
        if (out_len)
            *out_len = 0;
        return RHEI_SQL_EOF;
    }
    rhei__route_lex_init(&lx, sql, len, RHEI__DIALECT_SQLITE);
    lx.pos = *pos;
    rhei__route_lex_next(&lx, &t);
    if (out_start)
        *out_start = t.type == RHEI__TOK_EOF ? len : (size_t)(t.p - sql);
    if (out_len)
        *out_len = t.n;
    *pos = t.type == RHEI__TOK_EOF ? len : lx.pos;
    return public_type(t.type);
}

/* Statement scanner: inside CREATE [TEMP] TRIGGER a ';' ends the statement only right after
 * END (as sqlite3_complete decides). */
typedef struct scan {
    int ntok;    /* tokens of the current statement so far */
    int trigger; /* the statement is CREATE [TEMP|TEMPORARY] TRIGGER */
    rhei__tok prev, prev2;
} scan;

static int word_is(const rhei__tok *t, const char *w)
{
    return t->type == RHEI__TOK_WORD && rhei__route_ci_eq(t->p, t->n, w, strlen(w));
}

/* Feeds one token; 1 when it is the ';' that ends the statement. */
static int scan_tok(scan *sc, const rhei__tok *t)
{
    if (rhei__route_tok_punct(t, ';')) {
        int ends = !sc->trigger || word_is(&sc->prev, "END");
        if (ends)
            memset(sc, 0, sizeof *sc);
        return ends;
    }
    if (sc->ntok == 1 || sc->ntok == 2)
        if (word_is(&sc->prev, "CREATE") ||
            (sc->ntok == 2 && word_is(&sc->prev2, "CREATE") &&
             (word_is(&sc->prev, "TEMP") || word_is(&sc->prev, "TEMPORARY"))))
            sc->trigger |= word_is(t, "TRIGGER");
    sc->ntok++;
    sc->prev2 = sc->prev;
    sc->prev = *t;
    return 0;
}

int rhei_sql_statement(const char *sql, size_t len, size_t *pos, size_t *out_start,
                       size_t *out_len)
{
    rhei__lex lx;
    rhei__tok t;
    scan sc;
    if (out_start)
        *out_start = pos ? *pos : 0;
    if (out_len)
        *out_len = 0;
    if (!sql || !pos || *pos >= len) {
        if (pos && sql)
            *pos = len;
        return 0;
    }
    memset(&sc, 0, sizeof sc);
    rhei__route_lex_init(&lx, sql, len, RHEI__DIALECT_SQLITE);
    lx.pos = *pos;
    size_t first = len, end = len;
    for (;;) {
        rhei__route_lex_next(&lx, &t);
        if (t.type == RHEI__TOK_EOF)
            break;
        if (scan_tok(&sc, &t)) {
            if (first < len) { /* a lone ';' (or ';;') is not a statement: go on */
                end = (size_t)(t.p - sql);
                break;
            }
            continue;
        }
        if (first == len)
            first = (size_t)(t.p - sql);
    }
    *pos = t.type == RHEI__TOK_EOF ? len : lx.pos;
    if (first == len)
        return 0; /* only blanks, comments and ';' were left */
    /* the statement runs to the end of its last token, trailing blanks excluded */
    while (end > first && (sql[end - 1] == ' ' || sql[end - 1] == '\t' || sql[end - 1] == '\n' ||
                           sql[end - 1] == '\r' || sql[end - 1] == '\f' || sql[end - 1] == '\v'))
        end--;
    if (out_start)
        *out_start = first;
    if (out_len)
        *out_len = end - first;
    return 1;
}

int rhei_sql_complete(const char *sql)
{
    rhei__lex lx;
    rhei__tok t;
    scan sc;
    int complete = 0;
    if (!sql)
        return 0;
    memset(&sc, 0, sizeof sc);
    rhei__route_lex_init(&lx, sql, strlen(sql), RHEI__DIALECT_SQLITE);
    for (rhei__route_lex_next(&lx, &t); t.type != RHEI__TOK_EOF; rhei__route_lex_next(&lx, &t))
        complete = scan_tok(&sc, &t);
    /* an unterminated quote or comment ran to the end: a ';' inside it does not count */
    return complete;
}
