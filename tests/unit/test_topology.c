/* Unit tests of the PCI tree: placement, bus numbers, swizzle, BARs and windows. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pci/topology.h"
#include "x86/layout.h"

static char err[512];

static unsigned int gsi_of(unsigned int slot, unsigned int pin)
{
	return x86_pci_intx_gsi(slot, pin);
}

/* A topology with the host windows of a layout of 'mem' and 'bits'. */
static void topo_new(struct pci_topology *t, uint64_t mem, unsigned int bits)
{
	struct x86_layout l;

	assert_int_equal(x86_layout_plan(mem, bits, &l, err, sizeof(err)), 0);
	assert_int_equal(pci_topo_init(t), 0);
	t->host.io.base = l.pci_io.base;
	t->host.io.size = l.pci_io.size;
	t->host.mem32.base = l.mmio32.base;
	t->host.mem32.size = l.mmio32.size;
	t->host.mem64.base = l.mmio64.base;
	t->host.mem64.size = l.mmio64.size;
}

static struct pci_func req(const char *name, int bus, int slot, int fn)
{
	struct pci_func f;

	memset(&f, 0, sizeof(f));
	f.kind = PCI_FUNC_ENDPOINT;
	f.name = name;
	f.bus_req = bus;
	f.slot_req = slot;
	f.fn_req = fn;
	return f;
}

static int add_dev(struct pci_topology *t, const char *name, int bus, int slot, int fn)
{
	struct pci_func f = req(name, bus, slot, fn);
	int i = pci_topo_add_func(t, &f);

	assert_true(i > 0);
	return i;
}

static int add_bar(struct pci_topology *t, const char *name, int bus, int slot,
		   enum pci_bar_type type, bool pref, uint64_t size)
{
	struct pci_func f = req(name, bus, slot, 0);
	int i;

	f.bars[0].type = type;
	f.bars[0].prefetchable = pref;
	f.bars[0].size = size;
	i = pci_topo_add_func(t, &f);
	assert_true(i > 0);
	return i;
}

static int add_br(struct pci_topology *t, enum pci_func_kind kind, const char *name,
		  int bus, int slot)
{
	struct pci_func f = req(name, bus, slot, 0);
	int i;

	f.kind = kind;
	f.class_code = 0x060400;
	i = pci_topo_add_bridge(t, &f);
	assert_true(i > 0);
	return i;
}

static int bus_of(struct pci_topology *t, int bridge)
{
	return t->funcs[bridge].child_bus;
}

static void assign_ok(struct pci_topology *t)
{
	err[0] = '\0';
	if (pci_topo_assign(t, gsi_of, err, sizeof(err)))
		fail_msg("pci_topo_assign: %s", err);
}

static void assign_fails(struct pci_topology *t, int ret, const char *msg)
{
	err[0] = '\0';
	assert_int_equal(pci_topo_assign(t, gsi_of, err, sizeof(err)), ret);
	assert_string_equal(err, msg);
}

static const struct pci_window *parent_window(const struct pci_topology *t, int bus,
					      enum pci_res_kind res)
{
	int br = t->buses[bus].bridge;

	if (br < 0)
		return res == PCI_RES_IO ? &t->host.io : res == PCI_RES_MEM ? &t->host.mem32 :
		       &t->host.mem64;
	return pci_func_window(&t->funcs[br], res);
}

static bool inside(uint64_t b, uint64_t s, const struct pci_window *w)
{
	return w->size && b >= w->base && s <= w->size && b - w->base <= w->size - s;
}

struct rng {
	uint64_t base, size;
	int bus;
	int res;
};

/*
 * Every BAR naturally aligned and inside its bus's window; every open window
 * on the bridge granularity and inside its parent's; siblings disjoint.
 */
