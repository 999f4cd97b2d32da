/* source_common.c — helpers shared by the source adapters: column lists, the key text of a
 * row for error messages, and the password-free display form of a source spec. */
#include "source.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

void rhei__src_cols_free(rhei__src_cols *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        rhei__free(c->v[i].name);
        rhei__free(c->v[i].decl);
    }
    rhei__free(c->v);
    c->v = NULL;
    c->n = 0;
}

long rhei__src_cols_find(const rhei__src_cols *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return (long)i;
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->v[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Appends a value's text form, cut to keep messages short. */
static size_t put_value(char *buf, size_t size, size_t at, const rhei_value *v)
{
    if (at >= size)
        return at;
    int n;
    switch (v->type) {
    case RHEI_TYPE_NULL:
        n = snprintf(buf + at, size - at, "NULL");
        break;
    case RHEI_TYPE_REAL:
        n = snprintf(buf + at, size - at, "%.17g", v->f);
        break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        n = snprintf(buf + at, size - at, "'%.*s%s'", (int)(v->n > 48 ? 48 : v->n),
                     v->s ? v->s : "", v->n > 48 ? "..." : "");
        break;
    case RHEI_TYPE_BLOB:
        n = snprintf(buf + at, size - at, "<blob of %zu bytes>", v->n);
        break;
    default:
        n = snprintf(buf + at, size - at, "%lld", (long long)v->i);
        break;
    }
    return n < 0 ? at : at + (size_t)n;
}

void rhei__src_key_text(const rhei__src_query *q, const rhei__batch *b, size_t row, char *buf,
                        size_t size)
{
    const rhei_value *r = rhei__batch_row(b, row);
    size_t at = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < q->npk && at < size; k++) {
        int n = snprintf(buf + at, size - at, "%s%s=", k ? ", " : "", q->pk[k]);
        at = n < 0 ? size : at + (size_t)n;
        at = put_value(buf, size, at, &r[q->key_index + k]);
    }
}

void rhei__src_drop_last(rhei__batch *b)
{
    if (b->nrows == 0)
        return;
    uint8_t op = b->op[--b->nrows];
    if (op == RHEI__OP_INSERT)
        b->ninserts--;
    else if (op == RHEI__OP_UPDATE)
        b->nupdates--;
    else
        b->ndeletes--;
}

/* Hides the password of a postgresql://user:password@host URI, in place. */
static void redact_uri(char *s, size_t size)
{
    char *sch = strstr(s, "://");
    if (!sch)
        return;
    char *host = sch + 3, *end = strpbrk(host, "/?"), *at = strchr(host, '@');
    if (!at || (end && end < at))
        return;
    char *colon = memchr(host, ':', (size_t)(at - host));
    if (!colon || (size_t)(colon - s) + 4 + strlen(at) + 1 > size)
        return;
    memmove(colon + 4, at, strlen(at) + 1);
    memcpy(colon, ":***", 4);
}

/* Writes "<kind>:<where>" into buf with the value of every password=... pair (conninfo or
 * URI parameter) and a URI's userinfo password replaced by "***". */
void rhei__src_redact(const char *kind, const char *where, char *buf, size_t size)
{
    char tmp[1024];
    rhei__strlcpy(tmp, where, sizeof tmp);
    redact_uri(tmp, sizeof tmp);
    int n = snprintf(buf, size, "%s:", kind);
    size_t at = n < 0 ? 0 : (size_t)n;
    const char *p = tmp;
    while (*p && at + 13 < size) {
        int starts = p == tmp || p[-1] == ' ' || p[-1] == '&' || p[-1] == '?';
        const char *eq = p;
        if (starts && strncasecmp(p, "password", 8) == 0)
            for (eq = p + 8; *eq == ' '; eq++)
                ;
        if (eq != p && *eq == '=') {
            at += (size_t)snprintf(buf + at, size - at, "password=***");
            for (p = eq + 1; *p == ' '; p++)
                ;
            if (*p == '\'') /* quoted value: up to the closing quote */
                for (p++; *p && *p != '\''; p += (*p == '\\' && p[1]) ? 2 : 1)
                    ;
            while (*p && *p != ' ' && *p != '&')
                p++;
            continue;
        }
        buf[at++] = *p++;
    }
    buf[at < size ? at : size - 1] = '\0';
}

/* A column of the polled table, qualified: the SELECT list repeats names (the timestamp and
 * key columns are read twice), which would make a bare name in ORDER BY ambiguous. */
void rhei__src_put_col(rhei__buf *b, const char *name)
{
    rhei__buf_puts(b, "_rhei_t.");
    rhei__buf_ident(b, name);
}

void rhei__src_put_ts(rhei__buf *b, const rhei__src_query *q)
{
    if (q->ts_alt) {
        rhei__buf_puts(b, "COALESCE(");
        rhei__src_put_col(b, q->ts_col);
        rhei__buf_puts(b, ", ");
        rhei__src_put_col(b, q->ts_alt);
        rhei__buf_puts(b, ")");
    } else {
        rhei__src_put_col(b, q->ts_col);
    }
}
