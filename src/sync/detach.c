/* detach.c — DDL that rhei did not run (another process, the sqlite3 shell, a raw statement
 * on the escape-hatch handle): a registered table that was dropped, renamed, rebuilt or lost
 * a replicated column is "detached". Its events are no longer applied, it is not copied on
 * open, its OLAP copy stays as it was, and its cause is reported, until it is unregistered
 * or registered again; the other tables go on. Checked at open and at the start of every
 * cycle; the schema cookie (PRAGMA schema_version) makes the check one read when nothing
 * changed. */
#include "sync_int.h"
#include "mem.h"
#include <string.h>
#include <strings.h>

static void free_list(rhei__detached *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rhei__free(d[i].name);
    rhei__free(d);
}

void rhei__sync_detached_free(rhei__sync *s)
{
    free_list(s->det, s->ndet);
    s->det = NULL;
    s->ndet = 0;
}

/* Finds the detached entry of a table name; caller holds stat_mu or mu. */
static const rhei__detached *find(const rhei__sync *s, const char *name)
{
    for (size_t i = 0; i < s->ndet; i++)
        if (strcasecmp(s->det[i].name, name) == 0)
            return &s->det[i];
    return NULL;
}

int rhei__sync_is_detached(rhei__sync *s, const char *name)
{
    return s->ndet && find(s, name) != NULL;
}

/* Table states follow the list (states are reloaded after a failed cycle). */
void rhei__sync_mark_detached(rhei__sync *s)
{
    for (size_t i = 0; i < s->ntables; i++)
        s->tables[i].detached = rhei__sync_is_detached(s, s->tables[i].name);
}

static int recompute(rhei__sync *s, rhei__conn *reader, rhei__err *e)
{
    rhei__detached *list = NULL;
    size_t n = 0, cap = 0;
    const rhei__table **act = NULL;
    size_t nact = 0;
    int rc = rhei__catalog_active_list(&s->cat, &act, &nact, e);
    for (size_t i = 0; rc == RHEI_OK && i < nact; i++) {
        char why[sizeof list->why];
        if ((rc = rhei__cdc_table_health(reader, act[i], why, sizeof why, e)) || !why[0])
            continue;
        if (rhei__grow((void **)&list, &cap, n + 1, sizeof *list) ||
            !(list[n].name = rhei__strdup(act[i]->name))) {
            rc = rhei__err_nomem(e);
            break;
        }
        memcpy(list[n++].why, why, sizeof why);
    }
    rhei__free(act);
    if (rc) {
        free_list(list, n);
        return rc;
    }
    pthread_mutex_lock(&s->stat_mu);
    if (n || s->ndet)
        s->behind_gen++;
    free_list(s->det, s->ndet);
    s->det = list;
    s->ndet = n;
    pthread_mutex_unlock(&s->stat_mu);
    return RHEI_OK;
}

int rhei__sync_check_schema(rhei__sync *s, rhei__conn *reader, rhei__err *e)
{
    int64_t cookie = 0, max_tid = 0;
    int rc = rhei__cdc_schema_version(reader, &cookie, e);
    if (rc == RHEI_OK)
        rc = rhei__catalog_max_tid(reader, &max_tid, e);
    if (rc || (s->cookie_seen && cookie == s->cookie && max_tid == s->cookie_tid)) {
        if (rc == RHEI_OK)
            rhei__sync_mark_detached(s);
        return rc;
    }
    if (max_tid != s->cat.max_tid || !s->cat.n)
        rc = rhei__sync_reload_catalog(s, reader, e);
    if (rc == RHEI_OK)
        rc = recompute(s, reader, e);
    if (rc == RHEI_OK) {
        s->cookie = cookie;
        s->cookie_tid = max_tid;
        s->cookie_seen = 1;
        rhei__sync_mark_detached(s);
    }
    return rc ? rhei__err_wrap(e, "cannot check the schema of the replicated tables") : rc;
}

int rhei__sync_check_schema_now(rhei__sync *s, rhei__err *e)
{
    pthread_mutex_lock(&s->mu);
    rhei__conn *r = rhei__oltp_reader(s->oltp);
    int rc = rhei__conn_snapshot_begin(r, e); /* one state for the cookie and the catalog */
    if (rc == RHEI_OK) {
        rc = rhei__sync_check_schema(s, r, e);
        rhei__conn_snapshot_end(r, 1);
    }
    rhei__oltp_reader_release(s->oltp, r);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int rhei__sync_behind(rhei__sync *s, const char *name)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->stat_mu);
    int behind = (s->ndet && find(s, name)) || (s->nfails && rhei__sync_fail_find(s, name));
    pthread_mutex_unlock(&s->stat_mu);
    return behind;
}

uint64_t rhei__sync_behind_gen(rhei__sync *s) { return s ? s->behind_gen : 0; }

int rhei__sync_detached(rhei__sync *s, const char *name, char *why, size_t size)
{
    pthread_mutex_lock(&s->stat_mu);
    const rhei__detached *d = s->ndet ? find(s, name) : NULL;
    if (d && why)
        rhei__strlcpy(why, d->why, size);
    pthread_mutex_unlock(&s->stat_mu);
    return d != NULL;
}
