/* sidecar_pos.c — watermarks and time: the stored form of a table's polling position, the
 * conversion of source timestamps to microseconds, and the OLAP side of both (transactions,
 * small stored values). A position is stored in the same OLAP
 * transaction as the rows it covers, so a crash can never separate them. */
#include "sidecar_int.h"
#include "mem.h"
#include "value.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- positions --------------------------------------------------------------------------- */

void rhei__sc_pos_free(rhei__sc_pos *p)
{
    rhei__free(p->store);
    p->store = NULL;
    p->v = NULL;
    p->n = 0;
    p->after = RHEI__AFTER_NONE;
}

int rhei__sc_pos_set(rhei__sc_pos *p, rhei__src_after after, const rhei_value *v, size_t n,
                     rhei__err *e)
{
    size_t bytes = n * sizeof *v;
    for (size_t i = 0; i < n; i++)
        bytes += v[i].n + 1;
    char *store = rhei__malloc(bytes ? bytes : 1);
    if (!store)
        return rhei__err_nomem(e);
    rhei_value *nv = (rhei_value *)(void *)store;
    char *at = store + n * sizeof *v;
    for (size_t i = 0; i < n; i++) {
        nv[i] = v[i];
        if (v[i].type == RHEI_TYPE_TEXT || v[i].type == RHEI_TYPE_BLOB ||
            v[i].type == RHEI_TYPE_DECIMAL) {
            if (v[i].n)
                memcpy(at, v[i].s, v[i].n);
            at[v[i].n] = '\0';
            nv[i].s = at;
            at += v[i].n + 1;
        }
    }
    rhei__free(p->store);
    p->store = store;
    p->v = nv;
    p->n = n;
    p->after = after;
    return RHEI_OK;
}

/* One field: '|' separates fields, '\' escapes '|' and '\' inside text. */
static void put_escaped(rhei__buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|' || s[i] == '\\')
            rhei__buf_append(b, "\\", 1);
        rhei__buf_append(b, s + i, 1);
    }
}

void rhei__sc_put_field(rhei__buf *b, const char *s)
{
    rhei__buf_puts(b, "|");
    put_escaped(b, s, strlen(s));
}

static void put_native(rhei__buf *b, const rhei_value *v)
{
    static const char hex[] = "0123456789abcdef";
    switch (v->type) {
    case RHEI_TYPE_NULL:
        rhei__buf_puts(b, "|n");
        break;
    case RHEI_TYPE_REAL:
        rhei__buf_printf(b, "|r%.17g", v->f);
        break;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        rhei__buf_puts(b, "|t");
        put_escaped(b, v->s, v->n);
        break;
    case RHEI_TYPE_BLOB:
        rhei__buf_puts(b, "|x");
        for (size_t i = 0; i < v->n; i++) {
            char two[2] = {hex[(unsigned char)v->s[i] >> 4], hex[(unsigned char)v->s[i] & 15]};
            rhei__buf_append(b, two, 2);
        }
        break;
    default:
        rhei__buf_printf(b, "|i%lld", (long long)v->i);
        break;
    }
}

/* "v1|<through_us>|<last_ts>|<after>" then one field per native value (tag + text). */
int rhei__sc_pos_encode(const rhei__sc_pos *p, rhei__buf *out, rhei__err *e)
{
    rhei__buf_reset(out);
    rhei__buf_printf(out, "v1|%lld|%lld|%d", (long long)p->through_us, (long long)p->last_ts,
                     (int)p->after);
    for (size_t i = 0; i < p->n; i++)
        put_native(out, &p->v[i]);
    return rhei__buf_check(out, e);
}

long rhei__sc_split(char *s, char **f, size_t max)
{
    size_t n = 0;
    char *w = s;
    f[n++] = w;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            *w++ = *++r;
        } else if (*r == '|') {
            *w++ = '\0';
            if (n == max)
                return -1;
            f[n++] = w;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (long)n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes one tagged field into v; text and blob bytes are rewritten in place in f. */
static int parse_native(char *f, rhei_value *v)
{
    char *end = NULL;
    memset(v, 0, sizeof *v);
    errno = 0;
    switch (f[0]) {
    case 'n':
        return f[1] ? -1 : 0;
    case 'i':
        v->type = RHEI_TYPE_INTEGER;
        v->i = strtoll(f + 1, &end, 10);
        return (!f[1] || *end || errno) ? -1 : 0;
    case 'r':
        v->type = RHEI_TYPE_REAL;
        v->f = strtod(f + 1, &end);
        return (!f[1] || *end) ? -1 : 0;
    case 't':
        v->type = RHEI_TYPE_TEXT;
        v->s = f + 1;
        v->n = strlen(f + 1);
        return 0;
    case 'x': {
        size_t n = strlen(f + 1);
        if (n % 2)
            return -1;
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hexval(f[1 + 2 * i]), lo = hexval(f[2 + 2 * i]);
            if (hi < 0 || lo < 0)
                return -1;
            f[i] = (char)(hi << 4 | lo);
        }
        v->type = RHEI_TYPE_BLOB;
        v->s = f;
        v->n = n / 2;
        return 0;
    }
    default:
        return -1;
    }
}

