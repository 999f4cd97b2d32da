/* sync.h — turning the change log into OLAP writes. A cycle reads, in one SQLite snapshot,
 * every event committed after the applied position, applies them in log order inside one
 * OLAP transaction and stores the new position in that same transaction (exactly once).
 * Thread-safe: cycles are serialised by the sync's own lock; the background loop is one
 * thread owned by the sync. */
#ifndef RHEI_SYNC_H
#define RHEI_SYNC_H
#include "cdc.h"
#include "olap.h"
#include "oltp.h"

typedef struct rhei__sync rhei__sync;

typedef struct rhei__sync_opts {
    int history;       /* SCD Type 2 instead of mirror */
    size_t batch_size; /* events buffered before they are handed to the backend */
    int olap_volatile; /* in-memory OLAP: always rebuilt from SQLite on open */
    const char *consumer; /* this engine's name among the log's consumers (copied) */
} rhei__sync_opts;

int rhei__sync_new(rhei__oltp *oltp, const rhei__olap_vtab *vt, rhei__olap *olap,
                   const rhei__sync_opts *opts, rhei__sync **out, rhei__err *e);
/* Stops the background loop if running, then frees. */
void rhei__sync_free(rhei__sync *s);
/* Leaves the log's consumers (volatile store) or records the final position (durable). */
int rhei__sync_detach(rhei__sync *s, rhei__err *e);

/* Brings OLAP to a consistent start: resumes a durable store from its position, or
 * rebuilds every table from SQLite (volatile store, pruned-away gap, or a store that is
 * ahead of this SQLite file). */
int rhei__sync_recover(rhei__sync *s, rhei__err *e);
/* One cycle; out may be NULL. */
int rhei__sync_cycle(rhei__sync *s, rhei_sync_stats *out, rhei__err *e);
/* Cycles until the applied position reaches target (read-your-writes). */
int rhei__sync_until(rhei__sync *s, int64_t target, rhei_sync_stats *out, rhei__err *e);
/* Reads the log's head, then cycles until it is applied: everything committed before the
 * call (read-your-writes, rhei_sync_now, close). */
int rhei__sync_catch_up(rhei__sync *s, rhei_sync_stats *out, rhei__err *e);
int64_t rhei__sync_applied(rhei__sync *s);
/* The last published applied position, without waiting for a running cycle. */
int64_t rhei__sync_applied_now(rhei__sync *s);
void rhei__sync_status(rhei__sync *s, rhei_sync_status *out);
/* The failure of one table (fail.c): state RHEI_TABLE_FAILED, or all zero. */
void rhei__sync_table_status(rhei__sync *s, const char *table, rhei_table_status *out);
/* Number of failed tables; the first one's name and state go to name/out when there is one. */
size_t rhei__sync_first_failed(rhei__sync *s, char *name, size_t size, rhei_table_status *out);
/* The sync's part of rhei_metrics: applied_*, batches, cycle_failures, cycle_seconds and
 * pruned_position (metrics.c); other fields are left as they are. */
void rhei__sync_metrics(rhei__sync *s, rhei_metrics *out);

/* Test knobs (process-wide): prune after every applied cycle instead of in batches; how
 * many prune attempts ran, and how many found the writer taken (busy, retried later). */
extern _Atomic int rhei__sync_test_prune_always;
extern _Atomic long rhei__sync_prune_attempts, rhei__sync_prune_busy;

/* Tables detached by DDL outside rhei (detach.c): re-checks SQLite's schema now; and
 * whether name is detached, with the cause copied into why (may be NULL). */
int rhei__sync_check_schema_now(rhei__sync *s, rhei__err *e);
int rhei__sync_detached(rhei__sync *s, const char *name, char *why, size_t size);
/* Whether name's OLAP copy is behind SQLite for good (failed or detached: only SQLite has
 * its current rows), and a number that changes whenever that can have changed for any
 * table (0 without a sync). */
int rhei__sync_behind(rhei__sync *s, const char *name);
uint64_t rhei__sync_behind_gen(rhei__sync *s);

int rhei__sync_start(rhei__sync *s, int64_t interval_ms, rhei__err *e);
void rhei__sync_stop(rhei__sync *s);
#endif
