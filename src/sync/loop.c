/* loop.c — the background sync thread and the status snapshot. The thread starts a cycle
 * every interval (at once when the last one took longer: the interval bounds staleness, not
 * the gap between cycles), waits twice as long after each failed cycle (up to 30 s, so a
 * dead disk is not hammered), and stops when asked. Idle time goes to OLAP housekeeping. */
#include "sync_int.h"
#include "mem.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_BACKOFF_MS 30000
#define MAINTAIN_EVERY_US 5000000

static void maintain_if_idle(rhei__sync *s, const rhei_sync_stats *st)
{
    int64_t now = rhei__now_us();
    if (st->events)
        return;
    rhei__err e;
    pthread_mutex_lock(&s->mu); /* dirty and the store belong to the cycle lock */
    if (s->dirty && now - s->last_maintain_us >= MAINTAIN_EVERY_US) {
        if (s->vt->maintain(s->olap, &e) == RHEI_OK)
            s->dirty = 0;
        s->last_maintain_us = now;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *loop_main(void *arg)
{
    rhei__sync *s = arg;
    int64_t backoff = 0;
    pthread_mutex_lock(&s->loop_mu);
    while (!s->stopping) {
        int64_t interval = s->interval_ms;
        pthread_mutex_unlock(&s->loop_mu);
        rhei_sync_stats st;
        rhei__err e;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int rc = rhei__sync_cycle(s, &st, &e);
        if (rc == RHEI_OK) {
            backoff = 0;
            maintain_if_idle(s, &st);
        } else {
            backoff = backoff ? backoff * 2 : interval;
            if (backoff > MAX_BACKOFF_MS)
                backoff = MAX_BACKOFF_MS;
        }
        int64_t wait_ms = rc == RHEI_OK ? interval : backoff;
        until.tv_sec += wait_ms / 1000;
        until.tv_nsec += (wait_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&s->loop_mu);
        while (!s->stopping &&
               pthread_cond_timedwait(&s->loop_cv, &s->loop_mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->loop_mu);
    return NULL;
}

int rhei__sync_start(rhei__sync *s, int64_t interval_ms, rhei__err *e)
{
    if (interval_ms <= 0)
        return rhei__err_set(e, RHEI_MISUSE, "sync interval must be positive, got %lld ms",
                             (long long)interval_ms);
    pthread_mutex_lock(&s->loop_mu);
    s->interval_ms = interval_ms;
    int rc = RHEI_OK;
    if (!s->running) {
        s->stopping = 0;
        if (pthread_create(&s->thread, NULL, loop_main, s) != 0)
            rc = rhei__err_set(e, RHEI_ERROR, "cannot start the sync thread");
        else
            s->running = 1;
    } else {
        pthread_cond_signal(&s->loop_cv); /* re-timed: take the new interval now */
    }
    pthread_mutex_unlock(&s->loop_mu);
    return rc;
}

void rhei__sync_stop(rhei__sync *s)
{
    pthread_mutex_lock(&s->loop_mu);
    if (!s->running) {
        pthread_mutex_unlock(&s->loop_mu);
        return;
    }
    s->stopping = 1;
    pthread_cond_signal(&s->loop_cv);
    pthread_mutex_unlock(&s->loop_mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_lock(&s->loop_mu);
    s->running = 0;
    pthread_mutex_unlock(&s->loop_mu);
}

void rhei__sync_status(rhei__sync *s, rhei_sync_status *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->stat_mu);
    out->applied_position = s->applied_pub;
    out->cycles = s->cycles;
    out->events_total = s->events_total;
    out->last_cycle_us = s->last_cycle_us;
    out->last_error_code = s->last_error_code;
    rhei__strlcpy(out->last_error, s->last_error, sizeof out->last_error);
    out->failed_tables = (int)s->nfails;
    if (s->nfails)
        rhei__strlcpy(out->failed_table, s->fails[0].name, sizeof out->failed_table);
    pthread_mutex_unlock(&s->stat_mu);
    pthread_mutex_lock(&s->loop_mu);
    out->running = s->running;
    pthread_mutex_unlock(&s->loop_mu);

    rhei__err e;
    int64_t head = 0, oldest = 0;
    rhei__conn *r = rhei__oltp_reader(s->oltp);
    if (rhei__cdc_head(r, &head, &e) == RHEI_OK &&
        rhei__cdc_oldest_ts(r, out->applied_position, &oldest, &e) == RHEI_OK) {
        out->head_position = head;
        out->lag_events = head > out->applied_position ? head - out->applied_position : 0;
        int64_t now = rhei__now_us();
        out->lag_ms = oldest && now > oldest ? (double)(now - oldest) / 1000.0 : 0.0;
    }
    rhei__oltp_reader_release(s->oltp, r);
}
