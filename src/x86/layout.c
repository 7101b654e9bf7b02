/*
 * The x86-64 guest physical address map: RAM split around the 32-bit hole
 * (and AMD's HyperTransport hole), the E820 table and the PCI windows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/size.h"
#include "x86/layout.h"

static uint64_t align_up_sat(uint64_t v, uint64_t align)
{
	uint64_t r;

	if (__builtin_add_overflow(v, align - 1, &r))
		return UINT64_MAX & ~(align - 1);
	return r & ~(align - 1);
}

static void e820_add(struct x86_layout *l, uint64_t addr, uint64_t size, uint32_t type)
{
	struct e820_entry *e;

	if (!size || l->nr_e820 >= X86_MAX_E820)
		return;
	e = &l->e820[l->nr_e820++];
	e->addr = addr;
	e->size = size;
	e->type = type;
}

static void ram_add(struct x86_layout *l, uint64_t base, uint64_t size)
{
	if (!size || l->nr_ram >= X86_MAX_RAM_RANGES)
		return;
	l->ram[l->nr_ram].base = base;
	l->ram[l->nr_ram].size = size;
	l->nr_ram++;
}

unsigned int x86_addr_bits(uint64_t end)
{
	unsigned int b = 0;

	while (b < 64 && (1ULL << b) < end)
		b++;
	return b;
}

/* RAM below the 32-bit hole, the rest from 4 GiB, skipping the HT hole. */
static void ram_split(uint64_t memory, uint64_t *low, uint64_t *high,
		      uint64_t *above_ht)
{
	uint64_t below_ht = X86_HT_HOLE_BASE - X86_HIGH_RAM_BASE;

	*low = memory < X86_MMIO32_BASE ? memory : X86_MMIO32_BASE;
	*high = memory - *low;
	*above_ht = 0;
	if (*high > below_ht) {
		*above_ht = *high - below_ht;
		*high = below_ht;
	}
}

uint64_t x86_ram_end(uint64_t memory)
{
	uint64_t low, high, above_ht, end;

	ram_split(memory, &low, &high, &above_ht);
	if (above_ht)
		return __builtin_add_overflow(X86_HT_HOLE_END, above_ht, &end) ?
		       UINT64_MAX : end;
	return high ? X86_HIGH_RAM_BASE + high : low;
}

int x86_layout_plan(uint64_t memory, unsigned int phys_bits,
		    struct x86_layout *l, char *err, size_t errlen)
{
	uint64_t low, high, above_ht, ram_end, addr_limit, start, top;
	char s[32];

	memset(l, 0, sizeof(*l));
	if (phys_bits < X86_MIN_PHYS_BITS || phys_bits > X86_MAX_PHYS_BITS) {
		snprintf(err, errlen, "phys-bits %u: expected %u to %u",
			 phys_bits, X86_MIN_PHYS_BITS, X86_MAX_PHYS_BITS);
		return -EINVAL;
	}
	if (memory < 2 * SZ_1M) {
		snprintf(err, errlen, "memory %s: at least 2 MiB is needed",
			 size_str(memory, s, sizeof(s)));
		return -EINVAL;
	}
	if (memory & (SZ_4K - 1)) {
		snprintf(err, errlen, "memory %s: expected a multiple of 4 KiB",
			 size_str(memory, s, sizeof(s)));
		return -EINVAL;
	}
	addr_limit = 1ULL << phys_bits;

	ram_split(memory, &low, &high, &above_ht);
	ram_end = x86_ram_end(memory);
	if (ram_end > addr_limit) {
		snprintf(err, errlen,
			 "memory %s reaches up to 0x%" PRIx64 " and needs %u physical address bits; phys-bits is %u",
			 size_str(memory, s, sizeof(s)), ram_end - 1, x86_addr_bits(ram_end), phys_bits);
		return -EINVAL;
	}

	l->memory = memory;
	l->phys_bits = phys_bits;
	ram_add(l, 0, low);
	ram_add(l, X86_HIGH_RAM_BASE, high);
	ram_add(l, X86_HT_HOLE_END, above_ht);

