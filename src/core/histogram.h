/* histogram.h — adding to a rhei_histogram (see histogram.c for the buckets). */
#ifndef RHEI_CORE_HISTOGRAM_H
#define RHEI_CORE_HISTOGRAM_H
#include "rhei.h"

/* Adds one observation of us microseconds (negative counts as 0). */
void rhei__histogram_add(rhei_histogram *h, int64_t us);
#endif
