/*
 * What a Linux kernel command line says that a boot loader placing the
 * kernel must heed: options as words, and the memory that is not the
 * kernel's (memmap= regions, the mem= limit), as Linux's decompressor
 * reads them for KASLR (arch/x86/boot/compressed/kaslr.c).
 */
#ifndef VMM_X86_CMDLINE_H
#define VMM_X86_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "x86/layout.h"

/* Linux's decompressor keeps this many memmap= regions out of KASLR's way. */
#define X86_CMDLINE_MAX_MEMMAP	4

struct x86_mem_avoid {
	/* mem=nn and memmap=nn: nothing at or above; UINT64_MAX: no limit. */
	uint64_t limit;
	/* memmap=nn$ss, nn#ss, nn!ss: reserved, ACPI, persistent memory. */
	struct addr_range regions[X86_CMDLINE_MAX_MEMMAP];
	unsigned int nr;
	/* More regions than that: Linux then does not move the kernel physically. */
	bool too_many;
};

/* Whether the command line holds 'option' as a word of its own. */
bool x86_cmdline_has(const char *cmdline, const char *option);

/* The memory the command line keeps from the kernel (NULL: none). */
void x86_cmdline_mem(const char *cmdline, struct x86_mem_avoid *a);

/* Whether [base, base + size) meets one of a's regions. */
bool x86_mem_avoid_hits(const struct x86_mem_avoid *a, uint64_t base, uint64_t size);

/*
 * Linux's memparse(): a number (0x hex, 0 octal) with an optional
 * K/M/G/T/P/E; 0 with *end = s when s does not start with a digit.
 */
uint64_t x86_memparse(const char *s, const char **end);

#endif
