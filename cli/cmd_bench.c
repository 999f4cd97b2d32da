/* cmd_bench.c — `rh bench`: runs the benchmark suite of bench/ (rhei_bench_main, the same code
 * as build/bench/rhei_bench) with the options that follow the command word, results in
 * ./rhei-bench.json unless --json says where. rh is built with it when the tree has bench/;
 * otherwise the command says so. */
#include "rh.h"
#include <stdlib.h>
#include <string.h>
#ifdef RH_HAVE_BENCH
#include "rhei_bench.h"
#endif

int rh_cmd_bench(const rh_opts *o)
{
#ifdef RH_HAVE_BENCH
    char prog[] = "rh bench", json_opt[] = "--json", json_path[] = "rhei-bench.json";
    char **argv = calloc((size_t)o->nargs + 4, sizeof *argv);
    if (!argv) {
        fprintf(stderr, "rh: cannot run the benchmark suite: out of memory\n");
        return RH_EXIT_ERR;
    }
    argv[0] = prog;
    int json = 0, n = o->nargs + 1;
    for (int i = 0; i < o->nargs; i++) {
        argv[i + 1] = o->args[i];
        json |= strncmp(o->args[i], "--json", 6) == 0;
    }
    /* results go to the current folder, not into the source tree rh was built from */
    if (!json) {
        argv[n++] = json_opt;
        argv[n++] = json_path;
    }
    /* 0 ok, 1 a figure was zero or not finite, 2 a usage error: rh's own exit codes. A
     * failing measurement ends the process with 2 inside the suite. */
    int rc = rhei_bench_main(n, argv);
    free(argv);
    return rc;
#else
    (void)o;
    fprintf(stderr, "rh: cannot run 'rh bench': this rh was built without bench/\n");
    return RH_EXIT_ERR;
#endif
}
