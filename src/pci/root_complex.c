/* Config routing through the bridges; CF8/CFC and ECAM decoding. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pci/config_space.h"
#include "pci/root_complex.h"

#define DEVFNS		256

struct root_fn {
	struct pci_config_space *cfg;	/* the VMM's own functions */
	const struct pci_cfg_ops *ops;	/* attached endpoints */
	void *opaque;
	int child;			/* bridges: the bus node they open, else -1 */
};

struct bus_node {
	struct root_fn *fns[DEVFNS];
};

struct pci_root {
	pthread_mutex_t lock;		/* the CF8 latch and every config access */
	uint32_t conf1_addr;
	uint64_t ecam_base;
	const struct pci_topology *topo;
	struct root_fn *fns;		/* parallel to topo->funcs */
	struct bus_node *buses;		/* parallel to topo->buses */
};

struct pci_root *pci_root_create(const struct pci_topology *t)
{
	struct pci_root *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->topo = t;
	r->fns = calloc(t->nr_funcs, sizeof(*r->fns));
	r->buses = calloc(t->nr_buses ? t->nr_buses : 1, sizeof(*r->buses));
	if (!r->fns || !r->buses)
		goto fail;
	for (unsigned int i = 0; i < t->nr_funcs; i++) {
		const struct pci_func *f = &t->funcs[i];
		struct root_fn *rf = &r->fns[i];
		uint8_t primary;

		rf->child = -1;
		if (f->bus_req < 0 || (unsigned int)f->bus_req >= t->nr_buses)
			continue;
		r->buses[f->bus_req].fns[(unsigned int)f->dev << 3 | f->fn] = rf;
		if (f->kind == PCI_FUNC_ENDPOINT)
			continue;
		rf->cfg = malloc(sizeof(*rf->cfg));
		if (!rf->cfg)
			goto fail;
		primary = t->buses[f->bus_req].number;
		pci_config_space_init(rf->cfg, f, primary);
		if (f->kind != PCI_FUNC_HOST_BRIDGE)
			rf->child = f->child_bus;
	}
	return r;
fail:
	pci_root_destroy(r);
	return NULL;
}

void pci_root_destroy(struct pci_root *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; r->fns && i < r->topo->nr_funcs; i++)
		free(r->fns[i].cfg);
	free(r->fns);
	free(r->buses);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int pci_root_attach(struct pci_root *r, unsigned int index,
		    const struct pci_cfg_ops *ops, void *opaque)
{
	if (index >= r->topo->nr_funcs || r->fns[index].cfg || !ops)
		return -EINVAL;
	r->fns[index].ops = ops;
	r->fns[index].opaque = opaque;
	return 0;
}

/*
 * Follow the guest's bus numbers down from the root bus. A bridge forwards
 * bus N when secondary <= N <= subordinate; secondary must grow at every
 * step, so a guest that programs a loop gets all ones, not a hang.
 */
static struct root_fn *route(struct pci_root *r, unsigned int bus, unsigned int devfn)
{
	struct bus_node *node = &r->buses[0];
	unsigned int cur = 0;

	if (bus > 255 || devfn >= DEVFNS)
		return NULL;
	while (bus != cur) {
		struct root_fn *next = NULL;

		for (unsigned int i = 0; i < DEVFNS && !next; i++) {
			struct root_fn *f = node->fns[i];
			unsigned int sec, sub;

			if (!f || f->child < 0)
				continue;
			sec = f->cfg->data[PCI_CFG_SECONDARY_BUS];
			sub = f->cfg->data[PCI_CFG_SUBORDINATE_BUS];
			if (sec > cur && sec <= bus && bus <= sub)
				next = f;
		}
		if (!next)
			return NULL;
		cur = next->cfg->data[PCI_CFG_SECONDARY_BUS];
		node = &r->buses[next->child];
	}
	return node->fns[devfn];
}

static uint32_t ones(unsigned int len)
{
	return len >= 4 ? 0xffffffff : (1U << (len * 8)) - 1;
}

static uint32_t read_locked(struct pci_root *r, unsigned int bus, unsigned int devfn,
			    unsigned int reg, unsigned int len)
{
	struct root_fn *f = route(r, bus, devfn);

	if (!f || reg >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - reg)
		return ones(len);
	if (f->cfg)
		return pci_config_space_read(f->cfg, reg, len);
	if (f->ops && f->ops->read)
		return f->ops->read(f->opaque, reg, len);
	return ones(len);
}

