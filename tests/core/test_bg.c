/* test_bg.c — the core background-thread helper: wake runs the step again at once, stop cuts
 * any wait short (a 1000 s period, or waiting for a wake), long steps see the stop, and the
 * helper starts again after a stop. No sleeps: the test waits on the step's own counter. */
#include "test.h"
#include "bg.h"
#include <pthread.h>
#include <time.h>

typedef struct counter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int runs;
    int64_t wait_ms;    /* what the step returns */
    rhei__bg *bg;       /* set: the step spins until the helper is stopping */
    int entered;        /* the step has begun (with bg set) */
    int saw_stopping;
} counter;

static int64_t step(void *arg)
{
    counter *c = arg;
    if (c->bg) {
        pthread_mutex_lock(&c->mu);
        c->entered = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        while (!rhei__bg_stopping(c->bg))
            ;
    }
    pthread_mutex_lock(&c->mu);
    c->saw_stopping = c->bg != NULL;
    c->runs++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return c->wait_ms;
}

/* Waits (at most 60 s, a hang guard, not a timing) until the step ran n times. */
static void wait_runs(counter *c, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&c->mu);
    while (c->runs < n)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
            FAIL("step ran %d times, want %d", c->runs, n);
    pthread_mutex_unlock(&c->mu);
}

static void counter_init(counter *c, int64_t wait_ms)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->wait_ms = wait_ms;
}

static int runs(counter *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->runs;
    pthread_mutex_unlock(&c->mu);
    return n;
}

TEST(wake_runs_again_and_stop_cuts_a_long_wait)
{
    rhei__bg bg;
    counter c;
    rhei__err e;
    counter_init(&c, 1000000); /* 1000 s: only wake and stop end this wait */
    rhei__bg_init(&bg);
    CHECK_INT(rhei__bg_running(&bg), 0);
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK);
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK); /* no second thread */
    wait_runs(&c, 1);
    rhei__bg_wake(&bg);
    wait_runs(&c, 2);
    CHECK_INT(rhei__bg_running(&bg), 1);
    rhei__bg_stop(&bg);
    CHECK_INT(rhei__bg_running(&bg), 0);
    CHECK_INT(runs(&c), 2);
    rhei__bg_stop(&bg); /* stopping a stopped helper is a no-op */
    /* and it starts again */
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK);
    wait_runs(&c, 3);
    rhei__bg_destroy(&bg); /* stops it */
}

TEST(negative_wait_sleeps_until_woken)
{
    rhei__bg bg;
    counter c;
    rhei__err e;
    counter_init(&c, -1);
    rhei__bg_init(&bg);
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK);
    wait_runs(&c, 1);
    for (int i = 2; i <= 5; i++) {
        rhei__bg_wake(&bg);
        wait_runs(&c, i);
    }
    rhei__bg_destroy(&bg);
    CHECK_INT(runs(&c), 5);
}

TEST(short_period_keeps_running)
{
    rhei__bg bg;
    counter c;
    rhei__err e;
    counter_init(&c, 1);
    rhei__bg_init(&bg);
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK);
    wait_runs(&c, 20);
    rhei__bg_destroy(&bg);
}

TEST(a_long_step_sees_the_stop)
{
    rhei__bg bg;
    counter c;
    rhei__err e;
    counter_init(&c, 0);
    rhei__bg_init(&bg);
    c.bg = &bg; /* the step spins until stop is asked: stop must not wait for it blindly */
    CHECK_INT(rhei__bg_start(&bg, step, &c, "test", &e), RHEI_OK);
    pthread_mutex_lock(&c.mu);
    while (!c.entered)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    rhei__bg_stop(&bg);
    CHECK_INT(runs(&c), 1);
    CHECK_INT(c.saw_stopping, 1);
    rhei__bg_destroy(&bg);
}
