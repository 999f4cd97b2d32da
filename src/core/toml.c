/* toml.c — strict TOML reader (the subset described in toml.h and src/core/README.md): a
 * recursive-descent parser over input first checked to be valid UTF-8. Invariants: every
 * node is owned either by its parent (once added) or by the function that created it (which
 * frees it on failure); node depth never exceeds RHEI__TOML_MAX_DEPTH, which also bounds
 * the parser's and the destructor's recursion. */
#include "toml.h"
#include "buf.h"
#include "mem.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a table or array came to exist; decides what may extend it later (TOML 1.0 rules). */
enum {
    T_IMPLICIT = 1, /* created as a step of a [a.b] header: a later [a] may still define it */
    T_EXPLICIT = 2, /* defined by its own [header] */
    T_DOTTED = 4,   /* created by dotted keys (a.b = 1): only more dotted keys extend it */
    T_INLINE = 8,   /* { inline table }: sealed */
    T_AOT = 16,     /* array of tables from [[header]] */
    T_STATIC = 32   /* [ array value ]: sealed */
};

#define NUMBER_MAX 128 /* longest number token: int64 and double need far fewer digits */

typedef struct tpos {
    int line, col;
} tpos;

typedef struct P {
    const char *s;
    size_t n, pos;
    int line, col; /* of s[pos]; col counts characters, not bytes */
    const char *name;
    rhei__err *e;
    rhei__toml *root;
    char found[48]; /* scratch for describing the current character in a message */
    char show[128]; /* scratch for a key or word quoted in a message */
} P;

typedef struct keypart {
    char *s;
    size_t n;
    tpos at;
} keypart;

typedef struct keypath {
    int n;
    keypart part[RHEI__TOML_MAX_DEPTH];
} keypath;

static int parse_value(P *p, int depth, rhei__toml **out);

/* --- scanning ------------------------------------------------------------------------- */

static int peek(const P *p) { return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1; }

static int peek_at(const P *p, size_t k)
{
    return p->pos + k < p->n ? (unsigned char)p->s[p->pos + k] : -1;
}

static void adv(P *p)
{
    unsigned char c = (unsigned char)p->s[p->pos++];
    if (c == '\n') {
        p->line++;
        p->col = 1;
    } else if ((c & 0xC0) != 0x80) { /* continuation bytes belong to the previous char */
        p->col++;
    }
}

static tpos here(const P *p)
{
    tpos t = {p->line, p->col};
    return t;
}

static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static int is_control(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f; }

static int at_newline(const P *p)
{
    int c = peek(p);
    return c == '\n' || (c == '\r' && peek_at(p, 1) == '\n');
}

static void eat_newline(P *p)
{
    if (peek(p) == '\r')
        adv(p);
    adv(p);
}

static void skip_ws(P *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        adv(p);
}

/* --- messages ------------------------------------------------------------------------- */

static int perr(P *p, tpos at, const char *fmt, ...) RHEI__PRINTF(3, 4);
static int perr(P *p, tpos at, const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return rhei__err_set(p->e, RHEI_CONFIG, "%s:%d:%d: %s", p->name, at.line, at.col, why);
}

/* Describes the character at the current position ("'x'", "end of line"). */
static const char *found(P *p)
{
    int c = peek(p);
    if (c < 0)
        return "end of file";
    if (at_newline(p))
        return "end of line";
    if (c == ' ' || c == '\t')
        return "whitespace";
    if (c >= 0x80)
        return "a non-ASCII character";
    if (is_control(c))
        snprintf(p->found, sizeof p->found, "control character 0x%02x", (unsigned)c);
    else
        snprintf(p->found, sizeof p->found, "'%c'", c);
    return p->found;
}

/* Appends s to p->show for quoting in a message: control characters become '?', and long
 * text is cut (at a character boundary) so a hostile key cannot drown the message. */
