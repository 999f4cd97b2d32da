/* w_htap.c — workload "htap" (CH-benCHmark): 2 threads run TPC-C New-Order/Payment while 1 runs
 * five TPC-H-style queries routed to OLAP, sync every 10 ms; reports tpmC alone vs loaded,
 * query latency, HATtrick freshness (eventual and RHEI_STRONG), a per-second series, peak RSS. */
#include "w_htap.h"
#include "bench_util.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef RHEI_BENCH_RESULTS
#define RHEI_BENCH_RESULTS "bench/results/latest.json"
#endif

#define NDIST 10          /* districts per warehouse (TPC-C) */
#define NOLTP 2           /* OLTP threads */
#define MAXTXN (1 << 21)  /* txn numbers we can track */
#define MAXSAMP (1 << 20) /* analytical queries we can track */
#define NQ 5
#define SYNC_MS "10"

/* Highest txn number visible on OLAP, computed inside every analytical query (same DuckDB
 * snapshot as the rest of the query): New-Order writes o_txn, Payment writes h_txn. */
#define SEEN                                                                                  \
    "(SELECT max(x) FROM (SELECT max(o_txn) AS x FROM orders UNION ALL "                     \
    "SELECT max(h_txn) AS x FROM history) AS t)"

static const char *const q_name[NQ] = {"Q1", "Q3", "Q6", "Q12", "Q14"};
static const char *const q_sql[NQ] = {
    /* CH Q1: pricing summary per order-line number */
    "SELECT ol_number, sum(ol_quantity) AS sum_qty, sum(ol_amount) AS sum_amount,"
    " avg(ol_quantity) AS avg_qty, avg(ol_amount) AS avg_amount, count(*) AS count_order, "
    SEEN " AS seen FROM order_line WHERE ol_delivery_d > 0 GROUP BY ol_number"
    " ORDER BY ol_number",
    /* CH Q3-like: top revenue orders of customers in 'A*' states (3-way join) */
    "SELECT ol_o_id, ol_w_id, ol_d_id, sum(ol_amount) AS revenue, o_entry_d, " SEEN " AS seen"
    " FROM customer, orders, order_line WHERE c_state LIKE 'A%' AND c_id = o_c_id"
    " AND c_w_id = o_w_id AND c_d_id = o_d_id AND ol_w_id = o_w_id AND ol_d_id = o_d_id"
    " AND ol_o_id = o_id AND o_entry_d > 0 GROUP BY ol_o_id, ol_w_id, ol_d_id, o_entry_d"
    " ORDER BY revenue DESC, o_entry_d LIMIT 10",
    /* CH Q6: revenue of small-quantity lines (includes the newest lines) */
    "SELECT sum(ol_amount) AS revenue, count(*) AS n, " SEEN " AS seen FROM order_line"
    " WHERE ol_quantity BETWEEN 1 AND 5",
    /* CH Q12-like: delivered lines by order size and carrier class */
    "SELECT o_ol_cnt, sum(CASE WHEN o_carrier_id = 1 OR o_carrier_id = 2 THEN 1 ELSE 0 END)"
    " AS high_line_count, sum(CASE WHEN o_carrier_id <> 1 AND o_carrier_id <> 2 THEN 1"
    " ELSE 0 END) AS low_line_count, " SEEN " AS seen FROM orders, order_line"
    " WHERE ol_w_id = o_w_id AND ol_d_id = o_d_id AND ol_o_id = o_id"
    " AND o_entry_d <= ol_delivery_d GROUP BY o_ol_cnt ORDER BY o_ol_cnt",
    /* CH Q14-like: promotion revenue share (order_line x item) */
    "SELECT 100.0 * sum(CASE WHEN i_data LIKE 'PR%' THEN ol_amount ELSE 0 END)"
    " / (1 + sum(ol_amount)) AS promo_revenue, " SEEN " AS seen FROM order_line, item"
    " WHERE ol_i_id = i_id",
};

