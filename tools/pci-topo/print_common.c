/*
 * Helpers every printer uses: what a function is called, its ids as names,
 * the order functions are listed in, sizes, windows and trapped pages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/pci_layout.h"
#include "print_priv.h"

const char *topo_kind_name(enum pci_func_kind kind)
{
	switch (kind) {
	case PCI_FUNC_HOST_BRIDGE:
		return "host-bridge";
	case PCI_FUNC_ROOT_PORT:
		return "root-port";
	case PCI_FUNC_PCI_BRIDGE:
		return "pci-bridge";
	case PCI_FUNC_ENDPOINT:
		return "endpoint";
	}
	return "unknown";
}

bool topo_is_bridge(const struct pci_func *f)
{
	return f->kind == PCI_FUNC_ROOT_PORT || f->kind == PCI_FUNC_PCI_BRIDGE;
}

static const struct plan_func *pfunc(const struct vm_plan *plan, unsigned int i)
{
	return plan->funcs ? &plan->funcs[i] : NULL;
}

const char *topo_func_name(const struct vm_plan *plan, unsigned int i)
{
	const struct pci_func *f = &plan->pci.funcs[i];

	/* The planner names each function after its machine-file section. */
	if (f->kind == PCI_FUNC_HOST_BRIDGE)
		return "host-bridge";
	return f->name ? f->name : "?";
}

const char *topo_func_type(const struct vm_plan *plan, unsigned int i)
{
	const struct plan_func *pf = pfunc(plan, i);
	const struct vm_config *cfg = plan->cfg;

	if (pf && cfg) {
		if (pf->role == PLAN_ROLE_BRIDGE && pf->index >= 0 &&
		    (unsigned int)pf->index < cfg->nr_bridges)
			return bridge_kind_name(cfg->bridges[pf->index].kind);
		if (pf->role == PLAN_ROLE_DEVICE && pf->index >= 0 &&
		    (unsigned int)pf->index < cfg->nr_devices)
			return device_kind_name(cfg->devices[pf->index].kind);
	}
	return topo_kind_name(plan->pci.funcs[i].kind);
}

const struct host_device *topo_func_host(const struct vm_plan *plan, unsigned int i)
{
	const struct plan_func *pf = pfunc(plan, i);

	return pf ? pf->host : NULL;
}

/* Names of what we emulate, spelt as the PCI ID database spells them. */
static const struct {
	uint16_t vendor, device;
	const char *vendor_name, *device_name;
} emulated_ids[] = {
#define REDHAT	"Red Hat, Inc."
#define VIRTIO(id)	VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + (id), REDHAT
	{ PLAN_HOST_BRIDGE_VENDOR, PLAN_HOST_BRIDGE_DEVICE, REDHAT, "QEMU PCIe Host bridge" },
	{ PLAN_ROOT_PORT_VENDOR, PLAN_ROOT_PORT_DEVICE, REDHAT, "QEMU PCIe Root port" },
	{ PLAN_PCI_BRIDGE_VENDOR, PLAN_PCI_BRIDGE_DEVICE, REDHAT, "QEMU PCI-PCI bridge" },
	{ VIRTIO(VIRTIO_ID_NET), "Virtio 1.0 network device" },
	{ VIRTIO(VIRTIO_ID_BLOCK), "Virtio 1.0 block device" },
	{ VIRTIO(VIRTIO_ID_CONSOLE), "Virtio 1.0 console" },
	{ VIRTIO(VIRTIO_ID_RNG), "Virtio 1.0 RNG" },
#undef VIRTIO
#undef REDHAT
};

const char *topo_vendor_name(const struct vm_plan *plan, unsigned int i)
{
	const struct host_device *h = topo_func_host(plan, i);
	const struct pci_func *f = &plan->pci.funcs[i];
	size_t k;

	if (h)
		return h->vendor_name;
	for (k = 0; k < sizeof(emulated_ids) / sizeof(emulated_ids[0]); k++)
		if (emulated_ids[k].vendor == f->vendor)
			return emulated_ids[k].vendor_name;
	return "";
}

const char *topo_device_name(const struct vm_plan *plan, unsigned int i)
{
	const struct host_device *h = topo_func_host(plan, i);
	const struct pci_func *f = &plan->pci.funcs[i];
	size_t k;

	if (h)
		return h->device_name;
	for (k = 0; k < sizeof(emulated_ids) / sizeof(emulated_ids[0]); k++)
		if (emulated_ids[k].vendor == f->vendor &&
		    emulated_ids[k].device == f->device)
			return emulated_ids[k].device_name;
	return "";
}

char *topo_func_desc(const struct vm_plan *plan, unsigned int i, char *buf, size_t len)
{
	const struct pci_func *f = &plan->pci.funcs[i];
	const char *v = topo_vendor_name(plan, i), *d = topo_device_name(plan, i);

	/* As libpci words names it does not know. */
	if (*v && *d)
		snprintf(buf, len, "%s %s", v, d);
	else if (*v)
		snprintf(buf, len, "%s Device %04x", v, f->device);
	else
		snprintf(buf, len, "Device %04x:%04x", f->vendor, f->device);
	return buf;
}

