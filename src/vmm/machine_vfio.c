/*
 * The machine's passed-through PCI functions, from the plan: one VFIO
 * container per machine, each function's BARs mmapped into the guest as
 * memslots that follow the guest's BAR moves (traps only for the MSI-X
 * pages, I/O BARs and the ROM), MSI/MSI-X and INTx as irqfds, guest RAM
 * mapped for the devices' DMA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pci/root_complex.h"
#include "util/log.h"
#include "vfio/container.h"
#include "vfio/device.h"
#include "vfio/pci_dev.h"
#include "vmm/kvm_msi.h"
#include "vmm/machine.h"

struct vfio_bar_area {
	struct vfio_area area;		/* in the region */
	void *hva;			/* its mmap */
	int slot;			/* KVM memslot while the BAR decodes, -1 = none */
};

struct vfio_bar {
	struct machine_vfio_dev *vd;
	const struct plan_pt_bar *pt;	/* its MSI-X pages, from the plan; NULL for the ROM */
	unsigned int index;		/* 0-5, or PCI_ROM_BAR */
	bool io;			/* an I/O BAR: port space */
	uint64_t size;			/* the guest BAR's size */
	struct vfio_bar_area areas[VFIO_DEV_MAX_AREAS];
	unsigned int nr_areas;
	bool on;			/* decoding at addr: trap registered, memslots set */
	uint64_t addr;
	char name[48];			/* the trap's name on the bus */
};

struct machine_vfio_dev {
	struct machine *m;
	const char *name;
	struct vfio_device dev;
	struct vfio_pci_dev pd;
	struct kvm_msi msi;
	struct vfio_bar bars[PCI_ENDPOINT_NR_REGIONS];
	int intx_trigger, intx_resample;
	unsigned int gsi;
	bool dev_open, pd_done, msi_done, intx_bound;
	/* BAR accesses that exited to us: to the MSI-X pages, to I/O BARs and
	 * the ROM (always trapped), and to memory BAR pages meant to be mapped. */
	uint64_t traps_msix, traps_slow, traps_direct;
};

struct machine_vfio {
	struct vfio_container c;
	bool container_open;
	struct machine_vfio_dev *devs;	/* [cfg->nr_devices], used for vfio ones */
};

int machine_vfio_check(const struct vm_plan *plan, unsigned int i, char *err, size_t errlen)
{
	const struct vm_config *cfg = plan->cfg;
	const struct device_config *d = &cfg->devices[i];
	const struct host_device *h = &plan->hosts[i];
	struct host_problem p[HOST_MAX_PROBLEMS];
	unsigned int n = host_device_check(h, p);
	char bdf[PCI_BDF_STRLEN];

	pci_bdf_format(&h->bdf, bdf, sizeof(bdf));
	for (unsigned int k = 0; k < n; k++) {
		if (!p[k].blocking)
			continue;
		snprintf(err, errlen, "%s:%d: [device \"%s\"] host = %s: %s; fix: %s", cfg->file,
			 d->vfio.host_line ? d->vfio.host_line : d->line, d->name, bdf, p[k].what,
			 p[k].fix);
		return -ENODEV;
	}
	for (unsigned int k = 0; k < n; k++)
		pr_warn("[device \"%s\"] host = %s: %s (%s)", d->name, bdf, p[k].what, p[k].fix);
	return 0;
}

/* ---- BARs: memslots for the direct areas, a trap for the rest ---- */

/* Count a trapped access by where it went (vmm -v prints the counts). */
static void count_trap(struct vfio_bar *b, uint64_t off)
{
	uint64_t *n = &b->vd->traps_direct;

	if (b->io || !b->pt) {
		n = &b->vd->traps_slow;
	} else {
		for (unsigned int i = 0; i < b->pt->nr_trapped; i++)
			if (off - b->pt->trapped[i].base < b->pt->trapped[i].size)
				n = &b->vd->traps_msix;
	}
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

static uint64_t bar_trap_read(void *opaque, uint64_t off, unsigned int len)
{
	struct vfio_bar *b = opaque;

	count_trap(b, off);
	return vfio_pci_bar_read(&b->vd->pd, b->index, off, len);
}

static void bar_trap_write(void *opaque, uint64_t off, uint64_t value, unsigned int len)
{
	struct vfio_bar *b = opaque;

	count_trap(b, off);
	vfio_pci_bar_write(&b->vd->pd, b->index, off, value, len);
}

static const struct io_ops bar_trap_ops = {
	.read = bar_trap_read,
	.write = bar_trap_write,
};

static uint64_t rom_read(void *opaque, uint64_t off, unsigned int len)
{
	struct vfio_bar *b = opaque;
	uint64_t size = 0, v = 0;
	const uint8_t *rom = vfio_pci_rom(&b->vd->pd, &size);

	count_trap(b, off);
	for (unsigned int i = 0; i < len && i < 8; i++)
		v |= (uint64_t)(rom && off + i < size ? rom[off + i] : 0xff) << (8 * i);
	return v;
}

static const struct io_ops rom_ops = {
	.read = rom_read,
};

static void bar_off(struct vfio_bar *b)
{
	struct machine *m = b->vd->m;

	if (!b->on)
		return;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		struct vfio_bar_area *a = &b->areas[i];

		if (a->slot >= 0 && kvm_del_memslot(&m->vm.kvm, a->slot) < 0)
			pr_warn("%s: BAR%u: cannot remove its memslot at %#llx: %m", b->vd->name,
				b->index, (unsigned long long)(b->addr + a->area.offset));
		a->slot = -1;
	}
	io_bus_unregister(&m->vm.bus, b->io ? IO_SPACE_PIO : IO_SPACE_MMIO, b->addr);
	b->on = false;
}