	/* E820, in address order. */
	/*
	 * Linux reserves the first page whatever the map says (the BIOS data
	 * it may hold); saying so here keeps the map the guest reports equal
	 * to this one.
	 */
	e820_add(l, 0, X86_ZERO_PAGE_RESERVED, E820_RESERVED);
	e820_add(l, X86_ZERO_PAGE_RESERVED,
		 (low < X86_LOW_RAM_END ? low : X86_LOW_RAM_END) - X86_ZERO_PAGE_RESERVED,
		 E820_RAM);
	e820_add(l, X86_LEGACY_HOLE_BASE, X86_LEGACY_HOLE_END - X86_LEGACY_HOLE_BASE,
		 E820_RESERVED);
	if (low > X86_LEGACY_HOLE_END)
		e820_add(l, X86_LEGACY_HOLE_END, low - X86_LEGACY_HOLE_END, E820_RAM);
	e820_add(l, X86_ECAM_BASE, X86_ECAM_SIZE, E820_RESERVED);
	e820_add(l, X86_IOAPIC_BASE, X86_IOAPIC_SIZE, E820_RESERVED);
	e820_add(l, X86_LAPIC_BASE, X86_LAPIC_SIZE, E820_RESERVED);
	e820_add(l, X86_HIGH_RAM_BASE, high, E820_RAM);
	if (above_ht) {
		e820_add(l, X86_HT_HOLE_BASE, X86_HT_HOLE_END - X86_HT_HOLE_BASE, E820_RESERVED);
		e820_add(l, X86_HT_HOLE_END, above_ht, E820_RAM);
	}

	l->mmio32.base = X86_MMIO32_BASE;
	l->mmio32.size = X86_MMIO32_SIZE;
	l->ecam.base = X86_ECAM_BASE;
	l->ecam.size = X86_ECAM_SIZE;
	l->pci_io.base = X86_PCI_IO_BASE;
	l->pci_io.size = X86_PCI_IO_END - X86_PCI_IO_BASE;

	/*
	 * The 64-bit window: from above RAM (1 GiB aligned) to the top of the
	 * guest's address space, stopping at the HyperTransport hole; when RAM
	 * already reaches the hole, above 1 TiB.
	 */
	start = align_up_sat(ram_end > X86_HIGH_RAM_BASE ? ram_end : X86_HIGH_RAM_BASE,
			     X86_MMIO64_ALIGN);
	if (start >= X86_HT_HOLE_BASE) {
		if (start < X86_HT_HOLE_END)
			start = X86_HT_HOLE_END;
		top = addr_limit;
	} else {
		top = addr_limit < X86_HT_HOLE_BASE ? addr_limit : X86_HT_HOLE_BASE;
	}
	if (start < top) {
		l->mmio64.base = start;
		l->mmio64.size = top - start;
	}
	return 0;
}

unsigned int x86_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	if (pin < 1 || pin > 4)
		return 0;
	return X86_PCI_GSI_BASE + (slot + pin - 1) % X86_PCI_GSI_COUNT;
}

const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "usable";
	case E820_RESERVED:
		return "reserved";
	case E820_ACPI:
		return "ACPI data";
	case E820_NVS:
		return "ACPI NVS";
	}
	return "unknown";
}

const char *e820_iomem_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "System RAM";
	case E820_RESERVED:
		return "Reserved";
	case E820_ACPI:
		return "ACPI Tables";
	case E820_NVS:
		return "ACPI Non-volatile Storage";
	}
	return "Unknown E820 type";
}

void x86_layout_set_ecam_buses(struct x86_layout *l, unsigned int nr_buses)
{
	uint64_t size;

	if (nr_buses < 1)
		nr_buses = 1;
	if (nr_buses > X86_ECAM_SIZE / X86_ECAM_BUS_SIZE)
		nr_buses = X86_ECAM_SIZE / X86_ECAM_BUS_SIZE;
	size = (uint64_t)nr_buses * X86_ECAM_BUS_SIZE;
	for (unsigned int i = 0; i < l->nr_e820; i++) {
		if (l->e820[i].addr == l->ecam.base && l->e820[i].size == l->ecam.size)
			l->e820[i].size = size;
	}
	l->ecam.size = size;
}

unsigned int x86_ecam_last_bus(const struct x86_layout *l)
{
	uint64_t buses = l->ecam.size / SZ_1M;

	if (!buses)
		return 0;
	return buses > 256 ? 255 : (unsigned int)buses - 1;
}
