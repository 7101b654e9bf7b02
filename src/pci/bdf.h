/* PCI addresses (domain:bus:device.function): parsing and printing. */
#ifndef VMM_PCI_BDF_H
#define VMM_PCI_BDF_H

#include <stddef.h>
#include <stdint.h>

struct pci_bdf {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

#define PCI_BDF_STRLEN	13	/* "DDDD:BB:DD.F" and the NUL */

/* "DDDD:BB:DD.F" or "BB:DD.F" (hex, domain 0 implied); 0 or -EINVAL. */
int pci_bdf_parse(const char *s, struct pci_bdf *bdf);
/* Writes "dddd:bb:dd.f" (lower-case hex, as sysfs names it) into buf. */
char *pci_bdf_format(const struct pci_bdf *bdf, char *buf, size_t len);
/* Order by domain, bus, device, function: <0, 0 or >0. */
int pci_bdf_cmp(const struct pci_bdf *a, const struct pci_bdf *b);
int pci_bdf_equal(const struct pci_bdf *a, const struct pci_bdf *b);

#endif
