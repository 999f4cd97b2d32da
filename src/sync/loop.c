/* loop.c — the background sync thread and the status snapshot. The thread starts a cycle
 * every interval (at once when the last one took longer: the interval bounds staleness, not
 * the gap between cycles), waits twice as long after each failed cycle (up to 30 s, so a
 * dead disk is not hammered), and stops when asked. Idle time goes to OLAP housekeeping. */
#include "sync_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>

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

/* One run of the background thread: a cycle, then the wait until the next (bg.h). */
static int64_t loop_step(void *arg)
{
    rhei__sync *s = arg;
    int64_t interval = atomic_load(&s->interval_ms);
    rhei_sync_stats st;
    rhei__err e;
    if (rhei__sync_cycle(s, &st, &e) == RHEI_OK) {
        s->backoff_ms = 0;
        maintain_if_idle(s, &st);
        return interval;
    }
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : interval;
    if (s->backoff_ms > MAX_BACKOFF_MS)
        s->backoff_ms = MAX_BACKOFF_MS;
    return s->backoff_ms;
}

int rhei__sync_start(rhei__sync *s, int64_t interval_ms, rhei__err *e)
{
    if (interval_ms <= 0)
        return rhei__err_set(e, RHEI_MISUSE, "sync interval must be positive, got %lld ms",
                             (long long)interval_ms);
    atomic_store(&s->interval_ms, interval_ms);
    if (rhei__bg_running(&s->loop)) {
        rhei__bg_wake(&s->loop); /* re-timed: take the new interval now */
        return RHEI_OK;
    }
    s->backoff_ms = 0;
    return rhei__bg_start(&s->loop, loop_step, s, "sync", e);
}

void rhei__sync_stop(rhei__sync *s)
{
    rhei__bg_stop(&s->loop);
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
    out->running = rhei__bg_running(&s->loop);

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
