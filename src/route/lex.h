/* lex.h — the router's SQL tokenizer: turns any byte string into a stream of tokens, skipping
 * whitespace and comments, without allocating. It never reads outside [s, s + n), whatever the
 * bytes (unterminated quotes and comments end at the end of the input; NUL is an ordinary byte). */
#ifndef RHEI_ROUTE_LEX_H
#define RHEI_ROUTE_LEX_H
#include <stddef.h>

typedef enum rhei__tok_type {
    RHEI__TOK_EOF = 0, /* end of input; returned again on every later call */
    RHEI__TOK_WORD,    /* bare identifier or keyword; bytes >= 0x80 count as letters */
    RHEI__TOK_QIDENT,  /* "x"; in SQLite also `x` and [x]; the span includes the quotes */
    RHEI__TOK_STRING,  /* 'x', X'00'; in DuckDB also E'x', $$x$$, $tag$x$tag$ */
    RHEI__TOK_NUMBER,  /* 12, 1.5e3, .5, 0x1F, 1_000 */
    RHEI__TOK_PARAM,   /* ?, ?N, :name, @name, $name, $N */
    RHEI__TOK_PUNCT,   /* one byte: ( ) , ; . = * + - and any other byte */
    RHEI__TOK_OP       /* several bytes: <= >= <> != == || :: -> ->> << >> */
} rhei__tok_type;

/* A token is a span of the input: p points into the lexed text, n > 0 except at EOF. */
typedef struct rhei__tok {
    rhei__tok_type type;
    const char *p;
    size_t n;
} rhei__tok;

/* The two engines tokenize some text differently, so the router reads every text both ways:
 *   SQLite: [x] and `x` are quoted names; E'..' is a name then a string; $x$ is a parameter;
 *           block comments do not nest.
 *   DuckDB: [ ] and ` are operators (list literals); E'..' strings take backslash escapes;
 *           $$..$$ and $tag$..$tag$ are strings; block comments nest. */
typedef enum rhei__dialect { RHEI__DIALECT_SQLITE = 0, RHEI__DIALECT_DUCKDB = 1 } rhei__dialect;

/* Lexer state is just a position, so copying the struct gives a free look-ahead. */
typedef struct rhei__lex {
    const char *s;
    size_t n;
    size_t pos;
    rhei__dialect dialect;
} rhei__lex;

void rhei__route_lex_init(rhei__lex *lx, const char *s, size_t n, rhei__dialect dialect);
void rhei__route_lex_next(rhei__lex *lx, rhei__tok *out);
/* The next token without consuming it. */
void rhei__route_lex_peek(const rhei__lex *lx, rhei__tok *out);
/* 1 if t is the one-byte punctuation c. */
int rhei__route_tok_punct(const rhei__tok *t, char c);

