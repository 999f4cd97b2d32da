/* sidecar.c — the sidecar's lifecycle (copying and checking the configuration), cycles over
 * all tables, per-table back-off, the background thread, and status for the engine. A
 * table's step lives in sidecar_poll.c; this file never talks to a source itself. */
#include "sidecar_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_BACKOFF_MS 30000
#define MAINTAIN_EVERY_US 5000000

/* ---- configuration ----------------------------------------------------------------------- */

static char *dup_opt(const char *s, int *nomem)
{
    if (!s || !*s)
        return NULL;
    char *d = rhei__strdup(s);
    *nomem |= d == NULL;
    return d;
}

static char **dup_list(const char *const *v, size_t n, int *nomem)
{
    if (!n)
        return NULL;
    char **d = rhei__calloc(n, sizeof *d);
    if (!d) {
        *nomem = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = dup_opt(v[i], nomem);
    return d;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        rhei__free(v[i]);
    rhei__free(v);
}

static void free_table(sc_table *t)
{
    rhei__sc_table_reset(t);
    rhei__free(t->name);
    free_list(t->pk, t->npk);
    free_list(t->columns, t->ncolumns);
    rhei__free(t->updated_at);
    rhei__free(t->created_at);
    rhei__free(t->soft_delete);
    rhei__free(t->kv_wm);
    rhei__free(t->kv_schema);
}

static int check_table(const rhei__sidecar_cfg *cfg, size_t i, rhei__err *e)
{
    const rhei__sidecar_table_cfg *c = &cfg->tables[i];
    if (!c->name || !*c->name)
        return rhei__err_set(e, RHEI_CONFIG, "sidecar table %zu has no name", i);
    for (size_t j = 0; j < i; j++)
        if (strcasecmp(cfg->tables[j].name, c->name) == 0)
            return rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' is listed twice", c->name);
    if (!c->updated_at || !*c->updated_at)
        return rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' has no updated_at column",
                             c->name);
    if (c->npk > RHEI__SC_MAX_PK)
        return rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' has more than %d key columns",
                             c->name, RHEI__SC_MAX_PK);
    for (size_t k = 0; k < c->npk; k++)
        if (!c->pk[k] || !*c->pk[k])
            return rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' has an empty key column",
                                 c->name);
    for (size_t k = 0; k < c->ncolumns; k++)
        if (!c->columns[k] || !*c->columns[k])
            return rhei__err_set(e, RHEI_CONFIG, "sidecar table '%s' lists an empty column",
                                 c->name);
    if (rhei__sc_parse_unit(c->timestamp_unit) < 0)
        return rhei__err_set(e, RHEI_CONFIG, "invalid timestamp_unit '%s' for sidecar table "
                             "'%s': expected auto, s, ms or us", c->timestamp_unit, c->name);
    return RHEI_OK;
}

/* "sidecar.<table>.<what>", or NULL when out of memory. */
static char *kv_key(const char *table, const char *what)
{
    size_t n = strlen("sidecar.") + strlen(table) + 1 + strlen(what) + 1;
    char *k = rhei__malloc(n);
    if (k)
        snprintf(k, n, "sidecar.%s.%s", table, what);
    return k;
}

static int copy_table(sc_table *t, const rhei__sidecar_table_cfg *c, rhei__err *e)
{
    int nomem = 0;
    t->name = dup_opt(c->name, &nomem);
    t->pk = dup_list(c->pk, c->npk, &nomem);
    t->npk = c->npk;
    t->columns = dup_list(c->columns, c->ncolumns, &nomem);
    t->ncolumns = c->ncolumns;
    t->updated_at = dup_opt(c->updated_at, &nomem);
    t->created_at = dup_opt(c->created_at, &nomem);
    t->soft_delete = dup_opt(c->soft_delete, &nomem);
    t->unit_cfg = rhei__sc_parse_unit(c->timestamp_unit);
    t->soft_idx = -1;
    if (nomem)
        return rhei__err_nomem(e);
    t->kv_wm = kv_key(c->name, "wm");
    t->kv_schema = kv_key(c->name, "schema");
    return t->kv_wm && t->kv_schema ? RHEI_OK : rhei__err_nomem(e);
}

static int check_cfg(const rhei__sidecar_cfg *cfg, rhei__err *e)
{
    if (cfg->kind != RHEI__SRC_SQLITE && cfg->kind != RHEI__SRC_POSTGRES)
        return rhei__err_set(e, RHEI_CONFIG, "unknown sidecar source kind %d", (int)cfg->kind);
    if (!cfg->source || !*cfg->source)
        return rhei__err_set(e, RHEI_CONFIG, "the sidecar has no source");
    if (cfg->ntables == 0)
        return rhei__err_set(e, RHEI_CONFIG, "the sidecar follows no table");
    for (size_t i = 0; i < cfg->ntables; i++) {
        int rc = check_table(cfg, i, e);
        if (rc)
            return rc;
    }
    return RHEI_OK;
}