static void check_topo(const struct pci_topology *t)
{
	struct rng *r = calloc((size_t)t->nr_funcs * (PCI_NR_BARS + 1 + PCI_NR_RES), sizeof(*r));
	unsigned int i, j, n = 0;
	int b, k;

	assert_non_null(r);
	for (i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *f = &t->funcs[i];

		for (b = 0; b <= PCI_NR_BARS; b++) {
			const struct pci_bar *bar = b == PCI_NR_BARS ? &f->rom : &f->bars[b];
			enum pci_res_kind res;

			if (bar->type == PCI_BAR_UNUSED || !bar->size)
				continue;
			res = pci_bar_res(bar);
			assert_int_equal(bar->addr % bar->size, 0);
			assert_true(inside(bar->addr, bar->size, parent_window(t, f->bus_req, res)));
			if (res == PCI_RES_PREF)
				assert_true(bar->addr >= 0x100000000ULL);
			else
				assert_true(bar->addr + bar->size <= 0x100000000ULL);
			r[n++] = (struct rng){ bar->addr, bar->size, f->bus_req, res };
		}
		if (f->child_bus < 0)
			continue;
		assert_true(f->secondary > f->bus);
		assert_true(f->subordinate >= f->secondary);
		for (k = 0; k < PCI_NR_RES; k++) {
			const struct pci_window *w = pci_func_window(f, k);
			uint64_t g = k == PCI_RES_IO ? PCI_BRIDGE_IO_ALIGN : PCI_BRIDGE_MEM_ALIGN;

			if (!w->size) {
				assert_int_equal(w->base, 0);
				continue;
			}
			assert_int_equal(w->base % g, 0);
			assert_int_equal(w->size % g, 0);
			assert_true(inside(w->base, w->size, parent_window(t, f->bus_req, k)));
			r[n++] = (struct rng){ w->base, w->size, f->bus_req, k };
		}
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (r[i].bus == r[j].bus && r[i].res == r[j].res)
				assert_false(r[i].base < r[j].base + r[j].size &&
					     r[j].base < r[i].base + r[i].size);
	free(r);
}

static void test_init(void **state)
{
	struct pci_topology t;

	topo_new(&t, SZ_1G, 40);
	assert_int_equal(t.nr_funcs, 1);
	assert_int_equal(t.nr_buses, 1);
	assert_int_equal(t.funcs[0].kind, PCI_FUNC_HOST_BRIDGE);
	assert_int_equal(t.buses[0].bridge, -1);
	assign_ok(&t);
	assert_int_equal(t.funcs[0].bus, 0);
	assert_int_equal(t.funcs[0].dev, 0);
	assert_int_equal(t.funcs[0].fn, 0);
	pci_topo_free(&t);
}

static void test_place_explicit_then_auto(void **state)
{
	struct pci_topology t;
	int a, b, c, d;

	topo_new(&t, SZ_1G, 40);
	a = add_dev(&t, "a", 0, PCI_SLOT_AUTO, 0);
	b = add_dev(&t, "b", 0, 2, 0);
	c = add_dev(&t, "c", 0, PCI_SLOT_AUTO, 0);
	d = add_dev(&t, "d", 0, 31, 0);
	assign_ok(&t);
	assert_int_equal(t.funcs[a].dev, 1);	/* slot 0 is the host bridge */
	assert_int_equal(t.funcs[b].dev, 2);
	assert_int_equal(t.funcs[c].dev, 3);	/* explicit slots are taken first */
	assert_int_equal(t.funcs[d].dev, 31);
	assert_false(t.funcs[a].multifunction);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_place_collision(void **state)
{
	struct pci_topology t;
	int y;

	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "x", 0, 3, 0);
	y = add_dev(&t, "y", 0, 3, 0);
	assign_fails(&t, -EEXIST, "\"y\": slot 3 function 0 on the root bus is already taken by \"x\"");
	assert_int_equal(t.error.func, y);
	assert_int_equal(t.error.bar, -1);
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "z", 0, 0, 0);
	assign_fails(&t, -EEXIST,
		     "\"z\": slot 0 function 0 on the root bus is already taken by \"host bridge\"");
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "bad", 0, 32, 0);
	assign_fails(&t, -EINVAL, "\"bad\": slot 32: expected 0 to 31");
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "bad", 0, 1, 8);
	assign_fails(&t, -EINVAL, "\"bad\": function 8: expected 0 to 7");
	pci_topo_free(&t);
}

static void test_place_full_bus(void **state)
{
	struct pci_topology t;
	char names[32][8];
	int i;

	topo_new(&t, SZ_1G, 40);
	for (i = 0; i < 32; i++) {
		snprintf(names[i], sizeof(names[i]), "d%d", i);
		add_dev(&t, names[i], 0, PCI_SLOT_AUTO, 0);
	}
	assign_fails(&t, -ENOSPC, "\"d31\": no free slot on the root bus");
	pci_topo_free(&t);
}

