/* sidecar.h — following external databases that Rhei does not own (a SQLite file opened
 * read-only, or PostgreSQL over libpq) by timestamp polling into the OLAP store, as a mirror
 * or as SCD Type 2 history queryable as of any applied moment. No triggers, no DDL at the
 * source: every table needs a primary key and an updated_at column the application keeps.
 *
 * Threads: rhei__sidecar is thread-safe. Cycles are serialised by the sidecar's own mutex;
 * OLAP write transactions are serialised by the backend's write lock (olap.h), so the
 * sidecar and the engine's sync can share one OLAP store. The background loop is one thread
 * owned by the sidecar. */
#ifndef RHEI_SIDECAR_H
#define RHEI_SIDECAR_H
#include "err.h"
#include "olap.h"
#include <stddef.h>
#include <stdint.h>

typedef enum { RHEI__SRC_SQLITE = 1, RHEI__SRC_POSTGRES = 2 } rhei__src_kind;

/* One followed table. Strings are borrowed for rhei__sidecar_new, which copies them. */
typedef struct rhei__sidecar_table_cfg {
    const char *name;            /* source table, and the OLAP table's name */
    const char *const *pk;       /* primary key columns; npk 0: the source's declared key */
    size_t npk;
    const char *updated_at;      /* required: the change timestamp */
    const char *created_at;      /* optional: stands in for a NULL updated_at */
    const char *const *columns;  /* mirrored columns; ncolumns 0: all, from the catalog */
    size_t ncolumns;
    const char *soft_delete;     /* optional: true / non-NULL marks a deleted row */
    const char *timestamp_unit;  /* numeric timestamps: "s", "ms", "us"; NULL or "auto":
                                    decided from the largest value (README) */
} rhei__sidecar_table_cfg;

typedef struct rhei__sidecar_cfg {
    rhei__src_kind kind;
    const char *source;            /* SQLite file path, or a libpq conninfo string / URI */
    int64_t poll_interval_ms;      /* background loop period; <= 0: 1000 */
    int64_t safety_delay_ms;       /* rows newer than source clock - this wait; < 0: 0 */
    int64_t page_size;             /* rows per poll query and per OLAP transaction; <= 0: 10000 */
    int64_t reconcile_interval_ms; /* hard-delete detection by key comparison; 0: off;
                                      < 0: every cycle (tests, benchmarks) */
    int history;                   /* SCD Type 2 (<name>_history + view <name>) */
    const rhei__sidecar_table_cfg *tables;
    size_t ntables;
} rhei__sidecar_cfg;

typedef struct rhei__sidecar rhei__sidecar;

/* What one cycle (or the initial copy inside it) applied, over all tables. */
typedef struct rhei__sidecar_stats {
    int64_t rows;       /* source rows read and applied */
    int64_t inserted;   /* rows whose key was not in OLAP */
    int64_t updated;    /* rows whose key was */
    int64_t deleted;    /* soft deletes and hard deletes found by reconciliation */
    int64_t pages;      /* OLAP transactions committed */
    int64_t elapsed_us;
    int tables_failed;  /* tables whose step failed in this cycle */
} rhei__sidecar_stats;

/* A struct tag only: the name is also the function that fills it. */
struct rhei__sidecar_table_status {
    const char *name;        /* borrowed from the sidecar, valid until it is freed */
    int64_t watermark_us;    /* every source change at or before this moment is applied; 0:
                                nothing yet */
    int64_t rows_applied;    /* since the sidecar was created */
    int64_t last_cycle_us;   /* duration of this table's last step */
    int64_t last_success_us; /* wall clock of its last successful step, 0 if none */
    int stopped;             /* a schema problem stopped it until restart */
    int last_error_code;     /* RHEI_OK if the last step succeeded */
    char last_error[512];
};

/* Copies cfg; connects to nothing yet (a source that is down is reported by cycles).
 * vt/olap are borrowed for the sidecar's life; other writers of the same store need no
 * coordination (the backend's write lock). RHEI_CONFIG names the bad table or key. */
int rhei__sidecar_new(const rhei__sidecar_cfg *cfg, const rhei__olap_vtab *vt, rhei__olap *olap,
                      rhei__sidecar **out, rhei__err *e);
/* Stops the background loop, closes the source. Accepts NULL. */
void rhei__sidecar_free(rhei__sidecar *sc);

/* One poll of every table: first use discovers the table and copies it (tables without a
 * stored watermark), then pages until caught up, then reconciles keys when due. Tables are
 * independent: one failing does not stop the others. Returns the first failure (its message
 * names the table), RHEI_OK if every table succeeded; out (may be NULL) sums all tables. */
int rhei__sidecar_cycle(rhei__sidecar *sc, rhei__sidecar_stats *out, rhei__err *e);

/* Background loop: a cycle every poll_interval_ms; a failing table waits twice as long after
 * each failure (up to 30 s) before it is tried again. */
int rhei__sidecar_start(rhei__sidecar *sc, rhei__err *e);
void rhei__sidecar_stop(rhei__sidecar *sc);

size_t rhei__sidecar_table_count(const rhei__sidecar *sc);
/* RHEI_RANGE if i is past the end. */
int rhei__sidecar_table_status(rhei__sidecar *sc, size_t i,
                               struct rhei__sidecar_table_status *out);
/* The moment through which table's history is complete: as-of reads later than this must be
 * refused (RHEI_RANGE). RHEI_NOTFOUND for a table the sidecar does not follow. */
int rhei__sidecar_watermark(rhei__sidecar *sc, const char *table, int64_t *out_ts_us);
/* 1 if the sidecar follows a table of that name (case-insensitive). */
int rhei__sidecar_follows(const rhei__sidecar *sc, const char *table);

/* Splits "sqlite:PATH" / "postgres:CONNINFO" (also "postgresql:"); *out_rest points into spec.
 * RHEI_CONFIG for anything else. */
int rhei__sidecar_parse_source(const char *spec, rhei__src_kind *out_kind, const char **out_rest,
                               rhei__err *e);

/* Test hook: called (inside the cycle, after each committed OLAP transaction) with the table
 * and the rows it applied. NULL clears it. */
typedef void (*rhei__sidecar_hook)(void *ud, const char *table, int64_t rows);
void rhei__sidecar_set_hook(rhei__sidecar *sc, rhei__sidecar_hook fn, void *ud);
#endif