static const char *const ddl[] = {
    "CREATE TABLE warehouse (w_id INTEGER PRIMARY KEY, w_name TEXT NOT NULL, w_tax REAL NOT"
    " NULL, w_ytd REAL NOT NULL)",
    "CREATE TABLE district (d_w_id INTEGER NOT NULL, d_id INTEGER NOT NULL, d_name TEXT NOT"
    " NULL, d_tax REAL NOT NULL, d_ytd REAL NOT NULL, d_next_o_id INTEGER NOT NULL,"
    " PRIMARY KEY (d_w_id, d_id))",
    "CREATE TABLE customer (c_w_id INTEGER NOT NULL, c_d_id INTEGER NOT NULL, c_id INTEGER"
    " NOT NULL, c_last TEXT NOT NULL, c_state TEXT NOT NULL, c_balance REAL NOT NULL,"
    " c_ytd_payment REAL NOT NULL, c_payment_cnt INTEGER NOT NULL,"
    " PRIMARY KEY (c_w_id, c_d_id, c_id))",
    "CREATE TABLE item (i_id INTEGER PRIMARY KEY, i_name TEXT NOT NULL, i_price REAL NOT"
    " NULL, i_data TEXT NOT NULL)",
    "CREATE TABLE stock (s_w_id INTEGER NOT NULL, s_i_id INTEGER NOT NULL, s_quantity INTEGER"
    " NOT NULL, s_ytd INTEGER NOT NULL, s_order_cnt INTEGER NOT NULL,"
    " PRIMARY KEY (s_w_id, s_i_id))",
    "CREATE TABLE orders (o_w_id INTEGER NOT NULL, o_d_id INTEGER NOT NULL, o_id INTEGER NOT"
    " NULL, o_c_id INTEGER NOT NULL, o_entry_d INTEGER NOT NULL, o_carrier_id INTEGER,"
    " o_ol_cnt INTEGER NOT NULL, o_all_local INTEGER NOT NULL, o_txn INTEGER NOT NULL,"
    " PRIMARY KEY (o_w_id, o_d_id, o_id))",
    "CREATE TABLE order_line (ol_w_id INTEGER NOT NULL, ol_d_id INTEGER NOT NULL, ol_o_id"
    " INTEGER NOT NULL, ol_number INTEGER NOT NULL, ol_i_id INTEGER NOT NULL, ol_supply_w_id"
    " INTEGER NOT NULL, ol_delivery_d INTEGER, ol_quantity INTEGER NOT NULL, ol_amount REAL"
    " NOT NULL, PRIMARY KEY (ol_w_id, ol_d_id, ol_o_id, ol_number))",
    "CREATE TABLE history (h_txn INTEGER PRIMARY KEY, h_c_id INTEGER NOT NULL, h_c_d_id"
    " INTEGER NOT NULL, h_c_w_id INTEGER NOT NULL, h_d_id INTEGER NOT NULL, h_w_id INTEGER"
    " NOT NULL, h_date INTEGER NOT NULL, h_amount REAL NOT NULL)",
};
static const char *const tables[] = {"warehouse", "district", "customer", "item",
                                     "stock",     "orders",   "order_line", "history"};
#define NTABLES (sizeof tables / sizeof tables[0])

/* New-Order: o_id is read from district inside the same transaction (INSERT ... SELECT). */
#define NO_DIST "UPDATE district SET d_next_o_id = d_next_o_id + 1 WHERE d_w_id = ?1 AND d_id = ?2"
#define NO_ORDER                                                                              \
    "INSERT INTO orders (o_w_id, o_d_id, o_id, o_c_id, o_entry_d, o_carrier_id, o_ol_cnt,"   \
    " o_all_local, o_txn) SELECT d_w_id, d_id, d_next_o_id - 1, ?3, ?4, NULL, ?5, 1, ?6"    \
    " FROM district WHERE d_w_id = ?1 AND d_id = ?2"
#define NO_STOCK                                                                              \
    "UPDATE stock SET s_quantity = CASE WHEN s_quantity >= ?3 + 10 THEN s_quantity - ?3"     \
    " ELSE s_quantity - ?3 + 91 END, s_ytd = s_ytd + ?3, s_order_cnt = s_order_cnt + 1"      \
    " WHERE s_w_id = ?1 AND s_i_id = ?2"
#define NO_LINE                                                                               \
    "INSERT INTO order_line (ol_w_id, ol_d_id, ol_o_id, ol_number, ol_i_id, ol_supply_w_id," \
    " ol_delivery_d, ol_quantity, ol_amount) SELECT d_w_id, d_id, d_next_o_id - 1, ?3, ?4,"  \
    " ?1, NULL, ?5, ?5 * (SELECT i_price FROM item WHERE i_id = ?4) FROM district"           \
    " WHERE d_w_id = ?1 AND d_id = ?2"
#define PAY_WH "UPDATE warehouse SET w_ytd = w_ytd + ?2 WHERE w_id = ?1"
#define PAY_DIST "UPDATE district SET d_ytd = d_ytd + ?3 WHERE d_w_id = ?1 AND d_id = ?2"
#define PAY_CUST                                                                              \
    "UPDATE customer SET c_balance = c_balance - ?4, c_ytd_payment = c_ytd_payment + ?4,"    \
    " c_payment_cnt = c_payment_cnt + 1 WHERE c_w_id = ?1 AND c_d_id = ?2 AND c_id = ?3"
#define PAY_HIST                                                                              \
    "INSERT INTO history (h_txn, h_c_id, h_c_d_id, h_c_w_id, h_d_id, h_w_id, h_date,"        \
    " h_amount) VALUES (?1, ?2, ?3, ?4, ?3, ?4, ?5, ?6)"

