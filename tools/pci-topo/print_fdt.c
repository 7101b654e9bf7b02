/*
 * pci-topo --dtb: the guest platform of a plan as a flattened device tree
 * (libfdt sequential write): CPUs, memory, IOAPIC, the ECAM PCI host bridge
 * with ranges and interrupt-map per the PCI bus binding, UARTs, i8042, RTC.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "print.h"
#include "print_priv.h"

#define PH_IOAPIC	1
#define PH_HOST		2
#define PH_BRIDGE0	3

/* phys.hi of the PCI bus binding: npt000ss bbbbbbbb dddddfff rrrrrrrr */
#define OF_PCI_N	0x80000000u
#define OF_PCI_P	0x40000000u
#define OF_PCI_SS_CFG	0x00000000u
#define OF_PCI_SS_IO	0x01000000u
#define OF_PCI_SS_MEM32	0x02000000u
#define OF_PCI_SS_MEM64	0x03000000u

/* The IOAPIC's second interrupt cell (intel,ce4100-ioapic binding). */
#define IOAPIC_EDGE_RISING	0
#define IOAPIC_LEVEL_LOW	1

#define ISA_IO_SPACE	1

/* Out of memory while collecting cells: not a libfdt error code. */
#define FDT_CELLS_ENOMEM	(-10000)

struct cells {
	fdt32_t *v;
	unsigned int n, cap;
	bool oom;
};

static void cells_add(struct cells *c, uint32_t x)
{
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? 2 * c->cap : 32;
		fdt32_t *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = cpu_to_fdt32(x);
}

static void cells_add64(struct cells *c, uint64_t x)
{
	cells_add(c, (uint32_t)(x >> 32));
	cells_add(c, (uint32_t)x);
}

