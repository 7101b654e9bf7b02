/*
 * plan_build(): from a machine config and host facts to the complete guest
 * layout (address map, PCI tree, legacy ports). Pure and deterministic.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/size.h"
#include "pci/bar_alloc.h"
#include "virtio/pci_layout.h"
#include "vmm/plan.h"
#include "x86/acpi.h"

#define PLAN_PAGE		SZ_4K
#define PCI_CLASS_HOST_BRIDGE	0x060000
#define PCI_CLASS_PCI_BRIDGE	0x060400
#define MSIX_ENTRY_SIZE		16

struct plan_ctx {
	const struct vm_config *cfg;
	struct vm_plan *plan;
	char *err;
	size_t errlen;
	int *bridge_func;		/* cfg->bridges[i] -> pci.funcs index */
};

static int plan_fail(struct plan_ctx *c, int line, const char *section, const char *name,
		     int ret, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "FILE:LINE: [section "name"] message". */
static int plan_fail(struct plan_ctx *c, int line, const char *section, const char *name,
		     int ret, const char *fmt, ...)
{
	const char *file = c->cfg->file ? c->cfg->file : "(machine)";
	va_list ap;
	int n;

	if (line > 0)
		n = snprintf(c->err, c->errlen, "%s:%d: ", file, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", file);
	if (n >= 0 && (size_t)n < c->errlen && section) {
		if (name)
			n += snprintf(c->err + n, c->errlen - n, "[%s \"%s\"] ", section, name);
		else
			n += snprintf(c->err + n, c->errlen - n, "[%s] ", section);
	}
	if (n < 0 || (size_t)n >= c->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return ret;
}

static int dev_fail(struct plan_ctx *c, const struct device_config *d, int line, int ret,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int dev_fail(struct plan_ctx *c, const struct device_config *d, int line, int ret,
		    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return plan_fail(c, line > 0 ? line : d->line, "device", d->name, ret, "%s", msg);
}

/* The smallest power of two >= v (v >= 1); false past 2^63. */
static bool pow2_roundup(uint64_t v, uint64_t *out)
{
	uint64_t p = 1;

	if (v > (1ULL << 63))
		return false;
	while (p < v)
		p <<= 1;
	*out = p;
	return true;
}

/* Placement line: the first key that placed it, else the section header. */
static int placement_line(const struct placement *at, int section_line)
{
	if (at->slot_line > 0)
		return at->slot_line;
	if (at->function_line > 0)
		return at->function_line;
	if (at->bus_line > 0)
		return at->bus_line;
	return section_line;
}

/* The bus index a placement names. */
static int resolve_bus(struct plan_ctx *c, const struct placement *at, int *bus)
{
	int fi;

	if (at->bus < 0) {
		*bus = 0;
		return 0;
	}
	if ((unsigned int)at->bus >= c->cfg->nr_bridges)
		return -EINVAL;
	fi = c->bridge_func[at->bus];
	*bus = c->plan->pci.funcs[fi].child_bus;
	return 0;
}

static void func_req_init(struct pci_func *req, enum pci_func_kind kind, const char *name,
			  int owner, const struct placement *at)
{
	memset(req, 0, sizeof(*req));
	req->kind = kind;
	req->name = name;
	req->owner = owner;
	req->slot_req = at->slot;
	req->fn_req = at->function;
}

static int add_bridges(struct plan_ctx *c)
{
	const struct vm_config *cfg = c->cfg;
	struct pci_topology *t = &c->plan->pci;
	struct pci_func req;
	unsigned int i;
	int idx, bus;

	for (i = 0; i < cfg->nr_bridges; i++) {
		const struct bridge_config *b = &cfg->bridges[i];
		bool rp = b->kind == BRIDGE_ROOT_PORT;

		func_req_init(&req, rp ? PCI_FUNC_ROOT_PORT : PCI_FUNC_PCI_BRIDGE, b->name,
			      (int)i, &b->at);
		req.vendor = rp ? PLAN_ROOT_PORT_VENDOR : PLAN_PCI_BRIDGE_VENDOR;
		req.device = rp ? PLAN_ROOT_PORT_DEVICE : PLAN_PCI_BRIDGE_DEVICE;
		req.class_code = PCI_CLASS_PCI_BRIDGE;
		/* A root port's PME and hot-plug events would arrive by MSI. */
		req.msi_vectors = rp ? 1 : 0;
		idx = pci_topo_add_bridge(t, &req);
		if (idx < 0)
			return plan_fail(c, 0, NULL, NULL, idx, "out of memory");
		c->bridge_func[i] = idx;
	}
	/* Bridges may sit behind bridges named later in the file. */
	for (i = 0; i < cfg->nr_bridges; i++) {
		const struct bridge_config *b = &cfg->bridges[i];

		if (resolve_bus(c, &b->at, &bus))
			return plan_fail(c, b->at.bus_line > 0 ? b->at.bus_line : b->line,
					 "pci", b->name, -EINVAL, "bus: no such bridge (index %d)",
					 b->at.bus);
		t->funcs[c->bridge_func[i]].bus_req = bus;
	}
	return 0;
}

static uint32_t fnv1a(uint32_t h, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static bool mac_in_use(struct plan_ctx *c, unsigned int upto, const uint8_t *mac)
{
	const struct vm_config *cfg = c->cfg;
	unsigned int i;

	for (i = 0; i < cfg->nr_devices; i++) {
		const struct device_config *d = &cfg->devices[i];
		const uint8_t *m;

		if (d->kind != DEV_VIRTIO_NET)
			continue;
		if (d->net.mac_set)
			m = d->net.mac;
		else if (i < upto)
			m = c->plan->funcs[1 + cfg->nr_bridges + i].mac;
		else
			continue;
		if (!memcmp(m, mac, 6))
			return true;
	}
	return false;
}

/*
 * 52:54:00:xx:xx:xx (locally administered, unicast) from a hash of the
 * machine and device names; rehashed while another NIC of the machine has it.
 */
static void derive_mac(struct plan_ctx *c, unsigned int dev, uint8_t *mac)
{
	const char *mname = c->cfg->machine.name ? c->cfg->machine.name : "";
	const char *dname = c->cfg->devices[dev].name ? c->cfg->devices[dev].name : "";
	uint32_t h = 2166136261u;
	unsigned int round;
	char r;

	h = fnv1a(h, mname, strlen(mname) + 1);
	h = fnv1a(h, dname, strlen(dname));
	for (round = 0; round < 256; round++) {
		mac[0] = 0x52;
		mac[1] = 0x54;
		mac[2] = 0x00;
		mac[3] = (uint8_t)(h >> 16);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
		if (!mac_in_use(c, dev, mac))
			return;
		r = (char)round;
		h = fnv1a(h, &r, 1);
	}
}

static int plan_virtio(struct plan_ctx *c, unsigned int i, struct pci_func *req,
		       struct plan_func *pf)
{
	const struct device_config *d = &c->cfg->devices[i];
	unsigned int queues, id;

	switch (d->kind) {
	case DEV_VIRTIO_BLK:
		id = VIRTIO_ID_BLOCK;
		req->class_code = 0x018000;
		queues = d->blk.queues ? d->blk.queues : c->cfg->machine.cpus;
		if (!queues)
			queues = 1;
		break;
	case DEV_VIRTIO_NET:
		id = VIRTIO_ID_NET;
		req->class_code = 0x020000;
		queues = 2;		/* receive, transmit */
		if (d->net.mac_set)
			memcpy(pf->mac, d->net.mac, 6);
		else
			derive_mac(c, i, pf->mac);
		break;
	case DEV_VIRTIO_CONSOLE:
		id = VIRTIO_ID_CONSOLE;
		req->class_code = 0x078000;
		queues = 2;		/* port 0 receive, transmit */
		break;
	case DEV_VIRTIO_RNG:
		id = VIRTIO_ID_RNG;
		req->class_code = 0x00ff00;
		queues = 1;
		break;
	default:
		return dev_fail(c, d, 0, -EINVAL, "type: unknown device kind %d", d->kind);
	}
	/* One MSI-X vector per queue and one for configuration changes. */
	if (queues + 1 > VIRTIO_PCI_MAX_VECTORS || queues > VIRTIO_PCI_MAX_QUEUES)
		return dev_fail(c, d, 0, -EINVAL, "queues: %u is too many (at most %u)",
				queues, VIRTIO_PCI_MAX_VECTORS - 1);
	req->vendor = VIRTIO_PCI_VENDOR;
	req->device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + id);
	req->subsys_vendor = VIRTIO_PCI_VENDOR;
	req->subsys_device = VIRTIO_PCI_SUBSYS_DEVICE;
	req->revision = VIRTIO_PCI_REVISION;
	req->intx_pin = 1;
	req->msix_vectors = queues + 1;
	req->bars[VIRTIO_PCI_BAR].type = PCI_BAR_MEM64;
	req->bars[VIRTIO_PCI_BAR].prefetchable = false;
	req->bars[VIRTIO_PCI_BAR].size = VIRTIO_PCI_BAR_SIZE;
	pf->virtio_queues = queues;
	return 0;
}

/* Add [off, off + len) of a BAR, page aligned, to its trapped ranges. */
static int trap_range(struct plan_pt_bar *pt, uint64_t bar_size, uint64_t off, uint64_t len)
{
	uint64_t start = off & ~(PLAN_PAGE - 1), end;
	struct addr_range *r;
	unsigned int k;

	if (__builtin_add_overflow(off, len, &end) ||
	    __builtin_add_overflow(end, PLAN_PAGE - 1, &end))
		return -ERANGE;
	end &= ~(PLAN_PAGE - 1);
	if (end > bar_size)
		return -ERANGE;
	for (k = 0; k < pt->nr_trapped; k++) {
		r = &pt->trapped[k];
		if (start <= r->base + r->size && r->base <= end) {
			uint64_t lo = start < r->base ? start : r->base;
			uint64_t hi = end > r->base + r->size ? end : r->base + r->size;

			r->base = lo;
			r->size = hi - lo;
			return 0;
		}
	}
	if (pt->nr_trapped >= PLAN_MAX_TRAPS)
		return -ENOSPC;
	r = &pt->trapped[pt->nr_trapped++];
	r->base = start;
	r->size = end - start;
	/* Keep them in offset order. */
	if (pt->nr_trapped == 2 && pt->trapped[1].base < pt->trapped[0].base) {
		struct addr_range tmp = pt->trapped[0];

		pt->trapped[0] = pt->trapped[1];
		pt->trapped[1] = tmp;
	}
	return 0;
}

static int plan_rom(struct plan_ctx *c, const struct device_config *d,
		    const struct host_device *h, struct pci_func *req)
{
	uint64_t size = 0;
	struct stat st;
	char sz[32];

	switch (d->vfio.rom) {
	case ROM_OFF:
		return 0;
	case ROM_AUTO:
		size = h->rom_size;
		break;
	case ROM_FILE:
		if (!d->vfio.rom_file)
			return dev_fail(c, d, d->vfio.rom_line, -EINVAL, "rom: no file named");
		if (stat(d->vfio.rom_file, &st)) {
			int e = errno;

			return dev_fail(c, d, d->vfio.rom_line, -e, "rom: cannot use %s: %s",
					d->vfio.rom_file, strerror(e));
		}
		if (!S_ISREG(st.st_mode))
			return dev_fail(c, d, d->vfio.rom_line, -EINVAL,
					"rom: %s is not a regular file", d->vfio.rom_file);
		if (!st.st_size)
			return dev_fail(c, d, d->vfio.rom_line, -EINVAL,
					"rom: %s is empty", d->vfio.rom_file);
		size = (uint64_t)st.st_size;
		break;
	}
	if (!size)
		return 0;
	/* A ROM BAR's address field is bits 31:11: at most 2 GiB. */
	if (!pow2_roundup(size, &size) || size > 0x80000000ULL)
		return dev_fail(c, d, d->vfio.rom_line, -EINVAL, "rom: %s is too large for a ROM BAR",
				size_str(size, sz, sizeof(sz)));
	req->rom.type = PCI_BAR_MEM32;
	req->rom.size = size < PLAN_PAGE ? PLAN_PAGE : size;
	return 0;
}

static int plan_vfio(struct plan_ctx *c, struct host_inventory *inv, unsigned int i,
		     struct pci_func *req, struct plan_func *pf)
{
	const struct device_config *d = &c->cfg->devices[i];
	struct host_device *h = &c->plan->hosts[i];
	char bdf[PCI_BDF_STRLEN];
	int ret, b;

	pci_bdf_format(&d->vfio.host, bdf, sizeof(bdf));
	ret = inv ? host_device_read(inv, &d->vfio.host, h) : -ENOENT;
	if (ret == -ENOENT)
		return dev_fail(c, d, d->vfio.host_line, ret, "host: %s not found on this host",
				bdf);
	if (ret)
		return dev_fail(c, d, d->vfio.host_line, ret, "host: %s: cannot read it: %s",
				bdf, strerror(-ret));
	pf->host = h;
	req->vendor = h->vendor;
	req->device = h->device;
	req->subsys_vendor = h->subsys_vendor;
	req->subsys_device = h->subsys_device;
	req->class_code = h->class_code & 0xffffff;
	req->revision = h->revision;
	req->intx_pin = h->intx_pin <= 4 ? h->intx_pin : 0;
	req->msi_vectors = h->msi.present ? h->msi.vectors : 0;
	req->msix_vectors = h->msix.present ? h->msix.table_size : 0;

	for (b = 0; b < PCI_NR_BARS; b++) {
		const struct host_bar *hb = &h->bars[b];
		struct pci_bar *gb = &req->bars[b];
		uint64_t size;
		char sz[32];

		if (hb->kind == HOST_BAR_NONE || !hb->size)
			continue;
		if (!pow2_roundup(hb->size, &size))
			return dev_fail(c, d, d->vfio.host_line, -EINVAL,
					"host: %s BAR%d: %s is too large", bdf, b,
					size_str(hb->size, sz, sizeof(sz)));
		switch (hb->kind) {
		case HOST_BAR_IO:
			gb->type = PCI_BAR_IO;
			break;
		case HOST_BAR_MEM32:
			gb->type = PCI_BAR_MEM32;
			break;
		case HOST_BAR_MEM64:
			if (b == PCI_NR_BARS - 1 || h->bars[b + 1].kind != HOST_BAR_NONE)
				return dev_fail(c, d, d->vfio.host_line, -EINVAL,
						"host: %s BAR%d is 64-bit but BAR%d is not its upper half",
						bdf, b, b + 1);
			gb->type = PCI_BAR_MEM64;
			break;
		default:
			continue;
		}
		/* Memory BARs are mapped into the guest: at least a page. */
		if (gb->type != PCI_BAR_IO && size < PLAN_PAGE)
			size = PLAN_PAGE;
		gb->size = size;
		gb->prefetchable = hb->kind != HOST_BAR_IO && hb->prefetchable;
		pf->pt_bars[b].host_addr = hb->addr;
		pf->pt_bars[b].host_size = hb->size;
	}

	if (h->msix.present && h->msix.table_size) {
		const struct host_msix *m = &h->msix;
		uint64_t pba_len = ((uint64_t)m->table_size + 63) / 64 * 8;

		if (m->table_bar >= PCI_NR_BARS || req->bars[m->table_bar].type == PCI_BAR_UNUSED ||
		    req->bars[m->table_bar].type == PCI_BAR_IO ||
		    trap_range(&pf->pt_bars[m->table_bar], req->bars[m->table_bar].size,
			       m->table_offset, (uint64_t)m->table_size * MSIX_ENTRY_SIZE))
			return dev_fail(c, d, d->vfio.host_line, -EINVAL,
					"host: %s: the MSI-X table (BAR%u offset 0x%x, %u entries) lies outside its memory BAR",
					bdf, m->table_bar, m->table_offset, m->table_size);
		if (m->pba_bar >= PCI_NR_BARS || req->bars[m->pba_bar].type == PCI_BAR_UNUSED ||
		    req->bars[m->pba_bar].type == PCI_BAR_IO ||
		    trap_range(&pf->pt_bars[m->pba_bar], req->bars[m->pba_bar].size,
			       m->pba_offset, pba_len))
			return dev_fail(c, d, d->vfio.host_line, -EINVAL,
					"host: %s: the MSI-X PBA (BAR%u offset 0x%x) lies outside its memory BAR",
					bdf, m->pba_bar, m->pba_offset);
	}
	return plan_rom(c, d, h, req);
}

static int add_devices(struct plan_ctx *c, struct host_inventory *inv)
{
	const struct vm_config *cfg = c->cfg;
	struct vm_plan *plan = c->plan;
	struct pci_func req;
	unsigned int i;
	int idx, bus, ret;

	for (i = 0; i < cfg->nr_devices; i++) {
		const struct device_config *d = &cfg->devices[i];
		struct plan_func *pf = &plan->funcs[1 + cfg->nr_bridges + i];

		func_req_init(&req, PCI_FUNC_ENDPOINT, d->name, (int)i, &d->at);
		pf->role = PLAN_ROLE_DEVICE;
		pf->index = (int)i;
		if (resolve_bus(c, &d->at, &bus))
			return dev_fail(c, d, d->at.bus_line, -EINVAL,
					"bus: no such bridge (index %d)", d->at.bus);
		req.bus_req = bus;
		if (d->kind == DEV_VFIO)
			ret = plan_vfio(c, inv, i, &req, pf);
		else
			ret = plan_virtio(c, i, &req, pf);
		if (ret)
			return ret;
		idx = pci_topo_add_func(&plan->pci, &req);
		if (idx < 0)
			return plan_fail(c, 0, NULL, NULL, idx, "out of memory");
	}
	return 0;
}

static int legacy_cmp(const void *pa, const void *pb)
{
	const struct plan_legacy *a = pa, *b = pb;

	return (int)a->port - (int)b->port;
}

static void legacy_add(struct vm_plan *plan, const char *name, uint16_t port,
		       uint16_t len, int irq, int serial)
{
	struct plan_legacy *l;

	if (plan->nr_legacy >= PLAN_MAX_LEGACY)
		return;
	l = &plan->legacy[plan->nr_legacy++];
	l->name = name;
	l->port = port;
	l->len = len;
	l->irq = irq;
	l->serial = serial;
}

static void add_legacy(struct vm_plan *plan, const struct vm_config *cfg)
{
	static const uint16_t com_port[CFG_MAX_SERIALS] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	static const int com_irq[CFG_MAX_SERIALS] = { 4, 3, 4, 3 };
	unsigned int i;

	for (i = 0; i < cfg->nr_serials && i < CFG_MAX_SERIALS; i++) {
		unsigned int com = cfg->serials[i].index;

		if (com < CFG_MAX_SERIALS)
			legacy_add(plan, "serial", com_port[com], 8, com_irq[com], (int)i);
	}
	legacy_add(plan, "keyboard", 0x60, 1, 1, -1);
	legacy_add(plan, "keyboard", 0x64, 1, 1, -1);
	legacy_add(plan, "rtc0", 0x70, 2, 8, -1);
	legacy_add(plan, "PCI conf1", 0xcf8, 8, -1, -1);
	/* The FADT's fixed-hardware blocks; Linux claims them under these names. */
	legacy_add(plan, "ACPI PM1a_EVT_BLK", ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN, -1, -1);
	legacy_add(plan, "ACPI PM1a_CNT_BLK", ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN, -1, -1);
	qsort(plan->legacy, plan->nr_legacy, sizeof(plan->legacy[0]), legacy_cmp);
}

/* A failure of pci_topo_assign(), told against the machine file. */
static int topo_error(struct plan_ctx *c, int ret, const char *msg)
{
	const struct pci_topo_error *e = &c->plan->pci.error;
	const struct x86_layout *l = &c->plan->layout;
	const struct plan_func *pf;
	const char *section = NULL, *name = NULL, *rest = msg;
	const struct placement *at = NULL;
	char hint[160] = "", sz[32];
	size_t nlen;
	int line = 0;

	if (e->func >= 0 && (unsigned int)e->func < c->plan->pci.nr_funcs) {
		pf = &c->plan->funcs[e->func];
		if (pf->role == PLAN_ROLE_BRIDGE) {
			const struct bridge_config *b = &c->cfg->bridges[pf->index];

			section = "pci";
			name = b->name;
			line = b->line;
			at = &b->at;
		} else if (pf->role == PLAN_ROLE_DEVICE) {
			const struct device_config *d = &c->cfg->devices[pf->index];

			section = "device";
			name = d->name;
			line = d->line;
			at = &d->at;
		}
		if (at && e->bar < 0)
			line = placement_line(at, line);
		/* Drop the '"name": ' that the section header now says. */
		nlen = name ? strlen(name) : 0;
		if (name && msg[0] == '"' && !strncmp(msg + 1, name, nlen) &&
		    !strncmp(msg + 1 + nlen, "\": ", 3))
			rest = msg + nlen + 4;
	}
	if (ret == -ENOSPC && e->res == PCI_RES_PREF && l->phys_bits < X86_MAX_PHYS_BITS &&
	    (!l->mmio64.size || l->mmio64.base + l->mmio64.size == 1ULL << l->phys_bits))
		snprintf(hint, sizeof(hint),
			 "; phys-bits = %u gives the guest %s of physical address space",
			 l->phys_bits, size_str(1ULL << l->phys_bits, sz, sizeof(sz)));
	return plan_fail(c, line, section, name, ret, "%s%s", rest, hint);
}

/* Buses 0 .. the highest number assigned: the range the ECAM must reach. */
static unsigned int plan_bus_count(const struct pci_topology *t)
{
	unsigned int last = 0;

	for (unsigned int i = 0; i < t->nr_buses; i++) {
		if (t->buses[i].number > last)
			last = t->buses[i].number;
	}
	return last + 1;
}

int plan_build(const struct vm_config *cfg, struct host_inventory *inv,
	       struct vm_plan *plan, char *err, size_t errlen)
{
	struct plan_ctx c = { .cfg = cfg, .plan = plan, .err = err, .errlen = errlen };
	struct pci_topology *t = &plan->pci;
	char msg[512];
	unsigned int i, nf;
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->cfg = cfg;
	if (errlen)
		err[0] = '\0';

	ret = x86_layout_plan(cfg->machine.memory, cfg->machine.phys_bits, &plan->layout,
			      msg, sizeof(msg));
	if (ret)
		return plan_fail(&c, cfg->machine.line, "machine", NULL, ret, "%s", msg);

	ret = pci_topo_init(t);
	if (ret)
		return plan_fail(&c, 0, NULL, NULL, ret, "out of memory");
	t->funcs[0].vendor = PLAN_HOST_BRIDGE_VENDOR;
	t->funcs[0].device = PLAN_HOST_BRIDGE_DEVICE;
	t->funcs[0].class_code = PCI_CLASS_HOST_BRIDGE;
	t->host.io.base = plan->layout.pci_io.base;
	t->host.io.size = plan->layout.pci_io.size;
	t->host.mem32.base = plan->layout.mmio32.base;
	t->host.mem32.size = plan->layout.mmio32.size;
	t->host.mem64.base = plan->layout.mmio64.base;
	t->host.mem64.size = plan->layout.mmio64.size;

	nf = 1 + cfg->nr_bridges + cfg->nr_devices;
	plan->funcs = calloc(nf, sizeof(*plan->funcs));
	plan->hosts = calloc(cfg->nr_devices ? cfg->nr_devices : 1, sizeof(*plan->hosts));
	c.bridge_func = calloc(cfg->nr_bridges ? cfg->nr_bridges : 1, sizeof(*c.bridge_func));
	if (!plan->funcs || !plan->hosts || !c.bridge_func) {
		ret = plan_fail(&c, 0, NULL, NULL, -ENOMEM, "out of memory");
		goto fail;
	}
	plan->funcs[0].role = PLAN_ROLE_HOST_BRIDGE;
	plan->funcs[0].index = -1;
	for (i = 0; i < cfg->nr_bridges; i++) {
		plan->funcs[1 + i].role = PLAN_ROLE_BRIDGE;
		plan->funcs[1 + i].index = (int)i;
	}

	ret = add_bridges(&c);
	if (!ret)
		ret = add_devices(&c, inv);
	if (ret)
		goto fail;
	add_legacy(plan, cfg);

	ret = pci_topo_assign(t, x86_pci_intx_gsi, msg, sizeof(msg));
	if (ret) {
		topo_error(&c, ret, msg);
		goto fail;
	}
	x86_layout_set_ecam_buses(&plan->layout, plan_bus_count(t));
	free(c.bridge_func);
	return 0;
fail:
	free(c.bridge_func);
	plan_free(plan);
	return ret;
}

void plan_free(struct vm_plan *plan)
{
	pci_topo_free(&plan->pci);
	free(plan->funcs);
	free(plan->hosts);
	memset(plan, 0, sizeof(*plan));
}

const struct pci_func *plan_device_func(const struct vm_plan *plan, int index)
{
	unsigned int fi;

	if (!plan->cfg || index < 0 || (unsigned int)index >= plan->cfg->nr_devices)
		return NULL;
	fi = 1 + plan->cfg->nr_bridges + (unsigned int)index;
	if (fi >= plan->pci.nr_funcs || plan->funcs[fi].role != PLAN_ROLE_DEVICE)
		return NULL;
	return &plan->pci.funcs[fi];
}

const struct pci_func *plan_bridge_func(const struct vm_plan *plan, int index)
{
	unsigned int fi;

	if (!plan->cfg || index < 0 || (unsigned int)index >= plan->cfg->nr_bridges)
		return NULL;
	fi = 1 + (unsigned int)index;
	if (fi >= plan->pci.nr_funcs || plan->funcs[fi].role != PLAN_ROLE_BRIDGE)
		return NULL;
	return &plan->pci.funcs[fi];
}

struct pci_window plan_host_window(const struct vm_plan *plan, enum pci_res_kind res)
{
	const struct pci_window *w;
	const struct addr_range *r;
	struct pci_window out;

	switch (res) {
	case PCI_RES_IO:
		w = &plan->pci.host.io;
		r = &plan->layout.pci_io;
		break;
	case PCI_RES_PREF:
		w = &plan->pci.host.mem64;
		r = &plan->layout.mmio64;
		break;
	default:
		w = &plan->pci.host.mem32;
		r = &plan->layout.mmio32;
		break;
	}
	if (w->size)
		return *w;
	out.base = r->base;
	out.size = r->size;
	return out;
}
