/* Byte counts for people: "64 GiB", "512 KiB", "1 byte". */
#ifndef VMM_UTIL_SIZE_H
#define VMM_UTIL_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* The largest binary unit that divides size exactly; returns buf. */
char *size_str(uint64_t size, char *buf, size_t len);

#endif