static void show_add(P *p, size_t *o, const char *s, size_t n)
{
    const size_t room = sizeof p->show - 4; /* for "..." and the NUL */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (*o >= room - 4 && (c & 0xC0) != 0x80) {
            memcpy(p->show + *o, "...", 3);
            *o += 3;
            return;
        }
        p->show[(*o)++] = is_control(c) ? '?' : (char)c;
    }
}

static const char *show_path(P *p, const keypath *k, int upto)
{
    size_t o = 0;
    for (int i = 0; i < upto && o < sizeof p->show - 8; i++) {
        if (i)
            show_add(p, &o, ".", 1);
        show_add(p, &o, k->part[i].s ? k->part[i].s : "", k->part[i].s ? k->part[i].n : 0);
    }
    p->show[o] = '\0';
    return p->show;
}

static const char *show_text(P *p, const char *s, size_t n)
{
    size_t o = 0;
    show_add(p, &o, s, n);
    p->show[o] = '\0';
    return p->show;
}

/* --- nodes ---------------------------------------------------------------------------- */

static void node_free(rhei__toml *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        node_free(t->items[i]);
    rhei__free(t->items);
    rhei__free(t->key);
    rhei__free(t->str);
    rhei__free(t);
}

void rhei__toml_free(rhei__toml *root) { node_free(root); }

/* A node at depth; key (may be NULL) is copied. NULL with the error set on failure. */
static rhei__toml *node_new(P *p, rhei__toml_kind k, int depth, tpos at, const keypart *key)
{
    if (depth > RHEI__TOML_MAX_DEPTH) {
        perr(p, at, "nesting deeper than %d levels", RHEI__TOML_MAX_DEPTH);
        return NULL;
    }
    rhei__toml *t = rhei__calloc(1, sizeof *t);
    if (t && key && !(t->key = rhei__strndup(key->s, key->n))) {
        rhei__free(t);
        t = NULL;
    }
    if (!t) {
        rhei__err_nomem(p->e);
        return NULL;
    }
    t->key_len = key ? key->n : 0;
    t->kind = k;
    t->depth = depth;
    t->line = at.line;
    t->col = at.col;
    return t;
}

static int room_for(P *p, const rhei__toml *parent, tpos at)
{
    if (parent->count < RHEI__TOML_MAX_ITEMS)
        return RHEI_OK;
    if (parent->kind == RHEI__TOML_TABLE)
        return perr(p, at, "more than %d keys in one table", RHEI__TOML_MAX_ITEMS);
    return perr(p, at, "more than %d elements in one array", RHEI__TOML_MAX_ITEMS);
}

/* Adds child to parent; on failure the caller still owns child. */
static int node_add(P *p, rhei__toml *parent, rhei__toml *child, tpos at)
{
    int rc = room_for(p, parent, at);
    if (rc)
        return rc;
    if (rhei__grow((void **)&parent->items, &parent->cap, parent->count + 1,
                   sizeof *parent->items))
        return rhei__err_nomem(p->e);
    parent->items[parent->count++] = child;
    return RHEI_OK;
}

/* Creates a table named by key under parent; *out borrowed (owned by parent). */
static int add_table(P *p, rhei__toml *parent, const keypart *key, unsigned flags,
                     rhei__toml **out)
{
    rhei__toml *t = node_new(p, RHEI__TOML_TABLE, parent->depth + 1, key->at, key);
    if (!t)
        return p->e->code;
    t->flags = flags;
    int rc = node_add(p, parent, t, key->at);
    if (rc) {
        node_free(t);
        return rc;
    }
    *out = t;
    return RHEI_OK;
}

rhei__toml *rhei__toml_member(const rhei__toml *t, const char *k, size_t n)
{
    for (size_t i = 0; i < t->count; i++)
        if (t->items[i]->key_len == n && memcmp(t->items[i]->key, k, n) == 0)
            return t->items[i];
    return NULL;
}

/* "an" before "array" and "integer", "a" otherwise. */
static const char *article(rhei__toml_kind k)
{
    return k == RHEI__TOML_ARRAY || k == RHEI__TOML_INTEGER ? "an" : "a";
}

