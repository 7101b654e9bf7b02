/*
 * pci-topo's default report: the plan as text, in the manner of lspci -tv,
 * /proc/iomem and /proc/ioports, with interrupts and passthrough readiness.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/size.h"
#include "print.h"
#include "print_priv.h"

#define TREE_LINE_MAX	8192

struct tree_ctx {
	FILE *f;
	const struct vm_plan *plan;
	unsigned int *scratch;		/* per-level function lists */
	unsigned int depth;
	char *line;
};

static void tree_bridge(struct tree_ctx *c, int bus, bool host, char *p);

/* Print the line, then blank it for the next one, keeping the verticals. */
static void tree_emit(struct tree_ctx *c, char *p)
{
	char *q;

	*p = '\0';
	fputs(c->line, c->f);
	fputc('\n', c->f);
	for (q = c->line; *q; q++)
		*q = (*q == '+' || *q == '|') ? '|' : ' ';
}

static char *tree_put(struct tree_ctx *c, char *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static char *tree_put(struct tree_ctx *c, char *p, const char *fmt, ...)
{
	size_t room = (size_t)(c->line + TREE_LINE_MAX - p);
	va_list ap;
	int n;

	if (room <= 1)
		return p;
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return p;
	return (size_t)n >= room ? p + room - 1 : p + n;
}

static void tree_dev(struct tree_ctx *c, unsigned int i, char *p)
{
	const struct pci_func *f = &c->plan->pci.funcs[i];
	char desc[TOPO_DESC_MAX];

	p = tree_put(c, p, "%02x.%x", f->dev, f->fn);
	if (topo_is_bridge(f) && f->child_bus > 0 &&
	    (unsigned int)f->child_bus < c->plan->pci.nr_buses) {
		if (f->secondary == f->subordinate)
			p = tree_put(c, p, "-[%02x]-", f->secondary);
		else
			p = tree_put(c, p, "-[%02x-%02x]-", f->secondary, f->subordinate);
		tree_bridge(c, f->child_bus, false, p);
		return;
	}
	p = tree_put(c, p, "  %s", topo_func_desc(c->plan, i, desc, sizeof(desc)));
	tree_emit(c, p);
}

static void tree_bus(struct tree_ctx *c, int bus, char *p)
{
	unsigned int nr = c->plan->pci.nr_funcs;
	unsigned int *list = c->scratch + (size_t)c->depth * nr;
	unsigned int n, k;

	if (c->depth >= 64) {		/* a cycle in a broken plan */
		tree_emit(c, tree_put(c, p, "..."));
		return;
	}
	n = topo_bus_funcs(c->plan, bus, list);
	c->depth++;
	if (n == 0) {
		tree_emit(c, p);
	} else if (n == 1) {
		tree_dev(c, list[0], tree_put(c, p, "--"));
	} else {
		for (k = 0; k < n; k++) {
			char *q = tree_put(c, p, k + 1 < n ? "+-" : "\\-");

			tree_dev(c, list[k], q);
		}
	}
	c->depth--;
}

static void tree_bridge(struct tree_ctx *c, int bus, bool host, char *p)
{
	p = tree_put(c, p, "-");
	if (host)
		p = tree_put(c, p, "[0000:%02x]-", c->plan->pci.buses[bus].number);
	tree_bus(c, bus, p);
}

static int print_tree(FILE *f, const struct vm_plan *plan)
{
	struct tree_ctx c = { .f = f, .plan = plan };
	size_t nr = plan->pci.nr_funcs ? plan->pci.nr_funcs : 1;

	fputs("PCI tree (as lspci -tv):\n", f);
	if (!plan->pci.nr_buses) {
		fputs("  (no PCI buses)\n", f);
		return 0;
	}
	c.scratch = calloc(65 * nr, sizeof(*c.scratch));
	c.line = calloc(TREE_LINE_MAX, 1);
	if (!c.scratch || !c.line) {
		free(c.scratch);
		free(c.line);
		return -ENOMEM;
	}
	tree_bridge(&c, 0, true, c.line);
	free(c.scratch);
	free(c.line);
	return 0;
}

static void print_header(FILE *f, const struct vm_plan *plan)
{
	const struct machine_config *m = plan->cfg ? &plan->cfg->machine : NULL;
	char sz[TOPO_SIZE_MAX];
	uint64_t mem = plan->layout.memory ? plan->layout.memory : (m ? m->memory : 0);

	fprintf(f, "machine    %s\n", m && m->name ? m->name : "(unnamed)");
	fprintf(f, "cpus       %u\n", m ? m->cpus : 0);
	fprintf(f, "memory     %s (0x%" PRIx64 " bytes)\n", size_str(mem, sz, sizeof(sz)), mem);
	fprintf(f, "phys-bits  %u\n", plan->layout.phys_bits ? plan->layout.phys_bits :
		(m ? m->phys_bits : 0));
}

static const char *bar_flags(const struct pci_bar *b, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", pci_bar_type_name(b->type),
		 b->prefetchable ? ", prefetchable" : "");
	return buf;
}

