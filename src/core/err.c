/* err.c — result-code text (generated from the X-macro table in rhei.h) and the internal
 * error record's formatting. */
#include "err.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rhei_errstr(int code)
{
    switch (code) {
#define RHEI__CODE_TEXT(name, num, text) case num: return text;
        RHEI_ERROR_CODES(RHEI__CODE_TEXT)
#undef RHEI__CODE_TEXT
    default:
        return "unknown error code";
    }
}

void rhei__err_clear(rhei__err *e)
{
    e->code = RHEI_OK;
    e->msg[0] = '\0';
}

int rhei__err_set(rhei__err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

int rhei__err_wrap(rhei__err *e, const char *fmt, ...)
{
    char head[RHEI__ERRMSG_MAX];
    char tail[RHEI__ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(tail, e->msg, sizeof tail);
    size_t hn = strlen(head);
    /* Built by hand: snprintf("%s: %s") trips -Wformat-truncation on two full buffers. */
    memcpy(e->msg, head, hn + 1);
    if (tail[0] && hn + 2 < sizeof e->msg) {
        memcpy(e->msg + hn, ": ", 3);
        size_t room = sizeof e->msg - hn - 3;
        size_t tn = strlen(tail);
        if (tn > room)
            tn = room;
        memcpy(e->msg + hn + 2, tail, tn);
        e->msg[hn + 2 + tn] = '\0';
    }
    if (e->code == RHEI_OK)
        e->code = RHEI_ERROR;
    return e->code;
}

int rhei__err_nomem(rhei__err *e)
{
    return rhei__err_set(e, RHEI_NOMEM, "out of memory");
}