int rhei__sidecar_parse_source(const char *spec, rhei__src_kind *out_kind, const char **out_rest,
                               rhei__err *e)
{
    static const struct { const char *prefix; rhei__src_kind kind; int keep; } map[] = {
        {"postgresql://", RHEI__SRC_POSTGRES, 1}, {"postgres://", RHEI__SRC_POSTGRES, 1},
        {"postgresql:", RHEI__SRC_POSTGRES, 0},   {"postgres:", RHEI__SRC_POSTGRES, 0},
        {"sqlite:", RHEI__SRC_SQLITE, 0},
    };
    for (size_t i = 0; spec && i < sizeof map / sizeof *map; i++) {
        size_t n = strlen(map[i].prefix);
        if (strncmp(spec, map[i].prefix, n) == 0 && spec[n]) {
            *out_kind = map[i].kind;
            *out_rest = map[i].keep ? spec : spec + n;
            return RHEI_OK;
        }
    }
    return rhei__err_set(e, RHEI_CONFIG, "invalid sidecar source '%s': expected \"sqlite:PATH\""
                         " or \"postgres:CONNINFO\"", spec ? spec : "");
}

/* ---- lifecycle --------------------------------------------------------------------------- */

int rhei__sidecar_new(const rhei__sidecar_cfg *cfg, const rhei__olap_vtab *vt, rhei__olap *olap,
                      rhei__sidecar **out, rhei__err *e)
{
    *out = NULL;
    int rc = check_cfg(cfg, e);
    if (rc)
        return rc;
    rhei__sidecar *sc = rhei__calloc(1, sizeof *sc);
    if (!sc)
        return rhei__err_nomem(e);
    pthread_mutex_init(&sc->mu, NULL);
    pthread_mutex_init(&sc->stat_mu, NULL);
    rhei__bg_init(&sc->loop);
    sc->kind = cfg->kind;
    sc->poll_ms = cfg->poll_interval_ms > 0 ? cfg->poll_interval_ms : 1000;
    sc->delay_ms = cfg->safety_delay_ms > 0 ? cfg->safety_delay_ms : 0;
    sc->page_size = cfg->page_size > 0 ? cfg->page_size : 10000;
    sc->reconcile_ms = cfg->reconcile_interval_ms;
    sc->history = cfg->history != 0;
    sc->vt = vt;
    sc->olap = olap;
    sc->kv_fallback = !vt->set_kv || !vt->get_kv;
    sc->svt = cfg->kind == RHEI__SRC_SQLITE ? &rhei__src_sqlite : &rhei__src_postgres;
    if (!(sc->source = rhei__strdup(cfg->source)) ||
        !(sc->tables = rhei__calloc(cfg->ntables, sizeof *sc->tables))) {
        rc = rhei__err_nomem(e);
        goto fail;
    }
    sc->ntables = cfg->ntables;
    for (size_t i = 0; rc == RHEI_OK && i < cfg->ntables; i++)
        rc = copy_table(&sc->tables[i], &cfg->tables[i], e);
    if (rc == RHEI_OK)
        rc = sc->svt->open(sc->source, &sc->src, e);
    if (rc)
        goto fail;
    *out = sc;
    return RHEI_OK;
fail:
    rhei__sidecar_free(sc);
    return rc;
}

void rhei__sidecar_free(rhei__sidecar *sc)
{
    if (!sc)
        return;
    rhei__sidecar_stop(sc);
    for (size_t i = 0; sc->tables && i < sc->ntables; i++)
        free_table(&sc->tables[i]);
    rhei__free(sc->tables);
    if (sc->src)
        sc->svt->close(sc->src);
    rhei__free(sc->source);
    pthread_mutex_destroy(&sc->mu);
    pthread_mutex_destroy(&sc->stat_mu);
    rhei__bg_destroy(&sc->loop);
    rhei__free(sc);
}

void rhei__sidecar_set_hook(rhei__sidecar *sc, rhei__sidecar_hook fn, void *ud)
{
    pthread_mutex_lock(&sc->mu);
    sc->hook = fn;
    sc->hook_ud = ud;
    pthread_mutex_unlock(&sc->mu);
}

/* ---- cycles ------------------------------------------------------------------------------ */

