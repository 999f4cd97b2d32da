/* lex.c — the router's tokenizer and word tables (keywords, aggregates, SQLite-only table
 * functions). Every scan loop checks its index against the input length before reading, and
 * every call advances by at least one byte, so any input ends in RHEI__TOK_EOF. The dialects
 * (lex.h) differ only in comments, quoting and the meaning of '$'. */
#include "lex.h"
#include <string.h>

/* Dollar-quote tags longer than this are read as a $name parameter instead, which bounds the
 * cost of searching for the closing tag. */
#define LEX_MAX_DOLLAR_TAG 64

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Bytes >= 0x80 are letters, as in SQLite: UTF-8 names (and invalid UTF-8) stay one word. */
static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c) { return is_ident_start(c) || is_digit(c) || c == '$'; }

static unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

int rhei__route_ci_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

void rhei__route_lex_init(rhei__lex *lx, const char *s, size_t n, rhei__dialect dialect)
{
    lx->s = s;
    lx->n = s ? n : 0;
    lx->pos = 0;
    lx->dialect = dialect;
}

/* End of the block comment opened at s[i] (DuckDB's nest); unterminated: the end of input. */
static size_t skip_comment(const char *s, size_t n, size_t i, int nest)
{
    size_t depth = 1;
    for (i += 2; i < n; i++) {
        if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
            i++;
            if (--depth == 0)
                return i + 1;
        } else if (nest && s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            i++;
            depth++;
        }
    }
    return n;
}

/* Skips whitespace, -- line comments and block comments. */
static size_t skip_blank(const char *s, size_t n, size_t i, int nest)
{
    for (;;) {
        while (i < n && is_space((unsigned char)s[i]))
            i++;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
            i = skip_comment(s, n, i, nest);
        } else {
            return i;
        }
    }
}

/* End of a quoted span opened at s[i]; a doubled close byte is an escape except for ]. */
static size_t scan_quoted(const char *s, size_t n, size_t i, char close, int backslash)
{
    for (i++; i < n; i++) {
        if (backslash && s[i] == '\\') {
            if (i + 1 < n)
                i++;
            continue;
        }
        if (s[i] != close)
            continue;
        if (close != ']' && i + 1 < n && s[i + 1] == close) {
            i++;
            continue;
        }
        return i + 1;
    }
    return n;
}

static size_t scan_number(const char *s, size_t n, size_t i)
{
    if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        for (i += 2; i < n && is_ident_char((unsigned char)s[i]); i++)
            ;
        return i;
    }
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == 'e' || c == 'E') {
            i++;
            if (i < n && (s[i] == '+' || s[i] == '-'))
                i++;
        } else if (is_digit(c) || c == '.' || is_ident_char(c)) {
            i++; /* letters glued to a number (1abc) stay in it: one token, never a word */
        } else {
            break;
        }
    }
    return i;
}

/* At '$' in DuckDB: a dollar-quoted string ($$..$$, $tag$..$tag$) or a $name / $N parameter. */
static size_t scan_dollar(const char *s, size_t n, size_t i, rhei__tok_type *type)
{
    size_t t = i + 1;
    while (t < n && t - i <= LEX_MAX_DOLLAR_TAG &&
           (is_ident_start((unsigned char)s[t]) || (t > i + 1 && is_digit((unsigned char)s[t]))))
        t++;
    if (t < n && s[t] == '$' && t - i <= LEX_MAX_DOLLAR_TAG) {
        size_t tag = t + 1 - i; /* bytes of "$tag$" */
        *type = RHEI__TOK_STRING;
        for (size_t j = t + 1; j + tag <= n; j++)
            if (s[j] == '$' && memcmp(s + j, s + i, tag) == 0)
                return j + tag;
        return n;
    }
    *type = RHEI__TOK_PARAM;
    for (t = i + 1; t < n && is_ident_char((unsigned char)s[t]) && s[t] != '$'; t++)
        ;
    return t;
}

static size_t scan_op(const char *s, size_t n, size_t i, rhei__tok_type *type)
{
    static const char *const ops[] = {"->>", "<=", ">=", "<>", "!=", "==", "||", "::",
                                      "->",  "<<", ">>"};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t len = strlen(ops[k]);
        if (i + len <= n && memcmp(s + i, ops[k], len) == 0) {
            *type = RHEI__TOK_OP;
            return i + len;
        }
    }
    *type = RHEI__TOK_PUNCT;
    return i + 1;
}

/* A parameter: ?N, or a sigil and the name bytes after it (SQLite's include '$'). 0 for a bare
 * ':', '@' or '$', which is then punctuation, as SQLite rejects it. */
