/*
 * The guest PCI hierarchy as a plan: buses, bridges and functions, their
 * numbers, BAR addresses, bridge windows and INTx pins. Pure: it knows
 * nothing of machine files, hosts or KVM. The caller fills the requests
 * (pci_topo_add_*), pci_topo_assign() places everything.
 */
#ifndef VMM_PCI_TOPOLOGY_H
#define VMM_PCI_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_NR_BARS		6
#define PCI_MAX_SLOTS		32
#define PCI_MAX_FUNCS		8
#define PCI_SLOT_AUTO		(-1)
#define PCI_BRIDGE_MEM_ALIGN	0x100000ULL	/* 1 MiB */
#define PCI_BRIDGE_IO_ALIGN	0x1000ULL	/* 4 KiB */
#define PCI_ROM_BAR		PCI_NR_BARS	/* the ROM, where a BAR index is expected */
#define PCI_MAX_BUSES		256

enum pci_bar_type {
	PCI_BAR_UNUSED,			/* also the upper half of a 64-bit BAR */
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
};

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t size;			/* a power of two, 0 = unused */
	uint64_t addr;			/* assigned guest address */
};

/*
 * The three kinds of address space a BAR or window lives in. PCI_RES_MEM:
 * 32-bit memory (every 32-bit BAR, 64-bit non-prefetchable BARs, ROMs);
 * PCI_RES_PREF: 64-bit prefetchable memory, above 4 GiB.
 */
enum pci_res_kind {
	PCI_RES_IO,
	PCI_RES_MEM,
	PCI_RES_PREF,
	PCI_NR_RES,
};

/* A bridge window, base and size; size 0 = closed. */
struct pci_window {
	uint64_t base;
	uint64_t size;
};

enum pci_func_kind {
	PCI_FUNC_HOST_BRIDGE,
	PCI_FUNC_ROOT_PORT,
	PCI_FUNC_PCI_BRIDGE,
	PCI_FUNC_ENDPOINT,
};

struct pci_func {
	enum pci_func_kind kind;
	const char *name;		/* for messages and printing; not owned */
	int owner;			/* the caller's index for this function */

	/* Request. */
	int bus_req;			/* index into pci_topology.buses */
	int slot_req;			/* 0..31 or PCI_SLOT_AUTO */
	int fn_req;			/* 0..7 */
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;		/* 24 bits */
	uint8_t revision;
	uint8_t intx_pin;		/* 0 = none, 1..4 = INTA..INTD */
	unsigned int msi_vectors;	/* 0 = no MSI */
	unsigned int msix_vectors;	/* 0 = no MSI-X */
	struct pci_bar bars[PCI_NR_BARS];
	struct pci_bar rom;		/* type MEM32 with size, or UNUSED */

	/* Result. */
	uint8_t bus, dev, fn;		/* its address */
	bool multifunction;		/* function 0 of a slot with others */
	uint8_t root_pin;		/* INTx pin as seen at the root bus, after swizzle */
	uint8_t root_slot;		/* slot on the root bus the INTx arrives through */
	unsigned int gsi;		/* IOAPIC input for INTx, 0 = none */

	/* Bridges only. */
	int child_bus;			/* index of the bus it opens */
	uint8_t secondary, subordinate;
	struct pci_window io, mem, pref;	/* mem: 32-bit, pref: 64-bit */
};

struct pci_bus_node {
	int bridge;			/* index of the function opening it; -1 = root */
	bool single_slot;		/* a PCIe port's link: device 0 only */
	uint8_t number;			/* assigned */
};

/* The windows the host bridge decodes; a closed window has size 0. */
struct pci_host_windows {
	struct pci_window io;
	struct pci_window mem32;
	struct pci_window mem64;
};

/* Why pci_topo_assign() failed, for callers that add context. */
struct pci_topo_error {
	int func;			/* the function to blame, -1 = none */
	int bar;			/* 0..5 or PCI_ROM_BAR; -1 = not about a BAR (placement) */
	int res;			/* enum pci_res_kind of the full window, -1 = none */
};

struct pci_topology {
	struct pci_func *funcs;
	unsigned int nr_funcs;
	unsigned int cap_funcs;
	struct pci_bus_node *buses;
	unsigned int nr_buses;
	unsigned int cap_buses;
	struct pci_host_windows host;
	struct pci_topo_error error;	/* set when pci_topo_assign() fails */
};

/* Host bridge at 00:00.0 on the root bus (bus index 0). 0 or -ENOMEM. */
int pci_topo_init(struct pci_topology *t);
void pci_topo_free(struct pci_topology *t);

/* Adds a function on bus index 'bus'; returns its index or -ENOMEM. */
int pci_topo_add_func(struct pci_topology *t, const struct pci_func *req);
/*
 * Adds a bridge (root port or PCI-PCI bridge) and the bus it opens;
 * returns the function index or -ENOMEM. funcs[i].child_bus names the bus.
 */
int pci_topo_add_bridge(struct pci_topology *t, const struct pci_func *req);

/*
 * Places everything: device numbers (explicit ones first, then automatic in
 * order of addition), bus numbers (depth first), BARs (largest first,
 * naturally aligned; 64-bit prefetchable above 4 GiB, everything else in the
 * 32-bit window; I/O in the I/O window), bridge windows, INTx swizzle and GSIs
 * (gsi_of(root_slot, root_pin)). Deterministic. 0, or -EINVAL / -ENOSPC with
 * a message naming the function, the BAR, its size and the window.
 */
int pci_topo_assign(struct pci_topology *t,
		    unsigned int (*gsi_of)(unsigned int slot, unsigned int pin),
		    char *err, size_t errlen);

/*
 * After a successful pci_topo_assign(): every function index in tree order
 * (each bus in device.function order, a bridge followed by everything behind
 * it, as lspci -t draws it). 'order' holds nr_funcs entries. 0 or -ENOMEM.
 */
int pci_topo_tree_order(const struct pci_topology *t, unsigned int *order);

/* Where a BAR goes: PCI_RES_IO, PCI_RES_MEM or PCI_RES_PREF. */
enum pci_res_kind pci_bar_res(const struct pci_bar *bar);
/* A bridge's window of that kind. */
const struct pci_window *pci_func_window(const struct pci_func *f, enum pci_res_kind res);

/* "io", "mem32", "mem64", "unused" (short, stable: fit for JSON). */
const char *pci_bar_type_name(enum pci_bar_type type);
/* "I/O", "memory", "prefetchable": a bridge window's kind. */
const char *pci_res_name(enum pci_res_kind res);
/* "root port", "PCI bridge", "host bridge", "endpoint". */
const char *pci_func_kind_name(enum pci_func_kind kind);

#endif
