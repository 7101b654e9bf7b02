/*
 * ACPI tables for the x86 guest: RSDP, XSDT, FADT, FACS, MADT, MCFG and the
 * DSDT, built from a plain description of the platform into one byte area.
 */
#ifndef VMM_X86_ACPI_H
#define VMM_X86_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The ACPI fixed-hardware I/O port block that the VMM must emulate, 16 ports
 * at 0x600-0x60f (the ICH9 PMBASE that QEMU q35 uses, below the PCI I/O
 * window that starts at 0x1000):
 *
 *   0x600  PM1a_EVT_BLK, 4 bytes: PM1_STS (0x600, 16 bit, write 1 to clear)
 *                                 PM1_EN  (0x602, 16 bit)
 *   0x604  PM1a_CNT_BLK, 2 bytes: PM1_CNT; bit 0 SCI_EN reads 1 (the FADT
 *          has no SMI_CMD, so the guest never switches modes).
 *   0x606 - 0x60f  reserved (no PM timer, no GPE blocks are advertised).
 *
 * Power-off: the guest writes SLP_TYP = ACPI_S5_SLP_TYP (from \_S5) with
 * SLP_EN set, e.g. 0x3400 | SCI_EN, to PM1_CNT (ACPICA writes SLP_TYP alone
 * first, then again with SLP_EN: act on the write that has SLP_EN).
 * The SCI is ISA IRQ 9, level-triggered active-high, never raised: the FADT
 * declares no fixed-feature power or sleep button.
 */
#define ACPI_PM_IO_BASE		0x600
#define ACPI_PM_IO_SIZE		0x10
#define ACPI_PM1A_EVT_BLK	0x600
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1A_CNT_BLK	0x604
#define ACPI_PM1_CNT_LEN	2
#define ACPI_PM1_CNT_SCI_EN	0x0001
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7 << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	(1 << 13)
#define ACPI_S5_SLP_TYP		5
#define ACPI_SCI_IRQ		9

#define ACPI_MAX_CPUS		254	/* xAPIC ids 0..253; the I/O APIC takes ncpus */
#define ACPI_MAX_UARTS		4
#define ACPI_MAX_TABLES		8

struct acpi_window {
	uint64_t base;
	uint64_t size;			/* 0: none */
};

struct acpi_platform {
	unsigned int ncpus;		/* vCPU i has APIC id i and ACPI UID i */
	uint64_t ecam_base;		/* config space of bus 0 */
	uint8_t bus_last;		/* root complex buses 0..bus_last (MCFG, _CRS) */
	/*
	 * The host bridge's windows (_CRS). An I/O window that covers
	 * 0xcf8-0xcff is split around the config ports.
	 */
	struct acpi_window io, mem32, mem64;	/* mem64 is declared prefetchable */
	/*
	 * The GSI of INTx 'pin' (1..4 = INTA..INTD) of root-bus device 'slot'
	 * (x86_pci_intx_gsi() fits); NULL: no _PRT.
	 */
	unsigned int (*prt_gsi)(unsigned int slot, unsigned int pin);
	struct {
		uint16_t port;		/* 8 ports from here */
		uint8_t irq;		/* ISA IRQ 0..15 */
	} uarts[ACPI_MAX_UARTS];	/* COM1.. in this order (_UID 1..) */
	unsigned int nr_uarts;
	bool i8042;			/* PS/2 keyboard (no mouse) at 0x60/0x64 */
	bool rtc;			/* CMOS RTC at 0x70, century at index 0x32 */
};

struct acpi_table_loc {
	char sig[5];			/* "RSDP", "FACS", "XSDT", "FACP", ... */
	size_t offset;			/* in buf */
	size_t len;
	uint64_t addr;			/* guest physical */
};

struct acpi_layout {
	uint64_t rsdp_addr;		/* for boot_params.acpi_rsdp_addr */
	size_t size;			/* bytes of buf used, from offset 0 */
	struct acpi_table_loc tables[ACPI_MAX_TABLES];
	unsigned int nr_tables;
};

/*
 * Build every table into buf, to be copied to guest physical 'guest_base'.
 * guest_base must be 64-byte aligned (the FACS needs it; the RSDP, first,
 * needs 16) and the area must lie below 4 GiB (the FADT's 32-bit pointers).
 * The RSDP sits at guest_base: for a legacy BIOS-area search put it in
 * 0xe0000-0xfffff; Linux also takes boot_params.acpi_rsdp_addr. The caller
 * marks the area E820 reserved or ACPI.
 *
 * Returns 0, -EINVAL (a bad platform description or guest_base), -ENOSPC
 * (buflen too small: out->size and the message say how much is needed) or
 * -ENOMEM, with a message in err. Nothing in acpi_build() allocates more
 * than the DSDT; the whole set is about 3 KiB for 4 vCPUs, 12 KiB for 254.
 */
int acpi_build(const struct acpi_platform *p, uint64_t guest_base,
	       uint8_t *buf, size_t buflen, struct acpi_layout *out,
	       char *err, size_t errlen);

/* The 8-bit sum that makes the bytes of a table add up to zero. */
uint8_t acpi_checksum(const void *p, size_t len);

/*
 * The DSDT's AML body (without the table header) for the platform, in a
 * malloc'ed buffer. 0 or a negative errno; used by acpi_build().
 */
int acpi_dsdt_aml(const struct acpi_platform *p, uint8_t **aml, size_t *len);

#endif
