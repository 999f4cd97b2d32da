/* sqltext.c — just enough SQL lexing for a shell: where statements end (quotes, comments and
 * CREATE TRIGGER bodies respected), the table a CREATE TABLE makes, and the tables a query
 * names, and the shape of DROP TABLE / ALTER TABLE. Not a parser: the engine's router decides routing; this only finds boundaries.
 * Any byte string is valid input; nothing reads past the terminating NUL. */
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

typedef struct lex {
    const char *s, *end;
} lex;

static int is_word(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* Skips whitespace and comments; an unterminated comment runs to the end. */
static void skip_space(lex *l)
{
    for (;;) {
        while (l->s < l->end && isspace((unsigned char)*l->s))
            l->s++;
        if (l->end - l->s >= 2 && l->s[0] == '-' && l->s[1] == '-') {
            while (l->s < l->end && *l->s != '\n')
                l->s++;
        } else if (l->end - l->s >= 2 && l->s[0] == '/' && l->s[1] == '*') {
            const char *e = l->s + 2;
            while (e < l->end && !(e[0] == '*' && e + 1 < l->end && e[1] == '/'))
                e++;
            l->s = e < l->end ? e + 2 : l->end;
        } else {
            return;
        }
    }
}

/* Quoted text ending at `close` (doubled to escape); unterminated runs to the end. */
static const char *skip_quoted(const char *p, const char *end, char close)
{
    for (p++; p < end; p++)
        if (*p == close) {
            if (close != ']' && p + 1 < end && p[1] == close)
                p++;
            else
                return p + 1;
        }
    return end;
}

static tok next(lex *l)
{
    skip_space(l);
    tok t = {T_END, l->s, 0};
    if (l->s >= l->end)
        return t;
    unsigned char c = (unsigned char)*l->s;
    const char *e = l->s + 1;
    if (c == '\'') {
        t.kind = T_STRING, e = skip_quoted(l->s, l->end, '\'');
    } else if (c == '"' || c == '`' || c == '[') {
        t.kind = T_QIDENT, e = skip_quoted(l->s, l->end, c == '[' ? ']' : (char)c);
    } else if (is_word(c)) {
        t.kind = T_WORD;
        while (e < l->end && is_word((unsigned char)*e))
            e++;
    } else {
        t.kind = c == ';' ? T_SEMI : c == '(' ? T_LPAREN : c == ',' ? T_COMMA
                 : c == '.' ? T_DOT : T_OTHER;
    }
    t.n = (size_t)(e - l->s);
    l->s = e;
    return t;
}

static int kw(tok t, const char *word)
{
    return t.kind == T_WORD && strlen(word) == t.n && strncasecmp(t.p, word, t.n) == 0;
}

/* Statement scanner state: inside CREATE TRIGGER a ';' ends the statement only after END. */
typedef struct scan {
    int ntok;       /* tokens seen in the current statement */
    int trigger;    /* the statement is CREATE [TEMP] TRIGGER */
    tok prev, prev2;
} scan;

/* Feeds one token; returns 1 when it ends a statement. */
static int scan_tok(scan *sc, tok t)
{
    if (t.kind == T_SEMI) {
        int ends = !sc->trigger || kw(sc->prev, "END");
        if (ends)
            *sc = (scan){0};
        return ends;
    }
    if (sc->ntok == 1 || sc->ntok == 2)
        if (kw(sc->prev, "CREATE") || (sc->ntok == 2 && kw(sc->prev2, "CREATE") &&
                                       (kw(sc->prev, "TEMP") || kw(sc->prev, "TEMPORARY"))))
            sc->trigger |= kw(t, "TRIGGER");
    sc->ntok++;
    sc->prev2 = sc->prev;
    sc->prev = t;
    return 0;
}

int rh_sql_each(const char *text, rh_stmt_fn fn, void *ud)
{
    lex l = {text, text + strlen(text)};
    scan sc = {0};
    const char *start = text;
    for (;;) {
        tok t = next(&l);
        int ends = t.kind == T_END || scan_tok(&sc, t);
        if (ends) {
            size_t len = (size_t)(t.p - start);
            lex piece = {start, t.p};
            /* comment-only pieces are not statements */
            int rc = next(&piece).kind == T_END ? 0 : fn(ud, start, len);
            if (rc || t.kind == T_END)
                return rc;
            start = t.p + t.n;
        }
    }
}

int rh_sql_complete(const char *text)
{
    lex l = {text, text + strlen(text)};
    scan sc = {0};
    int complete = 0;
    for (tok t = next(&l); t.kind != T_END; t = next(&l)) {
        int ends = scan_tok(&sc, t);
        complete = ends;
    }
    /* an unterminated quote or comment ran to the end: the ';' inside it does not count */
    return complete;
}

int rh_sql_blank(const char *text)
{
    lex l = {text, text + strlen(text)};
    return next(&l).kind == T_END;
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
    lex l = {stmt, stmt + len};
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
    lex l = {stmt, stmt + len};
    if (!kw(next(&l), "DROP") || !kw(next(&l), "TABLE"))
        return 0;
    lex save = l;
    if (!kw(next(&l), "IF") || !kw(next(&l), "EXISTS"))
        l = save;
    return table_name(&l, name, cap);
}

int rh_sql_alter(const char *stmt, size_t len, rh_alter *out)
{
    lex l = {stmt, stmt + len};
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
    skip_space(&l);
    out->decl = l.s; /* the rest: type and constraints, as SQLite's ALTER takes them */
    out->decl_len = (size_t)(l.end - l.s);
    while (out->decl_len && isspace((unsigned char)out->decl[out->decl_len - 1]))
        out->decl_len--;
    return 1;
}

void rh_sql_tables(const char *stmt, size_t len, rh_name_fn fn, void *ud)
{
    lex l = {stmt, stmt + len};
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
