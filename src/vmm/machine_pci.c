/* A machine's PCI root complex: src/pci's model on the trap registry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci/root_complex.h"
#include "util/log.h"
#include "vmm/machine.h"

int machine_pci_create(struct machine *m, char *err, size_t errlen)
{
	const struct x86_layout *l = &m->plan->layout;
	int ret;

	m->pci = pci_root_create(&m->plan->pci);
	if (!m->pci) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = pci_root_register(m->pci, &m->vm.bus, l->ecam.base, l->ecam.size);
	if (ret) {
		snprintf(err, errlen, "PCI config space: %s", strerror(-ret));
		return ret;
	}
	/*
	 * Writes to the address latch need no exit: firmware-style scans
	 * (Linux's AGP aperture search probes 8192 addresses on AMD) then
	 * cost one exit per probe instead of two.
	 */
	if (kvm_coalesce(&m->vm.kvm, PCI_CONF1_ADDR_PORT, 4, 1) < 0)
		pr_debug("coalesced PIO not available: every 0xcf8 write exits");
	return 0;
}

void machine_pci_destroy(struct machine *m)
{
	pci_root_destroy(m->pci);
	m->pci = NULL;
}
