/* bg.h — one background thread that runs a step, waits, and runs it again until stopped:
 * the shape of the sync loop, the sidecar's poll and the pruner. Waits are measured on
 * CLOCK_MONOTONIC, so stepping the wall clock neither stalls nor hurries them.
 * Threads: start/wake/stop/running may be called from any thread; the step runs on the
 * background thread only, never twice at once. */
#ifndef RHEI_CORE_BG_H
#define RHEI_CORE_BG_H
#include "err.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* One run of the work. Returns how long to wait, in ms from the moment this run started (so
 * a period bounds staleness, not the gap between runs; a run longer than that is followed
 * at once by the next), or < 0 to wait until rhei__bg_wake. */
typedef int64_t (*rhei__bg_step)(void *ud);

typedef struct rhei__bg {
    pthread_mutex_t ctl_mu; /* serialises start and stop (a stop joins under it) */
    pthread_mutex_t mu;  /* guards everything below but stopping's reads */
    pthread_cond_t cv;   /* on CLOCK_MONOTONIC */
    pthread_t thread;
    int running;         /* a thread exists (joined by stop) */
    int woken;           /* wake came while the step ran: run again without waiting */
    atomic_int stopping; /* read by long steps through rhei__bg_stopping */
    rhei__bg_step step;
    void *ud;
} rhei__bg;

void rhei__bg_init(rhei__bg *b);
/* Stops the thread if running, then releases the mutex and condition. */
void rhei__bg_destroy(rhei__bg *b);
/* Starts the thread running step(ud) at once; a no-op when it runs already. RHEI_ERROR when
 * the thread cannot be created. */
int rhei__bg_start(rhei__bg *b, rhei__bg_step step, void *ud, const char *what, rhei__err *e);
/* Cuts the current wait short (new work, or a new period); a wake during a step makes the
 * next step follow at once. */
void rhei__bg_wake(rhei__bg *b);
/* Asks the thread to end and joins it: returns after the running step ends. No-op when not
 * running; the helper can be started again afterwards. */
void rhei__bg_stop(rhei__bg *b);
int rhei__bg_running(rhei__bg *b);
/* 1 while a stop is pending: long steps check it to end early. */
int rhei__bg_stopping(rhei__bg *b);
#endif
