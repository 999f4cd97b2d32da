/* w_crud.c — workloads 3 and 4: CRUD 225 operations (75 inserts, 75 updates, 75 deletes with
 * routed reads between the phases) and 8 threads x 50 mixed operations on one shared rhei_db.
 * Baseline: raw SQLite driving the engine's own capture triggers (one serialized connection
 * shared by the threads in the concurrent case), reads run on SQLite. */
#include "bench_util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PREFILL 10000
#define AGG_SQL "SELECT count(*), sum(amount) FROM orders"

/* One side of the comparison: the engine, or a raw connection with its statements. */
typedef struct target {
    rhei_db *db;
    sqlite3 *h;
    sqlite3_stmt *ins, *upd, *del, *point, *agg;
    pthread_mutex_t mu; /* raw side: statements are shared by the threads */
    int64_t reads, misrouted; /* engine reads, and those not served by the expected side */
} target;

static void target_raw(target *t, const char *path)
{
    memset(t, 0, sizeof *t);
    if (sqlite3_open_v2(path, &t->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK)
        bu_die("sqlite: cannot open '%s'", path);
    bu_sq_exec(t->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     " PRAGMA recursive_triggers=ON;");
    t->ins = bu_sq_prepare(t->h, BU_INSERT_SQL);
    t->upd = bu_sq_prepare(t->h, BU_UPDATE_SQL);
    t->del = bu_sq_prepare(t->h, BU_DELETE_SQL);
    t->point = bu_sq_prepare(t->h, BU_POINT_SQL);
    t->agg = bu_sq_prepare(t->h, AGG_SQL);
    pthread_mutex_init(&t->mu, NULL);
}

static void target_raw_close(target *t)
{
    sqlite3_stmt *all[] = {t->ins, t->upd, t->del, t->point, t->agg};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(t->h);
    pthread_mutex_destroy(&t->mu);
}

enum { OP_INSERT, OP_UPDATE, OP_DELETE, OP_POINT, OP_AGG };

/* One operation on row id; returns its latency in us. Reads check what they got. */
static double op_run(target *t, int op, int64_t id)
{
    bu_order o;
    rhei_value p[5];
    bu_order_make(id, &o);
    if (op == OP_UPDATE)
        o.amount += 1.0;
    uint64_t a = bu_now_ns();
    if (t->db) {
        bu_order_params(&o, p);
        rhei_result *r = NULL;
        int rc = RHEI_OK;
        switch (op) {
        case OP_INSERT: rc = rhei_execute(t->db, BU_INSERT_SQL, p, 5, NULL); break;
        case OP_UPDATE:
            p[1] = p[3];
            p[2] = p[4];
            rc = rhei_execute(t->db, BU_UPDATE_SQL, p, 3, NULL);
            break;
        case OP_DELETE: rc = rhei_execute(t->db, BU_DELETE_SQL, p, 1, NULL); break;
        case OP_POINT: rc = rhei_query(t->db, BU_POINT_SQL, p, 1, &r); break;
        default: rc = rhei_query(t->db, AGG_SQL, NULL, 0, &r); break;
        }
        bu_check(t->db, rc, "crud operation");
        if (r) { /* the point read belongs on SQLite, the aggregate on DuckDB */
            rhei_side want = op == OP_POINT ? RHEI_SIDE_OLTP : RHEI_SIDE_OLAP;
            __atomic_fetch_add(&t->reads, 1, __ATOMIC_RELAXED);
            if (rhei_result_side(r) != want)
                __atomic_fetch_add(&t->misrouted, 1, __ATOMIC_RELAXED);
        }
        rhei_result_free(r);
    } else {
        sqlite3_stmt *st = op == OP_INSERT ? t->ins : op == OP_UPDATE ? t->upd
                         : op == OP_DELETE ? t->del : op == OP_POINT ? t->point : t->agg;
        pthread_mutex_lock(&t->mu);
        if (op == OP_INSERT) {
            bu_order_bind(st, &o);
        } else if (op == OP_UPDATE) {
            sqlite3_bind_int64(st, 1, o.id);
            sqlite3_bind_double(st, 2, o.amount);
            sqlite3_bind_int64(st, 3, o.qty);
        } else if (op != OP_AGG) {
            sqlite3_bind_int64(st, 1, o.id);
        }
        bu_sq_run(t->h, st);
        pthread_mutex_unlock(&t->mu);
    }
    return (double)(bu_now_ns() - a) / 1e3;
}

/* --- CRUD 225 ---------------------------------------------------------------------------- */

static double crud_once(target *t, int64_t first, bu_samples *lat)
{
    static const int phases[3] = {OP_INSERT, OP_UPDATE, OP_DELETE};
    double t0 = bu_now();
    for (int ph = 0; ph < 3; ph++) {
        for (int64_t i = 0; i < 75; i++)
            bu_samples_add(lat, op_run(t, phases[ph], first + i));
        op_run(t, OP_POINT, first + 37); /* routed reads between the phases */
        op_run(t, OP_AGG, 0);
    }
    return 225.0 / (bu_now() - t0);
}

static void sync_quiet(rhei_db *db)
{
    bu_check(db, rhei_sync_now(db, NULL), "rhei_sync_now");
    bu_engine_quiesce(db);
}

/* --- paired runs -------------------------------------------------------------------------- */

typedef double (*once_fn)(target *t, int64_t first, bu_samples *lat);

/* Both workloads: the engine and raw SQLite + capture, each on a prefilled orders table, run
 * `once` back to back in alternating order (span ids apart); the row gets medians, the
 * paired ratio and write latencies, the caller its note from *reps and the engine's reads. */
static bu_row *paired_run(const char *workload, const char *file, const char *name,
                          once_fn once, int64_t span, int *reps_out, int64_t *reads,
                          int64_t *misrouted)
{
    char eng[600], cap[600], fname[64];
    snprintf(fname, sizeof fname, "%s_engine.db", file);
    bu_path(eng, sizeof eng, fname);
    snprintf(fname, sizeof fname, "%s_capture.db", file);
    bu_path(cap, sizeof cap, fname);
    bu_make_capture_file(cap);
    target e = {0}, raw;
    e.db = bu_engine_open(eng);
    bu_engine_create_orders(e.db);
    bu_engine_insert(e.db, 1, PREFILL, 1000);
    sync_quiet(e.db);
    target_raw(&raw, cap);
    bu_sq_fill(raw.h, 1, PREFILL, 1000);
    bu_sq_prune_log(raw.h);

    int reps = bu_opt.quick ? 3 : 41;
    bu_samples er = {0}, rr = {0}, el = {0}, rl = {0}, junk = {0};
    int64_t next = PREFILL + 1;
    once(&e, next, &junk); /* warm-up: threads, reader pool, caches */
    once(&raw, next, &junk);
    e.reads = e.misrouted = 0;
    next += span;
    for (int r = 0; r < reps; r++, next += span) {
        if (r % 2) {
            bu_samples_add(&rr, once(&raw, next, &rl));
            bu_samples_add(&er, once(&e, next, &el));
        } else {
            bu_samples_add(&er, once(&e, next, &el));
            bu_samples_add(&rr, once(&raw, next, &rl));
        }
        sync_quiet(e.db);
        bu_sq_prune_log(raw.h);
    }
    bu_row *row = bu_row_versus(workload, name, "ops/s", &er, &rr, "raw sqlite+capture");
    row->p50_us = bu_pct(&el, 50);
    row->p99_us = bu_pct(&el, 99);
    row->base_p50_us = bu_pct(&rl, 50);
    row->base_p99_us = bu_pct(&rl, 99);
    bu_samples_free(&er);
    bu_samples_free(&rr);
    bu_samples_free(&el);
    bu_samples_free(&rl);
    bu_samples_free(&junk);
    target_raw_close(&raw);
    bu_check(e.db, rhei_close(e.db), "rhei_close");
    bu_unlink_db(eng);
    bu_unlink_db(cap);
    *reps_out = reps;
    *reads = e.reads;
    *misrouted = e.misrouted;
    return row;
}

void w_crud(void)
{
    int reps;
    int64_t reads, misrouted;
    bu_row *row = paired_run("crud", "crud", "crud 225 ops (ops/s)", crud_once, 75, &reps,
                             &reads, &misrouted);
    snprintf(row->note, sizeof row->note, "median of %d; 75 ins/upd/del, a point read and a"
             " count+sum between phases (%lld of %lld engine reads misrouted); latency: writes",
             reps, (long long)misrouted, (long long)reads);
}

/* --- concurrent 8 x 50 ------------------------------------------------------------------- */

#define NTHREADS 8
#define OPS_PER_THREAD 50

typedef struct worker {
    target *t;
    int64_t first; /* this thread's own id range */
    pthread_barrier_t *go;
    double lat[OPS_PER_THREAD];
} worker;

/* Per ten operations: 4 inserts, 2 updates, 1 delete, 2 point reads, 1 aggregate read. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    static const int pattern[10] = {OP_INSERT, OP_INSERT, OP_POINT, OP_UPDATE, OP_INSERT,
                                    OP_AGG,    OP_INSERT, OP_UPDATE, OP_POINT, OP_DELETE};
    int64_t inserted = 0, updated = 0, deleted = 0;
    pthread_barrier_wait(w->go);
    for (int i = 0; i < OPS_PER_THREAD; i++) {
        int op = pattern[i % 10];
        int64_t id = w->first;
        if (op == OP_INSERT)
            id += inserted++;
        else if (op == OP_UPDATE)
            id += updated++ % (inserted ? inserted : 1);
        else if (op == OP_DELETE)
            id += deleted++;
        else if (op == OP_POINT)
            id += inserted ? inserted - 1 : 0;
        w->lat[i] = op_run(w->t, op, id);
    }
    return NULL;
}

static double concurrent_once(target *t, int64_t first, bu_samples *lat)
{
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, NTHREADS + 1);
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){.t = t, .first = first + (int64_t)i * OPS_PER_THREAD, .go = &go};
        if (pthread_create(&th[i], NULL, worker_main, &w[i]) != 0)
            bu_die("cannot start a thread");
    }
    pthread_barrier_wait(&go);
    double t0 = bu_now();
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    double el = bu_now() - t0;
    pthread_barrier_destroy(&go);
    for (int i = 0; i < NTHREADS; i++)
        for (int k = 0; k < OPS_PER_THREAD; k++)
            bu_samples_add(lat, w[i].lat[k]);
    return NTHREADS * OPS_PER_THREAD / el;
}

void w_concurrent(void)
{
    int reps;
    int64_t reads, misrouted;
    bu_row *row = paired_run("concurrent", "conc", "concurrent 8x50 (ops/s)", concurrent_once,
                             NTHREADS * OPS_PER_THREAD, &reps, &reads, &misrouted);
    snprintf(row->note, sizeof row->note, "median of %d; per thread 40%% ins, 20%% upd, 10%%"
             " del, 20%% point reads, 10%% count+sum (%lld of %lld misrouted); raw: one shared"
             " connection", reps, (long long)misrouted, (long long)reads);
}
