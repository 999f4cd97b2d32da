/* duckdb_query.c — read-only queries on a lazily grown pool of DuckDB connections: bind
 * rhei values, stream result chunks into a columnar rhei_result, map DuckDB types to rhei's.
 * Any thread may call in; the pool's slots are guarded by o->mu. */
#include "duckdb_int.h"
#include "mem.h"
#include "result.h"
#include "value.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- read pool --------------------------------------------------------------------------- */

/* 1 if idle slot s keeps a current statement for sql. Caller holds o->mu. */
static int keeps(rhei__olap *o, const rhei__duck_slot *s, const char *sql)
{
    return sql && s->ps && s->ps_gen == rhei__duck_gen(o) && strcmp(s->ps_sql, sql) == 0;
}

/* Takes an idle connection (a slot the caller gives back with rhei__duck_pool_release), the
 * one keeping sql's statement if any, opens one in an empty slot, or waits for one to come
 * back. */
int rhei__duck_pool_acquire(rhei__olap *o, const char *sql, size_t *out, rhei__err *e)
{
    size_t slot = 0;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        size_t empty = o->nslots, idle = o->nslots;
        for (size_t i = 0; i < o->nslots; i++) {
            if (o->slots[i].state == SLOT_IDLE &&
                (idle == o->nslots || keeps(o, &o->slots[i], sql)))
                idle = i;
            if (o->slots[i].state == SLOT_EMPTY && empty == o->nslots)
                empty = i;
        }
        if (idle < o->nslots) {
            o->slots[idle].state = SLOT_BUSY;
            pthread_mutex_unlock(&o->mu);
            *out = idle;
            return RHEI_OK;
        }
        if (empty < o->nslots) {
            slot = empty;
            break;
        }
        pthread_cond_wait(&o->cv, &o->mu);
    }
    /* Connect outside the lock: setting up a connection runs a statement. */
    o->slots[slot].state = SLOT_CONNECTING;
    pthread_mutex_unlock(&o->mu);
    duckdb_connection c = NULL;
    int rc = rhei__duck_connect(o, &c, e);
    pthread_mutex_lock(&o->mu);
    o->slots[slot].conn = c;
    o->slots[slot].state = rc ? SLOT_EMPTY : SLOT_BUSY;
    if (rc)
        pthread_cond_signal(&o->cv); /* a waiter may take the slot instead */
    pthread_mutex_unlock(&o->mu);
    *out = slot;
    return rc;
}

void rhei__duck_pool_release(rhei__olap *o, size_t i)
{
    pthread_mutex_lock(&o->mu);
    o->slots[i].state = SLOT_IDLE;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
}

uint64_t rhei__duck_gen(rhei__olap *o) { return __atomic_load_n(&o->gen, __ATOMIC_ACQUIRE); }

void rhei__duck_bump_gen(rhei__olap *o) { __atomic_add_fetch(&o->gen, 1, __ATOMIC_RELEASE); }

void rhei__duck_drop_kept(rhei__duck_slot *s)
{
    if (s->ps)
        duckdb_destroy_prepare(&s->ps);
    rhei__free(s->ps_sql);
    s->ps = NULL;
    s->ps_sql = NULL;
}

/* The holder alone changes a slot's kept statement; pool_release publishes it (under mu) to
 * the next acquire, which reads it only while the slot is idle. */
duckdb_prepared_statement rhei__duck_kept(rhei__olap *o, size_t slot, const char *sql)
{
    rhei__duck_slot *s = &o->slots[slot];
    if (!s->ps || strcmp(s->ps_sql, sql) != 0)
        return NULL;
    if (s->ps_gen != rhei__duck_gen(o)) { /* a write since: its plan may be stale */
        rhei__duck_drop_kept(s);
        return NULL;
    }
    return s->ps;
}

int rhei__duck_keep(rhei__olap *o, size_t slot, const char *sql, uint64_t gen,
                    duckdb_prepared_statement ps)
{
    rhei__duck_slot *s = &o->slots[slot];
    char *copy = gen % 2 == 0 && strlen(sql) < RHEI__DUCK_KEEP_MAX ? rhei__strdup(sql) : NULL;
    if (!copy) /* odd: a write was ending while ps was prepared */
        return 0;
    rhei__duck_drop_kept(s);
    s->ps = ps;
    s->ps_sql = copy;
    s->ps_gen = gen;
    return 1;
}