const char *rhei__toml_kind_name(rhei__toml_kind k)
{
    switch (k) {
    case RHEI__TOML_TABLE: return "table";
    case RHEI__TOML_ARRAY: return "array";
    case RHEI__TOML_STRING: return "string";
    case RHEI__TOML_INTEGER: return "integer";
    case RHEI__TOML_FLOAT: return "float";
    case RHEI__TOML_BOOL: return "boolean";
    }
    return "value";
}

/* --- comments and line ends ----------------------------------------------------------- */

static int skip_comment(P *p) /* at '#': consumes up to, not including, the line end */
{
    adv(p);
    while (peek(p) >= 0 && !at_newline(p)) {
        if (is_control(peek(p)))
            return perr(p, here(p), "control character 0x%02x in comment", (unsigned)peek(p));
        adv(p);
    }
    return RHEI_OK;
}

/* Whitespace, comments and line ends, as allowed between array elements. */
static int skip_wsnl(P *p)
{
    for (;;) {
        skip_ws(p);
        if (peek(p) == '#') {
            int rc = skip_comment(p);
            if (rc)
                return rc;
        } else if (at_newline(p)) {
            eat_newline(p);
        } else {
            return RHEI_OK;
        }
    }
}

static int expect_eol(P *p, const char *after)
{
    skip_ws(p);
    if (peek(p) == '#') {
        int rc = skip_comment(p);
        if (rc)
            return rc;
    }
    if (peek(p) < 0)
        return RHEI_OK;
    if (at_newline(p)) {
        eat_newline(p);
        return RHEI_OK;
    }
    return perr(p, here(p), "expected end of line after %s, found %s", after, found(p));
}

/* --- strings -------------------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(rhei__buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    rhei__buf_append(b, u, n);
}

static int parse_unicode(P *p, rhei__buf *b, int digits, tpos at)
{
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        int h = hexval(peek(p));
        if (h < 0)
            return perr(p, at, "escape '\\%c' needs %d hex digits", digits == 4 ? 'u' : 'U',
                        digits);
        cp = cp * 16 + (uint32_t)h;
        adv(p);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return perr(p, at, "escape U+%04X is not a Unicode scalar value", (unsigned)cp);
    put_utf8(b, cp);
    return RHEI_OK;
}

static int parse_escape(P *p, rhei__buf *b) /* at '\\' */
{
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    tpos at = here(p);
    adv(p);
    int c = peek(p);
    if (c == 'u' || c == 'U') {
        adv(p);
        return parse_unicode(p, b, c == 'u' ? 4 : 8, at);
    }
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    if (!hit)
        return perr(p, at, "invalid escape in string: '\\' followed by %s", found(p));
    rhei__buf_append(b, &to[hit - from], 1);
    adv(p);
    return RHEI_OK;
}

/* Single-line basic ("...") or literal ('...') string; *out owned by the caller. */
static int parse_string(P *p, char **out, size_t *out_n)
{
    tpos at = here(p);
    int q = peek(p), rc = RHEI_OK;
    rhei__buf b = RHEI__BUF_INIT;
    b.max = RHEI__TOML_MAX_STRING;
    if (peek_at(p, 1) == q && peek_at(p, 2) == q)
        return perr(p, at, "multi-line strings are not supported");
    adv(p);
    while (rc == RHEI_OK && peek(p) != q) {
        int c = peek(p);
        if (c < 0 || at_newline(p))
            rc = perr(p, at, "unterminated string");
        else if (is_control(c))
            rc = perr(p, here(p), "control character 0x%02x in string", (unsigned)c);
        else if (c == '\\' && q == '"')
            rc = parse_escape(p, &b);
        else {
            char ch = (char)c;
            rhei__buf_append(&b, &ch, 1);
            adv(p);
        }
        if (rc == RHEI_OK && b.failed)
            rc = b.failed == RHEI_NOMEM
                     ? rhei__err_nomem(p->e)
                     : perr(p, at, "string longer than %d bytes", RHEI__TOML_MAX_STRING);
    }
    if (rc == RHEI_OK) {
        adv(p); /* closing quote */
        *out_n = b.len;
        *out = b.p ? b.p : rhei__strndup("", 0);
        if (!*out)
            rc = rhei__err_nomem(p->e);
        return rc;
    }
    rhei__buf_free(&b);
    return rc;
}

