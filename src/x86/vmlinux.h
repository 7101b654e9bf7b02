/*
 * An uncompressed x86-64 Linux kernel (the ELF vmlinux a bzImage carries,
 * or one given as is): its loadable segments, its entry point and the
 * relocation table the kernel build appends for KASLR; placing it in guest
 * memory at a physical address and a virtual offset of our choosing, as the
 * kernel's own decompressor does. Pure: no KVM, only struct guest_mem.
 */
#ifndef VMM_X86_VMLINUX_H
#define VMM_X86_VMLINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/guest_mem.h"

/* Where x86-64 kernels are linked: virtual = physical + this. */
#define X86_START_KERNEL_MAP	0xffffffff80000000ULL
/* The kernel's image must lie in the first GiB above it (with KASLR). */
#define X86_KERNEL_IMAGE_SIZE	0x40000000ULL
/* The kernel runs from a 2 MiB boundary, physically and virtually. */
#define X86_KERNEL_MIN_ALIGN	0x200000ULL

#define X86_VMLINUX_MAX_SEGS	16

struct x86_vmlinux_seg {
	uint64_t offset;		/* from the image's base, in memory */
	uint64_t file_offset;		/* of its bytes in the ELF file */
	uint64_t filesz, memsz;
};

enum x86_reloc_kind {
	X86_RELOC_32,			/* u32 += delta */
	X86_RELOC_32_INV,		/* s32 -= delta */
	X86_RELOC_64,			/* u64 += delta */
	X86_NR_RELOC_KINDS,
};

struct x86_vmlinux {
	const uint8_t *data;		/* the ELF file, relocations after it */
	size_t len;
	uint64_t base;			/* lowest segment's physical address (linked there) */
	uint64_t size;			/* from base to the end of the last segment, bss included */
	uint64_t entry;			/* e_entry - base */
	struct x86_vmlinux_seg segs[X86_VMLINUX_MAX_SEGS];
	unsigned int nr_segs;
	/*
	 * The relocation table: 32-bit words after the ELF image, read
	 * from the end (Linux's arch/x86/boot/compressed/misc.c): 32-bit
	 * relocations, a 0, inverse 32-bit ones, a 0, 64-bit ones, a 0. Each
	 * word is a kernel virtual address, sign-extended. NULL: none, the
	 * kernel cannot move virtually.
	 */
	const uint8_t *relocs;		/* the first word (a 0) */
	size_t nr_relocs[X86_NR_RELOC_KINDS];
};

/*
 * Check 'len' bytes as a 64-bit x86 ELF executable with PT_LOAD segments
 * inside the file, that fit 1 GiB from a 2 MiB-aligned base without
 * overlapping, an entry point inside them, and, if anything follows the
 * ELF image, a well-formed relocation table whose every entry falls in a
 * segment's file-backed bytes. Keeps pointers into 'data'. 0, or -EINVAL
 * with a message in err.
 */
int x86_vmlinux_parse(const void *data, size_t len, struct x86_vmlinux *vm,
		      char *err, size_t errlen);

/* Whether 'data' starts like an ELF file. */
bool x86_is_elf(const void *data, size_t len);

/*
 * How many virtual offsets the kernel can run at, 'align' apart from its
 * base, its image of 'span' bytes staying in the first GiB: 1 when it has
 * no relocation table (it stays where it was linked).
 */
uint64_t x86_vmlinux_virt_slots(const struct x86_vmlinux *vm, uint64_t span, uint64_t align);

/*
 * Copy the segments to guest physical 'phys' (2 MiB-aligned; each at its
 * offset from base), zero their bss, and apply the relocations for the
 * kernel to run 'delta' bytes above its link-time virtual address ('delta'
 * a multiple of 2 MiB; 0 = as linked). 0, or -EFAULT / -EINVAL with a
 * message in err.
 */
int x86_vmlinux_load(const struct guest_mem *mem, const struct x86_vmlinux *vm,
		     uint64_t phys, uint64_t delta, char *err, size_t errlen);

#endif
