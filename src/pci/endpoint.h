/*
 * An endpoint function's config space as a device model serves it: the
 * type 0 header from the plan (ids, class, INTx), BARs with their sizing
 * semantics and the ROM, a capability list the device fills, and the
 * decode state that follows the guest's writes: whenever a BAR starts or
 * stops decoding, or moves, the device is told, so it can move its traps
 * (and, for passthrough, its memslots). Emulated devices and VFIO share it.
 */
#ifndef VMM_PCI_ENDPOINT_H
#define VMM_PCI_ENDPOINT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/config_space.h"
#include "pci/root_complex.h"
#include "pci/topology.h"

#define PCI_CAP_ID_PM		0x01
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_EXP		0x10
#define PCI_CAP_ID_MSIX		0x11

#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_INTX_DISABLE 0x400

#define PCI_ENDPOINT_NR_REGIONS	(PCI_NR_BARS + 1)	/* BARs, then the ROM */

struct pci_endpoint_ops {
	/*
	 * Region bar (0-5, or PCI_ROM_BAR) now decodes at addr (on), or no
	 * longer decodes (on false; addr is where it was). Called with the
	 * endpoint's lock held, in the order changes happen.
	 */
	void (*bar_map)(void *opaque, unsigned int bar, uint64_t addr, bool on);
	/*
	 * The guest wrote [reg, reg + len) (already stored under the write
	 * masks): for capability registers with side effects. Lock held.
	 * Optional.
	 */
	void (*cfg_written)(void *opaque, unsigned int reg, unsigned int len);
	/*
	 * Serve a read of [reg, reg + len) that falls in a range the device
	 * claimed with pci_endpoint_claim(). Lock held. Optional.
	 */
	uint32_t (*cfg_read)(void *opaque, unsigned int reg, unsigned int len);
};

struct pci_endpoint {
	struct pci_config_space cfg;
	pthread_mutex_t lock;
	struct pci_bar regions[PCI_ENDPOINT_NR_REGIONS];	/* type and size from the plan */
	uint64_t mapped[PCI_ENDPOINT_NR_REGIONS];	/* where it decodes */
	bool decoding[PCI_ENDPOINT_NR_REGIONS];
	unsigned int next_cap;		/* where the next capability goes */
	uint8_t *last_cap_next;		/* the pointer to patch when one is added */
	unsigned int claim_off, claim_len;	/* config bytes the device reads itself */
	const struct pci_endpoint_ops *ops;
	void *opaque;
};

/*
 * The header of endpoint f with its BARs at their planned addresses and
 * decoding enabled as firmware leaves them (memory and I/O decode on, bus
 * master off). No callback is made for that initial state:
 * pci_endpoint_mapped() tells it.
 */
void pci_endpoint_init(struct pci_endpoint *ep, const struct pci_func *f,
		       const struct pci_endpoint_ops *ops, void *opaque);
void pci_endpoint_free(struct pci_endpoint *ep);

/*
 * Append a capability of len bytes (id and next pointer included) to the
 * list; returns its offset, or -ENOSPC. The caller fills the bytes after
 * the first two, and their write masks, in ep->cfg.
 */
int pci_endpoint_add_cap(struct pci_endpoint *ep, uint8_t id, unsigned int len);
/* Find capability id: its offset, or 0. */
unsigned int pci_endpoint_find_cap(const struct pci_endpoint *ep, uint8_t id);
/* Have reads of [off, off + len) served by ops->cfg_read. */
void pci_endpoint_claim(struct pci_endpoint *ep, unsigned int off, unsigned int len);

/* Whether region bar decodes now, and where. */
bool pci_endpoint_mapped(const struct pci_endpoint *ep, unsigned int bar, uint64_t *addr);

/* The config accesses; pci_root_attach(r, index, &pci_endpoint_cfg_ops, ep). */
uint32_t pci_endpoint_read(void *ep, unsigned int reg, unsigned int len);
void pci_endpoint_write(void *ep, unsigned int reg, unsigned int len, uint32_t value);
extern const struct pci_cfg_ops pci_endpoint_cfg_ops;

/* Little-endian helpers on config bytes. */
static inline void pci_put16(uint8_t *p, unsigned int off, uint16_t v)
{
	p[off] = v & 0xff;
	p[off + 1] = v >> 8;
}

static inline void pci_put32(uint8_t *p, unsigned int off, uint32_t v)
{
	pci_put16(p, off, v & 0xffff);
	pci_put16(p, off + 2, v >> 16);
}

static inline uint16_t pci_get16(const uint8_t *p, unsigned int off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static inline uint32_t pci_get32(const uint8_t *p, unsigned int off)
{
	return pci_get16(p, off) | (uint32_t)pci_get16(p, off + 2) << 16;
}

#endif
