/* Elapsed time for messages: CLOCK_MONOTONIC, in seconds. */
#ifndef VMM_UTIL_CLOCK_H
#define VMM_UTIL_CLOCK_H

#include <time.h>

/* Seconds from t0 (a CLOCK_MONOTONIC reading) to now. */
static inline double clock_seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

#endif