static void print_window(FILE *f, const char *what, const struct pci_window *w, bool io)
{
	char sz[TOPO_SIZE_MAX];

	if (!w->size) {
		fprintf(f, "    %-11s closed\n", what);
		return;
	}
	fprintf(f, io ? "    %-11s %04" PRIx64 "-%04" PRIx64 "  %s\n" :
			"    %-11s %08" PRIx64 "-%08" PRIx64 "  %s\n",
		what, w->base, w->base + w->size - 1, size_str(w->size, sz, sizeof(sz)));
}

/* The direct-mapped and trapped pages of a passthrough BAR. */
static void print_pt_pages(FILE *f, const struct vm_plan *plan, unsigned int i,
			   unsigned int b)
{
	const struct pci_bar *bar = &plan->pci.funcs[i].bars[b];
	struct topo_trap traps[TOPO_TRAP_MAX];
	unsigned int n = topo_bar_traps(plan, i, b, traps), k;
	uint64_t off = 0;

	if (bar->type == PCI_BAR_IO) {
		fprintf(f, "%16s every access trapped (I/O BAR)\n", "");
		return;
	}
	for (k = 0; k <= n; k++) {
		uint64_t end = k < n ? traps[k].offset : bar->size;

		if (end > bar->size)
			end = bar->size;
		if (end > off)
			fprintf(f, "%16s direct   %08" PRIx64 "-%08" PRIx64 "  +0x%" PRIx64 "\n",
				"", bar->addr + off, bar->addr + end - 1, off);
		if (k == n)
			break;
		fprintf(f, "%16s trapped  %08" PRIx64 "-%08" PRIx64 "  +0x%" PRIx64 "  %s\n",
			"", bar->addr + traps[k].offset,
			bar->addr + traps[k].offset + traps[k].size - 1,
			traps[k].offset, traps[k].what);
		if (traps[k].offset + traps[k].size > off)
			off = traps[k].offset + traps[k].size;
	}
}

static void print_rom(FILE *f, const struct vm_plan *plan, unsigned int i)
{
	const struct pci_func *fn = &plan->pci.funcs[i];
	const struct plan_func *pf = plan->funcs ? &plan->funcs[i] : NULL;
	const struct host_device *h = topo_func_host(plan, i);
	const struct device_config *d = NULL;
	char sz[TOPO_SIZE_MAX], hsz[TOPO_SIZE_MAX];
	const char *src = "";

	if (pf && plan->cfg && pf->role == PLAN_ROLE_DEVICE && pf->index >= 0 &&
	    (unsigned int)pf->index < plan->cfg->nr_devices)
		d = &plan->cfg->devices[pf->index];
	if (d && d->kind == DEV_VFIO) {
		if (d->vfio.rom == ROM_FILE)
			src = "from file";
		else if (d->vfio.rom == ROM_OFF)
			src = "off";
		else
			src = "the device's own";
	}
	if (fn->rom.type == PCI_BAR_UNUSED || !fn->rom.size) {
		if (h)
			fprintf(f, "    %-11s none (rom = %s; host ROM %s)\n", "rom",
				d && d->vfio.rom == ROM_OFF ? "off" : "auto",
				h->rom_size ? size_str(h->rom_size, hsz, sizeof(hsz)) : "absent");
		return;
	}
	fprintf(f, "    %-11s %08" PRIx64 "-%08" PRIx64 "  %s  %s%s%s\n", "rom",
		fn->rom.addr, fn->rom.addr + fn->rom.size - 1,
		size_str(fn->rom.size, sz, sizeof(sz)), pci_bar_type_name(fn->rom.type),
		*src ? ", " : "", src);
	if (h && d && d->vfio.rom == ROM_FILE && d->vfio.rom_file)
		fprintf(f, "%16s file %s\n", "", d->vfio.rom_file);
}

