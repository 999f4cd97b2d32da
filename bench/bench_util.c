/* bench_util.c — the shared harness of rhei_bench: clocks, percentiles, temporary folders,
 * the orders schema and its row generator, fill helpers, and the result table with its text
 * and JSON forms. Rows live in one fixed array; nothing here is thread-safe but the clock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw, mkdtemp, gmtime_r */
#endif
#include "bench_util.h"
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

bu_opts bu_opt;

#define MAX_ROWS 96

static bu_row rows[MAX_ROWS];
static size_t nrows;
static char tmpdir[512];

/* --- messages ---------------------------------------------------------------------------- */

void bu_log(const char *fmt, ...)
{
    if (!bu_opt.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  .. ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

void bu_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rhei_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

void bu_check(rhei_db *db, int rc, const char *what)
{
    if (rc != RHEI_OK)
        bu_die("%s failed: %s (%s)", what, rhei_errmsg(db), rhei_errstr(rc));
}

void bu_sq_exec(sqlite3 *h, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK)
        bu_die("sqlite: '%.60s': %s", sql, err ? err : sqlite3_errmsg(h));
}

sqlite3_stmt *bu_sq_prepare(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        bu_die("sqlite: cannot prepare '%.60s': %s", sql, sqlite3_errmsg(h));
    return st;
}

void bu_sq_run(sqlite3 *h, sqlite3_stmt *st)
{
    int rc;
    volatile int64_t sink = 0; /* read every cell, as the engine materializes them */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        for (int c = 0; c < nc; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_TEXT)
                sink += sqlite3_column_bytes(st, c);
            else
                sink += sqlite3_column_int64(st, c);
        }
    }
    if (rc != SQLITE_DONE)
        bu_die("sqlite: step: %s", sqlite3_errmsg(h));
    sqlite3_reset(st);
    (void)sink;
}

/* --- clocks and samples ------------------------------------------------------------------ */

uint64_t bu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double bu_now(void) { return (double)bu_now_ns() / 1e9; }

void bu_samples_add(bu_samples *s, double x)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            bu_die("out of memory for samples");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = x;
}

void bu_samples_free(bu_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bu_pct(bu_samples *s, double p)
{
    if (!s->n)
        return NAN;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)s->n);
    return s->v[rank ? rank - 1 : 0];
}

double bu_median(bu_samples *s)
{
    if (!s->n)
        return NAN;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

double bu_paired_ratio(const bu_samples *eng, const bu_samples *base)
{
    bu_samples q = {0};
    for (size_t i = 0; i < eng->n && i < base->n; i++)
        if (base->v[i] > 0)
            bu_samples_add(&q, eng->v[i] / base->v[i]);
    double m = bu_median(&q);
    bu_samples_free(&q);
    return m;
}

/* --- temporary files --------------------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static void cleanup(void)
{
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tmpdir[0] = '\0';
}

/* Not async-signal-safe, but an interrupted benchmark should not leave gigabytes in /tmp. */
static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

const char *bu_tmpdir(void)
{
    if (tmpdir[0])
        return tmpdir;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/rhei_bench.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        bu_die("cannot create a temporary folder '%s': %s", tmpdir, strerror(errno));
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return tmpdir;
}

void bu_unlink_db(const char *path)
{
    char b[600];
    unlink(path);
    snprintf(b, sizeof b, "%s-wal", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-shm", path);
    unlink(b);
    snprintf(b, sizeof b, "%s-journal", path);
    unlink(b);
}

void bu_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", bu_tmpdir(), name);
    bu_unlink_db(buf);
}

static double status_mb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = NAN;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            kb = strtod(line + kl + 1, NULL);
    if (f)
        fclose(f);
    return kb / 1024.0;
}

double bu_loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = NAN;
    if (f && fscanf(f, "%lf", &v) != 1)
        v = NAN;
    if (f)
        fclose(f);
    return v;
}

double bu_rss_peak_mb(void) { return status_mb("VmHWM"); }
double bu_rss_now_mb(void) { return status_mb("VmRSS"); }

