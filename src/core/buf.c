/* buf.c — bounded string builder; failures are sticky so a sequence of appends needs one
 * check at the end. */
#include "buf.h"
#include "mem.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rhei__buf_free(rhei__buf *b)
{
    rhei__free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void rhei__buf_reset(rhei__buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->p)
        b->p[0] = '\0';
}

static int reserve(rhei__buf *b, size_t extra)
{
    size_t max = b->max ? b->max : RHEI__BUF_DEFAULT_MAX;
    if (b->failed)
        return b->failed;
    if (extra > max || b->len > max - extra)
        return b->failed = RHEI_RANGE;
    if (rhei__grow((void **)&b->p, &b->cap, b->len + extra + 1, 1) != 0)
        return b->failed = RHEI_NOMEM;
    return RHEI_OK;
}

int rhei__buf_append(rhei__buf *b, const char *s, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return RHEI_OK;
}

int rhei__buf_puts(rhei__buf *b, const char *s) { return rhei__buf_append(b, s, strlen(s)); }

int rhei__buf_printf(rhei__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return b->failed = RHEI_ERROR;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RHEI_OK;
}

static int quoted(rhei__buf *b, const char *s, char q)
{
    rhei__buf_append(b, &q, 1);
    for (const char *p = s; *p; p++) {
        if (*p == q)
            rhei__buf_append(b, &q, 1);
        rhei__buf_append(b, p, 1);
    }
    return rhei__buf_append(b, &q, 1);
}

int rhei__buf_ident(rhei__buf *b, const char *ident) { return quoted(b, ident, '"'); }
int rhei__buf_sqlite_ident(rhei__buf *b, const char *ident) { return quoted(b, ident, '`'); }
int rhei__buf_literal(rhei__buf *b, const char *s) { return quoted(b, s, '\''); }

const char *rhei__buf_str(rhei__buf *b) { return b->p ? b->p : ""; }

int rhei__buf_check(const rhei__buf *b, rhei__err *e)
{
    if (!b->failed)
        return RHEI_OK;
    if (b->failed == RHEI_NOMEM)
        return rhei__err_nomem(e);
    return rhei__err_set(e, b->failed, "statement text exceeds its %zu-byte limit",
                         (size_t)(b->max ? b->max : RHEI__BUF_DEFAULT_MAX));
}
