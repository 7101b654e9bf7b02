/*
 * The root complex and the VMM's own config spaces: CF8/CFC and ECAM reach
 * the same bytes, routing follows the bus numbers the guest programs, bridge
 * windows are encoded as firmware leaves them, masks hold, and hostile
 * accesses (loops in bus numbers, odd sizes, offsets past the end) are safe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hw/io.h"
#include "pci/config_space.h"
#include "pci/root_complex.h"
#include "x86/layout.h"

#define ECAM	0xe0000000ULL

struct fixture {
	struct pci_topology t;
	struct io_bus bus;
	struct pci_root *r;
	int rp, br, br2, dev;
};

static unsigned int gsi_of(unsigned int slot, unsigned int pin)
{
	return x86_pci_intx_gsi(slot, pin);
}

static int add(struct pci_topology *t, enum pci_func_kind kind, int bus, int slot,
	       uint16_t device)
{
	struct pci_func f;

	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.name = "f";
	f.bus_req = bus;
	f.slot_req = slot;
	f.vendor = 0x1b36;
	f.device = device;
	if (kind == PCI_FUNC_ENDPOINT) {
		f.class_code = 0x020000;
		f.intx_pin = 1;
		f.bars[0].type = PCI_BAR_MEM32;
		f.bars[0].size = 0x1000;
		f.bars[1].type = PCI_BAR_IO;
		f.bars[1].size = 0x20;
		f.bars[2].type = PCI_BAR_MEM64;
		f.bars[2].prefetchable = true;
		f.bars[2].size = 1ULL << 32;
		return pci_topo_add_func(t, &f);
	}
	f.class_code = 0x060400;
	return pci_topo_add_bridge(t, &f);
}

/* Root port at 00:01.0 with a PCI bridge behind it, a second bridge behind
 * that, and an endpoint behind the second bridge. */
static int setup(void **state)
{
	struct fixture *x = calloc(1, sizeof(*x));
	struct x86_layout l;
	char err[256];

	if (!x || x86_layout_plan(1ULL << 30, 40, &l, err, sizeof(err)) ||
	    pci_topo_init(&x->t))
		return -1;
	x->t.host.io.base = l.pci_io.base;
	x->t.host.io.size = l.pci_io.size;
	x->t.host.mem32.base = l.mmio32.base;
	x->t.host.mem32.size = l.mmio32.size;
	x->t.host.mem64.base = l.mmio64.base;
	x->t.host.mem64.size = l.mmio64.size;
	x->t.funcs[0].vendor = 0x1b36;		/* the host bridge, as the plan names it */
	x->t.funcs[0].device = 0x0008;
	x->rp = add(&x->t, PCI_FUNC_ROOT_PORT, 0, 1, 0x000c);
	x->br = add(&x->t, PCI_FUNC_PCI_BRIDGE, x->t.funcs[x->rp].child_bus, 0, 0x0001);
	x->br2 = add(&x->t, PCI_FUNC_PCI_BRIDGE, x->t.funcs[x->br].child_bus, 2, 0x0001);
	x->dev = add(&x->t, PCI_FUNC_ENDPOINT, x->t.funcs[x->br2].child_bus, 5, 0x1234);
	if (pci_topo_assign(&x->t, gsi_of, err, sizeof(err)))
		return -1;
	io_bus_init(&x->bus);
	x->r = pci_root_create(&x->t);
	if (!x->r || pci_root_register(x->r, &x->bus, ECAM, 256 * PCI_ECAM_BUS_SIZE))
		return -1;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	pci_root_unregister(x->r, &x->bus);
	pci_root_destroy(x->r);
	io_bus_free(&x->bus);
	pci_topo_free(&x->t);
	free(x);
	return 0;
}