int rhei__duck_prepare_kept(rhei__olap *o, size_t slot, const char *sql,
                            duckdb_prepared_statement *ps, int *kept, rhei__err *e)
{
    if ((*ps = rhei__duck_kept(o, slot, sql)) != NULL) {
        *kept = 1;
        return RHEI_OK;
    }
    *kept = 0;
    uint64_t gen = rhei__duck_gen(o); /* before preparing: see rhei__duck_slot */
    int rc = rhei__duck_prepare(o->slots[slot].conn, sql, ps, e);
    if (rc == RHEI_OK && (rc = rhei__duck_check_read_only(*ps, e)) == RHEI_OK)
        *kept = rhei__duck_keep(o, slot, sql, gen, *ps);
    return rc;
}

void rhei__duck_interrupt(rhei__olap *o)
{
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < o->nslots; i++)
        if (o->slots[i].state == SLOT_BUSY)
            duckdb_interrupt(o->slots[i].conn);
    pthread_mutex_unlock(&o->mu);
}

/* ---- query ------------------------------------------------------------------------------- */

/* A result column: what the caller sees (name, DuckDB type text) is taken before any
 * wrapping; how cells are read comes from the executed result's types. */
typedef struct qcol {
    char *name;
    char decl[48];
    int p, s;          /* DECIMAL precision and scale */
    int exotic;        /* no native reading: fetched through CAST(... AS VARCHAR) */
    duckdb_type t;     /* type id in the executed result */
    duckdb_type phys;  /* DECIMAL storage type */
    int wide;          /* UBIGINT/HUGEINT/UHUGEINT: a value beyond int64 was seen */
    rhei__lay lay;     /* copied whole vectors at a time, or converted into cells */
    void *data;        /* of the current chunk */
    uint64_t *valid;
} qcol;

/* One query in flight on a pooled connection; freed by query_free. */
typedef struct qrun {
    rhei__olap *o;
    size_t slot;
    duckdb_connection c;
    int orig_kept; /* orig belongs to the slot (rhei__duck_kept), not to this query */
    const char *sql;
    const rhei_value *params;
    size_t nparams;
    duckdb_prepared_statement orig, wrapped;
    rhei__duck_run run;
    qcol *q;
    size_t nc;
} qrun;

static int native(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_DATE: case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return 1;
    default:
        return 0;
    }
}

static const char *type_text(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: return "LIST";
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_ARRAY: return "ARRAY";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_BIT: return "BIT";
    default: return "UNKNOWN";
    }
}

rhei_type rhei__duck_class(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return RHEI_TYPE_BOOLEAN;
    case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: return RHEI_TYPE_REAL;
    case DUCKDB_TYPE_BLOB: return RHEI_TYPE_BLOB;
    case DUCKDB_TYPE_DECIMAL: return RHEI_TYPE_DECIMAL;
    case DUCKDB_TYPE_DATE: return RHEI_TYPE_DATE;
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS: return RHEI_TYPE_TIMESTAMP;
    case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT: return RHEI_TYPE_INTEGER;
    default: return RHEI_TYPE_TEXT;
    }
}

int rhei__duck_bind(duckdb_prepared_statement ps, const rhei_value *p, size_t n, rhei__err *e)
{
    if (duckdb_nparams(ps) != n)
        return rhei__err_set(e, RHEI_MISUSE, "query takes %llu parameters, %zu given",
                             (unsigned long long)duckdb_nparams(ps), n);
    for (size_t i = 0; i < n; i++) {
        idx_t k = i + 1;
        duckdb_state s;
        switch (p[i].type) {
        case RHEI_TYPE_NULL: s = duckdb_bind_null(ps, k); break;
        case RHEI_TYPE_INTEGER: s = duckdb_bind_int64(ps, k, p[i].i); break;
        case RHEI_TYPE_REAL: s = duckdb_bind_double(ps, k, p[i].f); break;
        case RHEI_TYPE_TEXT:
            s = duckdb_bind_varchar_length(ps, k, p[i].s ? p[i].s : "", p[i].n);
            break;
        case RHEI_TYPE_BLOB: s = duckdb_bind_blob(ps, k, p[i].s ? p[i].s : "", p[i].n); break;
        case RHEI_TYPE_BOOLEAN: s = duckdb_bind_boolean(ps, k, p[i].i != 0); break;
        case RHEI_TYPE_DATE: s = duckdb_bind_date(ps, k, (duckdb_date){(int32_t)p[i].i}); break;
        case RHEI_TYPE_TIMESTAMP:
            s = duckdb_bind_timestamp(ps, k, (duckdb_timestamp){p[i].i});
            break;
        case RHEI_TYPE_DECIMAL: {
            const char *dot = p[i].n ? memchr(p[i].s, '.', p[i].n) : NULL;
            int scale = dot ? (int)(p[i].s + p[i].n - dot - 1) : 0;
            __int128 x;
            if (scale > 37 || rhei__decimal_parse(p[i].s, p[i].n, scale, &x))
                return rhei__err_set(e, RHEI_TYPE, "parameter %zu: malformed DECIMAL '%.*s'",
                                     k, (int)(p[i].n > 64 ? 64 : p[i].n), p[i].s);
            duckdb_decimal d = {38, (uint8_t)scale, {(uint64_t)(unsigned __int128)x,
                                                     (int64_t)(x >> 64)}};
            s = duckdb_bind_decimal(ps, k, d);
            break;
        }
        default: s = DuckDBError; break;
        }
        if (s != DuckDBSuccess)
            return rhei__err_set(e, RHEI_TYPE, "cannot bind parameter %zu of type %s", k,
                                 rhei_type_name(p[i].type));
    }
    return RHEI_OK;
}

