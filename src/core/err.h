/* err.h — internal error record: every module function takes a rhei__err and returns its
 * code, so one failure carries one message ("what failed: cause") up to the public API. */
#ifndef RHEI_CORE_ERR_H
#define RHEI_CORE_ERR_H
#include "rhei.h"

#define RHEI__ERRMSG_MAX 1024

typedef struct rhei__err {
    int code;
    char msg[RHEI__ERRMSG_MAX];
} rhei__err;

#if defined(__GNUC__)
#define RHEI__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RHEI__PRINTF(a, b)
#endif

void rhei__err_clear(rhei__err *e);
/* Sets code and message (truncated to fit); returns code so callers can `return set(...)`. */
int rhei__err_set(rhei__err *e, int code, const char *fmt, ...) RHEI__PRINTF(3, 4);
/* Prepends context: "cannot sync 'orders'" + ": " + existing message. Returns e->code. */
int rhei__err_wrap(rhei__err *e, const char *fmt, ...) RHEI__PRINTF(2, 3);
int rhei__err_nomem(rhei__err *e);
#endif
