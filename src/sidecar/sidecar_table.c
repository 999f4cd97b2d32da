/* sidecar_table.c — getting a followed table ready: its columns from the source catalog,
 * the shapes derived from them (what is mirrored, what is read), what the OLAP side already
 * holds (watermark, stored shape, current keys), and full copies: the first copy of a table
 * and the re-read after its shape changed. A copy is one OLAP transaction, watermark and
 * shape included, so a crash leaves either no copy or a whole one. */
#include "sidecar_int.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

void rhei__sc_table_reset(sc_table *t)
{
    rhei__src_cols_free(&t->src);
    rhei__table_free(t->shape);
    rhei__table_free(t->olap_shape);
    rhei__table_free(t->read);
    rhei__table_free(t->resync_from);
    rhei__free(t->pk_decl);
    rhei__sc_pos_free(&t->pos);
    rhei__keyset_free(&t->keys);
    rhei__batch_free(&t->page);
    rhei__batch_free(&t->events);
    t->shape = t->olap_shape = t->read = t->resync_from = NULL;
    t->pk_decl = NULL;
    t->ready = t->need_copy = t->resync = 0;
    t->unit_us = 0;
}

/* Marks t stopped: a schema problem nobody can fix by retrying. Returns e's code. */
static int stop(sc_table *t, rhei__err *e)
{
    t->stopped = 1;
    return e->code;
}

void rhei__sc_query_init(const sc_table *t, rhei__src_query *q)
{
    memset(q, 0, sizeof *q);
    q->table = t->name;
    q->cols = t->read;
    q->ts_index = t->ts_idx;
    q->ts_col = t->updated_at;
    q->ts_alt = t->created_at;
    q->ts_decl = t->src.v[t->ts_src].decl;
    q->pk = (const char *const *)t->pk;
    q->pk_decl = (const char *const *)t->pk_decl;
    q->npk = t->npk;
    q->key_index = t->key_idx;
}

/* ---- shapes ------------------------------------------------------------------------------ */

typedef struct colv {
    rhei__colspec *v;
    size_t n;
} colv;

