/* sqltext.c — the little SQL reading a shell needs, on rhei.h's tokenizer and statement
 * splitter (rhei_sql_token, rhei_sql_statement: no second lexer here): the table a CREATE
 * TABLE makes, the shape of DROP TABLE / ALTER TABLE, and the tables a query names. Not a
 * parser: the engine's router decides routing. Any byte string is valid input. */
#include "rh.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

typedef enum tok_kind { T_END, T_WORD, T_QIDENT, T_STRING, T_SEMI, T_LPAREN, T_COMMA, T_DOT,
                        T_OTHER } tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *p;
    size_t n;
} tok;

/* A position in [base, base + len): the tokens come from rhei.h's rhei_sql_token. */
typedef struct lex {
    const char *base;
    size_t len, pos;
} lex;

static lex lex_of(const char *s, size_t len) { return (lex){s, len, 0}; }

static tok next(lex *l)
{
    size_t at = 0, n = 0;
    rhei_sql_token_type t = rhei_sql_token(l->base, l->len, &l->pos, &at, &n);
    tok out = {T_END, l->base + at, n};
    if (t == RHEI_SQL_EOF)
        return out;
    char c = l->base[at];
    out.kind = t == RHEI_SQL_WORD ? T_WORD : t == RHEI_SQL_QIDENT ? T_QIDENT
             : t == RHEI_SQL_STRING ? T_STRING
             : t != RHEI_SQL_PUNCT ? T_OTHER
             : c == ';' ? T_SEMI : c == '(' ? T_LPAREN : c == ',' ? T_COMMA
             : c == '.' ? T_DOT : T_OTHER;
    return out;
}

static int kw(tok t, const char *word)
{
    return t.kind == T_WORD && strlen(word) == t.n && strncasecmp(t.p, word, t.n) == 0;
}

int rh_sql_each(const char *text, rh_stmt_fn fn, void *ud)
{
    size_t len = strlen(text), pos = 0, at = 0, n = 0;
    while (rhei_sql_statement(text, len, &pos, &at, &n)) {
        int rc = fn(ud, text + at, n);
        if (rc)
            return rc;
    }
    return 0;
}

int rh_sql_complete(const char *text) { return rhei_sql_complete(text); }

int rh_sql_blank(const char *text)
{
    size_t pos = 0;
    return rhei_sql_token(text, strlen(text), &pos, NULL, NULL) == RHEI_SQL_EOF;
}

/* Copies an identifier token, unquoted, into name. */
static int ident(tok t, char *name, size_t cap)
{
    const char *p = t.p;
    size_t n = t.n, j = 0;
    if (t.kind == T_QIDENT && n >= 2) {
        char close = *p == '[' ? ']' : *p;
        p++, n -= 2;
        for (size_t i = 0; i < n && j + 1 < cap; i++) {
            name[j++] = p[i];
            if (p[i] == close && close != ']' && i + 1 < n && p[i + 1] == close)
                i++;
        }
    } else if (t.kind == T_WORD) {
        for (size_t i = 0; i < n && j + 1 < cap; i++)
            name[j++] = p[i];
    } else {
        return 0;
    }
    name[j] = '\0';
    return j > 0 && j + 1 < cap;
}

/* Reads [schema.]name at the lexer; only names in `main` (or unqualified) count. */
static int table_name(lex *l, char *name, size_t cap)
{
    if (!ident(next(l), name, cap))
        return 0;
    lex save = *l;
    if (next(l).kind == T_DOT) {
        int main_schema = strcasecmp(name, "main") == 0;
        if (!ident(next(l), name, cap))
            return 0;
        return main_schema;
    }
    *l = save;
    return 1;
}

int rh_sql_created_table(const char *stmt, size_t len, char *name, size_t cap)
{
    lex l = lex_of(stmt, len);
    if (!kw(next(&l), "CREATE"))
        return 0;
    tok t = next(&l);
    if (!kw(t, "TABLE"))
        return 0; /* TEMP tables vanish with their connection; VIRTUAL ones have no rows */
    lex save = l;
    if (kw(next(&l), "IF")) {
        if (!kw(next(&l), "NOT") || !kw(next(&l), "EXISTS"))
            return 0;
    } else {
        l = save;
    }
    return table_name(&l, name, cap);
}

int rh_sql_dropped_table(const char *stmt, size_t len, char *name, size_t cap)
{
    lex l = lex_of(stmt, len);
    if (!kw(next(&l), "DROP") || !kw(next(&l), "TABLE"))
        return 0;
    lex save = l;
    if (!kw(next(&l), "IF") || !kw(next(&l), "EXISTS"))
        l = save;
    return table_name(&l, name, cap);
}

