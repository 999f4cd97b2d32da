/* sidecar_int.h — the sidecar's private state, shared by its files: sidecar.c (lifecycle,
 * status, background loop), sidecar_table.c (discovery, OLAP shape, full copies),
 * sidecar_poll.c (pages, reconciliation), sidecar_pos.c (watermarks, timestamps, kv) and
 * keyset.c. Locks: mu serialises cycles and guards every table field not marked otherwise;
 * stat_mu guards the fields marked "stat"; the background poll is core's helper (bg.h). */
#ifndef RHEI_SIDECAR_INT_H
#define RHEI_SIDECAR_INT_H
#include "bg.h"
#include "buf.h"
#include "clock.h"
#include "sidecar.h"
#include "source.h"
#include <pthread.h>

#define RHEI__SC_MAX_PK 32
#define RHEI__SC_KV_MAX (256u * 1024u)

/* ---- key set (keyset.c) ---------------------------------------------------------------- */

enum { RHEI__KEY_ABSENT = 0, RHEI__KEY_PRESENT = 1, RHEI__KEY_DELETED = 2 };

typedef struct rhei__keyset {
    uint64_t *slot; /* 0 empty; else hash | used bit | deleted bit */
    size_t cap, n;
} rhei__keyset;

/* Hash of a key: key[k] is the value of primary-key part k of shape. */
uint64_t rhei__sc_key_hash(const rhei__table *shape, const rhei_value *key);
/* Same, from a full row of shape. */
uint64_t rhei__sc_row_hash(const rhei__table *shape, const rhei_value *row);
void rhei__keyset_free(rhei__keyset *ks);
void rhei__keyset_clear(rhei__keyset *ks);
int rhei__keyset_state(const rhei__keyset *ks, uint64_t h);
/* Marks h present (present != 0) or deleted. RHEI_NOMEM. */
int rhei__keyset_set(rhei__keyset *ks, uint64_t h, int present);

/* ---- watermark (sidecar_pos.c) ----------------------------------------------------------- */

/* Where polling of one table stands, stored under "sidecar.<table>.wm" in the OLAP
 * transaction that applied the rows up to it. */
typedef struct rhei__sc_pos {
    rhei__src_after after;
    size_t n;            /* values in v: 0 (NONE), 1 (TS) or 1 + npk (KEY) */
    rhei_value *v;       /* native values: timestamp expression, then key columns */
    char *store;         /* owns v and the bytes of its values */
    int64_t through_us;  /* every source change at or before this moment is applied */
    int64_t last_ts;     /* largest event time applied (history stays monotonic) */
} rhei__sc_pos;

void rhei__sc_pos_free(rhei__sc_pos *p);
/* Replaces p's values with copies of v[0..n). */
int rhei__sc_pos_set(rhei__sc_pos *p, rhei__src_after after, const rhei_value *v, size_t n,
                     rhei__err *e);
int rhei__sc_pos_encode(const rhei__sc_pos *p, rhei__buf *out, rhei__err *e);
/* Parses an encoded position for a key of npk parts; RHEI_CORRUPT names the problem. */
int rhei__sc_pos_decode(const char *text, size_t npk, rhei__sc_pos *out, rhei__err *e);

/* Field lists ("a|b|c", '\' escapes '|' and '\'): put_field appends "|" and s escaped;
 * split cuts s in place into at most max unescaped fields, -1 if there are more. */
void rhei__sc_put_field(rhei__buf *b, const char *s);
long rhei__sc_split(char *s, char **f, size_t max);

/* A native timestamp (integer/real epoch in unit_us microseconds per unit, 0 = by
 * magnitude; or ISO-8601 text, zone-less = UTC) as microseconds since the epoch, UTC.
 * 0 on success, -1 if it is no timestamp. */
int rhei__sc_ts_us(const rhei_value *v, int64_t unit_us, int64_t *out);
/* Microseconds per unit for an epoch number of this magnitude (README: s, ms or us). */
int64_t rhei__sc_unit_for(double magnitude);
/* "s"/"ms"/"us" -> microseconds per unit; NULL/"auto" -> 0; -1 for anything else. */
int64_t rhei__sc_parse_unit(const char *s);

/* ---- tables ------------------------------------------------------------------------------ */