int rhei__duck_prepare(duckdb_connection c, const char *sql, duckdb_prepared_statement *ps,
                   rhei__err *e)
{
    if (duckdb_prepare(c, sql, ps) == DuckDBSuccess)
        return RHEI_OK;
    int rc = rhei__duck_err(e, 1, DUCKDB_ERROR_INVALID, duckdb_prepare_error(*ps));
    duckdb_destroy_prepare(ps);
    *ps = NULL;
    return rc;
}

static void forget_columns(qrun *x)
{
    for (size_t i = 0; x->q && i < x->nc; i++)
        rhei__free(x->q[i].name);
    rhei__free(x->q);
    x->q = NULL;
    x->nc = 0;
}

/* Records column i's name and DuckDB type text (lt is borrowed). */
static int describe(qcol *q, const char *name, duckdb_logical_type lt)
{
    duckdb_type t = duckdb_get_type_id(lt);
    if (!(q->name = rhei__strdup(name ? name : "")))
        return -1;
    q->exotic = !native(t);
    if (t == DUCKDB_TYPE_DECIMAL) {
        q->p = duckdb_decimal_width(lt);
        q->s = duckdb_decimal_scale(lt);
        snprintf(q->decl, sizeof q->decl, "DECIMAL(%d,%d)", q->p, q->s);
    } else {
        snprintf(q->decl, sizeof q->decl, "%s", type_text(t));
    }
    return 0;
}

/* From the prepared statement when it knows its result types (*known = 0 when a parameter
 * of unknown type left them open), else from the executed result. */
static int describe_all(qrun *x, int from_result, int *known, rhei__err *e)
{
    size_t n = from_result ? duckdb_column_count(&x->run.res)
                           : duckdb_prepared_statement_column_count(x->orig);
    *known = 1;
    for (size_t i = 0; !from_result && i < n; i++)
        if (duckdb_prepared_statement_column_type(x->orig, i) == DUCKDB_TYPE_INVALID)
            *known = 0;
    if (!*known)
        return RHEI_OK;
    forget_columns(x);
    if (!(x->q = rhei__calloc(n ? n : 1, sizeof *x->q)))
        return rhei__err_nomem(e);
    x->nc = n;
    for (size_t i = 0; i < n; i++) {
        duckdb_logical_type lt = from_result
                                     ? duckdb_column_logical_type(&x->run.res, i)
                                     : duckdb_prepared_statement_column_logical_type(x->orig, i);
        char *pname = from_result ? NULL
                                  : (char *)duckdb_prepared_statement_column_name(x->orig, i);
        int bad = describe(&x->q[i], from_result ? duckdb_column_name(&x->run.res, i) : pname, lt);
        duckdb_free(pname);
        duckdb_destroy_logical_type(&lt);
        if (bad)
            return rhei__err_nomem(e);
    }
    return RHEI_OK;
}

static int any_exotic(const qrun *x)
{
    for (size_t i = 0; i < x->nc; i++)
        if (x->q[i].exotic)
            return 1;
    return 0;
}

