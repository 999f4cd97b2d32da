/* main.c — rhei_bench, the benchmark suite as its own program; `rh bench` runs the same
 * suite (bench_main.c). Exit status: 0 ok, 1 a figure was not sane, 2 an error. */
#include "rhei_bench.h"

int main(int argc, char **argv)
{
    return rhei_bench_main(argc, argv);
}