/* --- keys ----------------------------------------------------------------------------- */

static void keypath_free(keypath *k)
{
    for (int i = 0; i < k->n; i++)
        rhei__free(k->part[i].s);
    k->n = 0;
}

/* One key, possibly dotted: parts are bare (A-Za-z0-9_-) or quoted. Stops after trailing
 * whitespace. The caller frees k whatever the result. */
static int parse_key(P *p, keypath *k)
{
    k->n = 0;
    for (;;) {
        skip_ws(p);
        tpos at = here(p);
        keypart *kp = &k->part[k->n];
        int c = peek(p), rc = RHEI_OK;
        if (k->n >= RHEI__TOML_MAX_DEPTH)
            return perr(p, at, "key has more than %d parts", RHEI__TOML_MAX_DEPTH);
        if (c == '"' || c == '\'') {
            rc = parse_string(p, &kp->s, &kp->n);
        } else if (is_bare(c)) {
            size_t start = p->pos;
            while (is_bare(peek(p)))
                adv(p);
            kp->n = p->pos - start;
            if (kp->n > RHEI__TOML_MAX_STRING)
                return perr(p, at, "key longer than %d bytes", RHEI__TOML_MAX_STRING);
            if (!(kp->s = rhei__strndup(p->s + start, kp->n)))
                rc = rhei__err_nomem(p->e);
        } else {
            return perr(p, at, "expected a key, found %s", found(p));
        }
        if (rc)
            return rc;
        kp->at = at;
        k->n++;
        skip_ws(p);
        if (peek(p) != '.')
            return RHEI_OK;
        adv(p);
    }
}

/* Walks (creating) the tables named by all but the last part of a dotted key. */
static int dotted_target(P *p, rhei__toml *t, keypath *k, rhei__toml **out)
{
    for (int i = 0; i < k->n - 1; i++) {
        keypart *kp = &k->part[i];
        rhei__toml *c = rhei__toml_member(t, kp->s, kp->n);
        if (!c) {
            int rc = add_table(p, t, kp, T_DOTTED, &c);
            if (rc)
                return rc;
        } else if (c->kind != RHEI__TOML_TABLE) {
            return perr(p, kp->at, "key '%s' is %s %s, not a table", show_path(p, k, i + 1),
                        article(c->kind), rhei__toml_kind_name(c->kind));
        } else if (c->flags & T_INLINE) {
            return perr(p, kp->at, "inline table '%s' cannot be extended",
                        show_path(p, k, i + 1));
        } else if (!(c->flags & T_DOTTED)) {
            return perr(p, kp->at, "table '%s' has a [header]; dotted keys cannot add to it",
                        show_path(p, k, i + 1));
        }
        t = c;
    }
    *out = t;
    return RHEI_OK;
}

/* key = value, into table t (the current table, or an inline table). */
static int parse_keyval(P *p, rhei__toml *table)
{
    keypath k;
    rhei__toml *t = NULL, *v = NULL;
    int rc = parse_key(p, &k);
    if (rc)
        goto done;
    if (peek(p) != '=') {
        rc = perr(p, here(p), "expected '=' after key '%s', found %s", show_path(p, &k, k.n),
                  found(p));
        goto done;
    }
    adv(p);
    skip_ws(p);
    keypart *last = &k.part[k.n - 1];
    if ((rc = dotted_target(p, table, &k, &t)))
        goto done;
    if (rhei__toml_member(t, last->s, last->n)) {
        rc = perr(p, last->at, "duplicate key '%s'", show_path(p, &k, k.n));
        goto done;
    }
    if ((rc = room_for(p, t, last->at)) || (rc = parse_value(p, t->depth + 1, &v)))
        goto done;
    v->key = last->s; /* moved: the part no longer owns it */
    v->key_len = last->n;
    last->s = NULL;
    v->line = last->at.line;
    v->col = last->at.col;
    if ((rc = node_add(p, t, v, last->at)))
        node_free(v);
done:
    keypath_free(&k);
    return rc;
}