/* Columns DuckDB cannot hand over natively (INTERVAL, LIST, ...) are read as VARCHAR: the
 * statement is prepared again as SELECT #1, CAST(#2 AS VARCHAR) ... FROM (sql). */
static int prepare_wrapped(qrun *x, rhei__err *e)
{
    if (duckdb_prepared_statement_type(x->orig) != DUCKDB_STATEMENT_TYPE_SELECT)
        return rhei__err_set(e, RHEI_TYPE, "result has a column type rhei cannot read; "
                             "CAST it to VARCHAR");
    rhei__buf b = RHEI__BUF_INIT;
    rhei__buf_puts(&b, "SELECT ");
    for (size_t i = 0; i < x->nc; i++) {
        int ex = x->q[i].exotic;
        rhei__buf_printf(&b, "%s%s#%zu%s AS ", i ? ", " : "", ex ? "CAST(" : "", i + 1,
                         ex ? " AS VARCHAR)" : "");
        rhei__buf_ident(&b, x->q[i].name);
    }
    size_t len = strlen(x->sql);
    while (len && strchr("; \t\r\n", x->sql[len - 1]))
        len--;
    /* The newline ends a trailing "-- comment" in the caller's text. */
    rhei__buf_printf(&b, " FROM (%.*s\n) AS _rhei_q", (int)len, x->sql);
    int rc = rhei__buf_check(&b, e);
    if (rc == RHEI_OK)
        rc = rhei__duck_prepare(x->c, rhei__buf_str(&b), &x->wrapped, e);
    rhei__buf_free(&b);
    return rc;
}

_Static_assert(sizeof(duckdb_string_t) == sizeof(rhei__view) &&
                   offsetof(duckdb_string_t, value.inlined.length) == 0 &&
                   sizeof(((duckdb_string_t *)0)->value.inlined.length) == 4 &&
                   offsetof(duckdb_string_t, value.pointer.ptr) == offsetof(rhei__view, at) &&
                   offsetof(duckdb_string_t, value.inlined.inlined) == 4,
               "duckdb_string_t is read as rhei__view");

/* The native layout a column of type t is copied in: types whose vectors hold the value as
 * the result gives it; the others (DECIMAL, unsigned, other timestamp units) are converted
 * into cells. */
static rhei__lay native_layout(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
        return RHEI__LAY_I8;
    case DUCKDB_TYPE_SMALLINT:
        return RHEI__LAY_I16;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_DATE:
        return RHEI__LAY_I32;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return RHEI__LAY_I64;
    case DUCKDB_TYPE_DOUBLE:
        return RHEI__LAY_F64;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
        return RHEI__LAY_VIEW;
    default:
        return RHEI__LAY_CELLS;
    }
}

/* Reading plan of each column from the executed result's types. */
static void plan_reads(qrun *x)
{
    for (size_t i = 0; i < x->nc; i++) {
        duckdb_logical_type lt = duckdb_column_logical_type(&x->run.res, i);
        x->q[i].t = duckdb_get_type_id(lt);
        if (x->q[i].t == DUCKDB_TYPE_DECIMAL) {
            x->q[i].phys = duckdb_decimal_internal_type(lt);
            x->q[i].s = duckdb_decimal_scale(lt);
        }
        duckdb_destroy_logical_type(&lt);
        x->q[i].lay = native_layout(x->q[i].t);
    }
}

static void u128_text(unsigned __int128 u, char *buf)
{
    char tmp[48];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    for (int j = 0; j < k; j++)
        buf[j] = tmp[k - 1 - j];
    buf[k] = '\0';
}

/* A 128-bit integer cell: INTEGER when it fits int64, else exact DECIMAL text. */
static void wide_cell(qcol *q, int neg, unsigned __int128 mag, rhei_value *v, char *tmp)
{
    if ((!neg && mag <= INT64_MAX) || (neg && mag <= (unsigned __int128)INT64_MAX + 1)) {
        v->type = RHEI_TYPE_INTEGER;
        v->i = neg ? (int64_t)(0 - (uint64_t)mag) : (int64_t)mag;
        return;
    }
    tmp[0] = '-';
    u128_text(mag, tmp + neg);
    v->type = RHEI_TYPE_DECIMAL;
    v->s = tmp;
    v->n = strlen(tmp);
    q->wide = 1;
}

