/*
 * Unit tests of plan_build(): a generic invariant checker run over hand-built
 * machines, the example machine files and the fixture host inventory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../tools/pci-topo/print.h"
#include "virtio/pci_layout.h"
#include "vmm/config.h"
#include "vmm/plan.h"

#define FIXTURE_SYS	SRCDIR "/tests/fixtures/host/sys"
#define FIXTURE_DEV	SRCDIR "/tests/fixtures/host/dev"
#define EXAMPLES	SRCDIR "/etc/examples"

static char err[1024];
static struct host_inventory *inv;

static int setup(void **state)
{
	inv = host_inventory_open(FIXTURE_SYS, FIXTURE_DEV);
	return inv ? 0 : -1;
}

static int teardown(void **state)
{
	host_inventory_close(inv);
	return 0;
}

/* ---- The invariant checker ---------------------------------------------- */

enum owner_kind {
	OWN_PLATFORM,		/* RAM, ECAM, APICs, legacy ports */
	OWN_HOST_WINDOW,
	OWN_BRIDGE_WINDOW,
	OWN_BAR,
};

struct crange {
	uint64_t base, size;
	enum owner_kind own;
	int func;		/* bridge or BAR owner, -1 */
	int res;		/* enum pci_res_kind, -1 for platform ranges */
	bool io;		/* I/O port space */
};

/* True if bridge 'br' sits above function 'f' in the tree. */
static bool is_ancestor(const struct pci_topology *t, int br, int f)
{
	int bus = t->funcs[f].bus_req;

	while (t->buses[bus].bridge >= 0) {
		if (t->buses[bus].bridge == br)
			return true;
		bus = t->funcs[t->buses[bus].bridge].bus_req;
	}
	return false;
}

/* May window 'w' contain 'x'? Host windows hold their kind; bridge windows their subtree. */
static bool may_contain(const struct pci_topology *t, const struct crange *w,
			const struct crange *x)
{
	if (w->res != x->res || x->own == OWN_PLATFORM || x->own == OWN_HOST_WINDOW)
		return false;
	if (w->own == OWN_HOST_WINDOW)
		return true;
	if (w->own == OWN_BRIDGE_WINDOW)
		return is_ancestor(t, w->func, x->func);
	return false;
}

static bool contains(const struct crange *w, const struct crange *x)
{
	return x->base >= w->base && x->size <= w->size && x->base - w->base <= w->size - x->size;
}

static const struct pci_window *parent_window(const struct pci_topology *t, int bus, int res)
{
	int br = t->buses[bus].bridge;

	if (br < 0)
		return res == PCI_RES_IO ? &t->host.io : res == PCI_RES_MEM ? &t->host.mem32 :
		       &t->host.mem64;
	return pci_func_window(&t->funcs[br], res);
}

static void in_window(uint64_t base, uint64_t size, const struct pci_window *w)
{
	assert_true(w->size > 0);
	assert_true(base >= w->base);
	assert_true(size <= w->size);
	assert_true(base - w->base <= w->size - size);
}

static void push(struct crange *r, unsigned int *n, uint64_t base, uint64_t size,
		 enum owner_kind own, int func, int res, bool io)
{
	if (!size)
		return;
	assert_true(base + size > base || base + size == 0);	/* no wrap */
	r[*n] = (struct crange){ base, size, own, func, res, io };
	(*n)++;
}

static int crange_cmp(const void *pa, const void *pb)
{
	const struct crange *a = pa, *b = pb;

	if (a->io != b->io)
		return a->io - b->io;
	if (a->base != b->base)
		return a->base < b->base ? -1 : 1;
	return a->size > b->size ? -1 : a->size < b->size;
}

/*
 * (a) no two ranges overlap unless a window holds what is behind it,
 * (b) BARs naturally aligned inside their bus's window, (c) bridge windows
 * inside their parent's, on the bridge granularity, (d) 64-bit prefetchable
 * BARs above 4 GiB, everything else below; plus INTx, MSI-X and trap sanity.
 */
