/*
 * pci-topo --host: the host's PCI functions with IOMMU group, driver and
 * passthrough readiness (every problem with its fix), as text or JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "json.h"
#include "print.h"
#include "print_priv.h"

#define HOST_JSON_VERSION	1

/* Bridges and host bridges stay with the host; readiness is not asked of them. */
static bool host_is_bridge(const struct host_device *d)
{
	return d->header_type == 1 || d->header_type == 2 ||
	       (d->class_code >> 16) == 0x06;
}

static const char *host_bar_type(enum host_bar_kind k)
{
	switch (k) {
	case HOST_BAR_IO:
		return "io";
	case HOST_BAR_MEM32:
		return "mem32";
	case HOST_BAR_MEM64:
		return "mem64";
	case HOST_BAR_NONE:
		break;
	}
	return "none";
}

static void host_desc(const struct host_device *d, char *buf, size_t len)
{
	if (d->vendor_name[0] && d->device_name[0])
		snprintf(buf, len, "%s %s", d->vendor_name, d->device_name);
	else if (d->vendor_name[0])
		snprintf(buf, len, "%s Device %04x", d->vendor_name, d->device);
	else
		snprintf(buf, len, "Device %04x:%04x", d->vendor, d->device);
}

/*
 * Reads every device; *devs is an array of the count returned, free() it.
 * A device that cannot be read is left out with a warning.
 */
static int host_read_all(struct host_inventory *inv, struct host_device **devs)
{
	struct pci_bdf *bdfs = NULL;
	struct host_device *d;
	char bdf[PCI_BDF_STRLEN];
	int n, i, ret, got = 0;

	*devs = NULL;
	n = host_device_list(inv, &bdfs);
	if (n < 0)
		return n;
	d = calloc(n ? (size_t)n : 1, sizeof(*d));
	if (!d) {
		free(bdfs);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		ret = host_device_read(inv, &bdfs[i], &d[got]);
		if (ret == -ENOMEM) {
			free(bdfs);
			free(d);
			return ret;
		}
		if (ret < 0) {
			pr_warn("%s: cannot read the device: %s",
				pci_bdf_format(&bdfs[i], bdf, sizeof(bdf)), strerror(-ret));
			continue;
		}
		got++;
	}
	free(bdfs);
	*devs = d;
	return got;
}

int print_host_text(FILE *f, struct host_inventory *inv)
{
	struct host_device *devs;
	char bdf[PCI_BDF_STRLEN], peer[PCI_BDF_STRLEN], desc[TOPO_DESC_MAX], grp[16];
	int n, i;

	n = host_read_all(inv, &devs);
	if (n < 0)
		return n;
	fprintf(f, "%-12s  %-9s  %-5s  %-14s  %-9s  %s\n", "BDF", "ID", "GROUP",
		"DRIVER", "READY", "DEVICE");
	for (i = 0; i < n; i++) {
		const struct host_device *d = &devs[i];
		struct host_problem probs[HOST_MAX_PROBLEMS];
		bool bridge = host_is_bridge(d);
		unsigned int np = bridge ? 0 : host_device_check(d, probs), p;
		char id[16];

		if (d->iommu_group >= 0)
			snprintf(grp, sizeof(grp), "%d", d->iommu_group);
		else
			snprintf(grp, sizeof(grp), "-");
		snprintf(id, sizeof(id), "%04x:%04x", d->vendor, d->device);
		host_desc(d, desc, sizeof(desc));
		fprintf(f, "%-12s  %-9s  %-5s  %-14s  %-9s  %s\n",
			pci_bdf_format(&d->bdf, bdf, sizeof(bdf)), id, grp,
			d->driver[0] ? d->driver : "-",
			bridge ? "bridge" : np ? "no" : "yes", desc);
		if (bridge)
			continue;
		if (d->nr_peers) {
			unsigned int k;

			fputs("    group also holds:", f);
			for (k = 0; k < d->nr_peers && k < HOST_MAX_GROUP_PEERS; k++)
				fprintf(f, "%s %s (%s)", k ? "," : "",
					pci_bdf_format(&d->peers[k].bdf, peer, sizeof(peer)),
					d->peers[k].driver[0] ? d->peers[k].driver : "no driver");
			fputc('\n', f);
		}
		for (p = 0; p < np && p < HOST_MAX_PROBLEMS; p++) {
			fprintf(f, "    problem: %s\n", probs[p].what);
			if (probs[p].fix[0])
				fprintf(f, "    fix:     %s\n", probs[p].fix);
		}
	}
	free(devs);
	return topo_stream_status(f);
}

