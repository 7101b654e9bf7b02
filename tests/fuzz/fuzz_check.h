/* The fuzzers' invariant check: a broken one aborts, which libFuzzer reports. */
#ifndef VMM_FUZZ_CHECK_H
#define VMM_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#endif
