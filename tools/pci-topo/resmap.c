/*
 * The guest's /proc/iomem and /proc/ioports as a plan predicts them: every
 * range with its name, nested by containment as the kernel's resource tree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "print_priv.h"

enum {
	RANK_PLATFORM = 0,		/* ECAM, IOAPIC, LAPIC, legacy ports */
	RANK_E820 = 1,
	RANK_HOST_WINDOW = 2,
	RANK_PNP = 3,			/* a claim by an ACPI device, inside its E820 range */
	RANK_BRIDGE_WINDOW = 10,	/* + depth of the bridge */
	RANK_BAR = 1000,
};

/*
 * What a Linux x86 guest claims on its own, with no device behind it here:
 * the PC's standard I/O ports (arch/x86/kernel/setup.c; the PIC and PIT are
 * KVM's, the DMA controllers and the FPU port exist on no machine of ours)
 * and the System ROM range of the BIOS area (arch/x86/kernel/probe_roms.c).
 */
static const struct {
	const char *name;
	uint16_t port, len;
} linux_std_ports[] = {
	{ "dma1", 0x00, 0x20 },
	{ "pic1", 0x20, 0x02 },
	{ "timer0", 0x40, 0x04 },
	{ "timer1", 0x50, 0x04 },
	{ "dma page reg", 0x80, 0x10 },
	{ "pic2", 0xa0, 0x02 },
	{ "dma2", 0xc0, 0x20 },
	{ "fpu", 0xf0, 0x10 },
};

#define LINUX_SYSTEM_ROM_BASE	0xf0000ULL
#define LINUX_SYSTEM_ROM_SIZE	0x10000ULL