static void print_function(FILE *f, const struct vm_plan *plan, unsigned int i)
{
	const struct pci_func *fn = &plan->pci.funcs[i];
	const struct plan_func *pf = plan->funcs ? &plan->funcs[i] : NULL;
	const struct host_device *h = topo_func_host(plan, i);
	char bdf[PCI_BDF_STRLEN], hbdf[PCI_BDF_STRLEN], buf[TOPO_DESC_MAX];
	char sz[TOPO_SIZE_MAX], flags[64];
	unsigned int b;

	fprintf(f, "%s %s (%s)\n", topo_bdf(fn, bdf, sizeof(bdf)),
		topo_func_name(plan, i), topo_func_type(plan, i));
	fprintf(f, "    %-11s %s\n", "name", topo_func_desc(plan, i, buf, sizeof(buf)));
	fprintf(f, "    %-11s [%04x:%04x] subsystem [%04x:%04x] rev %02x%s\n", "ids",
		fn->vendor, fn->device, fn->subsys_vendor, fn->subsys_device,
		fn->revision, fn->multifunction ? ", multifunction" : "");
	fprintf(f, "    %-11s %06x %s\n", "class", fn->class_code & 0xffffff,
		topo_class_name(plan, i, buf, sizeof(buf)));
	if (h)
		fprintf(f, "    %-11s %s (IOMMU group %d, driver %s, NUMA node %d)\n", "host",
			pci_bdf_format(&h->bdf, hbdf, sizeof(hbdf)), h->iommu_group,
			h->driver[0] ? h->driver : "none", h->numa_node);
	if (topo_is_bridge(fn)) {
		fprintf(f, "    %-11s primary %02x, secondary %02x, subordinate %02x\n",
			"bus", fn->bus, fn->secondary, fn->subordinate);
		print_window(f, "io window", &fn->io, true);
		print_window(f, "mem window", &fn->mem, false);
		print_window(f, "pref window", &fn->pref, false);
	}
	if (fn->intx_pin)
		fprintf(f, "    %-11s %s, root slot %02x %s, GSI %u\n", "intx",
			topo_pin_name(fn->intx_pin), fn->root_slot,
			topo_pin_name(fn->root_pin), fn->gsi);
	else
		fprintf(f, "    %-11s none\n", "intx");
	fprintf(f, "    %-11s %u vector%s\n", "msi", fn->msi_vectors,
		fn->msi_vectors == 1 ? "" : "s");
	fprintf(f, "    %-11s %u vector%s\n", "msi-x", fn->msix_vectors,
		fn->msix_vectors == 1 ? "" : "s");
	if (pf && pf->virtio_queues)
		fprintf(f, "    %-11s %u\n", "queues", pf->virtio_queues);
	if (pf && plan->cfg && pf->role == PLAN_ROLE_DEVICE && pf->index >= 0 &&
	    (unsigned int)pf->index < plan->cfg->nr_devices &&
	    plan->cfg->devices[pf->index].kind == DEV_VIRTIO_NET)
		fprintf(f, "    %-11s %02x:%02x:%02x:%02x:%02x:%02x\n", "mac",
			pf->mac[0], pf->mac[1], pf->mac[2], pf->mac[3], pf->mac[4], pf->mac[5]);
	for (b = 0; b < PCI_NR_BARS; b++) {
		const struct pci_bar *bar = &fn->bars[b];
		char what[16];

		if (bar->type == PCI_BAR_UNUSED || !bar->size)
			continue;
		snprintf(what, sizeof(what), "bar %u", b);
		fprintf(f, bar->type == PCI_BAR_IO ?
			"    %-11s %04" PRIx64 "-%04" PRIx64 "  %s  %s\n" :
			"    %-11s %08" PRIx64 "-%08" PRIx64 "  %s  %s\n",
			what, bar->addr, bar->addr + bar->size - 1,
			size_str(bar->size, sz, sizeof(sz)), bar_flags(bar, flags, sizeof(flags)));
		if (h && pf) {
			const struct plan_pt_bar *pb = &pf->pt_bars[b];
			uint64_t hsize = pb->host_size ?: bar->size;

			fprintf(f, "%16s host     %08" PRIx64 "-%08" PRIx64 "  %s\n", "",
				pb->host_addr, pb->host_addr + hsize - 1,
				size_str(hsize, sz, sizeof(sz)));
			print_pt_pages(f, plan, i, b);
		}
	}
	if (fn->kind == PCI_FUNC_ENDPOINT)
		print_rom(f, plan, i);
}

