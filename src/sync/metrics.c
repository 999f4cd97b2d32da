/* metrics.c — the sync's counters for rhei_metrics: events applied by kind, batches (cycles
 * that applied something, one OLAP transaction each), failed cycles and the cycle duration
 * histogram, all kept under stat_mu next to the cycle counters; and the pruned position. */
#include "histogram.h"
#include "sync_int.h"

void rhei__sync_metrics_record(rhei__sync *s, const rhei_sync_stats *st, int rc)
{
    rhei_metrics *m = &s->m;
    m->applied_inserted += st->inserted;
    m->applied_updated += st->updated;
    m->applied_deleted += st->deleted;
    m->batches += rc == RHEI_OK && st->events > 0;
    m->cycle_failures += rc != RHEI_OK;
    rhei__histogram_add(&m->cycle_seconds, st->elapsed_us);
}

void rhei__sync_metrics(rhei__sync *s, rhei_metrics *out)
{
    pthread_mutex_lock(&s->stat_mu);
    out->applied_inserted = s->m.applied_inserted;
    out->applied_updated = s->m.applied_updated;
    out->applied_deleted = s->m.applied_deleted;
    out->batches = s->m.batches;
    out->cycle_failures = s->m.cycle_failures;
    out->cycle_seconds = s->m.cycle_seconds;
    pthread_mutex_unlock(&s->stat_mu);
    pthread_mutex_lock(&s->prune_mu);
    out->pruned_position = s->pruned;
    pthread_mutex_unlock(&s->prune_mu);
}
