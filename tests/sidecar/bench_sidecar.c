/* bench_sidecar.c — sidecar figures comparable with the original's (REFERENCE.md): 10-row
 * cycles (p50/p99 over 200 cycles, in-memory and file OLAP, history and mirror) and the
 * first copy of 10K and 100K rows (rows/s), with a SQLite file as the source.
 *
 * rhei__sidecar_bench(out, quick) is meant to be called from bench/; built alone with
 * -DRHEI_SIDECAR_BENCH_MAIN it is its own program:
 *   gcc -O2 -DRHEI_SIDECAR_BENCH_MAIN -Iinclude -Isrc/core -Isrc/olap -Isrc/sync -Isrc/cdc \
 *       -Isrc/oltp -Isrc/sidecar tests/sidecar/bench_sidecar.c ... -o bench_sidecar */
#include "clock.h"
#include "olap.h"
#include "sidecar.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rhei__sidecar_bench(FILE *out, int quick);

typedef struct bench_src {
    char dir[64], path[128];
    sqlite3 *db;
    sqlite3_stmt *ins, *upd;
    int64_t next_id;
} bench_src;

static int src_open(bench_src *s, int64_t rows)
{
    char *err = NULL;
    snprintf(s->dir, sizeof s->dir, "/tmp/rhei-bench-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->path, sizeof s->path, "%s/src.db", s->dir);
    if (sqlite3_open(s->path, &s->db) != SQLITE_OK)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"
             "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL,"
             " updated_at INTEGER NOT NULL); CREATE INDEX items_ts ON items (updated_at, id);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %lld)"
             " INSERT INTO items SELECT i, 'item ' || i, i %% 1000, i * 0.5, %lld + i %% 7 FROM n",
             (long long)rows, (long long)(rhei__now_us() - 60000000));
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench source: %s\n", err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    s->next_id = rows + 1;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO items VALUES (?1, 'new', 1, 1.5, ?2)", -1,
                           &s->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "UPDATE items SET qty = qty + 1, updated_at = ?2 WHERE id = ?1",
                           -1, &s->upd, NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static void src_close(bench_src *s)
{
    char cmd[160];
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->upd);
    sqlite3_close(s->db);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", s->dir);
}

