/* query.c — routed reads: the router picks a side (or a hint does), `strong` reads first
 * apply every commit made before the call, and an auto-routed query DuckDB cannot run
 * (SQLite-only syntax or functions) is served by SQLite instead, saying so. */
#include "cancel.h"
#include "engine_int.h"
#include "conform.h"
#include "mem.h"
#include "result.h"
#include "schema.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAMES_TTL_US 1000000 /* other processes may register tables: re-read this often */
/* A cached route is made again after this long: its cost rules read table sizes and plans,
 * which change as tables grow. */
#define RHEI__ROUTE_CACHE_TTL_US 10000000

typedef struct route_ud {
    rhei_db *db;
    const char *sql;
} route_ud;

static int sqlite_compiles(void *ud)
{
    route_ud *u = ud;
    sqlite3_stmt *st = NULL;
    rhei__err ignored;
    rhei__conn *c = rhei__oltp_reader(u->db->oltp);
    int ok = rhei__conn_prepare(c, u->sql, &st, &ignored) == RHEI_OK;
    rhei__oltp_reader_release(u->db->oltp, c);
    return ok;
}

/* Whether SQLite compiles sql (a reader's cached prepare): DuckDB-only text has no SQLite
 * answer to fall back to, so DuckDB's own answer or error stands. */
static int sqlite_compiles_text(rhei_db *db, const char *sql)
{
    route_ud u = {db, sql};
    return sqlite_compiles(&u);
}

/* Where table lives, for the router: a replicated table (or one whose OLAP copy is behind),
 * its SCD2 history storage "<name>_history" and a sidecar's tables (both only in OLAP), or
 * only SQLite. */
static int table_kind(void *ud, const char *table, size_t len)
{
    route_ud *u = ud;
    rhei_db *db = u->db;
    int hit = RHEI__ROUTE_TABLE_LOCAL;
    pthread_mutex_lock(&db->names_mu);
    for (size_t i = 0; i < db->nnames + db->ndetached && !hit; i++) {
        const char *n = db->names[i];
        size_t nl = strlen(n);
        if (nl == len && strncasecmp(n, table, len) == 0)
            hit = i < db->nnames ? RHEI__ROUTE_TABLE_REPLICATED : RHEI__ROUTE_TABLE_BEHIND;
        else if (db->history && len == nl + 8 && strncasecmp(n, table, nl) == 0 &&
                 strncasecmp(table + nl, "_history", 8) == 0)
            hit = RHEI__ROUTE_TABLE_OLAP_ONLY;
    }
    pthread_mutex_unlock(&db->names_mu);
    if (!hit && db->sidecar) { /* followed tables exist only in OLAP */
        char name[160];
        snprintf(name, sizeof name, "%.*s", (int)len, table);
        size_t n = strlen(name);
        if (db->history && n > 8 && strcasecmp(name + n - 8, "_history") == 0)
            name[n - 8] = '\0';
        if (rhei__sidecar_follows(db->sidecar, name))
            hit = RHEI__ROUTE_TABLE_OLAP_ONLY;
    }
    return hit;
}

static int plan(void *ud, rhei__route_plan *out)
{
    route_ud *u = ud;
    rhei__plan p;
    rhei__conn *c = rhei__oltp_reader(u->db->oltp);
    int rc = rhei__conn_plan(c, u->sql, RHEI__PLAN_SCAN_ROWS, &p);
    rhei__oltp_reader_release(u->db->oltp, c);
    out->scan_rows = p.scan_rows;
    out->sorts = p.sorts;
    out->distinct_indexed = p.distinct_indexed;
    return rc;
}

/* SQLite's declared type of column `name` of table, or 0 if it has none by that name. */
static int declared_type(rhei__conn *c, const char *table, const char *name, rhei_type *t)
{
    rhei_value p[2] = {{.type = RHEI_TYPE_TEXT, .s = table, .n = strlen(table)},
                       {.type = RHEI_TYPE_TEXT, .s = name, .n = strlen(name)}};
    rhei_result *r = NULL;
    rhei__err ignored;
    int found = 0, pr, sc;
    if (rhei__conn_query(c,
                         "SELECT type FROM pragma_table_info(?1) WHERE name = ?2"
                         " COLLATE NOCASE",
                         p, 2, &r, &ignored) == RHEI_OK &&
        rhei_result_row_count(r) > 0) {
        rhei__type_from_decl(rhei_result_text(r, 0, 0, NULL), t, &pr, &sc);
        found = 1;
    }
    rhei_result_free(r);
    return found;
}