static void write_locked(struct pci_root *r, unsigned int bus, unsigned int devfn,
			 unsigned int reg, unsigned int len, uint32_t v)
{
	struct root_fn *f = route(r, bus, devfn);

	if (!f || reg >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - reg)
		return;
	if (f->cfg)
		pci_config_space_write(f->cfg, reg, len, v);
	else if (f->ops && f->ops->write)
		f->ops->write(f->opaque, reg, len, v);
}

uint32_t pci_root_read(struct pci_root *r, unsigned int bus, unsigned int devfn,
		       unsigned int reg, unsigned int len)
{
	uint32_t v;

	pthread_mutex_lock(&r->lock);
	v = read_locked(r, bus, devfn, reg, len);
	pthread_mutex_unlock(&r->lock);
	return v;
}

void pci_root_write(struct pci_root *r, unsigned int bus, unsigned int devfn,
		    unsigned int reg, unsigned int len, uint32_t value)
{
	pthread_mutex_lock(&r->lock);
	write_locked(r, bus, devfn, reg, len, value);
	pthread_mutex_unlock(&r->lock);
}

/*
 * CF8: bit 31 enables, 23:16 bus, 15:8 devfn, 7:2 register; AMD's bits
 * 27:24 reach the extended space. Only dword accesses touch the latch.
 */
static unsigned int conf1_reg(uint32_t a, uint64_t off)
{
	return (a & 0xfc) | ((a >> 16) & 0xf00) | (unsigned int)(off & 3);
}

static uint64_t conf1_read(void *opaque, uint64_t off, unsigned int len)
{
	struct pci_root *r = opaque;
	uint32_t v = ones(len), a;

	pthread_mutex_lock(&r->lock);
	a = r->conf1_addr;
	if (off == 0 && len == 4)
		v = a;
	else if (off >= 4 && off + len <= 8 && (a & 0x80000000))
		v = read_locked(r, (a >> 16) & 0xff, (a >> 8) & 0xff, conf1_reg(a, off), len);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void conf1_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	struct pci_root *r = opaque;
	uint32_t a;

	pthread_mutex_lock(&r->lock);
	a = r->conf1_addr;
	if (off == 0 && len == 4)
		r->conf1_addr = (uint32_t)val;
	else if (off >= 4 && off + len <= 8 && (a & 0x80000000))
		write_locked(r, (a >> 16) & 0xff, (a >> 8) & 0xff, conf1_reg(a, off), len,
			     (uint32_t)val);
	pthread_mutex_unlock(&r->lock);
}

/* ECAM: bus in 27:20, devfn in 19:12, register in 11:0; 8-byte accesses split. */
static uint64_t ecam_read(void *opaque, uint64_t off, unsigned int len)
{
	if (len == 8)
		return ecam_read(opaque, off, 4) | (uint64_t)ecam_read(opaque, off + 4, 4) << 32;
	return pci_root_read(opaque, (off >> 20) & 0xff, (off >> 12) & 0xff, off & 0xfff, len);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned int len)
{
	if (len == 8) {
		ecam_write(opaque, off, val & 0xffffffff, 4);
		ecam_write(opaque, off + 4, val >> 32, 4);
		return;
	}
	pci_root_write(opaque, (off >> 20) & 0xff, (off >> 12) & 0xff, off & 0xfff, len,
		       (uint32_t)val);
}

static const struct io_ops conf1_ops = { .read = conf1_read, .write = conf1_write };
static const struct io_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

int pci_root_register(struct pci_root *r, struct io_bus *bus, uint64_t ecam_base,
		      uint64_t ecam_size)
{
	int ret = io_bus_register(bus, IO_SPACE_PIO, PCI_CONF1_ADDR_PORT, PCI_CONF1_PORTS,
				  &conf1_ops, r, "PCI conf1");

	if (ret)
		return ret;
	ret = io_bus_register(bus, IO_SPACE_MMIO, ecam_base, ecam_size, &ecam_ops, r,
			      "PCI ECAM");
	if (ret) {
		io_bus_unregister(bus, IO_SPACE_PIO, PCI_CONF1_ADDR_PORT);
		return ret;
	}
	r->ecam_base = ecam_base;
	return 0;
}

void pci_root_unregister(struct pci_root *r, struct io_bus *bus)
{
	io_bus_unregister(bus, IO_SPACE_PIO, PCI_CONF1_ADDR_PORT);
	io_bus_unregister(bus, IO_SPACE_MMIO, r->ecam_base);
}