static size_t scan_param(const char *s, size_t n, size_t i, rhei__tok_type *type)
{
    size_t j = i + 1;
    while (j < n && (s[i] == '?' ? is_digit((unsigned char)s[j]) : is_ident_char((unsigned char)s[j])))
        j++;
    if (j == i + 1 && s[i] != '?')
        return 0;
    *type = RHEI__TOK_PARAM;
    return j;
}

/* Tokens that start with a letter, a digit or a sigil; 0 when s[i] starts none of them. */
static size_t scan_special(const char *s, size_t n, size_t i, int duckdb, rhei__tok_type *type)
{
    unsigned char c = (unsigned char)s[i];
    unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
    int e_string = duckdb && (c == 'e' || c == 'E');
    if ((e_string || c == 'x' || c == 'X') && d == '\'') { /* E'\n' (DuckDB), X'00' */
        *type = RHEI__TOK_STRING;
        return scan_quoted(s, n, i + 1, '\'', e_string);
    }
    if (is_ident_start(c)) {
        size_t j = i + 1;
        while (j < n && is_ident_char((unsigned char)s[j]))
            j++;
        *type = RHEI__TOK_WORD;
        return j;
    }
    if (is_digit(c) || (c == '.' && is_digit(d))) {
        *type = RHEI__TOK_NUMBER;
        return scan_number(s, n, i);
    }
    if (c == '$' && duckdb && i + 1 < n)
        return scan_dollar(s, n, i, type);
    if (c == '?' || c == '$' || c == '@' || (c == ':' && d != ':'))
        return scan_param(s, n, i, type);
    return 0;
}

void rhei__route_lex_next(rhei__lex *lx, rhei__tok *out)
{
    const char *s = lx->s;
    int sqlite = lx->dialect == RHEI__DIALECT_SQLITE;
    size_t n = lx->n, i = skip_blank(s, n, lx->pos, !sqlite), end = 0;
    rhei__tok_type type = RHEI__TOK_PUNCT;
    if (i >= n) {
        lx->pos = n;
        out->type = RHEI__TOK_EOF;
        out->p = s ? s + n : "";
        out->n = 0;
        return;
    }
    if (s[i] == '\'' || s[i] == '"' || (sqlite && (s[i] == '`' || s[i] == '['))) {
        type = s[i] == '\'' ? RHEI__TOK_STRING : RHEI__TOK_QIDENT;
        end = scan_quoted(s, n, i, s[i] == '[' ? ']' : s[i], 0);
    } else {
        end = scan_special(s, n, i, !sqlite, &type);
        if (end == 0)
            end = scan_op(s, n, i, &type);
    }
    out->type = type;
    out->p = s + i;
    out->n = end - i;
    lx->pos = end;
}

void rhei__route_lex_peek(const rhei__lex *lx, rhei__tok *out)
{
    rhei__lex copy = *lx;
    rhei__route_lex_next(&copy, out);
}

int rhei__route_tok_punct(const rhei__tok *t, char c)
{
    return t->type == RHEI__TOK_PUNCT && t->n == 1 && t->p[0] == c;
}