/* The rhei types (RHEI__TBIT bits) that the replicated tables declare for columns named
 * `name` (len bytes, maybe quoted); every bit when that cannot be told (out of memory), so
 * a caller's rule stays on the side that is always right. */
static unsigned column_types(rhei_db *db, const char *name, size_t len)
{
    char col[128];
    if (len >= 2 && strchr("\"`[", name[0])) { /* a quoted name: its text */
        name++;
        len -= 2;
    }
    if (len >= sizeof col)
        return ~0u;
    memcpy(col, name, len);
    col[len] = '\0';
    unsigned types = 0;
    rhei__conn *c = rhei__oltp_reader(db->oltp);
    pthread_mutex_lock(&db->names_mu);
    size_t n = db->nnames;
    char **names = rhei__calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; names && i < n; i++)
        names[i] = rhei__strdup(db->names[i]);
    pthread_mutex_unlock(&db->names_mu);
    for (size_t i = 0; names && i < n; i++) {
        rhei_type t;
        if (!names[i])
            types = ~0u;
        else if (declared_type(c, names[i], col, &t))
            types |= RHEI__TBIT(t);
    }
    rhei__oltp_reader_release(db->oltp, c);
    for (size_t i = 0; names && i < n; i++)
        rhei__free(names[i]);
    if (!names)
        types = ~0u;
    rhei__free(names);
    return types;
}

static int numeric_column(void *ud, const char *name, size_t len)
{
    route_ud *u = ud;
    return (column_types(u->db, name, len) &
            (RHEI__TBIT(RHEI_TYPE_DECIMAL) | RHEI__TBIT(RHEI_TYPE_BOOLEAN) |
             RHEI__TBIT(RHEI_TYPE_DATE) | RHEI__TBIT(RHEI_TYPE_TIMESTAMP))) != 0;
}

static int text_column(void *ud, const char *name, size_t len)
{
    route_ud *u = ud;
    return column_types(u->db, name, len) == RHEI__TBIT(RHEI_TYPE_TEXT);
}

/* Whether the table list must be read again before routing: it is older than NAMES_TTL_US
 * (other processes register tables), or a table's OLAP copy fell behind or caught up since
 * (that must reroute its reads now: DuckDB would answer with old rows). */
static int names_stale(rhei_db *db, int64_t now)
{
    uint64_t behind_gen = rhei__sync_behind_gen(db->sync);
    pthread_mutex_lock(&db->names_mu);
    int stale = now - db->names_at_us > NAMES_TTL_US || db->names_behind_gen != behind_gen;
    pthread_mutex_unlock(&db->names_mu);
    return stale;
}

/* Classifies sql (the router's one pass): returns 1 if it writes; out gets the auto route. */
static int route(rhei_db *db, const char *sql, rhei_route_info *out)
{
    if (names_stale(db, rhei__now_us())) {
        rhei__err ignored; /* routing on the old list is still safe: SQLite serves it */
        rhei__engine_refresh_names(db, &ignored);
    }
    route_ud ud = {db, sql};
    rhei__route_ctx ctx = {table_kind, &ud, sqlite_compiles, plan, numeric_column, text_column};
    return rhei__route_classify(sql, &ctx, out);
}

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The cache entry of sql (hash h), or NULL; rcache_mu held. */
static struct rhei__rcache *rcache_find(rhei_db *db, uint64_t h, const char *sql)
{
    struct rhei__rcache *set = &db->rcache[(h % RHEI__RCACHE_SETS) * RHEI__RCACHE_WAYS];
    for (int i = 0; i < RHEI__RCACHE_WAYS; i++)
        if (set[i].sql && set[i].hash == h && strcmp(set[i].sql, sql) == 0)
            return &set[i];
    return NULL;
}

/* The entry of h's set to fill: an empty one, else the one classified longest ago (an
 * entry in use is re-made after the TTL anyway, so age is as good as recency); rcache_mu
 * held. */
