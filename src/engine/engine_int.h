/* engine_int.h — the facade's state behind rhei_db, shared by the files of src/engine/.
 * Thread-safety: every field is either set once at open, owned by a module with its own
 * locks (oltp, olap, sync), or guarded by names_mu. */
#ifndef RHEI_ENGINE_INT_H
#define RHEI_ENGINE_INT_H
#include "clock.h"
#include "config.h"
#include "olap.h"
#include "oltp.h"
#include "route.h"
#include "sidecar.h"
#include "sync.h"
#include <pthread.h>

#define RHEI__RCACHE_SETS 128
#define RHEI__RCACHE_WAYS 4

struct rhei_db {
    rhei_config *cfg;
    rhei__oltp *oltp;
    const rhei__olap_vtab *vt;
    rhei__olap *olap;
    rhei__sync *sync;
    int history;
    rhei__sidecar *sidecar;    /* NULL unless sidecar.source is set */
    int sidecar_only;          /* pure sidecar: no local writes */

    pthread_mutex_t names_mu;  /* guards the replicated-table list the router reads */
    char **names;              /* replicated tables, then those whose OLAP copy is behind */
    size_t nnames;             /* replicated: the ones the router sends to OLAP */
    size_t ndetached;          /* behind: failed or detached (SQLite serves them) */
    uint64_t names_behind_gen; /* rhei__sync_behind_gen when the list was read */
    int64_t names_at_us;       /* when the list was read; refreshed at most once a second */
    int64_t names_cookie;      /* SQLite's schema cookie then: DDL (an index) changes plans */

    /* Routing decisions per SQL text (RHEI__RCACHE_SETS sets of RHEI__RCACHE_WAYS entries,
     * the oldest of a set replaced; invalidated when the table list changes, and re-made
     * after RHEI__ROUTE_CACHE_TTL_US so costs follow table growth): a point read's
     * tokenizing costs as much as its SQLite lookup, and an application has hundreds of
     * statement texts (64 direct-mapped slots put 8 pairs of the route bench's 34 shapes in
     * one slot each: every switch between a pair re-planned it). */
    pthread_mutex_t rcache_mu;
    struct rhei__rcache {
        char *sql;
        uint64_t hash, gen;
        int64_t at_us;     /* when it was classified */
        int64_t budget_us; /* SQLite's budget for an index-served read; 0: not known yet */
        int overs;         /* its runs past the budget in a row (query.c, route_probed) */
        int is_write;
        rhei_route_info info;
    } rcache[RHEI__RCACHE_SETS * RHEI__RCACHE_WAYS];
    uint64_t names_gen; /* bumped when a refresh finds the list or the schema changed */

    pthread_mutex_t count_mu;
    int64_t routed_oltp, routed_olap, fallbacks;
    int64_t rcache_hits, rcache_misses; /* under rcache_mu */

    uint64_t serial;           /* unique per handle, never reused: keys rhei_errmsg's slots */
    rhei_metrics qm;           /* queries by side and reason, latency (metrics.c; count_mu) */
};

/* Counts one served query into db->qm (metrics.c); the caller holds count_mu. */
void rhei__metrics_query_locked(rhei_db *db, rhei_side side, const char *reason, int64_t us);

/* query.c, shared with query_arrow.c. plan checks a read's arguments (`what` names the call
 * in messages) and decides its side: the hint, the router, or SQLite inside the caller's open
 * transaction (*o gets the options with defaults). fallback: 1 when an auto-routed OLAP
 * failure with code rc is answered by SQLite instead (ri then says so). oltp runs a read on
 * SQLite in the one value model, reading at most max_rows rows (< 0: all). shape is SQLite's
 * description of sql (names, declared types; NULL when SQLite cannot compile it), freed by the
 * caller. count records a served query started at t0 (us). */
int rhei__query_plan(rhei_db *db, const char *what, const char *sql, const rhei_value *params,
                     size_t nparams, const rhei_query_opts *opts, rhei_query_opts *o,
                     rhei_route_info *ri, rhei__err *e);