static double peak_before_resets; /* the largest VmHWM seen before a reset */

double bu_rss_process_peak_mb(void)
{
    double now = bu_rss_peak_mb();
    return now > peak_before_resets ? now : peak_before_resets;
}

double bu_rss_reset_peak(void)
{
    peak_before_resets = bu_rss_process_peak_mb();
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return NAN;
    int ok = fputs("5", f) >= 0;
    ok &= fclose(f) == 0;
    return ok ? bu_rss_now_mb() : NAN;
}

/* --- schema and rows --------------------------------------------------------------------- */

static const char *const categories[BU_NCATEGORIES] = {
    "books", "games", "music", "tools", "garden", "toys", "food", "shoes",
    "phones", "cameras", "sports", "beauty", "office", "auto", "pets", "baby"};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void bu_order_make(int64_t id, bu_order *o)
{
    uint64_t h = mix64((uint64_t)id);
    o->id = id;
    snprintf(o->customer, sizeof o->customer, "cust%05u", (unsigned)(h % BU_NCUSTOMERS));
    o->category = categories[(h >> 16) % BU_NCATEGORIES];
    o->amount = (double)((h >> 24) % 100000) / 100.0;
    o->qty = 1 + (int64_t)((h >> 48) % 10);
}

void bu_order_params(const bu_order *o, rhei_value p[5])
{
    p[0] = rhei_int(o->id);
    p[1] = rhei_text(o->customer);
    p[2] = rhei_text(o->category);
    p[3] = rhei_real(o->amount);
    p[4] = rhei_int(o->qty);
}

void bu_order_bind(sqlite3_stmt *st, const bu_order *o)
{
    sqlite3_bind_int64(st, 1, o->id);
    sqlite3_bind_text(st, 2, o->customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->category, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, o->amount);
    sqlite3_bind_int64(st, 5, o->qty);
}

rhei_db *bu_engine_open(const char *oltp_path)
{
    rhei_config *cfg = NULL;
    rhei_db *db = NULL;
    if (rhei_config_new(&cfg) != RHEI_OK)
        bu_die("rhei_config_new failed");
    if (rhei_config_set(cfg, "oltp_path", oltp_path) != RHEI_OK)
        bu_die("config: %s", rhei_config_errmsg(cfg));
    int rc = rhei_open(cfg, &db);
    rhei_config_free(cfg);
    if (rc != RHEI_OK)
        bu_die("rhei_open '%s' failed: %s (%s)", oltp_path, rhei_errmsg(NULL), rhei_errstr(rc));
    return db;
}

void bu_engine_create_orders(rhei_db *db)
{
    bu_check(db, rhei_execute(db, BU_ORDERS_DDL, NULL, 0, NULL), "create table orders");
    bu_check(db, rhei_register_table(db, "orders", NULL, 0, NULL, 0), "register orders");
}

void bu_engine_insert(rhei_db *db, int64_t first, int64_t n, size_t per_tx)
{
    rhei_statement *st = calloc(per_tx, sizeof *st);
    rhei_value (*p)[5] = calloc(per_tx, sizeof *p);
    bu_order *o = calloc(per_tx, sizeof *o);
    if (!st || !p || !o)
        bu_die("out of memory for a batch of %zu", per_tx);
    for (int64_t done = 0; done < n;) {
        size_t k = 0;
        for (; k < per_tx && done < n; k++, done++) {
            bu_order_make(first + done, &o[k]);
            bu_order_params(&o[k], p[k]);
            st[k] = (rhei_statement){BU_INSERT_SQL, p[k], 5};
        }
        bu_check(db, rhei_execute_batch(db, st, k, NULL), "rhei_execute_batch insert");
    }
    free(o);
    free(p);
    free(st);
}

void bu_engine_quiesce(rhei_db *db)
{
    struct timespec pause = {0, 30 * 1000000L};
    nanosleep(&pause, NULL);
    bu_check(db, rhei_execute(db, "SELECT 1", NULL, 0, NULL), "rhei_execute SELECT 1");
}