static void print_res(FILE *f, const struct res_map *m, int idx, unsigned int depth,
		      int width)
{
	for (; idx >= 0; idx = m->nodes[idx].next) {
		const struct res_node *n = &m->nodes[idx];

		fprintf(f, "%*s%0*" PRIx64 "-%0*" PRIx64 " : %s\n", (int)depth * 2, "",
			width, n->start, width, n->end, n->name);
		if (n->first_child >= 0 && depth < 64)
			print_res(f, m, n->first_child, depth + 1, width);
	}
}

static int print_iomem(FILE *f, const struct vm_plan *plan)
{
	struct res_map m;
	int idx, ret;
	bool have_prev = false;
	uint64_t prev_end = 0;

	ret = res_map_iomem(plan, &m);
	if (ret)
		return ret;
	fputs("Guest physical memory map (as /proc/iomem):\n", f);
	for (idx = m.first; idx >= 0; idx = m.nodes[idx].next) {
		const struct res_node *n = &m.nodes[idx];
		uint64_t hole_start = have_prev ? prev_end + 1 : 0;

		if ((!have_prev || prev_end != UINT64_MAX) && n->start > hole_start)
			fprintf(f, "%08" PRIx64 "-%08" PRIx64 " : (hole)\n",
				hole_start, n->start - 1);
		fprintf(f, "%08" PRIx64 "-%08" PRIx64 " : %s\n", n->start, n->end, n->name);
		if (n->first_child >= 0)
			print_res(f, &m, n->first_child, 1, 8);
		if (!have_prev || n->end > prev_end)
			prev_end = n->end;
		have_prev = true;
	}
	res_map_free(&m);
	return 0;
}

static int print_ioports(FILE *f, const struct vm_plan *plan)
{
	struct res_map m;
	int ret;

	ret = res_map_ioports(plan, &m);
	if (ret)
		return ret;
	fputs("I/O ports (as /proc/ioports):\n", f);
	print_res(f, &m, m.first, 0, 4);
	res_map_free(&m);
	return 0;
}

/* Legacy devices by IRQ; one line per device, its ports together. */
static void print_isa_irqs(FILE *f, const struct vm_plan *plan)
{
	const struct plan_legacy *lg = plan->legacy;
	unsigned int nr = plan->nr_legacy < PLAN_MAX_LEGACY ? plan->nr_legacy : PLAN_MAX_LEGACY;
	bool done[PLAN_MAX_LEGACY] = { false };
	unsigned int shown = 0, i, k;

	for (;;) {
		int best = -1;

		/* The lowest IRQ not yet shown, then the lowest port. */
		for (i = 0; i < nr; i++) {
			if (done[i] || lg[i].irq < 0)
				continue;
			if (best < 0 || lg[i].irq < lg[best].irq ||
			    (lg[i].irq == lg[best].irq && lg[i].port < lg[best].port))
				best = (int)i;
		}
		if (best < 0)
			break;
		fprintf(f, "    IRQ %-2d %-10s", lg[best].irq, lg[best].name ? lg[best].name : "?");
		for (k = 0, i = (unsigned int)best; i < nr; i++) {
			if (done[i] || lg[i].irq != lg[best].irq ||
			    lg[i].serial != lg[best].serial ||
			    strcmp(lg[i].name ?: "?", lg[best].name ?: "?"))
				continue;
			fprintf(f, "%s%04x-%04x", k++ ? ", " : " ", lg[i].port,
				lg[i].port + (lg[i].len ? lg[i].len : 1) - 1);
			done[i] = true;
		}
		if (lg[best].serial >= 0 && plan->cfg &&
		    (unsigned int)lg[best].serial < plan->cfg->nr_serials)
			fprintf(f, " (com%u, console %s)",
				plan->cfg->serials[lg[best].serial].index + 1,
				console_kind_name(plan->cfg->serials[lg[best].serial]
						  .console.kind));
		fputc('\n', f);
		shown++;
	}
	if (!shown)
		fputs("    none\n", f);
}