static void bar_on(struct vfio_bar *b, uint64_t addr)
{
	struct machine *m = b->vd->m;
	const struct io_ops *ops = b->index == PCI_ROM_BAR ? &rom_ops : &bar_trap_ops;
	int ret;

	ret = io_bus_register(&m->vm.bus, b->io ? IO_SPACE_PIO : IO_SPACE_MMIO, addr, b->size,
			      ops, b, b->name);
	if (ret) {
		/* The guest put it over something else: it stays unreachable there. */
		pr_warn("%s: BAR%u at %#llx: %s", b->vd->name, b->index,
			(unsigned long long)addr, ret == -EEXIST ? "overlaps another range" :
			strerror(-ret));
		return;
	}
	b->on = true;
	b->addr = addr;
	for (unsigned int i = 0; i < b->nr_areas; i++) {
		struct vfio_bar_area *a = &b->areas[i];

		a->slot = kvm_set_memslot(&m->vm.kvm, addr + a->area.offset, a->area.size,
					  a->hva, false);
		if (a->slot < 0) {
			/* The trap still serves it, one exit per access. */
			pr_warn("%s: BAR%u: no memslot at %#llx: %s", b->vd->name, b->index,
				(unsigned long long)(addr + a->area.offset), strerror(-a->slot));
			a->slot = -1;
		}
	}
}

/* From the endpoint, with its lock held: the guest turned decode on or off, or moved it. */
static void vfio_bar_map(void *opaque, unsigned int bar, uint64_t addr, bool on)
{
	struct machine_vfio_dev *vd = opaque;
	struct vfio_bar *b;

	if (bar >= PCI_ENDPOINT_NR_REGIONS)
		return;
	b = &vd->bars[bar];
	if (!b->size)
		return;
	bar_off(b);
	if (on)
		bar_on(b, addr);
}

/* mmap what of a memory BAR may go straight to the guest. */
static int bar_areas(struct machine_vfio_dev *vd, struct vfio_bar *b,
		     const struct plan_pt_bar *pt, char *err, size_t errlen)
{
	struct vfio_area areas[VFIO_DEV_MAX_AREAS];
	const struct vfio_region *r = &vd->dev.regions[b->index];
	int n;

	n = vfio_region_direct_areas(r, pt->trapped, pt->nr_trapped, areas, VFIO_DEV_MAX_AREAS);
	if (n < 0) {
		snprintf(err, errlen, "%s: BAR%u: too many pieces to map", vd->dev.name, b->index);
		return n;
	}
	for (int i = 0; i < n; i++) {
		struct vfio_bar_area *a = &b->areas[b->nr_areas];
		uint64_t page = (uint64_t)getpagesize();

		/*
		 * A memslot is whole pages: a BAR smaller than a page is mapped
		 * as its page (vfio-pci allows that when nothing else shares
		 * it; the plan makes the guest BAR a page at least).
		 */
		areas[i].size = (areas[i].size + page - 1) & ~(page - 1);
		if (areas[i].offset % page || areas[i].offset >= b->size ||
		    areas[i].size > b->size - areas[i].offset)
			continue;
		a->hva = vfio_device_mmap(&vd->dev, b->index, &areas[i]);
		if (!a->hva) {
			/* The trap serves it instead, one exit per access. */
			pr_warn("%s: BAR%u: mmap of [%#llx, +%#llx): %m; its accesses will exit",
				vd->dev.name, b->index, (unsigned long long)areas[i].offset,
				(unsigned long long)areas[i].size);
			continue;
		}
		a->area = areas[i];
		a->slot = -1;
		b->nr_areas++;
	}
	return 0;
}

/* ---- INTx: an irqfd with resample on the function's GSI ---- */