static __int128 decimal_raw(duckdb_type phys, const void *d, idx_t i)
{
    switch (phys) {
    case DUCKDB_TYPE_SMALLINT: return ((const int16_t *)d)[i];
    case DUCKDB_TYPE_INTEGER: return ((const int32_t *)d)[i];
    case DUCKDB_TYPE_BIGINT: return ((const int64_t *)d)[i];
    default: {
        const duckdb_hugeint *h = &((const duckdb_hugeint *)d)[i];
        return (__int128)(((unsigned __int128)(uint64_t)h->upper << 64) | h->lower);
    }
    }
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0); }

/* Reads row i of a vector into v (non-NULL); tmp holds text of DECIMAL and wide cells. */
static void read_cell(qcol *q, void *d, idx_t i, rhei_value *v, char *tmp)
{
    v->type = rhei__duck_class(q->t);
    switch (q->t) {
    case DUCKDB_TYPE_BOOLEAN: v->i = ((bool *)d)[i]; break;
    case DUCKDB_TYPE_TINYINT: v->i = ((int8_t *)d)[i]; break;
    case DUCKDB_TYPE_SMALLINT: v->i = ((int16_t *)d)[i]; break;
    case DUCKDB_TYPE_INTEGER: v->i = ((int32_t *)d)[i]; break;
    case DUCKDB_TYPE_DATE: v->i = ((int32_t *)d)[i]; break;
    case DUCKDB_TYPE_UTINYINT: v->i = ((uint8_t *)d)[i]; break;
    case DUCKDB_TYPE_USMALLINT: v->i = ((uint16_t *)d)[i]; break;
    case DUCKDB_TYPE_UINTEGER: v->i = ((uint32_t *)d)[i]; break;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ: v->i = ((int64_t *)d)[i]; break;
    case DUCKDB_TYPE_TIMESTAMP_S: v->i = ((int64_t *)d)[i] * 1000000; break;
    case DUCKDB_TYPE_TIMESTAMP_MS: v->i = ((int64_t *)d)[i] * 1000; break;
    case DUCKDB_TYPE_TIMESTAMP_NS: v->i = floor_div(((int64_t *)d)[i], 1000); break;
    case DUCKDB_TYPE_FLOAT: v->f = ((float *)d)[i]; break;
    case DUCKDB_TYPE_DOUBLE: v->f = ((double *)d)[i]; break;
    case DUCKDB_TYPE_UBIGINT: wide_cell(q, 0, ((uint64_t *)d)[i], v, tmp); break;
    case DUCKDB_TYPE_HUGEINT: {
        __int128 x = decimal_raw(DUCKDB_TYPE_HUGEINT, d, i);
        wide_cell(q, x < 0, x < 0 ? -(unsigned __int128)x : (unsigned __int128)x, v, tmp);
        break;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        const duckdb_uhugeint *h = &((const duckdb_uhugeint *)d)[i];
        wide_cell(q, 0, ((unsigned __int128)h->upper << 64) | h->lower, v, tmp);
        break;
    }
    case DUCKDB_TYPE_DECIMAL:
        rhei__decimal_format(decimal_raw(q->phys, d, i), q->s, tmp, 64);
        v->s = tmp;
        v->n = strlen(tmp);
        break;
    default: { /* VARCHAR, BLOB */
        duckdb_string_t *str = &((duckdb_string_t *)d)[i];
        v->s = duckdb_string_t_data(str);
        v->n = duckdb_string_t_length(*str);
        break;
    }
    }
}

/* 1 for types read_cell gives as text or bytes (VARCHAR, BLOB, casts of exotic types). */
static int var_width(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_DECIMAL:
        return 0;
    default:
        return 1;
    }
}

/* Heap bytes the chunk's cells can take: exact for strings, the longest text of a 128-bit
 * number (40 digits, sign, point, NUL) for DECIMAL and wide integers. */
static size_t chunk_heap_bytes(const qcol *q, size_t nc, idx_t n)
{
    size_t bytes = 0;
    for (size_t c = 0; c < nc; c++) {
        if (q[c].t == DUCKDB_TYPE_DECIMAL || q[c].t == DUCKDB_TYPE_UBIGINT ||
            q[c].t == DUCKDB_TYPE_HUGEINT || q[c].t == DUCKDB_TYPE_UHUGEINT) {
            bytes += (size_t)n * 43;
            continue;
        }
        if (!var_width(q[c].t) || q[c].lay != RHEI__LAY_CELLS)
            continue;
        duckdb_string_t *str = q[c].data;
        for (idx_t i = 0; i < n; i++)
            if (!q[c].valid || (q[c].valid[i >> 6] >> (i & 63) & 1))
                bytes += duckdb_string_t_length(str[i]) + 1;
    }
    return bytes;
}