static uint32_t conf1(struct fixture *x, unsigned int bus, unsigned int devfn,
		      unsigned int reg, unsigned int len)
{
	uint64_t v = 0;

	io_bus_write(&x->bus, IO_SPACE_PIO, 0xcf8, 4,
		     0x80000000u | bus << 16 | devfn << 8 | (reg & 0xfc));
	io_bus_read(&x->bus, IO_SPACE_PIO, 0xcfc + (reg & 3), len, &v);
	return (uint32_t)v;
}

static uint32_t ecam(struct fixture *x, unsigned int bus, unsigned int devfn,
		     unsigned int reg, unsigned int len)
{
	uint64_t v = 0;

	io_bus_read(&x->bus, IO_SPACE_MMIO, ECAM + ((uint64_t)bus << 20) + (devfn << 12) + reg,
		    len, &v);
	return (uint32_t)v;
}

static void ecam_wr(struct fixture *x, unsigned int bus, unsigned int devfn,
		    unsigned int reg, unsigned int len, uint32_t v)
{
	io_bus_write(&x->bus, IO_SPACE_MMIO, ECAM + ((uint64_t)bus << 20) + (devfn << 12) + reg,
		     len, v);
}

static unsigned int devfn_of(const struct pci_func *f)
{
	return (unsigned int)f->dev << 3 | f->fn;
}

static void test_host_bridge_both_ways(void **state)
{
	struct fixture *x = *state;

	assert_int_equal(conf1(x, 0, 0, 0, 4), 0x00081b36);
	assert_int_equal(ecam(x, 0, 0, 0, 4), 0x00081b36);
	assert_int_equal(conf1(x, 0, 0, 0x08, 4) >> 8, 0x060000);
	assert_int_equal(conf1(x, 0, 0, 0x0a, 2), 0x0600);
	assert_int_equal(conf1(x, 0, 0, 0x0b, 1), 0x06);
	/* The latch reads back; absent functions read as ones. */
	{
		uint64_t v = 0;

		io_bus_read(&x->bus, IO_SPACE_PIO, 0xcf8, 4, &v);
		assert_int_equal(v, 0x80000008);
	}
	assert_int_equal(conf1(x, 0, 31 << 3, 0, 4), 0xffffffff);
	assert_int_equal(ecam(x, 200, 0, 0, 2), 0xffff);
}

static void test_bridge_registers_as_planned(void **state)
{
	struct fixture *x = *state;
	const struct pci_func *rp = &x->t.funcs[x->rp];
	uint32_t buses = conf1(x, 0, devfn_of(rp), 0x18, 4);
	uint64_t base, limit;

	assert_int_equal(buses & 0xff, 0);
	assert_int_equal((buses >> 8) & 0xff, rp->secondary);
	assert_int_equal((buses >> 16) & 0xff, rp->subordinate);
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x0e, 1) & 0x7f, 1);
	/* Memory window: base and limit in 1 MiB units. */
	base = (uint64_t)(conf1(x, 0, devfn_of(rp), 0x20, 2) & 0xfff0) << 16;
	limit = ((uint64_t)(conf1(x, 0, devfn_of(rp), 0x22, 2) & 0xfff0) << 16) | 0xfffff;
	assert_int_equal(base, rp->mem.base);
	assert_int_equal(limit, rp->mem.base + rp->mem.size - 1);
	/* The 64-bit prefetchable window, upper halves included. */
	base = (uint64_t)(conf1(x, 0, devfn_of(rp), 0x24, 2) & 0xfff0) << 16 |
	       (uint64_t)conf1(x, 0, devfn_of(rp), 0x28, 4) << 32;
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x24, 2) & 0xf, 1);
	assert_int_equal(base, rp->pref.base);
	/* I/O window in 4 KiB units, 32-bit decode. */
	base = (uint64_t)(conf1(x, 0, devfn_of(rp), 0x1c, 1) & 0xf0) << 8;
	assert_int_equal(base, rp->io.base);
	/* PCIe capability: a root port; then MSI. */
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x06, 2) & 0x10, 0x10);
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x34, 1), 0x40);
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x40, 2), 0x8010);
	assert_int_equal((conf1(x, 0, devfn_of(rp), 0x42, 2) >> 4) & 0xf, 4);
	assert_int_equal(conf1(x, 0, devfn_of(rp), 0x80, 1), 0x05);
}

