/* applier.c — applies a full set of batches to OLAP on its own thread while the cycle goes
 * on reading the log into fresh batches: in a big sync, decoding SQLite's log and DuckDB's
 * insert (each about half of the time) overlap on two cores. One job at a time; the cycle
 * waits for it before anything else touches OLAP (schema events, the final flush, commit or
 * rollback), so the write connection is never used by two threads at once. */
#include "sync_int.h"
#include "mem.h"
#include <string.h>

static void *applier_main(void *arg)
{
    rhei__sync *s = arg;
    rhei__applier *a = &s->ap;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->busy && !a->stop)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->stop)
            break;
        pthread_mutex_unlock(&a->mu);
        int rc = RHEI_OK;
        const char *failed = NULL;
        rhei__err e;
        rhei__apply_stats sum = {0, 0, 0};
        for (size_t i = 0; i < a->n && rc == RHEI_OK; i++) {
            rhei__batch *b = &a->b[i];
            rhei__apply_stats st = {0, 0, 0};
            if (b->nrows == 0)
                continue;
            if ((rc = s->vt->apply(s->olap, b, s->opts.history, &st, &e)) != RHEI_OK) {
                rhei__err_wrap(&e, "cannot apply changes to table '%s'", b->table->name);
                failed = b->table->name;
            }
            sum.inserted += st.inserted;
            sum.updated += st.updated;
            sum.deleted += st.deleted;
        }
        for (size_t i = 0; i < a->n; i++)
            rhei__batch_reset(&a->b[i], NULL);
        pthread_mutex_lock(&a->mu);
        a->rc = rc;
        a->blame = failed;
        if (rc)
            a->err = e;
        a->st.inserted += sum.inserted;
        a->st.updated += sum.updated;
        a->st.deleted += sum.deleted;
        a->busy = 0;
        pthread_cond_broadcast(&a->cv);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

void rhei__applier_init(rhei__sync *s)
{
    memset(&s->ap, 0, sizeof s->ap);
    pthread_mutex_init(&s->ap.mu, NULL);
    pthread_cond_init(&s->ap.cv, NULL);
}

void rhei__applier_free(rhei__sync *s)
{
    rhei__applier *a = &s->ap;
    if (a->started) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->th, NULL);
    }
    for (size_t i = 0; i < a->cap; i++)
        rhei__batch_free(&a->b[i]);
    rhei__free(a->b);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
}

int rhei__applier_wait(rhei__sync *s, rhei_sync_stats *acc, rhei__err *e)
{
    rhei__applier *a = &s->ap;
    pthread_mutex_lock(&a->mu);
    while (a->busy)
        pthread_cond_wait(&a->cv, &a->mu);
    int rc = a->rc;
    if (rc)
        *e = a->err;
    if (acc) {
        acc->inserted += a->st.inserted;
        acc->updated += a->st.updated;
        acc->deleted += a->st.deleted;
    }
    a->rc = RHEI_OK;
    a->st = (rhei__apply_stats){0, 0, 0};
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int rhei__applier_submit(rhei__sync *s, rhei__err *e)
{
    rhei__applier *a = &s->ap;
    /* The caller waited: the applier is idle and its batches are empty. */
    if (s->ntables > a->cap) {
        rhei__batch *nb = rhei__realloc(a->b, s->ntables * sizeof *nb);
        if (!nb)
            return rhei__err_nomem(e);
        for (size_t i = a->cap; i < s->ntables; i++)
            rhei__batch_init(&nb[i], NULL);
        a->b = nb;
        a->cap = s->ntables;
    }
    if (!a->started) {
        if (pthread_create(&a->th, NULL, applier_main, s) != 0)
            return rhei__err_set(e, RHEI_IO, "cannot start the sync's applier thread");
        a->started = 1;
    }
    /* Swap whole batches: the cycle keeps filling the (empty) ones it gets back. */
    for (size_t i = 0; i < s->ntables; i++) {
        rhei__batch t = a->b[i];
        a->b[i] = s->tables[i].batch;
        s->tables[i].batch = t;
    }
    pthread_mutex_lock(&a->mu);
    a->n = s->ntables;
    a->busy = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return RHEI_OK;
}

void rhei__applier_detach(rhei__sync *s)
{
    /* The catalog the batches borrowed from is going away: forget it (see batch_reset). */
    for (size_t i = 0; i < s->ap.cap; i++) {
        rhei__batch_reset(&s->ap.b[i], NULL);
        s->ap.b[i].table = NULL;
    }
}