/* Appends a chunk column by column: native columns a vector at a time, then the others cell
 * by cell after one reservation (made last: native strings take heap room of their own). */
static int read_chunk(duckdb_data_chunk ch, rhei_result *r, qcol *q, rhei__err *e)
{
    char tmp[64];
    size_t nc = r->ncols, base = r->nrows;
    int rc = RHEI_OK;
    idx_t n = duckdb_data_chunk_get_size(ch);
    for (size_t c = 0; c < nc; c++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
        q[c].data = duckdb_vector_get_data(v);
        q[c].valid = duckdb_vector_get_validity(v);
        if (q[c].lay != RHEI__LAY_CELLS && rc == RHEI_OK)
            rc = rhei__result_put_native(r, c, n, q[c].data, q[c].valid, e);
    }
    if (rc == RHEI_OK)
        rc = rhei__result_reserve(r, n, chunk_heap_bytes(q, nc, n), e);
    for (size_t c = 0; c < nc && rc == RHEI_OK; c++)
        for (idx_t i = 0; i < n && q[c].lay == RHEI__LAY_CELLS; i++) {
            rhei_value v = {RHEI_TYPE_NULL, 0, 0, NULL, 0};
            if (!q[c].valid || (q[c].valid[i >> 6] >> (i & 63) & 1))
                read_cell(&q[c], q[c].data, i, &v, tmp);
            rhei__result_put(r, c, base + i, &v);
        }
    if (rc == RHEI_OK)
        rhei__result_end_rows(r, n);
    return rc;
}

static void run_free(rhei__duck_run *x)
{
    if (x->have_res)
        duckdb_destroy_result(&x->res);
    if (x->pend)
        duckdb_destroy_pending(&x->pend);
    x->have_res = x->drained = 0;
}

int rhei__duck_run_start(rhei__duck_run *x, duckdb_prepared_statement ps, duckdb_connection c,
                         rhei_cancel *cancel, rhei__err *e)
{
    run_free(x); /* a run replaced by another on the same connection is closed by DuckDB */
    if (duckdb_pending_prepared_streaming(ps, &x->pend) != DuckDBSuccess)
        return rhei__duck_err(e, 1, DUCKDB_ERROR_INVALID, duckdb_pending_error(x->pend));
    /* DuckDB clears the connection's interrupt flag when the statement starts (here), after
     * which its tasks already run on DuckDB's threads: a fire that came earlier is asserted
     * again, or they would run on unseen until the connection's next statement waited for
     * them (minutes for a big cross join). A later fire reaches DuckDB through the callback
     * the caller attached. */
    if (cancel && rhei__cancel_fired(cancel))
        duckdb_interrupt(c);
    x->have_res = 1;
    if (duckdb_execute_pending(x->pend, &x->res) != DuckDBSuccess)
        return cancel && rhei__cancel_fired(cancel)
                   ? rhei__err_set(e, RHEI_INTERRUPTED, "query cancelled")
                   : rhei__duck_result_err(e, 1, &x->res);
    return RHEI_OK;
}

duckdb_data_chunk rhei__duck_run_fetch(rhei__duck_run *x)
{
    duckdb_data_chunk ch = duckdb_fetch_chunk(x->res);
    x->drained = ch == NULL;
    return ch;
}

void rhei__duck_run_end(rhei__duck_run *x, duckdb_connection c)
{
    int open = x->have_res && !x->drained;
    run_free(x);
    if (open) {
        /* DuckDB keeps a streaming query its reader left early open on the connection
         * until the connection runs another statement, and an open query holds back
         * CHECKPOINT: rhei_close would wait for it forever. */
        duckdb_result r;
        duckdb_query(c, "SELECT 1", &r);
        duckdb_destroy_result(&r);
    }
}

static int execute(qrun *x, duckdb_prepared_statement ps, rhei__err *e)
{
    return rhei__duck_run_start(&x->run, ps, x->c, NULL, e);
}

/* Streams the result's chunks into r. */
static int stream(qrun *x, rhei_result *r, rhei__err *e)
{
    int rc = RHEI_OK;
    duckdb_data_chunk ch;
    while (rc == RHEI_OK && (ch = rhei__duck_run_fetch(&x->run)) != NULL) {
        rc = read_chunk(ch, r, x->q, e);
        duckdb_destroy_data_chunk(&ch);
    }
    if (rc == RHEI_OK && duckdb_result_error(&x->run.res))
        rc = rhei__duck_result_err(e, 1, &x->run.res);
    return rc;
}

