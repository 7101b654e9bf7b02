/*
 * Booting a Linux kernel through the 64-bit boot protocol: the kernel, its
 * initrd, command line and zero page (boot_params) placed in guest memory,
 * as a boot loader (and, for an unpacked kernel, Linux's own decompressor)
 * would. Pure: no KVM, only struct guest_mem.
 */
#ifndef VMM_X86_BOOT_LOAD_H
#define VMM_X86_BOOT_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/guest_mem.h"
#include "x86/boot.h"
#include "x86/bzimage.h"
#include "x86/cmdline.h"
#include "x86/layout.h"
#include "x86/vmlinux.h"

/* What x86_boot_load() boots. */
struct x86_boot_kernel {
	const void *file;		/* the kernel file: a bzImage or an ELF vmlinux */
	size_t len;
	/*
	 * The kernel itself, uncompressed: the bzImage's payload unpacked by
	 * the VMM, or the ELF file. The loader places its segments and does
	 * KASLR. NULL: a bzImage whose own decompressor runs in the guest.
	 */
	const struct x86_vmlinux *vmlinux;
	/*
	 * Random bits for KASLR of an unpacked kernel: [0] picks the physical
	 * address, [1] the virtual offset. A 'nokaslr' on the command line
	 * keeps the kernel where it was linked, as Linux's own decompressor
	 * does.
	 */
	uint64_t random[2];
};

/* Where things went; what the boot vCPU and the caller need. */
struct x86_boot_info {
	uint64_t entry;			/* RIP: load address + 0x200, or the ELF entry */
	uint64_t zero_page;		/* RSI: X86_BOOT_ZERO_PAGE */
	uint64_t stack_top;		/* RSP: X86_BOOT_STACK_TOP */
	uint64_t kernel_addr;		/* load address of the protected-mode kernel */
	uint64_t kernel_size;		/* bytes copied there */
	/*
	 * [kernel_addr, kernel_end): all the kernel may use before it reads
	 * E820: the copy, and init_size bytes from where it will run (its
	 * pref_address, or the load address aligned to kernel_alignment).
	 */
	uint64_t kernel_end;
	uint64_t initrd_addr;		/* 0 and 0: none */
	uint64_t initrd_size;
	uint64_t cmdline_addr;		/* X86_BOOT_CMDLINE */
	size_t cmdline_len;		/* without the NUL */
	uint16_t protocol;
	bool unpacked;			/* placed from an x86_vmlinux, not decompressed by the guest */
	bool kaslr;			/* randomized (KASLR_FLAG set for the kernel) */
	uint64_t virt_delta;		/* the kernel's virtual offset from where it was linked */
	uint64_t phys_slots, virt_slots;	/* the choices KASLR had */
};

/*
 * Load a kernel for the 64-bit entry into guest memory, all below 4 GiB.
 *
 * With k->vmlinux (an unpacked bzImage, or an ELF vmlinux file), as Linux's
 * decompressor would have placed it:
 *
 *  - the initrd page-aligned as high as possible (as below), above the
 *    lowest place the kernel could run;
 *  - the kernel's segments at a 2 MiB-aligned (kernel_alignment) physical
 *    address between its pref_address and the initrd, randomly chosen when
 *    KASLR applies (a relocatable bzImage without 'nokaslr'), else at
 *    pref_address; an ELF file runs where it was linked; like the initrd,
 *    clear of the memmap= regions and below mem= (as Linux's decompressor
 *    keeps KASLR; with more than four regions, the kernel stays put);
 *  - relocated to a random virtual offset in the first GiB of the kernel
 *    map, when it has a relocation table and KASLR applies; KASLR_FLAG then
 *    tells the kernel to randomize its own memory regions too;
 *  - RIP its ELF entry point.
 *
 * Without, the bzImage as its boot protocol says:
 *
 *  - the protected-mode kernel at its pref_address when relocatable (aligned
 *    up to kernel_alignment, at least 1 MiB; it then runs where it lies),
 *    else at 1 MiB; its init_size must fit in the RAM range below the
 *    32-bit hole, counted from where it will run;
 *  - the initrd (if ilen > 0) page-aligned as high as possible below
 *    min(initrd_addr_max + 1, end of that RAM range, mem= on the command
 *    line, 4 GiB), above the kernel's init_size, clear of memmap= regions;
 *  - the command line (NULL: empty) at X86_BOOT_CMDLINE, if it fits the
 *    kernel's cmdline_size;
 *  - the zero page at X86_BOOT_ZERO_PAGE: the image's setup header, then
 *    type_of_loader 0xff, LOADED_HIGH, code32_start, ramdisk_*, cmd_line_ptr,
 *    vid_mode, the E820 table of 'l' and acpi_rsdp_addr = rsdp_addr (0: the
 *    kernel scans 0xe0000-0xfffff);
 *  - the GDT and identity-mapping page tables (x86_boot_write_tables()).
 *
 * 'mem' must map guest RAM as 'l' plans it, the first range from 0 (the
 * legacy hole included, as the memslots do). Returns 0 and fills 'out', or
 * -EINVAL (bad image, command line too long), -ENOSPC (the kernel or the
 * initrd does not fit) or -EFAULT (an address the plan calls RAM is not in
 * 'mem'), with a message in err that starts with "kernel:", "initrd:",
 * "cmdline:" or "guest memory:".
 */
int x86_boot_load(const struct guest_mem *mem, const struct x86_layout *l,
		  const struct x86_boot_kernel *k, const void *initrd, size_t ilen,
		  const char *cmdline, uint64_t rsdp_addr, struct x86_boot_info *out,
		  char *err, size_t errlen);

#endif
