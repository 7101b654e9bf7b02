/*
 * Interim PCI root complex of a machine: the host bridge, root ports and
 * PCI-PCI bridges from the plan, their config space behind CF8/CFC and ECAM,
 * routed by the bus numbers the guest programs. To be replaced by src/pci's
 * config-space model.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "vmm/machine.h"

#define CFG_SIZE	4096

struct pci_fn {
	uint8_t cfg[CFG_SIZE];
	uint8_t wmask[CFG_SIZE];
	uint8_t w1c[CFG_SIZE];
	bool bridge;
	int child;			/* bus node index, bridges only */
};

struct pci_busn {
	struct pci_fn *fns[256];	/* by devfn */
};

struct pci_root {
	pthread_mutex_t lock;
	uint32_t cf8;
	struct pci_busn *buses;
	unsigned int nr_buses;
	struct pci_fn *fns;
	unsigned int nr_fns;
};

static void put16(uint8_t *p, unsigned int off, uint16_t v)
{
	p[off] = v & 0xff;
	p[off + 1] = v >> 8;
}

static void put32(uint8_t *p, unsigned int off, uint32_t v)
{
	put16(p, off, v & 0xffff);
	put16(p, off + 2, v >> 16);
}

static void wmask_range(struct pci_fn *f, unsigned int off, unsigned int len, uint8_t m)
{
	memset(f->wmask + off, m, len);
}

static void fn_common(struct pci_fn *f, const struct pci_func *pf, uint8_t type)
{
	put16(f->cfg, 0x00, pf->vendor);
	put16(f->cfg, 0x02, pf->device);
	f->cfg[0x08] = pf->revision;
	f->cfg[0x09] = pf->class_code & 0xff;
	put16(f->cfg, 0x0a, (uint16_t)(pf->class_code >> 8));
	f->cfg[0x0e] = type | (pf->multifunction ? 0x80 : 0);
	put16(f->wmask, 0x04, 0x0547);	/* IO, MEM, master, parity, SERR, INTx disable */
	put16(f->w1c, 0x06, 0xf900);	/* error bits */
	f->wmask[0x0c] = 0xff;		/* cache line size */
	f->wmask[0x0d] = 0xff;		/* latency timer */
	f->wmask[0x3c] = 0xff;		/* interrupt line */
	f->cfg[0x3d] = pf->intx_pin;
	f->cfg[0x3c] = pf->intx_pin ? (uint8_t)pf->gsi : 0;
}

/* A bridge's windows as firmware leaves them; closed ones as base > limit. */
static void fn_bridge(struct pci_fn *f, const struct pci_func *pf)
{
	uint64_t b, l;

	f->bridge = true;
	f->cfg[0x18] = 0;		/* primary: fixed up below for nested bridges */
	f->cfg[0x19] = pf->secondary;
	f->cfg[0x1a] = pf->subordinate;
	wmask_range(f, 0x18, 4, 0xff);
	if (pf->io.size) {
		b = pf->io.base;
		l = pf->io.base + pf->io.size - 1;
	} else {
		b = 0xf000;
		l = 0;
	}
	f->cfg[0x1c] = ((b >> 8) & 0xf0) | 0x01;
	f->cfg[0x1d] = ((l >> 8) & 0xf0) | 0x01;
	put16(f->cfg, 0x30, (uint16_t)(b >> 16));
	put16(f->cfg, 0x32, (uint16_t)(l >> 16));
	f->wmask[0x1c] = f->wmask[0x1d] = 0xf0;
	wmask_range(f, 0x30, 4, 0xff);
	put16(f->w1c, 0x1e, 0xf900);
	if (pf->mem.size) {
		b = pf->mem.base;
		l = pf->mem.base + pf->mem.size - 1;
	} else {
		b = 0xfff00000;
		l = 0;
	}
	put16(f->cfg, 0x20, (b >> 16) & 0xfff0);
	put16(f->cfg, 0x22, (l >> 16) & 0xfff0);
	put16(f->wmask, 0x20, 0xfff0);
	put16(f->wmask, 0x22, 0xfff0);
	if (pf->pref.size) {
		b = pf->pref.base;
		l = pf->pref.base + pf->pref.size - 1;
	} else {
		b = 0xfff00000;
		l = 0;
	}
	put16(f->cfg, 0x24, ((b >> 16) & 0xfff0) | 1);
	put16(f->cfg, 0x26, ((l >> 16) & 0xfff0) | 1);
	put32(f->cfg, 0x28, (uint32_t)(b >> 32));
	put32(f->cfg, 0x2c, (uint32_t)(l >> 32));
	put16(f->wmask, 0x24, 0xfff0);
	put16(f->wmask, 0x26, 0xfff0);
	wmask_range(f, 0x28, 8, 0xff);
	put16(f->wmask, 0x3e, 0x0fff);	/* bridge control */
}