/* n changes, stamped 2 ms in the past so SQLite's millisecond clock has passed them. */
static void src_changes(bench_src *s, int inserts, int updates)
{
    int64_t ts = rhei__now_us() - 2000;
    sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < inserts + updates; i++) {
        sqlite3_stmt *st = i < inserts ? s->ins : s->upd;
        sqlite3_bind_int64(st, 1, i < inserts ? s->next_id++ : 1 + (s->next_id * 7 + i) % 1000);
        sqlite3_bind_int64(st, 2, ts + i);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

static const char *const bench_pk[] = {"id"};

static int sidecar_open(bench_src *s, const char *olap_path, int history, rhei__olap **o,
                        rhei__sidecar **sc)
{
    static rhei__sidecar_table_cfg t = {"items", bench_pk, 1, "updated_at", NULL, NULL, 0,
                                        NULL, NULL};
    rhei__sidecar_cfg cfg = {RHEI__SRC_SQLITE, s->path, 1000, 0, 100000, 0, history, &t, 1};
    rhei__olap_opts opts = {olap_path, 0, "", 2};
    rhei__err e;
    if (rhei__olap_duckdb.open(&opts, o, &e) != RHEI_OK) {
        fprintf(stderr, "bench olap: %s\n", e.msg);
        return -1;
    }
    if (rhei__sidecar_new(&cfg, &rhei__olap_duckdb, *o, NULL, sc, &e) != RHEI_OK) {
        fprintf(stderr, "bench sidecar: %s\n", e.msg);
        rhei__olap_duckdb.close(*o);
        return -1;
    }
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* p50/p99 of 200 cycles of `inserts` + `updates` rows after a 10K-row first copy. */
static int bench_cycles(FILE *out, int file, int history, int inserts, int updates)
{
    enum { N = 200 };
    bench_src s;
    rhei__olap *o = NULL;
    rhei__sidecar *sc = NULL;
    rhei__sidecar_stats st;
    rhei__err e;
    int64_t lat[N];
    char olap[160];
    if (src_open(&s, 10000))
        return -1;
    snprintf(olap, sizeof olap, "%s/olap.duckdb", s.dir);
    int rc = sidecar_open(&s, file ? olap : ":memory:", history, &o, &sc);
    if (rc == 0)
        rc = rhei__sidecar_cycle(sc, &st, &e);
    for (int i = 0; rc == 0 && i < N + 10; i++) {
        src_changes(&s, inserts, updates);
        int64_t t0 = rhei__mono_us();
        rc = rhei__sidecar_cycle(sc, &st, &e);
        if (i >= 10) /* warm-up first */
            lat[i - 10] = rhei__mono_us() - t0;
        if (rc == 0 && st.rows != inserts + updates) {
            fprintf(stderr, "bench: a cycle applied %lld rows\n", (long long)st.rows);
            rc = -1;
        }
    }
    if (rc == 0) {
        qsort(lat, N, sizeof *lat, cmp64);
        fprintf(out, "sidecar %-7s %-7s %2d ins + %2d upd per cycle: p50 %6lld us  p99 %6lld us\n",
                file ? "file" : "memory", history ? "history" : "mirror", inserts, updates,
                (long long)lat[N / 2], (long long)lat[N * 99 / 100]);
    } else if (rc > 0) {
        fprintf(stderr, "bench cycle: %s\n", e.msg);
    }
    rhei__sidecar_free(sc);
    if (o)
        rhei__olap_duckdb.close(o);
    src_close(&s);
    return rc ? -1 : 0;
}

/* The first copy of `rows` rows into an in-memory OLAP. */
static int bench_copy(FILE *out, int64_t rows, int history)
{
    bench_src s;
    rhei__olap *o = NULL;
    rhei__sidecar *sc = NULL;
    rhei__sidecar_stats st;
    rhei__err e;
    if (src_open(&s, rows))
        return -1;
    int rc = sidecar_open(&s, ":memory:", history, &o, &sc);
    int64_t t0 = rhei__mono_us();
    if (rc == 0 && (rc = rhei__sidecar_cycle(sc, &st, &e)) != 0)
        fprintf(stderr, "bench copy: %s\n", e.msg);
    int64_t us = rhei__mono_us() - t0;
    if (rc == 0)
        fprintf(out, "sidecar first copy %7lld rows (%s): %8.0f rows/s (%lld ms)\n",
                (long long)st.rows, history ? "history" : "mirror",
                (double)st.rows * 1e6 / (double)(us ? us : 1), (long long)(us / 1000));
    rhei__sidecar_free(sc);
    if (o)
        rhei__olap_duckdb.close(o);
    src_close(&s);
    return rc ? -1 : 0;
}

int rhei__sidecar_bench(FILE *out, int quick)
{
    int rc = 0;
    for (int history = 1; history >= 0; history--) {
        rc |= bench_cycles(out, 0, history, 10, 0);
        rc |= bench_cycles(out, 0, history, 5, 5);
        rc |= bench_cycles(out, 1, history, 10, 0);
        if (!quick)
            rc |= bench_cycles(out, 1, history, 5, 5);
    }
    rc |= bench_copy(out, 10000, 1);
    rc |= bench_copy(out, 100000, 1);
    if (!quick)
        rc |= bench_copy(out, 100000, 0);
    return rc;
}

#ifdef RHEI_SIDECAR_BENCH_MAIN
int main(int argc, char **argv)
{
    return rhei__sidecar_bench(stdout, argc > 1 && strcmp(argv[1], "--quick") == 0) ? 1 : 0;
}
#endif
