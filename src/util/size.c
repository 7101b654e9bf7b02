/* Byte counts for people: "64 GiB", "512 KiB", "1 byte". */
#include <inttypes.h>
#include <stdio.h>

#include "util/size.h"

char *size_str(uint64_t size, char *buf, size_t len)
{
	static const char *const units[] = {
		"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	unsigned int u = 0;

	while (size && u < 6 && !(size & 0x3ff)) {
		size >>= 10;
		u++;
	}
	if (u == 0 && size == 1)
		snprintf(buf, len, "1 byte");
	else
		snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
	return buf;
}