/* Whether a failed OLAP read rc is answered by SQLite instead (ri becomes the fallback
 * route): the router allows it and SQLite compiles sql. */
int rhei__query_fallback(rhei_db *db, const char *sql, int rc, const rhei_query_opts *o,
                         rhei_route_info *ri);
/* Serves a planned read on its side, shared by rhei_query_ex and rhei_query_arrow_ex. An
 * index-served read runs on SQLite within its budget; past it, or when routed there, DuckDB
 * answers through olap (which fills the caller's output through ud; RHEI_STRONG waits for
 * the sync first) and may fall back to SQLite; SQLite's answer lands in *oltp, unconformed
 * (caller frees). ri->side says which side answered in the end; cancel (NULL: none) stops
 * either side's read with RHEI_INTERRUPTED. */
typedef int (*rhei__query_olap_fn)(rhei_db *db, const char *sql, const rhei_value *params,
                                   size_t nparams, rhei_cancel *cancel, void *ud, rhei__err *e);
int rhei__query_serve(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                      const rhei_query_opts *o, rhei_cancel *cancel, rhei__query_olap_fn olap,
                      void *ud, rhei_route_info *ri, rhei_result **oltp, int *fallback,
                      rhei__err *e);
int rhei__query_oltp(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                     int64_t max_rows, rhei_cancel *cancel, rhei_result **out, rhei__err *e);
rhei_result *rhei__query_shape(rhei_db *db, const char *sql);
/* The text DuckDB runs for sql (rhei__route_olap_text): *owned gets a new text the caller
 * frees with rhei__free, or NULL to run sql itself. */
int rhei__query_olap_text(const char *sql, char **owned, rhei__err *e);
void rhei__query_count(rhei_db *db, rhei_side side, int fallback, const char *reason,
                       int64_t t0);

/* Records e as this thread's last error on db and returns its code. */
int rhei__engine_fail(const rhei_db *db, rhei__err *e);
/* errmsg.c: gives db its serial at open (RHEI_NOMEM), retires it at close. */
int rhei__errmsg_register(rhei_db *db);
void rhei__errmsg_unregister(rhei_db *db);
/* RHEI_MISUSE (in e, naming `what`) unless params/n are bindable: params non-NULL when
 * n > 0, every type a rhei_type, TEXT/BLOB/DECIMAL bytes non-NULL when their length > 0. */
int rhei__engine_check_params(const char *what, const rhei_value *params, size_t n,
                              rhei__err *e);
/* Sidecar mode (sidecar.c): starts it when configured; refuses local writes when pure. */
int rhei__engine_sidecar_open(rhei_db *db, rhei__err *e);
int rhei__engine_refuse_pure_sidecar(const rhei_db *db, const char *what);
/* DDL through rhei_execute (ddl.c): *handled = 1 when sql holds an ALTER or DROP of a
 * replicated table, which was then run here (result returned); 0 = run sql as usual. When
 * handled, *out_rowid (may be NULL) gets the writer's last insert rowid as the caller's
 * statements left it (the DDL's own bookkeeping rows are the engine's, not counted). */
int rhei__engine_ddl(rhei_db *db, const char *sql, const rhei_value *params, size_t nparams,
                     int64_t *out_changes, int64_t *out_rowid, rhei__err *e, int *handled);
/* RHEI_MISUSE when one statement of a batch would change a replicated table. */
int rhei__engine_ddl_in_batch(rhei_db *db, const char *sql, rhei__err *e);
/* Applies everything committed so far to OLAP (replicate.c). */
int rhei__engine_catch_up(rhei_db *db, rhei__err *e);
/* Re-reads the replicated-table list now. */
int rhei__engine_refresh_names(rhei_db *db, rhei__err *e);
/* utf8.c: RHEI_MISUSE if the SQL text, RHEI_TYPE if a TEXT parameter, is not UTF-8. */
int rhei__engine_check_text(const char *sql, const rhei_value *params, size_t nparams,
                            rhei__err *e);
#endif
