/* Endpoint config space: BARs, ROM, capability list and the decode they imply. */
#include <errno.h>
#include <string.h>

#include "pci/endpoint.h"

#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_CAP_PTR		0x34
#define PCI_ROM_REG		0x30
#define PCI_ROM_ENABLE		0x1
#define PCI_FIRST_CAP		0x40

static unsigned int bar_reg(unsigned int bar)
{
	return bar == PCI_ROM_BAR ? PCI_ROM_REG : 0x10 + 4 * bar;
}

static void setup_bar(struct pci_endpoint *ep, unsigned int i, const struct pci_bar *b)
{
	struct pci_config_space *c = &ep->cfg;
	unsigned int reg = bar_reg(i);
	uint64_t mask = ~(b->size - 1);

	switch (b->type) {
	case PCI_BAR_IO:
		pci_put32(c->data, reg, (uint32_t)b->addr | 0x1);
		pci_put32(c->wmask, reg, (uint32_t)mask & 0xfffffffc);
		break;
	case PCI_BAR_MEM32:
		if (i == PCI_ROM_BAR) {
			/* Firmware leaves the ROM assigned but not decoding. */
			pci_put32(c->data, reg, (uint32_t)b->addr);
			pci_put32(c->wmask, reg, ((uint32_t)mask & 0xfffff800) | PCI_ROM_ENABLE);
			break;
		}
		pci_put32(c->data, reg, (uint32_t)b->addr | (b->prefetchable ? 0x8 : 0));
		pci_put32(c->wmask, reg, (uint32_t)mask & 0xfffffff0);
		break;
	case PCI_BAR_MEM64:
		pci_put32(c->data, reg, (uint32_t)b->addr | 0x4 | (b->prefetchable ? 0x8 : 0));
		pci_put32(c->wmask, reg, (uint32_t)mask & 0xfffffff0);
		pci_put32(c->data, reg + 4, (uint32_t)(b->addr >> 32));
		pci_put32(c->wmask, reg + 4, (uint32_t)(mask >> 32));
		break;
	default:
		break;
	}
}

/* Where region i decodes now, from the registers; false when it does not. */
static bool region_decode(const struct pci_endpoint *ep, unsigned int i, uint64_t *addr)
{
	const uint8_t *d = ep->cfg.data;
	uint16_t cmd = pci_get16(d, 0x04);
	unsigned int reg = bar_reg(i);

	switch (ep->regions[i].type) {
	case PCI_BAR_IO:
		*addr = pci_get32(d, reg) & ~0x3u;
		return cmd & PCI_COMMAND_IO;
	case PCI_BAR_MEM32:
		if (i == PCI_ROM_BAR) {
			*addr = pci_get32(d, reg) & ~0x7ffu;
			return (cmd & PCI_COMMAND_MEMORY) && (pci_get32(d, reg) & PCI_ROM_ENABLE);
		}
		*addr = pci_get32(d, reg) & ~0xfu;
		return cmd & PCI_COMMAND_MEMORY;
	case PCI_BAR_MEM64:
		*addr = (pci_get32(d, reg) & ~0xfull) | (uint64_t)pci_get32(d, reg + 4) << 32;
		return cmd & PCI_COMMAND_MEMORY;
	default:
		return false;
	}
}

/* Tell the device about every region whose decoding changed. */
static void update_decode(struct pci_endpoint *ep)
{
	for (unsigned int i = 0; i < PCI_ENDPOINT_NR_REGIONS; i++) {
		uint64_t addr = 0;
		bool on = region_decode(ep, i, &addr);

		if (on == ep->decoding[i] && (!on || addr == ep->mapped[i]))
			continue;
		if (ep->decoding[i] && ep->ops && ep->ops->bar_map)
			ep->ops->bar_map(ep->opaque, i, ep->mapped[i], false);
		ep->decoding[i] = on;
		ep->mapped[i] = addr;
		if (on && ep->ops && ep->ops->bar_map)
			ep->ops->bar_map(ep->opaque, i, addr, true);
	}
}

