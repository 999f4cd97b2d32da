/* bench_main.c — the suite's entry, shared by rhei_bench and `rh bench`: runs the workloads
 * (all, or one with --only), each next to a baseline measured in the same run, prints one
 * plain-text table with the targets' verdicts, and writes the same figures as JSON. */
#include "bench_util.h"
#include "rhei_bench.h"
#include "w_htap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RHEI_BENCH_RESULTS
#define RHEI_BENCH_RESULTS "bench/results/latest.json"
#endif

static void memory_row(void)
{
    bu_row *r = bu_row_add("memory", "peak RSS after sync workloads (MB)", "MB", 1);
    r->engine = bu_rss_process_peak_mb();
    snprintf(r->note, sizeof r->note, "whole process (engine and the raw baselines), VmHWM;"
             " current RSS %.0f MB", bu_rss_now_mb());
}

typedef struct workload {
    const char *name;
    void (*run)(void);
    const char *what;
} workload;

static const workload workloads[] = {
    {"insert", w_insert, "700 and 20K single-row inserts, and the sync of those events"},
    {"sync", w_sync, "cdc sync: 100K and 1M inserts, 50/25/25 mix; then peak RSS"},
    {"crud", w_crud, "75 inserts, 75 updates, 75 deletes with routed reads between"},
    {"concurrent", w_concurrent, "8 threads x 50 mixed operations on one rhei_db"},
    {"analytics", w_analytics, "group by, filtered scan, top-10, point reads; 1M, 10M rows"},
    {"route", w_route, "routing regret: routed over the faster side, 34 shapes; 1M, 10M rows"},
    {"sidecar", w_sidecar, "sidecar mode: 10-row cycle p50/p99, initial sync 10K/100K"},
    {"htap", w_htap, "TPC-C transactions with analytical queries at once (CH-benCHmark)"},
    {"olapcost", w_olapcost, "routed OLAP query (stream and result) vs raw duckdb: 1 to 1M rows"},
    {"flight", w_flight, "Flight SQL over loopback: 100K scan, point query, 8 clients, zstd, RSS"},
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

static void usage(FILE *f, const char *prog)
{
    fprintf(f, "usage: %s [--quick] [--only NAME] [--json PATH] [--verbose]\n"
               "  --quick      small sizes and few repetitions: checks the harness (< 2 min)\n"
               "  --only NAME  run one workload (memory runs with sync)\n"
               "  --json PATH  machine-readable results [%s]\n"
               "workloads:\n", prog, RHEI_BENCH_RESULTS);
    for (size_t i = 0; i < NWORKLOADS; i++)
        fprintf(f, "  %-11s %s\n", workloads[i].name, workloads[i].what);
}

/* 0 to run, 1 when --help was answered, -1 on a usage error (already reported). */
static int parse(int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] ? argv[0] : "rhei_bench";
    if (strrchr(prog, '/'))
        prog = strrchr(prog, '/') + 1;
    bu_opt.json = RHEI_BENCH_RESULTS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            bu_opt.quick = 1;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            bu_opt.verbose = 1;
        } else if (strcmp(a, "--only") == 0 && i + 1 < argc) {
            bu_opt.only = argv[++i];
        } else if (strcmp(a, "--json") == 0 && i + 1 < argc) {
            bu_opt.json = argv[++i];
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, prog);
            return 1;
        } else {
            fprintf(stderr, "%s: unknown argument '%s'\n", prog, a);
            usage(stderr, prog);
            return -1;
        }
    }
    if (bu_opt.only && strcmp(bu_opt.only, "memory") == 0)
        bu_opt.only = "sync";
    for (size_t i = 0; bu_opt.only && i < NWORKLOADS; i++)
        if (strcmp(bu_opt.only, workloads[i].name) == 0)
            return 0;
    if (bu_opt.only) {
        fprintf(stderr, "%s: no workload named '%s'\n", prog, bu_opt.only);
        usage(stderr, prog);
        return -1;
    }
    return 0;
}

int rhei_bench_main(int argc, char **argv)
{
    int p = parse(argc, argv);
    if (p != 0)
        return p > 0 ? 0 : 2;
    char machine[512];
    bu_machine(machine, sizeof machine);
    printf("rhei_bench %s (%s run)  rhei %s, sqlite %s, duckdb %s\nmachine: %s\n",
           RHEI_VERSION, bu_opt.quick ? "quick" : "full", rhei_version(),
           rhei_sqlite_version(), rhei_duckdb_version(), machine);
    double load = bu_loadavg();
    printf("load average at start: %.2f (on %ld cores; a busy machine makes absolute figures"
           " noisy, ratios less so)\n", load, sysconf(_SC_NPROCESSORS_ONLN));
    printf("ratio: engine speed over the baseline's (>1 = engine faster), the median of"
           " back-to-back\nrepetitions where there are several; p50/p99: per operation\n\n");
    fflush(stdout);
    double t0 = bu_now();
    for (size_t i = 0; i < NWORKLOADS; i++) {
        const workload *w = &workloads[i];
        if (bu_opt.only && strcmp(bu_opt.only, w->name) != 0)
            continue;
        fprintf(stderr, "[%s] %s ...\n", w->name, w->what);
        double ws = bu_now();
        w->run();
        if (strcmp(w->name, "sync") == 0)
            memory_row();
        fprintf(stderr, "[%s] done in %.1f s\n", w->name, bu_now() - ws);
    }
    double total = bu_now() - t0;
    bu_print_table(stdout);
    bu_print_targets(stdout);
    printf("\ntotal %.1f s; peak RSS %.0f MB; load average at end %.2f\n", total,
           bu_rss_process_peak_mb(), bu_loadavg());
    fflush(stdout);
    int insane = bu_insane_rows(stderr);
    if (bu_write_json(bu_opt.json, total, load) != 0)
        fprintf(stderr, "rhei_bench: cannot write '%s'\n", bu_opt.json);
    else
        printf("results: %s\n", bu_opt.json);
    return insane ? 1 : 0;
}