/* Word tables carry their lengths so a lookup compares lengths before bytes. */
#define K(word, id) {word, sizeof(word) - 1, id}
static const struct {
    const char *word;
    size_t len;
    int kw;
} keywords[] = {
    K("select", RHEI__KW_SELECT), K("with", RHEI__KW_WITH),
    K("values", RHEI__KW_VALUES), K("table", RHEI__KW_TABLE),
    K("explain", RHEI__KW_EXPLAIN), K("query", RHEI__KW_QUERY),
    K("plan", RHEI__KW_PLAN), K("analyse", RHEI__KW_ANALYSE),
    K("verbose", RHEI__KW_VERBOSE), K("insert", RHEI__KW_INSERT),
    K("update", RHEI__KW_UPDATE), K("delete", RHEI__KW_DELETE),
    K("replace", RHEI__KW_REPLACE), K("upsert", RHEI__KW_UPSERT),
    K("merge", RHEI__KW_MERGE), K("truncate", RHEI__KW_TRUNCATE),
    K("copy", RHEI__KW_COPY), K("create", RHEI__KW_CREATE),
    K("drop", RHEI__KW_DROP), K("alter", RHEI__KW_ALTER),
    K("comment", RHEI__KW_COMMENT), K("begin", RHEI__KW_BEGIN),
    K("commit", RHEI__KW_COMMIT), K("end", RHEI__KW_END),
    K("rollback", RHEI__KW_ROLLBACK), K("savepoint", RHEI__KW_SAVEPOINT),
    K("release", RHEI__KW_RELEASE), K("start", RHEI__KW_START),
    K("abort", RHEI__KW_ABORT), K("pragma", RHEI__KW_PRAGMA),
    K("vacuum", RHEI__KW_VACUUM), K("analyze", RHEI__KW_ANALYZE),
    K("reindex", RHEI__KW_REINDEX), K("checkpoint", RHEI__KW_CHECKPOINT),
    K("attach", RHEI__KW_ATTACH), K("detach", RHEI__KW_DETACH),
    K("use", RHEI__KW_USE), K("set", RHEI__KW_SET),
    K("reset", RHEI__KW_RESET), K("load", RHEI__KW_LOAD),
    K("install", RHEI__KW_INSTALL), K("force", RHEI__KW_FORCE),
    K("call", RHEI__KW_CALL), K("export", RHEI__KW_EXPORT),
    K("import", RHEI__KW_IMPORT), K("prepare", RHEI__KW_PREPARE),
    K("execute", RHEI__KW_EXECUTE), K("deallocate", RHEI__KW_DEALLOCATE),
    K("grant", RHEI__KW_GRANT), K("revoke", RHEI__KW_REVOKE),
    K("into", RHEI__KW_INTO), K("or", RHEI__KW_OR),
    K("from", RHEI__KW_FROM), K("join", RHEI__KW_JOIN),
    K("where", RHEI__KW_WHERE), K("group", RHEI__KW_GROUP),
    K("by", RHEI__KW_BY), K("having", RHEI__KW_HAVING),
    K("order", RHEI__KW_ORDER), K("limit", RHEI__KW_LIMIT),
    K("offset", RHEI__KW_OFFSET), K("fetch", RHEI__KW_FETCH),
    K("window", RHEI__KW_WINDOW), K("over", RHEI__KW_OVER),
    K("distinct", RHEI__KW_DISTINCT), K("is", RHEI__KW_IS),
    K("not", RHEI__KW_NOT), K("union", RHEI__KW_UNION),
    K("intersect", RHEI__KW_INTERSECT), K("except", RHEI__KW_EXCEPT),
    K("qualify", RHEI__KW_QUALIFY), K("returning", RHEI__KW_RETURNING),
    K("and", RHEI__KW_AND), K("recursive", RHEI__KW_RECURSIVE),
    K("as", RHEI__KW_AS), K("materialized", RHEI__KW_MATERIALIZED),
    K("lateral", RHEI__KW_LATERAL), K("only", RHEI__KW_ONLY),
    K("null", RHEI__KW_NULL), K("true", RHEI__KW_TRUE),
    K("false", RHEI__KW_FALSE),
};
#undef K

int rhei__route_keyword(const rhei__tok *t)
{
    if (t->type != RHEI__TOK_WORD || t->n < 2 || t->n > 12)
        return RHEI__KW_NONE;
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
        const char *w = keywords[k].word;
        if (keywords[k].len == t->n && lower((unsigned char)t->p[0]) == (unsigned char)w[0] &&
            rhei__route_ci_eq(t->p, t->n, w, t->n))
            return keywords[k].kw;
    }
    return RHEI__KW_NONE;
}

typedef struct word {
    const char *s;
    size_t n;
} word;
#define W(x) {x, sizeof(x) - 1}

static int in_list(const char *p, size_t n, const word *list, size_t count, int prefix)
{
    for (size_t k = 0; k < count; k++) {
        size_t len = list[k].n;
        if (prefix ? n >= len && rhei__route_ci_eq(p, len, list[k].s, len)
                   : n == len && rhei__route_ci_eq(p, n, list[k].s, len))
            return 1;
    }
    return 0;
}

int rhei__route_is_aggregate(const char *p, size_t n)
{
    static const word exact[] = {
        W("count"), W("sum"), W("avg"), W("min"), W("max"), W("total"), W("group_concat"),
        W("string_agg"), W("array_agg"), W("list"), W("listagg"), W("median"), W("mode"),
        W("any_value"), W("bool_and"), W("bool_or"), W("every"), W("first"), W("last"),
        W("arg_min"), W("arg_max"), W("argmin"), W("argmax"), W("min_by"), W("max_by"),
        W("product"), W("entropy"), W("kurtosis"), W("kurtosis_pop"), W("skewness"),
        W("corr"), W("histogram"), W("bit_and"), W("bit_or"), W("bit_xor"),
        W("bitstring_agg"), W("fsum"), W("sumkahan"), W("kahan_sum"), W("favg"), W("mad"),
        W("count_if"), W("countif"), W("count_star"), W("json_group_array"),
        W("json_group_object"), W("jsonb_group_array"), W("jsonb_group_object"),
        W("logical_and"), W("logical_or"), W("geomean"), W("geometric_mean"),
        W("weighted_avg"), W("sem"), W("reservoir_quantile")};
    /* Families: stddev_pop, variance, var_samp, quantile_cont, approx_count_distinct, ... */
    static const word prefix[] = {W("stddev"), W("variance"), W("var_"), W("quantile"),
                                  W("approx_"), W("regr_"), W("covar_"), W("percentile_")};
    return in_list(p, n, exact, sizeof exact / sizeof exact[0], 0) ||
           in_list(p, n, prefix, sizeof prefix / sizeof prefix[0], 1);
}

