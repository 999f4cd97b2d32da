/* rhei_bench.h — the benchmark suite's one entry point, for bench/main.c and `rh bench`.
 * The suite measures the engine through rhei.h only; its baselines use SQLite, DuckDB and
 * libpq directly. Not thread-safe; call it once per process (results accumulate). */
#ifndef RHEI_BENCH_H
#define RHEI_BENCH_H

/* Runs the suite as `argv[0] [--quick] [--only NAME] [--json PATH] [--verbose]` would
 * (argv[0] names the program in messages). Prints the table on stdout, progress on stderr.
 * Returns 0 ok (or --help), 1 when a figure is zero or not finite, 2 on a usage error; a
 * failing engine or baseline call ends the process with status 2 (temporary files removed). */
int rhei_bench_main(int argc, char **argv);

#endif
