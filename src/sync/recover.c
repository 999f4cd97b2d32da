/* recover.c — bringing the OLAP side to a consistent start when the engine opens: resume a
 * durable store from its stored position, or rebuild every table from one SQLite snapshot
 * when the store is volatile, the log was pruned past its position, or it is ahead of the
 * log (it belongs to another SQLite file, or that file was restored from a backup). */
#include "sync_int.h"
#include "mem.h"
#include <stdio.h>

static int copy_all(rhei__sync *s, rhei__conn *reader, int64_t head, int64_t ts, rhei__err *e)
{
    const rhei__table **list = NULL;
    size_t n = 0;
    int rc = rhei__catalog_active_list(&s->cat, &list, &n, e);
    for (size_t i = 0; rc == RHEI_OK && i < n; i++)
        if (!rhei__sync_is_detached(s, list[i]->name)) /* gone or changed: see detach.c */
            rc = rhei__sync_copy_table(s, reader, list[i], ts, head, e);
    rhei__free(list);
    return rc;
}

static int rebuild(rhei__sync *s, rhei__conn *reader, int64_t head, int64_t last_ts,
                   rhei__err *e)
{
    int64_t now = rhei__now_us();
    int64_t ts = now > last_ts ? now : last_ts;
    int rc = rhei__sync_reload_catalog(s, reader, e);
    if (rc || (rc = s->vt->begin(s->olap, e)) != RHEI_OK)
        return rc;
    for (size_t i = 0; rc == RHEI_OK && i < s->ntables; i++)
        if (s->tables[i].tid > 0) /* negative tids are the sidecar's tables: not ours */
            rc = s->vt->drop_table(s->olap, s->tables[i].name, s->opts.history, e);
    rhei__sync_clear_states(s);
    if (rc == RHEI_OK)
        rc = copy_all(s, reader, head, ts, e);
    rhei__olap_state st = {head, ts};
    if (rc == RHEI_OK)
        rc = s->vt->set_state(s->olap, &st, e);
    if (rc == RHEI_OK)
        rc = s->vt->commit(s->olap, e);
    if (rc) {
        s->vt->rollback(s->olap);
        rhei__sync_clear_states(s);
        return rhei__err_wrap(e, "cannot rebuild olap from sqlite");
    }
    s->applied = head;
    s->last_ts = ts;
    return RHEI_OK;
}

int rhei__sync_recover(rhei__sync *s, rhei__err *e)
{
    rhei__olap_state st = {0, 0};
    int64_t head = 0, pruned = 0;
    rhei__err ignored;
    pthread_mutex_lock(&s->mu);
    rhei__sync_clear_states(s);
    int rc = s->vt->get_state(s->olap, &st, e);
    if (rc == RHEI_OK)
        rc = s->vt->list_tables(s->olap, rhei__sync_load_table_cb, s, e);
    if (rc == RHEI_OK) { /* from now on nobody prunes what this engine still needs */
        rhei__conn *w = rhei__oltp_writer(s->oltp);
        rc = rhei__cdc_consumer_set(w, s->consumer, st.position, e);
        rhei__oltp_writer_release(s->oltp);
    }
    rhei__conn *reader = rhei__oltp_reader(s->oltp);
    if (rc == RHEI_OK)
        rc = rhei__conn_exec(reader, "BEGIN", NULL, 0, NULL, e);
    if (rc == RHEI_OK)
        rc = rhei__cdc_head(reader, &head, e);
    if (rc == RHEI_OK)
        rc = rhei__cdc_pruned_upto(reader, &pruned, e);
    if (rc == RHEI_OK) /* never refuse to open over DDL done outside rhei */
        rc = rhei__sync_check_schema(s, reader, e);
    if (rc == RHEI_OK) {
        if (s->opts.olap_volatile || st.position < pruned || st.position > head) {
            rc = rebuild(s, reader, head, st.last_ts, e);
        } else {
            s->applied = st.position;
            s->last_ts = st.last_ts;
        }
    }
    rhei__conn_exec(reader, "COMMIT", NULL, 0, NULL, &ignored);
    rhei__oltp_reader_release(s->oltp, reader);
    pthread_mutex_lock(&s->prune_mu);
    s->pruned = pruned;
    pthread_mutex_unlock(&s->prune_mu);
    s->applied_pub = s->applied;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
