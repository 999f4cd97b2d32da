/* w_sidecar.h — the pieces of the sidecar workload: the followed source (a SQLite file or a
 * PostgreSQL database) with its writes and raw reads (w_sidecar_src.c), and the raw DuckDB
 * floors a cycle and a first copy are measured against (w_sidecar_floor.c). */
#ifndef RHEI_BENCH_W_SIDECAR_H
#define RHEI_BENCH_W_SIDECAR_H

#include "bench_util.h"
#include <libpq-fe.h>

/* Rows a poll page may hold: the sidecar's default page_size, and the raw read's LIMIT. */
#define WS_PAGE 10000
/* Change stamps lie this far in the past, so a poll with a 1 ms safety delay on a clock of
 * millisecond precision (SQLite's julianday) always sees them. */
#define WS_STAMP_LAG_US 5000

typedef enum ws_kind { WS_SQLITE = 0, WS_PG = 1 } ws_kind;

/* One followed `orders` table: id, customer, category, amount, qty, updated_at (integer
 * microseconds in SQLite, timestamptz in PostgreSQL), indexed on (updated_at, id). */
typedef struct ws_src {
    ws_kind kind;
    char spec[800];      /* the sidecar.source value */
    char path[600];      /* SQLite: the file */
    char dbname[64];     /* PostgreSQL: the database, created by ws_src_fill */
    char conninfo[512];  /* PostgreSQL: conninfo of that database */
    PGconn *admin;       /* PostgreSQL: borrowed, for CREATE / DROP DATABASE */
    sqlite3 *w, *r;      /* SQLite writer, and the raw reader of the floors */
    sqlite3_stmt *ins, *upd, *read;
    PGconn *pw, *pr;     /* PostgreSQL writer and raw reader */
    int64_t nrows;       /* rows of the fill */
    int64_t next_id;     /* the next inserted id */
    int64_t nupdates;    /* updates made, for the scatter of updated keys */
    int64_t last_ts;     /* SQLite: the newest stamp written */
    int64_t pos_id;      /* the raw reader's position: (pos_ts | pos_tstext, pos_id) */
    int64_t pos_ts;
    char pos_tstext[64];
} ws_src;

/* Wall-clock microseconds since the epoch (stamps are wall-clock, as applications write). */
int64_t ws_wall_us(void);
/* The id the k-th update of a table of n rows changes (distinct for n consecutive k when n
 * is not a multiple of 7919): keys scattered over the table, as in w_sync. */
int64_t ws_update_id(int64_t k, int64_t n);

/* Names the source (file `name`.db in the run's folder, or database `name` on the server of
 * pg_conninfo through the admin connection) without creating it: a sidecar opened now finds
 * no source, so its first copy waits for the first rhei_sidecar_sync_now after ws_src_fill. */
void ws_src_init(ws_src *s, ws_kind kind, const char *name, const char *pg_conninfo,
                 PGconn *admin);
/* Creates the source with rows 1..n stamped about a minute ago, then opens the writer and
 * the raw reader (positioned after the last row). */
void ws_src_fill(ws_src *s, int64_t n);
/* One source transaction: `ins` new rows and `upd` updates of existing rows, stamped
 * WS_STAMP_LAG_US in the past. Untimed: a cycle's clock starts after it. */
void ws_src_changes(ws_src *s, int ins, int upd);
/* Raw read of the rows after the reader's position (the sidecar's poll query without its
 * time limit), every cell read; dies unless it finds `want` rows. Returns microseconds. */
double ws_src_read_us(ws_src *s, int want);
/* The raw first copy: every source row read with one statement and appended to a fresh
 * history-shaped `orders` in con, table creation and watermark in the same transaction.
 * Returns seconds. */
double ws_src_copy_duck(ws_src *s, duckdb_connection con);
/* Closes the connections and deletes the source (file or database). */
void ws_src_close(ws_src *s);

/* --- raw DuckDB -------------------------------------------------------------------------- */

/* The history-shaped OLAP table the sidecar creates (the source's columns, then validity),
 * and a key/value table for the watermark. */
#define WS_DUCK_HIST(ts_type)                                                                \
    "CREATE TABLE orders (id BIGINT, customer VARCHAR, category VARCHAR, amount DOUBLE, qty " \
    "BIGINT, updated_at " ts_type ", _rhei_valid_from BIGINT NOT NULL, _rhei_valid_to BIGINT)"
#define WS_DUCK_KV "CREATE TABLE kv (key VARCHAR NOT NULL, value VARCHAR)"

/* Opens DuckDB as the engine does (default threads, checkpoint_threshold 1GB): in memory
 * when path is NULL, else that file (fresh). */
void ws_duck_open(const char *path, duckdb_database *db, duckdb_connection *con);
/* Removes a DuckDB file and its .wal. */
void ws_duck_unlink(const char *path);

/* The floor of one cycle: BEGIN; close the open versions of the updated keys; one prepared
 * multi-row INSERT of the new versions into a history-shaped table; one watermark row into
 * a key/value table; COMMIT. */
typedef struct ws_floor {
    duckdb_database db;
    duckdb_connection con;
    duckdb_prepared_statement ins, upd, kv;
    int nins, nupd;
    int64_t nrows, next_id, nupdates;
} ws_floor;

/* path NULL: in memory. The table starts with rows 1..nrows, like the source. */
void ws_floor_open(ws_floor *f, const char *path, int64_t nrows, int nins, int nupd);
/* One cycle of f->nins inserts and f->nupd updates stamped at ts; returns microseconds. */
double ws_floor_cycle(ws_floor *f, int64_t ts);
void ws_floor_close(ws_floor *f);

#endif
