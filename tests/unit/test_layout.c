/* Unit tests of the x86-64 address map: RAM split, E820, windows, phys-bits. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "x86/layout.h"

#define SZ_1T	(1024 * SZ_1G)

static char err[512];

static void plan_ok(uint64_t mem, unsigned int bits, struct x86_layout *l)
{
	err[0] = '\0';
	if (x86_layout_plan(mem, bits, l, err, sizeof(err)))
		fail_msg("x86_layout_plan(0x%llx, %u): %s", (unsigned long long)mem, bits, err);
}

static int overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return as && bs && a < b + bs && b < a + as;
}

/* Invariants every layout keeps. */
static void check_layout(const struct x86_layout *l)
{
	uint64_t e820_ram = 0, ram = 0, end = 0;
	unsigned int i;

	assert_true(l->nr_e820 > 0 && l->nr_e820 <= X86_MAX_E820);
	for (i = 0; i < l->nr_e820; i++) {
		const struct e820_entry *e = &l->e820[i];

		assert_true(e->size > 0);
		assert_true(e->addr + e->size > e->addr);
		if (i)		/* sorted, non-overlapping */
			assert_true(e->addr >= l->e820[i - 1].addr + l->e820[i - 1].size);
		if (e->type == E820_RAM)
			e820_ram += e->size;
	}
	for (i = 0; i < l->nr_ram; i++) {
		const struct addr_range *r = &l->ram[i];

		assert_true(r->size > 0);
		assert_true(r->base >= end);
		end = r->base + r->size;
		ram += r->size;
		assert_true(end <= 1ULL << l->phys_bits);
		/* RAM never meets a window, ECAM, the APICs or the HT hole. */
		assert_false(overlaps(r->base, r->size, l->mmio32.base, l->mmio32.size));
		assert_false(overlaps(r->base, r->size, l->mmio64.base, l->mmio64.size));
		assert_false(overlaps(r->base, r->size, l->ecam.base, l->ecam.size));
		assert_false(overlaps(r->base, r->size, X86_IOAPIC_BASE, X86_IOAPIC_SIZE));
		assert_false(overlaps(r->base, r->size, X86_LAPIC_BASE, X86_LAPIC_SIZE));
		assert_false(overlaps(r->base, r->size, X86_HT_HOLE_BASE,
				      X86_HT_HOLE_END - X86_HT_HOLE_BASE));
	}
	assert_int_equal(ram, l->memory);
	/* The legacy hole is backed but not usable. */
	assert_int_equal(e820_ram, l->memory - (X86_LEGACY_HOLE_END - X86_LEGACY_HOLE_BASE) -
				   X86_ZERO_PAGE_RESERVED);

	assert_int_equal(l->mmio32.base, 0xC0000000ULL);
	assert_int_equal(l->mmio32.size, 0x20000000ULL);
	assert_int_equal(l->ecam.base, 0xE0000000ULL);
	assert_int_equal(l->ecam.size, 0x10000000ULL);
	assert_int_equal(l->pci_io.base, 0x1000);
	assert_int_equal(l->pci_io.size, 0xF000);
	assert_false(overlaps(l->mmio32.base, l->mmio32.size, l->ecam.base, l->ecam.size));
	if (l->mmio64.size) {
		assert_int_equal(l->mmio64.base % SZ_1G, 0);
		assert_true(l->mmio64.base >= SZ_4G);
		assert_true(l->mmio64.base >= end);
		assert_true(l->mmio64.base + l->mmio64.size <= 1ULL << l->phys_bits);
		assert_false(overlaps(l->mmio64.base, l->mmio64.size, X86_HT_HOLE_BASE,
				      X86_HT_HOLE_END - X86_HT_HOLE_BASE));
	}
}

static void assert_e820(const struct x86_layout *l, unsigned int i, uint64_t addr,
			uint64_t size, uint32_t type)
{
	assert_true(i < l->nr_e820);
	assert_int_equal(l->e820[i].addr, addr);
	assert_int_equal(l->e820[i].size, size);
	assert_int_equal(l->e820[i].type, type);
}

