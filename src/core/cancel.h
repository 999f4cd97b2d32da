/* cancel.h — rhei_cancel, the token that stops one query from another thread: a fired flag
 * and at most one attached interrupt callback, which the backend serving the query installs
 * (DuckDB: duckdb_interrupt on the connection it holds). Core knows no backend type.
 * Invariant: once rhei__cancel_detach returns, the callback is never called again. */
#ifndef RHEI_CORE_CANCEL_H
#define RHEI_CORE_CANCEL_H
#include "rhei.h"

/* Called under the token's mutex, on the firing thread: it must be quick, must not block on
 * anything the query's thread holds, and must not call back into the token. */
typedef void (*rhei__cancel_fn)(void *arg);

/* Installs fn(arg) as what a fire calls (replacing none: one query at a time per token).
 * RHEI_INTERRUPTED (nothing attached) when the token already fired; RHEI_MISUSE when
 * something is attached already; RHEI_OK otherwise. c == NULL: RHEI_OK, nothing to do. */
int rhei__cancel_attach(rhei_cancel *c, rhei__cancel_fn fn, void *arg);
/* Removes the callback; waits for a fire running it to finish. c == NULL: no-op. */
void rhei__cancel_detach(rhei_cancel *c);
/* 1 once the token fired (0 for NULL). A backend whose own interrupt flag is cleared when a
 * statement starts checks this right after that point, so a fire that came earlier counts. */
int rhei__cancel_fired(rhei_cancel *c);
#endif