static void test_multifunction(void **state)
{
	struct pci_topology t;
	int g, a, x, x1, x2;

	topo_new(&t, SZ_1G, 40);
	g = add_dev(&t, "gpu", 0, PCI_SLOT_AUTO, 0);
	a = add_dev(&t, "gpu-audio", 0, PCI_SLOT_AUTO, 1);	/* joins the slot before */
	x2 = add_dev(&t, "x2", 0, 5, 2);
	x = add_dev(&t, "x", 0, 5, 0);
	x1 = add_dev(&t, "x1", 0, 5, 1);
	assign_ok(&t);
	assert_int_equal(t.funcs[g].dev, 1);
	assert_int_equal(t.funcs[a].dev, 1);
	assert_int_equal(t.funcs[a].fn, 1);
	assert_true(t.funcs[g].multifunction);
	assert_false(t.funcs[a].multifunction);
	assert_true(t.funcs[x].multifunction);
	assert_false(t.funcs[x1].multifunction);
	assert_int_equal(t.funcs[x2].fn, 2);
	assert_false(t.funcs[0].multifunction);
	pci_topo_free(&t);

	/* An automatic function 0 completes a slot placed by hand. */
	topo_new(&t, SZ_1G, 40);
	a = add_dev(&t, "audio", 0, 4, 1);
	g = add_dev(&t, "gpu", 0, PCI_SLOT_AUTO, 0);
	x = add_dev(&t, "other", 0, PCI_SLOT_AUTO, 0);
	assign_ok(&t);
	assert_int_equal(t.funcs[g].dev, 4);
	assert_true(t.funcs[g].multifunction);
	assert_int_equal(t.funcs[a].dev, 4);
	assert_int_equal(t.funcs[x].dev, 1);
	pci_topo_free(&t);

	/* A function without a function 0 in its slot. */
	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "lonely", 0, 4, 3);
	assign_fails(&t, -EINVAL, "\"lonely\": function 3 of slot 4 has no function 0 beside it");
	pci_topo_free(&t);

	/* Function 1, automatic slot, nothing before it on that bus. */
	topo_new(&t, SZ_1G, 40);
	{
		int pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, PCI_SLOT_AUTO);

		add_dev(&t, "orphan", bus_of(&t, pb), PCI_SLOT_AUTO, 1);
	}
	assign_fails(&t, -EINVAL, "\"orphan\": function 1 needs a slot: nothing before it "
		     "behind PCI bridge \"pb\" to share one with");
	pci_topo_free(&t);

	/* Function 1 of a slot whose function 1 is taken. */
	topo_new(&t, SZ_1G, 40);
	add_dev(&t, "m0", 0, 2, 0);
	add_dev(&t, "m1", 0, 2, 1);
	add_dev(&t, "m1b", 0, PCI_SLOT_AUTO, 1);
	assign_fails(&t, -EEXIST,
		     "\"m1b\": slot 2 function 1 on the root bus is already taken by \"m1\"");
	pci_topo_free(&t);
}