static struct rhei__rcache *rcache_victim(rhei_db *db, uint64_t h)
{
    struct rhei__rcache *set = &db->rcache[(h % RHEI__RCACHE_SETS) * RHEI__RCACHE_WAYS];
    struct rhei__rcache *v = &set[0];
    for (int i = 0; i < RHEI__RCACHE_WAYS && v->sql; i++)
        if (!set[i].sql || set[i].at_us < v->at_us)
            v = &set[i];
    return v;
}

/* The route of sql, from the cache when the same text was routed with the same table list
 * less than RHEI__ROUTE_CACHE_TTL_US ago. A list older than NAMES_TTL_US is read again
 * first; it invalidates the cache only if it changed. */
static void route_cached(rhei_db *db, const char *sql, int *is_write, rhei_route_info *out)
{
    uint64_t h = hash_sql(sql);
    int64_t now = rhei__now_us();
    rhei__err ignored; /* a failed refresh keeps the old list: routing on it is still safe */
    if (names_stale(db, now))
        rhei__engine_refresh_names(db, &ignored);
    pthread_mutex_lock(&db->names_mu);
    uint64_t gen = db->names_gen;
    pthread_mutex_unlock(&db->names_mu);
    pthread_mutex_lock(&db->rcache_mu);
    struct rhei__rcache *c = rcache_find(db, h, sql);
    int hit = c && c->gen == gen && now - c->at_us < RHEI__ROUTE_CACHE_TTL_US;
    if (hit) {
        *is_write = c->is_write;
        *out = c->info;
    }
    db->rcache_hits += hit;
    db->rcache_misses += !hit;
    pthread_mutex_unlock(&db->rcache_mu);
    if (hit)
        return;
    *is_write = route(db, sql, out);
    char *copy = strlen(sql) < 4096 ? rhei__strdup(sql) : NULL; /* long texts: not cached */
    pthread_mutex_lock(&db->rcache_mu);
    if (copy) {
        if (!(c = rcache_find(db, h, sql))) /* another thread may have cached it meanwhile */
            c = rcache_victim(db, h);
        rhei__free(c->sql);
        c->sql = copy;
        c->hash = h;
        c->gen = gen;
        c->at_us = now;
        c->budget_us = 0;
        c->overs = 0;
        c->is_write = *is_write;
        c->info = *out;
    }
    pthread_mutex_unlock(&db->rcache_mu);
}

/* Counts how a budgeted read of sql went on SQLite: served resets the count; the second run
 * past the budget in a row makes ri (DuckDB, "index range too wide") the text's route, so the
 * next runs go straight to the side that proved faster. One run is not enough: the first read
 * after an open faults its pages in (a fresh process's 1 ms EXISTS took over 5 ms once and
 * then went to a 34 ms DuckDB scan for the cache's 10 s). */
static void route_probed(rhei_db *db, const char *sql, int over, const rhei_route_info *ri)
{
    pthread_mutex_lock(&db->rcache_mu);
    struct rhei__rcache *c = rcache_find(db, hash_sql(sql), sql);
    if (c && !over)
        c->overs = 0;
    else if (c && ++c->overs >= 2)
        c->info = *ri;
    pthread_mutex_unlock(&db->rcache_mu);
}

int rhei_explain_route(rhei_db *db, const char *sql, rhei_route_info *out)
{
    if (!db || !sql || !out) {
        rhei__err e;
        rhei__err_set(&e, RHEI_MISUSE, "rhei_explain_route needs a handle, SQL and an output");
        return rhei__engine_fail(db, &e);
    }
    route(db, sql, out);
    return RHEI_OK;
}

static int strong_wait(rhei_db *db, rhei__err *e)
{
    return rhei__sync_catch_up(db->sync, NULL, e);
}

/* max_rows < 0: every row. */
static int run_oltp(rhei_db *db, const char *sql, const rhei_value *p, size_t n, int64_t max_rows,
                    rhei_cancel *cancel, rhei_result **out, rhei__err *e)
{
    int over;
    /* Inside its own open transaction a thread reads through the writer, so it sees its
     * uncommitted writes, as with one SQLite connection. */
    if (rhei__oltp_in_txn(db->oltp)) {
        rhei__conn *w = rhei__oltp_writer(db->oltp);
        int rc = rhei__conn_query_within(w, sql, p, n, max_rows, -1, cancel, &over, out, e);
        rhei__oltp_writer_release(db->oltp);
        return rc;
    }
    rhei__conn *c = rhei__oltp_reader(db->oltp);
    int rc = rhei__conn_query_within(c, sql, p, n, max_rows, -1, cancel, &over, out, e);
    rhei__oltp_reader_release(db->oltp, c);
    return rc;
}

