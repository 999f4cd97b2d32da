/* histogram.c — rhei_histogram's fixed buckets (100 us .. 10 s, about 2.5x apart) and the
 * one way to add an observation, shared by sync (cycle durations) and the engine (query
 * latency). The caller serialises adds on one histogram. */
#include "histogram.h"

static const double bounds[RHEI_HISTOGRAM_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

double rhei_histogram_bound(size_t i) { return i < RHEI_HISTOGRAM_BUCKETS ? bounds[i] : 1e300; }

void rhei__histogram_add(rhei_histogram *h, int64_t us)
{
    double s = (double)(us > 0 ? us : 0) / 1e6;
    h->count++;
    h->sum += s;
    for (size_t i = 0; i < RHEI_HISTOGRAM_BUCKETS; i++)
        if (s <= bounds[i]) {
            h->bucket[i]++;
            return;
        }
}