static void check_plan(const struct vm_plan *p)
{
	const struct pci_topology *t = &p->pci;
	const struct x86_layout *l = &p->layout;
	size_t cap = 16 + (size_t)t->nr_funcs * (PCI_NR_BARS + 1 + PCI_NR_RES) + PLAN_MAX_LEGACY;
	struct crange *r = calloc(cap, sizeof(*r));
	unsigned int i, j, n = 0;
	int b, k;

	assert_non_null(r);
	for (i = 0; i < l->nr_ram; i++)
		push(r, &n, l->ram[i].base, l->ram[i].size, OWN_PLATFORM, -1, -1, false);
	push(r, &n, l->ecam.base, l->ecam.size, OWN_PLATFORM, -1, -1, false);
	push(r, &n, X86_IOAPIC_BASE, X86_IOAPIC_SIZE, OWN_PLATFORM, -1, -1, false);
	push(r, &n, X86_LAPIC_BASE, X86_LAPIC_SIZE, OWN_PLATFORM, -1, -1, false);
	push(r, &n, t->host.mem32.base, t->host.mem32.size, OWN_HOST_WINDOW, -1, PCI_RES_MEM, false);
	push(r, &n, t->host.mem64.base, t->host.mem64.size, OWN_HOST_WINDOW, -1, PCI_RES_PREF, false);
	push(r, &n, t->host.io.base, t->host.io.size, OWN_HOST_WINDOW, -1, PCI_RES_IO, true);
	for (i = 0; i < p->nr_legacy; i++) {
		push(r, &n, p->legacy[i].port, p->legacy[i].len, OWN_PLATFORM, -1, -1, true);
		if (i)
			assert_true(p->legacy[i].port > p->legacy[i - 1].port);
	}
	/* The host windows are where the layout says. */
	assert_int_equal(t->host.mem32.base, l->mmio32.base);
	assert_int_equal(t->host.mem64.base, l->mmio64.base);
	assert_int_equal(t->host.mem64.size, l->mmio64.size);
	assert_int_equal(t->host.io.base, l->pci_io.base);

	assert_int_equal(t->funcs[0].kind, PCI_FUNC_HOST_BRIDGE);
	assert_int_equal(t->funcs[0].bus, 0);
	assert_int_equal(t->funcs[0].dev, 0);
	/*
	 * The ECAM (so MCFG and _CRS) reaches exactly the buses the plan
	 * numbers: every one, and none beyond the highest.
	 */
	{
		unsigned int top = 0;

		for (i = 0; i < t->nr_funcs; i++) {
			const struct pci_func *f = &t->funcs[i];

			assert_true(f->bus <= x86_ecam_last_bus(l));
			if (f->kind == PCI_FUNC_ROOT_PORT || f->kind == PCI_FUNC_PCI_BRIDGE) {
				assert_true(f->subordinate <= x86_ecam_last_bus(l));
				if (f->subordinate > top)
					top = f->subordinate;
			}
		}
		assert_int_equal(x86_ecam_last_bus(l), top);
		assert_int_equal(l->ecam.size, (top + 1) * SZ_1M);
		for (i = 0; i < l->nr_e820; i++) {
			if (l->e820[i].addr == l->ecam.base)
				assert_int_equal(l->e820[i].size, l->ecam.size);
		}
	}
	for (i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *f = &t->funcs[i];
		const struct plan_func *pf = &p->funcs[i];

		for (b = 0; b <= PCI_NR_BARS; b++) {
			const struct pci_bar *bar = b == PCI_NR_BARS ? &f->rom : &f->bars[b];
			int res;

			if (bar->type == PCI_BAR_UNUSED || !bar->size)
				continue;
			res = pci_bar_res(bar);
			assert_int_equal(bar->size & (bar->size - 1), 0);
			assert_int_equal(bar->addr % bar->size, 0);			/* (b) */
			in_window(bar->addr, bar->size, parent_window(t, f->bus_req, res));
			if (res == PCI_RES_PREF)					/* (d) */
				assert_true(bar->addr >= SZ_4G);
			else
				assert_true(bar->addr + bar->size <= SZ_4G);
			if (b == PCI_NR_BARS)
				assert_int_equal(res, PCI_RES_MEM);
			push(r, &n, bar->addr, bar->size, OWN_BAR, (int)i, res, res == PCI_RES_IO);
		}
		if (f->child_bus >= 0) {
			assert_true(f->secondary > f->bus);
			assert_true(f->subordinate >= f->secondary);
			assert_int_equal(t->buses[f->child_bus].number, f->secondary);
			for (k = 0; k < PCI_NR_RES; k++) {			/* (c) */
				const struct pci_window *w = pci_func_window(f, k);
				uint64_t g = k == PCI_RES_IO ? PCI_BRIDGE_IO_ALIGN : PCI_BRIDGE_MEM_ALIGN;

				if (!w->size)
					continue;
				assert_int_equal(w->base % g, 0);
				assert_int_equal(w->size % g, 0);
				in_window(w->base, w->size, parent_window(t, f->bus_req, k));
				push(r, &n, w->base, w->size, OWN_BRIDGE_WINDOW, (int)i, k,
				     k == PCI_RES_IO);
			}
		}
		/* A function behind a bridge has a bus number within its range. */
		if (t->buses[f->bus_req].bridge >= 0) {
			const struct pci_func *br = &t->funcs[t->buses[f->bus_req].bridge];

			assert_true(f->bus >= br->secondary && f->bus <= br->subordinate);
			if (t->buses[f->bus_req].single_slot)
				assert_int_equal(f->dev, 0);
		}
		/* INTx routed through the swizzle to a PCI GSI. */
		if (f->intx_pin) {
			assert_true(f->gsi >= X86_PCI_GSI_BASE &&
				    f->gsi < X86_PCI_GSI_BASE + X86_PCI_GSI_COUNT);
			assert_int_equal(f->gsi, x86_pci_intx_gsi(f->root_slot, f->root_pin));
		} else {
			assert_int_equal(f->gsi, 0);
		}
		/* Trapped pages: page aligned, inside the BAR. */
		for (b = 0; b < PCI_NR_BARS; b++) {
			for (k = 0; k < (int)pf->pt_bars[b].nr_trapped; k++) {
				const struct addr_range *tr = &pf->pt_bars[b].trapped[k];

				assert_int_equal(tr->base % SZ_4K, 0);
				assert_int_equal(tr->size % SZ_4K, 0);
				assert_true(tr->size > 0);
				assert_true(tr->base + tr->size <= f->bars[b].size);
			}
			if (pf->pt_bars[b].nr_trapped == 2)
				assert_true(pf->pt_bars[b].trapped[0].base + pf->pt_bars[b].trapped[0].size <
					    pf->pt_bars[b].trapped[1].base);
		}
		if (pf->role == PLAN_ROLE_DEVICE && !pf->host) {
			assert_int_equal(f->vendor, VIRTIO_PCI_VENDOR);
			assert_int_equal(f->msix_vectors, pf->virtio_queues + 1);
		}
	}
	/* Every devfn on a bus once. */
	for (i = 0; i < t->nr_funcs; i++)
		for (j = i + 1; j < t->nr_funcs; j++)
			assert_false(t->funcs[i].bus == t->funcs[j].bus &&
				     t->funcs[i].dev == t->funcs[j].dev &&
				     t->funcs[i].fn == t->funcs[j].fn);

	/* (a): sorted by base, each range against those that start inside it. */
	qsort(r, n, sizeof(*r), crange_cmp);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n && r[j].io == r[i].io && r[j].base - r[i].base < r[i].size; j++) {
			if (may_contain(t, &r[i], &r[j]) && contains(&r[i], &r[j]))
				continue;
			if (may_contain(t, &r[j], &r[i]) && contains(&r[j], &r[i]))
				continue;
			fail_msg("overlap: [0x%llx +0x%llx] (kind %d func %d) and [0x%llx +0x%llx] (kind %d func %d)",
				 (unsigned long long)r[i].base, (unsigned long long)r[i].size, r[i].own, r[i].func,
				 (unsigned long long)r[j].base, (unsigned long long)r[j].size, r[j].own, r[j].func);
		}
	}
	free(r);
}