/* Scale: warehouses, items, customers per district, initial orders per district. */
typedef struct scale {
    int wh, items, cust, orders0;
    double phase_s;
} scale;

/* One analytical query: start (monotonic ns), latency and freshness (ns), query index. */
typedef struct qsample {
    uint64_t start, lat, fresh;
    int q, strong;
} qsample;

static struct {
    rhei_db *db;
    scale sc;
    pthread_mutex_t commit_mu;       /* txn numbering + commit: numbers follow commit order */
    int64_t next_txn;                /* under commit_mu */
    _Atomic uint64_t *commit_ns;     /* by txn number; 0 = not committed (yet) */
    unsigned char *kind;             /* by txn number: 1 New-Order, 2 Payment */
    atomic_int stop;
    atomic_llong errors;             /* failed OLTP transactions */
    qsample *samp;                   /* written by the analytical thread only */
    size_t nsamp;
    int64_t misrouted, qerrors, empty;
    rhei_consistency cons;
} H;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int64_t rnd(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --- load -------------------------------------------------------------------------------- */

/* Batches INSERTs of one shape: rows are added with add(), flushed per 2,000 statements. */
typedef struct loader {
    rhei_statement st[2000];
    rhei_value p[2000][9];
    char txt[2000][2][24];
    size_t n;
} loader;

static void load_flush(loader *l)
{
    if (l->n)
        bu_check(H.db, rhei_execute_batch(H.db, l->st, l->n, NULL), "htap load batch");
    l->n = 0;
}

static rhei_value *load_row(loader *l, const char *sql, size_t np)
{
    if (l->n == 2000)
        load_flush(l);
    l->st[l->n] = (rhei_statement){sql, l->p[l->n], np};
    return l->p[l->n++];
}

static void load(int64_t t_load)
{
    static loader l; /* large; one workload at a time */
    const scale *sc = &H.sc;
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < NTABLES; i++) {
        bu_check(H.db, rhei_execute(H.db, ddl[i], NULL, 0, NULL), "htap create table");
        bu_check(H.db, rhei_register_table(H.db, tables[i], NULL, 0, NULL, 0),
                 "htap register table");
    }
    for (int w = 1; w <= sc->wh; w++) {
        rhei_value *p = load_row(&l, "INSERT INTO warehouse VALUES (?1, 'wh', ?2, 300000.0)", 2);
        p[0] = rhei_int(w);
        p[1] = rhei_real((double)rnd(&s, 0, 2000) / 10000.0);
        for (int d = 1; d <= NDIST; d++) {
            p = load_row(&l, "INSERT INTO district VALUES (?1, ?2, 'dist', ?3, 30000.0, ?4)", 4);
            p[0] = rhei_int(w);
            p[1] = rhei_int(d);
            p[2] = rhei_real((double)rnd(&s, 0, 2000) / 10000.0);
            p[3] = rhei_int(sc->orders0 + 1);
        }
    }
    for (int i = 1; i <= sc->items; i++) {
        rhei_value *p = load_row(&l, "INSERT INTO item VALUES (?1, 'item', ?2, ?3)", 3);
        char *t = l.txt[l.n - 1][0];
        snprintf(t, 24, "%s%06d", rnd(&s, 1, 10) == 1 ? "PR" : "OR", i);
        p[0] = rhei_int(i);
        p[1] = rhei_real((double)rnd(&s, 100, 10000) / 100.0);
        p[2] = rhei_text(t);
    }
    for (int w = 1; w <= sc->wh; w++)
        for (int i = 1; i <= sc->items; i++) {
            rhei_value *p = load_row(&l, "INSERT INTO stock VALUES (?1, ?2, ?3, 0, 0)", 3);
            p[0] = rhei_int(w);
            p[1] = rhei_int(i);
            p[2] = rhei_int(rnd(&s, 10, 100));
        }
    for (int w = 1; w <= sc->wh; w++)
        for (int d = 1; d <= NDIST; d++)
            for (int c = 1; c <= sc->cust; c++) {
                rhei_value *p = load_row(&l, "INSERT INTO customer VALUES (?1, ?2, ?3, ?4, ?5,"
                                             " -10.0, 10.0, 1)", 5);
                char *last = l.txt[l.n - 1][0], *st = l.txt[l.n - 1][1];
                snprintf(last, 24, "LAST%d", c % 1000);
                st[0] = (char)('A' + rnd(&s, 0, 25));
                st[1] = (char)('A' + rnd(&s, 0, 25));
                st[2] = 0;
                p[0] = rhei_int(w);
                p[1] = rhei_int(d);
                p[2] = rhei_int(c);
                p[3] = rhei_text(last);
                p[4] = rhei_text(st);
            }
    /* Initial orders are delivered (carrier and delivery date set); o_txn 0. */
    for (int w = 1; w <= sc->wh; w++)
        for (int d = 1; d <= NDIST; d++)
            for (int o = 1; o <= sc->orders0; o++) {
                int64_t entry = t_load - (int64_t)(sc->orders0 - o) * 1000000;
                int64_t nol = rnd(&s, 5, 15);
                rhei_value *p = load_row(&l, "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5,"
                                             " ?6, ?7, 1, 0)", 7);
                p[0] = rhei_int(w);
                p[1] = rhei_int(d);
                p[2] = rhei_int(o);
                p[3] = rhei_int(rnd(&s, 1, sc->cust));
                p[4] = rhei_int(entry);
                p[5] = rhei_int(rnd(&s, 1, 10));
                p[6] = rhei_int(nol);
                for (int64_t n = 1; n <= nol; n++) {
                    p = load_row(&l, "INSERT INTO order_line VALUES (?1, ?2, ?3, ?4, ?5, ?1,"
                                     " ?6, ?7, ?8)", 8);
                    int64_t q = rnd(&s, 1, 10);
                    p[0] = rhei_int(w);
                    p[1] = rhei_int(d);
                    p[2] = rhei_int(o);
                    p[3] = rhei_int(n);
                    p[4] = rhei_int(rnd(&s, 1, sc->items));
                    p[5] = rhei_int(entry + 1000);
                    p[6] = rhei_int(q);
                    p[7] = rhei_real((double)q * (double)rnd(&s, 100, 10000) / 100.0);
                }
            }
    load_flush(&l);
}

