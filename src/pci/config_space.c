/* Config space bytes under masks; the VMM's own bridges as firmware leaves them. */
#include <errno.h>
#include <string.h>

#include "pci/config_space.h"

#define CMD_WRITABLE	0x0547	/* I/O, memory, bus master, parity, SERR, INTx disable */
#define STATUS_ERRORS	0xf900	/* the error bits, write 1 to clear */
#define STATUS_CAP_LIST	0x0010

#define CAP_PCIE	0x40	/* where the root port's capabilities live */
#define CAP_MSI		0x80

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

static void header(struct pci_config_space *c, const struct pci_func *f, uint8_t type)
{
	put16(c->data, 0x00, f->vendor);
	put16(c->data, 0x02, f->device);
	c->data[0x08] = f->revision;
	c->data[0x09] = f->class_code & 0xff;
	put16(c->data, 0x0a, (uint16_t)(f->class_code >> 8));
	c->data[0x0e] = type | (f->multifunction ? 0x80 : 0);
	put16(c->wmask, 0x04, CMD_WRITABLE);
	put16(c->w1c, 0x06, STATUS_ERRORS);
	c->wmask[0x0c] = 0xff;		/* cache line size */
	c->wmask[0x0d] = 0xff;		/* latency timer */
	c->wmask[0x3c] = 0xff;		/* interrupt line, the firmware's note */
	c->data[0x3d] = f->intx_pin;
	c->data[0x3c] = f->intx_pin ? (uint8_t)f->gsi : 0;
	if (type == 0) {
		put16(c->data, 0x2c, f->subsys_vendor);
		put16(c->data, 0x2e, f->subsys_device);
	}
}

/* A window's base and limit (inclusive); a closed one as base above limit. */
static void window(const struct pci_window *w, uint64_t closed_base,
		   uint64_t *base, uint64_t *limit)
{
	if (w->size) {
		*base = w->base;
		*limit = w->base + w->size - 1;
	} else {
		*base = closed_base;
		*limit = 0;
	}
}

static void bridge(struct pci_config_space *c, const struct pci_func *f, uint8_t primary)
{
	uint64_t b, l;

	c->data[0x18] = primary;
	c->data[PCI_CFG_SECONDARY_BUS] = f->secondary;
	c->data[PCI_CFG_SUBORDINATE_BUS] = f->subordinate;
	memset(c->wmask + 0x18, 0xff, 4);	/* bus numbers, secondary latency */
	put16(c->w1c, 0x1e, STATUS_ERRORS);	/* secondary status */

	window(&f->io, 0xf000, &b, &l);		/* 32-bit I/O decode */
	c->data[0x1c] = ((b >> 8) & 0xf0) | 0x01;
	c->data[0x1d] = ((l >> 8) & 0xf0) | 0x01;
	put16(c->data, 0x30, (uint16_t)(b >> 16));
	put16(c->data, 0x32, (uint16_t)(l >> 16));
	c->wmask[0x1c] = c->wmask[0x1d] = 0xf0;
	memset(c->wmask + 0x30, 0xff, 4);

	window(&f->mem, 0xfff00000, &b, &l);
	put16(c->data, 0x20, (b >> 16) & 0xfff0);
	put16(c->data, 0x22, (l >> 16) & 0xfff0);
	put16(c->wmask, 0x20, 0xfff0);
	put16(c->wmask, 0x22, 0xfff0);

	window(&f->pref, 0xfff00000, &b, &l);	/* 64-bit prefetchable */
	put16(c->data, 0x24, ((b >> 16) & 0xfff0) | 0x1);
	put16(c->data, 0x26, ((l >> 16) & 0xfff0) | 0x1);
	put32(c->data, 0x28, (uint32_t)(b >> 32));
	put32(c->data, 0x2c, (uint32_t)(l >> 32));
	put16(c->wmask, 0x24, 0xfff0);
	put16(c->wmask, 0x26, 0xfff0);
	memset(c->wmask + 0x28, 0xff, 8);

	put16(c->wmask, 0x3e, 0x0fff);		/* bridge control */
}