static int vfio_intx_fds(void *opaque, int *trigger, int *resample)
{
	struct machine_vfio_dev *vd = opaque;
	int ret;

	vd->intx_trigger = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->intx_resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->intx_trigger < 0 || vd->intx_resample < 0)
		return -errno;
	ret = kvm_irqfd_resample(&vd->m->vm.kvm, vd->intx_trigger, vd->intx_resample, vd->gsi,
				 true);
	if (ret)
		return ret;
	vd->intx_bound = true;
	*trigger = vd->intx_trigger;
	*resample = vd->intx_resample;
	return 0;
}

/* ---- one function ---- */

static int vfio_one(struct machine *m, struct machine_vfio *mv, unsigned int i,
		    char *err, size_t errlen)
{
	const struct vm_config *cfg = m->plan->cfg;
	const struct device_config *d = &cfg->devices[i];
	const struct pci_func *f = plan_device_func(m->plan, (int)i);
	struct machine_vfio_dev *vd = &mv->devs[i];
	const struct plan_func *pf;
	struct vfio_pci_platform plat = { .bar_map = vfio_bar_map, .opaque = vd };
	unsigned int vectors;
	char why[768] = "", bdf[PCI_BDF_STRLEN];
	int fd, ret;

	if (!f)
		return -EINVAL;
	pf = &m->plan->funcs[f - m->plan->pci.funcs];
	vd->m = m;
	vd->name = d->name;
	vd->intx_trigger = vd->intx_resample = -1;
	vd->gsi = f->gsi;
	pci_bdf_format(&pf->host->bdf, bdf, sizeof(bdf));

	fd = vfio_container_get_device(&mv->c, pf->host, why, sizeof(why));
	if (fd < 0) {
		ret = fd;
		goto err;
	}
	ret = vfio_device_setup(&vd->dev, fd, bdf, why, sizeof(why));
	if (ret)
		goto err;
	vd->dev_open = true;

	vectors = f->msix_vectors > f->msi_vectors ? f->msix_vectors : f->msi_vectors;
	if (vectors) {
		ret = kvm_msi_create(&vd->msi, &m->vm.kvm, vectors, d->name);
		if (ret) {
			snprintf(why, sizeof(why), "MSI vectors: %s", strerror(-ret));
			goto err;
		}
		vd->msi_done = true;
		plat.msi = kvm_msi_port(&vd->msi);
	}
	if (f->intx_pin && f->gsi) {
		if (m->vm.kvm.irqfd_resample)
			plat.intx_fds = vfio_intx_fds;
		else
			pr_warn("%s: this KVM has no KVM_CAP_IRQFD_RESAMPLE: no INTx, only MSI",
				d->name);
	}

	for (unsigned int b = 0; b < PCI_ENDPOINT_NR_REGIONS; b++) {
		const struct pci_bar *gb = b == PCI_ROM_BAR ? &f->rom : &f->bars[b];
		struct vfio_bar *vb = &vd->bars[b];

		vb->vd = vd;
		vb->pt = b == PCI_ROM_BAR ? NULL : &pf->pt_bars[b];
		vb->index = b;
		if (gb->type == PCI_BAR_UNUSED || !gb->size)
			continue;
		vb->size = gb->size;
		vb->io = gb->type == PCI_BAR_IO;
		snprintf(vb->name, sizeof(vb->name), "%s %s%u", d->name,
			 b == PCI_ROM_BAR ? "ROM" : "BAR", b == PCI_ROM_BAR ? 0 : b);
		if (b == PCI_ROM_BAR || vb->io)
			continue;
		ret = bar_areas(vd, vb, &pf->pt_bars[b], why, sizeof(why));
		if (ret)
			goto err;
	}

	ret = vfio_pci_dev_init(&vd->pd, f, &vfio_device_ops, &vd->dev, &plat,
				d->vfio.rom == ROM_FILE ? d->vfio.rom_file : NULL, why, sizeof(why));
	if (ret)
		goto err;
	vd->pd_done = true;
	/* The endpoint starts decoding where the plan put it, without a callback. */
	for (unsigned int b = 0; b < PCI_ENDPOINT_NR_REGIONS; b++) {
		uint64_t addr;

		if (vd->bars[b].size && pci_endpoint_mapped(&vd->pd.ep, b, &addr))
			bar_on(&vd->bars[b], addr);
	}
	ret = pci_root_attach(m->pci, (unsigned int)(f - m->plan->pci.funcs),
			      &pci_endpoint_cfg_ops, &vd->pd.ep);
	if (ret) {
		snprintf(why, sizeof(why), "PCI function: %s", strerror(-ret));
		goto err;
	}
	pr_info("%s: host %s at %02x:%02x.%x, %u MSI-X / %u MSI vectors%s", d->name, bdf, f->bus,
		f->dev, f->fn, f->msix_vectors, f->msi_vectors,
		vd->intx_bound ? ", INTx on its GSI" : "");
	return 0;
err:
	snprintf(err, errlen, "%s:%d: [device \"%s\"] %s", cfg->file,
		 d->vfio.host_line ? d->vfio.host_line : d->line, d->name, why);
	return ret;
}

