/* cancel.c — rhei_cancel: a mutex, a fired flag and one attached interrupt callback. Fire
 * and detach take the same mutex, so the callback never runs on a connection the query has
 * already given back; the flag is atomic so a query's thread can read it without the lock. */
#include "cancel.h"
#include "mem.h"
#include <pthread.h>
#include <stdatomic.h>

struct rhei_cancel {
    pthread_mutex_t mu;
    atomic_int fired;
    rhei__cancel_fn fn; /* guarded by mu; NULL when nothing is attached */
    void *arg;
};

int rhei_cancel_new(rhei_cancel **out)
{
    if (!out)
        return RHEI_MISUSE;
    *out = NULL;
    rhei_cancel *c = rhei__calloc(1, sizeof *c);
    if (!c)
        return RHEI_NOMEM;
    if (pthread_mutex_init(&c->mu, NULL)) {
        rhei__free(c);
        return RHEI_NOMEM;
    }
    atomic_init(&c->fired, 0);
    *out = c;
    return RHEI_OK;
}

void rhei_cancel_free(rhei_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    rhei__free(c);
}

void rhei_cancel_fire(rhei_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->fired, 1);
    if (c->fn)
        c->fn(c->arg); /* idempotent by contract: a second fire interrupts again, harmlessly */
    pthread_mutex_unlock(&c->mu);
}

int rhei__cancel_attach(rhei_cancel *c, rhei__cancel_fn fn, void *arg)
{
    if (!c)
        return RHEI_OK;
    int rc = RHEI_OK;
    pthread_mutex_lock(&c->mu);
    if (atomic_load(&c->fired))
        rc = RHEI_INTERRUPTED;
    else if (c->fn)
        rc = RHEI_MISUSE;
    else
        c->fn = fn, c->arg = arg;
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void rhei__cancel_detach(rhei_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->fn = NULL;
    c->arg = NULL;
    pthread_mutex_unlock(&c->mu);
}

int rhei__cancel_fired(rhei_cancel *c) { return c ? atomic_load(&c->fired) : 0; }
