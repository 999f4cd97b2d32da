/* recover.c — bringing the OLAP side to a consistent start when the engine opens: resume a
 * durable store from its stored position, or rebuild every table from one SQLite snapshot
 * when the store is volatile, the log was pruned past its position, or it is ahead of the
 * log (it belongs to another SQLite file, or that file was restored from a backup). */
#include "sync_int.h"
#include "mem.h"
#include <stdio.h>

/* Copies every registered table but the failed and detached ones; *failed names the table whose copy
 * failed with an error of its own (fail.c), or stays NULL. */
static int copy_all(rhei__sync *s, rhei__conn *reader, int64_t head, int64_t ts,
                    const char **failed, rhei__err *e)
{
    const rhei__table **list = NULL;
    size_t n = 0;
    int rc = rhei__catalog_active_list(&s->cat, &list, &n, e);
    for (size_t i = 0; rc == RHEI_OK && i < n; i++) {
        if (s->nfails && rhei__sync_fail_find(s, list[i]->name))
            continue;
        if (rhei__sync_is_detached(s, list[i]->name)) /* gone or changed: see detach.c */
            continue;
        rc = rhei__sync_copy_table(s, reader, list[i], ts, head, e);
        if (rc && rhei__sync_blamable(rc))
            *failed = list[i]->name;
    }
    rhei__free(list);
    return rc;
}

static int rebuild_once(rhei__sync *s, rhei__conn *reader, int64_t head, int64_t ts,
                        const char **failed, rhei__err *e)
{
    int rc = s->vt->begin(s->olap, e);
    if (rc)
        return rc;
    for (size_t i = 0; rc == RHEI_OK && i < s->ntables; i++)
        if (s->tables[i].tid > 0) /* negative tids are the sidecar's tables: not ours */
            rc = s->vt->drop_table(s->olap, s->tables[i].name, s->opts.history, e);
    rhei__sync_clear_states(s);
    if (rc == RHEI_OK)
        rc = copy_all(s, reader, head, ts, failed, e);
    if (rc == RHEI_OK)
        rc = rhei__sync_fails_store(s, e);
    rhei__olap_state st = {head, ts};
    if (rc == RHEI_OK)
        rc = s->vt->set_state(s->olap, &st, e);
    if (rc == RHEI_OK)
        rc = s->vt->commit(s->olap, e);
    if (rc) {
        rhei__err ignored;
        s->vt->rollback(s->olap);
        rhei__sync_clear_states(s);
        if (s->vt->list_tables(s->olap, rhei__sync_load_table_cb, s, &ignored) != RHEI_OK)
            *failed = NULL; /* cannot tell what to drop on a retry */
    }
    return rc;
}

/* Rebuilds from one snapshot. A table whose rows cannot be copied is left out, marked
 * failed (from = head: it holds nothing of the log), and the others are copied. */
static int rebuild(rhei__sync *s, rhei__conn *reader, int64_t head, int64_t last_ts,
                   rhei__err *e)
{
    int64_t now = rhei__now_us();
    int64_t ts = now > last_ts ? now : last_ts;
    int rc = rhei__sync_reload_catalog(s, reader, e);
    rhei__sync_fails_free(s);
    for (size_t attempt = 0; rc == RHEI_OK; attempt++) {
        const char *failed = NULL;
        rc = rebuild_once(s, reader, head, ts, &failed, e);
        if (rc == RHEI_OK || !failed || attempt > s->cat.n + 4)
            break;
        rhei__err e2;
        if ((rc = rhei__sync_fail_add(s, failed, head, head, e, &e2)) != RHEI_OK)
            *e = e2;
    }
    if (rc) {
        rhei__sync_clear_states(s);
        return rhei__err_wrap(e, "cannot rebuild olap from sqlite");
    }
    s->fails_dirty = 0;
    s->applied = head;
    s->last_ts = ts;
    return RHEI_OK;
}

int rhei__sync_recover(rhei__sync *s, rhei__err *e)
{
    rhei__olap_state st = {0, 0};
    int64_t head = 0, pruned = 0;
    pthread_mutex_lock(&s->mu);
    rhei__sync_clear_states(s);
    int rc = s->vt->get_state(s->olap, &st, e);
    if (rc == RHEI_OK)
        rc = s->vt->list_tables(s->olap, rhei__sync_load_table_cb, s, e);
    if (rc == RHEI_OK)
        rc = rhei__sync_fails_load(s, e);
    if (rc == RHEI_OK) { /* from now on nobody prunes what this engine still needs */
        rhei__conn *w = rhei__oltp_writer(s->oltp);
        s->applied = st.position;
        rc = rhei__cdc_consumer_set(w, s->consumer, rhei__sync_floor(s), e);
        rhei__oltp_writer_release(s->oltp);
    }
    rhei__conn *reader = rhei__oltp_reader(s->oltp);
    if (rc == RHEI_OK)
        rc = rhei__conn_snapshot_begin(reader, e);
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
    rhei__conn_snapshot_end(reader, 1);
    rhei__oltp_reader_release(s->oltp, reader);
    if (rc == RHEI_OK)
        rhei__sync_warm_up(s); /* a rebuild was DDL; a resumed store has no plans yet */
    pthread_mutex_lock(&s->prune_mu);
    s->pruned = pruned;
    pthread_mutex_unlock(&s->prune_mu);
    s->applied_pub = s->applied;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