int machine_vfio_create(struct machine *m, char *err, size_t errlen)
{
	const struct vm_config *cfg = m->plan->cfg;
	const struct guest_mem *gm = &m->vm.mem.mem;
	struct vfio_dma_range ranges[GUEST_MEM_MAX_REGIONS];
	struct machine_vfio *mv;
	char why[768];
	unsigned int i;
	int ret;

	for (i = 0; i < cfg->nr_devices; i++)
		if (cfg->devices[i].kind == DEV_VFIO)
			break;
	if (i == cfg->nr_devices)
		return 0;
	mv = calloc(1, sizeof(*mv));
	if (mv)
		mv->devs = calloc(cfg->nr_devices, sizeof(*mv->devs));
	if (!mv || !mv->devs) {
		free(mv);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->vfio = mv;
	ret = vfio_container_open(&mv->c, NULL, NULL, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "VFIO: %s", why);
		return ret;
	}
	mv->container_open = true;
	for (i = 0; i < cfg->nr_devices; i++) {
		if (cfg->devices[i].kind != DEV_VFIO)
			continue;
		ret = vfio_one(m, mv, i, err, errlen);
		if (ret)
			return ret;
	}
	/* Every group is in the container now: one mapping serves them all. */
	for (i = 0; i < gm->nr; i++)
		ranges[i] = (struct vfio_dma_range){
			.iova = gm->regions[i].gpa,
			.size = gm->regions[i].size,
			.hva = gm->regions[i].hva,
		};
	ret = vfio_container_map_ram(&mv->c, ranges, gm->nr, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "VFIO: guest RAM for DMA: %s", why);
		return ret;
	}
	return 0;
}

void machine_vfio_stats(struct machine *m)
{
	const struct vm_config *cfg = m->plan->cfg;

	for (unsigned int i = 0; m->vfio && i < cfg->nr_devices; i++) {
		struct machine_vfio_dev *vd = &m->vfio->devs[i];

		uint64_t msix = __atomic_load_n(&vd->traps_msix, __ATOMIC_RELAXED);
		uint64_t slow = __atomic_load_n(&vd->traps_slow, __ATOMIC_RELAXED);
		uint64_t direct = __atomic_load_n(&vd->traps_direct, __ATOMIC_RELAXED);

		if (vd->pd_done)
			pr_info("%s: %llu BAR accesses trapped: %llu to the MSI-X table and PBA, "
				"%llu to I/O BARs and the ROM, %llu to pages meant to be mapped "
				"(the rest went to the device directly)", vd->name,
				(unsigned long long)(msix + slow + direct), (unsigned long long)msix,
				(unsigned long long)slow, (unsigned long long)direct);
	}
}

static void vfio_dev_destroy(struct machine_vfio_dev *vd)
{
	struct kvm *kvm = &vd->m->vm.kvm;

	for (unsigned int b = 0; b < PCI_ENDPOINT_NR_REGIONS; b++) {
		struct vfio_bar *vb = &vd->bars[b];

		bar_off(vb);
		for (unsigned int k = 0; k < vb->nr_areas; k++)
			munmap(vb->areas[k].hva, vb->areas[k].area.size);
		vb->nr_areas = 0;
	}
	/* Interrupts off on the device before their eventfds go. */
	if (vd->pd_done)
		vfio_pci_dev_free(&vd->pd);
	vd->pd_done = false;
	if (vd->intx_bound)
		kvm_irqfd_resample(kvm, vd->intx_trigger, -1, vd->gsi, false);
	vd->intx_bound = false;
	if (vd->dev_open)
		vfio_device_close(&vd->dev);
	vd->dev_open = false;
	if (vd->intx_trigger >= 0)
		close(vd->intx_trigger);
	if (vd->intx_resample >= 0)
		close(vd->intx_resample);
	vd->intx_trigger = vd->intx_resample = -1;
	if (vd->msi_done)
		kvm_msi_destroy(&vd->msi);
	vd->msi_done = false;
}

void machine_vfio_destroy(struct machine *m)
{
	const struct vm_config *cfg = m->plan->cfg;
	struct machine_vfio *mv = m->vfio;

	if (!mv)
		return;
	for (unsigned int i = 0; mv->devs && i < cfg->nr_devices; i++)
		if (mv->devs[i].m)
			vfio_dev_destroy(&mv->devs[i]);
	if (mv->container_open)
		vfio_container_close(&mv->c);
	free(mv->devs);
	free(mv);
	m->vfio = NULL;
}