/* --- OLTP -------------------------------------------------------------------------------- */

typedef struct oltp_arg {
    int id;
} oltp_arg;

static void *oltp_main(void *arg)
{
    const oltp_arg *a = arg;
    uint64_t s = 0xD1B54A32D192ED03ull * (uint64_t)(a->id + 1);
    rhei_statement st[2 + 2 * 15];
    rhei_value p[2 + 2 * 15][6];
    int home = a->id % H.sc.wh + 1;
    while (!atomic_load(&H.stop)) {
        size_t n = 0;
        int is_no = rnd(&s, 1, 100) <= 51; /* TPC-C 45:43 New-Order:Payment, normalized */
        int64_t d = rnd(&s, 1, NDIST);
        rhei_value *txn_slot, *time_slot;
        if (is_no) {
            int64_t nol = rnd(&s, 5, 15);
            p[0][0] = rhei_int(home);
            p[0][1] = rhei_int(d);
            st[n++] = (rhei_statement){NO_DIST, p[0], 2};
            p[1][0] = rhei_int(home);
            p[1][1] = rhei_int(d);
            p[1][2] = rhei_int(rnd(&s, 1, H.sc.cust));
            p[1][4] = rhei_int(nol);
            time_slot = &p[1][3];
            txn_slot = &p[1][5];
            st[n++] = (rhei_statement){NO_ORDER, p[1], 6};
            for (int64_t k = 1; k <= nol; k++) {
                int64_t item = rnd(&s, 1, H.sc.items), q = rnd(&s, 1, 10);
                rhei_value *ps = p[n];
                ps[0] = rhei_int(home);
                ps[1] = rhei_int(item);
                ps[2] = rhei_int(q);
                st[n++] = (rhei_statement){NO_STOCK, ps, 3};
                rhei_value *pl = p[n];
                pl[0] = rhei_int(home);
                pl[1] = rhei_int(d);
                pl[2] = rhei_int(k);
                pl[3] = rhei_int(item);
                pl[4] = rhei_int(q);
                st[n++] = (rhei_statement){NO_LINE, pl, 5};
            }
        } else {
            double amt = (double)rnd(&s, 100, 500000) / 100.0;
            int64_t c = rnd(&s, 1, H.sc.cust);
            p[0][0] = rhei_int(home);
            p[0][1] = rhei_real(amt);
            st[n++] = (rhei_statement){PAY_WH, p[0], 2};
            p[1][0] = rhei_int(home);
            p[1][1] = rhei_int(d);
            p[1][2] = rhei_real(amt);
            st[n++] = (rhei_statement){PAY_DIST, p[1], 3};
            p[2][0] = rhei_int(home);
            p[2][1] = rhei_int(d);
            p[2][2] = rhei_int(c);
            p[2][3] = rhei_real(amt);
            st[n++] = (rhei_statement){PAY_CUST, p[2], 4};
            p[3][1] = rhei_int(c);
            p[3][2] = rhei_int(d);
            p[3][3] = rhei_int(home);
            p[3][5] = rhei_real(amt);
            txn_slot = &p[3][0];
            time_slot = &p[3][4];
            st[n++] = (rhei_statement){PAY_HIST, p[3], 6};
        }
        /* Numbering and commit under one lock, so txn numbers follow commit order and what
         * OLAP has applied is always a prefix 1..seen. SQLite has one writer anyway. */
        pthread_mutex_lock(&H.commit_mu);
        int64_t txn = H.next_txn + 1;
        if (txn >= MAXTXN) {
            pthread_mutex_unlock(&H.commit_mu);
            break;
        }
        *txn_slot = rhei_int(txn);
        *time_slot = rhei_int(wall_us()); /* o_entry_d / h_date: wall time, microseconds */
        int rc = rhei_execute_batch(H.db, st, n, NULL);
        if (rc == RHEI_OK) {
            H.kind[txn] = (unsigned char)(is_no ? 1 : 2);
            atomic_store(&H.commit_ns[txn], bu_now_ns());
            H.next_txn = txn;
        } else {
            atomic_fetch_add(&H.errors, 1); /* number not consumed: no gaps */
        }
        pthread_mutex_unlock(&H.commit_mu);
    }
    return NULL;
}