sqlite3 *bu_sq_open(const char *path)
{
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        bu_die("sqlite: cannot open '%s': %s", path, h ? sqlite3_errmsg(h) : "out of memory");
    sqlite3_busy_timeout(h, 5000);
    bu_sq_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                  " PRAGMA recursive_triggers=ON;");
    return h;
}

void bu_sq_fill(sqlite3 *h, int64_t first, int64_t n, int64_t per_tx)
{
    sqlite3_stmt *st = bu_sq_prepare(h, BU_INSERT_SQL);
    bu_order o;
    for (int64_t done = 0; done < n;) {
        bu_sq_exec(h, "BEGIN");
        for (int64_t k = 0; k < per_tx && done < n; k++, done++) {
            bu_order_make(first + done, &o);
            bu_order_bind(st, &o);
            if (sqlite3_step(st) != SQLITE_DONE)
                bu_die("sqlite: fill: %s", sqlite3_errmsg(h));
            sqlite3_reset(st);
        }
        bu_sq_exec(h, "COMMIT");
    }
    sqlite3_finalize(st);
}

void bu_sq_prune_log(sqlite3 *h)
{
    bu_sq_exec(h, "DELETE FROM _rhei_log WHERE seq < (SELECT max(seq) FROM _rhei_log)");
}

void bu_make_capture_file(const char *path)
{
    rhei_db *db = bu_engine_open(path);
    bu_engine_create_orders(db);
    bu_check(db, rhei_close(db), "close engine after registering");
}

/* --- formatting -------------------------------------------------------------------------- */

void bu_fmt_num(char *buf, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return;
    }
    if (fabs(v) < 100) {
        snprintf(buf, n, fabs(v) < 10 ? "%.2f" : "%.1f", v);
        return;
    }
    char digits[32], out[48];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), j = 0;
    if (v < 0)
        out[j++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = digits[i];
    }
    out[j] = '\0';
    snprintf(buf, n, "%s", out);
}

void bu_fmt_us(char *buf, size_t n, double us)
{
    if (!isfinite(us))
        snprintf(buf, n, "-");
    else if (us < 10)
        snprintf(buf, n, "%.1f us", us);
    else if (us < 1000)
        snprintf(buf, n, "%.0f us", us);
    else if (us < 1e6)
        snprintf(buf, n, "%.1f ms", us / 1000);
    else
        snprintf(buf, n, "%.2f s", us / 1e6);
}

/* --- the result table -------------------------------------------------------------------- */

bu_row *bu_row_add(const char *group, const char *name, const char *unit, int lower_better)
{
    if (nrows == MAX_ROWS)
        bu_die("too many result rows (raise MAX_ROWS)");
    bu_row *r = &rows[nrows++];
    memset(r, 0, sizeof *r);
    snprintf(r->group, sizeof r->group, "%s", group);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    r->lower_better = lower_better;
    r->engine = r->base = r->paired = NAN;
    r->p50_us = r->p99_us = r->base_p50_us = r->base_p99_us = NAN;
    return r;
}

bu_row *bu_row_versus(const char *group, const char *name, const char *unit,
                      bu_samples *eng, bu_samples *base, const char *base_name)
{
    bu_row *r = bu_row_add(group, name, unit, 0);
    r->paired = bu_paired_ratio(eng, base);
    r->engine = bu_median(eng);
    r->base = bu_median(base);
    snprintf(r->base_name, sizeof r->base_name, "%s", base_name);
    return r;
}

void bu_row_target(bu_row *r, int kind, double value, const char *text)
{
    if (r->ntargets == BU_MAX_TARGETS)
        bu_die("row '%s' has too many targets", r->name);
    bu_target *t = &r->targets[r->ntargets++];
    t->kind = kind;
    t->value = value;
    snprintf(t->text, sizeof t->text, "%s", text);
}

void bu_row_skip(bu_row *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->note, sizeof r->note, "skipped: ");
    va_start(ap, fmt);
    vsnprintf(r->note + n, sizeof r->note - (size_t)n, fmt, ap);
    va_end(ap);
    r->skipped = 1;
}

