/*
 * What the printers share: names of functions, ordering, sizes, and the
 * nested /proc/iomem and /proc/ioports style resource maps of a plan.
 */
#ifndef PCI_TOPO_PRINT_PRIV_H
#define PCI_TOPO_PRINT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/plan.h"

#define TOPO_DESC_MAX	(2 * HOST_NAME_MAX + 16)
#define TOPO_SIZE_MAX	32
#define TOPO_TRAP_MAX	(PLAN_MAX_TRAPS + 1)

/* "disk0", "rp0", "host-bridge": the name of function i in the machine file. */
const char *topo_func_name(const struct vm_plan *plan, unsigned int i);
/* "virtio-blk", "vfio", "root-port", "pci-bridge", "host-bridge". */
const char *topo_func_type(const struct vm_plan *plan, unsigned int i);
/* "host-bridge", "root-port", "pci-bridge", "endpoint". */
const char *topo_kind_name(enum pci_func_kind kind);
bool topo_is_bridge(const struct pci_func *f);
/* The host device behind a passthrough function, or NULL. */
const struct host_device *topo_func_host(const struct vm_plan *plan, unsigned int i);

/* Vendor and device name (host names for passthrough, ours for emulated). */
const char *topo_vendor_name(const struct vm_plan *plan, unsigned int i);
const char *topo_device_name(const struct vm_plan *plan, unsigned int i);
/* "Red Hat, Inc. Virtio 1.0 block device", as lspci -tv names it. */
char *topo_func_desc(const struct vm_plan *plan, unsigned int i, char *buf, size_t len);
/* "Host bridge", "3D controller", ... */
char *topo_class_name(const struct vm_plan *plan, unsigned int i, char *buf, size_t len);

/* "0000:01:00.0" */
char *topo_bdf(const struct pci_func *f, char *buf, size_t len);
/* "not_vfio", "group_not_viable", ...: a readiness problem in JSON. */
const char *topo_problem_key(enum host_problem_kind kind);
/* "INTA".."INTD", or "none". */
const char *topo_pin_name(unsigned int pin);

/* Indices of plan->pci.funcs sorted by bus, device, function; free() it. */
unsigned int *topo_sorted_funcs(const struct vm_plan *plan);
/* Functions on bus index 'bus', sorted by device and function; returns count. */
unsigned int topo_bus_funcs(const struct vm_plan *plan, int bus, unsigned int *out);

/* The host bridge's windows (plan->pci.host, else the layout's). */
struct pci_window topo_win_mem32(const struct vm_plan *plan);
struct pci_window topo_win_mem64(const struct vm_plan *plan);
struct pci_window topo_win_io(const struct vm_plan *plan);

/* A BAR's trapped pages, with a label ("MSI-X table", "MSI-X PBA", ...). */
struct topo_trap {
	uint64_t offset, size;
	const char *what;
};
unsigned int topo_bar_traps(const struct vm_plan *plan, unsigned int i,
			    unsigned int bar, struct topo_trap *traps);

/* A resource map in the manner of /proc/iomem: a forest of ranges. */
struct res_node {
	uint64_t start, end;		/* inclusive */
	char name[48];
	int rank;			/* for equal ranges: lower is outer */
	int first_child, next;		/* indices, -1 = none */
};

struct res_map {
	struct res_node *nodes;
	unsigned int nr, cap;
	int first;			/* first top-level node, -1 = empty */
};

int res_map_iomem(const struct vm_plan *plan, struct res_map *m);
int res_map_ioports(const struct vm_plan *plan, struct res_map *m);
void res_map_free(struct res_map *m);

/* "ram", "reserved", "acpi", "nvs" (the JSON spelling). */
const char *topo_e820_key(uint32_t type);

/* A write error on f as -EIO, else 0. */
int topo_stream_status(FILE *f);

#endif
