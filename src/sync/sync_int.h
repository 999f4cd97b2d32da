/* sync_int.h — the sync's private state, shared by its cycle (sync.c) and its background
 * loop (loop.c). Locks: mu serialises cycles and guards everything below it; stat_mu
 * guards the counters read by status; the background thread is a core helper (bg.h). */
#ifndef RHEI_SYNC_INT_H
#define RHEI_SYNC_INT_H
#include "bg.h"
#include "clock.h"
#include "sync.h"
#include <pthread.h>
#include <stdatomic.h>

typedef struct tstate {
    char *name;        /* table name as registered */
    int64_t tid;       /* version the OLAP side holds */
    int64_t skip_upto; /* events up to here were covered by a snapshot copy */
    rhei__batch batch; /* pending events of this cycle */
    rhei__batch pre;   /* a pre-insert mark waiting for the event after it (0 or 1 row) */
    int failed;        /* in s->fails: its events are not applied (see fail.c) */
    int detached;      /* changed by DDL outside rhei: events skipped (detach.c) */
} tstate;

/* A table whose changes cannot be applied (fail.c): the other tables go on; its events after
 * `from` stay unapplied and in the log until rhei_resync_table copies it again. */
typedef struct rhei__sync_fail {
    char *name;
    int64_t from;    /* its events after this position are not applied */
    int64_t tried;   /* its copy events up to here failed already: not retried */
    int code;
    char msg[256];
    int cleared;     /* copied again (or dropped) by the running cycle: gone once it commits */
} rhei__sync_fail;

/* A registered table detached by DDL outside rhei, and why (detach.c). */
typedef struct rhei__detached {
    char *name;
    char why[256];
} rhei__detached;

/* The applier thread (applier.c): mu/cv guard busy, stop, rc, err and st; b[0..n) belong to
 * the thread while busy, to the cycle otherwise. */
typedef struct rhei__applier {
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int busy, stop;
    rhei__batch *b;
    size_t n, cap;
    int rc;
    rhei__err err;
    const char *blame; /* the table whose batch failed (a catalog name), with rc */
    rhei__apply_stats st;
} rhei__applier;

struct rhei__sync {
    rhei__oltp *oltp;
    const rhei__olap_vtab *vt;
    rhei__olap *olap;
    rhei__sync_opts opts;
    char *consumer;   /* owned copy of opts.consumer */

    pthread_mutex_t mu;
    rhei__catalog cat;
    tstate *tables;
    size_t ntables, tcap;
    int64_t applied;  /* position applied and committed in OLAP */
    int64_t last_ts;  /* largest event time applied */
    int dirty;        /* OLAP written since the last maintain() */
    rhei__sync_fail *fails; /* failed tables; changed under mu and stat_mu, read under either */
    size_t nfails, failcap;
    int fails_dirty;  /* fails differ from what OLAP stores */
    rhei__applier ap; /* applies full batch sets while the cycle reads on */

    /* detach.c: the schema cookie and catalog version the list was computed at; the list
     * is written under mu and stat_mu, read under either. */
    int64_t cookie, cookie_tid;
    int cookie_seen;
    rhei__detached *det;
    size_t ndet;
    /* Bumped whenever the failed or the detached set changes: the engine's router re-reads
     * which tables DuckDB may serve at once, not a second later. */
    _Atomic uint64_t behind_gen;

    pthread_mutex_t stat_mu;
    int64_t cycles, events_total, last_cycle_us;
    rhei_metrics m;        /* applied_*, batches, cycle_failures, cycle_seconds (metrics.c) */
    int64_t applied_pub;   /* copy of applied, readable without waiting for a cycle */
    int64_t last_maintain_us;
    int last_error_code;
    char last_error[256];

    /* The pruner thread deletes applied log rows off the cycle's path (prune.c). prune_mu
     * guards the fields after it. */
    rhei__bg pruner;
    pthread_mutex_t prune_mu;
    int pruner_stopped;    /* no request starts it again (the engine is closing) */
    int64_t prune_target;  /* applied position to prune up to */
    int64_t pruned;        /* position the log was last pruned to */
    int64_t last_prune_us;

    rhei__bg loop;               /* the background sync thread (loop.c) */
    _Atomic int64_t interval_ms; /* its period; re-timed by rhei__sync_start */
    int64_t backoff_ms;          /* its wait after failed cycles (loop thread only) */
};

/* Counts one cycle into s->m (metrics.c); the caller holds stat_mu. */
void rhei__sync_metrics_record(rhei__sync *s, const rhei_sync_stats *st, int rc);
void rhei__sync_clear_states(rhei__sync *s);
void rhei__applier_init(rhei__sync *s);
void rhei__applier_free(rhei__sync *s);
/* Hands every table's batch to the applier; the caller has waited (it is idle). */
int rhei__applier_submit(rhei__sync *s, rhei__err *e);
/* Waits for the running job; its error, if any, and adds its counts to acc (may be NULL). */
int rhei__applier_wait(rhei__sync *s, rhei_sync_stats *acc, rhei__err *e);
/* Before the catalog the idle applier's batches borrowed from is freed. */
void rhei__applier_detach(rhei__sync *s);
int rhei__sync_load_table_cb(void *ud, const char *name, int64_t tid);
int rhei__sync_reload_catalog(rhei__sync *s, rhei__conn *reader, rhei__err *e);
/* Asks the pruner to delete log rows up to applied (batched: 4,096 events or 1 s). */
void rhei__sync_prune_request(rhei__sync *s, int64_t applied);
void rhei__sync_pruner_stop(rhei__sync *s);
/* --- fail.c: per-table fault isolation --- */
/* Errors a table's own data can cause (a value, a DuckDB limit) make that table failed;
 * others (memory, disk, locks) fail the cycle as a whole. */
int rhei__sync_blamable(int code);
rhei__sync_fail *rhei__sync_fail_find(rhei__sync *s, const char *name);
/* Marks name failed (or updates its cause), tstate flag included. */
int rhei__sync_fail_add(rhei__sync *s, const char *name, int64_t from, int64_t tried,
                        const rhei__err *cause, rhei__err *e);
void rhei__sync_fail_remove(rhei__sync *s, const char *name);
/* Sets every tstate's failed flag from s->fails (after the states were reloaded). */
void rhei__sync_fail_flags(rhei__sync *s);
/* The lowest position the log must keep for this engine: applied, or below a failed
 * table's first unapplied event. */
int64_t rhei__sync_floor(rhei__sync *s);
/* Stores / loads the failed set in OLAP (inside the write transaction / on open). */
int rhei__sync_fails_store(rhei__sync *s, rhei__err *e);
int rhei__sync_fails_load(rhei__sync *s, rhei__err *e);
void rhei__sync_fails_free(rhei__sync *s);

/* Prepares the backend's apply statements of every replicated table (after DDL). */
void rhei__sync_warm_up(rhei__sync *s);
int rhei__sync_copy_table(rhei__sync *s, rhei__conn *reader, const rhei__table *t,
                          int64_t ts, int64_t covered, rhei__err *e);
/* detach.c */
int rhei__sync_check_schema(rhei__sync *s, rhei__conn *reader, rhei__err *e);
int rhei__sync_is_detached(rhei__sync *s, const char *name);
void rhei__sync_mark_detached(rhei__sync *s);
void rhei__sync_detached_free(rhei__sync *s);
#endif