int rhei__sc_pos_decode(const char *text, size_t npk, rhei__sc_pos *out, rhei__err *e)
{
    char *copy = rhei__strdup(text);
    char *f[4 + 1 + RHEI__SC_MAX_PK];
    rhei_value v[1 + RHEI__SC_MAX_PK];
    int rc = RHEI_OK;
    if (!copy)
        return rhei__err_nomem(e);
    long n = rhei__sc_split(copy, f, sizeof f / sizeof *f);
    long long through = 0, last = 0;
    int after = -1;
    if (n < 4 || strcmp(f[0], "v1") != 0 || sscanf(f[1], "%lld", &through) != 1 ||
        sscanf(f[2], "%lld", &last) != 1 || sscanf(f[3], "%d", &after) != 1 || after < 0 ||
        after > 2 || (size_t)(n - 4) != (after == 0 ? 0 : after == 1 ? 1 : 1 + npk)) {
        rc = rhei__err_set(e, RHEI_CORRUPT, "malformed watermark '%.200s'", text);
        goto done;
    }
    for (long i = 4; i < n; i++)
        if (parse_native(f[i], &v[i - 4])) {
            rc = rhei__err_set(e, RHEI_CORRUPT, "malformed watermark '%.200s'", text);
            goto done;
        }
    if ((rc = rhei__sc_pos_set(out, (rhei__src_after)after, v, (size_t)(n - 4), e)) == RHEI_OK) {
        out->through_us = through;
        out->last_ts = last;
    }
done:
    rhei__free(copy);
    return rc;
}

/* ---- timestamps -------------------------------------------------------------------------- */

int64_t rhei__sc_unit_for(double m)
{
    m = fabs(m);
    return m < 1e11 ? 1000000 : m < 1e14 ? 1000 : 1;
}

int64_t rhei__sc_parse_unit(const char *s)
{
    if (!s || !*s || strcmp(s, "auto") == 0)
        return 0;
    if (strcmp(s, "s") == 0)
        return 1000000;
    if (strcmp(s, "ms") == 0)
        return 1000;
    if (strcmp(s, "us") == 0)
        return 1;
    return -1;
}

static int from_int(int64_t x, int64_t unit, int64_t *out)
{
    if (!unit)
        unit = rhei__sc_unit_for((double)x);
    if (x > INT64_MAX / unit || x < INT64_MIN / unit)
        return -1;
    *out = x * unit;
    return 0;
}

static int from_real(double x, int64_t unit, int64_t *out)
{
    if (!isfinite(x))
        return -1;
    if (!unit)
        unit = rhei__sc_unit_for(x);
    double us = x * (double)unit;
    if (fabs(us) >= 9.2e18)
        return -1;
    *out = (int64_t)llround(us);
    return 0;
}

int rhei__sc_ts_us(const rhei_value *v, int64_t unit_us, int64_t *out)
{
    char num[64];
    char *end = NULL;
    switch (v->type) {
    case RHEI_TYPE_INTEGER:
        return from_int(v->i, unit_us, out);
    case RHEI_TYPE_REAL:
        return from_real(v->f, unit_us, out);
    case RHEI_TYPE_TIMESTAMP:
        return *out = v->i, 0;
    case RHEI_TYPE_DATE:
        return *out = v->i * 86400000000LL, 0;
    case RHEI_TYPE_TEXT:
    case RHEI_TYPE_DECIMAL:
        if (v->n > 0 && v->n < sizeof num && (v->s[0] == '-' || (v->s[0] >= '0' &&
                                                                 v->s[0] <= '9'))) {
            memcpy(num, v->s, v->n); /* an epoch number stored as text (PostgreSQL) */
            num[v->n] = '\0';
            errno = 0;
            long long x = strtoll(num, &end, 10);
            if (!*end && !errno)
                return from_int(x, unit_us, out);
            double d = strtod(num, &end);
            if (!*end)
                return from_real(d, unit_us, out);
        }
        return rhei__parse_timestamp(v->s, v->n, out);
    default:
        return -1;
    }
}

/* ---- OLAP transactions and stored values ---------------------------------------------- */

/* The backend's begin takes its write lock, so the engine's sync, sharing the store, waits
 * for this transaction and this one for the sync's. */