static void backoff(rhei__sidecar *sc, sc_table *t, int failed)
{
    if (!failed) {
        t->backoff_ms = 0;
        t->next_try_us = 0;
        return;
    }
    t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : sc->poll_ms;
    if (t->backoff_ms > MAX_BACKOFF_MS)
        t->backoff_ms = MAX_BACKOFF_MS;
    t->next_try_us = rhei__mono_us() + t->backoff_ms * 1000;
}

/* honor_backoff: the background loop skips tables still waiting after a failure. */
static int cycle_locked(rhei__sidecar *sc, int honor_backoff, rhei__sidecar_stats *out,
                        rhei__err *e)
{
    sc_cycle c;
    memset(&c, 0, sizeof c);
    c.sc = sc;
    int64_t t0 = rhei__mono_us();
    int first = RHEI_OK;
    rhei__err_clear(e);
    for (size_t i = 0; i < sc->ntables; i++) {
        sc_table *t = &sc->tables[i];
        if (honor_backoff && t->next_try_us > t0)
            continue;
        rhei__err te;
        rhei__err_clear(&te);
        int rc = rhei__sc_step(&c, t, &te);
        backoff(sc, t, rc != RHEI_OK);
        if (rc) {
            c.st.tables_failed++;
            if (first == RHEI_OK) {
                first = rc;
                *e = te;
            }
        }
    }
    c.st.elapsed_us = rhei__mono_us() - t0;
    if (out)
        *out = c.st;
    return first;
}

int rhei__sidecar_cycle(rhei__sidecar *sc, rhei__sidecar_stats *out, rhei__err *e)
{
    pthread_mutex_lock(&sc->mu);
    int rc = cycle_locked(sc, 0, out, e);
    pthread_mutex_unlock(&sc->mu);
    return rc;
}

/* Checkpoints a file-backed store now and then while nothing is arriving. */
static void maintain_if_idle(rhei__sidecar *sc, const rhei__sidecar_stats *st)
{
    int64_t now = rhei__mono_us();
    if (st->rows || !sc->dirty || now - sc->last_maintain_us < MAINTAIN_EVERY_US)
        return;
    rhei__err e;
    if (sc->vt->maintain(sc->olap, &e) == RHEI_OK)
        sc->dirty = 0;
    sc->last_maintain_us = now;
}

/* One run of the background poll (bg.h): a cycle, then poll_ms until the next. */
static int64_t loop_step(void *arg)
{
    rhei__sidecar *sc = arg;
    rhei__sidecar_stats st;
    rhei__err e;
    pthread_mutex_lock(&sc->mu);
    if (cycle_locked(sc, 1, &st, &e) == RHEI_OK)
        maintain_if_idle(sc, &st);
    pthread_mutex_unlock(&sc->mu);
    return sc->poll_ms;
}

int rhei__sidecar_start(rhei__sidecar *sc, rhei__err *e)
{
    return rhei__bg_start(&sc->loop, loop_step, sc, "sidecar", e);
}

void rhei__sidecar_stop(rhei__sidecar *sc)
{
    rhei__bg_stop(&sc->loop);
}

/* ---- status ------------------------------------------------------------------------------ */

size_t rhei__sidecar_table_count(const rhei__sidecar *sc) { return sc ? sc->ntables : 0; }

int rhei__sidecar_table_status(rhei__sidecar *sc, size_t i,
                               struct rhei__sidecar_table_status *out)
{
    if (i >= sc->ntables)
        return RHEI_RANGE;
    sc_table *t = &sc->tables[i];
    memset(out, 0, sizeof *out);
    out->name = t->name;
    pthread_mutex_lock(&sc->stat_mu);
    out->watermark_us = t->st_through;
    out->rows_applied = t->st_rows;
    out->last_cycle_us = t->st_cycle_us;
    out->last_success_us = t->st_success_us;
    out->stopped = t->st_stopped;
    out->last_error_code = t->st_code;
    rhei__strlcpy(out->last_error, t->st_error, sizeof out->last_error);
    pthread_mutex_unlock(&sc->stat_mu);
    return RHEI_OK;
}

int rhei__sidecar_follows(const rhei__sidecar *sc, const char *table)
{
    for (size_t i = 0; sc && table && i < sc->ntables; i++)
        if (strcasecmp(sc->tables[i].name, table) == 0)
            return 1;
    return 0;
}

int rhei__sidecar_watermark(rhei__sidecar *sc, const char *table, int64_t *out_ts_us)
{
    for (size_t i = 0; i < sc->ntables; i++) {
        if (strcasecmp(sc->tables[i].name, table) != 0)
            continue;
        pthread_mutex_lock(&sc->stat_mu);
        *out_ts_us = sc->tables[i].st_through;
        pthread_mutex_unlock(&sc->stat_mu);
        return RHEI_OK;
    }
    return RHEI_NOTFOUND;
}