__attribute__((format(printf, 5, 6)))
static int res_add(struct res_map *m, uint64_t start, uint64_t size, int rank,
		   const char *fmt, ...)
{
	struct res_node *n;
	va_list ap;

	if (!size)
		return 0;
	if (m->nr == m->cap) {
		unsigned int cap = m->cap ? 2 * m->cap : 64;
		struct res_node *nodes = realloc(m->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		m->nodes = nodes;
		m->cap = cap;
	}
	n = &m->nodes[m->nr++];
	memset(n, 0, sizeof(*n));
	n->start = start;
	n->end = start + (size - 1);
	if (n->end < start)		/* wraps: clamp, the overlap shows */
		n->end = UINT64_MAX;
	n->rank = rank;
	n->first_child = -1;
	n->next = -1;
	va_start(ap, fmt);
	vsnprintf(n->name, sizeof(n->name), fmt, ap);
	va_end(ap);
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	const struct res_node *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;	/* the container first */
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sort, then nest each range in the innermost earlier range that contains it. */
static int res_nest(struct res_map *m)
{
	int *stack, *last_child, last_top = -1;
	unsigned int i, sp = 0;

	m->first = -1;
	if (!m->nr)
		return 0;
	qsort(m->nodes, m->nr, sizeof(*m->nodes), cmp_node);
	stack = calloc(m->nr, sizeof(*stack));
	last_child = calloc(m->nr, sizeof(*last_child));
	if (!stack || !last_child) {
		free(stack);
		free(last_child);
		return -ENOMEM;
	}
	for (i = 0; i < m->nr; i++) {
		struct res_node *n = &m->nodes[i];
		int parent;

		while (sp) {
			struct res_node *p = &m->nodes[stack[sp - 1]];

			if (p->start <= n->start && n->end <= p->end)
				break;
			sp--;
		}
		parent = sp ? stack[sp - 1] : -1;
		if (parent < 0) {
			if (last_top < 0)
				m->first = (int)i;
			else
				m->nodes[last_top].next = (int)i;
			last_top = (int)i;
		} else {
			if (m->nodes[parent].first_child < 0)
				m->nodes[parent].first_child = (int)i;
			else
				m->nodes[last_child[parent]].next = (int)i;
			last_child[parent] = (int)i;
		}
		stack[sp++] = (int)i;
	}
	free(stack);
	free(last_child);
	return 0;
}

/* How many bridges lie between function i and the root bus. */
static int bridge_depth(const struct vm_plan *plan, unsigned int i)
{
	const struct pci_topology *t = &plan->pci;
	int bus = t->funcs[i].bus_req, depth = 0;

	while (bus > 0 && (unsigned int)bus < t->nr_buses && depth < 256) {
		int br = t->buses[bus].bridge;

		if (br < 0 || (unsigned int)br >= t->nr_funcs)
			break;
		bus = t->funcs[br].bus_req;
		depth++;
	}
	return depth;
}

static int add_funcs(const struct vm_plan *plan, struct res_map *m, bool io)
{
	unsigned int i, b;
	char bdf[PCI_BDF_STRLEN];
	int ret;

	for (i = 0; i < plan->pci.nr_funcs; i++) {
		const struct pci_func *f = &plan->pci.funcs[i];

		topo_bdf(f, bdf, sizeof(bdf));
		for (b = 0; b < PCI_NR_BARS; b++) {
			const struct pci_bar *bar = &f->bars[b];

			if (bar->type == PCI_BAR_UNUSED || !bar->size)
				continue;
			if ((bar->type == PCI_BAR_IO) != io)
				continue;
			ret = res_add(m, bar->addr, bar->size, RANK_BAR, "%s", bdf);
			if (ret)
				return ret;
		}
		if (!io && f->rom.type != PCI_BAR_UNUSED && f->rom.size) {
			ret = res_add(m, f->rom.addr, f->rom.size, RANK_BAR, "%s", bdf);
			if (ret)
				return ret;
		}
		if (topo_is_bridge(f)) {
			int rank = RANK_BRIDGE_WINDOW + bridge_depth(plan, i);

			if (io) {
				ret = res_add(m, f->io.base, f->io.size, rank,
					      "PCI Bus 0000:%02x", f->secondary);
			} else {
				ret = res_add(m, f->mem.base, f->mem.size, rank,
					      "PCI Bus 0000:%02x", f->secondary);
				if (!ret)
					ret = res_add(m, f->pref.base, f->pref.size, rank,
						      "PCI Bus 0000:%02x", f->secondary);
			}
			if (ret)
				return ret;
		}
	}
	return 0;
}

int res_map_iomem(const struct vm_plan *plan, struct res_map *m)
{
	const struct x86_layout *l = &plan->layout;
	struct pci_window w32 = topo_win_mem32(plan), w64 = topo_win_mem64(plan);
	unsigned int i, last_bus;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->first = -1;
	for (i = 0; i < l->nr_e820 && !ret; i++)
		ret = res_add(m, l->e820[i].addr, l->e820[i].size, RANK_E820,
			      "%s", e820_iomem_name(l->e820[i].type));
	last_bus = x86_ecam_last_bus(l);
	if (!ret)
		ret = res_add(m, l->ecam.base, l->ecam.size, RANK_PLATFORM,
			      "PCI MMCONFIG 0000 [bus 00-%02x]", last_bus);
	/* The DSDT's motherboard-resources device (first PNP device) claims ECAM. */
	if (!ret)
		ret = res_add(m, l->ecam.base, l->ecam.size, RANK_PNP, "pnp 00:00");
	/* Linux claims the BIOS area's top 64 KiB whether or not a ROM is there. */
	if (!ret)
		ret = res_add(m, LINUX_SYSTEM_ROM_BASE, LINUX_SYSTEM_ROM_SIZE, RANK_PLATFORM,
			      "System ROM");
	if (!ret)
		ret = res_add(m, X86_IOAPIC_BASE, X86_IOAPIC_REGS_SIZE, RANK_PLATFORM, "IOAPIC 0");
	if (!ret)
		ret = res_add(m, X86_LAPIC_BASE, X86_LAPIC_SIZE, RANK_PLATFORM, "Local APIC");
	if (!ret)
		ret = res_add(m, w32.base, w32.size, RANK_HOST_WINDOW, "PCI Bus 0000:00");
	if (!ret)
		ret = res_add(m, w64.base, w64.size, RANK_HOST_WINDOW, "PCI Bus 0000:00");
	if (!ret)
		ret = add_funcs(plan, m, false);
	if (!ret)
		ret = res_nest(m);
	if (ret)
		res_map_free(m);
	return ret;
}

int res_map_ioports(const struct vm_plan *plan, struct res_map *m)
{
	struct pci_window wio = topo_win_io(plan);
	unsigned int i;
	int ret = 0;

	memset(m, 0, sizeof(*m));
	m->first = -1;
	for (i = 0; i < sizeof(linux_std_ports) / sizeof(linux_std_ports[0]) && !ret; i++)
		ret = res_add(m, linux_std_ports[i].port, linux_std_ports[i].len, RANK_PLATFORM,
			      "%s", linux_std_ports[i].name);
	for (i = 0; i < plan->nr_legacy && i < PLAN_MAX_LEGACY && !ret; i++) {
		const struct plan_legacy *lg = &plan->legacy[i];

		ret = res_add(m, lg->port, lg->len, RANK_PLATFORM, "%s",
			      lg->name ? lg->name : "?");
	}
	if (!ret)
		ret = res_add(m, wio.base, wio.size, RANK_HOST_WINDOW, "PCI Bus 0000:00");
	if (!ret)
		ret = add_funcs(plan, m, true);
	if (!ret)
		ret = res_nest(m);
	if (ret)
		res_map_free(m);
	return ret;
}

void res_map_free(struct res_map *m)
{
	free(m->nodes);
	m->nodes = NULL;
	m->nr = m->cap = 0;
	m->first = -1;
}