/* SQLite's budget for an index-served read of sql: RHEI__ROUTE_PROBE_US, or more on large
 * tables, where DuckDB's scan of what the read reaches costs more too (~2 ns a row on this
 * class of machine, a floor: its joins and EXISTS cost far more). A fixed 5 ms moved a 4 ms
 * read of a 10M-row table, slowed by a busy machine, to a 900 ms DuckDB scan. A DISTINCT
 * SQLite answers from an index (code RHEI_ROUTE_INDEX_DISTINCT) races DuckDB's hash of every
 * row: 10 ms + 10 ns a row, under the 12-26 ns a row DuckDB's count(DISTINCT) of a text key
 * took here at 1M-10M rows. Kept with the cached route. */
static int64_t probe_budget(rhei_db *db, const char *sql, int32_t code)
{
    uint64_t h = hash_sql(sql);
    int64_t budget = 0;
    pthread_mutex_lock(&db->rcache_mu);
    struct rhei__rcache *c = rcache_find(db, h, sql);
    if (c)
        budget = c->budget_us;
    pthread_mutex_unlock(&db->rcache_mu);
    if (budget > 0)
        return budget;
    rhei__conn *rd = rhei__oltp_reader(db->oltp);
    int64_t rows = rhei__conn_reach_rows(rd, sql);
    rhei__oltp_reader_release(db->oltp, rd);
    if (code == RHEI_ROUTE_INDEX_DISTINCT)
        budget = 10000 + rows / 100;
    else
        budget = rows / 500 > RHEI__ROUTE_PROBE_US ? rows / 500 : RHEI__ROUTE_PROBE_US;
    pthread_mutex_lock(&db->rcache_mu);
    if ((c = rcache_find(db, h, sql)))
        c->budget_us = budget;
    pthread_mutex_unlock(&db->rcache_mu);
    return budget;
}

/* An index-served read on a reader within SQLite's budget (probe_budget). */
static int run_oltp_within(rhei_db *db, const char *sql, const rhei_value *p, size_t n,
                           int32_t code, rhei_cancel *cancel, int *over, rhei_result **out,
                           rhei__err *e)
{
    int64_t budget = probe_budget(db, sql, code);
    rhei__conn *c = rhei__oltp_reader(db->oltp);
    int rc = rhei__conn_query_within(c, sql, p, n, -1, budget, cancel, over, out, e);
    rhei__oltp_reader_release(db->oltp, c);
    return rc;
}

int rhei__query_olap_text(const char *sql, char **owned, rhei__err *e)
{
    if (rhei__route_olap_text(sql, owned) != RHEI_OK)
        return rhei__err_nomem(e);
    return RHEI_OK;
}

/* A read on DuckDB, as the router rewrites it for DuckDB (LIKE as SQLite's), into the
 * rhei_result * that ud points to. DuckDB's materialised read takes no cancel token. */
typedef struct olap_out {
    rhei_result **out;
    rhei_side hint;
    const rhei_route_info *ri; /* the route being served */
} olap_out;

static int run_olap(rhei_db *db, const char *sql, const rhei_value *p, size_t n,
                    rhei_cancel *cancel, void *ud, rhei__err *e)
{
    olap_out *o = ud;
    char *text = NULL;
    (void)cancel;
    int rc = rhei__query_olap_text(sql, &text, e);
    if (rc == RHEI_OK)
        rc = db->vt->query(db->olap, text ? text : sql, p, n, o->out, e);
    rhei__free(text);
    /* DuckDB's integers grow past 64 bits (sum of BIGINT is HUGEINT) where SQLite's fail
     * (sum: "integer overflow") or turn REAL (+, *): a routed read lets SQLite answer. */
    rhei_route_info would = *o->ri;
    if (rc == RHEI_OK && (*o->out)->wide_ints &&
        rhei__route_fallback(&would, o->hint, RHEI_RANGE) && sqlite_compiles_text(db, sql)) {
        rhei_result_free(*o->out);
        *o->out = NULL;
        rc = rhei__err_set(e, RHEI_RANGE, "an integer result beyond 64 bits");
    }
    return rc;
}