static void test_512m(void **state)
{
	struct x86_layout l;

	plan_ok(512 * SZ_1M, 40, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 1);
	assert_int_equal(l.ram[0].base, 0);
	assert_int_equal(l.ram[0].size, 512 * SZ_1M);
	assert_int_equal(l.nr_e820, 7);
	assert_e820(&l, 0, 0, 0x1000, E820_RESERVED);
	assert_e820(&l, 1, 0x1000, 0x9F000, E820_RAM);
	assert_e820(&l, 2, 0xA0000, 0x60000, E820_RESERVED);
	assert_e820(&l, 3, SZ_1M, 511 * SZ_1M, E820_RAM);
	assert_e820(&l, 4, 0xE0000000ULL, 0x10000000ULL, E820_RESERVED);
	assert_e820(&l, 5, 0xFEC00000ULL, 0x1000, E820_RESERVED);
	assert_e820(&l, 6, 0xFEE00000ULL, 0x1000, E820_RESERVED);
	/* 256 MiB of ECAM: buses 00-ff, as MCFG, _CRS and pci-topo say. */
	assert_int_equal(x86_ecam_last_bus(&l), 0xff);
	l.ecam.size = 4 * SZ_1M;
	assert_int_equal(x86_ecam_last_bus(&l), 3);
	l.ecam.size = 0;
	assert_int_equal(x86_ecam_last_bus(&l), 0);
	l.ecam.size = X86_ECAM_SIZE;
	/* Sized to a plan's buses: the ECAM and its E820 entry shrink together. */
	x86_layout_set_ecam_buses(&l, 3);
	assert_int_equal(l.ecam.size, 3 * SZ_1M);
	assert_int_equal(x86_ecam_last_bus(&l), 2);
	assert_e820(&l, 4, 0xE0000000ULL, 3 * SZ_1M, E820_RESERVED);
	x86_layout_set_ecam_buses(&l, 0);
	assert_int_equal(l.ecam.size, SZ_1M);
	x86_layout_set_ecam_buses(&l, 1000);
	assert_int_equal(l.ecam.size, X86_ECAM_SIZE);
	assert_e820(&l, 4, 0xE0000000ULL, X86_ECAM_SIZE, E820_RESERVED);
	assert_int_equal(x86_ecam_last_bus(&l), 0xff);
	/* No high RAM: the 64-bit window starts at 4 GiB, ends at the HT hole. */
	assert_int_equal(l.mmio64.base, SZ_4G);
	assert_int_equal(l.mmio64.size, X86_HT_HOLE_BASE - SZ_4G);
}

static void test_3g(void **state)
{
	struct x86_layout l;

	plan_ok(3 * SZ_1G, 39, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 1);
	assert_int_equal(l.ram[0].size, 3 * SZ_1G);
	assert_e820(&l, 3, SZ_1M, 3 * SZ_1G - SZ_1M, E820_RAM);
	assert_int_equal(l.nr_e820, 7);
	/* 39 bits: the window stops at 512 GiB. */
	assert_int_equal(l.mmio64.base, SZ_4G);
	assert_int_equal(l.mmio64.size, (1ULL << 39) - SZ_4G);
}