/* --- analytics --------------------------------------------------------------------------- */

static void *olap_main(void *arg)
{
    (void)arg;
    rhei_query_opts o = {RHEI_SIDE_AUTO, H.cons};
    for (int q = 0; !atomic_load(&H.stop) && H.nsamp < MAXSAMP; q = (q + 1) % NQ) {
        rhei_result *r = NULL;
        uint64_t t0 = bu_now_ns();
        int rc = rhei_query_ex(H.db, q_sql[q], NULL, 0, &o, &r);
        uint64_t t1 = bu_now_ns();
        if (rc != RHEI_OK) {
            H.qerrors++;
            if (H.qerrors < 4)
                fprintf(stderr, "htap: %s failed: %s\n", q_name[q], rhei_errmsg(H.db));
            continue;
        }
        if (rhei_result_side(r) != RHEI_SIDE_OLAP)
            H.misrouted++;
        size_t rows = rhei_result_row_count(r), cols = rhei_result_column_count(r);
        if (rows == 0 || rhei_result_is_null(r, 0, cols - 1)) {
            H.empty++;
            rhei_result_free(r);
            continue;
        }
        int64_t seen = rhei_result_int64(r, 0, cols - 1);
        rhei_result_free(r);
        /* First unseen txn is seen+1 (prefix); its commit time is stored before t1 if it
         * committed before t0. Freshness: t0 minus that commit time, 0 if none. */
        uint64_t fresh = 0;
        if (seen + 1 < MAXTXN) {
            uint64_t c = atomic_load(&H.commit_ns[seen + 1]);
            if (c && c < t0)
                fresh = t0 - c;
        }
        H.samp[H.nsamp++] = (qsample){t0, t1 - t0, fresh, q, H.cons == RHEI_STRONG};
    }
    return NULL;
}

/* A thread that only computes: what one busy core takes from OLTP on this machine, with no
 * engine involved (the isolation floor the analytical thread is compared with). */
static void *hog_main(void *arg)
{
    (void)arg;
    volatile uint64_t x = 1;
    while (!atomic_load(&H.stop))
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
    return NULL;
}

/* --- phases ------------------------------------------------------------------------------ */

typedef struct phase {
    const char *name;
    int olap;                 /* 1: analytical thread on; 2: a CPU-only thread instead */
    rhei_consistency cons;
    uint64_t t0, t1;          /* monotonic ns */
    int64_t txn0, txn1;       /* txn numbers (txn0, txn1] committed in the phase */
    size_t s0, s1;            /* samples [s0, s1) */
    double tpmc, tpm;         /* New-Orders / all txns per minute */
    bu_samples cycle_ms;      /* sync cycle durations seen during the phase */
} phase;

