/* prune.c — the pruner: a thread that deletes applied change-log rows, so a sync cycle (and
 * the caller of rhei_sync_now waiting on it) never pays for the deletion. Requests are
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

static void *pruner_main(void *arg)
{
    rhei__sync *s = arg;
    pthread_mutex_lock(&s->prune_mu);
    for (;;) {
        while (!s->pruner_stop && s->prune_target <= s->pruned)
            pthread_cond_wait(&s->prune_cv, &s->prune_mu);
        if (s->pruner_stop)
            break;
        int64_t target = s->prune_target;
        pthread_mutex_unlock(&s->prune_mu);
        rhei__err e;
        int rc, more;
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
        } while (rc == RHEI_OK && more && !s->pruner_stop);
        pthread_mutex_lock(&s->prune_mu);
        s->last_prune_us = rhei__now_us();
        if (rc == RHEI_OK)
            s->pruned = target;
        else
            s->prune_target = s->pruned; /* wait for the next request before retrying */
    }
    pthread_mutex_unlock(&s->prune_mu);
    return NULL;
}

void rhei__sync_prune_request(rhei__sync *s, int64_t applied)
{
    int64_t now = rhei__now_us();
    pthread_mutex_lock(&s->prune_mu);
    if (applied > s->pruned && !s->pruner_stop &&
        (applied - s->pruned >= PRUNE_MIN_EVENTS || now - s->last_prune_us >= PRUNE_MIN_US ||
         rhei__sync_test_prune_always)) {
        s->prune_target = applied;
        if (!s->pruner_running)
            s->pruner_running = pthread_create(&s->pruner, NULL, pruner_main, s) == 0;
        pthread_cond_signal(&s->prune_cv);
    }
    pthread_mutex_unlock(&s->prune_mu);
}

void rhei__sync_pruner_stop(rhei__sync *s)
{
    pthread_mutex_lock(&s->prune_mu);
    int running = s->pruner_running;
    s->pruner_stop = 1;
    pthread_cond_signal(&s->prune_cv);
    pthread_mutex_unlock(&s->prune_mu);
    if (running)
        pthread_join(s->pruner, NULL);
    s->pruner_running = 0;
}