static void print_irqs(FILE *f, const struct vm_plan *plan, const unsigned int *order)
{
	unsigned int n = plan->pci.nr_funcs, k, shown;
	char bdf[PCI_BDF_STRLEN];

	fputs("Interrupt routing:\n", f);
	fputs("  PCI INTx (pin -> root slot and pin after the bridge swizzle -> IOAPIC GSI):\n", f);
	for (shown = 0, k = 0; k < n; k++) {
		const struct pci_func *fn = &plan->pci.funcs[order[k]];

		if (!fn->intx_pin)
			continue;
		fprintf(f, "    %s %-16s %s -> slot %02x %s -> GSI %u\n",
			topo_bdf(fn, bdf, sizeof(bdf)), topo_func_name(plan, order[k]),
			topo_pin_name(fn->intx_pin), fn->root_slot,
			topo_pin_name(fn->root_pin), fn->gsi);
		shown++;
	}
	if (!shown)
		fputs("    none\n", f);

	fputs("  ISA IRQs:\n", f);
	print_isa_irqs(f, plan);

	fputs("  MSI / MSI-X vectors:\n", f);
	for (shown = 0, k = 0; k < n; k++) {
		const struct pci_func *fn = &plan->pci.funcs[order[k]];

		if (!fn->msi_vectors && !fn->msix_vectors)
			continue;
		fprintf(f, "    %s %-16s MSI %u, MSI-X %u\n", topo_bdf(fn, bdf, sizeof(bdf)),
			topo_func_name(plan, order[k]), fn->msi_vectors, fn->msix_vectors);
		shown++;
	}
	if (!shown)
		fputs("    none\n", f);
}

static void print_readiness(FILE *f, const struct vm_plan *plan, const unsigned int *order)
{
	unsigned int n = plan->pci.nr_funcs, k, p, shown = 0;
	char bdf[PCI_BDF_STRLEN], hbdf[PCI_BDF_STRLEN];

	fputs("Passthrough readiness:\n", f);
	for (k = 0; k < n; k++) {
		unsigned int i = order[k];
		const struct host_device *h = topo_func_host(plan, i);
		struct host_problem probs[HOST_MAX_PROBLEMS];
		unsigned int np;

		if (!h)
			continue;
		shown++;
		np = host_device_check(h, probs);
		fprintf(f, "  %s: host %s -> guest %s: %s\n", topo_func_name(plan, i),
			pci_bdf_format(&h->bdf, hbdf, sizeof(hbdf)),
			topo_bdf(&plan->pci.funcs[i], bdf, sizeof(bdf)),
			np ? "NOT READY" : "OK");
		for (p = 0; p < np && p < HOST_MAX_PROBLEMS; p++) {
			fprintf(f, "    problem: %s\n", probs[p].what);
			if (probs[p].fix[0])
				fprintf(f, "    fix:     %s\n", probs[p].fix);
		}
	}
	if (!shown)
		fputs("  no passthrough devices\n", f);
}

int print_text(FILE *f, const struct vm_plan *plan)
{
	unsigned int *order = topo_sorted_funcs(plan);
	unsigned int k;
	int ret;

	if (!order)
		return -ENOMEM;
	print_header(f, plan);
	fputc('\n', f);
	ret = print_tree(f, plan);
	if (ret)
		goto out;
	fputc('\n', f);
	fputs("PCI functions:\n", f);
	for (k = 0; k < plan->pci.nr_funcs; k++)
		print_function(f, plan, order[k]);
	fputc('\n', f);
	ret = print_iomem(f, plan);
	if (ret)
		goto out;
	fputc('\n', f);
	ret = print_ioports(f, plan);
	if (ret)
		goto out;
	fputc('\n', f);
	print_irqs(f, plan, order);
	fputc('\n', f);
	print_readiness(f, plan, order);
	ret = topo_stream_status(f);
out:
	free(order);
	return ret;
}