int rh_sql_alter(const char *stmt, size_t len, rh_alter *out)
{
    lex l = lex_of(stmt, len);
    memset(out, 0, sizeof *out);
    if (!kw(next(&l), "ALTER") || !kw(next(&l), "TABLE") ||
        !table_name(&l, out->table, sizeof out->table))
        return 0;
    tok verb = next(&l);
    out->kind = kw(verb, "ADD") ? RH_ALTER_ADD : kw(verb, "DROP") ? RH_ALTER_DROP
                                                                  : RH_ALTER_OTHER;
    if (out->kind == RH_ALTER_OTHER)
        return 1;
    lex save = l;
    if (!kw(next(&l), "COLUMN"))
        l = save;
    if (!ident(next(&l), out->column, sizeof out->column)) {
        out->kind = RH_ALTER_OTHER; /* not a shape we can hand to the engine */
        return 1;
    }
    lex rest = l;
    tok first = next(&rest); /* the rest: type and constraints, as SQLite's ALTER takes them */
    out->decl = first.p;
    out->decl_len = (size_t)(stmt + len - first.p);
    while (out->decl_len && isspace((unsigned char)out->decl[out->decl_len - 1]))
        out->decl_len--;
    return 1;
}

void rh_sql_tables(const char *stmt, size_t len, rh_name_fn fn, void *ud)
{
    lex l = lex_of(stmt, len);
    char name[RH_NAME_MAX];
    for (tok t = next(&l); t.kind != T_END; t = next(&l)) {
        if (!kw(t, "FROM") && !kw(t, "JOIN") && !kw(t, "INTO") && !kw(t, "UPDATE"))
            continue;
        for (;;) { /* FROM a [AS] x, b y: a comma list of tables */
            lex at = l;
            if (!table_name(&l, name, sizeof name))
                break;
            lex after = l;
            tok n = next(&l);
            if (n.kind == T_LPAREN) { /* a table function, not a table */
                l = at;
                break;
            }
            fn(ud, name);
            if (kw(n, "AS"))
                n = next(&l), n = next(&l);
            else if (n.kind == T_WORD || n.kind == T_QIDENT)
                n = next(&l);
            if (n.kind != T_COMMA) {
                l = after;
                break;
            }
        }
    }
}

int rh_sql_first_word(const char *stmt, size_t len, char *word, size_t cap)
{
    lex l = lex_of(stmt, len);
    tok t = next(&l);
    word[0] = '\0';
    if (t.kind != T_WORD || t.n >= cap)
        return 0;
    for (size_t i = 0; i < t.n; i++)
        word[i] = (char)toupper((unsigned char)t.p[i]);
    word[t.n] = '\0';
    return 1;
}

int rh_sql_has_word(const char *stmt, size_t len, const char *word)
{
    lex l = lex_of(stmt, len);
    for (tok t = next(&l); t.kind != T_END; t = next(&l))
        if (kw(t, word))
            return 1;
    return 0;
}

static int has_punct(const char *stmt, size_t len, char c)
{
    lex l = lex_of(stmt, len);
    for (tok t = next(&l); t.kind != T_END; t = next(&l))
        if (t.n == 1 && *t.p == c && t.kind != T_STRING && t.kind != T_QIDENT)
            return 1;
    return 0;
}

rh_stmt_kind rh_sql_kind(const char *stmt, size_t len)
{
    /* every statement SQLite knows starts with one of these words */
    static const char *const starts[] = {
        "ALTER", "ANALYZE", "ATTACH", "BEGIN", "COMMIT", "CREATE", "DELETE", "DETACH", "DROP",
        "END", "EXPLAIN", "INSERT", "PRAGMA", "REINDEX", "RELEASE", "REPLACE", "ROLLBACK",
        "SAVEPOINT", "SELECT", "UPDATE", "VACUUM", "VALUES", "WITH"};
    char w[16];
    if (!rh_sql_first_word(stmt, len, w, sizeof w))
        return RH_STMT_UNKNOWN;
    size_t i = 0;
    while (i < sizeof starts / sizeof *starts && strcmp(w, starts[i]) != 0)
        i++;
    if (i == sizeof starts / sizeof *starts)
        return RH_STMT_UNKNOWN;
    if (!strcmp(w, "SELECT") || !strcmp(w, "VALUES") || !strcmp(w, "EXPLAIN"))
        return RH_STMT_ROWS;
    if (!strcmp(w, "PRAGMA"))
        return has_punct(stmt, len, '=') ? RH_STMT_WRITE : RH_STMT_PRAGMA;
    if (rh_sql_has_word(stmt, len, "RETURNING"))
        return RH_STMT_ROWS_WRITE;
    if (!strcmp(w, "WITH")) /* WITH ... SELECT reads; WITH ... INSERT/UPDATE/DELETE writes */
        return rh_sql_has_word(stmt, len, "INSERT") || rh_sql_has_word(stmt, len, "UPDATE") ||
                       rh_sql_has_word(stmt, len, "DELETE") || rh_sql_has_word(stmt, len, "REPLACE")
                   ? RH_STMT_DML
                   : RH_STMT_ROWS;
    if (!strcmp(w, "INSERT") || !strcmp(w, "UPDATE") || !strcmp(w, "DELETE") ||
        !strcmp(w, "REPLACE"))
        return RH_STMT_DML;
    return RH_STMT_WRITE;
}
