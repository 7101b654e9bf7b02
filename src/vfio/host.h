/*
 * Host inventory: the facts about a host PCI function that a plan and a
 * passthrough readiness verdict need. Read from sysfs (live host, via
 * libudev + libpci) or from a fixture tree laid out like sysfs.
 */
#ifndef VMM_VFIO_HOST_H
#define VMM_VFIO_HOST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/bdf.h"

/* glibc's <limits.h> has a HOST_NAME_MAX (64) for gethostname(); ours is a name buffer. */
#undef HOST_NAME_MAX

#define HOST_NR_BARS		6
#define HOST_MAX_GROUP_PEERS	32
#define HOST_MAX_CAPS		48
#define HOST_NAME_MAX		128
#define HOST_DRIVER_MAX		64

enum host_bar_kind {
	HOST_BAR_NONE,			/* unimplemented, or upper half of a 64-bit BAR */
	HOST_BAR_IO,
	HOST_BAR_MEM32,
	HOST_BAR_MEM64,
};

/*
 * kind and prefetchable come from the BAR register in config space (from the
 * resource file's flags only when config space is too short to hold it);
 * addr and size from the resource file. size is 0 or a power of two.
 */
struct host_bar {
	enum host_bar_kind kind;
	bool prefetchable;
	uint64_t addr;			/* host physical address (from resource) */
	uint64_t size;
};

struct host_cap {
	uint16_t id;			/* PCI_CAP_ID_* or PCI_EXT_CAP_ID_* */
	uint16_t offset;
	bool extended;
};

struct host_msi {
	bool present;
	unsigned int vectors;		/* 1..32 */
	bool is_64bit;
	bool per_vector_mask;
	uint16_t offset;		/* capability offset */
};

/* present only when the table and PBA both lie inside memory BARs (BIR < 6) */
struct host_msix {
	bool present;
	unsigned int table_size;	/* vectors, 1..2048 */
	unsigned int table_bar;		/* BIR */
	uint32_t table_offset;
	unsigned int pba_bar;
	uint32_t pba_offset;
	uint16_t offset;		/* capability offset */
};

struct host_pcie {
	bool present;
	unsigned int port_type;		/* PCI_EXP_TYPE_* */
	unsigned int link_speed;	/* current, GT/s code 1..6, 0 = none */
	unsigned int link_width;	/* current lanes, 0 = none */
	uint16_t offset;
};

struct host_group_peer {
	struct pci_bdf bdf;
	char driver[HOST_DRIVER_MAX];	/* "" when unbound */
	bool is_bridge;			/* PCI bridges may stay on pcieport etc. */
};

struct host_device {
	struct pci_bdf bdf;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code;		/* 24 bits: base, sub, prog-if */
	uint8_t revision;
	uint8_t header_type;		/* without the multifunction bit */
	uint8_t intx_pin;		/* 0 = none, 1..4 = INTA..INTD */
	char vendor_name[HOST_NAME_MAX];	/* from the PCI ID database */
	char device_name[HOST_NAME_MAX];
	char class_name[HOST_NAME_MAX];

	struct host_bar bars[HOST_NR_BARS];
	uint64_t rom_size;		/* 0 = no ROM */

	struct host_cap caps[HOST_MAX_CAPS];
	unsigned int nr_caps;
	struct host_msi msi;
	struct host_msix msix;
	struct host_pcie pcie;

	int iommu_group;		/* -1 = none (no IOMMU) */
	/* others in the group, by BDF; past HOST_MAX_GROUP_PEERS, blocking ones are kept */
	struct host_group_peer peers[HOST_MAX_GROUP_PEERS];
	unsigned int nr_peers;
	char driver[HOST_DRIVER_MAX];	/* "" when unbound */
	int numa_node;			/* -1 = none */
	char reset_method[HOST_NAME_MAX];	/* "" when none */
	bool vfio_dev_exists;		/* /dev/vfio/<group> */
	bool config_complete;		/* the whole config space (256 or 4096 bytes) was readable */
	uint8_t config[4096];		/* the config space as read */
	unsigned int config_len;	/* bytes of config[] read (64 for non-root on a live host) */
	unsigned int nr_peers_total;	/* other group members, also past HOST_MAX_GROUP_PEERS */
};

/* Where facts come from: the live host, or a fixture tree like sysfs. */
struct host_inventory;

/*
 * sysfs_root NULL means the live host (/sys, read with libudev and libpci);
 * otherwise DIR holds bus/pci/devices/ and kernel/iommu_groups/ as sysfs does,
 * and dev_root (may be NULL) stands in for /dev when checking /dev/vfio/N.
 * NULL with errno ENOENT when DIR has no bus/pci/devices/, or ENOMEM.
 */
struct host_inventory *host_inventory_open(const char *sysfs_root,
					   const char *dev_root);
void host_inventory_close(struct host_inventory *inv);

/* Fill *dev for bdf. 0, -ENOENT when there is no such device, other -errno. */
int host_device_read(struct host_inventory *inv, const struct pci_bdf *bdf,
		     struct host_device *dev);

/* Every PCI function present, sorted by BDF; returns a count or -errno. free(*out). */
int host_device_list(struct host_inventory *inv, struct pci_bdf **out);

/* Readiness for passthrough: one entry per blocking problem, each with its fix. */
enum host_problem_kind {
	HOST_PROBLEM_NOT_VFIO,		/* bound to another driver, or unbound */
	HOST_PROBLEM_NO_IOMMU,		/* no IOMMU group */
	HOST_PROBLEM_GROUP_NOT_VIABLE,	/* another member bound to a host driver */
	HOST_PROBLEM_NO_RESET,		/* no reset method */
	HOST_PROBLEM_MSIX_UNALIGNED,	/* MSI-X table or PBA shares a page with registers it can't trap */
	HOST_PROBLEM_NO_VFIO_NODE,	/* /dev/vfio/N missing */
	HOST_PROBLEM_BAR_TOO_LARGE,	/* set by the planner, not by host_check */
};

struct host_problem {
	enum host_problem_kind kind;
	bool blocking;			/* false: a warning; the device can still be passed through */
	char what[256];			/* the problem */
	char fix[512];			/* what to do about it */
};

#define HOST_MAX_PROBLEMS	8

/*
 * Fills problems[] (up to HOST_MAX_PROBLEMS); returns how many, warnings
 * included. Blocking: NOT_VFIO, NO_IOMMU, GROUP_NOT_VIABLE, NO_VFIO_NODE.
 * Warnings (blocking = false): NO_RESET, MSIX_UNALIGNED. Ready means
 * host_problems_blocking() == 0.
 */
unsigned int host_device_check(const struct host_device *dev,
			       struct host_problem *problems);
/* How many of problems[0..n) are blocking. */
unsigned int host_problems_blocking(const struct host_problem *problems,
				    unsigned int n);

/* vfio-pci or one of its variant drivers (a name ending in "vfio-pci" / "vfio_pci"). */
bool host_driver_is_vfio(const char *driver);
/*
 * A group member that keeps the group from being given to VFIO: bound to a
 * driver other than vfio-pci (or a variant), pci-stub or pcieport.
 */
bool host_peer_blocks_group(const struct host_group_peer *peer);
/* "MSI-X", "SR-IOV", ...; NULL for an ID this code does not name. */
const char *host_cap_name(uint16_t id, bool extended);

#endif