static long colv_find(const colv *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->v[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Appends source column `name` (once) to c; the names stay borrowed from t->src. */
static int colv_add(sc_table *t, colv *c, const char *name, int raw, rhei__err *e)
{
    long j = rhei__src_cols_find(&t->src, name);
    if (j < 0)
        return rhei__err_set(e, RHEI_CONFIG, "column '%s' of table '%s' does not exist at the "
                             "source", name, t->name);
    if (!raw && colv_find(c, t->src.v[j].name) >= 0)
        return RHEI_OK;
    rhei__colspec *s = &c->v[c->n++];
    const rhei__src_col *src = &t->src.v[j];
    *s = (rhei__colspec){src->name, src->decl, raw ? RHEI_TYPE_NULL : src->type, src->precision,
                         src->scale, 0};
    return RHEI_OK;
}

/* Uses the source's declared key when the config names none. */
static int resolve_pk(sc_table *t, rhei__err *e)
{
    if (t->npk)
        return RHEI_OK;
    size_t n = 0;
    for (size_t i = 0; i < t->src.n; i++)
        n += t->src.v[i].pk > 0;
    if (n == 0 || n > RHEI__SC_MAX_PK)
        return rhei__err_set(e, RHEI_CONFIG, "table '%s' has no primary key at the source: "
                             "name its key columns in the configuration", t->name);
    if (!(t->pk = rhei__calloc(n, sizeof *t->pk)))
        return rhei__err_nomem(e);
    for (size_t i = 0; i < t->src.n; i++)
        if (t->src.v[i].pk > 0 && (size_t)t->src.v[i].pk <= n &&
            !(t->pk[t->src.v[i].pk - 1] = rhei__strdup(t->src.v[i].name)))
            return rhei__err_nomem(e);
    t->npk = n;
    for (size_t k = 0; k < n; k++)
        if (!t->pk[k])
            return rhei__err_set(e, RHEI_CONFIG, "cannot read the primary key of table '%s'",
                                 t->name);
    return RHEI_OK;
}

/* Mirrored columns: the configured list (or every column), plus the key and timestamps. */
static int mirror_cols(sc_table *t, colv *m, rhei__err *e)
{
    int rc = RHEI_OK;
    if (t->ncolumns)
        for (size_t i = 0; rc == RHEI_OK && i < t->ncolumns; i++)
            rc = colv_add(t, m, t->columns[i], 0, e);
    else
        for (size_t i = 0; rc == RHEI_OK && i < t->src.n; i++)
            rc = colv_add(t, m, t->src.v[i].name, 0, e);
    for (size_t k = 0; rc == RHEI_OK && k < t->npk; k++)
        rc = colv_add(t, m, t->pk[k], 0, e);
    if (rc == RHEI_OK)
        rc = colv_add(t, m, t->updated_at, 0, e);
    if (rc == RHEI_OK && t->created_at)
        rc = colv_add(t, m, t->created_at, 0, e);
    for (size_t k = 0; rc == RHEI_OK && k < t->npk; k++)
        m->v[colv_find(m, t->pk[k])].pk = (int)k + 1;
    return rc;
}

static int check_ts_type(sc_table *t, rhei__err *e)
{
    t->ts_src = rhei__src_cols_find(&t->src, t->updated_at);
    rhei_type ty = t->src.v[t->ts_src].type;
    if (ty == RHEI_TYPE_BOOLEAN || ty == RHEI_TYPE_BLOB)
        return rhei__err_set(e, RHEI_CONFIG, "column '%s' of table '%s' is %s, not a timestamp",
                             t->updated_at, t->name, t->src.v[t->ts_src].decl);
    return RHEI_OK;
}

/* Builds shape (mirrored columns) and read (shape, [soft_delete], ts raw, keys raw). */
static int build_shapes(sc_table *t, rhei__err *e)
{
    size_t cap = t->src.n + t->npk + 4;
    colv m = {rhei__calloc(cap, sizeof *m.v), 0}, r = {rhei__calloc(cap * 2, sizeof *r.v), 0};
    int rc = (m.v && r.v) ? RHEI_OK : rhei__err_nomem(e);
    if (rc == RHEI_OK)
        rc = mirror_cols(t, &m, e);
    if (rc == RHEI_OK && t->soft_delete && rhei__src_cols_find(&t->src, t->soft_delete) < 0)
        rc = rhei__err_set(e, RHEI_CONFIG, "column '%s' of table '%s' does not exist at the "
                           "source", t->soft_delete, t->name);
    if (rc == RHEI_OK)
        rc = check_ts_type(t, e);
    if (rc == RHEI_OK)
        rc = rhei__table_new(t->name, -1, m.v, m.n, &t->shape, e);
    if (rc == RHEI_OK)
        t->ts_shape_idx = rhei__table_col(t->shape, t->updated_at);
    if (rc == RHEI_OK) {
        memcpy(r.v, m.v, m.n * sizeof *r.v);
        r.n = m.n;
        for (size_t i = 0; i < r.n; i++)
            r.v[i].pk = 0;
        t->soft_idx = -1;
        if (t->soft_delete && (t->soft_idx = colv_find(&r, t->soft_delete)) < 0) {
            t->soft_idx = (long)r.n;
            rc = colv_add(t, &r, t->soft_delete, 0, e);
        }
    }
    t->ts_idx = r.n;
    if (rc == RHEI_OK)
        rc = colv_add(t, &r, t->updated_at, 1, e);
    t->key_idx = r.n;
    for (size_t k = 0; rc == RHEI_OK && k < t->npk; k++)
        rc = colv_add(t, &r, t->pk[k], 1, e);
    if (rc == RHEI_OK)
        rc = rhei__table_new(t->name, 0, r.v, r.n, &t->read, e);
    rhei__free(m.v);
    rhei__free(r.v);
    return rc;
}

static int build_pk_decl(sc_table *t, rhei__err *e)
{
    if (!(t->pk_decl = rhei__calloc(t->npk, sizeof *t->pk_decl)))
        return rhei__err_nomem(e);
    for (size_t k = 0; k < t->npk; k++)
        t->pk_decl[k] = t->src.v[rhei__src_cols_find(&t->src, t->pk[k])].decl;
    return RHEI_OK;
}

/* ---- the OLAP side ----------------------------------------------------------------------- */

/* "v1|<tid>|<history|mirror>" then name|type|precision|scale|pk per column. */
static int schema_encode(const rhei__table *s, int history, rhei__buf *b, rhei__err *e)
{
    char num[96];
    rhei__buf_reset(b);
    rhei__buf_printf(b, "v1|%lld|%s", (long long)s->tid, history ? "history" : "mirror");
    for (size_t i = 0; i < s->ncols; i++) {
        const rhei__colspec *c = &s->cols[i];
        rhei__sc_put_field(b, c->name);
        snprintf(num, sizeof num, "%d|%d|%d|%d", (int)c->type, c->precision, c->scale, c->pk);
        rhei__buf_puts(b, "|");
        rhei__buf_puts(b, num);
    }
    return rhei__buf_check(b, e);
}

/* The stored shape; *out_history the storage mode it was made for. */
static int schema_decode(const char *name, char *text, rhei__table **out, int *out_history,
                         rhei__err *e)
{
    size_t max = 2;
    for (const char *p = text; *p; p++)
        max += *p == '|';
    char **f = rhei__calloc(max, sizeof *f);
    rhei__colspec *cols = rhei__calloc(max / 5 + 1, sizeof *cols);
    long long tid = 0;
    int rc = (f && cols) ? RHEI_OK : rhei__err_nomem(e);
    long n = rc ? 0 : rhei__sc_split(text, f, max);
    if (rc == RHEI_OK && (n < 3 || (n - 3) % 5 || strcmp(f[0], "v1") != 0 ||
                          sscanf(f[1], "%lld", &tid) != 1))
        rc = rhei__err_set(e, RHEI_CORRUPT, "malformed stored shape of table '%s'", name);
    if (rc == RHEI_OK)
        *out_history = strcmp(f[2], "history") == 0;
    size_t ncols = rc ? 0 : (size_t)(n - 3) / 5;
    for (size_t i = 0; rc == RHEI_OK && i < ncols; i++) {
        char **c = f + 3 + 5 * i;
        int type = 0;
        cols[i].name = c[0];
        cols[i].decl = (char *)"";
        if (sscanf(c[1], "%d", &type) != 1 || sscanf(c[2], "%d", &cols[i].precision) != 1 ||
            sscanf(c[3], "%d", &cols[i].scale) != 1 || sscanf(c[4], "%d", &cols[i].pk) != 1)
            rc = rhei__err_set(e, RHEI_CORRUPT, "malformed stored shape of table '%s'", name);
        cols[i].type = (rhei_type)type;
    }
    if (rc == RHEI_OK)
        rc = rhei__table_new(name, tid, cols, ncols, out, e);
    rhei__free(f);
    rhei__free(cols);
    return rc;
}

/* The OLAP table's shape after this start: the stored one, with changed types taken from
 * the new shape and new columns appended; stored columns no longer mirrored are kept (past
 * versions hold their values) unless the source dropped them with no column list set. */
static int merge_shape(sc_table *t, const rhei__table *s, rhei__table **out, rhei__err *e)
{
    const rhei__table *m = t->shape;
    rhei__colspec *c = rhei__calloc(s->ncols + m->ncols, sizeof *c);
    size_t n = 0;
    int rc = c ? RHEI_OK : rhei__err_nomem(e);
    for (size_t k = 0; rc == RHEI_OK && k < m->npk; k++)
        if (s->npk != m->npk || strcasecmp(s->cols[s->pk_idx[k]].name, m->cols[m->pk_idx[k]].name))
            rc = rhei__err_set(e, RHEI_CONFIG, "the primary key of table '%s' differs from the "
                               "one its OLAP copy was made with", t->name);
    for (size_t i = 0; rc == RHEI_OK && i < s->ncols; i++) {
        long j = rhei__table_col(m, s->cols[i].name);
        if (j < 0 && !t->ncolumns && rhei__src_cols_find(&t->src, s->cols[i].name) < 0)
            rc = rhei__err_set(e, RHEI_CONFIG, "column '%s' of table '%s' no longer exists at "
                               "the source: list the table's columns without it to go on (its "
                               "past values stay in OLAP)", s->cols[i].name, t->name);
        c[n++] = j < 0 ? s->cols[i] : m->cols[j];
    }
    for (size_t i = 0; rc == RHEI_OK && i < m->ncols; i++)
        if (rhei__table_col(s, m->cols[i].name) < 0)
            c[n++] = m->cols[i];
    if (rc == RHEI_OK)
        rc = rhei__table_new(t->name, s->tid, c, n, out, e);
    if (rc == RHEI_OK && !rhei__table_same_shape(s, *out))
        (*out)->tid = s->tid - 1; /* sidecar versions count down: engine tids are positive */
    rhei__free(c);
    return rc;
}

int rhei__sc_schema_store(rhei__sidecar *sc, sc_table *t, rhei__buf *tmp, rhei__err *e)
{
    int rc = schema_encode(t->olap_shape, sc->history, tmp, e);
    return rc ? rc : rhei__sc_kv_set(sc, t->kv_schema, rhei__buf_str(tmp), e);
}

typedef struct find_ctx {
    const char *name;
    int found;
    int64_t tid;
} find_ctx;

static int find_cb(void *ud, const char *name, int64_t tid)
{
    find_ctx *f = ud;
    if (strcasecmp(f->name, name) == 0) {
        f->found = 1;
        f->tid = tid;
    }
    return 0;
}

/* Marks every current key of the OLAP table present. */
static int load_keys(rhei__sidecar *sc, sc_table *t, rhei__err *e)
{
    rhei__buf q = RHEI__BUF_INIT;
    rhei_result *r = NULL;
    rhei_value key[RHEI__SC_MAX_PK];
    rhei__buf_puts(&q, "SELECT ");
    for (size_t k = 0; k < t->npk; k++) {
        rhei__buf_puts(&q, k ? ", " : "");
        rhei__buf_ident(&q, t->shape->cols[t->shape->pk_idx[k]].name);
    }
    rhei__buf_puts(&q, " FROM ");
    rhei__buf_ident(&q, t->name);
    int rc = rhei__buf_check(&q, e);
    if (rc == RHEI_OK)
        rc = sc->vt->query(sc->olap, rhei__buf_str(&q), NULL, 0, &r, e);
    rhei__keyset_clear(&t->keys);
    for (size_t i = 0; rc == RHEI_OK && i < rhei_result_row_count(r); i++) {
        for (size_t k = 0; k < t->npk; k++)
            key[k] = rhei_result_value(r, i, k);
        if (rhei__keyset_set(&t->keys, rhei__sc_key_hash(t->shape, key), 1))
            rc = rhei__err_nomem(e);
    }
    rhei_result_free(r);
    rhei__buf_free(&q);
    return rc ? rhei__err_wrap(e, "cannot read the keys of table '%s' in olap", t->name) : rc;
}

/* Reads the stored watermark and shape; decides between resuming, re-reading (shape
 * changed) and a fresh copy (nothing stored, or the OLAP table is gone). */
static int load_state(rhei__sidecar *sc, sc_table *t, rhei__err *e)
{
    rhei__buf wm = RHEI__BUF_INIT, shape = RHEI__BUF_INIT;
    rhei__table *stored = NULL;
    find_ctx f = {t->name, 0, 0};
    int rc = sc->vt->list_tables(sc->olap, find_cb, &f, e);
    if (rc == RHEI_OK && f.found && f.tid > 0)
        rc = stop(t, (rhei__err_set(e, RHEI_EXISTS, "table '%s' is already replicated from "
                                    "the local database", t->name), e));
    int have = rc == RHEI_OK && f.found;
    if (have && (rc = rhei__sc_kv_get(sc, t->kv_wm, &wm, e)) == RHEI_NOTFOUND)
        have = 0, rc = RHEI_OK;
    if (rc == RHEI_OK && have &&
        (rc = rhei__sc_kv_get(sc, t->kv_schema, &shape, e)) == RHEI_NOTFOUND)
        have = 0, rc = RHEI_OK;
    if (rc == RHEI_OK && have)
        rc = rhei__sc_pos_decode(rhei__buf_str(&wm), t->npk, &t->pos, e);
    int history = sc->history;
    if (rc == RHEI_OK && have)
        rc = schema_decode(t->name, shape.p, &stored, &history, e);
    if (rc == RHEI_OK && have && history != sc->history) { /* the other mode: copy afresh */
        rhei__table_free(stored);
        stored = NULL;
        have = 0;
    }
    if (rc == RHEI_OK && have && (rc = merge_shape(t, stored, &t->olap_shape, e)) != RHEI_OK)
        stop(t, e);
    if (rc == RHEI_OK && have) {
        t->resync = !rhei__table_same_shape(stored, t->olap_shape);
        t->shape->tid = t->olap_shape->tid;
        rc = load_keys(sc, t, e);
    } else if (rc == RHEI_OK) {
        rhei__sc_pos_free(&t->pos);
        memset(&t->pos, 0, sizeof t->pos);
        t->need_copy = 1;
        t->olap_shape = rhei__table_clone(t->shape);
        rc = t->olap_shape ? RHEI_OK : rhei__err_nomem(e);
    }
    t->resync_from = t->resync ? stored : NULL;
    if (!t->resync)
        rhei__table_free(stored);
    rhei__buf_free(&wm);
    rhei__buf_free(&shape);
    return rc;
}

/* A numeric timestamp's unit: configured, or from the magnitude of the largest value. */
static int resolve_unit(rhei__sidecar *sc, sc_table *t, rhei__err *e)
{
    rhei__src_query q;
    rhei_value v;
    rhei_type ty = t->src.v[t->ts_src].type;
    t->unit_us = t->unit_cfg;
    if (t->unit_us || (sc->kind == RHEI__SRC_POSTGRES && ty != RHEI_TYPE_INTEGER &&
                       ty != RHEI_TYPE_REAL && ty != RHEI_TYPE_DECIMAL))
        return RHEI_OK; /* PostgreSQL types are strict: only a number column has a unit */
    rhei__sc_query_init(t, &q);
    int rc = sc->svt->max_ts(sc->src, &q, &v, e);
    int64_t us;
    if (rc == RHEI_OK && v.type == RHEI_TYPE_INTEGER)
        t->unit_us = rhei__sc_unit_for((double)v.i);
    else if (rc == RHEI_OK && v.type == RHEI_TYPE_REAL)
        t->unit_us = rhei__sc_unit_for(v.f);
    else if (rc == RHEI_OK && v.type == RHEI_TYPE_TEXT && rhei__sc_ts_us(&v, 1, &us) == 0 &&
             memchr(v.s, '-', v.n) == NULL && memchr(v.s, ':', v.n) == NULL)
        t->unit_us = rhei__sc_unit_for((double)us); /* an epoch number in text (PostgreSQL) */
    return rc;
}

int rhei__sc_prepare(sc_cycle *c, sc_table *t, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    if (t->ready)
        return RHEI_OK;
    rhei__sc_table_reset(t);
    int rc = sc->svt->describe(sc->src, t->name, &t->src, e);
    if (rc == RHEI_NOTFOUND)
        return stop(t, e);
    if (rc)
        return rc;
    if ((rc = resolve_pk(t, e)) || (rc = build_shapes(t, e)))
        return rc == RHEI_NOMEM ? rc : stop(t, e);
    if ((rc = build_pk_decl(t, e)) || (rc = load_state(sc, t, e)) ||
        (rc = resolve_unit(sc, t, e)))
        return rc;
    rhei__batch_init(&t->page, t->read);
    rhei__batch_init(&t->events, t->shape);
    t->last_reconcile_us = rhei__mono_us(); /* a fresh start or copy needs none yet */
    t->ready = 1;
    return RHEI_OK;
}

int rhei__sc_explain_missing(sc_cycle *c, sc_table *t, rhei__err *e)
{
    rhei__sidecar *sc = c->sc;
    rhei__src_cols now = {NULL, 0};
    rhei__err de;
    int rc = sc->svt->describe(sc->src, t->name, &now, &de);
    if (rc == RHEI_NOTFOUND) {
        rhei__err_set(e, RHEI_NOTFOUND, "table '%s' no longer exists at source '%s'; it stops "
                      "(the other tables go on)", t->name, sc->svt->display(sc->src));
        return stop(t, e);
    }
    for (size_t i = 0; rc == RHEI_OK && i < t->read->ncols; i++) {
        const char *name = i == t->ts_idx ? t->updated_at : t->read->cols[i].name;
        if (rhei__src_cols_find(&now, name) >= 0 &&
            (i != t->ts_idx || !t->created_at || rhei__src_cols_find(&now, t->created_at) >= 0))
            continue;
        if (i == t->ts_idx && rhei__src_cols_find(&now, name) >= 0)
            name = t->created_at;
        rhei__err_set(e, RHEI_NOTFOUND, "column '%s' of table '%s' no longer exists at source "
                      "'%s'; the table stops (the other tables go on) until the sidecar is "
                      "restarted", name, t->name, sc->svt->display(sc->src));
        rhei__src_cols_free(&now);
        return stop(t, e);
    }
    rhei__src_cols_free(&now);
    return e->code; /* nothing missing: the original error stands */
}
