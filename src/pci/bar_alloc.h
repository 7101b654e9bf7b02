/*
 * Sizing bridge windows and placing BARs: the second half of
 * pci_topo_assign(), after devices and buses are numbered.
 */
#ifndef VMM_PCI_BAR_ALLOC_H
#define VMM_PCI_BAR_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "pci/topology.h"

/*
 * Every function has its bus, dev and fn; bus_by_number[n] is the bus index
 * of bus number n, for n < t->nr_buses. Sizes every bridge window bottom-up,
 * then packs windows and BARs top-down, largest alignment first, as low in
 * the host windows as they fit. 0, or -ENOSPC / -EOVERFLOW / -ENOMEM with a message in
 * err and t->error set.
 */
int pci_bar_alloc(struct pci_topology *t, const unsigned int *bus_by_number,
		  char *err, size_t errlen);

#endif
