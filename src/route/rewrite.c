/* rewrite.c — the text a read runs with on DuckDB. SQLite's LIKE (ASCII letters fold case,
 * `%` any run of characters, `_` one character, an optional one-character ESCAPE) becomes
 * DuckDB's SIMILAR TO (RE2's full match, on code points) of an equivalent regular expression;
 * everything else is copied byte for byte. README.md, "Same answer on either side". */
#include "route.h"
#include "buf.h"
#include "lex.h"
#include "semantics.h"
#include "mem.h"
#include <string.h>

/* Longest pattern SQLite's LIKE takes (SQLITE_LIMIT_LIKE_PATTERN_LENGTH's default): a longer
 * one is an error there, so it is not rewritten and DuckDB's own LIKE answers it as written. */
#define LIKE_PATTERN_MAX 50000

/* The content of the string literal t ('...' with '' for a quote) into out, unquoted. 0 if t
 * is not a plain single-quoted literal (X'..', E'..', $$..$$) or is too long. */
static int literal_text(const rhei__tok *t, rhei__buf *out)
{
    if (t->type != RHEI__TOK_STRING || t->n < 2 || t->p[0] != '\'' || t->p[t->n - 1] != '\'' ||
        t->n - 2 > LIKE_PATTERN_MAX)
        return 0;
    for (size_t i = 1; i + 1 < t->n; i++) {
        rhei__buf_append(out, &t->p[i], 1);
        i += t->p[i] == '\'';
    }
    rhei__buf_append(out, "", 0);
    return 1;
}

static size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Bytes of the character at p (NUL-terminated): its UTF-8 length, cut short at a NUL so a
 * truncated sequence at the end of the pattern never reaches past it. */
static size_t char_len(const char *p)
{
    size_t n = utf8_len((unsigned char)p[0]);
    for (size_t k = 1; k < n; k++)
        if (!p[k])
            return k;
    return n;
}

/* One character of the pattern (n bytes at c) as RE2 syntax; literal: no wildcard meaning. */
static void put_char(rhei__buf *re, const char *c, size_t n, int literal)
{
    unsigned char b = (unsigned char)c[0];
    if (!literal && b == '%')
        rhei__buf_puts(re, ".*");
    else if (!literal && b == '_')
        rhei__buf_puts(re, ".");
    else if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') /* SQLite folds ASCII letters only */
        rhei__buf_printf(re, "[%c%c]", b & ~0x20, b | 0x20);
    else if (n == 1 && strchr("\\.+*?()|[]{}^$", b) && b)
        rhei__buf_printf(re, "\\%c", b);
    else
        rhei__buf_append(re, c, n);
}

/* pat (NUL-terminated, UTF-8) with escape character esc (0: none) as an RE2 expression that
 * matches exactly what SQLite's LIKE matches: (?s) lets '.' match a newline as % and _ do.
 * A trailing escape character matches nothing in SQLite (an empty-class regex neither). */
static void like_regex(const char *pat, const char *esc, size_t esc_n, rhei__buf *re)
{
    rhei__buf_puts(re, "(?s)");
    for (size_t i = 0; pat[i];) {
        size_t n = char_len(pat + i);
        if (esc_n && n == esc_n && memcmp(pat + i, esc, n) == 0) {
            i += n;
            if (!pat[i]) {
                rhei__buf_puts(re, "[^\\x00-\\x{10FFFF}]");
                break;
            }
            n = char_len(pat + i);
            put_char(re, pat + i, n, 1);
        } else {
            put_char(re, pat + i, n, 0);
        }
        i += n;
    }
}

int rhei__route_like_literal(const rhei__lex *lx)
{
    rhei__lex ahead = *lx;
    rhei__tok pat, kw, esc;
    rhei__buf b = RHEI__BUF_INIT;
    rhei__route_lex_next(&ahead, &pat);
    int ok = literal_text(&pat, &b);
    rhei__route_lex_peek(&ahead, &kw);
    if (ok && rhei__route_word_is(&kw, "escape")) {
        rhei__route_lex_next(&ahead, &kw);
        rhei__route_lex_next(&ahead, &esc);
        rhei__buf_reset(&b);
        ok = literal_text(&esc, &b) && b.len > 0 && b.len == utf8_len((unsigned char)b.p[0]);
    }
    ok = ok && !b.failed;
    rhei__buf_free(&b);
    return ok;
}

int rhei__route_olap_text(const char *sql, char **out)
{
    *out = NULL;
    rhei__lex lx;
    rhei__tok t, prev = {RHEI__TOK_EOF, sql, 0};
    rhei__buf b = RHEI__BUF_INIT;
    size_t copied = 0;
    int changed = 0;
    rhei__route_lex_init(&lx, sql, strlen(sql), RHEI__DIALECT_DUCKDB);
    for (rhei__route_lex_next(&lx, &t); t.type != RHEI__TOK_EOF; rhei__route_lex_next(&lx, &t)) {
        int is_like = rhei__route_word_is(&t, "like") && !rhei__route_tok_punct(&prev, '.');
        prev = t;
        if (!is_like || !rhei__route_like_literal(&lx))
            continue;
        rhei__tok pat, kw, esc = {RHEI__TOK_EOF, NULL, 0};
        rhei__route_lex_next(&lx, &pat);
        rhei__lex after = lx;
        rhei__route_lex_next(&after, &kw);
        if (rhei__route_word_is(&kw, "escape")) {
            rhei__route_lex_next(&after, &esc);
            lx = after;
        }
        rhei__buf text = RHEI__BUF_INIT, escape = RHEI__BUF_INIT, re = RHEI__BUF_INIT;
        literal_text(&pat, &text);
        if (esc.n)
            literal_text(&esc, &escape);
        like_regex(rhei__buf_str(&text), rhei__buf_str(&escape), escape.len, &re);
        rhei__buf_append(&b, sql + copied, (size_t)(t.p - sql) - copied);
        rhei__buf_puts(&b, "SIMILAR TO ");
        rhei__buf_literal(&b, rhei__buf_str(&re));
        int failed = text.failed || escape.failed || re.failed;
        rhei__buf_free(&text);
        rhei__buf_free(&escape);
        rhei__buf_free(&re);
        if (failed)
            b.failed = RHEI_NOMEM;
        const rhei__tok *last = esc.n ? &esc : &pat;
        copied = (size_t)(last->p + last->n - sql);
        prev = *last;
        changed = 1;
    }
    if (!changed) {
        rhei__buf_free(&b);
        return RHEI_OK;
    }
    rhei__buf_puts(&b, sql + copied);
    if (b.failed) {
        rhei__buf_free(&b);
        return RHEI_NOMEM;
    }
    *out = b.p; /* the buffer's bytes, handed to the caller */
    return RHEI_OK;
}