/*
 * A PCIe root port: PCIe capability v2 with an x1 link that is up, no slot;
 * an MSI capability (64-bit, one vector) that Linux's pcieport driver uses
 * for PME. The port never signals anything: no message is ever sent.
 */
static void root_port(struct pci_config_space *c, unsigned int port)
{
	put16(c->data, 0x06, STATUS_CAP_LIST);
	c->data[0x34] = CAP_PCIE;

	c->data[CAP_PCIE] = 0x10;
	c->data[CAP_PCIE + 1] = CAP_MSI;
	put16(c->data, CAP_PCIE + 0x02, 0x0042);		/* v2, root port */
	put32(c->data, CAP_PCIE + 0x0c,				/* link capabilities */
	      (port << 24) | (1u << 20) | (1u << 4) | 1);	/* DLLLA reporting, x1, 2.5 GT/s */
	put16(c->data, CAP_PCIE + 0x12, (1u << 13) | (1u << 4) | 1);	/* link up, x1 */
	put16(c->wmask, CAP_PCIE + 0x08, 0xffff);		/* device control */
	put16(c->w1c, CAP_PCIE + 0x0a, 0x000f);			/* device status */
	put16(c->wmask, CAP_PCIE + 0x10, 0x0fff);		/* link control */
	put16(c->wmask, CAP_PCIE + 0x1c, 0x001f);		/* root control */
	put32(c->w1c, CAP_PCIE + 0x20, 0x00010000);		/* root status: PME */
	put16(c->wmask, CAP_PCIE + 0x28, 0xffff);		/* device control 2 */
	put16(c->wmask, CAP_PCIE + 0x30, 0xffff);		/* link control 2 */

	c->data[CAP_MSI] = 0x05;
	c->data[CAP_MSI + 1] = 0;
	put16(c->data, CAP_MSI + 0x02, 0x0080);			/* 64-bit, 1 vector */
	put16(c->wmask, CAP_MSI + 0x02, 0x0001);		/* enable */
	put32(c->wmask, CAP_MSI + 0x04, 0xfffffffc);
	put32(c->wmask, CAP_MSI + 0x08, 0xffffffff);
	put16(c->wmask, CAP_MSI + 0x0c, 0xffff);
}

int pci_config_space_init(struct pci_config_space *c, const struct pci_func *f,
			  uint8_t primary_bus)
{
	memset(c, 0, sizeof(*c));
	switch (f->kind) {
	case PCI_FUNC_HOST_BRIDGE:
	case PCI_FUNC_ENDPOINT:
		header(c, f, 0);
		return 0;
	case PCI_FUNC_ROOT_PORT:
		header(c, f, 1);
		bridge(c, f, primary_bus);
		root_port(c, f->dev);
		return 0;
	case PCI_FUNC_PCI_BRIDGE:
		header(c, f, 1);
		bridge(c, f, primary_bus);
		return 0;
	}
	return -EINVAL;
}

uint32_t pci_config_space_read(const struct pci_config_space *c, unsigned int reg,
			       unsigned int len)
{
	uint32_t v = 0;

	if (len != 1 && len != 2 && len != 4)
		return 0xffffffff;
	for (unsigned int i = 0; i < len; i++) {
		uint8_t b = reg < PCI_CFG_SPACE_SIZE && i < PCI_CFG_SPACE_SIZE - reg ?
			    c->data[reg + i] : 0xff;

		v |= (uint32_t)b << (i * 8);
	}
	return v;
}

void pci_config_space_write(struct pci_config_space *c, unsigned int reg,
			    unsigned int len, uint32_t value)
{
	if (len != 1 && len != 2 && len != 4)
		return;
	for (unsigned int i = 0; i < len; i++) {
		unsigned int at = reg + i;
		uint8_t b = (value >> (i * 8)) & 0xff;

		if (reg >= PCI_CFG_SPACE_SIZE || i >= PCI_CFG_SPACE_SIZE - reg)
			return;
		c->data[at] = (c->data[at] & ~c->wmask[at]) | (b & c->wmask[at]);
		c->data[at] &= ~(b & c->w1c[at]);
	}
}
