/*
 * A passed-through PCI function as the guest sees it: its config space
 * (emulated header and BARs, a filtered capability list, writes forwarded
 * where safe), MSI and MSI-X emulation that programs the device's
 * interrupts, and the trapped parts of its BARs. Knows nothing of KVM: the
 * host device sits behind struct vfio_dev_ops, the platform behind struct
 * vfio_pci_platform.
 */
#ifndef VMM_VFIO_PCI_DEV_H
#define VMM_VFIO_PCI_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/msi.h"
#include "pci/endpoint.h"
#include "pci/msix.h"
#include "pci/topology.h"

/* Region numbers as VFIO numbers them for PCI (VFIO_PCI_*_REGION_INDEX). */
#define VFIO_PCI_DEV_ROM_REGION		6
#define VFIO_PCI_DEV_CONFIG_REGION	7

/* Interrupt indexes as VFIO numbers them (VFIO_PCI_*_IRQ_INDEX). */
enum vfio_pci_irq {
	VFIO_PCI_DEV_IRQ_INTX = 0,
	VFIO_PCI_DEV_IRQ_MSI = 1,
	VFIO_PCI_DEV_IRQ_MSIX = 2,
};

/*
 * The host device: a real VFIO device fd (vfio/device.c) or a test's fake.
 * All return 0 or a negative errno.
 */
struct vfio_dev_ops {
	/* The device's own config space (the VFIO config region). */
	int (*cfg_read)(void *dev, unsigned int off, void *buf, unsigned int len);
	int (*cfg_write)(void *dev, unsigned int off, const void *buf, unsigned int len);
	/* Size of a region (BAR 0-5, ROM 6); 0 when absent. */
	uint64_t (*region_size)(void *dev, unsigned int region);
	int (*region_read)(void *dev, unsigned int region, uint64_t off, void *buf,
			   unsigned int len);
	int (*region_write)(void *dev, unsigned int region, uint64_t off, const void *buf,
			    unsigned int len);
	/*
	 * Trigger eventfds for count vectors of MSI or MSI-X (fds[i] -1: that
	 * vector stays silent); count 0 disables the index.
	 */
	int (*set_irqs)(void *dev, enum vfio_pci_irq index, unsigned int count, const int *fds);
	/* INTx: trigger eventfd and unmask (resample) eventfd; trigger -1 disables. */
	int (*set_intx)(void *dev, int trigger, int resample);
	/* VFIO_DEVICE_RESET. */
	int (*reset)(void *dev);
};

/* What the VMM provides. */
struct vfio_pci_platform {
	/*
	 * BAR (0-5, or PCI_ROM_BAR) now decodes at addr, or no longer does
	 * (on false): move the memslots and traps. Endpoint lock held.
	 */
	void (*bar_map)(void *opaque, unsigned int bar, uint64_t addr, bool on);
	/*
	 * INTx: the eventfd that asserts the function's GSI (an irqfd with
	 * resample) and the eventfd KVM signals on EOI. 0 or -errno. NULL: no INTx.
	 */
	int (*intx_fds)(void *opaque, int *trigger, int *resample);
	void *opaque;
	/* Vectors 0..n of MSI or MSI-X (one at a time): routing and their eventfds. */
	struct msi_port msi;
};

/* What a guest config write does to a byte of a kept capability or the header. */
enum vfio_cfg_policy {
	VFIO_CFG_EMUL = 0,		/* served from the emulated copy (hidden bytes read 0) */
	VFIO_CFG_PASS,			/* read from the device, writes forwarded */
	VFIO_CFG_RO,			/* read from the device, writes dropped */
};

#define VFIO_PCI_MSI_MAX	32

enum vfio_pci_irq_mode {
	VFIO_PCI_MODE_NONE,
	VFIO_PCI_MODE_INTX,
	VFIO_PCI_MODE_MSI,
	VFIO_PCI_MODE_MSIX,
};