static void test_single_slot(void **state)
{
	struct pci_topology t;
	int rp, a, a1;

	topo_new(&t, SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp", 0, PCI_SLOT_AUTO);
	assert_true(t.buses[bus_of(&t, rp)].single_slot);
	a = add_dev(&t, "a", bus_of(&t, rp), PCI_SLOT_AUTO, 0);
	a1 = add_dev(&t, "a1", bus_of(&t, rp), PCI_SLOT_AUTO, 1);
	assign_ok(&t);
	assert_int_equal(t.funcs[a].dev, 0);
	assert_int_equal(t.funcs[a1].dev, 0);
	assert_int_equal(t.funcs[a1].fn, 1);
	assert_true(t.funcs[a].multifunction);
	assert_int_equal(t.funcs[a].bus, 1);
	pci_topo_free(&t);

	/* A second device on a root port's link. */
	topo_new(&t, SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp", 0, PCI_SLOT_AUTO);
	add_dev(&t, "a", bus_of(&t, rp), PCI_SLOT_AUTO, 0);
	add_dev(&t, "b", bus_of(&t, rp), PCI_SLOT_AUTO, 0);
	assign_fails(&t, -EEXIST,
		     "\"b\": slot 0 function 0 behind root port \"rp\" is already taken by \"a\"");
	pci_topo_free(&t);

	/* An explicit slot other than 0 there. */
	topo_new(&t, SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp", 0, PCI_SLOT_AUTO);
	add_dev(&t, "c", bus_of(&t, rp), 1, 0);
	assign_fails(&t, -EINVAL, "\"c\": slot 1: a PCIe port's link has one slot, 0 "
		     "(behind root port \"rp\")");
	pci_topo_free(&t);

	/* A root port behind a bridge. */
	topo_new(&t, SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, PCI_SLOT_AUTO);
	add_br(&t, PCI_FUNC_ROOT_PORT, "rp", bus_of(&t, rp), PCI_SLOT_AUTO);
	assign_fails(&t, -EINVAL, "\"rp\": a PCIe root port sits on the root bus only");
	pci_topo_free(&t);
}

static void test_bus_numbers(void **state)
{
	struct pci_topology t;
	int rp1, pb, pb2, rp0, e, pb3;
	unsigned int order[16];

	/* Added out of address order: numbering follows device numbers. */
	topo_new(&t, SZ_1G, 40);
	rp1 = add_br(&t, PCI_FUNC_ROOT_PORT, "rp1", 0, 3);
	pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, 2);
	pb2 = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb2", bus_of(&t, pb), 7);
	rp0 = add_br(&t, PCI_FUNC_ROOT_PORT, "rp0", 0, 1);
	e = add_dev(&t, "e", bus_of(&t, pb2), PCI_SLOT_AUTO, 0);
	pb3 = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb3", bus_of(&t, pb), 1);
	assign_ok(&t);
	assert_int_equal(t.funcs[rp0].secondary, 1);
	assert_int_equal(t.funcs[rp0].subordinate, 1);
	assert_int_equal(t.funcs[pb].secondary, 2);
	assert_int_equal(t.funcs[pb3].bus, 2);
	assert_int_equal(t.funcs[pb3].secondary, 3);
	assert_int_equal(t.funcs[pb3].subordinate, 3);
	assert_int_equal(t.funcs[pb2].bus, 2);
	assert_int_equal(t.funcs[pb2].secondary, 4);
	assert_int_equal(t.funcs[pb2].subordinate, 4);
	assert_int_equal(t.funcs[pb].subordinate, 4);
	assert_int_equal(t.funcs[rp1].secondary, 5);
	assert_int_equal(t.funcs[rp1].subordinate, 5);
	assert_int_equal(t.funcs[e].bus, 4);
	assert_int_equal(t.funcs[e].dev, 0);
	assert_int_equal(t.buses[bus_of(&t, pb2)].number, 4);
	/* Closed windows: nothing behind anything. */
	assert_int_equal(t.funcs[pb].mem.size, 0);
	assert_int_equal(t.funcs[pb].io.size, 0);
	assert_int_equal(t.funcs[pb].pref.size, 0);

	/* Tree order: host, rp0, pb, pb3, pb2, e, rp1. */
	assert_int_equal(pci_topo_tree_order(&t, order), 0);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], rp0);
	assert_int_equal(order[2], pb);
	assert_int_equal(order[3], pb3);
	assert_int_equal(order[4], pb2);
	assert_int_equal(order[5], e);
	assert_int_equal(order[6], rp1);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_bus_limits(void **state)
{
	struct pci_topology t;
	int i, bus = 0, br = 0;

	/* A chain of 255 bridges uses every bus number. */
	topo_new(&t, SZ_1G, 40);
	for (i = 0; i < 255; i++) {
		br = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", bus, PCI_SLOT_AUTO);
		bus = bus_of(&t, br);
	}
	assign_ok(&t);
	assert_int_equal(t.funcs[br].secondary, 255);
	assert_int_equal(t.funcs[1].subordinate, 255);
	/* One more: no bus number left. */
	add_br(&t, PCI_FUNC_PCI_BRIDGE, "last", bus, PCI_SLOT_AUTO);
	assign_fails(&t, -ENOSPC, "\"last\": no bus number left: at most 256 buses");
	pci_topo_free(&t);

	/* Two bridges behind each other: a loop the root bus never reaches. */
	topo_new(&t, SZ_1G, 40);
	{
		int a = add_br(&t, PCI_FUNC_PCI_BRIDGE, "a", 0, PCI_SLOT_AUTO);
		int b = add_br(&t, PCI_FUNC_PCI_BRIDGE, "b", bus_of(&t, a), PCI_SLOT_AUTO);

		t.funcs[a].bus_req = bus_of(&t, b);
	}
	assign_fails(&t, -EINVAL, "\"a\": cannot be reached from the root bus: its bridges form a loop");
	pci_topo_free(&t);
}

static void test_swizzle(void **state)
{
	struct pci_topology t;
	struct pci_func f;
	int rp, pb, pb2, d1, d2, d3, d4;

	topo_new(&t, SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp", 0, 4);
	pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, 2);
	pb2 = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb2", bus_of(&t, pb), 5);

	f = req("root", 0, 6, 0);
	f.intx_pin = 2;
	d1 = pci_topo_add_func(&t, &f);
	f = req("behind-rp", bus_of(&t, rp), 0, 0);
	f.intx_pin = 2;
	d2 = pci_topo_add_func(&t, &f);
	f = req("behind-pb", bus_of(&t, pb), 3, 0);
	f.intx_pin = 1;
	d3 = pci_topo_add_func(&t, &f);
	f = req("deep", bus_of(&t, pb2), 1, 0);
	f.intx_pin = 4;
	d4 = pci_topo_add_func(&t, &f);
	assign_ok(&t);

	/* On the root bus: no swizzle. */
	assert_int_equal(t.funcs[d1].root_slot, 6);
	assert_int_equal(t.funcs[d1].root_pin, 2);
	assert_int_equal(t.funcs[d1].gsi, 16 + (6 + 1) % 8);
	/* Behind a root port, device 0: the pin stays, the slot is the port's. */
	assert_int_equal(t.funcs[d2].root_slot, 4);
	assert_int_equal(t.funcs[d2].root_pin, 2);
	assert_int_equal(t.funcs[d2].gsi, 16 + (4 + 1) % 8);
	/* Device 3 INTA behind a bridge at slot 2: INTD at slot 2. */
	assert_int_equal(t.funcs[d3].root_slot, 2);
	assert_int_equal(t.funcs[d3].root_pin, 4);
	assert_int_equal(t.funcs[d3].gsi, 16 + (2 + 3) % 8);
	/* INTD of dev 1 -> INTA at pb2 (dev 5) -> INTB at pb (slot 2). */
	assert_int_equal(t.funcs[d4].root_slot, 2);
	assert_int_equal(t.funcs[d4].root_pin, 2);
	assert_int_equal(t.funcs[d4].gsi, 16 + (2 + 1) % 8);
	/* No pin, no GSI. */
	assert_int_equal(t.funcs[pb].gsi, 0);
	assert_int_equal(t.funcs[pb].root_pin, 0);
	pci_topo_free(&t);
}

static void test_bar_largest_first(void **state)
{
	struct pci_topology t;
	int a, b, c, d, io1, io2;

	topo_new(&t, SZ_1G, 40);
	a = add_bar(&t, "a", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, false, 16 * SZ_1K);
	b = add_bar(&t, "b", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, false, SZ_1M);
	c = add_bar(&t, "c", 0, PCI_SLOT_AUTO, PCI_BAR_MEM64, false, 64 * SZ_1K);
	d = add_bar(&t, "d", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, true, 256 * SZ_1M);
	io1 = add_bar(&t, "io1", 0, PCI_SLOT_AUTO, PCI_BAR_IO, false, 0x20);
	io2 = add_bar(&t, "io2", 0, PCI_SLOT_AUTO, PCI_BAR_IO, false, 0x100);
	assign_ok(&t);
	/*
	 * Packed top-down, largest first, below the lowest top that fits: for
	 * memory that is the 32-bit window's own top (257 MiB needs a 256 MiB
	 * aligned top above 0xD0000000), for I/O 0x1200.
	 */
	assert_int_equal(t.funcs[d].bars[0].addr, 0xD0000000ULL);
	assert_int_equal(t.funcs[b].bars[0].addr, 0xCFF00000ULL);
	assert_int_equal(t.funcs[c].bars[0].addr, 0xCFEF0000ULL);	/* 64-bit, not prefetchable */
	assert_int_equal(t.funcs[a].bars[0].addr, 0xCFEEC000ULL);
	assert_int_equal(t.funcs[io2].bars[0].addr, 0x1100);
	assert_int_equal(t.funcs[io1].bars[0].addr, 0x10E0);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_bar_alignment_mixed(void **state)
{
	struct pci_topology t;
	struct pci_func f;
	int i, g, n;

	/* Sizes that leave alignment holes: every BAR still natural. */
	topo_new(&t, 8 * SZ_1G, 40);
	f = req("multi", 0, PCI_SLOT_AUTO, 0);
	f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 4 * SZ_1K };
	f.bars[1] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 8 * SZ_1G };
	f.bars[3] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 32 * SZ_1M };
	f.bars[5] = (struct pci_bar){ .type = PCI_BAR_IO, .size = 128 };
	f.rom = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 128 * SZ_1K };
	g = pci_topo_add_func(&t, &f);
	for (i = 0; i < 3; i++) {
		int pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, PCI_SLOT_AUTO);

		for (n = 0; n < 5; n++) {
			f = req("x", bus_of(&t, pb), PCI_SLOT_AUTO, 0);
			f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = (4 * SZ_1K) << (n * 3) };
			f.bars[1] = (struct pci_bar){ .type = PCI_BAR_IO, .size = 4ULL << n };
			f.bars[2] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true,
						      .size = SZ_1M << (n + i) };
			f.rom = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 64 * SZ_1K };
			assert_true(pci_topo_add_func(&t, &f) > 0);
		}
	}
	assign_ok(&t);
	/*
	 * 64-bit prefetchable: as low as it fits. The window starts at 9 GiB;
	 * the first 8 GiB aligned top above 9 GiB plus everything is 24 GiB,
	 * and the 8 GiB BAR sits right below it.
	 */
	assert_int_equal(t.funcs[g].bars[1].addr, 16 * SZ_1G);
	assert_true(t.funcs[g].rom.addr >= 0xC0000000ULL);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_windows(void **state)
{
	struct pci_topology t;
	struct pci_func f;
	int rp, pb, in_pb, d;

	topo_new(&t, 4 * SZ_1G, 40);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp", 0, 1);
	pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, 2);
	f = req("nic", bus_of(&t, rp), 0, 0);
	f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 16 * SZ_1K };
	f.bars[1] = (struct pci_bar){ .type = PCI_BAR_IO, .size = 0x100 };
	f.bars[2] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 8 * SZ_1G };
	f.bars[4] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 16 * SZ_1M };
	d = pci_topo_add_func(&t, &f);
	in_pb = add_bar(&t, "blk", bus_of(&t, pb), PCI_SLOT_AUTO, PCI_BAR_MEM64, false, 16 * SZ_1K);
	assign_ok(&t);

	/* rp: I/O 4 KiB, memory 1 MiB, prefetchable 8 GiB + 16 MiB. */
	assert_int_equal(t.funcs[rp].io.size, 0x1000);
	assert_int_equal(t.funcs[rp].io.base, 0x1000);
	assert_int_equal(t.funcs[d].bars[1].addr, 0x1F00);	/* top of its window */
	assert_int_equal(t.funcs[rp].mem.size, SZ_1M);
	assert_int_equal(t.funcs[rp].mem.base, 0xC0100000ULL);
	assert_int_equal(t.funcs[d].bars[0].addr, 0xC01FC000ULL);
	assert_int_equal(t.funcs[rp].pref.size, 8 * SZ_1G + 16 * SZ_1M);
	/* The 8 GiB BAR at the window's top, the 16 MiB one below it. */
	assert_int_equal((t.funcs[rp].pref.base + t.funcs[rp].pref.size) % (8 * SZ_1G), 0);
	assert_int_equal(t.funcs[d].bars[4].addr, t.funcs[rp].pref.base);
	assert_int_equal(t.funcs[d].bars[2].addr, t.funcs[rp].pref.base + 16 * SZ_1M);
	/* As low in the 64-bit window [5 GiB, 1012 GiB) as fits: top at 16 GiB. */
	assert_int_equal(t.funcs[d].bars[2].addr, 8 * SZ_1G);
	/* pb: memory only; I/O and prefetchable closed. */
	assert_int_equal(t.funcs[pb].mem.size, SZ_1M);
	assert_int_equal(t.funcs[pb].mem.base, 0xC0000000ULL);
	assert_int_equal(t.funcs[in_pb].bars[0].addr, 0xC00FC000ULL);
	assert_int_equal(t.funcs[pb].io.size, 0);
	assert_int_equal(t.funcs[pb].pref.size, 0);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_nested_windows(void **state)
{
	struct pci_topology t;
	int pb, pb2, a, b;

	topo_new(&t, SZ_1G, 40);
	pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, PCI_SLOT_AUTO);
	pb2 = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb2", bus_of(&t, pb), PCI_SLOT_AUTO);
	a = add_bar(&t, "a", bus_of(&t, pb2), PCI_SLOT_AUTO, PCI_BAR_MEM32, false, 3 * SZ_1M / 3);
	b = add_bar(&t, "b", bus_of(&t, pb), PCI_SLOT_AUTO, PCI_BAR_MEM32, false, 2 * SZ_1M);
	assign_ok(&t);
	/*
	 * pb2: 1 MiB; pb: 2 MiB BAR on top of pb2's 1 MiB = 3 MiB, its top
	 * aligned to 2 MiB: the lowest such top is 0xC0400000.
	 */
	assert_int_equal(t.funcs[pb2].mem.size, SZ_1M);
	assert_int_equal(t.funcs[pb].mem.size, 3 * SZ_1M);
	assert_int_equal(t.funcs[pb].mem.base, 0xC0100000ULL);
	assert_int_equal(t.funcs[b].bars[0].addr, 0xC0200000ULL);
	assert_int_equal(t.funcs[pb2].mem.base, t.funcs[pb].mem.base);
	assert_int_equal(t.funcs[a].bars[0].addr, t.funcs[pb2].mem.base);
	check_topo(&t);
	pci_topo_free(&t);
}

