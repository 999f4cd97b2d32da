/* prune.c — the pruner: a background thread (core's rhei__bg) that deletes applied change-log
 * rows, so a sync cycle (and the caller of rhei_sync_now waiting on it) never pays for the
 * deletion. Requests are
 * batched (at least 4,096 events or one second apart); a failed or busy prune is retried
 * with the next request and loses nothing, because pruning only ever removes applied events.
 * It runs on the maintenance connection, never on the writer: a user's open transaction is
 * never touched, the pruner just finds the writer busy and tries again later. */
#include "sync_int.h"

#define PRUNE_MIN_EVENTS 4096
#define PRUNE_MIN_US 1000000
#define PRUNE_CHUNK 20000 /* rows per transaction: a write waits at most one chunk */
#define PRUNE_WAIT_MS 50  /* how long one attempt waits for a free writer */

_Atomic int rhei__sync_test_prune_always;
_Atomic long rhei__sync_prune_attempts, rhei__sync_prune_busy;

/* One run of the pruner thread (bg.h): prunes up to the requested target, then sleeps until
 * the next request wakes it. */
static int64_t prune_step(void *ud)
{
    rhei__sync *s = ud;
    pthread_mutex_lock(&s->prune_mu);
    int64_t target = s->prune_target, pruned = s->pruned;
    pthread_mutex_unlock(&s->prune_mu);
    if (target <= pruned)
        return -1;
    rhei__err e;
    int rc, more = 0;
    do {
        rhei__sync_prune_attempts++;
        rhei__conn *m = rhei__oltp_maint(s->oltp, PRUNE_WAIT_MS);
        if (!m) { /* a transaction holds the writer: not now */
            rhei__sync_prune_busy++;
            rc = RHEI_BUSY;
            break;
        }
        rc = rhei__cdc_prune(m, s->consumer, target, PRUNE_CHUNK, &more, &e);
        rhei__oltp_maint_release(s->oltp);
    } while (rc == RHEI_OK && more && !rhei__bg_stopping(&s->pruner));
    pthread_mutex_lock(&s->prune_mu);
    s->last_prune_us = rhei__now_us();
    if (rc == RHEI_OK && !more)
        s->pruned = target;
    else if (rc != RHEI_OK)
        s->prune_target = s->pruned; /* wait for the next request before retrying */
    pthread_mutex_unlock(&s->prune_mu);
    return -1;
}

void rhei__sync_prune_request(rhei__sync *s, int64_t applied)
{
    int64_t now = rhei__now_us();
    pthread_mutex_lock(&s->prune_mu);
    int go = applied > s->pruned && !s->pruner_stopped &&
             (applied - s->pruned >= PRUNE_MIN_EVENTS || now - s->last_prune_us >= PRUNE_MIN_US ||
              rhei__sync_test_prune_always);
    if (go)
        s->prune_target = applied;
    pthread_mutex_unlock(&s->prune_mu);
    if (!go)
        return;
    /* started on the first request; a thread that cannot start now is retried with the next
     * (pruning later loses nothing) */
    rhei__err ignored;
    if (rhei__bg_start(&s->pruner, prune_step, s, "pruner", &ignored) == RHEI_OK)
        rhei__bg_wake(&s->pruner); /* a no-op start when it runs: the wake brings the target */
}

void rhei__sync_pruner_stop(rhei__sync *s)
{
    pthread_mutex_lock(&s->prune_mu);
    s->pruner_stopped = 1;
    pthread_mutex_unlock(&s->prune_mu);
    rhei__bg_stop(&s->pruner); /* returns after the running step ends */
}