double bu_ratio(const bu_row *r)
{
    if (isfinite(r->paired))
        return r->paired;
    if (!isfinite(r->engine) || !isfinite(r->base) || r->engine <= 0 || r->base <= 0)
        return NAN;
    return r->lower_better ? r->base / r->engine : r->engine / r->base;
}

#define ROW_FMT "%-38s %12s  %-24s %12s %8s %9s %9s %9s %9s\n"

void bu_print_header(FILE *f)
{
    fprintf(f, ROW_FMT, "workload", "engine", "baseline", "", "ratio", "p50", "p99",
            "base p50", "base p99");
}

void bu_print_row(FILE *f, const bu_row *r)
{
    char e[32], b[32], ra[32], p50[32], p99[32], bp50[32], bp99[32];
    bu_fmt_num(e, sizeof e, r->engine);
    bu_fmt_num(b, sizeof b, r->base);
    double x = bu_ratio(r);
    if (isfinite(x))
        snprintf(ra, sizeof ra, x < 10 ? "%.2fx" : "%.0fx", x);
    else
        snprintf(ra, sizeof ra, "-");
    bu_fmt_us(p50, sizeof p50, r->p50_us);
    bu_fmt_us(p99, sizeof p99, r->p99_us);
    bu_fmt_us(bp50, sizeof bp50, r->base_p50_us);
    bu_fmt_us(bp99, sizeof bp99, r->base_p99_us);
    if (r->skipped)
        snprintf(e, sizeof e, "skipped");
    fprintf(f, ROW_FMT, r->name, e, r->base_name[0] ? r->base_name : "-",
            r->base_name[0] ? b : "", ra, p50, p99, bp50, bp99);
    if (r->note[0])
        fprintf(f, "    %s\n", r->note);
}

void bu_print_table(FILE *f)
{
    bu_print_header(f);
    for (size_t i = 0; i < nrows; i++)
        bu_print_row(f, &rows[i]);
}

static int target_max(const bu_target *t)
{
    return t->kind == BU_TARGET_ENGINE_MAX || t->kind == BU_TARGET_P99_MAX;
}

/* 1 met, 0 missed, -1 no figure; *got is the figure the target judges. */
static int target_met(const bu_row *r, const bu_target *t, double *got)
{
    switch (t->kind) {
    case BU_TARGET_RATIO_MIN: *got = bu_ratio(r); break;
    case BU_TARGET_P99_MAX: *got = r->p99_us; break;
    default: *got = r->engine; break;
    }
    if (r->skipped || !isfinite(*got))
        return -1;
    return target_max(t) ? *got <= t->value : *got >= t->value;
}

/* The figure a target judges, in the row's terms: "1.23x", "27,100", "180 us". */
static void target_fmt(char *buf, size_t n, const bu_row *r, const bu_target *t, double v)
{
    if (t->kind == BU_TARGET_RATIO_MIN)
        snprintf(buf, n, "%.2fx", v);
    else if (t->kind == BU_TARGET_P99_MAX || strcmp(r->unit, "us") == 0)
        bu_fmt_us(buf, n, v);
    else
        bu_fmt_num(buf, n, v);
}

static void print_target(FILE *f, const bu_row *r, const bu_target *t)
{
    double got;
    int met = target_met(r, t, &got);
    char g[32], want[32];
    target_fmt(g, sizeof g, r, t, got);
    target_fmt(want, sizeof want, r, t, t->value);
    double off = fabs(got / t->value - 1) * 100;
    if (met < 0)
        fprintf(f, "  %-38s %-28s %s\n", r->name, t->text, r->skipped ? "skipped" : "no figure");
    else if (met)
        fprintf(f, "  %-38s %-28s met: %s (%.0f%% %s)\n", r->name, t->text, g, off,
                target_max(t) ? "under" : "over");
    else
        fprintf(f, "  %-38s %-28s MISSED: %s vs %s (%.0f%% %s)\n", r->name, t->text, g, want,
                off, target_max(t) ? "over" : "short");
}