/* An OLAP result in the one value model: SQLite's names and declared types for the same
 * text (its prepare on a reader is cached there), cells converted to match. */
static int conform_olap(rhei_db *db, const char *sql, rhei_result *r, rhei__err *e)
{
    rhei_result *shape = rhei__query_shape(db, sql);
    int rc = rhei__conform(r, shape, e);
    rhei_result_free(shape);
    return rc;
}

static void count(rhei_db *db, rhei_side side, int fallback, const char *reason, int64_t t0)
{
    int64_t us = rhei__now_us() - t0;
    pthread_mutex_lock(&db->count_mu);
    rhei__metrics_query_locked(db, side, reason, us);
    if (side == RHEI_SIDE_OLAP)
        db->routed_olap++;
    else
        db->routed_oltp++;
    db->fallbacks += fallback;
    pthread_mutex_unlock(&db->count_mu);
}

int rhei__query_plan(rhei_db *db, const char *what, const char *sql, const rhei_value *params,
                     size_t nparams, const rhei_query_opts *opts, rhei_query_opts *o,
                     rhei_route_info *ri, rhei__err *e)
{
    if (!db || !sql)
        return rhei__err_set(e, RHEI_MISUSE, "%s needs a handle and SQL text", what);
    *o = opts ? *opts : (rhei_query_opts){RHEI_SIDE_AUTO, RHEI_EVENTUAL};
    if ((unsigned)o->hint > RHEI_SIDE_OLAP || (unsigned)o->consistency > RHEI_STRONG)
        return rhei__err_set(e, RHEI_MISUSE, "%s: hint %d or consistency %d is out of range",
                             what, (int)o->hint, (int)o->consistency);
    if (rhei__engine_check_params(what, params, nparams, e))
        return e->code;
    rhei_route_info auto_ri;
    int is_write = 0;
    route_cached(db, sql, &is_write, &auto_ri);
    if (is_write && auto_ri.code == RHEI_ROUTE_UNKNOWN_STATEMENT) {
        /* not a write the router knows, most likely a typo: SQLite's syntax error says so */
        sqlite3_stmt *st = NULL;
        rhei__conn *c = rhei__oltp_reader(db->oltp);
        int rc = rhei__conn_prepare(c, sql, &st, e);
        rhei__oltp_reader_release(db->oltp, c);
        if (rc)
            return rc;
    }
    if (is_write)
        return rhei__err_set(e, RHEI_MISUSE, "%s is read-only; run writes and DDL with"
                             " rhei_execute", what);
    rhei__route_decide(&auto_ri, o->hint, rhei__oltp_in_txn(db->oltp), ri);
    return RHEI_OK;
}

/* A read the router sends to SQLite within a budget (ri->code "index serves it" or "index
 * serves DISTINCT"): runs it there and sets *served, or, past the budget, turns ri into
 * "index range too wide" on OLAP (remembered with the cached route). Any other route:
 * nothing done. */
static int probe(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                 rhei_route_info *ri, rhei_cancel *cancel, rhei_result **out, int *served,
                 rhei__err *e)
{
    *served = 0;
    if (ri->code != RHEI_ROUTE_INDEX_SERVED && ri->code != RHEI_ROUTE_INDEX_DISTINCT)
        return RHEI_OK;
    int over = 0;
    int rc = run_oltp_within(db, sql, params, nparams, ri->code, cancel, &over, out, e);
    if (!over) {
        *served = 1;
        if (!rhei__cancel_fired(cancel)) /* a cancelled run says nothing of the range */
            route_probed(db, sql, 0, ri);
        return rc;
    }
    /* The index range is most of the table (or the DISTINCT has most of its rows): DuckDB
     * answers, and after a second such run answers the text from then on. */
    rhei__err_clear(e);
    rhei__route_over_budget(ri);
    route_probed(db, sql, 1, ri);
    return RHEI_OK;
}