/* PCIe root port: PCIe capability (v2, x1 link up), MSI that never fires. */
static void fn_root_port(struct pci_fn *f, unsigned int port)
{
	put16(f->cfg, 0x06, 0x0010);	/* capability list */
	f->cfg[0x34] = 0x40;
	f->cfg[0x40] = 0x10;
	f->cfg[0x41] = 0x80;
	put16(f->cfg, 0x42, 0x0042);	/* version 2, root port */
	put32(f->cfg, 0x4c, (port << 24) | (1 << 20) | (1 << 4) | 1);	/* x1 2.5GT/s, DLLLA */
	put16(f->cfg, 0x52, (1 << 13) | (1 << 4) | 1);	/* link up, x1, 2.5GT/s */
	put16(f->wmask, 0x48, 0xffff);	/* device control */
	put16(f->w1c, 0x4a, 0x000f);	/* device status */
	put16(f->wmask, 0x50, 0x0fff);	/* link control */
	put16(f->wmask, 0x5c, 0x001f);	/* root control */
	put32(f->w1c, 0x60, 0x00010000);	/* root status: PME status */
	put16(f->wmask, 0x68, 0xffff);	/* device control 2 */
	put16(f->wmask, 0x70, 0xffff);	/* link control 2 */
	f->cfg[0x80] = 0x05;		/* MSI, 64-bit, one vector */
	f->cfg[0x81] = 0;
	put16(f->cfg, 0x82, 0x0080);
	put16(f->wmask, 0x82, 0x0001);
	put32(f->wmask, 0x84, 0xfffffffc);
	put32(f->wmask, 0x88, 0xffffffff);
	put16(f->wmask, 0x8c, 0xffff);
}

static struct pci_fn *pci_lookup(struct pci_root *r, unsigned int bus, unsigned int devfn)
{
	struct pci_busn *node = &r->buses[0];
	unsigned int cur = 0;

	for (unsigned int depth = 0; depth < 256; depth++) {
		struct pci_fn *next = NULL;

		if (bus == cur)
			return node->fns[devfn];
		for (unsigned int i = 0; i < 256 && !next; i++) {
			struct pci_fn *f = node->fns[i];

			if (f && f->bridge && f->cfg[0x19] > cur &&
			    f->cfg[0x19] <= bus && bus <= f->cfg[0x1a])
				next = f;
		}
		if (!next)
			return NULL;
		cur = next->cfg[0x19];
		node = &r->buses[next->child];
	}
	return NULL;
}

static uint32_t cfg_read(struct pci_root *r, unsigned int bus, unsigned int devfn,
			 unsigned int reg, unsigned int len)
{
	struct pci_fn *f = pci_lookup(r, bus, devfn);
	uint32_t v = 0;

	if (!f || reg + len > CFG_SIZE)
		return len == 4 ? 0xffffffff : (1U << (len * 8)) - 1;
	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)f->cfg[reg + i] << (i * 8);
	return v;
}