void bu_print_targets(FILE *f)
{
    int any = 0;
    for (size_t i = 0; i < nrows; i++) {
        for (size_t k = 0; k < rows[i].ntargets; k++) {
            if (!any++)
                fprintf(f, "\ntargets%s:\n", bu_opt.quick ? " (quick run: sizes are small,"
                                                            " only indicative)" : "");
            print_target(f, &rows[i], &rows[i].targets[k]);
        }
    }
}

static int bad(double v) { return !isfinite(v) || v <= 0; }

int bu_insane_rows(FILE *report)
{
    int n = 0;
    for (size_t i = 0; i < nrows; i++) {
        const bu_row *r = &rows[i];
        if (r->skipped)
            continue;
        int b = bad(r->engine) || (r->base_name[0] && bad(r->base)) ||
                (!isnan(r->p50_us) && bad(r->p50_us)) || (!isnan(r->p99_us) && bad(r->p99_us));
        if (b) {
            fprintf(report, "rhei_bench: insane figure in row '%s' (engine %g, baseline %g)\n",
                    r->name, r->engine, r->base);
            n++;
        }
    }
    return n;
}

static void cpu_model(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, n, "unknown cpu");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p += 1 + strspn(p + 1, " \t");
                p[strcspn(p, "\n")] = '\0';
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    if (f)
        fclose(f);
}

void bu_machine(char *buf, size_t n)
{
    char cpu[256];
    struct utsname u;
    cpu_model(cpu, sizeof cpu);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / 1073741824.0;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "?");
    snprintf(buf, n, "%s, %ld cores, %.1f GB RAM, Linux %s", cpu, cores, ram, u.release);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void mkdir_parent(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
}

static void json_targets(FILE *f, const bu_row *r)
{
    static const char *const kinds[] = {"none", "ratio_min", "engine_min", "engine_max",
                                        "p99_max"};
    fputs(", \"targets\": [", f);
    for (size_t k = 0; k < r->ntargets; k++) {
        const bu_target *t = &r->targets[k];
        double got;
        int met = target_met(r, t, &got);
        fputs(k ? ", {\"text\": " : "{\"text\": ", f);
        json_str(f, t->text);
        fprintf(f, ", \"kind\": \"%s\", \"value\": ", kinds[t->kind]);
        json_num(f, t->value);
        fputs(", \"got\": ", f);
        json_num(f, got);
        fprintf(f, ", \"met\": %s}", met < 0 ? "null" : met ? "true" : "false");
    }
    fputs("]", f);
}

static void json_row(FILE *f, const bu_row *r)
{
    fputs("    {\"group\": ", f);
    json_str(f, r->group);
    fputs(", \"name\": ", f);
    json_str(f, r->name);
    fputs(", \"unit\": ", f);
    json_str(f, r->unit);
    fprintf(f, ", \"lower_is_better\": %s, \"skipped\": %s, \"engine\": ",
            r->lower_better ? "true" : "false", r->skipped ? "true" : "false");
    json_num(f, r->engine);
    fputs(", \"baseline_name\": ", f);
    json_str(f, r->base_name);
    fputs(", \"baseline\": ", f);
    json_num(f, r->base);
    fputs(", \"ratio\": ", f);
    json_num(f, bu_ratio(r));
    const double lat[4] = {r->p50_us, r->p99_us, r->base_p50_us, r->base_p99_us};
    const char *const lk[4] = {"p50_us", "p99_us", "baseline_p50_us", "baseline_p99_us"};
    for (int i = 0; i < 4; i++) {
        fprintf(f, ", \"%s\": ", lk[i]);
        json_num(f, lat[i]);
    }
    fputs(", \"note\": ", f);
    json_str(f, r->note);
    json_targets(f, r);
    fputs("}", f);
}