static const struct {
	uint16_t cls;			/* base class << 8 | subclass */
	const char *name;
} class_names[] = {
	{ 0x0000, "Non-VGA unclassified device" },
	{ 0x0100, "SCSI storage controller" },
	{ 0x0101, "IDE interface" },
	{ 0x0106, "SATA controller" },
	{ 0x0107, "Serial Attached SCSI controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0180, "Mass storage controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0207, "Infiniband controller" },
	{ 0x0280, "Network controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x0380, "Display controller" },
	{ 0x0401, "Multimedia audio controller" },
	{ 0x0403, "Audio device" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0700, "Serial controller" },
	{ 0x0780, "Communication controller" },
	{ 0x0880, "System peripheral" },
	{ 0x0c03, "USB controller" },
	{ 0x1200, "Processing accelerators" },
};

char *topo_class_name(const struct vm_plan *plan, unsigned int i, char *buf, size_t len)
{
	const struct host_device *h = topo_func_host(plan, i);
	uint16_t cls = (uint16_t)(plan->pci.funcs[i].class_code >> 8);
	size_t k;

	if (h && h->class_name[0]) {
		snprintf(buf, len, "%s", h->class_name);
		return buf;
	}
	for (k = 0; k < sizeof(class_names) / sizeof(class_names[0]); k++) {
		if (class_names[k].cls == cls) {
			snprintf(buf, len, "%s", class_names[k].name);
			return buf;
		}
	}
	if ((cls >> 8) == 0x00)
		snprintf(buf, len, "Unclassified device [%04x]", cls);
	else
		snprintf(buf, len, "Class %04x", cls);
	return buf;
}

char *topo_bdf(const struct pci_func *f, char *buf, size_t len)
{
	snprintf(buf, len, "0000:%02x:%02x.%x", f->bus, f->dev, f->fn);
	return buf;
}

const char *topo_pin_name(unsigned int pin)
{
	static const char *const pins[] = { "none", "INTA", "INTB", "INTC", "INTD" };

	return pin <= 4 ? pins[pin] : "?";
}

static const struct vm_plan *sort_plan;

static int cmp_bdf(const void *a, const void *b)
{
	const struct pci_func *fa = &sort_plan->pci.funcs[*(const unsigned int *)a];
	const struct pci_func *fb = &sort_plan->pci.funcs[*(const unsigned int *)b];
	unsigned int ka = (unsigned int)fa->bus << 8 | fa->dev << 3 | fa->fn;
	unsigned int kb = (unsigned int)fb->bus << 8 | fb->dev << 3 | fb->fn;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	/* Never equal in a valid plan; keep the order of addition. */
	return *(const unsigned int *)a < *(const unsigned int *)b ? -1 : 1;
}

static void sort_funcs(const struct vm_plan *plan, unsigned int *idx, unsigned int n)
{
	sort_plan = plan;
	qsort(idx, n, sizeof(*idx), cmp_bdf);
	sort_plan = NULL;
}

unsigned int *topo_sorted_funcs(const struct vm_plan *plan)
{
	unsigned int n = plan->pci.nr_funcs, i;
	unsigned int *idx = calloc(n ? n : 1, sizeof(*idx));

	if (!idx)
		return NULL;
	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_funcs(plan, idx, n);
	return idx;
}

unsigned int topo_bus_funcs(const struct vm_plan *plan, int bus, unsigned int *out)
{
	unsigned int i, n = 0;

	for (i = 0; i < plan->pci.nr_funcs; i++)
		if (plan->pci.funcs[i].bus_req == bus)
			out[n++] = i;
	sort_funcs(plan, out, n);
	return n;
}

struct pci_window topo_win_mem32(const struct vm_plan *plan)
{
	return plan_host_window(plan, PCI_RES_MEM);
}

struct pci_window topo_win_mem64(const struct vm_plan *plan)
{
	return plan_host_window(plan, PCI_RES_PREF);
}

struct pci_window topo_win_io(const struct vm_plan *plan)
{
	return plan_host_window(plan, PCI_RES_IO);
}

static bool within(uint64_t off, uint64_t base, uint64_t size)
{
	return off >= base && off - base < size;
}

unsigned int topo_bar_traps(const struct vm_plan *plan, unsigned int i,
			    unsigned int bar, struct topo_trap *traps)
{
	const struct plan_func *pf = pfunc(plan, i);
	const struct host_device *h = topo_func_host(plan, i);
	const struct plan_pt_bar *pb;
	unsigned int k, n = 0;

	if (!pf || !h || bar >= PCI_NR_BARS)
		return 0;
	pb = &pf->pt_bars[bar];
	for (k = 0; k < pb->nr_trapped && k < PLAN_MAX_TRAPS; k++) {
		const struct addr_range *t = &pb->trapped[k];
		bool table = h->msix.present && h->msix.table_bar == bar &&
			     within(h->msix.table_offset, t->base, t->size);
		bool pba = h->msix.present && h->msix.pba_bar == bar &&
			   within(h->msix.pba_offset, t->base, t->size);

		if (!t->size)
			continue;
		traps[n].offset = t->base;
		traps[n].size = t->size;
		traps[n].what = table && pba ? "MSI-X table and PBA" :
				table ? "MSI-X table" : pba ? "MSI-X PBA" : "trapped";
		n++;
	}
	return n;	/* in offset order: the planner sorts them */
}

const char *topo_e820_key(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "ram";
	case E820_RESERVED:
		return "reserved";
	case E820_ACPI:
		return "acpi";
	case E820_NVS:
		return "nvs";
	}
	return "unknown";
}

int topo_stream_status(FILE *f)
{
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
