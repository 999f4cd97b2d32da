/* cdc.h — change capture in SQLite. Triggers installed on each registered table write one
 * typed row per change into _rhei_log inside the writing transaction (so a commit and its
 * change records are one atomic unit, whichever process wrote). A catalog keeps every
 * version of every registered table; schema changes are events in the same log.
 *
 * Log layout: _rhei_log(seq INTEGER PRIMARY KEY, tid, op, ts, c0, c1, ...): seq is the
 * position (monotonic: pruning always keeps the newest row, so SQLite's max(rowid)+1
 * never goes back), tid the table version, ts microseconds since the epoch (statement time,
 * millisecond resolution), c<i> the i-th column's value of that version (DELETE: key
 * columns only). Columns have no declared type, so values keep their storage class. */
#ifndef RHEI_CDC_H
#define RHEI_CDC_H
#include "batch.h"
#include "err.h"
#include "oltp.h"
#include "schema.h"

enum rhei__cdc_event {
    RHEI__EV_INSERT = 1,
    RHEI__EV_UPDATE = 2,
    RHEI__EV_DELETE = 3,
    RHEI__EV_PREINSERT = 4, /* key about to be inserted already exists (REPLACE, IGNORE or
                               upsert follow): a deletion only if an INSERT of it follows */
    RHEI__EV_REGISTER = 10, /* table version tid became replicated: copy it */
    RHEI__EV_DROP = 11,     /* table unregistered */
    RHEI__EV_ALTER = 12,    /* table moved to version tid */
    RHEI__EV_RESYNC = 13    /* copy the table again (initial_sync) */
};

/* Every version of every registered table, as of one read. */
typedef struct rhei__catalog {
    rhei__table **versions; /* ascending tid */
    unsigned char *active;  /* active[i]: versions[i]'s table is still registered */
    size_t n, cap, acap;
    int64_t max_tid;
} rhei__catalog;

/* Creates the log, catalog and state tables if missing (writer connection). */
int rhei__cdc_install(rhei__conn *w, rhei__err *e);

void rhei__catalog_free(rhei__catalog *c);
/* Loads the catalog in the connection's current transaction/snapshot. */
int rhei__catalog_load(rhei__conn *c, rhei__catalog *out, rhei__err *e);
const rhei__table *rhei__catalog_find(const rhei__catalog *c, int64_t tid);
/* The active (registered) version of a table, or NULL. */
const rhei__table *rhei__catalog_active(const rhei__catalog *c, const char *name);
int rhei__catalog_max_tid(rhei__conn *c, int64_t *out, rhei__err *e);
/* Names of active tables; *out is an array of borrowed pointers freed with rhei__free. */
int rhei__catalog_active_list(const rhei__catalog *c, const rhei__table ***out, size_t *n,
                              rhei__err *e);

/* Registration and schema evolution; each runs in one write transaction on w that also
 * appends the matching schema event. cols/pk may be NULL (inferred from SQLite).
 * plan_register checks every rule (names, columns, key, clashes; see rhei.h) in c's view
 * and gives the version registering would create, or NULL when the table is registered with
 * that shape already; register then refuses with RHEI_BUSY unless it still builds a version
 * of expect's shape (the OLAP side was tried with it), and gives the new tid (0: no-op). */
int rhei__cdc_plan_register(rhei__conn *c, const char *table, const rhei_column *cols,
                            size_t ncols, const char *const *pk, size_t npk, rhei__table **out,
                            rhei__err *e);
int rhei__cdc_register(rhei__conn *w, const char *table, const rhei_column *cols, size_t ncols,
                       const char *const *pk, size_t npk, const rhei__table *expect,
                       int64_t *out_tid, rhei__err *e);
/* Unregisters table (only if its active version is only_tid, when non-zero). With stmt (a
 * caller's DROP TABLE) the statement runs in the same transaction, whether or not the table
 * is registered; *out_replicated (may be NULL) tells whether it was. */
int rhei__cdc_unregister(rhei__conn *w, const char *table, int64_t only_tid, const char *stmt,
                         int *out_replicated, rhei__err *e);
/* Schema changes. decl is checked against the declared-type grammar (names.h). With stmt (a
 * caller's own ALTER TABLE, through rhei_execute) that statement is the SQLite ALTER, and on
 * a table that is not replicated (or detached) it just runs: *out_replicated says which. */