static void cfg_write(struct pci_root *r, unsigned int bus, unsigned int devfn,
		      unsigned int reg, unsigned int len, uint32_t v)
{
	struct pci_fn *f = pci_lookup(r, bus, devfn);

	if (!f || reg + len > CFG_SIZE)
		return;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t b = (v >> (i * 8)) & 0xff, m = f->wmask[reg + i];

		f->cfg[reg + i] = (f->cfg[reg + i] & ~m) | (b & m);
		f->cfg[reg + i] &= ~(b & f->w1c[reg + i]);
	}
}

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned int len)
{
	struct pci_root *r = opaque;
	uint32_t v = 0xffffffff, a;

	pthread_mutex_lock(&r->lock);
	a = r->cf8;
	if (off == 0 && len == 4) {
		v = a;
	} else if (off >= 4 && off + len <= 8 && (a & 0x80000000)) {
		unsigned int reg = (a & 0xfc) | ((a >> 16) & 0xf00) | (unsigned int)(off - 4);

		v = cfg_read(r, (a >> 16) & 0xff, (a >> 8) & 0xff, reg, len);
	} else if (len < 4) {
		v = (1U << (len * 8)) - 1;
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void cf8_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	struct pci_root *r = opaque;
	uint32_t a;

	pthread_mutex_lock(&r->lock);
	a = r->cf8;
	if (off == 0 && len == 4) {
		r->cf8 = (uint32_t)val;
	} else if (off >= 4 && off + len <= 8 && (a & 0x80000000)) {
		unsigned int reg = (a & 0xfc) | ((a >> 16) & 0xf00) | (unsigned int)(off - 4);

		cfg_write(r, (a >> 16) & 0xff, (a >> 8) & 0xff, reg, len, (uint32_t)val);
	}
	pthread_mutex_unlock(&r->lock);
}

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned int len)
{
	struct pci_root *r = opaque;
	uint64_t v;

	if (len == 8)
		return ecam_read(opaque, off, 4) | ecam_read(opaque, off + 4, 4) << 32;
	pthread_mutex_lock(&r->lock);
	v = cfg_read(r, (off >> 20) & 0xff, (off >> 12) & 0xff, off & 0xfff, len);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	struct pci_root *r = opaque;

	if (len == 8) {
		ecam_write(opaque, off, val & 0xffffffff, 4);
		ecam_write(opaque, off + 4, val >> 32, 4);
		return;
	}
	pthread_mutex_lock(&r->lock);
	cfg_write(r, (off >> 20) & 0xff, (off >> 12) & 0xff, off & 0xfff, len, (uint32_t)val);
	pthread_mutex_unlock(&r->lock);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct io_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

int machine_pci_create(struct machine *m, char *err, size_t errlen)
{
	const struct pci_topology *t = &m->plan->pci;
	struct pci_root *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		goto nomem;
	m->pci = r;
	pthread_mutex_init(&r->lock, NULL);
	r->buses = calloc(t->nr_buses, sizeof(*r->buses));
	r->fns = calloc(t->nr_funcs, sizeof(*r->fns));
	if (!r->buses || !r->fns)
		goto nomem;
	r->nr_buses = t->nr_buses;
	r->nr_fns = t->nr_funcs;
	for (unsigned int i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *pf = &t->funcs[i];
		struct pci_fn *f = &r->fns[i];
		unsigned int devfn = (unsigned int)pf->dev << 3 | pf->fn;

		switch (pf->kind) {
		case PCI_FUNC_HOST_BRIDGE:
			fn_common(f, pf, 0);
			break;
		case PCI_FUNC_ROOT_PORT:
			fn_common(f, pf, 1);
			fn_bridge(f, pf);
			fn_root_port(f, pf->dev);
			break;
		case PCI_FUNC_PCI_BRIDGE:
			fn_common(f, pf, 1);
			fn_bridge(f, pf);
			break;
		default:
			snprintf(err, errlen, "PCI function %s: not implemented", pf->name);
			return -ENOTSUP;
		}
		f->child = pf->child_bus;
		if (pf->bus_req >= 0 && (unsigned int)pf->bus_req < t->nr_buses) {
			r->buses[pf->bus_req].fns[devfn] = f;
			f->cfg[0x18] = t->buses[pf->bus_req].number;
		}
	}
	ret = io_bus_register(&m->vm.bus, IO_SPACE_PIO, 0xcf8, 8, &cf8_ops, r, "PCI conf1");
	if (!ret)
		ret = io_bus_register(&m->vm.bus, IO_SPACE_MMIO, m->plan->layout.ecam.base,
				      m->plan->layout.ecam.size, &ecam_ops, r, "PCI ECAM");
	if (ret) {
		snprintf(err, errlen, "PCI config space: %s", strerror(-ret));
		return ret;
	}
	/*
	 * Writes to the address latch need no exit: firmware-style scans
	 * (Linux's AGP aperture search probes 8192 addresses on AMD) then
	 * cost one exit per probe instead of two.
	 */
	if (kvm_coalesce(&m->vm.kvm, 0xcf8, 4, 1) < 0)
		pr_debug("coalesced PIO not available: every 0xcf8 write exits");
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void machine_pci_destroy(struct machine *m)
{
	struct pci_root *r = m->pci;

	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->buses);
	free(r->fns);
	free(r);
	m->pci = NULL;
}