static void test_closed_windows(void **state)
{
	struct fixture *x = *state;
	struct pci_func f = x->t.funcs[x->br];
	struct pci_config_space c;

	memset(&f.io, 0, sizeof(f.io));
	memset(&f.pref, 0, sizeof(f.pref));
	assert_int_equal(pci_config_space_init(&c, &f, 1), 0);
	/* base above limit: closed */
	assert_true((pci_config_space_read(&c, 0x1c, 1) & 0xf0) >
		    (pci_config_space_read(&c, 0x1d, 1) & 0xf0));
	assert_true((pci_config_space_read(&c, 0x24, 2) & 0xfff0) >
		    (pci_config_space_read(&c, 0x26, 2) & 0xfff0));
	assert_int_equal(pci_config_space_read(&c, 0x18, 1), 1);
	/* An endpoint gets its type 0 header, the rest is its own. */
	assert_int_equal(pci_config_space_init(&c, &x->t.funcs[x->dev], 0), 0);
	assert_int_equal(pci_config_space_read(&c, 0x0e, 1) & 0x7f, 0);
	assert_int_equal(pci_config_space_read(&c, 0x10, 4), 0);
}

static void test_routing_through_bridges(void **state)
{
	struct fixture *x = *state;
	const struct pci_func *br = &x->t.funcs[x->br], *br2 = &x->t.funcs[x->br2];
	const struct pci_func *rp = &x->t.funcs[x->rp];

	assert_int_equal(ecam(x, br->bus, devfn_of(br), 0, 4), 0x00011b36);
	assert_int_equal(conf1(x, br2->bus, devfn_of(br2), 0, 4), 0x00011b36);
	assert_int_equal(ecam(x, br2->bus, devfn_of(br2), 0x18, 1), br->secondary);
	/* The endpoint has no config handler attached: absent. */
	assert_int_equal(ecam(x, br2->secondary, devfn_of(&x->t.funcs[x->dev]), 0, 4),
			 0xffffffff);

	/* The guest renumbers: the root port's range no longer covers the bus. */
	ecam_wr(x, 0, devfn_of(rp), 0x1a, 1, rp->secondary);
	assert_int_equal(ecam(x, br2->bus, devfn_of(br2), 0, 4), 0xffffffff);
	ecam_wr(x, 0, devfn_of(rp), 0x1a, 1, rp->subordinate);
	assert_int_equal(ecam(x, br2->bus, devfn_of(br2), 0, 4), 0x00011b36);

	/* Moves the first bridge's buses to 0x40..: the second follows. */
	ecam_wr(x, 0, devfn_of(rp), 0x1a, 1, 0x50);
	ecam_wr(x, br->bus, devfn_of(br), 0x19, 2, 0x5040);
	assert_int_equal(ecam(x, 0x40, devfn_of(br2), 0, 4), 0x00011b36);
	assert_int_equal(ecam(x, br2->bus, devfn_of(br2), 0, 4), 0xffffffff);
}

static uint32_t ep_value = 0x5678abcd;

static uint32_t ep_read(void *opaque, unsigned int reg, unsigned int len)
{
	(void)opaque;
	(void)len;
	return reg == 0 ? ep_value : 0;
}

static void ep_write(void *opaque, unsigned int reg, unsigned int len, uint32_t v)
{
	(void)opaque;
	(void)len;
	if (reg == 0x10)
		ep_value = v;
}