int rhei__cdc_add_column(rhei__conn *w, const char *table, const char *column,
                         const char *decl, const char *stmt, int *out_replicated, rhei__err *e);
int rhei__cdc_drop_column(rhei__conn *w, const char *table, const char *column,
                          const char *stmt, int *out_replicated, rhei__err *e);
int rhei__cdc_resync(rhei__conn *w, const char *table, rhei__err *e);

/* Whether a registered version still matches SQLite's schema: why gets "" or the cause
 * (table gone, capture triggers gone, a replicated column gone). */
int rhei__cdc_table_health(rhei__conn *c, const rhei__table *t, char *why, size_t size,
                           rhei__err *e);
/* SQLite's schema cookie: changes with every DDL, from any process. */
int rhei__cdc_schema_version(rhei__conn *c, int64_t *out, rhei__err *e);

/* Log positions. head: last committed; 0 if the log was never written. */
int rhei__cdc_head(rhei__conn *c, int64_t *out, rhei__err *e);
/* Data events of table (any version) after position `after`. */
int rhei__cdc_pending(rhei__conn *c, const char *table, int64_t after, int64_t *out,
                      rhei__err *e);
/* Time (us) of the oldest event after `after`, or 0 if none. */
int rhei__cdc_oldest_ts(rhei__conn *c, int64_t after, int64_t *out, rhei__err *e);
/* Consumers: every engine syncing from this file records the position it has applied, so
 * pruning never deletes what another engine still needs. A consumer named after a durable
 * OLAP store is kept while absent (it resumes later); a volatile one ("mem:...") is dropped
 * on close, or when its process is gone. */
int rhei__cdc_consumer_set(rhei__conn *w, const char *name, int64_t applied, rhei__err *e);
int rhei__cdc_consumer_drop(rhei__conn *w, const char *name, rhei__err *e);
/* Records `name`'s applied position, then deletes at most max_rows events at or below the
 * smallest position of all live consumers (oldest first, keeping the newest row), in one
 * transaction, and records pruned_upto. *out_more is 1 while more remain to delete: callers
 * release the writer between calls so writes never wait behind a large prune. */
int rhei__cdc_prune(rhei__conn *w, const char *name, int64_t applied, int64_t max_rows,
                    int *out_more, rhei__err *e);
int rhei__cdc_pruned_upto(rhei__conn *c, int64_t *out, rhei__err *e);

/* --- reading the log (sync side) --------------------------------------------------------- */

typedef struct rhei__cdc_event_row {
    int64_t seq, tid, ts;
    int op;
} rhei__cdc_event_row;

typedef struct rhei__cdc_cursor rhei__cdc_cursor;

/* Opens a cursor over events in (after, upto] on reader connection c, which must already be
 * inside a read transaction (the snapshot the caller copies tables from, too). */
int rhei__cdc_cursor_open(rhei__conn *c, int64_t after, int64_t upto, rhei__cdc_cursor **out,
                          rhei__err *e);
/* Next event; returns 1 with *ev filled, 0 at the end, or a negative rhei code negated. */
int rhei__cdc_cursor_next(rhei__cdc_cursor *cur, rhei__cdc_event_row *ev, rhei__err *e);
/* Decodes the current data event's values for version t into row (canonical per column
 * type, bytes copied into b's arena). RHEI_TYPE names table, column and position. */
int rhei__cdc_cursor_values(rhei__cdc_cursor *cur, const rhei__table *t, rhei__batch *b,
                            rhei_value *row, rhei__err *e);
void rhei__cdc_cursor_close(rhei__cdc_cursor *cur);

/* Copies a table's current rows (in c's snapshot) into batches of at most `chunk` rows,
 * calling fn for each full batch and at the end. */
typedef int (*rhei__cdc_copy_fn)(void *ud, rhei__batch *b, rhei__err *e);
int rhei__cdc_copy_table(rhei__conn *c, const rhei__table *t, size_t chunk, rhei__cdc_copy_fn fn,
                         void *ud, rhei__err *e);

/* The value SQLite gives existing rows for a column added with a constant DEFAULT, decoded
 * for the column (bytes in b); out->type is RHEI_TYPE_NULL when there is no default. */
int rhei__cdc_column_default(rhei__conn *c, const rhei__table *t, size_t col, rhei__batch *b,
                             rhei_value *out, rhei__err *e);

#endif
