/*
 * pci-topo's printers: a vm_plan as text, JSON or a flattened device tree,
 * and the host's PCI devices with their passthrough readiness.
 */
#ifndef PCI_TOPO_PRINT_H
#define PCI_TOPO_PRINT_H

#include <stddef.h>
#include <stdio.h>

#include "vfio/host.h"
#include "vmm/plan.h"

/* Every printer returns 0, or -errno (-ENOMEM, -EIO when a write failed). */

/* The human-readable report: header, tree, functions, iomem, ioports, IRQs, readiness. */
int print_text(FILE *f, const struct vm_plan *plan);

/* One JSON object, keys in a fixed order (documented in pci-topo(1)). */
int print_json(FILE *f, const struct vm_plan *plan);

/* The guest platform as a flattened device tree blob; free() *blob. */
int print_fdt_build(const struct vm_plan *plan, void **blob, size_t *size);
/* The blob as written to a .dtb file. */
int print_dtb(FILE *f, const struct vm_plan *plan);
/* The same tree as device tree source that dtc accepts. */
int print_dts(FILE *f, const struct vm_plan *plan);
/* Device tree source of any valid blob (the walker behind print_dts). */
int print_fdt_source(FILE *f, const void *blob);

/* The host's PCI functions: group, driver, readiness. */
int print_host_text(FILE *f, struct host_inventory *inv);
int print_host_json(FILE *f, struct host_inventory *inv);

#endif