struct vfio_pci_msi {
	unsigned int cap;		/* 0 = none */
	unsigned int max;		/* vectors the device can send */
	bool is_64, maskable;
	unsigned int data_off, mask_off, pending_off;	/* from cap */
	unsigned int nr;		/* enabled vectors, 0 = off */
	struct msi_msg sent[VFIO_PCI_MSI_MAX];	/* what the platform was last told */
	bool sent_masked[VFIO_PCI_MSI_MAX];
};

struct vfio_pci_dev {
	struct pci_endpoint ep;
	struct msix msix;
	bool has_msix;
	bool msix_on;			/* the guest's MSI-X enable, as last acted on */
	unsigned int msix_table_bar, msix_pba_bar;
	uint64_t msix_table_off, msix_pba_off;
	struct vfio_pci_msi msi;
	enum vfio_pci_irq_mode mode;
	int intx_trigger, intx_resample;	/* -1 = no INTx */

	const struct vfio_dev_ops *ops;
	void *dev;
	struct vfio_pci_platform plat;
	char name[64];			/* for messages */

	uint8_t policy[PCI_CFG_SPACE_SIZE];	/* enum vfio_cfg_policy per byte */
	uint16_t host_decode;		/* memory/IO decode kept on in the device */
	uint64_t region_size[PCI_NR_BARS];	/* host BAR sizes */

	uint8_t *rom;			/* the ROM image, rom_size bytes (the ROM BAR's size) */
	uint64_t rom_size;

	uint32_t init_bars[PCI_NR_BARS], init_rom;	/* as firmware left them, for reset */
	uint16_t init_cmd;
};

/*
 * Build the guest view of the device behind ops/dev, placed as f says (the
 * plan's function: ids, pin, BAR addresses; a ROM when f->rom is set, read
 * from rom_file, or from the device's ROM region when rom_file is NULL).
 * Reads the device's config space, checks its BARs against f, filters its
 * capabilities, and when f has a pin and the platform INTx, enables INTx.
 * 0, or -errno with the reason in err.
 */
int vfio_pci_dev_init(struct vfio_pci_dev *pd, const struct pci_func *f,
		      const struct vfio_dev_ops *ops, void *dev,
		      const struct vfio_pci_platform *plat, const char *rom_file,
		      char *err, size_t errlen);
/* Interrupts off on the device (nothing else touched on it); frees. */
void vfio_pci_dev_free(struct vfio_pci_dev *pd);

/*
 * Guest reset: interrupts off, VFIO_DEVICE_RESET, MSI/MSI-X to power-on
 * state, BARs and command register back where the plan put them (decode
 * callbacks made), INTx on again. 0 or the reset's -errno.
 */
int vfio_pci_dev_reset(struct vfio_pci_dev *pd);

/* The config accesses: pci_root_attach(r, i, &pci_endpoint_cfg_ops, &pd->ep). */
static inline uint32_t vfio_pci_cfg_read(struct vfio_pci_dev *pd, unsigned int reg,
					 unsigned int len)
{
	return pci_endpoint_read(&pd->ep, reg, len);
}

static inline void vfio_pci_cfg_write(struct vfio_pci_dev *pd, unsigned int reg,
				      unsigned int len, uint32_t value)
{
	pci_endpoint_write(&pd->ep, reg, len, value);
}

/*
 * Trapped accesses to BAR bar at offset off from its start: the MSI-X
 * table and PBA are served by the emulation, anything else in the trapped
 * pages (and I/O BARs) is forwarded to the device's region. len 1, 2, 4 or 8;
 * anything else, or outside the BAR, reads ones and writes nothing.
 */
uint64_t vfio_pci_bar_read(struct vfio_pci_dev *pd, unsigned int bar, uint64_t off,
			   unsigned int len);
void vfio_pci_bar_write(struct vfio_pci_dev *pd, unsigned int bar, uint64_t off,
			uint64_t value, unsigned int len);

/* The ROM image (for a read-only memslot or a trap); NULL when there is none. */
const uint8_t *vfio_pci_rom(const struct vfio_pci_dev *pd, uint64_t *size);

/* The byte policy at config offset reg (tests, debugging). */
enum vfio_cfg_policy vfio_pci_cfg_policy(const struct vfio_pci_dev *pd, unsigned int reg);

#endif