static char *json_of(const struct vm_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(print_json(f, p), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* (e): the same input twice gives the same plan, field by field and as JSON. */
static void check_deterministic(const struct vm_config *cfg, const struct vm_plan *a)
{
	struct vm_plan b;
	char *ja, *jb;
	unsigned int i;

	assert_int_equal(plan_build(cfg, inv, &b, err, sizeof(err)), 0);
	assert_memory_equal(&a->layout, &b.layout, sizeof(a->layout));
	assert_int_equal(a->pci.nr_funcs, b.pci.nr_funcs);
	assert_int_equal(a->pci.nr_buses, b.pci.nr_buses);
	assert_memory_equal(a->pci.buses, b.pci.buses, a->pci.nr_buses * sizeof(*a->pci.buses));
	assert_memory_equal(&a->pci.host, &b.pci.host, sizeof(a->pci.host));
	for (i = 0; i < a->pci.nr_funcs; i++) {
		struct pci_func fa = a->pci.funcs[i], fb = b.pci.funcs[i];
		struct plan_func pa = a->funcs[i], pb = b.funcs[i];

		assert_string_equal(fa.name, fb.name);
		fa.name = fb.name = NULL;
		assert_memory_equal(&fa, &fb, sizeof(fa));
		assert_true((pa.host == NULL) == (pb.host == NULL));
		if (pa.host)
			assert_int_equal(pa.host - a->hosts, pb.host - b.hosts);
		pa.host = pb.host = NULL;
		assert_memory_equal(&pa, &pb, sizeof(pa));
	}
	for (i = 0; i < cfg->nr_devices; i++)
		if (cfg->devices[i].kind == DEV_VFIO)
			assert_memory_equal(&a->hosts[i], &b.hosts[i], sizeof(a->hosts[i]));
	assert_int_equal(a->nr_legacy, b.nr_legacy);
	for (i = 0; i < a->nr_legacy; i++) {
		assert_string_equal(a->legacy[i].name, b.legacy[i].name);
		assert_int_equal(a->legacy[i].port, b.legacy[i].port);
		assert_int_equal(a->legacy[i].len, b.legacy[i].len);
		assert_int_equal(a->legacy[i].irq, b.legacy[i].irq);
		assert_int_equal(a->legacy[i].serial, b.legacy[i].serial);
	}
	ja = json_of(a);
	jb = json_of(&b);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	plan_free(&b);
}

static void plan_and_check(const struct vm_config *cfg, struct vm_plan *p)
{
	err[0] = '\0';
	if (plan_build(cfg, inv, p, err, sizeof(err)))
		fail_msg("plan_build: %s", err);
	check_plan(p);
	check_deterministic(cfg, p);
}

/* ---- Machines ------------------------------------------------------------ */

static void load_string(const char *ini, struct vm_config *cfg)
{
	FILE *f = fmemopen((void *)ini, strlen(ini), "r");

	assert_non_null(f);
	err[0] = '\0';
	if (config_load_stream(f, "test.ini", cfg, err, sizeof(err)))
		fail_msg("config_load_stream: %s", err);
	fclose(f);
}

static void load_file(const char *path, struct vm_config *cfg)
{
	err[0] = '\0';
	if (config_load(path, cfg, err, sizeof(err)))
		fail_msg("config_load(%s): %s", path, err);
}

/* The function of the device named 'name'. */
static const struct pci_func *dev_func(const struct vm_plan *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->cfg->nr_devices; i++)
		if (!strcmp(p->cfg->devices[i].name, name))
			return plan_device_func(p, (int)i);
	fail_msg("no device %s", name);
	return NULL;
}

static const struct plan_func *dev_pfunc(const struct vm_plan *p, const char *name)
{
	const struct pci_func *f = dev_func(p, name);

	return &p->funcs[f - p->pci.funcs];
}

/* A machine built in code, without the config parser. */
static void test_virtio_in_code(void **state)
{
	static const char *const names[] = { "disk", "net", "con", "rng", "net2" };
	static const enum device_kind kinds[] = { DEV_VIRTIO_BLK, DEV_VIRTIO_NET,
						  DEV_VIRTIO_CONSOLE, DEV_VIRTIO_RNG,
						  DEV_VIRTIO_NET };
	struct device_config devs[5];
	struct vm_config cfg;
	struct vm_plan p;
	const struct pci_func *f;
	const struct plan_func *pf, *pf2;
	unsigned int i;

	memset(&cfg, 0, sizeof(cfg));
	memset(devs, 0, sizeof(devs));
	cfg.file = "code.ini";
	cfg.machine.name = "box";
	cfg.machine.cpus = 4;
	cfg.machine.memory = SZ_1G;
	cfg.machine.phys_bits = 40;
	cfg.serials[0].index = 0;
	cfg.serials[1].index = 3;
	cfg.nr_serials = 2;
	for (i = 0; i < 5; i++) {
		devs[i].name = (char *)names[i];
		devs[i].kind = kinds[i];
		devs[i].at.bus = -1;
		devs[i].at.slot = CFG_SLOT_AUTO;
		devs[i].line = 10 + (int)i;
	}
	devs[4].at.slot = 9;
	cfg.devices = devs;
	cfg.nr_devices = 5;
	plan_and_check(&cfg, &p);

	assert_int_equal(p.pci.nr_funcs, 6);
	f = dev_func(&p, "disk");
	assert_int_equal(f->dev, 1);
	assert_int_equal(f->vendor, 0x1af4);
	assert_int_equal(f->device, 0x1042);
	assert_int_equal(f->subsys_vendor, 0x1af4);
	assert_int_equal(f->subsys_device, 0x1100);
	assert_int_equal(f->revision, 1);
	assert_int_equal(f->class_code, 0x018000);
	assert_int_equal(f->intx_pin, 1);
	assert_int_equal(f->gsi, 17);
	assert_int_equal(f->bars[0].type, PCI_BAR_MEM64);
	assert_false(f->bars[0].prefetchable);
	assert_int_equal(f->bars[0].size, VIRTIO_PCI_BAR_SIZE);
	assert_true(f->bars[0].addr >= 0xC0000000ULL && f->bars[0].addr < 0xE0000000ULL);
	assert_int_equal(f->msix_vectors, 5);		/* one queue per vCPU + config */
	assert_int_equal(dev_pfunc(&p, "disk")->virtio_queues, 4);
	f = dev_func(&p, "net");
	assert_int_equal(f->device, 0x1041);
	assert_int_equal(f->class_code, 0x020000);
	assert_int_equal(f->msix_vectors, 3);
	f = dev_func(&p, "con");
	assert_int_equal(f->device, 0x1043);
	assert_int_equal(f->class_code, 0x078000);
	assert_int_equal(f->msix_vectors, 3);
	f = dev_func(&p, "rng");
	assert_int_equal(f->device, 0x1044);
	assert_int_equal(f->class_code, 0x00ff00);
	assert_int_equal(f->msix_vectors, 2);
	assert_int_equal(f->dev, 4);
	assert_int_equal(dev_func(&p, "net2")->dev, 9);

	/* Derived MACs: 52:54:00, unicast, locally administered, distinct. */
	pf = dev_pfunc(&p, "net");
	pf2 = dev_pfunc(&p, "net2");
	assert_int_equal(pf->mac[0], 0x52);
	assert_int_equal(pf->mac[1], 0x54);
	assert_int_equal(pf->mac[2], 0x00);
	assert_int_equal(pf->mac[0] & 1, 0);
	assert_int_equal(pf->mac[0] & 2, 2);
	assert_memory_not_equal(pf->mac, pf2->mac, 6);

	/* Legacy ports, by port. */
	assert_int_equal(p.nr_legacy, 8);
	assert_string_equal(p.legacy[0].name, "keyboard");
	assert_int_equal(p.legacy[0].port, 0x60);
	assert_int_equal(p.legacy[0].irq, 1);
	assert_int_equal(p.legacy[1].port, 0x64);
	assert_string_equal(p.legacy[2].name, "rtc0");
	assert_int_equal(p.legacy[2].port, 0x70);
	assert_int_equal(p.legacy[2].len, 2);
	assert_int_equal(p.legacy[2].irq, 8);
	assert_string_equal(p.legacy[3].name, "serial");	/* com4 */
	assert_int_equal(p.legacy[3].port, 0x2e8);
	assert_int_equal(p.legacy[3].irq, 3);
	assert_int_equal(p.legacy[3].serial, 1);
	assert_int_equal(p.legacy[4].port, 0x3f8);		/* com1 */
	assert_int_equal(p.legacy[4].len, 8);
	assert_int_equal(p.legacy[4].irq, 4);
	assert_int_equal(p.legacy[4].serial, 0);
	/* The ACPI PM1 blocks the FADT points at. */
	assert_string_equal(p.legacy[5].name, "ACPI PM1a_EVT_BLK");
	assert_int_equal(p.legacy[5].port, 0x600);
	assert_int_equal(p.legacy[5].len, 4);
	assert_string_equal(p.legacy[6].name, "ACPI PM1a_CNT_BLK");
	assert_int_equal(p.legacy[6].port, 0x604);
	assert_int_equal(p.legacy[6].len, 2);
	assert_string_equal(p.legacy[7].name, "PCI conf1");
	assert_int_equal(p.legacy[7].port, 0xcf8);
	assert_int_equal(p.legacy[7].irq, -1);
	plan_free(&p);

	/* The MAC depends on the machine's name, deterministically. */
	{
		uint8_t mac1[6];

		assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), 0);
		memcpy(mac1, dev_pfunc(&p, "net")->mac, 6);
		plan_free(&p);
		cfg.machine.name = "other";
		assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), 0);
		assert_memory_not_equal(mac1, dev_pfunc(&p, "net")->mac, 6);
		plan_free(&p);
		cfg.machine.name = "box";
		assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), 0);
		assert_memory_equal(mac1, dev_pfunc(&p, "net")->mac, 6);
		plan_free(&p);
	}

	/* A configured MAC is kept; blk queues as configured. */
	devs[1].net.mac_set = true;
	memcpy(devs[1].net.mac, "\x02\x11\x22\x33\x44\x55", 6);
	devs[0].blk.queues = 2;
	assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), 0);
	assert_memory_equal(dev_pfunc(&p, "net")->mac, "\x02\x11\x22\x33\x44\x55", 6);
	assert_int_equal(dev_func(&p, "disk")->msix_vectors, 3);
	plan_free(&p);

	/* Too many queues for the BAR's MSI-X table. */
	devs[0].blk.queues = 300;
	assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "code.ini:10: [device \"disk\"] queues: 300 is too many (at most 255)");
}