static void test_3g_plus_1(void **state)
{
	struct x86_layout l;

	/* One byte more than 3 GiB is not a whole page. */
	assert_int_equal(x86_layout_plan(3 * SZ_1G + 1, 40, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory 3221225473 bytes: expected a multiple of 4 KiB");

	/* One page more: that page goes above 4 GiB. */
	plan_ok(3 * SZ_1G + SZ_4K, 40, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 2);
	assert_int_equal(l.ram[0].size, 3 * SZ_1G);
	assert_int_equal(l.ram[1].base, SZ_4G);
	assert_int_equal(l.ram[1].size, SZ_4K);
	assert_int_equal(l.nr_e820, 8);
	assert_e820(&l, 7, SZ_4G, SZ_4K, E820_RAM);
	assert_int_equal(l.mmio64.base, 5 * SZ_1G);
}

static void test_8g(void **state)
{
	struct x86_layout l;

	plan_ok(8 * SZ_1G, 40, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 2);
	assert_int_equal(l.ram[0].base, 0);
	assert_int_equal(l.ram[0].size, 3 * SZ_1G);
	assert_int_equal(l.ram[1].base, SZ_4G);
	assert_int_equal(l.ram[1].size, 5 * SZ_1G);
	assert_e820(&l, 7, SZ_4G, 5 * SZ_1G, E820_RAM);
	assert_int_equal(l.mmio64.base, 9 * SZ_1G);
	assert_int_equal(l.mmio64.base + l.mmio64.size, X86_HT_HOLE_BASE);
}

static void test_1t(void **state)
{
	struct x86_layout l;

	/* 1 TiB of RAM crosses the HT hole: the rest resumes at 1 TiB. */
	assert_int_equal(x86_layout_plan(SZ_1T, 40, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory 1 TiB reaches up to 0x1033fffffff and needs 41 "
			    "physical address bits; phys-bits is 40");

	plan_ok(SZ_1T, 41, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 3);
	assert_int_equal(l.ram[1].base, SZ_4G);
	assert_int_equal(l.ram[1].size, X86_HT_HOLE_BASE - SZ_4G);
	assert_int_equal(l.ram[2].base, SZ_1T);
	assert_int_equal(l.ram[2].size, 13 * SZ_1G);
	assert_int_equal(l.nr_e820, 10);
	assert_e820(&l, 8, X86_HT_HOLE_BASE, X86_HT_HOLE_END - X86_HT_HOLE_BASE, E820_RESERVED);
	assert_e820(&l, 9, SZ_1T, 13 * SZ_1G, E820_RAM);
	/* The 64-bit window goes above RAM, beyond 1 TiB. */
	assert_int_equal(l.mmio64.base, SZ_1T + 13 * SZ_1G);
	assert_int_equal(l.mmio64.base + l.mmio64.size, 2 * SZ_1T);
}

static void test_ram_up_to_ht_hole(void **state)
{
	struct x86_layout l;

	/* High RAM ends exactly at the hole: the window moves above 1 TiB. */
	plan_ok(3 * SZ_1G + (X86_HT_HOLE_BASE - SZ_4G), 48, &l);
	check_layout(&l);
	assert_int_equal(l.nr_ram, 2);
	assert_int_equal(l.ram[1].base + l.ram[1].size, X86_HT_HOLE_BASE);
	assert_int_equal(l.mmio64.base, SZ_1T);
	assert_int_equal(l.mmio64.size, (1ULL << 48) - SZ_1T);
	/* With 40 bits there is no room left for a window at all. */
	plan_ok(3 * SZ_1G + (X86_HT_HOLE_BASE - SZ_4G), 40, &l);
	check_layout(&l);
	assert_int_equal(l.mmio64.size, 0);
}

static void test_phys_bits(void **state)
{
	struct x86_layout l;

	assert_int_equal(x86_layout_plan(SZ_1G, 35, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "phys-bits 35: expected 36 to 52");
	assert_int_equal(x86_layout_plan(SZ_1G, 53, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "phys-bits 53: expected 36 to 52");
	assert_int_equal(x86_layout_plan(SZ_1G, 0, &l, err, sizeof(err)), -EINVAL);

	/* 36 bits = 64 GiB: 61 GiB of RAM ends at 65 GiB. */
	assert_int_equal(x86_layout_plan(64 * SZ_1G, 36, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory 64 GiB reaches up to 0x103fffffff and needs 37 "
			    "physical address bits; phys-bits is 36");

	/* RAM up to the last byte: fits, and leaves no 64-bit window. */
	plan_ok(63 * SZ_1G, 36, &l);
	check_layout(&l);
	assert_int_equal(l.ram[1].base + l.ram[1].size, 1ULL << 36);
	assert_int_equal(l.mmio64.size, 0);

	/* 36 bits and little RAM: a window of 60 GiB. */
	plan_ok(2 * SZ_1G, 36, &l);
	check_layout(&l);
	assert_int_equal(l.mmio64.base, SZ_4G);
	assert_int_equal(l.mmio64.size, 60 * SZ_1G);

	/* 52 bits and huge RAM does not overflow. */
	assert_int_equal(x86_layout_plan(~0ULL & ~(SZ_4K - 1), 52, &l, err, sizeof(err)),
			 -EINVAL);
}

static void test_memory_errors(void **state)
{
	struct x86_layout l;

	assert_int_equal(x86_layout_plan(0, 40, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory 0 bytes: at least 2 MiB is needed");
	assert_int_equal(x86_layout_plan(SZ_1M, 40, &l, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "memory 1 MiB: at least 2 MiB is needed");
	plan_ok(2 * SZ_1M, 40, &l);
	check_layout(&l);
}

static void test_sizes_sweep(void **state)
{
	static const uint64_t mems[] = {
		2 * SZ_1M, 640 * SZ_1K + 2 * SZ_1M, 1 * SZ_1G, 3 * SZ_1G - SZ_4K,
		3 * SZ_1G, 4 * SZ_1G, 7 * SZ_1G + 12 * SZ_4K, 64 * SZ_1G, 1010 * SZ_1G,
		1011 * SZ_1G, 1012 * SZ_1G, 1024 * SZ_1G, 4096 * SZ_1G,
	};
	struct x86_layout l;
	unsigned int i, bits;

	for (i = 0; i < sizeof(mems) / sizeof(mems[0]); i++) {
		for (bits = X86_MIN_PHYS_BITS; bits <= X86_MAX_PHYS_BITS; bits++) {
			if (x86_layout_plan(mems[i], bits, &l, err, sizeof(err)))
				continue;
			check_layout(&l);
		}
	}
}

static void test_intx_gsi(void **state)
{
	assert_int_equal(x86_pci_intx_gsi(0, 1), 16);
	assert_int_equal(x86_pci_intx_gsi(1, 1), 17);
	assert_int_equal(x86_pci_intx_gsi(1, 4), 20);
	assert_int_equal(x86_pci_intx_gsi(5, 4), 16);
	assert_int_equal(x86_pci_intx_gsi(7, 2), 16);
	assert_int_equal(x86_pci_intx_gsi(31, 4), 18);
	assert_int_equal(x86_pci_intx_gsi(3, 0), 0);
	assert_int_equal(x86_pci_intx_gsi(3, 5), 0);
}

static void test_e820_names(void **state)
{
	assert_string_equal(e820_type_name(E820_RAM), "usable");
	assert_string_equal(e820_type_name(E820_RESERVED), "reserved");
	assert_string_equal(e820_type_name(E820_ACPI), "ACPI data");
	assert_string_equal(e820_type_name(E820_NVS), "ACPI NVS");
	assert_string_equal(e820_type_name(99), "unknown");
	assert_string_equal(e820_iomem_name(E820_RAM), "System RAM");
	assert_string_equal(e820_iomem_name(E820_RESERVED), "Reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_512m),
		cmocka_unit_test(test_3g),
		cmocka_unit_test(test_3g_plus_1),
		cmocka_unit_test(test_8g),
		cmocka_unit_test(test_1t),
		cmocka_unit_test(test_ram_up_to_ht_hole),
		cmocka_unit_test(test_phys_bits),
		cmocka_unit_test(test_memory_errors),
		cmocka_unit_test(test_sizes_sweep),
		cmocka_unit_test(test_intx_gsi),
		cmocka_unit_test(test_e820_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
