/* names.c — rules for caller-supplied names and the declared-type grammar (see names.h).
 * The type grammar is a whitelist: a declaration is rebuilt from the tokens it parsed into,
 * so nothing but those tokens can reach SQL. */
#include "names.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Length of the UTF-8 sequence at p (1..4), or 0 if it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                                        : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)))
        return 0; /* overlong, or a UTF-16 surrogate */
    if (n == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)))
        return 0;
    return n;
}

int rhei__name_check(const char *what, const char *name, rhei__err *e)
{
    size_t len = strlen(name);
    if (len == 0)
        return rhei__err_set(e, RHEI_MISUSE, "%s name is empty", what);
    if (len >= RHEI_NAME_MAX)
        return rhei__err_set(e, RHEI_MISUSE, "%s name '%.40s...' is %zu bytes long: names"
                             " have at most %d bytes", what, name, len, RHEI_NAME_MAX - 1);
    for (const unsigned char *p = (const unsigned char *)name; *p;) {
        size_t n = utf8_len(p);
        if (n == 0)
            return rhei__err_set(e, RHEI_MISUSE, "%s name is not valid UTF-8 (byte %zu):"
                                 " DuckDB only takes UTF-8 names", what,
                                 (size_t)(p - (const unsigned char *)name));
        if (n == 1 && (*p < 0x20 || *p == 0x7f))
            return rhei__err_set(e, RHEI_MISUSE, "%s name '%s' contains a control character",
                                 what, name);
        p += n;
    }
    if (strncasecmp(name, "_rhei", 5) == 0)
        return rhei__err_set(e, RHEI_MISUSE, "%s name '%s' starts with '_rhei', which is"
                             " reserved for rhei's own tables and columns", what, name);
    if (strcmp(what, "table") == 0 && strncasecmp(name, "sqlite_", 7) == 0)
        return rhei__err_set(e, RHEI_MISUSE, "table name '%s' starts with 'sqlite_', which is"
                             " reserved for SQLite's own tables", name);
    return RHEI_OK;
}

int rhei__name_eq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

/* --- declared types ----------------------------------------------------------------------- */

typedef enum { T_END, T_WORD, T_NUM, T_STR, T_LP, T_RP, T_COMMA, T_BAD } ttype;

typedef struct dlex {
    const char *p;
    const char *tok;
    size_t n;
    ttype t;
} dlex;

static int is_word_start(int c) { return isalpha(c) || c == '_'; }
static int is_word_char(int c) { return isalnum(c) || c == '_'; }