static void test_examples(void **state)
{
	static const char *const files[] = {
		EXAMPLES "/minimal-virtio.ini",
		EXAMPLES "/nic-passthrough.ini",
		EXAMPLES "/gpu-passthrough.ini",
	};
	struct vm_config cfg;
	struct vm_plan p;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		load_file(files[i], &cfg);
		plan_and_check(&cfg, &p);
		plan_free(&p);
		config_free(&cfg);
	}
}

static void test_example_gpu(void **state)
{
	struct vm_config cfg;
	struct vm_plan p;
	const struct pci_func *gpu, *audio, *rp;
	const struct plan_func *pf;

	load_file(EXAMPLES "/gpu-passthrough.ini", &cfg);
	plan_and_check(&cfg, &p);
	rp = plan_bridge_func(&p, 0);
	assert_non_null(rp);
	assert_int_equal(rp->kind, PCI_FUNC_ROOT_PORT);
	assert_int_equal(rp->vendor, PLAN_ROOT_PORT_VENDOR);
	assert_int_equal(rp->device, PLAN_ROOT_PORT_DEVICE);
	assert_int_equal(rp->class_code, 0x060400);
	gpu = dev_func(&p, "gpu");
	audio = dev_func(&p, "gpu-audio");
	assert_int_equal(gpu->bus, rp->secondary);
	assert_int_equal(gpu->dev, 0);
	assert_int_equal(gpu->fn, 0);
	assert_int_equal(audio->bus, rp->secondary);
	assert_int_equal(audio->fn, 1);
	assert_true(gpu->multifunction);
	assert_int_equal(gpu->class_code >> 16, 0x03);
	/* BAR0 16 MiB below 4 GiB; BAR1, 32 GiB or more, above. */
	assert_int_equal(gpu->bars[0].size, 16 * SZ_1M);
	assert_true(gpu->bars[0].addr < SZ_4G);
	assert_int_equal(gpu->bars[1].type, PCI_BAR_MEM64);
	assert_true(gpu->bars[1].prefetchable);
	assert_true(gpu->bars[1].size >= 32 * SZ_1G);
	assert_true(gpu->bars[1].addr >= SZ_4G);
	assert_int_equal(gpu->bars[3].size, 32 * SZ_1M);
	/* rom = auto: the card's ROM, in the 32-bit window. */
	assert_int_equal(gpu->rom.type, PCI_BAR_MEM32);
	assert_true(gpu->rom.size >= SZ_4K);
	/* The MSI-X table in BAR0 is trapped, the rest mapped. */
	pf = dev_pfunc(&p, "gpu");
	assert_non_null(pf->host);
	assert_int_equal(pf->host->vendor, gpu->vendor);
	assert_true(pf->pt_bars[0].nr_trapped >= 1);
	assert_int_equal(pf->pt_bars[1].nr_trapped, 0);
	assert_int_equal(pf->pt_bars[1].host_size, gpu->bars[1].size);
	assert_true(gpu->msix_vectors > 0);
	/* The root port's windows hold the GPU. */
	assert_true(rp->pref.size >= gpu->bars[1].size + gpu->bars[3].size);
	assert_true(rp->mem.size >= 16 * SZ_1M);
	assert_int_equal(rp->io.size, 0);
	plan_free(&p);
	config_free(&cfg);
}