static void test_bar_too_large(void **state)
{
	struct pci_topology t;
	struct pci_func f;
	int big, rp, gpu;

	/* A 1 GiB 32-bit BAR in a 512 MiB window. */
	topo_new(&t, SZ_1G, 40);
	add_bar(&t, "small", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, false, SZ_1M);
	big = add_bar(&t, "big", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, false, SZ_1G);
	assign_fails(&t, -ENOSPC, "\"big\": BAR0 (1 GiB, 32-bit memory) does not fit in the "
		     "32-bit window 0xc0000000-0xdfffffff (512 MiB, 512 MiB free)");
	assert_int_equal(t.error.func, big);
	assert_int_equal(t.error.bar, 0);
	assert_int_equal(t.error.res, PCI_RES_MEM);
	pci_topo_free(&t);

	/* Two 256 MiB BARs and a 1 MiB one: the last one finds no room. */
	topo_new(&t, SZ_1G, 40);
	add_bar(&t, "p", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, true, 256 * SZ_1M);
	add_bar(&t, "q", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, true, 256 * SZ_1M);
	add_bar(&t, "r", 0, PCI_SLOT_AUTO, PCI_BAR_MEM32, false, SZ_1M);
	assign_fails(&t, -ENOSPC, "\"r\": BAR0 (1 MiB, 32-bit memory) does not fit in the "
		     "32-bit window 0xc0000000-0xdfffffff (512 MiB, 0 bytes free)");
	pci_topo_free(&t);

	/* 64 GiB behind a root port with 36 address bits. */
	topo_new(&t, SZ_1G, 36);
	rp = add_br(&t, PCI_FUNC_ROOT_PORT, "rp0", 0, PCI_SLOT_AUTO);
	f = req("gpu", bus_of(&t, rp), PCI_SLOT_AUTO, 0);
	f.bars[0] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 16 * SZ_1M };
	f.bars[1] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 64 * SZ_1G };
	gpu = pci_topo_add_func(&t, &f);
	assign_fails(&t, -ENOSPC, "\"gpu\": BAR1 (64 GiB, 64-bit prefetchable memory), behind "
		     "root port \"rp0\" whose prefetchable window needs 64 GiB, does not fit in the "
		     "64-bit window 0x100000000-0xfffffffff (60 GiB, 60 GiB free)");
	assert_int_equal(t.error.func, gpu);
	assert_int_equal(t.error.bar, 1);
	assert_int_equal(t.error.res, PCI_RES_PREF);
	pci_topo_free(&t);

	/* No 64-bit window at all. */
	topo_new(&t, 63 * SZ_1G, 36);
	f = req("nic", 0, PCI_SLOT_AUTO, 0);
	f.bars[2] = (struct pci_bar){ .type = PCI_BAR_MEM64, .prefetchable = true, .size = 32 * SZ_1K };
	pci_topo_add_func(&t, &f);
	assign_fails(&t, -ENOSPC, "\"nic\": BAR2 (32 KiB, 64-bit prefetchable memory) does not "
		     "fit: there is no 64-bit window");
	pci_topo_free(&t);

	/* The ROM too. */
	topo_new(&t, SZ_1G, 40);
	f = req("romy", 0, PCI_SLOT_AUTO, 0);
	f.rom = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = SZ_1G };
	pci_topo_add_func(&t, &f);
	assign_fails(&t, -ENOSPC, "\"romy\": ROM (1 GiB, expansion ROM) does not fit in the "
		     "32-bit window 0xc0000000-0xdfffffff (512 MiB, 512 MiB free)");
	assert_int_equal(t.error.bar, PCI_ROM_BAR);
	pci_topo_free(&t);

	/* I/O: sixteen bridges with I/O need more than the 60 KiB there is. */
	topo_new(&t, SZ_1G, 40);
	{
		int i, pb;

		for (i = 0; i < 16; i++) {
			pb = add_br(&t, PCI_FUNC_PCI_BRIDGE, "pb", 0, PCI_SLOT_AUTO);
			add_bar(&t, i == 15 ? "io15" : "io", bus_of(&t, pb), 0, PCI_BAR_IO, false, 8);
		}
	}
	assign_fails(&t, -ENOSPC, "\"io15\": BAR0 (8 bytes, I/O), behind PCI bridge \"pb\" whose "
		     "I/O window needs 4 KiB, does not fit in the I/O window 0x1000-0xffff "
		     "(60 KiB, 0 bytes free)");
	pci_topo_free(&t);
}