/* Keywords the router acts on; any other word is RHEI__KW_NONE. */
enum rhei__kw {
    RHEI__KW_NONE = 0,
    /* statement starts: reads */
    RHEI__KW_SELECT, RHEI__KW_WITH, RHEI__KW_VALUES, RHEI__KW_TABLE, RHEI__KW_EXPLAIN,
    RHEI__KW_QUERY, RHEI__KW_PLAN, RHEI__KW_ANALYSE, RHEI__KW_VERBOSE,
    /* statement starts: writes and commands */
    RHEI__KW_INSERT, RHEI__KW_UPDATE, RHEI__KW_DELETE, RHEI__KW_REPLACE, RHEI__KW_UPSERT,
    RHEI__KW_MERGE, RHEI__KW_TRUNCATE, RHEI__KW_COPY, RHEI__KW_CREATE, RHEI__KW_DROP,
    RHEI__KW_ALTER, RHEI__KW_COMMENT, RHEI__KW_BEGIN, RHEI__KW_COMMIT, RHEI__KW_END,
    RHEI__KW_ROLLBACK, RHEI__KW_SAVEPOINT, RHEI__KW_RELEASE, RHEI__KW_START, RHEI__KW_ABORT,
    RHEI__KW_PRAGMA, RHEI__KW_VACUUM, RHEI__KW_ANALYZE, RHEI__KW_REINDEX, RHEI__KW_CHECKPOINT,
    RHEI__KW_ATTACH, RHEI__KW_DETACH, RHEI__KW_USE, RHEI__KW_SET, RHEI__KW_RESET,
    RHEI__KW_LOAD, RHEI__KW_INSTALL, RHEI__KW_FORCE, RHEI__KW_CALL, RHEI__KW_EXPORT,
    RHEI__KW_IMPORT, RHEI__KW_PREPARE, RHEI__KW_EXECUTE, RHEI__KW_DEALLOCATE, RHEI__KW_GRANT,
    RHEI__KW_REVOKE,
    /* inside statements */
    RHEI__KW_INTO, RHEI__KW_OR, RHEI__KW_FROM, RHEI__KW_JOIN, RHEI__KW_WHERE, RHEI__KW_GROUP,
    RHEI__KW_BY, RHEI__KW_HAVING, RHEI__KW_ORDER, RHEI__KW_LIMIT, RHEI__KW_OFFSET,
    RHEI__KW_FETCH, RHEI__KW_WINDOW, RHEI__KW_OVER, RHEI__KW_DISTINCT, RHEI__KW_IS,
    RHEI__KW_NOT, RHEI__KW_UNION, RHEI__KW_INTERSECT, RHEI__KW_EXCEPT, RHEI__KW_QUALIFY,
    RHEI__KW_RETURNING, RHEI__KW_AND, RHEI__KW_RECURSIVE, RHEI__KW_AS,
    RHEI__KW_MATERIALIZED, RHEI__KW_LATERAL, RHEI__KW_ONLY, RHEI__KW_NULL, RHEI__KW_TRUE,
    RHEI__KW_FALSE
};

/* Keyword id of a WORD token, case-insensitively; RHEI__KW_NONE for anything else. */
int rhei__route_keyword(const rhei__tok *t);
/* 1 if the word names an aggregate function of SQLite or DuckDB (when called with '('). */
int rhei__route_is_aggregate(const char *p, size_t n);
/* 1 if the word names a table-valued function only SQLite has (json_each, pragma_*). */
int rhei__route_is_sqlite_function(const char *p, size_t n);
/* 1 if the word names a scalar, aggregate or window function known to give SQLite's answer
 * on DuckDB (with the engine's DuckDB settings); any other call keeps a read on SQLite. */
int rhei__route_agrees_function(const char *p, size_t n);
/* 1 if the word is a keyword that may precede '(' without being a call (IN, EXISTS, AS...). */
int rhei__route_paren_word(const char *p, size_t n);
/* 1 if both dialects surely tokenize s identically: it has no [ ` $, no E' and at most one
 * block-comment opener (nesting needs two). */
int rhei__route_dialects_agree(const char *s, size_t n);
/* ASCII case-insensitive equality of two spans. */
int rhei__route_ci_eq(const char *a, size_t an, const char *b, size_t bn);

/* Token predicates shared by the statement rules (route.c, read_walk.c) and the same-answer
 * rules (semantics.c). */
/* Look-ahead bound of the rules that scan ahead (min/max arguments, a CAST's type). */
#define RHEI__ROUTE_LOOKAHEAD 256
/* 1 if t is a WORD equal to w, case-insensitively. */
int rhei__route_word_is(const rhei__tok *t, const char *w);
/* 1 if t is a name: a WORD or a quoted identifier. */
int rhei__route_is_name(const rhei__tok *t);
/* 1 if t is one of + - * / */
int rhei__route_is_arith(const rhei__tok *t);
/* 1 if the token after lx (not consumed) has keyword id kw. */
int rhei__route_next_is(const rhei__lex *lx, int kw);
/* t, an aggregate's name, is called as an aggregate: followed by '(', and for min/max with one
 * argument (min(a, b) and max(a, b) are SQLite's scalar functions); past the look-ahead bound,
 * an aggregate. lx is just past t. */
int rhei__route_aggregate_call(const rhei__lex *lx, const rhei__tok *t);
#endif
