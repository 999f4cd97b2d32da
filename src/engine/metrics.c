/* metrics.c — rhei_metrics_get: one snapshot of the engine's counters for monitoring. The
 * query side (served queries by side and route reason, latency histograms) is counted here
 * under count_mu as queries finish; the sync side comes from src/sync (metrics.c there). */
#include "engine_int.h"
#include "histogram.h"
#include <string.h>

void rhei__metrics_query_locked(rhei_db *db, rhei_side side, const char *reason, int64_t us)
{
    rhei_metrics *m = &db->qm;
    size_t k = side == RHEI_SIDE_OLAP ? RHEI_SIDE_OLAP : RHEI_SIDE_OLTP;
    m->queries[k]++;
    rhei__histogram_add(&m->query_seconds[k], us);
    reason = reason ? reason : "";
    /* reasons are static strings: few, so a short scan; text compared, not pointers, in case
     * two copies of one string exist */
    for (size_t i = 0; i < m->nroutes; i++)
        if (m->routes[i].side == (rhei_side)k && strcmp(m->routes[i].reason, reason) == 0) {
            m->routes[i].count++;
            return;
        }
    if (m->nroutes < RHEI_METRICS_ROUTES)
        m->routes[m->nroutes++] = (rhei_route_count){(rhei_side)k, reason, 1};
}

int rhei_metrics_get(rhei_db *db, rhei_metrics *out)
{
    if (!db || !out || out->size != sizeof *out) {
        rhei__err e;
        rhei__err_set(&e, RHEI_MISUSE, "rhei_metrics_get needs a handle and out->size set to"
                      " sizeof(rhei_metrics)");
        return rhei__engine_fail(db, &e);
    }
    pthread_mutex_lock(&db->count_mu);
    *out = db->qm;
    out->fallbacks = db->fallbacks;
    pthread_mutex_unlock(&db->count_mu);
    out->size = sizeof *out;
    rhei__sync_status(db->sync, &out->sync);
    rhei__sync_metrics(db->sync, out);
    return RHEI_OK;
}