int rhei__query_fallback(rhei_db *db, const char *sql, int rc, const rhei_query_opts *o,
                         rhei_route_info *ri)
{
    /* Data decides some failures, so no rule before running can (an INTEGER overflow SQLite
     * turns into REAL): the router says whether SQLite answers instead, and why. */
    rhei_route_info would = *ri;
    if (rc == RHEI_OK || !rhei__route_fallback(&would, o->hint, rc) ||
        !sqlite_compiles_text(db, sql))
        return 0;
    *ri = would;
    return 1;
}

/* A strong read waited for the sync before reading OLAP: a table it reads may have failed in
 * that wait (a cycle refused its newest changes; behind_gen moved since `before`, whoever
 * refreshed the list since). SQLite, which has the changes, answers then. */
static void reroute_after_wait(rhei_db *db, const char *sql, const rhei_query_opts *o,
                               uint64_t before, rhei_route_info *ri)
{
    if (o->hint != RHEI_SIDE_AUTO || rhei__sync_behind_gen(db->sync) == before)
        return;
    rhei_route_info auto_ri;
    int is_write = 0;
    route_cached(db, sql, &is_write, &auto_ri);
    if (!is_write && auto_ri.side == RHEI_SIDE_OLTP)
        rhei__route_decide(&auto_ri, o->hint, rhei__oltp_in_txn(db->oltp), ri);
}

int rhei__query_serve(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                      const rhei_query_opts *o, rhei_cancel *cancel, rhei__query_olap_fn olap,
                      void *ud, rhei_route_info *ri, rhei_result **oltp, int *fallback,
                      rhei__err *e)
{
    int served = 0;
    *oltp = NULL;
    *fallback = 0;
    if (rhei__cancel_fired(cancel))
        return rhei__err_set(e, RHEI_INTERRUPTED, "query cancelled");
    int rc = probe(db, sql, params, nparams, ri, cancel, oltp, &served, e);
    if (served)
        return rc;
    if (ri->side == RHEI_SIDE_OLAP && o->consistency == RHEI_STRONG) {
        uint64_t before = rhei__sync_behind_gen(db->sync);
        rc = rhei__sync_catch_up(db->sync, NULL, e);
        if (rc == RHEI_OK)
            reroute_after_wait(db, sql, o, before, ri);
    }
    if (ri->side == RHEI_SIDE_OLAP) {
        if (rc == RHEI_OK)
            rc = olap(db, sql, params, nparams, cancel, ud, e);
        if ((*fallback = rhei__query_fallback(db, sql, rc, o, ri)))
            rhei__err_clear(e);
    }
    if (ri->side == RHEI_SIDE_OLTP)
        rc = run_oltp(db, sql, params, nparams, -1, cancel, oltp, e);
    return rc;
}

int rhei__query_oltp(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                     int64_t max_rows, rhei_cancel *cancel, rhei_result **out, rhei__err *e)
{
    int rc = run_oltp(db, sql, params, nparams, max_rows, cancel, out, e);
    return rc ? rc : rhei__conform(*out, NULL, e);
}

rhei_result *rhei__query_shape(rhei_db *db, const char *sql)
{
    rhei_result *shape = NULL;
    rhei__err ignored; /* SQLite cannot compile DuckDB-only text: DuckDB's names stay */
    rhei__conn *c = rhei__oltp_reader(db->oltp);
    rhei__conn_describe(c, sql, &shape, &ignored);
    rhei__oltp_reader_release(db->oltp, c);
    return shape;
}

void rhei__query_count(rhei_db *db, rhei_side side, int fallback, const char *reason,
                       int64_t t0)
{
    count(db, side, fallback, reason, t0);
}

