/*
 * The complete guest layout for one machine file: the address map, the PCI
 * tree with every BAR, interrupt routing, legacy ports, and for passthrough
 * the host facts behind each function. plan_build() is a pure function of
 * the config and the host inventory: same input, same plan.
 */
#ifndef VMM_PLAN_H
#define VMM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci/topology.h"
#include "vfio/host.h"
#include "vmm/config.h"
#include "x86/layout.h"

/* Identity of our emulated bridges (names in the PCI ID database). */
#define PLAN_HOST_BRIDGE_VENDOR		0x1b36
#define PLAN_HOST_BRIDGE_DEVICE		0x0008
#define PLAN_ROOT_PORT_VENDOR		0x1b36
#define PLAN_ROOT_PORT_DEVICE		0x000c
#define PLAN_PCI_BRIDGE_VENDOR		0x1b36
#define PLAN_PCI_BRIDGE_DEVICE		0x0001

enum plan_role {
	PLAN_ROLE_HOST_BRIDGE,
	PLAN_ROLE_BRIDGE,		/* cfg->bridges[index] */
	PLAN_ROLE_DEVICE,		/* cfg->devices[index] */
};

#define PLAN_MAX_TRAPS	2

/* A passthrough BAR: the host BAR behind it, and which pages trap. */
struct plan_pt_bar {
	uint64_t host_addr;
	uint64_t host_size;
	/* Offsets within the BAR, page aligned: MSI-X table and PBA pages. */
	struct addr_range trapped[PLAN_MAX_TRAPS];
	unsigned int nr_trapped;
};

/* Parallel to pci.funcs[]: what each function is. */
struct plan_func {
	enum plan_role role;
	int index;			/* into cfg->bridges or cfg->devices, -1 for the host bridge */
	const struct host_device *host;	/* vfio only, else NULL */
	struct plan_pt_bar pt_bars[PCI_NR_BARS];	/* vfio only */
	unsigned int virtio_queues;	/* virtio only */
	uint8_t mac[6];			/* virtio-net only: configured or derived */
};

/* A legacy device at its ISA ports. */
struct plan_legacy {
	const char *name;		/* "serial", "keyboard", "rtc0", "PCI conf1", ... */
	uint16_t port;
	uint16_t len;
	int irq;			/* ISA IRQ, -1 = none */
	int serial;			/* cfg->serials index, -1 if not a UART */
};

#define PLAN_MAX_LEGACY	16

struct vm_plan {
	const struct vm_config *cfg;
	struct x86_layout layout;
	struct pci_topology pci;
	struct plan_func *funcs;	/* [pci.nr_funcs] */
	struct host_device *hosts;	/* [cfg->nr_devices]; filled for vfio devices */
	struct plan_legacy legacy[PLAN_MAX_LEGACY];
	unsigned int nr_legacy;
};

/*
 * Build the plan. inv may be NULL when the config has no vfio device.
 * 0 on success; otherwise -errno with "FILE:LINE: ..." in err where a line
 * of the machine file is to blame (a BAR that does not fit names the device,
 * the BAR, its size and the window).
 */
int plan_build(const struct vm_config *cfg, struct host_inventory *inv,
	       struct vm_plan *plan, char *err, size_t errlen);
void plan_free(struct vm_plan *plan);

/*
 * The window the host bridge decodes for a kind of resource (what the DSDT's
 * _CRS declares): the topology's when it sized one, else the layout's whole
 * range.
 */
struct pci_window plan_host_window(const struct vm_plan *plan, enum pci_res_kind res);

/* The function of cfg->devices[index] (or bridges), or NULL. */
const struct pci_func *plan_device_func(const struct vm_plan *plan, int index);
const struct pci_func *plan_bridge_func(const struct vm_plan *plan, int index);

#endif
