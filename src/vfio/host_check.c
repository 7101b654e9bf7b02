/*
 * Passthrough readiness: turns the inventory facts about one host function
 * into a list of problems, each with what is wrong and the command that fixes it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vfio/host.h"
#include "util/strbuf.h"

#define PAGE_SIZE_4K	0x1000u

/* A bounded string builder: appends until full, then ends the text with "...". */
static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

bool host_driver_is_vfio(const char *driver)
{
	return driver && (ends_with(driver, "vfio-pci") || ends_with(driver, "vfio_pci"));
}

bool host_peer_blocks_group(const struct host_group_peer *peer)
{
	const char *d = peer->driver;

	return d[0] && !host_driver_is_vfio(d) && strcmp(d, "pci-stub") &&
	       strcmp(d, "pcieport");
}

unsigned int host_problems_blocking(const struct host_problem *problems,
				    unsigned int n)
{
	unsigned int i, count = 0;

	for (i = 0; problems && i < n; i++)
		count += problems[i].blocking;
	return count;
}

struct check {
	struct host_problem *p;
	unsigned int n;
	char bdf[PCI_BDF_STRLEN];
};

/* A new problem, or NULL when the array is full. */
static struct host_problem *add(struct check *c, enum host_problem_kind kind,
				bool blocking)
{
	struct host_problem *p;

	if (c->n >= HOST_MAX_PROBLEMS)
		return NULL;
	p = &c->p[c->n++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->blocking = blocking;
	return p;
}

static void check_iommu(struct check *c, const struct host_device *dev)
{
	struct host_problem *p;

	if (dev->iommu_group >= 0)
		return;
	p = add(c, HOST_PROBLEM_NO_IOMMU, true);
	if (!p)
		return;
	snprintf(p->what, sizeof(p->what), "no IOMMU group: the IOMMU is off or missing");
	snprintf(p->fix, sizeof(p->fix),
		 "turn on VT-d (Intel) or AMD-Vi (AMD) in the firmware setup, add "
		 "intel_iommu=on to the kernel command line on Intel hosts (AMD "
		 "enables its IOMMU by default), reboot, and check that "
		 "/sys/kernel/iommu_groups/ is not empty");
}

static void check_driver(struct check *c, const struct host_device *dev)
{
	const char *b = c->bdf;
	struct host_problem *p;

	if (host_driver_is_vfio(dev->driver))
		return;
	p = add(c, HOST_PROBLEM_NOT_VFIO, true);
	if (!p)
		return;
	if (dev->driver[0]) {
		snprintf(p->what, sizeof(p->what), "not bound to vfio-pci (bound to %s)",
			 dev->driver);
		snprintf(p->fix, sizeof(p->fix),
			 "bind it: vfio-bind %s (by hand: modprobe vfio-pci; "
			 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
			 "echo %s > /sys/bus/pci/devices/%s/driver/unbind; "
			 "echo %s > /sys/bus/pci/drivers_probe)", b, b, b, b, b);
	} else {
		snprintf(p->what, sizeof(p->what), "not bound to vfio-pci (no driver)");
		snprintf(p->fix, sizeof(p->fix),
			 "bind it: vfio-bind %s (by hand: modprobe vfio-pci; "
			 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
			 "echo %s > /sys/bus/pci/drivers_probe)", b, b, b);
	}
}

static void check_group(struct check *c, const struct host_device *dev)
{
	struct host_problem *p;
	struct sbuf what, fix;
	unsigned int i, shown = 0;

	if (dev->iommu_group < 0)
		return;
	for (i = 0; i < dev->nr_peers; i++)
		if (host_peer_blocks_group(&dev->peers[i]))
			break;
	if (i == dev->nr_peers)
		return;
	p = add(c, HOST_PROBLEM_GROUP_NOT_VIABLE, true);
	if (!p)
		return;
	sb_init(&what, p->what, sizeof(p->what));
	sb_init(&fix, p->fix, sizeof(p->fix));
	sb_add(&what, "IOMMU group %d also holds", dev->iommu_group);
	sb_add(&fix, "bind the other devices of the group to vfio-pci too: vfio-bind");
	for (i = 0; i < dev->nr_peers; i++) {
		char peer[PCI_BDF_STRLEN];

		if (!host_peer_blocks_group(&dev->peers[i]))
			continue;
		pci_bdf_format(&dev->peers[i].bdf, peer, sizeof(peer));
		sb_add(&what, "%s %s (bound to %s)", shown ? "," : "", peer,
		       dev->peers[i].driver);
		sb_add(&fix, " %s", peer);
		shown++;
	}
	if (dev->nr_peers_total > dev->nr_peers)
		sb_add(&what, " and %u more devices", dev->nr_peers_total - dev->nr_peers);
	sb_add(&fix, " (or unbind them from their drivers; unbound devices and "
	       "bridges on pcieport may stay)");
}

static void check_node(struct check *c, const struct host_device *dev)
{
	struct host_problem *p;

	if (dev->iommu_group < 0 || !host_driver_is_vfio(dev->driver) ||
	    dev->vfio_dev_exists)
		return;
	p = add(c, HOST_PROBLEM_NO_VFIO_NODE, true);
	if (!p)
		return;
	snprintf(p->what, sizeof(p->what),
		 "/dev/vfio/%d is missing although the device is bound to %s",
		 dev->iommu_group, dev->driver);
	snprintf(p->fix, sizeof(p->fix),
		 "load the VFIO modules (modprobe vfio-pci) and let udev create the "
		 "node (udevadm trigger --subsystem-match=vfio; see the vmm udev rule "
		 "90-vmm-vfio.rules); in a container, pass /dev/vfio/%d through",
		 dev->iommu_group);
}

static void check_reset(struct check *c, const struct host_device *dev)
{
	struct host_problem *p;

	if (dev->reset_method[0])
		return;
	p = add(c, HOST_PROBLEM_NO_RESET, false);
	if (!p)
		return;
	snprintf(p->what, sizeof(p->what),
		 "no reset method: the device cannot be reset between guests");
	snprintf(p->fix, sizeof(p->fix),
		 "accept that a guest finds the device as the previous user left it "
		 "(only a host reboot clears it), or choose a device with FLR or a "
		 "bus reset (see /sys/bus/pci/devices/%s/reset_method)", c->bdf);
}

/* Is the start of structure s (offset so in BAR sb) mid-page among other registers? */
static bool msix_mid_page(unsigned int sb, uint32_t so, unsigned int tb, uint32_t to,
			  uint64_t tlen)
{
	uint32_t page = so & ~(PAGE_SIZE_4K - 1);

	if (!(so & (PAGE_SIZE_4K - 1)))
		return false;
	/* the other structure opens this page: the page is MSI-X space anyway */
	return !(tb == sb && to <= page && to + tlen > page);
}

static void check_msix(struct check *c, const struct host_device *dev)
{
	const struct host_msix *m = &dev->msix;
	uint64_t table_len = (uint64_t)m->table_size * 16;
	uint64_t pba_len = ((uint64_t)m->table_size + 63) / 64 * 8;
	bool table_bad, pba_bad;
	struct host_problem *p;
	struct sbuf what, fix;

	if (!m->present)
		return;
	table_bad = msix_mid_page(m->table_bar, m->table_offset, m->pba_bar,
				  m->pba_offset, pba_len);
	pba_bad = msix_mid_page(m->pba_bar, m->pba_offset, m->table_bar,
				m->table_offset, table_len);
	if (table_bad && pba_bad &&
	    m->table_bar == m->pba_bar &&
	    (m->table_offset & ~(PAGE_SIZE_4K - 1)) == (m->pba_offset & ~(PAGE_SIZE_4K - 1)))
		pba_bad = false;	/* one page, one message */
	if (!table_bad && !pba_bad)
		return;
	p = add(c, HOST_PROBLEM_MSIX_UNALIGNED, false);
	if (!p)
		return;
	sb_init(&what, p->what, sizeof(p->what));
	sb_init(&fix, p->fix, sizeof(p->fix));
	if (table_bad && pba_bad)
		sb_add(&what, "MSI-X table at BAR%u offset 0x%x and PBA at BAR%u offset "
		       "0x%x are not page aligned", m->table_bar, m->table_offset,
		       m->pba_bar, m->pba_offset);
	else if (table_bad)
		sb_add(&what, "MSI-X table at BAR%u offset 0x%x is not page aligned",
		       m->table_bar, m->table_offset);
	else
		sb_add(&what, "MSI-X PBA at BAR%u offset 0x%x is not page aligned",
		       m->pba_bar, m->pba_offset);
	sb_add(&fix, "accept slower access to the device registers in");
	if (table_bad)
		sb_add(&fix, " BAR%u 0x%x-0x%x", m->table_bar,
		       m->table_offset & ~(PAGE_SIZE_4K - 1),
		       (m->table_offset & ~(PAGE_SIZE_4K - 1)) + PAGE_SIZE_4K - 1);
	if (pba_bad)
		sb_add(&fix, "%s BAR%u 0x%x-0x%x", table_bad ? " and" : "", m->pba_bar,
		       m->pba_offset & ~(PAGE_SIZE_4K - 1),
		       (m->pba_offset & ~(PAGE_SIZE_4K - 1)) + PAGE_SIZE_4K - 1);
	sb_add(&fix, ": %s trapped to emulate MSI-X, so every access there exits to "
	       "the VMM", table_bad && pba_bad ? "those pages are" : "that page is");
}

unsigned int host_device_check(const struct host_device *dev,
			       struct host_problem *problems)
{
	struct check c = { .p = problems };

	if (!dev || !problems)
		return 0;
	pci_bdf_format(&dev->bdf, c.bdf, sizeof(c.bdf));
	check_iommu(&c, dev);
	check_driver(&c, dev);
	check_group(&c, dev);
	check_node(&c, dev);
	check_reset(&c, dev);
	check_msix(&c, dev);
	return c.n;
}
