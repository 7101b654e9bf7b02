/*
 * Loading a Linux bzImage for the 64-bit boot protocol: the image checked,
 * the kernel, initrd, command line and zero page (boot_params) written into
 * guest memory. Pure: no KVM, only struct guest_mem.
 */
#ifndef VMM_X86_BZIMAGE_H
#define VMM_X86_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/guest_mem.h"
#include "x86/boot.h"
#include "x86/layout.h"

/* The oldest boot protocol with the 64-bit entry point (xloadflags): 2.12. */
#define BZIMAGE_MIN_PROTOCOL	0x020c
#define BZIMAGE_ENTRY64_OFFSET	0x200	/* from the protected-mode kernel's start */

/* What x86_bzimage_parse() learns from an image's setup header. */
struct x86_bzimage {
	uint16_t protocol;		/* 0x020f = 2.15 */
	size_t setup_size;		/* real-mode setup code: (setup_sects + 1) * 512 */
	const uint8_t *payload;		/* the protected-mode kernel, in the image */
	size_t payload_size;		/* to the end of the file */
	bool relocatable;
	uint32_t kernel_alignment;	/* a power of two when relocatable */
	uint64_t pref_address;		/* where it runs when not relocated */
	uint32_t init_size;		/* bytes it needs from where it runs */
	uint32_t initrd_addr_max;	/* highest byte an initrd may occupy */
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint16_t xloadflags;
};

/*
 * Check that 'kernel' is a bzImage this loader can boot: "HdrS" and the boot
 * flag, protocol 2.12 or later, XLF_KERNEL_64, a setup header and setup code
 * inside the file, syssize not past its end, a power-of-two alignment.
 * 0 or -EINVAL with a message ("kernel: ...") in err. Touches no guest memory:
 * usable to refuse a bad file before a VM exists.
 */
int x86_bzimage_parse(const void *kernel, size_t klen, struct x86_bzimage *img,
		      char *err, size_t errlen);

/* Where things went; what the boot vCPU and the caller need. */
struct x86_boot_info {
	uint64_t entry;			/* RIP: load address + 0x200 */
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
};

/*
 * Load a bzImage for the 64-bit entry into guest memory, all below 4 GiB:
 *
 *  - the protected-mode kernel at its pref_address when relocatable (aligned
 *    up to kernel_alignment, at least 1 MiB; it then runs where it lies),
 *    else at 1 MiB; its init_size must fit in the RAM range below the
 *    32-bit hole, counted from where it will run;
 *  - the initrd (if ilen > 0) page-aligned as high as possible below
 *    min(initrd_addr_max + 1, end of that RAM range, 4 GiB), above the
 *    kernel's init_size;
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
		  const void *kernel, size_t klen, const void *initrd, size_t ilen,
		  const char *cmdline, uint64_t rsdp_addr, struct x86_boot_info *out,
		  char *err, size_t errlen);

#endif