static void next(dlex *l)
{
    while (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r')
        l->p++;
    const char *s = l->p;
    l->tok = s;
    unsigned char c = (unsigned char)*s;
    if (!c) {
        l->t = T_END;
    } else if (is_word_start(c)) {
        while (is_word_char((unsigned char)*l->p))
            l->p++;
        l->t = T_WORD;
    } else if (isdigit(c) || ((c == '+' || c == '-' || c == '.') && s[1])) {
        const char *q = s + (c == '+' || c == '-');
        size_t digits = 0;
        for (; isdigit((unsigned char)*q); q++)
            digits++;
        if (*q == '.')
            for (q++; isdigit((unsigned char)*q); q++)
                digits++;
        if (digits && (*q == 'e' || *q == 'E')) {
            const char *x = q + 1 + (q[1] == '+' || q[1] == '-');
            if (isdigit((unsigned char)*x)) {
                while (isdigit((unsigned char)*x))
                    x++;
                q = x;
            }
        }
        l->p = q;
        l->t = digits && !is_word_char((unsigned char)*q) ? T_NUM : T_BAD;
    } else if (c == '\'') {
        const char *q = s + 1;
        for (;; q++) {
            if (!*q) {
                l->t = T_BAD;
                l->p = q;
                l->n = (size_t)(l->p - s);
                return;
            }
            if (*q == '\'' && q[1] == '\'')
                q++;
            else if (*q == '\'')
                break;
        }
        l->p = q + 1;
        l->t = T_STR;
    } else {
        l->p++;
        l->t = c == '(' ? T_LP : c == ')' ? T_RP : c == ',' ? T_COMMA : T_BAD;
    }
    l->n = (size_t)(l->p - s);
}

static int word_is(const dlex *l, const char *w)
{
    return l->t == T_WORD && strlen(w) == l->n && strncasecmp(l->tok, w, l->n) == 0;
}

/* Words that start or belong to a constraint: never part of a type name. */
static int constraint_word(const dlex *l)
{
    static const char *const kw[] = {"DEFAULT", "NOT", "NULL", "COLLATE", "PRIMARY", "UNIQUE",
                                     "CHECK", "REFERENCES", "CONSTRAINT", "GENERATED", "AS",
                                     "KEY", "ON", "AUTOINCREMENT", "ASC", "DESC", "STORED",
                                     "VIRTUAL", "ALWAYS"};
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (word_is(l, kw[i]))
            return 1;
    return 0;
}

static int bad(const char *decl, const dlex *l, const char *want, rhei__err *e)
{
    return rhei__err_set(e, RHEI_MISUSE, "invalid declared type '%s': expected %s at '%.*s'",
                         decl, want, l->t == T_END ? 5 : (int)(l->n > 40 ? 40 : l->n),
                         l->t == T_END ? "(end)" : l->tok);
}

static void put_tok(rhei__buf *out, const dlex *l) { rhei__buf_append(out, l->tok, l->n); }

/* "(" digits [ "," digits ] ")" after the type words. */
static int type_args(const char *decl, dlex *l, rhei__buf *out, rhei__err *e)
{
    rhei__buf_puts(out, "(");
    for (int i = 0; i < 2; i++) {
        next(l);
        if (l->t != T_NUM || !isdigit((unsigned char)l->tok[0]) || l->n > 9 ||
            strspn(l->tok, "0123456789") < l->n)
            return bad(decl, l, "a whole number", e);
        put_tok(out, l);
        next(l);
        if (l->t == T_RP)
            break;
        if (l->t != T_COMMA || i == 1)
            return bad(decl, l, i ? "')'" : "',' or ')'", e);
        rhei__buf_puts(out, ",");
    }
    rhei__buf_puts(out, ")");
    next(l);
    return RHEI_OK;
}

/* DEFAULT literal | NOT NULL | NULL | COLLATE word, any number of times. */
static int constraints(const char *decl, dlex *l, rhei__buf *out, rhei__err *e)
{
    while (l->t != T_END) {
        if (word_is(l, "DEFAULT")) {
            next(l);
            int lit = l->t == T_NUM || l->t == T_STR || word_is(l, "NULL") ||
                      word_is(l, "TRUE") || word_is(l, "FALSE");
            if (!lit)
                return bad(decl, l, "a number, a 'string', NULL, TRUE or FALSE", e);
            rhei__buf_puts(out, " DEFAULT ");
            put_tok(out, l); /* a STR token is a complete literal: quotes were matched */
        } else if (word_is(l, "NOT")) {
            next(l);
            if (!word_is(l, "NULL"))
                return bad(decl, l, "NULL", e);
            rhei__buf_puts(out, " NOT NULL");
        } else if (word_is(l, "NULL")) {
            rhei__buf_puts(out, " NULL");
        } else if (word_is(l, "COLLATE")) {
            next(l);
            if (l->t != T_WORD)
                return bad(decl, l, "a collation name", e);
            rhei__buf_puts(out, " COLLATE ");
            put_tok(out, l);
        } else {
            return bad(decl, l, "DEFAULT, NOT NULL, NULL or COLLATE", e);
        }
        next(l);
    }
    return RHEI_OK;
}

int rhei__decl_canon(const char *decl, int allow_constraints, rhei__buf *out, rhei__err *e)
{
    dlex l = {decl, decl, 0, T_END};
    int words = 0, rc = RHEI_OK;
    if (strlen(decl) > 256)
        return rhei__err_set(e, RHEI_MISUSE, "declared type '%.40s...' is longer than 256"
                             " bytes", decl);
    next(&l);
    while (l.t == T_WORD && !constraint_word(&l)) {
        if (++words > 4)
            return bad(decl, &l, "at most four words in a type name", e);
        if (words > 1)
            rhei__buf_puts(out, " ");
        put_tok(out, &l);
        next(&l);
    }
    if (words && l.t == T_LP)
        rc = type_args(decl, &l, out, e);
    if (rc == RHEI_OK && l.t != T_END) {
        if (!allow_constraints)
            return bad(decl, &l, words ? "'(' or the end" : "a type name", e);
        rc = constraints(decl, &l, out, e);
    }
    return rc ? rc : rhei__buf_check(out, e);
}
