/* bg.c — the background-thread helper (bg.h): a step, a monotonic wait cut short by wake or
 * stop, repeated. Invariant: running is 1 from a successful start until stop has joined. */
#include "bg.h"
#include "clock.h"
#include <errno.h>
#include <time.h>

void rhei__bg_init(rhei__bg *b)
{
    pthread_condattr_t ca;
    pthread_mutex_init(&b->ctl_mu, NULL);
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->running = 0;
    b->woken = 0;
    atomic_init(&b->stopping, 0);
    b->step = NULL;
    b->ud = NULL;
}

void rhei__bg_destroy(rhei__bg *b)
{
    rhei__bg_stop(b);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->ctl_mu);
}

static struct timespec deadline(int64_t from_us, int64_t wait_ms)
{
    int64_t at = from_us + wait_ms * 1000;
    struct timespec ts = {(time_t)(at / 1000000), (long)(at % 1000000) * 1000};
    return ts;
}

static void *bg_main(void *arg)
{
    rhei__bg *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!atomic_load(&b->stopping)) {
        b->woken = 0;
        pthread_mutex_unlock(&b->mu);
        int64_t t0 = rhei__mono_us();
        int64_t wait_ms = b->step(b->ud);
        struct timespec until = deadline(t0, wait_ms);
        pthread_mutex_lock(&b->mu);
        while (!atomic_load(&b->stopping) && !b->woken) {
            if (wait_ms < 0)
                pthread_cond_wait(&b->cv, &b->mu);
            else if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int rhei__bg_start(rhei__bg *b, rhei__bg_step step, void *ud, const char *what, rhei__err *e)
{
    int rc = RHEI_OK;
    pthread_mutex_lock(&b->ctl_mu);
    pthread_mutex_lock(&b->mu);
    if (!b->running) {
        atomic_store(&b->stopping, 0);
        b->woken = 0;
        b->step = step;
        b->ud = ud;
        if (pthread_create(&b->thread, NULL, bg_main, b) != 0)
            rc = rhei__err_set(e, RHEI_ERROR, "cannot start the %s thread", what);
        else
            b->running = 1;
    }
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->ctl_mu);
    return rc;
}

void rhei__bg_wake(rhei__bg *b)
{
    pthread_mutex_lock(&b->mu);
    b->woken = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void rhei__bg_stop(rhei__bg *b)
{
    pthread_mutex_lock(&b->ctl_mu);
    pthread_mutex_lock(&b->mu);
    if (!b->running) {
        pthread_mutex_unlock(&b->mu);
        pthread_mutex_unlock(&b->ctl_mu);
        return;
    }
    atomic_store(&b->stopping, 1);
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    pthread_mutex_lock(&b->mu);
    b->running = 0;
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->ctl_mu);
}

int rhei__bg_running(rhei__bg *b)
{
    pthread_mutex_lock(&b->mu);
    int r = b->running;
    pthread_mutex_unlock(&b->mu);
    return r;
}

int rhei__bg_stopping(rhei__bg *b) { return atomic_load(&b->stopping); }