int rhei__sc_begin(rhei__sidecar *sc, rhei__err *e)
{
    return sc->vt->begin(sc->olap, e);
}

int rhei__sc_commit(rhei__sidecar *sc, rhei__err *e)
{
    int rc = sc->vt->commit(sc->olap, e);
    if (rc)
        sc->vt->rollback(sc->olap); /* no-op when the failed commit already rolled back */
    else
        sc->dirty = 1;
    return rc;
}

void rhei__sc_rollback(rhei__sidecar *sc)
{
    sc->vt->rollback(sc->olap);
}

/* Without set_kv in the backend, values live in a mirror table of our own, written through
 * apply() inside the same transaction, which keeps the exactly-once property. */
static const char kv_table_name[] = "_rhei_sidecar_kv";

static int kv_table(rhei__sidecar *sc, rhei__table **out, rhei__err *e)
{
    static const rhei__colspec cols[2] = {
        {(char *)"key", (char *)"TEXT", RHEI_TYPE_TEXT, 0, 0, 1},
        {(char *)"value", (char *)"TEXT", RHEI_TYPE_TEXT, 0, 0, 0}};
    (void)sc;
    return rhei__table_new(kv_table_name, -1000000, cols, 2, out, e);
}

static int kv_exists_cb(void *ud, const char *name, int64_t tid)
{
    (void)tid;
    if (strcmp(name, kv_table_name) == 0)
        *(int *)ud = 1;
    return 0;
}

static int kv_set_fallback(rhei__sidecar *sc, const char *key, const char *value, rhei__err *e)
{
    rhei__table *t = NULL;
    rhei__batch b;
    int exists = 0;
    int rc = kv_table(sc, &t, e);
    if (rc)
        return rc;
    rhei__batch_init(&b, t);
    if ((rc = sc->vt->list_tables(sc->olap, kv_exists_cb, &exists, e)) == RHEI_OK && !exists)
        rc = sc->vt->create_table(sc->olap, t, 0, e);
    rhei_value *row = rc ? NULL : rhei__batch_add(&b, 0, 0, RHEI__OP_UPDATE);
    if (rc == RHEI_OK && !row)
        rc = rhei__err_nomem(e);
    if (rc == RHEI_OK) {
        row[0] = rhei_text(key);
        row[1] = rhei_text(value);
        rc = sc->vt->apply(sc->olap, &b, 0, NULL, e);
    }
    rhei__batch_free(&b);
    rhei__table_free(t);
    return rc;
}

int rhei__sc_kv_set(rhei__sidecar *sc, const char *key, const char *value, rhei__err *e)
{
    int rc = sc->kv_fallback ? kv_set_fallback(sc, key, value, e)
                             : sc->vt->set_kv(sc->olap, key, value, e);
    return rc ? rhei__err_wrap(e, "cannot store '%s'", key) : RHEI_OK;
}

static int kv_get_fallback(rhei__sidecar *sc, const char *key, rhei__buf *out, rhei__err *e)
{
    rhei_result *r = NULL;
    rhei_value p = rhei_text(key);
    int rc = sc->vt->query(sc->olap, "SELECT value FROM \"_rhei_sidecar_kv\" WHERE key = ?", &p,
                           1, &r, e);
    if (rc == RHEI_OK && rhei_result_row_count(r) == 0)
        rc = RHEI_NOTFOUND;
    if (rc == RHEI_OK) {
        size_t n = 0;
        const char *s = rhei_result_text(r, 0, 0, &n);
        rhei__buf_append(out, s ? s : "", s ? n : 0);
        rc = rhei__buf_check(out, e);
    }
    rhei_result_free(r);
    return rc;
}

int rhei__sc_kv_get(rhei__sidecar *sc, const char *key, rhei__buf *out, rhei__err *e)
{
    rhei__buf_reset(out);
    if (sc->kv_fallback)
        return kv_get_fallback(sc, key, out, e);
    char *buf = rhei__malloc(RHEI__SC_KV_MAX);
    if (!buf)
        return rhei__err_nomem(e);
    int rc = sc->vt->get_kv(sc->olap, key, buf, RHEI__SC_KV_MAX, e);
    if (rc == RHEI_OK) {
        rhei__buf_puts(out, buf);
        rc = rhei__buf_check(out, e);
    }
    rhei__free(buf);
    return rc;
}

int rhei__sc_pos_store(rhei__sidecar *sc, sc_table *t, const rhei__sc_pos *p, rhei__err *e)
{
    rhei__buf b = RHEI__BUF_INIT;
    int rc = rhei__sc_pos_encode(p, &b, e);
    if (rc == RHEI_OK)
        rc = rhei__sc_kv_set(sc, t->kv_wm, rhei__buf_str(&b), e);
    rhei__buf_free(&b);
    return rc;
}
