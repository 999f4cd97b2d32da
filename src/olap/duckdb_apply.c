/* duckdb_apply.c — change batches into DuckDB. Rows always enter through the appender, a
 * vector at a time. Insert-only batches and loads go straight into the table; otherwise the
 * batch is grouped by key here (stats, last image, next version's start) and DuckDB runs one
 * set-based statement against a TEMP table of the touched keys: mirror deletes the keys
 * before the last images are appended, history closes their open versions. */
#include "duckdb_int.h"
#include "mem.h"
#include "value.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define XNULL INT64_MIN /* in an extra column's values: SQL NULL */
#define NONE UINT32_MAX

/* A BIGINT column appended after the user (or key) columns. */
typedef struct xcol {
    const char *name;
    const int64_t *v; /* per appended row; NULL: every row holds k */
    int64_t k;
} xcol;

/* One append: which columns and rows of a batch, plus extra columns. */
typedef struct apx {
    const rhei__batch *b;
    const size_t *cols;  /* table column of each appended column; NULL: all, in order */
    size_t ncols;
    const uint32_t *sel; /* batch rows to append; NULL: all */
    size_t n;
    xcol x[2];
    size_t nx;
} apx;

/* ---- appending batches -------------------------------------------------------------------- */

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = (s[i] & 0xE0) == 0xC0 ? 2 : (s[i] & 0xF0) == 0xE0 ? 3
                   : (s[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        uint32_t cp = s[i] & (0x7F >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates and values past U+10FFFF are invalid */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}

static __int128 pow10_i128(int k)
{
    __int128 v = 1;
    while (k-- > 0)
        v *= 10;
    return v;
}

/* A value of a DECIMAL(p,s) column as its scaled integer. -1 wrong type, -3 out of range. */
static int to_decimal(const rhei_value *v, int p, int s, __int128 *out)
{
    char buf[512];
    const __int128 lim = pow10_i128(p);
    switch (v->type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_BOOLEAN:
        if ((__int128)v->i >= pow10_i128(p - s) || -(__int128)v->i >= pow10_i128(p - s))
            return -3;
        *out = (__int128)v->i * pow10_i128(s);
        return 0;
    case RHEI_TYPE_REAL:
        if (!isfinite(v->f) || fabs(v->f) >= 1e39)
            return -3;
        /* glibc prints the exact binary value rounded at s digits: no double arithmetic. */
        snprintf(buf, sizeof buf, "%.*f", s, v->f);
        if (rhei__decimal_parse(buf, strlen(buf), s, out))
            return -3;
        break;
    case RHEI_TYPE_DECIMAL:
    case RHEI_TYPE_TEXT:
        if (rhei__decimal_parse(v->s, v->n, s, out))
            return v->type == RHEI_TYPE_TEXT ? -1 : -3;
        break;
    default:
        return -1;
    }
    return (*out >= lim || -*out >= lim) ? -3 : 0;
}

static int put_decimal(void *d, idx_t i, int p, int s, const rhei_value *v)
{
    __int128 x;
    int rc = to_decimal(v, p, s, &x);
    if (rc)
        return rc;
    if (p <= 4)
        ((int16_t *)d)[i] = (int16_t)x;
    else if (p <= 9)
        ((int32_t *)d)[i] = (int32_t)x;
    else if (p <= 18)
        ((int64_t *)d)[i] = (int64_t)x;
    else {
        duckdb_hugeint *h = &((duckdb_hugeint *)d)[i];
        h->lower = (uint64_t)((unsigned __int128)x);
        h->upper = (int64_t)(x >> 64);
    }
    return 0;
}

/* Stores one non-NULL value into row i of a vector of column c's DuckDB type.
 * 0 ok, -1 a value type the column cannot take, -2 invalid UTF-8, -3 out of range. */
static inline int put_value(duckdb_vector vec, void *d, idx_t i, const rhei__colspec *c,
                            const rhei_value *v)
{
    rhei_type t = v->type;
    int p, s;
    switch (c->type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_TIMESTAMP:
        if (t != RHEI_TYPE_INTEGER && t != c->type && t != RHEI_TYPE_BOOLEAN)
            return -1;
        ((int64_t *)d)[i] = v->i;
        return 0;
    case RHEI_TYPE_REAL:
        if (t != RHEI_TYPE_REAL && t != RHEI_TYPE_INTEGER)
            return -1;
        ((double *)d)[i] = t == RHEI_TYPE_REAL ? v->f : (double)v->i;
        return 0;
    case RHEI_TYPE_BOOLEAN:
        if (t != RHEI_TYPE_BOOLEAN && t != RHEI_TYPE_INTEGER)
            return -1;
        ((bool *)d)[i] = v->i != 0;
        return 0;
    case RHEI_TYPE_DATE:
        if (t != RHEI_TYPE_DATE && t != RHEI_TYPE_INTEGER)
            return -1;
        if (v->i < INT32_MIN || v->i > INT32_MAX)
            return -3;
        ((int32_t *)d)[i] = (int32_t)v->i;
        return 0;
    case RHEI_TYPE_DECIMAL:
        rhei__duck_dec_ps(c, &p, &s);
        return put_decimal(d, i, p, s, v);
    case RHEI_TYPE_TEXT:
        if (t != RHEI_TYPE_TEXT && t != RHEI_TYPE_BLOB)
            return -1;
        if (!utf8_valid((const unsigned char *)v->s, v->n))
            return -2; /* DuckDB's contract: VARCHAR vectors hold valid UTF-8 only */
        duckdb_vector_assign_string_element_len(vec, i, v->s, v->n);
        return 0;
    default: /* BLOB */
        if (t != RHEI_TYPE_TEXT && t != RHEI_TYPE_BLOB)
            return -1;
        duckdb_vector_assign_string_element_len(vec, i, v->s ? v->s : "", v->n);
        return 0;
    }
}

static int bad_value(rhei__err *e, const rhei__colspec *c, const rhei_value *v, int why)
{
    if (why == -1)
        return rhei__err_set(e, RHEI_TYPE, "cannot store a %s value in column '%s' (%s)",
                             rhei_type_name(v->type), c->name, rhei_type_name(c->type));
    return rhei__err_set(e, RHEI_TYPE, "%s for column '%s' (%s)",
                         why == -2 ? "invalid UTF-8 in a value" : "value out of range",
                         c->name, rhei_type_name(c->type));
}

static void set_null(duckdb_vector vec, uint64_t **valid, idx_t i)
{
    if (!*valid) {
        duckdb_vector_ensure_validity_writable(vec);
        *valid = duckdb_vector_get_validity(vec);
    }
    (*valid)[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* Fills a vector with table column j of the appended rows [r0, r0+n). */
static int fill_col(duckdb_vector vec, const apx *a, size_t j, size_t r0, size_t n,
                    rhei__err *e)
{
    const rhei__table *t = a->b->table;
    const rhei__colspec *c = &t->cols[j];
    void *d = duckdb_vector_get_data(vec);
    uint64_t *valid = NULL;
    for (idx_t i = 0; i < n; i++) {
        size_t row = a->sel ? a->sel[r0 + i] : r0 + i;
        const rhei_value *v = &a->b->vals[row * t->ncols + j];
        if (v->type == RHEI_TYPE_NULL) {
            set_null(vec, &valid, i);
            continue;
        }
        int why = put_value(vec, d, i, c, v);
        if (why)
            return bad_value(e, c, v, why);
    }
    return RHEI_OK;
}

static void fill_x(duckdb_vector vec, const xcol *x, size_t r0, size_t n)
{
    int64_t *d = duckdb_vector_get_data(vec);
    uint64_t *valid = NULL;
    if (!x->v && x->k == XNULL) { /* all NULL: current versions' valid_to */
        duckdb_vector_ensure_validity_writable(vec);
        memset(duckdb_vector_get_validity(vec), 0, (n + 63) / 64 * sizeof(uint64_t));
        return;
    }
    for (idx_t i = 0; i < n; i++) {
        d[i] = x->v ? x->v[r0 + i] : x->k;
        if (d[i] == XNULL)
            set_null(vec, &valid, i);
    }
}

static int appender_err(duckdb_appender app, rhei__err *e)
{
    duckdb_error_data ed = duckdb_appender_error_data(app);
    int rc = rhei__duck_err(e, 0, duckdb_error_data_error_type(ed), duckdb_error_data_message(ed));
    duckdb_destroy_error_data(&ed);
    return rc;
}

/* Names the appended columns, so the table's physical column order (ADD COLUMN puts new
 * columns after the history columns) does not matter, and builds the chunk to fill. */
static int prepare_appender(duckdb_appender app, const apx *a, duckdb_data_chunk *out,
                            rhei__err *e)
{
    const rhei__table *t = a->b->table;
    for (size_t k = 0; k < a->ncols; k++)
        if (duckdb_appender_add_column(app, t->cols[a->cols ? a->cols[k] : k].name))
            return appender_err(app, e);
    for (size_t k = 0; k < a->nx; k++)
        if (duckdb_appender_add_column(app, a->x[k].name))
            return appender_err(app, e);
    idx_t n = duckdb_appender_column_count(app);
    duckdb_logical_type *types = rhei__calloc(n, sizeof *types);
    if (!types)
        return rhei__err_nomem(e);
    for (idx_t i = 0; i < n; i++)
        types[i] = duckdb_appender_column_type(app, i);
    *out = duckdb_create_data_chunk(types, n);
    for (idx_t i = 0; i < n; i++)
        duckdb_destroy_logical_type(&types[i]);
    rhei__free(types);
    return *out ? RHEI_OK : rhei__err_nomem(e);
}

/* Appends the rows a describes to table (in catalog "temp" for staging tables). */
static int append(rhei__olap *o, const char *catalog, const char *table, const apx *a,
                  rhei__err *e)
{
    duckdb_appender app = NULL;
    duckdb_data_chunk ch = NULL;
    int rc = RHEI_OK;
    if (duckdb_appender_create_ext(o->w, catalog, NULL, table, &app) != DuckDBSuccess) {
        rc = appender_err(app, e);
        goto done;
    }
    if ((rc = prepare_appender(app, a, &ch, e)))
        goto done;
    const size_t cap = duckdb_vector_size();
    for (size_t r0 = 0; r0 < a->n && rc == RHEI_OK; r0 += cap) {
        size_t n = a->n - r0 < cap ? a->n - r0 : cap;
        duckdb_data_chunk_reset(ch);
        for (size_t k = 0; k < a->ncols && rc == RHEI_OK; k++)
            rc = fill_col(duckdb_data_chunk_get_vector(ch, k), a, a->cols ? a->cols[k] : k, r0,
                          n, e);
        for (size_t k = 0; k < a->nx && rc == RHEI_OK; k++)
            fill_x(duckdb_data_chunk_get_vector(ch, a->ncols + k), &a->x[k], r0, n);
        if (rc)
            break;
        duckdb_data_chunk_set_size(ch, n);
        if (duckdb_append_data_chunk(app, ch) != DuckDBSuccess)
            rc = appender_err(app, e);
    }
    if (rc == RHEI_OK && duckdb_appender_close(app) != DuckDBSuccess)
        rc = appender_err(app, e);
done:
    if (ch)
        duckdb_destroy_data_chunk(&ch);
    duckdb_appender_destroy(&app);
    return rc;
}

/* Appends rows of the batch to the table's storage object; history rows get valid_from and
 * valid_to from x (see olap_apply / olap_load). */
static int append_target(rhei__olap *o, const rhei__batch *b, int history, const uint32_t *sel,
                         size_t n, const xcol *x, rhei__err *e)
{
    apx a = {b, NULL, b->table->ncols, sel, n, {{NULL, NULL, 0}, {NULL, NULL, 0}}, 0};
    if (history) {
        a.x[0] = x[0];
        a.x[1] = x[1];
        a.nx = 2;
    }
    char *name = rhei__duck_target_dup(b->table->name, history);
    if (!name)
        return rhei__err_nomem(e);
    int rc = append(o, NULL, name, &a, e);
    rhei__free(name);
    return rc;
}

/* ---- grouping events by key -------------------------------------------------------------- */

/* A key column's value in a form where equal SQL values are equal bytes: DECIMAL as its
 * scaled integer, REAL as a double without -0, integers as themselves, text as bytes. */
typedef struct kpart {
    int tag; /* 0 NULL, 1 integer, 2 real, 3 bytes, 4 decimal */
    uint64_t a, b;
    const char *s;
    size_t n;
} kpart;

static void key_part(const rhei__colspec *c, const rhei_value *v, kpart *k)
{
    __int128 x;
    int p, s;
    memset(k, 0, sizeof *k);
    if (v->type == RHEI_TYPE_NULL)
        return;
    rhei__duck_dec_ps(c, &p, &s);
    if (c->type == RHEI_TYPE_DECIMAL && to_decimal(v, p, s, &x) == 0) {
        k->tag = 4;
        k->a = (uint64_t)(unsigned __int128)x;
        k->b = (uint64_t)((unsigned __int128)x >> 64);
    } else if (c->type == RHEI_TYPE_REAL || v->type == RHEI_TYPE_REAL) {
        double d = v->type == RHEI_TYPE_REAL ? v->f : (double)v->i;
        d = d == 0 ? 0.0 : d;
        k->tag = 2;
        memcpy(&k->a, &d, sizeof d);
    } else if (v->type == RHEI_TYPE_TEXT || v->type == RHEI_TYPE_BLOB ||
               v->type == RHEI_TYPE_DECIMAL) {
        k->tag = 3;
        k->s = v->s;
        k->n = v->n;
    } else {
        k->tag = 1;
        k->a = (uint64_t)v->i;
    }
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h = (h ^ x) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t key_hash(const rhei__batch *b, size_t row, int *has_null)
{
    const rhei__table *t = b->table;
    uint64_t h = 0x243F6A8885A308D3ull;
    for (size_t k = 0; k < t->npk; k++) {
        kpart p;
        key_part(&t->cols[t->pk_idx[k]], &b->vals[row * t->ncols + t->pk_idx[k]], &p);
        *has_null |= p.tag == 0;
        h = mix(mix(mix(h, (uint64_t)p.tag), p.a), p.b);
        for (size_t i = 0; i < p.n; i++)
            h = (h ^ (unsigned char)p.s[i]) * 0x100000001B3ull;
    }
    return h;
}

static int key_eq(const rhei__batch *b, size_t r1, size_t r2)
{
    const rhei__table *t = b->table;
    for (size_t k = 0; k < t->npk; k++) {
        const rhei__colspec *c = &t->cols[t->pk_idx[k]];
        kpart x, y;
        key_part(c, &b->vals[r1 * t->ncols + t->pk_idx[k]], &x);
        key_part(c, &b->vals[r2 * t->ncols + t->pk_idx[k]], &y);
        if (x.tag != y.tag || x.a != y.a || x.b != y.b || x.n != y.n ||
            (x.n && memcmp(x.s, y.s, x.n) != 0))
            return 0;
    }
    return 1;
}

/* The batch's events grouped by primary key, in order of first appearance. */
typedef struct kgroups {
    uint32_t *first, *last; /* per group: its first and last event */
    uint32_t *next;         /* per event: the next event of its key, NONE after the last */
    size_t n;
    int has_null;           /* some key part is NULL: matching needs IS NOT DISTINCT FROM */
} kgroups;

static void kgroups_free(kgroups *g)
{
    rhei__free(g->first);
    rhei__free(g->last);
    rhei__free(g->next);
}

static int kgroups_build(const rhei__batch *b, kgroups *g, rhei__err *e)
{
    size_t n = b->nrows, cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    memset(g, 0, sizeof *g);
    uint32_t *slots = rhei__calloc(cap, sizeof *slots); /* group + 1; 0 = empty */
    g->first = rhei__malloc(n * sizeof *g->first);
    g->last = rhei__malloc(n * sizeof *g->last);
    g->next = rhei__malloc(n * sizeof *g->next);
    if (!slots || !g->first || !g->last || !g->next) {
        rhei__free(slots);
        kgroups_free(g);
        return rhei__err_nomem(e);
    }
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)key_hash(b, i, &g->has_null) & (cap - 1);
        while (slots[h] && !key_eq(b, g->first[slots[h] - 1], i))
            h = (h + 1) & (cap - 1);
        g->next[i] = NONE;
        if (!slots[h]) {
            slots[h] = (uint32_t)++g->n;
            g->first[g->n - 1] = (uint32_t)i;
        } else {
            g->next[g->last[slots[h] - 1]] = (uint32_t)i;
        }
        g->last[slots[h] - 1] = (uint32_t)i;
    }
    rhei__free(slots);
    return RHEI_OK;
}

/* ---- apply ------------------------------------------------------------------------------- */

/* The TEMP table of touched keys for t's version, created on first use on this connection:
 * the key columns, and for history each key's first event time. */
static int get_stage(rhei__olap *o, const rhei__table *t, int history, int *out_id,
                     rhei__err *e)
{
    for (size_t i = 0; i < o->nstages; i++) {
        rhei__duck_stage *s = &o->stages[i];
        if (s->tid == t->tid && s->history == history && strcmp(s->table, t->name) == 0) {
            *out_id = s->id;
            return RHEI_OK;
        }
    }
    if (rhei__grow((void **)&o->stages, &o->stagecap, o->nstages + 1, sizeof *o->stages))
        return rhei__err_nomem(e);
    rhei__duck_stage *s = &o->stages[o->nstages];
    if (!(s->table = rhei__strdup(t->name)))
        return rhei__err_nomem(e);
    s->tid = t->tid;
    s->history = history;
    s->id = ++o->next_stage;
    s->pending = 1;
    o->nstages++; /* counted before the CREATE so a rollback forgets it either way */
    rhei__buf_reset(&o->sql);
    rhei__buf_printf(&o->sql, "CREATE TEMP TABLE _rhei_keys_%d (", s->id);
    for (size_t k = 0; k < t->npk; k++) {
        rhei__buf_puts(&o->sql, k ? ", " : "");
        rhei__buf_ident(&o->sql, t->cols[t->pk_idx[k]].name);
        rhei__buf_puts(&o->sql, " ");
        rhei__duck_put_type(&o->sql, &t->cols[t->pk_idx[k]]);
    }
    rhei__buf_puts(&o->sql, history ? ", _rhei_first BIGINT)" : ")");
    *out_id = s->id;
    return rhei__duck_exec_buf(o, e);
}

/* Statement text matching target rows (_t) to staged keys (_k). */
static void put_match(rhei__buf *b, const rhei__table *t, int has_null)
{
    for (size_t k = 0; k < t->npk; k++) {
        const char *name = t->cols[t->pk_idx[k]].name;
        rhei__buf_puts(b, k ? " AND _t." : "_t.");
        rhei__buf_ident(b, name);
        /* = lets DuckDB prune; NULL key parts (SQLite allows them) need the NULL-safe form */
        rhei__buf_puts(b, has_null ? " IS NOT DISTINCT FROM _k." : " = _k.");
        rhei__buf_ident(b, name);
    }
}

/* mirror: delete every touched key, then append each key's last image unless deleted. */
static int apply_mirror(rhei__olap *o, const rhei__batch *b, const kgroups *g,
                        const char *stg, uint32_t *sel, rhei__apply_stats *st, rhei__err *e)
{
    const rhei__table *t = b->table;
    size_t m = 0;
    for (size_t k = 0; k < g->n; k++) {
        int first = b->op[g->first[k]], last = b->op[g->last[k]];
        if (last == RHEI__OP_DELETE) {
            st->deleted++;
            continue;
        }
        if (first == RHEI__OP_INSERT)
            st->inserted++;
        else
            st->updated++;
        sel[m++] = g->last[k];
    }
    rhei__buf *q = &o->sql;
    rhei__buf_reset(q);
    rhei__buf_puts(q, "DELETE FROM ");
    rhei__duck_put_target(q, t->name, 0);
    if (t->npk == 1 && !g->has_null) { /* the semi-join form is the fastest */
        rhei__buf_puts(q, " WHERE ");
        rhei__buf_ident(q, t->cols[t->pk_idx[0]].name);
        rhei__buf_puts(q, " IN (SELECT ");
        rhei__buf_ident(q, t->cols[t->pk_idx[0]].name);
        rhei__buf_printf(q, " FROM %s)", stg);
    } else {
        rhei__buf_printf(q, " AS _t USING %s AS _k WHERE ", stg);
        put_match(q, t, g->has_null);
    }
    int rc = rhei__duck_exec_buf(o, e);
    return rc ? rc : append_target(o, b, 0, sel, m, NULL, e);
}

/* history: close the open version of every touched key at the key's first event, then
 * append a version [ts, next event's ts) for every INSERT and UPDATE. */
static int apply_history(rhei__olap *o, const rhei__batch *b, const kgroups *g,
                         const char *stg, uint32_t *sel, rhei__err *e)
{
    const rhei__table *t = b->table;
    rhei__buf *q = &o->sql;
    rhei__buf_reset(q);
    rhei__buf_puts(q, "UPDATE ");
    rhei__duck_put_target(q, t->name, 1);
    rhei__buf_printf(q, " AS _t SET _rhei_valid_to = _k._rhei_first FROM %s AS _k WHERE "
                     "_t._rhei_valid_to IS NULL AND ", stg);
    put_match(q, t, g->has_null);
    int rc = rhei__duck_exec_buf(o, e);
    if (rc)
        return rc;
    int64_t *from = rhei__malloc(2 * b->nrows * sizeof *from);
    if (!from)
        return rhei__err_nomem(e);
    int64_t *to = from + b->nrows;
    size_t m = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        if (b->op[i] == RHEI__OP_DELETE)
            continue;
        from[m] = b->ts[i];
        to[m] = g->next[i] == NONE ? XNULL : b->ts[g->next[i]];
        sel[m++] = (uint32_t)i;
    }
    xcol x[2] = {{"_rhei_valid_from", from, 0}, {"_rhei_valid_to", to, 0}};
    rc = append_target(o, b, 1, sel, m, x, e);
    rhei__free(from);
    return rc;
}

/* Stages the touched keys (one row per key, with the key's first event time for history). */
static int stage_keys(rhei__olap *o, const rhei__batch *b, const kgroups *g, int sid,
                      int history, rhei__err *e)
{
    char name[32];
    int64_t *first = NULL;
    apx a = {b, b->table->pk_idx, b->table->npk, g->first, g->n,
             {{NULL, NULL, 0}, {NULL, NULL, 0}}, 0};
    if (history) {
        if (!(first = rhei__malloc(g->n * sizeof *first)))
            return rhei__err_nomem(e);
        for (size_t k = 0; k < g->n; k++)
            first[k] = b->ts[g->first[k]];
        a.x[0] = (xcol){"_rhei_first", first, 0};
        a.nx = 1;
    }
    snprintf(name, sizeof name, "_rhei_keys_%d", sid);
    int rc = append(o, "temp", name, &a, e);
    rhei__free(first);
    return rc;
}

static int apply_keyed(rhei__olap *o, const rhei__batch *b, int history,
                       rhei__apply_stats *st, rhei__err *e)
{
    const rhei__table *t = b->table;
    kgroups g;
    char stg[48];
    int sid = 0;
    if (t->npk == 0)
        return rhei__err_set(e, RHEI_MISUSE, "table '%s' has no primary key", t->name);
    if (b->nrows >= NONE)
        return rhei__err_set(e, RHEI_RANGE, "batch of %zu events is too large", b->nrows);
    int rc = get_stage(o, t, history, &sid, e);
    if (rc || (rc = kgroups_build(b, &g, e)))
        return rc;
    uint32_t *sel = rhei__malloc(b->nrows * sizeof *sel);
    if (!sel) {
        kgroups_free(&g);
        return rhei__err_nomem(e);
    }
    snprintf(stg, sizeof stg, "temp.main._rhei_keys_%d", sid);
    if ((rc = stage_keys(o, b, &g, sid, history, e)) == RHEI_OK) {
        rc = history ? apply_history(o, b, &g, stg, sel, e)
                     : apply_mirror(o, b, &g, stg, sel, st, e);
    }
    if (rc == RHEI_OK)
        rc = rhei__duck_touch(o, t->name, history, e);
    snprintf(stg, sizeof stg, "DELETE FROM temp.main._rhei_keys_%d", sid);
    if (rc == RHEI_OK) {
        rc = rhei__duck_exec(o, stg, e);
    } else { /* best effort, in case the caller commits anyway: no stale keys next time */
        rhei__err ignored;
        rhei__duck_exec(o, stg, &ignored);
    }
    if (rc == RHEI_OK && history) {
        st->inserted = (int64_t)b->ninserts;
        st->updated = (int64_t)b->nupdates;
        st->deleted = (int64_t)b->ndeletes;
    }
    rhei__free(sel);
    kgroups_free(&g);
    return rc;
}

int rhei__duck_apply(rhei__olap *o, const rhei__batch *b, int history, rhei__apply_stats *st,
                     rhei__err *e)
{
    rhei__apply_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    int rc = rhei__duck_need_txn(o, e);
    if (rc || b->nrows == 0)
        return rc;
    o->wrote = 1;
    if (b->nupdates || b->ndeletes)
        return apply_keyed(o, b, history, st, e);
    /* Insert-only: each key appears once (an INSERT means it was absent), append directly. */
    xcol x[2] = {{"_rhei_valid_from", b->ts, 0}, {"_rhei_valid_to", NULL, XNULL}};
    rc = append_target(o, b, history, NULL, b->nrows, x, e);
    if (rc == RHEI_OK)
        st->inserted = (int64_t)b->nrows;
    return rc;
}

int rhei__duck_load(rhei__olap *o, const rhei__batch *b, int history, int64_t ts_us,
                    rhei__err *e)
{
    int rc = rhei__duck_need_txn(o, e);
    if (rc || b->nrows == 0)
        return rc;
    o->wrote = 1;
    xcol x[2] = {{"_rhei_valid_from", NULL, ts_us}, {"_rhei_valid_to", NULL, XNULL}};
    return append_target(o, b, history, NULL, b->nrows, x, e);
}