void pci_endpoint_init(struct pci_endpoint *ep, const struct pci_func *f,
		       const struct pci_endpoint_ops *ops, void *opaque)
{
	uint16_t cmd = 0;

	memset(ep, 0, sizeof(*ep));
	pthread_mutex_init(&ep->lock, NULL);
	ep->ops = ops;
	ep->opaque = opaque;
	ep->next_cap = PCI_FIRST_CAP;
	pci_config_space_init(&ep->cfg, f, 0);
	for (unsigned int i = 0; i < PCI_NR_BARS; i++) {
		ep->regions[i] = f->bars[i];
		if (f->bars[i].type == PCI_BAR_UNUSED || !f->bars[i].size)
			ep->regions[i].type = PCI_BAR_UNUSED;
		else
			setup_bar(ep, i, &f->bars[i]);
		if (ep->regions[i].type == PCI_BAR_IO)
			cmd |= PCI_COMMAND_IO;
		else if (ep->regions[i].type != PCI_BAR_UNUSED)
			cmd |= PCI_COMMAND_MEMORY;
	}
	if (f->rom.type != PCI_BAR_UNUSED && f->rom.size) {
		ep->regions[PCI_ROM_BAR] = f->rom;
		ep->regions[PCI_ROM_BAR].type = PCI_BAR_MEM32;
		setup_bar(ep, PCI_ROM_BAR, &f->rom);
	}
	pci_put16(ep->cfg.data, 0x04, cmd);
	for (unsigned int i = 0; i < PCI_ENDPOINT_NR_REGIONS; i++)
		ep->decoding[i] = region_decode(ep, i, &ep->mapped[i]);
}

void pci_endpoint_free(struct pci_endpoint *ep)
{
	pthread_mutex_destroy(&ep->lock);
}

int pci_endpoint_add_cap(struct pci_endpoint *ep, uint8_t id, unsigned int len)
{
	unsigned int off = (ep->next_cap + 3) & ~3u;
	uint8_t *d = ep->cfg.data;

	if (len < 2 || off + len > 0x100)
		return -ENOSPC;
	if (ep->next_cap == PCI_FIRST_CAP && !d[PCI_CAP_PTR]) {
		d[PCI_CAP_PTR] = (uint8_t)off;
		pci_put16(d, 0x06, pci_get16(d, 0x06) | PCI_STATUS_CAP_LIST);
	} else {
		for (unsigned int at = d[PCI_CAP_PTR], n = 0; at && n < 64; n++) {
			if (!d[at + 1]) {
				d[at + 1] = (uint8_t)off;
				break;
			}
			at = d[at + 1];
		}
	}
	d[off] = id;
	d[off + 1] = 0;
	ep->next_cap = off + len;
	return (int)off;
}

unsigned int pci_endpoint_find_cap(const struct pci_endpoint *ep, uint8_t id)
{
	const uint8_t *d = ep->cfg.data;

	if (!(pci_get16(d, 0x06) & PCI_STATUS_CAP_LIST))
		return 0;
	for (unsigned int at = d[PCI_CAP_PTR] & ~3u, n = 0; at >= PCI_FIRST_CAP && n < 48; n++) {
		if (d[at] == id)
			return at;
		at = d[at + 1] & ~3u;
	}
	return 0;
}

void pci_endpoint_claim(struct pci_endpoint *ep, unsigned int off, unsigned int len)
{
	ep->claim_off = off;
	ep->claim_len = len;
}

bool pci_endpoint_mapped(const struct pci_endpoint *ep, unsigned int bar, uint64_t *addr)
{
	if (bar >= PCI_ENDPOINT_NR_REGIONS || !ep->decoding[bar])
		return false;
	*addr = ep->mapped[bar];
	return true;
}

static bool overlaps(unsigned int reg, unsigned int len, unsigned int off, unsigned int n)
{
	return reg < off + n && off < reg + len;
}

uint32_t pci_endpoint_read(void *opaque, unsigned int reg, unsigned int len)
{
	struct pci_endpoint *ep = opaque;
	uint32_t v;

	pthread_mutex_lock(&ep->lock);
	if (ep->claim_len && ep->ops && ep->ops->cfg_read &&
	    overlaps(reg, len, ep->claim_off, ep->claim_len))
		v = ep->ops->cfg_read(ep->opaque, reg, len);
	else
		v = pci_config_space_read(&ep->cfg, reg, len);
	pthread_mutex_unlock(&ep->lock);
	return v;
}

void pci_endpoint_write(void *opaque, unsigned int reg, unsigned int len, uint32_t value)
{
	struct pci_endpoint *ep = opaque;

	if (len != 1 && len != 2 && len != 4)
		return;
	pthread_mutex_lock(&ep->lock);
	pci_config_space_write(&ep->cfg, reg, len, value);
	if (overlaps(reg, len, 0x04, 2) || overlaps(reg, len, 0x10, 24) ||
	    overlaps(reg, len, PCI_ROM_REG, 4))
		update_decode(ep);
	if (ep->ops && ep->ops->cfg_written)
		ep->ops->cfg_written(ep->opaque, reg, len);
	pthread_mutex_unlock(&ep->lock);
}

const struct pci_cfg_ops pci_endpoint_cfg_ops = {
	.read = pci_endpoint_read,
	.write = pci_endpoint_write,
};