static void run_phase(phase *ph)
{
    pthread_t th[NOLTP + 1];
    oltp_arg a[NOLTP];
    bu_check(H.db, rhei_sync_now(H.db, NULL), "htap sync between phases");
    bu_engine_quiesce(H.db);
    atomic_store(&H.stop, 0);
    H.cons = ph->cons;
    ph->s0 = H.nsamp;
    pthread_mutex_lock(&H.commit_mu);
    ph->txn0 = H.next_txn;
    pthread_mutex_unlock(&H.commit_mu);
    ph->t0 = bu_now_ns();
    for (int i = 0; i < NOLTP; i++) {
        a[i].id = i;
        if (pthread_create(&th[i], NULL, oltp_main, &a[i]) != 0)
            bu_die("htap: pthread_create");
    }
    if (ph->olap && pthread_create(&th[NOLTP], NULL, ph->olap == 2 ? hog_main : olap_main,
                                   NULL) != 0)
        bu_die("htap: pthread_create");
    /* Meanwhile, sample the duration of every sync cycle (what bounds freshness). */
    int64_t last_cycles = -1;
    while ((double)(bu_now_ns() - ph->t0) < H.sc.phase_s * 1e9) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        rhei_sync_status ss;
        if (rhei_sync_status_get(H.db, &ss) == RHEI_OK && ss.cycles != last_cycles) {
            if (last_cycles >= 0)
                bu_samples_add(&ph->cycle_ms, (double)ss.last_cycle_us / 1e3);
            last_cycles = ss.cycles;
        }
    }
    atomic_store(&H.stop, 1);
    for (int i = 0; i < NOLTP + (ph->olap ? 1 : 0); i++)
        pthread_join(th[i], NULL);
    ph->t1 = bu_now_ns();
    ph->txn1 = H.next_txn;
    ph->s1 = H.nsamp;
    int64_t no = 0;
    for (int64_t t = ph->txn0 + 1; t <= ph->txn1; t++)
        no += H.kind[t] == 1;
    double min = (double)(ph->t1 - ph->t0) / 60e9;
    ph->tpmc = (double)no / min;
    ph->tpm = (double)(ph->txn1 - ph->txn0) / min;
    bu_log("htap %-14s tpmC %.0f, %lld txns, %zu queries, sync cycle p50/p99 %.1f/%.1f ms",
           ph->name, ph->tpmc, (long long)(ph->txn1 - ph->txn0), ph->s1 - ph->s0,
           bu_pct(&ph->cycle_ms, 50), bu_pct(&ph->cycle_ms, 99));
}

/* Freshness (ms) and latency (us) samples of a phase; returns the count. */
static size_t phase_samples(const phase *ph, bu_samples *fresh_ms, bu_samples *lat_us,
                            size_t *stale)
{
    *stale = 0;
    for (size_t i = ph->s0; i < ph->s1; i++) {
        bu_samples_add(fresh_ms, (double)H.samp[i].fresh / 1e6);
        bu_samples_add(lat_us, (double)H.samp[i].lat / 1e3);
        *stale += H.samp[i].fresh > 0;
    }
    return ph->s1 - ph->s0;
}

/* Per-second series of all phases, one row per second, in htap.tsv next to the --json
 * results (bench/results/ for `make bench`, which plots it; rh bench's folder otherwise,
 * never the source tree it was built from). */
static void write_series(const phase *ph, size_t nph, char *path, size_t pathn)
{
    snprintf(path, pathn, "%s", bu_opt.json && *bu_opt.json ? bu_opt.json : RHEI_BENCH_RESULTS);
    char *slash = strrchr(path, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(path, pathn, ".");
    mkdir(path, 0777);
    size_t len = strlen(path);
    snprintf(path + len, pathn - len, "/htap.tsv");
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "rhei_bench: cannot write '%s'\n", path);
        return;
    }
    fprintf(f, "t_s\tphase\ttpmC\ttxn_per_min\tfresh_p99_ms\tqueries\tlat_p50_ms\n");
    double toff = 0;
    for (size_t k = 0; k < nph; k++) {
        const phase *p = &ph[k];
        int nsec = (int)((p->t1 - p->t0) / 1000000000ull);
        for (int sec = 0; sec < nsec; sec++) {
            uint64_t a = p->t0 + (uint64_t)sec * 1000000000ull, b = a + 1000000000ull;
            int64_t no = 0, all = 0;
            for (int64_t t = p->txn0 + 1; t <= p->txn1; t++) {
                uint64_t c = H.commit_ns[t];
                if (c >= a && c < b) {
                    all++;
                    no += H.kind[t] == 1;
                }
            }
            bu_samples fr = {0}, la = {0};
            for (size_t i = p->s0; i < p->s1; i++)
                if (H.samp[i].start >= a && H.samp[i].start < b) {
                    bu_samples_add(&fr, (double)H.samp[i].fresh / 1e6);
                    bu_samples_add(&la, (double)H.samp[i].lat / 1e6);
                }
            size_t nq = fr.n;
            fprintf(f, "%.0f\t%s\t%lld\t%lld\t%.3f\t%zu\t%.3f\n", toff + sec, p->name,
                    (long long)(no * 60), (long long)(all * 60), bu_pct(&fr, 99), nq,
                    bu_pct(&la, 50));
            bu_samples_free(&fr);
            bu_samples_free(&la);
        }
        toff += nsec;
    }
    fclose(f);
}