static void test_example_nic(void **state)
{
	struct vm_config cfg;
	struct vm_plan p;
	const struct pci_func *nic;
	const struct plan_func *pf;
	unsigned int b, traps = 0;

	load_file(EXAMPLES "/nic-passthrough.ini", &cfg);
	plan_and_check(&cfg, &p);
	nic = dev_func(&p, "nic0");
	pf = dev_pfunc(&p, "nic0");
	assert_int_equal(nic->vendor, 0x8086);
	assert_int_equal(nic->rom.type, PCI_BAR_UNUSED);	/* rom = off */
	assert_true(nic->msix_vectors > 0);
	assert_int_equal(pf->host->msix.table_bar, 3);
	assert_true(pf->pt_bars[3].nr_trapped >= 1);
	for (b = 0; b < PCI_NR_BARS; b++)
		traps += pf->pt_bars[b].nr_trapped;
	assert_true(traps >= 1);
	assert_int_equal(pf->pt_bars[3].trapped[0].base,
			 pf->host->msix.table_offset & ~(SZ_4K - 1));
	plan_free(&p);
	config_free(&cfg);
}

/* Every fixture device passed through at once, behind a mix of bridges. */
static void test_fixture_devices(void **state)
{
	static const char ini[] =
		"[machine]\nname = all\nmemory = 8G\nphys-bits = 46\nkernel = /boot/vmlinuz\n"
		"[pci \"rp1\"]\ntype = root-port\n"
		"[pci \"pb\"]\ntype = pci-bridge\n"
		"[pci \"pb2\"]\ntype = pci-bridge\nbus = pb\n"
		"[device \"gpu\"]\ntype = vfio\nhost = 0000:01:00.0\nbus = rp1\n"
		"[device \"audio\"]\ntype = vfio\nhost = 0000:01:00.1\nbus = rp1\nfunction = 1\n"
		"[device \"nic\"]\ntype = vfio\nhost = 0000:02:00.0\nbus = pb\n"
		"[device \"nvme\"]\ntype = vfio\nhost = 0000:03:00.0\nbus = pb2\n"
		"[device \"rtl\"]\ntype = vfio\nhost = 0000:04:00.0\nbus = pb2\n"
		"[device \"g41\"]\ntype = vfio\nhost = 0000:41:00.0\n"
		"[device \"g42\"]\ntype = vfio\nhost = 0000:42:00.0\nbus = pb\n"
		"[device \"disk\"]\ntype = virtio-blk\npath = /dev/null\nbus = pb2\n"
		"[device \"net\"]\ntype = virtio-net\ntap = tap0\nbus = pb\n";
	struct vm_config cfg;
	struct vm_plan p;
	const struct pci_func *rtl, *pb, *pb2;
	int b, io = -1;

	load_string(ini, &cfg);
	plan_and_check(&cfg, &p);
	/* The INTx-only device's I/O BAR sits in both bridges' I/O windows. */
	rtl = dev_func(&p, "rtl");
	for (b = 0; b < PCI_NR_BARS; b++)
		if (rtl->bars[b].type == PCI_BAR_IO)
			io = b;
	assert_true(io >= 0);
	pb = plan_bridge_func(&p, 1);
	pb2 = plan_bridge_func(&p, 2);
	assert_int_equal(pb2->io.size, 0x1000);
	assert_true(pb->io.size >= 0x1000);
	assert_true(rtl->bars[io].addr >= pb2->io.base &&
		    rtl->bars[io].addr < pb2->io.base + pb2->io.size);
	assert_int_equal(rtl->msix_vectors, 0);
	assert_true(rtl->intx_pin >= 1);
	/* Bus numbers depth first: rp1 1, pb 2, pb2 3. */
	assert_int_equal(plan_bridge_func(&p, 0)->secondary, 1);
	assert_int_equal(pb->secondary, 2);
	assert_int_equal(pb2->secondary, 3);
	assert_int_equal(pb->subordinate, 3);
	plan_free(&p);
	config_free(&cfg);
}

