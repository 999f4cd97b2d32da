/* w_htap.h — workload "htap": TPC-C New-Order/Payment with CH-benCHmark-style analytical
 * queries at once, reporting tpmC isolation, query latency and HATtrick freshness. */
#ifndef RHEI_BENCH_W_HTAP_H
#define RHEI_BENCH_W_HTAP_H

void w_htap(void); /* 6: HTAP (CH-benCHmark transactions + queries, HATtrick freshness) */

#endif
