/* clock.h — wall-clock time in microseconds since the Unix epoch, the unit of every
 * timestamp Rhei stores (change events, history intervals, lag). */
#ifndef RHEI_CORE_CLOCK_H
#define RHEI_CORE_CLOCK_H
#include <stdint.h>

int64_t rhei__now_us(void);
/* Monotonic microseconds, for measuring durations. */
int64_t rhei__mono_us(void);
#endif