/* "<path without .json>.tsv": name, engine, baseline, ratio per row, for bench/plot.gnuplot. */
static int write_tsv(const char *json_path)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", json_path);
    char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".json") == 0)
        *dot = '\0';
    if (strlen(path) + 5 >= sizeof path)
        return -1;
    strcat(path, ".tsv");
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("# name\tunit\tengine\tbaseline\tratio\n", f);
    for (size_t i = 0; i < nrows; i++) {
        const bu_row *r = &rows[i];
        fprintf(f, "\"%s\"\t%s\t%.6g\t%.6g\t%.6g\n", r->name, r->unit, r->engine, r->base,
                bu_ratio(r));
    }
    return fclose(f) == 0 ? 0 : -1;
}

int bu_write_json(const char *path, double total_s, double load_start)
{
    char machine[512], when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    bu_machine(machine, sizeof machine);
    mkdir_parent(path);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("{\n  \"rhei\": ", f);
    json_str(f, rhei_version());
    fputs(", \"sqlite\": ", f);
    json_str(f, rhei_sqlite_version());
    fputs(", \"duckdb\": ", f);
    json_str(f, rhei_duckdb_version());
    fprintf(f, ",\n  \"mode\": \"%s\", \"only\": ", bu_opt.quick ? "quick" : "full");
    json_str(f, bu_opt.only ? bu_opt.only : "");
    fprintf(f, ", \"finished\": \"%s\", \"total_seconds\": %.1f,\n  \"machine\": ", when,
            total_s);
    json_str(f, machine);
    fprintf(f, ", \"peak_rss_mb\": %.1f, \"load_start\": ", bu_rss_process_peak_mb());
    json_num(f, load_start);
    fputs(", \"load_end\": ", f);
    json_num(f, bu_loadavg());
    fputs(",\n  \"rows\": [\n", f);
    for (size_t i = 0; i < nrows; i++) {
        json_row(f, &rows[i]);
        fputs(i + 1 < nrows ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    if (fclose(f) != 0)
        return -1;
    return write_tsv(path);
}

/* --- raw DuckDB baselines ---------------------------------------------------------------- */

void bu_duck_open(duckdb_database *db, duckdb_connection *con)
{
    if (duckdb_open(NULL, db) != DuckDBSuccess)
        bu_die("duckdb: cannot open an in-memory database");
    if (duckdb_connect(*db, con) != DuckDBSuccess)
        bu_die("duckdb: cannot connect");
}

void bu_duck_close(duckdb_database *db, duckdb_connection *con)
{
    duckdb_disconnect(con);
    duckdb_close(db);
}

void bu_duck_exec(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        const char *err = duckdb_result_error(&res);
        bu_die("duckdb: '%.60s': %s", sql, err ? err : "?");
    }
    duckdb_destroy_result(&res);
}

bu_order *bu_orders_make(int64_t first, int64_t n)
{
    bu_order *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v)
        bu_die("out of memory for %lld rows", (long long)n);
    for (int64_t i = 0; i < n; i++)
        bu_order_make(first + i, &v[i]);
    return v;
}

double bu_duck_append(duckdb_connection con, const char *table, const bu_order *v, int64_t n)
{
    duckdb_appender app;
    double t0 = bu_now();
    if (duckdb_appender_create(con, NULL, table, &app) != DuckDBSuccess)
        bu_die("duckdb: cannot create an appender on '%s'", table);
    for (int64_t i = 0; i < n; i++) {
        const bu_order *o = &v[i];
        duckdb_append_int64(app, o->id);
        duckdb_append_varchar_length(app, o->customer, strlen(o->customer));
        duckdb_append_varchar_length(app, o->category, strlen(o->category));
        duckdb_append_double(app, o->amount);
        duckdb_append_int64(app, o->qty);
        if (duckdb_appender_end_row(app) != DuckDBSuccess)
            bu_die("duckdb: append: %s", duckdb_appender_error(app));
    }
    if (duckdb_appender_close(app) != DuckDBSuccess)
        bu_die("duckdb: appender close: %s", duckdb_appender_error(app));
    duckdb_appender_destroy(&app);
    return bu_now() - t0;
}