/* --- values --------------------------------------------------------------------------- */

/* Digits of one base with '_' allowed only between digits; returns the count, -1 if an
 * underscore is misplaced. */
static int digit_run(const char *s, size_t n, size_t *i, int base)
{
    int count = 0;
    while (*i < n) {
        int d = hexval((unsigned char)s[*i]);
        if (s[*i] == '_') {
            if (!count || *i + 1 >= n || hexval((unsigned char)s[*i + 1]) < 0 ||
                hexval((unsigned char)s[*i + 1]) >= base)
                return -1;
        } else if (d < 0 || d >= base) {
            break;
        } else {
            count++;
        }
        (*i)++;
    }
    return count;
}

static int to_int(P *p, const char *s, size_t n, int base, int neg, tpos at, int64_t *out)
{
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_')
            continue;
        uint64_t d = (uint64_t)hexval((unsigned char)s[i]);
        if (v > (lim - d) / (uint64_t)base)
            return perr(p, at, "integer out of range");
        v = v * (uint64_t)base + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v; /* 0 - 2^63 wraps to INT64_MIN as intended */
    return RHEI_OK;
}

/* strtod follows LC_NUMERIC; an application that changes it must keep '.' as the point. */
static int to_float(P *p, const char *s, size_t n, tpos at, double *out)
{
    char tmp[NUMBER_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            tmp[o++] = s[i];
    tmp[o] = '\0';
    char *end = NULL;
    errno = 0;
    double d = strtod(tmp, &end);
    if (end != tmp + o)
        return perr(p, at, "invalid float '%s'", show_text(p, s, n));
    if (errno == ERANGE && (d > 1 || d < -1))
        return perr(p, at, "float '%s' out of range", show_text(p, s, n));
    *out = d;
    return RHEI_OK;
}

static int radix_int(P *p, const char *s, size_t n, int sign, tpos at, rhei__toml *v)
{
    int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    size_t i = 2;
    if (sign)
        return perr(p, at, "hexadecimal, octal and binary integers take no sign");
    if (digit_run(s, n, &i, base) <= 0 || i != n)
        return perr(p, at, "invalid integer '%s'", show_text(p, s, n));
    v->kind = RHEI__TOML_INTEGER;
    return to_int(p, s + 2, n - 2, base, 0, at, &v->i);
}

static int looks_like_date(const char *s, size_t n)
{
    size_t d = 0;
    while (d < n && s[d] >= '0' && s[d] <= '9')
        d++;
    return (d == 4 && d < n && s[d] == '-') || (d == 2 && d < n && s[d] == ':');
}

/* A number token s[0..n) into v (kind set here). */
static int parse_number(P *p, const char *s, size_t n, tpos at, rhei__toml *v)
{
    size_t i = 0;
    int sign = s[0] == '+' || s[0] == '-', neg = s[0] == '-', is_float = 0;
    const char *r = s + sign;
    size_t rn = n - (size_t)sign;
    if (n > NUMBER_MAX)
        return perr(p, at, "number longer than %d characters", NUMBER_MAX);
    if ((rn == 3 && (memcmp(r, "inf", 3) == 0 || memcmp(r, "nan", 3) == 0))) {
        v->kind = RHEI__TOML_FLOAT;
        return to_float(p, s, n, at, &v->f);
    }
    if (rn > 2 && r[0] == '0' && (r[1] == 'x' || r[1] == 'o' || r[1] == 'b'))
        return radix_int(p, r - sign, n, sign, at, v);
    if (!sign && looks_like_date(s, n))
        return perr(p, at, "dates and times are not supported");
    i = (size_t)sign;
    int lead = digit_run(s, n, &i, 10);
    if (lead > 1 && s[sign] == '0')
        return perr(p, at, "leading zeros are not allowed in '%s'", show_text(p, s, n));
    if (lead > 0 && i < n && s[i] == '.') {
        i++;
        is_float = 1;
        if (digit_run(s, n, &i, 10) <= 0)
            lead = -1;
    }
    if (lead > 0 && i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        is_float = 1;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (digit_run(s, n, &i, 10) <= 0)
            lead = -1;
    }
    if (lead <= 0 || i != n)
        return perr(p, at, "invalid number '%s'", show_text(p, s, n));
    v->kind = is_float ? RHEI__TOML_FLOAT : RHEI__TOML_INTEGER;
    if (is_float)
        return to_float(p, s, n, at, &v->f);
    return to_int(p, s + sign, n - (size_t)sign, 10, neg, at, &v->i);
}

static int parse_array(P *p, int depth, rhei__toml **out) /* at '[' */
{
    tpos at = here(p);
    rhei__toml *a = node_new(p, RHEI__TOML_ARRAY, depth, at, NULL), *v = NULL;
    int rc = a ? RHEI_OK : p->e->code;
    if (a)
        a->flags = T_STATIC;
    for (adv(p); rc == RHEI_OK;) {
        if ((rc = skip_wsnl(p)))
            break;
        if (peek(p) == ']')
            break;
        tpos vat = here(p);
        if (peek(p) < 0)
            rc = perr(p, at, "unterminated array");
        else if (!(rc = room_for(p, a, vat)) && !(rc = parse_value(p, depth + 1, &v)) &&
                 (rc = node_add(p, a, v, vat)))
            node_free(v);
        if (rc || (rc = skip_wsnl(p)))
            break;
        if (peek(p) == ',')
            adv(p);
        else if (peek(p) != ']')
            rc = perr(p, here(p), "expected ',' or ']' in the array opened at %d:%d, found %s",
                      at.line, at.col, found(p));
    }
    if (rc) {
        node_free(a);
        return rc;
    }
    adv(p); /* ']' */
    *out = a;
    return RHEI_OK;
}

/* { key = value, ... } on one line, no trailing comma (TOML 1.0); sealed afterwards. */
static int parse_inline(P *p, int depth, rhei__toml **out) /* at '{' */
{
    tpos at = here(p);
    rhei__toml *t = node_new(p, RHEI__TOML_TABLE, depth, at, NULL);
    if (!t)
        return p->e->code;
    t->flags = T_INLINE;
    adv(p);
    skip_ws(p);
    int rc = RHEI_OK, empty = peek(p) == '}';
    while (!empty) {
        skip_ws(p);
        if (at_newline(p)) {
            rc = perr(p, here(p), "inline table opened at %d:%d must end on the same line",
                      at.line, at.col);
            break;
        }
        if ((rc = parse_keyval(p, t)))
            break;
        skip_ws(p);
        if (peek(p) == '}')
            break;
        if (peek(p) != ',') {
            rc = perr(p, here(p), "expected ',' or '}' in the inline table opened at %d:%d, "
                      "found %s", at.line, at.col, found(p));
            break;
        }
        adv(p);
    }
    if (rc) {
        node_free(t);
        return rc;
    }
    adv(p); /* '}' */
    *out = t;
    return RHEI_OK;
}

static int parse_scalar(P *p, const char *w, size_t n, tpos at, rhei__toml *v)
{
    int c = (unsigned char)w[0];
    if ((n == 4 && memcmp(w, "true", 4) == 0) || (n == 5 && memcmp(w, "false", 5) == 0)) {
        v->kind = RHEI__TOML_BOOL;
        v->i = n == 4;
        return RHEI_OK;
    }
    if (c == '+' || c == '-' || (c >= '0' && c <= '9') ||
        (n == 3 && (memcmp(w, "inf", 3) == 0 || memcmp(w, "nan", 3) == 0)))
        return parse_number(p, w, n, at, v);
    return perr(p, at, "invalid value '%s' (strings need quotes)", show_text(p, w, n));
}

static int parse_value(P *p, int depth, rhei__toml **out)
{
    tpos at = here(p);
    int c = peek(p), rc;
    *out = NULL;
    if (c == '[')
        return parse_array(p, depth, out);
    if (c == '{')
        return parse_inline(p, depth, out);
    size_t start = p->pos;
    while (is_bare(peek(p)) || peek(p) == '.' || peek(p) == '+' || peek(p) == ':')
        adv(p);
    if (p->pos == start && c != '"' && c != '\'')
        return perr(p, at, "expected a value, found %s", found(p));
    rhei__toml *v = node_new(p, RHEI__TOML_STRING, depth, at, NULL);
    if (!v)
        return p->e->code;
    if (p->pos == start)
        rc = parse_string(p, &v->str, &v->len);
    else
        rc = parse_scalar(p, p->s + start, p->pos - start, at, v);
    if (rc) {
        node_free(v);
        return rc;
    }
    *out = v;
    return RHEI_OK;
}

/* --- tables --------------------------------------------------------------------------- */

/* Walks (creating implicitly) the tables named by all but the last part of a header. */
static int header_parent(P *p, keypath *k, rhei__toml **out)
{
    rhei__toml *t = p->root;
    for (int i = 0; i < k->n - 1; i++) {
        rhei__toml *c = rhei__toml_member(t, k->part[i].s, k->part[i].n);
        int rc = RHEI_OK;
        if (!c)
            rc = add_table(p, t, &k->part[i], T_IMPLICIT, &c);
        else if (c->kind == RHEI__TOML_ARRAY && (c->flags & T_AOT))
            c = c->items[c->count - 1]; /* [a.b] after [[a]] means the latest a */
        else if (c->kind != RHEI__TOML_TABLE)
            rc = perr(p, k->part[i].at, "key '%s' is %s %s, not a table",
                      show_path(p, k, i + 1), article(c->kind), rhei__toml_kind_name(c->kind));
        else if (c->flags & T_INLINE)
            rc = perr(p, k->part[i].at, "inline table '%s' cannot be extended",
                      show_path(p, k, i + 1));
        if (rc)
            return rc;
        t = c;
    }
    *out = t;
    return RHEI_OK;
}

static int define_table(P *p, rhei__toml *parent, keypath *k, tpos at, rhei__toml **cur)
{
    keypart *last = &k->part[k->n - 1];
    rhei__toml *c = rhei__toml_member(parent, last->s, last->n);
    if (!c) {
        int rc = add_table(p, parent, last, T_EXPLICIT, cur);
        if (rc == RHEI_OK) {
            (*cur)->line = at.line;
            (*cur)->col = at.col;
        }
        return rc;
    }
    if (c->kind == RHEI__TOML_TABLE && (c->flags & T_IMPLICIT)) {
        c->flags = T_EXPLICIT;
        c->line = at.line;
        c->col = at.col;
        *cur = c;
        return RHEI_OK;
    }
    if (c->kind == RHEI__TOML_TABLE && (c->flags & T_EXPLICIT))
        return perr(p, at, "table '%s' is already defined at %d:%d", show_path(p, k, k->n),
                    c->line, c->col);
    return perr(p, at, "cannot define table '%s': key already set at %d:%d",
                show_path(p, k, k->n), c->line, c->col);
}

static int append_table(P *p, rhei__toml *parent, keypath *k, tpos at, rhei__toml **cur)
{
    keypart *last = &k->part[k->n - 1];
    rhei__toml *a = rhei__toml_member(parent, last->s, last->n), *t = NULL;
    int rc = RHEI_OK;
    if (!a) {
        if (!(a = node_new(p, RHEI__TOML_ARRAY, parent->depth + 1, at, last)))
            return p->e->code;
        a->flags = T_AOT;
        if ((rc = node_add(p, parent, a, at))) {
            node_free(a);
            return rc;
        }
    } else if (a->kind != RHEI__TOML_ARRAY || !(a->flags & T_AOT)) {
        return perr(p, at, "cannot define array of tables '%s': key already set at %d:%d",
                    show_path(p, k, k->n), a->line, a->col);
    }
    if (!(t = node_new(p, RHEI__TOML_TABLE, a->depth + 1, at, NULL)))
        return p->e->code;
    t->flags = T_EXPLICIT;
    if ((rc = node_add(p, a, t, at))) {
        node_free(t);
        return rc;
    }
    *cur = t;
    return RHEI_OK;
}

static int parse_header(P *p, rhei__toml **cur) /* at '[' */
{
    tpos at = here(p);
    keypath k;
    rhei__toml *parent = NULL;
    adv(p);
    int aot = peek(p) == '[';
    if (aot)
        adv(p);
    int rc = parse_key(p, &k);
    if (rc == RHEI_OK && (peek(p) != ']' || (aot && peek_at(p, 1) != ']')))
        rc = perr(p, here(p), "expected '%s' to close the table header, found %s",
                  aot ? "]]" : "]", found(p));
    if (rc == RHEI_OK) {
        adv(p);
        if (aot)
            adv(p);
        rc = header_parent(p, &k, &parent);
    }
    if (rc == RHEI_OK)
        rc = aot ? append_table(p, parent, &k, at, cur) : define_table(p, parent, &k, at, cur);
    if (rc == RHEI_OK)
        rc = expect_eol(p, "table header");
    keypath_free(&k);
    return rc;
}

static int parse_document(P *p)
{
    rhei__toml *cur = p->root;
    if (p->n >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0) { /* tolerate a UTF-8 BOM */
        p->pos = 3;
    }
    for (;;) {
        int rc = RHEI_OK;
        skip_ws(p);
        if (peek(p) < 0)
            return RHEI_OK;
        if (peek(p) == '#')
            rc = skip_comment(p);
        else if (at_newline(p))
            eat_newline(p);
        else if (peek(p) == '[')
            rc = parse_header(p, &cur);
        else if (!(rc = parse_keyval(p, cur)))
            rc = expect_eol(p, "value");
        if (rc)
            return rc;
    }
}

/* Offset of the first byte that is not valid UTF-8 (overlong forms, surrogates and code
 * points past U+10FFFF included), or n. */
static size_t utf8_invalid_at(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            need = 1, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            need = 2, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            need = 3, cp = c & 0x07, min = 0x10000;
        else
            return i;
        if (n - i <= need)
            return i;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += need + 1;
    }
    return n;
}

int rhei__toml_parse(const char *text, size_t len, const char *name, rhei__toml **out,
                     rhei__err *e)
{
    P p;
    tpos start = {1, 1};
    *out = NULL;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.n = len;
    p.line = p.col = 1;
    p.name = name ? name : "<toml>";
    p.e = e;
    if (!text && len)
        return rhei__err_set(e, RHEI_MISUSE, "%s: no text", p.name);
    if (len > RHEI__TOML_MAX_BYTES)
        return rhei__err_set(e, RHEI_CONFIG, "%s: larger than the %u-byte limit of a config "
                             "file", p.name, (unsigned)RHEI__TOML_MAX_BYTES);
    if (!(p.root = node_new(&p, RHEI__TOML_TABLE, 0, start, NULL)))
        return e->code;
    p.root->flags = T_EXPLICIT;
    size_t bad = text ? utf8_invalid_at((const unsigned char *)text, len) : 0;
    int rc;
    if (text && bad < len) {
        while (p.pos < bad)
            adv(&p);
        rc = perr(&p, here(&p), "invalid UTF-8");
    } else {
        rc = parse_document(&p);
    }
    if (rc) {
        node_free(p.root);
        return rc;
    }
    *out = p.root;
    return RHEI_OK;
}