static void cells_free(struct cells *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* One interrupt-map entry: child (unit address hi, pin) -> parent specifier. */
struct imap_ent {
	uint32_t key_hi, key_pin;
	uint32_t parent;
	uint32_t out[4];
	unsigned int nout;
};

struct imap {
	struct imap_ent *e;
	unsigned int n, cap;
};

struct fdt_ctx {
	void *fdt;
	const struct vm_plan *plan;
	struct imap *maps;		/* [nr_funcs + 1]: per bridge, and the host bridge last */
	uint32_t *phandle;		/* [nr_funcs]: bridges' phandles */
	unsigned int *scratch;
};

#define TRY(expr) do { int r_ = (expr); if (r_ < 0) return r_; } while (0)

static int prop_cells(struct fdt_ctx *x, const char *name, struct cells *c)
{
	int r;

	if (c->oom) {
		cells_free(c);
		return FDT_CELLS_ENOMEM;
	}
	r = fdt_property(x->fdt, name, c->v, (int)(c->n * sizeof(fdt32_t)));
	cells_free(c);
	return r;
}

static int prop_u32(struct fdt_ctx *x, const char *name, uint32_t v)
{
	return fdt_property_u32(x->fdt, name, v);
}

static int prop_str(struct fdt_ctx *x, const char *name, const char *s)
{
	return fdt_property_string(x->fdt, name, s);
}

static int imap_add(struct imap *m, const struct imap_ent *e)
{
	if (m->n == m->cap) {
		unsigned int cap = m->cap ? 2 * m->cap : 8;
		struct imap_ent *v = realloc(m->e, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->e = v;
		m->cap = cap;
	}
	m->e[m->n++] = *e;
	return 0;
}

static int cmp_imap(const void *a, const void *b)
{
	const struct imap_ent *x = a, *y = b;

	if (x->key_hi != y->key_hi)
		return x->key_hi < y->key_hi ? -1 : 1;
	if (x->key_pin != y->key_pin)
		return x->key_pin < y->key_pin ? -1 : 1;
	return 0;
}

/* Sort and drop repeated keys (the first one stays). */
static void imap_sort(struct imap *m)
{
	unsigned int i, o = 0;

	if (!m->n)
		return;
	qsort(m->e, m->n, sizeof(*m->e), cmp_imap);
	for (i = 1; i < m->n; i++)
		if (cmp_imap(&m->e[i], &m->e[o]))
			m->e[++o] = m->e[i];
	m->n = o + 1;
}

static uint32_t cfg_hi(const struct pci_func *f)
{
	return (uint32_t)f->bus << 16 | (uint32_t)f->dev << 11 | (uint32_t)f->fn << 8;
}

static int bus_bridge(const struct vm_plan *plan, int bus)
{
	if (bus < 0 || (unsigned int)bus >= plan->pci.nr_buses)
		return -1;
	return plan->pci.buses[bus].bridge;
}

/* The interrupt nexus a function on bus 'bus' delivers INTx to. */
static uint32_t nexus_of(const struct fdt_ctx *x, int bus)
{
	int br = bus_bridge(x->plan, bus);

	return br >= 0 ? x->phandle[br] : PH_HOST;
}

/*
 * Routing as the plan has it: at each bridge the standard swizzle, at the
 * root the plan's root slot and pin to its GSI.
 */
static int build_imaps(struct fdt_ctx *x)
{
	const struct pci_topology *t = &x->plan->pci;
	unsigned int i, nb = 0;

	x->maps = calloc(t->nr_funcs + 1, sizeof(*x->maps));
	x->phandle = calloc(t->nr_funcs + 1, sizeof(*x->phandle));
	if (!x->maps || !x->phandle)
		return -ENOMEM;
	for (i = 0; i < t->nr_funcs; i++)
		if (topo_is_bridge(&t->funcs[i]))
			x->phandle[i] = PH_BRIDGE0 + nb++;

	for (i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *f = &t->funcs[i];
		unsigned int dev = f->dev, pin = f->intx_pin, hops = 0;
		int bus = f->bus_req, br;
		struct imap_ent e;

		if (!pin || pin > 4 || !f->gsi)
			continue;
		while ((br = bus_bridge(x->plan, bus)) >= 0 && hops++ < 256) {
			const struct pci_func *b = &t->funcs[br];
			unsigned int swz = ((pin - 1 + dev) % 4) + 1;

			memset(&e, 0, sizeof(e));
			e.key_hi = dev << 11;
			e.key_pin = pin;
			e.parent = nexus_of(x, b->bus_req);
			e.out[0] = cfg_hi(b);
			e.out[3] = swz;
			e.nout = 4;
			TRY(imap_add(&x->maps[br], &e));
			dev = b->dev;
			pin = swz;
			bus = b->bus_req;
		}
		memset(&e, 0, sizeof(e));
		e.key_hi = (uint32_t)f->root_slot << 11;
		e.key_pin = f->root_pin;
		e.parent = PH_IOAPIC;
		e.out[0] = f->gsi;
		e.out[1] = IOAPIC_LEVEL_LOW;
		e.nout = 2;
		TRY(imap_add(&x->maps[t->nr_funcs], &e));
	}
	for (i = 0; i <= t->nr_funcs; i++)
		imap_sort(&x->maps[i]);
	return 0;
}

static int write_imap(struct fdt_ctx *x, const struct imap *m, uint32_t phandle)
{
	struct cells c = { 0 };
	unsigned int i, k;

	if (!m->n)
		return 0;
	TRY(prop_u32(x, "#interrupt-cells", 1));
	cells_add(&c, 0xf800);
	cells_add(&c, 0);
	cells_add(&c, 0);
	cells_add(&c, 7);
	TRY(prop_cells(x, "interrupt-map-mask", &c));
	for (i = 0; i < m->n; i++) {
		cells_add(&c, m->e[i].key_hi);
		cells_add(&c, 0);
		cells_add(&c, 0);
		cells_add(&c, m->e[i].key_pin);
		cells_add(&c, m->e[i].parent);
		for (k = 0; k < m->e[i].nout; k++)
			cells_add(&c, m->e[i].out[k]);
	}
	TRY(prop_cells(x, "interrupt-map", &c));
	return prop_u32(x, "phandle", phandle);
}

static uint32_t bar_space(const struct pci_bar *b)
{
	switch (b->type) {
	case PCI_BAR_IO:
		return OF_PCI_SS_IO;
	case PCI_BAR_MEM64:
		return OF_PCI_SS_MEM64;
	default:
		return OF_PCI_SS_MEM32;
	}
}

static int write_regs(struct fdt_ctx *x, const struct pci_func *f)
{
	struct cells reg = { 0 }, as = { 0 };
	uint32_t hi = cfg_hi(f);
	unsigned int b;
	int r;

	/* Configuration space first, then each BAR: size in reg, address in assigned-addresses. */
	cells_add(&reg, hi | OF_PCI_SS_CFG);
	cells_add(&reg, 0);
	cells_add(&reg, 0);
	cells_add64(&reg, 0);
	for (b = 0; b <= PCI_NR_BARS; b++) {
		const struct pci_bar *bar = b < PCI_NR_BARS ? &f->bars[b] : &f->rom;
		uint32_t regno = b < PCI_NR_BARS ? 0x10 + 4 * b : topo_is_bridge(f) ? 0x38 : 0x30;
		uint32_t bhi;

		if (bar->type == PCI_BAR_UNUSED || !bar->size)
			continue;
		bhi = hi | bar_space(bar) | regno | (bar->prefetchable ? OF_PCI_P : 0);
		cells_add(&reg, bhi);
		cells_add64(&reg, 0);
		cells_add64(&reg, bar->size);
		cells_add(&as, bhi | OF_PCI_N);
		cells_add64(&as, bar->addr);
		cells_add64(&as, bar->size);
	}
	r = prop_cells(x, "reg", &reg);
	if (r < 0) {
		cells_free(&as);
		return r;
	}
	if (!as.n) {
		cells_free(&as);
		return 0;
	}
	return prop_cells(x, "assigned-addresses", &as);
}

static void window_range(struct cells *c, uint32_t space, const struct pci_window *w,
			 unsigned int parent_cells)
{
	cells_add(c, space);
	cells_add64(c, w->base);
	if (parent_cells == 3)
		cells_add(c, space);
	cells_add64(c, w->base);
	cells_add64(c, w->size);
}

static int write_bus(struct fdt_ctx *x, int bus, unsigned int depth);

static int write_func(struct fdt_ctx *x, unsigned int i, unsigned int depth)
{
	const struct pci_func *f = &x->plan->pci.funcs[i];
	const struct host_device *h = topo_func_host(x->plan, i);
	char name[64], compat[96], hbdf[PCI_BDF_STRLEN];
	bool bridge = topo_is_bridge(f);
	int clen;

	/* dtc wants "@dev" for function 0, "@dev,fn" otherwise. */
	if (bridge)
		snprintf(name, sizeof(name), f->fn ? "pci@%x,%x" : "pci@%x", f->dev, f->fn);
	else
		snprintf(name, sizeof(name), f->fn ? "pci%x,%x@%x,%x" : "pci%x,%x@%x",
			 f->vendor, f->device, f->dev, f->fn);
	TRY(fdt_begin_node(x->fdt, name));

	clen = snprintf(compat, sizeof(compat), "pci%x,%x", f->vendor, f->device) + 1;
	clen += snprintf(compat + clen, sizeof(compat) - (size_t)clen, "pciclass,%06x",
			 f->class_code & 0xffffff) + 1;
	TRY(fdt_property(x->fdt, "compatible", compat, clen));
	if (bridge)
		TRY(prop_str(x, "device_type", "pci"));
	TRY(write_regs(x, f));
	TRY(prop_u32(x, "vendor-id", f->vendor));
	TRY(prop_u32(x, "device-id", f->device));
	TRY(prop_u32(x, "revision-id", f->revision));
	TRY(prop_u32(x, "class-code", f->class_code & 0xffffff));
	TRY(prop_u32(x, "subsystem-vendor-id", f->subsys_vendor));
	TRY(prop_u32(x, "subsystem-id", f->subsys_device));
	if (f->intx_pin)
		TRY(prop_u32(x, "interrupts", f->intx_pin));
	TRY(prop_str(x, "vmm,name", topo_func_name(x->plan, i)));
	if (h)
		TRY(prop_str(x, "vmm,host", pci_bdf_format(&h->bdf, hbdf, sizeof(hbdf))));

	if (bridge) {
		struct cells c = { 0 };

		TRY(prop_u32(x, "#address-cells", 3));
		TRY(prop_u32(x, "#size-cells", 2));
		cells_add(&c, f->secondary);
		cells_add(&c, f->subordinate);
		TRY(prop_cells(x, "bus-range", &c));
		if (f->io.size)
			window_range(&c, OF_PCI_SS_IO, &f->io, 3);
		if (f->mem.size)
			window_range(&c, OF_PCI_SS_MEM32, &f->mem, 3);
		if (f->pref.size)
			window_range(&c, OF_PCI_P | OF_PCI_SS_MEM64, &f->pref, 3);
		TRY(prop_cells(x, "ranges", &c));
		TRY(write_imap(x, &x->maps[i], x->phandle[i]));
		if (f->child_bus > 0)
			TRY(write_bus(x, f->child_bus, depth + 1));
	}
	return fdt_end_node(x->fdt);
}

static int write_bus(struct fdt_ctx *x, int bus, unsigned int depth)
{
	unsigned int nr = x->plan->pci.nr_funcs;
	unsigned int *list = x->scratch + (size_t)depth * nr;
	unsigned int n, k;

	/* The planner numbers at most PCI_MAX_BUSES buses: deeper is a bug. */
	if (depth >= PCI_MAX_BUSES || (unsigned int)bus >= x->plan->pci.nr_buses)
		return -FDT_ERR_BADSTRUCTURE;
	n = topo_bus_funcs(x->plan, bus, list);
	for (k = 0; k < n; k++)
		TRY(write_func(x, list[k], depth));
	return 0;
}

static int write_host_bridge(struct fdt_ctx *x)
{
	const struct x86_layout *l = &x->plan->layout;
	struct pci_window wio = topo_win_io(x->plan);
	struct pci_window w32 = topo_win_mem32(x->plan), w64 = topo_win_mem64(x->plan);
	unsigned int last_bus = x86_ecam_last_bus(l);
	struct cells c = { 0 };
	char name[32];

	snprintf(name, sizeof(name), "pci@%" PRIx64, l->ecam.base);
	TRY(fdt_begin_node(x->fdt, name));
	TRY(prop_str(x, "compatible", "pci-host-ecam-generic"));
	TRY(prop_str(x, "device_type", "pci"));
	cells_add64(&c, l->ecam.base);
	cells_add64(&c, l->ecam.size);
	TRY(prop_cells(x, "reg", &c));
	cells_add(&c, 0);
	cells_add(&c, last_bus);
	TRY(prop_cells(x, "bus-range", &c));
	TRY(prop_u32(x, "linux,pci-domain", 0));
	TRY(prop_u32(x, "#address-cells", 3));
	TRY(prop_u32(x, "#size-cells", 2));
	if (wio.size)
		window_range(&c, OF_PCI_SS_IO, &wio, 2);
	if (w32.size)
		window_range(&c, OF_PCI_SS_MEM32, &w32, 2);
	if (w64.size)
		window_range(&c, OF_PCI_P | OF_PCI_SS_MEM64, &w64, 2);
	TRY(prop_cells(x, "ranges", &c));
	TRY(write_imap(x, &x->maps[x->plan->pci.nr_funcs], PH_HOST));
	if (!x->maps[x->plan->pci.nr_funcs].n)
		TRY(prop_u32(x, "phandle", PH_HOST));
	TRY(write_bus(x, 0, 0));
	return fdt_end_node(x->fdt);
}

static int write_cpus(struct fdt_ctx *x)
{
	unsigned int cpus = x->plan->cfg ? x->plan->cfg->machine.cpus : 1, i;
	char name[32];

	TRY(fdt_begin_node(x->fdt, "cpus"));
	TRY(prop_u32(x, "#address-cells", 1));
	TRY(prop_u32(x, "#size-cells", 0));
	for (i = 0; i < cpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		TRY(fdt_begin_node(x->fdt, name));
		TRY(prop_str(x, "device_type", "cpu"));
		TRY(prop_u32(x, "reg", i));
		TRY(fdt_end_node(x->fdt));
	}
	return fdt_end_node(x->fdt);
}

static int write_memory(struct fdt_ctx *x)
{
	const struct x86_layout *l = &x->plan->layout;
	unsigned int i;
	char name[40];

	for (i = 0; i < l->nr_e820 && i < X86_MAX_E820; i++) {
		struct cells c = { 0 };

		if (l->e820[i].type != E820_RAM || !l->e820[i].size)
			continue;
		snprintf(name, sizeof(name), "memory@%" PRIx64, l->e820[i].addr);
		TRY(fdt_begin_node(x->fdt, name));
		TRY(prop_str(x, "device_type", "memory"));
		cells_add64(&c, l->e820[i].addr);
		cells_add64(&c, l->e820[i].size);
		TRY(prop_cells(x, "reg", &c));
		TRY(fdt_end_node(x->fdt));
	}
	return 0;
}

static int write_apics(struct fdt_ctx *x)
{
	struct cells c = { 0 };
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx", X86_IOAPIC_BASE);
	TRY(fdt_begin_node(x->fdt, name));
	TRY(prop_str(x, "compatible", "intel,ce4100-ioapic"));
	cells_add64(&c, X86_IOAPIC_BASE);
	cells_add64(&c, X86_IOAPIC_SIZE);
	TRY(prop_cells(x, "reg", &c));
	TRY(fdt_property(x->fdt, "interrupt-controller", NULL, 0));
	TRY(prop_u32(x, "#interrupt-cells", 2));
	TRY(prop_u32(x, "#address-cells", 0));
	TRY(prop_u32(x, "phandle", PH_IOAPIC));
	TRY(fdt_end_node(x->fdt));

	snprintf(name, sizeof(name), "interrupt-controller@%llx", X86_LAPIC_BASE);
	TRY(fdt_begin_node(x->fdt, name));
	TRY(prop_str(x, "compatible", "intel,ce4100-lapic"));
	cells_add64(&c, X86_LAPIC_BASE);
	cells_add64(&c, X86_LAPIC_SIZE);
	TRY(prop_cells(x, "reg", &c));
	return fdt_end_node(x->fdt);
}

enum legacy_class { LEG_OTHER, LEG_UART, LEG_I8042, LEG_RTC };

static enum legacy_class legacy_class(const struct plan_legacy *lg)
{
	if (lg->serial >= 0)
		return LEG_UART;
	if (!lg->name)
		return LEG_OTHER;
	if (!strcmp(lg->name, "keyboard") || !strncmp(lg->name, "i8042", 5))
		return LEG_I8042;
	if (!strncmp(lg->name, "rtc", 3))
		return LEG_RTC;
	return LEG_OTHER;
}

/* One node for every legacy entry of a class (i8042, RTC), or for one UART. */
static int write_isa_node(struct fdt_ctx *x, const char *base, const char *compat,
			  enum legacy_class cls, int only)
{
	const struct vm_plan *plan = x->plan;
	struct cells reg = { 0 }, irq = { 0 };
	int first = -1, irqs[PLAN_MAX_LEGACY];
	unsigned int i, k, nirq = 0;
	char name[48];

	for (i = 0; i < plan->nr_legacy && i < PLAN_MAX_LEGACY; i++) {
		const struct plan_legacy *lg = &plan->legacy[i];

		if (legacy_class(lg) != cls || (only >= 0 && (int)i != only))
			continue;
		if (first < 0)
			first = (int)i;
		cells_add(&reg, ISA_IO_SPACE);
		cells_add(&reg, lg->port);
		cells_add(&reg, lg->len ? lg->len : 1);
		for (k = 0; k < nirq; k++)
			if (irqs[k] == lg->irq)
				break;
		if (lg->irq >= 0 && k == nirq)
			irqs[nirq++] = lg->irq;
	}
	if (first < 0) {
		cells_free(&reg);
		return 0;
	}
	snprintf(name, sizeof(name), "%s@i%x", base, plan->legacy[first].port);
	TRY(fdt_begin_node(x->fdt, name));
	TRY(prop_str(x, "compatible", compat));
	TRY(prop_cells(x, "reg", &reg));
	for (k = 0; k < nirq; k++) {
		cells_add(&irq, (uint32_t)irqs[k]);
		cells_add(&irq, IOAPIC_EDGE_RISING);
	}
	if (nirq)
		TRY(prop_cells(x, "interrupts", &irq));
	if (cls == LEG_UART)
		TRY(prop_u32(x, "clock-frequency", 1843200));
	return fdt_end_node(x->fdt);
}

static int write_isa(struct fdt_ctx *x)
{
	const struct vm_plan *plan = x->plan;
	unsigned int i;

	TRY(fdt_begin_node(x->fdt, "isa"));
	TRY(prop_str(x, "compatible", "isa"));
	TRY(prop_str(x, "device_type", "isa"));
	TRY(prop_u32(x, "#address-cells", 2));
	TRY(prop_u32(x, "#size-cells", 1));
	for (i = 0; i < plan->nr_legacy && i < PLAN_MAX_LEGACY; i++)
		if (legacy_class(&plan->legacy[i]) == LEG_UART)
			TRY(write_isa_node(x, "serial", "ns16550a", LEG_UART, (int)i));
	TRY(write_isa_node(x, "keyboard-controller", "intel,8042", LEG_I8042, -1));
	TRY(write_isa_node(x, "rtc", "motorola,mc146818", LEG_RTC, -1));
	return fdt_end_node(x->fdt);
}

static int write_tree(struct fdt_ctx *x)
{
	const struct machine_config *m = x->plan->cfg ? &x->plan->cfg->machine : NULL;

	TRY(fdt_finish_reservemap(x->fdt));
	TRY(fdt_begin_node(x->fdt, ""));
	TRY(prop_u32(x, "#address-cells", 2));
	TRY(prop_u32(x, "#size-cells", 2));
	TRY(prop_str(x, "compatible", "vmm,pc"));
	TRY(prop_str(x, "model", m && m->name ? m->name : "vmm guest"));
	TRY(prop_u32(x, "interrupt-parent", PH_IOAPIC));
	TRY(write_cpus(x));
	TRY(write_memory(x));
	TRY(write_apics(x));
	TRY(write_host_bridge(x));
	TRY(write_isa(x));
	TRY(fdt_end_node(x->fdt));
	return fdt_finish(x->fdt);
}

static void ctx_free(struct fdt_ctx *x)
{
	unsigned int i;

	if (x->maps)
		for (i = 0; i <= x->plan->pci.nr_funcs; i++)
			free(x->maps[i].e);
	free(x->maps);
	free(x->phandle);
	free(x->scratch);
}

int print_fdt_build(const struct vm_plan *plan, void **blob, size_t *size)
{
	struct fdt_ctx x = { .plan = plan };
	size_t nr = plan->pci.nr_funcs ? plan->pci.nr_funcs : 1;
	int bufsize, ret;
	void *buf = NULL, *out;

	*blob = NULL;
	*size = 0;
	ret = build_imaps(&x);
	if (ret)
		goto out;
	x.scratch = calloc((size_t)(PCI_MAX_BUSES + 1) * nr, sizeof(*x.scratch));
	if (!x.scratch) {
		ret = -ENOMEM;
		goto out;
	}
	for (bufsize = 16384; bufsize <= (64 << 20); bufsize *= 2) {
		free(buf);
		buf = calloc(1, (size_t)bufsize);
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
		x.fdt = buf;
		ret = fdt_create(buf, bufsize);
		if (!ret)
			ret = write_tree(&x);
		if (ret != -FDT_ERR_NOSPACE)
			break;
	}
	if (ret < 0) {
		ret = ret == -FDT_ERR_NOSPACE || ret == FDT_CELLS_ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	/* A valid blob in its final form, packed to its size. */
	out = calloc(1, (size_t)bufsize);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	ret = fdt_open_into(buf, out, bufsize);
	if (!ret)
		ret = fdt_pack(out);
	if (ret) {
		free(out);
		ret = -EINVAL;
		goto out;
	}
	*size = fdt_totalsize(out);
	*blob = out;
out:
	free(buf);
	ctx_free(&x);
	return ret;
}

int print_dtb(FILE *f, const struct vm_plan *plan)
{
	void *blob;
	size_t size;
	int ret;

	ret = print_fdt_build(plan, &blob, &size);
	if (ret)
		return ret;
	if (fwrite(blob, 1, size, f) != size)
		ret = -EIO;
	free(blob);
	return ret ? ret : topo_stream_status(f);
}

int print_dts(FILE *f, const struct vm_plan *plan)
{
	void *blob;
	size_t size;
	int ret;

	ret = print_fdt_build(plan, &blob, &size);
	if (ret)
		return ret;
	ret = print_fdt_source(f, blob);
	free(blob);
	return ret;
}