/* Every device of the fixture host passed through, each behind a root port. */
static void test_every_fixture(void **state)
{
	struct pci_bdf *list = NULL;
	struct vm_config cfg;
	struct vm_plan p;
	char *ini = NULL, bdf[PCI_BDF_STRLEN];
	size_t len = 0;
	FILE *f;
	int i, n, used = 0;

	n = host_device_list(inv, &list);
	assert_true(n > 10);
	f = open_memstream(&ini, &len);
	assert_non_null(f);
	fprintf(f, "[machine]\nname = every\nmemory = 6G\nphys-bits = 44\nkernel = /boot/vmlinuz\n");
	for (i = 0; i < n; i++) {
		struct host_device *h = calloc(1, sizeof(*h));

		assert_non_null(h);
		assert_int_equal(host_device_read(inv, &list[i], h), 0);
		pci_bdf_format(&list[i], bdf, sizeof(bdf));
		if (h->class_code >> 16 != 0x06) {	/* not a bridge */
			fprintf(f, "[pci \"rp%d\"]\ntype = root-port\n", i);
			fprintf(f, "[device \"d%d\"]\ntype = vfio\nhost = %s\nbus = rp%d\n",
				i, bdf, i);
			used++;
		}
		free(h);
	}
	assert_int_equal(fclose(f), 0);
	assert_true(used >= 15);
	load_string(ini, &cfg);
	plan_and_check(&cfg, &p);
	assert_int_equal(p.pci.nr_funcs, 1 + 2 * (unsigned int)used);
	plan_free(&p);
	config_free(&cfg);
	free(ini);
	free(list);
}

