/*
 * Where the VMM puts what a Linux guest needs at its 64-bit entry: fixed
 * guest physical addresses in low RAM and in the BIOS area, one place.
 */
#ifndef VMM_X86_BOOT_H
#define VMM_X86_BOOT_H

/*
 * Low memory at the 64-bit entry. 0x1000-0x9ffff is E820 RAM that the
 * kernel only reads before it takes the memory over (it copies boot_params
 * and the command line first); 0xe0000-0xfffff is E820 reserved
 * (x86/layout.c) and keeps the ACPI tables for good.
 *
 *   0x00000 - 0x00fff  untouched and zero, E820 reserved: real-mode IVT and
 *                      BIOS data area (Linux reads the EBDA pointer at
 *                      0x40e; 0 = none)
 *   0x01000 - 0x01fff  GDT: null, null, __BOOT_CS 0x10, __BOOT_DS 0x18
 *   0x02000 - 0x02fff  zero page (struct boot_params), RSI at entry
 *   0x03000 - 0x03fff  PML4 (CR3)
 *   0x04000 - 0x04fff  PDPT
 *   0x05000 - 0x08fff  four page directories: 0 - 4 GiB in 2 MiB pages
 *   0x09000 - 0x0bfff  boot stack, RSP = 0xc000 at entry
 *   0x10000 - 0x1ffff  kernel command line with its NUL (the kernel's own
 *                      cmdline_size, 2047 for x86-64, is the real limit)
 *   0x20000 - 0x9cfff  free
 *   0x9d000 - 0x9ffff  free, and left so: the decompressor saves, uses and
 *                      restores two pages below 0x9f000 (its 32-bit
 *                      trampoline for a paging-mode switch)
 *   0xa0000 - 0xdffff  legacy hole, reserved, nothing written
 *   0xe0000 - 0xfffff  ACPI tables, RSDP first (acpi_build's guest_base);
 *                      the legacy RSDP scan covers this range too
 *   1 MiB and up       the kernel (x86/bzimage.h), then the initrd high
 */
#define X86_BOOT_GDT		0x1000ULL
#define X86_BOOT_GDT_ENTRIES	4
#define X86_BOOT_ZERO_PAGE	0x2000ULL
#define X86_BOOT_PML4		0x3000ULL
#define X86_BOOT_PDPT		0x4000ULL
#define X86_BOOT_PD		0x5000ULL
#define X86_BOOT_PD_COUNT	4		/* one per GiB mapped */
#define X86_BOOT_STACK_BASE	0x9000ULL
#define X86_BOOT_STACK_TOP	0xc000ULL	/* initial RSP */
#define X86_BOOT_CMDLINE	0x10000ULL
#define X86_BOOT_CMDLINE_SIZE	0x10000ULL	/* bytes, the NUL included */
#define X86_BOOT_ACPI_BASE	0xe0000ULL
#define X86_BOOT_ACPI_SIZE	0x20000ULL	/* to 1 MiB */

/* What the identity map covers: the kernel, initrd and boot data all lie below. */
#define X86_BOOT_IDMAP_END	0x100000000ULL

/* The boot protocol's selectors (Linux's __BOOT_CS and __BOOT_DS). */
#define X86_BOOT_CS		0x10
#define X86_BOOT_DS		0x18

/* The lowest address the protected-mode kernel is loaded at. */
#define X86_BOOT_KERNEL_MIN	0x100000ULL

#endif
