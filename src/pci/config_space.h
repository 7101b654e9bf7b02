/*
 * One PCI function's configuration space as the guest sees it: 4 KiB of
 * bytes with a write mask and a write-1-to-clear mask, and the registers of
 * the functions the VMM itself provides (host bridge, root port, PCI-PCI
 * bridge) set up from the plan as firmware would leave them.
 */
#ifndef VMM_PCI_CONFIG_SPACE_H
#define VMM_PCI_CONFIG_SPACE_H

#include <stdint.h>

#include "pci/topology.h"

#define PCI_CFG_SPACE_SIZE	4096
#define PCI_CFG_SECONDARY_BUS	0x19
#define PCI_CFG_SUBORDINATE_BUS	0x1a

struct pci_config_space {
	uint8_t data[PCI_CFG_SPACE_SIZE];
	uint8_t wmask[PCI_CFG_SPACE_SIZE];	/* bits the guest may change */
	uint8_t w1c[PCI_CFG_SPACE_SIZE];	/* bits a written 1 clears */
};

/*
 * The header of f (ids, class, header type with the multi-function bit,
 * interrupt pin and line, command and status) and, for bridges, the bus
 * numbers and windows; root ports also get their PCIe and MSI capabilities.
 * An endpoint gets the type 0 header only (pci/endpoint.c adds the rest).
 * 0, or -EINVAL for an unknown kind.
 */
int pci_config_space_init(struct pci_config_space *c, const struct pci_func *f,
			  uint8_t primary_bus);

/*
 * Reads and writes of 1, 2 or 4 bytes at any offset; what falls outside
 * the 4 KiB reads as ones and is dropped. Little-endian.
 */
uint32_t pci_config_space_read(const struct pci_config_space *c, unsigned int reg,
			       unsigned int len);
void pci_config_space_write(struct pci_config_space *c, unsigned int reg,
			    unsigned int len, uint32_t value);

#endif