int rhei__route_is_sqlite_function(const char *p, size_t n)
{
    static const word exact[] = {W("json_each"), W("json_tree"), W("jsonb_each"),
                                 W("jsonb_tree")};
    static const word prefix[] = {W("pragma_")};
    return in_list(p, n, exact, sizeof exact / sizeof exact[0], 0) ||
           in_list(p, n, prefix, sizeof prefix / sizeof prefix[0], 1);
}

int rhei__route_agrees_function(const char *p, size_t n)
{
    /* Each checked against SQLite by tests/route/test_same_answer.c (corpus and generator):
     * with the engine's DuckDB settings they give SQLite's values for every input type. */
    static const word exact[] = {
        W("count"), W("sum"), W("avg"), W("min"), W("max"), W("abs"), W("coalesce"),
        W("ifnull"), W("nullif"), W("row_number"), W("rank"), W("dense_rank"),
        W("percent_rank"), W("cume_dist"), W("ntile"), W("lag"), W("lead"),
        W("first_value"), W("last_value")};
    return in_list(p, n, exact, sizeof exact / sizeof exact[0], 0);
}

int rhei__route_paren_word(const char *p, size_t n)
{
    /* Keywords that may stand before '(' without calling a function. */
    static const word exact[] = {
        W("select"), W("where"), W("and"), W("or"), W("not"), W("in"), W("exists"),
        W("using"), W("on"), W("when"), W("then"), W("else"), W("case"), W("between"),
        W("is"), W("having"), W("by"), W("from"), W("join"), W("as"), W("values"), W("over"),
        W("filter"), W("all"), W("any"), W("some"), W("limit"), W("offset"), W("distinct"),
        W("union"), W("intersect"), W("except"), W("materialized"), W("lateral"), W("with"),
        W("recursive"), W("end"), W("like"), W("glob"), W("escape"), W("return")};
    return in_list(p, n, exact, sizeof exact / sizeof exact[0], 0);
}

int rhei__route_dialects_agree(const char *s, size_t n)
{
    int comments = 0;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '[': case '`': case '$':
            return 0;
        case '\'':
            if (i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E'))
                return 0;
            break;
        case '/':
            if (i + 1 < n && s[i + 1] == '*' && ++comments > 1)
                return 0;
            break;
        }
    }
    return 1;
}

int rhei__route_word_is(const rhei__tok *t, const char *w)
{
    return t->type == RHEI__TOK_WORD && rhei__route_ci_eq(t->p, t->n, w, strlen(w));
}

int rhei__route_is_name(const rhei__tok *t)
{
    return t->type == RHEI__TOK_WORD || t->type == RHEI__TOK_QIDENT;
}

int rhei__route_is_arith(const rhei__tok *t)
{
    return t->type == RHEI__TOK_PUNCT && t->n == 1 &&
           (t->p[0] == '+' || t->p[0] == '-' || t->p[0] == '*' || t->p[0] == '/');
}

int rhei__route_next_is(const rhei__lex *lx, int kw)
{
    rhei__tok nx;
    rhei__route_lex_peek(lx, &nx);
    return rhei__route_keyword(&nx) == kw;
}

int rhei__route_aggregate_call(const rhei__lex *lx, const rhei__tok *t)
{
    rhei__lex ahead = *lx;
    rhei__tok nx;
    int depth = 0;
    rhei__route_lex_next(&ahead, &nx);
    if (!rhei__route_tok_punct(&nx, '('))
        return 0;
    if (!rhei__route_ci_eq(t->p, t->n, "min", 3) && !rhei__route_ci_eq(t->p, t->n, "max", 3))
        return 1;
    for (int i = 0; i < RHEI__ROUTE_LOOKAHEAD; i++) {
        if (nx.type == RHEI__TOK_EOF || rhei__route_tok_punct(&nx, ';'))
            return 1;
        if (rhei__route_tok_punct(&nx, '('))
            depth++;
        else if (rhei__route_tok_punct(&nx, ')') && --depth == 0)
            return 1;
        else if (rhei__route_tok_punct(&nx, ',') && depth == 1)
            return 0;
        rhei__route_lex_next(&ahead, &nx);
    }
    return 1;
}
