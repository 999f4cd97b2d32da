/* source.h — the sidecar's view of an external database: a table of functions with one
 * implementation per kind (source_sqlite.c, source_pg.c). Adapters know their SQL dialect,
 * their client library and how to turn the source's values into canonical batch values; the
 * polling logic (sidecar_poll.c) knows none of that. Single-threaded: one sidecar cycle at a
 * time uses a source handle. */
#ifndef RHEI_SIDECAR_SOURCE_H
#define RHEI_SIDECAR_SOURCE_H
#include "batch.h"
#include "buf.h"
#include "err.h"
#include "schema.h"
#include <stdint.h>

typedef struct rhei__src rhei__src; /* one source connection; layout private to its adapter */

/* A position predicate on the polled timestamp expression (see rhei__src_query). */
typedef enum rhei__src_after {
    RHEI__AFTER_NONE = 0, /* from the beginning */
    RHEI__AFTER_TS = 1,   /* ts > wm[0]: every row at wm[0] is done (after a full copy) */
    RHEI__AFTER_KEY = 2   /* (ts, pk...) > (wm[0], wm[1..npk]) */
} rhei__src_after;

/* One read of a source table. The SELECT list is cols, in order: a column whose type is
 * RHEI_TYPE_NULL is read raw ("native": INTEGER, REAL, TEXT or BLOB as the source stores it,
 * text for PostgreSQL) so it can be bound back into a later query unchanged; the others are
 * decoded into the canonical form of their type (batch.h). Column ts_index is not a column
 * but the timestamp expression: ts_col, or COALESCE(ts_col, ts_alt) when ts_alt is set; it
 * is always read raw. Rows whose timestamp is NULL are never returned. */
typedef struct rhei__src_query {
    const char *table;
    const rhei__table *cols;
    size_t ts_index;
    const char *ts_col;
    const char *ts_alt;       /* NULL: no fallback column */
    const char *ts_decl;      /* the source's type of ts_col (casts of bound values) */
    const char *const *pk;    /* key columns, in key order (ORDER BY and AFTER_KEY) */
    const char *const *pk_decl;
    size_t npk;
    size_t key_index;         /* first of npk raw key columns in cols, for error messages */
    rhei__src_after after;
    const rhei_value *wm;     /* 1 + npk native values (AFTER_TS uses wm[0] only) */
    const rhei_value *cutoff; /* ts <= cutoff (native), or NULL */
    int ordered;              /* ORDER BY ts, pk... */
    int whole;                /* reads (nearly) every row: a scan beats the ts index */
    int64_t limit;            /* 0: no limit */
    size_t chunk;             /* rows handed to fn at a time (0: all at once) */
} rhei__src_query;

/* Receives a chunk of rows (in b, op and ts meaningless). b is reset after fn returns;
 * non-zero stops the read and is returned. */
typedef int (*rhei__src_chunk_fn)(void *ud, rhei__batch *b, rhei__err *e);

/* A source column as the catalog describes it. decl is the source's own type text (for
 * PostgreSQL a castable name such as "numeric(10,2)"); type/precision/scale are what the
 * mirror stores; pk is the 1-based position in the declared primary key, 0 if none. */
typedef struct rhei__src_col {
    char *name;
    char *decl;
    rhei_type type;
    int precision, scale;
    int pk;
} rhei__src_col;

typedef struct rhei__src_cols {
    rhei__src_col *v;
    size_t n;
} rhei__src_cols;

void rhei__src_cols_free(rhei__src_cols *c);
/* Index of a column by name (exact first, then case-insensitive), or -1. */
long rhei__src_cols_find(const rhei__src_cols *c, const char *name);

/* Errors: RHEI_SOURCE "cannot reach source '<kind>:<where>': cause" when the source cannot
 * be opened or the connection is lost (the next call reconnects; the caller recognises this
 * case by that exact prefix and skips the source's other tables); RHEI_NOTFOUND when the
 * table or a named column does not exist (the caller re-describes to say which); RHEI_TYPE
 * when a value does not fit its column — then b holds the rows read before it and the
 * message names table, key and value; RHEI_SOURCE for other source errors. */
typedef struct rhei__src_vtab {
    const char *kind; /* "sqlite" or "postgres", the prefix of the source spec */
    /* Never connects, so it succeeds while the source is down. where is copied. */
    int (*open)(const char *where, rhei__src **out, rhei__err *e);
    void (*close)(rhei__src *s);
    /* The source's clock: microseconds since the epoch, UTC. */
    int (*now_us)(rhei__src *s, int64_t *out, rhei__err *e);
    /* The table's columns in catalog order. */
    int (*describe)(rhei__src *s, const char *table, rhei__src_cols *out, rhei__err *e);
    /* Largest value of the timestamp expression (raw), NULL type for an empty table. The
     * value's bytes stay valid until the next call on s. */
    int (*max_ts)(rhei__src *s, const rhei__src_query *q, rhei_value *out, rhei__err *e);
    /* Reads rows into b (whose table must be q->cols) and hands them to fn in chunks. */
    int (*select)(rhei__src *s, const rhei__src_query *q, rhei__batch *b, rhei__src_chunk_fn fn,
                  void *ud, rhei__err *e);
    /* The native form of a cutoff instant for a ts_col of this decl / canonical type, so the
     * source can filter by it; 0 = cannot be compared natively (the caller filters rows
     * itself). unit_us: microseconds per unit of a numeric timestamp (0 if unknown). Text
     * bytes go to buf. */
    int (*cutoff)(const rhei__src_col *ts, int64_t unit_us, int64_t cutoff_us, rhei_value *out,
                  char *buf, size_t size);
    /* A display name for messages, with any password removed (borrowed from s). */
    const char *(*display)(rhei__src *s);
} rhei__src_vtab;

extern const rhei__src_vtab rhei__src_sqlite;
extern const rhei__src_vtab rhei__src_postgres;

/* Shared by the adapters: "cannot read table 't' at key (id=5, ...)" with the raw key
 * values of the row in b at index row; and the password-free display form of a spec. */
void rhei__src_key_text(const rhei__src_query *q, const rhei__batch *b, size_t row, char *buf,
                        size_t size);
void rhei__src_redact(const char *kind, const char *where, char *buf, size_t size);
/* Drops the last row of b (a row that failed to decode). */
void rhei__src_drop_last(rhei__batch *b);
/* SQL text shared by the adapters: a column of the polled table (alias _rhei_t), and the
 * timestamp expression ("u", or COALESCE("u", "c") when created_at stands in). */
void rhei__src_put_col(rhei__buf *b, const char *name);
void rhei__src_put_ts(rhei__buf *b, const rhei__src_query *q);
#endif