int rhei_query_ex(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                  const rhei_query_opts *opts, rhei_result **out)
{
    rhei__err e;
    rhei__err_clear(&e);
    if (!out)
        return RHEI_MISUSE;
    *out = NULL;
    int64_t t0 = rhei__now_us();
    rhei_query_opts o;
    rhei_route_info ri;
    int rc = rhei__query_plan(db, "rhei_query", sql, params, nparams, opts, &o, &ri, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    int fallback;
    rhei_result *olap = NULL, *oltp = NULL;
    olap_out oo = {&olap, o.hint, &ri};
    rc = rhei__query_serve(db, sql, params, nparams, &o, NULL, run_olap, &oo, &ri, &oltp, &fallback,
                           &e);
    *out = ri.side == RHEI_SIDE_OLAP ? olap : oltp;
    rhei_result_free(ri.side == RHEI_SIDE_OLAP ? oltp : olap);
    if (rc == RHEI_OK)
        rc = ri.side == RHEI_SIDE_OLAP ? conform_olap(db, sql, *out, &e)
                                       : rhei__conform(*out, NULL, &e);
    if (rc) {
        rhei_result_free(*out);
        *out = NULL;
        return rhei__engine_fail(db, &e);
    }
    (*out)->side = ri.side;
    (*out)->reason = ri.reason;
    count(db, ri.side, fallback, ri.reason, t0);
    return RHEI_OK;
}

int rhei_query(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
               rhei_result **out)
{
    return rhei_query_ex(db, sql, params, nparams, NULL, out);
}

int rhei_query_with_hint(rhei_db *db, const char *sql, rhei_side hint, rhei_result **out)
{
    rhei_query_opts o = {hint, RHEI_EVENTUAL};
    return rhei_query_ex(db, sql, NULL, 0, &o, out);
}

int rhei_query_as_of(rhei_db *db, const char *table, int64_t ts_us, rhei_result **out)
{
    rhei__err e;
    if (!out)
        return RHEI_MISUSE;
    *out = NULL;
    if (!db || !table)
        return rhei__err_set(&e, RHEI_MISUSE, "rhei_query_as_of needs a handle and a table"),
               rhei__engine_fail(db, &e);
    if (!db->history)
        return rhei__err_set(&e, RHEI_MISUSE, "point-in-time reads need sync_mode = history"),
               rhei__engine_fail(db, &e);
    if (ts_us > rhei__now_us()) {
        rhei__err_set(&e, RHEI_RANGE, "cannot read table '%s' as of a future moment", table);
        return rhei__engine_fail(db, &e);
    }
    int rc = RHEI_OK;
    int64_t wm = 0;
    if (db->sidecar && rhei__sidecar_watermark(db->sidecar, table, &wm) == RHEI_OK) {
        /* A followed table is complete only up to its watermark: later is unknown yet. */
        if (ts_us > wm) {
            rhei__err_set(&e, RHEI_RANGE, "cannot read table '%s' as of %lld: the sidecar has"
                          " applied its source only up to %lld", table, (long long)ts_us,
                          (long long)wm);
            return rhei__engine_fail(db, &e);
        }
    } else {
        /* Everything committed before now is applied first, so the answer is never stale. */
        rc = strong_wait(db, &e);
    }
    if (rc == RHEI_OK)
        rc = db->vt->query_as_of(db->olap, table, ts_us, out, &e);
    if (rc)
        return rhei__engine_fail(db, &e);
    (*out)->side = RHEI_SIDE_OLAP;
    (*out)->reason = rhei_route_reason_text(RHEI_ROUTE_POINT_IN_TIME);
    return RHEI_OK;
}

int rhei_route_stats_get(rhei_db *db, rhei_route_stats *out)
{
    if (!db || !out)
        return RHEI_MISUSE;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&db->count_mu);
    out->oltp = db->routed_oltp;
    out->olap = db->routed_olap;
    out->fallbacks = db->fallbacks;
    pthread_mutex_unlock(&db->count_mu);
    pthread_mutex_lock(&db->rcache_mu);
    out->cache_hits = db->rcache_hits;
    out->cache_misses = db->rcache_misses;
    pthread_mutex_unlock(&db->rcache_mu);
    return RHEI_OK;
}

void rhei_interrupt(rhei_db *db)
{
    if (!db)
        return;
    rhei__oltp_interrupt(db->oltp);
    db->vt->interrupt(db->olap);
}

void *rhei_oltp_handle(rhei_db *db) { return db ? rhei__oltp_raw(db->oltp) : NULL; }
void *rhei_olap_handle(rhei_db *db) { return db ? db->vt->raw_handle(db->olap) : NULL; }
const char *rhei_version(void) { return RHEI_VERSION; }
const char *rhei_sqlite_version(void) { return rhei__oltp_version(); }
const char *rhei_duckdb_version(void) { return rhei__olap_duckdb.version(); }