static void test_bad_requests(void **state)
{
	struct pci_topology t;
	struct pci_func f;

	topo_new(&t, SZ_1G, 40);
	f = req("odd", 0, PCI_SLOT_AUTO, 0);
	f.bars[2] = (struct pci_bar){ .type = PCI_BAR_MEM32, .size = 3 * SZ_1K };
	pci_topo_add_func(&t, &f);
	assign_fails(&t, -EINVAL, "\"odd\": BAR2: size 0xc00 is not a power of two");
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	f = req("top", 0, PCI_SLOT_AUTO, 0);
	f.bars[5] = (struct pci_bar){ .type = PCI_BAR_MEM64, .size = 4 * SZ_1K };
	pci_topo_add_func(&t, &f);
	assign_fails(&t, -EINVAL, "\"top\": BAR5: a 64-bit BAR needs BAR6 as its upper half");
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	f = req("nobus", 7, PCI_SLOT_AUTO, 0);
	pci_topo_add_func(&t, &f);
	assign_fails(&t, -EINVAL, "\"nobus\": no such bus (index 7)");
	pci_topo_free(&t);

	topo_new(&t, SZ_1G, 40);
	f = req("notbridge", 0, PCI_SLOT_AUTO, 0);
	assert_int_equal(pci_topo_add_bridge(&t, &f), -EINVAL);
	pci_topo_free(&t);
}