typedef struct sc_table {
    /* configuration (owned copies) */
    char *name;
    char **pk;
    size_t npk;
    char *updated_at, *created_at, *soft_delete;
    char **columns;
    size_t ncolumns;
    int64_t unit_cfg;         /* microseconds per unit from the config, 0 = auto */
    char *kv_wm, *kv_schema;  /* "sidecar.<name>.wm", "sidecar.<name>.schema" */

    /* discovered on first use (ready) */
    int ready;
    int stopped;              /* schema problem: skipped until the sidecar is recreated */
    rhei__src_cols src;       /* the source's catalog entry */
    rhei__table *shape;       /* mirrored columns: what batches carry */
    rhei__table *olap_shape;  /* what the OLAP table holds: shape plus columns kept */
    rhei__table *read;        /* select list: shape, [soft_delete], ts (raw), keys (raw) */
    long soft_idx;            /* in read, -1 none */
    size_t ts_idx, key_idx;   /* in read */
    long ts_src;              /* updated_at in src */
    long ts_shape_idx;        /* updated_at in shape */
    char **pk_decl;           /* borrowed from src, per key part */
    int64_t unit_us;          /* resolved unit of a numeric timestamp, 0 unknown / text */
    int need_copy;            /* no watermark: a full copy comes first */
    int resync;               /* the shape changed: re-read every row as an update */
    rhei__table *resync_from; /* the stored shape the OLAP table has until then */
    rhei__sc_pos pos;
    rhei__keyset keys;
    rhei__batch page;         /* rows read from the source (read layout) */
    rhei__batch events;       /* what goes to OLAP (shape layout) */

    /* scheduling (background loop) */
    int64_t next_try_us, backoff_ms, last_reconcile_us;

    /* stat: guarded by stat_mu */
    int64_t st_through, st_rows, st_cycle_us, st_success_us;
    int st_code, st_stopped;
    char st_error[512];
} sc_table;

struct rhei__sidecar {
    rhei__src_kind kind;
    char *source;
    int64_t poll_ms, delay_ms, page_size, reconcile_ms;
    int history;
    const rhei__src_vtab *svt;
    rhei__src *src;
    const rhei__olap_vtab *vt;
    rhei__olap *olap;
    sc_table *tables;
    size_t ntables;
    int kv_fallback;          /* the backend has no set_kv: a table of our own keeps them */
    int64_t last_maintain_us;
    int dirty;                /* OLAP written since the last maintain() */
    rhei__sidecar_hook hook;
    void *hook_ud;

    pthread_mutex_t mu;
    pthread_mutex_t stat_mu;
    rhei__bg loop;            /* the background poll (core's thread helper) */
};

/* One cycle's shared facts: the source clock read once per cycle. */
typedef struct sc_cycle {
    rhei__sidecar *sc;
    int have_now;
    int64_t now_us, cutoff_us;
    int down;                 /* the source could not be reached: skip the other tables */
    rhei__err down_err;
    rhei__sidecar_stats st;
} sc_cycle;

/* sidecar_table.c: discovery and full copies. */
int rhei__sc_prepare(sc_cycle *c, sc_table *t, rhei__err *e);
int rhei__sc_copy(sc_cycle *c, sc_table *t, rhei__err *e); /* sidecar_poll.c */
void rhei__sc_table_reset(sc_table *t);
/* Builds the query skeleton for t (table, columns, timestamp, keys). */
void rhei__sc_query_init(const sc_table *t, rhei__src_query *q);
/* After a source error: names a column that disappeared (stopping the table) if any. */
int rhei__sc_explain_missing(sc_cycle *c, sc_table *t, rhei__err *e);
/* Stores t->olap_shape (inside the transaction); tmp is scratch. */
int rhei__sc_schema_store(rhei__sidecar *sc, sc_table *t, rhei__buf *tmp, rhei__err *e);

/* sidecar_poll.c: one table's step (prepare, copy, pages, reconciliation). */
int rhei__sc_step(sc_cycle *c, sc_table *t, rhei__err *e);
/* Reads the source clock once per cycle and sets the cutoff (clock - safety delay). */
int rhei__sc_source_now(sc_cycle *c, rhei__err *e);

/* sidecar_pos.c: OLAP transactions (the backend's write lock makes them wait for the
 * engine's sync when both share one store) and small stored values. */
int rhei__sc_begin(rhei__sidecar *sc, rhei__err *e);
int rhei__sc_commit(rhei__sidecar *sc, rhei__err *e);
void rhei__sc_rollback(rhei__sidecar *sc);
int rhei__sc_kv_set(rhei__sidecar *sc, const char *key, const char *value, rhei__err *e);
/* RHEI_NOTFOUND when never set; value copied into out (reset first). */
int rhei__sc_kv_get(rhei__sidecar *sc, const char *key, rhei__buf *out, rhei__err *e);
/* Stores the table's position (inside the transaction). */
int rhei__sc_pos_store(rhei__sidecar *sc, sc_table *t, const rhei__sc_pos *p, rhei__err *e);
#endif