static const char four_gpus[] =
	"[machine]\n"				/* 1 */
	"name = quad\n"
	"memory = 2G\n"
	"phys-bits = %u\n"
	"kernel = /boot/vmlinuz\n"
	"[pci \"rp0\"]\ntype = root-port\n"	/* 6, 7 */
	"[pci \"rp1\"]\ntype = root-port\n"	/* 8, 9 */
	"[pci \"rp2\"]\ntype = root-port\n"	/* 10, 11 */
	"[pci \"rp3\"]\ntype = root-port\n"	/* 12, 13 */
	"[device \"gpu0\"]\ntype = vfio\nhost = 0000:41:00.0\nbus = rp0\n"	/* 14 */
	"[device \"gpu1\"]\ntype = vfio\nhost = 0000:42:00.0\nbus = rp1\n"	/* 18 */
	"[device \"gpu2\"]\ntype = vfio\nhost = 0000:43:00.0\nbus = rp2\n"	/* 22 */
	"[device \"gpu3\"]\ntype = vfio\nhost = 0000:44:00.0\nbus = rp3\n";	/* 26 */

static int plan_four_gpus(unsigned int bits, struct vm_config *cfg, struct vm_plan *p)
{
	char ini[sizeof(four_gpus) + 8];

	snprintf(ini, sizeof(ini), four_gpus, bits);
	load_string(ini, cfg);
	err[0] = '\0';
	return plan_build(cfg, inv, p, err, sizeof(err));
}

static void test_four_gpus(void **state)
{
	struct vm_config cfg;
	struct vm_plan p;
	char name[8];
	unsigned int i, j;

	assert_int_equal(plan_four_gpus(40, &cfg, &p), 0);
	check_plan(&p);
	check_deterministic(&cfg, &p);
	for (i = 0; i < 4; i++) {
		const struct pci_func *g, *rp;

		snprintf(name, sizeof(name), "gpu%u", i);
		g = dev_func(&p, name);
		rp = plan_bridge_func(&p, (int)i);
		assert_int_equal(g->bars[1].size, 64 * SZ_1G);
		assert_true(g->bars[1].addr >= SZ_4G);
		assert_int_equal(g->bars[1].addr % (64 * SZ_1G), 0);
		assert_true(g->bars[1].addr + g->bars[1].size <= 1ULL << 40);
		assert_int_equal(g->bus, rp->secondary);
		for (j = 0; j < i; j++) {
			snprintf(name, sizeof(name), "gpu%u", j);
			assert_int_not_equal(dev_func(&p, name)->bars[1].addr, g->bars[1].addr);
		}
	}
	plan_free(&p);
	config_free(&cfg);

	/* 36 bits: 64 GiB of address space cannot hold a 64 GiB BAR above RAM. */
	assert_int_equal(plan_four_gpus(36, &cfg, &p), -ENOSPC);
	assert_string_equal(err,
		"test.ini:14: [device \"gpu0\"] BAR1 (64 GiB, 64-bit prefetchable memory), behind "
		"root port \"rp0\" whose prefetchable window needs 65568 MiB, does not fit in the "
		"64-bit window 0x100000000-0xfffffffff (60 GiB, 60 GiB free); phys-bits = 36 "
		"gives the guest 64 GiB of physical address space");
	config_free(&cfg);

	/*
	 * 38 bits, a window of [4 GiB, 256 GiB): each root port's window is
	 * 64 GiB + 32 MiB with its top 64 GiB aligned, so two fit, not three.
	 */
	assert_int_equal(plan_four_gpus(38, &cfg, &p), -ENOSPC);
	assert_string_equal(err,
		"test.ini:22: [device \"gpu2\"] BAR1 (64 GiB, 64-bit prefetchable memory), behind "
		"root port \"rp2\" whose prefetchable window needs 65568 MiB, does not fit in the "
		"64-bit window 0x100000000-0x3fffffffff (252 GiB, 61408 MiB free); phys-bits = 38 "
		"gives the guest 256 GiB of physical address space");
	config_free(&cfg);
}

