/* sidecar.c — the engine's side of sidecar mode: turning "sidecar.*" config keys into a
 * running rhei__sidecar, refusing writes in pure sidecar mode, and the public status calls.
 * The sidecar shares the OLAP store with the engine's own sync; the backend's write lock
 * (olap.h) serialises their transactions. */
#include "engine_int.h"
#include "mem.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 64

/* Owned strings behind one rhei__sidecar_table_cfg. */
typedef struct table_src {
    char *pk[MAX_LIST], *cols[MAX_LIST];
    char *pk_list, *col_list; /* "a,b" forms, split in place */
} table_src;

static const char *kv(const rhei_config *c, size_t t, const char *field)
{
    char key[128];
    snprintf(key, sizeof key, "sidecar.tables.%zu.%s", t, field);
    return rhei__config_kv(c, key);
}

/* A list given as field.0, field.1, ... or as one comma-separated field. */
static size_t list(const rhei_config *c, size_t t, const char *field, char **out, char **whole)
{
    size_t n = 0;
    for (; n < MAX_LIST; n++) {
        char f[64];
        snprintf(f, sizeof f, "%s.%zu", field, n);
        const char *v = kv(c, t, f);
        if (!v)
            break;
        out[n] = (char *)v;
    }
    const char *all = kv(c, t, field);
    if (n == 0 && all && (*whole = rhei__strdup(all)) != NULL) {
        for (char *tok = strtok(*whole, ","); tok && n < MAX_LIST; tok = strtok(NULL, ","))
            out[n++] = tok + strspn(tok, " ");
    }
    return n;
}

static int64_t num(const rhei_config *c, const char *key, int64_t dflt)
{
    const char *v = rhei__config_kv(c, key);
    return v ? strtoll(v, NULL, 10) : dflt;
}

int rhei__engine_sidecar_open(rhei_db *db, rhei__err *e)
{
    const rhei_config *c = db->cfg;
    const char *source = rhei__config_kv(c, "sidecar.source");
    if (!source)
        return RHEI_OK;
    const char *local = rhei__config_kv(c, "sidecar.local_oltp");
    db->sidecar_only = !local || strcmp(local, "false") == 0;
    size_t n = 0;
    while (n < 1024 && kv(c, n, "name"))
        n++;
    if (n == 0)
        return rhei__err_set(e, RHEI_CONFIG, "sidecar source '%s' has no [[sidecar.tables]]",
                             source);
    rhei__sidecar_table_cfg *tc = rhei__calloc(n, sizeof *tc);
    table_src *ts = rhei__calloc(n, sizeof *ts);
    int rc = tc && ts ? RHEI_OK : rhei__err_nomem(e);
    for (size_t i = 0; rc == RHEI_OK && i < n; i++) {
        tc[i].name = kv(c, i, "name");
        tc[i].updated_at = kv(c, i, "updated_at");
        tc[i].created_at = kv(c, i, "created_at");
        tc[i].soft_delete = kv(c, i, "soft_delete");
        tc[i].timestamp_unit = kv(c, i, "timestamp_unit");
        tc[i].npk = list(c, i, "primary_key", ts[i].pk, &ts[i].pk_list);
        tc[i].pk = (const char *const *)ts[i].pk;
        tc[i].ncolumns = list(c, i, "columns", ts[i].cols, &ts[i].col_list);
        tc[i].columns = (const char *const *)ts[i].cols;
        if (!tc[i].updated_at)
            rc = rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' needs 'updated_at'",
                               tc[i].name);
    }
    rhei__sidecar_cfg sc = {0};
    const char *rest = NULL;
    if (rc == RHEI_OK)
        rc = rhei__sidecar_parse_source(source, &sc.kind, &rest, e);
    if (rc == RHEI_OK) {
        sc.source = rest;
        sc.poll_interval_ms = num(c, "sidecar.poll_interval_ms", 1000);
        /* Default 1 s: a row stamped at its transaction's start but committed later must not
         * fall behind a watermark that already moved past its stamp (README). */
        sc.safety_delay_ms = num(c, "sidecar.safety_delay_ms", 1000);
        sc.page_size = num(c, "sidecar.page_size", 10000);
        sc.reconcile_interval_ms = num(c, "sidecar.reconcile_interval_ms", 60000);
        sc.history = db->history;
        sc.tables = tc;
        sc.ntables = n;
        rc = rhei__sidecar_new(&sc, db->vt, db->olap, &db->sidecar, e);
    }
    if (rc == RHEI_OK) {
        /* One poll before open returns, so a fresh engine answers at once. A source that is
         * down does not fail the open: the error shows in the status and polls retry. */
        rhei__err ignored;
        rhei__sidecar_cycle(db->sidecar, NULL, &ignored);
    }
    if (rc == RHEI_OK && sc.poll_interval_ms > 0)
        rc = rhei__sidecar_start(db->sidecar, e);
    for (size_t i = 0; ts && i < n; i++) {
        rhei__free(ts[i].pk_list);
        rhei__free(ts[i].col_list);
    }
    rhei__free(ts);
    rhei__free(tc);
    return rc ? rhei__err_wrap(e, "cannot start the sidecar") : RHEI_OK;
}

int rhei__engine_refuse_pure_sidecar(const rhei_db *db, const char *what)
{
    if (!db->sidecar_only)
        return RHEI_OK;
    rhei__err e;
    rhei__err_set(&e, RHEI_READONLY, "%s: this engine is a pure sidecar (sidecar.local_oltp ="
                  " false): it follows its source and has no local OLTP side", what);
    return rhei__engine_fail(db, &e);
}

int rhei_sidecar_sync_now(rhei_db *db, int64_t *out_rows)
{
    rhei__err e;
    rhei__sidecar_stats st;
    if (!db || !db->sidecar) {
        rhei__err_set(&e, RHEI_MISUSE, "no sidecar is configured (sidecar.source)");
        return rhei__engine_fail(db, &e);
    }
    int rc = rhei__sidecar_cycle(db->sidecar, &st, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    if (out_rows)
        *out_rows = st.rows;
    return RHEI_OK;
}

int rhei_sidecar_table_count(rhei_db *db, size_t *out)
{
    if (!db || !out)
        return RHEI_MISUSE;
    *out = db->sidecar ? rhei__sidecar_table_count(db->sidecar) : 0;
    return RHEI_OK;
}

int rhei_sidecar_status_get(rhei_db *db, size_t i, rhei_sidecar_table_status *out)
{
    struct rhei__sidecar_table_status st;
    if (!db || !out || !db->sidecar)
        return RHEI_MISUSE;
    int rc = rhei__sidecar_table_status(db->sidecar, i, &st);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    rhei__strlcpy(out->name, st.name, sizeof out->name);
    out->watermark_us = st.watermark_us;
    out->rows_applied = st.rows_applied;
    out->last_cycle_us = st.last_cycle_us;
    out->stopped = st.stopped;
    out->last_error_code = st.last_error_code;
    rhei__strlcpy(out->last_error, st.last_error, sizeof out->last_error);
    return RHEI_OK;
}