/* Only reads: a write or a SET on a pooled connection would bypass the sync or leak into
 * other callers' queries. */
int rhei__duck_check_read_only(duckdb_prepared_statement ps, rhei__err *e)
{
    duckdb_statement_type st = duckdb_prepared_statement_type(ps);
    if (st == DUCKDB_STATEMENT_TYPE_SELECT || st == DUCKDB_STATEMENT_TYPE_EXPLAIN ||
        st == DUCKDB_STATEMENT_TYPE_PRAGMA || st == DUCKDB_STATEMENT_TYPE_CALL)
        return RHEI_OK;
    return rhei__err_set(e, RHEI_MISUSE, "olap queries are read-only (statement type %d)",
                         (int)st);
}

/* Prepares, binds and executes, wrapping the statement when a column needs a text cast. */
static int start(qrun *x, rhei__err *e)
{
    int known, rc = rhei__duck_prepare_kept(x->o, x->slot, x->sql, &x->orig, &x->orig_kept, e);
    if (rc || (rc = rhei__duck_bind(x->orig, x->params, x->nparams, e)) ||
        (rc = describe_all(x, 0, &known, e)))
        return rc;
    if (known && any_exotic(x)) {
        if ((rc = prepare_wrapped(x, e)) ||
            (rc = rhei__duck_bind(x->wrapped, x->params, x->nparams, e)))
            return rc;
        return execute(x, x->wrapped, e);
    }
    if ((rc = execute(x, x->orig, e)) || known)
        return rc;
    /* Parameter types decided the result types: look at them now. */
    if ((rc = describe_all(x, 1, &known, e)) || !any_exotic(x))
        return rc;
    if ((rc = prepare_wrapped(x, e)) ||
        (rc = rhei__duck_bind(x->wrapped, x->params, x->nparams, e)))
        return rc;
    return execute(x, x->wrapped, e);
}

static void query_free(qrun *x)
{
    forget_columns(x);
    rhei__duck_run_end(&x->run, x->c);
    if (x->wrapped)
        duckdb_destroy_prepare(&x->wrapped);
    if (x->orig && !x->orig_kept)
        duckdb_destroy_prepare(&x->orig);
}

static int run_query(qrun *x, rhei_result **out, rhei__err *e)
{
    rhei_result *r = NULL;
    int rc = start(x, e);
    if (rc || (rc = rhei__result_new(x->nc, &r, e)))
        goto done;
    plan_reads(x);
    for (size_t i = 0; i < x->nc && rc == RHEI_OK; i++) {
        qcol *q = &x->q[i];
        rc = rhei__result_set_column(r, i, q->name, q->decl, rhei__duck_class(q->t), q->p, q->s, e);
        if (rc == RHEI_OK && q->lay != RHEI__LAY_CELLS &&
            (rc = rhei__result_set_layout(r, i, q->lay, rhei__duck_class(q->t))) != RHEI_OK)
            rc = rhei__err_set(e, rc, "result column %zu cannot be native", i);
    }
    if (rc || (rc = stream(x, r, e)))
        goto done;
    for (size_t i = 0; i < x->nc; i++) /* beyond-int64 cells: let finish settle the column */
        if (x->q[i].wide) {
            r->cols[i].type = RHEI_TYPE_NULL;
            r->wide_ints = 1;
        }
    rhei__result_finish(r);
    r->side = RHEI_SIDE_OLAP;
    *out = r;
    r = NULL;
done:
    rhei_result_free(r);
    query_free(x);
    return rc;
}

int rhei__duck_query(rhei__olap *o, const char *sql, const rhei_value *params, size_t nparams,
                     rhei_result **out, rhei__err *e)
{
    size_t slot;
    *out = NULL;
    int rc = rhei__duck_pool_acquire(o, sql, &slot, e);
    if (rc)
        return rc;
    qrun x;
    memset(&x, 0, sizeof x);
    x.o = o;
    x.slot = slot;
    x.c = o->slots[slot].conn;
    x.sql = sql;
    x.params = params;
    x.nparams = nparams;
    rc = run_query(&x, out, e);
    rhei__duck_pool_release(o, slot);
    return rc;
}

