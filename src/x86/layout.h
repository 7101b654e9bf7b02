/*
 * The x86-64 guest physical address map: every constant of it in one place,
 * and x86_layout_plan(), which splits RAM around the holes and sizes the
 * PCI windows. Knows nothing of devices.
 */
#ifndef VMM_X86_LAYOUT_H
#define VMM_X86_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SZ_1K			0x400ULL
#define SZ_4K			0x1000ULL
#define SZ_1M			0x100000ULL
#define SZ_1G			0x40000000ULL
#define SZ_4G			0x100000000ULL

#define X86_LOW_RAM_END		0xA0000ULL	/* low RAM: 0 .. 640 KiB */
#define X86_ZERO_PAGE_RESERVED	0x1000ULL	/* page 0: E820 reserved, as Linux treats it */
#define X86_LEGACY_HOLE_BASE	0xA0000ULL	/* VGA / BIOS area */
#define X86_LEGACY_HOLE_END	0x100000ULL
#define X86_MMIO32_BASE		0xC0000000ULL	/* RAM stops here: 3 GiB */
#define X86_MMIO32_SIZE		0x20000000ULL	/* 512 MiB */
#define X86_ECAM_BASE		0xE0000000ULL
#define X86_ECAM_SIZE		0x10000000ULL	/* room for 256 buses x 1 MiB */
#define X86_ECAM_BUS_SIZE	SZ_1M
#define X86_IOAPIC_BASE		0xFEC00000ULL
#define X86_IOAPIC_SIZE		0x1000ULL
#define X86_IOAPIC_REGS_SIZE	0x400ULL	/* what Linux claims as "IOAPIC 0" */
#define X86_LAPIC_BASE		0xFEE00000ULL
#define X86_LAPIC_SIZE		0x1000ULL
#define X86_HIGH_RAM_BASE	SZ_4G
/* AMD reserves [1012 GiB, 1 TiB) (HyperTransport); the 64-bit window avoids it. */
#define X86_HT_HOLE_BASE	0xFD00000000ULL
#define X86_HT_HOLE_END		0x10000000000ULL
#define X86_MMIO64_ALIGN	SZ_1G

#define X86_PCI_IO_BASE		0x1000ULL	/* PCI I/O BARs: 0x1000 .. 0xffff */
#define X86_PCI_IO_END		0x10000ULL

#define X86_PCI_GSI_BASE	16		/* IOAPIC pins 16..23 serve PCI INTx */
#define X86_PCI_GSI_COUNT	8

#define X86_MIN_PHYS_BITS	36
#define X86_MAX_PHYS_BITS	52

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
	E820_NVS = 4,
};

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct addr_range {
	uint64_t base;
	uint64_t size;			/* 0 = none */
};

#define X86_MAX_RAM_RANGES	3
#define X86_MAX_E820		16

struct x86_layout {
	uint64_t memory;		/* bytes of guest RAM */
	unsigned int phys_bits;
	/*
	 * Guest memory as memslots: [0, min(mem, 3G)) and [4G, ...); when
	 * RAM would reach AMD's HyperTransport hole, the rest goes to a third
	 * range from 1 TiB (the hole is E820-reserved). The legacy hole inside
	 * the first is backed (ACPI tables live there) but E820-reserved.
	 */
	struct addr_range ram[X86_MAX_RAM_RANGES];
	unsigned int nr_ram;
	struct addr_range mmio32;	/* 32-bit PCI window */
	struct addr_range mmio64;	/* 64-bit prefetchable PCI window; size 0 = none */
	struct addr_range ecam;
	struct addr_range pci_io;	/* PCI I/O port window */
	struct e820_entry e820[X86_MAX_E820];
	unsigned int nr_e820;
};

/*
 * Plan the address map for 'memory' bytes of RAM and 'phys_bits' guest
 * physical address bits. 0, or -EINVAL with a message in err.
 */
int x86_layout_plan(uint64_t memory, unsigned int phys_bits,
		    struct x86_layout *l, char *err, size_t errlen);

/* Where RAM of 'memory' bytes ends (exclusive), the holes skipped. */
uint64_t x86_ram_end(uint64_t memory);
/* The fewest physical address bits that reach 'end' (exclusive). */
unsigned int x86_addr_bits(uint64_t end);

/* The last bus number the layout's ECAM range reaches (0..255). */
unsigned int x86_ecam_last_bus(const struct x86_layout *l);

/*
 * Shrink the ECAM range (and its E820 entry) to buses 0 .. nr_buses - 1,
 * 1 <= nr_buses <= 256: the bus range the MCFG and the host bridge's _CRS
 * then declare. Linux probes every bus up to the MCFG's last one by port
 * I/O for peer host bridges (32 config reads a bus), so buses that cannot
 * exist cost a guest thousands of exits at boot.
 */
void x86_layout_set_ecam_buses(struct x86_layout *l, unsigned int nr_buses);

/* The GSI that a root-bus INTx pin (1..4) of device 'slot' is routed to. */
unsigned int x86_pci_intx_gsi(unsigned int slot, unsigned int pin);

/* "usable", "reserved", ... as the kernel logs an E820 map. */
const char *e820_type_name(uint32_t type);
/* "System RAM", "Reserved", ... as /proc/iomem names them. */
const char *e820_iomem_name(uint32_t type);

#endif