static void json_host_device(struct json *j, const struct host_device *d)
{
	struct host_problem probs[HOST_MAX_PROBLEMS];
	char bdf[PCI_BDF_STRLEN], desc[TOPO_DESC_MAX];
	bool bridge = host_is_bridge(d);
	unsigned int np = bridge ? 0 : host_device_check(d, probs), k;

	json_object_begin(j, NULL);
	json_string(j, "bdf", pci_bdf_format(&d->bdf, bdf, sizeof(bdf)));
	json_hexw(j, "vendor", d->vendor, 4);
	json_hexw(j, "device", d->device, 4);
	json_hexw(j, "subsystem_vendor", d->subsys_vendor, 4);
	json_hexw(j, "subsystem_device", d->subsys_device, 4);
	json_hexw(j, "class", d->class_code & 0xffffff, 6);
	json_hexw(j, "revision", d->revision, 2);
	host_desc(d, desc, sizeof(desc));
	json_string(j, "description", desc);
	json_string(j, "class_name", d->class_name);
	json_bool(j, "bridge", bridge);
	json_int(j, "iommu_group", d->iommu_group);
	json_array_begin(j, "group_peers");
	for (k = 0; k < d->nr_peers && k < HOST_MAX_GROUP_PEERS; k++) {
		json_object_begin(j, NULL);
		json_string(j, "bdf", pci_bdf_format(&d->peers[k].bdf, bdf, sizeof(bdf)));
		json_string(j, "driver", d->peers[k].driver);
		json_object_end(j);
	}
	json_array_end(j);
	json_string(j, "driver", d->driver);
	json_int(j, "numa_node", d->numa_node);
	json_string(j, "reset_method", d->reset_method);
	json_bool(j, "vfio_node", d->vfio_dev_exists);
	json_u64(j, "intx_pin", d->intx_pin);
	json_u64(j, "msi", d->msi.present ? d->msi.vectors : 0);
	if (d->msix.present) {
		json_object_begin(j, "msix");
		json_u64(j, "vectors", d->msix.table_size);
		json_u64(j, "table_bar", d->msix.table_bar);
		json_hex(j, "table_offset", d->msix.table_offset);
		json_u64(j, "pba_bar", d->msix.pba_bar);
		json_hex(j, "pba_offset", d->msix.pba_offset);
		json_object_end(j);
	} else {
		json_null(j, "msix");
	}
	json_array_begin(j, "bars");
	for (k = 0; k < HOST_NR_BARS; k++) {
		const struct host_bar *b = &d->bars[k];

		if (b->kind == HOST_BAR_NONE || !b->size)
			continue;
		json_object_begin(j, NULL);
		json_u64(j, "index", k);
		json_string(j, "type", host_bar_type(b->kind));
		json_bool(j, "prefetchable", b->prefetchable);
		json_hex(j, "addr", b->addr);
		json_u64(j, "size", b->size);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "rom_size", d->rom_size);
	if (bridge)
		json_null(j, "ready");
	else
		json_bool(j, "ready", np == 0);
	json_array_begin(j, "readiness");
	for (k = 0; k < np && k < HOST_MAX_PROBLEMS; k++) {
		json_object_begin(j, NULL);
		json_string(j, "kind", topo_problem_key(probs[k].kind));
		json_string(j, "problem", probs[k].what);
		json_string(j, "fix", probs[k].fix);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

int print_host_json(FILE *f, struct host_inventory *inv)
{
	struct host_device *devs;
	struct json j;
	int n, i, ret;

	n = host_read_all(inv, &devs);
	if (n < 0)
		return n;
	json_init(&j, f);
	json_object_begin(&j, NULL);
	json_u64(&j, "version", HOST_JSON_VERSION);
	json_array_begin(&j, "devices");
	for (i = 0; i < n; i++)
		json_host_device(&j, &devs[i]);
	json_array_end(&j);
	json_object_end(&j);
	ret = json_finish(&j);
	free(devs);
	return ret;
}
