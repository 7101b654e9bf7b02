/*
 * The root complex: config accesses by the PC's two mechanisms (the CF8
 * address latch with CFC-CFF data ports, and ECAM) reach the same config
 * spaces, routed by the bus numbers the guest has programmed into the
 * bridges. The host bridge and every root port and PCI-PCI bridge of the
 * plan live here; endpoint devices attach with their own config handlers.
 */
#ifndef VMM_PCI_ROOT_COMPLEX_H
#define VMM_PCI_ROOT_COMPLEX_H

#include <stdint.h>

#include "hw/io.h"
#include "pci/topology.h"

#define PCI_CONF1_ADDR_PORT	0xcf8
#define PCI_CONF1_PORTS		8	/* 0xcf8-0xcff */
#define PCI_ECAM_BUS_SIZE	0x100000ULL

/* An endpoint's config space as its device model serves it. */
struct pci_cfg_ops {
	uint32_t (*read)(void *opaque, unsigned int reg, unsigned int len);
	void (*write)(void *opaque, unsigned int reg, unsigned int len, uint32_t value);
};

struct pci_root;

/* The VMM's own functions of t, placed as planned. NULL on allocation failure. */
struct pci_root *pci_root_create(const struct pci_topology *t);
void pci_root_destroy(struct pci_root *r);

/* Serve function t->funcs[index] (an endpoint) through ops; 0 or -EINVAL. */
int pci_root_attach(struct pci_root *r, unsigned int index,
		    const struct pci_cfg_ops *ops, void *opaque);

/*
 * A config access to bus/devfn/reg as the guest addresses it now: through
 * the bridges' current secondary and subordinate numbers. Absent functions
 * read as all ones; writes to them are dropped.
 */
uint32_t pci_root_read(struct pci_root *r, unsigned int bus, unsigned int devfn,
		       unsigned int reg, unsigned int len);
void pci_root_write(struct pci_root *r, unsigned int bus, unsigned int devfn,
		    unsigned int reg, unsigned int len, uint32_t value);

/* Claim 0xcf8-0xcff and the ECAM range: 0 or a negative errno (nothing claimed). */
int pci_root_register(struct pci_root *r, struct io_bus *bus, uint64_t ecam_base,
		      uint64_t ecam_size);
void pci_root_unregister(struct pci_root *r, struct io_bus *bus);

#endif