static void test_attached_endpoint(void **state)
{
	static const struct pci_cfg_ops ops = { .read = ep_read, .write = ep_write };
	struct fixture *x = *state;
	const struct pci_func *ep = &x->t.funcs[x->dev];

	assert_int_equal(pci_root_attach(x->r, (unsigned int)x->rp, &ops, NULL), -EINVAL);
	assert_int_equal(pci_root_attach(x->r, (unsigned int)x->dev, &ops, NULL), 0);
	assert_int_equal(ecam(x, ep->bus, devfn_of(ep), 0, 4), 0x5678abcd);
	ecam_wr(x, ep->bus, devfn_of(ep), 0x10, 4, 0x11223344);
	assert_int_equal(conf1(x, ep->bus, devfn_of(ep), 0, 4), 0x11223344);
}

static void test_masks(void **state)
{
	struct fixture *x = *state;
	const struct pci_func *rp = &x->t.funcs[x->rp];
	unsigned int d = devfn_of(rp);

	/* Read-only ids, writable command bits only, error status W1C. */
	ecam_wr(x, 0, d, 0, 4, 0);
	assert_int_equal(ecam(x, 0, d, 0, 4), 0x000c1b36);
	ecam_wr(x, 0, d, 0x04, 2, 0xffff);
	assert_int_equal(ecam(x, 0, d, 0x04, 2), 0x0547);
	ecam_wr(x, 0, d, 0x06, 2, 0xffff);
	assert_int_equal(ecam(x, 0, d, 0x06, 2), 0x0010);
	/* MSI: enable and address writable, the capability's shape is not. */
	ecam_wr(x, 0, d, 0x80, 4, 0xffffffff);
	assert_int_equal(ecam(x, 0, d, 0x80, 4), 0x00810005);
	ecam_wr(x, 0, d, 0x84, 4, 0xfee00003);
	assert_int_equal(ecam(x, 0, d, 0x84, 4), 0xfee00000);
}

static void test_hostile_accesses(void **state)
{
	struct fixture *x = *state;
	const struct pci_func *rp = &x->t.funcs[x->rp], *br = &x->t.funcs[x->br];
	struct pci_config_space c;
	uint64_t v;

	/* A loop: the bridge behind claims a secondary bus below its own. */
	ecam_wr(x, br->bus, devfn_of(br), 0x19, 2, 0xff00);
	assert_int_equal(ecam(x, 0x80, 0, 0, 4), 0xffffffff);
	ecam_wr(x, 0, devfn_of(rp), 0x19, 2, 0xff00);
	assert_int_equal(ecam(x, 7, 0, 0, 4), 0xffffffff);
	/* Odd sizes and offsets past the end. */
	assert_int_equal(pci_config_space_init(&c, &x->t.funcs[0], 0), 0);
	assert_int_equal(pci_config_space_read(&c, 4095, 4), 0xffffff00);
	assert_int_equal(pci_config_space_read(&c, 5000, 2), 0xffff);
	assert_int_equal(pci_config_space_read(&c, 0, 3), 0xffffffff);
	pci_config_space_write(&c, 4094, 4, 0xffffffff);
	pci_config_space_write(&c, 0xffffffffu, 4, 0);
	assert_int_equal(pci_config_space_read(&c, 0, 2), 0x1b36);
	/* A data port access with the enable bit clear does nothing. */
	io_bus_write(&x->bus, IO_SPACE_PIO, 0xcf8, 4, 0);
	v = 0;
	io_bus_read(&x->bus, IO_SPACE_PIO, 0xcfc, 4, &v);
	assert_int_equal(v, 0xffffffff);
	/* Byte writes to the latch's ports leave it alone. */
	io_bus_write(&x->bus, IO_SPACE_PIO, 0xcfb, 1, 0x01);
	io_bus_read(&x->bus, IO_SPACE_PIO, 0xcf8, 4, &v);
	assert_int_equal(v, 0);
	/* 8-byte ECAM reads split into two dwords. */
	io_bus_read(&x->bus, IO_SPACE_MMIO, ECAM, 8, &v);
	assert_int_equal(v & 0xffffffff, 0x00081b36);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_registers_as_planned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routing_through_bridges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attached_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_accesses, setup, teardown),
	};

	return cmocka_run_group_tests_name("pci_root", tests, NULL, NULL);
}