void w_htap(void)
{
    memset(&H, 0, sizeof H);
    H.sc = bu_opt.quick ? (scale){1, 10000, 300, 100, 1.5}
                        : (scale){2, 100000, 3000, 300, 10.0};
    pthread_mutex_init(&H.commit_mu, NULL);
    H.commit_ns = calloc(MAXTXN, sizeof *H.commit_ns);
    H.kind = calloc(MAXTXN, 1);
    H.samp = calloc(MAXSAMP, sizeof *H.samp);
    if (!H.commit_ns || !H.kind || !H.samp)
        bu_die("htap: out of memory");
    bu_rss_reset_peak();

    char path[512];
    bu_path(path, sizeof path, "htap.db");
    rhei_config *cfg = NULL;
    if (rhei_config_new(&cfg) != RHEI_OK)
        bu_die("rhei_config_new failed");
    /* olap_threads 1: on 2 cores DuckDB would otherwise take both from the OLTP threads. */
    const char *kv[][2] = {{"oltp_path", path}, {"sync_interval_ms", SYNC_MS},
                           {"olap_threads", "1"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rhei_config_set(cfg, kv[i][0], kv[i][1]) != RHEI_OK)
            bu_die("config: %s", rhei_config_errmsg(cfg));
    if (rhei_open(cfg, &H.db) != RHEI_OK)
        bu_die("rhei_open '%s' failed: %s", path, rhei_errmsg(NULL));
    rhei_config_free(cfg);

    double tl = bu_now();
    load(wall_us());
    bu_check(H.db, rhei_sync_now(H.db, NULL), "htap initial sync");
    double load_s = bu_now() - tl;
    bu_log("htap: loaded %d warehouse(s) in %.1f s", H.sc.wh, load_s);
    for (int q = 0; q < NQ; q++) {
        rhei_route_info ri;
        bu_check(H.db, rhei_explain_route(H.db, q_sql[q], &ri), "htap explain route");
        if (ri.side != RHEI_SIDE_OLAP)
            fprintf(stderr, "htap: %s routed to OLTP (%s)\n", q_name[q], ri.reason);
    }

    /* OLTP alone before and after the analytical phases; the baseline is their mean, so the
     * database growing during the run does not bias the comparison. Sync runs in all. */
    phase warm = {"warm-up", 0, RHEI_EVENTUAL, 0, 0, 0, 0, 0, 0, 0, 0, {0}};
    double keep = H.sc.phase_s;
    H.sc.phase_s = keep / 3;
    run_phase(&warm); /* caches, first log pruning; not reported */
    H.sc.phase_s = keep;
    bu_samples_free(&warm.cycle_ms);
    phase ph[] = {{"oltp-alone-1", 0, RHEI_EVENTUAL, 0, 0, 0, 0, 0, 0, 0, 0, {0}},
                  {"htap-eventual", 1, RHEI_EVENTUAL, 0, 0, 0, 0, 0, 0, 0, 0, {0}},
                  {"htap-strong", 1, RHEI_STRONG, 0, 0, 0, 0, 0, 0, 0, 0, {0}},
                  {"oltp-busy-core", 2, RHEI_EVENTUAL, 0, 0, 0, 0, 0, 0, 0, 0, {0}},
                  {"oltp-alone-2", 0, RHEI_EVENTUAL, 0, 0, 0, 0, 0, 0, 0, 0, {0}}};
    const size_t nph = sizeof ph / sizeof ph[0];
    for (size_t i = 0; i < nph; i++)
        run_phase(&ph[i]);
    double rss = bu_rss_peak_mb();
    rhei_route_stats rs = {0};
    rhei_route_stats_get(H.db, &rs);
    double alone = (ph[0].tpmc + ph[4].tpmc) / 2;

    bu_samples fe = {0}, le = {0}, fs = {0}, ls = {0};
    size_t stale_e, stale_s;
    size_t ne = phase_samples(&ph[1], &fe, &le, &stale_e);
    size_t ns = phase_samples(&ph[2], &fs, &ls, &stale_s);

    bu_row *r = bu_row_add("htap", "htap tpmC, OLTP alone (NO/min)", "NO/min", 0);
    r->engine = alone;
    snprintf(r->note, sizeof r->note, "%d wh; 2 threads NO+Payment 51:49; mean of runs before"
             " (%.0f) and after (%.0f); all txns %.0f/min; sync %s ms", H.sc.wh, ph[0].tpmc,
             ph[4].tpmc, (ph[0].tpm + ph[4].tpm) / 2, SYNC_MS);

    r = bu_row_add("htap", "htap tpmC next to a busy core (no analytics)", "NO/min", 0);
    r->engine = ph[3].tpmc;
    snprintf(r->base_name, sizeof r->base_name, "OLTP alone");
    r->base = alone;
    snprintf(r->note, sizeof r->note, "drop %.1f%%; a thread that only computes instead of the"
             " analytical one: the isolation floor of this machine's cores",
             (1 - ph[3].tpmc / alone) * 100);

    r = bu_row_add("htap", "htap tpmC under analytics, eventual", "NO/min", 0);
    r->engine = ph[1].tpmc;
    snprintf(r->base_name, sizeof r->base_name, "OLTP alone");
    r->base = alone;
    bu_row_target(r, BU_TARGET_RATIO_MIN, 0.90, "OLTP drop <= 10%");
    snprintf(r->note, sizeof r->note, "drop %.1f%% (%.1f%% next to a busy core); 1 analytical"
             " thread, closed loop, 5 CH queries; %zu queries; DuckDB olap_threads 1",
             (1 - ph[1].tpmc / alone) * 100, (1 - ph[3].tpmc / alone) * 100, ne);

    r = bu_row_add("htap", "htap freshness p99, eventual (ms)", "ms", 1);
    r->engine = bu_pct(&fe, 99);
    snprintf(r->base_name, sizeof r->base_name, "target bound");
    r->base = 50.0;
    /* p50 is 0 when most queries saw every commit: a fresh answer, not a broken timer */
    r->p50_us = bu_pct(&fe, 50) > 0 ? bu_pct(&fe, 50) * 1e3 : NAN;
    r->p99_us = r->engine * 1e3;
    bu_row_target(r, BU_TARGET_RATIO_MIN, 1.0, "freshness p99 <= 50 ms");
    snprintf(r->note, sizeof r->note, "HATtrick: start - commit of 1st unseen txn; max %.0f"
             " ms; %zu/%zu stale; sync cycle p50/p99 %.1f/%.1f ms (OLTP alone %.1f/%.1f)",
             bu_pct(&fe, 100), stale_e, ne, bu_pct(&ph[1].cycle_ms, 50),
             bu_pct(&ph[1].cycle_ms, 99), bu_pct(&ph[0].cycle_ms, 50),
             bu_pct(&ph[0].cycle_ms, 99));

    r = bu_row_add("htap", "htap query latency, eventual (ms)", "ms", 1);
    r->engine = bu_median(&le) / 1e3;
    r->p50_us = bu_pct(&le, 50);
    r->p99_us = bu_pct(&le, 99);
    snprintf(r->note, sizeof r->note, "Q1 Q3 Q6 Q12 Q14 round robin, routed rhei_query_ex;"
             " %lld not on OLAP, %lld errors, %lld empty", (long long)H.misrouted,
             (long long)H.qerrors, (long long)H.empty);

    r = bu_row_add("htap", "htap tpmC under analytics, strong", "NO/min", 0);
    r->engine = ph[2].tpmc;
    snprintf(r->base_name, sizeof r->base_name, "OLTP alone");
    r->base = alone;
    snprintf(r->note, sizeof r->note, "drop %.1f%%; RHEI_STRONG reads; %zu queries",
             (1 - ph[2].tpmc / alone) * 100, ns);

    r = bu_row_add("htap", "htap strong: queries fully fresh (%)", "%", 0);
    r->engine = ns ? 100.0 * (double)(ns - stale_s) / (double)ns : NAN;
    snprintf(r->note, sizeof r->note, "freshness 0 by construction: %zu of %zu queries saw a"
             " stale snapshot (max %.2f ms)", stale_s, ns, bu_pct(&fs, 100));

    r = bu_row_add("htap", "htap query latency, strong (ms)", "ms", 1);
    r->engine = bu_median(&ls) / 1e3;
    r->p50_us = bu_pct(&ls, 50);
    r->p99_us = bu_pct(&ls, 99);
    snprintf(r->base_name, sizeof r->base_name, "eventual");
    r->base = bu_median(&le) / 1e3;
    snprintf(r->note, sizeof r->note, "RHEI_STRONG waits for the sync of every earlier commit;"
             " route stats: %lld olap, %lld oltp, %lld fallbacks", (long long)rs.olap,
             (long long)rs.oltp, (long long)rs.fallbacks);

    r = bu_row_add("htap", "htap peak RSS (MB)", "MB", 1);
    r->engine = rss;
    snprintf(r->note, sizeof r->note, "VmHWM from load to the end of the last phase; load"
             " %.1f s; %lld failed txns", load_s, (long long)atomic_load(&H.errors));

    char tsv[600];
    write_series(ph, nph, tsv, sizeof tsv);
    bu_log("htap: series in %s", tsv);

    for (size_t i = 0; i < nph; i++)
        bu_samples_free(&ph[i].cycle_ms);
    bu_samples_free(&fe);
    bu_samples_free(&le);
    bu_samples_free(&fs);
    bu_samples_free(&ls);
    bu_check(H.db, rhei_close(H.db), "htap close");
    bu_unlink_db(path);
    free(H.commit_ns);
    free(H.kind);
    free(H.samp);
    pthread_mutex_destroy(&H.commit_mu);
}