static void test_errors(void **state)
{
	struct vm_config cfg;
	struct vm_plan p;
	char path[] = "/tmp/test_plan_romXXXXXX", ini[512];
	int fd;

	/* A host device that is not there. */
	load_string("[machine]\nmemory = 1G\nkernel = /boot/vmlinuz\n[device \"ghost\"]\ntype = vfio\n"
		    "host = 0000:0a:00.0\n", &cfg);
	assert_int_equal(plan_build(&cfg, inv, &p, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "test.ini:6: [device \"ghost\"] host: 0000:0a:00.0 not found on this host");
	/* No inventory at all. */
	assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), -ENOENT);
	config_free(&cfg);

	/*
	 * RAM beyond the address bits: config_load refuses it at the memory
	 * line; the planner still guards a config built another way.
	 */
	load_string("[machine]\nmemory = 32G\nphys-bits = 36\nkernel = /boot/vmlinuz\n", &cfg);
	cfg.machine.memory = 64 * SZ_1G;
	assert_int_equal(plan_build(&cfg, inv, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test.ini:1: [machine] memory 64 GiB reaches up to 0x103fffffff "
			    "and needs 37 physical address bits; phys-bits is 36");
	config_free(&cfg);

	/* A ROM file: its size rounded up to a power of two. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100 * 1024), 0);
	close(fd);
	snprintf(ini, sizeof(ini), "[machine]\nmemory = 1G\nkernel = /boot/vmlinuz\n[device \"nic\"]\ntype = vfio\n"
		 "host = 0000:02:00.0\nrom = %s\n", path);
	load_string(ini, &cfg);
	assert_int_equal(plan_build(&cfg, inv, &p, err, sizeof(err)), 0);
	assert_int_equal(dev_func(&p, "nic")->rom.size, 128 * SZ_1K);
	assert_int_equal(dev_func(&p, "nic")->rom.type, PCI_BAR_MEM32);
	check_plan(&p);
	plan_free(&p);
	/* ... and gone. */
	unlink(path);
	assert_int_equal(plan_build(&cfg, inv, &p, err, sizeof(err)), -ENOENT);
	snprintf(ini, sizeof(ini), "test.ini:7: [device \"nic\"] rom: cannot use %s: "
		 "No such file or directory", path);
	assert_string_equal(err, ini);
	config_free(&cfg);
}

/* A config-level placement the planner refuses, with its line. */
static void test_placement_error_line(void **state)
{
	struct device_config devs[2];
	struct vm_config cfg;
	struct vm_plan p;

	memset(&cfg, 0, sizeof(cfg));
	memset(devs, 0, sizeof(devs));
	cfg.file = "code.ini";
	cfg.machine.cpus = 1;
	cfg.machine.memory = SZ_1G;
	cfg.machine.phys_bits = 40;
	devs[0] = (struct device_config){ .name = "a", .kind = DEV_VIRTIO_RNG, .line = 3,
					  .at = { .bus = -1, .slot = 5, .slot_line = 5 } };
	devs[1] = (struct device_config){ .name = "b", .kind = DEV_VIRTIO_RNG, .line = 7,
					  .at = { .bus = -1, .slot = 5, .slot_line = 9 } };
	cfg.devices = devs;
	cfg.nr_devices = 2;
	assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), -EEXIST);
	assert_string_equal(err, "code.ini:9: [device \"b\"] slot 5 function 0 on the root bus "
			    "is already taken by \"a\"");

	devs[1].at.bus = 3;
	devs[1].at.bus_line = 8;
	assert_int_equal(plan_build(&cfg, NULL, &p, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "code.ini:8: [device \"b\"] bus: no such bridge (index 3)");
}

/* About a thousand functions behind bridges: plans, and keeps every rule. */
static void test_thousand_functions(void **state)
{
	struct vm_config cfg;
	struct vm_plan p;
	struct bridge_config br[4];
	struct device_config *devs;
	char (*names)[16];
	unsigned int i, n = 4 * 31 * 8;

	memset(&cfg, 0, sizeof(cfg));
	memset(br, 0, sizeof(br));
	devs = calloc(n, sizeof(*devs));
	names = calloc(n, sizeof(*names));
	assert_non_null(devs);
	assert_non_null(names);
	cfg.file = "big.ini";
	cfg.machine.name = "big";
	cfg.machine.cpus = 2;
	cfg.machine.memory = 4 * SZ_1G;
	cfg.machine.phys_bits = 40;
	for (i = 0; i < 4; i++) {
		br[i].name = (char *)"pb";
		br[i].kind = BRIDGE_PCI;
		br[i].at = (struct placement){ .bus = -1, .slot = CFG_SLOT_AUTO };
	}
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "d%u", i);
		devs[i].name = names[i];
		devs[i].kind = i % 3 ? DEV_VIRTIO_BLK : DEV_VIRTIO_NET;
		devs[i].at = (struct placement){ .bus = (int)(i / 248), .slot = (int)(i % 248 / 8),
						 .function = (int)(i % 8) };
	}
	cfg.bridges = br;
	cfg.nr_bridges = 4;
	cfg.devices = devs;
	cfg.nr_devices = n;
	plan_and_check(&cfg, &p);
	assert_int_equal(p.pci.nr_funcs, 1 + 4 + n);
	assert_true(p.pci.funcs[1 + 4].multifunction);
	plan_free(&p);
	free(devs);
	free(names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtio_in_code),
		cmocka_unit_test(test_placement_error_line),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_example_gpu),
		cmocka_unit_test(test_example_nic),
		cmocka_unit_test(test_fixture_devices),
		cmocka_unit_test(test_every_fixture),
		cmocka_unit_test(test_four_gpus),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_thousand_functions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