static void test_deterministic(void **state)
{
	struct pci_topology t;
	struct pci_func *copy;
	int i, pb;

	topo_new(&t, 16 * SZ_1G, 42);
	for (i = 0; i < 6; i++) {
		pb = add_br(&t, i & 1 ? PCI_FUNC_ROOT_PORT : PCI_FUNC_PCI_BRIDGE, "b", 0,
			    PCI_SLOT_AUTO);
		add_bar(&t, "x", bus_of(&t, pb), PCI_SLOT_AUTO, PCI_BAR_MEM64, i & 2, SZ_1M << i);
		add_bar(&t, "y", 0, PCI_SLOT_AUTO, PCI_BAR_IO, false, 16);
	}
	assign_ok(&t);
	copy = malloc(t.nr_funcs * sizeof(*copy));
	assert_non_null(copy);
	memcpy(copy, t.funcs, t.nr_funcs * sizeof(*copy));
	assign_ok(&t);
	assert_memory_equal(copy, t.funcs, t.nr_funcs * sizeof(*copy));
	check_topo(&t);
	free(copy);
	pci_topo_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_place_explicit_then_auto),
		cmocka_unit_test(test_place_collision),
		cmocka_unit_test(test_place_full_bus),
		cmocka_unit_test(test_multifunction),
		cmocka_unit_test(test_single_slot),
		cmocka_unit_test(test_bus_numbers),
		cmocka_unit_test(test_bus_limits),
		cmocka_unit_test(test_swizzle),
		cmocka_unit_test(test_bar_largest_first),
		cmocka_unit_test(test_bar_alignment_mixed),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_nested_windows),
		cmocka_unit_test(test_bar_too_large),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
