/* The PCI host bridge and bridges of a machine (placeholder until wired). */
#include "vmm/machine.h"

int machine_pci_create(struct machine *m, char *err, size_t errlen)
{
	(void)m; (void)err; (void)errlen;
	return 0;
}

void machine_pci_destroy(struct machine *m)
{
	(void)m;
}
