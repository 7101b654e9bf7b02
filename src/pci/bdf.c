/* PCI addresses (domain:bus:device.function): parsing and printing. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci/bdf.h"

static int parse_hex(const char **p, unsigned int digits, unsigned int max,
		     unsigned int *out)
{
	unsigned int v = 0, i;

	for (i = 0; i < digits; i++) {
		int c = (unsigned char)(*p)[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = v * 16 + (unsigned int)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	if (v > max)
		return -EINVAL;
	*p += digits;
	*out = v;
	return 0;
}

int pci_bdf_parse(const char *s, struct pci_bdf *bdf)
{
	unsigned int domain = 0, bus, dev, fn;
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (strlen(s) == 12) {
		if (parse_hex(&p, 4, 0xffff, &domain) || *p++ != ':')
			return -EINVAL;
	} else if (strlen(s) != 7) {
		return -EINVAL;
	}
	if (parse_hex(&p, 2, 0xff, &bus) || *p++ != ':')
		return -EINVAL;
	if (parse_hex(&p, 2, 0x1f, &dev) || *p++ != '.')
		return -EINVAL;
	if (parse_hex(&p, 1, 7, &fn) || *p)
		return -EINVAL;
	bdf->domain = (uint16_t)domain;
	bdf->bus = (uint8_t)bus;
	bdf->dev = (uint8_t)dev;
	bdf->fn = (uint8_t)fn;
	return 0;
}

char *pci_bdf_format(const struct pci_bdf *bdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", bdf->domain, bdf->bus,
		 bdf->dev, bdf->fn);
	return buf;
}

int pci_bdf_cmp(const struct pci_bdf *a, const struct pci_bdf *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	return 0;
}

int pci_bdf_equal(const struct pci_bdf *a, const struct pci_bdf *b)
{
	return !pci_bdf_cmp(a, b);
}
